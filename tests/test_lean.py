"""The lean engine against its oracle, the full model: identical change logs record for record
(and identical stored objects) over drawn sizes, options, seeds and workloads, fixed regression
cases, faults and node failure; check mode names the first differing record and field."""

from __future__ import annotations

import importlib
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kubesim
from kubesim import lean, report, scenarios, wire
from kubesim.faults import FaultPlan
from kubesim.lean.check import Divergence, check_workload, compare_logs

_OPTIONS = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "nodes": st.integers(1, 12),
    "zones": st.integers(1, 4),
    "max_endpoints_per_slice": st.sampled_from([2, 3, 5, 100]),
    "endpoint_updates_batch_period": st.sampled_from([0.0, 1.0]),
    "endpointslice_updates_batch_period": st.sampled_from([0.0, 1.0]),
    "endpoints_truncate": st.booleans(),
})
_DEPLOY = st.fixed_dictionaries({
    "max_surge": st.sampled_from(["25%", 0, 1, "50%"]),
    "max_unavailable": st.sampled_from(["25%", 1, "100%"]),
    "readiness_probe": st.booleans(),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pods=st.integers(0, 40), options=_OPTIONS, deploy=_DEPLOY, rescale=st.none() | st.integers(0, 40))
def test_lean_log_equals_full_log(pods: int, options: dict[str, Any], deploy: dict[str, Any],
                                  rescale: int | None) -> None:
    # the lean run in check mode (each step against the full model's, the fast planners against
    # the reference ones, as it writes); the full run the plain model
    lean_c, full_c = check_workload(lean.rollout_workload(pods, deploy=deploy, rescale=rescale), check=True,
                                    **options)
    assert isinstance(lean_c.api, lean.CheckedAPIServer) and not isinstance(full_c.api, lean.LeanAPIServer)
    assert len(lean_c.changes) == len(full_c.changes) > 0


@pytest.mark.parametrize(("pods", "nodes", "options"), [
    (3, 2, {}),
    (120, 30, {"max_endpoints_per_slice": 7}),
    (60, 4, {"endpoint_updates_batch_period": 1.0, "endpointslice_updates_batch_period": 1.0}),
])
def test_fixed_rollouts(pods: int, nodes: int, options: dict[str, Any]) -> None:
    check_workload(lean.rollout_workload(pods), seed=7, nodes=nodes, **options)


def test_faults_and_node_failure_write_the_same_log() -> None:
    def workload(c: Any) -> None:
        scenarios.deploy(c, "web", replicas=20, readiness_probe=True)
        c.run()
        scenarios.fail_readiness(c, c.list("Pod")[0].metadata.name, 30.0)
        scenarios.fail_node(c, "node-2")
        c.run(until=c.now + 400.0)
        scenarios.set_image(c, "web", "nginx:1.26")
        c.run()

    plan = FaultPlan(conflict_rate=0.05, error_rate=0.05, watch_delay=1.0)
    check_workload(workload, seed=5, nodes=4, faults=plan)


def test_churn_report_over_the_lean_log_is_identical() -> None:
    lean_c, full_c = check_workload(lean.rollout_workload(30), seed=3, nodes=5)
    groups = report.default_groups(5)
    assert report.churn(lean_c.changes, groups=groups) == report.churn(full_c.changes, groups=groups)
    assert lean_c.churn() == full_c.churn()


def test_run_rollout_and_rolling_update_churn() -> None:
    c = lean.run_rollout(5, nodes=2, seed=0, deploy={"max_surge": 1})
    full = kubesim.Cluster(seed=0, nodes=2)
    scenarios.deploy(full, "web", replicas=5, max_surge=1)
    full.run()
    scenarios.set_image(full, "web", "nginx:1.26")
    full.run()
    assert compare_logs(c.changes, full.changes) == len(full.changes)
    # the churn runners build a LeanCluster; their report equals the full model's
    cluster, got = scenarios.rolling_update_churn(pods=12, nodes=4, max_endpoints_per_slice=5, batch_period=1.0,
                                                  seed=4)
    assert isinstance(cluster, lean.LeanCluster)
    full = kubesim.Cluster(seed=4, nodes=4, max_endpoints_per_slice=5, endpoint_updates_batch_period=1.0,
                           endpointslice_updates_batch_period=1.0)
    scenarios.deploy(full, "web", replicas=12)
    full.run()
    start = scenarios.quiet_start(full)
    scenarios.set_image(full, "web", "nginx:1.26")
    full.run()
    compare_logs(cluster.changes, full.changes)
    assert got == full.churn(since=start)
    sweep = importlib.import_module("kubesim.sweep")
    assert sweep.rolling_update(pods=12, nodes=4, max_endpoints_per_slice=5, batch_period=1.0, seed=4) == got


def test_divergence_names_record_and_field() -> None:
    a = lean.run_rollout(4, nodes=2, seed=0).changes
    b = lean.run_rollout(4, nodes=2, seed=1).changes
    with pytest.raises(Divergence) as info:
        compare_logs(a, b)
    assert info.value.seq >= 0 and info.value.field in {"name", "json_bytes", "proto_bytes", "time"}
    with pytest.raises(Divergence) as info2:
        compare_logs(a, list(a)[:-1])
    assert info2.value.field == "length"
    assert compare_logs(a, list(a)) == len(a)


def test_check_mode_catches_a_wrong_slice_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # a vouch that forgets the entries added: the lean slice sizes go wrong, check mode says so
    from kubesim.lean import engine

    real = engine._vouch_slice_endpoints

    def forgetful(old: tuple[Any, ...], new: tuple[Any, ...]) -> None:
        real(old, new[: len(old)] if len(new) > len(old) else new)
        memo = engine._wire_endpoints._slice_endpoints_pair
        if len(new) > len(old) and old:
            memo.cache[id(new)] = (new, memo(new[: len(old)]))

    monkeypatch.setattr(engine, "_vouch_slice_endpoints", forgetful)
    # The wrong sums also reach the EndpointSlice planner's vouch (it corrects the stored
    # tuple's sums), which the suite's CHECK_HINTS would refuse first: check mode alone here.
    monkeypatch.setattr(wire, "CHECK_HINTS", False)
    with pytest.raises(Divergence) as info:
        check_workload(lean.rollout_workload(6), seed=0, nodes=2)
    assert info.value.field in {"json_bytes", "proto_bytes"} and info.value.lean != info.value.full


def test_the_full_model_is_untouched_after_a_lean_cluster() -> None:
    from kubesim import apiserver, cluster

    lean.LeanCluster(nodes=1)
    assert cluster.APIServer is apiserver.APIServer
    assert type(kubesim.Cluster(nodes=1, engine="full").api) is apiserver.APIServer
    with pytest.raises(kubesim.InvalidOption):
        lean.LeanCluster(nodes=-1)
    assert cluster.APIServer is apiserver.APIServer


_DUAL_STACK_YAML = """\
apiVersion: v1
kind: Service
metadata:
  name: web2
spec:
  ipFamilyPolicy: PreferDualStack
  trafficDistribution: PreferClose
  selector:
    app: web
  ports:
    - name: http
      port: 8080
      targetPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: external-database-service
spec:
  ports:
    - protocol: TCP
      port: 5432
      targetPort: 5432
---
apiVersion: v1
kind: Endpoints
metadata:
  name: external-database-service
subsets:
  - addresses:
      - ip: 192.168.49.1
    ports:
      - port: 5432
"""


def _mixed(c: Any) -> None:
    # dual-stack Services with topology hints, a mirrored selector-less Service, a rollout, a
    # re-scale, a deleted pod, a failed node, a user's change to the mirrored Endpoints
    scenarios.deploy(c, "web", replicas=14)
    c.apply_yaml(_DUAL_STACK_YAML)
    c.run()
    scenarios.set_image(c, "web", "nginx:1.26")
    c.run(until=c.now + 3.0)
    scenarios.scale(c, "web", 9)
    c.run()
    scenarios.delete_pod(c, c.list("Pod")[0].metadata.name)
    scenarios.fail_node(c, "node-1")
    c.run(until=c.now + 400.0)
    c.apply_yaml(_DUAL_STACK_YAML.replace("192.168.49.1", "192.168.49.2"))
    c.run()


@pytest.mark.parametrize("options", [
    {"dual_stack": True, "zones": 3},
    {"dual_stack": True, "zones": 2, "max_endpoints_per_slice": 3, "faults": FaultPlan(watch_delay=0.5)},
    {"zones": 3, "endpoints_truncate": False, "faults": FaultPlan(conflict_rate=0.1, error_rate=0.05)},
    {"dual_stack": True, "zones": 2, "events": True},
])
def test_mirroring_dual_stack_topology_and_node_failure(options: dict[str, Any]) -> None:
    lean_c, full_c = check_workload(_mixed, seed=11, nodes=5, **options)
    kinds = {(e.kind, e.actor) for e in full_c.changes}
    # the workload reaches every trusted writer and the paths the lean engine leaves alone
    assert {("EndpointSlice", "endpointslicemirroring-controller"), ("Endpoints", "kubectl"),
            ("Pod", "kubelet"), ("Pod", "scheduler"), ("Pod", "replicaset-controller"),
            ("EndpointSlice", "endpointslice-controller"), ("Endpoints", "endpoint-controller")} <= kinds


def test_trust_is_scoped_to_the_controllers_own_kinds() -> None:
    # A user's invalid write is refused by the lean engine as by the full model; the same
    # object written by the kubelet is trusted (not validated); a trusted actor writing a kind
    # it does not own (the kubelet's Node) is validated.
    from kubesim.errors import InvalidObject

    for cls in (kubesim.Cluster, lean.LeanCluster):
        c = cls(seed=0, nodes=1, engine="full") if cls is kubesim.Cluster else cls(seed=0, nodes=1)
        scenarios.deploy(c, "web", replicas=1)
        c.run()
        pod = c.list("Pod")[0]
        bad = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, labels={"bad key!": "x"}))
        with pytest.raises(InvalidObject):
            c.api.update(bad, actor="kubectl")
        node = c.list("Node")[0]
        with pytest.raises(InvalidObject):
            c.api.update(attrs.evolve(node, metadata=attrs.evolve(node.metadata, labels={"bad key!": "x"})),
                         actor="kubelet")
        if cls is lean.LeanCluster:
            assert c.api.update(bad, actor="kubelet").metadata.labels == {"bad key!": "x"}
        else:
            with pytest.raises(InvalidObject):
                c.api.update(bad, actor="kubelet")


