"""The components' Events (issue 17): reason, type, message and involved object of each emitter,
against upstream's formats (the file each test cites), and the change log they leave.

Expected messages are spelled out here from the upstream format strings, not read from the code
under test; counts are derived from the emitted-per-pod rule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import kubesim
from kubesim import probes
from kubesim.faults import FaultPlan

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
{extra}      containers:
      - name: nginx
        image: {image}
        ports: [{{containerPort: 80}}]
{probes}"""

POD = """
apiVersion: v1
kind: Pod
metadata: {{name: web, labels: {{app: web}}}}
spec:
{extra}  containers:
  - name: nginx
    image: nginx:1.25
    ports: [{{containerPort: 80}}]
{probes}"""


def events(c: kubesim.Cluster, reason: str | None = None) -> list[dict[str, Any]]:
    """Every stored Event as its JSON document, oldest first (by creation, then name)."""
    out = []
    for e in c.list("Event", None):
        doc = json.loads(e.content)
        doc["_name"] = e.metadata.name
        doc["_created"] = e.metadata.creation_timestamp
        doc["_rv"] = int(e.metadata.resource_version)
        out.append(doc)
    out.sort(key=lambda d: d["_rv"])
    return [d for d in out if reason is None or d["reason"] == reason]


def deployment(c: kubesim.Cluster, replicas: int = 2, image: str = "nginx:1.25", probes_yaml: str = "",
               extra: str = "") -> None:
    c.apply_yaml(DEPLOYMENT.format(replicas=replicas, image=image, probes=probes_yaml, extra=extra))


READINESS_8080 = """        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 5
"""


# ------------------------------------------------------------------------------------ kubelet


def test_readiness_probe_on_the_wrong_port_is_a_warning_unhealthy_with_connection_refused() -> None:
    # pkg/kubelet/prober/prober.go: Eventf(ref, Warning, "Unhealthy", "%s probe failed: %s",
    # probeType, output); pkg/probe/http/http.go returns Go's client error as the output:
    # Get "<url>": dial tcp <ip>:<port>: connect: connection refused
    c = kubesim.Cluster(seed=0, nodes=2)
    deployment(c, probes_yaml=READINESS_8080)
    c.run(until=30.0)
    pods = {p.metadata.name: p for p in c.list("Pod")}
    bad = events(c, "Unhealthy")
    assert len(bad) == 2
    for ev in bad:
        pod = pods[ev["involvedObject"]["name"]]
        ip = pod.status.pod_ip
        assert ev["type"] == "Warning"
        assert ev["message"] == (
            f'Readiness probe failed: Get "http://{ip}:8080/": dial tcp {ip}:8080: connect: connection refused'
        )
        assert ev["involvedObject"]["kind"] == "Pod"
        assert ev["involvedObject"]["uid"] == pod.metadata.uid
        assert ev["involvedObject"]["fieldPath"] == "spec.containers{nginx}"
        assert ev["source"] == {"component": "kubelet", "host": pod.spec.node_name}


def test_a_started_container_is_pulled_created_started_in_that_order() -> None:
    # pkg/kubelet/kuberuntime/kuberuntime_image.go (image present: "Container image %q already
    # present on machine and can be accessed by the pod"), kuberuntime_container.go
    # startContainer ("Container created", "Container started"), all Normal, about the container
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes=""))
    c.run(until=20.0)
    kubelet = [e for e in events(c) if e["source"]["component"] == "kubelet"]
    assert [(e["type"], e["reason"], e["message"]) for e in kubelet] == [
        ("Normal", "Pulled", 'Container image "nginx:1.25" already present on machine and can be accessed by the pod'),
        ("Normal", "Created", "Container created"),
        ("Normal", "Started", "Container started"),
    ]
    assert all(e["involvedObject"]["fieldPath"] == "spec.containers{nginx}" for e in kubelet)


def test_a_failing_liveness_probe_is_unhealthy_then_killing_then_a_restart() -> None:
    # prober.go "Liveness probe failed: ..."; kuberuntime_manager.go computePodActions:
    # "Container %s failed liveness probe" + ", will be restarted"; then startContainer again
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes="""    livenessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 10
      failureThreshold: 3
"""))
    c.controllers["kubelet"].set_behaviour(("default", "web"), probes.AppBehaviour(unready=[(5, 1000)]))
    c.run(until=100.0)
    pod = c.get("Pod", "web")
    ip = pod.status.pod_ip
    by_name = {e["_name"]: e for e in events(c)}
    writes = [(r.time, by_name[r.name]["reason"]) for r in c.changes if r.kind == "Event" and r.actor == "kubelet"]
    (unhealthy,) = events(c, "Unhealthy")
    assert unhealthy["message"] == f"Liveness probe failed: dial tcp {ip}:80: connect: connection refused"
    # every Killing write comes right after the Unhealthy write of the failure that reached
    # failureThreshold, in the same instant
    kills = [i for i, w in enumerate(writes) if w[1] == "Killing"]
    assert kills
    for i in kills:
        assert writes[i - 1] == (writes[i][0], "Unhealthy")
    # prober.go records every failed probe: failureThreshold (3) per killed instance, then the
    # failures of the running instance (probes 10 s apart from its start, failing from 5 s)
    restarts = pod.status.container_statuses[0].restart_count
    assert restarts >= 1 and len(kills) == restarts
    last_start = max(t for t, reason in writes if reason == "Started")
    current = len([k for k in (1, 2) if last_start + 10 * k <= 100.0])
    assert len(writes) <= 25, "within the spam filter's burst: no write was dropped"
    assert unhealthy["count"] == 3 * restarts + current
    # the restart's Pulled/Created/Started repeat the first ones: the correlator counts them
    started = events(c, "Started")
    assert len(started) == 1 and started[0]["count"] == 1 + pod.status.container_statuses[0].restart_count


