"""Tests for kubesim.wire: exact protobuf and JSON sizes.

The protobuf fixtures are the round-trip files shipped in k8s.io/api ``testdata/HEAD``
(copied to ``shared/reference/fixtures``); the worked sizes are those of
``endpoints-and-consumers.md`` section 4.4.
"""

from __future__ import annotations

import calendar
import json
import time
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from conftest import FIXTURES  # noqa: E402  (shared/ beside the checkout)
from hypothesis import given
from hypothesis import strategies as st

from kubesim import objects as o
from kubesim import wire


def _ts(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def _fixture(name: str) -> bytes:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} not available")
    return path.read_bytes()


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# --------------------------------------------------------------------------------------------
# an independent protobuf reader (for structure checks)


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def _fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _read_varint(buf, i)
            yield num, wt, val
        elif wt == 2:
            n, i = _read_varint(buf, i)
            yield num, wt, buf[i : i + n]
            i += n
        else:  # pragma: no cover - kubesim never writes other wire types
            raise AssertionError(f"unexpected wire type {wt}")
    assert i == len(buf)


# --------------------------------------------------------------------------------------------
# the k8s.io/api fixtures, built by hand from their JSON form


def _fixture_meta() -> o.ObjectMeta:
    return o.ObjectMeta(
        name="nameValue",
        generate_name="generateNameValue",
        namespace="namespaceValue",
        self_link="selfLinkValue",
        uid="uidValue",
        resource_version="resourceVersionValue",
        generation=7,
        creation_timestamp=_ts("2008-01-01T01:01:01Z"),
        deletion_timestamp=_ts("2009-01-01T01:01:01Z"),
        deletion_grace_period_seconds=10,
        labels={"labelsKey": "labelsValue"},
        annotations={"annotationsKey": "annotationsValue"},
        owner_references=[
            o.OwnerReference(
                api_version="apiVersionValue",
                kind="kindValue",
                name="nameValue",
                uid="uidValue",
                controller=True,
                block_owner_deletion=True,
            )
        ],
        finalizers=["finalizersValue"],
        managed_fields=[
            o.ManagedFieldsEntry(
                manager="managerValue",
                operation="operationValue",
                api_version="apiVersionValue",
                time=_ts("2004-01-01T01:01:01Z"),
                fields_type="fieldsTypeValue",
                fields_v1="{}",
                subresource="subresourceValue",
            )
        ],
    )


_FIXTURE_REF = o.ObjectReference(
    kind="kindValue",
    namespace="namespaceValue",
    name="nameValue",
    uid="uidValue",
    api_version="apiVersionValue",
    resource_version="resourceVersionValue",
    field_path="fieldPathValue",
)


def fixture_endpoints() -> o.Endpoints:
    addr = o.EndpointAddress(
        ip="ipValue", hostname="hostnameValue", node_name="nodeNameValue", target_ref=_FIXTURE_REF
    )
    return o.Endpoints(
        metadata=_fixture_meta(),
        subsets=[
            o.EndpointSubset(
                addresses=[addr],
                not_ready_addresses=[addr],
                ports=[
                    o.EndpointPort(
                        name="nameValue",
                        port=2,
                        protocol="protocolValue",
                        app_protocol="appProtocolValue",
                    )
                ],
            )
        ],
    )


def fixture_endpoint_slice() -> o.EndpointSlice:
    return o.EndpointSlice(
        metadata=_fixture_meta(),
        address_type="addressTypeValue",
        endpoints=[
            o.Endpoint(
                addresses=["addressesValue"],
                conditions=o.EndpointConditions(ready=True, serving=True, terminating=True),
                hostname="hostnameValue",
                target_ref=_FIXTURE_REF,
                deprecated_topology={"deprecatedTopologyKey": "deprecatedTopologyValue"},
                node_name="nodeNameValue",
                zone="zoneValue",
                hints=o.EndpointHints(
                    for_zones=[o.ForZone(name="nameValue")],
                    for_nodes=[o.ForNode(name="nameValue")],
                ),
            )
        ],
        ports=[
            o.EndpointSlicePort(
                name="nameValue", protocol="protocolValue", port=3, app_protocol="appProtocolValue"
            )
        ],
    )


def test_endpoints_fixture_byte_exact() -> None:
    expected = _fixture("core.v1.Endpoints.pb")
    assert len(expected) == 728
    obj = fixture_endpoints()
    assert wire.encode_proto(obj) == expected
    assert wire.proto_size(obj) == 728


