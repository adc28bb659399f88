"""Where the time goes: the profile behind ``docs/performance.md``.

* ``rollout`` (default): the rolling update of ``bench_rollout.py`` (``--pods`` pods on
  pods/4 nodes, created then rolled out, churn report) under :mod:`cProfile` with CPU time,
  printing the share of the run spent under a few named functions (shares overlap: a
  controller's share includes the writes it makes); then the same run without the profiler,
  printing the CPU time the cyclic garbage collector took (``gc.callbacks``); then the run
  once more with the collector disabled, printing how many cyclic objects one
  ``gc.collect()`` finds at the end.
* ``--flips N``: ``N`` readiness flips end to end (as ``bench_micro.py``) in a cluster of
  ``--pods`` pods with a readiness probe, under :mod:`cProfile`, printing the same shares
  plus the two ``O(slices)`` steps named in ``docs/performance.md``.

Profiler overhead inflates the totals several-fold; the shares are what to read.

    python benchmarks/profile_rollout.py --pods 2000
    python benchmarks/profile_rollout.py --pods 20000 --flips 40
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kubesim  # noqa: E402
from kubesim import scenarios  # noqa: E402

#: (label, file suffix, function name) of the functions whose cumulative share is printed.
WATCHED = [
    ("APIServer.update", "kubesim/apiserver.py", "update"),
    ("  sizing (wire.sizes3)", "kubesim/wire/measure.py", "sizes3"),
    ("  commit (record, watch delivery)", "kubesim/apiserver.py", "_commit"),
    ("EndpointSlice controller sync", "controllers/endpointslice/controller.py", "sync"),
    ("Endpoints controller sync", "controllers/endpoints/controller.py", "sync"),
    ("kubelet status writes", "controllers/node/kubelet.py", "_write_status"),
    ("ReplicaSet controller sync", "controllers/workloads/replicaset.py", "sync"),
    ("Deployment controller sync", "controllers/workloads/deployment.py", "sync"),
    ("EndpointSlice generation tracker (stale)", "controllers/endpointslice/controller.py", "stale"),
    ("mirroring controller sync", "controllers/mirroring/controller.py", "sync"),
]


def rollout(pods: int) -> kubesim.Cluster:
    cluster = kubesim.Cluster(seed=0, nodes=max(1, pods // 4))
    scenarios.deploy(cluster, "web", replicas=pods)
    cluster.run()
    scenarios.set_image(cluster, "web", "nginx:1.26")
    cluster.run()
    cluster.churn()
    return cluster


def flips(pods: int, n: int) -> Callable[[], None]:
    cluster = kubesim.Cluster(seed=0, nodes=max(1, pods // 4))
    scenarios.deploy(cluster, "web", replicas=pods, readiness_probe=True)
    cluster.run()
    names = sorted(p.metadata.name for p in cluster.list("Pod"))
    rng = random.Random(0)

    def run() -> None:
        for _ in range(n):
            scenarios.fail_readiness(cluster, names[rng.randrange(len(names))], 60.0)
            cluster.run()

    return run


def shares(fn: Callable[[], Any]) -> None:
    prof = cProfile.Profile(time.process_time)
    prof.runcall(fn)
    stats: Any = pstats.Stats(prof).stats
    total = max(ct for (_, _, _, ct, _) in stats.values())
    print(f"profiled CPU time {total:.1f} s (profiler overhead included); cumulative shares:")
    for label, suffix, name in WATCHED:
        cum = sum(v[3] for (file, _, func), v in stats.items() if file.endswith(suffix) and func == name)
        print(f"  {label:<44} {100 * cum / total:5.1f} %")


def gc_time(pods: int) -> None:
    spent = [0.0]
    start = [0.0]

    def cb(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            start[0] = time.process_time()
        else:
            spent[0] += time.process_time() - start[0]

    gc.callbacks.append(cb)
    t = time.process_time()
    try:
        rollout(pods)
    finally:
        gc.callbacks.remove(cb)
    total = time.process_time() - t
    print(f"unprofiled: {total:.1f} CPU s, of which the cyclic garbage collector {spent[0]:.2f} s "
          f"({100 * spent[0] / total:.0f} %)")
    gc.collect()  # the earlier runs' garbage is not this run's
    gc.disable()
    try:
        cluster = rollout(pods)
        print(f"collector disabled: {len(cluster.changes):,} writes; gc.collect() then finds "
              f"{gc.collect():,} cyclic objects")
    finally:
        gc.enable()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=2000)
    ap.add_argument("--flips", type=int, default=0, metavar="N", help="profile N readiness flips instead")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}; {args.pods} pods on {max(1, args.pods // 4)} nodes")
    if args.flips:
        shares(flips(args.pods, args.flips))
        return
    shares(lambda: rollout(args.pods))
    gc_time(args.pods)


if __name__ == "__main__":
    main()
