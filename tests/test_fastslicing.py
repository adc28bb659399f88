"""The incremental EndpointSlice planner (``kubesim.controllers.endpointslice.incremental``) against the
reference oracle (``kubesim.controllers.endpointslice.reconciler.reconcile_endpoint_slices``).

Every test drives a :class:`ServiceSlicer` with deltas and applies its plans to a simulated
slice store. The store names creates ``generateName`` + counter, assigns uids and bumps the
generation and resourceVersion on update, as the fake clientset of the reference tests does.
Each sync asserts that the fast plan *equals* the reference plan on the same inputs: the same
operations in the same order, the same objects, error, events and observations. It also checks
that the metrics and topology caches fed by each path stay identical. Generated names never
appear in a plan (creates carry only ``generateName``), so no normalisation is needed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kubesim.controllers.endpointslice import reconciler as sl
from kubesim.controllers.endpointslice import topology as topo
from kubesim.controllers.endpointslice.incremental import (
    ServiceSlicer,
    _slice_with,
    _trigger_annotator,
)
from kubesim.controllers.endpointutil import meta_with as _meta_with
from kubesim.errors import InvalidOption
from kubesim.objects import (
    Container,
    ContainerPort,
    EndpointSlice,
    EndpointSlicePort,
    FrozenDict,
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

NS = "test"

# --------------------------------------------------------------------------------------------
# fixtures


def new_service(name: str = "foo", **spec: Any) -> Service:
    base: dict[str, Any] = dict(
        ports=(ServicePort(name="foo", port=80, protocol="TCP", target_port=80),),
        selector={"foo": "bar"},
        ip_families=("IPv4",),
        cluster_ip="",
    )
    base.update(spec)
    return Service(metadata=ObjectMeta(name=name, namespace=NS, uid=f"{NS}-{name}"),
                   spec=ServiceSpec(**base))


def pod_ip(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def new_pod(n: int, ready: bool = True, terminating: bool = False, node: str = "node-1",
            ips: Sequence[str] | None = None, labels: dict[str, str] | None = None,
            container_ports: Sequence[ContainerPort] = (), phase: str = "Running",
            hostname: str = "", subdomain: str = "") -> Pod:
    ips = list(ips) if ips is not None else [pod_ip(n)]
    return Pod(
        metadata=ObjectMeta(name=f"pod{n:03d}", namespace=NS,
                            labels={"foo": "bar"} if labels is None else labels,
                            uid=f"uid-{n}", deletion_timestamp=1 if terminating else None),
        spec=PodSpec(node_name=node, hostname=hostname, subdomain=subdomain,
                     containers=(Container(name="c", ports=tuple(container_ports)),)),
        status=PodStatus(phase=phase, pod_ip=ips[0] if ips else "",
                         pod_ips=tuple(PodIP(i) for i in ips),
                         conditions=(PodCondition("Ready", "True" if ready else "False"),)),
    )


def new_node(name: str, zone: str | None = None) -> Node:
    labels = {topo.LABEL_TOPOLOGY_ZONE: zone} if zone else {}
    return Node(metadata=ObjectMeta(name=name, labels=labels),
                status=NodeStatus(allocatable={"cpu": "1"},
                                  conditions=(NodeCondition("Ready", "True"),)))


PORTS_FOO = (EndpointSlicePort(name="foo", protocol="TCP", port=80),)


def existing_slice(n: int, svc: Service, pods: Iterable[Pod], nodes: dict[str, Node],
                   ports: Sequence[EndpointSlicePort] = PORTS_FOO) -> EndpointSlice:
    """``newEmptyEndpointSlice`` filled with the pods' endpoints: name ``foo-<n>``, owned by
    the Service, no labels."""
    eps = tuple(sl.pod_to_endpoint(p, svc, nodes.get(p.spec.node_name), "IPv4") for p in pods)
    assert all(e is not None for e in eps)
    return EndpointSlice(
        metadata=ObjectMeta(
            name=f"{svc.metadata.name}-{n}", namespace=NS, resource_version="1", generation=1,
            uid=f"pre-{n}",
            owner_references=(OwnerReference(api_version="v1", kind="Service",
                                             name=svc.metadata.name, uid=svc.metadata.uid,
                                             controller=True, block_owner_deletion=True),)),
        address_type="IPv4", ports=tuple(ports), endpoints=eps)  # type: ignore[arg-type]


class Store:
    """A slice store for one Service: applies plans like the fake clientset and reports the
    writes to the slicer."""

    def __init__(self, slices: Iterable[EndpointSlice] = ()) -> None:
        self.slices: dict[str, EndpointSlice] = {s.metadata.name: s for s in slices}
        self.counter = 0
        self.actions: list[str] = []

    def apply(self, plan: sl.SlicePlan, slicer: ServiceSlicer | None,
              limit: int | None = None) -> None:
        """Apply the plan's operations (only the first ``limit`` if given: a failed write)."""
        for k, (verb, s) in enumerate(plan.operations):
            if limit is not None and k >= limit:
                return
            self.actions.append(verb)
            self.counter += 1
            if verb == "create":
                assert not s.metadata.name and s.metadata.generate_name
                name = f"{s.metadata.generate_name}{self.counter:05d}"
                assert name not in self.slices
                obj = attrs.evolve(s, metadata=attrs.evolve(
                    s.metadata, name=name, uid=f"uid-{self.counter}", generation=1,
                    resource_version=str(self.counter)))
                self.slices[name] = obj
            elif verb == "update":
                old = self.slices[s.metadata.name]
                obj = attrs.evolve(s, metadata=attrs.evolve(
                    s.metadata, uid=old.metadata.uid, generation=old.metadata.generation + 1,
                    resource_version=str(self.counter)))
                self.slices[s.metadata.name] = obj
            else:
                obj = self.slices.pop(s.metadata.name)
            if slicer is not None:
                slicer.slice_written(verb, obj)

    def list(self) -> list[EndpointSlice]:
        return [self.slices[n] for n in sorted(self.slices)]

    def lengths(self) -> list[int]:
        return sorted(len(s.endpoints) for s in self.slices.values())


