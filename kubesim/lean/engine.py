"""The lean engine: the full model's controllers over a lean API server.

``kubesim.Cluster()`` — ``engine="lean"``, the default; :class:`LeanCluster` is the same under
the older name — writes through a :class:`LeanAPIServer` once its bootstrap is written
(:func:`make_lean`); ``engine="full"`` keeps the full model's API server, the oracle. The lean
engine keeps every controller, queue, clock entry, random draw and write of the
full model as it is, so the change log is the full model's record for record
(``seq``, ``time``, ``verb``, ``kind``, ``namespace``, ``name``, ``resource_version``,
``actor``, sizes, ``labels``, ``trigger_time``, ``outcome``, ``cause``) — for every workload
and option, faults included, and whatever the other controllers come to model. What the lean
API server changes is *how* a write is checked, measured and delivered:

* **trusted controller writes**: the kinds kubesim's own controllers, kubelet and scheduler
  write (:data:`TRUSTED`) are neither defaulted nor validated again; users' writes, Events
  and every other kind or actor take the full path;
* **sizes by parts** (Pods, ReplicaSets, Deployments): the wire's parts, with the stored
  object's metadata and unchanged ``spec``/``status`` taken from a per-name record, the
  resourceVersion and the metadata's counters added by arithmetic, a bind's ``nodeName``
  and a scale's ``replicas`` too (:data:`CHECK_SIZES` compares each with
  :func:`kubesim.wire.sizes3`);
* **slice sizes by changed entries**: an EndpointSlice update's endpoint size sums come from
  the stored slice's, corrected by the entries that differ (by identity), instead of a cached
  lookup per entry; the stored slice's sums are kept per slice name as well, so a wholesale
  clear of the wire's memo of them does not make every slice's next write sum its entries
  anew (:func:`_restore_slice_sums`); the EndpointSlice planner vouches for its own updates'
  sums (:func:`kubesim.wire.vouch_slice_endpoints`), so this covers the writes it did not;
* **endpoint metadata by record** (Endpoints, EndpointSlices): the metadata's sizes from the
  record of the last object of the name sized, by arithmetic when only its counters and
  annotations changed (:func:`_sizes_by_meta_record`), an EndpointSlice's rest from the
  wire's memos in one pass (:func:`_slice_rest`), an Endpoints' as the wire has it;
* **watch delivery by static dispatch**: each kind's watchers are listed once (rebuilt when a
  watch starts or stops), instead of a filter over every watcher per event.

The oracle is the full model itself: :func:`kubesim.lean.check.check_workload` runs one
workload on a :class:`LeanCluster` and on a :class:`kubesim.Cluster` and raises
:class:`~kubesim.lean.check.Divergence` at the first change-log record where they differ,
then compares the stored objects (which a defaulting step the trusted path skipped would
change).
"""
from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from typing import Any

import attrs

from kubesim import cluster as _cluster
from kubesim import wire as _wire
from kubesim._memo import ByIdentity
from kubesim.apiserver import _BUILD, _OTHER_FIELDS, APIServer, WatchEvent, _meta, _note_delivery
from kubesim.defaults import pod_level_defaults_apply
from kubesim.errors import InvalidOption
from kubesim.objects import (
    Deployment,
    Endpoints,
    EndpointSlice,
    ObjectMeta,
    Pod,
    PodSpec,
    PodStatus,
    ReplicaSet,
    ReplicaSetSpec,
)
from kubesim.wire import endpoints as _wire_endpoints
from kubesim.wire import measure as _measure
from kubesim.wire.caches import _PAIR_MASK, _PAIR_SHIFT, _STR_PAIRS, _str_pair
from kubesim.wire.gojson import _json_str_len, _time_json_len
from kubesim.wire.measure import envelope_size
from kubesim.wire.meta import _labels_pair, _meta_body_pair, _meta_json_sizes
from kubesim.wire.pods import _pod_status_pair
from kubesim.wire.protobuf import _sf, sov, wrap

_wire_sizes3 = _wire.sizes3

__all__ = ["LeanAPIServer", "LeanCluster", "TRUSTED"]

#: The writes the lean engine trusts: ``actor -> kinds``. kubesim's own controllers write these
#: kinds from objects the API server stored (defaulted and validated) or from their own
#: templates, so the lean engine neither defaults nor validates them again; every other write
#: (users, the CLI, other kinds such as Events, other actors) takes the full path. The full
#: model runs both steps on every write, and :func:`kubesim.lean.check.check_workload` compares
#: the records and the stored objects.
TRUSTED: dict[str, frozenset[str]] = {
    "kubelet": frozenset({"Pod"}),
    "scheduler": frozenset({"Pod"}),
    "replicaset-controller": frozenset({"Pod", "ReplicaSet"}),
    "deployment-controller": frozenset({"ReplicaSet", "Deployment"}),
    "endpoint-controller": frozenset({"Endpoints"}),
    "endpointslice-controller": frozenset({"EndpointSlice"}),
}
_NOTHING: frozenset[str] = frozenset()

