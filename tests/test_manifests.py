"""Tests for kubesim.manifests and kubesim.kinds: the JSON shape, YAML, strictness."""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim import objects as o
from kubesim.errors import ManifestError
from kubesim.kinds import API_VERSIONS, KIND_INFO, resolve_kind, resource_name
from kubesim.manifests import (
    dump_json,
    dump_yaml,
    encode,
    format_time,
    from_manifest,
    load_yaml,
    parse_time,
    to_json,
    to_manifest,
)

try:
    from tests import strategies as S
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    import strategies as S  # type: ignore[no-redef]

ROOT = pathlib.Path(__file__).resolve().parent.parent
from conftest import FIXTURES  # noqa: E402  (shared/ beside the checkout)

EXAMPLES = ROOT / "examples" / "manifests"

KIND_STRATEGIES = {
    "Pod": S.pods, "Service": S.services, "Node": S.nodes, "Namespace": S.namespaces,
    "Endpoints": S.endpoints_objects, "EndpointSlice": S.endpoint_slices,
    "Deployment": S.deployments, "ReplicaSet": S.replica_sets,
}

# ---------------------------------------------------------------------------------------------
# round trips


@pytest.mark.parametrize("kind", sorted(KIND_STRATEGIES))
def test_round_trip_every_kind(kind: str) -> None:
    @given(KIND_STRATEGIES[kind]())
    def check(x: Any) -> None:
        m = to_manifest(x)
        assert m["kind"] == kind and m["apiVersion"] == API_VERSIONS[kind]
        assert list(m)[:2] == ["kind", "apiVersion"]
        assert from_manifest(m) == x
        # the dict is plain JSON and survives a trip through JSON text
        assert from_manifest(json.loads(json.dumps(m))) == x

    check()


@given(S.any_object())
def test_round_trip_through_yaml_and_json_text(x: Any) -> None:
    assert load_yaml(dump_yaml(x)) == [x]
    assert from_manifest(json.loads(dump_json(x))) == x


@given(st.lists(S.any_object(), max_size=2))
def test_round_trip_of_lists_through_yaml(xs: list[Any]) -> None:
    text = dump_yaml(xs)
    assert load_yaml(text) == xs
    assert load_yaml(text.encode("utf-8")) == xs


@given(S.any_object())
def test_to_manifest_returns_fresh_dicts(x: Any) -> None:
    a = to_manifest(x)
    snapshot = copy.deepcopy(a)
    b = to_manifest(x)
    b.clear()
    assert a == snapshot


# ---------------------------------------------------------------------------------------------
# upstream fixtures (k8s.io/api testdata/HEAD)


@pytest.mark.parametrize("name", ["core.v1.Endpoints", "discovery.k8s.io.v1.EndpointSlice"])
def test_upstream_json_fixture_round_trips_exactly(name: str) -> None:
    text = (FIXTURES / f"{name}.json").read_text()
    data = json.loads(text)
    obj = from_manifest(data)
    out = to_manifest(obj)
    assert out == data
    # same key order too: the fixture is json.MarshalIndent output in struct order
    assert json.dumps(out, indent=2) == text.rstrip("\n")


@pytest.mark.parametrize("name", ["core.v1.Endpoints", "discovery.k8s.io.v1.EndpointSlice"])
def test_upstream_yaml_fixture_loads_and_dumps_identically(name: str) -> None:
    yaml_text = (FIXTURES / f"{name}.yaml").read_text()
    json_data = json.loads((FIXTURES / f"{name}.json").read_text())
    [obj] = load_yaml(yaml_text)
    assert to_manifest(obj) == json_data
    assert dump_yaml(obj) == yaml_text


