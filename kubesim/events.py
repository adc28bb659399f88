"""Events: the ``Event`` objects components write about what they did, and the client-side
event recorder that decides how many Event writes a cluster makes.

An Event is stored like the other kinds kubesim keeps without a model (:mod:`kubesim.inert`): an
:class:`~kubesim.inert.InertObject` of kind ``Event`` (``core/v1``, namespaced) whose body is
the JSON the API server serves. :func:`fields` reads it back. Sizes are exact
(:mod:`kubesim.wire.events`).

:class:`EventRecorder` is client-go's ``tools/record`` recorder and broadcaster, one per cluster
(``cluster.recorder``, ``ctx.recorder``), with one :class:`EventCorrelator` per event source
(component and host: each component process has its own broadcaster upstream). A call to
:meth:`EventRecorder.event` does what ``recorder.Event`` then ``recordToSink`` do:

1. ``makeEvent`` (``tools/record/event.go``): the involved object's reference, ``count`` 1,
   ``firstTimestamp`` = ``lastTimestamp`` = now, ``source`` {component, host},
   ``reportingComponent``/``reportingInstance`` = component/host, ``eventTime`` null; the name
   ``<involvedObject.name>.<hex of UnixNano of now>``; the namespace the involved object's, or
   ``default`` for a cluster-scoped object.
2. The correlator (``tools/record/events_cache.go``), in upstream's order:

   * the **aggregator** (``EventAggregate``): events alike but for their message (same source,
     involved object, type, reason, reporting controller and instance) are counted per 10-minute
     window; from the 10th distinct message on, the event is replaced by one whose message is
     ``(combined from similar events): <message>`` and whose key is the group's (so later ones
     patch it). The group's set of messages is kept at 9 by dropping one: upstream drops an
     arbitrary one (Go map order); kubesim drops the oldest inserted (documented choice).
   * the **logger** (``eventObserve``): an event seen before (same source, involved object with
     its ``fieldPath``, type, reason and message) is a repeat: its ``count`` goes up by one, it
     keeps the first occurrence's name and ``firstTimestamp``, and it is written as a patch of
     ``count``, ``lastTimestamp`` and ``message`` instead of a create.
   * the **spam filter** (``EventSourceObjectSpamFilter``): a token bucket per source and
     involved object (burst 25, one token back every 300 s, ``golang.org/x/time/rate``
     arithmetic); an event without a token is dropped (after the logger counted it, as
     upstream).

   Each cache is an LRU of 4096 entries (``maxLruCacheEntries``), as upstream.
3. ``recordEvent``: a create, or a patch for a repeat (a patch of an Event that no longer
   exists becomes a create); on success the logger learns the stored name and
   resourceVersion (``UpdateState``). A refused write (the namespace is terminating or gone, an
   invalid event) drops the event, as upstream does for those answers; nothing is raised into
   the caller.

What kubesim does differently, on purpose:

* The write happens at once, in virtual time, inside the caller's call (upstream hands the event
  to a goroutine: it lands a few milliseconds later). The clock is never moved and nothing is
  scheduled, so Events never keep :meth:`kubesim.Cluster.run` alive.
* Event writes are never failed by :class:`kubesim.faults.FaultPlan` and draw nothing from the
  fault stream: upstream retries a failed Event write up to 12 times, 10 s apart
  (``maxTriesPerEvent``, ``sleepDuration``), so a transient API failure delays an Event rather
  than losing it; modelling the retry would need clock events.
* Event uids come from a random stream of their own (``random.Random(f"{seed}/events")``), and
  name collisions (two events about one object in the same virtual nanosecond) are broken by
  taking the next free nanosecond for that object's name: with Events on, every other record of
  the change log is what it would be with them off, but for resourceVersions.
* The broadcaster's queue limit (1000 queued events, then drops) and the components' client
  QPS limits (kubelet ``--event-qps`` 50, ``--event-burst`` 100) are not modelled: writes are
  instantaneous, so a queue never builds.
* ``action`` (the events.k8s.io/v1 recorder of ``tools/events``, which the scheduler uses) is
  accepted and stored, but the event is otherwise recorded as the core/v1 recorder records it:
  see ``docs/guides/events.md``.

Expiry: kube-apiserver's ``--event-ttl`` is :class:`EventTTL` (``Cluster(event_ttl=3600.0)``):
an Event is deleted ``ttl`` seconds after its last write, at that virtual time, by
:data:`TTL_ACTOR`, through the clock's passive sources (nothing is scheduled). A repeat after
its Event expired is created afresh (upstream's patch-then-create).

The write path: the recorder's Events go through
:meth:`~kubesim.apiserver.APIServer.create_trusted` /
:meth:`~kubesim.apiserver.APIServer.update_trusted` (no defaulting or generic validation, sizes
by arithmetic: :func:`kubesim.wire.events.event_sizes`), and the stored Event holds a
:class:`_Record` of its fields instead of its content text (:func:`kubesim.inert.holding`): its
``content`` is built from the record when read, and the object reads in every respect as the
one holding that text (``tests/test_event_records.py``); ``recorder.trusted = False`` takes the
full create/update instead, with the text (the oracle of ``tests/test_events_fastpath.py`` and
of the records). A repeat takes the trusted patch only of an Event that holds this recorder's
record (and still has the resourceVersion of its last write): one the full path wrote (with
``trusted = False``, set back to ``True`` since) holds its text, and its repeats take the full
``api.update`` -- the same change log and stored objects, only slower.

Memory: the correlator's caches keep what upstream's keep (an ``eventLog``'s count, first
timestamp, name and resourceVersion, an aggregate group's messages, a token bucket) under
keys that share their tuples (:class:`EventCorrelator`), and never an Event object: a repeat's
trusted patch reads the fields back from the stored Event's record, after checking by
resourceVersion that it is still the one this recorder wrote. Beside them a correlator keeps a
table of source tuples, bounded (:data:`_SOURCES_KEPT`). A stored Event's record shares those
key tuples and a source tuple per event source and action (80 bytes where the text took about
560). The TTL keeps ``(expiry, sequence, namespace, name)`` per write. So an Event, once the
store lets it go, is freed.

``Cluster(events=False)`` gives a disabled recorder: :meth:`EventRecorder.event` returns at
once and the change log is exactly what it was before Events existed.

Costs: a recorded event is ``O(len(message))`` for the correlator plus one trusted write (a
repeat's patch reads the stored record: ``O(1)``); a filtered one writes nothing; a disabled
recorder costs one attribute test. Reading a stored Event's ``content`` is ``O(its size)``.
"""