class _LeanState:
    """What a :class:`LeanAPIServer` keeps besides the full model's state, in the base class's
    ``_ext`` slot (one attribute read per write, where side tables keyed weakly by the API
    server cost a ``WeakKeyDictionary`` lookup each)."""

    __slots__ = ("parts", "metas", "slice_sums", "last", "by_kind")

    def __init__(self) -> None:
        #: (type, namespace, name) -> the record of the last object of that name sized
        #: (see :data:`_Record`)
        self.parts: dict[tuple[type, str, str], _Record] = {}
        #: (type, namespace, name) -> the metadata record of the last Endpoints or
        #: EndpointSlice of that name sized (see :data:`_MetaRecord`)
        self.metas: dict[tuple[type, str, str], _MetaRecord] = {}
        #: (namespace, name) -> the endpoints tuple of the last EndpointSlice of that name
        #: sized and its packed size sums (see :func:`_restore_slice_sums`)
        self.slice_sums: dict[tuple[str, str], tuple[tuple[Any, ...], int]] = {}
        #: the last record made and its sizes: a create's trial
        self.last: tuple[_Record, tuple[int, int, int]] | None = None
        #: kind -> the watchers of that kind, in registration order (emptied when a watch
        #: starts or stops)
        self.by_kind: dict[str, list[Callable[[WatchEvent], object]]] = {}


class LeanAPIServer(APIServer):
    """:class:`kubesim.apiserver.APIServer` with trusted controller writes, sizes by parts,
    slice sizes by changed entries and watch delivery by static dispatch (see the module
    docstring). Same writes, same records.

    It adds no slot of its own (``__slots__ = ()``: the per-kind watcher lists and the size
    records live in a :class:`_LeanState` in the base class's ``_ext`` slot, made at first
    use), so a built :class:`~kubesim.apiserver.APIServer` can become one by a class change:
    that is how :class:`LeanCluster` gets it, with no behaviour of the full model touched."""

    __slots__ = ()

    def _lean(self) -> _LeanState:
        """This server's :class:`_LeanState`, made at the first call. ``O(1)``."""
        st = self._ext
        if st is None:
            st = self._ext = _LeanState()
        return st  # type: ignore[no-any-return]

    def _watchers_of(self, kind: str) -> list[Callable[[WatchEvent], object]]:
        table = (self._ext or self._lean()).by_kind
        fns = table.get(kind)
        if fns is None:
            fns = table[kind] = [fn for kinds, fn in self._watchers if kinds is None or kind in kinds]
        return fns

    # ------------------------------------------------------------------ trusted writes

    def _default(self, obj: Any, actor: str) -> Any:
        # The ReplicaSet controller's Pod, made from a defaulted template, still lacks what
        # SetDefaults_Pod adds for a Pod alone (requests from limits, hostNetwork ports): the
        # full path then. (The kubelet's and scheduler's Pods carry the stored, defaulted spec.)
        if obj.kind in TRUSTED.get(actor, _NOTHING) and not (
            actor == "replicaset-controller" and type(obj) is Pod and pod_level_defaults_apply(obj.spec)
        ):
            return obj
        return super()._default(obj, actor)

    def _validate(self, obj: Any, old: Any | None, actor: str) -> None:
        if obj.kind not in TRUSTED.get(actor, _NOTHING):
            super()._validate(obj, old, actor)

    # ------------------------------------------------------------------ sizes

    def _stamp(self, obj: Any, meta: ObjectMeta, generation: int | None = None) -> tuple[Any, tuple[int, int, int]]:
        cls = type(obj)
        plan = _PLANS.get(cls)
        if plan is None and cls is not EndpointSlice and cls is not Endpoints:
            return super()._stamp(obj, meta, generation)
        gen = meta.generation if generation is None else generation
        rv = str(self._rv + 1)
        # _with_meta(obj, _stamped_meta(meta, rv, gen)), two calls fewer; a planned class is
        # (metadata, spec, status) (asserted with _PLANS), built without unpacking a tuple
        m = meta
        stamped_meta = _meta(
            m.name, m.generate_name, m.namespace, m.self_link, m.uid, rv, gen, m.creation_timestamp,
            m.deletion_timestamp, m.deletion_grace_period_seconds, m.labels, m.annotations,
            m.owner_references, m.finalizers, m.managed_fields,
        )
        st = self._ext or self._lean()
        if plan is None:  # an Endpoints or EndpointSlice
            stamped = _BUILD[cls](stamped_meta, *_OTHER_FIELDS[cls](obj))
            sizes = _endpoints_sizes(self, st, stamped, m, gen, rv)
        else:
            stamped = _BUILD[cls](stamped_meta, obj.spec, obj.status)
            table = st.parts
            key = (cls, m.namespace, m.name)
            rec = table.get(key)
            delta = None
            if rec is not None and m.self_link == "":
                # The stored metadata carried over (a status write, a bind, a delete's last
                # state) or changed in its counters (a generation bump, a graceful delete's
                # mark) and annotations only: the metadata's sizes from the record's by
                # arithmetic, and the parts reused where they are the same objects. The
                # record's own metadata with its generation kept is what _meta_delta would
                # find unchanged, asked.
                was = rec[0]
                delta = _NO_DELTA if m is was and gen == was.generation else _meta_delta(was, m, gen)
            if rec is not None and delta is not None:
                sizes, new = _sizes_from(plan, stamped, rec, rv, delta)
            else:
                sizes, new = _sizes_by_parts(plan, stamped)
            if len(table) >= _PARTS_LIMIT:
                table.clear()
            table[key] = new
            st.last = (new, sizes)
        if CHECK_SIZES:
            want = _wire_sizes3(stamped)
            if want != sizes:
                raise AssertionError(f"lean sizes {sizes} != {want} for {obj.kind} {m.namespace}/{m.name}")
        return stamped, sizes

    def _keep_sizes(self, verb: str, obj: Any, sizes: tuple[int, int, int]) -> None:
        st: _LeanState | None = self._ext
        if st is None:
            return
        if type(obj) not in _PLANS:
            if verb == "delete":
                if st.metas:
                    st.metas.pop((type(obj), obj.metadata.namespace, obj.metadata.name), None)
                if type(obj) is EndpointSlice:
                    st.slice_sums.pop((obj.metadata.namespace, obj.metadata.name), None)
            elif type(obj) is EndpointSlice:
                # a create, sized on a stand-in (the trial) of another name: the sums of the
                # same endpoints tuple, recorded for the created name (the only place a name
                # enters the records but a slice stored before the engine was lean)
                _note_slice_sums(st.slice_sums, obj.metadata.namespace, obj.metadata.name, obj.endpoints)
            return
        if verb == "delete":
            # A deleted object's record would only keep its last state alive.
            st.parts.pop((type(obj), obj.metadata.namespace, obj.metadata.name), None)
        elif verb == "create":
            # A create is sized on a stand-in of the same lengths (the trial, stamped last):
            # its record is the created object's, so the first update (a bind) finds one.
            last = st.last
            if last is not None and last[1] == sizes:
                rec = last[0]
                meta = obj.metadata
                if meta.generation == rec[0].generation and all(
                    getattr(obj, attr) is part for (attr, _), (part, _, _) in zip(_PLANS[type(obj)][0], rec[3], strict=True)
                ):
                    st.parts[(type(obj), meta.namespace, meta.name)] = (meta, rec[1], rec[2], rec[3])

    # ------------------------------------------------------------------ watch

    def watch(self, fn: Callable[[WatchEvent], object], kinds: set[str] | frozenset[str] | None = None) -> Callable[[], None]:
        self._lean().by_kind = {}
        stop = super().watch(fn, kinds)

        def stop_and_forget() -> None:
            self._lean().by_kind = {}
            stop()

        return stop_and_forget

    def _drain(self) -> None:
        """:meth:`APIServer._drain` delivering each event to its kind's watchers listed once
        (:meth:`_watchers_of`) instead of :meth:`APIServer._deliver`'s filter over every
        watcher, in its loop: one call fewer per watch event (nearly every drain delivers one
        event: the write's own). The per-kind list is read per event: a watcher that starts or
        stops a watch empties the table, and the next event finds the new list (the event
        being delivered goes on to the list it started with, as in :meth:`APIServer._deliver`).
        Check mode drains through :meth:`APIServer._deliver` (``CheckedAPIServer._drain``)."""
        self._delivering = True
        queue = self._queue
        delivered = self._delivered
        st = self._ext or self._lean()
        try:
            while queue:
                ev = queue.popleft()
                kind = ev.kind
                m = ev.new.metadata
                by_ns = delivered.get(kind)
                bucket = by_ns.get(m.namespace) if by_ns is not None and ev.type != "DELETED" else None
                if bucket is None:
                    _note_delivery(delivered, ev)
                else:
                    bucket[m.name] = m.resource_version
                fns = st.by_kind.get(kind)
                for fn in self._watchers_of(kind) if fns is None else fns:
                    fn(ev)
        finally:
            self._delivering = False


