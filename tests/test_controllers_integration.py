"""Controller-level fidelity tests, run through a real :class:`~kubesim.cluster.Cluster`.

Ports the controller-level rows of the upstream tables:

* ``pkg/controller/endpoint/endpoints_controller_test.go`` — reference
  ``endpoints-and-consumers.md`` §1.8 rows 1, 5, 8, 20, 21, 23, 24;
* ``pkg/controller/endpointslice/endpointslice_controller_test.go`` — reference
  ``endpointslice-controller.md`` catalogue B (B1–B11);
* the pre-1.22 Endpoints controller (no truncation: etcd refuses the write) and the current one
  (truncation at 1000 with ``endpoints.kubernetes.io/over-capacity: truncated``).

Pods are written directly (with IPs, node and a Ready condition) into a cluster that runs only
the endpoint controllers and the garbage collector, so no scheduler or kubelet adds events of
its own. Upstream's tests count API requests; these count change-log records by actor.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import pytest

from kubesim.cluster import Cluster
from kubesim.controllers import registry
from kubesim.controllers.endpointslice.controller import SliceTracker
from kubesim.errors import RequestTooLarge
from kubesim.objects import (
    Container,
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSubset,
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

EPOCH = 1735689600
EP_ACTOR = "endpoint-controller"
SLICE_ACTOR = "endpointslice-controller"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
SLICE_CONTROLLER = "endpointslice-controller.k8s.io"
TRIGGER_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"

ENDPOINT_CONTROLLERS = ["endpoint", "endpointslice", "garbagecollector"]


# ------------------------------------------------------------------------------------ fixtures


def make_pod(
    i: int,
    *,
    ips: Iterable[str] | None = None,
    ready: bool = True,
    labels: dict[str, str] | None = None,
    node: str = "node-1",
    phase: str = "Running",
) -> Pod:
    """``newPod``: name ``pod<i>``, labels ``foo=bar``, node ``node-1``, a Ready condition."""
    ip_list = tuple(ips) if ips is not None else (f"10.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}",)
    return Pod(
        metadata=ObjectMeta(name=f"pod{i}", namespace="default", labels=labels if labels is not None else {"foo": "bar"}),
        spec=PodSpec(containers=(Container(name="c", image="registry.k8s.io/pause:3.9"),), node_name=node),
        status=PodStatus(
            phase=phase,
            conditions=(PodCondition("Ready", "True" if ready else "False", last_transition_time=EPOCH),),
            pod_ip=ip_list[0] if ip_list else "",
            pod_ips=tuple(PodIP(ip) for ip in ip_list),
        ),
    )


_FOO_BAR = {"foo": "bar"}


def make_service(
    name: str = "foo",
    *,
    selector: dict[str, str] | None = _FOO_BAR,
    ports: tuple[ServicePort, ...] = (ServicePort(port=80, target_port=80),),
    **spec: Any,
) -> Service:
    return Service(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=ServiceSpec(selector=selector, ports=ports, **spec),
    )


def endpoint_cluster(**kw: Any) -> Cluster:
    kw.setdefault("controllers", ENDPOINT_CONTROLLERS)
    kw.setdefault("nodes", 1)
    return Cluster(seed=0, **kw)


def writes(cl: Cluster, actor: str, since: int = 0) -> list[tuple[str, str]]:
    return [(e.verb, e.kind) for e in cl.changes[since:] if e.actor == actor]


def slices_of(cl: Cluster, service: str = "foo") -> list[EndpointSlice]:
    return cl.list("EndpointSlice", selector=f"{SERVICE_NAME_LABEL}={service},{MANAGED_BY_LABEL}={SLICE_CONTROLLER}")


def addresses(ep: Endpoints) -> tuple[list[str], list[str]]:
    return (
        sorted(a.ip for s in ep.subsets for a in s.addresses),
        sorted(a.ip for s in ep.subsets for a in s.not_ready_addresses),
    )


def fmt_time(ts: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------ row 20 / B11: batching

ACTORS = {
    "endpoint": (EP_ACTOR, "endpoint_updates_batch_period", "Endpoints"),
    "endpointslice": (SLICE_ACTOR, "endpointslice_updates_batch_period", "EndpointSlice"),
}

BATCH_CASES = [
    # (batch period, event offsets in seconds, writes expected) — TestPod{Adds,Updates,Delete}Batching
    (0.0, (0.2, 0.3, 0.4), 3),
    (1.0, (0.2, 0.3, 0.4), 1),
    (1.0, (0.2, 0.3, 1.3), 2),
]


@pytest.mark.parametrize("controller", sorted(ACTORS))
@pytest.mark.parametrize("event", ["add", "update", "delete"])
@pytest.mark.parametrize("batch,offsets,expected", BATCH_CASES)
def test_pod_event_batching(controller: str, event: str, batch: float, offsets: tuple[float, ...], expected: int) -> None:
    actor, option, kind = ACTORS[controller]
    cl = endpoint_cluster(**{option: batch})
    if event != "add":  # updates and deletes start from 10 pre-loaded pods
        for i in range(10):
            cl.create(make_pod(i))
    cl.create(make_service())
    cl.run()
    start, n = cl.now, len(cl.changes)
    for k, dt in enumerate(offsets):
        cl.run(until=start + dt)
        if event == "add":
            cl.create(make_pod(100 + k))
        elif event == "update":
            pod = cl.get("Pod", f"pod{k}")
            ip = f"10.9.9.{k + 1}"
            cl.update(attrs.evolve(pod, status=attrs.evolve(pod.status, pod_ip=ip, pod_ips=(PodIP(ip),))))
        else:
            cl.delete("Pod", f"pod{k}", grace_period_seconds=0)
    cl.run()
    got = [w for w in writes(cl, actor, n) if w[1] == kind]
    assert len(got) == expected, got
    # and the result is complete whatever the batching
    ep_ips, _ = addresses(cl.get("Endpoints", "foo")) if controller == "endpoint" else ([], [])
    live = sorted(p.status.pod_ips[0].ip for p in cl.list("Pod"))
    if controller == "endpoint":
        assert ep_ips == live
    else:
        assert sorted(e.addresses[0] for s in slices_of(cl) for e in s.endpoints) == live


def test_batched_sync_runs_one_batch_period_after_the_first_event() -> None:
    cl = endpoint_cluster(endpoint_updates_batch_period=1.0)
    cl.create(make_service())
    cl.run()
    start, n = cl.now, len(cl.changes)
    cl.create(make_pod(0))
    cl.run(until=start + 0.5)
    cl.create(make_pod(1))  # does not extend the wait
    cl.run()
    (ev,) = [e for e in cl.changes[n:] if e.actor == EP_ACTOR]
    assert ev.time == pytest.approx(start + 1.0)


# ------------------------------------------------------------------------------------ Endpoints controller rows


def test_row1_selectorless_service_endpoints_preserved() -> None:
    cl = endpoint_cluster()
    cl.create(make_service(selector=None))  # TestSyncEndpointsItemsPreserveNoSelector
    ep = cl.create(
        Endpoints(
            metadata=ObjectMeta(name="foo", namespace="default"),
            subsets=(EndpointSubset(addresses=(EndpointAddress(ip="6.7.8.9"),), ports=(EndpointPort(port=1000),)),),
        )
    )
    cl.create(make_pod(0))
    cl.run()
    assert writes(cl, EP_ACTOR) == []
    assert writes(cl, SLICE_ACTOR) == []  # B1 TestSyncServiceNoSelector
    assert cl.get("Endpoints", "foo") == ep


@pytest.mark.parametrize("selector", [None, {"foo": "bar"}])
@pytest.mark.parametrize("with_ports", [True, False])
def test_row8_b2_external_name_services_are_ignored(selector: dict[str, str] | None, with_ports: bool) -> None:
    cl = endpoint_cluster()
    cl.create(make_pod(0))
    ports = (ServicePort(port=80, target_port=80),) if with_ports else ()
    cl.create(
        Service(
            metadata=ObjectMeta(name="foo", namespace="default"),
            spec=ServiceSpec(type="ExternalName", external_name="db.example.com", selector=selector, ports=ports),
        )
    )
    cl.run()
    assert writes(cl, EP_ACTOR) == []
    assert writes(cl, SLICE_ACTOR) == []
    assert cl.list("EndpointSlice") == []


def _start_endpoint_controller_over(objs: Iterable[Any]) -> tuple[Cluster, Any]:
    cl = Cluster(seed=0, nodes=1, controllers=[])
    for o in objs:
        cl.create(o)
    ctrl = registry.start("endpoint", cl.context)
    return cl, ctrl


def test_row5_row21_leftover_endpoints_are_queued_and_deleted() -> None:
    # TestCheckLeftoverEndpoints: every existing Endpoints but the leader-election ones is queued;
    # TestSyncEndpointsServiceNotFound: exactly one DELETE.
    cl, ctrl = _start_endpoint_controller_over(
        [
            Endpoints(metadata=ObjectMeta(name="foo", namespace="default")),
            Endpoints(metadata=ObjectMeta(name="lock", namespace="default", annotations={LEADER_ANNOTATION: "{}"})),
        ]
    )
    assert len(ctrl.queue) == 1
    n = len(cl.changes)
    cl.run()
    assert [(e.verb, e.kind, e.name, e.actor) for e in cl.changes[n:]] == [("delete", "Endpoints", "foo", EP_ACTOR)]
    assert cl.get("Endpoints", "lock").metadata.name == "lock"


def test_row5_leftover_sweep_keeps_endpoints_of_existing_services() -> None:
    svc = make_service()
    cl, ctrl = _start_endpoint_controller_over([svc, Endpoints(metadata=ObjectMeta(name="foo", namespace="default"))])
    assert len(ctrl.queue) == 1
    cl.run()
    # the Endpoints is adopted (updated with the controller's labels), not deleted
    assert [v for v, k in writes(cl, EP_ACTOR)] == ["update"]
    assert cl.get("Endpoints", "foo").metadata.labels.get("endpoints.kubernetes.io/managed-by") == EP_ACTOR


def test_row23_multiple_service_changes() -> None:
    cl = endpoint_cluster()
    cl.create(make_pod(0))
    cl.create(make_service())
    cl.run()
    cl.delete("Service", "foo")
    cl.run()
    cl.create(make_service())
    cl.run()
    assert writes(cl, EP_ACTOR) == [("create", "Endpoints"), ("delete", "Endpoints"), ("create", "Endpoints")]
    assert addresses(cl.get("Endpoints", "foo")) == (["10.1.0.1"], [])


def test_row24_endpoints_deletion_enqueues_the_service() -> None:
    cl = endpoint_cluster()
    cl.create(make_pod(0))
    cl.create(make_service())
    cl.run()
    ctrl = cl.controllers["endpoint"]
    assert len(ctrl.queue) == 0
    cl.delete("Endpoints", "foo")
    assert len(ctrl.queue) == 1
    n = len(cl.changes)
    cl.run()
    assert writes(cl, EP_ACTOR, n) == [("create", "Endpoints")]
    assert addresses(cl.get("Endpoints", "foo")) == (["10.1.0.1"], [])


# ------------------------------------------------------------------------------------ EndpointSlice controller: B3–B10


def test_b3_terminating_service_gets_no_placeholder() -> None:
    cl = endpoint_cluster(controllers=["endpointslice"])
    svc = make_service()
    cl.create(attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, finalizers=("example.com/hold",))))
    cl.delete("Service", "foo")
    assert cl.get("Service", "foo").metadata.deletion_timestamp is not None
    cl.run()
    assert writes(cl, SLICE_ACTOR) == []
    assert cl.list("EndpointSlice") == []


def test_b4_placeholder_slice_for_a_service_without_pods() -> None:
    cl = endpoint_cluster()
    svc = cl.create(make_service("testing-1"))
    cl.run()
    assert writes(cl, SLICE_ACTOR) == [("create", "EndpointSlice")]
    (sl,) = slices_of(cl, "testing-1")
    assert sl.metadata.name.startswith("testing-1-")
    assert sl.metadata.labels[SERVICE_NAME_LABEL] == "testing-1"
    assert sl.ports == () and sl.endpoints == ()
    assert sl.metadata.annotations[TRIGGER_ANNOTATION] == fmt_time(svc.metadata.creation_timestamp)


def test_b5_pod_selection() -> None:
    cl = endpoint_cluster()
    cl.create(make_pod(1, labels={"foo": "bar"}))
    cl.create(make_pod(2, labels={"foo": "boo"}))
    cl.create(make_service())
    cl.run()
    assert writes(cl, SLICE_ACTOR) == [("create", "EndpointSlice")]
    (sl,) = slices_of(cl)
    assert len(sl.endpoints) == 1
    ref = sl.endpoints[0].target_ref
    assert (ref.kind, ref.namespace, ref.name) == ("Pod", "default", "pod1")
    assert sl.metadata.annotations.get(TRIGGER_ANNOTATION)


def test_b6_terminating_slice_is_ignored() -> None:
    cl = endpoint_cluster(controllers=["endpointslice"])
    svc = cl.create(make_service())
    cl.run()
    n = len(cl.changes)
    cl.create(
        EndpointSlice(
            metadata=ObjectMeta(
                name="epSlice-1".lower(),
                namespace="default",
                labels={SERVICE_NAME_LABEL: "foo", MANAGED_BY_LABEL: SLICE_CONTROLLER},
                owner_references=(OwnerReference(api_version="v1", kind="Service", name="foo", uid=svc.metadata.uid, controller=True),),
                finalizers=("example.com/hold",),
            ),
            address_type="IPv4",
        )
    )
    cl.delete("EndpointSlice", "epslice-1")
    assert cl.get("EndpointSlice", "epslice-1").metadata.deletion_timestamp is not None
    cl.run()
    assert writes(cl, SLICE_ACTOR, n) == []
    assert cl.controllers["endpointslice"].statistics().syncs_by_result.get("stale", 0) == 0


def _bare_slice(name: str, labels: dict[str, str], owner_uid: str | None) -> EndpointSlice:
    refs = (
        (OwnerReference(api_version="v1", kind="Service", name="testing-1", uid=owner_uid, controller=True),)
        if owner_uid
        else ()
    )
    return EndpointSlice(
        metadata=ObjectMeta(name=name, namespace="default", labels=labels, owner_references=refs),
        address_type="IPv4",
    )


def test_b7_label_selection_of_existing_slices() -> None:
    cl = endpoint_cluster(controllers=["endpointslice"])
    own = {SERVICE_NAME_LABEL: "testing-1", MANAGED_BY_LABEL: SLICE_CONTROLLER}
    with cl.api.transaction():  # the controller sees the Service and the slices together
        svc = cl.create(make_service("testing-1"))
        uid = svc.metadata.uid
        cl.create(_bare_slice("matching-1", own, uid))
        cl.create(_bare_slice("matching-2", own, uid))
        cl.create(_bare_slice("partially-matching-1", {SERVICE_NAME_LABEL: "testing-1"}, uid))
        cl.create(_bare_slice("not-matching-1", {SERVICE_NAME_LABEL: "testing-2", MANAGED_BY_LABEL: SLICE_CONTROLLER}, uid))
        cl.create(_bare_slice("not-matching-2", {SERVICE_NAME_LABEL: "testing-1", MANAGED_BY_LABEL: "other"}, uid))
    n = len(cl.changes)
    cl.run()
    assert writes(cl, SLICE_ACTOR, n) == [("update", "EndpointSlice"), ("delete", "EndpointSlice")]
    names = {s.metadata.name for s in cl.list("EndpointSlice")}
    assert len(names & {"matching-1", "matching-2"}) == 1
    assert {"partially-matching-1", "not-matching-1", "not-matching-2"} <= names


def test_b8_managed_by_flip_queues_the_service() -> None:
    cl = endpoint_cluster(controllers=["endpointslice"])
    cl.create(make_service())
    cl.run()
    ctrl = cl.controllers["endpointslice"]
    assert len(ctrl.queue) == 0
    (sl,) = slices_of(cl)
    cl.update(attrs.evolve(sl, metadata=attrs.evolve(sl.metadata, labels=sl.metadata.labels.set(MANAGED_BY_LABEL, "other"))))
    assert len(ctrl.queue) == 1


@pytest.mark.parametrize("tracked,stale", [(12, True), (10, False), (1, False)])
def test_b9_stale_informer(tracked: int, stale: bool) -> None:
    # TestSyncServiceStaleInformer: cached generation 10, tracker 12 / 10 / 1
    sl = EndpointSlice(
        metadata=ObjectMeta(
            name="foo-1", namespace="default", uid="uid-1", generation=tracked, labels={SERVICE_NAME_LABEL: "foo"}
        ),
        address_type="IPv4",
    )
    tracker = SliceTracker()
    tracker.update(sl)
    cached = attrs.evolve(sl, metadata=attrs.evolve(sl.metadata, generation=10))
    assert tracker.stale("default/foo", [cached]) is stale


B10_PORTS = (
    ServicePort(name="tcp-example", port=80, target_port=80, protocol="TCP"),
    ServicePort(name="udp-example", port=161, target_port=161, protocol="UDP"),
    ServicePort(name="sctp-example", port=3456, target_port=3456, protocol="SCTP"),
)


def _terminating(cl: Cluster, name: str) -> None:
    cl.delete("Pod", name, grace_period_seconds=30)  # no kubelet: stays terminating
    assert cl.get("Pod", name).metadata.deletion_timestamp is not None


@pytest.mark.parametrize(
    "case",
    ["ipv4", "ipv6", "terminating", "not-ready-terminating", "same-ip-ready-and-complete", "same-ip-two-ready"],
)
def test_b10_sync_service(case: str) -> None:
    cl = endpoint_cluster(controllers=["endpointslice"], dual_stack=True)
    v6 = "fd08::5678:0000:0000:9abc:def0"
    if case in ("ipv4", "ipv6"):
        cl.create(make_pod(0, ips=["10.0.0.1"]))
        cl.create(make_pod(1, ips=["10.0.0.2", v6]))
    elif case in ("terminating", "not-ready-terminating"):
        cl.create(make_pod(0, ips=["10.0.0.1"]))
        cl.create(make_pod(1, ips=["10.0.0.2"], ready=case == "terminating"))
        _terminating(cl, "pod1")
    else:
        cl.create(make_pod(0, ips=["10.0.0.1"]))
        cl.create(make_pod(1, ips=["10.0.0.1"], ready=case == "same-ip-two-ready", phase=""))
    families = ("IPv6",) if case == "ipv6" else ("IPv4",)
    svc = cl.create(make_service(ports=B10_PORTS, ip_families=families, ip_family_policy="SingleStack"))
    cl.run()
    assert writes(cl, SLICE_ACTOR) == [("create", "EndpointSlice")]
    (sl,) = slices_of(cl)
    assert sl.address_type == families[0]
    assert sl.metadata.annotations[TRIGGER_ANNOTATION] == fmt_time(svc.metadata.creation_timestamp)
    assert {(p.name, p.protocol, p.port) for p in sl.ports} == {
        ("tcp-example", "TCP", 80),
        ("udp-example", "UDP", 161),
        ("sctp-example", "SCTP", 3456),
    }
    got = sorted(
        (e.target_ref.name, e.addresses, (e.conditions.ready, e.conditions.serving, e.conditions.terminating))
        for e in sl.endpoints
    )
    assert all(e.node_name == "node-1" for e in sl.endpoints)
    TTF, FTT, FFT, FFF = (True, True, False), (False, True, True), (False, False, True), (False, False, False)
    expected = {
        "ipv4": [("pod0", ("10.0.0.1",), TTF), ("pod1", ("10.0.0.2",), TTF)],
        "ipv6": [("pod1", ("fd08::5678:0:0:9abc:def0",), TTF)],
        "terminating": [("pod0", ("10.0.0.1",), TTF), ("pod1", ("10.0.0.2",), FTT)],
        "not-ready-terminating": [("pod0", ("10.0.0.1",), TTF), ("pod1", ("10.0.0.2",), FFT)],
        "same-ip-ready-and-complete": [("pod0", ("10.0.0.1",), TTF), ("pod1", ("10.0.0.1",), FFF)],
        "same-ip-two-ready": [("pod0", ("10.0.0.1",), TTF), ("pod1", ("10.0.0.1",), TTF)],
    }[case]
    assert got == expected


# ------------------------------------------------------------------------------------ own writes, resyncs


def test_generation_tracker_keeps_own_writes_from_resyncing() -> None:
    cl = endpoint_cluster(controllers=["endpointslice"])
    ctrl = cl.controllers["endpointslice"]
    cl.create(make_service())
    cl.run()
    for i in range(3):
        cl.create(make_pod(i))
        cl.run()
    # one sync for the Service's creation, one per pod: no sync caused by the slice writes
    assert ctrl.statistics().syncs == 1 + 3


def test_own_writes_do_not_cause_further_writes() -> None:
    cl = endpoint_cluster()
    cl.create(make_service())
    cl.run()
    for i in range(3):
        cl.create(make_pod(i))
        cl.run()
    assert writes(cl, SLICE_ACTOR) == [("create", "EndpointSlice")] + [("update", "EndpointSlice")] * 3
    assert writes(cl, EP_ACTOR) == [("create", "Endpoints")] + [("update", "Endpoints")] * 3
    assert all(len(c.queue) == 0 for c in cl.controllers.values() if hasattr(c, "queue"))


def test_hand_edited_slice_is_restored() -> None:
    cl = endpoint_cluster()
    for i in range(3):
        cl.create(make_pod(i))
    cl.create(make_service())
    cl.run()
    (sl,) = slices_of(cl)
    edited = cl.update(attrs.evolve(sl, endpoints=sl.endpoints[:1]))
    assert edited.metadata.generation == sl.metadata.generation + 1
    n, edited_at = len(cl.changes), cl.now
    cl.run()
    (fixed,) = slices_of(cl)
    assert sorted(e.addresses[0] for e in fixed.endpoints) == sorted(e.addresses[0] for e in sl.endpoints)
    assert writes(cl, SLICE_ACTOR, n) == [("update", "EndpointSlice")]
    assert cl.changes[-1].time >= edited_at + 1.0  # after endpointSliceChangeMinSyncDelay


def test_second_sync_with_unchanged_inputs_writes_nothing() -> None:
    cl = endpoint_cluster()
    for i in range(5):
        cl.create(make_pod(i, ready=i % 2 == 0))
    cl.create(make_service())
    cl.run()
    n = len(cl.changes)
    ep_ctrl, slice_ctrl = cl.controllers["endpoint"], cl.controllers["endpointslice"]
    syncs = (ep_ctrl.statistics().syncs, slice_ctrl.statistics().syncs)
    ep_ctrl.queue.add("default/foo")
    slice_ctrl.queue.add("default/foo")
    cl.run()
    # a Service change the controllers derive nothing from: syncs, no writes
    svc = cl.get("Service", "foo")
    cl.update(attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, annotations={"note": "x"})))
    cl.run()
    assert ep_ctrl.statistics().syncs >= syncs[0] + 2
    assert slice_ctrl.statistics().syncs >= syncs[1] + 2
    assert [(e.verb, e.kind, e.actor) for e in cl.changes[n:]] == [("update", "Service", "client")]
    assert cl.run() is cl and len(cl.changes) == n + 1


# ------------------------------------------------------------------------------------ capacity


def _bulk_pods(cl: Cluster, count: int, not_ready_from: int) -> None:
    with cl.api.transaction():  # one watch burst: the controller syncs once
        for i in range(count):
            cl.create(make_pod(i, ready=i < not_ready_from))


def test_truncation_at_1000_with_over_capacity_annotation() -> None:
    # TestSyncServiceOverCapacity: 997 ready + 4 not ready -> 997 + 3, annotation "truncated"
    cl = endpoint_cluster(controllers=["endpoint"])
    _bulk_pods(cl, 1001, 997)
    cl.create(make_service())
    cl.run()
    ep = cl.get("Endpoints", "foo")
    ready, not_ready = addresses(ep)
    assert (len(ready), len(not_ready)) == (997, 3)
    assert ep.metadata.annotations.get(OVER_CAPACITY) == "truncated"
    # kept addresses are the IP-sorted (byte order) prefix of the not-ready list
    all_not_ready = sorted(p.status.pod_ip for p in cl.list("Pod") if not p.status.ready)
    assert [a.ip for s in ep.subsets for a in s.not_ready_addresses] == all_not_ready[:3]
    # back under capacity: annotation removed
    cl.delete("Pod", "pod0", grace_period_seconds=0)
    cl.delete("Pod", "pod1", grace_period_seconds=0)
    cl.run()
    ep = cl.get("Endpoints", "foo")
    assert tuple(map(len, addresses(ep))) == (995, 4)
    assert OVER_CAPACITY not in ep.metadata.annotations


def test_pre_1_22_mode_grows_until_etcd_refuses_and_retries() -> None:
    cl = endpoint_cluster(controllers=["endpoint"], endpoints_truncate=False, max_request_bytes=1500)
    ctrl = cl.controllers["endpoint"]
    cl.create(make_service())
    for i in range(3):
        cl.create(make_pod(i))
    cl.run()
    before = cl.get("Endpoints", "foo")
    assert len(addresses(before)[0]) == 3
    _bulk_pods_from(cl, 3, 30)
    cl.run(until=cl.now + 1.0)
    # the write was refused; the stored object is unchanged
    assert cl.get("Endpoints", "foo") == before
    assert cl.api.statistics().refused >= 2
    reasons = [e[2] for e in ctrl.events]
    assert reasons and set(reasons) == {"FailedToUpdateEndpoint"}
    assert all("etcdserver: request is too large" in e[4] for e in ctrl.events)
    q = ctrl.queue.statistics()
    assert q.errors >= 2  # retried with backoff, not given up yet
    # RequestTooLarge is what the API server raises for such a write, and it changes nothing
    n = len(cl.changes)
    with pytest.raises(RequestTooLarge) as info:
        cl.update(_too_big(before))
    assert str(info.value).startswith("etcdserver: request is too large")
    assert len(cl.changes) == n
    # shrinking the Service lets the next retry through
    for i in range(3, 30):
        cl.delete("Pod", f"pod{i}", grace_period_seconds=0)
    for i in range(3, 6):
        cl.create(make_pod(i))
    cl.run()
    assert len(addresses(cl.get("Endpoints", "foo"))[0]) == 6


def _bulk_pods_from(cl: Cluster, start: int, stop: int) -> None:
    with cl.api.transaction():
        for i in range(start, stop):
            cl.create(make_pod(i))


def _too_big(ep: Endpoints) -> Endpoints:
    addrs = tuple(EndpointAddress(ip=f"10.200.{i // 250}.{i % 250 + 1}") for i in range(200))
    return attrs.evolve(ep, subsets=(EndpointSubset(addresses=addrs, ports=(EndpointPort(port=80),)),))


def test_default_mode_same_scenario_truncates_nothing_and_writes() -> None:
    # the same 30 pods under the default (truncating) controller and etcd limit: one write each sync
    cl = endpoint_cluster(controllers=["endpoint"])
    cl.create(make_service())
    cl.run()
    _bulk_pods_from(cl, 0, 30)
    cl.run()
    assert len(addresses(cl.get("Endpoints", "foo"))[0]) == 30
    assert cl.controllers["endpoint"].events == []


def test_mirroring_own_write_does_not_resync() -> None:
    cl = Cluster(seed=0, nodes=1, controllers=["endpointslicemirroring", "garbagecollector"])
    with cl.api.transaction():  # Service and Endpoints arrive together: one key, one sync
        cl.create(make_service(selector=None, ports=(ServicePort(port=5432, target_port=5432),)))
        cl.create(
            Endpoints(
                metadata=ObjectMeta(name="foo", namespace="default"),
                subsets=(EndpointSubset(addresses=(EndpointAddress(ip="192.168.49.1"),), ports=(EndpointPort(port=5432),)),),
            )
        )
    cl.run()
    stats = cl.controllers["endpointslicemirroring"].statistics()
    assert stats.writes == {"create": 1}
    assert stats.syncs == 1
