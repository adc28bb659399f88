"""The columnar change log against its oracle: a plain list of :class:`ChangeEvent`.

:class:`kubesim.changelog.ChangeLog` keeps its records as columns and builds each event when it
is read. ``ListLog`` below is the log as it was — one frozen event per record in a list, with
the same subscriber queue — kept small and obvious. A Hypothesis state machine drives both
through the same random records (``None`` / ``0.0`` / ``-0.0`` trigger times, ``int`` and
``float`` times, numbers beyond 64 bits, failed outcomes, objects), appended events (some with
a ``seq`` other than their position), holds, releases, truncations, subscribers that write
or raise, internal listeners, slices and save/load round trips, and asserts after every step
equal records (field for field, types and signs included), equal subscriber transcripts and
equal churn reports (the column fold against the event fold).
"""

from __future__ import annotations

import collections
import json
import pathlib
import tempfile
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kubesim import report
from kubesim.changelog import ChangeEvent, ChangeLog, _event, _record, replay
from kubesim.objects import EMPTY, FrozenDict

FIELDS = [f.name for f in attrs.fields(ChangeEvent)]


def key(e: ChangeEvent) -> tuple[Any, ...]:
    """Everything a record is, comparably: each field's type and repr (so ``-0.0`` is not
    ``0.0``, ``1`` not ``1.0``), the object by identity."""
    return tuple((type(getattr(e, f)).__name__, repr(getattr(e, f))) for f in FIELDS if f != "object") + (
        id(e.object),
    )


