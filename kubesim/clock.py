"""Virtual time: a SimPy-shaped discrete-event clock.

Callbacks are kept in a heap ordered by ``(time, sequence)``: two callbacks scheduled for the
same instant run in the order they were scheduled, so a run is reproducible bit for bit.

>>> clock = Clock()
>>> seen = []
>>> _ = clock.schedule(2.0, lambda: seen.append(("b", clock.now)))
>>> _ = clock.schedule(1.0, lambda: seen.append(("a", clock.now)))
>>> clock.run()
>>> seen
[('a', 1.0), ('b', 2.0)]

Each callback remembers the clock's :attr:`Clock.context` when it was scheduled and runs with
it, which is how kubesim attributes churn to its cause (a rollout, a node failure …).

Virtual time is bounded: it can hold any instant whose timestamp the API server can write
(:data:`MAX_TIME`, the end of year 9999 counted from kubesim's epoch, as ``metav1.Time`` is
bounded by RFC 3339). A delay or an ``until`` past it, infinite or not a number is refused with
:class:`~kubesim.errors.InvalidOption` before anything is scheduled.

Advancing time is not re-entrant: :meth:`step` and :meth:`run` called from a callback the clock
is running, or while the owner's :attr:`Clock.guard` says it is busy (the API server in the
middle of a write or of a transaction), raise :class:`~kubesim.errors.ReentrancyError`.

Passive sources (:meth:`Clock.add_passive`): callbacks that do what is due by a time without
keeping the clock running. Before the clock runs its next timer, at time ``t``, it calls each
passive source with ``t``; at the end of ``run(until=T)`` it calls each with ``T``. A source is
never the reason :meth:`Clock.run` goes on: a run ends when no timer is left, whatever the sources
have due (see :meth:`Clock.add_passive` for the contract). kubesim's Event TTL is one.

Costs: ``schedule`` and ``step`` are ``O(log n)`` for ``n`` pending callbacks; ``cancel`` is
``O(1)`` (the entry is skipped when it reaches the top of the heap).

The cyclic garbage collector during :meth:`Clock.run`. A large simulation holds millions of
container objects (pods, their versions, change-log records), nearly all freed by reference
counting and almost none in reference cycles; with CPython's default thresholds (700, 10, 10)
the collector still walks the whole heap over and over as it grows, a cost per write that grows
with the cluster. While :meth:`Clock.run` runs, the collector's thresholds are raised to
:data:`RUN_GC_THRESHOLDS`: far fewer young collections, and the oldest generation (the whole
heap) walked a tenth as often, so cyclic garbage still goes, later. The thresholds are
process-wide: they are restored when the last of any concurrent runs ends, and a threshold the
caller set higher is kept. Nothing simulated depends on it (one seed, one result).
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import math
import threading
from collections.abc import Callable, Iterator

import attrs

from kubesim.errors import InvalidOption, ReentrancyError

__all__ = ["Clock", "Timer", "MAX_TIME", "RUN_GC_THRESHOLDS", "check_time"]

#: The cyclic garbage collector's thresholds (``gc.set_threshold``) while :meth:`Clock.run`
#: runs, instead of CPython's ``(700, 10, 10)`` (see the module docstring); each is a floor,
#: a higher one already set is kept.
RUN_GC_THRESHOLDS = (50_000, 10, 100)

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_saved: tuple[int, ...] | None = None
_gc_set: tuple[int, ...] | None = None


@contextlib.contextmanager
def _relaxed_gc() -> Iterator[None]:
    # Raise the GC thresholds for the block; the outermost of nested or concurrent blocks
    # restores what it found (unless someone changed the thresholds meanwhile).
    global _gc_depth, _gc_saved, _gc_set
    with _gc_lock:
        _gc_depth += 1
        if _gc_depth == 1:
            found = gc.get_threshold()
            raised = tuple(max(f, r) for f, r in zip(found, RUN_GC_THRESHOLDS, strict=True))
            if raised != found:
                _gc_saved, _gc_set = found, raised
                gc.set_threshold(*raised)
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_saved is not None:
                if gc.get_threshold() == _gc_set:
                    gc.set_threshold(*_gc_saved)
                _gc_saved = _gc_set = None


#: The latest virtual time (seconds): 9999-12-31T23:59:59Z, the last instant an RFC 3339
#: timestamp holds, minus kubesim's epoch (2025-01-01T00:00:00Z, :data:`kubesim.apiserver.EPOCH`).
MAX_TIME = 253402300799.0 - 1735689600.0


def check_time(value: object, what: str, *, at_least: float = 0.0) -> float:
    """``value`` as a float if it is a real number in ``[at_least, MAX_TIME]``; else
    :class:`~kubesim.errors.InvalidOption` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidOption(f"{what} must be a number of seconds, got {value!r:.80}")
    try:
        v = float(value)
    except OverflowError:
        v = math.inf
    if not (math.isfinite(v) and at_least <= v <= MAX_TIME):
        raise InvalidOption(f"{what} must be between {at_least!r} and {MAX_TIME:.0f} seconds (year 9999), got {value!r:.80}")
    return v


