"""The EndpointSlice reconciler ("slice packing"): the reference, full-recompute oracle.

:func:`reconcile_endpoint_slices` takes one Service, all pods its selector matches, the
EndpointSlices the controller lists for it, and returns a :class:`SlicePlan`: the creates,
updates and deletes upstream's reconciler would issue, in upstream's API order, plus the
sync's error, events and metric observations. Like upstream it recomputes the whole desired
state on every call (``O(pods × ports + existing endpoints)``); it does not read or write any
API and never mutates its inputs (all objects are frozen).

It mirrors ``k8s.io/endpointslice`` (``reconciler.go``, ``utils.go``, ``util/endpointset.go``,
``util/controller_utils.go``, ``metrics/cache.go``); the hints stage lives in
:mod:`kubesim.controllers.endpointslice.topology`. The behaviour is specified in
``reference/endpointslice-controller.md`` §1; the deterministic choices kubesim makes where
upstream iterates Go maps are listed in ``docs/fidelity-endpointslice.md`` and repeated at the
code that makes them:

* address types in the order IPv4, IPv6;
* existing slices are processed in name order (the input is sorted by name first, stably);
* port groups are processed in :func:`port_map_key` order;
* endpoints are popped from a desired set in ascending :func:`endpoint_identity` order;
* update-marked slices are topped up largest first, ties by name;
* "closest to full" ties go to the first unchanged slice in name order;
* updates and deletes of a group are listed in name order;
* new slices' ports are sorted by (name, protocol, port, appProtocol).

:class:`SliceMetrics` accumulates upstream's controller metrics across syncs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import attrs

from kubesim.controllers.endpointslice import topology as topo
from kubesim.controllers.endpointutil import (
    find_port,
    format_trigger_time,
    object_key,
    should_pod_be_in_endpoints,
    should_set_hostname,
)
from kubesim.errors import InvalidOption
from kubesim.netutil import IPv4, IPv6, ip_info, parse_ip
from kubesim.objects import (
    Endpoint,
    EndpointConditions,
    EndpointSlice,
    EndpointSlicePort,
    FrozenDict,
    Node,
    ObjectMeta,
    ObjectReference,
    OwnerReference,
    Pod,
    Service,
)

__all__ = [
    "CONTROLLER_NAME",
    "LABEL_SERVICE_NAME",
    "LABEL_MANAGED_BY",
    "LABEL_HEADLESS",
    "ANNOTATION_LAST_CHANGE_TRIGGER_TIME",
    "LABEL_TOPOLOGY_ZONE",
    "ANNOTATION_TOPOLOGY_MODE",
    "ANNOTATION_TOPOLOGY_AWARE_HINTS",
    "MAX_ENDPOINTS_PER_SLICE_DEFAULT",
    "MAX_ENDPOINTS_PER_SLICE_LIMIT",
    "validate_max_endpoints_per_slice",
    "PortMapKey",
    "EndpointIdentity",
    "SyncObservation",
    "SlicePlan",
    "SliceMetrics",
    "reconcile_endpoint_slices",
    "address_types_for_service",
    "should_pod_be_in_endpoints",
    "should_set_hostname",
    "pod_to_endpoint",
    "pod_addresses",
    "endpoint_for_pod",
    "endpoint_ports_for_pod",
    "find_port",
    "port_map_key",
    "endpoint_identity",
    "endpoints_equal_beyond_hash",
    "desired_slice_labels",
    "slice_labels",
    "new_endpoint_slice",
    "owned_by",
    "placeholder_equal",
    "format_trigger_time",
    "with_trigger_time",
]

#: Controller name and ``endpointslice.kubernetes.io/managed-by`` value.
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
#: ``discovery.LabelServiceName``.
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
#: ``discovery.LabelManagedBy``.
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
#: ``v1.IsHeadlessService`` (value ``""``).
LABEL_HEADLESS = "service.kubernetes.io/headless"
#: ``v1.EndpointsLastChangeTriggerTime`` (RFC3339Nano, UTC).
ANNOTATION_LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
LABEL_TOPOLOGY_ZONE = topo.LABEL_TOPOLOGY_ZONE
ANNOTATION_TOPOLOGY_MODE = topo.ANNOTATION_TOPOLOGY_MODE
ANNOTATION_TOPOLOGY_AWARE_HINTS = topo.ANNOTATION_TOPOLOGY_AWARE_HINTS
#: ``--max-endpoints-per-slice`` default and upper bound.
MAX_ENDPOINTS_PER_SLICE_DEFAULT = 100
MAX_ENDPOINTS_PER_SLICE_LIMIT = 1000

_RESERVED_LABELS = (LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS)


def validate_max_endpoints_per_slice(value: object) -> int:
    """``value`` if it is a valid ``--max-endpoints-per-slice`` (an int in 1…1000), else
    :class:`~kubesim.errors.InvalidOption`. ``O(1)``."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ENDPOINTS_PER_SLICE_LIMIT:
        raise InvalidOption(f"max-endpoints-per-slice must be between 1 and {MAX_ENDPOINTS_PER_SLICE_LIMIT}, got {value!r}")
    return value


