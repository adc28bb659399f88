"""The pure logic of the EndpointSliceMirroring controller.

Mirrors ``pkg/controller/endpointslicemirroring/`` (``reconciler.go``, ``reconciler_helpers.go``,
``utils.go``, ``endpointslicemirroring_controller.go``) and the shared
``staging/src/k8s.io/endpointslice/util`` helpers (``EndpointSet``, ``EndpointsEqualBeyondHash``),
as described in ``reference/endpoints-and-consumers.md`` §2.

The controller makes user-written Endpoints of **selector-less** Services visible to EndpointSlice
consumers: each (address type, port set) of the repacked Endpoints becomes at most one slice of at
most ``max_endpoints_per_subset`` endpoints.  :func:`reconcile_mirroring` computes one sync's
writes as a :class:`MirrorPlan`; the controller engine performs them.

Deterministic choices where upstream iterates Go maps (see ``docs/fidelity-endpoints.md``):

* (address type, port set) keys are visited in first-seen order: subsets in repacked order, and
  for each subset IPv4 before IPv6; keys only present in existing slices follow, in the order of
  ``existing_slices``;
* the endpoints of a mirrored slice appear in the order their addresses appear after repacking
  (ready before not ready, subset by subset); a duplicate (same addresses, hostname and targetRef
  name/namespace) keeps the first position and the last value, as ``EndpointSet.Insert`` keeps
  the last value;
* recycling pairs the i-th create of an address type with the i-th delete of that type.

>>> from kubesim.objects import Endpoints, EndpointSubset, EndpointAddress, EndpointPort, ObjectMeta
>>> ep = Endpoints(metadata=ObjectMeta(name="db", namespace="default", uid="u1"),
...     subsets=[EndpointSubset(addresses=[EndpointAddress(ip="10.0.0.1")],
...                             ports=[EndpointPort(port=5432, name="pg")])])
>>> plan = reconcile_mirroring(ep, [])
>>> [(s.metadata.generate_name, s.address_type, len(s.endpoints)) for s in plan.creates]
[('db-', 'IPv4', 1)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from kubesim import netutil
from kubesim.controllers.endpoints.reconciler import (
    ANNOTATION_LAST_APPLIED,
    ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
    ANNOTATION_LEADER,
    repack_subsets,
)
from kubesim.errors import InvalidOption
from kubesim.objects import (
    Endpoint,
    EndpointAddress,
    EndpointConditions,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    FrozenDict,
    ObjectMeta,
    ObjectReference,
    OwnerReference,
    Service,
)

__all__ = [
    "MIRRORING_CONTROLLER_NAME",
    "LABEL_SERVICE_NAME",
    "LABEL_MANAGED_BY",
    "LABEL_SKIP_MIRROR",
    "DEFAULT_MAX_ENDPOINTS_PER_SUBSET",
    "REASON_INVALID_IP_ADDRESS",
    "REASON_TOO_MANY_ADDRESSES",
    "MirrorEvent",
    "MirrorPlan",
    "should_mirror",
    "mirroring_wanted",
    "is_mirrored_slice",
    "mirrored_slice_labels",
    "mirrored_slice_annotations",
    "endpoint_slice_prefix",
    "endpoints_owner_reference",
    "address_to_endpoint",
    "endpoints_equal_beyond_hash",
    "reconcile_mirroring",
]

#: ``ControllerName`` of the mirroring controller (its managed-by label value).
MIRRORING_CONTROLLER_NAME = "endpointslicemirroring-controller.k8s.io"
#: ``discovery.LabelServiceName``.
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
#: ``discovery.LabelManagedBy``.
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
#: ``discovery.LabelSkipMirror``: only the value ``"true"`` skips mirroring.
LABEL_SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
#: ``--mirroring-max-endpoints-per-subset`` default.
DEFAULT_MAX_ENDPOINTS_PER_SUBSET = 1000
#: Event reason for addresses that are not IPs.
REASON_INVALID_IP_ADDRESS = "InvalidIPAddress"
#: Event reason for addresses beyond ``maxEndpointsPerSubset``.
REASON_TOO_MANY_ADDRESSES = "TooManyAddressesToMirror"

_IPV4 = "IPv4"
_IPV6 = "IPv6"


@attrs.frozen
class MirrorEvent:
    """An event the reconciler records on the Endpoints (``type`` is ``Warning``)."""

    type: str
    reason: str
    message: str


@attrs.frozen
class MirrorPlan:
    """One mirroring sync's writes, in the order ``finalize`` issues them.

    ``creates`` carry ``generateName`` (empty when the Endpoints is being deleted); ``updates``
    carry the name of the slice they replace and no resourceVersion (unconditional updates, as
    upstream); ``deletes`` are existing slices.  ``events`` are recorded on the Endpoints.
    ``skipped_invalid`` counts addresses that are not IPs and ``skipped_over_cap`` those beyond
    ``max_endpoints_per_subset``; ``added``/``updated``/``removed`` are the endpoint totals
    upstream observes as metrics (``endpoints_added_per_sync`` …)."""

    creates: tuple[EndpointSlice, ...] = ()
    updates: tuple[EndpointSlice, ...] = ()
    deletes: tuple[EndpointSlice, ...] = ()
    events: tuple[MirrorEvent, ...] = ()
    skipped_invalid: int = 0
    skipped_over_cap: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0

    @property
    def actions(self) -> int:
        """API writes in the plan (``len(creates) + len(updates) + len(deletes)``)."""
        return len(self.creates) + len(self.updates) + len(self.deletes)


# --------------------------------------------------------------------------------------------
# Which Endpoints are mirrored (endpointslicemirroring_controller.go, utils.go)


def should_mirror(endpoints: Endpoints | None) -> bool:
    """``shouldMirror``: false for ``None``, for label ``skip-mirror: "true"`` (any other value
    still mirrors) and for Endpoints carrying the leader-election annotation. ``O(1)``."""
    if endpoints is None:
        return False
    if endpoints.metadata.labels.get(LABEL_SKIP_MIRROR) == "true":
        return False
    if ANNOTATION_LEADER in endpoints.metadata.annotations:
        return False
    return True


def mirroring_wanted(endpoints: Endpoints | None, service: Service | None) -> bool:
    """Whether ``syncEndpoints`` reconciles (``True``) or deletes every mirrored slice
    (``False``): the Endpoints exists and :func:`should_mirror` holds, and a Service of the same
    name exists with a ``None`` selector. ``O(1)``."""
    return should_mirror(endpoints) and service is not None and service.spec.selector is None


def is_mirrored_slice(slice_: EndpointSlice, endpoints: Endpoints) -> bool:
    """``slice_`` is one of ``endpoints``' mirrored slices: same namespace, labelled with the
    Endpoints name and managed by the mirroring controller. ``O(1)``."""
    labels = slice_.metadata.labels
    return (
        slice_.metadata.namespace == endpoints.metadata.namespace
        and labels.get(LABEL_SERVICE_NAME) == endpoints.metadata.name
        and labels.get(LABEL_MANAGED_BY) == MIRRORING_CONTROLLER_NAME
    )


# --------------------------------------------------------------------------------------------
# Shape of a mirrored slice (newEndpointSlice in utils.go)


def mirrored_slice_labels(endpoints: Endpoints) -> FrozenDict:
    """Every Endpoints label, then ``kubernetes.io/service-name`` and
    ``endpointslice.kubernetes.io/managed-by`` overwritten. ``O(labels)``."""
    labels = dict(endpoints.metadata.labels)
    labels[LABEL_SERVICE_NAME] = endpoints.metadata.name
    labels[LABEL_MANAGED_BY] = MIRRORING_CONTROLLER_NAME
    return FrozenDict(labels)


def mirrored_slice_annotations(endpoints: Endpoints) -> FrozenDict:
    """Every Endpoints annotation except the trigger time and kubectl's last-applied
    configuration. ``O(annotations)``."""
    return endpoints.metadata.annotations.without(ANNOTATION_LAST_CHANGE_TRIGGER_TIME, ANNOTATION_LAST_APPLIED)


_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*")


def _is_dns1123_subdomain(value: str) -> bool:
    return len(value) <= 253 and _DNS1123_SUBDOMAIN.fullmatch(value) is not None


def endpoint_slice_prefix(name: str) -> str:
    """``getEndpointSlicePrefix``: ``"<name>-"`` when that is a valid DNS-subdomain *prefix*
    (validated with its trailing dash masked, as ``NameIsDNSSubdomain(prefix=true)`` does),
    else ``name``. ``O(len(name))``.

    >>> endpoint_slice_prefix("web"), endpoint_slice_prefix("a" * 253) == "a" * 253
    ('web-', True)
    """
    prefix = name + "-"
    if _is_dns1123_subdomain(prefix[:-1] + "a"):
        return prefix
    return name


def endpoints_owner_reference(endpoints: Endpoints) -> OwnerReference:
    """``metav1.NewControllerRef(endpoints, v1/Endpoints)``. ``O(1)``."""
    return OwnerReference.controller_ref(endpoints)


def _new_slice(
    endpoints: Endpoints,
    ports: tuple[EndpointSlicePort, ...],
    address_type: str,
    name: str,
    slice_endpoints: Sequence[Endpoint],
) -> EndpointSlice:
    meta = ObjectMeta(
        name=name,
        generate_name="" if name else endpoint_slice_prefix(endpoints.metadata.name),
        namespace=endpoints.metadata.namespace,
        labels=mirrored_slice_labels(endpoints),
        annotations=mirrored_slice_annotations(endpoints),
        owner_references=(endpoints_owner_reference(endpoints),),
    )
    return EndpointSlice(metadata=meta, address_type=address_type, endpoints=tuple(slice_endpoints), ports=ports)


def _convert_ports(ports: Sequence[EndpointPort]) -> tuple[EndpointSlicePort, ...]:
    # epPortsToEpsPorts: name/port/protocol pointers always set (name even when "").
    return tuple(
        EndpointSlicePort(name=p.name, port=p.port, protocol=p.protocol, app_protocol=p.app_protocol)
        for p in ports
    )


def address_to_endpoint(address: EndpointAddress, ready: bool) -> tuple[Endpoint, str] | None:
    """``addressToEndpoint``: the slice endpoint and address type for one Endpoints address, or
    ``None`` if the IP does not parse (``ParseIPSloppy``).

    The IP is re-stringified in canonical form; IPv4-mapped IPv6 counts as IPv4.  Only
    ``conditions.ready`` is set; ``targetRef`` is copied, ``nodeName`` when set, ``hostname``
    when non-empty. ``O(1)``.
    """
    parsed = netutil.parse_ip(address.ip)
    if parsed is None:
        return None
    address_type = _IPV4 if parsed.version == 4 else _IPV6
    endpoint = Endpoint(
        addresses=(str(parsed),),
        conditions=EndpointConditions(ready=ready),
        target_ref=address.target_ref,
        node_name=address.node_name,
        hostname=address.hostname or None,
    )
    return endpoint, address_type


# --------------------------------------------------------------------------------------------
# Endpoint identity and comparison (staging/src/k8s.io/endpointslice/util)

_EndpointHash = tuple[tuple[str, ...], str, str, str]
_OptStr = str | None
_PortKey = tuple[str, tuple[tuple[object, ...], ...]]


def _endpoint_hash(ep: Endpoint) -> _EndpointHash:
    # hashEndpoint: sorted addresses, hostname, targetRef namespace and name.
    tr = ep.target_ref
    return (
        tuple(sorted(ep.addresses)),
        ep.hostname or "",
        tr.namespace if tr is not None else "",
        tr.name if tr is not None else "",
    )


def _ref_ignore_rv(ref: ObjectReference | None) -> ObjectReference | None:
    return None if ref is None else attrs.evolve(ref, resource_version="")


def endpoints_equal_beyond_hash(a: Endpoint, b: Endpoint) -> bool:
    """``EndpointsEqualBeyondHash``: nodeName, zone, ready, serving, terminating and targetRef
    (ignoring its resourceVersion) are equal. ``O(1)``."""
    return (
        a.node_name == b.node_name
        and a.zone == b.zone
        and a.conditions == b.conditions
        and _ref_ignore_rv(a.target_ref) == _ref_ignore_rv(b.target_ref)
    )


def _opt_key(s: _OptStr) -> tuple[bool, str]:
    return (s is not None, s or "")


def _port_key(ports: Iterable[EndpointSlicePort], address_type: str) -> _PortKey:
    # newAddrTypePortMapKey: the address type and the port list sorted (hash of the sorted list).
    keys: list[tuple[object, ...]] = sorted(
        (
            *_opt_key(p.name),
            p.port is not None,
            p.port or 0,
            *_opt_key(p.protocol),
            *_opt_key(p.app_protocol),
        )
        for p in ports
    )
    return (address_type, tuple(keys))


def _remove_identical(items: list[EndpointSlice], item: EndpointSlice) -> None:
    for i, candidate in enumerate(items):
        if candidate is item:
            del items[i]
            return


# --------------------------------------------------------------------------------------------
# reconcile (reconciler.go)


def _stale_owner(endpoints: Endpoints, s: EndpointSlice) -> bool:
    """``needRebuildExistingSlices``: the slice has an owner reference to an Endpoints of this
    name whose uid is not this Endpoints' (the Endpoints was deleted and created again; left
    alone, the garbage collector would delete the slice). A slice without owner references is
    not rebuilt for that. ``O(owner references)``."""
    uid = endpoints.metadata.uid
    name = endpoints.metadata.name
    return any(o.kind == "Endpoints" and o.name == name and o.uid != uid for o in s.metadata.owner_references)


def reconcile_mirroring(
    endpoints: Endpoints,
    existing_slices: Iterable[EndpointSlice],
    *,
    max_endpoints_per_subset: int = DEFAULT_MAX_ENDPOINTS_PER_SUBSET,
) -> MirrorPlan:
    """One ``reconciler.reconcile``: the slice writes that mirror ``endpoints``.

    Only ``existing_slices`` that are ``endpoints``' mirrored slices (:func:`is_mirrored_slice`)
    are considered; others are never touched.  Steps (§2.2–§2.3):

    1. repack the subsets; per subset, walk ready then not-ready addresses until
       ``max_endpoints_per_subset`` valid ones were taken; invalid IPs are skipped without using
       budget; keys for both address types are registered for every subset;
    2. per (address type, port set) key: no desired endpoints -> delete its slices; else keep the
       first existing slice when its endpoints, labels and annotations already match and no
       owner reference names this Endpoints with another uid (:func:`_stale_owner`), rebuilding
       it in full under its name otherwise; delete the other slices; create when none exists;
    3. delete slices whose key is no longer desired;
    4. recycle: each create becomes an update of a slice to delete of the same address type;
    5. drop the creates if the Endpoints has a deletionTimestamp.

    ``O(A + E)`` for ``A`` addresses and ``E`` existing endpoints (plus repacking).
    """
    if max_endpoints_per_subset < 1:
        raise InvalidOption(f"max_endpoints_per_subset must be at least 1, got {max_endpoints_per_subset}")

    # ---- desired state (desiredCalc)
    ports_by_key: dict[_PortKey, tuple[EndpointSlicePort, ...]] = {}
    desired_by_key: dict[_PortKey, dict[_EndpointHash, Endpoint]] = {}
    num_invalid = 0
    addresses_skipped = 0
    for subset in repack_subsets(endpoints.subsets):
        ports = _convert_ports(subset.ports)
        multi_key: dict[str, _PortKey] = {}
        for address_type in (_IPV4, _IPV6):
            key = _port_key(ports, address_type)
            multi_key[address_type] = key
            desired_by_key.setdefault(key, {})
            ports_by_key[key] = ports
        total = len(subset.addresses) + len(subset.not_ready_addresses)
        added = 0
        for addresses, ready in ((subset.addresses, True), (subset.not_ready_addresses, False)):
            for address in addresses:
                if added >= max_endpoints_per_subset:
                    break
                converted = address_to_endpoint(address, ready)
                if converted is None:
                    num_invalid += 1
                    continue
                endpoint, address_type = converted
                desired_by_key[multi_key[address_type]][_endpoint_hash(endpoint)] = endpoint
                added += 1
        addresses_skipped += total - added

    events: list[MirrorEvent] = []
    if num_invalid > 0:
        events.append(
            MirrorEvent(
                "Warning",
                REASON_INVALID_IP_ADDRESS,
                f"Skipped {num_invalid} invalid IP addresses when mirroring to EndpointSlices",
            )
        )
    if addresses_skipped > num_invalid:
        events.append(
            MirrorEvent(
                "Warning",
                REASON_TOO_MANY_ADDRESSES,
                f"A max of {max_endpoints_per_subset} addresses can be mirrored to EndpointSlices "
                f"per Endpoints subset. {addresses_skipped} addresses were skipped",
            )
        )

    # ---- existing state
    existing_by_key: dict[_PortKey, list[EndpointSlice]] = {}
    for s in existing_slices:
        if is_mirrored_slice(s, endpoints):
            existing_by_key.setdefault(_port_key(s.ports, s.address_type), []).append(s)

    creates: list[EndpointSlice] = []
    updates: list[EndpointSlice] = []
    deletes: list[EndpointSlice] = []
    t_added = t_updated = t_removed = 0
    compare_annotations = mirrored_slice_annotations(endpoints)

    for key, desired in desired_by_key.items():
        existing = existing_by_key.get(key, [])
        address_type = key[0]
        if not desired:
            deletes.extend(existing)
            t_removed += sum(len(s.endpoints) for s in existing)
            continue
        if not existing:
            t_added += len(desired)
        else:
            deletes.extend(existing[1:])
            first = existing[0]
            matches = removed = updated = 0
            for ep in first.endpoints:
                got = desired.get(_endpoint_hash(ep))
                if got is None:
                    removed += 1
                else:
                    matches += 1
                    if not endpoints_equal_beyond_hash(got, ep):
                        updated += 1
            added = len(desired) - matches
            t_added += added
            t_updated += updated
            t_removed += removed
            if (
                added == 0
                and updated == 0
                and removed == 0
                and endpoints.metadata.labels == first.metadata.labels.without(LABEL_MANAGED_BY, LABEL_SERVICE_NAME)
                and compare_annotations == first.metadata.annotations
                and not _stale_owner(endpoints, first)
            ):
                continue
        name = existing[0].metadata.name if existing else ""
        chosen = list(desired.values())[:max_endpoints_per_subset]
        new_slice = _new_slice(endpoints, ports_by_key[key], address_type, name, chosen)
        (updates if name else creates).append(new_slice)

    for key, existing in existing_by_key.items():
        if key not in desired_by_key:
            deletes.extend(existing)

    # ---- recycleSlices: turn creates into updates of slices that would be deleted.
    for address_type in (_IPV4, _IPV6):
        to_create = [s for s in creates if s.address_type == address_type]
        to_delete = [s for s in deletes if s.address_type == address_type]
        for new_slice, old_slice in zip(to_create, to_delete, strict=False):
            _remove_identical(creates, new_slice)
            _remove_identical(deletes, old_slice)
            # Upstream only sets Name; generateName stays on the object.
            updates.append(attrs.evolve(new_slice, metadata=attrs.evolve(new_slice.metadata, name=old_slice.metadata.name)))

    # ---- finalize: no creates while the Endpoints is being deleted.
    if endpoints.metadata.deletion_timestamp is not None:
        creates = []

    return MirrorPlan(
        creates=tuple(creates),
        updates=tuple(updates),
        deletes=tuple(deletes),
        events=tuple(events),
        skipped_invalid=num_invalid,
        skipped_over_cap=addresses_skipped - num_invalid,
        added=t_added,
        updated=t_updated,
        removed=t_removed,
    )
