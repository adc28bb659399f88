"""The Kubernetes JSON shape to objects, strictly (``kubectl apply --validate=strict``):
table-driven decoders built from :mod:`kubesim.manifests.schema` at import time, raising
:class:`~kubesim.errors.ManifestError` with the field path as the error unwinds; bounds on raw
JSON size and depth; :func:`from_manifest`.

Imports: :mod:`kubesim.objects`, :mod:`kubesim.errors`, :mod:`kubesim.kinds`, ``attrs``,
:mod:`kubesim.manifests.times`, :mod:`kubesim.manifests.schema`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from kubesim import objects as o
from kubesim.errors import ManifestError
from kubesim.kinds import KIND_INFO
from kubesim.manifests.schema import _SCHEMA, _TOP
from kubesim.manifests.times import parse_time

# ----------------------------------------------------------------------------------------------
# Decoders: table-driven; errors carry the path as they unwind.


class _Bad(Exception):
    """Internal: a decoding error; ``segs`` collects path segments innermost first."""

    def __init__(self, message: str, *segs: str) -> None:
        self.message = message
        self.segs = list(segs)


_PATH = "\x00PATH\x00"  # placeholder for the full path in a message


def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, Mapping):
        return "map"
    if isinstance(v, (list, tuple)):
        return "array"
    return type(v).__name__


def _type_error(ctx: str, v: Any, expected: str) -> _Bad:
    return _Bad(f'invalid type for {ctx}: got "{_jtype(v)}", expected "{expected}"')


def _num(v: int) -> str:
    return str(v) if v.bit_length() < 256 else ("-" if v < 0 else "") + "<huge number>"


Decoder = Callable[[Any], Any]


def _dec_str(ctx: str, ptr: bool) -> Decoder:
    zero = None if ptr else ""

    def dec(v: Any) -> Any:
        if type(v) is str:
            return v
        if v is None:
            return zero
        if isinstance(v, str):
            return str(v)
        raise _type_error(ctx, v, "string")

    return dec


def _dec_int(ctx: str, bits: int, ptr: bool, zero_is_none: bool = False) -> Decoder:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    zero = None if ptr else 0
    go = ctx.rsplit(".", 2)[-2] + "." + ctx.rsplit(".", 1)[-1]

    def dec(v: Any) -> Any:
        if type(v) is int or (isinstance(v, int) and not isinstance(v, bool)):
            if lo <= v <= hi:
                v = int(v)
                return None if (zero_is_none and v == 0) else v
            raise _Bad(f"cannot unmarshal number {_num(v)} into Go struct field {go} "
                       f"of type int{bits}")
        if v is None:
            return zero
        raise _type_error(ctx, v, "integer")

    return dec


def _dec_bool(ctx: str, ptr: bool) -> Decoder:
    zero = None if ptr else False

    def dec(v: Any) -> Any:
        if v is True or v is False:
            return v
        if v is None:
            return zero
        raise _type_error(ctx, v, "boolean")

    return dec


def _dec_time(ctx: str) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, str):
            raise _type_error(ctx, v, "string")
        try:
            t = parse_time(v)
        except ValueError as e:
            raise _Bad(str(e)) from None
        return t

    return dec


def _dec_intstr(ctx: str, ptr: bool) -> Decoder:
    zero = None if ptr else 0

    def dec(v: Any) -> Any:
        if isinstance(v, str):
            return str(v)
        if isinstance(v, int) and not isinstance(v, bool):
            if -(1 << 31) <= v < (1 << 31):
                return int(v)
            raise _Bad(f"cannot unmarshal number {_num(v)} into Go value of type int32")
        if v is None:
            return zero
        raise _type_error(ctx, v, "integer or string")

    return dec


def _dec_map(ctx: str, nilable: bool, quantities: bool) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None:
            return None if nilable else o.EMPTY
        if not isinstance(v, Mapping):
            raise _type_error(ctx, v, "map")
        out: dict[str, str] = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise _Bad(f"non-string key {k!r} in a map of strings")
            if isinstance(x, str):
                out[k] = str(x)
            elif quantities and isinstance(x, int) and not isinstance(x, bool):
                if x.bit_length() > 63:
                    raise _Bad(f"quantity {_num(x)} is too large", "." + k)
                out[k] = str(x)
            elif quantities and isinstance(x, float) and x == x and abs(x) != float("inf"):
                out[k] = repr(x)
            elif x is None:
                out[k] = ""
            else:
                raise _Bad(f'invalid type for {ctx}: got "{_jtype(x)}", expected "string"',
                           "." + k)
        return o.FrozenDict(out)

    return dec


def _dec_list(ctx: str, elem: Decoder) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None:
            return ()
        if not isinstance(v, (list, tuple)):
            raise _type_error(ctx, v, "array")
        out = []
        for i, x in enumerate(v):
            try:
                out.append(elem(x))
            except _Bad as e:
                e.segs.append(f"[{i}]")
                raise
        return tuple(out)

    return dec


_MAX_RAW_NODES = 1_000_000
_MAX_RAW_DEPTH = 200


def _dec_raw(ctx: str) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, Mapping):
            raise _type_error(ctx, v, "map")
        _check_json(v)
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    return dec


def _check_json(root: Any) -> None:
    """Bounded, iterative check that ``root`` is plain JSON (string keys, finite numbers)."""
    stack: list[tuple[Any, int]] = [(root, 0)]
    seen = 0
    while stack:
        v, depth = stack.pop()
        seen += 1
        if seen > _MAX_RAW_NODES or depth > _MAX_RAW_DEPTH:
            raise _Bad("fieldsV1 is too large or too deeply nested")
        if isinstance(v, Mapping):
            for k, x in v.items():
                if not isinstance(k, str):
                    raise _Bad(f"non-string key {k!r} in fieldsV1")
                stack.append((x, depth + 1))
        elif isinstance(v, (list, tuple)):
            stack.extend((x, depth + 1) for x in v)
        elif isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise _Bad("fieldsV1 holds a number JSON cannot represent")
        elif not (v is None or isinstance(v, (str, int))):
            raise _Bad(f"fieldsV1 holds a {_jtype(v)}, which is not JSON")


def _dec_const(ctx: str) -> Decoder:
    def dec(v: Any) -> Any:
        if v is None or isinstance(v, Mapping):
            return None
        raise _type_error(ctx, v, "map")

    return dec


@attrs.define(eq=False)
class _Struct:
    cls: type
    openapi: str
    fields: dict[str, tuple[str | None, Decoder]]
    ignored: frozenset[str]
    zero: dict[str, Any]
    top: bool

    def decode(self, v: Any, ctx: str, ptr: bool) -> Any:
        if v is None:
            return None if ptr else self.cls(**self.zero)
        if not isinstance(v, Mapping):
            raise _type_error(ctx, v, "map")
        kw = dict(self.zero)
        fields = self.fields
        for k, x in v.items():
            f = fields.get(k) if isinstance(k, str) else None
            if f is None:
                if not isinstance(k, str):
                    raise _Bad(f"non-string key {k!r} in an object")
                if k in self.ignored:
                    if IGNORED_SEEN is not None:
                        IGNORED_SEEN.append((self.cls, k))
                    continue
                raise _Bad(f'unknown field "{_PATH}"', "." + k)
            attr, dec = f
            try:
                val = dec(x)
            except _Bad as e:
                e.segs.append("." + k)
                raise
            if attr is not None:
                kw[attr] = val
        return self.cls(**kw)


_STRUCTS: dict[type, _Struct] = {}

#: when a list, every accepted-and-dropped field decoded is appended to it as (struct class,
#: JSON key), after a ``(None, "")`` marking the start of each top-level object:
#: :func:`kubesim.model_warnings.collecting` sets it
IGNORED_SEEN: list[tuple[type | None, str]] | None = None


def _build_decoders() -> None:
    for cls, (openapi, _, ignored) in _SCHEMA.items():
        extra_ignored = {"kind", "apiVersion"} if cls in _TOP else set()
        _STRUCTS[cls] = _Struct(cls, openapi, {}, frozenset(ignored.split()) | extra_ignored,
                                {}, cls in _TOP)

    def struct_dec(sub: type, ctx: str, ptr: bool) -> Decoder:
        s = _STRUCTS[sub]
        return lambda v: s.decode(v, ctx, ptr)

    for cls, (openapi, fields, _) in _SCHEMA.items():
        st = _STRUCTS[cls]
        for f in fields:
            key, attr, typ = f[0], f[1], f[2]
            extra: Any = f[4] if len(f) > 4 else None
            ctx = f"{openapi}.{key}"
            dec: Decoder
            if typ in ("str", "?str"):
                dec = _dec_str(ctx, typ[0] == "?")
            elif typ in ("int32", "?int32", "int64", "?int64"):
                dec = _dec_int(ctx, int(typ[-2:]), typ[0] == "?")
            elif typ == "hostport":
                dec = _dec_int(ctx, 32, True, zero_is_none=True)
            elif typ in ("bool", "?bool"):
                dec = _dec_bool(ctx, typ[0] == "?")
            elif typ in ("time", "?time"):
                dec = _dec_time(ctx)
            elif typ in ("intstr", "?intstr"):
                dec = _dec_intstr(ctx, typ[0] == "?")
            elif typ in ("map", "?map", "qmap"):
                dec = _dec_map(ctx, typ == "?map", typ == "qmap")
            elif typ == "raw":
                dec = _dec_raw(ctx)
            elif typ == "const":
                dec = _dec_const(ctx)
            elif typ in ("struct", "?struct"):
                dec = struct_dec(extra, ctx, typ[0] == "?")
            elif isinstance(typ, list):
                elem = _dec_str(ctx, False) if typ[0] == "str" else struct_dec(typ[1], ctx, False)
                dec = _dec_list(ctx, elem)
            else:  # pragma: no cover
                raise AssertionError(typ)
            st.fields[key] = (attr, dec)

    # Go zero values, built leaves first (no struct type contains itself).
    def zero_of(cls: type) -> dict[str, Any]:
        st = _STRUCTS[cls]
        if st.zero or not st.fields:
            return st.zero
        z: dict[str, Any] = {}
        for f in _SCHEMA[cls][1]:
            attr, typ = f[1], f[2]
            if attr is None:
                continue
            if typ == "str":
                z[attr] = ""
            elif typ in ("int32", "int64", "intstr"):
                z[attr] = 0
            elif typ == "bool":
                z[attr] = False
            elif typ in ("map", "qmap"):
                z[attr] = o.EMPTY
            elif isinstance(typ, list):
                z[attr] = ()
            elif typ == "struct":
                z[attr] = _STRUCTS[f[4]].cls(**zero_of(f[4]))
            else:  # pointers, time, raw, ?map, hostport
                z[attr] = None
        st.zero = z
        return z

    for cls in _SCHEMA:
        zero_of(cls)


_build_decoders()


def _fail(e: _Bad, document: int | None) -> ManifestError:
    path = "".join(reversed(e.segs)).lstrip(".")
    return ManifestError(e.message.replace(_PATH, path), path=path, document=document)


def _plain_json(v: Any, path: str) -> Any:
    """``v`` as JSON values (YAML timestamps and other scalars as strings, as
    ``sigs.k8s.io/yaml`` converts them)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, Mapping):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise ManifestError(f"non-string key {k!r} in an object", path=path)
            out[k] = _plain_json(x, f"{path}.{k}")
        return out
    if isinstance(v, (list, tuple)):
        return [_plain_json(x, f"{path}[{i}]") for i, x in enumerate(v)]
    return str(v)


