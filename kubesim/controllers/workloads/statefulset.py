"""The StatefulSet controller (``pkg/controller/statefulset``: ``stateful_set.go``,
``stateful_set_control.go`` ``updateStatefulSet``, ``stateful_set_utils.go``).

A StatefulSet ``web`` with ``replicas: 3`` owns the pods ``web-0``, ``web-1``, ``web-2``: each
gets ``hostname: <pod name>`` and ``subdomain: <serviceName>`` (so the Endpoints and
EndpointSlices of a headless Service named ``serviceName`` carry their hostnames and DNS answers
``web-0.web.default.svc.cluster.local``), the labels ``controller-revision-hash``,
``statefulset.kubernetes.io/pod-name`` and ``apps.kubernetes.io/pod-index``, and a controller
owner reference. Each sync:

1. ``podManagementPolicy: OrderedReady`` (the default, *monotonic*): the missing ordinals are
   created in increasing order, one at a time, each only once every lower ordinal is Running
   and Ready (and available after ``minReadySeconds``); a terminating pod blocks; scale-down
   deletes the highest ordinal first, one at a time. ``Parallel``: every missing pod is created
   and every condemned pod deleted at once. A Failed or Succeeded pod is deleted (and recreated).
2. ``updateStrategy: RollingUpdate``: once every replica is Running and Ready, the pods whose
   revision is not the update revision are deleted from the highest ordinal down to
   ``partition`` (below it they keep the current revision, and are recreated with it), one at a
   time, each waiting for the previous one to be Running and Ready again. ``OnDelete``: pods
   are replaced only when the user deletes them.
3. ``status`` (replicas, ready/available/current/updated replicas, revisions,
   observedGeneration) is written when it changes; the rollout completes (``currentRevision``
   becomes the update revision) once every replica runs the update revision.

Revisions are named ``<set>-<hash>`` with the hash of the pod template and ``collisionCount``
(:func:`~kubesim.controllers.workloads.revisions.pod_template_hash`). Deviation: upstream
stores each revision as a ControllerRevision object (one write per revision); kubesim keeps
the revisions' templates in the controller and writes no ControllerRevision. Volume claim
templates are not modelled.

Cost: a sync is ``O(pods of the set)``, as upstream's (the set's pods are indexed by owner).
"""

from __future__ import annotations

from collections.abc import Hashable

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.runtime import ControllerContext, WorkQueue
from kubesim.controllers.workloads.common import (
    OwnedPods,
    stateful_pod_event,
    try_delete_pod,
    write_status,
)
from kubesim.controllers.workloads.common import is_available as _is_available
from kubesim.controllers.workloads.replicaset import controller_owner
from kubesim.controllers.workloads.revisions import pod_template_hash
from kubesim.errors import AlreadyExists, KubesimError
from kubesim.objects import (
    ObjectMeta,
    OwnerReference,
    Pod,
    PodTemplateSpec,
    StatefulSet,
    StatefulSetStatus,
)

__all__ = [
    "StatefulSetController",
    "StatefulSetStatistics",
    "ACTOR",
    "REVISION_LABEL",
    "POD_NAME_LABEL",
    "POD_INDEX_LABEL",
    "get_ordinal",
    "is_running_and_ready",
    "revision_name",
]

ACTOR = "statefulset-controller"
#: ``apps.ControllerRevisionHashLabelKey``
REVISION_LABEL = "controller-revision-hash"
#: ``apps.StatefulSetPodNameLabel``
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
#: ``apps.PodIndexLabel``
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def get_ordinal(pod: Pod, set_name: str) -> int:
    """``getOrdinal``: the ordinal of ``<set>-<n>``, ``-1`` for a name of another shape."""
    name = pod.metadata.name
    prefix = set_name + "-"
    if not name.startswith(prefix):
        return -1
    tail = name[len(prefix):]
    if not tail.isdigit() or (len(tail) > 1 and tail[0] == "0"):
        return -1
    return int(tail)


def is_running_and_ready(pod: Pod) -> bool:
    """``isRunningAndReady``: phase Running and the Ready condition True."""
    return pod.status.phase == "Running" and pod.status.ready


def revision_name(sts: StatefulSet) -> str:
    """The update revision's name: ``<set>-<hash of the template and collisionCount>``."""
    return f"{sts.metadata.name}-{pod_template_hash(sts.spec.template, sts.status.collision_count)}"


def _terminal(pod: Pod) -> bool:
    return pod.status.phase in ("Failed", "Succeeded")


