"""Stored Events that hold a record (kubesim.events._Record, kubesim.inert.holding) instead of
their content text, against their oracle: the same events written by the recorder's full path
(``recorder.trusted = False``), whose stored Events hold the text. Every stored Event is compared
as the public object -- content, metadata, equality both ways, hash, repr, evolve, asdict,
pickling and copying, the wire encodings and sizes, the manifest and JSON encoders, kubectl's
views, the watch events -- and a Hypothesis property checks, over random event fields, that a
record's text is the canonical ``json.dumps`` of the Event body built independently here."""

from __future__ import annotations

import copy
import json
import pickle
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import events_oracle_workload as workload  # noqa: E402

import kubesim  # noqa: E402
from kubesim import events, wire  # noqa: E402
from kubesim.apiserver import _with_meta  # noqa: E402
from kubesim.inert import InertObject, content, held_content, holding  # noqa: E402
from kubesim.manifests import to_manifest  # noqa: E402
from kubesim.manifests.encode import to_json  # noqa: E402
from kubesim.manifests.times import format_time  # noqa: E402
from kubesim.objects import ObjectMeta  # noqa: E402
from kubesim.serve import proto  # noqa: E402

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '1'}\n"


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _stored_events(cluster: Any) -> dict[tuple[str, str], Any]:
    return {(e.metadata.namespace, e.metadata.name): e for e in cluster.api.list("Event", None)}


def _assert_same_public_object(held: Any, text: Any) -> None:
    """``held`` (holding a record) reads in every respect as ``text`` (holding its text)."""
    assert type(held) is type(text) is InertObject and events.is_event(held)
    assert held.content == text.content and content(held) == content(text) == events.fields(held)
    assert held.metadata == text.metadata and held.kind == text.kind and held.api_version == text.api_version
    assert held == text and text == held
    assert (held != text, text != held) == (False, False)
    assert hash(held) == hash(text) and {text: 1}[held] == 1
    assert repr(held) == repr(text)
    assert attrs.asdict(held) == attrs.asdict(text)
    for made in (attrs.evolve(held), attrs.evolve(held, kind="Event"), copy.copy(held), copy.deepcopy(held),
                 pickle.loads(pickle.dumps(held))):
        assert made == text and type(held_content(made)) is str  # a made object holds the text
    other = ObjectMeta(name="x", namespace="y")
    assert attrs.evolve(held, metadata=other) == attrs.evolve(text, metadata=other)
    assert _with_meta(held, other) == _with_meta(text, other)
    assert held_content(_with_meta(held, other)) is held_content(held)  # kept, not built
    assert wire.sizes3(held) == wire.sizes3(text)
    assert wire.encode_proto(held) == wire.encode_proto(text) == proto.encode_object(held)
    assert to_manifest(held) == to_manifest(text) and to_json(to_manifest(held)) == to_json(to_manifest(text))
    rec = held_content(held)
    if isinstance(rec, events._Record):  # the trusted path's sizes, by arithmetic from the record
        meta = held.metadata
        assert rec.written(meta.namespace, meta.name).sizes(
            meta.resource_version, meta.creation_timestamp or 0)[:2] == wire.sizes3(text)[:2]


@pytest.mark.parametrize("case", sorted(workload.CASES))
def test_held_records_read_as_the_full_paths_texts(case: str) -> None:
    trusted, full = workload.cluster_for(case), workload.cluster_for(case)
    full.recorder.trusted = False
    seen: dict[str, list[tuple[str, Any, Any]]] = {"trusted": [], "full": []}
    for name, c in (("trusted", trusted), ("full", full)):
        c.api.watch(lambda ev, into=seen[name]: into.append((ev.type, ev.old, ev.new)), {"Event"})
        workload.CASES[case][0](c)
    a, b = _stored_events(trusted), _stored_events(full)
    assert a.keys() == b.keys() and a
    assert all(isinstance(held_content(e), events._Record) for e in a.values())
    assert all(type(held_content(e)) is str for e in b.values())
    for key in a:
        _assert_same_public_object(a[key], b[key])
    # watchers receive equal objects (the trusted ones holding records)
    assert len(seen["trusted"]) == len(seen["full"])
    for (ta, oa, na), (tb, ob, nb) in zip(seen["trusted"], seen["full"], strict=True):
        assert ta == tb and oa == ob and na == nb and nb == na
    # what a client reads: kubectl's listings, describe, and the stored objects compared whole
    for cmd in ("get events -A", "get events -A -o wide", "get events -A -o json", "get events -A -o yaml"):
        assert trusted.kubectl(cmd) == full.kubectl(cmd), cmd
    for cmd in ("describe pods", "describe nodes", "describe deployments"):  # their Events sections
        assert trusted.kubectl(cmd) == full.kubectl(cmd), cmd
    assert trusted.api.snapshot() == full.api.snapshot()
    assert repr(sorted(map(repr, trusted.api.snapshot().items()))) == repr(sorted(map(repr, full.api.snapshot().items())))


