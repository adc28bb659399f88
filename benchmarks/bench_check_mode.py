"""What check mode costs: one 120-pod create + rollout (``kubesim.lean.rollout_workload``) on
the full model, on the lean engine (``Cluster()``'s default) and in check mode, CPU seconds each.

    python benchmarks/bench_check_mode.py [--pods 120]
"""

from __future__ import annotations

import argparse
import time

import kubesim
from kubesim import lean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=120)
    args = ap.parse_args()
    for label, options in (("full model", {"engine": "full"}), ("lean engine", {}), ("check mode", {"check": True})):
        t = time.process_time()
        c = kubesim.Cluster(seed=1, nodes=15, **options)
        lean.rollout_workload(args.pods)(c)
        print(f"{label:12} {time.process_time() - t:6.2f} CPU s  {len(c.changes)} writes")


if __name__ == "__main__":
    main()
