"""Tests of cluster DNS (:mod:`kubesim.dns`): CoreDNS ``kubernetes`` plugin answers, seen
through a pod's search path.

Expectations follow CoreDNS's own tests (``plugin/kubernetes/handler_test.go``: ClusterIP,
headless, endpoint names, SRV weights, ExternalName CNAME, NXDOMAIN vs NODATA) and the
Kubernetes DNS specification (``kubernetes/dns`` ``docs/specification.md``). The cluster runs
only the endpoint controllers; Pods are written directly with IP, node and Ready condition, and
every expected address is read from the Pod or Service objects, never from the resolver.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from kubesim.cluster import Cluster
from kubesim.dns import Answer, endpoint_hostname, resolve, search_names
from kubesim.errors import InvalidOption, NXDomain
from kubesim.objects import (
    Container,
    Endpoint,
    EndpointConditions,
    EndpointSlice,
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

CONTROLLERS = ["endpointslice", "endpoint", "garbagecollector"]


def cluster(**kw: Any) -> Cluster:
    kw.setdefault("controllers", CONTROLLERS)
    return Cluster(seed=0, nodes=3, **kw)


def make_pod(i: int, *, ready: bool = True, app: str = "web", ns: str = "default", ips: Iterable[str] | None = None,
             hostname: str = "", subdomain: str = "") -> Pod:
    ip_list = tuple(ips) if ips is not None else (f"10.244.1.{i + 10}",)
    return Pod(
        metadata=ObjectMeta(name=f"{app}-{i}", namespace=ns, labels={"app": app}),
        spec=PodSpec(containers=(Container(name="c", image="nginx"),), node_name="node-1",
                     hostname=hostname, subdomain=subdomain),
        status=PodStatus(
            phase="Running",
            conditions=(PodCondition("Ready", "True" if ready else "False"),),
            pod_ip=ip_list[0],
            pod_ips=tuple(PodIP(x) for x in ip_list),
        ),
    )


def make_service(name: str = "web", *, app: str = "web", ns: str = "default", **spec: Any) -> Service:
    spec.setdefault("selector", {"app": app})
    spec.setdefault("ports", (ServicePort(port=80, name="http", target_port=8080),))
    return Service(metadata=ObjectMeta(name=name, namespace=ns), spec=ServiceSpec(**spec))


def ips_of(cl: Cluster, names: Iterable[str], ns: str = "default") -> list[str]:
    import ipaddress

    return sorted((cl.get("Pod", n, ns).status.pod_ip for n in names), key=lambda s: int(ipaddress.ip_address(s)))


@pytest.fixture()
def cl() -> Cluster:
    c = cluster()
    for i in range(3):
        c.create(make_pod(i))
    c.create(make_service())
    c.run()
    return c


# ------------------------------------------------------------------------------------ search path


def test_search_names_ndots() -> None:
    assert search_names("web", "prod") == [
        "web.prod.svc.cluster.local", "web.svc.cluster.local", "web.cluster.local", "web",
    ]
    # fewer than 5 dots: the search list first, even for a full service name
    assert search_names("web.default.svc.cluster.local")[-1] == "web.default.svc.cluster.local"
    # 5 dots or more: as given first
    assert search_names("a.web.default.svc.cluster.local")[0] == "a.web.default.svc.cluster.local"
    # a trailing dot: only as given
    assert search_names("Web.Default.svc.cluster.local.") == ["web.default.svc.cluster.local"]


# ------------------------------------------------------------------------------------ ClusterIP


@pytest.mark.parametrize("name", ["web", "web.default", "web.default.svc", "web.default.svc.cluster.local",
                                  "web.default.svc.cluster.local.", "WEB.Default"])
def test_cluster_ip_name_forms(cl: Cluster, name: str) -> None:
    ip = cl.get("Service", "web").spec.cluster_ip
    assert resolve(cl.api, name) == Answer("web.default.svc.cluster.local", "A", (ip,))


def test_cluster_ip_from_another_namespace(cl: Cluster) -> None:
    ip = cl.get("Service", "web").spec.cluster_ip
    assert resolve(cl.api, "web.default", namespace="other").records == (ip,)
    with pytest.raises(NXDomain) as exc:
        resolve(cl.api, "web", namespace="other")
    assert str(exc.value).startswith("NXDOMAIN: web.other.svc.cluster.local")


def test_cluster_ip_answers_even_without_endpoints() -> None:
    c = cluster()
    c.create(make_service())
    c.run()
    assert resolve(c.api, "web").records == (c.get("Service", "web").spec.cluster_ip,)


def test_aaaa_of_ipv4_service_is_nodata(cl: Cluster) -> None:
    assert resolve(cl.api, "web", record="AAAA") == Answer("web.default.svc.cluster.local", "AAAA", ())


def test_dual_stack_a_and_aaaa() -> None:
    c = cluster(dual_stack=True)
    c.create(make_service(ip_families=("IPv4", "IPv6"), ip_family_policy="RequireDualStack"))
    c.run()
    v4, v6 = c.get("Service", "web").spec.cluster_ips
    assert resolve(c.api, "web").records == (v4,)
    assert resolve(c.api, "web", record="AAAA") == Answer("web.default.svc.cluster.local", "AAAA", (v6,))


def test_ipv6_only_service_a_is_nodata() -> None:
    c = cluster(dual_stack=True)
    c.create(make_service(ip_families=("IPv6",), ip_family_policy="SingleStack"))
    c.run()
    assert resolve(c.api, "web").records == ()
    assert resolve(c.api, "web", record="AAAA").records == (c.get("Service", "web").spec.cluster_ip,)


def test_cname_query_on_cluster_ip_is_nodata(cl: Cluster) -> None:
    assert resolve(cl.api, "web", record="cname").records == ()


# ------------------------------------------------------------------------------------ headless


def headless(*, publish: bool = False, pods: Iterable[Pod] = ()) -> Cluster:
    c = cluster()
    for p in pods:
        c.create(p)
    c.create(make_service(cluster_ip="None", publish_not_ready_addresses=publish))
    c.run()
    return c


def test_headless_answers_ready_endpoints() -> None:
    c = headless(pods=[make_pod(0), make_pod(1), make_pod(2, ready=False)])
    assert resolve(c.api, "web") == Answer("web.default.svc.cluster.local", "A", tuple(ips_of(c, ["web-0", "web-1"])))


def test_headless_publish_not_ready_addresses() -> None:
    c = headless(publish=True, pods=[make_pod(0), make_pod(1, ready=False)])
    assert resolve(c.api, "web").records == tuple(ips_of(c, ["web-0", "web-1"]))


def test_headless_without_ready_endpoints_is_nxdomain() -> None:
    c = headless(pods=[make_pod(0, ready=False)])
    with pytest.raises(NXDomain, match="NXDOMAIN: web.default.svc.cluster.local"):
        resolve(c.api, "web")


def test_headless_terminating_endpoints_not_published() -> None:
    c = headless(pods=[make_pod(0), make_pod(1)])
    c.delete("Pod", "web-1")  # graceful: terminating, so ready=false in the slice
    c.run()
    assert resolve(c.api, "web").records == tuple(ips_of(c, ["web-0"]))


def test_headless_ipv6_aaaa() -> None:
    c = cluster(dual_stack=True)
    c.create(make_pod(0, ips=["10.244.1.10", "fd00:10:244:1:0:0:0:a"]))
    c.create(make_service(cluster_ip="None", ip_families=("IPv4", "IPv6"), ip_family_policy="RequireDualStack"))
    c.run()
    assert resolve(c.api, "web").records == ("10.244.1.10",)
    assert resolve(c.api, "web", record="AAAA").records == ("fd00:10:244:1::a",)


def test_headless_selectorless_with_hand_written_slice() -> None:
    c = cluster()
    c.create(make_service(selector=None, cluster_ip="None"))
    c.create(EndpointSlice(
        metadata=ObjectMeta(name="web-1", namespace="default", labels={"kubernetes.io/service-name": "web"}),
        address_type="IPv4",
        endpoints=(Endpoint(addresses=("192.0.2.7",)),  # conditions nil: ready
                   Endpoint(addresses=("192.0.2.8",), conditions=EndpointConditions(ready=False))),
        ports=(),
    ))
    c.run()
    assert resolve(c.api, "web").records == ("192.0.2.7",)
    assert resolve(c.api, "web", record="SRV").records == ()  # no ports: NODATA for SRV


def test_pod_hostname_and_subdomain() -> None:
    pods = [make_pod(i, hostname=f"web-{i}", subdomain="web") for i in range(2)]
    pods.append(make_pod(2, hostname="other-2", subdomain="elsewhere"))  # subdomain not this Service
    c = headless(pods=pods)
    for i in range(2):
        ans = resolve(c.api, f"web-{i}.web.default.svc.cluster.local")
        assert ans == Answer(f"web-{i}.web.default.svc.cluster.local", "A", tuple(ips_of(c, [f"web-{i}"])))
    assert resolve(c.api, "web-0.web").records == tuple(ips_of(c, ["web-0"]))  # via the search path
    with pytest.raises(NXDomain):
        resolve(c.api, "other-2.web.default.svc.cluster.local")
    # a pod without a published hostname is named by its dashed IP
    ip2 = c.get("Pod", "web-2").status.pod_ip
    dashed = ip2.replace(".", "-")
    assert resolve(c.api, f"{dashed}.web.default.svc.cluster.local").records == (ip2,)


def test_endpoint_names_of_a_cluster_ip_service(cl: Cluster) -> None:
    ip = cl.get("Pod", "web-1").status.pod_ip
    assert resolve(cl.api, f"{ip.replace('.', '-')}.web.default.svc.cluster.local").records == (ip,)
    with pytest.raises(NXDomain):
        resolve(cl.api, "10-9-9-9.web.default.svc.cluster.local")


def test_endpoint_hostname() -> None:
    assert endpoint_hostname("10.244.1.5", None) == "10-244-1-5"
    assert endpoint_hostname("fd00:10:244:1::5", None) == "fd00-10-244-1--5"
    assert endpoint_hostname("10.244.1.5", "web-0") == "web-0"


# ------------------------------------------------------------------------------------ SRV


def test_srv_cluster_ip(cl: Cluster) -> None:
    want = Answer("_http._tcp.web.default.svc.cluster.local", "SRV", ("0 100 80 web.default.svc.cluster.local.",))
    assert resolve(cl.api, "_http._tcp.web.default.svc.cluster.local", record="SRV") == want
    assert resolve(cl.api, "_http._tcp.web", record="SRV").records == want.records


def test_srv_two_ports_bare_name_lists_both() -> None:
    c = cluster()
    c.create(make_service(ports=(ServicePort(port=80, name="http"), ServicePort(port=443, name="https"))))
    c.run()
    assert resolve(c.api, "web", record="SRV").records == (
        "0 50 80 web.default.svc.cluster.local.", "0 50 443 web.default.svc.cluster.local.",
    )
    assert resolve(c.api, "_https._tcp.web", record="SRV").records == ("0 100 443 web.default.svc.cluster.local.",)


def test_srv_unknown_port_or_protocol_is_nxdomain(cl: Cluster) -> None:
    for name in ("_grpc._tcp.web.default.svc.cluster.local", "_http._udp.web.default.svc.cluster.local"):
        with pytest.raises(NXDomain, match=f"NXDOMAIN: {name}"):
            resolve(cl.api, name + ".", record="SRV")


def test_srv_headless_targets_endpoint_names() -> None:
    pods = [make_pod(i, hostname=f"web-{i}", subdomain="web") for i in range(3)]
    c = headless(pods=pods)
    ans = resolve(c.api, "_http._tcp.web.default.svc.cluster.local", record="SRV")
    # weight floor(100 / 3) = 33 for each of the three records; port is the endpoint's port
    assert ans.records == tuple(f"0 33 8080 web-{i}.web.default.svc.cluster.local." for i in range(3))


# ------------------------------------------------------------------------------------ ExternalName


def external(name: str = "db", target: str = "db.example.com") -> Cluster:
    c = cluster()
    c.create(Service(metadata=ObjectMeta(name=name, namespace="default"),
                     spec=ServiceSpec(type="ExternalName", external_name=target)))
    c.run()
    return c


@pytest.mark.parametrize("record", ["A", "AAAA", "CNAME"])
def test_external_name_cname(record: str) -> None:
    c = external()
    assert resolve(c.api, "db", record=record) == Answer("db.default.svc.cluster.local", "CNAME", ("db.example.com.",))


def test_external_name_has_no_endpoint_names() -> None:
    c = external()
    with pytest.raises(NXDomain):
        resolve(c.api, "x.db.default.svc.cluster.local")


def test_external_name_ip_is_not_served() -> None:
    c = external(target="192.0.2.10")
    with pytest.raises(NXDomain):
        resolve(c.api, "db")


# ------------------------------------------------------------------------------------ other names


def test_unknown_service_is_nxdomain_with_dig_like_message(cl: Cluster) -> None:
    with pytest.raises(NXDomain) as exc:
        resolve(cl.api, "nope.default.svc.cluster.local.")
    assert str(exc.value) == "NXDOMAIN: nope.default.svc.cluster.local"


def test_namespace_and_zone_apex_are_nodata(cl: Cluster) -> None:
    assert resolve(cl.api, "default.svc.cluster.local.").records == ()
    assert resolve(cl.api, "svc.cluster.local.").records == ()
    assert resolve(cl.api, "cluster.local.").records == ()


def test_unknown_namespace_and_bad_shapes_are_nxdomain(cl: Cluster) -> None:
    for name in ("nosuchns.svc.cluster.local.", "web.nosuchns.svc.cluster.local.",
                 "a.b.c.web.default.svc.cluster.local.", "web.default.foo.cluster.local.", "example.com."):
        with pytest.raises(NXDomain):
            resolve(cl.api, name)


def test_pod_records_insecure(cl: Cluster) -> None:
    assert resolve(cl.api, "10-244-1-10.default.pod.cluster.local.").records == ("10.244.1.10",)
    assert resolve(cl.api, "fd00--1.default.pod.cluster.local.", record="AAAA").records == ("fd00::1",)
    with pytest.raises(NXDomain):
        resolve(cl.api, "not-an-ip.default.pod.cluster.local.")


def test_search_continues_past_nodata_to_an_answer() -> None:
    # glibc moves on after NODATA as after NXDOMAIN. From namespace "default", "web.prod" is first
    # web.prod.default.svc.cluster.local: endpoint "web" of headless Service "prod" in "default",
    # which has only an IPv4 address (AAAA: NODATA); then web.prod.svc.cluster.local: Service
    # "web" in namespace "prod", IPv6-only (AAAA: answer).
    c = cluster(dual_stack=True)
    c.create(make_pod(0, app="x", hostname="web", subdomain="prod"))
    c.create(make_service("prod", app="x", cluster_ip="None"))
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}})
    c.create(make_service("web", ns="prod", ip_families=("IPv6",), ip_family_policy="SingleStack"))
    c.run()
    v6 = c.get("Service", "web", "prod").spec.cluster_ip
    pod_ip = c.get("Pod", "x-0").status.pod_ip
    assert resolve(c.api, "web.prod", record="AAAA") == Answer("web.prod.svc.cluster.local", "AAAA", (v6,))
    assert resolve(c.api, "web.prod", record="A") == Answer("web.prod.default.svc.cluster.local", "A", (pod_ip,))


def test_search_returns_nodata_when_nothing_answers(cl: Cluster) -> None:
    # default.x.svc... (no namespace x): NXDOMAIN; default.svc.cluster.local (a namespace): NODATA
    assert resolve(cl.api, "default", namespace="x") == Answer("default.svc.cluster.local", "A", ())


def test_bad_record_type(cl: Cluster) -> None:
    with pytest.raises(InvalidOption, match="record must be one of"):
        resolve(cl.api, "web", record="MX")


def test_answer_str_is_dig_answer_section(cl: Cluster) -> None:
    ip = cl.get("Service", "web").spec.cluster_ip
    assert str(resolve(cl.api, "web")) == f"web.default.svc.cluster.local.\t30\tIN\tA\t{ip}"


def test_resolve_does_not_write(cl: Cluster) -> None:
    n = len(cl.changes)
    resolve(cl.api, "web")
    assert len(cl.changes) == n


def test_doctests() -> None:
    import doctest

    import kubesim.dns

    assert doctest.testmod(kubesim.dns).failed == 0
