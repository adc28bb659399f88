"""Issue 14: nothing changes on failure, callbacks cannot corrupt the store, absurd options and
wrong types are refused up front, heavy faults converge or say so.

One regression test per class of failure; each fails on the code before the fix (8bc3b95).
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import attrs
import pytest

import kubesim
from kubesim import scenarios as sc
from kubesim.apiserver import WatchEvent
from kubesim.controllers.runtime import Options
from kubesim.faults import FaultPlan

sys.path.insert(0, os.path.dirname(__file__))
from test_faults import _consistent, _semantic_state, _workload  # noqa: E402

SVC = "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{selector: {{app: x}}, ports: [{{port: 80}}]{extra}}}\n"
BAD = "apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {ports: [{port: 80}]}\n"


def _svc(name: str, extra: str = "") -> str:
    return SVC.format(name=name, extra=extra)


def _fp(c: kubesim.Cluster) -> tuple[Any, ...]:
    """Everything a failed call must leave as it was (``APIServer.fingerprint``). On the code
    before the fix, which lacks it, the part it had: so these tests fail there on the
    behaviour, not on a missing method."""
    own = (len(c.changes), c.api.statistics().resource_version, c.api.snapshot(), c.rng.getstate())
    if hasattr(c.api, "fingerprint"):
        # the parts read here, independently of fingerprint(), keep these tests able to fail
        # should fingerprint() ever stop seeing them (test_the_fingerprint_sees_what_it_promises)
        return (*c.api.fingerprint(), *own)  # appended: fingerprint()'s indices stay as they are
    return own


def _fresh(**kwargs: Any) -> kubesim.Cluster:
    kwargs.setdefault("controllers", [])
    return kubesim.Cluster(seed=0, nodes=2, **kwargs)


def test_the_fingerprint_sees_what_it_promises() -> None:
    """The oracle of every "changes nothing" test here: it must change when the state does."""
    c = _fresh(faults=FaultPlan(conflict_rate=0.5))
    before = c.api.fingerprint()
    c.rng.random()  # a name/uid/IP draw
    after_rng = c.api.fingerprint()
    assert after_rng != before
    assert c.api.faults is not None
    c.api.faults.rng.random()  # the fault stream
    after_faults = c.api.fingerprint()
    assert after_faults != after_rng
    c.apply_yaml(_svc("fp"))  # a write: the log, the resourceVersion, the store, the cluster IPs
    after_write = c.api.fingerprint()
    assert after_write != after_faults
    assert len(c.changes) >= 1 and c.get("Service", "fp").spec.cluster_ip
    assert c.api.fingerprint() == after_write  # reading changes nothing


# ---------------------------------------------------------------- 1. failed writes leave nothing


def test_rolled_back_apply_leaves_ips_uids_and_random_state() -> None:
    """A rolled-back apply_yaml used to keep its Service IP and advance the random state, so
    the same seed and the same final manifests gave other clusterIPs and uids."""
    a = _fresh()
    before = _fp(a)
    with pytest.raises(kubesim.InvalidObject):
        a.apply_yaml(_svc("web", ", type: NodePort") + "---\n" + BAD)
    assert _fp(a) == before
    a.apply_yaml(_svc("web", ", type: NodePort"))
    b = _fresh()
    b.apply_yaml(_svc("web", ", type: NodePort"))
    sa, sb = a.get("Service", "web"), b.get("Service", "web")
    assert (sa.spec.cluster_ip, sa.spec.ports[0].node_port, sa.metadata.uid) == (
        sb.spec.cluster_ip, sb.spec.ports[0].node_port, sb.metadata.uid)
    a._check()


def test_create_refused_by_the_size_limit_draws_nothing() -> None:
    """The uid (and a generated name) used to be drawn before etcd's size check."""
    c = _fresh(max_request_bytes=1024)
    before = _fp(c)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "p-", "annotations": {"a": "x" * 1200}},
           "spec": {"containers": [{"name": "c", "image": "i"}]}}
    with pytest.raises(kubesim.RequestTooLarge):
        c.create(pod)
    svc = kubesim.load_yaml(_svc("s", ", type: NodePort"))[0]
    big = attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, annotations={"a": "x" * 1200}))
    with pytest.raises(kubesim.RequestTooLarge):
        c.create(big)
    assert _fp(c) == before


