"""Container restarts in the ReplicaSet's deletion order (``maxContainerRestarts`` in
``pkg/controller/controller_utils.go``'s ``ActivePodsWithRanks.Less``): after readiness, the
deletion cost, co-location and the ready time, a pod whose containers restarted more is deleted
first, before the creation time is compared.

The cases mirror the restart cases of upstream's ``TestSortingActivePodsWithRanks``
(``pkg/controller/controller_utils_test.go``): ``ready-high-restarts`` (9001 restarts; here
``ready-with-high-restarts``, a name that sorts after ``ready-now``, so the name tie-break cannot
pass the test by itself) sorts before ``ready-now`` at equal co-location, and after it when
``ready-now`` has the larger co-location rank. Upstream compares the ready times there with
the times equal, which skips the ready-time rule; kubesim's logarithmic comparison breaks a bucket tie by UID even for equal
times (:func:`~kubesim.controllers.workloads.rollout.rank_pods_for_deletion`), so the cases
with ``now`` use pods that are not ready (the crash-looping case, where the ready time plays
no part) and the ready cases compare exact times (``now=None``), where equal ready times fall
through to the restarts as upstream's do. The incremental ranking
(:class:`~kubesim.controllers.workloads.ranking.DeletionRanking`) must answer the same.
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
    # {lesser: ready-high-restarts rank 1, greater: ready-now rank 1}
    ready_now = pod("ready-now", ready=now is None)
    high = pod("ready-with-high-restarts", ready=now is None, restarts=(9001,))
    ranks = {"ready-now": 1, "ready-with-high-restarts": 1}
    assert order([ready_now, high], ranks, now) == ["ready-with-high-restarts", "ready-now"]
    assert order([high, ready_now], ranks, now) == ["ready-with-high-restarts", "ready-now"]


@pytest.mark.parametrize("now", [None, NOW + 5.0])
def test_colocation_decides_before_restarts(now: float | None) -> None:
    # {lesser: ready-now rank 2, greater: ready-high-restarts rank 1}
    ready_now = pod("ready-now", ready=now is None)
    high = pod("ready-with-high-restarts", ready=now is None, restarts=(9001,))
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
    # upstream: ready-now < ready-now-created-then (newer first); restarts come before that rule
    ready = now is None
    created_then_high = pod("created-then-high-restarts", ready=ready, created=NOW - MONTH, restarts=(0, 3))
    created_now = pod("created-now", ready=ready, created=NOW, restarts=(2,))
    ranks = {"created-then-high-restarts": 1, "created-now": 1}
    assert order([created_now, created_then_high], ranks, now) == ["created-then-high-restarts", "created-now"]
    # equal restarts: the creation time decides again
    same = pod("created-now", ready=ready, created=NOW, restarts=(3,))
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
