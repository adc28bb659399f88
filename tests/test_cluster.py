"""End-to-end tests of the :class:`kubesim.cluster.Cluster` facade, driven by the chapter's
manifests (``examples/manifests/``): a Deployment and its Service, an external database behind a
selector-less Service, a mistyped selector, deletions, determinism, all-or-nothing apply, the
typed errors and their API-server wording, ``kubectl apply`` semantics, a rolling update and a
scale-down.

Every expectation is what a real cluster does (the Endpoints controller in
``pkg/controller/endpoint``, the EndpointSlice controller in ``pkg/controller/endpointslice``,
the mirroring controller in ``pkg/controller/endpointslicemirroring`` and the garbage collector),
never a value read back from the code under test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from kubesim import errors
from kubesim.cluster import LAST_APPLIED_ANNOTATION, Cluster
from kubesim.errors import (
    AlreadyExists,
    Conflict,
    InvalidObject,
    InvalidOption,
    KubesimError,
    ManifestError,
    NotFound,
)

MANIFESTS = Path(__file__).resolve().parent.parent / "examples" / "manifests"

DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
"""

SERVICE_YAML = """\
apiVersion: v1
kind: Service
metadata:
  name: nginx-service
spec:
  selector:
    app: nginx
  ports:
    - protocol: TCP
      port: 80
      targetPort: 80
  type: ClusterIP
"""

EXTERNAL_DB_YAML = """\
apiVersion: v1
kind: Service
metadata:
  name: external-database-service
spec:
  ports:
    - protocol: TCP
      port: 5432
      targetPort: 5432
---
apiVersion: v1
kind: Endpoints
metadata:
  name: external-database-service
subsets:
  - addresses:
      - ip: 192.168.49.1
    ports:
      - port: 5432
"""

CHAPTER_YAML = DEPLOYMENT_YAML + "---\n" + SERVICE_YAML

SLICE_SELECTOR = "kubernetes.io/service-name=nginx-service"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
SLICE_CONTROLLER = "endpointslice-controller.k8s.io"
MIRRORING_CONTROLLER = "endpointslicemirroring-controller.k8s.io"


# ------------------------------------------------------------------------------------ helpers


def _manifest(name: str, fallback: str) -> str:
    """The chapter's manifest file if the examples carry it, else the inline copy."""
    path = MANIFESTS / name
    return path.read_text() if path.exists() else fallback


def chapter_cluster(seed: int = 0, **kw: Any) -> Cluster:
    cl = Cluster(seed=seed, nodes=2, **kw)
    cl.apply_yaml(_manifest("nginx-deployment.yaml", DEPLOYMENT_YAML))
    cl.apply_yaml(_manifest("nginx-service.yaml", SERVICE_YAML))
    cl.run()
    return cl


def ready_addresses(ep: Any) -> set[tuple[str, int]]:
    return {(a.ip, p.port) for s in ep.subsets for a in s.addresses for p in s.ports}


def not_ready_addresses(ep: Any) -> set[str]:
    return {a.ip for s in ep.subsets for a in s.not_ready_addresses}


def ready_pods(cl: Cluster, selector: str = "app=nginx") -> list[Any]:
    return [p for p in cl.list("Pod", selector=selector) if p.status.ready and p.metadata.deletion_timestamp is None]


def pod_ip(pod: Any) -> str:
    return pod.status.pod_ips[0].ip


def event_fields(e: Any) -> tuple[Any, ...]:
    return tuple(getattr(e, f.name) for f in attrs.fields(type(e)))


# ------------------------------------------------------------------------------------ the chapter