def test_endpoint_slice_fixture_byte_exact() -> None:
    expected = _fixture("discovery.k8s.io.v1.EndpointSlice.pb")
    assert len(expected) == 721
    obj = fixture_endpoint_slice()
    assert wire.encode_proto(obj) == expected
    assert wire.proto_size(obj) == 721


@pytest.mark.parametrize(
    "name,build",
    [
        ("core.v1.Endpoints.json", fixture_endpoints),
        ("discovery.k8s.io.v1.EndpointSlice.json", fixture_endpoint_slice),
    ],
)
def test_fixture_json_size(name: str, build: Any) -> None:
    served = json.loads(_fixture(name))
    assert wire.json_size(build()) == len(_compact(served))


def test_fixture_from_manifest_if_available() -> None:
    manifests = pytest.importorskip("kubesim.manifests")
    for stem, build in (
        ("core.v1.Endpoints", fixture_endpoints),
        ("discovery.k8s.io.v1.EndpointSlice", fixture_endpoint_slice),
    ):
        obj = manifests.from_manifest(json.loads(_fixture(stem + ".json")))
        assert obj == build()


# --------------------------------------------------------------------------------------------
# worked sizes (section 4.4)

MANAGED_BY = "endpoints.kubernetes.io/managed-by"
HEADLESS = "service.kubernetes.io/headless"


def _test6_endpoints(resource_version: str = "") -> o.Endpoints:
    return o.Endpoints(
        metadata=o.ObjectMeta(
            name="foo",
            namespace="other",
            resource_version=resource_version,
            labels={MANAGED_BY: "endpoint-controller", HEADLESS: ""},
        ),
        subsets=[
            o.EndpointSubset(
                addresses=[
                    o.EndpointAddress(
                        ip="1.2.3.4",
                        node_name="",
                        target_ref=o.ObjectReference(kind="Pod", namespace="other", name="pod0"),
                    )
                ],
                ports=[o.EndpointPort(port=8080, protocol="TCP")],
            )
        ],
    )


def test_worked_endpoints_of_test_6() -> None:
    ep = _test6_endpoints()
    assert wire.meta_size(ep.metadata) == 119
    assert wire.address_entry_size(ep.subsets[0].addresses[0]) == 43
    assert wire.endpoint_port_entry_size(ep.subsets[0].ports[0]) == 12
    assert len(wire.encode_raw(ep)) == 178
    assert wire.raw_size(ep) == 178
    assert wire.proto_size(ep) == 206
    assert len(wire.encode_proto(ep)) == 206
    # the subset field is 57 bytes: the raw message minus the metadata field
    assert wire.raw_size(ep) - wire.wrap(119) == 57


def test_storage_clears_resource_version() -> None:
    ep = _test6_endpoints(resource_version="12345")
    assert wire.proto_size(ep) == 206 + 5
    assert wire.proto_size(ep, include_resource_version=False) == 206
    assert wire.encode_proto(ep, include_resource_version=False) == wire.encode_proto(
        _test6_endpoints()
    )
    j_rv, _ = wire.sizes(ep)
    j_no, p_no = wire.sizes(ep, include_resource_version=False)
    assert j_rv - j_no == len(',"resourceVersion":"12345"')
    assert p_no == 206


UID = "2f1c0b0e-8a7d-4f5e-9c3b-1a2b3c4d5e6f"
REALISTIC_REF = o.ObjectReference(
    kind="Pod", namespace="default", name="web-7d9f8c6b5-abcde", uid=UID
)


def test_worked_realistic_entries() -> None:
    assert len(UID) == 36
    addr = o.EndpointAddress(ip="10.244.1.23", node_name="node-1", target_ref=REALISTIC_REF)
    assert wire.address_entry_size(addr) == 106
    ep = o.Endpoint(
        addresses=["10.244.1.23"],
        conditions=o.EndpointConditions(ready=True, serving=True, terminating=False),
        target_ref=REALISTIC_REF,
        node_name="node-1",
        zone="us-east-1a",
    )
    assert wire.endpoint_entry_size(ep) == 124
    port = o.EndpointSlicePort(name="http", protocol="TCP", port=8080)
    assert wire.slice_port_entry_size(port) == wire.wrap(14) == 16


def test_envelope_overheads() -> None:
    assert wire.envelope_size("Endpoints", 700) - 700 == 28
    assert wire.envelope_size(o.EndpointSlice, 700) - 700 == 49
    for n in (0, 1, 127, 128, 16383, 16384, 1_500_000):
        assert wire.envelope_size("Endpoints", n) == n + 26 + wire.sov(n)
        assert wire.envelope_size("EndpointSlice", n) == n + 47 + wire.sov(n)


