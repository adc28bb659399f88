"""The pure decision logic of the ReplicaSet and Deployment controllers.

Everything here is a function of API objects (and, where upstream reads the wall clock, an
explicit ``now``); nothing performs I/O or keeps state.  The event-driven controllers call these
functions and turn the returned decisions into writes.

Contents by purpose:

* **fenceposts** -- :func:`scaled_value_from_int_or_percent`, :func:`resolve_fenceposts`,
  :func:`max_surge`, :func:`max_unavailable`, :func:`min_available`, :func:`effective_strategy`
  (``k8s.io/apimachinery/pkg/util/intstr``, ``pkg/controller/deployment/util/deployment_util.go``);
* **identity** -- :func:`pod_template_hash`, :func:`equal_ignore_hash`,
  :func:`find_new_replica_set`, :func:`find_old_replica_sets`, :func:`new_replica_set`
  (``pkg/controller/controller_utils.go`` ``ComputeHash``, ``sync.go`` ``getNewReplicaSet``);
* **rollout decisions** -- :class:`ScaleDecision`, :func:`new_rs_new_replicas`,
  :func:`reconcile_new_replica_set`, :func:`reconcile_old_replica_sets`,
  :func:`cleanup_unhealthy_replicas`, :func:`scale_down_old_replica_sets_for_rolling_update`,
  :func:`rollout_rolling`, :func:`rollout_recreate`, :func:`scale` (proportional scaling),
  :func:`is_scaling_event`, :func:`plan_deployment_sync`, :func:`apply_scale_decision`
  (``rolling.go``, ``recreate.go``, ``sync.go``, ``deployment_controller.go``);
* **ReplicaSet pod management** -- :func:`rank_pods_for_deletion`, :func:`get_pods_to_delete`,
  :func:`max_container_restarts`,
  :func:`slow_start_batches`, :func:`replicas_diff`, :func:`is_pod_active`
  (``controller_utils.go`` ``ActivePodsWithRanks``, ``replicaset/replica_set.go``);
* **status** -- :func:`is_pod_available`, :func:`pod_available_after`,
  :func:`calculate_replica_set_status`, :func:`calculate_deployment_status`,
  :func:`deployment_complete`.

Defaulting: a Deployment whose ``spec.strategy.type`` is empty is treated as ``RollingUpdate``
with ``25%``/``25%`` (the apps/v1 defaults); an absent ``spec.replicas`` is ``1``.  The functions
apply these defaults themselves, so they work on objects that have not been through the API
server.

Deliberate differences from upstream, all about determinism: Go's ``sort.Sort`` is not stable,
so wherever upstream leaves an order unspecified kubesim breaks ties by name (ReplicaSets) or by
namespace/name (pods).

The modules: :mod:`.fenceposts` (strategy, replica counts, fenceposts), :mod:`.revisions`
(template hashes, the new and old ReplicaSets), :mod:`.replicas` (ReplicaSet pod management and
status), and this one, the Deployment's rollout decisions and status, which imports the other
three and re-exports their public names, so ``from kubesim.controllers.workloads.rollout import
...`` reaches every name listed above.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence

import attrs

from kubesim.controllers.workloads.fenceposts import (
    RECREATE,
    ROLLING_UPDATE,
    _is_rolling,
    deployment_replicas,
    effective_strategy,
    max_surge,
    max_unavailable,
    min_available,
    resolve_fenceposts,
    rs_replicas,
    scaled_value_from_int_or_percent,
)
from kubesim.controllers.workloads.replicas import _PHASE_ORDINAL as _PHASE_ORDINAL
from kubesim.controllers.workloads.replicas import (
    BURST_REPLICAS,
    POD_DELETION_COST_ANNOTATION,
    SLOW_START_INITIAL_BATCH_SIZE,
    calculate_replica_set_status,
    get_pods_to_delete,
    is_pod_active,
    is_pod_available,
    max_container_restarts,
    node_pod_counts_of,
    pod_available_after,
    rank_pods_for_deletion,
    replicas_diff,
    slow_start_batches,
)
from kubesim.controllers.workloads.replicas import _deletion_cost as _deletion_cost
from kubesim.controllers.workloads.replicas import _log_rank as _log_rank
from kubesim.controllers.workloads.replicas import _ready_condition_time as _ready_condition_time
from kubesim.controllers.workloads.revisions import (
    DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    _by_creation,
    _revision,
    all_old_replica_sets,
    canonical_dump,
    equal_ignore_hash,
    find_new_replica_set,
    find_old_replica_sets,
    fnv32a,
    pod_template_hash,
    safe_encode_string,
)
from kubesim.errors import FieldError, InvalidObject
from kubesim.objects import (
    Deployment,
    DeploymentStatus,
    LabelSelector,
    ObjectMeta,
    OwnerReference,
    ReplicaSet,
    ReplicaSetSpec,
)

__all__ = [
    "DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY",
    "REVISION_ANNOTATION",
    "DESIRED_REPLICAS_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "POD_DELETION_COST_ANNOTATION",
    "BURST_REPLICAS",
    "SLOW_START_INITIAL_BATCH_SIZE",
    "ROLLING_UPDATE",
    "RECREATE",
    "ScaleDecision",
    "scaled_value_from_int_or_percent",
    "resolve_fenceposts",
    "effective_strategy",
    "deployment_replicas",
    "rs_replicas",
    "max_surge",
    "max_unavailable",
    "min_available",
    "safe_encode_string",
    "canonical_dump",
    "fnv32a",
    "pod_template_hash",
    "equal_ignore_hash",
    "find_new_replica_set",
    "find_old_replica_sets",
    "new_replica_set",
    "is_saturated",
    "new_rs_new_replicas",
    "reconcile_new_replica_set",
    "reconcile_old_replica_sets",
    "cleanup_unhealthy_replicas",
    "scale_down_old_replica_sets_for_rolling_update",
    "rollout_rolling",
    "rollout_recreate",
    "find_active_or_latest",
    "get_proportion",
    "scale",
    "is_scaling_event",
    "plan_deployment_sync",
    "apply_scale_decision",
    "is_pod_active",
    "is_pod_available",
    "pod_available_after",
    "rank_pods_for_deletion",
    "node_pod_counts_of",
    "max_container_restarts",
    "get_pods_to_delete",
    "slow_start_batches",
    "replicas_diff",
    "calculate_replica_set_status",
    "calculate_deployment_status",
    "deployment_complete",
]


def new_replica_set(
    deployment: Deployment, old_rss: Sequence[ReplicaSet], *, collision_count: int | None = None
) -> ReplicaSet:
    """The ReplicaSet ``getNewReplicaSet`` creates for ``deployment``.  ``O(n + size)``.

    Name ``<deployment>-<hash>``; the hash label added to the template labels, the RS labels and
    the selector; a controller owner reference; ``minReadySeconds`` copied; revision
    ``max(old revisions) + 1``; the desired/max-replicas annotations; and ``spec.replicas`` from
    :func:`new_rs_new_replicas` (for ``Recreate``: the full count, since Recreate only creates
    the new RS once the old pods are gone).  Deployment annotations are copied as upstream's
    ``copyDeploymentAnnotationsToReplicaSet`` does (except the revision and replica ones).
    """
    tmpl = deployment.spec.template
    h = pod_template_hash(tmpl, collision_count)
    key = DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY
    labels = tmpl.metadata.labels.set(key, h)
    new_tmpl = attrs.evolve(tmpl, metadata=attrs.evolve(tmpl.metadata, labels=labels))
    sel = deployment.spec.selector or LabelSelector()
    selector = attrs.evolve(sel, match_labels=sel.match_labels.set(key, h))
    replicas = deployment_replicas(deployment)
    annotations = {
        k: v
        for k, v in deployment.metadata.annotations.items()
        if k not in _SKIPPED_ANNOTATIONS
    }
    annotations[REVISION_ANNOTATION] = str(max((_revision(rs) for rs in old_rss), default=0) + 1)
    annotations[DESIRED_REPLICAS_ANNOTATION] = str(replicas)
    annotations[MAX_REPLICAS_ANNOTATION] = str(replicas + max_surge(deployment))
    rs = ReplicaSet(
        metadata=ObjectMeta(
            name=f"{deployment.metadata.name}-{h}",
            namespace=deployment.metadata.namespace,
            labels=labels,
            annotations=annotations,
            owner_references=(
                OwnerReference.controller_ref(deployment),
            ),
        ),
        spec=ReplicaSetSpec(
            selector=selector,
            template=new_tmpl,
            replicas=0,
            min_ready_seconds=deployment.spec.min_ready_seconds,
        ),
    )
    count = new_rs_new_replicas(deployment, [*old_rss, rs], rs)
    return attrs.evolve(rs, spec=attrs.evolve(rs.spec, replicas=count))


_SKIPPED_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        "deployment.kubernetes.io/revision-history",
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        "deprecated.deployment.rollback.to",
    }
)


# --------------------------------------------------------------------------------------------
# Rollout decisions


@attrs.frozen
class ScaleDecision:
    """Set ReplicaSet ``rs_name`` to ``replicas`` and stamp the Deployment's
    ``desired-replicas``/``max-replicas`` annotations (upstream ``scaleReplicaSet`` always writes
    both together).  Apply with :func:`apply_scale_decision`."""

    rs_name: str
    replicas: int
    desired_replicas: int
    max_replicas: int


def _decision(deployment: Deployment, rs: ReplicaSet, replicas: int) -> ScaleDecision:
    d = deployment_replicas(deployment)
    return ScaleDecision(rs.metadata.name, replicas, d, d + max_surge(deployment))


assert [f.name for f in attrs.fields(ReplicaSet)] == ["metadata", "spec", "status"], "update apply_scale_decision"


def apply_scale_decision(rs: ReplicaSet, decision: ScaleDecision) -> ReplicaSet:
    """The ReplicaSet as ``scaleReplicaSet`` writes it.  ``O(annotations)``.

    When the annotations already carry both values (most steps of a rollout), the metadata is
    ``rs``'s own object: the same content in the same order as a rewrite would give, and the
    API server then carries the stored metadata over without building a new one. Likewise the
    spec when the size is unchanged; a part that is rebuilt differs from ``rs``'s (a value
    changed), so the result equals ``rs`` exactly when both parts are ``rs``'s own."""
    meta = rs.metadata
    ann = meta.annotations
    desired, most = str(decision.desired_replicas), str(decision.max_replicas)
    if ann.get(DESIRED_REPLICAS_ANNOTATION) != desired or ann.get(MAX_REPLICAS_ANNOTATION) != most:
        meta = attrs.evolve(meta, annotations=ann.set(DESIRED_REPLICAS_ANNOTATION, desired).set(MAX_REPLICAS_ANNOTATION, most))
    spec = rs.spec if rs.spec.replicas == decision.replicas else attrs.evolve(rs.spec, replicas=decision.replicas)
    return ReplicaSet(meta, spec, rs.status)  # attrs.evolve(rs, metadata=meta, spec=spec), positionally


