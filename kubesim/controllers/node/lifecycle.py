"""Node failure, eviction and drain (``pkg/controller/nodelifecycle``, taint-based eviction).

:meth:`NodeLifecycleController.fail_node` stops a node's kubelet. After
``timing.node_monitor_grace_period`` (50 s) without heartbeats the controller marks the node
``Ready=Unknown``, taints it ``node.kubernetes.io/unreachable`` (``NoSchedule`` and
``NoExecute``) and marks every pod on it ``Ready=False`` (``MarkPodsNotReady``) — that is
when the endpoint controllers take its pods out of service. Pods tolerate the ``NoExecute``
taint for ``timing.default_toleration_seconds`` (300 s, the ``DefaultTolerationSeconds``
admission plugin's toleration, unless the pod tolerates the taint itself: then for its least
``tolerationSeconds``, or for ever without one; ``pkg/controller/tainteviction``); then the
taint-eviction controller deletes them. With the kubelet gone they stay ``Terminating`` until
the node recovers (the ReplicaSet controller replaces them at once, since terminating pods are
not active).

:meth:`recover_node` restarts the kubelet: it reports ``Ready=True``, the taints are removed,
pending evictions are cancelled, terminations complete and running pods report readiness again.

:meth:`drain` is ``kubectl drain``: cordon (``spec.unschedulable``) and evict every pod
(graceful delete); :meth:`uncordon` reverses the cordon.

Events: ``Normal NodeNotReady`` "Node <name> status is now: NodeNotReady" about the node when it
is marked ``Unknown``, ``Warning NodeNotReady`` "Node is not ready" about each pod marked
``Ready=False`` (source ``node-controller``), and ``Normal TaintManagerEviction`` "Marking for
deletion Pod <ns>/<name>" (source ``taint-eviction-controller``) just before an eviction.

Costs: ``O(pods)`` per node event (a scan for the node's pods; node events are rare).
"""

from __future__ import annotations

from typing import Any

import attrs

from kubesim.clock import Timer
from kubesim.controllers.runtime import ControllerContext, retrying
from kubesim.errors import InvalidOption
from kubesim.objects import Node, NodeCondition, Pod, PodCondition, Taint

__all__ = ["NodeLifecycleController", "TAINT_UNREACHABLE", "TAINT_UNSCHEDULABLE", "ACTOR"]

ACTOR = "node-lifecycle-controller"
EVICTION_ACTOR = "taint-eviction-controller"
#: The source of the node lifecycle controller's Events (``node-controller``).
EVENT_SOURCE = "node-controller"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


@attrs.frozen
class NodeLifecycleStatistics:
    """Counters of the node lifecycle controller."""

    failed_nodes: int
    pods_marked_not_ready: int
    pods_evicted: int


