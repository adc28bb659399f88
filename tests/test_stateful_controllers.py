"""Stateful property test of the Endpoints and EndpointSlice controllers in a running cluster.

A Hypothesis :class:`~hypothesis.stateful.RuleBasedStateMachine` drives a
:class:`~kubesim.cluster.Cluster` that runs only the ``endpoint``, ``endpointslice`` and
``garbagecollector`` controllers. Rules write pods and Services straight through the API (pods
come with a node, a phase, IPs the test allocates and a ``Ready`` condition, so no scheduler or
kubelet is involved): create, start a pending pod, remove, gracefully delete, replace (remove
and add in one sync), flip readiness, relabel, change IP, finish; create Services, change
ports, selector, labels, ``publishNotReadyAddresses``, delete.

After every step the cluster is run to quiescence and the invariants of
``reference/endpointslice-controller.md`` §3 are checked against a desired state computed here,
from the pods alone (never with kubesim's own helpers):

* partitioning: every desired endpoint is in exactly one slice, with the conditions of the
  ``TestPodToEndpoint`` truth table, and no slice holds anything else;
* homogeneous slices: one address type (IPv4), one port set (the Service's, resolved);
* size bound: no slice exceeds ``max_endpoints_per_slice`` (fixed per machine);
* placeholder: exactly one empty slice when there are no endpoints, no empty slice otherwise;
* ownership and labels: owned by the Service's current uid, service-name / managed-by labels,
  non-reserved labels mirror the Service's; no slice or Endpoints outlives its Service;
* Endpoints: ready addresses equal the slice endpoints with ``ready`` true (terminating pods are
  left out of Endpoints and are ``ready=false`` in slices), not-ready addresses as upstream;
* idempotence: re-enqueueing every Service in both controllers writes nothing;
* ``Cluster._check()``.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kubesim.cluster import Cluster
from kubesim.errors import NotFound
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
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
HEADLESS_LABEL = "service.kubernetes.io/headless"
SLICE_CONTROLLER = "endpointslice-controller.k8s.io"
RESERVED = (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL)
NODES = ("node-1", "node-2", "node-3")
APPS = ("a", "b")
TIERS = ("x", "y")
SERVICE_NAMES = ("svc-0", "svc-1", "svc-2")

#: Port lists a Service may carry (1–2 ports; numeric target ports, so every pod resolves all).
PORT_SETS: tuple[tuple[ServicePort, ...], ...] = (
    (ServicePort(port=80, target_port=8080),),
    (ServicePort(name="http", port=80, target_port=8080),),
    (
        ServicePort(name="http", port=80, target_port=8080),
        ServicePort(name="metrics", port=9090, target_port=9100),
    ),
    (ServicePort(name="dns", port=53, protocol="UDP", target_port=5353),),
    (
        ServicePort(name="web", port=443, target_port=8443, app_protocol="https"),
        ServicePort(name="dns", port=53, protocol="UDP", target_port=53),
    ),
)

selectors = st.one_of(
    st.sampled_from(APPS).map(lambda a: {"app": a}),
    st.tuples(st.sampled_from(APPS), st.sampled_from(TIERS)).map(lambda t: {"app": t[0], "tier": t[1]}),
)
service_labels = st.sampled_from(({}, {"team": "red"}, {"team": "blue", "env": "prod"}))

#: (app, tier, ready, node, with_ip) of a pod.
PodArgs = tuple[str, str | None, bool, str, bool]
pod_specs = st.tuples(
    st.sampled_from(APPS),
    st.sampled_from((None,) + TIERS),
    st.booleans(),
    st.sampled_from(NODES),
    st.sampled_from((True, True, True, False)),
)
#: (selector, ports, publishNotReadyAddresses, ipFamilies [IPv4], labels) of a Service.
ServiceArgs = tuple[dict[str, str], tuple[ServicePort, ...], bool, bool, dict[str, str]]
service_specs = st.tuples(selectors, st.sampled_from(PORT_SETS), st.booleans(), st.booleans(), service_labels)


def pod_labels(app: str, tier: str | None) -> dict[str, str]:
    return {"app": app} if tier is None else {"app": app, "tier": tier}


def ready_condition(ready: bool) -> tuple[PodCondition, ...]:
    return (PodCondition("Ready", "True" if ready else "False", last_transition_time=EPOCH),)


def expected_ports(svc: Service) -> frozenset[tuple[Any, ...]]:
    """The slice port set of ``svc``: name, protocol, resolved target port, appProtocol."""
    return frozenset(
        (p.name, p.protocol, p.target_port if p.target_port else p.port, p.app_protocol) for p in svc.spec.ports
    )


def slice_ports(s: Any) -> frozenset[tuple[Any, ...]]:
    return frozenset((p.name, p.protocol, p.port, p.app_protocol) for p in (s.ports or ()))


def is_ready(pod: Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def matches(selector: Any, labels: Any) -> bool:
    return selector is not None and all(labels.get(k) == v for k, v in selector.items())


class EndpointControllersMachine(RuleBasedStateMachine):
    """Random pod and Service writes; the endpoint controllers must keep up exactly."""

    cluster: Cluster
    max_eps: int

    def __init__(self) -> None:
        super().__init__()
        self.next_ip = 0
        self.next_pod = 0

    # -------------------------------------------------------------------------- helpers

    def alloc_ip(self) -> str:
        n = self.next_ip
        self.next_ip += 1
        return f"10.1.{n // 250}.{n % 250 + 1}"

    def pods(self) -> list[Pod]:
        return self.cluster.list("Pod")

    def services(self) -> list[Service]:
        return self.cluster.list("Service")

    def pick(self, data: st.DataObject, objs: list[Any]) -> Any:
        return data.draw(st.sampled_from(objs))

    def update_pod(self, pod: Pod, **status: Any) -> None:
        self.cluster.update(attrs.evolve(pod, status=attrs.evolve(pod.status, **status)))

    def update_spec(self, svc: Service, **spec: Any) -> None:
        self.cluster.update(attrs.evolve(svc, spec=attrs.evolve(svc.spec, **spec)))

    # -------------------------------------------------------------------------- setup

    @initialize(
        seed=st.integers(0, 2**16),
        max_eps=st.integers(1, 5),
        services=st.lists(service_specs, min_size=1, max_size=2),
        pods=st.lists(pod_specs, max_size=12),
    )
    def setup(self, seed: int, max_eps: int, services: list[ServiceArgs], pods: list[PodArgs]) -> None:
        """A cluster with a first population: 1–2 Services and up to 12 pods."""
        self.max_eps = max_eps
        self.cluster = Cluster(
            seed=seed,
            nodes=3,
            controllers=["endpoint", "endpointslice", "garbagecollector"],
            max_endpoints_per_slice=max_eps,
            check=True,  # the lean core beside the full model and the reference planners, per write
        )
        for name, svc_args in zip(SERVICE_NAMES, services, strict=False):
            self._create_service(name, *svc_args)
        for pod_args in pods:
            self._create_pod(*pod_args)
        self.cluster.run()

    # -------------------------------------------------------------------------- pod rules

    @rule(pods=st.lists(pod_specs, min_size=1, max_size=4))
    def create_pods(self, pods: list[PodArgs]) -> None:
        """1–4 pods (a quarter of them pending, without an IP)."""
        for args in pods:
            self._create_pod(*args)
        self.cluster.run()

    def _create_pod(self, app: str, tier: str | None, ready: bool, node: str, with_ip: bool) -> None:
        name = f"pod-{self.next_pod}"
        self.next_pod += 1
        ip = self.alloc_ip() if with_ip else ""
        pod = Pod(
            metadata=ObjectMeta(name=name, namespace="default", labels=pod_labels(app, tier)),
            spec=PodSpec(containers=(Container(name="c", image="registry.k8s.io/pause:3.9"),), node_name=node),
            status=PodStatus(
                phase="Running" if with_ip else "Pending",
                conditions=ready_condition(ready and with_ip),
                pod_ip=ip,
                pod_ips=(PodIP(ip),) if ip else (),
            ),
        )
        self.cluster.create(pod)

    @precondition(lambda self: bool(self.pods()))
    @rule(data=st.data(), new=st.lists(pod_specs, min_size=1, max_size=4))
    def replace_pods(self, data: st.DataObject, new: list[PodArgs]) -> None:
        """One rollout step in one sync: remove 1–2 pods and add 1–4, then run once, so the
        packer prunes, tops up and spills over in the same reconcile."""
        names = sorted(p.metadata.name for p in self.pods())
        gone = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        for name in gone:
            self.cluster.api.remove("Pod", name)
        for args in new:
            self._create_pod(*args)
        self.cluster.run()

    @precondition(lambda self: any(not p.status.pod_ips for p in self.pods()))
    @rule(data=st.data(), ready=st.booleans())
    def start_pending_pod(self, data: st.DataObject, ready: bool) -> None:
        pod = self.pick(data, [p for p in self.pods() if not p.status.pod_ips])
        ip = self.alloc_ip()
        self.update_pod(pod, phase="Running", pod_ip=ip, pod_ips=(PodIP(ip),), conditions=ready_condition(ready))
        self.cluster.run()

    @precondition(lambda self: bool(self.pods()))
    @rule(data=st.data())
    def remove_pod(self, data: st.DataObject) -> None:
        pod = self.pick(data, self.pods())
        self.cluster.api.remove("Pod", pod.metadata.name)
        self.cluster.run()

    @precondition(lambda self: bool(self.pods()))
    @rule(data=st.data(), grace=st.sampled_from((None, 0, 5)))
    def delete_pod(self, data: st.DataObject, grace: int | None) -> None:
        """``cluster.delete``: a bound pod with a positive grace period is only marked
        terminating (nothing runs a kubelet to finish it); grace 0 removes it."""
        pod = self.pick(data, self.pods())
        self.cluster.delete("Pod", pod.metadata.name, grace_period_seconds=grace)
        self.cluster.run()

    @precondition(lambda self: any(p.status.pod_ips for p in self.pods()))
    @rule(data=st.data())
    def flip_ready(self, data: st.DataObject) -> None:
        pod = self.pick(data, [p for p in self.pods() if p.status.pod_ips])
        self.update_pod(pod, conditions=ready_condition(not is_ready(pod)))
        self.cluster.run()

    @precondition(lambda self: bool(self.pods()))
    @rule(data=st.data(), app=st.sampled_from(APPS), tier=st.sampled_from((None,) + TIERS))
    def relabel_pod(self, data: st.DataObject, app: str, tier: str | None) -> None:
        pod = self.pick(data, self.pods())
        self.cluster.update(attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, labels=pod_labels(app, tier))))
        self.cluster.run()

    @precondition(lambda self: any(p.status.pod_ips for p in self.pods()))
    @rule(data=st.data())
    def change_pod_ip(self, data: st.DataObject) -> None:
        pod = self.pick(data, [p for p in self.pods() if p.status.pod_ips])
        ip = self.alloc_ip()
        self.update_pod(pod, pod_ip=ip, pod_ips=(PodIP(ip),))
        self.cluster.run()

    @precondition(lambda self: any(p.status.phase == "Running" and is_ready(p) for p in self.pods()))
    @rule(data=st.data(), phase=st.sampled_from(("Succeeded", "Failed")))
    def finish_pod(self, data: st.DataObject, phase: str) -> None:
        """A ready pod's containers exit: terminal phase and Ready=False in one status write.

        Only ready pods: upstream's ``podEndpointsChanged`` ignores a phase change alone, so a
        not-ready pod going terminal would (faithfully) not resync its Services.
        """
        pod = self.pick(data, [p for p in self.pods() if p.status.phase == "Running" and is_ready(p)])
        self.update_pod(pod, phase=phase, conditions=ready_condition(False))
        self.cluster.run()

    # -------------------------------------------------------------------------- Service rules

    @precondition(lambda self: len(self.services()) < len(SERVICE_NAMES))
    @rule(data=st.data(), spec=service_specs)
    def create_service(self, data: st.DataObject, spec: ServiceArgs) -> None:
        taken = {s.metadata.name for s in self.services()}
        name = data.draw(st.sampled_from([n for n in SERVICE_NAMES if n not in taken]))
        self._create_service(name, *spec)
        self.cluster.run()

    def _create_service(
        self,
        name: str,
        selector: dict[str, str],
        ports: tuple[ServicePort, ...],
        pnra: bool,
        ipv4: bool,
        labels: dict[str, str],
    ) -> None:
        svc = Service(
            metadata=ObjectMeta(name=name, namespace="default", labels=labels),
            spec=ServiceSpec(
                selector=selector,
                ports=ports,
                publish_not_ready_addresses=pnra,
                ip_families=("IPv4",) if ipv4 else (),
            ),
        )
        self.cluster.create(svc)

    @precondition(lambda self: bool(self.services()))
    @rule(data=st.data(), ports=st.sampled_from(PORT_SETS))
    def change_service_ports(self, data: st.DataObject, ports: tuple[ServicePort, ...]) -> None:
        self.update_spec(self.pick(data, self.services()), ports=ports)
        self.cluster.run()

    @precondition(lambda self: bool(self.services()))
    @rule(data=st.data(), selector=selectors)
    def change_service_selector(self, data: st.DataObject, selector: dict[str, str]) -> None:
        self.update_spec(self.pick(data, self.services()), selector=selector)
        self.cluster.run()

    @precondition(lambda self: bool(self.services()))
    @rule(data=st.data(), labels=service_labels)
    def change_service_labels(self, data: st.DataObject, labels: dict[str, str]) -> None:
        svc = self.pick(data, self.services())
        self.cluster.update(attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, labels=labels)))
        self.cluster.run()

    @precondition(lambda self: bool(self.services()))
    @rule(data=st.data())
    def toggle_publish_not_ready(self, data: st.DataObject) -> None:
        svc = self.pick(data, self.services())
        self.update_spec(svc, publish_not_ready_addresses=not svc.spec.publish_not_ready_addresses)
        self.cluster.run()

    @precondition(lambda self: bool(self.services()))
    @rule(data=st.data())
    def delete_service(self, data: st.DataObject) -> None:
        svc = self.pick(data, self.services())
        self.cluster.delete("Service", svc.metadata.name)
        self.cluster.run()

    # -------------------------------------------------------------------------- invariants

    def desired(self, svc: Service) -> dict[tuple[str, str], tuple[bool, bool, bool, str, str]]:
        """(ip, pod name) -> (ready, serving, terminating, node name, pod uid), from the pods
        the selector matches: not terminal and with an IP (terminating pods included)."""
        pnra = svc.spec.publish_not_ready_addresses
        out = {}
        for pod in self.pods():
            if not matches(svc.spec.selector, pod.metadata.labels):
                continue
            if pod.status.phase in ("Succeeded", "Failed") or not pod.status.pod_ips:
                continue
            serving = is_ready(pod)
            terminating = pod.metadata.deletion_timestamp is not None
            ready = pnra or (serving and not terminating)
            for pip in pod.status.pod_ips:
                out[(pip.ip, pod.metadata.name)] = (ready, serving, terminating, pod.spec.node_name, pod.metadata.uid)
        return out

    def expected_endpoints_addresses(self, svc: Service) -> tuple[set[str], set[str]]:
        """(ready IPs, not-ready IPs) of the legacy Endpoints: terminating pods are left out
        unless publishNotReadyAddresses, which also makes every address ready."""
        pnra = svc.spec.publish_not_ready_addresses
        ready: set[str] = set()
        not_ready: set[str] = set()
        for pod in self.pods():
            if not matches(svc.spec.selector, pod.metadata.labels):
                continue
            if pod.status.phase in ("Succeeded", "Failed") or not pod.status.pod_ips:
                continue
            if pod.metadata.deletion_timestamp is not None and not pnra:
                continue
            (ready if pnra or is_ready(pod) else not_ready).update(p.ip for p in pod.status.pod_ips)
        return ready, not_ready

    @invariant()
    def slices_match_desired_state(self) -> None:
        for svc in self.services():
            if svc.spec.selector is None:
                continue
            name = svc.metadata.name
            slices = [
                s
                for s in self.cluster.list("EndpointSlice", selector=f"{SERVICE_NAME_LABEL}={name}")
                if s.metadata.labels.get(MANAGED_BY_LABEL) == SLICE_CONTROLLER
            ]
            want = self.desired(svc)
            want_ports = expected_ports(svc)
            service_extra_labels = {k: v for k, v in svc.metadata.labels.items() if k not in RESERVED}
            seen: dict[tuple[str, str], int] = {}
            for s in slices:
                where = f"{name}: slice {s.metadata.name}"
                # ownership and labels
                owners = [r for r in s.metadata.owner_references if r.kind == "Service"]
                assert [(r.name, r.uid, r.controller) for r in owners] == [(name, svc.metadata.uid, True)], where
                assert s.metadata.labels.get(SERVICE_NAME_LABEL) == name, where
                assert s.metadata.labels.get(MANAGED_BY_LABEL) == SLICE_CONTROLLER, where
                extra = {k: v for k, v in s.metadata.labels.items() if k not in RESERVED}
                assert extra == service_extra_labels, (where, extra, service_extra_labels)
                assert HEADLESS_LABEL not in s.metadata.labels, where  # every Service here has a cluster IP
                # homogeneous, bounded
                assert s.address_type == "IPv4", where
                assert len(s.endpoints) <= self.max_eps, (where, len(s.endpoints), self.max_eps)
                if s.endpoints:
                    assert slice_ports(s) == want_ports, (where, slice_ports(s), want_ports)
                for ep in s.endpoints:
                    assert len(ep.addresses) == 1, (where, ep.addresses)
                    assert ep.target_ref is not None and ep.target_ref.kind == "Pod", where
                    key = (ep.addresses[0], ep.target_ref.name)
                    seen[key] = seen.get(key, 0) + 1
                    assert key in want, (where, key, "not desired")
                    ready, serving, terminating, node, uid = want[key]
                    c = ep.conditions
                    assert (c.ready, c.serving, c.terminating) == (ready, serving, terminating), (where, key, c)
                    assert ep.node_name == node and ep.target_ref.uid == uid, (where, key)
            # partitioning: every desired endpoint exactly once
            assert {k: n for k, n in seen.items() if n != 1} == {}, name
            assert set(seen) == set(want), (name, sorted(set(want) - set(seen)), sorted(set(seen) - set(want)))
            # placeholder
            empty = [s for s in slices if not s.endpoints]
            if want:
                assert empty == [], (name, [s.metadata.name for s in empty])
            else:
                assert len(slices) == 1 and len(empty) == 1, (name, [s.metadata.name for s in slices])
                assert not empty[0].ports, (name, empty[0].ports)
            # the legacy Endpoints agrees with the slices and with the pods
            ep_obj = self.cluster.get("Endpoints", name)
            ep_ready = {a.ip for sub in ep_obj.subsets for a in sub.addresses}
            ep_not_ready = {a.ip for sub in ep_obj.subsets for a in sub.not_ready_addresses}
            slice_ready = {e.addresses[0] for s in slices for e in s.endpoints if e.conditions.ready}
            assert ep_ready == slice_ready, (name, sorted(ep_ready ^ slice_ready))
            assert (ep_ready, ep_not_ready) == self.expected_endpoints_addresses(svc), name
            for sub in ep_obj.subsets:
                got = {(p.name, p.protocol, p.port, p.app_protocol) for p in sub.ports}
                assert got == want_ports, (name, got, want_ports)

    @invariant()
    def nothing_outlives_its_service(self) -> None:
        live = {s.metadata.name: s.metadata.uid for s in self.services()}
        for s in self.cluster.list("EndpointSlice"):
            owner = s.metadata.labels.get(SERVICE_NAME_LABEL)
            assert owner in live, ("orphan slice", s.metadata.name, owner)
            assert all(r.uid == live[owner] for r in s.metadata.owner_references), s.metadata.name
        for ep in self.cluster.list("Endpoints"):
            assert ep.metadata.name in live, ("orphan Endpoints", ep.metadata.name)

    @invariant()
    def resync_writes_nothing(self) -> None:
        before = len(self.cluster.changes)
        for svc in self.services():
            key = f"{svc.metadata.namespace}/{svc.metadata.name}"
            self.cluster.controllers["endpointslice"].queue.add(key)
            self.cluster.controllers["endpoint"].queue.add(key)
        self.cluster.run()
        extra = [(e.verb, e.kind, e.name, e.actor) for e in self.cluster.changes[before:]]
        assert extra == [], extra

    @invariant()
    def internal_invariants(self) -> None:
        self.cluster._check()


def test_every_service_has_an_endpoints_object_after_sync() -> None:
    """A sanity check of the harness: the machine's checks see a real Endpoints object."""
    cl = Cluster(seed=1, nodes=3, controllers=["endpoint", "endpointslice", "garbagecollector"])
    cl.create(Service(metadata=ObjectMeta(name="s", namespace="default"),
                      spec=ServiceSpec(selector={"app": "a"}, ports=PORT_SETS[0])))
    cl.run()
    assert cl.get("Endpoints", "s").subsets == ()
    (placeholder,) = cl.list("EndpointSlice")
    assert placeholder.endpoints == () and not placeholder.ports
    cl.delete("Service", "s")
    cl.run()
    assert cl.list("EndpointSlice") == []
    try:
        cl.get("Endpoints", "s")
    except NotFound:
        pass
    else:  # pragma: no cover
        raise AssertionError("Endpoints outlived its Service")


EndpointControllersMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEndpointControllers = EndpointControllersMachine.TestCase
