"""Reproductions of the published Endpoints / EndpointSlice scale numbers.

Two reproductions, each printed as a table (or JSON) by :func:`main`:

``kep752``
    KEP-752's "Estimation" tables (``keps/sig-network/0752-endpointslices``): sample case 1
    (20,000 endpoints on 5,000 nodes) and sample case 2 (20 endpoints on 10 nodes), three
    scenarios (Service creation, a single endpoint update, a rolling update), three layouts
    (one Endpoints, 100 endpoints per slice, 1 endpoint per slice).
``blog2020``
    The 2020 Kubernetes blog "Scaling Kubernetes Networking With EndpointSlices": 5,000 pods on
    3,000 nodes, a 1.5 MB Endpoints, 4.5 GB per update, more than 22 TB per rollout; the
    EndpointSlice column the blog left out; the pod count at which the pre-1.22 uncapped
    Endpoints is refused by etcd; and KEP-1672's writes per terminating pod.

Every figure comes in three forms:

* **published** (``kep``/``blog``): the number as printed, text and numeric value;
* **idealised**: the publication's own assumptions, *computed* from ``P`` (pods), ``N`` (nodes,
  one kube-proxy watcher each), ``B`` (endpoints per slice) and a per-endpoint size (KEP-752:
  100 B, the blog: 300 B) — one write per replaced pod, every write delivered to all ``N``
  watchers, ``object size = max(endpoints × bytes per endpoint, floor)`` where the floor is the
  KEP's "~1 KB" smallest object (0 for the blog);
* **realistic**: kubesim's real controllers on a simulated cluster (a Deployment with a
  readiness probe and the default 25 % surge / 25 % unavailable rolling update), exact
  protobuf sizes (what etcd stores and kube-proxy receives), kube-proxy on every node. The
  Endpoints column runs the pre-1.22 *uncapped* Endpoints controller
  (``Cluster(endpoints_truncate=False)`` with a ``max_request_bytes`` large enough), because
  the current controller truncates at 1,000 addresses and could not hold 20,000.

Every case runs at full size by default, on the lean engine (:class:`kubesim.lean.LeanCluster`),
which writes the full model's change log record for record: every realistic figure is
``"measured"``. A ``scale`` below 1 runs a smaller cluster instead: ``P`` and ``N`` are
multiplied by ``scale`` and the measured figures are **extrapolated** to full size by the laws
of the idealised formulas (writes, object size per write and watchers each scaled by their own
factor; see :func:`extrapolation_factors`); both figures are then reported and labelled.

>>> idealised("create", "slices_100", "bytes_transmitted", pods=20_000, nodes=5_000)
10000000000
>>> idealised("rolling_update", "endpoints", "bytes_transmitted", pods=20_000, nodes=5_000)
200000000000000

Cost: the idealised figures are ``O(1)``; a realistic run costs one simulated rollout per
slice size, ``O(writes)`` on the lean engine.
"""

from __future__ import annotations

import json as _json
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from kubesim.errors import InvalidOption

__all__ = [
    "KEP_BYTES_PER_ENDPOINT",
    "KEP_SMALLEST_OBJECT_BYTES",
    "BLOG_BYTES_PER_ENDPOINT",
    "DEFAULT_KEP752_SCALE",
    "DEFAULT_BLOG2020_SCALE",
    "LAYOUTS",
    "SCENARIOS",
    "METRICS",
    "Case",
    "CASES",
    "BLOG_CASE",
    "Printed",
    "Realistic",
    "Row",
    "KEP752_PRINTED",
    "BLOG2020_PRINTED",
    "idealised",
    "scaled_size",
    "extrapolation_factors",
    "measure",
    "kep752_rows",
    "blog2020_rows",
    "endpoints_request_too_large",
    "terminating_writes",
    "rollout_writes_per_pod",
    "kep752",
    "blog2020",
    "main",
]

#: KEP-752's implied size of one endpoint: "20k * const = ~2.0 MB" and "100 * const = ~10 KB".
KEP_BYTES_PER_ENDPOINT = 100
#: KEP-752's smallest object, "< ~1KB" (a slice of one endpoint), used in its formulas as 1 KB.
KEP_SMALLEST_OBJECT_BYTES = 1000
#: The blog's implied size of one endpoint: 1.5 MB / 5,000 endpoints.
BLOG_BYTES_PER_ENDPOINT = 300

#: Default ``scale`` of the realistic run of KEP-752 case 1: 0.01 (200 pods on 50 nodes, a few
#: seconds), extrapolated to full size and labelled so. ``scale=1`` measures case 1 at full size
#: (20,000 pods on 5,000 nodes): every realistic figure measured, but about 4 CPU minutes
#: today (``benchmarks/results/session6.txt``; the JSON of such a run is committed as
#: ``benchmarks/results/reproduce_kep752_full.json``). Case 2 always runs at full size.
DEFAULT_KEP752_SCALE = 0.01
#: Default ``scale`` of the blog's realistic run: full size (5,000 pods on 3,000 nodes).
DEFAULT_BLOG2020_SCALE = 1.0

LAYOUTS = ("endpoints", "slices_100", "slices_1")
SCENARIOS = ("create", "single_update", "rolling_update")
METRICS = ("writes", "object_bytes", "watch_events", "bytes_transmitted")

