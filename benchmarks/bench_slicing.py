"""Benchmark: one pod readiness flip + EndpointSlice sync, fast path versus reference.

Workload: one Service (one port, IPv4, ``max_endpoints_per_slice`` 100) selecting ``N`` ready
pods spread over 10 nodes. Its slices are created by a first sync and held in a simulated
store that applies plans as the API server would: generated names, generation and
resourceVersion bumps. Each timed step flips the readiness of one pod, chosen by a seeded
``random.Random``, and plans the sync:

* ``fast``: :meth:`ServiceSlicer.pod_changed` + :meth:`ServiceSlicer.sync` +
  :meth:`ServiceSlicer.slice_written` for each write. This is the slicer's whole cost of the
  event.
* ``reference``: :func:`reconcile_endpoint_slices` on all pods (a prepared, name-sorted list;
  the controller's pod listing is not timed) and the store's slices.

Every plan is one update of one slice. Applying it to the store is not timed. Each plan of the
fast path is also checked against the reference, once per size, untimed.

Method: sizes by powers of ten (500, 5,000, 50,000, plus 10,000 for the target). For each size
and path, ``--runs`` runs (default 5). Each run times ``--flips`` consecutive flips (default
200 for the fast path, 10 for the reference) and takes the mean per flip. The runs are
interleaved across sizes. Time is the process's CPU time (``time.process_time_ns``), because
the machines this runs on are shared. The figure printed is the median of the runs, in
microseconds. The reference is run
up to ``--max-reference`` pods (default 10,000). Targets: the fast path at least 50 times
faster than the reference at 10,000 pods, and flat (within 1.5 times) from 500 to 50,000 pods.

Run from the repository root::

    python benchmarks/bench_slicing.py
    python benchmarks/bench_slicing.py --sizes 500 5000 --runs 3
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubesim.controllers.endpointslice.incremental import ServiceSlicer  # noqa: E402
from kubesim.controllers.endpointslice.reconciler import SlicePlan, reconcile_endpoint_slices  # noqa: E402
from kubesim.objects import (  # noqa: E402
    Container,
    Node,
    NodeCondition,
    NodeStatus,
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

NS = "default"
#: CPU time of this process: the benchmark machine is shared, and wall time there measures
#: the neighbours as much as kubesim.
_clock = time.process_time_ns
T0 = 1_735_689_600.0
NODES = {
    f"node-{k}": Node(
        metadata=ObjectMeta(name=f"node-{k}", labels={"topology.kubernetes.io/zone": f"z{k % 3}"}),
        status=NodeStatus(allocatable={"cpu": "4"}, conditions=(NodeCondition("Ready", "True"),)),
    )
    for k in range(10)
}
SERVICE = Service(
    metadata=ObjectMeta(name="web", namespace=NS, uid="svc-uid"),
    spec=ServiceSpec(selector={"app": "web"}, ip_families=("IPv4",), cluster_ip="10.96.0.10",
                     ports=(ServicePort(name="http", port=80, target_port=8080),)),
)


def make_pod(i: int, ready: bool) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=f"web-{i:06d}", namespace=NS, labels={"app": "web"},
                            uid=f"uid-{i}"),
        spec=PodSpec(node_name=f"node-{i % 10}", containers=(Container(name="app"),)),
        status=PodStatus(phase="Running", pod_ip=f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}",
                         pod_ips=(PodIP(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}"),),
                         conditions=(PodCondition("Ready", "True" if ready else "False"),)),
    )


class Store:
    """The Service's slices, as the API server would hold them."""

    def __init__(self) -> None:
        self.slices: dict[str, Any] = {}
        self.counter = 0

    def apply(self, plan: SlicePlan) -> list[tuple[str, Any]]:
        written = []
        for verb, s in plan.operations:
            self.counter += 1
            if verb == "create":
                name = f"{s.metadata.generate_name}{self.counter:05d}"
                obj = attrs.evolve(s, metadata=attrs.evolve(
                    s.metadata, name=name, uid=f"u{self.counter}", generation=1,
                    resource_version=str(self.counter)))
                self.slices[name] = obj
            elif verb == "update":
                old = self.slices[s.metadata.name]
                obj = attrs.evolve(s, metadata=attrs.evolve(
                    s.metadata, generation=old.metadata.generation + 1,
                    resource_version=str(self.counter)))
                self.slices[s.metadata.name] = obj
            else:
                obj = self.slices.pop(s.metadata.name)
            written.append((verb, obj))
        return written


