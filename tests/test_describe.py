"""kubectl describe deployment | replicaset | node | namespace, and pods with container statuses.

Three oracles: upstream's own tables (``resource.Quantity`` canonical strings from
``k8s.io/apimachinery/pkg/api/resource/quantity_test.go``), texts written by hand from
``k8s.io/kubectl/pkg/describe/describe.go`` for objects that exercise every branch (roles,
taints, tolerations, requests and limits, terminated pods, old and new ReplicaSets), and real
kubectl's output against ``kubesim serve`` of the same cluster (when the serve extra and a
kubectl binary are installed).
"""

from __future__ import annotations

import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import kubesim
from kubesim import lean
from kubesim.kinds import KIND_INFO
from kubesim.kubectl import kubectl
from kubesim.kubectl.describe import _Quantity
from kubesim.objects import (
    Container,
    ContainerPort,
    ContainerState,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    LabelSelector,
    LabelSelectorRequirement,
    Namespace,
    NamespaceCondition,
    NamespaceStatus,
    Node,
    NodeAddress,
    NodeCondition,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    ResourceRequirements,
    RollingUpdateDeployment,
    Taint,
    Toleration,
)

sys.path.insert(0, str(Path(__file__).parent))
from test_kubectl import NOW, T0, FakeStore  # noqa: E402


def get(store: FakeStore, args: str) -> str:
    return kubectl(args, store=store, now=NOW)


# --------------------------------------------------------------------------------------------
# resource.Quantity's canonical form (quantity_test.go: TestQuantityString, TestQuantityParseEmit)

STRING_CASES = [  # (value, format, canonical): TestQuantityString's table, negated too
    (Decimal(1024**3), "BinarySI", "1Gi"),
    (Decimal(300 * 1024**2), "BinarySI", "300Mi"),
    (Decimal(6 * 1024), "BinarySI", "6Ki"),
    (Decimal(1001 * 1024**3), "BinarySI", "1001Gi"),
    (Decimal(1024**4), "BinarySI", "1Ti"),
    (Decimal(5), "BinarySI", "5"),
    (Decimal("0.5"), "BinarySI", "500m"),
    (Decimal("1e9"), "DecimalSI", "1G"),
    (Decimal("1e-3"), "DecimalSI", "1m"),
    (Decimal("0.08"), "DecimalSI", "80m"),
    (Decimal("1.08"), "DecimalSI", "1080m"),
    (Decimal("300e6"), "DecimalSI", "300M"),
    (Decimal("1e12"), "DecimalSI", "1T"),
    (Decimal("1234567e6"), "DecimalSI", "1234567M"),
    (Decimal("1234.567"), "BinarySI", "1234567m"),
    (Decimal(3000), "DecimalSI", "3k"),
    (Decimal(1025), "BinarySI", "1025"),
    (Decimal(0), "DecimalSI", "0"),
    (Decimal(0), "BinarySI", "0"),
    (Decimal("1e9"), "DecimalExponent", "1e9"),
    (Decimal("1e-3"), "DecimalExponent", "1e-3"),
    (Decimal("1e-9"), "DecimalExponent", "1e-9"),
    (Decimal("80e-3"), "DecimalExponent", "80e-3"),
    (Decimal("300e6"), "DecimalExponent", "300e6"),
    (Decimal(3000), "DecimalExponent", "3e3"),
    (Decimal("1e-9"), "DecimalSI", "1n"),
    (Decimal("1080e-9"), "DecimalSI", "1080n"),
    (Decimal("1080e-6"), "DecimalSI", "1080u"),
]

PARSE_CASES = [  # (text, canonical): TestQuantityString's alternates and TestQuantityParseEmit
    ("1024Mi", "1Gi"), ("307200Ki", "300Mi"), ("5000m", "5"), ("0.5", "500m"), ("1000M", "1G"),
    ("0.001T", "1G"), ("1000u", "1m"), ("1.08", "1080m"), ("1080000000n", "1080m"),
    (".001e12", "1e9"), ("0.001e0", "1e-3"), ("1000e-12", "1e-9"), ("00", "0"),
    ("1Ki", "1Ki"), ("1Mi", "1Mi"), ("1Gi", "1Gi"), (".001Ki", "1024m"), (".000001Ki", "1024u"),
    (".000000001Ki", "1024n"), (".000000000001Ki", "2n"),
]


