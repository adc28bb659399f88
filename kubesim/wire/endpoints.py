"""core/v1 Endpoints and discovery/v1 EndpointSlice: the protobuf encoders and
JSON renderings of their entries (addresses, ports, slice endpoints), the cached per-entry
sizes (:func:`address_entry_size`, :func:`endpoint_entry_size`, :func:`address_json_size`
...), and the sums over address lists that make an Endpoints write cost ``O(changed
entries)`` to measure (:func:`address_sizes`, :func:`address_list_sizes`, the per-list sums
that :func:`kubesim.wire.vouch_address_list` records).

Imports: :mod:`kubesim.objects`, :mod:`kubesim._memo`, and the lower wire layers
:mod:`~kubesim.wire.protobuf`, :mod:`~kubesim.wire.gojson`, :mod:`~kubesim.wire.caches`,
:mod:`~kubesim.wire.meta`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kubesim._memo import IdentityMemo
from kubesim.objects import (
    Endpoint,
    EndpointAddress,
    EndpointConditions,
    EndpointHints,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    EndpointSubset,
)
from kubesim.wire.caches import (
    _PAIR_MASK,
    _PAIR_SHIFT,
    _STR_PAIRS,
    CACHE_SIZE,
    _by_identity,
    _register,
    _str_pair,
)
from kubesim.wire.gojson import _json_len, json_list_size
from kubesim.wire.meta import (
    _object_meta,
    _object_reference,
    _object_reference_json,
    _object_reference_json_len,
    _object_reference_len,
)
from kubesim.wire.protobuf import (
    _int,
    _map,
    _msg,
    _opt_bool,
    _opt_int,
    _opt_str,
    _rep_msg,
    _rep_str,
    _sf,
    _str,
    wrap,
)

# --------------------------------------------------------------------------------------------
# core/v1 Endpoints (k8s.io/api core/v1/generated.proto)


def _endpoint_address(a: EndpointAddress) -> bytes:
    target = b"" if a.target_ref is None else _msg(2, _object_reference(a.target_ref))
    return _str(1, a.ip) + target + _str(3, a.hostname) + _opt_str(4, a.node_name)


def _endpoint_port(p: EndpointPort) -> bytes:
    return _str(1, p.name) + _int(2, p.port) + _str(3, p.protocol) + _opt_str(4, p.app_protocol)


def _endpoint_subset(s: EndpointSubset) -> bytes:
    return (
        _rep_msg(1, s.addresses, _endpoint_address)
        + _rep_msg(2, s.not_ready_addresses, _endpoint_address)
        + _rep_msg(3, s.ports, _endpoint_port)
    )


def _endpoints(e: Endpoints, include_rv: bool) -> bytes:
    return _msg(1, _object_meta(e.metadata, include_rv)) + _rep_msg(2, e.subsets, _endpoint_subset)


# --------------------------------------------------------------------------------------------
# discovery/v1 EndpointSlice (k8s.io/api discovery/v1/generated.proto)


def _endpoint_conditions(c: EndpointConditions) -> bytes:
    return _opt_bool(1, c.ready) + _opt_bool(2, c.serving) + _opt_bool(3, c.terminating)


def _endpoint_hints(h: EndpointHints) -> bytes:
    return b"".join(_msg(1, _str(1, z.name)) for z in h.for_zones) + b"".join(
        _msg(2, _str(1, n.name)) for n in h.for_nodes
    )


def _slice_endpoint(e: Endpoint) -> bytes:
    return b"".join(
        (
            _rep_str(1, e.addresses),
            _msg(2, _endpoint_conditions(e.conditions)),
            _opt_str(3, e.hostname),
            b"" if e.target_ref is None else _msg(4, _object_reference(e.target_ref)),
            _map(5, e.deprecated_topology),
            _opt_str(6, e.node_name),
            _opt_str(7, e.zone),
            b"" if e.hints is None else _msg(8, _endpoint_hints(e.hints)),
        )
    )


def _slice_port(p: EndpointSlicePort) -> bytes:
    # Numbering differs from core EndpointPort: 1 name, 2 protocol, 3 port, 4 appProtocol.
    return (
        _opt_str(1, p.name)
        + _opt_str(2, p.protocol)
        + _opt_int(3, p.port)
        + _opt_str(4, p.app_protocol)
    )


def _endpoint_slice(s: EndpointSlice, include_rv: bool) -> bytes:
    return (
        _msg(1, _object_meta(s.metadata, include_rv))
        + _rep_msg(2, s.endpoints, _slice_endpoint)
        + _rep_msg(3, s.ports, _slice_port)
        + _str(4, s.address_type)
    )


def _endpoint_address_len(a: EndpointAddress) -> int:
    """``len(_endpoint_address(a))`` by arithmetic (``_sf`` is a one-byte-tag string field's
    size, ``wrap`` a message field's). ``O(1)``."""
    n = _sf(a.ip) + _sf(a.hostname)
    if a.target_ref is not None:
        n += wrap(_object_reference_len(a.target_ref))
    if a.node_name is not None:
        n += _sf(a.node_name)
    return n


def _slice_endpoint_len(e: Endpoint) -> int:
    """``len(_slice_endpoint(e))`` by arithmetic, field by field as :func:`_slice_endpoint`
    writes them (a map entry is a message of its key and value; a hint a message of its
    name). ``O(addresses + topology + hints)``."""
    n = 0
    for a in e.addresses:
        n += _sf(a)
    c = e.conditions
    n += wrap(2 * ((c.ready is not None) + (c.serving is not None) + (c.terminating is not None)))
    if e.hostname is not None:
        n += _sf(e.hostname)
    if e.target_ref is not None:
        n += wrap(_object_reference_len(e.target_ref))
    topology = e.deprecated_topology
    if topology:
        for k, v in topology.items():
            n += wrap(_sf(k) + _sf(v))
    if e.node_name is not None:
        n += _sf(e.node_name)
    if e.zone is not None:
        n += _sf(e.zone)
    h = e.hints
    if h is not None:
        n += wrap(sum([wrap(_sf(z.name)) for z in h.for_zones]) + sum([wrap(_sf(x.name)) for x in h.for_nodes]))
    return n


@_register
def address_entry_size(addr: EndpointAddress) -> int:
    """Bytes one ``EndpointAddress`` adds to its ``EndpointSubset`` message (in
    ``addresses`` or ``notReadyAddresses``: both tags are one byte), tag and length included.
    ``O(1)`` amortised (cached per value).

    >>> address_entry_size(EndpointAddress(ip="10.0.0.1"))  # 0a 0c {0a 08 "10.0.0.1" 1a 00}
    14
    """
    return wrap(_endpoint_address_len(addr))


@_register
def endpoint_port_entry_size(port: EndpointPort) -> int:
    """Bytes one core ``EndpointPort`` adds to its ``EndpointSubset``, tag and length
    included. ``O(1)`` amortised (cached).

    >>> endpoint_port_entry_size(EndpointPort(port=8080))  # 1a 0a {0a 00 10 90 3f 1a 03 TCP}
    12
    """
    return wrap(len(_endpoint_port(port)))


#: Alias of :func:`endpoint_port_entry_size`.
port_entry_size = endpoint_port_entry_size


@_register
def endpoint_entry_size(ep: Endpoint) -> int:
    """Bytes one discovery ``Endpoint`` adds to its ``EndpointSlice`` message, tag and length
    included. ``O(1)`` amortised (cached).

    >>> endpoint_entry_size(Endpoint(addresses=("10.0.0.1",)))  # 12 0c {0a 08 .. 12 00}
    14
    """
    return wrap(_slice_endpoint_len(ep))


@_register
def slice_port_entry_size(port: EndpointSlicePort) -> int:
    """Bytes one discovery ``EndpointPort`` adds to its ``EndpointSlice``, tag and length
    included. ``O(1)`` amortised (cached).

    >>> slice_port_entry_size(EndpointSlicePort(name="http", protocol="TCP", port=8080))
    16
    """
    return wrap(len(_slice_port(port)))


def _subset_body(s: EndpointSubset) -> int:
    # The address lists through address_list_sizes: O(1) for a list measured or vouched
    # before (the JSON pass then reuses what the protobuf pass summed).
    n = 0
    if s.addresses:
        n += address_list_sizes(s.addresses)[0]
    if s.not_ready_addresses:
        n += address_list_sizes(s.not_ready_addresses)[0]
    for p in s.ports:
        n += endpoint_port_entry_size(p)
    return n


def _endpoints_pair(endpoints: tuple[Endpoint, ...]) -> int:
    """Packed sums of an EndpointSlice's endpoint entries: protobuf (tags included) and JSON
    (:func:`endpoint_entry_pair` of each, summed in C)."""
    return sum(map(endpoint_entry_pair, endpoints))


# A write sizes the same endpoints tuple twice (protobuf, JSON): one pass over it serves both.
_slice_endpoints_pair = _by_identity(_endpoints_pair, 1024)


def _endpoint_address_json(a: EndpointAddress) -> dict[str, Any]:
    d: dict[str, Any] = {"ip": a.ip}
    if a.hostname:
        d["hostname"] = a.hostname
    if a.node_name is not None:
        d["nodeName"] = a.node_name
    if a.target_ref is not None:
        d["targetRef"] = _object_reference_json(a.target_ref)
    return d


def _endpoint_port_json(p: EndpointPort) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if p.name:
        d["name"] = p.name
    d["port"] = p.port
    if p.protocol:
        d["protocol"] = p.protocol
    if p.app_protocol is not None:
        d["appProtocol"] = p.app_protocol
    return d


def _slice_endpoint_json(e: Endpoint) -> dict[str, Any]:
    c = e.conditions
    cond: dict[str, Any] = {}
    if c.ready is not None:
        cond["ready"] = c.ready
    if c.serving is not None:
        cond["serving"] = c.serving
    if c.terminating is not None:
        cond["terminating"] = c.terminating
    d: dict[str, Any] = {"addresses": list(e.addresses), "conditions": cond}
    if e.hostname is not None:
        d["hostname"] = e.hostname
    if e.target_ref is not None:
        d["targetRef"] = _object_reference_json(e.target_ref)
    if e.deprecated_topology:
        d["deprecatedTopology"] = dict(e.deprecated_topology)
    if e.node_name is not None:
        d["nodeName"] = e.node_name
    if e.zone is not None:
        d["zone"] = e.zone
    if e.hints is not None:
        h: dict[str, Any] = {}
        if e.hints.for_zones:
            h["forZones"] = [{"name": z.name} for z in e.hints.for_zones]
        if e.hints.for_nodes:
            h["forNodes"] = [{"name": n.name} for n in e.hints.for_nodes]
        d["hints"] = h
    return d


def _slice_port_json(p: EndpointSlicePort) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if p.name is not None:
        d["name"] = p.name
    if p.protocol is not None:
        d["protocol"] = p.protocol
    if p.port is not None:
        d["port"] = p.port
    if p.app_protocol is not None:
        d["appProtocol"] = p.app_protocol
    return d


_K_IP = len('{"ip":}')
_K_HOSTNAME = len(',"hostname":')
_K_NODE_NAME = len(',"nodeName":')
_K_TARGET_REF = len(',"targetRef":')
_K_ZONE = len(',"zone":')
_K_ADDRESSES = len('{"addresses":,"conditions":}')
_K_READY = len('"ready":')
_K_SERVING = len('"serving":')
_K_TERMINATING = len('"terminating":')


@_register
def address_json_size(addr: EndpointAddress) -> int:
    """JSON size of one ``EndpointAddress`` object (:func:`_endpoint_address_json` as Go
    encodes it), by arithmetic: the keys of the fields present and the strings' Go JSON
    lengths. ``O(1)`` amortised (cached).

    >>> address_json_size(EndpointAddress(ip="10.0.0.1"))  # {"ip":"10.0.0.1"}
    17
    """
    strings = _STR_PAIRS.get
    ip = addr.ip
    n = _K_IP + ((strings(ip) or _str_pair(ip)) >> _PAIR_SHIFT)
    s = addr.hostname
    if s:
        n += _K_HOSTNAME + ((strings(s) or _str_pair(s)) >> _PAIR_SHIFT)
    node = addr.node_name
    if node is not None:
        n += _K_NODE_NAME + ((strings(node) or _str_pair(node)) >> _PAIR_SHIFT)
    if addr.target_ref is not None:
        n += _K_TARGET_REF + _object_reference_json_len(addr.target_ref)
    return n


@_register
def endpoint_port_json_size(port: EndpointPort) -> int:
    """JSON size of one core ``EndpointPort`` object. ``O(1)`` amortised (cached)."""
    return _json_len(_endpoint_port_json(port))


@_register
def endpoint_json_size(ep: Endpoint) -> int:
    """JSON size of one discovery ``Endpoint`` object (:func:`_slice_endpoint_json` as Go
    encodes it), by arithmetic over its fields (:func:`_endpoint_json_len`). ``O(1)``
    amortised (cached)."""
    return _endpoint_json_len(ep)


@_register
def endpoint_entry_pair(ep: Endpoint) -> int:
    """Packed sizes of one discovery ``Endpoint``: ``endpoint_entry_size(ep) +
    (endpoint_json_size(ep) << _PAIR_SHIFT)``, what a slice's endpoint sums add up, in one
    cache probe (one hash of the entry, where the two sizes take two). ``O(1)`` amortised
    (cached)."""
    return wrap(_slice_endpoint_len(ep)) + (_endpoint_json_len(ep) << _PAIR_SHIFT)


def _endpoint_json_len(ep: Endpoint) -> int:
    """The Go JSON length of :func:`_slice_endpoint_json` ``(ep)`` by arithmetic: the keys of
    the fields present, the strings' Go JSON lengths (:data:`~kubesim.wire.caches._STR_PAIRS`),
    ``true``/``false``; an endpoint with ``deprecatedTopology`` or ``hints`` is measured
    through its JSON value instead. ``O(fields)``."""
    if ep.deprecated_topology or ep.hints is not None:
        return _json_len(_slice_endpoint_json(ep))
    strings = _STR_PAIRS.get
    addrs = ep.addresses
    total = 0
    for a in addrs:
        total += (strings(a) or _str_pair(a)) >> _PAIR_SHIFT
    n = _K_ADDRESSES + json_list_size(len(addrs), total)
    c = ep.conditions
    cond = k = 0
    if c.ready is not None:
        cond += _K_READY + (4 if c.ready else 5)
        k += 1
    if c.serving is not None:
        cond += _K_SERVING + (4 if c.serving else 5)
        k += 1
    if c.terminating is not None:
        cond += _K_TERMINATING + (4 if c.terminating else 5)
        k += 1
    n += 2 + cond + (k - 1 if k else 0)
    s = ep.hostname
    if s is not None:
        n += _K_HOSTNAME + ((strings(s) or _str_pair(s)) >> _PAIR_SHIFT)
    if ep.target_ref is not None:
        n += _K_TARGET_REF + _object_reference_json_len(ep.target_ref)
    s = ep.node_name
    if s is not None:
        n += _K_NODE_NAME + ((strings(s) or _str_pair(s)) >> _PAIR_SHIFT)
    s = ep.zone
    if s is not None:
        n += _K_ZONE + ((strings(s) or _str_pair(s)) >> _PAIR_SHIFT)
    return n


@_register
def slice_port_json_size(port: EndpointSlicePort) -> int:
    """JSON size of one discovery ``EndpointPort`` object. ``O(1)`` amortised (cached)."""
    return _json_len(_slice_port_json(port))


def _ports_pair(ports: tuple[EndpointSlicePort, ...]) -> int:
    """Packed sums of a slice's ports: protobuf entries (tags included) and JSON objects."""
    return sum([slice_port_entry_size(p) + (slice_port_json_size(p) << _PAIR_SHIFT) for p in ports])


#: :func:`_ports_pair` by identity of the ports tuple, which a slice's updates carry over.
_slice_ports_pair = _by_identity(_ports_pair)


# --------------------------------------------------------------------------------------------
# sums over address lists (the O(changed entries) Endpoints write)


# id(address) -> packed pair, for every address in _ADDR_HELD (which keeps them alive, so an
# id in the table always denotes the object it was computed for). Cleared when full.
_ADDR_PAIRS: dict[int, int] = {}
_ADDR_HELD: list[EndpointAddress] = []

# address tuple (by identity) -> (proto sum, json sum)
_LIST_SUMS = IdentityMemo(1 << 20)


def _address_pair(addr: EndpointAddress) -> int:
    n = _ADDR_PAIRS.get(id(addr))
    if n is None:
        if len(_ADDR_PAIRS) >= CACHE_SIZE:
            _ADDR_PAIRS.clear()
            _ADDR_HELD.clear()
        n = address_entry_size(addr) + (address_json_size(addr) << _PAIR_SHIFT)
        _ADDR_PAIRS[id(addr)] = n
        _ADDR_HELD.append(addr)
    return n


def address_sizes(addr: EndpointAddress) -> tuple[int, int]:
    """``(address_entry_size(addr), address_json_size(addr))``: what one address adds to the
    protobuf body of its subset and the JSON size of the address object. ``O(1)`` amortised
    (cached by identity, then by value).

    >>> address_sizes(EndpointAddress(ip="10.0.0.1"))
    (14, 17)
    """
    n = _address_pair(addr)
    return n & _PAIR_MASK, n >> _PAIR_SHIFT


# Go JSON lengths of the keys of an EndpointAddress and its ObjectReference, with the colon:
# ``"key":``.
_KA_IP, _KA_HOSTNAME, _KA_NODE_NAME, _KA_TARGET_REF = (len(k) + 3 for k in ("ip", "hostname", "nodeName", "targetRef"))
_KA_REF = tuple(
    len(k) + 3 for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
)


def measured_address_sizes(addr: EndpointAddress) -> tuple[int, int]:
    """:func:`address_sizes` ``(addr)`` by arithmetic and uncached, for an address just made
    (the Endpoints engine's new addresses, which no cache holds yet): ``(protobuf entry size, JSON size)``, from the wire's per-string sizes
    (``_STR_PAIRS.get(s) or _str_pair(s)``, the wire's own idiom: the pod's name, uid and
    namespace are there from the pod's writes).  Protobuf: ``ip`` and ``hostname`` always
    written, ``nodeName`` when not ``None``, ``targetRef`` (seven string fields, always
    written) when set, each a one-byte-tag field, the entry wrapped (what
    ``kubesim.wire.endpoints._endpoint_address_len`` adds up).  JSON: what the wire encodes
    (``ip``; ``hostname`` when set; ``nodeName`` when not ``None``; ``targetRef`` with its
    non-empty fields) as Go's compact JSON, ``{`` ``}`` and a comma between entries.  The wire
    measures a new address through value-keyed caches and a JSON encoder; this is ``O(1)``.
    ``tests/test_wire.py`` compares it with the encoders; the Endpoints engine compares each
    answer with :func:`address_sizes` under :data:`kubesim.wire.CHECK_HINTS`.

    >>> measured_address_sizes(EndpointAddress(ip="10.0.0.1")) == address_sizes(EndpointAddress(ip="10.0.0.1"))
    True
    """
    strings = _STR_PAIRS.get
    s = addr.ip
    v = strings(s) or _str_pair(s)
    proto = v & _PAIR_MASK
    js = _KA_IP + (v >> _PAIR_SHIFT)
    k = 1
    s = addr.hostname
    v = strings(s) or _str_pair(s)
    proto += v & _PAIR_MASK
    if s:
        js += _KA_HOSTNAME + (v >> _PAIR_SHIFT)
        k += 1
    node = addr.node_name
    if node is not None:
        v = strings(node) or _str_pair(node)
        proto += v & _PAIR_MASK
        js += _KA_NODE_NAME + (v >> _PAIR_SHIFT)
        k += 1
    tr = addr.target_ref
    if tr is not None:
        rp = rj = c = 0
        for key_len, s in zip(
            _KA_REF,
            (tr.kind, tr.namespace, tr.name, tr.uid, tr.api_version, tr.resource_version, tr.field_path),
            strict=True,
        ):
            v = strings(s) or _str_pair(s)
            rp += v & _PAIR_MASK
            if s:
                rj += key_len + (v >> _PAIR_SHIFT)
                c += 1
        proto += 1 + ((rp | 1).bit_length() + 6) // 7 + rp  # wrap(rp)
        js += _KA_TARGET_REF + 2 + rj + (c - 1 if c else 0)
        k += 1
    return 1 + ((proto | 1).bit_length() + 6) // 7 + proto, 2 + js + k - 1


def _address_list_scratch(addrs: Iterable[EndpointAddress]) -> tuple[int, int]:
    total = 0
    for a in addrs:
        total += address_entry_size(a) + (address_json_size(a) << _PAIR_SHIFT)
    return total & _PAIR_MASK, total >> _PAIR_SHIFT


def address_list_sizes(addrs: Sequence[EndpointAddress]) -> tuple[int, int]:
    """``(sum of address_entry_size, sum of address_json_size)`` over ``addrs`` (the
    ``addresses`` or ``notReadyAddresses`` of a subset).

    ``O(1)`` for a tuple measured or vouched (:func:`vouch_address_list`) recently: the sums
    are remembered by the tuple's identity (a bounded cache holding a reference).  Otherwise
    ``O(n)``: one C-level pass over per-address sizes cached by identity, plus, when some
    addresses were never measured, one pass to find them and their per-value cached sizes.
    An entry listed twice counts twice, as in the encoding."""
    if not addrs:
        return 0, 0
    hit: tuple[int, int] | None = _LIST_SUMS.get(addrs)
    if hit is not None:
        return hit
    pairs = _ADDR_PAIRS
    try:
        total = sum(map(pairs.__getitem__, map(id, addrs)))
    except KeyError:  # some addresses not measured yet: measure them, sum again
        missing = [a for a in addrs if id(a) not in pairs]
        if len(pairs) + len(missing) > CACHE_SIZE:
            pairs.clear()
            _ADDR_HELD.clear()
            missing = list(addrs)
        if len(missing) > CACHE_SIZE:
            return _address_list_scratch(addrs)
        for a in missing:
            _address_pair(a)
        total = sum(map(pairs.__getitem__, map(id, addrs)))
    pair = (total & _PAIR_MASK, total >> _PAIR_SHIFT)
    if type(addrs) is tuple:  # a list could change after being remembered
        _LIST_SUMS.put(addrs, pair)
    return pair


def _subset_json(s: EndpointSubset) -> int:
    parts = []
    if s.addresses:
        total = address_list_sizes(s.addresses)[1]
        parts.append(len('"addresses":') + json_list_size(len(s.addresses), total))
    if s.not_ready_addresses:
        total = address_list_sizes(s.not_ready_addresses)[1]
        parts.append(
            len('"notReadyAddresses":') + json_list_size(len(s.not_ready_addresses), total)
        )
    if s.ports:
        total = sum(endpoint_port_json_size(p) for p in s.ports)
        parts.append(len('"ports":') + json_list_size(len(s.ports), total))
    return 2 + sum(parts) + max(len(parts) - 1, 0)