@attrs.define(eq=False)
class NodeLifecycleController:
    """Marks unreachable nodes, their pods NotReady, and evicts them. See the module docstring."""

    ctx: ControllerContext
    _timers: dict[str, list[Timer]] = attrs.field(factory=dict, repr=False)
    _down: set[str] = attrs.field(factory=set, repr=False)
    _marked: int = 0
    _evicted: int = 0

    name = "nodelifecycle"

    def start(self) -> None:
        """Nothing to watch: node failures are injected with :meth:`fail_node`."""

    # ------------------------------------------------------------------ helpers

    def _node(self, name: str) -> Node:
        node: Node = self.ctx.api.get("Node", name, "")
        return node

    def _now(self) -> int:
        return int(self.ctx.api.epoch + int(self.ctx.clock.now))

    def _pods_on(self, node: str) -> list[Pod]:
        return [p for p in self.ctx.api.list("Pod", None) if p.spec.node_name == node]

    def _kubelet(self) -> Any:
        cluster = self.ctx.cluster
        return None if cluster is None else cluster.controllers.get("kubelet")

    def _later(self, node: str, delay: float, fn: Any) -> None:
        self._timers.setdefault(node, []).append(self.ctx.clock.schedule(delay, fn))

    def _write_node(self, node: Node, actor: str) -> None:
        self.ctx.api.update(attrs.evolve(node, metadata=attrs.evolve(node.metadata, resource_version="")), actor=actor)

    @staticmethod
    def _with_ready(node: Node, status: str, reason: str, now: int) -> Node:
        conds = tuple(
            attrs.evolve(c, status=status, reason=reason, last_transition_time=now if c.status != status else c.last_transition_time)
            if c.type == "Ready"
            else c
            for c in node.status.conditions
        )
        if not any(c.type == "Ready" for c in conds):
            conds += (NodeCondition(type="Ready", status=status, reason=reason, last_transition_time=now),)
        return attrs.evolve(node, status=attrs.evolve(node.status, conditions=conds))

    # ------------------------------------------------------------------ failure and recovery

    def fail_node(self, name: str) -> None:
        """Stop ``name``'s kubelet now (no heartbeats, no status, no deletions)."""
        self._node(name)
        if name in self._down:
            raise InvalidOption(f"node {name!r} is already down")
        self._down.add(name)
        kubelet = self._kubelet()
        if kubelet is not None:
            kubelet.node_down(name)
        self._later(name, self.ctx.timing.node_monitor_grace_period, lambda: self._mark_unreachable(name))

    def _mark_unreachable(self, name: str) -> None:
        node = self.ctx.api.try_get("Node", name, "")
        if node is None or name not in self._down:
            return
        now = self._now()
        taints = tuple(t for t in node.spec.taints if t.key != TAINT_UNREACHABLE) + (
            Taint(key=TAINT_UNREACHABLE, effect="NoSchedule", time_added=now),
            Taint(key=TAINT_UNREACHABLE, effect="NoExecute", time_added=now),
        )
        retrying(self.ctx.clock, lambda: self._taint(name, "Unknown", taints))
        for pod in self._pods_on(name):
            if pod.status.ready:
                retrying(self.ctx.clock, lambda key=(pod.metadata.namespace, pod.metadata.name): self._mark_pod(key, now))  # type: ignore[misc]
        # taint-based eviction (pkg/controller/tainteviction): each pod after its toleration
        default = self.ctx.timing.default_toleration_seconds
        self._later(name, default, lambda: self._evict(name, EVICTION_ACTOR, default))
        delays = {self._eviction_delay(p) for p in self._pods_on(name)} - {None, default}
        for delay in sorted(d for d in delays if d is not None):
            self._later(name, delay, lambda delay=delay: self._evict(name, EVICTION_ACTOR, delay))

    def _eviction_delay(self, pod: Pod) -> float | None:
        """Seconds a pod stays on an unreachable node, ``None`` for ever: a pod without a
        toleration for ``node.kubernetes.io/unreachable:NoExecute`` gets the
        DefaultTolerationSeconds admission plugin's (``timing.default_toleration_seconds``);
        otherwise ``getMinTolerationTime`` of the matching tolerations (the least
        ``tolerationSeconds``, 0 if one is not positive, for ever if none is set)."""
        from kubesim.controllers.node.scheduler import tolerates

        taint = Taint(key=TAINT_UNREACHABLE, effect="NoExecute")
        used = [t for t in pod.spec.tolerations if tolerates(t, taint)]
        if not used:
            return float(self.ctx.timing.default_toleration_seconds)
        seconds = [t.toleration_seconds for t in used if t.toleration_seconds is not None]
        if not seconds:
            return None
        return float(max(0, min(seconds)))

    def _mark_pod(self, key: tuple[str, str], now: int) -> None:
        """``MarkPodsNotReady`` for one pod (re-read, so a retry sees the latest state)."""
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None or not pod.status.ready:
            return
        conds = tuple(
            PodCondition(type=c.type, status="False", last_transition_time=now, reason="NodeNotReady")
            if c.type == "Ready"
            else c
            for c in pod.status.conditions
        )
        self.ctx.api.update(
            attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, resource_version=""),
                         status=attrs.evolve(pod.status, conditions=conds)),
            actor=ACTOR,
        )
        self._marked += 1
        rec = self.ctx.recorder
        if rec.enabled:
            # MarkPodsNotReady (pkg/controller/util/node/controller_utils.go), after the write
            rec.event(pod, "Warning", "NodeNotReady", "Node is not ready", component=EVENT_SOURCE)

    def _taint(self, name: str, ready: str, taints: tuple[Taint, ...]) -> None:
        node = self.ctx.api.try_get("Node", name, "")
        if node is None or name not in self._down:
            return
        marked = self._with_ready(node, ready, "NodeStatusUnknown", self._now())
        self._write_node(attrs.evolve(marked, spec=attrs.evolve(marked.spec, taints=taints)), ACTOR)
        rec = self.ctx.recorder
        if rec.enabled and ready != "True" and node.status.ready:
            # monitorNodeHealth: RecordNodeStatusChange(node, "NodeNotReady")
            rec.event(node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady", component=EVENT_SOURCE)

    def _evict(self, name: str, actor: str, delay: float | None = None) -> None:
        for pod in self._pods_on(name):
            if delay is not None and self._eviction_delay(pod) != delay:
                continue  # another timer's pod (or one tolerating the taint for ever)
            if pod.metadata.deletion_timestamp is None:
                retrying(self.ctx.clock, lambda key=(pod.metadata.namespace, pod.metadata.name): self._evict_one(key, actor))  # type: ignore[misc]

    def _evict_one(self, key: tuple[str, str], actor: str) -> None:
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None or pod.metadata.deletion_timestamp is not None:
            return
        rec = self.ctx.recorder
        if rec.enabled and actor == EVICTION_ACTOR:
            # deletePodHandler (pkg/controller/tainteviction) records it before deleting
            rec.event(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {key[0]}/{key[1]}",
                      component=EVICTION_ACTOR)
        self.ctx.api.delete("Pod", key[1], key[0], actor=actor)
        self._evicted += 1

    def recover_node(self, name: str) -> None:
        """Restart ``name``'s kubelet: Ready again, taints removed, evictions cancelled."""
        if name not in self._down:
            raise InvalidOption(f"node {name!r} is not down")
        self._down.discard(name)
        for timer in self._timers.pop(name, []):
            timer.cancel()
        self._node(name)
        # The kubelet reports Ready, then the controller lifts the taint; each write is retried
        # on a refused attempt (re-reading the node), as the kubelet and controller do, so an
        # injected fault delays recovery instead of failing the caller.
        retrying(self.ctx.clock, lambda: self._report_ready(name))
        retrying(self.ctx.clock, lambda: self._lift_unreachable(name))
        kubelet = self._kubelet()
        if kubelet is not None:
            kubelet.node_up(name)

    def _report_ready(self, name: str) -> None:
        node = self.ctx.api.try_get("Node", name, "")
        if node is not None and name not in self._down and not node.status.ready:
            self._write_node(self._with_ready(node, "True", "KubeletReady", self._now()), "kubelet")

    def _lift_unreachable(self, name: str) -> None:
        node = self.ctx.api.try_get("Node", name, "")
        if node is not None and name not in self._down and any(t.key == TAINT_UNREACHABLE for t in node.spec.taints):
            taints = tuple(t for t in node.spec.taints if t.key != TAINT_UNREACHABLE)
            self._write_node(attrs.evolve(node, spec=attrs.evolve(node.spec, taints=taints)), ACTOR)

    # ------------------------------------------------------------------ drain

    def drain(self, name: str) -> None:
        """``kubectl drain``: cordon the node, then evict every pod on it (graceful)."""
        self.cordon(name)
        self._evict(name, "kubectl")

    def cordon(self, name: str) -> None:
        """``kubectl cordon``: ``spec.unschedulable = true`` (and its taint)."""
        node = self._node(name)
        if node.spec.unschedulable:
            return
        taints = node.spec.taints + (Taint(key=TAINT_UNSCHEDULABLE, effect="NoSchedule", time_added=self._now()),)
        self._write_node(attrs.evolve(node, spec=attrs.evolve(node.spec, unschedulable=True, taints=taints)), "kubectl")

    def uncordon(self, name: str) -> None:
        """``kubectl uncordon``."""
        node = self._node(name)
        if not node.spec.unschedulable:
            return
        taints = tuple(t for t in node.spec.taints if t.key != TAINT_UNSCHEDULABLE)
        self._write_node(attrs.evolve(node, spec=attrs.evolve(node.spec, unschedulable=False, taints=taints)), "kubectl")

    def statistics(self) -> NodeLifecycleStatistics:
        """Nodes down now, pods marked NotReady, pods evicted."""
        return NodeLifecycleStatistics(len(self._down), self._marked, self._evicted)
