"""``meta/v1`` (apimachinery ``pkg/apis/meta/v1/generated.proto``): the protobuf
encoders of ``ObjectMeta``, ``OwnerReference``, ``ManagedFieldsEntry``, ``LabelSelector`` and
``ObjectReference``, their JSON renderings, and the closed-form sizes of an ``ObjectMeta``
with and without ``resourceVersion`` (``_meta_body_pair``, ``_meta_json_sizes``), whose
collections (labels, annotations, owner references, finalizers, managed fields) are sized
once per identity; :func:`meta_size` and :func:`meta_json_size`.

Imports: :mod:`kubesim.objects`, and the lower wire layers :mod:`~kubesim.wire.protobuf`,
:mod:`~kubesim.wire.gojson`, :mod:`~kubesim.wire.caches`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubesim.objects import (
    LabelSelector,
    LabelSelectorRequirement,
    ManagedFieldsEntry,
    ObjectMeta,
    ObjectReference,
    OwnerReference,
)
from kubesim.wire.caches import (
    _PAIR_MASK,
    _PAIR_SHIFT,
    _PART_CACHE_SIZE,
    _STR_PAIRS,
    _by_identity,
    _str_pair,
)
from kubesim.wire.gojson import (
    _go_json_len,
    _json_len,
    _json_str_len,
    _manifests,
    _RawJSON,
    _rfc3339,
    _time_json_len,
    json_list_size,
)
from kubesim.wire.protobuf import (
    _int,
    _len_field,
    _map,
    _msg,
    _opt_bool,
    _opt_int,
    _opt_time,
    _rep_msg,
    _rep_str,
    _sf,
    _str,
    _time,
    sov,
    wrap,
)

# --------------------------------------------------------------------------------------------
# meta/v1 (apimachinery pkg/apis/meta/v1/generated.proto)


def _owner_reference(o: OwnerReference) -> bytes:
    return (
        _str(1, o.kind)
        + _str(3, o.name)
        + _str(4, o.uid)
        + _str(5, o.api_version)
        + _opt_bool(6, o.controller)
        + _opt_bool(7, o.block_owner_deletion)
    )


def _managed_fields_entry(e: ManagedFieldsEntry) -> bytes:
    fields_v1 = b""
    if e.fields_v1 is not None:
        raw = e.fields_v1.encode("utf-8", "surrogatepass")
        fields_v1 = _msg(7, _len_field(1, raw) if raw else b"")
    return (
        _str(1, e.manager)
        + _str(2, e.operation)
        + _str(3, e.api_version)
        + _opt_time(4, e.time)
        + _str(6, e.fields_type)
        + fields_v1
        + _str(8, e.subresource)
    )


def _object_meta(m: ObjectMeta, include_rv: bool = True) -> bytes:
    return b"".join(
        (
            _str(1, m.name),
            _str(2, m.generate_name),
            _str(3, m.namespace),
            _str(4, m.self_link if include_rv else ""),
            _str(5, m.uid),
            _str(6, m.resource_version if include_rv else ""),
            _int(7, m.generation),
            _msg(8, _time(m.creation_timestamp)),
            _opt_time(9, m.deletion_timestamp),
            _opt_int(10, m.deletion_grace_period_seconds),
            _map(11, m.labels),
            _map(12, m.annotations),
            _rep_msg(13, m.owner_references, _owner_reference),
            _rep_str(14, m.finalizers),
            _rep_msg(17, m.managed_fields, _managed_fields_entry),
        )
    )


def _label_selector_requirement(r: LabelSelectorRequirement) -> bytes:
    return _str(1, r.key) + _str(2, r.operator) + _rep_str(3, r.values)


def _label_selector(s: LabelSelector) -> bytes:
    return _map(1, s.match_labels) + _rep_msg(2, s.match_expressions, _label_selector_requirement)


def _object_reference_len(r: ObjectReference) -> int:
    """``len(_object_reference(r))``: seven string fields, always written. ``O(1)``."""
    return (
        _sf(r.kind) + _sf(r.namespace) + _sf(r.name) + _sf(r.uid) + _sf(r.api_version)
        + _sf(r.resource_version) + _sf(r.field_path)
    )


def _object_reference(r: ObjectReference) -> bytes:
    return (
        _str(1, r.kind)
        + _str(2, r.namespace)
        + _str(3, r.name)
        + _str(4, r.uid)
        + _str(5, r.api_version)
        + _str(6, r.resource_version)
        + _str(7, r.field_path)
    )


def meta_size(meta: ObjectMeta, *, include_resource_version: bool = True) -> int:
    """Body size of an ``ObjectMeta`` message (without its own tag and length; the field in
    the object is ``wrap(meta_size(m))``). ``O(size of meta)``, uncached (metadata changes on
    every write).

    >>> meta_size(ObjectMeta())
    16
    """
    return len(_object_meta(meta, include_resource_version))


# --------------------------------------------------------------------------------------------
# ObjectMeta and small status objects, sized arithmetically
#
# A write changes a few scalar fields of the metadata (resourceVersion, generation) and
# carries the collections over: the API server reuses the label/annotation maps and the
# owner-reference/finalizer/managed-field tuples of the previous version, and the kubelet
# reuses unchanged PodCondition objects.  So each collection's sizes are cached by identity
# (packed as ``proto + (json << _PAIR_SHIFT)``) and the scalar fields are sized in closed
# form: a one-byte-tag string field is ``wrap(len(utf8))``, a JSON string
# ``_json_str_len``.  Each function below equals the length of the corresponding encoder
# output (``_object_meta``, ``_meta_json``/``manifests.encode``, ``_pod_status`` ...), which
# tests/test_perf_wire_meta.py checks on random objects.


def _map_pair(m: Mapping[str, str]) -> int:
    """Packed sizes of a ``map<string,string>`` field's entries (protobuf, tags included) and
    of its JSON object (``0`` for an empty map, which is omitted)."""
    if not m:
        return 0
    proto = js = 0
    strings = _STR_PAIRS.get
    for k, v in m.items():
        kv = (strings(k) or _str_pair(k)) + (strings(v) or _str_pair(v))
        proto += wrap(kv & _PAIR_MASK)
        js += (kv >> _PAIR_SHIFT) + 1
    return proto + ((js + 1 + len(m)) << _PAIR_SHIFT)


def _owners_pair(refs: tuple[OwnerReference, ...]) -> int:
    if not refs:
        return 0
    proto = js = 0
    for r in refs:
        proto += wrap(len(_owner_reference(r)))
        d: dict[str, Any] = {"apiVersion": r.api_version, "kind": r.kind, "name": r.name, "uid": r.uid}
        if r.controller is not None:
            d["controller"] = r.controller
        if r.block_owner_deletion is not None:
            d["blockOwnerDeletion"] = r.block_owner_deletion
        js += _json_len(d)
    return proto + (json_list_size(len(refs), js) << _PAIR_SHIFT)


def _finalizers_pair(items: tuple[str, ...]) -> int:
    if not items:
        return 0
    proto = js = 0
    for f in items:
        proto += _sf(f)
        js += _json_str_len(f)
    return proto + (json_list_size(len(items), js) << _PAIR_SHIFT)


def _managed_proto(entries: tuple[ManagedFieldsEntry, ...]) -> int:
    n = 0
    for e in entries:
        b = len(_managed_fields_entry(e))
        n += 2 + sov(b) + b  # field 17: a two-byte tag
    return n


_labels_pair = _by_identity(_map_pair, _PART_CACHE_SIZE)  # labels and annotations
_owners = _by_identity(_owners_pair, _PART_CACHE_SIZE)
_finalizers = _by_identity(_finalizers_pair, _PART_CACHE_SIZE)
_managed_size = _by_identity(_managed_proto, _PART_CACHE_SIZE)
# managedFields JSON: wire's own rendering (Endpoints, EndpointSlice) and manifests' (others).
_managed_json_wire = _by_identity(
    lambda t: _go_json_len(_meta_json(ObjectMeta(managed_fields=t))["managedFields"]),
    _PART_CACHE_SIZE,
)
_managed_json_manifest = _by_identity(
    lambda t: _json_len(_manifests().encode(t)), _PART_CACHE_SIZE
)


# The last metadata whose collections were sized, and their packed pairs: labels, annotations,
# owner references, finalizers. ``sizes3`` sizes a metadata's protobuf body and then its JSON.
_LAST_META: list[Any] = [None, 0, 0, 0, 0]


def _collection_pairs(meta: ObjectMeta) -> list[Any]:
    """``[meta, labels, annotations, owners, finalizers]``: the packed (protobuf, JSON) pairs
    of ``meta``'s collections from their identity caches, remembered for the last ``meta``
    (held, so its ``id`` cannot be reused while remembered): the second of the two sizings
    of one metadata looks nothing up. ``O(1)`` when the collections were measured before."""
    last = _LAST_META
    if last[0] is not meta:
        # The four collections are FrozenDicts and tuples, which the identity caches hold
        # strongly (no weak references): a hit is ``held is x``, probed here without the call.
        labels, annotations, owners, finalizers = meta.labels, meta.annotations, meta.owner_references, meta.finalizers
        maps = _labels_pair.cache
        h = maps.get(id(labels))
        lp = h[1] if h is not None and h[0] is labels else _labels_pair(labels)
        h = maps.get(id(annotations))
        ap = h[1] if h is not None and h[0] is annotations else _labels_pair(annotations)
        h = _owners.cache.get(id(owners))
        op = h[1] if h is not None and h[0] is owners else _owners(owners)
        h = _finalizers.cache.get(id(finalizers))
        fp = h[1] if h is not None and h[0] is finalizers else _finalizers(finalizers)
        last[0] = meta
        last[1:] = (lp, ap, op, fp)
    return last


def _meta_body_pair(meta: ObjectMeta) -> tuple[int, int]:
    """``(meta_size(meta), meta_size(meta, include_resource_version=False))``: without
    resourceVersion, ``selfLink`` and ``resourceVersion`` are empty strings (2 bytes each)
    and every other field is unchanged. ``O(1)`` when the collections were measured
    before (by identity), else ``O(size of the new collections)``."""
    ts = meta.creation_timestamp
    strings = _STR_PAIRS.get
    name, generate_name, namespace, uid = meta.name, meta.generate_name, meta.namespace, meta.uid
    strs = (
        (strings(name) or _str_pair(name))
        + (strings(generate_name) or _str_pair(generate_name))
        + (strings(namespace) or _str_pair(namespace))
        + (strings(uid) or _str_pair(uid))
    )
    n = (
        (strs & _PAIR_MASK)
        + 1
        + sov(meta.generation)
        + (2 if ts is None else 5 + sov(ts))  # metav1.Time {seconds, nanos}, always written
    )
    ts = meta.deletion_timestamp
    if ts is not None:
        n += 5 + sov(ts)
    gp = meta.deletion_grace_period_seconds
    if gp is not None:
        n += 1 + sov(gp)
    c = _collection_pairs(meta)
    n += (c[1] + c[2] + c[3] + c[4]) & _PAIR_MASK
    if meta.managed_fields:
        n += _managed_size(meta.managed_fields)
    return n + _sf(meta.self_link) + _sf(meta.resource_version), n + 4


_K_NAME = len('"name":')
_K_GENERATE_NAME = len('"generateName":')
_K_NAMESPACE = len('"namespace":')
_K_SELF_LINK = len('"selfLink":')
_K_UID = len('"uid":')
_K_RESOURCE_VERSION = len('"resourceVersion":')
_K_GENERATION = len('"generation":')
_K_CREATION = len('"creationTimestamp":')
_K_DELETION = len('"deletionTimestamp":')
_K_GRACE = len('"deletionGracePeriodSeconds":')
_K_LABELS = len('"labels":')
_K_ANNOTATIONS = len('"annotations":')
_K_OWNERS = len('"ownerReferences":')
_K_FINALIZERS = len('"finalizers":')
_K_MANAGED = len('"managedFields":')


def _meta_json_sizes(meta: ObjectMeta, manifest: bool) -> tuple[int, int]:
    """JSON sizes of the ``metadata`` value with and without ``resourceVersion`` and
    ``selfLink`` (what ``PrepareObjectForStorage`` clears; both are ``omitempty``), as
    :func:`_meta_json` renders it (``manifest=False``) or :func:`kubesim.manifests.encode`
    does (``True``; they differ only in timestamps outside years 1000-9999 and raw
    managedFields). ``O(1)`` when the collections were measured before."""
    n = k = 0
    strings = _STR_PAIRS.get
    s = meta.name
    if s:
        n += _K_NAME + ((strings(s) or _str_pair(s)) >> _PAIR_SHIFT)
        k += 1
    s = meta.generate_name
    if s:
        n += _K_GENERATE_NAME + ((strings(s) or _str_pair(s)) >> _PAIR_SHIFT)
        k += 1
    s = meta.namespace
    if s:
        n += _K_NAMESPACE + ((strings(s) or _str_pair(s)) >> _PAIR_SHIFT)
        k += 1
    s = meta.uid
    if s:
        n += _K_UID + ((strings(s) or _str_pair(s)) >> _PAIR_SHIFT)
        k += 1
    v = meta.generation
    if v:
        n += _K_GENERATION + len(str(v))
        k += 1
    t = meta.creation_timestamp
    if t is not None:
        n += _K_CREATION + _time_json_len(t, manifest)
        k += 1
    t = meta.deletion_timestamp
    if t is not None:
        n += _K_DELETION + _time_json_len(t, manifest)
        k += 1
    t = meta.deletion_grace_period_seconds
    if t is not None:
        n += _K_GRACE + len(str(t))
        k += 1
    c = _collection_pairs(meta)
    p = c[1] >> _PAIR_SHIFT
    if p:
        n += _K_LABELS + p
        k += 1
    p = c[2] >> _PAIR_SHIFT
    if p:
        n += _K_ANNOTATIONS + p
        k += 1
    p = c[3] >> _PAIR_SHIFT
    if p:
        n += _K_OWNERS + p
        k += 1
    p = c[4] >> _PAIR_SHIFT
    if p:
        n += _K_FINALIZERS + p
        k += 1
    mf = meta.managed_fields
    if mf:
        n += _K_MANAGED + (_managed_json_manifest(mf) if manifest else _managed_json_wire(mf))
        k += 1
    without = 2 + n + (k - 1 if k else 0)
    s = meta.self_link
    if s:
        n += _K_SELF_LINK + _json_str_len(s)
        k += 1
    s = meta.resource_version
    if s:
        n += _K_RESOURCE_VERSION + _json_str_len(s)
        k += 1
    return 2 + n + (k - 1 if k else 0), without


def _object_reference_json(r: ObjectReference) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for key, val in (
        ("kind", r.kind),
        ("namespace", r.namespace),
        ("name", r.name),
        ("uid", r.uid),
        ("apiVersion", r.api_version),
        ("resourceVersion", r.resource_version),
        ("fieldPath", r.field_path),
    ):
        if val:
            d[key] = val
    return d


_K_REF_KIND = len('"kind":')
_K_REF_API_VERSION = len('"apiVersion":')
_K_REF_FIELD_PATH = len('"fieldPath":')


def _object_reference_json_len(r: ObjectReference) -> int:
    """``_json_len(_object_reference_json(r))`` by arithmetic: the non-empty string fields,
    each its key and its Go JSON string (from :data:`~kubesim.wire.caches._STR_PAIRS`),
    commas between. ``O(1)`` for strings seen before."""
    n = k = 0
    strings = _STR_PAIRS.get
    for key, val in (
        (_K_REF_KIND, r.kind),
        (_K_NAMESPACE, r.namespace),
        (_K_NAME, r.name),
        (_K_UID, r.uid),
        (_K_REF_API_VERSION, r.api_version),
        (_K_RESOURCE_VERSION, r.resource_version),
        (_K_REF_FIELD_PATH, r.field_path),
    ):
        if val:
            n += key + ((strings(val) or _str_pair(val)) >> _PAIR_SHIFT)
            k += 1
    return 2 + n + (k - 1 if k else 0)


def _meta_json(m: ObjectMeta, include_rv: bool = True) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for key, val in (
        ("name", m.name),
        ("generateName", m.generate_name),
        ("namespace", m.namespace),
        ("selfLink", m.self_link if include_rv else ""),
        ("uid", m.uid),
        ("resourceVersion", m.resource_version if include_rv else ""),
    ):
        if val:
            d[key] = val
    if m.generation:
        d["generation"] = m.generation
    if m.creation_timestamp is not None:
        d["creationTimestamp"] = _rfc3339(m.creation_timestamp)
    if m.deletion_timestamp is not None:
        d["deletionTimestamp"] = _rfc3339(m.deletion_timestamp)
    if m.deletion_grace_period_seconds is not None:
        d["deletionGracePeriodSeconds"] = m.deletion_grace_period_seconds
    if m.labels:
        d["labels"] = dict(m.labels)
    if m.annotations:
        d["annotations"] = dict(m.annotations)
    if m.owner_references:
        refs = []
        for o in m.owner_references:
            r: dict[str, Any] = {
                "apiVersion": o.api_version,
                "kind": o.kind,
                "name": o.name,
                "uid": o.uid,
            }
            if o.controller is not None:
                r["controller"] = o.controller
            if o.block_owner_deletion is not None:
                r["blockOwnerDeletion"] = o.block_owner_deletion
            refs.append(r)
        d["ownerReferences"] = refs
    if m.finalizers:
        d["finalizers"] = list(m.finalizers)
    if m.managed_fields:
        entries = []
        for e in m.managed_fields:
            x: dict[str, Any] = {}
            for key, val in (
                ("manager", e.manager),
                ("operation", e.operation),
                ("apiVersion", e.api_version),
            ):
                if val:
                    x[key] = val
            if e.time is not None:
                x["time"] = _rfc3339(e.time)
            if e.fields_type:
                x["fieldsType"] = e.fields_type
            if e.fields_v1 is not None:
                x["fieldsV1"] = _RawJSON(e.fields_v1)
            if e.subresource:
                x["subresource"] = e.subresource
            entries.append(x)
        d["managedFields"] = entries
    return d


def _meta_json_len(d: Mapping[str, Any]) -> int:
    return _json_len(d)


def meta_json_size(meta: ObjectMeta, *, include_resource_version: bool = True) -> int:
    """Size of the JSON of ``metadata`` (the ``{...}`` value only). ``O(size of meta)``.

    >>> meta_json_size(ObjectMeta(name="web", namespace="default"))
    36
    """
    return _meta_json_len(_meta_json(meta, include_resource_version))
