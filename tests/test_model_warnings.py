"""Fields that change where pods run, whether they are ready or how traffic is routed are
modelled or reported (:class:`kubesim.ModelWarning`, kubectl's ``Warning:`` lines on the CLI)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import kubesim

ROOT = Path(__file__).resolve().parent.parent

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx}]
"""


def _warnings_of(fn: object, *args: object) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args)  # type: ignore[operator]
    return [str(w.message) for w in caught if issubclass(w.category, kubesim.ModelWarning)]


def _with_pod_spec(extra: str) -> str:
    return DEPLOYMENT + "".join(f"      {line}\n" for line in extra.strip("\n").splitlines())


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("affinity:\n  podAntiAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution: []", "affinity.podAntiAffinity is not modelled"),
        ("affinity:\n  podAffinity: {}", "affinity.podAffinity is not modelled"),
        ("topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]",
         "topologySpreadConstraints is not modelled"),
        ("schedulingGates: [{name: x}]", "schedulingGates is not modelled"),
        ("priorityClassName: high", "priorityClassName is not modelled"),
        ("affinity:\n  nodeAffinity:\n    preferredDuringSchedulingIgnoredDuringExecution:\n"
         "    - {weight: 1, preference: {matchExpressions: [{key: a, operator: Exists}]}}",
         "preferredDuringSchedulingIgnoredDuringExecution is stored but not scored"),
    ],
)
def test_pod_template_fields_are_reported_on_apply(extra: str, needle: str) -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    got = _warnings_of(c.apply_yaml, _with_pod_spec(extra))
    assert any(needle in m for m in got), got
    assert all(m.startswith('Deployment "web": ') for m in got), got


def test_modelled_fields_are_not_reported() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    extra = (
        "nodeSelector: {kubernetes.io/os: linux}\n"
        "tolerations: [{key: k, operator: Exists}]\n"
        "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n"
        "      nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/os, operator: In, values: [linux]}]}]\n"
    )
    assert _warnings_of(c.apply_yaml, _with_pod_spec(extra)) == []
    assert _warnings_of(c.apply_yaml, DEPLOYMENT) == []


def test_every_ignored_field_is_one_the_decoder_drops() -> None:
    # An entry for a field the schema now models would never fire (readinessGates and
    # startupProbe were such dead entries once they were modelled).
    from kubesim.manifests.schema import _SCHEMA
    from kubesim.model_warnings import IGNORED_FIELDS

    modelled = {cls.__name__: {f[0] for f in fields if f[1] is not None} for cls, (_, fields, _) in _SCHEMA.items()}
    for cls_name, key in IGNORED_FIELDS:
        assert cls_name in modelled, cls_name
        assert key not in modelled[cls_name], (cls_name, key)


def test_service_routing_fields_are_reported() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}, "sessionAffinity": "ClientIP",
                    "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10}}, "externalIPs": ["192.0.2.1"]}}
    got = sorted(_warnings_of(c.apply, svc))
    assert got == sorted([
        'Service "s": spec.externalIPs is not modelled: the Service is reachable only on its cluster IP (and node ports) in kubesim',
        'Service "s": spec.sessionAffinityConfig is not modelled: every connection picks a backend at random',
        'Service "s": spec.sessionAffinity: ClientIP is stored but not modelled: every connect() picks a backend at random',
    ])
    # the object is stored without the dropped fields, with the modelled one
    assert c.get("Service", "s").spec.session_affinity == "ClientIP"


def test_create_and_update_report_too_and_controllers_do_not() -> None:
    c = kubesim.Cluster(seed=0, nodes=2)
    obj = kubesim.load_yaml(_with_pod_spec("priority: 5").replace("name: web}", "name: other}", 1))[0]
    got = _warnings_of(c.create, obj)
    assert got == []  # an object (not a manifest) has no dropped fields left to see
    manifest = kubesim.to_manifest(kubesim.load_yaml(DEPLOYMENT)[0])
    manifest["spec"]["template"]["spec"]["topologySpreadConstraints"] = []
    got = _warnings_of(c.create, manifest)
    assert got == ['Deployment "web": topologySpreadConstraints is not modelled: pods are spread by pod count per node only']
    # running the controllers (ReplicaSet, pods from the template) warns no more
    assert _warnings_of(c.run) == []


def test_resource_requests_are_reported() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
           "  containers: [{name: c, image: nginx, resources: {requests: {cpu: 100m}}}]\n")
    (m,) = _warnings_of(c.apply_yaml, pod)
    assert m.startswith('Pod "p": spec.containers[*].resources.requests is stored but not used for placement')


def test_model_warning_is_exported_and_a_user_warning() -> None:
    assert "ModelWarning" in kubesim.__all__
    assert issubclass(kubesim.ModelWarning, UserWarning)


def test_cli_prints_kubectl_warning_lines(tmp_path: Path) -> None:
    f = tmp_path / "d.yaml"
    f.write_text(_with_pod_spec("affinity:\n  podAntiAffinity: {}"))
    proc = subprocess.run(
        [sys.executable, "-m", "kubesim", "apply", "-f", str(f), "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "deployment.apps/web created\n"
    assert proc.stderr == 'Warning: Deployment "web": affinity.podAntiAffinity is not modelled: pods are placed without pod anti-affinity\n'


def test_inert_kinds_a_controller_would_act_on_are_reported() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    hpa = ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
           "spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: 3}\n")
    assert _warnings_of(c.apply_yaml, hpa) == [
        'HorizontalPodAutoscaler "web": HorizontalPodAutoscaler is stored but not modelled: nothing scales the target']
    # a ConfigMap changes nothing kubesim models: no warning
    assert _warnings_of(c.apply_yaml, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n") == []


def test_dropped_fields_are_named_by_object_in_a_multi_document_apply() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}], externalIPs: [192.0.2.1]}\n"
    got = _warnings_of(c.apply_yaml, svc + "---\n" + _with_pod_spec("priorityClassName: high"))
    assert sorted(got) == sorted([
        'Service "s": spec.externalIPs is not modelled: the Service is reachable only on its cluster IP (and node ports) in kubesim',
        'Deployment "web": priorityClassName is not modelled: there is no priority or preemption',
    ])
