"""OpenAPI v2 and v3 documents generated from kubesim's own object model.

The schemas come from the field table of :mod:`kubesim.manifests` (the one place that knows
each class's JSON names, Go types and emptiness rules), so they describe exactly what the
server accepts and serves: a field kubesim models has its type; a field upstream has but
kubesim accepts and drops (``imagePullPolicy``, ``volumes``, ...) is listed with
``x-kubernetes-preserve-unknown-fields`` and says so; anything else is an unknown field, which
``fieldValidation=Strict`` refuses. List fields carry the strategic-merge-patch metadata
(``x-kubernetes-patch-merge-key``, ``x-kubernetes-patch-strategy``, ``x-kubernetes-list-type``)
of :data:`kubesim.patch.MERGE_KEYS`, which is also what the server's strategic merge
patch uses.

The paths of each group-version list every operation with its ``x-kubernetes-group-version-kind``
and query parameters; kubectl reads the PATCH operation's ``fieldValidation`` parameter
(``cli-runtime/pkg/resource/query_param_verifier_v3.go``) to decide that the server validates,
so ``kubectl apply`` needs no ``--validate=false``. ``kubectl explain`` reads the component
schemas.

Documents are built once per process (``functools.cache``): ``O(schema size)``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from kubesim.patch import MERGE_KEYS
from kubesim.serve.resources import RESOURCES, SERVER_VERSION, Resource, group_versions

__all__ = ["definitions", "v2", "v3_index", "v3_group_version"]

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_TIME = _META + "Time"
_INTSTR = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_FIELDS_V1 = _META + "FieldsV1"
_LIST_META = _META + "ListMeta"
_STATUS = _META + "Status"
_DELETE_OPTIONS = _META + "DeleteOptions"
_PATCH = _META + "Patch"
_SCALE = "io.k8s.api.autoscaling.v1.Scale"
_SCALE_SPEC = "io.k8s.api.autoscaling.v1.ScaleSpec"
_SCALE_STATUS = "io.k8s.api.autoscaling.v1.ScaleStatus"
_EVENT = "io.k8s.api.core.v1.Event"
_EVICTION = "io.k8s.api.policy.v1.Eviction"


def _field_table() -> dict[type, tuple[str, list[tuple[Any, ...]], str]]:
    # The field table of kubesim.manifests (class -> (definition name, fields, ignored names)).
    from kubesim import manifests

    table: dict[type, tuple[str, list[tuple[Any, ...]], str]] = manifests._SCHEMA
    return table


def _doc(cls: type) -> str:
    text = (cls.__doc__ or "").strip()
    return text.split("\n\n")[0].replace("\n", " ") if text else ""


class _Builder:
    def __init__(self, ref_prefix: str) -> None:
        self.prefix = ref_prefix
        self.table = _field_table()
        self.names = {cls: entry[0] for cls, entry in self.table.items()}

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": self.prefix + name}

    def type_of(self, ftype: Any, extra: Any) -> dict[str, Any]:
        if isinstance(ftype, list):
            if ftype[0] == "str":
                return {"type": "array", "items": {"type": "string", "default": ""}}
            return {"type": "array", "items": self.ref(self.names[ftype[1]])}
        base = ftype.lstrip("?")
        if base == "str":
            return {"type": "string"}
        if base in ("int32", "int64", "hostport"):
            return {"type": "integer", "format": "int64" if base == "int64" else "int32"}
        if base == "bool":
            return {"type": "boolean"}
        if base == "time":
            return self.ref(_TIME)
        if base == "intstr":
            return self.ref(_INTSTR)
        if base == "map":
            return {"type": "object", "additionalProperties": {"type": "string", "default": ""}}
        if base == "qmap":
            return {"type": "object", "additionalProperties": self.ref(_QUANTITY)}
        if base == "struct":
            return self.ref(self.names[extra])
        if base == "raw":
            return self.ref(_FIELDS_V1)
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                "description": "Not modelled by kubesim: served as a constant, accepted and dropped."}

    def definition(self, cls: type) -> dict[str, Any]:
        name, fields, ignored = self.table[cls]
        props: dict[str, Any] = {}
        kind = getattr(cls, "kind", None)
        gvk = None
        if isinstance(kind, str) and isinstance(getattr(cls, "api_version", None), str):
            api_version: str = cls.api_version  # type: ignore[attr-defined]
            group, _, version = api_version.rpartition("/")
            gvk = [{"group": group, "kind": kind, "version": version}]
            props["apiVersion"] = {"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}
            props["kind"] = {"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}
        required = []
        for f in fields:
            json_name, ftype = f[0], f[2]
            extra = f[4] if len(f) > 4 else None
            schema = self.type_of(ftype, extra)
            mk = MERGE_KEYS.get((name, json_name))
            if mk is not None and schema.get("type") == "array":
                strategy, key = mk
                schema["x-kubernetes-patch-strategy"] = strategy
                if key:
                    schema["x-kubernetes-patch-merge-key"] = key
                    schema["x-kubernetes-list-type"] = "map"
                    schema["x-kubernetes-list-map-keys"] = [key]
                else:
                    schema["x-kubernetes-list-type"] = "set"
            elif schema.get("type") == "array" and ftype != ["str"]:
                schema["x-kubernetes-list-type"] = "atomic"
            props[json_name] = schema
            if not f[3] and ftype in ("str", "int32", "int64") and json_name not in ("kind", "apiVersion"):
                required.append(json_name)
        for json_name in ignored.split():
            props.setdefault(json_name, {"x-kubernetes-preserve-unknown-fields": True,
                                         "description": "Not modelled by kubesim: accepted and dropped."})
        d: dict[str, Any] = {"description": _doc(cls), "type": "object", "properties": props}
        if required:
            d["required"] = required
        if gvk:
            d["x-kubernetes-group-version-kind"] = gvk
        return d

    def all(self) -> dict[str, Any]:
        defs: dict[str, Any] = {}
        for cls in self.table:
            defs[self.names[cls]] = self.definition(cls)
        defs[_TIME] = {"type": "string", "format": "date-time",
                       "description": "Time is an RFC 3339 date and time at second precision."}
        defs[_INTSTR] = {"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True,
                         "description": "IntOrString holds an int32 or a string."}
        defs[_QUANTITY] = {"type": "string", "description": "Quantity is a fixed-point number (\"100m\", \"1Gi\")."}
        defs[_FIELDS_V1] = {"type": "object", "description": "FieldsV1 is the set of fields a manager owns."}
        defs[_LIST_META] = {"type": "object", "description": "ListMeta: the metadata of a list.", "properties": {
            "resourceVersion": {"type": "string"}, "continue": {"type": "string"},
            "remainingItemCount": {"type": "integer", "format": "int64"}}}
        defs[_STATUS] = {"type": "object", "description": "Status is a return value for calls that don't return other objects.",
                         "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                        "status": {"type": "string"}, "message": {"type": "string"},
                                        "reason": {"type": "string"}, "code": {"type": "integer", "format": "int32"},
                                        "details": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
        defs[_DELETE_OPTIONS] = {"type": "object", "description": "DeleteOptions may be provided when deleting an API object.",
                                 "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                                "gracePeriodSeconds": {"type": "integer", "format": "int64"},
                                                "propagationPolicy": {"type": "string"},
                                                "dryRun": {"type": "array", "items": {"type": "string"}},
                                                "preconditions": {"type": "object", "properties": {
                                                    "uid": {"type": "string"}, "resourceVersion": {"type": "string"}}}}}
        defs[_PATCH] = {"type": "object", "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."}
        defs[_SCALE_SPEC] = {"type": "object", "properties": {"replicas": {"type": "integer", "format": "int32"}}}
        defs[_SCALE_STATUS] = {"type": "object", "properties": {"replicas": {"type": "integer", "format": "int32"},
                                                               "selector": {"type": "string"}}}
        defs[_SCALE] = {"type": "object", "description": "Scale represents a scaling request for a resource.",
                        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                       "metadata": self.ref(_META + "ObjectMeta"), "spec": self.ref(_SCALE_SPEC),
                                       "status": self.ref(_SCALE_STATUS)},
                        "x-kubernetes-group-version-kind": [{"group": "autoscaling", "kind": "Scale", "version": "v1"}]}
        defs[_EVICTION] = {"type": "object", "description": "Eviction evicts a pod from its node (kubesim honours no disruption budget).",
                           "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                          "metadata": self.ref(_META + "ObjectMeta"),
                                          "deleteOptions": self.ref(_DELETE_OPTIONS)},
                           "x-kubernetes-group-version-kind": [{"group": "policy", "kind": "Eviction", "version": "v1"}]}
        defs[_EVENT] = {"type": "object", "description": "Event is a report of an event somewhere in the cluster. kubesim records none.",
                        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                       "metadata": self.ref(_META + "ObjectMeta")},
                        "x-kubernetes-group-version-kind": [{"group": "", "kind": "Event", "version": "v1"}]}
        for r in RESOURCES:
            if r.inert:
                defs[_inert_name(r)] = {
                    "description": f"{r.kind}: stored by kubesim without a model (no controller acts on it); "
                                   "its fields are kept as sent.",
                    "type": "object",
                    "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                   "metadata": self.ref(_META + "ObjectMeta")},
                    "x-kubernetes-preserve-unknown-fields": True,
                    "x-kubernetes-group-version-kind": [{"group": r.group, "kind": r.kind, "version": r.version}],
                }
        for r in RESOURCES:
            item = self.item_name(r)
            group = r.group
            defs[item + "List"] = {
                "type": "object", "description": f"{r.list_kind} is a list of {r.response_kind}.",
                "required": ["items"],
                "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                               "items": {"type": "array", "items": self.ref(item)},
                               "metadata": self.ref(_LIST_META)},
                "x-kubernetes-group-version-kind": [{"group": group, "kind": r.list_kind, "version": r.version}],
            }
        return defs

    def item_name(self, r: Resource) -> str:
        if not r.stored:
            return _EVENT
        if r.inert:
            return _inert_name(r)
        for cls, name in self.names.items():
            if getattr(cls, "kind", None) == r.kind and name.rsplit(".", 1)[-1] == r.kind:
                return name
        raise KeyError(r.kind)  # pragma: no cover - every stored kind has a schema


def _inert_name(r: Resource) -> str:
    # upstream's definition name: io.k8s.api.<first label of the group, or core>.<version>.<Kind>
    return f"io.k8s.api.{r.group.split('.')[0] if r.group else 'core'}.{r.version}.{r.kind}"


@functools.cache
def definitions() -> dict[str, Any]:
    """Every schema, by definition name (``io.k8s.api.core.v1.Pod``), with v2 ``$ref``s."""
    return _Builder("#/definitions/").all()


def _query(name: str, description: str, type_: str = "string", v3: bool = True) -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": "query", "description": description}
    if v3:
        p["schema"] = {"type": type_, "uniqueItems": True}
    else:
        p["type"] = type_
        p["uniqueItems"] = True
    return p


_WRITE_PARAMS = (
    ("dryRun", "When present, indicates that modifications should not be persisted (All)."),
    ("fieldManager", "A name associated with the actor or entity that is making these changes."),
    ("fieldValidation", "How to handle unknown fields: Ignore, Warn (the default) or Strict."),
)
_LIST_PARAMS = (
    ("labelSelector", "A selector to restrict the list of returned objects by their labels.", "string"),
    ("fieldSelector", "A selector to restrict the list of returned objects by their fields.", "string"),
    ("limit", "The maximum number of responses to return for a list call.", "integer"),
    ("continue", "The continue token of a previous list call.", "string"),
    ("resourceVersion", "Where a list or watch starts.", "string"),
    ("resourceVersionMatch", "How resourceVersion is applied to list calls.", "string"),
    ("watch", "Watch for changes and return them as a stream of events.", "boolean"),
    ("allowWatchBookmarks", "Ask for BOOKMARK events.", "boolean"),
    ("sendInitialEvents", "Send the current state as ADDED events before the changes.", "boolean"),
    ("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
)


def _paths(r: Resource, b: _Builder, v3: bool) -> dict[str, Any]:
    base = f"/apis/{r.group}/{r.version}" if r.group else "/api/v1"
    ns = "/namespaces/{namespace}" if r.namespaced else ""
    coll = f"{base}{ns}/{r.plural}"
    item = coll + "/{name}"
    gvk = {"group": r.group, "version": r.version, "kind": r.response_kind}
    ref = b.ref(b.item_name(r))
    list_ref = b.ref(b.item_name(r) + "List")

    def response(schema: dict[str, Any]) -> dict[str, Any]:
        if v3:
            return {"200": {"description": "OK", "content": {
                "application/json": {"schema": schema}, "application/yaml": {"schema": schema}}}}
        return {"200": {"description": "OK", "schema": schema}}

    def body(schema: dict[str, Any], types: tuple[str, ...] = ("application/json",)) -> dict[str, Any]:
        if v3:
            return {"requestBody": {"content": {t: {"schema": schema} for t in types}, "required": True}}
        return {"parameters_body": {"name": "body", "in": "body", "required": True, "schema": schema}}

    def op(action: str, verb_id: str, params: list[dict[str, Any]], schema: dict[str, Any],
           req: dict[str, Any] | None = None) -> dict[str, Any]:
        o: dict[str, Any] = {
            "description": f"{verb_id} {r.response_kind}",
            "operationId": f"{verb_id}{r.response_kind}",
            "parameters": list(params),
            "responses": response(schema),
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        }
        if req:
            if "parameters_body" in req:
                o["parameters"].append(req["parameters_body"])
            else:
                o.update(req)
        return o

    path_params = [{"name": "name", "in": "path", "required": True, "description": "name of the object",
                    **({"schema": {"type": "string"}} if v3 else {"type": "string"})}]
    ns_params = [{"name": "namespace", "in": "path", "required": True, "description": "object name and auth scope",
                  **({"schema": {"type": "string"}} if v3 else {"type": "string"})}] if r.namespaced else []
    write = [_query(n, d, v3=v3) for n, d in _WRITE_PARAMS]
    listp = [_query(n, d, t, v3=v3) for n, d, t in _LIST_PARAMS]
    out: dict[str, Any] = {}
    coll_ops: dict[str, Any] = {"get": op("list", "list", listp, list_ref), "parameters": ns_params}
    item_ops: dict[str, Any] = {"get": op("get", "read", [], ref), "parameters": path_params + ns_params}
    if r.stored:
        coll_ops["post"] = op("post", "create", write, ref, body(ref))
        coll_ops["delete"] = op("deletecollection", "deleteCollection", listp, b.ref(_STATUS))
        item_ops["put"] = op("put", "replace", write, ref, body(ref))
        patch_types = ("application/json-patch+json", "application/merge-patch+json",
                       "application/strategic-merge-patch+json", "application/apply-patch+yaml")
        item_ops["patch"] = op("patch", "patch", [*write, _query("force", "Force apply (server-side apply).", "boolean", v3)],
                               ref, body(b.ref(_PATCH), patch_types))
        item_ops["delete"] = op("delete", "delete", [_query(n, d, v3=v3) for n, d in _WRITE_PARAMS[:1]] + [
            _query("gracePeriodSeconds", "The duration in seconds before the object should be deleted.", "integer", v3),
            _query("propagationPolicy", "Orphan, Background or Foreground.", "string", v3),
        ], b.ref(_STATUS), body(b.ref(_DELETE_OPTIONS)) if v3 else None)
    out[coll] = coll_ops
    out[item] = item_ops
    for sub in r.subresources:
        if sub == "eviction":
            ev_gvk = {"group": "policy", "version": "v1", "kind": "Eviction"}
            post = op("create", "createEviction", write, b.ref(_EVICTION), body(b.ref(_EVICTION)))
            post["x-kubernetes-group-version-kind"] = ev_gvk
            out[f"{item}/eviction"] = {"post": post, "parameters": path_params + ns_params}
            continue
        sub_ref = b.ref(_SCALE) if sub == "scale" else ref
        sub_gvk = {"group": "autoscaling", "version": "v1", "kind": "Scale"} if sub == "scale" else gvk
        ops: dict[str, Any] = {
            "get": op("get", f"read{sub.title()}", [], sub_ref),
            "put": op("put", f"replace{sub.title()}", write, sub_ref, body(sub_ref)),
            "patch": op("patch", f"patch{sub.title()}", write, sub_ref,
                        body(b.ref(_PATCH), ("application/json-patch+json", "application/merge-patch+json",
                                             "application/strategic-merge-patch+json"))),
            "parameters": path_params + ns_params,
        }
        for k in ("get", "put", "patch"):
            ops[k]["x-kubernetes-group-version-kind"] = sub_gvk
        out[f"{item}/{sub}"] = ops
    if r.namespaced:
        out[f"{base}/{r.plural}"] = {"get": op("list", "listForAllNamespaces", listp, list_ref)}
    return out


@functools.cache
def v2() -> dict[str, Any]:
    """``GET /openapi/v2`` (JSON): every path and definition."""
    b = _Builder("#/definitions/")
    paths: dict[str, Any] = {}
    for r in RESOURCES:
        paths.update(_paths(r, b, v3=False))
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes (kubesim)", "version": SERVER_VERSION["gitVersion"]},
        "paths": paths,
        "definitions": definitions(),
    }


@functools.cache
def _v3_docs() -> dict[str, tuple[bytes, str]]:
    b = _Builder("#/components/schemas/")
    schemas = b.all()
    out: dict[str, tuple[bytes, str]] = {}
    for gv, resources in group_versions().items():
        paths: dict[str, Any] = {}
        for r in resources:
            paths.update(_paths(r, b, v3=True))
        doc = {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes (kubesim)", "version": SERVER_VERSION["gitVersion"]},
            "paths": paths,
            "components": {"schemas": schemas},
        }
        raw = json.dumps(doc, separators=(",", ":")).encode()
        key = "api/v1" if gv == "v1" else f"apis/{gv}"
        out[key] = (raw, hashlib.sha512(raw).hexdigest()[:128].upper())
    return out


def v3_index() -> dict[str, Any]:
    """``GET /openapi/v3``: each group-version's document by path, with a content hash."""
    return {"paths": {k: {"serverRelativeURL": f"/openapi/v3/{k}?hash={h}"} for k, (_, h) in _v3_docs().items()}}


def v3_group_version(path: str) -> bytes | None:
    """``GET /openapi/v3/<path>`` (``api/v1``, ``apis/apps/v1``) as JSON bytes, or ``None``."""
    entry = _v3_docs().get(path)
    return None if entry is None else entry[0]
