"""The pure parts of ``kubesim serve``, without HTTP: Status mapping, patches, selectors and
paging tokens, OpenAPI and discovery documents, Tables, and the REST backend itself.

Oracles: a strategic merge patch of maps without lists is a JSON merge patch (RFC 7386); the
OpenAPI schemas name every field of the manifests field table; a Table's cells are the
kubectl printers' cells; a write through the backend equals the same write through the library.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kubesim
from kubesim import errors, manifests
from kubesim.kinds import KIND_INFO
from kubesim.patch import PatchError, json_patch, merge_patch, strategic_merge
from kubesim.serve import discovery, openapi, query
from kubesim.serve.resources import RESOURCES
from kubesim.serve.rest import Backend, Request, Response
from kubesim.serve.status import ApiError, from_exception

try:
    from tests.serve_support import pb_fields
except ImportError:  # tests/ itself on sys.path
    from serve_support import pb_fields  # type: ignore[no-redef]

#: the kinds served (every kind with an object model)
SERVED = {r.kind: KIND_INFO[r.kind] for r in RESOURCES if r.stored}

POD = "io.k8s.api.core.v1.Pod"


# ---------------------------------------------------------------------------- Status


@pytest.mark.parametrize(("exc", "code", "reason"), [
    (errors.NotFound("Deployment", "web"), 404, "NotFound"),
    (errors.AlreadyExists("Service", "web"), 409, "AlreadyExists"),
    (errors.Conflict("EndpointSlice", "web-abcde"), 409, "Conflict"),
    (errors.InvalidObject("Service", "web", [errors.FieldError("spec.ports[0].port", "Invalid value", 0, "must be between 1 and 65535, inclusive")]), 422, "Invalid"),
    (errors.ManifestError('unknown field "spec.x"', path="spec.x"), 400, "BadRequest"),
    (errors.InvalidSelector("unable to parse requirement"), 400, "BadRequest"),
    (errors.RequestTooLarge("Endpoints", "big", 2_000_000, 1_572_864), 413, "RequestEntityTooLarge"),
    (ValueError("boom"), 500, "InternalError"),
])
def test_status_codes_and_reasons(exc: Exception, code: int, reason: str) -> None:
    got, body = from_exception(exc)
    assert got == code and body["code"] == code and body["reason"] == reason
    assert body["kind"] == "Status" and body["status"] == "Failure"
    if code == 500:
        assert "boom" not in body["message"]  # no internals leak


def test_status_details_name_group_and_causes() -> None:
    _, body = from_exception(errors.NotFound("EndpointSlice", "web-abcde"))
    assert body["message"] == 'endpointslices.discovery.k8s.io "web-abcde" not found'
    assert body["details"] == {"name": "web-abcde", "group": "discovery.k8s.io", "kind": "endpointslices"}
    err = errors.InvalidObject("Deployment", "web", [
        errors.FieldError("spec.replicas", "Invalid value", -1, "must be greater than or equal to 0"),
        errors.FieldError("spec.selector", "Required value")])
    _, body = from_exception(err)
    assert body["details"]["kind"] == "Deployment" and body["details"]["group"] == "apps"
    assert body["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be greater than or equal to 0", "field": "spec.replicas"},
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"}]
    # kubectl joins field and message: the API server's own error text
    assert str(err).endswith("[" + ", ".join(f'{c["field"]}: {c["message"]}' for c in body["details"]["causes"]) + "]")


# ---------------------------------------------------------------------------- patches


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                           lambda children: st.dictionaries(st.text("abc", max_size=2), children, max_size=3), max_leaves=8)
maps = st.dictionaries(st.text("abcd", max_size=2), json_values, max_size=4)


@given(maps, maps)
def test_strategic_merge_of_maps_is_json_merge_patch(original: dict[str, Any], patch: dict[str, Any]) -> None:
    assert strategic_merge(original, patch, "") == merge_patch(original, patch)


def test_strategic_merge_lists_by_merge_key_and_directives() -> None:
    live = {"spec": {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 80}]},
                                    {"name": "b", "image": "y"}]},
            "metadata": {"finalizers": ["f1"]}}
    out = strategic_merge(live, {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 81}]},
                                                         {"name": "c", "image": "z"}]},
                                 "metadata": {"finalizers": ["f2", "f1"]}}, POD)
    assert [c["name"] for c in out["spec"]["containers"]] == ["a", "b", "c"]
    assert out["spec"]["containers"][0]["ports"] == [{"containerPort": 80}, {"containerPort": 81}]
    assert out["spec"]["containers"][0]["image"] == "x"
    assert out["metadata"]["finalizers"] == ["f1", "f2"]
    out = strategic_merge(live, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}, POD)
    assert [c["name"] for c in out["spec"]["containers"]] == ["b"]
    out = strategic_merge(live, {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}, POD)
    assert [c["name"] for c in out["spec"]["containers"]] == ["b", "a"]
    out = strategic_merge(live, {"spec": {"containers": [{"name": "q", "image": "q"}, {"$patch": "replace"}]}}, POD)
    assert out["spec"]["containers"] == [{"name": "q", "image": "q"}]
    out = strategic_merge(live, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["f1"]}}, POD)
    assert out["metadata"]["finalizers"] == []
    out = strategic_merge(live, {"spec": {"$patch": "replace", "nodeName": "n"}}, POD)
    assert out["spec"] == {"nodeName": "n"}
    # a list without a merge key is replaced
    ep = {"subsets": [{"addresses": [{"ip": "1.1.1.1"}]}]}
    assert strategic_merge(ep, {"subsets": [{"addresses": [{"ip": "2.2.2.2"}]}]}, "io.k8s.api.core.v1.Endpoints") == {
        "subsets": [{"addresses": [{"ip": "2.2.2.2"}]}]}
    with pytest.raises(PatchError) as exc:
        strategic_merge(live, {"spec": {"containers": [{"image": "no-name"}]}}, POD)
    assert exc.value.code == 400
    assert live["spec"]["containers"][0]["ports"] == [{"containerPort": 80}]  # the input is untouched


@given(maps, st.text("abcd", min_size=1, max_size=2), json_values)
def test_json_patch_add_then_remove_is_identity(doc: dict[str, Any], key: str, value: Any) -> None:
    if key in doc:
        return
    added = json_patch(doc, [{"op": "add", "path": "/" + key, "value": value}])
    assert added[key] == value
    assert json_patch(added, [{"op": "remove", "path": "/" + key}]) == doc


def test_json_patch_operations_and_errors() -> None:
    doc = {"a": {"b": [1, 2, 3]}, "c~d/e": 1}
    assert json_patch(doc, [{"op": "add", "path": "/a/b/-", "value": 4}])["a"]["b"] == [1, 2, 3, 4]
    assert json_patch(doc, [{"op": "add", "path": "/a/b/0", "value": 0}])["a"]["b"] == [0, 1, 2, 3]
    assert json_patch(doc, [{"op": "replace", "path": "/c~0d~1e", "value": 2}])["c~d/e"] == 2
    assert json_patch(doc, [{"op": "move", "from": "/a/b", "path": "/x"}]) == {"a": {}, "c~d/e": 1, "x": [1, 2, 3]}
    assert json_patch(doc, [{"op": "copy", "from": "/a/b/1", "path": "/y"}])["y"] == 2
    for ops, code in [([{"op": "remove", "path": "/zz"}], 422), ([{"op": "test", "path": "/c~0d~1e", "value": 9}], 422),
                      ([{"op": "add", "path": "/a/b/9", "value": 1}], 422), ([{"op": "frob", "path": "/a"}], 400),
                      ({"op": "add"}, 400), ([{"op": "add", "path": "a", "value": 1}], 422),
                      ([{"op": "move", "from": "/a", "path": "/a/b"}], 422),
                      ([{"op": "add", "path": "/q", "value": 1}] * 10001, 413),
                      # each copy doubles the document: refused long before memory runs out
                      ([{"op": "copy", "from": "", "path": f"/x{i}"} for i in range(60)], 422)]:
        with pytest.raises(PatchError) as exc:
            json_patch(doc, ops)
        assert exc.value.code == code, ops[:1]
    assert doc == {"a": {"b": [1, 2, 3]}, "c~d/e": 1}


# ---------------------------------------------------------------------------- selectors and paging


def test_field_selectors() -> None:
    sel = query.parse_field_selector(r"metadata.name=a\,b,status.phase!=Running", "Pod")
    assert sel == [("metadata.name", "=", "a,b"), ("status.phase", "!=", "Running")]
    assert query.parse_field_selector("spec.nodeName==node-1", "Pod") == [("spec.nodeName", "=", "node-1")]
    assert query.parse_field_selector("", "Pod") == []
    with pytest.raises(ApiError) as exc:
        query.parse_field_selector("spec.nodeName=x", "Service")
    assert exc.value.code == 400 and exc.value.body["message"] == "field label not supported: spec.nodeName"
    with pytest.raises(ApiError):
        query.parse_field_selector("justaword", "Pod")
    cluster = kubesim.Cluster(seed=0, nodes=1)
    node = cluster.get("Node", "node-1")
    assert query.field_matches([("metadata.name", "=", "node-1"), ("spec.unschedulable", "=", "false")], node, "Node")
    assert not query.field_matches([("metadata.name", "!=", "node-1")], node, "Node")


def test_continue_tokens_round_trip_and_reject_garbage() -> None:
    token = query.encode_continue(42, ("default", "web-1"))
    assert query.decode_continue(token) == (42, ("default", "web-1"))
    for bad in ("", "!!!", "e30", token[:-3]):
        with pytest.raises(ApiError) as exc:
            query.decode_continue(bad)
        assert exc.value.code == 400


# ---------------------------------------------------------------------------- documents


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        out = {value["$ref"]} if "$ref" in value else set()
        for v in value.values():
            out |= _refs(v)
        return out
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def test_openapi_schemas_cover_the_field_table_and_every_ref_resolves() -> None:
    defs = openapi.definitions()
    for _cls, (name, fields, ignored) in manifests._SCHEMA.items():
        props = defs[name]["properties"]
        assert {f[0] for f in fields} <= set(props), name
        assert set(ignored.split()) <= set(props), name
    for kind, info in SERVED.items():
        gvks = [d.get("x-kubernetes-group-version-kind") for d in defs.values()]
        assert [{"group": info.group, "kind": kind, "version": info.version}] in gvks, kind
    v2 = openapi.v2()
    assert {r.removeprefix("#/definitions/") for r in _refs(v2)} <= set(v2["definitions"])
    for path, entry in openapi.v3_index()["paths"].items():
        raw = openapi.v3_group_version(path)
        assert raw is not None and entry["serverRelativeURL"].startswith(f"/openapi/v3/{path}?hash=")
        doc = json.loads(raw)
        assert {r.removeprefix("#/components/schemas/") for r in _refs(doc)} <= set(doc["components"]["schemas"])
        patches = [op["patch"] for op in doc["paths"].values() if "patch" in op]
        assert patches and all("fieldValidation" in [p["name"] for p in op["parameters"]] for op in patches)


def test_discovery_lists_every_kind_once() -> None:
    served = []
    for root in ("api", "apis"):
        for item in discovery.aggregated(root)["items"]:
            for v in item["versions"]:
                served += [(item["metadata"]["name"], r["responseKind"]["kind"]) for r in v["resources"]]
    assert sorted(k for g, k in served) == sorted(SERVED)
    assert all((info.group, kind) in served for kind, info in SERVED.items())
    assert {"Pod", "Service", "Node", "Namespace", "Endpoints", "EndpointSlice", "Deployment", "ReplicaSet"} <= set(SERVED)
    lst = discovery.resource_list("apps/v1")
    assert lst is not None and {r["name"] for r in lst["resources"]} >= {
        "deployments", "deployments/status", "deployments/scale", "replicasets", "replicasets/status", "replicasets/scale"}
    assert {r["name"] for r in lst["resources"] if "/" not in r["name"]} == {
        r.plural for r in RESOURCES if r.api_version == "apps/v1"}
    assert discovery.resource_list("apps/v2") is None


# ---------------------------------------------------------------------------- the backend


def _backend() -> Backend:
    return Backend(kubesim.Cluster(seed=0, nodes=2))


def _json(resp: Response | Any) -> Any:
    assert isinstance(resp, Response)
    return json.loads(resp.body)


def test_table_cells_are_the_kubectl_printers_cells() -> None:
    b = _backend()
    cluster = b.cluster
    cluster.apply_file("examples/manifests/nginx-deployment.yaml")
    cluster.apply_file("examples/manifests/nginx-service.yaml")
    cluster.run(until=60)
    from kubesim.kubectl import printers

    for kind in SERVED:
        path = f"/api/v1/{KIND_INFO[kind].plural}" if not KIND_INFO[kind].group else \
            f"/apis/{KIND_INFO[kind].api_version}/{KIND_INFO[kind].plural}"
        resp = b.handle(Request("GET", path, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}))
        table = _json(resp)
        objs = cluster.list(kind, None)
        assert [r["cells"] for r in table["rows"]] == [printers.table_row(o, cluster.now_unix) for o in objs], kind
        assert [(c["name"], c["priority"] == 1) for c in table["columnDefinitions"]] == list(printers.table_columns(kind))
        assert [r["object"]["metadata"]["name"] for r in table["rows"]] == [o.metadata.name for o in objs]


def test_a_write_through_the_backend_equals_the_library_write() -> None:
    body = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "db", "labels": {"a": "b"}},
            "subsets": [{"addresses": [{"ip": "192.168.49.1"}], "ports": [{"port": 5432}]}]}
    b = _backend()
    resp = b.handle(Request("POST", "/api/v1/namespaces/default/endpoints", body=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json", "User-Agent": "kubectl/v1.37.1 (linux/amd64)"}))
    assert isinstance(resp, Response) and resp.code == 201
    lib = kubesim.Cluster(seed=0, nodes=2)
    expected = lib.create(body, actor="kubectl")
    assert b.cluster.get("Endpoints", "db") == expected
    assert _json(resp) == manifests.to_manifest(expected)
    assert b.cluster.changes[-1] == lib.changes[-1]
    patch = {"metadata": {"labels": {"a": None, "c": "d"}}}
    resp = b.handle(Request("PATCH", "/api/v1/namespaces/default/endpoints/db", body=json.dumps(patch).encode(),
                            headers={"Content-Type": "application/merge-patch+json", "User-Agent": "kubectl/v1"}))
    assert isinstance(resp, Response) and resp.code == 200
    live = lib.get("Endpoints", "db")
    lib.update(manifests.from_manifest(merge_patch(manifests.to_manifest(live), patch)), actor="kubectl")
    assert b.cluster.get("Endpoints", "db") == lib.get("Endpoints", "db")
    assert b.cluster.changes[-1] == lib.changes[-1]


@pytest.mark.parametrize(("method", "path", "code"), [
    ("GET", "/api/v1/namespaces/default/pods/nope", 404),
    ("GET", "/api/v1/nodes/node-1/scale", 404),
    ("GET", "/apis/apps/v1/namespaces/default/deployments/x/exec", 404),
    ("PUT", "/api/v1/namespaces/default/pods", 405),
    ("GET", "/api/v2/pods", 404),
    ("GET", "/apis/apps", 200),
    ("GET", "/apis/nope", 404),
    ("GET", "/api/v1/namespaces/default/nodes", 404),
    ("GET", "/api/v1/namespaces/default/pods?limit=x", 400),
    ("GET", "/api/v1/namespaces/default/pods?watch=maybe", 400),
    ("POST", "/api/v1/namespaces/default/events", 400),  # events are written now: an empty body is refused
    ("GET", "/healthz", 200),
    ("GET", "/api/v1/namespaces/default/pods/nope/log", 404),
])
def test_backend_paths(method: str, path: str, code: int) -> None:
    base, _, qs = path.partition("?")
    q = dict(p.split("=", 1) for p in qs.split("&")) if qs else {}
    resp = _backend().handle(Request(method, base, q))
    assert isinstance(resp, Response) and resp.code == code
    if code >= 400:
        assert json.loads(resp.body)["code"] == code


def test_protobuf_get_and_list_are_what_the_change_log_accounts() -> None:
    from kubesim import wire

    b = _backend()
    cluster = b.cluster
    cluster.apply_file("examples/manifests/nginx-deployment.yaml")
    cluster.apply_file("examples/manifests/nginx-service.yaml")
    cluster.run(until=30)
    accept = {"Accept": "application/vnd.kubernetes.protobuf, application/json"}
    for kind in ("Pod", "EndpointSlice", "Endpoints", "Deployment", "Node"):
        info = KIND_INFO[kind]
        base = f"/apis/{info.api_version}" if info.group else "/api/v1"
        for obj in cluster.list(kind, None):
            ns = f"/namespaces/{obj.metadata.namespace}" if info.namespaced else ""
            resp = b.handle(Request("GET", f"{base}{ns}/{info.plural}/{obj.metadata.name}", headers=accept))
            assert isinstance(resp, Response) and resp.content_type == "application/vnd.kubernetes.protobuf"
            assert resp.body == wire.encode_proto(obj)
            last = [e for e in cluster.changes if e.kind == kind and e.name == obj.metadata.name][-1]
            assert len(resp.body) == last.proto_bytes  # served bytes = accounted bytes
        resp = b.handle(Request("GET", f"{base}/{info.plural}", {"limit": "1"}, headers=accept))
        assert isinstance(resp, Response) and resp.body.startswith(wire.MAGIC)
        (type_meta, raw, _, _) = [body for _, body in pb_fields(resp.body[4:])]
        assert [v for _, v in pb_fields(type_meta)] == [info.api_version.encode(), f"{kind}List".encode()]
        parts = pb_fields(raw)
        meta = dict(pb_fields(parts[0][1]))
        assert meta[2] == str(cluster.api.statistics().resource_version).encode()
        objs = cluster.list(kind, None)
        assert [body for num, body in parts[1:]] == [wire.encode_raw(objs[0])]
        assert bool(meta[3]) == (len(objs) > 1)  # a continue token when there is more
    # JSON stays the default and what a client that names JSON first gets
    resp = b.handle(Request("GET", "/api/v1/nodes", headers={"Accept": "application/json, application/vnd.kubernetes.protobuf"}))
    assert isinstance(resp, Response) and json.loads(resp.body)["kind"] == "NodeList"


def test_server_side_apply_merges_records_and_removes_what_a_manager_stops_applying() -> None:
    b = _backend()
    path = "/api/v1/namespaces/default/services/web"
    config = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"a": "1", "b": "2"}},
              "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "name": "http"}, {"port": 81, "name": "alt"}]}}

    def apply(cfg: dict[str, Any], manager: str = "kubectl") -> Any:
        resp = b.handle(Request("PATCH", path, {"fieldManager": manager}, {"Content-Type": "application/apply-patch+yaml"},
                                json.dumps(cfg).encode()))
        assert isinstance(resp, Response) and resp.code in (200, 201), resp.body
        return json.loads(resp.body)

    first = apply(config)
    assert first["metadata"]["managedFields"][0]["manager"] == "kubectl"
    fields = first["metadata"]["managedFields"][0]["fieldsV1"]
    assert set(fields["f:spec"]["f:ports"]) == {'k:{"port":80}', 'k:{"port":81}'}
    # another manager owns label b
    apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"b": "2"}}}, manager="other")
    # kubectl stops applying label b, label a and port 81: a and 81 go, b stays (other owns it)
    smaller = {**config, "metadata": {"name": "web", "labels": {}},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "name": "http"}]}}
    out = apply(smaller)
    assert out["metadata"]["labels"] == {"b": "2"}
    assert [p["port"] for p in out["spec"]["ports"]] == [80]
    assert out["spec"]["clusterIP"]  # server-set fields are nobody's to remove
    assert {e["manager"] for e in out["metadata"]["managedFields"]} == {"kubectl", "other"}
    resp = b.handle(Request("PATCH", path, {}, {"Content-Type": "application/apply-patch+yaml"}, json.dumps(config).encode()))
    assert isinstance(resp, Response) and resp.code == 400 and b"fieldManager" in resp.body


@pytest.mark.filterwarnings("ignore::kubesim.ModelWarning")
def test_protobuf_bodies_decode_to_what_was_encoded() -> None:
    """decode(kubesim.wire.encode_proto(obj)) reads back obj's metadata and spec (status is the
    server's: the registries reset it on create), for every object of the decoded kinds."""
    from kubesim import wire
    from kubesim.serve import protodecode

    cluster = kubesim.Cluster(seed=0, nodes=2)
    cluster.apply_file("examples/manifests/nginx-deployment.yaml")
    cluster.apply_file("examples/manifests/nginx-service.yaml")
    cluster.apply_file("examples/manifests/external-database.yaml")
    probe = {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5}
    cluster.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "p", "labels": {"a": "b"}},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "p"}},
                            "strategy": {"rollingUpdate": {"maxSurge": 2, "maxUnavailable": "10%"}},
                            "template": {"metadata": {"labels": {"app": "p"}}, "spec": {"containers": [
                                {"name": "c", "image": "i", "ports": [{"containerPort": 80, "name": "http"}],
                                 "readinessProbe": probe, "resources": {"requests": {"cpu": "100m"}}}]}}}})
    cluster.run(until=30)
    seen = set()
    for kind in ("Namespace", "Deployment", "ReplicaSet", "Pod", "Service", "Endpoints"):
        for obj in cluster.list(kind, None):
            d = protodecode.decode(wire.encode_proto(obj))
            back = manifests.to_manifest(manifests.from_manifest(d))
            want = manifests.to_manifest(obj)
            want["metadata"].pop("managedFields", None)
            for part in ("metadata", "spec", "subsets"):
                assert back.get(part) == want.get(part), (kind, obj.metadata.name, part)
            seen.add(kind)
    assert len(seen) == 6
    opts = protodecode.decode(protodecode_delete_options())
    assert opts == {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                    "propagationPolicy": "Background", "preconditions": {"uid": "u"}, "dryRun": ["All"]}
    for bad in (b"k8s\x00\x0a", b"k8s\x00\xff\xff\xff", b"nope"):
        with pytest.raises(ApiError) as exc:
            protodecode.decode(bad)
        assert exc.value.code == 400


