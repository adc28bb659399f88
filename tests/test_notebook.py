"""Notebook support: HTML views, and nothing heavy imported unless used."""

from __future__ import annotations

import subprocess
import sys

import kubesim
from kubesim import scenarios
from kubesim.notebook import object_html, register


def test_cluster_and_report_render_html() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=2)
    scenarios.deploy(cluster, "web", replicas=2)
    cluster.run()
    page = cluster._repr_html_()
    assert "<table>" in page and "EndpointSlice" in page and "seed 0" in page
    assert "<table" in cluster.churn()._repr_html_()
    ep = cluster.get("Endpoints", "web")
    view = object_html(ep)
    assert "Endpoints default/web" in view and ep.subsets[0].addresses[0].ip in view
    assert "<script" not in object_html(kubesim.Service(metadata=kubesim.ObjectMeta(name="<script>")))


def test_register_without_a_running_ipython_is_a_no_op() -> None:
    assert register() is False


def test_register_with_ipython_formats_api_objects() -> None:
    import pytest

    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactiveshell.InteractiveShell.instance()
    try:
        assert register() is True
        svc = kubesim.Service(metadata=kubesim.ObjectMeta(name="web", namespace="default"))
        data, _ = shell.display_formatter.format(svc)
        assert "Service default/web" in data["text/html"]
    finally:
        interactiveshell.InteractiveShell.clear_instance()


def test_importing_kubesim_imports_no_notebook_extra() -> None:
    code = "import sys, kubesim; print(sorted(m for m in ('pandas', 'matplotlib', 'IPython') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
