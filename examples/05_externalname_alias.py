"""05 — An ExternalName Service: a DNS alias, not a routing rule.

``type: ExternalName`` with ``externalName: db.billing.example.com`` makes the cluster DNS
answer ``billing-db.default.svc.cluster.local`` with a CNAME to that host name. There is no
cluster IP, no selector, no port mapping — and no Endpoints or EndpointSlices: the endpoint
controllers skip the Service entirely, and kube-proxy programs nothing for it.

Use it for a plain alias; use the selector-less Service with hand-written Endpoints
(example 04) when you must pin IP addresses and ports.

Run: ``python examples/05_externalname_alias.py``
"""

from __future__ import annotations

from pathlib import Path

import kubesim

MANIFEST = Path(__file__).resolve().parent / "manifests" / "externalname-service.yaml"
FQDN = "billing-db.default.svc.cluster.local"


def kubectl(cluster: kubesim.Cluster, command: str) -> None:
    """Print a command and what kubectl would print for it."""
    print(f"$ kubectl {command}")
    print(cluster.kubectl(command))


def main() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=2)
    cluster.apply_file(MANIFEST)
    cluster.run(until=10.0)

    print("== The Service: an external name instead of a cluster IP ==")
    kubectl(cluster, "get svc billing-db")
    kubectl(cluster, "describe svc billing-db")

    print("== No endpoints of any kind ==")
    kubectl(cluster, "get endpoints")
    kubectl(cluster, "get endpointslices")
    kinds = sorted({e.kind for e in cluster.changes})
    print(f"Kinds ever written: {kinds}\n")

    print(f"== What DNS answers for {FQDN} ==")
    print(cluster.resolve(FQDN))


if __name__ == "__main__":
    main()
