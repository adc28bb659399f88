"""What the Events path keeps alive (kubesim.events: the correlator's caches, EventTTL): the
caches' LRU against an OrderedDict model of groupcache/lru (its dict-then-OrderedDict switch
included), no Event object held once the store lets it go, slim TTL entries, and a patch read
back from the stored Event's record equal to what the full path writes."""

from __future__ import annotations

import collections
import gc
import random
import uuid
import weakref
from typing import Any

import kubesim
from kubesim import scenarios
from kubesim.events import _LRU, EventRecorder, _Record
from kubesim.inert import content, held_content

CONFIG = """
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1"}
"""


def test_lru_evicts_as_an_ordered_dict_model_does() -> None:
    rnd = random.Random(5)
    for size in (1, 2, 3, 7):
        lru = _LRU(size)
        model: collections.OrderedDict[int, int] = collections.OrderedDict()
        for step in range(600):
            key = rnd.randrange(3 * size)
            if rnd.random() < 0.3:  # a read leaves the order alone
                assert lru.entries.get(key) == model.get(key)
                continue
            # groupcache/lru Add: the key becomes the newest; past size the oldest goes
            model[key] = step
            model.move_to_end(key)
            if len(model) > size:
                model.popitem(last=False)
            lru.put(key, step)
            assert list(lru.entries.items()) == list(model.items())
        assert len(lru) == len(model)
        assert type(lru.entries) is collections.OrderedDict  # it filled up, so it switched


def test_lru_stays_a_dict_until_it_first_evicts() -> None:
    lru = _LRU(3)
    for key in "abcab":
        lru.put(key, 1)
    assert type(lru.entries) is dict and list(lru.entries) == ["c", "a", "b"]
    lru.put("d", 1)
    assert type(lru.entries) is collections.OrderedDict and list(lru.entries) == ["a", "b", "d"]


def _cluster(ttl: Any = 50.0) -> kubesim.Cluster:
    c = kubesim.Cluster(seed=3, nodes=0, event_ttl=ttl)
    c.apply_yaml(CONFIG)
    return c


def _record(c: kubesim.Cluster, message: str, reason: str = "Test") -> None:
    c.recorder.event(c.get("ConfigMap", "cfg"), "Normal", reason, message, component="tester")


def test_an_expired_event_is_not_kept_alive_by_the_recorder_or_the_ttl() -> None:
    c = _cluster(50.0)
    for i in [*range(11), 0, 0, 12]:  # new messages, the aggregator's combined event, repeats
        _record(c, f"m{i}")
        c.run(until=c.now + 1.0)
    refs = [weakref.ref(e) for e in c.api.list("Event", None)]
    assert refs
    c.run(until=c.now + 100.0)
    assert not list(c.api.list("Event", None))
    gc.collect()
    assert all(r() is None for r in refs)
    ttl = c.event_ttl
    assert ttl is not None and ttl.pending() == 0


def test_ttl_entries_are_time_sequence_namespace_name() -> None:
    c = _cluster(50.0)
    _record(c, "a")
    _record(c, "a")  # a repeat: a second write of the same Event
    ttl = c.event_ttl
    assert ttl is not None
    heap = ttl._heap
    assert len(heap) == 2 and all(len(e) == 4 for e in heap)
    (name,) = [e.metadata.name for e in c.api.list("Event", None)]
    assert [e[2:] for e in sorted(heap)] == [("default", name)] * 2
    assert heap[0][0] is heap[1][0]  # the writes of one instant share their expiry
    assert ttl.pending() == 1


def test_a_patch_reads_the_fields_back_from_the_stored_event() -> None:
    c = _cluster(None)
    pod_like = c.get("ConfigMap", "cfg")
    c.recorder.event(pod_like, "Warning", "Odd", 'quote " and \u00e9 and \\', component="x", host="h",
                     action="Act", field_path="data{a}")
    (stored,) = c.api.list("Event", None)
    rec = held_content(stored)  # what a repeat's trusted patch reads
    assert isinstance(rec, _Record)
    w = rec.written(stored.metadata.namespace, stored.metadata.name)
    assert (w.message, w.action, w.field_path, w.host, w.times) == (
        'quote " and \u00e9 and \\', "Act", "data{a}", "h", 1)
    assert content(stored)["message"] == w.message
    assert w.sizes(stored.metadata.resource_version, stored.metadata.creation_timestamp or 0)[:2] == \
        kubesim.wire.sizes3(stored)[:2]


def test_new_uid_is_the_api_servers_draw_over_the_events_stream() -> None:
    c = _cluster()
    rec = EventRecorder(c.api, seed=4)
    # computed here, not through APIServer._new_uid (which new_uid calls): a version-4 uid of
    # 128 bits drawn from the "<seed>/events" stream
    stream = random.Random("4/events")
    assert [rec.new_uid() for _ in range(5)] == [
        str(uuid.UUID(int=stream.getrandbits(128), version=4)) for _ in range(5)]


def test_objects_created_in_one_second_share_their_creation_timestamp() -> None:
    # APIServer._now_ts: one int per second of virtual time, equal to epoch + floor(now)
    cluster = kubesim.Cluster(seed=3, nodes=2)
    scenarios.deploy(cluster, "web", replicas=6)
    cluster.run()
    stamps: dict[int, list[int]] = collections.defaultdict(list)
    for kind in ("Pod", "Event", "ReplicaSet", "EndpointSlice"):
        for obj in cluster.api.list(kind, None):
            stamps[obj.metadata.creation_timestamp].append(id(obj.metadata.creation_timestamp))
    assert len(stamps) >= 2  # the Deployment's objects come in more than one second
    for ts, ids in stamps.items():
        assert ts >= cluster.api.epoch
        assert len(ids) > 1 and len(set(ids)) == 1, ts
    # the value follows the clock and the epoch, whatever the memo holds
    api = cluster.api
    assert api._now_ts() == api.epoch + int(cluster.clock.now // 1)
    api.epoch += 7
    try:
        assert api._now_ts() == api.epoch + int(cluster.clock.now // 1)
    finally:
        api.epoch -= 7
