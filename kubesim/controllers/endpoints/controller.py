"""The Endpoints controller (``pkg/controller/endpoint/endpoints_controller.go``).

Event wiring (§1.1 of the reference): Service add/update/delete -> ``queue.add``; pod
add/update/delete -> ``queue.add_after(key, endpoint_updates_batch_period)`` for every affected
Service; Endpoints delete -> ``queue.add`` (a hand-deleted Endpoints is recreated). ``sync``
brings the Endpoints in line; writes carry the actor ``endpoint-controller``. A stale-cache
guard (``endpoints_tracker.go``) refuses to act on an Endpoints resourceVersion its own update
has superseded. At start, every existing Endpoints is enqueued (``checkLeftoverEndpoints``), so
orphans are deleted.

With ``Cluster(endpoints_truncate=False)`` it behaves like the pre-1.22 controller: no
truncation at 1000 addresses; an Endpoints that outgrows etcd's request size is refused with
:class:`~kubesim.errors.RequestTooLarge`, a ``FailedToUpdateEndpoint`` event is recorded, and the
sync is retried with backoff — as real clusters did.

Two reconcilers, one behaviour
==============================

The controller's ``mode`` (``options.endpoints_reconciler``, default ``"fast"``) picks how a sync
computes the desired object; both write exactly the same change log (a property test runs
random workloads in both modes and compares the logs field by field):

``"reference"``
    :func:`~kubesim.controllers.endpoints.reconciler.plan_endpoints_sync` over
    :func:`~kubesim.controllers.endpointutil.pods_for_service` and
    :meth:`TriggerTimeTracker.compute <kubesim.controllers.endpoints.reconciler.TriggerTimeTracker.compute>`:
    ``O(pods of the namespace + A log A)`` per sync.  The oracle.
``"fast"``
    one :class:`~kubesim.controllers.endpoints.incremental.ServiceEndpoints` engine and one
    :class:`IncrementalTriggerTime` per Service key, built from ``pods_for_service`` at the
    Service's first sync (``O(P log P)`` once).  Afterwards a sync costs ``O(d log P)`` for the
    ``d`` pods written since the Service's previous sync, plus, when it writes, a C-level copy
    of the addresses kept (at most 1000 with truncation); the engine hands the written lists'
    size sums and derivations to :mod:`kubesim.wire` and :mod:`kubesim.validation`, so the API
    server measures and validates the write in ``O(changed addresses)``.

How the engines learn of pod changes.  kubesim's reference sync reads the API server's store
itself (its "informer cache" is always fresh), while watch events may arrive late
(``FaultPlan(watch_delay=...)``) or be rolled back with a failed transaction.  An engine fed
from watch events would then lag the store the reference reads.  So the engines are fed from
the change log's subscription hook instead, which fires synchronously on every commit: each
Pod write marks the pod name *dirty* in the engines of its namespace that may hold it (selector
matches the stored pod, or the engine holds a pod of that name); a sync first replays its
dirty names against the store (``O(1)`` each) — exactly the state the reference would list.
The watch handlers themselves are unchanged, so the queue sees the same keys at the same
times in both modes.  The mode is meant to be chosen before the first sync (a Cluster keyword);
switching later restarts the trigger-time bookkeeping of the fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.endpoints.incremental import ServiceEndpoints
from kubesim.controllers.endpoints.reconciler import TriggerTimeTracker, plan_endpoints_sync
from kubesim.controllers.runtime import (
    ControllerContext,
    WorkQueue,
    default_controller_rate_limiter,
)
from kubesim.errors import InvalidOption, KubesimError, NotFound
from kubesim.objects import Endpoints, Pod, Service

__all__ = [
    "EndpointsController",
    "EndpointsControllerStatistics",
    "IncrementalTriggerTime",
    "ACTOR",
    "RECONCILERS",
]

ACTOR = "endpoint-controller"
#: The source of the controller's Events (``EndpointsController``'s recorder component).
EVENT_SOURCE = "endpoint-controller"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
#: The values of ``EndpointsController.mode`` (``options.endpoints_reconciler``).
RECONCILERS = ("fast", "reference")

_Time = int | float


class StaleEndpoints(KubesimError):
    """The cached Endpoints is older than the controller's own last write."""


