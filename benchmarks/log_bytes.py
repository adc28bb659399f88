"""Bytes a change-log record costs: the columns and side tables of ``cluster.changes`` after
``rollout_once.py``'s workload (a Deployment created and rolled out behind one Service) on
``LeanCluster(seed=0, nodes=pods // 4)`` with Events on, divided by the number of records::

    python benchmarks/log_bytes.py --pods 5000

Counts ``sys.getsizeof`` of every array, list and dict the log keeps (not its subscribers or
pending queue), the code table's tuples once each and the large ints in them; the strings and
label maps are the written objects' own (shared with the store), so they are not counted.
To measure another commit, point ``PYTHONPATH`` at a checkout of it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import attrs

from kubesim import scenarios
from kubesim.lean import LeanCluster

_SKIP = {"_initial", "_subscribers", "metadata", "_pending", "_notifying", "_held", "_users", "_last_time"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=5000)
    args = ap.parse_args()
    c = LeanCluster(seed=0, nodes=max(1, args.pods // 4))
    scenarios.deploy(c, "web", replicas=args.pods)
    c.run()
    scenarios.set_image(c, "web", "nginx:1.26")
    c.run()
    log = c.changes
    seen: set[int] = set()

    def tuples(items: Any) -> int:
        size = 0
        for t in items:
            if type(t) is not tuple or id(t) in seen:
                continue
            seen.add(id(t))
            size += sys.getsizeof(t) + sum(sys.getsizeof(x) for x in t if type(x) is int and not -5 <= x <= 256)
        return size

    parts: dict[str, int] = {}
    for f in attrs.fields(type(log)):
        value = getattr(log, f.name)
        if f.name in _SKIP or value is None or isinstance(value, (int, float, bool, str)):
            continue
        size = sys.getsizeof(value)
        if isinstance(value, dict):
            size += tuples(value.keys()) + tuples(value.values())
            size += sum(sys.getsizeof(v) for v in value.values() if type(v) is int and v > 256)
            if f.name == "_odd":
                size += sum(sys.getsizeof(e) for e in value.values())
        elif isinstance(value, list):
            size += tuples(value)
        parts[f.name] = size
    n = len(log)
    total = sum(parts.values())
    print(f"{args.pods} pods: {n} records, {total} bytes, {total / n:.2f} B/record")
    for name, size in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {name:14s} {size:12d} {size / n:7.2f}")


if __name__ == "__main__":
    main()
