"""The pod lifecycle that decides readiness (issue 16): container statuses, readiness gates,
startup and liveness probes, restarts with CrashLoopBackOff, restart policies, preStop and
termination, hostNetwork and node addresses.

Fidelity cases are ported from upstream's own tests and named after them:
``pkg/kubelet/status/generate_test.go`` (``TestGeneratePodReadyCondition``, with the readiness
gate cases of ``TestGeneratePodReadyConditionWithReadinessGates``),
``staging/src/k8s.io/client-go/util/flowcontrol/backoff_test.go`` (``TestSlowBackoff``,
``TestBackoffReset``, ``TestBackoffHighWaterMark``) as the kubelet uses it (10 s, 5 min), and
``pkg/printers/internalversion/printers_test.go`` (``TestPrintPod``'s STATUS and RESTARTS).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import kubesim
from kubesim import probes
from kubesim.controllers.node.kubelet import (
    BACKOFF_MAX_SECONDS,
    container_id,
    containers_ready_condition,
    go_duration,
    image_id,
    image_ref,
    pod_ready_condition,
    set_pod_condition,
)
from kubesim.errors import InvalidOption, NotFound
from kubesim.objects import Container, ContainerStatus, PodCondition, PodReadinessGate, PodSpec

POD = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}, labels: {{app: web}}}}
spec:
{extra}
  containers:
  - name: app
    image: nginx:1.25
    ports: [{{containerPort: 80}}]
{probes}
"""

SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


def cluster_with(probes_yaml: str = "", extra: str = "", *, name: str = "web", service: bool = True,
                 behaviour: Any = None, **kw: Any) -> kubesim.Cluster:
    c = kubesim.Cluster(seed=0, nodes=kw.pop("nodes", 2), **kw)
    text = POD.format(name=name, extra=extra or "  restartPolicy: Always", probes=probes_yaml)
    if service:
        text += "---\n" + SERVICE
    if behaviour is not None:
        c.apply_yaml(text)
        c.controllers["kubelet"].set_behaviour(("default", name), behaviour)
    else:
        c.apply_yaml(text)
    return c


def status(c: kubesim.Cluster, name: str = "web") -> ContainerStatus:
    return c.get("Pod", name).status.container_statuses[0]


def row(c: kubesim.Cluster, name: str = "web", wide: bool = False) -> list[str]:
    out = c.kubectl(f"get pod {name}" + (" -o wide" if wide else "")).splitlines()
    header, line = out[0], out[1]
    # split on the column starts of the header (cells may hold spaces: "1 (5s ago)")
    starts = [i for i in range(len(header)) if header[i] != " " and (i == 0 or header[i - 1] == " ")]
    starts = [s for s in starts if s == 0 or header[s - 2:s] == "  "]
    return [line[a:b].strip() for a, b in zip(starts, [*starts[1:], len(line) + 1], strict=True)]


def ready_ips(c: kubesim.Cluster) -> list[str]:
    ep = c.get("Endpoints", "web")
    return sorted(a.ip for s in ep.subsets for a in s.addresses)


def endpoint_conditions(c: kubesim.Cluster) -> list[tuple[bool | None, bool | None, bool | None]]:
    out = []
    for s in c.list("EndpointSlice", selector="kubernetes.io/service-name=web"):
        for e in s.endpoints:
            out.append((e.conditions.ready, e.conditions.serving, e.conditions.terminating))
    return out


# --------------------------------------------------------------------------------------------
# generate.go


def _spec(*names: str, gates: tuple[str, ...] = ()) -> PodSpec:
    return PodSpec(containers=[Container(n) for n in names], readiness_gates=[PodReadinessGate(g) for g in gates])


def _cs(name: str, ready: bool) -> ContainerStatus:
    return ContainerStatus(name, ready=ready)