@attrs.frozen
class EndpointsControllerStatistics:
    """Counters of the Endpoints controller (``engines``: Services with a fast-path engine)."""

    syncs: int
    writes: dict[str, int]
    errors: int
    queue_depth: int
    engines: int = 0


# --------------------------------------------------------------------------------------------
# Incremental trigger time


def pod_trigger_time(pod: Pod) -> _Time | None:
    """The pod's trigger time: its ``Ready`` condition's ``lastTransitionTime`` (``None`` or
    ``0``: none). ``O(conditions)``."""
    cond = pod.status.condition("Ready")
    return cond.last_transition_time if cond is not None else None


def _after(t: _Time | None, than: _Time | None) -> bool:
    # time.Time.After with the zero time as the earliest instant.
    if t is None:
        return False
    return than is None or t > than


@attrs.define(eq=False)
class IncrementalTriggerTime:
    """:meth:`TriggerTimeTracker.compute <kubesim.controllers.endpoints.reconciler.TriggerTimeTracker.compute>`
    for one Service, fed with pod deltas instead of every pod at every sync.

    It holds the current non-zero trigger times of the selected pods and, for each pod changed
    since the last :meth:`compute`, the time it had then; so :meth:`compute` looks only at the
    changed pods, ``O(changes)``, and returns what ``TriggerTimeTracker.compute(service, pods)``
    returns for a tracker that has seen the same sequence of computations.

    Methods: :meth:`start` ``O(P)`` (the first computation), :meth:`set` ``O(1)`` (one pod's
    current time, ``None`` when it is not selected or has none), :meth:`reset` ``O(P)`` (the
    selected set changed), :meth:`compute` ``O(changes)``, :meth:`_check`.

    >>> from kubesim.objects import Service, ObjectMeta
    >>> svc = Service(metadata=ObjectMeta(name="web", namespace="default", creation_timestamp=100))
    >>> tracker, first = IncrementalTriggerTime.start(svc, [])
    >>> first, tracker.compute(svc)
    (100, None)
    >>> tracker.set("p1", 150); tracker.set("p1", 160); tracker.compute(svc)
    160
    """

    service_time: _Time | None = None
    _times: dict[str, _Time] = attrs.field(factory=dict, repr=False)
    _then: dict[str, _Time | None] = attrs.field(factory=dict, repr=False)

    @classmethod
    def start(cls, service: Service, pods: Iterable[Pod]) -> tuple[IncrementalTriggerTime, _Time | None]:
        """A tracker after its first computation for ``service`` and its selected ``pods``,
        and that computation's result (the Service's ``creationTimestamp``). ``O(P)``."""
        tracker = cls(service.metadata.creation_timestamp)
        for pod in pods:
            t = pod_trigger_time(pod)
            if t:
                tracker._times[pod.metadata.name] = t
        return tracker, service.metadata.creation_timestamp

    def set(self, name: str, t: _Time | None) -> None:
        """Pod ``name`` now has trigger time ``t`` (``None``/``0``: not selected, deleted, or no
        Ready transition). ``O(1)``."""
        times = self._times
        if name not in self._then:
            self._then[name] = times.get(name)
        if t:
            times[name] = t
        else:
            times.pop(name, None)

    def reset(self, pods: Iterable[Pod]) -> None:
        """The selected pods are now exactly ``pods`` (the selector changed). ``O(P)``."""
        fresh: dict[str, _Time] = {}
        for pod in pods:
            t = pod_trigger_time(pod)
            if t:
                fresh[pod.metadata.name] = t
        then, times = self._then, self._times
        for name in set(times) | set(fresh):
            if name not in then:
                then[name] = times.get(name)
        self._times = fresh

    def compute(self, service: Service) -> _Time | None:
        """``ComputeEndpointLastChangeTriggerTime``: the earliest trigger time later than the
        one remembered at the previous computation, or ``None``. ``O(changes)``."""
        min_changed: _Time | None = None
        times = self._times
        for name, old in self._then.items():
            t = times.get(name)
            # t non-zero and _after(t, old), inlined
            if t and (old is None or t > old) and (min_changed is None or t < min_changed):
                min_changed = t
        self._then.clear()
        svc_time = service.metadata.creation_timestamp
        if _after(svc_time, self.service_time):
            assert svc_time is not None
            if min_changed is None or svc_time < min_changed:
                min_changed = svc_time
        self.service_time = svc_time
        return min_changed

    def _check(self) -> None:
        """Assert invariants: stored times are non-zero."""
        assert all(self._times.values())


