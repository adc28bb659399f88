"""Plumbing the StatefulSet and DaemonSet controllers share (upstream has it in
``pkg/controller/controller_utils.go`` — ``PodControlInterface`` — and each controller's
``addPod``/``updatePod``/``deletePod`` handlers).

- :class:`OwnedPods`: the index *set key -> names of the pods whose controller reference
  names a set of this kind*, fed by Pod watch events (``resolveControllerRef``), which also
  requeues the set, and once more just after ``minReadySeconds`` when a pod turns ready
  (``updatePod``'s ``AddAfter``);
- :func:`is_available`: Running, Ready, and Ready for ``minReadySeconds``
  (``podutil.IsPodAvailable`` as these two controllers call it, with ``<=``);
- :func:`write_status`, :func:`delete_pod`: one status update or pod deletion, errors absorbed
  (a failed status write requeues the set a second later); :func:`with_status`, the object a
  status write sends (every workload controller's).

The ReplicaSet controller keeps its own, label-indexed, pod index (:mod:`.replicaset`).
"""

from __future__ import annotations

from typing import Any

import attrs

from kubesim.apiserver import _BUILD, APIServer, WatchEvent, _stamped_meta
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.runtime import WorkQueue
from kubesim.errors import KubesimError, NotFound
from kubesim.objects import DaemonSet, Deployment, Pod, ReplicaSet, StatefulSet

__all__ = [
    "OwnedPods", "delete_pod", "try_delete_pod", "pod_event", "stateful_pod_event", "is_available", "with_status",
    "write_status",
]


def is_available(pod: Pod, min_ready: int, now: int) -> bool:
    """Running and Ready, and Ready since at least ``min_ready`` seconds before ``now``.
    ``O(conditions)``."""
    if pod.status.phase != "Running" or not pod.status.ready:
        return False
    if min_ready <= 0:
        return True
    c = pod.status.condition("Ready")
    return c is not None and c.last_transition_time is not None and c.last_transition_time + min_ready <= now


@attrs.define(eq=False)
class OwnedPods:
    """Set key -> names of the pods it owns by controller reference, for sets of ``kind``."""

    api: APIServer
    queue: WorkQueue
    kind: str
    _names: dict[str, set[str]] = attrs.field(factory=dict, repr=False)

    def on_pod(self, ev: WatchEvent) -> None:
        """A Pod watch event: index (or unindex) the pod under its controlling set and requeue
        the set; a pod turning ready requeues it again just after ``minReadySeconds``.
        ``O(1)``."""
        pod: Pod = ev.new
        for ref in pod.metadata.owner_references:
            if ref.controller:
                break
        else:
            return  # no controller (most pods have one owner reference, or none)
        if ref.kind != self.kind:
            return
        key = f"{pod.metadata.namespace}/{ref.name}"
        names = self._names.setdefault(key, set())
        if ev.type == "DELETED":
            names.discard(pod.metadata.name)
        else:
            names.add(pod.metadata.name)
        self.queue.add(key)
        if ev.type == "MODIFIED" and not ev.old.status.ready and pod.status.ready:
            owner = self.api.try_get(self.kind, ref.name, pod.metadata.namespace)
            if owner is not None and owner.spec.min_ready_seconds > 0:
                self.queue.add_after(key, owner.spec.min_ready_seconds + 1.0)

    def add(self, key: str, name: str) -> None:
        """Index a pod the controller has just created (before its watch event). ``O(1)``."""
        self._names.setdefault(key, set()).add(name)

    def set_keys(self) -> list[str]:
        """The set keys that have (or had) indexed pods."""
        return list(self._names)

    def pods(self, key: str, owner: Any) -> list[Pod]:
        """The live pods of ``owner`` (stored under ``key``) whose controller reference carries
        its uid, by name. ``O(pods of the set)``."""
        ns = owner.metadata.namespace
        out = []
        for name in sorted(self._names.get(key, ())):
            p = self.api.try_get("Pod", name, ns)
            if p is not None and any(r.controller and r.uid == owner.metadata.uid for r in p.metadata.owner_references):
                out.append(p)
        return out


