"""apps/v1 Deployment and ReplicaSet validation (``pkg/apis/apps/validation``):
selector and template (memoised by identity), strategy and rolling-update parameters,
replicas, progress deadline, and the immutable selector on update.

Imports: :mod:`kubesim.labels`, :mod:`kubesim.errors`, :mod:`kubesim.objects`,
:mod:`kubesim.validation.base`, :mod:`kubesim.validation.meta`,
:mod:`kubesim.validation.pods` (the pod spec of a template).
"""

from __future__ import annotations

from typing import Any

from kubesim import labels as L
from kubesim.errors import InvalidSelector
from kubesim.objects import (
    DaemonSet,
    Deployment,
    LabelSelector,
    PodTemplateSpec,
    ReplicaSet,
    RollingUpdateDeployment,
    StatefulSet,
)
from kubesim.validation.base import _IMMUTABLE, _Errs, _Json, _ValidByIdentity
from kubesim.validation.meta import (
    _annotation_errors,
    _label_errors,
    _label_selector_errors,
    _meta_errors,
    _selector_json,
)
from kubesim.validation.pods import _pod_spec_errors

_VALID_TEMPLATES = _ValidByIdentity()


# --------------------------------------------------------------------------------------------
# apps/v1


def _percent(v: int | str | None) -> int | None:
    if isinstance(v, str) and not L.is_valid_percent(v):
        return int(v[:-1])
    return None


def _int_or_percent_value(v: int | str | None) -> int:
    pct = _percent(v)
    if pct is not None:
        return pct
    if isinstance(v, int):
        return v
    if isinstance(v, str):  # intstr.IntValue() of a non-number string is 0
        try:
            return int(v)
        except ValueError:
            return 0
    return 0


def _rolling_update_errors(e: _Errs, ru: RollingUpdateDeployment, path: str) -> None:
    for name, v in (("maxUnavailable", ru.max_unavailable), ("maxSurge", ru.max_surge)):
        p = f"{path}.{name}"
        if isinstance(v, str):
            e.invalid_msgs(p, v, L.is_valid_percent(v))
        elif isinstance(v, int):
            e.nonnegative(p, v)
    if _int_or_percent_value(ru.max_unavailable) == 0 and _int_or_percent_value(ru.max_surge) == 0:
        e.invalid(path + ".maxUnavailable", ru.max_unavailable, "may not be 0 when `maxSurge` is 0")
    pct = _percent(ru.max_unavailable)
    if pct is not None and pct > 100:
        e.invalid(path + ".maxUnavailable", ru.max_unavailable, "must not be greater than 100%")


def _selector_and_template_errors(
    e: _Errs, selector: LabelSelector | None, template: PodTemplateSpec, path: str
) -> None:
    key = (selector, template)
    if key in _VALID_TEMPLATES:
        return
    n = len(e.items)
    _selector_and_template_errors_uncached(e, selector, template, path)
    if len(e.items) == n:
        _VALID_TEMPLATES.add(key)


def _selector_and_template_errors_uncached(
    e: _Errs, selector: LabelSelector | None, template: PodTemplateSpec, path: str
) -> None:
    if selector is None:
        e.required(path + ".selector")
    else:
        _label_selector_errors(e, selector, path + ".selector")
        if not selector.match_labels and not selector.match_expressions:
            e.invalid(path + ".selector", _Json(_selector_json(selector)), "empty selector is invalid for deployment")
    try:
        sel = L.selector_from_label_selector(selector)
    except InvalidSelector:
        e.invalid(path + ".selector", _Json(_selector_json(selector)), "invalid label selector")  # type: ignore[arg-type]
        return
    tp = path + ".template"
    tlabels = template.metadata.labels
    if not sel.empty and not sel.matches(tlabels):
        e.invalid(
            tp + ".metadata.labels",
            _Json({k: tlabels[k] for k in sorted(tlabels)}),
            "`selector` does not match template `labels`",
        )
    _label_errors(e, tlabels, tp + ".metadata.labels")
    _annotation_errors(e, template.metadata.annotations, tp + ".metadata.annotations")
    _pod_spec_errors(e, template.spec, tp + ".spec")
    if template.spec.restart_policy != "Always":
        e.not_supported(tp + ".spec.restartPolicy", template.spec.restart_policy, ("Always",))


