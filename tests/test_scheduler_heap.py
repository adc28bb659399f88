"""The scheduler's choice of node, checked at every attempt against a reference written here.

:mod:`kubesim.controllers.node.scheduler` keeps, for pods with placement constraints (node
selector, tolerations, required node affinity), a heap of ``(pods, node)`` per distinct
constraint, maintained by every pod count change and dropped at every node event. Its module
docstring says what it must pick: among the Ready nodes with room (``allocatable.pods``) whose
``NoSchedule``/``NoExecute`` taints (a cordoned node counting as tainted
``node.kubernetes.io/unschedulable:NoSchedule``) the pod tolerates and whose labels its
selector and affinity match, the one with the fewest pods, ties to the first by name; a pod
without constraints goes to one of the least loaded Ready, uncordoned, untainted nodes (ties
at random).

Every call of ``Scheduler._choose`` in this module is wrapped (an autouse fixture) and compared
with :func:`reference_choice`, computed from the API server's stored Nodes and Pods alone with
a matcher of this module's own (never the scheduler's helpers), and, for constrained pods, with
the scheduler's own ``O(N)`` scan (``_choose_by_scan``, the heaps' oracle). A Hypothesis state
machine drives a small cluster through pods and Deployments drawn from a small vocabulary of
constraints, cordons, taints, relabels, capacity changes, node failures, node deletes and adds,
pod deletes and the clock; after every step ``Cluster._check()`` (and so ``Scheduler._check``,
the heaps' invariant) must hold. Example tests pin the edge cases: no fitting node, a NotReady
node, ties by name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import kubesim
import kubesim.scenarios as sc
from kubesim.controllers.node.scheduler import Scheduler
from kubesim.objects import FrozenDict, Taint

# ------------------------------------------------------------------ the vocabulary

#: node selectors a pod may carry (the nodes' labels "disk" and "tier" are drawn from the same)
SELECTORS: tuple[dict[str, str], ...] = ({}, {"disk": "ssd"}, {"tier": "a"}, {"disk": "hdd", "tier": "b"})
#: tolerations (as manifests)
TOLERATIONS: tuple[list[dict[str, Any]], ...] = (
    [],
    [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}],
    [{"key": "dedicated", "operator": "Exists"}],
    [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}],
    [{"operator": "Exists"}],
)
#: required node-affinity terms (as manifests; None: no affinity)
AFFINITIES: tuple[list[dict[str, Any]] | None, ...] = (
    None,
    [{"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}],
    [{"matchExpressions": [{"key": "disk", "operator": "DoesNotExist"}]}],
    [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-2"]}]}],
    [  # terms ORed, expressions ANDed
        {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]},
                              {"key": "tier", "operator": "NotIn", "values": ["a"]}]},
        {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
    ],
)
TAINTS: tuple[tuple[Taint, ...], ...] = (
    (),
    (Taint("dedicated", "NoSchedule", "db"),),
    (Taint("dedicated", "NoSchedule", "web"),),
    (Taint("dedicated", "NoExecute", "db"),),
    (Taint("dedicated", "PreferNoSchedule", "db"),),
)
#: a PreferNoSchedule taint is stored and reported as a model warning (it only scores upstream)
pytestmark = pytest.mark.filterwarnings("ignore::kubesim.ModelWarning")
DISKS = (None, "ssd", "hdd")
TIERS = (None, "a", "b")

#: how long a workload rule runs the clock after its write (0: the next rule interleaves)
WAITS = st.sampled_from([0.0, 0.0, 1.0, 5.0])
constraints = st.tuples(st.sampled_from(SELECTORS), st.sampled_from(TOLERATIONS), st.sampled_from(AFFINITIES))


def pod_spec_manifest(selector: dict[str, str], tolerations: list[dict[str, Any]],
                      affinity: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A pod spec manifest with the given placement constraints."""
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx"}]}
    if selector:
        spec["nodeSelector"] = selector
    if tolerations:
        spec["tolerations"] = tolerations
    if affinity is not None:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": affinity}}}
    return spec


def pod_yaml(name: str, spec: dict[str, Any]) -> str:
    """A Pod manifest (JSON is YAML)."""
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})


