"""Fidelity tests for the reference EndpointSlice reconciler (``kubesim.controllers.endpointslice.reconciler``).

Each case reproduces a row of ``reference/endpointslice-controller.md`` §2 (upstream's
``reconciler_test.go``, ``endpointslice_controller_test.go`` and unit tables). As upstream does,
they compare multisets of slice lengths, counts of creates/updates/deletes, labels and metrics —
never which endpoint landed in which slice.

Metric tuples are ``(dS, aS, dE, add, rem, C, U, D, chg)``: desired slices, actual slices,
desired endpoints, sums of endpoints added / removed per sync, the create/update/delete
counters and the sum of ``endpointslices_changed_per_sync{Disabled,""}``.

Deviation in the fixtures: upstream's ``newPod(n)`` uses IP ``1.2.3.<4+n>``, which is not an IP
for ``n > 251``; kubesim's fixtures use a valid unique IP per pod instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim.controllers.endpointslice import reconciler as sl
from kubesim.controllers.endpointslice import topology as topo
from kubesim.objects import (
    Container,
    ContainerPort,
    EndpointSlice,
    EndpointSlicePort,
    Node,
    NodeCondition,
    NodeStatus,
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

# --------------------------------------------------------------------------------------------
# fixtures mirroring the upstream test helpers


def new_service(name: str = "foo", ns: str = "test", **spec: Any) -> Service:
    """``newServiceAndEndpointMeta``: uid ``<ns>-<name>``, port foo/80/TCP, IPv4, no cluster IP."""
    base = dict(
        ports=(ServicePort(name="foo", port=80, protocol="TCP", target_port=80),),
        selector={"foo": "bar"},
        ip_families=("IPv4",),
        cluster_ip="",
    )
    base.update(spec)
    return Service(metadata=ObjectMeta(name=name, namespace=ns, uid=f"{ns}-{name}"),
                   spec=ServiceSpec(**base))


def pod_ip(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def new_pod(n: int, ns: str = "test", ready: bool = True, terminating: bool = False,
            node: str = "node-1", ips: Sequence[str] | None = None, **spec: Any) -> Pod:
    """``newPod``: name ``pod<n>``, labels foo=bar, on ``node``, Ready condition, no uid."""
    ips = list(ips) if ips is not None else [pod_ip(n)]
    return Pod(
        metadata=ObjectMeta(name=f"pod{n}", namespace=ns, labels={"foo": "bar"},
                            resource_version=str(n),
                            deletion_timestamp=1 if terminating else None),
        spec=PodSpec(node_name=node, containers=(Container(name="container-1"),), **spec),
        status=PodStatus(phase="Running", pod_ip=ips[0] if ips else "",
                         pod_ips=tuple(PodIP(i) for i in ips),
                         conditions=(PodCondition("Ready", "True" if ready else "False"),)),
    )


def new_node(name: str, zone: str | None = None, cpu: str | None = None,
             labels: dict[str, str] | None = None) -> Node:
    lab = dict(labels or {})
    if zone is not None:
        lab[topo.LABEL_TOPOLOGY_ZONE] = zone
    return Node(metadata=ObjectMeta(name=name, labels=lab),
                status=NodeStatus(allocatable={"cpu": cpu} if cpu else {},
                                  conditions=(NodeCondition("Ready", "True"),)))


NODES = {"node-1": new_node("node-1")}
PORTS_FOO = (EndpointSlicePort(name="foo", protocol="TCP", port=80),)


def empty_slice(n: int, svc: Service, ports: Sequence[EndpointSlicePort] = PORTS_FOO,
                address_type: str = "IPv4", uid: str | None = None,
                labels: dict[str, str] | None = None, name: str | None = None) -> EndpointSlice:
    """``newEmptyEndpointSlice``: name ``foo-<n>``, owned by the Service, no labels."""
    return EndpointSlice(
        metadata=ObjectMeta(
            name=name or f"{svc.metadata.name}-{n}", namespace=svc.metadata.namespace,
            labels=labels or {}, resource_version="1", generation=1,
            owner_references=(OwnerReference(api_version="v1", kind="Service",
                                             name=svc.metadata.name,
                                             uid=svc.metadata.uid if uid is None else uid,
                                             controller=True, block_owner_deletion=True),)),
        address_type=address_type, ports=tuple(ports))


def with_pods(s: EndpointSlice, svc: Service, pods: Iterable[Pod],
              nodes: dict[str, Node] | None = None) -> EndpointSlice:
    eps = []
    for p in pods:
        node = (nodes or {}).get(p.spec.node_name)
        ep = sl.pod_to_endpoint(p, svc, node, s.address_type)
        assert ep is not None
        eps.append(ep)
    return attrs.evolve(s, endpoints=tuple(eps))


class FakeAPI:
    """Applies plans the way the fake clientset does: create names ``generateName + n`` with
    generation 1; update bumps the generation; delete removes."""

    def __init__(self, slices: Iterable[EndpointSlice] = ()) -> None:
        self.slices: dict[str, EndpointSlice] = {s.metadata.name: s for s in slices}
        self.actions: list[str] = []
        self.counter = 0

    def apply(self, plan: sl.SlicePlan) -> None:
        for verb, s in plan.operations:
            self.actions.append(verb)
            if verb == "create":
                assert not s.metadata.name and s.metadata.generate_name
                self.counter += 1
                name = f"{s.metadata.generate_name}{self.counter:05d}"
                self.slices[name] = attrs.evolve(s, metadata=attrs.evolve(
                    s.metadata, name=name, generation=1, resource_version=str(self.counter)))
            elif verb == "update":
                old = self.slices[s.metadata.name]
                self.slices[s.metadata.name] = attrs.evolve(s, metadata=attrs.evolve(
                    s.metadata, generation=old.metadata.generation + 1))
            else:
                del self.slices[s.metadata.name]

    def list(self) -> list[EndpointSlice]:
        return sorted(self.slices.values(), key=lambda s: s.metadata.name)

    def lengths(self) -> list[int]:
        return sorted(len(s.endpoints) for s in self.slices.values())


class Harness:
    """One reconciler's lifetime: a metrics object, a fake API and a node cache."""

    def __init__(self, slices: Iterable[EndpointSlice] = (), nodes: Any = None,
                 max_endpoints_per_slice: int = 100, **options: Any) -> None:
        self.api = FakeAPI(slices)
        self.metrics = sl.SliceMetrics(max_endpoints_per_slice=max_endpoints_per_slice)
        self.nodes = NODES if nodes is None else nodes
        self.max = max_endpoints_per_slice
        self.options = options
        self.plans: list[sl.SlicePlan] = []

    def sync(self, svc: Service, pods: Sequence[Pod], slices: Iterable[EndpointSlice] | None = None,
             trigger_time: float | None = None) -> sl.SlicePlan:
        existing = self.api.list() if slices is None else list(slices)
        plan = sl.reconcile_endpoint_slices(
            svc, pods, existing, nodes=self.nodes, max_endpoints_per_slice=self.max,
            trigger_time=trigger_time, metrics=self.metrics, **self.options)
        self.plans.append(plan)
        self.api.apply(plan)
        self.metrics._check()
        return plan

    def metric_tuple(self, chg: tuple[str, str] = ("Disabled", "")) -> tuple[int, ...]:
        m = self.metrics
        return (m.desired_endpoint_slices, m.num_endpoint_slices, m.endpoints_desired,
                int(m.endpoints_added_per_sync), int(m.endpoints_removed_per_sync),
                m.changes["create"], m.changes["update"], m.changes["delete"],
                int(m.endpointslices_changed_per_sync.get(chg, 0)))