def test_a_deleted_pod_is_killing_stopping_container() -> None:
    # kuberuntime_container.go killContainer: "Stopping container %s" (Normal Killing)
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes=""))
    c.run(until=10.0)
    c.delete("Pod", "web")
    c.run(until=60.0)
    killing = events(c, "Killing")
    assert [(e["type"], e["message"], e["involvedObject"]["fieldPath"]) for e in killing] == [
        ("Normal", "Stopping container nginx", "spec.containers{nginx}")
    ]


def test_a_crash_looping_container_is_back_off() -> None:
    # kuberuntime_manager.go doBackOff: Eventf(pod, Warning, "BackOff", "Back-off restarting
    # failed container %s in pod %v", name, format.Pod(pod)); format.Pod is name_namespace(uid)
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes=""))
    c.controllers["kubelet"].set_behaviour(("default", "web"), probes.AppBehaviour(exit_after=2))
    c.run(until=60.0)
    pod = c.get("Pod", "web")
    back = events(c, "BackOff")
    assert back, "a second crash within the back-off window waits in CrashLoopBackOff"
    assert back[0]["type"] == "Warning"
    assert back[0]["message"] == (
        f"Back-off restarting failed container nginx in pod web_default({pod.metadata.uid})"
    )
    assert "fieldPath" not in back[0]["involvedObject"]  # about the pod, not a container


def test_probe_failure_messages_per_cause() -> None:
    # pkg/probe/tcp/tcp.go (the dial error), pkg/probe/http/http.go ("HTTP probe failed with
    # statuscode: %d"; the client timeout), pkg/probe/util.go ResolveContainerPort errors and
    # prober.go's "%s probe errored and resulted in %s state: %s"
    from kubesim.objects import (
        Container,
        ContainerPort,
        ExecAction,
        HTTPGetAction,
        Probe,
        TCPSocketAction,
    )

    c = Container("web", ports=[ContainerPort(80, name="http")])
    http = Probe(http_get=HTTPGetAction(port="http", path="/healthz"), timeout_seconds=1)
    ok = probes.AppBehaviour(unready=[(10, 20)])
    assert probes.probe_failure_message("Readiness", http, c, ok, "10.0.0.1", 15) == (
        "Readiness probe failed: HTTP probe failed with statuscode: 503"
    )
    slow = probes.AppBehaviour(response_seconds=2)
    assert probes.probe_failure_message("Liveness", http, c, slow, "10.0.0.1", 15) == (
        'Liveness probe failed: Get "http://10.0.0.1:80/healthz": context deadline exceeded '
        "(Client.Timeout exceeded while awaiting headers)"
    )
    tcp = Probe(tcp_socket=TCPSocketAction(port=81))
    assert probes.probe_failure_message("Startup", tcp, c, ok, "fd00::1", 0) == (
        "Startup probe failed: dial tcp [fd00::1]:81: connect: connection refused"
    )
    named = Probe(http_get=HTTPGetAction(port="metrics"))
    assert probes.probe_failure_message("Readiness", named, c, ok, "10.0.0.1", 0) == (
        'Readiness probe errored and resulted in unknown state: strconv.Atoi: parsing "metrics": invalid syntax'
    )
    assert probes.probe_failure_message("Readiness", Probe(exec=ExecAction(("cat", "/ok"))), c, ok, "", 15) == (
        "Readiness probe failed: "
    )


# ------------------------------------------------------------------------------------ scheduler


def test_scheduled_names_the_pod_and_the_node() -> None:
    # pkg/scheduler/schedule_one.go: Eventf(pod, nil, Normal, "Scheduled", "Binding",
    # "Successfully assigned %v/%v to %v", ns, name, node)
    c = kubesim.Cluster(seed=0, nodes=2)
    c.apply_yaml(POD.format(extra="", probes=""))
    c.run(until=10.0)
    pod = c.get("Pod", "web")
    (ev,) = events(c, "Scheduled")
    assert ev["type"] == "Normal"
    assert ev["message"] == f"Successfully assigned default/web to {pod.spec.node_name}"
    assert ev["source"] == {"component": "default-scheduler"}
    assert ev["involvedObject"]["uid"] == pod.metadata.uid


