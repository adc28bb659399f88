"""Protobuf primitives: varint sizes and encodings, tags, and the field encoders
(strings, ints, bools, messages, maps, ``metav1.Time``, ``IntOrString``) every per-kind
encoder is built from, following the ``generated.pb.go`` rules described in :mod:`kubesim.wire`.

Owns :data:`MAGIC`, :func:`sov`, :func:`wrap` and the private ``_str``/``_int``/``_msg``/...
field writers, and ``_sf`` (the size of a one-byte-tag string field in closed form).

Imports: the standard library only (the bottom layer of :mod:`kubesim.wire`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

#: The 4-byte prefix of every protobuf-encoded Kubernetes object: ``k8s\\0``.
MAGIC: bytes = b"k8s\x00"


_U64 = 1 << 64


# --------------------------------------------------------------------------------------------
# varints and fields


def sov(x: int) -> int:
    """Length in bytes of the protobuf varint of ``x`` (negative values are sign-extended to
    64 bits, as Go's ``uint64(int32)`` does, and take 10 bytes). ``O(1)``.

    >>> sov(0), sov(127), sov(128), sov(16383), sov(16384), sov(-1)
    (1, 1, 2, 2, 3, 10)
    """
    if x < 0:
        return 10
    return ((x | 1).bit_length() + 6) // 7


_ONE_BYTE_VARINTS = tuple(bytes((i,)) for i in range(0x80))


def _varint(x: int) -> bytes:
    if 0 <= x < 0x80:
        return _ONE_BYTE_VARINTS[x]
    if x < 0:
        x += _U64
    out = bytearray()
    while x >= 0x80:
        out.append((x & 0x7F) | 0x80)
        x >>= 7
    out.append(x)
    return bytes(out)


def wrap(n: int) -> int:
    """Size of a length-delimited field with a one-byte tag (field numbers 1-15) whose body
    is ``n`` bytes: ``1 + sov(n) + n``. ``O(1)``.

    >>> wrap(0), wrap(127), wrap(128)
    (2, 129, 131)
    """
    if n < 0:  # never a length; sov's 10 bytes
        return 11 + n
    return 1 + ((n | 1).bit_length() + 6) // 7 + n  # sov(n), written out


_TAGS: dict[tuple[int, int], bytes] = {}


def _tag(num: int, wire_type: int) -> bytes:
    key = (num, wire_type)
    t = _TAGS.get(key)
    if t is None:
        t = _TAGS[key] = _varint((num << 3) | wire_type)
    return t


def _len_field(num: int, body: bytes) -> bytes:
    return _tag(num, 2) + _varint(len(body)) + body


def _str(num: int, s: str) -> bytes:
    """A string field, always written."""
    return _len_field(num, s.encode("utf-8", "surrogatepass"))


def _opt_str(num: int, s: str | None) -> bytes:
    return b"" if s is None else _str(num, s)


def _int(num: int, v: int) -> bytes:
    """A varint field, always written (negative values take 10 bytes)."""
    return _tag(num, 0) + _varint(v)


def _opt_int(num: int, v: int | None) -> bytes:
    return b"" if v is None else _int(num, v)


def _bool(num: int, v: bool) -> bytes:
    return _tag(num, 0) + (b"\x01" if v else b"\x00")


def _opt_bool(num: int, v: bool | None) -> bytes:
    return b"" if v is None else _bool(num, v)


def _msg(num: int, body: bytes) -> bytes:
    """A non-pointer message field: always written, even with an empty body."""
    return _len_field(num, body)


def _rep_str(num: int, items: Iterable[str]) -> bytes:
    return b"".join(_str(num, s) for s in items)


_T = TypeVar("_T")


def _rep_msg(num: int, items: Iterable[_T], enc: Callable[[_T], bytes]) -> bytes:
    return b"".join(_len_field(num, enc(x)) for x in items)


def _map(num: int, m: Mapping[str, str] | None) -> bytes:
    """``map<string,string>``: one entry per key sorted by key (UTF-8 byte order equals code
    point order), key and value both always written."""
    if not m:
        return b""
    return b"".join(_len_field(num, _str(1, k) + _str(2, m[k])) for k in sorted(m))


def _quantity_map(num: int, m: Mapping[str, str]) -> bytes:
    """``map<string, resource.Quantity>``: the value is a message ``{1: string}``."""
    if not m:
        return b""
    return b"".join(_len_field(num, _str(1, k) + _msg(2, _str(1, m[k]))) for k in sorted(m))


def _time(seconds: int | None) -> bytes:
    """Body of a ``metav1.Time``: empty for the zero time, else ``{seconds, nanos=0}``."""
    if seconds is None:
        return b""
    return _int(1, seconds) + b"\x10\x00"


def _opt_time(num: int, seconds: int | None) -> bytes:
    return b"" if seconds is None else _msg(num, _time(seconds))


def _int_or_string(v: int | str) -> bytes:
    # intstr.IntOrString: 1 type (0 Int, 1 String), 2 intVal, 3 strVal; all always written.
    if isinstance(v, str):
        return b"\x08\x01\x10\x00" + _str(3, v)
    return b"\x08\x00" + _int(2, v) + b"\x1a\x00"


def _str_field_len(text: str) -> int:
    # An always-written string field with a one-byte tag: 2 bytes when empty.
    return wrap(len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass")))


def _sf(s: str) -> int:
    """``len(_str(num, s))`` for a one-byte tag ``num``. ``O(1)`` for ASCII."""
    n = len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))
    return n + 2 if n < 0x80 else 1 + sov(n) + n