def test_change_log_objects_and_check_mode() -> None:
    # record_objects keeps the written objects: a held one equals the full path's
    trusted = workload.cluster_for("rollout", record_objects=True)
    full = workload.cluster_for("rollout", record_objects=True)
    full.recorder.trusted = False
    for c in (trusted, full):
        workload.CASES["rollout"][0](c)
    pairs = [(x, y) for x, y in zip(trusted.changes, full.changes, strict=True) if x.kind == "Event"]
    assert pairs and any(isinstance(held_content(x.object), events._Record) for x, _ in pairs)
    for x, y in pairs:
        assert x == y and x.object == y.object and wire.sizes3(x.object)[:2] == (x.json_bytes, x.proto_bytes)
    # check mode sizes every record (Events included) with wire.sizes3 of its object
    from kubesim.lean import LeanCluster

    checked = LeanCluster(seed=1, nodes=4, check=True)
    workload.CASES["rollout"][0](checked)
    assert [e.content for e in checked.api.list("Event", None)] == [e.content for e in trusted.api.list("Event", None)]


def test_a_user_write_of_a_held_event_is_the_write_of_its_text() -> None:
    # the full write path reads the held Event as its text: an update and a re-create
    results = []
    for trusted in (True, False):
        c = workload.cluster_for("rollout")
        c.recorder.trusted = trusted
        workload.CASES["rollout"][0](c)
        ev = sorted(c.api.list("Event", None), key=lambda e: e.metadata.name)[0]
        same = c.api.update(ev)  # nothing changed: the stored object back
        body = content(ev)
        body["message"] = "edited"
        edited = c.api.update(attrs.evolve(ev, content=_canonical(body)))
        c.api.delete("Event", ev.metadata.name, ev.metadata.namespace)
        again = c.api.create(attrs.evolve(ev, metadata=ObjectMeta(name=ev.metadata.name, namespace="default")))
        results.append((same is ev, edited, again.content, [workload.records(c)]))
    assert results[0] == results[1]


def test_combined_repeated_and_expired_events_read_as_the_full_paths() -> None:
    # the aggregator's combined events (from the 10th distinct message on) and their patches,
    # plain repeats, and the TTL's deletes (whose last state a watcher receives)
    out = []
    for trusted in (True, False):
        c = kubesim.Cluster(seed=3, nodes=1, event_ttl=30.0)
        c.recorder.trusted = trusted
        got: list[Any] = []
        c.api.watch(got.append, {"Event"})
        c.apply_yaml(CM)
        for i in [*range(14), 0, 0, 3, 15, 15]:
            c.recorder.event(c.get("ConfigMap", "cfg"), "Warning", "Flap", f"m{i}", component="tester", host="h")
            c.recorder.event(c.get("Node", "node-1", None), "Normal", "Same", "again", component="kubelet",
                             host="node-1")
            c.run(until=c.now + 1.0)
        stored = _stored_events(c)
        assert any(events.COMBINED_PREFIX in e.content for e in stored.values())
        assert any(content(e)["count"] > 3 for e in stored.values())
        if trusted:
            assert all(isinstance(held_content(e), events._Record) for e in stored.values())
        c.run(until=c.now + 100.0)
        assert not c.api.list("Event", None)
        out.append((c, stored, got))
    (t, a, ga), (f, b, gb) = out
    assert workload.records(t) == workload.records(f)
    assert a.keys() == b.keys()
    for key in a:
        _assert_same_public_object(a[key], b[key])
    assert [ev.type for ev in ga] == [ev.type for ev in gb] and "DELETED" in {ev.type for ev in ga}
    for x, y in zip(ga, gb, strict=True):
        assert x.new == y.new and x.old == y.old and repr(x) == repr(y)


