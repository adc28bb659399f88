"""The REST semantics of the Kubernetes API over one :class:`kubesim.Cluster`.

:class:`Backend` is the whole adapter, independent of any HTTP library: it takes a
:class:`Request` (method, path, query, headers, body) and answers a :class:`Response` or,
for a watch, a :class:`WatchPlan` that the HTTP layer streams. Every object goes through the
library: decoding with :func:`kubesim.manifests.from_manifest` (strict, field paths in
errors), writes with ``Cluster.create`` / ``update`` / ``delete`` (validation, defaulting,
optimistic concurrency, the change log), reads with ``APIServer.get`` / ``list``, tables with
kubesim's kubectl printers. Nothing here keeps a second copy of the state.

What mirrors which upstream file (``staging/src/k8s.io/apiserver/pkg/endpoints/handlers``):
``create.go``, ``update.go``, ``patch.go`` (JSON, merge, strategic and apply patches),
``delete.go`` (``DeleteOptions``: grace period, preconditions, propagation policy),
``get.go`` (list options, ``limit``/``continue``), ``watch.go``; ``fieldValidation`` as in
``.../handlers/rest.go``; status and scale subresources as the registries of Pods and
Deployments define them (the main resource ignores ``status``, ``/status`` changes only it).

Deliberate simplifications, each documented in ``docs/serve.md``: server-side apply merges the
applied configuration and records a ``managedFields`` entry, without field-ownership conflicts
or removal of fields a manager stops applying; a continue token pages through the current
state (no snapshot at the token's resourceVersion); ``dryRun=All`` runs the write inside a
rolled-back transaction.

All methods run on one thread (the server's event loop); the cluster is never shared.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import yaml

from kubesim import errors as _errors
from kubesim import manifests
from kubesim.kinds import KIND_INFO
from kubesim.labels import Selector, parse_selector
from kubesim.patch import PatchError, json_patch, merge_patch, strategic_merge
from kubesim.patch import schema_definition as _definition
from kubesim.serve import discovery, openapi, proto, protodecode, query, tables
from kubesim.serve.resources import RESOURCES, SERVER_VERSION, Resource, by_path, for_kind
from kubesim.serve.status import ApiError, from_exception, status, success
from kubesim.serve.watch import Subscription, WatchHub, event_line

__all__ = ["Backend", "Request", "Response", "WatchPlan", "MAX_REQUEST_BODY_BYTES"]

#: The finalizer of an owner deleted with ``propagationPolicy: Foreground``.
FOREGROUND_FINALIZER = "foregroundDeletion"

#: The API server's cap on a request body (``MaxRequestBodyBytes``, 3 MiB).
MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024

_JSON = "application/json"
_TABLE_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"

#: Kinds whose create and main-resource update ignore ``status`` (their registries reset it).
_STATUS_RESET_ON_CREATE = {"Pod", "Service", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}


def _reset_status_for_create(kind: str, d: dict[str, Any]) -> None:
    """Drop the ``status`` of a create request's body ``d`` (a kind of
    :data:`_STATUS_RESET_ON_CREATE`), as its registry's ``PrepareForCreate`` replaces it; a
    Pod's ``status.qosClass`` stays (``qos.GetPodQOS`` reads it before the status is replaced:
    the created pod keeps that class), so the stored Pod's status is upstream's: phase
    ``Pending`` and that class or the computed one."""
    status = d.pop("status", None)
    if kind == "Pod" and isinstance(status, dict) and "qosClass" in status:
        d["status"] = {"qosClass": status["qosClass"]}


#: the Pod subresources that reach a container, which kubesim does not run
_CONTAINER_SUBRESOURCES = {
    "log": "there are no logs", "exec": "nothing to exec into", "attach": "nothing to attach to",
    "portforward": "no port to forward", "proxy": "nothing to proxy to",
}
_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json", "application/apply-patch+yaml")
_STATUS_SUBRESOURCE = {"Pod", "Service", "Node", "Namespace", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}


class _DryRun(Exception):
    """Raised inside a transaction to roll a dry-run write back."""


@attrs.frozen
class Request:
    """One HTTP request as the adapter needs it. ``query`` holds the first value per key."""

    method: str
    path: str
    query: Mapping[str, str] = attrs.field(factory=dict)
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return ""


@attrs.frozen
class Response:
    """A complete answer: status code, content type, body bytes, extra headers."""

    code: int
    body: bytes
    content_type: str = _JSON
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class WatchPlan:
    """A watch to stream: the initial events, then the subscription's queue."""

    subscription: Subscription
    initial: list[tuple[str, Any]]
    error: dict[str, Any] | None
    as_table: bool
    as_partial: bool
    as_proto: bool
    bookmarks: bool
    initial_end_bookmark: bool
    timeout: float | None
    include: str
    content_type: str


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


def json_response(code: int, value: Any, content_type: str = _JSON, headers: Mapping[str, str] | None = None) -> Response:
    return Response(code, _dumps(value), content_type, dict(headers or {}))


def error_response(exc: BaseException) -> Response:
    code, body = from_exception(exc)
    headers = exc.headers if isinstance(exc, ApiError) else {}
    return json_response(code, body, headers=headers)


def _user_agent_actor(req: Request) -> str:
    ua = req.header("User-Agent")
    name = ua.split("/", 1)[0].strip()
    return name[:64] if name else "client"


def _bool(req: Request, name: str) -> bool:
    v = req.query.get(name, "")
    if v in ("", "false", "0", "False"):
        return False
    if v in ("true", "1", "True"):
        return True
    raise ApiError(400, "BadRequest", f'invalid value for {name}: {v!r}: must be "true" or "false"')


def _int(req: Request, name: str) -> int | None:
    v = req.query.get(name)
    if v is None or v == "":
        return None
    try:
        n = int(v)
    except ValueError:
        raise ApiError(400, "BadRequest", f"invalid value for {name}: {v!r}: not an integer") from None
    if n < 0 or n > 2**63 - 1:
        raise ApiError(400, "BadRequest", f"invalid value for {name}: {v!r}: must be a non-negative integer")
    return n


def _wants_table(req: Request) -> bool:
    accept = req.header("Accept")
    for part in accept.split(","):
        params = [p.strip() for p in part.split(";")]
        if "as=Table" in params and ("g=meta.k8s.io" in params) and params[0] in (_JSON, "application/*", "*/*"):
            return True
    return False


_PARTIAL_TYPE = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
_PARTIAL_LIST_TYPE = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


