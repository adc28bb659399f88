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
    _log_rank,
    _ready_condition_time,
    is_pod_active,
)
from kubesim.objects import Pod

__all__ = ["DeletionRanking"]

# The key an entry is stored under: rank_pods_for_deletion's key (with ``now`` given
# and no restarts) flattened, each group of fields packed into one int or str that orders as
# the group does lexicographically, and ending with the pod's name (unique in its ReplicaSet,
# so no (key, name) wrapper is needed):
#
#   (assigned, phase, ready, cost)      -> ((assigned*3 + phase)*2 + ready)*2**32 + cost + 2**31
#   (-count, ready time present, rank)  -> -count*_TIME_SPAN + _time_code(ready time)
#   ready time's UID ("" when missing), _time_code(creation time), UID, namespace, name
#
# The restart count is left out: kubesim's PodStatus has no container statuses, so it is 0 for
# every pod and orders nothing. Comparing these tuples runs in C (ints and strs only, the
# first two fields decide most comparisons); the nested key with floats made a profiled
# 8,000-pod rollout spend about 3 % of its time in the SortedList's bisects.
_COST_MIN = -(2**31)  # _deletion_cost is in [-2**31, 2**31)
_COST_SPAN = 2**32
_TIME_SPAN = 2048  # _time_code is in [0, 1026)


def _time_code(t: int | None, now: float) -> int:
    """``rank_pods_for_deletion``'s time key with ``now`` given, less its UID, as one int in the
    same order: 0 for a missing time, else ``_log_rank(t, now) + 2`` (at least 1: the rank is at
    least -1; below 1026: the log2 of a finite float is below 1024)."""
    return 0 if t is None else _log_rank(t, now) + 2


def _next_change(t: int | None, now: float) -> float:
    """The earliest instant after ``now`` at which ``_log_rank(t, ·)`` may differ from its value
    at ``now`` (``inf`` if never). Conservative: a little early is harmless (the entry is
    re-keyed to the same key and rescheduled)."""
    if t is None:
        return math.inf
    d = (now - t) * 1e9
    if d < 2.0:
        # int(log2(d)) is irregular below 2 ns (and -1 at or before t): look again next time.
        return math.nextafter(now, math.inf)
    at = t + (2.0 ** (int(math.log2(d)) + 1)) * (1 - 1e-12) / 1e9
    return at if at > now else math.nextafter(now, math.inf)


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


@attrs.define(eq=False)
class DeletionRanking:
    """Every ReplicaSet's active pods, in ``ActivePodsWithRanks`` order.

    ReplicaSets are registered by :meth:`set_family` (the controller owner's UID, or the
    ReplicaSet's own key when it has none: a lone ReplicaSet's related pods are its own). Pods
    arrive with :meth:`put` (every state the controller sees; inactive pods leave the order) and
    leave with :meth:`drop`. :meth:`smallest` answers ``get_pods_to_delete`` for ``k`` below the
    active count.
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

    def put(self, rs_key: Hashable, pod: Pod, now: float) -> None:
        """``pod`` (owned by ``rs_key``) is now in this state, at ``now``. ``O(log n)``, plus a
        re-key of the pods on its node when it arrives on or leaves one."""
        rs = self._rs[rs_key]
        name = pod.metadata.name
        self._now = max(self._now, now)
        old = rs.entries.get(name)
        if not is_pod_active(pod):
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
            entry = _Entry(pod, node, (), 0)
            rs.entries[name] = entry
            self._rekey_node(rs.family, node, self._now, skip=(rs_key, name))
            self._rekey(rs_key, rs, entry, self._now)
        else:
            old.pod = pod
            self._rekey(rs_key, rs, old, self._now)

    def drop(self, rs_key: Hashable, name: str) -> None:
        """The pod left (deleted, or no longer owned). ``O(log n)`` plus the node's re-key."""
        rs = self._rs.get(rs_key)
        if rs is None:
            return
        entry = rs.entries.pop(name, None)
        if entry is None:
            return
        rs.order.remove(entry.key)
        on = self._on_node[rs.family][entry.node]
        del on[(rs_key, name)]
        if not on:
            del self._on_node[rs.family][entry.node]
        else:
            self._rekey_node(rs.family, entry.node, self._now)

    # -- queries -------------------------------------------------------------------------------

    def smallest(self, rs_key: Hashable, k: int, now: float) -> list[Pod]:
        """The first ``k`` active pods of ``rs_key`` in deletion order at ``now``: equal to
        ``rank_pods_for_deletion(active, node_pod_counts=<related counts>, now=now, limit=k)``.
        ``O(k log n)`` plus the re-keys that have come due."""
        rs = self._rs.get(rs_key)
        if rs is None:
            return []
        self._now = max(self._now, now)
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
        key = (
            (((node != "") * 3 + _PHASE_ORDINAL.get(pod.status.phase, 0)) * 2 + ready) * _COST_SPAN
            + _deletion_cost(pod) - _COST_MIN,
            -count * _TIME_SPAN + _time_code(ready_t, now),
            uid if ready_t is not None else "",
            _time_code(created, now),
            uid,
            pod.metadata.namespace,
            pod.metadata.name,
        )
        due = min(_next_change(ready_t, now) if ready else math.inf, _next_change(created, now))
        return key, due

    def _rekey(self, rs_key: Hashable, rs: _RS, entry: _Entry, now: float) -> None:
        key, due = self._key(rs.family, entry.pod, now)
        if entry.key:
            rs.order.remove(entry.key)
        entry.key = key
        rs.order.add(key)
        entry.version += 1
        if due != math.inf:
            heapq.heappush(rs.due, (due, entry.version, entry.pod.metadata.name))

    def _rekey_node(self, family: Hashable, node: str, now: float, skip: tuple[Hashable, str] | None = None) -> None:
        if not node:
            return  # unassigned: the count is not part of the key (see _key)
        for rs_key, name in list(self._on_node.get(family, {}).get(node, ())):
            if (rs_key, name) == skip:
                continue
            rs = self._rs[rs_key]
            self._rekey(rs_key, rs, rs.entries[name], now)

    def _advance(self, rs_key: Hashable, rs: _RS, now: float) -> None:
        heap = rs.due
        while heap and heap[0][0] <= now:
            _, version, name = heapq.heappop(heap)
            entry = rs.entries.get(name)
            if entry is None or entry.version != version:
                continue  # stale: the entry was re-keyed or dropped since
            self._rekey(rs_key, rs, entry, now)

    def _check(self) -> None:
        """Internal invariants (tests): counts equal a recount, keys are current."""
        for rs_key, rs in self._rs.items():
            assert len(rs.order) == len(rs.entries)
            for name, e in rs.entries.items():
                assert (rs_key, name) in self._on_node[rs.family][e.node]
                assert e.key[-1] == name and e.key in rs.order