def test_a_held_record_text_is_the_canonical_dump_of_the_event_body() -> None:
    # the body built here from what was recorded, independently of _Written.text (which both
    # the trusted and the full path's creates use): a create, then a patched repeat
    c = kubesim.Cluster(seed=3, nodes=1, event_ttl=None)
    (node,) = c.api.list("Node", None)
    odd = 'q " \u00e9 \\ \n'
    c.recorder.event(node, "Warning", "Odd", odd, component="x", host="h", action="Act")
    (ev,) = c.api.list("Event", None)
    first = format_time(c.api.epoch + int(c.now))
    body: dict[str, Any] = {
        "action": "Act", "count": 1, "eventTime": None, "firstTimestamp": first, "lastTimestamp": first,
        "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": node.metadata.uid,
                           "resourceVersion": node.metadata.resource_version},
        "message": odd, "reason": "Odd", "reportingComponent": "x", "reportingInstance": "h",
        "source": {"component": "x", "host": "h"}, "type": "Warning",
    }
    rec = held_content(ev)
    assert isinstance(rec, events._Record)
    assert ev.content == rec.text() == _canonical(body)
    assert holding(ev.metadata, "Event", "v1", rec) == ev
    c.run(until=c.now + 5.0)
    c.recorder.event(node, "Warning", "Odd", odd, component="x", host="h", action="Act")
    (ev,) = c.api.list("Event", None)
    assert isinstance(held_content(ev), events._Record)
    assert ev.content == _canonical({**body, "count": 2, "lastTimestamp": format_time(c.api.epoch + int(c.now))})


def test_a_record_is_immutable_and_smaller_than_a_tuple_of_its_fields() -> None:
    c = kubesim.Cluster(seed=3, nodes=1, event_ttl=None)
    c.recorder.event(c.api.list("Node", None)[0], "Normal", "R", "m", component="x", host="h")
    (ev,) = c.api.list("Event", None)
    rec = held_content(ev)
    assert isinstance(rec, events._Record)
    text, h = ev.content, hash(ev)
    for name in ("key", "source", "ref_rv", "first", "last", "times"):
        with pytest.raises(AttributeError):
            setattr(rec, name, 7)
        with pytest.raises(AttributeError):
            delattr(rec, name)
    with pytest.raises(AttributeError):
        rec.other = 1
    # its memory: six slots, less than a tuple of its fields
    assert not hasattr(rec, "__dict__") and sys.getsizeof(rec) < sys.getsizeof(
        (rec.key, rec.source, rec.ref_rv, rec.first, rec.last, rec.times))
    assert ev.content == text and hash(ev) == h and c.api.list("Event", None) == [ev]


def test_the_shared_source_tuples_are_bounded() -> None:
    # one source tuple per action, shared by that source's records; the table is emptied past
    # _SOURCES_KEPT actions (sharing is only a saving: the Events read as the full path's)
    out = []
    for trusted in (True, False):
        c = kubesim.Cluster(seed=3, nodes=8, event_ttl=None)
        c.recorder.trusted = trusted
        nodes = c.api.list("Node", None)  # the spam filter lets 25 events an object through
        for i in range(3 * events._SOURCES_KEPT):
            c.recorder.event(nodes[i % 8], "Normal", f"R{i}", "m", component="x", host="h", action=f"a{i % 150}")
        out.append(c)
    (t, f) = out
    tables = [corr.sources for corr in t.recorder._correlators.values()]
    assert tables and all(0 < len(table) <= events._SOURCES_KEPT for pair in tables for table in pair if table)
    assert workload.records(t) == workload.records(f)
    a, b = _stored_events(t), _stored_events(f)
    assert a.keys() == b.keys() and len(a) == 3 * events._SOURCES_KEPT
    for key in a:
        _assert_same_public_object(a[key], b[key])


# -- the properties: a record's text is the canonical dump of the Event body -----------------

_odd = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_times = st.integers(-30610224000, 253402300799)  # Unix seconds of years 1000..9999


