"""The ``kubesim`` command line (also ``python -m kubesim``).

``kubesim`` with no arguments runs the main job: the churn comparison of a rolling update on an
embedded default workload, Endpoints versus EndpointSlices, printed side by side.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

__all__ = ["main", "rolling_update_churn"]


def rolling_update_churn(
    *,
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
) -> tuple[object, object]:
    """Deploy ``pods`` pods behind a Service on ``nodes`` nodes, let it settle, roll out a new
    image, and return ``(cluster, report)`` where the report covers the rollout only."""
    import kubesim
    from kubesim import scenarios

    cluster = kubesim.Cluster(
        seed=seed,
        nodes=nodes,
        max_endpoints_per_slice=max_endpoints_per_slice,
        endpoint_updates_batch_period=batch_period,
        endpointslice_updates_batch_period=batch_period,
    )
    scenarios.deploy(cluster, "web", replicas=pods)
    cluster.run()
    start = cluster.now
    scenarios.set_image(cluster, "web", "nginx:1.26")
    cluster.run()
    return cluster, cluster.churn(since=start)


def _cmd_churn(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    cluster, report = rolling_update_churn(
        pods=args.pods,
        nodes=args.nodes,
        max_endpoints_per_slice=args.max_endpoints_per_slice,
        batch_period=args.batch_period,
        seed=args.seed,
    )
    if args.json:
        print(report.to_json())  # type: ignore[attr-defined]
        return 0
    print(
        f"Rolling update of a {args.pods}-pod Deployment behind one Service on {args.nodes} nodes "
        f"(seed {args.seed}, max {args.max_endpoints_per_slice} endpoints per slice, "
        f"batch period {args.batch_period:g} s)"
    )
    print(report)
    print(f"[simulated {cluster.now:.1f} s of cluster time in {time.perf_counter() - t0:.1f} s]", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubesim", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command")
    c = sub.add_parser("churn", help="churn of a rolling update: Endpoints vs EndpointSlices (the default)")
    c.add_argument("--pods", type=int, default=200, help="pods in the Deployment (default 200)")
    c.add_argument("--nodes", type=int, default=100, help="nodes, each running a kube-proxy (default 100)")
    c.add_argument("--max-endpoints-per-slice", type=int, default=100, help="1-1000 (default 100)")
    c.add_argument("--batch-period", type=float, default=0.0, help="endpoint(slice) updates batch period, seconds")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(func=_cmd_churn)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kubesim`` console script."""
    from kubesim.errors import KubesimError

    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["churn"]
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KubesimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