def test_chapter_deployment_and_service_endpoints_hold_both_pods() -> None:
    cl = chapter_cluster()
    pods = ready_pods(cl)
    assert len(pods) == 2
    ips = {pod_ip(p) for p in pods}
    assert len(ips) == 2
    ep = cl.get("Endpoints", "nginx-service")
    assert ready_addresses(ep) == {(ip, 80) for ip in ips}
    assert not_ready_addresses(ep) == set()
    # every address points at its pod (targetRef kind Pod, uid) and carries the pod's node
    by_uid = {p.metadata.uid: p for p in pods}
    addrs = [a for s in ep.subsets for a in s.addresses]
    assert sorted(a.target_ref.uid for a in addrs) == sorted(by_uid)
    for a in addrs:
        pod = by_uid[a.target_ref.uid]
        assert a.target_ref.kind == "Pod" and a.target_ref.name == pod.metadata.name
        assert a.node_name == pod.spec.node_name
        assert a.ip == pod_ip(pod)
    # v1.33+: the Endpoints controller labels what it manages; a ClusterIP Service is not headless
    assert ep.metadata.labels.get("endpoints.kubernetes.io/managed-by") == "endpoint-controller"
    assert "service.kubernetes.io/headless" not in ep.metadata.labels
    assert ep.metadata.owner_references == ()

    slices = cl.list("EndpointSlice", selector=SLICE_SELECTOR)
    assert len(slices) == 1
    (sl,) = slices
    assert sl.address_type == "IPv4"
    assert sl.metadata.labels[MANAGED_BY] == SLICE_CONTROLLER
    assert sl.metadata.name.startswith("nginx-service-")
    assert sorted(e.addresses[0] for e in sl.endpoints) == sorted(ips)
    assert all(e.conditions.ready for e in sl.endpoints)
    assert [(p.port, p.protocol) for p in sl.ports] == [(80, "TCP")]
    svc = cl.get("Service", "nginx-service")
    (owner,) = sl.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.controller) == ("Service", "nginx-service", svc.metadata.uid, True)


def test_chapter_as_one_multi_document_apply_gives_the_same_objects() -> None:
    a = chapter_cluster(seed=3)
    b = Cluster(seed=3, nodes=2)
    objs = b.apply_yaml(CHAPTER_YAML)
    assert [o.kind for o in objs] == ["Deployment", "Service"]
    b.run()
    assert ready_addresses(a.get("Endpoints", "nginx-service")) == ready_addresses(b.get("Endpoints", "nginx-service"))
    assert len(b.list("EndpointSlice", selector=SLICE_SELECTOR)) == 1


def test_kubectl_get_endpoints_output_shape() -> None:
    cl = chapter_cluster()
    out = cl.kubectl("get endpoints nginx-service")
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == 2
    assert lines[0].split() == ["NAME", "ENDPOINTS", "AGE"]
    name, endpoints, age = lines[1].split()
    assert name == "nginx-service"
    assert sorted(endpoints.split(",")) == sorted(f"{pod_ip(p)}:80" for p in ready_pods(cl))
    assert re.fullmatch(r"\d+s", age)
    # the ENDPOINTS column starts where its header does (tabwriter alignment)
    assert lines[0].index("ENDPOINTS") == lines[1].index(endpoints)
    # kubectl's short name
    assert cl.kubectl("get ep nginx-service") == out

    slices_out = cl.kubectl("get endpointslices").rstrip("\n").split("\n")
    assert slices_out[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert len(slices_out) == 2
    cells = slices_out[1].split()
    assert cells[0].startswith("nginx-service-") and cells[1:3] == ["IPv4", "80"]
    assert sorted(cells[3].split(",")) == sorted(pod_ip(p) for p in ready_pods(cl))


# ------------------------------------------------------------------------------------ external database


def external_db_cluster() -> Cluster:
    cl = Cluster(seed=0, nodes=2)
    cl.apply_yaml(_manifest("external-database.yaml", EXTERNAL_DB_YAML))
    cl.run()
    return cl


def test_external_database_endpoints_left_alone_and_mirrored() -> None:
    cl = external_db_cluster()
    ep = cl.get("Endpoints", "external-database-service")
    assert ready_addresses(ep) == {("192.168.49.1", 5432)}
    # the Endpoints controller never writes the Endpoints of a selector-less Service
    assert cl.changes.where(kind="Endpoints", actor="endpoint-controller") == []
    assert "endpoints.kubernetes.io/managed-by" not in ep.metadata.labels
    # and the EndpointSlice controller writes no slice for it either
    assert cl.changes.where(kind="EndpointSlice", actor="endpointslice-controller") == []

    slices = cl.list("EndpointSlice", selector="kubernetes.io/service-name=external-database-service")
    assert len(slices) == 1
    (sl,) = slices
    assert sl.metadata.labels[MANAGED_BY] == MIRRORING_CONTROLLER
    assert sl.address_type == "IPv4"
    assert [e.addresses for e in sl.endpoints] == [("192.168.49.1",)]
    assert sl.endpoints[0].conditions.ready is True
    assert [(p.port, p.protocol) for p in sl.ports] == [(5432, "TCP")]
    # the mirrored slice is owned by the Endpoints (pkg/controller/endpointslicemirroring/utils.go)
    (owner,) = sl.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid) == ("Endpoints", "external-database-service", ep.metadata.uid)
    # kubectl's last-applied annotation is never copied onto mirrored slices
    assert LAST_APPLIED_ANNOTATION not in sl.metadata.annotations
    assert [e.actor for e in cl.changes.where(kind="EndpointSlice")] == ["endpointslicemirroring-controller"]


