"""The incremental EndpointSlice reconciler: the fast path of slice packing.

:class:`ServiceSlicer` keeps one Service's desired endpoints and a model of its slices, and
plans each sync from the changes since the last one. Its :meth:`ServiceSlicer.sync` returns
exactly the :class:`~kubesim.controllers.endpointslice.reconciler.SlicePlan` that the reference
:func:`~kubesim.controllers.endpointslice.reconciler.reconcile_endpoint_slices` returns on the same inputs:
the same operations in the same order, the same objects, error, events and observations. A
pod event costs ``O(ports + log S)`` to ingest, and a sync costs
``O(d log d + t × max + g + w)``, where ``d`` is the number of endpoints that changed, ``t``
the slices holding them, ``g`` the port groups and ``w`` the size of the objects written. It
does not grow with the number of pods of the Service.

How it stays exact. The reference (``k8s.io/endpointslice`` ``reconcileByPortMapping``)
treats a slice as *unchanged* when every endpoint in it is desired and equal beyond its
identity to the desired version, no earlier slice already holds it, and the slice's labels
are current. After a plan is applied every slice is clean in that sense. So only slices that
hold an endpoint whose desired version changed since the last sync (a *dirty* identity) can
change. The engine keeps:

* the desired endpoints per (address type, port-map key), keyed by
  :func:`~kubesim.controllers.endpointslice.reconciler.endpoint_identity`, updated from pod deltas, with the
  set of dirty identities since the last sync;
* a model of the slices as last written: identity -> slice name per group, each slice's
  *entries* (see below), the number of slices per address type and the non-owned slices;
* per group, a sorted list of ``(len, name)`` (a plain list kept with :mod:`bisect`: its
  searches and moves are C-level, and a group holds ``pods / max`` slices, so a move's
  ``O(S)`` pointer copy costs less than a ``SortedList``'s Python-level ``O(log S)``).
  "Closest to full with room for all remaining, ties to the first name" is then the first
  name of the greatest length ``<= max - remaining``. It is found in ``O(log S)``, skipping
  the few slices already changed in this sync.

The deterministic choices of ``docs/fidelity-endpointslice.md`` are made the same way:

* endpoints are placed in ascending identity order;
* update-marked slices are topped up by length descending, then name;
* closest-to-full ties go to the first name;
* groups, updates and deletes are taken in key and name order;
* recycling takes the last create for each eligible to-delete slice.

Entries. Each owned slice of the model has an insertion-ordered map identity -> endpoint,
one item per entry of the slice in the slice's order. Its values are the *desired* objects:
the value of an identity that is not dirty is the very object the desired state holds for it,
and every value equals the slice's entry at its position beyond the identity
(``EndpointsEqualBeyondHash``, an equivalence). So the reference's kept list of a slice (the
desired version of each entry it keeps) is the map's values with the dirty identities
patched, and comparing a dirty identity's desired version with the map's value answers the
reference's comparison with the slice's entry. A sync keeps this true: a candidate slice
that stays unchanged gets its patched map at once, a written one the map planned for it
(:meth:`ServiceSlicer._expect`, installed by :meth:`ServiceSlicer.slice_written`), and a slice
read from the store (a rebuild, a write not carrying the planned tuple) marks dirty every
entry that is not the desired object.

Constant factors. A sync with nothing dirty and no touched slice (a pod event that changed
no endpoint) plans in ``O(groups)`` without the walk (:meth:`ServiceSlicer._quiet_plan`).
Without touched slices, step 1 is ``O(dirty)`` in Python: the dirty
identities are grouped by the slice holding them (the index), and a slice holding one that
changed gets a copy of its map (a C-level copy) with those few patched; its planned tuple is
the copy's values. A reported update installs the planned map and updates the index for the
identities it dropped and appended only (:meth:`ServiceSlicer._replace_slice`). So the
``t × max`` term is a map copy and a tuple per written slice, with no hashing of the
identities it keeps. Planned objects are plain constructions with the
trigger-time annotation applied as they are built (``meta_with``, ``_slice_with``,
``_trigger_annotator``: what ``attrs.evolve`` and ``with_trigger_time`` give), the desired
labels are one map per Service object (so a slice written with them is recognised as current
by identity), and a pod's contribution reuses the parts of the previous one whose inputs are
the same objects or values (same spec: the ports; same ``podIPs``: addresses and identities;
nothing it reads changed: the contribution itself).

Sizes. The planner knows which entries each update changes, so it vouches for the new
endpoints tuple's size sums (:func:`kubesim.wire.vouch_slice_endpoints`) in ``O(changed)``:
per slice name it keeps the sums of its entries' values, corrected by the entries that came,
went or were replaced (:meth:`ServiceSlicer._vouch_sums`), and the API server then sizes the
write without a lookup per entry. ``CHECK_HINTS`` and check mode compare each vouched sum
with the wire's own pass over the tuple.

Rebuilds. On the first sync, and after :meth:`ServiceSlicer.resync` (which the controller
calls when someone else changed the Service's slices), the model is rebuilt from the slices
handed in (``O(pods + endpoints)``). Every slice that is not clean is marked touched:

* it holds an endpoint that is not desired or not equal to the desired version;
* it holds an identity another slice holds too (both holders are marked);
* its labels are out of date.

Every desired endpoint that is in no slice is marked dirty, and so is every entry that is not
the desired object (see Entries). A group with touched slices plans step 1 by the reference's
walk over its candidate slices in name order (:meth:`ServiceSlicer._prune`), the rest as
usual. This is the general case of the same algorithm, and the property tests compare it
with the reference as well. A slice that lists one identity twice cannot be modelled by its
entries: that sync goes through the reference (whose writes leave no such slice).

When the fast path is not used. A sync is a full recompute through the reference, followed
by a rebuild of the model at the next sync:

* after a Service change that can alter the plan (ports, selector, labels, annotations,
  ipFamilies, clusterIP, publishNotReadyAddresses, trafficDistribution, uid, deletion);
* while the Service uses hints: Topology Aware Hints with a topology cache, or a valid
  ``trafficDistribution``. kubesim delegates these to the reference, because the hints stage
  looks at every slice;
* while the Service is being deleted, since suppressed creates leave endpoints unplaced;
* when the slices handed in disagree with the model: a write of the last plan was not
  reported through :meth:`ServiceSlicer.slice_written`, the number of slices differs, or a
  slice that the model expects is missing or different. The model is then rebuilt from the
  slices, and if they hold something the model cannot represent (hints, slices of an
  unsupported address type) the sync falls back to the reference.

Contract with the caller (the EndpointSlice controller):

1. Give every pod event of the Service's namespace to :meth:`ServiceSlicer.pod_changed` (or
   the store's pod by name, ``None`` when gone, to :meth:`ServiceSlicer.pod_is`). Pods
   that the selector does not match are ignored, and a pod that stops matching is removed.
   Call :meth:`ServiceSlicer.node_changed` after a Node in the shared ``nodes`` mapping
   changes, and :meth:`ServiceSlicer.service_changed` when the Service changes, passing the
   selected pods if the selector changed.
2. Call :meth:`ServiceSlicer.sync` with the Service's slices (the same list the reference
   would get, keyed by name) and apply the plan's operations in order.
3. Report each successful write with :meth:`ServiceSlicer.slice_written`: the object the API
   returned for a create or update, or the deleted slice. A plan that is only partly reported
   makes the next sync rebuild its model from the slices.
4. Give the pods in name order, as
   :func:`~kubesim.controllers.endpointutil.pods_for_service` does. The error message lists
   pods with missing Nodes in name order; the reference lists them in input order.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat
from typing import Any, NamedTuple

import attrs
from sortedcontainers import SortedSet

from kubesim import wire
from kubesim.controllers.endpointslice import topology as topo
from kubesim.controllers.endpointslice.reconciler import (
    ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
    LABEL_TOPOLOGY_ZONE,
    MAX_ENDPOINTS_PER_SLICE_DEFAULT,
    EndpointIdentity,
    PortMapKey,
    SliceMetrics,
    SlicePlan,
    SyncObservation,
    _aggregate,
    address_types_for_service,
    desired_slice_labels,
    endpoint_for_pod,
    endpoint_identity,
    endpoint_ports_for_pod,
    endpoints_equal_beyond_hash,
    format_trigger_time,
    new_endpoint_slice,
    owned_by,
    placeholder_equal,
    pod_addresses,
    port_map_key,
    reconcile_endpoint_slices,
    should_pod_be_in_endpoints,
    slice_labels,
    validate_max_endpoints_per_slice,
)
from kubesim.controllers.endpointutil import meta_with, object_key
from kubesim.objects import (
    Endpoint,
    EndpointSlice,
    EndpointSlicePort,
    FrozenDict,
    Node,
    ObjectMeta,
    Pod,
    Service,
)

__all__ = ["ServiceSlicer", "SlicerStatistics"]

#: A slice group: (address type, port-map key).
Group = tuple[str, PortMapKey]
#: A modelled slice's entries: identity -> endpoint, in the slice's order (see
#: ServiceSlicer's "Entries" note).
Entries = dict[EndpointIdentity, Endpoint]
#: What a plan remembers of a planned endpoint tuple (see ServiceSlicer._expect): the tuple,
#: the slice's entries once it is written, the entries of the slice it was planned from
#: (``None`` for a create), the identities it drops from them and those it appends (``None``:
#: every identity is to be pointed at the slice in the index).
_Expected = tuple[
    tuple[Endpoint, ...],
    Entries,
    "Entries | None",
    list[EndpointIdentity],
    "list[EndpointIdentity] | None",
]


class _Contribution(NamedTuple):
    # What one included pod adds to the desired state: its port group, that group's ports,
    # one (address type, identity, endpoint) per address type it has an IP of, and whether
    # it was skipped because its Node is missing. A record made at every pod change, so a
    # tuple (built in C) rather than an attrs class.
    key: PortMapKey
    ports: tuple[EndpointSlicePort, ...]
    endpoints: tuple[tuple[str, EndpointIdentity, Endpoint], ...]
    missing_node: bool
    node_name: str


class _Inconsistent(Exception):
    """The slices handed to :meth:`ServiceSlicer.sync` disagree with the model."""


@attrs.frozen
class SlicerStatistics:
    """Counters of one :class:`ServiceSlicer`: syncs by path, model rebuilds, size."""

    incremental_syncs: int
    full_syncs: int
    rebuilds: int
    pods: int
    desired_endpoints: int
    slices: int


def _service_shape(service: Service) -> tuple[object, ...]:
    # Everything of a Service that the reconciler reads (resourceVersion etc. excluded).
    m = service.metadata
    return (m.name, m.namespace, m.uid, m.labels, m.annotations, m.deletion_timestamp, service.spec)


@attrs.define(eq=False)
class ServiceSlicer:
    """The incremental slice planner of one Service (see the module docstring).

    Construct it with the Service, the shared node cache and the reconciler's options, then
    feed it the Service's pods with :meth:`reset_pods` or :meth:`pod_changed`.

    Deltas: :meth:`pod_changed` ``O(ports × containers + address types)`` (``O(1)`` when
    the parts it reads are those of the pod's last version; :meth:`pod_is` the same,
    ``O(address types)`` for a pod gone), :meth:`node_changed` ``O(pods on the node)``,
    :meth:`service_changed` ``O(pods)``, :meth:`reset_pods` ``O(pods)``, :meth:`resync`
    ``O(1)``.

    Planning: :meth:`sync`. It costs ``O(d log d + t × max + g + w)`` on the fast path (see
    the module docstring) and the reference's cost on a full recompute. Then
    :meth:`slice_written` ``O(changed entries)`` per reported update of the plan, ``O(max)`` for
    any other write.

    Introspection: :meth:`statistics`, :meth:`_check`.

    >>> from kubesim.objects import ObjectMeta, ServiceSpec, ServicePort
    >>> svc = Service(metadata=ObjectMeta(name="web", namespace="default", uid="u1"),
    ...               spec=ServiceSpec(selector={"app": "web"}, ip_families=("IPv4",),
    ...                                ports=(ServicePort(port=80),)))
    >>> slicer = ServiceSlicer(svc, nodes={})
    >>> plan = slicer.sync({}, trigger_time=None)
    >>> [(verb, len(s.endpoints)) for verb, s in plan.operations]
    [('create', 0)]
    """

    service: Service
    nodes: Mapping[str, Node] = attrs.field(kw_only=True)
    # Validated in __attrs_post_init__, not by an attrs validator: a validated field makes
    # attrs generate a Python ``__setattr__`` that every assignment to the planner's
    # bookkeeping would go through.
    max_endpoints_per_slice: int = attrs.field(default=MAX_ENDPOINTS_PER_SLICE_DEFAULT, kw_only=True)
    topology: topo.TopologyCache | None = attrs.field(default=None, kw_only=True)
    prefer_same_traffic_distribution: bool = attrs.field(default=False, kw_only=True)

    # desired state
    _types: tuple[str, ...] = attrs.field(init=False, repr=False)
    _pods: dict[str, Pod] = attrs.field(factory=dict, init=False, repr=False)
    _contrib: dict[str, _Contribution] = attrs.field(factory=dict, init=False, repr=False)
    _key_pods: dict[PortMapKey, int] = attrs.field(factory=dict, init=False, repr=False)
    _group_ports: dict[PortMapKey, tuple[EndpointSlicePort, ...]] = attrs.field(
        factory=dict, init=False, repr=False
    )
    _desired: dict[Group, dict[EndpointIdentity, Endpoint]] = attrs.field(
        factory=dict, init=False, repr=False
    )
    # pods skipped for a missing Node (a plain set: sorted when an error lists them, which is
    # rare, so that the usual sync's emptiness test is a C-level one)
    _missing: set[str] = attrs.field(factory=set, init=False, repr=False)
    _by_node: dict[str, set[str]] = attrs.field(factory=dict, init=False, repr=False)
    _dirty: dict[Group, set[EndpointIdentity]] = attrs.field(factory=dict, init=False, repr=False)
    # model of the slices as last written
    _objs: dict[str, EndpointSlice] = attrs.field(factory=dict, init=False, repr=False)
    _slice_group: dict[str, Group | None] = attrs.field(factory=dict, init=False, repr=False)
    _entries: dict[str, Entries] = attrs.field(factory=dict, init=False, repr=False)
    _groups: dict[Group, list[tuple[int, str]]] = attrs.field(factory=dict, init=False, repr=False)
    _index: dict[Group, dict[EndpointIdentity, str]] = attrs.field(
        factory=dict, init=False, repr=False
    )
    _nonowned: dict[str, SortedSet[Any]] = attrs.field(factory=dict, init=False, repr=False)
    _count_by_type: dict[str, int] = attrs.field(factory=dict, init=False, repr=False)
    _touched: set[str] = attrs.field(factory=set, init=False, repr=False)
    #: id(endpoint tuple) -> what the plan knows of it (see _Expected), for the writes of
    #: the last plan.
    _expected: dict[int, _Expected] = attrs.field(factory=dict, init=False, repr=False)
    #: slice name -> (its entries, the packed size sums of their values): the sums a planned
    #: update of the slice corrects by the entries it changes (see _vouch_sums); valid while
    #: the model's entries of the name are that very map.
    _sums: dict[str, tuple[Entries, int]] = attrs.field(factory=dict, init=False, repr=False)
    # control
    _full: bool = attrs.field(default=False, init=False, repr=False)
    _rebuild: bool = attrs.field(default=True, init=False, repr=False)
    _pending: int = attrs.field(default=0, init=False, repr=False)
    _n_incremental: int = attrs.field(default=0, init=False, repr=False)
    _n_full: int = attrs.field(default=0, init=False, repr=False)
    _n_rebuilds: int = attrs.field(default=0, init=False, repr=False)
    # derived from ``service`` by _derive (recomputed when the Service object is replaced)
    _derived_for: Service | None = attrs.field(default=None, init=False, repr=False)
    _labels: FrozenDict = attrs.field(factory=FrozenDict, init=False, repr=False)
    _key: str = attrs.field(default="", init=False, repr=False)
    _selector: tuple[tuple[str, str], ...] | None = attrs.field(default=None, init=False, repr=False)
    _hinted: bool = attrs.field(default=False, init=False, repr=False)
    _needs_ref: bool = attrs.field(default=False, init=False, repr=False)
    # id(containers) -> (containers, init containers, endpoint ports, port-map key) for the
    # current Service: pods of one template share their container tuples
    _ports_memo: dict[int, tuple[Any, Any, tuple[EndpointSlicePort, ...], PortMapKey]] = attrs.field(
        factory=dict, init=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        validate_max_endpoints_per_slice(self.max_endpoints_per_slice)
        self._types = address_types_for_service(self.service)

    # ------------------------------------------------------------------ deltas

    def _derive(self) -> None:
        # What the planner derives from the Service alone, recomputed when it is replaced
        # (an identity check): the desired slice labels (one FrozenDict, so that slices
        # written with them carry the very object and later label checks are O(1)), the
        # Service's key, the selector's items and whether the sync must go through the
        # reference.
        svc = self.service
        if self._derived_for is svc:
            return
        self._derived_for = svc
        self._ports_memo.clear()
        self._labels = desired_slice_labels(svc)
        self._key = object_key(svc)
        sel = svc.spec.selector
        self._selector = None if sel is None else tuple(sel.items())
        enabled = topo.hints_enabled(svc.metadata.annotations)
        td_ok = topo.valid_traffic_distribution(
            svc.spec.traffic_distribution, self.prefer_same_traffic_distribution
        )
        self._hinted = self.topology is not None and enabled
        self._needs_ref = (
            self._hinted or (td_ok and not enabled) or svc.metadata.deletion_timestamp is not None
        )

    def _selected(self, pod: Pod) -> bool:
        # selector_matches(service.spec.selector, pod labels), over the selector's items as
        # derived once per Service.
        if self._derived_for is not self.service:
            self._derive()
        meta = pod.metadata
        if meta.namespace != self.service.metadata.namespace or self._selector is None:
            return False
        labels = meta.labels
        for k, v in self._selector:
            if labels.get(k) != v:
                return False
        return True

    def _contribution(
        self, pod: Pod, prev: Pod | None = None, old: _Contribution | None = None
    ) -> _Contribution | None:
        """What ``pod`` contributes, given its previous version ``prev`` and that version's
        contribution ``old`` (both ``None``: computed from scratch, as ``_check`` does).

        The parts of ``old`` are reused where the inputs they derive from are unchanged, so
        the result equals the one computed from scratch: the ports and port-map key derive
        from the Service (unchanged: a relevant Service change resets every contribution)
        and ``pod.spec`` alone; the addresses and identities from ``status.podIPs``,
        ``spec`` and the pod's namespace and name; an endpoint beyond them from the
        readiness, the deletion mark, the uid and the Node's zone, compared here. When all
        are the same, ``old`` itself is returned. ``O(1)`` then; else ``O(ports × container
        ports + len(podIPs))``.
        """
        if not should_pod_be_in_endpoints(pod, True):
            return None
        svc = self.service
        spec = pod.spec
        reuse = old is not None and prev is not None and prev.spec is spec
        if reuse:
            assert old is not None
            ports, key = old.ports, old.key
        else:
            ports, key = self._ports_of(pod)
        node_name = spec.node_name
        node = self.nodes.get(node_name)
        if node is None and not svc.spec.publish_not_ready_addresses:
            if reuse and old is not None and old.missing_node:
                return old
            return _Contribution(key, ports, (), True, node_name)
        if (
            reuse
            and old is not None
            and prev is not None
            and old.endpoints
            and prev.status.pod_ips is pod.status.pod_ips
            and prev.metadata.namespace == pod.metadata.namespace
        ):
            zone = (node.metadata.labels.get(LABEL_TOPOLOGY_ZONE, "") if node is not None else "") or None
            pm, m = prev.metadata, pod.metadata
            # (the same conditions tuple: the same readiness, without reading it twice)
            ps, cs = prev.status, pod.status
            if (
                (ps.conditions is cs.conditions or ps.ready == cs.ready)
                and (pm.deletion_timestamp is None) == (m.deletion_timestamp is None)
                and pm.uid == m.uid
            ):
                for _, _, ep in old.endpoints:
                    if ep.zone != zone:
                        break
                else:
                    return old  # every endpoint in its zone: nothing it reads changed
            eps = tuple(
                (at, ident, endpoint_for_pod(pod, svc, node, ep.addresses))
                for at, ident, ep in old.endpoints
            )
            return _Contribution(key, ports, eps, False, node_name)
        found = []
        for at in self._types:
            addresses = pod_addresses(pod, at)
            if addresses:
                ep = endpoint_for_pod(pod, svc, node, addresses)
                found.append((at, endpoint_identity(ep), ep))
        return _Contribution(key, ports, tuple(found), False, node_name)

    def _ports_of(self, pod: Pod) -> tuple[tuple[EndpointSlicePort, ...], PortMapKey]:
        # endpoint_ports_for_pod(service, pod) and its port-map key, remembered by the
        # identity of the pod's container tuples, the only part of the pod they read.
        if self._derived_for is not self.service:
            self._derive()
        spec = pod.spec
        containers, inits = spec.containers, spec.init_containers
        memo = self._ports_memo.get(id(containers))
        if memo is not None and memo[0] is containers and memo[1] is inits:
            return memo[2], memo[3]
        ports = endpoint_ports_for_pod(self.service, pod)
        key = port_map_key(ports)
        if len(self._ports_memo) >= 64:
            self._ports_memo.clear()
        self._ports_memo[id(containers)] = (containers, inits, ports, key)
        return ports, key

    def _mark(self, group: Group, ident: EndpointIdentity) -> None:
        d = self._dirty.get(group)
        if d is None:
            self._dirty[group] = {ident}
        else:
            d.add(ident)

    def _apply(self, name: str, c: _Contribution) -> None:
        self._key_pods[c.key] = self._key_pods.get(c.key, 0) + 1
        self._group_ports.setdefault(c.key, c.ports)
        for at, ident, ep in c.endpoints:
            g = (at, c.key)
            self._desired.setdefault(g, {})[ident] = ep
            self._mark(g, ident)
        if c.missing_node:
            self._missing.add(name)
        self._by_node.setdefault(c.node_name, set()).add(name)

    def _unapply(self, name: str, c: _Contribution) -> None:
        n = self._key_pods[c.key] - 1
        if n:
            self._key_pods[c.key] = n
        else:
            del self._key_pods[c.key]
            del self._group_ports[c.key]
        for at, ident, _ in c.endpoints:
            g = (at, c.key)
            d = self._desired[g]
            del d[ident]
            if not d:
                del self._desired[g]
            self._mark(g, ident)
        if c.missing_node:
            self._missing.discard(name)
        on_node = self._by_node[c.node_name]
        on_node.discard(name)
        if not on_node:
            del self._by_node[c.node_name]

    def pod_is(self, name: str, pod: Pod | None, fresh: bool = False) -> None:
        """The pod ``name`` of the Service's namespace is now ``pod`` (``None``: gone), as
        the store holds it: :meth:`pod_changed` ``(None, pod)``, or ``pod_changed(old, None)``
        for a pod ``old`` of that name without one, in one call (the controller's replay of the
        store). ``fresh``: derive the contribution from scratch (a Node changed under the
        pod). Cost: :meth:`pod_changed`'s; ``O(address types)`` for a pod gone."""
        old = self._contrib.get(name)
        if pod is None or not self._selected(pod):
            self._pods.pop(name, None)
            new = None
        else:
            prev = self._pods.get(name)
            if prev is pod and not fresh:
                return  # the very object already ingested: its contribution is ``old``
            self._pods[name] = pod
            new = self._contribution(pod) if fresh else self._contribution(pod, prev, old)
        if new is old or old == new:
            return
        if old is not None:
            del self._contrib[name]
            self._unapply(name, old)
        if new is not None:
            self._contrib[name] = new
            self._apply(name, new)

    def pod_changed(self, old: Pod | None, new: Pod | None) -> None:
        """A pod was added (``old`` is ``None``), updated or deleted (``new`` is ``None``).

        Pods that the Service's selector does not match, or that are in another namespace,
        count as absent. ``O(ports × container ports + address types)``.
        """
        if new is not None:
            if old is not None and old.metadata.name != new.metadata.name:
                self.pod_is(old.metadata.name, None)
            self.pod_is(new.metadata.name, new)
        elif old is not None:
            self.pod_is(old.metadata.name, None)

    def reset_pods(self, pods: Iterable[Pod]) -> None:
        """Replace the pod set with ``pods`` (those not selected are ignored). ``O(pods)``."""
        self._pods.clear()
        self._contrib.clear()
        self._key_pods.clear()
        self._group_ports.clear()
        self._desired.clear()
        self._missing.clear()
        self._by_node.clear()
        self._dirty.clear()
        self._rebuild = True
        for pod in pods:
            self.pod_is(pod.metadata.name, pod)

    def node_changed(self, node_name: str) -> None:
        """The Node ``node_name`` was added, changed or removed in the shared ``nodes``
        mapping: re-derive the endpoints of the pods on it. ``O(pods on the node)``."""
        for name in sorted(self._by_node.get(node_name, ())):
            self.pod_is(name, self._pods[name], fresh=True)

    def service_changed(self, service: Service, pods: Iterable[Pod] | None = None) -> None:
        """The Service changed. When anything the reconciler reads changed, all endpoints are
        re-derived and the next sync is a full recompute. Pass ``pods`` (the pods the new
        selector matches) when the selector changed; without them only the pods already known
        are re-filtered. ``O(pods)``, ``O(1)`` if nothing relevant changed."""
        old = self.service
        self.service = service
        if pods is None and _service_shape(old) == _service_shape(service):
            return
        self._types = address_types_for_service(service)
        self._full = True
        self.reset_pods(list(self._pods.values()) if pods is None else pods)

    def resync(self) -> None:
        """Someone else changed the Service's slices: the next sync rebuilds the model from the
        slices it is given (``O(endpoints)``) before planning. ``O(1)``."""
        self._rebuild = True

    # ------------------------------------------------------------------ slice model

    def _clear_model(self) -> None:
        self._objs.clear()
        self._slice_group.clear()
        self._entries.clear()
        self._groups.clear()
        self._index.clear()
        self._nonowned.clear()
        self._count_by_type.clear()
        self._touched.clear()
        self._expected.clear()
        self._sums.clear()

    def _add_slice(self, s: EndpointSlice, first_wins: bool) -> bool:
        """Model the slice ``s``: its entries are the planned ones when ``s`` carries a tuple
        of the last plan (:meth:`_expect`), else read from ``s``, every entry that is not the
        desired object of its identity marked dirty (so the next sync compares it with its
        desired version, as the reference does). ``False`` (nothing modelled) if ``s`` lists
        an identity twice, which the entries cannot represent. ``O(endpoints of s)``."""
        name = s.metadata.name
        at = s.address_type
        if not owned_by(s, self.service):
            self._objs[name] = s
            self._count_by_type[at] = self._count_by_type.get(at, 0) + 1
            self._slice_group[name] = None
            self._nonowned.setdefault(at, SortedSet()).add(name)
            return True
        g = (at, port_map_key(s.ports))
        known = self._expected.get(id(s.endpoints))
        if known is not None and known[0] is s.endpoints:
            entries = known[1]
        else:
            eps = s.endpoints
            entries = dict(zip(map(endpoint_identity, eps), eps, strict=True))
            if len(entries) != len(eps):
                return False
            desired = self._desired.get(g, {})
            for ident, ep in entries.items():
                if desired.get(ident) is not ep:
                    self._mark(g, ident)
        self._objs[name] = s
        self._count_by_type[at] = self._count_by_type.get(at, 0) + 1
        self._slice_group[name] = g
        self._entries[name] = entries
        sl = self._groups.get(g)
        if sl is None:
            sl = self._groups[g] = []
        insort(sl, (len(entries), name))
        idx = self._index.setdefault(g, {})
        if first_wins:
            for ident in entries:
                idx.setdefault(ident, name)
        else:
            idx.update(zip(entries, repeat(name)))
        return True

    def _forget_slice(self, name: str) -> None:
        self._sums.pop(name, None)
        s = self._objs.pop(name, None)
        if s is None:
            return
        at = s.address_type
        self._count_by_type[at] -= 1
        if not self._count_by_type[at]:
            del self._count_by_type[at]
        g = self._slice_group.pop(name)
        if g is None:
            no = self._nonowned[at]
            no.discard(name)
            if not no:
                del self._nonowned[at]
            return
        entries = self._entries.pop(name)
        sl = self._groups[g]
        _remove(sl, (len(entries), name))
        if not sl:
            del self._groups[g]
        idx = self._index.get(g)
        if idx is not None:
            for ident in entries:
                if idx.get(ident) == name:
                    del idx[ident]
            if not idx:
                del self._index[g]

    def _rebuild_model(self, slices: Mapping[str, EndpointSlice]) -> bool:
        """Rebuild the model from ``slices`` and mark every unclean slice and every unplaced
        desired endpoint; ``False`` if the slices need the reference (hints, unsupported
        address types, an identity listed twice in one slice).
        ``O(endpoints + S log S + desired)``."""
        self._n_rebuilds += 1
        self._clear_model()
        self._dirty.clear()
        types = self._types
        for name in sorted(slices):
            s = slices[name]
            if (
                s.address_type not in types
                or any(ep.hints is not None for ep in s.endpoints)
                or not self._add_slice(s, first_wins=True)
            ):
                self._clear_model()
                self._dirty.clear()
                return False
        svc = self.service
        for name, g in self._slice_group.items():
            if g is None:
                continue
            s = self._objs[name]
            if slice_labels(s, svc)[1]:
                self._touched.add(name)
            desired = self._desired.get(g, {})
            idx = self._index.get(g, {})
            for ident, ep in self._entries[name].items():
                got = desired.get(ident)
                owner = idx.get(ident, name)
                if owner != name:
                    # a duplicate: the first slice in name order keeps it
                    self._touched.add(name)
                    self._touched.add(owner)
                if got is None or not endpoints_equal_beyond_hash(got, ep):
                    self._touched.add(name)
        for g, desired in self._desired.items():
            idx = self._index.get(g, {})
            for ident in desired:
                if ident not in idx:
                    self._mark(g, ident)
        self._rebuild = False
        self._pending = 0
        return True

    def slice_written(self, verb: str, slice_: EndpointSlice) -> None:
        """Report one successful write of the last plan: ``verb`` is ``"create"``,
        ``"update"`` or ``"delete"``; ``slice_`` is the object the API returned (create,
        update) or the slice deleted. ``O(changed entries)`` for an update of the plan's
        that keeps the slice's group (see :meth:`_replace_slice`); else ``O(endpoints of the
        slice)``."""
        if self._pending > 0:
            self._pending -= 1
        if self._rebuild:
            return
        name = slice_.metadata.name
        if verb == "update" and self._replace_slice(name, slice_):
            return
        self._forget_slice(name)
        if verb != "delete" and not self._add_slice(slice_, first_wins=False):
            self._rebuild = True

    def _replace_slice(self, name: str, s: EndpointSlice) -> bool:
        """``_forget_slice(name)`` then ``_add_slice(s, first_wins=False)`` for an owned,
        modelled slice that ``s`` replaces in the same group (address type, port-map key)
        with a tuple the last plan made from this very model of it; ``False`` (nothing done)
        otherwise. The net effect of the pair on the model: the object and its entries
        replaced by the planned ones, its ``(len, name)`` entry moved if the length changed,
        the identities it dropped removed from the index where they point at it and the
        ones it appended pointed at it (the others already point at it: in a group planned
        without touched slices no identity is held twice, and a group planned with them
        points every identity at the slice). ``O(dropped + appended)``."""
        known = self._expected.get(id(s.endpoints))
        old = self._objs.get(name)
        if known is None or known[0] is not s.endpoints or old is None:
            return False
        before = self._entries.get(name)
        g = self._slice_group[name]
        if (
            g is None
            or before is None
            or known[2] is not before
            or s.address_type != old.address_type
            or (s.ports is not old.ports and port_map_key(s.ports) != g[1])
            # (the modelled slice is owned; the same ownerReferences are owned alike: a
            # Service change of uid sends the sync to the reference, which rebuilds the model)
            or (s.metadata.owner_references is not old.metadata.owner_references and not owned_by(s, self.service))
        ):
            return False
        entries = known[1]
        self._objs[name] = s
        self._entries[name] = entries
        if len(before) != len(entries):
            sl = self._groups[g]
            _remove(sl, (len(before), name))
            insort(sl, (len(entries), name))
        idx = self._index.setdefault(g, {})
        for ident in known[3]:
            if idx.get(ident) == name:
                del idx[ident]
        added = known[4]
        if added is None:
            idx.update(zip(entries, repeat(name)))
        else:
            for ident in added:
                idx[ident] = name
        return True

    # ------------------------------------------------------------------ sync

    def sync(
        self,
        existing_slices_by_name: Mapping[str, EndpointSlice],
        *,
        trigger_time: float | None,
        metrics: SliceMetrics | None = None,
    ) -> SlicePlan:
        """Plan one sync, the same :class:`SlicePlan` as
        :func:`~kubesim.controllers.endpointslice.reconciler.reconcile_endpoint_slices` on the Service, its
        pods (in name order), ``existing_slices_by_name.values()``, the nodes, the trigger
        time and the topology cache. ``metrics`` records the sync as the reference does.

        ``existing_slices_by_name`` maps a slice name to each slice the controller lists
        for the Service. The fast path reads only the entries it needs. The inputs are not
        mutated.

        Cost ``O(d log d + t × max + g + w)`` on the fast path (see the module docstring);
        ``O(pods + endpoints)`` for a full recompute or a model rebuild.
        """
        slices = existing_slices_by_name
        if self._pending:
            self._rebuild = True  # some write of the last plan was not reported
        plan: SlicePlan | None = None
        self._derive()
        if not self._full and not self._needs_ref:
            ok = True
            if self._rebuild or len(slices) != len(self._objs):
                ok = self._rebuild_model(slices)
            if ok:
                try:
                    plan = self._incremental(slices, trigger_time)
                    self._n_incremental += 1
                except _Inconsistent:
                    plan = None
        if plan is None:
            pods = [self._pods[n] for n in sorted(self._pods)]
            plan = reconcile_endpoint_slices(
                self.service,
                pods,
                slices.values(),
                nodes=self.nodes,
                max_endpoints_per_slice=self.max_endpoints_per_slice,
                trigger_time=trigger_time,
                topology=self.topology if self.topology is not None else False,
                prefer_same_traffic_distribution=self.prefer_same_traffic_distribution,
            )
            self._n_full += 1
            self._full = False
            self._rebuild = True
            self._clear_model()
        self._dirty.clear()
        self._touched.clear()
        self._pending = len(plan.operations)
        if metrics is not None:
            metrics.record(self._key, plan)  # == object_key(self.service): derived above
        return plan

    def _expect(
        self,
        endpoints: Iterable[Endpoint],
        entries: Entries,
        before: Entries | None,
        dropped: list[EndpointIdentity],
        added: list[EndpointIdentity] | None,
    ) -> tuple[Endpoint, ...]:
        # The planned endpoint tuple, remembered with what the model becomes when it is
        # written (see _Expected), so that slice_written installs ``entries`` instead of
        # reading the written object.
        eps = tuple(endpoints)
        self._expected[id(eps)] = (eps, entries, before, dropped, added)
        return eps

    def _get(self, slices: Mapping[str, EndpointSlice], name: str) -> EndpointSlice:
        s = slices.get(name)
        model = self._objs.get(name)
        if s is None or model is None or (s is not model and s != model):
            raise _Inconsistent(name)
        return s

    def _incremental(
        self, slices: Mapping[str, EndpointSlice], trigger_time: float | None
    ) -> SlicePlan:
        self._expected.clear()
        if not self._dirty and not self._touched:
            quiet = self._quiet_plan()
            if quiet is not None:
                return quiet
        annotate = _trigger_annotator(trigger_time)
        creates: list[EndpointSlice] = []
        updates: list[EndpointSlice] = []
        deletes: list[EndpointSlice] = []
        operations: list[tuple[str, EndpointSlice]] = []
        observations: list[SyncObservation] = []
        events: list[tuple[str, str, str]] = []
        suppressed = 0
        # touched slices by group
        touched_by_group: dict[Group, list[str]] = {}
        for name in self._touched:
            g = self._slice_group.get(name)
            if g is not None:
                touched_by_group.setdefault(g, []).append(name)
        desired_keys = sorted(self._key_pods) if len(self._key_pods) > 1 else list(self._key_pods)
        for at in self._types:
            c, u, d, obs, sup = self._incremental_type(
                at, slices, desired_keys, touched_by_group, annotate
            )
            if c:
                creates += c
                operations += zip(repeat("create"), c)
            if u:
                updates += u
                operations += zip(repeat("update"), u)
            if d:
                deletes += d
                operations += zip(repeat("delete"), d)
            observations.append(obs)
            suppressed += sup
        # The hints stage's topology-cache calls, per address type in order, once nothing
        # can fall back to the reference any more.
        topology = self.topology
        svc_key = self._key  # object_key(svc), derived by sync
        if topology is not None and topology.holds(svc_key):
            # (a Service the cache holds nothing of: both calls would leave it as it is)
            for at in self._types:
                if topology.has_populated_hints(svc_key):
                    events.append(
                        (
                            "Warning",
                            "TopologyAwareHintsDisabled",
                            topo.with_address_type(topo.TOPOLOGY_AWARE_HINTS_DISABLED, at),
                        )
                    )
                topology.remove_hints(svc_key, at)
        errors = [
            f"skipping Pod {name} for Service {svc_key}: "
            f"Node {self._pods[name].spec.node_name} Not Found"
            for name in sorted(self._missing)
        ] if self._missing else None
        return SlicePlan(
            creates=tuple(creates),
            updates=tuple(updates),
            deletes=tuple(deletes),
            operations=tuple(operations),
            error=_aggregate(errors) if errors else None,
            events=tuple(events),
            observations=tuple(observations),
            suppressed_creates=suppressed,
        )

    def _quiet_plan(self) -> SlicePlan | None:
        """The plan of a sync with no dirty identity and no touched slice, in the usual shape
        (one address type, no non-owned slice, no pod on a missing Node, every group desired
        and holding a slice, nothing in the topology cache), or ``None`` for another shape.

        It is what :meth:`_incremental_type` and :meth:`_incremental` give then, without
        their walk: no group has anything to pack, none is stale, the placeholder rule does
        not apply (the type has slices), nothing is recycled, and the hints stage has nothing
        to clear; so no call, no error, no event, and one observation of nothing added,
        removed or changed, with the metrics-cache entry (:func:`_cache_entry`) of
        ``(desired endpoints, slices)`` per group. No slice is read, so none is checked against the
        model (the general path reads none either in this case). ``O(groups)``."""
        types = self._types
        if len(types) != 1 or self._nonowned or self._missing:
            return None
        at = types[0]
        key_pods, groups, desired = self._key_pods, self._groups, self._desired
        if len(groups) != len(key_pods) or not self._count_by_type.get(at):
            return None
        topology = self.topology
        if topology is not None and topology.holds(self._key):
            return None
        port_cache: dict[PortMapKey, tuple[int, int]] = {}
        for key in key_pods:
            g = (at, key)
            group_slices = groups.get(g)
            if group_slices is None:
                return None  # a desired group without slices: left to the general path
            port_cache[key] = (len(desired.get(g, ())), len(group_slices))
        observation = SyncObservation(
            address_type=at,
            endpoints_added=0,
            endpoints_removed=0,
            slices_changed=0,
            topology_label="Auto" if self._hinted else "Disabled",
            traffic_distribution_label="",
            traffic_distribution=None,
            port_cache=_cache_entry(port_cache),
        )
        return SlicePlan(observations=(observation,))

    def _incremental_type(
        self,
        at: str,
        slices: Mapping[str, EndpointSlice],
        desired_keys: list[PortMapKey],
        touched_by_group: Mapping[Group, list[str]],
        annotate: Callable[[FrozenDict], FrozenDict],
    ) -> tuple[
        list[EndpointSlice], list[EndpointSlice], list[EndpointSlice], SyncObservation, int
    ]:
        # reconcileByAddressType (reference: slicing._reconcile_address_type), touching only
        # the groups with dirty identities or touched slices. Creates and updates are built
        # with the trigger-time annotation (``annotate``) already applied, which is what
        # the reference's with_trigger_time at the end gives: it changes only annotations.
        svc = self.service
        nonowned = self._nonowned.get(at)
        to_delete = [self._get(slices, n) for n in nonowned] if nonowned else []
        creates: list[EndpointSlice] = []
        updates: list[EndpointSlice] = []
        port_cache: dict[PortMapKey, tuple[int, int]] = {}
        total_added = total_removed = 0
        groups = self._groups
        present = 0  # desired groups of this address type that have slices
        for key in desired_keys:
            g = (at, key)
            group_slices = groups.get(g)
            if group_slices is not None:
                n_slices = len(group_slices)
                present += 1
            else:
                n_slices = 0
            dirty = self._dirty.get(g)
            touched = touched_by_group.get(g)
            if dirty or touched:
                c, u, d, added, removed = self._pack(
                    g, slices, dirty or set(), touched or [], self._group_ports[key], annotate
                )
                total_added += added
                total_removed += removed
                creates += c
                updates += u
                to_delete += d
                n_slices += len(c) - len(d)
            port_cache[key] = (len(self._desired.get(g, ())), n_slices)
        # Groups of this type no longer desired. When every group is a desired one of this
        # type (the usual case: one address type, no port change), there is none to look for.
        # (desired_keys are the keys of _key_pods.)
        if len(groups) != present:
            key_pods = self._key_pods
            stale = [g for g in groups if g[0] == at and g[1] not in key_pods]
            for g in sorted(stale):
                to_delete += [self._get(slices, n) for _, n in sorted(groups[g], key=_second)]

        # Placeholder rule.
        if self._count_by_type.get(at, 0) == len(to_delete) and not creates:
            placeholder = new_endpoint_slice(svc, (), at)
            if len(to_delete) == 1 and placeholder_equal(to_delete[0], placeholder):
                to_delete = []
            else:
                pm = placeholder.metadata
                creates.append(
                    _slice_with(placeholder, meta_with(pm, pm.name, self._labels, annotate(pm.annotations)), ())
                )
            port_cache[port_map_key(())] = (0, 1)

        # Hints stage, the branch without hints (the others go through the reference). It
        # would clear hints on every create and update and move unchanged slices with hints
        # to the updates; none of them has any: the model holds no slice with a hint (a
        # rebuild meeting one falls back to the reference), and planned endpoints come from
        # the model's slices or from pod_to_endpoint. So it would return its inputs, and
        # is not called. The topology cache is told after every address type is planned
        # (see _incremental).

        # finalize: recycle creates into updates of slices about to be deleted.
        i = 0
        while i < len(to_delete) and creates:
            victim = to_delete[i]
            if victim.address_type == at and owned_by(victim, svc):
                last = creates.pop()
                lm = last.metadata
                updates.append(
                    _slice_with(last, meta_with(lm, victim.metadata.name, lm.labels, lm.annotations), last.endpoints)
                )
                del to_delete[i]
            else:
                i += 1
        suppressed = 0  # a Service being deleted goes through the reference
        observation = SyncObservation(
            address_type=at,
            endpoints_added=total_added,
            endpoints_removed=total_removed,
            slices_changed=len(creates) + len(updates) + len(to_delete),
            topology_label="Auto" if self._hinted else "Disabled",
            traffic_distribution_label="",
            traffic_distribution=None,
            port_cache=_cache_entry(port_cache),
        )
        return creates, updates, to_delete, observation, suppressed

    @staticmethod
    def _prune(
        idents: Iterable[EndpointIdentity],
        endpoints: tuple[Endpoint, ...],
        desired: Mapping[EndpointIdentity, Endpoint],
        dirty: set[EndpointIdentity],
        claimed: set[EndpointIdentity],
        check_all: bool,
    ) -> tuple[list[Endpoint], list[EndpointIdentity], bool]:
        """Step 1 of ``reconcileByPortMapping`` for one slice (identities ``idents`` of its
        ``endpoints``), entry by entry as the reference walks it: the endpoints it keeps —
        every entry whose identity is desired and not kept by an earlier slice (``claimed``,
        to which the kept identities are added), as its desired version — their identities,
        and whether a kept entry differs from its desired version beyond the identity
        (checked for every entry if ``check_all``, else only for the ``dirty`` ones: the
        others equal their desired version, which has not changed since the last sync).
        ``O(len(idents))``; used for the groups that hold a touched slice (see :meth:`_pack`).
        """
        kept: list[Endpoint] = []
        kept_ids: list[EndpointIdentity] = []
        changed = False
        for ident, ep in zip(idents, endpoints, strict=True):
            want = desired.get(ident)
            if want is None or ident in claimed:
                continue
            kept.append(want)
            kept_ids.append(ident)
            claimed.add(ident)
            if (check_all or ident in dirty) and not endpoints_equal_beyond_hash(want, ep):
                changed = True
        return kept, kept_ids, changed

    def _pack(
        self,
        g: Group,
        slices: Mapping[str, EndpointSlice],
        dirty: set[EndpointIdentity],
        touched: list[str],
        ports: tuple[EndpointSlicePort, ...],
        annotate: Callable[[FrozenDict], FrozenDict],
    ) -> tuple[list[EndpointSlice], list[EndpointSlice], list[EndpointSlice], int, int]:
        """``reconcileByPortMapping`` restricted to the slices that can change (reference:
        ``slicing._pack_group``): the group's creates, updates and deletes, and the numbers
        of endpoints added and removed. Every other slice of the group is clean, hence
        unchanged.

        Step 1 without touched slices (the usual case) works on the changed entries only:
        no identity is held by two slices (a rebuild marks both holders touched, and a plan
        never places one twice), so an entry is kept unless its identity is no longer
        desired, and only the dirty identities can be dropped or differ; each is looked up
        in its slice's entries by the index, and a slice that changes gets a copy of its
        entries (a C-level copy) with those few patched. Unchanged entries are the desired
        objects (see Entries in the module docstring), so the copy's values are the
        reference's kept list. ``O(dirty + t × max)``, the ``t × max`` a copy and a tuple per written slice.
        With touched slices, the reference's walk over each candidate slice
        (:meth:`_prune`), ``O(t × max)`` in Python.
        """
        svc = self.service
        max_per_slice = self.max_endpoints_per_slice
        desired = self._desired.get(g, {})
        idx = self._index.get(g, {})
        entries = self._entries
        want_labels = self._labels  # == desired_slice_labels(svc)
        # name -> [base, its entries once written, the endpoints to write (None: the
        # entries' values), labels, identities dropped, identities appended (None: all),
        # the identities whose entries may differ from those (None: any)]
        drafts: dict[str, list[Any]] = {}
        sums = self._sums
        delete_names: list[str] = []
        removed = 0
        new_idents: list[EndpointIdentity]
        if not touched:
            # Step 1 on the dirty entries: group them by the slice holding them.
            held: dict[str, list[EndpointIdentity]] = {}
            new_idents = []
            for ident in dirty:
                owner = idx.get(ident)
                if owner is not None:
                    h = held.get(owner)
                    if h is None:
                        held[owner] = [ident]
                    else:
                        h.append(ident)
                elif ident in desired:
                    new_idents.append(ident)  # desired and in no slice
            new_idents.sort()
            for name in sorted(held):
                s = self._get(slices, name)
                d = entries[name]
                nd: Entries | None = None
                dropped: list[EndpointIdentity] = []
                changed = False
                for ident in held[name]:
                    want = desired.get(ident)
                    cur = d[ident]
                    if want is cur:
                        continue
                    if nd is None:
                        nd = d.copy()
                    if want is None:
                        del nd[ident]
                        dropped.append(ident)
                    else:
                        nd[ident] = want
                        # cur equals the slice's entry beyond the identity (module docstring)
                        if not changed and not endpoints_equal_beyond_hash(want, cur):
                            changed = True
                if nd is None:
                    nd = d
                if changed or dropped:
                    removed += len(dropped)
                    if not nd:
                        delete_names.append(name)
                    else:
                        drafts[name] = [s, nd, None, want_labels, dropped, [], held[name]]
                    continue
                if nd is not d:
                    rec = sums.get(name)
                    if rec is not None and rec[0] is d:  # the sums follow the patched map
                        sums[name] = (nd, rec[1] + _delta(d, nd, held[name]))
                entries[name] = nd  # unchanged: its entries are the desired objects again
                # labels carrying the desired map itself are current (O(1)); else compare
                if s.metadata.labels is not want_labels and slice_labels(s, svc)[1]:
                    drafts[name] = [s, nd.copy(), list(s.endpoints), want_labels, [], [], []]
        else:
            full_check = set(touched)
            candidates = set(touched)
            for ident in dirty:
                owner = idx.get(ident)
                if owner is not None:
                    candidates.add(owner)
            claimed: set[EndpointIdentity] = set()
            for name in sorted(candidates):
                s = self._get(slices, name)
                d = entries[name]
                kept, kept_ids, changed = self._prune(d, s.endpoints, desired, dirty, claimed, name in full_check)
                nd = dict(zip(kept_ids, kept, strict=True))
                if changed or len(kept) != len(d):
                    removed += len(d) - len(kept)
                    if not kept:
                        delete_names.append(name)
                    else:
                        drafts[name] = [s, nd, None, want_labels, [i for i in d if i not in nd], None, None]
                    continue
                entries[name] = nd  # unchanged: every entry is kept, as its desired object
                if s.metadata.labels is not want_labels and slice_labels(s, svc)[1]:
                    drafts[name] = [s, nd.copy(), list(s.endpoints), want_labels, [], None, None]
            # Endpoints in no slice: the dirty desired identities not kept above.
            new_idents = sorted(i for i in dirty if i in desired and i not in claimed)
        remaining = [desired[i] for i in new_idents] if new_idents else []  # (no comprehension frame for none)
        added = len(remaining)
        pos = 0

        # Step 2: top up slices already being updated, fullest first (ties: name; ``topped``
        # holds them last first); then step 3: the unchanged slice closest to full, or new
        # slices. One loop, one fill.
        topped = sorted(drafts, key=lambda n: (-len(drafts[n][1]), n), reverse=True) if remaining and drafts else []
        new_slices: list[Entries] = []
        while pos < len(remaining):
            if topped:  # step 2
                _, fill, fill_eps, _, _, appended, _ = drafts[topped.pop()]
            else:  # step 3
                left = len(remaining) - pos
                target: str | None = None
                if left < max_per_slice:
                    excluded = drafts.keys() | set(delete_names)
                    target = _closest(self._groups.get(g), max_per_slice - left, excluded)
                fill_eps = None
                appended = None
                if target is None:
                    fill = {}
                    new_slices.append(fill)
                else:
                    base = self._get(slices, target)
                    fill, fill_eps, appended = entries[target].copy(), list(base.endpoints), []
                    drafts[target] = [base, fill, fill_eps, base.metadata.labels, [], appended, []]
            while pos < len(remaining) and len(fill) < max_per_slice:
                ident, ep = new_idents[pos], remaining[pos]
                fill[ident] = ep
                if fill_eps is not None:
                    fill_eps.append(ep)
                if appended is not None:
                    appended.append(ident)
                pos += 1

        creates = []
        if new_slices:
            template = new_endpoint_slice(svc, ports, g[0])
            tm = template.metadata
            meta = meta_with(tm, tm.name, want_labels, annotate(tm.annotations))
            for fill in new_slices:
                creates.append(_slice_with(template, meta, self._expect(fill.values(), fill, None, [], None)))
        updates = []
        for name in sorted(drafts):
            base, fill, fill_eps, labels, dropped, appended, changed = drafts[name]
            bm = base.metadata
            before = entries[name]
            planned = self._expect(fill.values() if fill_eps is None else fill_eps, fill, before, dropped, appended)
            if changed is not None:
                self._vouch_sums(name, base, before, fill, fill_eps is not None, planned, changed + appended)
            updates.append(_slice_with(base, meta_with(bm, bm.name, labels, annotate(bm.annotations)), planned))
        deletes = [self._get(slices, n) for n in sorted(delete_names)] if delete_names else []
        return creates, updates, deletes, added, removed

    def _vouch_sums(
        self,
        name: str,
        base: EndpointSlice,
        before: Entries,
        fill: Entries,
        listed: bool,
        eps: tuple[Endpoint, ...],
        changed: list[EndpointIdentity],
    ) -> None:
        """Vouch to the wire (:func:`kubesim.wire.vouch_slice_endpoints`) for the packed size
        sums of ``eps``, the endpoints planned for the update of slice ``name`` (``base``, its
        model's entries ``before``; ``fill``, its entries once written; ``changed``, the only
        identities whose entries ``fill`` and ``before`` may differ in), so that sizing the
        write does not walk the slice. The sums are additive and a pure function of each
        entry's value, so correcting a sum by the entries that came and went gives what the
        wire's own pass over the tuple gives.

        Two sums are corrected, each exact on its own terms:

        * the model's (:attr:`_sums`): the sums of ``before``'s values, kept per name, plus
          ``fill``'s entry minus ``before``'s for each changed identity (by identity: an
          unchanged identity has the same object in both maps); recorded for ``fill``;
        * the written tuple's: ``eps`` is ``fill``'s values (an update of changed entries:
          the model's sums, or when the name has none recorded — a slice created or rebuilt
          since — one pass over ``eps``, which the wire would make anyway), or when
          ``listed`` the stored slice's endpoints followed by the appended entries: the
          wire's sums of the stored tuple (:func:`kubesim.wire.slice_endpoint_sums`; none if
          it has forgotten them, and the write is then sized as before) plus theirs.

        Check mode compares every vouched sum with the wire's pass at the stamp, and
        :data:`kubesim.wire.CHECK_HINTS` at the vouch. ``O(changed)`` cached lookups."""
        sums = self._sums
        rec = sums.get(name)
        model = rec[1] + _delta(before, fill, changed) if rec is not None and rec[0] is before else None
        packed: int | None
        if not listed:
            if model is None:
                model = sum(map(_entry_pair, eps))
            packed = model
        else:
            old = wire.slice_endpoint_sums(base.endpoints)
            packed = None if old is None else old + sum(map(_entry_pair, eps[len(base.endpoints) :]))
        if packed is not None:
            wire.vouch_slice_endpoints(eps, packed)
        if model is not None:
            sums[name] = (fill, model)

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> SlicerStatistics:
        """Syncs by path, model rebuilds, pods, desired endpoints and modelled slices.
        ``O(groups)``."""
        return SlicerStatistics(
            incremental_syncs=self._n_incremental,
            full_syncs=self._n_full,
            rebuilds=self._n_rebuilds,
            pods=len(self._pods),
            desired_endpoints=sum(len(d) for d in self._desired.values()),
            slices=len(self._objs),
        )

    def _check(self) -> None:
        """Assert the invariants of the desired state and of the slice model (``O(pods +
        endpoints)``)."""
        desired: dict[Group, dict[EndpointIdentity, Endpoint]] = {}
        key_pods: dict[PortMapKey, int] = {}
        for name, c in self._contrib.items():
            assert name in self._pods, name
            assert c == self._contribution(self._pods[name]), name
            assert c.ports == endpoint_ports_for_pod(self.service, self._pods[name]), name
            assert c.key == port_map_key(c.ports), name
            key_pods[c.key] = key_pods.get(c.key, 0) + 1
            for at, ident, ep in c.endpoints:
                desired.setdefault((at, c.key), {})[ident] = ep
            assert (name in self._missing) == c.missing_node, name
            assert name in self._by_node[c.node_name], name
        assert desired == self._desired
        assert key_pods == self._key_pods
        assert set(self._group_ports) == set(self._key_pods)
        assert all(self._selected(p) for p in self._pods.values())
        if self._rebuild:
            return
        counts: dict[str, int] = {}
        for name, s in self._objs.items():
            assert s.metadata.name == name
            counts[s.address_type] = counts.get(s.address_type, 0) + 1
            g = self._slice_group[name]
            if g is None:
                assert name in self._nonowned[s.address_type], name
                continue
            assert g == (s.address_type, port_map_key(s.ports)), name
            entries = self._entries[name]
            assert tuple(entries) == tuple(endpoint_identity(ep) for ep in s.endpoints), name
            assert (len(entries), name) in self._groups[g], name
            desired_g = self._desired.get(g, {})
            dirty = self._dirty.get(g, set())
            for (ident, ep), stored in zip(entries.items(), s.endpoints, strict=True):
                assert ident in self._index[g], (name, ident)
                # the entries equal the slice's beyond the identity, and are the desired
                # objects unless dirty (or a write of the last plan is still unreported)
                assert endpoints_equal_beyond_hash(ep, stored), (name, ident)
                assert self._pending or ident in dirty or ep is desired_g.get(ident), (name, ident)
        assert counts == self._count_by_type
        for g, sl in self._groups.items():
            assert sl and sl == sorted(sl), g  # non-empty and sorted: bisect's precondition
        for g, idx in self._index.items():
            for ident, name in idx.items():
                assert ident in self._entries[name], (g, ident, name)
        assert sum(len(sl) for sl in self._groups.values()) + sum(
            len(n) for n in self._nonowned.values()
        ) == len(self._objs)


