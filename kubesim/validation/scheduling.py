"""Validation of a pod's tolerations and node affinity (``pkg/apis/core/validation``:
``ValidateTolerations``, ``validateTaintEffect``, ``ValidateNodeSelector``,
``ValidateNodeSelectorRequirement``, ``validateNodeFieldSelectorRequirement``,
``ValidatePreferredSchedulingTerms``), with the API server's messages and field paths.
``O(tolerations + terms)``.
"""

from __future__ import annotations

from kubesim import labels as L
from kubesim.objects import NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Toleration
from kubesim.validation.base import _Errs

__all__ = ["scheduling_errors"]

_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _go_toleration(t: Toleration) -> str:
    seconds = "(*int64)(nil)" if t.toleration_seconds is None else f"(*int64)({t.toleration_seconds})"
    return (f'core.Toleration{{Key:"{t.key}", Operator:"{t.operator}", Value:"{t.value}", '
            f'Effect:"{t.effect}", TolerationSeconds:{seconds}}}')


def _toleration_errors(e: _Errs, tolerations: tuple[Toleration, ...], path: str) -> None:
    for i, t in enumerate(tolerations):
        p = f"{path}[{i}]"
        if t.key:
            e.invalid_msgs(p + ".key", t.key, L.is_qualified_name(t.key))
        if not t.key and t.operator != "Exists":
            e.invalid(p + ".operator", t.operator,
                      'operator must be Exists when `key` is empty, which means "match all values and all keys"')
        if t.toleration_seconds is not None and t.effect != "NoExecute":
            e.invalid(p + ".effect", t.effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
        if t.operator in ("Equal", ""):
            msgs = L.is_valid_label_value(t.value)
            if msgs:
                e.invalid(p + ".operator", t.value, ";".join(msgs))
        elif t.operator == "Exists":
            if t.value:
                e.invalid(p + ".operator", _go_toleration(t), "value must be empty when `operator` is 'Exists'")
        else:
            e.not_supported(p + ".operator", t.operator, ("Equal", "Exists"))
        if t.effect and t.effect not in _EFFECTS:
            e.not_supported(p + ".effect", t.effect, _EFFECTS)


def _requirement_errors(e: _Errs, r: NodeSelectorRequirement, path: str) -> None:
    if r.operator in ("In", "NotIn"):
        if not r.values:
            e.required(path + ".values", "must be specified when `operator` is 'In' or 'NotIn'")
    elif r.operator in ("Exists", "DoesNotExist"):
        if r.values:
            e.forbidden(path + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
    elif r.operator in ("Gt", "Lt"):
        if len(r.values) != 1:
            e.required(path + ".values", "must be specified single value when `operator` is 'Lt' or 'Gt'")
    else:
        e.invalid(path + ".operator", r.operator, "not a valid selector operator")
    e.invalid_msgs(path + ".key", r.key, L.is_qualified_name(r.key))
    for i, v in enumerate(r.values):
        e.invalid_msgs(f"{path}.values[{i}]", v, L.is_valid_label_value(v))


def _field_requirement_errors(e: _Errs, r: NodeSelectorRequirement, path: str) -> None:
    if r.operator in ("In", "NotIn"):
        if len(r.values) != 1:
            e.required(path + ".values",
                       "must be only one value when `operator` is 'In' or 'NotIn' for node field selector")
    else:
        e.invalid(path + ".operator", r.operator, "not a valid selector operator")
    if r.key != "metadata.name":
        e.not_supported(path + ".key", r.key, ("metadata.name",))
    else:
        for i, v in enumerate(r.values):
            e.invalid_msgs(f"{path}.values[{i}]", v, L.is_dns1123_subdomain(v))


def _term_errors(e: _Errs, term: NodeSelectorTerm, path: str) -> None:
    for j, r in enumerate(term.match_expressions):
        _requirement_errors(e, r, f"{path}.matchExpressions[{j}]")
    for j, r in enumerate(term.match_fields):
        _field_requirement_errors(e, r, f"{path}.matchFields[{j}]")


def scheduling_errors(e: _Errs, spec: PodSpec, path: str) -> None:
    """Collect the errors of ``spec.tolerations`` and ``spec.affinity.nodeAffinity``."""
    _toleration_errors(e, spec.tolerations, path + ".tolerations")
    na = spec.affinity.node_affinity if spec.affinity is not None else None
    if na is None:
        return
    base = path + ".affinity.nodeAffinity"
    required = na.required_during_scheduling_ignored_during_execution
    if required is not None:
        terms = base + ".requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
        if not required.node_selector_terms:
            e.required(terms, "must have at least one node selector term")
        for i, term in enumerate(required.node_selector_terms):
            _term_errors(e, term, f"{terms}[{i}]")
    for i, p in enumerate(na.preferred_during_scheduling_ignored_during_execution):
        pp = f"{base}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        if not 1 <= p.weight <= 100:
            e.invalid(pp + ".weight", p.weight, "must be in the range 1-100")
        _term_errors(e, p.preference, pp + ".preference")
