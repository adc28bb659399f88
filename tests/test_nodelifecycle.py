"""Node failure, taint-based eviction, recovery and drain, through the whole cluster."""

from __future__ import annotations

import random

import pytest

import kubesim
from kubesim import scenarios as sc
from kubesim.controllers.node.lifecycle import ACTOR, TAINT_UNREACHABLE
from kubesim.faults import FaultInjector, FaultPlan


def _cluster() -> kubesim.Cluster:
    cl = kubesim.Cluster(seed=0, nodes=3)
    sc.deploy(cl, "web", replicas=6)
    cl.run()
    return cl


def _on(cl: kubesim.Cluster, node: str) -> list[kubesim.Pod]:
    return [p for p in cl.list("pods") if p.spec.node_name == node]


def _endpoints(cl: kubesim.Cluster) -> tuple[set[str], set[str]]:
    ep = cl.get("Endpoints", "web")
    ready = {a.ip for s in ep.subsets for a in s.addresses}
    not_ready = {a.ip for s in ep.subsets for a in s.not_ready_addresses}
    return ready, not_ready


def test_pods_of_a_failed_node_go_not_ready_after_the_grace_period() -> None:
    cl = _cluster()
    victims = {p.status.pod_ip for p in _on(cl, "node-1")}
    assert victims
    t0 = cl.now
    sc.fail_node(cl, "node-1")
    cl.run(until=t0 + 49)
    assert _endpoints(cl)[0] >= victims  # still served: nobody noticed yet
    cl.run(until=t0 + 51)
    ready, not_ready = _endpoints(cl)
    assert not_ready == victims and not (ready & victims)
    node = cl.get("Node", "node-1")
    assert node.status.conditions[0].status == "Unknown"
    assert {(t.key, t.effect) for t in node.spec.taints} == {
        (TAINT_UNREACHABLE, "NoSchedule"), (TAINT_UNREACHABLE, "NoExecute")}
    slice_eps = [e for s in cl.list("endpointslices") for e in s.endpoints if e.addresses[0] in victims]
    assert slice_eps and all(e.conditions.ready is False and e.conditions.serving is False for e in slice_eps)
    marks = cl.changes.where(kind="Pod", actor="node-lifecycle-controller")
    assert len(marks) == len(victims)


def test_eviction_after_the_toleration_and_replacement_elsewhere() -> None:
    cl = _cluster()
    victims = {p.metadata.name for p in _on(cl, "node-1")}
    t0 = cl.now
    sc.fail_node(cl, "node-1")
    cl.run(until=t0 + 50 + 300 + 30)
    pods = {p.metadata.name: p for p in cl.list("pods")}
    # evicted but stuck Terminating: the dead kubelet cannot finish the deletion
    assert all(pods[n].metadata.deletion_timestamp is not None for n in victims)
    live = [p for p in pods.values() if p.metadata.deletion_timestamp is None]
    assert len(live) == 6 and all(p.spec.node_name != "node-1" for p in live)
    ready, _ = _endpoints(cl)
    assert ready == {p.status.pod_ip for p in live}
    evictions = cl.changes.where(kind="Pod", actor="taint-eviction-controller")
    assert len(evictions) == len(victims)
    # terminating endpoints stay in the slices, flagged (KEP-1672)
    term = [e for s in cl.list("endpointslices") for e in s.endpoints if e.conditions.terminating]
    assert len(term) == len(victims)


def test_recovery_finishes_terminations_and_clears_taints() -> None:
    cl = _cluster()
    t0 = cl.now
    sc.fail_node(cl, "node-1")
    cl.run(until=t0 + 400)
    sc.recover_node(cl, "node-1")
    cl.run()
    assert all(p.metadata.deletion_timestamp is None for p in cl.list("pods"))
    assert len(cl.list("pods")) == 6
    node = cl.get("Node", "node-1")
    assert node.status.ready and not node.spec.taints
    assert len(_endpoints(cl)[0]) == 6
    cl._check()


@pytest.mark.parametrize("fault", ["conflict", "error", "timeout"])
def test_recovery_survives_refused_writes(fault: str) -> None:
    # Recovery's writes (the kubelet's Ready report, the controller lifting the taint) fail
    # while the API server refuses every attempt: the caller sees no fault, the writes are
    # retried (a timeout is a committed write) and land once the server is healthy again.
    cl = _cluster()
    t0 = cl.now
    sc.fail_node(cl, "node-1")
    cl.run(until=t0 + 400)
    assert TAINT_UNREACHABLE in {t.key for t in cl.get("Node", "node-1").spec.taints}
    cl.api.faults = FaultInjector(FaultPlan(**{f"{fault}_rate": 1.0}), random.Random(0))
    sc.recover_node(cl, "node-1")
    cl.api.faults = None
    cl.run()
    node = cl.get("Node", "node-1")
    assert node.status.ready and not node.spec.taints
    refused = [e for e in cl.changes if e.kind == "Node" and e.outcome == fault]
    if fault == "timeout":  # committed, reported as failed to the writer: not retried
        assert not refused
    else:
        assert refused and {e.actor for e in refused} <= {"kubelet", ACTOR}
    assert len(_endpoints(cl)[0]) == 6
    cl._check()


def test_recovery_within_the_grace_period_touches_no_pod() -> None:
    cl = _cluster()
    before = len(cl.changes)
    sc.fail_node(cl, "node-1")
    cl.run(until=cl.now + 20)
    sc.recover_node(cl, "node-1")
    cl.run()
    assert cl.changes[before:] == []


def test_drain_moves_every_pod_and_uncordon_reopens_the_node() -> None:
    cl = _cluster()
    sc.drain(cl, "node-2")
    cl.run()
    node = cl.get("Node", "node-2")
    assert node.spec.unschedulable
    assert _on(cl, "node-2") == []
    assert len(cl.list("pods")) == 6 and len(_endpoints(cl)[0]) == 6
    assert "SchedulingDisabled" in cl.kubectl("get nodes")
    sc.uncordon(cl, "node-2")
    assert not cl.get("Node", "node-2").spec.unschedulable
    sc.scale(cl, "web", 12)
    cl.run()
    assert _on(cl, "node-2")  # schedulable again


def test_bad_node_operations_raise_typed_errors() -> None:
    cl = kubesim.Cluster(seed=0, nodes=1)
    with pytest.raises(kubesim.NotFound):
        sc.fail_node(cl, "node-9")
    with pytest.raises(kubesim.InvalidOption):
        sc.recover_node(cl, "node-1")
    sc.fail_node(cl, "node-1")
    with pytest.raises(kubesim.InvalidOption):
        sc.fail_node(cl, "node-1")