def selected(svc: Service, pods: dict[str, Pod]) -> list[Pod]:
    sel = svc.spec.selector
    if sel is None:
        return []
    return [pods[n] for n in sorted(pods)
            if all(pods[n].metadata.labels.get(k) == v for k, v in sel.items())]


def describe(plan: sl.SlicePlan) -> list[tuple[str, str, int]]:
    return [(v, s.metadata.name or s.metadata.generate_name, len(s.endpoints))
            for v, s in plan.operations]


class Pair:
    """A fast slicer and the reference, run side by side on one store."""

    def __init__(self, svc: Service, pods: dict[str, Pod], nodes: dict[str, Node],
                 slices: Iterable[EndpointSlice] = (), max_endpoints_per_slice: int = 100,
                 topology: bool = False) -> None:
        self.svc = svc
        self.pods = pods
        self.nodes = nodes
        self.store = Store(slices)
        self.max = max_endpoints_per_slice
        self.fast_metrics = sl.SliceMetrics(max_endpoints_per_slice=self.max)
        self.ref_metrics = sl.SliceMetrics(max_endpoints_per_slice=self.max)
        self.fast_topology = topo.TopologyCache() if topology else None
        self.ref_topology = topo.TopologyCache() if topology else None
        self.slicer = ServiceSlicer(svc, nodes=nodes, max_endpoints_per_slice=self.max,
                                    topology=self.fast_topology)
        self.slicer.reset_pods(pods.values())
        self.time = 1_700_000_000.0

    def sync(self, limit: int | None = None) -> sl.SlicePlan:
        self.time += 1.5
        trigger = None if int(self.time) % 3 == 0 else self.time
        ref = sl.reconcile_endpoint_slices(
            self.svc, selected(self.svc, self.pods), self.store.list(), nodes=self.nodes,
            max_endpoints_per_slice=self.max, trigger_time=trigger,
            topology=self.ref_topology if self.ref_topology is not None else False,
            metrics=self.ref_metrics)
        fast = self.slicer.sync(dict(self.store.slices), trigger_time=trigger,
                                metrics=self.fast_metrics)
        assert describe(fast) == describe(ref)
        assert fast == ref
        assert attrs.asdict(self.fast_metrics) == attrs.asdict(self.ref_metrics)
        if self.fast_topology is not None:
            assert attrs.asdict(self.fast_topology) == attrs.asdict(self.ref_topology)
        self.store.apply(fast, self.slicer, limit)
        self.slicer._check()
        self.fast_metrics._check()
        return fast

    # deltas --------------------------------------------------------------------------------

    def set_pod(self, pod: Pod) -> None:
        old = self.pods.get(pod.metadata.name)
        self.pods[pod.metadata.name] = pod
        self.slicer.pod_changed(old, pod)

    def delete_pod(self, name: str) -> None:
        old = self.pods.pop(name)
        self.slicer.pod_changed(old, None)

    def set_service(self, svc: Service) -> None:
        selector_changed = svc.spec.selector != self.svc.spec.selector
        self.svc = svc
        self.slicer.service_changed(svc, list(self.pods.values()) if selector_changed else None)


# --------------------------------------------------------------------------------------------
# upstream fixtures F1-F9 (reference/scale-numbers.md §1.5) through the fast path

NODES = {"node-1": new_node("node-1")}


def pods_map(pods: Iterable[Pod]) -> dict[str, Pod]:
    return {p.metadata.name: p for p in pods}


