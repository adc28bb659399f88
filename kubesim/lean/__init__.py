"""The lean core: a fast engine beside its oracle, the full :class:`kubesim.Cluster`.

:class:`LeanCluster` simulates the workload the benchmarks, reproductions, ``kubesim churn``
and sweeps run — one Deployment of N pods behind one Service on M nodes, created, settled,
rolled out (``set_image``) and scaled — and writes the change log the full model writes, record
for record. ``check=True`` runs the full model beside it and raises
:class:`~kubesim.lean.check.Divergence` at the first differing record. Options or workloads it
does not model raise :class:`~kubesim.lean.engine.Unsupported`.

>>> from kubesim import lean
>>> c = lean.LeanCluster(seed=0, nodes=2, check=True)
>>> c.deploy("web", replicas=3); _ = c.run()
>>> c.set_image("web", "nginx:1.26"); _ = c.run()
>>> len(c.changes)
96
"""

from __future__ import annotations

from typing import Any

from kubesim.lean.check import Divergence, compare_logs
from kubesim.lean.engine import SUPPORTED_OPTIONS, LeanCluster, Unsupported
from kubesim.lean.log import LeanLog
from kubesim.report import ChurnReport

__all__ = [
    "LeanCluster", "LeanLog", "Unsupported", "Divergence", "compare_logs", "run_rollout", "rolling_update_report",
    "SUPPORTED_OPTIONS",
]


def run_rollout(
    pods: int,
    *,
    image: str = "nginx:1.26",
    name: str = "web",
    check: bool = False,
    deploy: dict[str, Any] | None = None,
    **options: Any,
) -> LeanCluster:
    """Create a Deployment of ``pods`` pods behind a Service, settle, roll it out to ``image``
    and settle again; returns the :class:`LeanCluster` (``.changes``, ``.churn()``).
    ``deploy`` holds keywords of :func:`kubesim.scenarios.deploy` (``max_surge``,
    ``max_unavailable``, ``readiness_probe`` …); the rest are Cluster options."""
    c = LeanCluster(check=check, **options)
    c.deploy(name, replicas=pods, **(deploy or {}))
    c.run()
    c.set_image(name, image)
    c.run()
    return c


def rolling_update_report(
    *,
    pods: int = 200,
    nodes: int = 100,
    max_endpoints_per_slice: int = 100,
    batch_period: float = 0.0,
    seed: int = 0,
    image: str = "nginx:1.26",
    max_surge: int | str = "25%",
    max_unavailable: int | str = "25%",
    check: bool = False,
) -> ChurnReport:
    """The report of :func:`kubesim.scenarios.rolling_update_churn` (the job ``kubesim churn``
    runs) computed on the lean engine: a Deployment settles, one quiet second passes, then
    ``kubectl set image`` to ``image`` until settled; the churn report covers the rollout only.
    ``check=True`` runs the full model beside it. ``O(writes)``."""
    c = LeanCluster(
        check=check, seed=seed, nodes=nodes, max_endpoints_per_slice=max_endpoints_per_slice,
        endpoint_updates_batch_period=batch_period, endpointslice_updates_batch_period=batch_period,
    )
    c.deploy("web", replicas=pods, max_surge=max_surge, max_unavailable=max_unavailable)
    c.run()
    c.run(until=c.now + 1.0)
    start = c.now
    c.set_image("web", image)
    c.run()
    report: ChurnReport = c.churn(since=start)
    return report
