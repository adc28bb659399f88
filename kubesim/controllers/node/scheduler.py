"""A seeded kube-scheduler: binds each new pod to the least-loaded fitting node.

Filters, as kube-scheduler's plugins do:

* ``NodeUnschedulable``: a cordoned node (``spec.unschedulable``) only takes pods that tolerate
  ``node.kubernetes.io/unschedulable:NoSchedule``;
* ``TaintToleration`` (``pkg/scheduler/framework/plugins/tainttoleration``): every
  ``NoSchedule`` and ``NoExecute`` taint of the node must be tolerated
  (:func:`tolerates`, ``component-helpers/scheduling/corev1`` ``ToleratesTaint``);
  ``PreferNoSchedule`` only scores, and kubesim does not score it;
* ``NodeAffinity``: the ``nodeSelector`` labels and the required node-affinity terms
  (:func:`node_matches_affinity`, ``component-helpers/scheduling/corev1/nodeaffinity``: terms
  ORed, an empty term matches nothing, expressions and fields ANDed; ``In``, ``NotIn``,
  ``Exists``, ``DoesNotExist``, ``Gt``, ``Lt``; ``matchFields`` on ``metadata.name``);
* ``NodeResourcesFit`` reduced to the pod count: a node holds at most its ``allocatable.pods``
  (110 by default); the node must report Ready.

Scoring is reduced to spreading (``NodeResourcesBalancedAllocation`` and
``PodTopologySpread`` in effect spread identical pods): among the fitting nodes the one with
the fewest pods, ties broken by the cluster's seeded random, as kube-scheduler breaks score
ties at random. Preferred node affinity, pod (anti-)affinity and topology spread constraints
do not score (they are reported as :class:`kubesim.ModelWarning` when applied).

The binding is one write (``pods/binding`` sets ``spec.nodeName`` and the ``PodScheduled``
condition), made ``timing.scheduler_latency`` after the pod appears.

Events (``pkg/scheduler/schedule_one.go``, source ``default-scheduler``): ``Normal Scheduled``
"Successfully assigned <ns>/<pod> to <node>" after a binding succeeded; ``Warning
FailedScheduling`` at each failed attempt, with :func:`fit_error_message`'s "0/N nodes are
available: ..." (the filters' reasons per node, then the preemption post-filter's), "no nodes
available to schedule pods" without nodes, and "binding rejected: ..." for a refused binding.
An unschedulable pod is retried when a node appears or changes (a real attempt, which binds it
if it fits now), and, as upstream's scheduling queue does without such events
(``pkg/scheduler/internal/queue/scheduling_queue.go``: ``flushUnschedulablePodsLeftover`` runs
every :data:`UNSCHEDULABLE_FLUSH_SECONDS` and moves a pod that has waited more than
``podMaxInUnschedulablePodsDuration``, :data:`MAX_IN_UNSCHEDULABLE_SECONDS`, back to the
active queue; its 1 s-to-10 s back-off has long expired), at the first flush tick (counted from
virtual time 0) more than 5 minutes after its last failed attempt: every 330 s. Those timed
retries record ``FailedScheduling`` again (the correlator counts the repeats), lazily, through
a passive source of the clock (:meth:`kubesim.clock.Clock.add_passive`): no timer is added, so
``run()`` ends when it did and no other write moves. Deviations: a timed retry that would find a
node (capacity freed by a deleted pod, which upstream's queue reacts to and kubesim does not)
records nothing and binds nothing, and the pod's ``PodScheduled=False`` condition is not
written.

Costs: ``O(log N)`` per binding for ``N`` nodes (a heap of (pods, random tie-break, node) with
lazy invalidation) for a pod without placement constraints, which can use only untainted,
uncordoned nodes; a pod with a node selector, node affinity or tolerations goes to the least
loaded fitting node, ties to the first by name, from a heap of (pods, node) per placement
constraint over the nodes its taint and label filters pass: ``O(N)`` to build it once after each
node event, then ``O(log N)`` per binding (the ``O(N)`` scan it replaces is kept as its oracle,
compared at every choice under ``KUBESIM_CHECK_HINTS``).
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Callable
from typing import Any

import attrs

from kubesim import wire
from kubesim.apiserver import WatchEvent
from kubesim.controllers.runtime import ControllerContext
from kubesim.errors import KubesimError, ServerTimeout
from kubesim.objects import (
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodCondition,
    PodSpec,
    PodStatus,
    Taint,
    Toleration,
)

__all__ = [
    "Scheduler",
    "SchedulerStatistics",
    "tolerates",
    "node_matches_affinity",
    "fit_error_message",
    "TAINT_UNSCHEDULABLE",
    "COMPONENT",
    "UNSCHEDULABLE_FLUSH_SECONDS",
    "MAX_IN_UNSCHEDULABLE_SECONDS",
    "next_flush_retry",
]

#: ``flushUnschedulablePodsLeftover``'s period (``scheduling_queue.go``).
UNSCHEDULABLE_FLUSH_SECONDS = 30.0
#: ``podMaxInUnschedulablePodsDuration`` (``DefaultPodMaxInUnschedulablePodsDuration``, 5 min).
MAX_IN_UNSCHEDULABLE_SECONDS = 300.0
#: The event source of the scheduler (``pkg/scheduler`` profile ``default-scheduler``).
COMPONENT = "default-scheduler"
# Filter reasons (pkg/scheduler/framework/plugins/*), in the default profile's filter order.
REASON_UNSCHEDULABLE = "node(s) were unschedulable"  # nodeunschedulable.ErrReasonUnschedulable
REASON_TAINT = "node(s) had untolerated taint(s)"  # tainttoleration.Filter (1.34+: no key/value)
REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"  # nodeaffinity.ErrReasonPod
REASON_TOO_MANY_PODS = "Too many pods"  # noderesources.Fit, allocatable pods
# DefaultPreemption's per-node answers (pkg/scheduler/framework/preemption/preemption.go):
# a node rejected as UnschedulableAndUnresolvable is not helped by preemption; a full node could
# be, but kubesim's pods all have priority 0, so there is never a lower-priority victim.
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
PREEMPTION_NO_VICTIMS = "No preemption victims found for incoming pod"
NO_NODES = "no nodes available to schedule pods"  # ErrNoNodesAvailable


def next_flush_retry(failed_at: float) -> float:
    """The virtual time an unschedulable pod whose last attempt failed at ``failed_at`` is
    retried by the queue's flush: the first tick (a multiple of
    :data:`UNSCHEDULABLE_FLUSH_SECONDS`) more than :data:`MAX_IN_UNSCHEDULABLE_SECONDS` later.
    ``O(1)``.

    >>> next_flush_retry(12.5), next_flush_retry(330.0)
    (330.0, 660.0)
    """
    ticks = (failed_at + MAX_IN_UNSCHEDULABLE_SECONDS) // UNSCHEDULABLE_FLUSH_SECONDS + 1
    return ticks * UNSCHEDULABLE_FLUSH_SECONDS


def _histogram(reasons: list[str]) -> str:
    counts: dict[str, int] = {}
    for r in reasons:
        counts[r] = counts.get(r, 0) + 1
    return ", ".join(sorted(f"{n} {r}" for r, n in counts.items()))


def fit_error_message(reasons: list[str]) -> str:
    """``FitError.Error()`` (``pkg/scheduler/framework/types.go``) for one filter reason per
    node, with DefaultPreemption's post-filter message: ``0/N nodes are available: <sorted
    "count reason" histogram>. preemption: 0/N nodes are available: <histogram>.``

    >>> fit_error_message([REASON_TOO_MANY_PODS, REASON_TAINT])
    '0/2 nodes are available: 1 Too many pods, 1 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.'
    """
    if not reasons:
        return NO_NODES
    n = len(reasons)
    pre = [PREEMPTION_NO_VICTIMS if r == REASON_TOO_MANY_PODS else PREEMPTION_NOT_HELPFUL for r in reasons]
    return (f"0/{n} nodes are available: {_histogram(reasons)}. "
            f"preemption: 0/{n} nodes are available: {_histogram(pre)}.")

TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
_FILTERED_EFFECTS = ("NoSchedule", "NoExecute")


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """``Toleration.ToleratesTaint``: the effect (if set) and key (if set) must match, and
    ``Exists`` matches any value, ``Equal`` (or empty) the same value. ``O(1)``."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator in ("", "Equal"):
        return toleration.value == taint.value
    return toleration.operator == "Exists"