def pods_range(ns: Iterable[int], **kw: Any) -> list[Pod]:
    return [new_pod(i, **kw) for i in ns]


def ready_mod3(n: int) -> list[Pod]:
    return [new_pod(i, ready=i % 3 != 0) for i in range(n)]


# --------------------------------------------------------------------------------------------
# catalogue A: reconciler_test.go — table of scenarios


def a1() -> dict[str, Any]:
    h = Harness()
    h.sync(new_service(), [])
    (s,) = h.api.list()
    assert s.metadata.name.startswith("foo")
    assert s.metadata.labels[sl.LABEL_SERVICE_NAME] == "foo"
    assert s.ports == () and s.endpoints == () and s.metadata.generation == 1
    return dict(actions=h.api.actions, lengths=h.api.lengths(), metrics=h.metric_tuple())


def a3(case: str) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        svc = new_service()
        if case == "none":
            existing: list[EndpointSlice] = []
        elif case == "same":
            existing = [attrs.evolve(sl.new_endpoint_slice(svc, (), "IPv4"), metadata=attrs.evolve(
                sl.new_endpoint_slice(svc, (), "IPv4").metadata, name="foo-1"))]
        else:
            existing = [empty_slice(1, svc, labels={"bar": "baz"})]
        h = Harness(existing)
        h.sync(svc, [])
        assert all(s.ports == () and s.endpoints == () for s in h.api.list())
        return dict(actions=h.api.actions, lengths=h.api.lengths(), metrics=h.metric_tuple())
    return run


def a4() -> dict[str, Any]:
    h = Harness()
    h.sync(new_service(publish_not_ready_addresses=True), ready_mod3(50))
    assert all(ep.conditions.ready for s in h.api.list() for ep in s.endpoints)
    return dict(actions=h.api.actions, lengths=h.api.lengths())


def a5() -> dict[str, Any]:
    h = Harness()
    h.sync(new_service(), ready_mod3(250))
    return dict(actions=h.api.actions, lengths=h.api.lengths(), metrics=h.metric_tuple())


def _preexisting(total: int, a: range, b: range) -> dict[str, Any]:
    svc = new_service()
    pods = ready_mod3(total)
    s1 = with_pods(empty_slice(1, svc), svc, [pods[i] for i in a])
    s2 = with_pods(empty_slice(2, svc), svc, [pods[i] for i in b])
    existing = [s1, s2]
    snapshot = list(existing)
    h = Harness(existing)
    h.sync(svc, pods)
    assert existing == snapshot  # inputs are never mutated
    return dict(actions=h.api.actions, lengths=h.api.lengths(), metrics=h.metric_tuple())


def a6() -> dict[str, Any]:
    return _preexisting(250, range(1, 246, 4), range(3, 244, 4))


def a7() -> dict[str, Any]:
    return _preexisting(300, range(1, 294, 4), range(3, 296, 4))


def _two_runs(change: Callable[[Service], Service]) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        svc = new_service()
        pods = ready_mod3(250)
        h = Harness()
        h.sync(svc, pods)
        assert h.api.actions == ["create"] * 3
        h.api.actions.clear()
        svc2 = change(svc)
        h.sync(svc2, pods)
        extra = {}
        if svc2.metadata.labels.get("foo") == "bar":
            assert all(s.metadata.labels.get("foo") == "bar" for s in h.api.list())
        return dict(actions=h.api.actions, lengths=h.api.lengths(), **extra)
    return run


def _target81(svc: Service) -> Service:
    return attrs.evolve(svc, spec=attrs.evolve(svc.spec, ports=(
        ServicePort(name="foo", port=80, protocol="TCP", target_port=81),)))


def _labels(labels: dict[str, str]) -> Callable[[Service], Service]:
    return lambda svc: attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, labels=labels))


RESERVED = {sl.LABEL_SERVICE_NAME: "bad", sl.LABEL_MANAGED_BY: "actor", sl.LABEL_HEADLESS: "invalid"}


def a11() -> dict[str, Any]:
    svc = new_service()
    pods = ready_mod3(300)
    existing = [with_pods(empty_slice(k, svc), svc, pods[30 * k:30 * k + 30]) for k in range(10)]
    h = Harness(existing)
    h.sync(svc, pods, existing)
    assert h.api.actions == []
    h.sync(_target81(svc), pods, existing)
    assert Counter(h.api.actions) == {"update": 3, "delete": 7}
    return dict(actions=sorted(h.api.actions), lengths=h.api.lengths(), metrics=h.metric_tuple())


def a12() -> dict[str, Any]:
    svc = new_service()
    pods = [new_pod(i) for i in list(range(80)) + list(range(100, 120))]
    s1 = with_pods(empty_slice(1, svc), svc, pods[:80])
    s2 = with_pods(empty_slice(2, svc), svc, pods[80:])
    pods = [new_pod(int(p.metadata.name[3:]), ready=False) if i % 10 == 0 else p
            for i, p in enumerate(pods)]
    pods += [new_pod(i) for i in range(200, 215)]
    h = Harness([s1, s2])
    h.sync(svc, pods)
    return dict(actions=h.api.actions, lengths=h.api.lengths(), metrics=h.metric_tuple())


def a13() -> dict[str, Any]:
    svc = new_service()
    pods = [new_pod(i) for i in list(range(80)) + list(range(100, 150))]
    s1 = attrs.evolve(empty_slice(1, svc, address_type="IP"), endpoints=tuple(sl.pod_to_endpoint(p, svc, None, "IPv4") for p in pods[:80]))
    s2 = attrs.evolve(empty_slice(2, svc, address_type="IP"),
                      endpoints=tuple(sl.pod_to_endpoint(p, svc, None, "IPv4") for p in pods[80:]))
    h = Harness([s1, s2])
    h.sync(svc, pods)
    assert h.api.actions[-2:] == ["delete", "delete"]
    assert all(s.address_type == "IPv4" for s in h.api.list())
    return dict(actions=h.api.actions, lengths=h.api.lengths(), metrics=h.metric_tuple())


def a14(uid: str | None) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        svc = new_service()
        pod = new_pod(1)
        s = with_pods(empty_slice(1, svc, uid=uid), svc, [pod])
        h = Harness([s])
        h.sync(svc, [pod])
        return dict(actions=h.api.actions, lengths=h.api.lengths())
    return run


def a15() -> dict[str, Any]:
    svc = new_service("named-port-example", ports=(ServicePort(name="", port=80, protocol="TCP",
                                                               target_port="http"),))
    pods = [attrs.evolve(p, spec=attrs.evolve(p.spec, containers=(Container(
        name="c", ports=(ContainerPort(8080 + i % 5, name="http", protocol="TCP"),)),)))
        for i, p in enumerate(ready_mod3(300))]
    h = Harness()
    h.sync(svc, pods)
    ports = sorted((s.ports for s in h.api.list()), key=lambda ps: ps[0].port or 0)
    assert ports == [(EndpointSlicePort(name="", protocol="TCP", port=8080 + k),) for k in range(5)]
    assert all(s.address_type == "IPv4" for s in h.api.list())
    return dict(actions=h.api.actions, lengths=h.api.lengths(), metrics=h.metric_tuple())


