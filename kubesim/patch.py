"""PATCH bodies: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch.

All three work on the manifest dict of the live object (:func:`kubesim.manifests.to_manifest`);
the result is decoded and validated like a PUT. Strategic merge patch follows
``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go``: maps merge recursively and ``null``
deletes a key; a list with a merge key (:data:`MERGE_KEYS`, the ``patchMergeKey`` /
``patchStrategy`` struct tags of ``k8s.io/api``) merges element by element on that key; a list of
primitives with strategy ``merge`` is a union; every other list is replaced. The directives
kubectl sends are honoured: ``$patch: replace | delete | merge``, ``$retainKeys``,
``$setElementOrder/<list>`` and ``$deleteFromPrimitiveList/<list>``.

Costs: ``O(size of the object + size of the patch)``, except a merge-keyed list, which is
``O(n + m)`` with a dict per list.

>>> live = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}
>>> strategic_merge(live, {"spec": {"containers": [{"name": "b", "image": "z"}]}}, "io.k8s.api.core.v1.Pod")
{'spec': {'containers': [{'name': 'a', 'image': 'x'}, {'name': 'b', 'image': 'z'}]}}
>>> merge_patch(live, {"spec": {"containers": [{"name": "b", "image": "z"}]}})
{'spec': {'containers': [{'name': 'b', 'image': 'z'}]}}
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from kubesim.errors import KubesimError

__all__ = [
    "MERGE_KEYS",
    "MAX_JSON_PATCH_OPERATIONS",
    "PatchError",
    "json_patch",
    "merge_patch",
    "schema_definition",
    "strategic_merge",
]


class PatchError(KubesimError):
    """A patch the API server refuses: ``code`` is its HTTP status (400 for a malformed patch,
    422 for one that does not apply, 413 for too many operations) and ``reason`` the Status
    reason (``BadRequest``, ``Invalid``, ``RequestEntityTooLarge``). ``kubesim serve`` answers
    with exactly these; ``cluster.kubectl("patch ...")`` prints kubectl's lines for them."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason

_CORE = "io.k8s.api.core.v1."
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."

#: (definition name, JSON field) -> (patch strategy, merge key; "" for a list of primitives).
MERGE_KEYS: dict[tuple[str, str], tuple[str, str]] = {
    (_META + "ObjectMeta", "ownerReferences"): ("merge", "uid"),
    (_META + "ObjectMeta", "finalizers"): ("merge", ""),
    (_CORE + "PodSpec", "containers"): ("merge", "name"),
    (_CORE + "PodSpec", "initContainers"): ("merge", "name"),
    (_CORE + "PodSpec", "volumes"): ("merge,retainKeys", "name"),
    (_CORE + "PodSpec", "imagePullSecrets"): ("merge", "name"),
    (_CORE + "PodSpec", "tolerations"): ("", ""),
    (_CORE + "Container", "ports"): ("merge", "containerPort"),
    (_CORE + "Container", "env"): ("merge", "name"),
    (_CORE + "Container", "volumeMounts"): ("merge", "mountPath"),
    (_CORE + "PodStatus", "conditions"): ("merge", "type"),
    (_CORE + "PodStatus", "podIPs"): ("merge", "ip"),
    (_CORE + "ServiceSpec", "ports"): ("merge", "port"),
    (_CORE + "NodeStatus", "conditions"): ("merge", "type"),
    (_CORE + "NodeStatus", "addresses"): ("merge", "type"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "conditions"): ("merge", "type"),
}
MERGE_KEYS = {k: v for k, v in MERGE_KEYS.items() if v[0]}

#: ``maxJSONPatchOperations`` of the API server's patch handler.
MAX_JSON_PATCH_OPERATIONS = 10000
#: The bound on what ``copy`` operations may add to a document, in JSON bytes (the request-body
#: cap, 3 MiB): json-patch's ``AccumulatedCopySizeLimit``.
MAX_ACCUMULATED_COPY_BYTES = 3 * 1024 * 1024


@functools.cache
def _children() -> dict[str, dict[str, str]]:
    """definition name -> JSON field -> child definition name (structs and lists of structs)."""
    from kubesim import manifests

    table = manifests._SCHEMA
    names = {cls: entry[0] for cls, entry in table.items()}
    out: dict[str, dict[str, str]] = {}
    for _cls, (name, fields, _ignored) in table.items():
        kids: dict[str, str] = {}
        for f in fields:
            ftype = f[2]
            if isinstance(ftype, list) and ftype[0] == "cls":
                kids[f[0]] = names[ftype[1]]
            elif isinstance(ftype, str) and ftype.lstrip("?") == "struct":
                kids[f[0]] = names[f[4]]
        out[name] = kids
    return out