def _second(item: tuple[int, str]) -> str:
    return item[1]


def _cache_entry(port_cache: dict[PortMapKey, tuple[int, int]]) -> tuple[tuple[PortMapKey, int, int], ...]:
    """A :class:`SyncObservation`'s ``port_cache``: ``(key, endpoints, slices)`` per group in
    key order, built without a sort or a generator for the usual single group. ``O(g log g)``."""
    if len(port_cache) == 1:
        for k, (e, n) in port_cache.items():
            return ((k, e, n),)
    return tuple([(k, e, n) for k, (e, n) in sorted(port_cache.items())])


def _remove(group: list[tuple[int, str]], item: tuple[int, str]) -> None:
    """Remove ``item`` from the sorted ``group`` (``ValueError`` if absent, as
    ``SortedList.remove``). ``O(log S)`` search, C-level ``O(S)`` move."""
    i = bisect_left(group, item)
    if i == len(group) or group[i] != item:
        raise ValueError(f"{item!r} not in group")
    del group[i]


def _closest(group: list[tuple[int, str]] | None, cap: int, excluded: Iterable[str]) -> str | None:
    """The first name among the slices of greatest length ``<= cap`` that are not
    ``excluded``: the reference's "closest to full" scan in name order, with strict
    improvement. ``O(log S + len(excluded))``."""
    if group is None or cap < 0:
        return None
    skip = set(excluded)
    j = bisect_left(group, (cap + 1,))  # entries [0, j) have length <= cap
    while j > 0:
        length = group[j - 1][0]
        lo = bisect_left(group, (length,))
        for i in range(lo, j):
            name = group[i][1]
            if name not in skip:
                return str(name)
        j = lo
    return None