@pytest.mark.parametrize(("value", "fmt", "want"), STRING_CASES)
def test_quantity_canonical_string(value: Decimal, fmt: str, want: str) -> None:
    assert str(_Quantity(value, fmt)) == want
    if value:
        assert str(_Quantity(-value, fmt)) == "-" + want


@pytest.mark.parametrize(("text", "want"), PARSE_CASES)
def test_quantity_parse_then_emit(text: str, want: str) -> None:
    assert str(_Quantity.parse(text)) == want
    assert str(_Quantity.parse("-" + text)) == ("0" if want == "0" else "-" + want)


def test_quantity_values_and_sums() -> None:
    cpu = _Quantity.parse("100m") + _Quantity.parse("1.5")
    assert (str(cpu), cpu.milli()) == ("1600m", 1600)
    memory = _Quantity.parse("128Mi") + _Quantity.parse("64Mi")
    assert (str(memory), memory.whole()) == ("192Mi", 192 * 2**20)
    assert str(_Quantity() + _Quantity.parse("1G")) == "1G"  # an unset quantity takes the other's format
    assert str(_Quantity.parse("1G") + _Quantity.parse("1Gi")) == "2073741824"  # DecimalSI kept
    assert _Quantity.parse("nonsense").value == 0 and str(_Quantity.parse(None)) == "0"


# --------------------------------------------------------------------------------------------
# hand-written texts from describe.go


def meta(name: str, namespace: str = "default", **kw: object) -> ObjectMeta:
    return ObjectMeta(name=name, namespace=namespace, creation_timestamp=T0, **kw)  # type: ignore[arg-type]


def template(image: str, **labels: str) -> PodTemplateSpec:
    return PodTemplateSpec(
        metadata=ObjectMeta(labels={"app": "web", **labels}),
        spec=PodSpec(containers=[Container(name="web", image=image, ports=[ContainerPort(container_port=80)])]),
    )


def replica_set(name: str, image: str, replicas: int, created: int, owner_uid: str = "d-uid") -> ReplicaSet:
    h = name.rsplit("-", 1)[1]
    return ReplicaSet(
        metadata=ObjectMeta(
            name=name, namespace="default", uid=f"{name}-uid", creation_timestamp=created,
            labels={"app": "web", "pod-template-hash": h},
            owner_references=[OwnerReference(api_version="apps/v1", kind="Deployment", name="web",
                                             uid=owner_uid, controller=True)],
        ),
        spec=ReplicaSetSpec(
            replicas=replicas,
            selector=LabelSelector(match_labels={"app": "web", "pod-template-hash": h}),
            template=template(image, **{"pod-template-hash": h}),
        ),
        status=ReplicaSetStatus(replicas=replicas),
    )


def deployment(strategy: DeploymentStrategy) -> Deployment:
    return Deployment(
        metadata=meta("web", uid="d-uid", labels={"tier": "front"},
                      annotations={"deployment.kubernetes.io/revision": "3"}),
        spec=DeploymentSpec(
            replicas=3,
            selector=LabelSelector(match_labels={"app": "web"},
                                   match_expressions=[LabelSelectorRequirement("env", "NotIn", ["dev"])]),
            template=template("nginx:1.27"),
            strategy=strategy,
            min_ready_seconds=5,
        ),
        status=DeploymentStatus(replicas=4, updated_replicas=2, available_replicas=3, unavailable_replicas=1),
    )


