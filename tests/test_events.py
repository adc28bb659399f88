"""Events (kubesim.events): the recorder and its correlator, the Event object's exact sizes, the
change log with Events off (the log before Events existed) and on (nothing else moves), and how
kubectl shows them (checked against real kubectl on kubesim serve)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import kubesim
from kubesim import wire
from kubesim.events import COMBINED_PREFIX, EventRecorder, fields

sys.path.insert(0, str(Path(__file__).parent))
import events_workload  # noqa: E402

ORACLE = Path(__file__).parent / "fixtures" / "events_off_changelog.json"

POD = """
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  containers: [{name: app, image: nginx}]
"""


def _cluster(**kw: Any) -> kubesim.Cluster:
    c = kubesim.Cluster(nodes=1, **kw)
    c.apply_yaml(POD)
    c.run()
    return c


def _pod(c: kubesim.Cluster) -> Any:
    return c.api.get("Pod", "web-1")


def _events(c: kubesim.Cluster) -> list[Any]:
    return [e for e in c.changes if e.kind == "Event"]


def _kubelet(c: kubesim.Cluster, reason: str, message: str, type: str = "Normal", obj: Any = None) -> None:
    c.recorder.event(obj if obj is not None else _pod(c), type, reason, message, component="kubelet",
                     host="node-1", field_path="spec.containers{app}")


# --------------------------------------------------------------------------------------------
# the change log: off is the log before Events, on moves nothing else


@pytest.mark.parametrize("case", sorted(events_workload.CASES))
def test_events_off_writes_the_change_log_of_the_commit_before_events(case: str) -> None:
    # the oracle was written by the commit before Events (see tests/events_workload.py)
    want = json.loads(ORACLE.read_text())[case]
    c = kubesim.Cluster(events=False, **events_workload.cluster_kwargs(case))
    events_workload.run(c)
    got = json.loads(json.dumps(events_workload.records(c)))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g == w


def _digits(n: int) -> int:
    return len(str(n)) if n else 0


def _same_but_events(on: kubesim.Cluster, off: kubesim.Cluster) -> None:
    """The non-Event records of ``on`` are ``off``'s, but for seq, resourceVersion and the sizes
    the resourceVersion's extra digits add (JSON exactly; protobuf at most 2 bytes more for a
    longer length prefix)."""
    a = [e for e in on.changes if e.kind != "Event"]
    b = list(off.changes)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.time, x.verb, x.kind, x.namespace, x.name, x.actor, x.cause, x.outcome, x.trigger_time) == (
            y.time, y.verb, y.kind, y.namespace, y.name, y.actor, y.cause, y.outcome, y.trigger_time)
        assert x.resource_version >= y.resource_version
        if x.outcome != "ok":  # a refused write records no resourceVersion, but was sized with one
            assert 0 <= x.json_bytes - y.json_bytes <= 2 and 0 <= x.proto_bytes - y.proto_bytes <= 4, (x, y)
            continue
        d = _digits(x.resource_version) - _digits(y.resource_version)
        assert x.json_bytes - y.json_bytes == d, (x, y)
        assert 0 <= x.proto_bytes - y.proto_bytes - d <= 2, (x, y)
    assert on.rng.getstate() == off.rng.getstate()  # Events drew nothing from the main stream
    assert on.now == off.now and on.clock.pending == off.clock.pending


@pytest.mark.parametrize("case", sorted(events_workload.CASES))
def test_events_on_change_no_other_record(case: str) -> None:
    on = kubesim.Cluster(**events_workload.cluster_kwargs(case))
    off = kubesim.Cluster(events=False, **events_workload.cluster_kwargs(case))
    for c in (on, off):
        events_workload.run(c)
    assert _events(on), "the workload's components wrote no Event"
    _same_but_events(on, off)
    if on.api.faults is not None and off.api.faults is not None:
        # Event writes take no fault and their watch events no delay: the fault stream is untouched
        assert on.api.faults.rng.getstate() == off.api.faults.rng.getstate()
        assert on.api.faults.injected == off.api.faults.injected


@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), replicas=st.integers(1, 5), scale=st.integers(0, 6),
       roll=st.booleans(), extra=st.lists(st.sampled_from(["Pulled", "BackOff", "Unhealthy"]), max_size=8))
def test_property_events_on_match_events_off_but_for_resource_versions(
        seed: int, replicas: int, scale: int, roll: bool, extra: list[str]) -> None:
    runs = []
    for events in (True, False):
        c = kubesim.Cluster(seed=seed, nodes=2, events=events)
        c.apply_yaml(events_workload.APP.replace("replicas: 3", f"replicas: {replicas}"))
        c.run(until=40)
        # events recorded directly, between the components' own
        for i, reason in enumerate(extra):
            pod = sorted(c.api.list("Pod", "default"), key=lambda p: p.metadata.name)[i % replicas]
            c.recorder.event(pod, "Warning", reason, f"message {i % 3}", component="kubelet", host="node-1")
        c.kubectl(f"scale deployment web --replicas={scale}")
        c.run(until=100)
        if roll:
            c.kubectl("set image deployment/web app=nginx:1.27")
        c.run(until=400)
        runs.append(c)
    _same_but_events(*runs)


# --------------------------------------------------------------------------------------------
# the recorder and the correlator (client-go tools/record)


def test_an_event_is_created_with_client_go_fields() -> None:
    c = _cluster()
    pod = _pod(c)
    before = len(c.changes)
    _kubelet(c, "Pulled", 'Container image "nginx" already present on machine')
    (rec,) = c.changes[before:]
    assert (rec.verb, rec.kind, rec.namespace, rec.actor) == ("create", "Event", "default", "kubelet")
    ev = c.api.get("Event", rec.name)
    unix_ns = (c.api.epoch * 10**9) + round(c.now * 10**9)
    # <name>.<hex UnixNano>, moved on by a nanosecond per event the components wrote at this instant
    base, stamp = ev.metadata.name.rsplit(".", 1)
    assert base == "web-1" and 0 <= int(stamp, 16) - unix_ns < 8 and stamp == f"{int(stamp, 16):x}"
    assert fields(ev) == {
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": pod.metadata.uid,
                           "apiVersion": "v1", "resourceVersion": pod.metadata.resource_version,
                           "fieldPath": "spec.containers{app}"},
        "reason": "Pulled", "message": 'Container image "nginx" already present on machine',
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": kubesim.manifests.format_time(c.now_unix),
        "lastTimestamp": kubesim.manifests.format_time(c.now_unix),
        "count": 1, "type": "Normal", "eventTime": None,
        "reportingComponent": "kubelet", "reportingInstance": "node-1",
    }


def test_a_cluster_scoped_object_has_its_events_in_default() -> None:
    c = _cluster()
    node = c.api.get("Node", "node-1", None)
    c.recorder.event(node, "Normal", "Starting", "Starting kubelet.", component="kubelet", host="node-1")
    (ev,) = [e for e in c.api.list("Event", None) if fields(e)["involvedObject"]["kind"] == "Node"]
    assert ev.metadata.namespace == "default" and "namespace" not in fields(ev)["involvedObject"]


def test_a_repeat_patches_count_and_last_timestamp() -> None:
    c = _cluster()
    _kubelet(c, "BackOff", "Back-off restarting failed container")
    first = c.now_unix
    c.run(until=c.now + 30)
    _kubelet(c, "BackOff", "Back-off restarting failed container")
    c.run(until=c.now + 30)
    _kubelet(c, "BackOff", "Back-off restarting failed container")
    recs = [e for e in _events(c) if "BackOff" in c.api.get("Event", e.name).content]
    assert [e.verb for e in recs] == ["create", "update", "update"]
    assert len({e.name for e in recs}) == 1
    b = fields(c.api.get("Event", recs[0].name))
    assert b["count"] == 3
    assert b["firstTimestamp"] == kubesim.manifests.format_time(first)
    assert b["lastTimestamp"] == kubesim.manifests.format_time(c.now_unix)
    # the patch leaves the involved object's resourceVersion of the first occurrence
    assert recs[1].json_bytes == recs[0].json_bytes


def test_events_alike_but_for_the_message_are_combined_from_the_tenth() -> None:
    c = _cluster()
    for i in range(12):
        _kubelet(c, "Failed", f"error {i}", "Warning")
    msgs = sorted(fields(e).get("message") for e in c.api.list("Event", "default") if fields(e)["reason"] == "Failed")
    # the 10th distinct message made the combined event; the 11th and 12th patched its message
    assert msgs == sorted([f"error {i}" for i in range(9)] + [COMBINED_PREFIX + "error 11"])
    combined = next(e for e in c.api.list("Event", "default") if fields(e)["message"].startswith(COMBINED_PREFIX))
    b = fields(combined)
    # the 11th and 12th patch the combined event (count, message), which has no reporting fields
    assert b["count"] == 3 and b["message"] == COMBINED_PREFIX + "error 11"
    assert b["reportingComponent"] == "" and b["reportingInstance"] == ""
    # after 10 minutes without one, the group starts afresh
    c.run(until=c.now + 601)
    _kubelet(c, "Failed", "error 99", "Warning")
    assert any(fields(e)["message"] == "error 99" for e in c.api.list("Event", "default"))
    assert c.recorder.statistics().combined == 3


def test_the_spam_filter_allows_a_burst_of_25_then_one_per_five_minutes() -> None:
    c = _cluster()
    before = len(_events(c))
    # the kubelet's own events about the pod took tokens from the same bucket
    used = sum(1 for e in c.api.list("Event", "default") if fields(e)["source"].get("component") == "kubelet")
    for i in range(30):
        _kubelet(c, f"Reason{i}", "m")  # distinct reasons: neither repeats nor combined
    assert len(_events(c)) - before == 25 - used
    c.run(until=c.now + 299)
    _kubelet(c, "Late", "m")
    assert len(_events(c)) - before == 25 - used
    c.run(until=c.now + 2)
    _kubelet(c, "Later", "m")
    assert len(_events(c)) - before == 26 - used
    # the filter is per source and object: another source still has its burst
    c.recorder.event(_pod(c), "Normal", "Other", "m", component="some-controller")
    assert len(_events(c)) - before == 27 - used
    assert c.recorder.statistics().filtered == 30 + 1 - (25 - used)


def test_the_spam_filter_lru_forgets_the_oldest_of_4096_objects() -> None:
    c = _cluster()
    pod = _pod(c)
    for i in range(30):
        _kubelet(c, f"R{i}", "m")
    n = len(_events(c))
    _kubelet(c, "Again", "m")
    assert len(_events(c)) == n  # no token
    import attrs

    # 4096 other objects (pods that need not exist: the recorder reads only their reference)
    for i in range(4096):
        other = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name=f"x-{i}", uid=f"u-{i}"))
        c.recorder.event(other, "Normal", "R", "m", component="kubelet", host="node-1")
    _kubelet(c, "AfterEviction", "m")
    assert any(fields(e)["reason"] == "AfterEviction" for e in c.api.list("Event", "default"))


def test_names_are_unique_when_events_share_a_nanosecond() -> None:
    c = _cluster()
    for reason in ("A", "B", "C"):
        _kubelet(c, reason, "m")
    names = [e.name for e in _events(c)[-3:]]
    stamps = [int(n.rsplit(".", 1)[1], 16) for n in names]
    assert len(set(names)) == 3 and stamps == sorted(stamps) and stamps[2] - stamps[0] == 2


def test_uids_come_from_their_own_stream() -> None:
    on, off = _cluster(), _cluster(events=False)
    for c in (on, off):
        _kubelet(c, "X", "m")
    assert on.rng.getstate() == off.rng.getstate()
    uid = on.api.get("Event", _events(on)[-1].name).metadata.uid
    rec = EventRecorder(on.api, seed=0)  # the same seed's stream, drawn afresh
    assert uid in {rec.new_uid() for _ in range(len(_events(on)))}


def test_a_disabled_recorder_writes_nothing() -> None:
    c = _cluster(events=False)
    n = len(c.changes)
    _kubelet(c, "Pulled", "m")
    assert len(c.changes) == n and c.recorder.statistics().recorded == 0


def test_an_event_type_other_than_normal_or_warning_is_dropped() -> None:
    c = _cluster()
    n = len(c.changes)
    _kubelet(c, "Pulled", "m", type="Info")
    assert len(c.changes) == n


def test_a_refused_event_write_is_dropped_not_raised() -> None:
    c = _cluster()
    c.apply_yaml(events_workload.PROD)
    c.run()
    pod = c.api.get("Pod", "one", "prod")
    c.delete("Namespace", "prod", None)  # terminating: creates are Forbidden
    refused = c.recorder.statistics().refused
    c.recorder.event(pod, "Normal", "Killing", "Stopping container app", component="kubelet", host="node-1")
    assert c.recorder.statistics().refused == refused + 1


def test_a_patch_of_a_vanished_event_creates_it_again() -> None:
    c = _cluster()
    _kubelet(c, "Pulled", "m")
    name = _events(c)[-1].name
    c.api.delete("Event", name, "default")
    _kubelet(c, "Pulled", "m")
    assert _events(c)[-1].verb == "create" and fields(c.api.get("Event", name))["count"] == 2


def test_events_never_keep_run_alive_nor_move_the_clock() -> None:
    c = _cluster()
    t = c.now
    for i in range(5):
        _kubelet(c, "R", f"m{i}")
    assert c.now == t and c.clock.pending == 0
    c.run()
    assert c.now == t


def test_faults_never_fail_an_event_write() -> None:
    from kubesim.faults import FaultPlan

    c = kubesim.Cluster(nodes=1, faults=FaultPlan(error_rate=1.0, watch_delay=5.0))
    node = c.api.get("Node", "node-1", None)
    state = c.api.faults.rng.getstate() if c.api.faults is not None else None
    c.recorder.event(node, "Normal", "Starting", "Starting kubelet.", component="kubelet", host="node-1")
    assert _events(c)[-1].outcome == "ok" and c.clock.pending == 0
    assert c.api.faults is not None and c.api.faults.rng.getstate() == state


def test_statistics_and_the_report_show_events_as_their_own_kind() -> None:
    c = kubesim.Cluster(nodes=2)
    c.apply_yaml(events_workload.APP)
    c.run(until=120)
    writes = len(_events(c))
    assert writes and c.statistics()["events"].created + c.statistics()["events"].patched == writes
    r = c.churn()
    assert r.kind("Event").writes == writes
    ep = [e for e in c.changes if e.kind in ("Endpoints", "EndpointSlice")]
    assert r.kind("Endpoints").writes + r.kind("EndpointSlice").writes == len(ep)
    assert re.search(r"^writes +\S+ +\S+ +" + f"{writes:,}$", str(r), re.M), str(r)
    assert "Event" not in str(kubesim.Cluster(nodes=1, events=False).churn())


def test_bad_events_option_is_refused() -> None:
    with pytest.raises(kubesim.errors.InvalidOption, match="events must be True or False"):
        kubesim.Cluster(events="yes")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# exact sizes: protobuf from hand-written fields, JSON from hand-written text


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _ld(num: int, body: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(body)) + body


def _s(num: int, text: str) -> bytes:
    return _ld(num, text.encode())


def test_protobuf_is_the_generated_proto_encoding_field_by_field() -> None:
    c = _cluster()
    pod = _pod(c)
    _kubelet(c, "Pulled", "Container image already present")
    rec = _events(c)[-1]
    ev = c.api.get("Event", rec.name)
    pm, t = pod.metadata, c.now_unix
    time_msg = _varint(1 << 3) + _varint(t) + b"\x10\x00"  # Time: seconds, nanos 0
    body = b"".join([
        _ld(2, b"".join([_s(1, "Pod"), _s(2, "default"), _s(3, "web-1"), _s(4, pm.uid), _s(5, "v1"),
                         _s(6, pm.resource_version), _s(7, "spec.containers{app}")])),
        _s(3, "Pulled"), _s(4, "Container image already present"),
        _ld(5, _s(1, "kubelet") + _s(2, "node-1")),
        _ld(6, time_msg), _ld(7, time_msg),
        _varint(8 << 3) + _varint(1),
        _s(9, "Normal"),
        _ld(10, b""),  # eventTime: the zero MicroTime, an empty message
        _s(12, ""), _s(14, "kubelet"), _s(15, "node-1"),
    ])
    from kubesim.wire.meta import _object_meta

    raw = wire.encode_raw(ev)
    assert raw == _ld(1, _object_meta(ev.metadata)) + body
    assert rec.proto_bytes == len(wire.encode_proto(ev))
    from kubesim import inert

    assert inert.exact_sizes(ev)


def test_json_is_go_struct_order_with_the_always_written_fields() -> None:
    c = _cluster()
    pod = _pod(c)
    _kubelet(c, "Pulled", "Container image already present")
    rec = _events(c)[-1]
    ev = c.api.get("Event", rec.name)
    m, pm, ts = ev.metadata, pod.metadata, kubesim.manifests.format_time(c.now_unix)
    text = (
        f'{{"kind":"Event","apiVersion":"v1","metadata":{{"name":"{m.name}","namespace":"default","uid":"{m.uid}",'
        f'"resourceVersion":"{m.resource_version}","creationTimestamp":"{ts}"}},"involvedObject":{{"kind":"Pod","namespace":"default",'
        f'"name":"web-1","uid":"{pm.uid}","apiVersion":"v1","resourceVersion":"{pm.resource_version}","fieldPath":"spec.containers{{app}}"}},'
        '"reason":"Pulled","message":"Container image already present","source":{"component":"kubelet",'
        f'"host":"node-1"}},"firstTimestamp":"{ts}","lastTimestamp":"{ts}","count":1,"type":"Normal",'
        '"eventTime":null,"reportingComponent":"kubelet","reportingInstance":"node-1"}'
    )
    assert rec.json_bytes == len(text)
    assert json.dumps(kubesim.manifests.to_manifest(ev), separators=(",", ":")) == text  # Go's key order


# --------------------------------------------------------------------------------------------
# kubectl


def test_get_events_columns_and_describe_section() -> None:
    c = _cluster()
    _kubelet(c, "Pulled", "one")
    c.run(until=c.now + 60)
    _kubelet(c, "Pulled", "one")
    c.run(until=c.now + 60)
    _kubelet(c, "Pulled", "one")
    out = c.kubectl("get events")
    assert out.splitlines()[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert re.search(r"^0s +Normal +Pulled +pod/web-1 +one$", out, re.M), out
    assert c.kubectl("get ev -A").startswith("NAMESPACE   LAST SEEN")
    wide = c.kubectl("get events -o wide")
    assert re.search(r"spec.containers\{app\} +kubelet, node-1 +one +2m +3 +web-1\.", wide), wide
    desc = c.kubectl("describe pod web-1")
    assert re.search(r"^  Normal  Pulled +0s \(x3 over 2m\) +kubelet +spec.containers\{app\}: one$", desc, re.M), desc
    assert c.kubectl("get events --field-selector reason=Pulled,involvedObject.name=web-1").count(" one\n") == 1
    assert "Scheduled" not in c.kubectl("get events --field-selector reason!=Scheduled")
    with pytest.raises(kubesim.errors.KubectlError, match="field label not supported: spec"):
        c.kubectl("get events --field-selector spec=x")


def test_real_kubectl_shows_what_kubesim_shows(tmp_path: Path) -> None:
    pytest.importorskip("aiohttp")
    import time

    from serve_support import kubectl_binary, serve

    from kubesim.kubectl import run

    if kubectl_binary() is None:
        pytest.skip("no kubectl binary")
    with serve(tmp_path, nodes=1) as s:
        cluster = s.thread.server.cluster

        def setup() -> None:
            cluster.apply_yaml(POD)
            cluster.run()
            cluster.run(until=cluster.now + 30)
            for _ in range(3):
                _kubelet(cluster, "Pulled", "  image present  ")
                cluster.run(until=cluster.now + 20)
            _kubelet(cluster, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500", "Warning")
            node = cluster.api.get("Node", "node-1", None)
            cluster.recorder.event(node, "Normal", "Starting", "Starting kubelet.", component="kubelet", host="node-1")

        s.call(setup)

        def own(args: list[str], wall: bool) -> str:
            now = int(time.time()) if wall else cluster.now_unix
            o = s.call(lambda: run(args, store=cluster.api, now=now, cluster=cluster))
            return str(o.stdout)

        # describe is kubectl's own code (ages by its wall clock); get's cells come from the server
        for args, wall in ((["describe", "pod", "web-1"], True), (["describe", "node", "node-1"], True),
                           (["get", "events"], False), (["get", "events", "-o", "wide"], False),
                           (["get", "ev", "-A"], False),
                           (["get", "events", "--field-selector", "involvedObject.kind=Node"], False)):
            before = own(args, wall)
            real = s.kubectl(*args).stdout
            assert real in (before, own(args, wall)), (args, real, before)
        assert "(x3 over" in s.kubectl("describe", "pod", "web-1").stdout
        served = json.loads(s.kubectl("get", "events", "-o", "json").stdout)["items"]
        ours = s.call(lambda: [kubesim.manifests.to_manifest(e) for e in cluster.api.list("Event", "default")])
        assert sorted(served, key=lambda e: e["metadata"]["name"]) == sorted(ours, key=lambda e: e["metadata"]["name"])
        # several objects: kubectl shows no Events section (one node here: describe nodes has one)
        s.call(lambda: cluster.apply_yaml(POD.replace("web-1", "web-2")))
        assert "Events:" not in s.kubectl("describe", "pods").stdout
        assert "Events:" in s.kubectl("describe", "nodes").stdout


# --------------------------------------------------------------------------------------------
# Events written by clients


HAND = """
apiVersion: v1
kind: Event
metadata: {name: hand.1, namespace: default}
involvedObject: {kind: Pod, name: x, namespace: default}
reason: Hello
message: hi
type: Normal
count: 2
firstTimestamp: "2025-01-01T00:00:00Z"
lastTimestamp: "2025-01-01T00:00:00Z"
source: {component: me}
"""


def test_a_client_may_write_an_event_and_its_sizes_are_exact() -> None:
    c = kubesim.Cluster(nodes=1, events=False)
    c.apply_yaml(HAND)
    ev = c.api.get("Event", "hand.1")
    assert kubesim.inert.exact_sizes(ev)
    assert c.changes[-1].proto_bytes == len(wire.encode_proto(ev))
    assert "pod/x" in c.kubectl("get events --field-selector source=me")


@pytest.mark.parametrize(("change", "message"), [
    (("count: 2", "count: two"), 'count: Invalid value: "two": must be a 32-bit integer'),
    (("name: x, namespace: default}", "name: x, namespace: prod}"),
     'involvedObject.namespace: Invalid value: "prod": does not match event.namespace'),
    (("lastTimestamp: \"2025-01-01T00:00:00Z\"", "lastTimestamp: yesterday"),
     'lastTimestamp: Invalid value: "yesterday": must be an RFC 3339 time'),
    (("name: hand.1", "name: Hand"), 'metadata.name: Invalid value: "Hand": a lowercase RFC 1123 subdomain'),
])
def test_a_bad_event_is_refused_naming_the_field_and_changes_nothing(change: tuple[str, str], message: str) -> None:
    c = kubesim.Cluster(nodes=1)
    before = (len(c.changes), c.api.statistics().resource_version, c.rng.getstate())
    with pytest.raises(kubesim.errors.InvalidObject) as err:
        c.apply_yaml(HAND.replace(*change))
    assert message in str(err.value)
    assert (len(c.changes), c.api.statistics().resource_version, c.rng.getstate()) == before


# --------------------------------------------------------------------------------------------
# describe's order: Go's sort.Sort, not stable


def _tied_events(cluster: kubesim.Cluster, seed: int) -> None:
    import random

    cluster.apply_yaml(POD)
    cluster.run()
    pod = cluster.api.get("Pod", "web-1")
    rnd = random.Random(seed)
    n = 45
    for i in range(n):
        cluster.recorder.event(pod, "Normal", f"R{i % 20}", f"m{i}", component=f"c{i % 5}")
        if rnd.random() < 0.3:
            cluster.run(until=cluster.now + rnd.choice([1, 2, 5]))
    for _ in range(n // 3):
        j = rnd.randrange(n)
        cluster.recorder.event(pod, "Normal", f"R{j % 20}", f"m{j}", component=f"c{j % 5}")
        if rnd.random() < 0.3:
            cluster.run(until=cluster.now + 1)


def test_go_sort_is_not_a_stable_sort_on_tied_events() -> None:
    from kubesim.kubectl.events import _sort_time
    from kubesim.kubectl.gosort import go_sort

    c = kubesim.Cluster(nodes=1)
    _tied_events(c, 0)
    keyed = [(_sort_time(e), e.metadata.name) for e in c.api.list("Event", "default")]
    ours = list(keyed)
    go_sort(ours, lambda x, y: x[0] < y[0])
    assert [k for k, _ in ours] == sorted(k for k, _ in keyed)  # sorted by time
    assert ours != sorted(keyed, key=lambda x: x[0])  # but ties not in input order


@pytest.mark.parametrize("seed", [0, 5])
def test_real_kubectl_orders_tied_events_as_kubesim_does(tmp_path: Path, seed: int) -> None:
    pytest.importorskip("aiohttp")
    import time

    from serve_support import kubectl_binary, serve

    from kubesim.kubectl import run

    if kubectl_binary() is None:
        pytest.skip("no kubectl binary")
    with serve(tmp_path, nodes=1) as s:
        cluster = s.thread.server.cluster
        s.call(lambda: _tied_events(cluster, seed))
        args = ["describe", "pod", "web-1"]

        def own() -> str:
            return str(s.call(lambda: run(args, store=cluster.api, now=int(time.time()), cluster=cluster).stdout))

        before = own()
        real = s.kubectl(*args).stdout
        assert real in (before, own())
        # --sort-by sorts the same way (TableSorter: sort.Sort, missing values first)
        for sort_by in (".lastTimestamp", ".metadata.creationTimestamp", ".source.component"):
            cmd = ["get", "events", f"--sort-by={sort_by}"]
            assert s.kubectl(*cmd).stdout == s.own_kubectl(" ".join(cmd)), sort_by


def test_wrong_arguments_raise_a_typed_error_naming_them_and_write_nothing() -> None:
    c = _cluster()
    n = len(c.changes)
    for kwargs, what in (({"obj": None}, "obj"), ({"reason": 3}, "reason"), ({"component": None}, "component"),
                         ({"host": b"node-1"}, "host")):
        args: dict[str, Any] = {"obj": _pod(c), "type": "Normal", "reason": "R", "message": "m", "component": "kubelet",
                                **kwargs}
        obj = args.pop("obj")
        with pytest.raises(kubesim.errors.InvalidArgument, match=what):
            c.recorder.event(obj, args.pop("type"), args.pop("reason"), args.pop("message"), **args)
    assert len(c.changes) == n


def test_doctests() -> None:
    import doctest

    import kubesim.events
    import kubesim.kubectl.gosort
    import kubesim.wire.events

    for module in (kubesim.events, kubesim.wire.events, kubesim.kubectl.gosort):
        assert doctest.testmod(module).failed == 0, module.__name__


# --------------------------------------------------------------------------------------------
# the correlator against a model written from client-go's text (string keys, as upstream)


class _UpstreamModel:
    """``tools/record/events_cache.go`` and ``recordToSink``, written the way upstream writes
    them (joined string keys, an LRU per cache, the token bucket of ``x/time/rate``): what a
    stream of events writes. Independent of kubesim.events but for the one choice upstream
    leaves to Go's map order (which message the aggregator forgets: the oldest)."""

    def __init__(self) -> None:
        from collections import OrderedDict

        self.spam: OrderedDict[str, list[float]] = OrderedDict()
        self.agg: OrderedDict[str, tuple[dict[str, None], float]] = OrderedDict()
        self.log: OrderedDict[str, tuple[int, str, str]] = OrderedDict()
        self.server: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, str, str, int, str, str]] = []
        self.n = 0

    @staticmethod
    def _lru_add(cache: Any, key: str, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        if len(cache) > 4096:
            cache.popitem(last=False)

    def event(self, now: float, ts: str, ref: tuple[str, str, str, str, str, str], src: tuple[str, str],
              type_: str, reason: str, message: str) -> None:
        kind, ns, name, uid, api_version, field_path = ref
        component, host = src
        event_key = "".join([component, host, kind, ns, name, field_path, uid, api_version, type_, reason, message])
        agg_key = "".join([component, host, kind, ns, name, uid, api_version, type_, reason, component, host])
        messages, last = self.agg.get(agg_key, ({}, -1e18))
        if agg_key in self.agg:
            self.agg.move_to_end(agg_key)
        if now - last > 600:
            messages = {}
        messages[message] = None
        self._lru_add(self.agg, agg_key, (messages, now))
        key, msg, reporting = event_key, message, (component, host)
        if len(messages) >= 10:
            del messages[next(iter(messages))]
            key, msg, reporting = agg_key, "(combined from similar events): " + message, ("", "")
        seen = self.log.get(key)
        if seen is not None:
            self.log.move_to_end(key)
        if seen is not None and seen[0] > 0:
            count, first, ev_name = seen[0] + 1, seen[1], seen[2]
        else:
            self.n += 1
            count, first, ev_name = 1, ts, f"e{self.n}"
        self._lru_add(self.log, key, (count, first, ev_name))
        spam_key = "".join([component, host, kind, ns, name, uid, api_version])
        bucket = self.spam.get(spam_key, [25.0, now])  # tokens, the time they were counted at
        if spam_key in self.spam:
            self.spam.move_to_end(spam_key)
        # x/time/rate Limiter.AllowN: advance to now, take a token if one is there; the limiter
        # keeps its state when it refuses
        tokens = min(25.0, bucket[0] + max(0.0, now - bucket[1]) * (1.0 / 300.0))
        allowed = tokens - 1.0 >= 0
        if allowed:
            bucket[0], bucket[1] = tokens - 1.0, now
        self._lru_add(self.spam, spam_key, bucket)
        if not allowed:
            return
        if count > 1 and ev_name in self.server:
            stored = self.server[ev_name]
            stored.update(count=count, lastTimestamp=ts, message=msg)
            self.writes.append(("update", reason, stored["message"], count, stored["firstTimestamp"], ts))
        else:
            self.server[ev_name] = {"count": count, "message": msg, "firstTimestamp": first}
            self.writes.append(("create", reason, msg, count, first, ts))
        # UpdateState: under the written event's own key
        state = "".join([component, host, kind, ns, name, field_path, uid, api_version, type_, reason, msg])
        self._lru_add(self.log, state, (count, first, ev_name))
        del reporting


def _long_stream(seed: int) -> list[tuple[int, int, int, str, int]]:
    import random

    rnd = random.Random(seed)
    return [(rnd.choice([0, 0, 0, 1, 30]), rnd.randint(0, 1), rnd.randint(0, 1),
             rnd.choice(["BackOff", "Unhealthy"]), rnd.randint(0, 11)) for _ in range(120)]


@settings(max_examples=25)
@given(st.lists(st.tuples(st.sampled_from([0, 0, 0, 1, 30, 200, 650]), st.integers(0, 1), st.integers(0, 1),
                          st.sampled_from(["BackOff", "Unhealthy"]), st.integers(0, 11)),
                min_size=20, max_size=120))
@example(_long_stream(1))  # long enough to combine, repeat and run out of tokens
@example(_long_stream(2))
@example([(0, 0, 0, "BackOff", 0)] * 40 + [(301, 0, 0, "BackOff", 0)] * 3)  # the burst, then the refill
def test_property_the_recorder_writes_what_client_go_would(stream: list[tuple[int, int, int, str, int]]) -> None:
    c = kubesim.Cluster(nodes=1, record_objects=True, event_ttl=None)  # the model has no TTL
    c.apply_yaml(POD)
    c.apply_yaml(POD.replace("web-1", "web-2"))
    c.run()
    pods = [c.api.get("Pod", "web-1"), c.api.get("Pod", "web-2")]
    mark = len(c.changes)
    model = _UpstreamModel()
    # the components' own events about these pods went through the same correlators first
    for e in c.changes[:mark]:
        if e.kind == "Event":
            b = fields(e.object)
            ref = b["involvedObject"]
            model.event(e.time, b["lastTimestamp"], (ref["kind"], ref.get("namespace", ""), ref["name"],
                        ref.get("uid", ""), ref["apiVersion"], ref.get("fieldPath", "")),
                        (b["source"].get("component", ""), b["source"].get("host", "")), b["type"], b["reason"],
                        b["message"])
    model.writes.clear()
    for step, which, source, reason, msg in stream:
        c.run(until=c.now + step)
        pod = pods[which]
        component, host = ("kubelet", "node-1") if source == 0 else ("other-controller", "")
        c.recorder.event(pod, "Warning", reason, f"message {msg}", component=component, host=host)
        m = pod.metadata
        model.event(c.now, kubesim.manifests.format_time(c.now_unix), ("Pod", "default", m.name, m.uid, "v1", ""),
                    (component, host), "Warning", reason, f"message {msg}")
    got = []
    for e in c.changes[mark:]:
        if e.kind != "Event":
            continue
        b = fields(e.object)
        got.append((e.verb, b["reason"], b["message"], b["count"], b["firstTimestamp"], b["lastTimestamp"]))
    assert got == model.writes