def test_sizes_by_parts_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    # The lean engine's Pod/ReplicaSet/Deployment sizes (the metadata's resourceVersion by
    # arithmetic, carried-over parts from the record) go wrong by one byte: the oracle names
    # the record and the field, and so does the per-write check (CHECK_SIZES) when it is on.
    from kubesim.lean import engine

    monkeypatch.setattr(engine, "_K_RV", engine._K_RV - 1)
    monkeypatch.setattr(engine, "CHECK_SIZES", False)
    with pytest.raises(Divergence) as info:
        check_workload(lean.rollout_workload(5), seed=0, nodes=2)
    assert info.value.field == "json_bytes" and info.value.lean == info.value.full - 1
    monkeypatch.setattr(engine, "CHECK_SIZES", True)
    with pytest.raises(AssertionError, match="lean sizes"):
        lean.run_rollout(5, nodes=2, seed=0)


def test_sizes_by_parts_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Most Pod, ReplicaSet and Deployment writes reuse the stored object's record (the
    # metadata carried over); the rest are sized from their parts. Both agree with the wire.
    from kubesim.lean import engine

    calls = {"record": 0, "parts": 0}
    by_record, by_parts = engine._sizes_from, engine._sizes_by_parts

    def counted_record(*args: Any) -> Any:
        calls["record"] += 1
        return by_record(*args)

    def counted_parts(*args: Any) -> Any:
        calls["parts"] += 1
        return by_parts(*args)

    monkeypatch.setattr(engine, "_sizes_from", counted_record)
    monkeypatch.setattr(engine, "_sizes_by_parts", counted_parts)
    monkeypatch.setattr(engine, "CHECK_SIZES", True)
    c = lean.run_rollout(20, nodes=4, seed=2)
    writes = sum(1 for e in c.changes if e.kind in ("Pod", "ReplicaSet", "Deployment"))
    assert calls["record"] > writes // 2 and calls["parts"] > 0
    # deleted pods leave no record behind (only the creates' trials, one name per ReplicaSet)
    gone = [k for k in c.api._ext.parts if k[0] is kubesim.objects.Pod and c.api.try_get("Pod", k[2], k[1]) is None]
    deleted = sum(1 for e in c.changes if e.kind == "Pod" and e.verb == "delete")
    assert deleted >= 20 and len(gone) <= c.api.count("ReplicaSet")


