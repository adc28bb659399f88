"""core/v1 Endpoints and discovery/v1 EndpointSlice validation
(``pkg/apis/core/validation``, ``pkg/apis/discovery/validation``), with the memos that make an
Endpoints write cost its changed addresses: entries found valid (by value and by identity),
address lists known valid (by identity) and the derivation hints that
:func:`kubesim.validation.note_derived_addresses` records.

Imports: :mod:`kubesim.labels`, :mod:`kubesim._memo`, :mod:`kubesim.netutil`,
:mod:`kubesim.objects`, :mod:`kubesim.validation.base`, :mod:`kubesim.validation.meta`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kubesim import labels as L
from kubesim._memo import IdentityMemo
from kubesim.netutil import parse_ip
from kubesim.objects import Endpoint, EndpointAddress, Endpoints, EndpointSlice
from kubesim.validation.base import (
    _IMMUTABLE,
    _LEGACY_IP_MSG,
    _PROTOCOL_SET,
    _PROTOCOLS,
    _dns_label,
    _endpoint_ip,
    _Errs,
    _protocol,
    _ValidEntries,
)
from kubesim.validation.meta import _label_errors, _meta_errors

_MAX_SLICE_ENDPOINTS = 1000
_MAX_SLICE_ADDRESSES = 100
_MAX_SLICE_PORTS = 20000
_MAX_HINTS = 8
_MAX_TOPOLOGY_LABELS = 16
_ZONE_LABEL = "topology.kubernetes.io/zone"


_VALID_ADDRESSES = _ValidEntries()
_VALID_SLICE_ENDPOINTS = _ValidEntries()


# --------------------------------------------------------------------------------------------
# Endpoints address lists known valid (an O(changed entries) Endpoints write)
#
# An address's checks depend on the address alone, so a list is valid iff each entry is.  Three
# memos, cheapest first: lists (tuples, by identity) whose every entry passed; derivation hints
# (``note_derived_addresses``: every entry of a new list is an entry of an earlier list or one
# of a few added entries), so a list derived from a valid one costs its added entries; and the
# identities of addresses that passed (one pass over a list's entries).  Each holds
# references, so an id stays unique while remembered.


#: Longest chain of derivation hints followed back to a list known valid.
_MAX_CHAIN = 64


_VALID_LISTS = IdentityMemo(1 << 20)  # address tuple -> True
_DERIVED = IdentityMemo(1 << 20)  # address tuple -> (base tuple, added entries)
_VALID_IDS: set[int] = set()  # ids of addresses that passed, all held by _VALID_HELD
_VALID_HELD: list[EndpointAddress] = []


def _mark_valid(a: EndpointAddress) -> None:
    if len(_VALID_IDS) >= _VALID_ADDRESSES.limit:
        _VALID_IDS.clear()
        _VALID_HELD.clear()
    _VALID_IDS.add(id(a))
    _VALID_HELD.append(a)


def _address_ok(a: EndpointAddress) -> bool:
    """Whether ``a`` passes its checks (memoised by identity and by value)."""
    if id(a) in _VALID_IDS:
        return True
    if a not in _VALID_ADDRESSES.seen:
        e = _Errs()
        _endpoint_address_errors(e, a, "")
        if e.items:
            return False
        _VALID_ADDRESSES.add(a)
    _mark_valid(a)
    return True


def _known_valid(addrs: Sequence[EndpointAddress]) -> bool:
    """``True`` when every entry of ``addrs`` is known to pass its checks (then the list
    yields no error); ``False`` when that is not known cheaply (the caller walks the list).
    ``O(1)`` for a list known valid; ``O(added entries)`` along derivation hints back to one;
    else one pass over the entries' identities plus the checks of the entries not known."""
    if _VALID_LISTS.get(addrs):
        return True
    ok: bool | None = None
    added: list[tuple[EndpointAddress, ...]] = []
    cur: Sequence[EndpointAddress] = addrs
    for _ in range(_MAX_CHAIN):
        hint = _DERIVED.get(cur)
        if hint is None:
            break
        cur, more = hint
        added.append(more)
        if not cur or _VALID_LISTS.get(cur):
            # Derived from a list known valid: the entries added on the way decide.
            ok = all(_address_ok(a) for more in added for a in more)
            break
    if ok is None:
        # One pass for the entries not known valid by identity (usually none or a few).
        ids = _VALID_IDS
        ok = all(_address_ok(a) for a in [a for a in addrs if id(a) not in ids])
    if ok and type(addrs) is tuple:
        _VALID_LISTS.put(addrs, True)
    return ok


