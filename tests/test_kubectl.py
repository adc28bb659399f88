"""kubectl get/describe text, checked against what upstream kubectl prints.

Expected tables are written by hand from upstream's printers (``printers.go``), tableprinter
(tabwriter, padding 3) and ``duration.HumanDuration``'s own test table.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim.errors import KubectlError, NotFound
from kubesim.kubectl import human_duration, kubectl, resolve_resource, run, tabwrite
from kubesim.objects import (
    Container,
    ContainerPort,
    ContainerState,
    ContainerStateRunning,
    ContainerStatus,
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    Endpoint,
    EndpointAddress,
    EndpointConditions,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    EndpointSubset,
    HTTPGetAction,
    LabelSelector,
    Namespace,
    NamespaceStatus,
    Node,
    NodeAddress,
    NodeCondition,
    NodeStatus,
    ObjectMeta,
    ObjectReference,
    OwnerReference,
    Pod,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    Probe,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    Service,
    ServicePort,
    ServiceSpec,
)

T0 = 1_700_000_000  # creation time of every object
NOW = T0 + 120  # two minutes later: AGE "2m"


class FakeStore:
    """The smallest store: equality-only selectors, objects kept in insertion order."""

    def __init__(self, *objs: object) -> None:
        self.objs = list(objs)
        self.calls: list[tuple[str, str | None, str | None]] = []

    def list(
        self, kind: str, namespace: str | None = None, selector: str | None = None
    ) -> Sequence[object]:
        self.calls.append((kind, namespace, selector))
        out = [o for o in self.objs if o.kind == kind]  # type: ignore[attr-defined]
        if namespace is not None:
            out = [o for o in out if o.metadata.namespace == namespace]  # type: ignore[attr-defined]
        for term in (selector or "").split(","):
            if term:
                key, _, value = term.partition("=")
                out = [o for o in out if o.metadata.labels.get(key) == value]  # type: ignore[attr-defined]
        return out

    def get(self, kind: str, name: str, namespace: str = "default") -> object:
        for o in self.objs:
            m = o.metadata  # type: ignore[attr-defined]
            if o.kind == kind and m.name == name and m.namespace == namespace:  # type: ignore[attr-defined]
                return o
        raise NotFound(kind, name, namespace)


def meta(name: str, namespace: str = "default", **kw: object) -> ObjectMeta:
    return ObjectMeta(name=name, namespace=namespace, creation_timestamp=T0, **kw)  # type: ignore[arg-type]


def endpoints(name: str, ips: Sequence[str], port: int = 80, namespace: str = "default") -> Endpoints:
    subsets = [EndpointSubset(addresses=[EndpointAddress(ip=ip) for ip in ips], ports=[EndpointPort(port=port)])]
    return Endpoints(metadata=meta(name, namespace), subsets=subsets if ips else [])


def chapter_slice() -> EndpointSlice:
    return EndpointSlice(
        metadata=meta("nginx-service-abc12", labels={"kubernetes.io/service-name": "nginx-service"}),
        address_type="IPv4",
        endpoints=[
            Endpoint(
                addresses=["10.244.1.5"],
                conditions=EndpointConditions(ready=True, serving=True, terminating=False),
                node_name="node-1",
                target_ref=ObjectReference(kind="Pod", namespace="default", name="nginx-a"),
            ),
            Endpoint(addresses=["10.244.2.8"], conditions=EndpointConditions(ready=True)),
        ],
        ports=[EndpointSlicePort(name="", protocol="TCP", port=80)],
    )


def chapter_service() -> Service:
    return Service(
        metadata=meta("nginx-service"),
        spec=ServiceSpec(
            ports=[ServicePort(port=80, protocol="TCP", target_port=80)],
            selector={"app": "nginx"},
            cluster_ip="10.96.14.7",
            cluster_ips=["10.96.14.7"],
            type="ClusterIP",
            session_affinity="None",
            ip_families=["IPv4"],
            ip_family_policy="SingleStack",
            internal_traffic_policy="Cluster",
        ),
    )


def nginx_pod(name: str, ip: str, node: str, ready: bool = True) -> Pod:
    return Pod(
        metadata=meta(
            name,
            labels={"app": "nginx", "pod-template-hash": "5d8f9"},
            owner_references=[OwnerReference(api_version="apps/v1", kind="ReplicaSet",
                                             name="nginx-deployment-5d8f9", controller=True)],
        ),
        spec=PodSpec(
            containers=[Container(
                name="nginx", image="nginx:1.25", ports=[ContainerPort(container_port=80)],
                readiness_probe=Probe(http_get=HTTPGetAction(port=80, path="/")),
            )],
            node_name=node,
        ),
        status=PodStatus(
            phase="Running",
            host_ip="172.18.0.2",
            pod_ip=ip,
            pod_ips=[PodIP(ip)],
            start_time=T0,
            conditions=[
                PodCondition("Ready", "True" if ready else "False"),
                PodCondition("PodScheduled", "True"),
            ],
            # kubectl counts READY from the container statuses the kubelet writes
            container_statuses=[ContainerStatus(
                name="nginx", state=ContainerState(running=ContainerStateRunning(started_at=T0)),
                ready=ready, image="docker.io/library/nginx:1.25", started=True,
            )],
        ),
    )


def get(store: FakeStore, args: str, now: int = NOW) -> str:
    return kubectl(args, store=store, now=now)


# --------------------------------------------------------------------------------------------
# AGE: duration.HumanDuration (upstream duration_test.go, at whole seconds)

M, H, D, Y = 60, 3600, 86400, 365 * 86400


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (-2, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (1, "1s"),
        (59, "59s"),
        (70, "70s"),
        (119, "119s"),
        (2 * M, "2m"),
        (2 * M + 1, "2m1s"),
        (150, "2m30s"),
        (190, "3m10s"),
        (10 * M - 1, "9m59s"),
        (10 * M, "10m"),
        (10 * M + 1, "10m"),
        (70 * M, "70m"),
        (3 * H - 1, "179m"),
        (3 * H, "3h"),
        (3 * H + M, "3h1m"),
        (8 * H - 1, "7h59m"),
        (8 * H, "8h"),
        (8 * H + 59 * M, "8h"),
        (47 * H, "47h"),
        (2 * D - 1, "47h"),
        (2 * D, "2d"),
        (49 * H, "2d1h"),
        (8 * D - 1, "7d23h"),
        (8 * D, "8d"),
        (8 * D + 2 * H, "8d"),
        (367 * D, "367d"),
        (2 * Y - 1, "729d"),
        (2 * Y, "2y"),
        (2 * Y + 25 * H, "2y1d"),
        (8 * Y - 1, "7y364d"),
        (8 * Y, "8y"),
        (8 * Y + 2 * H, "8y"),
        (9 * Y, "9y"),
    ],
)
def test_human_duration_matches_upstream_table(seconds: int, want: str) -> None:
    assert human_duration(seconds) == want


def test_age_unknown_without_creation_timestamp() -> None:
    ep = Endpoints(metadata=ObjectMeta(name="x", namespace="default"))
    assert get(FakeStore(ep), "get ep").splitlines()[1].split()[-1] == "<unknown>"


# --------------------------------------------------------------------------------------------
# tabwriter


def test_tabwrite_aligns_blocks_of_consecutive_lines_only() -> None:
    text = "a:\tx\nlonger:\ty\nbreak\nb:\tz\n"
    assert tabwrite(text, padding=2) == "a:       x\nlonger:  y\nbreak\nb:  z\n"


@given(st.lists(st.lists(st.text("abc<>/:.0123456789", max_size=12), min_size=3, max_size=3),
                min_size=1, max_size=8))
def test_tabwrite_table_columns_start_at_the_same_offset(rows: list[list[str]]) -> None:
    text = "".join("\t".join(r) + "\n" for r in rows)
    lines = tabwrite(text, padding=3).split("\n")[:-1]
    w0 = max(len(r[0]) for r in rows) + 3
    w1 = max(len(r[1]) for r in rows) + 3
    for line, row in zip(lines, rows, strict=True):
        assert line[:w0] == row[0] + " " * (w0 - len(row[0]))
        assert line[w0:w0 + w1] == row[1] + " " * (w1 - len(row[1]))
        assert line[w0 + w1:] == row[2]


# --------------------------------------------------------------------------------------------
# Endpoints


def test_chapter_get_endpoints() -> None:
    store = FakeStore(endpoints("nginx-service", ["10.244.1.5", "10.244.2.8"]))
    assert get(store, "get endpoints nginx-service") == (
        "NAME            ENDPOINTS                     AGE\n"
        "nginx-service   10.244.1.5:80,10.244.2.8:80   2m\n"
    )


def test_endpoints_truncated_to_three_then_n_more() -> None:
    ips = [f"10.244.0.{i}" for i in range(1, 6)]
    store = FakeStore(endpoints("web", ips))
    assert get(store, "get ep web") == (
        "NAME   ENDPOINTS                                               AGE\n"
        "web    10.244.0.1:80,10.244.0.2:80,10.244.0.3:80 + 2 more...   2m\n"
    )


def test_endpoints_every_address_times_every_port_counts() -> None:
    ss = EndpointSubset(
        addresses=[EndpointAddress(ip="10.0.0.1"), EndpointAddress(ip="10.0.0.2")],
        ports=[EndpointPort(port=80, name="http"), EndpointPort(port=443, name="https")],
    )
    store = FakeStore(Endpoints(metadata=meta("web"), subsets=[ss]))
    row = get(store, "get ep").splitlines()[1]
    assert "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..." in row


def test_empty_endpoints_show_none_and_ipv6_is_bracketed() -> None:
    store = FakeStore(endpoints("a", []), endpoints("b", ["fd00::5"], port=8080))
    assert get(store, "get endpoints") == (
        "NAME   ENDPOINTS        AGE\n"
        "a      <none>           2m\n"
        "b      [fd00::5]:8080   2m\n"
    )


def test_exactly_three_endpoints_have_no_more_suffix() -> None:
    store = FakeStore(endpoints("web", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]))
    assert get(store, "get ep web").splitlines()[1].split()[1] == "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80"


# --------------------------------------------------------------------------------------------
# EndpointSlices


def test_chapter_get_endpointslices_two_pods_one_slice() -> None:
    store = FakeStore(chapter_slice())
    assert get(store, "get endpointslices") == (
        "NAME                  ADDRESSTYPE   PORTS   ENDPOINTS               AGE\n"
        "nginx-service-abc12   IPv4          80      10.244.1.5,10.244.2.8   5m\n"
    ).replace("5m", "2m")


def test_endpointslice_ports_and_endpoints_truncation_and_unset() -> None:
    many = EndpointSlice(
        metadata=meta("many"),
        address_type="IPv4",
        endpoints=[Endpoint(addresses=[f"10.1.0.{i}"]) for i in range(1, 6)],
        ports=[EndpointSlicePort(port=p) for p in (80, 443, 8080, 9090)],
    )
    empty = EndpointSlice(metadata=meta("empty"), address_type="IPv4")
    named = EndpointSlice(
        metadata=meta("named"), address_type="IPv6",
        ports=[EndpointSlicePort(name="http"), EndpointSlicePort()],
    )
    out = get(FakeStore(many, empty, named), "get endpointslice")
    rows = [line.split("   ") for line in out.splitlines()]
    assert out.splitlines()[1].split() == ["empty", "IPv4", "<unset>", "<unset>", "2m"]
    assert "80,443,8080 + 1 more..." in out.splitlines()[2]
    assert "10.1.0.1,10.1.0.2,10.1.0.3 + 2 more..." in out.splitlines()[2]
    assert out.splitlines()[3].split()[:3] == ["named", "IPv6", "http,*"]
    assert len(rows) == 4


# --------------------------------------------------------------------------------------------
# Services


def test_get_services_and_wide_selector() -> None:
    headless = Service(
        metadata=meta("db"),
        spec=ServiceSpec(ports=[ServicePort(port=5432)], cluster_ip="None", cluster_ips=["None"],
                         type="ClusterIP"),
    )
    node_port = Service(
        metadata=meta("edge"),
        spec=ServiceSpec(ports=[ServicePort(port=80, node_port=30080), ServicePort(port=53, protocol="UDP")],
                         selector={"tier": "edge", "app": "proxy"}, cluster_ip="10.96.0.20",
                         cluster_ips=["10.96.0.20"], type="NodePort"),
    )
    lb = Service(metadata=meta("lb"), spec=ServiceSpec(ports=[ServicePort(port=443)], type="LoadBalancer",
                                                        cluster_ips=["10.96.0.30"]))
    ext = Service(metadata=meta("ext"), spec=ServiceSpec(type="ExternalName", external_name="db.example.com"))
    store = FakeStore(chapter_service(), headless, node_port, lb, ext)
    assert get(store, "get svc") == (
        "NAME            TYPE           CLUSTER-IP   EXTERNAL-IP      PORT(S)               AGE\n"
        "db              ClusterIP      None         <none>           5432/TCP              2m\n"
        "edge            NodePort       10.96.0.20   <none>           80:30080/TCP,53/UDP   2m\n"
        "ext             ExternalName   <none>       db.example.com   <none>                2m\n"
        "lb              LoadBalancer   10.96.0.30   <pending>        443/TCP               2m\n"
        "nginx-service   ClusterIP      10.96.14.7   <none>           80/TCP                2m\n"
    )
    wide = get(store, "get services -o wide").splitlines()
    assert wide[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    assert wide[2].split()[-1] == "app=proxy,tier=edge"
    assert wide[1].split()[-1] == "<none>"


# --------------------------------------------------------------------------------------------
# Pods


def test_get_pods_and_wide() -> None:
    a = nginx_pod("nginx-a", "10.244.1.5", "node-1")
    b = nginx_pod("nginx-b", "10.244.2.8", "node-2", ready=False)
    pending = Pod(metadata=meta("pending"), spec=PodSpec(containers=[Container(name="c"), Container(name="d")]))
    store = FakeStore(a, b, pending)
    assert get(store, "get pods") == (
        "NAME      READY   STATUS    RESTARTS   AGE\n"
        "nginx-a   1/1     Running   0          2m\n"
        "nginx-b   0/1     Running   0          2m\n"
        "pending   0/2     Pending   0          2m\n"
    )
    assert get(store, "get po -o wide") == (
        "NAME      READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES\n"
        "nginx-a   1/1     Running   0          2m    10.244.1.5   node-1   <none>           <none>\n"
        "nginx-b   0/1     Running   0          2m    10.244.2.8   node-2   <none>           <none>\n"
        "pending   0/2     Pending   0          2m    <none>       <none>   <none>           <none>\n"
    )


def test_terminating_pod_status() -> None:
    pod = nginx_pod("old", "10.244.1.9", "node-1")
    import attrs

    pod = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, deletion_timestamp=NOW - 5))
    assert get(FakeStore(pod), "get pods").splitlines()[1].split()[2] == "Terminating"


# --------------------------------------------------------------------------------------------
# Deployments, ReplicaSets, Nodes, Namespaces


def test_get_deployments_and_replicasets() -> None:
    sel = LabelSelector(match_labels={"app": "nginx"})
    template = PodTemplateSpec(spec=PodSpec(containers=[Container(name="nginx", image="nginx:1.25")]))
    d = Deployment(metadata=meta("nginx-deployment"),
                   spec=DeploymentSpec(selector=sel, template=template, replicas=3),
                   status=DeploymentStatus(replicas=3, updated_replicas=3, ready_replicas=2, available_replicas=2))
    rs = ReplicaSet(metadata=meta("nginx-deployment-5d8f9"),
                    spec=ReplicaSetSpec(selector=sel, template=template, replicas=3),
                    status=ReplicaSetStatus(replicas=3, ready_replicas=2))
    store = FakeStore(d, rs)
    assert get(store, "get deploy") == (
        "NAME               READY   UP-TO-DATE   AVAILABLE   AGE\n"
        "nginx-deployment   2/3     3            2           2m\n"
    )
    assert get(store, "get deployments.apps -o wide") == (
        "NAME               READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES       SELECTOR\n"
        "nginx-deployment   2/3     3            2           2m    nginx        nginx:1.25   app=nginx\n"
    )
    assert get(store, "get rs") == (
        "NAME                     DESIRED   CURRENT   READY   AGE\n"
        "nginx-deployment-5d8f9   3         3         2       2m\n"
    )


def test_get_nodes_and_namespaces_are_cluster_scoped() -> None:
    ready = Node(metadata=ObjectMeta(name="node-1", creation_timestamp=T0 - 3 * D),
                 status=NodeStatus(conditions=[NodeCondition("Ready", "True")],
                                   addresses=[NodeAddress("InternalIP", "172.18.0.2")]))
    cp = Node(metadata=ObjectMeta(name="cp", creation_timestamp=T0,
                                  labels={"node-role.kubernetes.io/control-plane": ""}),
              status=NodeStatus(conditions=[NodeCondition("Ready", "False")]))
    ns = Namespace(metadata=ObjectMeta(name="default", creation_timestamp=T0), status=NamespaceStatus(phase="Active"))
    store = FakeStore(ready, cp, ns)
    assert get(store, "get nodes -A") == (
        "NAME     STATUS     ROLES           AGE   VERSION\n"
        "cp       NotReady   control-plane   2m    \n"
        "node-1   Ready      <none>          3d    \n"
    )
    assert (store.calls[-1][0].lower(), store.calls[-1][1], store.calls[-1][2]) == ("node", None, None)
    assert get(store, "get ns") == "NAME      STATUS   AGE\ndefault   Active   2m\n"
    wide = get(store, "get no -o wide").splitlines()
    assert wide[0].split()[5:] == ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    assert get(FakeStore(), "get nodes") == "No resources found\n"


# --------------------------------------------------------------------------------------------
# -A, -n, -l, -o name, --show-labels, empty results


def test_all_namespaces_adds_namespace_column() -> None:
    store = FakeStore(endpoints("web", ["10.0.0.1"], namespace="shop"), endpoints("kubernetes", ["172.18.0.2"], 6443))
    assert get(store, "get ep -A") == (
        "NAMESPACE   NAME         ENDPOINTS         AGE\n"
        "default     kubernetes   172.18.0.2:6443   2m\n"
        "shop        web          10.0.0.1:80       2m\n"
    )
    assert get(store, "get ep --all-namespaces") == get(store, "get ep -A")
    assert get(store, "get ep -n shop") == "NAME   ENDPOINTS     AGE\nweb    10.0.0.1:80   2m\n"
    assert get(store, "get ep --namespace=shop") == get(store, "get ep -nshop")


def test_selector_is_passed_to_the_store() -> None:
    store = FakeStore(chapter_slice(), EndpointSlice(metadata=meta("other-x1"), address_type="IPv4"))
    out = get(store, "get endpointslices -l kubernetes.io/service-name=nginx-service")
    assert store.calls[-1] == ("EndpointSlice", "default", "kubernetes.io/service-name=nginx-service")
    assert [line.split()[0] for line in out.splitlines()] == ["NAME", "nginx-service-abc12"]
    assert get(store, "get endpointslices --selector=app=none") == "No resources found in default namespace.\n"


def test_output_name() -> None:
    store = FakeStore(chapter_slice(), endpoints("nginx-service", ["10.0.0.1"]), chapter_service())
    assert get(store, "get endpointslices -o name") == "endpointslice.discovery.k8s.io/nginx-service-abc12\n"
    assert get(store, "get ep -oname") == "endpoints/nginx-service\n"
    assert get(store, "get svc nginx-service -o=name") == "service/nginx-service\n"
    assert get(store, "get deploy -o name") == ""  # printGeneric prints no "No resources found"


def test_show_labels() -> None:
    store = FakeStore(nginx_pod("nginx-a", "10.244.1.5", "node-1"))
    assert get(store, "get pods --show-labels") == (
        "NAME      READY   STATUS    RESTARTS   AGE   LABELS\n"
        "nginx-a   1/1     Running   0          2m    app=nginx,pod-template-hash=5d8f9\n"
    )


def test_empty_result_goes_to_stderr() -> None:
    result = run("get pods -n shop", store=FakeStore(), now=NOW)
    assert (result.stdout, result.stderr, result.exit_code) == ("", "No resources found in shop namespace.\n", 0)
    assert get(FakeStore(), "get pods -A") == "No resources found\n"


def test_type_slash_name_and_leading_kubectl_and_list_args() -> None:
    store = FakeStore(endpoints("nginx-service", ["10.0.0.1"]))
    want = "NAME            ENDPOINTS     AGE\nnginx-service   10.0.0.1:80   2m\n"
    assert get(store, "kubectl get endpoints/nginx-service") == want
    assert kubectl(["get", "Endpoints", "nginx-service"], store=store, now=NOW) == want


def test_partial_not_found_keeps_stdout() -> None:
    store = FakeStore(endpoints("a", ["10.0.0.1"]))
    result = run("get ep a missing", store=store, now=NOW)
    assert result.stdout == "NAME   ENDPOINTS     AGE\na      10.0.0.1:80   2m\n"
    assert result.stderr == 'Error from server (NotFound): endpoints "missing" not found\n'
    assert result.exit_code == 1


@pytest.mark.parametrize("alias", ["endpointslices", "endpointslice", "EndpointSlice",
                                   "endpointslices.discovery.k8s.io"])
def test_endpointslice_aliases(alias: str) -> None:
    assert resolve_resource(alias).kind == "EndpointSlice"


@pytest.mark.parametrize(("alias", "kind"), [("po", "Pod"), ("svc", "Service"), ("ep", "Endpoints"),
                                              ("deploy", "Deployment"), ("rs", "ReplicaSet"),
                                              ("no", "Node"), ("ns", "Namespace"), ("pods", "Pod")])
def test_short_names(alias: str, kind: str) -> None:
    assert resolve_resource(alias).kind == kind


# --------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("get foo", 'error: the server doesn\'t have a resource type "foo"'),
        ("get endpoints x", 'Error from server (NotFound): endpoints "x" not found'),
        ("get endpointslices x", 'Error from server (NotFound): endpointslices.discovery.k8s.io "x" not found'),
        ("get deploy x", 'Error from server (NotFound): deployments.apps "x" not found'),
        ("get ep --foo", "error: unknown flag: --foo\nSee 'kubectl get --help' for usage."),
        ("get ep -x", "error: unknown shorthand flag: 'x' in -x\nSee 'kubectl get --help' for usage."),
        ("get ep -n", "error: flag needs an argument: 'n' in -n\nSee 'kubectl get --help' for usage."),
        (
            "get ep -o foo",
            'error: unable to match a printer suitable for the output format "foo", allowed formats are: '
            "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
            "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml",
        ),
        (
            "get",
            'You must specify the type of resource to get. Use "kubectl api-resources" for a complete '
            "list of supported resources.\n\nerror: Required resource not specified.\n"
            'Use "kubectl explain <resource>" for a detailed description of that resource '
            "(e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples",
        ),
        (
            "describe",
            'error: You must specify the type of resource to describe. Use "kubectl api-resources" '
            "for a complete list of supported resources.",
        ),
        ("get ep x -A", "error: a resource cannot be retrieved by name across all namespaces"),
        ("get ep x -l app=a", "error: name cannot be provided when a selector is specified"),
        ("get ep -o yaml --show-labels", "error: --show-labels option cannot be used with yaml printer"),
        ("describe svc missing", 'Error from server (NotFound): services "missing" not found'),
        ("frobnicate", 'error: unknown command "frobnicate" for "kubectl"'),
    ],
)
def test_errors_use_kubectl_wording(args: str, message: str) -> None:
    with pytest.raises(KubectlError) as info:
        get(FakeStore(chapter_service()), args)
    assert str(info.value) == message


# --------------------------------------------------------------------------------------------
# describe


def test_describe_service_lists_ready_endpoints_from_slices() -> None:
    store = FakeStore(chapter_service(), chapter_slice())
    assert get(store, "describe svc nginx-service") == (
        "Name:                     nginx-service\n"
        "Namespace:                default\n"
        "Labels:                   <none>\n"
        "Annotations:              <none>\n"
        "Selector:                 app=nginx\n"
        "Type:                     ClusterIP\n"
        "IP Family Policy:         SingleStack\n"
        "IP Families:              IPv4\n"
        "IP:                       10.96.14.7\n"
        "IPs:                      10.96.14.7\n"
        "Port:                     <unset>  80/TCP\n"
        "TargetPort:               80/TCP\n"
        "Endpoints:                10.244.1.5:80,10.244.2.8:80\n"
        "Session Affinity:         None\n"
        "Internal Traffic Policy:  Cluster\n"
        "Events:                   <none>\n"
    )
    # the slices, then the namespace's Events for the Events section
    assert store.calls[-2:] == [("EndpointSlice", "default", "kubernetes.io/service-name=nginx-service"),
                                ("Event", "default", None)]


def test_describe_service_skips_not_ready_endpoints_and_shows_none_without_slices() -> None:
    import attrs

    sl = chapter_slice()
    sl = attrs.evolve(sl, endpoints=[sl.endpoints[0], attrs.evolve(sl.endpoints[1],
                                                                   conditions=EndpointConditions(ready=False))])
    assert "Endpoints:                10.244.1.5:80\n" in get(FakeStore(chapter_service(), sl), "describe service")
    assert "Endpoints:                <none>\n" in get(FakeStore(chapter_service()), "describe svc nginx-service")


def test_describe_endpoints() -> None:
    ep = Endpoints(
        metadata=meta("nginx-service", labels={"app": "nginx"}),
        subsets=[EndpointSubset(
            addresses=[EndpointAddress(ip="10.244.1.5")],
            not_ready_addresses=[EndpointAddress(ip="10.244.2.8")],
            ports=[EndpointPort(port=80, name="http")],
        )],
    )
    assert get(FakeStore(ep), "describe endpoints nginx-service") == (
        "Name:         nginx-service\n"
        "Namespace:    default\n"
        "Labels:       app=nginx\n"
        "Annotations:  <none>\n"
        "Subsets:\n"
        "  Addresses:          10.244.1.5\n"
        "  NotReadyAddresses:  10.244.2.8\n"
        "  Ports:\n"
        "    Name  Port  Protocol\n"
        "    ----  ----  --------\n"
        "    http  80    TCP\n"
        "\n"
        "Events:  <none>\n"
    )


def test_describe_endpointslice() -> None:
    assert get(FakeStore(chapter_slice()), "describe endpointslice nginx-service-abc12") == (
        "Name:         nginx-service-abc12\n"
        "Namespace:    default\n"
        "Labels:       kubernetes.io/service-name=nginx-service\n"
        "Annotations:  <none>\n"
        "AddressType:  IPv4\n"
        "Ports:\n"
        "  Name     Port  Protocol\n"
        "  ----     ----  --------\n"
        "  <unset>  80    TCP\n"
        "Endpoints:\n"
        "  - Addresses:  10.244.1.5\n"
        "    Conditions:\n"
        "      Ready:    true\n"
        "    Hostname:   <unset>\n"
        "    TargetRef:  Pod/nginx-a\n"
        "    NodeName:   node-1\n"
        "    Zone:       <unset>\n"
        "  - Addresses:  10.244.2.8\n"
        "    Conditions:\n"
        "      Ready:   true\n"
        "    Hostname:  <unset>\n"
        "    NodeName:  <unset>\n"
        "    Zone:      <unset>\n"
        "Events:        <none>\n"
    )


def test_describe_endpointslice_prefix_match_and_empty_slice() -> None:
    empty = EndpointSlice(metadata=meta("nginx-service-zz9"), address_type="IPv4")
    out = get(FakeStore(empty), "describe endpointslices nginx-service")
    assert "Ports: <unset>\nEndpoints: <none>\n" in out
    assert out.startswith("Name:         nginx-service-zz9\n")


def test_describe_pod() -> None:
    pod = nginx_pod("nginx-a", "10.244.1.5", "node-1")
    assert get(FakeStore(pod), "describe pod nginx-a") == (
        "Name:         nginx-a\n"
        "Namespace:    default\n"
        "Node:         node-1/172.18.0.2\n"
        "Start Time:   Tue, 14 Nov 2023 22:13:20 +0000\n"
        "Labels:       app=nginx\n"
        "              pod-template-hash=5d8f9\n"
        "Annotations:  <none>\n"
        "Status:       Running\n"
        "IP:           10.244.1.5\n"
        "IPs:\n"
        "  IP:           10.244.1.5\n"
        "Controlled By:  ReplicaSet/nginx-deployment-5d8f9\n"
        "Containers:\n"
        "  nginx:\n"
        "    Container ID:   \n"  # describeContainerBasicInfo: the status's ids, state, readiness
        "    Image:          nginx:1.25\n"
        "    Image ID:       \n"
        "    Port:           80/TCP\n"
        "    Host Port:      0/TCP\n"
        "    State:          Running\n"
        "      Started:      Tue, 14 Nov 2023 22:13:20 +0000\n"
        "    Ready:          True\n"
        "    Restart Count:  0\n"
        "    Readiness:      http-get http://:80/ delay=0s timeout=1s period=10s #success=1 #failure=3\n"
        "    Environment:    <none>\n"
        "    Mounts:         <none>\n"
        "Conditions:\n"
        "  Type           Status\n"
        "  Ready          True \n"
        "  PodScheduled   True \n"
        "Volumes:         <none>\n"
        "QoS Class:       BestEffort\n"
        "Node-Selectors:  <none>\n"
        "Tolerations:     <none>\n"
        "Events:          <none>\n"
    )


def test_describe_all_of_a_type_separated_by_blank_lines() -> None:
    store = FakeStore(endpoints("a", ["10.0.0.1"]), endpoints("b", []))
    out = get(store, "describe ep")
    assert out.count("Name:") == 2
    # several objects: no Events section (describe.go Run turns ShowEvents off), unless asked
    assert "Events:" not in out and "80    TCP\n\n\n\nName:         b\n" in out
    assert get(store, "describe ep --show-events").count("Events:  <none>\n") == 2
    assert "Events:" in get(store, "describe ep a")
    assert get(FakeStore(), "describe ep") == "No resources found in default namespace.\n"


# --------------------------------------------------------------------------------------------
# -o yaml / json (needs kubesim.manifests)


def test_output_yaml_single_object_and_list() -> None:
    manifests = pytest.importorskip("kubesim.manifests")
    store = FakeStore(endpoints("a", ["10.0.0.1"]), endpoints("b", ["10.0.0.2"]))
    assert get(store, "get ep a -o yaml") == manifests.dump_yaml(store.objs[0])
    assert get(store, "get ep -o yaml") == manifests.dump_yaml(list(store.objs))
    assert get(store, "get ep a -o json") == manifests.dump_json(store.objs[0])
    assert get(FakeStore(), "get ep -o yaml") == 'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n'


def test_field_selector_on_pods_selects_as_the_api_server_does() -> None:
    import kubesim
    from kubesim import scenarios

    # pkg/registry/core/pod/strategy.go ToSelectableFields: spec.nodeName and status.phase are
    # selectable on Pods (what `kubectl get pods --field-selector spec.nodeName=...` relies on);
    # escapes and unsupported fields as apimachinery's fields/selector.go parses them.
    c = kubesim.Cluster(seed=3, nodes=2)
    scenarios.deploy(c, "web", replicas=4)
    c.run()
    pods = c.list("Pod")
    node = pods[0].spec.node_name
    on_node = sorted(p.metadata.name for p in pods if p.spec.node_name == node)
    out = c.kubectl(f"get pods --field-selector spec.nodeName={node} -o name")
    assert out.split() == [f"pod/{n}" for n in on_node]
    others = c.kubectl(f"get pods --field-selector spec.nodeName!={node},status.phase=Running -o name")
    assert sorted(others.split()) == sorted(f"pod/{p.metadata.name}" for p in pods if p.spec.node_name != node)
    with pytest.raises(KubectlError, match=r"Resource=services\" .*field label not supported: spec.nodeName"):
        c.kubectl("get services --field-selector spec.nodeName=x")
    with pytest.raises(KubectlError, match="invalid escape sequence"):
        c.kubectl(r"get pods --field-selector 'metadata.name=a\x'")