def test_injected_refusal_of_a_create_draws_nothing() -> None:
    c = _fresh(faults=FaultPlan(conflict_rate=1.0, affect_clients=True))
    before = _fp(c)  # refused attempts are recorded, and the fault stream advances
    with pytest.raises(kubesim.Conflict):
        c.create(kubesim.load_yaml(_svc("web", ", type: LoadBalancer"))[0])
    with pytest.raises(kubesim.Conflict):
        c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "p-"},
                  "spec": {"containers": [{"name": "c", "image": "i"}]}})
    assert _fp(c)[1:4] == before[1:4]
    assert c.statistics()["apiserver"].refused == 2
    refused = [e for e in c.changes if not e.committed]
    assert [e.name for e in refused] == ["web", "p-"]  # the name the client sent


def test_deleting_a_service_releases_its_ip() -> None:
    """Service IPs were never released, and a taken IP was accepted twice."""
    c = _fresh()
    c.apply_yaml(_svc("a", ", clusterIP: 10.96.7.7"))
    with pytest.raises(kubesim.InvalidObject) as info:
        c.apply_yaml(_svc("b", ", clusterIP: 10.96.7.7"))
    assert str(info.value) == (
        'Service "b" is invalid: spec.clusterIPs: Invalid value: ["10.96.7.7"]: failed to allocate IP '
        "10.96.7.7: provided IP is already allocated"
    )
    c.delete("Service", "a")
    c.apply_yaml(_svc("b", ", clusterIP: 10.96.7.7"))
    with pytest.raises(kubesim.InvalidObject, match=r"the provided IP \(10.0.0.9\) is not in the valid range. "
                                                    r"The range of valid IPs is 10.96.0.0/12"):
        c.apply_yaml(_svc("c", ", clusterIP: 10.0.0.9"))
    c._check()


def test_a_refused_node_takes_no_cidr() -> None:
    c = _fresh()
    with pytest.raises(kubesim.AlreadyExists):
        c.add_node("node-1")
    node = c.add_node()
    assert (node.metadata.name, node.spec.pod_cidr) == ("node-3", "10.244.3.0/24")


# ---------------------------------------------------------------- 2. re-entrancy


def test_a_subscriber_that_writes_keeps_watch_order() -> None:
    """A write from a ChangeLog subscriber used to be delivered before the write that set it
    off: a DELETED before its ADDED, and the watchers kept a ghost."""
    c = kubesim.Cluster(seed=0, nodes=1)
    heard: list[tuple[str, str, int]] = []
    c.api.watch(lambda ev: heard.append((ev.type, ev.new.metadata.name, int(ev.new.metadata.resource_version))),
                kinds={"Service"})

    def reaper(event: Any) -> None:
        if event.kind == "Service" and event.verb == "create" and event.name == "doomed":
            c.delete("Service", "doomed")

    c.changes.subscribe(reaper)
    c.apply_yaml(_svc("doomed"))
    assert heard == sorted(heard, key=lambda h: h[2])
    assert [h[0] for h in heard] == ["ADDED", "DELETED"]
    c.run()
    assert c.list("endpointslices", selector="kubernetes.io/service-name=doomed") == []
    c._check()


