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
"""

from __future__ import annotations

import heapq
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import attrs

from kubesim.errors import FieldError, InvalidObject, InvalidOption
from kubesim.objects import (
    ContainerPort,  # noqa: F401 - used by the canonical_dump doctest
    Deployment,
    DeploymentStatus,
    DeploymentStrategy,
    IntOrString,
    LabelSelector,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    RollingUpdateDeployment,
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
    "get_pods_to_delete",
    "slow_start_batches",
    "replicas_diff",
    "calculate_replica_set_status",
    "calculate_deployment_status",
    "deployment_complete",
]

#: ``apps.DefaultDeploymentUniqueLabelKey``.
DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY = "pod-template-hash"
#: The revision of a Deployment's ReplicaSet.
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
#: ``spec.replicas`` of the Deployment when it last scaled this ReplicaSet.
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
#: ``spec.replicas + maxSurge`` of the Deployment when it last scaled this ReplicaSet.
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
#: The pod annotation read by the ReplicaSet's deletion ranking (``PodDeletionCost``).
POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
#: ``replicaset.BurstReplicas``: the most pods one ReplicaSet sync creates or deletes.
BURST_REPLICAS = 500
#: ``controller.SlowStartInitialBatchSize``.
SLOW_START_INITIAL_BATCH_SIZE = 1

ROLLING_UPDATE = "RollingUpdate"
RECREATE = "Recreate"

_DEFAULT_FENCEPOST = "25%"
_PERCENT_DETAIL = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)
_GO_ATOI = re.compile(r"[+-]?[0-9]+\Z")


# --------------------------------------------------------------------------------------------
# Fenceposts


def _atoi(text: str, original: str) -> int:
    # Go's strconv.Atoi: optional sign, ASCII digits only.
    if not _GO_ATOI.match(text):
        raise InvalidOption(
            f'invalid value for IntOrString: invalid value "{original}": '
            f'strconv.Atoi: parsing "{text}": invalid syntax'
        )
    return int(text)


def scaled_value_from_int_or_percent(value: IntOrString | None, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: an int as is, ``"N%"`` of ``total`` rounded
    up (``round_up``) or down.  ``O(len(value))``.

    A string without a trailing ``%`` or with a non-integer number raises
    :class:`~kubesim.errors.InvalidOption` with the upstream message.

    >>> scaled_value_from_int_or_percent("25%", 10, True), scaled_value_from_int_or_percent("25%", 10, False)
    (3, 2)
    """
    if value is None:
        raise InvalidOption("nil value for IntOrString")
    if isinstance(value, bool):
        raise InvalidOption("invalid value for IntOrString: invalid type: neither int nor percentage")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise InvalidOption("invalid value for IntOrString: invalid type: neither int nor percentage")
    if not value.endswith("%"):
        raise InvalidOption("invalid value for IntOrString: invalid type: string is not a percentage")
    pct = _atoi(value[:-1], value)
    # Exact integer arithmetic; upstream's float64 gives the same result for int32 inputs.
    if round_up:
        return -((-pct * total) // 100)
    return (pct * total) // 100


def resolve_fenceposts(
    max_surge: IntOrString | None, max_unavailable: IntOrString | None, desired: int
) -> tuple[int, int]:
    """``ResolveFenceposts``: ``(surge, unavailable)`` for ``desired`` replicas.  ``O(1)``.

    Surge percentages round up, unavailable percentages round down; ``None`` counts as ``0``.
    When both resolve to ``0`` the unavailable budget becomes ``1`` (validation forbids both
    being zero literally, but rounding down can make them so).

    >>> resolve_fenceposts("25%", "25%", 10)
    (3, 2)
    >>> resolve_fenceposts(0, "1%", 2)
    (0, 1)
    """
    surge = scaled_value_from_int_or_percent(0 if max_surge is None else max_surge, desired, True)
    unavailable = scaled_value_from_int_or_percent(
        0 if max_unavailable is None else max_unavailable, desired, False
    )
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def effective_strategy(deployment: Deployment) -> DeploymentStrategy:
    """``spec.strategy`` with the apps/v1 defaults applied (``RollingUpdate``, 25%/25%). ``O(1)``."""
    strategy = deployment.spec.strategy
    type_ = strategy.type or ROLLING_UPDATE
    if type_ != ROLLING_UPDATE:
        return strategy if strategy.type else attrs.evolve(strategy, type=type_)
    ru = strategy.rolling_update or RollingUpdateDeployment()
    if ru.max_surge is None or ru.max_unavailable is None:
        ru = RollingUpdateDeployment(
            max_unavailable=_DEFAULT_FENCEPOST if ru.max_unavailable is None else ru.max_unavailable,
            max_surge=_DEFAULT_FENCEPOST if ru.max_surge is None else ru.max_surge,
        )
    return DeploymentStrategy(type=type_, rolling_update=ru)


def deployment_replicas(deployment: Deployment) -> int:
    """``*deployment.Spec.Replicas`` with the API default (``1``) for an absent value."""
    r = deployment.spec.replicas
    return 1 if r is None else r


def rs_replicas(rs: ReplicaSet) -> int:
    """``*rs.Spec.Replicas`` with the API default (``1``) for an absent value."""
    r = rs.spec.replicas
    return 1 if r is None else r


def _fenceposts(deployment: Deployment) -> tuple[int, int]:
    ru = effective_strategy(deployment).rolling_update
    assert ru is not None
    try:
        return resolve_fenceposts(ru.max_surge, ru.max_unavailable, deployment_replicas(deployment))
    except InvalidOption:
        errors = []
        for field, value in (("maxSurge", ru.max_surge), ("maxUnavailable", ru.max_unavailable)):
            try:
                scaled_value_from_int_or_percent(value, 0, True)
            except InvalidOption:
                errors.append(
                    FieldError(f"spec.strategy.rollingUpdate.{field}", "Invalid value", value, _PERCENT_DETAIL)
                )
        raise InvalidObject("Deployment", deployment.metadata.name, errors) from None


def _is_rolling(deployment: Deployment) -> bool:
    return effective_strategy(deployment).type == ROLLING_UPDATE


def max_surge(deployment: Deployment) -> int:
    """``MaxSurge``: 0 unless the strategy is ``RollingUpdate``.  ``O(1)``.

    Raises :class:`~kubesim.errors.InvalidObject` (``spec.strategy.rollingUpdate.maxSurge``) for
    a malformed value.
    """
    if not _is_rolling(deployment):
        return 0
    return _fenceposts(deployment)[0]


def max_unavailable(deployment: Deployment) -> int:
    """``MaxUnavailable``: 0 unless ``RollingUpdate`` with replicas > 0; at most replicas. ``O(1)``."""
    replicas = deployment_replicas(deployment)
    if not _is_rolling(deployment) or replicas == 0:
        return 0
    return min(_fenceposts(deployment)[1], replicas)


def min_available(deployment: Deployment) -> int:
    """``MinAvailable``: ``replicas - maxUnavailable`` (0 for ``Recreate``).  ``O(1)``."""
    if not _is_rolling(deployment):
        return 0
    return deployment_replicas(deployment) - max_unavailable(deployment)


# --------------------------------------------------------------------------------------------
# pod-template-hash

#: ``k8s.io/apimachinery/pkg/util/rand`` alphabet: no vowels, no confusable characters.
_SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode_string(s: str) -> str:
    """``rand.SafeEncodeString``: map every byte to the safe alphabet (``byte % 27``). ``O(n)``.

    >>> safe_encode_string("0123456789")
    '456789bcdf'
    """
    return "".join(_SAFE_ALPHANUMS[b % len(_SAFE_ALPHANUMS)] for b in s.encode("utf-8"))


def fnv32a(data: bytes, h: int = 0x811C9DC5) -> int:
    """The 32-bit FNV-1a hash of ``data`` (continuing from ``h``).  ``O(n)``.

    >>> hex(fnv32a(b"a"))
    '0xe40c292c'
    """
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def canonical_dump(obj: object) -> str:
    """The canonical text kubesim hashes for a pod template.  ``O(size of obj)``.

    Upstream feeds ``spew``'s ``%#v`` dump of the Go struct to FNV-32a; those bytes cannot be
    reproduced from Python.  kubesim's canonical form is instead:

    * an attrs object: ``ClassName{field:value,...}`` with every field in declaration order
      (defaults included, so the form does not depend on how the object was built);
    * a string: its JSON-style double-quoted form (``repr`` of ``str`` is not used: it varies
      in quote choice); ``None``: ``nil``; booleans ``true``/``false``; ints in decimal;
    * a tuple: ``[a,b,...]`` in order; a mapping: ``map[k:v,...]`` sorted by key (as spew's
      ``SortKeys``).

    >>> canonical_dump(ContainerPort(container_port=80, name="http"))
    'ContainerPort{container_port:80,name:"http",protocol:"TCP",host_port:nil,host_ip:""}'
    """
    out: list[str] = []
    _dump(obj, out)
    return "".join(out)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dump(obj: object, out: list[str]) -> None:
    if obj is None:
        out.append("nil")
    elif isinstance(obj, bool):
        out.append("true" if obj else "false")
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, float):
        out.append(repr(obj))
    elif isinstance(obj, str):
        out.append(_quote(obj))
    elif isinstance(obj, (tuple, list)):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _dump(item, out)
        out.append("]")
    elif isinstance(obj, Mapping):
        out.append("map[")
        for i, key in enumerate(sorted(obj)):
            if i:
                out.append(",")
            out.append(_quote(str(key)))
            out.append(":")
            _dump(obj[key], out)
        out.append("]")
    elif attrs.has(type(obj)):
        out.append(type(obj).__name__)
        out.append("{")
        for i, field in enumerate(attrs.fields(cast(Any, type(obj)))):
            if i:
                out.append(",")
            out.append(field.name)
            out.append(":")
            _dump(getattr(obj, field.name), out)
        out.append("}")
    else:  # pragma: no cover - the object model holds nothing else
        raise TypeError(f"cannot hash a {type(obj).__name__}")


