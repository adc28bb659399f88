"""The Endpoints controller (``pkg/controller/endpoint/endpoints_controller.go``).

Event wiring (§1.1 of the reference): Service add/update/delete -> ``queue.add``; pod
add/update/delete -> ``queue.add_after(key, endpoint_updates_batch_period)`` for every affected
Service; Endpoints delete -> ``queue.add`` (a hand-deleted Endpoints is recreated). ``sync``
applies :func:`~kubesim.controllers.subsets.plan_endpoints_sync`; writes carry the actor
``endpoint-controller``. A stale-cache guard (``endpoints_tracker.go``) refuses to act on an
Endpoints resourceVersion its own update has superseded. At start, every existing Endpoints is
enqueued (``checkLeftoverEndpoints``), so orphans are deleted.

With ``Cluster(endpoints_truncate=False)`` it behaves like the pre-1.22 controller: no
truncation at 1000 addresses; an Endpoints that outgrows etcd's request size is refused with
:class:`~kubesim.errors.RequestTooLarge`, a ``FailedToUpdateEndpoint`` event is recorded, and the
sync is retried with backoff — as real clusters did.

Cost per sync: ``O(pods of the Service's namespace + addresses log addresses)`` (the reference
path; see the performance notes in ``docs/``).
"""

from __future__ import annotations

from typing import Hashable

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers import endpointutil as eu
from kubesim.controllers.runtime import ControllerContext, WorkQueue, default_controller_rate_limiter
from kubesim.controllers.subsets import TriggerTimeTracker, plan_endpoints_sync
from kubesim.errors import KubesimError, NotFound

__all__ = ["EndpointsController", "EndpointsControllerStatistics", "ACTOR"]

ACTOR = "endpoint-controller"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"


class StaleEndpoints(KubesimError):
    """The cached Endpoints is older than the controller's own last write."""


@attrs.frozen
class EndpointsControllerStatistics:
    """Counters of the Endpoints controller."""

    syncs: int
    writes: dict[str, int]
    errors: int
    queue_depth: int


@attrs.define(eq=False)
class EndpointsController:
    """Keeps one Endpoints per selector-based Service. See the module docstring."""

    ctx: ControllerContext
    queue: WorkQueue = attrs.field(init=False)
    triggers: TriggerTimeTracker = attrs.field(factory=TriggerTimeTracker)
    events: list[tuple[float, str, str, str, str]] = attrs.field(factory=list, repr=False)
    _stale: dict[str, str] = attrs.field(factory=dict, repr=False)
    _writes: dict[str, int] = attrs.field(factory=dict, repr=False)
    _syncs: int = 0

    name = "endpoint"

    def __attrs_post_init__(self) -> None:
        self.queue = self.ctx.queue("endpoint", self.sync, rate_limiter=default_controller_rate_limiter())

    def start(self) -> None:
        api = self.ctx.api
        api.watch(self._on_service, {"Service"})
        api.watch(self._on_pod, {"Pod"})
        api.watch(self._on_endpoints, {"Endpoints"})
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

    # ------------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        """``syncService``: bring the Endpoints of Service ``key`` in line."""
        assert isinstance(key, str)
        self._syncs += 1
        api = self.ctx.api
        ns, name = eu.split_key(key)
        service = api.try_get("Service", name, ns)
        existing = api.try_get("Endpoints", name, ns)
        if service is None:
            self.triggers.forget(key)
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
        pods = eu.pods_for_service(api, service)
        trigger = self.triggers.compute(service, pods)
        if existing is not None and self._stale.get(key) == existing.metadata.resource_version:
            raise StaleEndpoints(f"endpoints {key} cache is stale")
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
        obj = plan.endpoints
        try:
            if plan.verb == "create":
                api.create(obj, actor=ACTOR)
            else:
                cached_rv = existing.metadata.resource_version if existing is not None else ""
                stored = api.update(obj, actor=ACTOR)
                if stored.metadata.resource_version != cached_rv:
                    self._stale[key] = cached_rv
        except KubesimError as exc:
            reason = "FailedToCreateEndpoint" if plan.verb == "create" else "FailedToUpdateEndpoint"
            self.events.append((self.ctx.clock.now, "Warning", reason, key, str(exc)))
            raise
        self._count(plan.verb)

    def _count(self, verb: str) -> None:
        self._writes[verb] = self._writes.get(verb, 0) + 1

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> EndpointsControllerStatistics:
        """Syncs, writes by verb, sync errors, keys queued."""
        q = self.queue.statistics()
        return EndpointsControllerStatistics(self._syncs, dict(sorted(self._writes.items())), q.errors, len(self.queue))

    def _check(self) -> None:
        """Invariants of the queue and the trigger tracker."""
        self.queue._check()
        self.triggers._check()