#: Order-insensitive key of a port list (``endpointsliceutil.PortMapKey``): the sorted tuple of
#: per-port tuples, each optional field encoded as ``()`` (absent) or ``(value,)``.
PortMapKey = tuple[tuple[tuple[object, ...], ...], ...]
#: Endpoint hash key: (sorted addresses, hostname or "", targetRef namespace, targetRef name).
EndpointIdentity = tuple[tuple[str, ...], str, str, str]


# --------------------------------------------------------------------------------------------
# small helpers (utils.go, util/controller_utils.go)




def address_types_for_service(service: Service) -> tuple[str, ...]:
    """``getAddressTypesForService``: the address types the Service's slices use.

    Upstream returns a set; kubesim orders it ``IPv4`` before ``IPv6`` (the order in which
    address types are reconciled). ``O(len(ipFamilies))``.

    >>> from kubesim.objects import ServiceSpec
    >>> address_types_for_service(Service(spec=ServiceSpec(ip_families=("IPv6", "IPv4"))))
    ('IPv4', 'IPv6')
    >>> address_types_for_service(Service(spec=ServiceSpec(cluster_ip="2000::1")))
    ('IPv6',)
    """
    families = set()
    for fam in service.spec.ip_families:
        if fam == IPv4:
            families.add(IPv4)
        elif fam == IPv6:
            families.add(IPv6)
    if not families:
        cip = service.spec.cluster_ip
        if cip and cip != "None":
            addr = parse_ip(cip)
            families.add(IPv6 if addr is not None and addr.version == 6 else IPv4)
        else:
            families.update((IPv4, IPv6))
    return tuple(t for t in (IPv4, IPv6) if t in families)






def pod_to_endpoint(
    pod: Pod, service: Service, node: Node | None, address_type: str
) -> Endpoint | None:
    """``podToEndpoint`` for one address type, or ``None`` if the pod has no IP of that family.

    Addresses come from ``status.podIPs`` only, parsed leniently and printed canonically
    (IPv4-mapped IPv6 counts as IPv4); strings that are not IPs are skipped (the API server
    never admits them). ``O(len(podIPs))``.
    """
    addresses = pod_addresses(pod, address_type)
    if not addresses:
        return None
    return endpoint_for_pod(pod, service, node, addresses)


def pod_addresses(pod: Pod, address_type: str) -> tuple[str, ...]:
    """The canonical addresses of ``address_type`` among the pod's ``status.podIPs``, in
    order (the first half of :func:`pod_to_endpoint`; it reads ``status.podIPs`` only).
    ``O(len(podIPs))``."""
    addresses = []
    for pip in pod.status.pod_ips:
        fam, text = ip_info(pip.ip)  # parse_ip's family and str, memoised; None: not an IP
        if fam == address_type and text is not None:
            addresses.append(text)
    return tuple(addresses)


# EndpointConditions by (ready, serving, terminating) when all three are bools: frozen values,
# so one shared object per combination is the same value as a fresh one.
_CONDITIONS = {
    (r, s, t): EndpointConditions(ready=r, serving=s, terminating=t)
    for r in (False, True)
    for s in (False, True)
    for t in (False, True)
}


def endpoint_for_pod(
    pod: Pod, service: Service, node: Node | None, addresses: tuple[str, ...]
) -> Endpoint:
    """The :class:`~kubesim.objects.Endpoint` :func:`pod_to_endpoint` builds for ``pod`` with
    ``addresses`` (non-empty, from :func:`pod_addresses`). ``O(1)``."""
    serving = pod.status.ready
    terminating = pod.metadata.deletion_timestamp is not None
    ready = service.spec.publish_not_ready_addresses or (serving and not terminating)
    conditions = (
        _CONDITIONS[(ready, serving, terminating)]
        if type(ready) is bool and type(serving) is bool
        else EndpointConditions(ready=ready, serving=serving, terminating=terminating)
    )
    zone = node.metadata.labels.get(LABEL_TOPOLOGY_ZONE, "") if node is not None else ""
    meta = pod.metadata
    return Endpoint(
        addresses=addresses,
        conditions=conditions,
        hostname=pod.spec.hostname if should_set_hostname(pod, service) else None,
        target_ref=ObjectReference(
            kind="Pod",
            namespace=meta.namespace,
            name=meta.name,
            uid=meta.uid,
        ),
        node_name=pod.spec.node_name or None,
        zone=zone or None,
    )


def _port_sort_key(p: EndpointSlicePort) -> tuple[tuple[object, ...], ...]:
    def opt(v: object) -> tuple[object, ...]:
        return () if v is None else (v,)

    return (opt(p.name), opt(p.protocol), opt(p.port), opt(p.app_protocol))