def test_changing_the_external_ip_updates_the_mirrored_slice() -> None:
    cl = external_db_cluster()
    (before,) = cl.list("EndpointSlice", selector="kubernetes.io/service-name=external-database-service")
    n = len(cl.changes)
    cl.apply_yaml(_manifest("external-database.yaml", EXTERNAL_DB_YAML).replace("192.168.49.1", "192.168.49.2"))
    cl.run()
    (after,) = cl.list("EndpointSlice", selector="kubernetes.io/service-name=external-database-service")
    assert after.metadata.name == before.metadata.name  # updated in place, not replaced
    assert [e.addresses for e in after.endpoints] == [("192.168.49.2",)]
    new = [(e.verb, e.kind, e.actor) for e in cl.changes[n:]]
    assert new == [
        ("update", "Endpoints", "kubectl"),
        ("update", "EndpointSlice", "endpointslicemirroring-controller"),
    ]


def test_deleting_the_external_endpoints_removes_the_mirrored_slice() -> None:
    cl = external_db_cluster()
    cl.delete("Endpoints", "external-database-service")
    cl.run()
    assert cl.list("EndpointSlice", selector="kubernetes.io/service-name=external-database-service") == []
    # and nothing recreates the hand-written Endpoints
    with pytest.raises(NotFound):
        cl.get("Endpoints", "external-database-service")


# ------------------------------------------------------------------------------------ wrong selector


def test_mistyped_selector_gives_empty_endpoints_and_one_placeholder_slice() -> None:
    cl = Cluster(seed=0, nodes=2)
    cl.apply_yaml(DEPLOYMENT_YAML)
    cl.apply_yaml(SERVICE_YAML.replace("app: nginx", "app: ngnix"))
    cl.run()
    assert len(ready_pods(cl)) == 2  # the pods are fine; nothing selects them
    ep = cl.get("Endpoints", "nginx-service")
    assert ep.subsets == ()
    slices = cl.list("EndpointSlice", selector=SLICE_SELECTOR)
    assert len(slices) == 1
    (sl,) = slices
    assert sl.endpoints == () and sl.ports == ()
    assert sl.metadata.labels[MANAGED_BY] == SLICE_CONTROLLER
    row = cl.kubectl("get endpoints nginx-service").split("\n")[1].split()
    assert row[:2] == ["nginx-service", "<none>"]

    # fixing the selector fills both
    n = len(cl.changes)
    cl.apply_yaml(SERVICE_YAML)
    cl.run()
    ips = {pod_ip(p) for p in ready_pods(cl)}
    assert ready_addresses(cl.get("Endpoints", "nginx-service")) == {(ip, 80) for ip in ips}
    (sl2,) = cl.list("EndpointSlice", selector=SLICE_SELECTOR)
    assert {e.addresses[0] for e in sl2.endpoints} == ips
    # the placeholder is updated in place, not replaced (reconciler recycles it)
    assert sl2.metadata.name == sl.metadata.name
    assert cl.changes.where(kind="EndpointSlice", verb="delete") == []
    assert len(cl.changes[n:]) > 0


