"""Benchmark: the CPU cost of one API write in kubesim's API server path.

Every write to :class:`kubesim.apiserver.APIServer` runs, in this order,
:func:`kubesim.defaults.apply_defaults`, :func:`kubesim.validation.validate` ``(obj, old)``
and the sizing of the stamped object (``APIServer._stamp``: the JSON and protobuf sizes as
served, and the protobuf size as stored in etcd without ``resourceVersion``).  This script
measures that path for three realistic writes:

* ``pod-status``: a kubelet status update of a running, ready Pod (the same ``spec`` object,
  a new ``status`` and a new ``metadata`` with the next resourceVersion), the most frequent
  write of a rollout;
* ``slice-100``: an update of a 100-endpoint EndpointSlice in which one endpoint changed
  (a fresh address and readiness), as the EndpointSlice controller writes it;
* ``endpoints-1000``: an update of an Endpoints object with one subset of 1000 addresses in
  which one address changed.

Method: each scenario builds a chain of successive objects (every write differs from the
previous one, and every changed entry is a value never seen before, so no size or validation
cache can answer it from an earlier run), writes the first object untimed (the create that
warms the per-entry caches, as in a running cluster), then times the remaining writes with
``time.perf_counter_ns``.  The figure printed is the median over ``--runs`` runs (default 5)
of the mean time per write, in microseconds.  Three paths are timed:

* ``path``: ``apply_defaults`` + ``validate`` + the sizing exactly as ``APIServer._stamp``
  does it today (``wire.sizes(obj)`` and ``wire.sizes(obj, include_resource_version=False)``);
* ``path/sizes3``: the same with the one-pass :func:`kubesim.wire.sizes3` (when available);
* ``apiserver``: the whole :meth:`APIServer.update` (stamping, change log, no watchers).

``--rollout N`` also runs the rolling update of an ``N``-replica Deployment behind a Service
(the workload the profile came from) and prints its wall time.

Run from the repository root::

    python benchmarks/bench_write_path.py            # the three writes, 5 runs each
    python benchmarks/bench_write_path.py --rollout 150
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubesim import defaults, validation, wire  # noqa: E402
from kubesim import objects as o  # noqa: E402
from kubesim.apiserver import APIServer  # noqa: E402
from kubesim.clock import Clock  # noqa: E402

T0 = 1735689600  # 2025-01-01T00:00:00Z
NS = "default"


# --------------------------------------------------------------------------------------------
# object chains (run ``r`` uses values no other run uses)


def _meta(name: str, rv: int, **kw: Any) -> o.ObjectMeta:
    return o.ObjectMeta(
        name=name,
        namespace=NS,
        uid=f"{rv:08x}-0000-4000-8000-000000000000",
        resource_version=str(rv),
        creation_timestamp=T0,
        **kw,
    )


def _rs_owner() -> o.OwnerReference:
    return o.OwnerReference(
        api_version="apps/v1",
        kind="ReplicaSet",
        name="web-7d9c8b6f5d",
        uid="5b0e7a2c-1111-4a4a-9c9c-0123456789ab",
        controller=True,
        block_owner_deletion=True,
    )


def pod_chain(run: int, n: int) -> Iterator[o.Pod]:
    """A running Pod, then ``n`` kubelet status updates flipping its readiness."""
    spec = o.PodSpec(
        containers=(
            o.Container(
                name="web",
                image="nginx:1.25",
                ports=(o.ContainerPort(container_port=80, protocol="TCP"),),
                readiness_probe=o.Probe(http_get=o.HTTPGetAction(path="/healthz", port=80)),
            ),
        ),
        node_name="node-17",
        restart_policy="Always",
        termination_grace_period_seconds=30,
        scheduler_name="default-scheduler",
    )
    meta = _meta(
        "web-7d9c8b6f5d-x2k4p",
        1000,
        generate_name="web-7d9c8b6f5d-",
        generation=1,
        labels={"app": "web", "pod-template-hash": "7d9c8b6f5d"},
        owner_references=(_rs_owner(),),
    )
    ip = f"10.{run % 200}.17.5"
    pod = defaults.apply_defaults(o.Pod(metadata=meta, spec=spec))
    for i in range(n + 1):
        t = T0 + 1000 * run + i
        ready = "True" if i % 2 == 0 else "False"
        status = o.PodStatus(
            phase="Running",
            conditions=(
                o.PodCondition("PodReadyToStartContainers", "True", last_transition_time=T0 + 1),
                o.PodCondition("Initialized", "True", last_transition_time=T0 + 1),
                o.PodCondition("Ready", ready, last_transition_time=t),
                o.PodCondition("ContainersReady", ready, last_transition_time=t),
                o.PodCondition("PodScheduled", "True", last_transition_time=T0),
            ),
            host_ip="192.168.0.17",
            pod_ip=ip,
            pod_ips=(o.PodIP(ip),),
            start_time=T0 + 1,
        )
        pod = attrs.evolve(
            pod,
            metadata=attrs.evolve(pod.metadata, resource_version=str(2000 + i)),
            status=status,
        )
        yield pod


def _slice_endpoint(run: int, k: int, ready: bool) -> o.Endpoint:
    # k counts every endpoint ever made in this run, so each replacement is a new value.
    ip = f"10.{run % 200}.{(k >> 8) & 255}.{k & 255}"
    return o.Endpoint(
        addresses=(ip,),
        conditions=o.EndpointConditions(ready=ready, serving=ready, terminating=False),
        target_ref=o.ObjectReference(kind="Pod", namespace=NS, name=f"web-pod-{run}-{k}", uid=f"uid-{run}-{k}"),
        node_name=f"node-{k % 50}",
        zone=f"zone-{k % 3}",
    )


def slice_chain(run: int, n: int, size: int = 100) -> Iterator[o.EndpointSlice]:
    """A ``size``-endpoint EndpointSlice, then ``n`` updates each replacing one endpoint."""
    eps = [_slice_endpoint(run, k, True) for k in range(size)]
    meta = _meta(
        "web-4hbt4",
        3000,
        generate_name="web-",
        generation=1,
        labels={
            "kubernetes.io/service-name": "web",
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        },
        annotations={"endpoints.kubernetes.io/last-change-trigger-time": "2025-01-01T00:00:05Z"},
        owner_references=(
            o.OwnerReference(api_version="v1", kind="Service", name="web", uid="svc-uid", controller=True,
                             block_owner_deletion=True),
        ),
    )
    ports = (o.EndpointSlicePort(name="", protocol="TCP", port=80),)
    es = defaults.apply_defaults(o.EndpointSlice(metadata=meta, address_type="IPv4", endpoints=tuple(eps), ports=ports))
    yield es
    for i in range(n):
        eps[i % size] = _slice_endpoint(run, size + i, i % 2 == 0)
        es = attrs.evolve(es, metadata=attrs.evolve(es.metadata, resource_version=str(4000 + i)),
                          endpoints=tuple(eps))
        yield es


def _address(run: int, k: int) -> o.EndpointAddress:
    return o.EndpointAddress(
        ip=f"10.{run % 200}.{(k >> 8) & 255}.{k & 255}",
        node_name=f"node-{k % 50}",
        target_ref=o.ObjectReference(kind="Pod", namespace=NS, name=f"web-pod-{run}-{k}", uid=f"uid-{run}-{k}"),
    )


def endpoints_chain(run: int, n: int, size: int = 1000) -> Iterator[o.Endpoints]:
    """A ``size``-address Endpoints, then ``n`` updates each replacing one address."""
    addrs = [_address(run, k) for k in range(size)]
    meta = _meta(
        "web",
        5000,
        labels={"app": "web"},
        annotations={"endpoints.kubernetes.io/last-change-trigger-time": "2025-01-01T00:00:05Z"},
    )
    ports = (o.EndpointPort(port=80, name="", protocol="TCP"),)
    ep = defaults.apply_defaults(
        o.Endpoints(metadata=meta, subsets=(o.EndpointSubset(addresses=tuple(addrs), ports=ports),))
    )
    yield ep
    for i in range(n):
        addrs[i % size] = _address(run, size + i)
        ep = attrs.evolve(
            ep,
            metadata=attrs.evolve(ep.metadata, resource_version=str(6000 + i)),
            subsets=(o.EndpointSubset(addresses=tuple(addrs), ports=ports),),
        )
        yield ep


SCENARIOS: dict[str, tuple[Callable[[int, int], Iterator[Any]], int]] = {
    "pod-status": (pod_chain, 2000),
    "slice-100": (slice_chain, 1000),
    "endpoints-1000": (endpoints_chain, 200),
}


# --------------------------------------------------------------------------------------------
# the write paths


def write_path(obj: Any, old: Any) -> tuple[int, int, int]:
    """What ``APIServer.update`` runs in defaults, validation and wire (``_stamp`` today)."""
    obj = defaults.apply_defaults(obj)
    validation.validate(obj, old)
    json_b, proto_b = wire.sizes(obj)
    stored = wire.sizes(obj, include_resource_version=False)[1]
    return json_b, proto_b, stored


def write_path_sizes3(obj: Any, old: Any) -> tuple[int, int, int]:
    """The same path with the one-pass ``wire.sizes3``."""
    obj = defaults.apply_defaults(obj)
    validation.validate(obj, old)
    return wire.sizes3(obj)


def _time_path(path: Callable[[Any, Any], Any], chain: list[Any]) -> float:
    path(chain[0], None)  # the create: warms per-entry caches, untimed
    prev = chain[0]
    t = time.perf_counter_ns()
    for obj in chain[1:]:
        path(obj, prev)
        prev = obj
    return (time.perf_counter_ns() - t) / 1000 / (len(chain) - 1)


def _time_apiserver(chain: list[Any]) -> float:
    api = APIServer(clock=Clock(), rng=random.Random(0))
    first = attrs.evolve(chain[0], metadata=attrs.evolve(chain[0].metadata, uid="", resource_version="",
                                                         creation_timestamp=None))
    api.create(first)
    t = time.perf_counter_ns()
    for obj in chain[1:]:
        api.update(attrs.evolve(obj, metadata=attrs.evolve(obj.metadata, uid="", resource_version="")))
    return (time.perf_counter_ns() - t) / 1000 / (len(chain) - 1)


def bench(name: str, runs: int, scale: float) -> dict[str, float]:
    make, n = SCENARIOS[name]
    n = max(10, int(n * scale))
    paths: dict[str, Callable[[list[Any]], float]] = {
        "path": lambda c: _time_path(write_path, c),
    }
    if hasattr(wire, "sizes3"):
        paths["path/sizes3"] = lambda c: _time_path(write_path_sizes3, c)
    paths["apiserver"] = _time_apiserver
    out: dict[str, float] = {}
    run_id = 0
    for label, fn in paths.items():
        samples = []
        for _ in range(runs):
            run_id += 1
            chain = list(make(run_id, n))
            samples.append(fn(chain))
        out[label] = statistics.median(samples)
    return out


def _check_sizes3_agrees() -> None:
    """sizes3 must equal the two-call sizing exactly (a cheap guard; the tests check it too)."""
    if not hasattr(wire, "sizes3"):
        return
    for make, _ in SCENARIOS.values():
        for obj in make(0, 5):
            a = wire.sizes(obj) + (wire.sizes(obj, include_resource_version=False)[1],)
            assert wire.sizes3(obj) == a, (type(obj).__name__, wire.sizes3(obj), a)


# --------------------------------------------------------------------------------------------
# the rollout workload (the profile's /tmp/t2.py)

_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {n}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
"""