def _tolerated(tolerations: tuple[Toleration, ...], taints: tuple[Taint, ...]) -> bool:
    # FindMatchingUntoleratedTaint over the filtered effects
    return all(
        any(tolerates(t, taint) for t in tolerations) for taint in taints if taint.effect in _FILTERED_EFFECTS
    )


def _requirement_matches(r: NodeSelectorRequirement, value: str | None) -> bool:
    op = r.operator
    if op == "In":
        return value is not None and value in r.values
    if op == "NotIn":
        return value is None or value not in r.values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt"):
        if value is None or len(r.values) != 1:
            return False
        try:
            have, want = int(value), int(r.values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False  # an unknown operator matches nothing


def _term_matches(term: NodeSelectorTerm, node_name: str, labels: Any) -> bool:
    if not term.match_expressions and not term.match_fields:
        return False  # an empty term matches no objects
    for r in term.match_expressions:
        if not _requirement_matches(r, labels.get(r.key)):
            return False
    for r in term.match_fields:
        if r.key != "metadata.name" or not _requirement_matches(r, node_name):
            return False
    return True


def node_matches_affinity(spec: PodSpec, node_name: str, labels: Any) -> bool:
    """The ``NodeAffinity`` filter: ``nodeSelector`` (every label equal) and the required
    node-affinity terms (any term matches). ``O(selector + terms)``."""
    for k, v in spec.node_selector.items():
        if labels.get(k) != v:
            return False
    na = spec.affinity.node_affinity if spec.affinity is not None else None
    required = na.required_during_scheduling_ignored_during_execution if na is not None else None
    if required is None:
        return True
    return any(_term_matches(t, node_name, labels) for t in required.node_selector_terms)


def _replacer(cls: type, *names: str) -> Callable[..., Any]:
    """``replace(obj, *values)``: ``attrs.evolve(obj, **dict(zip(names, values)))`` for the
    frozen attrs class ``cls``, by one positional construction (every field read by one
    ``attrgetter``), several times cheaper than ``evolve``'s walk over the fields. The same
    object: every field of ``cls`` is an ``__init__`` argument in field order (asserted), and
    the converters run as they do under ``evolve``."""
    fields = attrs.fields(cls)
    assert all(f.init and not f.kw_only and f.alias == f.name for f in fields), cls
    order = [f.name for f in fields]
    places = [order.index(n) for n in names]
    get = operator.attrgetter(*order)

    def replace(obj: Any, *values: Any) -> Any:
        args = list(get(obj))
        for i, v in zip(places, values, strict=True):
            args[i] = v
        return cls(*args)

    return replace


# The binding: the pod as read, ``spec.nodeName`` set, ``status.phase`` and ``status.conditions``
# replaced. The status and the pod are built positionally in Scheduler._bind (every field, in
# this order); the spec by a replacer.
_with_node_name = _replacer(PodSpec, "node_name")
assert [f.name for f in attrs.fields(PodStatus)] == [
    "phase", "conditions", "host_ip", "pod_ip", "pod_ips", "start_time", "reason", "message",
    "container_statuses", "init_container_statuses", "host_ips", "qos_class",
], "PodStatus changed: update kubesim.controllers.node.scheduler.Scheduler._bind"
assert [f.name for f in attrs.fields(Pod)] == ["metadata", "spec", "status"], "Pod changed: update Scheduler._bind"


def _constrained(spec: PodSpec) -> bool:
    return bool(spec.node_selector or spec.tolerations or (spec.affinity is not None and spec.affinity.node_affinity))


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
    _taints: dict[str, tuple[Taint, ...]] = attrs.field(factory=dict, repr=False)
    _ready: dict[str, bool] = attrs.field(factory=dict, repr=False)
    _heap: list[tuple[int, float, str]] = attrs.field(factory=list, repr=False)
    _pending: dict[tuple[str, str], None] = attrs.field(factory=dict, repr=False)
    _bound: int = 0
    _unschedulable: int = 0
    #: timed retries of unschedulable pods (virtual time, sequence, pod key, generation), done by
    #: the clock's passive source; a pod's generation moves at each real attempt
    _retries: list[tuple[float, int, tuple[str, str], int]] = attrs.field(factory=list, repr=False)
    _retry_seq: int = 0
    _gen: dict[tuple[str, str], int] = attrs.field(factory=dict, repr=False)
    #: the ``PodScheduled=True`` condition of the latest binding: the bindings of one second
    #: share one instance (equal to a fresh one: conditions are frozen)
    _scheduled: PodCondition | None = attrs.field(default=None, repr=False)
    #: ``sorted(_ready)``, kept until a node is added or deleted (the scans over every node,
    #: for constrained pods and failure reasons, go by name)
    _names: list[str] | None = attrs.field(default=None, repr=False)
    #: constrained pods' candidates: per placement constraint (node selector, tolerations,
    #: affinity), a heap of (pods, name) over the nodes their static filters pass (taints,
    #: labels), with lazy invalidation; dropped at every node event (see :meth:`_choose`)
    _fits: dict[tuple[Any, Any, Any], list[tuple[int, str]]] = attrs.field(factory=dict, repr=False)
    #: node -> the heaps of :attr:`_fits` it is in (a pod count change pushes its new entry)
    _fit_heaps: dict[str, list[list[tuple[int, str]]]] = attrs.field(factory=dict, repr=False)

    name = "scheduler"

    def start(self) -> None:
        self.ctx.api.watch(self._on_node, {"Node"})
        self.ctx.api.watch(self._on_pod, {"Pod"})
        if self.ctx.recorder.enabled:
            self.ctx.clock.add_passive(self._flush_due)

    def _plan_retry(self, key: tuple[str, str]) -> None:
        self._retry_seq += 1
        gen = self._gen[key] = self._retry_seq  # unique: a pod recreated under the name starts afresh
        heapq.heappush(self._retries, (next_flush_retry(self.ctx.clock.now), self._retry_seq, key, gen))

    def _flush_due(self, t: float) -> None:
        """The passive source: the timed retries due by ``t``, each at its own time; one that
        still finds no node records ``FailedScheduling`` again. ``O(1)`` when none is due."""
        due = self._retries
        clock = self.ctx.clock
        while due and due[0][0] <= t:
            when, _, key, gen = heapq.heappop(due)
            if self._gen.get(key) != gen or key not in self._pending:
                continue
            pod = self.ctx.api.try_get("Pod", key[1], key[0])
            if pod is None or pod.spec.node_name or pod.metadata.deletion_timestamp is not None:
                continue
            if when > clock.now:
                clock.now = when
            if self._choose(pod) is None:  # (statistics count real attempts only)
                self.ctx.recorder.event(pod, "Warning", "FailedScheduling", fit_error_message(self._reasons(pod)),
                                        component=COMPONENT, action="Scheduling")
            self._retry_seq += 1
            heapq.heappush(due, (next_flush_retry(when), self._retry_seq, key, gen))

    # ------------------------------------------------------------------ nodes

    def _push(self, node: str) -> None:
        heapq.heappush(self._heap, (self._pods_on.get(node, 0), self.ctx.rng.random(), node))

    def _on_node(self, ev: WatchEvent) -> None:
        name = ev.new.metadata.name
        if self._fits:
            # what the constrained pods' candidates were filtered by may have changed
            self._fits.clear()
            self._fit_heaps.clear()
        if ev.type == "DELETED":
            self._schedulable.pop(name, None)
            self._ready.pop(name, None)
            self._names = None
            return
        node = ev.new
        was = self._schedulable.get(name, False)
        # "schedulable" is for pods without tolerations: Ready, uncordoned, untainted
        ok = node.status.ready and not node.spec.unschedulable and not any(
            t.effect in _FILTERED_EFFECTS for t in node.spec.taints
        )
        self._schedulable[name] = ok
        if name not in self._ready:
            self._names = None
        self._ready[name] = node.status.ready
        taints = node.spec.taints
        if node.spec.unschedulable:
            # NodeUnschedulable: as if the node carried the unschedulable taint
            taints = (*taints, Taint(key=TAINT_UNSCHEDULABLE, effect="NoSchedule"))
        self._taints[name] = taints
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
        elif self._pending and node.status.ready and (
            ev.old is None
            or ev.old.spec.taints != node.spec.taints
            or ev.old.spec.unschedulable != node.spec.unschedulable
            or ev.old.metadata.labels != node.metadata.labels
        ):
            # a node a constrained pod may now fit (tolerated taints, new labels)
            self.ctx.clock.schedule(0.0, lambda: self._retry_pending(constrained_only=True))

    # ------------------------------------------------------------------ pods

    def _on_pod(self, ev: WatchEvent) -> None:
        """A pod event: a new unbound pod is queued, a pod created bound or deleted changes
        its node's count. A MODIFIED event changes nothing (the scheduler's own binding is
        counted when made), so it returns first: most pod events are status writes."""
        t = ev.type
        if t == "MODIFIED":
            return
        pod: Pod = ev.new
        key = (pod.metadata.namespace, pod.metadata.name)
        if t == "DELETED":
            self._pending.pop(key, None)
            self._gen.pop(key, None)
            node = pod.spec.node_name
            if node and node in self._pods_on:
                self._pods_on[node] -= 1
                if self._fit_heaps:
                    self._refit(node)
                if self._schedulable.get(node):
                    self._push(node)
            return
        if t == "ADDED" and pod.spec.node_name:
            self._pods_on[pod.spec.node_name] = self._pods_on.get(pod.spec.node_name, 0) + 1
            if self._fit_heaps:
                self._refit(pod.spec.node_name)
            return
        if t == "ADDED" and not pod.spec.node_name and pod.metadata.deletion_timestamp is None:
            if pod.spec.scheduler_name not in ("", "default-scheduler"):
                return
            delay = self.ctx.timing.scheduler_latency.draw(self.ctx.rng)
            self._pending[key] = None
            self.ctx.clock.schedule(delay, lambda: self._bind(key))

    def _sorted_names(self) -> list[str]:
        """The known nodes' names, sorted: ``O(1)`` but after a node was added or deleted."""
        names = self._names
        if names is None:
            names = self._names = sorted(self._ready)
        return names

    def _choose_by_scan(self, spec: PodSpec) -> str | None:
        """The node for a constrained pod by a scan over every node (``O(N)``): the fewest
        pods among the Ready, not full nodes whose taints it tolerates and whose labels its
        selector and affinity match, ties to the first by name. The oracle of
        :meth:`_choose_constrained`."""
        best: tuple[int, str] | None = None
        for name in self._sorted_names():
            if not self._ready[name] or self._pods_on[name] >= self._capacity[name]:
                continue
            if not self._passes_static_filters(spec, name):
                continue
            cand = (self._pods_on[name], name)
            if best is None or cand < best:
                best = cand
        return None if best is None else best[1]

    def _passes_static_filters(self, spec: PodSpec, name: str) -> bool:
        """Node ``name``'s taints are tolerated and its labels (and name) match the pod's node
        selector and affinity: the filters that change only at a node event. ``O(taints +
        terms)``."""
        return _tolerated(spec.tolerations, self._taints.get(name, ())) and node_matches_affinity(
            spec, name, self._labels.get(name, {}))

    def _choose_constrained(self, spec: PodSpec) -> str | None:
        """:meth:`_choose_by_scan` from a maintained heap per placement constraint.

        The heap of a constraint (:attr:`_fits`, built by one scan) holds ``(pods, name)`` for
        the nodes whose taints and labels pass its filters, and every pod count change pushes
        the node's new entry (:meth:`_refit`); its least entry that is current (its count the
        node's), not full and Ready is the scan's minimum of ``(pods, name)``. An entry that
        is stale or full is dropped: a later count change pushes a fresh one. A NotReady node's
        entry is dropped too: readiness, like taints, labels and capacity, changes only at a
        node event, which drops every heap. ``O(log N)`` amortised per binding."""
        sig = (spec.node_selector, spec.tolerations, spec.affinity)
        heap = self._fits.get(sig)
        if heap is None:
            heap = []
            fit_heaps = self._fit_heaps
            for name in self._sorted_names():
                if not self._passes_static_filters(spec, name):
                    continue
                heap.append((self._pods_on[name], name))
                fit_heaps.setdefault(name, []).append(heap)
            heapq.heapify(heap)
            self._fits[sig] = heap
        pods_on, capacity, ready = self._pods_on, self._capacity, self._ready
        while heap:
            count, name = heap[0]
            if count != pods_on[name] or count >= capacity[name] or not ready[name]:
                heapq.heappop(heap)
                continue
            return name
        return None

    def _refit(self, node: str) -> None:
        """Node ``node``'s pod count changed: its current entry into each constrained heap it
        is in. ``O(heaps x log N)``."""
        heaps = self._fit_heaps.get(node)
        if heaps:
            entry = (self._pods_on[node], node)
            for heap in heaps:
                heapq.heappush(heap, entry)

    def _choose(self, pod: Pod) -> str | None:
        spec = pod.spec
        if _constrained(spec):
            chosen = self._choose_constrained(spec)
            if wire.CHECK_HINTS:
                assert chosen == self._choose_by_scan(spec), (pod.metadata.name, chosen)
            return chosen
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

    def _reasons(self, pod: Pod) -> list[str]:
        """The first failing filter's reason on every known node (``O(N)``: only on failure)."""
        spec = pod.spec
        out = []
        for name in self._sorted_names():
            taints = self._taints.get(name, ())
            cordoned = any(t.key == TAINT_UNSCHEDULABLE and t.effect == "NoSchedule" for t in taints)
            if cordoned and not any(tolerates(t, Taint(key=TAINT_UNSCHEDULABLE, effect="NoSchedule"))
                                    for t in spec.tolerations):
                out.append(REASON_UNSCHEDULABLE)
            elif not self._ready[name] or not _tolerated(spec.tolerations, taints):
                # a NotReady node carries node.kubernetes.io/not-ready upstream
                out.append(REASON_TAINT)
            elif not node_matches_affinity(spec, name, self._labels.get(name, {})):
                out.append(REASON_AFFINITY)
            else:
                out.append(REASON_TOO_MANY_PODS)
        return out

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
            rec = self.ctx.recorder
            if rec.enabled:
                rec.event(pod, "Warning", "FailedScheduling", fit_error_message(self._reasons(pod)),
                          component=COMPONENT, action="Scheduling")
                self._plan_retry(key)
            return  # stays pending until a node frees up or appears
        del self._pending[key]
        self._gen.pop(key, None)
        now = self.ctx.api.epoch + int(self.ctx.clock.now)
        scheduled = self._scheduled
        if scheduled is None or scheduled.last_transition_time != now:
            scheduled = self._scheduled = PodCondition(type="PodScheduled", status="True", last_transition_time=now)
        status = pod.status
        old_conditions = status.conditions
        conditions = (
            (*(c for c in old_conditions if c.type != "PodScheduled"), scheduled) if old_conditions else (scheduled,)
        )
        # The stored metadata as read, resourceVersion included: nothing runs between the read
        # and the write, so the precondition holds and the update is as unconditional as one
        # without a resourceVersion (the API server keeps the stored metadata as it is).
        bound = Pod(
            pod.metadata,
            _with_node_name(pod.spec, node),
            PodStatus(
                status.phase or "Pending", conditions, status.host_ip, status.pod_ip, status.pod_ips,
                status.start_time, status.reason, status.message, status.container_statuses,
                status.init_container_statuses, status.host_ips, status.qos_class,
            ),
        )
        try:
            self.ctx.api.update(bound, actor="scheduler")
        except ServerTimeout as err:
            # the binding was committed; the response was lost: the scheduler saw an error
            rec = self.ctx.recorder
            if rec.enabled:
                rec.event(pod, "Warning", "FailedScheduling",
                          f'binding rejected: running Bind plugin "DefaultBinder": {err}',
                          component=COMPONENT, action="Scheduling")
        except KubesimError as err:
            self._pending[key] = None
            self.ctx.clock.schedule(1.0, lambda: self._bind(key))
            rec = self.ctx.recorder
            if rec.enabled:
                rec.event(pod, "Warning", "FailedScheduling",
                          f'binding rejected: running Bind plugin "DefaultBinder": {err}',
                          component=COMPONENT, action="Scheduling")
            return
        else:
            rec = self.ctx.recorder
            if rec.enabled:
                ns, name = key
                rec.event(pod, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {node}",
                          component=COMPONENT, action="Binding")
        self._bound += 1
        self._pods_on[node] += 1
        if self._fit_heaps:
            self._refit(node)
        self._push(node)  # the node's previous heap entry is now stale and dropped lazily

    def _retry_pending(self, constrained_only: bool = False) -> None:
        for key in list(self._pending):
            if constrained_only:
                pod = self.ctx.api.try_get("Pod", key[1], key[0])
                if pod is None or not _constrained(pod.spec):
                    continue
            self._bind(key)

    def statistics(self) -> SchedulerStatistics:
        """Pods bound, failed attempts, pods waiting for a node."""
        return SchedulerStatistics(self._bound, self._unschedulable, len(self._pending))

    def _check(self) -> None:
        """Per-node pod counts agree with the API server; the sorted names are the nodes'; a
        Ready node with room has its current entry in every constrained heap it is in."""
        assert self._names is None or self._names == sorted(self._ready)
        for node, heaps in self._fit_heaps.items():
            count = self._pods_on[node]
            if self._ready.get(node) and count < self._capacity[node]:
                assert all((count, node) in heap for heap in heaps), node
        counts: dict[str, int] = {}
        for pod in self.ctx.api.list("Pod", None):
            if pod.spec.node_name:
                counts[pod.spec.node_name] = counts.get(pod.spec.node_name, 0) + 1
        for node, n in self._pods_on.items():
            assert counts.get(node, 0) == n, (node, counts.get(node, 0), n)
