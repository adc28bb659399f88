"""apps/v1 Deployment and ReplicaSet: their protobuf encoders and the sizers of
their all-integer statuses (``_int_fields_json``, ``_int_fields_proto``).

Imports: :mod:`kubesim.objects`, and the lower wire layers :mod:`~kubesim.wire.protobuf`,
:mod:`~kubesim.wire.meta`, :mod:`~kubesim.wire.pods` (the pod template).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubesim.objects import (
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    RollingUpdateDeployment,
)
from kubesim.wire.meta import _label_selector, _object_meta
from kubesim.wire.pods import _pod_template
from kubesim.wire.protobuf import _bool, _int, _int_or_string, _msg, _opt_int, _str, sov

# --------------------------------------------------------------------------------------------
# apps/v1 (k8s.io/api apps/v1/generated.proto)


def _rolling_update(r: RollingUpdateDeployment) -> bytes:
    return (b"" if r.max_unavailable is None else _msg(1, _int_or_string(r.max_unavailable))) + (
        b"" if r.max_surge is None else _msg(2, _int_or_string(r.max_surge))
    )


def _deployment_strategy(s: DeploymentStrategy) -> bytes:
    ru = b"" if s.rolling_update is None else _msg(2, _rolling_update(s.rolling_update))
    return _str(1, s.type) + ru


def _deployment_spec(s: DeploymentSpec) -> bytes:
    return b"".join(
        (
            _opt_int(1, s.replicas),
            b"" if s.selector is None else _msg(2, _label_selector(s.selector)),
            _msg(3, _pod_template(s.template)),
            _msg(4, _deployment_strategy(s.strategy)),
            _int(5, s.min_ready_seconds),
            _opt_int(6, s.revision_history_limit),
            _bool(7, s.paused),
            _opt_int(9, s.progress_deadline_seconds),
        )
    )


def _deployment_status(s: DeploymentStatus) -> bytes:
    return b"".join(
        (
            _int(1, s.observed_generation),
            _int(2, s.replicas),
            _int(3, s.updated_replicas),
            _int(4, s.available_replicas),
            _int(5, s.unavailable_replicas),
            _int(7, s.ready_replicas),
        )
    )


def _deployment(d: Deployment, include_rv: bool) -> bytes:
    return (
        _msg(1, _object_meta(d.metadata, include_rv))
        + _msg(2, _deployment_spec(d.spec))
        + _msg(3, _deployment_status(d.status))
    )


def _replica_set_spec(s: ReplicaSetSpec) -> bytes:
    return (
        _opt_int(1, s.replicas)
        + (b"" if s.selector is None else _msg(2, _label_selector(s.selector)))
        + _msg(3, _pod_template(s.template))
        + _int(4, s.min_ready_seconds)
    )


def _replica_set_status(s: ReplicaSetStatus) -> bytes:
    return (
        _int(1, s.replicas)
        + _int(2, s.fully_labeled_replicas)
        + _int(3, s.observed_generation)
        + _int(4, s.ready_replicas)
        + _int(5, s.available_replicas)
    )


def _replica_set(r: ReplicaSet, include_rv: bool) -> bytes:
    return (
        _msg(1, _object_meta(r.metadata, include_rv))
        + _msg(2, _replica_set_spec(r.spec))
        + _msg(3, _replica_set_status(r.status))
    )


def _int_fields_json(fields: tuple[tuple[str, str, bool], ...]) -> Callable[[Any], int]:
    """JSON size of a struct of integer fields ``(json key, attribute, omitempty)``."""
    keys = tuple((len(f'"{key}":'), attr, omit) for key, attr, omit in fields)

    def size(x: Any) -> int:
        n = k = 0
        for key_len, attr, omit in keys:
            v = getattr(x, attr)
            if v or not omit:
                n += key_len + len(str(v))
                k += 1
        return 2 + n + (k - 1 if k else 0)

    return size


def _int_fields_proto(attrs_: tuple[str, ...]) -> Callable[[Any], int]:
    """Protobuf body size of a message of always-written one-byte-tag varint fields."""

    def size(x: Any) -> int:
        return sum([1 + sov(getattr(x, a)) for a in attrs_])

    return size
