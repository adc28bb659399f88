"""The recorder's trusted Event write path (kubesim.events._Written, APIServer.create_trusted /
update_trusted, kubesim.wire.events.event_sizes) against its two oracles: the full encoders
(every Event record's sizes equal wire.sizes3 of the stored object, its JSON text the canonical
dump of its body) and the change log and Event listings of the commit before it
(tests/fixtures/events_on_reference.json, made by tests/events_oracle_workload.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import events_oracle_workload as workload  # noqa: E402

from kubesim import wire  # noqa: E402
from kubesim.inert import content  # noqa: E402

REFERENCE = json.loads((HERE / "fixtures" / "events_on_reference.json").read_text())


def _canonical(obj: Any) -> str:
    return json.dumps(content(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("case", sorted(workload.CASES))
def test_change_log_and_listing_as_before(case: str) -> None:
    # The reference of the rollout, faults and node-failure cases was recorded on 436da75,
    # before the trusted path existed: an oracle independent of it. The wrong-port case was
    # re-recorded on 0774d4d with the recorder on the full path (a93243d changed its Events on
    # purpose), so for that case this test guards against later changes only; its per-probe
    # Unhealthy count is checked independently in tests/test_events_emitters.py (derived from
    # the probe's period and initial delay).
    _, got = workload.run_case(case)
    want = REFERENCE[case]
    assert len(got["records"]) == len(want["records"])
    for g, w in zip(got["records"], want["records"], strict=True):
        assert g == w
    assert got["shown"] == want["shown"]


@pytest.mark.parametrize("case", sorted(workload.CASES))
def test_every_event_record_sized_by_the_full_encoder(case: str) -> None:
    cluster, _ = workload.run_case(case, record_objects=True) if _records_objects() else (None, None)
    if cluster is None:
        pytest.skip("Cluster has no record_objects option")
    events = [e for e in cluster.changes if e.kind == "Event" and e.outcome == "ok"]
    assert events
    for e in events:
        obj = e.object
        assert obj is not None
        if e.verb == "delete":
            continue
        assert (e.json_bytes, e.proto_bytes) == wire.sizes3(obj)[:2], (e.seq, e.name)
        assert len(wire.encode_proto(obj)) == e.proto_bytes
        assert obj.content == _canonical(obj)
    for obj in cluster.api.list("Event", None):
        assert obj.content == _canonical(obj)


def _records_objects() -> bool:
    import inspect

    import kubesim

    return "record_objects" in inspect.signature(kubesim.Cluster).parameters


@pytest.mark.parametrize("case", sorted(workload.CASES))
def test_trusted_path_writes_what_the_full_path_writes(case: str) -> None:
    # the live oracle: the same workload with the recorder on the full create/update path
    full = workload.cluster_for(case)
    full.recorder.trusted = False
    workload.CASES[case][0](full)
    _, got = workload.run_case(case)
    assert got["records"] == workload.records(full)
    assert got["shown"] == workload.shown(full)
    assert [e.content for e in full.api.list("Event", None)] == [
        e.content for e in workload.run_case(case)[0].api.list("Event", None)]


def test_event_uids_are_uuid4_strings_of_their_stream() -> None:
    import random
    import uuid

    import kubesim

    rec = kubesim.Cluster(nodes=0, seed=9).recorder
    twin = random.Random("9/events")
    for _ in range(2000):
        assert rec.new_uid() == str(uuid.UUID(int=twin.getrandbits(128), version=4))


@pytest.mark.parametrize("epoch", [None, -(10**10)])
def test_event_names_the_registry_refuses_take_the_full_path(epoch: int | None) -> None:
    # the trusted create checks an Event's name once per involved object (its name a DNS
    # subdomain) plus the length and the sign of the UnixNano (an epoch before 1970 makes it
    # negative: "<name>.-<hex>"): whatever the registry refuses, the full path refuses the same
    import kubesim
    from kubesim import objects as o

    def run(trusted: bool) -> tuple[list[list[Any]], list[str], Any]:
        c = kubesim.Cluster(nodes=0, seed=3)
        if epoch is not None:
            c.api.epoch = epoch
        c.recorder.trusted = trusted
        for name in ("web-1", "Bad_Name", "a" * 236, "a" * 237, "x." * 100 + "y"):  # 236 + 17: 253
            pod = o.Pod(o.ObjectMeta(name=name, namespace="default", uid="u-1"))
            for reason in ("Pulled", "Created", "Pulled"):
                c.recorder.event(pod, "Normal", reason, "m", component="kubelet", host="node-1")
        return (workload.records(c), [e.content for e in c.api.list("Event", None)],
                c.recorder.statistics())

    trusted, full = run(True), run(False)
    assert trusted == full
    assert trusted[2].refused == (15 if epoch is not None else 6)


@pytest.mark.parametrize("rv", ["1" * 200, "ééé", '"x"', "12"])
def test_an_involved_objects_odd_resource_version_sizes_as_the_full_path_does(rv: str) -> None:
    # Event sizes by arithmetic assumed the involved object's resourceVersion to be short digits
    # (a stored object's); an object a user hands the recorder may carry any string
    import kubesim
    from kubesim import objects as o

    def run(trusted: bool) -> list[list[Any]]:
        c = kubesim.Cluster(nodes=0, seed=3)
        c.recorder.trusted = trusted
        pod = o.Pod(o.ObjectMeta(name="web-1", namespace="default", uid="u-1", resource_version=rv))
        for reason in ("Pulled", "Created", "Pulled"):
            c.recorder.event(pod, "Normal", reason, "m", component="kubelet", host="node-1")
        return workload.records(c)

    assert run(True) == run(False)


def test_the_message_sizes_memo_is_bounded_and_cleared_with_the_caches() -> None:
    from kubesim import wire
    from kubesim.wire import events as we

    ref = ("Pod", "default", "web-1", "", "v1", "", "")
    for i in range(we._MESSAGES_KEPT + 10):
        we.event_sizes("web-1.1", "default", "7", 1735689600, ref, "X", f"message {i}", "kubelet", "",
                       1735689600, 1735689600, 1, "Normal", "", "kubelet", "")
        assert len(we._MESSAGES) <= we._MESSAGES_KEPT
    assert we._MESSAGES
    wire.clear_caches()
    assert not we._MESSAGES