from __future__ import annotations

import collections
import functools
import heapq
import inspect
import json
import random
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import attrs

from kubesim.apiserver import _meta
from kubesim.errors import InvalidArgument, KubesimError
from kubesim.inert import ContentRecord, InertObject, content, held_content, holding
from kubesim.manifests.times import format_time as _rfc3339
from kubesim.objects import EMPTY, ObjectMeta, random_uid
from kubesim.wire.events import event_sizes as _event_sizes

__all__ = [
    "EventRecorder",
    "EventTTL",
    "DEFAULT_EVENT_TTL",
    "TTL_ACTOR",
    "EventCorrelator",
    "EventStatistics",
    "fields",
    "is_event",
    "event_name",
    "COMPONENT_ACTORS",
    "LRU_CACHE_ENTRIES",
    "SPAM_BURST",
    "SPAM_QPS",
    "AGGREGATE_MAX_EVENTS",
    "AGGREGATE_INTERVAL",
    "COMBINED_PREFIX",
]

#: kube-apiserver's ``--event-ttl`` default: one hour.
DEFAULT_EVENT_TTL = 3600.0
#: the change-log actor of an Event's expiry (etcd's lease, kube-apiserver's TTL).
TTL_ACTOR = "kube-apiserver"
#: ``maxLruCacheEntries``: the size of each of the correlator's three caches.
LRU_CACHE_ENTRIES = 4096
#: ``defaultSpamBurst``: events a source may write about one object at once.
SPAM_BURST = 25
#: ``defaultSpamQPS``: the spam filter's refill rate, one event every 5 minutes.
SPAM_QPS = 1.0 / 300.0
#: ``defaultAggregateMaxEvents``: distinct messages before similar events are combined.
AGGREGATE_MAX_EVENTS = 10
#: ``defaultAggregateIntervalInSeconds``: how long a group of similar events stays open.
AGGREGATE_INTERVAL = 600
#: ``EventAggregatorByReasonMessageFunc``'s prefix.
COMBINED_PREFIX = "(combined from similar events): "

#: The change-log actor of each event source (component) whose writes kubesim already
#: attributes to a differently named actor; any other component is its own actor.
COMPONENT_ACTORS: dict[str, str] = {
    "default-scheduler": "scheduler",
    "endpoint-slice-controller": "endpointslice-controller",
    "endpointslice-mirroring-controller": "endpointslicemirroring-controller",
    "endpoint-slice-mirroring-controller": "endpointslicemirroring-controller",
}

_EVENT_TYPES = frozenset({"Normal", "Warning"})
_NS = 10**9
#: How many source tuples (one per action) each of a correlator's two ``sources`` tables
#: keeps before it is emptied (:class:`EventCorrelator`).
_SOURCES_KEPT = 64


def is_event(obj: Any) -> bool:
    """Whether ``obj`` is a stored Event. ``O(1)``."""
    return type(obj) is InertObject and obj.kind == "Event"


def fields(obj: InertObject) -> dict[str, Any]:
    """The Event's fields after ``metadata`` as plain JSON (``involvedObject``, ``reason``,
    ``message``, ``source``, ``firstTimestamp`` ...). ``O(size)``."""
    return content(obj)


def event_name(involved_name: str, unix_nano: int) -> str:
    """``fmt.Sprintf("%v.%x", ref.Name, t.UnixNano())``. ``O(1)``.

    >>> event_name("web-1", 1735689600 * 10**9)
    'web-1.1816687ec0570000'
    """
    return f"{involved_name}.{unix_nano:x}"