def test_vouched_slice_sums_equal_the_wires_pass() -> None:
    # The slice endpoint sums the lean engine hands the wire, for in-place changes, shifted,
    # added, removed, reordered and repeated entries, equal the wire's own pass over the tuple.
    from kubesim.lean import engine
    from kubesim.wire import endpoints as wire_endpoints

    c = lean.run_rollout(30, nodes=4, seed=1, max_endpoints_per_slice=100)
    old = max((s.endpoints for s in c.list("EndpointSlice")), key=len)
    assert len(old) == 30
    x, y = (attrs.evolve(old[-1], hostname=h) for h in ("x", "y"))
    cases = {
        "changed": old[:-1] + (x,), "removed": old[:10] + old[11:], "added": old + (x,),
        "shifted": (x,) + old, "reversed": old[::-1], "repeated": old[:-1] + (x, x) + old[:20],
        "shorter": old[:5], "changed two": (y,) + old[1:-1] + (x,),
    }
    memo = wire_endpoints._slice_endpoints_pair
    vouched = 0
    for name, new in cases.items():
        memo.cache.pop(id(new), None)
        engine._vouch_slice_endpoints(old, new)
        hit = memo.cache.pop(id(new), None)
        want = wire_endpoints._endpoints_pair(new)
        if hit is not None:
            vouched += 1
            assert hit[0] is new and hit[1] == want, name
    assert vouched == len(cases) - 1  # all but the repeated entry, which is left to the wire


