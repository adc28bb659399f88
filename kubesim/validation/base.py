"""The building blocks every validator uses: the error collector ``_Errs`` (upstream's
``field.ErrorList``, with the API server's error types and wording), ``_Json`` (a bad value
the API server renders as JSON), the shared field checks (DNS labels, port numbers and names,
protocols, endpoint IPs, memoised per string) and the two memo classes of sub-objects found
valid (``_ValidEntries`` by value, ``_ValidByIdentity`` by identity).

Imports: :mod:`kubesim.labels`, :mod:`kubesim.errors`, :mod:`kubesim.netutil` (the bottom
layer of :mod:`kubesim.validation`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from kubesim import labels as L
from kubesim.errors import FieldError
from kubesim.netutil import is_special_ip, parse_ip

_PROTOCOLS = ("SCTP", "TCP", "UDP")
_PROTOCOL_SET = frozenset(_PROTOCOLS)


_IMMUTABLE = "field is immutable"
_NEGATIVE = "must be greater than or equal to 0"


class _Json:
    """A bad value that the API server renders as JSON (``json.Marshal`` of a struct/slice)."""

    __slots__ = ("text",)

    def __init__(self, value: Any) -> None:
        self.text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"_Json({self.text})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Json) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


class _Errs:
    """Collects field errors (``field.ErrorList``)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self.items.append(FieldError(path, "Invalid value", value, detail))

    def invalid_msgs(self, path: str, value: Any, msgs: Iterable[str]) -> None:
        for m in msgs:
            self.items.append(FieldError(path, "Invalid value", value, m))

    def required(self, path: str, detail: str = "") -> None:
        self.items.append(FieldError(path, "Required value", "", detail))

    def forbidden(self, path: str, detail: str) -> None:
        self.items.append(FieldError(path, "Forbidden", "", detail))

    def duplicate(self, path: str, value: Any) -> None:
        self.items.append(FieldError(path, "Duplicate value", value))

    def not_supported(self, path: str, value: Any, supported: Sequence[str]) -> None:
        detail = "supported values: " + ", ".join(json.dumps(s) for s in supported)
        self.items.append(FieldError(path, "Unsupported value", value, detail))

    def too_many(self, path: str, actual: int, limit: int) -> None:
        noun = "item" if limit == 1 else "items"
        self.items.append(FieldError(path, "Too many", actual, f"must have at most {limit} {noun}"))

    def too_long(self, path: str, limit: int) -> None:
        noun = "byte" if limit == 1 else "bytes"
        self.items.append(
            FieldError(path, "Too long", None, f"may not be more than {limit} {noun}", has_value=False)
        )

    def internal(self, path: str, detail: str) -> None:
        self.items.append(FieldError(path, "Internal error", None, detail, has_value=False))

    def nonnegative(self, path: str, value: int) -> None:
        if value < 0:
            self.invalid(path, value, _NEGATIVE)


# --------------------------------------------------------------------------------------------
# shared helpers


def _dns_label(e: _Errs, value: str, path: str) -> None:
    e.invalid_msgs(path, value, L.is_dns1123_label(value))


def _port_num_or_name(e: _Errs, port: int | str, path: str) -> None:
    # ValidatePortNumOrName
    if isinstance(port, str):
        e.invalid_msgs(path, port, L.is_valid_port_name(port))
    else:
        e.invalid_msgs(path, port, L.is_valid_port_num(port))


def _protocol(e: _Errs, protocol: str | None, path: str) -> None:
    if not protocol:
        e.required(path)
    elif protocol not in _PROTOCOL_SET:
        e.not_supported(path, protocol, _PROTOCOLS)


_LEGACY_IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


@functools.lru_cache(maxsize=65536)
def _endpoint_ip_reason(ip: str) -> str | None:
    """The one error ``ValidateEndpointIP`` gives for ``ip``, or ``None``; memoised (the same
    endpoint IPs are validated on every write of their Endpoints/EndpointSlice)."""
    addr = parse_ip(ip)
    if addr is None:
        return "must be a valid IP address"
    reason = is_special_ip(addr)
    if reason is not None and reason.startswith("may not be unspecified"):
        reason = f"may not be unspecified ({ip})"  # upstream prints the value as given
    return reason


def _endpoint_ip(e: _Errs, ip: str, path: str) -> None:
    # ValidateNonSpecialIP / ValidateEndpointIP (netutil.is_special_ip has the wording).
    reason = _endpoint_ip_reason(ip)
    if reason is not None:
        e.invalid(path, ip, reason)


class _ValidEntries:
    """A bounded set of list entries (frozen, hashable values) already found valid, so that a
    write of an Endpoints/EndpointSlice re-validates only the entries that changed. The key
    holds everything the entry's checks depend on; cleared wholesale when full."""

    __slots__ = ("seen", "limit")

    def __init__(self, limit: int = 1 << 17) -> None:
        self.seen: set[Any] = set()
        self.limit = limit

    def add(self, key: Any) -> None:
        if len(self.seen) >= self.limit:
            self.seen.clear()
        self.seen.add(key)


class _ValidByIdentity:
    """Frozen sub-objects (by identity, a reference held) whose checks passed, where the checks
    depend on the sub-object alone: a pod's ``spec`` is carried over unchanged across its
    status updates, a ReplicaSet's or Deployment's selector and template across its scale and
    status updates. Bounded; cleared wholesale when full. ``O(1)``."""

    __slots__ = ("seen", "limit")

    def __init__(self, limit: int = 1 << 15) -> None:
        self.seen: dict[Any, tuple[Any, ...]] = {}
        self.limit = limit

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        hit = self.seen.get(tuple(map(id, key)))
        return hit is not None and all(a is b for a, b in zip(hit, key, strict=False))

    def add(self, key: tuple[Any, ...]) -> None:
        if len(self.seen) >= self.limit:
            self.seen.clear()
        self.seen[tuple(map(id, key))] = key
