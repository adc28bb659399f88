"""Micro-benchmarks of the hot operations: one pod readiness flip end to end, and one
reconcile of a 1,000-slice Service.

* ``flip``: a whole :class:`kubesim.Cluster` (the default controllers: Endpoints, capped, and
  EndpointSlice, kube-proxy watcher accounting, the full change log) with one Deployment of
  ``N`` pods behind a Service, with a readiness probe, on ``N / 4`` nodes. Each operation makes
  one pod's readiness probe fail for 60 s (:func:`kubesim.scenarios.fail_readiness`; long
  enough for ``failureThreshold`` failed probes) and runs the cluster until it is quiet: two
  flips (NotReady, then Ready again), each five writes (the kubelet's pod status, the
  Endpoints, the EndpointSlice, the ReplicaSet's and the Deployment's status) and their watch
  events. The figure is the CPU time per flip.
* ``reconcile``: a Service with 100,000 ready endpoints, 100 per slice (1,000 slices), as
  in ``bench_slicing.py``; one pod flips readiness and the Service is reconciled once, by the
  fast path (:class:`~kubesim.controllers.endpointslice.incremental.ServiceSlicer`) and by the full-recompute
  reference (:func:`~kubesim.controllers.endpointslice.reconciler.reconcile_endpoint_slices`).

Method: the setup is not timed, and its garbage is collected before the timed runs; each
figure is the median over ``--runs`` runs (15 by default: the machine is shared, and a short
run can land in a neighbour's burst) of the mean CPU time (``time.process_time_ns``) per
operation, in microseconds. The fastest run is printed too, and the Python function calls per
flip over one more (profiled, untimed) run: a count of the work that does not drift with the
machine's load.

Run from the repository root::

    python benchmarks/bench_micro.py
    python benchmarks/bench_micro.py --sizes 500 5000 50000
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kubesim  # noqa: E402
from kubesim import scenarios  # noqa: E402

_clock = time.process_time_ns


def flip_cost(pods: int, runs: int, ops: int, seed: int) -> tuple[float, float, float, float]:
    """(median µs per flip, fastest run's µs per flip, setup seconds, Python calls per flip)
    for a cluster of ``pods`` pods."""
    t0 = time.perf_counter()
    cluster = kubesim.Cluster(seed=seed, nodes=max(1, pods // 4))
    scenarios.deploy(cluster, "web", replicas=pods, readiness_probe=True)
    cluster.run()
    setup = time.perf_counter() - t0
    gc.collect()
    names = sorted(p.metadata.name for p in cluster.list("Pod"))
    rng = random.Random(seed)
    before = len(cluster.changes)
    means = []
    for _ in range(runs):
        total = 0
        for _ in range(ops):
            name = names[rng.randrange(len(names))]
            t = _clock()
            scenarios.fail_readiness(cluster, name, 60.0)
            cluster.run()
            total += _clock() - t
        means.append(total / (2 * ops) / 1000.0)
    writes = len(cluster.changes) - before
    # Two flips per operation, each: pod, Endpoints, EndpointSlice, ReplicaSet, Deployment.
    assert writes == runs * ops * 2 * 5, f"expected 10 writes per operation, saw {writes / (runs * ops):.1f}"
    # Python function calls per flip over one more run: a measure of the work that, unlike
    # CPU time, does not drift with the shared machine's load.
    def one_run() -> None:
        for _ in range(ops):
            scenarios.fail_readiness(cluster, names[rng.randrange(len(names))], 60.0)
            cluster.run()

    prof = cProfile.Profile()
    prof.runcall(one_run)
    calls = pstats.Stats(prof).total_calls / (2 * ops)  # type: ignore[attr-defined]
    return statistics.median(means), min(means), setup, calls


def reconcile_cost(pods: int, runs: int, seed: int) -> tuple[float, float, int]:
    from bench_slicing import World  # the same Service, pods and store as bench_slicing.py

    fast = World(pods, fast=True)
    ref = World(pods, fast=False)
    slices = len(ref.store.slices)
    rng = random.Random(seed)
    fast_means, ref_means = [], []
    for _ in range(runs):
        fast_means.append(statistics.mean(fast.step_fast(rng.randrange(pods)) for _ in range(50)) / 1000.0)
        ref_means.append(ref.step_reference(rng.randrange(pods)) / 1000.0)
    return statistics.median(fast_means), statistics.median(ref_means), slices


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 5_000, 20_000])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--ops", type=int, default=20, help="operations per run (two flips each)")
    ap.add_argument("--reconcile-pods", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}; median of {args.runs} runs; CPU microseconds per operation")
    print(f"{'pods':>7} {'nodes':>6} {'flip end to end (us)':>21} {'fastest run':>12} {'setup s':>8} {'calls/flip':>11}")
    first = first_calls = 0.0
    for n in args.sizes:
        us, fastest, setup, calls = flip_cost(n, args.runs, args.ops, args.seed)
        first, first_calls = first or us, first_calls or calls
        print(f"{n:>7} {max(1, n // 4):>6} {us:>21.0f} {fastest:>12.0f} {setup:>8.1f} {calls:>11,.0f}", flush=True)
    if len(args.sizes) > 1:
        print(f"flip, {args.sizes[-1]:,} vs {args.sizes[0]:,} pods: {us / first:.2f}x CPU time, "
              f"{calls / first_calls:.2f}x Python calls")
    fast, ref, slices = reconcile_cost(args.reconcile_pods, args.runs, args.seed)
    print(f"reconcile of one {slices:,}-slice Service ({args.reconcile_pods:,} endpoints) after one flip:")
    print(f"  fast path {fast:,.0f} us; full-recompute reference {ref:,.0f} us ({ref / fast:,.0f}x)")


if __name__ == "__main__":
    main()
