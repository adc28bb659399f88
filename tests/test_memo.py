"""Tests for kubesim._memo: the bounded identity memos shared by defaults, validation and wire."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kubesim import defaults, validation, wire
from kubesim._memo import MAX_GROWTH, ByIdentity, IdentityMemo
from kubesim.objects import FrozenDict, PodSpec


class Box:
    """A weak-referenceable stand-in for a frozen sub-object."""

    def __init__(self, n: int) -> None:
        self.n = n


class Solid:
    """A stand-in for a key that cannot be weakly referenced (like a tuple or a FrozenDict)."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n


# --------------------------------------------------------------------------------------------
# ByIdentity


def test_by_identity_hit_returns_the_same_result_without_calling() -> None:
    calls: list[Box] = []

    def fn(x: Box) -> list[int]:
        calls.append(x)
        return [x.n]

    memo: ByIdentity[Box, list[int]] = ByIdentity(fn, 8)
    a = Box(1)
    first = memo(a)
    assert memo(a) is first
    assert calls == [a]
    b = Box(1)  # equal content, another object: computed on its own
    assert memo(b) == [1] and memo(b) is not first
    assert calls == [a, b]


def test_by_identity_is_cleared_wholesale_when_full_of_held_keys() -> None:
    calls: list[int] = []

    def fn(x: Solid) -> int:
        calls.append(x.n)
        return x.n * 10

    memo: ByIdentity[Solid, int] = ByIdentity(fn, 3)
    boxes = [Solid(i) for i in range(4)]
    for b in boxes[:3]:
        assert memo(b) == b.n * 10
    assert [held for held, _ in memo.cache.values()] == boxes[:3]
    assert memo(boxes[3]) == 30  # full: everything goes, then the new entry is added
    assert list(memo.cache) == [id(boxes[3])]
    calls.clear()
    assert memo(boxes[0]) == 0 and memo(boxes[3]) == 30
    assert calls == [0]  # boxes[0] was forgotten, boxes[3] was not


def test_by_identity_holds_a_strong_reference_to_keys_it_cannot_weakly_reference() -> None:
    memo: ByIdentity[Solid, int] = ByIdentity(lambda x: x.n, 8)
    x = Solid(7)
    memo(x)
    held = memo.cache[id(x)][0]
    del x
    gc.collect()
    assert held.n == 7 and id(held) in memo.cache  # kept alive by the memo: its id cannot be reused
    assert type(FrozenDict({})).__weakrefoffset__ == 0 and type(()).__weakrefoffset__ == 0


def test_by_identity_keeps_live_weak_keys_beyond_its_limit_and_forgets_dead_ones() -> None:
    calls: list[int] = []

    def fn(x: Box) -> int:
        calls.append(x.n)
        return x.n * 10

    memo: ByIdentity[Box, int] = ByIdentity(fn, 4)
    live = [Box(i) for i in range(20)]  # more live keys than the limit
    for b in live:
        assert memo(b) == b.n * 10
    calls.clear()
    assert [memo(b) for b in live] == [b.n * 10 for b in live]
    assert calls == []  # every live key is still remembered
    ref = weakref.ref(live[5])
    del b
    gone = live.pop(5)
    del gone
    gc.collect()
    assert ref() is None  # not kept alive by the memo
    assert len(memo.cache) == 19  # and its entry went with it
    assert type(PodSpec()).__weakrefoffset__ != 0  # the frozen objects are weak keys


def test_by_identity_weak_entry_of_a_value_that_is_its_key() -> None:
    memo: ByIdentity[Box, Box] = ByIdentity(lambda x: x, 4)  # defaults: unchanged input -> itself
    x = Box(3)
    assert memo(x) is x and memo(x) is x
    ref = weakref.ref(x)
    del x
    gc.collect()
    assert ref() is None and memo.cache == {}  # the entry did not keep its key alive


def test_by_identity_weak_entries_are_capped_when_values_keep_keys_alive() -> None:
    memo: ByIdentity[Box, list[Box]] = ByIdentity(lambda x: [x], 2)  # the value holds its key
    n = 2 * MAX_GROWTH
    for i in range(n + 1):
        memo(Box(i))  # each Box lives on in its value
    assert len(memo.cache) == 1  # cleared wholesale at MAX_GROWTH x limit, then the new one


def test_by_identity_a_clear_then_a_death_drops_nothing_else() -> None:
    memo: ByIdentity[Box, int] = ByIdentity(lambda x: x.n, 8)
    x = Box(1)
    memo(x)
    memo.cache.clear()
    y = Box(2)
    memo(y)
    del x
    gc.collect()
    assert memo(y) == 2 and len(memo.cache) == 1


