"""Tests of kubesim.probes: readiness-probe timing and the next-transition engine.

The expected times are derived by hand from the kubelet rules the module documents (ticks every
``periodSeconds`` from container start, skipped while ``elapsed < initialDelaySeconds``,
thresholds of consecutive results), and a brute-force probe-by-probe oracle checks the bulk
engine under Hypothesis.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim.errors import InvalidOption
from kubesim.objects import (
    Container,
    ContainerPort,
    ExecAction,
    HTTPGetAction,
    IntOrString,
    Probe,
    TCPSocketAction,
)
from kubesim.probes import (
    AppBehaviour,
    Flapping,
    ReadinessTracker,
    initial_jitter,
    probe_port,
    resolve_container_port,
)


def container(
    *,
    initial: int = 0,
    period: int = 10,
    success: int = 1,
    failure: int = 3,
    timeout: int = 1,
    port: IntOrString = 8080,
    tcp: bool = False,
    exec_: bool = False,
    ports: tuple[ContainerPort, ...] = (ContainerPort(8080, name="http"),),
    probe: bool = True,
) -> Container:
    handler: dict[str, object]
    if exec_:
        handler = {"exec": ExecAction(("true",))}
    elif tcp:
        handler = {"tcp_socket": TCPSocketAction(port=port)}
    else:
        handler = {"http_get": HTTPGetAction(port=port, path="/healthz")}
    p = Probe(
        initial_delay_seconds=initial,
        period_seconds=period,
        success_threshold=success,
        failure_threshold=failure,
        timeout_seconds=timeout,
        **handler,  # type: ignore[arg-type]
    )
    return Container("app", ports=ports, readiness_probe=p if probe else None)


# --------------------------------------------------------------------------------------------
# timing tables


def test_no_probe_ready_at_start() -> None:
    t = ReadinessTracker(container(probe=False), AppBehaviour(ready_after=30))
    assert t.ready_at(0.0)
    assert t.transitions(100) == [(0.0, True)]
    assert t.next_transition(-1) == 0.0
    assert t.next_transition(0) is None


@pytest.mark.parametrize(
    "initial, period, success, ready_after, alignment, expected",
    [
        # Documented model: first probe at initialDelaySeconds, then every period.
        (5, 10, 1, 0, "documented", 5.0),
        (5, 10, 3, 0, "documented", 25.0),  # 3 successes: 5, 15, 25
        (5, 10, 1, 7, "documented", 15.0),
        # Kubelet model: ticks every period from container start; ticks before the delay skip.
        (5, 10, 1, 0, "kubelet", 10.0),
        (0, 10, 1, 0, "kubelet", 0.0),
        (10, 10, 1, 0, "kubelet", 10.0),
        (11, 10, 1, 0, "kubelet", 20.0),
        (5, 10, 3, 0, "kubelet", 30.0),  # 10, 20, 30
        (0, 10, 1, 0.5, "kubelet", 10.0),
        (0, 3, 2, 7, "kubelet", 12.0),  # ok from 9: 9, 12
    ],
)
def test_first_ready(initial: int, period: int, success: int, ready_after: float, alignment: str, expected: float) -> None:
    t = ReadinessTracker(container(initial=initial, period=period, success=success), AppBehaviour(ready_after=ready_after), alignment=alignment)
    assert t.next_transition(-1.0) == expected
    assert not t.ready_at(expected - 1e-9)
    assert t.ready_at(expected)
    assert t.next_transition(expected) is None


def test_failure_threshold_after_app_becomes_unready() -> None:
    # Ready at 0 (probes at 0, 10, 20, ...); unready from t=33 to 80.
    t = ReadinessTracker(container(failure=3), AppBehaviour(unready=[(33, 80)]))
    # Failed probes at 40, 50, 60: unready at the 3rd.  Recovers at the first success, 80.
    assert t.transitions(1000) == [(0.0, True), (60.0, False), (80.0, True)]
    assert t.next_transition(0) == 60.0
    assert t.next_transition(60) == 80.0
    assert t.next_transition(80) is None
    assert t.ready_at(59.9) and not t.ready_at(60) and not t.ready_at(79) and t.ready_at(80)


def test_short_blip_below_failure_threshold_never_flips() -> None:
    t = ReadinessTracker(container(failure=3), AppBehaviour(unready=[(33, 55)]))  # fails 40, 50 only
    assert t.transitions(1000) == [(0.0, True)]
    assert t.next_transition(0) is None


def test_success_threshold_run_resets_on_failure() -> None:
    # success 2; ok except one failing probe at 20: ok 10 (ready? no, needs 2), 0..: probes 0 ok, 10 ok -> ready 10
    t = ReadinessTracker(container(success=2, failure=1), AppBehaviour(ready_after=5, unready=[(15, 25)]))
    # 0 fail, 10 ok, 20 fail (-> stays not ready), 30 ok, 40 ok -> ready at 40
    assert t.transitions(100) == [(40.0, True)]


def test_wrong_port_never_ready() -> None:
    for c in (
        container(port=9090),  # numeric, not declared, nothing listens
        container(port="metrics"),  # unknown name: probe error, result thrown away
        container(port=8080, tcp=True, ports=(ContainerPort(80),)),
    ):
        t = ReadinessTracker(c, AppBehaviour())
        assert t.next_transition(-1) is None
        assert not t.ready_at(1e6)


def test_named_port_and_listening_ports() -> None:
    assert ReadinessTracker(container(port="http"), AppBehaviour()).next_transition(-1) == 0.0
    # Declared but the application listens elsewhere.
    assert ReadinessTracker(container(port="http"), AppBehaviour(listening_ports=[9000])).next_transition(-1) is None
    # Undeclared numeric port that the application does listen on.
    assert ReadinessTracker(container(port=9000), AppBehaviour(listening_ports=[9000])).next_transition(-1) == 0.0
    # Exec probes have no port.
    assert ReadinessTracker(container(exec_=True, ports=()), AppBehaviour()).next_transition(-1) == 0.0


def test_resolve_container_port() -> None:
    c = Container("a", ports=[ContainerPort(8080, name="http")])
    assert resolve_container_port("http", c) == 8080
    assert resolve_container_port(9000, c) == 9000
    assert resolve_container_port("9000", c) == 9000  # "an int stored as string"
    assert resolve_container_port("nope", c) is None
    assert resolve_container_port(0, c) is None
    assert resolve_container_port(70000, c) is None
    assert probe_port(Probe(), c) == (True, None)  # no handler


def test_timeout_makes_probes_fail() -> None:
    slow = AppBehaviour(response_seconds=2.0)
    assert ReadinessTracker(container(timeout=1), slow).next_transition(-1) is None
    assert ReadinessTracker(container(timeout=3), slow).next_transition(-1) == 0.0


def test_stable_outcomes_do_not_need_events() -> None:
    t = ReadinessTracker(container(), AppBehaviour(ready_after=25))
    assert t.next_transition(-1) == 30.0
    assert t.next_transition(30.0) is None
    assert t.next_transition(1e12) is None
    never = ReadinessTracker(container(), AppBehaviour(ready_after=math.inf))
    assert never.next_transition(-1) is None


def test_first_probe_offset_and_jitter() -> None:
    t = ReadinessTracker(container(initial=0), AppBehaviour(), first_probe_offset=4.0)
    assert t.next_transition(-1) == 4.0
    rng = random.Random(7)
    j = initial_jitter(Probe(period_seconds=10), rng, seconds_since_kubelet_start=3)
    assert 0 <= j < 10 and j == random.Random(7).random() * 10
    assert initial_jitter(Probe(period_seconds=10), rng, seconds_since_kubelet_start=60) == 0.0


def test_invalid_options() -> None:
    with pytest.raises(InvalidOption):
        ReadinessTracker(container(period=0), AppBehaviour())
    with pytest.raises(InvalidOption):
        ReadinessTracker(container(), AppBehaviour(), alignment="sometimes")
    with pytest.raises(InvalidOption):
        AppBehaviour(unready=[(5, 1)])
    with pytest.raises(InvalidOption):
        Flapping(mean_up=0, mean_down=1)


def test_flapping_is_seeded_and_bounded() -> None:
    beh = AppBehaviour(flapping=Flapping(mean_up=60, mean_down=60, seed=3, until=2000))
    a = ReadinessTracker(container(period=5, failure=1), beh).transitions(5000)
    b = ReadinessTracker(container(period=5, failure=1), beh).transitions(5000)
    assert a == b and len(a) > 4
    assert a[-1][1] is True and a[-1][0] <= 2005  # healthy again once flapping stops
    other = ReadinessTracker(container(period=5, failure=1), AppBehaviour(flapping=Flapping(60, 60, seed=4, until=2000)))
    assert other.transitions(5000) != a


def test_unbounded_flapping_respects_horizon() -> None:
    beh = AppBehaviour(flapping=Flapping(mean_up=0.5, mean_down=0.5, seed=1))
    c = container(period=10, failure=3, success=3)
    first = ReadinessTracker(c, beh).next_transition(0)
    assert first is not None
    # A horizon before the flip stops the search (flapping never ends, so no "never").
    assert ReadinessTracker(c, beh).next_transition(0, horizon=first - 1) is None
    assert ReadinessTracker(c, beh).next_transition(0, horizon=first) == first
    # The segment cap also bounds the work.
    assert ReadinessTracker(c, beh, max_segments=1).next_transition(0) in (None, first)


# --------------------------------------------------------------------------------------------
# the bulk engine against a probe-by-probe oracle


def oracle(c: Container, beh: AppBehaviour, until: float, alignment: str) -> list[tuple[float, bool]]:
    """Probe every tick, one by one, with the rules written out plainly."""
    p = c.readiness_probe
    assert p is not None
    ref = ReadinessTracker(c, beh, alignment=alignment)  # only for outcome_at (ports, flapping)
    ticks: list[float] = []
    if alignment == "kubelet":
        k = 0
        while k * p.period_seconds <= until:
            if k * p.period_seconds >= p.initial_delay_seconds:
                ticks.append(float(k * p.period_seconds))
            k += 1
    else:
        t = float(p.initial_delay_seconds)
        while t <= until:
            ticks.append(t)
            t += p.period_seconds
    ready, last, run, out = False, None, 0, []
    for t in ticks:
        x = ref.outcome_at(t)
        run = run + 1 if last is x else 1
        last = x
        if x and run >= p.success_threshold and not ready:
            ready = True
            out.append((t, True))
        elif not x and run >= p.failure_threshold and ready:
            ready = False
            out.append((t, False))
    return out


interval = st.tuples(st.integers(0, 200), st.integers(0, 60)).map(lambda ab: (float(ab[0]), float(ab[0] + ab[1])))


@given(
    initial=st.integers(0, 30),
    period=st.integers(1, 15),
    success=st.integers(1, 4),
    failure=st.integers(1, 4),
    ready_after=st.integers(0, 60),
    unready=st.lists(interval, max_size=4),
    alignment=st.sampled_from(["kubelet", "documented"]),
    flap_seed=st.one_of(st.none(), st.integers(0, 50)),
    queries=st.lists(st.floats(-5, 400, allow_nan=False), max_size=6),
)
def test_engine_matches_oracle(
    initial: int,
    period: int,
    success: int,
    failure: int,
    ready_after: int,
    unready: list[tuple[float, float]],
    alignment: str,
    flap_seed: int | None,
    queries: list[float],
) -> None:
    flapping = None if flap_seed is None else Flapping(mean_up=20, mean_down=15, seed=flap_seed, start=50, until=250)
    beh = AppBehaviour(ready_after=ready_after, unready=unready, flapping=flapping)
    c = container(initial=initial, period=period, success=success, failure=failure)
    until = 400.0
    expected = oracle(c, beh, until, alignment)
    # Random-order queries against one tracker, then a fresh one for the full list.
    t = ReadinessTracker(c, beh, alignment=alignment)
    for q in queries:
        nxt = t.next_transition(q, horizon=until)
        want = next((ft for ft, _ in expected if ft > q), None)
        assert nxt == want, (q, expected)
        assert t.ready_at(q) == (sum(1 for ft, _ in expected if ft <= q) % 2 == 1)
    assert ReadinessTracker(c, beh, alignment=alignment).transitions(until) == expected
    # Walking next_transition from the start visits exactly the oracle's flips.
    walk, cur, fresh = [], -1.0, ReadinessTracker(c, beh, alignment=alignment)
    while (cur2 := fresh.next_transition(cur, horizon=until)) is not None:
        walk.append(cur2)
        cur = cur2
    assert walk == [ft for ft, _ in expected]


def test_readiness_flips_are_seen_despite_float_rounding() -> None:
    """Regression: the kubelet scheduled a readiness flip at ``since + x`` and evaluated it at
    ``now - since``, which rounding can put an ulp before ``x``: the flip was never seen and was
    rescheduled at the same instant forever (seed 0 hit it). Every pod must flip twice."""
    import kubesim
    from kubesim import scenarios

    cluster = kubesim.Cluster(seed=0, nodes=3)
    scenarios.deploy(cluster, "web", replicas=6, readiness_probe=True)
    cluster.run()
    names = sorted(p.metadata.name for p in cluster.list("Pod"))
    before = len(cluster.changes)
    for name in names:
        scenarios.fail_readiness(cluster, name, 60.0)
    steps = 0
    while cluster.clock.step():
        steps += 1
        assert steps < 10_000, "the clock never went quiet"
    flips = [e for e in cluster.changes[before:] if e.kind == "Pod" and e.actor == "kubelet"]
    assert len(flips) == 2 * len(names)
    assert all(p.status.ready for p in cluster.list("Pod"))


# --------------------------------------------------------------------------------------------
# liveness and startup workers: the initial result and not_before (prober/worker.go)


def test_startup_result_is_unknown_until_the_failure_threshold() -> None:
    # worker_test.go TestStartupProbeFailureThreshold (shape): failures 1 and 2 leave the
    # result Unknown; the 3rd makes it Failure.
    c = container(period=10, failure=3, port=9999)  # nothing listens: every probe fails
    t = ReadinessTracker(c, AppBehaviour(), initial=None)
    assert t.result_at(0.0) is None and t.result_at(10.0) is None
    assert t.result_at(20.0) is False
    assert t.next_transition(-1.0) == 20.0 and t.next_transition(20.0) is None
    ok = ReadinessTracker(container(period=10), AppBehaviour(ready_after=15), initial=None)
    assert ok.result_at(10.0) is None and ok.result_at(20.0) is True


def test_liveness_starts_at_success_and_is_disabled_until_started() -> None:
    # worker_test.go TestLivenessProbeDisabledByStarted: probes before the container started
    # (startup probe) do not count; afterwards failures count against failureThreshold.
    c = container(period=5, failure=1, port=9999)
    t = ReadinessTracker(c, AppBehaviour(), initial=True, not_before=12.0)
    assert t.result_at(11.9) is True and t.ready_at(11.9)
    assert t.next_transition(0.0) == 15.0  # the first tick at or after 12 on the 0, 5, 10 ... grid
    assert t.transitions(100) == [(15.0, False)]


def liveness_oracle(c: Container, beh: AppBehaviour, until: float, initial: bool | None,
                    not_before: float) -> list[tuple[float, bool]]:
    p = c.readiness_probe
    assert p is not None
    ref = ReadinessTracker(c, beh)
    result, last, run, out = initial, None, 0, []
    k = 0
    while k * p.period_seconds <= until:
        t = float(k * p.period_seconds)
        k += 1
        if t < p.initial_delay_seconds or t < not_before:
            continue
        x = ref.outcome_at(t)
        run = run + 1 if last is x else 1
        last = x
        need = p.success_threshold if x else p.failure_threshold
        if run >= need and result is not x:
            result = x
            out.append((t, x))
    return out


@given(
    initial_delay=st.integers(0, 30),
    period=st.integers(1, 15),
    success=st.integers(1, 4),
    failure=st.integers(1, 4),
    ready_after=st.integers(0, 60),
    unready=st.lists(interval, max_size=4),
    initial=st.sampled_from([True, False, None]),
    not_before=st.integers(0, 50).map(float),
)
def test_initial_results_match_oracle(
    initial_delay: int, period: int, success: int, failure: int, ready_after: int,
    unready: list[tuple[float, float]], initial: bool | None, not_before: float,
) -> None:
    beh = AppBehaviour(ready_after=ready_after, unready=unready)
    c = container(initial=initial_delay, period=period, success=success, failure=failure)
    expected = liveness_oracle(c, beh, 400.0, initial, not_before)
    t = ReadinessTracker(c, beh, initial=initial, not_before=not_before)
    assert t.transitions(400.0) == expected
    for q in (0.0, not_before, 100.0, 399.0):
        want = next((v for ft, v in reversed(expected) if ft <= q), initial)
        assert t.result_at(q) is want


def test_app_behaviour_new_fields_are_validated() -> None:
    with pytest.raises(InvalidOption):
        AppBehaviour(exit_after=-1)
    with pytest.raises(InvalidOption):
        AppBehaviour(pre_stop_seconds=-0.5)
    with pytest.raises(InvalidOption):
        AppBehaviour(exit_code=256)
    inner = AppBehaviour(ready_after=5)
    assert AppBehaviour(liveness=inner).for_liveness is inner
    assert AppBehaviour().for_liveness == AppBehaviour()
