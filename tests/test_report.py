"""Tests for :mod:`kubesim.report`: the churn report, a pure fold over the change log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim.changelog import ChangeEvent
from kubesim.errors import InvalidOption, InvalidSelector
from kubesim.objects import FrozenDict
from kubesim.report import (
    KUBE_PROXY_SELECTOR,
    ConstantSizeModel,
    Distribution,
    WatcherGroup,
    churn,
    default_groups,
    format_bytes,
    kube_proxy_groups,
)

HEADLESS = "service.kubernetes.io/headless"
PROXY_NAME = "service.kubernetes.io/service-proxy-name"


def ev(
    seq: int,
    time: float,
    verb: str,
    kind: str,
    name: str,
    proto: int,
    *,
    json_bytes: int | None = None,
    labels: dict[str, str] | None = None,
    trigger: float | None = None,
    outcome: str = "ok",
    cause: str = "",
    namespace: str = "default",
) -> ChangeEvent:
    return ChangeEvent(
        seq=seq,
        time=time,
        verb=verb,
        kind=kind,
        namespace=namespace,
        name=name,
        resource_version=seq + 1 if outcome == "ok" else 0,
        actor="test",
        json_bytes=json_bytes if json_bytes is not None else proto * 2,
        proto_bytes=proto,
        labels=FrozenDict(labels or {}),
        trigger_time=trigger,
        outcome=outcome,
        cause=cause,
    )


SLICE_LABELS = {"kubernetes.io/service-name": "web"}

# A small hand-computed log: Endpoints 'web' and slice 'web-1', 4 nodes.
LOG = [
    ev(0, 0.0, "create", "Endpoints", "web", 200, trigger=0.0, cause="scale"),
    ev(1, 0.0, "create", "EndpointSlice", "web-1", 300, labels=SLICE_LABELS, trigger=0.0, cause="scale"),
    ev(2, 1.5, "update", "Endpoints", "web", 260, trigger=1.0, cause="scale"),
    ev(3, 1.5, "update", "EndpointSlice", "web-1", 380, labels=SLICE_LABELS, trigger=1.0, cause="scale"),
    ev(4, 2.0, "update", "EndpointSlice", "web-1", 999, labels=SLICE_LABELS, outcome="Conflict"),
    ev(5, 3.25, "create", "Pod", "web-x", 1000),
    ev(6, 4.0, "delete", "EndpointSlice", "web-1", 380, labels=SLICE_LABELS, trigger=1.0),
    ev(7, 4.0, "delete", "Endpoints", "web", 260, trigger=1.0),
]


def test_hand_computed_totals() -> None:
    r = churn(LOG, groups=kube_proxy_groups(4))
    s = r.by_kind["EndpointSlice"]
    assert (s.creates, s.updates, s.deletes, s.writes) == (1, 1, 1, 3)  # the Conflict does not count
    assert s.bytes_written == 300 + 380 + 380
    assert s.watch_events == 3 * 4
    assert s.bytes_delivered == (300 + 380 + 380) * 4
    assert s.max_object_bytes == 380
    e = r.by_kind["Endpoints"]
    assert (e.creates, e.updates, e.deletes, e.writes) == (1, 1, 1, 3)
    assert e.bytes_delivered == (200 + 260 + 260) * 4
    pod = r.by_kind["Pod"]
    assert (pod.writes, pod.watch_events, pod.bytes_delivered) == (1, 0, 0)
    assert r.by_group["kube-proxy"].events == 3
    assert r.by_group["kube-proxy"].watch_events == 12
    assert r.by_group["kube-proxy (legacy Endpoints)"].bytes_delivered == 720 * 4


def test_size_models() -> None:
    r = churn(LOG, groups=kube_proxy_groups(1), size_model="json")
    assert r.by_kind["EndpointSlice"].bytes_written == 2 * (300 + 380 + 380)
    assert r.size_model == "json"
    const = ConstantSizeModel(bytes_per_endpoint=100, base=50, endpoints=lambda e: 3 if e.kind == "EndpointSlice" else 0)
    r = churn(LOG, groups=kube_proxy_groups(2), size_model=const)
    assert r.by_kind["EndpointSlice"].bytes_written == 3 * 350
    assert r.by_kind["EndpointSlice"].bytes_delivered == 3 * 350 * 2
    assert r.by_kind["Endpoints"].bytes_written == 3 * 50
    with pytest.raises(InvalidOption):
        ConstantSizeModel(bytes_per_endpoint=100)
    with pytest.raises(InvalidOption):
        churn(LOG, groups=(), size_model="xml")


def test_kep_case1_single_update_and_create() -> None:
    # KEP-752 Sample Case 1 (20k endpoints, 5000 nodes) with the KEP's ~100 B per endpoint.
    nodes, pods, per_slice = 5000, 20_000, 100
    model = ConstantSizeModel(bytes_per_endpoint=100, endpoints=lambda e: pods if e.kind == "Endpoints" else per_slice)
    log = [ev(0, 0.0, "create", "Endpoints", "svc", 0)]
    log += [ev(1 + i, 0.0, "create", "EndpointSlice", f"svc-{i}", 0) for i in range(pods // per_slice)]
    r = churn(log, groups=kube_proxy_groups(nodes), size_model=model)
    assert r.by_kind["Endpoints"].watch_events == 5000
    assert r.by_kind["EndpointSlice"].watch_events == 1_000_000
    assert r.by_kind["Endpoints"].bytes_delivered == 10 * 10**9  # 10 GB
    assert r.by_kind["EndpointSlice"].bytes_delivered == 10 * 10**9  # 10 GB
    # Single endpoint update: 10 GB vs 50 MB.
    upd = [ev(0, 0.0, "update", "Endpoints", "svc", 0), ev(1, 0.0, "update", "EndpointSlice", "svc-0", 0)]
    r = churn(upd, groups=kube_proxy_groups(nodes), size_model=model)
    assert r.by_kind["Endpoints"].bytes_delivered == 10 * 10**9
    assert r.by_kind["EndpointSlice"].bytes_delivered == 50 * 10**6


def test_case2_typo_formula() -> None:
    # KEP-752 Case 2 prints "1" watch event for a single update; the formula O(N) gives N = 10.
    r = churn([ev(0, 0.0, "update", "EndpointSlice", "s", 1000)], groups=kube_proxy_groups(10))
    assert r.by_kind["EndpointSlice"].watch_events == 10
    assert r.by_kind["EndpointSlice"].bytes_delivered == 10_000


@pytest.mark.parametrize(
    "labels",
    [
        {**SLICE_LABELS, HEADLESS: ""},
        {**SLICE_LABELS, PROXY_NAME: "other-proxy"},
        {HEADLESS: "", PROXY_NAME: "x"},
    ],
)
def test_selector_excludes_headless_and_other_proxies(labels: dict[str, str]) -> None:
    log = [
        ev(0, 0.0, "create", "EndpointSlice", "h-1", 500, labels=labels),
        ev(1, 0.0, "create", "Endpoints", "h", 500, labels=labels),
    ]
    r = churn(log, groups=kube_proxy_groups(100))
    for kind in ("EndpointSlice", "Endpoints"):
        assert r.by_kind[kind].writes == 1
        assert r.by_kind[kind].bytes_written == 500
        assert r.by_kind[kind].watch_events == 0
        assert r.by_kind[kind].bytes_delivered == 0
    # A group with no selector still sees them.
    everyone = WatcherGroup("audit", "EndpointSlice", 2)
    r = churn(log, groups=(everyone,))
    assert r.by_kind["EndpointSlice"].bytes_delivered == 1000


def test_label_change_out_of_selector_is_a_deleted_event_with_previous_object() -> None:
    log = [
        ev(0, 0.0, "create", "EndpointSlice", "s", 100, labels=SLICE_LABELS),
        ev(1, 1.0, "update", "EndpointSlice", "s", 150, labels={**SLICE_LABELS, HEADLESS: ""}),
        ev(2, 2.0, "update", "EndpointSlice", "s", 170, labels={**SLICE_LABELS, HEADLESS: ""}),
        ev(3, 3.0, "update", "EndpointSlice", "s", 120, labels=SLICE_LABELS),
    ]
    r = churn(log, groups=kube_proxy_groups(3))
    # create (100) + DELETED carrying the previous object (100) + nothing + ADDED (120)
    assert r.by_kind["EndpointSlice"].watch_events == 3 * 3
    assert r.by_kind["EndpointSlice"].bytes_delivered == (100 + 100 + 120) * 3


def test_namespace_group() -> None:
    log = [
        ev(0, 0.0, "create", "EndpointSlice", "a", 100, namespace="kube-system"),
        ev(1, 0.0, "create", "EndpointSlice", "b", 100, namespace="default"),
    ]
    g = WatcherGroup("dns", "endpointslices", 7, namespace="kube-system")
    assert g.kind == "EndpointSlice"
    r = churn(log, groups=(g,))
    assert r.by_group["dns"].watch_events == 7
    assert r.by_group["dns"].bytes_delivered == 700


def test_watcher_group_validation() -> None:
    with pytest.raises(InvalidOption):
        WatcherGroup("x", "EndpointSlice", -1)
    with pytest.raises(InvalidSelector):
        WatcherGroup("x", "EndpointSlice", 1, "a b")
    with pytest.raises(InvalidOption):
        churn([], groups=(WatcherGroup("x", "Endpoints", 1), WatcherGroup("x", "EndpointSlice", 1)))
    proxy, legacy = kube_proxy_groups(1)
    assert (proxy.kind, proxy.selector) == ("EndpointSlice", KUBE_PROXY_SELECTOR)
    assert (legacy.kind, legacy.selector) == ("Endpoints", KUBE_PROXY_SELECTOR)
    assert default_groups(5) == kube_proxy_groups(5)


def test_windows_are_half_open_and_add_up() -> None:
    groups = kube_proxy_groups(4)
    whole = churn(LOG, groups=groups)
    early = churn(LOG, groups=groups, until=1.5)
    late = churn(LOG, groups=groups, since=1.5)
    assert early.by_kind["EndpointSlice"].writes == 1
    assert late.by_kind["EndpointSlice"].writes == 2
    for kind in whole.by_kind:
        for field in ("writes", "bytes_written", "watch_events", "bytes_delivered"):
            parts = getattr(early.kind(kind), field) + getattr(late.kind(kind), field)
            assert parts == getattr(whole.by_kind[kind], field)
    mid = churn(LOG, groups=groups, since=1.0, until=4.0)
    assert set(mid.by_kind) == {"Endpoints", "EndpointSlice", "Pod"}
    assert mid.by_kind["EndpointSlice"].writes == 1
    with pytest.raises(InvalidOption):
        churn(LOG, groups=groups, since=2.0, until=1.0)


def test_time_series_latency_causes_and_floor() -> None:
    r = churn(LOG, groups=kube_proxy_groups(4))
    slice_pts = [(p.second, p.writes, p.bytes_delivered) for p in r.series if p.kind == "EndpointSlice"]
    assert slice_pts == [(0, 1, 1200), (1, 1, 1520), (4, 1, 1520)]
    assert [p.second for p in r.series] == sorted(p.second for p in r.series)
    lat = r.latency["EndpointSlice"]
    assert lat.values == ((0.0, 1), (0.5, 1), (3.0, 1))
    assert (lat.p50, lat.p99, lat.max) == (0.5, 3.0, 3.0)
    assert "Pod" not in r.latency
    assert r.by_cause["scale"]["EndpointSlice"].writes == 2
    assert r.by_cause["unattributed"]["EndpointSlice"].writes == 1
    assert r.by_cause["unattributed"]["Pod"].writes == 1
    f = r.floor["EndpointSlice"]
    assert f.transitions == 3
    assert f.floor_bytes == 3 * 4 * 10
    assert f.ratio == pytest.approx((300 + 380 + 380) * 4 / 120)
    sz = r.sizes["EndpointSlice"]
    assert sz.values == ((300, 1), (380, 2))
    assert (sz.p50, sz.p90, sz.max) == (380, 380, 380)


def test_distribution_nearest_rank() -> None:
    d = Distribution(tuple((float(v), 1) for v in range(1, 101)))
    assert (d.p50, d.p90, d.p99, d.max) == (50.0, 90.0, 99.0, 100.0)
    assert Distribution().p99 is None
    with pytest.raises(InvalidOption):
        d.percentile(0)


def test_format_bytes() -> None:
    assert format_bytes(0) == "0 B"
    assert format_bytes(10 * 10**9) == "10.0 GB"
    assert format_bytes(200 * 10**12) == "200 TB"
    assert format_bytes(4.5e9) == "4.50 GB"
    assert format_bytes(999_999) == "1.00 MB"


def test_print_and_html() -> None:
    r = churn(LOG, groups=kube_proxy_groups(4))
    text = str(r)
    lines = text.splitlines()
    assert "Endpoints" in lines[0] and "EndpointSlice" in lines[0]
    row = next(line for line in lines if line.startswith("bytes delivered"))
    assert row.split() == ["bytes", "delivered", "2.88", "KB", "4.24", "KB"]
    assert "1 KB = 1000 B" in text
    assert "<table>" in r._repr_html_()


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["create", "update", "delete"]),
            st.sampled_from(["Endpoints", "EndpointSlice", "Pod"]),
            st.sampled_from(["a", "b"]),
            st.integers(0, 5000),
            st.sampled_from([{}, {HEADLESS: ""}, {PROXY_NAME: "p"}, {"x": "y"}]),
            st.sampled_from(["ok", "ok", "Conflict"]),
        ),
        max_size=40,
    ),
    st.integers(0, 50),
)
def test_totals_equal_sums_over_the_log(rows: list[Any], nodes: int) -> None:
    log = [ev(i, i * 0.5, verb, kind, name, size, labels=lab, outcome=out) for i, (verb, kind, name, size, lab, out) in enumerate(rows)]
    r = churn(log, groups=(WatcherGroup("all-slices", "EndpointSlice", nodes),))
    committed = [e for e in log if e.outcome == "ok"]
    for kind in {e.kind for e in committed}:
        mine = [e for e in committed if e.kind == kind]
        k = r.by_kind[kind]
        assert k.writes == len(mine) == k.creates + k.updates + k.deletes
        assert k.bytes_written == sum(e.proto_bytes for e in mine)
        assert k.max_object_bytes == max(e.proto_bytes for e in mine)
        expected = sum(e.proto_bytes for e in mine) * nodes if kind == "EndpointSlice" else 0
        assert k.bytes_delivered == expected  # no selector: every write reaches every watcher
        assert sum(p.writes for p in r.series if p.kind == kind) == len(mine)
        assert sum(p.bytes_delivered for p in r.series if p.kind == kind) == k.bytes_delivered
        assert sum(m[kind].writes for m in r.by_cause.values() if kind in m) == len(mine)
    assert set(r.by_kind) == {e.kind for e in log}  # kinds with only refused attempts too
    for kind in {e.kind for e in log}:
        assert r.by_kind[kind].failed_attempts == sum(1 for e in log if e.kind == kind and e.outcome != "ok")


def test_to_json_is_deterministic() -> None:
    a = churn(LOG, groups=kube_proxy_groups(4)).to_json()
    b = churn(list(LOG), groups=kube_proxy_groups(4)).to_json()
    assert a == b
    d = json.loads(a)
    assert d["by_kind"]["EndpointSlice"]["bytes_delivered"] == 4240
    assert list(d) == sorted(d)
    assert d == churn(LOG, groups=kube_proxy_groups(4)).to_dict()  # plain JSON data


MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""


def _run_cluster() -> Any:
    from kubesim.cluster import Cluster

    cluster = Cluster(seed=0, nodes=3)
    cluster.apply_yaml(MANIFEST)
    cluster.run()
    return cluster


def test_real_cluster_run() -> None:
    cluster = _run_cluster()
    r = churn(cluster.changes, groups=default_groups(3))
    slices = [e for e in cluster.changes if e.kind == "EndpointSlice" and e.outcome == "ok"]
    eps = [e for e in cluster.changes if e.kind == "Endpoints" and e.outcome == "ok"]
    assert slices and eps
    assert r.by_kind["EndpointSlice"].bytes_delivered == sum(e.proto_bytes for e in slices) * 3
    assert r.by_kind["Endpoints"].bytes_delivered == sum(e.proto_bytes for e in eps) * 3
    assert r.by_kind["EndpointSlice"].writes == len(slices)
    assert r.latency["EndpointSlice"].count == sum(1 for e in slices if e.trigger_time is not None)
    assert all(v >= 0 for v, _ in r.latency["EndpointSlice"].values)
    if hasattr(cluster, "churn"):  # the facade the lead wires up
        assert cluster.churn().to_json() == r.to_json()
    # Same seed, same report.
    assert churn(_run_cluster().changes, groups=default_groups(3)).to_json() == r.to_json()


def test_to_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    r = churn(LOG, groups=kube_proxy_groups(4))
    df = r.to_dataframe()
    assert isinstance(df, pd.DataFrame)
    assert int(df.loc["EndpointSlice", "bytes_delivered"]) == 4240
    assert df.loc["EndpointSlice", "size_max"] == 380
    assert len(r.to_dataframe("series")) == len(r.series)
    assert list(r.to_dataframe("groups").index) == ["kube-proxy", "kube-proxy (legacy Endpoints)"]
    assert len(r.to_dataframe("causes")) == sum(len(m) for m in r.by_cause.values())
    with pytest.raises(InvalidOption):
        r.to_dataframe("nope")


def test_to_dataframe_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install kubesim\[notebook\]"):
        churn(LOG, groups=kube_proxy_groups(4)).to_dataframe()


def test_plot() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    report = churn(LOG, groups=kube_proxy_groups(4))
    fig = report.plot()
    assert isinstance(fig, Figure)
    ax_t, ax_s, ax_h = fig.axes
    assert {line.get_label() for line in ax_t.get_lines()} == {"Endpoints", "EndpointSlice"}
    # the traffic lines are the report's series, in bytes
    for line in ax_t.get_lines():
        pts = [p for p in report.series if p.kind == line.get_label()]
        assert list(line.get_ydata()) == [p.bytes_delivered for p in pts]  # type: ignore[arg-type]
    # sizes side by side: one bar per percentile per kind, at the distribution's values
    for kind, container in zip(("Endpoints", "EndpointSlice"), ax_s.containers, strict=True):
        dist = report.sizes.get(kind)
        want = [0 if dist is None or getattr(dist, q) is None else getattr(dist, q) for q in ("p50", "p90", "p99", "max")]
        assert container.get_label() == kind
        assert [bar.get_height() for bar in container] == want  # type: ignore[attr-defined]
    # the histograms hold every write of both kinds
    writes = sum(report.sizes[k].count for k in ("Endpoints", "EndpointSlice") if k in report.sizes)
    heights = sum(p.get_height() for p in ax_h.patches if isinstance(p, Rectangle))
    assert ax_h.get_xscale() == "log" and writes > 0 and heights == writes


def test_plot_axes_read_in_human_units() -> None:
    pytest.importorskip("matplotlib")
    from kubesim.plotting import tick_bytes

    fig = churn(LOG, groups=kube_proxy_groups(4)).plot()
    fig.canvas.draw()  # type: ignore[no-untyped-call]
    ax_t, ax_s, _ = fig.axes
    for ax in (ax_t, ax_s):
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert labels and all(t == "0" or t.endswith("B") for t in labels), labels
        assert ax.yaxis.get_offset_text().get_text() == ""  # no 1e7 offset
    assert ax_t.get_xlabel() == "virtual time (s)"
    assert [tick_bytes(v) for v in (0, 999, 1000, 1500, 12_340_000, 2e9, -3e6)] == [
        "0", "999 B", "1 KB", "1.5 KB", "12.3 MB", "2 GB", "-3 MB"]


def test_plot_shows_itself_as_png() -> None:
    pytest.importorskip("matplotlib")
    png = churn(LOG, groups=kube_proxy_groups(4)).plot()._repr_png_()  # type: ignore[attr-defined]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


# --------------------------------------------------------------------------------------------
# notes and legend (issue 18)


def test_capped_mirroring_and_truncation_are_noted() -> None:
    import kubesim
    from kubesim.measure import cluster_notes

    addresses = "\n".join(f"      - ip: 10.1.{i // 250}.{i % 250 + 1}" for i in range(1001))
    cluster = kubesim.Cluster(seed=0, nodes=1)
    cluster.apply_yaml(
        "apiVersion: v1\nkind: Service\nmetadata: {name: big}\nspec:\n  ports: [{port: 80}]\n---\n"
        "apiVersion: v1\nkind: Endpoints\nmetadata: {name: big}\nsubsets:\n  - ports: [{port: 80}]\n"
        f"    addresses:\n{addresses}\n"
    )
    cluster.run()
    notes = cluster_notes(cluster)
    assert len(notes) == 1 and "mirrors only 1,000" in notes[0] and "default/big" in notes[0]
    report = cluster.churn()
    assert report.notes == notes and f"note: {notes[0]}" in str(report).splitlines()
    assert report.to_dict()["notes"] == list(notes)
    # a truncated Endpoints (the controller's annotation) gets the other note
    ep = cluster.get("Endpoints", "big")
    import attrs

    meta = attrs.evolve(ep.metadata, annotations={"endpoints.kubernetes.io/over-capacity": "truncated"})
    cluster.update(attrs.evolve(ep, metadata=meta))
    assert "hold only 1,000 addresses" in cluster_notes(cluster)[0]


def test_the_legend_defines_every_row_that_needs_it() -> None:
    import kubesim
    from kubesim import scenarios

    cluster = kubesim.Cluster(seed=0, nodes=2)
    scenarios.deploy(cluster, "web", replicas=3)
    cluster.run()
    text = str(cluster.churn())
    assert "p99 latency: the 99th percentile of the time from a pod change" in text
    assert "× information floor: bytes delivered / (watch events × 10 B)" in text
    assert "1 KB = 1000 B" in text and "latency in virtual seconds" in text
    assert "interpretation" not in text  # the one-line interpretation is its own method
    assert cluster.churn().interpretation().endswith(".")


def test_plot_of_an_empty_report_still_draws() -> None:
    pytest.importorskip("matplotlib")
    fig = churn([], groups=kube_proxy_groups(4)).plot()
    assert len(fig.axes) == 3 and fig._repr_png_().startswith(b"\x89PNG")  # type: ignore[attr-defined]


def test_sweep_plot_units() -> None:
    pytest.importorskip("matplotlib")
    import kubesim
    from kubesim.plotting import InlineFigure

    result = kubesim.sweep("scale_up", {"pods": [2, 3]}, executor="serial")
    sizes = result.plot("pods", "EndpointSlice.size_max")
    assert isinstance(sizes, InlineFigure)
    sizes.canvas.draw()  # type: ignore[no-untyped-call]
    (ax,) = sizes.axes
    assert ax.get_ylabel() == "EndpointSlice.size_max (bytes)"
    assert all(t.get_text().endswith(" B") for t in ax.get_yticklabels() if t.get_text())
    assert result.plot("pods", "latency_p99").axes[0].get_ylabel() == "latency_p99 (virtual seconds)"
    assert result.plot("pods", "writes").axes[0].get_ylabel() == "writes"
