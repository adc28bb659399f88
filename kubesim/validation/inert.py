"""Validation of the inert kinds (:mod:`kubesim.inert`): the metadata as each kind's registry
validates it, the checks of ConfigMap and Secret (``pkg/apis/core/validation``
``ValidateConfigMap``/``ValidateSecret``): keys, the 1 MiB data limit, immutability; and a few
spec checks (:data:`_SPEC_CHECKS`): RBAC rules' verbs and bindings' ``roleRef``/subjects, an
Ingress path's ``pathType``, a Job's (and CronJob's) pod ``restartPolicy`` and a CronJob's
``schedule``. Everything else in an inert object's spec is accepted unchecked.

Names: RBAC kinds use ``ValidateRBACName`` (a path segment: not ``.``/``..``, no ``/`` or
``%``); a CronJob's name is at most 52 characters (its Jobs append 11); every other inert kind
uses a DNS subdomain. Costs: ``O(size of the object)``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from kubesim import labels as L
from kubesim.validation.base import _Errs
from kubesim.validation.meta import _meta_errors

__all__ = ["validate_inert", "MAX_SECRET_SIZE"]

#: ``core.MaxSecretSize``: ConfigMap and Secret data together at most 1 MiB.
MAX_SECRET_SIZE = 1024 * 1024
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
_RBAC = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def _path_segment(name: str) -> tuple[str, ...]:
    """``path.IsValidPathSegmentName``."""
    if name in (".", ".."):
        return (f"may not be '{name}'",)
    out = []
    for c in ("/", "%"):
        if c in name:
            out.append(f"may not contain '{c}'")
    return tuple(out)


def _cronjob_name(name: str) -> tuple[str, ...]:
    msgs = L.is_dns1123_subdomain(name)
    if len(name) > 52:
        return (*msgs, "must be no more than 52 characters")
    return msgs


def _config_key(key: str) -> tuple[str, ...]:
    """``validation.IsConfigMapKey``."""
    out = []
    if len(key) > 253:
        out.append("must be no more than 253 characters")
    if not _CONFIG_KEY.match(key):
        out.append(_CONFIG_KEY_MSG)
    if key in (".", ".."):
        out.append(f"must not be '{key}'")
    elif key.startswith(".."):
        out.append("must not start with '..'")
    return tuple(out)


def _data_size(e: _Errs, path: str, data: Any, binary: bool) -> int:
    if data is None:
        return 0
    if not isinstance(data, dict):
        e.invalid(path, str(data)[:64], "must be a map of strings")
        return 0
    total = 0
    for k, v in data.items():
        e.invalid_msgs(f"{path}[{k}]", k, _config_key(k))
        if not isinstance(v, str):
            e.invalid(f"{path}[{k}]", v, "must be a string")
            continue
        if binary:
            try:
                total += len(k) + len(base64.b64decode(v, validate=True))
            except (binascii.Error, ValueError):
                e.invalid(f"{path}[{k}]", "<value>", "illegal base64 data")
        else:
            total += len(k) + len(v.encode("utf-8", "surrogatepass"))
    return total


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _rules(e: _Errs, body: dict[str, Any]) -> None:
    # ValidatePolicyRule
    for i, r in enumerate(_list(body.get("rules"))):
        if not _list(_dict(r).get("verbs")):
            e.required(f"rules[{i}].verbs", "verbs must contain at least one value")


def _binding(e: _Errs, body: dict[str, Any]) -> None:
    # ValidateRoleBinding: roleRef
    ref = _dict(body.get("roleRef"))
    if ref.get("kind") not in ("Role", "ClusterRole"):
        e.not_supported("roleRef.kind", ref.get("kind", ""), ("Role", "ClusterRole"))
    if not ref.get("name"):
        e.required("roleRef.name")
    for i, s in enumerate(_list(body.get("subjects"))):
        s = _dict(s)
        if not s.get("name"):
            e.required(f"subjects[{i}].name")
        if s.get("kind") not in ("ServiceAccount", "User", "Group"):
            e.not_supported(f"subjects[{i}].kind", s.get("kind", ""), ("ServiceAccount", "User", "Group"))


def _ingress(e: _Errs, body: dict[str, Any]) -> None:
    # validateHTTPIngressPath: pathType
    spec = _dict(body.get("spec"))
    for i, rule in enumerate(_list(spec.get("rules"))):
        for j, path in enumerate(_list(_dict(_dict(rule).get("http")).get("paths"))):
            if _dict(path).get("pathType") is None:
                e.required(f"spec.rules[{i}].http.paths[{j}].pathType", "pathType must be specified")


def _job_template(e: _Errs, template: Any, path: str) -> None:
    # ValidateJob: a Job's pods may not restart
    policy = _dict(_dict(template).get("spec")).get("restartPolicy") or "Always"
    if policy not in ("OnFailure", "Never"):
        e.not_supported(path + ".spec.restartPolicy", policy, ("OnFailure", "Never"))


def _job(e: _Errs, body: dict[str, Any]) -> None:
    _job_template(e, _dict(body.get("spec")).get("template"), "spec.template")


def _cronjob(e: _Errs, body: dict[str, Any]) -> None:
    spec = _dict(body.get("spec"))
    if not spec.get("schedule"):
        e.required("spec.schedule")
    _job_template(e, _dict(_dict(spec.get("jobTemplate")).get("spec")).get("template"), "spec.jobTemplate.spec.template")


#: the few spec checks kubesim makes of the inert kinds (their registries check much more)
_SPEC_CHECKS = {
    "Role": _rules, "ClusterRole": _rules, "RoleBinding": _binding, "ClusterRoleBinding": _binding,
    "Ingress": _ingress, "Job": _job, "CronJob": _cronjob,
}


def validate_inert(e: _Errs, obj: Any, old: Any) -> None:
    """Collect the field errors of an inert object (a create when ``old`` is ``None``)."""
    from kubesim.inert import INERT_KINDS, content

    kind = obj.kind
    namespaced = INERT_KINDS[kind][5]
    name_fn = _path_segment if kind in _RBAC else _cronjob_name if kind == "CronJob" else L.is_dns1123_subdomain
    _meta_errors(e, obj.metadata, old.metadata if old is not None else None, namespaced, name_fn)
    body = content(obj)
    if kind == "Event":  # kubesim.validation.events
        from kubesim.validation.events import validate_event

        validate_event(e, obj, body)
        return
    spec_check = _SPEC_CHECKS.get(kind)
    if spec_check is not None:
        spec_check(e, body)
    if kind not in ("ConfigMap", "Secret"):
        return
    if kind == "ConfigMap":
        total = _data_size(e, "data", body.get("data"), False)
        total += _data_size(e, "binaryData", body.get("binaryData"), True)
        for k in sorted(set(body.get("data") or {}) & set(body.get("binaryData") or {})):
            e.invalid(f"data[{k}]", k, "duplicate of key present in binaryData")
        if total > MAX_SECRET_SIZE:
            e.too_long("", MAX_SECRET_SIZE)
    else:
        total = _data_size(e, "data", body.get("data"), True)
        if total > MAX_SECRET_SIZE:
            e.too_long("data", MAX_SECRET_SIZE)
    if old is not None:
        before = content(old)
        if before.get("immutable") is True:
            for field in ("data", "binaryData") if kind == "ConfigMap" else ("data",):
                if body.get(field) != before.get(field):
                    e.forbidden(field, "field is immutable when `immutable` is set")
            if body.get("immutable") is not True:
                e.forbidden("immutable", "field is immutable when `immutable` is set")