_LAYOUT_TITLES = {"endpoints": "Endpoints", "slices_100": "100 / slice", "slices_1": "1 / slice"}
_SCENARIO_TITLES = {
    "create": "Service creation",
    "single_update": "Single endpoint update",
    "rolling_update": "Rolling update",
}
_METRIC_TITLES = {
    "writes": "# writes",
    "object_bytes": "object size",
    "watch_events": "watch events",
    "bytes_transmitted": "bytes transmitted",
}
_BYTE_METRICS = ("object_bytes", "bytes_transmitted")
#: a ``max_request_bytes`` large enough for any uncapped Endpoints kubesim will simulate
_NO_LIMIT = 1 << 40


def per_slice(layout: str) -> int | None:
    """Endpoints per object of ``layout``: ``None`` (unbounded) for one Endpoints, else ``B``."""
    if layout == "endpoints":
        return None
    if layout == "slices_100":
        return 100
    if layout == "slices_1":
        return 1
    raise InvalidOption(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")


# ---------------------------------------------------------------------------- cases


@attrs.frozen
class Case:
    """One published sample: ``pods`` (P) behind one Service on ``nodes`` (N) nodes, its
    per-endpoint size and smallest-object floor, and the layouts it compares."""

    name: str
    title: str
    pods: int
    nodes: int
    bytes_per_endpoint: int
    smallest_object_bytes: int
    layouts: tuple[str, ...]


CASES: Mapping[str, Case] = {
    "case1": Case("case1", "KEP-752 sample case 1: 20,000 endpoints, 5,000 nodes", 20_000, 5_000,
                  KEP_BYTES_PER_ENDPOINT, KEP_SMALLEST_OBJECT_BYTES, LAYOUTS),
    "case2": Case("case2", "KEP-752 sample case 2: 20 endpoints, 10 nodes", 20, 10,
                  KEP_BYTES_PER_ENDPOINT, KEP_SMALLEST_OBJECT_BYTES, LAYOUTS),
}
BLOG_CASE = Case("blog2020", "Blog 2020: 5,000 pods, 3,000 nodes", 5_000, 3_000,
                 BLOG_BYTES_PER_ENDPOINT, 0, ("endpoints", "slices_100"))


@attrs.frozen
class Printed:
    """A figure as the publication prints it: ``text`` verbatim, ``value`` its number."""

    text: str
    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "value": self.value}


def _p(text: str, value: float) -> Printed:
    return Printed(text, value)


def _kep_tables() -> dict[tuple[str, str, str, str], Printed]:
    """KEP-752's printed values, copied from the KEP (keyed by case, scenario, layout, metric)."""
    t: dict[tuple[str, str, str, str], Printed] = {}
    ep, s100, s1 = LAYOUTS

    def put(case: str, scenario: str, metric: str, a: Printed, b: Printed, c: Printed) -> None:
        for layout, v in ((ep, a), (s100, b), (s1, c)):
            t[(case, scenario, layout, metric)] = v

    # case 1
    size1 = (_p("~2.0 MB", 2.0e6), _p("~10 KB", 10e3), _p("< ~1KB", 1e3))
    for sc in SCENARIOS:
        put("case1", sc, "object_bytes", *size1)
    put("case1", "create", "writes", _p("1", 1), _p("200", 200), _p("20000", 20_000))
    put("case1", "create", "watch_events", _p("5000", 5_000), _p("1,000,000", 1e6), _p("100,000,000", 1e8))
    put("case1", "create", "bytes_transmitted", _p("10GB", 10e9), _p("10GB", 10e9), _p("~10GB", 10e9))
    put("case1", "single_update", "writes", _p("1", 1), _p("1", 1), _p("1", 1))
    put("case1", "single_update", "watch_events", _p("5000", 5_000), _p("5000", 5_000), _p("5000", 5_000))
    put("case1", "single_update", "bytes_transmitted", _p("10GB", 10e9), _p("50MB", 50e6), _p("~5MB", 5e6))
    put("case1", "rolling_update", "writes", _p("20k", 20_000), _p("20k", 20_000), _p("20k", 20_000))
    put("case1", "rolling_update", "watch_events", *[_p("5000 * 20k", 1e8)] * 3)
    put("case1", "rolling_update", "bytes_transmitted", _p("200 TB", 200e12), _p("1 TB", 1e12), _p("~100 GB", 100e9))
    # case 2: "every object is about 1 KB"
    for sc in SCENARIOS:
        put("case2", sc, "object_bytes", *[_p("~1KB", 1e3)] * 3)
    put("case2", "create", "writes", _p("1", 1), _p("1", 1), _p("20", 20))
    put("case2", "create", "watch_events", _p("10", 10), _p("10", 10), _p("200", 200))
    put("case2", "create", "bytes_transmitted", _p("10KB", 10e3), _p("10KB", 10e3), _p("200KB", 200e3))
    put("case2", "single_update", "writes", *[_p("1", 1)] * 3)
    # the KEP's typo: O(N) with N = 10, printed as 1 (see docs/reproductions.md)
    put("case2", "single_update", "watch_events", *[_p("1", 1)] * 3)
    put("case2", "single_update", "bytes_transmitted", *[_p("10KB", 10e3)] * 3)
    put("case2", "rolling_update", "writes", *[_p("20", 20)] * 3)
    put("case2", "rolling_update", "watch_events", *[_p("10 * 20", 200)] * 3)
    put("case2", "rolling_update", "bytes_transmitted", *[_p("200KB", 200e3)] * 3)
    return t


