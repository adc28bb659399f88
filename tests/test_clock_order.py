"""The clock's order (a heap and a FIFO of zero-delay entries, cancellation by sequence number)
against a naive model: one list of every entry, the first live one by ``(time, seq)`` run next."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from kubesim.clock import Clock


class _Model:
    """Every entry ever scheduled; the next is the live one with the least (time, seq)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.seq = 0
        self.entries: dict[int, tuple[float, Callable[[], None]]] = {}

    def schedule(self, delay: float, fn: Callable[[], None]) -> int:
        self.seq += 1
        self.entries[self.seq] = (self.now + delay, fn)
        return self.seq

    def cancel(self, seq: int) -> None:
        self.entries.pop(seq, None)

    def run(self) -> None:
        while self.entries:
            seq = min(self.entries, key=lambda s: (self.entries[s][0], s))
            time, fn = self.entries.pop(seq)
            self.now = time
            fn()


def _drive(seed: int, use_model: bool) -> list[tuple[object, ...]]:
    rnd = random.Random(seed)
    seen: list[tuple[object, ...]] = []
    clock = Clock()
    model = _Model()
    handles: list[object] = []

    def now() -> float:
        return model.now if use_model else clock.now

    def schedule(delay: float, fn: Callable[[], None]) -> None:
        timer = rnd.random() < 0.5  # drawn in both runs: the streams stay together
        if use_model:
            handles.append(model.schedule(delay, fn))
        elif timer:
            handles.append(clock.schedule(delay, fn))
        else:
            handles.append(clock.push(clock.now + delay, lambda _arg: fn(), None))

    def cancel() -> None:
        if not handles:
            return
        h = handles.pop(rnd.randrange(len(handles)))
        if use_model:
            model.cancel(h)  # type: ignore[arg-type]
        elif isinstance(h, tuple):  # an entry: cancel only one still queued (the caller's duty)
            if h[1] not in clock._cancelled and any(e is h for e in (*clock._heap, *clock._fifo)):
                clock.cancel(h)
        else:
            h.cancel()  # type: ignore[attr-defined]

    def callback(label: int) -> Callable[[], None]:
        def run() -> None:
            seen.append((label, now()))
            if len(seen) > 2000:  # the work dies out
                return
            for _ in range(rnd.choice((0, 1, 1, 2, 3))):
                r = rnd.random()
                if r < 0.5:
                    schedule(0.0, callback(rnd.randrange(10**6)))  # zero delay: the FIFO
                elif r < 0.8:
                    schedule(rnd.choice((0.5, 1.0, 2.0)), callback(rnd.randrange(10**6)))
                else:
                    cancel()

        return run

    for i in range(30):
        # several entries for the same later instants, so that heap entries and FIFO entries
        # of one instant meet (the heap's must run first: smaller sequence numbers)
        schedule(rnd.choice((0.0, 1.0, 2.0, 3.0)), callback(i))
    if use_model:
        model.run()
    else:
        clock.run()
        assert clock.pending == 0 and not clock._cancelled
    return seen


@pytest.mark.parametrize("seed", range(40))
def test_clock_runs_in_the_order_of_one_heap(seed: int) -> None:
    assert _drive(seed, use_model=False) == _drive(seed, use_model=True)


def test_a_heap_entry_of_this_instant_runs_before_later_zero_delay_work() -> None:
    clock = Clock()
    seen: list[str] = []

    def a() -> None:
        seen.append("a")
        clock.schedule(0.0, lambda: seen.append("c"))  # the FIFO of t=1

    clock.schedule(1.0, a)
    clock.schedule(1.0, lambda: seen.append("b"))  # in the heap since t=0, before "c"
    clock.run()
    assert seen == ["a", "b", "c"]


def test_push_and_cancel() -> None:
    clock = Clock()
    seen: list[object] = []
    kept = clock.push(0.0, seen.append, "now")
    gone = clock.push(0.0, seen.append, "cancelled")
    later = clock.push(2.0, seen.append, "later")
    clock.cancel(gone)
    assert kept[0] == 0.0 and later[0] == 2.0 and clock.pending == 3
    assert clock.peek() == 0.0
    clock.run()
    assert seen == ["now", "later"] and clock.now == 2.0 and clock.pending == 0 and clock.steps == 2