def test_an_unschedulable_pod_is_failed_scheduling_with_the_node_histogram() -> None:
    # pkg/scheduler/framework/types.go FitError.Error: "0/%v nodes are available: <sorted
    # "count reason">." + the DefaultPreemption post-filter's "preemption: 0/%v nodes are
    # available: <count> Preemption is not helpful for scheduling."
    c = kubesim.Cluster(seed=0, nodes=2)
    c.apply_yaml(POD.format(extra="  nodeSelector: {disk: ssd}\n", probes=""))
    c.run(until=10.0)
    bad = events(c, "FailedScheduling")
    assert bad and bad[0]["type"] == "Warning"
    assert bad[0]["message"] == (
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )
    assert not events(c, "Scheduled")


def test_failed_scheduling_counts_each_nodes_first_failing_filter() -> None:
    # the default profile's filter order: NodeUnschedulable, TaintToleration, NodeAffinity,
    # NodeResourcesFit ("Too many pods"; preemption finds no lower-priority victim)
    from kubesim.controllers.node.scheduler import fit_error_message

    assert fit_error_message([
        "node(s) were unschedulable", "node(s) had untolerated taint(s)", "Too many pods", "Too many pods",
    ]) == (
        "0/4 nodes are available: 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable, "
        "2 Too many pods. preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling."
    )
    assert fit_error_message([]) == "no nodes available to schedule pods"
    c = kubesim.Cluster(seed=0, nodes=2)
    c.controllers["nodelifecycle"].cordon("node-1")
    c.run(until=1.0)
    c.apply_yaml(POD.format(extra="  nodeSelector: {disk: ssd}\n", probes=""))
    c.run(until=10.0)
    assert events(c, "FailedScheduling")[0]["message"].startswith(
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) were unschedulable. "
    )


# ------------------------------------------------------------------------------------ workloads


def test_a_rolling_update_scales_up_and_down_in_upstream_order() -> None:
    # pkg/controller/deployment/sync.go scaleReplicaSet: "Scaled %s replica set %s from %d to %d"
    # about the Deployment. With 2 replicas, maxSurge 25% -> 1 and maxUnavailable 25% -> 0:
    # new 0->1, old 2->1, new 1->2, old 1->0.
    c = kubesim.Cluster(seed=0, nodes=2)
    deployment(c)
    c.run(until=30.0)
    (old,) = c.list("ReplicaSet")
    c.kubectl("set image deployment/web nginx=nginx:1.26")
    c.run(until=200.0)
    new = next(rs for rs in c.list("ReplicaSet") if rs.metadata.name != old.metadata.name)
    o, n = old.metadata.name, new.metadata.name
    scaling = [(e["type"], e["message"]) for e in events(c, "ScalingReplicaSet")]
    assert scaling == [
        ("Normal", f"Scaled up replica set {o} from 0 to 2"),
        ("Normal", f"Scaled up replica set {n} from 0 to 1"),
        ("Normal", f"Scaled down replica set {o} from 2 to 1"),
        ("Normal", f"Scaled up replica set {n} from 1 to 2"),
        ("Normal", f"Scaled down replica set {o} from 1 to 0"),
    ]
    assert {e["involvedObject"]["kind"] for e in events(c, "ScalingReplicaSet")} == {"Deployment"}
    # pkg/controller/controller_utils.go RealPodControl: "Deleted pod: %v" about the ReplicaSet
    deleted = events(c, "SuccessfulDelete")
    assert len(deleted) == 2 and all(e["involvedObject"]["name"] == o for e in deleted)
    assert all(e["message"].startswith(f"Deleted pod: {o}-") for e in deleted)
    assert {e["source"]["component"] for e in deleted} == {"replicaset-controller"}


def test_event_writes_of_a_small_deployment() -> None:
    # per pod: SuccessfulCreate (replicaset-controller), Scheduled (default-scheduler), Pulled,
    # Created, Started (kubelet) = 5 Event creates; plus one ScalingReplicaSet for the
    # Deployment; nothing repeats, so no patch.
    replicas = 3
    c = kubesim.Cluster(seed=0, nodes=2)
    deployment(c, replicas=replicas)
    c.run(until=60.0)
    writes = [r for r in c.changes if r.kind == "Event"]
    assert sum(1 for r in writes if r.verb == "create") == 5 * replicas + 1
    assert all(r.verb == "create" for r in writes)
    by_actor: dict[str, int] = {}
    for r in writes:
        by_actor[r.actor] = by_actor.get(r.actor, 0) + 1
    assert sum(by_actor.values()) == 5 * replicas + 1


def test_statefulset_records_its_pod_creations() -> None:
    # pkg/controller/statefulset/stateful_pod_control.go recordPodEvent:
    # "%s Pod %s in StatefulSet %s successful" with reason Successful<Verb>
    c = kubesim.Cluster(seed=0, nodes=2)
    c.apply_yaml("""
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:16"}]
""")
    c.run(until=60.0)
    made = [(e["reason"], e["message"]) for e in events(c, "SuccessfulCreate")]
    assert made == [
        ("SuccessfulCreate", "create Pod db-0 in StatefulSet db successful"),
        ("SuccessfulCreate", "create Pod db-1 in StatefulSet db successful"),
    ]
    assert {e["source"]["component"] for e in events(c, "SuccessfulCreate")} == {"statefulset-controller"}


