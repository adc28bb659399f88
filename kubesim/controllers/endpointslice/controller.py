"""The EndpointSlice controller (``pkg/controller/endpointslice/endpointslice_controller.go``).

Event wiring (reference §1.15): Service events -> ``queue.add``; pod events ->
``queue.add_after(key, endpointslice_updates_batch_period)`` for every affected Service;
EndpointSlice events managed by this controller -> ``add_after(max(1 s, batch period))`` only
when the generation tracker says the change was not the controller's own. ``sync`` reads the
Service's pods and slices, refuses to act on a stale slice cache (generation tracker), computes
the trigger time and applies the slice plan in upstream API order with the actor
``endpointslice-controller``.

Two planners produce the plan, chosen by :attr:`EndpointSliceController.mode` (the
``slice_reconciler`` option, ``"fast"`` by default; the two write identical change logs,
checked by ``tests/test_endpointslice_fastpath.py``):

* ``"reference"``: :func:`~kubesim.controllers.endpointslice.reconciler.reconcile_endpoint_slices` on the
  Service's pods and slices, listed at every sync. ``O(pods of the namespace + slices of the
  namespace)`` per sync.
* ``"fast"``: one :class:`~kubesim.controllers.endpointslice.incremental.ServiceSlicer` per Service, told
  of every pod, Node and slice written (see below), which plans from what changed since the
  last sync. The
  slices are handed to it as a live view over a per-Service index, and the trigger time comes
  from :class:`IncrementalTriggerTimes`. A pod flip costs ``O(services of the namespace)`` to
  ingest and ``O(changed)`` to sync: the staleness check is kept up to date by
  :meth:`SliceTracker.observe` as slices change, and the write path re-sizes only the slices
  written.

The two produce the same writes, in the same order, with the same bytes: the change log of a
run is identical in both modes (``tests/test_endpointslice_fastpath.py`` checks it on random
workloads, with injected faults, delayed watch events among them). Exactness needs the
planners to see what the reference reads, the API store itself, at every sync. Watch events
may arrive late (``FaultPlan(watch_delay > 0)``) or be held by a transaction, so the planners
are not fed from the watch: the change log's subscription hook, which fires on every commit,
notes each pod, slice and Node written, and the next fast sync first replays them against the
store (``_catch_up``: per write, ``O(1)`` to note and ``O(Services of the namespace)`` to
replay; only namespaces the fast path tracks are noted). The watch handlers only enqueue, so the queue hears
of changes at the same (possibly late) times in both modes, as the Endpoints controller's
engines are fed too. The planner is chosen at the first sync.

Upstream's metrics are kept in :attr:`EndpointSliceController.metrics`
(:class:`~kubesim.controllers.endpointslice.reconciler.SliceMetrics`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from kubesim import wire
from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.endpointslice.incremental import ServiceSlicer
from kubesim.controllers.endpointslice.reconciler import (
    CONTROLLER_NAME,
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    SliceMetrics,
    SlicePlan,
    reconcile_endpoint_slices,
)
from kubesim.controllers.endpointslice.topology import TopologyCache
from kubesim.controllers.endpointutil import TriggerTimeTracker
from kubesim.controllers.runtime import ControllerContext, WorkQueue, endpointslice_rate_limiter
from kubesim.errors import InvalidOption, KubesimError, NotFound
from kubesim.objects import EndpointSlice, Node, Pod, Service

__all__ = [
    "EndpointSliceController",
    "SliceTracker",
    "ACTOR",
    "StaleSlices",
    "IncrementalTriggerTimes",
    "SLICE_RECONCILERS",
]

ACTOR = "endpointslice-controller"
#: The source of the controller's Events (``endpointslice_controller.go``: ``endpoint-slice-controller``).
EVENT_SOURCE = "endpoint-slice-controller"
MIN_SYNC_DELAY = 1.0  # endpointSliceChangeMinSyncDelay

#: The values of the ``slice_reconciler`` option.
SLICE_RECONCILERS = ("fast", "reference")


class StaleSlices(KubesimError):
    """The informer cache holds slices older than the controller's own writes."""