def test_fixture_values_land_in_the_right_fields() -> None:
    data = json.loads((FIXTURES / "discovery.k8s.io.v1.EndpointSlice.json").read_text())
    s = from_manifest(data)
    assert isinstance(s, o.EndpointSlice)
    assert s.metadata.creation_timestamp == parse_time("2008-01-01T01:01:01Z") == 1199149261
    assert s.metadata.managed_fields[0].fields_v1 == "{}"
    assert s.metadata.owner_references[0].controller is True
    e = s.endpoints[0]
    assert e.conditions == o.EndpointConditions(ready=True, serving=True, terminating=True)
    assert e.hints == o.EndpointHints(for_zones=(o.ForZone("nameValue"),),
                                      for_nodes=(o.ForNode("nameValue"),))
    assert s.ports == (o.EndpointSlicePort(name="nameValue", protocol="protocolValue", port=3,
                                           app_protocol="appProtocolValue"),)


# ---------------------------------------------------------------------------------------------
# Go emptiness rules, by hand


def test_empty_objects_have_the_api_server_shape() -> None:
    assert to_manifest(o.Pod()) == {
        "kind": "Pod", "apiVersion": "v1", "metadata": {},
        "spec": {"containers": None, "restartPolicy": "Always"}, "status": {}}
    assert to_manifest(o.Pod(spec=o.PodSpec(restart_policy="")))["spec"] == {"containers": None}
    assert to_manifest(o.Service()) == {
        "kind": "Service", "apiVersion": "v1", "metadata": {}, "spec": {},
        "status": {"loadBalancer": {}}}
    assert to_manifest(o.Endpoints()) == {"kind": "Endpoints", "apiVersion": "v1", "metadata": {}}
    assert to_manifest(o.EndpointSlice()) == {
        "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": {},
        "addressType": "", "endpoints": None, "ports": None}
    assert to_manifest(o.Namespace()) == {
        "kind": "Namespace", "apiVersion": "v1", "metadata": {}, "spec": {}, "status": {}}
    assert to_manifest(o.ReplicaSet()) == {
        "kind": "ReplicaSet", "apiVersion": "apps/v1", "metadata": {},
        "spec": {"selector": None, "template": {"metadata": {}, "spec": {"containers": None,
                                                                        "restartPolicy": "Always"}}},
        "status": {"replicas": 0}}
    dep = to_manifest(o.Deployment())
    assert dep["spec"]["selector"] is None and dep["spec"]["strategy"] == {}
    assert "replicas" not in dep["spec"] and dep["status"] == {}
    node = to_manifest(o.Node())
    assert node["spec"] == {}
    assert node["status"]["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 0}}
    assert node["status"]["nodeInfo"]["kubeletVersion"] == ""
    assert len(node["status"]["nodeInfo"]) == 10


def test_metadata_omitempty_and_creation_timestamp_omitzero() -> None:
    meta = to_manifest(o.Pod(metadata=o.ObjectMeta(name="p", generation=0)))["metadata"]
    assert meta == {"name": "p"}
    meta = to_manifest(o.Pod(metadata=o.ObjectMeta(creation_timestamp=0)))["metadata"]
    assert meta == {"creationTimestamp": "1970-01-01T00:00:00Z"}


def test_value_times_are_null_pointer_times_are_omitted() -> None:
    pod = o.Pod(status=o.PodStatus(conditions=[o.PodCondition("Ready", "True")]))
    assert to_manifest(pod)["status"] == {
        "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": None,
                        "lastTransitionTime": None}]}
    assert encode(o.Taint(key="k", effect="NoSchedule")) == {"key": "k", "effect": "NoSchedule"}
    assert encode(o.NodeCondition("Ready", "True", last_heartbeat_time=1199149261)) == {
        "type": "Ready", "status": "True", "lastHeartbeatTime": "2008-01-01T01:01:01Z",
        "lastTransitionTime": None}


def test_pointer_fields_distinguish_nil_from_zero() -> None:
    assert encode(o.EndpointAddress(ip="10.0.0.1")) == {"ip": "10.0.0.1"}
    assert encode(o.EndpointAddress(ip="10.0.0.1", node_name="")) == {"ip": "10.0.0.1",
                                                                     "nodeName": ""}
    assert encode(o.EndpointConditions()) == {}
    assert encode(o.EndpointConditions(ready=False, terminating=False)) == {
        "ready": False, "terminating": False}
    assert encode(o.EndpointSlicePort()) == {}
    assert encode(o.EndpointSlicePort(name="", port=80)) == {"name": "", "port": 80}
    # Endpoint.conditions is a value struct: always written; addresses not omitempty
    assert encode(o.Endpoint(addresses=())) == {"addresses": None, "conditions": {}}


