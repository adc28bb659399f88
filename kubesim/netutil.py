"""IP address helpers with Kubernetes' parsing rules.

Kubernetes parses IPs with ``netutils.ParseIPSloppy`` (IPv4 octets with leading zeros are read
as decimal, ``01.2.3.4`` -> ``1.2.3.4``) and prints them in canonical form (RFC 5952 for IPv6;
an IPv4-mapped IPv6 address prints as IPv4). All functions are ``O(1)`` for one address.

>>> canonical_ip("01.2.3.4")
'1.2.3.4'
>>> canonical_ip("1234::5678:0000:0000:9abc:def0")
'1234::5678:0:0:9abc:def0'
>>> ip_family("::ffff:10.0.0.1")
'IPv4'
"""

from __future__ import annotations

import functools
import ipaddress

__all__ = ["parse_ip", "canonical_ip", "ip_family", "is_ipv6", "is_special_ip", "IPv4", "IPv6"]

IPv4 = "IPv4"
IPv6 = "IPv6"

_Addr = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_v4_sloppy(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if len(parts) != 4:
        return None
    octets = []
    for p in parts:
        if not p or not p.isdigit() or not p.isascii() or len(p) > 3:
            return None
        v = int(p, 10)
        if v > 255:
            return None
        octets.append(v)
    return ipaddress.IPv4Address(bytes(octets))


@functools.lru_cache(maxsize=65536)
def parse_ip(text: str) -> _Addr | None:
    """Parse like ``ParseIPSloppy``; ``None`` if ``text`` is not an IP. IPv4-mapped IPv6
    addresses are returned as IPv4 (Go's 4-byte form)."""
    if not isinstance(text, str) or not text or len(text) > 45:
        return None
    if ":" not in text:
        return _parse_v4_sloppy(text)
    if "%" in text:
        return None
    try:
        addr = ipaddress.IPv6Address(text)
    except ValueError:
        # Go accepts an embedded IPv4 tail with leading zeros too; keep it strict here.
        return None
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def canonical_ip(text: str) -> str | None:
    """The canonical string form of ``text``, or ``None`` if it is not an IP."""
    addr = parse_ip(text)
    return None if addr is None else str(addr)


def ip_family(text: str) -> str | None:
    """``"IPv4"``, ``"IPv6"``, or ``None`` for a string that is not an IP."""
    addr = parse_ip(text)
    if addr is None:
        return None
    return IPv4 if addr.version == 4 else IPv6


def is_ipv6(text: str) -> bool:
    """``True`` iff ``text`` parses as an IPv6 (not IPv4-mapped) address."""
    return ip_family(text) == IPv6


_V4_LINK_LOCAL_MULTICAST = ipaddress.IPv4Network("224.0.0.0/24")
_V6_LINK_LOCAL_MULTICAST = ipaddress.IPv6Network("ff02::/16")


@functools.lru_cache(maxsize=65536)
def is_special_ip(addr: _Addr) -> str | None:
    """The API server's reason for refusing ``addr`` as an endpoint, or ``None``.

    Mirrors ``ValidateNonSpecialIP`` (unspecified, loopback, link-local unicast and link-local
    multicast are refused). ``O(1)``; memoised per address (endpoint IPs repeat on every write
    of their Endpoints/EndpointSlice).
    """
    if addr.is_unspecified:
        return "may not be unspecified (0.0.0.0)" if addr.version == 4 else "may not be unspecified (::)"
    if addr.is_loopback:
        return "may not be in the loopback range (127.0.0.0/8, ::1/128)"
    if addr.is_link_local:
        return "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
    if addr.version == 4 and addr in _V4_LINK_LOCAL_MULTICAST:
        return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
    if addr.version == 6 and addr in _V6_LINK_LOCAL_MULTICAST:
        return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
    return None