def endpoint_ports_for_pod(service: Service, pod: Pod) -> tuple[EndpointSlicePort, ...]:
    """``getEndpointPorts``: the pod's endpoint ports, sorted by (name, protocol, port,
    appProtocol) — the port list used for a new slice of the pod's group.

    A headless Service without ports gives ``()``; a Service port whose target cannot be
    resolved for this pod is skipped. A numeric ``target_port`` of ``0`` (unset) means
    ``port``, as the API server defaults it. ``O(service ports × container ports)``.
    """
    if not service.spec.ports and service.spec.cluster_ip == "None":
        return ()
    out = []
    for sp in service.spec.ports:
        target = sp.target_port
        if isinstance(target, int) and target == 0:
            target = sp.port
        num = find_port(pod, target, sp.protocol)
        if num is None:
            continue
        out.append(
            EndpointSlicePort(
                name=sp.name, protocol=sp.protocol, port=num, app_protocol=sp.app_protocol
            )
        )
    return tuple(sorted(out, key=_port_sort_key))


def port_map_key(ports: Iterable[EndpointSlicePort] | None) -> PortMapKey:
    """``NewPortMapKey``: an order-insensitive, hashable, sortable key; ``None`` and ``()``
    give the same key. ``O(p log p)``."""
    return tuple(sorted(_port_sort_key(p) for p in (ports or ())))


def endpoint_identity(ep: Endpoint) -> EndpointIdentity:
    """The endpoint-set hash key: (sorted addresses, hostname or ``""``, targetRef namespace,
    targetRef name). ``O(a log a)`` for ``a`` addresses; a one-address tuple is its own
    sorted tuple."""
    ref = ep.target_ref
    addresses = ep.addresses
    return (
        addresses if len(addresses) == 1 and type(addresses) is tuple else tuple(sorted(addresses)),
        ep.hostname or "",
        ref.namespace if ref is not None else "",
        ref.name if ref is not None else "",
    )


def endpoints_equal_beyond_hash(a: Endpoint, b: Endpoint) -> bool:
    """``EndpointsEqualBeyondHash``: nodeName, zone, the three conditions (absent differs from
    present) and targetRef ignoring resourceVersion are equal. Hints are not compared.
    ``O(1)``; the same endpoint, or equal target refs (then equal ignoring the resourceVersion
    too), answer without building the two refs without their resourceVersion."""
    if a is b:
        return True
    if a.node_name != b.node_name or a.zone != b.zone:
        return False
    if a.conditions != b.conditions:
        return False
    ra, rb = a.target_ref, b.target_ref
    if ra is rb:
        return True
    if ra is None or rb is None:
        return False
    return ra == rb or attrs.evolve(ra, resource_version="") == attrs.evolve(rb, resource_version="")


def desired_slice_labels(service: Service) -> FrozenDict:
    """The labels a slice of ``service`` must carry (``setEndpointSliceLabels``): the
    Service's labels minus the reserved keys, the headless label if the Service has no
    cluster IP, and service-name/managed-by. Keys sorted. ``O(labels)``."""
    labels = {k: v for k, v in service.metadata.labels.items() if k not in _RESERVED_LABELS}
    if service.spec.cluster_ip in ("", "None"):
        labels[LABEL_HEADLESS] = ""
    labels[LABEL_SERVICE_NAME] = service.metadata.name
    labels[LABEL_MANAGED_BY] = CONTROLLER_NAME
    return FrozenDict(dict(sorted(labels.items())))


def slice_labels(slice_: EndpointSlice, service: Service) -> tuple[FrozenDict, bool]:
    """``setEndpointSliceLabels``: ``(desired labels, changed)`` where ``changed`` compares only
    the non-reserved labels of the slice and of the Service. ``O(labels)``."""
    ep = {k: v for k, v in slice_.metadata.labels.items() if k not in _RESERVED_LABELS}
    sv = {k: v for k, v in service.metadata.labels.items() if k not in _RESERVED_LABELS}
    return desired_slice_labels(service), ep != sv


def new_endpoint_slice(
    service: Service, ports: Iterable[EndpointSlicePort], address_type: str
) -> EndpointSlice:
    """``newEndpointSlice``: an empty slice with ``generateName`` ``"<service>-"``, the
    Service's namespace, a controller ownerReference and the desired labels; ports sorted by
    (name, protocol, port, appProtocol). ``O(ports + labels)``."""
    return EndpointSlice(
        metadata=ObjectMeta(
            generate_name=f"{service.metadata.name}-",
            namespace=service.metadata.namespace,
            labels=desired_slice_labels(service),
            owner_references=(
                OwnerReference.controller_ref(service),
            ),
        ),
        address_type=address_type,
        ports=tuple(sorted(ports, key=_port_sort_key)),
        endpoints=(),
    )


def owned_by(slice_: EndpointSlice, service: Service) -> bool:
    """``ownedBy``: some ownerReference has the Service's uid, kind ``Service`` and apiVersion
    ``v1`` (the controller flag is not required). ``O(ownerReferences)``; a loop, not
    ``any()`` over a generator (asked of every slice a sync reads or writes)."""
    uid = service.metadata.uid
    for o in slice_.metadata.owner_references:
        if o.uid == uid and o.kind == "Service" and o.api_version == "v1":
            return True
    return False


