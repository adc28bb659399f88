"""The incremental fast path of the legacy Endpoints controller's desired state.

:func:`kubesim.controllers.endpoints.reconciler.endpoints_for` is the reference: it recomputes a Service's
whole Endpoints from every selected pod, ``Θ(P log P)`` per sync.  :class:`ServiceEndpoints`
keeps the same answer up to date under pod and Service deltas, so a pod event costs
``O(log P)`` and a capped write costs ``O(addresses kept) <= O(max_capacity)``:

>>> from kubesim.objects import (ObjectMeta, Pod, PodCondition, PodIP, PodSpec, PodStatus,
...     Service, ServicePort, ServiceSpec)
>>> svc = Service(metadata=ObjectMeta(name="web", namespace="default"),
...               spec=ServiceSpec(selector={"app": "web"}, cluster_ip="10.96.0.1",
...                                ports=[ServicePort(port=80, target_port=8080)]))
>>> def pod(i, ready=True):
...     return Pod(metadata=ObjectMeta(name=f"p{i}", namespace="default", uid=f"u{i}",
...                                    labels={"app": "web"}),
...                spec=PodSpec(node_name="n1"),
...                status=PodStatus(phase="Running", pod_ip=f"10.0.0.{i}",
...                                 pod_ips=[PodIP(f"10.0.0.{i}")],
...                                 conditions=[PodCondition("Ready", str(ready))]))
>>> engine = ServiceEndpoints.from_pods(svc, [pod(i) for i in range(1, 4)])
>>> engine.pod_changed(pod(2), pod(2, ready=False))
>>> ep = engine.desired()
>>> [a.ip for a in ep.subsets[0].addresses], [a.ip for a in ep.subsets[0].not_ready_addresses]
(['10.0.0.1', '10.0.0.3'], ['10.0.0.2'])
>>> ep == endpoints_for(svc, [pod(1), pod(2, ready=False), pod(3)])
True

What is maintained
==================

Every selected pod (namespace and selector match) is remembered by name with its
*contribution*: its :func:`~kubesim.controllers.endpoints.reconciler.pod_to_endpoint_address`, whether it is
ready (``publishNotReadyAddresses`` or the Ready condition) and the set of ``EndpointPort`` it
resolves (named target ports are resolved per pod; a headless Service without ports files every
address under the sentinel port ``-1``, as ``RepackSubsets`` does).  Pods with the same port set
form a *port class*, holding two ``SortedKeyList`` of addresses (ready, not ready) in
upstream's address order (IP as a byte string, then targetRef uid) and the running sums of their
protobuf and JSON entry sizes (:func:`kubesim.wire.address_sizes`), of the whole list and of
the prefix the last write kept (see *The write* below).

Grouping.  With distinct address identities ``(ip, uid)`` the classes are disjoint, so the
address set of a port ``p`` is the union of the non-empty classes containing ``p``, and two
ports carry identical (address, ready) sets iff they belong to the same non-empty classes.  The
subsets are therefore the groups of ports with equal class memberships; a group's lists are the
merge of its classes' lists.  The grouping is recomputed (``O(ports × classes)``, independent of
``P``) only when a class appears or empties.  The common case — every pod resolving the same
ports — is one class, one subset, whose lists are the class's lists themselves.  Several
classes arise from named target ports that resolve differently (a rollout renaming a container
port) or not at all on some pods; then a subset with several classes materialises by a k-way
merge (``O(kept × log classes)``), and subsets are ordered without materialising them: for
sorted lists made of disjoint sorted classes, the first difference is the smallest element of
the classes only one side holds, so a comparison costs ``O(classes × log P)``.

Truncation (``truncateEndpoints``) needs only the per-subset counts, which are sums of class
sizes, and the kept prefixes; it uses upstream's IEEE double expression in kubesim's subset
order, exactly as :func:`~kubesim.controllers.endpoints.reconciler.truncate_subsets`.

Fallback.  Two *different* selected pods with the same IP and the same uid (impossible on a real
API server, which assigns unique uids) make ``RepackSubsets`` keep only the first pod's address
object, in lister order.  While such a collision exists the engine answers from the reference
:func:`~kubesim.controllers.endpoints.reconciler.endpoints_for` over its pods in name order (the order of
:func:`~kubesim.controllers.endpointutil.pods_for_service`), ``O(P log P)`` per call.

The write
=========

What the controller writes must also be *measured* (the change log records its JSON and
protobuf sizes) and *validated* by the API server, and both used to walk every address of the
object.  Each address list (a class's ready or not-ready list, see ``_Side``) therefore tracks
the prefix a write keeps (the whole list, or the truncated part) with its running size sums,
kept exact in ``O(log P)`` per address change (an address inserted inside a full prefix pushes
its last one out, one removed from it pulls the next one in), and the addresses that entered
that prefix since the previous write.  A new address is sized once, by arithmetic over the
wire's per-string sizes (:func:`kubesim.wire.measured_address_sizes`: protobuf fields and Go's compact JSON), and
its sizes travel with it between lists, so no address goes through the wire's value-keyed
caches or a JSON encoder.  Materialising a list hands its sums to
:func:`kubesim.wire.vouch_address_list` and its derivation (the previous tuple plus the entered
addresses) to :func:`kubesim.validation.note_derived_addresses`, so the API server measures
the write in ``O(1)`` per list and validates only the addresses that entered it.  Both hints
are checked against a from-scratch computation when ``CHECK_HINTS`` is set (tests), and every
size the fast path causes is compared with the reference path's by the controller's
change-log tests.  Lists merged from several classes (several port classes in one subset) get
no hint and are measured and validated from cached per-address results, in C-level passes.

Costs
=====

* :meth:`ServiceEndpoints.pod_changed` (and :meth:`~ServiceEndpoints.put` /
  :meth:`~ServiceEndpoints.discard`, the same for a caller that has matched the selector
  itself): ``O(log P)`` plus the pod's ports (and, for a new address, sizing it by
  arithmetic); ``O(1)`` when the pod's contribution did not change.  A write that carries the
  pod's ``spec`` and IPs over (a kubelet status write) reuses the member's address object and
  port set: the member record is updated in place, and a readiness flip moves the measured
  address to the class's other list (``_move``), nothing else;
* :meth:`ServiceEndpoints.service_changed`: ``O(1)`` for a change of labels only (or of fields
  the Endpoints do not depend on); otherwise a rebuild, ``O(P log P)``;
* :meth:`ServiceEndpoints.desired`: ``O(addresses kept + meta)``, cached between changes, of
  which only a C-level copy is proportional to the addresses kept (``tuple`` of a slice of
  the sorted list); the rest is ``O(changes since the previous write)``.  With truncation the
  copy is at most ``max_capacity`` addresses.  Uncapped (pre-1.22, ``truncate=False``) every
  write copies all ``P`` addresses — inherent, since the object *is* ``P`` addresses, unless
  objects were lazy views; :meth:`ServiceEndpoints.proto_size` gives the write's size in
  ``O(subsets + meta)`` without materialising;
* :meth:`ServiceEndpoints.needs_update`: ``O(1)`` when the desired object is truncated, the
  address counts differ (the count of one of the engine's own recent materialisations is
  remembered) or the existing subsets *are* the current materialisation, else a comparison
  with the existing subsets, ``O(addresses kept)`` — element identity makes it C-level when the
  existing object is one of the engine's own recent writes (then no
  ``targetRef.resourceVersion`` scan is needed either).  Labels that are the engine's own
  desired labels object are checked by a flag computed when the Service is adopted.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
from sortedcontainers import SortedKeyList

from kubesim import validation, wire
from kubesim.controllers.endpoints.reconciler import (
    _NO_PORT,
    ANNOTATION_OVER_CAPACITY,
    ENDPOINTS_CONTROLLER_NAME,
    LABEL_ENDPOINTS_MANAGED_BY,
    LABEL_HEADLESS,
    MAX_CAPACITY,
    _addr_sort_key,
    _desired_labels,
    _port_sort_key,
    count_addresses,
    desired_endpoints_meta,
    endpoints_for,
    endpoints_need_update,
    pod_to_endpoint_address,
    subsets_equal_ignore_resource_version,
)
from kubesim.controllers.endpointutil import (
    find_port,
    selector_matches,
    should_pod_be_in_endpoints,
)
from kubesim.objects import (
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSubset,
    FrozenDict,
    ObjectMeta,
    Pod,
    Service,
)

__all__ = ["ServiceEndpoints"]

_AddrKey = tuple[str, str]
PodSource = Iterable[Pod] | Callable[[], Iterable[Pod]]


def _addr_key(addr: EndpointAddress) -> _AddrKey:
    tr = addr.target_ref
    return (addr.ip, tr.uid if tr is not None else "")


#: A prefix length meaning "the whole list".
_ALL = sys.maxsize
#: Addresses remembered as having entered a tracked prefix since its last snapshot, at most.
_MAX_ENTERED = 4096


@attrs.define(eq=False)
class _Side:
    """One address list of a port class (ready or not ready), in upstream's address order,
    with the running entry-size sums (protobuf, JSON: :func:`kubesim.wire.address_sizes`) of
    the whole list and of a tracked prefix ``addrs[:k]`` (``k`` may exceed the length;
    :data:`_ALL`: the whole list).

    The prefix is the part a write keeps: :meth:`snapshot` moves ``k`` to the length kept and
    returns the tuple, handing its sums to :func:`kubesim.wire.vouch_address_list` and, with
    the addresses that entered the prefix since the previous snapshot, a derivation hint to
    :func:`kubesim.validation.note_derived_addresses`; so the write is measured and validated
    in ``O(changed addresses)``.  :meth:`add` and :meth:`remove` keep the prefix sums exact in
    ``O(log n)`` (an address inserted inside a full prefix pushes its last one out; one removed
    from it pulls the next one in); :meth:`snapshot` costs ``O(|change of k|)`` sums plus the
    C-level copy of the kept addresses."""

    addrs: SortedKeyList[Any, Any] = attrs.field(factory=lambda: SortedKeyList(key=_addr_sort_key))
    #: ``len(addrs)``, kept here (``SortedKeyList.__len__`` is a Python call; counts are read
    #: on every sync)
    n: int = 0
    proto: int = 0
    json: int = 0
    k: int = 0
    k_proto: int = 0
    k_json: int = 0
    #: the tuple of the previous snapshot
    last: tuple[EndpointAddress, ...] = ()
    #: addresses that entered the prefix since (a superset); ``None``: too many to remember
    entered: list[EndpointAddress] | None = attrs.field(factory=list)
    #: whether the prefix may differ from ``last`` (an address entered or left it)
    moved: bool = False
    #: ``id(address) -> (protobuf entry size, JSON size)`` of every address listed (which the
    #: list keeps alive): the sizes sums are kept from, without the wire's caches
    sizes: dict[int, tuple[int, int]] = attrs.field(factory=dict, repr=False)

    def __len__(self) -> int:
        return self.n

    def _enter(self, addr: EndpointAddress, p: int, j: int) -> None:
        self.k_proto += p
        self.k_json += j
        self.moved = True
        entered = self.entered
        if entered is not None:
            if len(entered) >= _MAX_ENTERED:
                self.entered = None
            else:
                entered.append(addr)

    def _leave(self, addr: EndpointAddress) -> None:
        p, j = self.sizes[id(addr)]
        self.k_proto -= p
        self.k_json -= j
        self.moved = True

    def _sum(self, addrs: Iterable[EndpointAddress]) -> tuple[int, int]:
        sizes = self.sizes
        p = j = 0
        for a in addrs:
            x, y = sizes[id(a)]
            p += x
            j += y
        return p, j

    def add(self, addr: EndpointAddress, sizes: tuple[int, int] | None = None) -> None:
        """Insert ``addr`` (not listed yet), whose sizes are ``sizes`` when
        given (an address moved from another list; else :func:`kubesim.wire.measured_address_sizes`). ``O(log n)``."""
        addrs, k = self.addrs, self.k
        n = self.n
        addrs.add(addr)
        self.n = n + 1
        if sizes is None:
            sizes = wire.measured_address_sizes(addr)
            if wire.CHECK_HINTS:
                want = wire.address_sizes(addr)
                if sizes != want:
                    raise AssertionError(f"engine address sizes {sizes} != {want} for {addr!r}")
        self.sizes[id(addr)] = sizes
        p, j = sizes
        self.proto += p
        self.json += j
        if k > n:
            self._enter(addr, p, j)  # the prefix is the whole list
        elif k > 0:
            # SortedKeyList.add puts a value after the equal keys already present.
            i = addrs.bisect_key_right(_addr_sort_key(addr)) - 1
            if i < k:
                self._enter(addr, p, j)
                self._leave(addrs[k])  # pushed out of the full prefix

    def remove(self, addr: EndpointAddress) -> tuple[int, int]:
        """Remove ``addr`` (present); returns its sizes. ``O(log n)``."""
        addrs, k = self.addrs, self.k
        n = self.n
        self.n = n - 1
        sizes = self.sizes.pop(id(addr))
        p, j = sizes
        self.proto -= p
        self.json -= j
        if k >= n:
            addrs.remove(addr)
            self.k_proto -= p  # inside the prefix, which is the whole list
            self.k_json -= j
            self.moved = True
            return sizes
        if k == 0:
            addrs.remove(addr)
            return sizes
        i = addrs.index(addr)
        if i < k:
            self.k_proto -= p
            self.k_json -= j
            self.moved = True
            nxt = addrs[k]  # pulled into the prefix
            self._enter(nxt, *self.sizes[id(nxt)])
        del addrs[i]
        return sizes

    def snapshot(self, t: int | None = None) -> tuple[EndpointAddress, ...]:
        """The first ``t`` addresses (all when ``None``) as a tuple, with its sums vouched to
        :mod:`kubesim.wire` and its derivation hinted to :mod:`kubesim.validation`.
        ``O(|change of k| + t)``, the copy C-level; ``O(1)`` when the kept addresses are
        those of the previous snapshot (which is returned again)."""
        addrs = self.addrs
        n = self.n
        want = _ALL if t is None or t >= n else t
        have, new = min(self.k, n), min(want, n)
        if new == have and not self.moved and len(self.last) == new:
            self.k = want
            wire.vouch_address_list(self.last, self.k_proto, self.k_json)
            return self.last
        if new > have:
            grown = addrs[have:new]
            p, j = self._sum(grown)
            self.k_proto += p
            self.k_json += j
            entered = self.entered
            if entered is not None:
                if len(entered) + len(grown) > _MAX_ENTERED:
                    self.entered = None
                else:
                    entered.extend(grown)
        elif new < have:
            p, j = self._sum(addrs[new:have])
            self.k_proto -= p
            self.k_json -= j
        self.k = want
        # SortedList slicing concatenates its sublists' slices (C-level); islice and
        # iteration go element by element and are ~10x slower.
        tup = tuple(addrs[:] if new == n else addrs[:new])
        wire.vouch_address_list(tup, self.k_proto, self.k_json)
        if self.entered is not None:
            validation.note_derived_addresses(tup, self.last, self.entered)
        self.last = tup
        self.entered = []
        self.moved = False
        return tup

    def _check(self) -> None:
        """Assert the sums and the prefix bookkeeping against a recomputation. ``O(n)``."""
        addrs = list(self.addrs)
        assert self.n == len(addrs) == len(self.sizes)
        assert all(self.sizes[id(a)] == (wire.address_entry_size(a), wire.address_json_size(a)) for a in addrs)
        assert (self.proto, self.json) == _sizes(addrs)
        prefix = addrs[: self.k]
        assert (self.k_proto, self.k_json) == _sizes(prefix)
        if self.entered is not None:
            known = {id(a) for a in self.last} | {id(a) for a in self.entered}
            assert all(id(a) in known for a in prefix)
        if not self.moved:
            assert tuple(prefix) == self.last and all(a is b for a, b in zip(prefix, self.last, strict=True))


def _sizes(addrs: Iterable[EndpointAddress]) -> tuple[int, int]:
    """From-scratch entry-size sums (protobuf, JSON), for checks."""
    p = j = 0
    for a in addrs:
        p += wire.address_entry_size(a)
        j += wire.address_json_size(a)
    return p, j


@attrs.define(eq=False)
class _PortClass:
    """The addresses of the pods resolving exactly ``ports``."""

    serial: int
    ports: frozenset[EndpointPort]
    ready: _Side = attrs.field(factory=_Side)
    not_ready: _Side = attrs.field(factory=_Side)

    def __len__(self) -> int:
        return self.ready.n + self.not_ready.n


class _Member:
    """A selected pod and its contribution (``addr is None``: the pod publishes nothing).

    A plain slotted record, updated in place by :meth:`ServiceEndpoints.put` (most pod writes
    change neither the address nor the readiness: then only ``pod`` is replaced, with no
    object built)."""

    __slots__ = ("pod", "addr", "ready", "cls")

    def __init__(
        self, pod: Pod, addr: EndpointAddress | None = None, ready: bool = False, cls: _PortClass | None = None
    ) -> None:
        self.pod = pod
        self.addr = addr
        self.ready = ready
        self.cls = cls


@attrs.define(eq=False)
class _Group:
    """One subset: the ports sharing the same non-empty classes."""

    classes: tuple[_PortClass, ...]
    ports: tuple[EndpointPort, ...]  # listed ports (port > 0), sorted
    port_bytes: int

    def count(self, ready: bool) -> int:
        """Addresses of the ready (or not-ready) list. ``O(classes)``."""
        classes = self.classes
        if len(classes) == 1:
            c = classes[0]
            return c.ready.n if ready else c.not_ready.n
        return sum((c.ready if ready else c.not_ready).n for c in classes)

    def total(self) -> int:
        """Ready plus not-ready addresses. ``O(classes)``."""
        classes = self.classes
        if len(classes) == 1:
            c = classes[0]
            return c.ready.n + c.not_ready.n
        return sum(c.ready.n + c.not_ready.n for c in classes)

    def bytes(self, ready: bool) -> int:
        return sum((c.ready if ready else c.not_ready).proto for c in self.classes)

    def take(self, ready: bool, k: int | None = None) -> tuple[EndpointAddress, ...]:
        """The first ``k`` (all when ``None``) addresses, in order: a :meth:`_Side.snapshot`
        for a one-class group, ``O(k)`` C-level plus the changes since the previous one;
        else a merge, ``O(k log classes)``."""
        if k == 0:
            return ()
        if len(self.classes) == 1:
            c = self.classes[0]
            side = c.ready if ready else c.not_ready
            return side.snapshot(k) if side else ()
        lists = [sl for sl in ((c.ready if ready else c.not_ready).addrs for c in self.classes) if sl]
        if not lists:
            return ()
        if len(lists) == 1:
            sl = lists[0]
            return tuple(sl[:] if k is None else sl[:k])
        merged = heapq.merge(*lists, key=_addr_sort_key)
        return tuple(merged) if k is None else tuple(itertools.islice(merged, k))


def _cmp_union(xs: Sequence[_PortClass], ys: Sequence[_PortClass], ready: bool) -> int:
    """Compare, as ``_subset_sort_key`` compares tuples, the sorted unions of the ready (or
    not-ready) lists of two sets of disjoint classes. ``O(classes × log P)``."""

    def lst(c: _PortClass) -> SortedKeyList[Any, Any]:
        return c.ready.addrs if ready else c.not_ready.addrs

    ids_x = {id(c) for c in xs}
    ids_y = {id(c) for c in ys}
    only_x = [lst(c) for c in xs if id(c) not in ids_y and lst(c)]
    only_y = [lst(c) for c in ys if id(c) not in ids_x and lst(c)]
    if not only_x and not only_y:
        return 0
    dx = min(_addr_sort_key(sl[0]) for sl in only_x) if only_x else None
    dy = min(_addr_sort_key(sl[0]) for sl in only_y) if only_y else None
    if dy is None or (dx is not None and dx < dy):
        # The first difference is dx, held by X only: X < Y iff Y goes on past dx.
        assert dx is not None
        tails = [_addr_sort_key(lst(c)[-1]) for c in ys if lst(c)]
        return -1 if tails and max(tails) > dx else 1
    tails = [_addr_sort_key(lst(c)[-1]) for c in xs if lst(c)]
    return 1 if tails and max(tails) > dy else -1


def _cmp_groups(a: _Group, b: _Group) -> int:
    c = _cmp_union(a.classes, b.classes, True) or _cmp_union(a.classes, b.classes, False)
    if c:
        return c
    ka = tuple(_port_sort_key(p) for p in a.ports)
    kb = tuple(_port_sort_key(p) for p in b.ports)
    return (ka > kb) - (ka < kb)


def _membership_signature(service: Service) -> tuple[object, ...]:
    return (service.metadata.namespace, service.spec.selector)


def _contribution_signature(service: Service) -> tuple[object, ...]:
    spec = service.spec
    return (
        service.metadata.namespace,
        service.metadata.name,
        spec.selector,
        spec.publish_not_ready_addresses,
        spec.ip_families,
        spec.cluster_ip,
        spec.ports,
    )


class _Materialized:
    """The subsets materialised at engine version ``version`` for ``(truncate,
    max_capacity)``, whether they were truncated, and their address count. A plain slotted
    record: one is made per materialisation."""

    __slots__ = ("version", "truncate", "max_capacity", "subsets", "truncated", "count")

    def __init__(
        self,
        version: int,
        truncate: bool,
        max_capacity: int,
        subsets: tuple[EndpointSubset, ...],
        truncated: bool,
        count: int,
    ) -> None:
        self.version = version
        self.truncate = truncate
        self.max_capacity = max_capacity
        self.subsets = subsets
        self.truncated = truncated
        self.count = count


# Frozen API objects built from values that are already what their converters make of them
# (tuples), field by field as the attrs-generated ``__init__`` sets them, without the keyword
# arguments and converter calls (as kubesim.apiserver._meta does for ObjectMeta): an Endpoints
# write builds one subset and one Endpoints per sync that writes.
_new_object = object.__new__
_setattr_of = object.__setattr__.__get__
assert [(f.name, getattr(f.converter, "__name__", None)) for f in attrs.fields(EndpointSubset)] == [
    ("addresses", "_tuple"), ("not_ready_addresses", "_tuple"), ("ports", "_tuple"),
] and [(f.name, getattr(f.converter, "__name__", None)) for f in attrs.fields(Endpoints)] == [
    ("metadata", None), ("subsets", "_tuple"),
] and not any(f.validator for f in attrs.fields(EndpointSubset) + attrs.fields(Endpoints)), (
    "EndpointSubset or Endpoints changed: update _subset and _endpoints"
)


def _subset(
    addresses: tuple[EndpointAddress, ...], not_ready: tuple[EndpointAddress, ...], ports: tuple[EndpointPort, ...]
) -> EndpointSubset:
    """``EndpointSubset(addresses, not_ready, ports)`` for three tuples. ``O(1)``."""
    obj = _new_object(EndpointSubset)
    put = _setattr_of(obj)
    put("addresses", addresses)
    put("not_ready_addresses", not_ready)
    put("ports", ports)
    return obj


def _endpoints(metadata: ObjectMeta, subsets: tuple[EndpointSubset, ...]) -> Endpoints:
    """``Endpoints(metadata=metadata, subsets=subsets)`` for a tuple of subsets. ``O(1)``."""
    obj = _new_object(Endpoints)
    put = _setattr_of(obj)
    put("metadata", metadata)
    put("subsets", subsets)
    return obj


@attrs.define(eq=False)
class ServiceEndpoints:
    """The desired Endpoints of one Service, maintained incrementally.

    Build with :meth:`from_pods` (or construct empty and :meth:`rebuild`); feed every pod event
    of the Service's namespace that may concern it to :meth:`pod_changed` and every update of
    the Service to :meth:`service_changed`.  Pods the Service does not select are ignored.

    Deltas: :meth:`pod_changed`, :meth:`put` (a pod known to be selected), :meth:`discard`
    (by name) ``O(log P)``; :meth:`service_changed` ``O(1)`` or a rebuild; :meth:`rebuild`
    ``O(P log P)``.
    Answers (equal to the reference's): :meth:`desired` (``endpoints_for``),
    :meth:`needs_update` (``endpoints_need_update``), :meth:`proto_size`
    (``wire.proto_size`` of the desired object).
    Introspection: :attr:`service`, :meth:`__len__` (selected pods), :meth:`address_count`,
    :meth:`subset_count`, :meth:`uses_fallback`, :meth:`_check`.
    """

    service: Service
    _members: dict[str, _Member] = attrs.field(factory=dict, init=False, repr=False)
    _classes: dict[frozenset[EndpointPort], _PortClass] = attrs.field(factory=dict, init=False, repr=False)
    _keys: dict[_AddrKey, int] = attrs.field(factory=dict, init=False, repr=False)
    _collisions: int = attrs.field(default=0, init=False, repr=False)
    _serial: int = attrs.field(default=0, init=False, repr=False)
    _version: int = attrs.field(default=0, init=False, repr=False)
    _groups: tuple[_Group, ...] | None = attrs.field(default=None, init=False, repr=False)
    _cache: _Materialized | None = attrs.field(default=None, init=False, repr=False)
    _labels: FrozenDict = attrs.field(init=False, repr=False)
    #: whether an Endpoints labelled with ``_labels`` itself passes needs_update's label checks
    _labels_current: bool = attrs.field(default=False, init=False, repr=False)
    # subsets tuple (by identity, a reference held) -> whether a targetRef carries a
    # resourceVersion; the engine's own recent materialisations are known not to.
    _rv_known: dict[int, tuple[tuple[EndpointSubset, ...], bool, int]] = attrs.field(
        factory=dict, init=False, repr=False
    )
    _static_ports: frozenset[EndpointPort] | None = attrs.field(default=None, init=False, repr=False)
    _port_sets: dict[tuple[int | None, ...], frozenset[EndpointPort]] = attrs.field(
        factory=dict, init=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        self._service_derived()

    @classmethod
    def from_pods(cls, service: Service, pods: Iterable[Pod]) -> ServiceEndpoints:
        """An engine for ``service`` holding the ``pods`` it selects (any pods may be passed).
        ``O(P log P)``."""
        engine = cls(service)
        engine.rebuild(pods)
        return engine

    # ------------------------------------------------------------------ deltas

    def rebuild(self, pods: Iterable[Pod]) -> None:
        """Forget every pod and admit those of ``pods`` the Service selects. ``O(P log P)``."""
        self._members.clear()
        self._classes.clear()
        self._keys.clear()
        self._collisions = 0
        self._touch(layout=True)
        for pod in pods:
            if self._selects(pod):
                self._members[pod.metadata.name] = self._admit(pod, self._contribution(pod))

    def pod_changed(self, old: Pod | None, new: Pod | None) -> None:
        """Apply a pod event: add (``old`` is ``None``), update, or delete (``new`` is
        ``None``).  The engine trusts its own record of the pod, not ``old`` (which only names
        the pod of a delete), so a missed or repeated event is harmless.  ``O(log P)``;
        ``O(1)`` when the pod's contribution is unchanged (the cached answer survives)."""
        pod = new if new is not None else old
        if pod is None or pod.metadata.namespace != self.service.metadata.namespace:
            return
        if new is None or not self._selects(new):
            self.discard(pod.metadata.name)
        else:
            self.put(new)

    def put(self, pod: Pod) -> None:
        """:meth:`pod_changed` for a pod the caller knows the Service selects (its namespace,
        its selector matching the pod's labels): the pod's current state. ``O(log P)``;
        ``O(1)`` when the pod's contribution did not change.

        A pod whose address inputs are those of the state the engine holds (the same ``spec``
        object, equal ``podIPs``/``podIP`` and uid: a kubelet status write) keeps its address
        object and port set without rebuilding them: the address and ports are functions of
        those inputs and the Service, and a Service change rebuilds every member."""
        name = pod.metadata.name
        members = self._members
        prev = members.get(name)
        if prev is None:
            members[name] = self._admit(pod, self._contribution(pod))
            return
        addr, cls = prev.addr, prev.cls
        if addr is None:
            if not should_pod_be_in_endpoints(pod, self.service.spec.publish_not_ready_addresses):
                prev.pod = pod  # still nothing to publish (_contribution is None)
                return
        elif cls is not None:
            # The address inputs are those held: the same address object and ports.
            old = prev.pod
            old_status, status = old.status, pod.status
            if (
                old.spec is pod.spec
                and old.metadata.uid == pod.metadata.uid
                and (old_status is status or (
                    old_status.pod_ips == status.pod_ips and old_status.pod_ip == status.pod_ip
                ))
            ):
                publish = self.service.spec.publish_not_ready_addresses
                if not should_pod_be_in_endpoints(pod, publish):
                    self._withdraw(prev)  # it publishes nothing now
                    members[name] = _Member(pod)
                    return
                ready = publish or status.ready
                if ready != prev.ready:
                    self._move(prev, ready)
                prev.pod = pod
                return
        contrib = self._contribution(pod)
        if contrib is None:
            if prev.addr is None:
                prev.pod = pod
                return
        elif prev.addr is not None and prev.cls is not None:
            addr, ready, ports = contrib
            if addr is prev.addr or addr == prev.addr:
                if ready == prev.ready and ports == prev.cls.ports:
                    prev.pod = pod
                    return
                # The same address moves (readiness, ports): keep the measured object.
                contrib = prev.addr, ready, ports
        self._withdraw(prev)
        members[name] = self._admit(pod, contrib)

    def discard(self, name: str) -> None:
        """Pod ``name`` is gone or no longer selected. ``O(log P)``; ``O(1)`` when the
        engine does not hold it."""
        prev = self._members.pop(name, None)
        if prev is not None:
            self._withdraw(prev)

    def service_changed(self, service: Service, pods: PodSource | None = None) -> None:
        """Adopt an update of the Service.

        * labels (or fields the Endpoints do not depend on) only: ``O(1)``;
        * ports, ``publishNotReadyAddresses``, ``ipFamilies``, ``clusterIP`` or name: rebuild
          from the pods already selected, ``O(P log P)``;
        * selector or namespace: the selected set itself changes, so ``pods`` (the pods of the
          namespace, or a callable returning them) is required and the engine is rebuilt from
          it; :class:`ValueError` without it.

        ``pods`` is consulted only in the last case."""
        old = self.service
        reselect = _membership_signature(old) != _membership_signature(service)
        if reselect and pods is None:
            raise ValueError("the Service's selector or namespace changed: pass the namespace's pods to rebuild")
        self.service = service
        self._service_derived()
        if reselect:
            assert pods is not None
            self.rebuild(pods() if callable(pods) else pods)
        elif _contribution_signature(old) != _contribution_signature(service):
            self.rebuild([m.pod for m in list(self._members.values())])

    # ------------------------------------------------------------------ answers

    def desired(
        self,
        existing: Endpoints | None = None,
        trigger_time: int | float | None = None,
        truncate: bool = True,
        *,
        max_capacity: int = MAX_CAPACITY,
    ) -> Endpoints:
        """The object :func:`~kubesim.controllers.endpoints.reconciler.endpoints_for` ``(service, pods,
        existing=existing, trigger_time=trigger_time, truncate=truncate,
        max_capacity=max_capacity)`` returns for the engine's pods.
        ``O(addresses kept + meta)``; the subsets are cached until the next change."""
        if self._collisions:
            return self._reference(existing, trigger_time, truncate, max_capacity)
        mat = self._materialize(truncate, max_capacity)
        return _endpoints(self._meta(existing, trigger_time, truncate, mat.truncated), mat.subsets)

    def needs_update(
        self, existing: Endpoints | None, *, truncate: bool = True, max_capacity: int = MAX_CAPACITY
    ) -> bool:
        """:func:`~kubesim.controllers.endpoints.reconciler.endpoints_need_update` ``(existing,
        self.desired(existing, ...), service, truncate=truncate, max_capacity=max_capacity)``.
        ``O(1)`` when a write is needed because of the resourceVersion, truncation or a count
        mismatch; otherwise ``O(labels + addresses kept)`` (C-level when ``existing`` holds the
        engine's own address objects)."""
        if existing is None or not existing.metadata.resource_version:
            return True
        if self._collisions:
            desired = self._reference(existing, None, truncate, max_capacity)
            return endpoints_need_update(existing, desired, self.service, truncate=truncate, max_capacity=max_capacity)
        groups = self._groups
        if groups is not None and len(groups) == 1 and len(groups[0].classes) == 1:
            c = groups[0].classes[0]
            total = c.ready.n + c.not_ready.n
        else:
            total = self.address_count()
        if truncate and total > max_capacity:
            return True
        theirs = existing.subsets
        mat = self._cache
        if not (
            mat is not None
            and mat.subsets is theirs
            and mat.version == self._version
            and mat.truncate == truncate
            and mat.max_capacity == max_capacity
        ):
            # Not the engine's current materialisation (that one is equal by identity): count
            # (O(1) for one of the engine's recent ones), then compare.
            seen = self._rv_known.get(id(theirs))
            count = seen[2] if seen is not None and seen[0] is theirs else count_addresses(theirs)
            if count != total:
                return True
            mine = self._materialize(truncate, max_capacity).subsets
            if len(theirs) != len(mine):
                return True
            if theirs != mine and (
                not self._has_target_ref_rv(theirs) or not subsets_equal_ignore_resource_version(theirs, mine)
            ):
                return True
        labels = existing.metadata.labels
        if labels is self._labels:
            if not self._labels_current:
                return True
        else:
            if labels.get(LABEL_ENDPOINTS_MANAGED_BY) != ENDPOINTS_CONTROLLER_NAME:
                return True
            if labels.without(LABEL_HEADLESS, LABEL_ENDPOINTS_MANAGED_BY) != self.service.metadata.labels:
                return True
        if truncate and ANNOTATION_OVER_CAPACITY in existing.metadata.annotations:
            return True
        return False

    def proto_size(
        self,
        existing: Endpoints | None = None,
        trigger_time: int | float | None = None,
        truncate: bool = True,
        *,
        max_capacity: int = MAX_CAPACITY,
        include_resource_version: bool = True,
    ) -> int:
        """``wire.proto_size(self.desired(existing, trigger_time, truncate, ...),
        include_resource_version=...)`` without building the object: ``O(subsets + meta)``
        from maintained entry-size sums; when truncating, the kept lists are materialised
        (their sums come with them)."""
        if self._collisions:
            obj = self._reference(existing, trigger_time, truncate, max_capacity)
            return wire.proto_size(obj, include_resource_version=include_resource_version)
        groups = self._layout()
        total = sum(g.total() for g in groups)
        if truncate and total > max_capacity:
            # The kept prefixes: O(addresses kept) cached entry sizes (truncated ready lists
            # are prefixes; untruncated ready lists keep their maintained sums).
            subsets = self._materialize(truncate, max_capacity).subsets
            body = tuple(
                (
                    g.bytes(True)
                    if len(s.addresses) == g.count(True)
                    else wire.address_list_sizes(s.addresses)[0]
                )
                + wire.address_list_sizes(s.not_ready_addresses)[0]
                + g.port_bytes
                for g, s in zip(groups, subsets, strict=True)
            )
            truncated = True
        else:
            body = tuple(g.bytes(True) + g.bytes(False) + g.port_bytes for g in groups)
            truncated = False
        meta = self._meta(existing, trigger_time, truncate, truncated)
        raw = wire.wrap(wire.meta_size(meta, include_resource_version=include_resource_version))
        raw += sum(wire.wrap(s) for s in body)
        return wire.envelope_size("Endpoints", raw)

    # ------------------------------------------------------------------ introspection

    @property
    def members(self) -> Mapping[str, object]:
        """The pods the engine holds, by name: a live read-only view of its own map (the same
        object for the engine's lifetime; rebuilds refill it). ``O(1)``."""
        return self._members

    def __len__(self) -> int:
        """Pods the Service selects (published or not). ``O(1)``."""
        return len(self._members)

    def address_count(self) -> int:
        """Ready plus not-ready addresses of the untruncated subsets (an address listed in
        several subsets counts once per subset, as ``count_addresses``). ``O(subsets ×
        classes)``."""
        if self._collisions:
            return count_addresses(self._reference(None, None, False, MAX_CAPACITY).subsets)
        groups = self._layout()
        if len(groups) == 1:
            return groups[0].total()
        return sum(g.total() for g in groups)

    def subset_count(self) -> int:
        """Subsets of the untruncated desired object. ``O(1)`` amortised."""
        if self._collisions:
            return len(self._reference(None, None, False, MAX_CAPACITY).subsets)
        return len(self._layout())

    def uses_fallback(self) -> bool:
        """``True`` while two selected pods share an (IP, uid) identity (module docstring)."""
        return self._collisions > 0

    def pods(self) -> list[Pod]:
        """The selected pods, in name order. ``O(P log P)``."""
        return [self._members[n].pod for n in sorted(self._members)]

    # ------------------------------------------------------------------ internals

    def _service_derived(self) -> None:
        labels = self._labels = _desired_labels(self.service)
        self._labels_current = (
            labels.get(LABEL_ENDPOINTS_MANAGED_BY) == ENDPOINTS_CONTROLLER_NAME
            and labels.without(LABEL_HEADLESS, LABEL_ENDPOINTS_MANAGED_BY) == self.service.metadata.labels
        )
        ports = self.service.spec.ports
        self._port_sets.clear()
        self._static_ports = None
        if ports and all(isinstance(sp.target_port, int) for sp in ports):
            self._static_ports = frozenset(
                EndpointPort(port=int(sp.target_port), name=sp.name, protocol=sp.protocol, app_protocol=sp.app_protocol)
                for sp in ports
            )

    def _touch(self, layout: bool) -> None:
        self._version += 1
        self._cache = None
        if layout:
            self._groups = None

    def _selects(self, pod: Pod) -> bool:
        svc = self.service
        return pod.metadata.namespace == svc.metadata.namespace and selector_matches(
            svc.spec.selector, pod.metadata.labels
        )

    def _contribution(self, pod: Pod) -> tuple[EndpointAddress, bool, frozenset[EndpointPort]] | None:
        # endpoint_subsets_for_pod, folded: the address, its readiness and its port set.
        spec = self.service.spec
        if not should_pod_be_in_endpoints(pod, spec.publish_not_ready_addresses):
            return None
        addr = pod_to_endpoint_address(pod, self.service)
        if addr is None:
            return None
        ready = spec.publish_not_ready_addresses or pod.status.ready
        if not spec.ports:
            if spec.cluster_ip == "None":
                return addr, ready, frozenset((_NO_PORT,))
            return None
        ports = self._static_ports
        if ports is None:
            numbers = tuple(find_port(pod, sp.target_port, sp.protocol) for sp in spec.ports)
            ports = self._port_sets.get(numbers)
            if ports is None:
                ports = self._port_sets[numbers] = frozenset(
                    EndpointPort(port=n, name=sp.name, protocol=sp.protocol, app_protocol=sp.app_protocol)
                    for n, sp in zip(numbers, spec.ports, strict=True)
                    if n is not None
                )
            if not ports:
                return None
        return addr, ready, ports

    def _admit(
        self, pod: Pod, contrib: tuple[EndpointAddress, bool, frozenset[EndpointPort]] | None
    ) -> _Member:
        if contrib is None:
            return _Member(pod)
        addr, ready, ports = contrib
        cls = self._classes.get(ports)
        if cls is None:
            self._serial += 1
            cls = self._classes[ports] = _PortClass(self._serial, ports)
        was_empty = cls.ready.n + cls.not_ready.n == 0
        (cls.ready if ready else cls.not_ready).add(addr)
        tr = addr.target_ref
        key = (addr.ip, tr.uid if tr is not None else "")  # _addr_key(addr)
        keys = self._keys
        n = keys.get(key, 0)
        keys[key] = n + 1
        if n == 1:
            self._collisions += 1
        # _touch(layout=was_empty)
        self._version += 1
        self._cache = None
        if was_empty:
            self._groups = None
        return _Member(pod, addr, ready, cls)

    def _move(self, member: _Member, ready: bool) -> None:
        """Move a member's address (unchanged, as its port class) to the other list of its
        class: ``_withdraw`` then ``_admit`` of the same contribution, without the identity
        bookkeeping that cancels out and without emptying the class (so its groups stand: a
        group's order is decided by its addresses and ports alone, never by class serials).
        ``O(log n)``."""
        addr, cls = member.addr, member.cls
        assert addr is not None and cls is not None
        if ready:
            cls.ready.add(addr, cls.not_ready.remove(addr))
        else:
            cls.not_ready.add(addr, cls.ready.remove(addr))
        member.ready = ready
        self._version += 1
        self._cache = None

    def _withdraw(self, member: _Member) -> None:
        addr, cls = member.addr, member.cls
        if addr is None or cls is None:
            return
        (cls.ready if member.ready else cls.not_ready).remove(addr)
        key = _addr_key(addr)
        n = self._keys[key]
        if n == 1:
            del self._keys[key]
        else:
            self._keys[key] = n - 1
            if n == 2:
                self._collisions -= 1
        # _touch(layout=emptied)
        self._version += 1
        self._cache = None
        if cls.ready.n + cls.not_ready.n == 0:
            del self._classes[cls.ports]
            self._groups = None

    def _layout(self) -> tuple[_Group, ...]:
        """The subsets' groups in kubesim's subset order. ``O(ports × classes)`` when the class
        structure changed, plus the ordering of several groups; else ``O(1)``."""
        groups = self._groups
        if groups is not None:
            if len(groups) > 1:
                # The order depends on the groups' first and last addresses: re-sort.
                groups = self._groups = tuple(sorted(groups, key=functools.cmp_to_key(_cmp_groups)))
            return groups
        member_of: dict[EndpointPort, list[_PortClass]] = {}
        for cls in sorted(self._classes.values(), key=lambda c: c.serial):
            for p in cls.ports:
                member_of.setdefault(p, []).append(cls)
        by_classes: dict[tuple[int, ...], list[EndpointPort]] = {}
        classes_of: dict[tuple[int, ...], tuple[_PortClass, ...]] = {}
        for p, cl in member_of.items():
            k = tuple(c.serial for c in cl)
            by_classes.setdefault(k, []).append(p)
            classes_of[k] = tuple(cl)
        built = []
        for k, ports in by_classes.items():
            listed = tuple(sorted((p for p in ports if p.port > 0), key=_port_sort_key))
            built.append(_Group(classes_of[k], listed, sum(wire.endpoint_port_entry_size(p) for p in listed)))
        if len(built) > 1:
            built.sort(key=functools.cmp_to_key(_cmp_groups))
        self._groups = tuple(built)
        return self._groups

    def _materialize(self, truncate: bool, max_capacity: int) -> _Materialized:
        cache = self._cache
        if (
            cache is not None
            and cache.version == self._version
            and cache.truncate == truncate
            and cache.max_capacity == max_capacity
        ):
            return cache
        groups = self._layout()
        if len(groups) == 1 and len(groups[0].classes) == 1:
            # One subset of one class: its two lists are the class's snapshots.
            g = groups[0]
            c = g.classes[0]
            ready_side, not_ready_side = c.ready, c.not_ready
            count = ready_side.n + not_ready_side.n
            if not truncate or count <= max_capacity:
                subset = _subset(
                    ready_side.snapshot() if ready_side.n else (),
                    not_ready_side.snapshot() if not_ready_side.n else (),
                    g.ports,
                )
                mat = self._cache = _Materialized(self._version, truncate, max_capacity, (subset,), False, count)
                self._remember_rv(mat.subsets, False, count)
                return mat
        ready_n = [g.count(True) for g in groups]
        not_ready_n = [g.count(False) for g in groups]
        total_ready, total_not_ready = sum(ready_n), sum(not_ready_n)
        subsets: list[EndpointSubset] = []
        truncated = truncate and total_ready + total_not_ready > max_capacity
        if not truncated:
            for g in groups:
                subsets.append(_subset(g.take(True), g.take(False), g.ports))
        else:
            # truncateEndpoints: the same IEEE double expression, in subset order.
            truncate_ready = total_ready > max_capacity
            if truncate_ready:
                budget, num_total = max_capacity, total_ready
            else:
                budget, num_total = max_capacity - total_ready, total_not_ready
            can_be_added = budget
            for g, r, nr in zip(groups, ready_n, not_ready_n, strict=True):
                n = r if truncate_ready else nr
                to_be_added = int(math.ceil((float(n) / float(num_total)) * float(budget)))
                if to_be_added > can_be_added:
                    to_be_added = can_be_added
                kept_n = max(0, min(to_be_added, n))
                if truncate_ready:
                    ready_t = g.take(True, kept_n)
                    not_ready_t: tuple[EndpointAddress, ...] = ()
                else:
                    ready_t = g.take(True)
                    not_ready_t = g.take(False, kept_n)
                subsets.append(_subset(ready_t, not_ready_t, g.ports))
                can_be_added -= kept_n
        subsets_t = tuple(subsets)
        count = count_addresses(subsets_t)
        mat = _Materialized(self._version, truncate, max_capacity, subsets_t, truncated, count)
        self._cache = mat
        # The engine's addresses never carry a targetRef resourceVersion: when this object
        # comes back as the stored one, needs_update need not scan it (nor count it).
        self._remember_rv(mat.subsets, False, count)
        return mat

    def _meta(
        self, existing: Endpoints | None, trigger_time: int | float | None, truncate: bool, truncated: bool
    ) -> ObjectMeta:
        # syncService step 10, shared with endpoints_for.
        return desired_endpoints_meta(self.service, existing, trigger_time, truncate, truncated, self._labels)

    def _reference(
        self, existing: Endpoints | None, trigger_time: int | float | None, truncate: bool, max_capacity: int
    ) -> Endpoints:
        return endpoints_for(
            self.service,
            self.pods(),
            existing=existing,
            trigger_time=trigger_time,
            truncate=truncate,
            max_capacity=max_capacity,
        )

    def _has_target_ref_rv(self, subsets: tuple[EndpointSubset, ...]) -> bool:
        # Whether any targetRef carries a resourceVersion (else plain equality is decisive).
        # O(1) for the engine's own recent materialisations (the stored object is usually the
        # engine's previous write); else O(addresses) once per distinct subsets tuple
        # (remembered by identity, a reference held).
        seen = self._rv_known.get(id(subsets))
        if seen is not None and seen[0] is subsets:
            return seen[1]
        found = any(
            a.target_ref is not None and a.target_ref.resource_version
            for s in subsets
            for a in itertools.chain(s.addresses, s.not_ready_addresses)
        )
        self._remember_rv(subsets, found, count_addresses(subsets))
        return found

    def _remember_rv(self, subsets: tuple[EndpointSubset, ...], found: bool, count: int) -> None:
        # Remember (by identity, a reference held) whether a targetRef of ``subsets`` carries
        # a resourceVersion and how many addresses they hold; the last four tuples.
        known = self._rv_known
        if len(known) >= 4 and id(subsets) not in known:
            del known[next(iter(known))]
        known[id(subsets)] = (subsets, found, count)

    def _check(self) -> None:
        """Assert the invariants: every published member sits in its class exactly once; class
        lists are sorted, non-empty and sum their entry sizes; identity counts and the collision
        count agree with the members. ``O(P log P)``."""
        expect: dict[int, tuple[list[EndpointAddress], list[EndpointAddress]]] = {}
        keys: dict[_AddrKey, int] = {}
        for name, m in self._members.items():
            assert m.pod.metadata.name == name
            assert self._selects(m.pod), name
            contrib = self._contribution(m.pod)
            if m.addr is None:
                assert contrib is None, name
                continue
            assert contrib is not None and m.cls is not None
            assert contrib[0] == m.addr and contrib[1] == m.ready and contrib[2] == m.cls.ports, name
            assert self._classes.get(m.cls.ports) is m.cls, name
            lists = expect.setdefault(id(m.cls), ([], []))
            lists[0 if m.ready else 1].append(m.addr)
            keys[_addr_key(m.addr)] = keys.get(_addr_key(m.addr), 0) + 1
        assert keys == self._keys
        assert self._collisions == sum(1 for n in keys.values() if n > 1)
        assert len(expect) == len(self._classes)
        for ports, cls in self._classes.items():
            assert cls.ports == ports and len(cls) > 0
            ready, not_ready = expect[id(cls)]
            assert sorted(map(_addr_sort_key, ready)) == [_addr_sort_key(a) for a in cls.ready.addrs]
            assert sorted(map(_addr_sort_key, not_ready)) == [_addr_sort_key(a) for a in cls.not_ready.addrs]
            cls.ready._check()
            cls.not_ready._check()
