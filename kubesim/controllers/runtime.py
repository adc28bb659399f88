"""The controller runtime shared by every controller: work queues and rate limiters.

Mirrors client-go's ``workqueue`` (``k8s.io/client-go/util/workqueue``) in virtual time:

* **de-duplication**: a key is never queued twice; a key added while it is being processed is
  processed again afterwards ("one worker per key");
* **AddAfter batching**: a key already waiting keeps its *earliest* ready time, so all events
  within a batch period of the first one fold into one sync that runs one batch period after
  the first event (later events do not extend the wait);
* **rate-limited retries**: ``add_rate_limited`` waits ``max(per-item exponential backoff,
  token bucket)``; ``forget`` resets the item's history; after ``max_retries`` requeues the key is
  dropped, as the controllers do;
* **workers**: up to ``workers`` syncs in flight; a sync takes ``sync_latency(key)`` virtual
  seconds (default 0: instantaneous), during which its key counts as processing.

And the informers' **periodic resync** (:class:`Resync`): a key a queue dropped after its
retries, or a write :func:`retrying` gave up on, comes back at the next resync, as upstream's
shared informers re-deliver every object each resync period
(``k8s.io/client-go/tools/cache/shared_informer.go``; kube-controller-manager's
``--min-resync-period``, 12 h, ``ResyncPeriod`` in
``cmd/kube-controller-manager/app/controllermanager.go``). A run that cannot converge (the same
key dropped at :attr:`Resync.max_rounds` resyncs in a row) stops retrying it and says so:
``statistics().converged`` is ``False`` and the key is listed.

Costs: ``add``/``add_after`` are ``O(log n)`` (one clock entry: ``O(1)`` for ``add``, which
goes to the clock's FIFO of the current instant); a sync dispatch is ``O(log n)``.

The hot path, key added -> key synced, is two calls deep: ``add`` pushes one clock entry
``(time, seq, queue._become_ready, key, context)`` (:meth:`kubesim.clock.Clock.push`: no
:class:`~kubesim.clock.Timer`, no closure), and when it comes up ``_become_ready`` runs the sync
itself when nothing else is ready and a worker is free (see :meth:`WorkQueue._become_ready` for
why that is what the general dispatch would do). A key waiting with a later ready time is
cancelled by its entry's sequence number (:meth:`kubesim.clock.Clock.cancel`).
"""

from __future__ import annotations

import collections
import math
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Protocol

import attrs

from kubesim.clock import MAX_TIME, Clock, Entry, Timer
from kubesim.errors import InvalidOption

__all__ = [
    "RateLimiter",
    "ItemExponentialBackoff",
    "TokenBucket",
    "MaxOfRateLimiter",
    "default_controller_rate_limiter",
    "endpointslice_rate_limiter",
    "WorkQueue",
    "QueueStatistics",
    "Resync",
    "ResyncStatistics",
    "Options",
    "ControllerContext",
]


class RateLimiter(Protocol):
    """``workqueue.TypedRateLimiter``: how long to wait before retrying ``key``."""

    def when(self, key: Hashable, now: float) -> float: ...

    def forget(self, key: Hashable) -> None: ...

    def num_requeues(self, key: Hashable) -> int: ...


@attrs.define(eq=False)
class ItemExponentialBackoff:
    """``base * 2**failures``, capped at ``cap`` seconds, per key."""

    base: float
    cap: float
    _failures: dict[Hashable, int] = attrs.field(factory=dict, repr=False)

    def when(self, key: Hashable, now: float) -> float:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        return min(self.base * (2.0**n), self.cap)

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: Hashable) -> int:
        return self._failures.get(key, 0)


@attrs.define(eq=False)
class TokenBucket:
    """``rate.Limiter(qps, burst)`` reserved in virtual time (``BucketRateLimiter``)."""

    qps: float
    burst: int
    _tokens: float = attrs.field(default=-1.0, repr=False)
    _last: float = attrs.field(default=0.0, repr=False)

    def when(self, key: Hashable, now: float) -> float:
        if self._tokens < 0:
            self._tokens, self._last = float(self.burst), now
        elapsed = max(0.0, now - self._last)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.qps)
        self._last = now
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.qps

    def forget(self, key: Hashable) -> None:
        pass

    def num_requeues(self, key: Hashable) -> int:
        return 0


