"""Deployment strategy parameters (``k8s.io/apimachinery/pkg/util/intstr``,
``pkg/controller/deployment/util/deployment_util.go``): the strategy with its apps/v1
defaults (:func:`effective_strategy`), desired replica counts (:func:`deployment_replicas`,
:func:`rs_replicas`), and the fenceposts (:func:`scaled_value_from_int_or_percent`,
:func:`resolve_fenceposts`, :func:`max_surge`, :func:`max_unavailable`,
:func:`min_available`), with upstream's errors for a bad percentage.

Pure functions of API objects. Imports: :mod:`kubesim.objects`, :mod:`kubesim.errors` (the
bottom layer of the workload algorithms; :mod:`.rollout` re-exports every public name).
"""

from __future__ import annotations

import re

import attrs

from kubesim._memo import ByIdentity
from kubesim.errors import FieldError, InvalidObject, InvalidOption
from kubesim.objects import (
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    IntOrString,
    ReplicaSet,
    RollingUpdateDeployment,
)

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


def _defaulted(strategy: DeploymentStrategy) -> DeploymentStrategy:
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


#: ``_defaulted`` by the identity of the (frozen) strategy: a Deployment sync asks for its
#: strategy, surge and unavailable budget a dozen times, of the same ``spec.strategy`` object.
_DEFAULTED: ByIdentity[DeploymentStrategy, DeploymentStrategy] = ByIdentity(_defaulted, 1024)


def effective_strategy(deployment: Deployment) -> DeploymentStrategy:
    """``spec.strategy`` with the apps/v1 defaults applied (``RollingUpdate``, 25%/25%).
    ``O(1)``; memoised by the strategy object's identity (a pure function of a frozen object,
    so a hit is what a call would return)."""
    return _DEFAULTED(deployment.spec.strategy)


def deployment_replicas(deployment: Deployment) -> int:
    """``*deployment.Spec.Replicas`` with the API default (``1``) for an absent value."""
    r = deployment.spec.replicas
    return 1 if r is None else r


def rs_replicas(rs: ReplicaSet) -> int:
    """``*rs.Spec.Replicas`` with the API default (``1``) for an absent value."""
    r = rs.spec.replicas
    return 1 if r is None else r


def _spec_fenceposts(spec: DeploymentSpec) -> tuple[int, int] | None:
    # resolve_fenceposts of a rolling update's spec, None when a value is malformed.
    ru = _DEFAULTED(spec.strategy).rolling_update
    assert ru is not None
    try:
        return resolve_fenceposts(ru.max_surge, ru.max_unavailable, 1 if spec.replicas is None else spec.replicas)
    except InvalidOption:
        return None


#: ``_spec_fenceposts`` by the identity of the (frozen) ``DeploymentSpec``.
_SPEC_FENCEPOSTS: ByIdentity[DeploymentSpec, tuple[int, int] | None] = ByIdentity(_spec_fenceposts, 1024)


def _fenceposts(deployment: Deployment) -> tuple[int, int]:
    # Of a rolling update only; memoised by the spec's identity, the error built anew.
    fp = _SPEC_FENCEPOSTS(deployment.spec)
    if fp is not None:
        return fp
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