# ------------------------------------------------------------------------------------ node lifecycle


def test_an_unreachable_node_marks_its_pods_node_not_ready() -> None:
    # pkg/controller/util/node/controller_utils.go MarkPodsNotReady: Warning NodeNotReady
    # "Node is not ready" about each pod; RecordNodeStatusChange: "Node %s status is now: %s"
    c = kubesim.Cluster(seed=0, nodes=2)
    deployment(c)
    c.run(until=30.0)
    node = c.list("Pod")[0].spec.node_name
    c.controllers["nodelifecycle"].fail_node(node)
    c.run(until=120.0)
    on_node = [e for e in events(c, "NodeNotReady") if e["involvedObject"]["kind"] == "Pod"]
    assert on_node and all((e["type"], e["message"]) == ("Warning", "Node is not ready") for e in on_node)
    (node_ev,) = [e for e in events(c, "NodeNotReady") if e["involvedObject"]["kind"] == "Node"]
    assert node_ev["message"] == f"Node {node} status is now: NodeNotReady"
    assert {e["source"]["component"] for e in events(c, "NodeNotReady")} == {"node-controller"}


# ------------------------------------------------------------------------------------ the change log


def _scenario(events_on: bool, faults: Any = None) -> kubesim.Cluster:
    c = kubesim.Cluster(seed=3, nodes=2, events=events_on, faults=faults)
    deployment(c, probes_yaml=READINESS_8080)
    c.apply_yaml(POD.format(extra="  nodeSelector: {disk: ssd}\n", probes=""))
    c.run(until=40.0)
    c.kubectl("set image deployment/web nginx=nginx:1.26")
    c.run(until=120.0)
    c.delete("Pod", "web")
    c.run(until=200.0)
    return c


@pytest.mark.parametrize("faults", [None, FaultPlan(error_rate=0.2, conflict_rate=0.1)], ids=["clean", "faults"])
def test_events_change_no_other_write(faults: Any) -> None:
    """With Events on, the non-Event records are those without, but for seq and the
    resourceVersion (and the digits it takes in the sizes), refused attempts included."""
    off, on = _scenario(False, faults), _scenario(True, faults)
    assert not [r for r in off.changes if r.kind == "Event"]
    assert [r for r in on.changes if r.kind == "Event"]

    def key(r: Any) -> tuple[Any, ...]:
        return (r.time, r.verb, r.kind, r.namespace, r.name, r.actor, r.outcome, r.cause, r.labels)

    assert [key(r) for r in on.changes if r.kind != "Event"] == [key(r) for r in off.changes]


# ------------------------------------------------------------------------------------ refused writes


def _refuse_once(c: kubesim.Cluster, monkeypatch: Any, verb: str, kind: str, actor: str) -> list[str]:
    """Make the API server refuse the first ``verb`` of ``kind`` by ``actor`` (HTTP 500)."""
    from kubesim.errors import ServerError

    cls = type(c.api)
    real = getattr(cls, verb)
    refused: list[str] = []

    def once(self: Any, obj: Any, *args: Any, **kw: Any) -> Any:
        if not refused and self is c.api and type(obj).__name__ == kind and kw.get("actor") == actor:
            refused.append(obj.metadata.name or obj.metadata.generate_name)
            raise ServerError("Internal error occurred: injected")
        return real(self, obj, *args, **kw)

    monkeypatch.setattr(cls, verb, once)
    return refused


def test_a_refused_slice_write_is_failed_to_update_endpoint_slices(monkeypatch: Any) -> None:
    # pkg/controller/endpointslice/endpointslice_controller.go syncService: Eventf(service,
    # Warning, "FailedToUpdateEndpointSlices", "Error updating Endpoint Slices for Service %s/%s:
    # %v", ...) with the reconciler's finalize error "failed to create EndpointSlice for
    # Service %s/%s: %v"
    c = kubesim.Cluster(seed=0, nodes=1)
    refused = _refuse_once(c, monkeypatch, "create", "EndpointSlice", "endpointslice-controller")
    c.apply_yaml(POD.format(extra="", probes="") + """---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
""")
    c.run(until=30.0)
    assert refused
    (ev,) = events(c, "FailedToUpdateEndpointSlices")
    assert ev["type"] == "Warning"
    assert ev["message"] == (
        "Error updating Endpoint Slices for Service default/web: failed to create EndpointSlice for "
        "Service default/web: Internal error occurred: injected"
    )
    assert ev["involvedObject"]["kind"] == "Service"
    assert ev["source"] == {"component": "endpoint-slice-controller"}
    assert c.list("EndpointSlice")  # the retry wrote it