def test_int_or_string_fields() -> None:
    assert encode(o.ServicePort(port=80, protocol="")) == {"port": 80, "targetPort": 0}
    assert encode(o.ServicePort(port=80, target_port="http"))["targetPort"] == "http"
    assert encode(o.RollingUpdateDeployment(max_surge="25%", max_unavailable=0)) == {
        "maxUnavailable": 0, "maxSurge": "25%"}
    assert encode(o.RollingUpdateDeployment()) == {}


def test_container_port_host_port_zero_is_unset() -> None:
    p = o.ContainerPort(container_port=80, host_port=0)
    assert "hostPort" not in encode(p)
    back = from_manifest({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [
        {"name": "c", "ports": [{"containerPort": 80, "hostPort": 0}]}]}})
    assert back.spec.containers[0].ports[0].host_port is None


def test_fields_v1_is_a_json_object_on_the_wire() -> None:
    entry = o.ManagedFieldsEntry(manager="m", fields_v1='{"f:metadata":{"f:labels":{}}}')
    assert encode(entry) == {"manager": "m", "fieldsV1": {"f:metadata": {"f:labels": {}}}}
    back = from_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "managedFields": [{"fieldsV1": {"f:spec": {}, "f:metadata": {"f:name": {}}}}]}})
    assert back.metadata.managed_fields[0].fields_v1 == (
        '{"f:metadata":{"f:name":{}},"f:spec":{}}')


def test_absent_fields_decode_to_go_zero_values_not_attrs_defaults() -> None:
    svc = from_manifest({"apiVersion": "v1", "kind": "Service",
                         "spec": {"ports": [{"port": 80}]}})
    assert svc.spec.ports[0].protocol == "" and svc.spec.ports[0].target_port == 0
    pod = from_manifest({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [
        {"name": "c", "readinessProbe": {"tcpSocket": {"port": 80}}}]}})
    assert pod.spec.restart_policy == ""
    assert pod.spec.containers[0].readiness_probe.timeout_seconds == 0


def test_null_means_zero_value_or_nil() -> None:
    svc = from_manifest({"apiVersion": "v1", "kind": "Service", "metadata": None,
                         "spec": {"ports": None, "selector": None, "clusterIP": None,
                                  "ipFamilyPolicy": None}})
    assert svc == o.Service(spec=o.ServiceSpec(ip_family_policy=None))


# ---------------------------------------------------------------------------------------------
# Service selector: nil vs empty


def test_selector_nil_is_omitted_and_reads_back_nil() -> None:
    svc = o.Service(spec=o.ServiceSpec(selector=None))
    assert "selector" not in to_manifest(svc)["spec"]
    assert from_manifest(to_manifest(svc)).spec.selector is None


def test_selector_non_empty_round_trips() -> None:
    svc = o.Service(spec=o.ServiceSpec(selector={"app": "nginx"}))
    assert to_manifest(svc)["spec"]["selector"] == {"app": "nginx"}
    assert from_manifest(to_manifest(svc)) == svc


def test_selector_empty_follows_go_omitempty() -> None:
    # `selector map[string]string json:"selector,omitempty"`: an empty map is not written ...
    svc = o.Service(spec=o.ServiceSpec(selector={}))
    assert "selector" not in to_manifest(svc)["spec"]
    assert from_manifest(to_manifest(svc)).spec.selector is None
    # ... but a manifest that spells `selector: {}` decodes to an empty non-nil map, as Go does.
    read = from_manifest({"apiVersion": "v1", "kind": "Service", "spec": {"selector": {}}})
    assert read.spec.selector is not None and len(read.spec.selector) == 0
    [y] = load_yaml("apiVersion: v1\nkind: Service\nspec:\n  selector: {}\n")
    assert y.spec.selector == {} and y.spec.selector is not None


