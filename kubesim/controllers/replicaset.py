"""The ReplicaSet controller (``pkg/controller/replicaset/replica_set.go``).

``sync`` counts the ReplicaSet's active pods, creates (``generateName: <rs>-``, the template's
labels and spec, a controller owner reference) or deletes (ranked as ``ActivePodsWithRanks``)
at most ``burstReplicas`` (500) pods per sync, and writes ``status`` when it changes. Pod
events requeue the owner at once; a pod that became ready requeues it again after
``minReadySeconds`` so availability is observed, as upstream does.

Cost per sync: ``O(pods owned by the ReplicaSet)`` (plus ranking on scale-down).
"""

from __future__ import annotations

from typing import Any, Hashable

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.rollout import (
    calculate_replica_set_status,
    get_pods_to_delete,
    is_pod_active,
    replicas_diff,
)
from kubesim.controllers.runtime import ControllerContext, WorkQueue
from kubesim.errors import NotFound
from kubesim.objects import ObjectMeta, OwnerReference, Pod, ReplicaSet

__all__ = ["ReplicaSetController", "ACTOR", "controller_owner"]

ACTOR = "replicaset-controller"


def controller_owner(obj: Any) -> OwnerReference | None:
    """The ``controller: true`` owner reference of ``obj``, if any."""
    for ref in obj.metadata.owner_references:
        if ref.controller:
            return ref
    return None


@attrs.frozen
class ReplicaSetStatistics:
    """Counters of the ReplicaSet controller."""

    syncs: int
    pods_created: int
    pods_deleted: int
    status_writes: int


@attrs.define(eq=False)
class ReplicaSetController:
    """Keeps each ReplicaSet's pod count at ``spec.replicas``."""

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    _owned: dict[str, dict[str, None]] = attrs.field(factory=dict, repr=False)  # rs key -> pod names
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
        key = eu.object_key(ev.new)
        if ev.type == "DELETED":
            self._owned.pop(key, None)
        self.queue.add(key)

    def _rs_key(self, pod: Pod) -> str | None:
        ref = controller_owner(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return None
        return f"{pod.metadata.namespace}/{ref.name}"

    def _on_pod(self, ev: WatchEvent) -> None:
        pod: Pod = ev.new
        key = self._rs_key(pod)
        if key is None:
            return
        if ev.type == "DELETED":
            self._owned.get(key, {}).pop(pod.metadata.name, None)
        else:
            self._owned.setdefault(key, {})[pod.metadata.name] = None
        self.queue.add(key)
        if ev.type == "MODIFIED" and not ev.old.status.ready and pod.status.ready:
            rs = self.ctx.api.try_get("ReplicaSet", key.split("/", 1)[1], pod.metadata.namespace)
            if rs is not None and rs.spec.min_ready_seconds > 0:
                self.queue.add_after(key, rs.spec.min_ready_seconds + 1.0)

    def _pods(self, key: str) -> list[Pod]:
        ns, _ = eu.split_key(key)
        pods = self.ctx.api.list_namespace("Pod", ns)
        # _owned keeps creation order, which is deterministic: no sort needed.
        return [pods[n] for n in self._owned.get(key, {}) if n in pods]

    def sync(self, key: Hashable) -> None:
        """``syncReplicaSet``."""
        assert isinstance(key, str)
        self._syncs += 1
        api = self.ctx.api
        ns, name = eu.split_key(key)
        rs: ReplicaSet | None = api.try_get("ReplicaSet", name, ns)
        if rs is None:
            return
        active = [p for p in self._pods(key) if is_pod_active(p)]
        if rs.metadata.deletion_timestamp is None:
            diff = replicas_diff(rs, len(active))
            if diff > 0:
                for _ in range(diff):
                    self._create_pod(rs)
            elif diff < 0:
                related = self._related_pods(rs)
                now = api.epoch + self.ctx.clock.now
                for pod in get_pods_to_delete(active, related, -diff, now=now):
                    try:
                        api.delete("Pod", pod.metadata.name, ns, actor=ACTOR)
                    except NotFound:
                        continue  # already gone
                    self._deleted += 1
            active = [p for p in self._pods(key) if is_pod_active(p)]
        now = api.epoch + self.ctx.clock.now
        status = calculate_replica_set_status(rs, active, now)
        if status != rs.status:
            api.update(
                attrs.evolve(rs, metadata=attrs.evolve(rs.metadata, resource_version=""), status=status),
                actor=ACTOR,
            )
            self._status_writes += 1

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

    def _create_pod(self, rs: ReplicaSet) -> None:
        tmpl = rs.spec.template
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
        self.ctx.api.create(pod, actor=ACTOR)
        self._created += 1

    def statistics(self) -> ReplicaSetStatistics:
        """Syncs, pods created and deleted, status writes."""
        return ReplicaSetStatistics(self._syncs, self._created, self._deleted, self._status_writes)

    def _check(self) -> None:
        self.queue._check()
