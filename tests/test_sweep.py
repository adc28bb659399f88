"""Tests of :mod:`kubesim.sweep`: grid order, executor independence, validation, views."""

from __future__ import annotations

import concurrent.futures
import functools
import importlib
import itertools
import json
import sys
import threading
import time
from typing import Any

import pytest

import kubesim
from kubesim import scenarios
from kubesim.changelog import ChangeEvent
from kubesim.errors import InvalidOption
from kubesim.report import ChurnReport, churn, default_groups
from kubesim.scenarios import rolling_update_churn
from kubesim.sweep import FIGURES, SCENARIOS, SweepResult, sweep

# ``kubesim.sweep`` is the function (the API); the module is reached through sys.modules.
sweep_mod = importlib.import_module("kubesim.sweep")

GRID = {"pods": [4, 8], "nodes": [2, 3], "max_endpoints_per_slice": [1, 100]}


@pytest.fixture(scope="module")
def serial() -> SweepResult:
    return sweep("rolling_update", GRID, executor="serial")


# ---------------------------------------------------------------- module-level scenarios (picklable)


def synthetic(*, n: int, delay: float = 0.0, seed: int = 0) -> ChurnReport:
    """``n`` EndpointSlice creates of ``100 + seed`` bytes each, after ``delay`` wall seconds."""
    time.sleep(delay)
    events = [
        ChangeEvent(seq=i, time=float(i), verb="create", kind="EndpointSlice", namespace="default",
                    name=f"s-{i}", resource_version=i + 1, actor="test", json_bytes=200, proto_bytes=100 + seed)
        for i in range(n)
    ]
    return churn(events, groups=default_groups(2))


def anything(**params: Any) -> ChurnReport:
    return churn([], groups=())


def not_a_report(*, n: int) -> int:
    return n


# ---------------------------------------------------------------- executors give identical rows


def test_serial_rows_match_the_reports(serial: SweepResult) -> None:
    assert len(serial.rows) == 8
    for row in serial.rows:
        _, report = rolling_update_churn(pods=row["pods"], nodes=row["nodes"],
                                         max_endpoints_per_slice=row["max_endpoints_per_slice"])
        for kind in ("Endpoints", "EndpointSlice"):
            k = report.kind(kind)
            assert row[f"{kind}.writes"] == k.writes
            assert row[f"{kind}.bytes_written"] == k.bytes_written
            assert row[f"{kind}.watch_events"] == k.watch_events
            assert row[f"{kind}.bytes_delivered"] == k.bytes_delivered
            assert row[f"{kind}.max_object_bytes"] == k.max_object_bytes
            assert row[f"{kind}.latency_p99"] == report.latency[kind].p99
            assert row[f"{kind}.size_p50"] == report.sizes[kind].p50
            assert row[f"{kind}.floor_ratio"] == report.floor[kind].ratio
        # kube-proxy on every node watches both kinds: events = writes × nodes
        assert row["EndpointSlice.watch_events"] == row["EndpointSlice.writes"] * row["nodes"]


def test_process_pool_gives_identical_rows(serial: SweepResult) -> None:
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        result = sweep("rolling_update", GRID, executor=pool)
    assert result == serial
    assert result.rows == serial.rows


def test_thread_pool_gives_identical_rows(serial: SweepResult) -> None:
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert sweep("rolling_update", GRID, executor=pool).rows == serial.rows


def test_default_executor_gives_identical_rows(serial: SweepResult) -> None:
    assert sweep("rolling_update", GRID).rows == serial.rows


def test_dask_distributed_gives_identical_rows(serial: SweepResult) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        assert sweep("rolling_update", GRID, executor=client.get_executor()).rows == serial.rows
        # the Client itself is accepted too
        small = {"pods": [4], "nodes": [2], "max_endpoints_per_slice": [1, 100]}
        assert sweep("rolling_update", small, executor=client).rows == serial.rows[:2]


# ---------------------------------------------------------------- order


