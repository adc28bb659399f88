"""A pod's QoS class (``kubesim.qos``) and ``status.qosClass``: computed as
``pkg/apis/core/helper/qos`` does (the cases follow upstream's ``qos_test.go``: best-effort,
burstable and guaranteed containers, mixed, init containers, zero quantities, extended
resources ignored), stored by the API server at create with phase ``Pending``
(``podStrategy.PrepareForCreate``) on both engines, kept by the kubelet and by status writes that
leave it empty (``podStatusStrategy.PrepareForUpdate``), on the wire at protobuf field 9 and
after ``containerStatuses`` in JSON, and shown by kubectl.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

import kubesim
from kubesim import manifests, qos, scenarios, wire
from kubesim.errors import InvalidObject
from kubesim.objects import (
    Container,
    ContainerStatus,
    ObjectMeta,
    Pod,
    PodSpec,
    PodStatus,
    ResourceRequirements,
)
from kubesim.wire.caches import _PAIR_MASK, _PAIR_SHIFT
from kubesim.wire.pods import _pod_status, _pod_status_pair

# the scheduler's note that it fits pods by count (the requests here are for the QoS class)
pytestmark = pytest.mark.filterwarnings("ignore:.*resources.requests is stored but not used")


def c(name: str = "c", requests: dict[str, str] | None = None, limits: dict[str, str] | None = None) -> Container:
    return Container(name, image="busybox", resources=ResourceRequirements(requests=requests or {}, limits=limits or {}))


def both(cpu: str, memory: str) -> dict[str, str]:
    return {"cpu": cpu, "memory": memory}


BEST_EFFORT = c()
GUARANTEED = c(requests=both("100m", "100Mi"), limits=both("100m", "100Mi"))
BURSTABLE = c(requests=both("100m", "100Mi"))


@pytest.mark.parametrize(
    ("containers", "init", "want"),
    [
        ((BEST_EFFORT,), (), "BestEffort"),
        ((BEST_EFFORT, c("d")), (), "BestEffort"),
        # extended resources are not QoS compute resources
        ((c(requests={"nvidia.com/gpu": "1"}, limits={"nvidia.com/gpu": "1"}),), (), "BestEffort"),
        # zero quantities count as unset
        ((c(requests=both("0", "0"), limits=both("0", "0")),), (), "BestEffort"),
        ((GUARANTEED,), (), "Guaranteed"),
        ((GUARANTEED, attrs.evolve(GUARANTEED, name="d")), (), "Guaranteed"),
        ((c(requests={**both("1", "1Gi"), "nvidia.com/gpu": "2"}, limits={**both("1", "1Gi"), "nvidia.com/gpu": "2"}),), (),
         "Guaranteed"),
        # equal by value, not as written
        ((c(requests=both("1", "1Gi"), limits=both("1000m", "1024Mi")),), (), "Guaranteed"),
        # a request left unset is its limit (SetDefaults_Pod), defaulted or not
        ((c(limits=both("1", "1Gi")),), (), "Guaranteed"),
        ((BEST_EFFORT, BURSTABLE), (), "Burstable"),
        ((BURSTABLE, GUARANTEED), (), "Burstable"),
        ((BURSTABLE,), (), "Burstable"),
        ((c(requests={"cpu": "100m"}),), (), "Burstable"),
        ((c(limits={"cpu": "100m"}),), (), "Burstable"),  # a memory limit is missing
        ((c(requests=both("100m", "100Mi"), limits=both("200m", "100Mi")),), (), "Burstable"),
        ((c(requests=both("0", "100Mi"), limits=both("100m", "100Mi")),), (), "Burstable"),
        # init containers count as containers do
        ((GUARANTEED,), (GUARANTEED,), "Guaranteed"),
        ((GUARANTEED,), (BURSTABLE,), "Burstable"),
        ((GUARANTEED,), (BEST_EFFORT,), "Burstable"),
        ((BEST_EFFORT,), (BURSTABLE,), "Burstable"),
    ],
)
def test_compute_pod_qos(containers: tuple[Container, ...], init: tuple[Container, ...], want: str) -> None:
    spec = PodSpec(containers=containers, init_containers=init)
    assert qos.compute_pod_qos(spec) == want
    assert qos.get_pod_qos(Pod(spec=spec)) == want
    # GetPodQOS: the stored class when set
    assert qos.get_pod_qos(Pod(spec=spec, status=PodStatus(qos_class="Guaranteed"))) == "Guaranteed"


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", (1, 3)), ("100m", (1, 2)), ("1.5", (15, 2)), (".5", (5, 2)), ("1Ki", (1024, 3)),
     ("1Mi", (2**20, 3)), ("2k", (2, 6)), ("1e3", (1, 6)), ("1E-3", (1, 0)), ("-1", (-1, 3)), ("+2", (2, 3)),
     ("1E", (1, 21)), ("0", (0, 0)), ("0.0000", (0, 0)), ("1000m", (1, 3)), ("1e0", (1, 3)),
     # SetDefaults_ResourceList rounds up, away from zero, to thousandths
     ("100.5m", (101, 0)), ("1n", (1, 0)), ("-1n", (-1, 0)), ("1.0001", (1001, 0)), ("1e-3000000", (1, 0)),
     ("0.5Ki", (512, 3)), ("0.001Ki", (1024, 0)), ("0.0001Ki", (103, 0)),
     # huge exponents: exact, in bounded work; ParseInt(64) refuses beyond int64, int32() wraps
     ("1e3000000", (1, 3000003)), ("2e2147483647", (2, 2147483650)), ("1e4294967296", (1, 3)),
     ("1e9223372036854775807", (1, 2)), ("1e9223372036854775808", None), ("1e-9223372036854775808", (1, 3)),
     # ParseQuantity caps a binary-suffixed value at the largest int64
     ("8Ei", (2**63 - 1, 3)), ("9Ei", (2**63 - 1, 3)),
     ("", None), ("m", None), ("1x", None), ("1e3m", None), ("1..2", None)],
)
def test_quantity_milli(text: str, value: tuple[int, int] | None) -> None:
    assert qos.quantity_milli(text) == value


@pytest.mark.parametrize(
    ("requests", "limits", "want"),
    [
        # upstream rounds both to 101m before comparing
        (both("100.5m", "1Gi"), both("101m", "1Gi"), "Guaranteed"),
        (both("100.0001m", "1Gi"), both("100m", "1Gi"), "Burstable"),
        (both("1", "1e3000000"), both("1000m", "1e3000000"), "Guaranteed"),
        (both("1", "1e3000000"), both("1", "1.0000001e3000000"), "Burstable"),
        (both("1", "9Ei"), both("1", "8Ei"), "Guaranteed"),  # both capped
    ],
)
def test_quantities_compare_as_stored(requests: dict[str, str], limits: dict[str, str], want: str) -> None:
    assert qos.compute_pod_qos(PodSpec(containers=[c(requests=requests, limits=limits)])) == want


def test_sums_of_huge_exponents_compare_exactly() -> None:
    # 1e3000000 + 1 against 1 + 1e3000000 in two containers, and sums that differ far down
    big = both("1", "1e3000000")
    assert qos.compute_pod_qos(PodSpec(containers=[c("a", big, big), c("b", both("1", "1"), both("1", "1"))])) == (
        "Guaranteed")
    spec = PodSpec(containers=[
        c("a", both("1", "1e3000000"), both("1", "2e3000000")),
        c("b", both("1", "1e3000000"), both("1", "1m")),
    ])
    assert qos.compute_pod_qos(spec) == "Burstable"
    spec = PodSpec(containers=[
        c("a", both("1", "1e3000000"), both("1", "2e3000000")),
        c("b", both("1", "1e3000000"), both("1", "1m")),
        c("c", both("1", "1m"), both("1", "1m")),
    ])
    assert qos.compute_pod_qos(spec) == "Burstable"
    assert qos._sums_equal([(1, 3000003), (1, 0)], [(1, 0), (1, 3000003)])
    assert not qos._sums_equal([(1, 3000003), (1, 0)], [(1, 3000003), (2, 0)])
    assert qos._sums_equal([(5, 10**9), (5, 10**9)], [(1, 10**9 + 1)])  # a carry across the digits
    assert not qos._sums_equal([(5, 10**9), (5, 10**9)], [(1, 10**9 + 2)])


def pod_yaml(name: str, resources: str = "") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  containers:
  - name: c
    image: busybox
    {resources}
"""


