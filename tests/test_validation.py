"""API-server validation: exact messages and field paths, per kind (upstream
pkg/apis/{core,discovery,apps}/validation and apimachinery objectmeta.go)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim.errors import InvalidObject
from kubesim.objects import (
    Container,
    ContainerPort,
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    Endpoint,
    EndpointAddress,
    EndpointHints,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    EndpointSubset,
    ForZone,
    HTTPGetAction,
    LabelSelector,
    Namespace,
    Node,
    NodeSpec,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodIP,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    Probe,
    ReplicaSet,
    ReplicaSetSpec,
    RollingUpdateDeployment,
    Service,
    ServicePort,
    ServiceSpec,
)
from kubesim.validation import validate, validate_errors

SUB = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
       "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
       "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LBL = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
       "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
       "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
D1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
         "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
         "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
RANGE = "must be between 1 and 65535, inclusive"
IPMSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def meta(name: str = "x", **kw: object) -> ObjectMeta:
    return ObjectMeta(name=name, namespace=kw.pop("namespace", "default"), **kw)  # type: ignore[arg-type]


C = Container(name="c", image="nginx")
POD = Pod(metadata=meta("p"), spec=PodSpec(containers=[C]))
SVC = Service(metadata=meta("web"), spec=ServiceSpec(ports=[ServicePort(port=80)], selector={"app": "web"}))
EP = Endpoints(metadata=meta("web"), subsets=[EndpointSubset(addresses=[EndpointAddress(ip="10.0.0.1")],
                                                               ports=[EndpointPort(port=80)])])
ES = EndpointSlice(metadata=meta("web-abc"), address_type="IPv4",
                   endpoints=[Endpoint(addresses=["10.0.0.1"])], ports=[EndpointSlicePort(name="", protocol="TCP", port=80)])
TPL = PodTemplateSpec(metadata=ObjectMeta(labels={"app": "web"}), spec=PodSpec(containers=[C]))
DEP = Deployment(metadata=meta("web"), spec=DeploymentSpec(selector=LabelSelector(match_labels={"app": "web"}), template=TPL))
RS = ReplicaSet(metadata=meta("web-1"), spec=ReplicaSetSpec(selector=LabelSelector(match_labels={"app": "web"}), template=TPL))
NODE = Node(metadata=ObjectMeta(name="node-1"))
NS = Namespace(metadata=ObjectMeta(name="default"))

ev = attrs.evolve


def errs(obj: object, old: object = None) -> list[str]:
    return [str(e) for e in validate_errors(obj, old)]


@pytest.mark.parametrize("obj", [POD, SVC, EP, ES, DEP, RS, NODE, NS])
def test_valid_objects_pass(obj: object) -> None:
    validate(obj)
    validate(obj, obj)


def test_invalid_object_message() -> None:
    bad = ev(SVC, spec=ev(SVC.spec, ports=[ServicePort(port=70000)]))
    with pytest.raises(InvalidObject) as ei:
        validate(bad)
    assert str(ei.value) == 'Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: ' + RANGE
    assert ei.value.fields == ("spec.ports[0].port",)


CASES = [
    # ObjectMeta
    (ev(POD, metadata=meta("Web")), ['metadata.name: Invalid value: "Web": ' + SUB]),
    (ev(POD, metadata=meta("")), ["metadata.name: Required value: name or generateName is required"]),
    (ev(POD, metadata=meta("", generate_name="web-")), []),
    (ev(POD, metadata=meta("", generate_name="Web-")), ['metadata.generateName: Invalid value: "Web-": ' + SUB]),
    (ev(POD, metadata=meta("p", namespace="")), ["metadata.namespace: Required value"]),
    (ev(POD, metadata=meta("p", namespace="Bad")), ['metadata.namespace: Invalid value: "Bad": ' + LBL]),
    (ev(NODE, metadata=ObjectMeta(name="n", namespace="default")), ["metadata.namespace: Forbidden: not allowed on this type"]),
    (ev(POD, metadata=meta("p", labels={"a": "-b"})), ['metadata.labels: Invalid value: "-b": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyValue\',  or \'my_value\',  or \'12345\', regex used for validation is \'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\')']),
    (ev(POD, metadata=meta("p", annotations={"a/b/c": ""})), ["metadata.annotations: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]),
    (ev(POD, metadata=meta("p", annotations={"UPPER.example.com/Key": "v"})), []),  # annotation keys are lower-cased first
    (ev(POD, metadata=meta("p", annotations={"a": "x" * 262144})), ["metadata.annotations: Too long: may not be more than 262144 bytes"]),
    (ev(POD, metadata=meta("p", owner_references=[OwnerReference()])), [
        "metadata.ownerReferences[0].apiVersion: Required value: must not be empty",
        "metadata.ownerReferences[0].kind: Required value: must not be empty",
        "metadata.ownerReferences[0].name: Required value: must not be empty",
        "metadata.ownerReferences[0].uid: Required value: must not be empty"]),
    (ev(POD, metadata=meta("p", owner_references=[OwnerReference("a/b/c", "K", "n", "u")])),
     ['metadata.ownerReferences[0].apiVersion: Invalid value: "a/b/c": must be <group>/<version> or <version>']),
    (ev(POD, metadata=meta("p", finalizers=["foo"])), ['metadata.finalizers: Invalid value: "foo": name is neither a standard finalizer name nor is it fully qualified']),
    # Pod
    (ev(POD, spec=PodSpec()), ["spec.containers: Required value"]),
    (ev(POD, spec=PodSpec(containers=[C, C])), ['spec.containers[1].name: Duplicate value: "c"']),
    (ev(POD, spec=PodSpec(containers=[Container(name="C_1", image="i")])), ['spec.containers[0].name: Invalid value: "C_1": ' + LBL]),
    (ev(POD, spec=PodSpec(containers=[Container(name="c")])), ["spec.containers[0].image: Required value"]),
    (ev(POD, spec=PodSpec(containers=[ev(C, ports=[ContainerPort(70000)])])), ["spec.containers[0].ports[0].containerPort: Invalid value: 70000: " + RANGE]),
    (ev(POD, spec=PodSpec(containers=[ev(C, ports=[ContainerPort(0)])])), ["spec.containers[0].ports[0].containerPort: Required value"]),
    (ev(POD, spec=PodSpec(containers=[ev(C, ports=[ContainerPort(80, name="1234")])])), ['spec.containers[0].ports[0].name: Invalid value: "1234": must contain at least one letter (a-z)']),
    (ev(POD, spec=PodSpec(containers=[ev(C, ports=[ContainerPort(80, name="http"), ContainerPort(81, name="http")])])), ['spec.containers[0].ports[1].name: Duplicate value: "http"']),
    (ev(POD, spec=PodSpec(containers=[ev(C, ports=[ContainerPort(80, protocol="ICMP")])])), ['spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"']),
    (ev(POD, spec=PodSpec(containers=[ev(C, ports=[ContainerPort(80, protocol="")])])), ["spec.containers[0].ports[0].protocol: Required value"]),
    (ev(POD, spec=PodSpec(containers=[ev(C, readiness_probe=Probe(http_get=HTTPGetAction(port=8080), period_seconds=-1))])), ["spec.containers[0].readinessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0"]),
    (ev(POD, spec=PodSpec(containers=[ev(C, readiness_probe=Probe())])), ["spec.containers[0].readinessProbe: Required value: must specify a handler type"]),
    (ev(POD, spec=PodSpec(containers=[ev(C, readiness_probe=Probe(http_get=HTTPGetAction(port="8080")))])), ['spec.containers[0].readinessProbe.httpGet.port: Invalid value: "8080": must contain at least one letter (a-z)']),
    (ev(POD, spec=PodSpec(containers=[ev(C, liveness_probe=Probe(http_get=HTTPGetAction(port=80), success_threshold=2))])), ["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"]),
    (ev(POD, status=PodStatus(pod_ip="10.0.0.256")), ['status.podIPs[0]: Invalid value: "10.0.0.256": ' + IPMSG]),
    (ev(POD, status=PodStatus(pod_ips=[PodIP("10.0.0.1"), PodIP("10.0.0.2")])), ['status.podIPs: Invalid value: [{"IP":"10.0.0.1"},{"IP":"10.0.0.2"}]: may specify no more than one IP for each IP family']),
    (ev(POD, status=PodStatus(pod_ips=[PodIP("10.0.0.1"), PodIP("fd00::1")])), []),
    # Service
    (ev(SVC, metadata=meta("1web")), ['metadata.name: Invalid value: "1web": ' + D1035]),
    (ev(SVC, spec=ServiceSpec()), ["spec.ports: Required value"]),
    (ev(SVC, spec=ServiceSpec(cluster_ip="None")), []),
    (ev(SVC, spec=ServiceSpec(type="ExternalName", external_name="example.com.")), []),
    (ev(SVC, spec=ServiceSpec(type="ExternalName")), ["spec.externalName: Required value"]),
    (ev(SVC, spec=ServiceSpec(type="ExternalName", external_name="Bad_Name")), ['spec.externalName: Invalid value: "Bad_Name": ' + SUB]),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80), ServicePort(81)])), ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80, name="a"), ServicePort(81, name="a")])), ['spec.ports[1].name: Duplicate value: "a"']),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80, target_port=0)])), []),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80, target_port=70000)])), ["spec.ports[0].targetPort: Invalid value: 70000: " + RANGE]),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80, target_port="Http")])), ['spec.ports[0].targetPort: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80, protocol="ICMP")])), ['spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"']),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80)], cluster_ip="10.0.0.300")), ['spec.clusterIPs[0]: Invalid value: "10.0.0.300": ' + IPMSG]),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80)], type="Foo")), ['spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80)], ip_families=["IPv4", "IPv4"])), ['spec.ipFamilies[1]: Duplicate value: "IPv4"']),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80)], ip_families=["IPv5"])), ['spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"']),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80)], traffic_distribution="Nearest")), ['spec.trafficDistribution: Unsupported value: "Nearest": supported values: "PreferClose", "PreferSameZone", "PreferSameNode"']),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80)], internal_traffic_policy="Node")), ['spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"']),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80)], external_traffic_policy="Local")), ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services']),
    (ev(SVC, spec=ServiceSpec(ports=[ServicePort(80)], selector={"-a": "b"})), ["spec.selector: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]),
    # Endpoints (reference §3.1)
    (ev(EP, subsets=[EndpointSubset()]), ["subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"]),
    (ev(EP, subsets=[EndpointSubset(not_ready_addresses=[EndpointAddress(ip="127.0.0.1")])]), ['subsets[0].notReadyAddresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']),
    (ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="0.0.0.0")])]), ['subsets[0].addresses[0].ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)']),
    (ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="169.254.1.1")])]), ['subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)']),
    (ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="224.0.0.1")])]), ['subsets[0].addresses[0].ip: Invalid value: "224.0.0.1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)']),
    (ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="x")])]), ['subsets[0].addresses[0].ip: Invalid value: "x": ' + IPMSG, 'subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address']),
    (ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="10.0.0.1", hostname="a.b")])]), ['subsets[0].addresses[0].hostname: Invalid value: "a.b": must not contain dots']),
    (ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="10.0.0.1", node_name="Node")])]), ['subsets[0].addresses[0].nodeName: Invalid value: "Node": ' + SUB]),
    (ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="10.0.0.1")], ports=[EndpointPort(80), EndpointPort(81, name="b")])]), ["subsets[0].ports[0].name: Required value"]),
    (ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="10.0.0.1")], ports=[EndpointPort(0, protocol="")])]), ["subsets[0].ports[0].port: Invalid value: 0: " + RANGE, "subsets[0].ports[0].protocol: Required value"]),
    # EndpointSlice (reference §3.2)
    (ev(ES, address_type=""), ["addressType: Required value"]),
    (ev(ES, address_type="IP"), ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"']),
    (ev(ES, endpoints=[Endpoint(addresses=["10.0.0.1"])] * 1001), ["endpoints: Too many: 1001: must have at most 1000 items"]),
    (ev(ES, endpoints=[Endpoint(addresses=[])]), ["endpoints[0].addresses: Required value: must contain at least 1 address"]),
    (ev(ES, endpoints=[Endpoint(addresses=[f"10.0.0.{i % 250 + 1}" for i in range(101)])]), ["endpoints[0].addresses: Too many: 101: must have at most 100 items"]),
    (ev(ES, endpoints=[Endpoint(addresses=["fd00::1"])]), ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be an IPv4 address']),
    (ev(ES, address_type="IPv6", endpoints=[Endpoint(addresses=["::1"])]), ['endpoints[0].addresses[0]: Invalid value: "::1": may not be in the loopback range (127.0.0.0/8, ::1/128)']),
    (ev(ES, endpoints=[Endpoint(addresses=["10.0.0.1"], hostname="A")]), ['endpoints[0].hostname: Invalid value: "A": ' + LBL]),
    (ev(ES, endpoints=[Endpoint(addresses=["10.0.0.1"], node_name="N")]), ['endpoints[0].nodeName: Invalid value: "N": ' + SUB]),
    (ev(ES, endpoints=[Endpoint(addresses=["10.0.0.1"], hints=EndpointHints(for_zones=[ForZone("a")] * 9))]), ["endpoints[0].hints.forZones: Too many: 9: must have at most 8 items"]),
    (ev(ES, endpoints=[Endpoint(addresses=["10.0.0.1"], hints=EndpointHints(for_zones=[ForZone("a"), ForZone("a")]))]), ['endpoints[0].hints.forZones[1].name: Duplicate value: "a"']),
    (ev(ES, ports=[EndpointSlicePort(protocol="TCP")] * 20001), ["ports: Too many: 20001: must have at most 20000 items"]),
    (ev(ES, ports=[EndpointSlicePort(protocol="TCP")] * 101), [f'ports[{i}].name: Duplicate value: ""' for i in range(1, 101)]),
    (ev(ES, ports=[EndpointSlicePort(name="a", protocol=None)]), ["ports[0].protocol: Required value"]),
    (ev(ES, ports=[EndpointSlicePort(name="a", protocol="TCP", app_protocol="a/b/c")]), ["ports[0].appProtocol: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]),
    # Deployment / ReplicaSet
    (ev(DEP, spec=ev(DEP.spec, selector=None)), ["spec.selector: Required value", 'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']),
    (ev(DEP, spec=ev(DEP.spec, selector=LabelSelector())), ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]),
    (ev(DEP, spec=ev(DEP.spec, selector=LabelSelector(match_labels={"app": "api"}))), ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']),
    (ev(DEP, spec=ev(DEP.spec, replicas=-1)), ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]),
    (ev(DEP, spec=ev(DEP.spec, min_ready_seconds=-1)), ["spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"]),
    (ev(DEP, spec=ev(DEP.spec, strategy=DeploymentStrategy("RollingUpdate", RollingUpdateDeployment(0, 0)))), ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"]),
    (ev(DEP, spec=ev(DEP.spec, strategy=DeploymentStrategy("RollingUpdate", RollingUpdateDeployment("0%", 0)))), ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0']),
    (ev(DEP, spec=ev(DEP.spec, strategy=DeploymentStrategy("RollingUpdate", RollingUpdateDeployment("110%", 1)))), ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%']),
    (ev(DEP, spec=ev(DEP.spec, strategy=DeploymentStrategy("RollingUpdate", RollingUpdateDeployment(-1, 1)))), ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0"]),
    (ev(DEP, spec=ev(DEP.spec, strategy=DeploymentStrategy("RollingUpdate", RollingUpdateDeployment(1, "x")))), ["spec.strategy.rollingUpdate.maxSurge: Invalid value: \"x\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]),
    (ev(DEP, spec=ev(DEP.spec, strategy=DeploymentStrategy("Recreate", RollingUpdateDeployment(1, 1)))), ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]),
    (ev(RS, spec=ev(RS.spec, replicas=-1)), ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]),
    (ev(RS, spec=ev(RS.spec, template=ev(TPL, spec=ev(TPL.spec, restart_policy="Never")))), ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']),
    # Node / Namespace
    (ev(NODE, spec=NodeSpec(pod_cidrs=["10.0.0.0/24", "x"])), ['spec.podCIDRs[1]: Invalid value: ["10.0.0.0/24","x"]: must be valid CIDR',
                                                             "spec.podCIDRs: Internal error: invalid PodCIDRs. failed to check with dual stack with error:invalid CIDR",
                                                             'spec.podCIDRs: Invalid value: ["10.0.0.0/24","x"]: may specify no more than one CIDR for each IP family']),
    (ev(NODE, spec=NodeSpec(pod_cidrs=["10.0.0.0/24", "fd00::/64"])), []),
    (ev(NS, metadata=ObjectMeta(name="a.b")), ['metadata.name: Invalid value: "a.b": must not contain dots']),
]


@pytest.mark.parametrize("obj,expected", CASES)
def test_rule(obj: object, expected: list[str]) -> None:
    assert errs(obj) == expected


def test_all_errors_reported_at_once() -> None:
    bad = ev(SVC, metadata=meta("Web"), spec=ServiceSpec(ports=[ServicePort(0, protocol="")]))
    with pytest.raises(InvalidObject) as ei:
        validate(bad)
    assert ei.value.fields == ("metadata.name", "spec.ports[0].port", "spec.ports[0].protocol")
    assert str(ei.value).startswith('Service "Web" is invalid: [metadata.name: Invalid value: "Web": ')


def test_update_rules() -> None:
    assert errs(ev(ES, address_type="IPv6", endpoints=[]), ES) == ['addressType: Invalid value: "IPv6": field is immutable']
    assert errs(ev(POD, metadata=meta("q")), POD) == ['metadata.name: Invalid value: "q": field is immutable']
    new_sel = ev(DEP, spec=ev(DEP.spec, selector=LabelSelector(match_labels={"app": "web", "x": "y"}),
                              template=ev(TPL, metadata=ObjectMeta(labels={"app": "web", "x": "y"}))))
    assert errs(new_sel, DEP) == ['spec.selector: Invalid value: {"matchLabels":{"app":"web","x":"y"}}: field is immutable']
    # nodeName changes on Endpoints updates are allowed (newer ValidateEndpointsUpdate)
    moved = ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="10.0.0.1", node_name="b")])])
    was = ev(EP, subsets=[EndpointSubset(addresses=[EndpointAddress(ip="10.0.0.1", node_name="a")])])
    assert errs(moved, was) == []


# properties: valid objects pass
_dns_label = st.from_regex(r"[a-z]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_ipv4 = st.tuples(st.integers(1, 126), st.integers(0, 255), st.integers(0, 255), st.integers(1, 254)).map(lambda t: ".".join(map(str, t)))


@given(_dns_label, st.lists(_ipv4, min_size=1, max_size=5), st.lists(st.integers(1, 65535), min_size=1, max_size=3, unique=True))
def test_valid_slices_and_endpoints_pass(name: str, ips: list[str], ports: list[int]) -> None:
    es = EndpointSlice(metadata=meta(name), address_type="IPv4",
                       endpoints=[Endpoint(addresses=[ip]) for ip in ips],
                       ports=[EndpointSlicePort(name=f"p{i}", protocol="TCP", port=p) for i, p in enumerate(ports)])
    validate(es)
    ep = Endpoints(metadata=meta(name), subsets=[EndpointSubset(addresses=[EndpointAddress(ip=ip) for ip in ips],
                                                                ports=[EndpointPort(p, name=f"p{i}") for i, p in enumerate(ports)])])
    validate(ep)


@given(_dns_label, st.dictionaries(_dns_label, _dns_label, min_size=1, max_size=4), st.integers(0, 50))
def test_valid_services_and_deployments_pass(name: str, labels: dict[str, str], replicas: int) -> None:
    validate(Service(metadata=meta(name), spec=ServiceSpec(ports=[ServicePort(80)], selector=labels)))
    tpl = PodTemplateSpec(metadata=ObjectMeta(labels=labels), spec=PodSpec(containers=[C]))
    validate(Deployment(metadata=meta(name), spec=DeploymentSpec(selector=LabelSelector(match_labels=labels), template=tpl, replicas=replicas)))