def _validate_deployment(e: _Errs, d: Deployment, old: Deployment | None) -> None:
    _meta_errors(e, d.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    spec = d.spec
    if spec.replicas is not None:
        e.nonnegative("spec.replicas", spec.replicas)
    _selector_and_template_errors(e, spec.selector, spec.template, "spec")
    st = spec.strategy
    sp = "spec.strategy"
    if st.type == "Recreate":
        if st.rolling_update is not None:
            e.forbidden(sp + ".rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
    elif st.type == "RollingUpdate" or st.type == "":
        # An empty type is defaulted to RollingUpdate with 25%/25%.
        if st.rolling_update is not None:
            _rolling_update_errors(e, st.rolling_update, sp + ".rollingUpdate")
    else:
        value: dict[str, Any] = {"type": st.type}
        if st.rolling_update is not None:
            ru: dict[str, Any] = {}
            if st.rolling_update.max_unavailable is not None:
                ru["maxUnavailable"] = st.rolling_update.max_unavailable
            if st.rolling_update.max_surge is not None:
                ru["maxSurge"] = st.rolling_update.max_surge
            value["rollingUpdate"] = ru
        e.not_supported(sp, _Json(value), ("Recreate", "RollingUpdate"))
    e.nonnegative("spec.minReadySeconds", spec.min_ready_seconds)
    if spec.revision_history_limit is not None:
        e.nonnegative("spec.revisionHistoryLimit", spec.revision_history_limit)
    if spec.progress_deadline_seconds is not None:
        if spec.progress_deadline_seconds <= 0:
            e.invalid("spec.progressDeadlineSeconds", spec.progress_deadline_seconds, "must be greater than zero")
        if spec.progress_deadline_seconds <= spec.min_ready_seconds:
            e.invalid(
                "spec.progressDeadlineSeconds", spec.progress_deadline_seconds, "must be greater than minReadySeconds"
            )
    if old is not None and spec.selector != old.spec.selector:
        e.invalid("spec.selector", _Json(_selector_json(spec.selector or LabelSelector())), _IMMUTABLE)


def _validate_replica_set(e: _Errs, rs: ReplicaSet, old: ReplicaSet | None) -> None:
    _meta_errors(e, rs.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    spec = rs.spec
    if spec.replicas is not None:
        e.nonnegative("spec.replicas", spec.replicas)
    e.nonnegative("spec.minReadySeconds", spec.min_ready_seconds)
    _selector_and_template_errors(e, spec.selector, spec.template, "spec")
    if old is not None and spec.selector != old.spec.selector:
        e.invalid("spec.selector", _Json(_selector_json(spec.selector or LabelSelector())), _IMMUTABLE)


def _validate_stateful_set(e: _Errs, s: StatefulSet, old: StatefulSet | None) -> None:
    """``ValidateStatefulSet`` (``pkg/apis/apps/validation``): replicas, selector and template,
    podManagementPolicy, updateStrategy and partition; the selector, serviceName and
    podManagementPolicy are immutable."""
    _meta_errors(e, s.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    spec = s.spec
    if spec.replicas is not None:
        e.nonnegative("spec.replicas", spec.replicas)
    e.nonnegative("spec.minReadySeconds", spec.min_ready_seconds)
    if spec.revision_history_limit is not None:
        e.nonnegative("spec.revisionHistoryLimit", spec.revision_history_limit)
    if spec.pod_management_policy not in ("", "OrderedReady", "Parallel"):
        e.not_supported("spec.podManagementPolicy", spec.pod_management_policy, ("OrderedReady", "Parallel"))
    st = spec.update_strategy
    if st.type not in ("", "RollingUpdate", "OnDelete"):
        e.not_supported("spec.updateStrategy.type", st.type, ("OnDelete", "RollingUpdate"))
    elif st.type == "OnDelete" and st.rolling_update is not None:
        e.invalid("spec.updateStrategy.rollingUpdate", _Json({}),
                  "only allowed for updateStrategy 'RollingUpdate'")
    if st.rolling_update is not None and st.rolling_update.partition is not None:
        e.nonnegative("spec.updateStrategy.rollingUpdate.partition", st.rolling_update.partition)
    _selector_and_template_errors(e, spec.selector, spec.template, "spec")
    # ValidateStatefulSetUpdate: only replicas, ordinals, template, updateStrategy,
    # revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and minReadySeconds may change
    if old is not None and (spec.selector != old.spec.selector or spec.service_name != old.spec.service_name
                            or spec.pod_management_policy != old.spec.pod_management_policy):
        e.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                            "'template', 'updateStrategy', 'revisionHistoryLimit', "
                            "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")


def _validate_daemon_set(e: _Errs, d: DaemonSet, old: DaemonSet | None) -> None:
    """``ValidateDaemonSet``: selector and template, updateStrategy; the selector is immutable."""
    _meta_errors(e, d.metadata, old.metadata if old else None, True, L.is_dns1123_subdomain)
    spec = d.spec
    e.nonnegative("spec.minReadySeconds", spec.min_ready_seconds)
    if spec.revision_history_limit is not None:
        e.nonnegative("spec.revisionHistoryLimit", spec.revision_history_limit)
    st = spec.update_strategy
    if st.type not in ("", "RollingUpdate", "OnDelete"):
        e.not_supported("spec.updateStrategy.type", st.type, ("OnDelete", "RollingUpdate"))
    ru = st.rolling_update
    if ru is not None:
        for name, v in (("maxUnavailable", ru.max_unavailable), ("maxSurge", ru.max_surge)):
            p = f"spec.updateStrategy.rollingUpdate.{name}"
            if isinstance(v, str):
                e.invalid_msgs(p, v, L.is_valid_percent(v))
            elif isinstance(v, int):
                e.nonnegative(p, v)
        if _int_or_percent_value(ru.max_unavailable) == 0 and _int_or_percent_value(ru.max_surge) == 0:
            e.invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", ru.max_unavailable,
                      "may not be 0 when `maxSurge` is 0")
    _selector_and_template_errors(e, spec.selector, spec.template, "spec")
    if old is not None and spec.selector != old.spec.selector:
        e.invalid("spec.selector", _Json(_selector_json(spec.selector or LabelSelector())), _IMMUTABLE)
