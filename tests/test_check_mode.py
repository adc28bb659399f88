"""``Cluster(check=True)``: the lean core with the full model beside it, compared per write.

Check mode writes the change log of default mode record for record (faults with watch delays,
node failure, mirroring, dual-stack, topology hints; on random rollouts too:
``tests/test_lean.py``'s drawn workloads run ``LeanCluster(check=True)``, which is
``Cluster(check=True)``'s engine, against ``Cluster()``), and every one of its checks can fail: a
divergence injected into a lean step or a fast planner is raised as
:class:`kubesim.lean.Divergence` naming the record and the field."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import kubesim
from kubesim import lean, scenarios
from kubesim.errors import InvalidOption
from kubesim.faults import FaultPlan
from kubesim.lean import checked
from kubesim.lean.check import Divergence, compare_logs


def _same_log(workload: Any, **options: Any) -> kubesim.Cluster:
    """Run ``workload`` in check mode and in default mode; assert identical logs and objects."""
    c = kubesim.Cluster(check=True, **options)
    workload(c)
    d = kubesim.Cluster(**options)
    workload(d)
    assert type(c.api) is checked.CheckedAPIServer and type(d.api) is kubesim.lean.LeanAPIServer
    assert compare_logs(c.changes, d.changes) == len(d.changes) > 0
    assert c.api.snapshot() == d.api.snapshot()
    return c


def _lifecycle(c: Any) -> None:
    scenarios.deploy(c, "web", replicas=6, readiness_probe=True)
    c.run()
    scenarios.fail_readiness(c, sorted(p.metadata.name for p in c.list("Pod"))[0], 30.0)
    c.run(until=c.now + 10)
    scenarios.fail_node(c, "node-2")
    c.run(until=c.now + 120)
    scenarios.recover_node(c, "node-2")
    scenarios.set_image(c, "web", "nginx:1.26")
    c.run(until=c.now + 200)


_MIRRORED = """\
apiVersion: v1
kind: Service
metadata:
  name: web2
  annotations:
    service.kubernetes.io/topology-mode: Auto
spec:
  ipFamilyPolicy: PreferDualStack
  selector:
    app: web
  ports:
    - port: 8080
      targetPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  ports:
    - port: 5432
---
apiVersion: v1
kind: Endpoints
metadata:
  name: db
subsets:
  - addresses:
      - ip: 192.168.49.1
    ports:
      - port: 5432
