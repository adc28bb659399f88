"""Fidelity tests for the EndpointSliceMirroring logic (kubesim.controllers.mirroring.reconciler).

Ported from ``pkg/controller/endpointslicemirroring/reconciler_test.go`` (``TestReconcile``,
``defaultMaxEndpointsPerSubset = 1000``, Endpoints ``test/test-ep``),
``endpointslicemirroring_controller_test.go`` (``TestSyncEndpoints``, ``TestShouldMirror``) and
``utils_test.go`` (``TestNewEndpointSlice``).  "Client actions" upstream are API writes plus
nothing else; the fake recorder's events are not actions there, but the controller test counts
the ``TooManyAddressesToMirror`` event as one, so both are checked separately here.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from kubesim.controllers.endpoints.reconciler import (
    ANNOTATION_LAST_APPLIED,
    ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
    ANNOTATION_LEADER,
)
from kubesim.controllers.mirroring.reconciler import (
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    LABEL_SKIP_MIRROR,
    MIRRORING_CONTROLLER_NAME,
    REASON_INVALID_IP_ADDRESS,
    REASON_TOO_MANY_ADDRESSES,
    MirrorPlan,
    endpoint_slice_prefix,
    mirroring_wanted,
    reconcile_mirroring,
    should_mirror,
)
from kubesim.objects import (
    Endpoint,
    EndpointAddress,
    EndpointConditions,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    EndpointSubset,
    ObjectMeta,
    OwnerReference,
    Service,
    ServiceSpec,
)

NS = "test"


def ep(subsets: Sequence[EndpointSubset], **meta: object) -> Endpoints:
    return Endpoints(metadata=ObjectMeta(name="test-ep", namespace=NS, uid="ep-uid", **meta), subsets=subsets)  # type: ignore[arg-type]


def a(ip: str, host: str, node: str) -> EndpointAddress:
    return EndpointAddress(ip=ip, hostname=host, node_name=node)


HTTP80 = [EndpointPort(port=80, name="http", protocol="TCP"), EndpointPort(port=443, name="https", protocol="UDP")]
HTTP3000 = [EndpointPort(port=3000, name="http", protocol="TCP"), EndpointPort(port=3001, name="https", protocol="UDP")]
SUB1 = EndpointSubset(addresses=[a("10.0.0.1", "pod-1", "node-1"), a("10.0.0.2", "pod-2", "node-2")], ports=HTTP80)
SUB2 = EndpointSubset(
    addresses=[a("10.0.1.1", "pod-11", "node-1"), a("10.0.1.2", "pod-12", "node-2"), a("10.0.1.3", "pod-13", "node-3")],
    ports=HTTP3000,
)
SLICE_PORTS_80 = (
    EndpointSlicePort(name="http", port=80, protocol="TCP"),
    EndpointSlicePort(name="https", port=443, protocol="UDP"),
)


def existing_slice(name: str, endpoints: Sequence[Endpoint] = (), address_type: str = "IPv4", managed_by: str = MIRRORING_CONTROLLER_NAME) -> EndpointSlice:
    return EndpointSlice(
        metadata=ObjectMeta(name=name, namespace=NS, labels={LABEL_SERVICE_NAME: "test-ep", LABEL_MANAGED_BY: managed_by}),
        address_type=address_type,
        ports=SLICE_PORTS_80,
        endpoints=endpoints,
    )


def resulting_slices(plan: MirrorPlan, existing: Sequence[EndpointSlice]) -> list[EndpointSlice]:
    """The mirrored slices after the plan is applied (what ``fetchEndpointSlices`` lists)."""
    deleted = {s.metadata.name for s in plan.deletes}
    updated = {s.metadata.name: s for s in plan.updates}
    out = [updated.get(s.metadata.name, s) for s in existing if s.metadata.name not in deleted]
    out += list(plan.creates)
    return [s for s in out if s.metadata.labels.get(LABEL_MANAGED_BY) == MIRRORING_CONTROLLER_NAME]


def expect_endpoint_slices(endpoints: Endpoints, slices: list[EndpointSlice], num: int, max_per_subset: int) -> None:
    """``expectEndpointSlices`` / ``expectMatchingAddresses`` from reconciler_test.go."""
    assert len(slices) == num
    if num == 0:
        return
    for s in slices:
        assert (s.metadata.name or s.metadata.generate_name).startswith(endpoints.metadata.name)
        assert s.metadata.labels[LABEL_SERVICE_NAME] == endpoints.metadata.name
    for subset in endpoints.subsets:
        if not subset.addresses and not subset.not_ready_addresses:
            continue
        want_ports = {(p.name, p.port, p.protocol, p.app_protocol) for p in subset.ports}
        matching = {"IPv4": [], "IPv6": []}  # type: dict[str, list[Endpoint]]
        for s in slices:
            if {(p.name, p.port, p.protocol, p.app_protocol) for p in s.ports} == want_ports and len(s.ports) == len(subset.ports):
                matching[s.address_type].extend(s.endpoints)
        assert matching["IPv4"] or matching["IPv6"]
        for family in ("IPv4", "IPv6"):
            expected: dict[str, tuple[bool, EndpointAddress]] = {}
            for ready, addrs in ((True, subset.addresses), (False, subset.not_ready_addresses)):
                for ad in addrs:
                    is_v6 = ":" in ad.ip
                    valid = not ad.ip.startswith("this-is")
                    if valid and (family == "IPv6") == is_v6 and len(expected) < max_per_subset:
                        expected[ad.ip] = (ready, ad)
            assert len(expected) == len(matching[family])
            for e in matching[family]:
                assert len(e.addresses) == 1
                want_ready, ad = expected[e.addresses[0]]
                assert e.conditions.ready is want_ready
                assert (e.hostname or "") == ad.hostname
                if ad.node_name is not None:
                    assert e.node_name == ad.node_name


# name, subsets, deletion pending, max per subset, existing, num slices, actions, metrics
RECONCILE_CASES = [
    ("Endpoints with no subsets", [], False, 0, [], 0, 0, dict()),
    ("Endpoints with no addresses", [EndpointSubset(ports=HTTP80[:1])], False, 0, [], 0, 0, dict()),
    (
        "Endpoints with 1 subset, port, and address",
        [EndpointSubset(addresses=[a("10.0.0.1", "pod-1", "node-1")], ports=HTTP80[:1])],
        False, 0, [], 1, 1, dict(added=1, created=1),
    ),
    (
        "Endpoints with 1 subset, port, and address, pending deletion",
        [EndpointSubset(addresses=[a("10.0.0.1", "pod-1", "node-1")], ports=HTTP80[:1])],
        True, 0, [], 0, 0, dict(),
    ),
    ("Endpoints with 1 subset, 2 ports, and 2 addresses", [SUB1], False, 0, [], 1, 1, dict(added=2, created=1)),
    ("Endpoints with 2 subsets, multiple ports and addresses", [SUB1, SUB2], False, 0, [], 2, 2, dict(added=5, created=2)),
    (
        "Endpoints with 2 subsets, multiple ports and addresses, existing empty EndpointSlice",
        [SUB1, SUB2], False, 0, [existing_slice("test-ep-1")], 2, 2, dict(added=5, created=1, updated_slices=1),
    ),
    (
        "Endpoints with 2 subsets, multiple ports and addresses, existing EndpointSlice with some addresses",
        [SUB1, SUB2], False, 0,
        [existing_slice("test-ep-1", [Endpoint(addresses=["10.0.0.2"], hostname="pod-2"), Endpoint(addresses=["10.0.0.1", "10.0.0.3"], hostname="pod-1")])],
        2, 2, dict(added=4, updated=1, removed=1, created=1, updated_slices=1),
    ),
    (
        "Endpoints with 2 subsets, multiple ports and addresses, existing EndpointSlice identical to subset",
        [SUB1, SUB2], False, 0,
        [existing_slice("test-ep-1", [
            Endpoint(addresses=["10.0.0.1"], hostname="pod-1", node_name="node-1", conditions=EndpointConditions(ready=True)),
            Endpoint(addresses=["10.0.0.2"], hostname="pod-2", node_name="node-2", conditions=EndpointConditions(ready=True)),
        ])],
        2, 1, dict(added=3, created=1),
    ),
    (
        "Endpoints with 2 subsets, multiple ports, and dual stack addresses",
        [
            EndpointSubset(addresses=[a("2001:db8:2222:3333:4444:5555:6666:7777", "pod-1", "node-1"), a("10.0.0.2", "pod-2", "node-2")], ports=HTTP80),
            EndpointSubset(addresses=[a("10.0.1.1", "pod-11", "node-1"), a("10.0.1.2", "pod-12", "node-2"), a("2001:db8:3333:4444:5555:6666:7777:8888", "pod-13", "node-3")], ports=HTTP3000),
        ],
        False, 0, [], 4, 4, dict(added=5, created=4),
    ),
    (
        "Endpoints with 2 subsets, multiple ports, ipv6 only addresses",
        [
            EndpointSubset(addresses=[a("2001:db8:1111:3333:4444:5555:6666:7777", "pod-1", "node-1"), a("2001:db8:2222:3333:4444:5555:6666:7777", "pod-2", "node-2")], ports=HTTP80),
            EndpointSubset(addresses=[a("2001:db8:3333:3333:4444:5555:6666:7777", "pod-11", "node-1"), a("2001:db8:4444:3333:4444:5555:6666:7777", "pod-12", "node-2"), a("2001:db8:5555:3333:4444:5555:6666:7777", "pod-13", "node-3")], ports=HTTP3000),
        ],
        False, 0, [], 2, 2, dict(added=5, created=2),
    ),
    (
        "Endpoints with 2 subsets, multiple ports, some invalid addresses",
        [
            EndpointSubset(addresses=[a("2001:db8:1111:3333:4444:5555:6666:7777", "pod-1", "node-1"), a("this-is-not-an-ip", "pod-2", "node-2")], ports=HTTP80),
            EndpointSubset(addresses=[a("this-is-also-not-an-ip", "pod-11", "node-1"), a("2001:db8:4444:3333:4444:5555:6666:7777", "pod-12", "node-2"), a("2001:db8:5555:3333:4444:5555:6666:7777", "pod-13", "node-3")], ports=HTTP3000),
        ],
        False, 0, [], 2, 2, dict(added=3, skipped=2, invalid=2, created=2),
    ),
    (
        "Endpoints with 2 subsets, multiple ports, all invalid addresses",
        [
            EndpointSubset(addresses=[a("this-is-not-an-ip1", "pod-1", "node-1"), a("this-is-not-an-ip12", "pod-2", "node-2")], ports=HTTP80),
            EndpointSubset(addresses=[a("this-is-not-an-ip11", "pod-11", "node-1"), a("this-is-not-an-ip12", "pod-12", "node-2"), a("this-is-not-an-ip3", "pod-13", "node-3")], ports=HTTP3000),
        ],
        False, 0, [], 0, 0, dict(skipped=5, invalid=5),
    ),
    (
        "Endpoints with 2 subsets, 1 exceeding maxEndpointsPerSubset",
        [SUB1, SUB2], False, 2, [], 2, 2, dict(added=4, skipped=1, created=2),
    ),
]


@pytest.mark.parametrize(
    "name,subsets,deletion_pending,max_per_subset,existing,num_slices,actions,metrics",
    RECONCILE_CASES,
    ids=[c[0] for c in RECONCILE_CASES],
)
def test_reconcile(
    name: str,
    subsets: list[EndpointSubset],
    deletion_pending: bool,
    max_per_subset: int,
    existing: list[EndpointSlice],
    num_slices: int,
    actions: int,
    metrics: dict[str, int],
) -> None:
    endpoints = ep(subsets, deletion_timestamp=1 if deletion_pending else None)
    max_per_subset = max_per_subset or 1000
    plan = reconcile_mirroring(endpoints, existing, max_endpoints_per_subset=max_per_subset)
    assert plan.actions == actions, name
    assert len(plan.creates) == metrics.get("created", 0)
    assert len(plan.updates) == metrics.get("updated_slices", 0)
    assert len(plan.deletes) == metrics.get("deleted", 0)
    if not deletion_pending:
        assert plan.added == metrics.get("added", 0)
        assert plan.updated == metrics.get("updated", 0)
        assert plan.removed == metrics.get("removed", 0)
    assert plan.skipped_invalid + plan.skipped_over_cap == metrics.get("skipped", 0)
    assert plan.skipped_invalid == metrics.get("invalid", 0)
    reasons = [e.reason for e in plan.events]
    assert (REASON_INVALID_IP_ADDRESS in reasons) == (metrics.get("invalid", 0) > 0)
    if metrics.get("invalid"):
        assert f"Skipped {metrics['invalid']} invalid IP addresses when mirroring to EndpointSlices" in [e.message for e in plan.events]
    expect_endpoint_slices(endpoints, resulting_slices(plan, existing), num_slices, max_per_subset)


def test_reconcile_single_address_shape() -> None:
    endpoints = ep([EndpointSubset(addresses=[a("10.0.0.1", "pod-1", "node-1")], ports=HTTP80[:1])])
    (s,) = reconcile_mirroring(endpoints, []).creates
    (e,) = s.endpoints
    assert e.conditions == EndpointConditions(ready=True)
    assert (e.hostname, e.node_name, e.zone, e.hints) == ("pod-1", "node-1", None, None)


def test_not_ready_addresses_are_not_ready() -> None:
    endpoints = ep([EndpointSubset(not_ready_addresses=[a("10.0.0.1", "", "n")], ports=HTTP80[:1])])
    (s,) = reconcile_mirroring(endpoints, []).creates
    assert s.endpoints[0].conditions == EndpointConditions(ready=False)
    assert s.endpoints[0].hostname is None


# ---- TestSyncEndpoints (endpointslicemirroring_controller_test.go), via the pure pieces


def _addresses(n: int) -> list[EndpointAddress]:
    return [EndpointAddress(ip=f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}") for i in range(n)]


def _sync(endpoints: Endpoints | None, service: Service | None, existing: Sequence[EndpointSlice] = ()) -> tuple[int, MirrorPlan | None, list[EndpointSlice]]:
    """(API writes + events, plan, resulting mirrored slices) of one syncEndpoints."""
    mine = [s for s in existing if s.metadata.labels.get(LABEL_MANAGED_BY) == MIRRORING_CONTROLLER_NAME]
    if endpoints is None or not mirroring_wanted(endpoints, service):
        others = [s for s in existing if s not in mine]
        return len(mine), None, [s for s in others if s.metadata.labels.get(LABEL_MANAGED_BY) == MIRRORING_CONTROLLER_NAME]
    plan = reconcile_mirroring(endpoints, existing)
    return plan.actions + len(plan.events), plan, resulting_slices(plan, list(existing))


SELECTORLESS = Service(metadata=ObjectMeta(name="test-ep", namespace=NS))
WITH_SELECTOR = Service(metadata=ObjectMeta(name="test-ep", namespace=NS), spec=ServiceSpec(selector={"foo": "bar"}))
PORT80 = [EndpointPort(port=80, name="http", protocol="TCP")]


def test_sync_endpoints_missing_service() -> None:
    n, _, slices = _sync(ep([EndpointSubset(addresses=_addresses(1), ports=PORT80)]), None)
    assert (n, len(slices)) == (0, 0)


def test_sync_endpoints_service_with_selector() -> None:
    n, _, slices = _sync(ep([EndpointSubset(addresses=_addresses(1), ports=PORT80)]), WITH_SELECTOR)
    assert (n, len(slices)) == (0, 0)


def test_sync_endpoints_1000_addresses() -> None:
    n, plan, slices = _sync(ep([EndpointSubset(addresses=_addresses(1000), ports=PORT80)]), SELECTORLESS)
    assert (n, len(slices)) == (1, 1)
    assert len(slices[0].endpoints) == 1000


def test_sync_endpoints_1001_addresses() -> None:
    n, plan, slices = _sync(ep([EndpointSubset(addresses=_addresses(1001), ports=PORT80)]), SELECTORLESS)
    assert (n, len(slices)) == (2, 1)
    assert len(slices[0].endpoints) == 1000
    assert plan is not None and plan.skipped_over_cap == 1
    assert [(e.type, e.reason, e.message) for e in plan.events] == [
        ("Warning", REASON_TOO_MANY_ADDRESSES, "A max of 1000 addresses can be mirrored to EndpointSlices per Endpoints subset. 1 addresses were skipped")
    ]


@pytest.mark.parametrize("value,want_slices", [("true", 0), ("false", 1)])
def test_sync_endpoints_skip_mirror(value: str, want_slices: int) -> None:
    endpoints = ep([EndpointSubset(addresses=_addresses(1), ports=PORT80)], labels={LABEL_SKIP_MIRROR: value})
    _, _, slices = _sync(endpoints, SELECTORLESS)
    assert len(slices) == want_slices


def test_sync_endpoints_existing_slice_no_addresses() -> None:
    existing = [existing_slice("test-ep-1", [Endpoint(addresses=["10.0.0.1"])])]
    existing = [attrs.evolve(existing[0], ports=(EndpointSlicePort(name="http", port=80, protocol="TCP"),))]
    n, plan, slices = _sync(ep([EndpointSubset(ports=PORT80)]), SELECTORLESS, existing)
    assert (n, len(slices)) == (1, 0)
    assert plan is not None and [s.metadata.name for s in plan.deletes] == ["test-ep-1"]


def test_sync_endpoints_existing_slice_managed_by_something_else() -> None:
    other = existing_slice("test-ep-1", [Endpoint(addresses=["10.0.0.1"])], managed_by="something-else")
    plan = reconcile_mirroring(ep([EndpointSubset(ports=PORT80)]), [other])
    assert plan.actions == 0
    plan = reconcile_mirroring(ep([]), [other])
    assert plan.actions == 0


# ---- TestShouldMirror


@pytest.mark.parametrize(
    "labels,annotations,expected",
    [
        ({}, {}, True),
        ({LABEL_SKIP_MIRROR: "true"}, {}, False),
        ({LABEL_SKIP_MIRROR: "false"}, {}, True),
        ({LABEL_SKIP_MIRROR: "invalid"}, {}, True),
        ({}, {ANNOTATION_LEADER: ""}, False),
        ({"foo": "bar"}, {"baz": "x"}, True),
    ],
)
def test_should_mirror(labels: dict[str, str], annotations: dict[str, str], expected: bool) -> None:
    assert should_mirror(ep([], labels=labels, annotations=annotations)) is expected


def test_should_mirror_nil() -> None:
    assert should_mirror(None) is False


# ---- TestNewEndpointSlice (utils_test.go): labels, annotations, owner, generateName


def test_new_endpoint_slice_shape() -> None:
    endpoints = ep(
        [EndpointSubset(addresses=_addresses(1), ports=[EndpointPort(port=80, app_protocol="http")])],
        labels={"foo": "bar", LABEL_SERVICE_NAME: "wrong"},
        annotations={"foo2": "bar2", ANNOTATION_LAST_CHANGE_TRIGGER_TIME: "t", ANNOTATION_LAST_APPLIED: "{}"},
    )
    (s,) = reconcile_mirroring(endpoints, []).creates
    assert s.metadata.generate_name == "test-ep-" and s.metadata.name == ""
    assert s.metadata.namespace == NS
    assert s.metadata.labels == {"foo": "bar", LABEL_SERVICE_NAME: "test-ep", LABEL_MANAGED_BY: MIRRORING_CONTROLLER_NAME}
    assert s.metadata.annotations == {"foo2": "bar2"}
    assert s.metadata.owner_references == (
        OwnerReference(api_version="v1", kind="Endpoints", name="test-ep", uid="ep-uid", controller=True, block_owner_deletion=True),
    )
    assert s.ports == (EndpointSlicePort(name="", port=80, protocol="TCP", app_protocol="http"),)
    assert s.address_type == "IPv4"


def test_endpoint_slice_prefix() -> None:
    assert endpoint_slice_prefix("foo") == "foo-"
    assert endpoint_slice_prefix("x" * 252) == "x" * 252 + "-"
    assert endpoint_slice_prefix("x" * 253) == "x" * 253


# ---- label/annotation drift and recycling


def _identical_existing(endpoints: Endpoints) -> EndpointSlice:
    (created,) = reconcile_mirroring(endpoints, []).creates
    return attrs.evolve(created, metadata=attrs.evolve(created.metadata, name="test-ep-abcde", generate_name=""))


def test_identical_slice_is_left_alone_and_label_drift_updates() -> None:
    endpoints = ep([SUB1], labels={"a": "b"}, annotations={"x": "y", ANNOTATION_LAST_CHANGE_TRIGGER_TIME: "t"})
    existing = _identical_existing(endpoints)
    assert reconcile_mirroring(endpoints, [existing]).actions == 0
    drifted = attrs.evolve(endpoints, metadata=attrs.evolve(endpoints.metadata, labels={"a": "c"}))
    plan = reconcile_mirroring(drifted, [existing])
    assert [s.metadata.name for s in plan.updates] == ["test-ep-abcde"]
    assert plan.updates[0].metadata.labels["a"] == "c"
    annotated = attrs.evolve(endpoints, metadata=attrs.evolve(endpoints.metadata, annotations={"x": "z"}))
    assert len(reconcile_mirroring(annotated, [existing]).updates) == 1


def test_extra_slices_for_a_key_are_deleted() -> None:
    endpoints = ep([SUB1])
    first = _identical_existing(endpoints)
    second = attrs.evolve(first, metadata=attrs.evolve(first.metadata, name="test-ep-zzzzz"))
    plan = reconcile_mirroring(endpoints, [first, second])
    assert ([s.metadata.name for s in plan.deletes], plan.updates, plan.creates) == (["test-ep-zzzzz"], (), ())


def test_recycle_create_into_delete_of_same_address_type() -> None:
    # Ports change: the old key's slice would be deleted and a new one created; recycling turns
    # the pair into one update of the old slice's name.
    old = _identical_existing(ep([SUB1]))
    endpoints = ep([attrs.evolve(SUB1, ports=HTTP3000)])
    plan = reconcile_mirroring(endpoints, [old])
    assert (len(plan.creates), len(plan.deletes)) == (0, 0)
    (upd,) = plan.updates
    assert upd.metadata.name == "test-ep-abcde"
    assert {p.port for p in upd.ports} == {3000, 3001}


def test_recycle_does_not_cross_address_types() -> None:
    old = _identical_existing(ep([SUB1]))
    v6 = EndpointSubset(addresses=[a("fd00::1", "", "n")], ports=HTTP3000)
    plan = reconcile_mirroring(ep([v6]), [old])
    assert ([s.address_type for s in plan.creates], [s.metadata.name for s in plan.deletes], plan.updates) == (["IPv6"], ["test-ep-abcde"], ())


def test_deletion_pending_keeps_recycled_updates() -> None:
    old = _identical_existing(ep([SUB1]))
    endpoints = ep([attrs.evolve(SUB1, ports=HTTP3000)], deletion_timestamp=5)
    plan = reconcile_mirroring(endpoints, [old])
    assert (len(plan.creates), len(plan.updates), len(plan.deletes)) == (0, 1, 0)


def test_ipv4_mapped_ipv6_counts_as_ipv4_and_is_canonicalised() -> None:
    endpoints = ep([EndpointSubset(addresses=[EndpointAddress("::ffff:10.0.0.1"), EndpointAddress("01.2.3.4")], ports=PORT80)])
    (s,) = reconcile_mirroring(endpoints, []).creates
    assert s.address_type == "IPv4"
    assert sorted(e.addresses[0] for e in s.endpoints) == ["1.2.3.4", "10.0.0.1"]


def test_deterministic() -> None:
    endpoints = ep([SUB1, SUB2])
    assert reconcile_mirroring(endpoints, []) == reconcile_mirroring(endpoints, [])
