"""The change log: one compact record per committed write, the source of truth for reports.

Every create, update and delete that the API server commits appends one :class:`ChangeEvent`.
Records are small and never hold the object itself: a 20,000-address Endpoints written 40,000
times costs 40,000 records of a dozen fields, not 40,000 copies. Reports are pure folds over
this sequence.

Sizes (``json_bytes``, ``proto_bytes``) are those of the object *as served to watchers* after
the write (for a delete: the last state, which is what a DELETED watch event carries). See
:mod:`kubesim.wire` for exactly what they include.

A write that was attempted but failed (an injected fault, an etcd size refusal, a conflict)
appears with ``outcome`` other than ``"ok"`` when the API server is asked to record failures;
such records changed nothing and are excluded from the "committed" views.
"""

from __future__ import annotations

import collections
import html
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

import attrs

from kubesim.errors import InvalidOption
from kubesim.objects import EMPTY, FrozenDict

if TYPE_CHECKING:  # pragma: no cover
    import pandas  # type: ignore[import-untyped, unused-ignore]

    from kubesim.report import ChurnReport

__all__ = ["ChangeEvent", "ChangeLog", "replay"]


@attrs.frozen
class ChangeEvent:
    """One write to the simulated API.

    ``seq`` is the position in the log (from 0); ``time`` the virtual time in seconds;
    ``verb`` one of ``"create"``, ``"update"``, ``"delete"``; ``resource_version`` the
    cluster-wide counter value the write produced (``0`` for a failed attempt); ``actor`` the
    controller or client that wrote (``"endpoint-controller"``, ``"endpointslice-controller"``,
    ``"kubelet"``, ``"client"`` …). ``labels`` is the written object's label map (shared, not
    copied), so watcher selectors can be applied by a report; ``trigger_time`` is the
    ``endpoints.kubernetes.io/last-change-trigger-time`` the write carried, in virtual seconds,
    if any; ``outcome`` is ``"ok"`` for a committed write, else the failure's name.
    """

    seq: int
    time: float
    verb: str
    kind: str
    namespace: str
    name: str
    resource_version: int
    actor: str
    json_bytes: int
    proto_bytes: int
    labels: FrozenDict = attrs.field(default=EMPTY, repr=False)
    trigger_time: float | None = attrs.field(default=None, repr=False)
    outcome: str = "ok"
    cause: str = ""
    #: the written object, only when the cluster records objects (``record_objects=True``)
    object: Any = attrs.field(default=None, repr=False, eq=False)

    @property
    def committed(self) -> bool:
        """``True`` for a write that changed the API server's state."""
        return self.outcome == "ok"


def _slot_setters(cls: type) -> tuple[Callable[[Any, Any], None], ...]:
    """The ``__set__`` of each field's slot of the attrs slotted class ``cls``, in field
    order: what a frozen class's generated ``__init__`` ends up calling, without the
    attribute lookup ``object.__setattr__`` makes per field. The constructors that run on
    every write (a :class:`ChangeEvent` here; the stamped ``ObjectMeta`` and the
    ``WatchEvent`` in :mod:`kubesim.apiserver`) set their slots through these, which costs
    about a third less than the generated ``__init__``; they hold for classes whose fields
    have no converter or validator (or values already converted). ``O(fields)``, once per
    class."""
    return tuple(cls.__dict__[f.name].__set__ for f in attrs.fields(cls))


# ChangeLog._append_write sets a ChangeEvent's slots in this order.
assert [f.name for f in attrs.fields(ChangeEvent)] == [
    "seq", "time", "verb", "kind", "namespace", "name", "resource_version", "actor", "json_bytes",
    "proto_bytes", "labels", "trigger_time", "outcome", "cause", "object",
] and not any(f.converter or f.validator for f in attrs.fields(ChangeEvent)), (
    "ChangeEvent changed: update ChangeLog._append_write"
)
(
    _e_seq, _e_time, _e_verb, _e_kind, _e_namespace, _e_name, _e_resource_version, _e_actor, _e_json_bytes,
    _e_proto_bytes, _e_labels, _e_trigger_time, _e_outcome, _e_cause, _e_object,
) = _slot_setters(ChangeEvent)
_new_object = object.__new__


#: How many distinct sizes (and trigger times) a change log shares before it starts afresh.
_SHARED_KEPT = 1 << 16