def _apply_all(rss: Sequence[ReplicaSet], decisions: Sequence[ScaleDecision]) -> list[ReplicaSet]:
    by_name = {d.rs_name: d for d in decisions}
    return [apply_scale_decision(rs, by_name[rs.metadata.name]) if rs.metadata.name in by_name else rs for rs in rss]


def _sum_replicas(rss: Iterable[ReplicaSet | None]) -> int:
    # the sum of rs_replicas, inlined (a rollout step sums a few ReplicaSets several times)
    total = 0
    for rs in rss:
        if rs is not None:
            r = rs.spec.replicas
            total += 1 if r is None else r
    return total


def _sum_available(rss: Iterable[ReplicaSet | None]) -> int:
    total = 0
    for rs in rss:
        if rs is not None:
            total += rs.status.available_replicas
    return total


def _desired_annotation(rs: ReplicaSet) -> int | None:
    try:
        return int(rs.metadata.annotations[DESIRED_REPLICAS_ANNOTATION])
    except (KeyError, ValueError):
        return None


def _max_annotation(rs: ReplicaSet) -> int | None:
    try:
        return int(rs.metadata.annotations[MAX_REPLICAS_ANNOTATION])
    except (KeyError, ValueError):
        return None


def is_saturated(deployment: Deployment, rs: ReplicaSet | None) -> bool:
    """``IsSaturated``: the RS owns all desired replicas, by spec, annotation and availability."""
    if rs is None:
        return False
    desired = _desired_annotation(rs)
    if desired is None:
        return False
    d = deployment_replicas(deployment)
    return rs_replicas(rs) == d and desired == d and rs.status.available_replicas == d