def a16(max_: int) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        h = Harness(max_endpoints_per_slice=max_)
        h.sync(new_service(), ready_mod3(250))
        return dict(lengths=h.api.lengths(), metrics=h.metric_tuple())
    return run


def a17() -> dict[str, Any]:
    svc = new_service()
    pods = [new_pod(i) for i in range(20)]
    h = Harness()
    h.sync(svc, pods)
    assert h.metric_tuple() == (1, 1, 20, 20, 0, 1, 0, 0, 1)
    h.sync(svc, pods[:10])
    return dict(actions=h.api.actions, lengths=h.api.lengths(), metrics=h.metric_tuple())


def a18() -> dict[str, Any]:
    svc = new_service()
    pod1, pod2 = new_pod(1), new_pod(2)
    h = Harness([with_pods(empty_slice(1, svc), svc, [pod1])])
    h.sync(svc, [pod1, pod2])
    m = h.metrics
    assert (m.endpoints_added_per_sync, m.endpoints_added_per_sync_count) == (1, 1)
    return dict(actions=h.api.actions, lengths=h.api.lengths())


def a19() -> dict[str, Any]:
    svc = new_service()
    pod0, pod1 = new_pod(0), new_pod(1)
    h = Harness([with_pods(empty_slice(1, svc), svc, [pod0, pod1])])
    h.sync(svc, [pod1])
    m = h.metrics
    assert (m.endpoints_removed_per_sync, m.endpoints_removed_per_sync_count) == (1, 1)
    return dict(actions=h.api.actions, lengths=h.api.lengths())


def a20() -> dict[str, Any]:
    svc = new_service(traffic_distribution="PreferClose")
    h = Harness()
    h.sync(svc, [new_pod(1), new_pod(2)], trigger_time=0)
    m = h.metrics
    assert (m.desired_endpoint_slices, m.endpoints_desired, m.num_endpoint_slices) == (1, 2, 1)
    assert m.services_count_by_traffic_distribution == {"PreferClose": 1}
    (s,) = h.api.list()
    assert s.metadata.annotations[sl.ANNOTATION_LAST_CHANGE_TRIGGER_TIME] == "1970-01-01T00:00:00Z"
    return dict(actions=h.api.actions)


def a25() -> dict[str, Any]:
    svc = Service(metadata=ObjectMeta(name="headless-no-ports", namespace="test", uid="test-uid"),
                  spec=ServiceSpec(cluster_ip="None", ip_families=("IPv4",), selector={"foo": "bar"}))
    pod = new_pod(1)
    h = Harness()
    h.sync(svc, [pod])
    assert h.api.actions == ["create"]
    fetched = [attrs.evolve(s, ports=()) for s in h.api.list()]
    plan = h.sync(svc, [pod], fetched)
    assert plan.empty
    return dict(actions=h.api.actions)


C, U, D = "create", "update", "delete"

A_CASES = [
    pytest.param(a1, dict(actions=[C], lengths=[0], metrics=(1, 1, 0, 0, 0, 1, 0, 0, 1)), id="A1"),
    pytest.param(a3("none"), dict(actions=[C], lengths=[0], metrics=(1, 1, 0, 0, 0, 1, 0, 0, 1)),
                 id="A3-no-existing-placeholder"),
    pytest.param(a3("same"), dict(actions=[], lengths=[0], metrics=(1, 1, 0, 0, 0, 0, 0, 0, 0)),
                 id="A3-existing-placeholder-same"),
    pytest.param(a3("different"), dict(actions=[U], lengths=[0],
                                       metrics=(1, 1, 0, 0, 0, 0, 1, 0, 1)),
                 id="A3-existing-placeholder-different"),
    pytest.param(a4, dict(actions=[C], lengths=[50]), id="A4"),
    pytest.param(a5, dict(actions=[C, C, C], lengths=[50, 100, 100],
                          metrics=(3, 3, 250, 250, 0, 3, 0, 0, 3)), id="A5"),
    pytest.param(a6, dict(actions=[C, U], lengths=[61, 89, 100],
                          metrics=(3, 3, 250, 127, 0, 1, 1, 0, 2)), id="A6"),
    pytest.param(a7, dict(actions=[C, C], lengths=[52, 74, 74, 100],
                          metrics=(3, 4, 300, 152, 0, 2, 0, 0, 2)), id="A7"),
    pytest.param(_two_runs(_target81), dict(actions=[U, U, U], lengths=[50, 100, 100]), id="A8"),
    pytest.param(_two_runs(_labels({"foo": "bar"})), dict(actions=[U, U, U], lengths=[50, 100, 100]),
                 id="A9"),
    pytest.param(_two_runs(_labels(RESERVED)), dict(actions=[], lengths=[50, 100, 100]), id="A10"),
    pytest.param(a11, dict(actions=[D] * 7 + [U] * 3, lengths=[100, 100, 100],
                           metrics=(3, 3, 300, 300, 0, 0, 3, 7, 10)), id="A11"),
    pytest.param(a12, dict(actions=[U, U], lengths=[20, 95],
                           metrics=(2, 2, 115, 15, 0, 0, 2, 0, 2)), id="A12"),
    pytest.param(a13, dict(actions=[C, C, D, D], lengths=[30, 100],
                           metrics=(2, 2, 130, 130, 0, 2, 0, 2, 2)), id="A13"),
    pytest.param(a14(None), dict(actions=[], lengths=[1]), id="A14-owned"),
    pytest.param(a14("different"), dict(actions=[C, D], lengths=[1]), id="A14-other-owner"),
    pytest.param(a15, dict(actions=[C] * 5, lengths=[60] * 5,
                           metrics=(5, 5, 300, 300, 0, 5, 0, 0, 5)), id="A15"),
    pytest.param(a16(50), dict(lengths=[50] * 5, metrics=(5, 5, 250, 250, 0, 5, 0, 0, 5)),
                 id="A16-max50"),
    pytest.param(a16(80), dict(lengths=[10, 80, 80, 80], metrics=(4, 4, 250, 250, 0, 4, 0, 0, 4)),
                 id="A16-max80"),
    pytest.param(a16(150), dict(lengths=[100, 150], metrics=(2, 2, 250, 250, 0, 2, 0, 0, 2)),
                 id="A16-max150"),
    pytest.param(a16(250), dict(lengths=[250], metrics=(1, 1, 250, 250, 0, 1, 0, 0, 1)),
                 id="A16-max250"),
    pytest.param(a16(500), dict(lengths=[250], metrics=(1, 1, 250, 250, 0, 1, 0, 0, 1)),
                 id="A16-max500"),
    pytest.param(a17, dict(actions=[C, U], lengths=[10], metrics=(1, 1, 10, 20, 10, 1, 1, 0, 2)),
                 id="A17"),
    pytest.param(a18, dict(actions=[U], lengths=[2]), id="A18"),
    pytest.param(a19, dict(actions=[U], lengths=[1]), id="A19"),
    pytest.param(a20, dict(actions=[C]), id="A20"),
    pytest.param(a25, dict(actions=[C]), id="A25"),
]


@pytest.mark.parametrize("scenario, expected", A_CASES)
def test_reconciler_scenarios(scenario: Callable[[], dict[str, Any]],
                              expected: dict[str, Any]) -> None:
    observed = scenario()
    for key, want in expected.items():
        got = observed[key]
        if key == "actions" and scenario is a11:
            got = sorted(got)
            want = sorted(want)
        assert got == want, key