def test_rows_follow_grid_order_not_completion_order() -> None:
    # the first points finish last
    grid = {"n": [3, 2, 1, 0]}
    delays = {3: 0.3, 2: 0.2, 1: 0.1, 0: 0.0}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(synthetic, n=n, delay=delays[n]) for n in grid["n"]]
        completion = [futures.index(f) for f in concurrent.futures.as_completed(futures)]
        assert completion != [0, 1, 2, 3]  # the pool really completes out of order
        result = sweep(functools.partial(_delayed, delays), grid, executor=pool)
    assert [row["n"] for row in result.rows] == [3, 2, 1, 0]
    assert [row["EndpointSlice.writes"] for row in result.rows] == [3, 2, 1, 0]


def _delayed(delays: dict[int, float], *, n: int) -> ChurnReport:
    return synthetic(n=n, delay=delays[n])


def test_points_are_the_cartesian_product_last_parameter_fastest_then_seeds() -> None:
    grid: dict[str, list[Any]] = {"n": [2, 1], "delay": [0.0, 0.001, 0.0]}
    result = sweep(synthetic, grid, seeds=[7, 3], executor="serial")
    expected = list(itertools.product([2, 1], [0.0, 0.001, 0.0], [7, 3]))
    assert [(r["n"], r["delay"], r["seed"]) for r in result.rows] == expected
    assert result.params == ("n", "delay", "seed")
    # the seed really reaches the scenario
    assert [r["EndpointSlice.max_object_bytes"] for r in result.rows] == [100 + s for _, _, s in expected]


def test_empty_grid_is_one_point_with_defaults() -> None:
    result = sweep(functools.partial(synthetic, n=2), {}, executor="serial")
    assert len(result.rows) == 1 and result.params == ()
    assert result.rows[0]["EndpointSlice.writes"] == 2


def test_columns_and_kinds() -> None:
    result = sweep(synthetic, {"n": [1]}, executor="serial", kinds=["endpointslices", "pods"])
    assert result.kinds == ("EndpointSlice", "Pod")
    assert result.columns == ("n", *[f"{k}.{f}" for k in ("EndpointSlice", "Pod") for f in FIGURES])
    assert list(result.rows[0]) == list(result.columns)
    assert result.rows[0]["Pod.writes"] == 0 and result.rows[0]["Pod.latency_p99"] is None
    assert result.column("n") == [1]
    with pytest.raises(InvalidOption, match="no column"):
        result.column("nope")


# ---------------------------------------------------------------- built-in scenarios


def test_builtin_scenarios_are_registered() -> None:
    assert sorted(SCENARIOS) == ["readiness_flap", "rolling_update", "scale_up"]


def test_scale_up_matches_a_hand_run() -> None:
    result = sweep("scale_up", {"pods": [6], "initial": [2], "nodes": [2], "max_endpoints_per_slice": [2]},
                   executor="serial")
    cluster = kubesim.Cluster(seed=0, nodes=2, max_endpoints_per_slice=2)
    scenarios.deploy(cluster, "web", replicas=2)
    cluster.run()
    cluster.run(until=cluster.now + 1)
    start = cluster.now
    scenarios.scale(cluster, "web", 6)
    cluster.run()
    report = cluster.churn(since=start)
    row = result.rows[0]
    for kind in ("Endpoints", "EndpointSlice"):
        assert row[f"{kind}.writes"] == report.kind(kind).writes > 0
        assert row[f"{kind}.bytes_delivered"] == report.kind(kind).bytes_delivered
    # 6 endpoints at 2 per slice: at least two slices were created by the scale-up
    assert row["EndpointSlice.creates"] >= 2
    assert len(cluster.list("EndpointSlice")) == 3