def placeholder_equal(a: EndpointSlice | None, b: EndpointSlice | None) -> bool:
    """``placeholderSliceCompare.DeepEqual``: namespace, labels (a missing key counts as
    ``""``, as a Go map lookup does) and addressType, ports and endpoints. Name, annotations,
    ownerReferences, timestamps, generation and resourceVersion are ignored. ``O(size)``."""
    if a is None or b is None:
        return a is None and b is None
    if a.metadata.namespace != b.metadata.namespace:
        return False
    la, lb = a.metadata.labels, b.metadata.labels
    if any(lb.get(k, "") != v for k, v in la.items()):
        return False
    if any(la.get(k, "") != v for k, v in lb.items()):
        return False
    return a.address_type == b.address_type and a.ports == b.ports and a.endpoints == b.endpoints






def with_trigger_time(slice_: EndpointSlice, trigger_time: float | None) -> EndpointSlice:
    """``addTriggerTimeAnnotation``: set the trigger-time annotation, or remove it when
    ``trigger_time`` is ``None`` (Go's zero time). ``O(annotations)``."""
    ann = slice_.metadata.annotations
    if trigger_time is None:
        if ANNOTATION_LAST_CHANGE_TRIGGER_TIME not in ann:
            return slice_
        new = ann.without(ANNOTATION_LAST_CHANGE_TRIGGER_TIME)
    else:
        new = ann.set(ANNOTATION_LAST_CHANGE_TRIGGER_TIME, format_trigger_time(trigger_time))
    return attrs.evolve(slice_, metadata=attrs.evolve(slice_.metadata, annotations=new))


# --------------------------------------------------------------------------------------------
# the plan


@attrs.frozen
class SyncObservation:
    """What one address type of one sync reports to the metrics.

    ``port_cache`` is this address type's metrics-cache entry, ``(port key, endpoints,
    slices)`` per group, sorted by key; the sync stores it as *the* entry of the Service (the
    last address type wins). ``traffic_distribution`` is the value recorded for
    ``services_count_by_traffic_distribution`` (``None``: the Service is removed from it).
    """

    address_type: str
    endpoints_added: int
    endpoints_removed: int
    slices_changed: int
    topology_label: str
    traffic_distribution_label: str
    traffic_distribution: str | None
    port_cache: tuple[tuple[PortMapKey, int, int], ...]


@attrs.frozen
class SlicePlan:
    """The writes one sync issues, in upstream API order, with its error, events and metric
    observations.

    * ``creates``: new slices (``generate_name`` set, no name), trigger-time annotated.
    * ``updates``: full objects to write. Copies of existing slices keep their
      resourceVersion; a create recycled into an update of a to-be-deleted slice carries that
      slice's name and no resourceVersion.
    * ``deletes``: the existing slice objects to delete.
    * ``operations``: every call as ``(verb, slice)`` in API order — per address type
      (IPv4, IPv6) creates, then updates, then deletes; deletes of unsupported address types
      last. ``creates``/``updates``/``deletes`` are the same calls grouped by verb.
    * ``error``: the aggregated sync error (missing nodes), or ``None``.
    * ``events``: ``(type, reason, message)`` recorded on the Service.
    * ``observations``: one :class:`SyncObservation` per address type reconciled.
    * ``suppressed_creates``: creates not issued because the Service is being deleted.
    """

    creates: tuple[EndpointSlice, ...] = ()
    updates: tuple[EndpointSlice, ...] = ()
    deletes: tuple[EndpointSlice, ...] = ()
    operations: tuple[tuple[str, EndpointSlice], ...] = ()
    error: str | None = None
    events: tuple[tuple[str, str, str], ...] = ()
    observations: tuple[SyncObservation, ...] = ()
    suppressed_creates: int = 0

    @property
    def empty(self) -> bool:
        """No API call planned."""
        return not self.operations

    def __len__(self) -> int:
        return len(self.operations)


# --------------------------------------------------------------------------------------------
# metrics (metrics/cache.go, metrics/metrics.go)