def test_empty_object_meta_is_16_bytes() -> None:
    assert wire.meta_size(o.ObjectMeta()) == 16
    # and an empty Endpoints is the magic, the envelope and a metadata field
    assert wire.proto_size(o.Endpoints()) == wire.envelope_size("Endpoints", 18)


def _ref_varint_len(x: int) -> int:
    if x < 0:
        x += 1 << 64
    n = 1
    while x >= 128:
        x >>= 7
        n += 1
    return n


@pytest.mark.parametrize("x", [0, 1, 127, 128, 16383, 16384, 2**31 - 1, 2**63 - 1, -1, -(2**31)])
def test_sov(x: int) -> None:
    assert wire.sov(x) == _ref_varint_len(x)


@pytest.mark.parametrize("body,entry", [(127, 129), (128, 131)])
def test_varint_boundary_bodies(body: int, entry: int) -> None:
    # EndpointAddress{ip} body = 2 + len(ip) + 2 (empty hostname): choose len(ip).
    addr = o.EndpointAddress(ip="x" * (body - 4))
    raw = wire.encode_raw(o.Endpoints(subsets=[o.EndpointSubset(addresses=[addr])]))
    assert wire.address_entry_size(addr) == entry
    (_, _, meta), (_, _, subset) = list(_fields(raw))
    assert len(subset) == entry
    ((num, _, inner),) = list(_fields(subset))
    assert num == 1 and len(inner) == body


def test_negative_int32_takes_ten_bytes() -> None:
    neg = o.EndpointPort(port=-1, protocol="TCP")
    pos = o.EndpointPort(port=1, protocol="TCP")
    assert wire.endpoint_port_entry_size(neg) - wire.endpoint_port_entry_size(pos) == 9
    raw = wire.encode_raw(o.Endpoints(subsets=[o.EndpointSubset(ports=[neg])]))
    assert b"\x10" + b"\xff" * 9 + b"\x01" in raw
    svc = o.Service(spec=o.ServiceSpec(ports=[o.ServicePort(port=80, target_port=-5)]))
    assert wire.proto_size(svc) == len(wire.encode_proto(svc))


def test_incremental_formula() -> None:
    addrs = [
        o.EndpointAddress(ip=f"10.0.{i // 250}.{i % 250 + 1}", node_name=f"node-{i % 7}")
        for i in range(1500)
    ]
    ports = [o.EndpointPort(port=80, name="http"), o.EndpointPort(port=443, name="https")]
    ep = o.Endpoints(
        metadata=o.ObjectMeta(name="big", namespace="default"),
        subsets=[o.EndpointSubset(addresses=addrs[:1000], not_ready_addresses=addrs[1000:],
                                  ports=ports)],
    )
    s_body = sum(wire.address_entry_size(a) for a in addrs) + sum(
        wire.endpoint_port_entry_size(p) for p in ports
    )
    raw = wire.wrap(wire.meta_size(ep.metadata)) + wire.wrap(s_body)
    assert raw == len(wire.encode_raw(ep))
    assert wire.envelope_size("Endpoints", raw) == len(wire.encode_proto(ep))
    # JSON: the list-of-entries formula
    total = sum(wire.address_json_size(a) for a in addrs[:1000])
    assert wire.json_list_size(1000, total) == len(
        wire.go_json_bytes([wire._endpoint_address_json(a) for a in addrs[:1000]])
    )
    assert wire.json_list_size(0, 0) == 2


def test_entry_sizes_are_cached() -> None:
    calls = []
    addr = o.EndpointAddress(ip="10.9.8.7", hostname="cached")
    original = wire.endpoints._endpoint_address_len  # the sizer address_entry_size calls
    try:
        wire.endpoints._endpoint_address_len = lambda a: calls.append(a) or original(a)  # type: ignore[assignment]
        wire.clear_caches()
        first = wire.address_entry_size(addr)
        second = wire.address_entry_size(o.EndpointAddress(ip="10.9.8.7", hostname="cached"))
    finally:
        wire.endpoints._endpoint_address_len = original  # type: ignore[assignment]
    assert first == second
    assert len(calls) == 1


def test_zero_value_objects_of_every_kind() -> None:
    # Unmodelled non-pointer fields are written as Go zero values; a zero Namespace is
    # metadata{16} + spec{} + status{phase ""}.
    ns = o.Namespace()
    assert wire.encode_raw(ns) == b"\x0a\x10" + bytes(wire.encode_raw(ns)[2:18]) + (
        b"\x12\x00\x1a\x02\x0a\x00"
    )
    for cls in o.KINDS.values():
        obj = cls()
        raw = wire.encode_raw(obj)
        assert wire.proto_size(obj) == len(wire.encode_proto(obj)) == wire.envelope_size(
            cls, len(raw)
        )
        nums = [num for num, _, _ in _fields(raw)]
        assert nums == sorted(nums) and nums[0] == 1


