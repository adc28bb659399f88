"""The change log as data (DataFrame, files, replay) and exact measurement windows."""

from __future__ import annotations

import json
import pathlib

import pytest

import kubesim
from kubesim import scenarios
from kubesim.changelog import ChangeLog, replay
from kubesim.errors import InvalidOption

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPLOYMENT = str(ROOT / "examples" / "manifests" / "nginx-deployment.yaml")
SERVICE = str(ROOT / "examples" / "manifests" / "nginx-service.yaml")


def settled(*, record_objects: bool = False, replicas: int = 6, nodes: int = 3) -> kubesim.Cluster:
    cluster = kubesim.Cluster(seed=2, nodes=nodes, max_endpoints_per_slice=4, record_objects=record_objects)
    scenarios.deploy(cluster, "web", replicas=replicas)
    cluster.run()
    return cluster


# --------------------------------------------------------------------------------------------
# measure()


def test_measure_counts_exactly_the_writes_of_the_block() -> None:
    cluster = settled()
    with cluster.measure() as m:
        scenarios.set_image(cluster, "web", "nginx:1.26")
        cluster.run()
    inside = [e for e in cluster.changes if m.start <= e.seq < m.stop and e.committed]
    report = m.churn()
    for kind in ("Endpoints", "EndpointSlice", "Pod", "Deployment"):
        oracle = [e for e in inside if e.kind == kind]
        got = report.kind(kind)
        assert got.writes == len(oracle) > 0, kind
        assert got.creates == sum(e.verb == "create" for e in oracle)
        assert got.bytes_written == sum(e.proto_bytes for e in oracle)
    assert list(m.changes) == list(cluster.changes[m.start : m.stop])


def test_since_now_also_counts_the_previous_phases_last_writes() -> None:
    """The documented boundary: since= is inclusive, and the settling's last writes share the
    time cluster.now reads after run(). measure() does not count them."""
    cluster = settled()
    start = cluster.now
    last = [e for e in cluster.changes if e.time == start and e.kind in ("Endpoints", "EndpointSlice")]
    with cluster.measure() as m:
        scenarios.set_image(cluster, "web", "nginx:1.26")
        cluster.run()
    by_time, exact = cluster.churn(since=start), m.churn()
    for kind in ("Endpoints", "EndpointSlice"):
        extra = sum(e.kind == kind for e in last)
        assert by_time.kind(kind).writes == exact.kind(kind).writes + extra
    assert last  # the case the tutorial hit


def test_measure_while_open_counts_so_far_and_later_writes_do_not_count() -> None:
    cluster = settled()
    with cluster.measure() as m:
        scenarios.scale(cluster, "web", 8)
        cluster.run()
        open_report = m.churn()
    scenarios.scale(cluster, "web", 2)
    cluster.run()
    assert m.churn().by_kind == open_report.by_kind and m.churn().to_seq == m.stop
    assert m.churn().kind("Pod").creates == 2 and m.churn().kind("Pod").deletes == 0


def test_measure_delivery_uses_the_state_before_the_block() -> None:
    # An update inside the block whose object left a watcher's selector is charged at its
    # previous size, which the fold reads from before the block: same as a full-log fold.
    cluster = settled()
    with cluster.measure() as m:
        scenarios.delete_pod(cluster, sorted(p.metadata.name for p in cluster.list("Pod"))[0])
        cluster.run()
    full = kubesim.report.churn(cluster.changes, groups=kubesim.report.default_groups(3), from_seq=m.start)
    assert m.churn(notes=()).by_kind == full.by_kind


def test_measure_misuse() -> None:
    cluster = settled(replicas=1, nodes=1)
    m = cluster.measure()
    with pytest.raises(InvalidOption, match="context manager"):
        m.churn()
    with m:
        pass
    with pytest.raises(InvalidOption, match="once"), m:
        pass
    with pytest.raises(InvalidOption, match="since"):
        m.churn(since=0.0)
    with pytest.raises(InvalidOption, match="to_seq"):
        cluster.churn(from_seq=5, to_seq=2)
    with pytest.raises(InvalidOption, match="from_seq"):
        cluster.churn(from_seq=-1)


# --------------------------------------------------------------------------------------------
# to_dataframe