class _LRU:
    """``groupcache/lru`` (``Add`` makes a key the newest; past ``size`` entries the oldest
    goes), for one of a correlator's caches.

    Recency is the insertion order of ``entries``: :meth:`put` re-inserts a key at the end. A
    cache starts as a plain ``dict`` (about 36 bytes an entry) and becomes an
    ``OrderedDict`` (about 84) the first time it is full: a dict's oldest key is found by
    skipping the holes earlier deletions left at its front, which a cache that evicts all the
    time would pay on every eviction; an ``OrderedDict`` unlinks it in ``O(1)``. Most caches
    (a kubelet's, one per node) never fill, so they stay dicts. Both orders are the same, so
    what is evicted does not depend on the switch.

    Costs: :meth:`put` ``O(1)`` (amortised; the switch is ``O(size)``, once); read a key
    with ``entries.get(key)``, which leaves its recency alone."""

    __slots__ = ("entries", "size")

    def __init__(self, size: int = LRU_CACHE_ENTRIES) -> None:
        self.entries: dict[Any, Any] = {}
        self.size = size

    def put(self, key: Any, value: Any) -> None:
        """``Add(key, value)``: ``key`` (present or not) becomes the newest and holds
        ``value`` (never ``None``); a new key past ``size`` entries evicts the oldest."""
        entries = self.entries
        if entries.pop(key, None) is None and len(entries) >= self.size:
            if entries.__class__ is dict:
                entries = self.entries = collections.OrderedDict(entries)
            entries.popitem(last=False)  # type: ignore[call-arg]
        entries[key] = value

    def __len__(self) -> int:
        return len(self.entries)


class _Bucket:
    """``flowcontrol.NewTokenBucketPassiveRateLimiter``: ``golang.org/x/time/rate`` with
    ``burst`` tokens, refilled at ``qps`` (fractional tokens accrue). ``key`` is the spam
    cache's own key tuple for it, so the other caches' keys about the same involved object
    share it rather than hold copies. ``name_ok``: whether the involved object's name (the
    key's) is a DNS subdomain, which makes every Event name ``<it>.<hex>`` of a non-negative
    UnixNano one the Event registry accepts (the name check of :meth:`EventRecorder.event`'s
    trusted create, made once per object rather than per Event)."""

    __slots__ = ("tokens", "last", "key", "name_ok")

    def __init__(self, now: float, key: tuple[str, ...]) -> None:
        self.tokens = float(SPAM_BURST)
        self.last = now
        self.key = key
        self.name_ok = len(key[2]) <= 253 and _TRUSTED_NAME(key[2]) is not None

    def try_accept(self, now: float) -> bool:
        # Limiter.reserveN with no wait allowed: the refill is computed from the last
        # accepted event's time, and the state changes only when a token is taken
        tokens = self.tokens
        if now > self.last:
            tokens = min(float(SPAM_BURST), tokens + (now - self.last) * SPAM_QPS)
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            self.last = now
            return True
        return False


class _Written(NamedTuple):
    """The fields of an Event this recorder writes, from which its JSON text and its sizes
    are built without building the body: the trusted write path
    (:meth:`kubesim.apiserver.APIServer.create_trusted`) sizes it, the full path stores its
    text, a stored :class:`_Record` builds its text through it. Built for one write or read
    and dropped: the correlator keeps only what upstream's ``eventLog`` keeps
    (:class:`_Observation`), the store the record."""

    namespace: str
    name: str
    kind: str
    ref_ns: str
    ref_name: str
    ref_uid: str
    api_version: str
    ref_rv: str
    field_path: str
    reason: str
    message: str
    component: str
    host: str
    first: int
    last: int
    times: int  #: the Event's count (a NamedTuple field may not be called count)
    type: str
    action: str
    reporting_component: str
    reporting_instance: str

    def text(self) -> str:
        """The stored content: exactly ``json.dumps(body, sort_keys=True, separators=(",",
        ":"), ensure_ascii=False)`` of the body :meth:`EventRecorder.event` describes."""
        q = _quote
        ref = ['{"apiVersion":', q(self.api_version)]
        if self.field_path:
            ref += [',"fieldPath":', q(self.field_path)]
        ref += [',"kind":', q(self.kind), ',"name":', q(self.ref_name)]
        if self.ref_ns:
            ref += [',"namespace":', q(self.ref_ns)]
        if self.ref_rv:
            ref += [',"resourceVersion":', q(self.ref_rv)]
        if self.ref_uid:
            ref += [',"uid":', q(self.ref_uid)]
        out = ["{"]
        if self.action:
            out += ['"action":', q(self.action), ","]
        first = _rfc3339(self.first)
        last = first if self.last == self.first else _rfc3339(self.last)
        out += ['"count":', str(self.times), ',"eventTime":null,"firstTimestamp":"', first,
                '","involvedObject":', *ref, '},"lastTimestamp":"', last, '",']
        if self.message:
            out += ['"message":', q(self.message), ","]
        if self.reason:
            out += ['"reason":', q(self.reason), ","]
        out.append(_tail(self.reporting_component, self.reporting_instance, self.component, self.host, self.type))
        return "".join(out)

    def sizes(self, resource_version: str, creation_timestamp: int) -> tuple[int, int, int]:
        """``wire.sizes3`` of the Event as stored with that resourceVersion and
        creationTimestamp, by arithmetic (:func:`kubesim.wire.events.event_sizes`)."""
        # the involvedObject's fields and the ones after them are in event_sizes' order
        # (asserted below): two slices instead of a read per field
        return _event_sizes(self[1], self[0], resource_version, creation_timestamp, self[2:9], *self[9:])


