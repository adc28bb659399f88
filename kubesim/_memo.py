"""Bounded memos keyed by object identity, shared by the write-path modules.

The API server's write path (:mod:`kubesim.defaults`, :mod:`kubesim.validation`,
:mod:`kubesim.wire`) sees the same immutable sub-objects again and again: a write carries its
``spec``, label maps, owner references, pod conditions and address tuples over unchanged from
the previous version. A memo keyed by ``id(x)`` answers those with one dictionary probe and no
hashing of ``x``. An ``id`` cannot be reused by another object while it is remembered: the memo
holds the key object, or a weak reference whose callback drops the entry when the object dies
(before its memory can be reused); a hit also checks ``is``.

* :class:`ByIdentity`: a memo of a pure function of one frozen object. An object that can be
  weakly referenced is remembered as long as it lives (its entry goes when it dies); any
  other is held, and the memo is cleared wholesale when it holds ``limit`` of them.
* :class:`IdentityMemo`: a map from tuples to values, first in, first out, bounded by the total
  weight (by default the length) of the tuples held.

Both are ``O(1)`` amortised per operation. They are a speed-up only: clearing them never
changes a result.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["ByIdentity", "IdentityMemo", "MAX_GROWTH"]

#: A :class:`ByIdentity` of weakly referenced objects is cleared wholesale at ``MAX_GROWTH``
#: times its ``limit`` live entries (only reached if values keep their keys alive).
MAX_GROWTH = 16


class _Ref(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to a memo key that knows the key's ``id``."""

    __slots__ = ("key",)
    key: int


#: Stored for a value that is its key itself (a weak entry must not hold its key).
_SELF = object()

_X = TypeVar("_X")
_V = TypeVar("_V")


class ByIdentity(Generic[_X, _V]):
    """A cache of ``fn(x)`` keyed by the identity of ``x``.

    For immutable sub-objects that a write carries over unchanged (a Pod's ``spec`` across
    status updates, a label map or a ``PodCondition`` across versions): a hit is one dict
    probe, no hashing of the object. ``fn`` must be a pure function of its (frozen) argument,
    so a hit returns exactly what a call would, and the same instance. ``O(1)`` plus the cost
    of ``fn`` on a miss.

    Lifetime. An ``x`` that can be weakly referenced (the frozen attrs classes of
    :mod:`kubesim.objects`) is held by a weak reference: its entry lives as long as ``x`` and
    is dropped when ``x`` dies, so the memo holds one entry per live object it has seen and
    never keeps a replaced version alive. (A fixed bound below the number of live objects made
    the hit rate fall with the cluster's size: with more pods than ``limit``, every pod's
    ``spec`` was forgotten before its next status write.) Should values keep their keys alive,
    the memo is cleared wholesale at :data:`MAX_GROWTH` times ``limit`` entries. Any other
    ``x`` (tuples, :class:`~kubesim.objects.FrozenDict`) is held by a strong reference, and the
    memo is cleared wholesale when it holds ``limit`` entries and a new one comes.

    ``cache`` maps ``id(x)`` to ``(x or a weak reference to x, fn(x))``; callers clear it with
    ``cache.clear()``."""

    __slots__ = ("fn", "cache", "limit", "_drop")

    def __init__(self, fn: Callable[[_X], _V], limit: int) -> None:
        self.fn = fn
        self.cache: dict[int, tuple[Any, Any]] = {}
        self.limit = limit
        cache = self.cache

        def drop(ref: _Ref) -> None:
            # x died: forget it (unless the entry is already another's, after a clear())
            hit = cache.get(ref.key)
            if hit is not None and hit[0] is ref:
                del cache[ref.key]

        self._drop = drop

    def __call__(self, x: _X) -> _V:
        hit = self.cache.get(id(x))
        if hit is not None:
            held = hit[0]
            if held is x:
                return hit[1]  # type: ignore[no-any-return]
            if held.__class__ is _Ref and held() is x:
                v = hit[1]
                return x if v is _SELF else v  # type: ignore[return-value]
        out = self.fn(x)
        cache = self.cache
        if type(x).__weakrefoffset__:
            if len(cache) >= self.limit * MAX_GROWTH:
                cache.clear()
            ref = _Ref(x, self._drop)
            ref.key = id(x)
            cache[id(x)] = (ref, _SELF if out is x else out)
        else:
            if len(cache) >= self.limit:
                cache.clear()
            cache[id(x)] = (x, out)
        return out


class IdentityMemo:
    """A map from tuples, by identity (a reference is held, so an id cannot be reused while
    cached), to values; first in, first out, bounded by the total weight (by default the
    length) of the tuples held: an uncapped Endpoints has tens of thousands of addresses. The
    most recent entry is always kept, whatever its weight. ``O(1)`` amortised.

    ``items`` maps ``id(t)`` to ``(t, value, weight)`` in insertion order; ``held`` is the sum
    of the weights."""

    __slots__ = ("items", "held", "limit")

    def __init__(self, limit: int) -> None:
        self.items: dict[int, tuple[tuple[Any, ...], Any, int]] = {}
        self.held = 0
        self.limit = limit

    def get(self, t: object) -> Any:
        """The value stored for the tuple ``t`` itself (not an equal one), else ``None``."""
        hit = self.items.get(id(t))
        return hit[1] if hit is not None and hit[0] is t else None

    def put(self, t: tuple[Any, ...], value: Any, weight: int | None = None) -> None:
        """Remember ``value`` for ``t`` (replacing an earlier value, which moves ``t`` to the
        newest place), weighing ``len(t)`` unless ``weight`` is given; then drop the oldest
        entries while the total weight exceeds ``limit``."""
        items = self.items
        old = items.pop(id(t), None)
        if old is not None:
            self.held -= old[2]
        w = len(t) if weight is None else weight
        items[id(t)] = (t, value, w)
        self.held += w
        while self.held > self.limit and len(items) > 1:
            self.held -= items.pop(next(iter(items)))[2]

    def clear(self) -> None:
        """Forget every entry. ``O(entries)``."""
        self.items.clear()
        self.held = 0
