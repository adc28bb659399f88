"""Benchmark: KEP-752 sample case 1, realistic — a Deployment behind one Service, created and
then rolled out with the default 25 % surge / unavailable, with the Endpoints controller
(capped, or ``--uncapped`` for the pre-1.22 mode), the EndpointSlice controller, kube-proxy
watcher accounting (one churn report) and the full change log all on.

    python benchmarks/bench_rollout.py --pods 200 2000 20000 --nodes-per-pod 0.25
    python benchmarks/bench_rollout.py --pods 2000 --runs 1 --watch-delay 1.0
    python benchmarks/bench_rollout.py --engine lean --pods 500 20000 50000 --runs 1

``--engine lean`` runs :class:`kubesim.lean.LeanCluster` (the same change log); the default
``full`` runs the full model (``kubesim.Cluster(engine="full")``, or :class:`kubesim.Cluster` at
a commit from before that option, whose only engine it was), so the script also measures an
older commit (point ``PYTHONPATH`` at a checkout of it). Each row also prints the CPU microseconds per write.

``--watch-delay S`` injects ``FaultPlan(watch_delay=S)``: every watch event reaches the
controllers up to ``S`` seconds late (the fast paths must still plan from the store).

``--events`` turns Events on (``Cluster(events=True)``, the default of :class:`kubesim.Cluster`
where it has the option); the benchmark runs with ``events=False`` otherwise, so its figures
compare with commits from before Events.

Method: each size runs in a fresh process (so peak RSS is per size), ``--runs`` times; the
figures are the median wall time of creation + rollout + the churn report, and the median CPU
time of the same (``time.process_time``: on a shared machine the wall time measures the
neighbours too), with the peak RSS (``resource.getrusage``) of the largest run. The CPU time
is also given by phase, each over the writes it made: building the cluster (its Nodes),
creating the Deployment until it settles, and the rollout with the churn report; and the CPU
time spent in the cyclic garbage collector (``gc.callbacks``). Sizes go by powers of ten up to the target (the
issue's target is 20,000 pods on 5,000 nodes in 10 s and 2 GiB).
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any


def one(pods: int, nodes: int, uncapped: bool, watch_delay: float = 0.0, engine: str = "full",
        events: bool = False) -> dict[str, float]:
    import kubesim
    from kubesim import scenarios
    from kubesim.faults import FaultPlan

    gc_s = [0.0]
    started = [0.0]

    def on_gc(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.process_time()
        else:
            gc_s[0] += time.process_time() - started[0]

    gc.callbacks.append(on_gc)
    t0 = time.perf_counter()
    c0 = time.process_time()
    options: dict[str, Any] = {"seed": 0, "nodes": nodes, "endpoints_truncate": not uncapped,
                               "max_request_bytes": 2**40 if uncapped else 1572864,
                               "faults": FaultPlan(watch_delay=watch_delay) if watch_delay else None}
    if "events" in inspect.signature(kubesim.Cluster.__init__).parameters:
        options["events"] = events
    if engine == "lean":
        from kubesim.lean import LeanCluster

        cluster: Any = LeanCluster(**options)
    else:  # the full model (kubesim.Cluster at a commit from before its engine option)
        if "engine" in inspect.signature(kubesim.Cluster.__init__).parameters:
            options["engine"] = "full"
        cluster = kubesim.Cluster(**options)
    c_built, w_built = time.process_time(), len(cluster.changes)
    scenarios.deploy(cluster, "web", replicas=pods)
    cluster.run()
    t1 = time.perf_counter()
    c1, w1 = time.process_time(), len(cluster.changes)
    scenarios.set_image(cluster, "web", "nginx:1.26")
    cluster.run()
    report = cluster.churn()
    t2 = time.perf_counter()
    c2 = time.process_time()
    gc.callbacks.remove(on_gc)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    writes = len(cluster.changes)
    return {
        "create_s": t1 - t0,
        "rollout_s": t2 - t1,
        "total_s": t2 - t0,
        "cpu_s": c2 - c0,
        "setup_cpu_s": c_built - c0,
        "create_cpu_s": c1 - c_built,
        "rollout_cpu_s": c2 - c1,
        "setup_writes": w_built,
        "create_writes": w1 - w_built,
        "rollout_writes": writes - w1,
        "gc_cpu_s": gc_s[0],
        "peak_rss_mib": rss,
        "writes": writes,
        "endpointslice_writes": report.kind("EndpointSlice").writes,
        "endpoints_writes": report.kind("Endpoints").writes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, nargs="+", default=[200, 2000])
    ap.add_argument("--nodes-per-pod", type=float, default=0.25, help="KEP case 1: 5,000 nodes / 20,000 pods")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--uncapped", action="store_true")
    ap.add_argument("--watch-delay", type=float, default=0.0, help="inject FaultPlan(watch_delay=...) seconds")
    ap.add_argument("--engine", choices=("full", "lean"), default="full")
    ap.add_argument("--events", action="store_true", help="Events on (off by default, for comparison with older commits)")
    ap.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.child[0], args.child[1], args.uncapped, args.watch_delay, args.engine, args.events)))
        return
    print(f"python {sys.version.split()[0]}; {args.engine} engine; median of {args.runs} runs; "
          f"{'uncapped (pre-1.22)' if args.uncapped else 'capped'} Endpoints"
          + (f"; watch events up to {args.watch_delay:g} s late" if args.watch_delay else "")
          + f"; Events {'on' if args.events else 'off'}")
    print(f"{'pods':>7} {'nodes':>6} {'create s':>9} {'rollout s':>10} {'total s':>8} {'cpu s':>7} {'peak MiB':>9} "
          f"{'writes':>8} {'cpu us/write':>12} | CPU by phase: {'setup s':>8} {'create us/w':>11} {'rollout us/w':>12} "
          f"{'gc s':>6}")
    for pods in args.pods:
        nodes = max(1, round(pods * args.nodes_per_pod))
        results = []
        for _ in range(args.runs):
            cmd = [sys.executable, __file__, "--child", str(pods), str(nodes), "--watch-delay", str(args.watch_delay),
                   "--engine", args.engine]
            cmd += ["--uncapped"] if args.uncapped else []
            cmd += ["--events"] if args.events else []
            results.append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout))
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        peak = max(r["peak_rss_mib"] for r in results)
        print(f"{pods:>7} {nodes:>6} {med['create_s']:>9.2f} {med['rollout_s']:>10.2f} {med['total_s']:>8.2f} {med['cpu_s']:>7.2f} "
              f"{peak:>9.0f} {int(med['writes']):>8} {med['cpu_s'] / med['writes'] * 1e6:>12.1f} | "
              f"{'':>14}{med['setup_cpu_s']:>8.2f} {med['create_cpu_s'] / med['create_writes'] * 1e6:>11.1f} "
              f"{med['rollout_cpu_s'] / med['rollout_writes'] * 1e6:>12.1f} {med['gc_cpu_s']:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
