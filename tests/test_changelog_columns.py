"""The columnar change log against its oracle: a plain list of :class:`ChangeEvent`.

:class:`kubesim.changelog.ChangeLog` keeps its records as columns and builds each event when it
is read. ``ListLog`` below is the log as it was — one frozen event per record in a list, with
the same subscriber queue — kept small and obvious. A Hypothesis state machine drives both
through the same random records (``None`` / ``0.0`` / ``-0.0`` / NaN trigger times, ``int``
and ``float`` times, numbers beyond 64 bits, failed outcomes, ``str`` subclasses, objects, some
real API objects), appended events (some with a ``seq`` other than their position), holds,
releases, truncations (negative lengths too), transactions shaped like
``APIServer.transaction``, subscribers and internal listeners that write or raise, slices,
logs made from events and save/load round trips, and asserts after every step equal records
(field for field, types and signs included), equal subscriber transcripts, equal churn reports
(the column fold against the event fold, windows drawn, a custom size model's calls too) and
the log's own ``_check()``.

NaN *times* are not drawn: ``churn`` buckets time with ``math.floor``, which raises on NaN
for both logs alike (as it did before the columns).
"""

from __future__ import annotations

import collections
import json
import pathlib
import tempfile
from array import array
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import kubesim
from kubesim import changelog, report
from kubesim.changelog import ChangeEvent, ChangeLog, _event, _record, replay
from kubesim.errors import InvalidArgument
from kubesim.objects import EMPTY, FrozenDict

ROOT = pathlib.Path(__file__).resolve().parent.parent

FIELDS = [f.name for f in attrs.fields(ChangeEvent)]


def key(e: ChangeEvent) -> tuple[Any, ...]:
    """Everything a record is, comparably: each field's type and repr (so ``-0.0`` is not
    ``0.0``, ``1`` not ``1.0``), the label map and the object by identity (the log keeps the
    written map, not an equal one)."""
    return tuple((type(getattr(e, f)).__name__, repr(getattr(e, f))) for f in FIELDS if f != "object") + (
        id(e.labels), id(e.object),
    )


#: the fields of ``_append_write`` after ``time`` that the code table holds: ``verb``,
#: ``kind``, ``namespace``, ``actor``, ``outcome``, ``cause``
CODE_FIELDS = (0, 1, 2, 5, 10, 11)


class ListLog:
    """The oracle: today's semantics, one event per record in a list. ``_append_write`` shares
    the previous write's ``time`` at the same instant (the old log also shared equal sizes and
    non-zero trigger times, which changes no value: equal ``int`` are one value, equal non-zero
    ``float`` too) and records the six strings of the code table as ``str`` (a subclass as its
    value, as the module docstring says; the public ``append`` keeps every field as given).
    ``truncate`` is ``del events[length:]``, and a held record stays pending exactly when its
    position is before the cut (``ChangeLog.truncate``)."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []
        self.subscribers: list[Callable[[ChangeEvent], object]] = []
        #: (position, event) of the records not yet heard
        self.pending: collections.deque[tuple[int, ChangeEvent]] = collections.deque()
        self.notifying = False
        self.held = 0
        self.last_time: float = 0.0

    def append(self, event: ChangeEvent) -> None:
        self.events.append(event)
        if not self.subscribers:
            return
        self.pending.append((len(self.events) - 1, event))
        if not (self.held or self.notifying):
            self.flush()

    def _append_write(self, time: float, *fields: Any) -> None:
        if time and time == self.last_time:
            time = self.last_time
        else:
            self.last_time = time
        values: list[Any] = [str.__str__(v) if i in CODE_FIELDS else v for i, v in enumerate(fields)]
        self.append(ChangeEvent(len(self.events), time, *values))

    def flush(self) -> None:
        self.notifying = True
        first: Exception | None = None
        try:
            while self.pending:
                _, event = self.pending.popleft()
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
        kept = [(i, e) for i, e in self.pending if i < len(self.events)]
        self.pending.clear()
        self.pending.extend(kept)


class Obj:
    """A recorded object (any object: the log only holds it)."""

    def __init__(self, n: int) -> None:
        self.n = n


class S(str):
    """A ``str`` subclass (as a ``StrEnum`` member is): kept whole by the public ``append``,
    recorded as its value by ``_append_write``; never leaks into another record's type."""