def protodecode_delete_options() -> bytes:
    from kubesim.serve.proto import _field, _varint, envelope

    body = (_varint(1 << 3) + _varint(0) + _field(2, _field(1, b"u")) + _field(4, b"Background") + _field(5, b"All"))
    return envelope("v1", "DeleteOptions", body)


_NASTY_YAML = [
    b"apiVersion: v1\nkind: Endpoints\nmetadata: {name: t, creationTimestamp: 2025-01-01T00:00:00Z}\n",
    b"apiVersion: v1\nkind: Endpoints\nmetadata: {name: k, labels: {1: 2, true: x, null: y}}\n",
    b"apiVersion: v1\nkind: Endpoints\nmetadata: {name: b, annotations: {x: !!binary aGk=}}\n",
    b"apiVersion: v1\nkind: Endpoints\nmetadata: {name: i, labels: {x: .inf}}\n",
    b"apiVersion: v1\nkind: Endpoints\nmetadata: {name: m, labels: {? [a, b] : c}}\n",
    b"apiVersion: v1\nkind: Endpoints\nmetadata: {name: s, annotations: {s: !!set {a: null}}}\n",
    b"apiVersion: v1\nkind: Endpoints\nmetadata: &a {name: r, labels: *a}\n",
    b"!!python/object:os.system [echo]\n", b"- a\n- b\n", b"---\n---\n", b"{", b"\xff", b"", b"~",
    b"apiVersion: v1\nkind: Endpoints\nmetadata: {name: n}\nsubsets: [{addresses: [{ip: 1.2.3.4}], ports: [{port: 99999999999999999999}]}]\n",
]

