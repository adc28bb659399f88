"""Endpoint hints for EndpointSlices: Topology Aware Hints and ``trafficDistribution``.

This is the hints stage of the EndpointSlice reconciler, split out of
:mod:`kubesim.controllers.endpointslice.reconciler` so that both the reference reconciler and the incremental
fast path can share it. It mirrors upstream ``k8s.io/endpointslice``:

* ``topologycache/topologycache.go``, ``topologycache/utils.go``, ``topologycache/sliceinfo.go``
  (the proportional, CPU-weighted "Auto" hints behind the ``service.kubernetes.io/topology-mode``
  annotation and its deprecated ``service.kubernetes.io/topology-aware-hints`` spelling);
* ``trafficdist/trafficdist.go`` (``spec.trafficDistribution``: own-zone and own-node hints).

Every function here is pure except the methods of :class:`TopologyCache`, a small engine object
that remembers, per Service, whether hints were populated (it decides the
``TopologyAwareHintsEnabled`` / ``TopologyAwareHintsDisabled`` events) and the zone
distribution of the last hints written (for :meth:`TopologyCache.overloaded_services`).

Deterministic choices where upstream iterates Go maps (documented in
``docs/fidelity-endpointslice.md``):

* "the zone with the most to give / receive" (``getMost``) breaks ties by zone name;
* a redistributed endpoint goes to the first receiving zone in zone-name order;
* everything else follows list order of the slices handed in (creates, then updates, then
  unchanged slices in name order).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

import attrs

from kubesim.objects import Endpoint, EndpointHints, EndpointSlice, ForNode, ForZone, Node
from kubesim.qos import quantity_milli

__all__ = [
    "LABEL_TOPOLOGY_ZONE",
    "ANNOTATION_TOPOLOGY_MODE",
    "ANNOTATION_TOPOLOGY_AWARE_HINTS",
    "OVERLOAD_THRESHOLD",
    "NO_ZONE_SPECIFIED",
    "NO_ALLOCATED_HINTS_FOR_ZONES",
    "TOPOLOGY_AWARE_HINTS_ENABLED",
    "TOPOLOGY_AWARE_HINTS_DISABLED",
    "INSUFFICIENT_NODE_INFO",
    "NODES_READY_IN_ONE_ZONE_ONLY",
    "INSUFFICIENT_NUMBER_OF_ENDPOINTS",
    "MIN_ALLOCATION_EXCEEDS_OVERLOAD_THRESHOLD",
    "TRAFFIC_DISTRIBUTION_PREFER_CLOSE",
    "TRAFFIC_DISTRIBUTION_PREFER_SAME_ZONE",
    "TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE",
    "Event",
    "Allocation",
    "TopologyCache",
    "hints_enabled",
    "valid_traffic_distribution",
    "endpoint_ready",
    "cpu_milli_value",
    "zone_cpu_ratios",
    "get_allocations",
    "add_hints",
    "remove_hints_from_slices",
    "reconcile_traffic_distribution_hints",
    "with_address_type",
]

#: Node label carrying the zone (``v1.LabelTopologyZone``).
LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone"
#: ``v1.AnnotationTopologyMode``.
ANNOTATION_TOPOLOGY_MODE = "service.kubernetes.io/topology-mode"
#: ``v1.DeprecatedAnnotationTopologyAwareHints`` (wins over the mode annotation when present).
ANNOTATION_TOPOLOGY_AWARE_HINTS = "service.kubernetes.io/topology-aware-hints"
#: Maximum overload any endpoint should be exposed to (``overloadThreshold``).
OVERLOAD_THRESHOLD = 0.2
# Go folds ``1 / (1 + overloadThreshold)`` at compile time with exact arithmetic on the float64
# value of 0.2, then rounds once; Fraction reproduces that.
_MIN_FACTOR = float(Fraction(1) / (1 + Fraction(OVERLOAD_THRESHOLD)))

_EXCLUDED_NODE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")

# topologycache/event.go messages.
NO_ZONE_SPECIFIED = "One or more endpoints do not have a zone specified"
NO_ALLOCATED_HINTS_FOR_ZONES = "No hints allocated for zones"
TOPOLOGY_AWARE_HINTS_ENABLED = "Topology Aware Hints has been enabled"
TOPOLOGY_AWARE_HINTS_DISABLED = "Topology Aware Hints has been disabled"
INSUFFICIENT_NODE_INFO = (
    "Insufficient Node information: allocatable CPU or zone not specified on one or more nodes"
)
NODES_READY_IN_ONE_ZONE_ONLY = "Nodes only ready in one zone"
INSUFFICIENT_NUMBER_OF_ENDPOINTS = "Insufficient number of endpoints"
MIN_ALLOCATION_EXCEEDS_OVERLOAD_THRESHOLD = (
    "Unable to allocate minimum required endpoints to each zone without exceeding overload threshold"
)

TRAFFIC_DISTRIBUTION_PREFER_CLOSE = "PreferClose"
TRAFFIC_DISTRIBUTION_PREFER_SAME_ZONE = "PreferSameZone"
TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE = "PreferSameNode"
_CLOSE_TRAFFIC_DISTRIBUTIONS = frozenset(
    {
        TRAFFIC_DISTRIBUTION_PREFER_CLOSE,
        TRAFFIC_DISTRIBUTION_PREFER_SAME_ZONE,
        TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE,
    }
)

#: An event as the reconciler records it: ``(type, reason, message)``.
Event = tuple[str, str, str]


def with_address_type(message: str, address_type: str) -> str:
    """``FormatWithAddressType``: ``"<message>, addressType: <type>"``. ``O(1)``."""
    return f"{message}, addressType: {address_type}"


def _disabled_event(message: str, address_type: str) -> Event:
    return ("Warning", "TopologyAwareHintsDisabled", with_address_type(message, address_type))


# --------------------------------------------------------------------------------------------
# predicates


def hints_enabled(annotations: Mapping[str, str]) -> bool:
    """``hintsEnabled``: the deprecated annotation if present, else the mode annotation, is
    exactly ``Auto`` or ``auto``. ``O(1)``.

    >>> hints_enabled({"service.kubernetes.io/topology-mode": "Auto"})
    True
    >>> hints_enabled({"service.kubernetes.io/topology-mode": "auto",
    ...                "service.kubernetes.io/topology-aware-hints": "disabled"})
    False
    """
    if ANNOTATION_TOPOLOGY_AWARE_HINTS in annotations:
        value = annotations[ANNOTATION_TOPOLOGY_AWARE_HINTS]
    elif ANNOTATION_TOPOLOGY_MODE in annotations:
        value = annotations[ANNOTATION_TOPOLOGY_MODE]
    else:
        return False
    return value in ("Auto", "auto")


def valid_traffic_distribution(value: str | None, prefer_same: bool) -> bool:
    """``validTrafficDistribution``: ``PreferClose`` always; ``PreferSameZone`` and
    ``PreferSameNode`` only with the PreferSameTrafficDistribution option. ``O(1)``."""
    if value is None:
        return False
    if value == TRAFFIC_DISTRIBUTION_PREFER_CLOSE:
        return True
    return prefer_same and value in (
        TRAFFIC_DISTRIBUTION_PREFER_SAME_ZONE,
        TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE,
    )


def endpoint_ready(endpoint: Endpoint) -> bool:
    """``EndpointReady``: the ready condition is present and true. ``O(1)``."""
    return endpoint.conditions.ready is True


# --------------------------------------------------------------------------------------------
# node capacity


#: ``MilliValue()`` is an int64: a larger allocatable CPU counts as the largest.
_MAX_MILLI = 2**63 - 1


def cpu_milli_value(quantity: str | None) -> int:
    """``resource.Quantity.MilliValue()`` of a quantity string, rounded up (at most the
    largest int64); ``0`` when absent, unparsable or not positive. The value is
    :func:`kubesim.qos.quantity_milli`'s, the one quantity parser. ``O(len(quantity))``.

    >>> cpu_milli_value("100m"), cpu_milli_value("2"), cpu_milli_value("1.5"), cpu_milli_value(None)
    (100, 2000, 1500, 0)
    """
    if not quantity:
        return 0
    value = quantity_milli(quantity.strip())
    if value is None or value[0] <= 0:
        return 0
    digits, power = value
    return min(digits * 10**power, _MAX_MILLI) if power < 19 else _MAX_MILLI


def zone_cpu_ratios(nodes: Iterable[Node]) -> dict[str, float] | None:
    """``TopologyCache.SetNodes``: each zone's share of allocatable CPU, or ``None`` when the
    node information is insufficient (a considered node without zone or CPU, no CPU at all, or
    fewer than two zones). Nodes labelled control-plane/master, and not-Ready nodes, are
    ignored. ``O(nodes)``."""
    cpu_by_zone: dict[str, int] = {}
    total = 0
    for node in nodes:
        labels = node.metadata.labels
        if any(key in labels for key in _EXCLUDED_NODE_LABELS):
            continue
        if not node.status.ready:
            continue
        cpu = cpu_milli_value(node.status.allocatable.get("cpu"))
        zone = labels.get(LABEL_TOPOLOGY_ZONE, "")
        if not zone or cpu == 0:
            return None
        total += cpu
        cpu_by_zone[zone] = cpu_by_zone.get(zone, 0) + cpu
    if total == 0 or len(cpu_by_zone) < 2:
        return None
    return {zone: float(cpu) / float(total) for zone, cpu in sorted(cpu_by_zone.items())}


@attrs.frozen
class Allocation:
    """Endpoints a zone should get: ``minimum``, ``maximum`` and the fractional ``desired``."""

    minimum: int
    maximum: int
    desired: float


def get_allocations(
    ratios: Mapping[str, float] | None, num_endpoints: int
) -> tuple[dict[str, Allocation] | None, str | None]:
    """``getAllocations``: per-zone allocations for ``num_endpoints`` ready endpoints, or
    ``(None, message)`` saying why hints cannot be given. ``O(zones)``."""
    if ratios is None:
        return None, INSUFFICIENT_NODE_INFO
    if len(ratios) < 2:
        return None, NODES_READY_IN_ONE_ZONE_ONLY
    if len(ratios) > num_endpoints:
        return None, (
            f"{INSUFFICIENT_NUMBER_OF_ENDPOINTS} ({num_endpoints} endpoints, {len(ratios)} zones)"
        )
    remaining = num_endpoints
    min_total = 0
    partial: dict[str, tuple[int, float]] = {}
    for zone in sorted(ratios):
        desired = ratios[zone] * float(num_endpoints)
        minimum = int(math.ceil(desired * _MIN_FACTOR))
        partial[zone] = (minimum, max(desired, float(minimum)))
        min_total += minimum
        remaining -= minimum
        if remaining < 0:
            return None, (
                f"{MIN_ALLOCATION_EXCEEDS_OVERLOAD_THRESHOLD} "
                f"({num_endpoints} endpoints, {len(ratios)} zones)"
            )
    return {
        zone: Allocation(minimum=m, maximum=m + num_endpoints - min_total, desired=d)
        for zone, (m, d) in partial.items()
    }, None


# --------------------------------------------------------------------------------------------
# the cache


@attrs.define(eq=False)
class TopologyCache:
    """Per-Service memory of the Topology Aware Hints stage (``topologycache.TopologyCache``).

    Pass one instance as ``topology=`` to successive
    :func:`~kubesim.controllers.endpointslice.reconciler.reconcile_endpoint_slices` calls to get upstream's
    events exactly (``TopologyAwareHintsEnabled`` only the first time). Node capacity is not
    cached: it is recomputed from the ``nodes`` handed to each sync, as if ``SetNodes`` ran on
    every Node event.

    Methods: :meth:`has_populated_hints`, :meth:`holds`, :meth:`set_hints`, :meth:`remove_hints` (all
    ``O(1)``), :meth:`overloaded_services` (``O(services × zones)``), :meth:`_check`.
    """

    #: service key -> address type -> zone -> hints allocated.
    endpoints_by_service: dict[str, dict[str, dict[str, int]]] = attrs.field(factory=dict)
    #: service keys whose hints are populated.
    hints_populated: set[str] = attrs.field(factory=set)

    def has_populated_hints(self, service_key: str) -> bool:
        """Whether hints are populated for ``service_key`` (``namespace/name``)."""
        return service_key in self.hints_populated

    def holds(self, service_key: str) -> bool:
        """Whether the cache has hints or a populated mark for ``service_key``: else
        :meth:`remove_hints` changes nothing and :meth:`has_populated_hints` is ``False``."""
        return service_key in self.hints_populated or service_key in self.endpoints_by_service

    def set_hints(self, service_key: str, address_type: str, by_zone: Mapping[str, int]) -> None:
        """Record the hints allocated per zone for one address type."""
        self.endpoints_by_service.setdefault(service_key, {})[address_type] = dict(by_zone)
        self.hints_populated.add(service_key)

    def remove_hints(self, service_key: str, address_type: str) -> None:
        """Forget one address type's hints; the Service stops counting as populated."""
        per_type = self.endpoints_by_service.get(service_key)
        if per_type is not None:
            per_type.pop(address_type, None)
            if not per_type:
                del self.endpoints_by_service[service_key]
        self.hints_populated.discard(service_key)

    def overloaded_services(self, nodes: Iterable[Node]) -> list[str]:
        """``GetOverloadedServices``: sorted keys of Services whose recorded hints leave some
        zone below its minimum for the current ``nodes``."""
        ratios = zone_cpu_ratios(nodes) or {}
        out = []
        for key in sorted(self.endpoints_by_service):
            for at in sorted(self.endpoints_by_service[key]):
                if _service_overloaded(self.endpoints_by_service[key][at], ratios):
                    out.append(key)
                    break
        return out

    def _check(self) -> None:
        for key, per_type in self.endpoints_by_service.items():
            assert per_type, f"empty entry for {key}"