@attrs.define(eq=False)
class Timer:
    """A handle on a scheduled callback; :meth:`cancel` stops it from running."""

    time: float
    seq: int
    callback: Callable[[], object] | None
    context: str = ""

    def cancel(self) -> None:
        """Do not run the callback. ``O(1)``."""
        self.callback = None

    @property
    def cancelled(self) -> bool:
        """``True`` once cancelled (or once it has run)."""
        return self.callback is None


@attrs.define(eq=False)
class Clock:
    """The event heap and the current virtual time (seconds, starting at ``0.0``).

    Methods by purpose:

    * reading: :attr:`now`, :meth:`peek`, :attr:`pending`;
    * scheduling: :meth:`schedule`, :meth:`schedule_at`;
    * advancing: :meth:`step`, :meth:`run`;
    * passive sources: :meth:`add_passive`, :meth:`remove_passive`.
    """

    now: float = 0.0
    _heap: list[tuple[float, int, Timer]] = attrs.field(factory=list, init=False, repr=False)
    _seq: int = attrs.field(default=0, init=False, repr=False)
    steps: int = attrs.field(default=0, init=False)
    #: The cause of the work being done now (``""``: none). A callback runs with the context
    #: that was current when it was scheduled, so a cause follows the work it sets off.
    context: str = attrs.field(default="", init=False)
    #: asked before time advances: a reason it cannot (``None``: it can). The API server sets it.
    guard: Callable[[], str | None] | None = attrs.field(default=None, init=False, repr=False)
    _running: bool = attrs.field(default=False, init=False, repr=False)
    #: a tuple, rebuilt when a source is added or removed, so the call before every timer
    #: iterates a snapshot without copying (a source may remove itself as it runs)
    _passive: tuple[Callable[[float], object], ...] = attrs.field(default=(), init=False, repr=False)

    def add_passive(self, source: Callable[[float], object]) -> None:
        """Register a passive source: ``source(t)`` is called before the clock runs a timer
        at time ``t`` (from :meth:`step` or :meth:`run`), and at the end of ``run(until=T)``
        with ``T``, so it can do what is due up to ``t``. The contract:

        * ``t`` is never before :attr:`now`; the source is called before every timer (it must
          be cheap when nothing is due), sources in the order they were added.
        * Ties: what a source does for time ``t`` comes before every timer at ``t`` (and after
          every timer before ``t``).
        * It is never a reason to go on: :meth:`run` without ``until`` ends when no timer is
          left and does not call the sources then (nothing moves time); what is due after the
          last timer is done by the next call that advances time to it.
        * The source may write through the API server, and may set :attr:`now` forward to any
          time in ``[now, t]`` (never back, never past ``t``) so a write is recorded at the
          time it is due; the clock goes on to ``t`` afterwards. It runs with the clock's
          outer :attr:`context` (set its own if its writes have another cause). It may not
          advance time itself (:class:`~kubesim.errors.ReentrancyError`).
        * Writes a source makes must not trigger watchers that schedule timers earlier than
          ``t`` (time order of the change log would break); timers at ``t`` or later are fine.

        ``O(sources)``."""
        self._passive = (*self._passive, source)

    def remove_passive(self, source: Callable[[float], object]) -> None:
        """Stop calling a source added with :meth:`add_passive` (``ValueError`` if it was
        not). ``O(sources)``."""
        sources = list(self._passive)
        sources.remove(source)
        self._passive = tuple(sources)

    def _call_passive(self, t: float) -> None:
        self._running = True
        try:
            for source in self._passive:
                source(t)
        finally:
            self._running = False

    def schedule(self, delay: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback`` ``delay`` seconds from now (``0 <= delay``, ``now + delay <=``
        :data:`MAX_TIME`). ``O(log n)``."""
        if not (isinstance(delay, (int, float)) and 0 <= delay <= MAX_TIME - self.now):
            if isinstance(delay, (int, float)) and not isinstance(delay, bool) and delay < 0:
                raise InvalidOption(f"delay must be non-negative, got {delay!r}")
            check_time(delay, "delay")
            raise InvalidOption(f"delay {delay!r} reaches past the latest virtual time ({MAX_TIME:.0f} s)")
        return self.schedule_at(self.now + delay, callback)

    def schedule_at(self, time: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback`` at virtual ``time`` (not before now, not after :data:`MAX_TIME`).
        ``O(log n)``."""
        if not time <= MAX_TIME:  # also NaN
            check_time(time, "time")
        if time < self.now:
            time = self.now
        self._seq += 1
        timer = Timer(time, self._seq, callback, self.context)
        heapq.heappush(self._heap, (time, self._seq, timer))
        return timer

    def peek(self) -> float | None:
        """The time of the next live callback, or ``None``. Amortised ``O(log n)``."""
        heap = self._heap
        while heap and heap[0][2].callback is None:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    @property
    def pending(self) -> int:
        """How many callbacks are scheduled (cancelled ones not yet discarded included)."""
        return len(self._heap)

    def _check_reentry(self) -> None:
        if self._running:
            raise ReentrancyError(
                "cannot advance virtual time from inside a callback the clock is running "
                "(run() or step() called from a controller, a watch handler or a subscriber)"
            )
        if self.guard is not None:
            why = self.guard()
            if why is not None:
                raise ReentrancyError(f"cannot advance virtual time now: {why}")

    def step(self) -> bool:
        """Run the next live callback; ``False`` if there was none. ``O(log n)``.
        Raises :class:`~kubesim.errors.ReentrancyError` when called from a callback."""
        self._check_reentry()
        return self._step()

    def _step(self) -> bool:
        heap = self._heap
        if self._passive:
            t = self.peek()
            if t is None:
                return False
            self._call_passive(t)
        while heap:
            time, _, timer = heapq.heappop(heap)
            cb = timer.callback
            if cb is None:
                continue
            timer.callback = None
            self.now = time
            self.steps += 1
            outer, self.context = self.context, timer.context
            self._running = True
            try:
                cb()
            finally:
                self.context = outer
                self._running = False
            return True
        return False

    def run(self, until: float | None = None) -> None:
        """Run callbacks in order until none is left, or up to virtual time ``until``
        (callbacks at exactly ``until`` run; the clock then reads ``until``). ``until`` past
        :data:`MAX_TIME`, infinite or NaN is :class:`~kubesim.errors.InvalidOption`; a call from
        a callback is :class:`~kubesim.errors.ReentrancyError`. Passive sources are called
        before each timer and, with ``until``, once at the end (:meth:`add_passive`). The
        garbage collector's thresholds are :data:`RUN_GC_THRESHOLDS` meanwhile (see the module
        docstring)."""
        if until is not None:
            until = self.check_until(until)
        self._check_reentry()
        with _relaxed_gc():
            if until is None:
                while self._step():
                    pass
                return
            while True:
                t = self.peek()
                if t is None or t > until:
                    break
                self._step()
            if self._passive:
                self._call_passive(until)
        self.now = float(until)

    def check_until(self, until: object) -> float:
        """``until`` as a float if time can be run to it (a number in ``[now, MAX_TIME]``);
        else :class:`~kubesim.errors.InvalidOption`."""
        if isinstance(until, (int, float)) and not isinstance(until, bool) and until < self.now:
            raise InvalidOption(f"until={until!r} is before now ({self.now!r})")
        return check_time(until, "until", at_least=self.now)
