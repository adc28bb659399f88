"""Watch: a bounded event history and the subscriptions that stream from it.

The hub is one :meth:`kubesim.apiserver.APIServer.watch` callback: every committed write
arrives once, in commit order, and is appended to a bounded history (the API server's watch
cache) and offered to each subscription of its kind. A watch from ``resourceVersion`` ``R``
replays the history after ``R``; once ``R`` has fallen out of the history the stream carries
one ``ERROR`` event with a ``410 Expired`` Status (``too old resource version: R (C)``), as
the watch cache's error watcher sends (``staging/src/k8s.io/apiserver/pkg/storage/cacher``).
With a label or field selector, an object that starts matching is ``ADDED`` and one that stops
matching is ``DELETED`` (``filterWithAttrsFunction`` in ``cache_watcher.go``).

A subscription whose client does not keep up (more than ``max_queue`` events waiting) is
closed, as the API server closes a blocked watcher; client-go re-lists and watches again.

Costs: an event is ``O(subscriptions of its kind)`` to offer and encoded to JSON at most once
(cached on the entry); a replay from ``R`` is ``O(history after R)``.
"""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Callable
from typing import Any

import attrs

from kubesim import manifests
from kubesim.labels import Selector
from kubesim.serve import query

__all__ = ["Entry", "WatchHub", "Subscription"]


@attrs.define(eq=False)
class Entry:
    """One committed write as watchers see it."""

    rv: int
    type: str
    kind: str
    old: Any
    new: Any
    _manifest: dict[str, Any] | None = None
    _lines: dict[str, bytes] = attrs.field(factory=dict)

    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            self._manifest = manifests.to_manifest(self.new)
        return self._manifest

    def line(self, type_: str) -> bytes:
        """The JSON watch event line of this write as event ``type_`` (cached)."""
        out = self._lines.get(type_)
        if out is None:
            out = self._lines[type_] = event_line(type_, self.manifest())
        return out

    def frame(self, type_: str) -> bytes:
        """The protobuf watch frame of this write as event ``type_`` (cached)."""
        key = "pb:" + type_
        out = self._lines.get(key)
        if out is None:
            from kubesim.serve import proto

            out = self._lines[key] = proto.watch_frame(type_, proto.encode_object(self.new))
        return out


@attrs.define(eq=False)
class Subscription:
    """One watch stream's filter and queue."""

    kind: str
    namespace: str | None
    labels: Selector | None
    fields: query.FieldSelector
    max_queue: int
    queue: asyncio.Queue[tuple[str, Any]] = attrs.field(factory=asyncio.Queue)
    overflowed: bool = False

    def matches(self, obj: Any) -> bool:
        if obj is None:
            return False
        meta = obj.metadata
        if self.namespace is not None and meta.namespace != self.namespace:
            return False
        if self.labels is not None and not self.labels.matches(meta.labels):
            return False
        return query.field_matches(self.fields, obj, self.kind)

    def translate(self, e: Entry) -> tuple[str, Any] | None:
        """The event this subscription sees for ``e`` (``None``: not for it)."""
        new_ok = self.matches(e.new)
        if e.type == "MODIFIED":
            old_ok = self.matches(e.old)
            if old_ok and new_ok:
                return ("MODIFIED", e)
            if new_ok:
                return ("ADDED", e)
            if old_ok:
                return ("DELETED", e)
            return None
        return (e.type, e) if new_ok else None

    def offer(self, e: Entry) -> None:
        if self.overflowed:
            return
        ev = self.translate(e)
        if ev is None:
            return
        if self.queue.qsize() >= self.max_queue:
            self.overflowed = True
            self.queue.put_nowait(("CLOSE", None))
            return
        self.queue.put_nowait(ev)


@attrs.define(eq=False)
class WatchHub:
    """The history of committed writes and the live subscriptions, by kind."""

    start_rv: int
    history_size: int = 10000
    history: collections.deque[Entry] = attrs.field(init=False)
    compacted_rv: int = attrs.field(init=False)
    last_rv: int = attrs.field(init=False)
    _subs: dict[str, set[Subscription]] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        self.history = collections.deque(maxlen=self.history_size)
        self.compacted_rv = self.start_rv
        self.last_rv = self.start_rv

    def on_event(self, ev: Any) -> None:
        """The API server's watch callback."""
        rv = int(ev.new.metadata.resource_version or 0)
        e = Entry(rv, ev.type, ev.kind, ev.old, ev.new)
        if len(self.history) == self.history.maxlen:
            self.compacted_rv = self.history[0].rv
        self.history.append(e)
        self.last_rv = max(self.last_rv, rv)
        for s in self._subs.get(ev.kind, ()):
            s.offer(e)

    def subscribe(self, sub: Subscription) -> Callable[[], None]:
        self._subs.setdefault(sub.kind, set()).add(sub)

        def stop() -> None:
            self._subs.get(sub.kind, set()).discard(sub)

        return stop

    def since(self, rv: int) -> list[Entry] | None:
        """The history after ``rv``; ``None`` if ``rv`` is older than the history holds."""
        if rv < self.compacted_rv:
            return None
        return [e for e in self.history if e.rv > rv]

    def subscriptions(self) -> int:
        """How many watch streams are open. ``O(kinds)``."""
        return sum(len(s) for s in self._subs.values())

    def _check(self) -> None:
        """Assert the history's invariants (``O(history)``): it is bounded, everything in it is
        newer than the compaction point, and ``last_rv`` is the newest resourceVersion seen."""
        assert len(self.history) <= self.history_size
        assert all(e.rv > self.compacted_rv for e in self.history), self.compacted_rv
        assert all(e.rv <= self.last_rv for e in self.history)
        assert self.last_rv >= self.start_rv
        for kind, subs in self._subs.items():
            assert all(sub.kind == kind for sub in subs)


def event_line(type_: str, obj: Any) -> bytes:
    """One newline-terminated JSON watch event."""
    return json.dumps({"type": type_, "object": obj}, separators=(",", ":")).encode() + b"\n"
