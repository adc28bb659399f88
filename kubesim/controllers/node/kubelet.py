"""The kubelets of every node, as one component: pod start-up, IPs, readiness, termination.

For a pod bound to a node (times from :class:`~kubesim.timing.Timing`, drawn from the seed):

1. ``kubelet_admit`` later: the first status write — phase ``Pending``, ``hostIP``, conditions
   ``PodReadyToStartContainers``/``Initialized``/``Ready``/``ContainersReady`` (no IP yet);
2. ``container_start`` after binding: the sandbox has an IP (from the node's pod CIDR, see
   :mod:`kubesim.ipam`), containers run: phase ``Running``, ``podIP``/``podIPs``; ``Ready`` is
   ``True`` at once without a readiness probe, else it follows the probe (:mod:`kubesim.probes`);
3. on ``deletionTimestamp``: the app receives SIGTERM and exits after ``app_shutdown`` (at most
   the grace period; killed at its end): a status write with the terminal phase and
   ``Ready=False``; ``kubelet_delete_delay`` later the kubelet's final DELETE frees the name
   and, the pod IP.

Costs: ``O(1)`` per pod event plus one clock entry per scheduled transition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.clock import Timer
from kubesim.controllers.runtime import ControllerContext
from kubesim.errors import Conflict, KubesimError, ServerError, ServerTimeout
from kubesim.ipam import RangeAllocator
from kubesim.objects import Pod, PodCondition, PodIP, PodStatus

__all__ = ["Kubelet", "KubeletStatistics", "PodRuntime", "STATUS_RETRY_SECONDS"]

#: How long the status manager waits before retrying a failed status write.
STATUS_RETRY_SECONDS = 1.0


@attrs.frozen
class KubeletStatistics:
    """Counters of the kubelets."""

    started: int
    status_writes: int
    terminated: int
    running: int


@attrs.define(eq=False)
class PodRuntime:
    """What the kubelet knows of one pod it runs."""

    uid: str
    node: str
    started: bool = False
    ips: tuple[str, ...] = ()
    timers: list[Timer] = attrs.field(factory=list)
    terminating: bool = False
    ready: bool = False
    readiness: Any = None  # a PodReadiness, when the pod has a readiness probe
    since: float = 0.0  # when its containers started
    status_seq: int = 0  # status write attempts, so a retry never overwrites a newer status


def _conditions(now: int, ready: bool, old: tuple[PodCondition, ...], *, started: bool) -> tuple[PodCondition, ...]:
    prev = {c.type: c for c in old}

    def cond(t: str, status: bool) -> PodCondition:
        s = "True" if status else "False"
        p = prev.get(t)
        if p is not None and p.status == s:
            return p
        reason = "" if status else ("ContainersNotReady" if t in ("Ready", "ContainersReady") else "")
        return PodCondition(type=t, status=s, last_transition_time=now, reason=reason)

    return (
        cond("PodReadyToStartContainers", started),
        cond("Initialized", True),
        cond("Ready", ready),
        cond("ContainersReady", ready),
        prev.get("PodScheduled") or PodCondition(type="PodScheduled", status="True", last_transition_time=now),
    )


@attrs.define(eq=False)
class Kubelet:
    """Runs the pods bound to every node. See the module docstring."""

    ctx: ControllerContext
    pods: dict[tuple[str, str], PodRuntime] = attrs.field(factory=dict, repr=False)
    #: application behaviour per pod key (see :mod:`kubesim.probes`), set by scenarios
    behaviours: dict[tuple[str, str], Any] = attrs.field(factory=dict, repr=False)
    #: nodes whose kubelet is down (see :mod:`kubesim.controllers.node.lifecycle`)
    down_nodes: set[str] = attrs.field(factory=set, repr=False)
    _started: int = 0
    _status_writes: int = 0
    _terminated: int = 0

    name = "kubelet"

    def start(self) -> None:
        self.ctx.api.watch(self._on_pod, {"Pod"})

    def _now(self) -> int:
        return int(self.ctx.api.epoch) + int(self.ctx.clock.now)

    def _later(self, rt: PodRuntime, delay: float, fn: Callable[[], object]) -> None:
        rt.timers.append(self.ctx.clock.schedule(delay, fn))

    # ------------------------------------------------------------------ events

    def _on_pod(self, ev: WatchEvent) -> None:
        pod: Pod = ev.new
        key = (pod.metadata.namespace, pod.metadata.name)
        rt = self.pods.get(key)
        if ev.type == "DELETED":
            if rt is not None and rt.uid == pod.metadata.uid:
                self._forget(key, rt)
            return
        if rt is not None and rt.uid != pod.metadata.uid:
            self._forget(key, rt)
            rt = None
        if not pod.spec.node_name or pod.status.phase in ("Succeeded", "Failed"):
            return
        if rt is None:
            if pod.metadata.deletion_timestamp is not None:
                return
            rt = PodRuntime(uid=pod.metadata.uid, node=pod.spec.node_name)
            self.pods[key] = rt
            t = self.ctx.timing
            admit = t.kubelet_admit.draw(self.ctx.rng)
            start = max(admit, t.container_start.draw(self.ctx.rng))
            self._later(rt, admit, lambda: self._admit(key, rt))
            self._later(rt, start, lambda: self._start_containers(key, rt))
            return
        if pod.metadata.deletion_timestamp is not None and not rt.terminating:
            if rt.node in self.down_nodes:
                return  # a dead kubelet does not see the deletion; handled in node_up
            self._terminate(key, rt, pod)

    # ------------------------------------------------------------------ node failure

    def node_down(self, node: str) -> None:
        """The kubelet of ``node`` stops: its pods keep running (or not) unobserved, no status
        is written and nothing is deleted until :meth:`node_up`."""
        self.down_nodes.add(node)
        for rt in self.pods.values():
            if rt.node == node:
                for timer in rt.timers:
                    timer.cancel()
                rt.timers.clear()

    def node_up(self, node: str) -> None:
        """The kubelet of ``node`` is back: it finishes pending terminations, starts pods it had
        not started, and reports the readiness of the running ones."""
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
            else:
                rt.ready = pod.status.ready  # what the API shows (the node controller may have changed it)
                self._readiness_flip(key, rt)

    def _forget(self, key: tuple[str, str], rt: PodRuntime) -> None:
        for timer in rt.timers:
            timer.cancel()
        rt.timers.clear()
        ranges = self.ctx.cluster.pod_ranges.get(rt.node, []) if self.ctx.cluster is not None else []
        for ip in rt.ips:
            for r in ranges:
                try:
                    if r.in_use(ip):
                        r.release(ip)
                except ValueError:
                    pass
        if self.pods.get(key) is rt:
            del self.pods[key]
            self.behaviours.pop(key, None)

    def _write_status(self, key: tuple[str, str], rt: PodRuntime, mutate: Callable[[Pod], PodStatus]) -> Pod | None:
        """Write the status ``mutate(pod)`` of the pod as stored now (an unconditional update,
        as the status manager's patch is)."""
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None or pod.metadata.uid != rt.uid:
            return None
        new = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, resource_version=""), status=mutate(pod))
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
                    self._write_status(key, rt, mutate)

            self._later(rt, STATUS_RETRY_SECONDS, retry)
            return None
        except KubesimError:
            return None
        self._status_writes += 1
        return stored

    def _admit(self, key: tuple[str, str], rt: PodRuntime) -> None:
        if rt.started or rt.terminating:
            return
        now = self._now()
        host_ip = self._host_ip(rt.node)

        def mutate(pod: Pod) -> PodStatus:
            return attrs.evolve(
                pod.status,
                phase="Pending",
                host_ip=host_ip,
                start_time=now,
                conditions=_conditions(now, False, pod.status.conditions, started=False),
            )

        self._write_status(key, rt, mutate)

    def _host_ip(self, node: str) -> str:
        n = self.ctx.api.try_get("Node", node, "")
        if n is not None:
            for a in n.status.addresses:
                if a.type == "InternalIP":
                    return str(a.address)
        return ""

    def _start_containers(self, key: tuple[str, str], rt: PodRuntime) -> None:
        if rt.terminating:
            return
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None or pod.metadata.uid != rt.uid:
            return
        ranges: list[RangeAllocator] = self.ctx.cluster.pod_ranges.get(rt.node, []) if self.ctx.cluster else []
        rt.ips = tuple(r.allocate() for r in ranges)
        rt.started = True
        self._started += 1
        since = self.ctx.clock.now
        rt.since = since
        rt.readiness = readiness_for(pod, since, self.behaviours.get(key))
        ready = rt.readiness is None or rt.readiness.ready_at(since)
        rt.ready = ready
        now = self._now()
        ips = rt.ips

        def mutate(p: Pod) -> PodStatus:
            return attrs.evolve(
                p.status,
                phase="Running",
                pod_ip=ips[0] if ips else "",
                pod_ips=tuple(PodIP(ip) for ip in ips),
                start_time=p.status.start_time or now,
                conditions=_conditions(now, ready, p.status.conditions, started=True),
            )

        self._write_status(key, rt, mutate)
        self._schedule_readiness(key, rt)

    def _schedule_readiness(self, key: tuple[str, str], rt: PodRuntime, after: float | None = None) -> None:
        # Readiness flips are found in container time (seconds since the containers started);
        # the timer carries the flip's container time to the callback, which evaluates
        # readiness there. Converting the clock's time back (``now - since``) can land an ulp
        # before the flip, which would never be seen and be rescheduled forever.
        if rt.readiness is None or rt.terminating:
            return
        x = self.ctx.clock.now - rt.readiness.since if after is None else after
        nxt = rt.readiness.next_offset(x)
        if nxt is None:
            return
        self._later(rt, max(0.0, rt.readiness.since + nxt - self.ctx.clock.now),
                    lambda: self._readiness_flip(key, rt, at=nxt))

    def _readiness_flip(self, key: tuple[str, str], rt: PodRuntime, at: float | None = None) -> None:
        if rt.terminating:
            return
        x = at
        if x is None and rt.readiness is not None:
            x = self.ctx.clock.now - rt.readiness.since
        ready = rt.readiness is None or rt.readiness.ready_at_offset(x if x is not None else 0.0)
        if ready != rt.ready:
            rt.ready = ready
            now = self._now()
            self._write_status(
                key,
                rt,
                lambda p: attrs.evolve(p.status, conditions=_conditions(now, ready, p.status.conditions, started=True)),
            )
        self._schedule_readiness(key, rt, after=x)

    def set_behaviour(self, key: tuple[str, str], behaviour: Any) -> None:
        """Give pod ``key`` an application behaviour (:class:`kubesim.probes.AppBehaviour`,
        times relative to its container start). A running pod's readiness is re-evaluated now;
        a pod not yet started uses it when it starts. A pod without a readiness probe is ready
        whatever its behaviour, as in Kubernetes."""
        self.behaviours[key] = behaviour
        rt = self.pods.get(key)
        if rt is None or not rt.started or rt.terminating:
            return
        for timer in rt.timers:
            timer.cancel()
        rt.timers.clear()
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None:
            return
        rt.readiness = readiness_for(pod, rt.since, behaviour)
        self._readiness_flip(key, rt)

    def _terminate(self, key: tuple[str, str], rt: PodRuntime, pod: Pod) -> None:
        rt.terminating = True
        for timer in rt.timers:
            timer.cancel()
        rt.timers.clear()
        grace = pod.metadata.deletion_grace_period_seconds
        grace = 30 if grace is None else grace
        t = self.ctx.timing
        if not rt.started:
            self._later(rt, t.kubelet_delete_delay.draw(self.ctx.rng), lambda: self._final_delete(key, rt))
            return
        shutdown = t.app_shutdown.draw(self.ctx.rng)
        killed = shutdown > grace
        exit_after = min(shutdown, float(grace))
        phase = "Failed" if killed else "Succeeded"

        def exited() -> None:
            now = self._now()
            rt.ready = False
            self._write_status(
                key,
                rt,
                lambda p: attrs.evolve(
                    p.status, phase=phase, conditions=_conditions(now, False, p.status.conditions, started=False)
                ),
            )
            self._later(rt, t.kubelet_delete_delay.draw(self.ctx.rng), lambda: self._final_delete(key, rt))

        self._later(rt, exit_after, exited)

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
        """Pods started, status writes, pods terminated, pods running now."""
        running = sum(1 for rt in self.pods.values() if rt.started and not rt.terminating)
        return KubeletStatistics(self._started, self._status_writes, self._terminated, running)


