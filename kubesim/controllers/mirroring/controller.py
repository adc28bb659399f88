"""The EndpointSliceMirroring controller (``pkg/controller/endpointslicemirroring``).

Mirrors hand-written Endpoints of selector-less Services into EndpointSlices managed by
``endpointslicemirroring-controller.k8s.io`` (reference §2). Triggers: Endpoints events when
:func:`~kubesim.controllers.mirroring.reconciler.should_mirror` holds (for the new object, or the old one
on update); Service add/delete when the selector is nil, update when it flips between nil and
non-nil; mirrored-slice events after ``mirroring_endpointslice_updates_batch_period`` when the
generation tracker says the change was not the controller's own. Writes carry the actor
``endpointslicemirroring-controller``. Retries back off 1 s·2^n up to 100 s.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.endpointslice.controller import SliceTracker, StaleSlices
from kubesim.controllers.mirroring.reconciler import (
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    MIRRORING_CONTROLLER_NAME,
    mirroring_wanted,
    reconcile_mirroring,
    should_mirror,
)
from kubesim.controllers.runtime import ControllerContext, WorkQueue, endpointslice_rate_limiter
from kubesim.errors import NotFound

__all__ = ["MirroringController", "ACTOR"]

ACTOR = "endpointslicemirroring-controller"
#: The source of the controller's Events (``endpointslicemirroring_controller.go``).
EVENT_SOURCE = "endpointslice-mirroring-controller"


@attrs.frozen
class MirroringStatistics:
    """Counters of the mirroring controller."""

    syncs: int
    writes: dict[str, int]
    queue_depth: int


@attrs.define(eq=False)
class MirroringController:
    """Mirrors selector-less Services' Endpoints into EndpointSlices."""

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    tracker: SliceTracker = attrs.field(factory=SliceTracker)
    events: list[tuple[float, str, str, str, str]] = attrs.field(factory=list, repr=False)
    _own_write: bool = attrs.field(default=False, repr=False)
    _writes: dict[str, int] = attrs.field(factory=dict, repr=False)
    _syncs: int = 0

    name = "endpointslicemirroring"

    def __attrs_post_init__(self) -> None:
        self.queue = self.ctx.queue(
            "endpointslicemirroring", self.sync, rate_limiter=endpointslice_rate_limiter(1.0, 100.0)
        )

    def start(self) -> None:
        api = self.ctx.api
        api.watch(self._on_endpoints, {"Endpoints"})
        api.watch(self._on_service, {"Service"})
        api.watch(self._on_slice, {"EndpointSlice"})

    # ------------------------------------------------------------------ handlers

    def _on_endpoints(self, ev: WatchEvent) -> None:
        if should_mirror(ev.new) or (ev.old is not None and should_mirror(ev.old)):
            self.queue.add(eu.object_key(ev.new))

    def _on_service(self, ev: WatchEvent) -> None:
        if ev.type == "MODIFIED":
            if (ev.old.spec.selector is None) != (ev.new.spec.selector is None):
                self.queue.add(eu.object_key(ev.new))
        elif ev.new.spec.selector is None:
            self.queue.add(eu.object_key(ev.new))

    def _managed(self, s: Any) -> bool:
        return bool(s.metadata.labels.get(LABEL_MANAGED_BY) == MIRRORING_CONTROLLER_NAME)

    def _on_slice(self, ev: WatchEvent) -> None:
        delay = self.ctx.options.mirroring_endpointslice_updates_batch_period
        new = ev.new
        if self._own_write and ev.type != "DELETED":
            self.tracker.update(new)  # see EndpointSliceController._on_slice
        key = f"{new.metadata.namespace}/{new.metadata.labels.get(LABEL_SERVICE_NAME, '')}"
        if ev.type == "ADDED":
            if self._managed(new) and self.tracker.should_sync(new):
                self.queue.add_after(key, delay)
        elif ev.type == "MODIFIED":
            old = ev.old
            if old.metadata.labels.get(LABEL_SERVICE_NAME) != new.metadata.labels.get(LABEL_SERVICE_NAME):
                self.queue.add_after(f"{old.metadata.namespace}/{old.metadata.labels.get(LABEL_SERVICE_NAME, '')}", delay)
                self.queue.add_after(key, delay)
            elif self._managed(old) != self._managed(new) or (self._managed(new) and self.tracker.should_sync(new)):
                self.queue.add_after(key, delay)
        elif self._managed(new) and self.tracker.handle_deletion(new):
            self.queue.add_after(key, delay)

    # ------------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        """``syncEndpoints`` for ``namespace/name``. ``O(mirrored slices of the Service)`` plus
        the reconcile when mirroring is wanted."""
        assert isinstance(key, str)
        self._syncs += 1
        api = self.ctx.api
        ns, name = eu.split_key(key)
        endpoints = api.try_get("Endpoints", name, ns)
        service = api.try_get("Service", name, ns)
        # The mirrored slices of this Service, by name: an indexed lookup, O(mirrored slices).
        mine = api.select(
            "EndpointSlice", ns, {LABEL_SERVICE_NAME: name, LABEL_MANAGED_BY: MIRRORING_CONTROLLER_NAME}
        )
        slices = [mine[n] for n in sorted(mine)]
        if endpoints is None or not mirroring_wanted(endpoints, service):
            for s in slices:
                self._delete(s, ns)
            if endpoints is None:
                self.tracker.delete_service(key)
            return
        if self.tracker.stale(key, slices):
            raise StaleSlices(f"mirrored EndpointSlice cache is out of date for {key}")
        plan = reconcile_mirroring(
            endpoints, slices, max_endpoints_per_subset=self.ctx.options.mirroring_max_endpoints_per_subset
        )
        rec = self.ctx.recorder
        if rec.enabled:
            # reconcile (pkg/controller/endpointslicemirroring/reconciler.go) records them
            # about the Endpoints before finalize writes
            for ev in plan.events:
                rec.event(endpoints, ev.type, ev.reason, ev.message, component=EVENT_SOURCE)
        self._own_write = True
        try:
            for obj in plan.creates:
                self.tracker.update(api.create(obj, actor=ACTOR))
                self._count("create")
            for obj in plan.updates:
                self.tracker.update(api.update(obj, actor=ACTOR))
                self._count("update")
            for obj in plan.deletes:
                self._delete(obj, ns)
        finally:
            self._own_write = False
        for ev in plan.events:
            self.events.append((self.ctx.clock.now, ev.type, ev.reason, key, ev.message))

    def _delete(self, s: object, ns: str) -> None:
        self.tracker.expect_deletion(s)
        try:
            self.ctx.api.delete("EndpointSlice", s.metadata.name, ns, actor=ACTOR)  # type: ignore[attr-defined]
        except NotFound:
            return
        self._count("delete")

    def _count(self, verb: str) -> None:
        self._writes[verb] = self._writes.get(verb, 0) + 1

    def statistics(self) -> MirroringStatistics:
        """Syncs, writes by verb, keys queued."""
        return MirroringStatistics(self._syncs, dict(sorted(self._writes.items())), len(self.queue))

    def _check(self) -> None:
        self.queue._check()