# ---------------------------------------------------------------------------------------------
# strictness: every bad input is a ManifestError naming the field

SVC: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                       "spec": {"selector": {"app": "web"},
                                "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}


def _with(path: list[Any], value: Any, base: dict[str, Any] = SVC) -> dict[str, Any]:
    d = copy.deepcopy(base)
    cur: Any = d
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return d


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("string port", _with(["spec", "ports", 0, "port"], "80"), "spec.ports[0].port",
     'invalid type for io.k8s.api.core.v1.ServicePort.port: got "string", expected "integer"'),
    ("float port", _with(["spec", "ports", 0, "port"], 80.5), "spec.ports[0].port", '"number"'),
    ("bool port", _with(["spec", "ports", 0, "port"], True), "spec.ports[0].port", '"boolean"'),
    ("port too big", _with(["spec", "ports", 0, "port"], 2**31), "spec.ports[0].port",
     "cannot unmarshal number 2147483648"),
    ("huge port", _with(["spec", "ports", 0, "port"], 10**5000), "spec.ports[0].port",
     "cannot unmarshal number"),
    ("bool target port", _with(["spec", "ports", 0, "targetPort"], False),
     "spec.ports[0].targetPort", '"boolean"'),
    ("list where a map belongs", _with(["spec", "selector"], ["app"]), "spec.selector",
     'got "array", expected "map"'),
    ("number label value", _with(["metadata", "labels"], {"v": 1}), "metadata.labels.v",
     'got "integer", expected "string"'),
    ("non-string key in a map", _with(["metadata", "labels"], {1: "a"}), "metadata.labels",
     "non-string key"),
    ("non-string key in an object", _with(["spec", 7], "x"), "spec", "non-string key"),
    ("map where a list belongs", _with(["spec", "ports"], {"port": 80}), "spec.ports",
     'got "map", expected "array"'),
    ("string where a bool belongs", _with(["spec", "publishNotReadyAddresses"], "true"),
     "spec.publishNotReadyAddresses", 'got "string", expected "boolean"'),
    ("bool where a string belongs", _with(["spec", "type"], True), "spec.type",
     'got "boolean", expected "string"'),
    ("string where an object belongs", _with(["metadata"], "web"), "metadata",
     'got "string", expected "map"'),
    ("unknown field", _with(["spec", "foo"], 1), "spec.foo", 'unknown field "spec.foo"'),
    ("unknown nested field", _with(["spec", "ports", 0, "prot"], "TCP"), "spec.ports[0].prot",
     'unknown field "spec.ports[0].prot"'),
    ("unknown top-level field", _with(["spec2"], {}), "spec2", 'unknown field "spec2"'),
    ("bad timestamp", _with(["metadata", "creationTimestamp"], "yesterday"),
     "metadata.creationTimestamp", "parsing time"),
    ("timestamp as number", _with(["metadata", "creationTimestamp"], 12), "metadata.creationTimestamp",
     'got "integer", expected "string"'),
    ("missing kind", {k: v for k, v in SVC.items() if k != "kind"}, "kind",
     "Object 'Kind' is missing"),
    ("missing apiVersion", {k: v for k, v in SVC.items() if k != "apiVersion"}, "apiVersion",
     "Object 'apiVersion' is missing"),
    ("unknown kind", _with(["kind"], "Foo"), "kind", 'no matches for kind "Foo" in version "v1"'),
    ("unknown apiVersion", _with(["apiVersion"], "v2"), "apiVersion",
     'no matches for kind "Service" in version "v2"'),
    ("wrong apiVersion for the kind", _with(["kind"], "Deployment"), "apiVersion",
     'no matches for kind "Deployment" in version "v1"'),
    ("kind not a string", _with(["kind"], 5), "kind", 'expected "string"'),
    ("fieldsV1 not an object", _with(["metadata", "managedFields"], [{"fieldsV1": [1]}]),
     "metadata.managedFields[0].fieldsV1", 'expected "map"'),
    ("deep fieldsV1", _with(["metadata", "managedFields"], [{"fieldsV1": {}}]), "", ""),
]
# replace the last placeholder row with a really deep structure
_deep: dict[str, Any] = {}
_cur = _deep
for _ in range(5000):
    _cur["f:x"] = {}
    _cur = _cur["f:x"]
