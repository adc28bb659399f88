"""The three upstream deviations issue 17's fidelity audit found, each with its upstream case.

* ``Cluster.connect`` and node hints (``pkg/proxy/topology.go`` ``topologyModeFromHints``:
  behind ``PreferSameTrafficDistribution``, when every ready endpoint has node hints and one
  names this node, only the endpoints hinted for this node are used);
* IPv6 with a leading-zero group (``k8s.io/utils/net`` ``ParseIPSloppy``, the Go 1.16 parser:
  a group is any run of hex digits worth at most ``0xffff``);
* mirroring and a mirrored slice whose owner reference names the Endpoints with an old uid
  (``pkg/controller/endpointslicemirroring`` reconciler: the slice is rebuilt, not left for
  the garbage collector).
"""

from __future__ import annotations

import attrs
import pytest

import kubesim
import kubesim.scenarios
from kubesim import netutil
from kubesim.controllers.endpoints.reconciler import endpoints_for
from kubesim.controllers.endpointslice.reconciler import reconcile_endpoint_slices
from kubesim.controllers.mirroring.reconciler import reconcile_mirroring
from kubesim.objects import (
    Container,
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSubset,
    Node,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    Service,
    ServicePort,
    ServiceSpec,
)

# ---------------------------------------------------------------- PreferSameNode in connect()


def _same_node_cluster(gate: bool) -> kubesim.Cluster:
    c = kubesim.Cluster(seed=1, nodes=3, zones=1, prefer_same_traffic_distribution=gate)
    kubesim.scenarios.deploy(c, "web", replicas=6)
    c.run()
    svc = c.get("Service", "web")
    c.update(attrs.evolve(svc, spec=attrs.evolve(svc.spec, traffic_distribution="PreferSameNode")))
    c.run()
    return c


def _backend_nodes(c: kubesim.Cluster, node: str, n: int = 200) -> set[str]:
    return {c.connect("web", 80, from_node=node).node or "" for _ in range(n)}


def test_connect_prefer_same_node_uses_only_this_nodes_endpoints() -> None:
    c = _same_node_cluster(gate=True)
    nodes = {p.spec.node_name for p in c.list("Pod")}
    assert len(nodes) == 3  # every node runs a backend
    slices = c.list("EndpointSlice", selector="kubernetes.io/service-name=web")
    assert all(e.hints is not None and e.hints.for_nodes for s in slices for e in s.endpoints)
    for node in sorted(nodes):
        assert _backend_nodes(c, node) == {node}


def test_connect_without_the_gate_spreads_over_every_node() -> None:
    c = _same_node_cluster(gate=False)
    # one zone: zone hints (if any) name every endpoint, so every node's backends are used
    assert _backend_nodes(c, "node-1") == {"node-1", "node-2", "node-3"}


def test_connect_node_hints_for_another_node_only_fall_back_to_all() -> None:
    # topologyModeFromHints: every endpoint has node hints but none names this node -> no
    # narrowing (the client's node runs no backend).
    c = _same_node_cluster(gate=True)
    c.add_node("node-4", zone=c.zones[0])
    c.run()
    assert not [p for p in c.list("Pod") if p.spec.node_name == "node-4"]
    assert _backend_nodes(c, "node-4") == {"node-1", "node-2", "node-3"}


# ---------------------------------------------------------------- ParseIPSloppy and IPv6


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("02000::4", "2000::4"),
        ("0000002000::4", "2000::4"),
        ("2001:0db8:00000:0::1", "2001:db8::1"),
        ("1:2:3:4:5:6:7::8", "1:2:3:4:5:6:7:8"),  # "::" standing for no group, as Go reads it
        ("::ffff:010.001.0.1", "10.1.0.1"),  # an IPv4 tail with leading zeros, mapped
        ("12345::1", None),  # 0x12345 > 0xffff
        ("1::2::3", None),
        ("1:2:3:4:5:6:7:8:9", None),
        ("fe80::1%eth0", None),
    ],
)
def test_parse_ip_sloppy_ipv6(text: str, want: str | None) -> None:
    assert netutil.canonical_ip(text) == want