def test_garbage_collector_index_equals_a_recount_of_the_store() -> None:
    # The collector skips an event whose ownerReferences tuple is the one it last indexed (a
    # status write, a bind): after a rollout, scale-downs and a cascading delete its index
    # equals one rebuilt from the stored objects.
    c = lean.LeanCluster(seed=3, nodes=4)
    lean.rollout_workload(12, rescale=5)(c)
    gc = c.controllers["garbagecollector"]
    c.api.delete("ReplicaSet", sorted(rs.metadata.name for rs in c.list("ReplicaSet"))[-1], "default")
    c.run()
    owners: dict[tuple[str, str, str], tuple[str, ...]] = {}
    for (kind, ns, name), obj in c.api.snapshot().items():
        uids = tuple(o.uid for o in obj.metadata.owner_references)
        if uids:
            owners[(kind, ns, name)] = uids
    assert gc._owners_of == owners
    assert set(gc._indexed) == set(owners)  # objects without owners keep no index entries
    assert gc._live_uids == {obj.metadata.uid for obj in c.api.snapshot().values()}
    dependents: dict[str, set[tuple[str, str, str]]] = {}
    for ref, uids in owners.items():
        for u in uids:
            dependents.setdefault(u, set()).add(ref)
    assert {u: set(deps) for u, deps in gc._dependents.items()} == dependents


def test_the_lean_engine_is_the_default_and_the_full_model_is_one_option_away() -> None:
    from kubesim.apiserver import APIServer
    from kubesim.lean.checked import CheckedAPIServer

    assert type(kubesim.Cluster().api) is lean.LeanAPIServer
    assert kubesim.Cluster().engine == "lean"
    assert type(kubesim.Cluster(engine="full").api) is APIServer
    assert type(kubesim.Cluster(check=True).api) is CheckedAPIServer
    assert type(lean.LeanCluster().api) is lean.LeanAPIServer
    for bad, match in (({"engine": "fast"}, 'engine must be "lean" or "full"'),
                       ({"engine": None}, 'engine must be "lean" or "full"'),
                       ({"engine": "full", "check": True}, 'needs engine="lean"')):
        with pytest.raises(kubesim.InvalidOption, match=match):
            kubesim.Cluster(**bad)
    with pytest.raises(kubesim.InvalidOption, match="a LeanCluster runs the lean engine"):
        lean.LeanCluster(engine="full")
    # the default and the full model write the same log (check_workload: LeanCluster vs engine="full")
    lean_c, full_c = check_workload(lean.rollout_workload(6), seed=4, nodes=3)
    assert lean_c.engine == "lean" and full_c.engine == "full" and len(full_c.changes) > 50