def _wants_partial(req: Request) -> bool:
    """``True`` when the client asks for metadata only (client-go's metadata client and
    informers): ``Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1``."""
    for part in req.header("Accept").split(","):
        params = [p.strip() for p in part.split(";")]
        if ("as=PartialObjectMetadata" in params or "as=PartialObjectMetadataList" in params) and \
                "g=meta.k8s.io" in params and params[0] in (_JSON, "application/*", "*/*"):
            return True
        if params[0] in (_JSON, "*/*") and not any(p.startswith("as=") for p in params[1:]):
            return False
    return False


def _partial(m: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": m.get("metadata", {})}


def _accepts_json(req: Request) -> bool:
    accept = req.header("Accept")
    if not accept:
        return True
    for part in accept.split(","):
        media = part.split(";")[0].strip()
        if media in (_JSON, "application/*", "*/*", "application/yaml", "text/plain", "text/html") or media.endswith("+json"):
            return True
    return False


def _split_path(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


@attrs.define(eq=False)
class Backend:
    """The Kubernetes API of one cluster. See the module docstring.

    Methods by purpose: :meth:`handle` (every request); the HTTP layer calls
    :meth:`stop_watch` when a stream ends. Attributes: ``cluster``, ``hub`` (the watch
    history), ``extensions`` (``path prefix -> handler`` for the ``kubesim.io`` group).
    """

    cluster: Any
    history_size: int = 10000
    max_watch_queue: int = 10000
    max_body: int = MAX_REQUEST_BODY_BYTES
    server_address: str = "127.0.0.1:6443"
    hub: WatchHub = attrs.field(init=False)
    extensions: dict[str, Callable[[Request], Response]] = attrs.field(factory=dict)
    #: owners being deleted in the foreground: uid -> (kind, namespace, name)
    _foreground: dict[str, tuple[str, str, str]] = attrs.field(factory=dict, init=False)
    _settle_scheduled: bool = attrs.field(default=False, init=False)

    def __attrs_post_init__(self) -> None:
        self.hub = WatchHub(start_rv=self.resource_version(), history_size=self.history_size)
        self.cluster.api.watch(self.hub.on_event)
        self.cluster.api.watch(self._on_event)

    # ------------------------------------------------------------------ entry point

    def resource_version(self) -> int:
        rv: int = self.cluster.api.statistics().resource_version
        return rv

    def handle(self, req: Request) -> Response | WatchPlan:
        """Answer one request. Never raises: every failure is a ``Status`` response."""
        try:
            if len(req.body) > self.max_body:
                raise ApiError(413, "RequestEntityTooLarge",
                               "the server has received too large of a request body")
            return self._route(req)
        except PatchError as exc:  # the patch's own Status (400, 413 or 422)
            return error_response(ApiError(exc.code, exc.reason, str(exc)))
        except _errors.KubesimError as exc:
            return error_response(exc)
        except ApiError as exc:
            return error_response(exc)
        except RecursionError:
            return error_response(ApiError(400, "BadRequest", "the request body is nested too deeply"))
        except Exception as exc:  # a bug: answer 500 with the type only, keep serving
            return error_response(exc)

    def _route(self, req: Request) -> Response | WatchPlan:
        parts = _split_path(req.path)
        if not parts:
            return json_response(200, {"paths": ["/api", "/api/v1", "/apis", "/openapi/v2", "/openapi/v3", "/version"]})
        head = parts[0]
        if head in ("healthz", "livez", "readyz") and len(parts) == 1:
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if head == "version" and len(parts) == 1:
            return json_response(200, SERVER_VERSION)
        if head == "openapi":
            return self._openapi(req, parts)
        if head == "api":
            if len(parts) == 1:
                return self._discovery_root(req, "api")
            if parts[1] != "v1":
                raise self._not_found_path(req)
            if len(parts) == 2:
                return self._resource_list("v1")
            return self._resource(req, "", "v1", parts[2:])
        if head == "apis":
            if len(parts) == 1:
                return self._discovery_root(req, "apis")
            for prefix, handler in self.extensions.items():
                if req.path.startswith(prefix):
                    return handler(req)
            if len(parts) == 2:
                group = discovery.api_group(parts[1])
                if group is None:
                    raise self._not_found_path(req)
                return json_response(200, group)
            if len(parts) == 3:
                return self._resource_list(f"{parts[1]}/{parts[2]}")
            return self._resource(req, parts[1], parts[2], parts[3:])
        raise self._not_found_path(req)

    def _not_found_path(self, req: Request) -> ApiError:
        return ApiError(404, "NotFound", "the server could not find the requested resource")

    # ------------------------------------------------------------------ discovery and OpenAPI

    def _discovery_root(self, req: Request, root: str) -> Response:
        accept = req.header("Accept")
        for part in accept.split(","):
            params = {p.strip() for p in part.split(";")}
            if "as=APIGroupDiscoveryList" in params and "g=apidiscovery.k8s.io" in params:
                version = "v2" if "v=v2" in params else "v2beta1" if "v=v2beta1" in params else ""
                if version:
                    ctype = discovery.AGGREGATED_V2 if version == "v2" else discovery.AGGREGATED_V2BETA1
                    return json_response(200, discovery.aggregated(root, version), ctype,
                                         {"Vary": "Accept"})
        if root == "api":
            return json_response(200, discovery.api_versions(self.server_address))
        return json_response(200, discovery.api_group_list())

    def _resource_list(self, group_version: str) -> Response:
        doc = discovery.resource_list(group_version)
        if doc is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return json_response(200, doc)

    def _openapi(self, req: Request, parts: list[str]) -> Response:
        if parts == ["openapi", "v2"]:
            if not _accepts_json(req):
                raise ApiError(406, "NotAcceptable", "only application/json is served for /openapi/v2")
            return json_response(200, openapi.v2())
        if parts == ["openapi", "v3"]:
            return json_response(200, openapi.v3_index())
        if len(parts) > 2 and parts[1] == "v3":
            raw = openapi.v3_group_version("/".join(parts[2:]))
            if raw is not None:
                return Response(200, raw, _JSON, {"Cache-Control": "public, immutable"})
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    # ------------------------------------------------------------------ resource paths

    def _resource(self, req: Request, group: str, version: str, rest: list[str]) -> Response | WatchPlan:
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            namespace = rest[1]
            rest = rest[2:]
        res = by_path(group, version, rest[0])
        if res is None or len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if namespace is not None and not res.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in res.subresources:
            if res.kind == "Pod" and sub in _CONTAINER_SUBRESOURCES and name is not None:
                self._get(res, name, namespace)  # NotFound first, as the API server checks
                raise ApiError(400, "BadRequest",
                               f'pod "{name}" runs no container in kubesim: {_CONTAINER_SUBRESOURCES[sub]}')
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        method = req.method.upper()
        if name is None:
            if method == "GET":
                if _bool(req, "watch"):
                    return self._watch(req, res, namespace)
                return self._list(req, res, namespace)
            if method == "POST" and res.stored:
                return self._create(req, res, namespace)
            if method == "DELETE" and res.stored:
                return self._delete_collection(req, res, namespace)
        else:
            if not res.stored:
                if method == "GET":
                    raise _errors.NotFound("Event", name, namespace or "")
            elif sub == "eviction":
                if method == "POST":
                    return self._evict(req, res, name, namespace)
            elif sub == "scale":
                if method == "GET":
                    return json_response(200, self._scale(self._get(res, name, namespace)))
                if method in ("PUT", "PATCH"):
                    return self._write_scale(req, res, name, namespace)
            elif method == "GET":
                obj = self._get(res, name, namespace)
                return self._object_response(req, 200, obj)
            elif method == "PUT":
                return self._update(req, res, name, namespace, sub)
            elif method == "PATCH":
                return self._patch(req, res, name, namespace, sub)
            elif method == "DELETE" and sub is None:
                return self._delete(req, res, name, namespace)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _scope(self, res: Resource, namespace: str | None) -> str:
        if not res.namespaced:
            return ""
        return namespace if namespace is not None else "default"

    def _get(self, res: Resource, name: str, namespace: str | None) -> Any:
        return self.cluster.api.get(res.kind, name, self._scope(res, namespace))

    def _now(self) -> int:
        now: int = self.cluster.now_unix
        return now

    def _manifest(self, obj: Any) -> dict[str, Any]:
        return manifests.to_manifest(obj)

    def _object_response(self, req: Request, code: int, obj: Any, headers: Mapping[str, str] | None = None) -> Response:
        if _wants_table(req):
            t = tables.table(obj.kind, [obj], now=self._now(), resource_version=obj.metadata.resource_version,
                             include=req.query.get("includeObject", "Metadata"))
            return json_response(code, t, _TABLE_TYPE, headers)
        if _wants_partial(req):
            return json_response(code, _partial(self._manifest(obj)), _PARTIAL_TYPE, headers)
        if proto.wants_protobuf(req.header("Accept")) and not getattr(obj, "inert", False):
            return Response(code, proto.encode_object(obj), proto.MEDIA_TYPE, dict(headers or {}))
        return json_response(code, self._manifest(obj), headers=headers)

    # ------------------------------------------------------------------ list

    def _selectors(self, req: Request, res: Resource) -> tuple[Selector | None, query.FieldSelector]:
        text = req.query.get("labelSelector", "")
        labels = parse_selector(text) if text.strip() else None
        fields = query.parse_field_selector(req.query.get("fieldSelector", ""), res.kind)
        return labels, fields

    def _matching(self, res: Resource, namespace: str | None, labels: Selector | None,
                  fields: query.FieldSelector) -> list[Any]:
        if not res.stored:
            return []
        ns = namespace if res.namespaced else None
        for f, op, v in fields:  # metadata.name / namespace narrow the scan
            if f == "metadata.namespace" and op == "=" and res.namespaced:
                if ns is not None and ns != v:
                    return []
                ns = v
        objs = self.cluster.api.list(res.kind, ns, labels)
        return [o for o in objs if query.field_matches(fields, o, res.kind)]

    def _list(self, req: Request, res: Resource, namespace: str | None) -> Response:
        labels, fields = self._selectors(req, res)
        limit = _int(req, "limit")
        token = req.query.get("continue", "")
        rv = self.resource_version()
        objs = self._matching(res, namespace, labels, fields)
        if token:
            token_rv, start = query.decode_continue(token)
            rv = token_rv
            objs = [o for o in objs if (o.metadata.namespace, o.metadata.name) > start]
        next_token = ""
        remaining = 0
        if limit and len(objs) > limit:
            remaining = len(objs) - limit
            objs = objs[:limit]
            last = objs[-1].metadata
            next_token = query.encode_continue(rv, (last.namespace, last.name))
        if _wants_table(req):
            t = tables.table(res.kind, objs, now=self._now(), resource_version=str(rv),
                             include=req.query.get("includeObject", "Metadata"), continue_token=next_token)
            return json_response(200, t, _TABLE_TYPE)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if next_token:
            meta["continue"] = next_token
            meta["remainingItemCount"] = remaining
        if _wants_partial(req):
            return json_response(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                                       "metadata": meta, "items": [_partial(self._manifest(o)) for o in objs]},
                                 _PARTIAL_LIST_TYPE)
        if res.stored and not res.inert and proto.wants_protobuf(req.header("Accept")):
            body = proto.encode_list(res.api_version, res.list_kind, objs, str(rv), next_token,
                                     remaining if next_token else None)
            return Response(200, body, proto.MEDIA_TYPE)
        items = []
        for o in objs:
            m = self._manifest(o)
            m.pop("kind", None)
            m.pop("apiVersion", None)
            items.append(m)
        return json_response(200, {"kind": res.list_kind, "apiVersion": res.api_version, "metadata": meta, "items": items})

    # ------------------------------------------------------------------ watch

    def _watch(self, req: Request, res: Resource, namespace: str | None) -> WatchPlan:
        labels, fields = self._selectors(req, res)
        sub = Subscription(res.kind or "Event", namespace if res.namespaced else None, labels, fields,
                           self.max_watch_queue)
        rv_text = req.query.get("resourceVersion", "")
        send_initial = req.query.get("sendInitialEvents", "")
        timeout = _int(req, "timeoutSeconds")
        initial: list[tuple[str, Any]] = []
        error = None
        want_initial = rv_text in ("", "0") if send_initial == "" else _bool(req, "sendInitialEvents")
        if want_initial:
            for o in self._matching(res, sub.namespace, labels, fields):
                initial.append(("ADDED", o))
        if rv_text not in ("", "0"):
            try:
                rv = int(rv_text)
            except ValueError:
                raise ApiError(400, "BadRequest", f"invalid resource version: {rv_text!r}") from None
            history = self.hub.since(rv)
            if history is None:
                error = status(410, "Expired", f"too old resource version: {rv} ({self.hub.compacted_rv})")
            elif not want_initial:
                for e in history:
                    if e.kind == sub.kind:
                        ev = sub.translate(e)
                        if ev is not None:
                            initial.append((ev[0], ev[1].new))
        if res.stored and error is None:
            self.hub.subscribe(sub)
        as_proto = (res.stored and not res.inert and not _wants_table(req) and not _wants_partial(req)
                    and proto.wants_protobuf(req.header("Accept")))
        return WatchPlan(
            subscription=sub,
            initial=initial,
            error=error,
            as_table=_wants_table(req),
            as_partial=_wants_partial(req),
            as_proto=as_proto,
            bookmarks=_bool(req, "allowWatchBookmarks"),
            initial_end_bookmark=want_initial and send_initial != "" and _bool(req, "allowWatchBookmarks"),
            timeout=float(timeout) if timeout else None,
            include=req.query.get("includeObject", "Metadata"),
            content_type=(_TABLE_TYPE if _wants_table(req) else _PARTIAL_TYPE if _wants_partial(req)
                          else proto.WATCH_MEDIA_TYPE if as_proto else _JSON),
        )

    def stop_watch(self, plan: WatchPlan) -> None:
        self.hub._subs.get(plan.subscription.kind, set()).discard(plan.subscription)

    def watch_object(self, plan: WatchPlan, obj: Any) -> Any:
        """The JSON object of one watch event of ``plan``."""
        if plan.as_table:
            return tables.table(obj.kind, [obj], now=self._now(), resource_version=obj.metadata.resource_version,
                                include=plan.include)
        if plan.as_partial:
            return _partial(self._manifest(obj))
        return self._manifest(obj)

    def frame(self, plan: WatchPlan, type_: str, obj: Any) -> bytes:
        """One event of ``plan``'s stream: a JSON line, or a protobuf frame (``obj`` is an API
        object, a ``Status`` dict for ERROR, or a bookmark dict for BOOKMARK)."""
        if not plan.as_proto:
            return event_line(type_, obj if isinstance(obj, dict) else self.watch_object(plan, obj))
        if type_ == "ERROR":
            return proto.watch_frame(type_, proto.encode_status(obj))
        if type_ == "BOOKMARK":
            meta = obj["metadata"]
            return proto.watch_frame(type_, proto.encode_bookmark(
                obj["apiVersion"], obj["kind"], meta["resourceVersion"], "annotations" in meta))
        return proto.watch_frame(type_, proto.encode_object(obj))

    def bookmark(self, plan: WatchPlan, initial_end: bool = False) -> dict[str, Any]:
        kind = plan.subscription.kind
        info = KIND_INFO.get(kind)
        meta: dict[str, Any] = {"resourceVersion": str(self.hub.last_rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"kind": kind, "apiVersion": info.api_version if info else "v1", "metadata": meta}

    # ------------------------------------------------------------------ decoding

    def _body(self, req: Request, *, allow_yaml: bool = True) -> Any:
        ctype = req.header("Content-Type").split(";")[0].strip().lower()
        raw = req.body
        if not raw.strip():
            raise ApiError(400, "BadRequest", "the request body is empty")
        strict = req.query.get("fieldValidation", "") == "Strict"
        if ctype in ("", _JSON, "application/json-patch+json", "application/merge-patch+json",
                     "application/strategic-merge-patch+json") or (ctype == "application/apply-patch+yaml" and raw.lstrip()[:1] in (b"{", b"[")):
            dups: list[str] = []

            def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
                d: dict[str, Any] = {}
                for k, v in items:
                    if k in d:
                        dups.append(k)
                    d[k] = v
                return d

            try:
                value = json.loads(raw.decode("utf-8"), object_pairs_hook=pairs)
            except UnicodeDecodeError:
                raise ApiError(400, "BadRequest", "the request body is not valid UTF-8") from None
            except ValueError as exc:
                raise ApiError(400, "BadRequest", f"error decoding JSON: {exc}") from None
            if dups and strict:
                raise ApiError(400, "BadRequest", f'strict decoding error: json: duplicate field "{dups[0]}"')
            return value
        if ctype == proto.MEDIA_TYPE:
            return protodecode.decode(raw)
        if allow_yaml and ctype in ("application/yaml", "application/apply-patch+yaml"):
            try:
                return _load_yaml(raw.decode("utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
                raise ApiError(400, "BadRequest", f"error converting YAML to JSON: {exc}") from None
        raise ApiError(415, "UnsupportedMediaType",
                       f'the body of the request was in an unknown format - accepted media types include: '
                       f'application/json, application/yaml, application/apply-patch+yaml '
                       f'(got "{ctype}")')

    def _decode(self, req: Request, res: Resource, d: Any, *, name: str | None, namespace: str | None,
                warnings: list[str]) -> Any:
        """A manifest dict checked against the URL and decoded under ``fieldValidation``."""
        if not isinstance(d, dict):
            raise ApiError(400, "BadRequest", f"the body must be a JSON object, got {type(d).__name__}")
        d.setdefault("apiVersion", res.api_version)
        d.setdefault("kind", res.kind)
        if d.get("kind") != res.kind or d.get("apiVersion") != res.api_version:
            raise ApiError(400, "BadRequest",
                           f"the API version in the data ({d.get('apiVersion')}) does not match the expected "
                           f"API version ({res.api_version})" if d.get("kind") == res.kind else
                           f"the kind in the data ({d.get('kind')}) does not match the expected kind ({res.kind})")
        meta = d.get("metadata")
        if meta is None:
            meta = d["metadata"] = {}
        if not isinstance(meta, dict):
            raise ApiError(400, "BadRequest", "metadata: the body's metadata must be an object")
        if res.namespaced:
            ns = self._scope(res, namespace)
            if meta.get("namespace") not in (None, "", ns):
                raise ApiError(400, "BadRequest",
                               "the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = ns
        if name is not None and meta.get("name") not in (None, name):
            raise ApiError(400, "BadRequest",
                           f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})")
        if name is not None:
            meta["name"] = name
        mode = req.query.get("fieldValidation", "") or "Warn"
        if mode not in ("Ignore", "Warn", "Strict"):
            raise ApiError(400, "BadRequest",
                           f'fieldValidation must be one of "Ignore", "Warn" or "Strict", got {mode!r}')
        for _ in range(1000):
            try:
                return manifests.from_manifest(d)
            except _errors.ManifestError as exc:
                message = str(exc)
                if "unknown field" not in message or not exc.path or mode == "Strict":
                    if "unknown field" in message:
                        raise ApiError(400, "BadRequest", f'strict decoding error: unknown field "{exc.path}"') from None
                    raise ApiError(400, "BadRequest",
                                   f"{res.kind} in version \"{res.version}\" cannot be handled as a {res.kind}: "
                                   f"{message}") from None
                if mode == "Warn":
                    warnings.append(f'unknown field "{exc.path}"')
                _delete_path(d, exc.path)
        raise ApiError(400, "BadRequest", "too many unknown fields")

    def _actor(self, req: Request) -> str:
        return _user_agent_actor(req)

    def _dry_run(self, req: Request) -> bool:
        v = req.query.get("dryRun", "")
        if v == "":
            return False
        if v != "All":
            raise ApiError(400, "BadRequest", f'dryRun: Unsupported value: "{v}": supported values: "All"')
        return True

    def _write(self, req: Request, fn: Callable[[], Any]) -> Any:
        """Run a write; under ``dryRun=All`` inside a transaction that is rolled back."""
        if not self._dry_run(req):
            return fn()
        box: list[Any] = []
        pending = dict(self._foreground)
        try:
            with self.cluster.api.transaction():
                box.append(fn())
                raise _DryRun
        except _DryRun:
            self._foreground = pending
        return self._as_dry_run(box[0])

    def _as_dry_run(self, obj: Any) -> Any:
        """A dry run's answer carries the stored resourceVersion (none for a create), as
        ``registry/generic/registry/dryrun.go`` answers: nothing was written, so no version
        was consumed."""
        meta = getattr(obj, "metadata", None)
        if meta is None or not hasattr(obj, "kind"):
            return obj
        live = self.cluster.api.try_get(obj.kind, meta.name, meta.namespace)
        rv = live.metadata.resource_version if live is not None else ""
        return attrs.evolve(obj, metadata=attrs.evolve(meta, resource_version=rv))

    @staticmethod
    def _warning_headers(warnings: list[str]) -> dict[str, str]:
        if not warnings:
            return {}
        return {"Warning": ", ".join(f'299 - "{w}"' for w in warnings[:20])}

    # ------------------------------------------------------------------ create / update

    def _create(self, req: Request, res: Resource, namespace: str | None) -> Response:
        d = self._body(req)
        if isinstance(d, dict) and res.kind in _STATUS_RESET_ON_CREATE:
            _reset_status_for_create(res.kind, d)
        warnings: list[str] = []
        obj = self._decode(req, res, d, name=None, namespace=namespace, warnings=warnings)
        actor = self._actor(req)
        created = self._write(req, lambda: self.cluster.create(obj, actor=actor))
        return self._object_response(req, 201, created, self._warning_headers(warnings))

    def _with_live_status(self, res: Resource, d: dict[str, Any], live: Any) -> None:
        if res.kind in _STATUS_SUBRESOURCE:
            live_m = self._manifest(live)
            if "status" in live_m:
                d["status"] = live_m["status"]
            else:
                d.pop("status", None)

    def _status_only(self, d: dict[str, Any], live: Any) -> dict[str, Any]:
        out = self._manifest(live)
        if "status" in d:
            out["status"] = d["status"]
        rv = (d.get("metadata") or {}).get("resourceVersion") if isinstance(d.get("metadata"), dict) else None
        out["metadata"]["resourceVersion"] = rv or ""
        return out

    def _update(self, req: Request, res: Resource, name: str, namespace: str | None, sub: str | None) -> Response:
        d = self._body(req)
        if not isinstance(d, dict):
            raise ApiError(400, "BadRequest", "the body must be a JSON object")
        live = self._get(res, name, namespace)
        if sub == "status":
            d.setdefault("metadata", {})
            d = self._status_only(d, live)
        else:
            self._with_live_status(res, d, live)
        warnings: list[str] = []
        obj = self._decode(req, res, d, name=name, namespace=namespace, warnings=warnings)
        actor = self._actor(req)
        updated = self._write(req, lambda: self.cluster.update(obj, actor=actor))
        return self._object_response(req, 200, updated, self._warning_headers(warnings))

    # ------------------------------------------------------------------ patch

    def _patched(self, req: Request, res: Resource, live_m: dict[str, Any]) -> dict[str, Any]:
        ctype = req.header("Content-Type").split(";")[0].strip().lower()
        if ctype not in _PATCH_TYPES:
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media types include: "
                           + ", ".join(_PATCH_TYPES))
        p = self._body(req, allow_yaml=ctype == "application/apply-patch+yaml")
        if ctype == "application/json-patch+json":
            out = json_patch(live_m, p)
        elif ctype == "application/merge-patch+json":
            if not isinstance(p, dict):
                raise ApiError(400, "BadRequest", "json: cannot unmarshal array into Go value of type map[string]interface {}")
            out = merge_patch(live_m, p)
        elif ctype == "application/strategic-merge-patch+json":
            out = strategic_merge(live_m, p, _definition(res.kind) if res.kind else "")
        elif ctype == "application/apply-patch+yaml":
            if not isinstance(p, dict):
                raise ApiError(400, "BadRequest", "the applied configuration must be an object")
            out = strategic_merge(live_m, _apply_config(p), _definition(res.kind))
        else:
            raise ApiError(415, "UnsupportedMediaType",
                           'the body of the request was in an unknown format - accepted media types include: '
                           'application/json-patch+json, application/merge-patch+json, '
                           'application/apply-patch+yaml, application/strategic-merge-patch+json')
        if not isinstance(out, dict):
            raise ApiError(422, "Invalid", "the patched object is not a JSON object")
        return out

    def _patch(self, req: Request, res: Resource, name: str, namespace: str | None, sub: str | None) -> Response:
        ctype = req.header("Content-Type").split(";")[0].strip().lower()
        is_apply = ctype == "application/apply-patch+yaml"
        manager = req.query.get("fieldManager", "")
        if is_apply and not manager:
            raise ApiError(400, "BadRequest",
                           "PATCH, application/apply-patch+yaml requests require fieldManager to be set")
        live = self.cluster.api.try_get(res.kind, name, self._scope(res, namespace))
        actor = self._actor(req)
        warnings: list[str] = []
        if live is None:
            if not is_apply:
                raise _errors.NotFound(res.kind, name, self._scope(res, namespace))
            config = self._body(req)
            if not isinstance(config, dict):
                raise ApiError(400, "BadRequest", "the applied configuration must be an object")
            d = _apply_config(config)
            if res.kind in _STATUS_RESET_ON_CREATE:
                _reset_status_for_create(res.kind, d)
            _record_apply(d, config, manager, res, self._now())
            obj = self._decode(req, res, d, name=name, namespace=namespace, warnings=warnings)
            created = self._write(req, lambda: self.cluster.create(obj, actor=actor))
            return self._object_response(req, 201, created, self._warning_headers(warnings))
        live_m = self._manifest(live)
        out = self._patched(req, res, live_m)
        if sub == "status":
            out = self._status_only(out, live)
            out["metadata"]["resourceVersion"] = (out.get("metadata") or {}).get("resourceVersion") or ""
        else:
            self._with_live_status(res, out, live)
        meta = out.get("metadata")
        # a patch is optimistic only if it names a resourceVersion itself
        if isinstance(meta, dict) and meta.get("resourceVersion") == live.metadata.resource_version:
            meta["resourceVersion"] = ""
        if is_apply:
            config = self._body(req)
            config = config if isinstance(config, dict) else {}
            _prune_unapplied(out, live_m, config, manager, _definition(res.kind))
            _record_apply(out, config, manager, res, self._now())
        obj = self._decode(req, res, out, name=name, namespace=namespace, warnings=warnings)
        updated = self._write(req, lambda: self.cluster.update(obj, actor=actor))
        return self._object_response(req, 200, updated, self._warning_headers(warnings))

    # ------------------------------------------------------------------ scale

    def _scale(self, obj: Any) -> dict[str, Any]:
        """The ``autoscaling/v1`` Scale of a Deployment, ReplicaSet or StatefulSet
        (``pkg/registry/apps/deployment/storage``: ``status.selector`` as a selector string)."""
        from kubesim.kubectl.common import _label_selector_string

        m = self._manifest(obj)["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in m},
            "spec": {"replicas": 1 if obj.spec.replicas is None else obj.spec.replicas},
            "status": {"replicas": obj.status.replicas, "selector": _label_selector_string(obj.spec.selector)},
        }

    def _write_scale(self, req: Request, res: Resource, name: str, namespace: str | None) -> Response:
        live = self._get(res, name, namespace)
        current = self._scale(live)
        if req.method.upper() == "PUT":
            new = self._body(req)
        else:
            ctype = req.header("Content-Type").split(";")[0].strip().lower()
            if ctype not in _PATCH_TYPES[:3]:
                raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {ctype}")
            p = self._body(req, allow_yaml=False)
            if ctype == "application/json-patch+json":
                new = json_patch(current, p)
            elif ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                if not isinstance(p, dict):
                    raise ApiError(400, "BadRequest", "json: cannot unmarshal array into Go value of type map[string]interface {}")
                new = merge_patch(current, p)
            else:
                raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {ctype}")
        if not isinstance(new, dict):
            raise ApiError(400, "BadRequest", "the body must be a Scale object")
        spec_d = new.get("spec")
        replicas = spec_d.get("replicas", 0) if isinstance(spec_d, dict) else 0
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise ApiError(400, "BadRequest", "Scale in version \"v1\" cannot be handled as a Scale: spec.replicas: expected an integer")
        rv = (new.get("metadata") or {}).get("resourceVersion") if isinstance(new.get("metadata"), dict) else None
        if rv and rv != live.metadata.resource_version:
            raise _errors.Conflict(res.kind, name, live.metadata.namespace)
        if replicas < 0:
            raise _errors.InvalidObject("Scale", name, [_errors.FieldError(
                "spec.replicas", "Invalid value", replicas, "must be greater than or equal to 0")])
        obj = attrs.evolve(live, spec=attrs.evolve(live.spec, replicas=replicas))
        actor = self._actor(req)
        updated = self._write(req, lambda: self.cluster.update(obj, actor=actor))
        return json_response(200, self._scale(updated))

    # ------------------------------------------------------------------ delete

    def _delete_options(self, req: Request) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        if req.body.strip():
            d = self._body(req, allow_yaml=False)
            if not isinstance(d, dict):
                raise ApiError(400, "BadRequest", "DeleteOptions must be a JSON object")
            opts.update(d)
        grace = _int(req, "gracePeriodSeconds")
        if grace is not None:
            opts["gracePeriodSeconds"] = grace
        if "propagationPolicy" in req.query:
            opts["propagationPolicy"] = req.query["propagationPolicy"]
        if "orphanDependents" in req.query:
            opts["orphanDependents"] = _bool(req, "orphanDependents")
        g = opts.get("gracePeriodSeconds")
        if g is not None and (not isinstance(g, int) or isinstance(g, bool) or g < 0):
            raise ApiError(422, "Invalid", f"DeleteOptions.gracePeriodSeconds: Invalid value: {g!r}: must be >= 0")
        policy = opts.get("propagationPolicy")
        if policy is None and opts.get("orphanDependents") is True:
            policy = opts["propagationPolicy"] = "Orphan"
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise ApiError(422, "Invalid", f'DeleteOptions.propagationPolicy: Unsupported value: "{policy}": '
                                           f'supported values: "Foreground", "Background", "Orphan"')
        dry = opts.get("dryRun")
        if dry and dry != ["All"]:
            raise ApiError(400, "BadRequest", f'dryRun: Unsupported value: {dry!r}: supported values: "All"')
        return opts

    def _dependents(self, owner: Any) -> list[Any]:
        uid = owner.metadata.uid
        out = []
        for r in RESOURCES:
            if not r.stored:
                continue
            for o in self.cluster.api.list(r.kind, None):
                if any(r.uid == uid for r in o.metadata.owner_references):
                    out.append(o)
        return out

    def _delete_one(self, res_kind: str, obj: Any, opts: dict[str, Any], actor: str) -> Any:
        meta = obj.metadata
        pre = opts.get("preconditions")
        if isinstance(pre, dict):
            if pre.get("uid") and pre["uid"] != meta.uid:
                raise ApiError(409, "Conflict",
                               f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.uid}",
                               {"name": meta.name, "kind": for_kind(res_kind).plural})
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta.resource_version:
                raise ApiError(409, "Conflict",
                               f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                               f"ResourceVersion in object meta: {meta.resource_version}",
                               {"name": meta.name, "kind": for_kind(res_kind).plural})
        policy = opts.get("propagationPolicy")
        api = self.cluster.api
        if policy == "Orphan":
            for dep in self._dependents(obj):
                refs = tuple(r for r in dep.metadata.owner_references if r.uid != meta.uid)
                api.update(attrs.evolve(dep, metadata=attrs.evolve(dep.metadata, owner_references=refs)), actor=actor)
        grace = opts.get("gracePeriodSeconds")
        if policy == "Foreground":
            dependents = self._dependents(obj)
            if dependents:
                # The owner stays, marked, with the foregroundDeletion finalizer until its
                # dependents are gone (each deleted in the foreground too); then the finalizer
                # goes and the owner with it (_settle_foreground, on every later deletion).
                if FOREGROUND_FINALIZER not in meta.finalizers:
                    obj = api.update(attrs.evolve(obj, metadata=attrs.evolve(
                        meta, finalizers=(*meta.finalizers, FOREGROUND_FINALIZER), resource_version="")), actor=actor)
                marked = api.delete(res_kind, meta.name, meta.namespace, actor=actor, grace_period_seconds=grace)
                self._foreground[obj.metadata.uid] = (res_kind, meta.namespace, meta.name)
                for dep in dependents:
                    live = api.try_get(dep.kind, dep.metadata.name, dep.metadata.namespace)
                    if live is not None and live.metadata.deletion_timestamp is None:
                        self._delete_one(dep.kind, live, {"propagationPolicy": "Foreground"}, actor)
                self._settle_foreground()
                return marked
        return api.delete(res_kind, meta.name, meta.namespace, actor=actor, grace_period_seconds=grace)

    def _on_event(self, ev: Any) -> None:
        if ev.type == "DELETED" and self._foreground and not self._settle_scheduled:
            # a write from inside a watch delivery waits for the clock, as the GC's do
            self._settle_scheduled = True
            self.cluster.clock.schedule(0.0, self._settle_foreground)

    def _settle_foreground(self) -> None:
        """Remove the foregroundDeletion finalizer of every owner whose dependents are all
        gone (the garbage collector's part of foreground deletion). ``O(objects)`` per owner."""
        self._settle_scheduled = False
        api = self.cluster.api
        for uid, (kind, ns, name) in list(self._foreground.items()):
            owner = api.try_get(kind, name, ns)
            if owner is None or owner.metadata.uid != uid:
                del self._foreground[uid]
                continue
            if self._dependents(owner):
                continue
            del self._foreground[uid]
            meta = owner.metadata
            rest = tuple(f for f in meta.finalizers if f != FOREGROUND_FINALIZER)
            api.update(attrs.evolve(owner, metadata=attrs.evolve(meta, finalizers=rest, resource_version="")),
                       actor="garbage-collector")

    def _evict(self, req: Request, res: Resource, name: str, namespace: str | None) -> Response:
        """``POST pods/<name>/eviction`` (``pkg/registry/core/pod/storage/eviction.go``): the pod
        is deleted with the Eviction's ``deleteOptions``. kubesim models no disruption budget,
        so an eviction is never refused with 429."""
        d = self._body(req, allow_yaml=False)
        if not isinstance(d, dict) or d.get("kind", "Eviction") != "Eviction":
            raise ApiError(400, "BadRequest", "the body must be an Eviction (policy/v1)")
        meta_v = d.get("metadata")
        meta: dict[str, Any] = meta_v if isinstance(meta_v, dict) else {}
        if meta.get("name") not in (None, "", name):
            raise ApiError(400, "BadRequest", f"name in URL does not match name in Eviction object: {name} vs {meta.get('name')}")
        pod = self._get(res, name, namespace)
        opts_v = d.get("deleteOptions")
        opts: dict[str, Any] = opts_v if isinstance(opts_v, dict) else {}
        body = json.dumps(opts).encode()
        dreq = attrs.evolve(req, headers={"Content-Type": "application/json"}, body=body if opts else b"",
                            query={k: v for k, v in req.query.items() if k == "dryRun"})
        options = self._delete_options(dreq)
        actor = self._actor(req)
        if options.get("dryRun"):
            dreq = attrs.evolve(dreq, query={**dreq.query, "dryRun": "All"})
        self._write(dreq, lambda: self._delete_one("Pod", pod, options, actor))
        return json_response(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})

    def _delete(self, req: Request, res: Resource, name: str, namespace: str | None) -> Response:
        opts = self._delete_options(req)
        obj = self._get(res, name, namespace)
        actor = self._actor(req)
        if opts.get("dryRun"):
            req = attrs.evolve(req, query={**req.query, "dryRun": "All"})
        last = self._write(req, lambda: self._delete_one(res.kind, obj, opts, actor))
        still = self.cluster.api.try_get(res.kind, name, self._scope(res, namespace))
        if still is not None and not self._dry_run(req):
            # not deleted yet (graceful, finalizers): the object, 202 only when the client asked
            # for orphanDependents=false (delete.go keeps 200 otherwise, for old clients)
            code = 202 if opts.get("orphanDependents") is False else 200
            return self._object_response(req, code, still)
        if res.kind == "Pod":
            return self._object_response(req, 200, last)
        info = KIND_INFO[res.kind]
        details: dict[str, Any] = {"name": name}
        if info.group:
            details["group"] = info.group
        details["kind"] = info.plural
        details["uid"] = obj.metadata.uid
        return json_response(200, success(details))

    def _delete_collection(self, req: Request, res: Resource, namespace: str | None) -> Response:
        opts = self._delete_options(req)
        labels, fields = self._selectors(req, res)
        objs = self._matching(res, namespace, labels, fields)
        actor = self._actor(req)
        if opts.get("dryRun"):
            req = attrs.evolve(req, query={**req.query, "dryRun": "All"})

        def run() -> list[Any]:
            out = []
            for o in objs:
                live = self.cluster.api.try_get(res.kind, o.metadata.name, o.metadata.namespace)
                if live is not None:
                    out.append(self._delete_one(res.kind, live, opts, actor))
            return out

        deleted = self._write(req, run)
        items = []
        for o in deleted:
            m = self._manifest(o)
            m.pop("kind", None)
            m.pop("apiVersion", None)
            items.append(m)
        return json_response(200, {"kind": res.list_kind, "apiVersion": res.api_version,
                                   "metadata": {"resourceVersion": str(self.resource_version())}, "items": items})


_MAX_YAML_NODES = 200_000


def _load_yaml(text: str) -> Any:
    """One YAML document with ``yaml.safe_load`` semantics, refusing documents whose aliases
    expand past :data:`_MAX_YAML_NODES` nodes (a "billion laughs" body) or recurse."""
    node = yaml.compose(text, Loader=_JSONLoader)
    if node is None:
        return None
    weight: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(node, False)]
    active: set[int] = set()
    while stack:
        n, done = stack.pop()
        if done:
            active.discard(id(n))
            kids = [c for pair in n.value for c in pair] if isinstance(n, yaml.MappingNode) else (
                n.value if isinstance(n, yaml.SequenceNode) else [])
            total = 1 + sum(weight[id(c)] for c in kids)
            if total > _MAX_YAML_NODES:
                raise yaml.YAMLError("yaml: document contains excessive aliasing")
            weight[id(n)] = total
            continue
        if id(n) in weight:
            continue
        if id(n) in active:
            raise yaml.YAMLError("yaml: document contains a recursive alias")
        active.add(id(n))
        stack.append((n, True))
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.extend([(k, False), (v, False)])
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((c, False) for c in n.value)
    loader = _JSONLoader("")
    try:
        return _jsonable(loader.construct_document(node))
    finally:
        loader.dispose()


