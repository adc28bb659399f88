"""Bounded memos keyed by object identity, shared by the write-path modules.

The API server's write path (:mod:`kubesim.defaults`, :mod:`kubesim.validation`,
:mod:`kubesim.wire`) sees the same immutable sub-objects again and again: a write carries its
``spec``, label maps, owner references, pod conditions and address tuples over unchanged from
the previous version. A memo keyed by ``id(x)`` answers those with one dictionary probe and no
hashing of ``x``. Both classes here hold a strong reference to every key object, so an ``id``
cannot be reused by another object while it is remembered, and a hit also checks ``is``.

* :class:`ByIdentity`: a memo of a pure function of one frozen object, cleared wholesale when
  it holds ``limit`` objects.
* :class:`IdentityMemo`: a map from tuples to values, first in, first out, bounded by the total
  weight (by default the length) of the tuples held.

Both are ``O(1)`` amortised per operation. They are a speed-up only: clearing them never
changes a result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["ByIdentity", "IdentityMemo"]

_X = TypeVar("_X")
_V = TypeVar("_V")


class ByIdentity(Generic[_X, _V]):
    """A bounded cache of ``fn(x)`` keyed by the identity of ``x``, holding a strong reference
    to ``x`` (so its ``id`` cannot be reused while cached). Cleared wholesale when it holds
    ``limit`` objects and a new one is added.

    For immutable sub-objects that a write carries over unchanged (a Pod's ``spec`` across
    status updates, a label map or a ``PodCondition`` across versions): a hit is one dict
    probe, no hashing of the object. ``fn`` must be a pure function of its (frozen) argument,
    so a hit returns exactly what a call would, and the same instance. ``O(1)`` plus the cost
    of ``fn`` on a miss.

    ``cache`` maps ``id(x)`` to ``(x, fn(x))``; callers clear it with ``cache.clear()``."""

    __slots__ = ("fn", "cache", "limit")

    def __init__(self, fn: Callable[[_X], _V], limit: int) -> None:
        self.fn = fn
        self.cache: dict[int, tuple[_X, _V]] = {}
        self.limit = limit

    def __call__(self, x: _X) -> _V:
        hit = self.cache.get(id(x))
        if hit is not None and hit[0] is x:
            return hit[1]
        out = self.fn(x)
        if len(self.cache) >= self.limit:
            self.cache.clear()
        self.cache[id(x)] = (x, out)
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