def _endpoints_sizes(
    api: LeanAPIServer, st: _LeanState, stamped: Any, meta: ObjectMeta, gen: int, rv: str
) -> tuple[int, int, int]:
    """:meth:`LeanAPIServer._stamp`'s sizes of an Endpoints or EndpointSlice ``stamped`` (``meta``
    stamped with ``rv`` and ``gen``): stamping changes only the metadata, so an
    EndpointSlice's endpoints stay, and their size sums are vouched from the stored slice's
    (:func:`_vouch_slice_endpoints`); the metadata is sized from the name's record
    (:func:`_sizes_by_meta_record`). ``O(1)`` plus ``O(changed entries)``."""
    stored_slice = None
    if type(stamped) is EndpointSlice:
        bucket = api._store.get("EndpointSlice", {}).get(meta.namespace)
        stored_slice = bucket.get(meta.name) if bucket is not None else None
        if stored_slice is not None:
            eps = stored_slice.endpoints
            if _memo_sums(eps) is None:  # forgotten by the wire's memo
                _restore_slice_sums(st.slice_sums, meta, eps)
            _vouch_slice_endpoints(eps, stamped.endpoints)
    sizes = _sizes_by_meta_record(st.metas, stamped, meta, gen, rv)
    if stored_slice is not None:
        # an update or a delete (a create: at its commit, _keep_sizes)
        _note_slice_sums(st.slice_sums, meta.namespace, meta.name, stamped.endpoints)
    return sizes