def test_readiness_flap_only_flapping_pods_cause_churn() -> None:
    result = sweep("readiness_flap", {"pods": [3], "nodes": [3], "flapping": [0, 1]}, seeds=[0, 3],
                   executor="serial")
    quiet = [r for r in result.rows if r["flapping"] == 0]
    noisy = [r for r in result.rows if r["flapping"] == 1]
    assert all(r["Endpoints.writes"] == 0 and r["EndpointSlice.writes"] == 0 for r in quiet)
    for r in noisy:
        # every unready flip is followed by a ready one: the pod ends healthy
        assert r["Endpoints.updates"] > 0 and r["Endpoints.updates"] % 2 == 0
        assert r["EndpointSlice.updates"] == r["Endpoints.updates"]


def test_builtin_scenario_options_are_validated() -> None:
    with pytest.raises(InvalidOption, match="initial=5 must not exceed pods=2"):
        sweep("scale_up", {"pods": [2], "initial": [5]}, executor="serial")
    with pytest.raises(InvalidOption, match="flapping=4 must not exceed pods=3"):
        sweep("readiness_flap", {"pods": [3], "flapping": [4]}, executor="serial")


_SMALL_POINTS: dict[str, dict[str, list[Any]]] = {
    "rolling_update": {"pods": [6], "nodes": [2]},
    "scale_up": {"pods": [5], "initial": [2], "nodes": [2]},
    "readiness_flap": {"pods": [3], "nodes": [2], "flapping": [1], "duration": [120.0]},
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_events_is_a_parameter_of_every_builtin_scenario(name: str) -> None:
    """``{"events": [False]}`` runs the point on a cluster that writes no Events (the Event
    column is zero where the default wrote some); the Endpoints and EndpointSlice writes and
    watch events are those of the default, and ``events`` is a column of the rows."""
    grid = {**_SMALL_POINTS[name], "events": [True, False]}
    result = sweep(name, grid, seeds=[1], kinds=("Endpoints", "EndpointSlice", "Event"), executor="serial")
    on, off = result.rows
    assert result.params[-2:] == ("events", "seed") and (on["events"], off["events"]) == (True, False)
    assert on["Event.writes"] > 0 and off["Event.writes"] == 0
    for kind in ("Endpoints", "EndpointSlice"):
        for figure in ("creates", "updates", "deletes", "writes", "watch_events"):
            assert on[f"{kind}.{figure}"] == off[f"{kind}.{figure}"], (kind, figure)
        assert on[f"{kind}.writes"] > 0
        assert 0 <= on[f"{kind}.bytes_written"] - off[f"{kind}.bytes_written"] <= 2 * on[f"{kind}.writes"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("bad", ["false", 0, 1, None])
def test_events_must_be_a_bool(name: str, bad: Any) -> None:
    with pytest.raises(InvalidOption, match=r"^events must be True or False, got "):
        sweep(name, {**_SMALL_POINTS[name], "events": [bad]}, executor="serial")


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"podz": [1]}, "unknown parameter 'podz' for scenario rolling_update"),
        ({"pods": []}, r"grid\['pods'\] must not be empty"),
        ({"pods": {1, 2}}, "a set has no order"),
        ({"pods": 4}, r"grid\['pods'\] must be a list of values"),
        ({"pods": "48"}, r"grid\['pods'\] must be a list of values"),
        ({"not valid": [1]}, "must be Python identifiers"),
        ([("pods", [1])], "grid must be a mapping"),
    ],
)
def test_bad_grids_are_rejected(grid: Any, message: str) -> None:
    with pytest.raises(InvalidOption, match=message):
        sweep("rolling_update", grid, executor="serial")


