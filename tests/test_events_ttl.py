"""kube-apiserver's --event-ttl (kubesim.events.EventTTL, Cluster(event_ttl=...)): Events expire
at their own time through the clock's passive sources, never keep run() going, are re-armed by
every write, and the recorder creates a fresh Event for a repeat after its Event expired."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kubesim
from kubesim.errors import InvalidOption
from kubesim.events import DEFAULT_EVENT_TTL, TTL_ACTOR
from kubesim.inert import content

CONFIG = """
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1"}
"""


def _cluster(ttl: Any = 100.0, **kw: Any) -> kubesim.Cluster:
    c = kubesim.Cluster(seed=1, nodes=0, event_ttl=ttl, **kw)
    c.apply_yaml(CONFIG)
    return c


def _event_at(c: kubesim.Cluster, t: float, message: str = "hello") -> None:
    def fire() -> None:
        c.recorder.event(c.get("ConfigMap", "cfg"), "Normal", "Test", message, component="tester")

    c.clock.schedule_at(t, fire)


def _events(c: kubesim.Cluster) -> list[Any]:
    return list(c.api.list("Event", None))


def _event_records(c: kubesim.Cluster) -> list[tuple[float, str, str]]:
    return [(e.time, e.verb, e.actor) for e in c.changes if e.kind == "Event"]


def test_default_is_an_hour_and_bad_values_are_refused() -> None:
    assert kubesim.Cluster(nodes=0).event_ttl is not None
    assert kubesim.Cluster(nodes=0).event_ttl.ttl == DEFAULT_EVENT_TTL == 3600.0  # type: ignore[union-attr]
    assert kubesim.Cluster(nodes=0, event_ttl=0).event_ttl is None
    assert kubesim.Cluster(nodes=0, event_ttl=None).event_ttl is None
    for bad in (-1, "1h", True, float("nan"), float("inf"), 1e300):
        with pytest.raises(InvalidOption, match="event_ttl"):
            kubesim.Cluster(nodes=0, event_ttl=bad)


def test_expiry_is_a_delete_at_its_own_time() -> None:
    c = _cluster(100.0)
    _event_at(c, 5.0)
    c.run(until=104.9)
    assert len(_events(c)) == 1
    c.run(until=500.0)
    assert _events(c) == []
    assert _event_records(c) == [(5.0, "create", "tester"), (105.0, "delete", TTL_ACTOR)]
    rec = [e for e in c.changes if e.kind == "Event"][-1]
    assert rec.cause == "" and rec.outcome == "ok" and rec.namespace == "default"
    assert rec.resource_version == max(e.resource_version for e in c.changes)
    assert c.now == 500.0


def test_run_until_processes_exactly_up_to_until() -> None:
    c = _cluster(100.0)
    _event_at(c, 5.0)
    c.run(until=105.0)  # an expiry at until is done
    assert _events(c) == [] and c.now == 105.0


def test_run_ends_and_time_does_not_move_for_an_expiry() -> None:
    c = _cluster(100.0)
    _event_at(c, 5.0)
    c.run()
    assert c.now == 5.0 and len(_events(c)) == 1  # nothing scheduled: run() ended at the last timer
    assert c.clock.peek() is None
    c.run(until=50.0)
    assert len(_events(c)) == 1


def test_expiry_comes_before_timers_at_or_after_it_and_after_earlier_ones() -> None:
    c = _cluster(100.0)
    _event_at(c, 5.0)
    seen: list[tuple[float, int]] = []
    for t in (104.0, 105.0, 106.0):
        c.clock.schedule_at(t, lambda: seen.append((c.now, len(_events(c)))))
    c.run()
    assert seen == [(104.0, 1), (105.0, 0), (106.0, 0)]
    times = [e.time for e in c.changes]
    assert times == sorted(times)


def test_a_dedup_patch_re_arms_the_ttl() -> None:
    c = _cluster(100.0)
    _event_at(c, 0.0)
    _event_at(c, 60.0)  # the same event again: a patch of count and lastTimestamp
    c.run(until=150.0)
    (ev,) = _events(c)
    assert content(ev)["count"] == 2
    c.run(until=170.0)
    assert _events(c) == []
    assert _event_records(c) == [(0.0, "create", "tester"), (60.0, "update", "tester"), (160.0, "delete", TTL_ACTOR)]


def test_a_repeat_after_expiry_creates_a_fresh_event() -> None:
    c = _cluster(100.0)
    _event_at(c, 0.0)
    _event_at(c, 300.0)
    c.run()
    assert _event_records(c) == [(0.0, "create", "tester"), (100.0, "delete", TTL_ACTOR), (300.0, "create", "tester")]
    (ev,) = _events(c)
    body = content(ev)
    # upstream's patch-then-create: the correlated event (count 2, first seen at 0) is created
    assert body["count"] == 2
    assert body["firstTimestamp"] == "2025-01-01T00:00:00Z" and body["lastTimestamp"] == "2025-01-01T00:05:00Z"
    assert c.recorder.statistics().created == 2


def test_watchers_see_the_expiry_as_deleted() -> None:
    c = _cluster(10.0)
    got: list[tuple[str, float]] = []
    c.api.watch(lambda ev: got.append((ev.type, c.now)), {"Event"})
    _event_at(c, 1.0)
    c.run(until=20.0)
    assert got == [("ADDED", 1.0), ("DELETED", 11.0)]


def test_client_written_events_expire_too_and_ttl_zero_never() -> None:
    manifest = {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "mine", "namespace": "default"},
        "involvedObject": {"kind": "ConfigMap", "name": "cfg", "namespace": "default"},
        "reason": "Hand", "message": "written by a client", "type": "Normal",
    }
    for ttl, left in ((50.0, 0), (0, 1), (None, 1)):
        c = _cluster(ttl, events=False)
        c.apply_yaml(json.dumps(manifest))
        c.run(until=10_000.0)
        assert len(_events(c)) == left


def test_deterministic() -> None:
    def log() -> list[Any]:
        c = kubesim.Cluster(seed=4, nodes=2, event_ttl=300.0)
        c.apply_yaml("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: a, image: nginx}]}
""")
        c.run(until=200.0)
        c.kubectl("scale deployment web --replicas=1")
        c.run(until=1000.0)
        return [(e.seq, e.time, e.verb, e.kind, e.name, e.resource_version, e.actor, e.json_bytes) for e in c.changes]

    first = log()
    assert first == log()
    assert sum(1 for e in first if e[3] == "Event" and e[2] == "delete" and e[6] == TTL_ACTOR) > 0