def ready_mod3(n: int) -> list[Pod]:
    return [new_pod(i, ready=i % 3 != 0) for i in range(n)]


def test_f1_many_pods() -> None:
    p = Pair(new_service(), pods_map(ready_mod3(250)), NODES)
    p.sync()
    assert p.store.actions == ["create"] * 3
    assert p.store.lengths() == [50, 100, 100]
    assert p.slicer.statistics().incremental_syncs == 1


def _preexisting(total: int, a: range, b: range) -> Pair:
    svc = new_service()
    pods = ready_mod3(total)
    s1 = existing_slice(1, svc, [pods[i] for i in a], NODES)
    s2 = existing_slice(2, svc, [pods[i] for i in b], NODES)
    return Pair(svc, pods_map(pods), NODES, [s1, s2])


def test_f2_some_preexisting() -> None:
    p = _preexisting(250, range(1, 246, 4), range(3, 244, 4))
    p.sync()
    assert Counter(p.store.actions) == {"create": 1, "update": 1}
    assert p.store.lengths() == [61, 89, 100]


def test_f3_some_preexisting_worse_allocation() -> None:
    p = _preexisting(300, range(1, 294, 4), range(3, 296, 4))
    p.sync()
    assert p.store.actions == ["create", "create"]
    assert p.store.lengths() == [52, 74, 74, 100]


def test_f4_target_port_change_updates_in_place() -> None:
    p = Pair(new_service(), pods_map(ready_mod3(250)), NODES)
    p.sync()
    p.store.actions.clear()
    p.set_service(attrs.evolve(p.svc, spec=attrs.evolve(p.svc.spec, ports=(
        ServicePort(name="foo", port=80, protocol="TCP", target_port=81),))))
    p.sync()
    assert p.store.actions == ["update"] * 3
    assert p.store.lengths() == [50, 100, 100]


def _recycling() -> Pair:
    svc = new_service()
    pods = ready_mod3(300)
    existing = [existing_slice(k, svc, pods[30 * k:30 * k + 30], NODES) for k in range(10)]
    return Pair(svc, pods_map(pods), NODES, existing)


def test_f5_recycling_no_active_repacking() -> None:
    p = _recycling()
    p.sync()
    assert p.store.actions == []
    assert p.store.lengths() == [30] * 10
    # a readiness flip then touches exactly one slice
    p.set_pod(new_pod(6, ready=True))  # pod 6 was not ready
    p.sync()
    assert p.store.actions == ["update"]
    assert p.slicer.statistics().full_syncs == 0


def test_f6_port_change_recycles_creates_into_updates() -> None:
    p = _recycling()
    p.sync()
    p.set_service(attrs.evolve(p.svc, spec=attrs.evolve(p.svc.spec, ports=(
        ServicePort(name="foo", port=80, protocol="TCP", target_port=81),))))
    p.sync()
    assert Counter(p.store.actions) == {"update": 3, "delete": 7}
    assert p.store.lengths() == [100, 100, 100]
    p.set_pod(new_pod(5, ready=False))
    p.sync()  # the model is rebuilt after the full recompute, then the fast path runs
    assert p.slicer.statistics().incremental_syncs >= 2


def test_f7_reserved_labels_only_write_nothing() -> None:
    p = Pair(new_service(), pods_map(ready_mod3(250)), NODES)
    p.sync()
    p.store.actions.clear()
    p.set_service(attrs.evolve(p.svc, metadata=attrs.evolve(p.svc.metadata, labels={
        sl.LABEL_SERVICE_NAME: "bad", sl.LABEL_MANAGED_BY: "actor", sl.LABEL_HEADLESS: "x"})))
    p.sync()
    assert p.store.actions == []


def test_f8_remainder_goes_to_one_new_slice() -> None:
    # Docs example with max 20: two slices with room for 5 each, 10 new endpoints.
    svc = new_service()
    pods = [new_pod(i) for i in range(40)]
    s1 = existing_slice(1, svc, pods[:15], NODES)
    s2 = existing_slice(2, svc, pods[15:30], NODES)
    p = Pair(svc, pods_map(pods), NODES, [s1, s2], max_endpoints_per_slice=20)
    p.sync()
    assert p.store.actions == ["create"]
    assert p.store.lengths() == [10, 15, 15]


def test_f9_selector_without_pods_gets_placeholder() -> None:
    p = Pair(new_service(), {}, NODES)
    p.sync()
    (s,) = p.store.list()
    assert p.store.actions == ["create"]
    assert s.ports == () and s.endpoints == ()
    p.sync()
    assert p.store.actions == ["create"]  # the placeholder is kept


# --------------------------------------------------------------------------------------------
# targeted cases