@attrs.define(eq=False)
class SliceMetrics:
    """Upstream's ``endpoint_slice_controller`` metrics, accumulated across syncs.

    Gauges (from a per-Service cache whose entry each address type's sync *replaces*):
    :attr:`desired_endpoint_slices`, :attr:`num_endpoint_slices`, :attr:`endpoints_desired`,
    :attr:`services_count_by_traffic_distribution`. Counters: :attr:`changes` (``create``,
    ``update``, ``delete``: planned API calls, assumed to succeed). Histograms, as sums and
    counts of observations: :attr:`endpoints_added_per_sync`,
    :attr:`endpoints_removed_per_sync`, :attr:`endpointslices_changed_per_sync` keyed by
    ``(topology, traffic_distribution)``.

    Methods: :meth:`record` (``O(groups)``, called by :func:`reconcile_endpoint_slices` when
    passed as ``metrics=``), :meth:`update_service_port_cache`, :meth:`forget_service`
    (``O(groups)``), :meth:`_check`.
    """

    max_endpoints_per_slice: int = MAX_ENDPOINTS_PER_SLICE_DEFAULT
    desired_endpoint_slices: int = 0
    num_endpoint_slices: int = 0
    endpoints_desired: int = 0
    changes: dict[str, int] = attrs.field(
        factory=lambda: {"create": 0, "update": 0, "delete": 0}
    )
    endpoints_added_per_sync: float = 0
    endpoints_added_per_sync_count: int = 0
    endpoints_removed_per_sync: float = 0
    endpoints_removed_per_sync_count: int = 0
    endpointslices_changed_per_sync: dict[tuple[str, str], float] = attrs.field(factory=dict)
    endpointslices_changed_per_sync_count: dict[tuple[str, str], int] = attrs.field(factory=dict)
    #: service key -> {port key: (endpoints, slices)}.
    cache: dict[str, dict[PortMapKey, tuple[int, int]]] = attrs.field(factory=dict)
    #: traffic-distribution label -> set of service keys (a label, once seen, stays at 0).
    services_by_traffic_distribution: dict[str, set[str]] = attrs.field(factory=dict)

    @property
    def services_count_by_traffic_distribution(self) -> dict[str, int]:
        """``services_count_by_traffic_distribution{traffic_distribution}``, by label."""
        return {k: len(v) for k, v in sorted(self.services_by_traffic_distribution.items())}

    def _totals(self, entry: Mapping[PortMapKey, tuple[int, int]]) -> tuple[int, int, int]:
        actual = desired = endpoints = 0
        max_per_slice = self.max_endpoints_per_slice
        for eps, slices in entry.values():
            endpoints += eps
            actual += slices
            # numDesiredSlices (metrics/cache.go): 0 for no endpoints, else ceil(eps / max)
            if eps:
                desired += 1 if eps <= max_per_slice else int(math.ceil(eps / max_per_slice))
        return actual, max(desired, 1), endpoints

    def update_service_port_cache(
        self, key: str, entry: Mapping[PortMapKey, tuple[int, int]]
    ) -> None:
        """``UpdateServicePortCache``: replace the Service's entry and adjust the gauges.
        ``O(groups)``; an unchanged entry (most syncs) leaves the gauges as they are and is
        kept as it is."""
        pa = pd = pe = 0
        old = self.cache.get(key)
        if old is not None:
            if old == entry:
                return  # (the gauges and the cache stay as they are)
            pa, pd, pe = self._totals(old)
        ca, cd, ce = self._totals(entry)
        self.endpoints_desired += ce - pe
        self.desired_endpoint_slices += cd - pd
        self.num_endpoint_slices += ca - pa
        self.cache[key] = dict(entry)

    def update_traffic_distribution(self, key: str, value: str | None) -> None:
        """``UpdateTrafficDistributionForService``; unknown values count as
        ``ImplementationSpecific``."""
        for members in self.services_by_traffic_distribution.values():
            members.discard(key)
        if value is None:
            return
        if value not in (
            topo.TRAFFIC_DISTRIBUTION_PREFER_CLOSE,
            topo.TRAFFIC_DISTRIBUTION_PREFER_SAME_ZONE,
            topo.TRAFFIC_DISTRIBUTION_PREFER_SAME_NODE,
        ):
            value = "ImplementationSpecific"
        self.services_by_traffic_distribution.setdefault(value, set()).add(key)

    def forget_service(self, namespace: str, name: str) -> None:
        """``DeleteService``: subtract the Service's entry from the gauges and drop it."""
        key = f"{namespace}/{name}"
        for members in self.services_by_traffic_distribution.values():
            members.discard(key)
        if key in self.cache:
            a, d, e = self._totals(self.cache.pop(key))
            self.endpoints_desired -= e
            self.desired_endpoint_slices -= d
            self.num_endpoint_slices -= a

    def record(self, key: str, plan: SlicePlan) -> None:
        """Fold one sync's observations and planned calls into the metrics. ``O(groups)``."""
        by_distribution = self.services_by_traffic_distribution
        for obs in plan.observations:
            self.endpoints_added_per_sync += obs.endpoints_added
            self.endpoints_added_per_sync_count += 1
            self.endpoints_removed_per_sync += obs.endpoints_removed
            self.endpoints_removed_per_sync_count += 1
            self.update_service_port_cache(key, {k: (e, s) for k, e, s in obs.port_cache})
            if by_distribution or obs.traffic_distribution is not None:
                # (else there is no member to discard and none to add)
                self.update_traffic_distribution(key, obs.traffic_distribution)
            labels = (obs.topology_label, obs.traffic_distribution_label)
            self.endpointslices_changed_per_sync[labels] = (
                self.endpointslices_changed_per_sync.get(labels, 0) + obs.slices_changed
            )
            self.endpointslices_changed_per_sync_count[labels] = (
                self.endpointslices_changed_per_sync_count.get(labels, 0) + 1
            )
        for verb, _ in plan.operations:
            self.changes[verb] += 1

    def _check(self) -> None:
        a = d = e = 0
        for entry in self.cache.values():
            ta, td, te = self._totals(entry)
            a, d, e = a + ta, d + td, e + te
        assert (a, d, e) == (
            self.num_endpoint_slices,
            self.desired_endpoint_slices,
            self.endpoints_desired,
        ), "gauges out of step with the cache"