# --------------------------------------------------------------------------------------------
# The fast path's per-Service state


@attrs.define(eq=False)
class _ServiceState:
    engine: ServiceEndpoints
    triggers: IncrementalTriggerTime
    #: the pods the engine holds by name (selected when last replayed): the engine's own
    #: live map (:attr:`ServiceEndpoints.members`), read by the commit hook
    members: Mapping[str, object]
    #: pods written since the last sync that may concern the engine
    dirty: set[str] = attrs.field(factory=set)


# --------------------------------------------------------------------------------------------
# The controller


def _default_mode(ctx: ControllerContext) -> str:
    return str(getattr(ctx.options, "endpoints_reconciler", "fast"))


@attrs.define(eq=False)
class EndpointsController:
    """Keeps one Endpoints per selector-based Service. See the module docstring.

    ``mode`` is ``"fast"`` (incremental engines) or ``"reference"`` (full recompute).
    Methods: :meth:`start`, :meth:`sync`, :meth:`statistics`, :meth:`_check`.
    """

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    triggers: TriggerTimeTracker = attrs.field(factory=TriggerTimeTracker)
    events: list[tuple[float, str, str, str, str]] = attrs.field(factory=list, repr=False)
    _mode: str = attrs.field(default=attrs.Factory(lambda self: _default_mode(self.ctx), takes_self=True), alias="mode")
    _stale: dict[str, str] = attrs.field(factory=dict, repr=False)
    _writes: dict[str, int] = attrs.field(factory=dict, repr=False)
    _syncs: int = 0
    _states: dict[str, _ServiceState] = attrs.field(factory=dict, repr=False)
    _by_namespace: dict[str, dict[str, _ServiceState]] = attrs.field(factory=dict, repr=False)
    #: check mode (:mod:`kubesim.lean.checked`): called as ``plan_check(key, service, existing)``
    #: at every fast sync where the reference computes its trigger time; the function it returns
    #: is called with the sync's decision, ``(verb, desired)`` or ``(None, None)``
    plan_check: Callable[[str, Service, Endpoints | None], Callable[[str | None, Endpoints | None], object]] | None = (
        attrs.field(default=None, repr=False)
    )

    name = "endpoint"

    def __attrs_post_init__(self) -> None:
        self.mode = self._mode  # validate
        self.queue = self.ctx.queue("endpoint", self.sync, rate_limiter=default_controller_rate_limiter())

    @property
    def mode(self) -> str:
        """``"fast"`` or ``"reference"``; set it before the first sync."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in RECONCILERS:
            raise InvalidOption(f"endpoints_reconciler must be one of {list(RECONCILERS)}, got {value!r}")
        if value != self._mode:
            self._states.clear()
            self._by_namespace.clear()
        self._mode = value

    def start(self) -> None:
        api = self.ctx.api
        api.watch(self._on_service, {"Service"})
        api.watch(self._on_pod, {"Pod"})
        api.watch(self._on_endpoints, {"Endpoints"})
        api.changes._listen(self._on_commit, ("Pod",))
        for ep in api.list("Endpoints", None):
            if LEADER_ANNOTATION not in ep.metadata.annotations:
                self.queue.add(eu.object_key(ep))

    # ------------------------------------------------------------------ handlers

    def _on_service(self, ev: WatchEvent) -> None:
        self.queue.add(eu.object_key(ev.new))

    def _on_endpoints(self, ev: WatchEvent) -> None:
        if ev.type == "DELETED":
            self.queue.add(eu.object_key(ev.new))

    def _on_pod(self, ev: WatchEvent) -> None:
        keys = eu.services_for_event(self.ctx.api, ev)
        delay = self.ctx.options.endpoint_updates_batch_period
        for key in sorted(keys):
            self.queue.add_after(key, delay)

    def _on_commit(self, kind: str, namespace: str, name: str, actor: str) -> None:
        # Synchronous with the store (committed writes only: ChangeLog._listen): mark the pod
        # in the engines that may hold it (only pods are heard): those holding it, and those
        # whose selector matches the stored pod (read only for an engine that does not hold
        # it). O(engines of the namespace).
        states = self._by_namespace.get(namespace)
        if not states:
            return
        read, labels = False, None
        for st in states.values():
            if name in st.members:
                st.dirty.add(name)
                continue
            if not read:
                live = self.ctx.api.try_get("Pod", name, namespace)
                read, labels = True, live.metadata.labels if live is not None else None
            if labels is not None and eu.selector_matches(st.engine.service.spec.selector, labels):
                st.dirty.add(name)

    # ------------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        """``syncService``: bring the Endpoints of Service ``key`` in line."""
        assert isinstance(key, str)
        self._syncs += 1
        api = self.ctx.api
        ns, _, name = key.partition("/")  # eu.split_key(key)
        service = api.try_get("Service", name, ns)
        existing = api.try_get("Endpoints", name, ns)
        if service is None:
            self.triggers.forget(key)
            self._forget(key, ns)
            self._stale.pop(key, None)
            if existing is not None:
                try:
                    api.delete("Endpoints", name, ns, actor=ACTOR)
                    self._count("delete")
                except NotFound:
                    pass
            return
        if service.spec.type == "ExternalName" or service.spec.selector is None:
            return
        if self._mode == "fast":
            self._sync_fast(key, service, existing)
            return
        pods = eu.pods_for_service(api, service)
        trigger = self.triggers.compute(service, pods)
        self._check_stale(key, existing)
        plan = plan_endpoints_sync(
            service,
            pods,
            existing,
            namespace=ns,
            name=name,
            trigger_time=trigger,
            truncate=self.ctx.options.endpoints_truncate,
        )
        if plan.verb is None or plan.endpoints is None:
            return
        self._write(key, plan.verb, plan.endpoints, existing)

    def _sync_fast(self, key: str, service: Service, existing: Endpoints | None) -> None:
        """The fast path: ``O(d log P)`` for ``d`` dirty pods, plus the write."""
        truncate = self.ctx.options.endpoints_truncate
        st = self._states.get(key)
        if st is None:
            pods = eu.pods_for_service(self.ctx.api, service)
            engine = ServiceEndpoints.from_pods(service, pods)
            triggers, trigger = IncrementalTriggerTime.start(service, pods)
            st = _ServiceState(engine, triggers, engine.members)
            self._states[key] = st
            self._by_namespace.setdefault(service.metadata.namespace, {})[key] = st
        else:
            self._catch_up(st, service)
            trigger = st.triggers.compute(service)
        compare = self.plan_check(key, service, existing) if self.plan_check is not None else None
        self._check_stale(key, existing)
        engine = st.engine
        if not engine.needs_update(existing, truncate=truncate):
            if compare is not None:
                compare(None, None)
            return
        desired = engine.desired(existing, trigger, truncate)
        verb = "create" if existing is None or not existing.metadata.resource_version else "update"
        if compare is not None:
            compare(verb, desired)
        self._write(key, verb, desired, existing)

    def _catch_up(self, st: _ServiceState, service: Service) -> None:
        """Replay the dirty pods against the store, then adopt ``service``: ``O(d log P)``
        for ``d`` dirty pods, in one pass (each pod's :meth:`ServiceEndpoints.put` or
        ``discard`` and its trigger time, :meth:`IncrementalTriggerTime.set` inlined: the
        Ready condition is found once per pod)."""
        api = self.ctx.api
        engine = st.engine
        ns = service.metadata.namespace
        if st.dirty:
            pods: Mapping[str, Pod] = api.list_namespace("Pod", ns)
            selector = engine.service.spec.selector
            put, discard, matches = engine.put, engine.discard, eu.selector_matches
            # IncrementalTriggerTime.set and pod_trigger_time, inlined (one pass per pod)
            triggers = st.triggers
            times, then = triggers._times, triggers._then
            for name in sorted(st.dirty):
                live = pods.get(name)
                t: _Time | None = None
                if live is not None and matches(selector, live.metadata.labels):
                    put(live)  # selected: the namespace's pod, the selector matched
                    for cond in live.status.conditions:
                        if cond.type == "Ready":
                            t = cond.last_transition_time
                            break
                else:
                    discard(name)
                if name not in then:
                    then[name] = times.get(name)
                if t:
                    times[name] = t
                else:
                    times.pop(name, None)
            st.dirty.clear()
        if engine.service is not service:
            if engine.service.spec.selector != service.spec.selector:
                selected = eu.pods_for_service(api, service)
                engine.service_changed(service, selected)
                st.triggers.reset(selected)
            else:
                engine.service_changed(service)

    def _forget(self, key: str, namespace: str) -> None:
        if self._states.pop(key, None) is not None:
            states = self._by_namespace.get(namespace)
            if states is not None:
                states.pop(key, None)
                if not states:
                    del self._by_namespace[namespace]

    def _check_stale(self, key: str, existing: Endpoints | None) -> None:
        if existing is not None and self._stale.get(key) == existing.metadata.resource_version:
            raise StaleEndpoints(f"endpoints {key} cache is stale")

    def _write(self, key: str, verb: str, obj: Endpoints, existing: Endpoints | None) -> None:
        api = self.ctx.api
        try:
            if verb == "create":
                api.create(obj, actor=ACTOR)
            else:
                cached_rv = existing.metadata.resource_version if existing is not None else ""
                stored = api.update(obj, actor=ACTOR)
                if stored.metadata.resource_version != cached_rv:
                    self._stale[key] = cached_rv
        except KubesimError as exc:
            reason = "FailedToCreateEndpoint" if verb == "create" else "FailedToUpdateEndpoint"
            self.events.append((self.ctx.clock.now, "Warning", reason, key, str(exc)))
            rec = self.ctx.recorder
            # syncService (pkg/controller/endpoint/endpoints_controller.go): about the Endpoints
            # it tried to write; a create refused in a terminating namespace is dropped silently
            if rec.enabled and not (verb == "create" and "because it is being terminated" in str(exc)):
                ns, name = obj.metadata.namespace, obj.metadata.name
                message = (f"Failed to create endpoint for service {ns}/{name}: {exc}" if verb == "create"
                           else f"Failed to update endpoint {ns}/{name}: {exc}")
                rec.event(obj, "Warning", reason, message, component=EVENT_SOURCE)
            raise
        self._count(verb)

    def _count(self, verb: str) -> None:
        self._writes[verb] = self._writes.get(verb, 0) + 1

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> EndpointsControllerStatistics:
        """Syncs, writes by verb, sync errors, keys queued, fast-path engines. ``O(1)``."""
        q = self.queue.statistics()
        return EndpointsControllerStatistics(
            self._syncs, dict(sorted(self._writes.items())), q.errors, len(self.queue), len(self._states)
        )

    def _check(self) -> None:
        """Invariants of the queue, the trigger trackers and the engines: each engine holds
        exactly the stored pods its Service selects, except those written since its last sync
        (dirty). ``O(pods of the engines' namespaces)``."""
        self.queue._check()
        self.triggers._check()
        api = self.ctx.api
        for key, st in self._states.items():
            ns = st.engine.service.metadata.namespace
            assert self._by_namespace[ns][key] is st
            st.engine._check()
            st.triggers._check()
            live = [p for p in eu.pods_for_service(api, st.engine.service) if p.metadata.name not in st.dirty]
            held = [p for p in st.engine.pods() if p.metadata.name not in st.dirty]
            assert live == held, key
            assert st.members is st.engine.members, key
        assert sum(len(s) for s in self._by_namespace.values()) == len(self._states)
