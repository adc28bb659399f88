"""The kubectl a reader types in ``cluster.kubectl()``: several kinds, ``all``, ``-L``,
``--sort-by``, ``--show-kind``, jsonpath and custom columns on live objects, and the commands
that write, each checked against the cluster's state (the oracle) and kubectl's wording."""

from __future__ import annotations

import pytest

import kubesim
from kubesim import scenarios
from kubesim.errors import KubectlError


@pytest.fixture
def cluster() -> kubesim.Cluster:
    c = kubesim.Cluster(seed=0, nodes=2)
    scenarios.deploy(c, "web", replicas=3)
    c.run()
    return c


def test_several_kinds_print_with_kind_prefixes(cluster: kubesim.Cluster) -> None:
    out = cluster.kubectl("get svc,ep")
    tables = out.split("\n\n")
    assert len(tables) == 2
    assert tables[0].splitlines()[1].startswith("service/web ")
    assert tables[1].splitlines()[1].startswith("endpoints/web ")
    assert tables[0].rstrip() + "\n" == cluster.kubectl("get svc --show-kind")


def test_get_all(cluster: kubesim.Cluster) -> None:
    out = cluster.kubectl("get all")
    names = [line.split()[0] for line in out.splitlines() if line and not line.startswith("NAME")]
    pods = sorted(p.metadata.name for p in cluster.list("Pod"))
    rss = sorted(r.metadata.name for r in cluster.list("ReplicaSet"))
    assert names == [f"pod/{p}" for p in pods] + ["service/web", "deployment.apps/web"] + [f"replicaset.apps/{r}" for r in rss]


def test_label_columns_and_sort_by(cluster: kubesim.Cluster) -> None:
    out = cluster.kubectl("get pods -L app -L nope --sort-by=.status.podIP")
    lines = out.splitlines()
    assert lines[0].split()[-2:] == ["APP", "NOPE"]
    ips = [p.status.pod_ip for p in sorted(cluster.list("Pod"), key=lambda p: p.status.pod_ip)]
    names = {p.status.pod_ip: p.metadata.name for p in cluster.list("Pod")}
    assert [line.split()[0] for line in lines[1:]] == [names[ip] for ip in ips]
    assert all(line.split()[-1] == "web" for line in lines[1:])


def test_jsonpath_and_custom_columns_on_live_objects(cluster: kubesim.Cluster) -> None:
    assert cluster.kubectl("get deployment web -o jsonpath={.spec.replicas}") == "3"
    names = cluster.kubectl("get pods -o jsonpath={.items[*].metadata.name}").split(" ")
    assert names == sorted(p.metadata.name for p in cluster.list("Pod"))
    out = cluster.kubectl("get pods -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName")
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["NAME", "NODE"]
    assert rows[1:] == [[p.metadata.name, p.spec.node_name] for p in cluster.list("Pod")]
    with pytest.raises(KubectlError, match="template format specified but no template given"):
        cluster.kubectl("get pods -o jsonpath=")


def test_scale_and_set_image(cluster: kubesim.Cluster) -> None:
    assert cluster.kubectl("scale deployment web --replicas=5") == "deployment.apps/web scaled\n"
    cluster.run()
    assert len(cluster.list("Pod")) == 5
    assert cluster.kubectl("set image deployment/web web=nginx:1.27") == "deployment.apps/web image updated\n"
    assert cluster.get("Deployment", "web").spec.template.spec.containers[0].image == "nginx:1.27"
    with pytest.raises(KubectlError, match='unable to find container named "nope"'):
        cluster.kubectl("set image deployment/web nope=nginx:1")
    with pytest.raises(KubectlError, match='required flag\\(s\\) "replicas" not set'):
        cluster.kubectl("scale deployment web")


def test_set_image_unknown_container_writes_nothing(cluster: kubesim.Cluster) -> None:
    before = len(cluster.changes)
    with pytest.raises(KubectlError, match='unable to find container named "nope"'):
        scenarios.set_image(cluster, "web", "nginx:9", container="nope")
    assert len(cluster.changes) == before


def test_rollout_status_history_undo_restart(cluster: kubesim.Cluster) -> None:
    cluster.kubectl("set image deployment/web web=nginx:1.27")
    out = cluster.kubectl("rollout status deployment/web").splitlines()
    assert out[-1] == 'deployment "web" successfully rolled out'
    assert any(line.startswith('Waiting for deployment "web" rollout to finish') for line in out)
    d = cluster.get("Deployment", "web")
    assert d.status.updated_replicas == d.status.available_replicas == 3
    assert cluster.kubectl("rollout history deployment/web") == (
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n")
    assert cluster.kubectl("rollout undo deployment/web") == "deployment.apps/web rolled back\n"
    assert cluster.get("Deployment", "web").spec.template.spec.containers[0].image == "nginx:1.25"
    with pytest.raises(KubectlError, match="unable to find specified revision 9 in history"):
        cluster.kubectl("rollout undo deployment/web --to-revision=9")
    assert cluster.kubectl("rollout restart deployment/web") == "deployment.apps/web restarted\n"
    assert "kubectl.kubernetes.io/restartedAt" in cluster.get("Deployment", "web").spec.template.metadata.annotations


def test_label_annotate_patch_delete_apply(cluster: kubesim.Cluster) -> None:
    assert cluster.kubectl("label deployment web tier=front") == "deployment.apps/web labeled\n"
    assert cluster.get("Deployment", "web").metadata.labels["tier"] == "front"
    with pytest.raises(KubectlError, match=r"'tier' already has a value \(front\), and --overwrite is false"):
        cluster.kubectl("label deployment web tier=back")
    cluster.kubectl("label deployment web tier=back --overwrite")
    cluster.kubectl("label deployment web tier-")
    assert "tier" not in cluster.get("Deployment", "web").metadata.labels
    assert cluster.kubectl("annotate svc web note=hi") == "service/web annotated\n"
    assert cluster.get("Service", "web").metadata.annotations["note"] == "hi"
    # strategic merge merges the containers list by name; a merge patch replaces it
    patch = '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}'
    assert cluster.kubectl(["patch", "deployment", "web", "-p", patch]) == "deployment.apps/web patched\n"
    c = cluster.get("Deployment", "web").spec.template.spec.containers[0]
    assert c.image == "nginx:1.28" and c.ports  # the ports survived the strategic merge
    assert cluster.kubectl(["patch", "deployment", "web", "--type", "merge", "-p", '{"spec":{"replicas":3}}']) == (
        "deployment.apps/web patched (no change)\n")
    assert cluster.kubectl("delete service web") == 'service "web" deleted\n'
    with pytest.raises(kubesim.NotFound):
        cluster.get("Service", "web")
    with pytest.raises(KubectlError, match='Error from server \\(NotFound\\): services "web" not found'):
        cluster.kubectl("delete service web")
    assert cluster.kubectl("apply -f examples/manifests/nginx-service.yaml") == "service/nginx-service created\n"
    assert cluster.kubectl("apply -f examples/manifests/nginx-service.yaml") == "service/nginx-service unchanged\n"


def test_write_commands_need_a_cluster() -> None:
    from kubesim.kubectl import run

    with pytest.raises(KubectlError, match="needs a cluster"):
        run("scale deployment web --replicas=1", store=kubesim.Cluster(seed=0, nodes=1).api, now=0)