@attrs.define(eq=False)
class PodReadiness:
    """A pod's readiness over virtual time: every container with a readiness probe must be
    ready (:class:`kubesim.probes.ReadinessTracker` per container, in container time from
    ``since``). Containers without a probe are ready once running."""

    since: float
    trackers: tuple[Any, ...]

    def ready_at(self, t: float) -> bool:
        """Readiness at virtual time ``t``."""
        return self.ready_at_offset(t - self.since)

    def ready_at_offset(self, x: float) -> bool:
        """Readiness ``x`` seconds after the containers started."""
        return all(tr.ready_at(x) for tr in self.trackers)

    def next_transition(self, t: float) -> float | None:
        """The virtual time of the first flip strictly after ``t``, or ``None``."""
        x = self.next_offset(t - self.since)
        return None if x is None else self.since + x

    def next_offset(self, x: float) -> float | None:
        """The container time of the first flip strictly after container time ``x``."""
        times = [tr.next_transition(x) for tr in self.trackers]
        live = [y for y in times if y is not None]
        return None if not live else min(live)


def readiness_for(pod: Pod, since: float, behaviour: Any = None) -> PodReadiness | None:
    """The :class:`PodReadiness` of ``pod`` whose containers started at ``since``, with an
    application ``behaviour`` (:class:`kubesim.probes.AppBehaviour`; default: up at once,
    listening on exactly its declared container ports). ``None`` when no container has a
    readiness probe (the pod is ready as soon as it runs)."""
    from kubesim import probes

    beh = behaviour if behaviour is not None else probes.AppBehaviour()
    trackers = tuple(
        probes.ReadinessTracker(c, beh) for c in pod.spec.containers if c.readiness_probe is not None
    )
    return PodReadiness(since, trackers) if trackers else None