@pytest.mark.parametrize("engine", ["lean", "full"])
def test_a_watch_started_or_stopped_during_delivery_leaves_that_delivery_alone(engine: str) -> None:
    """The full model delivered over the list of watchers a watcher's stop or start changed
    in place: a watcher that stopped its own watch made the next one miss the event, and a
    watch started during a delivery heard the event in flight (the lean engine did neither).
    Upstream, a watch opens at a resourceVersion and each watch is its own stream."""
    c = kubesim.Cluster(seed=0, nodes=1, engine=engine)
    heard: list[tuple[str, str]] = []
    stops: dict[str, Any] = {}

    def watcher(tag: str) -> Any:
        def fn(ev: WatchEvent) -> None:
            heard.append((tag, ev.new.metadata.name))
            if tag == "w1" and ev.new.metadata.name == "a":
                stops["w4"] = c.api.watch(watcher("w4"), kinds={"ConfigMap"})
            if tag == "w1" and ev.new.metadata.name == "b":
                stops["w1"]()
            if tag == "w3" and ev.new.metadata.name == "c":
                stops["w4"]()
                stops["w4"]()  # a second stop does nothing
        return fn

    for tag in ("w1", "w2", "w3"):
        stops[tag] = c.api.watch(watcher(tag), kinds={"ConfigMap"})
    for name in ("a", "b", "c", "d"):
        c.apply_yaml(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n")
    assert heard == [
        ("w1", "a"), ("w2", "a"), ("w3", "a"),
        ("w1", "b"), ("w2", "b"), ("w3", "b"), ("w4", "b"),
        ("w2", "c"), ("w3", "c"), ("w4", "c"),
        ("w2", "d"), ("w3", "d"),
    ]
    c._check()


def test_run_from_a_subscriber_inside_apply_is_refused() -> None:
    """run() from a subscriber during apply_yaml used to let controllers write into the
    transaction; its rollback erased writes they believed done (a Deployment stuck at 0 pods)."""
    c = kubesim.Cluster(seed=0, nodes=2)
    calls: list[Any] = []

    def runner(event: Any) -> None:
        calls.append(event)
        c.run(until=c.now + 5)

    unsubscribe = c.changes.subscribe(runner)
    before = _fp(c)
    with pytest.raises(kubesim.InvalidObject):
        c.apply_yaml(sc.web_manifests("web", replicas=2) + "---\n" + BAD)
    assert calls == []  # subscribers hear a transaction's writes when it commits, never rolled-back ones
    with pytest.raises(kubesim.ReentrancyError), c.api.transaction():
        sc.deploy(c, "web", replicas=2)
        c.run()  # inside the open transaction: refused, and the transaction rolls back
    assert _fp(c) == before
    with pytest.raises(kubesim.ReentrancyError):
        sc.deploy(c, "web", replicas=2)  # committed; the subscriber's run() is refused
    assert len(calls) == 2 and c.get("Deployment", "web")
    unsubscribe()
    c.run()
    assert len([p for p in c.list("pods") if p.status.ready]) == 2
    c._check()


def test_subscribers_do_not_hear_rolled_back_writes() -> None:
    c = _fresh()
    heard: list[str] = []
    c.changes.subscribe(lambda e: heard.append(e.name))
    with pytest.raises(kubesim.InvalidObject):
        c.apply_yaml(_svc("ok") + "---\n" + BAD)
    assert heard == []
    c.apply_yaml(_svc("ok"))
    assert heard == ["ok"]


def test_a_subscriber_that_raises_does_not_keep_the_others_from_hearing() -> None:
    c = _fresh()
    heard: list[str] = []

    def broken(e: Any) -> None:
        raise RuntimeError("a subscriber's own bug")

    c.changes.subscribe(broken)
    c.changes.subscribe(lambda e: heard.append(e.name))
    with pytest.raises(RuntimeError, match="own bug"):
        c.apply_yaml(_svc("a"))  # the write commits; the writer then sees the first exception
    assert heard == ["a"]
    assert c.get("Service", "a").metadata.name == "a"
    c._check()


def test_check_catches_events_delivered_out_of_order() -> None:
    c = _fresh()
    c.apply_yaml(_svc("web"))
    svc = c.get("Service", "web")
    c.delete("Service", "web")
    c._check()
    c.api._deliver(WatchEvent("MODIFIED", "Service", svc, svc))  # a stale event after the DELETED
    with pytest.raises(AssertionError, match="watchers last heard"):
        c._check()


def test_clock_is_not_reentrant() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    errors: list[BaseException] = []

    def nested() -> None:
        try:
            c.run()
        except kubesim.ReentrancyError as exc:
            errors.append(exc)

    c.clock.schedule(1.0, nested)
    c.run()
    assert len(errors) == 1


# ---------------------------------------------------------------- 3. validation parity


def test_cluster_ips_may_not_change_once_set() -> None:
    """An update that moved clusterIP used to be stored while the allocator kept the old IP."""
    c = _fresh()
    c.apply_yaml(_svc("web"))
    before = _fp(c)
    with pytest.raises(kubesim.InvalidObject) as info:
        c.apply_yaml(_svc("web", ", clusterIP: 10.96.1.1"))
    assert str(info.value) == 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.1.1"]: may not change once set'
    assert _fp(c) == before
    c._check()


def test_an_explicit_cluster_ip_with_a_dual_stack_policy_gets_its_second_family() -> None:
    """registry alloc.go initIPFamilyFields/allocClusterIPs: the requested IP is kept and the
    other family's drawn; RequireDualStack on a single-stack cluster is refused even then."""
    dual = kubesim.Cluster(seed=0, nodes=1, controllers=[], dual_stack=True)
    dual.apply_yaml(_svc("d", ", clusterIP: 10.96.5.5, ipFamilyPolicy: PreferDualStack"))
    spec = dual.get("Service", "d").spec
    assert spec.cluster_ips[0] == "10.96.5.5" and spec.cluster_ips[1].startswith("fd00:10:96::")
    assert spec.ip_families == ("IPv4", "IPv6")
    dual._check()
    single = _fresh()
    before = _fp(single)
    with pytest.raises(kubesim.InvalidObject, match="this cluster is not configured for dual-stack services"):
        single.apply_yaml(_svc("d", ", clusterIP: 10.96.5.5, ipFamilyPolicy: RequireDualStack"))
    assert _fp(single) == before


def test_an_update_carrying_another_objects_uid_is_refused() -> None:
    c = _fresh()
    c.apply_yaml(_svc("web"))
    old = c.get("Service", "web")
    c.delete("Service", "web")
    c.apply_yaml(_svc("web"))
    new = c.get("Service", "web")
    before = _fp(c)
    stale = attrs.evolve(old, metadata=attrs.evolve(old.metadata, resource_version="", labels={"x": "y"}))
    with pytest.raises(kubesim.Conflict) as info:
        c.update(stale)
    assert str(info.value) == (
        'Operation cannot be fulfilled on services "web": StorageError: invalid object, Code: 4, Key: '
        f"/registry/services/specs/default/web, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: "
        f"UID in precondition: {old.metadata.uid}, UID in object meta: {new.metadata.uid}"
    )
    assert _fp(c) == before


def test_replicas_respect_int32() -> None:
    c = _fresh()
    sc.deploy(c, "web", replicas=1)
    before = _fp(c)
    with pytest.raises(kubesim.ManifestError, match="cannot unmarshal number 2147483648 into Go struct field "
                                                    "DeploymentSpec.replicas of type int32"):
        sc.scale(c, "web", 2**31)
    assert _fp(c) == before
    sc.scale(c, "web", 2**31 - 1)  # the largest int32 is a valid replica count


@pytest.mark.parametrize(("ip", "reason"), [
    ("ff12::1", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),  # Go: ip[1]&0x0f == 2
    ("ff32::7", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),
    ("::ffff:127.0.0.1", "may not be in the loopback range (127.0.0.0/8, ::1/128)"),  # Go: To4() first
    ("::ffff:169.254.3.4", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
    ("::ffff:224.0.0.9", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),
])
def test_endpoint_addresses_follow_gos_definitions(ip: str, reason: str) -> None:
    c = _fresh()
    ep = ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: db}\n"
          f"subsets: [{{addresses: [{{ip: '{ip}'}}], ports: [{{port: 5432}}]}}]\n")
    with pytest.raises(kubesim.InvalidObject, match=__import__("re").escape(reason)):
        c.apply_yaml(ep)
    for ok in ("ff03::1", "::ffff:10.1.2.3", "224.0.1.1"):  # not link-local: accepted
        c.apply_yaml(ep.replace(ip, ok))