def test_describe_deployment_with_old_and_new_replica_sets() -> None:
    d = deployment(DeploymentStrategy("RollingUpdate", RollingUpdateDeployment(max_unavailable=1, max_surge="25%")))
    store = FakeStore(
        d,
        replica_set("web-bbb", "nginx:1.26", 2, T0 + 20),
        replica_set("web-aaa", "nginx:1.25", 0, T0 + 10),
        replica_set("web-ccc", "nginx:1.27", 2, T0 + 30),
        replica_set("web-zzz", "nginx:1.27", 1, T0 + 5, owner_uid="someone-else"),  # not controlled by web
    )
    assert get(store, "describe deployment web") == (
        "Name:                   web\n"
        "Namespace:              default\n"
        "CreationTimestamp:      Tue, 14 Nov 2023 22:13:20 +0000\n"
        "Labels:                 tier=front\n"
        "Annotations:            deployment.kubernetes.io/revision: 3\n"
        "Selector:               app=web,env notin (dev)\n"
        "Replicas:               3 desired | 2 updated | 4 total | 3 available | 1 unavailable\n"
        "StrategyType:           RollingUpdate\n"
        "MinReadySeconds:        5\n"
        "RollingUpdateStrategy:  1 max unavailable, 25% max surge\n"
        "Pod Template:\n"
        "  Labels:  app=web\n"
        "  Containers:\n"
        "   web:\n"
        "    Image:         nginx:1.27\n"
        "    Port:          80/TCP\n"
        "    Host Port:     0/TCP\n"
        "    Environment:   <none>\n"
        "    Mounts:        <none>\n"
        "  Volumes:         <none>\n"
        "  Node-Selectors:  <none>\n"
        "  Tolerations:     <none>\n"
        # old ones by creation time (zero-replica ones too), the new one by template
        "OldReplicaSets:    web-aaa (0/0 replicas created), web-bbb (2/2 replicas created)\n"
        "NewReplicaSet:     web-ccc (2/2 replicas created)\n"
        "Events:            <none>\n"
    )


def test_describe_deployment_recreate_without_replica_sets() -> None:
    out = get(FakeStore(deployment(DeploymentStrategy("Recreate"))), "describe deploy")
    assert re.search(r"^StrategyType: +Recreate\nMinReadySeconds: +5\nPod Template:\n", out, re.M), out
    assert "RollingUpdateStrategy" not in out and "OldReplicaSets" not in out and "NewReplicaSet" not in out


def pod(name: str, phase: str, *, owner: str = "web-ccc-uid", node: str = "node-1", namespace: str = "default",
        requests: dict[str, str] | None = None, limits: dict[str, str] | None = None) -> Pod:
    return Pod(
        metadata=meta(name, namespace, owner_references=[
            OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="x", uid=owner, controller=True)]),
        spec=PodSpec(node_name=node, containers=[Container(
            name="c", image="i", resources=ResourceRequirements(requests=requests or {}, limits=limits or {}))]),
        status=PodStatus(phase=phase),
    )


def test_describe_replica_set_counts_its_own_pods_by_phase() -> None:
    rs = replica_set("web-ccc", "nginx:1.27", 3, T0)
    pods = [pod("a", "Running"), pod("b", "Running"), pod("c", "Pending"), pod("d", "Failed"),
            pod("e", "Succeeded"), pod("f", ""), pod("orphan", "Running", owner="other")]
    assert get(FakeStore(rs, *pods), "describe rs web-ccc") == (
        "Name:           web-ccc\n"
        "Namespace:      default\n"
        "Selector:       app=web,pod-template-hash=ccc\n"
        "Labels:         app=web\n"
        "                pod-template-hash=ccc\n"
        "Annotations:    <none>\n"
        "Controlled By:  Deployment/web\n"
        "Replicas:       3 current / 3 desired\n"
        "Pods Status:    2 Running / 2 Waiting / 1 Succeeded / 1 Failed\n"
        "Pod Template:\n"
        "  Labels:  app=web\n"
        "           pod-template-hash=ccc\n"
        "  Containers:\n"
        "   web:\n"
        "    Image:         nginx:1.27\n"
        "    Port:          80/TCP\n"
        "    Host Port:     0/TCP\n"
        "    Environment:   <none>\n"
        "    Mounts:        <none>\n"
        "  Volumes:         <none>\n"
        "  Node-Selectors:  <none>\n"
        "  Tolerations:     <none>\n"
        "Events:            <none>\n"
    )


