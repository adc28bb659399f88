"""Protobuf responses (``application/vnd.kubernetes.protobuf``) for GET, LIST and WATCH.

An object is served exactly as :func:`kubesim.wire.encode_proto` encodes it (the ``k8s\\0``
magic and a ``runtime.Unknown`` envelope around the object's message), so its length is the
``proto_bytes`` the change log accounts for the write that produced it. A list is the same
envelope around a ``<Kind>List`` message: ``metadata`` (field 1, a ``ListMeta``: ``selfLink`` 1,
``resourceVersion`` 2, ``continue`` 3, ``remainingItemCount`` 4 when set) and ``items`` (field 2,
each the object's own message), as ``k8s.io/api``'s ``generated.proto`` numbers them.

A watch is a stream of length-prefixed ``WatchEvent`` frames (:func:`watch_frame`), each
embedding the object's full encoding. Tables and errors outside watches are served as JSON
(clients name JSON as their fallback in ``Accept``). ``O(size of the response)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubesim import wire

__all__ = ["MEDIA_TYPE", "wants_protobuf", "encode_object", "encode_list"]

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"


def wants_protobuf(accept: str) -> bool:
    """``True`` if protobuf is the client's first choice in ``Accept`` (no ``as=`` conversion)."""
    for part in accept.split(","):
        params = [p.strip() for p in part.split(";")]
        media = params[0]
        if media == MEDIA_TYPE and not any(p.startswith("as=") for p in params[1:]):
            return True
        if media in ("application/json", "application/*", "*/*", "application/yaml"):
            return False
    return False


def _varint(x: int) -> bytes:
    out = bytearray()
    x &= (1 << 64) - 1
    while True:
        b = x & 0x7F
        x >>= 7
        if x:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, body: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(body)) + body


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    """``k8s\\0`` + ``runtime.Unknown{typeMeta{apiVersion, kind}, raw, "", ""}``."""
    type_meta = _field(1, api_version.encode()) + _field(2, kind.encode())
    return wire.MAGIC + _field(1, type_meta) + _field(2, raw) + _field(3, b"") + _field(4, b"")


def encode_object(obj: Any) -> bytes:
    """The object as a protobuf response (equal to :func:`kubesim.wire.encode_proto`)."""
    return wire.encode_proto(obj)


def encode_list(api_version: str, list_kind: str, objs: Sequence[Any], resource_version: str,
                continue_token: str = "", remaining: int | None = None) -> bytes:
    """A ``<Kind>List`` as a protobuf response."""
    meta = _field(1, b"") + _field(2, resource_version.encode()) + _field(3, continue_token.encode())
    if remaining is not None:
        meta += _varint(4 << 3) + _varint(remaining)
    body = _field(1, meta) + b"".join(_field(2, wire.encode_raw(o)) for o in objs)
    return envelope(api_version, list_kind, body)


#: The media type of a protobuf watch stream.
WATCH_MEDIA_TYPE = MEDIA_TYPE + ";stream=watch"


def watch_frame(type_: str, embedded: bytes) -> bytes:
    """One protobuf watch event: a 4-byte big-endian length, then a ``metav1.WatchEvent``
    message without envelope (``type`` 1, ``object`` 2 = ``RawExtension{raw 1}``) whose raw
    bytes are the object's full encoding, envelope included (the API server's
    ``LengthDelimitedFramer`` over its raw serializer; ``handlers/watch.go``)."""
    event = _field(1, type_.encode()) + _field(2, _field(1, embedded))
    return len(event).to_bytes(4, "big") + event


def encode_status(status: dict[str, Any]) -> bytes:
    """A failure ``metav1.Status`` (``metadata`` 1, ``status`` 2, ``message`` 3, ``reason`` 4,
    ``code`` 6) in its envelope."""
    body = (_field(1, b"") + _field(2, str(status.get("status", "Failure")).encode())
            + _field(3, str(status.get("message", "")).encode()) + _field(4, str(status.get("reason", "")).encode())
            + _varint(6 << 3) + _varint(int(status.get("code", 0))))
    return envelope("v1", "Status", body)


def encode_bookmark(api_version: str, kind: str, resource_version: str, initial_end: bool) -> bytes:
    """A BOOKMARK's object: the kind with only ``metadata.resourceVersion`` (and the
    ``k8s.io/initial-events-end`` annotation when it ends the initial events)."""
    meta = _field(6, resource_version.encode())
    if initial_end:
        meta += _field(12, _field(1, b"k8s.io/initial-events-end") + _field(2, b"true"))
    return envelope(api_version, kind, _field(1, meta))