BAD[-1] = ("deep fieldsV1", _with(["metadata", "managedFields"], [{"fieldsV1": _deep}]),
           "metadata.managedFields[0].fieldsV1", "too deeply nested")


@pytest.mark.parametrize("name,manifest,path,fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_manifest_raises_manifest_error_with_path(
        name: str, manifest: dict[str, Any], path: str, fragment: str) -> None:
    with pytest.raises(ManifestError) as info:
        from_manifest(manifest)
    assert info.value.path == path
    assert fragment in str(info.value)


def test_bad_manifest_message_reads_like_kubectl() -> None:
    with pytest.raises(ManifestError) as info:
        from_manifest(_with(["spec", "ports", 0, "port"], "80"))
    assert str(info.value) == ('spec.ports[0].port: invalid type for '
                               'io.k8s.api.core.v1.ServicePort.port: got "string", '
                               'expected "integer"')


@pytest.mark.parametrize("value", [None, 5, "x", ["a"], b"x"])
def test_non_mapping_manifest(value: Any) -> None:
    with pytest.raises(ManifestError):
        from_manifest(value)


# Values that are not JSON at all, or JSON of the wrong shape.
_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
              st.binary(max_size=3)),
    lambda c: st.one_of(st.lists(c, max_size=3),
                        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), c,
                                        max_size=3)),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, prefix + (i,)))
    return out


@given(S.any_object(), st.data())
def test_corrupted_manifests_only_ever_raise_manifest_error(x: Any, data: st.DataObject) -> None:
    m = to_manifest(x)
    paths = [p for p in _paths(m) if p]
    path = data.draw(st.sampled_from(paths))
    junk = data.draw(_junk)
    cur: Any = m
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = junk
    try:
        from_manifest(m)
    except ManifestError:
        pass


# ---------------------------------------------------------------------------------------------
# YAML


def test_yaml_multi_document_skips_empty_documents() -> None:
    text = "---\n# nothing\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n"
    assert load_yaml(text) == [o.Namespace(o.ObjectMeta(name="a"))]
    assert load_yaml("") == [] and load_yaml("# just a comment\n") == []


def test_yaml_list_is_expanded() -> None:
    text = """
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: a}
- apiVersion: v1
  kind: Pod
  metadata: {name: p}
"""
    xs = load_yaml(text)
    assert [type(x).__name__ for x in xs] == ["Namespace", "Pod"]


def test_yaml_typed_list_items_may_omit_kind() -> None:
    text = "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n"
    assert [p.metadata.name for p in load_yaml(text)] == ["a", "b"]


def test_yaml_list_item_error_names_the_item() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec: {foo: 1}\n"
    with pytest.raises(ManifestError) as info:
        load_yaml(text)
    assert info.value.path == "items[0].spec.foo"


def test_yaml_python_tags_are_refused() -> None:
    with pytest.raises(ManifestError):
        load_yaml("!!python/object/apply:os.system ['true']\n")
    with pytest.raises(ManifestError):
        load_yaml("apiVersion: v1\nkind: Pod\nmetadata: !!python/name:os.system\n")


def test_yaml_non_utf8_bytes() -> None:
    with pytest.raises(ManifestError, match="UTF-8"):
        load_yaml(b"apiVersion: v1\nkind: Pod\nmetadata: {name: \xff}\n")


def test_yaml_bom_is_accepted() -> None:
    assert len(load_yaml("\ufeffapiVersion: v1\nkind: Namespace\n".encode("utf-8"))) == 1