def test_pod_template_tolerations_and_node_selectors() -> None:
    rs = replica_set("web-ccc", "nginx:1.27", 1, T0)
    spec = rs.spec.template.spec
    import attrs

    spec = attrs.evolve(spec, node_selector={"disk": "ssd"}, tolerations=[
        Toleration(key="zeta", operator="Exists"),
        Toleration(key="alpha", operator="Equal", value="v", effect="NoSchedule", toleration_seconds=30),
        Toleration(operator="Exists"),
        Toleration(key="beta", operator="Exists", effect="NoExecute"),
    ])
    rs = attrs.evolve(rs, spec=attrs.evolve(rs.spec, template=attrs.evolve(rs.spec.template, spec=spec)))
    out = get(FakeStore(rs), "describe rs web-ccc")
    # printTolerationsMultilineWithIndent: sorted by key (the empty key first)
    assert out.endswith(
        "  Node-Selectors:  disk=ssd\n"
        "  Tolerations:     op=Exists\n"
        "                   alpha=v:NoSchedule for 30s\n"
        "                   beta:NoExecute op=Exists\n"
        "                   zeta op=Exists\n"
        "Events:            <none>\n"
    ), out


def node() -> Node:
    return Node(
        metadata=ObjectMeta(name="node-1", creation_timestamp=T0, labels={
            "node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/": "", "kubernetes.io/role": "edge"}),
        spec=NodeSpec(pod_cidr="10.244.1.0/24", pod_cidrs=["10.244.1.0/24", "fd00::/64"], unschedulable=True,
                      taints=[Taint("b", "NoSchedule"), Taint("a", "NoSchedule", "x"), Taint("c", "NoExecute")]),
        status=NodeStatus(
            capacity={"cpu": "2", "memory": "4Gi", "pods": "110"},
            allocatable={"cpu": "1500m", "memory": "4Gi", "pods": "110", "ephemeral-storage": "10Gi",
                         "hugepages-2Mi": "0", "example.com/gpu": "2"},
            conditions=[NodeCondition("Ready", "True", T0 + 60, T0, "KubeletReady", "kubelet is posting ready status"),
                        NodeCondition("MemoryPressure", "False", T0 + 60, T0, "KubeletHasSufficientMemory", "ok")],
            addresses=[NodeAddress("InternalIP", "172.18.0.2"), NodeAddress("Hostname", "node-1")],
        ),
    )


