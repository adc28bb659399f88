"""Whole objects: the ``runtime.Unknown`` envelope (:func:`envelope_size`,
:func:`encode_raw`, :func:`encode_proto`), and the sizes of every top-level kind
(:func:`raw_size`, :func:`proto_size`, :func:`json_size`, :func:`sizes`, :func:`sizes3`)
assembled from the metadata's closed-form size and the cached sizes of the other parts, with
the one-object memo of the last object measured; :func:`clear_caches`.

Imports: :mod:`kubesim.objects`, :mod:`kubesim._memo`, ``attrs``, and every lower wire module
(:mod:`~kubesim.wire.protobuf`, :mod:`~kubesim.wire.gojson`, :mod:`~kubesim.wire.caches`,
:mod:`~kubesim.wire.meta`, :mod:`~kubesim.wire.endpoints`, :mod:`~kubesim.wire.pods`,
:mod:`~kubesim.wire.workloads`); only :mod:`kubesim.wire` itself imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from kubesim._memo import ByIdentity
from kubesim.objects import (
    DaemonSet,
    Deployment,
    DeploymentStatus,
    Endpoints,
    EndpointSlice,
    Namespace,
    Node,
    Pod,
    PodStatus,
    ReplicaSet,
    ReplicaSetStatus,
    Service,
    StatefulSet,
)
from kubesim.wire.caches import (
    _CACHED,
    _ID_CACHES,
    _MEMO_DICTS,
    _PAIR_MASK,
    _PAIR_SHIFT,
    _STR_PAIRS,
    _by_identity,
)
from kubesim.wire.endpoints import (
    _ADDR_HELD,
    _ADDR_PAIRS,
    _LIST_SUMS,
    _endpoint_slice,
    _endpoints,
    _slice_endpoints_pair,
    _slice_ports_pair,
    _subset_body,
    _subset_json,
)
from kubesim.wire.gojson import _json_len, _json_str_len, _manifests, json_list_size
from kubesim.wire.meta import _LAST_META, _meta_body_pair, _meta_json_sizes, _object_meta
from kubesim.wire.pods import (
    _LAST_STATUS,
    _SERVICE_STATUS,
    _namespace,
    _namespace_spec,
    _namespace_status,
    _node,
    _node_spec,
    _node_status,
    _pod,
    _pod_spec,
    _pod_status_json,
    _pod_status_len,
    _service,
    _service_spec,
)
from kubesim.wire.protobuf import MAGIC, _len_field, _msg, _str, sov, wrap
from kubesim.wire.workloads import (
    _daemon_set,
    _daemon_set_spec,
    _daemon_set_status,
    _deployment,
    _deployment_spec,
    _int_fields_json,
    _int_fields_proto,
    _replica_set,
    _replica_set_spec,
    _stateful_set,
    _stateful_set_spec,
    _stateful_set_status,
)

# --------------------------------------------------------------------------------------------
# whole objects and the envelope

_ENCODERS: dict[type, Callable[[Any, bool], bytes]] = {
    Pod: _pod,
    Service: _service,
    Node: _node,
    Namespace: _namespace,
    Endpoints: _endpoints,
    EndpointSlice: _endpoint_slice,
    Deployment: _deployment,
    ReplicaSet: _replica_set,
    StatefulSet: _stateful_set,
    DaemonSet: _daemon_set,
}


_MODELLED_CLASSES = frozenset(_ENCODERS)  # their kind and apiVersion are class constants


def _kind_info(kind: Any) -> tuple[str, str]:
    """``(apiVersion, kind)`` of a kind name, a class or an instance."""
    if isinstance(kind, str):
        from kubesim.objects import KINDS

        cls = KINDS.get(kind)
        if cls is None:
            raise ValueError(f"unknown kind {kind!r}")
        kind = cls
    return kind.api_version, kind.kind


_ENVELOPE_FIXED: dict[tuple[str, str], int] = {}
# The same by the class of an instance of a modelled kind (whose kind and apiVersion are class
# constants): what API server writes pass, found without _kind_info.
_ENVELOPE_BY_CLASS: dict[type, int] = {}


def envelope_size(kind: Any, raw_len: int) -> int:
    """Stored size of an object of ``kind`` (a kind name, class or instance) whose own protobuf
    message is ``raw_len`` bytes: ``4 (magic) + wrap(typeMeta) + wrap(raw_len) + 2 + 2``.
    ``O(1)``.

    >>> envelope_size("Endpoints", 178), envelope_size("EndpointSlice", 700) - 700
    (206, 49)
    """
    fixed = _ENVELOPE_BY_CLASS.get(kind.__class__)
    if fixed is None:
        fixed = _envelope_fixed(kind)
    return fixed + sov(raw_len) + raw_len


def _envelope_fixed(kind: Any) -> int:
    """The constant bytes of the envelope of ``kind`` (see :func:`envelope_size`)."""
    info = _kind_info(kind)
    fixed = _ENVELOPE_FIXED.get(info)
    if fixed is None:
        api_version, k = info
        type_meta = wrap(len(api_version.encode())) + wrap(len(k.encode()))
        fixed = _ENVELOPE_FIXED[info] = 4 + wrap(type_meta) + 1 + 2 + 2
    if type(kind) in _MODELLED_CLASSES:
        _ENVELOPE_BY_CLASS[type(kind)] = fixed
    return fixed


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _str(1, api_version) + _str(2, kind)
    return MAGIC + _msg(1, type_meta) + _len_field(2, raw) + b"\x1a\x00" + b"\x22\x00"


def encode_raw(obj: Any, *, include_resource_version: bool = True) -> bytes:
    """The object's own protobuf message (``runtime.Unknown.raw``), without the envelope.
    ``O(size of obj)``; uncached."""
    enc = _ENCODERS.get(type(obj))
    if enc is None:
        if getattr(type(obj), "inert", False):  # kubesim.inert: metadata 1, then its fields
            from kubesim.inert import content_proto

            return _msg(1, _object_meta(obj.metadata, include_resource_version)) + content_proto(obj)
        raise TypeError(f"not a top-level kubesim object: {type(obj).__name__}")
    return enc(obj, include_resource_version)


def encode_proto(obj: Any, *, include_resource_version: bool = True) -> bytes:
    """The complete protobuf encoding of ``obj`` as the API server stores and serves it:
    ``k8s\\0`` + ``runtime.Unknown{typeMeta, raw, contentEncoding, contentType}``.
    ``O(size of obj)``; uncached, for tests and inspection (use :func:`proto_size` to
    measure)."""
    raw = encode_raw(obj, include_resource_version=include_resource_version)
    return _envelope(obj.api_version, obj.kind, raw)


def clear_caches() -> None:
    """Empty every per-entry size cache. ``O(cached entries)``."""
    for c in _CACHED:
        c._cache.clear()  # type: ignore[attr-defined]
    for ic in _ID_CACHES:
        ic.cache.clear()
    for d in _MEMO_DICTS:
        d.clear()
    _ADDR_PAIRS.clear()
    _ADDR_HELD.clear()
    _LIST_SUMS.clear()
    _STR_PAIRS.clear()
    _LAST_RAW[0] = _LAST_JSON[0] = _LAST_STATUS[0] = _LAST_META[0] = None


# Mirrors kubesim.manifests' schema for these structs (Go struct order is irrelevant to a size).
_JSON_SIZERS: dict[type, Callable[[Any], int]] = {
    PodStatus: _pod_status_json,
    ReplicaSetStatus: _int_fields_json(
        (
            ("replicas", "replicas", False),
            ("fullyLabeledReplicas", "fully_labeled_replicas", True),
            ("readyReplicas", "ready_replicas", True),
            ("availableReplicas", "available_replicas", True),
            ("observedGeneration", "observed_generation", True),
        )
    ),
    DeploymentStatus: _int_fields_json(
        (
            ("observedGeneration", "observed_generation", True),
            ("replicas", "replicas", True),
            ("updatedReplicas", "updated_replicas", True),
            ("readyReplicas", "ready_replicas", True),
            ("availableReplicas", "available_replicas", True),
            ("unavailableReplicas", "unavailable_replicas", True),
        )
    ),
}


# Top-level kinds other than Endpoints/EndpointSlice: raw = wrap(meta) + the wrapped bodies
# of their other (non-pointer, one-byte-tag) fields + constant bytes.  Mirrors the encoders
# above (``_pod`` ...); the bodies are cached by identity of the sub-object.
_PROTO_PARTS: dict[type, tuple[tuple[tuple[str, ByIdentity[Any, int]], ...], int]] = {
    Pod: (
        (
            ("spec", _by_identity(lambda x: len(_pod_spec(x)))),
            ("status", _by_identity(_pod_status_len)),
        ),
        0,
    ),
    Service: ((("spec", _by_identity(lambda x: len(_service_spec(x)))),), len(_msg(3, _SERVICE_STATUS))),
    Node: (
        (
            ("spec", _by_identity(lambda x: len(_node_spec(x)))),
            ("status", _by_identity(lambda x: len(_node_status(x)))),
        ),
        0,
    ),
    Namespace: (
        (
            ("spec", _by_identity(lambda x: len(_namespace_spec(x)))),
            ("status", _by_identity(lambda x: len(_namespace_status(x)))),
        ),
        0,
    ),
    Deployment: (
        (
            ("spec", _by_identity(lambda x: len(_deployment_spec(x)))),
            (
                "status",
                _by_identity(
                    _int_fields_proto(
                        (
                            "observed_generation",
                            "replicas",
                            "updated_replicas",
                            "available_replicas",
                            "unavailable_replicas",
                            "ready_replicas",
                        )
                    )
                ),
            ),
        ),
        0,
    ),
    ReplicaSet: (
        (
            ("spec", _by_identity(lambda x: len(_replica_set_spec(x)))),
            (
                "status",
                _by_identity(
                    _int_fields_proto(
                        (
                            "replicas",
                            "fully_labeled_replicas",
                            "observed_generation",
                            "ready_replicas",
                            "available_replicas",
                        )
                    )
                ),
            ),
        ),
        0,
    ),
    StatefulSet: (
        (
            ("spec", _by_identity(lambda x: len(_stateful_set_spec(x)))),
            ("status", _by_identity(lambda x: len(_stateful_set_status(x)))),
        ),
        0,
    ),
    DaemonSet: (
        (
            ("spec", _by_identity(lambda x: len(_daemon_set_spec(x)))),
            ("status", _by_identity(lambda x: len(_daemon_set_status(x)))),
        ),
        0,
    ),
}


def _proto_rest(obj: Any) -> int:
    """The object's raw message size minus its ``metadata`` field (which alone depends on
    ``include_resource_version``)."""
    if isinstance(obj, Endpoints):
        n = 0
        for s in obj.subsets:
            n += wrap(_subset_body(s))
        return n
    if isinstance(obj, EndpointSlice):
        n = (_slice_endpoints_pair(obj.endpoints) + _slice_ports_pair(obj.ports)) & _PAIR_MASK
        return n + wrap(len(obj.address_type.encode("utf-8", "surrogatepass")))
    plan = _PROTO_PARTS.get(type(obj))
    if plan is None:
        if getattr(type(obj), "inert", False):
            from kubesim.inert import content_proto

            return len(content_proto(obj))
        raise TypeError(f"not a top-level kubesim object: {type(obj).__name__}")
    parts, n = plan
    for attr, body in parts:
        n += wrap(body(getattr(obj, attr)))
    return n


# The last object measured, with its (raw with rv, raw without rv): ``APIServer`` sizes the
# same object twice in a row (served and stored).
_LAST_RAW: list[Any] = [None, (0, 0)]


def _raw_pair(obj: Any) -> tuple[int, int]:
    """``(raw_size(obj), raw_size(obj, include_resource_version=False))``."""
    last = _LAST_RAW
    if last[0] is obj:
        return last[1]  # type: ignore[no-any-return]
    rest = _proto_rest(obj)
    m_rv, m_no = _meta_body_pair(obj.metadata)
    pair = (rest + wrap(m_rv), rest + wrap(m_no))
    last[0] = obj
    last[1] = pair
    return pair


def raw_size(obj: Any, *, include_resource_version: bool = True) -> int:
    """Size of the object's own protobuf message (``len(encode_raw(obj))``). For Endpoints
    and EndpointSlice ``O(entries)`` cached lookups plus ``O(meta)``; for other kinds
    ``O(size of obj)``, where sub-objects carried over unchanged from an earlier measured
    object (a Pod's ``spec`` on a status update) cost one identity lookup."""
    return _raw_pair(obj)[0 if include_resource_version else 1]


def proto_size(obj: Any, *, include_resource_version: bool = True) -> int:
    """Exact length of :func:`encode_proto` ``(obj)``, envelope included.  Endpoints and
    EndpointSlice: ``O(entries)`` cached lookups, no re-serialisation of entries (callers
    wanting ``O(1)`` keep entry sums and use :func:`envelope_size`); other kinds
    ``O(size of obj)`` (see :func:`raw_size`)."""
    return envelope_size(obj, _raw_pair(obj)[0 if include_resource_version else 1])


_HEADERS: dict[type, int] = {}


def _header_len(obj: Any) -> int:
    """``{"kind":"K","apiVersion":"V","metadata":``: the leading part up to the metadata value,
    per class (Endpoints and EndpointSlice, whose ``kind`` and ``apiVersion`` are class
    constants). ``O(1)``."""
    cls = type(obj)
    n = _HEADERS.get(cls)
    if n is None:
        n = _HEADERS[cls] = 1 + 7 + _json_str_len(obj.kind) + 1 + 13 + _json_str_len(obj.api_version) + 1 + 11
    return n


def _json_rest(obj: Any) -> tuple[int, bool]:
    """``(size of the object's JSON minus its metadata value, whether the metadata is
    rendered as kubesim.manifests does)``."""
    if isinstance(obj, Endpoints):
        n = _header_len(obj) + 1
        if obj.subsets:
            n += len(',"subsets":') + json_list_size(
                len(obj.subsets), sum(_subset_json(s) for s in obj.subsets)
            )
        return n, False
    if isinstance(obj, EndpointSlice):
        n = _header_len(obj) + 1
        n += len(',"addressType":') + _json_str_len(obj.address_type)
        n += len(',"endpoints":')
        if obj.endpoints:
            total = _slice_endpoints_pair(obj.endpoints) >> _PAIR_SHIFT
            n += json_list_size(len(obj.endpoints), total)
        else:
            n += 4
        n += len(',"ports":')
        if obj.ports:
            n += json_list_size(len(obj.ports), _slice_ports_pair(obj.ports) >> _PAIR_SHIFT)
        else:
            n += 4
        return n, False
    plan = _JSON_PLANS.get(type(obj))  # kubesim.inert's InertObject has no plan: measured whole
    if plan is None:
        plan = _JSON_PLANS[type(obj)] = _json_plan(type(obj))
    if plan is False:  # pragma: no cover - every kind has a plan today
        manifest = _manifests().to_manifest(obj)
        return _json_len(manifest) - _json_len(manifest["metadata"]), True
    base, attrs_ = plan
    n = base
    for attr in attrs_:
        n += _sub_json(getattr(obj, attr))
    return n, True


def _sub_json_len(x: Any) -> int:
    sizer = _JSON_SIZERS.get(type(x))
    return _json_len(_manifests().encode(x)) if sizer is None else sizer(x)


# The JSON of a sub-object as kubesim.manifests encodes it (``to_manifest(obj)[key]`` is
# ``encode(obj.<key>)`` for the top-level struct fields), cached by identity; statuses are
# sized from their parts (:data:`_JSON_SIZERS`).
_sub_json = _by_identity(_sub_json_len)

_JSON_PLANS: dict[type, Any] = {}


def _json_plan(cls: type) -> Any:
    """For a top-level kind whose manifest is ``{kind, apiVersion, metadata, <attr>: encode(
    obj.<attr>) ..., <constants>}``: ``(size of the rest, attrs)`` where the rest is the
    keys, punctuation and constant values.  ``False`` when the kind does not have that shape
    (then the whole manifest is measured)."""
    manifests = _manifests()
    default = cls()
    manifest = manifests.to_manifest(default)
    names = [a.name for a in attrs.fields(cls)]
    if "metadata" not in names or any(n not in manifest for n in names):
        return False
    if any(manifest[n] != manifests.encode(getattr(default, n)) for n in names):
        return False
    base = _json_len(manifest) - sum(_json_len(manifest[n]) for n in names)
    return base, tuple(n for n in names if n != "metadata")


_LAST_JSON: list[Any] = [None, (0, 0)]


def _json_pair(obj: Any) -> tuple[int, int]:
    """``(json_size(obj), json_size(obj, include_resource_version=False))``."""
    last = _LAST_JSON
    if last[0] is obj:
        return last[1]  # type: ignore[no-any-return]
    rest, manifest = _json_rest(obj)
    m_rv, m_no = _meta_json_sizes(obj.metadata, manifest)
    pair = (rest + m_rv, rest + m_no)
    last[0] = obj
    last[1] = pair
    return pair


def json_size(obj: Any, *, include_resource_version: bool = True) -> int:
    """Exact length of the compact JSON the API server serves for ``obj`` (see the module
    docstring). Endpoints and EndpointSlice: ``O(entries)`` cached lookups plus ``O(meta)``;
    other kinds: ``O(size of obj)``, measuring what :func:`kubesim.manifests.to_manifest`
    produces, part by part (a ``spec`` or ``status`` carried over unchanged from an earlier
    measured object costs one identity lookup).

    An EndpointSlice with no endpoints or no ports serves ``"endpoints":null`` /
    ``"ports":null`` (the Go fields have no ``omitempty`` and decode from etcd as nil).
    """
    return _json_pair(obj)[0 if include_resource_version else 1]


def sizes(obj: Any, *, include_resource_version: bool = True) -> tuple[int, int]:
    """``(json_bytes, proto_bytes)`` of ``obj``: :func:`json_size` and :func:`proto_size`.
    With the default ``include_resource_version=True`` these are the sizes a watcher
    receives; with ``False`` the sizes etcd stores (``resourceVersion`` and ``selfLink``
    cleared). ``O(entries)`` cached lookups for Endpoints/EndpointSlice; asking again for
    the object just measured (with either value of ``include_resource_version``) is
    ``O(1)``."""
    i = 0 if include_resource_version else 1
    return _json_pair(obj)[i], envelope_size(obj, _raw_pair(obj)[i])


def sizes3(obj: Any) -> tuple[int, int, int]:
    """``(json_bytes, proto_bytes, stored_proto_bytes)``: the JSON and protobuf sizes a
    watcher receives and the protobuf size etcd stores, i.e. ``sizes(obj) +
    (proto_size(obj, include_resource_version=False),)``, in one pass (the object is walked
    once; the two protobuf sizes differ only in the metadata). What the API server needs on
    every write. ``O(entries)`` cached lookups for Endpoints/EndpointSlice, ``O(size of the
    changed parts)`` for other kinds."""
    raw_rv, raw_no = _raw_pair(obj)
    return _json_pair(obj)[0], envelope_size(obj, raw_rv), envelope_size(obj, raw_no)
