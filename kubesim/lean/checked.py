"""Check mode per write: the lean engine with its oracle, the full model, run beside it.

``kubesim.Cluster(check=True)`` (and ``LeanCluster(check=True)``) writes through a
:class:`CheckedAPIServer`: the lean API server
(:class:`~kubesim.lean.engine.LeanAPIServer`), which for every write also runs the step of the
full model that the lean path skipped or short-cut and compares the two, raising
:class:`~kubesim.lean.check.Divergence` — naming the change-log ``seq`` the write makes (or
would have made), the field, the lean value and the full value — at the first difference:

==============================  ==================================================================
lean step                       full step it is compared with
==============================  ==================================================================
trusted writes: no defaulting   :func:`kubesim.defaults.apply_defaults` (``APIServer._default``):
                                the object must come out equal
trusted writes: no validation   :func:`kubesim.validation.validate` (``APIServer._validate``):
                                the object must be valid
stamping, sizes by parts        ``APIServer._stamp``: the stamped object must be equal, its
                                sizes those of :func:`kubesim.wire.sizes3`
slice sizes by changed entries  the endpoint size sums the lean engine vouched for an
                                EndpointSlice's endpoints, against the wire's own pass over them
every record's sizes            :func:`kubesim.wire.sizes3` of the record's object (also the
                                writes sized by their writers: ``create_trusted``, Events)
watch dispatch per kind         the generic filter over every watcher (``APIServer._deliver``)
fast planners                   the reference planners, per sync (below)
==============================  ==================================================================

and, on the controllers that plan incrementally, the reference planner beside the fast one:
every fast EndpointSlice plan is compared with
:func:`~kubesim.controllers.endpointslice.reconciler.reconcile_endpoint_slices` on the pods and
slices the store holds at that sync (:class:`SlicePlanCheck`, which keeps the reference's own
topology cache and trigger times), and every fast Endpoints sync's decision with
:func:`~kubesim.controllers.endpoints.reconciler.plan_endpoints_sync`
(:class:`EndpointsPlanCheck`). They are given to the controllers through their ``plan_check``
hook.

Why a check per write, not a shadow cluster: the lean API server *is* the full model with a
few steps done differently (its overridden methods, listed in :data:`CHECKED_STEPS`), so if
each of those steps gives what the full step gives, write after write, every write and record
is the full model's, by induction over the log — whatever the user calls, in whatever order,
faults and delayed watch events included. A shadow cluster would instead need every user call
replayed on a second cluster (``docs/performance.md``). :func:`kubesim.lean.check_workload`,
which runs a whole workload on both engines and compares the logs, stays the end-to-end
oracle (and the only one for code both engines share: ``benchmarks/log_digest.py`` across
commits).

Check mode changes nothing the simulation observes: the full steps run on copies or are pure
(defaulting and validation return or raise, sizing reads caches that only make later sizing
faster), the reference planners read the store and keep their own state, and no random number
is drawn, so ``Cluster(check=True)`` writes the change log of ``Cluster()`` record for record.
It costs about one full-model write per write on top of the lean one, plus a reference sync
(``O(pods + slices of the namespace)``) per fast sync.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import attrs

from kubesim import wire as _wire
from kubesim.apiserver import APIServer, WatchEvent
from kubesim.controllers import endpointutil as _eu
from kubesim.errors import KubesimError
from kubesim.lean.check import Divergence
from kubesim.lean.engine import TRUSTED, LeanAPIServer
from kubesim.objects import EndpointSlice, ObjectMeta
from kubesim.wire import endpoints as _wire_endpoints

__all__ = ["CheckedAPIServer", "SlicePlanCheck", "EndpointsPlanCheck", "CHECKED_STEPS", "enable"]

#: Every method :class:`~kubesim.lean.engine.LeanAPIServer` overrides, with the check that
#: covers it (a test asserts the keys are exactly its overrides, so a new lean step cannot go
#: unchecked).
CHECKED_STEPS: dict[str, str] = {
    "_default": "CheckedAPIServer._default: the full defaulting of the same object, compared",
    "_validate": "CheckedAPIServer._validate: the full validation of the same object",
    "_stamp": "CheckedAPIServer._stamp: APIServer._stamp's object and sizes, the vouched slice sums",
    "_keep_sizes": "CheckedAPIServer._stamp and _record: a kept size record only decides how later sizes are "
                   "made, and every size is compared (with APIServer._stamp's, every record's with wire.sizes3)",
    "_drain": "CheckedAPIServer._drain is APIServer._drain: every event through CheckedAPIServer._deliver (the per-kind watcher list against the generic filter, then APIServer._deliver)",
    "_watchers_of": "CheckedAPIServer._deliver",
    "watch": "CheckedAPIServer._deliver",
    "_lean": "no step: the accessor of the lean state (size records, watcher lists) the steps above use",
}

_NOTHING: frozenset[str] = frozenset()
# CheckedAPIServer -> the last object _stamp compared, with its sizes (its record need not be re-sized)
_VERIFIED: weakref.WeakKeyDictionary[APIServer, tuple[Any, tuple[int, int, int]]] = weakref.WeakKeyDictionary()
# CheckedAPIServer -> the first Divergence found (raised again before every later timer)
_FAILED: weakref.WeakKeyDictionary[APIServer, Divergence] = weakref.WeakKeyDictionary()


def _fail(api: APIServer, field: str, lean: Any, full: Any, detail: str, seq: int | None = None) -> Divergence:
    """The :class:`Divergence` at record ``seq`` (default: the record ``api`` writes next); the
    first one found is kept, so that a controller whose sync swallowed it (a sync error is a
    retry) cannot hide it: the clock raises it again before its next timer (:func:`enable`)."""
    exc = Divergence(api.changes.next_seq if seq is None else seq, field, lean, full, detail)
    _FAILED.setdefault(api, exc)
    return exc


def _what(obj: Any) -> str:
    m = obj.metadata
    return f"{obj.kind} {m.namespace}/{m.name or m.generate_name}"


class CheckedAPIServer(LeanAPIServer):
    """The lean API server with every lean step compared with the full model's (see the
    module docstring). Same writes, same records; raises
    :class:`~kubesim.lean.check.Divergence` at the first step that differs.

    Like :class:`~kubesim.lean.engine.LeanAPIServer` it adds no state (``__slots__ = ()``), so
    a built API server becomes one by a class change (:func:`enable`)."""

    __slots__ = ()

    def _diverge(self, field: str, lean: Any, full: Any, obj: Any, actor: str) -> Divergence:
        return _fail(self, field, lean, full, f" ({_what(obj)} by {actor})")

    # Defaulting and validation: the writes the lean engine trusts (TRUSTED, the rule its
    # _default and _validate apply) are given the full step; the others took it already.

    def _default(self, obj: Any, actor: str) -> Any:
        got = super()._default(obj, actor)
        if obj.kind in TRUSTED.get(actor, _NOTHING):
            want = APIServer._default(self, obj, actor)
            if got != want:
                raise self._diverge("defaulted object", got, want, obj, actor)
        return got

    def _validate(self, obj: Any, old: Any | None, actor: str) -> None:
        super()._validate(obj, old, actor)
        if obj.kind in TRUSTED.get(actor, _NOTHING):
            try:
                APIServer._validate(self, obj, old, actor)
            except KubesimError as exc:
                raise self._diverge("validation", "accepted", f"refused: {exc}", obj, actor) from exc

    def _stamp(self, obj: Any, meta: ObjectMeta, generation: int | None = None) -> tuple[Any, tuple[int, int, int]]:
        got, sizes = super()._stamp(obj, meta, generation)
        if type(got) is EndpointSlice and got.endpoints:
            # The lean engine or the EndpointSlice planner (ServiceSlicer._vouch_sums) may have
            # vouched the endpoints' size sums to the wire: they must be
            # the wire's own pass over the entries (which sizes3 below would otherwise trust).
            eps = got.endpoints
            hit = _wire_endpoints._slice_endpoints_pair.cache.get(id(eps))
            if hit is not None and hit[0] is eps:
                want_pair = _wire_endpoints._endpoints_pair(eps)
                if hit[1] != want_pair:
                    raise self._diverge("endpoints size sums", hit[1], want_pair, got, "the API server")
        want, want_sizes = APIServer._stamp(self, obj, meta, generation)
        if got != want:
            raise self._diverge("stamped object", got, want, obj, "the API server")
        for field, a, b in zip(("json_bytes", "proto_bytes", "stored proto_bytes"), sizes, want_sizes, strict=True):
            if a != b:
                raise self._diverge(field, a, b, got, "the API server")
        _VERIFIED[self] = (got, sizes)
        return got, sizes

    def _record(
        self,
        verb: str,
        obj: Any,
        actor: str,
        sizes: tuple[int, int, int],
        cause: str = "",
        outcome: str = "ok",
        name: str | None = None,
    ) -> None:
        verified = _VERIFIED.pop(self, None)
        # A record of the object just stamped, or of a create (sized on its trial, stamped last,
        # whose name and uid it has the lengths of: the full model records those sizes too) was
        # compared in _stamp; every other record (a writer's own sizes) is compared here.
        if verified is None or (verified[0] is not obj and verified[1] is not sizes):
            want = _wire.sizes3(obj)
            for field, a, b in zip(("json_bytes", "proto_bytes", "stored proto_bytes"), sizes, want, strict=True):
                if a != b:
                    raise self._diverge(field, a, b, obj, actor)
        super()._record(verb, obj, actor, sizes, cause, outcome, name)

    # LeanAPIServer._drain delivers without calling _deliver: the generic loop, which calls it.
    _drain = APIServer._drain

    def _deliver(self, ev: WatchEvent) -> None:
        got = self._watchers_of(ev.kind)
        want = [fn for kinds, fn in self._watchers if kinds is None or ev.kind in kinds]
        if got != want:
            raise _fail(self, f"watchers of a {ev.type} event", got, want, f" ({_what(ev.new)} by {ev.actor})",
                        _seq_of(self, ev))
        super()._deliver(ev)


def _seq_of(api: APIServer, ev: WatchEvent) -> int | None:
    """The change-log record of the write whose watch event ``ev`` is (delivered after it, maybe
    late): the last record of that object at its resourceVersion. ``O(records)``; for a
    :class:`Divergence` only."""
    m = ev.new.metadata
    rv = int(m.resource_version or 0)
    for e in reversed(api.changes):
        if e.resource_version == rv and e.kind == ev.kind and e.name == m.name and e.namespace == m.namespace:
            return int(e.seq)
    return None  # pragma: no cover - every delivered event has its record


# --------------------------------------------------------------------------------------------
# the reference planners beside the fast ones


def _first_difference(got: Any, want: Any) -> tuple[str, Any, Any]:
    """The first ``(field, fast value, reference value)`` where two plans differ."""
    for field in ("operations", "error", "events", "observations", "suppressed_creates"):
        a, b = getattr(got, field), getattr(want, field)
        if a == b:
            continue
        if field == "operations":
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                if x != y:
                    return f"operations[{i}]", x, y
            return "len(operations)", len(a), len(b)
        return field, a, b
    return "plan", got, want  # pragma: no cover - called only when the plans differ


def _fields(obj: Any) -> tuple[Any, ...]:
    """An attrs engine object's fields, to compare by value (engines compare by identity)."""
    return tuple(getattr(obj, f.name) for f in attrs.fields(type(obj)))


