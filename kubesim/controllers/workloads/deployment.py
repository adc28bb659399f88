"""The Deployment controller (``pkg/controller/deployment``).

``sync`` finds the Deployment's ReplicaSets (controller owner references), creates the new
ReplicaSet when the pod template has no matching one (``pod-template-hash``), applies one
rollout step of :func:`~kubesim.controllers.workloads.rollout.plan_deployment_sync` (RollingUpdate with
maxSurge/maxUnavailable, Recreate, proportional scaling), prunes old ReplicaSets beyond
``revisionHistoryLimit``, and writes ``status`` when it changes. ReplicaSet events requeue the
owner; pod deletions do too (Recreate waits for old pods to go).

Cost per sync: ``O(ReplicaSets of the namespace)``.
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Sequence

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.runtime import ControllerContext, WorkQueue
from kubesim.controllers.workloads.common import with_status
from kubesim.controllers.workloads.replicaset import controller_owner
from kubesim.controllers.workloads.revisions import all_old_replica_sets
from kubesim.controllers.workloads.rollout import (
    RECREATE,
    apply_scale_decision,
    calculate_deployment_status,
    effective_strategy,
    find_new_replica_set,
    is_scaling_event,
    new_replica_set,
    plan_deployment_sync,
)
from kubesim.errors import AlreadyExists, KubesimError, NotFound
from kubesim.objects import Deployment, DeploymentStatus, ReplicaSet

__all__ = ["DeploymentController", "ACTOR"]

ACTOR = "deployment-controller"

#: A ReplicaSet's name: the sort key of :meth:`DeploymentController._replica_sets`.
_NAME = operator.attrgetter("metadata.name")


@attrs.frozen
class DeploymentStatistics:
    """Counters of the Deployment controller."""

    syncs: int
    replicasets_created: int
    scale_writes: int
    status_writes: int


def _status_only(d: Deployment, written: Deployment, status: DeploymentStatus, rss: Sequence[ReplicaSet]) -> bool:
    """Whether a sync of ``written`` (what a sync of ``d`` that wrote only the status stored)
    and the same ReplicaSets ``rss`` is sure to write nothing. ``O(ReplicaSets)``.

    Such a sync reads of the Deployment its ``spec``, uid, generation, deletion mark and
    status; the spec is the same object, uid, generation and mark are the same values, and the
    status it computes is ``status``, the one ``d``'s sync computed (a function of the
    generation and the ReplicaSets), which it finds stored. The status's ``replicas`` is also read by
    proportional scaling (``get_proportion``'s fallback), which runs only for a paused
    Deployment or a scaling event: so either that value is unchanged, or neither holds."""
    if (
        written.spec is not d.spec
        or written.metadata.uid != d.metadata.uid
        or written.metadata.generation != d.metadata.generation
        or written.metadata.deletion_timestamp is not None
        or (written.status is not status and written.status != status)
    ):
        return False
    return written.status.replicas == d.status.replicas or not (d.spec.paused or is_scaling_event(d, rss))


def _to_prune(d: Deployment, rss: Sequence[ReplicaSet], new_rs: ReplicaSet | None) -> list[ReplicaSet]:
    """``cleanupDeployment``: the idle old ReplicaSets (no replicas wanted or left, not being
    deleted) beyond ``revisionHistoryLimit`` (default 10), lowest revision first.
    ``O(n log n)``; ``O(1)`` when there are no more ReplicaSets than the limit (the idle ones
    are among them, so none is in excess: most syncs)."""
    limit = d.spec.revision_history_limit if d.spec.revision_history_limit is not None else 10
    if len(rss) <= limit:
        return []
    idle = [
        rs for rs in rss
        if rs is not new_rs and (rs.spec.replicas or 0) == 0 and rs.status.replicas == 0
        and rs.metadata.deletion_timestamp is None
    ]
    excess = len(idle) - limit
    if excess <= 0:
        return []
    idle.sort(key=lambda r: (int(r.metadata.annotations.get("deployment.kubernetes.io/revision", "0") or 0), r.metadata.name))
    return idle[:excess]


@attrs.define(eq=False)
class DeploymentController:
    """Rolls Deployments out through ReplicaSets."""

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    #: key -> ``(Deployment, *ReplicaSets)``: the objects a RollingUpdate sync that wrote
    #: nothing started from (see :meth:`sync`)
    _quiet: dict[str, tuple[Deployment, tuple[ReplicaSet, ...]]] = attrs.field(factory=dict, repr=False)
    _syncs: int = 0
    _rs_created: int = 0
    _scales: int = 0
    _status_writes: int = 0
    _writes: int = 0  # writes tried (creates, scales, deletes, status writes), for _quiet

    name = "deployment"

    def __attrs_post_init__(self) -> None:
        self.queue = self.ctx.queue("deployment", self.sync)

    def start(self) -> None:
        self.ctx.api.watch(self._on_deployment, {"Deployment"})
        self.ctx.api.watch(self._on_rs, {"ReplicaSet"})
        self.ctx.api.watch(self._on_pod, {"Pod"})

    def _on_deployment(self, ev: WatchEvent) -> None:
        meta = ev.new.metadata
        self.queue.add(f"{meta.namespace}/{meta.name}")  # eu.object_key, inlined

    def _on_rs(self, ev: WatchEvent) -> None:
        """Requeue the Deployment that controls the ReplicaSet, if one does. ``O(owner
        references)``."""
        meta = ev.new.metadata
        for ref in meta.owner_references:  # controller_owner, inlined
            if ref.controller:
                if ref.kind == "Deployment":
                    self.queue.add(f"{meta.namespace}/{ref.name}")
                return

    def _on_pod(self, ev: WatchEvent) -> None:
        if ev.type != "DELETED":
            return
        ref = controller_owner(ev.new)
        if ref is None or ref.kind != "ReplicaSet":
            return
        rs = self.ctx.api.try_get("ReplicaSet", ref.name, ev.new.metadata.namespace)
        if rs is None:
            return
        dref = controller_owner(rs)
        if dref is not None and dref.kind == "Deployment":
            self.queue.add(f"{rs.metadata.namespace}/{dref.name}")

    def _replica_sets(self, d: Deployment) -> list[ReplicaSet]:
        """The ReplicaSets ``d`` controls (a ``controller: true`` owner reference with its uid),
        by name. ``O(ReplicaSets of the namespace)``, sorted in place by a C key (names are
        unique in a namespace, so the order is the one ``sorted`` by name gives)."""
        uid = d.metadata.uid
        out = []
        for rs in self.ctx.api.list_namespace("ReplicaSet", d.metadata.namespace).values():
            for ref in rs.metadata.owner_references:  # controller_owner, inlined
                if ref.controller:
                    if ref.uid == uid:
                        out.append(rs)
                    break
        if len(out) > 1:
            out.sort(key=_NAME)
        return out

    def _old_pods_running(self, d: Deployment, old: list[ReplicaSet]) -> bool:
        names = {rs.metadata.name for rs in old}
        for pod in self.ctx.api.list_namespace("Pod", d.metadata.namespace).values():
            ref = controller_owner(pod)
            if (
                ref is not None
                and ref.kind == "ReplicaSet"
                and ref.name in names
                and pod.status.phase not in ("Succeeded", "Failed")
            ):
                return True
        return False

    def sync(self, key: Hashable) -> None:
        """``syncDeployment``.

        The new ReplicaSet (:func:`find_new_replica_set`) is looked up once, when the sync has
        its ReplicaSets: scale decisions change sizes and annotations, never a template or a
        creation time, so it stays the same ReplicaSet (by name) for the rest of the sync.

        A sync that starts from the very objects (by identity) a sync of the same key started
        from and wrote nothing, returns at once: for a ``RollingUpdate`` Deployment (or a
        paused one, or a scaling event) everything a sync decides is a function of the
        Deployment and its ReplicaSets alone — no clock, no pods, no other object — and the
        objects are frozen, so it would again decide nothing. (``Recreate`` also reads the
        pods and requeues itself, so it always runs in full.) About half of a rollout's syncs
        are such repeats: the follow-up of the controller's own status write, and the pod
        deletions, which requeue every Deployment for ``Recreate``'s sake. ``O(ReplicaSets of
        the namespace)`` then.
        """
        assert isinstance(key, str)
        self._syncs += 1
        api = self.ctx.api
        ns, _, name = key.partition("/")  # eu.split_key, inlined
        d: Deployment | None = api.try_get("Deployment", name, ns)
        if d is None or d.metadata.deletion_timestamp is not None:
            self._quiet.pop(key, None)
            return
        rss = self._replica_sets(d)
        quiet = self._quiet.get(key)
        if (
            quiet is not None
            and quiet[0] is d
            and len(quiet[1]) == len(rss)
            and all(map(operator.is_, quiet[1], rss))
        ):
            return
        start = tuple(rss)
        writes = self._writes
        self._quiet.pop(key, None)
        new_rs = find_new_replica_set(d, rss)
        all_old = all_old_replica_sets(rss, new_rs)
        recreate = effective_strategy(d).type == RECREATE
        old_running = self._old_pods_running(d, all_old) if recreate else False
        if (new_rs is None and not d.spec.paused) and (
            not recreate or (not old_running and all((rs.spec.replicas or 0) == 0 for rs in all_old))
        ):
            wanted = new_replica_set(d, all_old)
            rec = self.ctx.recorder
            self._writes += 1
            try:
                created = api.create(wanted, actor=ACTOR)
                self._rs_created += 1
                rss = rss + [created]
            except AlreadyExists:
                rss = self._replica_sets(d)
            except KubesimError as err:
                if rec.enabled:
                    rec.event(d, "Warning", "FailedCreate",
                              f'Failed to create new replica set "{wanted.metadata.name}": {err}', component=ACTOR)
                raise
            else:
                n = created.spec.replicas or 0
                if rec.enabled and n > 0:
                    # getNewReplicaSet (pkg/controller/deployment/sync.go)
                    rec.event(d, "Normal", "ScalingReplicaSet",
                              f"Scaled up replica set {created.metadata.name} from 0 to {n}", component=ACTOR)
            new_rs = find_new_replica_set(d, rss)
        decisions = plan_deployment_sync(d, rss, old_pods_running=old_running, new_rs=new_rs)
        by_name = {rs.metadata.name: rs for rs in rss}
        for dec in decisions:
            rs = by_name.get(dec.rs_name)
            if rs is None:
                continue
            updated = apply_scale_decision(rs, dec)
            if updated.metadata is rs.metadata and updated.spec is rs.spec:
                continue  # updated == rs: apply_scale_decision keeps a part exactly when it is unchanged
            self._writes += 1
            by_name[dec.rs_name] = api.update(updated, actor=ACTOR)  # an error: the queue retries
            self._scales += 1
            before, after = rs.spec.replicas or 0, updated.spec.replicas or 0
            rec = self.ctx.recorder
            if rec.enabled and before != after:
                # scaleReplicaSet (pkg/controller/deployment/sync.go)
                rec.event(d, "Normal", "ScalingReplicaSet",
                          f"Scaled {'up' if before < after else 'down'} replica set {dec.rs_name} from {before} to {after}",
                          component=ACTOR)
        rss = list(by_name.values())
        if new_rs is not None:
            new_rs = by_name[new_rs.metadata.name]
        if recreate and decisions == [] and new_rs is None and not old_running:
            self.queue.add(key)
        self._cleanup(d, rss, new_rs)
        status = calculate_deployment_status(d, rss, new_rs)
        if status is not d.status:  # the stored status itself when unchanged
            self._writes += 1
            written = api.update(with_status(d, status), actor=ACTOR)
            self._status_writes += 1
            if self._writes == writes + 1 and not recreate and _status_only(d, written, status, start):
                self._quiet[key] = (written, start)
        elif self._writes == writes and not recreate:
            self._quiet[key] = (d, start)

    def _cleanup(self, d: Deployment, rss: list[ReplicaSet], new_rs: ReplicaSet | None) -> None:
        for rs in _to_prune(d, rss, new_rs):
            self._writes += 1
            try:
                self.ctx.api.delete("ReplicaSet", rs.metadata.name, rs.metadata.namespace, actor=ACTOR)
            except NotFound:
                pass

    def statistics(self) -> DeploymentStatistics:
        """Syncs, ReplicaSets created, scale writes, status writes."""
        return DeploymentStatistics(self._syncs, self._rs_created, self._scales, self._status_writes)

    def _check(self) -> None:
        """A sync from a recorded fixed point (``_quiet``) of a Deployment still stored with
        those ReplicaSets would write nothing: no ReplicaSet to create, no scale that changes
        one, none to prune, the status as stored."""
        self.queue._check()
        for key, (d, rss) in self._quiet.items():
            ns, name = eu.split_key(key)
            if self.ctx.api.try_get("Deployment", name, ns) is not d:
                continue
            now = self._replica_sets(d)
            if len(now) != len(rss) or not all(map(operator.is_, now, rss)):
                continue
            assert effective_strategy(d).type != RECREATE and d.metadata.deletion_timestamp is None, key
            new_rs = find_new_replica_set(d, rss)
            assert new_rs is not None or d.spec.paused, key
            for dec in plan_deployment_sync(d, rss, new_rs=new_rs):
                rs = next(r for r in rss if r.metadata.name == dec.rs_name)
                assert apply_scale_decision(rs, dec) == rs, key
            assert calculate_deployment_status(d, rss, new_rs) is d.status, key
            assert not _to_prune(d, rss, new_rs), key