def _invalid(message: str) -> PatchError:
    return PatchError(422, "Invalid", message)


def _bad(message: str) -> PatchError:
    return PatchError(400, "BadRequest", message)


_DEF_NAMES: dict[str, str] = {}


def schema_definition(kind: str) -> str:
    """The OpenAPI definition name of a modelled kind (``"io.k8s.api.core.v1.Pod"``), which
    :func:`strategic_merge` takes to find merge keys; ``""`` for a kind with no schema (an
    inert kind: maps merge, lists are replaced). ``O(1)`` after the first call."""
    if not _DEF_NAMES:
        from kubesim import manifests

        for cls, entry in manifests._SCHEMA.items():
            k = getattr(cls, "kind", None)
            if isinstance(k, str) and entry[0].rsplit(".", 1)[-1] == k:
                _DEF_NAMES[k] = entry[0]
    return _DEF_NAMES.get(kind, "")


# ---------------------------------------------------------------------------- JSON merge patch


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: ``null`` removes, objects merge recursively, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# ---------------------------------------------------------------------------- JSON patch


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str):
        raise _bad(f"path must be a string, got {path!r}")
    if path == "":
        return []
    if not path.startswith("/"):
        raise _invalid(f'JSON pointer must be empty or start with a "/": {path!r}')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for p in parts:
        if isinstance(doc, dict):
            if p not in doc:
                raise _invalid(f"doc is missing path: /{'/'.join(parts)}")
            doc = doc[p]
        elif isinstance(doc, list):
            doc = doc[_index(p, len(doc), parts)]
        else:
            raise _invalid(f"doc is missing path: /{'/'.join(parts)}")
    return doc


def _index(p: str, n: int, parts: list[str], allow_end: bool = False) -> int:
    if p == "-" and allow_end:
        return n
    if not p.isdigit() or (len(p) > 1 and p[0] == "0"):
        raise _invalid(f"invalid array index {p!r} in /{'/'.join(parts)}")
    i = int(p)
    if i > n or (i == n and not allow_end):
        raise _invalid(f"array index out of bounds: {i} in /{'/'.join(parts)}")
    return i


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(last, len(parent), parts, allow_end=True), value)
    else:
        raise _invalid(f"doc is missing path: /{'/'.join(parts)}")
    return doc


