"""The change log: one compact record per committed write, the source of truth for reports.

Every create, update and delete that the API server commits appends one record, read as a
:class:`ChangeEvent`. Records are small and never hold the object itself (unless the cluster
records objects): a 20,000-address Endpoints written 40,000 times costs 40,000 records of a
dozen fields, not 40,000 copies. Reports are pure folds over this sequence.

Sizes (``json_bytes``, ``proto_bytes``) are those of the object *as served to watchers* after
the write (for a delete: the last state, which is what a DELETED watch event carries). See
:mod:`kubesim.wire` for exactly what they include.

A write that was attempted but failed (an injected fault, an etcd size refusal, a conflict)
appears with ``outcome`` other than ``"ok"`` when the API server is asked to record failures;
such records changed nothing and are excluded from the "committed" views.

Storage: columns, not objects. :class:`ChangeLog` keeps, per record,

* ``array('i')`` ``json_bytes`` and ``proto_bytes`` (4 bytes each: a size is bounded by
  etcd's request limit, far below 2**31);
* a code (``array`` of ``B``, ``H`` or ``I``: 1, 2 or 4 bytes, the narrowest the table's size
  allows, widened in place when it outgrows one), the index in a table of the distinct
  ``(verb, kind, namespace, actor, outcome, cause, has_trigger_time)`` *and label map* (by
  identity) the log has seen. The table grows with the combinations a run writes, not with
  its length: the six strings take about namespaces x causes x kinds x actors values (a run
  of 21 causes had 391), and a label map is mostly shared by the writes of one code (a
  ReplicaSet's Pods share their template's). The table keeps each label map, so a read
  returns the written map itself (its ``id``, the key, is no other object's while the log
  lives), and each distinct string tuple once. A code's first 16 maps get a code each; the
  maps after (a Node's own, a StatefulSet Pod's) share one *aside* code and are kept by
  record (position and map: 12 bytes, only for those records), so a map per object costs
  no table entry. A rollout of 5,000 Pods on 1,250 Nodes, 173,336 records, had 64 codes and
  1,234 records aside (Node creates). "No trigger time" is the tuple's last flag,
  so ``None``, ``0.0`` and ``-0.0`` stay three values. The table holds exact ``str`` only (a
  ``str`` subclass is stored as its value, ``str.__str__``), so a record's strings never
  read back the type of another record's;
* a list of references, ``name`` (8 bytes; the written object's string, shared, not copied);
* a list of the written objects only once a record carries one (``record_objects=True``);

and three columns by *runs* (a run: the records from one position to the next run's start
share a value, so a column costs a start (``array('I')``) and a value per run, not per
record): ``time`` (``array('d')``; the writes of one instant, a few to hundreds, share one),
``trigger_time`` (``array('d')``; only a record that has one starts or extends a run, so the
six records in seven of a rollout, which have none, cost nothing) and ``resource_version - seq``
(``array('q')``; the API server's committed writes count up with the log, so a run lasts
until a write breaks the count: a failed attempt's ``0`` starts a run, and the next
committed write another). Runs are exact by construction: a
record starts a new run unless its value is the last run's very value (for a float: equal,
and of the same sign for zeros, so ``-0.0`` stays ``-0.0``; NaN equals nothing, so each NaN
starts its own run and reads back NaN), and :meth:`ChangeLog.truncate` drops the runs that
start at or past the cut. ``seq`` is the position. A 5,000-Pod rollout (Events on) costs
about 20.5 bytes a record in all (the tables included; 49 with a column per field; a
1,000-Pod StatefulSet 27) and no
object of its own: the garbage collector has nothing per record to track (a frozen
:class:`ChangeEvent` each was ~200 bytes and one tracked object). A record the columns
cannot hold exactly — an ``int`` time (a clock given an ``int``), a size beyond 32 bits
(signed), a resourceVersion whose difference from its position is beyond 64 bits, an event
appended with a ``seq`` other than its position or a string field not exactly a ``str`` — is
kept whole besides (``ChangeLog._odd``; it starts and extends no run), and every read takes
it from there. The private write path (``ChangeLog._append_write``) is given ``str`` fields;
a ``str`` subclass given there (a ``Cluster.cause`` named by a ``StrEnum``) is recorded as its
``str`` value, except ``name``, which is held as given.

What is built on read: ``log[i]``, ``log[a:b]`` (a list), iteration, :meth:`ChangeLog.committed`
and :meth:`ChangeLog.where` build each :class:`ChangeEvent` from the columns when asked
(``O(1)`` for a record of the last runs, else ``O(log runs)`` to find its runs), equal
field for field (types included) to the one written: a new object per read for a record
held in the columns, the stored event itself (the same object each time) for one kept
whole. Folds read the columns without building events: :func:`kubesim.report.churn` of a
:class:`ChangeLog`, :meth:`ChangeLog.to_dataframe`, :func:`replay`, the HTML summary. Subscribers
(:meth:`ChangeLog.subscribe`) get an event built once per record, only if one subscribes;
kubesim's controllers listen through ``ChangeLog._listen`` and get plain fields.
"""

from __future__ import annotations

import bisect
import collections
import html
import itertools
import json
import math
import operator
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from math import copysign
from typing import TYPE_CHECKING, Any, overload

import attrs

from kubesim.errors import InvalidArgument, InvalidOption
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


# _build sets a ChangeEvent's slots in this order.
assert [f.name for f in attrs.fields(ChangeEvent)] == [
    "seq", "time", "verb", "kind", "namespace", "name", "resource_version", "actor", "json_bytes",
    "proto_bytes", "labels", "trigger_time", "outcome", "cause", "object",
] and not any(f.converter or f.validator for f in attrs.fields(ChangeEvent)), (
    "ChangeEvent changed: update ChangeLog._build"
)
(
    _e_seq, _e_time, _e_verb, _e_kind, _e_namespace, _e_name, _e_resource_version, _e_actor, _e_json_bytes,
    _e_proto_bytes, _e_labels, _e_trigger_time, _e_outcome, _e_cause, _e_object,
) = _slot_setters(ChangeEvent)
_new_object = object.__new__