def test_yaml_syntax_error_names_the_line() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: [a\n"
    with pytest.raises(ManifestError, match=r"yaml: line \d+"):
        load_yaml(text)
    with pytest.raises(ManifestError, match="yaml: line 2:"):
        load_yaml("apiVersion: v1\nkind: Pod: x\n")


def test_yaml_is_all_or_nothing_and_names_the_document() -> None:
    good = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
    bad = "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: eighty\n"
    with pytest.raises(ManifestError) as info:
        load_yaml(good + "---\n" + bad + "---\n" + good)
    assert info.value.document == 1
    assert info.value.path == "spec.ports[0].port"


def test_yaml_duplicate_keys_are_refused() -> None:
    with pytest.raises(ManifestError, match='duplicate field "replicas"'):
        load_yaml("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 1\n  replicas: 2\n")


def test_yaml_non_string_keys_are_refused() -> None:
    with pytest.raises(ManifestError):
        load_yaml("apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    1: a\n")
    with pytest.raises(ManifestError):
        load_yaml("apiVersion: v1\nkind: Pod\n? [a, b]\n: 1\n")


def test_yaml_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{','.join('*' + prev for _ in range(10))}]")
    text = "\n".join(lines) + "\nkind: Pod\napiVersion: v1\n"
    with pytest.raises(ManifestError, match="aliasing"):
        load_yaml(text)


def test_yaml_recursive_alias_is_refused() -> None:
    with pytest.raises(ManifestError):
        load_yaml("apiVersion: v1\nkind: Pod\nmetadata: &m\n  labels: *m\n")


def test_yaml_deep_nesting_is_refused() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: " + "[" * 3000 + "]" * 3000 + "\n"
    with pytest.raises(ManifestError):
        load_yaml(text)


def test_yaml_unquoted_timestamps_are_strings() -> None:
    [ns] = load_yaml("apiVersion: v1\nkind: Namespace\nmetadata:\n"
                     "  creationTimestamp: 2008-01-01T01:01:01Z\n"
                     "  labels: {built: 2008-01-01}\n")
    assert ns.metadata.creation_timestamp == 1199149261
    assert ns.metadata.labels["built"] == "2008-01-01"


def test_yaml_not_a_mapping() -> None:
    with pytest.raises(ManifestError) as info:
        load_yaml("- a\n- b\n")
    assert info.value.document == 0


def test_yaml_rejects_non_text() -> None:
    with pytest.raises(ManifestError):
        load_yaml(12)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# output formats


def test_dump_yaml_quotes_strings_that_would_change_type() -> None:
    pod = o.Pod(metadata=o.ObjectMeta(name="p", labels={"a": "true", "b": "123", "c": "", "d": "x"}))
    text = dump_yaml(pod)
    assert 'a: "true"' in text and 'b: "123"' in text and 'c: ""' in text and "d: x" in text
    assert load_yaml(text) == [pod]


def test_dump_yaml_sorts_keys() -> None:
    text = dump_yaml(o.EndpointSlice(address_type="IPv4"))
    assert text.splitlines()[:3] == ["addressType: IPv4", "apiVersion: discovery.k8s.io/v1",
                                     "endpoints: null"]


def test_dump_yaml_of_a_list_is_a_kubectl_list() -> None:
    text = dump_yaml([o.Namespace(o.ObjectMeta(name="a"))])
    assert text.startswith("apiVersion: v1\nitems:\n- apiVersion: v1\n")
    assert "kind: List\nmetadata:\n  resourceVersion: \"\"\n" in text


def test_dump_json_is_kubectl_style() -> None:
    ns = o.Namespace(o.ObjectMeta(name="a", annotations={"x": "<a&b>"}))
    text = dump_json(ns)
    assert text.endswith("}\n")
    assert text.startswith('{\n    "apiVersion": "v1",\n    "kind": "Namespace",\n')
    assert '"x": "\\u003ca\\u0026b\\u003e"' in text
    assert from_manifest(json.loads(text)) == ns


