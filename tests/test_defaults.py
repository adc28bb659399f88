"""Tests for kubesim.defaults: the API server's SetDefaults_* for kubesim's kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from kubesim import objects as o
from kubesim.defaults import apply_defaults, pod_level_defaults_apply
from kubesim.errors import InvalidOption
from kubesim.manifests import from_manifest, load_yaml

MANIFESTS = Path(__file__).resolve().parent.parent / "examples" / "manifests"

try:
    from tests import strategies as S
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    import strategies as S  # type: ignore[no-redef]


@given(S.any_object())
def test_idempotent(x: Any) -> None:
    d = apply_defaults(x)
    assert apply_defaults(d) == d
    assert type(d) is type(x)


@given(S.any_object())
def test_idempotent_on_dual_stack_clusters(x: Any) -> None:
    d = apply_defaults(x, ip_families=("IPv6", "IPv4"))
    assert apply_defaults(d, ip_families=("IPv6", "IPv4")) == d


def _svc(**spec: Any) -> o.Service:
    return from_manifest({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                          "spec": spec})


def test_service_defaults() -> None:
    s = apply_defaults(_svc(selector={"app": "a"}, ports=[{"port": 80}, {"port": 81, "targetPort": "web"}]))
    assert s.spec.type == "ClusterIP"
    assert s.spec.session_affinity == "None"
    assert s.spec.internal_traffic_policy == "Cluster"
    assert s.spec.external_traffic_policy == ""
    assert [(p.protocol, p.target_port) for p in s.spec.ports] == [("TCP", 80), ("TCP", "web")]
    assert s.spec.ip_family_policy == "SingleStack"
    assert s.spec.ip_families == ("IPv4",)


def test_service_empty_string_target_port_defaults_to_port() -> None:
    s = apply_defaults(_svc(ports=[{"port": 8080, "targetPort": ""}]))
    assert s.spec.ports[0].target_port == 8080


@pytest.mark.parametrize("svc_type", ["NodePort", "LoadBalancer"])
def test_external_traffic_policy_for_externally_accessible_types(svc_type: str) -> None:
    s = apply_defaults(_svc(type=svc_type, ports=[{"port": 80}]))
    assert s.spec.external_traffic_policy == "Cluster"
    assert s.spec.internal_traffic_policy == "Cluster"
    local = apply_defaults(_svc(type=svc_type, externalTrafficPolicy="Local"))
    assert local.spec.external_traffic_policy == "Local"


def test_external_name_gets_no_ip_fields_or_internal_policy() -> None:
    s = apply_defaults(_svc(type="ExternalName", externalName="db.example.com"))
    assert s.spec.internal_traffic_policy is None
    assert s.spec.ip_family_policy is None and s.spec.ip_families == ()
    assert s.spec.session_affinity == "None"


def test_cluster_ips_follow_cluster_ip_and_families_are_inferred() -> None:
    s = apply_defaults(_svc(clusterIP="fd00::10", selector={"a": "b"}))
    assert s.spec.cluster_ips == ("fd00::10",)
    assert s.spec.ip_families == ("IPv6",)
    assert s.spec.ip_family_policy == "SingleStack"


def test_headless_with_selector_is_single_stack() -> None:
    s = apply_defaults(_svc(clusterIP="None", selector={"a": "b"}))
    assert s.spec.cluster_ips == ("None",)
    assert s.spec.ip_family_policy == "SingleStack"
    assert s.spec.ip_families == ("IPv4",)


def test_headless_selectorless_is_require_dual_stack() -> None:
    # alloc.go initIPFamilyFields: headless + selectorless defaults to dual, on any cluster
    s = apply_defaults(_svc(clusterIP="None"))
    assert s.spec.ip_family_policy == "RequireDualStack"
    assert s.spec.ip_families == ("IPv4", "IPv6")
    s6 = apply_defaults(_svc(clusterIP="None"), ip_families=("IPv6",))
    assert s6.spec.ip_families == ("IPv6", "IPv4")


def test_prefer_dual_stack_on_dual_stack_cluster_gets_both_families() -> None:
    s = apply_defaults(_svc(ipFamilyPolicy="PreferDualStack", selector={"a": "b"}),
                       ip_families=("IPv4", "IPv6"))
    assert s.spec.ip_families == ("IPv4", "IPv6")
    single = apply_defaults(_svc(ipFamilyPolicy="PreferDualStack", selector={"a": "b"}))
    assert single.spec.ip_families == ("IPv4",)


def test_explicit_service_values_are_kept() -> None:
    s = apply_defaults(_svc(type="NodePort", sessionAffinity="ClientIP",
                            internalTrafficPolicy="Local", ipFamilyPolicy="SingleStack",
                            ipFamilies=["IPv6"], ports=[{"port": 53, "protocol": "UDP",
                                                          "targetPort": 5353}]))
    assert s.spec.session_affinity == "ClientIP"
    assert s.spec.internal_traffic_policy == "Local"
    assert s.spec.ip_families == ("IPv6",)
    assert (s.spec.ports[0].protocol, s.spec.ports[0].target_port) == ("UDP", 5353)


def test_pod_defaults() -> None:
    pod = from_manifest({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                         "spec": {"containers": [{
                             "name": "c", "ports": [{"containerPort": 80}],
                             "readinessProbe": {"httpGet": {"port": 80}},
                             "livenessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 3},
                             "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "1Gi"}},
                         }], "initContainers": [{"name": "i", "ports": [{"containerPort": 9}]}]}})
    d = apply_defaults(pod)
    assert d.spec.restart_policy == "Always"
    assert d.spec.termination_grace_period_seconds == 30
    assert d.spec.scheduler_name == "default-scheduler"
    c = d.spec.containers[0]
    assert c.ports[0].protocol == "TCP"
    assert d.spec.init_containers[0].ports[0].protocol == "TCP"
    r = c.readiness_probe
    assert (r.timeout_seconds, r.period_seconds, r.success_threshold, r.failure_threshold) == (1, 10, 1, 3)
    assert (r.http_get.path, r.http_get.scheme) == ("/", "HTTP")
    assert c.liveness_probe.period_seconds == 3
    # SetDefaults_Pod: requests default to limits (per resource), for Pods only
    assert c.resources.requests == {"cpu": "1", "memory": "1Gi"}


def test_explicit_pod_values_are_kept() -> None:
    pod = o.Pod(spec=o.PodSpec(restart_policy="Never", termination_grace_period_seconds=0,
                               scheduler_name="mine",
                               containers=[o.Container("c", ports=[o.ContainerPort(53, protocol="UDP")])]))
    d = apply_defaults(pod)
    assert (d.spec.restart_policy, d.spec.termination_grace_period_seconds, d.spec.scheduler_name) == (
        "Never", 0, "mine")
    assert d.spec.containers[0].ports[0].protocol == "UDP"


def test_host_network_port_zero_is_unset() -> None:
    # defaultHostNetworkPorts tests HostPort == 0: a hostNetwork pod's port with host port 0
    # (the Python API) or none (a manifest's 0 decodes to None) gets its container port
    for host_port in (0, None):
        port = o.ContainerPort(container_port=80, host_port=host_port)
        spec = o.PodSpec(host_network=True, containers=(o.Container("c", image="x", ports=(port,)),))
        assert pod_level_defaults_apply(spec)
        pod = apply_defaults(o.Pod(o.ObjectMeta(name="p"), spec))
        assert pod.spec.containers[0].ports[0].host_port == 80
    kept = o.ContainerPort(container_port=80, host_port=8080)
    spec = o.PodSpec(host_network=True, containers=(o.Container("c", image="x", ports=(kept,)),))
    assert apply_defaults(o.Pod(o.ObjectMeta(name="p"), spec)).spec.containers[0].ports[0].host_port == 8080
    pod = apply_defaults(from_manifest({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q"}, "spec": {
        "hostNetwork": True, "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 0}]}]}}))
    assert pod.spec.containers[0].ports[0].host_port == 80


def test_deployment_defaults_and_template() -> None:
    [dep] = load_yaml((MANIFESTS / "nginx-deployment.yaml").read_text())
    d = apply_defaults(dep)
    assert d.spec.replicas == 2  # kept
    assert d.spec.strategy == o.DeploymentStrategy(
        type="RollingUpdate",
        rolling_update=o.RollingUpdateDeployment(max_unavailable="25%", max_surge="25%"))
    assert d.spec.revision_history_limit == 10
    assert d.spec.progress_deadline_seconds == 600
    spec = d.spec.template.spec
    assert (spec.restart_policy, spec.termination_grace_period_seconds, spec.scheduler_name) == (
        "Always", 30, "default-scheduler")
    assert spec.containers[0].ports[0].protocol == "TCP"
    bare = apply_defaults(from_manifest({"apiVersion": "apps/v1", "kind": "Deployment"}))
    assert bare.spec.replicas == 1


def test_deployment_templates_do_not_get_pod_only_defaults() -> None:
    dep = o.Deployment(spec=o.DeploymentSpec(template=o.PodTemplateSpec(spec=o.PodSpec(
        containers=[o.Container("c", resources=o.ResourceRequirements(limits={"cpu": "1"}))]))))
    d = apply_defaults(dep)
    assert d.spec.template.spec.containers[0].resources.requests == {}


def test_recreate_strategy_gets_no_rolling_update() -> None:
    dep = o.Deployment(spec=o.DeploymentSpec(strategy=o.DeploymentStrategy(type="Recreate")))
    assert apply_defaults(dep).spec.strategy == o.DeploymentStrategy(type="Recreate")
    partial = o.Deployment(spec=o.DeploymentSpec(strategy=o.DeploymentStrategy(
        rolling_update=o.RollingUpdateDeployment(max_surge=0))))
    ru = apply_defaults(partial).spec.strategy.rolling_update
    assert (ru.max_surge, ru.max_unavailable) == (0, "25%")


def test_replica_set_defaults() -> None:
    rs = apply_defaults(from_manifest({"apiVersion": "apps/v1", "kind": "ReplicaSet"}))
    assert rs.spec.replicas == 1
    assert rs.spec.template.spec.restart_policy == "Always"
    zero = apply_defaults(o.ReplicaSet(spec=o.ReplicaSetSpec(replicas=0)))
    assert zero.spec.replicas == 0


def test_endpoints_port_protocol() -> None:
    [_, ep] = load_yaml((MANIFESTS / "external-database.yaml").read_text())
    d = apply_defaults(ep)
    assert d.subsets[0].ports[0].protocol == "TCP"
    assert d.subsets[0].addresses == ep.subsets[0].addresses


def test_endpoint_slice_ports() -> None:
    s = o.EndpointSlice(address_type="IPv4", ports=[o.EndpointSlicePort(port=80),
                                                    o.EndpointSlicePort(name="x", protocol="UDP")])
    d = apply_defaults(s)
    assert d.ports == (o.EndpointSlicePort(name="", protocol="TCP", port=80),
                       o.EndpointSlicePort(name="x", protocol="UDP"))


def test_namespace_name_label() -> None:
    ns = apply_defaults(o.Namespace(o.ObjectMeta(name="prod", labels={"team": "a"})))
    assert ns.metadata.labels == {"team": "a", "kubernetes.io/metadata.name": "prod"}
    unnamed = o.Namespace(o.ObjectMeta(generate_name="ns-"))
    assert apply_defaults(unnamed) is unnamed


def test_node_allocatable_defaults_to_capacity() -> None:
    n = apply_defaults(o.Node(status=o.NodeStatus(capacity={"cpu": "4"})))
    assert n.status.allocatable == {"cpu": "4"}
    kept = apply_defaults(o.Node(status=o.NodeStatus(capacity={"cpu": "4"}, allocatable={"cpu": "3"})))
    assert kept.status.allocatable == {"cpu": "3"}


def test_unchanged_objects_are_returned_as_is() -> None:
    s = apply_defaults(_svc(selector={"a": "b"}, ports=[{"port": 80}]))
    assert apply_defaults(s) is s


def test_bad_arguments() -> None:
    with pytest.raises(InvalidOption):
        apply_defaults(o.Service(), ip_families=("IPv4", "IPv4"))
    with pytest.raises(InvalidOption):
        apply_defaults(o.Service(), ip_families=())
    with pytest.raises(TypeError):
        apply_defaults(o.ObjectMeta())


def test_pods_of_one_spec_are_defaulted_once() -> None:
    # a ReplicaSet's Pods share their template's spec: the Pod-level defaulting of it is
    # memoised by identity (one defaulted spec, shared), and pod_level_defaults_apply reads
    # the same memo
    limits = o.ResourceRequirements(limits={"cpu": "1"})
    spec = o.PodSpec(containers=(o.Container("c", image="x", resources=limits),))
    a = apply_defaults(o.Pod(o.ObjectMeta(name="a"), spec))
    b = apply_defaults(o.Pod(o.ObjectMeta(name="b"), spec))
    assert a.spec is b.spec and a.spec.containers[0].resources.requests == {"cpu": "1"}
    assert pod_level_defaults_apply(spec) and not pod_level_defaults_apply(a.spec)
