"""Parameter sweeps: run one scenario over a grid of parameters, in parallel, reproducibly.

A *scenario* is a callable ``scenario(**params) -> ChurnReport`` that builds its own seeded
:class:`~kubesim.Cluster`, drives a workload and returns the churn of the part it measures.
:func:`sweep` runs it once per point of the cartesian product of a ``grid`` (optionally times a
list of ``seeds``) on any :class:`concurrent.futures.Executor` — a process pool by default, the
current process with ``executor="serial"``, or a Dask cluster through
``client.get_executor()`` — and gathers one flat row per point into a :class:`SweepResult`.

Each point is self-contained (its own cluster, its own seed), so results do not depend on which
worker ran a point or when: rows are always in grid order, never in completion order, and the
same sweep gives the same rows on one process, a pool, or a cluster.

Built-in scenarios (:data:`SCENARIOS`), usable by name: ``"rolling_update"``
(:func:`rolling_update`), ``"scale_up"`` (:func:`scale_up`) and ``"readiness_flap"``
(:func:`readiness_flap`) — the three realistic workloads of the benchmarks. Each takes
``events`` (default ``True``): ``{"events": [False]}`` runs it on clusters that write no Events
(about 15 % less CPU; the Endpoints and EndpointSlice figures are the same but for
resourceVersion digits); a value that is not a bool raises
:class:`~kubesim.errors.InvalidOption` naming ``events``.

>>> result = sweep("scale_up", {"pods": [2, 4]}, seeds=[0], executor="serial")
>>> [(row["pods"], row["seed"]) for row in result.rows]
[(2, 0), (4, 0)]
>>> all(row["EndpointSlice.watch_events"] == 100 * row["EndpointSlice.writes"] for row in result.rows)
True

Row columns: the point's parameters (grid order, then ``seed`` when ``seeds`` is given), then
for each kind (default :data:`~kubesim.report.ENDPOINT_KINDS`) the figures of
:data:`FIGURES`, named ``"<Kind>.<figure>"`` (``"EndpointSlice.bytes_delivered"``).
"""

from __future__ import annotations

import concurrent.futures
import inspect
import itertools
import json
import math
import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Union, cast

import attrs

from kubesim.errors import InvalidOption
from kubesim.kinds import resolve_kind
from kubesim.report import ENDPOINT_KINDS, ChurnReport, Distribution, format_bytes

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.axes
    import matplotlib.figure
    import pandas  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "FIGURES",
    "SCENARIOS",
    "Scenario",
    "SweepResult",
    "sweep",
    "rolling_update",
    "scale_up",
    "readiness_flap",
]

#: A scenario: a callable ``(**params) -> ChurnReport``, or the name of a built-in one.
Scenario = Union[str, Callable[..., ChurnReport]]  # noqa: UP007 - a runtime alias, evaluated on 3.10

#: The figures each row carries per kind, in column order: the :class:`~kubesim.report.KindChurn`
#: totals, the object-size and latency percentiles (``None`` when the kind had no sample), and
#: ``floor_ratio`` (bytes delivered over the information floor; ``None`` for kinds without a
#: floor or when nothing was delivered).
FIGURES: tuple[str, ...] = (
    "creates",
    "updates",
    "deletes",
    "writes",
    "bytes_written",
    "watch_events",
    "bytes_delivered",
    "max_object_bytes",
    "size_p50",
    "size_p90",
    "size_p99",
    "size_max",
    "latency_p50",
    "latency_p90",
    "latency_p99",
    "latency_max",
    "floor_ratio",
)

_TOTALS = FIGURES[:8]
_QUANTILES = ("p50", "p90", "p99", "max")

#: Figures of the compact table (``str(result)``), with their headers and formats.
_TABLE: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("writes", "writes", lambda v: f"{v:,}"),
    ("bytes_delivered", "delivered", lambda v: format_bytes(v)),
    ("max_object_bytes", "max object", lambda v: format_bytes(v)),
    ("latency_p99", "p99 latency", lambda v: "–" if v is None else f"{v:.3g} s"),
)


# ---------------------------------------------------------------------------- built-in scenarios


def _cluster(nodes: int, max_endpoints_per_slice: int, batch_period: float, seed: int, events: bool = True) -> Any:
    import kubesim

    return kubesim.Cluster(
        seed=seed,
        nodes=nodes,
        max_endpoints_per_slice=max_endpoints_per_slice,
        endpoint_updates_batch_period=batch_period,
        endpointslice_updates_batch_period=batch_period,
        events=events,
    )