# --------------------------------------------------------------------------------------------
# Endpoints


def _endpoint_address_errors(e: _Errs, a: EndpointAddress, ap: str) -> None:
    # The checks of one EndpointAddress: they depend on the address alone (memoised by the
    # caller when they pass).
    if parse_ip(a.ip) is None:
        e.invalid(ap + ".ip", a.ip, _LEGACY_IP_MSG)
    if a.hostname:
        _dns_label(e, a.hostname, ap + ".hostname")
    if a.node_name is not None:
        e.invalid_msgs(ap + ".nodeName", a.node_name, L.is_dns1123_subdomain(a.node_name))
    _endpoint_ip(e, a.ip, ap + ".ip")


def _validate_endpoints(e: _Errs, ep: Endpoints, old: Endpoints | None) -> None:
    _meta_errors(e, ep.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    valid = _VALID_ADDRESSES.seen
    for i, ss in enumerate(ep.subsets):
        sp = f"subsets[{i}]"
        if not ss.addresses and not ss.not_ready_addresses:
            e.required(sp, "must specify `addresses` or `notReadyAddresses`")
        for field_name, addrs in (("addresses", ss.addresses), ("notReadyAddresses", ss.not_ready_addresses)):
            if not addrs or _known_valid(addrs):
                continue
            start = len(e.items)
            for j, a in enumerate(addrs):
                if id(a) in _VALID_IDS:
                    continue
                if a not in valid:
                    before = len(e.items)
                    _endpoint_address_errors(e, a, f"{sp}.{field_name}[{j}]")
                    if len(e.items) != before:
                        continue
                    _VALID_ADDRESSES.add(a)
                _mark_valid(a)
            if len(e.items) == start and type(addrs) is tuple:
                _VALID_LISTS.put(addrs, True)
        multi = len(ss.ports) > 1
        for j, p in enumerate(ss.ports):
            pp = f"{sp}.ports[{j}]"
            if multi and not p.name:
                e.required(pp + ".name")
            elif p.name:
                _dns_label(e, p.name, pp + ".name")
            e.invalid_msgs(pp + ".port", p.port, L.is_valid_port_num(p.port))
            _protocol(e, p.protocol, pp + ".protocol")
            if p.app_protocol is not None:
                e.invalid_msgs(pp + ".appProtocol", p.app_protocol, L.is_qualified_name(p.app_protocol))


# --------------------------------------------------------------------------------------------
# EndpointSlice


def _is_fqdn(e: _Errs, name: str, path: str) -> None:
    # IsFullyQualifiedDomainName
    if not name:
        e.required(path)
        return
    if name.endswith("."):
        name = name[:-1]
    errs = L.is_dns1123_subdomain(name)
    if errs:
        e.invalid(path, name, ",".join(errs))
        return
    parts = name.split(".")
    if len(parts) < 2:
        e.invalid(path, name, "should be a domain with at least two segments separated by dots")
        return
    for label in parts:
        lerrs = L.is_dns1123_label(label)
        if lerrs:
            e.invalid(path, label, ",".join(lerrs))
            return


def _slice_endpoint_errors(e: _Errs, ep: Endpoint, at: str, p: str) -> None:
    # The checks of one EndpointSlice endpoint: they depend on the endpoint and the slice's
    # addressType alone (memoised by the caller when they pass).
    ap = p + ".addresses"
    if not ep.addresses:
        e.required(ap, "must contain at least 1 address")
    elif len(ep.addresses) > _MAX_SLICE_ADDRESSES:
        e.too_many(ap, len(ep.addresses), _MAX_SLICE_ADDRESSES)
    for j, a in enumerate(ep.addresses):
        aj = f"{ap}[{j}]"
        if at in ("IPv4", "IPv6"):
            addr = parse_ip(a)
            if addr is None:
                e.invalid(aj, a, _LEGACY_IP_MSG)
                continue
            if at == "IPv4" and addr.version != 4:
                e.invalid(aj, a, "must be an IPv4 address")
            if at == "IPv6" and addr.version != 6:
                e.invalid(aj, a, "must be an IPv6 address")
            _endpoint_ip(e, a, aj)
        elif at == "FQDN":
            _is_fqdn(e, a, aj)
    if ep.node_name is not None:
        e.invalid_msgs(p + ".nodeName", ep.node_name, L.is_dns1123_subdomain(ep.node_name))
    tp = p + ".deprecatedTopology"
    if len(ep.deprecated_topology) > _MAX_TOPOLOGY_LABELS:
        e.too_many(tp, len(ep.deprecated_topology), _MAX_TOPOLOGY_LABELS)
    _label_errors(e, ep.deprecated_topology, tp)
    if _ZONE_LABEL in ep.deprecated_topology:
        e.internal(f"{tp}[{_ZONE_LABEL}]", "reserved key was not removed in conversion")
    if ep.hostname is not None:
        _dns_label(e, ep.hostname, p + ".hostname")
    if ep.hints is not None:
        hp = p + ".hints"
        _hint_names(e, [z.name for z in ep.hints.for_zones], hp + ".forZones", L.is_valid_label_value)
        _hint_names(e, [n.name for n in ep.hints.for_nodes], hp + ".forNodes", L.is_dns1123_subdomain)


def _validate_endpoint_slice(e: _Errs, es: EndpointSlice, old: EndpointSlice | None) -> None:
    _meta_errors(e, es.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    at = es.address_type
    if not at:
        e.required("addressType")
    elif at not in ("FQDN", "IPv4", "IPv6"):
        e.not_supported("addressType", at, ("FQDN", "IPv4", "IPv6"))
    if len(es.endpoints) > _MAX_SLICE_ENDPOINTS:
        e.too_many("endpoints", len(es.endpoints), _MAX_SLICE_ENDPOINTS)
    else:
        valid = _VALID_SLICE_ENDPOINTS.seen
        for i, ep in enumerate(es.endpoints):
            if (at, ep) in valid:
                continue
            before = len(e.items)
            _slice_endpoint_errors(e, ep, at, f"endpoints[{i}]")
            if len(e.items) == before:
                _VALID_SLICE_ENDPOINTS.add((at, ep))
    if len(es.ports) > _MAX_SLICE_PORTS:
        e.too_many("ports", len(es.ports), _MAX_SLICE_PORTS)
    else:
        names: set[str] = set()
        for i, port in enumerate(es.ports):
            pp = f"ports[{i}]"
            name = port.name or ""
            if name:
                _dns_label(e, name, pp + ".name")
            if name in names:
                e.duplicate(pp + ".name", name)
            else:
                names.add(name)
            if port.protocol is None:
                e.required(pp + ".protocol")
            elif port.protocol not in _PROTOCOL_SET:
                e.not_supported(pp + ".protocol", port.protocol, _PROTOCOLS)
            if port.app_protocol is not None:
                e.invalid_msgs(pp + ".appProtocol", port.app_protocol, L.is_qualified_name(port.app_protocol))
    if old is not None and es.address_type != old.address_type:
        e.invalid("addressType", es.address_type, _IMMUTABLE)


def _hint_names(e: _Errs, names: list[str], path: str, rule: Callable[[str], tuple[str, ...]]) -> None:
    if len(names) > _MAX_HINTS:
        e.too_many(path, len(names), _MAX_HINTS)
        return
    seen: set[str] = set()
    for i, n in enumerate(names):
        p = f"{path}[{i}].name"
        if n in seen:
            e.duplicate(p, n)
        else:
            seen.add(n)
        e.invalid_msgs(p, n, rule(n))
