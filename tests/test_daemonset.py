"""The DaemonSet controller against what upstream's own tests assert
(``pkg/controller/daemon/daemon_controller_test.go``: ``TestSimpleDaemonSetLaunchesPods``,
``TestAddNode``, ``TestNodeSelectorDaemonLaunchesPods``,
``TestTaintedNodeDaemonDoesNotLaunchIntolerantPod`` / ``...LaunchesToleratePod``,
``TestUnschedulableNodeDaemonDoesLaunchPod``, ``TestDeleteNoDaemonPod``-style extra pods,
``TestDaemonSetPodCreateExpectationsError``; ``update_test.go`` ``TestDaemonSetUpdatesPods``,
``TestDaemonSetUpdatesPodsWithMaxSurge``; ``util/daemonset_util_test.go``
``TestAddOrUpdateDaemonPodTolerations``)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import kubesim
from kubesim.controllers.workloads.daemonset import daemon_pod_tolerations, scaled_value
from kubesim.controllers.workloads.statefulset import REVISION_LABEL
from kubesim.errors import InvalidObject
from kubesim.objects import PodSpec, Taint, Toleration

DS = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
{strategy}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
{extra}
      containers:
      - name: a
        image: {image}
        readinessProbe: {{exec: {{command: [ok]}}, periodSeconds: 2}}
"""


def ds_yaml(image: str = "agent:1", strategy: str = "", extra: str = "      restartPolicy: Always") -> str:
    return DS.format(image=image, strategy=strategy, extra=extra)


def agent_pods(c: kubesim.Cluster, *, live: bool = True) -> list[Any]:
    out = [p for p in c.list("Pod") if p.metadata.name.startswith("agent-")]
    return [p for p in out if p.metadata.deletion_timestamp is None] if live else out


def nodes_of(c: kubesim.Cluster) -> list[str]:
    return sorted(p.spec.node_name for p in agent_pods(c))


def test_simple_daemon_set_launches_pods_and_new_nodes_get_one() -> None:
    c = kubesim.Cluster(seed=0, nodes=3)
    c.apply_yaml(ds_yaml())
    c.run(until=20)
    assert nodes_of(c) == ["node-1", "node-2", "node-3"]
    st = c.get("DaemonSet", "agent").status
    assert (st.desired_number_scheduled, st.current_number_scheduled, st.number_ready, st.number_available,
            st.updated_number_scheduled, st.number_misscheduled, st.number_unavailable) == (3, 3, 3, 3, 3, 0, 0)
    c.add_node()  # TestAddNode
    c.run(until=40)
    assert nodes_of(c) == ["node-1", "node-2", "node-3", "node-4"]
    pod = agent_pods(c)[0]
    term = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms[0]
    assert term.match_fields[0].key == "metadata.name" and term.match_fields[0].values == (pod.spec.node_name,)
    c._check()


def test_node_selector_and_taints_decide_eligibility() -> None:
    c = kubesim.Cluster(seed=0, nodes=3)
    node = c.get("Node", "node-2", "")
    c.update(attrs.evolve(node, spec=attrs.evolve(node.spec, taints=(Taint("dedicated", "NoSchedule", "gpu"),))))
    c.apply_yaml(ds_yaml(extra="      nodeSelector: {topology.kubernetes.io/zone: zone-b}"))
    c.run(until=20)
    assert nodes_of(c) == []  # the only zone-b node is tainted
    c.apply_yaml(ds_yaml(extra="      tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]"))
    c.run(until=60)
    assert nodes_of(c) == ["node-1", "node-2", "node-3"]


def test_unschedulable_node_still_runs_its_daemon_pod() -> None:
    c = kubesim.Cluster(seed=0, nodes=2)
    node = c.get("Node", "node-1", "")
    c.update(attrs.evolve(node, spec=attrs.evolve(node.spec, unschedulable=True)))
    c.apply_yaml(ds_yaml())
    c.run(until=20)
    assert nodes_of(c) == ["node-1", "node-2"]
    assert all(p.status.ready for p in agent_pods(c))


def test_a_node_that_stops_matching_loses_its_pod() -> None:
    c = kubesim.Cluster(seed=0, nodes=2)
    c.apply_yaml(ds_yaml(extra="      nodeSelector: {role: agent}"))
    for n in ("node-1", "node-2"):
        node = c.get("Node", n, "")
        c.update(attrs.evolve(node, metadata=attrs.evolve(node.metadata,
                                                          labels=node.metadata.labels.set("role", "agent"))))
    c.run(until=20)
    assert nodes_of(c) == ["node-1", "node-2"]
    node = c.get("Node", "node-2", "")
    c.update(attrs.evolve(node, metadata=attrs.evolve(node.metadata, labels=node.metadata.labels.without("role"))))
    c.run(until=60)
    assert nodes_of(c) == ["node-1"]