@attrs.frozen
class StatefulSetStatistics:
    """Counters of the StatefulSet controller."""

    syncs: int
    pods_created: int
    pods_deleted: int
    status_writes: int


@attrs.define(eq=False)
class StatefulSetController:
    """Keeps each StatefulSet's ordinals; see the module docstring."""

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    #: set key -> names of the pods it owns (by controller reference)
    _owned: OwnedPods = attrs.field(init=False, repr=False)
    #: set key -> revision name -> its pod template (upstream's ControllerRevisions)
    _revisions: dict[str, dict[str, PodTemplateSpec]] = attrs.field(factory=dict, repr=False)
    _syncs: int = 0
    _created: int = 0
    _deleted: int = 0
    _status_writes: int = 0

    name = "statefulset"

    def __attrs_post_init__(self) -> None:
        self.queue = self.ctx.queue("statefulset", self.sync)
        self._owned = OwnedPods(self.ctx.api, self.queue, "StatefulSet")

    def start(self) -> None:
        self.ctx.api.watch(self._on_set, {"StatefulSet"})
        self.ctx.api.watch(self._owned.on_pod, {"Pod"})

    def _on_set(self, ev: WatchEvent) -> None:
        key = eu.object_key(ev.new)
        if ev.type == "DELETED":
            self._revisions.pop(key, None)
        self.queue.add(key)

    def _pods(self, key: str, sts: StatefulSet) -> list[Pod]:
        return self._owned.pods(key, sts)

    # ------------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        """``syncStatefulSet`` -> ``updateStatefulSet``."""
        assert isinstance(key, str)
        self._syncs += 1
        api = self.ctx.api
        ns, name = eu.split_key(key)
        sts: StatefulSet | None = api.try_get("StatefulSet", name, ns)
        if sts is None or sts.metadata.deletion_timestamp is not None:
            return
        now = int(api.epoch + self.ctx.clock.now)
        spec = sts.spec
        update_rev = revision_name(sts)
        revs = self._revisions.setdefault(key, {})
        revs[update_rev] = spec.template
        current_rev = sts.status.current_revision or update_rev
        if current_rev not in revs:
            current_rev = update_rev  # a revision this controller never saw (no ControllerRevision)
        replicas_n = spec.replicas if spec.replicas is not None else 1
        partition = 0
        rolling = spec.update_strategy.type in ("", "RollingUpdate")
        if rolling and spec.update_strategy.rolling_update is not None:
            partition = spec.update_strategy.rolling_update.partition or 0
        monotonic = spec.pod_management_policy != "Parallel"

        replicas: list[Pod | None] = [None] * max(replicas_n, 0)
        condemned: list[Pod] = []
        for pod in self._pods(key, sts):
            ordinal = get_ordinal(pod, name)
            if 0 <= ordinal < replicas_n:
                replicas[ordinal] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        condemned.sort(key=lambda p: get_ordinal(p, name), reverse=True)

        status = self._status(sts, [*replicas, *condemned], current_rev, update_rev, now)
        self._write_status(sts, status)

        def revision_for(ordinal: int) -> str:
            # newVersionedStatefulSetPod: below the partition the current revision
            if rolling and ordinal < partition:
                return current_rev
            return update_rev

        # first unhealthy pod: the monotonic loop stops at it
        for i in range(len(replicas)):
            slot = replicas[i]
            if slot is not None and _terminal(slot) and slot.metadata.deletion_timestamp is None:
                self._delete(slot)  # recreated below on a later sync
                if monotonic:
                    return
                continue
            if slot is None:
                replicas[i] = self._create(sts, i, revision_for(i), revs)
                if monotonic:
                    return
                continue
            pod = slot
            if monotonic and pod.metadata.deletion_timestamp is not None:
                return
            if monotonic and not _is_available(pod, spec.min_ready_seconds, now):
                return
        for pod in condemned:
            if pod.metadata.deletion_timestamp is not None:
                if monotonic:
                    return
                continue
            if monotonic and any(p is None or not is_running_and_ready(p) for p in replicas):
                return
            self._delete(pod)
            if monotonic:
                return
        if not rolling:
            return  # OnDelete: pods are replaced only when deleted
        for target in range(len(replicas) - 1, partition - 1, -1):
            slot = replicas[target]
            if slot is None:
                return
            pod = slot
            if pod.metadata.labels.get(REVISION_LABEL) != update_rev and pod.metadata.deletion_timestamp is None:
                self._delete(pod)
                return
            if not _is_available(pod, spec.min_ready_seconds, now):
                return  # wait for the updated pod to be Running and Ready

    def _status(self, sts: StatefulSet, pods: list[Pod | None], current_rev: str, update_rev: str,
                now: int) -> StatefulSetStatus:
        replicas = ready = available = current = updated = 0
        for p in pods:
            if p is None:
                continue
            replicas += 1
            if is_running_and_ready(p):
                ready += 1
                if _is_available(p, sts.spec.min_ready_seconds, now):
                    available += 1
            if p.metadata.deletion_timestamp is None:
                rev = p.metadata.labels.get(REVISION_LABEL)
                current += rev == current_rev
                updated += rev == update_rev
        n = sts.spec.replicas if sts.spec.replicas is not None else 1
        if updated == n and ready == n and replicas == n:
            # completeRollingUpdate
            current_rev, current = update_rev, updated
        return StatefulSetStatus(
            observed_generation=sts.metadata.generation,
            replicas=replicas,
            ready_replicas=ready,
            current_replicas=current,
            updated_replicas=updated,
            current_revision=current_rev,
            update_revision=update_rev,
            collision_count=sts.status.collision_count,
            available_replicas=available,
        )

    def _write_status(self, sts: StatefulSet, status: StatefulSetStatus) -> None:
        if write_status(self.ctx.api, self.queue, sts, status, ACTOR):
            self._status_writes += 1

    def _create(self, sts: StatefulSet, ordinal: int, revision: str, revs: dict[str, PodTemplateSpec]) -> Pod | None:
        """``newVersionedStatefulSetPod`` + ``CreateStatefulPod``."""
        tmpl = revs[revision]
        name = f"{sts.metadata.name}-{ordinal}"
        labels = tmpl.metadata.labels.set(REVISION_LABEL, revision).set(POD_NAME_LABEL, name).set(
            POD_INDEX_LABEL, str(ordinal))
        pod = Pod(
            metadata=ObjectMeta(
                name=name,
                namespace=sts.metadata.namespace,
                labels=labels,
                annotations=tmpl.metadata.annotations,
                owner_references=(OwnerReference.controller_ref(sts),),
            ),
            spec=attrs.evolve(tmpl.spec, hostname=name, subdomain=sts.spec.service_name),
        )
        try:
            created: Pod = self.ctx.api.create(pod, actor=ACTOR)
        except AlreadyExists:
            return None  # the previous pod of this ordinal is still being removed
        except KubesimError as err:
            self.queue.add_after(eu.object_key(sts), 1.0)
            stateful_pod_event(self.ctx.recorder, sts, "create", name, err)
            return None
        self._created += 1
        self._owned.add(eu.object_key(sts), name)
        stateful_pod_event(self.ctx.recorder, sts, "create", name, None)
        return created

    def _delete(self, pod: Pod) -> None:
        err = try_delete_pod(self.ctx.api, pod, ACTOR)
        if err is None:
            self._deleted += 1
        if self.ctx.recorder.enabled:
            ref = controller_owner(pod)
            owner = None if ref is None else self.ctx.api.try_get("StatefulSet", ref.name, pod.metadata.namespace)
            stateful_pod_event(self.ctx.recorder, owner, "delete", pod.metadata.name, err)

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> StatefulSetStatistics:
        """Syncs, pods created and deleted, status writes."""
        return StatefulSetStatistics(self._syncs, self._created, self._deleted, self._status_writes)

    def _check(self) -> None:
        """Every owned pod is named ``<set>-<ordinal>``, carries its identity (hostname,
        subdomain, pod-name and pod-index labels), and no ordinal is owned twice."""
        self.queue._check()
        for key in self._owned.set_keys():
            ns, name = eu.split_key(key)
            sts = self.ctx.api.try_get("StatefulSet", name, ns)
            if sts is None:
                continue
            seen: set[int] = set()
            for pod in self._pods(key, sts):
                ordinal = get_ordinal(pod, name)
                assert ordinal >= 0 and ordinal not in seen, pod.metadata.name
                seen.add(ordinal)
                assert pod.spec.hostname == pod.metadata.name, pod.metadata.name
                assert pod.spec.subdomain == sts.spec.service_name, pod.metadata.name
                assert pod.metadata.labels.get(POD_NAME_LABEL) == pod.metadata.name
                assert pod.metadata.labels.get(POD_INDEX_LABEL) == str(ordinal)