@attrs.define(eq=False)
class ChangeLog(Sequence[ChangeEvent]):
    """An append-only sequence of :class:`ChangeEvent`.

    Indexing and ``len`` are ``O(1)``; :meth:`append` is amortised ``O(1)`` plus one call per
    subscriber. Subscribers (``subscribe``) are how users observe writes as they happen.

    Subscribers hear every event in log order, once. A subscriber may write (the API server
    commits the write at once; its event is handed out after the current one has reached every
    subscriber); inside an open transaction the events are held (:meth:`hold`) and handed out
    when it commits, or dropped with the rolled-back records.
    """

    _events: list[ChangeEvent] = attrs.field(factory=list)
    _subscribers: list[Callable[[ChangeEvent], object]] = attrs.field(factory=list, repr=False)
    _pending: collections.deque[ChangeEvent] = attrs.field(factory=collections.deque, init=False, repr=False)
    _notifying: bool = attrs.field(default=False, init=False, repr=False)
    _held: int = attrs.field(default=0, init=False, repr=False)
    #: what a saved log carried besides its records (kubesim version, seed, options …)
    metadata: dict[str, Any] = attrs.field(factory=dict, repr=False)
    #: one shared ``int`` per size value (``json_bytes``, ``proto_bytes``) and one shared
    #: ``float`` per trigger time and per write time: see :meth:`_append_write`
    _sizes: dict[int, int] = attrs.field(factory=dict, init=False, repr=False)
    _triggers: dict[float, float] = attrs.field(factory=dict, init=False, repr=False)
    _last_time: float = attrs.field(default=0.0, init=False, repr=False)

    def append(self, event: ChangeEvent) -> None:
        """Record ``event`` and hand it to every subscriber, in subscription order (after the
        events before it, if a subscriber is still being called)."""
        self._events.append(event)
        if not self._subscribers:
            return
        if self._held or self._notifying:
            self._pending.append(event)
            return
        self._pending.append(event)
        self._flush()

    def _append_write(
        self,
        time: float,
        verb: str,
        kind: str,
        namespace: str,
        name: str,
        resource_version: int,
        actor: str,
        json_bytes: int,
        proto_bytes: int,
        labels: FrozenDict,
        trigger_time: float | None,
        outcome: str,
        cause: str,
        obj: Any,
    ) -> None:
        """:meth:`append` the :class:`ChangeEvent` of these fields with the next ``seq``
        (``obj`` is its ``object``): what :class:`kubesim.apiserver.APIServer` calls on every
        write (private to the two), the event's slots set directly (:func:`_slot_setters`)
        and, when nothing is held or pending, handed to the subscribers with no queue (as
        :meth:`_flush` would: events their writes append meanwhile follow, and the first
        exception is raised once every event has reached every subscriber). ``O(1)`` plus
        one call per subscriber.

        Memory: a record holds its numbers as Python objects (an ``int`` above 256 is 28–32
        bytes, a ``float`` 24), and most of them recur: a Pod or an Event is written at a few
        hundred sizes, many writes share one instant, a handful of trigger times recur on
        every Endpoints write. So equal sizes share one ``int`` (``_sizes``), equal trigger
        times one ``float`` (``_triggers``), both cleared wholesale at
        :data:`_SHARED_KEPT` values, and a write at the instant of the one before shares its
        ``time``. The values are the same (an ``int`` or a non-zero ``float`` equal to
        another has its value and repr; ``0.0`` is left alone, it equals ``-0.0``), so
        every record reads and compares as before; only the objects are shared."""
        sizes = self._sizes
        if len(sizes) >= _SHARED_KEPT:
            sizes.clear()
        json_bytes = sizes.setdefault(json_bytes, json_bytes)
        proto_bytes = sizes.setdefault(proto_bytes, proto_bytes)
        if trigger_time:
            triggers = self._triggers
            if len(triggers) >= _SHARED_KEPT:
                triggers.clear()
            trigger_time = triggers.setdefault(trigger_time, trigger_time)
        if time and time == self._last_time:
            time = self._last_time
        else:
            self._last_time = time
        events = self._events
        # ChangeEvent(len(events), time, ..., obj), its slots set directly (_slot_setters)
        event = _new_object(ChangeEvent)
        _e_seq(event, len(events))
        _e_time(event, time)
        _e_verb(event, verb)
        _e_kind(event, kind)
        _e_namespace(event, namespace)
        _e_name(event, name)
        _e_resource_version(event, resource_version)
        _e_actor(event, actor)
        _e_json_bytes(event, json_bytes)
        _e_proto_bytes(event, proto_bytes)
        _e_labels(event, labels)
        _e_trigger_time(event, trigger_time)
        _e_outcome(event, outcome)
        _e_cause(event, cause)
        _e_object(event, obj)
        events.append(event)
        subscribers = self._subscribers
        if not subscribers:
            return
        if self._held or self._notifying or self._pending:
            self._pending.append(event)
            if not (self._held or self._notifying):
                self._flush()
            return
        # Nothing held or pending: what _flush does with this one event, without the queue;
        # events the subscribers' own writes append meanwhile are flushed after it.
        # Written out as in _flush (one call fewer per write).
        self._notifying = True
        first: Exception | None = None
        try:
            for fn in subscribers:
                try:
                    fn(event)
                except Exception as exc:  # noqa: BLE001 - re-raised below
                    if first is None:
                        first = exc
        finally:
            self._notifying = False
        if self._pending:
            try:
                self._flush()
            except Exception:
                if first is None:
                    raise  # else the first exception, this event's subscriber's, is raised below
        if first is not None:
            raise first

    def _flush(self) -> None:
        # A subscriber that raises does not keep the others from hearing: the first exception
        # is re-raised once every pending event has reached every subscriber.
        self._notifying = True
        pending = self._pending
        first: Exception | None = None
        try:
            while pending:
                event = pending.popleft()
                for fn in self._subscribers:
                    try:
                        fn(event)
                    except Exception as exc:  # noqa: BLE001 - re-raised below
                        if first is None:
                            first = exc
        finally:
            self._notifying = False
        if first is not None:
            raise first

    def hold(self) -> None:
        """Keep later events from subscribers until :meth:`release` (nests)."""
        self._held += 1

    def release(self) -> None:
        """End a :meth:`hold`; the held events that remain in the log go out, in order."""
        self._held -= 1
        if not self._held and self._pending and not self._notifying:
            self._flush()

    def subscribe(self, fn: Callable[[ChangeEvent], object]) -> Callable[[], None]:
        """Call ``fn(event)`` for every later event; returns a function that unsubscribes."""
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def truncate(self, length: int) -> None:
        """Drop events from ``length`` on (used to roll back a failed all-or-nothing apply);
        subscribers never hear of them."""
        del self._events[length:]
        if self._pending:
            kept = [e for e in self._pending if e.seq < length]
            self._pending.clear()
            self._pending.extend(kept)

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next event will carry."""
        return len(self._events)

    def __len__(self) -> int:
        return len(self._events)

    @overload
    def __getitem__(self, index: int) -> ChangeEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[ChangeEvent]: ...

    def __getitem__(self, index: int | slice) -> ChangeEvent | Sequence[ChangeEvent]:
        return self._events[index]

    def __iter__(self) -> Iterator[ChangeEvent]:
        return iter(self._events)

    def committed(self) -> Iterator[ChangeEvent]:
        """Only the writes that changed state (``outcome == "ok"``)."""
        return (e for e in self._events if e.outcome == "ok")

    def where(
        self,
        *,
        kind: str | None = None,
        verb: str | None = None,
        actor: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
    ) -> list[ChangeEvent]:
        """The committed events matching every given field. ``O(len(log))``."""
        out = []
        for e in self._events:
            if e.outcome != "ok":
                continue
            if kind is not None and e.kind != kind:
                continue
            if verb is not None and e.verb != verb:
                continue
            if actor is not None and e.actor != actor:
                continue
            if namespace is not None and e.namespace != namespace:
                continue
            if name is not None and e.name != name:
                continue
            out.append(e)
        return out

    def __repr__(self) -> str:
        return f"<ChangeLog of {len(self._events)} events>"

    # ------------------------------------------------------------------ as data

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per record, in log order, with typed columns: ``seq``, ``resource_version``,
        ``json_bytes``, ``proto_bytes`` ``int64``; ``time`` ``float64``; ``trigger_time``
        nullable ``Float64`` (``<NA>`` when the write carried none); ``verb``, ``kind``,
        ``actor``, ``outcome``, ``cause`` ``category``; ``namespace``, ``name`` ``string``;
        ``labels`` the label maps as dicts. Needs pandas (``pip install kubesim[notebook]``).
        ``O(len(log))``."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("ChangeLog.to_dataframe() needs pandas: pip install kubesim[notebook]") from exc
        ev = self._events
        columns: dict[str, Any] = {
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
        }
        return pd.DataFrame(columns)

    def _repr_html_(self) -> str:
        esc = html.escape
        counts: dict[str, list[int]] = {}
        failed = 0
        for e in self._events:
            if e.outcome != "ok":
                failed += 1
                continue
            row = counts.setdefault(e.kind, [0, 0, 0, 0])
            row[("create", "update", "delete").index(e.verb)] += 1
            row[3] += e.proto_bytes
        from kubesim.report import format_bytes

        body = "".join(
            f"<tr><td>{esc(k)}</td>" + "".join(f"<td style='text-align:right'>{n:,}</td>" for n in r[:3])
            + f"<td style='text-align:right'>{esc(format_bytes(r[3]))}</td></tr>"
            for k, r in sorted(counts.items())
        )
        span = f", t = {self._events[0].time:g} … {self._events[-1].time:g} s" if self._events else ""
        fail = f", {failed:,} failed attempts" if failed else ""
        tail = "".join(
            f"<tr><td>{e.seq}</td><td>{e.time:.3f}</td><td>{esc(e.verb)}</td><td>{esc(e.kind)}</td>"
            f"<td>{esc(e.namespace + '/' if e.namespace else '')}{esc(e.name)}</td><td>{esc(e.actor)}</td>"
            f"<td style='text-align:right'>{e.proto_bytes:,}</td></tr>"
            for e in self._events[-5:]
        )
        return (
            f"<p><b>ChangeLog</b> of {len(self._events):,} records{span}{fail}</p>"
            "<table><tr><th>kind</th><th>creates</th><th>updates</th><th>deletes</th><th>bytes written (proto)</th></tr>"
            f"{body}</table>"
            + (
                "<p><small>last records</small></p><table><tr><th>seq</th><th>time (s)</th><th>verb</th>"
                f"<th>kind</th><th>object</th><th>actor</th><th>proto bytes</th></tr>{tail}</table>"
                if tail
                else ""
            )
        )

    def churn(self, **kwargs: Any) -> ChurnReport:
        """The churn report of this log (:func:`kubesim.report.churn`), for a log loaded from a
        file as much as a live one. ``groups`` defaults to kube-proxy on every Node the log
        holds at its end, as :meth:`kubesim.Cluster.churn` does. ``O(len(log))``."""
        from kubesim import report

        if "groups" not in kwargs:
            nodes: set[str] = set()
            for e in self._events:
                if e.kind == "Node" and e.outcome == "ok":
                    (nodes.discard if e.verb == "delete" else nodes.add)(e.name)
            kwargs["groups"] = report.default_groups(len(nodes))
        return report.churn(self._events, **kwargs)

    # ------------------------------------------------------------------ files

    def save(self, path: str | os.PathLike[str], *, metadata: Mapping[str, Any] | None = None) -> None:
        """Write the log to ``path``: JSON Lines (``.jsonl``, ``.json``; one header line with
        the format, the kubesim version and ``metadata``, then one object per record) or
        Parquet (``.parquet``; needs pyarrow, ``pip install kubesim[notebook]``; metadata in the
        schema). Every field round-trips through :meth:`load`, recorded objects
        (``Cluster(record_objects=True)``) as their manifests. ``O(len(log))``."""
        meta = _file_metadata(self.metadata, metadata)
        records = [_record(e) for e in self._events]
        suffix = os.fspath(path).lower().rsplit(".", 1)[-1]
        if suffix == "parquet":
            pa, pq = _pyarrow("ChangeLog.save")
            table = pa.table(
                {name: pa.array([r[name] for r in records], type=t) for name, t in _arrow_schema(pa)},
                metadata={"kubesim": json.dumps(meta, sort_keys=True)},
            )
            pq.write_table(table, os.fspath(path))
            return
        if suffix not in ("jsonl", "json", "ndjson"):
            raise InvalidOption(f"save: unknown file type {os.fspath(path)!r}: use .jsonl or .parquet")
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(meta, sort_keys=True) + "\n")
            for r in records:
                f.write(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ChangeLog:
        """A log written by :meth:`save` (JSON Lines or Parquet, by the file's suffix), record
        for record equal to the one saved; its header in :attr:`metadata`. ``O(len(log))``."""
        name = os.fspath(path)
        if name.lower().endswith(".parquet"):
            _, pq = _pyarrow("ChangeLog.load")
            table = pq.read_table(name)
            raw = (table.schema.metadata or {}).get(b"kubesim")
            meta = json.loads(raw) if raw else {}
            rows = table.to_pylist()
        else:
            with open(name, encoding="utf-8") as f:
                lines = [line for line in f if line.strip()]
            if not lines:
                raise InvalidOption(f"{name}: empty file, not a saved change log")
            meta = json.loads(lines[0])
            rows = [json.loads(line) for line in lines[1:]]
        if meta.get("format") != _FORMAT:
            raise InvalidOption(f"{name}: not a kubesim change log (no {_FORMAT!r} header)")
        log = cls(metadata=dict(meta.get("metadata") or {}))
        for r in rows:
            log._events.append(_event(r))
        return log


_FORMAT = "kubesim.changelog/v1"
_FIELDS = ("seq", "time", "verb", "kind", "namespace", "name", "resource_version", "actor",
           "json_bytes", "proto_bytes", "labels", "trigger_time", "outcome", "cause", "object")


def _file_metadata(own: Mapping[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    from kubesim import __version__

    return {"format": _FORMAT, "kubesim": __version__, "metadata": {**own, **(extra or {})}}


def _record(e: ChangeEvent) -> dict[str, Any]:
    obj = None
    if e.object is not None:
        from kubesim.manifests import to_manifest

        obj = json.dumps(to_manifest(e.object), sort_keys=True)
    return {
        "seq": e.seq, "time": e.time, "verb": e.verb, "kind": e.kind, "namespace": e.namespace,
        "name": e.name, "resource_version": e.resource_version, "actor": e.actor,
        "json_bytes": e.json_bytes, "proto_bytes": e.proto_bytes,
        "labels": json.dumps(dict(e.labels), sort_keys=True), "trigger_time": e.trigger_time,
        "outcome": e.outcome, "cause": e.cause, "object": obj,
    }


def _event(r: Mapping[str, Any]) -> ChangeEvent:
    missing = [f for f in _FIELDS if f not in r]
    if missing:
        raise InvalidOption(f"a saved change-log record lacks {missing}")
    labels = json.loads(r["labels"]) if isinstance(r["labels"], str) else dict(r["labels"])
    obj = None
    if r["object"] is not None:
        from kubesim.manifests import from_manifest

        obj = from_manifest(json.loads(r["object"]))
    return ChangeEvent(
        seq=int(r["seq"]), time=float(r["time"]), verb=str(r["verb"]), kind=str(r["kind"]),
        namespace=str(r["namespace"]), name=str(r["name"]), resource_version=int(r["resource_version"]),
        actor=str(r["actor"]), json_bytes=int(r["json_bytes"]), proto_bytes=int(r["proto_bytes"]),
        labels=FrozenDict(labels) if labels else EMPTY,
        trigger_time=None if r["trigger_time"] is None else float(r["trigger_time"]),
        outcome=str(r["outcome"]), cause=str(r["cause"]), object=obj,
    )


def _pyarrow(what: str) -> tuple[Any, Any]:
    try:
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
    except ImportError as exc:
        raise ImportError(f"{what}() of a .parquet file needs pyarrow: pip install kubesim[notebook]") from exc
    return pa, pq


def _arrow_schema(pa: Any) -> list[tuple[str, Any]]:
    text, i64, f64 = pa.string(), pa.int64(), pa.float64()
    return [
        ("seq", i64), ("time", f64), ("verb", text), ("kind", text), ("namespace", text), ("name", text),
        ("resource_version", i64), ("actor", text), ("json_bytes", i64), ("proto_bytes", i64),
        ("labels", text), ("trigger_time", f64), ("outcome", text), ("cause", text), ("object", text),
    ]


def replay(changes: Iterable[ChangeEvent]) -> dict[tuple[str, str, str], Any]:
    """Rebuild the API server's state from a change log recorded with objects
    (``Cluster(record_objects=True)``): ``(kind, namespace, name) -> object``, equal to
    :meth:`kubesim.apiserver.APIServer.snapshot` at the end of the log. Failed attempts are
    skipped. A prefix of the log (``log[:n]``) gives the state after its ``n`` records, and a
    log loaded from a file (:meth:`ChangeLog.load`) replays like the live one.
    ``O(len(changes))``.

    >>> import kubesim
    >>> cluster = kubesim.Cluster(seed=0, nodes=1, record_objects=True)
    >>> _ = cluster.apply_file("examples/manifests/nginx-service.yaml")
    >>> state = replay(cluster.changes)
    >>> state[("Service", "default", "nginx-service")] == cluster.get("Service", "nginx-service")
    True

    Raises :class:`ValueError` if a committed event carries no object.
    """
    state: dict[tuple[str, str, str], Any] = {}
    for e in changes:
        if e.outcome != "ok":
            continue
        key = (e.kind, e.namespace, e.name)
        if e.verb == "delete":
            state.pop(key, None)
            continue
        if e.object is None:
            raise ValueError(f"event {e.seq} carries no object: record the log with record_objects=True")
        state[key] = e.object
    return state
