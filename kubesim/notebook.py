"""Notebook support: HTML views of clusters, API objects and reports.

:class:`~kubesim.Cluster`, :class:`~kubesim.ChangeLog`, :class:`~kubesim.report.ChurnReport`
and :class:`~kubesim.sweep.SweepResult` define ``_repr_html_``; their plots
(``report.plot()``, ``result.plot(...)``) are :class:`kubesim.plotting.InlineFigure` objects, which
show themselves as PNG with no ``%matplotlib`` magic. tests/test_notebook_kernel.py runs all of
this in a real Jupyter kernel.

API objects stay plain data classes (serialization lives at the edge), so their HTML view is
registered with IPython when kubesim is imported inside IPython or Jupyter
(:func:`register`). Nothing here imports pandas, matplotlib or IPython unless it is already
running.
"""

from __future__ import annotations

import html
import sys
from typing import Any

__all__ = ["object_html", "cluster_html", "register"]


def object_html(obj: Any) -> str:
    """An API object as its YAML manifest (``kubectl get -o yaml``) in an HTML block."""
    from kubesim.manifests import dump_yaml

    title = f"{obj.kind} {obj.metadata.namespace + '/' if obj.metadata.namespace else ''}{obj.metadata.name}"
    return (
        f"<details open><summary><b>{html.escape(title)}</b></summary>"
        f"<pre>{html.escape(dump_yaml(obj))}</pre></details>"
    )


def cluster_html(cluster: Any) -> str:
    """A cluster's summary: virtual time, seed, objects per kind, writes per kind."""
    stats = cluster.api.statistics()
    writes: dict[str, int] = {}
    for e in cluster.changes:
        if e.committed:
            writes[e.kind] = writes.get(e.kind, 0) + 1
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{stats.objects.get(k, 0):,}</td>"
        f"<td style='text-align:right'>{writes.get(k, 0):,}</td></tr>"
        for k in sorted(set(stats.objects) | set(writes))
    )
    return (
        f"<p><b>kubesim.Cluster</b> seed {cluster.seed}, {len(cluster.pod_ranges)} nodes, "
        f"t = {cluster.now:.3f} s, {len(cluster.changes):,} change events</p>"
        f"<table><tr><th>kind</th><th>objects</th><th>writes</th></tr>{rows}</table>"
    )


def register() -> bool:
    """Register :func:`object_html` for every API object class with the running IPython, if
    any; ``True`` if registered. Called when kubesim is imported."""
    ipython_mod = sys.modules.get("IPython")
    if ipython_mod is None:
        return False
    shell = ipython_mod.get_ipython()
    if shell is None:
        return False
    from kubesim.objects import KINDS

    formatter = shell.display_formatter.formatters["text/html"]
    for cls in KINDS.values():
        formatter.for_type(cls, object_html)
    return True