#: A record's code: ``(verb, kind, namespace, actor, outcome, cause, has_trigger_time)``.
Code = tuple[str, str, str, str, str, str, bool]
#: What the code table is keyed by: a :data:`Code` and the ``id`` of the record's label map.
Key = tuple[str, str, str, str, str, str, bool, int]

#: how many records an iteration builds at a time (ChangeLog._iterate)
_CHUNK = 256

#: how many label maps a :data:`Code` gives a code of their own (see ChangeLog._new_code)
_MAPS_PER_CODE = 16

#: a float run's "no run yet": NaN equals no float, so the first value starts a run
_NO_RUN = math.nan


def _same(x: float, y: float) -> bool:
    """Whether ``x`` and ``y`` are the same float (what an ``array('d')`` reads back the
    same): equal, and of one sign for zeros. A binary64 has one encoding per non-zero value,
    so equal non-zero floats are the same; ``0.0 == -0.0`` are not; NaN is never the same as
    anything, so NaNs never share a run (each reads back NaN from its own)."""
    return x == y and math.copysign(1.0, x) == math.copysign(1.0, y)


def _run(starts: array[int], i: int) -> int:
    """The index of the run holding position ``i``: the last start ``<= i`` (``i`` at or
    after the first start). ``O(1)`` in the last run (every read made as a record is
    written), else ``O(log runs)``."""
    k = len(starts) - 1
    if starts[k] <= i:
        return k
    return bisect.bisect_right(starts, i) - 1


def _expand_range(starts: array[int], values: Sequence[Any], lo: int, hi: int, filler: Any) -> Iterator[Any]:
    """The value of every position ``lo .. hi-1`` of a run column (``filler`` before the
    first run), reading only the runs that meet the window. Lazy;
    ``O(log runs + runs in the window)`` to make, ``O(1)`` per position."""
    k = bisect.bisect_right(starts, lo) - 1  # the run holding lo (-1: before the first)
    j = bisect.bisect_left(starts, hi)  # runs k .. j-1 meet the window
    head: Iterator[Any] = iter(())
    first = lo
    if k < 0:
        first = starts[0] if starts else hi
        head = itertools.repeat(filler, min(first, hi) - lo)
        k = 0
    inner = starts[k + 1:j]
    counts = map(operator.sub, itertools.chain(inner, (hi,)), itertools.chain((first,), inner))
    runs = itertools.chain.from_iterable(map(itertools.repeat, values[k:j], counts))
    return itertools.chain(head, runs)


def _fit(column: array[int], code: int) -> array[int]:
    """``column`` (a code column) if ``code`` fits its typecode, else a copy in the next wider
    one (``B`` 1 byte, ``H`` 2, ``I`` 4): a code column costs the bytes its table's size
    needs, not 4 a record. ``O(1)``, ``O(len)`` when it widens (at 256 and 65,536 codes)."""
    if code < 1 << (8 * column.itemsize):
        return column
    return array({"B": "H", "H": "I"}[column.typecode], column)


class _Listener:
    """An internal subscriber (:meth:`ChangeLog._listen`): in the subscriber list beside the
    users' functions, so it is called in subscription order and through the same queue, but
    with ``fn(kind, namespace, name, actor)`` of committed records of its ``kinds`` (every
    kind if ``None``) instead of a :class:`ChangeEvent`. Called with an event (as any
    subscriber may be), it does the same."""

    __slots__ = ("fn", "kinds")

    def __init__(self, fn: Callable[[str, str, str, str], object], kinds: frozenset[str] | None) -> None:
        self.fn = fn
        self.kinds = kinds

    def __call__(self, event: ChangeEvent) -> None:
        if event.outcome == "ok" and (self.kinds is None or event.kind in self.kinds):
            self.fn(event.kind, event.namespace, event.name, event.actor)