@pytest.mark.parametrize(
    ("spec", "statuses", "phase", "expected"),
    [
        # TestGeneratePodReadyCondition, case by case
        (None, None, "Running", ("False", "UnknownContainerStatuses", "")),
        (PodSpec(), (), "Running", ("True", "", "")),
        (_spec("1234"), (), "Running", ("False", "ContainersNotReady", "containers with unknown status: [1234]")),
        (_spec("1234", "5678"), (_cs("1234", True), _cs("5678", True)), "Running", ("True", "", "")),
        (_spec("1234", "5678"), (_cs("1234", True),), "Running",
         ("False", "ContainersNotReady", "containers with unknown status: [5678]")),
        (_spec("1234", "5678"), (_cs("1234", True), _cs("5678", False)), "Running",
         ("False", "ContainersNotReady", "containers with unready status: [5678]")),
        (_spec("1234"), (_cs("1234", False),), "Succeeded", ("False", "PodCompleted", "")),
        (_spec("1234"), (_cs("1234", False),), "Failed", ("False", "PodFailed", "")),
    ],
)
def test_generate_pod_ready_condition(spec: Any, statuses: Any, phase: str, expected: tuple[str, str, str]) -> None:
    assert pod_ready_condition(spec, (), statuses, phase) == expected
    assert containers_ready_condition(spec, statuses, phase) == expected


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ((), ("False", "ReadinessGatesNotReady",
              'corresponding condition of pod readiness gate "gate1" does not exist.')),
        ((PodCondition("gate1", "False"),), ("False", "ReadinessGatesNotReady",
                                              'the status of pod readiness gate "gate1" is not "True", but False')),
        ((PodCondition("gate1", "True"),), ("True", "", "")),
    ],
)
def test_generate_pod_ready_condition_with_readiness_gates(conditions: Any, expected: Any) -> None:
    spec = _spec("1234", gates=("gate1",))
    assert pod_ready_condition(spec, conditions, (_cs("1234", True),), "Running") == expected


def test_readiness_gates_messages_join_in_gate_order() -> None:
    spec = _spec("c", gates=("a", "b"))
    got = pod_ready_condition(spec, (PodCondition("b", "Unknown"),), (_cs("c", True),), "Running")
    assert got == ("False", "ReadinessGatesNotReady",
                   'corresponding condition of pod readiness gate "a" does not exist., '
                   'the status of pod readiness gate "b" is not "True", but Unknown')
    # unready containers win over the gates
    assert pod_ready_condition(spec, (), (_cs("c", False),), "Running")[1] == "ContainersNotReady"


# --------------------------------------------------------------------------------------------
# container statuses as the kubelet writes them


def test_container_statuses_through_start_up() -> None:
    c = cluster_with()
    c.run(until=0.5)  # admitted, not started
    pod = c.get("Pod", "web")
    cs = pod.status.container_statuses[0]
    assert pod.status.phase == "Pending"
    assert cs.state.waiting is not None and cs.state.waiting.reason == "ContainerCreating"
    assert (cs.ready, cs.started, cs.restart_count, cs.image, cs.image_id, cs.container_id) == (
        False, False, 0, "nginx:1.25", "", "")
    assert pod.status.condition("ContainersReady").message == "containers with unready status: [app]"
    assert pod.status.condition("Ready").reason == "ContainersNotReady"
    assert pod.status.host_ip == "172.18.0.3" and [h.ip for h in pod.status.host_ips] == ["172.18.0.3"]
    assert row(c)[2] == "ContainerCreating"
    c.run(until=5)
    pod = c.get("Pod", "web")
    cs = pod.status.container_statuses[0]
    assert cs.state.running is not None and cs.state.running.started_at is not None
    assert cs.ready and cs.started and cs.restart_count == 0
    assert cs.image == "docker.io/library/nginx:1.25"
    assert cs.image_id == image_id("nginx:1.25") and cs.image_id.startswith("docker.io/library/nginx@sha256:")
    assert cs.container_id == container_id(pod.metadata.uid, "app", 0)
    assert cs.last_state.terminated is None and cs.last_state.waiting is None
    assert row(c)[:4] == ["web", "1/1", "Running", "0"]


