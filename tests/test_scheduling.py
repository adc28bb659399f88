"""The scheduler's filters: taints and tolerations (``tainttoleration``, upstream
``component-helpers/scheduling/corev1`` ``ToleratesTaint`` cases), node selectors and required
node affinity (``component-helpers/scheduling/corev1/nodeaffinity`` cases)."""

from __future__ import annotations

import attrs
import pytest

import kubesim
import kubesim.scenarios as sc
from kubesim.controllers.node.scheduler import node_matches_affinity, tolerates
from kubesim.objects import (
    Affinity,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodSpec,
    Taint,
    Toleration,
)

# ToleratesTaint (component-helpers toleration_test.go)
TOLERATION_CASES = [
    # (an empty key with Equal is refused by validation; the function compares values)
    ("empty toleration and a valued taint", Toleration(), Taint("foo", "NoSchedule", "bar"), False),
    ("Exists with empty key tolerates every taint", Toleration(operator="Exists"), Taint("foo", "NoExecute", "bar"), True),
    ("same key, Equal, same value", Toleration("foo", "Equal", "bar", "NoSchedule"), Taint("foo", "NoSchedule", "bar"), True),
    ("empty operator is Equal", Toleration("foo", "", "bar"), Taint("foo", "NoSchedule", "bar"), True),
    ("different value", Toleration("foo", "Equal", "baz"), Taint("foo", "NoSchedule", "bar"), False),
    ("different effect", Toleration("foo", "Exists", effect="NoExecute"), Taint("foo", "NoSchedule"), False),
    ("empty effect matches every effect", Toleration("foo", "Exists"), Taint("foo", "PreferNoSchedule"), True),
    ("different key", Toleration("bar", "Exists"), Taint("foo", "NoSchedule"), False),
    ("unknown operator", Toleration("foo", "Lt", "1"), Taint("foo", "NoSchedule", "2"), False),
]


@pytest.mark.parametrize(("name", "toleration", "taint", "want"), TOLERATION_CASES, ids=[c[0] for c in TOLERATION_CASES])
def test_tolerates_taint(name: str, toleration: Toleration, taint: Taint, want: bool) -> None:
    assert tolerates(toleration, taint) is want


def _req(key: str, op: str, *values: str) -> NodeSelectorRequirement:
    return NodeSelectorRequirement(key, op, values)


def _spec(*terms: NodeSelectorTerm, selector: dict[str, str] | None = None) -> PodSpec:
    return PodSpec(node_selector=selector or {}, affinity=Affinity(NodeAffinity(NodeSelector(terms))))


LABELS = {"zone": "a", "gpu": "true", "cores": "8"}
AFFINITY_CASES = [
    ("In matches", _spec(NodeSelectorTerm((_req("zone", "In", "a", "b"),))), True),
    ("In misses", _spec(NodeSelectorTerm((_req("zone", "In", "b"),))), False),
    ("NotIn on an absent label matches", _spec(NodeSelectorTerm((_req("disk", "NotIn", "ssd"),))), True),
    ("Exists", _spec(NodeSelectorTerm((_req("gpu", "Exists"),))), True),
    ("DoesNotExist", _spec(NodeSelectorTerm((_req("gpu", "DoesNotExist"),))), False),
    ("Gt", _spec(NodeSelectorTerm((_req("cores", "Gt", "4"),))), True),
    ("Lt", _spec(NodeSelectorTerm((_req("cores", "Lt", "4"),))), False),
    ("Gt with a non-integer label", _spec(NodeSelectorTerm((_req("zone", "Gt", "1"),))), False),
    ("expressions in a term are ANDed", _spec(NodeSelectorTerm((_req("zone", "In", "a"), _req("gpu", "DoesNotExist")))), False),
    ("terms are ORed", _spec(NodeSelectorTerm((_req("zone", "In", "b"),)), NodeSelectorTerm((_req("gpu", "Exists"),))), True),
    ("an empty term matches nothing", _spec(NodeSelectorTerm()), False),
    ("no terms match nothing", _spec(), False),
    ("matchFields metadata.name", _spec(NodeSelectorTerm(match_fields=(_req("metadata.name", "In", "node-1"),))), True),
    ("matchFields on another field", _spec(NodeSelectorTerm(match_fields=(_req("spec.x", "In", "node-1"),))), False),
    ("nodeSelector and affinity both apply", _spec(NodeSelectorTerm((_req("zone", "In", "a"),)), selector={"gpu": "false"}), False),
]