class ListLog:
    """The oracle: today's semantics, one event per record in a list. ``_append_write`` shares
    the previous write's ``time`` at the same instant (the old log also shared equal sizes and
    non-zero trigger times, which changes no value: equal ``int`` are one value, equal non-zero
    ``float`` too)."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []
        self.subscribers: list[Callable[[ChangeEvent], object]] = []
        self.pending: collections.deque[ChangeEvent] = collections.deque()
        self.notifying = False
        self.held = 0
        self.last_time: float = 0.0

    def append(self, event: ChangeEvent) -> None:
        self.events.append(event)
        if not self.subscribers:
            return
        self.pending.append(event)
        if not (self.held or self.notifying):
            self.flush()

    def _append_write(self, time: float, *fields: Any) -> None:
        if time and time == self.last_time:
            time = self.last_time
        else:
            self.last_time = time
        self.append(ChangeEvent(len(self.events), time, *fields))

    def flush(self) -> None:
        self.notifying = True
        first: Exception | None = None
        try:
            while self.pending:
                event = self.pending.popleft()
                for fn in self.subscribers:
                    try:
                        fn(event)
                    except Exception as exc:  # noqa: BLE001 - re-raised below
                        if first is None:
                            first = exc
        finally:
            self.notifying = False
        if first is not None:
            raise first

    def hold(self) -> None:
        self.held += 1

    def release(self) -> None:
        self.held -= 1
        if not self.held and self.pending and not self.notifying:
            self.flush()

    def truncate(self, length: int) -> None:
        del self.events[length:]
        kept = [e for e in self.pending if e.seq < length]
        self.pending.clear()
        self.pending.extend(kept)


class Obj:
    """A recorded object (any object: the log only holds it)."""

    def __init__(self, n: int) -> None:
        self.n = n


LABELS = [EMPTY, FrozenDict({"app": "web"}), FrozenDict({"app": "db"}),
          FrozenDict({"app": "web", "service.kubernetes.io/headless": ""})]
GROUPS = (
    *report.kube_proxy_groups(3),
    report.WatcherGroup("web-pods", "Pod", 2, selector="app=web"),
    report.WatcherGroup("ns-a", "Pod", 1, namespace="a"),
)

times = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 1.5, 2.0, 2, 0, 7]),
    st.floats(min_value=-1e3, max_value=1e7, allow_nan=False),
    st.integers(min_value=0, max_value=10**6),
)
triggers = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 0.25]), st.floats(allow_nan=False, width=64,
                                                                               min_value=-1e9, max_value=1e9))
numbers = st.one_of(st.integers(min_value=0, max_value=5000), st.integers(min_value=-(2**70), max_value=2**70))
records = st.tuples(
    times,
    st.sampled_from(["create", "update", "delete"]),
    st.sampled_from(["Pod", "Endpoints", "EndpointSlice", "Node"]),
    st.sampled_from(["", "a", "default"]),
    st.sampled_from(["web-1", "web-2", "w", "boom", "node-1"]),
    numbers,  # resource_version
    st.sampled_from(["client", "kubelet", "endpointslice-controller"]),
    numbers,  # json_bytes
    numbers,  # proto_bytes
    st.sampled_from(LABELS),
    triggers,
    st.sampled_from(["ok", "ok", "ok", "Conflict"]),
    st.sampled_from(["", "scale", "rollout"]),
    st.one_of(st.none(), st.integers(0, 3).map(Obj)),
)


class ColumnsAgainstList(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.cols = ChangeLog()
        self.ref = ListLog()
        self.heard: dict[str, list[Any]] = {"cols": [], "ref": []}
        self.subscribers = 0
        self.stops: list[tuple[Callable[[], None], Callable[[ChangeEvent], object]]] = []

    # --------------------------------------------------------------- subscribers

    def _subscriber(self, which: str, log: Any, role: str, n: int) -> Callable[[ChangeEvent], None]:
        heard = self.heard[which]

        def fn(e: ChangeEvent) -> None:
            heard.append((n, key(e)))
            if role == "writer" and e.name == "w" and e.outcome == "ok":
                # a write made while hearing: its record follows the current one everywhere
                log._append_write(e.time, "create", "Pod", e.namespace, "w-child", 9, "client", 1, 2,
                                  e.labels, None, "ok", "reaction", None)
            if role == "raiser" and e.name == "boom":
                raise ValueError(f"subscriber {n} refuses record {e.seq}")
            if role == "truncater" and e.name == "web-2" and e.verb == "delete":
                log.truncate(e.seq)  # this record too: the later subscribers still hear of it

        return fn

    @rule(role=st.sampled_from(["recorder", "writer", "raiser", "truncater", "listener"]))
    def subscribe(self, role: str) -> None:
        n = self.subscribers
        self.subscribers += 1
        ref: Callable[[ChangeEvent], object]
        if role == "listener":
            heard_c, heard_r = self.heard["cols"], self.heard["ref"]
            stop = self.cols._listen(lambda kind, ns, name, actor: heard_c.append((n, kind, ns, name, actor)))

            def ref(e: ChangeEvent) -> None:
                if e.outcome == "ok":
                    heard_r.append((n, e.kind, e.namespace, e.name, e.actor))
        else:
            stop = self.cols.subscribe(self._subscriber("cols", self.cols, role, n))
            ref = self._subscriber("ref", self.ref, role, n)
        self.ref.subscribers.append(ref)
        self.stops.append((stop, ref))

    @precondition(lambda self: self.stops)
    @rule(data=st.data())
    def unsubscribe(self, data: st.DataObject) -> None:
        stop, ref = self.stops.pop(data.draw(st.integers(0, len(self.stops) - 1)))
        stop()
        self.ref.subscribers.remove(ref)

    # --------------------------------------------------------------- writes

    def _both(self, act: Callable[[Any], object]) -> None:
        outcomes: list[str | None] = []
        for log in (self.cols, self.ref):
            try:
                act(log)
                outcomes.append(None)
            except ValueError as exc:
                outcomes.append(repr(exc))
        assert outcomes[0] == outcomes[1]

    @rule(record=records)
    def append_write(self, record: tuple[Any, ...]) -> None:
        self._both(lambda log: log._append_write(*record))

    @rule(record=records, shift=st.sampled_from([0, 0, 0, 1, -1, 1000]))
    def append_event(self, record: tuple[Any, ...], shift: int) -> None:
        """A hand-made event (its seq maybe not its position) through the public append."""
        def act(log: Any) -> None:
            n = len(log.events) if isinstance(log, ListLog) else len(log)
            log.append(ChangeEvent(n + shift, *record))

        self._both(act)

    @rule()
    def hold(self) -> None:
        self.cols.hold()
        self.ref.hold()

    @precondition(lambda self: self.ref.held > 0)
    @rule()
    def release(self) -> None:
        self._both(lambda log: log.release())

    @rule(data=st.data())
    def truncate(self, data: st.DataObject) -> None:
        n = data.draw(st.integers(0, len(self.ref.events)))
        self.cols.truncate(n)
        self.ref.truncate(n)

    # --------------------------------------------------------------- reads

    @rule(data=st.data())
    def slices(self, data: st.DataObject) -> None:
        n = len(self.ref.events)
        a = data.draw(st.integers(-n - 2, n + 2))
        b = data.draw(st.integers(-n - 2, n + 2))
        step = data.draw(st.sampled_from([None, 1, 2, -1]))
        got = self.cols[a:b:step]
        assert isinstance(got, list)
        assert [key(e) for e in got] == [key(e) for e in self.ref.events[a:b:step]]
        if -n <= a < n:
            assert key(self.cols[a]) == key(self.ref.events[a])
        else:
            with pytest.raises(IndexError):
                self.cols[a]

    @precondition(lambda self: not self.ref.subscribers and all(e.object is None for e in self.ref.events))
    @rule()
    def save_and_load(self) -> None:
        """A round trip through a file: the loaded log holds what the saved records read back
        as (a JSON number comes back a float time, an int size)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "log.jsonl"
            self.cols.save(path)
            loaded = ChangeLog.load(path)
        want = [_event(json.loads(json.dumps(_record(e)))) for e in self.ref.events]
        assert [key(e) for e in loaded] == [key(e) for e in want]
        self.cols = loaded
        self.ref = ListLog()
        for e in want:
            self.ref.append(e)

    # --------------------------------------------------------------- invariants

    @invariant()
    def same_records(self) -> None:
        ref = self.ref.events
        assert len(self.cols) == len(ref) == self.cols.next_seq
        assert [key(e) for e in self.cols] == [key(e) for e in ref]
        assert [key(e) for e in self.cols.committed()] == [key(e) for e in ref if e.outcome == "ok"]
        assert [key(e) for e in self.cols.where(kind="Pod", actor="client")] == [
            key(e) for e in ref if e.outcome == "ok" and e.kind == "Pod" and e.actor == "client"
        ]
        assert [key(e) for e in self.cols.where(namespace="a", name="w")] == [
            key(e) for e in ref if e.outcome == "ok" and e.namespace == "a" and e.name == "w"
        ]
        assert self.cols._committed_resource_versions() == [e.resource_version for e in ref if e.outcome == "ok"]

    @invariant()
    def same_transcripts(self) -> None:
        assert self.heard["cols"] == self.heard["ref"]

    @invariant()
    def same_replay(self) -> None:
        def run(changes: Any) -> Any:
            try:
                return {k: id(v) for k, v in replay(changes).items()}
            except ValueError as exc:
                return repr(exc)

        assert run(self.cols) == run(self.ref.events)

    @invariant()
    def same_churn(self) -> None:
        n = len(self.ref.events)
        for size_model in ("proto", "json"):
            for kwargs in ({}, {"from_seq": n // 3, "to_seq": n - n // 4}, {"since": 1.0, "until": 1e6}):
                got = _churn(self.cols, size_model, kwargs)
                assert got == _churn(self.ref.events, size_model, kwargs), (size_model, kwargs)


def _churn(changes: Any, size_model: str, kwargs: dict[str, Any]) -> Any:
    try:
        return report.churn(changes, groups=GROUPS, size_model=size_model, **kwargs)
    except (OverflowError, ValueError) as exc:
        return repr(exc)


ColumnsAgainstList.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestColumnsAgainstList = ColumnsAgainstList.TestCase


# --------------------------------------------------------------------------------------------
# the representation itself


def test_a_record_needs_no_object_of_its_own() -> None:
    """The columns hold plain numbers; a float time, a trigger time of 0.0 / -0.0 / None and
    64-bit numbers need no record kept whole."""
    log = ChangeLog()
    for i, trigger in enumerate([None, 0.0, -0.0, 1.25]):
        log._append_write(float(i), "update", "Pod", "default", f"p{i}", 2**63 - 1, "kubelet", 10, 5, EMPTY,
                          trigger, "ok", "", None)
    assert not log._odd and log._objects is None
    assert [e.trigger_time for e in log] == [None, 0.0, -0.0, 1.25]
    assert repr(log[2].trigger_time) == "-0.0" and repr(log[1].trigger_time) == "0.0"
    assert log[-1] == log[3] and log[3] is not log[3]
    log._append_write(4, "update", "Pod", "default", "p", 2**64, "kubelet", 10, 5, EMPTY, None, "ok", "", None)
    assert type(log[4].time) is int and log[4].resource_version == 2**64 and 4 in log._odd
    log._append_write(4.0, "update", "Pod", "default", "p", 5, "kubelet", 10, 5, EMPTY, None, "ok", "", None)
    assert type(log[5].time) is int  # the instant's time, shared as the log always did


def test_internal_listeners_hear_no_failed_write() -> None:
    log = ChangeLog()
    heard: list[tuple[str, str, str, str]] = []
    stop = log._listen(lambda *fields: heard.append(fields))
    log._append_write(1.0, "create", "Pod", "a", "p", 0, "client", 1, 1, EMPTY, None, "Conflict", "", None)
    log._append_write(1.0, "create", "Pod", "a", "p", 1, "client", 1, 1, EMPTY, None, "ok", "", None)
    stop()
    log._append_write(2.0, "delete", "Pod", "a", "p", 2, "client", 1, 1, EMPTY, None, "ok", "", None)
    assert heard == [("Pod", "a", "p", "client")]


def test_dataframe_from_the_columns_is_the_one_from_the_events() -> None:
    """``to_dataframe`` reads the columns; the frame built from the events (as it was) is equal,
    records kept whole included."""
    pd = pytest.importorskip("pandas")

    def frame_of(ev: list[ChangeEvent]) -> Any:
        return pd.DataFrame({
            "seq": pd.array([e.seq for e in ev], dtype="int64"),
            "time": pd.array([e.time for e in ev], dtype="float64"),
            "verb": pd.Categorical([e.verb for e in ev], categories=["create", "update", "delete"]),
            "kind": pd.Categorical([e.kind for e in ev]),
            "namespace": pd.array([e.namespace for e in ev], dtype="string"),
            "name": pd.array([e.name for e in ev], dtype="string"),
            "resource_version": pd.array([e.resource_version for e in ev], dtype="int64"),
            "actor": pd.Categorical([e.actor for e in ev]),
            "json_bytes": pd.array([e.json_bytes for e in ev], dtype="int64"),
            "proto_bytes": pd.array([e.proto_bytes for e in ev], dtype="int64"),
            "labels": pd.Series([dict(e.labels) for e in ev], dtype="object"),
            "trigger_time": pd.array([e.trigger_time for e in ev], dtype="Float64"),
            "outcome": pd.Categorical([e.outcome for e in ev]),
            "cause": pd.Categorical([e.cause for e in ev]),
        })

    log = ChangeLog()
    for i, (time, trigger) in enumerate([(0.0, None), (0.5, 0.0), (1, -0.0), (2.0, 1.5)]):
        log._append_write(time, "update", "Pod", "a", f"p{i}", i + 1, "kubelet", 10 + i, 5, LABELS[i], trigger,
                          "ok" if i != 2 else "Conflict", "scale", None)
    log.append(ChangeEvent(7, 3.0, "delete", "Node", "", "n", 9, "client", 1, 1))
    assert set(log._odd) == {2, 4}  # an int time, a seq not its position
    pd.testing.assert_frame_equal(log.to_dataframe(), frame_of(list(log)))
    log.truncate(2)
    pd.testing.assert_frame_equal(log.to_dataframe(), frame_of(list(log)))
    log._append_write(4.0, "create", "Pod", "a", "big", 2**66, "client", 1, 1, EMPTY, None, "ok", "", None)
    with pytest.raises(OverflowError):
        frame_of(list(log))
    with pytest.raises(OverflowError):
        log.to_dataframe()  # a resourceVersion beyond int64 has no int64 column, as before
