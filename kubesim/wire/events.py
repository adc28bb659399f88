"""Exact protobuf of a core/v1 ``Event`` (:mod:`kubesim.events`), from the field numbers of
k8s.io/api ``core/v1/generated.proto``, and its JSON body in Go struct order.

``Event``: metadata 1, involvedObject 2 (``ObjectReference``: kind 1, namespace 2, name 3, uid 4,
apiVersion 5, resourceVersion 6, fieldPath 7), reason 3, message 4, source 5 (``EventSource``:
component 1, host 2), firstTimestamp 6, lastTimestamp 7 (``metav1.Time``: seconds 1, nanos 2,
nanos always 0: ``Time.ProtoTime`` drops them), count 8, type 9, eventTime 10 (``MicroTime``:
seconds 1, nanos 2 truncated to microseconds), series 11 (``EventSeries``: count 1,
lastObservedTime 2), action 12, related 13 (an ``ObjectReference``), reportingComponent 14,
reportingInstance 15. The generated marshaller writes every non-pointer field, empty strings,
zero counts and zero times (an empty message) included; ``series`` and ``related`` are pointers,
written only when set.

JSON (``encoding/json`` over the Go struct): ``involvedObject`` always (a value struct, each of
its fields ``omitempty``); ``reason``, ``message``, ``count``, ``type``, ``action`` omitted when
empty; ``source`` always (a value struct: ``{}`` when empty); the three times always, ``null``
when zero (``omitempty`` does not apply to structs and ``Time.MarshalJSON`` writes ``null``);
``reportingComponent`` and ``reportingInstance`` always. :func:`event_json_body` puts a stored
body in that order with exactly those keys, which is what makes the JSON length exact.

Costs: ``O(size of the event)``.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import re
from collections.abc import Mapping
from typing import Any

from kubesim.wire.protobuf import _int, _len_field, _msg, _varint

__all__ = ["event_content_proto", "event_json_body", "EVENT_KEYS"]

#: The JSON keys of a core/v1 Event after ``metadata``, in Go struct order.
EVENT_KEYS = (
    "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type",
    "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance",
)
_REF_KEYS = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
_ALWAYS = frozenset({"involvedObject", "source", "firstTimestamp", "lastTimestamp", "eventTime",
                     "reportingComponent", "reportingInstance"})


class _Unknown(ValueError):
    """A field or value this encoder does not describe (the caller falls back to an estimate)."""


def _s(v: Any) -> str:
    if v is None:
        return ""
    if v.__class__ is not str:
        raise _Unknown(repr(v))
    return v


# the one-byte tag of each length-delimited field number of an ObjectReference and an Event
_TAG = tuple(bytes(((n << 3) | 2,)) for n in range(16))
_REF_SET = frozenset(_REF_KEYS)
_SOURCE_SET = frozenset(("component", "host"))
_EVENT_SET = frozenset(EVENT_KEYS)


def _sf(num: int, v: Any) -> bytes:
    """An always-written string field ``num`` (< 16) holding ``v`` (``None``: empty)."""
    b = _s(v).encode("utf-8", "surrogatepass")
    n = len(b)
    return _TAG[num] + (bytes((n,)) if n < 0x80 else _varint(n)) + b


def _ref(v: Any) -> bytes:
    if not isinstance(v, Mapping) or not _REF_SET.issuperset(v):
        raise _Unknown("ObjectReference")
    g = v.get
    return b"".join((_sf(1, g("kind")), _sf(2, g("namespace")), _sf(3, g("name")), _sf(4, g("uid")),
                     _sf(5, g("apiVersion")), _sf(6, g("resourceVersion")), _sf(7, g("fieldPath"))))


@functools.lru_cache(maxsize=4096)
def _time_body(text: str, micro: bool) -> bytes:
    """The ``Time`` (nanos 0) or ``MicroTime`` (nanos truncated to microseconds) message of the
    RFC 3339 UTC text ``text``. Cached: an Event's times repeat."""
    m = _RFC3339.fullmatch(text)
    if m is None:
        raise _Unknown(repr(text))
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    try:
        seconds = calendar.timegm((y, mo, d, h, mi, sec, 0, 0, 0))
        datetime.date(y, mo, d)
    except ValueError:
        raise _Unknown(text) from None
    frac = int((m.group(7) or "").ljust(9, "0")) if micro else 0
    return _int(1, seconds) + _int(2, frac - frac % 1000)


