"""Workloads with Events on, and their whole change logs plus what ``kubectl get events`` shows:
the oracle of the cheap Event write path (``tests/test_events_fastpath.py``).

The fixture ``tests/fixtures/events_on_reference.json`` was made on 436da75, the commit before
the cheap write path, with Events on (and no TTL: every workload ends before an hour)::

    git worktree add /tmp/e3base 436da75
    cd /tmp && PYTHONPATH=/tmp/e3base python /path/to/checkout/tests/events_oracle_workload.py \
        > /path/to/checkout/tests/fixtures/events_on_reference.json

Like ``tests/events_workload.py``'s fixture it goes stale when a later commit changes what these
workloads write on purpose: regenerate it then from that commit with ``--full-path`` (the
recorder's Events written through the full create/update, ``recorder.trusted = False``, as they
were before the trusted path), and say so in the commit::

    python tests/events_oracle_workload.py --full-path > tests/fixtures/events_on_reference.json

Regenerated so on 0774d4d, after a93243d (the kubelet's Unhealthy at every failed probe)
changed the wrong-port case on purpose; the other three cases are byte for byte those of
436da75. Regenerated so again (``--full-path``) after the Pod create status
(``status.phase: Pending`` and ``status.qosClass``: every Pod record's sizes) and the
deletion ranking's equal-ready-time rule changed what these workloads write on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "manifests"

PROBE = """        - containerPort: 80
        readinessProbe:
          httpGet:
            path: /
            port: {port}
          periodSeconds: 5"""


def rollout(cluster: Any) -> None:
    """Create and roll out a Deployment of 20 pods."""
    from kubesim import scenarios

    scenarios.deploy(cluster, "web", replicas=20)
    cluster.run()
    scenarios.set_image(cluster, "web", "nginx:1.26")
    cluster.run()


def wrong_port(cluster: Any) -> None:
    """examples/03: a readiness probe on the wrong port, then the fix."""
    deployment = (EXAMPLES / "nginx-deployment.yaml").read_text()
    line = "        - containerPort: 80"
    cluster.apply_yaml(deployment.replace(line, PROBE.format(port=8080)))
    cluster.apply_file(EXAMPLES / "nginx-service.yaml")
    cluster.run(until=600.0)
    cluster.apply_yaml(deployment.replace(line, PROBE.format(port=80)))
    cluster.run(until=900.0)


def faults(cluster: Any) -> None:
    """tests/events_workload.py's run under its fault plan (scale, rollout, namespace deleted)."""
    import events_workload

    events_workload.run(cluster)


def node_failure(cluster: Any) -> None:
    """A node fails (pods evicted after 350 s) and comes back."""
    from kubesim import scenarios

    scenarios.deploy(cluster, "web", replicas=8)
    cluster.run(until=60.0)
    scenarios.fail_node(cluster, "node-1")
    cluster.run(until=800.0)
    scenarios.recover_node(cluster, "node-1")
    cluster.run(until=1000.0)


#: name -> (workload, Cluster keyword arguments)
CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "rollout": (rollout, {"seed": 1, "nodes": 4}),
    "wrong_port": (wrong_port, {"seed": 0, "nodes": 2}),
    "faults": (faults, {"seed": 5, "nodes": 2, "faults": "plan"}),
    "node_failure": (node_failure, {"seed": 2, "nodes": 3}),
}


def cluster_for(case: str, **extra: Any) -> Any:
    """The case's cluster (Events on), ``extra`` options added."""
    import kubesim
    from kubesim.faults import FaultPlan

    kw = dict(CASES[case][1])
    if kw.get("faults") == "plan":
        kw["faults"] = FaultPlan(conflict_rate=0.05, error_rate=0.05, timeout_rate=0.02, watch_delay=0.5)
    return kubesim.Cluster(**kw, **extra)


def records(cluster: Any) -> list[list[Any]]:
    """Every change-log record as a list of its fields (labels as a sorted list of pairs)."""
    return [
        [e.seq, e.time, e.verb, e.kind, e.namespace, e.name, e.resource_version, e.actor, e.json_bytes,
         e.proto_bytes, [list(kv) for kv in sorted((e.labels or {}).items())], e.trigger_time, e.outcome, e.cause]
        for e in cluster.changes
    ]


def shown(cluster: Any) -> dict[str, Any]:
    """What reading the Events shows: ``kubectl get events -A -o json`` and the list as dicts."""
    from kubesim.manifests import to_manifest

    return {
        "kubectl": json.loads(cluster.kubectl("get events -A -o json")),
        "list": [to_manifest(e) for e in cluster.api.list("Event", None)],
    }


def run_case(case: str, *, full_path: bool = False, **extra: Any) -> tuple[Any, dict[str, Any]]:
    """Run ``case`` (``full_path``: the recorder on the full write path); the cluster and
    ``{"records": ..., "shown": ...}``."""
    cluster = cluster_for(case, **extra)
    if full_path:
        cluster.recorder.trusted = False
    CASES[case][0](cluster)
    return cluster, {"records": records(cluster), "shown": shown(cluster)}


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    full = "--full-path" in sys.argv[1:]
    print(json.dumps({case: run_case(case, full_path=full)[1] for case in CASES}, separators=(",", ":"),
                     sort_keys=True))


if __name__ == "__main__":
    main()
