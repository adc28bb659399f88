"""The ready-made scenarios, and cluster-wide properties of the dynamics they drive."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kubesim
from kubesim import scenarios as sc


def test_load_test_shape() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=10)
    names = sc.load_test(cluster, big=0, medium=1, small=3)
    cluster.run()
    assert names == ["medium-0", "small-0", "small-1", "small-2"]
    for name, size in (("medium-0", 30), ("small-0", 5)):
        ep = cluster.get("Endpoints", name)
        assert sum(len(s.addresses) for s in ep.subsets) == size
    with pytest.raises(kubesim.InvalidOption):
        sc.load_test(cluster, big=-1)


def test_huge_service_rolls_out_with_slices_of_100() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=20)
    sc.huge_service(cluster, pods=250)
    cluster.run()
    pods = cluster.list("pods", selector="app=huge-service")
    assert len(pods) == 250 and {p.spec.containers[0].image for p in pods} == {"nginx:1.26"}
    lengths = sorted(len(s.endpoints) for s in cluster.list("endpointslices"))
    assert sum(lengths) == 250 and max(lengths) <= 100


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), replicas=st.integers(1, 40), nodes=st.integers(1, 4))
def test_pod_ips_are_unique_and_inside_their_node_cidr(seed: int, replicas: int, nodes: int) -> None:
    cluster = kubesim.Cluster(seed=seed, nodes=nodes)
    sc.deploy(cluster, "web", replicas=replicas)
    cluster.run()
    sc.set_image(cluster, "web", "nginx:1.26")  # churn: freed IPs are reused later, never doubled
    cluster.run()
    sc.scale(cluster, "web", replicas + 3)
    cluster.run()
    pods = [p for p in cluster.list("pods") if p.status.pod_ip]
    ips = [p.status.pod_ip for p in pods]
    assert len(ips) == len(set(ips))
    for p in pods:
        node = cluster.get("Node", p.spec.node_name, "")
        assert ipaddress.ip_address(p.status.pod_ip) in ipaddress.ip_network(node.spec.pod_cidr)
    svc_ips = [s.spec.cluster_ip for s in cluster.list("services", None)]
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12") for ip in svc_ips)


# --------------------------------------------------------------------------------------------
# events=False in the measured scenarios (kubesim churn / scenario, the sweep, reproduce)

#: the smallest arguments each measured scenario runs with
_SMALL_RUNS: dict[str, dict[str, object]] = {
    "rollout": {"pods": 8, "nodes": 3},
    "scale": {"pods": 4, "nodes": 2, "replicas": 7},
    "fail-readiness": {"pods": 4, "nodes": 2, "duration": 30.0},
    "flap": {"pods": 4, "nodes": 2, "count": 2, "duration": 120.0},
    "fail-node": {"pods": 4, "nodes": 2, "recover_after": 400.0},
    "drain": {"pods": 4, "nodes": 2},
}


def _event_writes(cluster: kubesim.Cluster) -> int:
    return sum(1 for e in cluster.changes if e.kind == "Event")


def _digits(rv: int) -> int:
    return len(str(rv))


@pytest.mark.parametrize("name", sorted(sc.MEASURED))
def test_every_measured_scenario_forwards_events(name: str) -> None:
    """``events=False`` reaches the cluster each runner builds: no Event is written, where the
    same run with the default writes some; the Endpoints and EndpointSlice writes are the same."""
    fn = sc.MEASURED[name]
    on, report_on = fn(**_SMALL_RUNS[name])
    off, report_off = fn(events=False, **_SMALL_RUNS[name])
    assert on.recorder.enabled and not off.recorder.enabled
    assert _event_writes(on) > 0
    assert _event_writes(off) == 0
    for kind in ("Endpoints", "EndpointSlice"):
        assert report_off.kind(kind).writes == report_on.kind(kind).writes, kind


@pytest.mark.parametrize("name", ["rollout", "fail-node"])
def test_without_events_the_endpoint_figures_differ_only_by_resource_version_digits(name: str) -> None:
    """``--no-events``'s help claims the Endpoints/EndpointSlice figures are unchanged but for
    resourceVersion digits: the same writes (verb, object, time, writer) in the same order, each
    smaller by exactly the digits its resourceVersion lost (JSON and protobuf), so the report's
    write and watch counts are equal and its byte columns differ by those digits alone."""
    on, report_on = sc.MEASURED[name](**_SMALL_RUNS[name])
    off, report_off = sc.MEASURED[name](events=False, **_SMALL_RUNS[name])
    nodes = int(_SMALL_RUNS[name]["nodes"])  # type: ignore[call-overload]
    since = report_on.since
    assert since is not None and since == report_off.since
    for kind in ("Endpoints", "EndpointSlice"):
        a = [e for e in on.changes if e.kind == kind and e.outcome == "ok"]
        b = [e for e in off.changes if e.kind == kind and e.outcome == "ok"]
        assert [(e.verb, e.namespace, e.name, e.time, e.actor) for e in a] == [
            (e.verb, e.namespace, e.name, e.time, e.actor) for e in b
        ], kind
        lost = 0
        for x, y in zip(a, b, strict=True):
            d = _digits(x.resource_version) - _digits(y.resource_version)
            assert d >= 0
            assert (x.json_bytes - y.json_bytes, x.proto_bytes - y.proto_bytes) == (d, d), (kind, x.seq)
            if x.time >= since:
                lost += d
        k_on, k_off = report_on.kind(kind), report_off.kind(kind)
        for column in ("creates", "updates", "deletes", "writes", "watch_events", "failed_attempts"):
            assert getattr(k_on, column) == getattr(k_off, column), (kind, column)
        assert k_on.watch_events == nodes * k_on.writes  # kube-proxy on every node
        assert k_on.bytes_written - k_off.bytes_written == lost
        assert k_on.bytes_delivered - k_off.bytes_delivered == lost * nodes
        assert 0 <= k_on.max_object_bytes - k_off.max_object_bytes <= 2


def test_measured_scenarios_refuse_a_non_bool_events() -> None:
    for bad in ("false", 0, None):
        with pytest.raises(kubesim.InvalidOption, match="events must be True or False"):
            sc.rolling_update_churn(pods=1, nodes=1, events=bad)  # type: ignore[arg-type]


def test_reproduce_measure_without_events_counts_the_same_writes() -> None:
    from kubesim import reproduce

    on = reproduce.measure(pods=6, nodes=3, seed=0)
    off = reproduce.measure(pods=6, nodes=3, seed=0, events=False)
    assert on.keys() == off.keys()
    for key in on:
        assert on[key]["writes"] == off[key]["writes"], key
        assert on[key]["watch_events"] == off[key]["watch_events"], key
        assert 0 <= on[key]["bytes_transmitted"] - off[key]["bytes_transmitted"] <= 2 * on[key]["watch_events"], key
    assert any(on[k]["bytes_transmitted"] != off[k]["bytes_transmitted"] for k in on)  # Events were written
    with pytest.raises(kubesim.InvalidOption, match="events must be True or False"):
        reproduce.main("kep752", events="no")  # type: ignore[arg-type]