def _settle(cluster: Any) -> float:
    """Run until nothing is pending, then idle one virtual second, so that the measured
    window (``since`` is inclusive) starts strictly after the last settling write."""
    cluster.run()
    cluster.run(until=cluster.now + 1.0)
    return float(cluster.now)


def _count(name: str, value: Any, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise InvalidOption(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidOption(f"{name} must be True or False, got {value!r:.80}")
    return value


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
        raise InvalidOption(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def rolling_update(
    *,
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    events: bool = True,
) -> ChurnReport:
    """A rolling update (``kubectl set image``) of a ``pods``-replica Deployment behind one
    Service on ``nodes`` nodes, after it has settled; the report covers the rollout only.
    ``batch_period`` sets both the Endpoints and the EndpointSlice controllers' batch periods.
    This is :func:`kubesim.scenarios.rolling_update_churn`, the job ``kubesim`` runs (on the
    lean engine, :mod:`kubesim.lean`, which writes the full model's change log).
    ``events=False``: the cluster writes no Events (faster; the Endpoints and EndpointSlice
    figures are the same but for resourceVersion digits), as in every built-in scenario.
    Cost: one simulation, ``O(pods)`` writes."""
    from kubesim.scenarios import rolling_update_churn

    _flag("events", events)
    _, report = rolling_update_churn(
        pods=pods, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice, batch_period=batch_period, seed=seed,
        events=events,
    )
    return report


def scale_up(
    *,
    pods: int = 200,
    initial: int = 0,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    events: bool = True,
) -> ChurnReport:
    """``kubectl scale`` of a Deployment behind one Service from ``initial`` replicas to
    ``pods``, on ``nodes`` nodes, one second after the initial replicas settled; the report
    covers the scale-up until everything settles.
    ``0 <= initial <= pods`` (:class:`~kubesim.errors.InvalidOption` otherwise)."""
    from kubesim import scenarios

    _count("pods", pods)
    _count("initial", initial)
    _flag("events", events)
    if initial > pods:
        raise InvalidOption(f"initial={initial!r} must not exceed pods={pods!r} in a scale-up")
    cluster = _cluster(nodes, max_endpoints_per_slice, batch_period, seed, events)
    scenarios.deploy(cluster, "web", replicas=initial)
    start = _settle(cluster)
    scenarios.scale(cluster, "web", pods)
    cluster.run()
    return cast(ChurnReport, cluster.churn(since=start))


def readiness_flap(
    *,
    pods: int = 200,
    flapping: int = 1,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    mean_up: float = 30.0,
    mean_down: float = 30.0,
    duration: float = 300.0,
    seed: int = 0,
    events: bool = True,
) -> ChurnReport:
    """Readiness flapping: a ``pods``-replica Deployment whose containers have an HTTP
    readiness probe (every 5 s, failure threshold 3) settles; one second later the
    applications of the first ``flapping`` pods (by name) start to flap — healthy and failing
    stretches of exponential lengths with means ``mean_up`` and ``mean_down`` seconds
    (:func:`kubesim.scenarios.flap`, seeded from the cluster) — for ``duration`` seconds,
    after which they stay healthy. A failing stretch shorter than three probe periods (15 s)
    goes unnoticed, as in a real cluster; the default mean failing stretch, 30 s, is mostly
    noticed (with 10 s the default point wrote nothing). The report covers everything from the start of flapping
    until the cluster settles."""
    from kubesim import scenarios

    _count("pods", pods)
    _count("flapping", flapping)
    if flapping > pods:
        raise InvalidOption(f"flapping={flapping!r} must not exceed pods={pods!r}")
    up, down, length = _seconds("mean_up", mean_up), _seconds("mean_down", mean_down), _seconds("duration", duration)
    _flag("events", events)
    cluster = _cluster(nodes, max_endpoints_per_slice, batch_period, seed, events)
    scenarios.deploy(cluster, "web", replicas=pods, readiness_probe=True)
    start = _settle(cluster)
    for pod in cluster.list("Pod", selector="app=web")[:flapping]:
        scenarios.flap(cluster, pod.metadata.name, mean_up=up, mean_down=down, until=length)
    cluster.run(until=start + length)
    cluster.run()
    return cast(ChurnReport, cluster.churn(since=start))


#: The built-in scenarios, by name.
SCENARIOS: Mapping[str, Callable[..., ChurnReport]] = MappingProxyType(
    {"rolling_update": rolling_update, "scale_up": scale_up, "readiness_flap": readiness_flap}
)


# ---------------------------------------------------------------------------- the result


def _figures(report: ChurnReport, kinds: Sequence[str]) -> dict[str, Any]:
    """One row's figures: ``O(len(kinds) × distinct sizes and latencies)``."""
    out: dict[str, Any] = {}
    for kind in kinds:
        totals = report.kind(kind)
        for name in _TOTALS:
            out[f"{kind}.{name}"] = getattr(totals, name)
        for prefix, dists in (("size", report.sizes), ("latency", report.latency)):
            dist = dists.get(kind, Distribution())
            for q in _QUANTILES:
                out[f"{kind}.{prefix}_{q}"] = getattr(dist, q)
        floor = report.floor.get(kind)
        out[f"{kind}.floor_ratio"] = None if floor is None else floor.ratio
    return out


def _run_point(scenario: Scenario, params: dict[str, Any], kinds: tuple[str, ...]) -> dict[str, Any]:
    """Run one point (in whichever worker) and return its row as plain, picklable data."""
    fn = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    report = fn(**params)
    if not isinstance(report, ChurnReport):
        raise InvalidOption(
            f"scenario {_scenario_name(scenario)} returned {type(report).__name__}, expected a ChurnReport"
        )
    return {**params, **_figures(report, kinds)}


def _scenario_name(scenario: Scenario) -> str:
    if isinstance(scenario, str):
        return scenario
    module = getattr(scenario, "__module__", None)
    name = getattr(scenario, "__qualname__", None) or getattr(scenario, "__name__", None) or repr(scenario)
    return f"{module}.{name}" if module else str(name)


def _cell(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@attrs.frozen
class SweepResult:
    """The rows of a :func:`sweep`, one per point, in grid order.

    ``scenario`` is the scenario's name (``"rolling_update"``, or ``module.qualname`` of a
    callable); ``params`` the parameter columns (grid order, then ``seed``); ``kinds`` the
    kinds whose :data:`FIGURES` each row carries; ``rows`` a tuple of plain dicts (treat them
    as read-only) mapping :attr:`columns` to values.

    Views: ``print(result)`` (a compact table), :meth:`to_json`, :meth:`to_dataframe`,
    :meth:`plot`.
    """

    scenario: str
    params: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    #: how the rows were made: kubesim version, grid, seeds, kinds (written into every file)
    metadata: Mapping[str, Any] = attrs.field(factory=dict, eq=False)

    @property
    def columns(self) -> tuple[str, ...]:
        """Parameter columns, then ``"<Kind>.<figure>"`` for each kind and figure. ``O(columns)``."""
        return self.params + tuple(f"{k}.{f}" for k in self.kinds for f in FIGURES)

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """Every row's value of ``name``, in row order. ``O(rows)``."""
        if name not in self.columns:
            raise InvalidOption(f"no column {name!r}; columns are {list(self.columns)}")
        return [row[name] for row in self.rows]

    # ------------------------------------------------------------------ plain data

    def to_dict(self) -> dict[str, Any]:
        """``{"scenario", "params", "kinds", "rows"}`` as plain data. ``O(rows × columns)``."""
        return {
            "scenario": self.scenario,
            "params": list(self.params),
            "kinds": list(self.kinds),
            "rows": [dict(row) for row in self.rows],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON with sorted keys (parameter values that JSON cannot hold are
        written as their ``repr``): the same sweep gives the same text. ``O(rows × columns)``."""
        return json.dumps(
            self.to_dict(), sort_keys=True, indent=indent, separators=None if indent else (",", ":"), default=repr
        )

    def to_dataframe(self) -> pandas.DataFrame:
        """One DataFrame row per point, with :attr:`columns` as columns. Needs pandas
        (``pip install kubesim[notebook]``). ``O(rows × columns)``."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("SweepResult.to_dataframe() needs pandas: pip install kubesim[notebook]") from exc
        return pd.DataFrame([dict(row) for row in self.rows], columns=list(self.columns))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the rows with the run's :attr:`metadata` (kubesim version, grid, seeds,
        kinds): ``.csv`` (a ``# kubesim-sweep: {json}`` first line, then a header and one line
        per row), ``.json`` (:meth:`to_dict` plus ``"metadata"``) or ``.parquet`` (needs
        pyarrow; metadata in the schema). ``O(rows × columns)``."""
        name = os.fspath(path)
        meta = json.dumps(dict(self.metadata), sort_keys=True, default=repr)
        suffix = name.lower().rsplit(".", 1)[-1]
        if suffix == "json":
            with open(name, "w", encoding="utf-8") as f:
                f.write(json.dumps({**self.to_dict(), "metadata": dict(self.metadata)}, sort_keys=True, indent=1,
                                   default=repr) + "\n")
        elif suffix == "csv":
            import csv

            with open(name, "w", encoding="utf-8", newline="") as f:
                f.write(f"# kubesim-sweep: {meta}\n")
                w = csv.writer(f)
                w.writerow(self.columns)
                for row in self.rows:
                    w.writerow(["" if row[c] is None else row[c] for c in self.columns])
        elif suffix == "parquet":
            try:
                import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
                import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
            except ImportError as exc:
                raise ImportError("SweepResult.save() of a .parquet file needs pyarrow: pip install kubesim[notebook]") from exc
            table = pa.table({c: [row[c] for row in self.rows] for c in self.columns}, metadata={"kubesim": meta})
            pq.write_table(table, name)
        else:
            raise InvalidOption(f"save: unknown file type {name!r}: use .csv, .json or .parquet")

    def _repr_html_(self) -> str:
        import html as _html

        esc = _html.escape
        head = "".join(f"<th>{esc(p)}</th>" for p in self.params) + "".join(
            f"<th>{esc(k)} {esc(title)}</th>" for k in self.kinds for _, title, _ in _TABLE
        )
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(_cell(row[p]))}</td>" for p in self.params)
            + "".join(f"<td style='text-align:right'>{esc(fmt(row[f'{k}.{n}']))}</td>" for k in self.kinds
                      for n, _, fmt in _TABLE)
            + "</tr>"
            for row in self.rows
        )
        n = len(self.rows)
        return (
            f"<p><b>SweepResult</b> {esc(self.scenario)}: {n} point{'' if n == 1 else 's'}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    # ------------------------------------------------------------------ views

    def plot(
        self, x: str, y: str, hue: str | None = None, *, ax: matplotlib.axes.Axes | None = None
    ) -> matplotlib.figure.Figure:
        """A line of ``y`` against ``x`` for each value of the column ``hue``, in the order the
        values first appear. ``y`` is a column (``"EndpointSlice.bytes_delivered"``) or a bare
        figure (``"bytes_delivered"``), which draws one line per kind — Endpoints vs
        EndpointSlices. Rows that share ``x`` (and ``hue``) — other parameters, seeds — are
        averaged; ``None`` values are skipped. Draws into ``ax`` if given, else a new
        :class:`kubesim.plotting.InlineFigure` (a matplotlib Figure that shows itself as a
        cell's value in Jupyter, no ``%matplotlib`` magic); returns the figure. Byte figures
        are labelled KB / MB / GB, latencies in seconds. Needs matplotlib (``pip install kubesim[notebook]``).
        ``O(rows)``."""
        try:
            from matplotlib.figure import Figure  # noqa: F401 - the optional dependency, checked first
        except ImportError as exc:
            raise ImportError("SweepResult.plot() needs matplotlib: pip install kubesim[notebook]") from exc
        columns = self.columns
        for label, name in (("x", x), ("hue", hue)):
            if name is not None and name not in columns:
                raise InvalidOption(f"{label}={name!r} is not a column; columns are {list(columns)}")
        if y in columns:
            ys = [(y, y)]
        elif y in FIGURES:
            ys = [(f"{k}.{y}", k) for k in self.kinds]
        else:
            raise InvalidOption(f"y={y!r} is neither a column nor one of the figures {list(FIGURES)}")
        hues: list[Any] = [None]
        if hue is not None:
            hues = list(dict.fromkeys(row[hue] for row in self.rows))
        from kubesim.plotting import bytes_axis, new_figure

        if ax is None:
            fig = new_figure(figsize=(7, 4.5), layout="constrained")
            ax = fig.subplots()
        else:
            fig = ax.get_figure()  # type: ignore[assignment]
        for column, kind_label in ys:
            for h in hues:
                sums: dict[Any, list[float]] = {}
                for row in self.rows:
                    value = row[column]
                    if (hue is not None and row[hue] != h) or value is None or row[x] is None:
                        continue
                    acc = sums.setdefault(row[x], [0.0, 0])
                    acc[0] += value
                    acc[1] += 1
                points = sorted(sums.items(), key=lambda item: item[0])
                parts = [kind_label] if len(ys) > 1 else []
                if hue is not None:
                    parts.append(f"{hue}={_cell(h)}")
                ax.plot(
                    [p[0] for p in points],
                    [s / n for _, (s, n) in points],
                    marker="o",
                    markersize=3,
                    label=", ".join(parts) or None,
                )
        figure = y.rsplit(".", 1)[-1]
        ax.set_xlabel(x)
        if figure.startswith("bytes_") or figure.endswith("_bytes") or figure.startswith("size_"):
            ax.set_ylabel(f"{y} (bytes)")
            bytes_axis(ax.yaxis)  # KB / MB / GB ticks, no 1e7 offset
        elif figure.startswith("latency_"):
            ax.set_ylabel(f"{y} (virtual seconds)")
        else:
            ax.set_ylabel(y)
        ax.set_title(f"{self.scenario}: {y} by {x}")
        if len(ys) > 1 or hue is not None:
            ax.legend()
        return fig

    def __str__(self) -> str:
        n = len(self.params)
        group = len(_TABLE)
        titles = list(self.params) + [title for _ in self.kinds for _, title, _ in _TABLE]
        body = [
            [_cell(row[p]) for p in self.params]
            + [fmt(row[f"{k}.{name}"]) for k in self.kinds for name, _, fmt in _TABLE]
            for row in self.rows
        ]
        widths = [max(len(t), *(len(r[i]) for r in body)) for i, t in enumerate(titles)]
        for g, kind in enumerate(self.kinds):  # a kind's name spans its group of columns
            first = n + g * group
            span = sum(widths[first:first + group]) + 2 * (group - 1)
            widths[first + group - 1] += max(0, len(kind) - span)

        def sep(i: int) -> str:
            if i == 0:
                return ""
            return " │ " if i >= n and (i - n) % group == 0 else "  "

        top = "".join(sep(i) + " " * widths[i] for i in range(n))
        for g, kind in enumerate(self.kinds):
            first = n + g * group
            top += sep(first) + kind.ljust(sum(widths[first:first + group]) + 2 * (group - 1))
        lines = [top.rstrip()]
        for cells in [titles, *body]:
            lines.append("".join(sep(i) + c.rjust(widths[i]) for i, c in enumerate(cells)).rstrip())
        lines.append(f"{self.scenario}: {len(self.rows)} point{'' if len(self.rows) == 1 else 's'}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<SweepResult scenario={self.scenario!r} params={list(self.params)} rows={len(self.rows)}>"


# ---------------------------------------------------------------------------- the sweep


def _accepted_params(fn: Callable[..., Any]) -> tuple[set[str], bool] | None:
    """The keyword names ``fn`` accepts and whether it takes ``**kwargs``; ``None`` when
    Python cannot tell (a callable without a signature)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    names = set()
    var_kw = False
    for p in sig.parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.add(p.name)
    return names, var_kw


def _values(label: str, values: Any) -> tuple[Any, ...]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (Sequence, range)):
        raise InvalidOption(
            f"{label} must be a list of values, got {type(values).__name__} {values!r}"
            + ("; a set has no order, use a list" if isinstance(values, (set, frozenset)) else "")
        )
    out = tuple(values)
    if not out:
        raise InvalidOption(f"{label} must not be empty: a sweep needs at least one value per parameter")
    return out


def _points(
    scenario: Scenario, grid: Mapping[str, Any], seeds: Sequence[int] | None
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    if not isinstance(grid, Mapping):
        raise InvalidOption(f"grid must be a mapping of parameter name to a list of values, got {type(grid).__name__}")
    axes: list[tuple[str, tuple[Any, ...]]] = []
    for name in grid:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidOption(f"grid parameter names must be Python identifiers, got {name!r}")
        axes.append((name, _values(f"grid[{name!r}]", grid[name])))
    if seeds is not None:
        if "seed" in grid:
            raise InvalidOption('give the seeds either as seeds=[...] or as grid["seed"], not both')
        seed_values = _values("seeds", seeds)
        for s in seed_values:
            if not isinstance(s, int) or isinstance(s, bool):
                raise InvalidOption(f"seeds must be integers, got {s!r}")
        axes.append(("seed", seed_values))
    fn = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    accepted = _accepted_params(fn)
    if accepted is not None:
        names, var_kw = accepted
        unknown = [name for name, _ in axes if name not in names]
        if unknown and not var_kw:
            raise InvalidOption(
                f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                f"for scenario {_scenario_name(scenario)}; it accepts {sorted(names)}"
            )
    params = tuple(name for name, _ in axes)
    points = [dict(zip(params, combo, strict=True)) for combo in itertools.product(*(values for _, values in axes))]
    return params, points


def _executor_of(executor: Any, jobs: int) -> tuple[concurrent.futures.Executor | None, bool]:
    """The pool that ``executor`` names for ``jobs`` independent jobs, and whether the caller
    owns it (must shut it down): ``None`` gives a new
    :class:`~concurrent.futures.ProcessPoolExecutor` of ``min(os.cpu_count(), jobs)`` workers
    (owned); ``"serial"`` gives ``None`` (run in this process); a
    :class:`concurrent.futures.Executor` is used as is, a ``dask.distributed.Client`` through
    its ``get_executor()`` (neither owned). Anything else raises
    :class:`~kubesim.errors.InvalidOption` naming ``executor``, before any process starts.
    Shared by :func:`sweep` and :mod:`kubesim.reproduce`. ``O(1)``."""
    if executor is None:
        return concurrent.futures.ProcessPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, jobs))), True
    if isinstance(executor, str):
        if executor != "serial":
            raise InvalidOption(f'executor must be None, "serial" or a concurrent.futures.Executor, got {executor!r}')
        return None, False
    if isinstance(executor, concurrent.futures.Executor):
        return executor, False
    if callable(getattr(executor, "get_executor", None)):  # a dask.distributed.Client
        return executor.get_executor(), False
    raise InvalidOption(
        f'executor must be None, "serial" or a concurrent.futures.Executor, got {type(executor).__name__}'
    )


def _results(
    pool: concurrent.futures.Executor | None,
    fn: Callable[..., Any],
    jobs: Sequence[tuple[Any, ...]],
    note: Callable[[int], str],
    done: Callable[[], object] | None = None,
    *,
    owned: bool = False,
) -> list[Any]:
    """``[fn(*job) for job in jobs]``, in order: in this process if ``pool`` is ``None``, else
    submitted to ``pool`` all at once. ``done()`` is called as each job ends (a progress bar).

    If a job raises, its exception propagates as soon as it is raised, with the note
    ``note(i)`` (Python 3.11+) naming job ``i`` (of several jobs found failed together, the
    first in order), and the jobs not yet started are cancelled: a failing job does not wait
    for a long one still running. ``owned``: the pool is the caller's to drop, and is shut
    down here (waiting for its running jobs only when all succeeded). Shared by
    :func:`sweep` and :mod:`kubesim.reproduce`. ``O(jobs)`` calls."""
    if pool is None:
        out: list[Any] = []
        for i, job in enumerate(jobs):
            try:
                out.append(fn(*job))
            except Exception as exc:
                _add_note(exc, note(i))
                raise
            if done is not None:
                done()
        return out
    futures = [pool.submit(fn, *job) for job in jobs]
    failed = True
    try:
        if done is not None:
            for future in futures:
                future.add_done_callback(lambda _f: done())
        pending = set(futures)
        while pending:
            finished, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_EXCEPTION)
            for i, future in enumerate(futures):
                error = future.exception() if future in finished else None
                if error is not None:
                    _add_note(error, note(i))
                    raise error
        failed = False
        return [future.result() for future in futures]
    finally:
        for future in futures:
            future.cancel()
        if owned:
            pool.shutdown(wait=not failed, cancel_futures=True)


def _add_note(exc: BaseException, text: str) -> None:
    """``exc.add_note(text)`` where Python has it (3.11+)."""
    add_note = getattr(exc, "add_note", None)
    if add_note is not None:
        add_note(text)


def sweep(
    scenario: Scenario,
    grid: Mapping[str, Sequence[Any]],
    *,
    executor: concurrent.futures.Executor | str | None = None,
    seeds: Sequence[int] | None = None,
    kinds: Sequence[str] = ENDPOINT_KINDS,
    progress: bool = False,
) -> SweepResult:
    """Run ``scenario`` at every point of ``grid`` and return the rows in grid order.

    ``progress=True`` shows a tqdm bar of the points done (terminal or notebook), with a
    percentage and an ETA; it never changes the rows.

    ``scenario`` is the name of a built-in (:data:`SCENARIOS`) or a callable
    ``scenario(**params) -> ChurnReport``; run in worker processes it must be picklable (a
    module-level function, or a :func:`functools.partial` of one). ``grid`` maps each
    parameter to a non-empty list of values; the points are their cartesian product with the
    first parameter outermost and the last varying fastest (as :func:`itertools.product`),
    then each point once per value of ``seeds`` (passed as ``seed``, innermost) when given.
    An empty grid is one point with the scenario's defaults.

    ``executor`` runs the points:

    * ``None`` (default): a :class:`~concurrent.futures.ProcessPoolExecutor` of at most
      ``os.cpu_count()`` workers, started and shut down here;
    * ``"serial"``: one after another in this process (easiest to debug);
    * any :class:`concurrent.futures.Executor` (left running: it is the caller's) — a
      thread or process pool, or a Dask cluster's ``client.get_executor()``; a
      ``dask.distributed.Client`` itself is accepted too and used through its executor.

    Each point builds its own seeded cluster, so the rows are identical whichever executor ran
    them. ``kinds`` are the kinds whose :data:`FIGURES` each row carries (any kubectl
    spelling). If a point raises, the points not yet started are cancelled and its exception
    propagates as soon as it is raised (not after the points before it), with a note naming
    the point (Python 3.11+); a pool made here is then shut down without waiting for the
    points still running.

    Bad input raises :class:`~kubesim.errors.InvalidOption` before anything runs: an unknown
    scenario name, a parameter the scenario does not accept, an empty or unordered list of
    values, ``seed`` in both ``grid`` and ``seeds``, an unpicklable scenario for a process
    pool, or an unknown executor.

    Cost: ``O(points)`` scenario runs, spread over the executor's workers, plus
    ``O(points × columns)`` to gather the rows.
    """
    if isinstance(scenario, str):
        if scenario not in SCENARIOS:
            raise InvalidOption(f"unknown scenario {scenario!r}; built-in scenarios are {sorted(SCENARIOS)}")
    elif not callable(scenario):
        raise InvalidOption(f"scenario must be a callable or one of {sorted(SCENARIOS)}, got {scenario!r}")
    if isinstance(kinds, str):
        raise InvalidOption(f"kinds must be a list of kinds, got {kinds!r}")
    kind_names = tuple(dict.fromkeys(resolve_kind(k) for k in kinds))
    params, points = _points(scenario, grid, seeds)
    name = _scenario_name(scenario)

    pool, owned = _executor_of(executor, len(points))
    if isinstance(pool, concurrent.futures.ProcessPoolExecutor):
        try:
            pickle.dumps((scenario, points))
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            if owned:
                pool.shutdown()
            raise InvalidOption(
                f"scenario {name} or its parameters cannot be sent to worker processes ({exc}); "
                'define the scenario at module level, or use executor="serial" or a ThreadPoolExecutor'
            ) from None

    bar = _points_bar(len(points), name) if progress else None
    try:
        rows = _results(
            pool, _run_point, [(scenario, point, kind_names) for point in points],
            lambda i: f"in sweep point {name}({', '.join(f'{k}={v!r}' for k, v in points[i].items())})",
            None if bar is None else lambda: bar.update(1),
            owned=owned,
        )
    finally:
        if bar is not None:
            bar.close()
    from kubesim import __version__

    metadata = {
        "kubesim": __version__,
        "scenario": name,
        "grid": {k: list(v) for k, v in grid.items()},
        "seeds": None if seeds is None else list(seeds),
        "kinds": list(kind_names),
    }
    return SweepResult(scenario=name, params=params, kinds=kind_names, rows=tuple(rows), metadata=metadata)


def _points_bar(total: int, name: str) -> Any:
    """A tqdm bar of sweep points (the notebook widget in Jupyter with ipywidgets)."""
    from kubesim.progress import _in_notebook

    bar_class: Any
    if _in_notebook():
        from tqdm.notebook import tqdm as bar_class
    else:
        from tqdm import tqdm as bar_class
    return bar_class(total=total, desc=f"sweep {name}", unit="point")