def _api_objects() -> list[Any]:
    """A few real API objects (a Service, its Endpoints and EndpointSlice …) that save/load
    can round-trip as manifests."""
    cluster = kubesim.Cluster(seed=0, nodes=1, record_objects=True)
    cluster.apply_file(str(ROOT / "examples" / "manifests" / "nginx-service.yaml"))
    cluster.run()
    return [e.object for e in cluster.changes if e.object is not None][:4]


API_OBJECTS = _api_objects()


LABELS = [EMPTY, FrozenDict({"app": "web"}), FrozenDict({"app": "db"}),
          FrozenDict({"app": "web", "service.kubernetes.io/headless": ""})]
#: a label map shared with earlier records, or a new one equal to one of them (its own code)
label_maps = st.one_of(st.sampled_from(LABELS), st.sampled_from(LABELS).map(lambda m: FrozenDict(dict(m))))
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
triggers = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 0.25, float("nan")]),
                     st.floats(allow_nan=False, width=64, min_value=-1e9, max_value=1e9))
numbers = st.one_of(
    st.integers(min_value=0, max_value=5000), st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63]),  # the columns' bounds
)
records = st.tuples(
    times,
    st.sampled_from(["create", "update", "delete"]),
    st.sampled_from(["Pod", "Endpoints", "EndpointSlice", "Node"]),
    st.sampled_from(["", "a", "default", S("a")]),
    st.sampled_from(["web-1", "web-2", "w", "boom", "node-1", S("web-1")]),
    numbers,  # resource_version
    st.sampled_from(["client", "kubelet", "endpointslice-controller"]),
    numbers,  # json_bytes
    numbers,  # proto_bytes
    label_maps,
    triggers,
    st.sampled_from(["ok", "ok", "ok", "Conflict"]),
    st.sampled_from(["", "scale", "rollout", S("scale")]),
    st.one_of(st.none(), st.integers(0, 3).map(Obj), st.sampled_from(API_OBJECTS)),
)


class CountingSize:
    """A custom size model (the event fold's path): a constant size per kind, and the seqs it
    was asked about, in order."""

    name = "counting"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def size(self, event: ChangeEvent) -> int:
        self.calls.append(event.seq)
        return len(event.kind) + len(event.name)


