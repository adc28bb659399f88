"""The EndpointSlice controller (``pkg/controller/endpointslice/endpointslice_controller.go``).

Event wiring (reference §1.15): Service events -> ``queue.add``; pod events ->
``queue.add_after(key, endpointslice_updates_batch_period)`` for every affected Service;
EndpointSlice events managed by this controller -> ``add_after(max(1 s, batch period))`` only
when the generation tracker says the change was not the controller's own. ``sync`` lists the
Service's pods and slices, refuses to act on a stale slice cache (generation tracker), computes
the trigger time and applies :func:`~kubesim.controllers.slicing.reconcile_endpoint_slices`'s
plan in upstream API order with the actor ``endpointslice-controller``.

Upstream's metrics are kept in :attr:`EndpointSliceController.metrics`
(:class:`~kubesim.controllers.slicing.SliceMetrics`).

Cost per sync: ``O(pods of the namespace + slices of the Service)`` (the reference path).
"""

from __future__ import annotations

from typing import Any, Hashable

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.topology import TopologyCache
from kubesim.controllers.runtime import ControllerContext, WorkQueue, endpointslice_rate_limiter
from kubesim.controllers.slicing import (
    CONTROLLER_NAME,
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    SliceMetrics,
    reconcile_endpoint_slices,
)
from kubesim.controllers.endpointutil import TriggerTimeTracker
from kubesim.errors import KubesimError, NotFound

__all__ = ["EndpointSliceController", "SliceTracker", "ACTOR", "StaleSlices"]

ACTOR = "endpointslice-controller"
MIN_SYNC_DELAY = 1.0  # endpointSliceChangeMinSyncDelay


class StaleSlices(KubesimError):
    """The informer cache holds slices older than the controller's own writes."""


@attrs.define(eq=False)
class SliceTracker:
    """``EndpointSliceTracker``: per Service, slice uid -> expected generation (-1: deletion
    expected). See ``staging/src/k8s.io/endpointslice/util/endpointslice_tracker.go``."""

    _gens: dict[str, dict[str, int]] = attrs.field(factory=dict)

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

    def stale(self, service_key: str, slices: list[Any]) -> bool:
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
        self._gens.setdefault(self._svc(slice_), {})[slice_.metadata.uid] = slice_.metadata.generation

    def expect_deletion(self, slice_: Any) -> None:
        self._gens.setdefault(self._svc(slice_), {})[slice_.metadata.uid] = -1

    def handle_deletion(self, slice_: Any) -> bool:
        """Forget ``slice_``; ``True`` if the deletion was unexpected."""
        gens = self._gens.get(self._svc(slice_))
        if gens is None or slice_.metadata.uid not in gens:
            return True
        g = gens.pop(slice_.metadata.uid)
        return g != -1

    def delete_service(self, key: str) -> None:
        self._gens.pop(key, None)


@attrs.frozen
class EndpointSliceControllerStatistics:
    """Counters of the EndpointSlice controller."""

    syncs: int
    syncs_by_result: dict[str, int]
    writes: dict[str, int]
    queue_depth: int


