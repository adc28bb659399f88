"""The lean core: a faster engine beside its oracle, the full :class:`kubesim.Cluster`.

:class:`LeanCluster` is a :class:`kubesim.Cluster` on a lean API server
(:class:`~kubesim.lean.engine.LeanAPIServer`): the full model's controllers, clock and random
draws, with the controllers' own writes trusted (not defaulted or validated again), sizes
assembled from the stored object's parts and watch events dispatched per kind, so it writes
the full model's change log record for record. :func:`~kubesim.lean.check.check_workload` runs a
workload on both and raises :class:`~kubesim.lean.check.Divergence` at the first differing
record. :mod:`kubesim.scenarios`' churn runners (``kubesim churn``, ``kubesim scenario``, the
sweeps), :mod:`kubesim.reproduce` and the benchmarks run on it. See ``docs/performance.md``.

>>> from kubesim import lean
>>> c = lean.run_rollout(3, nodes=2, events=False)
>>> len(c.changes)
100
"""

from __future__ import annotations

from typing import Any

from kubesim.lean.check import FIELDS, Divergence, check_workload, compare_logs
from kubesim.lean.engine import LeanAPIServer, LeanCluster

__all__ = [
    "LeanCluster", "LeanAPIServer", "Divergence", "FIELDS", "compare_logs", "check_workload", "run_rollout",
]


def run_rollout(
    pods: int,
    *,
    image: str = "nginx:1.26",
    name: str = "web",
    deploy: dict[str, Any] | None = None,
    **options: Any,
) -> LeanCluster:
    """Create a Deployment of ``pods`` pods behind a Service (:func:`kubesim.scenarios.deploy`,
    keywords in ``deploy``), settle, roll it out to ``image`` and settle again, on a
    :class:`LeanCluster` built with ``options``; returns the cluster."""
    from kubesim import scenarios

    c = LeanCluster(**options)
    scenarios.deploy(c, name, replicas=pods, **(deploy or {}))
    c.run()
    scenarios.set_image(c, name, image)
    c.run()
    return c