# ---------------------------------------------------------------- 4. values past the model's range


@pytest.mark.parametrize("until", [1e300, math.inf, math.nan, "10", 2.6e11])
def test_run_until_out_of_range_is_an_invalid_option(until: Any) -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    with pytest.raises(kubesim.InvalidOption):
        c.run(until=until)
    with pytest.raises(kubesim.InvalidOption):
        c.clock.schedule(until if isinstance(until, float) else 3e11, lambda: None)


def test_the_latest_virtual_time_is_a_valid_timestamp() -> None:
    from kubesim.clock import MAX_TIME

    c = kubesim.Cluster(seed=0, nodes=1)
    c.run(until=MAX_TIME)
    assert c.now_unix == 253402300799
    c.apply_yaml(_svc("late"))
    assert "late" in c.kubectl("get svc")


@pytest.mark.parametrize("kwargs", [
    {"endpoint_updates_batch_period": math.inf},
    {"endpointslice_updates_batch_period": 1e300},
    {"mirroring_endpointslice_updates_batch_period": math.nan},
])
def test_absurd_batch_periods_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(kubesim.InvalidOption):
        kubesim.Cluster(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(kubesim.InvalidOption):
        Options(**kwargs)  # type: ignore[arg-type]


def test_absurd_fault_plans_are_refused() -> None:
    for kwargs in ({"watch_delay": 1e300}, {"watch_delay": 1e6}, {"affect_clients": "yes"}):
        with pytest.raises(kubesim.InvalidOption):
            FaultPlan(**kwargs)  # type: ignore[arg-type]


def test_flapping_with_vanishing_means_is_refused() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    sc.deploy(c, "web", replicas=1, readiness_probe=True)
    c.run()
    pod = c.list("pods")[0].metadata.name
    for means in ((1e-300, 1.0), (1.0, 5e-324), (math.inf, 1.0), (math.nan, 1.0)):
        with pytest.raises(kubesim.InvalidOption):
            sc.flap(c, pod, mean_up=means[0], mean_down=means[1])


def test_an_endless_manifest_stream_is_capped(tmp_path: Any) -> None:
    c = _fresh()
    before = _fp(c)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (3 * 1024 * 1024 + 1))
    for path in (big, "/dev/zero"):
        with pytest.raises(kubesim.RequestEntityTooLarge, match="Request entity too large: limit is 3145728"):
            c.apply_file(path)
    with pytest.raises(kubesim.RequestEntityTooLarge):
        c.apply_yaml("#" * (3 * 1024 * 1024 + 1))
    assert _fp(c) == before


