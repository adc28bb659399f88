"""The ReplicaSet controller (``pkg/controller/replicaset/replica_set.go``).

``sync`` counts the ReplicaSet's active pods, creates (``generateName: <rs>-``, the template's
labels and spec, a controller owner reference) or deletes (ranked as ``ActivePodsWithRanks``)
at most ``burstReplicas`` (500) pods per sync, and writes ``status`` when it changes. Pod
events requeue the owner at once; a pod that became ready requeues it again after
``minReadySeconds`` so availability is observed, as upstream does.

Cost per pod event: ``O(log n)``. The status comes from running counts, and the pods to delete
from :class:`~kubesim.controllers.workloads.ranking.DeletionRanking`, which keeps every ReplicaSet's
active pods in deletion order (a scale-down by ``k`` costs ``O(k log n)``, not a sort). The
ranking sees each pod as the controller's watch last delivered it (upstream ranks its informer
cache's pods); ``full_ranking=True`` sorts the store's current pods instead, which differs only
while a ``FaultPlan(watch_delay=...)`` holds events back.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import attrs
from sortedcontainers import SortedList

from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.runtime import ControllerContext, WorkQueue
from kubesim.controllers.workloads.common import pod_event, with_status
from kubesim.controllers.workloads.ranking import DeletionRanking
from kubesim.controllers.workloads.rollout import (
    calculate_replica_set_status,
    get_pods_to_delete,
    is_pod_active,
    node_pod_counts_of,
    rank_pods_for_deletion,
    replicas_diff,
)
from kubesim.errors import KubesimError, NotFound
from kubesim.objects import (
    ObjectMeta,
    OwnerReference,
    Pod,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetStatus,
)

__all__ = ["ReplicaSetController", "ACTOR", "controller_owner"]

ACTOR = "replicaset-controller"


def controller_owner(obj: Any) -> OwnerReference | None:
    """The ``controller: true`` owner reference of ``obj``, if any."""
    for ref in obj.metadata.owner_references:
        if ref.controller:
            owner: OwnerReference = ref
            return owner
    return None


@attrs.frozen
class ReplicaSetStatistics:
    """Counters of the ReplicaSet controller."""

    syncs: int
    pods_created: int
    pods_deleted: int
    status_writes: int


#: The size at which the ``ownerReferences`` -> ReplicaSet key memo is cleared wholesale.
_KEYS_LIMIT = 4096

#: The contribution of an inactive pod.
_INACTIVE: tuple[bool, bool, bool, float | None] = (False, False, False, None)


@attrs.define(eq=False)
class _OwnedPods:
    """The pods one ReplicaSet owns, with running status counts (so a pod event costs
    ``O(log n)``, not a recount): each pod's contribution ``(active, fully labeled, ready,
    ready since)`` is kept, subtracted and re-added as the pod changes.

    The controller records its own creates and deletes at once (upstream's *expectations*), and
    every entry remembers the resourceVersion it came from, so a watch event that arrives late
    (``FaultPlan(watch_delay=...)``) never rolls an entry back."""

    template_labels: Any
    pods: dict[str, tuple[tuple[bool, bool, bool, float | None], int]] = attrs.field(factory=dict)
    gone: dict[str, int] = attrs.field(factory=dict)  # name -> resourceVersion of its deletion
    active: int = 0
    fully: int = 0
    ready: int = 0
    ready_since: SortedList[Any] = attrs.field(factory=SortedList)
    #: the ReplicaSet's ``ownerReferences`` tuple its ranking family was last set from (the
    #: family is a function of it, so a sync that sees the same tuple need not set it again)
    owners: tuple[OwnerReference, ...] | None = None
    #: ``(template, ReplicaSet uid, the pod to create)``: see :meth:`ReplicaSetController._create_pod`
    proto: tuple[PodTemplateSpec, str, Pod] | None = None
    #: ``(ReplicaSet, active, fully, ready)``: the ReplicaSet and the counts from which a sync
    #: is known to write nothing (see :meth:`ReplicaSetController.sync`)
    quiet: tuple[ReplicaSet, int, int, int] | None = None

    def _apply(self, c: tuple[bool, bool, bool, float | None], sign: int) -> None:
        active, fully, ready, since = c
        self.active += sign * active
        self.fully += sign * fully
        self.ready += sign * ready
        if ready and since is not None:
            if sign > 0:
                self.ready_since.add(since)
            else:
                self.ready_since.remove(since)

    def contribution(self, pod: Pod) -> tuple[bool, bool, bool, float | None]:
        """``(active, fully labeled, ready, ready since)`` of ``pod``: ``is_pod_active``, every
        template label carried (at once when the pod carries the template's own label map, as
        the pods this controller creates do), the ``Ready`` condition ``True`` and its
        transition time, read in one pass over the conditions. ``O(labels + conditions)``."""
        if not is_pod_active(pod):
            return _INACTIVE
        labels = pod.metadata.labels
        tl = self.template_labels
        fully = labels is tl or all(labels.get(k) == v for k, v in tl.items())
        for cond in pod.status.conditions:
            if cond.type == "Ready":
                if cond.status != "True":
                    break
                t = cond.last_transition_time
                return True, fully, True, None if t is None else float(t)
        return True, fully, False, None

    def put(self, pod: Pod) -> tuple[bool, bool, bool, float | None] | None:
        """Take ``pod``'s state, and return its contribution; ``None`` if the entry already
        reflects a newer one."""
        name = pod.metadata.name
        rv = int(pod.metadata.resource_version or 0)
        old = self.pods.get(name)
        if (old is not None and old[1] >= rv) or self.gone.get(name, -1) >= rv:
            return None  # a late event: the entry already reflects a newer state
        c = self.contribution(pod)
        self.pods[name] = (c, rv)
        if old is None:
            self._apply(c, +1)
            return c
        was = old[0]
        if was == c:
            return c  # the counts stand (most events after a pod is ready)
        self._apply(was, -1)
        self._apply(c, +1)
        return c

    def drop(self, name: str, rv: int) -> None:
        self.gone[name] = max(rv, self.gone.get(name, -1))
        old = self.pods.pop(name, None)
        if old is not None:
            self._apply(old[0], -1)

    def status(self, rs: ReplicaSet, now: float) -> ReplicaSetStatus:
        """Equal to ``calculate_replica_set_status(rs, active pods, now)``. ``O(log n)``; the
        stored ``rs.status`` itself when it is equal (no object built: most syncs write no
        status)."""
        mrs = rs.spec.min_ready_seconds
        available = self.ready if mrs == 0 else self.ready_since.bisect_left(now - mrs)
        old = rs.status
        generation = rs.metadata.generation
        if (
            old.replicas == self.active
            and old.fully_labeled_replicas == self.fully
            and old.ready_replicas == self.ready
            and old.available_replicas == available
            and old.observed_generation == generation
        ):
            return old
        return ReplicaSetStatus(
            replicas=self.active,
            fully_labeled_replicas=self.fully,
            ready_replicas=self.ready,
            available_replicas=available,
            observed_generation=generation,
        )


def _status_only(rs: ReplicaSet, written: ReplicaSet, status: ReplicaSetStatus) -> bool:
    """Whether ``written`` (what a sync of ``rs`` that wrote only the status stored) differs
    from ``rs`` in nothing a sync reads but that status: the same spec and ownerReferences
    objects (the template's labels, the replicas, the owner), the same generation and
    deletion mark, and ``status`` stored as sent. ``O(1)``."""
    wm, m = written.metadata, rs.metadata
    return (
        written.spec is rs.spec
        and wm.owner_references is m.owner_references
        and wm.generation == m.generation
        and wm.deletion_timestamp == m.deletion_timestamp
        and (written.status is status or written.status == status)
    )


@attrs.define(eq=False)
class ReplicaSetController:
    """Keeps each ReplicaSet's pod count at ``spec.replicas``."""

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    _owned: dict[str, _OwnedPods] = attrs.field(factory=dict, repr=False)  # rs key -> its pods
    _ranking: DeletionRanking = attrs.field(factory=DeletionRanking, repr=False)
    #: ``id(ownerReferences) -> (ownerReferences, namespace, ReplicaSet key or None)``: :meth:`_rs_key`
    _keys: dict[int, tuple[tuple[OwnerReference, ...], str, str | None]] = attrs.field(factory=dict, repr=False)
    #: Rank by sorting all pods on every scale-down (getPodsToDelete as written): the oracle
    #: the incremental ranking is tested against.
    full_ranking: bool = attrs.field(default=False, kw_only=True)
    _created: int = 0
    _deleted: int = 0
    _status_writes: int = 0
    _syncs: int = 0

    name = "replicaset"

    def __attrs_post_init__(self) -> None:
        self.queue = self.ctx.queue("replicaset", self.sync)

    def start(self) -> None:
        self.ctx.api.watch(self._on_rs, {"ReplicaSet"})
        self.ctx.api.watch(self._on_pod, {"Pod"})

    def _on_rs(self, ev: WatchEvent) -> None:
        meta = ev.new.metadata
        key = f"{meta.namespace}/{meta.name}"  # eu.object_key, inlined
        if ev.type == "DELETED":
            self._owned.pop(key, None)
            self._ranking.drop_replica_set(key)  # its pods no longer count as related
        self.queue.add(key)

    def _rs_key(self, pod: Pod) -> str | None:
        """The key of the ReplicaSet that controls ``pod``, or ``None``, computed and
        remembered in ``_keys``; :meth:`_on_pod` probes that memo and calls this on a miss.
        The answer is a function of the (frozen) ``ownerReferences`` tuple and the namespace,
        remembered by the tuple's identity (the memo holds the tuple, so its id is not reused
        while remembered). Every pod this controller creates carries its ReplicaSet's one
        tuple (:meth:`_create_pod`), and a status write or a bind carries it over, so a
        rollout's pod events look one entry up. ``O(owner references)``."""
        meta = pod.metadata
        refs = meta.owner_references
        ref = controller_owner(pod)
        key = None if ref is None or ref.kind != "ReplicaSet" else f"{meta.namespace}/{ref.name}"
        if len(self._keys) >= _KEYS_LIMIT:
            self._keys.clear()
        self._keys[id(refs)] = (refs, meta.namespace, key)
        return key

    def _index(self, key: str) -> _OwnedPods:
        idx = self._owned.get(key)
        if idx is None:
            ns, name = eu.split_key(key)
            rs = self.ctx.api.try_get("ReplicaSet", name, ns)
            labels = rs.spec.template.metadata.labels if rs is not None else {}
            idx = self._owned[key] = _OwnedPods(labels)
            self._ranking.set_family(key, self._family(key, rs))
        return idx

    @staticmethod
    def _family(key: str, rs: ReplicaSet | None) -> Hashable:
        # Related pods (getPodsToDelete's ranks) are those of every ReplicaSet with the same
        # controller owner; a ReplicaSet without one is related to itself only.
        owner = None if rs is None else controller_owner(rs)
        return ("rs", key) if owner is None else ("owner", owner.uid)

    def _put(self, key: str, idx: _OwnedPods, pod: Pod) -> tuple[bool, bool, bool, float | None] | None:
        c = idx.put(pod)
        if c is not None:
            self._ranking.put(key, pod, self.ctx.api.epoch + self.ctx.clock.now, active=c[0])
        return c

    def _drop(self, key: str, idx: _OwnedPods, name: str, rv: int) -> None:
        idx.drop(name, rv)
        self._ranking.drop(key, name)

    def _on_pod(self, ev: WatchEvent) -> None:
        """Take the pod's state into its ReplicaSet's counts and ranking and requeue the
        ReplicaSet (again just after ``minReadySeconds`` when the pod turned ready).
        ``O(log n)``; the ReplicaSet key is looked up in :meth:`_rs_key`'s memo, and computed
        by it on a miss."""
        pod: Pod = ev.new
        meta = pod.metadata
        refs = meta.owner_references
        hit = self._keys.get(id(refs))
        key = hit[2] if hit is not None and hit[0] is refs and hit[1] == meta.namespace else self._rs_key(pod)
        if key is None:
            return
        idx = self._owned.get(key) or self._index(key)
        if ev.type == "DELETED":
            self._drop(key, idx, meta.name, int(meta.resource_version or 0))
            self.queue.add(key)
            return
        c = idx.put(pod)  # self._put, inlined
        if c is not None:
            self._ranking.put(key, pod, self.ctx.api.epoch + self.ctx.clock.now, active=c[0])
        self.queue.add(key)
        # ``pod.status.ready`` is the contribution's ready when the pod is active (one rule)
        if ev.type == "MODIFIED" and (c[2] if c is not None and c[0] else pod.status.ready) and not ev.old.status.ready:
            rs = self.ctx.api.try_get("ReplicaSet", key.split("/", 1)[1], pod.metadata.namespace)
            if rs is not None and rs.spec.min_ready_seconds > 0:
                self.queue.add_after(key, rs.spec.min_ready_seconds + 1.0)

    def _pods(self, key: str) -> list[Pod]:
        """The ReplicaSet's pods, in creation order (deterministic). ``O(n)``: only a
        scale-down needs them."""
        ns, _ = eu.split_key(key)
        pods = self.ctx.api.list_namespace("Pod", ns)
        idx = self._owned.get(key)
        return [] if idx is None else [pods[n] for n in idx.pods if n in pods]

    def sync(self, key: Hashable) -> None:
        """``syncReplicaSet``.

        A sync that finds the very ReplicaSet object (by identity) and the same counts
        (``active``, ``fully``, ``ready``) as a known fixed point returns at once
        (``idx.quiet``): with
        ``minReadySeconds`` 0 a sync that creates and deletes nothing is a function of the
        (frozen) ReplicaSet and the counts alone — no clock, no ranking — so it would again
        write nothing. A fixed point is the start of a sync that wrote nothing, or the end of
        one that wrote only the status, when the stored ReplicaSet differs from the one it
        started from in nothing the sync reads but the status it computed and wrote (which it
        would compute again, and find stored). Most syncs are such repeats: a pod event that
        changes no count (a bind, a container starting), and the follow-up of the
        controller's own status write. ``O(1)`` then.

        The end of a sync that created or deleted pods is a fixed point too when those writes
        brought the counts to ``spec.replicas`` (its creations and deletions are already in
        the counts, as upstream's expectations): a sync from there creates and deletes
        nothing, and computes the status this one computed (a function of the ReplicaSet and
        the counts) and wrote, or found stored. The watch events of its own writes then
        requeue it into an ``O(1)`` return, unless they change a count.
        """
        assert isinstance(key, str)
        self._syncs += 1
        api = self.ctx.api
        ns, _, name = key.partition("/")
        rs: ReplicaSet | None = api.try_get("ReplicaSet", name, ns)
        if rs is None:
            return
        idx = self._owned.get(key)
        if idx is not None:
            quiet = idx.quiet
            if (
                quiet is not None and quiet[0] is rs
                and quiet[1] == idx.active and quiet[2] == idx.fully and quiet[3] == idx.ready
            ):
                return
        else:
            idx = self._index(key)
        now = api.epoch + self.ctx.clock.now  # virtual time stands still during a sync
        labels = rs.spec.template.metadata.labels
        rebuild = idx.template_labels is not labels and idx.template_labels != labels
        if rebuild:
            idx = self._owned[key] = _OwnedPods(rs.spec.template.metadata.labels)
            self._ranking.drop_replica_set(key)
        owners = rs.metadata.owner_references
        if owners is not idx.owners:  # the owner may have changed (a new idx has no tuple yet)
            self._ranking.set_family(key, self._family(key, rs))
            idx.owners = owners
        if rebuild:
            for pod in self._all_owned(rs):
                self._put(key, idx, pod)
        diff = 0
        if rs.metadata.deletion_timestamp is None:
            diff = replicas_diff(rs, idx.active)
            if diff > 0:
                for _ in range(diff):
                    self._put(key, idx, self._create_pod(rs, idx))  # expect our own creation
            elif diff < 0:
                if -diff >= idx.active:
                    # all of them: no ranking, in creation order (as getPodsToDelete)
                    doomed = [p for p in self._pods(key) if is_pod_active(p)]
                elif self.full_ranking:
                    active = [p for p in self._pods(key) if is_pod_active(p)]
                    doomed = get_pods_to_delete(active, self._related_pods(rs), -diff, now=now)
                else:
                    doomed = self._ranking.smallest(key, -diff, now)
                rec = self.ctx.recorder
                for pod in doomed:
                    try:
                        last = api.delete("Pod", pod.metadata.name, ns, actor=ACTOR)
                    except NotFound:
                        continue  # already gone (DeletePod records nothing)
                    except KubesimError as err:
                        pod_event(rec, rs, "delete", pod.metadata.name, err, ACTOR)
                        raise
                    self._deleted += 1
                    pod_event(rec, rs, "delete", pod.metadata.name, None, ACTOR)
                    # expect our own deletion: marked terminating, or gone at once
                    if api.try_get("Pod", pod.metadata.name, ns) is None:
                        self._drop(key, idx, pod.metadata.name, int(last.metadata.resource_version or 0))
                    else:
                        self._put(key, idx, last)
        status = idx.status(rs, now)
        # a sync from the end state creates and deletes nothing (see the docstring)
        fixed = rs.spec.min_ready_seconds == 0 and (diff == 0 or replicas_diff(rs, idx.active) == 0)
        if status is not rs.status:
            written = api.update(with_status(rs, status), actor=ACTOR)
            self._status_writes += 1
            if fixed and _status_only(rs, written, status):
                idx.quiet = (written, idx.active, idx.fully, idx.ready)
        elif fixed:
            idx.quiet = (rs, idx.active, idx.fully, idx.ready)

    def _all_owned(self, rs: ReplicaSet) -> list[Pod]:
        ns = rs.metadata.namespace
        return [
            p for p in self.ctx.api.list_namespace("Pod", ns).values()
            if (ref := controller_owner(p)) is not None and ref.kind == "ReplicaSet" and ref.name == rs.metadata.name
        ]

    def _related_pods(self, rs: ReplicaSet) -> list[Pod]:
        owner = controller_owner(rs)
        if owner is None:
            return [p for p in self._pods(eu.object_key(rs)) if is_pod_active(p)]
        out: list[Pod] = []
        for other in self.ctx.api.list_namespace("ReplicaSet", rs.metadata.namespace).values():
            o = controller_owner(other)
            if o is not None and o.uid == owner.uid:
                out.extend(p for p in self._pods(eu.object_key(other)) if is_pod_active(p))
        return out

    def _create_pod(self, rs: ReplicaSet, idx: _OwnedPods) -> Pod:
        """Create one pod of ``rs`` (``generateName: <rs>-``, the template's labels,
        annotations and spec, a controller owner reference) and record the Event.

        The pod to create is the same for every pod of one template of one ReplicaSet, so it is
        built once and kept in ``idx.proto`` while ``rs.spec.template`` is the same object and
        the ReplicaSet the same uid (its name, namespace and owner reference follow from the
        uid). The API server stores a stamped copy and never changes what it is given (API
        objects are frozen), so every create sends what a freshly built pod would be, equal
        field for field; sharing it also shares its parts (the owner reference tuple, the empty
        status) by identity, which the wire's size caches and :meth:`_rs_key` find by identity.
        ``O(1)`` plus the write."""
        tmpl = rs.spec.template
        uid = rs.metadata.uid
        proto = idx.proto
        if proto is not None and proto[0] is tmpl and proto[1] == uid:
            pod = proto[2]
        else:
            pod = Pod(
                metadata=ObjectMeta(
                    generate_name=f"{rs.metadata.name}-",
                    namespace=rs.metadata.namespace,
                    labels=tmpl.metadata.labels,
                    annotations=tmpl.metadata.annotations,
                    owner_references=(
                        OwnerReference.controller_ref(rs),
                    ),
                ),
                spec=tmpl.spec,
            )
            idx.proto = (tmpl, uid, pod)
        try:
            created: Pod = self.ctx.api.create(pod, actor=ACTOR)
        except KubesimError as err:
            pod_event(self.ctx.recorder, rs, "create", "", err, ACTOR)
            raise  # the queue retries
        self._created += 1
        pod_event(self.ctx.recorder, rs, "create", created.metadata.name, None, ACTOR)
        return created

    def statistics(self) -> ReplicaSetStatistics:
        """Syncs, pods created and deleted, status writes."""
        return ReplicaSetStatistics(self._syncs, self._created, self._deleted, self._status_writes)

    def _check(self) -> None:
        """The running counts equal a recount (``calculate_replica_set_status``), and a sync
        from a recorded fixed point (``quiet``) would write nothing."""
        self.queue._check()
        now = self.ctx.api.epoch + self.ctx.clock.now
        for key, idx in self._owned.items():
            ns, name = eu.split_key(key)
            rs = self.ctx.api.try_get("ReplicaSet", name, ns)
            if rs is None or idx.template_labels != rs.spec.template.metadata.labels:
                continue
            active = [p for p in self._pods(key) if is_pod_active(p)]
            assert idx.status(rs, now) == calculate_replica_set_status(rs, active, now), key
            if idx.quiet is not None and idx.quiet[0] is rs and idx.quiet[1:] == (idx.active, idx.fully, idx.ready):
                assert rs.spec.min_ready_seconds == 0 and idx.owners is rs.metadata.owner_references, key
                assert rs.metadata.deletion_timestamp is not None or replicas_diff(rs, idx.active) == 0, key
                assert idx.status(rs, now) is rs.status, key
            # the deletion order equals getPodsToDelete's full ranking over a recount
            counts = node_pod_counts_of(self._related_pods(rs))
            assert self._ranking.active(key) == len(active), key
            expected = rank_pods_for_deletion(active, node_pod_counts=counts, now=now)
            got = self._ranking.smallest(key, len(active), now)
            assert [p.metadata.name for p in got] == [p.metadata.name for p in expected], key
        self._ranking._check()
