"""The namespace controller (``pkg/controller/namespace``, its deleter in
``pkg/controller/namespace/deletion/namespaced_resources_deleter.go`` and the status conditions
of ``status_condition_utils.go``).

A namespace event whose object has a ``deletionTimestamp`` queues the namespace 5 s later
(``namespaceDeletionGracePeriod``: HA API servers must see the delete first). A sync
(:meth:`NamespaceController.sync`, upstream ``Delete``):

1. sets ``phase: Terminating`` if the registry has not (a ``status`` write);
2. stops if ``spec.finalizers`` is empty (already finalized);
3. deletes the content (``deleteAllContent``), with ``OrderedNamespaceDeletion`` (GA since
   v1.34): the pods first, with a background-propagation delete of each; while any pod
   remains, only the status conditions are written and the sync ends; then every other
   namespaced kind the API server serves (modelled and inert), each one's objects deleted by
   name. Upstream iterates over a Go map (a random order); kubesim takes the kinds in
   discovery order (:data:`kubesim.kinds.KIND_INFO`), a documented deterministic choice;
4. writes the five deletion conditions (``NamespaceDeletionDiscoveryFailure`` ...
   ``NamespaceFinalizersRemaining``) when they changed (the first pass always writes them);
5. if content remains, requeues after ``estimate / 2 + 1`` seconds, where the estimate is the
   longest ``terminationGracePeriodSeconds`` of the non-terminal pods still within it since the
   deletion (15 s when only finalizers hold objects); an error requeues rate-limited
   (5 ms doubling to 60 s, and 10 qps);
6. otherwise finalizes: removes ``kubernetes`` from ``spec.finalizers`` (the ``finalize``
   subresource), which removes the namespace when no finalizer is left.

One difference: upstream does not ``Forget`` the key's backoff history after a
"resources remaining" requeue; kubesim's work queue forgets it on every sync that returns.

Costs: a sync is ``O(objects in the namespace)`` (a scan per kind); namespace events are rare.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import attrs

from kubesim import namespaces as _ns
from kubesim.apiserver import WatchEvent
from kubesim.controllers.runtime import (
    ControllerContext,
    ItemExponentialBackoff,
    MaxOfRateLimiter,
    TokenBucket,
)
from kubesim.errors import Conflict, KubesimError, NotFound
from kubesim.kinds import KIND_INFO
from kubesim.objects import Namespace, NamespaceCondition, NamespaceSpec

__all__ = ["NamespaceController", "NamespaceStatistics", "ACTOR", "ResourcesRemaining"]

ACTOR = "namespace-controller"
#: ``namespaceDeletionGracePeriod``
DELETION_GRACE_PERIOD = 5.0
#: ``finalizerEstimateSeconds``
FINALIZER_ESTIMATE_SECONDS = 15
#: ``--concurrent-namespace-syncs``
WORKERS = 10

# conditionTypes, with their "ok" reasons and messages (status_condition_utils.go).
_CONDITIONS: tuple[tuple[str, str, str], ...] = (
    ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
    ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
    ("NamespaceDeletionContentFailure", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
    ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
    ("NamespaceFinalizersRemaining", "ContentRemoved", "All content successfully removed"),
)


class ResourcesRemaining(KubesimError):
    """``ResourcesRemainingError``: content remains; try again after about ``estimate`` s."""

    def __init__(self, estimate: int) -> None:
        self.estimate = estimate
        super().__init__(f"some content remains in the namespace, estimate {estimate} seconds before it is removed")


@attrs.frozen
class NamespaceStatistics:
    """Counters of the namespace controller."""

    syncs: int
    deleted_objects: int
    finalized: int


@attrs.frozen
class _Remaining:
    """``gvrDeletionMetadata``."""

    estimate: int = 0
    remaining: int = 0
    finalizers: tuple[tuple[str, int], ...] = ()


def _gvr_string(kind: str) -> str:
    """``schema.GroupVersionResource.String()``: ``/v1, Resource=pods``."""
    info = KIND_INFO[kind]
    return f"{info.group}/{info.version}, Resource={info.plural}"


def _deletion_order() -> tuple[str, ...]:
    """Pods first (OrderedNamespaceDeletion), then every other namespaced kind in discovery
    order."""
    kinds = [k for k, info in KIND_INFO.items() if info.namespaced and k != "Pod"]
    return ("Pod", *kinds)


@attrs.define(eq=False)
class NamespaceController:
    """Deletes the content of Terminating namespaces. See the module docstring."""

    ctx: ControllerContext
    _queue: Any = attrs.field(default=None, repr=False)
    _syncs: int = 0
    _deleted: int = 0
    _finalized: int = 0

    name = "namespace"

    def start(self) -> None:
        limiter = MaxOfRateLimiter((ItemExponentialBackoff(0.005, 60.0), TokenBucket(10.0, 100)))
        self._queue = self.ctx.queue(
            "namespace", self._sync_key, rate_limiter=limiter, workers=WORKERS, max_retries=1 << 30
        )
        self.ctx.api.watch(self._on_event, {"Namespace"})

    def _on_event(self, ev: WatchEvent) -> None:
        ns: Namespace = ev.new
        if ev.type != "DELETED" and ns.metadata.deletion_timestamp is not None:
            self._queue.add_after(ns.metadata.name, DELETION_GRACE_PERIOD)

    def _now(self) -> int:
        return int(self.ctx.api.epoch + int(self.ctx.clock.now))

    def _sync_key(self, key: Hashable) -> None:
        try:
            self.sync(str(key))
        except ResourcesRemaining as exc:
            self._queue.add_after(key, float(exc.estimate // 2 + 1))

    # ------------------------------------------------------------------ the deleter

    def sync(self, name: str) -> None:
        """``namespacedResourcesDeleter.Delete``; raises :class:`ResourcesRemaining` or the
        error that should requeue the namespace rate-limited."""
        self._syncs += 1
        api = self.ctx.api
        ns: Namespace | None = api.try_get("Namespace", name, None)
        if ns is None or ns.metadata.deletion_timestamp is None:
            return
        if _ns.phase(ns) != _ns.TERMINATING:
            ns = self._retry_on_conflict(ns, self._update_phase)
            if ns is None:
                return
        if not _ns.spec_finalizers(ns):
            return
        estimate = self._delete_all_content(ns)
        if estimate > 0:
            raise ResourcesRemaining(estimate)
        self._retry_on_conflict(ns, self._finalize)

    def _retry_on_conflict(self, ns: Namespace, fn: Any) -> Namespace | None:
        latest = ns
        while True:
            try:
                result: Namespace | None = fn(latest)
                return result
            except Conflict:
                uid = latest.metadata.uid
                fresh = self.ctx.api.try_get("Namespace", latest.metadata.name, None)
                if fresh is None:
                    return None
                if fresh.metadata.uid != uid:
                    raise KubesimError("namespace uid has changed across retries") from None
                latest = fresh

    def _update_phase(self, ns: Namespace) -> Namespace:
        status = attrs.evolve(ns.status, phase=_ns.TERMINATING)
        stored: Namespace = self.ctx.api.update(attrs.evolve(ns, status=status), actor=ACTOR, subresource="status")
        return stored

    def _finalize(self, ns: Namespace) -> Namespace | None:
        rest = tuple(sorted({f for f in ns.spec.finalizers if f != _ns.FINALIZER_KUBERNETES}))
        try:
            stored: Namespace = self.ctx.api.update(
                attrs.evolve(ns, spec=NamespaceSpec(finalizers=rest)), actor=ACTOR, subresource="finalize"
            )
        except NotFound:
            return None
        self._finalized += 1
        return stored

    def _delete_all_content(self, ns: Namespace) -> int:
        """``deleteAllContent``: the longest remaining estimate (0: all content gone). Raises
        the aggregated deletion errors after writing the conditions."""
        errors: list[str] = []
        estimate = 0
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}

        def account(kind: str, r: _Remaining) -> None:
            nonlocal estimate
            estimate = max(estimate, r.estimate)
            if r.remaining > 0:
                remaining[kind] = r.remaining
                for f, n in r.finalizers:
                    finalizers[f] = finalizers.get(f, 0) + n

        order = _deletion_order()
        r, err = self._delete_kind(order[0], ns)
        if err:
            errors.append(err)
        account(order[0], r)
        if remaining.get(order[0], 0) > 0:
            # Pods remain: only the conditions (without the content totals), then wait.
            self._write_conditions(ns, errors, None, None)
            return self._result(estimate, errors)
        for kind in order[1:]:
            r, err = self._delete_kind(kind, ns)
            if err:
                errors.append(err)
            account(kind, r)
        self._write_conditions(ns, errors, remaining, finalizers)
        return self._result(estimate, errors)

    @staticmethod
    def _result(estimate: int, errors: list[str]) -> int:
        if errors:
            raise KubesimError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
        return estimate

    def _delete_kind(self, kind: str, ns: Namespace) -> tuple[_Remaining, str]:
        """``deleteAllContentForGroupVersionResource``: (what remains, an error or "")."""
        api = self.ctx.api
        name = ns.metadata.name
        estimate = self._estimate_pods(name, ns) if kind == "Pod" else 0
        try:
            # deleteCollection: the API server deletes every item, here by name.
            for obj in api.list(kind, name):
                try:
                    api.delete(kind, obj.metadata.name, name, actor=ACTOR)
                    self._deleted += 1
                except NotFound:
                    pass
        except KubesimError as exc:
            return _Remaining(estimate=estimate), str(exc)
        left = api.list(kind, name)
        if not left:
            return _Remaining(), ""
        counts: dict[str, int] = {}
        for obj in left:
            for f in obj.metadata.finalizers:
                counts[f] = counts.get(f, 0) + 1
        held = tuple(sorted(counts.items()))
        if estimate != 0:
            return _Remaining(estimate, len(left), held), ""
        if held:
            return _Remaining(FINALIZER_ESTIMATE_SECONDS, len(left), held), ""
        return (
            _Remaining(0, len(left)),
            f"unexpected items still remain in namespace: {name} for gvr: {_gvr_string(kind)}",
        )

    def _estimate_pods(self, name: str, ns: Namespace) -> int:
        """``estimateGracefulTermination`` for pods: the longest grace period of the
        non-terminal pods, or 0 once that long has passed since the namespace's deletion."""
        estimate = 0
        for pod in self.ctx.api.list("Pod", name):
            if pod.status.phase in ("Succeeded", "Failed"):
                continue
            grace = pod.spec.termination_grace_period_seconds
            if grace is not None and grace > estimate:
                estimate = grace
        deleted_at = ns.metadata.deletion_timestamp or 0
        elapsed = self.ctx.api.epoch + self.ctx.clock.now - deleted_at
        return 0 if elapsed >= estimate else estimate

    def _write_conditions(
        self, ns: Namespace, errors: list[str], remaining: dict[str, int] | None, finalizers: dict[str, int] | None
    ) -> None:
        """``namespaceConditionUpdater``: ``Update`` then ``UpdateStatus`` when changed (an
        error is only logged upstream, so it is ignored here)."""
        now = self._now()
        new: dict[str, NamespaceCondition] = {}
        if remaining:
            parts = sorted(
                f"{KIND_INFO[k].plural}.{KIND_INFO[k].group} has {n} resource instances" for k, n in remaining.items()
            )
            new["NamespaceContentRemaining"] = NamespaceCondition(
                "NamespaceContentRemaining", "True", now, "SomeResourcesRemain",
                "Some resources are remaining: " + ", ".join(parts),
            )
        if finalizers:
            parts = sorted(f"{f} in {n} resource instances" for f, n in finalizers.items() if n)
            new["NamespaceFinalizersRemaining"] = NamespaceCondition(
                "NamespaceFinalizersRemaining", "True", now, "SomeFinalizerRemain",
                "Some finalizers are remaining: " + ", ".join(parts),
            )
        if errors:
            msgs = sorted(errors)
            new["NamespaceDeletionContentFailure"] = NamespaceCondition(
                "NamespaceDeletionContentFailure", "True", now, "ContentDeletionFailed",
                f"Failed to delete all resource types, {len(msgs)} remaining: " + ", ".join(msgs),
            )
        conditions = list(ns.status.conditions)
        changed = False
        for type_, reason, message in _CONDITIONS:
            want = new.get(type_) or NamespaceCondition(type_, "False", now, reason, message)
            at = next((i for i, c in enumerate(conditions) if c.type == type_), None)
            if at is None:
                conditions.append(want)
                changed = True
                continue
            old = conditions[at]
            if (old.status, old.message, old.reason) != (want.status, want.message, want.reason):
                ltt = now if old.status != want.status else old.last_transition_time
                conditions[at] = attrs.evolve(
                    old, status=want.status, reason=want.reason, message=want.message, last_transition_time=ltt
                )
                changed = True
        if not changed:
            return
        updated = attrs.evolve(ns, status=attrs.evolve(ns.status, conditions=tuple(conditions)))
        try:
            self.ctx.api.update(updated, actor=ACTOR, subresource="status")
        except KubesimError:
            pass  # utilruntime.HandleError: logged, not retried

    # ------------------------------------------------------------------ introspection

    def statistics(self) -> NamespaceStatistics:
        """Syncs, objects deleted, namespaces finalized."""
        return NamespaceStatistics(self._syncs, self._deleted, self._finalized)

    def _check(self) -> None:
        """The queue's invariants."""
        if self._queue is not None:
            self._queue._check()
