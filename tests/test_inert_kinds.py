"""Kinds kubesim stores without modelling (:mod:`kubesim.inert`): identity, metadata
validation, exact-where-stated sizes, listing, deletion with their namespace or owner, and the
API server's refusals (hostile input)."""

from __future__ import annotations

import base64
import json

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kubesim
import kubesim.scenarios
from kubesim import inert, wire
from kubesim.errors import InvalidObject, ManifestError, NotFound, RequestTooLarge
from kubesim.kinds import INERT, KIND_INFO, resolve_kind

APP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, labels: {app: web}}
data: {LOG_LEVEL: info, config.yaml: "a: 1\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
subjects: [{kind: ServiceAccount, name: web, namespace: default}, {kind: User, name: alice}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: viewer}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [get]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: nginx
  rules: [{host: web.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec: {schedule: "0 3 * * *", jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec: {limits: [{type: Container, default: {cpu: 500m}}]}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota}
spec: {hard: {pods: "10"}}
"""


pytestmark = pytest.mark.filterwarnings("ignore::kubesim.ModelWarning")


def _cluster(**kw: object) -> kubesim.Cluster:
    return kubesim.Cluster(seed=0, nodes=1, **kw)  # type: ignore[arg-type]


def test_every_required_kind_is_inert_and_resolvable() -> None:
    want = {"ConfigMap", "Secret", "ServiceAccount", "Ingress", "IngressClass", "HorizontalPodAutoscaler",
            "PodDisruptionBudget", "NetworkPolicy", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
            "Job", "CronJob", "PersistentVolumeClaim", "LimitRange", "ResourceQuota"}
    assert want <= INERT
    assert resolve_kind("cm") == "ConfigMap" and resolve_kind("hpa") == "HorizontalPodAutoscaler"
    assert resolve_kind("ingresses.networking.k8s.io") == "Ingress"
    assert not KIND_INFO["ClusterRole"].namespaced and KIND_INFO["Role"].namespaced


def test_a_whole_application_applies_with_identity() -> None:
    c = _cluster()
    objs = c.apply_yaml(APP)
    assert len(objs) == 16
    uids = {o.metadata.uid for o in objs}
    assert len(uids) == 16 and all(uids)
    for o in objs:
        assert o.metadata.resource_version and o.metadata.creation_timestamp == c.now_unix
        info = KIND_INFO[o.kind]
        assert o.metadata.namespace == ("default" if info.namespaced else "")
        want_gen = 1 if o.kind in inert.GENERATION_KINDS else 0
        assert o.metadata.generation == want_gen, o.kind
    kinds = [e.kind for e in c.changes if e.actor == "kubectl"]
    assert kinds == [o.kind for o in objs]
    # no controller writes anything because of them
    n = len(c.changes)
    c.run(until=600)
    assert len(c.changes) == n


def test_the_registries_defaults_and_status() -> None:
    c = _cluster()
    c.apply_yaml(APP)
    secret = inert.content(c.get("Secret", "creds"))
    assert secret == {"data": {"password": base64.b64encode(b"hunter2").decode()}, "type": "Opaque"}
    rb = inert.content(c.get("RoleBinding", "reader"))
    assert [s.get("apiGroup") for s in rb["subjects"]] == [None, "rbac.authorization.k8s.io"]
    assert inert.content(c.get("PersistentVolumeClaim", "data"))["status"] == {"phase": "Pending"}
    assert kubesim.to_manifest(c.get("Ingress", "web"))["status"] == {"loadBalancer": {}}


def test_a_clients_status_is_not_stored() -> None:
    c = _cluster()
    c.apply({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
             "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}},
             "status": {"succeeded": 5}})
    assert inert.content(c.get("Job", "j"))["status"] == {}


def test_generation_bumps_on_spec_changes_only() -> None:
    c = _cluster()
    c.apply_yaml(APP)
    ing = c.get("Ingress", "web")
    body = inert.content(ing)
    body["spec"]["ingressClassName"] = "other"
    changed = c.update(attrs.evolve(ing, content=json.dumps(body)))
    assert changed.metadata.generation == 2
    relabelled = c.update(attrs.evolve(changed, metadata=attrs.evolve(changed.metadata, labels={"x": "y"})))
    assert relabelled.metadata.generation == 2
    cm = c.get("ConfigMap", "cfg")
    assert cm.metadata.generation == 0


def test_apply_again_writes_nothing() -> None:
    c = _cluster()
    c.apply_yaml(APP)
    n = len(c.changes)
    c.apply_yaml(APP)
    assert len(c.changes) == n


def test_json_sizes_are_the_served_json_for_every_inert_kind() -> None:
    c = _cluster()
    for o in c.apply_yaml(APP):
        stored = c.get(o.kind, o.metadata.name, o.metadata.namespace or "default")
        assert wire.json_size(stored) == len(wire.go_json_bytes(kubesim.to_manifest(stored)))
        assert wire.proto_size(stored) == len(wire.encode_proto(stored))


def test_protobuf_is_exact_for_the_schemad_kinds() -> None:
    c = _cluster()
    c.apply_yaml(APP)
    exact = {o.kind for kind in INERT for o in c.list(kind, None) if inert.exact_sizes(o)}
    assert exact == {"ConfigMap", "Secret", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "Ingress",
                     "IngressClass", "NetworkPolicy", "PodDisruptionBudget", "PersistentVolumeClaim",
                     "LimitRange", "ResourceQuota", "HorizontalPodAutoscaler"}
    assert not inert.exact_sizes(c.get("Job", "migrate"))


def _obj(kind: str, api: str, body: dict[str, object]) -> inert.InertObject:
    return inert.make(kind, api, kubesim.ObjectMeta(name="x"), body)


def test_protobuf_known_answers_networking_and_policy() -> None:
    # networking/v1 IngressClass: spec 2 {controller 1, parameters 2 {apiGroup 1, kind 2, name 3, scope 4}}
    ic = inert.default(_obj("IngressClass", "networking.k8s.io/v1",
                            {"spec": {"controller": "c", "parameters": {"kind": "K", "name": "n"}}}))
    assert inert.content_proto(ic) == b"\x12\x14\x0a\x01c\x12\x0f\x12\x01K\x1a\x01n\x22\x07Cluster"
    # policy/v1 PDB spec {minAvailable 1: IntOrString{type 1, intVal 2, strVal 3}}, status all written
    pdb = _obj("PodDisruptionBudget", "policy/v1", {"spec": {"minAvailable": 2}, "status": {}})
    assert inert.content_proto(pdb) == (
        b"\x12\x08\x0a\x06\x08\x00\x10\x02\x1a\x00" + b"\x1a\x0a\x08\x00\x18\x00\x20\x00\x28\x00\x30\x00")
    pct = _obj("PodDisruptionBudget", "policy/v1", {"spec": {"maxUnavailable": "10%"}})
    assert inert.content_proto(pct)[:13] == b"\x12\x0b\x1a\x09\x08\x01\x10\x00\x1a\x0310%"
    # core/v1 ResourceQuota: spec 2 {hard 1: entries {key 1, value 2: Quantity{string 1}}}, status 3 {}
    rq = _obj("ResourceQuota", "v1", {"spec": {"hard": {"pods": 10}}, "status": {}})
    assert inert.to_manifest_body(rq) == {"spec": {"hard": {"pods": "10"}}, "status": {}}
    assert inert.content_proto(rq) == b"\x12\x0e\x0a\x0c\x0a\x04pods\x12\x04\x0a\x0210" + b"\x1a\x00"
    # autoscaling/v2 HPA: defaults, MetricTarget averageUtilization 4, status {desiredReplicas 4} (+ currentReplicas 3)
    hpa = inert.with_status_of(inert.default(_obj("HorizontalPodAutoscaler", "autoscaling/v2",
                                                  {"spec": {"scaleTargetRef": {"kind": "D", "name": "w"}, "maxReplicas": 3}})), None)
    assert inert.content(hpa)["spec"]["minReplicas"] == 1
    assert inert.to_manifest_body(hpa)["status"] == {"desiredReplicas": 0}
    assert inert.content_proto(hpa).endswith(b"\x1a\x04\x18\x00\x20\x00")
    with_behavior = _obj("HorizontalPodAutoscaler", "autoscaling/v2", {"spec": {"behavior": {}}})
    assert not inert.exact_sizes(with_behavior)
    pvc = inert.default(_obj("PersistentVolumeClaim", "v1", {"spec": {}}))
    assert inert.content(pvc)["spec"] == {"resources": {}, "volumeMode": "Filesystem"}  # as the typed struct holds it
    # an Ingress path's pathType is a pointer without omitempty: null in JSON when unset
    ing = _obj("Ingress", "networking.k8s.io/v1", {"spec": {"rules": [{"http": {"paths": [{"path": "/", "backend": {}}]}}]}})
    body = inert.to_manifest_body(ing)
    assert body["spec"]["rules"][0]["http"]["paths"][0] == {"path": "/", "pathType": None, "backend": {}}
    assert body["status"] == {"loadBalancer": {}}


@pytest.mark.parametrize(
    ("kind", "api", "body", "want"),
    [
        # core/v1 ConfigMap: data 2 (map entries {key 1, value 2}), immutable 4
        ("ConfigMap", "v1", {"data": {"k": "v"}, "immutable": True}, b"\x12\x06\x0a\x01k\x12\x01v\x20\x01"),
        # binaryData 3: the value is the decoded bytes
        ("ConfigMap", "v1", {"binaryData": {"b": base64.b64encode(b"\x00\x01").decode()}}, b"\x1a\x07\x0a\x01b\x12\x02\x00\x01"),
        # Secret: data 2 (bytes), type 3 always written
        ("Secret", "v1", {"data": {"k": base64.b64encode(b"v").decode()}, "type": "Opaque"},
         b"\x12\x06\x0a\x01k\x12\x01v\x1a\x06Opaque"),
        # ServiceAccount: automountServiceAccountToken 4 (pointer), imagePullSecrets 3 {name 1}
        ("ServiceAccount", "v1", {"automountServiceAccountToken": False, "imagePullSecrets": [{"name": "r"}]},
         b"\x1a\x03\x0a\x01r\x20\x00"),
        # rbac/v1 Role: rules 2 {verbs 1, apiGroups 2, resources 3}
        ("Role", "rbac.authorization.k8s.io/v1", {"rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]},
         b"\x12\x0d\x0a\x03get\x12\x00\x1a\x04pods"),
        # RoleBinding: subjects 2 {kind 1, apiGroup 2, name 3, namespace 4}, roleRef 3 {apiGroup 1, kind 2, name 3}
        ("RoleBinding", "rbac.authorization.k8s.io/v1",
         {"subjects": [{"kind": "User", "name": "a", "apiGroup": "g"}], "roleRef": {"apiGroup": "g", "kind": "Role", "name": "r"}},
         b"\x12\x0e\x0a\x04User\x12\x01g\x1a\x01a\x22\x00" + b"\x1a\x0c\x0a\x01g\x12\x04Role\x1a\x01r"),
    ],
)
def test_protobuf_known_answers(kind: str, api: str, body: dict[str, object], want: bytes) -> None:
    obj = _obj(kind, api, body)
    assert inert.exact_sizes(obj)
    assert inert.content_proto(obj) == want


def test_a_role_without_rules_serves_null_rules() -> None:
    obj = _obj("Role", "rbac.authorization.k8s.io/v1", {})
    assert inert.to_manifest_body(obj) == {"rules": None}
    assert inert.content_proto(obj) == b""


def test_get_lists_inert_kinds_with_kubectls_columns() -> None:
    c = _cluster()
    c.apply_yaml(APP)
    c.run(until=120)
    assert c.kubectl("get cm").splitlines() == ["NAME   DATA   AGE", "cfg    2      2m"]
    assert c.kubectl("get secrets").splitlines() == ["NAME    TYPE     DATA   AGE", "creds   Opaque   1      2m"]
    assert c.kubectl("get sa").splitlines()[0].split() == ["NAME", "SECRETS", "AGE"]
    assert c.kubectl("get ing").splitlines()[1].split() == ["web", "nginx", "web.example.com", "80", "2m"]
    assert c.kubectl("get hpa").splitlines()[1].split() == ["web", "Deployment/web", "cpu:", "<unknown>/50%", "2", "10", "0", "2m"]
    assert c.kubectl("get pdb").splitlines()[0].split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert c.kubectl("get job").splitlines()[1].split() == ["migrate", "Running", "0/1", "2m"]
    assert c.kubectl("get cronjob").splitlines()[1].split()[:4] == ["nightly", "0", "3", "*"]
    assert c.kubectl("get clusterrole").splitlines()[1].split() == ["viewer", "2025-01-01T00:00:00Z"]
    assert c.kubectl("get pvc").splitlines() == ["NAME   AGE", "data   2m"]


def test_not_found_names_the_resource_as_the_api_server_does() -> None:
    c = _cluster()
    with pytest.raises(NotFound, match='^configmaps "nope" not found$'):
        c.get("ConfigMap", "nope")
    with pytest.raises(NotFound, match='^ingresses.networking.k8s.io "nope" not found$'):
        c.get("ing", "nope")


def test_a_kind_kubernetes_does_not_have_still_gets_the_api_servers_error() -> None:
    c = _cluster()
    with pytest.raises(ManifestError, match='no matches for kind "Foo" in version "v1"'):
        c.apply_yaml("apiVersion: v1\nkind: Foo\nmetadata: {name: x}\n")
    with pytest.raises(ManifestError, match='no matches for kind "ConfigMap" in version "apps/v1"'):
        c.apply_yaml("apiVersion: apps/v1\nkind: ConfigMap\nmetadata: {name: x}\n")


def test_the_namespace_controller_deletes_inert_content_with_its_namespace() -> None:
    c = _cluster()
    c.apply_yaml("apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n")
    c.apply_yaml(APP.replace("metadata: {name:", "metadata: {namespace: prod, name:"))
    # written out, not read from INERT or the store: the deletion below must have had this to delete
    in_prod = {("ConfigMap", "cfg"), ("Secret", "creds"), ("ServiceAccount", "web"), ("Role", "reader"),
               ("RoleBinding", "reader"), ("Ingress", "web"), ("HorizontalPodAutoscaler", "web"),
               ("PodDisruptionBudget", "web"), ("NetworkPolicy", "web")}
    assert in_prod <= {(kind, o.metadata.name) for kind, _ in in_prod for o in c.list(kind, "prod")}
    c.delete("Namespace", "prod")
    c.run()
    for kind in sorted(set(INERT) | {kind for kind, _ in in_prod}):
        if KIND_INFO[kind].namespaced:
            assert c.list(kind, "prod") == [], kind
    assert [o.metadata.name for o in c.list("ClusterRole", None)] == ["viewer"]  # cluster-scoped: kept


def test_the_garbage_collector_deletes_an_owned_configmap() -> None:
    c = _cluster()
    kubesim.scenarios.deploy(c, "web", replicas=1)
    d = c.get("Deployment", "web")
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": d.metadata.uid}
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owned", "ownerReferences": [ref]}})
    c.delete("Deployment", "web")
    c.run()
    with pytest.raises(NotFound):
        c.get("ConfigMap", "owned")


# ----------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n", "metadata.name"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: Bad_}\n", "metadata.generateName"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {'bad key!': x}}\n", "metadata.labels"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {'bad/key': x}\n", "data[bad/key]"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: x}\nbinaryData: {k: eA==}\n", "data[k]"),
        ("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {k: '%%%'}\n", "data[k]"),
        ("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: a/b}\nrules: []\n", "metadata.name"),
        ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: " + "c" * 53 + "}\nspec: {}\n", "metadata.name"),
        ("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, finalizers: ['bad finalizer']}\n", "metadata.finalizers"),
        ("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: a}\nrules: [{resources: [pods]}]\n",
         "rules[0].verbs"),
        ("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: a}\n"
         "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Group, name: x}\n", "roleRef.kind"),
        ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\n"
         "spec: {rules: [{http: {paths: [{path: /, backend: {service: {name: s, port: {number: 80}}}}]}}]}\n",
         "spec.rules[0].http.paths[0].pathType"),
        ("apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\nspec: {template: {spec: {containers: [{name: c}]}}}\n",
         "spec.template.spec.restartPolicy"),
        ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: a}\nspec: {jobTemplate: {spec: {template: "
         "{spec: {restartPolicy: Never}}}}}\n", "spec.schedule"),
    ],
)
def test_invalid_inert_objects_are_refused_with_the_field_and_change_nothing(doc: str, field: str) -> None:
    c = _cluster()
    n = len(c.changes)
    with pytest.raises(InvalidObject) as err:
        c.apply_yaml(doc)
    assert any(f.startswith(field) for f in err.value.fields), err.value.fields
    assert len(c.changes) == n


@pytest.mark.parametrize("value", [None, 5, b"{}", {"data": {"a": "1"}}], ids=repr)
def test_a_content_that_is_not_text_is_refused_and_changes_nothing(value: object) -> None:
    # only a ContentRecord is built into text: any other value reads back as it is, so repr
    # shows it and the API server refuses it as it refuses any non-string content
    c = _cluster()
    obj = inert.InertObject(metadata=kubesim.ObjectMeta(name="cfg", namespace="default"), kind="ConfigMap",
                            api_version="v1", content=value)  # type: ignore[arg-type]
    assert obj.content is value and inert.held_content(obj) is value
    assert f"content={value!r}" in repr(obj)
    assert attrs.evolve(obj).content is value and obj == attrs.evolve(obj)
    before = c.api.fingerprint()
    with pytest.raises(ManifestError, match=f"content: invalid type: got {type(value).__name__} "):
        c.api.create(obj)
    assert c.api.fingerprint() == before


def test_apply_of_a_big_configmap_hits_the_last_applied_annotation_limit_as_kubectl_does() -> None:
    c = _cluster()
    with pytest.raises(InvalidObject, match="metadata.annotations: Too long: may not be more than 262144 bytes"):
        c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"k": "x" * 300_000}})


def test_a_configmap_over_one_mebibyte_is_too_long() -> None:
    c = _cluster()
    big = "x" * (1024 * 1024)
    with pytest.raises(InvalidObject) as err:  # (apply would also hit the annotation limit)
        c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"k": big}})
    assert str(err.value) == 'ConfigMap "big" is invalid: : Too long: may not be more than 1048576 bytes'


def test_a_secret_over_one_mebibyte_is_too_long() -> None:
    c = _cluster()
    blob = base64.b64encode(b"\x00" * (1024 * 1024)).decode()
    with pytest.raises(InvalidObject, match="data: Too long: may not be more than 1048576 bytes"):
        c.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "big"}, "data": {"k": blob}})


def test_etcds_request_limit_applies_to_inert_objects() -> None:
    c = _cluster(max_request_bytes=4096)
    with pytest.raises(RequestTooLarge):
        c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "x" * 5000}})
    assert c.list("ConfigMap") == []


def test_an_immutable_configmap_refuses_data_changes() -> None:
    c = _cluster()
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "1"}, "immutable": True})
    with pytest.raises(InvalidObject, match="field is immutable when `immutable` is set"):
        c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "2"}, "immutable": True})


def test_namespace_on_a_cluster_scoped_inert_kind_is_dropped_as_kubectl_does() -> None:
    c = _cluster()
    (cr,) = c.apply_yaml("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: a, namespace: x}\nrules: []\n")
    assert cr.metadata.namespace == ""


def test_non_json_yaml_scalars_become_strings() -> None:
    c = _cluster()
    (cm,) = c.apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {when: '2024-01-01'}\n")
    assert inert.content(cm)["data"] == {"when": "2024-01-01"}


_KEYS = st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True).filter(lambda k: k not in (".", "..") and not k.startswith(".."))
_TEXT = st.text(max_size=30)


@settings(max_examples=60, deadline=None)
@given(
    data=st.dictionaries(_KEYS, _TEXT, max_size=5),
    binary=st.dictionaries(_KEYS, st.binary(max_size=20), max_size=3),
    immutable=st.none() | st.booleans(),
    secret=st.booleans(),
)
def test_sizes_equal_the_encodings_and_manifests_round_trip(
    data: dict[str, str], binary: dict[str, bytes], immutable: bool | None, secret: bool
) -> None:
    c = _cluster()
    if secret:
        body: dict[str, object] = {"stringData": data, "data": {k: base64.b64encode(v).decode() for k, v in binary.items()}}
        kind = "Secret"
    else:
        body = {"data": data, "binaryData": {k: base64.b64encode(v).decode() for k, v in binary.items() if k not in data}}
        kind = "ConfigMap"
    if immutable is not None:
        body["immutable"] = immutable
    stored = c.create({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}, **body})
    assert inert.exact_sizes(stored)
    manifest = kubesim.to_manifest(stored)
    assert wire.json_size(stored) == len(wire.go_json_bytes(manifest))
    assert wire.proto_size(stored) == len(wire.encode_proto(stored))
    assert kubesim.from_manifest(manifest) == stored
    (e,) = [e for e in c.changes if e.kind == kind]
    assert (e.json_bytes, e.proto_bytes) == wire.sizes(stored)