def new_rs_new_replicas(deployment: Deployment, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet) -> int:
    """``NewRSNewReplicas``: the size the new RS may grow to now.  ``O(n)``.

    Rolling update: grow by what ``replicas + maxSurge`` leaves over the sum of all RSs'
    ``spec.replicas``, never beyond ``replicas``; Recreate: ``replicas``.
    """
    d = deployment_replicas(deployment)
    strategy = effective_strategy(deployment)
    if strategy.type == ROLLING_UPDATE:
        current = _sum_replicas(all_rss)
        max_total = d + max_surge(deployment)
        if current >= max_total:
            return rs_replicas(new_rs)
        up = min(max_total - current, d - rs_replicas(new_rs))
        return rs_replicas(new_rs) + up
    if strategy.type == RECREATE:
        return d
    raise InvalidObject(
        "Deployment",
        deployment.metadata.name,
        [FieldError("spec.strategy.type", "Unsupported value", strategy.type, 'supported values: "Recreate", "RollingUpdate"')],
    )


def reconcile_new_replica_set(
    deployment: Deployment, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet
) -> ScaleDecision | None:
    """``reconcileNewReplicaSet``: scale the new RS up (within surge) or down to replicas.
    ``None`` when no scaling is needed.  ``O(n)``."""
    d = deployment_replicas(deployment)
    current = rs_replicas(new_rs)
    if current == d:
        return None
    if current > d:
        return _decision(deployment, new_rs, d)
    target = new_rs_new_replicas(deployment, all_rss, new_rs)
    return None if target == current else _decision(deployment, new_rs, target)


