"""Stateful Hypothesis workloads mixing readiness gates, startup and liveness probes, restarts,
preStop hooks, sidecars, StatefulSets and a DaemonSet (issue 16).

Two clusters built from one seed play the same program in lockstep: one with the fast
Endpoints and EndpointSlice planners, one with the reference planners. After every step their
change logs are equal record for record (objects included), and invariants hold: every
controller's ``_check()``; the ready addresses of each Service are exactly its pods whose
``Ready`` condition is ``True``; the StatefulSet's pods publish their hostnames; a pod is Ready
only when every readiness gate's condition is ``True``; ``restartCount`` never decreases.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import kubesim
from kubesim import probes
from kubesim import scenarios as sc

FIELDS = ("seq", "time", "verb", "kind", "namespace", "name", "resource_version", "actor",
          "json_bytes", "proto_bytes", "labels", "trigger_time", "outcome", "cause")

GATE = "example.com/lb"

MANIFESTS = """
apiVersion: v1
kind: Service
metadata: {{name: db}}
spec:
  clusterIP: None
  selector: {{app: db}}
  ports: [{{port: 5432, name: pg}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  serviceName: db
  replicas: 3
  podManagementPolicy: {policy}
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: pg
        image: postgres:16
        ports: [{{containerPort: 5432, name: pg}}]
        startupProbe: {{tcpSocket: {{port: 5432}}, periodSeconds: 2, failureThreshold: 5}}
        readinessProbe: {{tcpSocket: {{port: 5432}}, periodSeconds: 2}}
        livenessProbe: {{tcpSocket: {{port: 5432}}, periodSeconds: 3, failureThreshold: 2}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      readinessGates: [{{conditionType: {gate}}}]
      initContainers:
      - name: proxy
        image: envoy:1
        restartPolicy: Always
        ports: [{{containerPort: 15000}}]
        readinessProbe: {{tcpSocket: {{port: 15000}}, periodSeconds: 3}}
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{{containerPort: 80}}]
        readinessProbe: {{httpGet: {{port: 80}}, periodSeconds: 2}}
        lifecycle: {{preStop: {{sleep: {{seconds: 3}}}}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
      hostNetwork: true
      containers:
      - name: agent
        image: agent:1
        ports: [{{containerPort: 9100}}]
---
apiVersion: v1
kind: Service
metadata: {{name: agent}}
spec:
  selector: {{app: agent}}
  ports: [{{port: 9100}}]
"""

_pod_index = st.integers(0, 30)


class LifecycleMachine(RuleBasedStateMachine):
    """The same program on a fast-path cluster and a reference-path cluster."""

    def __init__(self) -> None:
        super().__init__()
        self.clusters: list[kubesim.Cluster] = []
        self.restarts: dict[str, int] = {}
        self.down: set[str] = set()

    @initialize(seed=st.integers(0, 500), max_eps=st.integers(1, 4),
                policy=st.sampled_from(["OrderedReady", "Parallel"]))
    def setup(self, seed: int, max_eps: int, policy: str) -> None:
        for mode in ("fast", "reference"):
            # the fast cluster in check mode: its lean core beside the full model and its fast
            # planners beside the reference ones, per write; the reference cluster is the plain model
            c = kubesim.Cluster(seed=seed, nodes=3, max_endpoints_per_slice=max_eps, record_objects=True,
                                slice_reconciler=mode, endpoints_reconciler=mode, check=mode == "fast")
            c.apply_yaml(MANIFESTS.format(policy=policy, gate=GATE))
            c.run(until=20)
            self.clusters.append(c)

    # ------------------------------------------------------------------ helpers

    def _pods(self, app: str | None = None) -> list[str]:
        c = self.clusters[0]
        return sorted(p.metadata.name for p in c.list("Pod")
                      if p.metadata.deletion_timestamp is None and (app is None or p.metadata.labels.get("app") == app))

    def _both(self, fn: Any) -> None:
        for c in self.clusters:
            fn(c)

    def _run(self, seconds: float) -> None:
        for c in self.clusters:
            c.run(until=c.now + seconds)

    # ------------------------------------------------------------------ rules

    @rule(i=_pod_index, status=st.sampled_from(["True", "False"]))
    def set_gate(self, i: int, status: str) -> None:
        pods = self._pods("web")
        if pods:
            name = pods[i % len(pods)]
            self._both(lambda c: sc.set_pod_condition(c, name, GATE, status))
        self._run(2)

    @rule(i=_pod_index, start=st.sampled_from([0.0, 5.0, 20.0]), app=st.sampled_from(["db", "web"]))
    def break_liveness(self, i: int, start: float, app: str) -> None:
        pods = self._pods(app)
        if pods:
            name = pods[i % len(pods)]
            beh = probes.AppBehaviour(liveness=probes.AppBehaviour(unready=[(start, 1e9)]))
            self._both(lambda c: sc.set_behaviour(c, name, beh))
        self._run(5)

    @rule(i=_pod_index, after=st.sampled_from([1.0, 4.0]))
    def crash_loop(self, i: int, after: float) -> None:
        pods = self._pods()
        if pods:
            name = pods[i % len(pods)]
            self._both(lambda c: sc.set_behaviour(c, name, probes.AppBehaviour(exit_after=after)))
        self._run(5)

    @rule(i=_pod_index)
    def slow_start(self, i: int) -> None:
        pods = self._pods("db")
        if pods:
            name = pods[i % len(pods)]
            self._both(lambda c: sc.set_behaviour(c, name, probes.AppBehaviour(ready_after=6)))
        self._run(3)

    @rule(n=st.integers(0, 4))
    def scale_db(self, n: int) -> None:
        self._both(lambda c: c.update(_with_replicas(c.get("StatefulSet", "db"), n)))
        self._run(3)

    @rule(image=st.sampled_from(["postgres:16", "postgres:17"]), partition=st.integers(0, 3))
    def roll_db(self, image: str, partition: int) -> None:
        self._both(lambda c: c.update(_with_image(c.get("StatefulSet", "db"), image, partition)))
        self._run(3)

    @rule(i=_pod_index)
    def delete_pod(self, i: int) -> None:
        pods = self._pods()
        if pods:
            name = pods[i % len(pods)]
            self._both(lambda c: sc.delete_pod(c, name))
        self._run(2)

    @rule(node=st.sampled_from(["node-1", "node-2"]))
    def toggle_node(self, node: str) -> None:
        if node in self.down:
            self._both(lambda c: sc.recover_node(c, node))
            self.down.discard(node)
        else:
            self._both(lambda c: sc.fail_node(c, node))
            self.down.add(node)
        self._run(2)

    @rule()
    def add_node(self) -> None:
        self._both(lambda c: c.add_node())
        self._run(2)

    @rule(seconds=st.sampled_from([1.0, 10.0, 60.0]))
    def wait(self, seconds: float) -> None:
        self._run(seconds)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def fast_equals_reference(self) -> None:
        if not self.clusters:
            return
        a, b = list(self.clusters[0].changes), list(self.clusters[1].changes)
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            for f in FIELDS:
                assert getattr(x, f) == getattr(y, f), (f, x, y)
            assert x.object == y.object, (x, y)

    @invariant()
    def controllers_hold_their_invariants(self) -> None:
        for c in self.clusters:
            c._check()

    @invariant()
    def ready_addresses_are_the_ready_pods(self) -> None:
        if not self.clusters:
            return
        c = self.clusters[0]
        for svc, app in (("web", "web"), ("db", "db")):
            ep = c.api.try_get("Endpoints", svc, "default")
            if ep is None:
                continue
            got = sorted(a.target_ref.name for s in ep.subsets for a in s.addresses if a.target_ref is not None)
            want = sorted(p.metadata.name for p in c.list("Pod")
                          if p.metadata.labels.get("app") == app and p.status.ready and p.status.pod_ip
                          and p.metadata.deletion_timestamp is None and p.status.phase not in ("Failed", "Succeeded"))
            assert got == want, (svc, got, want)
            if svc == "db":
                hosts = sorted(a.hostname for s in ep.subsets for a in s.addresses)
                assert hosts == got

    @invariant()
    def gates_hold_pods_back(self) -> None:
        if not self.clusters:
            return
        for p in self.clusters[0].list("Pod"):
            if p.spec.readiness_gates and p.status.ready:
                cond = p.status.condition(GATE)
                assert cond is not None and cond.status == "True", p.metadata.name

    @invariant()
    def restart_counts_never_decrease(self) -> None:
        if not self.clusters:
            return
        for p in self.clusters[0].list("Pod"):
            for cs in p.status.container_statuses:
                key = f"{p.metadata.uid}/{cs.name}"
                assert cs.restart_count >= self.restarts.get(key, 0), key
                self.restarts[key] = cs.restart_count


def _with_replicas(sts: Any, n: int) -> Any:
    import attrs

    return attrs.evolve(sts, metadata=attrs.evolve(sts.metadata, resource_version=""),
                        spec=attrs.evolve(sts.spec, replicas=n))


def _with_image(sts: Any, image: str, partition: int) -> Any:
    import attrs

    tmpl = sts.spec.template
    containers = tuple(attrs.evolve(c, image=image) for c in tmpl.spec.containers)
    ru = attrs.evolve(sts.spec.update_strategy.rolling_update, partition=partition)
    return attrs.evolve(
        sts,
        metadata=attrs.evolve(sts.metadata, resource_version=""),
        spec=attrs.evolve(sts.spec, template=attrs.evolve(tmpl, spec=attrs.evolve(tmpl.spec, containers=containers)),
                          update_strategy=attrs.evolve(sts.spec.update_strategy, rolling_update=ru)),
    )


TestLifecycleMachine = LifecycleMachine.TestCase
TestLifecycleMachine.settings = settings(
    max_examples=30, stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_a_fixed_program_exercises_every_mechanism() -> None:
    """The machine's rules do what they say: a broken liveness endpoint restarts a db pod, a
    crash loop backs off, an open gate admits a web pod, the DaemonSet's host-network pods sit
    on their nodes' IPs, and both planners still agree."""
    m = LifecycleMachine()
    m.setup(seed=3, max_eps=2, policy="OrderedReady")
    assert m._pods("db") == ["db-0", "db-1", "db-2"]
    m.fast_equals_reference()
    web = m._pods("web")
    m.set_gate(0, "True")
    ready_web = [n for n in web if m.clusters[0].get("Pod", n).status.ready]
    assert ready_web == [web[0]]
    m.break_liveness(1, 0.0, "db")
    m.wait(60.0)
    db1 = m.clusters[0].get("Pod", "db-1").status.container_statuses[0]
    assert db1.restart_count >= 1
    m.crash_loop(0, 1.0)
    m.wait(60.0)
    m.scale_db(1)
    m.wait(60.0)
    assert m._pods("db") == ["db-0"]
    for p in m.clusters[0].list("Pod", selector="app=agent"):
        assert p.status.pod_ip == p.status.host_ip
    m.fast_equals_reference()
    m.controllers_hold_their_invariants()
    m.ready_addresses_are_the_ready_pods()
    m.gates_hold_pods_back()
    m.restart_counts_never_decrease()