class _JSONLoader(yaml.SafeLoader):  # type: ignore[misc,unused-ignore]
    """``yaml.safe_load`` without timestamp resolution: timestamps stay strings, as in
    ``sigs.k8s.io/yaml`` (YAML is converted to JSON before it is decoded)."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _jsonable(value: Any, depth: int = 0) -> Any:
    """A YAML value as the JSON it converts to: keys as strings (``1: x`` -> ``"1"``), bytes
    (``!!binary``) as base64; infinities and NaN, which JSON cannot hold, are a 400."""
    if depth > 1000:
        raise ApiError(400, "BadRequest", "error converting YAML to JSON: the document is nested too deeply")
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, bool):
                key = "true" if k else "false"
            elif k is None:
                key = "null"
            elif isinstance(k, (str, int, float)):
                key = str(k)
            else:
                raise ApiError(400, "BadRequest", f"error converting YAML to JSON: unsupported map key of type {type(k).__name__}")
            out[key] = _jsonable(v, depth + 1)
        return out
    if isinstance(value, list):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ApiError(400, "BadRequest", f"error converting YAML to JSON: json: unsupported value: {value}")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # a date, a set: as its text


def _delete_path(d: Any, path: str) -> None:
    """Remove the field at a kubesim field path (``spec.ports[0].foo``) from a manifest dict."""
    segs: list[str | int] = []
    for part in path.split("."):
        while "[" in part:
            head, _, rest = part.partition("[")
            if head:
                segs.append(head)
            idx, _, part = rest.partition("]")
            segs.append(int(idx))
        if part:
            segs.append(part)
    cur = d
    for s in segs[:-1]:
        cur = cur[s]
    last = segs[-1]
    if isinstance(cur, dict) and isinstance(last, str):
        cur.pop(last, None)
    else:
        raise ApiError(400, "BadRequest", f"cannot drop unknown field {path}")


def _apply_config(config: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of an applied configuration without the ``managedFields`` a client may have
    sent: server-side apply merges every field it sets (lists by their merge keys)."""
    c = json.loads(json.dumps(config))
    if isinstance(c.get("metadata"), dict):
        c["metadata"].pop("managedFields", None)
    return dict(c)