class World:
    """N pods, the store, and (for the fast path) a slicer kept in step."""

    def __init__(self, n: int, fast: bool) -> None:
        self.pods = {p.metadata.name: p for p in (make_pod(i, True) for i in range(n))}
        self.pod_list = [self.pods[k] for k in sorted(self.pods)]
        self.position = {p.metadata.name: k for k, p in enumerate(self.pod_list)}
        self.store = Store()
        self.slicer: ServiceSlicer | None = None
        self.now = T0
        if fast:
            self.slicer = ServiceSlicer(SERVICE, nodes=NODES)
            self.slicer.reset_pods(self.pod_list)
            self._written(self.store.apply(self.slicer.sync(self.store.slices, trigger_time=T0)))
        else:
            self.store.apply(reconcile_endpoint_slices(SERVICE, self.pod_list, [], nodes=NODES,
                                                       trigger_time=T0))

    def _written(self, written: list[tuple[str, Any]]) -> None:
        assert self.slicer is not None
        for verb, obj in written:
            self.slicer.slice_written(verb, obj)

    def flip(self, i: int) -> tuple[Pod, Pod]:
        old = self.pod_list[i]
        new = attrs.evolve(old, status=attrs.evolve(old.status, conditions=(
            PodCondition("Ready", "False" if old.status.ready else "True"),)))
        self.pod_list[i] = new
        self.pods[new.metadata.name] = new
        return old, new

    def step_fast(self, i: int, check: bool = False) -> int:
        assert self.slicer is not None
        old, new = self.flip(i)
        self.now += 1.0
        t0 = _clock()
        self.slicer.pod_changed(old, new)
        plan = self.slicer.sync(self.store.slices, trigger_time=self.now)
        t1 = _clock()
        if check:
            ref = reconcile_endpoint_slices(SERVICE, self.pod_list, self.store.slices.values(),
                                            nodes=NODES, trigger_time=self.now)
            assert ref == plan, "fast path and reference disagree"
        written = self.store.apply(plan)
        t2 = _clock()
        self._written(written)
        t3 = _clock()
        assert len(plan.operations) == 1
        return (t1 - t0) + (t3 - t2)

    def step_reference(self, i: int) -> int:
        self.flip(i)
        self.now += 1.0
        t0 = _clock()
        plan = reconcile_endpoint_slices(SERVICE, self.pod_list, self.store.slices.values(),
                                         nodes=NODES, trigger_time=self.now)
        t1 = _clock()
        self.store.apply(plan)
        assert len(plan.operations) == 1
        return t1 - t0


def run_all(sizes: list[int], fast: bool, runs: int, flips: int, seed: int) -> dict[int, float]:
    """Median over ``runs`` of the mean time per flip, in microseconds, per size. The runs
    are interleaved across sizes (run 1 of every size, then run 2, ...) so that drift in
    the machine's speed spreads evenly over the sizes."""
    worlds = {n: World(n, fast) for n in sizes}
    rngs = {n: random.Random(seed) for n in sizes}
    if fast:
        for n, world in worlds.items():
            world.step_fast(rngs[n].randrange(n), check=True)
    means: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(runs):
        for n, world in worlds.items():
            total = 0
            for _ in range(flips):
                i = rngs[n].randrange(n)
                total += world.step_fast(i) if fast else world.step_reference(i)
            means[n].append(total / flips / 1000.0)
    if fast:
        for world in worlds.values():
            assert world.slicer is not None
            assert world.slicer.statistics().full_syncs == 0
    return {n: statistics.median(m) for n, m in means.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 5_000, 10_000, 50_000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--flips", type=int, default=200, help="timed flips per run (fast path)")
    ap.add_argument("--reference-flips", type=int, default=10)
    ap.add_argument("--max-reference", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    print(f"{'pods':>8}  {'fast (us/flip)':>15}  {'reference (us/flip)':>20}  {'speed-up':>9}")
    fast = run_all(args.sizes, True, args.runs, args.flips, args.seed)
    ref_sizes = [n for n in args.sizes if n <= args.max_reference]
    ref = run_all(ref_sizes, False, args.runs, args.reference_flips, args.seed) if ref_sizes else {}
    for n in args.sizes:
        r = ref.get(n)
        ref_s = f"{r:20.1f}" if r is not None else f"{'-':>20}"
        up = f"{r / fast[n]:8.0f}x" if r is not None else f"{'-':>9}"
        print(f"{n:>8}  {fast[n]:15.1f}  {ref_s}  {up}", flush=True)
    fasts = list(fast.values())
    print(f"fast path spread (max/min over sizes): {max(fasts) / min(fasts):.2f}x")


if __name__ == "__main__":
    main()