# _Written.sizes passes its fields to event_sizes by position
assert _Written._fields[:2] == ("namespace", "name")
assert _Written._fields[2:9] == ("kind", "ref_ns", "ref_name", "ref_uid", "api_version", "ref_rv", "field_path")
assert _Written._fields[9:] == (
    "reason", "message", "component", "host", "first", "last", "times", "type", "action", "reporting_component",
    "reporting_instance",
) and list(inspect.signature(_event_sizes).parameters)[5:] == [
    "reason", "message", "component", "host", "first", "last", "count", "type", "action", "reporting_component",
    "reporting_instance",
], "update _Written.sizes"


class _Record(ContentRecord):
    """What a stored Event written by this recorder's trusted path holds in place of its
    content text (:func:`kubesim.inert.holding`): its fields but the metadata's, by
    reference to tuples the recorder keeps anyway, so that a stored Event costs its
    ``ObjectMeta`` and this record (80 bytes) rather than its text (about 560 bytes).

    ``key`` is the logger's key of the event, ``((spam key, type, reason), fieldPath,
    message)`` with the spam key ``(kind, namespace, name, uid, apiVersion)`` of the involved
    object (:class:`EventCorrelator`: the very tuple the cache holds, shared by the events
    about one object); ``source`` is ``(component, host, action, reportingComponent,
    reportingInstance)``, one tuple per source, action and whether the event is an aggregate
    (:meth:`EventRecorder.event`, shared while the correlator's table of them keeps it); then
    the involved object's resourceVersion, the first and last timestamps (Unix seconds) and
    the count. :meth:`text` is :meth:`_Written.text` of those fields, so the stored Event
    reads as the one the text would make; a :class:`~kubesim.inert.ContentRecord`, which is
    what the content getter builds text of.

    Immutable, as the stored object is: setting or deleting an attribute raises
    ``AttributeError`` (as on a frozen ``attrs`` class such as the Event itself), so the
    stored Event's content and hash cannot change under it; :meth:`__init__` stores the
    fields through the slots' own descriptors. Slots rather than a tuple: a 6-tuple takes
    88 bytes (96 as allocated), these slots 80. ``O(1)`` to build."""

    __slots__ = ("key", "source", "ref_rv", "first", "last", "times")

    key: tuple[Any, ...]
    source: tuple[str, ...]
    ref_rv: str
    first: int
    last: int
    times: int

    def __init__(
        self, key: tuple[Any, ...], source: tuple[str, ...], ref_rv: str, first: int, last: int, times: int
    ) -> None:
        _set_key(self, key)
        _set_source(self, source)
        _set_ref_rv(self, ref_rv)
        _set_first(self, first)
        _set_last(self, last)
        _set_times(self, times)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a stored Event's record is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a stored Event's record is immutable: cannot delete {name!r}")

    def written(self, namespace: str, name: str) -> _Written:
        """The fields, as :class:`_Written` for the Event ``namespace/name``. ``O(1)``."""
        (spam_key, type, reason), field_path, message = self.key
        kind, ref_ns, ref_name, ref_uid, api_version = spam_key
        component, host, action, reporting_component, reporting_instance = self.source
        written: _Written = _new_tuple(_Written, (
            namespace, name, kind, ref_ns, ref_name, ref_uid, api_version, self.ref_rv, field_path, reason,
            message, component, host, self.first, self.last, self.times, type, action, reporting_component,
            reporting_instance,
        ))
        return written

    def text(self) -> str:
        """The stored content (:meth:`_Written.text`; the metadata is not part of it).
        ``O(size)``."""
        return self.written("", "").text()

    def patched(self, times: int, last: int, message: str) -> _Record:
        """The record of the Event patched to ``times``, ``last`` and ``message`` (the key
        kept when the message is the same). ``O(1)``."""
        key = self.key
        if message != key[2]:
            key = (key[0], key[1], message)
        return _Record(key, self.source, self.ref_rv, self.first, last, times)


#: The slots' descriptors' setters, which :meth:`_Record.__init__` stores through (its own
#: ``__setattr__`` refuses every write).
_set_key, _set_source, _set_ref_rv, _set_first, _set_last, _set_times = (
    _Record.__dict__[n].__set__ for n in _Record.__slots__)


class _Observation:
    """``eventLog``: what the logger remembers of an event it saw: its count (``times``),
    the first occurrence's time and the Event's name (which a repeat keeps), and the
    resourceVersion it learned from the write (``UpdateState``); upstream keeps exactly
    these. kubesim adds ``written_rv``: the resourceVersion of the Event this recorder itself
    wrote under that name (``""``: none, or a write by the full path's patch), so that a
    repeat knows whether the stored Event is still its own (the stored object with that
    resourceVersion is the one that write committed: every write of the API server gives a
    new one) and may be patched by the trusted path. Changed in place: only its cache
    holds it."""

    __slots__ = ("times", "first_timestamp", "name", "resource_version", "written_rv")

    def __init__(self, times: int, first_timestamp: int, name: str, resource_version: str, written_rv: str) -> None:
        self.times = times
        self.first_timestamp = first_timestamp
        self.name = name
        self.resource_version = resource_version
        self.written_rv = written_rv


