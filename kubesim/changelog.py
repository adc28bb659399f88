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

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

import attrs

from kubesim.objects import EMPTY, FrozenDict

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


@attrs.define(eq=False)
class ChangeLog(Sequence[ChangeEvent]):
    """An append-only sequence of :class:`ChangeEvent`.

    Indexing and ``len`` are ``O(1)``; :meth:`append` is amortised ``O(1)`` plus one call per
    subscriber. Subscribers (``subscribe``) are how users observe writes as they happen.
    """

    _events: list[ChangeEvent] = attrs.field(factory=list)
    _subscribers: list[Callable[[ChangeEvent], object]] = attrs.field(factory=list, repr=False)

    def append(self, event: ChangeEvent) -> None:
        """Record ``event`` and hand it to every subscriber, in subscription order."""
        self._events.append(event)
        for fn in self._subscribers:
            fn(event)

    def subscribe(self, fn: Callable[[ChangeEvent], object]) -> Callable[[], None]:
        """Call ``fn(event)`` for every later event; returns a function that unsubscribes."""
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def truncate(self, length: int) -> None:
        """Drop events from ``length`` on (used to roll back a failed all-or-nothing apply)."""
        del self._events[length:]

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


def replay(changes: Iterable[ChangeEvent]) -> dict[tuple[str, str, str], Any]:
    """Rebuild the API server's state from a change log recorded with objects
    (``Cluster(record_objects=True)``): ``(kind, namespace, name) -> object``, equal to
    :meth:`kubesim.apiserver.APIServer.snapshot` at the end of the log. Failed attempts are
    skipped. ``O(len(changes))``.

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
