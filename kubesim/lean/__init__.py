"""The lean core: a faster engine beside its oracle, the full :class:`kubesim.Cluster`.

:class:`LeanCluster` is a :class:`kubesim.Cluster` on a lean API server
(:class:`~kubesim.lean.engine.LeanAPIServer`): the full model's controllers, clock and random
draws, with sizes looked up by shape and watch events dispatched per kind, so it writes the
full model's change log record for record. :func:`~kubesim.lean.check.check_workload` runs a
workload on both and raises :class:`~kubesim.lean.check.Divergence` at the first differing
record. See ``docs/performance.md``.

>>> from kubesim import lean
>>> c = lean.run_rollout(3, nodes=2)
>>> len(c.changes)
100
"""

from __future__ import annotations

from typing import Any

from kubesim.lean.check import FIELDS, Divergence, check_workload, compare_logs
from kubesim.lean.engine import LeanAPIServer, LeanCluster
from kubesim.report import ChurnReport

__all__ = [
    "LeanCluster", "LeanAPIServer", "Divergence", "FIELDS", "compare_logs", "check_workload", "run_rollout",
    "rolling_update_churn", "rolling_update_report",
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


def rolling_update_churn(
    *,
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    image: str = "nginx:1.26",
    max_surge: int | str = "25%",
    max_unavailable: int | str = "25%",
    progress: Any = None,
) -> tuple[LeanCluster, ChurnReport]:
    """:func:`kubesim.scenarios.rolling_update_churn` (the job ``kubesim churn`` runs) on a
    :class:`LeanCluster`: ``(cluster, report)``, the report covering the rollout only (after
    the Deployment settled and one quiet second). ``O(writes)``."""
    from kubesim import scenarios
    from kubesim.progress import advance

    c = LeanCluster(
        seed=seed, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice,
        endpoint_updates_batch_period=batch_period, endpointslice_updates_batch_period=batch_period,
    )
    scenarios.deploy(c, "web", replicas=pods, max_surge=max_surge, max_unavailable=max_unavailable)
    advance(c, None, progress)
    start = scenarios.quiet_start(c)
    scenarios.set_image(c, "web", image)
    advance(c, None, progress)
    report: ChurnReport = c.churn(since=start)
    return c, report


def rolling_update_report(**kwargs: Any) -> ChurnReport:
    """The report of :func:`rolling_update_churn` (same keywords but ``progress``)."""
    return rolling_update_churn(**kwargs)[1]