def test_a_refused_endpoints_write_is_failed_to_create_endpoint(monkeypatch: Any) -> None:
    # pkg/controller/endpoint/endpoints_controller.go syncService: Eventf(newEndpoints, Warning,
    # "FailedToCreateEndpoint", "Failed to create endpoint for service %v/%v: %v", ...)
    c = kubesim.Cluster(seed=0, nodes=1)
    refused = _refuse_once(c, monkeypatch, "create", "Endpoints", "endpoint-controller")
    c.apply_yaml("""
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
""")
    c.run(until=30.0)
    assert refused
    (ev,) = events(c, "FailedToCreateEndpoint")
    assert (ev["type"], ev["message"]) == (
        "Warning", "Failed to create endpoint for service default/web: Internal error occurred: injected"
    )
    assert ev["involvedObject"]["kind"] == "Endpoints" and ev["involvedObject"]["name"] == "web"
    assert ev["source"] == {"component": "endpoint-controller"}


def test_a_refused_pod_creation_is_failed_create(monkeypatch: Any) -> None:
    # pkg/controller/controller_utils.go RealPodControl.createPods: Eventf(object, Warning,
    # "FailedCreate", "Error creating: %v", err) about the ReplicaSet
    c = kubesim.Cluster(seed=0, nodes=1)
    refused = _refuse_once(c, monkeypatch, "create", "Pod", "replicaset-controller")
    deployment(c, replicas=1)
    c.run(until=30.0)
    assert refused
    (ev,) = events(c, "FailedCreate")
    assert (ev["type"], ev["message"]) == ("Warning", "Error creating: Internal error occurred: injected")
    assert ev["involvedObject"]["kind"] == "ReplicaSet"
    assert len(events(c, "SuccessfulCreate")) == 1  # the retry


# ------------------------------------------------------------------------------------ topology hints

HINTED_SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations: {"service.kubernetes.io/topology-mode": Auto}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


def test_topology_aware_hints_enabled_then_disabled() -> None:
    # k8s.io/endpointslice topologycache: AddHints records Normal TopologyAwareHintsEnabled
    # FormatWithAddressType(TopologyAwareHintsEnabled) ("Topology Aware Hints has been enabled,
    # addressType: IPv4") the first time; reconciler.go records Warning TopologyAwareHintsDisabled
    # ("Topology Aware Hints has been disabled, addressType: IPv4") when the annotation goes
    # while hints were populated; both about the Service, source endpoint-slice-controller
    c = kubesim.Cluster(seed=0, nodes=3, zones=3)
    deployment(c, replicas=6)
    c.apply_yaml(HINTED_SERVICE)
    c.run(until=60.0)
    # (hints come and go while the pods start: 4 endpoints in 3 zones exceed the overload
    # threshold, so hints are disabled and enabled again at 6; one Event, counted)
    (on,) = events(c, "TopologyAwareHintsEnabled")
    assert (on["type"], on["message"]) == ("Normal", "Topology Aware Hints has been enabled, addressType: IPv4")
    assert on["involvedObject"]["kind"] == "Service" and on["source"] == {"component": "endpoint-slice-controller"}
    c.apply_yaml(HINTED_SERVICE.replace('annotations: {"service.kubernetes.io/topology-mode": Auto}',
                                        "annotations: {}"))
    c.run(until=120.0)
    off = [e for e in events(c, "TopologyAwareHintsDisabled") if e["_created"] >= c.now_unix - 60]
    assert [(e["type"], e["message"]) for e in off] == [
        ("Warning", "Topology Aware Hints has been disabled, addressType: IPv4")
    ]


def test_topology_hints_in_one_zone_are_disabled() -> None:
    # topologycache SetNodes: fewer than 2 zones leaves cpuRatiosByZone nil, so getAllocations
    # answers InsufficientNodeInfo (its NodesReadyInOneZoneOnly branch is not reached)
    c = kubesim.Cluster(seed=0, nodes=2, zones=1)
    deployment(c, replicas=4)
    c.apply_yaml(HINTED_SERVICE)
    c.run(until=60.0)
    off = events(c, "TopologyAwareHintsDisabled")
    assert [e["message"] for e in off] == [
        "Insufficient Node information: allocatable CPU or zone not specified on one or more nodes, "
        "addressType: IPv4"
    ]
    assert not events(c, "TopologyAwareHintsEnabled")


def test_daemonset_records_created_pods() -> None:
    # the DaemonSet controller uses RealPodControl too: "Created pod: %v" about the DaemonSet,
    # one per node, source daemonset-controller
    c = kubesim.Cluster(seed=0, nodes=3)
    c.apply_yaml("""
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: "busybox:1.36"}]
""")
    c.run(until=30.0)
    made = events(c, "SuccessfulCreate")
    names = sorted(p.metadata.name for p in c.list("Pod"))
    assert len(names) == 3
    assert sorted(e["message"] for e in made) == [f"Created pod: {n}" for n in names]
    assert {(e["involvedObject"]["kind"], e["source"]["component"]) for e in made} == {("DaemonSet", "daemonset-controller")}


def test_a_delayed_failing_first_probe_is_still_reported() -> None:
    # a readiness probe with initialDelaySeconds on the wrong port fails from its first probe
    # on (prober.go records every failure): one Event, its count patched at each failure
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes="""    readinessProbe:
      httpGet: {path: /ready, port: 8080}
      initialDelaySeconds: 5
      periodSeconds: 10
"""))
    c.run(until=60.0)
    ip = c.get("Pod", "web").status.pod_ip
    assert [e["message"] for e in events(c, "Unhealthy")] == [
        f'Readiness probe failed: Get "http://{ip}:8080/ready": dial tcp {ip}:8080: connect: connection refused'
    ]