def test_go_json_escaping() -> None:
    assert wire.go_json_bytes("<a&b>") == b'"\\u003ca\\u0026b\\u003e"'
    assert wire.go_json_bytes("é") == '"é"'.encode()
    assert wire.go_json_bytes("\u2028") == b'"\\u2028"'
    ep = o.Endpoints(metadata=o.ObjectMeta(name="x", annotations={"a": "<é>\n\x01"}))
    ref = {
        "kind": "Endpoints",
        "apiVersion": "v1",
        "metadata": {"name": "x", "annotations": {"a": "<é>\n\x01"}},
    }
    assert wire.json_size(ep) == len(wire.go_json_bytes(ref))


# --------------------------------------------------------------------------------------------
# property tests

_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
)
_ascii = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-./<>&\"\\", max_size=12)
_str = st.one_of(_ascii, _text)
_opt_str = st.none() | _str
_int32 = st.integers(-(2**31), 2**31 - 1)
_opt_int32 = st.none() | _int32
_opt_bool = st.none() | st.booleans()
_time = st.none() | st.integers(0, 4_102_444_800)
_map = st.dictionaries(_str, _str, max_size=3).map(o.FrozenDict)
_int_or_str = st.one_of(_int32, _ascii)

_ref = st.builds(
    o.ObjectReference,
    kind=_str,
    namespace=_str,
    name=_str,
    uid=_str,
    api_version=_str,
    resource_version=_str,
    field_path=_str,
)
_meta = st.builds(
    o.ObjectMeta,
    name=_str,
    generate_name=_str,
    namespace=_str,
    uid=_str,
    resource_version=_str,
    generation=st.integers(0, 2**40),
    creation_timestamp=_time,
    deletion_timestamp=_time,
    deletion_grace_period_seconds=st.none() | st.integers(0, 10**6),
    labels=_map,
    annotations=_map,
    owner_references=st.lists(
        st.builds(
            o.OwnerReference,
            api_version=_str,
            kind=_str,
            name=_str,
            uid=_str,
            controller=_opt_bool,
            block_owner_deletion=_opt_bool,
        ),
        max_size=2,
    ),
    finalizers=st.lists(_str, max_size=2),
    managed_fields=st.lists(
        st.builds(
            o.ManagedFieldsEntry,
            manager=_str,
            operation=_str,
            api_version=_str,
            time=_time,
            fields_type=_str,
            fields_v1=st.none() | st.sampled_from(['{"f:subsets":{}}', "{}"]),
            subresource=_str,
        ),
        max_size=2,
    ),
)
_address = st.builds(
    o.EndpointAddress, ip=_str, hostname=_str, node_name=_opt_str, target_ref=st.none() | _ref
)
_core_port = st.builds(
    o.EndpointPort, port=_int32, name=_str, protocol=_str, app_protocol=_opt_str
)
_subset = st.builds(
    o.EndpointSubset,
    addresses=st.lists(_address, max_size=4),
    not_ready_addresses=st.lists(_address, max_size=3),
    ports=st.lists(_core_port, max_size=3),
)
_endpoints = st.builds(o.Endpoints, metadata=_meta, subsets=st.lists(_subset, max_size=3))
_slice_endpoint = st.builds(
    o.Endpoint,
    addresses=st.lists(_str, min_size=1, max_size=2),
    conditions=st.builds(
        o.EndpointConditions, ready=_opt_bool, serving=_opt_bool, terminating=_opt_bool
    ),
    hostname=_opt_str,
    target_ref=st.none() | _ref,
    deprecated_topology=_map,
    node_name=_opt_str,
    zone=_opt_str,
    hints=st.none()
    | st.builds(
        o.EndpointHints,
        for_zones=st.lists(st.builds(o.ForZone, name=_str), max_size=2),
        for_nodes=st.lists(st.builds(o.ForNode, name=_str), max_size=2),
    ),
)
_slice_port = st.builds(
    o.EndpointSlicePort, name=_opt_str, protocol=_opt_str, port=_opt_int32, app_protocol=_opt_str
)
_slice = st.builds(
    o.EndpointSlice,
    metadata=_meta,
    address_type=_str,
    endpoints=st.lists(_slice_endpoint, max_size=4),
    ports=st.lists(_slice_port, max_size=3),
)
_probe = st.builds(
    o.Probe,
    http_get=st.none()
    | st.builds(o.HTTPGetAction, port=_int_or_str, path=_str, host=_str, scheme=_str),
    tcp_socket=st.none() | st.builds(o.TCPSocketAction, port=_int_or_str, host=_str),
    exec=st.none() | st.builds(o.ExecAction, command=st.lists(_str, max_size=2)),
    initial_delay_seconds=_int32,
    timeout_seconds=_int32,
)
_handler = st.builds(
    o.LifecycleHandler,
    exec=st.none() | st.builds(o.ExecAction, command=st.lists(_str, max_size=2)),
    http_get=st.none() | st.builds(o.HTTPGetAction, port=_int_or_str, path=_str),
    tcp_socket=st.none() | st.builds(o.TCPSocketAction, port=_int_or_str),
    sleep=st.none() | st.builds(o.SleepAction, seconds=st.integers(-(2**40), 2**40)),
)
_lifecycle = st.builds(o.Lifecycle, post_start=st.none() | _handler, pre_stop=st.none() | _handler)
_container = st.builds(
    o.Container,
    name=_str,
    image=_str,
    ports=st.lists(
        st.builds(
            o.ContainerPort,
            container_port=_int32,
            name=_str,
            protocol=_str,
            host_port=_opt_int32,
            host_ip=_str,
        ),
        max_size=2,
    ),
    readiness_probe=st.none() | _probe,
    liveness_probe=st.none() | _probe,
    resources=st.builds(o.ResourceRequirements, requests=_map, limits=_map),
    restart_policy=_opt_str,
    startup_probe=st.none() | _probe,
    lifecycle=st.none() | _lifecycle,
)
_pod_spec = st.builds(
    o.PodSpec,
    containers=st.lists(_container, max_size=2),
    init_containers=st.lists(_container, max_size=1),
    node_name=_str,
    hostname=_str,
    subdomain=_str,
    restart_policy=_str,
    termination_grace_period_seconds=st.none() | st.integers(-5, 10**5),
    node_selector=_map,
    scheduler_name=_str,
    host_network=st.booleans(),
    readiness_gates=st.lists(st.builds(o.PodReadinessGate, condition_type=_str), max_size=2),
)
_container_state = st.builds(
    o.ContainerState,
    waiting=st.none() | st.builds(o.ContainerStateWaiting, reason=_str, message=_str),
    running=st.none() | st.builds(o.ContainerStateRunning, started_at=_time),
    terminated=st.none()
    | st.builds(
        o.ContainerStateTerminated,
        exit_code=_int32,
        signal=_int32,
        reason=_str,
        message=_str,
        started_at=_time,
        finished_at=_time,
        container_id=_str,
    ),
)
_container_status = st.builds(
    o.ContainerStatus,
    name=_str,
    state=_container_state,
    last_state=_container_state,
    ready=st.booleans(),
    restart_count=_int32,
    image=_str,
    image_id=_str,
    container_id=_str,
    started=_opt_bool,
)
_pod = st.builds(
    o.Pod,
    metadata=_meta,
    spec=_pod_spec,
    status=st.builds(
        o.PodStatus,
        phase=_str,
        conditions=st.lists(
            st.builds(
                o.PodCondition,
                type=_str,
                status=_str,
                last_transition_time=_time,
                last_probe_time=_time,
                reason=_str,
                message=_str,
            ),
            max_size=2,
        ),
        host_ip=_str,
        pod_ip=_str,
        pod_ips=st.lists(st.builds(o.PodIP, ip=_str), max_size=2),
        start_time=_time,
        container_statuses=st.lists(_container_status, max_size=2),
        init_container_statuses=st.lists(_container_status, max_size=1),
        host_ips=st.lists(st.builds(o.HostIP, ip=_str), max_size=2),
    ),
)
_service = st.builds(
    o.Service,
    metadata=_meta,
    spec=st.builds(
        o.ServiceSpec,
        ports=st.lists(
            st.builds(
                o.ServicePort,
                port=_int32,
                name=_str,
                protocol=_str,
                app_protocol=_opt_str,
                target_port=_int_or_str,
                node_port=_int32,
            ),
            max_size=2,
        ),
        selector=st.none() | _map,
        cluster_ip=_str,
        cluster_ips=st.lists(_str, max_size=2),
        type=_str,
        external_name=_str,
        external_traffic_policy=_str,
        internal_traffic_policy=_opt_str,
        session_affinity=_str,
        ip_families=st.lists(_str, max_size=2),
        ip_family_policy=_opt_str,
        publish_not_ready_addresses=st.booleans(),
        traffic_distribution=_opt_str,
    ),
)
_node = st.builds(
    o.Node,
    metadata=_meta,
    spec=st.builds(
        o.NodeSpec,
        pod_cidr=_str,
        pod_cidrs=st.lists(_str, max_size=2),
        unschedulable=st.booleans(),
        taints=st.lists(
            st.builds(o.Taint, key=_str, effect=_str, value=_str, time_added=_time), max_size=2
        ),
    ),
    status=st.builds(
        o.NodeStatus,
        capacity=_map,
        allocatable=_map,
        conditions=st.lists(
            st.builds(
                o.NodeCondition,
                type=_str,
                status=_str,
                last_heartbeat_time=_time,
                last_transition_time=_time,
                reason=_str,
                message=_str,
            ),
            max_size=2,
        ),
        addresses=st.lists(st.builds(o.NodeAddress, type=_str, address=_str), max_size=2),
        node_info=st.builds(
            o.NodeSystemInfo,
            machine_id=_str,
            system_uuid=_str,
            boot_id=_str,
            kernel_version=_str,
            os_image=_str,
            container_runtime_version=_str,
            kubelet_version=_str,
            kube_proxy_version=_str,
            operating_system=_str,
            architecture=_str,
        ),
    ),
)
_selector = st.none() | st.builds(
    o.LabelSelector,
    match_labels=_map,
    match_expressions=st.lists(
        st.builds(
            o.LabelSelectorRequirement,
            key=_str,
            operator=_str,
            values=st.lists(_str, max_size=2),
        ),
        max_size=2,
    ),
)
_template = st.builds(o.PodTemplateSpec, metadata=_meta, spec=_pod_spec)
_deployment = st.builds(
    o.Deployment,
    metadata=_meta,
    spec=st.builds(
        o.DeploymentSpec,
        selector=_selector,
        template=_template,
        replicas=_opt_int32,
        strategy=st.builds(
            o.DeploymentStrategy,
            type=_str,
            rolling_update=st.none()
            | st.builds(
                o.RollingUpdateDeployment,
                max_unavailable=st.none() | _int_or_str,
                max_surge=st.none() | _int_or_str,
            ),
        ),
        min_ready_seconds=_int32,
        revision_history_limit=_opt_int32,
        paused=st.booleans(),
        progress_deadline_seconds=_opt_int32,
    ),
    status=st.builds(
        o.DeploymentStatus,
        observed_generation=st.integers(0, 2**40),
        replicas=_int32,
        updated_replicas=_int32,
        ready_replicas=_int32,
        available_replicas=_int32,
        unavailable_replicas=_int32,
    ),
)
_replica_set = st.builds(
    o.ReplicaSet,
    metadata=_meta,
    spec=st.builds(
        o.ReplicaSetSpec,
        selector=_selector,
        template=_template,
        replicas=_opt_int32,
        min_ready_seconds=_int32,
    ),
    status=st.builds(
        o.ReplicaSetStatus,
        replicas=_int32,
        fully_labeled_replicas=_int32,
        ready_replicas=_int32,
        available_replicas=_int32,
        observed_generation=st.integers(0, 2**40),
    ),
)
_stateful_set = st.builds(
    o.StatefulSet,
    metadata=_meta,
    spec=st.builds(
        o.StatefulSetSpec,
        replicas=_opt_int32,
        selector=_selector,
        template=_template,
        service_name=_str,
        pod_management_policy=_str,
        update_strategy=st.builds(
            o.StatefulSetUpdateStrategy,
            type=_str,
            rolling_update=st.none()
            | st.builds(o.RollingUpdateStatefulSetStrategy, partition=_opt_int32,
                        max_unavailable=st.none() | _int_or_str),
        ),
        revision_history_limit=_opt_int32,
        min_ready_seconds=_int32,
    ),
    status=st.builds(
        o.StatefulSetStatus,
        observed_generation=st.integers(0, 2**40),
        replicas=_int32,
        ready_replicas=_int32,
        current_replicas=_int32,
        updated_replicas=_int32,
        current_revision=_str,
        update_revision=_str,
        collision_count=_opt_int32,
        available_replicas=_int32,
    ),
)
_daemon_set = st.builds(
    o.DaemonSet,
    metadata=_meta,
    spec=st.builds(
        o.DaemonSetSpec,
        selector=_selector,
        template=_template,
        update_strategy=st.builds(
            o.DaemonSetUpdateStrategy,
            type=_str,
            rolling_update=st.none()
            | st.builds(o.RollingUpdateDaemonSet, max_unavailable=st.none() | _int_or_str,
                        max_surge=st.none() | _int_or_str),
        ),
        min_ready_seconds=_int32,
        revision_history_limit=_opt_int32,
    ),
    status=st.builds(
        o.DaemonSetStatus,
        current_number_scheduled=_int32,
        number_misscheduled=_int32,
        desired_number_scheduled=_int32,
        number_ready=_int32,
        observed_generation=st.integers(0, 2**40),
        updated_number_scheduled=_int32,
        number_available=_int32,
        number_unavailable=_int32,
        collision_count=_opt_int32,
    ),
)
_namespace = st.builds(o.Namespace, metadata=_meta)
any_object = st.one_of(
    _endpoints, _slice, _pod, _service, _node, _namespace, _deployment, _replica_set, _stateful_set, _daemon_set
)