@pytest.mark.parametrize(("name", "spec", "want"), AFFINITY_CASES, ids=[c[0] for c in AFFINITY_CASES])
def test_node_affinity(name: str, spec: PodSpec, want: bool) -> None:
    assert node_matches_affinity(spec, "node-1", LABELS) is want


def _pod_yaml(name: str, extra: str) -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n"
        f"  containers: [{{name: c, image: nginx}}]\n{extra}"
    )


def _taint(c: kubesim.Cluster, node: str, *taints: Taint) -> None:
    n = c.get("Node", node, "")
    c.update(attrs.evolve(n, spec=attrs.evolve(n.spec, taints=taints)))


def test_a_tainted_node_takes_only_pods_that_tolerate_it() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    _taint(c, "node-1", Taint("dedicated", "NoSchedule", "db"))
    c.apply_yaml(_pod_yaml("plain", ""))
    c.apply_yaml(_pod_yaml("tolerant", "  tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]\n"))
    c.run()
    assert c.get("Pod", "plain").spec.node_name == ""
    assert c.get("Pod", "tolerant").spec.node_name == "node-1"
    assert c.get("Pod", "tolerant").spec.tolerations == (Toleration("dedicated", "Equal", "db", "NoSchedule"),)
    # lifting the taint lets the pending pod in
    _taint(c, "node-1")
    c.run()
    assert c.get("Pod", "plain").spec.node_name == "node-1"


def test_prefer_no_schedule_does_not_filter() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    _taint(c, "node-1", Taint("soft", "PreferNoSchedule"))
    c.apply_yaml(_pod_yaml("p", "  nodeSelector: {kubernetes.io/os: linux}\n"))
    c.run()
    assert c.get("Pod", "p").spec.node_name == "node-1"


def test_a_cordoned_node_takes_pods_tolerating_unschedulable() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    n = c.get("Node", "node-1", "")
    c.update(attrs.evolve(n, spec=attrs.evolve(n.spec, unschedulable=True)))
    c.apply_yaml(_pod_yaml("plain", ""))
    c.apply_yaml(_pod_yaml("daemon", "  tolerations: [{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}]\n"))
    c.run()
    assert (c.get("Pod", "plain").spec.node_name, c.get("Pod", "daemon").spec.node_name) == ("", "node-1")


def test_required_node_affinity_pins_a_deployment_to_a_zone() -> None:
    c = kubesim.Cluster(seed=0, nodes=6, zones=3)
    sc.deploy(c, "web", replicas=4)
    c.run()
    d = c.get("Deployment", "web")
    term = NodeSelectorTerm((NodeSelectorRequirement("topology.kubernetes.io/zone", "In", ("zone-b",)),))
    spec = attrs.evolve(d.spec.template.spec, affinity=Affinity(NodeAffinity(NodeSelector((term,)))))
    c.update(attrs.evolve(d, spec=attrs.evolve(d.spec, template=attrs.evolve(d.spec.template, spec=spec))))
    c.run()
    zones = {c.get("Node", p.spec.node_name, "").metadata.labels["topology.kubernetes.io/zone"] for p in c.list("Pod")}
    assert zones == {"zone-b"}


def test_affinity_and_tolerations_round_trip_and_size_exactly() -> None:
    import json

    from kubesim import wire

    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(_pod_yaml("p", (
        "  tolerations: [{key: k, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]\n"
        "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
        "        nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/os, operator: In, values: [linux]}]}]\n"
        "      preferredDuringSchedulingIgnoredDuringExecution:\n"
        "      - weight: 10\n        preference: {matchExpressions: [{key: gpu, operator: Exists}]}\n"
    )))
    c.run()
    p = c.get("Pod", "p")
    assert p.spec.node_name == "node-1"
    assert kubesim.from_manifest(kubesim.to_manifest(p)) == p
    assert wire.proto_size(p) == len(wire.encode_proto(p))
    assert wire.json_size(p) == len(json.dumps(kubesim.to_manifest(p), separators=(",", ":")))


def _failed_node_with(tolerations: str) -> tuple[kubesim.Cluster, float]:
    c = kubesim.Cluster(seed=0, nodes=1)
    c.apply_yaml(_pod_yaml("p", tolerations))
    c.run()
    assert c.get("Pod", "p").spec.node_name == "node-1"
    sc.fail_node(c, "node-1")
    t0 = c.now
    c.run(until=t0 + 1000)
    return c, t0