@pytest.mark.parametrize("engine", ["lean", "full"])
@pytest.mark.parametrize(
    ("resources", "want"),
    [
        ("", "BestEffort"),
        ("resources: {requests: {cpu: 100m}}", "Burstable"),
        ("resources: {limits: {cpu: '1', memory: 1Gi}}", "Guaranteed"),
    ],
)
def test_create_stores_phase_pending_and_the_qos_class(engine: str, resources: str, want: str) -> None:
    cluster = kubesim.Cluster(engine=engine, nodes=0)
    cluster.apply_yaml(pod_yaml("p", resources))
    stored = cluster.get("Pod", "p")
    assert stored.status == PodStatus(phase="Pending", qos_class=want)
    text = manifests.to_json(stored)
    assert json.loads(text)["status"] == {"phase": "Pending", "qosClass": want}
    assert wire.sizes3(stored)[0] == len(text)
    assert [r.json_bytes for r in cluster.changes if r.kind == "Pod"] == [len(text)]


@pytest.mark.parametrize("engine", ["lean", "full"])
def test_controller_pods_keep_their_class_through_the_kubelet(engine: str) -> None:
    cluster = kubesim.Cluster(engine=engine, nodes=2, seed=4)
    cluster.apply_yaml("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: nginx
        resources: {requests: {cpu: 500m, memory: 64Mi}, limits: {cpu: 500m, memory: 64Mi}}
""")
    cluster.run(until=60)
    pods = cluster.list("Pod")
    assert len(pods) == 3
    assert {(p.status.phase, p.status.qos_class) for p in pods} == {("Running", "Guaranteed")}
    for p in pods:
        assert wire.sizes3(p)[0] == len(manifests.to_json(p))


def test_both_engines_write_the_same_qos_class_log() -> None:
    logs = []
    for engine in ("lean", "full"):
        cluster = kubesim.Cluster(engine=engine, nodes=2, seed=9)
        scenarios.deploy(cluster, "web", replicas=4)
        cluster.run(until=60)
        logs.append([(r.seq, r.verb, r.name, r.json_bytes, r.proto_bytes) for r in cluster.changes])
    assert logs[0] == logs[1]


def test_a_class_given_at_create_is_kept() -> None:
    # GetPodQOS reads status.qosClass first; PrepareForCreate stores what it returns
    cluster = kubesim.Cluster(nodes=0)
    pod = Pod(ObjectMeta(name="p"), PodSpec(containers=(BEST_EFFORT,)), PodStatus(qos_class="Burstable"))
    assert cluster.create(pod).status == PodStatus(phase="Pending", qos_class="Burstable")


def test_an_update_that_clears_the_class_keeps_the_stored_one() -> None:
    cluster = kubesim.Cluster(nodes=0)
    cluster.apply_yaml(pod_yaml("p"))
    stored = cluster.get("Pod", "p")
    # a status written without the class (as an old kubelet's): the stored class is backfilled
    new = cluster.update(attrs.evolve(stored, status=PodStatus(phase="Running")))
    assert new.status == PodStatus(phase="Running", qos_class="BestEffort")
    # an update that changes nothing else but clears the class is no write at all
    seq = len(cluster.changes)
    assert cluster.update(attrs.evolve(new, status=attrs.evolve(new.status, qos_class=""))) is cluster.get("Pod", "p")
    assert len(cluster.changes) == seq
    # ValidatePodStatusUpdate: Pod QoS is immutable, another class is refused (nothing written)
    with pytest.raises(InvalidObject) as info:
        cluster.update(attrs.evolve(new, status=attrs.evolve(new.status, qos_class="Burstable")))
    assert [(f.path, f.value, f.detail) for f in info.value.errors] == [
        ("status.qosClass", "Burstable", "field is immutable")]
    assert len(cluster.changes) == seq and cluster.get("Pod", "p") is new


def test_wire_writes_the_class_at_field_9_and_after_container_statuses() -> None:
    st = PodStatus(phase="Pending", qos_class="BestEffort")
    # phase 1; message 3, reason 4, hostIP 5, podIP 6 (empty strings); qosClass 9;
    # nominatedNodeName 11, resize 14 (empty); observedGeneration 17 (0)
    assert _pod_status(st) == (
        b"\x0a\x07Pending" + b"\x1a\x00\x22\x00\x2a\x00\x32\x00" + b"\x4a\x0aBestEffort" + b"\x5a\x00\x72\x00" + b"\x88\x01\x00"
    )
    assert manifests.to_json(st) == b'{"phase":"Pending","qosClass":"BestEffort"}'
    running = PodStatus(
        phase="Running", pod_ip="10.0.0.1", container_statuses=(ContainerStatus("c", ready=True),), qos_class="Burstable"
    )
    text = manifests.to_json(running).decode()
    assert text.index('"containerStatuses"') < text.index('"qosClass":"Burstable"')
    for s in (PodStatus(), st, running, attrs.evolve(running, qos_class="")):
        pair = _pod_status_pair(s)
        assert pair & _PAIR_MASK == len(_pod_status(s))
        assert pair >> _PAIR_SHIFT == len(manifests.to_json(s))
    # decoded back from the manifest
    assert manifests.from_manifest(manifests.to_manifest(Pod(ObjectMeta(name="p"), status=running))).status == running


def test_kubectl_shows_the_stored_class() -> None:
    cluster = kubesim.Cluster(nodes=0)
    cluster.apply_yaml(pod_yaml("p"))
    assert json.loads(cluster.kubectl("get pod p -o json"))["status"]["qosClass"] == "BestEffort"
    assert "  qosClass: BestEffort\n" in cluster.kubectl("get pod p -o yaml")
    assert qos_line(cluster.kubectl("describe pod p")) == "QoS Class:        BestEffort"
    # describe prints status.qosClass when set, as kubectl does, not a class it computes
    cluster.create(Pod(ObjectMeta(name="g"), PodSpec(containers=(BEST_EFFORT,)), PodStatus(qos_class="Guaranteed")))
    assert qos_line(cluster.kubectl("describe pod g")) == "QoS Class:        Guaranteed"


def qos_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("QoS Class:"))


def test_a_huge_exponent_is_stored_with_its_class() -> None:
    # 1e3000000 is a valid quantity upstream (ParseQuantity keeps the exponent, no 10**e); the
    # create computes its class from (digits, exponent), not from the value's 3,000,001 digits
    cluster = kubesim.Cluster(nodes=0)
    cluster.apply_yaml(pod_yaml("big", "resources: {limits: {cpu: '1', memory: '1e3000000'}}"))
    assert cluster.get("Pod", "big").status.qos_class == "Guaranteed"
    cluster.apply_yaml(pod_yaml("big2", "resources: {limits: {memory: '1e3000000'}, requests: {memory: '1e2999999'}}"))
    assert cluster.get("Pod", "big2").status.qos_class == "Burstable"


def test_the_class_is_memoised_by_the_spec() -> None:
    spec = PodSpec(containers=[c(requests=both("100m", "64Mi"), limits=both("100m", "64Mi"))])
    qos.clear_caches()
    assert qos.compute_pod_qos(spec) == "Guaranteed"
    assert id(spec) in qos._COMPUTE_POD_QOS.cache
    assert qos.compute_pod_qos(spec) == "Guaranteed"  # the hit
    # an equal spec that is another object is computed anew, with the same answer
    assert qos.compute_pod_qos(attrs.evolve(spec)) == "Guaranteed"
    qos.clear_caches()
    assert not qos._COMPUTE_POD_QOS.cache


@pytest.mark.parametrize("options", [{"engine": "lean"}, {"engine": "full"}, {"check": True}])
def test_a_class_change_is_refused_on_every_engine(options: dict[str, object]) -> None:
    # the kubelet's and scheduler's writes (trusted by the lean engine) carry the stored class;
    # a client's write naming another one is validated and refused on every engine alike
    cluster = kubesim.Cluster(nodes=2, seed=3, **options)  # type: ignore[arg-type]
    scenarios.deploy(cluster, "web", replicas=3)
    cluster.run(until=30)
    pod = cluster.list("Pod")[0]
    assert pod.status.phase == "Running" and pod.status.qos_class == "BestEffort"
    seq = len(cluster.changes)
    with pytest.raises(InvalidObject):
        cluster.update(attrs.evolve(pod, status=attrs.evolve(pod.status, qos_class="Guaranteed")))
    assert len(cluster.changes) == seq
    cluster.run(until=60)


SAVED_RUNNING_POD = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: saved, labels: {app: web}}
spec: {containers: [{name: c, image: nginx}]}
status:
  phase: Running
  podIP: 10.9.9.9
  podIPs: [{ip: 10.9.9.9}]
  conditions: [{type: Ready, status: "True"}]
  qosClass: Burstable
"""


def _saved_pod_manifest() -> dict[str, Any]:
    docs = manifests.load_yaml(SAVED_RUNNING_POD)
    return manifests.to_manifest(docs[1])


@pytest.mark.parametrize("path", ["apply_yaml", "apply_file", "apply", "apply-manifest", "create-manifest", "kubectl"])
def test_a_manifest_pod_is_created_with_upstreams_status(path: str, tmp_path: Path) -> None:
    # PrepareForCreate replaces the whole status on every manifest path: a saved running pod's
    # manifest, re-applied, is a pending pod (its class kept: GetPodQOS reads it first) whose
    # IP enters no Endpoints
    cluster = kubesim.Cluster(nodes=0)
    cluster.apply_yaml(SAVED_RUNNING_POD.split("---")[0])
    if path == "apply_yaml":
        cluster.apply_yaml(SAVED_RUNNING_POD)
    elif path == "apply_file":
        f = tmp_path / "saved.yaml"
        f.write_text(SAVED_RUNNING_POD)
        cluster.apply_file(f)
    elif path == "apply":
        cluster.apply(manifests.load_yaml(SAVED_RUNNING_POD)[1])
    elif path == "apply-manifest":
        cluster.apply(_saved_pod_manifest())
    elif path == "create-manifest":
        cluster.create(_saved_pod_manifest())
    else:
        f = tmp_path / "saved.yaml"
        f.write_text(SAVED_RUNNING_POD)
        assert cluster.kubectl(f"apply -f {f}") == "service/web unchanged\npod/saved created\n"
    assert cluster.get("Pod", "saved").status == PodStatus(phase="Pending", qos_class="Burstable")
    cluster.run(until=cluster.now + 5)
    assert [a.ip for s in cluster.get("Endpoints", "web").subsets for a in s.addresses] == []


def test_the_object_api_keeps_a_given_status() -> None:
    # kubesim's documented extension: a Pod object created through the Python API keeps its status
    cluster = kubesim.Cluster(nodes=0)
    pod = manifests.load_yaml(SAVED_RUNNING_POD)[1]
    stored = cluster.create(pod)
    assert (stored.status.phase, stored.status.pod_ip, stored.status.qos_class) == ("Running", "10.9.9.9", "Burstable")
    other = kubesim.Cluster(nodes=0)
    assert other.api.create(pod, reset_pod_status=True).status == PodStatus(phase="Pending", qos_class="Burstable")
