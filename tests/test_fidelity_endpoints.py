"""Fidelity tests for the legacy Endpoints controller's pure logic (kubesim.controllers.endpoints.reconciler).

Each test names the upstream test it ports: ``pkg/controller/endpoint/endpoints_controller_test.go``
(v1.33+ fixtures, with the ``endpoints.kubernetes.io/managed-by`` label), ``pkg/api/v1/endpoints/
util_test.go`` (``TestPackSubsets``), ``staging/src/k8s.io/endpointslice/util/
controller_utils_test.go`` and ``trigger_time_tracker_test.go``.  Upstream compares subsets with
``SortSubsets(expected)``; kubesim's port and subset order is its own documented choice, so
these tests compare subsets as a multiset and ports as a set, and address order exactly.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Sequence

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim.controllers.endpoints.reconciler import (
    ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
    ANNOTATION_OVER_CAPACITY,
    ENDPOINTS_CONTROLLER_NAME,
    LABEL_ENDPOINTS_MANAGED_BY,
    LABEL_HEADLESS,
    TriggerTimeTracker,
    endpoint_subsets_for_pod,
    endpoints_for,
    endpoints_need_update,
    find_port,
    format_trigger_time,
    plan_endpoints_sync,
    pod_to_endpoint_address,
    repack_subsets,
    should_pod_be_in_endpoints,
    should_set_hostname,
    subsets_equal_ignore_resource_version,
    truncate_subsets,
)
from kubesim.objects import (
    Container,
    ContainerPort,
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSubset,
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

IPV4ONLY = ("IPv4",)
IPV6ONLY = ("IPv6",)
IPV4IPV6 = ("IPv4", "IPv6")
IPV6IPV4 = ("IPv6", "IPv4")

LABELS = {LABEL_HEADLESS: "", LABEL_ENDPOINTS_MANAGED_BY: ENDPOINTS_CONTROLLER_NAME}
MANAGED = {LABEL_ENDPOINTS_MANAGED_BY: ENDPOINTS_CONTROLLER_NAME}
TRIGGER_TIME = 1514764800  # 2018-01-01T00:00:00Z
OLD_TRIGGER_TIME = TRIGGER_TIME - 3600


# ------------------------------------------------------------------------------------------
# fixtures (endpoints_controller_test.go testPod / addPods)


def _v4(i: int) -> str:
    n = 4 + i
    return f"1.2.{3 + n // 256}.{n % 256}"


def _v6(i: int) -> str:
    return f"2000::{4 + i:x}"


def test_pod(ns: str, i: int, n_ports: int, ready: bool, families: Sequence[str] = IPV4ONLY) -> Pod:
    ips = tuple(PodIP(_v4(i) if f == "IPv4" else _v6(i)) for f in families)
    return Pod(
        metadata=ObjectMeta(name=f"pod{i}", namespace=ns, resource_version=str(i), labels={"foo": "bar"}),
        spec=PodSpec(
            containers=[Container(name="c", ports=[ContainerPort(8080 + j, name=f"port{j}") for j in range(n_ports)])]
        ),
        status=PodStatus(
            conditions=[PodCondition("Ready", "True" if ready else "False")],
            pod_ip=ips[0].ip,
            pod_ips=ips,
        ),
    )


test_pod.__test__ = False  # type: ignore[attr-defined]


def add_pods(ns: str, n_ready: int, n_ports: int, n_not_ready: int, families: Sequence[str] = IPV4ONLY) -> list[Pod]:
    pods = [test_pod(ns, i, n_ports, True, families) for i in range(n_ready)]
    pods += [test_pod(ns, n_ready + i, n_ports, False, families) for i in range(n_not_ready)]
    return pods


def addr(ip: str, pod: str, ns: str, rv: str = "") -> EndpointAddress:
    return EndpointAddress(ip=ip, node_name="", target_ref=ObjectReference(kind="Pod", name=pod, namespace=ns, resource_version=rv))


def svc(
    ns: str,
    *,
    name: str = "foo",
    selector: dict[str, str] | None = None,
    ports: Sequence[ServicePort] = (),
    labels: dict[str, str] | None = None,
    cluster_ip: str = "",
    ip_families: Sequence[str] = IPV4ONLY,
    type_: str = "",
    publish: bool = False,
    created: int | None = None,
) -> Service:
    return Service(
        metadata=ObjectMeta(name=name, namespace=ns, labels=labels or {}, creation_timestamp=created),
        spec=ServiceSpec(
            selector=selector,
            ports=ports,
            cluster_ip=cluster_ip,
            ip_families=ip_families,
            type=type_,
            publish_not_ready_addresses=publish,
        ),
    )


def existing_ep(ns: str, subsets: Sequence[EndpointSubset] = (), *, labels: dict[str, str] | None = None, rv: str = "1", annotations: dict[str, str] | None = None) -> Endpoints:
    return Endpoints(
        metadata=ObjectMeta(name="foo", namespace=ns, resource_version=rv, labels=labels or {}, annotations=annotations or {}),
        subsets=subsets,
    )


OLD_SUBSETS = [EndpointSubset(addresses=[EndpointAddress(ip="6.7.8.9", node_name="")], ports=[EndpointPort(port=1000)])]


def canon(subsets: Iterable[EndpointSubset]) -> Counter[tuple[object, ...]]:
    """Subsets as a multiset, ports as a set, addresses in order (what SortSubsets pins)."""
    return Counter((s.addresses, s.not_ready_addresses, frozenset(s.ports)) for s in subsets)


# ------------------------------------------------------------------------------------------
# §1.8 syncService scenarios


def test_sync_endpoints_items_preserve_no_selector() -> None:  # 1
    ns = "other"
    existing = existing_ep(ns, OLD_SUBSETS)
    plan = plan_endpoints_sync(svc(ns, ports=[ServicePort(80)]), add_pods(ns, 1, 1, 0), existing)
    assert plan.verb is None


@pytest.mark.parametrize("subsets", [(), []])
def test_sync_endpoints_existing_nil_and_empty_subsets(subsets: Sequence[EndpointSubset]) -> None:  # 2
    ns = "other"
    existing = existing_ep(ns, subsets, labels=MANAGED)
    service = svc(ns, selector={"foo": "bar"}, ports=[ServicePort(80)])
    assert plan_endpoints_sync(service, [], existing).verb is None


def test_sync_endpoints_with_pod_resource_version_update_only() -> None:  # 3
    ns = "other"
    existing = existing_ep(
        ns,
        [
            EndpointSubset(
                addresses=[addr("1.2.3.4", "pod0", ns, rv="1")],
                not_ready_addresses=[addr("1.2.3.5", "pod1", ns, rv="2")],
                ports=[EndpointPort(port=8080, protocol="TCP")],
            )
        ],
        labels=MANAGED,
    )
    pods = add_pods(ns, 1, 1, 1)
    pods = [attrs.evolve(p, metadata=attrs.evolve(p.metadata, resource_version=str(3 + i))) for i, p in enumerate(pods)]
    service = svc(ns, selector={"foo": "bar"}, ports=[ServicePort(80, target_port=8080)])
    assert plan_endpoints_sync(service, pods, existing).verb is None


def test_sync_endpoints_new_no_subsets() -> None:  # 4
    ns = "other"
    service = svc(ns, selector={"foo": "bar"}, ports=[ServicePort(80)])
    plan = plan_endpoints_sync(service, [], None)
    assert plan.verb == "create"
    assert plan.endpoints is not None and plan.endpoints.subsets == ()
    assert plan.endpoints.metadata.resource_version == ""


@pytest.mark.parametrize("protocol", ["TCP", "UDP", "SCTP"])
def test_sync_endpoints_protocol(protocol: str) -> None:  # 6
    ns = "other"
    existing = existing_ep(ns, OLD_SUBSETS)
    service = svc(ns, selector={}, ports=[ServicePort(80, target_port=8080, protocol=protocol)])
    plan = plan_endpoints_sync(service, add_pods(ns, 1, 1, 0), existing)
    assert plan.verb == "update"
    ep = plan.endpoints
    assert ep is not None
    assert ep.metadata.resource_version == "1"
    assert ep.metadata.labels == LABELS
    assert ep.subsets == (EndpointSubset(addresses=[addr("1.2.3.4", "pod0", ns)], ports=[EndpointPort(port=8080, protocol=protocol)]),)


def test_sync_endpoints_headless_service_label() -> None:  # 7
    ns = "default"
    existing = existing_ep(ns, [], labels=LABELS)
    service = svc(ns, selector={"foo": "bar"}, ports=[ServicePort(80)])
    assert plan_endpoints_sync(service, [], existing).verb is None


@pytest.mark.parametrize("selector", [None, {"foo": "bar"}])
@pytest.mark.parametrize("ports", [(), (ServicePort(80, target_port=8080),)])
def test_sync_service_external_name_type(selector: dict[str, str] | None, ports: Sequence[ServicePort]) -> None:  # 8
    ns = "default"
    service = svc(ns, selector=selector, ports=ports, type_="ExternalName")
    assert plan_endpoints_sync(service, add_pods(ns, 1, 1, 0), None).verb is None


def test_sync_endpoints_items_empty_selector_selects_all_not_ready() -> None:  # 9
    ns = "other"
    service = svc(ns, selector={}, ports=[ServicePort(80, target_port=8080)])
    plan = plan_endpoints_sync(service, add_pods(ns, 0, 1, 1), existing_ep(ns, OLD_SUBSETS))
    assert plan.verb == "update" and plan.endpoints is not None
    assert plan.endpoints.subsets == (
        EndpointSubset(not_ready_addresses=[addr("1.2.3.4", "pod0", ns)], ports=[EndpointPort(port=8080)]),
    )
    assert plan.endpoints.metadata.labels == LABELS


def test_sync_endpoints_items_empty_selector_selects_all_mixed() -> None:  # 10
    ns = "other"
    service = svc(ns, selector={}, ports=[ServicePort(80, target_port=8080)])
    plan = plan_endpoints_sync(service, add_pods(ns, 1, 1, 1), existing_ep(ns, OLD_SUBSETS))
    assert plan.verb == "update" and plan.endpoints is not None
    assert plan.endpoints.subsets == (
        EndpointSubset(
            addresses=[addr("1.2.3.4", "pod0", ns)],
            not_ready_addresses=[addr("1.2.3.5", "pod1", ns)],
            ports=[EndpointPort(port=8080)],
        ),
    )


def test_sync_endpoints_items_preexisting_identical() -> None:  # 11
    ns = "default"
    subsets = [EndpointSubset(addresses=[addr("1.2.3.4", "pod0", ns)], ports=[EndpointPort(port=8080, protocol="TCP")])]
    service = svc(ns, selector={"foo": "bar"}, ports=[ServicePort(80, target_port=8080)])
    assert plan_endpoints_sync(service, add_pods(ns, 1, 1, 0), existing_ep(ns, subsets, labels=MANAGED)).verb is None
    # v1.33+: the same object without the managed-by label is rewritten to add it (§1.2 step 9).
    plan = plan_endpoints_sync(service, add_pods(ns, 1, 1, 0), existing_ep(ns, subsets))
    assert plan.verb == "update" and plan.endpoints is not None
    assert plan.endpoints.metadata.labels == LABELS


def _items_service(ns: str, labels: dict[str, str] | None = None) -> Service:
    return svc(
        ns,
        selector={"foo": "bar"},
        labels=labels,
        ports=[
            ServicePort(80, name="port0", target_port=8080),
            ServicePort(88, name="port1", target_port=8088),
        ],
    )


def _expected_items(ns: str) -> Counter[tuple[object, ...]]:
    return canon(
        [
            EndpointSubset(
                addresses=[addr("1.2.3.4", "pod0", ns), addr("1.2.3.5", "pod1", ns), addr("1.2.3.6", "pod2", ns)],
                ports=[EndpointPort(port=8080, name="port0"), EndpointPort(port=8088, name="port1")],
            )
        ]
    )


def test_sync_endpoints_items() -> None:  # 12
    ns = "other"
    pods = add_pods(ns, 3, 2, 0) + add_pods("blah", 5, 2, 0)
    plan = plan_endpoints_sync(_items_service(ns), pods, None)
    assert plan.verb == "create" and plan.endpoints is not None
    ep = plan.endpoints
    assert (ep.metadata.name, ep.metadata.namespace, ep.metadata.resource_version) == ("foo", ns, "")
    assert ep.metadata.labels == LABELS
    assert canon(ep.subsets) == _expected_items(ns)


def test_sync_endpoints_items_with_labels() -> None:  # 13
    ns = "other"
    plan = plan_endpoints_sync(_items_service(ns, {"foo": "bar"}), add_pods(ns, 3, 2, 0), None)
    assert plan.verb == "create" and plan.endpoints is not None
    assert plan.endpoints.metadata.labels == {"foo": "bar", **LABELS}
    assert canon(plan.endpoints.subsets) == _expected_items(ns)


def test_sync_endpoints_items_preexisting_labels_change() -> None:  # 14
    ns = "bar"
    existing = existing_ep(ns, OLD_SUBSETS, labels={"foo": "bar"})
    service = svc(ns, selector={"foo": "bar"}, labels={"baz": "blah"}, ports=[ServicePort(80, target_port=8080)])
    plan = plan_endpoints_sync(service, add_pods(ns, 1, 1, 0), existing)
    assert plan.verb == "update" and plan.endpoints is not None
    assert plan.endpoints.metadata.labels == {"baz": "blah", **LABELS}
    assert plan.endpoints.subsets == (EndpointSubset(addresses=[addr("1.2.3.4", "pod0", ns)], ports=[EndpointPort(port=8080)]),)


def test_sync_endpoints_headless_service() -> None:  # 15
    ns = "headless"
    service = svc(ns, selector={}, labels={"a": "b"}, cluster_ip="None", ports=[])
    before = service
    plan = plan_endpoints_sync(service, add_pods(ns, 1, 1, 0), existing_ep(ns, OLD_SUBSETS))
    assert plan.verb == "update" and plan.endpoints is not None
    assert plan.endpoints.metadata.labels == {"a": "b", **LABELS}
    assert plan.endpoints.subsets == (EndpointSubset(addresses=[addr("1.2.3.4", "pod0", ns)]),)
    assert service == before


@pytest.mark.parametrize(
    "restart_policy,phase",
    [("Never", "Failed"), ("Never", "Succeeded"), ("OnFailure", "Succeeded")],
)
def test_sync_endpoints_items_exclude_not_ready_pods_with_restart_policy(restart_policy: str, phase: str) -> None:  # 16
    ns = "other"
    pod = test_pod(ns, 0, 1, False)
    pod = attrs.evolve(pod, spec=attrs.evolve(pod.spec, restart_policy=restart_policy), status=attrs.evolve(pod.status, phase=phase))
    existing = existing_ep(ns, OLD_SUBSETS, labels={"foo": "bar"})
    service = svc(ns, selector={"foo": "bar"}, ports=[ServicePort(80, target_port=8080)])
    plan = plan_endpoints_sync(service, [pod], existing)
    assert plan.verb == "update" and plan.endpoints is not None
    assert plan.endpoints.subsets == ()
    assert plan.endpoints.metadata.labels == LABELS


def test_sync_endpoints_headless_without_port() -> None:  # 17
    ns = "default"
    service = svc(ns, selector={"foo": "bar"}, cluster_ip="None", ports=())
    plan = plan_endpoints_sync(service, add_pods(ns, 1, 1, 0), None)
    assert plan.verb == "create" and plan.endpoints is not None
    assert plan.endpoints.subsets == (EndpointSubset(addresses=[addr("1.2.3.4", "pod0", ns)], ports=()),)
    assert plan.endpoints.metadata.labels == LABELS


def test_non_headless_service_without_ports_gets_no_addresses() -> None:
    ns = "default"
    service = svc(ns, selector={"foo": "bar"}, cluster_ip="10.0.0.1", ports=())
    assert endpoints_for(service, add_pods(ns, 2, 1, 0)).subsets == ()


def _address_service(cluster_ip: str, families: Sequence[str]) -> Service:
    return Service(spec=ServiceSpec(cluster_ip=cluster_ip, ip_families=families))


@pytest.mark.parametrize(
    "name,pod_families,service,expected",
    [
        ("v4 service, in a single stack cluster", IPV4ONLY, _address_service("10.0.0.1", IPV4ONLY), "IPv4"),
        ("v4 service, in a dual stack cluster", IPV4IPV6, _address_service("10.0.0.1", IPV4ONLY), "IPv4"),
        ("v4 service, in a dual stack ipv6-primary cluster", IPV6IPV4, _address_service("10.0.0.1", IPV4ONLY), "IPv4"),
        ("v4 headless service, in a single stack cluster", IPV4ONLY, _address_service("None", IPV4ONLY), "IPv4"),
        ("v4 headless service, in a dual stack cluster", IPV4IPV6, _address_service("None", IPV4ONLY), "IPv4"),
        ("v6 service, in a dual stack cluster", IPV4IPV6, _address_service("3000::1", IPV6ONLY), "IPv6"),
        ("v6 headless service, in a single stack cluster", IPV6ONLY, _address_service("None", IPV6ONLY), "IPv6"),
        ("v6 headless service, in a dual stack cluster", IPV4IPV6, _address_service("None", IPV6ONLY), "IPv6"),
        ("v6 service, in a v4 only cluster", IPV4ONLY, _address_service("3000::1", IPV6ONLY), None),
        # legacy Services without ipFamilies (@003e8629)
        ("v4 legacy headless service, in a dual stack cluster", IPV4IPV6, _address_service("None", ()), "IPv4"),
        ("v4 legacy headless service, in a dual stack ipv6-primary cluster", IPV6IPV4, _address_service("None", ()), "IPv6"),
        ("v6 legacy headless service, in a dual stack cluster", IPV4IPV6, _address_service("None", ()), "IPv4"),
        ("legacy v6 service, in a dual stack cluster", IPV4IPV6, _address_service("3000::1", ()), "IPv6"),
        ("legacy v6 service, in a v4 only cluster", IPV4ONLY, _address_service("3000::1", ()), None),
    ],
)
def test_pod_to_endpoint_address_for_service(name: str, pod_families: Sequence[str], service: Service, expected: str | None) -> None:  # 18
    pod = test_pod("test", 0, 1, True, pod_families)
    pod = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, uid="uid-0"))
    epa = pod_to_endpoint_address(pod, service)
    if expected is None:
        assert epa is None, name
        return
    assert epa is not None, name
    assert (ipaddress.ip_address(epa.ip).version == 6) == (expected == "IPv6"), name
    assert epa.node_name == pod.spec.node_name == ""
    assert epa.target_ref == ObjectReference(kind="Pod", namespace="test", name="pod0", uid="uid-0")
    assert epa.target_ref.resource_version == ""


def test_pod_to_endpoint_address_canonicalises_bad_ip() -> None:  # 18 (addBadIPPod, v1.33+)
    pod = test_pod("test", 0, 1, True)
    bad = "0" + pod.status.pod_ips[0].ip
    pod = attrs.evolve(pod, status=attrs.evolve(pod.status, pod_ip=bad, pod_ips=[PodIP(bad)]))
    epa = pod_to_endpoint_address(pod, _address_service("10.0.0.1", IPV4ONLY))
    assert epa is not None and not epa.ip.startswith("0") and epa.ip == "1.2.3.4"


def test_pod_with_only_legacy_pod_ip_is_skipped() -> None:
    pod = test_pod("test", 0, 1, True)
    pod = attrs.evolve(pod, status=attrs.evolve(pod.status, pod_ips=()))
    assert should_pod_be_in_endpoints(pod, False)
    assert pod_to_endpoint_address(pod, _address_service("10.0.0.1", IPV4ONLY)) is None


@pytest.mark.parametrize(
    "phase,ready,terminating,publish,want_ready,want_unready",
    [
        ("Running", True, False, False, 1, 0),
        ("Pending", True, False, False, 1, 0),
        ("Unknown", True, False, False, 1, 0),
        ("Running", True, True, False, 0, 0),
        ("Pending", False, False, False, 0, 1),
        ("Unknown", False, False, False, 0, 1),
        ("Running", False, False, False, 0, 1),
        ("Failed", True, False, False, 0, 0),
        ("Succeeded", True, False, False, 0, 0),
        ("Failed", False, False, False, 0, 0),
        ("Running", True, False, True, 1, 0),
        ("Running", True, True, True, 1, 0),
        ("Pending", False, False, True, 1, 0),
        ("Unknown", False, True, True, 1, 0),
        ("Failed", True, False, True, 0, 0),
        ("Succeeded", False, False, True, 0, 0),
    ],
)
def test_sync_service_addresses(phase: str, ready: bool, terminating: bool, publish: bool, want_ready: int, want_unready: int) -> None:  # 19
    ns = "test"
    pod = test_pod(ns, 0, 1, ready)
    pod = attrs.evolve(
        pod,
        metadata=attrs.evolve(pod.metadata, deletion_timestamp=TRIGGER_TIME if terminating else None),
        status=attrs.evolve(pod.status, phase=phase),
    )
    service = svc(ns, selector={"foo": "bar"}, cluster_ip="1.1.1.1", ports=[ServicePort(80, target_port=8080)], publish=publish)
    ep = endpoints_for(service, [pod])
    assert sum(len(s.addresses) for s in ep.subsets) == want_ready
    assert sum(len(s.not_ready_addresses) for s in ep.subsets) == want_unready


def test_sync_endpoints_service_not_found() -> None:  # 21
    ns = "default"
    plan = plan_endpoints_sync(None, [], existing_ep(ns, OLD_SUBSETS), namespace=ns, name="foo")
    assert plan.verb == "delete"
    assert plan.endpoints is not None and plan.endpoints.metadata.name == "foo"


@pytest.mark.parametrize("app_protocol", [None, "http"])
def test_endpoint_port_from_service_port(app_protocol: str | None) -> None:  # 25
    service = svc("ns", selector={}, ports=[ServicePort(80, name="foo", protocol="TCP", app_protocol=app_protocol, target_port=8080)])
    (subset,) = endpoint_subsets_for_pod(test_pod("ns", 0, 1, True), service)
    assert subset.ports == (EndpointPort(port=8080, name="foo", protocol="TCP", app_protocol=app_protocol),)


def test_endpoints_carry_no_owner_references_and_keep_other_annotations() -> None:
    ns = "default"
    existing = existing_ep(ns, OLD_SUBSETS, annotations={"team": "blue"})
    ep = endpoints_for(svc(ns, selector={}, ports=[ServicePort(80, target_port=8080)]), add_pods(ns, 1, 1, 0), existing=existing)
    assert ep.metadata.owner_references == ()
    assert ep.metadata.annotations == {"team": "blue"}


def test_annotation_only_changes_do_not_trigger_write() -> None:
    ns = "default"
    service = svc(ns, selector={}, ports=[ServicePort(80, target_port=8080)])
    stored = attrs.evolve(endpoints_for(service, add_pods(ns, 1, 1, 0)), metadata=attrs.evolve(
        endpoints_for(service, add_pods(ns, 1, 1, 0)).metadata, resource_version="7", annotations={"x": "y"}))
    desired = endpoints_for(service, add_pods(ns, 1, 1, 0), existing=stored, trigger_time=TRIGGER_TIME)
    assert not endpoints_need_update(stored, desired, service)


def test_cluster_ip_service_gets_no_headless_label() -> None:
    ns = "default"
    existing = existing_ep(ns, [], labels={LABEL_HEADLESS: "", **MANAGED})
    service = svc(ns, selector={}, cluster_ip="10.0.0.1", ports=[ServicePort(80, target_port=8080)])
    ep = endpoints_for(service, [], existing=existing)
    assert ep.metadata.labels == MANAGED
    # the headless key is ignored by the no-op check
    assert not endpoints_need_update(existing, ep, service)


# ------------------------------------------------------------------------------------------
# ShouldPodBeInEndpoints / ShouldSetHostname / FindPort (controller_utils_test.go)


def _pod(phase: str = "", ips: Sequence[str] = ("1.2.3.4",), pod_ip: str | None = None, deleting: bool = False) -> Pod:
    return Pod(
        metadata=ObjectMeta(name="p", namespace="ns", deletion_timestamp=5 if deleting else None),
        status=PodStatus(phase=phase, pod_ip=ips[0] if ips and pod_ip is None else (pod_ip or ""), pod_ips=[PodIP(i) for i in ips]),
    )


@pytest.mark.parametrize(
    "pod,include_terminating,expected",
    [
        (_pod("Failed"), False, False),
        (_pod("Succeeded"), False, False),
        (_pod("Failed"), True, False),
        (_pod("Running", ips=()), False, False),
        (_pod("Running", ips=(), pod_ip="1.2.3.4"), False, True),
        (_pod("Running"), False, True),
        (_pod("Pending"), False, True),
        (_pod("Unknown"), False, True),
        (_pod("Running", deleting=True), False, False),
        (_pod("Running", deleting=True), True, True),
    ],
)
def test_should_pod_be_in_endpoints(pod: Pod, include_terminating: bool, expected: bool) -> None:
    assert should_pod_be_in_endpoints(pod, include_terminating) is expected


@pytest.mark.parametrize(
    "hostname,subdomain,pod_ns,svc_name,svc_ns,expected",
    [
        ("h", "foo", "ns", "foo", "ns", True),
        ("", "foo", "ns", "foo", "ns", False),
        ("h", "bar", "ns", "foo", "ns", False),
        ("h", "foo", "ns", "foo", "other", False),
        ("h", "", "ns", "foo", "ns", False),
    ],
)
def test_should_set_hostname(hostname: str, subdomain: str, pod_ns: str, svc_name: str, svc_ns: str, expected: bool) -> None:
    pod = Pod(metadata=ObjectMeta(name="p", namespace=pod_ns), spec=PodSpec(hostname=hostname, subdomain=subdomain))
    service = Service(metadata=ObjectMeta(name=svc_name, namespace=svc_ns))
    assert should_set_hostname(pod, service) is expected
    pod = attrs.evolve(pod, status=PodStatus(pod_ip="1.2.3.4", pod_ips=[PodIP("1.2.3.4")]))
    epa = pod_to_endpoint_address(pod, service)
    assert epa is not None and epa.hostname == (hostname if expected else "")


def _find(pod: Pod, sp: ServicePort) -> int | None:
    return find_port(pod, sp.target_port, sp.protocol)


def test_find_port() -> None:
    pod = Pod(
        spec=PodSpec(
            containers=[Container("c", ports=[ContainerPort(93, name="http", protocol="UDP"), ContainerPort(80, name="http")])],
            init_containers=[
                Container("sidecar", ports=[ContainerPort(8443, name="https")], restart_policy="Always"),
                Container("init", ports=[ContainerPort(9000, name="metrics")]),
            ],
        )
    )
    assert _find(pod, ServicePort(1, target_port="http")) == 80
    assert _find(pod, ServicePort(1, target_port="http", protocol="UDP")) == 93
    assert _find(pod, ServicePort(1, target_port="http", protocol="SCTP")) is None
    assert _find(pod, ServicePort(1, target_port="https")) == 8443
    assert _find(pod, ServicePort(1, target_port="metrics")) is None
    assert _find(pod, ServicePort(1, target_port=8080)) == 8080
    assert _find(pod, ServicePort(1)) == 0


def test_unresolvable_named_port_skips_only_that_port() -> None:
    ns = "default"
    service = svc(ns, selector={}, ports=[ServicePort(80, name="a", target_port="port0"), ServicePort(81, name="b", target_port="nope")])
    ep = endpoints_for(service, add_pods(ns, 1, 1, 0))
    assert ep.subsets == (EndpointSubset(addresses=[addr("1.2.3.4", "pod0", ns)], ports=[EndpointPort(port=8080, name="a")]),)


# ------------------------------------------------------------------------------------------
# TestPackSubsets (pkg/api/v1/endpoints/util_test.go)


def A(ip: str, uid: str | None = None, name: str = "") -> EndpointAddress:
    return EndpointAddress(ip=ip, target_ref=None if uid is None else ObjectReference(uid=uid, name=name))


def P(port: int, name: str = "") -> EndpointPort:
    return EndpointPort(port=port, name=name)


def S(addrs: Sequence[EndpointAddress] = (), ports: Sequence[EndpointPort] = (), not_ready: Sequence[EndpointAddress] = ()) -> EndpointSubset:
    return EndpointSubset(addresses=addrs, not_ready_addresses=not_ready, ports=ports)


PACK_CASES = [
    ("empty everything", [S()], []),
    ("empty addresses", [S(ports=[P(111)])], []),
    ("empty ports", [S([A("1.2.3.4")])], [S([A("1.2.3.4")])]),
    ("empty ports, with notReady", [S(not_ready=[A("1.2.3.4")])], [S(not_ready=[A("1.2.3.4")])]),
    ("one set, one ip, one port", [S([A("1.2.3.4")], [P(111)])], [S([A("1.2.3.4")], [P(111)])]),
    ("one set, one ip, one port (IPv6)", [S([A("beef::1:2:3:4")], [P(111)])], [S([A("beef::1:2:3:4")], [P(111)])]),
    ("one set, one notReady ip, one port", [S(not_ready=[A("1.2.3.4")], ports=[P(111)])], [S(not_ready=[A("1.2.3.4")], ports=[P(111)])]),
    ("one set, one ip, one UID, one port", [S([A("1.2.3.4", "uid-1")], [P(111)])], [S([A("1.2.3.4", "uid-1")], [P(111)])]),
    ("one set, one ip, empty UID, one port", [S([A("1.2.3.4", "")], [P(111)])], [S([A("1.2.3.4", "")], [P(111)])]),
    ("one set, two ips, one port", [S([A("1.2.3.4"), A("5.6.7.8")], [P(111)])], [S([A("1.2.3.4"), A("5.6.7.8")], [P(111)])]),
    ("one set, two mixed ips, one port", [S([A("1.2.3.4")], [P(111)], [A("5.6.7.8")])], [S([A("1.2.3.4")], [P(111)], [A("5.6.7.8")])]),
    ("one set, two duplicate ips, one port, notReady is covered by ready", [S([A("1.2.3.4")], [P(111)], [A("1.2.3.4")])], [S(not_ready=[A("1.2.3.4")], ports=[P(111)])]),
    ("one set, one ip, two ports", [S([A("1.2.3.4")], [P(111), P(222)])], [S([A("1.2.3.4")], [P(111), P(222)])]),
    ("one set, dup ips, one port", [S([A("1.2.3.4"), A("1.2.3.4")], [P(111)])], [S([A("1.2.3.4")], [P(111)])]),
    ("one set, dup ips with target-refs, one port", [S([A("1.2.3.4", "uid-1", "one"), A("1.2.3.4", "uid-1", "two")], [P(111)])], [S([A("1.2.3.4", "uid-1", "one")], [P(111)])]),
    ("one set, one ip, dup ports", [S([A("1.2.3.4")], [P(111), P(111)])], [S([A("1.2.3.4")], [P(111)])]),
    ("two sets, dup ip, dup port", [S([A("1.2.3.4")], [P(111)]), S([A("1.2.3.4")], [P(111)])], [S([A("1.2.3.4")], [P(111)])]),
    ("two sets, dup mixed ip, dup port", [S([A("1.2.3.4")], [P(111)]), S(not_ready=[A("1.2.3.4")], ports=[P(111)])], [S(not_ready=[A("1.2.3.4")], ports=[P(111)])]),
    ("two sets, dup ip, two ports", [S([A("1.2.3.4")], [P(111)]), S([A("1.2.3.4")], [P(222)])], [S([A("1.2.3.4")], [P(111), P(222)])]),
    ("two sets, dup ip, dup uids, two ports", [S([A("1.2.3.4", "uid-1")], [P(111)]), S([A("1.2.3.4", "uid-1")], [P(222)])], [S([A("1.2.3.4", "uid-1")], [P(111), P(222)])]),
    ("two sets, dup mixed ip, dup uids, two ports", [S([A("1.2.3.4", "uid-1")], [P(111)]), S(not_ready=[A("1.2.3.4", "uid-1")], ports=[P(222)])], [S([A("1.2.3.4", "uid-1")], [P(111)]), S(not_ready=[A("1.2.3.4", "uid-1")], ports=[P(222)])]),
    ("two sets, two ips, dup port", [S([A("1.2.3.4")], [P(111)]), S([A("5.6.7.8")], [P(111)])], [S([A("1.2.3.4"), A("5.6.7.8")], [P(111)])]),
    ("two sets, dup ip, two uids, dup ports", [S([A("1.2.3.4", "uid-1")], [P(111)]), S([A("1.2.3.4", "uid-2")], [P(111)])], [S([A("1.2.3.4", "uid-1"), A("1.2.3.4", "uid-2")], [P(111)])]),
    ("two sets, dup ip, with and without uid, dup ports", [S([A("1.2.3.4")], [P(111)]), S([A("1.2.3.4", "uid-2")], [P(111)])], [S([A("1.2.3.4"), A("1.2.3.4", "uid-2")], [P(111)])]),
    ("two sets, two ips, two dup ip with uid, dup port, wrong order", [S([A("5.6.7.8")], [P(111)]), S([A("5.6.7.8", "uid-1")], [P(111)]), S([A("1.2.3.4", "uid-1")], [P(111)]), S([A("1.2.3.4")], [P(111)])], [S([A("1.2.3.4"), A("1.2.3.4", "uid-1"), A("5.6.7.8"), A("5.6.7.8", "uid-1")], [P(111)])]),
    ("two sets, two mixed ips, dup port", [S([A("1.2.3.4")], [P(111)]), S(not_ready=[A("5.6.7.8")], ports=[P(111)])], [S([A("1.2.3.4")], [P(111)], [A("5.6.7.8")])]),
    ("two sets, two ips, two ports", [S([A("1.2.3.4")], [P(111)]), S([A("5.6.7.8")], [P(222)])], [S([A("1.2.3.4")], [P(111)]), S([A("5.6.7.8")], [P(222)])]),
    ("four sets, three ips, three ports, jumbled", [S([A("1.2.3.4")], [P(111)]), S([A("1.2.3.5")], [P(222)]), S([A("1.2.3.6")], [P(111)]), S([A("1.2.3.5")], [P(333)])], [S([A("1.2.3.4"), A("1.2.3.6")], [P(111)]), S([A("1.2.3.5")], [P(222), P(333)])]),
    ("four sets, three mixed ips, three ports, jumbled", [S(not_ready=[A("1.2.3.4")], ports=[P(111)]), S(not_ready=[A("1.2.3.5")], ports=[P(222)]), S([A("1.2.3.6")], [P(111)]), S(not_ready=[A("1.2.3.5")], ports=[P(333)])], [S([A("1.2.3.6")], [P(111)], [A("1.2.3.4")]), S(not_ready=[A("1.2.3.5")], ports=[P(222), P(333)])]),
    ("same ip and uid, ready on one port, not ready on another", [S([A("1.2.3.4", "uid-1")], [P(111)], []), S(not_ready=[A("1.2.3.4", "uid-1")], ports=[P(222)])], [S([A("1.2.3.4", "uid-1")], [P(111)]), S(not_ready=[A("1.2.3.4", "uid-1")], ports=[P(222)])]),
    ("byte order of IPs", [S([A("1.2.3.4"), A("1.2.3.10"), A("1.2.3.9")], [P(111)])], [S([A("1.2.3.10"), A("1.2.3.4"), A("1.2.3.9")], [P(111)])]),
    ("port 0 is not listed", [S([A("1.2.3.4")], [P(0)])], [S([A("1.2.3.4")])]),
]


@pytest.mark.parametrize("name,given_,expected", PACK_CASES, ids=[c[0] for c in PACK_CASES])
def test_pack_subsets(name: str, given_: list[EndpointSubset], expected: list[EndpointSubset]) -> None:
    result = repack_subsets(given_)
    assert canon(result) == canon(expected), name
    # kubesim's documented order: ports by (name, port, protocol, appProtocol).
    for s in result:
        assert list(s.ports) == sorted(s.ports, key=lambda p: (p.name, p.port, p.protocol))


def test_pack_subsets_ports_order_and_subset_order_deterministic() -> None:
    subsets = [S([A("9.9.9.9")], [P(333, "c"), P(111, "a")]), S([A("1.1.1.1")], [P(222, "b")])]
    result = repack_subsets(subsets)
    assert [s.addresses[0].ip for s in result] == ["1.1.1.1", "9.9.9.9"]
    assert [p.port for p in result[1].ports] == [111, 333]
    assert repack_subsets(list(reversed(subsets))) == result


def test_endpoint_subsets_equal_ignore_resource_version() -> None:
    base = [S([EndpointAddress("1.2.3.4", target_ref=ObjectReference(kind="Pod", name="p", resource_version="1"))], [P(80)])]
    rv2 = [S([EndpointAddress("1.2.3.4", target_ref=ObjectReference(kind="Pod", name="p", resource_version="2"))], [P(80)])]
    no_rv = [S([EndpointAddress("1.2.3.4", target_ref=ObjectReference(kind="Pod", name="p"))], [P(80)])]
    other_ip = [S([EndpointAddress("1.2.3.5", target_ref=ObjectReference(kind="Pod", name="p", resource_version="1"))], [P(80)])]
    other_port = [S([EndpointAddress("1.2.3.4", target_ref=ObjectReference(kind="Pod", name="p", resource_version="1"))], [P(81)])]
    assert subsets_equal_ignore_resource_version(base, rv2)
    assert subsets_equal_ignore_resource_version(base, no_rv)
    assert not subsets_equal_ignore_resource_version(base, other_ip)
    assert not subsets_equal_ignore_resource_version(base, other_port)
    assert not subsets_equal_ignore_resource_version(base, [])
    assert subsets_equal_ignore_resource_version([], ())


# ------------------------------------------------------------------------------------------
# TestTruncateEndpoints / TestSyncServiceOverCapacity (§1.5)


def _subsets_of(ready: Sequence[int], not_ready: Sequence[int]) -> list[EndpointSubset]:
    out = []
    for n, (r, u) in enumerate(zip(ready, not_ready, strict=True)):
        ra = [EndpointAddress(f"10.{n}.0.{i}") for i in range(r)]
        ua = [EndpointAddress(f"10.{n}.1.{i}") for i in range(u)]
        out.append(EndpointSubset(addresses=ra, not_ready_addresses=ua, ports=[EndpointPort(port=80 + n)]))
    return out


@pytest.mark.parametrize(
    "ready,not_ready,want_ready,want_not_ready,want_truncated",
    [
        ([50, 100, 100, 100, 100], [50, 100, 100, 100, 100], [50, 100, 100, 100, 100], [50, 100, 100, 100, 100], False),
        ([90, 110, 50, 10, 20], [101, 200, 200, 201, 298], [90, 110, 50, 10, 20], [73, 144, 144, 145, 214], True),
        ([205, 400, 402, 400, 693], [100, 200, 200, 200, 300], [98, 191, 192, 191, 328], [0, 0, 0, 0, 0], True),
    ],
)
def test_truncate_endpoints(ready: list[int], not_ready: list[int], want_ready: list[int], want_not_ready: list[int], want_truncated: bool) -> None:
    given_ = _subsets_of(ready, not_ready)
    out, truncated = truncate_subsets(given_)
    assert truncated is want_truncated
    assert [len(s.addresses) for s in out] == want_ready
    assert [len(s.not_ready_addresses) for s in out] == want_not_ready
    for before, after in zip(given_, out, strict=False):  # kept lists are prefixes
        assert after.addresses == before.addresses[: len(after.addresses)]
        assert after.not_ready_addresses == before.not_ready_addresses[: len(after.not_ready_addresses)]
        assert after.ports == before.ports


def _over_capacity_pods(ns: str, n_ready: int, n_not_ready: int) -> list[Pod]:
    return add_pods(ns, n_ready, 1, n_not_ready)


@pytest.mark.parametrize(
    "name,existing_annotation,n_existing,n_ready,n_not_ready,want_annotation,want_ready,want_not_ready",
    [
        ("empty", None, 0, 0, 0, None, 0, 0),
        ("annotation added past capacity, < than maxCapacity of Ready Addresses", None, 0, 997, 4, "truncated", 997, 3),
        ("annotation added past capacity, maxCapacity of Ready Addresses ", None, 0, 1000, 10, "truncated", 1000, 0),
        ("annotation removed below capacity", "truncated", 999, 999, 0, None, 999, 0),
        ("annotation was set to warning previously, annotation removed at capacity", "warning", 1000, 1000, 0, None, 1000, 0),
        ("annotation was set to warning previously but still over capacity", "warning", 1001, 1001, 0, "truncated", 1000, 0),
        ("annotation removed at capacity", "truncated", 1000, 1000, 0, None, 1000, 0),
        ("no endpoints change, annotation value corrected", "invalid", 1001, 1001, 0, "truncated", 1000, 0),
    ],
)
def test_sync_service_over_capacity(
    name: str,
    existing_annotation: str | None,
    n_existing: int,
    n_ready: int,
    n_not_ready: int,
    want_annotation: str | None,
    want_ready: int,
    want_not_ready: int,
) -> None:
    ns = "test"
    service = svc(ns, selector={"foo": "bar"}, ports=[ServicePort(80)])
    annotations = {} if existing_annotation is None else {ANNOTATION_OVER_CAPACITY: existing_annotation}
    existing_subsets = endpoints_for(service, _over_capacity_pods(ns, n_existing, 0), truncate=False).subsets
    existing = existing_ep(ns, existing_subsets, labels=MANAGED, annotations=annotations)
    pods = _over_capacity_pods(ns, n_ready, n_not_ready)
    plan = plan_endpoints_sync(service, pods, existing)
    if n_existing == n_ready == 0:
        assert plan.verb is None, name
        desired = endpoints_for(service, pods, existing=existing)
    else:
        assert plan.verb == "update", name
        assert plan.endpoints is not None
        desired = plan.endpoints
    assert desired.metadata.annotations.get(ANNOTATION_OVER_CAPACITY) == want_annotation, name
    assert sum(len(s.addresses) for s in desired.subsets) == want_ready, name
    assert sum(len(s.not_ready_addresses) for s in desired.subsets) == want_not_ready, name
    # One service port with target 0: a single subset whose ports are empty (§1.3).
    assert all(s.ports == () for s in desired.subsets)


def test_truncated_endpoints_are_rewritten_every_sync() -> None:
    ns = "test"
    service = svc(ns, selector={"foo": "bar"}, ports=[ServicePort(80)])
    pods = _over_capacity_pods(ns, 1001, 0)
    first = endpoints_for(service, pods)
    stored = attrs.evolve(first, metadata=attrs.evolve(first.metadata, resource_version="5"))
    assert endpoints_need_update(stored, endpoints_for(service, pods, existing=stored), service)


def test_pre_1_22_no_truncation() -> None:
    ns = "test"
    service = svc(ns, selector={"foo": "bar"}, ports=[ServicePort(80)])
    pods = _over_capacity_pods(ns, 1001, 5)
    ep = endpoints_for(service, pods, truncate=False)
    assert sum(len(s.addresses) for s in ep.subsets) == 1001
    assert ANNOTATION_OVER_CAPACITY not in ep.metadata.annotations
    stored = attrs.evolve(ep, metadata=attrs.evolve(ep.metadata, resource_version="5"))
    assert not endpoints_need_update(stored, endpoints_for(service, pods, existing=stored, truncate=False), service, truncate=False)


# ------------------------------------------------------------------------------------------
# Trigger time (§1.7): TestLastTriggerChangeTimeAnnotation* and trigger_time_tracker_test.go


def _trigger_service(ns: str, created: int | None) -> Service:
    return svc(ns, selector={}, ports=[ServicePort(80, target_port=8080)], created=created)


@pytest.mark.parametrize(
    "name,existing_annotation,created,want",
    [
        ("set", None, TRIGGER_TIME, "2018-01-01T00:00:00Z"),
        ("overridden", format_trigger_time(OLD_TRIGGER_TIME), TRIGGER_TIME, "2018-01-01T00:00:00Z"),
        ("cleared", format_trigger_time(TRIGGER_TIME), None, None),
    ],
)
def test_last_trigger_change_time_annotation(name: str, existing_annotation: str | None, created: int | None, want: str | None) -> None:
    ns = "other"
    annotations = {} if existing_annotation is None else {ANNOTATION_LAST_CHANGE_TRIGGER_TIME: existing_annotation}
    existing = existing_ep(ns, OLD_SUBSETS, annotations=annotations)
    service = _trigger_service(ns, created)
    pods = add_pods(ns, 1, 1, 0)
    tracker = TriggerTimeTracker()
    trigger = tracker.compute(service, pods)
    plan = plan_endpoints_sync(service, pods, existing, trigger_time=trigger)
    assert plan.verb == "update" and plan.endpoints is not None
    assert plan.endpoints.metadata.annotations.get(ANNOTATION_LAST_CHANGE_TRIGGER_TIME) == want, name
    assert plan.endpoints.metadata.labels == LABELS
    assert plan.endpoints.subsets == (EndpointSubset(addresses=[addr("1.2.3.4", "pod0", ns)], ports=[EndpointPort(port=8080)]),)
    tracker._check()


T0, T1, T2, T3 = 1000, 1001, 1002, 1003


def _ttpod(name: str, ready_at: int | None) -> Pod:
    conds = [] if ready_at is None else [PodCondition("Ready", "True", last_transition_time=ready_at)]
    return Pod(metadata=ObjectMeta(name=name, namespace="ns"), status=PodStatus(conditions=conds))


def _ttsvc(created: int | None = T0) -> Service:
    return Service(metadata=ObjectMeta(name="svc", namespace="ns", creation_timestamp=created))


def test_trigger_new_service_no_pods() -> None:
    assert TriggerTimeTracker().compute(_ttsvc(T2), []) == T2


def test_trigger_new_service_existing_pods() -> None:
    assert TriggerTimeTracker().compute(_ttsvc(T3), [_ttpod("a", T0), _ttpod("b", T1), _ttpod("c", T2)]) == T3


def test_trigger_pods_added() -> None:
    t = TriggerTimeTracker()
    s = _ttsvc(T0)
    assert t.compute(s, []) == T0
    assert t.compute(s, [_ttpod("a", T2), _ttpod("b", T1)]) == T1


def test_trigger_pods_updated() -> None:
    t = TriggerTimeTracker()
    s = _ttsvc(T0)
    assert t.compute(s, [_ttpod("a", T1), _ttpod("b", T1), _ttpod("c", T1)]) == T0
    assert t.compute(s, [_ttpod("a", T1), _ttpod("b", T3), _ttpod("c", T2)]) == T2


def test_trigger_pods_updated_no_op() -> None:
    t = TriggerTimeTracker()
    s = _ttsvc(T0)
    pods = [_ttpod("a", T1), _ttpod("b", T1)]
    assert t.compute(s, pods) == T0
    assert t.compute(s, pods) is None


def test_trigger_pod_deleted_then_added() -> None:
    t = TriggerTimeTracker()
    s = _ttsvc(T0)
    assert t.compute(s, [_ttpod("a", T1), _ttpod("b", T1)]) == T0
    assert t.compute(s, [_ttpod("a", T1)]) is None
    assert t.compute(s, [_ttpod("a", T1), _ttpod("b", T1)]) == T1


def test_trigger_service_deleted_then_added() -> None:
    t = TriggerTimeTracker()
    s = _ttsvc(T0)
    pods = [_ttpod("a", T1), _ttpod("b", T2)]
    assert t.compute(s, pods) == T0
    t.forget("ns/svc")
    assert "ns/svc" not in t
    assert t.compute(_ttsvc(T3), pods) == T3


def test_trigger_service_updated_no_pod_change() -> None:
    t = TriggerTimeTracker()
    s = _ttsvc(T0)
    pods = [_ttpod("a", T1)]
    assert t.compute(s, pods) == T0
    assert t.compute(attrs.evolve(s, spec=ServiceSpec(selector={"x": "y"})), pods) is None


def test_trigger_pod_without_ready_condition_is_zero() -> None:
    t = TriggerTimeTracker()
    s = _ttsvc(T0)
    t.compute(s, [])
    assert t.compute(s, [_ttpod("a", None)]) is None
    t._check()


def test_format_trigger_time_rfc3339nano() -> None:
    assert format_trigger_time(TRIGGER_TIME) == "2018-01-01T00:00:00Z"
    assert format_trigger_time(TRIGGER_TIME + 0.5) == "2018-01-01T00:00:00.5Z"
    assert format_trigger_time(TRIGGER_TIME + 0.000001) == "2018-01-01T00:00:00.000001Z"


# ------------------------------------------------------------------------------------------
# Hypothesis properties

_ips = st.sampled_from([f"10.0.0.{i}" for i in range(1, 12)] + ["10.0.0.100", "fd00::1", "fd00::a"])
_uids = st.sampled_from([None, "", "u1", "u2"])
_addresses = st.builds(lambda ip, uid: A(ip, uid), _ips, _uids)
_ports = st.builds(lambda p, n: EndpointPort(port=p, name=n), st.sampled_from([-1, 0, 80, 443, 8080]), st.sampled_from(["", "a", "b"]))
_subsets = st.lists(
    st.builds(
        lambda a, u, p: EndpointSubset(addresses=a, not_ready_addresses=u, ports=p),
        st.lists(_addresses, max_size=5),
        st.lists(_addresses, max_size=3),
        st.lists(_ports, max_size=3),
    ),
    max_size=5,
)


def _triples(subsets: Iterable[EndpointSubset]) -> dict[tuple[object, ...], bool]:
    """(ip, uid, port) -> ready, with not-ready overriding ready; port-less and port<=0 as None."""
    out: dict[tuple[object, ...], bool] = {}
    for s in subsets:
        ports = [p.port if p.port > 0 else None for p in s.ports] or [None]
        for port in ports:
            for a in s.addresses:
                key = (a.ip, a.target_ref.uid if a.target_ref else "", port)
                out.setdefault(key, True)
            for a in s.not_ready_addresses:
                out[(a.ip, a.target_ref.uid if a.target_ref else "", port)] = False
    return out


_valid_ports = st.builds(lambda p, n: EndpointPort(port=p, name=n), st.sampled_from([80, 443, 8080]), st.sampled_from(["", "a", "b"]))
_valid_subsets = st.lists(
    st.builds(
        lambda a, u, p: EndpointSubset(addresses=a, not_ready_addresses=u, ports=p),
        st.lists(_addresses, max_size=5),
        st.lists(_addresses, max_size=3),
        st.lists(_valid_ports, max_size=3),
    ),
    max_size=5,
)


@given(_valid_subsets)
def test_repack_is_idempotent(subsets: list[EndpointSubset]) -> None:
    # Holds for API-valid ports (1-65535).  With ports <= 0 upstream's RepackSubsets is not
    # idempotent either: a real port 0 and the port-less sentinel are distinct keys on the first
    # pass and both become port-less subsets, which merge on a second pass.
    once = repack_subsets(subsets)
    assert repack_subsets(once) == once


@given(_subsets)
def test_repack_preserves_triples(subsets: list[EndpointSubset]) -> None:
    # (ip, uid, port) -> ready is preserved exactly for listed ports (> 0), with not-ready
    # overriding ready; an address seen only under unlisted ports (<= 0, or none) is kept too.
    packed = repack_subsets(subsets)
    want = _triples(subsets)
    got = _triples(packed)
    assert {k: v for k, v in got.items() if k[2] is not None} == {k: v for k, v in want.items() if k[2] is not None}
    assert {k[:2] for k in got} == {k[:2] for k in want}


@given(_subsets)
def test_repack_sorted_and_unique(subsets: list[EndpointSubset]) -> None:
    for s in repack_subsets(subsets):
        for lst in (s.addresses, s.not_ready_addresses):
            keys = [(a.ip.encode(), a.target_ref is not None, a.target_ref.uid if a.target_ref else "") for a in lst]
            assert keys == sorted(keys)
            assert len({(a.ip, a.target_ref.uid if a.target_ref else "") for a in lst}) == len(lst)
        assert all(p.port > 0 for p in s.ports)
        assert s.addresses or s.not_ready_addresses


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=6),
    st.integers(1, 60),
)
def test_truncation_properties(sizes: list[tuple[int, int]], cap: int) -> None:
    given_ = _subsets_of([r for r, _ in sizes], [u for _, u in sizes])
    out, truncated = truncate_subsets(given_, cap)
    total_in = sum(r + u for r, u in sizes)
    total_ready = sum(r for r, _ in sizes)
    total_out = sum(len(s.addresses) + len(s.not_ready_addresses) for s in out)
    assert truncated == (total_in > cap)
    assert total_out == min(total_in, cap)
    kept_ready = sum(len(s.addresses) for s in out)
    assert kept_ready == min(total_ready, cap)  # ready first
    for before, after in zip(given_, out, strict=False):  # IP-sorted prefixes survive
        assert after.addresses == before.addresses[: len(after.addresses)]
        assert after.not_ready_addresses == before.not_ready_addresses[: len(after.not_ready_addresses)]
