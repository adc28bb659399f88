"""Tests for the garbage-collector setting of kubesim.clock.Clock.run (RUN_GC_THRESHOLDS)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from kubesim.clock import RUN_GC_THRESHOLDS, Clock

RAISED = RUN_GC_THRESHOLDS
FIRST = RUN_GC_THRESHOLDS[0]


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def test_run_raises_the_first_threshold_and_restores_it() -> None:
    clock = Clock()
    seen: list[tuple[int, ...]] = []
    clock.schedule(1.0, lambda: seen.append(gc.get_threshold()))
    clock.run()
    assert seen == [RAISED]
    assert gc.get_threshold() == (700, 10, 10)
    clock.schedule(1.0, lambda: seen.append(gc.get_threshold()))
    clock.run(until=5.0)  # the bounded form too
    assert seen[-1] == RAISED and gc.get_threshold() == (700, 10, 10)


def test_thresholds_come_back_when_a_callback_raises() -> None:
    clock = Clock()

    def boom() -> None:
        raise RuntimeError("boom")

    clock.schedule(0.0, boom)
    with pytest.raises(RuntimeError):
        clock.run()
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_of_the_caller_is_kept() -> None:
    gc.set_threshold(10 * FIRST, 5, 5)
    clock = Clock()
    seen: list[tuple[int, ...]] = []
    clock.schedule(1.0, lambda: seen.append(gc.get_threshold()))
    clock.run()
    # each threshold is a floor: the caller's higher first one stays, the others are raised
    assert seen == [(10 * FIRST, RAISED[1], RAISED[2])] and gc.get_threshold() == (10 * FIRST, 5, 5)
    gc.set_threshold(*(10 * t for t in RAISED))
    clock.schedule(1.0, lambda: seen.append(gc.get_threshold()))
    clock.run()  # nothing to raise: left as it is
    assert seen[-1] == tuple(10 * t for t in RAISED) == gc.get_threshold()


def test_concurrent_runs_restore_once_the_last_one_ends() -> None:
    a, b = Clock(), Clock()
    in_a, release_a = threading.Event(), threading.Event()
    seen: list[tuple[int, ...]] = []

    def wait_in_a() -> None:
        in_a.set()
        release_a.wait(5)

    a.schedule(0.0, wait_in_a)
    t = threading.Thread(target=a.run)
    t.start()
    assert in_a.wait(5)
    b.schedule(0.0, lambda: seen.append(gc.get_threshold()))
    b.run()  # ends while a is still running: the threshold stays raised
    assert seen == [RAISED] and gc.get_threshold() == RAISED
    release_a.set()
    t.join(5)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_changed_during_the_run_is_left_alone() -> None:
    clock = Clock()
    clock.schedule(0.0, lambda: gc.set_threshold(1234, 10, 10))
    clock.run()
    assert gc.get_threshold() == (1234, 10, 10)


def test_the_churn_report_folds_with_the_raised_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    import kubesim
    from kubesim import report

    cluster = kubesim.Cluster(seed=0, nodes=1, events=False)
    seen: list[tuple[int, ...]] = []
    fold = report.churn

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.get_threshold())
        return fold(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(report, "churn", spy)
    assert cluster.churn().kind("Endpoints").writes == 0
    assert seen == [RAISED] and gc.get_threshold() == (700, 10, 10)


class _Cycle:
    """An object in a reference cycle (it refers to itself), counted while alive."""

    __slots__ = ("me",)
    alive = 0

    def __init__(self) -> None:
        _Cycle.alive += 1
        self.me = self

    def __del__(self) -> None:
        _Cycle.alive -= 1


def test_a_run_frees_the_cycles_it_makes() -> None:
    # each step makes 10,000 cycles and drops them: 1.5 million in all, three times as many as
    # a young collection waits for, and at no time is more than two collections' worth
    # garbage; what is left goes with a full collection
    clock = Clock()
    peak = [0]
    start = _Cycle.alive

    def step() -> None:
        made = [_Cycle() for _ in range(10_000)]
        peak[0] = max(peak[0], _Cycle.alive - start)
        del made

    for i in range(150):
        clock.schedule(float(i), step)
    gc.collect()
    clock.run()
    assert peak[0] < 2 * FIRST
    gc.collect()
    assert _Cycle.alive == start