def pod_template_hash(template: PodTemplateSpec, collision_count: int | None = None) -> str:
    """``controller.ComputeHash``: the ``pod-template-hash`` label value.  ``O(size)``.

    FNV-32a over :func:`canonical_dump` of ``template``; when ``collision_count`` is not
    ``None`` (``deployment.status.collisionCount``) its 32-bit little-endian value padded to 8
    bytes is hashed after it, as upstream does, so ``0`` and ``None`` differ.  The 32-bit sum
    is printed in decimal and rendered with :func:`safe_encode_string`, giving upstream's shape
    (up to 10 characters from ``bcdfghjklmnpqrstvwxz2456789``).  Stable across Python runs.
    Pass the Deployment's template (which carries no ``pod-template-hash`` label).
    """
    h = fnv32a(canonical_dump(template).encode("utf-8"))
    if collision_count is not None:
        h = fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\x00" * 4, h)
    return safe_encode_string(str(h))


#: Every ``ObjectMeta`` field but ``labels``, read at once (compared as one tuple).
_META_BUT_LABELS = operator.attrgetter(*(f.name for f in attrs.fields(ObjectMeta) if f.name != "labels"))


def equal_ignore_hash(t1: PodTemplateSpec, t2: PodTemplateSpec) -> bool:
    """``EqualIgnoreHash``: templates equal apart from the ``pod-template-hash`` label. ``O(size)``.

    Called for every ReplicaSet on every Deployment sync, so it builds nothing: the labels are
    compared without the hash key, the other metadata fields as one tuple, and sub-objects
    shared by the two templates (a ReplicaSet's ``spec`` is usually the Deployment's own) are
    equal by identity.
    """
    if t1 is t2:
        return True
    m1, m2 = t1.metadata, t2.metadata
    if m1 is not m2:
        key = DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY
        l1, l2 = m1.labels, m2.labels
        if l1 is not l2 and l1.without(key) != l2.without(key):
            return False
        if _META_BUT_LABELS(m1) != _META_BUT_LABELS(m2):
            return False
    return t1.spec is t2.spec or t1.spec == t2.spec


