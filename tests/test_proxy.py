"""Tests of the kube-proxy model (:mod:`kubesim.proxy`).

Two layers, as upstream tests them:

* the pure functions against hand-built slices and endpoints — the cases of
  ``pkg/proxy/endpointslicecache_test.go`` (merge, dedup, conditions, canonical IPs) and
  ``pkg/proxy/topology_test.go`` (``CategorizeEndpoints``: hints, Local policy, terminating
  fallback), plus a Hypothesis property check of the merge against a naive model;
* :func:`kubesim.proxy.connect` through a cluster that runs only the endpoint controllers, with
  Pods written directly (IP, node, Ready condition), so the slices are the controller's.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim.cluster import Cluster
from kubesim.errors import InvalidOption, KubesimError, NoEndpoints, NotFound
from kubesim.objects import (
    Container,
    Endpoint,
    EndpointConditions,
    EndpointHints,
    EndpointSlice,
    EndpointSlicePort,
    ForNode,
    ForZone,
    ObjectMeta,
    ObjectReference,
    Pod,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    Service,
    ServicePort,
    ServiceSpec,
)
from kubesim.proxy import (
    Backend,
    EndpointInfo,
    ServicePortName,
    categorize_endpoints,
    connect,
    merge_slices,
)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
CONTROLLERS = ["endpointslice", "endpoint", "garbagecollector"]
ZONES = {"node-1": "zone-a", "node-2": "zone-b", "node-3": "zone-c"}

# ------------------------------------------------------------------------------------ fixtures


def svc(name: str = "svc1", ns: str = "ns1", **spec: Any) -> Service:
    return Service(metadata=ObjectMeta(name=name, namespace=ns), spec=ServiceSpec(**spec))


def slice_(
    name: str,
    endpoints: Iterable[Endpoint],
    *,
    ports: Iterable[EndpointSlicePort] = (EndpointSlicePort(name="http", protocol="TCP", port=80),),
    service: str = "svc1",
    ns: str = "ns1",
    address_type: str = "IPv4",
    labels: dict[str, str] | None = None,
) -> EndpointSlice:
    lab = {SERVICE_NAME_LABEL: service} if labels is None else labels
    return EndpointSlice(
        metadata=ObjectMeta(name=name, namespace=ns, labels=lab),
        address_type=address_type,
        endpoints=tuple(endpoints),
        ports=tuple(ports),
    )


def ep(
    ip: str,
    *,
    ready: bool | None = True,
    serving: bool | None = True,
    terminating: bool | None = False,
    node: str | None = None,
    zones: Iterable[str] = (),
    nodes: Iterable[str] = (),
    pod: str | None = None,
) -> Endpoint:
    zones, nodes = tuple(zones), tuple(nodes)
    hints = EndpointHints(tuple(ForZone(z) for z in zones), tuple(ForNode(n) for n in nodes)) if zones or nodes else None
    return Endpoint(
        addresses=(ip,),
        conditions=EndpointConditions(ready=ready, serving=serving, terminating=terminating),
        node_name=node,
        hints=hints,
        target_ref=ObjectReference(kind="Pod", namespace="ns1", name=pod) if pod else None,
    )


HTTP = ServicePortName("ns1", "svc1", "http", "TCP")


def info(ip: str, port: int = 80, **kw: Any) -> EndpointInfo:
    return EndpointInfo(ip=ip, port=port, **kw)


def names(eps: Iterable[EndpointInfo]) -> list[str]:
    return [e.endpoint for e in eps]


# ------------------------------------------------------------------------------------ merge_slices


def test_merge_one_slice_two_ports_sorted_by_endpoint_string() -> None:
    # endpointslicecache_test.go "1 slice, 2 hosts, ports 80,443": one list per port, each sorted
    # by the "ip:port" *string* (so 10.0.1.10 sorts before 10.0.1.2).
    s = slice_(
        "s1",
        [ep("10.0.1.2"), ep("10.0.1.10"), ep("10.0.1.1")],
        ports=[EndpointSlicePort(name="http", protocol="TCP", port=80), EndpointSlicePort(name="https", protocol="TCP", port=443)],
    )
    got = merge_slices(svc(), [s])
    assert list(got) == [HTTP, ServicePortName("ns1", "svc1", "https", "TCP")]
    assert names(got[HTTP]) == ["10.0.1.10:80", "10.0.1.1:80", "10.0.1.2:80"]
    assert names(got[ServicePortName("ns1", "svc1", "https", "TCP")]) == ["10.0.1.10:443", "10.0.1.1:443", "10.0.1.2:443"]


def test_merge_nil_conditions_default_ready_serving_not_terminating() -> None:
    s = slice_("s1", [ep("10.0.1.1", ready=None, serving=None, terminating=None)])
    (e,) = merge_slices(svc(), [s])[HTTP]
    assert (e.ready, e.serving, e.terminating) == (True, True, False)


def test_merge_conditions_copied() -> None:
    s = slice_("s1", [ep("10.0.1.1", ready=False, serving=True, terminating=True)])
    (e,) = merge_slices(svc(), [s])[HTTP]
    assert (e.ready, e.serving, e.terminating) == (False, True, True)


def test_merge_uses_only_first_address_canonicalised() -> None:
    e1 = attrs.evolve(ep("x"), addresses=("010.000.001.001", "10.0.1.99"))
    e2 = attrs.evolve(ep("x"), addresses=("fd00:0:0:0:0:0:0:1",))
    got = merge_slices(svc(), [slice_("s1", [e1]), slice_("s2", [e2], address_type="IPv6")])
    assert names(got[HTTP]) == ["10.0.1.1:80", "[fd00::1]:80"]


def test_merge_is_local_by_node_name() -> None:
    s = slice_("s1", [ep("10.0.1.1", node="host1"), ep("10.0.1.2", node="host2"), ep("10.0.1.3")])
    got = merge_slices(svc(), [s], node_name="host1")[HTTP]
    assert [e.is_local for e in got] == [True, False, False]
    assert not any(e.is_local for e in merge_slices(svc(), [s])[HTTP])


def test_merge_hints_copied() -> None:
    s = slice_("s1", [ep("10.0.1.1", zones=["zone-a", "zone-b"], nodes=["n1"])])
    (e,) = merge_slices(svc(), [s])[HTTP]
    assert e.zone_hints == {"zone-a", "zone-b"} and e.node_hints == {"n1"}


def test_merge_skips_invalid_ports_and_empty_endpoints() -> None:
    ports = [
        EndpointSlicePort(name=None, protocol="TCP", port=81),  # nil name
        EndpointSlicePort(name="zero", protocol="TCP", port=0),
        EndpointSlicePort(name="nil", protocol="TCP", port=None),
        EndpointSlicePort(name="http", protocol="TCP", port=80),
    ]
    s = slice_("s1", [ep("10.0.1.1"), Endpoint(addresses=())], ports=ports)
    got = merge_slices(svc(), [s])
    assert list(got) == [HTTP] and names(got[HTTP]) == ["10.0.1.1:80"]


def test_merge_omits_ports_without_endpoints_and_placeholder_slices() -> None:
    assert merge_slices(svc(), [slice_("s1", [])]) == {}
    assert merge_slices(svc(), [slice_("s1", [], ports=())]) == {}


def test_merge_skips_fqdn_unlabelled_and_foreign_slices() -> None:
    good = slice_("s1", [ep("10.0.1.1")])
    fqdn = attrs.evolve(slice_("s2", [ep("10.0.1.2")]), address_type="FQDN")
    unlabelled = slice_("s3", [ep("10.0.1.3")], labels={})
    empty_label = slice_("s4", [ep("10.0.1.4")], labels={SERVICE_NAME_LABEL: ""})
    other_svc = slice_("s5", [ep("10.0.1.5")], service="svc2")
    other_ns = slice_("s6", [ep("10.0.1.6")], ns="ns2")
    got = merge_slices(svc(), [good, fqdn, unlabelled, empty_label, other_svc, other_ns])
    assert names(got[HTTP]) == ["10.0.1.1:80"]


def test_merge_ip_family_filter() -> None:
    v4 = slice_("s1", [ep("10.0.1.1")])
    v6 = slice_("s2", [ep("fd00::1")], address_type="IPv6")
    assert names(merge_slices(svc(), [v4, v6], ip_family="IPv4")[HTTP]) == ["10.0.1.1:80"]
    assert names(merge_slices(svc(), [v4, v6], ip_family="IPv6")[HTTP]) == ["[fd00::1]:80"]


def test_merge_dedup_across_slices() -> None:
    # endpointslicecache_test.go "2 slices, same port, overlapping endpoints": one entry per ip:port.
    s1 = slice_("s1", [ep("10.0.1.1"), ep("10.0.1.2")])
    s2 = slice_("s2", [ep("10.0.1.2"), ep("10.0.1.3")])
    assert names(merge_slices(svc(), [s1, s2])[HTTP]) == ["10.0.1.1:80", "10.0.1.2:80", "10.0.1.3:80"]


@pytest.mark.parametrize("order", [0, 1])
def test_merge_dedup_non_terminating_wins(order: int) -> None:
    # A pod IP reused by a new pod while the old one terminates: the running pod wins, whichever
    # slice comes first (the terminating entry never replaces an existing one).
    old = slice_("a", [ep("10.0.1.1", ready=False, serving=True, terminating=True, pod="old")])
    new = slice_("b", [ep("10.0.1.1", pod="new")])
    slices = [old, new] if order == 0 else [new, old]
    if order == 1:  # also with the names swapped, so the terminating slice is iterated last
        slices = [attrs.evolve(new, metadata=attrs.evolve(new.metadata, name="a")),
                  attrs.evolve(old, metadata=attrs.evolve(old.metadata, name="b"))]
    (e,) = merge_slices(svc(), slices)[HTTP]
    assert e.pod == "new" and e.ready and not e.terminating


def test_merge_same_ip_different_ports_are_distinct() -> None:
    s1 = slice_("s1", [ep("10.0.1.1")], ports=[EndpointSlicePort(name="http", protocol="TCP", port=80)])
    s2 = slice_("s2", [ep("10.0.1.1")], ports=[EndpointSlicePort(name="http", protocol="TCP", port=8080)])
    assert names(merge_slices(svc(), [s1, s2])[HTTP]) == ["10.0.1.1:80", "10.0.1.1:8080"]


def test_merge_protocol_is_part_of_the_key() -> None:
    s = slice_("s1", [ep("10.0.1.1")], ports=[EndpointSlicePort(name="dns", protocol="UDP", port=53),
                                              EndpointSlicePort(name="dns-tcp", protocol="TCP", port=53)])
    got = merge_slices(svc(), [s])
    assert sorted(got) == [ServicePortName("ns1", "svc1", "dns", "UDP"), ServicePortName("ns1", "svc1", "dns-tcp", "TCP")]


def test_service_port_name_str() -> None:
    assert str(HTTP) == "ns1/svc1:http"
    assert str(ServicePortName("ns1", "svc1", "", "TCP")) == "ns1/svc1"


_IPS = [f"10.0.0.{i}" for i in range(1, 6)]


@st.composite
def _slices(draw: st.DrawFn) -> list[EndpointSlice]:
    n = draw(st.integers(1, 4))
    out = []
    for i in range(n):
        eps = draw(
            st.lists(
                st.builds(
                    lambda ip, t, r: ep(ip, ready=r and not t, serving=r, terminating=t, pod=f"{ip}-{t}"),
                    st.sampled_from(_IPS),
                    st.booleans(),
                    st.booleans(),
                ),
                max_size=6,
            )
        )
        out.append(slice_(f"s{i}", eps))
    return out


@given(_slices())
def test_merge_property_matches_naive_model(slices: list[EndpointSlice]) -> None:
    got = merge_slices(svc(), slices).get(HTTP, [])
    # Naive model: the set of IPs present; an IP is terminating only if every copy is.
    copies: dict[str, list[bool]] = {}
    for s in slices:
        for e in s.endpoints:
            copies.setdefault(e.addresses[0], []).append(bool(e.conditions.terminating))
    assert names(got) == sorted(f"{ip}:80" for ip in copies)
    for info_ in got:
        assert info_.terminating == all(copies[info_.ip])


# ------------------------------------------------------------------------------------ categorize_endpoints


def cat(eps: list[EndpointInfo], *, local: bool = False, node: str = "node-1", zone: str = "zone-a",
        same_node: bool = False) -> tuple[list[str], list[str], list[str], bool]:
    c, l_, a, has = categorize_endpoints(eps, traffic_policy_local=local, node_name=node, node_zone=zone,
                                         prefer_same_node_enabled=same_node)
    return names(c), names(l_), sorted(names(a)), has


ZONED = [
    info("10.1.2.3", zone_hints=frozenset({"zone-a"})),
    info("10.1.2.4", zone_hints=frozenset({"zone-b"})),
    info("10.1.2.5", zone_hints=frozenset({"zone-c"})),
    info("10.1.2.6", zone_hints=frozenset({"zone-a"})),
]


def test_categorize_empty() -> None:
    assert cat([]) == ([], [], [], False)


def test_categorize_zone_hints_narrow_to_own_zone() -> None:
    # topology_test.go "hints enabled, hints annotation == auto".
    assert cat(ZONED)[0] == ["10.1.2.3:80", "10.1.2.6:80"]


def test_categorize_zone_hints_ignored_when_one_ready_endpoint_lacks_them() -> None:
    eps = [*ZONED[:3], info("10.1.2.6")]
    assert cat(eps)[0] == names(eps)


def test_categorize_zone_hints_ignored_when_none_for_this_zone() -> None:
    eps = [info("10.1.2.3", zone_hints=frozenset({"zone-b"})), info("10.1.2.4", zone_hints=frozenset({"zone-c"}))]
    assert cat(eps, zone="zone-a")[0] == names(eps)
    assert cat(eps, zone="")[0] == names(eps)  # node without a zone label


def test_categorize_hints_of_unready_endpoints_do_not_count() -> None:
    # the not-ready endpoint lacks hints, yet the mode is decided over ready endpoints only
    eps = [ZONED[0], ZONED[1], info("10.1.2.9", ready=False)]
    assert cat(eps)[0] == ["10.1.2.3:80"]


def test_categorize_prefer_same_node_needs_gate() -> None:
    eps = [
        info("10.1.2.3", zone_hints=frozenset({"zone-a"}), node_hints=frozenset({"node-1"})),
        info("10.1.2.4", zone_hints=frozenset({"zone-a"}), node_hints=frozenset({"node-2"})),
        info("10.1.2.5", zone_hints=frozenset({"zone-b"}), node_hints=frozenset({"node-3"})),
    ]
    assert cat(eps, same_node=True)[0] == ["10.1.2.3:80"]
    assert cat(eps, same_node=False)[0] == ["10.1.2.3:80", "10.1.2.4:80"]  # falls to zone hints
    # node hints for another node only: zone hints apply
    assert cat(eps, node="node-9", same_node=True)[0] == ["10.1.2.3:80", "10.1.2.4:80"]


def test_categorize_only_ready_endpoints_used() -> None:
    eps = [info("10.0.0.1"), info("10.0.0.2", ready=False, serving=False), info("10.0.0.3", ready=False, serving=True, terminating=True)]
    assert cat(eps) == (["10.0.0.1:80"], [], ["10.0.0.1:80"], True)


def test_categorize_terminating_fallback_serving() -> None:
    eps = [info("10.0.0.1", ready=False, serving=True, terminating=True, zone_hints=frozenset({"zone-b"})),
           info("10.0.0.2", ready=False, serving=True, terminating=True),
           info("10.0.0.3", ready=False, serving=False, terminating=True)]
    # topology is ignored by the fallback
    assert cat(eps) == (["10.0.0.1:80", "10.0.0.2:80"], [], ["10.0.0.1:80", "10.0.0.2:80"], True)


def test_categorize_terminating_not_serving_is_nothing() -> None:
    eps = [info("10.0.0.1", ready=False, serving=False, terminating=True)]
    assert cat(eps) == ([], [], [], False)
    assert cat(eps, local=True) == ([], [], [], False)


def test_categorize_local_ready() -> None:
    eps = [info("10.0.0.1", is_local=True), info("10.0.0.2"), info("10.0.0.3", is_local=True, ready=False, serving=True, terminating=True)]
    assert cat(eps, local=True) == ([], ["10.0.0.1:80"], ["10.0.0.1:80"], True)


def test_categorize_local_none_here_but_some_elsewhere() -> None:
    eps = [info("10.0.0.1"), info("10.0.0.2")]
    assert cat(eps, local=True) == ([], [], [], True)


def test_categorize_local_terminating_fallback() -> None:
    eps = [info("10.0.0.1", is_local=True, ready=False, serving=True, terminating=True), info("10.0.0.2")]
    assert cat(eps, local=True) == ([], ["10.0.0.1:80"], ["10.0.0.1:80"], True)


def test_categorize_local_ignores_topology() -> None:
    eps = [info("10.0.0.1", is_local=True, zone_hints=frozenset({"zone-b"})), info("10.0.0.2", zone_hints=frozenset({"zone-a"}))]
    assert cat(eps, local=True)[1] == ["10.0.0.1:80"]


# ------------------------------------------------------------------------------------ connect: cluster fixtures


def cluster(**kw: Any) -> Cluster:
    kw.setdefault("controllers", CONTROLLERS)
    return Cluster(seed=0, nodes=3, **kw)


def make_pod(i: int, node: str, *, ready: bool = True, ips: Iterable[str] | None = None, app: str = "web",
             hostname: str = "") -> Pod:
    ip_list = tuple(ips) if ips is not None else (f"10.244.{node[-1]}.{i + 10}",)
    return Pod(
        metadata=ObjectMeta(name=f"pod{i}", namespace="default", labels={"app": app}),
        spec=PodSpec(containers=(Container(name="c", image="nginx"),), node_name=node, hostname=hostname),
        status=PodStatus(
            phase="Running",
            conditions=(PodCondition("Ready", "True" if ready else "False"),),
            pod_ip=ip_list[0],
            pod_ips=tuple(PodIP(x) for x in ip_list),
        ),
    )


def make_service(name: str = "web", *, app: str = "web", port: int = 80, target: int = 8080, **spec: Any) -> Service:
    spec.setdefault("selector", {"app": app})
    spec.setdefault("ports", (ServicePort(port=port, name="http", target_port=target),))
    return Service(metadata=ObjectMeta(name=name, namespace="default"), spec=ServiceSpec(**spec))


def pod_ip(cl: Cluster, name: str) -> str:
    return str(cl.get("Pod", name).status.pod_ip)


def connect_many(cl: Cluster, n: int, seed: int = 7, **kw: Any) -> Counter[str]:
    rng = random.Random(seed)
    return Counter(str(connect(cl.api, rng, kw.pop("service", "web"), kw.pop("port", 80), **kw)) for _ in range(n))


# ------------------------------------------------------------------------------------ connect


def test_distribution_reaches_every_ready_backend_uniformly() -> None:
    cl = cluster()
    ready = [make_pod(i, f"node-{i % 3 + 1}") for i in range(5)]
    unready = [make_pod(i, "node-1", ready=False) for i in range(5, 7)]
    for p in ready + unready:
        cl.create(p)
    cl.create(make_service())
    cl.run()
    n = 5000
    counts = connect_many(cl, n)
    want = {f"{p.status.pod_ip}:8080" for p in ready}
    assert set(counts) == want  # every ready backend, and no not-ready one
    expected = n / len(want)
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 18.47  # chi-square, 4 degrees of freedom, p = 0.001 (fixed seed: cannot flake)


def test_connect_is_deterministic_for_a_seed() -> None:
    cl = cluster()
    for i in range(4):
        cl.create(make_pod(i, "node-1"))
    cl.create(make_service())
    cl.run()
    assert connect_many(cl, 50, seed=3) == connect_many(cl, 50, seed=3)


def test_backend_fields() -> None:
    cl = cluster()
    cl.create(make_pod(0, "node-2"))
    cl.create(make_service())
    cl.run()
    b = connect(cl.api, random.Random(0), "web", 80)
    assert b == Backend(ip=pod_ip(cl, "pod0"), port=8080, pod="pod0", node="node-2")
    assert str(b) == f"{pod_ip(cl, 'pod0')}:8080"


def test_connect_by_port_name_and_number() -> None:
    cl = cluster()
    cl.create(make_pod(0, "node-1"))
    cl.create(make_service(ports=(ServicePort(port=80, name="http", target_port=8080),
                                  ServicePort(port=443, name="https", target_port=8443))))
    cl.run()
    rng = random.Random(0)
    assert connect(cl.api, rng, "web", "https").port == 8443
    assert connect(cl.api, rng, "web", 443).port == 8443
    assert connect(cl.api, rng, "web", 80).port == 8080
    with pytest.raises(InvalidOption, match="no port named 'metrics'"):
        connect(cl.api, rng, "web", "metrics")
    with pytest.raises(NoEndpoints, match=r"dial tcp \S+:81: i/o timeout"):
        connect(cl.api, rng, "web", 81)


def test_connect_no_endpoints_is_connection_refused() -> None:
    cl = cluster()
    cl.create(make_service())
    cl.run()
    ip = cl.get("Service", "web").spec.cluster_ip
    with pytest.raises(NoEndpoints) as exc:
        connect(cl.api, random.Random(0), "web", 80)
    assert str(exc.value) == f"dial tcp {ip}:80: connect: connection refused"


def test_connect_only_unready_is_connection_refused() -> None:
    cl = cluster()
    cl.create(make_pod(0, "node-1", ready=False))
    cl.create(make_service())
    cl.run()
    with pytest.raises(NoEndpoints, match="connection refused"):
        connect(cl.api, random.Random(0), "web", 80)


def test_connect_unknown_service_not_found() -> None:
    cl = cluster()
    with pytest.raises(NotFound, match='services "nope" not found'):
        connect(cl.api, random.Random(0), "nope", 80)


def test_connect_unknown_node_not_found() -> None:
    cl = cluster()
    cl.create(make_pod(0, "node-1"))
    cl.create(make_service())
    cl.run()
    with pytest.raises(NotFound, match='nodes "node-9" not found'):
        connect(cl.api, random.Random(0), "web", 80, from_node="node-9")


def test_terminating_fallback_serving_endpoints_used() -> None:
    cl = cluster()
    for i in range(3):
        cl.create(make_pod(i, f"node-{i + 1}"))
    cl.create(make_service())
    cl.run()
    for i in range(3):
        cl.delete("Pod", f"pod{i}")  # graceful: terminating, still Ready (serving); no kubelet removes them
    cl.run()
    conds = {e.conditions for s in cl.list("EndpointSlice") for e in s.endpoints}
    assert conds == {EndpointConditions(ready=False, serving=True, terminating=True)}
    counts = connect_many(cl, 300)
    assert set(counts) == {f"{pod_ip(cl, f'pod{i}')}:8080" for i in range(3)}


def test_terminating_not_serving_is_connection_refused() -> None:
    cl = cluster()
    cl.create(make_pod(0, "node-1"))
    cl.create(make_service())
    cl.run()
    p = cl.get("Pod", "pod0")
    cl.update(attrs.evolve(p, status=attrs.evolve(p.status, conditions=(PodCondition("Ready", "False"),))))
    cl.delete("Pod", "pod0")
    cl.run()
    (e,) = [e for s in cl.list("EndpointSlice") for e in s.endpoints]
    assert e.conditions == EndpointConditions(ready=False, serving=False, terminating=True)
    with pytest.raises(NoEndpoints, match="connection refused"):
        connect(cl.api, random.Random(0), "web", 80)


def test_ready_endpoints_preferred_over_terminating() -> None:
    cl = cluster()
    for i in range(3):
        cl.create(make_pod(i, "node-1"))
    cl.create(make_service())
    cl.run()
    cl.delete("Pod", "pod0")
    cl.run()
    counts = connect_many(cl, 300)
    assert set(counts) == {f"{pod_ip(cl, 'pod1')}:8080", f"{pod_ip(cl, 'pod2')}:8080"}


def local_cluster(**spec: Any) -> Cluster:
    cl = cluster()
    cl.create(make_pod(0, "node-1"))
    cl.create(make_pod(1, "node-1"))
    cl.create(make_pod(2, "node-2"))
    cl.create(make_service(**spec))
    cl.run()
    return cl


def test_internal_traffic_policy_local() -> None:
    cl = local_cluster(internal_traffic_policy="Local")
    on1 = connect_many(cl, 300, from_node="node-1")
    assert set(on1) == {f"{pod_ip(cl, 'pod0')}:8080", f"{pod_ip(cl, 'pod1')}:8080"}
    assert set(connect_many(cl, 50, from_node="node-2")) == {f"{pod_ip(cl, 'pod2')}:8080"}
    ip = cl.get("Service", "web").spec.cluster_ip
    with pytest.raises(NoEndpoints, match=rf"^dial tcp {ip}:80: i/o timeout"):
        connect(cl.api, random.Random(0), "web", 80, from_node="node-3")  # DROP: none local
    with pytest.raises(NoEndpoints, match="i/o timeout"):
        connect(cl.api, random.Random(0), "web", 80)  # from no node: nothing is local


def test_internal_traffic_policy_local_without_any_endpoint_is_refused() -> None:
    cl = cluster()
    cl.create(make_service(internal_traffic_policy="Local"))
    cl.run()
    with pytest.raises(NoEndpoints, match="connection refused"):
        connect(cl.api, random.Random(0), "web", 80, from_node="node-1")


def test_internal_traffic_policy_local_terminating_fallback() -> None:
    cl = local_cluster(internal_traffic_policy="Local")
    cl.delete("Pod", "pod2")  # the only endpoint on node-2 terminates, still serving
    cl.run()
    assert set(connect_many(cl, 30, from_node="node-2")) == {f"{pod_ip(cl, 'pod2')}:8080"}


def test_external_traffic_policy_local() -> None:
    cl = local_cluster(type="NodePort", external_traffic_policy="Local")
    assert set(connect_many(cl, 50, from_node="node-2", external=True)) == {f"{pod_ip(cl, 'pod2')}:8080"}
    with pytest.raises(NoEndpoints, match="i/o timeout"):
        connect(cl.api, random.Random(0), "web", 80, from_node="node-3", external=True)
    # internal traffic to the same Service follows internalTrafficPolicy (Cluster): all three
    assert len(connect_many(cl, 300, from_node="node-3")) == 3


def test_external_needs_node_port_service() -> None:
    cl = local_cluster()
    with pytest.raises(KubesimError, match="NodePort or LoadBalancer"):
        connect(cl.api, random.Random(0), "web", 80, from_node="node-1", external=True)


def zone_cluster(**spec: Any) -> Cluster:
    cl = cluster()
    cl.create(make_pod(0, "node-1"))  # zone-a
    cl.create(make_pod(1, "node-1"))  # zone-a
    cl.create(make_pod(2, "node-2"))  # zone-b; nothing in zone-c
    cl.create(make_service(**spec))
    cl.run()
    return cl


def test_prefer_close_keeps_traffic_in_zone() -> None:
    cl = zone_cluster(traffic_distribution="PreferClose")
    hints = {e.addresses[0]: e.hints for s in cl.list("EndpointSlice") for e in s.endpoints}
    assert all(h is not None and h.for_zones for h in hints.values())  # the controller wrote zone hints
    assert set(connect_many(cl, 300, from_node="node-1")) == {f"{pod_ip(cl, 'pod0')}:8080", f"{pod_ip(cl, 'pod1')}:8080"}
    assert set(connect_many(cl, 50, from_node="node-2")) == {f"{pod_ip(cl, 'pod2')}:8080"}
    # zone-c has no hinted endpoint: topology is ignored, every ready endpoint is used
    assert len(connect_many(cl, 300, from_node="node-3")) == 3
    # from no node: no zone, no topology
    assert len(connect_many(cl, 300)) == 3


def test_without_hints_all_zones_used() -> None:
    cl = zone_cluster()
    assert len(connect_many(cl, 300, from_node="node-1")) == 3


def test_dedup_across_hand_written_slices() -> None:
    # A selector-less Service with two hand-written slices that overlap on one ip:port.
    cl = cluster()
    cl.create(make_service(selector=None))
    cl.run()

    def write(name: str, endpoints: list[Endpoint]) -> None:
        cl.create(EndpointSlice(
            metadata=ObjectMeta(name=name, namespace="default", labels={SERVICE_NAME_LABEL: "web"}),
            address_type="IPv4",
            endpoints=tuple(endpoints),
            ports=(EndpointSlicePort(name="http", protocol="TCP", port=8080),),
        ))

    write("web-a", [ep("10.9.0.1", pod="a1"), ep("10.9.0.2", pod="old", ready=False, serving=True, terminating=True)])
    write("web-b", [ep("10.9.0.2", pod="new"), ep("10.9.0.3", pod="b3")])
    counts = Counter(connect(cl.api, random.Random(5 + i), "web", 80).pod for i in range(600))
    assert set(counts) == {"a1", "new", "b3"}  # 10.9.0.2 once, as the non-terminating pod
    slices = cl.list("EndpointSlice", selector=f"{SERVICE_NAME_LABEL}=web")
    assert [len(v) for v in merge_slices(cl.get("Service", "web"), slices).values()] == [3]


def test_ipv6_backend_formatting() -> None:
    cl = cluster(dual_stack=True)
    cl.create(make_pod(0, "node-1", ips=["10.244.1.10", "fd00:10:244:1:0:0:0:a"]))
    cl.create(make_service(ip_families=("IPv6",), ip_family_policy="SingleStack"))
    cl.run()
    b = connect(cl.api, random.Random(0), "web", 80)
    assert (b.ip, b.port) == ("fd00:10:244:1::a", 8080)
    assert str(b) == "[fd00:10:244:1::a]:8080"


def test_dual_stack_family_choice() -> None:
    cl = cluster(dual_stack=True)
    cl.create(make_pod(0, "node-1", ips=["10.244.1.10", "fd00:10:244:1::a"]))
    cl.create(make_service(ip_families=("IPv4", "IPv6"), ip_family_policy="RequireDualStack"))
    cl.run()
    rng = random.Random(0)
    assert str(connect(cl.api, rng, "web", 80)) == "10.244.1.10:8080"
    assert str(connect(cl.api, rng, "web", 80, ip_family="IPv6")) == "[fd00:10:244:1::a]:8080"


def test_ipv6_refused_message_brackets_the_cluster_ip() -> None:
    cl = cluster(dual_stack=True)
    cl.create(make_service(ip_families=("IPv6",), ip_family_policy="SingleStack"))
    cl.run()
    ip = cl.get("Service", "web").spec.cluster_ip
    with pytest.raises(NoEndpoints) as exc:
        connect(cl.api, random.Random(0), "web", 80)
    assert str(exc.value) == f"dial tcp [{ip}]:80: connect: connection refused"


def test_headless_external_name_and_foreign_proxy_services_refused() -> None:
    cl = cluster()
    cl.create(make_pod(0, "node-1"))
    cl.create(make_service("headless", cluster_ip="None"))
    cl.create(Service(metadata=ObjectMeta(name="db", namespace="default"),
                      spec=ServiceSpec(type="ExternalName", external_name="db.example.com")))
    other = make_service("other")
    cl.create(attrs.evolve(other, metadata=attrs.evolve(other.metadata, labels={"service.kubernetes.io/service-proxy-name": "cilium"})))
    cl.run()
    rng = random.Random(0)
    with pytest.raises(KubesimError, match="headless"):
        connect(cl.api, rng, "headless", 80)
    with pytest.raises(KubesimError, match="ExternalName.*db.example.com.*CNAME"):
        connect(cl.api, rng, "db", 80)
    with pytest.raises(KubesimError, match="service-proxy-name"):
        connect(cl.api, rng, "other", 80)


def test_full_cluster_deploy() -> None:
    from kubesim import scenarios

    cl = Cluster(seed=0, nodes=3)
    scenarios.deploy(cl, "web", replicas=3)
    cl.run()
    pods = {p.metadata.name for p in cl.list("Pod")}
    got = {connect(cl.api, random.Random(i), "web", 80).pod for i in range(200)}
    assert got == pods


def test_doctests() -> None:
    import doctest

    import kubesim.proxy

    assert doctest.testmod(kubesim.proxy).failed == 0


def test_cluster_connect_and_resolve_facade() -> None:
    import kubesim
    from kubesim import scenarios

    cluster = kubesim.Cluster(seed=0, nodes=2)
    scenarios.deploy(cluster, "web", replicas=2)
    cluster.run()
    ips = {p.status.pod_ip for p in cluster.list("pods")}
    seen = {cluster.connect("web", 80).ip for _ in range(40)}
    assert seen == ips
    assert str(cluster.connect("web", "http")).endswith(":80")
    assert cluster.resolve("web").records == (cluster.get("Service", "web").spec.cluster_ip,)
    state = cluster.rng.getstate()
    cluster.connect("web", 80)
    assert cluster.rng.getstate() == state  # traffic never shifts the simulation's randomness
