"""Injected faults: controllers converge through retries; refused attempts are recorded;
replaying the change log rebuilds the API server's state."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kubesim
from kubesim import scenarios as sc
from kubesim.changelog import replay
from kubesim.controllers.endpoints.reconciler import plan_endpoints_sync
from kubesim.controllers.endpointslice.reconciler import reconcile_endpoint_slices
from kubesim.controllers.endpointutil import pods_for_service
from kubesim.faults import FaultPlan

FAULTS = FaultPlan(conflict_rate=0.1, error_rate=0.1, timeout_rate=0.1, watch_delay=2.0)


def _workload(cluster: kubesim.Cluster) -> None:
    sc.deploy(cluster, "web", replicas=8)
    cluster.run()
    sc.set_image(cluster, "web", "nginx:1.26")
    cluster.run()
    sc.scale(cluster, "web", 5)
    cluster.run()


def _semantic_state(cluster: kubesim.Cluster) -> dict[str, Any]:
    """What must not depend on faults: counts and conditions, not names or IPs."""
    slices = cluster.list("endpointslices", selector="kubernetes.io/service-name=web")
    ep = cluster.get("Endpoints", "web")
    pods = [p for p in cluster.list("pods") if p.metadata.deletion_timestamp is None]
    return {
        "pods": len(pods),
        "images": sorted(c.image for p in pods for c in p.spec.containers),
        "slice_conditions": sorted(
            (e.conditions.ready, e.conditions.serving, e.conditions.terminating) for s in slices for e in s.endpoints
        ),
        "endpoints_ready": sum(len(s.addresses) for s in ep.subsets),
        "endpoints_not_ready": sum(len(s.not_ready_addresses) for s in ep.subsets),
        "replicasets": sorted((rs.spec.replicas, rs.status.replicas) for rs in cluster.list("rs")),
    }


def _consistent(cluster: kubesim.Cluster) -> None:
    """The endpoint objects are exactly what the controllers compute from the final pods."""
    api = cluster.api
    svc = cluster.get("Service", "web")
    pods = pods_for_service(api, svc)
    slices = cluster.list("endpointslices", selector="kubernetes.io/service-name=web")
    plan = reconcile_endpoint_slices(svc, pods, slices, nodes=api.list_namespace("Node", ""))
    assert plan.empty, plan.operations
    ep = cluster.get("Endpoints", "web")
    assert plan_endpoints_sync(svc, pods, ep, namespace="default", name="web").verb is None
    ips = {p.status.pod_ip for p in pods}
    assert {e.addresses[0] for s in slices for e in s.endpoints} == ips
    assert {a.ip for s in ep.subsets for a in s.addresses} == ips


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_controllers_converge_under_faults(seed: int) -> None:
    healthy = kubesim.Cluster(seed=seed, nodes=3)
    _workload(healthy)
    faulty = kubesim.Cluster(seed=seed, nodes=3, faults=FAULTS)
    _workload(faulty)
    injected = faulty.api.faults.injected  # type: ignore[union-attr]
    assert injected["conflict"] and injected["error"] and injected["timeout"] and injected["delayed"]
    assert _semantic_state(faulty) == _semantic_state(healthy)
    _consistent(faulty)
    _consistent(healthy)
    faulty._check()


def test_refused_attempts_are_in_the_log_and_the_report() -> None:
    cluster = kubesim.Cluster(seed=3, nodes=3, faults=FaultPlan(conflict_rate=0.2, error_rate=0.2))
    _workload(cluster)
    refused = [e for e in cluster.changes if not e.committed]
    assert refused and {e.outcome for e in refused} == {"conflict", "error"}
    assert all(e.resource_version == 0 for e in refused)
    injected = cluster.api.faults.injected  # type: ignore[union-attr]
    assert len(refused) == injected["conflict"] + injected["error"]
    report = cluster.churn()
    for kind in ("Endpoints", "EndpointSlice", "Pod"):
        k = report.kind(kind)
        assert k.failed_attempts == sum(1 for e in refused if e.kind == kind)
        assert k.writes == sum(1 for e in cluster.changes.committed() if e.kind == kind)
    assert "failed attempts" in str(report)


def test_client_writes_are_not_faulted_by_default() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=1, faults=FaultPlan(error_rate=1.0), controllers=[])
    for i in range(20):
        sc.deploy(cluster, f"web{i}", replicas=1)  # never raises
    assert all(e.committed for e in cluster.changes if e.actor == "kubectl")
    flaky = kubesim.Cluster(seed=0, nodes=1, faults=FaultPlan(error_rate=1.0, affect_clients=True), controllers=[])
    with pytest.raises(kubesim.ServerError):
        sc.deploy(flaky, "web", replicas=1)
    assert flaky.list("deployments") == []  # the refused apply changed nothing


def test_timeout_after_commit_is_committed() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=1, controllers=[], faults=FaultPlan(timeout_rate=1.0, affect_clients=True))
    svc = kubesim.load_yaml("apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {ports: [{port: 5432}]}\n")[0]
    with pytest.raises(kubesim.ServerTimeout) as info:
        cluster.create(svc)
    assert info.value.committed
    assert cluster.get("Service", "db").spec.ports[0].port == 5432


@pytest.mark.parametrize(
    "kwargs",
    [
        {"conflict_rate": -0.1},
        {"error_rate": 1.5},
        {"conflict_rate": 0.6, "error_rate": 0.6},
        {"watch_delay": -1.0},
        {"watch_delay": float("inf")},
        {"timeout_rate": "often"},
    ],
)
def test_bad_fault_plans_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(kubesim.InvalidOption):
        FaultPlan(**kwargs)


def test_faults_are_deterministic() -> None:
    logs = []
    for _ in range(2):
        c = kubesim.Cluster(seed=5, nodes=3, faults=FAULTS)
        _workload(c)
        logs.append([(e.seq, e.time, e.verb, e.kind, e.name, e.actor, e.outcome, e.proto_bytes) for e in c.changes])
    assert logs[0] == logs[1]


@pytest.mark.parametrize("faults", [None, FAULTS])
def test_replaying_the_log_rebuilds_the_state(faults: FaultPlan | None) -> None:
    cluster = kubesim.Cluster(seed=0, nodes=3, record_objects=True, faults=faults)
    _workload(cluster)
    sc.fail_node(cluster, "node-2")
    cluster.run(until=cluster.now + 400)
    assert replay(cluster.changes) == cluster.api.snapshot()


def test_replay_needs_recorded_objects() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=1)
    with pytest.raises(ValueError):
        replay(cluster.changes)


# ---------------------------------------------------------------- issue 14: heavy faults, resync


@pytest.mark.parametrize("plan", [
    FaultPlan(conflict_rate=0.7),
    FaultPlan(conflict_rate=0.3, error_rate=0.3, timeout_rate=0.2, watch_delay=5.0),
])
@pytest.mark.parametrize("seed", [0, 4])
def test_heavy_faults_converge_through_the_resync(plan: FaultPlan, seed: int) -> None:
    healthy = kubesim.Cluster(seed=seed, nodes=3)
    _workload(healthy)
    faulty = kubesim.Cluster(seed=seed, nodes=3, faults=plan)
    _workload(faulty)
    stats = faulty.statistics()["resync"]
    assert stats.converged and stats.pending == 0
    assert _semantic_state(faulty) == _semantic_state(healthy)
    _consistent(faulty)
    faulty._check()


@pytest.mark.parametrize("plan", [FaultPlan(conflict_rate=1.0), FaultPlan(error_rate=1.0),
                                  FaultPlan(conflict_rate=0.5, error_rate=0.5)])
def test_hopeless_faults_are_reported_not_silent(plan: FaultPlan) -> None:
    cluster = kubesim.Cluster(seed=0, nodes=3, faults=plan)
    _workload(cluster)
    stats = cluster.statistics()["resync"]
    assert not stats.converged and stats.abandoned
    assert stats.resyncs > 0 and cluster.now < 30 * 86400  # the run ended, within a month
    cluster._check()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.floats(0, 0.9), st.floats(0, 0.5), st.floats(0, 0.3), st.floats(0, 5))
def test_any_fault_plan_ends_consistent_or_says_so(seed: int, conflict: float, error: float, timeout: float,
                                                   delay: float) -> None:
    total = conflict + error + timeout
    if total > 1:
        conflict, error, timeout = conflict / total, error / total, timeout / total
    plan = FaultPlan(conflict_rate=conflict, error_rate=error, timeout_rate=timeout, watch_delay=delay)
    healthy = kubesim.Cluster(seed=seed, nodes=2)
    sc.deploy(healthy, "web", replicas=3)
    healthy.run()
    faulty = kubesim.Cluster(seed=seed, nodes=2, faults=plan)
    sc.deploy(faulty, "web", replicas=3)
    faulty.run()
    faulty._check()
    if faulty.statistics()["resync"].converged:
        assert _semantic_state(faulty) == _semantic_state(healthy)
        _consistent(faulty)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["np", "lb", "ip", "gen"]), min_size=1, max_size=6), st.integers(0, 1000))
def test_refused_client_writes_leave_every_allocator(docs: list[str], seed: int) -> None:
    """With the client's writes faulted, every refused create gives back its IPs and node
    ports and draws nothing from the random state."""
    cluster = kubesim.Cluster(seed=seed, nodes=1, controllers=[],
                              faults=FaultPlan(conflict_rate=0.4, error_rate=0.4, affect_clients=True))
    texts = {
        "np": "apiVersion: v1\nkind: Service\nmetadata: {name: np}\nspec: {type: NodePort, ports: [{port: 80}]}\n",
        "lb": "apiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\n",
        "ip": "apiVersion: v1\nkind: Service\nmetadata: {name: ip}\nspec: {clusterIP: 10.96.3.3, ports: [{port: 80}]}\n",
        "gen": "apiVersion: v1\nkind: Pod\nmetadata: {generateName: p-}\nspec: {containers: [{name: c, image: i}]}\n",
    }
    for d in docs:
        before = cluster.api.fingerprint()
        try:
            cluster.apply_yaml(texts[d])
        except (kubesim.Conflict, kubesim.ServerError, kubesim.AlreadyExists):
            after = cluster.api.fingerprint()
            assert after[1:4] == before[1:4] and after[6:] == before[6:]  # store, rv, random, allocators
        except kubesim.ServerTimeout:
            pass
        cluster._check()