# --------------------------------------------------------------------------------------------
# the reconciler


@attrs.frozen
class _TypeResult:
    creates: tuple[EndpointSlice, ...]
    updates: tuple[EndpointSlice, ...]
    deletes: tuple[EndpointSlice, ...]
    suppressed: int
    errors: tuple[str, ...]
    events: tuple[tuple[str, str, str], ...]
    observation: SyncObservation


def _name(s: EndpointSlice) -> str:
    return s.metadata.name


def _pack_group(
    service: Service,
    slices: Sequence[EndpointSlice],
    desired: Mapping[EndpointIdentity, Endpoint],
    ports: tuple[EndpointSlicePort, ...],
    address_type: str,
    max_per_slice: int,
) -> tuple[list[EndpointSlice], list[EndpointSlice], list[EndpointSlice], int, int]:
    """``reconcileByPortMapping`` for one (address type, port set) group; ``slices`` are the
    owned existing slices of the group in name order. Returns (creates, updates, deletes,
    added, removed)."""
    want = dict(desired)
    by_name: dict[str, EndpointSlice] = {}
    unchanged: list[str] = []  # name order
    drafts: dict[str, tuple[EndpointSlice, list[Endpoint], FrozenDict]] = {}
    delete_names: list[str] = []
    removed = 0

    # Step 1: prune and refresh existing slices.
    for s in slices:
        by_name[_name(s)] = s
        kept: list[Endpoint] = []
        changed = False
        for ep in s.endpoints:
            ident = endpoint_identity(ep)
            got = want.get(ident)
            if got is not None:
                kept.append(got)
                if not endpoints_equal_beyond_hash(got, ep):
                    changed = True
                del want[ident]
        labels, labels_changed = slice_labels(s, service)
        if changed or len(kept) != len(s.endpoints):
            removed += max(0, len(s.endpoints) - len(kept))
            if not kept:
                delete_names.append(_name(s))
            else:
                drafts[_name(s)] = (s, kept, labels)
        elif labels_changed:
            drafts[_name(s)] = (s, list(s.endpoints), labels)
        else:
            unchanged.append(_name(s))

    added = len(want)
    # Deterministic pop order: ascending endpoint identity.
    remaining = [want[k] for k in sorted(want)]
    pos = 0

    # Step 2: top up slices already being updated, fullest first (ties: name).
    if remaining and drafts:
        for name in sorted(drafts, key=lambda n: (-len(drafts[n][1]), n)):
            fill = drafts[name][1]
            while pos < len(remaining) and len(fill) < max_per_slice:
                fill.append(remaining[pos])
                pos += 1

    # Step 3: place the remainder in the unchanged slice closest to full, or in new slices.
    new_slices: list[list[Endpoint]] = []
    eps: list[Endpoint]
    while pos < len(remaining):
        left = len(remaining) - pos
        target: str | None = None
        if left < max_per_slice and unchanged:
            closest = max_per_slice
            for name in unchanged:  # name order: ties go to the first name
                diff = max_per_slice - (left + len(by_name[name].endpoints))
                if 0 <= diff < closest:
                    closest, target = diff, name
                    if diff == 0:
                        break
        if target is None:
            eps = []
            new_slices.append(eps)
        else:
            base = by_name[target]
            eps = list(base.endpoints)
            drafts[target] = (base, eps, base.metadata.labels)
            unchanged.remove(target)
        while pos < len(remaining) and len(eps) < max_per_slice:
            eps.append(remaining[pos])
            pos += 1

    template = new_endpoint_slice(service, ports, address_type)
    creates = [attrs.evolve(template, endpoints=tuple(eps)) for eps in new_slices]
    updates = []
    for name in sorted(drafts):
        base, eps, labels = drafts[name]
        updates.append(
            attrs.evolve(
                base,
                endpoints=tuple(eps),
                metadata=attrs.evolve(base.metadata, labels=labels),
            )
        )
    deletes = [by_name[n] for n in sorted(delete_names)]
    return creates, updates, deletes, added, removed