def _evicted_at(c: kubesim.Cluster) -> float | None:
    times = [e.time for e in c.changes if e.kind == "Pod" and e.actor == "taint-eviction-controller"]
    return times[0] if times else None


def test_taint_eviction_default_toleration_seconds() -> None:
    c, t0 = _failed_node_with("")
    assert _evicted_at(c) == pytest.approx(t0 + 50 + 300)


def test_taint_eviction_honours_the_pods_toleration_seconds() -> None:
    c, t0 = _failed_node_with(
        "  tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]\n")
    assert _evicted_at(c) == pytest.approx(t0 + 50 + 30)


def test_taint_eviction_never_for_a_pod_tolerating_for_ever() -> None:
    c, _ = _failed_node_with("  tolerations: [{operator: Exists}]\n")
    assert _evicted_at(c) is None
    assert c.get("Pod", "p").metadata.deletion_timestamp is None


# ----------------------------------------------------------------- validation (hostile input)


@pytest.mark.parametrize(
    ("extra", "field", "text"),
    [
        ("  tolerations: [{operator: Equal, value: x}]\n", "spec.tolerations[0].operator",
         'operator must be Exists when `key` is empty, which means "match all values and all keys"'),
        ("  tolerations: [{key: k, operator: Exists, value: x}]\n", "spec.tolerations[0].operator",
         "value must be empty when `operator` is 'Exists'"),
        ("  tolerations: [{key: k, operator: Lt, value: '1'}]\n", "spec.tolerations[0].operator",
         'Unsupported value: "Lt": supported values: "Equal", "Exists"'),
        ("  tolerations: [{key: k, operator: Exists, effect: NoSchedule, tolerationSeconds: 5}]\n",
         "spec.tolerations[0].effect", "effect must be 'NoExecute' when `tolerationSeconds` is set"),
        ("  tolerations: [{key: k, operator: Exists, effect: Sometimes}]\n", "spec.tolerations[0].effect",
         'Unsupported value: "Sometimes"'),
        ("  tolerations: [{key: 'bad key', operator: Exists}]\n", "spec.tolerations[0].key", "Invalid value"),
        ("  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}\n",
         "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
         "must have at least one node selector term"),
        ("  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: "
         "[{matchExpressions: [{key: a, operator: In}]}]}}}\n",
         "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
         ".matchExpressions[0].values", "must be specified when `operator` is 'In' or 'NotIn'"),
        ("  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: "
         "[{matchExpressions: [{key: a, operator: Exists, values: [x]}]}]}}}\n",
         "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
         ".matchExpressions[0].values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
        ("  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: "
         "[{matchExpressions: [{key: a, operator: Near, values: [x]}]}]}}}\n",
         "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
         ".matchExpressions[0].operator", "not a valid selector operator"),
        ("  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: "
         "[{matchFields: [{key: metadata.labels, operator: In, values: [x]}]}]}}}\n",
         "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
         ".matchFields[0].key", 'supported values: "metadata.name"'),
        ("  affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: "
         "[{weight: 0, preference: {matchExpressions: [{key: a, operator: Exists}]}}]}}\n",
         "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
         "must be in the range 1-100"),
    ],
)
def test_invalid_tolerations_and_affinity_are_refused(extra: str, field: str, text: str) -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    n = len(c.changes)
    with pytest.raises(kubesim.InvalidObject) as err:
        c.apply_yaml(_pod_yaml("p", extra))
    assert field in err.value.fields, err.value.fields
    assert text in str(err.value)
    assert len(c.changes) == n


def test_templates_are_validated_too() -> None:
    c = kubesim.Cluster(seed=0, nodes=1)
    sc.deploy(c, "web", replicas=1)
    d = c.get("Deployment", "web")
    spec = attrs.evolve(d.spec.template.spec, tolerations=(Toleration(operator="Equal", value="x"),))
    bad = attrs.evolve(d, spec=attrs.evolve(d.spec, template=attrs.evolve(d.spec.template, spec=spec)))
    with pytest.raises(kubesim.InvalidObject) as err:
        c.update(bad)
    assert "spec.template.spec.tolerations[0].operator" in err.value.fields
