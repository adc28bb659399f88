"""The lean engine: the full model's controllers over a lean API server.

:class:`LeanCluster` is a :class:`kubesim.Cluster` whose API server is a
:class:`LeanAPIServer`: every controller, queue, clock entry, random draw, validation and
write of the full model is kept as it is, so the change log is the full model's record for
record (``seq``, ``time``, ``verb``, ``kind``, ``namespace``, ``name``, ``resource_version``,
``actor``, sizes, ``labels``, ``trigger_time``, ``outcome``, ``cause``) — for every workload
and option, faults included, and whatever the other controllers come to model. What the lean
API server changes is *how* a write is measured and delivered:

* **slice sizes by changed entries**: an EndpointSlice update's endpoint size sums come from
  the stored slice's, corrected by the entries that differ (by identity), instead of a cached
  lookup per entry;
* **watch delivery by static dispatch**: each kind's watchers are listed once (rebuilt when a
  watch starts or stops), instead of a filter over every watcher per event.

The oracle is the full model itself: :func:`kubesim.lean.check.check_workload` runs one
workload on a :class:`LeanCluster` and on a :class:`kubesim.Cluster` and raises
:class:`~kubesim.lean.check.Divergence` at the first change-log record where they differ.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from kubesim import cluster as _cluster
from kubesim.apiserver import APIServer, WatchEvent
from kubesim.objects import ObjectMeta
from kubesim.wire import endpoints as _wire_endpoints
from kubesim.wire.caches import _PAIR_SHIFT

__all__ = ["LeanAPIServer", "LeanCluster"]

# LeanAPIServer -> kind -> the watchers of that kind, in registration order
_BY_KIND: weakref.WeakKeyDictionary[APIServer, dict[str, list[Callable[[WatchEvent], object]]]] = (
    weakref.WeakKeyDictionary()
)


class LeanAPIServer(APIServer):
    """:class:`kubesim.apiserver.APIServer` with slice sizes by changed entries and watch
    delivery by static dispatch (see the module docstring). Same writes, same records.

    It adds no state of its own (``__slots__ = ()``, the per-kind watcher lists live in a
    side table), so a built :class:`~kubesim.apiserver.APIServer` can become one by a class
    change: that is how :class:`LeanCluster` gets it, with no module state touched."""

    __slots__ = ()

    def _watchers_of(self, kind: str) -> list[Callable[[WatchEvent], object]]:
        table = _BY_KIND.get(self)
        if table is None:
            table = _BY_KIND[self] = {}
        fns = table.get(kind)
        if fns is None:
            fns = table[kind] = [fn for kinds, fn in self._watchers if kinds is None or kind in kinds]
        return fns

    # ------------------------------------------------------------------ sizes

    def _stamp(self, obj: Any, meta: ObjectMeta, generation: int | None = None) -> tuple[Any, tuple[int, int, int]]:
        if obj.kind == "EndpointSlice":  # stamping changes only metadata: the endpoints stay
            bucket = self._store.get("EndpointSlice", {}).get(meta.namespace)
            old = bucket.get(meta.name) if bucket is not None else None
            if old is not None:
                _vouch_slice_endpoints(old.endpoints, obj.endpoints)
        return super()._stamp(obj, meta, generation)

    # ------------------------------------------------------------------ watch

    def watch(self, fn: Callable[[WatchEvent], object], kinds: set[str] | frozenset[str] | None = None) -> Callable[[], None]:
        _BY_KIND.pop(self, None)
        stop = super().watch(fn, kinds)

        def stop_and_forget() -> None:
            _BY_KIND.pop(self, None)
            stop()

        return stop_and_forget

    def _deliver(self, ev: WatchEvent) -> None:
        m = ev.new.metadata
        kind = ev.kind
        if ev.type == "DELETED":
            self._delivered.pop((kind, m.namespace, m.name), None)
        else:
            self._delivered[(kind, m.namespace, m.name)] = m.resource_version
        for fn in self._watchers_of(kind):
            fn(ev)


def _vouch_slice_endpoints(old: tuple[Any, ...], new: tuple[Any, ...]) -> None:
    """Hand :mod:`kubesim.wire` the packed size sums of a slice's new endpoints tuple, from the
    old one's corrected by the entries that differ by identity: ``O(changed entries)`` Python
    work (the identity sets are built in C) instead of a cached lookup per entry. The sums are
    additive, so the result equals what ``wire`` computes itself."""
    memo = _wire_endpoints._slice_endpoints_pair
    cache = memo.cache
    hit = cache.get(id(new))
    if (hit is not None and hit[0] is new) or not old or not new or old is new:
        return
    base = memo(old)
    old_ids = set(map(id, old))
    new_ids = set(map(id, new))
    entry, js, shift = _wire_endpoints.endpoint_entry_size, _wire_endpoints.endpoint_json_size, _PAIR_SHIFT
    for e in old:
        if id(e) not in new_ids:
            base -= entry(e) + (js(e) << shift)
    for e in new:
        if id(e) not in old_ids:
            base += entry(e) + (js(e) << shift)
    if len(cache) >= memo.limit:
        cache.clear()
    cache[id(new)] = (new, base)


class LeanCluster(_cluster.Cluster):
    """A :class:`kubesim.Cluster` on the lean API server: the same keywords, methods and
    change log (``LeanCluster(seed=0, nodes=5000)``; :func:`kubesim.scenarios.deploy` and every
    other scenario take it). See the module docstring."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # The API server was built as the full model builds it (every watch registered, the
        # bootstrap written); from here on it writes through the lean methods. The watchers
        # registered so far are listed per kind at the first event of each kind.
        api: Any = self.api
        api.__class__ = LeanAPIServer
        _BY_KIND.pop(api, None)
