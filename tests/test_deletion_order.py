"""The ReplicaSet's deletion order against a direct statement of upstream's comparison.

:func:`upstream_less` states ``ActivePodsWithRanks.Less`` (``pkg/controller/controller_utils.go``,
``LogarithmicScaleDown`` on) rule by rule, as a predicate on two pods: it is the oracle, written
from the behaviour. Its notable case: two ready times are compared only when they *differ* (then
by ``log2`` bucket of the age, a bucket tie by UID), so pods ready at one instant fall through to
the restarts and the creation time. The relation is then not always an order: pods ``a``, ``b``
ready at one instant and ``c`` ready at another in the same bucket, with UIDs ``a < c < b`` and
``b`` restarted more, give ``a < c < b < a``. No total order can follow a cycle, so the property is:
kubesim never puts ``a`` before ``b`` when upstream strictly prefers ``b`` (``Less(b, a)``, not
``Less(a, b)``), unless ``a`` reaches ``b`` through upstream's relation (the two lie on a cycle).
Where upstream's relation is an order, kubesim's is one of its linear extensions.

The rule before (a bucket tie by UID even for equal ready times) and a first mend (a group of
pods ready at one instant ranked as a block at its smallest UID) both fail it (see
:func:`test_the_oracle_rejects_the_earlier_rules`); the incremental ranking answers as the
reference.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from kubesim.controllers.workloads import rollout as r
from kubesim.controllers.workloads.ranking import DeletionRanking
from kubesim.objects import ContainerStatus, ObjectMeta, Pod, PodCondition, PodSpec, PodStatus

T0 = 1_700_000_000
NOW = T0 + 0.5


def pod(
    name: str,
    uid: str,
    *,
    ready_since: int | None = T0,
    created: int = T0 - 10,
    restarts: int = 0,
    node: str = "n1",
    phase: str = "Running",
    cost: str | None = None,
) -> Pod:
    """A pod on ``node``, Ready since ``ready_since`` (not ready with ``None``)."""
    cond = (
        PodCondition("Ready", "True", last_transition_time=ready_since)
        if ready_since is not None
        else PodCondition("Ready", "False")
    )
    return Pod(
        metadata=ObjectMeta(
            name=name, namespace="default", uid=uid, creation_timestamp=created,
            annotations={} if cost is None else {r.POD_DELETION_COST_ANNOTATION: cost},
        ),
        spec=PodSpec(node_name=node),
        status=PodStatus(
            phase=phase, conditions=(cond,), container_statuses=(ContainerStatus("c", restart_count=restarts),),
        ),
    )


# -- the oracle ----------------------------------------------------------------------------------


def _younger(t1: int | None, t2: int | None, now: float | None) -> bool | None:
    """Upstream's comparison of two unequal times (``afterOrZero``, or with ``now`` the
    ``logarithmicRankDiff`` of the ages): True/False when it decides, None for one bucket."""
    if t1 is None or t2 is None:
        return t1 is None
    if now is None:
        return t1 > t2
    rank1, rank2 = (r._log_rank(t, now) for t in (t1, t2))
    return None if rank1 == rank2 else rank1 < rank2


def upstream_less(a: Pod, b: Pod, ranks: dict[str, int], now: float | None) -> bool:
    """``ActivePodsWithRanks.Less(a, b)``: ``a`` is preferred for deletion over ``b``.
    ``ranks``: active related pods per node (upstream's ``Rank``)."""
    na, nb = a.spec.node_name, b.spec.node_name
    if (na == "") != (nb == ""):
        return na == ""
    pa, pb = (r._PHASE_ORDINAL.get(p.status.phase, 0) for p in (a, b))
    if pa != pb:
        return pa < pb
    if a.status.ready != b.status.ready:
        return not a.status.ready
    ca, cb = r._deletion_cost(a), r._deletion_cost(b)
    if ca != cb:
        return ca < cb
    if ranks.get(na, 0) != ranks.get(nb, 0):
        return ranks.get(na, 0) > ranks.get(nb, 0)
    if a.status.ready and b.status.ready:
        ta, tb = r._ready_condition_time(a), r._ready_condition_time(b)
        if ta != tb:  # equal ready times skip this rule
            younger = _younger(ta, tb, now)
            return a.metadata.uid < b.metadata.uid if younger is None else younger
    ra, rb = r.max_container_restarts(a), r.max_container_restarts(b)
    if ra != rb:
        return ra > rb
    ta, tb = a.metadata.creation_timestamp, b.metadata.creation_timestamp
    if ta != tb:
        younger = _younger(ta, tb, now)
        return a.metadata.uid < b.metadata.uid if younger is None else younger
    return False


def violations(order: list[Pod], now: float | None) -> list[tuple[str, str]]:
    """The pairs ``(a, b)``, ``a`` placed before ``b``, where upstream strictly prefers ``b`` and
    ``a`` does not reach ``b`` through upstream's relation (they lie on no common cycle).
    ``O(n^3)`` (the transitive closure)."""
    ranks = r.node_pod_counts_of(order)
    n = len(order)
    less = [[i != j and upstream_less(order[i], order[j], ranks, now) for j in range(n)] for i in range(n)]
    reach = [row[:] for row in less]
    for k, i, j in itertools.product(range(n), repeat=3):  # Floyd-Warshall, k outermost
        reach[i][j] = reach[i][j] or (reach[i][k] and reach[k][j])
    return [
        (order[i].metadata.name, order[j].metadata.name)
        for i, j in itertools.combinations(range(n), 2)
        if less[j][i] and not less[i][j] and not reach[i][j]
    ]


def kubesim_order(pods: list[Pod], now: float | None) -> list[Pod]:
    """The reference order; with ``now``, also checked against the incremental ranking."""
    order = r.rank_pods_for_deletion(pods, now=now)
    if now is not None:
        ranking = DeletionRanking()
        ranking.set_family("rs", "d")
        for p in pods:
            ranking.put("rs", p, now)
        assert [p.metadata.name for p in ranking.smallest("rs", len(pods), now)] == [p.metadata.name for p in order]
        ranking._check()
    return order


# -- examples ------------------------------------------------------------------------------------


def names(pods: list[Pod]) -> list[str]:
    return [p.metadata.name for p in pods]


def test_pods_ready_at_one_instant_fall_through_to_the_restarts() -> None:
    """The gap: ``a`` and ``b`` ready at one instant, ``b`` restarted more: upstream deletes
    ``b`` first, whatever their UIDs."""
    a, b = pod("a", "u1"), pod("b", "u2", restarts=3)
    assert upstream_less(b, a, {"n1": 2}, NOW) and not upstream_less(a, b, {"n1": 2}, NOW)
    assert names(kubesim_order([a, b], NOW)) == ["b", "a"]


def test_pods_ready_at_one_instant_fall_through_to_the_creation_time() -> None:
    a = pod("a", "u1", created=T0 - 100)
    b = pod("b", "u2", created=T0 - 1)  # younger: deleted first
    assert names(kubesim_order([a, b], NOW)) == ["b", "a"]


def test_groups_of_one_bucket_keep_upstreams_uid_order() -> None:
    """Two groups of one bucket, interleaved by UID, with no restarts: upstream's order is the
    UID order, and a group may not move as one block."""
    later = T0 + 2
    now = later + 100.0  # ages 100 s and 102 s: one bucket
    g1, g3 = pod("g1", "u1", ready_since=T0), pod("g3", "u3", ready_since=T0)
    h2 = pod("h2", "u2", ready_since=later)
    assert r._log_rank(T0, now) == r._log_rank(later, now)
    assert names(kubesim_order([g3, h2, g1], now)) == ["g1", "h2", "g3"]
    assert violations(kubesim_order([g3, h2, g1], now), now) == []


def test_a_cycle_of_upstream_is_ordered_without_contradicting_anything_outside_it() -> None:
    """``a < c`` and ``c < b`` by UID across groups, ``b < a`` by restarts inside one: a cycle;
    a pod of another bucket keeps its place before all three."""
    now = T0 + 100.0
    a, b = pod("a", "u1"), pod("b", "u3", restarts=2)
    c = pod("c", "u2", ready_since=T0 + 2)
    d = pod("d", "u0", ready_since=T0 + 99)  # ready for 1 s: a younger bucket
    ranks = r.node_pod_counts_of([a, b, c, d])
    assert upstream_less(a, c, ranks, now) and upstream_less(c, b, ranks, now) and upstream_less(b, a, ranks, now)
    order = kubesim_order([a, b, c, d], now)
    assert names(order)[0] == "d"
    assert violations(order, now) == []


def test_the_oracle_rejects_the_earlier_rules() -> None:
    """The order the rule before gave (UID order among equal ready times) and the first mend's
    (a group as a block at its smallest UID) contradict upstream on sets where it is an order."""
    a, b = pod("a", "u1"), pod("b", "u2", restarts=3)
    assert violations([a, b], NOW) == [("a", "b")]  # the rule before: UID order
    now = T0 + 102.0
    g1, g3, h2 = pod("g1", "u1"), pod("g3", "u3"), pod("h2", "u2", ready_since=T0 + 2)
    assert violations([g1, g3, h2], now) == [("g3", "h2")]  # the block of {g1, g3} at u1
    assert violations([g1, h2, g3], now) == []


# -- the property --------------------------------------------------------------------------------


@st.composite
def pod_sets(draw: st.DrawFn) -> list[Pod]:
    """Up to 9 pods of one ReplicaSet: few ready instants (equal ready times are common),
    some of them in one log2 bucket, restarts, creation times in and across buckets, and now
    and then another node, phase, readiness or deletion cost."""
    n = draw(st.integers(2, 9))
    uids = draw(st.permutations([f"u{i}" for i in range(n)]))
    out = []
    for i in range(n):
        ready = draw(st.integers(0, 7)) > 0
        # ages at NOW + 100: 100 s and 102 s share a bucket, 101 s too; 5 s and 6 s share one
        since = T0 + draw(st.sampled_from([0, 0, 1, 2, 2, 95, 96])) if ready else None
        out.append(pod(
            f"p{i}", uids[i],
            ready_since=since,
            created=(since or T0) - draw(st.sampled_from([0, 0, 1, 3, 40, 41])),
            restarts=draw(st.sampled_from([0, 0, 0, 1, 2])),
            node=draw(st.sampled_from(["n1"] * 5 + ["n2", ""])),
            phase=draw(st.sampled_from(["Running"] * 8 + ["Pending"])),
            cost=draw(st.sampled_from([None] * 8 + ["3"])),
        ))
    return out


@settings(max_examples=600, deadline=None)
@given(pods=pod_sets(), exact=st.booleans())
def test_the_order_never_contradicts_upstreams_strict_preference(pods: list[Pod], exact: bool) -> None:
    now = None if exact else T0 + 100.0
    order = kubesim_order(pods, now)
    assert violations(order, now) == []


def test_doctests() -> None:
    import doctest

    from kubesim.controllers.workloads import replicas

    assert doctest.testmod(replicas).failed == 0