def _check_tree(buf: bytes) -> None:
    """Every message parses, with fields in ascending number order."""
    nums = [num for num, _, _ in _fields(buf)]
    assert nums == sorted(nums)


@given(any_object, st.booleans())
def test_proto_size_equals_encoding_length(obj: Any, include_rv: bool) -> None:
    data = wire.encode_proto(obj, include_resource_version=include_rv)
    assert wire.proto_size(obj, include_resource_version=include_rv) == len(data)
    assert data[:4] == b"k8s\x00"
    envelope = list(_fields(data[4:]))
    assert [n for n, _, _ in envelope] == [1, 2, 3, 4]
    type_meta = list(_fields(envelope[0][2]))
    assert type_meta == [(1, 2, obj.api_version.encode()), (2, 2, obj.kind.encode())]
    raw = envelope[1][2]
    assert raw == wire.encode_raw(obj, include_resource_version=include_rv)
    assert envelope[2][2] == b"" and envelope[3][2] == b""
    _check_tree(raw)
    meta = list(_fields(raw))[0][2]
    _check_tree(meta)
    if not include_rv:
        fields = dict((n, v) for n, _, v in _fields(meta) if n in (4, 6))
        assert fields == {4: b"", 6: b""}


@given(st.one_of(_endpoints, _slice))
def test_proto_entry_decomposition(obj: Any) -> None:
    raw = wire.encode_raw(obj)
    fields = list(_fields(raw))
    if isinstance(obj, o.Endpoints):
        for (num, _, body), subset in zip(fields[1:], obj.subsets, strict=True):
            expected = (
                sum(wire.address_entry_size(a) for a in subset.addresses)
                + sum(wire.address_entry_size(a) for a in subset.not_ready_addresses)
                + sum(wire.endpoint_port_entry_size(p) for p in subset.ports)
            )
            assert num == 2 and len(body) == expected
    else:
        bodies = [b for n, _, b in fields if n == 2]
        assert [wire.wrap(len(b)) for b in bodies] == [
            wire.endpoint_entry_size(e) for e in obj.endpoints
        ]
        ports = [b for n, _, b in fields if n == 3]
        assert [wire.wrap(len(b)) for b in ports] == [
            wire.slice_port_entry_size(p) for p in obj.ports
        ]