def _remove(doc: Any, parts: list[str]) -> tuple[Any, Any]:
    if not parts:
        raise _invalid("cannot remove the whole document")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _invalid(f"doc is missing key: /{'/'.join(parts)}")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(last, len(parent), parts))
    raise _invalid(f"doc is missing path: /{'/'.join(parts)}")


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 on a deep copy of ``doc``: ``add``, ``remove``, ``replace``, ``move``, ``copy``,
    ``test``. A malformed patch is 400 BadRequest; one that does not apply is 422, and so is
    one whose ``copy`` operations add more than :data:`MAX_ACCUMULATED_COPY_BYTES`."""
    if not isinstance(ops, list):
        raise _bad("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(413, "RequestEntityTooLarge",
                       f"Request entity too large: The allowed maximum operations in a JSON patch is "
                       f"{MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}")
    doc = copy.deepcopy(doc)
    copied = 0
    for op in ops:
        if not isinstance(op, dict):
            raise _bad("json: cannot unmarshal non-object into Go value of type jsonpatch.Operation")
        kind = op.get("op")
        parts = _pointer(op.get("path"))
        if kind in ("add", "replace", "test") and "value" not in op:
            raise _invalid(f"missing value for {kind} operation")
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc, _ = _remove(doc, parts)
        elif kind == "replace":
            doc, _ = _remove(doc, parts) if parts else (doc, None)
            doc = _add(doc, parts, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from"))
            if kind == "move":
                if parts[: len(src)] == src and len(parts) > len(src):
                    raise _invalid("cannot move a value into one of its children")
                doc, value = _remove(doc, src)
            else:
                source = _walk(doc, src)
                copied += len(json.dumps(source, separators=(",", ":")))
                if copied > MAX_ACCUMULATED_COPY_BYTES:
                    # a chain of copies would double the document each time
                    raise _invalid(f"Unable to complete the copy, the accumulated size increase of copy is "
                                   f"{copied}, exceeding the limit {MAX_ACCUMULATED_COPY_BYTES}")
                value = copy.deepcopy(source)
            doc = _add(doc, parts, value)
        elif kind == "test":
            if _walk(doc, parts) != op["value"]:
                raise _invalid(f"testing value /{'/'.join(parts)} failed")
        else:
            raise _bad(f"Unexpected kind: {kind!r}")
    return doc


# ---------------------------------------------------------------------------- strategic merge patch


def strategic_merge(original: Any, patch: Any, definition: str) -> Any:
    """A strategic merge patch applied to ``original`` (a manifest dict) whose schema is
    ``definition`` (``io.k8s.api.apps.v1.Deployment``)."""
    if not isinstance(patch, dict):
        raise _bad("json: cannot unmarshal array into Go value of type map[string]interface {}")
    result = _merge_map(original if isinstance(original, dict) else {}, patch, definition)
    return {} if result is None else result


def _merge_map(original: dict[str, Any], patch: dict[str, Any], definition: str | None) -> dict[str, Any] | None:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise _bad(f"Unknown patch type: {directive!r} in map: {patch!r}")
    out = dict(original)
    kids = _children().get(definition or "", {})
    orders: list[tuple[str, Any]] = []
    for key, pv in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$setElementOrder/"):
            orders.append((key.partition("/")[2], pv))
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.partition("/")[2]
            if isinstance(pv, list) and isinstance(out.get(field), list):
                out[field] = [v for v in out[field] if v not in pv]
            continue
        if key.startswith("$"):
            raise _bad(f"unknown directive {key!r}")
        if pv is None:
            out.pop(key, None)
            continue
        ov = out.get(key)
        strategy, merge_key = MERGE_KEYS.get((definition or "", key), ("", ""))
        if isinstance(pv, dict) and isinstance(ov, dict):
            merged = _merge_map(ov, pv, kids.get(key))
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(pv, list) and "merge" in strategy and isinstance(ov, list):
            out[key] = _merge_list(ov, pv, merge_key, kids.get(key))
        elif isinstance(pv, dict):
            merged = _merge_map({}, pv, kids.get(key))
            if merged is not None:
                out[key] = _strip_directives(merged)
            else:
                out.pop(key, None)
        else:
            out[key] = _strip_directives(copy.deepcopy(pv))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    for field, order in orders:
        if isinstance(out.get(field), list) and isinstance(order, list):
            out[field] = _reorder(out[field], order, MERGE_KEYS.get((definition or "", field), ("", ""))[1])
    return out


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")]
    return value


def _merge_list(original: list[Any], patch: list[Any], merge_key: str, definition: str | None) -> list[Any]:
    if not merge_key:  # a set of primitives: union, original order first
        out = list(original)
        for v in patch:
            if isinstance(v, dict):
                raise _bad(f"a merge list of primitives holds a map: {v!r}")
            if v not in out:
                out.append(v)
        return out
    if any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch):
        return [_strip_directives(e) for e in patch if not (isinstance(e, dict) and e.get("$patch") == "replace")]
    out = [copy.deepcopy(e) for e in original]
    pos = {e.get(merge_key): i for i, e in enumerate(out) if isinstance(e, dict)}
    deleted: set[int] = set()
    for e in patch:
        if not isinstance(e, dict):
            raise _bad(f"a list merged on {merge_key!r} holds a non-map: {e!r}")
        if merge_key not in e:
            raise _bad(f"map: {e!r} does not contain declared merge key: {merge_key}")
        i = pos.get(e[merge_key])
        if e.get("$patch") == "delete":
            if i is not None:
                deleted.add(i)
            continue
        if i is None or i in deleted:
            merged = _merge_map({}, e, definition)
            if merged is not None:
                pos[e[merge_key]] = len(out)
                out.append(_strip_directives(merged))
        else:
            merged = _merge_map(out[i], e, definition)
            if merged is None:
                deleted.add(i)
            else:
                out[i] = merged
    return [e for i, e in enumerate(out) if i not in deleted]


def _reorder(items: list[Any], order: list[Any], merge_key: str) -> list[Any]:
    def key(e: Any) -> Any:
        return e.get(merge_key) if merge_key and isinstance(e, dict) else e

    wanted = [key(o) for o in order]
    rank: dict[Any, int] = {}
    for i, k in enumerate(wanted):
        try:
            rank.setdefault(k, i)
        except TypeError:  # an unhashable key: keep the order as it is
            return items
    try:
        listed = sorted((e for e in items if key(e) in rank), key=lambda e: rank[key(e)])
        rest = [e for e in items if key(e) not in rank]
    except TypeError:
        return items
    return listed + rest