#: KEP-752's printed figures by ``(case, scenario, layout, metric)``.
KEP752_PRINTED: Mapping[tuple[str, str, str, str], Printed] = _kep_tables()

#: The blog's printed figures by ``(scenario, layout, metric)`` (it gives Endpoints only).
BLOG2020_PRINTED: Mapping[tuple[str, str, str], Printed] = {
    ("create", "endpoints", "object_bytes"): _p("1.5MB", 1.5e6),
    ("single_update", "endpoints", "bytes_transmitted"): _p("4.5GB", 4.5e9),
    ("rolling_update", "endpoints", "writes"): _p("5,000", 5_000),
    ("rolling_update", "endpoints", "bytes_transmitted"): _p("more than 22TB", 22e12),
}


# ---------------------------------------------------------------------------- idealised


def _check_scenario_metric(scenario: str, metric: str) -> None:
    if scenario not in SCENARIOS:
        raise InvalidOption(f"scenario must be one of {list(SCENARIOS)}, got {scenario!r}")
    if metric not in METRICS:
        raise InvalidOption(f"metric must be one of {list(METRICS)}, got {metric!r}")


def idealised(
    scenario: str,
    layout: str,
    metric: str,
    *,
    pods: int,
    nodes: int,
    bytes_per_endpoint: int = KEP_BYTES_PER_ENDPOINT,
    smallest_object_bytes: int = KEP_SMALLEST_OBJECT_BYTES,
) -> int:
    """A figure under the KEP's assumptions, computed from ``P``, ``N``, ``B``. ``O(1)``.

    * object size ``s = max(min(B, P) × bytes_per_endpoint, smallest_object_bytes)``;
    * writes: creation 1 (Endpoints) or ``ceil(P / B)``; a single update 1; a rolling update
      ``P`` (one write per replaced pod);
    * watch events ``= writes × N``; bytes transmitted ``= watch events × s``.

    >>> idealised("single_update", "slices_1", "bytes_transmitted", pods=20_000, nodes=5_000)
    5000000
    """
    _check_scenario_metric(scenario, metric)
    b = per_slice(layout)
    per_object = pods if b is None else min(b, pods)
    size = max(per_object * bytes_per_endpoint, smallest_object_bytes)
    if metric == "object_bytes":
        return size
    if scenario == "create":
        writes = 1 if b is None else math.ceil(pods / b)
    elif scenario == "single_update":
        writes = 1
    else:
        writes = pods
    if metric == "writes":
        return writes
    if metric == "watch_events":
        return writes * nodes
    return writes * nodes * size


def scaled_size(case: Case, scale: float) -> tuple[int, int]:
    """``(P', N')``: the case's pods and nodes times ``scale``, rounded, at least 1. ``O(1)``."""
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not 0 < scale <= 1:
        raise InvalidOption(f"scale must be a number in (0, 1], got {scale!r}")
    return max(1, round(case.pods * scale)), max(1, round(case.nodes * scale))


def extrapolation_factors(
    scenario: str, layout: str, *, pods: int, nodes: int, sim_pods: int, sim_nodes: int
) -> dict[str, float]:
    """How each metric measured at ``(sim_pods, sim_nodes)`` grows to ``(pods, nodes)``.

    * writes: a creation writes ``ceil(P / B)`` objects (1 Endpoints); a single update 1; a
      rolling update ``∝ P``;
    * object size ``∝`` endpoints per object, ``min(B, P)`` (``P`` for Endpoints);
    * watch events: writes × ``N / N'`` (one kube-proxy per node);
    * bytes transmitted: watch events × object size.

    The object-size law ignores the object's fixed header (metadata, ports: about 150–250 B),
    which makes an extrapolated Endpoints a little too large (under 1 % from 200 pods). ``O(1)``.
    """
    _check_scenario_metric(scenario, "writes")
    b = per_slice(layout)
    if scenario == "create":
        w = 1.0 if b is None else math.ceil(pods / b) / math.ceil(sim_pods / b)
    elif scenario == "single_update":
        w = 1.0
    else:
        w = pods / sim_pods
    o = pods / sim_pods if b is None else min(b, pods) / min(b, sim_pods)
    n = nodes / sim_nodes
    return {"writes": w, "object_bytes": o, "watch_events": w * n, "bytes_transmitted": w * n * o}


# ---------------------------------------------------------------------------- realistic


@attrs.frozen
class Realistic:
    """A realistic figure: ``measured`` on a cluster of ``pods`` pods and ``nodes`` nodes
    (``scale`` of the published size) and ``full_size``, which is the measurement itself when
    ``scale == 1`` and otherwise an extrapolation (``full_size_is``)."""

    measured: int
    pods: int
    nodes: int
    scale: float
    full_size: float
    full_size_is: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Row:
    """One row of a reproduction: ``published`` is ``None`` where the source gives no figure."""

    case: str
    scenario: str
    layout: str
    metric: str
    published: Printed | None
    idealised: int
    realistic: Realistic

    def to_dict(self, published_key: str = "kep") -> dict[str, Any]:
        return {
            "case": self.case,
            "scenario": self.scenario,
            "layout": self.layout,
            "metric": self.metric,
            published_key: None if self.published is None else self.published.to_dict(),
            "idealised": self.idealised,
            "realistic": self.realistic.to_dict(),
        }


