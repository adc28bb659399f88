"""IP address management: node pod CIDRs, pod IPs within them, and Service cluster IPs.

* Node pod CIDRs are carved from the cluster CIDR in order (``--allocate-node-cidrs`` with the
  range allocator): node ``i`` gets subnet ``i`` (the chapter's ``10.244.1.0/24`` is node 1).
* Pod IPs come from the node's CIDR the way the ``host-local`` CNI plugin hands them out:
  starting after the gateway (``.1``), each allocation takes the next free address after the
  last one handed out, wrapping around; freed addresses are reused only after the range wraps,
  so an address is never handed out while in use.
* Service cluster IPs come from the service CIDR (``10.96.0.0/12``; ``fd00:10:96::/112`` for
  IPv6) at a random free offset drawn from the cluster's seeded random, as kube-apiserver's
  bitmap allocator does.
* Service node ports come from ``30000-32767`` (``--service-node-port-range``) with upstream's
  bitmap allocator with a static subrange (``pkg/registry/core/service/allocator/bitmap.go``,
  ``randomScanStrategyWithOffset``; ``portallocator/allocator.go``, ``calculateRangeOffset``): a
  random start in the upper, dynamic band and a forward scan to the first free port, then the
  lower band (kept for explicit requests) once the upper one is full.
* :class:`ServiceAllocations` is the registry's use of them
  (``pkg/registry/core/service/storage/alloc.go``): cluster IPs and node ports allocated on
  create, patched over on update (``patchAllocatedValues``), released when a Service is deleted
  or stops needing them, and every allocation of a refused write undone.

Every allocator has ``snapshot()`` and ``restore(state)``: the API server snapshots them (with
the random state) around a transaction and restores them when it rolls back, so a failed call
leaves every allocator exactly as it was.

Costs: allocation is ``O(1)`` amortised while the range is sparse; release is ``O(1)``;
``snapshot`` and ``restore`` are ``O(addresses in use)``.
"""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Iterable
from typing import Any

import attrs

from kubesim.errors import FieldError, InvalidObject, InvalidOption, KubesimError

__all__ = [
    "RangeAllocator",
    "NodeCIDRAllocator",
    "ServiceIPAllocator",
    "PortAllocator",
    "ServiceAllocations",
    "IPExhausted",
    "NODE_PORT_RANGE",
]

#: kube-apiserver's default ``--service-node-port-range``.
NODE_PORT_RANGE = (30000, 32767)


class IPExhausted(KubesimError):
    """No free address is left in a range."""


_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


@attrs.define(eq=False)
class RangeAllocator:
    """host-local style allocation of addresses in ``cidr`` (network, gateway ``.1`` and, for
    IPv4, broadcast excluded)."""

    cidr: str
    _net: _Net = attrs.field(init=False, repr=False)
    _first: int = attrs.field(init=False, repr=False)
    _last: int = attrs.field(init=False, repr=False)
    _cursor: int = attrs.field(init=False, repr=False)
    _used: set[int] = attrs.field(factory=set, init=False, repr=False)
    #: text -> integer of the addresses in use that :meth:`allocate` handed out (a memo of
    #: ``int(ipaddress.ip_address(text))``, a pure function, so never stale; popped when that
    #: text is released, filtered on restore, so it holds only addresses in use): :meth:`release`
    #: and :meth:`in_use` of an address it handed out parse nothing
    _ints: dict[str, int] = attrs.field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._net = ipaddress.ip_network(self.cidr, strict=False)
        base = int(self._net.network_address)
        size = self._net.num_addresses
        self._first = base + 2
        self._last = base + size - (2 if self._net.version == 4 else 1)
        if self._last < self._first:
            raise InvalidOption(f"CIDR {self.cidr} is too small to hold pod IPs")
        self._cursor = self._first - 1

    @property
    def capacity(self) -> int:
        """How many addresses the range can hand out."""
        return self._last - self._first + 1

    def allocate(self) -> str:
        """The next free address after the last one handed out. ``O(1)`` amortised."""
        if len(self._used) >= self.capacity:
            raise IPExhausted(f"no free IP left in {self.cidr}")
        n = self._cursor
        while True:
            n = n + 1 if n < self._last else self._first
            if n not in self._used:
                self._used.add(n)
                self._cursor = n
                # str(ipaddress.ip_address(n)): dotted quad for IPv4 written out (the same text)
                text = (
                    f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}" if self._net.version == 4
                    else str(ipaddress.ip_address(n))
                )
                self._ints[text] = n
                return text

    def release(self, ip: str) -> None:
        """Return ``ip`` to the range (ignored if it is not in use). ``O(1)``."""
        n = self._ints.pop(ip, None)
        self._used.discard(int(ipaddress.ip_address(ip)) if n is None else n)

    def in_use(self, ip: str) -> bool:
        """``True`` while ``ip`` is allocated. ``O(1)``."""
        n = self._ints.get(ip)
        return (int(ipaddress.ip_address(ip)) if n is None else n) in self._used

    def snapshot(self) -> tuple[int, frozenset[int]]:
        """The allocator's whole state (cursor, addresses in use). ``O(in use)``."""
        return self._cursor, frozenset(self._used)

    def restore(self, state: tuple[int, frozenset[int]]) -> None:
        """Go back to a :meth:`snapshot`. ``O(in use)``."""
        self._cursor, used = state
        self._used = set(used)
        self._ints = {text: n for text, n in self._ints.items() if n in used}