def test_to_json_is_compact_go_json_in_struct_order() -> None:
    ep = o.Endpoint(addresses=("10.0.0.1",), conditions=o.EndpointConditions(ready=True),
                    node_name="n<1>")
    assert to_json(ep) == b'{"addresses":["10.0.0.1"],"conditions":{"ready":true},"nodeName":"n\\u003c1\\u003e"}'
    s = o.EndpointSlice(metadata=o.ObjectMeta(name="s"), address_type="IPv4", endpoints=(ep,))
    assert json.loads(to_json(s)) == to_manifest(s)
    assert to_json(s).startswith(b'{"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1",')
    assert "é".encode() in to_json(o.Namespace(o.ObjectMeta(name="é")))


@given(S.endpoint_slices())
def test_encode_of_nested_entries_matches_the_whole(s: o.EndpointSlice) -> None:
    m = to_manifest(s)
    assert [encode(e) for e in s.endpoints] == (m["endpoints"] or [])
    assert encode(s.endpoints) == (m["endpoints"] or [])
    assert encode(s.metadata) == m["metadata"]
    assert encode(s) == m


@given(S.endpoints_objects())
def test_encode_of_endpoint_addresses_matches_the_whole(e: o.Endpoints) -> None:
    m = to_manifest(e)
    for i, ss in enumerate(e.subsets):
        assert [encode(a) for a in ss.addresses] == m["subsets"][i]["addresses"]


def test_encode_passes_plain_values_through() -> None:
    assert encode(5) == 5 and encode("x") == "x" and encode(None) is None
    assert encode(o.FrozenDict({"a": "b"})) == {"a": "b"}


def test_to_manifest_refuses_nested_types() -> None:
    with pytest.raises(TypeError):
        to_manifest(o.ObjectMeta())


# ---------------------------------------------------------------------------------------------
# time


@given(S.timestamps())
def test_time_round_trip(t: int) -> None:
    assert parse_time(format_time(t)) == t


@pytest.mark.parametrize("text,expected", [
    ("2008-01-01T01:01:01Z", 1199149261),
    ("2008-01-01T02:01:01+01:00", 1199149261),
    ("2008-01-01T00:01:01-01:00", 1199149261),
    ("2008-01-01T01:01:01.999Z", 1199149261),
    ("1970-01-01T00:00:00Z", 0),
])
def test_parse_time(text: str, expected: int) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["2008-01-01 01:01:01Z", "2008-01-01T01:01:01", "2008-13-01T01:01:01Z",
                                  "2008-02-30T01:01:01Z", "2008-01-01T24:00:00Z", "2008-01-01t01:01:01z", ""])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


# ---------------------------------------------------------------------------------------------
# the chapter's manifests


def test_chapter_manifests_load() -> None:
    chapter = ["external-database.yaml", "nginx-deployment.yaml", "nginx-service.yaml"]
    files = [EXAMPLES / name for name in chapter]  # the chapter's three files (examples add others)
    objs = [x for f in files for x in load_yaml(f.read_text())]
    assert len(objs) == 4
    svc_ext, ep_ext, dep, svc = objs
    assert isinstance(dep, o.Deployment)
    assert dep.metadata.name == "nginx-deployment" and dep.spec.replicas == 2
    assert dep.spec.selector == o.LabelSelector(match_labels={"app": "nginx"})
    assert dep.spec.template.metadata.labels == {"app": "nginx"}
    [c] = dep.spec.template.spec.containers
    assert (c.name, c.image, c.ports[0].container_port) == ("nginx", "nginx:1.25", 80)
    assert isinstance(svc, o.Service) and svc.spec.selector == {"app": "nginx"}
    assert svc.spec.type == "ClusterIP"
    assert svc.spec.ports == (o.ServicePort(port=80, protocol="TCP", target_port=80),)
    assert isinstance(svc_ext, o.Service) and svc_ext.spec.selector is None
    assert svc_ext.metadata.name == ep_ext.metadata.name == "external-database-service"
    assert isinstance(ep_ext, o.Endpoints)
    assert ep_ext.subsets == (o.EndpointSubset(addresses=(o.EndpointAddress(ip="192.168.49.1"),),
                                               ports=(o.EndpointPort(port=5432, protocol=""),)),)