# ---------------------------------------------------------------- 5. wrong types


def test_apply_file_does_not_take_a_file_descriptor(tmp_path: Any) -> None:
    """apply_file(1) used to open file descriptor 1 and close the caller's stdout."""
    f = tmp_path / "svc.yaml"
    f.write_text(_svc("web"))
    fd = os.open(f, os.O_RDONLY)
    try:
        c = _fresh()
        with pytest.raises(kubesim.KubesimError) as info:
            c.apply_file(fd)  # type: ignore[arg-type]
        assert type(info.value).__name__ == "InvalidArgument"
        os.fstat(fd)  # still open
        assert c.list("services") == []
    finally:
        os.close(fd)


def _svc_obj(**meta: Any) -> Any:
    svc = kubesim.load_yaml(_svc("s"))[0]
    return attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, **meta))


@pytest.mark.parametrize("make", [
    lambda: _svc_obj(annotations={"a": "x\udc80y"}),
    lambda: _svc_obj(labels={"a": "\ud800"}),
    lambda: _svc_obj(labels={"a": 1}),
    lambda: attrs.evolve(_svc_obj(), spec=attrs.evolve(_svc_obj().spec, ports=({1, 2},))),
    lambda: attrs.evolve(_svc_obj(), spec=attrs.evolve(
        _svc_obj().spec, ports=(attrs.evolve(_svc_obj().spec.ports[0], port=80.0),))),
])
def test_objects_of_the_wrong_types_are_refused_before_anything_changes(make: Any) -> None:
    c = _fresh()
    before = _fp(c)
    with pytest.raises(kubesim.ManifestError):
        c.create(make())
    assert _fp(c) == before