def deployment_yaml(name: str, replicas: int, spec: dict[str, Any]) -> str:
    """A Deployment manifest (JSON is YAML)."""
    labels = {"app": name}
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": spec}},
    })


# ------------------------------------------------------------------ the reference


def _condition_true(conditions: Any, kind: str) -> bool:
    return any(c.type == kind and c.status == "True" for c in conditions)


def _tolerates(t: Any, taint: Taint) -> bool:
    # ToleratesTaint: effect and key must match when set; Exists any value, Equal the same
    if t.effect not in ("", taint.effect) or t.key not in ("", taint.key):
        return False
    return bool(t.value == taint.value) if t.operator in ("", "Equal") else bool(t.operator == "Exists")


def _requirement(op: str, values: tuple[str, ...], value: str | None) -> bool:
    # the vocabulary's operators only
    if op == "In":
        return value in values
    if op == "NotIn":
        return value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    raise AssertionError(f"operator {op!r} is not in this test's vocabulary")


def _fits(spec: Any, node: Any) -> bool:
    """The filters of a constrained pod on one node, readiness and room left to the caller."""
    taints = list(node.spec.taints)
    if node.spec.unschedulable:
        taints.append(Taint("node.kubernetes.io/unschedulable", "NoSchedule"))
    for taint in taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not any(_tolerates(t, taint) for t in spec.tolerations):
            return False
    labels = node.metadata.labels
    if any(labels.get(k) != v for k, v in spec.node_selector.items()):
        return False
    na = spec.affinity.node_affinity if spec.affinity is not None else None
    required = na.required_during_scheduling_ignored_during_execution if na is not None else None
    if required is None:
        return True
    for term in required.node_selector_terms:
        exprs = [_requirement(r.operator, r.values, labels.get(r.key)) for r in term.match_expressions]
        fields = [r.key == "metadata.name" and _requirement(r.operator, r.values, node.metadata.name)
                  for r in term.match_fields]
        if (exprs or fields) and all(exprs) and all(fields):
            return True
    return False


def is_constrained(spec: Any) -> bool:
    """A pod the constrained path schedules: a node selector, tolerations or node affinity."""
    return bool(spec.node_selector or spec.tolerations or (spec.affinity is not None and spec.affinity.node_affinity))


def reference_choice(api: Any, spec: Any) -> set[str]:
    """The nodes the scheduler may pick for a pod with ``spec``, from the stored objects alone:
    for a constrained pod the one feasible node with the least ``(pods, name)`` (an empty set
    when none fits); otherwise every Ready, uncordoned node without a ``NoSchedule`` or
    ``NoExecute`` taint and with room whose pod count is the least (ties go at random)."""
    counts: dict[str, int] = {}
    for pod in api.list("Pod", None):
        if pod.spec.node_name:
            counts[pod.spec.node_name] = counts.get(pod.spec.node_name, 0) + 1
    feasible: list[tuple[int, str]] = []
    constrained = is_constrained(spec)
    for node in api.list("Node", None):
        name = node.metadata.name
        if not _condition_true(node.status.conditions, "Ready"):
            continue
        if counts.get(name, 0) >= int(node.status.allocatable.get("pods", "110")):
            continue
        if constrained:
            if not _fits(spec, node):
                continue
        elif node.spec.unschedulable or any(t.effect in ("NoSchedule", "NoExecute") for t in node.spec.taints):
            continue
        feasible.append((counts.get(name, 0), name))
    if not feasible:
        return set()
    if constrained:
        return {min(feasible)[1]}
    least = min(n for n, _ in feasible)
    return {name for n, name in feasible if n == least}


#: choices checked so far, by path (a test asserts its path was taken)
CHECKED = {"constrained": 0, "plain": 0, "none": 0}
_original_choose = Scheduler._choose