def _reference_json(obj: Any, include_rv: bool = True) -> dict[str, Any]:
    """The served JSON of an Endpoints/EndpointSlice assembled whole (not from sizes)."""
    d: dict[str, Any] = {
        "kind": obj.kind,
        "apiVersion": obj.api_version,
        "metadata": wire._meta_json(obj.metadata, include_rv),
    }
    if isinstance(obj, o.Endpoints):
        subsets = []
        for s in obj.subsets:
            x: dict[str, Any] = {}
            if s.addresses:
                x["addresses"] = [wire._endpoint_address_json(a) for a in s.addresses]
            if s.not_ready_addresses:
                x["notReadyAddresses"] = [
                    wire._endpoint_address_json(a) for a in s.not_ready_addresses
                ]
            if s.ports:
                x["ports"] = [wire._endpoint_port_json(p) for p in s.ports]
            subsets.append(x)
        if subsets:
            d["subsets"] = subsets
    else:
        d["addressType"] = obj.address_type
        d["endpoints"] = [wire._slice_endpoint_json(e) for e in obj.endpoints] or None
        d["ports"] = [wire._slice_port_json(p) for p in obj.ports] or None
    return d


def _go_bytes_with_raw(value: Any) -> bytes:
    def fix(v: Any) -> Any:
        if isinstance(v, wire._RawJSON):
            return json.loads(v.text) if v.text.strip() else None
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return wire.go_json_bytes(fix(value))