# ------------------------------------------------------------------------------------ deletion


def test_deleting_the_service_deletes_endpoints_and_slices() -> None:
    cl = chapter_cluster()
    (sl,) = cl.list("EndpointSlice", selector=SLICE_SELECTOR)
    n = len(cl.changes)
    cl.delete("Service", "nginx-service")
    cl.run()
    with pytest.raises(NotFound):
        cl.get("Endpoints", "nginx-service")
    assert cl.list("EndpointSlice", selector=SLICE_SELECTOR) == []
    deletes = {(e.kind, e.name): e.actor for e in cl.changes[n:] if e.verb == "delete"}
    assert deletes == {
        ("Service", "nginx-service"): "client",
        ("Endpoints", "nginx-service"): "endpoint-controller",
        (("EndpointSlice", sl.metadata.name)): "garbage-collector",
    }
    # the pods are untouched
    assert len(ready_pods(cl)) == 2


def test_hand_deleted_endpoints_is_recreated() -> None:
    cl = chapter_cluster()
    old = cl.get("Endpoints", "nginx-service")
    n = len(cl.changes)
    cl.delete("Endpoints", "nginx-service")
    cl.run()
    new = cl.get("Endpoints", "nginx-service")
    assert new.metadata.uid != old.metadata.uid
    assert ready_addresses(new) == ready_addresses(old)
    assert [(e.verb, e.kind, e.actor) for e in cl.changes[n:]] == [
        ("delete", "Endpoints", "client"),
        ("create", "Endpoints", "endpoint-controller"),
    ]


# ------------------------------------------------------------------------------------ determinism


def _scripted_run(seed: int) -> Cluster:
    cl = chapter_cluster(seed=seed)
    cl.apply_yaml(EXTERNAL_DB_YAML)
    cl.apply_yaml(DEPLOYMENT_YAML.replace("replicas: 2", "replicas: 4"))
    cl.run()
    cl.apply_yaml(DEPLOYMENT_YAML.replace("nginx:1.25", "nginx:1.26"))
    cl.run()
    return cl


def test_same_seed_same_operations_identical_change_logs() -> None:
    a = _scripted_run(11)
    b = _scripted_run(11)
    assert len(a.changes) == len(b.changes) > 30
    for ea, eb in zip(a.changes, b.changes, strict=True):
        assert event_fields(ea) == event_fields(eb)
    assert a.now == b.now
    assert a.get("Endpoints", "nginx-service") == b.get("Endpoints", "nginx-service")
    assert a.list("EndpointSlice") == b.list("EndpointSlice")
    assert a.kubectl("get endpointslices") == b.kubectl("get endpointslices")


def test_different_seed_differs_in_names_uids_and_ips() -> None:
    a = chapter_cluster(seed=0)
    b = chapter_cluster(seed=1)
    names_a = {e.name for e in a.changes if e.kind == "Pod"}
    names_b = {e.name for e in b.changes if e.kind == "Pod"}
    assert len(names_a) == len(names_b) == 2
    assert names_a.isdisjoint(names_b)
    assert a.get("Service", "nginx-service").metadata.uid != b.get("Service", "nginx-service").metadata.uid
    assert a.get("Service", "nginx-service").spec.cluster_ip != b.get("Service", "nginx-service").spec.cluster_ip
    # the same structure nonetheless
    assert [(e.verb, e.kind) for e in a.changes if e.kind in ("Endpoints", "EndpointSlice")] != [] and len(
        ready_addresses(a.get("Endpoints", "nginx-service"))
    ) == len(ready_addresses(b.get("Endpoints", "nginx-service")))


# ------------------------------------------------------------------------------------ all or nothing


INVALID_SECOND = """\
apiVersion: v1
kind: Service
metadata:
  name: fine
spec:
  selector:
    app: fine
  ports:
  - port: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: broken
spec:
  ports:
  - port: 70000
    targetPort: 80
"""


