"""Node ports (issue 17): allocated from 30000-32767 by the API server's allocator, seeded,
unique, released as upstream releases them, shown by kubectl, reachable through connect()."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kubesim
from kubesim import scenarios as sc
from kubesim import wire
from kubesim.ipam import NODE_PORT_RANGE, PortAllocator, _range_offset
from kubesim.manifests import to_manifest


def _np(name: str, *, ports: str = "[{port: 80}]", type_: str = "NodePort", extra: str = "") -> str:
    return (f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\n"
            f"spec: {{type: {type_}, selector: {{app: web}}, ports: {ports}{extra}}}\n")


def _cluster(**kwargs: Any) -> kubesim.Cluster:
    kwargs.setdefault("controllers", [])
    return kubesim.Cluster(seed=0, nodes=2, **kwargs)


def _node_ports(c: kubesim.Cluster, name: str) -> list[int]:
    return [p.node_port for p in c.get("Service", name).spec.ports]


def test_node_port_and_load_balancer_services_get_node_ports() -> None:
    c = _cluster()
    c.apply_yaml(_np("a") + "---\n" + _np("b", type_="LoadBalancer") + "---\n" + _np("c", type_="ClusterIP"))
    (a,), (b,), (z,) = _node_ports(c, "a"), _node_ports(c, "b"), _node_ports(c, "c")
    lo, hi = NODE_PORT_RANGE
    assert lo <= a <= hi and lo <= b <= hi and a != b and z == 0
    # kubectl's PORT(S) column: port:nodePort/protocol
    out = c.kubectl("get svc")
    assert f"80:{a}/TCP" in out and f"80:{b}/TCP" in out
    assert f"NodePort:                 <unset>  {a}/TCP" in c.kubectl("describe svc a")
    c._check()


def test_allocation_is_seeded() -> None:
    def ports(seed: int) -> list[int]:
        c = kubesim.Cluster(seed=seed, nodes=1, controllers=[])
        for i in range(5):
            c.apply_yaml(_np(f"s{i}"))
        return [_node_ports(c, f"s{i}")[0] for i in range(5)]

    assert ports(1) == ports(1)
    assert ports(1) != ports(2)


def test_dynamic_allocation_keeps_out_of_the_static_band() -> None:
    # portallocator.calculateRangeOffset: min(max(16, 2768/32), 128) = 86 ports kept for
    # explicit requests while the upper band has room (randomScanStrategyWithOffset).
    assert _range_offset(2768) == 86
    alloc = PortAllocator(__import__("random").Random(0))
    got = [alloc.allocate_next() for _ in range(2768 - 86)]
    assert min(got) == 30086 and len(set(got)) == len(got)
    rest = [alloc.allocate_next() for _ in range(86)]
    assert sorted(rest) == list(range(30000, 30086))
    with pytest.raises(kubesim.KubesimError, match="range is full"):
        alloc.allocate_next()


def _state(c: kubesim.Cluster) -> tuple[object, ...]:
    # fingerprint() is code under test: the log, resourceVersion, store and RNG read beside it
    return (*c.api.fingerprint(), len(c.changes), c.api.statistics().resource_version, c.api.snapshot(),
            c.rng.getstate())


def test_an_explicit_port_that_is_taken_is_refused_with_the_registry_message() -> None:
    c = _cluster()
    c.apply_yaml(_np("a", ports="[{port: 80, nodePort: 30080}]"))
    before = _state(c)
    with pytest.raises(kubesim.InvalidObject) as info:
        c.apply_yaml(_np("b", ports="[{name: x, port: 81}, {name: y, port: 80, nodePort: 30080}]"))
    assert str(info.value) == (
        'Service "b" is invalid: spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated'
    )
    assert info.value.fields == ("spec.ports[1].nodePort",)
    assert _state(c) == before  # the port drawn for spec.ports[0] was given back
    c._check()  # the allocators hold exactly the stored Services' ports
    with pytest.raises(kubesim.InvalidObject, match="spec.ports.0..nodePort: Invalid value: 8080: provided port is "
                                                    "not in the valid range. The range of valid ports is 30000-32767"):
        c.apply_yaml(_np("c", ports="[{port: 80, nodePort: 8080}]"))
    assert _state(c) == before


def test_deleting_a_service_releases_its_node_ports() -> None:
    c = _cluster()
    c.apply_yaml(_np("a", ports="[{port: 80, nodePort: 30080}]"))
    c.delete("Service", "a")
    c.apply_yaml(_np("b", ports="[{port: 80, nodePort: 30080}]"))
    assert _node_ports(c, "b") == [30080]
    c._check()


def test_reapplying_keeps_the_node_port_and_a_type_change_releases_it() -> None:
    c = _cluster()
    c.apply_yaml(_np("a"))
    (first,) = _node_ports(c, "a")
    c.apply_yaml(_np("a", extra=", sessionAffinity: None"))  # patchAllocatedValues
    assert _node_ports(c, "a") == [first]
    c.apply_yaml(_np("a", type_="ClusterIP"))  # dropTypeDependentFields: cleared and released
    assert _node_ports(c, "a") == [0]
    assert not c.service_allocations.node_ports.in_use(first)
    c.apply_yaml(_np("z", ports=f"[{{port: 80, nodePort: {first}}}]"))
    c._check()


def test_tcp_and_udp_on_one_port_share_a_node_port() -> None:
    c = _cluster()
    c.apply_yaml(_np("dns", ports="[{name: a, port: 53, protocol: UDP}, {name: b, port: 53, protocol: TCP}]"))
    udp, tcp = _node_ports(c, "dns")
    assert udp == tcp != 0
    c._check()


def test_the_size_on_the_wire_counts_the_node_port() -> None:
    c = _cluster(record_objects=True)
    c.apply_yaml(_np("a"))
    svc = c.get("Service", "a")
    event = c.changes[-1]
    assert event.object == svc
    # the fast sizes against the full encodings
    assert event.json_bytes == wire.json_size(svc) == len(wire.go_json_bytes(to_manifest(svc)))
    assert event.proto_bytes == wire.proto_size(svc) == len(wire.encode_proto(svc))
    assert svc.spec.ports[0].node_port > 0


def test_connect_through_a_node_port_with_external_traffic_policy_local() -> None:
    c = kubesim.Cluster(seed=0, nodes=3)
    sc.deploy(c, "web", replicas=1)
    c.run()
    svc = c.get("Service", "web")
    c.update(attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, resource_version=""),
                          spec=attrs.evolve(svc.spec, type="NodePort", external_traffic_policy="Local")))
    c.run()
    (node_port,) = _node_ports(c, "web")
    pod = c.list("pods")[0]
    here, elsewhere = pod.spec.node_name, next(n.metadata.name for n in c.list("nodes")
                                                if n.metadata.name != pod.spec.node_name)
    backend = c.connect("web", node_port, external=True, from_node=here)
    assert backend.pod == pod.metadata.name
    assert str(c.connect("web", 80, external=True, from_node=here)) == str(backend)
    with pytest.raises(kubesim.NoEndpoints, match=f"{elsewhere}:{node_port}: i/o timeout"):
        c.connect("web", node_port, external=True, from_node=elsewhere)  # Local: no local endpoint


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["create", "delete", "retype", "explicit"]), st.integers(0, 5),
                          st.integers(30000, 30010)), max_size=25))
def test_node_ports_stay_unique_and_accounted(ops: list[tuple[str, int, int]]) -> None:
    c = _cluster()
    for op, i, port in ops:
        name = f"s{i}"
        try:
            if op == "create":
                c.apply_yaml(_np(name))
            elif op == "explicit":
                c.apply_yaml(_np(name, ports=f"[{{port: 80, nodePort: {port}}}]"))
            elif op == "retype":
                c.apply_yaml(_np(name, type_="ClusterIP"))
            else:
                c.delete("Service", name)
        except kubesim.KubesimError:
            pass
        c._check()  # allocators == the stored Services' ports, each held once
        held = [p for s in c.list("services") for p in _node_ports(c, s.metadata.name) if p]
        assert len(held) == len(set(held))