def cleanup_unhealthy_replicas(
    deployment: Deployment, old_rss: Sequence[ReplicaSet], max_cleanup_count: int
) -> tuple[list[ScaleDecision], bool]:
    """``cleanupUnhealthyReplicas``: scale old RSs (oldest first) down by their unavailable
    replicas, ``max_cleanup_count`` in total.  ``O(n log n)``.

    Returns ``(decisions, ok)``.  ``ok`` is ``False`` when upstream stops with "got invalid
    request to scale down" (an old RS reports more available replicas than ``spec.replicas``,
    which happens while its surplus pods are being deleted); the decisions made before that
    point were already written upstream, and the rolling step ends there.
    """
    out: list[ScaleDecision] = []
    total = 0
    for rs in _by_creation(old_rss):
        if total >= max_cleanup_count:
            break
        replicas = rs_replicas(rs)
        if replicas == 0 or replicas == rs.status.available_replicas:
            continue
        down = min(max_cleanup_count - total, replicas - rs.status.available_replicas)
        if down < 0:
            return out, False
        out.append(_decision(deployment, rs, replicas - down))
        total += down
    return out, True


def scale_down_old_replica_sets_for_rolling_update(
    deployment: Deployment, all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet]
) -> list[ScaleDecision]:
    """``scaleDownOldReplicaSetsForRollingUpdate``: remove old replicas (oldest RS first) while
    the available pods across all RSs stay at or above ``minAvailable``.  ``O(n log n)``."""
    minimum = deployment_replicas(deployment) - max_unavailable(deployment)
    available = _sum_available(all_rss)
    if available <= minimum:
        return []
    budget = available - minimum
    out: list[ScaleDecision] = []
    total = 0
    for rs in _by_creation(old_rss):
        if total >= budget:
            break
        replicas = rs_replicas(rs)
        if replicas == 0:
            continue
        down = min(replicas, budget - total)
        out.append(_decision(deployment, rs, replicas - down))
        total += down
    return out