def _reconcile_address_type(
    service: Service,
    pods: Sequence[Pod],
    existing: Sequence[EndpointSlice],
    node_map: Mapping[str, Node],
    address_type: str,
    max_per_slice: int,
    trigger_time: float | None,
    topology_cache: topo.TopologyCache | None,
    prefer_same: bool,
) -> _TypeResult:
    """``reconcileByAddressType`` + hints stage + ``finalize`` (planning only)."""
    svc_key = object_key(service)
    to_delete: list[EndpointSlice] = []
    owned: dict[PortMapKey, list[EndpointSlice]] = {}
    for s in existing:
        if owned_by(s, service):
            owned.setdefault(port_map_key(s.ports), []).append(s)
        else:
            to_delete.append(s)

    # Desired state, pods in list order; a pod's port group exists even without an endpoint.
    desired: dict[PortMapKey, dict[EndpointIdentity, Endpoint]] = {}
    group_ports: dict[PortMapKey, tuple[EndpointSlicePort, ...]] = {}
    errors: list[str] = []
    pnra = service.spec.publish_not_ready_addresses
    for pod in pods:
        if not should_pod_be_in_endpoints(pod, True):
            continue
        ports = endpoint_ports_for_pod(service, pod)
        key = port_map_key(ports)
        if key not in desired:
            desired[key] = {}
            group_ports[key] = ports
        node = node_map.get(pod.spec.node_name)
        if node is None and not pnra:
            errors.append(
                f"skipping Pod {pod.metadata.name} for Service {svc_key}: "
                f"Node {pod.spec.node_name} Not Found"
            )
            continue
        ep = pod_to_endpoint(pod, service, node, address_type)
        if ep is not None:
            desired[key][endpoint_identity(ep)] = ep

    creates: list[EndpointSlice] = []
    updates: list[EndpointSlice] = []
    port_cache: dict[PortMapKey, tuple[int, int]] = {}
    total_added = total_removed = 0
    for key in sorted(desired):
        group_existing = owned.get(key, [])
        c, u, d, added, removed = _pack_group(
            service, group_existing, desired[key], group_ports[key], address_type, max_per_slice
        )
        total_added += added
        total_removed += removed
        port_cache[key] = (len(desired[key]), len(group_existing) + len(c) - len(d))
        creates += c
        updates += u
        to_delete += d
    for key in sorted(owned):
        if key not in desired:
            to_delete += owned[key]

    # Placeholder rule.
    if len(existing) == len(to_delete) and not creates:
        placeholder = new_endpoint_slice(service, (), address_type)
        if len(to_delete) == 1 and placeholder_equal(to_delete[0], placeholder):
            to_delete = []
        else:
            creates.append(placeholder)
        port_cache[port_map_key(())] = (0, 1)

    # Hints stage.
    changed_names = {_name(s) for s in updates} | {_name(s) for s in to_delete}
    unchanged = [s for s in existing if _name(s) not in changed_names]
    events: list[tuple[str, str, str]] = []
    annotations = service.metadata.annotations
    enabled = topo.hints_enabled(annotations)
    td = service.spec.traffic_distribution
    can_use_td = topo.valid_traffic_distribution(td, prefer_same) and not enabled
    if topology_cache is not None and enabled:
        ratios = topo.zone_cpu_ratios(node_map.values())
        creates, updates, ev = topo.add_hints(
            topology_cache, ratios, svc_key, address_type, creates, updates, unchanged
        )
        events += ev
    else:
        if topology_cache is not None:
            if topology_cache.has_populated_hints(svc_key):
                events.append(
                    (
                        "Warning",
                        "TopologyAwareHintsDisabled",
                        topo.with_address_type(topo.TOPOLOGY_AWARE_HINTS_DISABLED, address_type),
                    )
                )
            topology_cache.remove_hints(svc_key, address_type)
        if not can_use_td:
            creates, updates, _ = topo.remove_hints_from_slices(creates, updates, unchanged)
    if can_use_td:
        changed_names = {_name(s) for s in updates} | {_name(s) for s in to_delete}
        unchanged = [s for s in existing if _name(s) not in changed_names]
        creates, updates, _ = topo.reconcile_traffic_distribution_hints(
            td, creates, updates, unchanged
        )

    # finalize: recycle creates into updates of slices about to be deleted.
    i = 0
    while i < len(to_delete) and creates:
        victim = to_delete[i]
        last = creates[-1]
        if victim.address_type == last.address_type and owned_by(victim, service):
            creates.pop()
            updates.append(
                attrs.evolve(last, metadata=attrs.evolve(last.metadata, name=_name(victim)))
            )
            del to_delete[i]
        else:
            i += 1
    suppressed = 0
    if service.metadata.deletion_timestamp is not None:
        suppressed, creates = len(creates), []
    changed = suppressed + len(creates) + len(updates) + len(to_delete)

    observation = SyncObservation(
        address_type=address_type,
        endpoints_added=total_added,
        endpoints_removed=total_removed,
        slices_changed=changed,
        topology_label="Auto" if topology_cache is not None and enabled else "Disabled",
        traffic_distribution_label=td if can_use_td and td is not None else "",
        traffic_distribution=td if can_use_td else None,
        port_cache=tuple((k, e, s) for k, (e, s) in sorted(port_cache.items())),
    )
    return _TypeResult(
        creates=tuple(with_trigger_time(s, trigger_time) for s in creates),
        updates=tuple(with_trigger_time(s, trigger_time) for s in updates),
        deletes=tuple(to_delete),
        suppressed=suppressed,
        errors=tuple(errors),
        events=tuple(events),
        observation=observation,
    )


