"""Go ``encoding/json`` primitives: the length of Go's compact JSON for a string or
a plain value (``_json_str_len``, ``_go_json_len``, the C-encoder shortcut ``_json_len``),
:func:`go_json_bytes` (the reference encoding the sizes are tested against),
:func:`json_list_size`, RFC 3339 timestamps and raw FieldsV1 JSON.

It also holds the lazy handle on :mod:`kubesim.manifests` (``_manifests()``): the
serialization edge, imported on first use because the JSON of most kinds is measured on what
``to_manifest`` produces.

Imports: the standard library only (and :mod:`kubesim.manifests` lazily, at run time).
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import re as _re
from collections.abc import Mapping
from typing import Any

# --------------------------------------------------------------------------------------------
# JSON (Go encoding/json)

# Characters Go escapes, beyond printable ASCII: control chars, '"', '\\', '<', '>', '&',
# U+2028, U+2029; lone surrogates (invalid UTF-8 in Go) become the 6-byte \ufffd.
_JSON_SPECIAL = _re.compile("[\x00-\x1f\"\\\\<>&\u2028\u2029\ud800-\udfff]")
_SHORT_ESCAPES = frozenset('"\\\n\r\t\b\f')


def _json_str_len(s: str) -> int:
    n = len(s) + 2 if s.isascii() else len(s.encode("utf-8", "surrogatepass")) + 2
    if _JSON_SPECIAL.search(s) is None:
        return n
    for ch in _JSON_SPECIAL.findall(s):
        if ch in _SHORT_ESCAPES:
            n += 1
        elif "\ud800" <= ch <= "\udfff" or ch in "\u2028\u2029":
            n += 6 - 3
        else:
            n += 5
    return n


def _go_json_len(v: Any) -> int:
    """Length of Go's compact JSON for a plain value (dict/list/str/int/bool/None)."""
    if isinstance(v, str):
        return _json_str_len(v)
    if isinstance(v, _RawJSON):
        return v.size()
    if v is None:
        return 4
    if isinstance(v, bool):
        return 4 if v else 5
    if isinstance(v, int):
        return len(str(v))
    if isinstance(v, float):
        return len(_json.dumps(v))
    if isinstance(v, Mapping):
        if not v:
            return 2
        return 1 + sum(_json_str_len(k) + 1 + _go_json_len(x) + 1 for k, x in v.items())
    if isinstance(v, (list, tuple)):
        if not v:
            return 2
        return 1 + sum(_go_json_len(x) + 1 for x in v)
    raise TypeError(f"not a JSON value: {type(v).__name__}")


_JSON_ENCODER = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
_HTML_CHARS = _re.compile("[<>&]")
_WIDE_CHARS = _re.compile("[\u2028\u2029\ud800-\udfff]")


def _json_len(v: Any) -> int:
    """:func:`_go_json_len` of a plain JSON value through the C encoder: Python's compact
    ``ensure_ascii=False`` JSON escapes exactly what Go does except ``<``, ``>``, ``&``
    (Go: 6 bytes, Python: 1), U+2028/U+2029 and lone surrogates (Go: 6 bytes, Python: the 3
    UTF-8 bytes).  Values the C encoder refuses (FieldsV1 raw JSON, mappings that are not
    ``dict``) take the recursive path.  ``O(size)``."""
    try:
        text = _JSON_ENCODER.encode(v)
    except TypeError:
        return _go_json_len(v)
    if text.isascii():
        n = len(text)
    else:
        n = len(text.encode("utf-8", "surrogatepass")) + 3 * len(_WIDE_CHARS.findall(text))
    if "<" in text or ">" in text or "&" in text:
        n += 5 * len(_HTML_CHARS.findall(text))
    return n


def go_json_bytes(value: Any) -> bytes:
    """Go ``encoding/json``'s compact encoding of a plain JSON value (as
    ``json.Marshal``: UTF-8, HTML-safe escapes). ``O(size)``; the reference the size
    functions are tested against."""
    text = _json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    text = _re.sub("[\ud800-\udfff]", "\\\\ufffd", text)
    return text.encode("utf-8")


def json_list_size(n: int, total: int) -> int:
    """JSON size of a list of ``n`` entries whose JSON sizes sum to ``total``. ``O(1)``."""
    return 2 + total + (n - 1 if n > 0 else 0)


def _rfc3339(seconds: int) -> str:
    t = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class _RawJSON:
    """Raw FieldsV1 JSON, which Go emits compacted (``{}`` for an empty raw)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def size(self) -> int:
        if not self.text.strip():
            return 4  # FieldsV1 with empty Raw marshals as null
        try:
            value = _json.loads(self.text)
        except ValueError:
            return len(self.text.encode("utf-8", "surrogatepass"))
        return _go_json_len(value)


# RFC 3339 at second precision is 20 characters for years 1000-9999; outside, the two
# formatters (wire's strftime, manifests' f-string) differ, so the text is measured.
_TIME_LO = -30610224000  # 1000-01-01T00:00:00Z
_TIME_HI = 253402300799  # 9999-12-31T23:59:59Z


def _time_json_len(seconds: int, manifest: bool) -> int:
    if _TIME_LO <= seconds <= _TIME_HI:
        return 22
    return _json_str_len(_manifests()._format_time(seconds) if manifest else _rfc3339(seconds))


_MANIFESTS: list[Any] = []


def _manifests() -> Any:
    if not _MANIFESTS:
        import importlib  # the serialization edge, imported lazily (it may import this module)

        _MANIFESTS.append(importlib.import_module("kubesim.manifests"))
    return _MANIFESTS[0]
