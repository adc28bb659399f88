"""04 — Taking manual control: a selector-less Service with hand-written Endpoints.

The database lives outside the cluster at 192.168.49.1:5432. A Service *without* a selector
gets no Endpoints from the Endpoints controller; you write the Endpoints object yourself, with
the Service's name (``examples/manifests/external-database.yaml``, as in the chapter).

Clients today read EndpointSlices, not Endpoints, so a third controller — the
EndpointSliceMirroring controller — copies your Endpoints into a slice labelled
``endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io``.

When the database moves, nothing notices: you update the Endpoints, and the mirroring
controller updates its slice.

Run: ``python examples/04_external_database.py``
"""

from __future__ import annotations

from pathlib import Path

import kubesim

MANIFEST = Path(__file__).resolve().parent / "manifests" / "external-database.yaml"


def kubectl(cluster: kubesim.Cluster, command: str) -> None:
    """Print a command and what kubectl would print for it."""
    print(f"$ kubectl {command}")
    print(cluster.kubectl(command))


def main() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=2)
    cluster.apply_file(MANIFEST)
    cluster.run(until=30.0)

    print("== A Service without a selector ==")
    kubectl(cluster, "get svc external-database-service")
    print("== The Endpoints you wrote, and the slice mirrored from it ==")
    kubectl(cluster, "get endpoints external-database-service")
    kubectl(cluster, "get endpointslices")
    kubectl(cluster, "describe endpointslices")

    print("== Who wrote what ==")
    for e in cluster.changes:
        if e.kind in ("Service", "Endpoints", "EndpointSlice"):
            print(f"  t={e.time:4.1f}s {e.verb:6} {e.kind:13} {e.name:31} by {e.actor}")
    print()

    print("== The database moves to 192.168.49.2: update the Endpoints yourself ==")
    before = len(cluster.changes)
    cluster.apply_yaml(MANIFEST.read_text().replace("192.168.49.1", "192.168.49.2"))
    cluster.run(until=cluster.now + 30.0)
    for e in cluster.changes[before:]:
        print(f"  t={e.time:4.1f}s {e.verb:6} {e.kind:13} {e.name:31} by {e.actor}")
    print()
    kubectl(cluster, "get endpoints external-database-service")
    kubectl(cluster, "get endpointslices")
    print("The Service was not written: it never knew the address. Forget the update, and")
    print("clients keep connecting to the old IP — no controller heals hand-written Endpoints.")


if __name__ == "__main__":
    main()
