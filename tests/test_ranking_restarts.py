"""Container restarts in the ReplicaSet's deletion order (``maxContainerRestarts`` in
``pkg/controller/controller_utils.go``'s ``ActivePodsWithRanks.Less``): after readiness, the
deletion cost, co-location and the ready time, a pod whose containers restarted more is deleted
first, before the creation time is compared.

The cases mirror the restart cases of upstream's ``TestSortingActivePodsWithRanks``
(``pkg/controller/controller_utils_test.go``), ready pods with the ready times equal, compared
at ``now`` (the logarithmic buckets, as the ReplicaSet controller ranks) and by exact times
(``now=None``): ``ready-high-restarts`` (9001 restarts; here ``ready-with-high-restarts``, a
name that sorts after ``ready-now``, so the name tie-break cannot pass the test by itself)
sorts before ``ready-now`` at equal co-location, and after it when ``ready-now`` has the larger
co-location rank. Upstream applies the ready-time rule only when the two times differ, so equal
ready times fall through to the restarts, then to the creation time
(:func:`~kubesim.controllers.workloads.rollout.rank_pods_for_deletion`'s ready-time groups);
times that differ within one bucket are ordered by UID, whatever the restarts. The incremental
ranking (:class:`~kubesim.controllers.workloads.ranking.DeletionRanking`) must answer the same.
"""

from __future__ import annotations

import pytest

from kubesim.controllers.workloads import rollout as r
from kubesim.controllers.workloads.ranking import DeletionRanking
from kubesim.objects import ContainerStatus, ObjectMeta, Pod, PodCondition, PodSpec, PodStatus

NOW = 1_700_000_000
MONTH = 30 * 86400


def pod(
    name: str,
    *,
    ready: bool = True,
    restarts: tuple[int, ...] = (0,),
    ready_since: int = NOW,
    created: int = NOW,
    node: str = "node",
    init_restarts: tuple[int, ...] = (),
) -> Pod:
    """Upstream's ``pod(...)`` helper: Running on ``node``, Ready since ``ready_since`` or not
    ready, with one container status per restart count."""
    cond = PodCondition("Ready", "True", last_transition_time=ready_since) if ready else PodCondition("Ready", "False")
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default", uid=f"uid-{name}", creation_timestamp=created),
        spec=PodSpec(node_name=node),
        status=PodStatus(
            phase="Running",
            conditions=(cond,),
            container_statuses=tuple(ContainerStatus(f"c{i}", restart_count=n) for i, n in enumerate(restarts)),
            init_container_statuses=tuple(
                ContainerStatus(f"init{i}", restart_count=n) for i, n in enumerate(init_restarts)
            ),
        ),
    )


def order(pods: list[Pod], ranks: dict[str, int], now: float | None) -> list[str]:
    """``rank_pods_for_deletion`` with upstream's ``Rank`` as the co-location counts (each pod
    on a node of its own)."""
    placed = [
        Pod(metadata=p.metadata, spec=PodSpec(node_name=f"n-{p.metadata.name}"), status=p.status) for p in pods
    ]
    counts = {f"n-{name}": rank for name, rank in ranks.items()}
    return [p.metadata.name for p in r.rank_pods_for_deletion(placed, node_pod_counts=counts, now=now)]


def test_max_container_restarts_is_the_largest_container_count() -> None:
    assert r.max_container_restarts(pod("a", restarts=())) == 0
    assert r.max_container_restarts(pod("a", restarts=(2, 7, 1))) == 7
    # init containers are not counted (upstream reads status.containerStatuses only)
    assert r.max_container_restarts(pod("a", restarts=(1,), init_restarts=(50,))) == 1


@pytest.mark.parametrize("now", [None, NOW + 5.0])
def test_more_restarts_first_at_equal_colocation(now: float | None) -> None:
    # {lesser: ready-high-restarts rank 1, greater: ready-now rank 1}; both ready at NOW
    ready_now = pod("ready-now")
    high = pod("ready-with-high-restarts", restarts=(9001,))
    ranks = {"ready-now": 1, "ready-with-high-restarts": 1}
    assert order([ready_now, high], ranks, now) == ["ready-with-high-restarts", "ready-now"]
    assert order([high, ready_now], ranks, now) == ["ready-with-high-restarts", "ready-now"]


@pytest.mark.parametrize("now", [None, NOW + 5.0])
def test_colocation_decides_before_restarts(now: float | None) -> None:
    # {lesser: ready-now rank 2, greater: ready-high-restarts rank 1}
    ready_now = pod("ready-now")
    high = pod("ready-with-high-restarts", restarts=(9001,))
    assert order([high, ready_now], {"ready-now": 2, "ready-with-high-restarts": 1}, now) == ["ready-now", "ready-with-high-restarts"]


@pytest.mark.parametrize("now", [None, NOW + 5.0])
def test_ready_time_decides_before_restarts(now: float | None) -> None:
    # ready for less time goes first, whatever the restarts of the one ready for a month
    recent = pod("ready-now", ready_since=NOW)
    old_high = pod("ready-then-high-restarts", ready_since=NOW - MONTH, created=NOW - MONTH, restarts=(9001,))
    ranks = {"ready-now": 1, "ready-then-high-restarts": 1}
    assert order([old_high, recent], ranks, now) == ["ready-now", "ready-then-high-restarts"]