# --------------------------------------------------------------------------------------------
# A2 TestReconcile1Pod


A2_CASES = [
    ("no-family-service", dict(cluster_ip="10.0.0.10", ip_families=()), {}, ["IPv4"], {}),
    ("ipv4", dict(), {}, ["IPv4"], {sl.LABEL_HEADLESS: ""}),
    ("ipv4-clusterip", dict(cluster_ip="1.1.1.1"), {}, ["IPv4"], {}),
    ("ipv4-labels", dict(), {"foo": "bar"}, ["IPv4"], {"foo": "bar", sl.LABEL_HEADLESS: ""}),
    ("ipv4-bad-labels", dict(), RESERVED, ["IPv4"], {sl.LABEL_HEADLESS: ""}),
    ("ipv6", dict(ip_families=("IPv6",)), {}, ["IPv6"], {sl.LABEL_HEADLESS: ""}),
    ("ipv6-clusterip", dict(cluster_ip="1234::5678:0000:0000:9abc:def1", ip_families=("IPv6",)),
     {}, ["IPv6"], {}),
    ("dualstack-service", dict(cluster_ip="10.0.0.10", cluster_ips=("10.0.0.10", "2000::1"),
                               ip_families=("IPv4", "IPv6")), {}, ["IPv4", "IPv6"], {}),
]


@pytest.mark.parametrize("name, spec, labels, types, extra_labels", A2_CASES,
                         ids=[f"A2-{c[0]}" for c in A2_CASES])
def test_a2_reconcile_1_pod(name: str, spec: dict[str, Any], labels: dict[str, str],
                            types: list[str], extra_labels: dict[str, str]) -> None:
    svc = new_service(**spec)
    svc = attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, labels=labels))
    pod = new_pod(1, ips=["1.2.3.4", "1234::5678:0000:0000:9abc:def0"], hostname="example-hostname")
    nodes = {"node-1": new_node("node-1", zone="us-central1-a",
                                labels={"topology.kubernetes.io/region": "us-central1"})}
    trigger = 1700000000.25
    h = Harness(nodes=nodes)
    h.sync(svc, [pod], trigger_time=trigger)
    slices = h.api.list()
    assert sorted(s.address_type for s in slices) == types
    assert h.api.actions == ["create"] * len(types)
    for s in slices:
        assert s.metadata.name.startswith("foo")
        assert s.metadata.generation == 1
        assert s.metadata.annotations[sl.ANNOTATION_LAST_CHANGE_TRIGGER_TIME] == \
            "2023-11-14T22:13:20.25Z"
        assert dict(s.metadata.labels) == {sl.LABEL_SERVICE_NAME: "foo",
                                           sl.LABEL_MANAGED_BY: sl.CONTROLLER_NAME, **extra_labels}
        (ep,) = s.endpoints
        addr = "1.2.3.4" if s.address_type == "IPv4" else "1234::5678:0:0:9abc:def0"
        assert ep.addresses == (addr,)
        assert (ep.conditions.ready, ep.conditions.serving, ep.conditions.terminating) == \
            (True, True, False)
        assert (ep.zone, ep.node_name, ep.hostname, ep.hints) == \
            ("us-central1-a", "node-1", None, None)
        assert (ep.target_ref.kind, ep.target_ref.namespace, ep.target_ref.name,
                ep.target_ref.uid) == ("Pod", "test", "pod1", "")
    n = len(types)
    assert h.metric_tuple() == (1, 1, 1, n, 0, n, 0, 0, n)


# --------------------------------------------------------------------------------------------
# A21 finalize and the Service's deletionTimestamp (through the pure function, max 1)


def _a21_setup(deleting: bool, with_create: bool, with_delete: bool
               ) -> tuple[Service, list[Pod], list[EndpointSlice]]:
    svc = new_service()
    if deleting:
        svc = attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, deletion_timestamp=5))
    pod0 = new_pod(0)
    to_update = with_pods(empty_slice(0, svc, name="to-update"), svc, [pod0])
    pods = [new_pod(0, ready=False)]  # pod0 changed: to-update must be rewritten (1 endpoint)
    existing = [to_update]
    if with_create:
        pods.append(new_pod(1))  # does not fit in to-update (max 1): a create
    if with_delete:
        existing.append(with_pods(empty_slice(0, svc, name="to-delete"), svc, [new_pod(9)]))
    return svc, pods, existing


@pytest.mark.parametrize("deleting, with_create, with_delete, creates, updates, deletes, chg", [
    pytest.param(False, True, False, 1, 1, 0, 2, id="A21-1"),
    pytest.param(True, True, False, 0, 1, 0, 2, id="A21-2"),
    pytest.param(False, True, True, 0, 2, 0, 2, id="A21-3"),
    pytest.param(True, True, True, 0, 2, 0, 2, id="A21-4"),
    pytest.param(True, False, True, 0, 1, 1, 2, id="A21-5"),
])
def test_a21_finalize_deletion_timestamp(deleting: bool, with_create: bool, with_delete: bool,
                                         creates: int, updates: int, deletes: int,
                                         chg: int) -> None:
    svc, pods, existing = _a21_setup(deleting, with_create, with_delete)
    h = Harness(existing, max_endpoints_per_slice=1)
    plan = h.sync(svc, pods)
    assert (len(plan.creates), len(plan.updates), len(plan.deletes)) == (creates, updates, deletes)
    names = set(h.api.slices)
    assert "to-update" in names and len(h.api.slices["to-update"].endpoints) == 1
    if with_delete:
        assert ("to-delete" in names) == (deletes == 0)
    assert plan.suppressed_creates == (1 if deleting and with_create and not with_delete else 0)
    assert h.metrics.endpointslices_changed_per_sync[("Disabled", "")] == chg


# --------------------------------------------------------------------------------------------
# A22 TestReconcilerPodMissingNode


@pytest.mark.parametrize("pnra, nodes, existing, error, metrics", [
    pytest.param(False, ["node-0"], False, True, (1, 1, 1, 1, 0, 1, 0, 0, 1), id="A22-create-pnra-false"),
    pytest.param(True, ["node-0"], False, False, (1, 1, 2, 2, 0, 1, 0, 0, 1), id="A22-create-pnra-true"),
    pytest.param(False, ["node-0"], True, True, (1, 1, 1, 0, 1, 0, 1, 0, 1), id="A22-update-pnra-false"),
    pytest.param(True, [], True, False, (1, 1, 2, 0, 0, 0, 0, 0, 0), id="A22-update-pnra-true-no-nodes"),
    pytest.param(True, ["node-0"], True, False, (1, 1, 2, 0, 0, 0, 0, 0, 0), id="A22-update-pnra-true"),
    pytest.param(False, [], True, True, (1, 1, 0, 0, 2, 0, 1, 0, 1), id="A22-update-pnra-false-no-nodes"),
])
def test_a22_pod_missing_node(pnra: bool, nodes: list[str], existing: bool, error: bool,
                              metrics: tuple[int, ...]) -> None:
    svc = new_service(publish_not_ready_addresses=pnra)
    pods = [new_pod(0, node="node-0"), new_pod(1, node="node-1")]
    node_map = {n: new_node(n) for n in nodes}
    slices = [with_pods(empty_slice(1, svc), svc, pods, node_map)] if existing else []
    h = Harness(slices, nodes=node_map)
    plan = h.sync(svc, pods)
    assert (plan.error is not None) == error
    if error:
        assert "Node node-1 Not Found" in plan.error
    assert h.metric_tuple() == metrics
    assert len(h.api.slices) == metrics[1]