def _split_manifests(text: str) -> tuple[str, str]:
    deployment, service = text.split("\n---\n")
    return deployment, service


def _kind_totals(report: Any, layout: str) -> dict[str, int]:
    kind = "Endpoints" if layout == "endpoints" else "EndpointSlice"
    k = report.by_kind.get(kind)
    if k is None:
        return {m: 0 for m in METRICS}
    return {
        "writes": k.writes,
        "object_bytes": k.max_object_bytes,
        "watch_events": k.watch_events,
        "bytes_transmitted": k.bytes_delivered,
    }


def _window(cluster: Any, start: int) -> Any:
    """The churn report of the writes from change-log position ``start`` on (a window by
    sequence, not time: writes at the same virtual instant as the previous step's last one
    would otherwise leak in), folded over the log's columns (``from_seq``), which builds no
    :class:`~kubesim.changelog.ChangeEvent`. The writes before the window are read for each
    object's previous state (as ``cluster.measure()`` does), so an object that leaves a
    watcher's selector inside the window is charged its DELETED; the reproductions' workloads
    change no such label, so their figures are those of a fold over the window's writes alone
    (compared at small scales, and at full size against the committed JSON). ``O(writes)``,
    cheaply per write before the window."""
    from kubesim import report

    changes = cluster.changes
    first = changes[start].seq if start < len(changes) else (changes[-1].seq + 1 if len(changes) else 0)
    return report.churn(changes, groups=report.default_groups(len(cluster.pod_ranges)), from_seq=first)


def _new_cluster(
    *, pods: int, nodes: int, b: int, with_endpoints: bool, seed: int, lean: bool = False, events: bool = True
) -> Any:
    import kubesim
    from kubesim.cluster import DEFAULT_CONTROLLERS

    controllers = [c for c in DEFAULT_CONTROLLERS if with_endpoints or c not in ("endpoint", "endpointslicemirroring")]
    options: dict[str, Any] = {
        "seed": seed,
        "nodes": nodes,
        "max_endpoints_per_slice": b,
        "endpoints_truncate": False,
        "max_request_bytes": _NO_LIMIT,
        "controllers": controllers,
        "events": events,
    }
    if lean:
        from kubesim.lean import LeanCluster

        return LeanCluster(**options)
    return kubesim.Cluster(engine="full", **options)


def _layout_runs(layouts: Sequence[str]) -> list[tuple[int, tuple[str, ...]]]:
    """The clusters :func:`measure` runs for ``layouts``: ``(max endpoints per slice, layouts
    measured on it)``, 100 first."""
    for layout in layouts:
        per_slice(layout)
    runs: list[tuple[int, tuple[str, ...]]] = []
    hundred = tuple(x for x in layouts if x in ("endpoints", "slices_100"))
    if hundred:
        runs.append((100, hundred))
    if "slices_1" in layouts:
        runs.append((1, ("slices_1",)))
    return runs


def _measure_run(
    pods: int, nodes: int, b: int, wanted: tuple[str, ...], seed: int, engine: str, events: bool
) -> dict[tuple[str, str], dict[str, int]]:
    """One cluster of :func:`measure`: the three scenarios at ``b`` endpoints per slice, with the
    figures of ``wanted``. A module-level function, so that a process pool can run it."""
    from kubesim import scenarios

    cluster = _new_cluster(pods=pods, nodes=nodes, b=b, with_endpoints="endpoints" in wanted, seed=seed,
                           lean=engine == "lean", events=events)
    deployment, service = _split_manifests(scenarios.web_manifests("web", replicas=pods, readiness_probe=True))
    cluster.apply_yaml(deployment)
    cluster.run()
    mark = len(cluster.changes)
    cluster.apply_yaml(service)
    cluster.run()
    create = _window(cluster, mark)
    t1 = cluster.now
    mark = len(cluster.changes)
    scenarios.fail_readiness(cluster, cluster.list("Pod")[0].metadata.name, 60.0)
    cluster.run(until=t1 + 40.0)
    single = _window(cluster, mark)
    cluster.run()
    mark = len(cluster.changes)
    scenarios.set_image(cluster, "web", "nginx:1.26")
    cluster.run()
    rolling = _window(cluster, mark)
    out: dict[tuple[str, str], dict[str, int]] = {}
    for layout in wanted:
        out[("create", layout)] = _kind_totals(create, layout)
        out[("single_update", layout)] = _kind_totals(single, layout)
        out[("rolling_update", layout)] = _kind_totals(rolling, layout)
    return out


def _run_all(jobs: Sequence[tuple[Any, ...]], executor: Any) -> list[dict[tuple[str, str], dict[str, int]]]:
    """:func:`_measure_run` of each argument tuple of ``jobs``, in order, on ``executor`` (see
    :func:`kubesim.sweep._executor_of`; ``None``: a process pool when there are several jobs,
    else this process). Each run builds its own seeded cluster, so the results do not depend
    on where they ran. ``O(jobs)`` runs."""
    from kubesim.sweep import _executor_of, _results

    pool, owned = _executor_of("serial" if executor is None and len(jobs) < 2 else executor, len(jobs))
    return _results(
        pool, _measure_run, jobs,
        lambda i: f"in the reproduction's cluster of {jobs[i][0]} pods on {jobs[i][1]} nodes, "
                  f"{jobs[i][2]} endpoints per slice",
        owned=owned,
    )