_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.sampled_from(["apiVersion", "kind", "metadata", "name", "labels", "spec", "subsets", "ports", "port",
                         "addresses", "ip", "resourceVersion", "x", "$patch", "op", "path", "value"]), kids, max_size=4),
    max_leaves=12)


def _no_500(b: Backend, method: str, path: str, ctype: str, body: bytes, query: dict[str, str] | None = None) -> None:
    resp = b.handle(Request(method, path, query or {}, {"Content-Type": ctype}, body))
    assert isinstance(resp, Response)
    assert resp.code != 500, (method, path, ctype, body[:120], resp.body[:300])
    if resp.code >= 400:
        st_ = json.loads(resp.body)
        assert st_["kind"] == "Status" and st_["code"] == resp.code


@pytest.mark.parametrize("body", _NASTY_YAML)
def test_hostile_yaml_bodies_are_answered_with_a_status(body: bytes) -> None:
    b = _backend()
    b.cluster.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "live"}})
    for ctype in ("application/yaml", "application/apply-patch+yaml", "application/json"):
        _no_500(b, "POST", "/api/v1/namespaces/default/endpoints", ctype, body)
        _no_500(b, "PUT", "/api/v1/namespaces/default/endpoints/live", ctype, body)
        _no_500(b, "PATCH", "/api/v1/namespaces/default/endpoints/live", ctype, body, {"fieldManager": "m"})
    b.cluster._check()


