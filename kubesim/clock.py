"""Virtual time: a SimPy-shaped discrete-event clock.

Callbacks run in the order of ``(time, sequence)``: two callbacks scheduled for the same
instant run in the order they were scheduled, so a run is reproducible bit for bit.

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

Costs: ``schedule`` and ``step`` are ``O(log n)`` for ``n`` pending callbacks (``O(1)`` for a
callback scheduled at the current instant: those wait in a FIFO beside the heap, see
:class:`Clock`); ``cancel`` is ``O(1)`` (the entry is dropped when it comes up).

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

import collections
import contextlib
import gc
import heapq
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubesim.errors import InvalidOption, ReentrancyError

__all__ = ["Clock", "Timer", "Entry", "MAX_TIME", "RUN_GC_THRESHOLDS", "check_time", "relaxed_gc"]

#: The cyclic garbage collector's thresholds (``gc.set_threshold``) while :meth:`Clock.run`
#: runs, instead of CPython's ``(700, 10, 10)`` (see the module docstring); each is a floor,
#: a higher one already set is kept. A young collection's cost per object grows with the heap
#: it points into and a run makes almost no cycles (an 8,000-pod rollout: 148 objects collected
#: in 48 collections), so generation 0 waits for 500,000 allocations: there
#: ``benchmarks/bench_rollout.py --pods 8000 --runs 1 --engine lean --events`` gave the collector
#: 4.81 CPU s instead of 5.41 s at 50,000, with the same peak RSS
#: (``benchmarks/results/session6.txt``). A middle threshold of 0 (every second young collection
#: one of the middle generation, promoting survivors straight to the oldest, so each is walked
#: 1.5 times instead of twice) measured worse at 20,000 pods (the collector 7.93 CPU s instead of
#: 6.42 s with ``--pods 20000``, one run each side by side on a loaded machine; not analysed
#: further).
RUN_GC_THRESHOLDS = (500_000, 10, 100)

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_saved: tuple[int, ...] | None = None
_gc_set: tuple[int, ...] | None = None


@contextlib.contextmanager
def relaxed_gc() -> Iterator[None]:
    """The garbage collector's thresholds raised to :data:`RUN_GC_THRESHOLDS` for the block (see
    the module docstring): what :meth:`Clock.run` runs under, and
    :meth:`kubesim.Cluster.churn`'s fold over the change log too. The outermost of nested or
    concurrent blocks restores what it found (unless someone changed the thresholds meanwhile).
    ``O(1)``."""
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


#: A scheduled callback: ``(time, sequence, fn, arg, context)``; the clock calls ``fn(arg)`` at
#: ``time`` with :attr:`Clock.context` set to ``context``. Entries compare by ``(time,
#: sequence)`` only: sequences are unique, so the comparison never reaches ``fn``.
Entry = tuple[float, int, Callable[[Any], object], Any, str]


class Timer:
    """A handle on a callback scheduled with :meth:`Clock.schedule`/:meth:`Clock.schedule_at`;
    :meth:`cancel` stops it from running. ``time``, ``seq`` (the clock's sequence number) and
    ``context`` are as scheduled; ``callback`` is ``None`` once cancelled or run."""

    __slots__ = ("time", "seq", "callback", "context", "_cancelled")

    def __init__(self, time: float, seq: int, callback: Callable[[], object] | None, context: str,
                 cancelled: set[int]) -> None:
        self.time = time
        self.seq = seq
        self.callback = callback
        self.context = context
        self._cancelled = cancelled  # the clock's set of cancelled sequence numbers

    def __repr__(self) -> str:
        return f"Timer(time={self.time!r}, seq={self.seq!r}, callback={self.callback!r}, context={self.context!r})"

    def cancel(self) -> None:
        """Do not run the callback (nothing if it ran or was cancelled already). ``O(1)``."""
        if self.callback is not None:
            self.callback = None
            self._cancelled.add(self.seq)

    @property
    def cancelled(self) -> bool:
        """``True`` once cancelled (or once it has run)."""
        return self.callback is None

    def _fire(self) -> None:
        # the clock's fn for a Timer's entry (arg: the Timer): mark it run, then call it
        cb = self.callback
        self.callback = None
        cb()  # type: ignore[misc]  # a cancelled Timer's entry is never run


@attrs.define(eq=False)
class Clock:
    """The event queue and the current virtual time (seconds, starting at ``0.0``).

    Methods by purpose:

    * reading: :attr:`now`, :meth:`peek`, :attr:`pending`;
    * scheduling: :meth:`schedule`, :meth:`schedule_at` (a :class:`Timer` handle), and for
      kubesim's own hot paths :meth:`push` (an :data:`Entry`, cancelled with :meth:`cancel`);
    * advancing: :meth:`step`, :meth:`run`;
    * passive sources: :meth:`add_passive`, :meth:`remove_passive`.

    The queue is two sorted sequences of entries ``(time, seq, fn, arg, context)``: a heap, and
    a FIFO (a deque) of entries scheduled for the instant that is :attr:`now` when they are
    scheduled (zero-delay work: a controller's ``queue.add``). The next entry is the smaller of
    the heap's top and the FIFO's front by ``(time, seq)``, so the order is exactly the one heap
    of all entries would give, ties in scheduling order. Why the merge is exact:

    * the FIFO is sorted by ``(time, seq)``: an entry goes to it only if its time is
      :attr:`now` and not before the time of the FIFO's last entry, and its sequence number
      is larger than every earlier one; so its front is its minimum, as the heap's top is
      the heap's. (Time never goes back, so the second condition always holds in kubesim; it
      is tested so that the order stays exact whatever a caller does to :attr:`now`.)
    * the minimum of two sets is the smaller of their minima, and ``(time, seq)`` pairs are
      unique, so the comparison of the two candidates decides every step as the single heap
      did. A heap entry can come before the FIFO's front at the same time (an entry pushed
      to the heap at an earlier now for this instant, with a smaller sequence number), which
      is why the comparison is needed and the FIFO is not simply run first.

    Scheduling makes one tuple: :meth:`push` returns it, :meth:`schedule_at` wraps it in a
    :class:`Timer` handle (the entry's ``fn`` is the Timer's, which marks it run).
    Cancellation is by sequence number: a cancelled entry's sequence number goes into a set,
    and the entry is dropped (and its number discarded from the set) when it comes up, in
    :meth:`peek`, :meth:`step` or :meth:`run`, exactly where a cancelled :class:`Timer` was
    skipped before: a cancelled entry never runs, never moves time and is never passed to a
    passive source.
    """

    now: float = 0.0
    _heap: list[Entry] = attrs.field(factory=list, init=False, repr=False)
    _fifo: collections.deque[Entry] = attrs.field(factory=collections.deque, init=False, repr=False)
    #: the sequence numbers of cancelled entries still queued
    _cancelled: set[int] = attrs.field(factory=set, init=False, repr=False)
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
        ``O(log n)`` (``O(1)`` at now)."""
        # the entry is push's, its arg the Timer, which takes the entry's (clamped) time and seq
        timer = Timer(time, 0, callback, self.context, self._cancelled)
        entry = self.push(time, Timer._fire, timer)
        timer.time, timer.seq = entry[0], entry[1]
        return timer

    def push(self, time: float, fn: Callable[[Any], object], arg: Any) -> Entry:
        """Schedule ``fn(arg)`` at virtual ``time`` (clamped to now; not after
        :data:`MAX_TIME`) without a :class:`Timer`: the entry itself is returned (its time is
        ``entry[0]``); :meth:`cancel` cancels it. What kubesim's work queues use: one tuple
        per callback, and no closure (``fn`` a bound method, ``arg`` the key). Same order as
        :meth:`schedule_at` (one sequence for both). ``O(log n)``, ``O(1)`` at now."""
        if not time <= MAX_TIME:  # also NaN
            check_time(time, "time")
        now = self.now
        if time < now:
            time = now
        seq = self._seq = self._seq + 1
        entry = (time, seq, fn, arg, self.context)
        fifo = self._fifo
        if time == now and (not fifo or fifo[-1][0] <= time):
            fifo.append(entry)
        else:
            heapq.heappush(self._heap, entry)
        return entry

    def cancel(self, entry: Entry) -> None:
        """Do not run ``entry`` (from :meth:`push`; it must not have run: the caller knows,
        as a work queue does by its waiting keys). ``O(1)``."""
        self._cancelled.add(entry[1])

    def _top(self) -> Entry | None:
        # The next live entry (cancelled ones before it are dropped), left queued.
        heap = self._heap
        fifo = self._fifo
        cancelled = self._cancelled
        while True:
            if fifo:
                entry = fifo[0]
                in_heap = bool(heap) and heap[0] < entry
                if in_heap:
                    entry = heap[0]
            elif heap:
                entry = heap[0]
                in_heap = True
            else:
                return None
            if cancelled and entry[1] in cancelled:
                cancelled.discard(entry[1])
                if in_heap:
                    heapq.heappop(heap)
                else:
                    fifo.popleft()
                continue
            return entry

    def _take(self, entry: Entry) -> None:
        # Remove ``entry``, the next entry (from _top), from its sequence.
        fifo = self._fifo
        if fifo and fifo[0] is entry:
            fifo.popleft()
        else:
            heapq.heappop(self._heap)

    def peek(self) -> float | None:
        """The time of the next live callback, or ``None``. Amortised ``O(log n)``."""
        entry = self._top()
        return None if entry is None else entry[0]

    @property
    def pending(self) -> int:
        """How many callbacks are scheduled (cancelled ones not yet discarded included)."""
        return len(self._heap) + len(self._fifo)

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
        entry = self._top()
        if entry is None:
            return False
        if self._passive:
            self._call_passive(entry[0])
            entry = self._top()  # the sources may have scheduled or cancelled
            if entry is None:
                return False
        self._take(entry)
        time, _, fn, arg, ctx = entry
        self.now = time
        self.steps += 1
        outer, self.context = self.context, ctx
        self._running = True
        try:
            fn(arg)
        finally:
            self.context = outer
            self._running = False
        return True

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
        with relaxed_gc():
            self._loop(MAX_TIME if until is None else until)
            if until is not None and self._passive:
                self._call_passive(until)
        if until is not None:
            self.now = float(until)

    def _loop(self, until: float) -> None:
        """Run every live entry up to ``until``, in order: :meth:`step` repeated, in one frame
        (the loop keeps its locals, sets :attr:`context` per entry and restores the outer one
        once at the end, when a callback raises too). Each step is as :meth:`step`'s: the
        next live entry's time ``t``; the passive sources called with ``t`` under the outer
        context; then the next live entry again (a source may have scheduled or cancelled:
        only when it did is the choice made again) taken and run at its time. Every entry's
        time is at most :data:`MAX_TIME`, so ``until=MAX_TIME`` runs all."""
        heap = self._heap
        fifo = self._fifo
        cancelled = self._cancelled
        popleft = fifo.popleft
        heappop = heapq.heappop
        outer = self.context
        self._running = True
        try:
            while True:
                # the next entry: the smaller of the FIFO's front and the heap's top
                if fifo:
                    entry = fifo[0]
                    if heap and heap[0] < entry:
                        entry = heap[0]
                        in_heap = True
                    else:
                        in_heap = False
                elif heap:
                    entry = heap[0]
                    in_heap = True
                else:
                    return
                if cancelled and entry[1] in cancelled:
                    cancelled.discard(entry[1])
                    if in_heap:
                        heappop(heap)
                    else:
                        popleft()
                    continue
                time = entry[0]
                if time > until:
                    return
                passive = self._passive
                if passive:
                    seq = self._seq
                    self.context = outer
                    for source in passive:
                        source(time)
                    if seq != self._seq or (cancelled and entry[1] in cancelled):
                        # a source scheduled something, or cancelled this entry: choose again,
                        # as step() does (cancelling another entry changes nothing: this one
                        # was the first live one)
                        top = self._top()
                        if top is None:
                            return
                        entry = top
                        time = entry[0]
                        in_heap = not (fifo and fifo[0] is entry)  # where it is, as _take finds it
                if in_heap:
                    heappop(heap)
                else:
                    popleft()
                self.now = time
                self.steps += 1
                self.context = entry[4]
                entry[2](entry[3])
        finally:
            self.context = outer
            self._running = False

    def check_until(self, until: object) -> float:
        """``until`` as a float if time can be run to it (a number in ``[now, MAX_TIME]``);
        else :class:`~kubesim.errors.InvalidOption`."""
        if isinstance(until, (int, float)) and not isinstance(until, bool) and until < self.now:
            raise InvalidOption(f"until={until!r} is before now ({self.now!r})")
        return check_time(until, "until", at_least=self.now)