class _Aggregate(list[str]):
    """``aggregateRecord``: the distinct messages of a group of similar events (the list, in
    insertion order, at most ``AGGREGATE_MAX_EVENTS - 1`` long), when the group last saw one
    (``last``) and the aggregate cache's own key tuple for the group (``key``, shared by the
    logger's keys of the group's events)."""

    __slots__ = ("last", "key")

    def __init__(self, now: float, key: tuple[Any, ...]) -> None:
        # born empty (list.__new__); list.__init__ would only empty it again
        self.last = now
        self.key = key


@attrs.define(eq=False)
class EventCorrelator:
    """client-go's ``EventCorrelator`` for one event source: aggregator, logger and spam
    filter (see the module docstring). Keys are tuples of the fields upstream joins into
    strings (``getEventKey``, ``EventAggregatorByReasonFunc``, ``getSpamKey``) but the
    source's, which every key of one correlator shares, nested so that the keys about one
    object share one tuple: the spam key ``(kind, namespace, name, uid, apiVersion)`` of the
    involved object, the aggregate key ``(spam key, type, reason)`` (also the logger's key of
    a combined event), the event key ``(aggregate key, fieldPath, message)``. Nesting keeps
    equality: two keys are equal exactly when the fields upstream joins are, and an
    aggregate key is never equal to an event key (their first items are a 5-tuple and a
    3-tuple).

    ``sources`` is not upstream's: the source tuples of the stored Events' records
    (:class:`_Record`), by action, for an ordinary event (``sources[False]``) and an
    aggregate one (``sources[True]``, without the reporting fields): one tuple each, shared
    by the Events of this source. Sharing is only a saving of memory (a record's text does
    not depend on which equal tuple it holds), so a table is bounded the cheap way: past
    :data:`_SOURCES_KEPT` actions it is emptied and fills again (the records keep the tuples
    they hold; a source with that many distinct actions shares less)."""

    spam: _LRU = attrs.field(factory=_LRU)
    aggregates: _LRU = attrs.field(factory=_LRU)
    observations: _LRU = attrs.field(factory=_LRU)
    sources: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]] = attrs.field(
        factory=lambda: ({}, {}), repr=False)


@attrs.frozen
class EventStatistics:
    """What the recorder did: events asked for, Events created and patched (repeats), events
    combined by the aggregator, dropped by the spam filter, and refused by the API server."""

    recorded: int
    created: int
    patched: int
    combined: int
    filtered: int
    refused: int