@attrs.define(eq=False)
class MaxOfRateLimiter:
    """The longest wait of several limiters (``NewMaxOfRateLimiter``)."""

    limiters: tuple[RateLimiter, ...]

    def when(self, key: Hashable, now: float) -> float:
        return max(lim.when(key, now) for lim in self.limiters)

    def forget(self, key: Hashable) -> None:
        for lim in self.limiters:
            lim.forget(key)

    def num_requeues(self, key: Hashable) -> int:
        return max(lim.num_requeues(key) for lim in self.limiters)


def default_controller_rate_limiter() -> MaxOfRateLimiter:
    """``DefaultTypedControllerRateLimiter``: 5 ms·2^n capped at 1000 s, and 10 qps / burst 100."""
    return MaxOfRateLimiter((ItemExponentialBackoff(0.005, 1000.0), TokenBucket(10.0, 100)))


def endpointslice_rate_limiter(base: float = 1.0, cap: float = 1000.0) -> MaxOfRateLimiter:
    """The EndpointSlice controllers' limiter: ``base``·2^n capped at ``cap`` (1 s / 1000 s;
    mirroring uses 1 s / 100 s), and 10 qps / burst 100."""
    return MaxOfRateLimiter((ItemExponentialBackoff(base, cap), TokenBucket(10.0, 100)))


@attrs.frozen
class QueueStatistics:
    """A snapshot of a :class:`WorkQueue`'s counters."""

    name: str
    adds: int
    syncs: int
    errors: int
    dropped: int
    waiting: int
    in_flight: int
    max_depth: int