@given(_JSONISH, st.sampled_from(["POST", "PUT", "PATCH-merge", "PATCH-json", "PATCH-smp", "PATCH-apply", "SCALE", "DELETE"]))
def test_random_json_bodies_are_answered_with_a_status(value: Any, how: str) -> None:
    b = _BACKEND
    body = json.dumps(value).encode()
    method, _, kind = how.partition("-")
    ctype = {"merge": "application/merge-patch+json", "json": "application/json-patch+json",
             "smp": "application/strategic-merge-patch+json", "apply": "application/apply-patch+yaml"}.get(kind, "application/json")
    if how == "SCALE":
        _no_500(b, "PATCH", "/apis/apps/v1/namespaces/default/deployments/d/scale", "application/merge-patch+json", body)
    elif method == "POST":
        _no_500(b, "POST", "/api/v1/namespaces/default/services", ctype, body, {"dryRun": "All"})
    else:
        _no_500(b, method, "/api/v1/namespaces/default/services/web", ctype, body, {"dryRun": "All", "fieldManager": "m"})


def _seeded_backend() -> Backend:
    b = _backend()
    b.cluster.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                      "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    b.cluster.apply_file("examples/manifests/nginx-deployment.yaml")
    b.cluster.create(attrs_evolve_name(b.cluster.get("Deployment", "nginx-deployment"), "d"))
    return b