def test_other_bad_input_is_rejected() -> None:
    with pytest.raises(InvalidOption, match="unknown scenario 'nope'"):
        sweep("nope", {}, executor="serial")
    with pytest.raises(InvalidOption, match="scenario must be a callable"):
        sweep(42, {}, executor="serial")  # type: ignore[arg-type]
    with pytest.raises(InvalidOption, match="unknown parameter 'seed'"):
        sweep(functools.partial(not_a_report), {"n": [1]}, seeds=[1], executor="serial")  # type: ignore[arg-type]
    with pytest.raises(InvalidOption, match="not both"):
        sweep("rolling_update", {"seed": [1]}, seeds=[2], executor="serial")
    with pytest.raises(InvalidOption, match="seeds must not be empty"):
        sweep("rolling_update", {}, seeds=[], executor="serial")
    with pytest.raises(InvalidOption, match="seeds must be integers"):
        sweep("rolling_update", {}, seeds=[1.5], executor="serial")  # type: ignore[list-item]
    with pytest.raises(InvalidOption, match="executor must be"):
        sweep("rolling_update", {}, executor="threads")
    with pytest.raises(InvalidOption, match="executor must be"):
        sweep("rolling_update", {}, executor=object())  # type: ignore[arg-type]
    with pytest.raises(InvalidOption, match="returned int, expected a ChurnReport"):
        sweep(not_a_report, {"n": [1]}, executor="serial")  # type: ignore[arg-type]
    # a scenario taking **kwargs accepts any parameter
    assert sweep(anything, {"whatever": [1]}, executor="serial").rows[0]["whatever"] == 1


def test_unpicklable_scenario_is_rejected_for_a_process_pool() -> None:
    local = lambda **kw: synthetic(**kw)  # noqa: E731
    with concurrent.futures.ProcessPoolExecutor(1) as pool, \
            pytest.raises(InvalidOption, match="cannot be sent to worker processes"):
        sweep(local, {"n": [1]}, executor=pool)
    # but threads need no pickling
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert sweep(local, {"n": [1]}, executor=pool).rows[0]["EndpointSlice.writes"] == 1


@pytest.mark.parametrize("executor", ["serial", "threads"])
def test_a_failing_point_propagates_its_error_naming_the_point(executor: str) -> None:
    def run(pool: Any) -> None:
        with pytest.raises(InvalidOption, match="max_endpoints_per_slice") as info:
            sweep("rolling_update", {"pods": [2], "nodes": [1], "max_endpoints_per_slice": [1, 0]}, executor=pool)
        if sys.version_info >= (3, 11):
            assert any("max_endpoints_per_slice=0" in note for note in info.value.__notes__)

    if executor == "serial":
        run("serial")
    else:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            run(pool)


def test_a_failing_point_cancels_the_points_not_started() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def scenario(*, n: int) -> ChurnReport:
        with lock:
            started.append(n)
        if n == 0:
            raise RuntimeError("boom")
        time.sleep(0.05)
        return synthetic(n=n)

    with concurrent.futures.ThreadPoolExecutor(1) as pool, pytest.raises(RuntimeError, match="boom"):
        sweep(scenario, {"n": [0, 1, 2, 3, 4, 5]}, executor=pool)
    assert len(started) < 6


def test_a_failing_point_does_not_wait_for_a_long_point_still_running() -> None:
    # point 0 runs until released; point 1 fails at once: the error must come while point 0
    # still runs (it used to wait for the points before it, in order)
    release = threading.Event()
    finished: list[int] = []

    def scenario(*, n: int) -> ChurnReport:
        if n == 1:
            raise RuntimeError("boom")
        release.wait(timeout=20)
        finished.append(n)
        return synthetic(n=n)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        try:
            with pytest.raises(RuntimeError, match="boom") as info:
                sweep(scenario, {"n": [0, 1]}, executor=pool)
            assert finished == []  # raised before the long point ended
            if sys.version_info >= (3, 11):
                assert any("n=1" in note for note in info.value.__notes__)
        finally:
            release.set()


# ---------------------------------------------------------------- views


def test_to_json_round_trips_the_rows(serial: SweepResult) -> None:
    data = json.loads(serial.to_json())
    assert data["scenario"] == "rolling_update"
    assert data["params"] == ["pods", "nodes", "max_endpoints_per_slice"]
    assert data["rows"] == [dict(r) for r in serial.rows]
    assert serial.to_json() == sweep("rolling_update", GRID, executor="serial").to_json()
    assert json.loads(serial.to_json(indent=2)) == data