def test_readiness_flip_touches_one_slice_and_costs_no_full_sync() -> None:
    p = Pair(new_service(), pods_map(new_pod(i) for i in range(60)), NODES,
             max_endpoints_per_slice=5)
    p.sync()
    for i in range(0, 60, 7):
        p.store.actions.clear()
        p.set_pod(new_pod(i, ready=False))
        p.sync()
        assert p.store.actions == ["update"]
    stats = p.slicer.statistics()
    assert stats.full_syncs == 0 and stats.rebuilds == 1


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 30),
    max_per_slice=st.sampled_from([2, 3, 5, 100]),
    named=st.integers(0, 30),
    missing=st.booleans(),
    flip=st.booleans(),
)
def test_quiet_plan_is_the_general_paths(n: int, max_per_slice: int, named: int, missing: bool,
                                         flip: bool) -> None:
    """ServiceSlicer._quiet_plan (a sync with nothing dirty or touched) gives the plan the
    general incremental path gives, or ``None`` when the shape is not its own; either way the
    Pair checks the sync against the reference."""
    svc = new_service(ports=(ServicePort(name="foo", port=80, protocol="TCP", target_port="http"),))
    http = (ContainerPort(name="http", container_port=8080),)
    other = (ContainerPort(name="http", container_port=9090),)
    pods = [new_pod(i, container_ports=http if i >= named else other,
                    node="gone" if missing and i == 0 else "node-1") for i in range(n)]
    p = Pair(svc, pods_map(pods), NODES, max_endpoints_per_slice=max_per_slice)
    p.sync()
    if flip and n:
        p.set_pod(new_pod(n - 1, ready=False, container_ports=http if n - 1 >= named else other))
    slicer = p.slicer
    slices = dict(p.store.slices)
    quiet = slicer._quiet_plan() if not slicer._dirty and not slicer._touched else None
    # the general path, with the quiet one switched off for this call
    quiet_plan = ServiceSlicer._quiet_plan
    ServiceSlicer._quiet_plan = lambda self: None  # type: ignore[method-assign]
    try:
        general = slicer._incremental(slices, None)
    finally:
        ServiceSlicer._quiet_plan = quiet_plan  # type: ignore[method-assign]
    if quiet is not None:
        assert quiet == general
    if not flip and not missing and n:
        assert quiet is not None  # the usual shape takes the quiet path
    p.sync()


def test_partial_apply_is_detected() -> None:
    p = Pair(new_service(), pods_map(new_pod(i) for i in range(12)), NODES,
             max_endpoints_per_slice=3)
    p.sync(limit=2)  # two of four creates succeed
    p.sync()
    assert p.store.lengths() == [3, 3, 3, 3]
    assert p.slicer.statistics().rebuilds == 2


def test_foreign_change_then_resync() -> None:
    p = Pair(new_service(), pods_map(new_pod(i) for i in range(12)), NODES,
             max_endpoints_per_slice=3)
    p.sync()
    victim = p.store.list()[1]
    p.store.slices[victim.metadata.name] = attrs.evolve(victim, endpoints=victim.endpoints[:1])
    p.slicer.resync()
    p.sync()
    assert sorted(p.store.lengths()) == [3, 3, 3, 3]


def test_missing_node_error_and_pnra() -> None:
    nodes = {"node-1": new_node("node-1")}
    pods = pods_map([new_pod(1), new_pod(2, node="node-9"), new_pod(3, node="node-8")])
    p = Pair(new_service(), pods, nodes)
    plan = p.sync()
    assert plan.error == ("[skipping Pod pod002 for Service test/foo: Node node-9 Not Found, "
                          "skipping Pod pod003 for Service test/foo: Node node-8 Not Found]")
    nodes["node-9"] = new_node("node-9", zone="z1")
    p.slicer.node_changed("node-9")
    plan = p.sync()
    assert plan.error == "skipping Pod pod003 for Service test/foo: Node node-8 Not Found"
    p.set_service(attrs.evolve(p.svc, spec=attrs.evolve(p.svc.spec,
                                                        publish_not_ready_addresses=True)))
    assert p.sync().error is None


def test_traffic_distribution_falls_back_to_reference() -> None:
    nodes = {"n0": new_node("n0", "z0"), "n1": new_node("n1", "z1")}
    pods = pods_map(new_pod(i, node=f"n{i % 2}") for i in range(8))
    p = Pair(new_service(traffic_distribution="PreferClose"), pods, nodes,
             max_endpoints_per_slice=3, topology=True)
    p.sync()
    p.set_pod(new_pod(3, ready=False, node="n1"))
    p.sync()
    assert p.slicer.statistics().incremental_syncs == 0
    p.set_service(attrs.evolve(p.svc, spec=attrs.evolve(p.svc.spec, traffic_distribution=None)))
    p.sync()  # hints removed through the reference
    p.set_pod(new_pod(4, ready=False, node="n0"))
    p.sync()
    assert p.slicer.statistics().incremental_syncs == 1


