"""01 — The chapter's nginx Deployment and Service: Endpoints and EndpointSlices.

Apply the two manifests from the chapter, let the cluster settle, and ask what Kubernetes
knows: ``kubectl get endpoints nginx-service`` and ``kubectl get endpointslices``.

The lesson: the Endpoints object lists every ready pod as ``IP:port``; the EndpointSlice
controller packs the same two pods into ONE slice (up to 100 endpoints fit in a slice by
default). The chapter shows two slices with one endpoint each — that is not what the
controller does.

Run: ``python examples/01_endpoints_and_slices.py``
"""

from __future__ import annotations

from pathlib import Path

import kubesim

MANIFESTS = Path(__file__).resolve().parent / "manifests"


def kubectl(cluster: kubesim.Cluster, command: str) -> None:
    """Print a command and what kubectl would print for it."""
    print(f"$ kubectl {command}")
    print(cluster.kubectl(command))


def main() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=2)
    cluster.apply_file(MANIFESTS / "nginx-deployment.yaml")
    cluster.apply_file(MANIFESTS / "nginx-service.yaml")
    cluster.run()  # until nothing is pending: pods scheduled, started, ready
    cluster.run(until=120.0)  # two minutes later, as in the chapter

    print("== The pods behind the Service ==")
    kubectl(cluster, "get pods -o wide")

    print("== The ground truth: the Endpoints object (same name as the Service) ==")
    kubectl(cluster, "get endpoints nginx-service")

    print("== The scalable successor: EndpointSlices ==")
    kubectl(cluster, "get endpointslices")

    slices = cluster.list("EndpointSlice", selector="kubernetes.io/service-name=nginx-service")
    sizes = [len(s.endpoints) for s in slices]
    print(f"The controller wrote {len(slices)} slice(s) for 2 pods, holding {sizes} endpoint(s).")
    print(
        "The chapter shows two slices (one endpoint each). The EndpointSlice controller fills\n"
        f"a slice up to --max-endpoints-per-slice (here {cluster.options.max_endpoints_per_slice})"
        " before it starts another,\nso a small Service has exactly one slice per address type"
        " and port set."
    )
    print()
    print("== Who owns the slice ==")
    s = slices[0]
    for key in sorted(s.metadata.labels):
        print(f"  label {key}={s.metadata.labels[key]}")
    owner = s.metadata.owner_references[0]
    print(f"  owned by {owner.kind}/{owner.name} (deleted with it by the garbage collector)")


if __name__ == "__main__":
    main()
