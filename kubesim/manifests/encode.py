"""Objects to the Kubernetes JSON shape: one encoder function per class, generated from
:mod:`kubesim.manifests.schema` at import time (no reflection per call), :func:`to_manifest`,
:func:`encode`, and :func:`to_json` with Go's escaping.

Imports: :mod:`kubesim.objects`, :mod:`kubesim.kinds`, :mod:`kubesim.manifests.times`,
:mod:`kubesim.manifests.schema`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubesim import objects as o
from kubesim.kinds import KIND_INFO
from kubesim.manifests.schema import _SCHEMA, _TOP
from kubesim.manifests.times import _format_time


def _raw_load(text: str) -> Any:
    return json.loads(text)


# ----------------------------------------------------------------------------------------------
# Encoders: one generated function per class.

_ENCODERS: dict[type, Callable[[Any], dict[str, Any]]] = {}


def _gen_encoders() -> None:
    names = {cls: f"_enc_{cls.__name__}" for cls in _SCHEMA}
    lines: list[str] = []
    consts: dict[str, Any] = {}
    for cls, (_, fields, _) in _SCHEMA.items():
        lines.append(f"def {names[cls]}(o):")
        if cls in _TOP:
            kind = _TOP[cls]
            lines.append(f"    d = {{'kind': {kind!r}, 'apiVersion': {KIND_INFO[kind].api_version!r}}}")
        else:
            lines.append("    d = {}")
        for f in fields:
            key, attr, typ, omit = f[0], f[1], f[2], f[3]
            extra: Any = f[4] if len(f) > 4 else None
            k = repr(key)
            if typ == "const":
                lines.append(f"    d[{k}] = {extra!r}")
                continue
            lines.append(f"    v = o.{attr}")
            if typ in ("str", "int32", "int64", "bool"):
                lines.append(f"    if v: d[{k}] = v" if omit else f"    d[{k}] = v")
            elif typ == "hostport":
                lines.append(f"    if v: d[{k}] = v")
            elif typ in ("?str", "?int32", "?int64", "?bool", "?intstr"):
                lines.append(f"    if v is not None: d[{k}] = v")
            elif typ == "intstr":
                lines.append(f"    d[{k}] = v")
            elif typ == "time":
                if extra == "omitzero":
                    lines.append(f"    if v is not None: d[{k}] = _fmt(v)")
                else:
                    lines.append(f"    d[{k}] = None if v is None else _fmt(v)")
            elif typ == "?time":
                lines.append(f"    if v is not None: d[{k}] = _fmt(v)")
            elif typ in ("map", "?map", "qmap"):
                lines.append(f"    if v: d[{k}] = v.to_dict()")
            elif typ == "raw":
                lines.append(f"    if v is not None: d[{k}] = _raw(v)")
            elif typ == "struct":
                lines.append(f"    d[{k}] = {names[extra]}(v)")
            elif typ == "?struct":
                if omit:
                    lines.append(f"    if v is not None: d[{k}] = {names[extra]}(v)")
                else:
                    lines.append(f"    d[{k}] = None if v is None else {names[extra]}(v)")
            elif isinstance(typ, list):
                expr = "list(v)" if typ[0] == "str" else f"[{names[typ[1]]}(e) for e in v]"
                if omit:
                    lines.append(f"    if v: d[{k}] = {expr}")
                else:
                    lines.append(f"    d[{k}] = {expr} if v else None")
            else:  # pragma: no cover
                raise AssertionError(typ)
        lines.append("    return d")
        lines.append("")
    namespace: dict[str, Any] = {"_fmt": _format_time, "_raw": _raw_load, **consts}
    exec(compile("\n".join(lines), "<kubesim.manifests encoders>", "exec"), namespace)
    for cls, name in names.items():
        _ENCODERS[cls] = namespace[name]


_gen_encoders()


def to_manifest(obj: Any) -> dict[str, Any]:
    """The object as the API server serves it in JSON, as a fresh ``dict``. ``O(size)``.

    >>> to_manifest(o.Namespace(o.ObjectMeta(name="prod")))
    {'kind': 'Namespace', 'apiVersion': 'v1', 'metadata': {'name': 'prod'}, 'spec': {}, 'status': {}}
    """
    enc = _ENCODERS.get(type(obj))
    if enc is None and getattr(type(obj), "inert", False):  # kubesim.inert
        from kubesim.inert import to_manifest_body

        return {"kind": obj.kind, "apiVersion": obj.api_version, "metadata": encode(obj.metadata),
                **to_manifest_body(obj)}
    if enc is None or type(obj) not in _TOP:
        raise TypeError(f"to_manifest() needs a top-level API object, not {type(obj).__name__}")
    return enc(obj)


def encode(value: Any) -> Any:
    """The JSON-able form of any object from :mod:`kubesim.objects` (a top-level kind or a
    nested type such as :class:`~kubesim.objects.Endpoint`), a tuple of them, a
    :class:`~kubesim.objects.FrozenDict`, or a plain JSON value; same rules as
    :func:`to_manifest`. ``O(size)``.

    >>> encode(o.EndpointConditions(ready=True))
    {'ready': True}
    """
    enc = _ENCODERS.get(type(value))
    if enc is not None:
        return enc(value)
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, o.FrozenDict):
        return value.to_dict()
    return value


_GO_ESCAPES = str.maketrans({
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
})


def _go_json(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    # Go's encoding/json: UTF-8 as is, HTML-sensitive characters and U+2028/9 escaped.
    if indent is None:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    else:
        text = json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sort_keys)
    return text.translate(_GO_ESCAPES)


def to_json(obj: Any) -> bytes:
    """The compact JSON bytes the API server writes for ``obj`` (``json.Marshal``: struct field
    order, Go's escaping of ``<``, ``>``, ``&``). ``obj`` may be any object :func:`encode`
    accepts. ``O(size)``.

    >>> to_json(o.EndpointConditions(ready=True, terminating=False))
    b'{"ready":true,"terminating":false}'
    """
    return _go_json(encode(obj)).encode("utf-8", "surrogatepass")