@pytest.mark.parametrize("now", [None, NOW + 5.0])
def test_restarts_decide_before_creation_time(now: float | None) -> None:
    # upstream: ready-now < ready-now-created-then (newer first, both ready at NOW); restarts
    # come before that rule
    created_then_high = pod("created-then-high-restarts", created=NOW - MONTH, restarts=(0, 3))
    created_now = pod("created-now", created=NOW, restarts=(2,))
    ranks = {"created-then-high-restarts": 1, "created-now": 1}
    assert order([created_now, created_then_high], ranks, now) == ["created-then-high-restarts", "created-now"]
    # equal restarts: the creation time decides again
    same = pod("created-now", created=NOW, restarts=(3,))
    assert order([created_then_high, same], ranks, now) == ["created-now", "created-then-high-restarts"]


@pytest.mark.parametrize("now", [None, NOW + 5.0])
def test_a_pod_does_not_rank_before_its_equal(now: float | None) -> None:
    # upstream's equality cases: Less(ready-high-restarts, itself) is false. Here: two separately
    # built, equal pods rank as equals, so the (stable) order keeps them as given, either way round.
    a = pod("ready-with-high-restarts", restarts=(9001,))
    b = pod("ready-with-high-restarts", restarts=(9001,))
    assert a == b and a is not b
    for given in ([a, b], [b, a]):
        assert [id(p) for p in r.rank_pods_for_deletion(given, now=now)] == [id(p) for p in given]


def test_incremental_ranking_orders_by_restarts_and_rekeys_on_a_restart() -> None:
    """The incremental order keys restarts as the sort does, and a restart (the pod's next
    state) re-keys the entry."""
    ranking = DeletionRanking()
    ranking.set_family("rs", "d")
    now = NOW + 5.0
    pods = {name: pod(name, ready=False, restarts=(n,), node="node") for name, n in (("a", 0), ("b", 2), ("c", 1))}
    for p in pods.values():
        ranking.put("rs", p, now)

    def expected() -> list[str]:
        return [p.metadata.name for p in r.rank_pods_for_deletion(list(pods.values()), now=now)]

    assert [p.metadata.name for p in ranking.smallest("rs", 3, now)] == expected() == ["b", "c", "a"]
    pods["a"] = pod("a", ready=False, restarts=(5,), node="node")  # a's container restarted again
    ranking.put("rs", pods["a"], now)
    assert [p.metadata.name for p in ranking.smallest("rs", 3, now)] == expected() == ["a", "b", "c"]
    ranking._check()


def test_ready_times_that_differ_in_one_bucket_compare_by_uid() -> None:
    # Ready 5 s and 6 s before now: one log2 bucket (2**32 ns), different times: upstream's
    # rankDiff == 0 case orders by UID, and the restarts play no part.
    now = NOW + 5.0
    a = pod("a-many-restarts", ready_since=NOW - 1, restarts=(9001,))
    b = pod("b-no-restarts", ready_since=NOW)
    assert r._log_rank(NOW - 1, now) == r._log_rank(NOW, now)
    ranks = {"a-many-restarts": 1, "b-no-restarts": 1}
    assert order([b, a], ranks, now) == ["a-many-restarts", "b-no-restarts"]  # uid-a < uid-b
    high_b = pod("b-no-restarts", ready_since=NOW, restarts=(9001,))
    low_a = pod("a-many-restarts", ready_since=NOW - 1)
    assert order([high_b, low_a], ranks, now) == ["a-many-restarts", "b-no-restarts"]
    # ... while at one instant the restarts decide
    same_a = pod("a-many-restarts", ready_since=NOW)
    assert order([same_a, high_b], ranks, now) == ["b-no-restarts", "a-many-restarts"]


def test_incremental_ranking_falls_through_at_equal_ready_times() -> None:
    """The incremental order keeps the ready-time groups: pods ready at one instant are ordered
    by restarts and creation time, a pod ready at another instant of the bucket by its UID, and
    a group's place follows its smallest UID as members come and go."""
    ranking = DeletionRanking()
    ranking.set_family("rs", "d")
    now = NOW + 5.0
    pods = {
        "m": pod("m", restarts=(1,), created=NOW - 30),
        "k": pod("k", restarts=(4,), created=NOW - 30),
        "z": pod("z", restarts=(0,), created=NOW - 2),
        "c": pod("c", ready_since=NOW - 1, restarts=(9,)),
    }
    for p in pods.values():
        ranking.put("rs", p, now)

    def check() -> list[str]:
        expected = [p.metadata.name for p in r.rank_pods_for_deletion(list(pods.values()), now=now)]
        got = [p.metadata.name for p in ranking.smallest("rs", len(pods), now)]
        assert got == expected
        ranking._check()
        return got

    # group {k, m, z} (ready at NOW) takes uid-k: after uid-c; inside it restarts decide
    assert check() == ["c", "k", "m", "z"]
    pods["a"] = pod("a", restarts=(0,), created=NOW - 1)  # joins the group: uid-a < uid-c
    ranking.put("rs", pods["a"], now)
    assert check() == ["k", "m", "a", "z", "c"]
    del pods["a"]
    ranking.drop("rs", "a")  # the smallest leaves: the group takes uid-k again
    assert check() == ["c", "k", "m", "z"]
    for t in (now + 7.0, now + 100.0, now + 10_000.0):  # buckets move; the groups stay
        now = t
        check()
