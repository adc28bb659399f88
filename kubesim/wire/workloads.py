"""apps/v1 Deployment and ReplicaSet: their protobuf encoders and the sizers of
their all-integer statuses (``_int_fields_json``, ``_int_fields_proto``).

Imports: :mod:`kubesim.objects`, and the lower wire layers :mod:`~kubesim.wire.protobuf`,
:mod:`~kubesim.wire.meta`, :mod:`~kubesim.wire.pods` (the pod template).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from kubesim.objects import (
    DaemonSet,
    DaemonSetSpec,
    DaemonSetStatus,
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    RollingUpdateDeployment,
    StatefulSet,
    StatefulSetSpec,
    StatefulSetStatus,
)
from kubesim.wire.meta import _label_selector, _object_meta
from kubesim.wire.pods import _pod_template
from kubesim.wire.protobuf import _bool, _int, _int_or_string, _msg, _opt_int, _str

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


def _stateful_set_spec(s: StatefulSetSpec) -> bytes:
    st = s.update_strategy
    ru = st.rolling_update
    strategy = _str(1, st.type) + (
        b"" if ru is None else _msg(2, _opt_int(1, ru.partition)
                                    + (b"" if ru.max_unavailable is None else _msg(2, _int_or_string(ru.max_unavailable))))
    )
    return b"".join(
        (
            _opt_int(1, s.replicas),
            b"" if s.selector is None else _msg(2, _label_selector(s.selector)),
            _msg(3, _pod_template(s.template)),
            _str(5, s.service_name),
            _str(6, s.pod_management_policy),
            _msg(7, strategy),
            _opt_int(8, s.revision_history_limit),
            _int(9, s.min_ready_seconds),
        )
    )


def _stateful_set_status(s: StatefulSetStatus) -> bytes:
    return b"".join(
        (
            _int(1, s.observed_generation),
            _int(2, s.replicas),
            _int(3, s.ready_replicas),
            _int(4, s.current_replicas),
            _int(5, s.updated_replicas),
            _str(6, s.current_revision),
            _str(7, s.update_revision),
            _opt_int(9, s.collision_count),
            _int(11, s.available_replicas),
        )
    )


def _stateful_set(s: StatefulSet, include_rv: bool) -> bytes:
    return (
        _msg(1, _object_meta(s.metadata, include_rv))
        + _msg(2, _stateful_set_spec(s.spec))
        + _msg(3, _stateful_set_status(s.status))
    )


def _daemon_set_spec(s: DaemonSetSpec) -> bytes:
    st = s.update_strategy
    ru = st.rolling_update
    strategy = _str(1, st.type) + (
        b"" if ru is None else _msg(
            2,
            (b"" if ru.max_unavailable is None else _msg(1, _int_or_string(ru.max_unavailable)))
            + (b"" if ru.max_surge is None else _msg(2, _int_or_string(ru.max_surge))),
        )
    )
    return b"".join(
        (
            b"" if s.selector is None else _msg(1, _label_selector(s.selector)),
            _msg(2, _pod_template(s.template)),
            _msg(3, strategy),
            _int(4, s.min_ready_seconds),
            _opt_int(6, s.revision_history_limit),
        )
    )


def _daemon_set_status(s: DaemonSetStatus) -> bytes:
    return b"".join(
        (
            _int(1, s.current_number_scheduled),
            _int(2, s.number_misscheduled),
            _int(3, s.desired_number_scheduled),
            _int(4, s.number_ready),
            _int(5, s.observed_generation),
            _int(6, s.updated_number_scheduled),
            _int(7, s.number_available),
            _int(8, s.number_unavailable),
            _opt_int(9, s.collision_count),
        )
    )


def _daemon_set(d: DaemonSet, include_rv: bool) -> bytes:
    return (
        _msg(1, _object_meta(d.metadata, include_rv))
        + _msg(2, _daemon_set_spec(d.spec))
        + _msg(3, _daemon_set_status(d.status))
    )


def _int_fields_json(fields: tuple[tuple[str, str, bool], ...]) -> Callable[[Any], int]:
    """JSON size of a struct of integer fields ``(json key, attribute, omitempty)``."""
    assert len(fields) > 1  # attrgetter of several names: a tuple
    keys = tuple((len(f'"{key}":'), omit) for key, _, omit in fields)
    values = operator.attrgetter(*(attr for _, attr, _ in fields))

    def size(x: Any) -> int:
        n = k = 0
        for (key_len, omit), v in zip(keys, values(x), strict=True):
            if v or not omit:
                n += key_len + len(str(v))
                k += 1
        return 2 + n + (k - 1 if k else 0)

    return size


def _int_fields_proto(attrs_: tuple[str, ...]) -> Callable[[Any], int]:
    """Protobuf body size of a message of always-written one-byte-tag varint fields."""

    assert len(attrs_) > 1  # attrgetter of several names: a tuple
    values = operator.attrgetter(*attrs_)

    def size(x: Any) -> int:
        # 1 + sov(v) each, sov written out (a negative int32 takes 10 bytes)
        return sum([11 if v < 0 else 1 + ((v | 1).bit_length() + 6) // 7 for v in values(x)])

    return size