# --------------------------------------------------------------------------------------------
# A23 TestReconcileTopology, A24 TestReconcile_TrafficDistribution


ZONES = ("zone-a", "zone-b", "zone-c")


def _topology_world() -> tuple[dict[str, Node], dict[int, Pod]]:
    nodes = {}
    pods = {}
    for i, zone in enumerate(ZONES):
        for j in range(10):
            name = f"node-{zone}-{j}"
            nodes[name] = new_node(name, zone=zone, cpu="100m")
            pods[i * 100 + j] = new_pod(i * 100 + j, node=name)
    return nodes, pods


SLICE_PODS = {"zone-a-b": [0, 1, 100, 101, 102], "zone-a-c": [2, 3, 200, 201],
              "zone-c": [202, 203, 204]}


def _hint_summary(slices: Iterable[EndpointSlice]) -> tuple[dict[str, int], int]:
    by_zone: Counter[str] = Counter()
    cross = 0
    for s in slices:
        for ep in s.endpoints:
            if ep.hints is None:
                continue
            for fz in ep.hints.for_zones:
                by_zone[fz.name] += 1
                if fz.name != ep.zone:
                    cross += 1
    return dict(by_zone), cross


@pytest.mark.parametrize("topology, annotation, slice_names, hints, cross, metrics, chg", [
    pytest.param(False, "auto", ["zone-c"], {}, 0, (1, 1, 3, 0, 0, 0, 0, 0), ("Disabled", 0),
                 id="A23-1"),
    pytest.param(True, "auto", ["zone-c"], {"zone-a": 1, "zone-b": 1, "zone-c": 1}, 2,
                 (1, 1, 3, 0, 0, 0, 1, 0), ("Auto", 1), id="A23-2"),
    pytest.param(True, "auto", ["zone-a-c"], {}, 0, (1, 1, 4, 0, 0, 0, 0, 0), ("Auto", 0),
                 id="A23-3"),
    pytest.param(True, "Auto", ["zone-a-c", "zone-a-b"], {"zone-a": 3, "zone-b": 3, "zone-c": 3}, 1,
                 (1, 2, 9, 0, 0, 0, 2, 0), ("Auto", 2), id="A23-4"),
    pytest.param(True, "disabled", ["zone-a-c", "zone-a-b"], {}, 0, (1, 2, 9, 0, 0, 0, 0, 0),
                 ("Disabled", 0), id="A23-5"),
])
def test_a23_topology(topology: bool, annotation: str, slice_names: list[str],
                      hints: dict[str, int], cross: int, metrics: tuple[int, ...],
                      chg: tuple[str, int]) -> None:
    nodes, all_pods = _topology_world()
    svc = new_service()
    svc = attrs.evolve(svc, metadata=attrs.evolve(
        svc.metadata, annotations={topo.ANNOTATION_TOPOLOGY_AWARE_HINTS: annotation}))
    labels = {sl.LABEL_MANAGED_BY: sl.CONTROLLER_NAME, sl.LABEL_SERVICE_NAME: "foo"}
    slices, pods = [], []
    for name in slice_names:
        ps = [all_pods[i] for i in SLICE_PODS[name]]
        pods += ps
        slices.append(with_pods(empty_slice(0, svc, name=name, labels=labels), svc, ps, nodes))
    h = Harness(slices, nodes=nodes, topology=topology)
    h.sync(svc, pods)
    assert _hint_summary(h.api.list()) == (hints, cross)
    assert h.metric_tuple()[:8] == metrics
    assert h.metrics.endpointslices_changed_per_sync.get((chg[0], ""), 0) == chg[1]
    assert h.metrics.endpointslices_changed_per_sync_count == {(chg[0], ""): 1}


@pytest.mark.parametrize("pstd, td, annotation, hints, cross, chg, gauge", [
    pytest.param(False, "PreferClose", "Disabled", {"zone-a": 1, "zone-b": 3, "zone-c": 2}, 0,
                 ("Disabled", "PreferClose"), {"PreferClose": 1}, id="A24-1"),
    pytest.param(False, "PreferClose", "Auto", {"zone-a": 2, "zone-b": 2, "zone-c": 2}, 1,
                 ("Auto", ""), {}, id="A24-2"),
    pytest.param(False, None, "", {}, 0, ("Disabled", ""), {}, id="A24-3"),
    pytest.param(True, "PreferSameNode", "Disabled", {"zone-a": 1, "zone-b": 3, "zone-c": 2}, 0,
                 ("Disabled", "PreferSameNode"), {"PreferSameNode": 1}, id="A24-4"),
    pytest.param(False, "PreferSameZone", "Disabled", {}, 0, ("Disabled", ""), {}, id="A24-5"),
])
def test_a24_traffic_distribution(pstd: bool, td: str | None, annotation: str,
                                  hints: dict[str, int], cross: int, chg: tuple[str, str],
                                  gauge: dict[str, int]) -> None:
    nodes = {f"node-{k}": new_node(f"node-{k}", zone=z, cpu="100m") for k, z in enumerate(ZONES)}
    pods = [new_pod(i, node=f"node-{0 if i == 0 else 1 if i <= 3 else 2}") for i in range(6)]
    svc = new_service(traffic_distribution=td)
    svc = attrs.evolve(svc, metadata=attrs.evolve(
        svc.metadata, annotations={topo.ANNOTATION_TOPOLOGY_MODE: annotation}))
    h = Harness(nodes=nodes, topology=True, prefer_same_traffic_distribution=pstd)
    h.sync(svc, pods)
    assert h.metric_tuple()[:6] == (1, 1, 6, 6, 0, 1)
    (s,) = h.api.list()
    assert _hint_summary([s]) == (hints, cross)
    if td == "PreferSameNode":
        assert all(ep.hints.for_nodes[0].name == ep.node_name for ep in s.endpoints)
    assert h.metrics.endpointslices_changed_per_sync == {chg: 1}
    assert {k: v for k, v in h.metrics.services_count_by_traffic_distribution.items() if v} == gauge


def test_topology_events_with_persistent_cache() -> None:
    nodes = {f"node-{k}": new_node(f"node-{k}", zone=z, cpu="100m") for k, z in enumerate(ZONES)}
    pods = [new_pod(i, node=f"node-{i % 3}") for i in range(6)]
    svc = new_service()
    auto = attrs.evolve(svc, metadata=attrs.evolve(
        svc.metadata, annotations={topo.ANNOTATION_TOPOLOGY_MODE: "Auto"}))
    cache = topo.TopologyCache()
    h = Harness(nodes=nodes, topology=cache)
    p1 = h.sync(auto, pods)
    assert [e[1] for e in p1.events] == ["TopologyAwareHintsEnabled"]
    assert h.sync(auto, pods).empty and cache.has_populated_hints("test/foo")
    p3 = h.sync(svc, pods)
    assert p3.events == (("Warning", "TopologyAwareHintsDisabled",
                          "Topology Aware Hints has been disabled, addressType: IPv4"),)
    assert len(p3.updates) == 1 and _hint_summary(h.api.list()) == ({}, 0)


# --------------------------------------------------------------------------------------------
# B: controller tests expressible against the pure function


