"""The EndpointSlice controller's fast path (``slice_reconciler="fast"``, incremental
:class:`~kubesim.controllers.endpointslice.incremental.ServiceSlicer`) against its reference path
(:func:`~kubesim.controllers.endpointslice.reconciler.reconcile_endpoint_slices` at every sync): the change log
of a whole cluster run must be identical, write for write and byte for byte; and the
incremental trigger times must equal :class:`~kubesim.controllers.endpointutil.TriggerTimeTracker`."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workloads import ops, play

import kubesim
from kubesim import scenarios as sc
from kubesim.controllers.endpointslice.controller import IncrementalTriggerTimes
from kubesim.controllers.endpointutil import TriggerTimeTracker, selector_matches
from kubesim.errors import InvalidOption
from kubesim.faults import FaultPlan
from kubesim.objects import (
    EndpointSlice,
    ObjectMeta,
    Pod,
    PodCondition,
    PodStatus,
    Service,
    ServiceSpec,
)

FIELDS = ("seq", "time", "verb", "kind", "namespace", "name", "resource_version", "actor",
          "json_bytes", "proto_bytes", "labels", "trigger_time", "outcome", "cause")

OPS = ops()

FAULT_PLANS = st.one_of(
    st.none(),
    st.builds(
        FaultPlan,
        conflict_rate=st.sampled_from([0.0, 0.1]),
        error_rate=st.sampled_from([0.0, 0.1]),
        timeout_rate=st.sampled_from([0.0, 0.1]),
    ),
    st.just(FaultPlan(conflict_rate=0.1, watch_delay=2.0)),
    st.just(FaultPlan(error_rate=0.1, timeout_rate=0.1, watch_delay=0.7)),
)


def _run(mode: str, seed: int, max_eps: int, batch: float, faults: FaultPlan | None,
         ops: list[tuple[Any, Any, Any]]) -> kubesim.Cluster:
    cluster = kubesim.Cluster(
        seed=seed, nodes=3, max_endpoints_per_slice=max_eps,
        endpointslice_updates_batch_period=batch, faults=faults, record_objects=True,
    )
    cluster.controllers["endpointslice"].mode = mode
    sc.deploy(cluster, "web", replicas=4, readiness_probe=True)
    sc.deploy(cluster, "api", replicas=2)
    cluster.run(until=cluster.now + 30)
    play(cluster, ops)
    cluster.run(until=cluster.now + 120)
    # (Cluster._check also checks other controllers, whose invariants are not this test's.)
    cluster.controllers["endpointslice"]._check()
    return cluster


def _assert_same_log(fast: kubesim.Cluster, ref: kubesim.Cluster) -> None:
    a, b = list(fast.changes), list(ref.changes)
    for x, y in zip(a, b, strict=True):
        for f in FIELDS:
            assert getattr(x, f) == getattr(y, f), (f, x, y)
        assert x.object == y.object, (x, y)
    assert len(a) == len(b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    max_eps=st.integers(1, 5),
    batch=st.sampled_from([0.0, 1.0]),
    faults=FAULT_PLANS,
    ops=st.lists(OPS, max_size=8),
)
def test_fast_and_reference_write_the_same_change_log(
    seed: int, max_eps: int, batch: float, faults: FaultPlan | None, ops: list[tuple[Any, Any, Any]]
) -> None:
    fast = _run("fast", seed, max_eps, batch, faults, ops)
    ref = _run("reference", seed, max_eps, batch, faults, ops)
    ctrl = fast.controllers["endpointslice"]
    assert ctrl.path == "fast"  # also when watch events are delayed
    assert ref.controllers["endpointslice"].path == "reference"
    assert ctrl.slicers  # the fast path planned
    _assert_same_log(fast, ref)


def test_fast_path_under_delayed_watch_events_writes_what_the_reference_writes() -> None:
    # Late watch events: the queue hears of changes late, while a sync reads the store; the
    # fast path's planners are fed at commit time, so they plan from the store too.
    runs = {}
    for mode in ("fast", "reference"):
        cluster = kubesim.Cluster(
            seed=11, nodes=4, max_endpoints_per_slice=3, record_objects=True,
            faults=FaultPlan(conflict_rate=0.05, timeout_rate=0.05, watch_delay=3.0),
        )
        cluster.controllers["endpointslice"].mode = mode
        sc.deploy(cluster, "web", replicas=10, readiness_probe=True)
        cluster.run(until=cluster.now + 60)
        sc.set_image(cluster, "web", "nginx:1.26")
        sc.fail_readiness(cluster, sorted(p.metadata.name for p in cluster.list("Pod"))[0], 30.0)
        cluster.run(until=cluster.now + 300)
        cluster.controllers["endpointslice"]._check()
        runs[mode] = cluster
    _assert_same_log(runs["fast"], runs["reference"])
    ctrl = runs["fast"].controllers["endpointslice"]
    assert ctrl.path == "fast"
    stats = ctrl.slicers["default/web"].statistics()
    assert stats.incremental_syncs > stats.full_syncs


def test_fast_path_plans_incrementally_during_a_rollout() -> None:
    runs = {}
    for mode in ("fast", "reference"):
        cluster = kubesim.Cluster(seed=3, nodes=4, max_endpoints_per_slice=3)
        cluster.controllers["endpointslice"].mode = mode
        sc.deploy(cluster, "web", replicas=12)
        cluster.run()
        sc.set_image(cluster, "web", "nginx:1.26")
        cluster.run()
        cluster._check()
        runs[mode] = cluster
    _assert_same_log(runs["fast"], runs["reference"])
    stats = runs["fast"].controllers["endpointslice"].slicers["default/web"].statistics()
    assert stats.incremental_syncs > stats.full_syncs
    assert stats.rebuilds == 1  # only the first sync builds the model


def test_foreign_slice_change_is_repaired_identically() -> None:
    runs = {}
    for mode in ("fast", "reference"):
        cluster = kubesim.Cluster(seed=5, nodes=2, max_endpoints_per_slice=2)
        cluster.controllers["endpointslice"].mode = mode
        sc.deploy(cluster, "web", replicas=5)
        cluster.run()
        victim = cluster.list("EndpointSlice", selector="kubernetes.io/service-name=web")[0]
        cluster.update(attrs.evolve(victim, endpoints=victim.endpoints[:1]))
        other = cluster.list("EndpointSlice", selector="kubernetes.io/service-name=web")[-1]
        cluster.delete("EndpointSlice", other.metadata.name)
        cluster.run()
        cluster._check()
        runs[mode] = cluster
    _assert_same_log(runs["fast"], runs["reference"])
    slices = runs["fast"].list("EndpointSlice", selector="kubernetes.io/service-name=web")
    assert sum(len(s.endpoints) for s in slices) == 5


def _staleness_scenario(mode: str) -> kubesim.Cluster:
    # Third parties move, hold and plant managed slices; the fast path's O(1) staleness answer
    # (checked against upstream's scan on every sync: KUBESIM_CHECK_HINTS in conftest.py) and
    # its slice index must follow, and both planners must write the same log.
    sel = "kubernetes.io/service-name=web"
    c = kubesim.Cluster(seed=3, nodes=2, max_endpoints_per_slice=2, record_objects=True)
    esc = c.controllers["endpointslice"]
    esc.mode = mode

    def step() -> None:
        c.run(until=c.now + 5)
        esc._check()
        c.api._check()

    sc.deploy(c, "web", replicas=5)
    sc.deploy(c, "api", replicas=3)
    c.run(until=c.now + 30)
    step()
    # a managed slice of web relabelled to api
    s = c.list("EndpointSlice", selector=sel)[0]
    labels = {**s.metadata.labels, "kubernetes.io/service-name": "api"}
    c.update(attrs.evolve(s, metadata=attrs.evolve(s.metadata, labels=labels)))
    step()
    # a managed slice held by a finalizer while deleted (deletionTimestamp set), the Service
    # scaled meanwhile, then released
    s = c.list("EndpointSlice", selector=sel)[0]
    c.update(attrs.evolve(s, metadata=attrs.evolve(s.metadata, finalizers=("example.com/hold",))))
    step()
    c.delete("EndpointSlice", s.metadata.name)
    step()
    sc.scale(c, "web", 7)
    step()
    s = c.api.get("EndpointSlice", s.metadata.name, "default")
    c.update(attrs.evolve(s, metadata=attrs.evolve(s.metadata, finalizers=())))
    step()
    # a managed-labelled slice in a namespace the controller indexes only later
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    c.create(EndpointSlice(
        metadata=ObjectMeta(name="late-foreign", namespace="other", labels={
            "kubernetes.io/service-name": "late",
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}),
        address_type="IPv4"))
    step()
    sc.deploy(c, "late", replicas=3, namespace="other")
    step()
    # the Service deleted and created again
    svc = c.api.get("Service", "web", "default")
    c.delete("Service", "web")
    step()
    c.create(Service(metadata=ObjectMeta(name="web", namespace="default"),
                     spec=attrs.evolve(svc.spec, cluster_ip="", cluster_ips=())))
    step()
    # a rolled-back update of a slice
    s = c.list("EndpointSlice", selector=sel)[0]
    with pytest.raises(RuntimeError), c.api.transaction():
        c.api.update(attrs.evolve(s, endpoints=s.endpoints[:0]))
        raise RuntimeError("roll back")
    step()
    sc.scale(c, "web", 2)
    c.run(until=c.now + 200)
    step()
    return c


def test_staleness_follows_foreign_slice_moves_identically() -> None:
    runs = {mode: _staleness_scenario(mode) for mode in ("fast", "reference")}
    _assert_same_log(runs["fast"], runs["reference"])
    stats = [runs[m].controllers["endpointslice"].statistics() for m in ("fast", "reference")]
    assert stats[0].syncs_by_result == stats[1].syncs_by_result
    assert stats[0].syncs_by_result.get("stale", 0) > 0  # the scenario does reach stale caches
    assert runs["fast"].controllers["endpointslice"].path == "fast"


def test_mode_is_validated_and_fixed_after_the_first_sync() -> None:
    cluster = kubesim.Cluster(seed=1, nodes=1)
    ctrl = cluster.controllers["endpointslice"]
    assert ctrl.mode in ("fast", "reference") and ctrl.path is None
    ctrl.mode = "fast"
    with pytest.raises(InvalidOption, match="slice_reconciler"):
        ctrl.mode = "quick"
    sc.deploy(cluster, "web", replicas=1)
    cluster.run()
    assert ctrl.path == "fast"
    with pytest.raises(InvalidOption, match="first sync"):
        ctrl.mode = "reference"


# ------------------------------------------------------------------ trigger times

def _pod(name: str, app: str, t: int | None) -> Pod:
    conds = () if t is None else (PodCondition(type="Ready", status="True", last_transition_time=t),)
    return Pod(metadata=ObjectMeta(name=name, namespace="default", labels={"app": app}),
               status=PodStatus(conditions=conds))


POD_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.sampled_from("abcde"), st.sampled_from(["web", "db"]),
                  st.one_of(st.none(), st.integers(0, 6))),
        st.tuples(st.just("del"), st.sampled_from("abcde"), st.just(""), st.none()),
        st.tuples(st.just("svc"), st.just(""), st.sampled_from(["web", "db"]), st.integers(0, 3)),
        st.tuples(st.just("sync"), st.just(""), st.just(""), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(steps=POD_STEPS)
def test_incremental_trigger_times_equal_the_tracker(steps: list[tuple[str, str, str, int | None]]) -> None:
    store: dict[str, Pod] = {}
    svc = Service(metadata=ObjectMeta(name="s", namespace="default", creation_timestamp=1),
                  spec=ServiceSpec(selector={"app": "web"}))
    ref, inc = TriggerTimeTracker(), IncrementalTriggerTimes()
    syncs = 0
    for op, name, app, t in steps:
        if op == "set":
            store[name] = _pod(name, app, t)
            inc.pod_changed("default", name)
        elif op == "del":
            store.pop(name, None)
            inc.pods_changed("default", {name})  # the controller's form: a set per namespace
        elif op == "svc":
            assert t is not None
            svc = attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, creation_timestamp=t),
                               spec=ServiceSpec(selector={"app": app}))
        else:
            selected = [store[n] for n in sorted(store) if selector_matches(svc.spec.selector, store[n].metadata.labels)]
            expected = ref.compute(svc, selected)
            # the key as the controller passes it, or derived (every other sync)
            got = inc.compute(svc, lambda selected=selected: selected, store.get, "default/s" if syncs % 2 else None)
            assert got == expected
            syncs += 1
        inc._check()
    inc.forget("default/s")
    ref.forget("default/s")
    assert "default/s" not in inc and len(inc) == 0


def test_cluster_keyword_selects_the_planner() -> None:
    assert kubesim.Cluster(nodes=1).controllers["endpointslice"].mode == "fast"
    assert kubesim.Cluster(nodes=1, slice_reconciler="reference").controllers["endpointslice"].mode == "reference"
    with pytest.raises(kubesim.InvalidOption):
        kubesim.Cluster(nodes=1, slice_reconciler="quick")


@pytest.mark.parametrize("mode", ["fast", "reference"])
def test_prefer_same_node_hints_behind_the_option(mode: str) -> None:
    def hints(enabled: bool) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
        cluster = kubesim.Cluster(seed=0, nodes=3, prefer_same_traffic_distribution=enabled, slice_reconciler=mode)
        sc.deploy(cluster, "web", replicas=3)
        svc = cluster.get("Service", "web")
        cluster.update(attrs.evolve(svc, spec=attrs.evolve(svc.spec, traffic_distribution="PreferSameNode")))
        cluster.run()
        return {
            (tuple(z.name for z in e.hints.for_zones), tuple(n.name for n in e.hints.for_nodes)) if e.hints else ((), ())
            for s in cluster.list("endpointslices") for e in s.endpoints
        }

    off, on = hints(False), hints(True)
    assert off == {((), ())}  # PreferSameNode is not valid without the feature: no hints
    assert all(zones and nodes for zones, nodes in on)  # own zone and own node for every endpoint


@pytest.mark.parametrize("hints", [False, True])
def test_planner_vouches_the_wire_sums_of_its_slices(monkeypatch: pytest.MonkeyPatch, hints: bool) -> None:
    """The sizes the planner vouches for its slice updates' endpoints (the model's sums
    corrected by the entries that changed, or the stored tuple's plus the appended entries:
    ``ServiceSlicer._vouch_sums``) are the wire's own pass over each tuple, on a rollout that
    patches, drops and appends entries across many small slices, in check mode; and the
    corrected sums are what is vouched (the record path is taken, not only the fallbacks)."""
    from kubesim import lean, wire
    from kubesim.controllers.endpointslice import incremental
    from kubesim.wire import endpoints as wire_endpoints

    monkeypatch.setattr(wire, "CHECK_HINTS", hints)
    vouched: list[bool] = []
    real_vouch = wire.vouch_slice_endpoints

    def compared(eps: tuple[Any, ...], packed: int) -> None:
        vouched.append(packed == wire_endpoints._endpoints_pair(eps))
        real_vouch(eps, packed)

    deltas = []
    real_delta = incremental._delta

    def counted(*args: Any) -> int:
        deltas.append(1)
        return real_delta(*args)

    monkeypatch.setattr(wire, "vouch_slice_endpoints", compared)
    monkeypatch.setattr(incremental, "_delta", counted)
    c = kubesim.Cluster(check=True, seed=0, nodes=3, max_endpoints_per_slice=7)
    lean.rollout_workload(40)(c)
    assert len(vouched) > 100 and all(vouched), vouched.count(False)
    assert len(deltas) > 100