"""


def _mixed(c: Any) -> None:
    scenarios.deploy(c, "web", replicas=7)
    c.apply_yaml(_MIRRORED)
    c.run()
    scenarios.set_image(c, "web", "nginx:1.26")
    c.run(until=c.now + 3.0)
    scenarios.fail_node(c, "node-1")
    c.run(until=c.now + 400.0)
    c.apply_yaml(_MIRRORED.replace("192.168.49.1", "192.168.49.2"))
    c.run()


@pytest.mark.parametrize(("workload", "options"), [
    (_lifecycle, {"seed": 6, "nodes": 4, "faults": FaultPlan(conflict_rate=0.05, error_rate=0.03, timeout_rate=0.02,
                                                             watch_delay=0.5)}),
    (_lifecycle, {"seed": 2, "nodes": 3, "events": False, "endpoints_truncate": False}),
    (_mixed, {"seed": 11, "nodes": 5, "dual_stack": True, "zones": 3, "max_endpoints_per_slice": 3}),
    (_mixed, {"seed": 12, "nodes": 6, "dual_stack": True, "zones": 2, "faults": FaultPlan(watch_delay=1.0),
              "prefer_same_traffic_distribution": True}),
], ids=["lifecycle-faults", "lifecycle-untruncated", "mixed-dual-stack", "mixed-watch-delay"])
def test_check_mode_under_faults_node_failure_mirroring_dual_stack_and_hints(workload: Any,
                                                                             options: dict[str, Any]) -> None:
    c = _same_log(workload, **options)
    writers = {(e.kind, e.actor) for e in c.changes}
    assert {("Pod", "kubelet"), ("EndpointSlice", "endpointslice-controller"),
            ("Endpoints", "endpoint-controller")} <= writers
    if workload is _mixed:
        assert ("EndpointSlice", "endpointslicemirroring-controller") in writers


def test_lean_cluster_check_and_the_option() -> None:
    c = lean.LeanCluster(check=True, seed=3, nodes=3)
    assert type(c.api) is checked.CheckedAPIServer and c.check
    lean.rollout_workload(6)(c)
    d = lean.run_rollout(6, seed=3, nodes=3)
    assert type(d.api) is lean.LeanAPIServer and not d.check
    compare_logs(c.changes, d.changes)
    for bad in (1, "yes", None):
        with pytest.raises(InvalidOption, match="check must be True or False"):
            kubesim.Cluster(check=bad)
    # the reference planners sit beside the fast ones; a reference-mode cluster has none to check
    assert isinstance(c.controllers["endpointslice"].plan_check, checked.SlicePlanCheck)
    assert isinstance(c.controllers["endpoint"].plan_check, checked.EndpointsPlanCheck)
    assert kubesim.Cluster(nodes=1).controllers["endpointslice"].plan_check is None


def test_every_lean_step_is_checked() -> None:
    overrides = {n for n, v in vars(lean.LeanAPIServer).items() if callable(v) and not n.startswith("__")}
    assert overrides == set(checked.CHECKED_STEPS)


# --------------------------------------------------------------------------------------------
# every check can fail


def _deployed(pods: int = 3, **options: Any) -> kubesim.Cluster:
    c = kubesim.Cluster(check=True, seed=0, nodes=2, **options)
    scenarios.deploy(c, "web", replicas=pods)
    c.run()
    return c


def _diverging_rollout(pods: int) -> Divergence:
    """The Divergence a checked rollout of ``pods`` on a 2-node cluster must raise (the tests
    patch the lean engine wrong first)."""
    c = kubesim.Cluster(check=True, seed=0, nodes=2)
    with pytest.raises(Divergence) as info:
        lean.rollout_workload(pods)(c)
    return info.value


def test_a_trusted_write_that_validation_refuses() -> None:
    c = _deployed(1)
    pod = c.list("Pod")[0]
    bad = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, labels={"bad key!": "x"}))
    seq = len(c.changes)
    with pytest.raises(Divergence) as info:
        c.api.update(bad, actor="kubelet")  # trusted by the lean engine, refused by the full model
    assert (info.value.seq, info.value.field, info.value.lean) == (seq, "validation", "accepted")
    assert "metadata.labels" in info.value.full and len(c.changes) == seq


def test_a_trusted_write_that_defaulting_changes() -> None:
    c = _deployed(1)
    pod = c.list("Pod")[0]
    bare = attrs.evolve(pod, spec=attrs.evolve(pod.spec, restart_policy=""))
    with pytest.raises(Divergence) as info:
        c.api.update(bare, actor="kubelet")
    assert info.value.seq == len(c.changes) and info.value.field == "defaulted object"
    assert info.value.lean.spec.restart_policy == "" and info.value.full.spec.restart_policy == "Always"


def test_sizes_by_parts_off_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesim.lean import engine

    monkeypatch.setattr(engine, "_K_RV", engine._K_RV - 1)
    monkeypatch.setattr(engine, "CHECK_SIZES", False)
    c = kubesim.Cluster(check=True, seed=0, nodes=2)
    scenarios.deploy(c, "web", replicas=2)
    with pytest.raises(Divergence) as info:
        c.run()
    d = kubesim.Cluster(seed=0, nodes=2, engine="full")  # not the lean engine: it is patched wrong
    scenarios.deploy(d, "web", replicas=2)
    d.run()
    e = d.changes[info.value.seq]  # the record the lean write would have made, in the full model
    assert info.value.field == "json_bytes" and info.value.lean == info.value.full - 1 == e.json_bytes - 1
    assert f"{e.kind} {e.namespace}/{e.name}" in str(info.value)


def test_vouched_slice_sums_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesim.lean import engine

    real = engine._vouch_slice_endpoints

    def off_by_one(old: tuple[Any, ...], new: tuple[Any, ...]) -> None:
        real(old, new)
        cache = engine._wire_endpoints._slice_endpoints_pair.cache
        hit = cache.get(id(new))
        if hit is not None and hit[0] is new:
            cache[id(new)] = (new, hit[1] + 1)

    monkeypatch.setattr(engine, "_vouch_slice_endpoints", off_by_one)
    info = _diverging_rollout(4)
    assert info.field == "endpoints size sums" and info.lean == info.full + 1
    assert "EndpointSlice default/web-" in str(info)


def test_an_endpoints_metadata_record_off_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesim.lean import engine

    real = engine._sizes_by_meta_record  # Endpoints and EndpointSlices: metadata sizes by record

    def json_off_by_one(*args: Any) -> Any:
        js, proto, stored = real(*args)
        return js + 1, proto, stored

    monkeypatch.setattr(engine, "_sizes_by_meta_record", json_off_by_one)
    # (the suite's KUBESIM_CHECK_HINTS would raise an AssertionError first, which the sync takes
    # for an error and retries: check mode alone is what is tested here)
    monkeypatch.setattr(engine, "CHECK_SIZES", False)
    info = _diverging_rollout(2)
    assert info.field == "json_bytes" and info.lean == info.full + 1
    assert "Endpoint" in str(info)


def test_a_wrongly_stamped_object(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesim.lean import engine

    real = engine._meta  # the lean stamp's metadata constructor: (name, ..., rv, generation, ...)

    def generation_off_by_one(*fields: Any) -> Any:
        return real(*fields[:6], fields[6] + 1, *fields[7:])

    monkeypatch.setattr(engine, "_meta", generation_off_by_one)
    info = _diverging_rollout(2)
    assert info.field == "stamped object"
    assert info.lean.metadata.generation == info.full.metadata.generation + 1


def test_a_record_sized_by_its_writer() -> None:
    # Events are sized by their writer (create_trusted): a record's sizes are checked too
    c = _deployed(1)
    event = c.list("Event")[0]
    event = attrs.evolve(event, metadata=kubesim.objects.ObjectMeta(name="x.1", namespace="default"))
    seq = len(c.changes)
    with pytest.raises(Divergence) as info:
        c.api.create_trusted(event, lambda rv, ts: (1, 2, 3), actor="kubelet")
    assert (info.value.seq, info.value.field, info.value.lean) == (seq, "json_bytes", 1)


def test_a_watcher_left_out_of_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    real = lean.LeanAPIServer._watchers_of
    monkeypatch.setattr(lean.LeanAPIServer, "_watchers_of", lambda self, kind: real(self, kind)[:-1])
    c = kubesim.Cluster(check=True, seed=0, nodes=2)
    seq = len(c.changes)
    with pytest.raises(Divergence) as info:
        scenarios.deploy(c, "web", replicas=1)
    assert info.value.seq == seq and info.value.field.startswith("watchers of a ADDED event")


def test_a_fast_slice_plan_off_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesim.controllers.endpointslice.incremental import ServiceSlicer

    real = ServiceSlicer.sync

    def shifted(self: Any, *args: Any, **kwargs: Any) -> Any:
        plan = real(self, *args, **kwargs)
        if not plan.operations:
            return plan
        verb, obj = plan.operations[-1]
        obj = attrs.evolve(obj, metadata=attrs.evolve(obj.metadata, labels={**obj.metadata.labels, "x": "1"}))
        return attrs.evolve(plan, operations=(*plan.operations[:-1], (verb, obj)))

    monkeypatch.setattr(ServiceSlicer, "sync", shifted)
    c = kubesim.Cluster(check=True, seed=0, nodes=2)
    scenarios.deploy(c, "web", replicas=3)
    seq = len(c.changes)
    with pytest.raises(Divergence) as info:
        c.run()  # the sync's Divergence is taken for a sync error by the queue; run raises it
    assert info.value.seq >= seq and info.value.field.startswith("EndpointSlice plan of default/web: operations[")
    fast, ref = info.value.lean, info.value.full
    assert fast[1].metadata.labels["x"] == "1" and "x" not in ref[1].metadata.labels
    assert len(str(info.value)) < 5000  # the message shows the values cut short; the attributes hold them
    with pytest.raises(Divergence) as again:  # the cluster stays failed
        c.run()
    assert again.value is info.value


def test_a_fast_endpoints_decision_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesim.controllers.endpoints.incremental import ServiceEndpoints

    real = ServiceEndpoints.desired

    def one_port_off(self: Any, *args: Any) -> Any:
        ep = real(self, *args)
        subsets = tuple(attrs.evolve(s, ports=tuple(attrs.evolve(p, port=p.port + 1) for p in s.ports))
                        for s in ep.subsets)
        return attrs.evolve(ep, subsets=subsets)

    monkeypatch.setattr(ServiceEndpoints, "desired", one_port_off)
    c = kubesim.Cluster(check=True, seed=0, nodes=2)
    scenarios.deploy(c, "web", replicas=2)
    with pytest.raises(Divergence) as info:
        c.run()
    assert info.value.field == "Endpoints sync of default/web: desired Endpoints"
    fast, ref = info.value.lean, info.value.full
    assert fast.subsets[0].ports[0].port == ref.subsets[0].ports[0].port + 1
    monkeypatch.setattr(ServiceEndpoints, "needs_update", lambda self, *a, **k: False)
    c = kubesim.Cluster(check=True, seed=0, nodes=2)
    scenarios.deploy(c, "web", replicas=2)
    with pytest.raises(Divergence) as info:
        c.run()
    assert (info.value.field, info.value.lean, info.value.full) == ("Endpoints sync of default/web: verb", None,
                                                                     "create")


def test_topology_state_off() -> None:
    c = _deployed(2)
    topology = c.controllers["endpointslice"].topology
    topology.hints_populated.add("default/web")  # changes the fast plan's events
    scenarios.scale(c, "web", 3)
    with pytest.raises(Divergence) as info:
        c.run()
    assert info.value.field == "EndpointSlice plan of default/web: events"
    assert info.value.lean[0][1] == "TopologyAwareHintsDisabled" and info.value.full == ()
    c = _deployed(2)
    topology = c.controllers["endpointslice"].topology
    topology.set_hints("default/gone", "IPv4", {"zone-a": 1})  # changes no plan, only the state
    scenarios.scale(c, "web", 3)
    with pytest.raises(Divergence) as info:
        c.run()
    assert info.value.field == "topology hints state after the sync of default/web"


def test_the_slice_controller_hears_node_writes() -> None:
    # the EndpointSlice controller listens to Pods, EndpointSlices and Nodes only
    # (ChangeLog._listen's kinds); a node's new zone must reach the endpoints of the pods on it
    c = kubesim.Cluster(nodes=3, seed=0, check=True)
    c.apply_yaml(scenarios.web_manifests("web", replicas=4, readiness_probe=False))
    c.run()
    for n in c.list("Node", None):
        labels = {**n.metadata.labels, "topology.kubernetes.io/zone": "zone-x"}
        c.update(attrs.evolve(n, metadata=attrs.evolve(n.metadata, labels=labels)))
    c.run()
    scenarios.set_image(c, "web", "nginx:1.26")
    c.run()
    assert {e.zone for s in c.list("EndpointSlice", "default") for e in s.endpoints} == {"zone-x"}


def test_a_planner_vouched_slice_sum_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesim import wire

    real = wire.vouch_slice_endpoints  # the EndpointSlice planner's vouch for its updates' sums
    monkeypatch.setattr(wire, "vouch_slice_endpoints", lambda eps, packed: real(eps, packed + 1))
    # check mode alone (with CHECK_HINTS the vouch itself raises, as the next test has it)
    monkeypatch.setattr(wire, "CHECK_HINTS", False)
    info = _diverging_rollout(4)
    assert info.field == "endpoints size sums" and info.lean == info.full + 1
    assert "EndpointSlice default/web-" in str(info)


def test_a_planner_vouched_slice_sum_off_under_check_hints(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesim import wire

    real = wire.vouch_slice_endpoints
    monkeypatch.setattr(wire, "vouch_slice_endpoints", lambda eps, packed: real(eps, packed + 1))
    monkeypatch.setattr(wire, "CHECK_HINTS", True)
    c = kubesim.Cluster(seed=0, nodes=2)
    with pytest.raises(AssertionError, match="vouched slice endpoint sums"):
        lean.rollout_workload(4)(c)