class SlicePlanCheck:
    """The EndpointSlice controller's ``plan_check`` in check mode: every fast plan against
    the reference planner's, the controller's own reference path (``_plan_reference``: the
    store's pods and slices at that sync, the staleness scan, upstream's reconciler). The
    reference keeps its own topology cache (compared with the fast one's after each sync), and
    its trigger times in the controller's reference tracker (``controller.triggers``, which the
    fast path leaves idle and forgets deleted Services from, as ``slice_reconciler="reference"``
    uses it); its metrics go to a scratch ``SliceMetrics`` (the plan carries the
    observations, which are compared). ``O(pods + slices of the namespace)`` per sync."""

    def __init__(self, controller: Any) -> None:
        from kubesim.controllers.endpointslice.topology import TopologyCache

        self.controller = controller
        self.topology = TopologyCache()

    def __call__(self, key: str, service: Any, plan: Any) -> None:
        from kubesim.controllers.endpointslice.controller import StaleSlices
        from kubesim.controllers.endpointslice.reconciler import SliceMetrics

        ctl = self.controller
        api = ctl.ctx.api
        # The controller's own reference path, on the reference's topology cache and a scratch
        # metrics (the fast path's are the controller's).
        saved = ctl.topology, ctl.metrics
        ctl.topology, ctl.metrics = self.topology, SliceMetrics(max_endpoints_per_slice=saved[1].max_endpoints_per_slice)
        try:
            want = ctl._plan_reference(key, service)
        except StaleSlices as exc:
            raise _fail(api, f"EndpointSlice sync of {key}: stale slice cache", "not stale", f"stale: {exc}",
                        " (fast planner against the reference planner)") from exc
        finally:
            ctl.topology, ctl.metrics = saved
        if plan != want:
            field, a, b = _first_difference(plan, want)
            raise _fail(api, f"EndpointSlice plan of {key}: {field}", a, b, " (fast planner against the reference planner)")
        if _fields(self.topology) != _fields(ctl.topology):
            raise _fail(api, f"topology hints state after the sync of {key}", ctl.topology, self.topology,
                        " (fast planner against the reference planner)")