@attrs.define(eq=False)
class SliceTracker:
    """``EndpointSliceTracker``: per Service, slice uid -> expected generation (-1: deletion
    expected). See ``staging/src/k8s.io/endpointslice/util/endpointslice_tracker.go``.

    :meth:`stale` is upstream's ``StaleSlices``: it reads every slice it is given,
    ``O(slices of the Service)``. A controller that reports every change of its listed slices
    to :meth:`observe` can ask :meth:`stale_observed` instead, which answers the same question
    for the slices observed so far in ``O(1)``: the tracker then keeps, per Service, the uids
    whose expectation the observed slices do not meet, and re-judges one uid whenever its
    expectation or its slice changes. The answer equals :meth:`stale` of the store's slices
    when every committed write has been observed, which the EndpointSlice controller ensures
    by replaying the change log's commits before each fast sync (not the watch, whose events
    may come late or wait for a transaction's end). Observing starts with
    :meth:`start_observing`.

    Costs: :meth:`stale` ``O(len(slices))``; :meth:`start_observing` ``O(expectations)``;
    :meth:`_check` ``O(expectations + observed slices)``; every other method ``O(1)``.
    """

    _gens: dict[str, dict[str, int]] = attrs.field(factory=dict)
    # observed view: (namespace, name) -> (Service key, uid); Service key -> uid -> generation;
    # Service key -> uids whose expectation is unmet
    _observing: bool = attrs.field(default=False, repr=False)
    _listed: dict[tuple[str, str], tuple[str, str]] = attrs.field(factory=dict, repr=False)
    _seen: dict[str, dict[str, int]] = attrs.field(factory=dict, repr=False)
    _unmet: dict[str, set[str]] = attrs.field(factory=dict, repr=False)

    @staticmethod
    def _svc(slice_: Any) -> str:
        return f"{slice_.metadata.namespace}/{slice_.metadata.labels.get(LABEL_SERVICE_NAME, '')}"

    def has(self, slice_: Any) -> bool:
        return slice_.metadata.uid in self._gens.get(self._svc(slice_), {})

    def should_sync(self, slice_: Any) -> bool:
        gens = self._gens.get(self._svc(slice_))
        if gens is None:
            return True
        g = gens.get(slice_.metadata.uid)
        return g is None or slice_.metadata.generation > g

    def stale(self, service_key: str, slices: Iterable[Any]) -> bool:
        """``StaleSlices``: some slice is older than its expected generation or expected
        deleted, or an expected slice is missing from ``slices``. ``O(len(slices))``."""
        gens = self._gens.get(service_key)
        if not gens:
            return False
        seen = set()
        for s in slices:
            g = gens.get(s.metadata.uid)
            seen.add(s.metadata.uid)
            if g is None:
                continue
            if g == -1 or g > s.metadata.generation:
                return True
        return any(g != -1 and uid not in seen for uid, g in gens.items())

    def update(self, slice_: Any) -> None:
        """Expect ``slice_``'s generation. A generation already expected changes nothing:
        every change of an expectation or of an observed slice re-judges its uid at once, so
        judging again would give what the unmet set holds (the controller records each of
        its writes twice, when the watch delivers it and when the API call returns)."""
        key, uid = self._svc(slice_), slice_.metadata.uid
        gens = self._gens.get(key)
        if gens is None:
            gens = self._gens[key] = {}
        generation = slice_.metadata.generation
        if gens.get(uid, -1) == generation and generation != -1:
            return
        gens[uid] = generation
        if self._observing:
            self._judge(key, uid)

    def expect_deletion(self, slice_: Any) -> None:
        key, uid = self._svc(slice_), slice_.metadata.uid
        self._gens.setdefault(key, {})[uid] = -1
        if self._observing:
            self._judge(key, uid)

    def handle_deletion(self, slice_: Any) -> bool:
        """Forget ``slice_``; ``True`` if the deletion was unexpected."""
        key, uid = self._svc(slice_), slice_.metadata.uid
        gens = self._gens.get(key)
        if gens is None or uid not in gens:
            return True
        g = gens.pop(uid)
        if self._observing:
            self._judge(key, uid)
        return g != -1

    def delete_service(self, key: str) -> None:
        self._gens.pop(key, None)
        self._unmet.pop(key, None)

    # ------------------------------------------------------------------ observed view

    def start_observing(self) -> None:
        """From now on the caller reports to :meth:`observe` every slice it lists, and every
        later change of one. ``O(expectations)``."""
        if self._observing:
            return
        self._observing = True
        for key, gens in self._gens.items():
            for uid in gens:
                self._judge(key, uid)

    def observe(self, namespace: str, name: str, slice_: Any | None, key: str | None) -> None:
        """The listed slice ``namespace/name`` is now ``slice_`` listed under Service ``key``
        (``None``, ``None``: no longer listed). ``O(1)``."""
        assert self._observing, "start_observing() first"
        if slice_ is not None and key is not None:
            uid = slice_.metadata.uid
            if self._listed.get((namespace, name)) == (key, uid):
                # Listed as before (the usual write): only its generation changes. Dropping
                # and re-adding it would judge (key, uid) twice, the second time as here.
                self._seen[key][uid] = slice_.metadata.generation
                self._judge(key, uid)
                return
        before = self._listed.pop((namespace, name), None)
        if before is not None:
            bkey, buid = before
            seen = self._seen[bkey]
            del seen[buid]
            if not seen:
                del self._seen[bkey]
            self._judge(bkey, buid)
        if slice_ is not None and key is not None:
            uid = slice_.metadata.uid
            self._listed[(namespace, name)] = (key, uid)
            self._seen.setdefault(key, {})[uid] = slice_.metadata.generation
            self._judge(key, uid)

    def stale_observed(self, service_key: str) -> bool:
        """:meth:`stale` of the observed slices listed under ``service_key``. ``O(1)``."""
        assert self._observing, "start_observing() first"
        return bool(self._unmet.get(service_key))

    def _judge(self, key: str, uid: str) -> None:
        # The one-uid term of stale(): expected but missing, expected deleted but present, or
        # present at an older generation than expected. (No empty map or set is built for
        # a lookup: this runs twice per slice write.)
        gens = self._gens.get(key)
        g = gens.get(uid) if gens is not None else None
        seen = self._seen.get(key)
        generation = seen.get(uid) if seen is not None else None
        if g is None:
            unmet = False
        elif generation is None:
            unmet = g != -1
        else:
            unmet = g == -1 or g > generation
        if unmet:
            uids = self._unmet.get(key)
            if uids is None:
                self._unmet[key] = {uid}
            else:
                uids.add(uid)
        else:
            uids = self._unmet.get(key)
            if uids is not None:
                uids.discard(uid)
                if not uids:
                    del self._unmet[key]

    def _check(self) -> None:
        """Assert the observed view's bookkeeping: the unmet sets are what :meth:`stale`'s
        terms give for the observed slices. ``O(expectations + observed slices)``."""
        if not self._observing:
            assert not self._listed and not self._seen and not self._unmet
            return
        # every observed generation belongs to exactly one listed slice
        assert sorted(self._listed.values()) == sorted((k, u) for k, uids in self._seen.items() for u in uids)
        unmet: dict[str, set[str]] = {}
        for key, gens in self._gens.items():
            for uid, g in gens.items():
                generation = self._seen.get(key, {}).get(uid)
                if (generation is None and g != -1) or (generation is not None and (g == -1 or g > generation)):
                    unmet.setdefault(key, set()).add(uid)
        assert unmet == self._unmet, (unmet, self._unmet)