def measure(
    *, pods: int, nodes: int, layouts: Sequence[str] = LAYOUTS, seed: int = 0, engine: str = "lean",
    events: bool = True, executor: Any = None,
) -> dict[tuple[str, str], dict[str, int]]:
    """Run the three scenarios with the real controllers; ``{(scenario, layout): {metric: n}}``.

    One cluster per slice size: ``max_endpoints_per_slice=100`` (with the uncapped pre-1.22
    Endpoints controller, which gives the ``endpoints`` and ``slices_100`` columns on one
    trace) and, if asked for, ``max_endpoints_per_slice=1`` without the Endpoints controller.
    In each: a Deployment of ``pods`` pods with a readiness probe settles; then

    * ``create``: its Service is created (window: until everything settles);
    * ``single_update``: one pod fails its readiness probe (window: 40 s, in which only the
      Ready → NotReady transition happens); the pod then recovers, outside any window;
    * ``rolling_update``: ``kubectl set image`` (25 % surge, 25 % unavailable) until settled.

    Figures per layout's kind: writes, the largest object written, watch events and bytes
    delivered to kube-proxy on every node (protobuf).

    ``engine="lean"`` (the default) runs :class:`kubesim.lean.LeanCluster`, which writes the
    full model's change log record for record (``tests/test_reproduce.py`` compares the two);
    ``engine="full"`` runs the full model, ``kubesim.Cluster(engine="full")``. ``events=False`` runs clusters that write
    no Events (``Cluster(events=False)``): the writes and watch events are the same, the
    sizes differ only by the digits of ``resourceVersion`` (Event writes advance it too).

    ``executor`` runs the clusters, which are independent: ``None`` (default) a process pool of
    up to ``os.cpu_count()`` workers when there are two, ``"serial"`` this process, or any
    :class:`concurrent.futures.Executor` (as :func:`kubesim.sweep.sweep`); the figures are the
    same wherever they ran. Cost: one rollout per slice size, ``O(writes)``.
    """
    if engine not in ("lean", "full"):
        raise InvalidOption(f"engine must be 'lean' or 'full', got {engine!r}")
    runs = _layout_runs(layouts)
    jobs = [(pods, nodes, b, wanted, seed, engine, events) for b, wanted in runs]
    out: dict[tuple[str, str], dict[str, int]] = {}
    for result in _run_all(jobs, executor):
        out.update(result)
    return out


def _rows(
    case: Case,
    scale: float,
    published: Mapping[tuple[str, str, str], Printed],
    measured: Mapping[tuple[str, str], Mapping[str, int]],
) -> list[Row]:
    sim_pods, sim_nodes = scaled_size(case, scale)
    rows = []
    for scenario in SCENARIOS:
        for layout in case.layouts:
            factors = extrapolation_factors(
                scenario, layout, pods=case.pods, nodes=case.nodes, sim_pods=sim_pods, sim_nodes=sim_nodes
            )
            for metric in METRICS:
                m = measured[(scenario, layout)][metric]
                full = float(m) if scale == 1 else m * factors[metric]
                rows.append(
                    Row(
                        case=case.name,
                        scenario=scenario,
                        layout=layout,
                        metric=metric,
                        published=published.get((scenario, layout, metric)),
                        idealised=idealised(
                            scenario, layout, metric, pods=case.pods, nodes=case.nodes,
                            bytes_per_endpoint=case.bytes_per_endpoint,
                            smallest_object_bytes=case.smallest_object_bytes,
                        ),
                        realistic=Realistic(
                            measured=m, pods=sim_pods, nodes=sim_nodes, scale=float(scale), full_size=full,
                            full_size_is="measured" if scale == 1 else "extrapolated",
                        ),
                    )
                )
    return rows


def kep752_rows(
    *, scale: float | None = None, case2_scale: float = 1.0, seed: int = 0, events: bool = True,
    executor: Any = None,
) -> list[Row]:
    """Every row of KEP-752's two sample cases. ``scale`` applies to case 1 (default
    :data:`DEFAULT_KEP752_SCALE`); case 2 runs at ``case2_scale`` (full size by default).
    ``executor`` runs the four clusters (as :func:`measure`: by default in a process pool, in
    case order). Cost: two realistic runs per case (:func:`measure`)."""
    cases = []
    jobs: list[tuple[Any, ...]] = []
    for name, s in (("case1", DEFAULT_KEP752_SCALE if scale is None else scale), ("case2", case2_scale)):
        case = CASES[name]
        sim_pods, sim_nodes = scaled_size(case, s)
        runs = _layout_runs(case.layouts)
        cases.append((name, case, s, len(runs)))
        jobs.extend((sim_pods, sim_nodes, b, wanted, seed, "lean", events) for b, wanted in runs)
    results = iter(_run_all(jobs, executor))
    rows: list[Row] = []
    for name, case, s, n in cases:
        measured: dict[tuple[str, str], dict[str, int]] = {}
        for _ in range(n):
            measured.update(next(results))
        printed = {k[1:]: v for k, v in KEP752_PRINTED.items() if k[0] == name}
        rows.extend(_rows(case, s, printed, measured))
    return rows


