"""The workload behind ``tests/fixtures/events_off_changelog.json``: the change log a cluster
wrote before Events existed, the oracle of ``Cluster(events=False)`` (``tests/test_events.py``).

It uses only what kubesim had before Events (no ``events=`` option), so the same function runs
on the commit before them. The fixture was made on that commit (af6bd15)::

    git worktree add /tmp/pre-events af6bd15
    cd /tmp && PYTHONPATH=/tmp/pre-events python /path/to/checkout/tests/events_workload.py \
        > /path/to/checkout/tests/fixtures/events_off_changelog.json

It says "``events=False`` is kubesim before Events" only while nothing else changes what these
workloads write. A later commit that changes the simulation on purpose (a timing, a controller)
makes it stale: regenerate it then from that commit with ``events=False`` (``run`` and
``records`` as here), say so in the commit, and the test goes on guarding the change log with
Events off; ``test_events_on_change_no_other_record`` and the Hypothesis property keep checking
that Events change nothing else.

Regenerated so (``python tests/events_workload.py``, ``events=False``) after the Pod create
status (``status.phase: Pending`` and ``status.qosClass``: every Pod record's sizes) and the
deletion ranking's equal-ready-time rule changed these workloads' change logs on purpose.
"""

from __future__ import annotations

import json
from typing import Any

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        ports: [{containerPort: 80}]
        readinessProbe:
          httpGet: {path: /, port: 80}
          periodSeconds: 5
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""

PROD = """
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: Pod
metadata: {name: one, namespace: prod, labels: {app: one}}
spec:
  containers: [{name: app, image: busybox}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: prod}
data: {a: "1"}
"""

#: the cases: (name, Cluster keyword arguments)
CASES: dict[str, dict[str, Any]] = {
    "plain": {"seed": 3, "nodes": 3},
    "faults": {"seed": 5, "nodes": 2, "faults": "plan"},
}


def cluster_kwargs(case: str) -> dict[str, Any]:
    """The case's keyword arguments, the fault plan built."""
    from kubesim.faults import FaultPlan

    kw = dict(CASES[case])
    if kw.get("faults") == "plan":
        kw["faults"] = FaultPlan(conflict_rate=0.05, error_rate=0.05, timeout_rate=0.02, watch_delay=0.5)
    return kw


def run(cluster: Any) -> None:
    """Deploy, scale, roll out, delete a pod, fill and delete a namespace."""
    cluster.apply_yaml(APP)
    cluster.run(until=60)
    cluster.kubectl("scale deployment web --replicas=5")
    cluster.run(until=120)
    cluster.kubectl("set image deployment/web app=nginx:1.27")
    cluster.run(until=400)
    pods = sorted(p.metadata.name for p in cluster.api.list("Pod", "default"))
    cluster.delete("Pod", pods[0])
    cluster.apply_yaml(PROD)
    cluster.run(until=500)
    cluster.delete("Namespace", "prod", None)
    cluster.run(until=900)


def records(cluster: Any) -> list[list[Any]]:
    """Every change-log record as a list of its fields."""
    return [
        [e.seq, e.time, e.verb, e.kind, e.namespace, e.name, e.resource_version, e.actor, e.json_bytes,
         e.proto_bytes, e.outcome, e.cause, e.trigger_time]
        for e in cluster.changes
    ]


def main() -> None:
    import inspect

    import kubesim

    # events=False where the option exists (a commit after Events), nothing before it
    off = {"events": False} if "events" in inspect.signature(kubesim.Cluster).parameters else {}
    out = {}
    for case in CASES:
        c = kubesim.Cluster(**cluster_kwargs(case), **off)
        run(c)
        out[case] = records(c)
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
