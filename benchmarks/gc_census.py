"""What the cyclic garbage collector walks: after a create-and-roll-out of ``--pods`` pods on
pods/4 nodes (lean engine, Events on), the collections per generation with their CPU time,
then the objects the collector tracks, by type, and the share of them that belong to Events.

    python benchmarks/gc_census.py --pods 5000

(The figures behind ``docs/performance.md``'s "Session 9" note on the collector.)
"""

from __future__ import annotations

import argparse
import collections
import gc
import time
from typing import Any

from kubesim.lean import LeanCluster, rollout_workload

#: The types a stored Event and the recorder's correlator keep (``kubesim.events``,
#: ``kubesim.inert``); ObjectMeta is counted apart, since every kind has one.
EVENT_TYPES = {"InertObject", "_Record", "_Observation", "_Aggregate", "_Bucket"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    per: dict[int, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    started = [0.0]

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.process_time()
        else:
            per[info["generation"]][0] += 1
            per[info["generation"]][1] += time.process_time() - started[0]

    gc.callbacks.append(timed)
    t = time.process_time()
    cluster = LeanCluster(seed=0, nodes=max(1, args.pods // 4))
    rollout_workload(args.pods)(cluster)
    gc.callbacks.remove(timed)
    print(f"{args.pods} pods, {len(cluster.changes)} writes, {time.process_time() - t:.1f} CPU s")
    for g in sorted(per):
        print(f"  generation {g}: {int(per[g][0])} collections, {per[g][1]:.2f} CPU s")
    tracked = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    total = sum(tracked.values())
    events = sum(n for name, n in tracked.items() if name in EVENT_TYPES)
    print(f"tracked objects: {total:,}; of the Events' types {sorted(EVENT_TYPES)}: {events:,} "
          f"({events / total:.0%}); ObjectMeta: {tracked['ObjectMeta']:,}")
    for name, n in tracked.most_common(args.top):
        print(f"  {n:>10,}  {name}")


if __name__ == "__main__":
    main()