# --------------------------------------------------------------------------------------------
# sizes by parts: Pods, ReplicaSets and Deployments
#
# Their sizes are those of :func:`kubesim.wire.sizes3`, assembled from the same parts the wire
# module assembles them from (:mod:`kubesim.wire.measure`: the metadata in closed form, the
# ``spec`` and ``status`` bodies cached by identity), with what an update carries over taken
# from the stored object's record instead of being looked up again:
#
#   protobuf raw = wrap(meta body) + sum(wrap(body(part))) + constant   (envelope added)
#   JSON         = base + sum(json(part)) + json(meta)
#
# and, for the metadata of a stored object stamped with a new resourceVersion ``rv`` (the
# carried-over metadata of a status write, a bind, a delete), from the rv-free sizes:
#
#   meta body with rv = without + 2 + len(rv) - 2        (resourceVersion: a string field)
#   meta JSON with rv = without + len('"resourceVersion":') + len(rv) + 2 + 1
#
# Check mode (:func:`kubesim.lean.check.check_workload`) compares every record with the full
# model's, which measures with :func:`kubesim.wire.sizes3`; with :data:`CHECK_SIZES` every size
# is compared at once as well.

#: When true, every size the lean engine assembles is compared with :func:`kubesim.wire.sizes3`
#: and a mismatch raises :class:`AssertionError`. Tests turn it on (as ``KUBESIM_CHECK_HINTS=1``
#: does at import).
CHECK_SIZES: bool = _wire.CHECK_HINTS

# type -> (proto parts ((attr, body size), ...), proto constant, JSON base, JSON attrs)
_PLANS: dict[type, tuple[tuple[tuple[str, ByIdentity[Any, int]], ...], int, int, tuple[str, ...]]] = {}
for _cls in (Pod, ReplicaSet, Deployment):
    _parts, _const = _measure._PROTO_PARTS[_cls]
    _jplan = _measure._json_plan(_cls)
    assert _jplan is not False and tuple(a for a, _ in _parts) == _jplan[1] == ("spec", "status"), _cls
    assert [f.name for f in attrs.fields(_cls)] == ["metadata", "spec", "status"], _cls
    _PLANS[_cls] = (_parts, _const, _jplan[0], _jplan[1])

#: The constant bytes of the ``runtime.Unknown`` envelope per planned class:
#: ``envelope_size(cls, n) == _ENVELOPE[cls] + sov(n) + n``.
_ENVELOPE: dict[type, int] = {cls: envelope_size(cls, 0) - sov(0) for cls in (*_PLANS, Endpoints, EndpointSlice)}

# The record of the last object of a name sized (_LeanState.parts): its metadata, meta body
# without rv, meta JSON without rv, ((part, body size, JSON size), ...)
_Record = tuple[ObjectMeta, int, int, tuple[tuple[Any, int, int], ...]]
#: The most records :attr:`_LeanState.parts` (and ``metas``) hold before they are cleared
#: wholesale. A record is dropped when its object is deleted, so the tables hold about one per
#: live object, plus strays of names sized by a write that did not commit; the bound is only
#: for those. It must exceed the live objects of the largest cluster run: a bound below that
#: (it was ``1 << 16``) made the hit rate fall with size: the more live objects, the more often
#: the tables are cleared, and every write after a clear of its record sizes all its parts anew.
_PARTS_LIMIT = 1 << 20
_K_RV = len('"resourceVersion":') + 2 + 1
_sub_json = _measure._sub_json
_sub_json_len = _measure._sub_json_len


# Parts whose change is often one scalar field (a bind sets ``spec.nodeName``; a scale sets a
# ReplicaSet's ``spec.replicas``): part type -> (the field, a getter of the other fields, the
# protobuf body delta, the JSON delta; a delta of ``None``: not by arithmetic).
_K_NODE_NAME = len('"nodeName":') + 1  # omitempty; never the only key of a PodSpec (containers)


def _node_name_proto(old: str, new: str) -> int | None:
    return _sf(new) - _sf(old)  # nodeName: field 10, a string always written


def _node_name_json(old: str, new: str) -> int | None:
    return ((_K_NODE_NAME + _json_str_len(new)) if new else 0) - ((_K_NODE_NAME + _json_str_len(old)) if old else 0)


def _replicas_proto(old: int | None, new: int | None) -> int | None:
    if old is None or new is None or old < 0 or new < 0:
        return None
    return sov(new) - sov(old)  # replicas: field 1, an optional int32


def _replicas_json(old: int | None, new: int | None) -> int | None:
    if old is None or new is None:
        return None
    return len(str(new)) - len(str(old))


def _others(cls: type, field: str) -> Callable[[Any], Any]:
    return operator.attrgetter(*(f.name for f in attrs.fields(cls) if f.name != field))