def test_image_refs_as_containerd_reports_them() -> None:
    assert image_ref("nginx") == "docker.io/library/nginx:latest"
    assert image_ref("bitnami/redis:7") == "docker.io/bitnami/redis:7"
    assert image_ref("localhost:5000/app") == "localhost:5000/app:latest"
    assert image_ref("registry.k8s.io/pause:3.9") == "registry.k8s.io/pause:3.9"
    assert image_ref("ghcr.io/o/a@sha256:" + "0" * 64).endswith("@sha256:" + "0" * 64)
    assert image_id("nginx:1.25") != image_id("nginx:1.26")
    assert image_id("nginx") == image_id("docker.io/library/nginx:latest")


def test_same_seed_same_log() -> None:
    def run() -> list[tuple[Any, ...]]:
        c = cluster_with("    livenessProbe: {httpGet: {port: 80}, periodSeconds: 5, failureThreshold: 2}",
                         behaviour=probes.AppBehaviour(liveness=probes.AppBehaviour(unready=[(20, 1e9)])))
        c.run(until=300)
        return [(e.seq, e.time, e.verb, e.kind, e.name, e.json_bytes, e.proto_bytes, e.cause) for e in c.changes]

    assert run() == run()


# --------------------------------------------------------------------------------------------
# readiness gates


GATE = "  readinessGates: [{conditionType: example.com/lb-ready}]"


def test_readiness_gate_holds_the_pod_out_of_the_endpoints() -> None:
    c = cluster_with(extra=GATE)
    c.run(until=30)
    pod = c.get("Pod", "web")
    assert not pod.status.ready
    assert pod.status.condition("ContainersReady").status == "True"
    ready = pod.status.condition("Ready")
    assert (ready.reason, ready.message) == (
        "ReadinessGatesNotReady", 'corresponding condition of pod readiness gate "example.com/lb-ready" does not exist.')
    assert ready_ips(c) == []
    assert endpoint_conditions(c) == [(False, False, False)]
    r = row(c, wide=True)
    assert r[1:3] == ["1/1", "Running"] and r[-1] == "0/1"  # kubectl counts ready containers, not Ready
    # the external controller sets the condition; the kubelet re-evaluates Ready
    before = len(c.changes)
    set_pod_condition(c.api, "web", "example.com/lb-ready")
    c.run(until=31)
    pod = c.get("Pod", "web")
    assert pod.status.ready and ready_ips(c) == [pod.status.pod_ip]
    assert row(c, wide=True)[-1] == "1/1"
    writes = [(e.kind, e.actor) for e in c.changes[before:] if e.kind == "Pod"]
    assert writes == [("Pod", "client"), ("Pod", "kubelet")]
    # the gate's condition comes first: conditions the kubelet does not own are kept first
    assert pod.status.conditions[0].type == "example.com/lb-ready"
    set_pod_condition(c.api, "web", "example.com/lb-ready", False)
    c.run(until=32)
    pod = c.get("Pod", "web")
    assert not pod.status.ready and ready_ips(c) == []
    assert pod.status.condition("Ready").message.endswith('is not "True", but False')


def test_set_pod_condition_writes_like_a_controller() -> None:
    c = cluster_with(extra=GATE)
    c.run(until=10)
    set_pod_condition(c.api, "web", "example.com/lb-ready", "True")
    first = c.get("Pod", "web").status.condition("example.com/lb-ready")
    assert first.status == "True" and first.last_transition_time == c.now_unix
    c.run(until=20)
    n = len(c.changes)
    set_pod_condition(c.api, "web", "example.com/lb-ready", True)  # unchanged: no write
    assert len(c.changes) == n
    assert c.get("Pod", "web").status.condition("example.com/lb-ready") == first
    with pytest.raises(InvalidOption):
        set_pod_condition(c.api, "web", "example.com/lb-ready", "yes")
    with pytest.raises(InvalidOption):
        set_pod_condition(c.api, "web", "", True)
    with pytest.raises(NotFound):
        set_pod_condition(c.api, "nope", "x", True)
    assert len(c.changes) == n


# --------------------------------------------------------------------------------------------
# startup probes


