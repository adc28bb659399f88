"""The lean engine against its oracle, the full model: identical change logs record for record
over drawn sizes, options and seeds, plus fixed regression cases; unsupported options raise."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kubesim
from kubesim import lean, report, scenarios
from kubesim.lean.check import Divergence, compare_logs

_OPTIONS = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "nodes": st.integers(1, 12),
    "zones": st.integers(1, 4),
    "max_endpoints_per_slice": st.sampled_from([2, 3, 5, 100]),
    "endpoint_updates_batch_period": st.sampled_from([0.0, 1.0]),
    "endpointslice_updates_batch_period": st.sampled_from([0.0, 1.0]),
    "endpoints_truncate": st.booleans(),
})
_DEPLOY = st.fixed_dictionaries({
    "max_surge": st.sampled_from(["25%", 0, 1, "50%"]),
    "max_unavailable": st.sampled_from(["25%", 1, "100%"]),
    "readiness_probe": st.booleans(),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pods=st.integers(0, 40), options=_OPTIONS, deploy=_DEPLOY, rescale=st.none() | st.integers(0, 40))
def test_lean_log_equals_full_log(pods: int, options: dict, deploy: dict, rescale: int | None) -> None:
    # check=True compares after every step and raises Divergence at the first differing record
    c = lean.LeanCluster(check=True, **options)
    c.deploy("web", replicas=pods, **deploy)
    c.run()
    c.set_image("web", "nginx:1.26")
    c.run()
    if rescale is not None:
        c.scale("web", rescale)
        c.run()
    assert c._full is not None
    assert len(c.changes) == len(c._full.changes) > 0
    assert c.snapshot() == c._full.api.snapshot()


@pytest.mark.parametrize(("pods", "nodes", "options"), [
    (3, 2, {}),
    (120, 30, {"max_endpoints_per_slice": 7}),
    (60, 4, {"endpoint_updates_batch_period": 1.0, "endpointslice_updates_batch_period": 1.0}),
])
def test_fixed_rollouts(pods: int, nodes: int, options: dict) -> None:
    c = lean.run_rollout(pods, nodes=nodes, seed=7, check=True, **options)
    assert len(c.changes) == len(c._full.changes)


def test_endpoints_truncation_past_1000_addresses() -> None:
    c = lean.run_rollout(1010, nodes=20, seed=1, check=True, deploy={"max_surge": "10%"})
    assert any(e.kind == "Endpoints" and e.name == "web" for e in c.changes)


def test_churn_report_over_the_lean_log_is_identical() -> None:
    c = lean.run_rollout(30, nodes=5, seed=3, check=True)
    groups = report.default_groups(5)
    assert report.churn(c.changes, groups=groups) == report.churn(c._full.changes, groups=groups)
    assert c.churn() == c._full.churn()


def test_log_reads_like_a_changelog() -> None:
    c = lean.run_rollout(5, nodes=2, seed=0)
    full = kubesim.Cluster(seed=0, nodes=2)
    scenarios.deploy(full, "web", replicas=5)
    full.run()
    scenarios.set_image(full, "web", "nginx:1.26")
    full.run()
    log = c.changes
    assert list(log) == list(full.changes)
    assert log[-1] == full.changes[-1] and log[3:7] == list(full.changes)[3:7]
    assert log.where(kind="Pod", verb="delete") == full.changes.where(kind="Pod", verb="delete")
    assert log.next_seq == len(full.changes)
    assert log.column("json_bytes") == [e.json_bytes for e in full.changes]
    with pytest.raises(IndexError):
        log[len(log)]


def test_divergence_names_record_and_field() -> None:
    a = lean.run_rollout(4, nodes=2, seed=0).changes
    b = lean.run_rollout(4, nodes=2, seed=1).changes
    with pytest.raises(Divergence) as info:
        compare_logs(a, b)
    assert info.value.seq >= 0 and info.value.field in ("name", "json_bytes", "proto_bytes", "time")
    with pytest.raises(Divergence) as info2:
        compare_logs(a, list(a)[:-1])
    assert info2.value.field == "length"
    assert compare_logs(a, list(a)) == len(a)


def test_check_mode_catches_a_wrong_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesim.lean import log as lean_log

    real = lean_log.LeanLog.append

    def off_by_one(self, time, verb, kind, ns, name, rv, actor, j, p, labels, trig, cause):  # type: ignore[no-untyped-def]
        if kind == "Endpoints" and verb == "update":
            j += 1
        return real(self, time, verb, kind, ns, name, rv, actor, j, p, labels, trig, cause)

    monkeypatch.setattr(lean_log.LeanLog, "append", off_by_one)
    c = lean.LeanCluster(seed=0, nodes=2, check=True)
    c.deploy("web", replicas=3)
    with pytest.raises(Divergence) as info:
        c.run()
    assert info.value.field == "json_bytes"


@pytest.mark.parametrize("options", [
    {"dual_stack": True},
    {"faults": None},
    {"slice_reconciler": "reference"},
    {"timing": kubesim.Timing(controller_sync=0.1)},
])
def test_unsupported_options_raise(options: dict) -> None:
    with pytest.raises(lean.Unsupported):
        lean.LeanCluster(**options)


def test_unsupported_workloads_raise() -> None:
    c = lean.LeanCluster(nodes=1)
    with pytest.raises(lean.Unsupported):
        c.deploy("web", replicas=1, min_ready_seconds=5)
    c.deploy("web", replicas=1)
    with pytest.raises(lean.Unsupported):
        c.deploy("other", replicas=1)


@pytest.mark.parametrize(("pods", "nodes", "b", "batch"), [(12, 4, 5, 0.0), (25, 6, 100, 1.0)])
def test_rolling_update_report_equals_the_full_scenario(pods: int, nodes: int, b: int, batch: float) -> None:
    import importlib

    sweep = importlib.import_module("kubesim.sweep")
    _, full = scenarios.rolling_update_churn(pods=pods, nodes=nodes, max_endpoints_per_slice=b, batch_period=batch,
                                             seed=4)
    got = lean.rolling_update_report(pods=pods, nodes=nodes, max_endpoints_per_slice=b, batch_period=batch, seed=4,
                                     check=True)
    assert got == full
    assert sweep.rolling_update(pods=pods, nodes=nodes, max_endpoints_per_slice=b, batch_period=batch, seed=4) == full