@given(st.one_of(_endpoints, _slice), st.booleans())
def test_json_size_equals_whole_encoding(obj: Any, include_rv: bool) -> None:
    ref = _go_bytes_with_raw(_reference_json(obj, include_rv))
    assert wire.json_size(obj, include_resource_version=include_rv) == len(ref)


@given(st.dictionaries(_ascii, st.one_of(_ascii, st.integers(), st.booleans(), st.none())))
def test_go_json_matches_python_for_plain_ascii(d: dict[str, Any]) -> None:
    if any(c in json.dumps(d) for c in "<>&"):
        return
    assert wire.go_json_bytes(d) == _compact(d)
    assert wire._go_json_len(d) == len(_compact(d))


@given(any_object)
def test_json_size_matches_to_manifest(obj: Any) -> None:
    manifests = pytest.importorskip("kubesim.manifests")
    manifest = manifests.to_manifest(obj)
    assert wire.json_size(obj) == len(wire.go_json_bytes(manifest))


def test_json_size_is_len_of_python_compact_json_for_plain_ascii() -> None:
    manifests = pytest.importorskip("kubesim.manifests")
    ep = _test6_endpoints("42")
    assert wire.json_size(ep) == len(
        json.dumps(manifests.to_manifest(ep), separators=(",", ":"))
    )