def test_describe_node() -> None:
    pods = [
        pod("web-1", "Running", requests={"cpu": "250m", "memory": "64Mi"}, limits={"cpu": "500m", "memory": "128Mi"}),
        pod("dns-1", "Running", namespace="kube-system", requests={"cpu": "100m", "memory": "70Mi"},
            limits={"memory": "170Mi", "example.com/gpu": "1"}),
        pod("done", "Succeeded", requests={"cpu": "1"}),  # terminated: not listed, not counted
        pod("elsewhere", "Running", node="node-2", requests={"cpu": "1"}),
    ]
    text = get(FakeStore(node(), *pods), "describe nodes")
    assert text == (
        "Name:               node-1\n"
        "Roles:              edge,worker\n"
        "Labels:             kubernetes.io/role=edge\n"
        "                    node-role.kubernetes.io/=\n"
        "                    node-role.kubernetes.io/worker=\n"
        "Annotations:        <none>\n"
        "CreationTimestamp:  Tue, 14 Nov 2023 22:13:20 +0000\n"
        "Taints:             c:NoExecute\n"  # sorted by effect, then key
        "                    a=x:NoSchedule\n"
        "                    b:NoSchedule\n"
        "Unschedulable:      true\n"
        "Lease:              Failed to get lease: the server could not find the requested resource\n"
        "Conditions:\n"
        # every cell but the message ends in a space ("%v \t"): three spaces between columns
        "  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message\n"
        "  ----             ------  -----------------                 ------------------                ------                       -------\n"
        "  Ready            True    Tue, 14 Nov 2023 22:14:20 +0000   Tue, 14 Nov 2023 22:13:20 +0000   KubeletReady                 kubelet is posting ready status\n"
        "  MemoryPressure   False   Tue, 14 Nov 2023 22:14:20 +0000   Tue, 14 Nov 2023 22:13:20 +0000   KubeletHasSufficientMemory   ok\n"
        "Addresses:\n"
        "  InternalIP:  172.18.0.2\n"
        "  Hostname:    node-1\n"
        "Capacity:\n"
        "  cpu:     2\n"
        "  memory:  4Gi\n"
        "  pods:    110\n"
        "Allocatable:\n"
        "  cpu:                1500m\n"
        "  ephemeral-storage:  10Gi\n"
        "  example.com/gpu:    2\n"
        "  hugepages-2Mi:      0\n"
        "  memory:             4Gi\n"
        "  pods:               110\n"
        "System Info:\n"
        "  Machine ID:                 \n"
        "  System UUID:                \n"
        "  Boot ID:                    \n"
        "  Kernel Version:             \n"
        "  OS Image:                   \n"
        "  Operating System:           \n"
        "  Architecture:               \n"
        "  Container Runtime Version:  \n"
        "  Kubelet Version:            \n"
        "PodCIDR:                      10.244.1.0/24\n"
        "PodCIDRs:                     10.244.1.0/24,fd00::/64\n"
        "Non-terminated Pods:          (2 in total)\n"
        "  Namespace                   Name     CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age\n"
        "  ---------                   ----     ------------  ----------  ---------------  -------------  ---\n"
        # cpu of 1500m allocatable and memory of 4Gi, truncated to whole percents
        "  default                     web-1    250m (16%)    500m (33%)  64Mi (1%)        128Mi (3%)     2m\n"
        "  kube-system                 dns-1    100m (6%)     0 (0%)      70Mi (1%)        170Mi (4%)     2m\n"
        "Allocated resources:\n"
        "  (Total limits may be over 100 percent, i.e., overcommitted.)\n"
        "  Resource           Requests    Limits\n"
        "  --------           --------    ------\n"
        "  cpu                350m (23%)  500m (33%)\n"
        "  memory             134Mi (3%)  298Mi (7%)\n"
        "  ephemeral-storage  0 (0%)      0 (0%)\n"
        "  hugepages-2Mi      0 (0%)      0 (0%)\n"
        "  example.com/gpu    0           1\n"
        "Events:              <none>\n"
    )


def test_describe_namespace() -> None:
    ns = Namespace(
        metadata=ObjectMeta(name="prod", labels={"kubernetes.io/metadata.name": "prod"}, deletion_timestamp=T0),
        status=NamespaceStatus(phase="Terminating", conditions=[
            NamespaceCondition("NamespaceContentRemaining", "True", T0, "SomeResourcesRemain",
                               "Some resources are remaining: pods. has 1 resource instances"),
            NamespaceCondition("NamespaceDeletionDiscoveryFailure", "False", T0, "ResourcesDiscovered",
                               "All resources successfully discovered"),
        ]),
    )
    assert get(FakeStore(ns), "describe namespaces") == (
        "Name:         prod\n"
        "Labels:       kubernetes.io/metadata.name=prod\n"
        "Annotations:  <none>\n"
        "Status:       Terminating\n"
        "Conditions:\n"
        "  Type                               Status  LastTransitionTime               Reason               Message\n"
        "  ----                               ------  ------------------               ------               -------\n"
        "  NamespaceContentRemaining          True    Tue, 14 Nov 2023 22:13:20 +0000  SomeResourcesRemain  Some resources are remaining: pods. has 1 resource instances\n"
        "  NamespaceDeletionDiscoveryFailure  False   Tue, 14 Nov 2023 22:13:20 +0000  ResourcesDiscovered  All resources successfully discovered\n"
        # a section per kind the server has, when the namespace holds none of them
        + ("\nNo resource quota.\n" if "ResourceQuota" in KIND_INFO else "")
        + ("\nNo LimitRange resource.\n" if "LimitRange" in KIND_INFO else "")
    )