# --------------------------------------------------------------------------------------------
# Incremental trigger times


def _ready_transition(pod: Pod | None) -> int | float | None:
    if pod is None:
        return None
    cond = pod.status.condition("Ready")
    return cond.last_transition_time if cond is not None else None


def _later(t: int | float | None, than: int | float | None) -> bool:
    # time.Time.After with the zero time (None) as the earliest instant.
    return t is not None and (than is None or t > than)


@attrs.define(eq=False)
class _TriggerState:
    svc_time: int | float | None
    selector: Any
    pods: dict[str, int | float]
    pending: set[str] = attrs.field(factory=set)


@attrs.define(eq=False)
class IncrementalTriggerTimes:
    """:class:`~kubesim.controllers.endpointutil.TriggerTimeTracker` kept from pod changes.

    :meth:`compute` returns exactly what ``TriggerTimeTracker.compute(service, pods)`` returns
    for the same sequence of syncs, but reads only the pods named to :meth:`pod_changed` since
    the Service's last computation. It falls back to reading every selected pod on the first
    computation of a Service and after its selector changed.

    Methods: :meth:`pods_changed` ``O(tracked Services of the namespace × names)``; :meth:`compute`
    ``O(p log p)`` for ``p`` pods changed since the last computation (``O(pods)`` on the
    fallback); :meth:`forget` ``O(1)``; :meth:`_check`.

    >>> from kubesim.objects import ObjectMeta, ServiceSpec
    >>> svc = Service(metadata=ObjectMeta(name="web", namespace="default", creation_timestamp=100),
    ...               spec=ServiceSpec(selector={"app": "web"}))
    >>> times = IncrementalTriggerTimes()
    >>> times.compute(svc, list, lambda name: None), times.compute(svc, list, lambda name: None)
    (100, None)
    """

    _states: dict[str, _TriggerState] = attrs.field(factory=dict, init=False, repr=False)
    _by_ns: dict[str, set[str]] = attrs.field(factory=dict, init=False, repr=False)

    def pod_changed(self, namespace: str, name: str) -> None:
        """The pod ``namespace/name`` was added, changed or deleted: :meth:`pods_changed` of
        one name. ``O(tracked Services of the namespace)``."""
        self.pods_changed(namespace, (name,))

    def pods_changed(self, namespace: str, names: Iterable[str]) -> None:
        """The pods ``names`` of ``namespace`` were added, changed or deleted (a set's union
        per Service: the order of the names does not matter, :meth:`compute` sorts them); what
        the controller calls.
        ``O(tracked Services of the namespace × len(names))``, C-level per Service."""
        for key in self._by_ns.get(namespace, ()):
            self._states[key].pending.update(names)

    def compute(
        self,
        service: Service,
        all_pods: Callable[[], Iterable[Pod]],
        pod: Callable[[str], Pod | None],
        key: str | None = None,
    ) -> int | float | None:
        """The trigger time for this sync of ``service``. ``all_pods()`` gives the pods the
        selector matches (only called on the fallback); ``pod(name)`` the current pod of that
        name in the Service's namespace, or ``None``; ``key`` the Service's key when the
        caller has it (``object_key(service)``). Cost: see the class docstring."""
        if key is None:
            key = eu.object_key(service)
        state = self._states.get(key)
        selector = service.spec.selector
        svc_time = service.metadata.creation_timestamp
        min_changed: int | float | None = None

        # min_changed: the earliest of the times noted below (a local, not a closure's cell)
        if state is None or (state.selector is not selector and state.selector != selector):
            last = state.pods if state is not None else {}
            times: dict[str, int | float] = {}
            for p in all_pods():
                t = _ready_transition(p)
                if t:
                    times[p.metadata.name] = t
                    if _later(t, last.get(p.metadata.name)) and (min_changed is None or t < min_changed):
                        min_changed = t
            if state is None:
                self._states[key] = _TriggerState(svc_time, selector, times)
                self._by_ns.setdefault(service.metadata.namespace, set()).add(key)
                return svc_time
            state.pods, state.selector = times, selector
            state.pending.clear()
        elif state.pending:
            pods = state.pods
            matches = eu.selector_matches
            pending = state.pending
            for name in sorted(pending) if len(pending) > 1 else pending:
                pending_pod = pod(name)
                t = None
                if pending_pod is not None and matches(selector, pending_pod.metadata.labels):
                    for cond in pending_pod.status.conditions:  # _ready_transition, inlined
                        if cond.type == "Ready":
                            t = cond.last_transition_time
                            break
                if t:
                    before = pods.get(name)
                    # _later(t, before), t being set
                    if (before is None or t > before) and (min_changed is None or t < min_changed):
                        min_changed = t
                    pods[name] = t
                else:
                    pods.pop(name, None)
            pending.clear()
        if _later(svc_time, state.svc_time):
            assert svc_time is not None
            if min_changed is None or svc_time < min_changed:
                min_changed = svc_time
        state.svc_time = svc_time
        return min_changed

    def forget(self, service_key: str) -> None:
        """Drop the state of ``namespace/name`` (the Service was deleted). ``O(1)``."""
        if self._states.pop(service_key, None) is not None:
            ns = eu.split_key(service_key)[0]
            keys = self._by_ns[ns]
            keys.discard(service_key)
            if not keys:
                del self._by_ns[ns]

    def __contains__(self, service_key: object) -> bool:
        return service_key in self._states

    def tracks(self, namespace: str) -> bool:
        """Whether a Service of ``namespace`` has state (its pods' changes matter). ``O(1)``."""
        return namespace in self._by_ns

    def __len__(self) -> int:
        return len(self._states)

    def _check(self) -> None:
        """Assert invariants: every state is indexed by namespace; stored times are non-zero."""
        indexed = {k for keys in self._by_ns.values() for k in keys}
        assert indexed == set(self._states)
        for ns, keys in self._by_ns.items():
            assert keys and all(eu.split_key(k)[0] == ns for k in keys)
        for key, state in self._states.items():
            assert all(t for t in state.pods.values()), key