def b_service(name: str = "testing-1", **spec: Any) -> Service:
    base = dict(ports=(ServicePort(port=80, target_port=80, protocol=""),), selector={"foo": "bar"},
                ip_families=("IPv4",), cluster_ip="")
    base.update(spec)
    return Service(metadata=ObjectMeta(name=name, namespace="default", uid=f"default-{name}",
                                       creation_timestamp=1700000000), spec=ServiceSpec(**base))


def test_b3_service_pending_deletion() -> None:
    svc = b_service()
    svc = attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, deletion_timestamp=1700000001))
    plan = sl.reconcile_endpoint_slices(svc, [], [], nodes={})
    assert plan.operations == () and plan.suppressed_creates == 1


def test_b4_service_with_selector_no_pods() -> None:
    plan = sl.reconcile_endpoint_slices(b_service(), [], [], nodes={}, trigger_time=1700000000)
    (s,) = plan.creates
    assert plan.operations == (("create", s),)
    assert s.metadata.generate_name.startswith("testing-1")
    assert s.metadata.labels[sl.LABEL_SERVICE_NAME] == "testing-1"
    assert s.ports == () and s.endpoints == ()
    assert s.metadata.annotations[sl.ANNOTATION_LAST_CHANGE_TRIGGER_TIME]


def test_b7_label_selection_recycles_placeholder() -> None:
    svc = b_service()
    labels = {sl.LABEL_SERVICE_NAME: "testing-1", sl.LABEL_MANAGED_BY: sl.CONTROLLER_NAME}
    matching = [empty_slice(0, svc, ports=(), name=n, labels=labels)
                for n in ("matching-1", "matching-2")]
    plan = sl.reconcile_endpoint_slices(svc, [], matching, nodes={})
    assert [v for v, _ in plan.operations] == ["update", "delete"]


B10_PORTS = (ServicePort(name="tcp-example", port=80, target_port=80, protocol="TCP"),
             ServicePort(name="udp-example", port=161, target_port=161, protocol="UDP"),
             ServicePort(name="sctp-example", port=3456, target_port=3456, protocol="SCTP"))


def _b10_pod(n: int, ips: list[str], ready: bool = True, terminating: bool = False) -> Pod:
    p = new_pod(n, ns="default", ready=ready, terminating=terminating, ips=ips)
    return attrs.evolve(p, status=attrs.evolve(p.status, phase=""))


@pytest.mark.parametrize("families, pods, expected", [
    pytest.param(("IPv4",), [_b10_pod(0, ["10.0.0.1"]),
                             _b10_pod(1, ["10.0.0.2", "fd08::5678:0000:0000:9abc:def0"])],
                 [("10.0.0.1", "pod0", (True, True, False)), ("10.0.0.2", "pod1", (True, True, False))],
                 id="B10-ipv4"),
    pytest.param(("IPv6",), [_b10_pod(0, ["10.0.0.1"]),
                             _b10_pod(1, ["10.0.0.2", "fd08::5678:0000:0000:9abc:def0"])],
                 [("fd08::5678:0:0:9abc:def0", "pod1", (True, True, False))], id="B10-ipv6"),
    pytest.param(("IPv4",), [_b10_pod(0, ["10.0.0.1"]), _b10_pod(1, ["10.0.0.2"], terminating=True)],
                 [("10.0.0.1", "pod0", (True, True, False)), ("10.0.0.2", "pod1", (False, True, True))],
                 id="B10-terminating"),
    pytest.param(("IPv4",), [_b10_pod(0, ["10.0.0.1"]),
                             _b10_pod(1, ["10.0.0.2"], ready=False, terminating=True)],
                 [("10.0.0.1", "pod0", (True, True, False)), ("10.0.0.2", "pod1", (False, False, True))],
                 id="B10-not-ready-terminating"),
    pytest.param(("IPv4",), [_b10_pod(0, ["10.0.0.1"]), _b10_pod(1, ["10.0.0.1"], ready=False)],
                 [("10.0.0.1", "pod0", (True, True, False)), ("10.0.0.1", "pod1", (False, False, False))],
                 id="B10-ready-and-complete-same-ip"),
    pytest.param(("IPv4",), [_b10_pod(0, ["10.0.0.1"]), _b10_pod(1, ["10.0.0.1"])],
                 [("10.0.0.1", "pod0", (True, True, False)), ("10.0.0.1", "pod1", (True, True, False))],
                 id="B10-two-ready-same-ip"),
])
def test_b10_sync_service(families: tuple[str, ...], pods: list[Pod],
                          expected: list[tuple[str, str, tuple[bool, bool, bool]]]) -> None:
    svc = b_service(ports=B10_PORTS, ip_families=families)
    plan = sl.reconcile_endpoint_slices(svc, pods, [], nodes={"node-1": new_node("node-1")},
                                        trigger_time=svc.metadata.creation_timestamp)
    (s,) = plan.creates
    assert plan.operations == (("create", s),)
    assert s.metadata.annotations[sl.ANNOTATION_LAST_CHANGE_TRIGGER_TIME] == "2023-11-14T22:13:20Z"
    assert set(s.ports) == {EndpointSlicePort(name=p.name, protocol=p.protocol, port=p.port)
                            for p in B10_PORTS}
    got = sorted((ep.addresses[0], ep.target_ref.name, (ep.conditions.ready, ep.conditions.serving,
                  ep.conditions.terminating)) for ep in s.endpoints)
    assert got == sorted(expected)
    assert all(ep.node_name == "node-1" and ep.zone is None and ep.target_ref.uid == ""
               for ep in s.endpoints)


# --------------------------------------------------------------------------------------------
# C: unit tables


def test_c1_metrics_cache() -> None:
    p80 = sl.port_map_key([EndpointSlicePort(name="http", protocol="TCP", port=80)])
    p443 = sl.port_map_key([EndpointSlicePort(name="http", protocol="TCP", port=80),
                            EndpointSlicePort(name="https", protocol="TCP", port=443)])
    inefficient = {p80: (12, 5), p443: (18, 8)}
    efficient = {p80: (45, 1), p443: (35, 1)}
    m = sl.SliceMetrics(max_endpoints_per_slice=100)

    def state() -> tuple[int, int, int]:
        m._check()
        return m.desired_endpoint_slices, m.num_endpoint_slices, m.endpoints_desired

    m.update_service_port_cache("ns/svc1", inefficient)
    assert state() == (2, 13, 30)
    m.update_service_port_cache("ns/svc2", efficient)
    assert state() == (4, 15, 110)
    m.update_service_port_cache("ns/svc3", inefficient)
    assert state() == (6, 28, 140)
    m.update_service_port_cache("ns/svc1", efficient)
    assert state() == (6, 17, 190)
    kept = m.cache["ns/svc1"]
    m.update_service_port_cache("ns/svc1", dict(efficient))  # an equal entry: nothing moves
    assert state() == (6, 17, 190) and m.cache["ns/svc1"] is kept
    m.forget_service("ns", "svc3")
    assert state() == (4, 4, 160)

    placeholder = sl.SliceMetrics()
    placeholder.update_service_port_cache("ns/p", {p80: (0, 1), p443: (0, 1)})
    assert (placeholder.desired_endpoint_slices, placeholder.num_endpoint_slices,
            placeholder.endpoints_desired) == (1, 2, 0)