class EndpointsPlanCheck:
    """The Endpoints controller's ``plan_check`` in check mode: called with every fast sync's
    trigger time (before the stale-cache check, where the reference computes its own), it
    returns the function the controller calls with the fast decision — ``(verb, desired)``,
    or ``(None, None)`` for no write — which compares it with
    :func:`~kubesim.controllers.endpoints.reconciler.plan_endpoints_sync` on the store's pods.
    The reference's trigger times are kept in the controller's reference tracker
    (``controller.triggers``: idle on the fast path, which forgets deleted Services from it).
    ``O(pods of the namespace + A log A)`` per sync."""

    def __init__(self, controller: Any) -> None:
        self.controller = controller

    def __call__(self, key: str, service: Any, existing: Any) -> Callable[[str | None, Any], None]:
        from kubesim.controllers.endpoints.reconciler import plan_endpoints_sync

        ctl = self.controller
        api = ctl.ctx.api
        ns, name = _eu.split_key(key)
        pods = _eu.pods_for_service(api, service)
        want = plan_endpoints_sync(
            service, pods, existing, namespace=ns, name=name, trigger_time=ctl.triggers.compute(service, pods),
            truncate=ctl.ctx.options.endpoints_truncate,
        )

        def compare(verb: str | None, desired: Any) -> None:
            if verb != want.verb:
                raise _fail(api, f"Endpoints sync of {key}: verb", verb, want.verb,
                            " (fast engine against the reference planner)")
            if verb is not None and desired != want.endpoints:
                raise _fail(api, f"Endpoints sync of {key}: desired Endpoints", desired, want.endpoints,
                            " (fast engine against the reference planner)")

        return compare


def enable(cluster: Any) -> None:
    """Put ``cluster`` (a :class:`kubesim.Cluster`, built) in check mode: its API server
    becomes a :class:`CheckedAPIServer` by a class change, and the Endpoints and EndpointSlice
    controllers get their reference planners beside the fast ones. The writes made so far
    (the bootstrap: namespaces, nodes) took the full path.

    A :class:`Divergence` raised in a controller's sync is taken by its work queue for a sync
    error (and retried); so the first one found is kept and raised again by a passive source
    of the clock before every later timer: :meth:`kubesim.Cluster.run` raises it, and keeps
    raising it. ``O(1)``."""
    api = cluster.api
    api.__class__ = CheckedAPIServer

    def raise_divergence(_t: float) -> None:
        exc = _FAILED.get(api)
        if exc is not None:
            raise exc

    cluster.clock.add_passive(raise_divergence)
    for name, check in (("endpointslice", SlicePlanCheck), ("endpoint", EndpointsPlanCheck)):
        ctl = cluster.controllers.get(name)
        if ctl is not None:
            ctl.plan_check = check(ctl)
