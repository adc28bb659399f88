"""Digests of the change logs of a fixed set of workloads: the oracle for a change to a
controller, the kubelet, the scheduler or the write path that must not change a record.

The lean engine is checked against the full model in the same commit
(:func:`kubesim.lean.check_workload`), but a change to code both share — a controller — changes
both. Its oracle is the commit before it: run this script on both and compare the output, line
for line (each line: workload, records, sha1 over every :data:`kubesim.lean.FIELDS` of every
record, sha1 of the stored objects at the end)::

    git worktree add /tmp/before HEAD~1
    PYTHONPATH=/tmp/before python benchmarks/log_digest.py > before.txt
    python benchmarks/log_digest.py > after.txt
    diff before.txt after.txt && echo identical

``--engine full`` runs the full model (default: the lean engine); ``--only NAME`` one workload;
``--first-difference FILE`` (with ``--only``) prints the first record that differs from a log
written by ``--dump FILE`` on the other commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from typing import Any

import kubesim
from kubesim import scenarios
from kubesim.faults import FaultPlan
from kubesim.lean import FIELDS, LeanCluster, rollout_workload


def _rollout(pods: int, deploy: dict[str, Any] | None = None, rescale: int | None = None) -> Callable[[Any], None]:
    return rollout_workload(pods, deploy=deploy, rescale=rescale)


def _lifecycle(c: Any) -> None:
    scenarios.deploy(c, "web", replicas=12, readiness_probe=True)
    c.run()
    pods = sorted(p.metadata.name for p in c.list("Pod"))
    scenarios.fail_readiness(c, pods[0], 30.0)
    c.run(until=c.now + 10)
    scenarios.fail_node(c, "node-2")
    c.run(until=c.now + 120)
    scenarios.recover_node(c, "node-2")
    c.run(until=c.now + 60)
    scenarios.drain(c, "node-3")
    c.run(until=c.now + 60)
    scenarios.restart(c, "web")
    c.run(until=c.now + 200)
    scenarios.delete_pod(c, sorted(p.metadata.name for p in c.list("Pod"))[-1])
    c.run(until=c.now + 100)


#: name -> (cluster options, workload)
WORKLOADS: dict[str, tuple[dict[str, Any], Callable[[Any], None]]] = {
    "rollout-60": ({"seed": 1, "nodes": 15}, _rollout(60)),
    "rollout-60-no-events": ({"seed": 1, "nodes": 15, "events": False}, _rollout(60)),
    "rollout-300-slices7-batch": (
        {"seed": 2, "nodes": 40, "max_endpoints_per_slice": 7, "endpoint_updates_batch_period": 1.0,
         "endpointslice_updates_batch_period": 1.0},
        _rollout(300, {"max_surge": 3, "max_unavailable": 1}, rescale=170),
    ),
    "rollout-80-probe-surge0": (
        {"seed": 3, "nodes": 9, "zones": 2},
        _rollout(80, {"max_surge": 0, "max_unavailable": "25%", "readiness_probe": True}, rescale=120),
    ),
    "rollout-50-faults": (
        {"seed": 4, "nodes": 10, "faults": FaultPlan(conflict_rate=0.05, error_rate=0.03, timeout_rate=0.02,
                                                       watch_delay=0.5)},
        _rollout(50, rescale=20),
    ),
    "rollout-40-dual-stack-untruncated": (
        {"seed": 5, "nodes": 6, "dual_stack": True, "endpoints_truncate": False, "max_endpoints_per_slice": 3},
        _rollout(40),
    ),
    "lifecycle-12": ({"seed": 6, "nodes": 4}, _lifecycle),
}


def _record_tuple(e: Any) -> tuple[Any, ...]:
    return tuple(sorted(e.labels.items()) if f == "labels" else getattr(e, f) for f in FIELDS)


def run(name: str, engine: str) -> tuple[Any, list[tuple[Any, ...]]]:
    options, workload = WORKLOADS[name]
    c = (LeanCluster if engine == "lean" else kubesim.Cluster)(**options)
    workload(c)
    return c, [_record_tuple(e) for e in c.changes]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=("lean", "full"), default="lean")
    ap.add_argument("--only", choices=sorted(WORKLOADS))
    ap.add_argument("--dump", metavar="FILE", help="write the records of --only's workload as JSON lines")
    ap.add_argument("--first-difference", metavar="FILE", help="compare --only's records with a --dump file")
    args = ap.parse_args()
    names = [args.only] if args.only else list(WORKLOADS)
    for name in names:
        c, records = run(name, args.engine)
        h = hashlib.sha1(repr(records).encode()).hexdigest()[:16]
        snap = hashlib.sha1(repr(sorted(map(repr, c.api.snapshot().items()))).encode())
        print(f"{name:36} {len(records):7} records  log {h}  objects {snap.hexdigest()[:16]}")
        if args.dump:
            with open(args.dump, "w") as f:
                for r in records:
                    f.write(json.dumps(r, default=str) + "\n")
        if args.first_difference:
            with open(args.first_difference) as f:
                other = [json.loads(line) for line in f]
            mine = [json.loads(json.dumps(r, default=str)) for r in records]
            for i, (a, b) in enumerate(zip(mine, other, strict=False)):
                if a != b:
                    diff = {f: (x, y) for f, x, y in zip(FIELDS, a, b, strict=True) if x != y}
                    print(f"first difference at record {i}: {diff}\n  here:  {a}\n  there: {b}")
                    sys.exit(1)
            if len(mine) != len(other):
                print(f"lengths differ: {len(mine)} here, {len(other)} there")
                sys.exit(1)
            print("identical")


if __name__ == "__main__":
    main()