# --------------------------------------------------------------------------------------------
# Live views for the fast path


class _LiveNodes(Mapping[str, Node]):
    # The API server's Node bucket, looked up at every access (the bucket may not exist yet).
    __slots__ = ("_api",)

    def __init__(self, api: Any) -> None:
        self._api = api

    def __getitem__(self, name: str) -> Node:
        node: Node = self._api.list_namespace("Node", "")[name]
        return node

    def get(self, name: str, default: Any = None) -> Any:
        return self._api.list_namespace("Node", "").get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._api.list_namespace("Node", "")))

    def __len__(self) -> int:
        return len(self._api.list_namespace("Node", ""))


class _SliceView(Mapping[str, EndpointSlice]):
    # The slices the reference would list for one Service (managed, labelled with its name,
    # not being deleted), by name, in name order: an index of names over the live store.
    __slots__ = ("_api", "_ns", "_names")

    def __init__(self, api: Any, namespace: str, names: set[str]) -> None:
        self._api, self._ns, self._names = api, namespace, names

    def __getitem__(self, name: str) -> EndpointSlice:
        if name not in self._names:
            raise KeyError(name)
        s: EndpointSlice = self._api.list_namespace("EndpointSlice", self._ns)[name]
        return s

    def get(self, name: str, default: Any = None) -> Any:
        if name not in self._names:
            return default
        return self._api.list_namespace("EndpointSlice", self._ns).get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def unordered(self) -> Iterator[EndpointSlice]:
        bucket = self._api.list_namespace("EndpointSlice", self._ns)
        return (bucket[n] for n in self._names)


def _listed_key(slice_: Any) -> str | None:
    # The Service key a slice is listed under by the sync, or None.
    meta = slice_.metadata
    svc = meta.labels.get(LABEL_SERVICE_NAME)
    if svc is None or meta.labels.get(LABEL_MANAGED_BY) != CONTROLLER_NAME or meta.deletion_timestamp is not None:
        return None
    return f"{meta.namespace}/{svc}"


@attrs.frozen
class EndpointSliceControllerStatistics:
    """Counters of the EndpointSlice controller."""

    syncs: int
    syncs_by_result: dict[str, int]
    writes: dict[str, int]
    queue_depth: int


