"""IP address helpers with Kubernetes' parsing rules.

Kubernetes parses IPs with ``netutils.ParseIPSloppy`` (IPv4 octets with leading zeros are read
as decimal, ``01.2.3.4`` -> ``1.2.3.4``; IPv6 groups may carry leading zeros beyond four
digits, ``02000::4`` -> ``2000::4``) and prints them in canonical form (RFC 5952 for IPv6;
an IPv4-mapped IPv6 address prints as IPv4). All functions are ``O(1)`` for one address.

>>> canonical_ip("01.2.3.4")
'1.2.3.4'
>>> canonical_ip("1234::5678:0000:0000:9abc:def0")
'1234::5678:0:0:9abc:def0'
>>> ip_family("::ffff:10.0.0.1")
'IPv4'
>>> canonical_ip("02000::4")  # a legacy leading zero in a group, accepted as upstream does
'2000::4'
"""

from __future__ import annotations

import functools
import ipaddress
import re

__all__ = ["parse_ip", "ip_info", "canonical_ip", "ip_family", "is_ipv6", "is_special_ip", "IPv4", "IPv6"]

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
    if not isinstance(text, str) or not text or len(text) > _MAX_TEXT:
        return None
    if ":" not in text:
        return _parse_v4_sloppy(text)
    if "%" in text:
        return None
    try:
        addr = ipaddress.IPv6Address(text)
    except ValueError:
        sloppy = _parse_v6_sloppy(text)
        if sloppy is None:
            return None
        addr = sloppy
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


# Go has no length limit; this one bounds the memo's keys. 128 characters leave room for
# legacy leading zeros (``0000002000::4``) far beyond anything a real writer produces.
_MAX_TEXT = 128
_HEX = frozenset("0123456789abcdefABCDEF")


def _parse_v6_sloppy(text: str) -> ipaddress.IPv6Address | None:
    """IPv6 the way Go 1.16's ``net.ParseIP`` read it, which ``netutils.ParseIPSloppy``
    (``k8s.io/utils/net/ipnet.go``'s forked ``parseIPv6``) keeps: a group is any run of hex
    digits whose value is at most ``0xffff`` (so ``02000`` is ``0x2000``); the last group
    may be an IPv4 address with leading zeros; ``::`` may stand for no group at all. Only
    reached for text Python's strict parser refused. ``O(len(text))``."""
    if text.count("::") > 1:
        return None
    head, ellipsis, tail = text.partition("::")
    parts_head = head.split(":") if head else []
    parts_tail = tail.split(":") if tail else []
    words: list[int] = []
    tail_words: list[int] = []
    for parts, out in ((parts_head, words), (parts_tail, tail_words)):
        for i, g in enumerate(parts):
            last = i == len(parts) - 1 and (out is tail_words or not ellipsis)
            if "." in g and last:
                v4 = _parse_v4_sloppy(g)
                if v4 is None:
                    return None
                b = v4.packed
                out.extend(((b[0] << 8) | b[1], (b[2] << 8) | b[3]))
                continue
            if not g or any(c not in _HEX for c in g):
                return None
            v = int(g, 16)
            if v > 0xFFFF:
                return None
            out.append(v)
    n = len(words) + len(tail_words)
    if ellipsis:
        if n > 8:
            return None
        words = words + [0] * (8 - n) + tail_words
    elif n != 8:
        return None
    return ipaddress.IPv6Address(b"".join(w.to_bytes(2, "big") for w in words))


@functools.lru_cache(maxsize=65536)
def ip_info(text: str) -> tuple[str | None, str | None]:
    """``(ip_family(text), canonical_ip(text))``: the family of an IP string (``None``: not an
    IP) and its canonical form, memoised by the string. Both endpoint controllers read every
    pod IP they publish on each change of the pod (the Endpoints address, the slice
    endpoint's addresses): the memo parses and prints each string once. A canonical dotted
    quad (:data:`_CANONICAL_V4`, what every IP allocator writes) is its own canonical form
    and needs no parse. ``O(len(text))`` on a miss, ``O(1)`` after.

    >>> ip_info("10.0.0.7"), ip_info("010.0.0.7"), ip_info("2001:db8::1"), ip_info("nope")
    (('IPv4', '10.0.0.7'), ('IPv4', '10.0.0.7'), ('IPv6', '2001:db8::1'), (None, None))
    """
    if type(text) is str and _CANONICAL_V4(text) is not None:
        return IPv4, text
    addr = parse_ip(text)
    return (None, None) if addr is None else (IPv4 if addr.version == 4 else IPv6, str(addr))


_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # 0..255, no leading zero, ASCII
#: A dotted quad in canonical form: the IPv4 grammar of :func:`parse_ip` (four ASCII-digit
#: octets of at most three digits and value 255) without a leading zero, so that the address
#: it parses to prints as the text itself.
_CANONICAL_V4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}").fullmatch


def canonical_ip(text: str) -> str | None:
    """The canonical string form of ``text``, or ``None`` if it is not an IP."""
    return ip_info(text)[1]


def ip_family(text: str) -> str | None:
    """``"IPv4"``, ``"IPv6"``, or ``None`` for a string that is not an IP."""
    return ip_info(text)[0]


def is_ipv6(text: str) -> bool:
    """``True`` iff ``text`` parses as an IPv6 (not IPv4-mapped) address."""
    return ip_family(text) == IPv6


_V4_LINK_LOCAL_MULTICAST = ipaddress.IPv4Network("224.0.0.0/24")


@functools.lru_cache(maxsize=65536)
def is_special_ip(addr: _Addr) -> str | None:
    """The API server's reason for refusing ``addr`` as an endpoint, or ``None``.

    Mirrors ``ValidateNonSpecialIP`` (unspecified, loopback, link-local unicast and link-local
    multicast are refused) with Go's ``net.IP`` definitions (``src/net/ip.go``), which differ
    from :mod:`ipaddress` in two ways: an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is
    judged as the IPv4 address it holds (``To4``), and ``IsLinkLocalMulticast`` is
    ``ff0X:``/``ffX2::`` with any flags nibble (``ip[0] == 0xff && ip[1]&0x0f == 0x02``:
    ``ff12::1`` too), not only ``ff02::/16``. ``O(1)``; memoised per address (endpoint IPs
    repeat on every write of their Endpoints/EndpointSlice).
    """
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return is_special_ip(addr.ipv4_mapped)
    if addr.is_unspecified:
        return "may not be unspecified (0.0.0.0)" if addr.version == 4 else "may not be unspecified (::)"
    if addr.is_loopback:
        return "may not be in the loopback range (127.0.0.0/8, ::1/128)"
    if addr.is_link_local:
        return "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
    if addr.version == 4 and addr in _V4_LINK_LOCAL_MULTICAST:
        return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
    if addr.version == 6:
        packed = addr.packed
        if packed[0] == 0xFF and packed[1] & 0x0F == 0x02:
            return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
    return None