def test_a_slow_start_is_a_failed_startup_probe_without_a_kill() -> None:
    # the startup probe fails while the application starts (Go's "connection refused": nothing
    # listens yet), then succeeds before failureThreshold: Unhealthy, no Killing, no restart
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes="""    startupProbe:
      tcpSocket: {port: 80}
      periodSeconds: 5
      failureThreshold: 10
"""))
    c.controllers["kubelet"].set_behaviour(("default", "web"), probes.AppBehaviour(ready_after=12))
    c.run(until=60.0)
    ip = c.get("Pod", "web").status.pod_ip
    assert [e["message"] for e in events(c, "Unhealthy")] == [
        f"Startup probe failed: dial tcp {ip}:80: connect: connection refused"
    ]
    assert not events(c, "Killing")
    assert c.get("Pod", "web").status.container_statuses[0].restart_count == 0


def test_mirroring_too_many_addresses_is_a_warning_about_the_endpoints() -> None:
    # pkg/controller/endpointslicemirroring/reconciler.go reconcile: Eventf(endpoints, Warning,
    # "TooManyAddressesToMirror", "A max of %d addresses can be mirrored to EndpointSlices per
    # Endpoints subset. %d addresses were skipped", ...), source endpointslice-mirroring-controller
    c = kubesim.Cluster(seed=0, nodes=1, mirroring_max_endpoints_per_subset=2)
    c.apply_yaml("""
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: db}
subsets:
- addresses: [{ip: 192.168.49.1}, {ip: 192.168.49.2}, {ip: 192.168.49.3}]
  ports: [{port: 5432}]
""")
    c.run(until=10.0)
    (ev,) = events(c, "TooManyAddressesToMirror")
    assert (ev["type"], ev["message"]) == (
        "Warning", "A max of 2 addresses can be mirrored to EndpointSlices per Endpoints subset. 1 addresses were skipped"
    )
    assert (ev["involvedObject"]["kind"], ev["involvedObject"]["name"]) == ("Endpoints", "db")
    assert ev["source"] == {"component": "endpointslice-mirroring-controller"}


def test_a_sidecars_liveness_kill_names_the_init_container() -> None:
    # kuberuntime_manager.go computeInitContainerActions: "Init container %s failed liveness
    # probe" for a restartable init container, about spec.initContainers{name}
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="""  initContainers:
  - name: proxy
    image: envoy:1.30
    restartPolicy: Always
    ports: [{containerPort: 9901}]
    livenessProbe:
      tcpSocket: {port: 9901}
      periodSeconds: 10
      failureThreshold: 1
""", probes=""))
    c.controllers["kubelet"].set_behaviour(("default", "web"), probes.AppBehaviour(unready=[(5, 1000)]))
    c.run(until=40.0)
    killing = events(c, "Killing")
    assert killing and (killing[0]["message"], killing[0]["involvedObject"]["fieldPath"]) == (
        "Init container proxy failed liveness probe", "spec.initContainers{proxy}"
    )


# ------------------------------------------------------------------------------------ repeats

WRONG_PORT = """    readinessProbe:
      httpGet: {{path: /, port: 8080}}
      initialDelaySeconds: {delay}
      periodSeconds: {period}
"""


def _started_at(c: kubesim.Cluster) -> float:
    """Virtual time the pod's container started: its ``Started`` Event's first write."""
    (started,) = events(c, "Started")
    return min(r.time for r in c.changes if r.kind == "Event" and r.name == started["_name"])


def _failed_probes(start: float, delay: int, period: int, until: float) -> list[float]:
    """The counted probes of a probe that always fails (prober/worker.go): a tick every
    ``period`` from the container's start, skipped while the elapsed seconds are below
    ``initialDelaySeconds``; each records Unhealthy (prober.go, whatever the threshold)."""
    out, k = [], 0
    while start + k * period <= until:
        if k * period >= delay:
            out.append(start + k * period)
        k += 1
    return out


def _human_duration(seconds: int) -> str:
    # apimachinery/pkg/util/duration HumanDuration, the part below ten minutes
    if seconds < 120:
        return f"{seconds}s"
    m, s = divmod(seconds, 60)
    return f"{m}m" if s == 0 else f"{m}m{s}s"


