"""A notebook executed in a real Jupyter kernel (nbclient + ipykernel), as a reader runs one.

No ``%matplotlib`` magic, and ``MPLBACKEND=Agg`` so that matplotlib's inline backend cannot help:
every rich output below comes from kubesim's own reprs. The cells build a small cluster with a
progress bar, show the change log, an API object, the cluster and a churn report as HTML, plot
the report and a sweep inline (``image/png``), and save the notebook so a failure can be read.
One kernel, a few seconds of work.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

CELLS = {
    "run": (
        "import kubesim\n"
        "from kubesim import scenarios\n"
        "cluster = kubesim.Cluster(seed=0, nodes=3, max_endpoints_per_slice=4)\n"
        "scenarios.deploy(cluster, 'web', replicas=6)\n"
        "cluster.run(until=30.0, progress=True)"
    ),
    "log": "cluster.changes",
    "object": "cluster.get('Endpoints', 'web')",
    "cluster": "cluster",
    "measure": (
        "with cluster.measure() as m:\n"
        "    scenarios.set_image(cluster, 'web', 'nginx:1.27')\n"
        "    cluster.run()\n"
        "report = m.churn()\n"
        "report"
    ),
    "plot": "report.plot()",
    "sweep": (
        "result = kubesim.sweep('scale_up', {'pods': [4, 8], 'max_endpoints_per_slice': [2, 100]}, "
        "executor='serial', progress=True)\n"
        "result"
    ),
    "sweep_plot": "result.plot('pods', 'bytes_delivered', hue='max_endpoints_per_slice')",
    "backend": "import matplotlib, sys\n(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)",
}


def _execute(cells: dict[str, str], work: Path, **env_changes: str | None) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, metadata={"name": name}) for name, src in cells.items()]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    try:
        client.execute(env=env)
    finally:
        nbformat.write(nb, work / "executed.ipynb")
    return {cell.metadata["name"]: cell for cell in nb.cells}


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _execute(CELLS, tmp_path_factory.mktemp("nb"), MPLBACKEND="Agg")


def _result(cell: Any) -> dict[str, Any]:
    results = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
    assert len(results) == 1, cell.outputs
    data: dict[str, Any] = results[0]["data"]
    return data


def _stderr(cell: Any) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")


def _progress(cell: Any) -> str:
    widgets = [o for o in cell.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    if widgets:  # tqdm's notebook bar (with ipywidgets installed)
        return "widget"
    return _stderr(cell)


def test_progress_bar_shows_in_the_cell(executed: dict[str, Any]) -> None:
    shown = _progress(executed["run"])
    # without ipywidgets tqdm's text bar goes to the cell's stderr: virtual time, percent, writes
    assert shown == "widget" or ("kubesim:" in shown and "100%" in shown and "30.0/30.0 s virtual" in shown
                                 and "writes=" in shown), shown
    sweep = _progress(executed["sweep"])
    assert sweep == "widget" or "4/4" in sweep, sweep


def test_change_log_cluster_and_objects_render_as_html(executed: dict[str, Any]) -> None:
    log = _result(executed["log"])
    assert "<table" in log["text/html"] and "EndpointSlice" in log["text/html"]
    assert log["text/plain"].startswith("<ChangeLog")
    obj = _result(executed["object"])["text/html"]
    assert "Endpoints default/web" in obj and "<pre>" in obj and "kind: Endpoints" in obj
    page = _result(executed["cluster"])["text/html"]
    assert "kubesim.Cluster" in page and "seed 0" in page


def test_report_and_sweep_render_as_html(executed: dict[str, Any]) -> None:
    report = _result(executed["measure"])["text/html"]
    assert "<table>" in report and "p99 latency" in report and "information floor" in report
    sweep = _result(executed["sweep"])
    assert "<b>SweepResult</b> scale_up: 4 points" in sweep["text/html"]
    assert sweep["text/plain"].startswith("<SweepResult scenario='scale_up'")


@pytest.mark.parametrize("name", ["plot", "sweep_plot"])
def test_plots_show_inline_without_magic(executed: dict[str, Any], name: str) -> None:
    data = _result(executed[name])
    png = base64.b64decode(data["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert data["text/plain"].startswith("<")  # matplotlib's own '<InlineFigure size ... with N Axes>'


def test_the_kernel_had_no_inline_backend(executed: dict[str, Any]) -> None:
    # Agg, and pyplot never imported: the PNGs above came from kubesim's figures themselves
    assert _result(executed["backend"])["text/plain"].lower() == "('agg', false)"


def test_the_executed_notebook_is_saved(executed: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    saved = list(Path(tmp_path_factory.getbasetemp()).glob("nb*/executed.ipynb"))
    assert saved and nbformat.read(saved[0], as_version=4).cells[0].outputs


def test_a_plot_shows_inline_under_jupyters_default_backend(tmp_path: Path) -> None:
    # the kernel's own default (matplotlib-inline), still without %matplotlib: one image, not two
    cells = {
        "plot": "import kubesim\nfrom kubesim import scenarios\ncluster = kubesim.Cluster(seed=0, nodes=2)\n"
                "scenarios.deploy(cluster, 'web', replicas=3)\ncluster.run()\ncluster.churn().plot()",
        "backend": "import matplotlib\nmatplotlib.get_backend()",
    }
    done = _execute(cells, tmp_path, MPLBACKEND=None)
    assert "inline" in _result(done["backend"])["text/plain"]
    assert base64.b64decode(_result(done["plot"])["image/png"]).startswith(b"\x89PNG")
