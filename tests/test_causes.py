"""Churn attributed to its cause: a cause follows the work it sets off through controllers,
queues and timers."""

from __future__ import annotations

import pytest

import kubesim
from kubesim import scenarios as sc


def test_each_scenario_step_owns_the_writes_it_sets_off() -> None:
    c = kubesim.Cluster(seed=0, nodes=3)
    sc.deploy(c, "web", replicas=6)
    c.run()
    deployed = len(c.changes)
    sc.set_image(c, "web", "nginx:1.26")
    c.run()
    rolled = len(c.changes)
    sc.fail_node(c, "node-1")
    c.run(until=c.now + 400)
    assert {e.cause for e in c.changes[:deployed] if e.kind not in ("Node", "Namespace")} == {"deploy"}
    assert {e.cause for e in c.changes[deployed:rolled]} == {"rollout"}
    assert {e.cause for e in c.changes[rolled:]} == {"node-loss"}
    report = c.churn()
    for kind in ("Endpoints", "EndpointSlice"):
        assert report.by_cause["rollout"][kind].writes == sum(
            1 for e in c.changes[deployed:rolled] if e.kind == kind
        ) > 0
    assert report.by_cause["node-loss"]["EndpointSlice"].writes > 0


def test_cluster_cause_context_and_nesting() -> None:
    c = kubesim.Cluster(seed=0, nodes=2)
    with c.cause("experiment"):
        sc.deploy(c, "web", replicas=2)  # an outer cause wins over the scenario's own
        c.run()
    assert {e.cause for e in c.changes if e.kind not in ("Node", "Namespace")} == {"experiment"}
    assert c.clock.context == ""
    with pytest.raises(kubesim.InvalidOption), c.cause(3):  # type: ignore[arg-type]
        pass


def test_causes_do_not_change_the_trace() -> None:
    def trace(with_cause: bool) -> list[tuple[object, ...]]:
        c = kubesim.Cluster(seed=4, nodes=2)
        if with_cause:
            with c.cause("x"):
                c.apply_yaml(sc.web_manifests("web", replicas=3))
        else:
            c.apply_yaml(sc.web_manifests("web", replicas=3))
        c.run()
        return [(e.seq, e.time, e.verb, e.kind, e.name, e.proto_bytes) for e in c.changes]

    assert trace(True) == trace(False)
