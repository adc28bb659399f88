"""Soak: hostile input, re-entrant callbacks, extreme options, wrong types and injected faults,
at a size too long for the test suite.

    python benchmarks/soak.py [--inputs 5000] [--fault-seeds 50] [--heavy-seeds 20]

1. **Hostile input.** ``--inputs`` documents, each a valid manifest (the chapter's, the
   scenarios', an external-database Endpoints, NodePort and LoadBalancer Services, explicit
   cluster IPs and node ports) mutated at a random path with random junk (wrong types, huge or
   negative numbers, int32 overflows, bad names, labels, IPs, taken or out-of-range IPs and node
   ports, deep nesting, non-UTF-8 bytes, YAML tags), or random bytes, applied with
   ``Cluster.apply_yaml`` to a cluster that already holds objects; a fifth of them are applied
   as a second document after a valid one (so a rollback has something to undo). Every outcome
   must be acceptance or a ``KubesimError`` that leaves the cluster exactly as before:
   ``APIServer.fingerprint()`` (change log, resourceVersion, objects, random state, fault
   stream, Service IPs, node ports, node CIDRs, pod IPs), and ``_check()`` must hold after
   every input.
2. **Callbacks.** A change-log subscriber that writes, deletes, applies a broken manifest, runs
   the clock or raises while manifests are applied and the cluster runs: watch events must
   stay in commit order, ``run()`` from the callback must be refused with ``ReentrancyError``,
   and ``_check()`` must hold.
3. **Options and types.** Extreme values (inf, nan, 1e300, huge ints, wrong types) for every
   keyword option and time argument, and junk for every argument of the public entry points:
   a ``KubesimError`` (``InvalidOption``/``InvalidArgument`` …) or acceptance, never a raw
   exception or a hang, and nothing changed by a refusal.
4. **Faults.** For ``--fault-seeds`` seeds, a deploy / rolling update / scale-down workload
   runs once healthy and once with conflicts, server errors, timeouts-after-commit and
   delayed watches; for ``--heavy-seeds`` seeds, once more at a conflict rate of 0.7 and once
   at 1.0. Each faulty run must converge to the healthy run's semantic state with endpoint
   objects exactly what the controllers compute from its final pods, or (at 1.0, where nothing
   can converge) say so in ``statistics()["resync"]``: a silent inconsistent end is a
   violation.

Everything is seeded: one command, one result. Prints the figures and exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
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
    None, True, 0, -1, 65536, 2**31, 2**63, 1.5, float("nan"), "", "x" * 300, "Bad_Name", "10.0.0.300",
    "::1", "127.0.0.1", "169.254.1.1", "ff12::1", "::ffff:127.0.0.1", "224.0.0.7", [], {}, [1, 2],
    {"a": {"b": {"c": [{}]}}}, "80x", "a=b,c", "!!!", "10.96.0.1", "10.96.0.0", "1.2.3.4", 30080, 29999, 32768,
    "NodePort", "LoadBalancer", "ExternalName", "None",
]

EXTRA_SEEDS = [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
     "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "nodePort": 30080}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
     "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
              "ports": [{"name": "a", "port": 53, "protocol": "UDP"}, {"name": "b", "port": 53, "protocol": "TCP"}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "fixed"},
     "spec": {"clusterIP": "10.96.9.9", "selector": {"app": "web"}, "ports": [{"port": 80}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "gen-"},
     "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
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
    return docs + EXTRA_SEEDS


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
    text = yaml.safe_dump(doc)
    if rng.random() < 0.2:  # after a valid document: the rollback must undo it, allocations too
        valid = rng.choice(EXTRA_SEEDS[:2])
        text = yaml.safe_dump(dict(valid, metadata={"name": f"first-{rng.randrange(10**6)}"})) + "---\n" + text
    return text


def _fingerprint(c: kubesim.Cluster) -> tuple[Any, ...]:
    return c.api.fingerprint()


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
                print(f"input {i} was refused but changed the cluster", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - exactly what the soak looks for
            out["violations"] += 1
            print(f"untyped {type(exc).__name__} on input {i}: {exc}", file=sys.stderr)
        try:
            cluster._check()
        except AssertionError as exc:
            out["violations"] += 1
            print(f"_check failed after input {i}: {exc}", file=sys.stderr)
    return out


def callbacks(runs: int) -> dict[str, int]:
    """A subscriber doing random things while manifests are applied and the cluster runs."""
    out = {"runs": 0, "reactions": 0, "nested_writes": 0, "refused_runs": 0, "violations": 0}
    for seed in range(runs):
        rng = random.Random(seed)
        c = kubesim.Cluster(seed=seed, nodes=2)
        heard: list[int] = []
        c.api.watch(lambda ev, heard=heard: heard.append(int(ev.new.metadata.resource_version)))
        state = {"budget": 6}

        def react(event: Any, c: kubesim.Cluster = c, rng: random.Random = rng, state: dict[str, int] = state) -> None:
            if event.kind != "Service" or state["budget"] <= 0:
                return
            state["budget"] -= 1
            out["reactions"] += 1
            action = rng.choice(["write", "delete", "apply", "run", "raise"])
            if action == "write":
                c.apply_yaml(f"apiVersion: v1\nkind: Service\nmetadata: {{name: echo-{event.resource_version}}}\n"
                             "spec: {type: NodePort, ports: [{port: 80}]}\n")
                out["nested_writes"] += 1
            elif action == "delete" and c.api.try_get("Service", event.name, event.namespace) is not None:
                c.delete("Service", event.name, event.namespace)
                out["nested_writes"] += 1
            elif action == "apply":
                c.apply_yaml("apiVersion: v1\nkind: Service\nmetadata: {name: Bad_}\nspec: {ports: [{port: 80}]}\n")
            elif action == "run":
                try:
                    c.run(until=c.now + 1)
                except kubesim.ReentrancyError:
                    out["refused_runs"] += 1
                    raise
            elif action == "raise":
                raise RuntimeError("a subscriber's own bug")

        c.changes.subscribe(react)
        out["runs"] += 1
        for name in ("web", "api", "db"):
            try:
                scenarios.deploy(c, name, replicas=2)
            except (kubesim.KubesimError, RuntimeError):
                pass
        try:
            c.run()
        except (kubesim.KubesimError, RuntimeError):
            c.run()
        try:
            assert heard == sorted(heard), "watch events out of commit order"
            c._check()
        except AssertionError as exc:
            out["violations"] += 1
            print(f"callbacks seed {seed}: {exc}", file=sys.stderr)
    return out


_EXTREMES: list[Any] = [math.inf, -math.inf, math.nan, 1e300, -1e300, 2**80, -(2**80), -1, "10", None, [], True]
_OPTIONS = ["endpoint_updates_batch_period", "endpointslice_updates_batch_period",
            "mirroring_endpointslice_updates_batch_period", "max_endpoints_per_slice",
            "mirroring_max_endpoints_per_subset", "nodes", "zones", "max_request_bytes", "seed", "faults"]


def options_and_types() -> dict[str, int]:
    out = {"tried": 0, "accepted": 0, "rejected_cleanly": 0, "violations": 0}

    def attempt(fn: Any, cluster: kubesim.Cluster | None, what: str = "") -> None:
        out["tried"] += 1
        before = cluster.api.fingerprint() if cluster is not None else None
        try:
            fn()
            out["accepted"] += 1
        except kubesim.KubesimError:
            if cluster is None or cluster.api.fingerprint() == before:
                out["rejected_cleanly"] += 1
            else:
                out["violations"] += 1
                print(f"a refusal changed the cluster: {what}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001
            out["violations"] += 1
            print(f"untyped {type(exc).__name__} from {what}: {exc}", file=sys.stderr)

    for option in _OPTIONS:
        for value in _EXTREMES:
            kwargs: dict[str, Any] = {"controllers": [], "nodes": 1, option: value}
            attempt(lambda kwargs=kwargs: kubesim.Cluster(**kwargs), None, f"Cluster({option}={value!r})")
    for value in _EXTREMES:
        attempt(lambda value=value: FaultPlan(watch_delay=value), None, f"FaultPlan(watch_delay={value!r})")
        attempt(lambda value=value: FaultPlan(conflict_rate=value), None, f"FaultPlan(conflict_rate={value!r})")
    c = kubesim.Cluster(seed=0, nodes=2)
    scenarios.deploy(c, "web", replicas=2)
    c.run()
    pod = c.list("pods")[0].metadata.name
    junk: list[Any] = [*_EXTREMES, 3, b"x", {1, 2}, object(), "\ud800", ["a", 1], {"a": 1}]
    calls: list[Any] = [
        lambda j: c.get(j, "web"), lambda j: c.get("Service", j), lambda j: c.list(j), lambda j: c.list("pods", j),
        lambda j: c.list("pods", "default", j), lambda j: c.delete(j, "nope"), lambda j: c.delete("Service", j),
        lambda j: c.create(j), lambda j: c.update(j), lambda j: c.apply(j), lambda j: c.apply_yaml(j),
        lambda j: c.apply_file(j), lambda j: c.kubectl(j), lambda j: c.run(until=j), lambda j: c.run(max_steps=j),
        lambda j: c.add_node(j), lambda j: c.connect(j, 80), lambda j: c.connect("web", j), lambda j: c.resolve(j),
        lambda j: c.clock.schedule(j, lambda: None),
        lambda j: scenarios.flap(c, pod, mean_up=j, mean_down=1.0),
        lambda j: scenarios.scale(c, "web", j),
    ]
    for k, call in enumerate(calls):
        for j in junk:
            attempt(lambda call=call, j=j: call(j), c, f"entry point {k} given {j!r:.40}")
    c.run(until=c.now + 60)
    c._check()
    return out


def _run_faulty(seed: int, plan: FaultPlan, healthy_state: dict[str, Any], out: dict[str, int]) -> None:
    faulty = kubesim.Cluster(seed=seed, nodes=3, faults=plan)
    _workload(faulty)
    out["runs"] += 1
    for k, v in faulty.api.faults.injected.items():  # type: ignore[union-attr]
        out[k] += v
    stats = faulty.statistics()["resync"]
    out["resyncs"] += stats.resyncs
    out["resynced_keys"] += stats.requeued
    try:
        faulty._check()
    except AssertionError as exc:
        out["violations"] += 1
        print(f"seed {seed} {plan}: _check failed: {exc}", file=sys.stderr)
        return
    if not stats.converged:
        out["non_convergences_reported"] += 1
        return
    try:
        assert _semantic_state(faulty) == healthy_state
        _consistent(faulty)
    except AssertionError as exc:
        out["non_convergences"] += 1  # silent: converged by its own account, but wrong
        print(f"seed {seed} {plan} did not converge and did not say so: {exc}", file=sys.stderr)


def faults(seeds: int, heavy_seeds: int) -> dict[str, int]:
    plan = FaultPlan(conflict_rate=0.15, error_rate=0.15, timeout_rate=0.1, watch_delay=5.0)
    heavy = FaultPlan(conflict_rate=0.7)
    hopeless = FaultPlan(conflict_rate=1.0)
    out = {"runs": 0, "conflict": 0, "error": 0, "timeout": 0, "delayed": 0, "resyncs": 0, "resynced_keys": 0,
           "non_convergences_reported": 0, "non_convergences": 0, "violations": 0}
    for seed in range(max(seeds, heavy_seeds)):
        healthy = kubesim.Cluster(seed=seed, nodes=3)
        _workload(healthy)
        state = _semantic_state(healthy)
        if seed < seeds:
            _run_faulty(seed, plan, state, out)
        if seed < heavy_seeds:
            _run_faulty(seed, heavy, state, out)
            reported = out["non_convergences_reported"]
            _run_faulty(seed, hopeless, state, out)
            if out["non_convergences_reported"] == reported:
                out["violations"] += 1  # a conflict rate of 1.0 cannot converge: it must say so
                print(f"seed {seed}: a conflict rate of 1.0 did not report non-convergence", file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=5000)
    ap.add_argument("--fault-seeds", type=int, default=50)
    ap.add_argument("--heavy-seeds", type=int, default=20)
    ap.add_argument("--callback-runs", type=int, default=50)
    args = ap.parse_args()
    t0 = time.perf_counter()
    h = hostile(args.inputs)
    cb = callbacks(args.callback_runs)
    ot = options_and_types()
    f = faults(args.fault_seeds, args.heavy_seeds)
    print("hostile input:", ", ".join(f"{k} {v}" for k, v in h.items()))
    print("callbacks:", ", ".join(f"{k} {v}" for k, v in cb.items()))
    print("options and types:", ", ".join(f"{k} {v}" for k, v in ot.items()))
    print("injected faults:", ", ".join(f"{k} {v}" for k, v in f.items()))
    print(f"[{time.perf_counter() - t0:.0f} s]")
    bad = h["violations"] + cb["violations"] + ot["violations"] + f["violations"] + f["non_convergences"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