def test_by_identity_checks_identity_on_an_id_hit() -> None:
    memo: ByIdentity[Box, int] = ByIdentity(lambda x: x.n, 8)
    x, impostor = Box(1), Box(2)
    # An entry under x's id holding another object (what a reused id would look like).
    memo.cache[id(x)] = (impostor, 99)
    assert memo(x) == 1
    held, value = memo.cache[id(x)]
    assert held() is x and value == 1  # a weak reference to x now
    memo.cache[id(x)] = (weakref.ref(impostor), 98)  # a weak entry under x's id, of another object
    assert memo(x) == 1


def test_registries_build_the_shared_class() -> None:
    c = wire._by_identity(lambda x: 1)
    try:
        assert type(c) is ByIdentity and c.limit == wire._ID_CACHE_SIZE
        assert c in wire._ID_CACHES
        x = Box(0)
        c(x)
        wire.clear_caches()
        assert c.cache == {}
    finally:
        wire._ID_CACHES.remove(c)
    d: ByIdentity[Box, Box] = defaults._memo(lambda x: x)
    try:
        assert type(d) is ByIdentity and d.limit == 1 << 15
        assert d in defaults._MEMOS
        d(Box(0))
        defaults.clear_caches()
        assert d.cache == {}
    finally:
        defaults._MEMOS.remove(d)
    assert all(type(m) is ByIdentity for m in defaults._MEMOS)
    assert all(type(m) is ByIdentity for m in wire._ID_CACHES)


# --------------------------------------------------------------------------------------------
# IdentityMemo


def test_identity_memo_is_first_in_first_out_by_weight() -> None:
    memo = IdentityMemo(5)
    t1, t2, t3 = (Box(1), Box(1)), (Box(2), Box(2)), (Box(3), Box(3))
    memo.put(t1, "one")
    memo.put(t2, "two")
    assert memo.held == 4 and memo.get(t1) == "one"
    memo.put(t3, "three")  # weight 6 > 5: the oldest goes
    assert memo.get(t1) is None
    assert memo.get(t2) == "two" and memo.get(t3) == "three"
    assert memo.held == 4
    memo.put(t2, "TWO")  # re-put: replaces the value and becomes the newest
    assert memo.held == 4
    memo.put((Box(4),), "four", weight=2)  # an explicit weight
    assert memo.get(t3) is None and memo.get(t2) == "TWO"
    assert memo.held == 4
    memo.clear()
    assert memo.items == {} and memo.held == 0 and memo.get(t2) is None


def test_identity_memo_keeps_the_newest_entry_whatever_its_weight() -> None:
    memo = IdentityMemo(2)
    small, big = (1,), tuple(range(10))
    memo.put(small, "s")
    memo.put(big, "b")
    assert memo.get(small) is None and memo.get(big) == "b"
    assert memo.held == 10


def test_identity_memo_is_by_identity_and_holds_references() -> None:
    memo = IdentityMemo(100)
    inner = Box(1)
    ref = weakref.ref(inner)
    t = (inner, "x")
    memo.put(t, True)
    assert memo.get((inner, "x")) is None  # equal, not the same tuple
    assert memo.get(list(t)) is None
    other = (Box(2),)
    memo.items[id(other)] = ((Box(3),), "stale", 1)  # what a reused id would look like
    assert memo.get(other) is None
    del memo.items[id(other)]
    del t, inner
    gc.collect()
    assert ref() is not None  # the tuple (and what it holds) stays alive while remembered
    memo.clear()
    gc.collect()
    assert ref() is None


def test_call_sites_use_the_shared_class() -> None:
    assert type(wire._LIST_SUMS) is IdentityMemo and wire._LIST_SUMS.limit == 1 << 20
    assert type(validation._VALID_LISTS) is IdentityMemo and validation._VALID_LISTS.limit == 1 << 20
    assert type(validation._DERIVED) is IdentityMemo and validation._DERIVED.limit == 1 << 20


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=0, max_value=12),
    ops=st.lists(
        st.tuples(st.integers(min_value=0, max_value=5), st.none() | st.integers(min_value=0, max_value=6)),
        max_size=40,
    ),
)
def test_identity_memo_matches_a_fifo_model(limit: int, ops: list[tuple[int, int | None]]) -> None:
    # Six distinct tuples of lengths 0..5 (tuple(range(0)) is the shared empty tuple: still one
    # object). The model: an ordered list of (key index, value, weight), oldest first.
    keys = [tuple(range(i)) for i in range(6)]
    memo = IdentityMemo(limit)
    model: list[tuple[int, int, int]] = []
    for step, (k, weight) in enumerate(ops):
        memo.put(keys[k], step, weight)
        model = [e for e in model if e[0] != k]
        model.append((k, step, len(keys[k]) if weight is None else weight))
        while sum(e[2] for e in model) > limit and len(model) > 1:
            model.pop(0)
        want: dict[int, Any] = {e[0]: e[1] for e in model}
        assert [memo.get(keys[i]) for i in range(6)] == [want.get(i) for i in range(6)]
        assert memo.held == sum(e[2] for e in model)