def test_a_readiness_probe_on_the_wrong_port_counts_every_failed_probe() -> None:
    # prober.go records Unhealthy at every failed probe; events_cache.go's logger folds the
    # repeats into one Event (count, lastTimestamp patched); describe.go prints
    # "<last> (x<count> over <first>)" for a count above 1
    delay, period, until = 5, 10, 120.0
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes=WRONG_PORT.format(delay=delay, period=period)))
    c.run(until=until)
    failed = _failed_probes(_started_at(c), delay, period, until)
    (ev,) = events(c, "Unhealthy")
    assert ev["count"] == len(failed) > 10
    epoch = c.api.epoch
    assert ev["firstTimestamp"] == _rfc3339(epoch + int(failed[0]))
    assert ev["lastTimestamp"] == _rfc3339(epoch + int(failed[-1]))
    writes = [r.time for r in c.changes if r.kind == "Event" and r.name == ev["_name"]]
    assert writes == failed  # one create, then one patch per failure, each at its probe's time
    line = next(x for x in c.kubectl("describe pod web").splitlines() if "Unhealthy" in x)
    now = epoch + int(until)
    age = f"{_human_duration(now - (epoch + int(failed[-1])))} (x{len(failed)} over " \
          f"{_human_duration(now - (epoch + int(failed[0])))})"
    assert age in line, line


def _rfc3339(unix: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(unix, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _accepted(times: list[float], burst: int = 25, per_token: float = 300.0) -> list[float]:
    """golang.org/x/time/rate as the spam filter uses it (events_cache.go: burst 25, one token
    every 300 s, the bucket full at the first event): the times whose event is let through."""
    out: list[float] = []
    tokens, last = float(burst), times[0]
    for t in times:
        tokens = min(float(burst), tokens + (t - last) / per_token)
        last = t
        if tokens >= 1.0:
            tokens -= 1.0
            out.append(t)
    return out


def test_the_spam_filter_caps_a_long_failing_probe() -> None:
    # EventSourceObjectSpamFilter: the kubelet's events about one pod share a bucket; after 25
    # writes, about one per 300 s gets through; the dropped repeats are still counted, so the
    # next write carries the full count
    delay, period, until = 0, 10, 3600.0
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes=WRONG_PORT.format(delay=delay, period=period)))
    c.run(until=until)
    start = _started_at(c)
    failed = _failed_probes(start, delay, period, until)
    kubelet_names = {e["_name"] for e in events(c) if e["source"]["component"] == "kubelet"}
    writes = [r.time for r in c.changes if r.kind == "Event" and r.name in kubelet_names]
    # Pulled, Created, Started at the start, then the failures (the first one at the start too)
    expected = _accepted([start] * 3 + failed)
    assert writes == expected
    assert len(writes) < 25 + until / 300 + 1 < len(failed)
    (ev,) = events(c, "Unhealthy")
    last_write = max(t for t in writes if t in failed)
    assert ev["count"] == len([t for t in failed if t <= last_write])


def test_a_crash_loop_records_back_off_at_every_resync_of_the_hold() -> None:
    # kuberuntime_manager.go doBackOff records BackOff at each SyncPod in back-off; the pod
    # worker requeues a backed-off pod at the back-off's expiry, at most the resync interval
    # (syncFrequency, 1 min) later (pod_workers.go completeWork, kubernetes#133066): a hold is
    # synced as it starts and every 60 s until it expires. The restarts follow backoff.go:
    # the first at once, then 10 s after the exit, doubling up to 300 s.
    run, until = 2.0, 1500.0
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes=""))
    c.controllers["kubelet"].set_behaviour(("default", "web"), probes.AppBehaviour(exit_after=run))
    c.run(until=until)
    times: list[tuple[float, str]] = []  # every kubelet event about the pod, in time order
    backoff_times = []
    start, delay = _started_at(c), 0.0
    while start <= until:
        times += [(start, "Pulled"), (start, "Created"), (start, "Started")]
        exit_ = start + run
        restart = exit_ + delay
        k = 0
        while delay and exit_ + 60.0 * k < restart and exit_ + 60.0 * k <= until:
            times.append((exit_ + 60.0 * k, "BackOff"))
            backoff_times.append(exit_ + 60.0 * k)
            k += 1
        start, delay = restart, min(300.0, 2 * delay) if delay else 10.0
    accepted = set(_accepted([t for t, _ in sorted(times)]))
    (back,) = events(c, "BackOff")
    writes = [r.time for r in c.changes if r.kind == "Event" and r.name == back["_name"]]
    assert len(backoff_times) > 15
    assert writes == [t for t in backoff_times if t in accepted]


def _failing(events_on: bool) -> kubesim.Cluster:
    c = kubesim.Cluster(seed=3, nodes=2, events=events_on)
    deployment(c, replicas=3, probes_yaml="""        readinessProbe:
          httpGet: {path: /, port: 80}
          periodSeconds: 7
        startupProbe:
          tcpSocket: {port: 80}
          periodSeconds: 3
          failureThreshold: 20
""")
    c.run(until=5.0)
    kubelet = c.controllers["kubelet"]
    names = sorted(p.metadata.name for p in c.list("Pod"))
    behaviours = [
        probes.AppBehaviour(exit_after=4),  # a crash loop, deleted below
        probes.AppBehaviour(ready_after=20, unready=[(40, 200)]),
        probes.AppBehaviour(ready_after=8, flapping=probes.Flapping(start=10, mean_up=15, mean_down=9, seed=1,
                                                                     until=300)),
    ]
    for name, beh in zip(names, behaviours, strict=True):
        kubelet.set_behaviour(("default", name), beh)
    c.run(until=400.0)
    c.delete("Pod", names[0])
    c.run()
    return c