def _service_overloaded(ezi: Mapping[str, int], ratios: Mapping[str, float]) -> bool:
    if not ezi:
        return False
    if not ratios:
        return True
    total = float(sum(ezi.values()))
    for zone, ratio in ratios.items():
        if zone not in ezi:
            return True
        if ezi[zone] < int(math.ceil(total * ratio * _MIN_FACTOR)):
            return True
    return False


# --------------------------------------------------------------------------------------------
# hint stages (pure: they return new slice tuples)


def _clear_hints(slice_: EndpointSlice) -> EndpointSlice:
    if all(ep.hints is None for ep in slice_.endpoints):
        return slice_
    return attrs.evolve(
        slice_, endpoints=tuple(attrs.evolve(ep, hints=None) for ep in slice_.endpoints)
    )


def remove_hints_from_slices(
    creates: Sequence[EndpointSlice],
    updates: Sequence[EndpointSlice],
    unchanged: Sequence[EndpointSlice],
) -> tuple[list[EndpointSlice], list[EndpointSlice], list[EndpointSlice]]:
    """``RemoveHintsFromSlices``: clear hints on every create and update; an unchanged slice
    carrying any hint is moved (hints cleared) to the end of the updates. Returns
    ``(creates, updates, still_unchanged)``. ``O(endpoints)``."""
    new_creates = [_clear_hints(s) for s in creates]
    new_updates = [_clear_hints(s) for s in updates]
    still: list[EndpointSlice] = []
    for s in unchanged:
        if any(ep.hints is not None for ep in s.endpoints):
            new_updates.append(_clear_hints(s))
        else:
            still.append(s)
    return new_creates, new_updates, still


