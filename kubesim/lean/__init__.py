"""The lean core: a faster engine beside its oracle, the full :class:`kubesim.Cluster`.

:class:`LeanCluster` is a :class:`kubesim.Cluster` on a lean API server
(:class:`~kubesim.lean.engine.LeanAPIServer`): the full model's controllers, clock and random
draws, with the controllers' own writes trusted (not defaulted or validated again), sizes
assembled from the stored object's parts and watch events dispatched per kind, so it writes
the full model's change log record for record. :func:`~kubesim.lean.check.check_workload` runs a
workload on both and raises :class:`~kubesim.lean.check.Divergence` at the first differing
record; ``kubesim.Cluster(check=True)`` (or ``LeanCluster(check=True)``) compares every lean step
with the full model's as it writes (:mod:`kubesim.lean.checked`). :mod:`kubesim.scenarios`' churn runners (``kubesim churn``, ``kubesim scenario``, the
sweeps), :mod:`kubesim.reproduce` and the benchmarks run on it. See ``docs/performance.md``.

>>> from kubesim import lean
>>> c = lean.run_rollout(3, nodes=2, events=False)
>>> len(c.changes)
100
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubesim.lean.check import FIELDS, Divergence, check_workload, compare_logs, record_values
from kubesim.lean.checked import CheckedAPIServer
from kubesim.lean.engine import LeanAPIServer, LeanCluster

__all__ = [
    "LeanCluster", "LeanAPIServer", "CheckedAPIServer", "Divergence", "FIELDS", "record_values", "compare_logs",
    "check_workload", "rollout_workload", "run_rollout",
]


def rollout_workload(
    pods: int,
    *,
    image: str = "nginx:1.26",
    name: str = "web",
    deploy: dict[str, Any] | None = None,
    rescale: int | None = None,
) -> Callable[[Any], None]:
    """The workload :func:`run_rollout` runs, as a function of a cluster (for
    :func:`check_workload`, which runs it on both engines): create a Deployment of ``pods`` pods
    behind a Service (:func:`kubesim.scenarios.deploy`, keywords in ``deploy``), settle, roll it
    out to ``image``, settle; then, if ``rescale`` is given, scale to it and settle."""
    from kubesim import scenarios

    def workload(c: Any) -> None:
        scenarios.deploy(c, name, replicas=pods, **(deploy or {}))
        c.run()
        scenarios.set_image(c, name, image)
        c.run()
        if rescale is not None:
            scenarios.scale(c, name, rescale)
            c.run()

    return workload


def run_rollout(
    pods: int,
    *,
    image: str = "nginx:1.26",
    name: str = "web",
    deploy: dict[str, Any] | None = None,
    **options: Any,
) -> LeanCluster:
    """Run :func:`rollout_workload` (``pods`` pods rolled out to ``image``) on a
    :class:`LeanCluster` built with ``options``; returns the cluster."""
    c = LeanCluster(**options)
    rollout_workload(pods, image=image, name=name, deploy=deploy)(c)
    return c
