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

from kubesim.wire.caches import _PAIR_MASK, _PAIR_SHIFT, _STR_PAIRS, _memo_dict, _str_pair
from kubesim.wire.gojson import _json_str_len
from kubesim.wire.protobuf import _int, _len_field, _msg, _varint, sov
from kubesim.wire.protobuf import _sf as _protobuf_sf

__all__ = ["event_content_proto", "event_json_body", "event_sizes", "EVENT_KEYS"]

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


# -- sizes by arithmetic (the recorder's Events: no encoding, no object)

#: an always-written string field with a one-byte tag: tag, length, UTF-8 bytes
_pb = _protobuf_sf


def _jf(key_len: int, s: str) -> int:
    """``"key":"value"`` (``key_len`` is ``len('"key":')``) when ``s`` is set, else 0."""
    return key_len + _json_str_len(s) if s else 0


# {"kind":"Event","apiVersion":"v1","metadata": ... and the keys Go always writes after it
_JSON_FIXED = (
    len('{"kind":"Event","apiVersion":"v1","metadata":')
    + len(',"involvedObject":{}') + len(',"source":{}')
    + len(',"firstTimestamp":') + len(',"lastTimestamp":') + len(',"count":') + len(',"type":')
    + len(',"eventTime":null') + len(',"reportingComponent":') + len(',"reportingInstance":') + 1
)
# metadata: {"name":..,"namespace":..,"uid":"<36>","creationTimestamp":"<20>"} (+ resourceVersion)
_META_JSON_FIXED = 2 + len('"name":') + len('"namespace":') + len('"uid":') + 38 + len('"creationTimestamp":') + 22 + 3
# envelope: k8s\0 + typeMeta{"v1","Event"} + raw + contentEncoding + contentType
_ENVELOPE = 4 + (2 + (2 + 2) + (2 + 5)) + 1 + 2 + 2