class EventRecorder:
    """The cluster's event recorder (see the module docstring). Build it with
    :meth:`kubesim.Cluster` (``cluster.recorder``); a disabled one (``enabled`` false) records
    nothing."""

    __slots__ = (
        "enabled", "trusted", "rng", "_api", "_clock", "_correlators", "_last_ns", "_ns_max", "_recorded",
        "_created", "_patched", "_combined", "_filtered", "_refused",
    )

    def __init__(self, api: Any = None, *, enabled: bool = True, seed: int = 0) -> None:
        if api is None and enabled:
            raise TypeError("an enabled EventRecorder needs the API server")
        self.enabled = enabled
        #: write through the trusted path (``APIServer.create_trusted``/``update_trusted``,
        #: sizes by arithmetic); ``False``: the full create/update, the path's own oracle
        self.trusted = True
        self._api = api
        self._clock: Any = api.clock if api is not None else None
        #: the Event uids' own stream (:meth:`new_uid`): drawing from it shifts nothing else
        self.rng = random.Random(f"{seed}/events")
        self._correlators: dict[tuple[str, str], EventCorrelator] = {}
        # involved object name -> the last UnixNano used in an Event name for it
        self._last_ns: dict[str, int] = {}
        self._ns_max = 0  # the largest UnixNano in _last_ns
        self._recorded = self._created = self._patched = 0
        self._combined = self._filtered = self._refused = 0

    def statistics(self) -> EventStatistics:
        """Counts of what :meth:`event` did so far. ``O(1)``."""
        return EventStatistics(
            self._recorded, self._created, self._patched, self._combined, self._filtered, self._refused
        )

    def new_uid(self) -> str:
        """A version-4 uid from the Events' own random stream (the API server draws an Event's
        uid here, never from the cluster's main stream), drawn as the API server draws every
        other uid (:func:`kubesim.objects.random_uid`). ``O(1)``.

        >>> import random, uuid
        >>> a, b = EventRecorder(enabled=False, seed=7), random.Random("7/events")
        >>> all(a.new_uid() == str(uuid.UUID(int=b.getrandbits(128), version=4)) for _ in range(2000))
        True
        """
        return random_uid(self.rng)

    def event(
        self,
        obj: Any,
        type: str,
        reason: str,
        message: str,
        *,
        component: str,
        host: str = "",
        action: str = "",
        field_path: str = "",
    ) -> None:
        """Record an Event about the stored object ``obj`` as client-go's
        ``EventRecorder.Event`` does: ``type`` ``"Normal"`` or ``"Warning"``, ``reason`` a
        CamelCase reason, ``message`` the text; ``component`` the event source
        (``"kubelet"``, ``"default-scheduler"``, ``"replicaset-controller"`` ...), ``host`` the
        node name for the kubelet; ``field_path`` the involved object's ``fieldPath``
        (``spec.containers{web}`` for the kubelet's container events); ``action`` is stored as
        the events.k8s.io recorder's ``action``.

        Goes through the correlator and, unless filtered, writes an Event (a create, or a patch
        of ``count``/``lastTimestamp`` for a repeat) with the component's change-log actor
        (:data:`COMPONENT_ACTORS`). Never raises for an API refusal of the Event write; never
        draws from the cluster's main random stream; never moves the clock. A disabled
        recorder does nothing. An event ``type`` other than Normal or Warning is dropped, as
        upstream's ``ValidateEventType`` does. An ``obj`` that is not an API object, or an
        argument that is not a string, raises :class:`~kubesim.errors.InvalidArgument` (a
        programming error, not an API failure). ``O(len(message))`` plus one write.
        """
        if not self.enabled:
            return
        meta: ObjectMeta = getattr(obj, "metadata", None)  # type: ignore[assignment]
        if meta.__class__ is not ObjectMeta or not isinstance(getattr(obj, "kind", None), str):
            raise InvalidArgument(f"event: obj must be a stored API object, got {obj!r:.80}")
        if (type.__class__ is not str or reason.__class__ is not str or message.__class__ is not str
                or component.__class__ is not str or host.__class__ is not str or action.__class__ is not str
                or field_path.__class__ is not str):
            for what, value in (("type", type), ("reason", reason), ("message", message), ("component", component),
                                ("host", host), ("action", action), ("field_path", field_path)):
                if value.__class__ is not str:
                    raise InvalidArgument(f"event: {what} must be a string, got {value!r:.80}")
        if type not in _EVENT_TYPES:
            return  # upstream's ValidateEventType drops it (and logs)
        self._recorded += 1
        kind = obj.kind
        ref_ns = meta.namespace
        ref_name = meta.name
        ref_uid = meta.uid
        api_version = obj.api_version
        now = self._clock.now
        corr = self._correlators.get((component, host))
        if corr is None:
            corr = self._correlators[(component, host)] = EventCorrelator()
        # the keys (see EventCorrelator), each the cache's own tuple where it has one
        spam_key: tuple[Any, ...] = (kind, ref_ns, ref_name, ref_uid, api_version)
        bucket: _Bucket | None = corr.spam.entries.get(spam_key)
        if bucket is not None:
            spam_key = bucket.key
        agg_key: tuple[Any, ...] = (spam_key, type, reason)
        # -- the aggregator (EventAggregate): a group older than the interval starts afresh
        record: _Aggregate | None = corr.aggregates.entries.get(agg_key)
        if record is None:
            record = _Aggregate(now, agg_key)
        else:
            agg_key = record.key
            if now - record.last > AGGREGATE_INTERVAL:
                record.clear()
            record.last = now
        if message not in record:
            record.append(message)
        # _LRU.put, written out for a key it holds or a cache with room (the eviction and
        # the switch to an OrderedDict are put's own); the same for the two puts below
        lru = corr.aggregates
        entries = lru.entries
        if entries.pop(agg_key, None) is None and len(entries) >= lru.size:
            lru.put(agg_key, record)
        else:
            entries[agg_key] = record
        combined = len(record) >= AGGREGATE_MAX_EVENTS
        if combined:
            del record[0]
            key: tuple[Any, ...] = agg_key
            message = COMBINED_PREFIX + message
            self._combined += 1
        else:
            key = (agg_key, field_path, message)
        # -- the logger (eventObserve); a new event is named now (makeEvent), a repeat keeps
        # the first occurrence's name and firstTimestamp
        observations = corr.observations
        seen: _Observation | None = observations.entries.get(key)
        # Unix seconds of now: the API server's one int per second, which the Event's
        # creationTimestamp is too
        t_sec = self._api._now_ts()
        if seen is not None:
            count = seen.times = seen.times + 1
            name = seen.name
            first = seen.first_timestamp
        else:
            count = 1
            name = self._new_name(ref_name, now)
            first = t_sec
            seen = _Observation(1, first, name, "", "")
        entries = observations.entries
        if entries.pop(key, None) is None and len(entries) >= observations.size:
            observations.put(key, seen)
        else:
            entries[key] = seen
        # -- the spam filter
        if bucket is None:
            bucket = _Bucket(now, spam_key)
        accepted = bucket.try_accept(now)
        # _LRU.put written out as for the aggregates above (one call fewer per event)
        lru = corr.spam
        entries = lru.entries
        if entries.pop(spam_key, None) is None and len(entries) >= lru.size:
            lru.put(spam_key, bucket)
        else:
            entries[spam_key] = bucket
        if not accepted:
            self._filtered += 1
            return
        # -- recordEvent: a patch of count, lastTimestamp and message for a repeat (a patch
        # of an Event that is gone becomes a create), else a create
        ns = ref_ns or "default"
        actor = COMPONENT_ACTORS.get(component, component)
        api = self._api
        stored = None
        trusted_write = False  # whether the Event is now as this recorder wrote it
        if count > 1:
            old = api.try_get("Event", name, ns)
            if old is not None:
                om = old.metadata
                try:
                    held = held_content(old)
                    if (seen.written_rv and om.resource_version == seen.written_rv and om.deletion_timestamp is None
                            and self.trusted and count < 2**31 and held.__class__ is _Record):
                        # the stored Event is the one this recorder wrote: the trusted patch, of
                        # the record it holds
                        was: _Record = held
                        rec = was.patched(count, t_sec, message or was.key[2])
                        patched = rec.written(om.namespace, om.name)
                        stored = api.update_trusted(holding(om, "Event", "v1", rec), old, patched.sizes, actor=actor)
                        trusted_write = True
                    else:
                        body = content(old)
                        body["count"] = count
                        body["lastTimestamp"] = _rfc3339(t_sec)
                        if message:
                            body["message"] = message
                        stored = api.update(
                            InertObject(metadata=om, kind="Event", api_version="v1", content=_text(body)),
                            actor=actor,
                        )
                    self._patched += 1
                except KubesimError:
                    self._refused += 1
                    return
        if stored is None:
            # _Written(...) by tuple.__new__, as the NamedTuple's own __new__ builds it, without
            # that Python frame
            written: _Written = _new_tuple(_Written, (
                ns, name, kind, ref_ns, ref_name, ref_uid, api_version, meta.resource_version, field_path,
                reason, message, component, host, first, t_sec, count, type, action,
                # the aggregate event is built without the reporting fields (EventAggregate)
                "" if combined else component, "" if combined else host,
            ))
            try:
                # the name check the registry makes (_TRUSTED_NAME of the whole name): the
                # involved name's, made once (_Bucket.name_ok), the length, and a UnixNano
                # that is not negative (its hex after the dot would start with "-")
                if self.trusted and bucket.name_ok and len(name) <= 253 and ".-" not in name and count < 2**31:
                    # the stored Event holds a _Record: the logger's key (a combined event's
                    # own, with its message) and this source's shared tuple
                    sources = corr.sources[combined]
                    source = sources.get(action)
                    if source is None:
                        if len(sources) >= _SOURCES_KEPT:
                            sources.clear()  # bounded: the records keep the tuples they share
                        source = sources[action] = (
                            component, host, action, written.reporting_component, written.reporting_instance)
                    rec = _Record(
                        (agg_key, field_path, message) if combined else key, source, meta.resource_version, first,
                        t_sec, count)
                    # the metadata create_trusted reads (name, namespace, no labels or
                    # annotations), built as the API server builds its own
                    meta_in = _meta(name, "", ns, "", "", "", 0, None, None, None, EMPTY, EMPTY, (), (), ())
                    stored = api.create_trusted(holding(meta_in, "Event", "v1", rec), written.sizes, actor=actor)
                else:  # a name the registry would refuse: the full path says why
                    new = InertObject(metadata=ObjectMeta(name=name, namespace=ns), kind="Event", api_version="v1",
                                      content=written.text())
                    stored = api.create(new, actor=actor)
                self._created += 1
            except KubesimError:
                self._refused += 1
                return
            trusted_write = True
        # -- UpdateState: the logger learns the stored state under the written event's own key
        smeta = stored.metadata
        written_rv = smeta.resource_version if trusted_write else ""
        if combined:
            observations.put((agg_key, field_path, message),
                             _Observation(count, first, smeta.name, smeta.resource_version, written_rv))
            if trusted_write:
                # the aggregate key's entry learns what was written too (in place: the LRU
                # order is the correlator's)
                entry = observations.entries.get(key)
                if entry is not None:
                    entry.written_rv = written_rv
        else:
            # the entry of the first step, all of it set again (as a new eventLog would be)
            seen.times, seen.first_timestamp, seen.name = count, first, smeta.name
            seen.resource_version, seen.written_rv = smeta.resource_version, written_rv
            entries = observations.entries
            # the put of the first step made it the newest; unless the write's watchers
            # recorded events meanwhile, putting it again changes nothing
            if entries.get(key) is not seen or next(reversed(entries)) is not key:
                observations.put(key, seen)

    def _new_name(self, ref_name: str, now: float) -> str:
        """``<name>.<hex UnixNano>`` of now; when that nanosecond was already used in a name
        for this object, the next one after the last used (deterministic, never a collision
        between this recorder's events)."""
        t_ns = self._api.epoch * _NS + round(now * _NS)
        if t_ns > self._ns_max:
            self._last_ns.clear()  # time moved past every name used: none can collide any more
        last = self._last_ns.get(ref_name)
        if last is not None and t_ns <= last:
            t_ns = last + 1
        self._last_ns[ref_name] = t_ns
        if t_ns > self._ns_max:
            self._ns_max = t_ns
        return f"{ref_name}.{t_ns:x}"  # event_name(ref_name, t_ns), written out


