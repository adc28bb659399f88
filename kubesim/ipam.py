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

Costs: allocation is ``O(1)`` amortised while the range is sparse; release is ``O(1)``.
"""

from __future__ import annotations

import ipaddress
import random

import attrs

from kubesim.errors import InvalidOption, KubesimError

__all__ = ["RangeAllocator", "NodeCIDRAllocator", "ServiceIPAllocator", "IPExhausted"]


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
                return str(ipaddress.ip_address(n))

    def release(self, ip: str) -> None:
        """Return ``ip`` to the range (ignored if it is not in use). ``O(1)``."""
        self._used.discard(int(ipaddress.ip_address(ip)))

    def in_use(self, ip: str) -> bool:
        """``True`` while ``ip`` is allocated."""
        return int(ipaddress.ip_address(ip)) in self._used


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


@attrs.define(eq=False)
class ServiceIPAllocator:
    """Random free offsets in the service CIDR, from the cluster's seeded random. The first
    address (``.1``, the ``kubernetes`` Service's) is reserved."""

    cidr: str
    rng: random.Random
    _net: _Net = attrs.field(init=False, repr=False)
    _used: set[int] = attrs.field(factory=set, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._net = ipaddress.ip_network(self.cidr, strict=False)

    def allocate(self) -> str:
        """A random free address. ``O(1)`` expected while the range is sparse."""
        size = self._net.num_addresses
        span = min(size - 2, 2**63)  # network and .1 reserved (and IPv4 broadcast below)
        if self._net.version == 4:
            span -= 1
        if len(self._used) >= span:
            raise IPExhausted(f"no free service IP left in {self.cidr}")
        base = int(self._net.network_address) + 2
        while True:
            n = base + self.rng.randrange(span)
            if n not in self._used:
                self._used.add(n)
                return str(ipaddress.ip_address(n))

    def reserve(self, ip: str) -> bool:
        """Mark a user-chosen ``ip`` as used; ``False`` if it was already taken or is outside
        the range (then it is not tracked)."""
        addr = ipaddress.ip_address(ip)
        if addr not in self._net:
            return True
        n = int(addr)
        if n in self._used:
            return False
        self._used.add(n)
        return True

    def release(self, ip: str) -> None:
        """Free ``ip``."""
        try:
            self._used.discard(int(ipaddress.ip_address(ip)))
        except ValueError:
            pass

    def contains(self, ip: str) -> bool:
        """``True`` if ``ip`` is inside this range."""
        try:
            return ipaddress.ip_address(ip) in self._net
        except ValueError:
            return False
