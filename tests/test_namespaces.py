"""Namespaces as kube-apiserver enforces them (``plugin/pkg/admission/namespace/lifecycle``)
and as the namespace controller deletes them (``pkg/controller/namespace/deletion``)."""

from __future__ import annotations

import pytest

import kubesim
import kubesim.scenarios as sc
from kubesim.errors import Forbidden, NotFound

NS_YAML = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n"


def _cluster(**kw: object) -> kubesim.Cluster:
    return kubesim.Cluster(seed=0, nodes=2, **kw)  # type: ignore[arg-type]


def test_the_system_namespaces_are_bootstrapped_first_by_the_api_server() -> None:
    c = _cluster()
    first = list(c.changes)[:4]
    assert [(e.seq, e.verb, e.kind, e.name, e.actor, e.time) for e in first] == [
        (0, "create", "Namespace", "default", "kube-apiserver", 0.0),
        (1, "create", "Namespace", "kube-system", "kube-apiserver", 0.0),
        (2, "create", "Namespace", "kube-public", "kube-apiserver", 0.0),
        (3, "create", "Namespace", "kube-node-lease", "kube-apiserver", 0.0),
    ]
    assert [n.metadata.name for n in c.list("Namespace", None)] == [
        "default", "kube-node-lease", "kube-public", "kube-system"]
    # SetDefaults_Namespace: the kubernetes.io/metadata.name label
    assert c.get("Namespace", "kube-system").metadata.labels["kubernetes.io/metadata.name"] == "kube-system"


def test_bootstrap_does_not_shift_the_seeded_stream() -> None:
    # the namespaces' uids come from a stream of their own: the nodes' uids (and every later
    # seeded choice) are what a cluster without them drew
    import random
    import uuid

    c = _cluster()
    rng = random.Random(0)
    want = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    assert c.get("Node", "node-1").metadata.uid == want


def test_two_runs_with_one_seed_give_identical_logs() -> None:
    def run() -> list[tuple[object, ...]]:
        c = _cluster()
        c.apply_yaml(NS_YAML)
        sc.deploy(c, "web", replicas=2, namespace="prod")
        c.run()
        c.delete("Namespace", "prod")
        c.run()
        return [(e.seq, e.time, e.verb, e.kind, e.namespace, e.name, e.actor, e.json_bytes, e.proto_bytes)
                for e in c.changes]

    assert run() == run()


def test_a_write_into_a_missing_namespace_is_not_found_and_changes_nothing() -> None:
    c = _cluster()
    n, stats = len(c.changes), c.api.statistics()
    with pytest.raises(NotFound) as err:
        sc.deploy(c, "web", replicas=1, namespace="prod")
    assert str(err.value) == 'namespaces "prod" not found'
    assert (err.value.kind, err.value.name) == ("Namespace", "prod")
    assert len(c.changes) == n and c.api.statistics() == stats


def test_admission_comes_before_validation() -> None:
    # NamespaceLifecycle is a mutating admission plugin: it runs before the registry validates
    c = _cluster()
    bad = "apiVersion: v1\nkind: Service\nmetadata:\n  name: Bad_Name\n  namespace: prod\nspec:\n  ports: [{port: 80}]\n"
    with pytest.raises(NotFound, match='namespaces "prod" not found'):
        c.apply_yaml(bad)


def test_cluster_scoped_kinds_need_no_namespace() -> None:
    c = _cluster()
    c.add_node("extra")
    assert c.get("Node", "extra").metadata.namespace == ""


def test_a_created_namespace_accepts_content() -> None:
    c = _cluster()
    c.apply_yaml(NS_YAML)
    sc.deploy(c, "web", replicas=2, namespace="prod")
    c.run()
    assert len(c.list("Pod", "prod")) == 2
    assert c.list("Pod", "default") == []


def test_apply_of_a_namespace_and_its_content_in_one_file() -> None:
    c = _cluster()
    c.apply_yaml(NS_YAML + "---\n" + sc.web_manifests("web", replicas=1, namespace="prod"))
    c.run()
    assert len(c.list("Pod", "prod")) == 1