@attrs.define(eq=False)
class EndpointSliceController:
    """Keeps the EndpointSlices of every selector-based Service. See the module docstring.

    Methods by purpose: event handlers (private), :meth:`sync` (one Service key),
    introspection (:meth:`statistics`, :attr:`mode`, :attr:`path`, :attr:`slicers`,
    :meth:`_check`).
    """

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    metrics: SliceMetrics = attrs.field(init=False)
    tracker: SliceTracker = attrs.field(factory=SliceTracker)
    triggers: TriggerTimeTracker = attrs.field(factory=TriggerTimeTracker)
    #: the trigger times of the fast path
    fast_triggers: IncrementalTriggerTimes = attrs.field(factory=IncrementalTriggerTimes)
    events: list[tuple[float, str, str, str, str]] = attrs.field(factory=list, repr=False)
    topology: TopologyCache = attrs.field(init=False)
    _own_write: bool = attrs.field(default=False, repr=False)
    # the slice _on_slice recorded in the tracker during the current own write, if any
    _results: dict[str, int] = attrs.field(factory=dict, repr=False)
    _writes: dict[str, int] = attrs.field(factory=dict, repr=False)
    _syncs: int = 0
    _mode: str | None = attrs.field(default=None, repr=False)
    _path: str | None = attrs.field(default=None, repr=False)
    # fast path: slicers by namespace, then Service key; the slice index
    _slicers: dict[str, dict[str, ServiceSlicer]] = attrs.field(factory=dict, repr=False)
    _slice_owner: dict[str, dict[str, str]] = attrs.field(factory=dict, repr=False)
    _slice_names: dict[str, set[str]] = attrs.field(factory=dict, repr=False)
    # written since the last catch-up: pods by namespace, slices (with "written by someone
    # else"), Nodes
    _dirty_pods: dict[str, set[str]] = attrs.field(factory=dict, repr=False)
    _dirty_slices: dict[tuple[str, str], bool] = attrs.field(factory=dict, repr=False)
    _dirty_nodes: set[str] = attrs.field(factory=set, repr=False)
    _nodes: _LiveNodes = attrs.field(init=False, repr=False)
    #: check mode (:mod:`kubesim.lean.checked`): called as ``plan_check(key, service, plan)``
    #: with every fast plan before it is applied (it compares the reference planner's)
    plan_check: Callable[[str, Service, SlicePlan], object] | None = attrs.field(default=None, repr=False)

    name = "endpointslice"

    def __attrs_post_init__(self) -> None:
        self.queue = self.ctx.queue("endpointslice", self.sync, rate_limiter=endpointslice_rate_limiter())
        self.metrics = SliceMetrics(max_endpoints_per_slice=self.ctx.options.max_endpoints_per_slice)
        self.topology = TopologyCache()
        self._nodes = _LiveNodes(self.ctx.api)
        mode = getattr(self.ctx.options, "slice_reconciler", "fast")
        if mode not in SLICE_RECONCILERS:
            raise InvalidOption(f"slice_reconciler must be one of {list(SLICE_RECONCILERS)}, got {mode!r}")

    # ------------------------------------------------------------------ mode

    @property
    def mode(self) -> str:
        """``"fast"`` or ``"reference"``: the planner asked for (the ``slice_reconciler``
        option unless set here). It can be set only before the first sync."""
        if self._mode is not None:
            return self._mode
        return str(getattr(self.ctx.options, "slice_reconciler", "fast"))

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in SLICE_RECONCILERS:
            raise InvalidOption(f"slice_reconciler must be one of {list(SLICE_RECONCILERS)}, got {value!r}")
        if self._path is not None and value != self._path:
            raise InvalidOption("slice_reconciler cannot change after the EndpointSlice controller's first sync")
        self._mode = value

    @property
    def path(self) -> str | None:
        """The planner in use, ``"fast"`` or ``"reference"``, or ``None`` before the first
        sync."""
        return self._path

    @property
    def slicers(self) -> Mapping[str, ServiceSlicer]:
        """The fast path's planners by Service key (a copy). ``O(Services)``."""
        return {k: s for ns in sorted(self._slicers) for k, s in sorted(self._slicers[ns].items())}

    def _choose_path(self) -> str:
        if self._path is None:
            self._path = self.mode
            if self._path == "fast":
                self.tracker.start_observing()
            else:
                self._slicers.clear()
                self._slice_owner.clear()
                self._slice_names.clear()
                self._dirty_pods.clear()
                self._dirty_slices.clear()
                self._dirty_nodes.clear()
                self.fast_triggers = IncrementalTriggerTimes()
        return self._path

    def start(self) -> None:
        api = self.ctx.api
        api.watch(self._on_service, {"Service"})
        api.watch(self._on_pod, {"Pod"})
        api.watch(self._on_slice, {"EndpointSlice"})
        api.changes._listen(self._on_commit, ("Pod", "EndpointSlice", "Node"))

    # ------------------------------------------------------------------ handlers

    def _on_service(self, ev: WatchEvent) -> None:
        self.queue.add(eu.object_key(ev.new))

    def _on_pod(self, ev: WatchEvent) -> None:
        keys = eu.services_for_event(self.ctx.api, ev)
        delay = self.ctx.options.endpointslice_updates_batch_period
        for key in sorted(keys):
            self.queue.add_after(key, delay)

    def _on_commit(self, kind: str, ns: str, name: str, actor: str) -> None:
        # Synchronous with the store, whatever the watch delay (committed writes only:
        # ChangeLog._listen): note what changed; the next fast sync replays it against the
        # store (_catch_up). O(1).
        if self._path == "reference":  # the fast path is not fed
            return
        # Only what someone holds is noted: a planner, a trigger-time state or a slice index
        # created later reads the store itself.
        if kind == "Pod":
            if ns in self._slicers or self.fast_triggers.tracks(ns):
                names = self._dirty_pods.get(ns)  # (no set built to be dropped by setdefault)
                if names is None:
                    self._dirty_pods[ns] = {name}
                else:
                    names.add(name)
        elif kind == "EndpointSlice":
            if ns in self._slice_owner:
                key = (ns, name)
                self._dirty_slices[key] = self._dirty_slices.get(key, False) or actor != ACTOR
        elif kind == "Node" and self._slicers:
            self._dirty_nodes.add(name)

    def _catch_up(self) -> None:
        """Bring the planners, the trigger times and the slice index to the store's state:
        replay every pod, slice and Node written since the last catch-up. Every change reaches
        the planners, not only the ones that enqueued a sync, since the reference reads the
        store at the next sync whatever enqueued it; each is re-read from the store, so the
        planners hold the store's state whatever the watch delay, the order of events, or a
        rolled-back transaction. ``O(changes × Services of their namespace)``."""
        api = self.ctx.api
        # Each set is cleared once replayed (replaying twice is harmless; losing one is not).
        if self._dirty_pods:
            dirty = self._dirty_pods
            for ns in sorted(dirty):
                names = dirty[ns]
                slicers = self._slicers.get(ns)
                if slicers:
                    pods = api.list_namespace("Pod", ns)  # the live bucket: try_get's answers
                    for name in sorted(names):
                        live = pods.get(name)
                        for slicer in slicers.values():
                            slicer.pod_is(name, live)
                self.fast_triggers.pods_changed(ns, names)
            dirty.clear()
        if self._dirty_nodes:
            for name in sorted(self._dirty_nodes):
                for slicers in self._slicers.values():
                    for slicer in slicers.values():
                        slicer.node_changed(name)
            self._dirty_nodes.clear()
        if self._dirty_slices:
            for (ns, name), foreign in sorted(self._dirty_slices.items()):
                self._index_slice(ns, name, foreign)
            self._dirty_slices.clear()

    def _slice_key(self, slice_: Any) -> str | None:
        svc = slice_.metadata.labels.get(LABEL_SERVICE_NAME)
        return f"{slice_.metadata.namespace}/{svc}" if svc else None

    def _managed(self, slice_: Any) -> bool:
        return bool(slice_.metadata.labels.get(LABEL_MANAGED_BY) == CONTROLLER_NAME)

    def _on_slice(self, ev: WatchEvent) -> None:
        delay = max(MIN_SYNC_DELAY, self.ctx.options.endpointslice_updates_batch_period)
        new = ev.new
        kind = ev.type
        # should_sync(new) right after tracker.update(new) is False (the generation expected
        # is the slice's own), so an own write's ADDED or MODIFIED skips asking it.
        own = self._own_write and kind != "DELETED"
        if own:
            # Upstream records the written generation when the API call returns, before the
            # informer delivers the event; kubesim delivers synchronously, so record it here.
            self.tracker.update(new)
        if kind == "ADDED":
            if not own and self._managed(new) and self.tracker.should_sync(new):
                self._queue_slice(new, delay)
        elif kind == "MODIFIED":
            old = ev.old
            new_labels, old_labels = new.metadata.labels, old.metadata.labels
            if old_labels is not new_labels and old_labels.get(LABEL_SERVICE_NAME) != new_labels.get(LABEL_SERVICE_NAME):
                self._queue_slice(old, delay)
                self._queue_slice(new, delay)
            elif old_labels is not new_labels:
                managed = self._managed(new)
                if self._managed(old) != managed or (managed and not own and self.tracker.should_sync(new)):
                    self._queue_slice(new, delay)
            elif not own and self._managed(new) and self.tracker.should_sync(new):
                # (the very labels: managed as before, and an own write needs no sync)
                self._queue_slice(new, delay)
        else:
            if self._managed(new) and self.tracker.has(new) and self.tracker.handle_deletion(new):
                self._queue_slice(new, delay)

    def _queue_slice(self, slice_: Any, delay: float) -> None:
        key = self._slice_key(slice_)
        if key is not None:
            self.queue.add_after(key, delay)

    # ------------------------------------------------------------------ fast path state

    def _index_slice(self, ns: str, name: str, foreign: bool) -> None:
        # Re-read the slice and move it in the index; a change not written by this controller
        # makes the planners of the Services concerned rebuild their model at the next sync.
        owners = self._slice_owner.get(ns)
        if owners is None:
            return  # not indexed yet: indexed from the store when first needed
        before = owners.get(name)
        live = self.ctx.api.try_get("EndpointSlice", name, ns)
        after = _listed_key(live) if live is not None else None
        if before != after:
            if before is not None:
                del owners[name]
                names = self._slice_names[before]
                names.discard(name)
                if not names:
                    del self._slice_names[before]
            if after is not None:
                owners[name] = after
                self._slice_names.setdefault(after, set()).add(name)
        self.tracker.observe(ns, name, live, after)
        if foreign:
            slicers = self._slicers.get(ns, {})
            for key in (before, after, self._slice_key(live) if live is not None else None):
                slicer = slicers.get(key) if key is not None else None
                if slicer is not None:
                    slicer.resync()

    def _ensure_indexed(self, ns: str) -> None:
        if ns in self._slice_owner:
            return
        owners: dict[str, str] = {}
        for name, s in sorted(self.ctx.api.list_namespace("EndpointSlice", ns).items()):
            key = _listed_key(s)
            if key is not None:
                owners[name] = key
                self._slice_names.setdefault(key, set()).add(name)
                self.tracker.observe(ns, name, s, key)
        self._slice_owner[ns] = owners

    def _forget_slicer(self, key: str) -> None:
        ns = eu.split_key(key)[0]
        slicers = self._slicers.get(ns)
        if slicers is not None and slicers.pop(key, None) is not None and not slicers:
            del self._slicers[ns]

    # ------------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        """``syncService`` for Service ``key``. Cost: see the module docstring."""
        assert isinstance(key, str)
        self._syncs += 1
        try:
            self._sync(key)
        except StaleSlices:
            self._result("stale")
            raise
        except Exception:
            self._result("error")
            raise
        results = self._results  # _result("success"), inlined: every sync counts one
        results["success"] = results.get("success", 0) + 1

    def _result(self, r: str) -> None:
        self._results[r] = self._results.get(r, 0) + 1

    def _sync(self, key: str) -> None:
        api = self.ctx.api
        path = self._path or self._choose_path()
        ns, _, name = key.partition("/")  # eu.split_key(key)
        service = api.try_get("Service", name, ns)
        if service is None:
            self.triggers.forget(key)
            self.fast_triggers.forget(key)
            self._forget_slicer(key)
            self.metrics.forget_service(ns, name)
            self.tracker.delete_service(key)
            return
        if service.spec.type == "ExternalName" or service.spec.selector is None:
            self._forget_slicer(key)
            return
        if path == "fast":
            slicer, plan = self._plan_fast(key, service)
            if self.plan_check is not None:
                self.plan_check(key, service, plan)
        else:
            slicer, plan = None, self._plan_reference(key, service)
        self._apply(key, ns, plan, slicer)

    def _plan_reference(self, key: str, service: Service) -> SlicePlan:
        # O(pods of the namespace + slices of the namespace)
        api = self.ctx.api
        ns, name = eu.split_key(key)
        pods = eu.pods_for_service(api, service)
        slices = [
            s
            for n, s in sorted(api.list_namespace("EndpointSlice", ns).items())
            if s.metadata.labels.get(LABEL_SERVICE_NAME) == name
            and s.metadata.labels.get(LABEL_MANAGED_BY) == CONTROLLER_NAME
            and s.metadata.deletion_timestamp is None
        ]
        if self.tracker.stale(key, slices):
            raise StaleSlices(f"EndpointSlice informer cache is out of date for {key}")
        trigger = self.triggers.compute(service, pods)
        return reconcile_endpoint_slices(
            service,
            pods,
            slices,
            nodes=api.list_namespace("Node", ""),
            max_endpoints_per_slice=self.ctx.options.max_endpoints_per_slice,
            trigger_time=trigger,
            topology=self.topology,
            prefer_same_traffic_distribution=self.ctx.options.prefer_same_traffic_distribution,
            metrics=self.metrics,
        )

    def _plan_fast(self, key: str, service: Service) -> tuple[ServiceSlicer, SlicePlan]:
        # O(changed); O(pods) when the planner is created or the selector changed, and
        # O(slices of the namespace) the first time the namespace's slices are indexed.
        api = self.ctx.api
        ns = service.metadata.namespace
        self._catch_up()
        slicers = self._slicers.get(ns)
        if slicers is None:
            slicers = self._slicers[ns] = {}
        slicer = slicers.get(key)
        if slicer is None:
            slicer = ServiceSlicer(
                service,
                nodes=self._nodes,
                max_endpoints_per_slice=self.ctx.options.max_endpoints_per_slice,
                topology=self.topology,
                prefer_same_traffic_distribution=self.ctx.options.prefer_same_traffic_distribution,
            )
            slicer.reset_pods(eu.pods_for_service(api, service))
            slicers[key] = slicer
        elif slicer.service is not service:
            selector_changed = slicer.service.spec.selector != service.spec.selector
            slicer.service_changed(service, eu.pods_for_service(api, service) if selector_changed else None)
        if ns not in self._slice_owner:
            self._ensure_indexed(ns)
        names = self._slice_names.get(key)
        view = _SliceView(api, ns, names if names is not None else set())
        stale = self.tracker.stale_observed(key)
        if wire.CHECK_HINTS:
            assert stale == self.tracker.stale(key, view.unordered()), key
        if stale:
            raise StaleSlices(f"EndpointSlice informer cache is out of date for {key}")
        # the live Pod bucket's get: try_get's answers (no write happens during the compute)
        trigger = self.fast_triggers.compute(
            service, lambda: eu.pods_for_service(api, service), api.list_namespace("Pod", ns).get, key
        )
        return slicer, slicer.sync(view, trigger_time=trigger, metrics=self.metrics)

    def _record(self, key: str, plan: SlicePlan, error: str) -> None:
        """The Service's Events of a sync, in upstream order: the reconciler's topology hint
        events (recorded after ``finalize`` whatever its result), then ``syncService``'s
        ``FailedToUpdateEndpointSlices`` when it failed. ``O(events)``."""
        rec = self.ctx.recorder
        if not rec.enabled or (not plan.events and not error):
            return
        ns, name = eu.split_key(key)
        service = self.ctx.api.try_get("Service", name, ns)
        if service is None:
            return
        for ev_type, reason, message in plan.events:
            rec.event(service, ev_type, reason, message, component=EVENT_SOURCE)
        if error:
            rec.event(service, "Warning", "FailedToUpdateEndpointSlices",
                      f"Error updating Endpoint Slices for Service {ns}/{name}: {error}", component=EVENT_SOURCE)

    def _apply(self, key: str, ns: str, plan: SlicePlan, slicer: ServiceSlicer | None) -> None:
        api = self.ctx.api
        for verb, obj in plan.operations:
            self._own_write = True
            try:
                if verb == "create" or verb == "update":
                    written = api.create(obj, actor=ACTOR) if verb == "create" else api.update(obj, actor=ACTOR)
                    # (when the watch delivered this very object during the call, _on_slice
                    # recorded it already: SliceTracker.update returns at once)
                    self.tracker.update(written)
                else:
                    self.tracker.expect_deletion(obj)
                    written = obj
                    try:
                        api.delete("EndpointSlice", obj.metadata.name, ns, actor=ACTOR)
                    except NotFound:
                        pass
            except BaseException as exc:
                if slicer is not None:
                    slicer.resync()  # the store may hold a write the planner was not told of
                if isinstance(exc, KubesimError):
                    self.events.append((self.ctx.clock.now, "Warning", "FailedToUpdateEndpointSlices", key, str(exc)))
                    _, svc = eu.split_key(key)
                    what = "create" if verb == "create" else f"{verb} {obj.metadata.name}"
                    # finalize's wrapping (k8s.io/endpointslice reconciler.go)
                    self._record(key, plan, f"failed to {what} EndpointSlice for Service {ns}/{svc}: {exc}")
                raise
            finally:
                self._own_write = False
            if slicer is not None:
                slicer.slice_written(verb, written)
            self._writes[verb] = self._writes.get(verb, 0) + 1
        if plan.events or plan.error:  # else _record has nothing to record
            for ev_type, reason, message in plan.events:
                self.events.append((self.ctx.clock.now, ev_type, reason, key, message))
            self._record(key, plan, plan.error or "")
            if plan.error:
                raise KubesimError(plan.error)

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> EndpointSliceControllerStatistics:
        """Syncs, syncs by result (success / stale / error), writes by verb, keys queued."""
        return EndpointSliceControllerStatistics(
            self._syncs, dict(sorted(self._results.items())), dict(sorted(self._writes.items())), len(self.queue)
        )

    def _check(self) -> None:
        """Invariants of the queue and trackers; on the fast path, the slice index against the
        store and every planner's own invariants (``O(objects)``)."""
        self.queue._check()
        if self._path == "fast":
            self._catch_up()  # the index may lag the store by the writes since the last sync
        self.triggers._check()
        self.fast_triggers._check()
        api = self.ctx.api
        for ns, owners in self._slice_owner.items():
            expected = {
                n: k
                for n, s in api.list_namespace("EndpointSlice", ns).items()
                if (k := _listed_key(s)) is not None
            }
            assert owners == expected, ns
        names: dict[str, set[str]] = {}
        for owners in self._slice_owner.values():
            for n, k in owners.items():
                names.setdefault(k, set()).add(n)
        assert names == self._slice_names
        self.tracker._check()
        if self._path == "fast":
            observed: dict[str, dict[str, int]] = {}
            for ns, owners in self._slice_owner.items():
                bucket = api.list_namespace("EndpointSlice", ns)
                for n, k in owners.items():
                    observed.setdefault(k, {})[bucket[n].metadata.uid] = bucket[n].metadata.generation
            assert observed == self.tracker._seen
        for ns, slicers in self._slicers.items():
            assert slicers
            for key, slicer in slicers.items():
                assert eu.split_key(key)[0] == ns
                slicer._check()