def test_multi_document_apply_with_an_invalid_later_document_writes_nothing() -> None:
    cl = chapter_cluster()
    n = len(cl.changes)
    stats = cl.api.statistics()
    ep = cl.get("Endpoints", "nginx-service")
    # the first document also changes an existing object: it must be rolled back too
    text = SERVICE_YAML.replace("  name: nginx-service", "  name: nginx-service\n  labels:\n    tier: web") + "---\n" + INVALID_SECOND
    with pytest.raises(InvalidObject) as info:
        cl.apply_yaml(text)
    assert str(info.value) == (
        'Service "broken" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive'
    )
    assert info.value.fields == ("spec.ports[0].port",)
    assert len(cl.changes) == n
    assert cl.api.statistics().resource_version == stats.resource_version
    assert cl.api.statistics().objects == stats.objects
    with pytest.raises(NotFound):
        cl.get("Service", "fine")
    assert "tier" not in cl.get("Service", "nginx-service").metadata.labels
    cl.run()
    assert len(cl.changes) == n  # no controller heard of the rolled-back writes
    assert cl.get("Endpoints", "nginx-service") == ep


def test_failed_apply_leaves_the_random_stream_untouched() -> None:
    # a refused apply must not shift later names, uids or IPs (the seeded random is restored)
    a = Cluster(seed=5, nodes=2)
    b = Cluster(seed=5, nodes=2)
    with pytest.raises(InvalidObject):
        a.apply_yaml(INVALID_SECOND)
    for cl in (a, b):
        cl.apply_yaml(CHAPTER_YAML)
        cl.run()
    assert [event_fields(e) for e in a.changes] == [event_fields(e) for e in b.changes]


def test_unparseable_later_document_is_a_manifest_error_and_writes_nothing() -> None:
    cl = Cluster(seed=0, nodes=1)
    n = len(cl.changes)
    with pytest.raises(ManifestError):
        cl.apply_yaml(SERVICE_YAML + "---\napiVersion: v1\nkind: NoSuchKind\nmetadata:\n  name: x\n")
    with pytest.raises(ManifestError):
        cl.apply_yaml(SERVICE_YAML + "---\n: : [\n")
    assert len(cl.changes) == n
    assert cl.list("Service") == []


# ------------------------------------------------------------------------------------ typed errors


def test_not_found_messages() -> None:
    cl = chapter_cluster()
    with pytest.raises(NotFound) as info:
        cl.get("Endpoints", "nope")
    assert str(info.value) == 'endpoints "nope" not found'
    assert isinstance(info.value, KubesimError) and isinstance(info.value, LookupError)
    with pytest.raises(NotFound) as info:
        cl.get("endpointslices", "nope")
    assert str(info.value) == 'endpointslices.discovery.k8s.io "nope" not found'
    with pytest.raises(NotFound) as info:
        cl.delete("Deployment", "nope")
    assert str(info.value) == 'deployments.apps "nope" not found'
    n = len(cl.changes)
    with pytest.raises(NotFound):
        cl.get("Endpoints", "nginx-service", namespace="kube-system")
    assert len(cl.changes) == n


def test_already_exists_message() -> None:
    cl = chapter_cluster()
    n = len(cl.changes)
    svc = cl.get("Service", "nginx-service")
    with pytest.raises(AlreadyExists) as info:
        cl.create(svc)
    assert str(info.value) == 'services "nginx-service" already exists'
    assert len(cl.changes) == n