# with_status builds the object as the API server builds a stamped one: metadata, spec, status.
assert all(
    [f.name for f in attrs.fields(cls)] == ["metadata", "spec", "status"]
    for cls in (ReplicaSet, Deployment, StatefulSet, DaemonSet)
), "a workload class changed: update kubesim.controllers.workloads.common.with_status"


def with_status(obj: Any, status: Any) -> Any:
    """``attrs.evolve(obj, metadata=attrs.evolve(obj.metadata, resource_version=""),
    status=status)``: what a status write sends (no resourceVersion precondition), for an
    object of the ``metadata, spec, status`` shape. Built with the API server's own plain
    constructors (``_stamped_meta`` for the metadata, ``_BUILD`` for the object, which skip
    ``attrs.evolve``'s field look-ups and the converters, given values that are already what
    they make): this runs on every status write of the workload controllers. ``O(1)``."""
    m = obj.metadata
    return _BUILD[type(obj)](_stamped_meta(m, "", m.generation), obj.spec, status)


def write_status(api: APIServer, queue: WorkQueue, obj: Any, status: Any, actor: str) -> bool:
    """Write ``status`` to ``obj`` unless it is unchanged (``updateStatus``); ``True`` when a
    write happened. A refused write requeues the object a second later."""
    if status == obj.status:
        return False
    try:
        api.update(with_status(obj, status), actor=actor)
    except KubesimError:
        queue.add_after(eu.object_key(obj), 1.0)
        return False
    return True


def delete_pod(api: APIServer, pod: Pod, actor: str) -> bool:
    """Delete ``pod`` (``DeletePod``); ``True`` when it was deleted, ``False`` when it was
    already gone or the deletion was refused (the next sync retries)."""
    return try_delete_pod(api, pod, actor) is None


def try_delete_pod(api: APIServer, pod: Pod, actor: str) -> KubesimError | None:
    """Delete ``pod``: ``None`` when it was deleted, else the refusal (``NotFound`` when it
    was already gone)."""
    try:
        api.delete("Pod", pod.metadata.name, pod.metadata.namespace, actor=actor)
    except KubesimError as err:
        return err
    return None


def pod_event(recorder: Any, owner: Any, verb: str, pod_name: str, err: Exception | None, component: str) -> None:
    """The Event ``RealPodControl`` (``pkg/controller/controller_utils.go``) records about the
    owner after creating (``verb="create"``) or deleting a pod: ``Normal SuccessfulCreate``
    "Created pod: <name>", ``Warning FailedCreate`` "Error creating: <err>", ``Normal
    SuccessfulDelete`` "Deleted pod: <name>", ``Warning FailedDelete`` "Error deleting: <err>";
    a deletion of a pod already gone records nothing. ``O(1)`` plus the Event write."""
    if not recorder.enabled or owner is None:
        return
    if err is None:
        done = "Created" if verb == "create" else "Deleted"
        recorder.event(owner, "Normal", f"Successful{verb.capitalize()}", f"{done} pod: {pod_name}",
                       component=component)
    elif not isinstance(err, NotFound) or verb == "create":
        doing = "creating" if verb == "create" else "deleting"
        recorder.event(owner, "Warning", f"Failed{verb.capitalize()}", f"Error {doing}: {err}", component=component)


def stateful_pod_event(recorder: Any, owner: Any, verb: str, pod_name: str, err: Exception | None) -> None:
    """``StatefulPodControl.recordPodEvent`` (``pkg/controller/statefulset/stateful_pod_control.go``):
    ``Successful<Verb>`` "<verb> Pod <pod> in StatefulSet <set> successful", or ``Warning
    Failed<Verb>`` "<verb> Pod <pod> in StatefulSet <set> failed error: <err>". ``O(1)``."""
    if not recorder.enabled or owner is None:
        return
    what = f"{verb} Pod {pod_name} in StatefulSet {owner.metadata.name}"
    if err is None:
        recorder.event(owner, "Normal", f"Successful{verb.capitalize()}", f"{what} successful",
                       component="statefulset-controller")
    else:
        recorder.event(owner, "Warning", f"Failed{verb.capitalize()}", f"{what} failed error: {err}",
                       component="statefulset-controller")
