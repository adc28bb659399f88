"""The garbage collector: deletes dependents whose owner is gone (background propagation).

It keeps an index ``owner uid -> dependents`` from every object's ``ownerReferences``. When an
object is deleted, each dependent none of whose remaining owners still exists is deleted
(graceful for pods), as ``pkg/controller/garbagecollector`` does with the default background
propagation policy.

Costs: ``O(owner references)`` per watch event, ``O(1)`` for an event whose object carries the
same ``ownerReferences`` tuple as the last one seen of it (a status write carries it over; an
update that carries its old state's tuple returns before building anything); a deletion costs
``O(dependents)``.

Memory: one set entry (the uid, a string the object holds anyway) per live object; the index
entries (``_indexed``, ``_owners_of``, the ``(kind, namespace, name)`` key) only for objects that
have owners. An object without ``ownerReferences`` (every Event, Node, Service, Deployment) has
no index entries at all, so it keeps nothing of its own here but its uid's set entry.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubesim.apiserver import WatchEvent
from kubesim.controllers.runtime import ControllerContext, retrying

__all__ = ["GarbageCollector", "GCStatistics"]

_Ref = tuple[str, str, str]  # kind, namespace, name


@attrs.frozen
class GCStatistics:
    """Counters of the garbage collector."""

    deleted: int
    tracked_owners: int


@attrs.define(eq=False)
class GarbageCollector:
    """Deletes orphaned dependents. See the module docstring."""

    ctx: ControllerContext
    _dependents: dict[str, dict[_Ref, None]] = attrs.field(factory=dict, repr=False)
    _owners_of: dict[_Ref, tuple[str, ...]] = attrs.field(factory=dict, repr=False)
    #: the uids of the live objects (the watch's view): an owner is live while its uid is here
    _live_uids: set[str] = attrs.field(factory=set, repr=False)
    #: the (non-empty) ``ownerReferences`` tuple of each live object that has owners, as last
    #: indexed: the index entries of an object are a function of it, so an event carrying the
    #: same (frozen) tuple changes none; an object without owners has no entry here, as it has
    #: none in ``_owners_of``
    _indexed: dict[_Ref, tuple[Any, ...]] = attrs.field(factory=dict, repr=False)
    _deleted: int = 0

    name = "garbagecollector"

    def start(self) -> None:
        self.ctx.api.watch(self._on_event)

    def _on_event(self, ev: WatchEvent) -> None:
        """Index (or unindex) the object's owners; a deletion schedules the collection of its
        dependents.

        A MODIFIED event that carries the old state's ``ownerReferences`` tuple (a status
        write, a bind, any update that leaves the owners alone) changes nothing and returns at
        once when the object's uid is live: watch events are never lost and one object's
        arrive in order, and each carries as ``old`` the object the previous one carried as
        ``new``, so a live uid means that previous state was indexed (its uid added, its
        owners' entries made for that very tuple), which is the state this one would index.
        The index thus changes on creates, deletes and owner changes only. ``O(1)`` then."""
        obj: Any = ev.new
        meta = obj.metadata
        refs = meta.owner_references
        if ev.type == "MODIFIED" and refs is ev.old.metadata.owner_references and meta.uid in self._live_uids:
            return
        ref: _Ref = (obj.kind, meta.namespace, meta.name)
        if ev.type == "DELETED":
            self._live_uids.discard(meta.uid)
            self._indexed.pop(ref, None)
            self._untrack(ref)
            deps = self._dependents.pop(meta.uid, None)
            if deps:
                self.ctx.clock.schedule(0.0, lambda: self._collect(list(deps)))
            return
        self._live_uids.add(meta.uid)
        if not refs:
            # no owners, no index entries: drop the ones of the owners it had, if any (an entry
            # in _indexed is there exactly when the object had owners when last indexed)
            if self._indexed.pop(ref, None) is not None:
                self._untrack(ref)
            return
        if self._indexed.get(ref) is refs:
            return
        self._indexed[ref] = refs
        uids = tuple(o.uid for o in refs)
        if self._owners_of.get(ref) != uids:
            self._untrack(ref)
            self._owners_of[ref] = uids
            for u in uids:
                self._dependents.setdefault(u, {})[ref] = None

    def _untrack(self, ref: _Ref) -> None:
        old = self._owners_of.pop(ref, None)
        if old:
            for u in old:
                d = self._dependents.get(u)
                if d is not None:
                    d.pop(ref, None)
                    if not d:
                        del self._dependents[u]

    def _collect(self, deps: list[_Ref]) -> None:
        for ref in deps:
            retrying(self.ctx.clock, lambda ref=ref: self._collect_one(ref))  # type: ignore[misc]

    def _collect_one(self, ref: _Ref) -> None:
        kind, ns, name = ref
        obj = self.ctx.api.try_get(kind, name, ns)
        if obj is None or obj.metadata.deletion_timestamp is not None:
            return
        if any(o.uid in self._live_uids for o in obj.metadata.owner_references):
            return
        self.ctx.api.delete(kind, name, ns, actor="garbage-collector")
        self._deleted += 1

    def statistics(self) -> GCStatistics:
        """Objects deleted, owners with tracked dependents."""
        return GCStatistics(self._deleted, len(self._dependents))
