"""03 — A readiness probe aimed at the wrong port: healthy pods that get no traffic.

nginx listens on port 80, but the readiness probe asks ``http://:8080/``. Every probe fails,
so the kubelet never marks the container ready. The pods are ``Running`` — nothing crashes,
nothing restarts (a failing *readiness* probe never restarts a container) — yet READY says
``0/1`` and the Service sends them nothing:

* the Endpoints object lists them under ``notReadyAddresses``, not ``addresses`` — so the
  ENDPOINTS column of ``kubectl get endpoints`` is blank;
* the EndpointSlice still lists them, with ``conditions.ready: false`` (kube-proxy skips them).

The fix is the probe's port; changing the pod template rolls out new pods, which become ready.

Run: ``python examples/03_probe_wrong_port.py``
"""

from __future__ import annotations

from pathlib import Path

import kubesim

MANIFESTS = Path(__file__).resolve().parent / "manifests"
DEPLOYMENT = (MANIFESTS / "nginx-deployment.yaml").read_text()
PROBE = """        - containerPort: 80
        readinessProbe:
          httpGet:
            path: /
            port: {port}
          periodSeconds: 5"""
WRONG = DEPLOYMENT.replace("        - containerPort: 80", PROBE.format(port=8080))
RIGHT = DEPLOYMENT.replace("        - containerPort: 80", PROBE.format(port=80))


def kubectl(cluster: kubesim.Cluster, command: str) -> None:
    """Print a command and what kubectl would print for it."""
    print(f"$ kubectl {command}")
    print(cluster.kubectl(command))


def main() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=2)
    cluster.apply_yaml(WRONG)
    cluster.apply_file(MANIFESTS / "nginx-service.yaml")
    cluster.run(until=60.0)

    print("== Symptom: Running, but READY 0/1 ==")
    kubectl(cluster, "get pods -o wide")
    print("== The Endpoints object: no ready addresses ==")
    kubectl(cluster, "get endpoints nginx-service")
    print("The ENDPOINTS cell is blank, not <none>: the object has a subset, but kubectl prints")
    print("only its ready addresses. The pods are in notReadyAddresses:\n")
    ep = cluster.get("Endpoints", "nginx-service")
    for i, subset in enumerate(ep.subsets):
        print(f"subsets[{i}].addresses:         {[a.ip for a in subset.addresses]}")
        print(f"subsets[{i}].notReadyAddresses: {[a.ip for a in subset.not_ready_addresses]}")
    print()
    print("== The EndpointSlice lists them, with ready=false ==")
    kubectl(cluster, "get endpointslices")
    for s in cluster.list("EndpointSlice"):
        for e in s.endpoints:
            c = e.conditions
            print(f"{s.metadata.name}: {e.addresses[0]} ready={c.ready} serving={c.serving} terminating={c.terminating}")
    print()
    print("== Diagnosis: what does the probe ask for? ==")
    pod = cluster.list("Pod")[0]
    kubectl(cluster, f"describe pod {pod.metadata.name}")
    print("The probe asks port 8080; the container listens on 80 (Port: 80/TCP).\n")

    print("== Fix: probe the port nginx listens on ==")
    cluster.apply_yaml(RIGHT)
    cluster.run(until=cluster.now + 60.0)
    kubectl(cluster, "get pods -o wide")
    kubectl(cluster, "get endpoints nginx-service")
    kubectl(cluster, "get endpointslices")


if __name__ == "__main__":
    main()