def test_startup_probe_gates_readiness_and_liveness() -> None:
    beh = probes.AppBehaviour(liveness=probes.AppBehaviour(ready_after=25))
    c = cluster_with(
        "    startupProbe: {httpGet: {port: 80, path: /healthz}, periodSeconds: 10, failureThreshold: 6}\n"
        "    livenessProbe: {httpGet: {port: 80, path: /healthz}, periodSeconds: 10, failureThreshold: 1}\n"
        "    readinessProbe: {httpGet: {port: 80}, periodSeconds: 10}",
        behaviour=beh,
    )
    c.run(until=20)
    cs = status(c)
    assert cs.state.running is not None and cs.started is False and not cs.ready
    assert ready_ips(c) == []
    c.run(until=60)
    cs = status(c)
    assert cs.started is True and cs.ready and cs.restart_count == 0  # liveness never ran early
    assert ready_ips(c) == [c.get("Pod", "web").status.pod_ip]


def test_startup_probe_that_never_passes_restarts_the_container() -> None:
    c = cluster_with(
        "    startupProbe: {httpGet: {port: 8080}, periodSeconds: 5, failureThreshold: 3}",
        behaviour=probes.AppBehaviour(),
    )
    c.run(until=60)
    cs = status(c)
    assert cs.restart_count >= 2 and cs.started is False and not cs.ready
    assert cs.last_state.terminated is not None
    assert ready_ips(c) == []
    assert not c.get("Pod", "web").status.ready


# --------------------------------------------------------------------------------------------
# liveness, restarts, CrashLoopBackOff


def _start_times(c: kubesim.Cluster, until: float, name: str = "web") -> list[float]:
    seen: list[float] = []
    last = None
    while c.clock.peek() is not None and c.clock.peek() <= until:  # type: ignore[operator]
        c.clock.step()
        pod = c.api.try_get("Pod", name, "default")
        cs = pod.status.container_statuses if pod is not None else ()
        if cs and cs[0].state.running is not None and cs[0].container_id != last:
            last = cs[0].container_id
            seen.append(c.now)
    return seen