def test_rolling_update_respects_max_unavailable() -> None:
    # TestDaemonSetUpdatesPods: at most maxUnavailable desired pods unavailable at once
    c = kubesim.Cluster(seed=0, nodes=4)
    c.apply_yaml(ds_yaml())
    c.run(until=20)
    c.apply_yaml(ds_yaml(image="agent:2"))
    worst = 0
    while c.clock.peek() is not None and c.now < 200:
        c.clock.step()
        per_node: dict[str, bool] = {}
        for p in agent_pods(c):
            ok = p.status.phase == "Running" and p.status.ready
            per_node[p.spec.node_name or "?"] = per_node.get(p.spec.node_name or "?", False) or ok
        unavailable = sum(1 for n in ("node-1", "node-2", "node-3", "node-4") if not per_node.get(n))
        worst = max(worst, unavailable)
    assert worst <= 2  # one deleted on purpose, plus at most one recreated pod not ready yet
    assert {p.spec.containers[0].image for p in agent_pods(c)} == {"agent:2"}
    st = c.get("DaemonSet", "agent").status
    assert st.updated_number_scheduled == 4 and st.number_available == 4


def test_rolling_update_with_max_surge_keeps_the_old_pod_until_the_new_is_available() -> None:
    # TestDaemonSetUpdatesPodsWithMaxSurge
    c = kubesim.Cluster(seed=0, nodes=2)
    strategy = "  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}"
    c.apply_yaml(ds_yaml(strategy=strategy))
    c.run(until=20)
    c.apply_yaml(ds_yaml(image="agent:2", strategy=strategy))
    while c.clock.peek() is not None and c.now < 200:
        c.clock.step()
        for n in ("node-1", "node-2"):
            here = [p for p in agent_pods(c) if p.spec.node_name == n]
            assert any(p.status.ready for p in here) or c.now < 22, (c.now, n)
    assert {p.spec.containers[0].image for p in agent_pods(c)} == {"agent:2"}
    assert len(agent_pods(c)) == 2


def test_on_delete_strategy() -> None:
    c = kubesim.Cluster(seed=0, nodes=2)
    c.apply_yaml(ds_yaml(strategy="  updateStrategy: {type: OnDelete}"))
    c.run(until=20)
    c.apply_yaml(ds_yaml(image="agent:2", strategy="  updateStrategy: {type: OnDelete}"))
    c.run(until=60)
    assert {p.spec.containers[0].image for p in agent_pods(c)} == {"agent:1"}
    victim = agent_pods(c)[0]
    c.delete("Pod", victim.metadata.name)
    c.run(until=120)
    images = {p.spec.node_name: p.spec.containers[0].image for p in agent_pods(c)}
    assert images[victim.spec.node_name] == "agent:2"
    assert sorted(images.values()) == ["agent:1", "agent:2"]
    revs = {p.metadata.labels[REVISION_LABEL] for p in agent_pods(c)}
    assert len(revs) == 2


def test_add_or_update_daemon_pod_tolerations() -> None:
    got = daemon_pod_tolerations(PodSpec(tolerations=(Toleration(key="node.kubernetes.io/not-ready",
                                                                 operator="Exists", effect="NoExecute",
                                                                 toleration_seconds=300),)))
    keys = [(t.key, t.effect) for t in got]
    assert keys.count(("node.kubernetes.io/not-ready", "NoExecute")) == 1
    assert all(t.toleration_seconds is None for t in got)  # replaced: daemon pods are never evicted
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") not in keys
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") in [
        (t.key, t.effect) for t in daemon_pod_tolerations(PodSpec(host_network=True))]
    assert scaled_value("25%", 10, round_up=True) == 3 and scaled_value(2, 10, round_up=True) == 2


def test_validation_and_no_pods_for_a_bad_set() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    with pytest.raises(InvalidObject) as info:
        c.apply_yaml(ds_yaml(strategy="  updateStrategy: {type: Sometimes}"))
    assert "spec.updateStrategy.type" in str(info.value)
    with pytest.raises(InvalidObject) as info:
        c.apply_yaml(ds_yaml(strategy="  updateStrategy: {type: RollingUpdate, rollingUpdate: "
                                      "{maxUnavailable: 0, maxSurge: 0}}"))
    assert "may not be 0 when `maxSurge` is 0" in str(info.value)
    assert c.list("DaemonSet") == [] and agent_pods(c) == []