@attrs.define(eq=False)
class NodeCIDRAllocator:
    """Carves per-node subnets of ``/mask`` out of ``cluster_cidr``, in order from index 1."""

    cluster_cidr: str
    mask: int
    _net: _Net = attrs.field(init=False, repr=False)
    _next: int = attrs.field(default=1, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._net = ipaddress.ip_network(self.cluster_cidr, strict=False)
        if self.mask < self._net.prefixlen or self.mask > self._net.max_prefixlen:
            raise InvalidOption(f"node CIDR mask /{self.mask} does not fit in {self.cluster_cidr}")

    @property
    def capacity(self) -> int:
        """How many node subnets the cluster CIDR holds (index 0 is left unused)."""
        return int(2 ** (self.mask - self._net.prefixlen)) - 1

    def allocate(self) -> str:
        """The next node subnet."""
        if self._next > self.capacity:
            raise IPExhausted(f"no node CIDR left in {self.cluster_cidr}")
        step = 2 ** (self._net.max_prefixlen - self.mask)
        base = int(self._net.network_address) + self._next * step
        self._next += 1
        return f"{ipaddress.ip_address(base)}/{self.mask}"

    def snapshot(self) -> int:
        """The allocator's whole state (the next subnet's index). ``O(1)``."""
        return self._next

    def restore(self, state: int) -> None:
        """Go back to a :meth:`snapshot`. ``O(1)``."""
        self._next = state



class _GoList:
    """A list value as the API server prints it in a field error (JSON)."""

    __slots__ = ("text",)

    def __init__(self, values: Iterable[str]) -> None:
        self.text = json.dumps(list(values), separators=(",", ":"))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _GoList) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


