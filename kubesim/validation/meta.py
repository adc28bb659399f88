"""``ObjectMeta`` and label selectors (apimachinery ``pkg/api/validation/objectmeta.go``,
``pkg/apis/meta/v1/validation/validation.go``): names, namespaces, labels, annotations (and
:data:`TOTAL_ANNOTATION_SIZE_LIMIT`), owner references, finalizers, the create and update
rules of metadata (immutable name, namespace and uid; no new finalizers while deleting), and
``LabelSelector`` validation.

Imports: :mod:`kubesim.labels`, :mod:`kubesim.objects`, :mod:`kubesim.validation.base`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubesim import labels as L
from kubesim.objects import LabelSelector, ObjectMeta, OwnerReference
from kubesim.validation.base import _IMMUTABLE, _Errs, _Json

#: ``TotalAnnotationSizeLimitB``: keys plus values, in bytes.
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


_STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


# --------------------------------------------------------------------------------------------
# metadata


_NameFn = Callable[[str], tuple[str, ...]]


def _label_errors(e: _Errs, labels: Mapping[str, str], path: str) -> None:
    # ValidateLabels; fast path without sorting when everything is valid.
    bad = False
    for k, v in labels.items():
        if L.is_qualified_name(k) or L.is_valid_label_value(v):
            bad = True
            break
    if not bad:
        return
    for k in sorted(labels):
        v = labels[k]
        e.invalid_msgs(path, k, L.is_qualified_name(k))
        e.invalid_msgs(path, v, L.is_valid_label_value(v))


def _annotation_errors(e: _Errs, annotations: Mapping[str, str], path: str) -> None:
    total = 0
    bad = False
    for k, v in annotations.items():
        total += len(k) + (len(v) if v.isascii() else len(v.encode("utf-8")))
        if L.is_qualified_name(k.lower()):
            bad = True
    if bad:
        for k in sorted(annotations):
            e.invalid_msgs(path, k, L.is_qualified_name(k.lower()))
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        e.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT)


def _owner_ref_json(r: OwnerReference) -> dict[str, Any]:
    d: dict[str, Any] = {"apiVersion": r.api_version, "kind": r.kind, "name": r.name, "uid": r.uid}
    if r.controller is not None:
        d["controller"] = r.controller
    if r.block_owner_deletion is not None:
        d["blockOwnerDeletion"] = r.block_owner_deletion
    return d


def _owner_reference_errors(e: _Errs, refs: Sequence[OwnerReference], path: str) -> None:
    first_controller = ""
    for i, r in enumerate(refs):
        p = f"{path}[{i}]"
        group, version, ok = "", "", True
        parts = r.api_version.split("/")
        if len(parts) == 1:
            version = parts[0]
        elif len(parts) == 2:
            group, version = parts
        else:
            ok = False
        if not r.api_version:
            e.required(p + ".apiVersion", "must not be empty")
        elif not ok or not version:
            e.invalid(p + ".apiVersion", r.api_version, "must be <group>/<version> or <version>")
        if not r.kind:
            e.required(p + ".kind", "must not be empty")
        if not r.name:
            e.required(p + ".name", "must not be empty")
        if not r.uid:
            e.required(p + ".uid", "must not be empty")
        if ok and group == "" and version == "v1" and r.kind == "Event":
            e.invalid(p, _Json(_owner_ref_json(r)), "/v1, Kind=Event is disallowed from being an owner")
        if r.controller:
            cur = f"{r.kind}/{r.name}"
            if first_controller:
                e.invalid(
                    path,
                    _Json([_owner_ref_json(x) for x in refs]),
                    'Only one reference can have Controller set to true. Found "true" in references '
                    f"for {first_controller} and {cur}",
                )
            else:
                first_controller = cur


def _finalizer_errors(e: _Errs, finalizers: Sequence[str], path: str) -> None:
    orphan = delete = False
    for f in finalizers:
        e.invalid_msgs(path, f, L.is_qualified_name(f))
        if "/" not in f and f not in _STANDARD_FINALIZERS:
            e.invalid(path, f, "name is neither a standard finalizer name nor is it fully qualified")
        orphan = orphan or f == "orphan"
        delete = delete or f == "foregroundDeletion"
    if orphan and delete:
        e.invalid(path, _Json(list(finalizers)), "finalizer orphan and foregroundDeletion cannot be both set")


def _meta_errors(
    e: _Errs, meta: ObjectMeta, old: ObjectMeta | None, namespaced: bool, name_fn: _NameFn
) -> None:
    path = "metadata"
    if old is None:
        if meta.generate_name:
            e.invalid_msgs(path + ".generateName", meta.generate_name, name_fn(L.mask_trailing_dash(meta.generate_name)))
        if not meta.name:
            if not meta.generate_name:
                e.required(path + ".name", "name or generateName is required")
        else:
            e.invalid_msgs(path + ".name", meta.name, name_fn(meta.name))
        if namespaced:
            if not meta.namespace:
                e.required(path + ".namespace")
            else:
                e.invalid_msgs(path + ".namespace", meta.namespace, L.is_dns1123_label(meta.namespace))
        elif meta.namespace:
            e.forbidden(path + ".namespace", "not allowed on this type")
        e.nonnegative(path + ".generation", meta.generation)
        _label_errors(e, meta.labels, path + ".labels")
        _annotation_errors(e, meta.annotations, path + ".annotations")
        _owner_reference_errors(e, meta.owner_references, path + ".ownerReferences")
        _finalizer_errors(e, meta.finalizers, path + ".finalizers")
    else:
        if old.deletion_timestamp is not None:
            extra = sorted(set(meta.finalizers) - set(old.finalizers))
            if extra:
                go_list = "[]string{" + ", ".join(json.dumps(x) for x in extra) + "}"
                e.forbidden(
                    path + ".finalizers",
                    f"no new finalizers can be added if the object is being deleted, found new finalizers {go_list}",
                )
        e.nonnegative(path + ".generation", meta.generation)
        if meta.name != old.name:
            e.invalid(path + ".name", meta.name, _IMMUTABLE)
        if meta.namespace != old.namespace:
            e.invalid(path + ".namespace", meta.namespace, _IMMUTABLE)
        if meta.uid and meta.uid != old.uid:
            e.invalid(path + ".uid", meta.uid, _IMMUTABLE)
        _label_errors(e, meta.labels, path + ".labels")
        _annotation_errors(e, meta.annotations, path + ".annotations")
        _owner_reference_errors(e, meta.owner_references, path + ".ownerReferences")


def _selector_json(s: LabelSelector) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if s.match_labels:
        d["matchLabels"] = {k: s.match_labels[k] for k in sorted(s.match_labels)}
    if s.match_expressions:
        exprs = []
        for x in s.match_expressions:
            xd: dict[str, Any] = {"key": x.key, "operator": x.operator}
            if x.values:
                xd["values"] = list(x.values)
            exprs.append(xd)
        d["matchExpressions"] = exprs
    return d


def _label_selector_errors(e: _Errs, s: LabelSelector, path: str) -> None:
    # metav1 ValidateLabelSelector (strict: invalid values rejected)
    _label_errors(e, s.match_labels, path + ".matchLabels")
    for i, r in enumerate(s.match_expressions):
        p = f"{path}.matchExpressions[{i}]"
        if r.operator in ("In", "NotIn"):
            if not r.values:
                e.required(p + ".values", "must be specified when `operator` is 'In' or 'NotIn'")
        elif r.operator in ("Exists", "DoesNotExist"):
            if r.values:
                e.forbidden(p + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        else:
            e.invalid(p + ".operator", r.operator, "not a valid selector operator")
        e.invalid_msgs(p + ".key", r.key, L.is_qualified_name(r.key))
        for j, v in enumerate(r.values):
            e.invalid_msgs(f"{p}.values[{j}]", v, L.is_valid_label_value(v))