def reconcile_old_replica_sets(
    deployment: Deployment,
    all_rss: Sequence[ReplicaSet],
    old_rss: Sequence[ReplicaSet],
    new_rs: ReplicaSet,
) -> list[ScaleDecision]:
    """``reconcileOldReplicaSets``: the scale-down half of a rolling-update step.  ``O(n log n)``.

    ``maxScaledDown = allPods - minAvailable - newRSUnavailable``; within that, first remove
    unhealthy old replicas (:func:`cleanup_unhealthy_replicas`), then, on the RSs as they would
    be after that cleanup, scale old RSs down while availability allows
    (:func:`scale_down_old_replica_sets_for_rolling_update`).  A RS scaled by both steps gets
    one decision with its final size.  ``old_rss`` should be the *active* old RSs.
    """
    old_count = _sum_replicas(old_rss)
    if old_count == 0:
        return []
    all_count = _sum_replicas(all_rss)
    minimum = deployment_replicas(deployment) - max_unavailable(deployment)
    new_unavailable = rs_replicas(new_rs) - new_rs.status.available_replicas
    max_scaled_down = all_count - minimum - new_unavailable
    if max_scaled_down <= 0:
        return []
    cleanup, ok = cleanup_unhealthy_replicas(deployment, old_rss, max_scaled_down)
    if not ok:
        return cleanup
    old_after = _apply_all(list(old_rss), cleanup)
    # Upstream rebuilds allRSs as oldRSs + newRS here.
    down = scale_down_old_replica_sets_for_rolling_update(deployment, [*old_after, new_rs], old_after)
    merged: dict[str, ScaleDecision] = {d.rs_name: d for d in cleanup}
    for d in down:
        merged[d.rs_name] = d
    order = [rs.metadata.name for rs in _by_creation(old_rss)]
    return [merged[name] for name in order if name in merged]


def _active(rss: Iterable[ReplicaSet | None]) -> list[ReplicaSet]:
    # controller.FilterActiveReplicaSets
    return [rs for rs in rss if rs is not None and rs_replicas(rs) > 0]


def rollout_rolling(
    deployment: Deployment, new_rs: ReplicaSet, old_rss: Sequence[ReplicaSet]
) -> list[ScaleDecision]:
    """One ``rolloutRolling`` step: scale the new RS up if possible, else scale old RSs down.
    ``O(n log n)``.  An empty list means the rollout is waiting (or done)."""
    all_rss = [*old_rss, new_rs]
    up = reconcile_new_replica_set(deployment, all_rss, new_rs)
    if up is not None:
        return [up]
    return reconcile_old_replica_sets(deployment, all_rss, _active(old_rss), new_rs)


def rollout_recreate(
    deployment: Deployment,
    new_rs: ReplicaSet | None,
    old_rss: Sequence[ReplicaSet],
    *,
    old_pods_running: bool = False,
) -> list[ScaleDecision]:
    """One ``rolloutRecreate`` step.  ``O(n)``.

    Scale every active old RS to 0; once none is left and no old pod is running (pass
    ``old_pods_running``: any non-terminal pod owned by an old RS, as ``oldPodsRunning``
    checks, besides old RSs' ``status.replicas``), scale the new RS to ``replicas``.  With
    ``new_rs`` ``None`` the caller should create it with :func:`new_replica_set` once this
    returns ``[]`` and old pods are gone.
    """
    downs = [_decision(deployment, rs, 0) for rs in _active(old_rss)]
    if downs:
        return downs
    if old_pods_running or any(rs.status.replicas > 0 for rs in old_rss):
        return []
    if new_rs is None:
        return []
    d = deployment_replicas(deployment)
    if rs_replicas(new_rs) == d:
        return []
    return [_decision(deployment, new_rs, d)]