def blog2020_rows(
    *, scale: float | None = None, seed: int = 0, events: bool = True, executor: Any = None
) -> list[Row]:
    """The blog's case (5,000 pods, 3,000 nodes, 300 B per endpoint), Endpoints and 100 per
    slice, at ``scale`` (default :data:`DEFAULT_BLOG2020_SCALE`), on ``executor`` (see
    :func:`measure`). Cost: one realistic run."""
    s = DEFAULT_BLOG2020_SCALE if scale is None else scale
    sim_pods, sim_nodes = scaled_size(BLOG_CASE, s)
    measured = measure(pods=sim_pods, nodes=sim_nodes, layouts=BLOG_CASE.layouts, seed=seed, events=events,
                       executor=executor)
    return _rows(BLOG_CASE, s, BLOG2020_PRINTED, measured)


# ---------------------------------------------------------------------------- etcd's limit


def _template_endpoints(seed: int) -> Any:
    """A real Endpoints written by the controller for a one-pod Service (its metadata, one
    address and its ports serve as the template of larger ones)."""
    from kubesim import scenarios

    cluster = _new_cluster(pods=1, nodes=1, b=100, with_endpoints=True, seed=seed)
    scenarios.deploy(cluster, "web", replicas=1)
    cluster.run()
    return cluster.get("Endpoints", "web"), cluster.get("Pod", cluster.list("Pod")[0].metadata.name)