def test_repeats_change_no_other_write_and_no_end_of_run() -> None:
    """Unhealthy and BackOff repeats (probes failing below and past their thresholds, a crash
    loop, a flapping application, a deletion) write Events only: the other records are those
    of events=False but for seq and resourceVersion, and run() ends at the same instant."""
    off, on = _failing(False), _failing(True)
    assert not [r for r in off.changes if r.kind == "Event"]
    unhealthy = events(on, "Unhealthy")
    assert len(unhealthy) >= 3 and max(e["count"] for e in unhealthy) > 5
    assert events(on, "BackOff")

    def key(r: Any) -> tuple[Any, ...]:
        return (r.time, r.verb, r.kind, r.namespace, r.name, r.actor, r.outcome, r.cause, r.labels)

    assert [key(r) for r in on.changes if r.kind != "Event"] == [key(r) for r in off.changes]
    assert on.clock.now == off.clock.now
    # one seed, one result
    again = _failing(True)
    assert [(key(r), r.json_bytes, r.proto_bytes) for r in again.changes] == [
        (key(r), r.json_bytes, r.proto_bytes) for r in on.changes]
    # and time never goes back in the change log
    times = [r.time for r in on.changes]
    assert times == sorted(times)


def test_run_with_max_steps_records_the_repeats_due_by_until() -> None:
    # Cluster.run(until, max_steps=...) (kubesim serve's advance) ends through the clock's
    # run(until), so the passive source records what is due by until, as run(until) does
    runs = []
    for max_steps in (None, 100_000):
        c = kubesim.Cluster(seed=0, nodes=1)
        c.apply_yaml(POD.format(extra="", probes=WRONG_PORT.format(delay=0, period=10)))
        c.run(until=100.0, max_steps=max_steps)
        runs.append([(r.time, r.verb, r.name) for r in c.changes])
    assert runs[0] == runs[1]
    assert len([r for r in runs[0] if r[1] == "update" and "." in r[2]]) >= 8


def test_an_unschedulable_pod_is_retried_by_the_queues_flush() -> None:
    # scheduling_queue.go: flushUnschedulablePodsLeftover runs every 30 s and moves a pod that
    # has waited in unschedulablePods more than podMaxInUnschedulablePodsDuration (5 min) back
    # to the active queue; each attempt that fails records FailedScheduling (schedule_one.go),
    # the repeats counted by the correlator. Nothing else is written for it.
    until = 1800.0
    c = kubesim.Cluster(seed=0, nodes=2)
    c.apply_yaml(POD.format(extra="  nodeSelector: {disk: ssd}\n", probes=""))
    c.run(until=until)
    (ev,) = events(c, "FailedScheduling")
    writes = [r.time for r in c.changes if r.kind == "Event" and r.name == ev["_name"]]
    attempts = [writes[0]]  # the first attempt, after the scheduler's latency
    while True:
        tick = 30.0
        while tick <= attempts[-1] + 300.0:
            tick += 30.0
        if tick > until:
            break
        attempts.append(tick)
    assert len(attempts) >= 5
    assert writes == attempts and ev["count"] == len(attempts)
    off = kubesim.Cluster(seed=0, nodes=2, events=False)
    off.apply_yaml(POD.format(extra="  nodeSelector: {disk: ssd}\n", probes=""))
    off.run(until=until)
    assert [(r.time, r.verb, r.name) for r in c.changes if r.kind != "Event"] == [
        (r.time, r.verb, r.name) for r in off.changes]


def test_a_timed_retry_restarts_from_a_real_attempt() -> None:
    # a node event retries the pod at once (a real attempt); the flush counts from that attempt
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="  nodeSelector: {disk: ssd}\n", probes=""))
    c.run(until=100.0)
    c.kubectl("label node node-1 zone=a")  # a label change: retried, still no fit
    c.run(until=500.0)
    (ev,) = events(c, "FailedScheduling")
    writes = [r.time for r in c.changes if r.kind == "Event" and r.name == ev["_name"]]
    assert len(writes) == 3 and writes[1] >= 100.0
    assert writes[2] == (int((writes[1] + 300.0) // 30.0) + 1) * 30.0


def test_a_kubelet_that_is_down_records_no_failed_probe() -> None:
    # a stopped kubelet probes nothing; back up, it probes again on the container's ticks
    delay, period = 0, 10
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(POD.format(extra="", probes=WRONG_PORT.format(delay=delay, period=period)))
    c.run(until=50.0)
    kubelet = c.controllers["kubelet"]
    kubelet.node_down("node-1")
    c.run(until=100.0)
    kubelet.node_up("node-1")
    c.run(until=150.0)
    start = _started_at(c)
    expected = [t for t in _failed_probes(start, delay, period, 150.0) if not 50.0 < t <= 100.0]
    (ev,) = events(c, "Unhealthy")
    writes = [r.time for r in c.changes if r.kind == "Event" and r.name == ev["_name"]]
    assert writes == expected and ev["count"] == len(expected)
