"""06 — What a rolling update costs: Endpoints versus EndpointSlices.

Every pod that starts, becomes ready, terminates or goes away changes the Service's endpoints,
and every change is a write that every kube-proxy (one per node) receives. A rolling update
replaces every pod, so it is the churn workload *par excellence*.

The workload: 100 replicas behind one Service on 20 nodes, with
``max_endpoints_per_slice=25`` so the Service spans 4 slices — a scaled-down model of a
1,000-pod Service with the default 100 per slice, which keeps this example to a few seconds.

The lesson (the chapter's "very Kubernetes-scale problem"): the Endpoints object is rewritten
*whole* on every change, so each write carries every address; a slice write carries at most 25.
Slices cost *more* writes — a terminating pod stays in its slice (``serving``/``terminating``
conditions) until it is gone, while the Endpoints object drops it at once — but far fewer bytes.

Run: ``python examples/06_rolling_update_churn.py``
"""

from __future__ import annotations

import kubesim
from kubesim import scenarios
from kubesim.report import format_bytes


def main() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=20, max_endpoints_per_slice=25)
    scenarios.deploy(cluster, "web", replicas=100)
    cluster.run()
    print("== Before the rollout: 100 ready pods in 4 slices ==")
    print(cluster.kubectl("get endpointslices"))

    # measure() counts exactly the writes made inside the block.  (cluster.churn(since=t) is a
    # window of virtual time, inclusive at t: t = cluster.now here would also count the last
    # writes of the deployment, made at that very instant.)
    with cluster.measure() as rollout:
        scenarios.set_image(cluster, "web", "nginx:1.26")  # kubectl set image deployment/web ...
        cluster.run()
    print(f"== The rollout took {rollout.stop_time - rollout.start_time:.1f} s of virtual time ==")
    print(cluster.kubectl("get deployment web"))

    print("== Churn of the rollout (the writes made inside the measure() block) ==")
    report = rollout.churn()
    print(report)
    print()

    ep, sl = report.kind("Endpoints"), report.kind("EndpointSlice")
    print("== Per write ==")
    print(f"Endpoints:     {ep.writes:4} writes, {format_bytes(ep.bytes_written / ep.writes):>8} per write on average")
    print(f"EndpointSlice: {sl.writes:4} writes, {format_bytes(sl.bytes_written / sl.writes):>8} per write on average")
    ratio = ep.bytes_delivered / sl.bytes_delivered
    print(f"kube-proxies received {ratio:.1f}x more bytes from Endpoints than from EndpointSlices.")
    print()
    print("== After the rollout: under-full slices are reused, never repacked ==")
    print(cluster.kubectl("get endpointslices"))


if __name__ == "__main__":
    main()