def _ph(**kw: Any) -> EndpointSlice:
    meta = dict(name="foo-1", namespace="ns", labels={"a": "b"}, creation_timestamp=1)
    meta.update(kw.pop("meta", {}))
    return EndpointSlice(metadata=ObjectMeta(**meta), **{"address_type": "IPv4", **kw})


@pytest.mark.parametrize("a, b, equal", [
    pytest.param(None, None, True, id="C3-both-nil"),
    pytest.param(_ph(), None, False, id="C3-one-nil"),
    pytest.param(EndpointSlice(), EndpointSlice(), True, id="C3-both-empty"),
    pytest.param(_ph(), _ph(meta={"name": "foo-2"}), True, id="C3-name-differs"),
    pytest.param(_ph(), _ph(meta={"labels": {"a": "c"}}), False, id="C3-labels-differ"),
    pytest.param(_ph(), _ph(meta={"creation_timestamp": 2}), True, id="C3-creation-differs"),
    pytest.param(_ph(), _ph(address_type="IPv6"), False, id="C3-address-type-differs"),
])
def test_c3_placeholder_compare(a: EndpointSlice | None, b: EndpointSlice | None,
                                equal: bool) -> None:
    assert sl.placeholder_equal(a, b) is equal
    assert sl.placeholder_equal(b, a) is equal


SN, MB, HL = sl.LABEL_SERVICE_NAME, sl.LABEL_MANAGED_BY, sl.LABEL_HEADLESS
BASE = {SN: "foo", MB: sl.CONTROLLER_NAME}


@pytest.mark.parametrize("slice_labels, headless, svc_labels, adds, updated", [
    ({}, False, {}, {}, False),
    ({}, True, {"foo": "bar"}, {HL: "", "foo": "bar"}, True),
    ({}, True, {}, {HL: ""}, False),
    ({}, False, {HL: ""}, {}, False),
    ({**BASE, HL: ""}, False, {HL: ""}, {}, False),
    ({**BASE, HL: ""}, False, {}, {}, False),
    ({**BASE, "foo": "bar"}, True, {"foo": "bar"}, {HL: "", "foo": "bar"}, False),
    ({}, False, {"foo": "bar"}, {"foo": "bar"}, True),
    ({**BASE, "foo": "bar"}, False, {}, {}, True),
    ({**BASE, HL: ""}, False, {}, {}, False),
    (BASE, False, {"foo": "bar"}, {"foo": "bar"}, True),
    (BASE, False, {SN: "bad", MB: "actor", HL: "invalid"}, {}, False),
    (BASE, False, {SN: "bad", MB: "actor", "foo": "bar"}, {"foo": "bar"}, True),
], ids=[f"C4-{i}" for i in range(1, 14)])
def test_c4_slice_labels(slice_labels: dict[str, str], headless: bool, svc_labels: dict[str, str],
                         adds: dict[str, str], updated: bool) -> None:
    svc = new_service(cluster_ip="" if headless else "1.1.1.1")
    svc = attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, labels=svc_labels))
    s = empty_slice(1, svc, labels=slice_labels)
    labels, changed = sl.slice_labels(s, svc)
    assert dict(labels) == {**BASE, **adds}
    assert changed is updated


@pytest.mark.parametrize("cluster_ip, families, selector, result", [
    ("10.0.0.10", (), None, ("IPv4",)),
    ("2000::1", (), None, ("IPv6",)),
    ("", ("IPv4",), None, ("IPv4",)),
    ("", ("IPv6",), None, ("IPv6",)),
    ("", ("IPv4", "IPv6"), None, ("IPv4", "IPv6")),
    ("", ("IPv6", "IPv4"), None, ("IPv4", "IPv6")),
    ("None", (), None, ("IPv4", "IPv6")),
    ("None", (), {"foo": "bar"}, ("IPv4", "IPv6")),
    ("None", ("IPv4", "IPv6"), {"foo": "bar"}, ("IPv4", "IPv6")),
], ids=[f"C5-{i}" for i in range(1, 10)])
def test_c5_address_types(cluster_ip: str, families: tuple[str, ...],
                          selector: dict[str, str] | None, result: tuple[str, ...]) -> None:
    svc = Service(spec=ServiceSpec(cluster_ip=cluster_ip, ip_families=families, selector=selector))
    assert sl.address_types_for_service(svc) == result


@pytest.mark.parametrize("annotations, enabled", [
    ({}, False),
    ({topo.ANNOTATION_TOPOLOGY_MODE: "Auto"}, True),
    ({topo.ANNOTATION_TOPOLOGY_MODE: "auto"}, True),
    ({topo.ANNOTATION_TOPOLOGY_MODE: "aUto"}, False),
    ({topo.ANNOTATION_TOPOLOGY_MODE: "enabled"}, False),
    ({topo.ANNOTATION_TOPOLOGY_MODE: "disabled"}, False),
    ({topo.ANNOTATION_TOPOLOGY_AWARE_HINTS: "Auto"}, True),
    ({topo.ANNOTATION_TOPOLOGY_AWARE_HINTS: "auto"}, True),
    ({topo.ANNOTATION_TOPOLOGY_AWARE_HINTS: "enabled"}, False),
    ({topo.ANNOTATION_TOPOLOGY_MODE: "disabled", topo.ANNOTATION_TOPOLOGY_AWARE_HINTS: "auto"}, True),
    ({topo.ANNOTATION_TOPOLOGY_MODE: "auto", topo.ANNOTATION_TOPOLOGY_AWARE_HINTS: "disabled"}, False),
], ids=[f"C6-{i}" for i in range(1, 12)])
def test_c6_hints_enabled(annotations: dict[str, str], enabled: bool) -> None:
    assert topo.hints_enabled(annotations) is enabled


def _c7_pod(phase: str, ips: list[str], restart: str = "Always", terminating: bool = False) -> Pod:
    p = new_pod(1, ips=ips, terminating=terminating, restart_policy=restart)
    return attrs.evolve(p, status=attrs.evolve(p.status, phase=phase))


@pytest.mark.parametrize("pod, included", [
    (_c7_pod("Failed", ["1.2.3.4"], "Never"), False),
    (_c7_pod("Failed", ["1.2.3.4"], "OnFailure"), False),
    (_c7_pod("Failed", ["1.2.3.4"], "Always"), False),
    (_c7_pod("Succeeded", ["1.2.3.4"], "Never"), False),
    (_c7_pod("Succeeded", ["1.2.3.4"], "Always"), False),
    (_c7_pod("Running", []), False),
    (_c7_pod("Pending", ["1.2.3.4"]), True),
    (_c7_pod("Unknown", ["1.2.3.4"]), True),
    (_c7_pod("Running", ["1.2.3.4"]), True),
    (_c7_pod("Running", ["1.2.3.4", "1234::5678:0000:0000:9abc:def0"]), True),
    (_c7_pod("Running", ["1.2.3.4"], terminating=True), True),
], ids=[f"C7-{i}" for i in range(1, 12)])
def test_c7_should_pod_be_in_endpoints(pod: Pod, included: bool) -> None:
    assert sl.should_pod_be_in_endpoints(pod, True) is included


def test_c7_terminating_excluded_without_include_terminating() -> None:
    assert not sl.should_pod_be_in_endpoints(_c7_pod("Running", ["1.2.3.4"], terminating=True),
                                             False)


# --------------------------------------------------------------------------------------------
# helpers