def _checked_choose(self: Scheduler, pod: Any) -> str | None:
    """``Scheduler._choose``, its answer compared with the reference and the scan oracle."""
    chosen = _original_choose(self, pod)
    want = reference_choice(self.ctx.api, pod.spec)
    if is_constrained(pod.spec):
        CHECKED["constrained"] += 1
        assert chosen == self._choose_by_scan(pod.spec), (pod.metadata.name, chosen)
        assert {chosen} - {None} == want, (pod.metadata.name, chosen, want)
    else:
        CHECKED["plain"] += 1
        assert (chosen is None and not want) or chosen in want, (pod.metadata.name, chosen, want)
    if chosen is None:
        CHECKED["none"] += 1
    return chosen


@pytest.fixture(autouse=True)
def _check_every_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Scheduler, "_choose", _checked_choose)
    yield


# ------------------------------------------------------------------ helpers


def _node(c: kubesim.Cluster, name: str) -> Any:
    return c.get("Node", name, "")


def set_taints(c: kubesim.Cluster, name: str, taints: tuple[Taint, ...]) -> None:
    """Replace the node's taints, keeping the cordon's own taint."""
    n = _node(c, name)
    keep = tuple(t for t in n.spec.taints if t.key.startswith("node.kubernetes.io/"))
    c.update(attrs.evolve(n, spec=attrs.evolve(n.spec, taints=keep + taints)))


def set_labels(c: kubesim.Cluster, name: str, disk: str | None, tier: str | None) -> None:
    """Set (or remove, for None) the node's ``disk`` and ``tier`` labels."""
    n = _node(c, name)
    labels = {k: v for k, v in n.metadata.labels.items() if k not in ("disk", "tier")}
    labels.update({k: v for k, v in (("disk", disk), ("tier", tier)) if v is not None})
    c.update(attrs.evolve(n, metadata=attrs.evolve(n.metadata, labels=FrozenDict(labels))))


def set_capacity(c: kubesim.Cluster, name: str, pods: int) -> None:
    """Set the node's ``allocatable.pods``."""
    n = _node(c, name)
    allocatable = FrozenDict({**n.status.allocatable, "pods": str(pods)})
    c.update(attrs.evolve(n, status=attrs.evolve(n.status, allocatable=allocatable)))


def events(c: kubesim.Cluster, reason: str) -> list[dict[str, Any]]:
    """The stored Events of ``reason`` as JSON documents, oldest first."""
    docs = sorted((json.loads(e.content) | {"_rv": int(e.metadata.resource_version)} for e in c.list("Event", None)),
                  key=lambda d: d["_rv"])
    return [d for d in docs if d["reason"] == reason]


# ------------------------------------------------------------------ the state machine