def test_the_immortal_namespaces_cannot_be_deleted() -> None:
    c = _cluster()
    for name in ("default", "kube-system", "kube-public"):
        with pytest.raises(Forbidden) as err:
            c.delete("Namespace", name)
        assert str(err.value) == f'namespaces "{name}" is forbidden: this namespace may not be deleted'
    c.delete("Namespace", "kube-node-lease")  # not immortal
    c.run()
    with pytest.raises(NotFound):
        c.get("Namespace", "kube-node-lease")


def _deleting(c: kubesim.Cluster) -> None:
    c.apply_yaml(NS_YAML)
    sc.deploy(c, "web", replicas=3, namespace="prod")
    c.run()
    c.delete("Namespace", "prod")


def test_deleting_a_namespace_marks_it_terminating_and_refuses_new_content() -> None:
    c = _cluster()
    _deleting(c)
    ns = c.get("Namespace", "prod")
    assert ns.metadata.deletion_timestamp == c.now_unix
    assert "prod   Terminating" in c.kubectl("get ns prod")
    last = c.changes[-1]
    assert (last.verb, last.kind, last.name, last.actor) == ("update", "Namespace", "prod", "client")
    n = len(c.changes)
    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: late\n  namespace: prod\nspec:\n  containers: [{name: c, image: nginx}]\n"
    with pytest.raises(Forbidden) as err:
        c.apply_yaml(pod)
    assert str(err.value) == (
        'pods "late" is forbidden: unable to create new content in namespace prod because it is being terminated')
    assert len(c.changes) == n
    # a second delete changes nothing
    c.delete("Namespace", "prod")
    assert len(c.changes) == n


def test_the_namespace_controller_deletes_pods_first_then_the_rest_then_the_namespace() -> None:
    c = _cluster()
    _deleting(c)
    t0 = c.now
    c.run()
    with pytest.raises(NotFound):
        c.get("Namespace", "prod")
    for kind in ("Pod", "Service", "Endpoints", "EndpointSlice", "Deployment", "ReplicaSet"):
        assert c.list(kind, "prod") == [], kind
    ours = [e for e in c.changes if e.time >= t0 and e.actor == "namespace-controller"]
    assert ours, "the namespace controller wrote nothing"
    first_other = next(i for i, e in enumerate(ours) if e.kind not in ("Pod", "Namespace"))
    assert {e.kind for e in ours[:first_other]} <= {"Pod", "Namespace"}
    assert all(e.kind != "Pod" or e.verb == "update" for e in ours[:first_other])  # graceful deletes
    # it starts 5 s after the delete (namespaceDeletionGracePeriod)
    assert ours[0].time == pytest.approx(t0 + 5.0)
    # the namespace's removal is its last write
    gone = [e for e in c.changes if e.kind == "Namespace" and e.name == "prod"]
    assert gone[-1].verb == "delete" and gone[-1].actor == "namespace-controller"
    # the other namespaces' content is untouched
    assert c.get("Namespace", "default") is not None


def test_the_replicaset_controller_cannot_recreate_pods_in_a_terminating_namespace() -> None:
    c = _cluster()
    _deleting(c)
    t0 = c.now
    c.run()
    created = [e for e in c.changes if e.time >= t0 and e.kind == "Pod" and e.verb == "create"]
    assert created == []


def test_get_namespaces_lists_them_with_status() -> None:
    c = _cluster()
    c.apply_yaml(NS_YAML)
    out = c.kubectl("get ns")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "AGE"]
    assert [ln.split()[0] for ln in lines[1:]] == ["default", "kube-node-lease", "kube-public", "kube-system", "prod"]
    assert all(ln.split()[1] == "Active" for ln in lines[1:])


def test_create_sets_phase_active_and_the_kubernetes_finalizer_whatever_was_sent() -> None:
    c = _cluster()
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"},
              "spec": {"finalizers": ["example.com/x"]}, "status": {"phase": "Terminating"}})
    ns = c.get("Namespace", "prod")
    assert ns.spec.finalizers == ("example.com/x", "kubernetes")
    assert ns.status.phase == "Active"
    # a main-resource update keeps the stored finalizers and status (PrepareForUpdate)
    import attrs

    c.apply_yaml(NS_YAML.replace("name: prod", "name: prod\n  labels: {team: a}"))
    ns = c.get("Namespace", "prod")
    assert ns.metadata.labels["team"] == "a"
    assert ns.spec.finalizers == ("example.com/x", "kubernetes") and ns.status.phase == "Active"
    c.update(attrs.evolve(ns, status=attrs.evolve(ns.status, phase="Terminating")))
    assert c.get("Namespace", "prod").status.phase == "Active"