@settings(max_examples=300, deadline=None)
@given(
    # an involved object is a stored one: its kind, name and apiVersion are never empty
    st.tuples(st.sampled_from(["Pod", "Node", "Deployment"]), st.sampled_from(["", "default", "kube-system"]),
              _odd.filter(bool), _odd, st.sampled_from(["v1", "apps/v1"])),
    st.sampled_from(["Normal", "Warning"]), _odd, _odd, _odd,
    st.tuples(_odd, st.sampled_from(["", "node-1"]), _odd, _odd, _odd), _odd,
    _times, _times, st.integers(1, 2**31 - 1),
)
def test_record_text_is_the_canonical_dump_of_its_body(
    ref: tuple[str, str, str, str, str], type: str, reason: str, field_path: str, message: str,
    source: tuple[str, str, str, str, str], ref_rv: str, first: int, last: int, times: int,
) -> None:
    kind, ref_ns, ref_name, ref_uid, api_version = ref
    component, host, action, rcomp, rinst = source
    rec = events._Record(((ref, type, reason), field_path, message), source, ref_rv, first, last, times)
    involved = {"kind": kind, "namespace": ref_ns, "name": ref_name, "uid": ref_uid, "apiVersion": api_version,
                "resourceVersion": ref_rv, "fieldPath": field_path}
    body: dict[str, Any] = {
        "involvedObject": {k: v for k, v in involved.items() if v},
        "source": {k: v for k, v in {"component": component, "host": host}.items() if v},
        "count": times, "eventTime": None, "type": type,
        "firstTimestamp": format_time(first), "lastTimestamp": format_time(last),
        "reportingComponent": rcomp, "reportingInstance": rinst,
    }
    for k, v in (("reason", reason), ("message", message), ("action", action)):
        if v:
            body[k] = v
    assert rec.text() == _canonical(body)
    ev = holding(ObjectMeta(name="e.1", namespace="default"), "Event", "v1", rec)
    assert ev == InertObject(metadata=ev.metadata, kind="Event", api_version="v1", content=_canonical(body))
    assert content(ev) == body
    # a patch keeps everything but the count, the last time and the message
    patched = rec.patched(times + 1, last, message + "!")
    assert content(holding(ev.metadata, "Event", "v1", patched)) == {
        **body, "count": times + 1, "message": message + "!"}
    assert rec.patched(times, last, message).key is rec.key


_event = st.tuples(
    st.sampled_from(["cm", "node"]),
    st.sampled_from(["Normal", "Warning"]),
    st.one_of(st.sampled_from(["", "Started", "Killing"]), _odd),  # reason
    st.one_of(st.sampled_from(["", "same message"]), _odd, st.integers(0, 11).map(lambda i: f"m{i}")),  # message
    st.sampled_from(["kubelet", "default-scheduler", "tester", ""]),  # component
    st.sampled_from(["", "node-1", "h\u00e9"]),  # host
    st.one_of(st.just(""), _odd),  # action
    st.one_of(st.sampled_from(["", "spec.containers{web}"]), _odd),  # field_path
    st.sampled_from([0.0, 0.0, 0.4, 1.0, 700.0]),  # time before it
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_event, min_size=1, max_size=25))
def test_random_events_read_as_the_full_paths(evs: list[tuple[Any, ...]]) -> None:
    # repeats (patches), the aggregator's combined events, odd strings, cluster-scoped objects
    trusted = kubesim.Cluster(seed=3, nodes=1, event_ttl=None)
    full = kubesim.Cluster(seed=3, nodes=1, event_ttl=None)
    full.recorder.trusted = False
    for c in (trusted, full):
        c.apply_yaml(CM)
        for e in evs:
            if e[-1]:
                c.run(until=c.now + e[-1])
            obj = c.get("ConfigMap", "cfg") if e[0] == "cm" else c.get("Node", "node-1", None)
            c.recorder.event(obj, e[1], e[2], e[3], component=e[4], host=e[5], action=e[6], field_path=e[7])
    assert workload.records(trusted) == workload.records(full)
    a, b = _stored_events(trusted), _stored_events(full)
    assert a.keys() == b.keys()
    for key, ev in a.items():
        _assert_same_public_object(ev, b[key])
        rec = held_content(ev)
        if isinstance(rec, events._Record):  # else a name the registry refuses: the full path's
            (_, type, reason), field_path, message = rec.key
            component, host, action, _, _ = rec.source
            assert any((type, reason, field_path, component, host, action) == (e[1], e[2], e[7], e[4], e[5], e[6])
                       and message in (e[3], events.COMBINED_PREFIX + e[3]) for e in evs)