def attrs_evolve_name(obj: Any, name: str) -> Any:
    import attrs

    meta = attrs.evolve(obj.metadata, name=name, uid="", resource_version="", creation_timestamp=None,
                        annotations=obj.metadata.annotations)
    return attrs.evolve(obj, metadata=meta)


_BACKEND = _seeded_backend()


def test_metadata_only_responses_for_metadata_clients() -> None:
    b = _backend()
    accept = {"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"}
    resp = b.handle(Request("GET", "/api/v1/nodes", {"limit": "1"}, accept))
    assert isinstance(resp, Response) and resp.content_type.startswith("application/json;as=PartialObjectMetadataList")
    body = json.loads(resp.body)
    node = b.cluster.list("Node", None)[0]
    assert body["kind"] == "PartialObjectMetadataList" and body["metadata"]["continue"]
    assert body["items"] == [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                              "metadata": manifests.to_manifest(node)["metadata"]}]
    one = json.loads(b.handle(Request("GET", "/api/v1/nodes/node-1", headers={
        "Accept": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"})).body)  # type: ignore[union-attr]
    assert one == body["items"][0]
    plain = json.loads(b.handle(Request("GET", "/api/v1/nodes/node-1", headers={"Accept": "application/json"})).body)  # type: ignore[union-attr]
    assert plain["kind"] == "Node"


def test_a_dry_run_changes_no_later_choice() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"generateName": "web-"}, "spec": {"ports": [{"port": 80}]}}

    def create(b: Backend, query: dict[str, str]) -> dict[str, Any]:
        resp = b.handle(Request("POST", "/api/v1/namespaces/default/services", query, {"Content-Type": "application/json"},
                                json.dumps(svc).encode()))
        assert isinstance(resp, Response) and resp.code == 201
        return dict(json.loads(resp.body))

    plain, dried = _backend(), _backend()
    dry = create(dried, {"dryRun": "All"})
    assert "resourceVersion" not in dry["metadata"] and dried.cluster.list("Service") == []
    real, after = create(plain, {}), create(dried, {})
    for key in ("name", "uid"):
        assert real["metadata"][key] == after["metadata"][key]
    assert real["spec"]["clusterIP"] == after["spec"]["clusterIP"]
    assert list(plain.cluster.changes) == list(dried.cluster.changes)


def test_the_command_line_builds_the_cluster_it_describes() -> None:
    from kubesim.serve import cli

    args = cli.build_parser().parse_args([
        "--nodes", "2", "--seed", "7", "--max-endpoints-per-slice", "5", "--slice-reconciler", "reference",
        "--endpoints-reconciler", "reference", "--max-request-bytes", "100000", "--no-endpoints-truncate",
        "--record-objects", "-f", "examples/manifests/nginx-service.yaml"])
    cluster = cli.build_cluster(args)
    assert cluster.seed == 7 and len(cluster.list("Node", None)) == 2
    assert cluster.options.max_endpoints_per_slice == 5 and cluster.options.slice_reconciler == "reference"
    assert cluster.options.endpoints_reconciler == "reference" and cluster.options.endpoints_truncate is False
    assert cluster.api.max_request_bytes == 100000 and cluster.api.record_objects is True
    assert [s.metadata.name for s in cluster.list("Service")] == ["nginx-service"]
    defaults = cli.build_cluster(cli.build_parser().parse_args([]))
    assert defaults.options == kubesim.Cluster().options  # the command's defaults are the library's
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--speed", "-1"])


@pytest.mark.parametrize("method", ["POST", "PATCH-apply"])
def test_a_saved_running_pod_is_created_pending(method: str) -> None:
    # PrepareForCreate: a re-applied `get -o yaml` of a running pod is stored Pending, with the
    # class it names (GetPodQOS reads status.qosClass first) and no IP, so no endpoint
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "saved", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            "status": {"phase": "Running", "podIP": "10.9.9.9", "podIPs": [{"ip": "10.9.9.9"}],
                       "conditions": [{"type": "Ready", "status": "True"}], "qosClass": "Burstable"}}
    b = Backend(kubesim.Cluster(seed=0, nodes=0))  # no kubelet to run it
    b.cluster.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                      "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    if method == "POST":
        resp = b.handle(Request("POST", "/api/v1/namespaces/default/pods", body=json.dumps(body).encode(),
                                headers={"Content-Type": "application/json"}))
    else:
        resp = b.handle(Request("PATCH", "/api/v1/namespaces/default/pods/saved", {"fieldManager": "kubectl"},
                                {"Content-Type": "application/apply-patch+yaml"}, json.dumps(body).encode()))
    assert isinstance(resp, Response) and resp.code == 201, resp.body
    assert _json(resp)["status"] == {"phase": "Pending", "qosClass": "Burstable"}
    pod = b.cluster.get("Pod", "saved")
    assert (pod.status.phase, pod.status.pod_ip, pod.status.qos_class) == ("Pending", "", "Burstable")
    b.cluster.run(until=b.cluster.now + 5)
    assert [a.ip for s in b.cluster.get("Endpoints", "web").subsets for a in s.addresses] == []
