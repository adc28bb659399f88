"""The Endpoints controller's fast path against its reference path.

``EndpointsController(mode="fast")`` keeps one incremental
:class:`~kubesim.controllers.endpoints.incremental.ServiceEndpoints` engine per Service;
``mode="reference"`` recomputes with :func:`~kubesim.controllers.endpoints.reconciler.plan_endpoints_sync`.
The change log is the contract: random workloads on a full :class:`kubesim.Cluster` (rollouts,
scaling, readiness failures, pod deletions, node failures, Service edits, injected faults and
late watch delivery) must give identical logs in both modes, field by field.  The incremental
trigger time is checked against :class:`~kubesim.controllers.endpoints.reconciler.TriggerTimeTracker`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kubesim
from kubesim import scenarios as sc
from kubesim.clock import Clock
from kubesim.controllers.endpoints.controller import EndpointsController, IncrementalTriggerTime
from kubesim.controllers.endpoints.reconciler import TriggerTimeTracker
from kubesim.controllers.runtime import ControllerContext, Options
from kubesim.errors import InvalidOption
from kubesim.faults import FaultPlan
from kubesim.objects import (
    Container,
    ObjectMeta,
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
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"
DEPLOYMENTS = ("web", "api")


def log_fields(cluster: kubesim.Cluster) -> list[tuple[Any, ...]]:
    return [
        (e.seq, e.time, e.verb, e.kind, e.namespace, e.name, e.actor, e.json_bytes, e.proto_bytes, e.outcome,
         e.resource_version, e.trigger_time)
        for e in cluster.changes
    ]


def assert_same_logs(fast: kubesim.Cluster, ref: kubesim.Cluster) -> None:
    a, b = log_fields(fast), log_fields(ref)
    for x, y in zip(a, b, strict=True):
        assert x == y, (x, y)
    assert len(a) == len(b)


def new_cluster(mode: str, **kw: Any) -> kubesim.Cluster:
    cluster = kubesim.Cluster(**kw)
    ctrl = cluster.controllers["endpoint"]
    ctrl.mode = mode
    assert ctrl.mode == mode
    return cluster


# ------------------------------------------------------------------------------------ workloads

Op = Callable[[kubesim.Cluster], None]


def _pods(cluster: kubesim.Cluster) -> list[Any]:
    return [p for p in cluster.list("Pod") if p.metadata.deletion_timestamp is None]


def _exists(cluster: kubesim.Cluster, kind: str, name: str) -> bool:
    return cluster.api.try_get(kind, name, "default") is not None


def op_deploy(name: str, replicas: int, probe: bool) -> Op:
    def run(c: kubesim.Cluster) -> None:
        if not _exists(c, "Deployment", name) or not _exists(c, "Service", name):
            sc.deploy(c, name, replicas=replicas, readiness_probe=probe)

    return run


def op_scale(name: str, replicas: int) -> Op:
    def run(c: kubesim.Cluster) -> None:
        if _exists(c, "Deployment", name):
            sc.scale(c, name, replicas)

    return run


def op_image(name: str, tag: int) -> Op:
    def run(c: kubesim.Cluster) -> None:
        if _exists(c, "Deployment", name):
            sc.set_image(c, name, f"nginx:1.{tag}")

    return run


def op_fail_readiness(index: int, duration: float) -> Op:
    def run(c: kubesim.Cluster) -> None:
        pods = [p for p in _pods(c) if p.spec.node_name]
        if pods:
            sc.fail_readiness(c, pods[index % len(pods)].metadata.name, duration)

    return run


def op_delete_pod(index: int) -> Op:
    def run(c: kubesim.Cluster) -> None:
        pods = _pods(c)
        if pods:
            sc.delete_pod(c, pods[index % len(pods)].metadata.name)

    return run


def op_node(index: int) -> Op:
    def run(c: kubesim.Cluster) -> None:
        name = f"node-{index}"
        lifecycle = c.controllers["nodelifecycle"]
        if name in lifecycle._down:
            sc.recover_node(c, name)
        else:
            sc.fail_node(c, name)

    return run


def op_service(name: str, change: str) -> Op:
    """Edit the Service: relabel it, point its selector at the other Deployment and back,
    or delete it."""

    def run(c: kubesim.Cluster) -> None:
        svc = c.api.try_get("Service", name, "default")
        if svc is None:
            return
        if change == "delete":
            c.delete("Service", name)
            return
        if change == "labels":
            meta = attrs.evolve(svc.metadata, labels=svc.metadata.labels.set("tier", str(c.now)))
            c.update(attrs.evolve(svc, metadata=meta))
            return
        other = DEPLOYMENTS[1 - DEPLOYMENTS.index(name)]
        target = name if svc.spec.selector.get("app") != name else other
        c.update(attrs.evolve(svc, spec=attrs.evolve(svc.spec, selector={"app": target})))

    return run


def op_run(seconds: float) -> Op:
    def run(c: kubesim.Cluster) -> None:
        c.run(until=c.now + seconds)

    return run


names = st.sampled_from(DEPLOYMENTS)
ops = st.one_of(
    st.builds(op_deploy, names, st.integers(0, 6), st.booleans()),
    st.builds(op_scale, names, st.integers(0, 8)),
    st.builds(op_image, names, st.integers(20, 29)),
    st.builds(op_fail_readiness, st.integers(0, 50), st.sampled_from([8.0, 30.0])),
    st.builds(op_delete_pod, st.integers(0, 50)),
    st.builds(op_node, st.integers(1, 3)),
    st.builds(op_service, names, st.sampled_from(["labels", "selector", "delete"])),
    st.builds(op_run, st.sampled_from([0.5, 2.0, 10.0, 60.0])),
)
fault_plans = st.one_of(
    st.none(),
    st.builds(
        FaultPlan,
        conflict_rate=st.sampled_from([0.0, 0.1]),
        error_rate=st.sampled_from([0.0, 0.1]),
        timeout_rate=st.sampled_from([0.0, 0.1]),
        watch_delay=st.sampled_from([0.0, 1.5]),
    ),
)


def play(mode: str, seed: int, truncate: bool, batch: float, faults: FaultPlan | None, program: list[Op]) -> kubesim.Cluster:
    cluster = new_cluster(
        mode, seed=seed, nodes=3, endpoints_truncate=truncate, endpoint_updates_batch_period=batch, faults=faults
    )
    for op in program:
        op(cluster)
    cluster.run(until=cluster.now + 120.0)
    return cluster


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 3),
    truncate=st.booleans(),
    batch=st.sampled_from([0.0, 1.0]),
    faults=fault_plans,
    program=st.lists(ops, min_size=1, max_size=12),
)
def test_fast_and_reference_write_identical_change_logs(
    seed: int, truncate: bool, batch: float, faults: FaultPlan | None, program: list[Op]
) -> None:
    fast = play("fast", seed, truncate, batch, faults, [op_deploy("web", 3, True), *program])
    ref = play("reference", seed, truncate, batch, faults, [op_deploy("web", 3, True), *program])
    assert_same_logs(fast, ref)
    assert ref.controllers["endpoint"].statistics().engines == 0
    assert fast.controllers["endpoint"].events == ref.controllers["endpoint"].events
    fast._check()
    ref._check()


def test_rollout_under_faults_and_late_watches_matches_the_reference() -> None:
    plan = FaultPlan(conflict_rate=0.1, error_rate=0.1, timeout_rate=0.1, watch_delay=2.0)
    program = [
        op_deploy("web", 8, False),
        op_run(60.0),
        op_image("web", 26),
        op_run(120.0),
        op_scale("web", 5),
        op_node(2),
        op_run(400.0),
        op_node(2),
    ]
    fast = play("fast", 1, True, 1.0, plan, program)
    ref = play("reference", 1, True, 1.0, plan, program)
    assert_same_logs(fast, ref)
    injected = fast.api.faults.injected  # type: ignore[union-attr]
    assert injected["delayed"] and injected["conflict"] + injected["error"] + injected["timeout"]
    stats = fast.controllers["endpoint"].statistics()
    assert stats.engines == 1 and stats.writes.get("update", 0) > 0
    assert any(e.kind == "Endpoints" for e in fast.changes)
    fast._check()


# ------------------------------------------------------------------------------------ 1000+ pods


def make_pod(i: int, ready: bool = True, t: int = EPOCH) -> Pod:
    ip = f"10.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}"
    return Pod(
        metadata=ObjectMeta(name=f"pod{i}", namespace="default", labels={"foo": "bar"}),
        spec=PodSpec(containers=(Container(name="c", image="registry.k8s.io/pause:3.9"),), node_name="node-1"),
        status=PodStatus(
            phase="Running",
            conditions=(PodCondition("Ready", "True" if ready else "False", last_transition_time=t),),
            pod_ip=ip,
            pod_ips=(PodIP(ip),),
        ),
    )


def make_service() -> Service:
    return Service(
        metadata=ObjectMeta(name="foo", namespace="default"),
        spec=ServiceSpec(selector={"foo": "bar"}, ports=(ServicePort(port=80, target_port=80),)),
    )


def capacity_run(mode: str, truncate: bool) -> kubesim.Cluster:
    cl = new_cluster(mode, seed=0, nodes=1, controllers=["endpoint"], endpoints_truncate=truncate)
    with cl.api.transaction():
        for i in range(1001):
            cl.create(make_pod(i, ready=i < 997))
    cl.create(make_service())
    cl.run()
    # readiness flips, one at a time and in a batch; deletions back under capacity
    cl.update(attrs.evolve(cl.get("Pod", "pod5"), status=make_pod(5, ready=False, t=EPOCH + 7).status))
    cl.run(until=cl.now + 3)
    with cl.api.transaction():
        for i in range(990, 1001):
            cl.update(attrs.evolve(cl.get("Pod", f"pod{i}"), status=make_pod(i, ready=i % 2 == 0, t=EPOCH + 9).status))
    cl.run(until=cl.now + 3)
    for i in range(4):
        cl.delete("Pod", f"pod{i}", grace_period_seconds=0)
    cl.run()
    with cl.api.transaction():  # a batch that ends where it began: a sync that writes nothing
        cl.create(make_pod(2000))
        cl.delete("Pod", "pod2000", grace_period_seconds=0)
    cl.run()
    return cl


@pytest.mark.parametrize("truncate", [True, False])
def test_a_thousand_pods_written_directly_match_the_reference(truncate: bool) -> None:
    fast, ref = capacity_run("fast", truncate), capacity_run("reference", truncate)
    assert_same_logs(fast, ref)
    assert fast.get("Endpoints", "foo") == ref.get("Endpoints", "foo")
    ep_writes = [e for e in fast.changes if e.actor == "endpoint-controller"]
    assert len(ep_writes) >= 4
    fast._check()


def test_truncated_fast_path_keeps_upstream_counts_and_annotation() -> None:
    # TestSyncServiceOverCapacity: 997 ready + 4 not ready -> 997 + 3, annotation "truncated"
    cl = new_cluster("fast", seed=0, nodes=1, controllers=["endpoint"])
    with cl.api.transaction():
        for i in range(1001):
            cl.create(make_pod(i, ready=i < 997))
    cl.create(make_service())
    cl.run()
    ep = cl.get("Endpoints", "foo")
    ready = [a.ip for s in ep.subsets for a in s.addresses]
    not_ready = [a.ip for s in ep.subsets for a in s.not_ready_addresses]
    assert (len(ready), len(not_ready)) == (997, 3)
    assert ep.metadata.annotations.get(OVER_CAPACITY) == "truncated"
    all_not_ready = sorted((p.status.pod_ip for p in cl.list("Pod") if not p.status.ready), key=lambda ip: ip.encode())
    assert not_ready == all_not_ready[:3]
    for i in range(2):
        cl.delete("Pod", f"pod{i}", grace_period_seconds=0)
    cl.run()
    ep = cl.get("Endpoints", "foo")
    assert (sum(len(s.addresses) for s in ep.subsets), sum(len(s.not_ready_addresses) for s in ep.subsets)) == (995, 4)
    assert OVER_CAPACITY not in ep.metadata.annotations
    assert cl.controllers["endpoint"].statistics().engines == 1


# ------------------------------------------------------------------------------------ trigger time


@st.composite
def trigger_programs(draw: st.DrawFn) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["set", "set", "set", "compute", "reset", "service"]))
        if kind == "set":
            t = draw(st.one_of(st.none(), st.just(0), st.integers(EPOCH, EPOCH + 20)))
            steps.append(("set", (f"p{draw(st.integers(0, 5))}", t)))
        elif kind == "reset":
            steps.append(("reset", draw(st.dictionaries(st.sampled_from([f"p{i}" for i in range(8)]),
                                                         st.one_of(st.none(), st.integers(EPOCH, EPOCH + 20)),
                                                         max_size=6))))
        elif kind == "service":
            steps.append(("service", draw(st.one_of(st.none(), st.integers(EPOCH - 5, EPOCH + 20)))))
        else:
            steps.append(("compute", None))
    return steps


def _trigger_pod(name: str, t: int | None) -> Pod:
    conditions = () if t is None else (PodCondition("Ready", "True", last_transition_time=t),)
    return Pod(metadata=ObjectMeta(name=name, namespace="default"), status=PodStatus(conditions=conditions))


@settings(max_examples=300, deadline=None)
@given(initial=st.dictionaries(st.sampled_from([f"p{i}" for i in range(6)]),
                               st.one_of(st.none(), st.integers(EPOCH, EPOCH + 20)), max_size=6),
       created=st.one_of(st.none(), st.integers(EPOCH - 5, EPOCH + 20)),
       program=trigger_programs())
def test_incremental_trigger_time_equals_the_tracker(
    initial: dict[str, int | None], created: int | None, program: list[tuple[str, Any]]
) -> None:
    def service(ts: int | None) -> Service:
        return Service(metadata=ObjectMeta(name="web", namespace="default", creation_timestamp=ts))

    svc = service(created)
    pods = {n: _trigger_pod(n, t) for n, t in initial.items()}
    reference = TriggerTimeTracker()
    expected_first = reference.compute(svc, [pods[n] for n in sorted(pods)])
    incremental, first = IncrementalTriggerTime.start(svc, [pods[n] for n in sorted(pods)])
    assert first == expected_first
    for kind, arg in program:
        if kind == "set":
            name, t = arg
            if t is None and name in pods:
                del pods[name]  # the pod was deleted (or left the selector)
            elif t is not None:
                pods[name] = _trigger_pod(name, t)
            incremental.set(name, t)
        elif kind == "reset":
            pods = {n: _trigger_pod(n, t) for n, t in arg.items()}
            incremental.reset([pods[n] for n in sorted(pods)])
        elif kind == "service":
            svc = service(arg)
        else:
            assert incremental.compute(svc) == reference.compute(svc, [pods[n] for n in sorted(pods)])
        incremental._check()
    assert incremental.compute(svc) == reference.compute(svc, [pods[n] for n in sorted(pods)])


def test_trigger_time_doctest_semantics_by_hand() -> None:
    svc = Service(metadata=ObjectMeta(name="web", namespace="default", creation_timestamp=100))
    tracker, first = IncrementalTriggerTime.start(svc, [_trigger_pod("a", 50)])
    assert (first, tracker.compute(svc)) == (100, None)
    tracker.set("a", 50)  # unchanged time: no trigger
    tracker.set("b", 120)
    tracker.set("c", 110)
    tracker.set("c", None)  # gone before the sync: not a trigger
    assert tracker.compute(svc) == 120
    tracker.set("b", 120)
    assert tracker.compute(svc) is None


# ------------------------------------------------------------------------------------ the option


def _context(options: Any) -> ControllerContext:
    import random

    return ControllerContext(api=None, clock=Clock(), rng=random.Random(0), options=options, timing=None)


def test_mode_defaults_to_fast_and_follows_the_option() -> None:
    assert EndpointsController(_context(Options())).mode == "fast"
    assert EndpointsController(_context(Options(endpoints_reconciler="reference"))).mode == "reference"
    assert EndpointsController(_context(Options()), mode="reference").mode == "reference"


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(InvalidOption, match="endpoints_reconciler must be one of"):
        EndpointsController(_context(Options()), mode="quick")
    ctrl = EndpointsController(_context(Options()))
    with pytest.raises(InvalidOption):
        ctrl.mode = "incremental"
    assert ctrl.mode == "fast"


def test_cluster_keyword_selects_the_endpoints_reconciler() -> None:
    assert kubesim.Cluster(nodes=1).controllers["endpoint"].mode == "fast"
    assert kubesim.Cluster(nodes=1, endpoints_reconciler="reference").controllers["endpoint"].mode == "reference"
    with pytest.raises(kubesim.InvalidOption):
        kubesim.Cluster(nodes=1, endpoints_reconciler="quick")
