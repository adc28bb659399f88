"""The kubelets of every node, as one component: the whole pod lifecycle that decides readiness.

For a pod bound to a node (latencies from :class:`~kubesim.timing.Timing`, drawn from the seed):

1. ``kubelet_admit`` later: the first status write — phase ``Pending``, ``hostIP``/``hostIPs``,
   every container ``waiting: ContainerCreating``, conditions ``PodReadyToStartContainers``,
   ``Initialized``, ``Ready``, ``ContainersReady`` (no IP yet);
2. ``container_start`` after binding: the sandbox has an IP (from the node's pod CIDR, see
   :mod:`kubesim.ipam`; a ``hostNetwork`` pod takes its node's ``InternalIP``), containers run:
   phase ``Running``, ``podIP``/``podIPs``, ``containerStatuses[].state.running``;
3. probes (:mod:`kubesim.probes`, ``pkg/kubelet/prober``): the startup probe first (readiness and
   liveness are not probed before it succeeds; reaching its ``failureThreshold`` restarts the
   container), then readiness (``ready``) and liveness (reaching its ``failureThreshold`` kills
   and restarts the container). A container also exits by itself when its application model
   says so (:attr:`~kubesim.probes.AppBehaviour.exit_after`);
4. restarts (``pkg/kubelet/kuberuntime/kuberuntime_manager.go`` ``doBackOff``,
   ``client-go/util/flowcontrol/backoff.go``): ``restartPolicy`` decides whether an exited
   container restarts; the first restart is immediate, later ones wait in ``CrashLoopBackOff``
   for 10 s doubling up to 5 min; the back-off entry expires once the container ran for more
   than 10 min (twice the maximum) since the last back-off. ``restartCount`` and ``lastState``
   follow. Writes set off by a kill or a crash carry the cause ``restart`` (until the container
   is ready again);
5. readiness gates (``pkg/kubelet/status/generate.go``): ``Ready`` is ``True`` only when
   ``ContainersReady`` is and every ``readinessGates`` condition, written by another
   controller, is ``True``; the kubelet re-evaluates on every pod update;
6. init containers (``pkg/kubelet/kuberuntime``, ``status/generate.go``): until the pod
   starts, every container waits ``PodInitializing`` and ``Initialized`` is ``False``
   (``ContainersNotInitialized``); at start the regular init containers complete at once
   (``terminated: Completed``; kubesim gives them no run time) and the restartable
   ("sidecar") ones run beside the regular containers — probed, restarted whatever the pod's
   ``restartPolicy``, killed with them — and count in ``ContainersReady``;
7. on ``deletionTimestamp`` (``kuberuntime_container.go`` ``killContainer``): each running
   container's ``preStop`` hook runs (``sleep``: its seconds; ``exec``/``httpGet``: the
   application model's :attr:`~kubesim.probes.AppBehaviour.pre_stop_seconds`; at most the grace
   period, in whole seconds), then SIGTERM; the application exits after ``app_shutdown`` or is
   SIGKILLed when what is left of the grace period (at least 2 s) runs out. Readiness is still
   probed meanwhile (liveness and startup are not), so the endpoint stays ``serving`` while the
   application answers. Then a status write with the terminal phase, every container
   ``terminated`` (``Completed`` on exit 0 — the application model's
   :attr:`~kubesim.probes.AppBehaviour.sigterm_exit_code` — or ``Error``, exit 137 when
   killed) and ``Ready=False``;
   ``kubelet_delete_delay`` later the kubelet's final DELETE frees the name and the pod IP.

Events (source ``kubelet``, host the node; ``pkg/kubelet/events/event.go`` reasons), about the
pod, with the container's ``fieldPath`` (``spec.containers{<name>}``) but for ``BackOff``:

* ``Normal Pulled`` "Container image "<image>" already present on machine and can be accessed
  by the pod", ``Normal Created`` "Container created", ``Normal Started`` "Container started"
  for every container instance started (``kuberuntime_image.go``, ``kuberuntime_container.go``
  ``startContainer``; kubesim's images are always present on the node, so it never pulls, not
  even under ``imagePullPolicy: Always``, where a real kubelet records ``Pulling`` and
  "Successfully pulled image ... in <duration> ... Image size: <n> bytes." instead);
* ``Warning Unhealthy`` with the prober's message (:func:`kubesim.probes.probe_failure_message`,
  e.g. "Readiness probe failed: Get "http://10.244.1.2:8080/": dial tcp 10.244.1.2:8080:
  connect: connection refused") at every failed probe, at the probe's own time, below the
  failure threshold too (``pkg/kubelet/prober/prober.go`` ``probe`` records it before
  ``worker.go`` counts the result): startup probes until the startup probe passes or kills,
  readiness probes while the container runs (also while its pod terminates), liveness probes
  until one kills (the worker is then on hold) or the pod terminates. The repeats are one
  Event whose ``count`` and ``lastTimestamp`` are patched, and the spam filter lets about one
  write in 300 s through once 25 were made (:mod:`kubesim.events`). When the failure threshold
  is reached: ``Normal Killing`` "Container <name> failed liveness probe, will be restarted"
  (``kuberuntime_manager.go`` ``computePodActions``; a sidecar's: "Init container <name> failed
  liveness probe", ``computeInitContainerActions``);
* ``Normal Killing`` "Stopping container <name>" for every running container of a deleted pod
  (``killContainer``), regular containers first, then sidecars in reverse order;
* ``Warning BackOff`` "Back-off restarting failed container <name> in pod <name>_<ns>(<uid>)"
  at every pod sync while a restart is held in CrashLoopBackOff (``kuberuntime_manager.go``
  ``doBackOff``): as the hold starts, then every :data:`POD_RESYNC_SECONDS` (the pod worker
  requeues a backed-off pod at the back-off's expiry but at most ``syncFrequency``, 1 min,
  later: ``pod_workers.go`` ``completeWork``, kubernetes#133066, kubelet 1.34+; kubesim takes
  the jitter's lower bound, ``wait.Jitter`` adds up to 50 %) until it expires.

The repeats (the failed probes after the first, the back-off syncs) are recorded lazily by a
passive source of the clock (:meth:`kubesim.clock.Clock.add_passive`): as virtual time passes
each one, in time order, each at its own time, before any timer of the same instant. They add
no timer: ``run()`` ends when it did (a probe that always fails does not keep it going; what is
due after the last timer is recorded by a later run that passes it), no other write moves, and
with Events off nothing is armed. Not modelled: the extra manual probes of a not-ready
container's status syncs and the pod syncs set off by other events (another container's
readiness change, a pod update), which upstream would also count.

Every status is built whole from what the kubelet knows and written only when it differs from
the stored one (the status manager's ``needsUpdate``); conditions the kubelet does not own (a
readiness gate's) are kept, first, as ``mergePodStatus`` keeps them. Container and image IDs are
derived from the pod uid, container name and restart count by a hash: no random draw. The parts
many pods carry alike — a condition (type, status, transition time, reason, message), a running
container's state (its start second), a container not started yet — are one frozen instance
per value (:attr:`Kubelet._shared`), so the wire's identity caches size each value once; a
container's status is the same object while nothing in it changes, and the IP tuples are built
once per pod.

Deviations, on purpose: the kubelet reacts at once (no PLEG relist period, no pod-worker
re-sync granularity: a back-off restart happens exactly when the back-off expires); liveness
ticks are aligned to the container's start, as readiness ticks are; a restart's new container
starts in the instant the old one exited (the image is present); a container's first readiness
probe at its start is in the status written as it starts (a probe that passes at once gives a
Running and Ready pod in one write, as before container statuses); readiness is not probed
while a liveness or startup kill is under way; a kill's shutdown takes ``app_shutdown`` — the
one new random draw, made only when a probe fails; a kubelet that was down misses the
liveness failures and exits of its downtime.

Costs: ``O(containers)`` per pod event plus one clock entry per scheduled transition.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
from collections.abc import Callable
from typing import Any

import attrs

from kubesim import probes, wire
from kubesim.apiserver import WatchEvent
from kubesim.clock import Timer
from kubesim.controllers.runtime import ControllerContext
from kubesim.errors import Conflict, KubesimError, ServerError, ServerTimeout
from kubesim.ipam import RangeAllocator
from kubesim.objects import (
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    HostIP,
    Pod,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
)

__all__ = [
    "Kubelet",
    "KubeletStatistics",
    "PodRuntime",
    "ContainerRuntime",
    "STATUS_RETRY_SECONDS",
    "POD_RESYNC_SECONDS",
    "BACKOFF_INITIAL_SECONDS",
    "BACKOFF_MAX_SECONDS",
    "MINIMUM_GRACE_PERIOD_SECONDS",
    "KUBELET_CONDITIONS",
    "container_id",
    "image_ref",
    "image_id",
    "go_duration",
    "pod_phase",
    "set_pod_condition",
    "containers_ready_condition",
    "pod_ready_condition",
    "initialized_condition",
]

#: How long the status manager waits before retrying a failed status write.
STATUS_RETRY_SECONDS = 1.0
#: The pod worker's resync interval (the kubelet's ``syncFrequency``, default ``1m0s``): a pod
#: held in CrashLoopBackOff is synced again (and ``BackOff`` recorded) this often until the
#: back-off expires (``pod_workers.go`` ``completeWork``, the delay capped at the interval).
POD_RESYNC_SECONDS = 60.0
#: ``backOffPeriod`` (``pkg/kubelet/kubelet.go``): the first CrashLoopBackOff delay.
BACKOFF_INITIAL_SECONDS = 10.0
#: ``MaxContainerBackOff`` (``pkg/kubelet/kubelet.go``).
BACKOFF_MAX_SECONDS = 300.0
#: ``minimumGracePeriodInSeconds`` (``pkg/kubelet/kuberuntime/kuberuntime_container.go``).
MINIMUM_GRACE_PERIOD_SECONDS = 2
#: The pod conditions the kubelet owns (``pkg/kubelet/types/pod_status.go``
#: ``PodConditionsByKubelet`` with ``PodReadyToStartContainers``).
KUBELET_CONDITIONS = frozenset({"PodScheduled", "Ready", "Initialized", "ContainersReady", "PodReadyToStartContainers"})
#: The cause of the writes a container kill or crash sets off.
RESTART_CAUSE = "restart"

_EXIT_KILLED = 137  # 128 + SIGKILL
#: The kubelet's event source.
COMPONENT = "kubelet"

#: The behaviour of a pod no scenario gave one, and the empty ``lastState``: frozen values, so
#: one instance serves every pod (equal to a fresh one; the wire's identity caches then hit).
_DEFAULT_BEHAVIOUR = probes.AppBehaviour()
_EMPTY_STATE = ContainerState()
#: The most entries :attr:`Kubelet._shared` holds before it is cleared.
_SHARED_LIMIT = 4096

# The status the kubelet writes is built by keywords naming every field of these classes (so
# what it does not own is carried over); a new field must be added there (Kubelet._status,
# Kubelet._write_status).
assert [f.name for f in attrs.fields(PodStatus)] == [
    "phase", "conditions", "host_ip", "pod_ip", "pod_ips", "start_time", "reason", "message",
    "container_statuses", "init_container_statuses", "host_ips", "qos_class",
], "PodStatus changed: update kubesim.controllers.node.kubelet.Kubelet._status"
assert [f.name for f in attrs.fields(Pod)] == ["metadata", "spec", "status"], "Pod changed: update Kubelet._write_status"


@attrs.frozen
class KubeletStatistics:
    """Counters of the kubelets."""

    started: int
    status_writes: int
    terminated: int
    running: int
    restarts: int = 0


# --------------------------------------------------------------------------------------------
# names the container runtime reports


@functools.lru_cache(maxsize=1024)
def image_ref(image: str) -> str:
    """The image as containerd reports it in ``containerStatuses[].image``: the fully
    qualified reference (``nginx`` -> ``docker.io/library/nginx:latest``). ``O(len)``.

    >>> image_ref("nginx:1.25"), image_ref("registry.k8s.io/pause:3.9")
    ('docker.io/library/nginx:1.25', 'registry.k8s.io/pause:3.9')
    """
    if not image:
        return ""
    name = image
    first, slash, _ = name.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost"):
        name = "docker.io/" + (name if slash else "library/" + name)
    last = name.rsplit("/", 1)[-1]
    if "@" not in last and ":" not in last:
        name += ":latest"
    return name


@functools.lru_cache(maxsize=1024)
def image_id(image: str) -> str:
    """``containerStatuses[].imageID``: the repository with a digest derived from the image
    reference by SHA-256 (a stand-in for the registry's manifest digest). ``O(len)``."""
    if not image:
        return ""
    ref = image_ref(image)
    repo, at, digest = ref.partition("@")
    if at:
        return ref
    last = repo.rsplit("/", 1)
    if ":" in last[-1]:
        repo = repo[: len(repo) - len(last[-1]) + last[-1].index(":")]
    return f"{repo}@sha256:{hashlib.sha256(ref.encode()).hexdigest()}"


def container_id(uid: str, name: str, restart_count: int) -> str:
    """``containerd://<64 hex>``, derived from the pod uid, the container name and its restart
    count (no random draw, so adding container statuses moves no other random choice)."""
    return "containerd://" + hashlib.sha256(f"{uid}/{name}/{restart_count}".encode()).hexdigest()


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String`` for whole seconds: ``10s``, ``1m20s``, ``5m0s``."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s}s"
    h, m = divmod(m, 60)
    return f"{h}h{m}m{s}s"


# --------------------------------------------------------------------------------------------
# runtime state


def _offer(best: tuple[float, int, str, float] | None, since: float, x: float | None, prio: int,
           kind: str) -> tuple[float, int, str, float] | None:
    """The earlier of ``best`` and ``kind`` at container time ``x`` (``None``: never), by
    (virtual time, priority): :meth:`ContainerRuntime.event`'s choice."""
    if x is None:
        return best
    t = since + x
    if best is None or (t, prio) < (best[0], best[1]):
        return (t, prio, kind, x)
    return best


@attrs.define(eq=False)
class ContainerRuntime:
    """What the kubelet knows of one container of a pod it runs.

    ``mode``: ``creating`` (never started), ``running``, ``stopping`` (being killed, still
    running), ``exited`` (terminated, maybe to be restarted), ``backoff`` (waiting in
    CrashLoopBackOff).
    """

    spec: Container
    behaviour: Any  # kubesim.probes.AppBehaviour
    mode: str = "creating"
    restart_count: int = 0
    since: float = 0.0  # virtual time the current instance started
    started_at: int | None = None  # ... in Unix seconds
    container_id: str = ""
    started_off: float | None = None  # container time at which the startup probe succeeded
    startup: Any = None  # probe trackers (kubesim.probes.ReadinessTracker)
    readiness: Any = None
    liveness: Any = None
    ready: bool = False
    x: float = 0.0  # container time up to which probe results are folded in
    terminated: ContainerStateTerminated | None = None  # the latest exited instance
    last_state: ContainerState = _EMPTY_STATE
    waiting_message: str = ""
    restart_at: float | None = None  # virtual time a back-off restart is due
    exit_at: float | None = None  # virtual time a kill ends (mode "stopping")
    exit_code: int = 0
    restarting: bool = False  # between a kill or crash and being ready again
    exit_time: float | None = None  # virtual time the latest instance exited
    prev_exit: float | None = None  # ... the instance before the current one
    restart_base: float | None = None  # the exit a back-off is counted from
    status_cache: dict[tuple[Any, ...], ContainerStatus] = attrs.field(factory=dict, repr=False)
    #: the waiting reason before it first runs (``PodInitializing`` in a pod with init containers)
    waiting_reason: str = "ContainerCreating"
    #: Events: the generation of its repeating Events (a re-arm makes older entries stale), the
    #: container time of the latest failed probe recorded per probe type (this instance), and
    #: the virtual time it entered the current CrashLoopBackOff hold
    repeat_gen: int = 0
    last_failure: dict[str, float] = attrs.field(factory=dict, repr=False)
    hold_start: float = 0.0

    def event(self, terminating: bool) -> tuple[float, int, str, float] | None:
        """The next thing that happens to this container: ``(virtual time, priority, kind,
        container time)``, or ``None``."""
        if self.mode == "stopping":
            assert self.exit_at is not None
            return (self.exit_at, 0, "exited", self.exit_at - self.since)
        if self.mode == "backoff":
            if terminating or self.restart_at is None:
                return None
            return (self.restart_at, 0, "restart", 0.0)
        if self.mode != "running":
            return None
        best: tuple[float, int, str, float] | None = None
        since, x = self.since, self.x
        if not terminating:
            ex = self.behaviour.exit_after
            if ex is not None and ex > x:
                best = (since + float(ex), 1, "exit", float(ex))
            if self.started_off is None:
                if self.startup is not None:
                    if self.startup.result_at(x) is False:
                        best = _offer(best, since, x, 3, "startup")  # failed at (or before) this instant
                    else:
                        best = _offer(best, since, self.startup.next_transition(x), 3, "startup")
            elif self.liveness is not None:
                if self.liveness.result_at(x) is False:
                    best = _offer(best, since, x, 2, "liveness")
                else:
                    best = _offer(best, since, self.liveness.next_transition(x), 2, "liveness")
        if self.started_off is not None and self.readiness is not None:
            best = _offer(best, since, self.readiness.next_transition(x), 4, "ready")
        return best


@attrs.define(eq=False)
class PodRuntime:
    """What the kubelet knows of one pod it runs."""

    uid: str
    node: str
    started: bool = False  # the sandbox exists and containers were started
    ips: tuple[str, ...] = ()
    timers: list[Timer] = attrs.field(factory=list)
    terminating: bool = False
    ready: bool = False  # every container ready (ContainersReady)
    since: float = 0.0  # when its containers first started
    status_seq: int = 0  # status write attempts, so a retry never overwrites a newer status
    containers: list[ContainerRuntime] = attrs.field(factory=list)
    host_network: bool = False
    context: str = ""  # the cause of the work that created the pod
    done: bool = False  # reached a terminal phase
    event_timer: Timer | None = None
    admitted: bool = False
    start_time: int | None = None
    host_ips: tuple[str, ...] | None = None  # the node's InternalIPs, read once
    #: ``status.hostIPs`` and ``status.podIPs`` as written, built once from ``host_ips`` and
    #: ``ips`` (each status write carries the same tuples)
    host_ip_objs: tuple[HostIP, ...] = ()
    pod_ip_objs: tuple[PodIP, ...] = ()
    #: its init containers: regular ones complete at once when the pod starts, restartable
    #: ("sidecar") ones then run (probed and restarted) until the pod terminates
    inits: list[ContainerRuntime] = attrs.field(factory=list)
    #: ``spec.containers`` of the pod ``containers`` were built from, when their names are
    #: unique (``None`` otherwise): while the stored pod carries this very tuple, its container
    #: statuses are one per container in spec order (:meth:`Kubelet._conditions`' fast path)
    spec_containers: tuple[Container, ...] | None = None
    #: the conditions tuple :meth:`Kubelet._conditions` built last (its layout is known)
    conditions: tuple[PodCondition, ...] | None = None

    def running_set(self) -> list[ContainerRuntime]:
        """The containers the kubelet runs, probes and restarts: the sidecars, then the
        regular containers."""
        if not self.inits:
            return self.containers
        return [c for c in self.inits if c.spec.restart_policy == "Always"] + self.containers


def pod_phase(restart_policy: str, containers: list[ContainerRuntime]) -> str:
    """``getPhase`` (``pkg/kubelet/kubelet_pods.go``) from the containers' states."""
    waiting = running = stopped = succeeded = 0
    for c in containers:
        if c.mode in ("running", "stopping"):
            running += 1
        elif c.mode == "exited":
            stopped += 1
            if c.terminated is not None and c.terminated.exit_code == 0:
                succeeded += 1
        elif c.mode == "backoff":
            stopped += 1  # waiting, with a last termination state
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if restart_policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    if restart_policy == "Never":
        return "Failed"
    return "Running"


def _condition(old: PodCondition | None, t: str, status: str, now: int, reason: str = "", message: str = "",
               shared: dict[tuple[Any, ...], Any] | None = None) -> PodCondition:
    """The condition ``t`` as the kubelet writes it, given the stored one ``old``: ``old`` itself
    when nothing in it changes. ``shared`` (:attr:`Kubelet._shared`) hands out one instance per
    value, so the pods that make the same transition in the same second carry one object (equal
    to a fresh one: conditions are frozen) and the wire's identity caches size it once."""
    # updateLastTransitionTime (pkg/kubelet/status/status_manager.go): the transition time
    # moves only when the status does.
    if old is not None and old.status == status:
        if old.reason == reason and old.message == message and old.last_probe_time is None:
            return old
        ltt = old.last_transition_time
    else:
        ltt = now
    if shared is None:
        return PodCondition(type=t, status=status, last_transition_time=ltt, reason=reason, message=message)
    key = (PodCondition, t, status, ltt, reason, message)
    cond: PodCondition | None = shared.get(key)
    if cond is None:
        if len(shared) >= _SHARED_LIMIT:
            shared.clear()
        cond = shared[key] = PodCondition(type=t, status=status, last_transition_time=ltt, reason=reason,
                                          message=message)
    return cond


#: What :meth:`Kubelet._status_plan` works out for a status write before the stored pod is merged
#: in: (now in Unix seconds, phase, container statuses, init container statuses, sandbox ready,
#: hostIP, podIP, podIPs, hostIPs, the runtime's startTime).
_StatusPlan = tuple[int, str, tuple[ContainerStatus, ...], tuple[ContainerStatus, ...], bool, str, str,
                    tuple[PodIP, ...], tuple[HostIP, ...], "int | None"]

#: A condition's ``(status, reason, message)`` when it holds.
_TRUE = ("True", "", "")


def containers_ready_condition(
    spec: PodSpec | None, statuses: tuple[ContainerStatus, ...] | None, phase: str,
    init_statuses: tuple[ContainerStatus, ...] = (),
) -> tuple[str, str, str]:
    """``GenerateContainersReadyCondition`` (``pkg/kubelet/status/generate.go``): the
    ``ContainersReady`` condition's ``(status, reason, message)``. ``O(containers)``.

    >>> containers_ready_condition(PodSpec(containers=[Container("a"), Container("b")]),
    ...                            (ContainerStatus("a", ready=True),), "Running")
    ('False', 'ContainersNotReady', 'containers with unknown status: [b]')
    """
    if statuses is None:
        return "False", "UnknownContainerStatuses", ""
    by_name = {st.name: st for st in statuses}
    unknown: list[str] = []
    unready: list[str] = []
    if spec is not None and spec.init_containers:
        init_by_name = {st.name: st for st in init_statuses}
        for c in spec.init_containers:
            if c.restart_policy != "Always":
                continue  # only restartable ("sidecar") init containers count
            st = init_by_name.get(c.name)
            if st is None:
                unknown.append(c.name)
            elif not st.ready:
                unready.append(c.name)
    for c in spec.containers if spec is not None else ():
        st = by_name.get(c.name)
        if st is None:
            unknown.append(c.name)
        elif not st.ready:
            unready.append(c.name)
    if phase == "Succeeded" and not unknown:
        return "False", "PodCompleted", ""
    if phase == "Failed":
        return "False", "PodFailed", ""
    msgs = []
    if unknown:
        msgs.append(f"containers with unknown status: [{' '.join(unknown)}]")
    if unready:
        msgs.append(f"containers with unready status: [{' '.join(unready)}]")
    if msgs:
        return "False", "ContainersNotReady", ", ".join(msgs)
    return "True", "", ""


def pod_ready_condition(
    spec: PodSpec | None, conditions: tuple[PodCondition, ...], statuses: tuple[ContainerStatus, ...] | None,
    phase: str, init_statuses: tuple[ContainerStatus, ...] = (),
) -> tuple[str, str, str]:
    """``GeneratePodReadyCondition``: ``Ready`` is ``ContainersReady`` unless that is
    ``True``; then every readiness gate's condition (among ``conditions``) must be ``True``
    too (reason ``ReadinessGatesNotReady``). ``O(containers + gates x conditions)``."""
    return _ready_condition(spec, conditions, containers_ready_condition(spec, statuses, phase, init_statuses))


def _ready_condition(spec: PodSpec | None, conditions: tuple[PodCondition, ...],
                     cr: tuple[str, str, str]) -> tuple[str, str, str]:
    """:func:`pod_ready_condition` given the ``ContainersReady`` condition ``cr`` already
    worked out (the kubelet needs both; one pass over the containers)."""
    if cr[0] != "True":
        return cr
    if spec is None or not spec.readiness_gates:
        return _TRUE
    msgs = []
    for gate in spec.readiness_gates:
        c = next((x for x in conditions if x.type == gate.condition_type), None)
        if c is None:
            msgs.append(f'corresponding condition of pod readiness gate "{gate.condition_type}" does not exist.')
        elif c.status != "True":
            msgs.append(f'the status of pod readiness gate "{gate.condition_type}" is not "True", but {c.status}')
    if msgs:
        return "False", "ReadinessGatesNotReady", ", ".join(msgs)
    return _TRUE


def initialized_condition(spec: PodSpec, init_statuses: tuple[ContainerStatus, ...]) -> tuple[str, str, str]:
    """``GeneratePodInitializedCondition``: ``True`` once every init container has completed
    (a restartable one: has started); else ``ContainersNotInitialized``."""
    by_name = {st.name: st for st in init_statuses}
    incomplete = []
    for c in spec.init_containers:
        st = by_name.get(c.name)
        if c.restart_policy == "Always":
            done = st is not None and bool(st.started)
        else:
            done = st is not None and st.state.terminated is not None and st.state.terminated.exit_code == 0
        if not done:
            incomplete.append(c.name)
    if incomplete:
        return "False", "ContainersNotInitialized", f"containers with incomplete status: [{' '.join(incomplete)}]"
    return "True", "", ""


def _pod_conditions(pod: Pod, now: int, phase: str, statuses: tuple[ContainerStatus, ...], *, sandbox: bool,
                    init_statuses: tuple[ContainerStatus, ...] = (),
                    shared: dict[tuple[Any, ...], Any] | None = None) -> tuple[PodCondition, ...]:
    """The pod's conditions as ``generateAPIPodStatus`` builds them: the conditions the kubelet
    does not own first (kept as stored), then PodReadyToStartContainers, Initialized, Ready,
    ContainersReady (``pkg/kubelet/status/generate.go``) and PodScheduled. ``shared``: see
    :func:`_condition`. ``O(conditions + containers)``, one pass over the containers."""
    old = pod.status.conditions
    spec = pod.spec
    prev = {c.type: c for c in old}
    out = [c for c in old if c.type not in KUBELET_CONDITIONS]
    cr = containers_ready_condition(spec, statuses, phase, init_statuses)
    r_status, r_reason, r_message = _ready_condition(spec, old, cr)
    # without init containers GeneratePodInitializedCondition has nothing incomplete: True
    i_status, i_reason, i_message = initialized_condition(spec, init_statuses) if spec.init_containers else _TRUE
    get = prev.get
    out.append(_condition(get("PodReadyToStartContainers"), "PodReadyToStartContainers",
                          "True" if sandbox else "False", now, shared=shared))
    out.append(_condition(get("Initialized"), "Initialized", i_status, now, i_reason, i_message, shared))
    out.append(_condition(get("Ready"), "Ready", r_status, now, r_reason, r_message, shared))
    out.append(_condition(get("ContainersReady"), "ContainersReady", cr[0], now, cr[1], cr[2], shared))
    out.append(get("PodScheduled") or _condition(None, "PodScheduled", "True", now, shared=shared))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# the kubelet


@attrs.define(eq=False)
class Kubelet:
    """Runs the pods bound to every node. See the module docstring.

    Methods: :meth:`start` (watch pods), :meth:`set_behaviour` (an application model per pod),
    :meth:`node_down` / :meth:`node_up` (a kubelet stops and comes back), :meth:`statistics`,
    :meth:`_check`.
    """

    ctx: ControllerContext
    pods: dict[tuple[str, str], PodRuntime] = attrs.field(factory=dict, repr=False)
    #: application behaviour per pod key (see :mod:`kubesim.probes`), set by scenarios
    behaviours: dict[tuple[str, str], Any] = attrs.field(factory=dict, repr=False)
    #: nodes whose kubelet is down (see :mod:`kubesim.controllers.node.lifecycle`)
    down_nodes: set[str] = attrs.field(factory=set, repr=False)
    #: CrashLoopBackOff entries by stable container key: (back-off seconds, last update)
    backoff: dict[tuple[str, str, str, str], tuple[float, float]] = attrs.field(factory=dict, repr=False)
    #: repeating Events due (virtual time, sequence, what): failed probes and back-off syncs,
    #: recorded by the clock's passive source as time passes them
    _due: list[tuple[float, int, tuple[Any, ...]]] = attrs.field(factory=list, repr=False)
    _due_seq: int = 0
    #: one instance per value of the status parts many pods share (conditions, container states,
    #: a not-yet-started container's status), cleared at :data:`_SHARED_LIMIT` entries: see
    #: :func:`_condition`
    _shared: dict[tuple[Any, ...], Any] = attrs.field(factory=dict, repr=False)
    _started: int = 0
    _status_writes: int = 0
    _terminated: int = 0
    _restarts: int = 0

    name = "kubelet"

    def start(self) -> None:
        self.ctx.api.watch(self._on_pod, {"Pod"})
        if self.ctx.recorder.enabled:
            self.ctx.clock.add_passive(self._record_due)

    def _now(self) -> int:
        return int(self.ctx.api.epoch) + int(self.ctx.clock.now)

    def _later(self, rt: PodRuntime, delay: float, fn: Callable[[], object]) -> Timer:
        timer = self.ctx.clock.schedule(delay, fn)
        timers = rt.timers
        if len(timers) >= 32:  # a long-lived pod's fired timers would pile up: keep the live ones
            timers[:] = [t for t in timers if t.callback is not None]
        timers.append(timer)
        return timer

    def _cancel(self, rt: PodRuntime) -> None:
        for timer in rt.timers:
            timer.cancel()
        rt.timers.clear()
        rt.event_timer = None

    # ------------------------------------------------------------------ Events

    def _event_target(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime | None) -> tuple[Pod, str] | None:
        """The stored pod an Event of ``rt`` is about and container ``c``'s ``fieldPath`` (``""``
        for the pod itself); ``None`` if the stored pod is gone or another instance."""
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None or pod.metadata.uid != rt.uid:
            return None
        if c is None:
            return pod, ""
        where = "initContainers" if rt.inits and any(i is c for i in rt.inits) else "containers"
        return pod, f"spec.{where}{{{c.spec.name}}}"

    def _event(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime | None, type_: str, reason: str,
               message: str) -> None:
        """Record an Event about the pod (its container ``c``'s ``fieldPath``); the caller has
        checked ``recorder.enabled``."""
        target = self._event_target(key, rt, c)
        if target is not None:
            self.ctx.recorder.event(target[0], type_, reason, message, component=COMPONENT, host=rt.node,
                                    field_path=target[1])

    def _started_events(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime) -> None:
        """``Pulled``, ``Created`` and ``Started`` for a container instance that starts: one pod
        lookup for the three."""
        if not self.ctx.recorder.enabled:
            return
        target = self._event_target(key, rt, c)
        if target is None:
            return
        pod, path = target
        record, node = self.ctx.recorder.event, rt.node
        record(pod, "Normal", "Pulled",
               f'Container image "{c.spec.image}" already present on machine and can be accessed by the pod',
               component=COMPONENT, host=node, field_path=path)
        record(pod, "Normal", "Created", "Container created", component=COMPONENT, host=node, field_path=path)
        record(pod, "Normal", "Started", "Container started", component=COMPONENT, host=node, field_path=path)

    def _unhealthy(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime, probe_type: str, x: float) -> None:
        """``Unhealthy`` for the ``probe_type`` probe of ``c`` failing at container time ``x``."""
        if not self.ctx.recorder.enabled:
            return
        spec = c.spec
        probe = {"Readiness": spec.readiness_probe, "Liveness": spec.liveness_probe,
                 "Startup": spec.startup_probe}[probe_type]
        if probe is None:
            return
        beh = c.behaviour if probe_type == "Readiness" else c.behaviour.for_liveness
        ip = rt.ips[0] if rt.ips else ""
        self._event(key, rt, c, "Warning", "Unhealthy",
                    probes.probe_failure_message(probe_type, probe, spec, beh, ip, x))

    def _arm(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime, x: float) -> None:
        """(Re)plan the repeating Events of container ``c`` from container time ``x`` on: its
        next failed probe of each type probed now (``Unhealthy``), or its next pod sync while
        held in CrashLoopBackOff (``BackOff``). Entries planned before are made stale. Called
        whenever what decides them changes (a new instance, the startup probe passing, a new
        behaviour, a deletion, the kubelet coming back). ``O(probe types)``."""
        if not self.ctx.recorder.enabled:
            return
        c.repeat_gen += 1
        if rt.done or rt.node in self.down_nodes:
            return
        if c.mode == "running":
            if c.started_off is None:
                kinds = [] if rt.terminating else [("Startup", c.startup)]
            else:
                kinds = [("Readiness", c.readiness)] + ([] if rt.terminating else [("Liveness", c.liveness)])
            for kind, tracker in kinds:
                if tracker is not None:
                    self._plan_failure(key, rt, c, kind, tracker, x)
        elif c.mode == "backoff" and not rt.terminating and c.restart_at is not None:
            k = max(1, int((self.ctx.clock.now - c.hold_start) // POD_RESYNC_SECONDS) + 1)
            self._push(c.hold_start + k * POD_RESYNC_SECONDS, (key, rt, c, "BackOff", c.repeat_gen, k, c.restart_at))

    def _plan_failure(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime, kind: str, tracker: Any,
                      x: float) -> None:
        nxt = tracker.next_failure(x, after=c.last_failure.get(kind))
        if nxt is not None:
            self._push(c.since + nxt, (key, rt, c, kind, c.repeat_gen, nxt, tracker))

    def _push(self, when: float, item: tuple[Any, ...]) -> None:
        self._due_seq += 1
        heapq.heappush(self._due, (when, self._due_seq, item))

    def _record_due(self, t: float) -> None:
        """The clock's passive source: record every repeating Event due at or before ``t``, in
        time order, each at its own time (the clock is moved forward to it). ``O(1)`` when
        nothing is due, ``O(log n)`` per Event."""
        due = self._due
        clock = self.ctx.clock
        while due and due[0][0] <= t:
            when, _, item = heapq.heappop(due)
            key: tuple[str, str] = item[0]
            rt: PodRuntime = item[1]
            c: ContainerRuntime = item[2]
            kind: str = item[3]
            gen: int = item[4]
            if gen != c.repeat_gen or self.pods.get(key) is not rt or rt.done or rt.node in self.down_nodes:
                continue
            if when > clock.now:
                clock.now = when
            outer = clock.context
            clock.context = RESTART_CAUSE if c.restarting else rt.context
            try:
                if kind == "BackOff":
                    k, expiry = item[5], item[6]
                    if c.mode != "backoff" or c.restart_at != expiry or rt.terminating:
                        continue
                    self._back_off_event(key, rt, c)
                    nxt = c.hold_start + (k + 1) * POD_RESYNC_SECONDS
                    if nxt < expiry:
                        self._push(nxt, (key, rt, c, kind, gen, k + 1, expiry))
                    continue
                x, tracker = item[5], item[6]
                if c.mode != "running":
                    continue
                if kind == "Startup":
                    probed = c.started_off is None and not rt.terminating and tracker is c.startup
                elif kind == "Liveness":
                    probed = c.started_off is not None and not rt.terminating and tracker is c.liveness
                else:
                    probed = c.started_off is not None and tracker is c.readiness
                if not probed:
                    continue
                self._unhealthy(key, rt, c, kind, x)
                c.last_failure[kind] = x
                self._plan_failure(key, rt, c, kind, tracker, x)
            finally:
                clock.context = outer

    def _back_off_event(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime) -> None:
        self._event(key, rt, None, "Warning", "BackOff",
                    f"Back-off restarting failed container {c.spec.name} in pod {key[1]}_{key[0]}({rt.uid})")

    # ------------------------------------------------------------------ watch

    def _on_pod(self, ev: WatchEvent) -> None:
        pod: Pod = ev.new
        meta = pod.metadata
        key = (meta.namespace, meta.name)
        rt = self.pods.get(key)
        if ev.type == "DELETED":
            if rt is not None and rt.uid == meta.uid:
                self._forget(key, rt)
            return
        if rt is not None and rt.uid != meta.uid:
            self._forget(key, rt)
            rt = None
        spec = pod.spec
        if not spec.node_name:
            return
        phase = pod.status.phase
        if phase == "Succeeded" or phase == "Failed":
            # A pod that ran to completion and is then deleted: the kubelet removes it.
            if (rt is not None and rt.done and not rt.terminating and meta.deletion_timestamp is not None
                    and rt.node not in self.down_nodes):
                self._terminate(key, rt, pod)
            return
        if rt is None:
            if meta.deletion_timestamp is not None:
                return
            rt = PodRuntime(uid=meta.uid, node=spec.node_name, host_network=spec.host_network,
                            context=self.ctx.clock.context)
            self.pods[key] = rt
            t = self.ctx.timing
            admit = t.kubelet_admit.draw(self.ctx.rng)
            start = max(admit, t.container_start.draw(self.ctx.rng))
            self._later(rt, admit, lambda: self._admit(key, rt))
            self._later(rt, start, lambda: self._start_containers(key, rt))
            return
        if meta.deletion_timestamp is not None and not rt.terminating:
            if rt.node in self.down_nodes:
                return  # a dead kubelet does not see the deletion; handled in node_up
            self._terminate(key, rt, pod)
            return
        if (
            ev.actor != "kubelet"
            and spec.readiness_gates
            and rt.admitted
            and not rt.done
            and rt.node not in self.down_nodes
            and ev.old is not None
            and ev.old.status.conditions != pod.status.conditions
        ):
            # Another controller wrote a condition: the kubelet's next sync re-evaluates Ready.
            self._later(rt, 0.0, lambda: self._sync(key, rt))

    # ------------------------------------------------------------------ node failure

    def node_down(self, node: str) -> None:
        """The kubelet of ``node`` stops: its pods keep running (or not) unobserved, no status
        is written and nothing is deleted until :meth:`node_up`."""
        self.down_nodes.add(node)
        for rt in self.pods.values():
            if rt.node == node:
                self._cancel(rt)

    def node_up(self, node: str) -> None:
        """The kubelet of ``node`` is back: it finishes pending terminations, starts pods it had
        not started, and reports the state of the running ones."""
        self.down_nodes.discard(node)
        for key in [k for k, rt in self.pods.items() if rt.node == node]:
            rt = self.pods[key]
            pod = self.ctx.api.try_get("Pod", key[1], key[0])
            if pod is None or pod.metadata.uid != rt.uid:
                self._forget(key, rt)
            elif pod.metadata.deletion_timestamp is not None:
                rt.terminating = False
                self._terminate(key, rt, pod)
            elif not rt.started:
                self._later(rt, self.ctx.timing.container_start.draw(self.ctx.rng),
                            lambda key=key, rt=rt: self._start_containers(key, rt))  # type: ignore[misc]
            elif not rt.done:
                now = self.ctx.clock.now
                for c in rt.running_set():
                    if c.mode in ("running", "stopping"):
                        c.x = max(c.x, now - c.since)
                        if c.readiness is not None and c.started_off is not None:
                            c.ready = c.readiness.ready_at(c.x)
                    if c.mode == "stopping":
                        c.mode = "running"  # the kill was never finished
                        c.exit_at = None
                    self._arm(key, rt, c, c.x)
                rt.ready = all(c.ready for c in rt.running_set())
                self._sync(key, rt)
                self._plan(key, rt)

    def _forget(self, key: tuple[str, str], rt: PodRuntime) -> None:
        self._cancel(rt)
        ranges = self.ctx.cluster.pod_ranges.get(rt.node, []) if self.ctx.cluster is not None else []
        if not rt.host_network:
            # rt.ips[i] was allocated from ranges[i] (_start_containers); release ignores an
            # address not in use (not strict: a deleted node's ranges are gone)
            for ip, r in zip(rt.ips, ranges, strict=False):
                r.release(ip)
        if self.pods.get(key) is rt:
            del self.pods[key]
            self.behaviours.pop(key, None)
            if self.backoff:
                for c in rt.running_set():
                    self.backoff.pop((key[0], key[1], rt.uid, c.spec.name), None)

    # ------------------------------------------------------------------ status

    def _write_status(self, key: tuple[str, str], rt: PodRuntime, plan: _StatusPlan, pod: Pod | None = None) -> Pod | None:
        """Write the status :meth:`_status_plan` planned, merged into the pod as stored now
        (``pod``: the stored pod, already read and checked by the caller), unless it equals the
        stored status. The update carries the resourceVersion just read; nothing runs between
        the read and the write, so it cannot be stale: it is as unconditional as the status
        manager's patch, and the API server keeps the stored metadata without rebuilding it. A
        failed write is retried with the same plan, merged into the pod as stored then."""
        if pod is None:
            pod = self.ctx.api.try_get("Pod", key[1], key[0])
            if pod is None or pod.metadata.uid != rt.uid:
                return None
        now, pod_ph, statuses, init_statuses, sandbox, host_ip, pod_ip, pod_ips, host_ips, start_time = plan
        st = pod.status
        # every field of PodStatus, in order (asserted at import): one construction
        status = PodStatus(
            pod_ph, self._conditions(pod, rt, now, pod_ph, statuses, init_statuses, sandbox), host_ip, pod_ip,
            pod_ips, st.start_time or start_time, st.reason, st.message, statuses, init_statuses, host_ips,
            st.qos_class,  # generateAPIPodStatus: GetPodQOS, the stored class
        )
        if status == st:
            return pod
        new = Pod(pod.metadata, pod.spec, status)  # attrs.evolve(pod, status=status)
        rt.status_seq += 1
        seq = rt.status_seq
        try:
            stored: Pod = self.ctx.api.update(new, actor="kubelet")
        except ServerTimeout:
            self._status_writes += 1  # committed; the response was lost
            return None
        except (Conflict, ServerError):
            # The status manager retries; a newer status write supersedes this one.
            def retry() -> None:
                if rt.status_seq == seq:
                    self._write_status(key, rt, plan)

            self._later(rt, STATUS_RETRY_SECONDS, retry)
            return None
        except KubesimError:
            return None
        self._status_writes += 1
        return stored

    def _conditions(self, pod: Pod, rt: PodRuntime, now: int, phase: str, statuses: tuple[ContainerStatus, ...],
                    init_statuses: tuple[ContainerStatus, ...], sandbox: bool) -> tuple[PodCondition, ...]:
        """:func:`_pod_conditions` for the stored ``pod``, in one pass for the common pod.

        The fast path is exact where it applies: a pod without init containers and readiness
        gates whose ``spec.containers`` is the tuple its runtimes were built from
        (:attr:`PodRuntime.spec_containers`, names unique), so its statuses are one per
        container in spec order and no container's status is unknown; ``ContainersReady`` is
        then decided by the unready names alone, ``Ready`` equals it and ``Initialized`` holds.
        The stored conditions must all be the kubelet's (else the general merge runs); when
        they are the very tuple this method built last (:attr:`PodRuntime.conditions`, whose
        layout is known: PodReadyToStartContainers, Initialized, Ready, ContainersReady,
        PodScheduled) they are not even looked up by type, and when nothing in them changes
        that tuple itself is the result (equal by value). With :data:`kubesim.wire.CHECK_HINTS`
        (the test suite) every fast result is compared with :func:`_pod_conditions`'.
        ``O(containers)``."""
        spec = pod.spec
        old = pod.status.conditions
        shared = self._shared
        if spec.init_containers or spec.readiness_gates or spec.containers is not rt.spec_containers:
            return _pod_conditions(pod, now, phase, statuses, sandbox=sandbox, init_statuses=init_statuses,
                                   shared=shared)
        p0: PodCondition | None
        i0: PodCondition | None
        r0: PodCondition | None
        c0: PodCondition | None
        s0: PodCondition | None
        if old is rt.conditions:
            p0, i0, r0, c0, s0 = old
        else:
            prev = {c.type: c for c in old}
            if not prev.keys() <= KUBELET_CONDITIONS:
                return _pod_conditions(pod, now, phase, statuses, sandbox=sandbox, init_statuses=init_statuses,
                                       shared=shared)
            get = prev.get
            p0, i0, r0, c0, s0 = (get("PodReadyToStartContainers"), get("Initialized"), get("Ready"),
                                  get("ContainersReady"), get("PodScheduled"))
        # containers_ready_condition with every status known (see above)
        if phase == "Succeeded":
            cs, cr, cm = "False", "PodCompleted", ""
        elif phase == "Failed":
            cs, cr, cm = "False", "PodFailed", ""
        else:
            unready = [st.name for st in statuses if not st.ready]
            if unready:
                cs, cr, cm = "False", "ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]"
            else:
                cs, cr, cm = "True", "", ""
        # _condition's "nothing changes: the stored condition itself", inline
        ps = "True" if sandbox else "False"
        p1 = (p0 if p0 is not None and p0.status == ps and p0.reason == "" and p0.message == ""
              and p0.last_probe_time is None else _condition(p0, "PodReadyToStartContainers", ps, now, shared=shared))
        i1 = (i0 if i0 is not None and i0.status == "True" and i0.reason == "" and i0.message == ""
              and i0.last_probe_time is None else _condition(i0, "Initialized", "True", now, shared=shared))
        r1 = (r0 if r0 is not None and r0.status == cs and r0.reason == cr and r0.message == cm
              and r0.last_probe_time is None else _condition(r0, "Ready", cs, now, cr, cm, shared))
        c1 = (c0 if c0 is not None and c0.status == cs and c0.reason == cr and c0.message == cm
              and c0.last_probe_time is None else _condition(c0, "ContainersReady", cs, now, cr, cm, shared))
        if p1 is p0 and i1 is i0 and r1 is r0 and c1 is c0 and old is rt.conditions:
            conds = old
        else:
            conds = rt.conditions = (p1, i1, r1, c1, s0 or _condition(None, "PodScheduled", "True", now, shared=shared))
        if wire.CHECK_HINTS:  # the general merge, on fresh conditions (no shared entries added)
            want = _pod_conditions(pod, now, phase, statuses, sandbox=sandbox, init_statuses=init_statuses)
            assert conds == want, (pod.metadata.name, conds, want)
        return conds

    def _container_status(self, c: ContainerRuntime) -> ContainerStatus:
        """Container ``c``'s status: the same object while nothing in it changes (a readiness
        flip back reuses the earlier one), so the wire sizes' identity caches hit. ``O(1)``."""
        ck = (c.mode, c.ready, c.started_off is not None, c.restart_count, c.container_id, c.waiting_message,
              c.terminated, c.last_state)
        hit = c.status_cache.get(ck)
        if hit is not None:
            return hit
        if len(c.status_cache) > 8:
            c.status_cache.clear()
        st = c.status_cache[ck] = self._build_container_status(c)
        return st

    def _shared_state(self, started_at: int | None, waiting: str | None) -> ContainerState:
        """``ContainerState(running=ContainerStateRunning(started_at))`` (``waiting`` ``None``)
        or ``ContainerState(waiting=ContainerStateWaiting(waiting))``, one instance per value
        (:attr:`_shared`)."""
        key = (ContainerState, started_at, waiting)
        shared = self._shared
        st: ContainerState | None = shared.get(key)
        if st is None:
            if len(shared) >= _SHARED_LIMIT:
                shared.clear()
            if waiting is None:
                st = ContainerState(running=ContainerStateRunning(started_at=started_at))
            else:
                st = ContainerState(waiting=ContainerStateWaiting(reason=waiting))
            shared[key] = st
        return st

    def _build_container_status(self, c: ContainerRuntime) -> ContainerStatus:
        spec = c.spec
        if c.mode == "creating":
            # the same for every container of that name and image not started yet: shared
            key = (ContainerStatus, spec.name, spec.image, c.waiting_reason)
            shared = self._shared
            hit: ContainerStatus | None = shared.get(key)
            if hit is None:
                hit = ContainerStatus(
                    name=spec.name, state=self._shared_state(None, c.waiting_reason), last_state=_EMPTY_STATE,
                    image=spec.image, started=False,
                )
                if len(shared) >= _SHARED_LIMIT:
                    shared.clear()
                shared[key] = hit
            return hit
        image, iid = image_ref(spec.image), image_id(spec.image)
        if c.mode in ("running", "stopping"):
            return ContainerStatus(
                name=spec.name, state=self._shared_state(c.started_at, None),
                last_state=c.last_state, ready=c.ready and c.started_off is not None,
                restart_count=c.restart_count, image=image, image_id=iid, container_id=c.container_id,
                started=c.started_off is not None,
            )
        if c.mode == "backoff":
            return ContainerStatus(
                name=spec.name,
                state=ContainerState(waiting=ContainerStateWaiting(reason="CrashLoopBackOff", message=c.waiting_message)),
                last_state=c.last_state, restart_count=c.restart_count, image=image, image_id=iid,
                container_id=c.container_id, started=False,
            )
        return ContainerStatus(
            name=spec.name, state=ContainerState(terminated=c.terminated), last_state=c.last_state,
            restart_count=c.restart_count, image=image, image_id=iid, container_id=c.container_id, started=False,
        )

    def _status_plan(self, rt: PodRuntime, pod: Pod, phase: str | None) -> _StatusPlan:
        """What the status the kubelet writes now takes from the kubelet's own state (the
        stored pod's conditions it does not own, ``reason``, ``message`` and ``startTime`` are
        merged in by :meth:`_write_status` at each attempt): the container statuses, the phase
        (``pod``'s restart policy), the IPs. The IP tuples are the runtime's own, so
        consecutive writes carry the same objects. ``O(containers)``."""
        cs = self._container_status
        statuses = tuple([cs(c) for c in rt.containers])
        init_statuses = tuple([cs(c) for c in rt.inits]) if rt.inits else ()
        if rt.started:
            pod_ph = phase or pod_phase(pod.spec.restart_policy or "Always", rt.containers)
            ips, pod_ips = rt.ips, rt.pod_ip_objs
        else:
            pod_ph = "Pending"
            ips, pod_ips = (), ()
        host_ip = rt.host_ips
        if host_ip is None:
            host_ip = rt.host_ips = self._host_ips(rt.node)
            rt.host_ip_objs = tuple(HostIP(ip) for ip in host_ip)
        return (
            int(self.ctx.api.epoch) + int(self.ctx.clock.now), pod_ph, statuses, init_statuses,
            rt.started and pod_ph not in ("Succeeded", "Failed"), host_ip[0] if host_ip else "",
            ips[0] if ips else "", pod_ips, rt.host_ip_objs, rt.start_time,
        )

    def _restart_policy(self, key: tuple[str, str]) -> str:
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        return "Always" if pod is None else (pod.spec.restart_policy or "Always")

    def _sync(self, key: tuple[str, str], rt: PodRuntime, *, phase: str | None = None, pod: Pod | None = None) -> None:
        """Write the pod's status as the kubelet sees it now (``phase``: the terminal phase it
        reached). The stored pod (``pod``: as the caller has just read it) is read once, for
        the plan and the write; a pod that is gone (or another of the name) gets nothing."""
        if not rt.admitted or (rt.done and phase is None):
            return
        if pod is None:
            pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None or pod.metadata.uid != rt.uid:
            return
        self._write_status(key, rt, self._status_plan(rt, pod, phase), pod)

    def _host_ips(self, node: str) -> tuple[str, ...]:
        n = self.ctx.api.try_get("Node", node, "")
        if n is None:
            return ()
        return tuple(str(a.address) for a in n.status.addresses if a.type == "InternalIP")

    # ------------------------------------------------------------------ start-up

    def _admit(self, key: tuple[str, str], rt: PodRuntime) -> None:
        if rt.started or rt.terminating:
            return
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None or pod.metadata.uid != rt.uid:
            return
        rt.admitted = True
        rt.start_time = self._now()
        self._init_runtimes(rt, pod, self._behaviour(key))
        self._sync(key, rt, pod=pod)

    @staticmethod
    def _init_runtimes(rt: PodRuntime, pod: Pod, beh: Any) -> None:
        """The runtimes of the pod's containers and init containers, with behaviour ``beh``."""
        specs = pod.spec.containers
        rt.containers = [ContainerRuntime(spec=c, behaviour=beh) for c in specs]
        rt.spec_containers = specs if len({c.name for c in specs}) == len(specs) else None
        init_beh = beh if specs else None
        rt.inits = [ContainerRuntime(spec=c, behaviour=init_beh) for c in pod.spec.init_containers]
        if rt.inits:
            for c in (*rt.inits, *rt.containers):
                c.waiting_reason = "PodInitializing"

    def _behaviour(self, key: tuple[str, str]) -> Any:
        beh = self.behaviours.get(key)
        return beh if beh is not None else _DEFAULT_BEHAVIOUR

    def _start_containers(self, key: tuple[str, str], rt: PodRuntime) -> None:
        if rt.terminating:
            return
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None or pod.metadata.uid != rt.uid:
            return
        if rt.host_network:
            rt.ips = self._host_ips(rt.node)
        else:
            ranges: list[RangeAllocator] = self.ctx.cluster.pod_ranges.get(rt.node, []) if self.ctx.cluster else []
            rt.ips = tuple([r.allocate() for r in ranges])
        rt.pod_ip_objs = tuple([PodIP(ip) for ip in rt.ips])
        rt.started = True
        rt.admitted = True
        if rt.start_time is None:
            rt.start_time = self._now()
        self._started += 1
        rt.since = self.ctx.clock.now
        beh = self._behaviour(key)
        if not rt.containers:
            self._init_runtimes(rt, pod, beh)
        for ic in rt.inits:
            ic.behaviour = beh
            self._run_instance(key, rt, ic, first=True)
            if ic.spec.restart_policy != "Always":
                self._exited(ic, 0)  # a regular init container: done at once
        for c in rt.containers:
            c.behaviour = beh
            self._run_instance(key, rt, c, first=True)
        rt.ready = all(c.ready for c in rt.running_set())
        self._sync(key, rt)
        self._plan(key, rt)

    def _run_instance(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime, *, first: bool) -> None:
        """Start a new instance of container ``c`` now."""
        if not first:
            c.prev_exit = c.exit_time
            c.restart_count += 1
            self._restarts += 1
            if c.terminated is not None:
                c.last_state = ContainerState(terminated=c.terminated)
        c.terminated = None
        c.status_cache.clear()
        c.mode = "running"
        c.since = self.ctx.clock.now
        c.started_at = self._now()
        c.container_id = container_id(rt.uid, c.spec.name, c.restart_count)
        c.x = 0.0
        c.restart_at = c.exit_at = None
        c.waiting_message = ""
        c.startup = None
        c.started_off = None
        if c.spec.startup_probe is not None:
            c.startup = probes.ReadinessTracker(c.spec, c.behaviour.for_liveness, probe=c.spec.startup_probe,
                                                initial=None)
            if c.startup.result_at(0.0) is True:
                self._startup_passed(c, 0.0)
        else:
            self._startup_passed(c, 0.0)
        if c.started_off is None:
            c.readiness = c.liveness = None
            c.ready = False
        if self.ctx.recorder.enabled:
            c.last_failure = {}
            self._started_events(key, rt, c)
            self._arm(key, rt, c, 0.0)

    def _startup_passed(self, c: ContainerRuntime, x: float) -> None:
        c.started_off = x
        spec = c.spec
        c.readiness = (
            None if spec.readiness_probe is None
            else probes.ReadinessTracker(spec, c.behaviour, first_probe_offset=x)
        )
        c.liveness = (
            None if spec.liveness_probe is None
            else probes.ReadinessTracker(spec, c.behaviour.for_liveness, probe=spec.liveness_probe, initial=True,
                                         not_before=x)
        )
        c.ready = c.readiness is None or c.readiness.ready_at(x)
        if c.ready:
            c.restarting = False

    # ------------------------------------------------------------------ the event loop

    def _plan(self, key: tuple[str, str], rt: PodRuntime) -> None:
        """(Re)schedule the pod's next container event."""
        if rt.event_timer is not None:
            rt.event_timer.cancel()
            rt.event_timer = None
        if rt.done or rt.node in self.down_nodes:
            return
        best: tuple[float, int, str, float] | None = None
        restarting = False
        for c in rt.running_set():
            e = c.event(rt.terminating)
            if e is not None and (best is None or e[:2] < best[:2]):
                best = e
            restarting = restarting or c.restarting
        if best is None:
            return
        when = best[0]
        clock = self.ctx.clock
        outer = clock.context
        clock.context = RESTART_CAUSE if restarting else rt.context
        try:
            rt.event_timer = self._later(rt, max(0.0, when - clock.now), lambda: self._fire(key, rt, when))
        finally:
            clock.context = outer

    def _fire(self, key: tuple[str, str], rt: PodRuntime, when: float) -> None:
        rt.event_timer = None
        policy = self._restart_policy(key)
        exited: list[ContainerRuntime] = []
        for c in rt.running_set():
            e = c.event(rt.terminating)
            if e is None or e[0] != when:
                continue
            _, _, kind, x = e
            if kind == "ready":
                c.x = x
                c.ready = c.readiness.ready_at(x)
                if c.ready:
                    c.restarting = False
                elif c.last_failure.get("Readiness") != x:
                    self._unhealthy(key, rt, c, "Readiness", x)  # not recorded as it passed
            elif kind == "startup":
                c.x = x
                if c.startup.ready_at(x):
                    self._startup_passed(c, x)
                    self._arm(key, rt, c, x)
                else:
                    if c.last_failure.get("Startup") != x:
                        self._unhealthy(key, rt, c, "Startup", x)
                    self._kill(key, rt, c, policy, "startup")
            elif kind == "liveness":
                c.x = x
                if c.last_failure.get("Liveness") != x:
                    self._unhealthy(key, rt, c, "Liveness", x)
                self._kill(key, rt, c, policy, "liveness")
            elif kind == "exit":
                c.x = x
                self._exited(c, c.behaviour.exit_code)
                exited.append(c)
            elif kind == "exited":
                self._exited(c, c.exit_code)
                self._after_kill(key, rt, c, policy)
            elif kind == "restart":
                self._try_restart(key, rt, c, c.restart_base, due=True)
        rt.ready = all(c.ready for c in rt.running_set())
        if rt.terminating:
            self._sync(key, rt)
            self._plan(key, rt)
            return
        phase = pod_phase(policy, rt.containers)
        if phase in ("Succeeded", "Failed"):
            rt.done = True
            self._sync(key, rt, phase=phase)
            self._cancel(rt)
            return
        self._sync(key, rt)
        # A crash is reported (state terminated) before the kubelet's next sync restarts it.
        for c in exited:
            if self._will_restart(policy, c):
                c.restarting = True
                self._try_restart(key, rt, c, self.ctx.clock.now)
        if exited:
            rt.ready = all(c.ready for c in rt.running_set())
            self._sync(key, rt)
        self._plan(key, rt)

    @staticmethod
    def _will_restart(policy: str, c: ContainerRuntime) -> bool:
        if c.spec.restart_policy == "Always":
            return True  # a sidecar restarts whatever the pod's policy
        code = c.terminated.exit_code if c.terminated is not None else 0
        return policy == "Always" or (policy == "OnFailure" and code != 0)

    def _exited(self, c: ContainerRuntime, code: int) -> None:
        now = self._now()
        c.terminated = ContainerStateTerminated(
            exit_code=code, reason="Completed" if code == 0 else "Error",
            started_at=c.started_at, finished_at=now, container_id=c.container_id,
        )
        c.mode = "exited"
        c.ready = False
        c.started_off = None
        c.exit_at = None
        c.exit_time = self.ctx.clock.now

    def _kill_duration(self, c: ContainerRuntime, grace: int, shutdown: float) -> tuple[float, bool]:
        """``killContainer``: the ``preStop`` hook (at most the grace period, counted in whole
        seconds), then SIGTERM with what is left (at least 2 s). ``(seconds, killed)``."""
        hook = c.spec.lifecycle.pre_stop if c.spec.lifecycle is not None else None
        pre = 0.0
        if hook is not None and grace > 0:
            if hook.sleep is not None:
                pre = float(hook.sleep.seconds)
            elif hook.exec is not None or hook.http_get is not None:
                pre = float(c.behaviour.pre_stop_seconds)
            pre = min(pre, float(grace))
        remaining = grace - int(pre)
        if remaining < MINIMUM_GRACE_PERIOD_SECONDS:
            remaining = MINIMUM_GRACE_PERIOD_SECONDS
        killed = shutdown > remaining
        return pre + min(shutdown, float(remaining)), killed

    def _kill(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime, policy: str, probe: str) -> None:
        """A failed liveness or startup probe: kill the container (it restarts after)."""
        if self.ctx.recorder.enabled:
            if any(i is c for i in rt.inits):
                # computeInitContainerActions: a sidecar is restarted, and says nothing of it
                message = f"Init container {c.spec.name} failed {probe} probe"
            else:
                message = f"Container {c.spec.name} failed {probe} probe" + (
                    ", will be restarted" if policy != "Never" else "")
            self._event(key, rt, c, "Normal", "Killing", message)
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        grace = 30
        if pod is not None and pod.spec.termination_grace_period_seconds is not None:
            grace = pod.spec.termination_grace_period_seconds
        shutdown = self.ctx.timing.app_shutdown.draw(self.ctx.rng)
        seconds, killed = self._kill_duration(c, grace, shutdown)
        c.mode = "stopping"
        c.exit_at = self.ctx.clock.now + seconds
        c.exit_code = _EXIT_KILLED if killed else c.behaviour.sigterm_exit_code
        c.restarting = True

    def _after_kill(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime, policy: str) -> None:
        # computePodActions kills and restarts in one SyncPod: doBackOff looks at the pod
        # status taken before the kill, whose latest exited instance is the previous one.
        if not self._will_restart(policy, c):
            return
        self._try_restart(key, rt, c, c.prev_exit)

    def _try_restart(self, key: tuple[str, str], rt: PodRuntime, c: ContainerRuntime, ts: float | None,
                     *, due: bool = False) -> None:
        """``startContainer`` after ``doBackOff`` with ``ts`` the finish time of the latest
        exited instance the kubelet's snapshot shows (``None``: none); ``due``: the back-off
        that held it has just expired (no float re-check of ``now - ts < delay``)."""
        now = self.ctx.clock.now
        bkey = (key[0], key[1], rt.uid, c.spec.name)
        entry = self.backoff.get(bkey)
        if ts is not None and entry is not None and not due:
            delay, last = entry
            expired = ts - last > 2 * BACKOFF_MAX_SECONDS
            if not expired and now - ts < delay:
                # IsInBackOffSince: CrashLoopBackOff until ts + delay
                c.mode = "backoff"
                c.restart_at = ts + delay
                c.restart_base = ts
                if c.terminated is not None:
                    c.last_state = ContainerState(terminated=c.terminated)
                c.waiting_message = (
                    f"back-off {go_duration(delay)} restarting failed container={c.spec.name} "
                    f"pod={key[1]}_{key[0]}({rt.uid})"
                )
                c.hold_start = now
                if self.ctx.recorder.enabled:
                    self._back_off_event(key, rt, c)
                    self._arm(key, rt, c, 0.0)
                return
        if ts is not None:
            # Backoff.Next: a fresh (or expired) entry starts at 10 s, else doubles.
            if entry is None or ts - entry[1] > 2 * BACKOFF_MAX_SECONDS:
                self.backoff[bkey] = (BACKOFF_INITIAL_SECONDS, now)
            else:
                self.backoff[bkey] = (min(entry[0] * 2, BACKOFF_MAX_SECONDS), now)
        self._run_instance(key, rt, c, first=False)

    # ------------------------------------------------------------------ behaviour

    def set_behaviour(self, key: tuple[str, str], behaviour: Any) -> None:
        """Give pod ``key`` an application behaviour (:class:`kubesim.probes.AppBehaviour`,
        times relative to each container instance's start). A running pod's probes are
        re-evaluated now; a pod not yet started uses it when it starts. A pod without a
        readiness probe is ready whatever its behaviour, as in Kubernetes."""
        self.behaviours[key] = behaviour
        rt = self.pods.get(key)
        if rt is None or not rt.started or rt.terminating or rt.done:
            return
        for c in rt.running_set():
            c.behaviour = behaviour
            if c.mode != "running":
                continue
            x = self.ctx.clock.now - c.since
            c.x = x
            if c.started_off is None:
                if c.startup is not None:
                    c.startup = probes.ReadinessTracker(c.spec, behaviour.for_liveness, probe=c.spec.startup_probe,
                                                        initial=None)
            else:
                off = c.started_off
                if c.readiness is not None:
                    c.readiness = probes.ReadinessTracker(c.spec, behaviour, first_probe_offset=off)
                    c.ready = c.readiness.ready_at(x)
                if c.liveness is not None:
                    c.liveness = probes.ReadinessTracker(c.spec, behaviour.for_liveness, probe=c.spec.liveness_probe,
                                                         initial=True, not_before=off)
            self._arm(key, rt, c, x)
        rt.ready = all(c.ready for c in rt.running_set())
        self._sync(key, rt)
        self._plan(key, rt)

    # ------------------------------------------------------------------ termination

    def _terminate(self, key: tuple[str, str], rt: PodRuntime, pod: Pod) -> None:
        rt.terminating = True
        self._cancel(rt)
        grace = pod.metadata.deletion_grace_period_seconds
        grace = 30 if grace is None else grace
        t = self.ctx.timing
        if not rt.started or rt.done:
            self._later(rt, t.kubelet_delete_delay.draw(self.ctx.rng), lambda: self._final_delete(key, rt))
            return
        shutdown = t.app_shutdown.draw(self.ctx.rng)
        now = self.ctx.clock.now
        events = self.ctx.recorder.enabled
        if events:
            # killContainersWithSyncResult: regular containers, then sidecars in reverse order
            sidecars = [c for c in rt.running_set() if c not in rt.containers]
            for c in [*rt.containers, *reversed(sidecars)]:
                if c.mode in ("running", "stopping"):
                    self._event(key, rt, c, "Normal", "Killing", f"Stopping container {c.spec.name}")
        exit_after = 0.0
        for c in rt.running_set():
            if c.mode in ("running", "stopping"):
                # A kill under way (a failed liveness probe) is superseded by this one.
                seconds, killed = self._kill_duration(c, grace, shutdown)
                c.mode = "running"
                c.exit_at = None
                c.exit_code = _EXIT_KILLED if killed else c.behaviour.sigterm_exit_code
                c.x = max(c.x, now - c.since)
                exit_after = max(exit_after, seconds)
            elif c.mode == "backoff":
                c.mode = "exited"
                c.restart_at = None
            if events:
                self._arm(key, rt, c, now - c.since)  # readiness is still probed; nothing else

        def exited() -> None:
            if rt.event_timer is not None:
                rt.event_timer.cancel()
                rt.event_timer = None
            for c in rt.running_set():
                if c.mode == "running":
                    self._exited(c, c.exit_code)
            rt.ready = False
            failed = any(c.terminated is None or c.terminated.exit_code != 0 for c in rt.containers)
            rt.done = True
            self._sync(key, rt, phase="Failed" if failed else "Succeeded")
            self._later(rt, t.kubelet_delete_delay.draw(self.ctx.rng), lambda: self._final_delete(key, rt))

        # The containers exit together when the last one does; readiness is probed meanwhile.
        self._later(rt, exit_after, exited)
        self._plan(key, rt)

    def _final_delete(self, key: tuple[str, str], rt: PodRuntime) -> None:
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is not None and pod.metadata.uid == rt.uid:
            try:
                self.ctx.api.remove("Pod", key[1], key[0], actor="kubelet")
            except (Conflict, ServerError):
                self._later(rt, STATUS_RETRY_SECONDS, lambda: self._final_delete(key, rt))
                return
            except ServerTimeout:
                pass  # committed
            except KubesimError:
                pass
            self._terminated += 1
        self._forget(key, rt)

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> KubeletStatistics:
        """Pods started, status writes, pods terminated, pods running now, container restarts."""
        running = sum(1 for rt in self.pods.values() if rt.started and not rt.terminating and not rt.done)
        return KubeletStatistics(self._started, self._status_writes, self._terminated, running, self._restarts)

    def _check(self) -> None:
        """Invariants: every runtime's containers are in a known mode; a ready pod has every
        container running and started; back-off delays stay within 10 s .. 5 min."""
        for rt in self.pods.values():
            for c in rt.running_set():
                assert c.mode in ("creating", "running", "stopping", "exited", "backoff"), c.mode
                if c.ready:
                    assert c.mode in ("running", "stopping") and c.started_off is not None
                assert c.restart_count >= 0
            if rt.ready:
                assert all(c.ready for c in rt.running_set())
        for delay, _ in self.backoff.values():
            assert BACKOFF_INITIAL_SECONDS <= delay <= BACKOFF_MAX_SECONDS


def set_pod_condition(api: Any, pod_name: str, condition_type: str, status: bool | str = True, *,
                      namespace: str = "default", reason: str = "", message: str = "",
                      actor: str = "client") -> Pod:
    """Write condition ``condition_type`` into a pod's ``status.conditions`` as an external
    controller does (a readiness-gate controller such as the AWS load balancer controller):
    the condition is replaced in place or appended, ``lastTransitionTime`` moves only when the
    status changes, and nothing else in the status is touched. ``status``: ``True``/``False``
    or ``"True"``/``"False"``/``"Unknown"``. The kubelet then re-evaluates ``Ready``.

    Raises :class:`~kubesim.errors.NotFound` for a missing pod and
    :class:`~kubesim.errors.InvalidOption` for a bad status. ``O(conditions)``."""
    from kubesim.errors import InvalidOption

    if isinstance(status, bool):
        text = "True" if status else "False"
    elif status in ("True", "False", "Unknown"):
        text = status
    else:
        raise InvalidOption(f'status must be True, False, "True", "False" or "Unknown", got {status!r}')
    if not isinstance(condition_type, str) or not condition_type:
        raise InvalidOption(f"condition_type must be a non-empty string, got {condition_type!r}")
    pod: Pod = api.get("Pod", pod_name, namespace)
    now = int(api.epoch) + int(api.clock.now)
    conds = list(pod.status.conditions)
    for i, c in enumerate(conds):
        if c.type == condition_type:
            if c.status == text and c.reason == reason and c.message == message:
                return pod
            ltt = c.last_transition_time if c.status == text else now
            conds[i] = PodCondition(type=condition_type, status=text, last_transition_time=ltt,
                                    last_probe_time=c.last_probe_time, reason=reason, message=message)
            break
    else:
        conds.append(PodCondition(type=condition_type, status=text, last_transition_time=now, reason=reason,
                                  message=message))
    new = attrs.evolve(pod, status=attrs.evolve(pod.status, conditions=tuple(conds)))
    stored: Pod = api.update(new, actor=actor)
    return stored