def test_to_dataframe_has_one_typed_row_per_record() -> None:
    pd = pytest.importorskip("pandas")
    cluster = settled()
    df = cluster.changes.to_dataframe()
    assert len(df) == len(cluster.changes)
    assert str(df["seq"].dtype) == "int64" and str(df["proto_bytes"].dtype) == "int64"
    assert str(df["time"].dtype) == "float64"
    assert str(df["trigger_time"].dtype) == "Float64"
    assert isinstance(df["kind"].dtype, pd.CategoricalDtype) and isinstance(df["verb"].dtype, pd.CategoricalDtype)
    assert str(df["name"].dtype) == "string"
    for row, e in zip(df.itertuples(index=False), cluster.changes, strict=True):
        assert (row.seq, row.time, row.verb, row.kind, row.name, row.proto_bytes) == (
            e.seq, e.time, e.verb, e.kind, e.name, e.proto_bytes)
        assert row.labels == dict(e.labels)
        assert (pd.isna(row.trigger_time) and e.trigger_time is None) or row.trigger_time == e.trigger_time
    # the question users asked: bytes by kind
    sums = df.groupby("kind", observed=True)["proto_bytes"].sum()
    assert sums["EndpointSlice"] == sum(e.proto_bytes for e in cluster.changes if e.kind == "EndpointSlice")


# --------------------------------------------------------------------------------------------
# save / load


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_save_and_load_round_trip_every_record(tmp_path: pathlib.Path, suffix: str) -> None:
    if suffix == "parquet":
        pytest.importorskip("pyarrow")
    cluster = settled(record_objects=True)
    scenarios.set_image(cluster, "web", "nginx:1.26")
    cluster.run()
    path = tmp_path / f"run.{suffix}"
    cluster.changes.save(path, metadata={"seed": 2, "note": "test"})
    loaded = ChangeLog.load(path)
    assert len(loaded) == len(cluster.changes)
    for a, b in zip(loaded, cluster.changes, strict=True):
        assert a == b  # every field but the object (eq=False) ...
        assert a.object == b.object  # ... and the object too
        assert dict(a.labels) == dict(b.labels) and a.trigger_time == b.trigger_time
    assert loaded.metadata == {"seed": 2, "note": "test"}
    assert replay(loaded) == replay(cluster.changes) == cluster.api.snapshot()
    # a churn report from the loaded log is the live one (less the notes read from live state)
    assert loaded.churn().to_dict() == cluster.churn(notes=()).to_dict()


def test_saved_jsonl_carries_the_version_header(tmp_path: pathlib.Path) -> None:
    cluster = settled(replicas=1, nodes=1)
    path = tmp_path / "run.jsonl"
    cluster.changes.save(path)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["format"] == "kubesim.changelog/v1" and header["kubesim"] == kubesim.__version__
    assert len(path.read_text().splitlines()) == len(cluster.changes) + 1


def test_load_rejects_what_is_not_a_log(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"hello": 1}\n')
    with pytest.raises(InvalidOption, match="not a kubesim change log"):
        ChangeLog.load(bad)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(InvalidOption, match="empty"):
        ChangeLog.load(tmp_path / "empty.jsonl")
    with pytest.raises(InvalidOption, match="unknown file type"):
        settled(replicas=1, nodes=1).changes.save(tmp_path / "x.csv")


def test_changelog_html() -> None:
    cluster = settled(replicas=2, nodes=1)
    text = cluster.changes._repr_html_()
    assert "<table>" in text and "EndpointSlice" in text and f"{len(cluster.changes):,} records" in text


# --------------------------------------------------------------------------------------------
# replay


def test_replay_of_a_prefix_is_the_state_then() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=1, record_objects=True)
    cluster.apply_file(SERVICE)
    n = len(cluster.changes)
    svc = cluster.get("Service", "nginx-service")
    cluster.apply_file(DEPLOYMENT)
    cluster.run()
    assert replay(cluster.changes[:n])[("Service", "default", "nginx-service")] == svc
    assert replay(cluster.changes) == cluster.api.snapshot()
    with pytest.raises(ValueError, match="record_objects"):
        replay(kubesim.Cluster(seed=0, nodes=1).changes)
