"""Soak: hostile input and injected faults, at a size too long for the test suite.

    python benchmarks/soak.py [--inputs 5000] [--fault-seeds 50]

1. **Hostile input.** ``--inputs`` documents, each a valid manifest (the chapter's, the
   scenarios', an external-database Endpoints) mutated at a random path with random junk
   (wrong types, huge or negative numbers, bad names, labels, IPs, deep nesting, non-UTF-8
   bytes, YAML tags), or random bytes, applied with ``Cluster.apply_yaml`` to a cluster that
   already holds objects. Every outcome must be acceptance or a ``KubesimError`` that leaves
   the cluster exactly as before (change log, resourceVersion, objects, random state).
2. **Faults.** For ``--fault-seeds`` seeds, a deploy / rolling update / scale-down workload runs
   once healthy and once with conflicts, server errors, timeouts-after-commit and delayed
   watches; the faulty run must converge to the healthy run's semantic state and its endpoint
   objects must be exactly what the controllers compute from its final pods.

Everything is seeded: one command, one result. Prints the figures and exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_faults import _consistent, _semantic_state, _workload  # noqa: E402

import kubesim  # noqa: E402
from kubesim import scenarios  # noqa: E402
from kubesim.faults import FaultPlan  # noqa: E402

JUNK: list[Any] = [
    None, True, 0, -1, 65536, 2**63, 1.5, float("nan"), "", "x" * 300, "Bad_Name", "10.0.0.300",
    "::1", "127.0.0.1", [], {}, [1, 2], {"a": {"b": {"c": [{}]}}}, "80x", "a=b,c", "!!!",
]


def _paths(d: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _paths(v, prefix + (i,))
    return out


def _seeds() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for f in sorted((ROOT / "examples" / "manifests").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(f.read_text()) if d]
    docs += [d for d in yaml.safe_load_all(scenarios.web_manifests("web", replicas=2, readiness_probe=True)) if d]
    return docs


def _mutant(rng: random.Random, seeds: list[dict[str, Any]]) -> str | bytes:
    r = rng.random()
    if r < 0.05:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if r < 0.10:
        return rng.choice(["!!python/object/apply:os.system ['true']", "a: &a [*a]", "[" * 1000, "kind: Pod\n\tbad"])
    doc = json.loads(json.dumps(rng.choice(seeds)))
    for _ in range(rng.randrange(1, 3)):
        paths = [p for p in _paths(doc) if p]
        path = rng.choice(paths)
        cur: Any = doc
        for p in path[:-1]:
            cur = cur[p]
        if rng.random() < 0.2 and isinstance(cur, dict):
            del cur[path[-1]]
        else:
            cur[path[-1]] = copy.deepcopy(rng.choice(JUNK))  # never share junk between documents
    return yaml.safe_dump(doc)


def _fingerprint(c: kubesim.Cluster) -> tuple[Any, ...]:
    return (len(c.changes), c.api.statistics().resource_version, c.api.snapshot(), c.rng.getstate())


def hostile(n: int) -> dict[str, int]:
    rng = random.Random(0)
    seeds = _seeds()
    out = {"inputs": 0, "accepted": 0, "rejected_cleanly": 0, "violations": 0}
    cluster = kubesim.Cluster(seed=0, nodes=2, controllers=[])
    for i in range(n):
        if i % 200 == 0:
            cluster = kubesim.Cluster(seed=i, nodes=2, controllers=[])
            cluster.apply_file(ROOT / "examples" / "manifests" / "nginx-service.yaml")
        text = _mutant(rng, seeds)
        out["inputs"] += 1
        before = _fingerprint(cluster)
        try:
            cluster.apply_yaml(text)
            out["accepted"] += 1
        except kubesim.KubesimError:
            if _fingerprint(cluster) == before:
                out["rejected_cleanly"] += 1
            else:
                out["violations"] += 1
        except Exception as exc:  # noqa: BLE001 - exactly what the soak looks for
            out["violations"] += 1
            print(f"untyped {type(exc).__name__} on input {i}: {exc}", file=sys.stderr)
    return out


def faults(seeds: int) -> dict[str, int]:
    plan = FaultPlan(conflict_rate=0.15, error_rate=0.15, timeout_rate=0.1, watch_delay=5.0)
    out = {"runs": 0, "conflict": 0, "error": 0, "timeout": 0, "delayed": 0, "non_convergences": 0}
    for seed in range(seeds):
        healthy = kubesim.Cluster(seed=seed, nodes=3)
        _workload(healthy)
        faulty = kubesim.Cluster(seed=seed, nodes=3, faults=plan)
        _workload(faulty)
        out["runs"] += 1
        for k, v in faulty.api.faults.injected.items():  # type: ignore[union-attr]
            out[k] += v
        try:
            assert _semantic_state(faulty) == _semantic_state(healthy)
            _consistent(faulty)
            faulty._check()
        except AssertionError as exc:
            out["non_convergences"] += 1
            print(f"seed {seed} did not converge: {exc}", file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=5000)
    ap.add_argument("--fault-seeds", type=int, default=50)
    args = ap.parse_args()
    t0 = time.perf_counter()
    h = hostile(args.inputs)
    f = faults(args.fault_seeds)
    print("hostile input:", ", ".join(f"{k} {v}" for k, v in h.items()))
    print("injected faults:", ", ".join(f"{k} {v}" for k, v in f.items()))
    print(f"[{time.perf_counter() - t0:.0f} s]")
    return 1 if h["violations"] or f["non_convergences"] else 0


if __name__ == "__main__":
    sys.exit(main())
