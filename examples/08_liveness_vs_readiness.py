"""08 — Liveness versus readiness: a probe that restarts healthy pods, and what it costs.

An application needs 45 s to warm up (it loads a cache). Three ways to probe it:

1. **readiness only**: the pods are ``Running`` and ``0/1`` ready while they warm up, then
   ready; nothing restarts. The Service simply waits for them.
2. **readiness + a liveness probe on the same endpoint** (``initialDelaySeconds: 10``,
   ``periodSeconds: 5``, ``failureThreshold: 3``): liveness gives up at 20 s, long before the
   warm-up ends. The kubelet kills the container, restarts it, kills it again — the
   back-off grows 10 s, 20 s, 40 s … and the pods sit in ``CrashLoopBackOff``, never ready,
   never serving. "The most common self-inflicted wound": a probe that keeps a healthy pod out
   of the Endpoints. Every kill and restart is a Pod status write, which the churn report
   attributes to the cause ``restart``; the Endpoints and EndpointSlices do not move, because
   the pods never once become ready — the cost is that no pod ever serves.
3. **the fix, a startup probe** (``failureThreshold: 12`` x ``periodSeconds: 5``: a 60 s
   budget): liveness and readiness wait until the startup probe succeeds, so the warm-up is
   tolerated and liveness still guards the running pod afterwards.

Run: ``python examples/08_liveness_vs_readiness.py``
"""

from __future__ import annotations

import kubesim
from kubesim import probes, scenarios

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: cache}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: cache}}}}
  template:
    metadata: {{labels: {{app: cache}}}}
    spec:
      containers:
      - name: cache
        image: cache:1.0
        ports: [{{containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: /healthz, port: 8080}}, periodSeconds: 5}}
{extra}
---
apiVersion: v1
kind: Service
metadata: {{name: cache}}
spec:
  selector: {{app: cache}}
  ports: [{{port: 80, targetPort: 8080}}]
"""

LIVENESS = "        livenessProbe: {httpGet: {path: /healthz, port: 8080}, initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 3}"
STARTUP = "        startupProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5, failureThreshold: 12}"

VARIANTS = {
    "1. readiness only": "",
    "2. readiness + liveness on the same endpoint": LIVENESS,
    "3. + a startup probe (the fix)": STARTUP + "\n" + LIVENESS,
}

WARM_UP = probes.AppBehaviour(ready_after=45, sigterm_exit_code=143)  # no SIGTERM handler


def run(extra: str) -> kubesim.Cluster:
    cluster = kubesim.Cluster(seed=0, nodes=2)
    cluster.apply_yaml(DEPLOYMENT.format(extra=extra))
    cluster.run(until=0.5)  # the ReplicaSet has created the pods; none has started yet
    for pod in cluster.list("Pod"):
        scenarios.set_behaviour(cluster, pod.metadata.name, WARM_UP)
    return cluster


def ready_endpoints(cluster: kubesim.Cluster) -> int:
    ep = cluster.get("Endpoints", "cache")
    return sum(len(s.addresses) for s in ep.subsets)


def main() -> None:
    summary = []
    for title, extra in VARIANTS.items():
        cluster = run(extra)
        print(f"== {title} ==")
        seen = []
        for t in (30.0, 60.0, 300.0):
            cluster.run(until=t)
            seen.append(ready_endpoints(cluster))
        print("$ kubectl get pods   # at 5m")
        print(cluster.kubectl("get pods"))
        pod = sorted(cluster.list("Pod"), key=lambda p: p.metadata.name)[0]
        cs = pod.status.container_statuses[0]
        state = cs.state.waiting.reason if cs.state.waiting else ("running" if cs.state.running else "terminated")
        last = cs.last_state.terminated
        print(f"{pod.metadata.name}: state={state} restartCount={cs.restart_count} "
              f"lastState={'terminated/' + last.reason + f' (exit {last.exit_code})' if last else '{}'}")
        if cs.state.waiting and cs.state.waiting.message:
            print(f"  waiting.message: {cs.state.waiting.message.split(' pod=')[0]} ...")
        print(f"ready endpoints at 30 s / 60 s / 5 min: {seen[0]} / {seen[1]} / {seen[2]}")
        churn = cluster.churn()
        restart = churn.by_cause.get("restart", {})
        writes = {k: restart[k].writes for k in ("Pod", "Endpoints", "EndpointSlice") if k in restart}
        print(f"writes caused by restarts: {writes or 'none'}")
        print()
        restarts = cluster.statistics()["kubelet"].restarts
        summary.append((title, restarts, seen[2], sum(writes.values())))
    print("== Summary (5 minutes, 4 pods) ==")
    print(f"{'variant':<46} {'restarts':>8} {'ready':>6} {'restart writes':>15}")
    for title, restarts, ready, writes in summary:
        print(f"{title:<46} {restarts:>8} {ready:>6} {writes:>15}")


if __name__ == "__main__":
    main()
