"""Where a run's memory is: ``tracemalloc`` after ``rollout_once.py``'s workload on
``LeanCluster(seed=0, nodes=pods // 4)`` with Events on, the live total and the source lines
that allocated the most of it, plus the number of stored Events::

    python benchmarks/memory_by_line.py --pods 2000

About 20 times slower than the run itself. To measure another commit, point ``PYTHONPATH`` at
a checkout of it."""

from __future__ import annotations

import argparse
import gc
import tracemalloc

from kubesim import scenarios
from kubesim.lean import LeanCluster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=2000)
    ap.add_argument("--lines", type=int, default=25)
    args = ap.parse_args()
    tracemalloc.start()
    c = LeanCluster(seed=0, nodes=max(1, args.pods // 4))
    scenarios.deploy(c, "web", replicas=args.pods)
    c.run()
    scenarios.set_image(c, "web", "nginx:1.26")
    c.run()
    gc.collect()
    snap = tracemalloc.take_snapshot()
    total = sum(s.size for s in snap.statistics("filename"))
    events = sum(len(b) for b in c.api._store.get("Event", {}).values())
    print(f"{args.pods} pods: {len(c.changes)} writes, {total / 2**20:.2f} MiB traced, {events} stored Events")
    for stat in snap.statistics("lineno")[: args.lines]:
        print(stat)


if __name__ == "__main__":
    main()
