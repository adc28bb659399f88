"""Benchmark: one pod readiness flip plus the desired Endpoints, incremental engine vs reference.

Workload: a ClusterIP Service with one numeric target port selecting ``N`` running pods
(``N`` = 500, 5,000, 50,000), 90% of them Ready.  One operation is: pick a pod (seeded
``random.Random``), flip its Ready condition, then produce the Endpoints the controller would
write (capped at 1000 addresses, the v1.22+ controller) — which is what the Endpoints controller
does per pod event.

* ``fast``: :meth:`ServiceEndpoints.pod_changed` + :meth:`ServiceEndpoints.desired`
  (``existing`` = the previous result, so the metadata is rebuilt each time as in a sync);
* ``fast+check``: the same plus :meth:`ServiceEndpoints.needs_update` against the previous
  result stored with a resourceVersion (the controller's no-op check);
* ``fast/uncapped``: the pre-1.22 controller (``truncate=False``): every write materialises
  all ``N`` addresses (inherent: the object is ``N`` addresses), shown for information, with
  ``proto-size/uncapped``, the write's size from the maintained sums without building it;
* ``reference``: :func:`kubesim.controllers.endpoints.reconciler.endpoints_for` over every pod, the
  full recompute, for ``N`` up to 10,000 (at 10,000 it is also measured on its own row).

Method: the engine is built untimed; each run times ``ops`` operations (200 for the engine,
fewer for the reference: it is slow) with ``time.process_time_ns`` (CPU time: the machines this runs on are shared) and takes the mean per
operation; the figure printed is the median over ``--runs`` runs (default 5), in microseconds.
Targets: reference / fast >= 50 at 10,000 pods; fast at 50,000 within 1.5x of fast at 500.

Run from the repository root::

    python benchmarks/bench_endpoints.py          # sizes 500, 5000, 10000, 50000
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubesim.controllers.endpoints.incremental import ServiceEndpoints  # noqa: E402
from kubesim.controllers.endpoints.reconciler import endpoints_for  # noqa: E402
from kubesim.objects import (  # noqa: E402
    Endpoints,
    ObjectMeta,
    Pod,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    Service,
    ServicePort,
    ServiceSpec,
)

T0 = 1735689600
NS = "default"
REFERENCE_MAX = 10_000


def make_service() -> Service:
    return Service(
        metadata=ObjectMeta(name="web", namespace=NS, labels={"app": "web"}, creation_timestamp=T0),
        spec=ServiceSpec(
            selector={"app": "web"},
            cluster_ip="10.96.0.10",
            ip_families=("IPv4",),
            ports=(ServicePort(port=80, name="http", target_port=8080),),
        ),
    )


def make_pod(i: int, ready: bool) -> Pod:
    ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
    return Pod(
        metadata=ObjectMeta(name=f"web-{i:06d}", namespace=NS, uid=f"uid-{i:06d}", labels={"app": "web"}),
        spec=PodSpec(node_name=f"node-{i % 100}"),
        status=PodStatus(
            phase="Running",
            pod_ip=ip,
            pod_ips=(PodIP(ip),),
            conditions=(PodCondition("Ready", "True" if ready else "False", last_transition_time=T0),),
        ),
    )


def flipped(pod: Pod, t: int) -> Pod:
    ready = not pod.status.ready
    cond = PodCondition("Ready", "True" if ready else "False", last_transition_time=t)
    return attrs.evolve(pod, status=attrs.evolve(pod.status, conditions=(cond,)))


def run_fast(n: int, ops: int, seed: int, mode: str) -> float:
    rng = random.Random(seed)
    service = make_service()
    pods = [make_pod(i, rng.random() < 0.9) for i in range(n)]
    engine = ServiceEndpoints.from_pods(service, pods)
    truncate = mode != "uncapped" and mode != "size"
    existing: Endpoints | None = engine.desired(None, T0, truncate)
    existing = attrs.evolve(existing, metadata=attrs.evolve(existing.metadata, resource_version="1"))
    picks = [rng.randrange(n) for _ in range(ops)]
    start = time.process_time_ns()
    for k, i in enumerate(picks):
        old = pods[i]
        new = pods[i] = flipped(old, T0 + k + 1)
        engine.pod_changed(old, new)
        if mode == "size":
            engine.proto_size(existing, T0 + k + 1, False)
            continue
        engine.desired(existing, T0 + k + 1, truncate)
        if mode == "check":
            engine.needs_update(existing, truncate=truncate)
    return (time.process_time_ns() - start) / ops / 1000


def run_reference(n: int, ops: int, seed: int) -> float:
    rng = random.Random(seed)
    service = make_service()
    pods = [make_pod(i, rng.random() < 0.9) for i in range(n)]
    picks = [rng.randrange(n) for _ in range(ops)]
    start = time.process_time_ns()
    for k, i in enumerate(picks):
        pods[i] = flipped(pods[i], T0 + k + 1)
        endpoints_for(service, pods, trigger_time=T0 + k + 1)
    return (time.process_time_ns() - start) / ops / 1000


def median_of(runs: int, fn: Callable[[int], float]) -> float:
    return statistics.median(fn(seed) for seed in range(runs))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="*", default=[500, 5_000, 10_000, 50_000])
    ap.add_argument("--ops", type=int, default=200)
    args = ap.parse_args(argv)

    print(f"python {sys.version.split()[0]}; median of {args.runs} runs; microseconds per flip + desired()")
    head = f"{'pods':>8} {'fast':>9} {'fast+check':>11} {'fast/uncapped':>14} {'proto-size/uncapped':>20} {'reference':>11} {'ref/fast':>9}"
    print(head)
    fast_by_n: dict[int, float] = {}
    for n in args.sizes:
        fast = median_of(args.runs, lambda s, n=n: run_fast(n, args.ops, s, "capped"))
        check = median_of(args.runs, lambda s, n=n: run_fast(n, args.ops, s, "check"))
        uncapped = median_of(args.runs, lambda s, n=n: run_fast(n, max(10, args.ops * 500 // max(n, 500)), s, "uncapped"))
        size = median_of(args.runs, lambda s, n=n: run_fast(n, args.ops, s, "size"))
        fast_by_n[n] = fast
        ref_s, ratio = "-", "-"
        if n <= REFERENCE_MAX:
            ref = median_of(args.runs, lambda s, n=n: run_reference(n, max(3, 20_000 // n), s))
            ref_s, ratio = f"{ref:11.1f}", f"{ref / fast:9.0f}"
        print(f"{n:>8} {fast:9.1f} {check:11.1f} {uncapped:14.1f} {size:20.1f} {ref_s:>11} {ratio:>9}")
    if len(fast_by_n) > 1:
        lo, hi = min(fast_by_n), max(fast_by_n)
        print(f"capped fast path, {hi} vs {lo} pods: {fast_by_n[hi] / fast_by_n[lo]:.2f}x")


if __name__ == "__main__":
    main()