def test_describe_pod_container_states() -> None:
    p = pod("a", "Running")
    import attrs

    statuses = [ContainerStatus(
        name="c", ready=False, restart_count=2, container_id="containerd://1", image_id="i@sha256:1",
        state=ContainerState(waiting=ContainerStateWaiting(reason="CrashLoopBackOff")),
        last_state=ContainerState(terminated=ContainerStateTerminated(
            exit_code=137, signal=9, reason="Error", message="killed", started_at=T0, finished_at=T0 + 5)),
    )]
    p = attrs.evolve(p, status=attrs.evolve(p.status, container_statuses=statuses))
    out = get(FakeStore(p), "describe pod a")
    assert (
        "  c:\n"
        "    Container ID:   containerd://1\n"
        "    Image:          i\n"
        "    Image ID:       i@sha256:1\n"
        "    Port:           <none>\n"
        "    Host Port:      <none>\n"
        "    State:          Waiting\n"
        "      Reason:       CrashLoopBackOff\n"
        "    Last State:     Terminated\n"
        "      Reason:       Error\n"
        "      Message:      killed\n"
        "      Exit Code:    137\n"
        "      Signal:       9\n"
        "      Started:      Tue, 14 Nov 2023 22:13:20 +0000\n"
        "      Finished:     Tue, 14 Nov 2023 22:13:25 +0000\n"
        "    Ready:          False\n"
        "    Restart Count:  2\n"
    ) in out, out


# --------------------------------------------------------------------------------------------
# a live cluster


def test_describe_deployment_after_a_rollout_reads_the_cluster() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=2)
    lean.rollout_workload(3, image="nginx:1.27")(cluster)
    rs = sorted(cluster.list("ReplicaSet"), key=lambda r: r.metadata.creation_timestamp or 0)
    old, new = [r for r in rs if r.spec.template.spec.containers[0].image != "nginx:1.27"], \
        [r for r in rs if r.spec.template.spec.containers[0].image == "nginx:1.27"]
    out = cluster.kubectl("describe deploy web")
    assert f"OldReplicaSets:    {old[0].metadata.name} (0/0 replicas created)\n" in out
    assert f"NewReplicaSet:     {new[0].metadata.name} (3/3 replicas created)\n" in out
    assert "Replicas:               3 desired | 3 updated | 3 total | 3 available | 0 unavailable\n" in out
    rs_text = cluster.kubectl(f"describe rs {new[0].metadata.name}")
    assert "Pods Status:    3 Running / 0 Waiting / 0 Succeeded / 0 Failed\n" in rs_text
    node_text = cluster.kubectl("describe node node-1")
    on_node = [p for p in cluster.list("Pod") if p.spec.node_name == "node-1"]
    assert f"Non-terminated Pods:          ({len(on_node)} in total)\n" in node_text
    assert "describe ns" and "Status:       Active\n" in cluster.kubectl("describe ns default")


# --------------------------------------------------------------------------------------------
# real kubectl against kubesim serve


def _normalise(text: str) -> str:
    # real kubectl ages pods by wall time (the simulation started in 2025): drop the Age cells;
    # kubectl finds no events resource on kubesim serve for some kinds: drop "Events: <none>"
    text = re.sub(r"^(  \S+ +\S+ +\d\S* \(\d+%\) .*?) +\S+$", r"\1", text, flags=re.M)
    # the quota and limit-range sections follow whether the server serves those kinds, which
    # kubesim serve and the kind table may not agree on while the inert kinds are being wired
    # (test_describe_namespace covers them)
    text = re.sub(r"\n(?:No resource quota|No LimitRange resource)\.\n", "", text)
    return re.sub(r"^Events: +<none>\n", "", text, flags=re.M)