def find_active_or_latest(new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """``FindActiveOrLatest``: the only active RS, or the newest one when none is active;
    ``None`` when several are active.  ``O(n log n)``."""
    if new_rs is None and not old_rss:
        return None
    olds = list(reversed(_by_creation(old_rss)))
    active = _active([*olds, new_rs])
    if not active:
        return new_rs if new_rs is not None else olds[0]
    if len(active) == 1:
        return active[0]
    return None


def get_proportion(rs: ReplicaSet, deployment: Deployment, to_add: int, added: int) -> int:
    """``GetProportion``: this RS's share of ``to_add`` replicas (negative to remove), given
    ``added`` already handed out.  Uses the RS's ``max-replicas`` annotation (falling back to
    the Deployment's ``status.replicas``).  ``O(1)``."""
    if rs_replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    d = deployment_replicas(deployment)
    if d == 0:
        fraction = -rs_replicas(rs)
    else:
        deployment_max = d + max_surge(deployment)
        annotated = _max_annotation(rs)
        if annotated is None:
            annotated = deployment.status.replicas
        if annotated == 0:  # upstream divides by zero into +Inf; never reached in practice
            fraction = 0
        else:
            fraction = _round_half_away(rs_replicas(rs) * deployment_max / annotated) - rs_replicas(rs)
    allowed = to_add - added
    if to_add > 0:
        return min(fraction, allowed)
    return max(fraction, allowed)


def _round_half_away(x: float) -> int:
    # integer.RoundToInt32: math.Round, halves away from zero.
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def scale(
    deployment: Deployment,
    new_rs: ReplicaSet | None,
    old_rss: Sequence[ReplicaSet],
    *,
    fix_stale_annotations: bool = False,
) -> list[ScaleDecision]:
    """``DeploymentController.scale``: react to a change of ``spec.replicas``.  ``O(n log n)``.

    * one active (or no active) RS: set it to ``replicas`` -- upstream does nothing when it
      already has that size, even if its ``desired-replicas`` annotation is stale.  That
      leaves :func:`is_scaling_event` true forever and blocks the rollout (e.g. maxSurge 0,
      scale down mid-rollout to the old RS's current size; kubernetes/kubernetes PR #138036,
      open).  ``fix_stale_annotations=True`` applies that PR's remedy: rewrite the annotations;
    * the new RS saturated: old active RSs to 0;
    * the new RS saturated: old active RSs to 0;
    * rolling update with several active RSs: hand out ``replicas + maxSurge - sum`` in
      proportion to each RS's size over its ``max-replicas`` annotation, largest RS first
      (newer first when scaling up, older first when scaling down), leftovers to the first.
      Every active RS gets a decision when its size or annotations change.
    """
    d = deployment_replicas(deployment)
    aol = find_active_or_latest(new_rs, old_rss)
    if aol is not None:
        if rs_replicas(aol) == d:
            stale = _desired_annotation(aol) != d or _max_annotation(aol) != d + max_surge(deployment)
            return [_decision(deployment, aol, d)] if fix_stale_annotations and stale else []
        return [_decision(deployment, aol, d)]
    if is_saturated(deployment, new_rs):
        return [_decision(deployment, rs, 0) for rs in _active(old_rss)]
    if not _is_rolling(deployment):
        return []
    active = _active([*old_rss, new_rs])
    total = _sum_replicas(active)
    allowed_size = d + max_surge(deployment) if d > 0 else 0
    to_add = allowed_size - total
    if to_add > 0:
        # ReplicaSetsBySizeNewer: larger first, then the reverse of ByCreationTimestamp
        # (newer first; equal timestamps: name descending).
        active.sort(key=lambda rs: (rs.metadata.creation_timestamp or 0, rs.metadata.name), reverse=True)
        active.sort(key=lambda rs: rs_replicas(rs), reverse=True)
    elif to_add < 0:
        # ReplicaSetsBySizeOlder: larger first, then older first.
        active.sort(key=lambda rs: (rs.metadata.creation_timestamp or 0, rs.metadata.name))
        active.sort(key=lambda rs: rs_replicas(rs), reverse=True)
    sizes: dict[str, int] = {}
    added = 0
    for rs in active:
        if to_add != 0:
            p = get_proportion(rs, deployment, to_add, added)
            sizes[rs.metadata.name] = rs_replicas(rs) + p
            added += p
        else:
            sizes[rs.metadata.name] = rs_replicas(rs)
    out: list[ScaleDecision] = []
    want_max = d + max_surge(deployment)
    for i, rs in enumerate(active):
        name = rs.metadata.name
        if i == 0 and to_add != 0:
            sizes[name] = max(0, sizes[name] + to_add - added)
        needs = (
            sizes[name] != rs_replicas(rs)
            or _desired_annotation(rs) != d
            or _max_annotation(rs) != want_max
        )
        if needs:
            out.append(_decision(deployment, rs, sizes[name]))
    return out


def is_scaling_event(deployment: Deployment, rss: Sequence[ReplicaSet]) -> bool:
    """``isScalingEvent``: some active RS's ``desired-replicas`` annotation differs from
    ``spec.replicas``.  ``O(n)``."""
    d = deployment_replicas(deployment)
    key = DESIRED_REPLICAS_ANNOTATION
    for rs in rss:  # _active(rss) and _desired_annotation, inlined: no list built
        r = rs.spec.replicas
        if r is not None and r <= 0:
            continue
        raw = rs.metadata.annotations.get(key)
        if raw is None:
            continue
        try:
            desired = int(raw)
        except ValueError:
            continue
        if desired != d:
            return True
    return False


class _Find(enum.Enum):
    """The default of :func:`plan_deployment_sync`'s ``new_rs``: look it up."""

    FIND = 0


def plan_deployment_sync(
    deployment: Deployment,
    rss: Sequence[ReplicaSet],
    *,
    old_pods_running: bool = False,
    fix_stale_annotations: bool = False,
    new_rs: ReplicaSet | None | _Find = _Find.FIND,
) -> list[ScaleDecision]:
    """The scaling half of ``syncDeployment`` for the Deployment's ReplicaSets.  ``O(n log n)``.

    Deleted Deployments do nothing; paused ones and scaling events go through :func:`scale`;
    otherwise the strategy's rollout step runs.  Creating the new RS (when
    :func:`find_new_replica_set` finds none) is the caller's job: for ``RollingUpdate`` create
    :func:`new_replica_set` before calling; for ``Recreate`` create it once this returns ``[]``
    and ``old_pods_running`` is false.  ``fix_stale_annotations`` is passed to :func:`scale`.
    A caller that has ``find_new_replica_set(deployment, rss)`` at hand may pass it as
    ``new_rs`` (the same answer, not searched for again).
    """
    if deployment.metadata.deletion_timestamp is not None:
        return []
    if new_rs is _Find.FIND:
        new_rs = find_new_replica_set(deployment, rss)
    old_rss = all_old_replica_sets(rss, new_rs)
    if deployment.spec.paused or is_scaling_event(deployment, rss):
        return scale(deployment, new_rs, old_rss, fix_stale_annotations=fix_stale_annotations)
    strategy = effective_strategy(deployment).type
    if strategy == RECREATE:
        return rollout_recreate(deployment, new_rs, old_rss, old_pods_running=old_pods_running)
    if new_rs is None:
        return []
    return rollout_rolling(deployment, new_rs, old_rss)


def calculate_deployment_status(
    deployment: Deployment, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet | None
) -> DeploymentStatus:
    """``calculateStatus`` of the Deployment controller (without conditions).  ``O(n)``.

    ``unavailableReplicas`` is ``sum(spec.replicas) - available`` (not below 0), as upstream.
    When the result equals ``deployment.status``, that object itself is returned (no object
    is built for a sync that writes no status).
    """
    available = replicas = ready = total = 0
    for rs in all_rss:
        st = rs.status
        available += st.available_replicas
        replicas += st.replicas
        ready += st.ready_replicas
        r = rs.spec.replicas
        total += 1 if r is None else r
    generation = deployment.metadata.generation
    updated = new_rs.status.replicas if new_rs is not None else 0
    unavailable = max(0, total - available)
    old = deployment.status
    if (
        old.observed_generation == generation
        and old.replicas == replicas
        and old.updated_replicas == updated
        and old.ready_replicas == ready
        and old.available_replicas == available
        and old.unavailable_replicas == unavailable
    ):
        return old
    return DeploymentStatus(
        observed_generation=generation,
        replicas=replicas,
        updated_replicas=updated,
        ready_replicas=ready,
        available_replicas=available,
        unavailable_replicas=unavailable,
    )


def deployment_complete(deployment: Deployment, status: DeploymentStatus) -> bool:
    """``DeploymentComplete``: every desired replica updated and available, no old pods, and
    the generation observed.  ``O(1)``."""
    d = deployment_replicas(deployment)
    return (
        status.updated_replicas == d
        and status.replicas == d
        and status.available_replicas == d
        and status.observed_generation >= deployment.metadata.generation
    )
