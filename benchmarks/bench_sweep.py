"""Benchmark: a notebook-sized sweep — the ``rolling_update`` scenario of :func:`kubesim.sweep`
at 3,000 pods on 2,000 nodes, four points (``max_endpoints_per_slice`` 50, 100, 500, 1000),
run by the default executor (a process pool of ``os.cpu_count()`` workers).

    python benchmarks/bench_sweep.py [--pods 3000 --nodes 2000]

Prints the wall time of the whole sweep and the CPU time of this process and its workers
(``os.times``: children included once they have exited), then the sweep's table.
"""

from __future__ import annotations

import argparse
import os
import time

import kubesim


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--executor", default=None, help="'serial' to run the points in this process")
    args = ap.parse_args()
    t0, c0 = time.perf_counter(), os.times()
    result = kubesim.sweep(
        "rolling_update",
        {"pods": [args.pods], "nodes": [args.nodes], "max_endpoints_per_slice": [50, 100, 500, 1000]},
        executor=args.executor,
    )
    wall, c1 = time.perf_counter() - t0, os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system) + (c1.children_user - c0.children_user) + (
        c1.children_system - c0.children_system)
    print(f"sweep of 4 points, {args.pods} pods on {args.nodes} nodes: {wall:.1f} s wall, {cpu:.1f} CPU s "
          f"(this process and its workers), {os.cpu_count()} cores")
    print(result)


if __name__ == "__main__":
    main()