def _by_creation(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    # controller.ReplicaSetsByCreationTimestamp (ties by name), a None timestamp sorts first.
    return sorted(
        rss,
        key=lambda rs: (
            rs.metadata.creation_timestamp is not None,
            rs.metadata.creation_timestamp or 0,
            rs.metadata.name,
        ),
    )


def find_new_replica_set(deployment: Deployment, rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """``FindNewReplicaSet``: the oldest ReplicaSet whose template equals the Deployment's
    (ignoring the hash label), or ``None``.  ``O(n log n)``."""
    for rs in _by_creation(rss):
        if equal_ignore_hash(rs.spec.template, deployment.spec.template):
            return rs
    return None


def find_old_replica_sets(
    deployment: Deployment, rss: Sequence[ReplicaSet]
) -> tuple[list[ReplicaSet], list[ReplicaSet]]:
    """``FindOldReplicaSets``: ``(old ones with replicas != 0, all old ones)``. ``O(n log n)``."""
    new = find_new_replica_set(deployment, rss)
    required: list[ReplicaSet] = []
    every: list[ReplicaSet] = []
    for rs in rss:
        if new is not None and rs.metadata.name == new.metadata.name:  # upstream compares UIDs
            continue
        every.append(rs)
        if rs_replicas(rs) != 0:
            required.append(rs)
    return required, every


def _revision(rs: ReplicaSet) -> int:
    try:
        return int(rs.metadata.annotations.get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


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


def apply_scale_decision(rs: ReplicaSet, decision: ScaleDecision) -> ReplicaSet:
    """The ReplicaSet as ``scaleReplicaSet`` writes it.  ``O(annotations)``."""
    ann = rs.metadata.annotations.set(DESIRED_REPLICAS_ANNOTATION, str(decision.desired_replicas)).set(
        MAX_REPLICAS_ANNOTATION, str(decision.max_replicas)
    )
    return attrs.evolve(
        rs,
        metadata=attrs.evolve(rs.metadata, annotations=ann),
        spec=attrs.evolve(rs.spec, replicas=decision.replicas),
    )


def _apply_all(rss: Sequence[ReplicaSet], decisions: Sequence[ScaleDecision]) -> list[ReplicaSet]:
    by_name = {d.rs_name: d for d in decisions}
    return [apply_scale_decision(rs, by_name[rs.metadata.name]) if rs.metadata.name in by_name else rs for rs in rss]


def _sum_replicas(rss: Iterable[ReplicaSet | None]) -> int:
    return sum(rs_replicas(rs) for rs in rss if rs is not None)


def _sum_available(rss: Iterable[ReplicaSet | None]) -> int:
    return sum(rs.status.available_replicas for rs in rss if rs is not None)


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
    for rs in _active(rss):
        desired = _desired_annotation(rs)
        if desired is not None and desired != d:
            return True
    return False


def plan_deployment_sync(
    deployment: Deployment,
    rss: Sequence[ReplicaSet],
    *,
    old_pods_running: bool = False,
    fix_stale_annotations: bool = False,
) -> list[ScaleDecision]:
    """The scaling half of ``syncDeployment`` for the Deployment's ReplicaSets.  ``O(n log n)``.

    Deleted Deployments do nothing; paused ones and scaling events go through :func:`scale`;
    otherwise the strategy's rollout step runs.  Creating the new RS (when
    :func:`find_new_replica_set` finds none) is the caller's job: for ``RollingUpdate`` create
    :func:`new_replica_set` before calling; for ``Recreate`` create it once this returns ``[]``
    and ``old_pods_running`` is false.  ``fix_stale_annotations`` is passed to :func:`scale`.
    """
    if deployment.metadata.deletion_timestamp is not None:
        return []
    new_rs = find_new_replica_set(deployment, rss)
    _, old_rss = find_old_replica_sets(deployment, rss)
    if deployment.spec.paused or is_scaling_event(deployment, rss):
        return scale(deployment, new_rs, old_rss, fix_stale_annotations=fix_stale_annotations)
    strategy = effective_strategy(deployment).type
    if strategy == RECREATE:
        return rollout_recreate(deployment, new_rs, old_rss, old_pods_running=old_pods_running)
    if new_rs is None:
        return []
    return rollout_rolling(deployment, new_rs, old_rss)


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
    first; more container restarts first (``restart_count``; kubesim's PodStatus has no
    container statuses, so default 0); created more recently first.  With ``now`` given the
    two time rules compare ``log2`` buckets of the age in nanoseconds (``LogarithmicScaleDown``,
    GA) and break bucket ties by UID; without it they compare exact times.  A missing time
    ranks first.  Remaining ties: namespace/name (Go's unstable sort leaves these arbitrary).
    With ``limit``, only the first ``limit`` pods are returned, selected in ``O(n log limit)``
    (what a scale-down by ``limit`` needs).
    """
    pods = list(pods)
    counts = node_pod_counts if node_pod_counts is not None else node_pod_counts_of(pods)
    restarts = restart_count or (lambda p: 0)

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


def calculate_deployment_status(
    deployment: Deployment, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet | None
) -> DeploymentStatus:
    """``calculateStatus`` of the Deployment controller (without conditions).  ``O(n)``.

    ``unavailableReplicas`` is ``sum(spec.replicas) - available`` (not below 0), as upstream.
    """
    available = _sum_available(all_rss)
    total = _sum_replicas(all_rss)
    return DeploymentStatus(
        observed_generation=deployment.metadata.generation,
        replicas=sum(rs.status.replicas for rs in all_rss),
        updated_replicas=new_rs.status.replicas if new_rs is not None else 0,
        ready_replicas=sum(rs.status.ready_replicas for rs in all_rss),
        available_replicas=available,
        unavailable_replicas=max(0, total - available),
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