def test_deletion_writes_the_conditions_then_finalizes() -> None:
    c = _cluster()
    _deleting(c)
    assert c.get("Namespace", "prod").status.phase == "Terminating"
    c.run()
    writes = [e for e in c.changes if e.kind == "Namespace" and e.name == "prod"]
    verbs = [(e.verb, e.actor) for e in writes]
    assert verbs[0] == ("create", "kubectl") and verbs[1] == ("update", "client")
    assert verbs[-1] == ("delete", "namespace-controller")
    assert ("update", "namespace-controller") in verbs  # the deletion conditions


def test_a_foreign_namespace_finalizer_keeps_it_terminating() -> None:
    c = _cluster()
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"},
              "spec": {"finalizers": ["example.com/x"]}})
    c.delete("Namespace", "prod")
    c.run()
    ns = c.get("Namespace", "prod")  # the controller removed only its own token
    assert ns.spec.finalizers == ("example.com/x",) and ns.status.phase == "Terminating"
    types = [cond.type for cond in ns.status.conditions]
    assert types == ["NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
                     "NamespaceDeletionContentFailure", "NamespaceContentRemaining", "NamespaceFinalizersRemaining"]
    assert all(cond.status == "False" for cond in ns.status.conditions)


def test_namespace_sizes_are_the_encoders() -> None:
    import json

    from kubesim import wire

    c = _cluster()
    _deleting(c)
    c.run(until=c.now + 6)
    for ns in c.list("Namespace", None):
        assert wire.proto_size(ns) == len(wire.encode_proto(ns))
        assert wire.json_size(ns) == len(json.dumps(kubesim.to_manifest(ns), separators=(",", ":")))


# ----------------------------------------------------------------- stateful: the lifecycle invariant

from hypothesis import settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule  # noqa: E402

_NAMES = st.sampled_from(["a", "b", "c"])


class NamespaceLifecycle(RuleBasedStateMachine):
    """Random namespace creates and deletes, workloads and inert objects in them, time passing:
    no namespaced object ever outlives its namespace, and a Terminating namespace takes no new
    content (NamespaceLifecycle plus the namespace controller)."""

    def __init__(self) -> None:
        super().__init__()
        self.c = kubesim.Cluster(seed=3, nodes=2)

    @rule(ns=_NAMES)
    def create_namespace(self, ns: str) -> None:
        try:
            self.c.apply_yaml(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")
        except kubesim.KubesimError:
            pass  # e.g. still terminating: the update of a terminating namespace is allowed

    @rule(ns=_NAMES, replicas=st.integers(0, 3))
    def deploy(self, ns: str, replicas: int) -> None:
        live = self.c.api.try_get("Namespace", ns, None)
        existed = self.c.api.try_get("Deployment", "web", ns) is not None
        try:
            sc.deploy(self.c, "web", replicas=replicas, namespace=ns)
            # updates of existing content are admitted in a Terminating namespace
            assert live is not None and (live.status.phase == "Active" or existed)
        except NotFound:
            assert live is None
        except Forbidden:
            assert live is not None and live.status.phase == "Terminating"

    @rule(ns=_NAMES)
    def configmap(self, ns: str) -> None:
        try:
            self.c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns},
                          "data": {"k": "v"}})
        except (NotFound, Forbidden):
            pass

    @rule(ns=_NAMES)
    def delete_namespace(self, ns: str) -> None:
        try:
            self.c.delete("Namespace", ns)
        except NotFound:
            pass

    @rule(seconds=st.sampled_from([1.0, 6.0, 40.0]))
    def wait(self, seconds: float) -> None:
        self.c.run(until=self.c.now + seconds)

    @invariant()
    def no_object_outlives_its_namespace(self) -> None:
        namespaces = {n.metadata.name for n in self.c.list("Namespace", None)}
        for (kind, ns, name), _ in self.c.api.snapshot().items():
            if ns:
                assert ns in namespaces, (kind, ns, name)

    @invariant()
    def stores_are_consistent(self) -> None:
        self.c._check()


TestNamespaceLifecycle = NamespaceLifecycle.TestCase
TestNamespaceLifecycle.settings = settings(max_examples=40, stateful_step_count=15, deadline=None)
