"""The StatefulSet controller against what upstream's own tests assert
(``pkg/controller/statefulset/stateful_set_control_test.go``: ``CreatesPods``, ``ScalesUp``,
``ScalesDown``, ``ReplacesPods``, ``CreatesPodsWithPodManagementPolicyOrderedReady`` /
``Parallel``, ``TestStatefulSetControlRollingUpdate``, ``...WithPartition``, ``OnDelete``;
``stateful_set_utils_test.go`` ``TestGetParentNameAndOrdinal``, ``TestIdentityMatches``), and
the headless-Service identity: hostnames in Endpoints and slices, per-pod DNS."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import kubesim
from kubesim import probes
from kubesim.controllers.workloads.statefulset import (
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    REVISION_LABEL,
    get_ordinal,
)
from kubesim.errors import InvalidObject
from kubesim.objects import ObjectMeta, Pod

STS = """
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  clusterIP: None
  selector: {{app: web}}
  ports: [{{port: 80, name: http}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: web}}
spec:
  serviceName: web
  replicas: {replicas}
  podManagementPolicy: {policy}
  selector: {{matchLabels: {{app: web}}}}
{strategy}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: nginx
        image: {image}
        ports: [{{containerPort: 80, name: http}}]
        readinessProbe: {{httpGet: {{port: 80}}, periodSeconds: 2}}