_Delta = tuple[str, Callable[[Any], Any], Callable[[Any, Any], "int | None"], Callable[[Any, Any], "int | None"]]
_DELTAS: dict[type, _Delta] = {
    PodSpec: ("node_name", _others(PodSpec, "node_name"), _node_name_proto, _node_name_json),
    ReplicaSetSpec: ("replicas", _others(ReplicaSetSpec, "replicas"), _replicas_proto, _replicas_json),
}


def _part_sizes(body: ByIdentity[Any, int], part: Any, was: Any, body_len: int, js: int) -> tuple[int, int]:
    """``(body size, JSON size)`` of ``part``, which replaces ``was`` (of those sizes): by
    arithmetic when they differ in one scalar field of :data:`_DELTAS`, else measured.

    Measured without the wire's identity caches (``body.fn`` and the JSON sizer behind
    ``_sub_json``, the functions those caches remember): a part that replaces the record's is
    a new object nearly always (none of them was found in those caches over a 200-pod
    rollout), so a cache would only add an entry per write and a callback when the part dies.
    A Pod's status is sized in one walk for both encodings (:func:`_pod_status_pair`)."""
    cls = type(part)
    delta = _DELTAS.get(cls)
    if delta is not None and type(was) is cls:
        field, others, dp, dj = delta
        if others(part) == others(was):
            a, b = getattr(was, field), getattr(part, field)
            x, y = dp(a, b), dj(a, b)
            if x is not None and y is not None:
                return body_len + x, js + y
    if cls is PodStatus:
        v = _pod_status_pair(part)
        return v & _PAIR_MASK, v >> _PAIR_SHIFT
    return body.fn(part), _sub_json_len(part)


def _assemble(obj: Any, rest_p: int, rest_j: int, mp_rv: int, mp_no: int, mj_rv: int) -> tuple[int, int, int]:
    """``(JSON, protobuf as served, protobuf as stored)`` from the sizes of the parts: the
    metadata body wrapped (``wrap``) and :func:`~kubesim.wire.measure.envelope_size` of the
    raw message, with the envelope's constant bytes per class (:data:`_ENVELOPE`) and the
    varint lengths written out (``sov(n) == ((n | 1).bit_length() + 6) // 7`` for ``n >= 0``;
    every size here is a length). ``O(1)``."""
    raw_rv = rest_p + mp_rv + 1 + ((mp_rv | 1).bit_length() + 6) // 7
    raw_no = rest_p + mp_no + 1 + ((mp_no | 1).bit_length() + 6) // 7
    fixed = _ENVELOPE[type(obj)]
    return (
        rest_j + mj_rv,
        fixed + raw_rv + ((raw_rv | 1).bit_length() + 6) // 7,
        fixed + raw_no + ((raw_no | 1).bit_length() + 6) // 7,
    )


def _sizes_by_parts(plan: Any, obj: Any) -> tuple[tuple[int, int, int], _Record]:
    """``sizes3(obj)`` from its parts, and the record of them. ``O(changed parts)``."""
    parts, rest_p, rest_j, _ = plan
    got = []
    for attr, body in parts:
        part = getattr(obj, attr)
        p, j = body(part), _sub_json(part)
        rest_p += wrap(p)
        rest_j += j
        got.append((part, p, j))
    meta = obj.metadata
    mp_rv, mp_no = _meta_body_pair(meta)
    mj_rv, mj_no = _meta_json_sizes(meta, True)
    return _assemble(obj, rest_p, rest_j, mp_rv, mp_no, mj_rv), (meta, mp_no, mj_no, tuple(got))


# The metadata fields a delta may change; every other field must be the record's.
_COUNTERS = ("resource_version", "generation", "deletion_timestamp", "deletion_grace_period_seconds")
_META_OTHERS = operator.attrgetter(*(f.name for f in attrs.fields(ObjectMeta) if f.name not in _COUNTERS))
# ... and those but the annotations
_META_REST = operator.attrgetter(
    *(f.name for f in attrs.fields(ObjectMeta) if f.name not in _COUNTERS and f.name != "annotations")
)
_K_ANNOTATIONS = len('"annotations":') + 1
_K_GENERATION = len('"generation":') + 1
_K_DELETION = len('"deletionTimestamp":') + 1
_K_GRACE = len('"deletionGracePeriodSeconds":') + 1


def _counter_sizes(generation: int, deletion: int | None, grace: int | None) -> tuple[int, int]:
    """(protobuf, JSON) bytes the three counters add to a metadata without resourceVersion
    (:func:`kubesim.wire.meta._meta_body_pair`, ``_meta_json_sizes``: generation always
    written in protobuf and omitted at 0 in JSON, the other two only when set; a JSON key
    also brings its comma, as the metadata always has a name before it)."""
    p = 1 + sov(generation)
    j = _K_GENERATION + len(str(generation)) if generation else 0
    if deletion is not None:
        p += 5 + sov(deletion)
        j += _K_DELETION + _time_json_len(deletion, True)
    if grace is not None:
        p += 1 + sov(grace)
        j += _K_GRACE + len(str(grace))
    return p, j


