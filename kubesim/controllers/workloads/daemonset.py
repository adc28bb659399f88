"""The DaemonSet controller (``pkg/controller/daemon``: ``daemon_controller.go`` ``manage``,
``syncNodes``, ``update.go`` ``rollingUpdate``, ``util/daemonset_util.go``).

One pod per eligible node, nodes added later included. A node is eligible
(``NodeShouldRunDaemonPod``) when the pod template's ``nodeSelector`` and required node
affinity match it and its ``NoSchedule``/``NoExecute`` taints are tolerated — the template's
tolerations plus those every daemon pod gets (``AddOrUpdateDaemonPodTolerations``:
``not-ready``/``unreachable`` ``NoExecute``, ``disk-pressure``/``memory-pressure``/
``pid-pressure``/``unschedulable`` ``NoSchedule``, and ``network-unavailable`` for
``hostNetwork`` pods), so a cordoned node still runs its daemon pods. Each sync:

* a node that should run the pod and has none gets one (``generateName: <ds>-``, the labels
  ``controller-revision-hash`` and ``pod-template-generation``, a controller owner reference
  and the node-affinity term ``matchFields metadata.name In [<node>]``, which the scheduler
  binds, as upstream's ``ReplaceDaemonSetPodNodeNameNodeAffinity``); a node that should not
  run it (or runs several) has the extra pods deleted (the oldest is kept); Failed pods are
  deleted and replaced;
* ``updateStrategy: RollingUpdate`` (``maxUnavailable`` 1, ``maxSurge`` 0 by default): with
  ``maxSurge`` 0, old-revision pods are deleted while fewer than ``maxUnavailable`` of the
  desired pods are unavailable (unavailable old pods first, then by node name); the loop above
  recreates them at the new revision. With ``maxSurge`` > 0, a new pod is created beside the old
  one, which is deleted once the new one is available. ``OnDelete``: pods are replaced only
  when deleted;
* ``status`` (desired, current, misscheduled, ready, updated, available, unavailable,
  observedGeneration) is written when it changes.

Revisions are ``<hash>`` of the template and ``collisionCount`` (no ControllerRevision is
written: a documented deviation, as for the StatefulSet controller).

Cost: a sync is ``O(nodes + pods of the set)``, as upstream's.
"""

from __future__ import annotations

from collections.abc import Hashable

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.node.scheduler import node_matches_affinity, tolerates
from kubesim.controllers.runtime import ControllerContext, WorkQueue
from kubesim.controllers.workloads.common import OwnedPods, pod_event, try_delete_pod, write_status
from kubesim.controllers.workloads.common import is_available as _available
from kubesim.controllers.workloads.replicaset import controller_owner
from kubesim.controllers.workloads.revisions import pod_template_hash
from kubesim.controllers.workloads.statefulset import REVISION_LABEL
from kubesim.errors import KubesimError
from kubesim.objects import (
    Affinity,
    DaemonSet,
    DaemonSetStatus,
    IntOrString,
    Node,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodSpec,
    Toleration,
)

__all__ = [
    "DaemonSetController",
    "DaemonSetStatistics",
    "ACTOR",
    "GENERATION_LABEL",
    "daemon_pod_tolerations",
    "node_should_run_daemon_pod",
    "scaled_value",
]

ACTOR = "daemonset-controller"
#: ``extensions.DaemonSetTemplateGenerationKey`` (deprecated, still written)
GENERATION_LABEL = "pod-template-generation"

_NO_EXECUTE = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
_NO_SCHEDULE = (
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/unschedulable",
)


def daemon_pod_tolerations(spec: PodSpec) -> tuple[Toleration, ...]:
    """``AddOrUpdateDaemonPodTolerations``: the template's tolerations plus the ones every
    daemon pod gets (an existing toleration with the same key and effect is replaced)."""
    added = [Toleration(key=k, operator="Exists", effect="NoExecute") for k in _NO_EXECUTE]
    added += [Toleration(key=k, operator="Exists", effect="NoSchedule") for k in _NO_SCHEDULE]
    if spec.host_network:
        added.append(Toleration(key="node.kubernetes.io/network-unavailable", operator="Exists", effect="NoSchedule"))
    out = list(spec.tolerations)
    for t in added:
        out = [x for x in out if not (x.key == t.key and x.effect == t.effect)]
        out.append(t)
    return tuple(out)