def test_topology_annotation_uses_reference_and_events_match() -> None:
    nodes = {f"n{k}": new_node(f"n{k}", f"z{k % 2}") for k in range(4)}
    pods = pods_map(new_pod(i, node=f"n{i % 4}") for i in range(10))
    svc = new_service()
    svc = attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, annotations={
        topo.ANNOTATION_TOPOLOGY_MODE: "Auto"}))
    p = Pair(svc, pods, nodes, max_endpoints_per_slice=4, topology=True)
    p.sync()
    p.set_service(new_service())
    p.sync()
    p.set_pod(new_pod(2, ready=False, node="n2"))
    p.sync()


def test_invalid_max_endpoints_per_slice() -> None:
    with pytest.raises(InvalidOption, match="between 1 and 1000"):
        ServiceSlicer(new_service(), nodes={}, max_endpoints_per_slice=0)


# --------------------------------------------------------------------------------------------
# the fast path's building blocks against what they stand for


def test_plain_constructions_equal_evolve() -> None:
    m = ObjectMeta(name="a", generate_name="a-", namespace=NS, self_link="/x", uid="u",
                   resource_version="7", generation=3, creation_timestamp=5,
                   deletion_timestamp=9, deletion_grace_period_seconds=30,
                   labels={"k": "v"}, annotations={"n": "1"}, finalizers=("f",),
                   owner_references=(OwnerReference(api_version="v1", kind="Service",
                                                    name="foo", uid="s"),))
    labels, ann = FrozenDict({"l": "2"}), FrozenDict({"a": "3"})
    assert _meta_with(m, "b", labels, ann) == attrs.evolve(m, name="b", labels=labels,
                                                           annotations=ann)
    base = EndpointSlice(metadata=m, address_type="IPv4", ports=PORTS_FOO,
                         endpoints=(sl.pod_to_endpoint(new_pod(1), new_service(), None, "IPv4"),))
    eps = base.endpoints * 2
    got = _slice_with(base, _meta_with(m, "b", labels, ann), eps)
    assert got == attrs.evolve(base, endpoints=eps, metadata=attrs.evolve(
        m, name="b", labels=labels, annotations=ann))
    assert got.endpoints is eps


@pytest.mark.parametrize("trigger", [None, 1_700_000_000.25, 1_700_000_001])
@pytest.mark.parametrize("ann", [{}, {"x": "y"}, {sl.ANNOTATION_LAST_CHANGE_TRIGGER_TIME: "old", "x": "y"},
                                 {sl.ANNOTATION_LAST_CHANGE_TRIGGER_TIME: "2023-11-14T22:13:20.25Z"}])
def test_trigger_annotator_equals_with_trigger_time(trigger: float | None, ann: dict[str, str]) -> None:
    s = EndpointSlice(metadata=ObjectMeta(name="a", annotations=ann))
    want = sl.with_trigger_time(s, trigger).metadata.annotations
    got = _trigger_annotator(trigger)(s.metadata.annotations)
    assert got == want and list(got.items()) == list(want.items())


def _walk(idents: Sequence[Any], eps: Sequence[Any], desired: dict[Any, Any], dirty: set[Any],
          claimed: set[Any], check_all: bool) -> tuple[list[Any], list[Any], bool]:
    # The reference's entry-by-entry step 1 (sl._pack_group), restricted like the planner.
    kept, kept_ids, changed = [], [], False
    for ident, ep in zip(idents, eps, strict=True):
        got = desired.get(ident)
        if got is None or ident in claimed:
            continue
        kept.append(got)
        kept_ids.append(ident)
        claimed.add(ident)
        if (check_all or ident in dirty) and not sl.endpoints_equal_beyond_hash(got, ep):
            changed = True
    return kept, kept_ids, changed


@given(st.lists(st.integers(0, 9), max_size=12), st.sets(st.integers(0, 9)),
       st.sets(st.integers(0, 9)), st.sets(st.integers(0, 9)), st.sets(st.integers(0, 9)),
       st.booleans())
