"""One create-and-roll-out of a Deployment behind one Service, with nothing else: the workload
to compare two commits by, when CPU time on a shared machine drifts.

Run it under callgrind for a count of instructions, which does not drift (use the real
interpreter binary, not a pyenv shim; about 40 times slower)::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        "$(python -c 'import sys; print(sys.executable)')" benchmarks/rollout_once.py --pods 500

or as is for CPU seconds, optionally with watch events delayed by injected faults::

    python benchmarks/rollout_once.py --pods 2000 --watch-delay 1.0

``--engine lean`` runs the same workload on the lean engine (:mod:`kubesim.lean`), which writes
the same change log::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        "$(python -c 'import sys; print(sys.executable)')" benchmarks/rollout_once.py --pods 500 --engine lean

``--no-events`` builds the cluster with ``events=False`` (no Event writes), for a figure
comparable with commits from before Events. To measure another commit, point ``PYTHONPATH`` at a checkout of it (``git worktree add``).
"""

from __future__ import annotations

import argparse
import inspect
import time

import kubesim
from kubesim import scenarios
from kubesim.faults import FaultPlan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=500)
    ap.add_argument("--watch-delay", type=float, default=0.0)
    ap.add_argument("--engine", choices=("full", "lean"), default="full")
    ap.add_argument("--no-events", action="store_true",
                    help="Cluster(events=False): no Event writes, comparable with commits before Events")
    args = ap.parse_args()
    options: dict[str, object] = {} if not args.no_events else {"events": False}
    faults = FaultPlan(watch_delay=args.watch_delay) if args.watch_delay else None
    if args.engine == "lean":
        from kubesim.lean import LeanCluster

        cluster = LeanCluster(seed=0, nodes=max(1, args.pods // 4), faults=faults, **options)
    else:  # the full model (kubesim.Cluster at a commit from before its engine option)
        if "engine" in inspect.signature(kubesim.Cluster.__init__).parameters:
            options["engine"] = "full"
        cluster = kubesim.Cluster(seed=0, nodes=max(1, args.pods // 4), faults=faults, **options)
    t = time.process_time()
    scenarios.deploy(cluster, "web", replicas=args.pods)
    cluster.run()
    scenarios.set_image(cluster, "web", "nginx:1.26")
    cluster.run()
    print(f"{args.pods} pods, {args.engine} engine, watch_delay {args.watch_delay:g} s"
          f"{', no events' if args.no_events else ''}: "
          f"{time.process_time() - t:.1f} CPU s, {len(cluster.changes)} writes, "
          f"endpointslice path {cluster.controllers['endpointslice'].path}")


if __name__ == "__main__":
    main()