def test_sizes3_equals_two_sizes_calls() -> None:
    ep = _test6_endpoints("42")
    json_b, proto_b = wire.sizes(ep)
    stored = wire.sizes(ep, include_resource_version=False)[1]
    assert wire.sizes3(ep) == (json_b, proto_b, stored)
    assert stored < proto_b  # the stored form has no resourceVersion


def test_spec_cache_sees_a_changed_spec() -> None:
    pod = o.Pod(metadata=o.ObjectMeta(name="p", namespace="default"),
                spec=o.PodSpec(containers=(o.Container(name="c", image="a"),)))
    first = wire.proto_size(pod)
    changed = attrs.evolve(pod, spec=o.PodSpec(containers=(o.Container(name="c", image="a-much-longer-image"),)))
    assert first == len(wire.encode_proto(pod))
    assert wire.proto_size(changed) == len(wire.encode_proto(changed)) > first


_json_text = st.text(alphabet=st.sampled_from(list('ab1.-"\\<>&é日\u2028\n\t\x01/')), max_size=6)
_maybe_text = st.none() | _json_text
_object_references = st.builds(
    o.ObjectReference, kind=_json_text, namespace=_json_text, name=_json_text, uid=_json_text,
    api_version=_json_text, resource_version=_json_text, field_path=_json_text,
)


@given(
    addresses=st.lists(_json_text, max_size=3),
    ready=st.none() | st.booleans(),
    serving=st.none() | st.booleans(),
    terminating=st.none() | st.booleans(),
    hostname=_maybe_text,
    target_ref=st.none() | _object_references,
    node_name=_maybe_text,
    zone=_maybe_text,
    ip=_json_text,
    address_hostname=_json_text,
)
def test_endpoint_and_address_json_sizes_by_arithmetic_are_go_json_lengths(
    addresses: list[str], ready: bool | None, serving: bool | None, terminating: bool | None, hostname: str | None,
    target_ref: o.ObjectReference | None, node_name: str | None, zone: str | None, ip: str, address_hostname: str,
) -> None:
    from kubesim.wire import endpoints as we

    ep = o.Endpoint(
        addresses=tuple(addresses), conditions=o.EndpointConditions(ready=ready, serving=serving, terminating=terminating),
        hostname=hostname, target_ref=target_ref, node_name=node_name, zone=zone,
    )
    js = len(wire.go_json_bytes(we._slice_endpoint_json(ep)))
    assert we._endpoint_json_len(ep) == js
    # the packed pair against the encoded entry and the Go JSON bytes, not against the two
    # functions it is written as
    assert we.endpoint_entry_pair(ep) == wire.wrap(len(we._slice_endpoint(ep))) + (js << 40)
    addr = o.EndpointAddress(ip=ip, hostname=address_hostname, node_name=node_name, target_ref=target_ref)
    assert wire.address_json_size(addr) == len(wire.go_json_bytes(we._endpoint_address_json(addr)))


@given(ip=_json_text, hostname=_json_text, node_name=_maybe_text, target_ref=st.none() | _object_references)
def test_measured_address_sizes_are_the_encoded_entry_and_go_json_lengths(
    ip: str, hostname: str, node_name: str | None, target_ref: o.ObjectReference | None
) -> None:
    from kubesim.wire import endpoints as we

    addr = o.EndpointAddress(ip=ip, hostname=hostname, node_name=node_name, target_ref=target_ref)
    assert wire.measured_address_sizes(addr) == (
        wire.wrap(len(we._endpoint_address(addr))),
        len(wire.go_json_bytes(we._endpoint_address_json(addr))),
    )