def test_conflict_on_stale_resource_version() -> None:
    cl = chapter_cluster()
    svc = cl.get("Service", "nginx-service")
    first = cl.update(attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, labels={"a": "1"})))
    assert int(first.metadata.resource_version) > int(svc.metadata.resource_version)
    n = len(cl.changes)
    with pytest.raises(Conflict) as info:
        cl.update(attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, labels={"a": "2"})))
    assert str(info.value) == (
        'Operation cannot be fulfilled on services "nginx-service": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert len(cl.changes) == n
    assert cl.get("Service", "nginx-service").metadata.labels == {"a": "1"}
    # an empty resourceVersion is an unconditional update
    cl.update(attrs.evolve(svc, metadata=attrs.evolve(svc.metadata, resource_version="", labels={"a": "3"})))
    assert cl.get("Service", "nginx-service").metadata.labels == {"a": "3"}


def test_invalid_object_message_and_nothing_written() -> None:
    cl = Cluster(seed=0, nodes=1)
    n = len(cl.changes)
    with pytest.raises(InvalidObject) as info:
        cl.apply(
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "bad"},
                "subsets": [{"addresses": [{"ip": "not-an-ip"}], "ports": [{"port": 5432}]}],
            }
        )
    msg = str(info.value)
    assert msg.startswith('Endpoints "bad" is invalid: ')
    # upstream reports the bad IP from both IsValidIP and ValidateEndpointIP
    assert 'subsets[0].addresses[0].ip: Invalid value: "not-an-ip": must be a valid IP address' in msg
    assert set(info.value.fields) == {"subsets[0].addresses[0].ip"}
    assert len(cl.changes) == n


def test_errors_module_exports_the_types() -> None:
    for name in ("NotFound", "AlreadyExists", "Conflict", "InvalidObject", "InvalidOption", "RequestTooLarge"):
        assert issubclass(getattr(errors, name), KubesimError)


# ------------------------------------------------------------------------------------ kubectl apply


def test_reapplying_the_same_manifest_is_a_no_op() -> None:
    cl = chapter_cluster()
    rv = cl.api.statistics().resource_version
    n = len(cl.changes)
    objs = cl.apply_yaml(CHAPTER_YAML)
    # the live objects come back, with their resourceVersions unchanged
    assert objs[0] == cl.get("Deployment", "nginx-deployment")
    assert objs[1] == cl.get("Service", "nginx-service")
    cl.run()
    assert len(cl.changes) == n
    assert cl.api.statistics().resource_version == rv


def test_apply_keeps_server_assigned_fields_and_records_last_applied() -> None:
    cl = chapter_cluster()
    svc = cl.get("Service", "nginx-service")
    assert LAST_APPLIED_ANNOTATION in svc.metadata.annotations
    cl.apply_yaml(SERVICE_YAML.replace("  name: nginx-service", "  name: nginx-service\n  labels:\n    tier: web"))
    cl.run()
    after = cl.get("Service", "nginx-service")
    assert after.metadata.uid == svc.metadata.uid
    assert after.spec.cluster_ip == svc.spec.cluster_ip
    assert after.metadata.labels == {"tier": "web"}
    # the Endpoints controller copies the Service's labels (endpoints_controller.go syncService)
    assert cl.get("Endpoints", "nginx-service").metadata.labels.get("tier") == "web"
    # the replicas the Deployment controller did not set are kept
    assert cl.get("Deployment", "nginx-deployment").spec.replicas == 2


# ------------------------------------------------------------------------------------ rollouts


def test_rolling_update_replaces_every_pod_and_endpoints_follow() -> None:
    cl = chapter_cluster()
    old_uids = {p.metadata.uid for p in cl.list("Pod")}
    ready_counts: list[int] = []

    def watch(e: Any) -> None:
        if e.kind == "Endpoints" and e.verb != "delete":
            ep = cl.get("Endpoints", "nginx-service")
            ready_counts.append(sum(len(s.addresses) for s in ep.subsets))

    stop = cl.changes.subscribe(watch)
    cl.apply_yaml(DEPLOYMENT_YAML.replace("nginx:1.25", "nginx:1.26"))
    cl.run()
    stop()
    pods = cl.list("Pod", selector="app=nginx")
    assert len(pods) == 2
    assert all(p.spec.containers[0].image == "nginx:1.26" for p in pods)
    assert {p.metadata.uid for p in pods}.isdisjoint(old_uids)
    assert all(p.status.ready for p in pods)
    ep = cl.get("Endpoints", "nginx-service")
    assert {a.target_ref.uid for s in ep.subsets for a in s.addresses} == {p.metadata.uid for p in pods}
    assert ready_addresses(ep) == {(pod_ip(p), 80) for p in pods}
    (sl,) = cl.list("EndpointSlice", selector=SLICE_SELECTOR)
    assert {e.target_ref.uid for e in sl.endpoints} == {p.metadata.uid for p in pods}
    # default strategy: maxSurge 25% (rounds up to 1), maxUnavailable 25% (rounds down to 0):
    # two ready endpoints at every Endpoints write of the rollout
    assert ready_counts and min(ready_counts) >= 2
    rss = cl.list("ReplicaSet")
    assert sorted((rs.spec.replicas or 0) for rs in rss) == [0, 2]


