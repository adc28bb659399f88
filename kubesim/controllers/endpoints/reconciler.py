"""The pure logic of the legacy Endpoints controller.

Mirrors ``pkg/controller/endpoint/endpoints_controller.go`` (``syncService``),
``pkg/api/v1/endpoints/util.go`` (``RepackSubsets``/``SortSubsets``),
``staging/src/k8s.io/endpointslice/util/controller_utils.go`` (``ShouldPodBeInEndpoints``,
``ShouldSetHostname``, ``FindPort``) and ``staging/src/k8s.io/endpointslice/util/
trigger_time_tracker.go`` (``TriggerTimeTracker``), as described in
``reference/endpoints-and-consumers.md`` §1.

Everything here is a pure function of its arguments except :class:`TriggerTimeTracker`, a small
mutable engine shared with the EndpointSlice controller.  The controller engine (queue, informers,
retries, stale-cache tracker) lives elsewhere and calls these functions.

Deterministic choices where upstream is arbitrary (see ``docs/fidelity-endpoints.md``):

* upstream orders the ports of a subset, and the subsets themselves, by the md5 of a Go dump;
  kubesim sorts ports by ``(name, port, protocol, appProtocol)`` and subsets by their ready
  addresses, then their not-ready addresses, then their ports (addresses compared as upstream
  compares them: IP as a byte string, then targetRef uid);
* truncation walks the subsets in that order, so when several subsets are truncated the
  per-subset counts can differ from upstream's by the rounding of ``ceil`` (totals never do).

>>> from kubesim.objects import EndpointAddress, EndpointPort, EndpointSubset
>>> packed = repack_subsets([
...     EndpointSubset(addresses=[EndpointAddress(ip="1.2.3.4")], ports=[EndpointPort(port=111)]),
...     EndpointSubset(addresses=[EndpointAddress(ip="1.2.3.4")], ports=[EndpointPort(port=222)]),
... ])
>>> [(tuple(a.ip for a in s.addresses), tuple(p.port for p in s.ports)) for s in packed]
[(('1.2.3.4',), (111, 222))]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import attrs

from kubesim import netutil
from kubesim.controllers.endpointutil import (
    TriggerTimeTracker,
    find_port,
    format_trigger_time,
    meta_with,
    selector_matches,
    should_pod_be_in_endpoints,
    should_set_hostname,
)
from kubesim.objects import (
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSubset,
    FrozenDict,
    ObjectMeta,
    ObjectReference,
    Pod,
    Service,
)

__all__ = [
    "MAX_CAPACITY",
    "ANNOTATION_OVER_CAPACITY",
    "OVER_CAPACITY_TRUNCATED",
    "ANNOTATION_LAST_CHANGE_TRIGGER_TIME",
    "LABEL_HEADLESS",
    "LABEL_ENDPOINTS_MANAGED_BY",
    "ENDPOINTS_CONTROLLER_NAME",
    "ANNOTATION_LEADER",
    "ANNOTATION_LAST_APPLIED",
    "repack_subsets",
    "truncate_subsets",
    "count_addresses",
    "should_pod_be_in_endpoints",
    "should_set_hostname",
    "find_port",
    "pod_to_endpoint_address",
    "endpoint_subsets_for_pod",
    "select_pods",
    "service_ip_set",
    "endpoints_for",
    "endpoints_need_update",
    "subsets_equal_ignore_resource_version",
    "EndpointsSyncPlan",
    "plan_endpoints_sync",
    "format_trigger_time",
    "TriggerTimeTracker",
]

#: ``maxCapacity`` in ``endpoints_controller.go``: addresses kept by truncation.
MAX_CAPACITY = 1000
#: ``v1.EndpointsOverCapacity``.
ANNOTATION_OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
#: The only value the controller writes to the over-capacity annotation.
OVER_CAPACITY_TRUNCATED = "truncated"
#: ``v1.EndpointsLastChangeTriggerTime`` (RFC3339Nano, UTC).
ANNOTATION_LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
#: ``v1.IsHeadlessService`` (value ``""``).
LABEL_HEADLESS = "service.kubernetes.io/headless"
#: ``LabelManagedBy`` of the Endpoints controller (v1.33+).
LABEL_ENDPOINTS_MANAGED_BY = "endpoints.kubernetes.io/managed-by"
#: ``ControllerName`` of the Endpoints controller (v1.33+), the managed-by label value.
ENDPOINTS_CONTROLLER_NAME = "endpoint-controller"
#: ``resourcelock.LeaderElectionRecordAnnotationKey``.
ANNOTATION_LEADER = "control-plane.alpha.kubernetes.io/leader"
#: ``v1.LastAppliedConfigAnnotation``.
ANNOTATION_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_IPV4 = "IPv4"
_IPV6 = "IPv6"

# The sentinel port RepackSubsets files port-less subsets under (``{port: -1}`` upstream).
_NO_PORT = EndpointPort(port=-1, protocol="")

_AddrKey = tuple[str, str]


# --------------------------------------------------------------------------------------------
# RepackSubsets / SortSubsets (pkg/api/v1/endpoints/util.go)


def _addr_key(addr: EndpointAddress) -> _AddrKey:
    # Address identity in RepackSubsets: (IP, targetRef.uid), uid "" without a targetRef.
    return (addr.ip, addr.target_ref.uid if addr.target_ref is not None else "")


def _addr_sort_key(addr: EndpointAddress) -> tuple[bytes, bool, str]:
    # LessEndpointAddress: IP as a byte string, then "no targetRef" first, then uid.
    tr = addr.target_ref
    return (addr.ip.encode("utf-8"), tr is not None, tr.uid if tr is not None else "")


def _port_sort_key(port: EndpointPort) -> tuple[str, int, str, bool, str]:
    ap = port.app_protocol
    return (port.name, port.port, port.protocol, ap is not None, ap or "")


def _subset_sort_key(subset: EndpointSubset) -> tuple[object, ...]:
    return (
        tuple(_addr_sort_key(a) for a in subset.addresses),
        tuple(_addr_sort_key(a) for a in subset.not_ready_addresses),
        tuple(_port_sort_key(p) for p in subset.ports),
    )


def repack_subsets(subsets: Iterable[EndpointSubset]) -> tuple[EndpointSubset, ...]:
    """Canonicalise ``subsets`` like ``RepackSubsets`` followed by ``SortSubsets``.

    * every (port, address) pair is expanded; a subset without ports files its addresses under a
      sentinel port; address identity is ``(ip, targetRef.uid)`` and the first address object
      seen for an identity is kept;
    * a (port, address) pair seen both ready and not ready ends up not ready;
    * ports with the same set of (address, ready) pairs form one subset; ports ``<= 0`` (the
      sentinel, or a real ``0``) are not listed, so their subset may have no ports; ports with no
      addresses disappear;
    * addresses are sorted by IP as a byte string then targetRef uid; ports and subsets follow
      kubesim's documented deterministic order (module docstring).

    ``O(P·A·log A)`` for ``P`` distinct ports and ``A`` distinct addresses.
    """
    all_addrs: dict[_AddrKey, EndpointAddress] = {}
    # port -> address key -> ready (dict preserves first-seen order, for determinism).
    port_map: dict[EndpointPort, dict[_AddrKey, bool]] = {}

    def add(port: EndpointPort, addrs: Sequence[EndpointAddress], ready: bool) -> None:
        if not addrs:
            return
        ready_of = port_map.get(port)
        if ready_of is None:
            ready_of = port_map[port] = {}
        for addr in addrs:
            key = _addr_key(addr)
            if key not in all_addrs:
                all_addrs[key] = addr
            # First observation wins, except that not-ready overrides ready.
            if key not in ready_of or not ready:
                ready_of[key] = ready

    for subset in subsets:
        if not subset.ports:
            add(_NO_PORT, subset.addresses, True)
            add(_NO_PORT, subset.not_ready_addresses, False)
        else:
            for port in subset.ports:
                add(port, subset.addresses, True)
                add(port, subset.not_ready_addresses, False)

    groups: dict[frozenset[tuple[_AddrKey, bool]], list[EndpointPort]] = {}
    for port, ready_of in port_map.items():
        groups.setdefault(frozenset(ready_of.items()), []).append(port)

    out = []
    for addr_set, ports in groups.items():
        ready = sorted((all_addrs[k] for k, r in addr_set if r), key=_addr_sort_key)
        not_ready = sorted((all_addrs[k] for k, r in addr_set if not r), key=_addr_sort_key)
        listed = sorted((p for p in ports if p.port > 0), key=_port_sort_key)
        out.append(EndpointSubset(addresses=ready, not_ready_addresses=not_ready, ports=listed))
    out.sort(key=_subset_sort_key)
    return tuple(out)


def count_addresses(subsets: Iterable[EndpointSubset]) -> int:
    """Total ready plus not-ready addresses over ``subsets``. ``O(len(subsets))``."""
    return sum(len(s.addresses) + len(s.not_ready_addresses) for s in subsets)


# --------------------------------------------------------------------------------------------
# truncateEndpoints (endpoints_controller.go)


def truncate_subsets(
    subsets: Sequence[EndpointSubset], max_capacity: int = MAX_CAPACITY
) -> tuple[tuple[EndpointSubset, ...], bool]:
    """Cut ``subsets`` down to ``max_capacity`` addresses like ``truncateEndpoints``.

    Returns ``(subsets, truncated)``.  With ``R`` ready and ``N`` not-ready addresses: nothing
    happens when ``R + N <= max_capacity``; if ``R > max_capacity`` the ready lists share a budget
    of ``max_capacity`` and every not-ready list is emptied; otherwise the not-ready lists share
    ``max_capacity - R``.  Each list, in subset order, keeps its first
    ``min(ceil(n / total * budget), remaining)`` entries (IEEE double arithmetic, upstream's
    order of operations).  Subsets are never dropped, even when emptied.  ``O(len(subsets))``
    plus the copied prefixes.

    >>> from kubesim.objects import EndpointAddress, EndpointSubset
    >>> s = EndpointSubset(addresses=[EndpointAddress(ip=f"10.0.0.{i}") for i in range(5)])
    >>> out, cut = truncate_subsets([s], max_capacity=3)
    >>> len(out[0].addresses), cut
    (3, True)
    """
    total_ready = sum(len(s.addresses) for s in subsets)
    total_not_ready = sum(len(s.not_ready_addresses) for s in subsets)
    if total_ready + total_not_ready <= max_capacity:
        return tuple(subsets), False
    truncate_ready = total_ready > max_capacity
    if truncate_ready:
        budget, num_total = max_capacity, total_ready
    else:
        budget, num_total = max_capacity - total_ready, total_not_ready
    can_be_added = budget
    out = []
    for subset in subsets:
        n = len(subset.addresses) if truncate_ready else len(subset.not_ready_addresses)
        to_be_added = int(math.ceil((float(n) / float(num_total)) * float(budget)))
        if to_be_added > can_be_added:
            to_be_added = can_be_added
        if truncate_ready:
            kept = subset.addresses[:to_be_added]
            out.append(attrs.evolve(subset, addresses=kept, not_ready_addresses=()))
        else:
            kept = subset.not_ready_addresses[:to_be_added]
            out.append(attrs.evolve(subset, not_ready_addresses=kept))
        can_be_added -= len(kept)
    return tuple(out), True


# --------------------------------------------------------------------------------------------
# Pods -> addresses (controller_utils.go, endpoints_controller.go)








def _address_family(service: Service, pod: Pod) -> str:
    if service.spec.ip_families:
        return service.spec.ip_families[0]
    # Legacy fallback for Services without ipFamilies (present @003e8629).
    cluster_ip = service.spec.cluster_ip
    if cluster_ip and cluster_ip != "None":
        return _IPV6 if netutil.is_ipv6(cluster_ip) else _IPV4
    return _IPV6 if netutil.is_ipv6(pod.status.pod_ip) else _IPV4


def pod_to_endpoint_address(pod: Pod, service: Service) -> EndpointAddress | None:
    """The pod's address for ``service`` (``podToEndpointAddressForService``), or ``None`` when
    the pod has no IP of the Service's family (upstream logs and skips the pod).

    * family: ``spec.ipFamilies[0]``; without ipFamilies, the ClusterIP's family, or for a
      headless Service the family of ``status.podIP``; IPv4 by default;
    * IP: the first ``status.podIPs`` entry of that family, in canonical form (``01.2.3.4`` ->
      ``1.2.3.4``; an unparsable string is kept verbatim and counts as IPv4, as ``IsIPv6String``
      is false for it);
    * ``nodeName`` is always set, to ``""`` for an unscheduled pod;
    * ``targetRef`` is ``{kind: Pod, namespace, name, uid}`` with no resourceVersion;
    * ``hostname`` per :func:`should_set_hostname`.

    ``O(len(podIPs))``.
    """
    want_v6 = _address_family(service, pod) == _IPV6
    ip = ""
    canonical: str | None = None
    for pod_ip in pod.status.pod_ips:
        # netutil.is_ipv6 and netutil.canonical_ip of the IP, from one memoised parse
        family, canonical = netutil.ip_info(pod_ip.ip)
        if (family == _IPV6) == want_v6:
            ip = pod_ip.ip
            break
    if not ip:
        return None
    if canonical is not None:
        ip = canonical
    meta = pod.metadata
    return EndpointAddress(
        ip=ip,
        hostname=pod.spec.hostname if should_set_hostname(pod, service) else "",
        node_name=pod.spec.node_name,
        target_ref=ObjectReference(kind="Pod", namespace=meta.namespace, name=meta.name, uid=meta.uid),
    )


def endpoint_subsets_for_pod(pod: Pod, service: Service) -> tuple[EndpointSubset, ...]:
    """The un-packed subsets one pod contributes to ``service``'s Endpoints (step 6 of
    ``syncService``): one single-address, single-port subset per resolvable Service port.

    Empty if the pod is excluded (:func:`should_pod_be_in_endpoints` with
    ``include_terminating = publishNotReadyAddresses``) or has no address of the Service's
    family.  A Service without ports yields one port-less subset only when it is headless
    (``clusterIP: None``).  The address is ready when ``publishNotReadyAddresses`` is set or the
    pod is Ready, not ready otherwise. ``O(service ports · container ports)``.
    """
    spec = service.spec
    if not should_pod_be_in_endpoints(pod, spec.publish_not_ready_addresses):
        return ()
    addr = pod_to_endpoint_address(pod, service)
    if addr is None:
        return ()
    ready = spec.publish_not_ready_addresses or pod.status.ready

    def subset(ports: tuple[EndpointPort, ...]) -> EndpointSubset:
        if ready:
            return EndpointSubset(addresses=(addr,), ports=ports)
        return EndpointSubset(not_ready_addresses=(addr,), ports=ports)

    if not spec.ports:
        if spec.cluster_ip == "None":
            return (subset(()),)
        return ()
    out = []
    for sp in spec.ports:
        number = find_port(pod, sp.target_port, sp.protocol)
        if number is None:
            continue
        port = EndpointPort(port=number, name=sp.name, protocol=sp.protocol, app_protocol=sp.app_protocol)
        out.append(subset((port,)))
    return tuple(out)




def select_pods(service: Service, pods: Iterable[Pod]) -> tuple[Pod, ...]:
    """The pods of ``service``'s namespace its selector matches (lister order kept).

    A ``None`` selector matches nothing; an empty one matches every pod. ``O(pods)``.
    """
    selector = service.spec.selector
    if selector is None:
        return ()
    ns = service.metadata.namespace
    return tuple(
        p for p in pods if p.metadata.namespace == ns and selector_matches(selector, p.metadata.labels)
    )


def service_ip_set(service: Service) -> bool:
    """``helper.IsServiceIPSet``: the ClusterIP is neither ``""`` nor ``"None"``. ``O(1)``."""
    return service.spec.cluster_ip not in ("", "None")


# --------------------------------------------------------------------------------------------
# The desired Endpoints and the no-op check (syncService steps 8-10)




def _desired_labels(service: Service) -> FrozenDict:
    labels = dict(service.metadata.labels)
    if not service_ip_set(service):
        labels[LABEL_HEADLESS] = ""
    else:
        labels.pop(LABEL_HEADLESS, None)
    labels[LABEL_ENDPOINTS_MANAGED_BY] = ENDPOINTS_CONTROLLER_NAME
    return FrozenDict(labels)


def endpoints_for(
    service: Service,
    pods: Iterable[Pod],
    *,
    existing: Endpoints | None = None,
    trigger_time: int | float | None = None,
    truncate: bool = True,
    max_capacity: int = MAX_CAPACITY,
) -> Endpoints:
    """The Endpoints object the controller would write for ``service`` (``syncService`` step 10).

    ``pods`` may be any pods: those of the Service's namespace matching its selector are used
    (:func:`select_pods`).  The result starts from ``existing`` (all its metadata kept, so an
    update carries its resourceVersion) or from ``{name, namespace}`` for a create, then:

    * ``subsets``: every pod's :func:`endpoint_subsets_for_pod`, repacked, then truncated to
      ``max_capacity`` addresses;
    * ``labels``: exactly the Service's labels, plus ``service.kubernetes.io/headless: ""`` when
      the Service has no ClusterIP (``""`` or ``None``), plus
      ``endpoints.kubernetes.io/managed-by: endpoint-controller``; user labels are dropped;
    * ``annotations``: ``existing``'s, with the trigger-time annotation set to ``trigger_time``
      (RFC3339Nano) or removed when it is ``None``/``0``, and the over-capacity annotation set to
      ``truncated`` when truncation happened, removed otherwise.

    ``truncate=False`` is the pre-1.22 controller: no truncation, and the over-capacity
    annotation is neither set nor removed.  No ownerReferences are ever set.
    ``O(pods · ports + A log A)``.
    """
    raw: list[EndpointSubset] = []
    for pod in select_pods(service, pods):
        raw.extend(endpoint_subsets_for_pod(pod, service))
    subsets = repack_subsets(raw)

    truncated = False
    if truncate:
        subsets, truncated = truncate_subsets(subsets, max_capacity)
    meta = desired_endpoints_meta(service, existing, trigger_time, truncate, truncated, _desired_labels(service))
    return Endpoints(metadata=meta, subsets=subsets)


def desired_endpoints_meta(
    service: Service,
    existing: Endpoints | None,
    trigger_time: int | float | None,
    truncate: bool,
    truncated: bool,
    labels: FrozenDict,
) -> ObjectMeta:
    """The metadata ``syncService`` step 10 writes: the existing object's (or a new one named
    after the Service), with ``labels``, the trigger-time annotation set or removed, and, when
    truncating, the over-capacity annotation set or removed. ``O(annotations)``."""
    if existing is not None:
        meta = existing.metadata
    else:
        meta = ObjectMeta(name=service.metadata.name, namespace=service.metadata.namespace)
    annotations = meta.annotations.to_dict()
    if trigger_time:
        annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = format_trigger_time(trigger_time)
    else:
        annotations.pop(ANNOTATION_LAST_CHANGE_TRIGGER_TIME, None)
    if truncate:
        if truncated:
            annotations[ANNOTATION_OVER_CAPACITY] = OVER_CAPACITY_TRUNCATED
        else:
            annotations.pop(ANNOTATION_OVER_CAPACITY, None)
    return meta_with(meta, meta.name, labels, FrozenDict(annotations))


def _strip_rv(subsets: Sequence[EndpointSubset]) -> list[EndpointSubset]:
    def addr(a: EndpointAddress) -> EndpointAddress:
        if a.target_ref is None or not a.target_ref.resource_version:
            return a
        return attrs.evolve(a, target_ref=attrs.evolve(a.target_ref, resource_version=""))

    return [
        attrs.evolve(
            s,
            addresses=tuple(addr(a) for a in s.addresses),
            not_ready_addresses=tuple(addr(a) for a in s.not_ready_addresses),
        )
        for s in subsets
    ]


def subsets_equal_ignore_resource_version(
    a: Sequence[EndpointSubset], b: Sequence[EndpointSubset]
) -> bool:
    """``endpointSubsetsEqualIgnoreResourceVersion``: semantic equality with every
    ``targetRef.resourceVersion`` blanked (order matters; nil equals empty). ``O(addresses)``."""
    return _strip_rv(a) == _strip_rv(b)


def endpoints_need_update(
    existing: Endpoints | None,
    desired: Endpoints,
    service: Service,
    *,
    truncate: bool = True,
    max_capacity: int = MAX_CAPACITY,
) -> bool:
    """``False`` iff ``syncService`` would skip the write (step 9), given ``desired`` from
    :func:`endpoints_for` with the same ``truncate``/``max_capacity``.

    A write is skipped only when all hold: ``existing`` is a stored object (non-empty
    resourceVersion); its subsets equal the desired (repacked, untruncated) subsets ignoring
    ``targetRef.resourceVersion``; its labels minus the headless and managed-by keys equal the
    Service's labels and it carries ``managed-by: endpoint-controller``; and (``truncate`` only)
    it holds at most ``max_capacity`` addresses without an over-capacity annotation.  A truncated
    ``desired`` therefore always needs a write, as upstream compares against the untruncated
    subsets.  Trigger-time and other annotations never cause a write. ``O(addresses)``.
    """
    if existing is None or not existing.metadata.resource_version:
        return True
    if truncate and ANNOTATION_OVER_CAPACITY in desired.metadata.annotations:
        # The untruncated subsets exceed max_capacity: either they differ from existing or the
        # capacity annotation check below fails.
        return True
    if not subsets_equal_ignore_resource_version(existing.subsets, desired.subsets):
        return True
    labels = existing.metadata.labels
    if labels.get(LABEL_ENDPOINTS_MANAGED_BY) != ENDPOINTS_CONTROLLER_NAME:
        return True
    if labels.without(LABEL_HEADLESS, LABEL_ENDPOINTS_MANAGED_BY) != service.metadata.labels:
        return True
    if truncate and (
        count_addresses(existing.subsets) > max_capacity
        or ANNOTATION_OVER_CAPACITY in existing.metadata.annotations
    ):
        return True
    return False


@attrs.frozen
class EndpointsSyncPlan:
    """What one ``syncService`` decides: ``verb`` is ``"create"``, ``"update"``, ``"delete"`` or
    ``None`` (no request); ``endpoints`` is the object to write (or, for a delete, the one
    named)."""

    verb: str | None
    endpoints: Endpoints | None = None


def plan_endpoints_sync(
    service: Service | None,
    pods: Iterable[Pod],
    existing: Endpoints | None,
    *,
    namespace: str = "",
    name: str = "",
    trigger_time: int | float | None = None,
    truncate: bool = True,
    max_capacity: int = MAX_CAPACITY,
) -> EndpointsSyncPlan:
    """The request one ``syncService`` issues, without the stale-cache check (§1.2).

    * no Service: ``delete`` of the Endpoints ``namespace/name`` (issued even if it does not
      exist; the API's NotFound is ignored upstream);
    * ``ExternalName`` or ``selector is None``: no request (user-written Endpoints are left
      alone);
    * otherwise :func:`endpoints_for` and :func:`endpoints_need_update` decide between
      ``create``, ``update`` and no request.

    The caller computes ``trigger_time`` with a :class:`TriggerTimeTracker` (always, even when
    the sync turns out to be a no-op). ``O(pods · ports + A log A)``.
    """
    if service is None:
        meta = ObjectMeta(name=name, namespace=namespace)
        return EndpointsSyncPlan("delete", existing if existing is not None else Endpoints(metadata=meta))
    if service.spec.type == "ExternalName" or service.spec.selector is None:
        return EndpointsSyncPlan(None)
    desired = endpoints_for(
        service, pods, existing=existing, trigger_time=trigger_time, truncate=truncate, max_capacity=max_capacity
    )
    if not endpoints_need_update(existing, desired, service, truncate=truncate, max_capacity=max_capacity):
        return EndpointsSyncPlan(None)
    create = existing is None or not existing.metadata.resource_version
    return EndpointsSyncPlan("create" if create else "update", desired)


# --------------------------------------------------------------------------------------------
# TriggerTimeTracker (staging/src/k8s.io/endpointslice/util/trigger_time_tracker.go)








