"""The churn report: what a workload cost in writes and bytes, Endpoints vs EndpointSlices.

A report is a pure fold over the change log (:mod:`kubesim.changelog`): only committed writes
(``outcome == "ok"``) count. It answers the questions of KEP-752's "Estimation" tables:

* **writes** per kind (creates / updates / deletes) and **bytes written** (object size per write);
* **watch events** and **bytes delivered** to *watcher groups* — e.g. the kube-proxy on every
  node. A group is a class of identical watchers: bytes delivered are ``size × watchers``,
  multiplied, never looped over, so a write costs ``O(#groups)`` whatever the node count;
* the **object-size distribution** per kind (p50 / p90 / p99 / max);
* a **time series** per virtual second;
* the **information floor** (``scale-numbers.md`` §4) and each layout's ratio to it;
* **network-programming latency** for writes that carry
  ``endpoints.kubernetes.io/last-change-trigger-time``;
* churn **by cause** (``ChangeEvent.cause``; ``"unattributed"`` when empty). The scenarios set
  causes (``scale``, ``readiness``, ...); the kubelet attributes the writes a container kill or
  crash sets off, its own and the controllers' that follow, to ``restart`` (until the
  container is ready again), and :func:`kubesim.scenarios.set_pod_condition` to
  ``readiness-gate``.

Events (:mod:`kubesim.events`) are a kind of their own in ``by_kind``, ``sizes`` and the series,
never part of the Endpoints or EndpointSlice totals; the printed table gains an ``Event`` column
when the window has Event writes (no watcher group watches them by default, so they deliver
nothing).

Both layouts are reported side by side as a counterfactual A/B on one trace: by default the
same kube-proxy fleet (one per node) is charged for watching the EndpointSlices *and*, as
pre-1.19 kube-proxy did, the Endpoints. In a real v1.19+ cluster only the first group exists.

>>> from kubesim.changelog import ChangeEvent, ChangeLog
>>> ev = ChangeEvent(seq=0, time=0.0, verb="create", kind="EndpointSlice", namespace="default",
...                  name="web-abc", resource_version=1, actor="endpointslice-controller",
...                  json_bytes=700, proto_bytes=400)
>>> r = churn([ev], groups=default_groups(3))
>>> r.by_kind["EndpointSlice"].bytes_delivered
1200

Byte units in printed output are decimal (1 KB = 1000 B), as in KEP-752.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Any,
    Protocol,
    runtime_checkable,
)

import attrs

from kubesim.changelog import ChangeEvent, ChangeLog
from kubesim.errors import InvalidOption
from kubesim.kinds import resolve_kind
from kubesim.labels import Selector, parse_selector

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.figure
    import pandas  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "KUBE_PROXY_SELECTOR",
    "ENDPOINT_KINDS",
    "FLOOR_BYTES_PER_TRANSITION",
    "WatcherGroup",
    "kube_proxy_groups",
    "default_groups",
    "SizeModel",
    "ConstantSizeModel",
    "KindChurn",
    "GroupChurn",
    "Distribution",
    "SeriesPoint",
    "InformationFloor",
    "ChurnReport",
    "churn",
    "format_bytes",
]

#: The label selector of kube-proxy's Service / EndpointSlice informers
#: (``cmd/kube-proxy/app/server.go``): objects of Services handled by another proxy
#: (``service.kubernetes.io/service-proxy-name``) and of headless Services are never delivered.
KUBE_PROXY_SELECTOR = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"

#: The kinds whose writes carry endpoint transitions (used for the information floor).
ENDPOINT_KINDS = ("Endpoints", "EndpointSlice")

#: δ of ``scale-numbers.md`` §4: the minimum bytes one endpoint transition carries
#: (an IPv4 address, 4 B, or IPv6, 16 B, plus 3 condition bits) — "about 10 B".
FLOOR_BYTES_PER_TRANSITION = 10

_UNATTRIBUTED = "unattributed"
_VERBS = ("create", "update", "delete")


# ---------------------------------------------------------------------------- watcher groups


def _selector_text(value: str | Selector | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, Selector):
        return str(value)
    if not isinstance(value, str):
        raise InvalidOption(f"selector must be a label selector string or None, got {value!r}")
    return value


def _check_size(_inst: object, _attr: object, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidOption(f"watcher group size must be an integer >= 0, got {value!r}")


@attrs.frozen
class WatcherGroup:
    """A class of identical watchers: ``size`` clients watching ``kind`` with one label
    ``selector`` (``None``: everything), optionally in one ``namespace``.

    ``kind`` is any spelling kubectl accepts (``"endpointslices"``, ``"ep"``) and is stored
    canonical. The selector is parsed once (:func:`kubesim.labels.parse_selector`; a bad one
    raises :class:`~kubesim.errors.InvalidSelector`) and matched once per event against
    ``ChangeEvent.labels``, never once per watcher.

    >>> WatcherGroup("dns", "endpointslices", 2)
    WatcherGroup(name='dns', kind='EndpointSlice', size=2, selector=None, namespace=None)
    """

    name: str
    kind: str = attrs.field(converter=resolve_kind)
    size: int = attrs.field(validator=_check_size)
    selector: str | None = attrs.field(default=None, converter=_selector_text)
    namespace: str | None = None
    _parsed: Selector = attrs.field(init=False, repr=False, eq=False, order=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidOption(f"watcher group name must be a non-empty string, got {self.name!r}")
        parsed = Selector.everything() if self.selector is None else parse_selector(self.selector)
        object.__setattr__(self, "_parsed", parsed)

    def matches(self, namespace: str, labels: Mapping[str, str]) -> bool:
        """Whether an object in ``namespace`` with ``labels`` is delivered to this group.
        ``O(#requirements)``."""
        if self.namespace is not None and namespace != self.namespace:
            return False
        return self._parsed.matches(labels)


def kube_proxy_groups(nodes: int) -> tuple[WatcherGroup, WatcherGroup]:
    """kube-proxy on each of ``nodes`` nodes, as two groups of ``nodes`` watchers each:

    * ``"kube-proxy"`` watches EndpointSlices (the default since v1.19);
    * ``"kube-proxy (legacy Endpoints)"`` watches Endpoints, as kube-proxy did before v1.19.

    Both use :data:`KUBE_PROXY_SELECTOR`. Upstream applied the one informer-factory selector
    to every informer, Endpoints included, and it works on Endpoints because the Endpoints
    controller copies the Service's labels onto the Endpoints (so
    ``service.kubernetes.io/service-proxy-name`` carries over) and adds
    ``service.kubernetes.io/headless`` for a Service without a cluster IP
    (``pkg/controller/endpoint/endpoints_controller.go``). ``O(1)``.
    """
    return (
        WatcherGroup("kube-proxy", "EndpointSlice", nodes, KUBE_PROXY_SELECTOR),
        WatcherGroup("kube-proxy (legacy Endpoints)", "Endpoints", nodes, KUBE_PROXY_SELECTOR),
    )


def default_groups(node_count: int) -> tuple[WatcherGroup, ...]:
    """The groups :meth:`Cluster.churn` charges by default: :func:`kube_proxy_groups`."""
    return kube_proxy_groups(node_count)


# ---------------------------------------------------------------------------- size models


@runtime_checkable
class SizeModel(Protocol):
    """How many bytes one write's object counts for: ``size(event) -> int``; ``name`` is
    shown in the report's footer."""

    @property
    def name(self) -> str: ...

    def size(self, event: ChangeEvent) -> int: ...


@attrs.frozen
class _FieldSizeModel:
    name: str
    field: str

    def size(self, event: ChangeEvent) -> int:
        return int(getattr(event, self.field))


_PROTO = _FieldSizeModel("proto", "proto_bytes")
_JSON = _FieldSizeModel("json", "json_bytes")


@attrs.frozen
class ConstantSizeModel:
    """KEP-752's hand arithmetic: ``base + bytes_per_endpoint × endpoints(event)``.

    The change log records sizes, not endpoint counts, so the caller supplies ``endpoints``,
    a function from a :class:`~kubesim.changelog.ChangeEvent` to the number of endpoints the
    written object held (return 0 for kinds without endpoints). Without it only the fixed
    ``base`` is charged per object — the KEP's "~1 KB" object for one endpoint per slice — and
    ``bytes_per_endpoint`` must then be 0 (:class:`~kubesim.errors.InvalidOption` otherwise):
    this model is for idealised reproductions of the KEP tables, not for realistic runs.

    >>> ConstantSizeModel(bytes_per_endpoint=0, base=1000).name
    'constant(0 B/endpoint + 1000 B)'
    """

    bytes_per_endpoint: int = 100
    base: int = 0
    endpoints: Callable[[ChangeEvent], int] | None = attrs.field(default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        for label, value in (("bytes_per_endpoint", self.bytes_per_endpoint), ("base", self.base)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidOption(f"{label} must be an integer >= 0, got {value!r}")
        if self.endpoints is None and self.bytes_per_endpoint:
            raise InvalidOption(
                "ConstantSizeModel needs endpoints=<function of a ChangeEvent> when "
                "bytes_per_endpoint is not 0: the change log does not record endpoint counts"
            )

    @property
    def name(self) -> str:
        return f"constant({self.bytes_per_endpoint} B/endpoint + {self.base} B)"

    def size(self, event: ChangeEvent) -> int:
        n = self.endpoints(event) if self.endpoints is not None else 0
        return self.base + self.bytes_per_endpoint * int(n)


def _resolve_size_model(size_model: str | SizeModel) -> SizeModel:
    if isinstance(size_model, str):
        if size_model == "proto":
            return _PROTO
        if size_model == "json":
            return _JSON
        raise InvalidOption(f'size_model must be "proto", "json" or a SizeModel, got {size_model!r}')
    if not isinstance(size_model, SizeModel):
        raise InvalidOption(f'size_model must be "proto", "json" or a SizeModel, got {size_model!r}')
    return size_model


# ---------------------------------------------------------------------------- result types


@attrs.frozen
class KindChurn:
    """Totals for one kind. ``writes == creates + updates + deletes``; ``bytes_written`` is
    the sum of object sizes over writes; ``watch_events`` and ``bytes_delivered`` sum over
    every watcher of every group; ``max_object_bytes`` is the largest size written;
    ``failed_attempts`` counts writes the API server refused (injected conflicts and errors,
    see :mod:`kubesim.faults`), which changed nothing and reached no watcher."""

    creates: int = 0
    updates: int = 0
    deletes: int = 0
    writes: int = 0
    bytes_written: int = 0
    watch_events: int = 0
    bytes_delivered: int = 0
    max_object_bytes: int = 0
    failed_attempts: int = 0


@attrs.frozen
class GroupChurn:
    """Totals for one watcher group: ``events`` writes reached it, so each of its ``size``
    watchers received them: ``watch_events == events × size``."""

    name: str
    kind: str
    size: int
    events: int = 0
    watch_events: int = 0
    bytes_delivered: int = 0


@attrs.frozen
class Distribution:
    """An exact distribution kept as sorted ``(value, count)`` pairs.

    Percentiles use the nearest-rank method: the smallest recorded value with at least
    ``q``% of the samples at or below it — always a value that occurred. Empty: ``None``.

    >>> d = Distribution(((1, 2), (5, 1), (9, 1)))
    >>> d.count, d.p50, d.p99, d.max
    (4, 1, 9, 9)
    """

    values: tuple[tuple[float, int], ...] = ()

    @property
    def count(self) -> int:
        """The number of samples. ``O(distinct values)``."""
        return sum(c for _, c in self.values)

    def percentile(self, q: float) -> float | None:
        """The nearest-rank ``q``-th percentile (``0 < q <= 100``). ``O(distinct values)``."""
        if not 0 < q <= 100:
            raise InvalidOption(f"percentile must be in (0, 100], got {q!r}")
        n = self.count
        if n == 0:
            return None
        rank = max(1, math.ceil(q / 100 * n))
        seen = 0
        for value, c in self.values:
            seen += c
            if seen >= rank:
                return value
        return self.values[-1][0]  # pragma: no cover - unreachable

    @property
    def p50(self) -> float | None:
        return self.percentile(50)

    @property
    def p90(self) -> float | None:
        return self.percentile(90)

    @property
    def p99(self) -> float | None:
        return self.percentile(99)

    @property
    def max(self) -> float | None:
        return self.values[-1][0] if self.values else None

    def summary(self) -> dict[str, Any]:
        """``{"count", "p50", "p90", "p99", "max"}``."""
        return {"count": self.count, "p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max}


@attrs.frozen
class SeriesPoint:
    """Churn of one ``kind`` during virtual second ``second`` (``[second, second + 1)``)."""

    second: int
    kind: str
    writes: int
    bytes_written: int
    watch_events: int
    bytes_delivered: int


@attrs.frozen
class InformationFloor:
    """The information floor of one layout (``scale-numbers.md`` §4).

    The change log holds no diffs, so kubesim **approximates one endpoint transition per
    write** of an endpoint object (no-op writes are suppressed upstream, so a write changes at
    least something; a create of a full slice carries more, a label-only update none). Then
    ``floor_bytes = Σ over delivered writes of watchers × bytes_per_transition``, i.e.
    ``watch_events × δ``, and ``ratio = bytes_delivered / floor_bytes`` — the "optimality gap"
    (``None`` when nothing was delivered).
    """

    transitions: int
    floor_bytes: int
    bytes_delivered: int
    bytes_per_transition: int

    @property
    def ratio(self) -> float | None:
        return self.bytes_delivered / self.floor_bytes if self.floor_bytes else None


def _frozen_mapping(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType({k: d[k] for k in sorted(d)})


def _dist(counter: Mapping[float, int]) -> Distribution:
    return Distribution(tuple((v, counter[v]) for v in sorted(counter)))


@attrs.frozen
class ChurnReport:
    """The result of :func:`churn`. Read-only mappings keyed (and iterated) in sorted order.

    ``by_kind[kind]`` → :class:`KindChurn`; ``by_group[name]`` → :class:`GroupChurn`;
    ``by_cause[cause][kind]`` → :class:`KindChurn`; ``sizes[kind]`` and ``latency[kind]`` →
    :class:`Distribution` (bytes under :attr:`size_model`; seconds of delivery time minus
    trigger time — kubesim delivers at write time); ``series`` → :class:`SeriesPoint` tuples
    sorted by (second, kind), only non-empty seconds; ``floor[kind]`` →
    :class:`InformationFloor` for :data:`ENDPOINT_KINDS`.

    Views: ``print(report)`` (a side-by-side table), :meth:`to_dict`, :meth:`to_json`,
    :meth:`to_dataframe`, :meth:`plot`, ``_repr_html_`` for notebooks.
    """

    size_model: str
    since: float | None
    until: float | None
    groups: tuple[WatcherGroup, ...]
    by_kind: Mapping[str, KindChurn]
    by_group: Mapping[str, GroupChurn]
    by_cause: Mapping[str, Mapping[str, KindChurn]]
    sizes: Mapping[str, Distribution]
    latency: Mapping[str, Distribution]
    series: tuple[SeriesPoint, ...]
    floor: Mapping[str, InformationFloor]
    #: the window by log position (``from_seq <= seq < to_seq``), when one was asked for
    from_seq: int | None = None
    to_seq: int | None = None
    #: what the figures do not show by themselves (truncated Endpoints, capped mirroring,
    #: unschedulable pods): one sentence each, printed under the table
    notes: tuple[str, ...] = ()

    def kind(self, kind: str) -> KindChurn:
        """``by_kind[kind]`` for any kubectl spelling, zeros if the kind never changed."""
        return self.by_kind.get(resolve_kind(kind), KindChurn())

    # ------------------------------------------------------------------ plain data

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-compatible plain data (sorted keys throughout)."""
        return {
            "size_model": self.size_model,
            "since": self.since,
            "until": self.until,
            "groups": [
                {"name": g.name, "kind": g.kind, "size": g.size, "selector": g.selector, "namespace": g.namespace}
                for g in self.groups
            ],
            "by_kind": {k: attrs.asdict(v) for k, v in self.by_kind.items()},
            "by_group": {k: attrs.asdict(v) for k, v in self.by_group.items()},
            "by_cause": {c: {k: attrs.asdict(v) for k, v in m.items()} for c, m in self.by_cause.items()},
            "sizes": {k: {**d.summary(), "histogram": [list(p) for p in d.values]} for k, d in self.sizes.items()},
            "latency": {k: d.summary() for k, d in self.latency.items()},
            "series": [attrs.asdict(p) for p in self.series],
            "floor": {k: {**attrs.asdict(f), "ratio": f.ratio} for k, f in self.floor.items()},
            "from_seq": self.from_seq,
            "to_seq": self.to_seq,
            "notes": list(self.notes),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON with sorted keys: the same log gives the same text."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, separators=None if indent else (",", ":"))

    def to_dataframe(self, table: str = "kinds") -> pandas.DataFrame:
        """A pandas DataFrame of ``table``: ``"kinds"`` (one row per kind, totals plus size
        and latency percentiles), ``"series"``, ``"groups"`` or ``"causes"`` (one row per
        cause and kind). Needs pandas (``pip install kubesim[notebook]``)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "ChurnReport.to_dataframe() needs pandas: pip install kubesim[notebook]"
            ) from exc
        if table == "kinds":
            rows = []
            for k, v in self.by_kind.items():
                row: dict[str, Any] = {"kind": k, **attrs.asdict(v)}
                for prefix, dist in (("size", self.sizes.get(k)), ("latency", self.latency.get(k))):
                    d = dist if dist is not None else Distribution()
                    for q in ("p50", "p90", "p99", "max"):
                        row[f"{prefix}_{q}"] = getattr(d, q)
                rows.append(row)
            return pd.DataFrame(rows, columns=_KIND_COLUMNS).set_index("kind")
        if table == "series":
            return pd.DataFrame([attrs.asdict(p) for p in self.series], columns=[f.name for f in attrs.fields(SeriesPoint)])
        if table == "groups":
            cols = [f.name for f in attrs.fields(GroupChurn)]
            return pd.DataFrame([attrs.asdict(g) for g in self.by_group.values()], columns=cols).set_index("name")
        if table == "causes":
            cols = ["cause", "kind", *[f.name for f in attrs.fields(KindChurn)]]
            rows = [{"cause": c, "kind": k, **attrs.asdict(v)} for c, m in self.by_cause.items() for k, v in m.items()]
            return pd.DataFrame(rows, columns=cols)
        raise InvalidOption(f'table must be one of "kinds", "series", "groups", "causes", got {table!r}')

    # ------------------------------------------------------------------ views

    def plot(self) -> matplotlib.figure.Figure:
        """Three panels: bytes delivered to watchers per virtual second, Endpoints vs
        EndpointSlice; their object sizes side by side (p50 / p90 / p99 / max of every write);
        and the two size histograms on one logarithmic axis. Byte axes read KB / MB / GB
        (decimal, as the table), time in virtual seconds.

        Returns a :class:`kubesim.plotting.InlineFigure`, a matplotlib ``Figure`` that shows
        itself as a cell's value in Jupyter with no ``%matplotlib`` magic (``savefig`` writes it
        to a file). Needs matplotlib (``pip install kubesim[notebook]``). ``O(series + distinct
        sizes)``."""
        try:
            from matplotlib.figure import Figure  # noqa: F401 - the optional dependency, checked first
        except ImportError as exc:
            raise ImportError("ChurnReport.plot() needs matplotlib: pip install kubesim[notebook]") from exc
        from kubesim.plotting import bytes_axis, log_bytes_axis, new_figure, tick_bytes

        fig = new_figure(figsize=(15, 4.2), layout="constrained")
        ax_t, ax_s, ax_h = fig.subplots(1, 3)
        colours = {"Endpoints": "tab:orange", "EndpointSlice": "tab:blue"}
        model = {"proto": "protobuf"}.get(self.size_model, self.size_model)
        # 1. watch traffic over time
        for kind in ENDPOINT_KINDS:
            pts = [p for p in self.series if p.kind == kind]
            ax_t.plot([p.second for p in pts], [p.bytes_delivered for p in pts], marker="o", markersize=3,
                      linestyle="-", label=kind, color=colours[kind])
        ax_t.set_xlabel("virtual time (s)")
        ax_t.set_ylabel(f"bytes delivered to watchers per second ({model})")
        bytes_axis(ax_t.yaxis)
        ax_t.set_ylim(bottom=0)
        ax_t.set_title("Watch traffic")
        ax_t.legend()
        # 2. object sizes side by side
        quantiles = ("p50", "p90", "p99", "max")
        width = 0.38
        for i, kind in enumerate(ENDPOINT_KINDS):
            dist = self.sizes.get(kind, Distribution())
            values = [getattr(dist, q) for q in quantiles]
            xs = [j + (i - 0.5) * width for j in range(len(quantiles))]
            bars = ax_s.bar(xs, [0 if v is None else v for v in values], width, label=kind, color=colours[kind])
            ax_s.bar_label(bars, labels=["" if v is None else tick_bytes(v) for v in values], fontsize=7)
        ax_s.set_xticks(range(len(quantiles)), list(quantiles))
        ax_s.set_xlabel("percentile of the objects written")
        ax_s.set_ylabel(f"object size ({model})")
        bytes_axis(ax_s.yaxis)
        ax_s.set_title("Object sizes: Endpoints vs EndpointSlice")
        ax_s.legend()
        # 3. the size histograms, on one log axis (one Endpoints object is often 100x a slice)
        sizes = [v for kind in ENDPOINT_KINDS for v, _ in self.sizes.get(kind, Distribution()).values if v > 0]
        if sizes:
            lo, hi = min(sizes), max(sizes)
            n = 30
            edges = [lo * (hi / lo) ** (k / n) for k in range(n + 1)] if hi > lo else [lo * 0.9, hi * 1.1]
            for kind in ENDPOINT_KINDS:
                dist = self.sizes.get(kind, Distribution())
                if dist.values:
                    ax_h.hist([v for v, _ in dist.values], weights=[c for _, c in dist.values], bins=edges,
                              alpha=0.6, label=kind, color=colours[kind])
            ax_h.set_xscale("log")
            log_bytes_axis(ax_h.xaxis)
            ax_h.legend()
        ax_h.set_xlabel(f"object size ({model}, log scale)")
        ax_h.set_ylabel("writes")
        ax_h.set_title("Object size histogram")
        return fig

    def _columns(self) -> tuple[str, ...]:
        """The kinds of the printed table: Endpoints and EndpointSlice, and Event when the
        window has Event writes (:mod:`kubesim.events`: a kind of their own, never counted in
        the endpoint kinds)."""
        if self.by_kind.get("Event", KindChurn()).writes:
            return (*ENDPOINT_KINDS, "Event")
        return ENDPOINT_KINDS

    def _rows(self) -> list[tuple[str, list[str]]]:
        kinds = self._columns()
        cols = [self.kind(k) for k in kinds]
        lat = [self.latency.get(k, Distribution()).p99 for k in kinds]
        floors = [self.floor.get(k) for k in kinds]
        return [
            ("writes", [f"{c.writes:,}" for c in cols]),
            ("  creates / updates / deletes", [f"{c.creates:,} / {c.updates:,} / {c.deletes:,}" for c in cols]),
            ("bytes written", [format_bytes(c.bytes_written) for c in cols]),
            ("watch events", [f"{c.watch_events:,}" for c in cols]),
            ("bytes delivered", [format_bytes(c.bytes_delivered) for c in cols]),
            ("max object size", [format_bytes(c.max_object_bytes) for c in cols]),
            *(
                [("failed attempts", [f"{c.failed_attempts:,}" for c in cols])]
                if any(c.failed_attempts for c in cols)
                else []
            ),
            ("p99 latency", ["–" if v is None else f"{v:.3g} s" for v in lat]),
            ("× information floor", ["–" if f is None or f.ratio is None else f"{f.ratio:,.1f}" for f in floors]),
        ]

    def _window(self) -> str:
        if self.from_seq is not None or self.to_seq is not None:
            return "the writes made inside a measure() block (by position in the change log)"
        lo = "-inf" if self.since is None else f"{self.since:g}"
        hi = "+inf" if self.until is None else f"{self.until:g}"
        return f"[{lo}, {hi}) s of virtual time"

    def _footer(self) -> list[str]:
        groups = "; ".join(f"{g.name} ×{g.size} on {g.kind}" for g in self.groups) or "none"
        model = {"proto": "protobuf, as watchers receive it", "json": "JSON"}.get(self.size_model, self.size_model)
        return [
            f"size model: {self.size_model} ({model}); window: {self._window()}; watchers: {groups}",
            "units: bytes in decimal units (1 KB = 1000 B, 1 MB = 1000 KB, as KEP-752); latency in virtual seconds",
            "p99 latency: the 99th percentile of the time from a pod change (the write's "
            "endpoints.kubernetes.io/last-change-trigger-time) to the write that carries it",
            f"× information floor: bytes delivered / (watch events × {self._floor_bytes()} B), the least one "
            "endpoint transition can carry (an address and 3 condition bits), counting one transition per write",
            *(f"note: {n}" for n in self.notes),
        ]

    def _floor_bytes(self) -> int:
        for f in self.floor.values():
            return f.bytes_per_transition
        return FLOOR_BYTES_PER_TRANSITION

    def interpretation(self) -> str:
        """One sentence on what the Endpoints-versus-EndpointSlice comparison says."""
        ep, sl = self.kind("Endpoints"), self.kind("EndpointSlice")
        if ep.bytes_delivered == 0 and sl.bytes_delivered == 0:
            return "Nothing was delivered to watchers: no endpoint changed in this window."
        if sl.bytes_delivered == 0 or ep.bytes_delivered == 0:
            who = "EndpointSlices" if ep.bytes_delivered == 0 else "Endpoints"
            return f"Only {who} were delivered to watchers in this window."
        ratio = ep.bytes_delivered / sl.bytes_delivered
        why = (
            f"each Endpoints write carries the whole object (up to {format_bytes(ep.max_object_bytes)}), "
            f"a slice write one slice (up to {format_bytes(sl.max_object_bytes)}), "
            f"but slices took {sl.writes:,} writes to the Endpoints' {ep.writes:,}"
        )
        if 0.9 <= ratio <= 1.1:
            return (
                f"Endpoints and EndpointSlices cost watchers about the same here "
                f"({format_bytes(ep.bytes_delivered)} vs {format_bytes(sl.bytes_delivered)}): {why}; "
                "the gap opens as the Service spans more slices (more pods, or a smaller --max-endpoints-per-slice)."
            )
        if ratio > 1:
            return f"EndpointSlices cost watchers {ratio:,.1f}x fewer bytes than Endpoints: {why}."
        return f"EndpointSlices cost watchers {1 / ratio:,.1f}x more bytes than Endpoints: {why}."

    def __str__(self) -> str:
        rows = self._rows()
        kinds = self._columns()
        w0 = max(len(r[0]) for r in rows)
        widths = [max(len(kinds[i]), *(len(r[1][i]) for r in rows)) for i in range(len(kinds))]
        lines = [" " * w0 + "".join(f"  {k:>{w}}" for k, w in zip(kinds, widths, strict=True))]
        for label, vals in rows:
            lines.append(f"{label:<{w0}}" + "".join(f"  {v:>{w}}" for v, w in zip(vals, widths, strict=True)))
        lines.extend(self._footer())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(k)}</th>" for k in self._columns())
        body = "".join(
            f"<tr><th style='text-align:left'>{esc(label.strip())}</th>"
            + "".join(f"<td style='text-align:right'>{esc(v)}</td>" for v in vals)
            + "</tr>"
            for label, vals in self._rows()
        )
        foot = "".join(f"<div><small>{esc(t)}</small></div>" for t in self._footer())
        foot += f"<p>{esc(self.interpretation())}</p>"
        return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>{foot}"

    def __repr__(self) -> str:
        kinds = ", ".join(f"{k}: {v.writes} writes" for k, v in self.by_kind.items())
        return f"<ChurnReport size_model={self.size_model!r} {{{kinds}}}>"


_KIND_COLUMNS = [
    "kind",
    *[f.name for f in attrs.fields(KindChurn)],
    *[f"{p}_{q}" for p in ("size", "latency") for q in ("p50", "p90", "p99", "max")],
]


def format_bytes(n: float) -> str:
    """``n`` bytes in decimal units, three significant figures, as KEP-752 writes them.

    >>> format_bytes(999), format_bytes(10_000), format_bytes(2_000_000), format_bytes(22_500_000_000_000)
    ('999 B', '10.0 KB', '2.00 MB', '22.5 TB')
    """
    if n < 1000:
        return f"{int(n)} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB", "PB", "EB"):
        value /= 1000
        if value < 999.95 or unit == "EB":
            break
    if value >= 99.95:
        return f"{value:.0f} {unit}"
    if value >= 9.995:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}"


# ---------------------------------------------------------------------------- the fold


class _Acc:
    """Mutable totals of one kind (or one cause and kind)."""

    __slots__ = ("creates", "updates", "deletes", "bytes_written", "watch_events", "bytes_delivered",
                 "max_object_bytes", "failed")

    def __init__(self) -> None:
        self.creates = self.updates = self.deletes = self.failed = 0
        self.bytes_written = self.watch_events = self.bytes_delivered = self.max_object_bytes = 0

    def add_write(self, verb: str, size: int) -> None:
        if verb == "create":
            self.creates += 1
        elif verb == "delete":
            self.deletes += 1
        else:
            self.updates += 1
        self.bytes_written += size
        if size > self.max_object_bytes:
            self.max_object_bytes = size

    def freeze(self) -> KindChurn:
        return KindChurn(
            creates=self.creates,
            updates=self.updates,
            deletes=self.deletes,
            writes=self.creates + self.updates + self.deletes,
            bytes_written=self.bytes_written,
            watch_events=self.watch_events,
            bytes_delivered=self.bytes_delivered,
            max_object_bytes=self.max_object_bytes,
            failed_attempts=self.failed,
        )


def churn(
    changes: Iterable[ChangeEvent],
    *,
    groups: Sequence[WatcherGroup],
    size_model: str | SizeModel = "proto",
    since: float | None = None,
    until: float | None = None,
    floor_bytes_per_transition: int = FLOOR_BYTES_PER_TRANSITION,
    from_seq: int | None = None,
    to_seq: int | None = None,
    notes: Sequence[str] = (),
) -> ChurnReport:
    """Fold a change log into a :class:`ChurnReport`. Pure: the log is only read.

    Only committed writes count; the window is half-open, ``since <= time < until``, so
    adjacent windows add up to the whole. Its boundary is a virtual time, and writes share
    times: ``since=cluster.now`` taken right after ``cluster.run()`` also counts the writes made
    at that instant, which are the last writes of what ran before. To count exactly the writes
    of one block of code, window by log position instead: ``from_seq <= seq < to_seq``
    (``ChangeEvent.seq``), which is what ``with cluster.measure() as m:`` … ``m.churn()`` does.
    ``notes`` are carried into the report and printed under it. ``size_model`` is ``"proto"`` (``proto_bytes``,
    default), ``"json"`` (``json_bytes``) or any :class:`SizeModel` such as
    :class:`ConstantSizeModel`.

    Watch delivery follows the apiserver watch cache (``staging/src/k8s.io/apiserver/pkg/
    storage/cacher``): a group receives a write when its selector matches the new object
    (ADDED / MODIFIED) or matched the previous one (an update that takes the object out of
    the selector is a DELETED event carrying the *previous* object, charged at the previous
    size). Writes before ``since`` are still read to know each object's previous state.

    Cost: ``O(E × G)`` for ``E`` events and ``G`` groups watching the event's kind (a
    selector match each, memoised per label map); never proportional to group sizes.
    Memory: ``O(objects + distinct sizes)``. Given a :class:`~kubesim.changelog.ChangeLog`
    (with the ``"proto"`` or ``"json"`` size model), the fold reads the log's columns
    (:meth:`ChangeLog._rows <kubesim.changelog.ChangeLog._rows>`) and builds no
    :class:`ChangeEvent`, unless the log holds a hand-appended or odd record the columns
    cannot fold as its event would be (``_rows`` says so); any other iterable, or size
    model, is folded event by event (``_event_rows``). Both give the fold the same rows, so
    the same report.
    """
    model = _resolve_size_model(size_model)
    groups = tuple(groups)
    for g in groups:
        if not isinstance(g, WatcherGroup):
            raise InvalidOption(f"groups must hold WatcherGroup objects, got {g!r}")
    names = [g.name for g in groups]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidOption(f"watcher group names must be unique, duplicated: {dupes}")
    if since is not None and until is not None and until < since:
        raise InvalidOption(f"until={until!r} is before since={since!r}")
    for label, seq in (("from_seq", from_seq), ("to_seq", to_seq)):
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0):
            raise InvalidOption(f"{label} must be an integer >= 0 or None, got {seq!r}")
    if from_seq is not None and to_seq is not None and to_seq < from_seq:
        raise InvalidOption(f"to_seq={to_seq!r} is before from_seq={from_seq!r}")
    if not isinstance(floor_bytes_per_transition, int) or floor_bytes_per_transition < 0:
        raise InvalidOption(f"floor_bytes_per_transition must be an integer >= 0, got {floor_bytes_per_transition!r}")

    by_kind_groups: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_kind_groups.setdefault(g.kind, []).append(i)
    memo: list[dict[Mapping[str, str], bool]] = [{} for _ in groups]

    def passes(i: int, namespace: str, labels: Mapping[str, str]) -> bool:
        g = groups[i]
        if g.namespace is not None and namespace != g.namespace:
            return False
        cache = memo[i]
        hit = cache.get(labels)
        if hit is None:
            hit = g.matches(namespace, labels)
            cache[labels] = hit
        return hit

    kinds: dict[str, _Acc] = {}
    causes: dict[str, dict[str, _Acc]] = {}
    g_events = [0] * len(groups)
    g_bytes = [0] * len(groups)
    sizes: dict[str, dict[float, int]] = {}
    latency: dict[str, dict[float, int]] = {}
    series: dict[tuple[int, str], list[int]] = {}
    previous: dict[tuple[str, str, str], tuple[Mapping[str, str], int]] = {}

    lo_seq = -1 if from_seq is None else from_seq
    rows = None
    if isinstance(changes, ChangeLog) and (model is _PROTO or model is _JSON):
        rows = changes._rows("proto_bytes" if model is _PROTO else "json_bytes", to_seq)
    if rows is None:
        rows = _event_rows(changes, model, until, to_seq)
    for seq, t, (verb, kind, namespace, _, outcome, cause, has_trigger), name, labels, trigger_time, size in rows:
        if to_seq is not None and seq >= to_seq:
            break  # the log is in seq order
        if until is not None and t >= until:
            continue
        before = seq < lo_seq
        if outcome != "ok":
            if not before and (since is None or t >= since):
                failed = kinds.get(kind)
                if failed is None:
                    failed = kinds[kind] = _Acc()
                failed.failed += 1
            continue
        key = (kind, namespace, name)
        prev = previous.get(key) if verb == "update" else None
        if verb == "delete":
            previous.pop(key, None)
        else:
            previous[key] = (labels, size)
        if before or (since is not None and t < since):
            continue

        acc = kinds.get(kind)
        if acc is None:
            acc = kinds[kind] = _Acc()
        cause_name = cause or _UNATTRIBUTED
        cause_kinds = causes.setdefault(cause_name, {})
        cacc = cause_kinds.get(kind)
        if cacc is None:
            cacc = cause_kinds[kind] = _Acc()
        acc.add_write(verb, size)
        cacc.add_write(verb, size)
        hist = sizes.setdefault(kind, {})
        hist[size] = hist.get(size, 0) + 1
        if has_trigger:
            lat = latency.setdefault(kind, {})
            d = t - trigger_time
            lat[d] = lat.get(d, 0) + 1

        delivered_events = 0
        delivered_bytes = 0
        for i in by_kind_groups.get(kind, ()):
            g = groups[i]
            if g.size == 0:
                continue
            now_in = passes(i, namespace, labels)
            if now_in:
                charged = size  # ADDED, MODIFIED or DELETED with the object itself
            elif prev is not None and (prev[0] is not labels) and passes(i, namespace, prev[0]):
                charged = prev[1]  # left the selector: DELETED carrying the previous object
            else:
                continue
            g_events[i] += 1
            delivered_events += g.size
            delivered_bytes += charged * g.size
            g_bytes[i] += charged * g.size
        acc.watch_events += delivered_events
        acc.bytes_delivered += delivered_bytes
        cacc.watch_events += delivered_events
        cacc.bytes_delivered += delivered_bytes

        point = series.get((math.floor(t), kind))
        if point is None:
            point = series[(math.floor(t), kind)] = [0, 0, 0, 0]
        point[0] += 1
        point[1] += size
        point[2] += delivered_events
        point[3] += delivered_bytes

    frozen_kinds = {k: a.freeze() for k, a in kinds.items()}
    floor = {}
    for k in ENDPOINT_KINDS:
        kc = frozen_kinds.get(k, KindChurn())
        floor[k] = InformationFloor(
            transitions=kc.writes,
            floor_bytes=kc.watch_events * floor_bytes_per_transition,
            bytes_delivered=kc.bytes_delivered,
            bytes_per_transition=floor_bytes_per_transition,
        )
    return ChurnReport(
        size_model=model.name,
        since=since,
        until=until,
        groups=groups,
        by_kind=_frozen_mapping(frozen_kinds),
        by_group=_frozen_mapping(
            {
                g.name: GroupChurn(
                    name=g.name, kind=g.kind, size=g.size, events=g_events[i],
                    watch_events=g_events[i] * g.size, bytes_delivered=g_bytes[i],
                )
                for i, g in enumerate(groups)
            }
        ),
        by_cause=_frozen_mapping({c: _frozen_mapping({k: a.freeze() for k, a in m.items()}) for c, m in causes.items()}),
        sizes=_frozen_mapping({k: _dist(h) for k, h in sizes.items()}),
        latency=_frozen_mapping({k: _dist(h) for k, h in latency.items()}),
        series=tuple(
            SeriesPoint(second=s, kind=k, writes=v[0], bytes_written=v[1], watch_events=v[2], bytes_delivered=v[3])
            for (s, k), v in sorted(series.items())
        ),
        floor=_frozen_mapping(floor),
        from_seq=from_seq,
        to_seq=to_seq,
        notes=tuple(str(n) for n in notes),
    )


def _event_rows(
    changes: Iterable[ChangeEvent], model: SizeModel, until: float | None, to_seq: int | None
) -> Iterator[tuple[Any, ...]]:
    """``changes`` as the rows :func:`churn` folds (those of :meth:`ChangeLog._rows`, with
    ``actor`` ``None``, unread): the generic path, for any iterable of events and any size
    model. ``model.size(event)`` is asked exactly where the fold uses it — for a committed
    write before ``to_seq`` and ``until`` — so a size model sees the calls it always saw.
    ``O(1)`` per event."""
    for ev in changes:
        seq, t, outcome, trigger_time = ev.seq, ev.time, ev.outcome, ev.trigger_time
        sized = outcome == "ok" and (to_seq is None or seq < to_seq) and (until is None or t < until)
        yield (
            seq, t, (ev.verb, ev.kind, ev.namespace, None, outcome, ev.cause, trigger_time is not None), ev.name,
            ev.labels, trigger_time, model.size(ev) if sized else 0,
        )
