"""The incremental Endpoints engine (:mod:`kubesim.controllers.endpoints.incremental`) against the
full-recompute reference (:func:`kubesim.controllers.endpoints.reconciler.endpoints_for`,
:func:`~kubesim.controllers.endpoints.reconciler.endpoints_need_update`) and :func:`kubesim.wire.proto_size`.

The stateful test drives random pod events (create, delete, readiness flips, relabel in and
out, IP changes, termination, terminal phases, hostname/subdomain, named container ports that
resolve differently or not at all, uid collisions) and Service changes (ports with numeric, unset
and named target ports, ``publishNotReadyAddresses``, labels, selector, ``clusterIP`` set /
``None`` / empty, IP families), and after every step compares the engine with the reference for
several ``(truncate, max_capacity)`` modes (tiny capacities so truncation happens with a handful
of pods, and the pre-1.22 uncapped mode), for several existing objects, including the one a
controller would have stored on the previous step.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from kubesim import wire
from kubesim.controllers.endpoints.incremental import ServiceEndpoints
from kubesim.controllers.endpoints.reconciler import (
    ANNOTATION_OVER_CAPACITY,
    LABEL_ENDPOINTS_MANAGED_BY,
    endpoints_for,
    endpoints_need_update,
)
from kubesim.objects import (
    Container,
    ContainerPort,
    Endpoints,
    ObjectMeta,
    ObjectReference,
    Pod,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    Service,
    ServicePort,
    ServiceSpec,
)

NS = "default"
SVC = "web"
T0 = 1514764800

# --------------------------------------------------------------------------------------------
# builders

IPS = ["10.0.0.1", "10.0.0.10", "10.0.0.9", "10.0.0.2", "010.0.0.2", "10.0.1.1", "fd00::1", "fd00::a"]
CONTAINER_PORTS = {
    "none": ((), ()),
    "web8080": ((ContainerPort(8080, name="web"),), ()),
    "web9090": ((ContainerPort(9090, name="web"),), ()),
    "webudp": ((ContainerPort(8080, name="web", protocol="UDP"),), ()),
    "both": ((ContainerPort(8080, name="web"), ContainerPort(53, name="dns", protocol="UDP")), ()),
    "sidecar": ((), (Container("side", ports=[ContainerPort(7070, name="web")], restart_policy="Always"),)),
    "init": ((), (Container("init", ports=[ContainerPort(6060, name="web")]),)),
}
SERVICE_PORTS = {
    "none": (),
    "numeric": (ServicePort(port=80, target_port=8080),),
    "unset": (ServicePort(port=80),),  # Go zero IntOrString: endpoint port 0, not listed
    "named": (ServicePort(port=80, name="http", target_port="web", app_protocol="http"),),
    "mixed": (ServicePort(port=80, name="http", target_port="web"), ServicePort(port=81, name="m", target_port=9000)),
    "twonamed": (
        ServicePort(port=80, name="http", target_port="web"),
        ServicePort(port=53, name="dns", protocol="UDP", target_port="dns"),
    ),
    "udpweb": (ServicePort(port=80, name="a", target_port="web"), ServicePort(port=80, name="b", protocol="UDP", target_port="web")),
}
CLUSTER = {
    "v4": ("10.96.0.1", ()),
    "v4fam": ("10.96.0.1", ("IPv4",)),
    "v6": ("fd00::10", ("IPv6",)),
    "headless": ("None", ()),
    "headless6": ("None", ("IPv6",)),
    "empty": ("", ()),
}
SELECTORS: dict[str, Any] = {"app": {"app": "web"}, "tier": {"app": "web", "tier": "a"}, "all": {}, "nil": None}
POD_LABELS = [{"app": "web"}, {"app": "web", "tier": "a"}, {"app": "db"}, {}]


@attrs.frozen
class PodParams:
    ns: str = NS
    labels: int = 0
    ips: tuple[int, ...] = (0,)
    legacy_ip_only: bool = False
    ready: bool = True
    deleting: bool = False
    phase: str = "Running"
    hostname: str = ""
    subdomain: str = ""
    ports: str = "web8080"
    node: str = "n1"
    ready_time: int = T0


pod_params = st.builds(
    PodParams,
    ns=st.sampled_from([NS, NS, NS, NS, "other"]),
    labels=st.sampled_from([0, 0, 0, 1, 1, 2, 3]),
    ips=st.lists(st.integers(0, len(IPS) - 1), min_size=1, max_size=2).map(tuple) | st.just(()),
    legacy_ip_only=st.sampled_from([False, False, False, False, False, True]),
    ready=st.booleans(),
    deleting=st.sampled_from([False, False, False, True]),
    phase=st.sampled_from(["Running", "Running", "Running", "Pending", "Failed", "Succeeded"]),
    hostname=st.sampled_from(["", "h1", "h2"]),
    subdomain=st.sampled_from(["", SVC, "other"]),
    ports=st.sampled_from(sorted(CONTAINER_PORTS) + ["web8080", "web8080", "web9090", "both"]),
    node=st.sampled_from(["", "n1", "n2"]),
    ready_time=st.integers(T0, T0 + 100),
)


def make_pod(name: str, uid: str, p: PodParams) -> Pod:
    ips = [IPS[i] for i in p.ips]
    containers, init = CONTAINER_PORTS[p.ports]
    return Pod(
        metadata=ObjectMeta(
            name=name,
            namespace=p.ns,
            uid=uid,
            labels=POD_LABELS[p.labels],
            deletion_timestamp=T0 + 5 if p.deleting else None,
        ),
        spec=PodSpec(
            containers=[Container("main", ports=containers)],
            init_containers=init,
            node_name=p.node,
            hostname=p.hostname,
            subdomain=p.subdomain,
        ),
        status=PodStatus(
            phase=p.phase,
            pod_ip=ips[0] if ips else "",
            pod_ips=[] if p.legacy_ip_only else [PodIP(ip) for ip in ips],
            conditions=[PodCondition("Ready", "True" if p.ready else "False", last_transition_time=p.ready_time)],
        ),
    )


@attrs.frozen
class SvcParams:
    labels: int = 0
    selector: str = "app"
    ports: str = "numeric"
    pnra: bool = False
    cluster: str = "v4"


svc_params = st.builds(
    SvcParams,
    labels=st.integers(0, 2),
    selector=st.sampled_from(["app", "app", "tier", "all", "nil"]),
    ports=st.sampled_from(sorted(SERVICE_PORTS)),
    pnra=st.booleans(),
    cluster=st.sampled_from(sorted(CLUSTER)),
)


def make_service(p: SvcParams) -> Service:
    cluster_ip, families = CLUSTER[p.cluster]
    labels = [{}, {"team": "a"}, {"team": "b", "service.kubernetes.io/headless": ""}][p.labels]
    return Service(
        metadata=ObjectMeta(name=SVC, namespace=NS, labels=labels, creation_timestamp=T0),
        spec=ServiceSpec(
            ports=SERVICE_PORTS[p.ports],
            selector=SELECTORS[p.selector],
            cluster_ip=cluster_ip,
            ip_families=families,
            publish_not_ready_addresses=p.pnra,
        ),
    )


# (truncate, max_capacity) modes compared after every step.
MODES = [(True, 1000), (True, 1), (True, 2), (True, 3), (True, 5), (False, 1000), (False, 2)]


def with_target_ref_rv(ep: Endpoints) -> Endpoints:
    def addr(a: Any) -> Any:
        assert a.target_ref is not None
        return attrs.evolve(a, target_ref=attrs.evolve(a.target_ref, resource_version="99"))

    return attrs.evolve(
        ep,
        subsets=[
            attrs.evolve(s, addresses=[addr(a) for a in s.addresses], not_ready_addresses=[addr(a) for a in s.not_ready_addresses])
            for s in ep.subsets
        ],
    )


@settings(stateful_step_count=25)
class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.pods: dict[tuple[str, str], Pod] = {}
        self.gen = 0
        self.rv = 0
        self.service = make_service(SvcParams())
        self.engine = ServiceEndpoints(self.service)
        # The Endpoints a controller would have stored, per mode (written when the reference
        # says an update is needed).
        self.stored: dict[tuple[bool, int], Endpoints | None] = {m: None for m in MODES}
        self.trigger: int | float | None = T0

    def ordered_pods(self) -> list[Pod]:
        return [self.pods[k] for k in sorted(self.pods, key=lambda k: (k[1], k[0]))]

    def event(self, old: Pod | None, new: Pod | None) -> None:
        key = ((new or old).metadata.namespace, (new or old).metadata.name)  # type: ignore[union-attr]
        if new is None:
            self.pods.pop(key, None)
        else:
            self.pods[key] = new
        self.engine.pod_changed(old, new)

    @initialize(params=svc_params, pods=st.lists(pod_params, max_size=8))
    def setup(self, params: SvcParams, pods: list[PodParams]) -> None:
        self.service = make_service(params)
        for i, p in enumerate(pods):
            pod = make_pod(f"p{i}", f"uid-{i}", p)
            self.pods[(pod.metadata.namespace, pod.metadata.name)] = pod
        self.engine = ServiceEndpoints.from_pods(self.service, list(self.pods.values()))

    @rule(i=st.integers(0, 7), params=pod_params)
    def upsert_pod(self, i: int, params: PodParams) -> None:
        # create, or any update at once: relabel in/out, IP change, readiness, termination,
        # terminal phase, hostname/subdomain, container ports.
        name = f"p{i}"
        old = self.pods.get((params.ns, name))
        self.gen += 1
        uid = old.metadata.uid if old is not None else f"uid-{i}-{self.gen}"
        self.event(old, make_pod(name, uid, params))

    @rule(data=st.data())
    def flip_ready(self, data: st.DataObject) -> None:
        if not self.pods:
            return
        key = data.draw(st.sampled_from(sorted(self.pods)))
        old = self.pods[key]
        ready = not old.status.ready
        cond = PodCondition("Ready", "True" if ready else "False", last_transition_time=T0 + 200 + self.gen)
        self.gen += 1
        self.event(old, attrs.evolve(old, status=attrs.evolve(old.status, conditions=[cond])))

    @rule(data=st.data(), phase=st.sampled_from(["Running", "Failed", "Succeeded"]), deleting=st.booleans())
    def status_write(self, data: st.DataObject, phase: str, deleting: bool) -> None:
        # A kubelet-style write: the spec and podIPs carried over by identity (the engine
        # reuses the member's address), the phase or the deletion mark changed.
        if not self.pods:
            return
        key = data.draw(st.sampled_from(sorted(self.pods)))
        old = self.pods[key]
        meta = old.metadata
        if deleting and meta.deletion_timestamp is None:
            meta = attrs.evolve(meta, deletion_timestamp=T0 + 9)
        self.event(old, attrs.evolve(old, metadata=meta, status=attrs.evolve(old.status, phase=phase)))

    @rule(data=st.data(), selected=st.booleans())
    def put_or_discard(self, data: st.DataObject, selected: bool) -> None:
        # The controller's calls: put for a pod it found selected, discard by name otherwise.
        if not self.pods:
            return
        key = data.draw(st.sampled_from(sorted(self.pods)))
        pod = self.pods[key]
        if self.engine._selects(pod):
            self.engine.put(pod)
        else:
            self.engine.discard(pod.metadata.name)

    @rule(data=st.data())
    def delete_pod(self, data: st.DataObject) -> None:
        if not self.pods:
            return
        key = data.draw(st.sampled_from(sorted(self.pods)))
        self.event(self.pods[key], None)

    @rule(data=st.data())
    def change_ip(self, data: st.DataObject) -> None:
        if not self.pods:
            return
        key = data.draw(st.sampled_from(sorted(self.pods)))
        old = self.pods[key]
        ip = data.draw(st.sampled_from(IPS))
        self.event(old, attrs.evolve(old, status=attrs.evolve(old.status, pod_ip=ip, pod_ips=[PodIP(ip)])))

    @rule(data=st.data())
    def share_uid(self, data: st.DataObject) -> None:
        # Two pods with the same uid (and perhaps the same IP): the engine's fallback path.
        if len(self.pods) < 2:
            return
        a, b = data.draw(st.lists(st.sampled_from(sorted(self.pods)), min_size=2, max_size=2, unique=True))
        src, old = self.pods[a], self.pods[b]
        new = attrs.evolve(
            old,
            metadata=attrs.evolve(old.metadata, uid=src.metadata.uid),
            status=attrs.evolve(old.status, pod_ip=src.status.pod_ip, pod_ips=src.status.pod_ips),
        )
        self.event(old, new)

    @rule(params=svc_params)
    def change_service(self, params: SvcParams) -> None:
        self.service = make_service(params)
        self.engine.service_changed(self.service, lambda: list(self.pods.values()))

    @rule(labels=st.integers(0, 2))
    def relabel_service(self, labels: int) -> None:
        new = make_service(SvcParams(labels=labels))
        self.service = attrs.evolve(self.service, metadata=new.metadata)
        self.engine.service_changed(self.service)  # no pods needed: the selection is unchanged

    @rule(trigger=st.sampled_from([None, 0, T0, T0 + 7, T0 + 0.25]))
    def set_trigger(self, trigger: int | float | None) -> None:
        self.trigger = trigger

    @invariant()
    def matches_reference(self) -> None:
        self.engine._check()
        pods = self.ordered_pods()
        for truncate, cap in MODES:
            stored = self.stored[(truncate, cap)]
            candidates: list[Endpoints | None] = [None, stored]
            if stored is not None:
                candidates += [
                    with_target_ref_rv(stored),
                    attrs.evolve(stored, metadata=attrs.evolve(stored.metadata, labels=stored.metadata.labels.without(LABEL_ENDPOINTS_MANAGED_BY))),
                    attrs.evolve(stored, metadata=attrs.evolve(stored.metadata, annotations=stored.metadata.annotations.set(ANNOTATION_OVER_CAPACITY, "warning"))),
                    attrs.evolve(stored, metadata=attrs.evolve(stored.metadata, resource_version="")),
                ]
            for existing in candidates:
                ref = endpoints_for(
                    self.service, pods, existing=existing, trigger_time=self.trigger, truncate=truncate, max_capacity=cap
                )
                got = self.engine.desired(existing, self.trigger, truncate, max_capacity=cap)
                assert got == ref, (truncate, cap)
                want = endpoints_need_update(existing, ref, self.service, truncate=truncate, max_capacity=cap)
                assert self.engine.needs_update(existing, truncate=truncate, max_capacity=cap) == want, (truncate, cap)
                for rv in (True, False):
                    assert self.engine.proto_size(
                        existing, self.trigger, truncate, max_capacity=cap, include_resource_version=rv
                    ) == wire.proto_size(ref, include_resource_version=rv), (truncate, cap, rv)
            # Emulate the controller's write of this step.
            ref = endpoints_for(self.service, pods, existing=stored, trigger_time=self.trigger, truncate=truncate, max_capacity=cap)
            if endpoints_need_update(stored, ref, self.service, truncate=truncate, max_capacity=cap):
                self.rv += 1
                self.stored[(truncate, cap)] = attrs.evolve(ref, metadata=attrs.evolve(ref.metadata, resource_version=str(self.rv)))
        assert self.engine.address_count() == sum(
            len(s.addresses) + len(s.not_ready_addresses)
            for s in endpoints_for(self.service, pods, truncate=False).subsets
        )


TestEngineMachine = EngineMachine.TestCase


# --------------------------------------------------------------------------------------------
# directed cases


def ready_pod(i: int, ready: bool = True, web: int | None = None, ns: str = NS) -> Pod:
    containers = [Container("main", ports=[ContainerPort(web, name="web")] if web is not None else [])]
    ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
    return Pod(
        metadata=ObjectMeta(name=f"pod{i:05d}", namespace=ns, uid=f"uid{i}", labels={"app": "web"}),
        spec=PodSpec(containers=containers, node_name="n1"),
        status=PodStatus(
            phase="Running",
            pod_ip=ip,
            pod_ips=[PodIP(ip)],
            conditions=[PodCondition("Ready", "True" if ready else "False")],
        ),
    )


def svc(ports: Any = (ServicePort(port=80),), **spec: Any) -> Service:  # noqa: B008 (frozen)
    return Service(
        metadata=ObjectMeta(name=SVC, namespace=NS),
        spec=ServiceSpec(selector={"app": "web"}, cluster_ip="10.96.0.1", ports=ports, **spec),
    )


def stored(ep: Endpoints, rv: str = "1") -> Endpoints:
    return attrs.evolve(ep, metadata=attrs.evolve(ep.metadata, resource_version=rv))


@pytest.mark.parametrize(
    "ready, not_ready, existing_annotation, want_ready, want_not_ready, want_annotation",
    [
        # TestSyncServiceOverCapacity (endpoints_controller_test.go), reference §1.5.
        (0, 0, None, 0, 0, None),
        (997, 4, None, 997, 3, "truncated"),
        (1000, 10, None, 1000, 0, "truncated"),
        (999, 0, "truncated", 999, 0, None),
        (1000, 0, "warning", 1000, 0, None),
        (1000, 0, "truncated", 1000, 0, None),
        (1001, 0, "warning", 1000, 0, "truncated"),
        (1001, 0, "invalid", 1000, 0, "truncated"),
    ],
)
def test_sync_service_over_capacity(
    ready: int, not_ready: int, existing_annotation: str | None, want_ready: int, want_not_ready: int,
    want_annotation: str | None,
) -> None:
    service = svc()
    pods = [ready_pod(i) for i in range(ready)] + [ready_pod(ready + i, ready=False) for i in range(not_ready)]
    annotations = {ANNOTATION_OVER_CAPACITY: existing_annotation} if existing_annotation else {}
    existing = Endpoints(metadata=ObjectMeta(name=SVC, namespace=NS, resource_version="1", annotations=annotations))
    engine = ServiceEndpoints.from_pods(service, pods)
    got = engine.desired(existing, None)
    assert sum(len(s.addresses) for s in got.subsets) == want_ready
    assert sum(len(s.not_ready_addresses) for s in got.subsets) == want_not_ready
    assert got.metadata.annotations.get(ANNOTATION_OVER_CAPACITY) == want_annotation
    assert got == endpoints_for(service, pods, existing=existing)
    assert engine.proto_size(existing) == wire.proto_size(got)


def test_flip_keeps_reference_at_scale_with_truncation() -> None:
    # 3000 pods in two port classes (a rollout renaming the container port's number): two
    # subsets, truncated over both; flips move addresses between ready and not ready.
    service = svc(ports=[ServicePort(port=80, name="http", target_port="web")])
    pods = {p.metadata.name: p for p in (ready_pod(i, web=8080 if i % 3 else 9090) for i in range(3000))}
    engine = ServiceEndpoints.from_pods(service, pods.values())
    assert engine.subset_count() == 2
    for step, i in enumerate([5, 17, 2999, 0, 5, 1234, 1500, 2]):
        old = pods[f"pod{i:05d}"]
        new = attrs.evolve(old, status=attrs.evolve(old.status, conditions=[PodCondition("Ready", "False" if old.status.ready else "True")]))
        pods[new.metadata.name] = new
        engine.pod_changed(old, new)
        ordered = [pods[n] for n in sorted(pods)]
        for cap in (1000, 7):
            ref = endpoints_for(service, ordered, trigger_time=T0 + step, max_capacity=cap)
            assert engine.desired(None, T0 + step, max_capacity=cap) == ref
    engine._check()


def test_labels_only_change_does_not_rebuild() -> None:
    service = svc()
    pods = [ready_pod(i) for i in range(20)]
    engine = ServiceEndpoints.from_pods(service, pods)
    before = engine.desired(None, None).subsets
    relabelled = attrs.evolve(service, metadata=attrs.evolve(service.metadata, labels={"team": "x"}))
    engine.service_changed(relabelled)
    after = engine.desired(None, None)
    assert after.subsets is before  # the cached subsets survive a label-only change
    assert after == endpoints_for(relabelled, pods)


def test_selector_change_requires_pods() -> None:
    service = svc()
    pods = [ready_pod(i) for i in range(3)]
    engine = ServiceEndpoints.from_pods(service, pods)
    other = attrs.evolve(service, spec=attrs.evolve(service.spec, selector={"app": "db"}))
    with pytest.raises(ValueError, match="selector"):
        engine.service_changed(other)
    engine.service_changed(other, pods)
    assert len(engine) == 0
    assert engine.desired() == endpoints_for(other, pods)


def test_needs_update_after_own_write_is_false() -> None:
    service = svc()
    pods = [ready_pod(i) for i in range(50)]
    engine = ServiceEndpoints.from_pods(service, pods)
    written = stored(engine.desired(None, T0))
    assert endpoints_need_update(written, endpoints_for(service, pods, existing=written), service) is False
    assert engine.needs_update(written) is False
    old = pods[3]
    new = attrs.evolve(old, status=attrs.evolve(old.status, conditions=[PodCondition("Ready", "False")]))
    engine.pod_changed(old, new)
    assert engine.needs_update(written) is True
    engine.pod_changed(new, old)  # flipped back: the stored object is current again
    assert engine.needs_update(written) is False


def test_uid_collision_uses_reference_order() -> None:
    # Same IP and uid on two pods: RepackSubsets keeps the first pod's address (name order).
    a = ready_pod(1)
    b = attrs.evolve(ready_pod(2), metadata=attrs.evolve(ready_pod(2).metadata, uid="uid1"),
                     status=a.status, spec=attrs.evolve(a.spec, node_name="n2"))
    service = svc()
    engine = ServiceEndpoints.from_pods(service, [b, a])
    assert engine.uses_fallback()
    got = engine.desired()
    assert got == endpoints_for(service, [a, b])
    assert [x.target_ref.name for x in got.subsets[0].addresses] == ["pod00001"]  # type: ignore[union-attr]
    engine.pod_changed(b, None)
    assert not engine.uses_fallback()
    assert engine.desired() == endpoints_for(service, [a])


def test_pods_of_other_namespaces_are_ignored() -> None:
    service = svc()
    engine = ServiceEndpoints.from_pods(service, [ready_pod(1, ns="other")])
    engine.pod_changed(None, ready_pod(2, ns="other"))
    assert len(engine) == 0
    assert engine.desired() == endpoints_for(service, [ready_pod(1, ns="other"), ready_pod(2, ns="other")])


def test_uncapped_proto_size_without_materialising() -> None:
    service = svc(ports=[ServicePort(port=80, target_port=8080)])
    pods = [ready_pod(i, ready=i % 4 != 0) for i in range(2500)]
    engine = ServiceEndpoints.from_pods(service, pods)
    size = engine.proto_size(None, T0, truncate=False)
    assert engine._cache is None  # nothing was materialised
    assert size == wire.proto_size(endpoints_for(service, pods, trigger_time=T0, truncate=False))


def test_target_ref_is_a_pod_reference() -> None:
    engine = ServiceEndpoints.from_pods(svc(), [ready_pod(7)])
    addr = engine.desired().subsets[0].addresses[0]
    assert addr.target_ref == ObjectReference(kind="Pod", namespace=NS, name="pod00007", uid="uid7")
    assert addr.node_name == "n1"


# A denser population: mostly published pods, so truncation (ready and not-ready budgets),
# several subsets and uid collisions happen with small capacities.
published_pod_params = st.builds(
    PodParams,
    ips=st.tuples(st.integers(0, 5)),
    ready=st.booleans(),
    deleting=st.sampled_from([False, False, False, True]),
    ports=st.sampled_from(["web8080", "web8080", "web9090", "both", "sidecar", "none"]),
    hostname=st.sampled_from(["", "h1"]),
    subdomain=st.sampled_from(["", SVC]),
    node=st.sampled_from(["", "n1"]),
)
dense_svc_params = st.builds(
    SvcParams,
    labels=st.integers(0, 2),
    selector=st.just("app"),
    ports=st.sampled_from(["numeric", "named", "mixed", "twonamed", "udpweb", "unset", "none"]),
    pnra=st.sampled_from([False, False, True]),
    cluster=st.sampled_from(["v4", "headless", "empty"]),
)
events = st.lists(
    st.tuples(st.sampled_from(["flip", "flip", "delete", "readd", "share_uid", "pnra"]), st.integers(0, 15), st.integers(0, 15)),
    max_size=12,
)


@given(dense_svc_params, st.lists(published_pod_params, min_size=3, max_size=14), events)
def test_dense_population_matches_reference(params: SvcParams, plist: list[PodParams], evs: list[Any]) -> None:
    service = make_service(params)
    pods = {f"p{i:02d}": make_pod(f"p{i:02d}", f"uid-{i}", p) for i, p in enumerate(plist)}
    removed: dict[str, Pod] = {}
    engine = ServiceEndpoints.from_pods(service, pods.values())

    def compare() -> None:
        engine._check()
        ordered = [pods[n] for n in sorted(pods)]
        for truncate, cap in [*MODES, (True, 4), (True, 7)]:
            ref = endpoints_for(service, ordered, trigger_time=T0, truncate=truncate, max_capacity=cap)
            assert engine.desired(None, T0, truncate, max_capacity=cap) == ref
            assert engine.proto_size(None, T0, truncate, max_capacity=cap) == wire.proto_size(ref)
            existing = stored(ref)
            want = endpoints_need_update(existing, ref, service, truncate=truncate, max_capacity=cap)
            assert engine.needs_update(existing, truncate=truncate, max_capacity=cap) == want

    compare()
    for kind, a, b in evs:
        names = sorted(pods)
        if kind == "readd" and removed:
            name = sorted(removed)[a % len(removed)]
            new = removed.pop(name)
            pods[name] = new
            engine.pod_changed(None, new)
        elif kind == "pnra":
            service = attrs.evolve(service, spec=attrs.evolve(service.spec, publish_not_ready_addresses=not service.spec.publish_not_ready_addresses))
            engine.service_changed(service)
        elif not names:
            continue
        elif kind == "flip":
            old = pods[names[a % len(names)]]
            cond = PodCondition("Ready", "False" if old.status.ready else "True")
            new = attrs.evolve(old, status=attrs.evolve(old.status, conditions=[cond]))
            pods[new.metadata.name] = new
            engine.pod_changed(old, new)
        elif kind == "delete":
            old = pods.pop(names[a % len(names)])
            removed[old.metadata.name] = old
            engine.pod_changed(old, None)
        elif kind == "share_uid" and len(names) > 1:
            src, old = pods[names[a % len(names)]], pods[names[b % len(names)]]
            if src is not old:
                new = attrs.evolve(old, metadata=attrs.evolve(old.metadata, uid=src.metadata.uid),
                                   status=attrs.evolve(old.status, pod_ip=src.status.pod_ip, pod_ips=src.status.pod_ips))
                pods[new.metadata.name] = new
                engine.pod_changed(old, new)
        compare()


def test_status_writes_keep_the_address_object() -> None:
    # A readiness flip or a status write that carries the spec and podIPs over keeps the
    # member's address object (already measured), in the ready list or the not-ready one.
    service = svc()
    pods = [ready_pod(i) for i in range(4)]
    engine = ServiceEndpoints.from_pods(service, pods)
    first = engine.desired().subsets[0].addresses[1]
    old = pods[1]
    flipped = attrs.evolve(old, status=attrs.evolve(old.status, conditions=[PodCondition("Ready", "False")]))
    engine.put(flipped)
    assert engine.desired().subsets[0].not_ready_addresses[0] is first
    back = attrs.evolve(flipped, status=attrs.evolve(flipped.status, conditions=[PodCondition("Ready", "True")]))
    engine.put(back)
    assert engine.desired().subsets[0].addresses[1] is first
    # a new spec (a bind, a hostname) rebuilds the address
    moved = attrs.evolve(back, spec=attrs.evolve(back.spec, node_name="n2"))
    engine.put(moved)
    addr = engine.desired().subsets[0].addresses[1]
    assert addr.node_name == "n2" and addr is not first
    pods[1] = moved
    assert engine.desired() == endpoints_for(service, pods)
    engine.discard("pod00001")
    engine.discard("pod00001")  # not held: nothing happens
    assert engine.desired() == endpoints_for(service, [p for i, p in enumerate(pods) if i != 1])
    engine._check()


def test_selector_matches_remembers_frozen_pairs_only() -> None:
    from kubesim.controllers import endpointutil as eu
    from kubesim.objects import FrozenDict

    sel, labels = FrozenDict({"app": "web"}), FrozenDict({"app": "web", "tier": "a"})
    eu._MATCHES.clear()
    assert eu.selector_matches(sel, labels)
    assert eu._MATCHES[(id(sel), id(labels))] == (sel, labels, True)  # remembered
    assert eu.selector_matches(sel, labels)  # answered from the memo
    assert not eu.selector_matches(FrozenDict({"app": "db"}), labels)
    assert eu.selector_matches(FrozenDict(), labels) and not eu.selector_matches(None, labels)
    # plain (mutable) mappings are never remembered
    plain = {"app": "web"}
    assert eu.selector_matches(sel, plain)
    assert (id(sel), id(plain)) not in eu._MATCHES
    plain["app"] = "db"
    assert not eu.selector_matches(sel, plain)
    assert eu._last_match[1] is not plain  # nor is it the last pair, checked by identity first
    eu._MATCHES.clear()
    assert eu.selector_matches(sel, labels)
    # the last pair answers by identity alone, the memo cleared or not
    assert eu._last_match == (sel, labels, True)
    eu._MATCHES.clear()
    assert eu.selector_matches(sel, labels) and not eu._MATCHES
    other = FrozenDict({"app": "db"})
    assert not eu.selector_matches(other, labels) and eu._last_match == (other, labels, False)
    assert eu.selector_matches(sel, labels)  # the memo again, then the last pair


# --------------------------------------------------------------------------------------------
# netutil.ip_info: the memoised family and canonical form against parse_ip's


_IP_TEXTS = st.one_of(
    st.ip_addresses().map(str),
    # dotted quads with leading zeros, big octets, wrong part counts, non-ASCII digits
    st.lists(st.integers(0, 300).map(str) | st.sampled_from(["00", "010", "٣", "", "1a", "0x1"]),
             min_size=3, max_size=5).map(".".join),
    st.ip_addresses(v=4).map(lambda a: "::ffff:" + str(a)),
    st.text(alphabet="0123456789.:abcdef%", max_size=20),
)


@settings(max_examples=400, deadline=None)
@given(_IP_TEXTS)
def test_ip_info_is_netutils_family_and_canonical_form(text: str) -> None:
    from kubesim import netutil

    addr = netutil.parse_ip(text)
    want = (None, None) if addr is None else ("IPv4" if addr.version == 4 else "IPv6", str(addr))
    assert netutil.ip_info.__wrapped__(text) == want  # computed
    assert netutil.ip_info(text) == want  # remembered (or computed, then remembered)
    assert netutil.ip_info(text) == want
    assert (netutil.ip_family(text), netutil.canonical_ip(text)) == want