def _decode_inert(d: Mapping[str, Any], kind: str, api_version: str, document: int | None) -> Any:
    """An inert kind (:mod:`kubesim.inert`): the metadata decoded strictly, the rest kept as
    plain JSON."""
    from kubesim.inert import make

    st = _STRUCTS[o.ObjectMeta]
    try:
        meta = st.decode(d.get("metadata"), st.openapi, False)
    except _Bad as e:
        e.segs.append(".metadata")
        raise _fail(e, document) from None
    body = {k: v for k, v in d.items() if k not in ("kind", "apiVersion", "metadata")}
    try:
        plain = _plain_json(body, "")
    except ManifestError as e:
        raise ManifestError(str(e).split(": ", 1)[-1], path=e.path.lstrip("."), document=document) from None
    return make(kind, api_version, meta, plain)


def _decode_object(d: Any, document: int | None = None, default_kind: str | None = None,
                   default_api_version: str | None = None) -> Any:
    if IGNORED_SEEN is not None:
        IGNORED_SEEN.append((None, ""))  # a new object: what follows was dropped from it
    if not isinstance(d, Mapping):
        raise ManifestError(f'expected an object (a map), got "{_jtype(d)}"', document=document)
    kind = d.get("kind", default_kind)
    api_version = d.get("apiVersion", default_api_version)
    if kind is None or kind == "":
        raise ManifestError("Object 'Kind' is missing", path="kind", document=document)
    if not isinstance(kind, str):
        raise ManifestError(f'invalid type for kind: got "{_jtype(kind)}", expected "string"',
                            path="kind", document=document)
    if api_version is None or api_version == "":
        raise ManifestError("Object 'apiVersion' is missing", path="apiVersion",
                            document=document)
    if not isinstance(api_version, str):
        raise ManifestError(
            f'invalid type for apiVersion: got "{_jtype(api_version)}", expected "string"',
            path="apiVersion", document=document)
    info = KIND_INFO.get(kind)
    if info is None:
        raise ManifestError(f'no matches for kind "{kind}" in version "{api_version}"',
                            path="kind", document=document)
    if info.api_version != api_version:
        raise ManifestError(f'no matches for kind "{kind}" in version "{api_version}"',
                            path="apiVersion", document=document)
    if info.inert:
        return _decode_inert(d, kind, api_version, document)
    st = _STRUCTS[o.KINDS[kind]]
    try:
        return st.decode(d, st.openapi, False)
    except _Bad as e:
        raise _fail(e, document) from None
    except RecursionError:
        raise ManifestError("object is nested too deeply", document=document) from None
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as e:
        # Safety net: a malformed input must never escape as anything but ManifestError.
        raise ManifestError(f"malformed manifest: {e}", document=document) from None


def from_manifest(d: Mapping[str, Any]) -> Any:
    """Decode one manifest (the JSON shape, as a mapping) into an object. ``O(size)``.

    Strict like ``kubectl apply --validate=strict``; every problem raises
    :class:`~kubesim.errors.ManifestError` naming the field:

    >>> from_manifest({"apiVersion": "v1", "kind": "Service",
    ...                "spec": {"ports": [{"port": "80"}]}})
    Traceback (most recent call last):
    ...
    kubesim.errors.ManifestError: spec.ports[0].port: invalid type for io.k8s.api.core.v1.ServicePort.port: got "string", expected "integer"
    """
    return _decode_object(d)