@attrs.define(eq=False)
class WorkQueue:
    """A rate-limited, delaying, de-duplicating work queue that calls ``sync(key)``.

    ``sync`` returns normally on success (the key's retry history is forgotten) or raises an
    exception, which is passed to ``on_error(key, exc)`` and retried with
    ``add_rate_limited`` while ``num_requeues < max_retries``. An :class:`AssertionError` is not
    a sync's error but a broken invariant of kubesim's own (the lean engine's
    ``KUBESIM_CHECK_HINTS`` size checks, check mode, ``_check``): it propagates out of the
    clock's run instead of being retried, so that no such failure passes for a retry.

    The rate limiter is asked about a key only by :meth:`add_rate_limited`, so a key has a
    retry history only if it went through it since it was last forgotten: the queue keeps
    those keys (``_retried``) and calls ``rate_limiter.forget`` after a successful sync only
    for them. Exact because ``forget`` of a key the limiter was never asked about (or has
    forgotten) changes nothing, which holds of client-go's limiters and of the ones here.
    """

    clock: Clock
    sync: Callable[[Hashable], object]
    name: str = "queue"
    rate_limiter: RateLimiter = attrs.field(factory=default_controller_rate_limiter)
    max_retries: int = 15
    workers: int = 1
    sync_latency: Callable[[Hashable], float] | None = None
    on_error: Callable[[Hashable, BaseException], object] | None = None
    #: the informers' resync, which brings dropped keys back (``None``: dropped is dropped)
    resync: Resync | None = None
    _dropped_keys: set[Hashable] = attrs.field(factory=set, repr=False)
    #: key -> its clock entry (``entry[0]``: the ready time); every entry here is live
    _waiting: dict[Hashable, Entry] = attrs.field(factory=dict, repr=False)
    _ready: collections.OrderedDict[Hashable, str] = attrs.field(factory=collections.OrderedDict, repr=False)
    _processing: set[Hashable] = attrs.field(factory=set, repr=False)
    _dirty_again: dict[Hashable, str] = attrs.field(factory=dict, repr=False)
    _in_flight: int = attrs.field(default=0, repr=False)
    _dispatch_scheduled: bool = attrs.field(default=False, repr=False)
    _adds: int = attrs.field(default=0, repr=False)
    _syncs: int = attrs.field(default=0, repr=False)
    _errors: int = attrs.field(default=0, repr=False)
    _dropped: int = attrs.field(default=0, repr=False)
    _max_depth: int = attrs.field(default=0, repr=False)
    #: keys the rate limiter was asked about since they were last forgotten
    _retried: set[Hashable] = attrs.field(factory=set, repr=False)
    #: ``self._become_ready``, bound once: the ``fn`` of every clock entry of this queue
    _ready_fn: Callable[[Hashable], None] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._ready_fn = self._become_ready

    # ------------------------------------------------------------------ adding

    def add(self, key: Hashable) -> None:
        """Queue ``key`` now (``queue.Add``): :meth:`add_after` with no delay, written out (it
        is the controllers' most frequent call). ``O(1)``."""
        self._adds += 1
        if key in self._ready:
            return
        clock = self.clock
        at = clock.now + 0.0
        waiting = self._waiting
        entry = waiting.get(key)
        if entry is not None:
            if entry[0] <= at:
                return
            clock.cancel(entry)
        waiting[key] = clock.push(at, self._ready_fn, key)

    def add_after(self, key: Hashable, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds, keeping an earlier ready time if the key is
        already waiting (``AddAfter``). ``O(log n)``."""
        self._adds += 1
        if key in self._ready:
            return
        clock = self.clock
        at = clock.now + max(0.0, delay)
        waiting = self._waiting
        entry = waiting.get(key)
        if entry is not None:
            if entry[0] <= at:
                return
            clock.cancel(entry)
        waiting[key] = clock.push(at, self._ready_fn, key)

    def add_rate_limited(self, key: Hashable) -> None:
        """Queue ``key`` after the rate limiter's delay (``AddRateLimited``)."""
        self._retried.add(key)
        self.add_after(key, self.rate_limiter.when(key, self.clock.now))

    def forget(self, key: Hashable) -> None:
        """Forget ``key``'s retry history (``Forget``)."""
        self._retried.discard(key)
        self.rate_limiter.forget(key)

    def num_requeues(self, key: Hashable) -> int:
        """How many times ``key`` has been retried since it was last forgotten."""
        return self.rate_limiter.num_requeues(key)

    # ------------------------------------------------------------------ processing

    def _become_ready(self, key: Hashable) -> None:
        """The clock entry of ``key`` came up: the key is ready, and synced if a worker is free.

        The clock's context is the cause of the event that queued the key (captured when
        the key was added); the key's sync runs under it, so its writes carry that cause.

        The fast path, when no key is ready, a worker is free and syncs are instantaneous (no
        ``sync_latency``): the sync runs here, as :meth:`_dispatch` then :meth:`_run` then
        :meth:`_finish` would run it, step for step (the ready depth 1, the key processing,
        the sync, the retry bookkeeping, the key done, then what became ready meanwhile
        dispatched), without the calls. The context needs no setting: ``_dispatch`` would
        set it to the key's cause, which is the clock's context now, and restore that same
        value after the dispatch, when only the clock, which sets its own, runs next."""
        self._waiting.pop(key, None)
        if key in self._processing:
            self._dirty_again.setdefault(key, self.clock.context)
            return
        ready = self._ready
        if ready or self._in_flight >= self.workers or self.sync_latency is not None:
            ready[key] = self.clock.context
            depth = len(ready)
            if depth > self._max_depth:
                self._max_depth = depth
            self._dispatch()
            return
        if self._max_depth < 1:
            self._max_depth = 1
        self._processing.add(key)
        self._in_flight += 1
        # the sync and its outcome written out as in _run (one call fewer per sync)
        self._syncs += 1
        try:
            self.sync(key)
        except AssertionError:
            raise  # a broken invariant of kubesim's own (check mode, CHECK_HINTS), not a retry
        except Exception as exc:  # noqa: BLE001 - a controller's sync error is a retry
            self._failed(key, exc)
            return
        if self._retried or self._dropped_keys:
            self._succeeded(key)
        self._processing.discard(key)
        self._in_flight -= 1
        if self._dirty_again and key in self._dirty_again:
            ready[key] = self._dirty_again.pop(key)
        if ready:
            self._dispatch()

    def _dispatch(self) -> None:
        while self._ready and self._in_flight < self.workers:
            key, cause = self._ready.popitem(last=False)
            self._processing.add(key)
            self._in_flight += 1
            latency = self.sync_latency(key) if self.sync_latency is not None else 0.0
            outer, self.clock.context = self.clock.context, cause
            try:
                if latency > 0:
                    self.clock.schedule(latency, lambda k=key: self._run(k))  # type: ignore[misc]
                else:
                    self._run(key)
            finally:
                self.clock.context = outer

    def _run(self, key: Hashable) -> None:
        self._syncs += 1
        try:
            self.sync(key)
        except AssertionError:
            raise  # a broken invariant of kubesim's own (check mode, CHECK_HINTS), not a retry
        except Exception as exc:  # noqa: BLE001 - a controller's sync error is a retry
            self._failed(key, exc)
            return
        if self._retried or self._dropped_keys:
            self._succeeded(key)
        self._finish(key)

    def _succeeded(self, key: Hashable) -> None:
        """The sync of ``key`` succeeded while some key is retried or dropped: forget ``key``'s
        retry history if it had one, and tell the resync it recovered if it was dropped.

        The callers test ``self._retried or self._dropped_keys`` first, so the common case
        (no key in trouble) costs no call."""
        if key in self._retried:
            self._retried.discard(key)
            self.rate_limiter.forget(key)
        if key in self._dropped_keys:
            self._dropped_keys.discard(key)
            if self.resync is not None:
                self.resync.recovered(self, key)

    def _failed(self, key: Hashable, exc: Exception) -> None:
        # the sync of ``key`` raised ``exc``: a retry after the rate limiter's delay, or the
        # key dropped after max_retries (brought back by the resync); the key is done
        self._errors += 1
        if self.on_error is not None:
            self.on_error(key, exc)
        if self.rate_limiter.num_requeues(key) < self.max_retries:
            self._finish(key)
            self.add_rate_limited(key)
        else:
            self._dropped += 1
            self._retried.discard(key)
            self.rate_limiter.forget(key)
            self._finish(key)
            if self.resync is not None:
                self._dropped_keys.add(key)
                self.resync.dropped(self, key)

    def _finish(self, key: Hashable) -> None:
        self._processing.discard(key)
        self._in_flight -= 1
        if key in self._dirty_again:
            self._ready[key] = self._dirty_again.pop(key)
        self._dispatch()

    # ------------------------------------------------------------------ introspection

    def __len__(self) -> int:
        return len(self._ready) + len(self._waiting)

    def statistics(self) -> QueueStatistics:
        """Counters since creation."""
        return QueueStatistics(
            name=self.name,
            adds=self._adds,
            syncs=self._syncs,
            errors=self._errors,
            dropped=self._dropped,
            waiting=len(self._waiting),
            in_flight=self._in_flight,
            max_depth=self._max_depth,
        )

    def _check(self) -> None:
        """Assert invariants: a key is in at most one of waiting / ready, and its clock entry
        is live while it waits; in-flight count."""
        assert not (set(self._waiting) & set(self._ready))
        assert not any(entry[1] in self.clock._cancelled for entry in self._waiting.values())
        assert self._in_flight == len(self._processing) or self.sync_latency is not None
        assert self._in_flight <= self.workers


def _int_in(lo: int, hi: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise InvalidOption(f"{attribute.name} must be an integer between {lo} and {hi}, got {value!r}")

    return check


def _non_negative(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= MAX_TIME:
        raise InvalidOption(
            f"{attribute.name} must be a non-negative, finite number of seconds (at most {MAX_TIME:.0f}), got {value!r}"
        )


def _one_of(*values: str) -> Callable[[object, attrs.Attribute[str], str], None]:
    def check(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in values:
            raise InvalidOption(f"{attribute.name} must be one of {list(values)}, got {value!r}")

    return check


@attrs.frozen
class Options:
    """kube-controller-manager flags that shape the endpoint controllers (validated)."""

    max_endpoints_per_slice: int = attrs.field(default=100, validator=_int_in(1, 1000))
    endpoint_updates_batch_period: float = attrs.field(default=0.0, validator=_non_negative)
    endpointslice_updates_batch_period: float = attrs.field(default=0.0, validator=_non_negative)
    mirroring_endpointslice_updates_batch_period: float = attrs.field(default=0.0, validator=_non_negative)
    mirroring_max_endpoints_per_subset: int = attrs.field(default=1000, validator=_int_in(1, 1000))
    endpoints_truncate: bool = True
    #: ``"fast"`` (incremental, the default) or ``"reference"`` (full recompute per sync): both
    #: write the same change log (property-tested); the reference is kept as the oracle
    slice_reconciler: str = attrs.field(default="fast", validator=_one_of("fast", "reference"))
    #: ``PreferSameTrafficDistribution``: honour ``trafficDistribution: PreferSameZone`` and
    #: ``PreferSameNode`` (``PreferClose`` is always honoured)
    prefer_same_traffic_distribution: bool = False
    #: the same choice for the Endpoints controller
    endpoints_reconciler: str = attrs.field(default="fast", validator=_one_of("fast", "reference"))


@attrs.define(eq=False)
class ControllerContext:
    """What a controller is given when it starts: the API server (its informer cache is the
    store itself), the clock, the cluster's seeded random, the options and the timing model."""

    api: Any
    clock: Clock
    rng: Any
    options: Options
    timing: Any
    cluster: Any = None
    #: the event recorder (:class:`kubesim.events.EventRecorder`) the controllers write Events
    #: with; a disabled one unless the cluster gives its own
    recorder: Any = attrs.field(factory=lambda: _disabled_recorder())
    #: the informers' periodic resync shared by every controller on this context
    resync: Resync = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.resync = Resync(self.clock)
        _RESYNCS[self.clock] = self.resync

    def queue(self, name: str, sync: Callable[[Hashable], object], **kwargs: Any) -> WorkQueue:
        """A :class:`WorkQueue` on this context's clock whose syncs take the timing model's
        ``controller_sync`` latency, and whose dropped keys the resync brings back."""
        lat = self.timing.controller_sync if self.timing is not None else None
        latency = None
        if lat is not None and lat.high > 0:
            rng = self.rng
            latency = lambda _key: lat.draw(rng)  # noqa: E731
        kwargs.setdefault("resync", self.resync)
        return WorkQueue(self.clock, sync, name=name, sync_latency=latency, **kwargs)


def _disabled_recorder() -> Any:
    from kubesim.events import EventRecorder  # lazily: events sits above the runtime

    return EventRecorder(enabled=False)


@attrs.frozen
class ResyncStatistics:
    """A snapshot of :meth:`Resync.statistics`: resyncs run, keys and calls requeued by them,
    how many wait for the next one, what was given up on, and whether everything converged."""

    period: float
    resyncs: int
    requeued: int
    pending: int
    abandoned: tuple[str, ...]
    converged: bool


#: the resync of each clock's controllers, for :func:`retrying` (which is handed only a clock)
_RESYNCS: weakref.WeakKeyDictionary[Clock, Resync] = weakref.WeakKeyDictionary()


@attrs.define(eq=False)
class Resync:
    """The shared informers' periodic resync, for what the controllers gave up on.

    Upstream, every informer re-delivers each object it holds once per resync period, and the
    controllers' update handlers queue the object's key again: a key dropped after
    ``maxRetries`` comes back. Re-syncing a key that converged writes nothing, so kubesim
    requeues only what was dropped (the same writes, without re-syncing every object): a
    queue's key dropped after its retries (:meth:`dropped`), or a write that
    :func:`retrying` gave up on (:meth:`dropped_call`). Resyncs happen at multiples of
    ``period`` (kube-controller-manager draws a period in ``[12 h, 24 h)`` once at start;
    kubesim uses 18 h, a deterministic choice) and only while something waits for one, so
    ``run()`` still ends.

    A key dropped again at ``max_rounds`` resyncs in a row cannot converge (a fault rate of
    1.0, an object etcd refuses): it is given up and listed in
    :attr:`ResyncStatistics.abandoned`, and ``converged`` turns ``False``, so a run never ends
    silently in an inconsistent state. Costs: ``O(1)`` per drop; a resync is ``O(dropped)``.
    """

    clock: Clock
    period: float = 18 * 3600.0
    max_rounds: int = 10
    _keys: dict[tuple[int, Hashable], tuple[WorkQueue, Hashable]] = attrs.field(factory=dict, repr=False)
    _calls: list[Callable[[], object]] = attrs.field(factory=list, repr=False)
    _rounds: dict[Any, int] = attrs.field(factory=dict, repr=False)
    _abandoned: dict[str, None] = attrs.field(factory=dict, repr=False)
    _timer: Timer | None = attrs.field(default=None, repr=False)
    _resyncs: int = attrs.field(default=0, repr=False)
    _requeued: int = attrs.field(default=0, repr=False)

    def dropped(self, queue: WorkQueue, key: Hashable) -> None:
        """``queue`` dropped ``key`` after its retries: requeue it at the next resync."""
        self._keys[(id(queue), key)] = (queue, key)
        self._arm()

    def recovered(self, queue: WorkQueue, key: Hashable) -> None:
        """A dropped ``key`` synced successfully after all (another event queued it)."""
        self._keys.pop((id(queue), key), None)
        self._rounds.pop((id(queue), key), None)
        if not self._keys and not self._calls and self._timer is not None:
            self._timer.cancel()  # nothing waits: run() need not wait for the resync
            self._timer = None

    def dropped_call(self, fn: Callable[[], object]) -> None:
        """:func:`retrying` gave up on ``fn``: retry it at the next resync."""
        self._calls.append(fn)
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None and not self._timer.cancelled:
            return
        now = self.clock.now
        at = (math.floor(now / self.period) + 1) * self.period
        if at > MAX_TIME:
            self._give_up_all()
            return
        self._timer = self.clock.schedule_at(at, self._fire)

    def _give_up_all(self) -> None:
        for queue, key in self._keys.values():
            self._abandoned[f"{queue.name}/{key}"] = None
        for fn in self._calls:
            self._abandoned[_describe(fn)] = None
        self._keys.clear()
        self._calls.clear()

    def _fire(self) -> None:
        self._timer = None
        self._resyncs += 1
        keys, self._keys = self._keys, {}
        calls, self._calls = self._calls, []
        for ident, (queue, key) in keys.items():
            rounds = self._rounds.get(ident, 0) + 1
            self._rounds[ident] = rounds
            if rounds > self.max_rounds:
                self._abandoned[f"{queue.name}/{key}"] = None
                queue._dropped_keys.discard(key)
                continue
            self._requeued += 1
            queue.add(key)
        for fn in calls:
            call_id = ("call", id(fn))
            rounds = self._rounds.get(call_id, 0) + 1
            self._rounds[call_id] = rounds
            if rounds > self.max_rounds:
                self._abandoned[_describe(fn)] = None
                continue
            self._requeued += 1
            retrying(self.clock, fn)

    def statistics(self) -> ResyncStatistics:
        """Resyncs so far, what they requeued, what waits, what was given up on."""
        pending = len(self._keys) + len(self._calls)
        return ResyncStatistics(
            period=self.period,
            resyncs=self._resyncs,
            requeued=self._requeued,
            pending=pending,
            abandoned=tuple(self._abandoned),
            converged=not self._abandoned and pending == 0,
        )

    def _check(self) -> None:
        """Something waits for a resync exactly when a resync is scheduled."""
        waiting = bool(self._keys or self._calls)
        assert waiting == (self._timer is not None and not self._timer.cancelled), "resync timer out of step"


def _describe(fn: Callable[[], object]) -> str:
    return getattr(fn, "__qualname__", repr(fn))


def retrying(clock: Clock, fn: Callable[[], object], *, delay: float = 1.0, cap: float = 30.0, attempts: int = 15) -> None:
    """Call ``fn()`` now; if it fails with a retryable API error (``Conflict``,
    ``ServerError``), call it again after ``delay`` seconds, doubling up to ``cap``, at most
    ``attempts`` times — how kubesim's non-queue components (kubelet status manager, garbage
    collector, node lifecycle) survive injected faults. A ``ServerTimeout`` means the write was
    committed and is not retried. ``fn`` must re-read what it needs on every call. When the
    attempts run out, the clock's :class:`Resync` (if controllers run on it) tries again at the
    next resync."""
    from kubesim.errors import Conflict, ServerError, ServerTimeout

    try:
        fn()
    except ServerTimeout:
        return
    except (Conflict, ServerError):
        if attempts > 1:
            clock.schedule(delay, lambda: retrying(clock, fn, delay=min(cap, delay * 2), cap=cap, attempts=attempts - 1))
        else:
            resync = _RESYNCS.get(clock)
            if resync is not None:  # the next informer resync brings it back
                resync.dropped_call(fn)