@attrs.define(eq=False)
class ServiceIPAllocator:
    """Random free offsets in the service CIDR, from the cluster's seeded random. The first
    address (``.1``, the ``kubernetes`` Service's) is never handed out at random.

    Mirrors ``pkg/registry/core/service/ipallocator/bitmap.go``: the network address (and, for
    IPv4, the broadcast address) is outside the range; an explicit request outside it gets
    ``the provided IP (…) is not in the valid range. The range of valid IPs is …``, one already
    held ``provided IP is already allocated``."""

    cidr: str
    rng: random.Random
    _net: _Net = attrs.field(init=False, repr=False)
    _used: set[int] = attrs.field(factory=set, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._net = ipaddress.ip_network(self.cidr, strict=False)

    @property
    def version(self) -> int:
        """4 or 6."""
        return self._net.version

    def allocate(self) -> str:
        """A random free address. ``O(1)`` expected while the range is sparse; the draws are
        bounded by the range (it is refused once full)."""
        size = self._net.num_addresses
        span = min(size - 2, 2**63)  # network and .1 reserved (and IPv4 broadcast below)
        if self._net.version == 4:
            span -= 1
        if len(self._used) >= span:
            raise IPExhausted(f"Internal error occurred: failed to allocate a serviceIP: range is full ({self.cidr})")
        base = int(self._net.network_address) + 2
        while True:
            n = base + self.rng.randrange(span)
            if n not in self._used:
                self._used.add(n)
                return str(ipaddress.ip_address(n))

    def try_reserve(self, ip: str) -> str | None:
        """Take a user-chosen ``ip``; ``None`` on success, else the allocator's error message
        (nothing is taken then). ``O(1)``."""
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {self.cidr}"
        n = int(addr)
        first = int(self._net.network_address) + 1
        last = int(self._net.broadcast_address) - (1 if self._net.version == 4 else 0)
        if addr.version != self._net.version or not first <= n <= last:
            return f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {self.cidr}"
        if n in self._used:
            return "provided IP is already allocated"
        self._used.add(n)
        return None

    def reserve(self, ip: str) -> bool:
        """Mark a user-chosen ``ip`` as used; ``False`` if it was already taken or is outside
        the range (then nothing is taken)."""
        return self.try_reserve(ip) is None

    def release(self, ip: str) -> None:
        """Free ``ip`` (a no-op for an address not held, as upstream's ``Release``)."""
        try:
            self._used.discard(int(ipaddress.ip_address(ip)))
        except ValueError:
            pass

    def in_use(self, ip: str) -> bool:
        """``True`` while ``ip`` is allocated."""
        try:
            return int(ipaddress.ip_address(ip)) in self._used
        except ValueError:
            return False

    def contains(self, ip: str) -> bool:
        """``True`` if ``ip`` is inside this range."""
        try:
            return ipaddress.ip_address(ip) in self._net
        except ValueError:
            return False

    @property
    def used(self) -> int:
        """How many addresses are held."""
        return len(self._used)

    def snapshot(self) -> frozenset[int]:
        """The addresses in use. ``O(in use)``."""
        return frozenset(self._used)

    def restore(self, state: frozenset[int]) -> None:
        """Go back to a :meth:`snapshot`. ``O(in use)``."""
        self._used = set(state)


def _range_offset(size: int) -> int:
    # portallocator.calculateRangeOffset: min(max(16, size/32), 128), 0 for tiny ranges.
    if size <= 16:
        return 0
    return min(max(16, size // 32), 128)


@attrs.define(eq=False)
class PortAllocator:
    """Node ports from ``[first, last]`` (kube-apiserver's ``portallocator`` over a bitmap
    with the static-subrange strategy, drawn from the cluster's seeded random).

    :meth:`allocate_next` draws one random start in the upper band and scans forward to the
    first free port (wrapping in the band), then does the same in the lower band, which is kept
    for explicit requests; :meth:`try_allocate` takes a requested port. ``O(1)`` expected while
    the range is sparse, ``O(range)`` at worst; :meth:`release` is ``O(1)``."""

    rng: random.Random
    first: int = NODE_PORT_RANGE[0]
    last: int = NODE_PORT_RANGE[1]
    _used: set[int] = attrs.field(factory=set, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not (isinstance(self.first, int) and isinstance(self.last, int) and 1 <= self.first <= self.last <= 65535):
            raise InvalidOption(f"node port range {self.first}-{self.last} is not a range of ports")

    @property
    def range_spec(self) -> str:
        """``30000-32767``."""
        return f"{self.first}-{self.last}"

    @property
    def size(self) -> int:
        """How many ports the range holds."""
        return self.last - self.first + 1

    def allocate_next(self) -> int:
        """A free port (``AllocateNext``); :class:`IPExhausted` when the range is full."""
        size = self.size
        if len(self._used) >= size:
            raise IPExhausted("Internal error occurred: failed to allocate a nodePort: range is full")
        offset = _range_offset(size)
        used = self._used
        for lo, width in ((offset, size - offset), (0, offset)):
            if width <= 0:
                continue
            start = self.rng.randrange(width)
            for i in range(width):
                port = self.first + lo + (start + i) % width
                if port not in used:
                    used.add(port)
                    return port
        raise AssertionError("unreachable: the range has a free port")  # pragma: no cover

    def try_allocate(self, port: int) -> str | None:
        """Take ``port`` (``Allocate``); ``None`` on success, else upstream's message."""
        if not self.first <= port <= self.last:
            return f"provided port is not in the valid range. The range of valid ports is {self.range_spec}"
        if port in self._used:
            return "provided port is already allocated"
        self._used.add(port)
        return None

    def release(self, port: int) -> None:
        """Free ``port`` (a no-op if it is not held)."""
        self._used.discard(port)

    def in_use(self, port: int) -> bool:
        """``True`` while ``port`` is allocated."""
        return port in self._used

    @property
    def used(self) -> int:
        """How many ports are held."""
        return len(self._used)

    def snapshot(self) -> frozenset[int]:
        """The ports in use. ``O(in use)``."""
        return frozenset(self._used)

    def restore(self, state: frozenset[int]) -> None:
        """Go back to a :meth:`snapshot`. ``O(in use)``."""
        self._used = set(state)


_NODE_PORT_TYPES = frozenset({"NodePort", "LoadBalancer"})


def _needs_cluster_ip(svc: Any) -> bool:
    return bool(svc.spec.type != "ExternalName" and svc.spec.cluster_ip != "None")


def _needs_node_ports(svc: Any) -> bool:
    return svc.spec.type in _NODE_PORT_TYPES


def _cluster_ips(svc: Any) -> tuple[str, ...]:
    spec = svc.spec
    ips = spec.cluster_ips or ((spec.cluster_ip,) if spec.cluster_ip else ())
    return tuple(ip for ip in ips if ip and ip != "None")


def _node_ports(svc: Any) -> tuple[int, ...]:
    return tuple(p.node_port for p in svc.spec.ports if p.node_port)


def _ip_version(ip: str) -> int | None:
    try:
        return ipaddress.ip_address(ip).version
    except ValueError:
        return None


@attrs.define(eq=False)
class ServiceAllocations:
    """The API server's Service allocators and how its registry uses them
    (``pkg/registry/core/service/storage/alloc.go`` and ``storage.go``).

    Methods by purpose:

    * :meth:`allocate` (``(service, stored or None) -> service``): before a create or update
      is written, fill in cluster IPs and node ports (explicit ones are reserved, with the
      registry's field errors); all or nothing;
    * :meth:`rollback`: the write was refused after all: give back what :meth:`allocate` took;
    * :meth:`committed`: the write landed: release what the old object held and the new one
      does not (a Service deleted, or no longer of a type that needs node ports);
    * :meth:`snapshot` / :meth:`restore`, :meth:`_check`.

    Costs: ``O(ports + cluster IPs)`` per call, plus the allocators' own.
    """

    ipv4: ServiceIPAllocator
    ipv6: ServiceIPAllocator | None
    node_ports: PortAllocator

    def _for(self, version: int | None) -> ServiceIPAllocator | None:
        if version == 4:
            return self.ipv4 if self.ipv4.version == 4 else self.ipv6
        if version == 6:
            return self.ipv6 if self.ipv6 is not None and self.ipv6.version == 6 else None
        return None

    def allocate(self, svc: Any, old: Any | None) -> Any:
        """The Service to store, with its allocations taken; raises
        :class:`~kubesim.errors.InvalidObject` (nothing is taken then)."""
        taken_ips: list[tuple[ServiceIPAllocator, str]] = []
        taken_ports: list[int] = []
        try:
            svc = self._allocate_ips(svc, old, taken_ips)
            svc = self._allocate_node_ports(svc, old, taken_ports)
        except BaseException:
            for alloc, ip in taken_ips:
                alloc.release(ip)
            for port in taken_ports:
                self.node_ports.release(port)
            raise
        return svc

    # -- cluster IPs

    def _allocate_ips(self, svc: Any, old: Any | None, taken: list[tuple[ServiceIPAllocator, str]]) -> Any:
        spec = svc.spec
        if spec.type == "ExternalName":
            return svc
        if old is not None and _needs_cluster_ip(old) and old.spec.cluster_ip and not spec.cluster_ip:
            # patchAllocatedValues: a resubmitted manifest keeps the allocated IPs.
            return attrs.evolve(
                svc,
                spec=attrs.evolve(
                    spec,
                    cluster_ip=old.spec.cluster_ip,
                    cluster_ips=old.spec.cluster_ips,
                    ip_families=spec.ip_families or old.spec.ip_families,
                    ip_family_policy=spec.ip_family_policy or old.spec.ip_family_policy,
                ),
            )
        if (old is not None and _needs_cluster_ip(old)) or spec.cluster_ip == "None":
            return svc  # an update keeps its IPs (validation refuses a change)
        if spec.cluster_ip:
            requested = list(spec.cluster_ips) or [spec.cluster_ip]
            held = set(_cluster_ips(old)) if old is not None else set()
            policy = spec.ip_family_policy or "SingleStack"
            if policy == "RequireDualStack" and self.ipv6 is None:
                raise InvalidObject("Service", svc.metadata.name, [FieldError(
                    "spec.ipFamilyPolicy", "Invalid value", "RequireDualStack",
                    "this cluster is not configured for dual-stack services")])
            for i, ip in enumerate(requested):
                if ip in held:
                    continue
                alloc = self._for(_ip_version(ip))
                if alloc is None:
                    family = "IPv6" if _ip_version(ip) == 6 else "IPv4"
                    raise InvalidObject("Service", svc.metadata.name, [FieldError(
                        f"spec.clusterIPs[{i}]", "Invalid value", _GoList(requested),
                        f"{family} is not configured on this cluster")])
                err = alloc.try_reserve(ip)
                if err is not None:
                    raise InvalidObject("Service", svc.metadata.name, [FieldError(
                        "spec.clusterIPs", "Invalid value", _GoList(requested), f"failed to allocate IP {ip}: {err}")])
                taken.append((alloc, ip))
            if len(requested) == 1 and policy != "SingleStack" and self.ipv6 is not None:
                # initIPFamilyFields appends the other family; allocClusterIPs draws its IP
                first = _ip_version(requested[0])
                other = self._for(6 if first == 4 else 4)
                assert other is not None
                second = other.allocate()
                taken.append((other, second))
                both = ("IPv4", "IPv6") if first == 4 else ("IPv6", "IPv4")
                return attrs.evolve(svc, spec=attrs.evolve(
                    spec, cluster_ips=(requested[0], second), ip_families=both, ip_family_policy=policy))
            return svc
        families = spec.ip_families or ("IPv4",)
        policy = spec.ip_family_policy or "SingleStack"
        if policy in ("PreferDualStack", "RequireDualStack") and self.ipv6 is not None:
            families = tuple(families) + tuple(f for f in ("IPv4", "IPv6") if f not in families)
        elif policy == "RequireDualStack":
            raise InvalidObject(
                "Service",
                svc.metadata.name,
                [FieldError("spec.ipFamilyPolicy", "Invalid value", "RequireDualStack",
                            "this cluster is not configured for dual-stack services")],
            )
        ips = []
        for fam in families[:2]:
            alloc = self._for(6 if fam == "IPv6" else 4)
            if alloc is None:
                raise InvalidObject(
                    "Service",
                    svc.metadata.name,
                    [FieldError("spec.ipFamilies[0]", "Invalid value", fam, "not configured on this cluster")],
                )
            ip = alloc.allocate()
            taken.append((alloc, ip))
            ips.append(ip)
        return attrs.evolve(
            svc,
            spec=attrs.evolve(spec, cluster_ip=ips[0], cluster_ips=tuple(ips), ip_families=tuple(families[:2]),
                              ip_family_policy=policy),
        )

    # -- node ports

    def _allocate_node_ports(self, svc: Any, old: Any | None, taken: list[int]) -> Any:
        ports = list(svc.spec.ports)
        old_needs = old is not None and _needs_node_ports(old)
        if old is not None and old_needs and not _needs_node_ports(svc):
            # strategy.go dropTypeDependentFields: leaving NodePort/LoadBalancer with the node
            # ports unchanged clears them (they are released when the update commits).
            if len(ports) == len(old.spec.ports) and all(
                p.node_port == q.node_port for p, q in zip(ports, old.spec.ports, strict=True)
            ) and any(p.node_port for p in ports):
                ports = [attrs.evolve(p, node_port=0) for p in ports]
                return attrs.evolve(svc, spec=attrs.evolve(svc.spec, ports=tuple(ports)))
            return svc
        if not _needs_node_ports(svc):
            return svc
        name = svc.metadata.name
        if old is not None and old_needs:
            # patchAllocatedValues: ports left at 0 keep the node port of the old port of that
            # name, unless another new port already uses it.
            used = set(_node_ports(old)) & set(_node_ports(svc))
            by_name = {p.name: p.node_port for p in old.spec.ports}
            for i, p in enumerate(ports):
                if p.node_port == 0:
                    prev = by_name.get(p.name, 0)
                    if prev and prev not in used:
                        ports[i] = attrs.evolve(p, node_port=prev)
            # updateNodePorts
            held = set(_node_ports(old))
            mine: set[int] = set()
            for i, p in enumerate(ports):
                if p.node_port:
                    if p.node_port not in held and p.node_port not in mine:
                        self._take(name, i, p.node_port, taken)
                        mine.add(p.node_port)
                else:
                    ports[i] = attrs.evolve(p, node_port=self._next(taken))
        else:
            # initNodePorts: one node port per port number (TCP and UDP on one port share it).
            by_number: dict[int, int] = {}
            for i, p in enumerate(ports):
                have = by_number.get(p.port, 0)
                if have == 0:
                    requested = next((q.node_port for q in ports if q.port == p.port and q.node_port), 0)
                    if requested:
                        self._take(name, i, requested, taken)
                        np = requested
                    else:
                        np = self._next(taken)
                    ports[i] = attrs.evolve(p, node_port=np)
                    by_number[p.port] = np
                elif p.node_port != have:
                    if p.node_port == 0:
                        ports[i] = attrs.evolve(p, node_port=have)
                    else:
                        self._take(name, i, p.node_port, taken)
        if ports == list(svc.spec.ports):
            return svc
        return attrs.evolve(svc, spec=attrs.evolve(svc.spec, ports=tuple(ports)))

    def _take(self, name: str, i: int, port: int, taken: list[int]) -> None:
        err = self.node_ports.try_allocate(port)
        if err is not None:
            raise InvalidObject("Service", name, [FieldError(f"spec.ports[{i}].nodePort", "Invalid value", port, err)])
        taken.append(port)

    def _next(self, taken: list[int]) -> int:
        port = self.node_ports.allocate_next()
        taken.append(port)
        return port

    # -- after the write

    def rollback(self, new: Any, old: Any | None) -> None:
        """Give back what :meth:`allocate` took for ``new`` (the write was refused)."""
        self._release_difference(new, old)

    def committed(self, old: Any | None, new: Any | None) -> None:
        """The write landed (``new`` is ``None`` for a delete): release what ``old`` held and
        ``new`` does not."""
        if old is not None:
            self._release_difference(old, new)

    def _release_difference(self, holder: Any, other: Any | None) -> None:
        keep_ips = set(_cluster_ips(other)) if other is not None else set()
        for ip in _cluster_ips(holder):
            if ip not in keep_ips:
                alloc = self._for(_ip_version(ip))
                if alloc is not None:
                    alloc.release(ip)
        keep_ports = set(_node_ports(other)) if other is not None else set()
        for port in _node_ports(holder):
            if port not in keep_ports:
                self.node_ports.release(port)

    # -- state

    def snapshot(self) -> tuple[frozenset[int], frozenset[int] | None, frozenset[int]]:
        """Every allocator's state. ``O(allocations)``."""
        return (self.ipv4.snapshot(), self.ipv6.snapshot() if self.ipv6 is not None else None, self.node_ports.snapshot())

    def restore(self, state: tuple[frozenset[int], frozenset[int] | None, frozenset[int]]) -> None:
        """Go back to a :meth:`snapshot`."""
        v4, v6, ports = state
        self.ipv4.restore(v4)
        if self.ipv6 is not None and v6 is not None:
            self.ipv6.restore(v6)
        self.node_ports.restore(ports)

    def _check(self, services: Iterable[Any]) -> None:
        """Assert that the allocators hold exactly the stored Services' IPs and node ports
        (each once). ``O(services)``."""
        ips: dict[int, set[int]] = {4: set(), 6: set()}
        ports: set[int] = set()
        for svc in services:
            for ip in _cluster_ips(svc):
                alloc = self._for(_ip_version(ip))
                if alloc is not None and alloc.contains(ip):
                    n = int(ipaddress.ip_address(ip))
                    assert n not in ips[alloc.version], f"cluster IP {ip} held twice"
                    ips[alloc.version].add(n)
            mine = set(_node_ports(svc))
            for port in mine:
                if self.node_ports.first <= port <= self.node_ports.last:
                    assert port not in ports, f"node port {port} held by two Services"
                    ports.add(port)
        assert ips[self.ipv4.version] == set(self.ipv4.snapshot()), "service IPs in use differ from the Services'"
        if self.ipv6 is not None:
            assert ips[self.ipv6.version] == set(self.ipv6.snapshot()), "IPv6 service IPs differ from the Services'"
        assert ports == set(self.node_ports.snapshot()), "node ports in use differ from the Services'"