@attrs.define(eq=False)
class EndpointSliceController:
    """Keeps the EndpointSlices of every selector-based Service. See the module docstring."""

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    metrics: SliceMetrics = attrs.field(init=False)
    tracker: SliceTracker = attrs.field(factory=SliceTracker)
    triggers: TriggerTimeTracker = attrs.field(factory=TriggerTimeTracker)
    events: list[tuple[float, str, str, str, str]] = attrs.field(factory=list, repr=False)
    topology: TopologyCache = attrs.field(init=False)
    _own_write: bool = attrs.field(default=False, repr=False)
    _results: dict[str, int] = attrs.field(factory=dict, repr=False)
    _writes: dict[str, int] = attrs.field(factory=dict, repr=False)
    _syncs: int = 0

    name = "endpointslice"

    def __attrs_post_init__(self) -> None:
        self.queue = self.ctx.queue("endpointslice", self.sync, rate_limiter=endpointslice_rate_limiter())
        self.metrics = SliceMetrics(max_endpoints_per_slice=self.ctx.options.max_endpoints_per_slice)
        self.topology = TopologyCache()

    def start(self) -> None:
        api = self.ctx.api
        api.watch(self._on_service, {"Service"})
        api.watch(self._on_pod, {"Pod"})
        api.watch(self._on_slice, {"EndpointSlice"})

    # ------------------------------------------------------------------ handlers

    def _on_service(self, ev: WatchEvent) -> None:
        self.queue.add(eu.object_key(ev.new))

    def _on_pod(self, ev: WatchEvent) -> None:
        keys = eu.services_for_event(self.ctx.api, ev)
        delay = self.ctx.options.endpointslice_updates_batch_period
        for key in sorted(keys):
            self.queue.add_after(key, delay)

    def _slice_key(self, slice_: Any) -> str | None:
        svc = slice_.metadata.labels.get(LABEL_SERVICE_NAME)
        return f"{slice_.metadata.namespace}/{svc}" if svc else None

    def _managed(self, slice_: Any) -> bool:
        return slice_.metadata.labels.get(LABEL_MANAGED_BY) == CONTROLLER_NAME

    def _on_slice(self, ev: WatchEvent) -> None:
        delay = max(MIN_SYNC_DELAY, self.ctx.options.endpointslice_updates_batch_period)
        new = ev.new
        if self._own_write and ev.type != "DELETED":
            # Upstream records the written generation when the API call returns, before the
            # informer delivers the event; kubesim delivers synchronously, so record it here.
            self.tracker.update(new)
        if ev.type == "ADDED":
            if self._managed(new) and self.tracker.should_sync(new):
                self._queue_slice(new, delay)
        elif ev.type == "MODIFIED":
            old = ev.old
            if old.metadata.labels.get(LABEL_SERVICE_NAME) != new.metadata.labels.get(LABEL_SERVICE_NAME):
                self._queue_slice(old, delay)
                self._queue_slice(new, delay)
            elif self._managed(old) != self._managed(new) or (self._managed(new) and self.tracker.should_sync(new)):
                self._queue_slice(new, delay)
        else:
            if self._managed(new) and self.tracker.has(new) and self.tracker.handle_deletion(new):
                self._queue_slice(new, delay)

    def _queue_slice(self, slice_: Any, delay: float) -> None:
        key = self._slice_key(slice_)
        if key is not None:
            self.queue.add_after(key, delay)

    # ------------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        """``syncService`` for Service ``key``."""
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
        self._result("success")

    def _result(self, r: str) -> None:
        self._results[r] = self._results.get(r, 0) + 1

    def _sync(self, key: str) -> None:
        api = self.ctx.api
        ns, name = eu.split_key(key)
        service = api.try_get("Service", name, ns)
        if service is None:
            self.triggers.forget(key)
            self.metrics.forget_service(ns, name)
            self.tracker.delete_service(key)
            return
        if service.spec.type == "ExternalName" or service.spec.selector is None:
            return
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
        plan = reconcile_endpoint_slices(
            service,
            pods,
            slices,
            nodes=api.list_namespace("Node", ""),
            max_endpoints_per_slice=self.ctx.options.max_endpoints_per_slice,
            trigger_time=trigger,
            topology=self.topology,
            metrics=self.metrics,
        )
        for verb, obj in plan.operations:
            self._own_write = True
            try:
                if verb == "create":
                    self.tracker.update(api.create(obj, actor=ACTOR))
                elif verb == "update":
                    self.tracker.update(api.update(obj, actor=ACTOR))
                else:
                    self.tracker.expect_deletion(obj)
                    try:
                        api.delete("EndpointSlice", obj.metadata.name, ns, actor=ACTOR)
                    except NotFound:
                        pass
            except KubesimError as exc:
                self.events.append((self.ctx.clock.now, "Warning", "FailedToUpdateEndpointSlices", key, str(exc)))
                raise
            finally:
                self._own_write = False
            self._writes[verb] = self._writes.get(verb, 0) + 1
        for ev_type, reason, message in plan.events:
            self.events.append((self.ctx.clock.now, ev_type, reason, key, message))
        if plan.error:
            raise KubesimError(plan.error)

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> EndpointSliceControllerStatistics:
        """Syncs, syncs by result (success / stale / error), writes by verb, keys queued."""
        return EndpointSliceControllerStatistics(
            self._syncs, dict(sorted(self._results.items())), dict(sorted(self._writes.items())), len(self.queue)
        )

    def _check(self) -> None:
        """Invariants of the queue and trackers."""
        self.queue._check()
        self.triggers._check()