_POD_LEVEL_DEFAULTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: %(name)s}
spec:
  replicas: 3
  selector: {matchLabels: {app: %(name)s}}
  template:
    metadata: {labels: {app: %(name)s}}
    spec:
      hostNetwork: %(host)s
      containers:
      - name: app
        image: nginx
        ports: [{containerPort: 8080}]
        resources: {limits: {cpu: 500m, memory: 64Mi}, requests: {cpu: 100m}}
"""


@pytest.mark.filterwarnings("ignore:.*resources.requests is stored but not used")
@pytest.mark.parametrize("host", ["false", "true"])
def test_pods_created_from_a_template_get_the_pod_level_defaults(host: str) -> None:
    # SetDefaults_Pod fills in what a template's defaulting does not (requests from limits;
    # a hostNetwork pod's host ports): the ReplicaSet controller's trusted create of a Pod must
    # store what the full model's defaulted create stores, sizes included.
    def workload(c: Any) -> None:
        c.apply_yaml(_POD_LEVEL_DEFAULTS % {"name": "lim", "host": host})
        c.run()

    lean_c, _ = check_workload(workload, seed=2, nodes=3)
    for pod in lean_c.list("Pod"):
        (container,) = pod.spec.containers
        assert dict(container.resources.requests) == {"cpu": "100m", "memory": "64Mi"}
        assert [p.host_port for p in container.ports] == ([8080] if host == "true" else [None])
        assert pod.status.qos_class == "Burstable"


def test_slice_sums_survive_a_clear_of_the_wires_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    # The wire's memo of slice endpoint sums is cleared wholesale at its bound; the lean engine's
    # per-name records put a stored slice's sums back, so a slice update never sums its stored
    # endpoints entry by entry after a clear: with the memo cleared at every new tuple (limit 1)
    # the rollout sums exactly the tuples it sums with the memo never cleared, and check mode
    # (which compares every vouched sum with the wire's own pass) finds nothing.
    from kubesim.lean import engine

    memo = engine._wire_endpoints._slice_endpoints_pair
    real = memo.fn

    def summed(limit: int) -> list[int]:
        lengths: list[int] = []

        def counting(eps: tuple[Any, ...]) -> int:
            lengths.append(len(eps))
            return real(eps)

        monkeypatch.setattr(memo, "fn", counting)
        monkeypatch.setattr(memo, "limit", limit)
        memo.cache.clear()
        c = lean.LeanCluster(seed=3, nodes=4, max_endpoints_per_slice=3, check=True)
        lean.rollout_workload(30, rescale=12)(c)
        assert c.churn().kind("EndpointSlice").writes > 40
        return lengths

    assert summed(1) == summed(1 << 20)


def test_annotation_changes_are_sized_from_the_record(monkeypatch: pytest.MonkeyPatch) -> None:
    # A metadata that changes in its annotations (and counters) only is sized from the record
    # of the name's last write by the annotation maps' sizes: values changed (to non-ASCII and
    # to characters JSON escapes), keys added, every annotation removed and added back, on
    # Endpoints, EndpointSlices and Pods; each size as the wire measures it (CHECK_SIZES).
    from kubesim.lean import engine

    monkeypatch.setattr(engine, "CHECK_SIZES", True)
    deltas = {"annotations": 0}
    real = engine._annotations_delta

    def counted(old: Any, new: Any) -> Any:
        deltas["annotations"] += 1
        return real(old, new)

    monkeypatch.setattr(engine, "_annotations_delta", counted)
    c = lean.run_rollout(6, nodes=2, seed=3)
    maps: list[dict[str, str]] = [
        {"a": "1"}, {"a": "é\u2028<>&\"\\"}, {"a": "1", "b": "x" * 200}, {}, {"z": "back"},
    ]
    for kind in ("Endpoints", "EndpointSlice", "Pod"):
        obj = c.list(kind)[0]
        for m in maps:
            obj = c.api.update(attrs.evolve(obj, metadata=attrs.evolve(obj.metadata, annotations=m)), actor="kubectl")
            assert obj.metadata.annotations == m
            e = c.changes[-1]
            assert (e.name, e.json_bytes, e.proto_bytes) == (obj.metadata.name, *kubesim.wire.sizes3(obj)[:2])
    assert deltas["annotations"] >= 3 * len(maps)


def test_the_lean_drain_delivers_what_the_generic_loop_delivers(monkeypatch: pytest.MonkeyPatch) -> None:
    # LeanAPIServer._drain writes APIServer._deliver into its loop; check mode drains through
    # the generic loop, so this compares the two directly: every watcher call (in order) and
    # what the server notes as delivered, over ADDED/MODIFIED/DELETED events, a namespace
    # first written mid-run and watches started and stopped during a delivery
    from kubesim.apiserver import APIServer
    from kubesim.lean.engine import LeanAPIServer

    def run(generic: bool) -> tuple[list[tuple[Any, ...]], Any]:
        if generic:
            monkeypatch.setattr(LeanAPIServer, "_drain", APIServer._drain)
        c = kubesim.Cluster(seed=5, nodes=3)
        heard: list[tuple[Any, ...]] = []
        stops: list[Any] = []

        def spy(tag: str) -> Any:
            def fn(ev: Any) -> None:
                m = ev.new.metadata
                heard.append((tag, ev.type, ev.kind, m.namespace, m.name, m.resource_version))
                if tag == "all" and ev.kind == "Pod" and ev.type == "ADDED" and len(stops) < 3:
                    stops.append(c.api.watch(spy(f"pods{len(stops)}"), kinds={"Pod"}))
                elif tag == "all" and ev.kind == "Pod" and ev.type == "DELETED" and stops:
                    stops.pop(0)()
            return fn

        c.api.watch(spy("all"))
        scenarios.deploy(c, "web", replicas=6)
        c.run()
        c.apply_yaml("apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n")
        c.apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: other}\n")
        scenarios.set_image(c, "web", "nginx:1.26")
        c.run()
        c.delete("ConfigMap", "cfg", namespace="other")
        c.run()
        assert type(c.api)._drain is (APIServer._drain if generic else LeanAPIServer._drain)
        return heard, c.api._delivered

    lean_heard, lean_delivered = run(False)
    generic_heard, generic_delivered = run(True)
    assert {h[1] for h in lean_heard} == {"ADDED", "MODIFIED", "DELETED"}
    assert {h[0] for h in lean_heard} >= {"all", "pods0", "pods1", "pods2"}
    assert lean_heard == generic_heard
    assert lean_delivered == generic_delivered


@pytest.mark.parametrize("engine", ["lean", "full"])
def test_an_update_equal_to_the_stored_object_writes_nothing(engine: str) -> None:
    # APIServer._update compares the metadata and the other fields instead of calling __eq__:
    # an equal object with its own metadata (labels equal, in another order: stored as sent
    # when they differ) is still a no-op, and one changed field is still a write.
    c = kubesim.Cluster(seed=0, nodes=1, engine=engine)
    c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "labels": {"a": "1", "b": "2"}},
             "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    c.run()
    n = len(c.changes)
    stored = c.get("Service", "s")
    same = attrs.evolve(stored, metadata=attrs.evolve(stored.metadata, labels={"b": "2", "a": "1"}))
    assert same.metadata is not stored.metadata and same == stored
    assert c.update(same) is stored and len(c.changes) == n
    changed = attrs.evolve(stored, spec=attrs.evolve(stored.spec, selector={"app": "api"}))
    written = c.update(changed)
    assert written is not stored and written.spec.selector == {"app": "api"} and len(c.changes) == n + 1