"""


def sts_yaml(replicas: int = 3, policy: str = "OrderedReady", image: str = "nginx:1.25", strategy: str = "") -> str:
    return STS.format(replicas=replicas, policy=policy, image=image, strategy=strategy)


def cluster(**kw: Any) -> kubesim.Cluster:
    c = kubesim.Cluster(seed=0, nodes=3, max_endpoints_per_slice=2)
    c.apply_yaml(sts_yaml(**kw))
    return c


def pods(c: kubesim.Cluster) -> list[Pod]:
    return [p for p in c.list("Pod") if p.metadata.name.startswith("web-")]


def names(c: kubesim.Cluster) -> list[str]:
    return sorted(p.metadata.name for p in pods(c))


def test_get_ordinal() -> None:
    # TestGetParentNameAndOrdinal
    def pod(name: str) -> Pod:
        return Pod(metadata=ObjectMeta(name=name))

    assert get_ordinal(pod("web-2"), "web") == 2
    assert get_ordinal(pod("web-10"), "web") == 10
    assert get_ordinal(pod("web-"), "web") == -1
    assert get_ordinal(pod("web-x"), "web") == -1
    assert get_ordinal(pod("foo-1"), "web") == -1
    assert get_ordinal(pod("web-01"), "web") == -1


def test_creates_pods_in_order_with_identity() -> None:
    # CreatesPodsWithPodManagementPolicyOrderedReady: one at a time, each after the previous is
    # Running and Ready; TestIdentityMatches: name, hostname, subdomain, labels
    c = cluster()
    seen: list[list[str]] = []
    while c.clock.peek() is not None and c.now < 60:
        c.clock.step()
        ns = names(c)
        if not seen or seen[-1] != ns:
            for p in pods(c):
                if p.metadata.name not in (seen[-1] if seen else []) and get_ordinal(p, "web") > 0:
                    prev = c.get("Pod", f"web-{get_ordinal(p, 'web') - 1}")
                    assert prev.status.phase == "Running" and prev.status.ready
            seen.append(ns)
    assert seen[-1] == ["web-0", "web-1", "web-2"]
    assert [s for s in seen if s] == [["web-0"], ["web-0", "web-1"], ["web-0", "web-1", "web-2"]]
    for p in pods(c):
        i = get_ordinal(p, "web")
        assert p.spec.hostname == p.metadata.name and p.spec.subdomain == "web"
        assert p.metadata.labels[POD_NAME_LABEL] == p.metadata.name
        assert p.metadata.labels[POD_INDEX_LABEL] == str(i)
        assert p.metadata.labels[REVISION_LABEL].startswith("web-")
    st = c.get("StatefulSet", "web").status
    assert (st.replicas, st.ready_replicas, st.current_replicas, st.updated_replicas, st.available_replicas) == (
        3, 3, 3, 3, 3)
    assert st.current_revision == st.update_revision
    c._check()


def test_ordered_ready_waits_for_an_unready_pod() -> None:
    c = kubesim.Cluster(seed=0, nodes=3)
    c.apply_yaml(sts_yaml())
    while not names(c):
        c.clock.step()
    assert names(c) == ["web-0"]
    c.controllers["kubelet"].set_behaviour(("default", "web-0"), probes.AppBehaviour(ready_after=1e6))
    c.run(until=60)
    assert names(c) == ["web-0"]  # blocked behind the unready web-0


def test_parallel_creates_and_deletes_at_once() -> None:
    c = cluster(policy="Parallel")
    c.run(until=0.5)
    assert names(c) == ["web-0", "web-1", "web-2"]
    c.apply_yaml(sts_yaml(policy="Parallel", replicas=1))
    c.run(until=1.0)
    terminating = [p.metadata.name for p in pods(c) if p.metadata.deletion_timestamp is not None]
    assert sorted(terminating) == ["web-1", "web-2"]


def test_scales_down_from_the_highest_ordinal_one_at_a_time() -> None:
    # ScalesDown (monotonic)
    c = cluster(replicas=4)
    c.run(until=60)
    c.apply_yaml(sts_yaml(replicas=1))
    order: list[str] = []
    while c.clock.peek() is not None and c.now < 200:
        c.clock.step()
        for p in pods(c):
            if p.metadata.deletion_timestamp is not None and p.metadata.name not in order:
                order.append(p.metadata.name)
                assert sum(q.metadata.deletion_timestamp is not None for q in pods(c)) == 1
    assert order == ["web-3", "web-2", "web-1"]
    assert names(c) == ["web-0"]
    assert c.get("StatefulSet", "web").status.replicas == 1


def test_replaces_a_deleted_pod_with_the_same_identity() -> None:
    # ReplacesPods
    c = cluster()
    c.run(until=60)
    uid = c.get("Pod", "web-1").metadata.uid
    c.delete("Pod", "web-1")
    c.run(until=120)
    p = c.get("Pod", "web-1")
    assert p.metadata.uid != uid and p.spec.hostname == "web-1"
    assert names(c) == ["web-0", "web-1", "web-2"]


def test_rolling_update_by_ordinal_and_partition() -> None:
    # TestStatefulSetControlRollingUpdateWithPartition: ordinals >= partition move to the update
    # revision from the highest down, one at a time; the others keep the current revision
    c = cluster(replicas=4)
    c.run(until=60)
    old = c.get("StatefulSet", "web").status.current_revision
    strategy = "  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}"
    c.apply_yaml(sts_yaml(replicas=4, image="nginx:1.26", strategy=strategy))
    order: list[str] = []
    while c.clock.peek() is not None and c.now < 300:
        c.clock.step()
        for p in pods(c):
            if p.metadata.deletion_timestamp is not None and p.metadata.name not in order:
                order.append(p.metadata.name)
    assert order == ["web-3", "web-2"]
    st = c.get("StatefulSet", "web").status
    revs = {p.metadata.name: p.metadata.labels[REVISION_LABEL] for p in pods(c)}
    assert revs["web-0"] == revs["web-1"] == old == st.current_revision
    assert revs["web-2"] == revs["web-3"] == st.update_revision != old
    assert (st.current_replicas, st.updated_replicas) == (2, 2)
    # partition 0: the rest follow and the rollout completes
    c.apply_yaml(sts_yaml(replicas=4, image="nginx:1.26",
                          strategy="  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 0}}"))
    c.run(until=500)
    st = c.get("StatefulSet", "web").status
    assert st.current_revision == st.update_revision and st.updated_replicas == 4 == st.current_replicas
    assert {p.spec.containers[0].image for p in pods(c)} == {"nginx:1.26"}


def test_on_delete_replaces_only_deleted_pods() -> None:
    c = cluster()
    c.run(until=60)
    c.apply_yaml(sts_yaml(image="nginx:1.26", strategy="  updateStrategy: {type: OnDelete}"))
    c.run(until=120)
    assert {p.spec.containers[0].image for p in pods(c)} == {"nginx:1.25"}
    c.delete("Pod", "web-0")
    c.run(until=200)
    assert c.get("Pod", "web-0").spec.containers[0].image == "nginx:1.26"
    assert c.get("Pod", "web-1").spec.containers[0].image == "nginx:1.25"


def test_headless_service_publishes_hostnames_and_dns() -> None:
    c = cluster()
    c.run(until=60)
    ep = c.get("Endpoints", "web")
    hosts = sorted(a.hostname for s in ep.subsets for a in s.addresses)
    assert hosts == ["web-0", "web-1", "web-2"]
    slices = c.list("EndpointSlice", selector="kubernetes.io/service-name=web")
    assert sorted(e.hostname for s in slices for e in s.endpoints) == ["web-0", "web-1", "web-2"]
    for i in range(3):
        ip = c.get("Pod", f"web-{i}").status.pod_ip
        ans = c.resolve(f"web-{i}.web.default.svc.cluster.local")
        assert [r.split()[-1] for r in str(ans).splitlines()] == [ip]
    assert len(str(c.resolve("web")).splitlines()) == 3
    assert "3/3" in c.kubectl("get statefulsets")


def test_validation_names_fields() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    with pytest.raises(InvalidObject) as info:
        c.apply_yaml(sts_yaml(policy="Sometimes"))
    assert "spec.podManagementPolicy" in str(info.value)
    with pytest.raises(InvalidObject) as info:
        c.apply_yaml(sts_yaml(strategy="  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: -1}}"))
    assert "spec.updateStrategy.rollingUpdate.partition" in str(info.value)
    assert c.list("StatefulSet") == []
    c.apply_yaml(sts_yaml())
    with pytest.raises(InvalidObject) as info:
        c.apply_yaml(sts_yaml(policy="Parallel"))
    assert "updates to statefulset spec for fields other than" in str(info.value)


def test_same_seed_same_log() -> None:
    def run() -> list[tuple[Any, ...]]:
        c = cluster(replicas=3)
        c.run(until=60)
        c.apply_yaml(sts_yaml(replicas=2, image="nginx:1.26"))
        c.run(until=200)
        return [(e.seq, e.time, e.verb, e.kind, e.name, e.json_bytes, e.proto_bytes) for e in c.changes]

    assert run() == run()


def test_apply_without_replicas_keeps_the_live_count() -> None:
    # kubectl apply of a manifest without spec.replicas leaves a scaled set as it is
    c = cluster(replicas=2)
    c.run(until=60)
    sts = c.get("StatefulSet", "web")
    c.update(attrs.evolve(sts, spec=attrs.evolve(sts.spec, replicas=3)))
    c.apply_yaml(sts_yaml().replace("  replicas: 3\n", ""))
    c.run(until=120)
    assert c.get("StatefulSet", "web").spec.replicas == 3 and names(c) == ["web-0", "web-1", "web-2"]