_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z", re.ASCII)


def _time(v: Any, micro: bool = False) -> bytes:
    if v is None:
        return b""
    if not isinstance(v, str):
        raise _Unknown(repr(v))
    return _time_body(v, micro)


def _count(v: Any) -> int:
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int) or not -(2**31) <= v < 2**31:
        raise _Unknown(repr(v))
    return v


def event_content_proto(body: Mapping[str, Any]) -> bytes | None:
    """The protobuf fields 2-15 of the Event whose fields after ``metadata`` are ``body`` (plain
    JSON), or ``None`` when ``body`` holds something this encoder does not know (an unknown
    key, a value of the wrong type). ``O(size)``.

    >>> body = {"involvedObject": {"kind": "Pod", "name": "a"}, "reason": "X", "count": 1,
    ...         "firstTimestamp": "2025-01-01T00:00:00Z", "lastTimestamp": None, "eventTime": None,
    ...         "source": {}, "reportingComponent": "", "reportingInstance": ""}
    >>> event_content_proto(body)[:9]  # involvedObject: 18 bytes, every string field written
    b'\\x12\\x12\\n\\x03Pod\\x12\\x00'
    """
    if not _EVENT_SET.issuperset(body):
        return None
    try:
        g = body.get
        src = g("source") or {}
        if not isinstance(src, Mapping) or not _SOURCE_SET.issuperset(src):
            raise _Unknown("source")
        out = [
            _msg(2, _ref(g("involvedObject") or {})),
            _sf(3, g("reason")),
            _sf(4, g("message")),
            _msg(5, _sf(1, src.get("component")) + _sf(2, src.get("host"))),
            _msg(6, _time(g("firstTimestamp"))),
            _msg(7, _time(g("lastTimestamp"))),
            _int(8, _count(g("count"))),
            _sf(9, g("type")),
            _msg(10, _time(g("eventTime"), micro=True)),
        ]
        series = body.get("series")
        if series is not None:
            if not isinstance(series, Mapping) or any(k not in ("count", "lastObservedTime") for k in series):
                raise _Unknown("series")
            out.append(_len_field(11, _int(1, _count(series.get("count")))
                                  + _msg(2, _time(series.get("lastObservedTime"), micro=True))))
        out.append(_sf(12, g("action")))
        related = body.get("related")
        if related is not None:
            out.append(_len_field(13, _ref(related)))
        out.append(_sf(14, g("reportingComponent")))
        out.append(_sf(15, g("reportingInstance")))
    except _Unknown:
        return None
    return b"".join(out)


def event_json_body(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """``body`` as the API server serves it: Go struct order, the always-written keys present
    (``null`` times, ``{}`` source, empty reporting fields), the empty ``omitempty`` ones gone;
    ``None`` if ``body`` has a key an Event does not. ``O(size)``."""
    if any(k not in EVENT_KEYS for k in body):
        return None
    out: dict[str, Any] = {}
    for key in EVENT_KEYS:
        v = body.get(key)
        if key == "involvedObject":
            ref = v if isinstance(v, Mapping) else {}
            out[key] = {k: ref[k] for k in _REF_KEYS if ref.get(k)}
        elif key == "source":
            src = v if isinstance(v, Mapping) else {}
            out[key] = {k: src[k] for k in ("component", "host") if src.get(k)}
        elif key in _ALWAYS:
            out[key] = "" if v is None and key.startswith("reporting") else v
        elif v is not None and v != "" and v != 0:
            out[key] = v
    return out
