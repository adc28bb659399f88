"""The ReplicaSet side (``controller_utils.go``, ``replicaset/replica_set.go``): which pods are
active and available (:func:`is_pod_active`, :func:`is_pod_available`,
:func:`pod_available_after`), upstream's deletion ranking (:func:`rank_pods_for_deletion`,
:func:`get_pods_to_delete`, :func:`node_pod_counts_of`, :func:`max_container_restarts`; the reference that
:mod:`.ranking` is checked against), :func:`slow_start_batches`, :func:`replicas_diff`, and
:func:`calculate_replica_set_status`.

Pure functions of API objects and an explicit ``now``. Imports: :mod:`kubesim.objects`,
:mod:`kubesim.errors`, :mod:`.fenceposts` (:mod:`.rollout` re-exports every public name).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

from kubesim.controllers.workloads.fenceposts import rs_replicas
from kubesim.errors import InvalidOption
from kubesim.objects import Pod, ReplicaSet, ReplicaSetStatus

#: The pod annotation read by the ReplicaSet's deletion ranking (``PodDeletionCost``).
POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
#: ``replicaset.BurstReplicas``: the most pods one ReplicaSet sync creates or deletes.
BURST_REPLICAS = 500
#: ``controller.SlowStartInitialBatchSize``.
SLOW_START_INITIAL_BATCH_SIZE = 1


# --------------------------------------------------------------------------------------------
# ReplicaSet pod management


def is_pod_active(pod: Pod) -> bool:
    """``controller.IsPodActive``: not Succeeded/Failed and not being deleted.  ``O(1)``."""
    return pod.status.phase not in ("Succeeded", "Failed") and pod.metadata.deletion_timestamp is None


def _ready_condition_time(pod: Pod) -> int | None:
    for c in pod.status.conditions:
        if c.type == "Ready":
            return c.last_transition_time if c.status == "True" else None
    return None


def is_pod_available(pod: Pod, min_ready_seconds: int, now: float) -> bool:
    """``podutil.IsPodAvailable``: ready, and ready for more than ``min_ready_seconds``
    (strictly: ``lastTransitionTime + minReadySeconds < now``).  ``O(conditions)``."""
    if not pod.status.ready:
        return False
    if min_ready_seconds == 0:
        return True
    since = _ready_condition_time(pod)
    return since is not None and since + min_ready_seconds < now


def pod_available_after(pod: Pod, min_ready_seconds: int) -> float | None:
    """The instant after which a ready pod counts as available (available for every
    ``now`` strictly greater), or ``None`` if it is not ready.  Schedule the status resync just
    after this (upstream requeues the ReplicaSet ``minReadySeconds`` later).  ``O(conditions)``."""
    if not pod.status.ready:
        return None
    if min_ready_seconds == 0:
        return -math.inf
    since = _ready_condition_time(pod)
    return None if since is None else float(since + min_ready_seconds)


_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def _deletion_cost(pod: Pod) -> int:
    raw = pod.metadata.annotations.get(POD_DELETION_COST_ANNOTATION)
    if raw is None:
        return 0
    try:
        value = int(raw)
    except ValueError:
        return 0
    return value if -(2**31) <= value < 2**31 else 0


def _log_rank(t: int, now: float) -> int:
    # logarithmicRankDiff works on nanosecond Durations.
    d = (now - t) * 1e9
    return int(math.log2(d)) if d > 0 else -1


def max_container_restarts(pod: Pod) -> int:
    """``maxContainerRestarts`` (``pkg/controller/controller_utils.go``): the largest
    ``restartCount`` among the pod's ``status.containerStatuses`` (init containers are not
    counted), 0 without any. ``O(containers)``."""
    return max((c.restart_count for c in pod.status.container_statuses), default=0)


def node_pod_counts_of(related_pods: Iterable[Pod]) -> dict[str, int]:
    """Active pods per node name (``""`` for unassigned), as ``getPodsRankedByRelatedPodsOnSameNode``
    counts them.  ``O(n)``."""
    counts: dict[str, int] = {}
    for p in related_pods:
        if is_pod_active(p):
            counts[p.spec.node_name] = counts.get(p.spec.node_name, 0) + 1
    return counts


def rank_pods_for_deletion(
    pods: Iterable[Pod],
    *,
    node_pod_counts: Mapping[str, int] | None = None,
    now: float | None = None,
    restart_count: Callable[[Pod], int] | None = None,
    limit: int | None = None,
) -> list[Pod]:
    """``ActivePodsWithRanks`` order: the pods to delete first come first.  ``O(n log n)``.

    Rules in turn: unassigned before assigned; ``Pending`` < ``Unknown`` < ``Running`` (other
    phases rank with Pending, as Go's map zero value does); not ready before ready; lower
    ``controller.kubernetes.io/pod-deletion-cost`` first; more co-located related pods on the
    node first (``node_pod_counts``, default: counted over ``pods``); ready for less time
    first; more container restarts first (``restart_count``, default
    :func:`max_container_restarts`, as upstream); created more recently first.  With ``now`` given the
    two time rules compare ``log2`` buckets of the age in nanoseconds (``LogarithmicScaleDown``,
    GA) and break bucket ties by UID; without it they compare exact times.  A missing time
    ranks first.  Remaining ties: namespace/name (Go's unstable sort leaves these arbitrary).
    With ``limit``, only the first ``limit`` pods are returned, selected in ``O(n log limit)``
    (what a scale-down by ``limit`` needs).
    """
    pods = list(pods)
    counts = node_pod_counts if node_pod_counts is not None else node_pod_counts_of(pods)
    restarts = restart_count or max_container_restarts

    def time_key(t: int | None, uid: str) -> tuple[int, float, str]:
        # Sort ascending: missing first, then most recent (larger t / smaller age) first.
        if t is None:
            return (0, 0.0, "")
        if now is None:
            return (1, -float(t), "")
        return (1, float(_log_rank(t, now)), uid)

    def key(p: Pod) -> tuple[object, ...]:
        ready = p.status.ready
        ready_t = _ready_condition_time(p) if ready else None
        return (
            p.spec.node_name != "",
            _PHASE_ORDINAL.get(p.status.phase, 0),
            ready,
            _deletion_cost(p),
            -counts.get(p.spec.node_name, 0),
            time_key(ready_t, p.metadata.uid) if ready else (0, 0.0, ""),
            -restarts(p),
            time_key(p.metadata.creation_timestamp, p.metadata.uid),
            p.metadata.namespace,
            p.metadata.name,
        )

    if limit is not None and limit < len(pods):
        return heapq.nsmallest(limit, pods, key=key)  # == sorted(pods, key=key)[:limit]
    return sorted(pods, key=key)


def get_pods_to_delete(
    filtered_pods: Sequence[Pod],
    related_pods: Sequence[Pod],
    diff: int,
    *,
    now: float | None = None,
    restart_count: Callable[[Pod], int] | None = None,
) -> list[Pod]:
    """``getPodsToDelete``: the ``diff`` pods a ReplicaSet deletes.  ``O(n log n)``.

    ``filtered_pods`` are the RS's active pods; ``related_pods`` the active pods of every RS
    owned by the same Deployment (ranks count co-located related pods per node).  When all are
    deleted no sorting happens (the given order is kept, as upstream).
    """
    if diff >= len(filtered_pods):
        return list(filtered_pods)
    return rank_pods_for_deletion(
        filtered_pods, node_pod_counts=node_pod_counts_of(related_pods), now=now, restart_count=restart_count,
        limit=diff,
    )


def slow_start_batches(count: int, initial: int = SLOW_START_INITIAL_BATCH_SIZE) -> list[int]:
    """``slowStartBatch`` sizes: ``initial``, then doubling, capped by what remains. ``O(log count)``.

    >>> slow_start_batches(10)
    [1, 2, 4, 3]
    """
    if initial < 1:
        raise InvalidOption(f"initial batch size must be at least 1, got {initial!r}")
    out: list[int] = []
    remaining = count
    batch = min(remaining, initial)
    while batch > 0:
        out.append(batch)
        remaining -= batch
        batch = min(2 * batch, remaining)
    return out


def replicas_diff(rs: ReplicaSet, active_pod_count: int, *, burst_replicas: int = BURST_REPLICAS) -> int:
    """``manageReplicas``: pods to create (positive) or delete (negative) this sync, capped at
    ``burst_replicas`` either way.  ``O(1)``."""
    diff = active_pod_count - rs_replicas(rs)
    if diff < 0:
        return min(-diff, burst_replicas)
    return -min(diff, burst_replicas)


def calculate_replica_set_status(
    rs: ReplicaSet, active_pods: Sequence[Pod], now: float
) -> ReplicaSetStatus:
    """``calculateStatus`` of the ReplicaSet controller over its active pods.  ``O(n)``.

    ``fullyLabeledReplicas`` counts pods whose labels carry every template label.
    """
    tmpl_labels = rs.spec.template.metadata.labels
    fully = ready = available = 0
    for p in active_pods:
        if all(p.metadata.labels.get(k) == v for k, v in tmpl_labels.items()):
            fully += 1
        if p.status.ready:
            ready += 1
            if is_pod_available(p, rs.spec.min_ready_seconds, now):
                available += 1
    return ReplicaSetStatus(
        replicas=len(active_pods),
        fully_labeled_replicas=fully,
        ready_replicas=ready,
        available_replicas=available,
        observed_generation=rs.metadata.generation,
    )
