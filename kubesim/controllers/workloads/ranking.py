"""An incremental index of the order in which a ReplicaSet deletes its pods.

``getPodsToDelete`` (``pkg/controller/replicaset/replica_set.go``) sorts the ReplicaSet's active
pods with ``ActivePodsWithRanks`` (``pkg/controller/controller_utils.go``) on every scale-down:
``O(n log n)`` per sync, ``O(n^2 log n)`` over a rolling update, where the old ReplicaSet is
scaled down a few pods at a time. :class:`DeletionRanking` keeps every ReplicaSet's active pods
in a :class:`~sortedcontainers.SortedList` under the exact key that
:func:`kubesim.controllers.workloads.rollout.rank_pods_for_deletion` sorts by, so choosing the ``k`` pods
to delete costs ``O(k log n)``.

Two parts of that key are not properties of the pod alone, and are kept current by events:

* **co-located related pods**: the number of active pods, of every ReplicaSet with the same
  controller owner (the ReplicaSet's *family*), on the pod's node. A pod that arrives on or
  leaves a node re-keys the family's pods on that node (``O(pods per node · log n)``).
  Unassigned pods all share one count and sort before assigned ones, so for them the count is
  left out of the key and a burst of new pods costs no re-keying.
* **logarithmic time buckets** (``LogarithmicScaleDown``): the ready and creation times are
  compared as ``log2`` of their age in nanoseconds at the ranking's ``now``, so a pod's key
  changes as time passes, each time its age crosses a power of two. Each entry records the
  instant of its next possible change in a heap; a query first re-keys the entries whose
  instant has come. A pod is re-keyed ``O(log age)`` times in its life.

Keys are computed lazily. A pod event only records the pod's new state and marks its entry
*dirty* (and, when the pod arrives on or leaves a node, the family's other pods on that node,
whose count changed); :meth:`DeletionRanking.smallest` re-keys a ReplicaSet's dirty entries at
its ``now`` before it reads the order. Only old ReplicaSets are ever scaled down in a rollout,
so the pods of the new one are never keyed, and a pod that changes several times between two
scale-downs is keyed once. This is exact: a key is a function of the pod as last put, the
family's current count on its node and ``now``; an entry that is not dirty was keyed after its
last change at an instant whose ``due`` has not come (else :meth:`~DeletionRanking.smallest`
re-keys it first), so its key equals the key at the query's ``now``, and a dirty one is keyed at
that ``now`` itself: every key read is the key at ``now``, as a full sort computes it.

``tests/test_podranking.py`` checks every answer against :func:`rank_pods_for_deletion` over a
recount.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable
from typing import Any

import attrs
from sortedcontainers import SortedList

from kubesim.controllers.workloads.rollout import (
    _PHASE_ORDINAL,
    _deletion_cost,
    _ready_condition_time,
    is_pod_active,
    max_container_restarts,
)
from kubesim.objects import Pod

__all__ = ["DeletionRanking"]

# The key an entry is stored under: rank_pods_for_deletion's key (with ``now`` given)
# flattened, each group of fields packed into one int or str that orders as the group does
# lexicographically, and ending with the pod's name (unique in its ReplicaSet, so no
# (key, name) wrapper is needed):
#
#   (assigned, phase, ready, cost)      -> ((assigned*3 + phase)*2 + ready)*2**32 + cost + 2**31
#   (-count, ready time present, rank)  -> -count*_TIME_SPAN + _time_code(ready time)
#   ready time's UID ("" when missing), -max_container_restarts, _time_code(creation time),
#   UID, namespace, name
#
# Comparing these tuples runs in C (ints and strs only, the first two fields decide most
# comparisons); the nested key with floats made a profiled 8,000-pod rollout spend about 3 %
# of its time in the SortedList's bisects. The restart count is a property of the pod as last
# put, so a restart (a pod event) re-keys the entry like any other change.
_COST_MIN = -(2**31)  # _deletion_cost is in [-2**31, 2**31)
_COST_SPAN = 2**32
_TIME_SPAN = 2048  # _time_code is in [0, 1026)


def _time_code(t: int | None, now: float) -> tuple[int, float]:
    """``rank_pods_for_deletion``'s time key with ``now`` given, less its UID, as one int in the
    same order, and the instant it may next change, from one ``log2``.

    The code: 0 for a missing time, else ``_log_rank(t, now) + 2`` (at least 1: the rank is at
    least -1; below 1026: the log2 of a finite float is below 1024). The instant: the earliest
    after ``now`` at which ``_log_rank(t, ·)`` may differ from its value at ``now`` (``inf`` if
    never); conservative, as a little early is harmless (the entry is re-keyed to the same key
    and rescheduled). Both read the same ``int(log2(age in ns))``, computed once here."""
    if t is None:
        return 0, math.inf
    d = (now - t) * 1e9
    rank = int(math.log2(d)) if d > 0 else -1  # _log_rank(t, now)
    if d < 2.0:
        # int(log2(d)) is irregular below 2 ns (and -1 at or before t): look again next time.
        return rank + 2, math.nextafter(now, math.inf)
    at = t + (2.0 ** (rank + 1)) * (1 - 1e-12) / 1e9
    return rank + 2, (at if at > now else math.nextafter(now, math.inf))


@attrs.define(eq=False)
class _Entry:
    pod: Pod
    node: str
    key: tuple[int | str, ...]  # see the note at _COST_MIN; () until first keyed
    version: int  # bumps on every re-key; stale heap items carry an older one


@attrs.define(eq=False)
class _RS:
    family: Hashable
    entries: dict[str, _Entry] = attrs.field(factory=dict)  # active pods by name
    order: SortedList[Any] = attrs.field(factory=SortedList)  # entry keys, ending with the name
    due: list[tuple[float, int, str]] = attrs.field(factory=list)  # heap (due, version, name)
    dirty: dict[str, None] = attrs.field(factory=dict)  # entries to re-key before the next query


@attrs.define(eq=False)
class DeletionRanking:
    """Every ReplicaSet's active pods, in ``ActivePodsWithRanks`` order.

    ReplicaSets are registered by :meth:`set_family` (the controller owner's UID, or the
    ReplicaSet's own key when it has none: a lone ReplicaSet's related pods are its own). Pods
    arrive with :meth:`put` (every state the controller sees; inactive pods leave the order) and
    leave with :meth:`drop`. :meth:`smallest` answers ``get_pods_to_delete`` for ``k`` below the
    active count, keying first what changed since its last answer (see the module docstring).
    """

    _rs: dict[Hashable, _RS] = attrs.field(factory=dict)
    # family -> node -> {(rs key, pod name)} of active pods
    _on_node: dict[Hashable, dict[str, dict[tuple[Hashable, str], None]]] = attrs.field(factory=dict)
    _now: float = -math.inf  # the latest instant a key was computed at

    # -- registration --------------------------------------------------------------------------

    def set_family(self, rs_key: Hashable, family: Hashable) -> None:
        """Register ``rs_key`` (or move it) into ``family``. ``O(1)``, or a re-insertion of its
        pods when the family changes."""
        rs = self._rs.get(rs_key)
        if rs is None:
            self._rs[rs_key] = _RS(family)
            return
        if rs.family == family:
            return
        pods = [e.pod for e in rs.entries.values()]
        self.drop_replica_set(rs_key)
        self._rs[rs_key] = _RS(family)
        for pod in pods:
            self.put(rs_key, pod, self._now)

    def drop_replica_set(self, rs_key: Hashable) -> None:
        """Forget ``rs_key`` and its pods (the ReplicaSet is gone: its pods no longer count as
        related). ``O(pods · log n)``."""
        rs = self._rs.get(rs_key)
        if rs is None:
            return
        for name in list(rs.entries):
            self.drop(rs_key, name)
        del self._rs[rs_key]

    # -- pod events ----------------------------------------------------------------------------

    def put(self, rs_key: Hashable, pod: Pod, now: float, *, active: bool | None = None) -> None:
        """``pod`` (owned by ``rs_key``) is now in this state, at ``now``; ``active``, if given,
        is ``is_pod_active(pod)`` (the caller's). ``O(1)``, plus marking the family's pods on
        its node dirty when it arrives on or leaves one (``O(pods per node)``); the keys are
        computed by the next :meth:`smallest` of their ReplicaSet."""
        rs = self._rs[rs_key]
        name = pod.metadata.name
        if now > self._now:
            self._now = now
        old = rs.entries.get(name)
        if not (is_pod_active(pod) if active is None else active):
            if old is not None:
                self.drop(rs_key, name)
            return
        node = pod.spec.node_name
        if old is not None and old.node != node:
            self.drop(rs_key, name)
            old = None
        if old is None:
            on = self._on_node.setdefault(rs.family, {}).setdefault(node, {})
            on[(rs_key, name)] = None
            rs.entries[name] = _Entry(pod, node, (), 0)
            self._touch_node(rs.family, node)
        else:
            old.pod = pod
        rs.dirty[name] = None

    def drop(self, rs_key: Hashable, name: str) -> None:
        """The pod left (deleted, or no longer owned). ``O(log n)`` plus marking its node's pods
        dirty."""
        rs = self._rs.get(rs_key)
        if rs is None:
            return
        entry = rs.entries.pop(name, None)
        if entry is None:
            return
        if entry.key:
            rs.order.remove(entry.key)
        rs.dirty.pop(name, None)
        on = self._on_node[rs.family][entry.node]
        del on[(rs_key, name)]
        if not on:
            del self._on_node[rs.family][entry.node]
        else:
            self._touch_node(rs.family, entry.node)

    # -- queries -------------------------------------------------------------------------------

    def smallest(self, rs_key: Hashable, k: int, now: float) -> list[Pod]:
        """The first ``k`` active pods of ``rs_key`` in deletion order at ``now``: equal to
        ``rank_pods_for_deletion(active, node_pod_counts=<related counts>, now=now, limit=k)``.
        ``O(k log n)`` plus the re-keys of the entries made dirty since the last query and of
        those whose time buckets have come due (``O(log n)`` each)."""
        rs = self._rs.get(rs_key)
        if rs is None:
            return []
        self._now = max(self._now, now)
        if rs.dirty:
            entries = rs.entries
            for name in rs.dirty:
                self._rekey(rs_key, rs, entries[name], self._now)
            rs.dirty.clear()
        self._advance(rs_key, rs, now)
        return [rs.entries[key[-1]].pod for key in rs.order.islice(0, k)]

    def active(self, rs_key: Hashable) -> int:
        """The number of active pods indexed for ``rs_key``. ``O(1)``."""
        rs = self._rs.get(rs_key)
        return 0 if rs is None else len(rs.entries)

    # -- internals -----------------------------------------------------------------------------

    def _count(self, family: Hashable, node: str) -> int:
        return len(self._on_node.get(family, {}).get(node, ()))

    def _key(self, family: Hashable, pod: Pod, now: float) -> tuple[tuple[int | str, ...], float]:
        # rank_pods_for_deletion's key, flattened into ints and strs that compare in C, in
        # the same order (see the note at _COST_MIN): 7 fields instead of 10 with two nested triples.
        ready = pod.status.ready
        ready_t = _ready_condition_time(pod) if ready else None
        created = pod.metadata.creation_timestamp
        uid = pod.metadata.uid
        node = pod.spec.node_name
        # All unassigned pods share one count and sort before every assigned pod, so the count
        # cannot order them: 0 spares re-keying them all as they come and go.
        count = self._count(family, node) if node else 0
        ready_code, ready_due = _time_code(ready_t, now)  # (0, inf) when not ready: ready_t is None
        created_code, created_due = _time_code(created, now)
        key = (
            (((node != "") * 3 + _PHASE_ORDINAL.get(pod.status.phase, 0)) * 2 + ready) * _COST_SPAN
            + _deletion_cost(pod) - _COST_MIN,
            -count * _TIME_SPAN + ready_code,
            uid if ready_t is not None else "",
            -max_container_restarts(pod),
            created_code,
            uid,
            pod.metadata.namespace,
            pod.metadata.name,
        )
        return key, min(ready_due, created_due)

    def _rekey(self, rs_key: Hashable, rs: _RS, entry: _Entry, now: float) -> None:
        key, due = self._key(rs.family, entry.pod, now)
        if entry.key:
            rs.order.remove(entry.key)
        entry.key = key
        rs.order.add(key)
        entry.version += 1
        if due != math.inf:
            heapq.heappush(rs.due, (due, entry.version, entry.pod.metadata.name))

    def _touch_node(self, family: Hashable, node: str) -> None:
        # The family's count on ``node`` changed: its pods there need new keys.
        if not node:
            return  # unassigned: the count is not part of the key (see _key)
        rss = self._rs
        for rs_key, name in self._on_node.get(family, {}).get(node, ()):
            rss[rs_key].dirty[name] = None

    def _advance(self, rs_key: Hashable, rs: _RS, now: float) -> None:
        heap = rs.due
        while heap and heap[0][0] <= now:
            _, version, name = heapq.heappop(heap)
            entry = rs.entries.get(name)
            if entry is None or entry.version != version:
                continue  # stale: the entry was re-keyed or dropped since
            self._rekey(rs_key, rs, entry, now)

    def _check(self) -> None:
        """Internal invariants (tests): every entry is on its node, every entry not dirty is
        keyed and in the order, and the order holds nothing else."""
        for rs_key, rs in self._rs.items():
            assert all(name in rs.entries for name in rs.dirty)
            keyed = [e for name, e in rs.entries.items() if e.key]
            assert len(rs.order) == len(keyed)
            for name, e in rs.entries.items():
                assert (rs_key, name) in self._on_node[rs.family][e.node]
                assert name in rs.dirty or (e.key[-1] == name and e.key in rs.order)
