"""The in-memory API server: validation, identity, optimistic concurrency, watch, change log.

Every write goes through :class:`APIServer`. A write is checked completely before anything
changes (defaulting, validation, concurrency, the etcd request-size limit); only then is it
committed, recorded in the :class:`~kubesim.changelog.ChangeLog`, and delivered to watchers in
commit order. A refused write raises a :class:`~kubesim.errors.KubesimError` and changes nothing.

What it models, as kube-apiserver does it:

* ``create``: ``metadata.uid`` (a version-4 UUID from the cluster's seeded random),
  ``resourceVersion`` from one cluster-wide counter, ``generation`` 1 for the kinds whose
  registry strategy sets it, ``creationTimestamp`` from virtual time (whole seconds),
  ``generateName`` completed with 5 characters from ``bcdfghjklmnpqrstvwxz2456789``;
* a Pod's ``create`` (``podStrategy.PrepareForCreate``): ``status.phase`` ``Pending`` and
  ``status.qosClass`` from :func:`kubesim.qos.get_pod_qos` (see :func:`_prepare_pod_create`);
  a Pod's ``update`` keeps the stored ``qosClass`` when the new status leaves it empty
  (``podStatusStrategy.PrepareForUpdate``) and refuses another class (it is immutable);
* ``update``: a stale ``resourceVersion`` raises :class:`~kubesim.errors.Conflict`, an empty one
  is an unconditional update; server-owned metadata is carried over; ``generation`` bumps per
  kind (EndpointSlice: any non-metadata change or a label change; Deployment, ReplicaSet, Pod:
  a spec change); an update that changes nothing is not written (no new resourceVersion, no
  watch event, no change-log record), as etcd's guaranteed-update does;
* ``delete``: graceful for Pods bound to a node (``deletionTimestamp`` = now + grace period,
  the kubelet removes the object later); objects with finalizers wait for them; dependents are
  removed by the garbage collector (see :mod:`kubesim.cluster`);
* the etcd request-size limit (``--max-request-bytes``, 1.5 MiB by default) on the stored
  protobuf size, refusing larger writes with :class:`~kubesim.errors.RequestTooLarge`;
* the Service registry's allocators (:class:`ServiceAllocator`, :mod:`kubesim.ipam`): cluster
  IPs and node ports taken before a Service is stored, given back if the write is refused,
  released when it is deleted;
* preconditions: a stale ``resourceVersion`` or another object's ``uid`` is a
  :class:`~kubesim.errors.Conflict`.

A refused call changes nothing, the random state and every allocator included (see
:meth:`APIServer.fingerprint`).

Costs: ``get`` is ``O(1)``; ``list`` is ``O(k log k)`` for ``k`` objects of the kind in the
namespace (all namespaces: the kind's total); a write is ``O(size of the object)`` for
validation and sizing, plus ``O(watchers)``.
"""

from __future__ import annotations

import collections
import contextlib
import math
import operator
import random
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import attrs

from kubesim import defaults as _defaults
from kubesim import inert as _inert
from kubesim import namespaces as _namespaces
from kubesim import qos as _qos
from kubesim import validation as _validation
from kubesim import wire as _wire
from kubesim.changelog import ChangeLog, _slot_setters
from kubesim.clock import Clock
from kubesim.errors import (
    AlreadyExists,
    Conflict,
    FieldError,
    InvalidArgument,
    InvalidObject,
    InvalidSelector,
    ManifestError,
    NotFound,
    RequestTooLarge,
    ServerError,
    ServerTimeout,
)
from kubesim.faults import CLIENT_ACTORS, FaultInjector
from kubesim.kinds import resolve_kind
from kubesim.labels import Selector, parse_selector
from kubesim.manifests import parse_time_nano
from kubesim.objects import CLUSTER_SCOPED, EMPTY, ObjectMeta, Pod, PodStatus, random_uid
from kubesim.objects import KINDS as _MODELLED_KINDS
from kubesim.objects import _eq as _field_eq

#: The classes the API server stores: the modelled kinds and the inert objects.
KINDS: dict[str, type] = {**_MODELLED_KINDS, "InertObject": _inert.InertObject}

__all__ = [
    "APIServer",
    "WatchEvent",
    "APIStatistics",
    "ServiceAllocator",
    "DEFAULT_MAX_REQUEST_BYTES",
    "MAX_REQUEST_BODY_BYTES",
    "EPOCH",
]

#: etcd's default ``--max-request-bytes`` (1.5 MiB).
DEFAULT_MAX_REQUEST_BYTES = 1572864

#: kube-apiserver's cap on a request body (``--max-request-body-bytes``, 3 MiB; the generic
#: API server's ``MaxRequestBodyBytes``): a longer manifest is refused with
#: :class:`~kubesim.errors.RequestEntityTooLarge` before it is parsed.
MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024

#: Unix time of virtual time 0: 2025-01-01T00:00:00Z.
EPOCH = 1735689600

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Stand-ins of the generated suffix and the uid, of the lengths the real ones have: a create is
# sized, checked and fault-drawn with them before anything is drawn from the random state.
_PLACEHOLDER_SUFFIX = "bbbbb"
_PLACEHOLDER_UID = "00000000-0000-4000-8000-000000000000"
_GENERATED_SUFFIX = 5
_MAX_GENERATE_BASE = 58

#: Kinds whose registry strategy sets metadata.generation.
_GENERATION_KINDS = frozenset({"Pod", "EndpointSlice", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"})
TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"

# A label index (APIServer.select): namespace -> label values -> name -> object.
_LabelIndex = dict[str, dict[tuple[str, ...], dict[str, Any]]]
_EMPTY_VIEW: Mapping[str, Any] = types.MappingProxyType({})


# Every write rebuilds the object's metadata two or three times (carry over server-owned
# fields, stamp the resourceVersion); these construct the new objects directly, which costs
# half of ``attrs.evolve`` (no per-call field introspection). Top-level kinds have
# ``metadata`` as their first field; the getters read the others in declaration order.
def _other_fields(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    names = [f.name for f in attrs.fields(cls)]
    assert names[0] == "metadata" and all(f.init and f.alias == f.name for f in attrs.fields(cls))
    if len(names) == 1:
        return lambda obj: ()
    if len(names) == 2:
        get = operator.attrgetter(names[1])
        return lambda obj: (get(obj),)
    return operator.attrgetter(*names[1:])


_OTHER_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]]] = {cls: _other_fields(cls) for cls in KINDS.values()}
#: The getter of the fields after ``metadata`` of each class whose equality is the shared
#: field-by-field one (:func:`kubesim.objects._eq`): ``_update`` tests for an update that
#: changes nothing by comparing the metadata and these, which is ``obj == old`` without the
#: call of ``__eq__`` from C and the tuple of every field it builds (an inert object, whose
#: equality is its own, is compared with ``==``).
_FIELDS_AFTER_META: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    cls: get for cls, get in _OTHER_FIELDS.items() if vars(cls).get("__eq__") is _field_eq
}


_new_object = object.__new__


