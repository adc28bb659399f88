"""02 — A mistyped selector: an empty Endpoints object, and how to find out why.

The Service asks for ``app: ngnix`` (letters swapped); the pods are labelled ``app: nginx``.
Nothing fails: the Service is created, the pods run, and the Endpoints object exists — it is
just empty, so every connection to the Service is refused.

The diagnosis is a comparison: the Service's selector (``kubectl describe svc``) against the
pods' labels (``kubectl get pods --show-labels``), or directly ``kubectl get pods -l <selector>``.
The fix is to correct the selector and apply again; the controllers fill the Endpoints and the
slice within the same instant.

Run: ``python examples/02_selector_typo.py``
"""

from __future__ import annotations

from pathlib import Path

import kubesim

MANIFESTS = Path(__file__).resolve().parent / "manifests"
SERVICE = (MANIFESTS / "nginx-service.yaml").read_text()
TYPO = SERVICE.replace("app: nginx", "app: ngnix")


def kubectl(cluster: kubesim.Cluster, command: str) -> None:
    """Print a command and what kubectl would print for it."""
    print(f"$ kubectl {command}")
    print(cluster.kubectl(command))


def main() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=2)
    cluster.apply_file(MANIFESTS / "nginx-deployment.yaml")
    cluster.apply_yaml(TYPO)
    cluster.run(until=60.0)

    print("== Symptom: the Service has no endpoints ==")
    kubectl(cluster, "get endpoints nginx-service")
    kubectl(cluster, "get endpointslices")
    print("The slice above is the controller's placeholder: no ports, no endpoints.\n")

    print("== Diagnosis 1: what does the Service select? ==")
    kubectl(cluster, "describe svc nginx-service")
    print("== Diagnosis 2: what labels do the pods carry? ==")
    kubectl(cluster, "get pods --show-labels")
    print("== Diagnosis 3: ask with the Service's own selector ==")
    kubectl(cluster, "get pods -l app=ngnix")

    svc = cluster.get("Service", "nginx-service")
    selector = dict(svc.spec.selector or {})
    for pod in cluster.list("Pod"):
        labels = pod.metadata.labels
        missing = {k: v for k, v in sorted(selector.items()) if labels.get(k) != v}
        print(f"{pod.metadata.name}: selector terms not matched: {missing}")
    print()

    print("== Fix: correct the selector and apply again ==")
    before = len(cluster.changes)
    cluster.apply_yaml(SERVICE)
    cluster.run(until=cluster.now + 1.0)
    for e in cluster.changes[before:]:
        print(f"  {e.verb:6} {e.kind:13} {e.name:20} by {e.actor}")
    print()
    kubectl(cluster, "get endpoints nginx-service")
    kubectl(cluster, "get endpointslices")


if __name__ == "__main__":
    main()