def test_port_map_key_is_order_insensitive_and_nil_equals_empty() -> None:
    a = EndpointSlicePort(name="a", protocol="TCP", port=1)
    b = EndpointSlicePort(name="b", protocol="UDP", port=2, app_protocol="x")
    assert sl.port_map_key([a, b]) == sl.port_map_key([b, a])
    assert sl.port_map_key(None) == sl.port_map_key(())
    assert sl.port_map_key([a]) != sl.port_map_key([attrs.evolve(a, app_protocol="h2c")])


def test_endpoints_equal_beyond_hash_ignores_resource_version_and_hints() -> None:
    svc = new_service()
    ep = sl.pod_to_endpoint(new_pod(1), svc, None, "IPv4")
    assert ep is not None and ep.target_ref is not None
    other = attrs.evolve(ep, target_ref=attrs.evolve(ep.target_ref, resource_version="9"),
                         hints=topo.EndpointHints(for_zones=(topo.ForZone("z"),)))
    assert sl.endpoints_equal_beyond_hash(ep, other)
    assert not sl.endpoints_equal_beyond_hash(
        ep, attrs.evolve(ep, target_ref=attrs.evolve(ep.target_ref, uid="u")))
    assert not sl.endpoints_equal_beyond_hash(ep, attrs.evolve(ep, zone="z"))


def test_named_port_resolves_sidecar_init_container_and_skips_unresolved() -> None:
    svc = new_service(ports=(ServicePort(name="a", port=80, target_port="http"),
                             ServicePort(name="b", port=81, target_port="missing")))
    pod = new_pod(1, init_containers=(Container(name="side", restart_policy="Always",
                                                ports=(ContainerPort(9000, name="http"),)),))
    assert sl.endpoint_ports_for_pod(svc, pod) == (
        EndpointSlicePort(name="a", protocol="TCP", port=9000),)


def test_quirk_remainder_of_exactly_max_makes_a_new_slice() -> None:
    # §4: "remaining < max" is strict. Pods whose named port does not resolve share the
    # empty-port group with the existing placeholder, which stays unchanged and empty.
    svc = new_service(ports=(ServicePort(name="a", port=80, target_port="missing"),))
    placeholder = attrs.evolve(sl.new_endpoint_slice(svc, (), "IPv4"), metadata=attrs.evolve(
        sl.new_endpoint_slice(svc, (), "IPv4").metadata, name="foo-1"))
    h = Harness([placeholder], max_endpoints_per_slice=10)
    h.sync(svc, pods_range(range(10)))
    assert h.api.actions == ["create"] and h.api.lengths() == [0, 10]
    h2 = Harness([placeholder], max_endpoints_per_slice=10)
    h2.sync(svc, pods_range(range(9)))
    assert h2.api.actions == ["update"] and h2.api.lengths() == [9]


def test_invalid_max_endpoints_per_slice() -> None:
    from kubesim.errors import InvalidOption
    with pytest.raises(InvalidOption):
        sl.reconcile_endpoint_slices(new_service(), [], [], nodes={}, max_endpoints_per_slice=0)
    with pytest.raises(InvalidOption):
        sl.reconcile_endpoint_slices(new_service(), [], [], nodes={}, max_endpoints_per_slice=1001)


# --------------------------------------------------------------------------------------------
# properties of the pure function


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Service, list[Pod], list[Pod], int, dict[str, Node]]:
    families = draw(st.sampled_from([("IPv4",), ("IPv6",), ("IPv4", "IPv6")]))
    named = draw(st.booleans())
    td = draw(st.sampled_from([None, "PreferClose"]))
    svc = new_service(
        ip_families=families, traffic_distribution=td,
        publish_not_ready_addresses=draw(st.booleans()),
        ports=(ServicePort(name="p", port=80, target_port="web" if named else 8080),))
    nodes = {f"n{k}": new_node(f"n{k}", zone=f"z{k % 2}", cpu="1") for k in range(3)}

    def pods(ids: list[int]) -> list[Pod]:
        out = []
        for i in ids:
            fams = draw(st.sampled_from(["4", "6", "46", ""]))
            ips = ([pod_ip(i)] if "4" in fams else []) + ([f"fd00::{i:x}"] if "6" in fams else [])
            p = new_pod(i, ready=draw(st.booleans()), terminating=draw(st.booleans()), ips=ips,
                        node=f"n{draw(st.integers(0, 2))}")
            if named:
                port = draw(st.sampled_from([None, 9000, 9001]))
                cports = () if port is None else (ContainerPort(port, name="web"),)
                p = attrs.evolve(p, spec=attrs.evolve(p.spec, containers=(
                    Container(name="c", ports=cports),)))
            out.append(p)
        return out

    first = pods(sorted(draw(st.sets(st.integers(0, 40), max_size=25))))
    second = pods(sorted(draw(st.sets(st.integers(0, 40), max_size=25))))
    return svc, first, second, draw(st.integers(1, 5)), nodes


def _check_partition(svc: Service, pods: list[Pod], slices: list[EndpointSlice],
                     max_: int, nodes: dict[str, Node]) -> None:
    for at in sl.address_types_for_service(svc):
        want: Counter[tuple[Any, Any]] = Counter()
        for p in pods:
            if not sl.should_pod_be_in_endpoints(p, True):
                continue
            ep = sl.pod_to_endpoint(p, svc, nodes.get(p.spec.node_name), at)
            if ep is not None:
                want[(sl.port_map_key(sl.endpoint_ports_for_pod(svc, p)),
                      sl.endpoint_identity(ep))] += 1
        have: Counter[tuple[Any, Any]] = Counter(
            (sl.port_map_key(s.ports), sl.endpoint_identity(ep))
            for s in slices if s.address_type == at for ep in s.endpoints)
        assert have == want, at  # every desired endpoint in exactly one slice of its group
        typed = [s for s in slices if s.address_type == at]
        if not want:
            assert len(typed) == 1 and typed[0].ports == () and typed[0].endpoints == ()
        assert all(len(s.endpoints) <= max_ for s in typed)


@given(worlds())
def test_property_reconcile_partitions_and_is_idempotent(
        world: tuple[Service, list[Pod], list[Pod], int, dict[str, Node]]) -> None:
    svc, first, second, max_, nodes = world
    h = Harness(nodes=nodes, max_endpoints_per_slice=max_)
    for pods in (first, second):
        plan = h.sync(svc, pods)
        assert plan.error is None
        assert all(len(s.endpoints) <= max_ for s in plan.creates)
        assert all(not s.metadata.name for s in plan.creates)
        _check_partition(svc, pods, h.api.list(), max_, nodes)
        again = sl.reconcile_endpoint_slices(svc, pods, h.api.list(), nodes=nodes,
                                             max_endpoints_per_slice=max_)
        assert again.empty, again.operations


@given(worlds(), st.permutations(range(6)))
def test_property_plan_independent_of_slice_input_order(
        world: tuple[Service, list[Pod], list[Pod], int, dict[str, Node]],
        perm: list[int]) -> None:
    svc, first, second, max_, nodes = world
    h = Harness(nodes=nodes, max_endpoints_per_slice=max_)
    h.sync(svc, first)
    existing = h.api.list()
    shuffled = [existing[i] for i in perm if i < len(existing)] + existing[6:]
    a = sl.reconcile_endpoint_slices(svc, second, existing, nodes=nodes,
                                     max_endpoints_per_slice=max_)
    b = sl.reconcile_endpoint_slices(svc, second, shuffled, nodes=nodes,
                                     max_endpoints_per_slice=max_)
    assert a == b