def node_should_run_daemon_pod(node: Node, spec: PodSpec) -> bool:
    """``NodeShouldRunDaemonPod``: the template's node selector and required affinity match the
    node and every ``NoSchedule``/``NoExecute`` taint (and a cordon) is tolerated."""
    if not node_matches_affinity(spec, node.metadata.name, node.metadata.labels):
        return False
    tolerations = daemon_pod_tolerations(spec)
    taints = list(node.spec.taints)
    if node.spec.unschedulable:
        from kubesim.objects import Taint

        taints.append(Taint(key="node.kubernetes.io/unschedulable", effect="NoSchedule"))
    return all(any(tolerates(t, taint) for t in tolerations) for taint in taints
               if taint.effect in ("NoSchedule", "NoExecute"))


def scaled_value(value: IntOrString | None, total: int, *, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if value.endswith("%"):
        pct = int(value[:-1])
        return (pct * total + (99 if round_up else 0)) // 100
    return int(value)


def _pod_node(pod: Pod) -> str:
    """The node a daemon pod is for: its nodeName, else its matchFields term."""
    if pod.spec.node_name:
        return pod.spec.node_name
    a = pod.spec.affinity
    na = a.node_affinity if a is not None else None
    req = na.required_during_scheduling_ignored_during_execution if na is not None else None
    for term in req.node_selector_terms if req is not None else ():
        for r in term.match_fields:
            if r.key == "metadata.name" and r.operator == "In" and r.values:
                return r.values[0]
    return ""


@attrs.frozen
class DaemonSetStatistics:
    """Counters of the DaemonSet controller."""

    syncs: int
    pods_created: int
    pods_deleted: int
    status_writes: int


@attrs.define(eq=False)
class DaemonSetController:
    """Runs one pod of each DaemonSet per eligible node; see the module docstring."""

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    #: set key -> names of the pods it owns (by controller reference)
    _owned: OwnedPods = attrs.field(init=False, repr=False)
    _syncs: int = 0
    _created: int = 0
    _deleted: int = 0
    _status_writes: int = 0

    name = "daemonset"

    def __attrs_post_init__(self) -> None:
        self.queue = self.ctx.queue("daemonset", self.sync)
        self._owned = OwnedPods(self.ctx.api, self.queue, "DaemonSet")

    def start(self) -> None:
        self.ctx.api.watch(self._on_set, {"DaemonSet"})
        self.ctx.api.watch(self._owned.on_pod, {"Pod"})
        self.ctx.api.watch(self._on_node, {"Node"})

    def _on_set(self, ev: WatchEvent) -> None:
        self.queue.add(eu.object_key(ev.new))

    def _on_node(self, ev: WatchEvent) -> None:
        # addNode / updateNode: every DaemonSet may want (or stop wanting) a pod there
        if ev.type == "MODIFIED" and (
            ev.old.metadata.labels == ev.new.metadata.labels
            and ev.old.spec.taints == ev.new.spec.taints
            and ev.old.spec.unschedulable == ev.new.spec.unschedulable
        ):
            return
        for key in self._keys():
            self.queue.add(key)

    def _keys(self) -> list[str]:
        return sorted(eu.object_key(ds) for ds in self.ctx.api.list("DaemonSet", None))

    def _pods(self, key: str, ds: DaemonSet) -> list[Pod]:
        return self._owned.pods(key, ds)

    # ------------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        """``syncDaemonSet``: ``manage`` (create and delete per node), ``rollingUpdate``, status."""
        assert isinstance(key, str)
        self._syncs += 1
        api = self.ctx.api
        ns, name = eu.split_key(key)
        ds: DaemonSet | None = api.try_get("DaemonSet", name, ns)
        if ds is None or ds.metadata.deletion_timestamp is not None:
            return
        now = int(api.epoch + self.ctx.clock.now)
        rev = pod_template_hash(ds.spec.template, ds.status.collision_count)
        nodes: list[Node] = sorted(api.list("Node", None), key=lambda n: n.metadata.name)
        by_node: dict[str, list[Pod]] = {}
        for pod in self._pods(key, ds):
            by_node.setdefault(_pod_node(pod), []).append(pod)
        for pods in by_node.values():
            pods.sort(key=lambda p: (p.metadata.creation_timestamp or 0, p.metadata.name))
        st = ds.spec.update_strategy
        rolling = st.type in ("", "RollingUpdate")
        ru = st.rolling_update
        desired = [n for n in nodes if node_should_run_daemon_pod(n, ds.spec.template.spec)]
        desired_names = {n.metadata.name for n in desired}
        surge = scaled_value(ru.max_surge, len(desired), round_up=True) if rolling and ru is not None else 0

        # manage: podsShouldBeOnNode
        for node in nodes:
            pods = [p for p in by_node.get(node.metadata.name, []) if p.metadata.deletion_timestamp is None]
            failed = [p for p in pods if p.status.phase == "Failed"]
            for p in failed:
                self._delete(p)
            pods = [p for p in pods if p.status.phase != "Failed"]
            if node.metadata.name in desired_names:
                if not pods:
                    self._create(ds, node.metadata.name, rev)
                elif len(pods) > 1 and not (surge > 0 and self._surging(pods, rev)):
                    for p in pods[1:]:  # keep the oldest
                        self._delete(p)
            else:
                for p in pods:
                    self._delete(p)
        for node_name, pods in by_node.items():
            if node_name not in {n.metadata.name for n in nodes}:
                for p in pods:
                    if p.metadata.deletion_timestamp is None:
                        self._delete(p)

        if rolling:
            self._rolling_update(ds, rev, desired, by_node, surge, now)
        self._write_status(ds, self._status(ds, rev, nodes, desired_names, key, now))

    @staticmethod
    def _surging(pods: list[Pod], rev: str) -> bool:
        return len(pods) == 2 and {p.metadata.labels.get(REVISION_LABEL) == rev for p in pods} == {True, False}

    def _rolling_update(self, ds: DaemonSet, rev: str, desired: list[Node], by_node: dict[str, list[Pod]],
                        surge: int, now: int) -> None:
        """``rollingUpdate`` (``update.go``)."""
        ru = ds.spec.update_strategy.rolling_update
        max_unavailable = scaled_value(ru.max_unavailable if ru is not None else 1, len(desired), round_up=True)
        min_ready = ds.spec.min_ready_seconds
        if surge == 0:
            unavailable = 0
            old_available: list[Pod] = []
            for node in desired:
                pods = [p for p in by_node.get(node.metadata.name, []) if p.metadata.deletion_timestamp is None]
                if not pods:
                    unavailable += 1
                    continue
                p = pods[0]
                is_old = p.metadata.labels.get(REVISION_LABEL) != rev
                if not _available(p, min_ready, now):
                    if is_old:
                        self._delete(p)  # an unavailable old pod goes at once
                    unavailable += 1
                elif is_old:
                    old_available.append(p)
            for p in old_available:
                if unavailable >= max_unavailable:
                    break
                self._delete(p)
                unavailable += 1
            return
        # maxSurge: a new pod beside each old one, the old one deleted once the new is available
        budget = surge
        for node in desired:
            pods = [p for p in by_node.get(node.metadata.name, []) if p.metadata.deletion_timestamp is None]
            new = [p for p in pods if p.metadata.labels.get(REVISION_LABEL) == rev]
            old = [p for p in pods if p.metadata.labels.get(REVISION_LABEL) != rev]
            if not old:
                continue
            if new:
                if _available(new[0], min_ready, now):
                    for p in old:
                        self._delete(p)
                else:
                    budget -= 1
            elif budget > 0:
                self._create(ds, node.metadata.name, rev)
                budget -= 1

    def _status(self, ds: DaemonSet, rev: str, nodes: list[Node], desired: set[str], key: str,
                now: int) -> DaemonSetStatus:
        current = misscheduled = ready = updated = available = 0
        pods = [p for p in self._pods(key, ds) if p.metadata.deletion_timestamp is None]
        per_node: dict[str, list[Pod]] = {}
        for p in pods:
            per_node.setdefault(_pod_node(p), []).append(p)
        for node_name, ps in per_node.items():
            if node_name in desired:
                current += 1
                ps.sort(key=lambda p: (p.metadata.creation_timestamp or 0, p.metadata.name))
                p = ps[0]
                if any(x.metadata.labels.get(REVISION_LABEL) == rev for x in ps):
                    updated += 1
                if p.status.phase == "Running" and p.status.ready:
                    ready += 1
                if any(_available(x, ds.spec.min_ready_seconds, now) for x in ps):
                    available += 1
            else:
                misscheduled += 1
        return DaemonSetStatus(
            current_number_scheduled=current,
            number_misscheduled=misscheduled,
            desired_number_scheduled=len(desired),
            number_ready=ready,
            observed_generation=ds.metadata.generation,
            updated_number_scheduled=updated,
            number_available=available,
            number_unavailable=len(desired) - available,
            collision_count=ds.status.collision_count,
        )

    def _write_status(self, ds: DaemonSet, status: DaemonSetStatus) -> None:
        if write_status(self.ctx.api, self.queue, ds, status, ACTOR):
            self._status_writes += 1

    def _create(self, ds: DaemonSet, node: str, rev: str) -> None:
        tmpl = ds.spec.template
        spec = tmpl.spec
        term = NodeSelectorTerm(match_fields=(NodeSelectorRequirement("metadata.name", "In", (node,)),))
        affinity = spec.affinity or Affinity()
        na = affinity.node_affinity or NodeAffinity()
        affinity = attrs.evolve(affinity, node_affinity=attrs.evolve(
            na, required_during_scheduling_ignored_during_execution=NodeSelector(node_selector_terms=(term,))))
        labels = tmpl.metadata.labels.set(REVISION_LABEL, rev).set(GENERATION_LABEL, str(ds.metadata.generation))
        pod = Pod(
            metadata=ObjectMeta(
                generate_name=f"{ds.metadata.name}-",
                namespace=ds.metadata.namespace,
                labels=labels,
                annotations=tmpl.metadata.annotations,
                owner_references=(OwnerReference.controller_ref(ds),),
            ),
            spec=attrs.evolve(spec, affinity=affinity, tolerations=daemon_pod_tolerations(spec)),
        )
        try:
            created: Pod = self.ctx.api.create(pod, actor=ACTOR)
        except KubesimError as err:
            self.queue.add_after(eu.object_key(ds), 1.0)
            pod_event(self.ctx.recorder, ds, "create", "", err, ACTOR)
            return
        self._created += 1
        self._owned.add(eu.object_key(ds), created.metadata.name)
        pod_event(self.ctx.recorder, ds, "create", created.metadata.name, None, ACTOR)

    def _delete(self, pod: Pod) -> None:
        err = try_delete_pod(self.ctx.api, pod, ACTOR)
        if err is None:
            self._deleted += 1
        if self.ctx.recorder.enabled:
            ref = controller_owner(pod)
            owner = None if ref is None else self.ctx.api.try_get("DaemonSet", ref.name, pod.metadata.namespace)
            pod_event(self.ctx.recorder, owner, "delete", pod.metadata.name, err, ACTOR)

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> DaemonSetStatistics:
        """Syncs, pods created and deleted, status writes."""
        return DaemonSetStatistics(self._syncs, self._created, self._deleted, self._status_writes)

    def _check(self) -> None:
        """Every owned pod targets exactly one node by its matchFields term and carries the
        daemon tolerations."""
        self.queue._check()
        for key in self._owned.set_keys():
            ns, name = eu.split_key(key)
            ds = self.ctx.api.try_get("DaemonSet", name, ns)
            if ds is None:
                continue
            for pod in self._pods(key, ds):
                assert _pod_node(pod), pod.metadata.name
                keys = {(t.key, t.effect) for t in pod.spec.tolerations}
                assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys, pod.metadata.name