def test_str_is_a_compact_table(serial: SweepResult) -> None:
    text = str(serial)
    lines = text.splitlines()
    assert "Endpoints" in lines[0] and "EndpointSlice" in lines[0]
    assert lines[1].split()[:3] == ["pods", "nodes", "max_endpoints_per_slice"]
    assert len(lines) == 2 + len(serial.rows) + 1
    for line, row in zip(lines[2:], serial.rows, strict=False):
        cells = line.split()
        assert cells[:3] == [str(row["pods"]), str(row["nodes"]), str(row["max_endpoints_per_slice"])]
        assert cells[4] == f"{row['Endpoints.writes']:,}"
    assert lines[-1] == "rolling_update: 8 points"
    assert "rows=8" in repr(serial)


def test_to_dataframe(serial: SweepResult) -> None:
    pytest.importorskip("pandas")
    df = serial.to_dataframe()
    assert list(df.columns) == list(serial.columns)
    assert len(df) == 8
    assert df["EndpointSlice.writes"].tolist() == serial.column("EndpointSlice.writes")


def test_to_dataframe_without_pandas(serial: SweepResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install kubesim\[notebook\]"):
        serial.to_dataframe()


def test_plot(serial: SweepResult) -> None:
    pytest.importorskip("matplotlib")
    fig = serial.plot("pods", "EndpointSlice.bytes_delivered", hue="max_endpoints_per_slice")
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["max_endpoints_per_slice=1", "max_endpoints_per_slice=100"]
    # rows sharing x and hue (the two node counts) are averaged
    for line, mps in zip(lines, (1, 100), strict=True):
        xs: Any = line.get_xdata()
        ys: Any = line.get_ydata()
        assert list(xs) == [4, 8]
        for pods, y in zip((4, 8), ys, strict=True):
            values = [r["EndpointSlice.bytes_delivered"] for r in serial.rows
                      if r["pods"] == pods and r["max_endpoints_per_slice"] == mps]
            assert y == pytest.approx(sum(values) / len(values))
    # a bare figure draws one line per kind
    fig = serial.plot("nodes", "writes")
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == ["Endpoints", "EndpointSlice"]
    with pytest.raises(InvalidOption, match="not a column"):
        serial.plot("podz", "writes")
    with pytest.raises(InvalidOption, match="neither a column nor one of the figures"):
        serial.plot("pods", "writez")


def test_plot_without_matplotlib(serial: SweepResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install kubesim\[notebook\]"):
        serial.plot("pods", "writes")


def test_module_docstring_example_runs() -> None:
    import doctest

    assert doctest.testmod(sweep_mod).failed == 0


def test_progress_bar_changes_no_row(capsys: pytest.CaptureFixture[str]) -> None:
    plain = sweep("scale_up", {"pods": [2, 3], "nodes": [1]}, executor="serial")
    shown = sweep("scale_up", {"pods": [2, 3], "nodes": [1]}, executor="serial", progress=True)
    assert plain.rows == shown.rows
    assert "2/2" in capsys.readouterr().err


def test_result_files_carry_the_metadata(tmp_path: Any) -> None:
    result = sweep("scale_up", {"pods": [2], "nodes": [1]}, seeds=[3], executor="serial")
    assert result.metadata["kubesim"] == kubesim.__version__ and result.metadata["seeds"] == [3]
    result.save(tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["metadata"] == result.metadata
    pq = pytest.importorskip("pyarrow.parquet")
    result.save(tmp_path / "r.parquet")
    table = pq.read_table(tmp_path / "r.parquet")
    assert json.loads(table.schema.metadata[b"kubesim"])["seeds"] == [3]
    assert table.column("EndpointSlice.writes").to_pylist() == [result.rows[0]["EndpointSlice.writes"]]
    assert "<table>" in result._repr_html_()
    with pytest.raises(InvalidOption, match="unknown file type"):
        result.save(tmp_path / "r.txt")
