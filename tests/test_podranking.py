"""The incremental deletion order (kubesim.controllers.workloads.ranking) against the full ranking.

A state machine adds, changes and removes pods of three ReplicaSets (two in one Deployment's
family, one alone), moves time forward across log2 bucket boundaries (nanoseconds to hours)
and asks for the first ``k`` pods to delete; every answer must equal
``rank_pods_for_deletion`` over a recount of the active pods with related counts recounted.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from workloads import Op, ops, play

import kubesim
from kubesim import scenarios as sc
from kubesim.controllers.workloads import rollout as r
from kubesim.controllers.workloads.ranking import DeletionRanking
from kubesim.faults import FaultPlan
from kubesim.objects import ContainerStatus, ObjectMeta, Pod, PodCondition, PodSpec, PodStatus

T0 = 1_700_000_000
FAMILIES = {"rs-a": "deploy", "rs-b": "deploy", "rs-c": "alone"}
NODES = ["", "n1", "n2", "n3", "n4", "n5", "n6"]


def make_pod(
    name: str,
    *,
    node: str,
    phase: str,
    ready_since: int | None,
    created: int,
    cost: str | None,
    deleting: bool,
    uid: str,
    restarts: tuple[int, ...] = (),
) -> Pod:
    conds = (
        (PodCondition("Ready", "True", last_transition_time=ready_since),)
        if ready_since is not None
        else (PodCondition("Ready", "False"),)
    )
    ann = {r.POD_DELETION_COST_ANNOTATION: cost} if cost is not None else {}
    return Pod(
        metadata=ObjectMeta(
            name=name, namespace="default", uid=uid, creation_timestamp=created, annotations=ann,
            deletion_timestamp=created + 1 if deleting else None,
        ),
        spec=PodSpec(node_name=node),
        status=PodStatus(
            phase=phase, conditions=conds,
            container_statuses=tuple(ContainerStatus(f"c{i}", restart_count=n) for i, n in enumerate(restarts)),
        ),
    )


class RankingMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.ranking = DeletionRanking()
        for rs, fam in FAMILIES.items():
            self.ranking.set_family(rs, fam)
        self.families = dict(FAMILIES)
        self.pods: dict[str, dict[str, Pod]] = {rs: {} for rs in FAMILIES}
        self.now: float = T0 + 100.0
        self.serial = 0

    def _pod(self, data: st.DataObject, name: str) -> Pod:
        # Times are whole seconds in the past (as the API server stamps them).
        created = int(self.now) - data.draw(st.integers(0, 120), label="age")
        # Mostly the rollout's case: running, ready, no cost; the rules that decide are then
        # co-location and the time buckets.
        ready = data.draw(st.integers(0, 4), label="ready") > 0
        since = created + data.draw(st.integers(0, 3), label="ready_after") if ready else None
        return make_pod(
            name,
            node=data.draw(st.sampled_from(NODES), label="node"),
            phase=data.draw(st.sampled_from(["Running"] * 6 + ["Pending", "Unknown", "Succeeded"]), label="phase"),
            ready_since=since,
            created=created,
            cost=data.draw(st.sampled_from([None] * 6 + ["5", "-3", "junk"]), label="cost"),
            deleting=data.draw(st.integers(0, 9), label="deleting") == 0,
            uid=data.draw(st.sampled_from(["u1", "u2", "u3"]), label="uid") + f"-{name}",
            # container restarts (maxContainerRestarts decides after the ready time)
            restarts=data.draw(st.lists(st.sampled_from([0, 0, 0, 1, 3]), max_size=2), label="restarts"),
        )

    @rule(rs=st.sampled_from(sorted(FAMILIES)), data=st.data())
    def add(self, rs: str, data: st.DataObject) -> None:
        self.serial += 1
        name = f"{rs}-{self.serial}"
        pod = self._pod(data, name)
        self.pods[rs][name] = pod
        self.ranking.put(rs, pod, self.now)

    @precondition(lambda self: any(self.pods.values()))
    @rule(data=st.data())
    def change(self, data: st.DataObject) -> None:
        rs = data.draw(st.sampled_from([k for k in sorted(self.pods) if self.pods[k]]))
        name = data.draw(st.sampled_from(sorted(self.pods[rs])))
        old = self.pods[rs][name]
        pod = self._pod(data, name)
        pod = make_pod(  # keep identity and creation, change the state
            name, node=pod.spec.node_name, phase=pod.status.phase,
            ready_since=r._ready_condition_time(pod) if pod.status.ready else None,
            created=old.metadata.creation_timestamp or 0,
            cost=pod.metadata.annotations.get(r.POD_DELETION_COST_ANNOTATION),
            deleting=pod.metadata.deletion_timestamp is not None, uid=old.metadata.uid,
            restarts=tuple(c.restart_count for c in pod.status.container_statuses),
        )
        self.pods[rs][name] = pod
        self.ranking.put(rs, pod, self.now)

    @precondition(lambda self: any(self.pods.values()))
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        rs = data.draw(st.sampled_from([k for k in sorted(self.pods) if self.pods[k]]))
        name = data.draw(st.sampled_from(sorted(self.pods[rs])))
        del self.pods[rs][name]
        self.ranking.drop(rs, name)

    @rule(dt=st.sampled_from([1e-9, 3e-9, 0.25, 1.0, 2.0, 7.5, 30.0, 200.0, 5000.0]))
    def tick(self, dt: float) -> None:
        self.now += dt

    @rule(rs=st.sampled_from(sorted(FAMILIES)), fam=st.sampled_from(["deploy", "alone", "other"]))
    def refamily(self, rs: str, fam: str) -> None:
        self.families[rs] = fam
        self.ranking.set_family(rs, fam)

    @rule(rs=st.sampled_from(sorted(FAMILIES)), k=st.integers(0, 12))
    def query(self, rs: str, k: int) -> None:
        active = [p for p in self.pods[rs].values() if r.is_pod_active(p)]
        related = [
            p for other, fam in self.families.items() if fam == self.families[rs] for p in self.pods[other].values()
        ]
        counts = r.node_pod_counts_of(related)
        expected = r.rank_pods_for_deletion(active, node_pod_counts=counts, now=self.now)[:k]
        got = self.ranking.smallest(rs, k, self.now)
        assert [p.metadata.name for p in got] == [p.metadata.name for p in expected]
        assert self.ranking.active(rs) == len(active)

    @invariant()
    def consistent(self) -> None:
        if hasattr(self, "ranking"):
            self.ranking._check()


TestDeletionRanking = RankingMachine.TestCase
TestDeletionRanking.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)


def test_co_location_follows_departures() -> None:
    """Co-location decides among equally ready pods, and follows a pod's departure."""
    ranking = DeletionRanking()
    ranking.set_family("rs", "d")
    now = float(T0)
    for i in range(2000):
        ranking.put("rs", make_pod(f"p{i}", node=f"n{i % 500}", phase="Running", ready_since=T0 - 10,
                                   created=T0 - 20, cost=None, deleting=False, uid=f"{i:05d}"), now)
    first = ranking.smallest("rs", 3, now)
    # Every node holds four pods: the lowest UIDs go first.
    assert [p.metadata.name for p in first] == ["p0", "p1", "p2"]
    ranking.drop("rs", "p0")
    # n0 now holds 3 pods: its pods rank after the 4-pod nodes.
    assert [p.metadata.name for p in ranking.smallest("rs", 2, now)] == ["p1", "p2"]