def _annotations_delta(old: Any, new: Any) -> tuple[int, int]:
    """``(protobuf, JSON)`` size change of a metadata whose annotation map ``old`` becomes
    ``new``, from the packed sizes of the two maps' entries as the wire sizes them
    (:data:`kubesim.wire.meta._labels_pair`, the identity memo :func:`kubesim.wire.meta.
    _meta_body_pair` and ``_meta_json_sizes`` look the map up in): the protobuf entries add
    up; the JSON ``"annotations":{...}`` is omitted when the map is empty and otherwise
    brings its comma (the metadata always has a name before it). ``O(entries)`` of a map not
    sized before, else ``O(1)``."""
    p0, p1 = _labels_pair(old), _labels_pair(new)
    j0, j1 = p0 >> _PAIR_SHIFT, p1 >> _PAIR_SHIFT
    return (p1 & _PAIR_MASK) - (p0 & _PAIR_MASK), (_K_ANNOTATIONS + j1 if j1 else 0) - (_K_ANNOTATIONS + j0 if j0 else 0)


def _meta_delta(was: ObjectMeta, meta: ObjectMeta, generation: int) -> tuple[int, int] | None:
    """``(protobuf, JSON)`` size change of the rv-free metadata from the record's ``was`` to
    ``meta`` stamped with ``generation``, when they differ in the counters and the annotations
    only (``None`` otherwise: measure). The annotations change on every Endpoints write and on
    some EndpointSlice writes (the trigger time, :func:`_annotations_delta`). ``O(1)``."""
    extra = _NO_DELTA
    if meta is not was and _META_OTHERS(meta) != _META_OTHERS(was):
        if not meta.name or _META_REST(meta) != _META_REST(was):
            return None
        extra = _annotations_delta(was.annotations, meta.annotations)
    deletion, grace = meta.deletion_timestamp, meta.deletion_grace_period_seconds
    if generation == was.generation and deletion == was.deletion_timestamp and grace == was.deletion_grace_period_seconds:
        return extra
    if generation < 0 or (deletion is not None and deletion < 0) or (grace is not None and grace < 0):
        return None  # negative varints: leave them to the wire
    p1, j1 = _counter_sizes(generation, deletion, grace)
    p0, j0 = _counter_sizes(was.generation, was.deletion_timestamp, was.deletion_grace_period_seconds)
    return p1 - p0 + extra[0], j1 - j0 + extra[1]


def _sizes_from(
    plan: Any, obj: Any, rec: _Record, rv: str, delta: tuple[int, int]
) -> tuple[tuple[int, int, int], _Record]:
    """``sizes3(obj)`` for ``obj`` stamped with resourceVersion ``rv`` (ASCII digits) from
    metadata that differs from the record's by ``delta`` (:func:`_meta_delta`), its parts
    (``spec`` and ``status``, the two of every planned class) taken from the record where they
    are the same objects. :func:`_assemble` written out (every size here is a length, so
    ``wrap(n) == n + 1 + ((n | 1).bit_length() + 6) // 7``). ``O(changed parts)``."""
    (_, spec_body), (_, status_body) = plan[0]
    _, mp_no, mj_no, parts = rec
    mp_no += delta[0]
    mj_no += delta[1]
    spec_rec, status_rec = parts
    spec, status = obj.spec, obj.status
    was, sp, sj = spec_rec
    if spec is not was:
        sp, sj = _part_sizes(spec_body, spec, was, sp, sj)
        spec_rec = (spec, sp, sj)
    was, tp, tj = status_rec
    if status is not was:
        tp, tj = _part_sizes(status_body, status, was, tp, tj)
        status_rec = (status, tp, tj)
    if spec_rec is not parts[0] or status_rec is not parts[1]:
        parts = (spec_rec, status_rec)
    rest_p = plan[1] + sp + 1 + ((sp | 1).bit_length() + 6) // 7 + tp + 1 + ((tp | 1).bit_length() + 6) // 7
    n = len(rv)
    mp_rv = mp_no + n
    raw_rv = rest_p + mp_rv + 1 + ((mp_rv | 1).bit_length() + 6) // 7
    raw_no = rest_p + mp_no + 1 + ((mp_no | 1).bit_length() + 6) // 7
    fixed = _ENVELOPE[type(obj)]
    sizes = (
        plan[2] + sj + tj + mj_no + _K_RV + n,
        fixed + raw_rv + ((raw_rv | 1).bit_length() + 6) // 7,
        fixed + raw_no + ((raw_no | 1).bit_length() + 6) // 7,
    )
    return sizes, (obj.metadata, mp_no, mj_no, parts)


#: :func:`_meta_delta`'s answer for metadata whose counters did not change.
_NO_DELTA = (0, 0)


# The metadata record of the last Endpoints or EndpointSlice of a name sized (_LeanState.metas):
# its metadata, meta body without rv, meta JSON without rv (as the wire renders it).
_MetaRecord = tuple[ObjectMeta, int, int]


