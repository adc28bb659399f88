"""The size caches' plumbing: the bounded per-value caches of entry sizes
(``_register``, cleared wholesale at :data:`CACHE_SIZE` entries), the registry of identity
caches of sub-object sizes (``_by_identity``, a :class:`kubesim._memo.ByIdentity` each), and
the packed (protobuf, JSON) pair representation (``_PAIR_SHIFT``, ``_PAIR_MASK``).

:func:`kubesim.wire.clear_caches` (in :mod:`kubesim.wire.measure`) empties everything
registered here.

Also the sizes of strings (``_STR_PAIRS``, ``_str_pair``), and the registry of memo dicts
their owners probe and fill inline (``_memo_dict``).

Imports: :mod:`kubesim._memo`, :mod:`~kubesim.wire.protobuf` (its type variable, ``_sf``) and
:mod:`~kubesim.wire.gojson` (``_json_str_len``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubesim._memo import ByIdentity
from kubesim.wire.gojson import _json_str_len
from kubesim.wire.protobuf import _T, _sf

#: Maximum number of entries kept in each per-entry size cache before it is cleared.
CACHE_SIZE: int = 1 << 17


# --------------------------------------------------------------------------------------------
# cached per-entry protobuf sizes


def _bounded_cache(fn: Callable[[_T], int]) -> Callable[[_T], int]:
    cache: dict[Any, int] = {}

    def cached(entry: _T) -> int:
        try:
            return cache[entry]
        except KeyError:
            pass
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        n = cache[entry] = fn(entry)
        return n

    cached.__wrapped__ = fn  # type: ignore[attr-defined]
    cached._cache = cache  # type: ignore[attr-defined]
    cached.__name__ = getattr(fn, "__name__", "cached")
    cached.__doc__ = fn.__doc__
    return cached


_CACHED: list[Callable[..., int]] = []


def _register(fn: Callable[[_T], int]) -> Callable[[_T], int]:
    c = _bounded_cache(fn)
    _CACHED.append(c)
    return c


#: Maximum number of sub-objects each identity cache keeps.
_ID_CACHE_SIZE = 1 << 13

#: Maximum number of metadata parts (label maps, owner-reference tuples, ...) and pod
#: conditions each part cache keeps: one per live object in a large cluster.
_PART_CACHE_SIZE = 1 << 16

_ID_CACHES: list[ByIdentity[Any, int]] = []


def _by_identity(fn: Callable[[Any], int], limit: int = _ID_CACHE_SIZE) -> ByIdentity[Any, int]:
    """A :class:`~kubesim._memo.ByIdentity` size cache, registered for :func:`clear_caches`."""
    c: ByIdentity[Any, int] = ByIdentity(fn, limit)
    _ID_CACHES.append(c)
    return c


# A (protobuf, JSON) size pair packed into one int, ``proto + (json << 40)``: packed pairs add
# and subtract like pairs (each component of a sum of entry sizes stays below 2**40), so a
# list's two sums are one C-level ``sum``.
_PAIR_SHIFT = 40
_PAIR_MASK = (1 << _PAIR_SHIFT) - 1


#: ``str -> _sf(s) + (_json_str_len(s) << _PAIR_SHIFT)``: a string's size as a one-byte-tag
#: protobuf field and as a Go JSON string, packed. The names, namespaces, uids, IPs, images,
#: condition types and reasons of an object recur on every write of it; a hit is one C-level
#: dict probe (a ``str`` caches its hash) instead of two Python calls. Callers probe it
#: inline, ``_STR_PAIRS.get(s) or _str_pair(s)`` (a pair is never 0: ``_sf(s) >= 2``), and
#: leave strings that never recur (resourceVersions) out of it.
_STR_PAIRS: dict[str, int] = {}


def _str_pair(s: str) -> int:
    """The packed sizes of ``s`` (see :data:`_STR_PAIRS`), remembered; cleared wholesale at
    :data:`CACHE_SIZE` strings. ``O(len(s))`` on a miss."""
    v = _STR_PAIRS.get(s)
    if v is None:
        if len(_STR_PAIRS) >= CACHE_SIZE:
            _STR_PAIRS.clear()
        v = _STR_PAIRS[s] = _sf(s) + (_json_str_len(s) << _PAIR_SHIFT)
    return v


#: Memo dicts their modules probe and fill inline (each bounded by its owner), emptied by
#: :func:`~kubesim.wire.clear_caches` with the caches above.
_MEMO_DICTS: list[dict[Any, Any]] = []


def _memo_dict() -> dict[Any, Any]:
    """A new memo dict, registered in :data:`_MEMO_DICTS`. ``O(1)``."""
    d: dict[Any, Any] = {}
    _MEMO_DICTS.append(d)
    return d