def test_chapter_manifests_keep_their_comments() -> None:
    text = (EXAMPLES / "external-database.yaml").read_text()
    assert "# <- Must match the Service name!" in text and "# Some external IP" in text


# ---------------------------------------------------------------------------------------------
# kinds


@pytest.mark.parametrize("spelling,kind", [
    ("Pod", "Pod"), ("pod", "Pod"), ("pods", "Pod"), ("po", "Pod"), ("PODS", "Pod"),
    ("svc", "Service"), ("services", "Service"), ("service", "Service"),
    ("no", "Node"), ("nodes", "Node"), ("ns", "Namespace"), ("namespace", "Namespace"),
    ("ep", "Endpoints"), ("endpoints", "Endpoints"), ("Endpoints", "Endpoints"),
    ("endpointslices", "EndpointSlice"), ("endpointslice", "EndpointSlice"),
    ("EndpointSlice", "EndpointSlice"), ("endpointslices.discovery.k8s.io", "EndpointSlice"),
    ("endpointslices.v1.discovery.k8s.io", "EndpointSlice"),
    ("deploy", "Deployment"), ("deployments.apps", "Deployment"),
    ("deployment.apps", "Deployment"), ("deployments.v1.apps", "Deployment"),
    ("rs", "ReplicaSet"), ("replicasets.apps", "ReplicaSet"), ("ReplicaSet", "ReplicaSet"),
    ("deploy.apps", "Deployment"), ("rs.apps", "ReplicaSet"),  # short name + group (restmapper shortcut)
])
def test_resolve_kind(spelling: str, kind: str) -> None:
    assert resolve_kind(spelling) == kind


@pytest.mark.parametrize("spelling", ["foo", "", "pods.apps", "deployments.extensions",
                                      "deploy.apps.v1", "endpointslices.discovery", "services.v1",
                                      "p", "deployment.", ".apps"])
def test_resolve_kind_unknown(spelling: str) -> None:
    with pytest.raises(ManifestError) as info:
        resolve_kind(spelling)
    assert str(info.value) == f'the server doesn\'t have a resource type "{spelling}"'


def test_resource_names_and_api_versions() -> None:
    modelled = [k for k, info in KIND_INFO.items() if not info.inert]  # inert kinds: test_inert_kinds.py
    assert {k: resource_name(k) for k in modelled} == {
        "Pod": "pods", "Service": "services", "Node": "nodes", "Namespace": "namespaces",
        "Endpoints": "endpoints", "EndpointSlice": "endpointslices",
        "Deployment": "deployments", "ReplicaSet": "replicasets",
        "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}
    assert {k: API_VERSIONS[k] for k in modelled} == {
        "Pod": "v1", "Service": "v1", "Node": "v1", "Namespace": "v1", "Endpoints": "v1",
        "EndpointSlice": "discovery.k8s.io/v1", "Deployment": "apps/v1", "ReplicaSet": "apps/v1",
        "StatefulSet": "apps/v1", "DaemonSet": "apps/v1"}
    assert set(modelled) == set(o.KINDS)
    assert resource_name("svc") == "services"


def test_decoding_is_linear_ish_and_fast() -> None:
    # a 1000-endpoint slice decodes and encodes quickly (guards against accidental quadratics)
    import time

    eps = tuple(o.Endpoint(addresses=(f"10.0.{i // 250}.{i % 250 + 1}",),
                           conditions=o.EndpointConditions(ready=True), node_name=f"node-{i % 7}",
                           target_ref=o.ObjectReference(kind="Pod", namespace="d", name=f"p{i}"))
                for i in range(1000))
    s = o.EndpointSlice(metadata=o.ObjectMeta(name="s"), address_type="IPv4", endpoints=eps)
    t0 = time.perf_counter()
    m = to_manifest(s)
    assert from_manifest(m) == s
    assert time.perf_counter() - t0 < 2.0