class SchedulerHeapMachine(RuleBasedStateMachine):
    """A small cluster under placement constraints and node churn; every scheduling attempt is
    checked by the wrapped ``_choose`` and every step ends with ``Cluster._check()``."""

    def __init__(self) -> None:
        super().__init__()
        self.c: kubesim.Cluster = kubesim.Cluster(seed=0, nodes=0)
        self.serial = 0
        self.deployments: list[str] = []

    @initialize(seed=st.integers(0, 2**16), labels=st.lists(st.tuples(st.sampled_from(DISKS), st.sampled_from(TIERS)),
                                                         min_size=1, max_size=4))
    def start(self, seed: int, labels: list[tuple[str | None, str | None]]) -> None:
        self.c = kubesim.Cluster(seed=seed, nodes=len(labels), zones=2)
        for i, (disk, tier) in enumerate(labels, 1):
            set_labels(self.c, f"node-{i}", disk, tier)

    def _next(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def _nodes(self) -> list[str]:
        return [n.metadata.name for n in self.c.list("Node", None)]

    def _down(self) -> set[str]:
        return set(self.c.controllers["nodelifecycle"]._down)

    # --- workloads

    @rule(constraint=constraints, then=WAITS)
    def create_pod(self, constraint: tuple[Any, Any, Any], then: float) -> None:
        self.c.apply_yaml(pod_yaml(self._next("pod"), pod_spec_manifest(*constraint)))
        self.c.run(until=self.c.now + then)

    @rule(constraint=constraints, replicas=st.integers(1, 4), then=WAITS)
    def create_deployment(self, constraint: tuple[Any, Any, Any], replicas: int, then: float) -> None:
        name = self._next("dep")
        self.c.apply_yaml(deployment_yaml(name, replicas, pod_spec_manifest(*constraint)))
        self.deployments.append(name)
        self.c.run(until=self.c.now + then)

    @precondition(lambda self: self.deployments)
    @rule(data=st.data(), replicas=st.integers(0, 5))
    def scale(self, data: st.DataObject, replicas: int) -> None:
        sc.scale(self.c, data.draw(st.sampled_from(self.deployments)), replicas)

    @rule(data=st.data())
    def delete_pod(self, data: st.DataObject) -> None:
        pods = [p.metadata.name for p in self.c.list("Pod") if p.metadata.deletion_timestamp is None]
        if pods:
            self.c.delete("Pod", data.draw(st.sampled_from(pods)), grace_period_seconds=data.draw(st.sampled_from([0, 5])))

    @rule(data=st.data(), constraint=constraints)
    def delete_bound_pod_then_schedule(self, data: st.DataObject, constraint: tuple[Any, Any, Any]) -> None:
        """A count going down while a constraint's heap is live: the next choice must see it."""
        pods = [p.metadata.name for p in self.c.list("Pod") if p.spec.node_name and p.metadata.deletion_timestamp is None]
        if pods:
            self.c.delete("Pod", data.draw(st.sampled_from(pods)), grace_period_seconds=0)
        self.c.apply_yaml(pod_yaml(self._next("pod"), pod_spec_manifest(*constraint)))
        self.c.run(until=self.c.now + 1.0)

    # --- nodes

    @rule(data=st.data(), on=st.booleans())
    def cordon(self, data: st.DataObject, on: bool) -> None:
        nodes = self._nodes()
        if nodes:
            lifecycle = self.c.controllers["nodelifecycle"]
            name = data.draw(st.sampled_from(nodes))
            lifecycle.cordon(name) if on else lifecycle.uncordon(name)

    @rule(data=st.data(), taints=st.sampled_from(TAINTS))
    def taint(self, data: st.DataObject, taints: tuple[Taint, ...]) -> None:
        nodes = self._nodes()
        if nodes:
            set_taints(self.c, data.draw(st.sampled_from(nodes)), taints)

    @rule(data=st.data(), disk=st.sampled_from(DISKS), tier=st.sampled_from(TIERS))
    def relabel(self, data: st.DataObject, disk: str | None, tier: str | None) -> None:
        nodes = self._nodes()
        if nodes:
            set_labels(self.c, data.draw(st.sampled_from(nodes)), disk, tier)

    @rule(data=st.data(), pods=st.sampled_from([1, 2, 3, 110]))
    def capacity(self, data: st.DataObject, pods: int) -> None:
        nodes = self._nodes()
        if nodes:
            set_capacity(self.c, data.draw(st.sampled_from(nodes)), pods)

    @rule(data=st.data())
    def fail_or_recover_node(self, data: st.DataObject) -> None:
        nodes = self._nodes()
        if nodes:
            name = data.draw(st.sampled_from(nodes))
            if name in self._down():
                sc.recover_node(self.c, name)
            else:
                sc.fail_node(self.c, name)
                if data.draw(st.booleans()):  # past the grace period: NotReady
                    self.c.run(until=self.c.now + 60.0)

    @rule(data=st.data())
    def delete_node(self, data: st.DataObject) -> None:
        nodes = [n for n in self._nodes() if n not in self._down()]
        if len(nodes) > 1:
            self.c.delete("Node", data.draw(st.sampled_from(nodes)), "")

    @precondition(lambda self: len(self.c.list("Node", None)) < 6)
    @rule()
    def add_node(self) -> None:
        self.c.add_node()

    # --- time

    @rule(dt=st.sampled_from([0.5, 2.0, 10.0, 60.0]))
    def advance(self, dt: float) -> None:
        self.c.run(until=self.c.now + dt)

    @invariant()
    def checks_hold(self) -> None:
        self.c._check()


SchedulerHeapMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSchedulerHeap = SchedulerHeapMachine.TestCase


# ------------------------------------------------------------------ edge cases


def test_a_constrained_pod_no_node_fits_stays_pending_with_failed_scheduling() -> None:
    c = kubesim.Cluster(seed=0, nodes=3)
    c.controllers["nodelifecycle"].cordon("node-3")
    set_taints(c, "node-2", (Taint("dedicated", "NoSchedule", "db"),))
    c.apply_yaml(pod_yaml("p", pod_spec_manifest({"disk": "ssd"}, [], None)))
    before = CHECKED["none"]
    c.run(until=10.0)
    p = c.get("Pod", "p")
    assert p.spec.node_name == "" and p.status.phase in ("", "Pending")  # unbound: no kubelet runs it
    assert CHECKED["none"] > before
    (ev,) = events(c, "FailedScheduling")
    assert ev["type"] == "Warning" and ev["source"]["component"] == "default-scheduler"
    assert ev["message"] == (
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint(s), 1 node(s) were unschedulable. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )
    assert not events(c, "Scheduled")
    # a node gaining the label lets it in at once (a node event retries constrained pods)
    set_labels(c, "node-1", "ssd", None)
    c.run(until=11.0)
    assert c.get("Pod", "p").spec.node_name == "node-1"
    c._check()


def test_a_not_ready_node_leaves_the_constrained_choices() -> None:
    # node-1 is the least loaded and first by name, and the pods tolerate every taint
    # (node.kubernetes.io/unreachable included): only its readiness keeps them off it
    c = kubesim.Cluster(seed=1, nodes=3)
    tolerate_all = pod_spec_manifest({}, [{"operator": "Exists"}], None)
    for node in ("node-2", "node-3"):
        for i in range(2):
            c.apply_yaml(pod_yaml(f"{node}-{i}", pod_spec_manifest({"kubernetes.io/hostname": node}, [], None)))
    c.run(until=5.0)
    c.apply_yaml(pod_yaml("first", tolerate_all))  # builds the heap of this constraint
    c.run(until=10.0)
    assert c.get("Pod", "first").spec.node_name == "node-1"
    sc.fail_node(c, "node-1")
    c.run(until=c.now + 60.0)
    assert not _node(c, "node-1").status.ready
    on_1 = sum(p.spec.node_name == "node-1" for p in c.list("Pod"))
    on_others = min(sum(p.spec.node_name == n for p in c.list("Pod")) for n in ("node-2", "node-3"))
    assert on_1 <= on_others  # node-1 would win were it Ready
    before = CHECKED["constrained"]
    for i in range(4):
        c.apply_yaml(pod_yaml(f"late-{i}", tolerate_all))
    c.run(until=c.now + 10.0)
    assert CHECKED["constrained"] >= before + 4
    assert {c.get("Pod", f"late-{i}").spec.node_name for i in range(4)} == {"node-2", "node-3"}
    c._check()
    # recovered, it is the first choice again
    sc.recover_node(c, "node-1")
    c.run(until=c.now + 10.0)
    c.apply_yaml(pod_yaml("after", tolerate_all))
    c.run(until=c.now + 10.0)
    assert c.get("Pod", "after").spec.node_name == "node-1"
    c._check()


def test_constrained_ties_go_to_the_first_node_by_name() -> None:
    # 11 nodes: by name node-1 < node-10 < node-11 < node-2 < ...
    c = kubesim.Cluster(seed=0, nodes=11)
    spec = pod_spec_manifest({"kubernetes.io/os": "linux"}, [], None)
    for i in range(13):
        c.apply_yaml(pod_yaml(f"p-{i:02}", spec))
        c.run(until=c.now + 5.0)
    chosen = [c.get("Pod", f"p-{i:02}").spec.node_name for i in range(13)]
    by_name = sorted(f"node-{i}" for i in range(1, 12))
    assert chosen == by_name + by_name[:2]
    # a deleted pod frees its node, which is then the only least loaded one
    c.delete("Pod", "p-05", grace_period_seconds=0)
    c.run(until=c.now + 5.0)
    c.apply_yaml(pod_yaml("again", spec))
    c.run(until=c.now + 5.0)
    assert c.get("Pod", "again").spec.node_name == by_name[5]
    c._check()