# --------------------------------------------------------------------------------------------
# plain constructions of the planned objects

#: The fields :func:`_slice_with` copies; checked at import so that a field added to the class
#: cannot be dropped silently (:func:`~kubesim.controllers.endpointutil.meta_with` checks ObjectMeta's).
_SLICE_FIELDS = ("metadata", "address_type", "endpoints", "ports")
assert tuple(f.name for f in attrs.fields(EndpointSlice)) == _SLICE_FIELDS, "EndpointSlice changed"


_entry_pair = wire.endpoint_entry_pair


def _delta(before: Entries, after: Entries, idents: Iterable[EndpointIdentity]) -> int:
    """The packed size sums of ``after``'s values minus ``before``'s, for two maps whose
    entries differ (by identity) only at ``idents`` (each listed once). ``O(len(idents))``."""
    d = 0
    for ident in idents:
        old = before.get(ident)
        new = after.get(ident)
        if old is not new:
            if new is not None:
                d += _entry_pair(new)
            if old is not None:
                d -= _entry_pair(old)
    return d


def _slice_with(base: EndpointSlice, metadata: ObjectMeta, endpoints: tuple[Endpoint, ...]) -> EndpointSlice:
    """``attrs.evolve(base, metadata=metadata, endpoints=endpoints)`` as a plain
    construction (the endpoints tuple is kept as is, which :meth:`ServiceSlicer._expect`
    relies on). ``O(1)``."""
    return EndpointSlice(metadata=metadata, address_type=base.address_type, endpoints=endpoints, ports=base.ports)