def endpoints_request_too_large(
    *, nodes: int = 3_000, max_request_bytes: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """The smallest number of ready pods whose uncapped (pre-1.22) Endpoints etcd refuses.

    Arithmetic with exact sizes rather than a 15,000-pod simulation: a real Endpoints written by
    kubesim's controller gives the metadata and ports; addresses are built as the cluster
    would build them for ``nodes`` nodes (pod CIDRs carved in order from ``10.128.0.0/9`` or
    ``10.244.0.0/16``, host-local pod IPs, pods spread round-robin, generated pod names of the
    template's length, random UIDs); the stored protobuf size (without ``resourceVersion``,
    as the API server checks it) is found by bisection with :func:`kubesim.wire.proto_size`.
    Returns ``{"pods", "stored_bytes", "limit", "bytes_per_address", "nodes"}`` where ``pods``
    is the first count refused and ``stored_bytes`` its size. ``O(n log n)`` for the answer ``n``.
    """
    from kubesim import wire
    from kubesim.apiserver import DEFAULT_MAX_REQUEST_BYTES
    from kubesim.ipam import NodeCIDRAllocator, RangeAllocator
    from kubesim.objects import EndpointSubset, random_uid

    limit = DEFAULT_MAX_REQUEST_BYTES if max_request_bytes is None else max_request_bytes
    if not isinstance(nodes, int) or nodes < 1:
        raise InvalidOption(f"nodes must be a positive integer, got {nodes!r}")
    template, pod = _template_endpoints(seed)
    subset = template.subsets[0]
    addr0 = subset.addresses[0]
    ref0 = addr0.target_ref
    rng = random.Random(seed)
    cidrs = NodeCIDRAllocator("10.244.0.0/16" if nodes <= 255 else "10.128.0.0/9", 24)
    ranges = [RangeAllocator(cidrs.allocate()) for _ in range(nodes)]
    prefix = pod.metadata.generate_name or pod.metadata.name[:-5]
    suffix_len = len(pod.metadata.name) - len(prefix)
    alphabet = "bcdfghjklmnpqrstvwxz2456789"

    addresses: list[Any] = []

    def grow(n: int) -> None:
        while len(addresses) < n:
            i = len(addresses)
            j = i % nodes
            name = prefix + "".join(rng.choice(alphabet) for _ in range(suffix_len))
            uid = random_uid(rng)
            addresses.append(
                attrs.evolve(
                    addr0,
                    ip=ranges[j].allocate(),
                    node_name=f"node-{j + 1}",
                    target_ref=attrs.evolve(ref0, name=name, uid=uid),
                )
            )

    def stored(n: int) -> int:
        grow(n)
        obj = attrs.evolve(template, subsets=(EndpointSubset(addresses=tuple(addresses[:n]), ports=subset.ports),))
        return wire.proto_size(obj, include_resource_version=False)

    lo, hi = 1, 2
    while stored(hi) <= limit:
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # stored(lo) <= limit < stored(hi)
        mid = (lo + hi) // 2
        if stored(mid) <= limit:
            lo = mid
        else:
            hi = mid
    size = stored(hi)
    return {
        "pods": hi,
        "stored_bytes": size,
        "limit": limit,
        "bytes_per_address": (size - stored(0)) / hi,
        "nodes": nodes,
    }


# ---------------------------------------------------------------------------- KEP-1672


def terminating_writes(*, pods: int = 10, nodes: int = 5, seed: int = 0, events: bool = True) -> dict[str, int]:
    """Writes caused by one terminating pod: a Deployment of ``pods`` ready pods is scaled down
    by one; ``{"Endpoints": n, "EndpointSlice": m}`` counts the controllers' writes until the
    pod is gone (KEP-1672: "1 write" for Endpoints, "at least 2 writes" for EndpointSlices).
    Cost: one small simulation."""
    from kubesim import scenarios

    cluster = _new_cluster(pods=pods, nodes=nodes, b=100, with_endpoints=True, seed=seed, events=events)
    scenarios.deploy(cluster, "web", replicas=pods, readiness_probe=True)
    cluster.run()
    mark = len(cluster.changes)
    scenarios.scale(cluster, "web", pods - 1)
    cluster.run()
    report = _window(cluster, mark)
    return {k: report.kind(k).writes for k in ("Endpoints", "EndpointSlice")}


def rollout_writes_per_pod(*, pods: int = 20, nodes: int = 10, seed: int = 0, events: bool = True) -> dict[str, float]:
    """Writes per replaced pod in a realistic rolling update of ``pods`` pods (all of them
    replaced): ``{"Endpoints": x, "EndpointSlice": y}`` (KEP-752 assumes 1). Cost: one rollout."""
    m = measure(pods=pods, nodes=nodes, layouts=("endpoints", "slices_100"), seed=seed, events=events)
    return {
        "Endpoints": m[("rolling_update", "endpoints")]["writes"] / pods,
        "EndpointSlice": m[("rolling_update", "slices_100")]["writes"] / pods,
    }


# ---------------------------------------------------------------------------- text


def _fmt(metric: str, value: float | None) -> str:
    from kubesim.report import format_bytes

    if value is None:
        return "–"
    if metric in _BYTE_METRICS:
        return format_bytes(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"


def _table(header: Sequence[str], body: Sequence[Sequence[str]], left: int) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        cells = [f"{c:<{w}}" if i < left else f"{c:>{w}}" for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        return "  ".join(cells).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in body)]


def _rows_table(rows: Sequence[Row], published_title: str) -> list[str]:
    r0 = rows[0].realistic
    scaled = r0.scale != 1
    header = ["scenario", "metric", "layout", published_title, "idealised"]
    if scaled:
        header += [f"realistic @ {r0.pods:,} pods/{r0.nodes:,} nodes (measured)", "realistic full size (extrapolated)"]
    else:
        header += ["realistic (measured)"]
    body = []
    last: tuple[str, str] = ("", "")
    for r in rows:
        key = (r.scenario, r.metric)
        first = key != last
        last = key
        cells = [
            _SCENARIO_TITLES[r.scenario] if first and r.metric == METRICS[0] else "",
            _METRIC_TITLES[r.metric] if first else "",
            _LAYOUT_TITLES[r.layout],
            "–" if r.published is None else r.published.text,
            _fmt(r.metric, r.idealised),
            _fmt(r.metric, r.realistic.measured),
        ]
        if scaled:
            cells.append(_fmt(r.metric, r.realistic.full_size))
        body.append(cells)
    return _table(header, body, 3)


def _ordered(rows: Sequence[Row]) -> list[Row]:
    order = {(s, m, lay): i for i, (s, m, lay) in enumerate(
        (s, m, lay) for s in SCENARIOS for m in METRICS for lay in LAYOUTS)}
    return sorted(rows, key=lambda r: (r.case, order[(r.scenario, r.metric, r.layout)]))


_FOOTER = [
    "idealised: the publication's assumptions computed from P, N, B: one write per replaced pod, every",
    "  write to all N kube-proxies, object size = {size}.",
    "realistic: kubesim's controllers, protobuf sizes; Endpoints column = pre-1.22 uncapped controller",
    "  (endpoints_truncate=False, no etcd limit); rolling update 25% surge / 25% unavailable.",
    "units: 1 KB = 1000 B (decimal, as KEP-752). See docs/reproductions.md.",
]


def _footer(case: Case) -> list[str]:
    size = f"endpoints x {case.bytes_per_endpoint} B"
    if case.smallest_object_bytes:
        size = f"max({size}, {case.smallest_object_bytes:,} B)"
    return [line.format(size=size) for line in _FOOTER]


def kep752(*, json: bool = False, scale: float | None = None, events: bool = True, executor: Any = None) -> str:
    """KEP-752's tables reproduced: text (one aligned table per case) or, with ``json``, a JSON
    list of rows ``{"case", "scenario", "layout", "metric", "kep", "idealised", "realistic"}``.
    ``scale`` sets case 1's realistic run (default :data:`DEFAULT_KEP752_SCALE`, a quick
    extrapolated run; ``1`` measures it at full size); case 2 runs at full size. Cost: four realistic runs on the lean engine (see
    ``docs/performance.md`` for the measured time), by ``executor`` (see :func:`measure`; by
    default in a process pool). ``events=False``: see :func:`main`."""
    rows = _ordered(kep752_rows(scale=scale, events=events, executor=executor))
    if json:
        return _json.dumps([r.to_dict("kep") for r in rows], indent=1)
    out: list[str] = []
    for name in ("case1", "case2"):
        case = CASES[name]
        case_rows = [r for r in rows if r.case == name]
        r0 = case_rows[0].realistic
        out.append(f"{case.title} (P = {case.pods:,}, N = {case.nodes:,})")
        if r0.scale != 1:
            out.append(
                f"realistic run at scale {r0.scale:g}: {r0.pods:,} pods on {r0.nodes:,} nodes, "
                "extrapolated to full size by the formulas' laws (--scale 1 measures it at full size: "
                "minutes, not seconds)"
            )
        out.append("")
        out.extend(_rows_table(case_rows, "KEP (printed)"))
        out.append("")
    out.append("KEP typos and inconsistencies (see docs/reproductions.md):")
    out.append("  case 2, single update, watch events: printed 1, the formula O(N) gives 10.")
    out.append("  case 1, create, 1 / slice bytes: printed ~10GB, but 20,000 x 5,000 x ~1KB = 100 GB.")
    out.append("  case 2, object sizes printed ~1KB, but 20 endpoints x 100 B = 2 KB.")
    out.extend(_footer(CASES["case1"]))
    return "\n".join(out)


def blog2020(*, json: bool = False, scale: float | None = None, events: bool = True, executor: Any = None) -> str:
    """The 2020 blog reproduced: its Endpoints arithmetic, the EndpointSlice column it left out,
    etcd's refusal of the uncapped Endpoints and KEP-1672's writes per terminating pod. With
    ``json``: ``{"rows": [...], "request_too_large": {...}, "kep1672": {...}}`` where rows have
    the keys ``{"case", "scenario", "layout", "metric", "blog", "idealised", "realistic"}``.
    ``scale`` shrinks the realistic run (default :data:`DEFAULT_BLOG2020_SCALE`).
    ``events=False`` and ``executor``: see :func:`main` (the blog's realistic run is one
    cluster: by default it runs in this process)."""
    rows = _ordered(blog2020_rows(scale=scale, events=events, executor=executor))
    too_large = endpoints_request_too_large(nodes=BLOG_CASE.nodes)
    term = terminating_writes(events=events)
    per_pod = rollout_writes_per_pod(events=events)
    kep1672 = {
        "terminating_pod_writes": term,
        "rollout_writes_per_replaced_pod": per_pod,
        "kep": {"Endpoints": "1 write", "EndpointSlice": "at least 2 writes"},
    }
    if json:
        return _json.dumps(
            {"rows": [r.to_dict("blog") for r in rows], "request_too_large": too_large, "kep1672": kep1672},
            indent=1,
        )
    r0 = rows[0].realistic
    from kubesim.report import format_bytes

    out = [
        f"{BLOG_CASE.title} (P = {BLOG_CASE.pods:,}, N = {BLOG_CASE.nodes:,})",
        f"realistic run at scale {r0.scale:g}: {r0.pods:,} pods on {r0.nodes:,} nodes, "
        "extrapolated to full size by the formulas' laws" if r0.scale != 1 else "realistic run at full size",
        "",
        *_rows_table(rows, "blog (printed)"),
        "",
        "Blog arithmetic: 5,000 x 300 B = 1.5 MB; x 3,000 nodes = 4.5 GB per update; x 5,000 pods = 22.5 TB",
        "  per rollout (the blog: 'more than 22TB'). EndpointSlices (derived, not in the blog):",
        "  100 x 300 B = 30 KB; x 3,000 = 90 MB per update; x 5,000 = 450 GB per rollout.",
        "",
        "Pre-1.22 uncapped Endpoints vs etcd's --max-request-bytes "
        f"({too_large['limit']:,} B = 1.5 MiB), {too_large['nodes']:,} nodes:",
        f"  first refused at {too_large['pods']:,} ready pods (stored protobuf {too_large['stored_bytes']:,} B, "
        f"{too_large['bytes_per_address']:.1f} B per address, {format_bytes(too_large['stored_bytes'])});",
        "  the blog: 'in some cases that can limit an Endpoints resource to 5,000 Pod IPs' (at its 300 B/IP).",
        "",
        "KEP-1672 (terminating endpoints): writes for one terminating pod (Deployment scaled down by one):",
        f"  Endpoints {term['Endpoints']} (KEP: 1 write), EndpointSlice {term['EndpointSlice']} "
        "(KEP: at least 2 writes: ready -> terminating -> removed)",
        "Writes per replaced pod in a 20-pod rolling update (KEP-752 assumes 1): "
        f"Endpoints {per_pod['Endpoints']:.2f}, EndpointSlice {per_pod['EndpointSlice']:.2f}",
        "",
        *_footer(BLOG_CASE),
    ]
    return "\n".join(out)


_REPRODUCTIONS = {"kep752": kep752, "blog2020": blog2020}


def main(
    name: str, *, json: bool = False, scale: float | None = None, events: bool = True, executor: Any = None
) -> str:
    """The text (or JSON) of reproduction ``name`` (``"kep752"`` or ``"blog2020"``), for the
    command line ``kubesim reproduce NAME [--json] [--scale S] [--no-events]``. ``scale``
    (0 < S ≤ 1) shrinks the large realistic runs; ``None`` uses each reproduction's default.

    ``events`` stays ``True`` by default, as everywhere else in kubesim, so that the printed
    figures are those earlier versions printed and those of ``kubesim churn`` on the same
    workload. ``events=False`` (``--no-events``) runs clusters without Events: the writes and
    watch events are the same, the object and byte figures differ only by the digits of
    ``resourceVersion``; it saves about 15 % of the CPU and, at ``--scale 1`` (20,000 pods),
    about 520 MiB. A non-bool raises :class:`~kubesim.errors.InvalidOption` naming ``events``.

    ``executor`` runs kep752's four independent clusters (see :func:`measure`): ``None``
    (default) a process pool of up to ``os.cpu_count()`` workers, ``"serial"`` this process, or
    a :class:`concurrent.futures.Executor`; the output is the same wherever they ran."""
    fn = _REPRODUCTIONS.get(name)
    if fn is None:
        raise InvalidOption(f"unknown reproduction {name!r}; known: {sorted(_REPRODUCTIONS)}")
    if not isinstance(events, bool):
        raise InvalidOption(f"events must be True or False, got {events!r:.80}")
    return fn(json=json, scale=scale, events=events, executor=executor)