def _dual_stack_pod(ips: tuple[str, ...]) -> Pod:
    return Pod(
        metadata=ObjectMeta(name="pod0", namespace="default", uid="uid-0", labels={"app": "x"}),
        spec=PodSpec(containers=(Container("c", "nginx"),), node_name="node-1"),
        status=PodStatus(
            phase="Running",
            pod_ip=ips[0],
            pod_ips=tuple(PodIP(ip) for ip in ips),
            conditions=(PodCondition("Ready", "True"),),
        ),
    )


def _v6_service() -> Service:
    return Service(
        metadata=ObjectMeta(name="svc", namespace="default", uid="svc-uid"),
        spec=ServiceSpec(
            selector={"app": "x"},
            ports=(ServicePort(port=80, name="http", target_port=80),),
            cluster_ip="fd00::1",
            cluster_ips=("fd00::1",),
            ip_families=("IPv6",),
        ),
    )


def test_endpointslice_controller_files_a_leading_zero_ipv6_pod_ip_as_ipv6() -> None:
    # utilnet.IsIPv6String(podIP) (ParseIPSloppy) decides the family of a pod IP.
    node = Node(metadata=ObjectMeta(name="node-1"))
    plan = reconcile_endpoint_slices(_v6_service(), [_dual_stack_pod(("10.0.0.1", "02000::4"))], [], nodes=[node])
    (created,) = plan.creates
    assert created.address_type == "IPv6"
    assert len(created.endpoints) == 1
    assert netutil.canonical_ip(created.endpoints[0].addresses[0]) == "2000::4"


def test_endpoints_controller_takes_a_leading_zero_ipv6_pod_ip_for_an_ipv6_service() -> None:
    eps = endpoints_for(_v6_service(), [_dual_stack_pod(("10.0.0.1", "02000::4"))])
    (subset,) = eps.subsets
    (addr,) = subset.addresses
    assert netutil.canonical_ip(addr.ip) == "2000::4"


def test_the_api_server_accepts_a_leading_zero_ipv6_endpoint() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    c.create(Endpoints(
        metadata=ObjectMeta(name="legacy"),
        subsets=(EndpointSubset(addresses=(EndpointAddress(ip="02000::4"),), ports=(EndpointPort(port=80),)),),
    ))
    assert c.get("Endpoints", "legacy").subsets[0].addresses[0].ip in ("02000::4", "2000::4")


# ---------------------------------------------------------------- mirroring owner references


def _endpoints(uid: str) -> Endpoints:
    return Endpoints(
        metadata=ObjectMeta(name="test-ep", namespace="default", uid=uid),
        subsets=(EndpointSubset(addresses=(EndpointAddress(ip="10.0.0.1"),), ports=(EndpointPort(port=80, name="http"),)),),
    )


def _mirrored(endpoints: Endpoints) -> object:
    (created,) = reconcile_mirroring(endpoints, []).creates
    return attrs.evolve(created, metadata=attrs.evolve(created.metadata, name="test-ep-abcde", generate_name=""))


def test_mirrored_slice_with_the_owner_of_a_previous_endpoints_is_rebuilt() -> None:
    old = _endpoints("old-uid")
    existing = _mirrored(old)
    new = _endpoints("new-uid")  # deleted and created again: same name, new uid
    plan = reconcile_mirroring(new, [existing])  # type: ignore[list-item]
    assert [s.metadata.name for s in plan.updates] == ["test-ep-abcde"]
    assert plan.creates == () and plan.deletes == ()
    (owner,) = plan.updates[0].metadata.owner_references
    assert owner == OwnerReference(api_version="v1", kind="Endpoints", name="test-ep", uid="new-uid",
                                   controller=True, block_owner_deletion=True)


def test_mirrored_slice_with_the_current_owner_or_none_is_left_alone() -> None:
    eps = _endpoints("uid-1")
    existing = _mirrored(eps)
    assert reconcile_mirroring(eps, [existing]).actions == 0  # type: ignore[list-item]
    ownerless = attrs.evolve(existing, metadata=attrs.evolve(existing.metadata, owner_references=()))  # type: ignore[misc]
    assert reconcile_mirroring(eps, [ownerless]).actions == 0