def test_describe_matches_real_kubectl_against_kubesim_serve(tmp_path: Path) -> None:
    pytest.importorskip("aiohttp")
    from serve_support import MANIFESTS, kubectl_binary, serve

    if kubectl_binary() is None:
        pytest.skip("no kubectl binary")
    with serve(tmp_path) as s:
        s.kubectl("apply", "--validate=false", "-f", str(MANIFESTS / "nginx-deployment.yaml"))
        s.advance(60)
        s.kubectl("set", "image", "deployment/nginx-deployment", "nginx=nginx:1.27")
        s.advance(60)
        for args in (["describe", "deployment"], ["describe", "rs"], ["describe", "node", "node-1"],
                     ["describe", "ns", "default"], ["describe", "namespaces"], ["describe", "pod"]):
            # kubesim's own describe at the wall clock real kubectl ages things by (Events'
            # Age column), taken before and after in case a second passes in between
            before = _own_at_wall_clock(s, args)
            real = s.kubectl(*args).stdout
            after = _own_at_wall_clock(s, args)
            assert real.count("Name:") >= 1
            assert _normalise(real) in (_normalise(before), _normalise(after)), (args, real, after)


def _own_at_wall_clock(s: Any, args: list[str]) -> str:
    import time

    from kubesim.kubectl import run

    cluster = s.thread.server.cluster
    return str(s.call(lambda: run(args, store=cluster.api, now=int(time.time()), cluster=cluster).stdout))


def test_workload_conditions_block() -> None:
    # describeDeployment's block ("%v \t%v\t%v\n"), shown once a workload status has conditions
    from types import SimpleNamespace

    from kubesim.kubectl.describe import _workload_conditions, _Writer

    w = _Writer()
    _workload_conditions(w, SimpleNamespace(conditions=[
        SimpleNamespace(type="Available", status="True", reason="MinimumReplicasAvailable"),
        SimpleNamespace(type="Progressing", status="True", reason="NewReplicaSetAvailable"),
    ]))
    assert w.text() == (
        "Conditions:\n"
        # the type cells end in a space: "  Progressing " is the widest, 14 + padding 2
        "  Type          Status  Reason\n"
        "  ----          ------  ------\n"
        "  Available     True    MinimumReplicasAvailable\n"
        "  Progressing   True    NewReplicaSetAvailable\n"
    )
    empty = _Writer()
    _workload_conditions(empty, DeploymentStatus())
    assert empty.text() == ""


def _container(name: str, cpu: str, memory: str | None = None, restart_policy: str | None = None) -> Container:
    requests = {"cpu": cpu, **({"memory": memory} if memory else {})}
    return Container(name=name, image="i", resources=ResourceRequirements(requests=requests),
                     restart_policy=restart_policy)


@pytest.mark.parametrize(
    ("init", "containers", "cpu", "memory"),
    [
        # init containers run one after another: the pod needs the larger of their peak and the sum
        ([("ic1", "2", "1G", None), ("ic2", "2", "3G", None)], [("c1", "2", "1G"), ("c2", "1", "1G")], "3", "3G"),
        # KEP-753: a sidecar adds to the sum and runs beside every later init container
        ([("sidecar", "1", None, "Always"), ("setup", "2", None, None)], [("app", "1", None)], "3", "0"),
        ([("setup", "2", None, None), ("sidecar", "1", None, "Always")], [("app", "1", None)], "2", "0"),
    ],
)
def test_pod_requests_with_init_containers_and_sidecars(
    init: list[tuple[str, str, str | None, str | None]], containers: list[tuple[str, str, str | None]], cpu: str,
    memory: str,
) -> None:
    from kubesim.kubectl.describe import _pod_resources

    p = Pod(metadata=meta("p"), spec=PodSpec(
        init_containers=[_container(*c) for c in init], containers=[_container(*c) for c in containers]))
    got = _pod_resources(p, "requests")
    assert (str(got.get("cpu", _Quantity())), str(got.get("memory", _Quantity()))) == (cpu, memory)