def _aggregate(errors: Sequence[str]) -> str | None:
    # utilerrors.NewAggregate(...).Error(): nested aggregates flattened, duplicate messages
    # dropped, a single message bare, several as "[a, b]".
    unique = list(dict.fromkeys(errors))
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0]
    return "[" + ", ".join(unique) + "]"


def reconcile_endpoint_slices(
    service: Service,
    pods: Iterable[Pod],
    existing_slices: Iterable[EndpointSlice],
    *,
    nodes: Mapping[str, Node] | Iterable[Node],
    max_endpoints_per_slice: int = MAX_ENDPOINTS_PER_SLICE_DEFAULT,
    trigger_time: float | None = None,
    topology: bool | topo.TopologyCache = False,
    prefer_same_traffic_distribution: bool = False,
    metrics: SliceMetrics | None = None,
) -> SlicePlan:
    """Plan one EndpointSlice sync of ``service`` (upstream ``Reconciler.Reconcile``).

    * ``pods``: every pod the Service's selector matches, any phase, in list order.
    * ``existing_slices``: the slices the controller lists for the Service (by the
      service-name and managed-by labels, terminating ones dropped); processed in name order.
    * ``nodes``: the node cache, a mapping by name or an iterable of nodes. A pod whose node is
      missing is skipped (and the plan carries an error) unless the Service publishes
      not-ready addresses.
    * ``trigger_time``: Unix seconds for the ``last-change-trigger-time`` annotation on every
      slice written; ``None`` (Go's zero time) removes the annotation.
    * ``topology``: whether a topology cache exists (Topology Aware Hints via the
      ``topology-mode`` annotation). Pass a :class:`~kubesim.controllers.endpointslice.topology.TopologyCache`
      to keep its state (and hence its events) across syncs; ``True`` uses a fresh one.
    * ``prefer_same_traffic_distribution``: accept ``PreferSameZone``/``PreferSameNode``.
    * ``metrics``: a :class:`SliceMetrics` to record this sync into (``changes`` counts the
      planned calls, assuming they succeed).

    Raises :class:`~kubesim.errors.InvalidOption` if ``max_endpoints_per_slice`` is outside
    1…1000. Inputs are not mutated. Cost ``O(pods × ports + existing endpoints + n log n)``
    for ``n`` desired endpoints.
    """
    validate_max_endpoints_per_slice(max_endpoints_per_slice)
    if isinstance(nodes, Mapping):
        node_map: Mapping[str, Node] = nodes
    else:
        node_map = {n.metadata.name: n for n in nodes}
    if isinstance(topology, topo.TopologyCache):
        topology_cache: topo.TopologyCache | None = topology
    else:
        topology_cache = topo.TopologyCache() if topology else None
    pod_list = list(pods)
    slices = sorted(existing_slices, key=_name)

    types = address_types_for_service(service)
    top_level_deletes: list[EndpointSlice] = []
    by_type: dict[str, list[EndpointSlice]] = {}
    for s in slices:
        if s.address_type not in types:
            if topology_cache is not None:
                name = s.metadata.labels.get(LABEL_SERVICE_NAME, "")
                if name:
                    topology_cache.remove_hints(f"{s.metadata.namespace}/{name}", s.address_type)
            top_level_deletes.append(s)
        else:
            by_type.setdefault(s.address_type, []).append(s)

    creates: list[EndpointSlice] = []
    updates: list[EndpointSlice] = []
    deletes: list[EndpointSlice] = []
    operations: list[tuple[str, EndpointSlice]] = []
    errors: list[str] = []
    events: list[tuple[str, str, str]] = []
    observations: list[SyncObservation] = []
    suppressed = 0
    for at in types:
        r = _reconcile_address_type(
            service,
            pod_list,
            by_type.get(at, []),
            node_map,
            at,
            max_endpoints_per_slice,
            trigger_time,
            topology_cache,
            prefer_same_traffic_distribution,
        )
        creates += r.creates
        updates += r.updates
        deletes += r.deletes
        operations += [("create", s) for s in r.creates]
        operations += [("update", s) for s in r.updates]
        operations += [("delete", s) for s in r.deletes]
        errors += r.errors
        events += r.events
        observations.append(r.observation)
        suppressed += r.suppressed
    deletes += top_level_deletes
    operations += [("delete", s) for s in top_level_deletes]

    plan = SlicePlan(
        creates=tuple(creates),
        updates=tuple(updates),
        deletes=tuple(deletes),
        operations=tuple(operations),
        error=_aggregate(errors),
        events=tuple(events),
        observations=tuple(observations),
        suppressed_creates=suppressed,
    )
    if metrics is not None:
        metrics.record(object_key(service), plan)
    return plan
