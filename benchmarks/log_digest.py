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
with ``--only``, ``--dump FILE`` writes its records as JSON lines and ``--first-difference FILE``
prints the first record that differs from such a dump written on the other commit (exit 1).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import kubesim
from kubesim import scenarios
from kubesim.faults import FaultPlan
from kubesim.lean import FIELDS, LeanCluster, record_values, rollout_workload


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
    "rollout-60": ({"seed": 1, "nodes": 15}, rollout_workload(60)),
    "rollout-60-no-events": ({"seed": 1, "nodes": 15, "events": False}, rollout_workload(60)),
    "rollout-300-slices7-batch": (
        {"seed": 2, "nodes": 40, "max_endpoints_per_slice": 7, "endpoint_updates_batch_period": 1.0,
         "endpointslice_updates_batch_period": 1.0},
        rollout_workload(300, deploy={"max_surge": 3, "max_unavailable": 1}, rescale=170),
    ),
    "rollout-80-probe-surge0": (
        {"seed": 3, "nodes": 9, "zones": 2},
        rollout_workload(80, deploy={"max_surge": 0, "max_unavailable": "25%", "readiness_probe": True},
                         rescale=120),
    ),
    "rollout-50-faults": (
        {"seed": 4, "nodes": 10, "faults": FaultPlan(conflict_rate=0.05, error_rate=0.03, timeout_rate=0.02,
                                                       watch_delay=0.5)},
        rollout_workload(50, rescale=20),
    ),
    "rollout-40-dual-stack-untruncated": (
        {"seed": 5, "nodes": 6, "dual_stack": True, "endpoints_truncate": False, "max_endpoints_per_slice": 3},
        rollout_workload(40),
    ),
    "lifecycle-12": ({"seed": 6, "nodes": 4}, _lifecycle),
}


def _json(record: tuple[Any, ...]) -> str:
    """One record as a JSON line's text (times and labels as JSON numbers and lists)."""
    return json.dumps(record, default=str)


def run(name: str, engine: str) -> tuple[Any, list[tuple[Any, ...]]]:
    options, workload = WORKLOADS[name]
    if engine == "lean":
        c: Any = LeanCluster(**options)
    else:  # the full model (kubesim.Cluster at a commit from before its engine option)
        if "engine" in inspect.signature(kubesim.Cluster.__init__).parameters:
            options = {**options, "engine": "full"}
        c = kubesim.Cluster(**options)
    workload(c)
    return c, [record_values(e) for e in c.changes]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=("lean", "full"), default="lean")
    ap.add_argument("--only", choices=sorted(WORKLOADS))
    ap.add_argument("--dump", metavar="FILE", help="write the records of --only's workload as JSON lines")
    ap.add_argument("--first-difference", metavar="FILE", help="compare --only's records with a --dump file")
    args = ap.parse_args(argv)
    if (args.dump or args.first_difference) and not args.only:
        ap.error("--dump and --first-difference need --only")
    for name in [args.only] if args.only else list(WORKLOADS):
        c, records = run(name, args.engine)
        log = hashlib.sha1(repr(records).encode()).hexdigest()[:16]
        objects = hashlib.sha1(repr(sorted(map(repr, c.api.snapshot().items()))).encode()).hexdigest()[:16]
        print(f"{name:36} {len(records):7} records  log {log}  objects {objects}")
        lines = [_json(r) for r in records]
        if args.dump:
            with open(args.dump, "w") as f:
                f.writelines(line + "\n" for line in lines)
        if args.first_difference:
            with open(args.first_difference) as f:
                other = f.read().splitlines()
            for i, (a, b) in enumerate(zip(lines, other, strict=False)):
                if a != b:
                    mine, theirs = json.loads(a), json.loads(b)
                    diff = {f: (x, y) for f, x, y in zip(FIELDS, mine, theirs, strict=True) if x != y}
                    print(f"first difference at record {i}: {diff}\n  here:  {a}\n  there: {b}")
                    sys.exit(1)
            if len(lines) != len(other):
                print(f"lengths differ: {len(lines)} here, {len(other)} there")
                sys.exit(1)
            print("identical")


if __name__ == "__main__":
    main()