def test_get_events_after_an_hour() -> None:
    c = kubesim.Cluster(seed=0, nodes=2)
    c.apply_yaml("""
apiVersion: v1
kind: Pod
metadata: {name: web-1}
spec: {containers: [{name: a, image: nginx}]}
""")
    c.run(until=60.0)
    assert "Scheduled" in c.kubectl("get events")
    c.run(until=3599.0)
    assert "Scheduled" in c.kubectl("get events")
    c.run(until=3700.0)
    assert c.kubectl("get events") == "No resources found in default namespace.\n"
    expired = [e for e in c.changes if e.kind == "Event" and e.verb == "delete"]
    creates = [e for e in c.changes if e.kind == "Event" and e.verb == "create"]
    assert len(expired) == len(creates) == c.event_ttl.expired  # type: ignore[union-attr]
    assert [e.time for e in expired] == [e.time + 3600.0 for e in creates]


def test_a_source_only_while_an_expiry_is_ahead() -> None:
    def armed(c: kubesim.Cluster) -> bool:
        assert c.event_ttl is not None
        return c.event_ttl._expire in c.clock._passive

    c = _cluster(10.0, events=False)
    c.run(until=100.0)
    assert not armed(c)  # no Event written: the TTL is not called per clock step
    c = _cluster(10.0)
    _event_at(c, 1.0)
    c.run(until=5.0)
    assert armed(c)
    c.run(until=20.0)
    assert not armed(c) and _events(c) == []
    _event_at(c, 30.0)
    c.run(until=45.0)
    assert _event_records(c)[-1] == (40.0, "delete", TTL_ACTOR)