def test_prune_equals_the_entry_walk(slice_ids: list[int], wanted: set[int], unready: set[int],
                                     dirty_ids: set[int], claimed_ids: set[int],
                                     check_all: bool) -> None:
    """ServiceSlicer._prune (the general step 1, with its short-cut equality) against the
    walk, on slices with repeated, undesired, changed and already claimed identities."""
    svc = new_service()
    ep = {i: sl.pod_to_endpoint(new_pod(i), svc, None, "IPv4") for i in range(10)}
    flipped = {i: sl.pod_to_endpoint(new_pod(i, ready=False), svc, None, "IPv4") for i in range(10)}
    idents = tuple(sl.endpoint_identity(ep[i]) for i in slice_ids)  # type: ignore[arg-type]
    eps = tuple(ep[i] for i in slice_ids)
    desired = {sl.endpoint_identity(ep[i]): (flipped if i in unready else ep)[i]  # type: ignore[arg-type]
               for i in wanted}
    dirty = {sl.endpoint_identity(ep[i]) for i in dirty_ids}  # type: ignore[arg-type]
    claimed = {sl.endpoint_identity(ep[i]) for i in claimed_ids}  # type: ignore[arg-type]
    claimed_ref = set(claimed)
    kept, kept_ids, changed = ServiceSlicer._prune(
        idents, eps, desired, dirty, claimed, check_all)  # type: ignore[arg-type]
    assert (kept, kept_ids, changed) == _walk(idents, eps, desired, dirty, claimed_ref, check_all)
    assert claimed == claimed_ref  # the kept identities are claimed, as by the walk


def test_contributions_reused_by_part_equal_fresh_ones() -> None:
    svc = new_service()
    slicer = ServiceSlicer(svc, nodes={"node-1": new_node("node-1", "z1")})
    pod = new_pod(1, ready=False)
    slicer.pod_changed(None, pod)
    steps: list[Any] = [
        lambda p: attrs.evolve(p, status=attrs.evolve(p.status, conditions=(PodCondition("Ready", "True"),))),
        lambda p: attrs.evolve(p, metadata=attrs.evolve(p.metadata, resource_version="9")),
        lambda p: attrs.evolve(p, metadata=attrs.evolve(p.metadata, deletion_timestamp=3)),
        lambda p: attrs.evolve(p, metadata=attrs.evolve(p.metadata, uid="other")),
        lambda p: attrs.evolve(p, spec=attrs.evolve(p.spec, node_name="node-2")),
    ]
    for k, step in enumerate(steps):
        nxt = step(pod)
        old = slicer._contrib.get("pod001")
        slicer.pod_changed(pod, nxt)
        assert slicer._contrib.get("pod001") == slicer._contribution(nxt)
        if k == 1:
            assert old is not None and slicer._contrib["pod001"] is old  # nothing it reads changed
        slicer._check()
        pod = nxt


class _ForgetAndAdd(ServiceSlicer):
    """The planner with every reported write applied to the model as _forget_slice then
    _add_slice (what ServiceSlicer._replace_slice stands for)."""

    def _replace_slice(self, name: str, s: EndpointSlice) -> bool:
        return False


def _model(slicer: ServiceSlicer) -> tuple[Any, ...]:
    return (slicer._objs, slicer._slice_group, slicer._entries, slicer._index,
            {g: list(v) for g, v in slicer._groups.items()}, slicer._count_by_type,
            {k: list(v) for k, v in slicer._nonowned.items()})


@given(st.lists(st.tuples(st.integers(0, 20), st.sampled_from(["ready", "unready", "delete"])),
                max_size=50),
       st.integers(1, 5), st.integers(0, 4))
def test_replacing_a_slice_in_the_model_equals_forget_and_add(
        ops: list[tuple[int, str]], max_: int, foreign_at: int) -> None:
    p = Pair(new_service(), {}, NODES, max_endpoints_per_slice=max_)
    twin = _ForgetAndAdd(p.svc, nodes=NODES, max_endpoints_per_slice=max_)
    for k, (i, how) in enumerate(ops):
        name = f"pod{i:03d}"
        old = p.pods.get(name)
        if how == "delete":
            if old is None:
                continue
            p.delete_pod(name)
            twin.pod_changed(old, None)
        else:
            pod = new_pod(i, ready=how == "ready")
            p.set_pod(pod)
            twin.pod_changed(old, pod)
        if k == foreign_at and p.store.slices:  # a foreign truncation: both rebuild
            first = min(p.store.slices)
            s = p.store.slices[first]
            p.store.slices[first] = attrs.evolve(s, endpoints=s.endpoints[1:])
            p.slicer.resync()
            twin.resync()
        slices = dict(p.store.slices)
        plan = p.sync()
        assert twin.sync(slices, trigger_time=p.time if int(p.time) % 3 else None) == plan
        for verb, s in plan.operations:
            written = p.store.slices.get(s.metadata.name) if verb != "delete" else s
            if verb == "create":
                written = next(x for x in p.store.slices.values()
                               if x.endpoints is s.endpoints and x.metadata.uid not in
                               {y.metadata.uid for y in twin._objs.values()})
            twin.slice_written(verb, written if written is not None else s)
        assert _model(twin) == _model(p.slicer)


# --------------------------------------------------------------------------------------------
# the stateful property: random deltas, fast plan == reference plan after every sync

POD_IDS = range(14)