def _sizes_by_meta_record(
    table: dict[tuple[type, str, str], _MetaRecord], stamped: Any, meta: ObjectMeta, gen: int, rv: str
) -> tuple[int, int, int]:
    """``APIServer._stamp``'s sizes of an Endpoints or EndpointSlice ``stamped`` (built by
    :meth:`LeanAPIServer._stamp`: ``meta`` stamped with ``rv`` and ``gen``), the metadata's
    from the record of the last one of its name sized when they differ in the counters and
    annotations only (:func:`_meta_delta`: a write that carries the stored metadata over, as
    the EndpointSlice controller's endpoint-only updates do, or changes its trigger time, as
    every Endpoints update does), else measured; the rest as :func:`kubesim.wire.sizes3` has
    it (:func:`_slice_rest` for an EndpointSlice; the wire's endpoint and address sums,
    vouched by their writers). The JSON metadata is the
    wire's rendering (``_meta_json_sizes(meta, False)``), which differs from the manifests'
    only in a timestamp outside years 1000-9999: a metadata with a ``deletionTimestamp`` is
    measured. ``O(1)`` plus the wire's ``O(changed entries)``."""
    cls = type(stamped)
    key = (cls, meta.namespace, meta.name)
    rec = table.get(key)
    delta = None
    if rec is not None and meta.self_link == "" and meta.deletion_timestamp is None and rec[0].deletion_timestamp is None:
        delta = _meta_delta(rec[0], meta, gen)
    n = len(rv)
    if delta is None:
        mp_rv, mp_no = _meta_body_pair(stamped.metadata)
        mj_rv, mj_no = _meta_json_sizes(stamped.metadata, False)
    else:
        mp_no = rec[1] + delta[0]  # type: ignore[index]
        mj_no = rec[2] + delta[1]  # type: ignore[index]
        mp_rv, mj_rv = mp_no + n, mj_no + _K_RV + n
    if len(table) >= _PARTS_LIMIT:
        table.clear()
    table[key] = (stamped.metadata, mp_no, mj_no)
    if cls is EndpointSlice:
        rest_p, rest_j = _slice_rest(stamped)
    else:
        rest_p, rest_j = _measure._proto_rest(stamped), _measure._json_rest(stamped)[0]
    return _assemble(stamped, rest_p, rest_j, mp_rv, mp_no, mj_rv)


_slice_endpoints_pair = _wire_endpoints._slice_endpoints_pair
_slice_ports_pair = _wire_endpoints._slice_ports_pair
# ``{"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":`` and the closing
# brace, then the three keys (each after a comma)
_SLICE_JSON_FIXED = _measure._header_len(EndpointSlice()) + 1 + len(',"addressType":,"endpoints":,"ports":')


def _slice_rest(s: EndpointSlice) -> tuple[int, int]:
    """``(_measure._proto_rest(s), _measure._json_rest(s)[0])`` of an EndpointSlice, the
    same sums from one lookup of each memo: the wire's identity memos of the endpoints' and
    the ports' packed sums (:data:`kubesim.wire.endpoints._slice_endpoints_pair`, which the
    stamp has just vouched, and ``_slice_ports_pair``, called as ``_proto_rest`` calls them),
    the address type's from the wire's string sizes (``_str_pair``), and the JSON lists written
    out (``json_list_size(n, total) == total + n + 1`` for ``n > 0``; an empty list is
    ``null``, 4 bytes). :data:`CHECK_SIZES` compares the record's sizes with
    :func:`kubesim.wire.sizes3`. ``O(1)``."""
    eps, ports = s.endpoints, s.ports
    pe = _slice_endpoints_pair(eps)
    pp = _slice_ports_pair(ports)
    at = s.address_type
    pa = _STR_PAIRS.get(at) or _str_pair(at)
    js = _SLICE_JSON_FIXED + (pa >> _PAIR_SHIFT)
    js += (pe >> _PAIR_SHIFT) + len(eps) + 1 if eps else 4
    js += (pp >> _PAIR_SHIFT) + len(ports) + 1 if ports else 4
    return ((pe + pp + pa) & _PAIR_MASK), js


def _memo_sums(eps: tuple[Any, ...]) -> int | None:
    """The packed size sums the wire's identity memo
    (:data:`kubesim.wire.endpoints._slice_endpoints_pair`) holds for the endpoints tuple
    ``eps``, or ``None`` if it has forgotten them. ``O(1)``."""
    hit = _wire_endpoints._slice_endpoints_pair.cache.get(id(eps))
    return hit[1] if hit is not None and hit[0] is eps else None


def _note_slice_sums(
    sums: dict[tuple[str, str], tuple[tuple[Any, ...], int]], namespace: str, name: str, eps: tuple[Any, ...]
) -> None:
    """Record, for the slice ``namespace/name``, its endpoints ``eps`` and their sums as the
    wire's memo has them just after sizing (see :func:`_restore_slice_sums`); the table is
    cleared wholesale at :data:`_PARTS_LIMIT` names, as the other records are. ``O(1)``."""
    packed = _memo_sums(eps)
    if packed is not None:
        if len(sums) >= _PARTS_LIMIT:
            sums.clear()
        sums[(namespace, name)] = (eps, packed)