def test_a_float_where_an_integer_belongs_is_refused_on_update() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    sc.deploy(c, "web", replicas=1)
    c.run()
    d = c.get("Deployment", "web")
    before = _fp(c)
    with pytest.raises(kubesim.ManifestError, match="spec.replicas"):
        c.update(attrs.evolve(d, spec=attrs.evolve(d.spec, replicas=2.5)))
    assert _fp(c) == before


@pytest.mark.parametrize("call", [
    lambda c: c.get("Service", 3),
    lambda c: c.get(None, "x"),
    lambda c: c.list("pods", namespace=3),
    lambda c: c.list("pods", selector=3),
    lambda c: c.delete("pods", ["x"]),
    lambda c: c.kubectl(3),
    lambda c: c.apply_yaml(3),
    lambda c: c.add_node(3),
    lambda c: c.run(max_steps="many"),
    lambda c: c.connect(3, 80),
])
def test_public_entry_points_check_their_types(call: Any) -> None:
    c = _fresh()
    before = _fp(c)
    with pytest.raises(kubesim.KubesimError) as info:
        call(c)
    assert type(info.value).__name__ in ("InvalidArgument", "InvalidOption"), info.value  # not NotFound "3"
    assert _fp(c) == before


# ---------------------------------------------------------------- 6. heavy faults


@pytest.mark.parametrize("seed", [2, 3, 23])
def test_a_conflict_rate_of_0_7_converges(seed: int) -> None:
    """These seeds used to end with a ReplicaSet whose status disagreed with its pods."""
    healthy = kubesim.Cluster(seed=seed, nodes=3)
    _workload(healthy)
    faulty = kubesim.Cluster(seed=seed, nodes=3, faults=FaultPlan(conflict_rate=0.7))
    _workload(faulty)
    assert _semantic_state(faulty) == _semantic_state(healthy)
    _consistent(faulty)
    faulty._check()
    assert faulty.statistics()["resync"].converged


def test_a_run_that_cannot_converge_says_so() -> None:
    """At a conflict rate of 1.0 runs used to stop with no pods and no word."""
    c = kubesim.Cluster(seed=0, nodes=3, faults=FaultPlan(conflict_rate=1.0))
    sc.deploy(c, "web", replicas=2)
    c.run()
    stats = c.statistics()["resync"]
    assert not stats.converged
    assert "deployment/default/web" in stats.abandoned
    assert stats.resyncs >= stats.abandoned.__len__()
    c._check()


def test_resync_brings_a_dropped_key_back() -> None:
    c = kubesim.Cluster(seed=1, nodes=3, faults=FaultPlan(conflict_rate=0.7))
    sc.deploy(c, "web", replicas=4)
    c.run()
    stats = c.statistics()["resync"]
    assert stats.converged and stats.pending == 0
    assert len([p for p in c.list("pods") if p.status.ready]) == 4


@pytest.mark.parametrize("workers", [1, 2])
def test_a_broken_invariant_in_a_sync_is_raised_not_retried(workers: int) -> None:
    """A controller's sync that raised anything was retried, AssertionError included: a
    lean-engine size check (KUBESIM_CHECK_HINTS) or an invariant failing inside a controller's
    write passed for a retry. Now an AssertionError leaves the run; an API error is retried."""
    from kubesim.clock import Clock
    from kubesim.controllers.runtime import WorkQueue

    for exc, retried in ((kubesim.errors.Conflict("Pod", "p", "default"), True), (AssertionError("size 3 != 4"), False)):
        clock = Clock()
        calls: list[str] = []

        def sync(key: Any, exc: Exception = exc, calls: list[str] = calls) -> None:
            calls.append(key)
            if len(calls) == 1:
                raise exc

        q = WorkQueue(clock, sync, workers=workers)
        q.add("k")
        if retried:
            clock.run()
            assert calls == ["k", "k"] and q.statistics().errors == 1
        else:
            with pytest.raises(AssertionError, match="size 3 != 4"):
                clock.run()
            assert calls == ["k"] and q.statistics().errors == 0