class ColumnsAgainstList(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # two maps a code, so that the few drawn codes keep maps aside too (restored at teardown)
        self.cap, changelog._MAPS_PER_CODE = changelog._MAPS_PER_CODE, 2
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

    def _listener(self, which: str, log: Any, role: str, n: int) -> Callable[[str, str, str, str], None]:
        """An internal listener's function (``fn(kind, namespace, name, actor)``): it records,
        and as ``listener-writer`` writes on hearing of ``w``, as ``listener-raiser`` raises on
        hearing of ``boom``."""
        heard = self.heard[which]

        def fn(kind: str, ns: str, name: str, actor: str) -> None:
            # kind, namespace, actor: the code table's str (a subclass as its value); name as written
            heard.append((n, kind, ns, type(name).__name__, name, actor))
            if role == "listener-writer" and name == "w":
                log._append_write(5.0, "update", kind, ns, "w-heard", 11, "endpoint-controller", 3, 4, EMPTY,
                                  None, "ok", "reaction", None)
            if role == "listener-raiser" and name == "boom":
                raise ValueError(f"listener {n} refuses {kind} {name}")

        return fn

    @rule(role=st.sampled_from(
        ["recorder", "writer", "raiser", "truncater", "listener", "listener-writer", "listener-raiser"]))
    def subscribe(self, role: str) -> None:
        n = self.subscribers
        self.subscribers += 1
        ref: Callable[[ChangeEvent], object]
        if role.startswith("listener"):
            stop = self.cols._listen(self._listener("cols", self.cols, role, n))
            heard_ref = self._listener("ref", self.ref, role, n)

            def ref(e: ChangeEvent) -> None:
                if e.outcome == "ok":
                    heard_ref(e.kind, e.namespace, e.name, e.actor)
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

    @rule(record=records, same_time=st.booleans(), step=st.sampled_from([1, 1, 1, 0, 2, -1]))
    def append_in_sequence(self, record: tuple[Any, ...], same_time: bool, step: int) -> None:
        """A write as the API server makes them: its resourceVersion the last committed
        one's plus ``step`` (1, but for a repeat, a gap or a step back), maybe at the previous
        write's time: long runs of the derived columns (time, resourceVersion - seq), and
        the breaks in them (a failed write's 0, a truncation, a drawn number)."""
        ref = self.ref.events
        last_rv = next((e.resource_version for e in reversed(ref) if e.outcome == "ok"), 0)
        time = ref[-1].time if same_time and ref else record[0]
        rv = last_rv + step if record[11] == "ok" else 0
        write = (time, *record[1:5], rv, *record[6:])
        self._both(lambda log: log._append_write(*write))

    @rule(record=records, fresh=st.booleans())
    def append_own_map(self, record: tuple[Any, ...], fresh: bool) -> None:
        """A write of one fixed code with its own new map (each StatefulSet Pod's, each
        Node's) or a shared one: past the cap, the code's later maps are kept aside."""
        labels = FrozenDict({"pod": f"db-{len(self.ref.events)}"}) if fresh else record[9]
        write = (record[0], "update", "Pod", "a", "db", *record[5:6], "kubelet", *record[7:9], labels,
                 *record[10:11], "ok", "", record[13])
        self._both(lambda log: log._append_write(*write))

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
        n = len(self.ref.events)
        length = data.draw(st.one_of(st.integers(0, n), st.integers(-n - 2, -1)))
        self.cols.truncate(length)
        self.ref.truncate(length)

    @rule(records=st.lists(st.tuples(records, st.sampled_from([None, None, 0, 1000])), min_size=1, max_size=4),
          roll_back=st.booleans())
    def transaction(self, records: list[tuple[tuple[Any, ...], int | None]], roll_back: bool) -> None:
        """What ``APIServer.transaction`` does to the log: hold, a few writes (some hand-made
        events, maybe with a seq not their position), then on failure ``truncate`` to the mark
        taken before, and release."""
        def act(log: Any) -> None:
            mark = len(log.events) if isinstance(log, ListLog) else len(log)
            log.hold()
            try:
                for record, shift in records:
                    if shift is None:
                        log._append_write(*record)
                    else:
                        n = len(log.events) if isinstance(log, ListLog) else len(log)
                        log.append(ChangeEvent(n + shift, *record))
                if roll_back:
                    log.truncate(mark)
            finally:
                log.release()

        self._both(act)

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

    @precondition(lambda self: not self.ref.subscribers and not any(isinstance(e.object, Obj) for e in self.ref.events))
    @rule()
    def save_and_load(self) -> None:
        """A round trip through a file: the loaded log holds what the saved records read back
        as (a JSON number comes back a float time, an int size; a recorded API object an
        equal one, from its manifest)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "log.jsonl"
            self.cols.save(path)
            loaded = ChangeLog.load(path)
        want = [_event(json.loads(json.dumps(_record(e))), {}) for e in self.ref.events]
        got = list(loaded)
        assert [key(e)[:-2] for e in got] == [key(e)[:-2] for e in want]
        assert [e.object for e in got] == [e.object for e in want]
        assert [e.object is None for e in got] == [e.object is None for e in self.ref.events]
        self.cols = loaded
        self.ref = ListLog()
        for e, loaded_event in zip(want, got, strict=True):
            self.ref.append(attrs.evolve(e, labels=loaded_event.labels, object=loaded_event.object))

    @precondition(lambda self: not self.ref.subscribers and not self.ref.held)
    @rule()
    def from_events(self) -> None:
        """``ChangeLog(events=...)``: a log made from events holds them, field for field."""
        events = list(self.ref.events)
        self.cols = ChangeLog(events=events)
        assert [key(e) for e in self.cols] == [key(e) for e in events]
        self.ref = ListLog()
        for e in events:
            self.ref.append(e)

    @rule(data=st.data())
    def churn_window(self, data: st.DataObject) -> None:
        """A churn report over drawn windows (time and position), with each size model; a
        custom size model is asked about the same records, in the same order."""
        n = len(self.ref.events)
        bound = st.one_of(st.none(), st.floats(-1e3, 1e7, allow_nan=False), st.sampled_from([0.0, 1.0, 2, 7]))
        seq = st.one_of(st.none(), st.integers(0, n + 2))
        kwargs = {"since": data.draw(bound), "until": data.draw(bound),
                  "from_seq": data.draw(seq), "to_seq": data.draw(seq)}
        for size_model in ("proto", "json", "counting"):
            models = (CountingSize(), CountingSize()) if size_model == "counting" else (size_model, size_model)
            got = _churn(self.cols, models[0], kwargs)
            assert got == _churn(self.ref.events, models[1], kwargs), (size_model, kwargs)
            if size_model == "counting":
                assert models[0].calls == models[1].calls  # type: ignore[union-attr]

    def teardown(self) -> None:
        try:
            self.same_churn()  # the last state's churn (a rule, so not after every step)
        finally:
            changelog._MAPS_PER_CODE = self.cap

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
    def consistent(self) -> None:
        self.cols._check()

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

    # The churn fold over the whole log, twice per window, is most of the machine's time when
    # checked after every step (29 of 34 s); it is a rule instead, at random points of a run,
    # and checked again when the run ends (teardown).
    @rule()
    def same_churn(self) -> None:
        n = len(self.ref.events)
        # to_seq at a record whose seq is not its position: where the two folds' stops differ
        odd = [i for i, e in enumerate(self.ref.events) if e.seq != i][:2]
        windows: list[dict[str, Any]] = [
            {}, {"from_seq": n // 3, "to_seq": n - n // 4}, {"since": 1.0, "until": 1e6},
            *({"to_seq": i} for i in odd),
        ]
        for size_model in ("proto", "json"):
            for kwargs in windows:
                got = _churn(self.cols, size_model, kwargs)
                assert got == _churn(self.ref.events, size_model, kwargs), (size_model, kwargs)



def _churn(changes: Any, size_model: Any, kwargs: dict[str, Any]) -> Any:
    """The churn report as the repr of its fields (a NaN trigger time gives NaN latencies,
    which are not ``==`` to themselves; the report's own repr is a summary), or the error it
    raised."""
    try:
        return repr(attrs.astuple(report.churn(changes, groups=GROUPS, size_model=size_model, **kwargs),
                                  recurse=False))
    except (OverflowError, ValueError) as exc:
        return repr(exc)


# 100 examples of up to 40 steps; raise max_examples here for a longer search.
ColumnsAgainstList.TestCase.settings = settings(
    max_examples=100, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestColumnsAgainstList = ColumnsAgainstList.TestCase


# --------------------------------------------------------------------------------------------
# the representation itself


def test_a_record_needs_no_object_of_its_own() -> None:
    """The columns hold plain numbers; a float time, a trigger time of 0.0 / -0.0 / None and
    32-bit numbers need no record kept whole; one beyond is kept whole."""
    log = ChangeLog()
    for i, trigger in enumerate([None, 0.0, -0.0, 1.25]):
        log._append_write(float(i), "update", "Pod", "default", f"p{i}", 2**31 - 1, "kubelet", 10, 5, EMPTY,
                          trigger, "ok", "", None)
    assert not log._odd and log._objects is None
    assert [e.trigger_time for e in log] == [None, 0.0, -0.0, 1.25]
    assert repr(log[2].trigger_time) == "-0.0" and repr(log[1].trigger_time) == "0.0"
    assert log[-1] == log[3] and log[3] is not log[3]
    log._append_write(4, "update", "Pod", "default", "p", 2**64, "kubelet", 10, 5, EMPTY, None, "ok", "", None)
    assert type(log[4].time) is int and log[4].resource_version == 2**64 and 4 in log._odd
    log._append_write(4.0, "update", "Pod", "default", "p", 5, "kubelet", 10, 5, EMPTY, None, "ok", "", None)
    assert type(log[5].time) is int  # the instant's time, shared as the log always did
    log._append_write(6.0, "update", "Pod", "default", "p", 6, "kubelet", 2**31, -(2**31), EMPTY, None, "ok", "", None)
    assert (log[6].json_bytes, log[6].proto_bytes) == (2**31, -(2**31)) and 6 in log._odd


def test_code_column_widens_and_keeps_each_label_map() -> None:
    """A code per (code fields, label map by identity): 70,000 namespaces, each with its own
    map (some equal to others), take the code column from 1 byte a record to 2 then 4, and
    every record reads back its own map (not an equal one), before and after a truncation
    back across both widenings."""
    log = ChangeLog()
    maps = [FrozenDict({"n": str(i % 1000)}) for i in range(70_000)]  # 70 equal maps of each text
    for i, m in enumerate(maps):
        log._append_write(1.0, "update", "Node", f"ns{i}", "n", i + 1, "kubelet", 10, 5, m, None, "ok", "", None)
        if i in (255, 256, 65_535, 65_536):
            assert log._code.typecode == ("B" if i < 256 else "H" if i < 65_536 else "I"), i
    assert all(log[i].labels is maps[i] for i in (0, 255, 256, 999, 1000, 65_535, 65_536, 69_999))
    assert [log[i].resource_version for i in (0, 69_999)] == [1, 70_000] and len(log._rv_at) == 1
    assert len(log._time_at) == 1 and len(log._codes) == 70_000 and not log._label_at
    log._check()
    log.truncate(300)
    assert log._code.typecode == "I" and [e.labels for e in log] == maps[:300]
    log._append_write(2.0, "update", "Node", "ns5", "n", 301, "kubelet", 10, 5, maps[5], None, "ok", "", None)
    assert log[300].labels is maps[5] and len(log._codes) == 70_000  # the table keeps its codes
    log._check()


def test_maps_past_the_cap_are_kept_aside() -> None:
    """One code's first ``_MAPS_PER_CODE`` maps get a code each; the later ones share the
    code's aside code and are kept by position: each record still reads back its own map
    (an earlier map stays coded), through reads, slices, the churn fold and truncations."""
    log = ChangeLog()
    maps = [FrozenDict({"pod": f"db-{i}"}) for i in range(40)]
    order = [*range(40), 3, 30, 39, 0]  # a coded map again, aside maps again
    for i, m in enumerate(order):
        log._append_write(float(i), "update", "Pod", "a", f"db-{m}", i + 1, "kubelet", 10, 5, maps[m], None,
                          "ok", "", None)
    cap = changelog._MAPS_PER_CODE
    assert len(log._codes) == cap + 1 and list(log._label_at) == [i for i, m in enumerate(order) if m >= cap]
    assert [e.labels for e in log] == [maps[m] for m in order]
    assert all(a is b for a, b in zip((e.labels for e in log[::-1]), [maps[m] for m in reversed(order)], strict=True))
    groups = (report.WatcherGroup("db-3", "Pod", 1, selector="pod=db-3"),)
    assert report.churn(log, groups=groups) == report.churn(list(log), groups=groups)
    log._check()
    log.truncate(cap + 2)
    assert list(log._label_at) == [cap, cap + 1] and log[cap + 1].labels is maps[cap + 1]
    log._append_write(9.0, "update", "Pod", "a", "x", 99, "kubelet", 10, 5, maps[39], None, "ok", "", None)
    assert log[-1].labels is maps[39] and list(log._label_at) == [cap, cap + 1, cap + 2]
    log._check()


def test_runs_of_time_trigger_time_and_resource_version() -> None:
    """The derived columns hold a value per run: writes at one instant share a time run,
    records with no trigger time extend the trigger run, committed writes in sequence share
    one resourceVersion run; a zero of the other sign, a NaN, a failed write (rv 0) or a
    gap each start a run, and every record reads back its own value."""
    log = ChangeLog()
    writes = [  # time, trigger, rv, outcome
        (1.0, None, 1, "ok"), (1.0, 0.5, 2, "ok"), (1.0, None, 3, "ok"), (1.0, 0.5, 4, "ok"),
        (2.0, 0.0, 0, "Conflict"), (2.0, -0.0, 5, "ok"), (-0.0, float("nan"), 6, "ok"),
        (0.0, float("nan"), 8, "ok"), (0.0, None, 9, "ok"), (3.0, -0.0, 10, "ok"),
    ]
    for i, (time, trigger, rv, outcome) in enumerate(writes):
        log._append_write(time, "update", "Pod", "a", f"p{i}", rv, "kubelet", 10, 5, EMPTY, trigger, outcome,
                          "", None)
    got = [(repr(e.time), repr(e.trigger_time), e.resource_version, e.outcome) for e in log]
    assert got == [(repr(t), repr(g), rv, o) for t, g, rv, o in writes]
    assert list(log._time_at) == [0, 4, 6, 7, 9] and list(log._trigger_at) == [1, 4, 5, 6, 7, 9]
    assert list(log._rv_at) == [0, 4, 5, 7] and list(log._rv_val) == [1, -4, 0, 1]
    assert not log._odd
    log._check()
    log.truncate(5)
    assert list(log._time_at) == [0, 4] and list(log._trigger_at) == [1, 4] and list(log._rv_at) == [0, 4]
    log._append_write(2.0, "update", "Pod", "a", "q", 5, "kubelet", 10, 5, EMPTY, 0.0, "ok", "", None)
    assert list(log._time_at) == [0, 4] and list(log._trigger_at) == [1, 4] and list(log._rv_at) == [0, 4, 5]
    assert (log[5].time, repr(log[5].trigger_time), log[5].resource_version) == (2.0, "0.0", 5)
    log._check()


def test_a_loaded_log_shares_its_equal_label_maps(tmp_path: pathlib.Path) -> None:
    """``load`` gives the records of one label text one map, so the code table of a loaded
    log grows with its distinct maps, not with its records."""
    log = ChangeLog()
    for i in range(50):
        labels = FrozenDict({"app": "web"}) if i % 2 else EMPTY  # a new (equal) map each write
        log._append_write(float(i), "update", "Pod", "a", "p", i + 1, "kubelet", 10, 5, labels, None, "ok", "", None)
    assert len(log._codes) == 17 and len(log._label_at) == 10  # EMPTY and 15 coded maps, one aside code
    log.save(tmp_path / "log.jsonl")
    loaded = ChangeLog.load(tmp_path / "log.jsonl")
    assert [key(e)[:-2] for e in loaded] == [key(e)[:-2] for e in log]
    assert len(loaded._codes) == 2 and not loaded._label_at and loaded[1].labels is loaded[3].labels
    loaded._check()


@pytest.mark.parametrize("committed", [False, True])
def test_iteration_across_chunks_meets_truncations_and_appends(committed: bool) -> None:
    """Iterating builds events a chunk at a time; what it yields is what a list's iterator
    would: a truncation past the current record (within the chunk or beyond it) and one to
    before it, appends meanwhile (records replacing truncated ones), over several chunks."""
    cols, ref = ChangeLog(), ListLog()

    def write(i: int, tag: str) -> None:
        outcome = "Conflict" if i % 5 == 0 else "ok"
        for log in (cols, ref):
            log._append_write(float(i // 3), "update", "Pod", "a", f"{tag}{i}", i + 1, "kubelet", i, 1,
                              EMPTY, float(i // 7) if i % 2 else None, outcome, "", None)

    for i in range(3 * changelog._CHUNK):
        write(i, "p")
    actions = {10: ("truncate", 500), 300: ("truncate", 280), 301: ("append", 3), 600: ("append", 40)}

    def walk(log: Any, events: Any) -> list[tuple[Any, ...]]:
        seen: list[tuple[Any, ...]] = []
        for step, e in enumerate(events):
            seen.append(key(e))
            what, n = actions.get(step, ("", 0))
            if what == "truncate":
                log.truncate(n)
            elif what == "append" and log is cols:  # the same writes once, into both logs
                for j in range(n):
                    write(1000 + 10 * step + j, "q")
        return seen

    def ref_events() -> Iterator[ChangeEvent]:  # a list's iterator, filtered as it goes
        i = 0
        while i < len(ref.events):
            e = ref.events[i]
            i += 1
            if not committed or e.outcome == "ok":
                yield e

    got = walk(cols, cols.committed() if committed else iter(cols))
    want = walk(ref, ref_events())
    assert got == want and len(got) > changelog._CHUNK
    assert [key(e) for e in cols] == [key(e) for e in ref.events]
    cols._check()


def test_internal_listeners_hear_no_failed_write() -> None:
    log = ChangeLog()
    heard: list[tuple[str, str, str, str]] = []
    stop = log._listen(lambda *fields: heard.append(fields))
    log._append_write(1.0, "create", "Pod", "a", "p", 0, "client", 1, 1, EMPTY, None, "Conflict", "", None)
    log._append_write(1.0, "create", "Pod", "a", "p", 1, "client", 1, 1, EMPTY, None, "ok", "", None)
    stop()
    log._append_write(2.0, "delete", "Pod", "a", "p", 2, "client", 1, 1, EMPTY, None, "ok", "", None)
    assert heard == [("Pod", "a", "p", "client")]


def test_internal_listeners_hear_only_their_kinds_in_subscription_order() -> None:
    """``_listen(fn, kinds)`` calls ``fn`` for the committed records of those kinds only, in
    its place among the subscribers; called with an event, the listener filters the same way."""
    log = ChangeLog()
    heard: list[tuple[str, ...]] = []
    log._listen(lambda *fields: heard.append(("pods", *fields)), ("Pod",))
    log.subscribe(lambda e: heard.append(("user", e.kind, e.name)))
    log._listen(lambda *fields: heard.append(("all", *fields)))
    for i, kind in enumerate(("Pod", "Event", "Node", "Pod")):
        log._append_write(1.0, "create", kind, "a", f"o{i}", i + 1, "client", 1, 1, EMPTY, None, "ok", "", None)
    assert heard == [
        ("pods", "Pod", "a", "o0", "client"), ("user", "Pod", "o0"), ("all", "Pod", "a", "o0", "client"),
        ("user", "Event", "o1"), ("all", "Event", "a", "o1", "client"),
        ("user", "Node", "o2"), ("all", "Node", "a", "o2", "client"),
        ("pods", "Pod", "a", "o3", "client"), ("user", "Pod", "o3"), ("all", "Pod", "a", "o3", "client"),
    ]
    direct: list[tuple[str, ...]] = []
    listener = changelog._Listener(lambda *fields: direct.append(fields), frozenset({"Node"}))
    for e in log:
        listener(e)
    assert direct == [("Node", "a", "o2", "client")]
    with pytest.raises(TypeError, match="collection of kind names"):
        log._listen(lambda *fields: None, "Pod")  # would be the letters P, o, d


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


# --------------------------------------------------------------------------------------------
# the review's findings, each as a fixed case


def _event_at(seq: int, time: float, name: str, **kw: Any) -> ChangeEvent:
    return ChangeEvent(seq, time, "create", "Pod", "a", name, seq + 1, "client", 100, 10, **kw)


def test_churn_to_seq_at_a_late_record_with_a_smaller_seq() -> None:
    """The event fold stops at the first record whose seq is >= to_seq: a record appended at
    position to_seq with a smaller seq is folded, by the column fold too."""
    log = ChangeLog()
    for i in range(4):
        log.append(_event_at(i, float(i), f"p{i}"))
    log.append(_event_at(2, 4.0, "late"))  # position 4, seq 2
    groups = report.kube_proxy_groups(1)
    cols = report.churn(log, groups=groups, to_seq=4)
    assert cols == report.churn(list(log), groups=groups, to_seq=4)
    assert cols.by_kind["Pod"].creates == 5


def test_a_held_record_is_kept_by_its_position_not_its_seq() -> None:
    """truncate(1) keeps the record at position 0 (seq 1000) and drops the one at position 1
    (seq 0): release hands out the kept one only."""
    log = ChangeLog()
    heard: list[tuple[int, str]] = []
    log.subscribe(lambda e: heard.append((e.seq, e.name)))
    log.hold()
    log.append(_event_at(1000, 1.0, "p"))
    log.append(_event_at(0, 2.0, "q"))
    log.truncate(1)
    log.release()
    assert [(e.seq, e.name) for e in log] == heard == [(1000, "p")]


def test_machine_held_record_with_a_seq_past_the_cut() -> None:
    """The state machine's steps that found the oracle's seq rule (a held record whose seq is
    beyond the cut but whose position is before it): both logs hand it out at release."""
    m = ColumnsAgainstList()
    m.subscribe(role="recorder")
    m.hold()
    m.append_event(record=(1.0, "create", "Pod", "a", "web-1", 1, "client", 1, 1, EMPTY, None, "ok", "", None),
                   shift=1000)
    m.cols.truncate(1)
    m.ref.truncate(1)
    m.release()
    m.same_transcripts()
    assert len(m.heard["cols"]) == 1
    m.consistent()
    m.teardown()


def test_truncate_to_a_negative_length_keeps_the_held_records_it_keeps() -> None:
    log = ChangeLog()
    heard: list[int] = []
    log.subscribe(lambda e: heard.append(e.seq))
    log.hold()
    for i in range(3):
        log.append(_event_at(i, float(i + 1), f"p{i}"))
    log.truncate(-1)
    log.release()
    assert [e.seq for e in log] == heard == [0, 1]
    log._check()


def test_a_str_subclass_stays_in_its_own_record() -> None:
    """A record kept whole for a ``str`` subclass does not give that type to later records of
    the same code; ``_append_write`` records a subclass as its ``str`` value."""
    log = ChangeLog()
    log.append(ChangeEvent(0, 1.0, "update", "Pod", S("default"), "p", 1, "client", 1, 1))
    log._append_write(2.0, "update", "Pod", "default", "p", 2, "client", 1, 1, EMPTY, None, "ok", "", None)
    log.append(ChangeEvent(2, 3.0, "update", "Pod", "default", "p", 3, "client", 1, 1))
    log._append_write(4, "update", "Pod", "default", "p", 4, "client", 1, 1, EMPTY, None, "ok", S("x"), None)
    log._append_write(5.0, "update", "Pod", "default", "p", 5, "client", 1, 1, EMPTY, None, "ok", S("y"), None)
    assert [type(e.namespace) for e in log] == [S, str, str, str, str]
    assert [type(e.cause) for e in log] == [str] * 5 and log[3].cause == "x" and log[4].cause == "y"
    log._check()


def test_an_unhashable_string_field_is_refused_with_the_log_unchanged() -> None:
    class Unhashable(str):
        __hash__ = None  # type: ignore[assignment]

    log = ChangeLog()
    log.append(_event_at(0, 1.0, "p"))
    for bad in (Unhashable("a"), ["a"]):
        with pytest.raises(InvalidArgument, match="namespace must be a string"):
            log.append(ChangeEvent(1, 2.0, "create", "Pod", bad, "q", 2, "client", 1, 1))  # type: ignore[arg-type]
        assert len(log) == 1
        log._check()


def test_check_finds_a_broken_representation() -> None:
    log = ChangeLog()
    log.subscribe(lambda e: None)
    log.hold()
    for i in range(3):
        log.append(_event_at(i if i != 1 else 7, float(i), f"p{i}"))
    log._check()
    breakages: list[Callable[[ChangeLog], object]] = [
        lambda lg: lg._json.pop(),
        lambda lg: lg._codes.append(("create", "Pod", "b", "client", "ok", "", False)),
        lambda lg: lg._labels.append(EMPTY),
        lambda lg: lg._labels.__setitem__(0, FrozenDict()),  # an equal map, not the record's
        lambda lg: lg._plain.clear(),
        lambda lg: lg._code.__setitem__(0, 99),
        lambda lg: lg._time_at.append(1),  # a run starting at a record kept whole
        lambda lg: lg._time_at.pop(),  # a run value without its start
        lambda lg: lg._time_val.__setitem__(1, 0.0),  # two runs of one time, the cache not the last
        lambda lg: setattr(lg, "_time_last", -0.0),
        lambda lg: lg._rv_at.__setitem__(0, 2),  # a record before the first run
        lambda lg: setattr(lg, "_rv_last", None),
        lambda lg: lg._trigger_at.append(0),  # a trigger run with no value
        lambda lg: setattr(lg, "_code", array("B", lg._code) if lg._code.typecode != "B" else array("Q", lg._code)),
        lambda lg: lg._odd.__setitem__(5, lg._odd[1]),
        lambda lg: lg._pending.rotate(1),
        lambda lg: setattr(lg, "_objects", [None]),
        lambda lg: lg._code_of.__setitem__(lg._codes[0], 3),
    ]
    for breakage in breakages:
        broken = ChangeLog(events=list(log))
        broken.subscribe(lambda e: None)
        broken.hold()
        broken._pending.extend(range(3))
        broken._check()
        breakage(broken)
        with pytest.raises(AssertionError):
            broken._check()


def test_a_log_made_from_events_holds_them() -> None:
    events = [
        ChangeEvent(0, 1.0, "create", "Pod", "a", "p", 1, "client", 1, 1, object="OBJ"),
        ChangeEvent(1, 2, "update", "Pod", "a", "p", 2**65, "client", 1, 1, trigger_time=-0.0),
        ChangeEvent(2, 3.0, "delete", "Pod", "a", "p", 3, "client", 1, 1, trigger_time=float("nan")),
    ]
    log = ChangeLog(events=events)
    assert [key(e)[:-1] for e in log] == [key(e)[:-1] for e in events]
    assert [e.object for e in log] == ["OBJ", None, None] and sorted(log._odd) == [1]
    assert repr(log[1].trigger_time) == "-0.0" and type(log[1].time) is int
    log._check()


def test_a_nan_trigger_time_round_trips() -> None:
    log = ChangeLog()
    log._append_write(1.0, "update", "Pod", "a", "p", 1, "kubelet", 10, 5, EMPTY, float("nan"), "ok", "", None)
    assert not log._odd and repr(log[0].trigger_time) == "nan"
    assert _churn(log, "proto", {}) == _churn(list(log), "proto", {})
    assert "nan" in _churn(log, "proto", {})