class SlicerMachine(RuleBasedStateMachine):
    """Pods, nodes and the Service change at random; every sync compares the two planners."""

    pair: Pair

    @initialize(max_=st.integers(1, 5),
                families=st.sampled_from([("IPv4",), ("IPv6",), ("IPv4", "IPv6")]),
                named=st.booleans(), pnra=st.booleans(), topology=st.booleans())
    def setup(self, max_: int, families: tuple[str, ...], named: bool, pnra: bool,
              topology: bool) -> None:
        self.named = named
        nodes = {f"n{k}": new_node(f"n{k}", f"z{k % 2}") for k in range(3)}
        svc = new_service(ip_families=families, publish_not_ready_addresses=pnra,
                          ports=(ServicePort(name="p", port=80,
                                             target_port="web" if named else 8080),))
        self.pair = Pair(svc, {}, nodes, max_endpoints_per_slice=max_, topology=topology)

    def _pod(self, i: int, *, ready: bool, node: int, fams: str, port: int | None,
             version: int = 0, terminating: bool = False, labels: dict[str, str] | None = None,
             phase: str = "Running", hostname: bool = False) -> Pod:
        ips = (([f"10.{version}.0.{i}"] if "4" in fams else [])
               + ([f"fd00::{version:x}:{i:x}"] if "6" in fams else []))
        cports = () if port is None else (ContainerPort(port, name="web"),)
        return new_pod(i, ready=ready, terminating=terminating, node=f"n{node}", ips=ips,
                       labels=labels, container_ports=cports, phase=phase,
                       hostname="h" if hostname else "", subdomain="foo" if hostname else "")

    @rule(i=st.sampled_from(POD_IDS), ready=st.booleans(), node=st.integers(0, 3),
          fams=st.sampled_from(["4", "6", "46", "46", ""]),
          port=st.sampled_from([None, 9000, 9001]), hostname=st.booleans(),
          sync=st.booleans())
    def create_or_replace_pod(self, i: int, ready: bool, node: int, fams: str,
                              port: int | None, hostname: bool, sync: bool) -> None:
        self.pair.set_pod(self._pod(i, ready=ready, node=node, fams=fams, port=port,
                                    hostname=hostname))
        self._maybe_sync(sync)

    def _existing(self, data: st.DataObject) -> Pod | None:
        names = sorted(self.pair.pods)
        if not names:
            return None
        return self.pair.pods[data.draw(st.sampled_from(names))]

    @rule(data=st.data(), sync=st.booleans())
    def delete_pod(self, data: st.DataObject, sync: bool) -> None:
        pod = self._existing(data)
        if pod is not None:
            self.pair.delete_pod(pod.metadata.name)
        self._maybe_sync(sync)

    @rule(data=st.data(), sync=st.booleans())
    def flip_ready(self, data: st.DataObject, sync: bool) -> None:
        pod = self._existing(data)
        if pod is not None:
            ready = pod.status.ready
            self.pair.set_pod(attrs.evolve(pod, status=attrs.evolve(pod.status, conditions=(
                PodCondition("Ready", "False" if ready else "True"),))))
        self._maybe_sync(sync)

    @rule(data=st.data(), inside=st.booleans(), sync=st.booleans())
    def relabel(self, data: st.DataObject, inside: bool, sync: bool) -> None:
        pod = self._existing(data)
        if pod is not None:
            labels = {"foo": "bar"} if inside else {"foo": "other"}
            self.pair.set_pod(attrs.evolve(pod, metadata=attrs.evolve(pod.metadata,
                                                                      labels=labels)))
        self._maybe_sync(sync)

    @rule(data=st.data(), version=st.integers(1, 3), sync=st.booleans())
    def change_ip(self, data: st.DataObject, version: int, sync: bool) -> None:
        pod = self._existing(data)
        if pod is not None:
            i = int(pod.metadata.name[3:])
            ips = [f"10.{version}.0.{i}", f"fd00::{version:x}:{i:x}"][:len(pod.status.pod_ips)]
            self.pair.set_pod(attrs.evolve(pod, status=attrs.evolve(
                pod.status, pod_ip=ips[0] if ips else "", pod_ips=tuple(PodIP(x) for x in ips))))
        self._maybe_sync(sync)

    @rule(data=st.data(), how=st.sampled_from(["terminate", "fail"]), sync=st.booleans())
    def terminate(self, data: st.DataObject, how: str, sync: bool) -> None:
        pod = self._existing(data)
        if pod is not None:
            if how == "terminate":
                pod = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata,
                                                              deletion_timestamp=5))
            else:
                pod = attrs.evolve(pod, status=attrs.evolve(pod.status, phase="Failed"))
            self.pair.set_pod(pod)
        self._maybe_sync(sync)

    @rule(data=st.data(), node=st.integers(0, 3), sync=st.booleans())
    def move_pod(self, data: st.DataObject, node: int, sync: bool) -> None:
        pod = self._existing(data)
        if pod is not None:
            self.pair.set_pod(attrs.evolve(pod, spec=attrs.evolve(pod.spec,
                                                                  node_name=f"n{node}")))
        self._maybe_sync(sync)

    @rule(node=st.integers(0, 3), zone=st.sampled_from([None, "z0", "z1", "z2"]),
          present=st.booleans(), sync=st.booleans())
    def change_node(self, node: int, zone: str | None, present: bool, sync: bool) -> None:
        name = f"n{node}"
        if present:
            self.pair.nodes[name] = new_node(name, zone)
        else:
            self.pair.nodes.pop(name, None)
        self.pair.slicer.node_changed(name)
        self._maybe_sync(sync)

    @rule(change=st.sampled_from(["port", "named", "labels", "pnra", "families",
                                  "selector", "td", "reserved"]),
          sync=st.booleans())
    def change_service(self, change: str, sync: bool) -> None:
        svc = self.pair.svc
        spec, meta = svc.spec, svc.metadata
        if change == "port":
            tp = spec.ports[0].target_port
            new_tp: int | str = 8081 if tp == 8080 else 8080
            spec = attrs.evolve(spec, ports=(ServicePort(name="p", port=80, target_port=new_tp),))
        elif change == "named":
            tp = spec.ports[0].target_port
            new_tp = 8080 if isinstance(tp, str) else "web"
            spec = attrs.evolve(spec, ports=(ServicePort(name="p", port=80, target_port=new_tp),))
        elif change == "labels":
            meta = attrs.evolve(meta, labels={} if meta.labels else {"team": "a"})
        elif change == "reserved":
            meta = attrs.evolve(meta, labels=meta.labels.set(sl.LABEL_SERVICE_NAME, "x"))
        elif change == "pnra":
            spec = attrs.evolve(spec, publish_not_ready_addresses=not
                                spec.publish_not_ready_addresses)
        elif change == "families":
            fams = {("IPv4",): ("IPv6",), ("IPv6",): ("IPv4", "IPv6")}.get(spec.ip_families,
                                                                          ("IPv4",))
            spec = attrs.evolve(spec, ip_families=fams)
        elif change == "selector":
            sel = {"foo": "other"} if spec.selector == {"foo": "bar"} else {"foo": "bar"}
            spec = attrs.evolve(spec, selector=sel)
        else:
            spec = attrs.evolve(spec, traffic_distribution=None if spec.traffic_distribution
                                else "PreferClose")
        self.pair.set_service(attrs.evolve(svc, metadata=meta, spec=spec))
        self._maybe_sync(sync)

    @precondition(lambda self: bool(self.pair.store.slices))
    @rule(data=st.data(), how=st.sampled_from(["delete", "truncate", "relabel", "duplicate"]))
    def foreign_change(self, data: st.DataObject, how: str) -> None:
        store = self.pair.store
        name = data.draw(st.sampled_from(sorted(store.slices)))
        s = store.slices[name]
        if how == "delete":
            del store.slices[name]
        elif how == "truncate":
            store.slices[name] = attrs.evolve(s, endpoints=s.endpoints[1:])
        elif how == "relabel":
            store.slices[name] = attrs.evolve(s, metadata=attrs.evolve(
                s.metadata, labels=s.metadata.labels.set("extra", "1")))
        else:
            others = [x for x in store.list() if x.endpoints and x.address_type == s.address_type]
            if others:
                copy = attrs.evolve(s, endpoints=s.endpoints + others[0].endpoints[:1])
                store.slices[name] = copy
        self.pair.slicer.resync()
        self.pair.sync()

    @rule(limit=st.integers(0, 3))
    def partial_sync(self, limit: int) -> None:
        self.pair.sync(limit=limit)

    @rule()
    def sync(self) -> None:
        self.pair.sync()

    def _maybe_sync(self, sync: bool) -> None:
        if sync:
            self.pair.sync()

    @invariant()
    def check(self) -> None:
        if hasattr(self, "pair"):
            self.pair.slicer._check()


SlicerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40,
                                           deadline=None, derandomize=True)
TestSlicerMachine = SlicerMachine.TestCase


@given(st.lists(st.tuples(st.integers(0, 30), st.booleans(), st.booleans()), max_size=60),
       st.integers(1, 5))
def test_property_random_sequences_single_stack(
        ops: list[tuple[int, bool, bool]], max_: int) -> None:
    """Longer random sequences of creates, deletes and readiness flips with a sync after
    each: exercises the fill-level index with more slices than the state machine."""
    p = Pair(new_service(), {}, NODES, max_endpoints_per_slice=max_)
    p.sync()
    for i, ready, delete in ops:
        name = f"pod{i:03d}"
        if delete and name in p.pods:
            p.delete_pod(name)
        else:
            p.set_pod(new_pod(i, ready=ready))
        p.sync()