def test_scaling_down_removes_endpoints() -> None:
    cl = chapter_cluster()
    cl.apply_yaml(DEPLOYMENT_YAML.replace("replicas: 2", "replicas: 3"))
    cl.run()
    assert len(ready_addresses(cl.get("Endpoints", "nginx-service"))) == 3
    cl.apply_yaml(DEPLOYMENT_YAML.replace("replicas: 2", "replicas: 1"))
    cl.run()
    pods = cl.list("Pod", selector="app=nginx")
    assert len(pods) == 1
    ep = cl.get("Endpoints", "nginx-service")
    assert ready_addresses(ep) == {(pod_ip(pods[0]), 80)}
    assert not_ready_addresses(ep) == set()
    (sl,) = cl.list("EndpointSlice", selector=SLICE_SELECTOR)
    assert [e.addresses[0] for e in sl.endpoints] == [pod_ip(pods[0])]


# ------------------------------------------------------------------------------------ options


@pytest.mark.parametrize(
    "kw",
    [
        {"max_endpoints_per_slice": 0},
        {"max_endpoints_per_slice": 1001},
        {"endpoint_updates_batch_period": -1.0},
        {"endpointslice_updates_batch_period": -0.5},
        {"mirroring_endpointslice_updates_batch_period": -1},
        {"mirroring_max_endpoints_per_subset": 0},
        {"endpoint_updates_batch_period": float("nan")},
        {"controllers": ["endpoint", "no-such-controller"]},
    ],
)
def test_invalid_options_raise_invalid_option(kw: dict[str, Any]) -> None:
    with pytest.raises(InvalidOption) as info:
        Cluster(**kw)
    assert isinstance(info.value, ValueError)
    key = next(iter(kw))
    if key != "controllers":
        assert key in str(info.value)


def test_run_until_in_the_past_is_refused() -> None:
    cl = chapter_cluster()
    with pytest.raises(InvalidOption):
        cl.run(until=cl.now - 1.0)


@pytest.mark.parametrize("kw", [{"nodes": 300}, {"nodes": 120, "dual_stack": True, "zones": 4, "node_cpu": "500m"}])
def test_bootstrap_nodes_are_what_the_full_create_path_writes(
    kw: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Most bootstrap nodes are created trusted with their shape's sizes
    # (Cluster._create_generated_node): each must be defaulted, valid, and recorded with the
    # sizes a measurement of the stored node gives; and the change log must be, record for
    # record, the one of the same cluster whose every node takes APIServer.create.
    from kubesim import defaults, validation, wire

    c = Cluster(seed=5, record_objects=True, **kw)
    records = {e.name: e for e in c.changes if e.kind == "Node"}
    assert len(records) == kw["nodes"]
    for node in c.list("nodes", namespace=None):
        assert defaults.apply_defaults(node) is node
        validation.validate(node)
        e = records[node.metadata.name]
        assert wire.sizes3(node)[:2] == (e.json_bytes, e.proto_bytes)
    monkeypatch.setattr(Cluster, "_create_generated_node",
                        lambda self, node, shapes, shape: self.api.create(node, actor="kubelet"))
    full = Cluster(seed=5, record_objects=True, **kw)
    assert list(full.changes) == list(c.changes)
    assert full.list("nodes", namespace=None) == c.list("nodes", namespace=None)