def _hints_by_zone(
    slice_: EndpointSlice, allocated: Mapping[str, int], allocations: Mapping[str, Allocation]
) -> dict[str, int] | None:
    # getHintsByZone: None means "this unchanged slice must be rewritten".
    by_zone: dict[str, int] = {}
    for ep in slice_.endpoints:
        if not endpoint_ready(ep):
            continue
        if ep.hints is None or not ep.hints.for_zones:
            return None
        for fz in ep.hints.for_zones:
            if fz.name not in allocations:
                return None
            by_zone[fz.name] = by_zone.get(fz.name, 0) + 1
    for zone, n in by_zone.items():
        if n + allocated.get(zone, 0) > allocations[zone].maximum:
            return None
    return by_zone


def _get_most(values: Mapping[str, float]) -> tuple[str, float]:
    # getMost; ties go to the smallest zone name (upstream: map order).
    zone, best = "", 0.0
    for z in sorted(values):
        if values[z] > best:
            zone, best = z, values[z]
    return zone, best


def _giving_and_receiving(
    allocations: Mapping[str, Allocation], allocated: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    giving_desired: dict[str, float] = {}
    receiving_desired: dict[str, float] = {}
    for zone in sorted(allocations):
        have = float(allocated.get(zone, 0))
        target = allocations[zone].desired
        if have > target:
            giving_desired[zone] = have - target
        elif have < target:
            receiving_desired[zone] = target - have
    giving: dict[str, int] = {}
    receiving: dict[str, int] = {}
    while True:
        gz, ng = _get_most(giving_desired)
        rz, nr = _get_most(receiving_desired)
        if gz == "" or rz == "" or (ng < 1.0 and nr < 1.0) or ng < 0.5 or nr < 0.5:
            break
        giving[gz] = giving.get(gz, 0) + 1
        giving_desired[gz] -= 1
        receiving[rz] = receiving.get(rz, 0) + 1
        receiving_desired[rz] -= 1
    return giving, receiving


def add_hints(
    cache: TopologyCache,
    ratios: Mapping[str, float] | None,
    service_key: str,
    address_type: str,
    creates: Sequence[EndpointSlice],
    updates: Sequence[EndpointSlice],
    unchanged: Sequence[EndpointSlice],
) -> tuple[list[EndpointSlice], list[EndpointSlice], list[Event]]:
    """``TopologyCache.AddHints``: proportional zone hints for one address type.

    Returns ``(creates, updates, events)``; unchanged slices that need new hints are appended
    to the updates. Updates ``cache``. ``O(endpoints + zones²)``.
    """
    events: list[Event] = []
    total = sum(
        sum(1 for ep in s.endpoints if endpoint_ready(ep))
        for group in (creates, updates, unchanged)
        for s in group
    )
    allocations, why = get_allocations(ratios, total)
    if allocations is None:
        assert why is not None
        events.append(_disabled_event(why, address_type))
        cache.remove_hints(service_key, address_type)
        c, u, _ = remove_hints_from_slices(creates, updates, unchanged)
        return c, u, events

    # getAllocatedHintsByZone: keep valid unchanged slices, move the rest to updates.
    allocated: dict[str, int] = {}
    updates = list(updates)
    still: list[EndpointSlice] = []
    for s in unchanged:
        by_zone = _hints_by_zone(s, allocated, allocations)
        if by_zone is None:
            updates.append(s)
        else:
            still.append(s)
            for zone, n in by_zone.items():
                allocated[zone] = allocated.get(zone, 0) + n

    # Work on mutable copies of the endpoint lists of creates + updates.
    work: list[list[Endpoint]] = [list(s.endpoints) for s in (*creates, *updates)]

    # Step 1: own-zone hints for every ready endpoint (non-ready ones keep what they have).
    for eps in work:
        for i, ep in enumerate(eps):
            if not endpoint_ready(ep):
                continue
            if not ep.zone:
                events.append(_disabled_event(NO_ZONE_SPECIFIED, address_type))
                cache.remove_hints(service_key, address_type)
                c, u, _ = remove_hints_from_slices(creates, updates, still)
                return c, u, events
            allocated[ep.zone] = allocated.get(ep.zone, 0) + 1
            eps[i] = attrs.evolve(ep, hints=EndpointHints(for_zones=(ForZone(ep.zone),)))

    # Steps 2 and 3: move whole endpoints from giving to receiving zones.
    giving, receiving = _giving_and_receiving(allocations, allocated)
    redistributions: dict[str, int] = {}
    done = False
    for eps in work:
        if done:
            break
        for i, ep in enumerate(eps):
            if not endpoint_ready(ep):
                continue
            if not giving or not receiving:
                done = True
                break
            if not ep.zone:
                continue
            gz = ep.zone
            if giving.get(gz, 0) > 0:
                for rz in sorted(receiving):
                    if receiving[rz] > 0:
                        eps[i] = attrs.evolve(ep, hints=EndpointHints(for_zones=(ForZone(rz),)))
                        if giving[gz] == 1:
                            del giving[gz]
                        else:
                            giving[gz] -= 1
                        if receiving[rz] == 1:
                            del receiving[rz]
                        else:
                            receiving[rz] -= 1
                        redistributions[rz] = redistributions.get(rz, 0) + 1
                        redistributions[gz] = redistributions.get(gz, 0) - 1
                        break
    for zone, diff in redistributions.items():
        allocated[zone] = allocated.get(zone, 0) + diff

    if not allocated:
        events.append(_disabled_event(NO_ALLOCATED_HINTS_FOR_ZONES, address_type))
        cache.remove_hints(service_key, address_type)
        c, u, _ = remove_hints_from_slices(creates, updates, still)
        return c, u, events

    was_enabled = cache.has_populated_hints(service_key)
    cache.set_hints(service_key, address_type, allocated)
    if not was_enabled:
        events.append(
            (
                "Normal",
                "TopologyAwareHintsEnabled",
                with_address_type(TOPOLOGY_AWARE_HINTS_ENABLED, address_type),
            )
        )
    originals = [*creates, *updates]
    rebuilt = [
        s if list(s.endpoints) == eps else attrs.evolve(s, endpoints=tuple(eps))
        for s, eps in zip(originals, work, strict=True)
    ]
    return rebuilt[: len(creates)], rebuilt[len(creates) :], events


def _needs_td_update(slice_: EndpointSlice, node_hints: bool) -> bool:
    for ep in slice_.endpoints:
        if not endpoint_ready(ep):
            continue
        hints = ep.hints
        if ep.zone is not None:
            if hints is None or len(hints.for_zones) != 1 or hints.for_zones[0].name != ep.zone:
                return True
        elif hints is not None and hints.for_zones:
            return True
        if ep.node_name is not None and node_hints:
            if (
                hints is None
                or len(hints.for_nodes) != 1
                or hints.for_nodes[0].name != ep.node_name
            ):
                return True
        elif hints is not None and hints.for_nodes:
            return True
    return False


def _td_hints(slice_: EndpointSlice, node_hints: bool) -> EndpointSlice:
    eps = list(slice_.endpoints)
    changed = False
    for i, ep in enumerate(eps):
        if not endpoint_ready(ep):
            continue
        zones = (ForZone(ep.zone),) if ep.zone is not None else ()
        nodes = (ForNode(ep.node_name),) if ep.node_name is not None and node_hints else ()
        hints = EndpointHints(for_zones=zones, for_nodes=nodes) if zones or nodes else None
        if hints != ep.hints:
            eps[i] = attrs.evolve(ep, hints=hints)
            changed = True
    return attrs.evolve(slice_, endpoints=tuple(eps)) if changed else slice_


def reconcile_traffic_distribution_hints(
    traffic_distribution: str | None,
    creates: Sequence[EndpointSlice],
    updates: Sequence[EndpointSlice],
    unchanged: Sequence[EndpointSlice],
) -> tuple[list[EndpointSlice], list[EndpointSlice], list[EndpointSlice]]:
    """``trafficdist.ReconcileHints``: with a "close" distribution every ready endpoint gets
    its own zone (and, for ``PreferSameNode``, its own node) as hint; otherwise all hints are
    removed. Unchanged slices with a missing, stale or extra hint on a ready endpoint move to
    the end of the updates. Returns ``(creates, updates, still_unchanged)``.
    ``O(endpoints)``."""
    if traffic_distribution is None or traffic_distribution not in _CLOSE_TRAFFIC_DISTRIBUTIONS:
        return remove_hints_from_slices(creates, updates, unchanged)
    node_hints = traffic_distribution == TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE
    new_updates = list(updates)
    still: list[EndpointSlice] = []
    for s in unchanged:
        if _needs_td_update(s, node_hints):
            new_updates.append(s)
        else:
            still.append(s)
    return (
        [_td_hints(s, node_hints) for s in creates],
        [_td_hints(s, node_hints) for s in new_updates],
        still,
    )
