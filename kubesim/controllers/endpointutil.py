"""Shared helpers of the endpoint controllers, as upstream's
``staging/src/k8s.io/endpointslice/util`` package holds them.

* which pods are published and how (``controller_utils.go``: ``ShouldPodBeInEndpoints``,
  ``ShouldSetHostname``, ``FindPort``);
* which Services a pod event concerns (``GetPodServiceMemberships``, ``podEndpointsChanged``,
  ``determineNeededServiceUpdates``) and the pods a Service selects; kubesim's informer caches
  are the API server's store itself, so reads are always fresh;
* the last-change trigger time (``trigger_time_tracker.go``) and its RFC3339Nano rendering.

Both the Endpoints and the EndpointSlice controller (and their pure reconcilers in
:mod:`~kubesim.controllers.endpoints.reconciler` and :mod:`~kubesim.controllers.endpointslice.reconciler`) use these, so a
rule is written once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import attrs

from kubesim.objects import FrozenDict, ObjectMeta, Pod, PodSpec, PodStatus, Service

__all__ = [
    "pod_tombstone",
    "should_pod_be_in_endpoints",
    "should_set_hostname",
    "find_port",
    "format_trigger_time",
    "TriggerTimeTracker",
    "selector_matches",
    "services_for_pod",
    "pod_endpoints_changed",
    "services_to_update",
    "services_for_event",
    "pods_for_service",
    "object_key",
    "split_key",
    "meta_with",
]

_TERMINAL_PHASES = ("Failed", "Succeeded")


# --------------------------------------------------------------------------------------------
# Which pods are published (controller_utils.go)


def should_pod_be_in_endpoints(pod: Pod, include_terminating: bool) -> bool:
    """``ShouldPodBeInEndpoints``: false for a terminal pod (``Failed``/``Succeeded``), a pod
    with neither ``podIP`` nor ``podIPs``, or a terminating pod unless ``include_terminating``.
    ``O(1)``."""
    if pod.status.phase in _TERMINAL_PHASES:
        return False
    if not pod.status.pod_ip and not pod.status.pod_ips:
        return False
    if not include_terminating and pod.metadata.deletion_timestamp is not None:
        return False
    return True


def should_set_hostname(pod: Pod, service: Service) -> bool:
    """``ShouldSetHostname``: the pod's hostname is published iff it is set, its subdomain is the
    Service name and both live in one namespace. ``O(1)``."""
    return (
        bool(pod.spec.hostname)
        and pod.spec.subdomain == service.metadata.name
        and pod.metadata.namespace == service.metadata.namespace
    )


def find_port(pod: Pod, target_port: int | str, protocol: str) -> int | None:
    """``FindPort``: a numeric target port as is; a named one is the first container port with
    that name and protocol in the regular containers, then in restartable ("sidecar") init
    containers; ``None`` if unresolvable. ``O(container ports)``."""
    if isinstance(target_port, int):
        return target_port
    for c in pod.spec.containers:
        for p in c.ports:
            if p.name == target_port and p.protocol == protocol:
                return p.container_port
    for c in pod.spec.init_containers:
        if c.restart_policy != "Always":
            continue
        for p in c.ports:
            if p.name == target_port and p.protocol == protocol:
                return p.container_port
    return None


# --------------------------------------------------------------------------------------------
# Which Services a pod event concerns


def object_key(obj: Any) -> str:
    """The work-queue key ``namespace/name`` of any object (``MetaNamespaceKeyFunc``)."""
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def split_key(key: str) -> tuple[str, str]:
    """``namespace/name`` -> ``(namespace, name)``."""
    ns, _, name = key.partition("/")
    return ns, name


def selector_matches(selector: Any, labels: Any) -> bool:
    """A Service selector (``None`` selects nothing; ``{}`` everything) against pod labels.

    ``O(selector)``; ``O(1)`` when both are :class:`~kubesim.objects.FrozenDict` objects
    matched before: the answer is remembered by the pair's identity (a reference to each is
    held, and both are immutable). Every pod write asks it of the same selector and the same
    labels object (writes carry a pod's labels over), once per endpoint controller.

    The pair asked last is checked first, by identity alone (:data:`_last_match` holds it):
    the pods of one ReplicaSet share their labels object, so most calls repeat the pair of
    the call before."""
    global _last_match
    if selector is None:
        return False
    last = _last_match
    if last[0] is selector and last[1] is labels:
        return last[2]
    key = (id(selector), id(labels))
    hit = _MATCHES.get(key)
    if hit is not None and hit[0] is selector and hit[1] is labels:
        _last_match = hit
        return hit[2]
    matched = True
    for k, v in selector.items():
        if labels.get(k) != v:
            matched = False
            break
    if type(selector) is FrozenDict and type(labels) is FrozenDict:
        if len(_MATCHES) >= _MATCHES_LIMIT:
            _MATCHES.clear()
        _MATCHES[key] = _last_match = (selector, labels, matched)
    return matched


#: selector_matches' memo: (id(selector), id(labels)) -> (selector, labels, answer).
_MATCHES: dict[tuple[int, int], tuple[FrozenDict, FrozenDict, bool]] = {}
_MATCHES_LIMIT = 8192
#: The memo's entry asked last (references held: both maps are immutable FrozenDicts, so the
#: answer for the very pair stays the answer, even once the memo is cleared).
_last_match: tuple[Any, Any, bool] = (None, None, False)


def services_for_pod(api: Any, pod: Pod) -> set[str]:
    """Keys of the Services in the pod's namespace whose non-nil selector matches the pod.
    ``O(services in the namespace)``."""
    out = set()
    labels = pod.metadata.labels
    for svc in api.list_namespace("Service", pod.metadata.namespace).values():
        if selector_matches(svc.spec.selector, labels):
            out.add(object_key(svc))
    return out


def pod_endpoints_changed(old: Pod, new: Pod) -> tuple[bool, bool]:
    """``(pod_changed, labels_changed)`` for a pod update (``podEndpointsChanged``)."""
    # Identity first: a write that carries a part over (the labels, the spec, the status)
    # cannot have changed what is read from it.
    old_meta, new_meta = old.metadata, new.metadata
    old_labels, new_labels = old_meta.labels, new_meta.labels
    old_spec, new_spec = old.spec, new.spec
    labels_changed = (old_labels is not new_labels and old_labels != new_labels) or (
        old_spec is not new_spec
        and (old_spec.hostname != new_spec.hostname or old_spec.subdomain != new_spec.subdomain)
    )
    old_deletion, new_deletion = old_meta.deletion_timestamp, new_meta.deletion_timestamp
    if (old_deletion is None) != (new_deletion is None):
        return True, labels_changed
    if old_deletion != new_deletion:
        return True, labels_changed
    old_status, new_status = old.status, new.status
    if old_status is new_status:
        return False, labels_changed
    if old_status.conditions is not new_status.conditions and old_status.ready != new_status.ready:
        return True, labels_changed
    if old_status.pod_ips is not new_status.pod_ips and old_status.pod_ips != new_status.pod_ips:
        return True, labels_changed
    return False, labels_changed


def services_to_update(api: Any, old: Pod, new: Pod) -> set[str]:
    """The Service keys a pod update must enqueue (``determineNeededServiceUpdates``)."""
    if old.metadata.resource_version == new.metadata.resource_version:
        return set()
    pod_changed, labels_changed = pod_endpoints_changed(old, new)
    if not pod_changed and not labels_changed:
        return set()
    new_services = services_for_pod(api, new)
    if not labels_changed:
        return new_services
    old_services = services_for_pod(api, old)
    if pod_changed:
        return old_services | new_services
    return old_services ^ new_services


def pods_for_service(api: Any, service: Service) -> list[Pod]:
    """The pods in the Service's namespace its selector matches, in name order (the lister's
    order is irrelevant to every consumer). ``O(pods in the namespace)``."""
    sel = service.spec.selector
    if sel is None:
        return []
    pods = api.list_namespace("Pod", service.metadata.namespace)
    return [pods[n] for n in sorted(pods) if selector_matches(sel, pods[n].metadata.labels)]


def services_for_event(api: Any, ev: Any) -> set[str]:
    """The Service keys a pod watch event must enqueue: :func:`services_to_update` for an
    update, :func:`services_for_pod` for an add or delete.

    Every endpoint controller asks this of the same event; the answer for the latest event is
    remembered, so the namespace's Services are scanned once per pod event, not once per
    controller. ``O(services in the namespace)``.
    """
    cached = _last_event
    if cached[0] is ev and cached[1] is api:
        keys: set[str] = cached[2]
        return keys
    if ev.type == "MODIFIED":
        keys = services_to_update(api, ev.old, ev.new)
    else:
        keys = services_for_pod(api, ev.new)
    _last_event[:] = [ev, api, keys]
    return keys


_last_event: list[Any] = [None, None, set()]


# --------------------------------------------------------------------------------------------
# Last-change trigger time (trigger_time_tracker.go)


def format_trigger_time(t: int | float) -> str:
    """Unix seconds as Go's ``UTC().Format(time.RFC3339Nano)`` (trailing zero digits of the
    fraction dropped).  A float's fraction is rounded to whole microseconds, the precision a
    double holds at present-day Unix times. ``O(1)``.

    >>> format_trigger_time(1514764800)
    '2018-01-01T00:00:00Z'
    >>> format_trigger_time(1514764800.25)
    '2018-01-01T00:00:00.25Z'

    Memoised by value (every Endpoints and EndpointSlice write renders one, and both
    controllers render the same times for one batch of pod changes): an int and the float
    equal to it render alike, so keying on the number is exact.
    """
    text = _TRIGGER_TEXT.get(t)
    if text is None:
        if len(_TRIGGER_TEXT) >= _TRIGGER_TEXT_LIMIT:
            _TRIGGER_TEXT.clear()
        text = _TRIGGER_TEXT[t] = _render_trigger_time(t)
    return text


#: format_trigger_time's memo (number -> text), cleared when full.
_TRIGGER_TEXT: dict[int | float, str] = {}
_TRIGGER_TEXT_LIMIT = 4096


def _render_trigger_time(t: int | float) -> str:
    if isinstance(t, int):
        secs, ns = t, 0
    else:
        secs = math.floor(t)
        # A double near 1.5e9 resolves ~0.24 us, so fractions are rounded to whole microseconds.
        us = int(round((t - secs) * 1_000_000))  # t - floor(t) is exact in binary floating point
        if us == 1_000_000:
            secs, us = secs + 1, 0
        ns = us * 1000
    base = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if ns:
        base += "." + f"{ns:09d}".rstrip("0")
    return base + "Z"


def _after(t: int | float | None, than: int | float | None) -> bool:
    # time.Time.After with the zero time as the earliest instant.
    if t is None:
        return False
    return than is None or t > than


def _min_time(current: int | float | None, new: int | float) -> int | float:
    if current is None or new < current:
        return new
    return current


def _pod_trigger_time(pod: Pod) -> int | float | None:
    cond = pod.status.condition("Ready")
    return cond.last_transition_time if cond is not None else None


@attrs.define(eq=False)
class TriggerTimeTracker:
    """Per-Service last-change trigger times, shared by the Endpoints and EndpointSlice
    controllers (one instance per controller).

    Per Service key it remembers the Service's ``creationTimestamp`` and each pod's Ready
    condition ``lastTransitionTime``.  :meth:`compute` returns:

    * for a Service it has not seen: the Service's ``creationTimestamp``;
    * otherwise the earliest of the pod and Service trigger times that are strictly later than
      the remembered ones, or ``None`` (Go's zero time) when nothing changed;

    and always replaces the remembered state.  Times are Unix seconds; ``None`` is zero.

    Methods: :meth:`compute` ``O(pods)``, :meth:`forget` ``O(1)``, :meth:`_check`.

    >>> from kubesim.objects import Service, ObjectMeta
    >>> tracker = TriggerTimeTracker()
    >>> svc = Service(metadata=ObjectMeta(name="web", namespace="default", creation_timestamp=100))
    >>> tracker.compute(svc, []), tracker.compute(svc, [])
    (100, None)
    """

    _states: dict[str, tuple[int | float | None, dict[str, int | float]]] = attrs.field(
        factory=dict, init=False, repr=False
    )

    @staticmethod
    def key(service: Service) -> str:
        """The ``namespace/name`` key of ``service``."""
        return object_key(service)

    def compute(self, service: Service, pods: Iterable[Pod]) -> int | float | None:
        """The trigger time for this sync of ``service`` given its selected ``pods``
        (``ComputeEndpointLastChangeTriggerTime``). ``O(pods)``."""
        key = self.key(service)
        state = self._states.get(key)
        was_known = state is not None
        last_svc, last_pods = state if state is not None else (None, {})
        min_changed: int | float | None = None
        pod_times: dict[str, int | float] = {}
        for pod in pods:
            t = _pod_trigger_time(pod)
            if t:
                pod_times[pod.metadata.name] = t
                if _after(t, last_pods.get(pod.metadata.name)):
                    min_changed = _min_time(min_changed, t)
        svc_time = service.metadata.creation_timestamp
        if _after(svc_time, last_svc):
            assert svc_time is not None
            min_changed = _min_time(min_changed, svc_time)
        self._states[key] = (svc_time, pod_times)
        if not was_known:
            return svc_time
        return min_changed

    def forget(self, service_key: str) -> None:
        """Drop the state of ``namespace/name`` (the Service was deleted). ``O(1)``."""
        self._states.pop(service_key, None)

    def __contains__(self, service_key: object) -> bool:
        return service_key in self._states

    def __len__(self) -> int:
        return len(self._states)

    def _check(self) -> None:
        """Assert invariants: keys are ``ns/name``; stored pod times are non-zero."""
        for key, (_, pods) in self._states.items():
            assert key.count("/") == 1, key
            assert all(t for t in pods.values()), key


def pod_tombstone(namespace: str, name: str) -> Pod:
    """A stand-in for a deleted pod that carries only its namespace and name, for planners
    told "this pod is gone" by name: ``Pod(metadata=ObjectMeta(name=name,
    namespace=namespace))``, its empty spec and status shared (frozen objects; building them
    afresh is most of the cost). ``O(1)``."""
    return Pod(metadata=ObjectMeta(name=name, namespace=namespace), spec=_EMPTY_SPEC, status=_EMPTY_STATUS)


_EMPTY_SPEC = PodSpec()
_EMPTY_STATUS = PodStatus()


# --------------------------------------------------------------------------------------------
# Plain metadata construction (shared by the Endpoints and EndpointSlice writers)

#: The fields :func:`meta_with` copies; checked at import so that a field added to ObjectMeta
#: cannot be dropped silently.
_META_FIELDS = (
    "name", "generate_name", "namespace", "self_link", "uid", "resource_version", "generation",
    "creation_timestamp", "deletion_timestamp", "deletion_grace_period_seconds", "labels",
    "annotations", "owner_references", "finalizers", "managed_fields",
)
assert tuple(f.name for f in attrs.fields(ObjectMeta)) == _META_FIELDS, "ObjectMeta changed: update meta_with"


_new_object = object.__new__
_setattr_of = object.__setattr__.__get__
assert [getattr(f.converter, "__name__", None) for f in attrs.fields(ObjectMeta)] == [None] * 10 + [
    "frozen_map", "frozen_map", "_tuple", "_tuple", "_tuple",
] and not any(f.validator for f in attrs.fields(ObjectMeta)), "ObjectMeta's converters changed: update meta_with"


def meta_with(m: ObjectMeta, name: str, labels: FrozenDict, annotations: FrozenDict) -> ObjectMeta:
    """``attrs.evolve(m, name=name, labels=labels, annotations=annotations)`` as one plain
    construction: the same object, without evolve's walk over the fields (ObjectMeta has no
    validators; its converters return FrozenDicts and tuples as they are). ``O(1)``.

    With two FrozenDicts (what every caller passes) the fields are set directly, as the
    attrs-generated ``__init__`` of the frozen class sets them, skipping the keyword
    arguments and the converters, which would return those values and ``m``'s tuples as they
    are: the same object for half the cost (every endpoint write builds one)."""
    if type(labels) is FrozenDict and type(annotations) is FrozenDict:
        out = _new_object(ObjectMeta)
        put = _setattr_of(out)
        put("name", name)
        put("generate_name", m.generate_name)
        put("namespace", m.namespace)
        put("self_link", m.self_link)
        put("uid", m.uid)
        put("resource_version", m.resource_version)
        put("generation", m.generation)
        put("creation_timestamp", m.creation_timestamp)
        put("deletion_timestamp", m.deletion_timestamp)
        put("deletion_grace_period_seconds", m.deletion_grace_period_seconds)
        put("labels", labels)
        put("annotations", annotations)
        put("owner_references", m.owner_references)
        put("finalizers", m.finalizers)
        put("managed_fields", m.managed_fields)
        return out
    return ObjectMeta(
        name=name,
        generate_name=m.generate_name,
        namespace=m.namespace,
        self_link=m.self_link,
        uid=m.uid,
        resource_version=m.resource_version,
        generation=m.generation,
        creation_timestamp=m.creation_timestamp,
        deletion_timestamp=m.deletion_timestamp,
        deletion_grace_period_seconds=m.deletion_grace_period_seconds,
        labels=labels,
        annotations=annotations,
        owner_references=m.owner_references,
        finalizers=m.finalizers,
        managed_fields=m.managed_fields,
    )