def rollout(n: int) -> tuple[float, int]:
    """Wall seconds and writes for: create an ``n``-replica Deployment + Service on 50 nodes,
    run, roll the image, run."""
    from kubesim.cluster import Cluster

    t = time.perf_counter()
    cl = Cluster(seed=0, nodes=50)
    cl.apply_yaml(_DEPLOYMENT.format(n=n, image="nginx:1.25"))
    cl.run()
    cl.apply_yaml(_DEPLOYMENT.format(n=n, image="nginx:1.26"))
    cl.run()
    return time.perf_counter() - t, len(cl.changes)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per figure; the median is printed")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the writes per run")
    ap.add_argument("--rollout", type=int, default=0, metavar="N", help="also time an N-replica rollout")
    ap.add_argument("--only", choices=sorted(SCENARIOS), action="append", help="run only these scenarios")
    args = ap.parse_args(argv)
    _check_sizes3_agrees()
    print(f"python {sys.version.split()[0]}; median of {args.runs} runs; microseconds per write")
    names = args.only or list(SCENARIOS)
    header = None
    for name in names:
        res = bench(name, args.runs, args.scale)
        if header is None:
            header = list(res)
            print(f"{'scenario':<16}" + "".join(f"{h:>14}" for h in header))
        print(f"{name:<16}" + "".join(f"{res[h]:>14.1f}" for h in header))
    if args.rollout:
        secs, writes = rollout(args.rollout)
        print(f"rollout {args.rollout} replicas: {secs:.2f} s wall, {writes} writes, "
              f"{secs / writes * 1e6:.0f} us per write (all layers)")


if __name__ == "__main__":
    main()
