"""The kubelet's and the scheduler's cheaper writes: what they share and build faster is what
they built before (values), only fewer objects.

* the status parts many pods carry alike (conditions, container states, a not-yet-started
  container's status) are one instance per value, equal to freshly built ones;
* the scheduler's binding (one construction per part instead of ``attrs.evolve``) and its
  sorted node names, kept between node events, give what ``evolve`` and ``sorted`` give.
"""

from __future__ import annotations

import attrs

import kubesim
import kubesim.scenarios as sc
from kubesim.controllers.node import kubelet as kl
from kubesim.controllers.node.scheduler import _replacer
from kubesim.objects import (
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStateWaiting,
    ContainerStatus,
    Node,
    ObjectMeta,
    PodCondition,
    PodSpec,
    PodStatus,
    Toleration,
)


def _fresh(c: PodCondition) -> PodCondition:
    return PodCondition(type=c.type, status=c.status, last_transition_time=c.last_transition_time,
                        last_probe_time=c.last_probe_time, reason=c.reason, message=c.message)


def test_pods_share_one_condition_object_per_value() -> None:
    c = kubesim.Cluster(seed=3, nodes=4, events=False)
    sc.deploy(c, "web", replicas=12)
    c.run()
    pods = c.api.list("Pod", "default")
    assert len(pods) == 12
    by_value: dict[PodCondition, set[int]] = {}
    for pod in pods:
        for cond in pod.status.conditions:
            assert cond == _fresh(cond)
            by_value.setdefault(cond, set()).add(id(cond))
    assert all(len(ids) == 1 for ids in by_value.values())
    assert len(by_value) < 12 * 5  # some pods made the same transitions in the same second
    c.controllers["kubelet"]._check()
    c.controllers["scheduler"]._check()


def test_shared_container_parts_equal_fresh_ones() -> None:
    c = kubesim.Cluster(seed=1, nodes=2, events=False)
    k = c.controllers["kubelet"]
    a = k._shared_state(7, None)
    assert a is k._shared_state(7, None)
    assert a == ContainerState(running=ContainerStateRunning(started_at=7))
    w = k._shared_state(None, "ContainerCreating")
    assert w == ContainerState(waiting=ContainerStateWaiting(reason="ContainerCreating"))
    rt = kl.ContainerRuntime(spec=Container("web", image="nginx"), behaviour=kl._DEFAULT_BEHAVIOUR)
    st = k._build_container_status(rt)
    assert st is k._build_container_status(rt)
    assert st == ContainerStatus(name="web", state=w, image="nginx", started=False)
    assert rt.last_state == ContainerState()


def test_shared_table_is_bounded() -> None:
    shared: dict[tuple[object, ...], object] = {}
    for t in range(kl._SHARED_LIMIT + 10):
        cond = kl._condition(None, "Ready", "True", t, shared=shared)
        assert cond == PodCondition(type="Ready", status="True", last_transition_time=t)
    assert len(shared) <= kl._SHARED_LIMIT


def test_replacer_is_evolve() -> None:
    spec = PodSpec(containers=[Container("a")], tolerations=[Toleration(operator="Exists")])
    assert _replacer(PodSpec, "node_name")(spec, "n1") == attrs.evolve(spec, node_name="n1")
    status = PodStatus(phase="", host_ip="10.0.0.1", reason="r", message="m")
    conds = (PodCondition("PodScheduled", "True", 5),)
    got = _replacer(PodStatus, "phase", "conditions")(status, "Pending", conds)
    assert got == attrs.evolve(status, phase="Pending", conditions=conds)
    meta = ObjectMeta(name="p", labels={"a": "b"}, resource_version="9")
    assert _replacer(ObjectMeta, "resource_version")(meta, "") == attrs.evolve(meta, resource_version="")


def test_sorted_node_names_follow_node_events() -> None:
    c = kubesim.Cluster(seed=0, nodes=3, events=False)
    s = c.controllers["scheduler"]
    tolerant = "\n".join([
        "apiVersion: v1", "kind: Pod", "metadata: {name: p%d}", "spec:",
        "  tolerations: [{operator: Exists}]", "  containers: [{name: a, image: nginx}]",
    ])
    c.apply_yaml(tolerant % 0)
    c.run()
    assert s._names == sorted(s._ready)
    c.add_node("aaa-first")  # sorts before every other name: a constrained pod goes there on a tie
    c.run()
    assert isinstance(c.api.get("Node", "aaa-first", ""), Node)
    c.apply_yaml(tolerant % 1)
    c.run()
    assert c.api.get("Pod", "p1").spec.node_name == "aaa-first"
    assert s._names == sorted(s._ready)
    s._check()