def _builder(cls: type) -> Callable[..., Any]:
    """``cls(*values)`` for the field values of an existing object of the top-level kind
    ``cls`` (already what its converters make of them: the ``_tuple`` of Endpoints' and
    EndpointSlices' collections returns a tuple as it is), its slots set directly
    (:func:`~kubesim.changelog._slot_setters`): what every write's stamped object is built
    with. ``O(fields)``."""
    sets = _slot_setters(cls)
    assert not any(f.validator for f in attrs.fields(cls)) and not hasattr(cls, "__attrs_post_init__"), cls
    if len(sets) == 2:
        s0, s1 = sets

        def build2(a: Any, b: Any) -> Any:
            o: Any = _new_object(cls)
            s0(o, a)
            s1(o, b)
            return o

        return build2
    if len(sets) == 3:
        s0, s1, s2 = sets

        def build3(a: Any, b: Any, c: Any) -> Any:
            o: Any = _new_object(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            return o

        return build3
    if len(sets) == 4:
        s0, s1, s2, s3 = sets

        def build4(a: Any, b: Any, c: Any, d: Any) -> Any:
            o: Any = _new_object(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            return o

        return build4

    def build(*values: Any) -> Any:
        o: Any = _new_object(cls)
        for s, v in zip(sets, values, strict=True):
            s(o, v)
        return o

    return build


#: class -> :func:`_builder` of it, for every class the API server stores
_BUILD: dict[type, Callable[..., Any]] = {cls: _builder(cls) for cls in KINDS.values()}
# An inert object's content is read as what it holds (kubesim.inert.held_content): a stamped
# copy of an Event holding its record keeps the record instead of building its text.
_OTHER_FIELDS[_inert.InertObject] = lambda obj: (obj.kind, obj.api_version, _inert.held_content(obj))
_BUILD[_inert.InertObject] = _builder(_inert.InertObject)


def _with_meta(obj: Any, meta: ObjectMeta) -> Any:
    """``attrs.evolve(obj, metadata=meta)`` for a top-level object. ``O(fields)``."""
    cls = type(obj)
    get = _OTHER_FIELDS.get(cls)
    if get is None:
        return attrs.evolve(obj, metadata=meta)
    return _BUILD[cls](meta, *get(obj))


# _meta names every ObjectMeta field, in order, and assumes its converters; a change must be made there.
assert [f.name for f in attrs.fields(ObjectMeta)] == [
    "name", "generate_name", "namespace", "self_link", "uid", "resource_version", "generation",
    "creation_timestamp", "deletion_timestamp", "deletion_grace_period_seconds", "labels",
    "annotations", "owner_references", "finalizers", "managed_fields",
], "ObjectMeta changed: update kubesim.apiserver._meta and its callers"
assert [getattr(f.converter, "__name__", None) for f in attrs.fields(ObjectMeta)[10:]] == [
    "frozen_map", "frozen_map", "_tuple", "_tuple", "_tuple",
] and not any(f.converter or f.validator for f in attrs.fields(ObjectMeta)[:10]), "ObjectMeta's converters changed: see _meta"


(
    _m_name, _m_generate_name, _m_namespace, _m_self_link, _m_uid, _m_resource_version, _m_generation,
    _m_creation_timestamp, _m_deletion_timestamp, _m_deletion_grace_period_seconds, _m_labels,
    _m_annotations, _m_owner_references, _m_finalizers, _m_managed_fields,
) = _slot_setters(ObjectMeta)


def _meta(
    name: str,
    generate_name: str,
    namespace: str,
    self_link: str,
    uid: str,
    resource_version: str,
    generation: int,
    creation_timestamp: int | None,
    deletion_timestamp: int | None,
    deletion_grace_period_seconds: int | None,
    labels: Any,
    annotations: Any,
    owner_references: tuple[Any, ...],
    finalizers: tuple[str, ...],
    managed_fields: tuple[Any, ...],
) -> ObjectMeta:
    """``ObjectMeta(...)`` from fields that are already what its converters make of them (a
    :class:`~kubesim.objects.FrozenDict` for the two maps, plain tuples for the three
    collections): the collections of an existing ``ObjectMeta``. The converters return such
    values as they are, so skipping them (and the keyword arguments) builds an equal object
    holding the same values, for about half the cost: this runs on every write. It sets the
    slots the attrs-generated ``__init__`` of a frozen class sets, through their descriptors
    (:func:`_slot_setters`). ``O(1)``."""
    m = _new_object(ObjectMeta)
    _m_name(m, name)
    _m_generate_name(m, generate_name)
    _m_namespace(m, namespace)
    _m_self_link(m, self_link)
    _m_uid(m, uid)
    _m_resource_version(m, resource_version)
    _m_generation(m, generation)
    _m_creation_timestamp(m, creation_timestamp)
    _m_deletion_timestamp(m, deletion_timestamp)
    _m_deletion_grace_period_seconds(m, deletion_grace_period_seconds)
    _m_labels(m, labels)
    _m_annotations(m, annotations)
    _m_owner_references(m, owner_references)
    _m_finalizers(m, finalizers)
    _m_managed_fields(m, managed_fields)
    return m


def _carried_over_meta(meta: ObjectMeta, old: ObjectMeta, ns: str) -> ObjectMeta:
    """The metadata an update stores before stamping: ``meta`` (what the client sent) with the
    server-owned fields of the stored ``old`` carried over, ``namespace`` ``ns`` and an empty
    ``selfLink``. Most updates (status writes) carry the stored label, annotation, owner and
    finalizer collections over as they are: then the result equals ``old`` and ``old`` itself
    is returned (nothing is built). Collections are compared by identity, not equality: equal
    but distinct ones (labels in another order, ``controller=1`` for ``True``) are stored as
    the client sent them. ``O(1)``."""
    generate_name = meta.generate_name or old.generate_name
    labels, annotations, owners, finalizers, managed = (
        meta.labels, meta.annotations, meta.owner_references, meta.finalizers, meta.managed_fields
    )
    if (
        generate_name == old.generate_name
        and ns == old.namespace
        and meta.name == old.name
        and old.self_link == ""
        and labels is old.labels
        and annotations is old.annotations
        and owners is old.owner_references
        and finalizers is old.finalizers
        and managed is old.managed_fields
    ):
        return old
    return _meta(
        meta.name, generate_name, ns, "", old.uid, old.resource_version, old.generation,
        old.creation_timestamp, old.deletion_timestamp, old.deletion_grace_period_seconds,
        labels, annotations, owners, finalizers, managed,
    )


def _stamped_meta(m: ObjectMeta, resource_version: str, generation: int) -> ObjectMeta:
    """``attrs.evolve(m, resource_version=..., generation=...)``. ``O(1)``."""
    return _meta(
        m.name, m.generate_name, m.namespace, m.self_link, m.uid, resource_version, generation,
        m.creation_timestamp, m.deletion_timestamp, m.deletion_grace_period_seconds,
        m.labels, m.annotations, m.owner_references, m.finalizers, m.managed_fields,
    )


@attrs.frozen
class WatchEvent:
    """What a watcher receives: ``type`` is ``ADDED``, ``MODIFIED`` or ``DELETED``; ``old`` is
    ``None`` for ADDED; for DELETED ``new`` is the last state."""

    type: str
    kind: str
    old: Any
    new: Any
    actor: str = ""


# WatchEvent's slots, set by _commit as its generated __init__ would (see _slot_setters).
_w_type, _w_kind, _w_old, _w_new, _w_actor = _slot_setters(WatchEvent)
assert not any(f.converter or f.validator for f in attrs.fields(WatchEvent)), "WatchEvent changed: see _commit"


@attrs.frozen
class APIStatistics:
    """A snapshot of :meth:`APIServer.statistics`."""

    objects: Mapping[str, int]
    writes: Mapping[str, int]
    resource_version: int
    refused: int


WatchFn = Callable[[WatchEvent], object]


class ServiceAllocator(Protocol):
    """What the API server asks of the Service allocators (:class:`kubesim.ipam.ServiceAllocations`):
    ``allocate`` before a Service write, ``rollback`` if it is refused after all, ``committed``
    once it landed (``new`` is ``None`` for a removal)."""

    def allocate(self, svc: Any, old: Any | None) -> Any: ...

    def rollback(self, new: Any, old: Any | None) -> None: ...

    def committed(self, old: Any | None, new: Any | None) -> None: ...

    def snapshot(self) -> Any: ...

    def restore(self, state: Any) -> None: ...

    def _check(self, services: Any) -> None: ...


def _require_str(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, got {type(value).__name__} {value!r:.80}")


# ------------------------------------------------------------------ the types of a client's object
#
# A manifest is type-checked when it is decoded (kubesim.manifests); an object built in Python
# reaches the API server as it is. A client's write is checked against the object model's
# annotations first, so that a float where an int belongs, a set, or a string that is not
# valid UTF-8 (a lone surrogate) is refused with a ManifestError naming the field, before
# anything (sizing, validation, allocators, the random state) is touched. Controllers' writes
# are trusted (built by kubesim). O(size of the object).

_HINTS: dict[type, tuple[tuple[str, str, Any, str], ...]] = {}
_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_ACRONYMS = {"ip": "IP", "ips": "IPs", "cidr": "CIDR", "cidrs": "CIDRs", "uid": "UID", "tcp": "TCP", "fqdn": "FQDN"}


def _json_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(_ACRONYMS.get(p, p[:1].upper() + p[1:]) for p in rest)


def _hints(cls: type) -> tuple[tuple[str, str, Any, str], ...]:
    """(attribute, JSON name, annotation, Go type) of every field of ``cls``; the JSON names
    and Go types (``int32``, ``?int64`` …) come from the manifests' schema."""
    got = _HINTS.get(cls)
    if got is None:
        import typing

        from kubesim import manifests as _manifests
        from kubesim import objects as _objects

        hints = typing.get_type_hints(cls, globalns=vars(_objects))
        schema = {f[1]: (f[0], str(f[2])) for f in _manifests._SCHEMA.get(cls, ("", [], ""))[1]}
        fields = []
        for f in attrs.fields(cls):
            json_name, go_type = schema.get(f.name, (_json_name(f.name), ""))
            fields.append((f.name, json_name, hints.get(f.name, Any), go_type.lstrip("?")))
        got = _HINTS[cls] = tuple(fields)
    return got


def _bad_type(path: str, value: object, expected: str) -> ManifestError:
    return ManifestError(f"invalid type: got {type(value).__name__} {value!r:.60}, expected {expected}", path)


def _check_str(path: str, value: object) -> None:
    if not isinstance(value, str):
        raise _bad_type(path, value, "string")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ManifestError(
                f"invalid UTF-8: {value!r:.60} holds a lone surrogate (JSON on the wire cannot carry it)", path
            ) from None


def _check_value(path: str, value: Any, hint: Any) -> None:
    import types as _types
    import typing

    if hint is Any:
        return
    if hint is str:
        _check_str(path, value)
        return
    if hint is bool:
        if not isinstance(value, bool):
            raise _bad_type(path, value, "boolean")
        return
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _bad_type(path, value, "integer")
        return
    if hint is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _bad_type(path, value, "number")
        return
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is _types.UnionType:
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return
        errors: list[ManifestError] = []
        for option in options:
            if option is type(None):
                continue
            try:
                _check_value(path, value, option)
                return
            except ManifestError as exc:
                errors.append(exc)
        raise errors[-1] if len(errors) == 1 else _bad_type(path, value, " or ".join(
            getattr(o, "__name__", str(o)) for o in options if o is not type(None)))
    if origin is tuple:
        if not isinstance(value, tuple):
            raise _bad_type(path, value, "array")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        for i, v in enumerate(value):
            _check_value(f"{path}[{i}]", v, item)
        return
    if isinstance(hint, type) and attrs.has(hint):
        if not isinstance(value, hint):
            raise _bad_type(path, value, hint.__name__)
        _check_fields(path, value)
        return
    if isinstance(hint, type) and issubclass(hint, Mapping):  # FrozenDict: string to string
        if not isinstance(value, Mapping):
            raise _bad_type(path, value, "object")
        for k, v in value.items():
            _check_str(f"{path}", k)
            _check_str(f"{path}.{k}" if isinstance(k, str) else path, v)
        return


def _check_fields(prefix: str, obj: Any) -> None:
    for name, json_name, hint, go_type in _hints(type(obj)):
        path = f"{prefix}.{json_name}" if prefix else json_name
        value = getattr(obj, name)
        _check_value(path, value, hint)
        bounds = _INT_BOUNDS.get(go_type)
        if bounds is not None and isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
            # what decoding the JSON request body says (k8s.io/apimachinery json, Go's encoding/json)
            raise ManifestError(
                f"cannot unmarshal number {value} into Go struct field {type(obj).__name__}.{json_name} of type {go_type}",
                path,
            )


def check_client_types(obj: Any) -> None:
    """Raise :class:`~kubesim.errors.ManifestError` (naming the field) if any field of ``obj``
    does not have its model type, or a string is not valid UTF-8. ``O(size of the object)``."""
    _check_fields("", obj)


@attrs.define(eq=False)
class APIServer:
    """The simulated kube-apiserver with its etcd.

    Methods by purpose:

    * reads: :meth:`get`, :meth:`try_get`, :meth:`list`, :meth:`list_namespace`,
      :meth:`select` (an indexed label lookup);
    * writes: :meth:`create`, :meth:`update`, :meth:`delete`, :meth:`remove`;
    * watch: :meth:`watch`;
    * atomic batches: :meth:`transaction`, and :meth:`register_state` for state outside the
      store that a rollback restores;
    * introspection: :meth:`statistics`, :meth:`fingerprint`, :meth:`_check`.

    Re-entrancy: a watcher or a change-log subscriber may write; the write commits at once and
    its watch event is queued behind the ones not yet delivered, so everyone hears every
    object's events in resourceVersion order. Advancing virtual time from a callback, during a
    write or inside a transaction raises :class:`~kubesim.errors.ReentrancyError`.
    """

    clock: Clock
    rng: random.Random
    changes: ChangeLog = attrs.field(factory=ChangeLog)
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    epoch: int = EPOCH
    #: Called as ``hook(service) -> service`` on Service create to allocate cluster IPs.
    service_ip_hook: Callable[[Any, Any], Any] | None = None
    #: injected faults (see :mod:`kubesim.faults`); ``None``: a healthy API server
    faults: FaultInjector | None = None
    #: keep each written object in its ChangeEvent (``event.object``) so the log can be replayed
    record_objects: bool = False
    #: the NamespaceLifecycle admission plugin (see :mod:`kubesim.namespaces`): a create into a
    #: missing namespace is NotFound, into a terminating one Forbidden; ``default``,
    #: ``kube-system`` and ``kube-public`` cannot be deleted. :class:`~kubesim.Cluster` turns it on.
    namespace_lifecycle: bool = False
    #: where an Event's uid is drawn from (:meth:`kubesim.events.EventRecorder.new_uid`, a stream
    #: of its own); ``None``: the main ``rng``. Event writes are never given a fault and their
    #: watch events are never delayed either, so Events shift nothing in the rest of the
    #: simulation.
    event_uid: Callable[[], str] | None = None
    _store: dict[str, dict[str, dict[str, Any]]] = attrs.field(factory=dict, repr=False)
    _rv: int = attrs.field(default=0, repr=False)
    _watchers: list[tuple[frozenset[str] | None, WatchFn]] = attrs.field(factory=list, repr=False)
    _buffer: list[WatchEvent] | None = attrs.field(default=None, repr=False)
    _delivery: dict[tuple[str, str, str], float] = attrs.field(factory=dict, repr=False)
    _writes: dict[str, int] = attrs.field(factory=dict, repr=False)
    _refused: int = attrs.field(default=0, repr=False)
    # label indexes: kind -> label keys -> namespace -> label values -> name -> object
    _indexes: dict[str, dict[tuple[str, ...], _LabelIndex]] = attrs.field(factory=dict, repr=False)
    #: the Service allocators (cluster IPs, node ports): see :class:`ServiceAllocator`
    service_allocator: ServiceAllocator | None = attrs.field(default=None, repr=False)
    # state outside the store that a rolled-back transaction restores: (snapshot, restore) pairs
    _state_hooks: list[tuple[Callable[[], Any], Callable[[Any], None]]] = attrs.field(factory=list, repr=False)
    # watch events committed and not yet delivered, in commit order (see _commit)
    _queue: collections.deque[WatchEvent] = attrs.field(factory=collections.deque, repr=False)
    _delivering: bool = attrs.field(default=False, repr=False)
    _writing: int = attrs.field(default=0, repr=False)
    _delayed: int = attrs.field(default=0, repr=False)
    # what watchers were last told of each object: kind -> namespace -> name -> resourceVersion
    # (nested like the store, so an object costs one entry and no key tuple of its own; see
    # _note_delivery)
    _delivered: dict[str, dict[str, dict[str, str]]] = attrs.field(factory=dict, repr=False)
    # a subclass's own per-server state, in a slot of the base class so that a built API server
    # can change class (kubesim.lean.LeanAPIServer keeps its size records and watcher lists
    # here); always None in the full model
    _ext: Any = attrs.field(default=None, init=False, repr=False)
    # _now_ts's second: (its start, its end, the epoch, its Unix time); empty at first
    _ts_memo: tuple[float, float, int, int] = attrs.field(default=(1.0, 0.0, 0, 0), init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.clock.guard = self._busy

    def _busy(self) -> str | None:
        """Why virtual time cannot advance now (``None``: it can)."""
        if self._buffer is not None:
            return "a transaction is open (its writes would be rolled back with it)"
        if self._writing or self._delivering:
            return "a write is being committed (its watch events are not all delivered)"
        return None

    def register_state(self, snapshot: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        """Have :meth:`transaction` snapshot ``snapshot()`` and, when it rolls back, call
        ``restore(state)``: how allocators outside the store (node CIDRs, pod IPs) come back
        exactly as they were. Also part of :meth:`fingerprint`."""
        self._state_hooks.append((snapshot, restore))

    def fingerprint(self) -> tuple[Any, ...]:
        """Everything a failed call must leave as it was: the change log's length, the
        resourceVersion, every stored object, the random state (names, uids, IPs and node
        ports are drawn from it), the fault stream, every allocator. Equal fingerprints: the
        same state. ``O(objects)``."""
        return (
            len(self.changes),
            self._rv,
            self.snapshot(),
            self.rng.getstate(),
            self.faults.rng.getstate() if self.faults is not None else None,
            dict(self.faults.injected) if self.faults is not None else None,
            self.service_allocator.snapshot() if self.service_allocator is not None else None,
            tuple(snap() for snap, _ in self._state_hooks),
        )

    # ---------------------------------------------------------------------------- reads

    def _bucket(self, kind: str, namespace: str) -> dict[str, Any]:
        by_ns = self._store.get(kind)
        if by_ns is None:
            by_ns = self._store[kind] = {}
        b = by_ns.get(namespace)
        if b is None:
            b = by_ns[namespace] = {}
        return b

    def _ns(self, kind: str, namespace: str | None) -> str:
        return "" if kind in CLUSTER_SCOPED else (namespace or "default")

    def try_get(self, kind: str, name: str, namespace: str | None = "default") -> Any | None:
        """The stored object, or ``None``. ``kind`` must be canonical. ``O(1)``."""
        by_ns = self._store.get(kind)
        if by_ns is None:
            return None
        b = by_ns.get("" if kind in CLUSTER_SCOPED else (namespace or "default"))  # self._ns, inlined
        return None if b is None else b.get(name)

    def get(self, kind: str, name: str, namespace: str | None = "default") -> Any:
        """The stored object; raises :class:`~kubesim.errors.NotFound`. ``O(1)``."""
        _require_str(kind, "kind")
        _require_str(name, "name")
        if namespace is not None:
            _require_str(namespace, "namespace")
        kind = resolve_kind(kind)
        obj = self.try_get(kind, name, namespace)
        if obj is None:
            raise NotFound(kind, name, self._ns(kind, namespace))
        return obj

    def list_namespace(self, kind: str, namespace: str) -> Mapping[str, Any]:
        """The live name -> object map of one namespace (read-only by contract). ``O(1)``."""
        by_ns = self._store.get(kind)
        if by_ns is None:
            return {}
        return by_ns.get("" if kind in CLUSTER_SCOPED else (namespace or "default"), {})  # self._ns, inlined

    def select(self, kind: str, namespace: str | None, labels: Mapping[str, str]) -> Mapping[str, Any]:
        """A read-only, unordered name -> object view of the objects of ``kind`` in
        ``namespace`` whose labels hold every pair of ``labels``. It is valid until the next
        write of ``kind``: copy what you keep.

        An informer's indexer: the first call for a kind and a set of label keys builds an
        index, ``O(objects of the kind)``; later calls are ``O(len(labels))``, and every write
        of the kind keeps each of its indexes up to date in ``O(1)``."""
        kind = resolve_kind(kind)
        keys = tuple(sorted(labels))
        by_keys = self._indexes.setdefault(kind, {})
        index = by_keys.get(keys)
        if index is None:
            index = by_keys[keys] = self._build_index(kind, keys)
        by_values = index.get(self._ns(kind, namespace))
        named = by_values.get(tuple(labels[k] for k in keys)) if by_values is not None else None
        return _EMPTY_VIEW if named is None else types.MappingProxyType(named)

    def _build_index(self, kind: str, keys: tuple[str, ...]) -> _LabelIndex:
        index: _LabelIndex = {}
        for ns, bucket in self._store.get(kind, {}).items():
            for name, obj in bucket.items():
                _index_add(index, keys, ns, name, obj)
        return index

    def list(
        self,
        kind: str,
        namespace: str | None = "default",
        selector: str | Selector | None = None,
    ) -> list[Any]:
        """Objects of ``kind`` in ``namespace`` (``None``: all namespaces) whose labels match
        ``selector``, sorted by (namespace, name). ``O(k log k)``."""
        _require_str(kind, "kind")
        if namespace is not None:
            _require_str(namespace, "namespace")
        if selector is not None and not isinstance(selector, (str, Selector)):
            raise InvalidArgument(f"selector must be a string or a Selector, got {type(selector).__name__} {selector!r:.80}")
        if isinstance(selector, str) and not selector.isascii():
            try:
                selector.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidSelector(f"unable to parse requirement: {selector!r:.80} is not valid UTF-8") from None
        kind = resolve_kind(kind)
        sel = parse_selector(selector) if isinstance(selector, str) else selector
        by_ns = self._store.get(kind, {})
        if namespace is None or kind in CLUSTER_SCOPED:
            buckets = [by_ns[ns] for ns in sorted(by_ns)]
        else:
            buckets = [by_ns.get(namespace, {})]
        out = []
        for b in buckets:
            for name in sorted(b):
                obj = b[name]
                if sel is None or sel.matches(obj.metadata.labels):
                    out.append(obj)
        return out

    def snapshot(self) -> dict[tuple[str, str, str], Any]:
        """Every stored object by ``(kind, namespace, name)`` (compare with
        :func:`kubesim.changelog.replay`). ``O(objects)``."""
        return {
            (kind, ns, name): obj
            for kind, by_ns in self._store.items()
            for ns, bucket in by_ns.items()
            for name, obj in bucket.items()
        }

    def count(self, kind: str) -> int:
        """How many objects of ``kind`` exist. ``O(namespaces)``."""
        return sum(len(b) for b in self._store.get(kind, {}).values())

    # ---------------------------------------------------------------------------- watch

    def watch(self, fn: WatchFn, kinds: set[str] | frozenset[str] | None = None) -> Callable[[], None]:
        """Deliver every later committed write of ``kinds`` (all if ``None``) to ``fn``, in
        commit order. Returns a function that stops the watch.

        A watch started or stopped while an event is being delivered changes who hears the
        events after it, never that event's own delivery (as a watch opens at, and closes
        after, a resourceVersion): the list of watchers is replaced, not changed in place, so a
        delivery goes on over the list it started with."""
        entry = (None if kinds is None else frozenset(kinds), fn)
        self._watchers = [*self._watchers, entry]

        def stop() -> None:
            kept = [e for e in self._watchers if e is not entry]
            if len(kept) != len(self._watchers):
                self._watchers = kept

        return stop

    def _enqueue(self, ev: WatchEvent) -> bool:
        """Put ``ev`` in line for delivery; ``True`` if it is in the queue that :meth:`_drain`
        empties (``False``: held by a transaction, or delayed by a fault plan)."""
        if self._buffer is not None:
            self._buffer.append(ev)
            return False
        if self.faults is not None and self.faults.plan.watch_delay > 0 and ev.kind != "Event":
            # Late delivery; one object's events keep their order. (Events are never delayed:
            # they would draw from the fault stream and schedule on the clock.)
            key = (ev.kind, ev.new.metadata.namespace, ev.new.metadata.name)
            at = max(self.clock.now + self.faults.delay(), self._delivery.get(key, 0.0))
            self._delivery[key] = at
            self._delayed += 1
            self.clock.schedule_at(at, lambda: self._deliver_late(ev))
            return False
        self._queue.append(ev)
        return True

    def _deliver_late(self, ev: WatchEvent) -> None:
        self._delayed -= 1
        self._queue.append(ev)
        if not self._delivering:
            self._drain()

    def _drain(self) -> None:
        """Deliver the queued watch events in commit order. A watcher that writes commits at
        once, and its event waits behind the ones not yet delivered, so every watcher hears
        every object's events in resourceVersion order (as the watch cache guarantees)."""
        self._delivering = True
        queue = self._queue
        try:
            while queue:
                self._deliver(queue.popleft())
        finally:
            self._delivering = False

    def _deliver(self, ev: WatchEvent) -> None:
        _note_delivery(self._delivered, ev)
        for kinds, fn in self._watchers:
            if kinds is None or ev.kind in kinds:
                fn(ev)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: writes inside are committed together, or, if the block raises, the
        store, the resourceVersion counter, the change log and the random state are restored
        and no watcher hears of them. Watch events are delivered when the block ends.
        ``O(objects)`` to snapshot.

        Everything else a write can change comes back too: the fault stream, the Service
        allocators and every state registered with :meth:`register_state`. Change-log
        subscribers, like watchers, hear of the writes only when the block commits (never of
        rolled-back ones). Virtual time cannot advance inside (``run()`` raises
        :class:`~kubesim.errors.ReentrancyError`): controllers' writes would be rolled back with
        the user's while the controllers believe them done."""
        if self._buffer is not None:  # nested: the outer transaction decides
            yield
            return
        faults = self.faults
        snapshot = (
            {k: {ns: dict(b) for ns, b in by_ns.items()} for k, by_ns in self._store.items()},
            self._rv,
            len(self.changes),
            self.rng.getstate(),
            dict(self._writes),
            (faults.rng.getstate(), dict(faults.injected)) if faults is not None else None,
            self.service_allocator.snapshot() if self.service_allocator is not None else None,
            [snap() for snap, _ in self._state_hooks],
        )
        self._buffer = []
        self.changes.hold()
        try:
            yield
        except BaseException:
            self._store, self._rv, n, state, self._writes, fault_state, allocs, hooks = snapshot
            for kind, by_keys in self._indexes.items():
                for keys in by_keys:
                    by_keys[keys] = self._build_index(kind, keys)
            self.changes.truncate(n)
            self.rng.setstate(state)
            if faults is not None and fault_state is not None:
                faults.rng.setstate(fault_state[0])
                faults.injected.clear()
                faults.injected.update(fault_state[1])
            if self.service_allocator is not None:
                self.service_allocator.restore(allocs)
            for (_, restore), saved in zip(self._state_hooks, hooks, strict=False):
                restore(saved)
            self._buffer = None
            self.changes.release()
            raise
        buffered, self._buffer = self._buffer, None
        drain = False
        for ev in buffered:
            drain = self._enqueue(ev) or drain
        # Subscribers hear the block's writes now; what they write is queued behind them.
        self._writing += 1
        try:
            self.changes.release()
        finally:
            self._writing -= 1
            if drain and not self._delivering:
                self._drain()

    # ---------------------------------------------------------------------------- helpers

    def _now_ts(self) -> int:
        """Unix seconds of now (``epoch + floor(now)``), as one ``int`` object per second of
        virtual time: every object created or marked in that second shares it (each stored
        metadata holds its timestamp, and a large run stores about a million of them, 32
        bytes each when each is its own ``int``). ``O(1)``."""
        now = self.clock.now
        lo, hi, epoch, ts = self._ts_memo
        if lo <= now < hi and epoch == self.epoch:
            return ts
        second = math.floor(now)
        ts = self.epoch + int(second)
        self._ts_memo = (second, second + 1, self.epoch, ts)
        return ts

    def _new_uid(self) -> str:
        return random_uid(self.rng)

    def _generate_name(self, base: str, bucket: Mapping[str, Any]) -> str:
        base = base[:_MAX_GENERATE_BASE]
        while True:
            suffix = "".join(self.rng.choice(_NAME_ALPHABET) for _ in range(_GENERATED_SUFFIX))
            name = base + suffix
            if name not in bucket:
                return name

    def _stamp(self, obj: Any, meta: ObjectMeta, generation: int | None = None) -> tuple[Any, tuple[int, int, int]]:
        """Give ``obj`` the metadata ``meta`` with the next resourceVersion (not yet consumed)
        and, if given, ``generation``, and size it: (json as served, proto as served, proto as
        stored in etcd without resourceVersion)."""
        meta = _stamped_meta(meta, str(self._rv + 1), meta.generation if generation is None else generation)
        obj = _with_meta(obj, meta)
        return obj, _wire.sizes3(obj)

    def _check_size(self, kind: str, name: str, stored: int) -> None:
        if stored > self.max_request_bytes:
            self._refused += 1
            raise RequestTooLarge(kind, name, stored, self.max_request_bytes)

    def _record(
        self,
        verb: str,
        obj: Any,
        actor: str,
        sizes: tuple[int, int, int],
        cause: str = "",
        outcome: str = "ok",
        name: str | None = None,
    ) -> None:
        meta: ObjectMeta = obj.metadata
        clock = self.clock
        cause = cause or clock.context
        annotations = meta.annotations
        # (most objects have none: the shared empty map, and no Python-level get)
        trig = None if annotations is EMPTY else annotations.get(TRIGGER_TIME_ANNOTATION)
        trigger_time = None
        if trig is not None:
            try:
                trigger_time = parse_time_nano(trig) - self.epoch
            except ValueError:
                trigger_time = None  # a malformed annotation written by a user
        ok = outcome == "ok"
        self.changes._append_write(
            clock.now,
            verb,
            obj.kind,
            meta.namespace,
            meta.name if name is None else name,
            int(meta.resource_version or 0) if ok else 0,  # resource_version
            actor,
            sizes[0],  # json_bytes
            sizes[1],  # proto_bytes
            meta.labels,
            trigger_time,
            outcome,
            cause,
            obj if ok and self.record_objects else None,  # object
        )
        if ok:
            self._writes[verb] = self._writes.get(verb, 0) + 1
        else:
            self._refused += 1

    # ---------------------------------------------------------------------------- writes

    def _default(self, obj: Any, actor: str) -> Any:
        """``obj`` with the API server's defaults applied, for a write by ``actor`` (a subclass
        may trust some actors: :class:`kubesim.lean.LeanAPIServer`)."""
        return _defaults.apply_defaults(obj)

    def _validate(self, obj: Any, old: Any | None, actor: str) -> None:
        """Validate a write by ``actor`` of ``obj`` (over ``old``, the stored object of an
        update); raises :class:`~kubesim.errors.InvalidObject`. A subclass may trust some
        actors (:class:`kubesim.lean.LeanAPIServer`)."""
        _validation.validate(obj, old)

    def prepare_create(self, obj: Any, *, actor: str = "client", reset_pod_status: bool = False) -> Any:
        """Default and validate ``obj`` as :meth:`create` by ``actor`` (with
        ``reset_pod_status``) would, without writing. Raises what create would raise (except
        AlreadyExists for a generated name)."""
        kind = obj.kind
        meta = obj.metadata
        ns = self._ns(kind, meta.namespace)
        if meta.namespace != ns:
            obj = attrs.evolve(obj, metadata=attrs.evolve(meta, namespace=ns))
        obj = self._default(obj, actor)
        if kind == "Pod":
            obj = _prepare_pod_create(obj, reset_pod_status)  # after defaulting, on the trusted path too
        elif kind == "Namespace":
            obj = _namespaces.prepare_for_create(obj)
        elif type(obj) is _inert.InertObject:
            obj = _inert.with_status_of(obj, None)  # PrepareForCreate resets the status
        if not obj.metadata.name and not obj.metadata.generate_name:
            raise InvalidObject(
                kind, "", [FieldError("metadata.name", "Required value", detail="name or generateName is required")]
            )
        self._validate(obj, None, actor)
        return obj

    def create(self, obj: Any, *, actor: str = "client", cause: str = "", reset_pod_status: bool = False) -> Any:
        """Create ``obj``; returns the stored object (with uid, resourceVersion …).

        A Pod's status: with ``reset_pod_status``, what upstream stores whatever the request
        carries (phase ``Pending`` and its QoS class: every manifest path, ``kubectl apply``
        and ``kubesim serve``, creates so); without (the Python object API's default), kubesim
        keeps the rest of a status given, its extension for creating a running pod without a
        kubelet (see :func:`_prepare_pod_create`).

        Raises :class:`~kubesim.errors.AlreadyExists`, :class:`~kubesim.errors.InvalidObject`,
        :class:`~kubesim.errors.RequestTooLarge`, :class:`~kubesim.errors.InvalidArgument`.

        A refused create changes nothing, the random state included: it is sized, checked and
        given its fault before the generated name and the uid are drawn (with stand-ins of
        their lengths), and a Service's allocations are given back if it is refused after them.
        """
        if type(obj).__name__ not in KINDS or not isinstance(getattr(obj, "metadata", None), ObjectMeta):
            raise InvalidArgument(f"not an API object: {obj!r:.200}")
        if actor in CLIENT_ACTORS:
            check_client_types(obj)
        if self.namespace_lifecycle:
            # Mutating admission runs before the registry's validation.
            _namespaces.admit_create(self, obj.kind, obj.metadata.name, self._ns(obj.kind, obj.metadata.namespace))
        obj = self.prepare_create(obj, actor=actor, reset_pod_status=reset_pod_status)
        kind = obj.kind
        meta = obj.metadata
        bucket = self._bucket(kind, meta.namespace)
        name = meta.name
        if name and name in bucket:
            raise AlreadyExists(kind, name, meta.namespace)
        base = "" if name else meta.generate_name[:_MAX_GENERATE_BASE]
        if kind == "Service" and (self.service_allocator is not None or self.service_ip_hook is not None):
            return self._create_service(obj, bucket, base, actor, cause)
        # Everything that can refuse the create runs on a stand-in of the same sizes first.
        trial_meta = self._created_meta(kind, meta, name or base + _PLACEHOLDER_SUFFIX, _PLACEHOLDER_UID)
        if not name:
            # The generated name must itself be valid (base truncated to 58 characters).
            self._validate(_with_meta(obj, trial_meta), None, actor)
        trial, sizes = self._stamp(obj, trial_meta)
        self._check_size(kind, name or base, sizes[2])
        fault = self.faults.draw(actor) if self.faults is not None and kind != "Event" else None
        if fault in ("conflict", "error"):
            self._refuse("create", trial, actor, sizes, cause, fault, name or base)
        if not name:
            name = self._generate_name(base, bucket)
        uid = self.event_uid() if kind == "Event" and self.event_uid is not None else self._new_uid()
        new_meta = self._created_meta(kind, meta, name, uid)
        obj = _with_meta(obj, _stamped_meta(new_meta, str(self._rv + 1), new_meta.generation))
        return self._commit("create", "ADDED", bucket, obj, None, actor, sizes, cause, fault)

    def create_trusted(self, obj: Any, sizes: Callable[[str, int], tuple[int, int, int]], *, actor: str) -> Any:
        """Create ``obj`` for a writer whose objects are defaulted and valid by construction
        (:class:`kubesim.events.EventRecorder`): no defaulting, no validation, no fault, and
        the sizes given by ``sizes(resource_version, creation_timestamp)`` (``sizes3`` of the
        written object, whose uid is 36 characters) instead of measured. Namespace admission,
        the name's uniqueness and the request-size limit are checked as :meth:`create` checks
        them, before the uid is drawn. Records what :meth:`create` would. ``O(1)``."""
        kind = obj.kind
        meta = obj.metadata
        ns = meta.namespace
        name = meta.name
        if self.namespace_lifecycle:
            _namespaces.admit_create(self, kind, name, ns)
        bucket = self._bucket(kind, ns)
        if name in bucket:
            raise AlreadyExists(kind, name, ns)
        rv = str(self._rv + 1)
        ts = self._now_ts()
        written = sizes(rv, ts)
        self._check_size(kind, name, written[2])
        uid = self.event_uid() if kind == "Event" and self.event_uid is not None else self._new_uid()
        stamped = _meta(name, "", ns, "", uid, rv, 0, ts, None, None, meta.labels, meta.annotations, (), (), ())
        obj = _with_meta(obj, stamped)  # an Event keeps its record (_OTHER_FIELDS[InertObject])
        return self._commit("create", "ADDED", bucket, obj, None, actor, written, "", None)

    def update_trusted(
        self, obj: Any, old: Any, sizes: Callable[[str, int], tuple[int, int, int]], *, actor: str
    ) -> Any:
        """Replace the stored ``old`` (the very object the store holds) with ``obj``, which
        carries ``old``'s metadata and differs from it, for a trusted writer (see
        :meth:`create_trusted`): no defaulting, no validation, no fault; sized by ``sizes``.
        ``old`` must not be marked for deletion (the caller takes :meth:`update` then).
        Records what :meth:`update` would. ``O(1)``."""
        kind = obj.kind
        om = old.metadata
        bucket = self._bucket(kind, om.namespace)
        if bucket.get(om.name) is not old or om.deletion_timestamp is not None:
            raise InvalidArgument(f"update_trusted: {kind} {om.namespace}/{om.name} is not the stored object")
        meta = _stamped_meta(om, str(self._rv + 1), om.generation)
        written = sizes(meta.resource_version, om.creation_timestamp or 0)
        self._check_size(kind, om.name, written[2])
        # as create_trusted: an inert object keeps what it holds
        obj = _with_meta(obj, meta)
        return self._commit("update", "MODIFIED", bucket, obj, old, actor, written, "", None)

    def _created_meta(self, kind: str, meta: ObjectMeta, name: str, uid: str) -> ObjectMeta:
        return _meta(
            name, meta.generate_name, meta.namespace, "", uid, "",
            1 if kind in _GENERATION_KINDS or kind in _inert.GENERATION_KINDS else 0,
            self._now_ts(), None, None,
            meta.labels, meta.annotations, meta.owner_references, meta.finalizers, meta.managed_fields,
        )

    def _create_service(self, obj: Any, bucket: dict[str, Any], base: str, actor: str, cause: str) -> Any:
        """Create a Service: its allocations are drawn between the name and the uid (the
        registry allocates before it stores); if it is refused after them, they are given back
        and the random state restored."""
        state = self.rng.getstate()
        rv = self._rv
        allocated = None
        try:
            name = obj.metadata.name
            if not name:
                trial_meta = self._created_meta("Service", obj.metadata, base + _PLACEHOLDER_SUFFIX, _PLACEHOLDER_UID)
                _validation.validate(_with_meta(obj, trial_meta))
                name = self._generate_name(base, bucket)
            allocated = self._allocate_service(obj, None)
            new_meta = self._created_meta("Service", allocated.metadata, name, self._new_uid())
            stamped, sizes = self._stamp(allocated, new_meta)
            self._check_size("Service", name, sizes[2])
            return self._commit("create", "ADDED", bucket, stamped, None, actor, sizes, cause)
        except BaseException:
            if self._rv == rv:  # not committed (a timeout after the commit is a success)
                if allocated is not None and self.service_allocator is not None:
                    self.service_allocator.rollback(allocated, None)
                self.rng.setstate(state)
            raise

    def _allocate_service(self, svc: Any, old: Any | None) -> Any:
        if self.service_allocator is not None:
            return self.service_allocator.allocate(svc, old)
        assert self.service_ip_hook is not None
        return self.service_ip_hook(svc, old)

    def _refuse(
        self, verb: str, obj: Any, actor: str, sizes: tuple[int, int, int], cause: str, fault: str, name: str | None = None
    ) -> None:
        """Record an injected refusal and raise it: nothing was written."""
        self._record(verb, obj, actor, sizes, cause, outcome=fault, name=name)
        ns = obj.metadata.namespace
        shown = obj.metadata.name if name is None else name
        if fault == "conflict":
            raise Conflict(obj.kind, shown, ns)
        raise ServerError(f"Internal error occurred: injected fault on {verb} of {obj.kind} {ns}/{shown}")

    def update(self, obj: Any, *, actor: str = "client", cause: str = "", subresource: str = "") -> Any:
        """Replace the stored object with ``obj``; returns the stored result.

        A non-empty ``metadata.resourceVersion`` must match the stored one
        (:class:`~kubesim.errors.Conflict` otherwise). An update that changes nothing returns
        the stored object unchanged and records nothing. ``subresource`` (``"status"``,
        ``"finalize"``) matters for Namespaces only, whose strategies keep the other parts.

        A refused Service update gives back the node ports it took and restores the random
        state; a committed one releases what the old Service held and the new one does not.
        """
        if type(obj).__name__ not in KINDS or not isinstance(getattr(obj, "metadata", None), ObjectMeta):
            raise InvalidArgument(f"not an API object: {obj!r:.200}")
        if actor in CLIENT_ACTORS:
            check_client_types(obj)
        if obj.kind == "Service" and (self.service_allocator is not None or self.service_ip_hook is not None):
            return self._update_service(obj, actor, cause, subresource)
        return self._update(obj, actor, cause, subresource, None)

    def _update_service(self, obj: Any, actor: str, cause: str, subresource: str) -> Any:
        state = self.rng.getstate()
        rv = self._rv
        taken: list[tuple[Any, Any]] = []

        def allocate(svc: Any, old: Any) -> Any:
            new = self._allocate_service(svc, old)
            taken.append((new, old))
            return new

        try:
            return self._update(obj, actor, cause, subresource, allocate)
        except BaseException:
            if self._rv == rv:
                if self.service_allocator is not None:
                    for new, old in taken:
                        self.service_allocator.rollback(new, old)
                self.rng.setstate(state)
            raise

    def _update(
        self, obj: Any, actor: str, cause: str, subresource: str, allocate: Callable[[Any, Any], Any] | None
    ) -> Any:
        kind = obj.kind
        meta = obj.metadata
        ns = "" if kind in CLUSTER_SCOPED else (meta.namespace or "default")  # self._ns, inlined
        by_ns = self._store.get(kind)
        bucket = by_ns.get(ns) if by_ns is not None else None
        old = bucket.get(meta.name) if bucket is not None else None
        if old is None:
            raise NotFound(kind, meta.name, ns)
        assert bucket is not None
        old_meta: ObjectMeta = old.metadata
        if meta.uid and meta.uid != old_meta.uid:
            # The object's uid is a precondition of the update (rest.defaultUpdatedObjectInfo.
            # Preconditions), checked by the storage against the stored object before anything
            # else (etcd3 store.go checkPreconditions): an update meant for an earlier object of
            # the same name is refused.
            raise Conflict(kind, meta.name, ns, _uid_precondition_failed(kind, ns, meta.name, meta.uid, old_meta.uid))
        if meta.resource_version and meta.resource_version != old_meta.resource_version:
            raise Conflict(kind, meta.name, ns)
        if allocate is not None:
            obj = allocate(obj, old)
        obj = self._default(obj, actor)
        if kind == "Pod":
            if not obj.status.qos_class and old.status.qos_class:
                obj = _with_qos_class_of(obj, old)
        elif kind == "Namespace":
            obj = _namespaces.prepare_for_update(obj, old, subresource)
        elif type(obj) is _inert.InertObject:
            obj = _inert.with_status_of(obj, old)  # status is a subresource
        new_meta = _carried_over_meta(obj.metadata, old_meta, ns)
        # An update that changes nothing is not written: ``obj`` with ``new_meta`` equal to
        # ``old`` (compared as the tuples of their fields are, an identical field equal).
        cls = type(obj)
        rest = _FIELDS_AFTER_META.get(cls)
        if (
            rest is not None and cls is type(old) and (new_meta is old_meta or new_meta == old_meta)
            and rest(obj) == rest(old)
        ):
            return old
        if new_meta is not obj.metadata:
            obj = _with_meta(obj, new_meta)
        if rest is None and obj == old:
            return old
        self._validate(obj, old, actor)
        generation = old_meta.generation
        if (kind in _GENERATION_KINDS or kind in _inert.GENERATION_KINDS) and _generation_bumps(kind, old, obj):
            generation += 1
        if (
            old_meta.deletion_timestamp is not None
            and not new_meta.finalizers
            and kind != "Pod"
            and (kind != "Namespace" or not _namespaces.spec_finalizers(obj))
        ):
            # The last finalizer is gone: the object is removed.
            if generation != old_meta.generation:
                obj = _with_meta(obj, _stamped_meta(new_meta, new_meta.resource_version, generation))
            return self._remove(obj, actor, cause)
        obj, sizes = self._stamp(obj, new_meta, generation)
        if sizes[2] > self.max_request_bytes:
            self._check_size(kind, new_meta.name, sizes[2])
        return self._commit("update", "MODIFIED", bucket, obj, old, actor, sizes, cause)

    def delete(
        self,
        kind: str,
        name: str,
        namespace: str | None = "default",
        *,
        actor: str = "client",
        grace_period_seconds: int | None = None,
        cause: str = "",
    ) -> Any:
        """Delete an object; returns its last state.

        A Pod bound to a node (``spec.nodeName``) with a positive grace period is only marked
        (``deletionTimestamp`` = now + grace, a MODIFIED event); the kubelet removes it later
        with :meth:`remove`. Objects with finalizers are marked and wait for them. Everything
        else is removed at once (a DELETED event).
        """
        _require_str(kind, "kind")
        _require_str(name, "name")
        if namespace is not None:
            _require_str(namespace, "namespace")
        if grace_period_seconds is not None and (
            isinstance(grace_period_seconds, bool) or not isinstance(grace_period_seconds, int)
            or not 0 <= grace_period_seconds <= 2**31 - 1
        ):
            raise InvalidArgument(f"grace_period_seconds must be an integer >= 0, got {grace_period_seconds!r:.80}")
        kind = resolve_kind(kind)
        ns = self._ns(kind, namespace)
        obj = self.try_get(kind, name, ns)
        if obj is None:
            raise NotFound(kind, name, ns)
        meta: ObjectMeta = obj.metadata
        if kind == "Namespace":
            if self.namespace_lifecycle:
                _namespaces.admit_delete(name)
            if meta.deletion_timestamp is None or _namespaces.spec_finalizers(obj) or meta.finalizers:
                # The namespace registry marks it Terminating; the namespace controller
                # deletes its content and removes the spec finalizer, which removes it.
                marked = _namespaces.mark_terminating(obj, self._now_ts())
                if marked == obj:
                    return obj
                marked, sizes = self._stamp(marked, marked.metadata)
                return self._commit("update", "MODIFIED", self._bucket(kind, ns), marked, obj, actor, sizes, cause)
        graceful = False
        grace = 0
        if kind == "Pod":
            grace = (
                grace_period_seconds
                if grace_period_seconds is not None
                else (obj.spec.termination_grace_period_seconds if obj.spec.termination_grace_period_seconds is not None else 30)
            )
            if obj.status.phase in ("Succeeded", "Failed") or not obj.spec.node_name:
                grace = 0
            graceful = grace > 0
        if meta.deletion_timestamp is not None:
            if graceful or meta.finalizers:
                return obj  # already terminating: nothing more to do
            return self._remove(obj, actor, cause)
        if graceful or meta.finalizers:
            new_meta = attrs.evolve(
                meta,
                deletion_timestamp=self._now_ts() + grace,
                deletion_grace_period_seconds=grace,
            )
            # Setting deletionTimestamp bumps a pod's generation.
            marked, sizes = self._stamp(obj, new_meta, meta.generation + 1 if kind == "Pod" else None)
            return self._commit("update", "MODIFIED", self._bucket(kind, ns), marked, obj, actor, sizes, cause)
        return self._remove(obj, actor, cause)

    def remove(self, kind: str, name: str, namespace: str | None = "default", *, actor: str = "client", cause: str = "") -> Any:
        """Remove an object at once, whatever its grace period (the kubelet's final delete,
        ``--grace-period=0 --force``). Returns its last state."""
        _require_str(kind, "kind")
        _require_str(name, "name")
        kind = resolve_kind(kind)
        obj = self.try_get(kind, name, namespace)
        if obj is None:
            raise NotFound(kind, name, self._ns(kind, namespace))
        return self._remove(obj, actor, cause)

    def _remove(self, obj: Any, actor: str, cause: str) -> Any:
        bucket = self._bucket(obj.kind, obj.metadata.namespace)
        # A DELETED watch event carries the last state with the deletion's resourceVersion.
        last, sizes = self._stamp(obj, obj.metadata)
        return self._commit("delete", "DELETED", bucket, last, bucket[obj.metadata.name], actor, sizes, cause)

    def _commit(
        self,
        verb: str,
        event: str,
        bucket: dict[str, Any],
        obj: Any,
        old: Any,
        actor: str,
        sizes: tuple[int, int, int],
        cause: str,
        fault: str | None | bool = False,
    ) -> Any:
        """The one place a checked write lands: fault injection (``fault``, if drawn already),
        the resourceVersion, the store, the Service allocators, the change log and the
        watchers.

        The watch event takes its place in the delivery queue before the change log's
        subscribers hear of the write, so writes they make are delivered after it; the queue
        is emptied even if a subscriber raises."""
        kind = obj.kind
        faults = self.faults
        if fault is False:
            fault = faults.draw(actor) if faults is not None and kind != "Event" else None
        if fault is not None and fault in ("conflict", "error"):
            assert isinstance(fault, str)
            self._refuse(verb, obj, actor, sizes, cause, fault)
        if verb != "update":
            self._keep_sizes(verb, obj, sizes)
        self._rv += 1
        name = obj.metadata.name
        if verb == "delete":
            del bucket[name]
        else:
            bucket[name] = obj
        indexes = self._indexes.get(kind)
        if indexes:
            ns = obj.metadata.namespace
            # A write that keeps the label map (a status write, a bind) keeps every index entry:
            # the object is moved to the end of its entry's names, as removing and adding it
            # would (an entry of that one name is removed and added as before).
            relabelled = old is None or verb == "delete" or old.metadata.labels is not obj.metadata.labels
            for keys, index in indexes.items():
                if not relabelled:
                    values = _index_values(keys, obj)
                    if values is None:
                        continue
                    named = index[ns][values]
                    if len(named) > 1:
                        del named[name]
                        named[name] = obj
                        continue
                if old is not None:
                    _index_remove(index, keys, ns, name, old)
                if verb != "delete":
                    _index_add(index, keys, ns, name, obj)
        if old is not None and kind == "Service" and self.service_allocator is not None:
            self.service_allocator.committed(old, None if verb == "delete" else obj)
        # WatchEvent(event, kind, old, obj, actor), its slots set directly (_slot_setters)
        ev = _new_object(WatchEvent)
        _w_type(ev, event)
        _w_kind(ev, kind)
        _w_old(ev, old)
        _w_new(ev, obj)
        _w_actor(ev, actor)
        if self._buffer is None and faults is None:
            self._queue.append(ev)  # what _enqueue does then
            now = True
        else:
            now = self._enqueue(ev)
        self._writing += 1
        try:
            self._record(verb, obj, actor, sizes, cause)
        finally:
            self._writing -= 1
            if now and not self._delivering:
                self._drain()
        if fault == "timeout":
            raise ServerTimeout(
                f"Timeout: request did not complete within the allowed duration ({verb} of "
                f"{obj.kind} {obj.metadata.namespace}/{obj.metadata.name}; the write was committed)",
                committed=True,
            )
        return obj

    def _keep_sizes(self, verb: str, obj: Any, sizes: tuple[int, int, int]) -> None:
        """A create or a delete (``verb``) of ``obj``, sized ``sizes``, is committing: where a
        subclass that sizes objects from records of what it sized before
        (:class:`kubesim.lean.LeanAPIServer`) keeps or forgets its record of ``obj``. The full
        model keeps none. ``O(1)``."""

    # ---------------------------------------------------------------------------- introspection

    def statistics(self) -> APIStatistics:
        """Objects per kind, committed writes per verb, the resourceVersion counter."""
        return APIStatistics(
            objects={k: self.count(k) for k in sorted(self._store) if self.count(k)},
            writes=dict(sorted(self._writes.items())),
            resource_version=self._rv,
            refused=self._refused,
        )

    def _check(self) -> None:
        """Assert the store's invariants (expensive)."""
        seen_uids: set[str] = set()
        max_rv = 0
        for kind, by_ns in self._store.items():
            for ns, bucket in by_ns.items():
                for name, obj in bucket.items():
                    assert obj.kind == kind
                    assert obj.metadata.name == name
                    assert obj.metadata.namespace == ns
                    assert obj.metadata.uid and obj.metadata.uid not in seen_uids
                    seen_uids.add(obj.metadata.uid)
                    max_rv = max(max_rv, int(obj.metadata.resource_version))
        assert max_rv <= self._rv
        for kind, by_keys in self._indexes.items():
            for keys, index in by_keys.items():
                assert index == self._build_index(kind, keys), (kind, keys)
        # The change log holds exactly the committed writes, in resourceVersion order.
        self.changes._check()
        committed = self.changes._committed_resource_versions()  # a fold over the columns
        assert len(committed) == sum(self._writes.values()), "change log and write counters disagree"
        assert all(a < b for a, b in zip(committed, committed[1:], strict=False)), "change log out of order"
        assert not committed or committed[-1] <= self._rv
        if self.service_allocator is not None:
            services = [svc for bucket in self._store.get("Service", {}).values() for svc in bucket.values()]
            self.service_allocator._check(services)
        # Watchers were told of every write, in order: at rest, what they last heard of each
        # object is what is stored (a watch event delivered out of order, or a write rolled
        # back after watchers heard of it, leaves them believing in another state).
        if self._buffer is None and not self._queue and not self._delayed and not self._writing:
            stored = {
                (kind, ns, name): obj.metadata.resource_version
                for kind, by_ns in self._store.items()
                for ns, bucket in by_ns.items()
                for name, obj in bucket.items()
            }
            delivered = {
                (kind, ns, name): rv
                for kind, by_ns in self._delivered.items()
                for ns, bucket in by_ns.items()
                for name, rv in bucket.items()
            }
            assert delivered == stored, _delivery_mismatch(delivered, stored)


# etcd keys of kube-apiserver's registries (pkg/registry/*/storage: the resource prefix)
_ETCD_PREFIX = {
    "Service": "services/specs",
    "Endpoints": "services/endpoints",
    "Node": "minions",
    "Pod": "pods",
    "Namespace": "namespaces",
    "EndpointSlice": "endpointslices",
    "Deployment": "deployments",
    "ReplicaSet": "replicasets",
}


#: The status of a created Pod whose request carried none, per QoS class: shared frozen
#: objects, so the pods of one template share their status by identity (the wire's caches).
_CREATED_POD_STATUS = {q: PodStatus(phase="Pending", qos_class=q) for q in (
    _qos.QOS_BEST_EFFORT, _qos.QOS_BURSTABLE, _qos.QOS_GUARANTEED)}
_NO_POD_STATUS = PodStatus()


def _prepare_pod_create(pod: Pod, reset: bool) -> Pod:
    """``podStrategy.PrepareForCreate``'s status (``pkg/registry/core/pod/strategy.go``):
    phase ``Pending`` and ``qosClass`` from ``qos.GetPodQOS`` (the request's
    ``status.qosClass`` when given, else computed from the defaulted spec).

    Upstream replaces the whole status; so does this with ``reset`` (every manifest path:
    re-applying a saved running pod's manifest stores a pending pod, whose IP enters no
    Endpoints). Without ``reset`` (:meth:`APIServer.create`'s default, the Python object API),
    kubesim keeps the rest of a status a client gives (its phase too, when set): that is how a
    test or a guide creates a running pod with its IPs and conditions without a kubelet, a
    deviation listed in ``docs/design.md``. Every pod kubesim's controllers create carries the
    empty status and is stored with upstream's either way. ``O(containers)``."""
    st = pod.status
    qos = st.qos_class or _qos.compute_pod_qos(pod.spec)
    if reset or st is _NO_POD_STATUS or st == _NO_POD_STATUS:
        status = _CREATED_POD_STATUS.get(qos) or PodStatus(phase="Pending", qos_class=qos)
    else:
        status = attrs.evolve(st, phase=st.phase or "Pending", qos_class=qos)
    return Pod(pod.metadata, pod.spec, status)


def _with_qos_class_of(pod: Pod, old: Pod) -> Pod:
    """``pod`` with ``old``'s ``status.qosClass``: ``podStatusStrategy.PrepareForUpdate``
    backfills an empty class from the stored pod (the class is set at create; old kubelets
    dropped it). This runs before validation, so an update that leaves the class empty passes,
    while one that names another class is refused: ``ValidatePodStatusUpdate`` holds the field
    immutable (:func:`kubesim.validation.validate`). ``O(1)``."""
    return Pod(pod.metadata, pod.spec, attrs.evolve(pod.status, qos_class=old.status.qos_class))


def _uid_precondition_failed(kind: str, ns: str, name: str, given: str, stored: str) -> str:
    key = "/".join(p for p in ("/registry", _ETCD_PREFIX.get(kind, kind.lower() + "s"), ns, name) if p)
    return (
        f"StorageError: invalid object, Code: 4, Key: {key}, ResourceVersion: 0, AdditionalErrorMsg: "
        f"Precondition failed: UID in precondition: {given}, UID in object meta: {stored}"
    )


def _note_delivery(delivered: dict[str, dict[str, dict[str, str]]], ev: WatchEvent) -> None:
    """Record in ``delivered`` (an API server's ``_delivered``) that watchers are being told of
    ``ev``: the resourceVersion they last heard of its object, or, for a deletion, nothing.
    ``O(1)``; a namespace's bucket stays when its last object goes (a few per cluster)."""
    m = ev.new.metadata
    by_ns = delivered.get(ev.kind)
    if ev.type == "DELETED":
        if by_ns is not None:
            bucket = by_ns.get(m.namespace)
            if bucket is not None:
                bucket.pop(m.name, None)
        return
    if by_ns is None:
        by_ns = delivered[ev.kind] = {}
    bucket = by_ns.get(m.namespace)
    if bucket is None:
        bucket = by_ns[m.namespace] = {}
    bucket[m.name] = m.resource_version


def _delivery_mismatch(delivered: Mapping[Any, str], stored: Mapping[Any, str]) -> str:
    keys = sorted(set(delivered) ^ set(stored) | {k for k in delivered if k in stored and delivered[k] != stored[k]})
    shown = [(k, delivered.get(k), stored.get(k)) for k in keys[:5]]
    return f"watchers last heard (object, resourceVersion heard, stored) {shown}"


def _index_values(keys: tuple[str, ...], obj: Any) -> tuple[str, ...] | None:
    labels = obj.metadata.labels
    values = tuple([labels.get(k) for k in keys])  # a list comprehension: no generator frame
    return None if None in values else values


def _index_add(index: _LabelIndex, keys: tuple[str, ...], ns: str, name: str, obj: Any) -> None:
    values = _index_values(keys, obj)
    if values is not None:
        index.setdefault(ns, {}).setdefault(values, {})[name] = obj


def _index_remove(index: _LabelIndex, keys: tuple[str, ...], ns: str, name: str, obj: Any) -> None:
    values = _index_values(keys, obj)
    if values is None:
        return
    by_values = index[ns]
    named = by_values[values]
    del named[name]
    if not named:
        del by_values[values]
        if not by_values:
            del index[ns]


def _generation_bumps(kind: str, old: Any, new: Any) -> bool:
    if kind == "EndpointSlice":
        return bool(
            old.endpoints != new.endpoints
            or old.ports != new.ports
            or old.address_type != new.address_type
            or old.metadata.labels != new.metadata.labels
        )
    # Most writes carry the spec over (a status write): the same object is never unequal to
    # itself (attrs compares fields as tuples, which compare their items by identity first).
    return old.spec is not new.spec and bool(old.spec != new.spec)