def _fields_v1(value: Any, definition: str | None) -> Any:
    """The ``FieldsV1`` set of a configuration under the schema ``definition``: ``f:<field>``
    for map keys; the elements of a list with a merge key (:data:`kubesim.patch.MERGE_KEYS`)
    as ``k:{"<key>":<value>}``, of a merge list of primitives as ``v:<value>``; any other list
    is atomic (owned as a whole). Upstream keys a Service port by port and protocol; here by
    the merge key alone."""
    from kubesim.patch import MERGE_KEYS, _children

    out: dict[str, Any] = {}
    if not isinstance(value, dict):
        return out
    kids = _children().get(definition or "", {})
    for k, v in value.items():
        strategy, key = MERGE_KEYS.get((definition or "", k), ("", ""))
        if isinstance(v, list) and "merge" in strategy:
            elems: dict[str, Any] = {}
            for e in v:
                if key and isinstance(e, dict) and key in e:
                    elems["k:" + json.dumps({key: e[key]}, separators=(",", ":"))] = {".": {}, **_fields_v1(e, kids.get(k))}
                elif not key and not isinstance(e, (dict, list)):
                    elems["v:" + json.dumps(e, separators=(",", ":"))] = {}
            out[f"f:{k}"] = elems
        elif isinstance(v, dict):
            out[f"f:{k}"] = _fields_v1(v, kids.get(k))
        else:
            out[f"f:{k}"] = {}
    return out