# -- whole clusters: the incremental ranking writes what the full sort writes -----------------

FIELDS = ("seq", "time", "verb", "kind", "namespace", "name", "resource_version", "actor",
          "json_bytes", "proto_bytes", "outcome", "cause")


def _run(full: bool, seed: int, faults: FaultPlan | None, program: list[Op]) -> kubesim.Cluster:
    cluster = kubesim.Cluster(seed=seed, nodes=4, faults=faults)
    rs = cluster.controllers["replicaset"]
    rs.full_ranking = full
    sc.deploy(cluster, "web", replicas=10, readiness_probe=True)
    sc.deploy(cluster, "api", replicas=4)
    cluster.run(until=cluster.now + 30)
    play(cluster, program, after=None if full else rs._check)
    cluster.run(until=cluster.now + 120)
    return cluster


def _log(cluster: kubesim.Cluster) -> list[tuple[object, ...]]:
    return [tuple(getattr(e, f) for f in FIELDS) for e in cluster.changes]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), faults=st.one_of(st.none(), st.just(FaultPlan(conflict_rate=0.1, error_rate=0.05))),
       program=st.lists(ops(max_replicas=12, pod_index=30, waits=(0.5, 3.0, 60.0, 400.0)), min_size=1, max_size=8))
def test_incremental_ranking_writes_what_the_full_sort_writes(
    seed: int, faults: FaultPlan | None, program: list[Op]
) -> None:
    fast = _run(False, seed, faults, program)
    full = _run(True, seed, faults, program)
    assert _log(fast) == _log(full)
    fast._check()


def test_a_rollout_scales_down_by_the_ranking() -> None:
    """A rolling update of 60 pods on 4 nodes: the old ReplicaSet's many scale-downs choose the
    same pods either way, and the incremental order passes its recount at the end."""
    logs = []
    for full in (False, True):
        cluster = kubesim.Cluster(seed=3, nodes=4)
        cluster.controllers["replicaset"].full_ranking = full
        sc.deploy(cluster, "web", replicas=60)
        cluster.run()
        sc.set_image(cluster, "web", "nginx:1.26")
        cluster.run()
        cluster._check()
        logs.append(_log(cluster))
    deletes = [e for e in logs[0] if e[2] == "delete" and e[3] == "Pod"]
    assert len(deletes) == 60
    assert logs[0] == logs[1]


@settings(max_examples=300, deadline=None)
@given(
    t=st.one_of(st.none(), st.integers(T0 - 10**7, T0 + 10)),
    age=st.floats(-5.0, 1e7, allow_nan=False),
    steps=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=8),
)
def test_time_code_is_the_log_rank_and_holds_until_its_due(t: int | None, age: float, steps: list[float]) -> None:
    """``_time_code`` (one ``log2`` for the key's time field and its next change) gives
    ``_log_rank(t, now) + 2`` (0 without a time), and an instant after ``now`` at which that
    rank may first change: the rank is the same at every instant in ``[now, due)``."""
    from kubesim.controllers.workloads.ranking import _time_code

    now = (T0 if t is None else t) + age
    code, due = _time_code(t, now)
    if t is None:
        assert (code, due) == (0, float("inf"))
        return
    assert code == r._log_rank(t, now) + 2
    assert due > now
    for f in steps:
        at = now + f * (due - now)
        if at < due:
            assert r._log_rank(t, at) + 2 == code