def event_sizes(
    name: str, namespace: str, resource_version: str, creation_timestamp: int,
    ref: tuple[str, str, str, str, str, str, str], reason: str, message: str, component: str, host: str,
    first: int, last: int, count: int, type: str, action: str, reporting_component: str, reporting_instance: str,
) -> tuple[int, int, int]:
    """``wire.sizes3`` of a recorder-written Event, from its fields' lengths: ``(JSON as served,
    protobuf as served, protobuf as stored without resourceVersion)``. The metadata is the
    recorder's (name, namespace, a 36-character uid, the resourceVersion, the
    creationTimestamp; nothing else; ``name`` and ``namespace`` DNS names, which JSON writes
    unescaped); ``ref`` is the involvedObject's (kind, namespace, name, uid, apiVersion,
    resourceVersion, fieldPath); ``first``/``last`` are Unix seconds, times within years
    1000-9999. The parts that depend only on the source, the involved kind and the event's
    type, reason and action are computed once (cached); the rest is string lengths and varint
    widths. ``O(len(message))``; ``tests/test_events_fastpath.py`` checks it against the
    encoders above on every Event of several workloads.

    >>> ref = ("Pod", "default", "web-1", "", "v1", "", "")
    >>> event_sizes("web-1.1", "default", "7", 1735689600, ref, "X", "m", "kubelet", "", 1735689600,
    ...             1735689600, 1, "Normal", "", "kubelet", "")
    (519, 198, 197)
    """
    kind, ref_ns, ref_name, ref_uid, api_version, ref_rv, field_path = ref
    # every string but the message and the DNS names is sized by one probe of the string sizes'
    # cache (_STR_PAIRS: a pod's name and uid recur on every write about it, a kubelet's node
    # name and a container's fieldPath on every Event from it), the message by one of
    # _MESSAGES; the host and the reporting instance enter the cached part by their two
    # lengths only, so the cache holds one entry per (kind, reason, ..., the lengths), not per
    # node
    strings = _STR_PAIRS.get
    h = strings(host) or _str_pair(host)
    i = strings(reporting_instance) or _str_pair(reporting_instance)
    j, r, p = _static(kind, api_version, reason, component, (h >> _PAIR_SHIFT) if host else 0, h & _PAIR_MASK, type,
                      action, reporting_component, i >> _PAIR_SHIFT, i & _PAIR_MASK)
    # involvedObject: kind and apiVersion are in the static part (and counted as present); an
    # empty string field is 2 protobuf bytes, another is sized by one probe of the cache (a
    # stored object's namespace is a DNS label and its resourceVersion digits, but an object a
    # user hands the recorder may carry any strings); each key's JSON length with its colon
    parts = (1 if kind else 0) + (1 if api_version else 0)
    for key_len, text in ((12, ref_ns), (7, ref_name), (6, ref_uid), (18, ref_rv), (12, field_path)):
        if text:
            v = strings(text) or _str_pair(text)
            j += key_len + (v >> _PAIR_SHIFT)
            r += v & _PAIR_MASK
            parts += 1
        else:
            r += 2
    if parts:
        j += parts - 1
    if message:
        v = _MESSAGES.get(message) or _message_pair(message)
        j += 11 + (v >> _PAIR_SHIFT)
        p += v & _PAIR_MASK
    else:
        p += 2
    j += len(str(count)) + len(namespace) + len(name) + len(resource_version)
    # the varints (sov written out, as in every size here: a time before 1970 or a negative
    # count takes ten bytes); the two times: {seconds, nanos 0}, tag and length (5 + the seconds' varint)
    p += (r + ((r | 1).bit_length() + 6) // 7 + 8 + (10 if first < 0 else ((first | 1).bit_length() + 6) // 7)
          + (10 if last < 0 else ((last | 1).bit_length() + 6) // 7)
          + (10 if count < 0 else ((count | 1).bit_length() + 6) // 7))
    # name and namespace are DNS names (ASCII, at most 253 characters: a varint of one or two
    # bytes), the resourceVersion digits
    n, s = len(name), len(namespace)
    m = (n + s + (1 if n < 128 else 2) + (1 if s < 128 else 2) + 49
         + (10 if creation_timestamp < 0 else ((creation_timestamp | 1).bit_length() + 6) // 7))
    m_rv = m + 4 + len(resource_version)  # selfLink "", then the resourceVersion (< 128 digits)
    m_no = m + 4
    raw_rv = p + 1 + ((m_rv | 1).bit_length() + 6) // 7 + m_rv
    raw_no = p + 1 + ((m_no | 1).bit_length() + 6) // 7 + m_no
    return (j, _ENVELOPE + ((raw_rv | 1).bit_length() + 6) // 7 + raw_rv,
            _ENVELOPE + ((raw_no | 1).bit_length() + 6) // 7 + raw_no)


#: ``message -> _sf(message) + (_json_str_len(message) << _PAIR_SHIFT)``: the packed sizes of
#: an Event's message, for :func:`event_sizes`. Kept apart from ``_STR_PAIRS``, which holds
#: strings that recur: most messages do (a reason's fixed text, a container's image), some
#: never (a pod's ``Scheduled`` names it), and those would only crowd the shared cache.
_MESSAGES: dict[str, int] = _memo_dict()
#: Messages :data:`_MESSAGES` keeps before it is emptied.
_MESSAGES_KEPT = 1 << 10


def _message_pair(message: str) -> int:
    """The packed sizes of ``message`` (see :data:`_MESSAGES`), remembered. ``O(len)``."""
    if len(_MESSAGES) >= _MESSAGES_KEPT:
        _MESSAGES.clear()
    v = _MESSAGES[message] = _pb(message) + (_json_str_len(message) << _PAIR_SHIFT)
    return v


@functools.lru_cache(maxsize=4096)
def _static(
    kind: str, api_version: str, reason: str, component: str, host_json: int, host_pb: int, type: str,
    action: str, reporting_component: str, instance_json: int, instance_pb: int,
) -> tuple[int, int, int]:
    """The parts of :func:`event_sizes` fixed by the source, the involved kind and the event's
    type, reason and action: ``(JSON length, ObjectReference body length, protobuf length of
    the fields but involvedObject's length prefix, message, times and count)``; the metadata's
    fixed JSON and the count's tag included. The source's host is given by its quoted JSON
    length (``0``: no host) and its protobuf field length, the reporting instance by the same
    two (quoted JSON, always written; protobuf field), all that the sizes depend on: keyed by
    the host or the instance itself (a kubelet's node name), the cache would hold an entry per
    node and miss on every Event of a cluster with more nodes than it holds (it did above
    4,096 nodes: 20,000 pods at 4 pods a node)."""
    j = _JSON_FIXED + _jf(7, kind) + _jf(13, api_version)
    j += _jf(len(',"reason":'), reason) + _jf(len(',"action":'), action)
    if component and host_json:
        j += len('"component":,"host":') + _json_str_len(component) + host_json
    else:
        j += _jf(len('"component":'), component) + (len('"host":') + host_json if host_json else 0)
    j += 44 + _json_str_len(type) + _json_str_len(reporting_component) + instance_json
    # (44: the two quoted times, "2025-01-01T00:00:00Z") the metadata: {"name":"..","namespace":"..","uid":"<36>","resourceVersion":"..",
    # "creationTimestamp":"<20>"}: all but the name, namespace and resourceVersion characters
    j += _META_JSON_FIXED + 2 + 2 + 1 + len('"resourceVersion":') + 2
    r = _pb(kind) + _pb(api_version)
    src = _pb(component) + host_pb
    # tags of involvedObject, source, the two times and count; eventTime's empty message
    p = (1 + _pb(reason) + 1 + sov(src) + src + 1 + 1 + 1 + _pb(type) + 2 + _pb(action)
         + _pb(reporting_component) + instance_pb)
    return j, r, p
