"""Random whole-cluster workloads for the fast-path-versus-oracle tests.

An operation is a tuple ``(name, a, b)`` drawn by :func:`ops`; :func:`play` applies a list of
them to a cluster with :mod:`kubesim.scenarios`, running the clock 2 s after each (``wait``
runs it ``a`` seconds instead). Pods are addressed by index into the sorted names of the pods
not being deleted, so a program stays meaningful whatever the cluster did before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

import kubesim
from kubesim import scenarios as sc

Op = tuple[Any, Any, Any]


def ops(*, max_replicas: int = 7, pod_index: int = 20, waits: Sequence[float] = (0.5, 3.0, 60.0)) -> st.SearchStrategy[Op]:
    """Scale or re-image ``web``/``api``, fail a pod's readiness, delete a pod, fail or recover
    ``node-1``/``node-2``, or wait."""
    return st.one_of(
        st.tuples(st.just("scale"), st.sampled_from(["web", "api"]), st.integers(0, max_replicas)),
        st.tuples(st.just("set_image"), st.sampled_from(["web", "api"]), st.sampled_from(["nginx:1.26", "nginx:1.27"])),
        st.tuples(st.just("fail_readiness"), st.integers(0, pod_index), st.sampled_from([5.0, 30.0])),
        st.tuples(st.just("delete_pod"), st.integers(0, pod_index), st.just(0)),
        st.tuples(st.just("fail_node"), st.sampled_from(["node-1", "node-2"]), st.just(0)),
        st.tuples(st.just("recover_node"), st.sampled_from(["node-1", "node-2"]), st.just(0)),
        st.tuples(st.just("wait"), st.sampled_from(list(waits)), st.just(0)),
    )


def play(cluster: kubesim.Cluster, program: Sequence[Op], after: Callable[[], None] | None = None) -> None:
    """Apply ``program``; call ``after`` once each operation's 2 s have run."""
    down: set[str] = set()
    for op, a, b in program:
        pods = sorted(p.metadata.name for p in cluster.list("Pod") if p.metadata.deletion_timestamp is None)
        if op == "scale":
            sc.scale(cluster, a, b)
        elif op == "set_image":
            sc.set_image(cluster, a, b)
        elif op == "fail_readiness" and pods:
            sc.fail_readiness(cluster, pods[a % len(pods)], b)
        elif op == "delete_pod" and pods:
            sc.delete_pod(cluster, pods[a % len(pods)])
        elif op == "fail_node" and a not in down:
            sc.fail_node(cluster, a)
            down.add(a)
        elif op == "recover_node" and a in down:
            sc.recover_node(cluster, a)
            down.discard(a)
        elif op == "wait":
            cluster.run(until=cluster.now + a)
            continue
        cluster.run(until=cluster.now + 2)
        if after is not None:
            after()