def _applied_fields(config: dict[str, Any], definition: str) -> dict[str, Any]:
    """The ``FieldsV1`` set an applied configuration owns: everything it sets but ``kind``,
    ``apiVersion``, ``status`` and the server-owned metadata."""
    fields = {k: v for k, v in config.items() if k in ("metadata", "spec", "subsets", "endpoints", "ports", "addressType")}
    if isinstance(fields.get("metadata"), dict):
        fields["metadata"] = {k: v for k, v in fields["metadata"].items() if k in ("labels", "annotations", "finalizers", "ownerReferences")}
        if not fields["metadata"]:
            fields.pop("metadata")
    out: dict[str, Any] = _fields_v1(fields, definition)
    return out


def _locate(container: Any, key: str) -> tuple[Any, Any]:
    """(parent, index-or-name) of the element a ``FieldsV1`` key names in ``container``, or
    ``(None, None)``."""
    kind, _, rest = key.partition(":")
    if kind == "f" and isinstance(container, dict) and rest in container:
        return container, rest
    if kind in ("k", "v") and isinstance(container, list):
        try:
            want = json.loads(rest)
        except ValueError:
            return None, None
        for i, e in enumerate(container):
            if kind == "v" and e == want:
                return container, i
            if kind == "k" and isinstance(e, dict) and isinstance(want, dict) and all(e.get(k) == v for k, v in want.items()):
                return container, i
    return None, None