def test_crash_loop_back_off_doubles_to_five_minutes() -> None:
    # TestSlowBackoff: 10 s doubling, capped at MaxContainerBackOff; the first restart is at once
    c = cluster_with(behaviour=probes.AppBehaviour(exit_after=1), service=False)
    starts = _start_times(c, 2500)
    gaps = [round(b - a - 1, 6) for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps[:9] == [0, 10, 20, 40, 80, 160, 300, 300, 300]
    cs = status(c)
    assert cs.last_state.terminated is not None and cs.last_state.terminated.reason == "Error"
    assert cs.last_state.terminated.exit_code == 1


def _step_until(c: kubesim.Cluster, pred: Any, until: float = 1000.0) -> None:
    while not pred():
        assert c.clock.peek() is not None and c.now < until
        c.clock.step()


def test_crash_loop_status_and_kubectl_columns() -> None:
    c = cluster_with(behaviour=probes.AppBehaviour(exit_after=1), service=False)

    def waiting() -> bool:
        p = c.get("Pod", "web")
        w = p.status.container_statuses[0].state.waiting if p.status.container_statuses else None
        return w is not None and w.reason == "CrashLoopBackOff"

    _step_until(c, waiting)  # the second crash: in back-off
    cs = status(c)
    assert cs.state.waiting is not None and cs.state.waiting.reason == "CrashLoopBackOff"
    uid = c.get("Pod", "web").metadata.uid
    assert cs.state.waiting.message == f"back-off 10s restarting failed container=app pod=web_default({uid})"
    assert cs.restart_count == 1 and not cs.ready and cs.started is False
    assert cs.container_id == cs.last_state.terminated.container_id  # type: ignore[union-attr]
    r = row(c)
    assert r[1:3] == ["0/1", "CrashLoopBackOff"] and r[3] == "1 (0s ago)"
    assert c.get("Pod", "web").status.phase == "Running"
    c.run(until=40)
    assert go_duration(40) == "40s" and go_duration(160) == "2m40s" and go_duration(BACKOFF_MAX_SECONDS) == "5m0s"


def test_crash_is_reported_as_error_before_the_restart() -> None:
    c = cluster_with(behaviour=probes.AppBehaviour(exit_after=1), service=False, record_objects=True)
    _step_until(c, lambda: bool(c.get("Pod", "web").status.container_statuses) and status(c).restart_count == 1)
    writes = [e for e in c.changes if e.kind == "Pod" and e.actor == "kubelet"]
    states = []
    for e in writes:
        cs = e.object.status.container_statuses[0]  # type: ignore[attr-defined]
        st = cs.state
        states.append("running" if st.running else (st.terminated.reason if st.terminated else st.waiting.reason))
    assert states == ["ContainerCreating", "running", "Error", "running"]


def test_back_off_resets_after_ten_minutes_running() -> None:
    # TestBackoffReset: an entry older than twice the maximum starts again at 10 s
    c = cluster_with(behaviour=probes.AppBehaviour(exit_after=610), service=False)
    starts = _start_times(c, 610 * 5)
    gaps = [round(b - a - 610, 6) for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps[:4] == [0, 0, 0, 0]


def test_liveness_failure_restarts_the_container() -> None:
    beh = probes.AppBehaviour(liveness=probes.AppBehaviour(unready=[(30, 1e9)]))
    c = cluster_with(
        "    livenessProbe: {httpGet: {port: 80, path: /healthz}, periodSeconds: 10, failureThreshold: 3}\n"
        "    readinessProbe: {httpGet: {port: 80}, initialDelaySeconds: 5, periodSeconds: 5}",
        behaviour=beh,
    )
    c.run(until=49)
    assert status(c).restart_count == 0 and ready_ips(c)
    c.run(until=53)  # failures at 30, 40, 50 (container time; started at ~1.6): killed
    cs = status(c)
    assert cs.restart_count == 1
    term = cs.last_state.terminated
    assert term is not None and term.exit_code == 0 and term.reason == "Completed"  # left on SIGTERM
    assert not cs.ready and ready_ips(c) == []  # the new container is probed from scratch
    c.run(until=60)
    assert status(c).ready and ready_ips(c)
    r = row(c)
    assert r[2] == "Running" and r[3].startswith("1 (")
    by_cause = Counter(e.cause for e in c.changes if e.kind in ("Pod", "Endpoints", "EndpointSlice"))
    assert by_cause["restart"] >= 3
    churn = c.churn()
    assert "restart" in churn.by_cause


def test_liveness_kill_is_a_sigkill_when_the_grace_period_runs_out() -> None:
    beh = probes.AppBehaviour(liveness=probes.AppBehaviour(unready=[(10, 1e9)]))
    # an application that takes 5 s to stop: grace 0 still gives it the 2 s minimum, then SIGKILL
    c = cluster_with(
        "    livenessProbe: {exec: {command: [check]}, periodSeconds: 5, failureThreshold: 1}",
        extra="  terminationGracePeriodSeconds: 0",
        behaviour=beh,
        timing=kubesim.Timing(app_shutdown=5.0),
    )
    _step_until(c, lambda: bool(c.get("Pod", "web").status.container_statuses)
                and status(c).last_state.terminated is not None)
    term = status(c).last_state.terminated
    assert term is not None and term.exit_code == 137 and term.reason == "Error"
    assert term.finished_at - term.started_at in (11, 12, 13)  # killed 10 + 2 s after it started


def test_restart_policy_never_and_on_failure() -> None:
    c = cluster_with(extra="  restartPolicy: Never", behaviour=probes.AppBehaviour(exit_after=5, exit_code=0),
                     service=False)
    c.run(until=20)
    pod = c.get("Pod", "web")
    assert pod.status.phase == "Succeeded" and row(c)[2] == "Completed"
    assert pod.status.condition("Ready").reason == "PodCompleted"
    c.delete("Pod", "web")
    c.run(until=40)
    assert c.api.try_get("Pod", "web", "default") is None  # the kubelet removes a finished pod
    c = cluster_with(extra="  restartPolicy: Never", behaviour=probes.AppBehaviour(exit_after=5), service=False)
    c.run(until=20)
    assert c.get("Pod", "web").status.phase == "Failed" and row(c)[2] == "Error"
    c = cluster_with(extra="  restartPolicy: OnFailure", behaviour=probes.AppBehaviour(exit_after=5), service=False)
    c.run(until=20)
    assert c.get("Pod", "web").status.phase == "Running" and status(c).restart_count >= 1
    c = cluster_with(extra="  restartPolicy: OnFailure", behaviour=probes.AppBehaviour(exit_after=5, exit_code=0),
                     service=False)
    c.run(until=20)
    assert c.get("Pod", "web").status.phase == "Succeeded" and status(c).restart_count == 0


# --------------------------------------------------------------------------------------------
# termination


def _deleted_timeline(c: kubesim.Cluster) -> dict[str, float]:
    t0 = c.now
    c.delete("Pod", "web")
    marks: dict[str, float] = {}
    while c.clock.peek() is not None and c.now < t0 + 200:
        c.clock.step()
        pod = c.api.try_get("Pod", "web", "default")
        if pod is None:
            marks.setdefault("gone", c.now - t0)
            break
        if pod.status.phase in ("Succeeded", "Failed"):
            marks.setdefault(pod.status.phase, c.now - t0)
        if not pod.status.ready:
            marks.setdefault("unready", c.now - t0)
    return marks


def test_pre_stop_sleep_keeps_the_endpoint_serving_and_terminating() -> None:
    c = cluster_with("    lifecycle: {preStop: {sleep: {seconds: 15}}}")
    c.run(until=10)
    c.delete("Pod", "web")
    c.run(until=20)  # inside the preStop sleep
    assert endpoint_conditions(c) == [(False, True, True)]
    pod = c.get("Pod", "web")
    assert pod.status.ready and row(c)[2] == "Terminating"
    c.run(until=27)  # after 15 s of preStop and the app's shutdown (at most 1 s)
    pod = c.api.try_get("Pod", "web", "default")
    assert pod is None or pod.status.phase == "Succeeded"


def test_termination_grace_period_cuts_the_pre_stop_hook() -> None:
    c = cluster_with("    lifecycle: {preStop: {sleep: {seconds: 100}}}", extra="  terminationGracePeriodSeconds: 10")
    c.run(until=10)
    marks = _deleted_timeline(c)
    # the hook is cut at 10 s, then the 2 s minimum grace for SIGTERM (the app stops within 1 s)
    assert 10 < marks["Succeeded"] <= 11


def test_an_app_that_ignores_sigterm_is_killed_at_the_grace_period() -> None:
    c = cluster_with("    lifecycle: {preStop: {sleep: {seconds: 4}}}", extra="  terminationGracePeriodSeconds: 10",
                     timing=kubesim.Timing(app_shutdown=60.0))
    c.run(until=10)
    marks = _deleted_timeline(c)
    assert marks["Failed"] == 10.0  # 4 s of preStop + 6 s left of the grace period, then SIGKILL


def test_exec_pre_stop_takes_the_app_models_time() -> None:
    c = cluster_with("    lifecycle: {preStop: {exec: {command: [drain]}}}",
                     behaviour=probes.AppBehaviour(pre_stop_seconds=7.5))
    c.run(until=10)
    marks = _deleted_timeline(c)
    assert 7.5 <= marks["Succeeded"] <= 8.5
    term = [e for e in c.changes if e.kind == "Pod" and e.verb == "delete"]
    assert term


def test_readiness_is_probed_while_terminating() -> None:
    beh = probes.AppBehaviour(unready=[(20, 1e9)])
    c = cluster_with("    readinessProbe: {httpGet: {port: 80}, periodSeconds: 2}\n"
                     "    lifecycle: {preStop: {sleep: {seconds: 25}}}", behaviour=beh)
    c.run(until=10)
    c.delete("Pod", "web")
    c.run(until=15)
    assert endpoint_conditions(c) == [(False, True, True)]
    c.run(until=30)  # the app stops answering at 20: the endpoint is no longer serving
    assert endpoint_conditions(c) == [(False, False, True)]


# --------------------------------------------------------------------------------------------
# nodes and hostNetwork


def test_nodes_carry_addresses_and_node_info() -> None:
    c = kubesim.Cluster(seed=0, nodes=2, dual_stack=True)
    n = c.get("Node", "node-2", "")
    assert [(a.type, a.address) for a in n.status.addresses] == [
        ("InternalIP", "172.18.0.3"), ("InternalIP", "fc00:f853:ccd:e793::3"), ("Hostname", "node-2")]
    assert n.status.node_info.kubelet_version == "v1.35.0"
    out = c.kubectl("get nodes -o wide").splitlines()
    assert out[0].split()[:6] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    assert out[1].split()[4:6] == ["v1.35.0", "172.18.0.2"]


def test_host_network_pods_take_the_node_ip() -> None:
    c = cluster_with(extra="  hostNetwork: true")
    c.run(until=10)
    pod = c.get("Pod", "web")
    assert pod.spec.host_network
    assert pod.status.pod_ip == pod.status.host_ip == "172.18.0.3"
    assert ready_ips(c) == ["172.18.0.3"]
    assert str(c.connect("web", 80)).startswith("172.18.0.3:")
    assert not any(r.in_use("172.18.0.3") for r in c.pod_ranges["node-2"] if r.cidr.startswith("10."))
    c.delete("Pod", "web")
    c.run(until=40)
    assert c.api.try_get("Pod", "web", "default") is None


def test_kubelet_invariants_hold_through_a_crash_loop() -> None:
    c = cluster_with(behaviour=probes.AppBehaviour(exit_after=3), service=False)
    for t in range(0, 400, 7):
        c.run(until=float(t))
        c._check()


def test_scenarios_set_pod_condition_is_the_public_entry() -> None:
    from kubesim import scenarios

    c = cluster_with(extra=GATE)
    c.run(until=10)
    pod = scenarios.set_pod_condition(c, "web", "example.com/lb-ready")
    assert pod.status.condition("example.com/lb-ready").status == "True"
    c.run(until=11)
    assert c.get("Pod", "web").status.ready
    causes = Counter((e.cause, e.kind) for e in c.changes if e.time >= 10)
    assert causes[("readiness-gate", "Pod")] == 2  # the controller's write and the kubelet's
    assert causes[("readiness-gate", "Endpoints")] == 1
    assert causes[("readiness-gate", "EndpointSlice")] == 1


def test_host_network_ports_are_host_ports() -> None:
    # SetDefaults_Pod's defaultHostNetworkPorts, and validateHostNetwork
    c = cluster_with(extra="  hostNetwork: true", service=False)
    assert c.get("Pod", "web").spec.containers[0].ports[0].host_port == 80
    bad = POD.format(name="bad", extra="  hostNetwork: true", probes="").replace(
        "[{containerPort: 80}]", "[{containerPort: 80, hostPort: 8080}]")
    with pytest.raises(kubesim.InvalidObject) as info:
        c.apply_yaml(bad)
    assert "spec.containers[0].ports[0].hostPort" in str(info.value)
    assert "must match `containerPort` when `hostNetwork` is true" in str(info.value)


# --------------------------------------------------------------------------------------------
# status_manager_test.go


def test_new_status_preserves_pod_start_time_and_foreign_conditions() -> None:
    # TestNewStatusPreservesPodStartTime / TestMergePodStatus: the kubelet keeps startTime and
    # the conditions it does not own (first, as stored) across its status writes
    c = cluster_with(extra=GATE)
    c.run(until=5)
    start = c.get("Pod", "web").status.start_time
    set_pod_condition(c.api, "web", "example.com/other", "False", reason="Waiting")
    set_pod_condition(c.api, "web", "example.com/lb-ready")
    c.run(until=30)
    pod = c.get("Pod", "web")
    assert pod.status.start_time == start
    types = [x.type for x in pod.status.conditions]
    assert types[:2] == ["example.com/other", "example.com/lb-ready"]
    assert types[2:] == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert pod.status.condition("example.com/other").reason == "Waiting"
    assert pod.status.ready  # example.com/other is no gate


def test_status_writes_are_skipped_when_nothing_changed() -> None:
    # the status manager's needsUpdate: an equal status is not written
    c = cluster_with()
    c.run(until=10)
    k = c.controllers["kubelet"]
    before = (len(c.changes), k.statistics().status_writes)
    k._sync(("default", "web"), k.pods[("default", "web")])
    assert (len(c.changes), k.statistics().status_writes) == before


def test_an_app_without_a_sigterm_handler_exits_143() -> None:
    beh = probes.AppBehaviour(liveness=probes.AppBehaviour(unready=[(10, 1e9)]), sigterm_exit_code=143)
    c = cluster_with("    livenessProbe: {exec: {command: [check]}, periodSeconds: 5, failureThreshold: 1}",
                     behaviour=beh)
    _step_until(c, lambda: bool(c.get("Pod", "web").status.container_statuses)
                and status(c).last_state.terminated is not None)
    term = status(c).last_state.terminated
    assert term is not None and (term.exit_code, term.reason) == (143, "Error")
    marks = _deleted_timeline(c)
    assert "Failed" in marks and "Succeeded" not in marks  # a non-zero exit on deletion: Failed
    with pytest.raises(InvalidOption):
        probes.AppBehaviour(sigterm_exit_code=-1)


def test_init_containers_and_a_sidecar() -> None:
    # convertToAPIContainerStatuses' PodInitializing, GeneratePodInitializedCondition, and a
    # restartable init container counted in ContainersReady and in kubectl's READY
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml("""
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  initContainers:
  - {name: migrate, image: migrate:1}
  - {name: proxy, image: envoy:1, restartPolicy: Always}
  containers:
  - {name: app, image: nginx:1.25, ports: [{containerPort: 80}]}
""")
    c.run(until=0.5)
    pod = c.get("Pod", "web")
    assert [s.state.waiting.reason for s in pod.status.init_container_statuses] == ["PodInitializing"] * 2
    assert pod.status.container_statuses[0].state.waiting.reason == "PodInitializing"
    init = pod.status.condition("Initialized")
    assert (init.status, init.reason, init.message) == (
        "False", "ContainersNotInitialized", "containers with incomplete status: [migrate proxy]")
    assert row(c)[1:3] == ["0/2", "Init:0/2"]
    c.run(until=10)
    pod = c.get("Pod", "web")
    migrate, proxy = pod.status.init_container_statuses
    assert migrate.state.terminated is not None and migrate.state.terminated.reason == "Completed"
    assert proxy.state.running is not None and proxy.started and proxy.ready
    assert pod.status.condition("Initialized").status == "True" and pod.status.ready
    assert row(c)[1:3] == ["2/2", "Running"]
    c.delete("Pod", "web")
    c.run(until=40)
    assert c.api.try_get("Pod", "web", "default") is None


def test_a_sidecar_is_probed_and_restarted_and_holds_the_pod_back() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml("""
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  restartPolicy: Never
  initContainers:
  - name: proxy
    image: envoy:1
    restartPolicy: Always
    ports: [{containerPort: 15000}]
    readinessProbe: {httpGet: {port: 15000}, periodSeconds: 2}
    livenessProbe: {httpGet: {port: 15000, path: /live}, periodSeconds: 5, failureThreshold: 1}
  containers:
  - {name: app, image: nginx:1.25, ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
""")
    c.run(until=0.5)
    beh = probes.AppBehaviour(unready=[(20, 40)], liveness=probes.AppBehaviour(unready=[(50, 1e9)]))
    c.controllers["kubelet"].set_behaviour(("default", "web"), beh)
    c.run(until=10)
    assert c.get("Pod", "web").status.ready and ready_ips(c)
    c.run(until=35)  # the sidecar's readiness fails: the pod leaves the endpoints
    pod = c.get("Pod", "web")
    assert not pod.status.ready and ready_ips(c) == []
    assert pod.status.condition("ContainersReady").message == "containers with unready status: [proxy]"
    c.run(until=120)  # the sidecar's liveness fails from 50: it restarts (restartPolicy Never notwithstanding)
    pod = c.get("Pod", "web")
    proxy = pod.status.init_container_statuses[0]
    app = pod.status.container_statuses[0]
    assert proxy.restart_count >= 1 and app.restart_count == 0
    assert app.state.running is not None and pod.status.phase == "Running"
    assert row(c)[3].startswith(f"{proxy.restart_count} (")
