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

Costs: ``schedule`` and ``step`` are ``O(log n)`` for ``n`` pending callbacks; ``cancel`` is
``O(1)`` (the entry is skipped when it reaches the top of the heap).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import attrs

from kubesim.errors import InvalidOption

__all__ = ["Clock", "Timer"]


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
    * advancing: :meth:`step`, :meth:`run`.
    """

    now: float = 0.0
    _heap: list[tuple[float, int, Timer]] = attrs.field(factory=list, init=False, repr=False)
    _seq: int = attrs.field(default=0, init=False, repr=False)
    steps: int = attrs.field(default=0, init=False)
    #: The cause of the work being done now (``""``: none). A callback runs with the context
    #: that was current when it was scheduled, so a cause follows the work it sets off.
    context: str = attrs.field(default="", init=False)

    def schedule(self, delay: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback`` ``delay`` seconds from now (``delay >= 0``). ``O(log n)``."""
        if delay < 0:
            raise InvalidOption(f"delay must be non-negative, got {delay!r}")
        return self.schedule_at(self.now + delay, callback)

    def schedule_at(self, time: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback`` at virtual ``time`` (not before now). ``O(log n)``."""
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

    def step(self) -> bool:
        """Run the next live callback; ``False`` if there was none. ``O(log n)``."""
        heap = self._heap
        while heap:
            time, _, timer = heapq.heappop(heap)
            cb = timer.callback
            if cb is None:
                continue
            timer.callback = None
            self.now = time
            self.steps += 1
            outer, self.context = self.context, timer.context
            try:
                cb()
            finally:
                self.context = outer
            return True
        return False

    def run(self, until: float | None = None) -> None:
        """Run callbacks in order until none is left, or up to virtual time ``until``
        (callbacks at exactly ``until`` run; the clock then reads ``until``)."""
        if until is None:
            while self.step():
                pass
            return
        if until < self.now:
            raise InvalidOption(f"until={until!r} is before now ({self.now!r})")
        while True:
            t = self.peek()
            if t is None or t > until:
                break
            self.step()
        self.now = float(until)