@attrs.define(eq=False)
class ChangeLog(Sequence[ChangeEvent]):
    """An append-only sequence of :class:`ChangeEvent`.

    ``len`` is ``O(1)``; indexing ``O(1)`` for the records of the last runs (see the module
    docstring), else ``O(log runs)``; :meth:`append` is amortised ``O(1)`` plus one call per
    subscriber. Subscribers (``subscribe``) are how users observe writes as they happen.

    Subscribers hear every event in log order, once. A subscriber may write (the API server
    commits the write at once; its event is handed out after the current one has reached every
    subscriber); inside an open transaction the events are held (:meth:`hold`) and handed out
    when it commits, or dropped with the rolled-back records.

    The records are kept as columns (see the module docstring); ``log[i]``, iteration,
    :meth:`committed` and :meth:`where` build each :class:`ChangeEvent` when it is read (equal
    to the one written, not necessarily the same object: compare records with ``==``).
    """

    #: the events given to the constructor: moved into the columns, then emptied
    _initial: list[ChangeEvent] = attrs.field(factory=list, alias="events", repr=False)
    #: user functions and :class:`_Listener` objects, in subscription order
    _subscribers: list[Callable[[ChangeEvent], object]] = attrs.field(factory=list, repr=False)
    #: what a saved log carried besides its records (kubesim version, seed, options …)
    metadata: dict[str, Any] = attrs.field(factory=dict, repr=False)
    #: the positions of the records not yet handed to the subscribers, in log order
    _pending: collections.deque[int] = attrs.field(factory=collections.deque, init=False, repr=False)
    _notifying: bool = attrs.field(default=False, init=False, repr=False)
    _held: int = attrs.field(default=0, init=False, repr=False)
    #: how many of the subscribers are users' (not :class:`_Listener`): events are built for them
    _users: int = attrs.field(default=0, init=False, repr=False)
    # the columns, one entry per record (seq = position)
    _json: array[int] = attrs.field(factory=lambda: array("i"), init=False, repr=False)
    _proto: array[int] = attrs.field(factory=lambda: array("i"), init=False, repr=False)
    #: code-table codes, in the narrowest of ``B``, ``H``, ``I`` that holds the table's size
    _code: array[int] = attrs.field(factory=lambda: array("B"), init=False, repr=False)
    _names: list[str] = attrs.field(factory=list, init=False, repr=False)
    # the runs: a column whose value changes seldom, as the positions where a run of equal
    # values starts and each run's value (see _run and the module docstring)
    _time_at: array[int] = attrs.field(factory=lambda: array("I"), init=False, repr=False)
    _time_val: array[float] = attrs.field(factory=lambda: array("d"), init=False, repr=False)
    #: the last time run's value (NaN, which equals nothing, before the first)
    _time_last: float = attrs.field(default=_NO_RUN, init=False, repr=False)
    _trigger_at: array[int] = attrs.field(factory=lambda: array("I"), init=False, repr=False)
    _trigger_val: array[float] = attrs.field(factory=lambda: array("d"), init=False, repr=False)
    _trigger_last: float = attrs.field(default=_NO_RUN, init=False, repr=False)
    #: resource_version - seq, by runs
    _rv_at: array[int] = attrs.field(factory=lambda: array("I"), init=False, repr=False)
    _rv_val: array[int] = attrs.field(factory=lambda: array("q"), init=False, repr=False)
    _rv_last: int | None = attrs.field(default=None, init=False, repr=False)
    #: the written objects, from the first record that carries one (``None`` until then)
    _objects: list[Any] | None = attrs.field(default=None, init=False, repr=False)
    # the code table: code -> its Code and its label map (None: the record's own, in
    # _label_at/_label_ref); back from the Key
    _codes: list[Code] = attrs.field(factory=list, init=False, repr=False)
    _labels: list[FrozenDict | None] = attrs.field(factory=list, init=False, repr=False)
    _code_of: dict[Key, int] = attrs.field(factory=dict, init=False, repr=False)
    #: each distinct Code once: the table's codes of one Code share its tuple
    _plain: dict[Code, Code] = attrs.field(factory=dict, init=False, repr=False)
    #: Code -> how many label maps have a code of their own with it (at most _MAPS_PER_CODE)
    _maps: dict[Code, int] = attrs.field(factory=dict, init=False, repr=False)
    #: Code -> its code for the maps past the cap, whose records keep their map aside
    _aside: dict[Code, int] = attrs.field(factory=dict, init=False, repr=False)
    #: the positions (increasing) and label maps of the records of an aside code
    _label_at: array[int] = attrs.field(factory=lambda: array("I"), init=False, repr=False)
    _label_ref: list[FrozenDict] = attrs.field(factory=list, init=False, repr=False)
    #: the records whose numbers (or seq, or strings) the columns cannot hold exactly, whole
    _odd: dict[int, ChangeEvent] = attrs.field(factory=dict, init=False, repr=False)
    #: how many truncations have cut records (an iteration rebuilds what it built before one)
    _cuts: int = attrs.field(default=0, init=False, repr=False)
    #: the previous write's time (see :meth:`_append_write`)
    _last_time: float = attrs.field(default=0.0, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._users = sum(type(fn) is not _Listener for fn in self._subscribers)
        for event in self._initial:
            self._store_event(event)
        self._initial = []

    # ------------------------------------------------------------------ writing

    def append(self, event: ChangeEvent) -> None:
        """Record ``event`` and hand it to every subscriber, in subscription order (after the
        events before it, if a subscriber is still being called)."""
        seq = self._store_event(event)
        if self._subscribers:
            self._pending.append(seq)  # handed out in log order (_flush)
            if not (self._held or self._notifying):
                self._flush()

    def _store_event(self, e: ChangeEvent) -> int:
        """Store ``e``'s fields; kept whole (:attr:`_odd`) if its ``seq`` is not its position
        or a string the code table holds is not exactly a ``str`` (the table would give back
        an equal ``str``, not that object). Returns its position.

        Raises :class:`~kubesim.errors.InvalidArgument` (a ``TypeError``), the log unchanged,
        if one of those six fields cannot be hashed (the code table is a dict): a record's
        ``verb``, ``kind``, ``namespace``, ``actor``, ``outcome`` and ``cause`` are strings."""
        seq = len(self._names)
        strings = (e.verb, e.kind, e.namespace, e.actor, e.outcome, e.cause)
        plain = type(e.seq) is int and e.seq == seq and all(type(s) is str for s in strings)
        if not plain:
            for field, value in zip(("verb", "kind", "namespace", "actor", "outcome", "cause"), strings, strict=True):
                try:
                    hash(value)
                except TypeError:
                    raise InvalidArgument(
                        f"a change-log record's {field} must be a string, got {type(value).__name__} {value!r:.80}"
                    ) from None
        return self._store(
            e.time, e.verb, e.kind, e.namespace, e.name, e.resource_version, e.actor, e.json_bytes,
            e.proto_bytes, e.labels, e.trigger_time, e.outcome, e.cause, e.object, None if plain else e,
        )

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
        """:meth:`append` the record of these fields with the next ``seq`` (``obj`` is its
        ``object``): what :class:`kubesim.apiserver.APIServer` calls on every write (private
        to the two; the strings are ``str``), with no :class:`ChangeEvent` built unless a
        user subscriber is to hear of it. ``O(1)`` plus one call per subscriber.

        A write at the instant of the one before records that one's ``time`` (what the log
        has always done to share the ``float``): equal, and the same type unless the clock
        was given an ``int`` time at that instant, which is then what the record holds."""
        if time and time == self._last_time:
            time = self._last_time
        else:
            self._last_time = time
        seq = self._store(
            time, verb, kind, namespace, name, resource_version, actor, json_bytes, proto_bytes, labels,
            trigger_time, outcome, cause, obj, None,
        )
        if self._subscribers:
            self._pending.append(seq)  # as append does
            if not (self._held or self._notifying):
                self._flush()

    def _store(
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
        whole: ChangeEvent | None,
    ) -> int:
        """Append one record to the columns; returns its seq. Exact: a ``float`` time and
        trigger time go to ``array('d')`` (every float, ``-0.0`` and NaN included, reads back
        equal with its sign; "no trigger time" is a bit of the code, not a value), ``int``
        resourceVersion and sizes to ``array('i')``; a record with any other type there (an
        ``int`` time, a number beyond 32 bits), or ``whole`` (from :meth:`_store_event`), is
        also kept whole in :attr:`_odd`, and every read takes it from there. ``O(1)``."""
        seq = len(self._names)
        has_trigger = trigger_time is not None
        key = (verb, kind, namespace, actor, outcome, cause, has_trigger, id(labels))
        try:
            code = self._code_of[key]
        except KeyError:
            code = self._new_code(key, labels)
        exact = (
            whole is None and type(time) is float and (not has_trigger or type(trigger_time) is float)
            and type(resource_version) is int and type(json_bytes) is int and type(proto_bytes) is int
        )
        if exact:
            try:
                self._json.append(json_bytes)
                self._proto.append(proto_bytes)
                delta = resource_version - seq
                if delta != self._rv_last:
                    self._rv_val.append(delta)  # the one that can overflow: first
                    self._rv_at.append(seq)
                    self._rv_last = delta
            except OverflowError:
                del self._json[seq:], self._proto[seq:]
                exact = False
        if exact:
            # A new run unless the float is the last run's (:func:`_same`, inline: equal, and
            # for zeros of one sign; NaN equals nothing, the "no run" NaN included).
            last = self._time_last
            if time != last or (not time and copysign(1.0, time) != copysign(1.0, last)):
                self._time_at.append(seq)
                self._time_val.append(time)
                self._time_last = time
            if trigger_time is not None:
                last = self._trigger_last
                if trigger_time != last or (not trigger_time and copysign(1.0, trigger_time) != copysign(1.0, last)):
                    self._trigger_at.append(seq)
                    self._trigger_val.append(trigger_time)
                    self._trigger_last = trigger_time
        else:
            self._json.append(0)
            self._proto.append(0)
            if whole is None:  # the strings as the table holds them, as a plain record reads
                verb, kind, namespace, actor, outcome, cause, _ = self._codes[code]
                whole = ChangeEvent(
                    seq, time, verb, kind, namespace, name, resource_version, actor, json_bytes, proto_bytes,
                    labels, trigger_time, outcome, cause, obj,
                )
            self._odd[seq] = whole
        self._code.append(code)
        self._names.append(name)
        objects = self._objects
        if objects is not None:
            objects.append(obj)
        elif obj is not None:
            self._objects = [None] * seq + [obj]
        return seq

    def _new_code(self, key: Key, labels: FrozenDict) -> int:
        """The code of a record whose ``key`` (its last item ``id(labels)``) is not in the
        table: a new code for the pair if its :data:`Code` has fewer than
        :data:`_MAPS_PER_CODE` maps with a code of their own, else the Code's *aside* code,
        with the record's map kept aside (:attr:`_label_at`, :attr:`_label_ref`: this
        record is the next one stored). The cap bounds what a map costs: a code is ~190
        bytes of table, paid back by the records that share it, and a map written by one or
        a few records (each Node's own, each StatefulSet Pod's) costs 12 bytes a record
        aside instead. The table keeps every map it holds, so its ``id`` is no other
        object's while the log lives. The code column widens first if a new code does not
        fit it (the caller reads the column after). The :data:`Code` is stored as exact
        ``str`` (``str.__str__`` of a subclass such as a ``StrEnum`` member), once for all
        its codes: an equal key of a later record finds this one, so a subclass stored here
        would be what every later record of that code reads back. Only a miss comes here.
        ``O(1)``, ``O(len)`` the twice in a log's life the column widens."""
        plain: Code = (
            *(str.__str__(s) if isinstance(s, str) else s for s in key[:6]),  # type: ignore[assignment]
            key[6],
        )
        plain = self._plain.setdefault(plain, plain)
        maps = self._maps.get(plain, 0)
        if maps < _MAPS_PER_CODE:
            self._maps[plain] = maps + 1
            code = self._code_of[plain + (key[7],)] = self._add_code(plain, labels)
            return code
        aside = self._aside.get(plain)
        if aside is None:
            aside = self._aside[plain] = self._add_code(plain, None)
        self._label_at.append(len(self._names))
        self._label_ref.append(labels)
        return aside

    def _add_code(self, plain: Code, labels: FrozenDict | None) -> int:
        """Append ``(plain, labels)`` to the code table, widening the code column if the new
        code needs it; returns the code. ``O(1)``, ``O(len)`` when it widens."""
        code = len(self._codes)
        self._codes.append(plain)
        self._labels.append(labels)
        self._code = _fit(self._code, code)
        return code

    def _labels_at(self, i: int) -> FrozenDict:
        """The label map of record ``i``: its code's, or the one kept aside for it.
        ``O(1)`` for a code's map or the last record kept aside, else ``O(log aside)``."""
        labels = self._labels[self._code[i]]
        if labels is not None:
            return labels
        at = self._label_at
        k = len(at) - 1
        if at[k] != i:
            k = bisect.bisect_left(at, i)
        return self._label_ref[k]

    def _label_column(self, n: int) -> Iterator[FrozenDict]:
        """The label map of every record ``0 .. n-1`` (``n <= len``), in order. Lazy,
        ``O(1)`` per record."""
        maps = map(self._labels.__getitem__, self._code)
        if not self._label_at:
            return itertools.islice(maps, n)  # type: ignore[arg-type]  # no aside code: no None
        aside = iter(self._label_ref)
        return (next(aside) if m is None else m for m in itertools.islice(maps, n))

    # ------------------------------------------------------------------ subscribers

    def _flush(self) -> None:
        """Hand every pending record to the subscribers, in log order (the records their own
        writes append meanwhile included): a user's function with its :class:`ChangeEvent`
        (built once per record, only if a user subscribes), a :class:`_Listener` with
        ``(kind, namespace, name, actor)`` if the record is committed and of its kinds. A record is read before
        any subscriber runs (one may truncate the log: the others still hear of it, as they
        did when the log held event objects). A subscriber that raises does not keep the
        others from hearing: the first exception is raised once every pending record has
        reached every subscriber. Called when a record is appended, unless the records are
        held (then :meth:`release` hands it out) or a subscriber is being called (then that
        call's loop does).
        ``O(1)`` per record and subscriber."""
        self._notifying = True
        pending = self._pending
        first: Exception | None = None
        try:
            while pending:
                seq = pending.popleft()
                code = self._codes[self._code[seq]]
                name = self._names[seq]
                event = self._build(seq) if self._users else None
                for fn in self._subscribers:
                    try:
                        if type(fn) is _Listener:
                            if code[4] == "ok" and (fn.kinds is None or code[1] in fn.kinds):
                                fn.fn(code[1], code[2], name, code[3])
                        else:
                            if event is None:  # a user subscribed while this record was handed out
                                event = self._build(seq)
                            fn(event)
                    except Exception as exc:  # noqa: BLE001 - raised below, once all have heard
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
        self._users += 1

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)
                self._users -= 1

        return unsubscribe

    def _listen(
        self, fn: Callable[[str, str, str, str], object], kinds: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """:meth:`subscribe` for kubesim's own controllers: ``fn(kind, namespace, name, actor)``
        for every later *committed* record, so that no :class:`ChangeEvent` is built per write
        when no user subscribes; only for the records whose ``kind`` is in ``kinds`` when it
        is given (a record of another kind costs the listener one set lookup, not a call).
        Returns a function that stops it. ``kinds`` must be a collection of kind names, not
        one name (a ``str`` would be taken letter by letter): :class:`TypeError` otherwise.

        The listener is a subscriber like any other, in the same list and behind the same
        queue: it hears the records in log order, once, at the moment a user subscriber
        subscribed in its place would (held in a transaction, after the record before has
        reached every subscriber, never a rolled-back one). That is what makes it exact: the
        controllers read the store when they hear (the Endpoints controller re-reads the
        pod), so calling them at write time instead — inside a transaction, before the
        subscribers of an earlier record — would show them other states than they see
        today. ``kind``, ``namespace`` and ``actor`` are the code table's (exact ``str``, a
        subclass given in a record as its value); ``name`` is the record's own."""
        if isinstance(kinds, str):
            raise TypeError(f"kinds must be a collection of kind names, not the string {kinds!r}")
        listener = _Listener(fn, None if kinds is None else frozenset(kinds))
        self._subscribers.append(listener)

        def stop() -> None:
            if listener in self._subscribers:
                self._subscribers.remove(listener)

        return stop

    def truncate(self, length: int) -> None:
        """Drop events from position ``length`` on (``del log[length:]``, a negative
        ``length`` from the end; used to roll back a failed all-or-nothing apply);
        subscribers never hear of them. A held record is kept, and heard at
        :meth:`release`, exactly when its *position* is before the cut: a record appended
        with a ``seq`` other than its position is kept or dropped by where it is, as the
        records themselves are (not by its ``seq``)."""
        start = slice(length, None).indices(len(self._names))[0]
        if start < len(self._names):
            self._cuts += 1
        for column in (self._json, self._proto, self._code):
            del column[start:]
        del self._names[start:]
        k = bisect.bisect_left(self._label_at, start)
        del self._label_at[k:], self._label_ref[k:]
        # the runs that start at or past the cut go; the last one left may now end earlier
        k = bisect.bisect_left(self._time_at, start)
        del self._time_at[k:], self._time_val[k:]
        self._time_last = self._time_val[-1] if k else _NO_RUN
        k = bisect.bisect_left(self._trigger_at, start)
        del self._trigger_at[k:], self._trigger_val[k:]
        self._trigger_last = self._trigger_val[-1] if k else _NO_RUN
        k = bisect.bisect_left(self._rv_at, start)
        del self._rv_at[k:], self._rv_val[k:]
        self._rv_last = self._rv_val[-1] if k else None
        if self._objects is not None:
            del self._objects[start:]
        for seq in [s for s in self._odd if s >= start]:
            del self._odd[seq]
        if self._pending:
            kept = [s for s in self._pending if s < start]
            self._pending.clear()
            self._pending.extend(kept)

    # ------------------------------------------------------------------ reading

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next event will carry."""
        return len(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def _build(self, i: int) -> ChangeEvent:
        """The :class:`ChangeEvent` of record ``i`` (``0 <= i < len``): ``O(1)`` for a record
        in the last run of each of its run columns (the one just written, as a subscriber
        hears it), else ``O(log runs)``. Reads of many records go through :meth:`_events`."""
        if self._odd:
            whole = self._odd.get(i)
            if whole is not None:
                return whole
        has_trigger = self._codes[self._code[i]][6]
        return self._event(
            i, self._time_val[_run(self._time_at, i)], i + self._rv_val[_run(self._rv_at, i)],
            self._trigger_val[_run(self._trigger_at, i)] if has_trigger else None, self._labels_at(i),
        )

    def _event(self, i: int, time: float, rv: int, trigger_time: float | None, labels: FrozenDict) -> ChangeEvent:
        """The :class:`ChangeEvent` of record ``i`` (held in the columns) given its run
        columns' values, slots set directly (:func:`_slot_setters`). ``O(1)``."""
        verb, kind, namespace, actor, outcome, cause, _ = self._codes[self._code[i]]
        objects = self._objects
        event = _new_object(ChangeEvent)
        _e_seq(event, i)
        _e_time(event, time)
        _e_verb(event, verb)
        _e_kind(event, kind)
        _e_namespace(event, namespace)
        _e_name(event, self._names[i])
        _e_resource_version(event, rv)
        _e_actor(event, actor)
        _e_json_bytes(event, self._json[i])
        _e_proto_bytes(event, self._proto[i])
        _e_labels(event, labels)
        _e_trigger_time(event, trigger_time)
        _e_outcome(event, outcome)
        _e_cause(event, cause)
        _e_object(event, None if objects is None else objects[i])
        return event

    def _events(
        self, lo: int, hi: int, committed: bool = False, positions: list[int] | None = None,
    ) -> list[ChangeEvent]:
        """The events of records ``lo .. hi-1`` (``0 <= lo <= hi <= len``; only the
        committed ones if ``committed``; their positions appended to ``positions`` if
        given), the run columns walked once over the window instead of searched per
        record. ``O(log runs + hi - lo)``."""
        codes, code, odd = self._codes, self._code, self._odd
        times = _expand_range(self._time_at, self._time_val, lo, hi, 0.0)
        deltas = _expand_range(self._rv_at, self._rv_val, lo, hi, 0)
        triggers = _expand_range(self._trigger_at, self._trigger_val, lo, hi, 0.0)
        maps = self._labels
        aside = self._label_ref
        k = bisect.bisect_left(self._label_at, lo)  # the first record aside in the window
        out: list[ChangeEvent] = []
        for i, time, delta, trigger in zip(range(lo, hi), times, deltas, triggers, strict=False):
            c = codes[code[i]]
            labels = maps[code[i]]
            if labels is None:
                labels = aside[k]
                k += 1
            if committed and c[4] != "ok":
                continue
            if positions is not None:
                positions.append(i)
            whole = odd.get(i) if odd else None
            out.append(whole if whole is not None else self._event(i, time, i + delta, trigger if c[6] else None, labels))
        return out

    @overload
    def __getitem__(self, index: int) -> ChangeEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[ChangeEvent]: ...

    def __getitem__(self, index: int | slice) -> ChangeEvent | Sequence[ChangeEvent]:
        """``log[i]`` (negative from the end) the record's :class:`ChangeEvent`; ``log[a:b]``
        a list of them. ``O(log runs)`` (``O(1)`` in the last runs), that per record of a slice."""
        n = len(self._names)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step == 1:
                return self._events(start, max(start, stop))
            return [self._build(i) for i in range(start, stop, step)]
        i = operator.index(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("change log index out of range")
        return self._build(i)

    def __iter__(self) -> Iterator[ChangeEvent]:
        return self._iterate(False)

    def committed(self) -> Iterator[ChangeEvent]:
        """Only the writes that changed state (``outcome == "ok"``)."""
        return self._iterate(True)

    def _iterate(self, committed: bool) -> Iterator[ChangeEvent]:
        """The events in log order (only the committed ones if ``committed``), as a list's
        iterator: records appended meanwhile are reached, truncated ones not. Built
        :data:`_CHUNK` records at a time (:meth:`_events`); after a truncation meanwhile
        (which may have replaced the records past the cut) the rest is rebuilt from the
        next position. ``O(1)`` per record."""
        i = 0
        names = self._names
        positions: list[int] = []
        while i < len(names):
            cuts = self._cuts
            hi = min(len(names), i + _CHUNK)
            positions.clear()
            events = self._events(i, hi, committed, positions)
            for p, e in zip(positions, events, strict=True):
                yield e
                if self._cuts != cuts:
                    hi = p + 1
                    break
            i = hi

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
        wanted = {
            c for c, (v, k, ns, a, outcome, _, _) in enumerate(self._codes)
            if outcome == "ok" and (kind is None or k == kind) and (verb is None or v == verb)
            and (actor is None or a == actor) and (namespace is None or ns == namespace)
        }
        build = self._build
        return [
            build(i) for i, (c, n) in enumerate(zip(self._code, self._names, strict=True))
            if c in wanted and (name is None or n == name)
        ]

    def _numbers(self, column: str) -> Sequence[Any]:
        """One numeric field of every record (``"time"``, ``"trigger_time"`` with ``None``
        for none, ``"resource_version"``, ``"json_bytes"``, ``"proto_bytes"``) as the records
        read: a size column itself, or a list (the runs expanded, the :attr:`_odd` records'
        values patched in). ``O(1)`` for a size column of a log with no odd record, else
        ``O(len)``."""
        n = len(self._names)
        values: Sequence[Any]
        if column == "trigger_time":
            has = [code[6] for code in self._codes]
            values = [
                t if has[c] else None
                for t, c in zip(_expand_range(self._trigger_at, self._trigger_val, 0, n, 0.0), self._code, strict=True)
            ]
        elif column == "time":
            values = list(_expand_range(self._time_at, self._time_val, 0, n, 0.0))
        elif column == "resource_version":
            values = list(map(operator.add, range(n), _expand_range(self._rv_at, self._rv_val, 0, n, 0)))
        else:
            values = {"json_bytes": self._json, "proto_bytes": self._proto}[column]
        if not self._odd:
            return values
        patched = list(values)
        for i, e in self._odd.items():
            patched[i] = getattr(e, column)
        return patched

    def _committed_resource_versions(self) -> list[int]:
        """The ``resource_version`` of every committed record, in log order: a fold over two
        columns (what :meth:`kubesim.apiserver.APIServer._check` asserts on). ``O(len)``."""
        ok = {c for c, code in enumerate(self._codes) if code[4] == "ok"}
        rvs = self._numbers("resource_version")
        return [rv for rv, c in zip(rvs, self._code, strict=True) if c in ok]

    def _check(self) -> None:
        """Assert the representation's invariants (STYLE.md §8): every per-record column one
        entry per record; the code table and its inverse agree, hold no ``str`` subclass, and
        every record's code is in it; the label table and its inverse (by ``id``) agree and
        every record's label code is in it; each code column as narrow as a code table of
        that size allows, at most; the runs (time, trigger time, resourceVersion) start at
        increasing positions of records held in the columns, a trigger run at a record with a
        trigger time, each run's value not the one before's, the last-value cache the last
        run's, and every record held in the columns inside a run (of trigger time: if it has
        one); a record kept whole sits at a position of the log, its code, name and labels
        those of its event; the objects column absent or full; the pending records in order,
        in the log; the count of user subscribers right. ``O(len + codes + labels)``."""
        n = len(self._names)
        assert all(
            len(column) == n for column in (self._json, self._proto, self._code)
        ), "columns of different lengths"
        assert len(self._codes) == len(self._labels) == len(self._code_of) + len(self._aside), "code table sizes"
        counts = collections.Counter(key for key, labels in zip(self._codes, self._labels, strict=True) if labels is not None)
        for c, (key, labels) in enumerate(zip(self._codes, self._labels, strict=True)):
            if labels is None:
                assert self._aside.get(key) == c, ("an aside code not its Code's", c, key)
            else:
                assert self._code_of.get(key + (id(labels),)) == c, (c, key)
            assert len(key) == 7 and type(key[6]) is bool, key
            assert not any(isinstance(s, str) and type(s) is not str for s in key[:6]), key
            assert self._plain.get(key) is key, ("a code's tuple not shared", key)
        assert len(self._plain) == len(set(self._codes)), "a Code in the table no code has"
        assert self._maps == counts and max(counts.values(), default=0) <= _MAPS_PER_CODE, "maps per Code"
        assert all(counts[key] == _MAPS_PER_CODE for key in self._aside), "a map aside below the cap"
        assert not self._code or max(self._code) < len(self._codes), "a code outside the table"
        assert self._code.typecode in "BHI" and len(self._codes) <= 1 << (8 * self._code.itemsize), "code column"
        aside = {c for c in self._aside.values()}
        assert list(self._label_at) == [i for i, c in enumerate(self._code) if c in aside], "maps kept aside"
        assert len(self._label_ref) == len(self._label_at), "a map aside without its position"
        held = [i for i in range(n) if i not in self._odd]
        with_trigger = [i for i in held if self._codes[self._code[i]][6]]
        runs: list[tuple[Any, ...]] = [
            (self._time_at, self._time_val, self._time_last, held, _same),
            (self._trigger_at, self._trigger_val, self._trigger_last, with_trigger, _same),
            (self._rv_at, self._rv_val, self._rv_last, held, operator.eq),
        ]
        for starts, values, last, covered, same in runs:
            assert len(starts) == len(values), "a run without its value"
            assert all(a < b for a, b in zip(starts, starts[1:], strict=False)), "runs out of order"
            assert set(starts) <= set(covered), "a run starts at a record it does not cover"
            assert not any(same(a, b) for a, b in zip(values, values[1:], strict=False)), "two runs of one value"
            if values:
                assert same(last, values[-1]) or (last != last and values[-1] != values[-1]), "last run's value"
            else:
                assert (last is None) if same is operator.eq else (last != last), "a last value with no run"
            assert not covered or (starts and starts[0] <= covered[0]), "a record before the first run"
        for seq, e in self._odd.items():
            assert 0 <= seq < n, seq
            code = self._codes[self._code[seq]]
            assert code == (e.verb, e.kind, e.namespace, e.actor, e.outcome, e.cause, e.trigger_time is not None)
            assert self._names[seq] is e.name and self._labels_at(seq) is e.labels, seq
        assert self._objects is None or len(self._objects) == n, "objects column not full length"
        pending = list(self._pending)
        assert all(a < b for a, b in zip(pending, pending[1:], strict=False)), pending
        assert all(0 <= s < n for s in pending), (pending, n)
        assert self._users == sum(type(fn) is not _Listener for fn in self._subscribers)
        assert self._held >= 0

    def _rows(self, size_column: str, stop: int | None) -> Iterator[tuple[Any, ...]] | None:
        """The records before ``stop`` (all if ``None``) as
        :func:`kubesim.report.churn` folds them, ``(seq, time, code, name, labels,
        trigger_time, size)`` with ``code`` a :data:`Code` (whose last item says whether
        ``trigger_time`` is one) and ``size`` the ``size_column`` (``"json_bytes"`` or
        ``"proto_bytes"``), read straight from the columns with no :class:`ChangeEvent`
        built; ``None`` if the columns cannot give the rows the events would (a record kept
        whole before ``stop``, or one anywhere whose ``seq`` is not its position): the
        caller folds the events instead. ``O(1)`` to make, ``O(1)`` per row."""
        hi = len(self._names) if stop is None else min(stop, len(self._names))
        # The event fold stops at the first record whose seq is >= stop: the same as stopping
        # at position hi only if no record kept whole before hi, and none at all whose seq is
        # not its position (one at or past hi with a smaller seq is folded by the event fold).
        if any(s < hi or e.seq != s for s, e in self._odd.items()):
            return None
        sizes = self._proto if size_column == "proto_bytes" else self._json
        n = len(self._names)
        # range(hi) first and shortest: zip stops there, reading no column past hi
        return zip(range(hi), _expand_range(self._time_at, self._time_val, 0, n, 0.0),
                   map(self._codes.__getitem__, self._code), self._names, self._label_column(n),
                   _expand_range(self._trigger_at, self._trigger_val, 0, n, 0.0), sizes, strict=False)

    def __repr__(self) -> str:
        return f"<ChangeLog of {len(self._names)} events>"

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
        codes = [self._codes[c] for c in self._code]
        n = len(codes)

        def strings(j: int) -> list[Any]:
            return [c[j] for c in codes]

        columns: dict[str, Any] = {
            "seq": pd.array(range(n), dtype="int64") if not self._odd else pd.array(
                [e.seq for e in self], dtype="int64"),
            "time": pd.array(list(self._numbers("time")), dtype="float64"),
            "verb": pd.Categorical(strings(0), categories=["create", "update", "delete"]),
            "kind": pd.Categorical(strings(1)),
            "namespace": pd.array(strings(2), dtype="string"),
            "name": pd.array(self._names, dtype="string"),
            "resource_version": pd.array(list(self._numbers("resource_version")), dtype="int64"),
            "actor": pd.Categorical(strings(3)),
            "json_bytes": pd.array(list(self._numbers("json_bytes")), dtype="int64"),
            "proto_bytes": pd.array(list(self._numbers("proto_bytes")), dtype="int64"),
            "labels": pd.Series([dict(labels) for labels in self._label_column(n)], dtype="object"),
            "trigger_time": pd.array(list(self._numbers("trigger_time")), dtype="Float64"),
            "outcome": pd.Categorical(strings(4)),
            "cause": pd.Categorical(strings(5)),
        }
        return pd.DataFrame(columns)

    def _repr_html_(self) -> str:
        esc = html.escape
        counts: dict[str, list[int]] = {}
        failed = 0
        codes = self._codes
        for c, proto in zip(self._code, self._numbers("proto_bytes"), strict=True):
            verb, kind, _, _, outcome, _, _ = codes[c]
            if outcome != "ok":
                failed += 1
                continue
            row = counts.setdefault(kind, [0, 0, 0, 0])
            row[("create", "update", "delete").index(verb)] += 1
            row[3] += proto
        from kubesim.report import format_bytes

        body = "".join(
            f"<tr><td>{esc(k)}</td>" + "".join(f"<td style='text-align:right'>{n:,}</td>" for n in r[:3])
            + f"<td style='text-align:right'>{esc(format_bytes(r[3]))}</td></tr>"
            for k, r in sorted(counts.items())
        )
        n = len(self)
        span = f", t = {self[0].time:g} … {self[-1].time:g} s" if n else ""
        fail = f", {failed:,} failed attempts" if failed else ""
        tail = "".join(
            f"<tr><td>{e.seq}</td><td>{e.time:.3f}</td><td>{esc(e.verb)}</td><td>{esc(e.kind)}</td>"
            f"<td>{esc(e.namespace + '/' if e.namespace else '')}{esc(e.name)}</td><td>{esc(e.actor)}</td>"
            f"<td style='text-align:right'>{e.proto_bytes:,}</td></tr>"
            for e in self[-5:]
        )
        return (
            f"<p><b>ChangeLog</b> of {n:,} records{span}{fail}</p>"
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
            codes = self._codes
            for c, name in zip(self._code, self._names, strict=True):
                verb, kind, _, _, outcome, _, _ = codes[c]
                if kind == "Node" and outcome == "ok":
                    (nodes.discard if verb == "delete" else nodes.add)(name)
            kwargs["groups"] = report.default_groups(len(nodes))
        return report.churn(self, **kwargs)

    # ------------------------------------------------------------------ files

    def save(self, path: str | os.PathLike[str], *, metadata: Mapping[str, Any] | None = None) -> None:
        """Write the log to ``path``: JSON Lines (``.jsonl``, ``.json``; one header line with
        the format, the kubesim version and ``metadata``, then one object per record) or
        Parquet (``.parquet``; needs pyarrow, ``pip install kubesim[notebook]``; metadata in the
        schema). Every field round-trips through :meth:`load`, recorded objects
        (``Cluster(record_objects=True)``) as their manifests. ``O(len(log))``."""
        meta = _file_metadata(self.metadata, metadata)
        records = [_record(e) for e in self]
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
        maps: dict[str, FrozenDict] = {}  # one map per distinct text: the code table's key is the map's id
        events = [_event(r, maps) for r in rows]  # every record checked before the log is made
        log = cls(metadata=dict(meta.get("metadata") or {}))
        for e in events:
            log._store_event(e)
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


def _event(r: Mapping[str, Any], maps: dict[str, FrozenDict]) -> ChangeEvent:
    """The event of saved record ``r``. Records whose label text is the same share one label
    map (kept in ``maps`` by its text), as the written records did: a loaded log's code table
    grows with the distinct maps, not with its length (equal maps read the same either
    way)."""
    missing = [f for f in _FIELDS if f not in r]
    if missing:
        raise InvalidOption(f"a saved change-log record lacks {missing}")
    text = r["labels"]
    if isinstance(text, str):
        shared = maps.get(text)
        if shared is None:
            shared = maps[text] = _labels_of(json.loads(text))
        labels = shared
    else:
        labels = _labels_of(json.loads(text) if isinstance(text, str) else dict(text))
    obj = None
    if r["object"] is not None:
        from kubesim.manifests import from_manifest

        obj = from_manifest(json.loads(r["object"]))
    return ChangeEvent(
        seq=int(r["seq"]), time=float(r["time"]), verb=str(r["verb"]), kind=str(r["kind"]),
        namespace=str(r["namespace"]), name=str(r["name"]), resource_version=int(r["resource_version"]),
        actor=str(r["actor"]), json_bytes=int(r["json_bytes"]), proto_bytes=int(r["proto_bytes"]),
        labels=labels,
        trigger_time=None if r["trigger_time"] is None else float(r["trigger_time"]),
        outcome=str(r["outcome"]), cause=str(r["cause"]), object=obj,
    )


def _labels_of(labels: Mapping[str, str]) -> FrozenDict:
    """A saved record's label map as the written one was: :data:`EMPTY` when empty."""
    return FrozenDict(labels) if labels else EMPTY


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
    if isinstance(changes, ChangeLog):
        # a fold over the columns: code (verb, kind, namespace, outcome), name, object
        codes, objects = changes._codes, changes._objects
        for i, (c, name) in enumerate(zip(changes._code, changes._names, strict=True)):
            verb, kind, namespace, _, outcome, _, _ = codes[c]
            if outcome != "ok":
                continue
            key = (kind, namespace, name)
            if verb == "delete":
                state.pop(key, None)
                continue
            obj = None if objects is None else objects[i]
            if obj is None:
                raise ValueError(f"event {changes[i].seq} carries no object: record the log with record_objects=True")
            state[key] = obj
        return state
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