def _prune(obj: Any, old: dict[str, Any], new: dict[str, Any], others: list[dict[str, Any]]) -> None:
    # Remove what ``old`` owns and ``new`` no longer does, unless another applier owns it.
    doomed: list[tuple[Any, Any]] = []
    for key in old:
        if key == ".":
            continue
        parent, where = _locate(obj, key)
        if parent is None:
            continue
        kept = [o[key] for o in others if isinstance(o.get(key), dict)]
        if key not in new:
            if not kept:
                doomed.append((parent, where))
            continue
        sub_old, sub_new = old[key], new[key]
        if isinstance(sub_old, dict) and isinstance(sub_new, dict):
            _prune(parent[where], sub_old, sub_new, kept)
    # list elements last to first, so the indexes stay valid
    for parent, where in sorted(doomed, key=lambda pw: pw[1] if isinstance(pw[1], int) else -1, reverse=True):
        del parent[where]


def _prune_unapplied(out: dict[str, Any], live_m: dict[str, Any], config: dict[str, Any], manager: str,
                     definition: str) -> None:
    """Server-side apply's removal: fields ``manager`` applied before and leaves out now are
    removed from ``out``, unless another Apply manager owns them too."""
    entries = [e for e in (live_m.get("metadata") or {}).get("managedFields") or [] if isinstance(e, dict)
               and e.get("operation") == "Apply" and isinstance(e.get("fieldsV1"), dict)]
    previous = [e["fieldsV1"] for e in entries if e.get("manager") == manager]
    if not previous:
        return
    others = [e["fieldsV1"] for e in entries if e.get("manager") != manager]
    _prune(out, previous[0], _applied_fields(config, definition), others)


def _record_apply(d: dict[str, Any], config: dict[str, Any], manager: str, res: Resource, now: int) -> None:
    """Set the ``managedFields`` entry of ``manager`` (operation ``Apply``) on manifest ``d``."""
    meta = d.setdefault("metadata", {})
    if not isinstance(meta, dict):
        return
    entry = {
        "manager": manager,
        "operation": "Apply",
        "apiVersion": res.api_version,
        "time": manifests.format_time(now),
        "fieldsType": "FieldsV1",
        "fieldsV1": _applied_fields(config, _definition(res.kind)),
    }
    entries = [e for e in (meta.get("managedFields") or []) if isinstance(e, dict) and not (
        e.get("manager") == manager and e.get("operation") == "Apply")]
    entries.append(entry)
    meta["managedFields"] = entries