#: format_trigger_time by value (a pure function; many syncs share a trigger time). Equal
#: int and float times format alike, so sharing their entry is exact.
_TRIGGER_TEXT: dict[float, str] = {}


def _trigger_annotator(trigger_time: float | None) -> Callable[[FrozenDict], FrozenDict]:
    """The annotations map :func:`~kubesim.controllers.endpointslice.reconciler.with_trigger_time`
    gives a slice with annotations ``ann``, as a function of ``ann``, with the time
    formatted once per sync at most (see :data:`_TRIGGER_TEXT`). A map that already carries
    the value is returned as it is (``set`` would copy it with the key in place: the same
    map). ``O(annotations)``."""
    if trigger_time is None:
        def clear(ann: FrozenDict) -> FrozenDict:
            return ann.without(ANNOTATION_LAST_CHANGE_TRIGGER_TIME)  # ``ann`` itself if absent

        return clear
    value = _TRIGGER_TEXT.get(trigger_time)
    if value is None:
        if len(_TRIGGER_TEXT) >= 1024:
            _TRIGGER_TEXT.clear()
        value = _TRIGGER_TEXT[trigger_time] = format_trigger_time(trigger_time)

    def stamp(ann: FrozenDict) -> FrozenDict:
        if ann.get(ANNOTATION_LAST_CHANGE_TRIGGER_TIME) == value:
            return ann
        return ann.set(ANNOTATION_LAST_CHANGE_TRIGGER_TIME, value)

    return stamp