def _text(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_new_tuple: Any = tuple.__new__
#: json.dumps(s, ensure_ascii=False) of a string (the C encoder json.dumps itself uses)
_quote: Any = json.encoder.encode_basestring


def _tail(reporting_component: str, reporting_instance: str, component: str, host: str, type: str) -> str:
    """The end of an Event's stored text (:meth:`_Written.text`) from ``"reportingComponent"``
    on: the parts fixed by the component, the event type and whether there is a host come from
    :func:`_tail_parts` (cached), the reporting instance and the host (a kubelet's node name,
    one per node) are quoted between them. A cache of the whole tail keyed by the instance and
    the host held an entry per node, and missed on every Event once the nodes outnumbered it.
    ``O(len)``."""
    head, middle, end = _tail_parts(reporting_component, component, bool(host), type)
    q: Callable[[str], str] = _quote
    if host:
        return head + q(reporting_instance) + middle + q(host) + end
    return head + q(reporting_instance) + middle + end


@functools.lru_cache(maxsize=256)
def _tail_parts(reporting_component: str, component: str, has_host: bool, type: str) -> tuple[str, str, str]:
    # _tail's text around the reporting instance and the host: the same few per event source
    # and type (a bounded cache of a pure function of its arguments)
    q = _quote
    head = '"reportingComponent":' + q(reporting_component) + ',"reportingInstance":'
    middle = ',"source":{'
    if component:
        middle += '"component":' + q(component) + ("," if has_host else "")
    if has_host:
        middle += '"host":'
    return head, middle, '},"type":' + q(type) + "}"


#: a DNS-subdomain name as the Event registry requires (kubesim.validation's rule)
_TRUSTED_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*").fullmatch


class EventTTL:
    """kube-apiserver's ``--event-ttl``: every Event is deleted ``ttl`` seconds after its last
    write (see the module docstring). Built by :class:`kubesim.Cluster` (``event_ttl``).

    It watches every Event write (recorder's or client's): a create or an update sets the
    Event's expiry to the write's time plus ``ttl`` (etcd attaches a new lease of the full TTL
    to each write; the old lease no longer holds the key); a delete forgets it. It is a passive
    source of the clock (:meth:`kubesim.clock.Clock.add_passive`): when the clock is about to
    run a timer at ``t`` (or ends ``run(until=t)``), every Event whose expiry ``e <= t`` is
    removed at virtual time ``e`` (the clock's ``now`` is set to ``e`` for the write), oldest
    expiry first, ties in the order of the writes that set them, all before any timer at
    ``t``; the removal is a ``delete`` in the change log by :data:`TTL_ACTOR` with no cause,
    and watchers see it as a DELETED event (as etcd's lease expiry is a DELETE of the key). The
    Event is removed whatever its finalizers, as etcd removes the key. Nothing is scheduled:
    the TTL never keeps :meth:`kubesim.Cluster.run` going, so Events that expire after the
    last timer go when time is next advanced past them (``run(until=...)``). It is a source
    only while an expiry is ahead (added at the first, removed when none is left), so a cluster
    without Event writes pays nothing per clock step.

    Costs: ``O(log n)`` per Event write for ``n`` pending expiries; a clock step with nothing
    due costs one comparison.
    """

    __slots__ = ("ttl", "_api", "_clock", "_heap", "_due", "_pending", "_seq", "_armed", "_now", "_ttl", "_at",
                 "expired")

    def __init__(self, api: Any, ttl: float) -> None:
        self.ttl = ttl
        self._api = api
        self._clock = api.clock
        # (expiry, the write's sequence number, namespace, name), one per Event write: an
        # entry is live while its sequence number is the Event's in _due (a later write or a
        # delete makes it stale; a stale one is dropped when it comes up)
        self._heap: list[tuple[float, int, str, str]] = []
        # namespace -> name -> the sequence number of the write whose lease is the key's
        self._due: dict[str, dict[str, int]] = {}
        self._pending = 0  # the names in _due
        self._seq = 0
        self._armed = False  # a passive source of the clock only while an expiry is ahead
        # the last write's time and ttl, and its expiry (the writes of an instant share it)
        self._now = self._ttl = self._at = -1.0
        #: how many Events the TTL removed
        self.expired = 0
        api.watch(self._on_event, {"Event"})

    def _on_event(self, ev: Any) -> None:
        m = ev.new.metadata
        ns = m.namespace
        names = self._due.get(ns)
        if ev.type == "DELETED":
            if names is not None and names.pop(m.name, None) is not None:
                self._pending -= 1
                if not names:
                    del self._due[ns]
            return
        if names is None:
            names = self._due[ns] = {}
        self._seq += 1
        seq = self._seq
        if names.get(m.name) is None:
            self._pending += 1
        names[m.name] = seq
        now = self._clock.now
        if now != self._now or self.ttl != self._ttl:  # one expiry float per instant
            self._now, self._ttl, self._at = now, self.ttl, now + self.ttl
        heapq.heappush(self._heap, (self._at, seq, ns, m.name))
        if not self._armed:
            self._armed = True
            self._clock.add_passive(self._expire)

    def pending(self) -> int:
        """How many Events have an expiry ahead. ``O(1)``."""
        return self._pending

    def _expire(self, t: float) -> None:
        heap = self._heap
        if not heap or heap[0][0] > t:
            return
        clock = self._clock
        api = self._api
        outer = clock.context
        clock.context = ""
        try:
            while heap and heap[0][0] <= t:
                at, seq, ns, name = heapq.heappop(heap)
                names = self._due.get(ns)
                if names is None or names.get(name) != seq:
                    continue  # a later write re-armed it, or it is gone
                if at > clock.now:
                    clock.now = at
                api.remove("Event", name, ns, actor=TTL_ACTOR)
                self.expired += 1
        finally:
            clock.context = outer
            if not heap:
                self._armed = False
                clock.remove_passive(self._expire)
