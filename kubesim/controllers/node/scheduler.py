"""A seeded kube-scheduler: binds each new pod to the least-loaded fitting node.

Scoring is reduced to spreading (``NodeResourcesBalancedAllocation`` and
``PodTopologySpread`` in effect spread identical pods): the pod goes to a Ready, schedulable
node that matches its ``nodeSelector`` and has the fewest pods, ties broken by the cluster's
seeded random, as kube-scheduler breaks score ties at random. A node holds at most its
``allocatable.pods`` (110 by default).

The binding is one write (``pods/binding`` sets ``spec.nodeName`` and the ``PodScheduled``
condition), made ``timing.scheduler_latency`` after the pod appears.

Costs: ``O(log N)`` per binding for ``N`` nodes (a heap of (pods, random tie-break, node) with
lazy invalidation); a node-selector pod falls back to an ``O(N)`` scan.
"""

from __future__ import annotations

import heapq
from typing import Any

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers.runtime import ControllerContext
from kubesim.errors import KubesimError, ServerTimeout
from kubesim.objects import Pod, PodCondition

__all__ = ["Scheduler", "SchedulerStatistics"]


@attrs.frozen
class SchedulerStatistics:
    """Counters of the scheduler."""

    bound: int
    unschedulable: int
    pending: int


@attrs.define(eq=False)
class Scheduler:
    """Binds pods to nodes. See the module docstring."""

    ctx: ControllerContext
    _pods_on: dict[str, int] = attrs.field(factory=dict, repr=False)
    _capacity: dict[str, int] = attrs.field(factory=dict, repr=False)
    _schedulable: dict[str, bool] = attrs.field(factory=dict, repr=False)
    _labels: dict[str, Any] = attrs.field(factory=dict, repr=False)
    _heap: list[tuple[int, float, str]] = attrs.field(factory=list, repr=False)
    _pending: dict[tuple[str, str], None] = attrs.field(factory=dict, repr=False)
    _bound: int = 0
    _unschedulable: int = 0

    name = "scheduler"

    def start(self) -> None:
        self.ctx.api.watch(self._on_node, {"Node"})
        self.ctx.api.watch(self._on_pod, {"Pod"})

    # ------------------------------------------------------------------ nodes

    def _push(self, node: str) -> None:
        heapq.heappush(self._heap, (self._pods_on.get(node, 0), self.ctx.rng.random(), node))

    def _on_node(self, ev: WatchEvent) -> None:
        name = ev.new.metadata.name
        if ev.type == "DELETED":
            self._schedulable.pop(name, None)
            return
        node = ev.new
        was = self._schedulable.get(name, False)
        ok = node.status.ready and not node.spec.unschedulable and not any(
            t.effect in ("NoSchedule", "NoExecute") for t in node.spec.taints
        )
        self._schedulable[name] = ok
        self._labels[name] = node.metadata.labels
        try:
            self._capacity[name] = int(node.status.allocatable.get("pods", "110"))
        except ValueError:
            self._capacity[name] = 110
        self._pods_on.setdefault(name, 0)
        if ok and not was:
            self._push(name)
            if self._pending:
                self.ctx.clock.schedule(0.0, self._retry_pending)

    # ------------------------------------------------------------------ pods

    def _on_pod(self, ev: WatchEvent) -> None:
        pod: Pod = ev.new
        key = (pod.metadata.namespace, pod.metadata.name)
        if ev.type == "DELETED":
            self._pending.pop(key, None)
            node = pod.spec.node_name
            if node and node in self._pods_on:
                self._pods_on[node] -= 1
                if self._schedulable.get(node):
                    self._push(node)
            return
        old = ev.old
        if ev.type == "MODIFIED" and old is not None and not old.spec.node_name and pod.spec.node_name:
            return  # our own binding (counted when made)
        if ev.type == "ADDED" and pod.spec.node_name:
            self._pods_on[pod.spec.node_name] = self._pods_on.get(pod.spec.node_name, 0) + 1
            return
        if ev.type == "ADDED" and not pod.spec.node_name and pod.metadata.deletion_timestamp is None:
            if pod.spec.scheduler_name not in ("", "default-scheduler"):
                return
            delay = self.ctx.timing.scheduler_latency.draw(self.ctx.rng)
            self._pending[key] = None
            self.ctx.clock.schedule(delay, lambda: self._bind(key))

    def _choose(self, pod: Pod) -> str | None:
        if pod.spec.node_selector:
            sel = pod.spec.node_selector
            best: tuple[int, str] | None = None
            for name in sorted(self._schedulable):
                if not self._schedulable[name] or self._pods_on[name] >= self._capacity[name]:
                    continue
                labels = self._labels.get(name, {})
                if all(labels.get(k) == v for k, v in sel.items()):
                    cand = (self._pods_on[name], name)
                    if best is None or cand < best:
                        best = cand
            return None if best is None else best[1]
        heap = self._heap
        while heap:
            count, _, name = heap[0]
            if (
                not self._schedulable.get(name)
                or count != self._pods_on.get(name)
                or count >= self._capacity.get(name, 110)
            ):
                heapq.heappop(heap)
                continue
            return name
        return None

    def _bind(self, key: tuple[str, str]) -> None:
        if key not in self._pending:
            return
        pod = self.ctx.api.try_get("Pod", key[1], key[0])
        if pod is None or pod.spec.node_name or pod.metadata.deletion_timestamp is not None:
            self._pending.pop(key, None)
            return
        node = self._choose(pod)
        if node is None:
            self._unschedulable += 1
            return  # stays pending until a node frees up or appears
        del self._pending[key]
        now = self.ctx.api.epoch + int(self.ctx.clock.now)
        conditions = tuple(c for c in pod.status.conditions if c.type != "PodScheduled") + (
            PodCondition(type="PodScheduled", status="True", last_transition_time=now),
        )
        bound = attrs.evolve(
            pod,
            metadata=attrs.evolve(pod.metadata, resource_version=""),
            spec=attrs.evolve(pod.spec, node_name=node),
            status=attrs.evolve(pod.status, phase=pod.status.phase or "Pending", conditions=conditions),
        )
        try:
            self.ctx.api.update(bound, actor="scheduler")
        except ServerTimeout:
            pass  # the binding was committed; the response was lost
        except KubesimError:
            self._pending[key] = None
            self.ctx.clock.schedule(1.0, lambda: self._bind(key))
            return
        self._bound += 1
        self._pods_on[node] += 1
        self._push(node)  # the node's previous heap entry is now stale and dropped lazily

    def _retry_pending(self) -> None:
        for key in list(self._pending):
            self._bind(key)

    def statistics(self) -> SchedulerStatistics:
        """Pods bound, failed attempts, pods waiting for a node."""
        return SchedulerStatistics(self._bound, self._unschedulable, len(self._pending))

    def _check(self) -> None:
        """Per-node pod counts agree with the API server."""
        counts: dict[str, int] = {}
        for pod in self.ctx.api.list("Pod", None):
            if pod.spec.node_name:
                counts[pod.spec.node_name] = counts.get(pod.spec.node_name, 0) + 1
        for node, n in self._pods_on.items():
            assert counts.get(node, 0) == n, (node, counts.get(node, 0), n)
