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
* ``update``: a stale ``resourceVersion`` raises :class:`~kubesim.errors.Conflict`, an empty one
  is an unconditional update; server-owned metadata is carried over; ``generation`` bumps per
  kind (EndpointSlice: any non-metadata change or a label change; Deployment, ReplicaSet, Pod:
  a spec change); an update that changes nothing is not written (no new resourceVersion, no
  watch event, no change-log record), as etcd's guaranteed-update does;
* ``delete``: graceful for Pods bound to a node (``deletionTimestamp`` = now + grace period,
  the kubelet removes the object later); objects with finalizers wait for them; dependents are
  removed by the garbage collector (see :mod:`kubesim.cluster`);
* the etcd request-size limit (``--max-request-bytes``, 1.5 MiB by default) on the stored
  protobuf size, refusing larger writes with :class:`~kubesim.errors.RequestTooLarge`.

Costs: ``get`` is ``O(1)``; ``list`` is ``O(k log k)`` for ``k`` objects of the kind in the
namespace (all namespaces: the kind's total); a write is ``O(size of the object)`` for
validation and sizing, plus ``O(watchers)``.
"""

from __future__ import annotations

import contextlib
import math
import operator
import random
import types
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from kubesim import defaults as _defaults
from kubesim import namespaces as _namespaces
from kubesim import validation as _validation
from kubesim import wire as _wire
from kubesim.changelog import ChangeEvent, ChangeLog
from kubesim.clock import Clock
from kubesim.errors import (
    AlreadyExists,
    Conflict,
    FieldError,
    Forbidden,
    InvalidObject,
    NotFound,
    RequestTooLarge,
    ServerError,
    ServerTimeout,
)
from kubesim.faults import FaultInjector
from kubesim.kinds import resolve_kind
from kubesim.labels import Selector, parse_selector
from kubesim.manifests import parse_time_nano
from kubesim.objects import CLUSTER_SCOPED, KINDS, ObjectMeta

__all__ = ["APIServer", "WatchEvent", "APIStatistics", "DEFAULT_MAX_REQUEST_BYTES", "EPOCH"]

#: etcd's default ``--max-request-bytes`` (1.5 MiB).
DEFAULT_MAX_REQUEST_BYTES = 1572864

#: Unix time of virtual time 0: 2025-01-01T00:00:00Z.
EPOCH = 1735689600

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_GENERATED_SUFFIX = 5
_MAX_GENERATE_BASE = 58

#: Kinds whose registry strategy sets metadata.generation.
_GENERATION_KINDS = frozenset({"Pod", "EndpointSlice", "Deployment", "ReplicaSet"})
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


def _with_meta(obj: Any, meta: ObjectMeta) -> Any:
    """``attrs.evolve(obj, metadata=meta)`` for a top-level object. ``O(fields)``."""
    cls = type(obj)
    get = _OTHER_FIELDS.get(cls)
    if get is None:
        return attrs.evolve(obj, metadata=meta)
    return cls(meta, *get(obj))


# _carried_over_meta and _stamped_meta name every ObjectMeta field; a new field must be added there.
assert [f.name for f in attrs.fields(ObjectMeta)] == [
    "name", "generate_name", "namespace", "self_link", "uid", "resource_version", "generation",
    "creation_timestamp", "deletion_timestamp", "deletion_grace_period_seconds", "labels",
    "annotations", "owner_references", "finalizers", "managed_fields",
], "ObjectMeta changed: update kubesim.apiserver._carried_over_meta and _stamped_meta"


def _carried_over_meta(meta: ObjectMeta, old: ObjectMeta, ns: str) -> ObjectMeta:
    """The metadata an update stores before stamping: ``meta`` (what the client sent) with the
    server-owned fields of the stored ``old`` carried over, ``namespace`` ``ns`` and an empty
    ``selfLink``. Most updates (status writes) carry the stored label, annotation, owner and
    finalizer collections over as they are: then the result equals ``old`` and ``old`` itself
    is returned (nothing is built). Collections are compared by identity, not equality: equal
    but distinct ones (labels in another order, ``controller=1`` for ``True``) are stored as
    the client sent them. ``O(1)``."""
    generate_name = meta.generate_name or old.generate_name
    if (
        generate_name == old.generate_name
        and ns == old.namespace
        and meta.name == old.name
        and old.self_link == ""
        and meta.labels is old.labels
        and meta.annotations is old.annotations
        and meta.owner_references is old.owner_references
        and meta.finalizers is old.finalizers
        and meta.managed_fields is old.managed_fields
    ):
        return old
    return ObjectMeta(
        name=meta.name,
        generate_name=generate_name,
        namespace=ns,
        self_link="",
        uid=old.uid,
        resource_version=old.resource_version,
        generation=old.generation,
        creation_timestamp=old.creation_timestamp,
        deletion_timestamp=old.deletion_timestamp,
        deletion_grace_period_seconds=old.deletion_grace_period_seconds,
        labels=meta.labels,
        annotations=meta.annotations,
        owner_references=meta.owner_references,
        finalizers=meta.finalizers,
        managed_fields=meta.managed_fields,
    )


def _stamped_meta(m: ObjectMeta, resource_version: str, generation: int) -> ObjectMeta:
    """``attrs.evolve(m, resource_version=..., generation=...)``. ``O(1)``."""
    return ObjectMeta(
        name=m.name,
        generate_name=m.generate_name,
        namespace=m.namespace,
        self_link=m.self_link,
        uid=m.uid,
        resource_version=resource_version,
        generation=generation,
        creation_timestamp=m.creation_timestamp,
        deletion_timestamp=m.deletion_timestamp,
        deletion_grace_period_seconds=m.deletion_grace_period_seconds,
        labels=m.labels,
        annotations=m.annotations,
        owner_references=m.owner_references,
        finalizers=m.finalizers,
        managed_fields=m.managed_fields,
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


@attrs.frozen
class APIStatistics:
    """A snapshot of :meth:`APIServer.statistics`."""

    objects: Mapping[str, int]
    writes: Mapping[str, int]
    resource_version: int
    refused: int


WatchFn = Callable[[WatchEvent], object]


@attrs.define(eq=False)
class APIServer:
    """The simulated kube-apiserver with its etcd.

    Methods by purpose:

    * reads: :meth:`get`, :meth:`try_get`, :meth:`list`, :meth:`list_namespace`,
      :meth:`select` (an indexed label lookup);
    * writes: :meth:`create`, :meth:`update`, :meth:`delete`, :meth:`remove`;
    * watch: :meth:`watch`;
    * atomic batches: :meth:`transaction`;
    * introspection: :meth:`statistics`, :meth:`_check`.
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
    _store: dict[str, dict[str, dict[str, Any]]] = attrs.field(factory=dict, repr=False)
    _rv: int = attrs.field(default=0, repr=False)
    _watchers: list[tuple[frozenset[str] | None, WatchFn]] = attrs.field(factory=list, repr=False)
    _buffer: list[WatchEvent] | None = attrs.field(default=None, repr=False)
    _delivery: dict[tuple[str, str, str], float] = attrs.field(factory=dict, repr=False)
    _writes: dict[str, int] = attrs.field(factory=dict, repr=False)
    _refused: int = attrs.field(default=0, repr=False)
    # label indexes: kind -> label keys -> namespace -> label values -> name -> object
    _indexes: dict[str, dict[tuple[str, ...], _LabelIndex]] = attrs.field(factory=dict, repr=False)

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
        b = by_ns.get(self._ns(kind, namespace))
        return None if b is None else b.get(name)

    def get(self, kind: str, name: str, namespace: str | None = "default") -> Any:
        """The stored object; raises :class:`~kubesim.errors.NotFound`. ``O(1)``."""
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
        return by_ns.get(self._ns(kind, namespace), {})

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
        commit order. Returns a function that stops the watch."""
        entry = (None if kinds is None else frozenset(kinds), fn)
        self._watchers.append(entry)

        def stop() -> None:
            if entry in self._watchers:
                self._watchers.remove(entry)

        return stop

    def _notify(self, ev: WatchEvent) -> None:
        if self._buffer is not None:
            self._buffer.append(ev)
            return
        if self.faults is not None and self.faults.plan.watch_delay > 0:
            # Late delivery; one object's events keep their order.
            key = (ev.kind, ev.new.metadata.namespace, ev.new.metadata.name)
            at = max(self.clock.now + self.faults.delay(), self._delivery.get(key, 0.0))
            self._delivery[key] = at
            self.clock.schedule_at(at, lambda: self._deliver(ev))
            return
        self._deliver(ev)

    def _deliver(self, ev: WatchEvent) -> None:
        for kinds, fn in self._watchers:
            if kinds is None or ev.kind in kinds:
                fn(ev)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: writes inside are committed together, or, if the block raises, the
        store, the resourceVersion counter, the change log and the random state are restored
        and no watcher hears of them. Watch events are delivered when the block ends.
        ``O(objects)`` to snapshot."""
        if self._buffer is not None:  # nested: the outer transaction decides
            yield
            return
        snapshot = (
            {k: {ns: dict(b) for ns, b in by_ns.items()} for k, by_ns in self._store.items()},
            self._rv,
            len(self.changes),
            self.rng.getstate(),
            dict(self._writes),
        )
        self._buffer = []
        try:
            yield
        except BaseException:
            self._store, self._rv, n, state, self._writes = snapshot
            for kind, by_keys in self._indexes.items():
                for keys in by_keys:
                    by_keys[keys] = self._build_index(kind, keys)
            self.changes.truncate(n)
            self.rng.setstate(state)
            self._buffer = None
            raise
        buffered, self._buffer = self._buffer, None
        for ev in buffered:
            self._notify(ev)

    # ---------------------------------------------------------------------------- helpers

    def _now_ts(self) -> int:
        return self.epoch + int(math.floor(self.clock.now))

    def _new_uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

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
        self, verb: str, obj: Any, actor: str, sizes: tuple[int, int, int], cause: str = "", outcome: str = "ok"
    ) -> None:
        meta: ObjectMeta = obj.metadata
        cause = cause or self.clock.context
        trig = meta.annotations.get(TRIGGER_TIME_ANNOTATION) if meta.annotations else None
        trigger_time = None
        if trig is not None:
            try:
                trigger_time = parse_time_nano(trig) - self.epoch
            except ValueError:
                trigger_time = None  # a malformed annotation written by a user
        self.changes.append(
            ChangeEvent(
                seq=self.changes.next_seq,
                time=self.clock.now,
                verb=verb,
                kind=obj.kind,
                namespace=meta.namespace,
                name=meta.name,
                resource_version=int(meta.resource_version or 0) if outcome == "ok" else 0,
                actor=actor,
                json_bytes=sizes[0],
                proto_bytes=sizes[1],
                labels=meta.labels,
                trigger_time=trigger_time,
                outcome=outcome,
                cause=cause,
                object=obj if self.record_objects and outcome == "ok" else None,
            )
        )
        if outcome == "ok":
            self._writes[verb] = self._writes.get(verb, 0) + 1
        else:
            self._refused += 1

    # ---------------------------------------------------------------------------- writes

    def prepare_create(self, obj: Any) -> Any:
        """Default and validate ``obj`` as :meth:`create` would, without writing.
        Raises what create would raise (except AlreadyExists for a generated name)."""
        kind = obj.kind
        meta = obj.metadata
        ns = self._ns(kind, meta.namespace)
        if meta.namespace != ns:
            obj = attrs.evolve(obj, metadata=attrs.evolve(meta, namespace=ns))
        obj = _defaults.apply_defaults(obj)
        if kind == "Namespace":
            obj = _namespaces.prepare_for_create(obj)
        if not obj.metadata.name and not obj.metadata.generate_name:
            raise InvalidObject(
                kind, "", [FieldError("metadata.name", "Required value", detail="name or generateName is required")]
            )
        _validation.validate(obj)
        return obj

    def create(self, obj: Any, *, actor: str = "client", cause: str = "") -> Any:
        """Create ``obj``; returns the stored object (with uid, resourceVersion …).

        Raises :class:`~kubesim.errors.AlreadyExists`, :class:`~kubesim.errors.InvalidObject`,
        :class:`~kubesim.errors.RequestTooLarge`.
        """
        if type(obj).__name__ not in KINDS:
            raise TypeError(f"not an API object: {obj!r}")
        if self.namespace_lifecycle:
            # Mutating admission runs before the registry's validation.
            _namespaces.admit_create(self, obj.kind, obj.metadata.name, self._ns(obj.kind, obj.metadata.namespace))
        obj = self.prepare_create(obj)
        kind = obj.kind
        meta = obj.metadata
        bucket = self._bucket(kind, meta.namespace)
        name = meta.name
        if not name:
            name = self._generate_name(meta.generate_name, bucket)
            # The generated name must itself be valid (base truncated to 58 characters).
        elif name in bucket:
            raise AlreadyExists(kind, name, meta.namespace)
        if kind == "Service" and self.service_ip_hook is not None:
            obj = self.service_ip_hook(obj, None)
            meta = obj.metadata
        new_meta = attrs.evolve(
            meta,
            name=name,
            uid=self._new_uid(),
            resource_version="",
            generation=1 if kind in _GENERATION_KINDS else 0,
            creation_timestamp=self._now_ts(),
            deletion_timestamp=None,
            deletion_grace_period_seconds=None,
            self_link="",
        )
        if not meta.name:
            _validation.validate(_with_meta(obj, new_meta))
        obj, sizes = self._stamp(obj, new_meta)
        self._check_size(kind, name, sizes[2])
        return self._commit("create", "ADDED", bucket, obj, None, actor, sizes, cause)

    def update(self, obj: Any, *, actor: str = "client", cause: str = "", subresource: str = "") -> Any:
        """Replace the stored object with ``obj``; returns the stored result.

        A non-empty ``metadata.resourceVersion`` must match the stored one
        (:class:`~kubesim.errors.Conflict` otherwise). An update that changes nothing returns
        the stored object unchanged and records nothing. ``subresource`` (``"status"``,
        ``"finalize"``) matters for Namespaces only, whose strategies keep the other parts.
        """
        kind = obj.kind
        meta = obj.metadata
        ns = self._ns(kind, meta.namespace)
        bucket = self._bucket(kind, ns)
        old = bucket.get(meta.name)
        if old is None:
            raise NotFound(kind, meta.name, ns)
        old_meta: ObjectMeta = old.metadata
        if meta.resource_version and meta.resource_version != old_meta.resource_version:
            raise Conflict(kind, meta.name, ns)
        if kind == "Service" and self.service_ip_hook is not None:
            obj = self.service_ip_hook(obj, old)
        obj = _defaults.apply_defaults(obj)
        if kind == "Namespace":
            obj = _namespaces.prepare_for_update(obj, old, subresource)
        new_meta = _carried_over_meta(obj.metadata, old_meta, ns)
        if new_meta is not obj.metadata:
            obj = _with_meta(obj, new_meta)
        if obj == old:
            return old
        _validation.validate(obj, old)
        generation = old_meta.generation
        if kind in _GENERATION_KINDS and _generation_bumps(kind, old, obj):
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
    ) -> Any:
        """The one place a checked write lands: fault injection, the resourceVersion, the
        store, the change log and the watchers."""
        fault = self.faults.draw(actor) if self.faults is not None else None
        if fault in ("conflict", "error"):
            self._record(verb, obj, actor, sizes, cause, outcome=fault)
            name, ns = obj.metadata.name, obj.metadata.namespace
            if fault == "conflict":
                raise Conflict(obj.kind, name, ns)
            raise ServerError(f"Internal error occurred: injected fault on {verb} of {obj.kind} {ns}/{name}")
        self._rv += 1
        if verb == "delete":
            del bucket[obj.metadata.name]
        else:
            bucket[obj.metadata.name] = obj
        indexes = self._indexes.get(obj.kind)
        if indexes:
            ns, name = obj.metadata.namespace, obj.metadata.name
            for keys, index in indexes.items():
                if old is not None:
                    _index_remove(index, keys, ns, name, old)
                if verb != "delete":
                    _index_add(index, keys, ns, name, obj)
        self._record(verb, obj, actor, sizes, cause)
        self._notify(WatchEvent(event, obj.kind, old, obj, actor))
        if fault == "timeout":
            raise ServerTimeout(
                f"Timeout: request did not complete within the allowed duration ({verb} of "
                f"{obj.kind} {obj.metadata.namespace}/{obj.metadata.name}; the write was committed)",
                committed=True,
            )
        return obj

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


def _index_values(keys: tuple[str, ...], obj: Any) -> tuple[str, ...] | None:
    labels = obj.metadata.labels
    values = tuple(labels.get(k) for k in keys)
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
    return bool(old.spec != new.spec)