def _restore_slice_sums(
    sums: dict[tuple[str, str], tuple[tuple[Any, ...], int]], meta: ObjectMeta, eps: tuple[Any, ...]
) -> None:
    """Put the packed size sums of ``eps``, the endpoints of the stored EndpointSlice named by
    ``meta``, back into the wire's identity memo
    (:data:`kubesim.wire.endpoints._slice_endpoints_pair`) from the name's record, when the
    memo has forgotten them and the record is of that tuple; the write being stamped then
    vouches its new endpoints' sums from them (:func:`_vouch_slice_endpoints`) instead of the
    memo summing ``eps`` entry by entry. ``O(1)``.

    Why records: the wire's memo holds its tuples strongly and is cleared wholesale at 1,024 of
    them (it also serves the full model, which never forgets a replaced tuple), and every
    slice write adds one; with a few hundred live slices (50,000 pods at 100 endpoints per
    slice) each clear made the next write of every slice sum its stored endpoints anew, a cost
    per write that grew with the number of slices. The records
    (:attr:`_LeanState.slice_sums`), one per slice name, are replaced each time a slice of the
    name is sized as an update or a delete (:meth:`LeanAPIServer._stamp`) and at a create's
    commit, and dropped when the slice is deleted (:meth:`LeanAPIServer._keep_sizes`), so they
    number the live slices. Each holds the tuple itself and its sums as the memo had them:
    putting them back is exact, as the sums are a pure function of the tuple and a tuple held
    cannot be another with its ``id``. A write that does not commit leaves a record of a tuple
    the store does not hold, which the name's next write does not use."""
    rec = sums.get((meta.namespace, meta.name))
    if rec is not None and rec[0] is eps:
        memo = _wire_endpoints._slice_endpoints_pair
        if len(memo.cache) >= memo.limit:
            memo.cache.clear()
        memo.cache[id(eps)] = (eps, rec[1])


def _vouch_slice_endpoints(old: tuple[Any, ...], new: tuple[Any, ...]) -> None:
    """Hand :mod:`kubesim.wire` the packed size sums of a slice's new endpoints tuple, from the
    old one's corrected position by position where the entries differ by identity (the
    comparison runs in C: ``map(operator.is_not, ...)``), plus the entries past the shorter
    tuple's end. The sums are additive, so the result equals what ``wire`` computes itself,
    whichever entries moved, in whatever order they are summed. ``O(changed positions)``
    cached lookups (:func:`kubesim.wire.endpoints.endpoint_entry_pair`, summed in C); when
    entries shifted (more than :data:`_SHIFTED` positions differ) the entries missing from
    the other tuple by identity are corrected instead (set differences of their ids, in C; a
    tuple that lists an entry twice is then left to the wire). Nothing to do (``O(1)``) when
    the new tuple's sums are known already: the EndpointSlice planner's updates come vouched
    (:func:`kubesim.wire.vouch_slice_endpoints`)."""
    memo = _wire_endpoints._slice_endpoints_pair
    cache = memo.cache
    hit = cache.get(id(new))
    if (hit is not None and hit[0] is new) or not old or not new or old is new:
        return
    differs = list(map(operator.is_not, old, new))
    n = len(differs)
    base = memo(old)
    if differs.count(True) + abs(len(old) - len(new)) <= _SHIFTED:
        gone: Any = itertools.chain(itertools.compress(old, differs), old[n:])
        came: Any = itertools.chain(itertools.compress(new, differs), new[n:])
    else:  # entries shifted: the ones that differ by identity, by set differences of their ids
        old_by, new_by = dict(zip(map(id, old), old, strict=True)), dict(zip(map(id, new), new, strict=True))
        if len(old_by) != len(old) or len(new_by) != len(new):
            return  # an entry listed twice: let the wire sum it
        gone = map(old_by.__getitem__, old_by.keys() - new_by.keys())
        came = map(new_by.__getitem__, new_by.keys() - old_by.keys())
    pair = _wire_endpoints.endpoint_entry_pair
    base += sum(map(pair, came)) - sum(map(pair, gone))
    if len(cache) >= memo.limit:
        cache.clear()
    cache[id(new)] = (new, base)


#: The most differing positions for which :func:`_vouch_slice_endpoints` corrects the old sums.
_SHIFTED = 16


def make_lean(api: APIServer) -> None:
    """Make ``api`` (built, its watches registered, the bootstrap written) write through the
    lean methods from here on, by a class change (:class:`LeanAPIServer` adds no slot). The
    watchers registered so far are listed per kind at the first event of each kind. What
    ``kubesim.Cluster(engine="lean")``, the default, does after its bootstrap (check mode's
    class change comes after it). ``_ext`` is still the base class's ``None``: the lean state
    is made at first use. ``O(1)``."""
    api.__class__ = LeanAPIServer


class LeanCluster(_cluster.Cluster):
    """A :class:`kubesim.Cluster` on the lean API server: ``kubesim.Cluster(engine="lean")``,
    which is the default, under the name the benchmarks, scenarios and tests have used since
    before it was (``LeanCluster(seed=0, nodes=5000)``; ``engine="full"`` is refused)."""

    def __init__(self, **options: Any) -> None:
        if options.setdefault("engine", "lean") != "lean":
            raise InvalidOption(f'a LeanCluster runs the lean engine, got engine={options["engine"]!r:.80}')
        super().__init__(**options)
