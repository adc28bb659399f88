"""The clock's passive sources (kubesim.clock.Clock.add_passive): when they are called, with
what time, their order with timers, and that they never keep run() going."""

from __future__ import annotations

import pytest

from kubesim.clock import Clock
from kubesim.errors import ReentrancyError


def _traced() -> tuple[Clock, list[tuple[str, float]]]:
    clock = Clock()
    seen: list[tuple[str, float]] = []
    clock.add_passive(lambda t: seen.append(("source", t)))
    return clock, seen


def test_called_before_each_timer_with_its_time() -> None:
    clock, seen = _traced()
    clock.schedule(1.0, lambda: seen.append(("timer", clock.now)))
    clock.schedule(1.0, lambda: seen.append(("timer", clock.now)))
    clock.schedule(3.0, lambda: seen.append(("timer", clock.now)))
    clock.run()
    assert seen == [("source", 1.0), ("timer", 1.0), ("source", 1.0), ("timer", 1.0),
                    ("source", 3.0), ("timer", 3.0)]
    assert clock.now == 3.0


def test_run_ends_when_no_timer_is_left() -> None:
    clock, seen = _traced()
    clock.run()
    assert seen == [] and clock.now == 0.0
    assert clock.step() is False and seen == []


def test_run_until_calls_sources_with_until() -> None:
    clock, seen = _traced()
    clock.schedule(1.0, lambda: None)
    clock.schedule(9.0, lambda: None)
    clock.run(until=5.0)
    assert seen == [("source", 1.0), ("source", 5.0)]
    assert clock.now == 5.0 and clock.peek() == 9.0


def test_source_may_move_now_within_bound_and_not_advance_time() -> None:
    clock = Clock()
    at: list[float] = []

    def source(t: float) -> None:
        if t >= 4.0 and not at:
            clock.now = 4.0  # what is due at 4 is done at 4
            at.append(clock.now)
        with pytest.raises(ReentrancyError):
            clock.step()

    clock.add_passive(source)
    clock.schedule(6.0, lambda: at.append(clock.now))
    clock.run()
    assert at == [4.0, 6.0]
    clock.remove_passive(source)
    clock.schedule(1.0, lambda: None)
    clock.run()
    with pytest.raises(ValueError):
        clock.remove_passive(source)


def test_sources_in_order_added() -> None:
    clock = Clock()
    seen: list[str] = []
    clock.add_passive(lambda t: seen.append("a"))
    clock.add_passive(lambda t: seen.append("b"))
    clock.schedule(1.0, lambda: seen.append("timer"))
    clock.run()
    assert seen == ["a", "b", "timer"]
