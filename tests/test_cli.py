"""Tests for the ``kubesim`` command line (:mod:`kubesim.__main__`).

Commands run in-process through ``main([...])`` with pytest's ``capsys``; one test runs
``python -m kubesim --help`` in a subprocess. Sizes are tiny so the file runs in seconds.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import inspect
import io
import ipaddress
import json
import os
import pathlib
import subprocess
import sys
import types
from typing import Any

import pytest
import yaml

import kubesim
from kubesim import __main__ as cli
from kubesim.__main__ import main
from kubesim.progress import Progress, advance
from kubesim.scenarios import rolling_update_churn

ROOT = pathlib.Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "examples" / "manifests"
DEPLOYMENT = str(MANIFESTS / "nginx-deployment.yaml")
SERVICE = str(MANIFESTS / "nginx-service.yaml")
FILES = ["-f", DEPLOYMENT, "-f", SERVICE]
POD_CIDR = ipaddress.ip_network("10.244.0.0/16")

SMALL = ["--pods", "4", "--nodes", "2", "--no-progress"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str) -> str:
    """The CLI's error contract: exactly one line on stderr, ``error: ...``, no traceback."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def library_cluster(*paths: str, seed: int = 0, nodes: int = 3) -> kubesim.Cluster:
    """What the CLI should have built: the public API, used directly."""
    cluster = kubesim.Cluster(seed=seed, nodes=nodes)
    for p in paths:
        cluster.apply_file(p)
    cluster.run()
    return cluster


# --------------------------------------------------------------------------------------------
# apply


def test_apply_prints_kubectl_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "apply", *FILES, "--no-progress")
    assert code == 0
    assert out == "deployment.apps/nginx-deployment created\nservice/nginx-service created\n"
    assert err == ""


def test_apply_unchanged_and_configured(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path) -> None:
    changed = tmp_path / "svc.yaml"
    changed.write_text(pathlib.Path(SERVICE).read_text().replace("port: 80", "port: 8080"))
    code, out, _ = run(capsys, "apply", "-f", SERVICE, "-f", SERVICE, "-f", str(changed), "--no-progress")
    assert code == 0
    assert out.splitlines() == [
        "service/nginx-service created",
        "service/nginx-service unchanged",
        "service/nginx-service configured",
    ]


def test_apply_directory_in_lexical_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "apply", "-f", str(MANIFESTS), "--no-progress")
    assert code == 0
    expected: list[str] = []
    for path in sorted(p for p in MANIFESTS.iterdir() if p.suffix in (".yaml", ".yml", ".json")):
        for obj in kubesim.load_yaml(path.read_text()):
            info = kubesim.kinds.KIND_INFO[obj.kind]
            prefix = f"{obj.kind.lower()}.{info.group}" if info.group else obj.kind.lower()
            expected.append(f"{prefix}/{obj.metadata.name} created")
    assert out.splitlines() == expected
    assert "endpoints/external-database-service created" in expected


def test_apply_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = pathlib.Path(SERVICE).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(capsys, "apply", "-f", "-", "--no-progress")
    assert (code, out) == (0, "service/nginx-service created\n")


def test_apply_namespace_flag(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path) -> None:
    # A fresh cluster has only the system namespaces (NamespaceLifecycle refuses the others).
    code, out, err = run(capsys, "get", "svc", "-n", "prod", "-o", "name", "-f", SERVICE, "--no-progress")
    assert code == 1 and 'namespaces "prod" not found' in assert_one_line_error(err)
    ns = tmp_path / "ns.yaml"
    ns.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n")
    code, out, _ = run(capsys, "get", "svc", "-n", "prod", "-o", "name", "-f", str(ns), "-f", SERVICE, "--no-progress")
    assert (code, out) == (0, "service/nginx-service\n")
    other = tmp_path / "other.yaml"
    other.write_text(pathlib.Path(SERVICE).read_text().replace("name: nginx-service", "name: x\n  namespace: dev"))
    code, out, err = run(capsys, "apply", "-n", "prod", "-f", str(other), "--no-progress")
    assert code == 1
    line = assert_one_line_error(err)
    assert 'the namespace from the provided object "dev" does not match the namespace "prod"' in line


# --------------------------------------------------------------------------------------------
# get / describe


def test_get_endpoints_table_has_two_addresses(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "get", "endpoints", *FILES, "--no-progress")
    assert code == 0 and err == ""
    header, row, *rest = out.splitlines()
    assert header.split() == ["NAME", "ENDPOINTS", "AGE"]
    assert rest == []
    name, endpoints, _age = row.split()
    assert name == "nginx-service"
    addresses = endpoints.split(",")
    assert len(addresses) == 2
    ips = []
    for a in addresses:
        ip, port = a.rsplit(":", 1)
        assert port == "80"
        assert ipaddress.ip_address(ip) in POD_CIDR
        ips.append(ip)
    pods = library_cluster(DEPLOYMENT, SERVICE).list("Pod", selector="app=nginx")
    assert sorted(ips) == sorted(p.status.pod_ip for p in pods)


def test_get_matches_library_kubectl(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = library_cluster(DEPLOYMENT, SERVICE)
    for argv in (["endpointslices", "-o", "wide"], ["pods", "--show-labels"], ["svc", "-A"]):
        code, out, _ = run(capsys, "get", *argv, *FILES, "--no-progress")
        assert code == 0
        assert out == cluster.kubectl(["get", *argv])


def test_get_endpointslices(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "get", "endpointslices", *FILES, "--no-progress")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    name, family, ports, endpoints, _age = row.split()
    assert name.startswith("nginx-service-")  # generateName: <service>-
    assert (family, ports) == ("IPv4", "80")
    assert len(endpoints.split(",")) == 2


def test_get_selector_and_output_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "get", "endpointslices", "-l", "kubernetes.io/service-name=nginx-service", "-o", "name", *FILES
    )
    assert code == 0
    [line] = out.splitlines()
    assert line.startswith("endpointslice.discovery.k8s.io/nginx-service-")


def test_get_yaml_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "get", "ep", "nginx-service", "-o", "yaml", *FILES)
    assert code == 0
    doc = yaml.safe_load(out)
    assert doc["kind"] == "Endpoints"
    assert len(doc["subsets"][0]["addresses"]) == 2


def test_get_without_resource_shows_the_files_objects(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "get", *FILES, "-o", "name")
    assert (code, out) == (0, "deployment.apps/nginx-deployment\nservice/nginx-service\n")
    code, out, _ = run(capsys, "get", *FILES)
    assert code == 0
    tables = out.split("\n\n")
    assert [t.splitlines()[1].split()[0] for t in tables] == ["nginx-deployment", "nginx-service"]
    assert tables[0].splitlines()[0].split()[:2] == ["NAME", "READY"]


def test_run_until_stops_early(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "get", "ep", "nginx-service", "--run-until", "0", *FILES)
    assert code == 0
    assert out.splitlines()[1].split()[1] == "<none>"  # no pod has started at t = 0


def test_same_command_same_output(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "get", "pods", "-o", "wide", "--seed", "7", *FILES)
    second = run(capsys, "get", "pods", "-o", "wide", "--seed", "7", *FILES)
    assert first == second and first[0] == 0


def test_describe_service(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "describe", "service", "nginx-service", *FILES)
    assert code == 0
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line and not line.startswith(" "))
    assert fields["Name"].strip() == "nginx-service"
    assert fields["Selector"].strip() == "app=nginx"
    assert len(fields["Endpoints"].strip().split(",")) == 2
    assert out == library_cluster(DEPLOYMENT, SERVICE).kubectl("describe service nginx-service").rstrip("\n") + "\n"


def test_get_not_found_is_kubectls_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "get", "ep", "nope", *FILES)
    assert (code, out) == (1, "")
    assert err == 'Error from server (NotFound): endpoints "nope" not found\n'


def test_get_help_says_state_is_not_kept(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("get", "describe", "apply"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        assert "keeps no cluster between invocations" in " ".join(out.split())


# --------------------------------------------------------------------------------------------
# churn and scenarios


def test_churn_prints_side_by_side_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "churn", "--pods", "6", "--nodes", "3", "--no-progress")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Rolling update of a 6-pod Deployment behind one Service on 3 nodes")
    assert lines[1].split() == ["Endpoints", "EndpointSlice", "Event"]
    writes = lines[2].split()
    assert writes[0] == "writes" and len(writes) == 4
    _, report = rolling_update_churn(pods=6, nodes=3)
    assert writes[1:] == [f"{report.kind(k).writes:,}" for k in ("Endpoints", "EndpointSlice", "Event")]


def test_default_command_is_churn(capsys: pytest.CaptureFixture[str]) -> None:
    explicit = run(capsys, "churn", "--pods", "3", "--nodes", "2", "--json")
    implicit = run(capsys, "--pods", "3", "--nodes", "2", "--json")
    assert explicit[:2] == implicit[:2]
    assert explicit[0] == 0
    json.loads(explicit[1])


def test_rolling_update_churn_signature() -> None:
    params = inspect.signature(rolling_update_churn).parameters
    assert {n: (p.kind, p.default) for n, p in params.items()} == {
        "pods": (inspect.Parameter.KEYWORD_ONLY, 200),
        "nodes": (inspect.Parameter.KEYWORD_ONLY, 100),
        "max_endpoints_per_slice": (inspect.Parameter.KEYWORD_ONLY, 100),
        "batch_period": (inspect.Parameter.KEYWORD_ONLY, 0.0),
        "seed": (inspect.Parameter.KEYWORD_ONLY, 0),
        "image": (inspect.Parameter.KEYWORD_ONLY, "nginx:1.26"),
        "max_surge": (inspect.Parameter.KEYWORD_ONLY, "25%"),
        "max_unavailable": (inspect.Parameter.KEYWORD_ONLY, "25%"),
        "events": (inspect.Parameter.KEYWORD_ONLY, True),
        "progress": (inspect.Parameter.KEYWORD_ONLY, None),
    }


def test_the_library_never_imports_the_cli() -> None:
    """Nothing under kubesim/ but the CLI itself imports kubesim.__main__ (issue 13)."""
    for path in (ROOT / "kubesim").rglob("*.py"):
        if path.name == "__main__.py":
            continue
        text = path.read_text()
        assert "kubesim.__main__" not in text.replace(":func:`kubesim.__main__", ""), path
        assert "from kubesim import __main__" not in text, path


def test_old_cli_names_still_import() -> None:
    assert cli.rolling_update_churn is rolling_update_churn
    assert cli.advance is advance and cli.Progress is Progress


@pytest.mark.parametrize("name", cli.SCENARIOS)
def test_every_scenario_prints_a_report(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, err = run(capsys, "scenario", name, *SMALL)
    assert code == 0, err
    lines = out.splitlines()
    assert "4-pod Deployment behind one Service on 2 nodes" in lines[0]
    # the report's columns: the two layouts, and the Event writes as a kind of their own
    assert lines[1].split() == ["Endpoints", "EndpointSlice", "Event"]
    assert lines[2].split()[0] == "writes"
    assert "Traceback" not in err
    # a demo's defaults show something: both layouts were written
    writes = lines[2].split()[1:3]
    assert all(int(w.replace(",", "")) > 0 for w in writes), (name, lines[2])


def test_flap_defaults_show_churn(capsys: pytest.CaptureFixture[str]) -> None:
    # the full default size: 5 of 200 pods flap, failing stretches averaging 30 s (the probe
    # notices a failure after 15 s); the old defaults (1 pod, 10 s) wrote nothing at all
    code, out, err = run(capsys, "scenario", "flap", "--json", "--no-progress")
    assert code == 0, err
    by_kind = json.loads(out)["by_kind"]
    for kind in ("Endpoints", "EndpointSlice"):
        assert by_kind[kind]["updates"] > 0 and by_kind[kind]["updates"] % 2 == 0  # each pod ends ready
    code, out, _ = run(capsys, "scenario", "flap", "--help")
    assert code == 0 and "(default 5, or every pod when there are fewer)" in " ".join(out.split())
    assert "mean failing stretch (default 30)" in out


def test_scenario_names_are_the_help_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scenario", "--help")
    assert code == 0
    for name in cli.SCENARIOS:
        assert f"    {name}" in out
    assert set(cli.SCENARIOS) == {"rollout", "scale", "fail-readiness", "flap", "fail-node", "drain"}


def test_scenario_json_matches_what_was_done(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scenario", "scale", "--replicas", "6", "--json", *SMALL)
    assert code == 0
    by_kind = json.loads(out)["by_kind"]
    # scaling 4 -> 6 adds two pods: Pods are created, Endpoints and EndpointSlices only updated
    assert by_kind["Pod"]["creates"] == 2
    assert by_kind["Endpoints"]["creates"] == 0 and by_kind["Endpoints"]["updates"] >= 1
    assert by_kind["EndpointSlice"]["updates"] >= 1
    code, out, _ = run(capsys, "scenario", "scale", "--replicas", "4", "--json", *SMALL)
    assert json.loads(out)["by_kind"].get("Pod", {}).get("creates", 0) == 0  # no change, no new pods


def test_scenario_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    a = run(capsys, "scenario", "drain", "--json", "--seed", "3", *SMALL)
    b = run(capsys, "scenario", "drain", "--json", "--seed", "3", *SMALL)
    assert a[:2] == b[:2] and a[0] == 0


def test_scenario_count_larger_than_pods_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scenario", "flap", "--count", "9", *SMALL)
    assert code == 2
    assert "--count 9" in assert_one_line_error(err)


def test_scenario_unknown_node_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # the cluster a scenario builds has node-1 ... node-N: another name is a bad option value
    for name in ("drain", "fail-node"):
        code, out, err = run(capsys, "scenario", name, "--node", "node-9", *SMALL)
        assert (code, out) == (2, "")
        assert assert_one_line_error(err) == (
            f"error: --node node-9: the cluster has node-1 ... node-2 (see 'kubesim scenario {name} --help')")
    code, _, err = run(capsys, "scenario", "drain", "--node", "node-2", *SMALL)
    assert code == 0, err


# --------------------------------------------------------------------------------------------
# reproduce


def test_reproduce_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "reproduce", "kep999")
    assert (code, out) == (2, "")
    line = assert_one_line_error(err)
    assert "invalid choice: 'kep999'" in line and "kep752" in line and "blog2020" in line


def test_reproduce_calls_the_module(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []

    def fake_main(name: str, **kwargs: Any) -> int:
        calls.append((name, kwargs))
        print("reproduced")
        return 3

    module = types.ModuleType("kubesim.reproduce")
    module.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kubesim.reproduce", module)
    monkeypatch.setattr(kubesim, "reproduce", module, raising=False)
    code, out, _ = run(capsys, "reproduce", "blog2020", "--json", "--scale", "0.5")
    assert (code, out) == (3, "reproduced\n")
    assert calls == [("blog2020", {"json": True, "scale": 0.5, "events": True})]
    run(capsys, "reproduce", "kep752")
    assert calls[-1] == ("kep752", {"json": False, "events": True})
    run(capsys, "reproduce", "kep752", "--no-events")
    assert calls[-1] == ("kep752", {"json": False, "events": False})
    run(capsys, "reproduce", "kep752", "--executor", "serial")
    assert calls[-1] == ("kep752", {"json": False, "events": True, "executor": "serial"})
    run(capsys, "reproduce", "kep752", "--workers", "3")
    name, kwargs = calls[-1]
    pool = kwargs.pop("executor")
    assert (name, kwargs) == ("kep752", {"json": False, "events": True})
    assert isinstance(pool, concurrent.futures.ProcessPoolExecutor) and pool._max_workers == 3


# --------------------------------------------------------------------------------------------
# errors: one line, exit 1 (or 2 for usage), never a traceback


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["apply", "-f", "/nonexistent/x.yaml"], 1, 'the path "/nonexistent/x.yaml" does not exist'),
        (["apply"], 2, "-f/--filename"),
        (["apply", "-f", SERVICE, "--nodes", "-1"], 2, "argument --nodes"),
        (["apply", "-f", SERVICE, "--seed", "x"], 2, "argument --seed"),
        (["apply", "-f", SERVICE, "--max-endpoints-per-slice", "1001"], 2, "between 1 and 1000"),
        (["apply", "-f", SERVICE, "--run-until", "-1"], 2, "argument --run-until"),
        (["get", "ep", "-o", "jsonpath", "-f", SERVICE], 1, "error: template format specified but no template given"),
        (["get", "widgets", "-f", SERVICE], 1, 'the server doesn\'t have a resource type "widgets"'),
        (["get"], 2, "Required resource not specified"),
        (["churn", "--pods", "-3"], 2, "argument --pods"),
        (["churn", "--batch-period", "nan"], 2, "argument --batch-period"),
        (["scenario", "explode"], 2, "invalid choice: 'explode'"),
        (["scenario"], 2, "NAME"),
        (["scenario", "rollout", "--max-surge", "lots"], 2, "argument --max-surge"),
        (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
        (["get", "ep", "--bogus"], 2, "unrecognized arguments: --bogus"),
        # one kind of mistake, one status: every value kubesim refuses before simulating is 2
        (["reproduce", "kep752", "--scale", "0"], 2, "argument --scale: must be a number > 0"),
        (["reproduce", "kep752", "--scale", "1.5"], 2, "argument --scale: must be a number in (0, 1]"),
        (["reproduce", "kep752", "--scale", "x"], 2, "argument --scale: invalid number"),
        (["sweep", "scale_up", "--set", "pods=2", "--seeds", "a,b", "--no-progress"], 2, "argument --seeds"),
        (["sweep", "scale_up", "--set", "podz=2", "--executor", "serial", "--no-progress"], 2,
         "unknown parameter 'podz'"),
        (["sweep", "scale_up", "--set", "pods=-1", "--executor", "serial", "--no-progress"], 2,
         "pods must be an integer >= 0"),
        (["scenario", "fail-node", "--node", "nope", *SMALL], 2, "--node nope"),
        (["scenario", "fail-readiness", "--count", "5", *SMALL], 2, "--count 5"),
        # the environment, not the command line: 1, found before the sweep runs
        (["sweep", "scale_up", "--set", "pods=2", "-o", "/nonexistent/dir/x.csv", "--no-progress"], 1,
         "the directory '/nonexistent/dir' does not exist"),
    ],
)
def test_usage_and_input_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, needle: str
) -> None:
    got, out, err = run(capsys, *argv)
    assert got == code
    assert out == ""
    assert needle in assert_one_line_error(err)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("kind: [\n", "error parsing"),
        ("apiVersion: v1\nkind: Widget\nmetadata:\n  name: a\n", 'no matches for kind "Widget"'),
        (
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n  - port: 70000\n",
            'Service "a" is invalid: ',
        ),
        ("", "no objects passed to apply"),
        ("# just a comment\n", "no objects passed to apply"),
    ],
)
def test_bad_manifests(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    # with a good file first: the bad one still fails the whole command (an empty file among
    # others is fine, as in kubectl: only no objects at all is an error)
    first = [] if "no objects" in needle else ["-f", SERVICE]
    code, out, err = run(capsys, "apply", *first, "-f", str(path))
    assert (code, out) == (1, "")  # nothing printed: the command failed as a whole
    line = assert_one_line_error(err)
    assert needle in line
    if "invalid" in needle:
        assert "spec.ports[0].port" in line


def test_invalid_selector_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "get", "ep", "-l", "a in", "-f", SERVICE)
    assert code == 1
    assert "unable to parse requirement" in assert_one_line_error(err)


@pytest.mark.parametrize(
    ("exc", "code", "expected"),
    [
        (kubesim.Conflict("Service", "web"), 1, "error: " + str(kubesim.Conflict("Service", "web"))),
        (kubesim.RequestTooLarge("Endpoints", "web", 2, 1), 1, "error: etcdserver: request is too large"),
        (kubesim.KubectlError("error: first\nSee 'kubectl get --help' for usage."), 1, "error: first"),
        (KeyboardInterrupt(), 130, "error: interrupted"),
        (RuntimeError("boom"), 1, "error: internal error: RuntimeError: boom"),
    ],
)
def test_exceptions_become_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    code: int,
    expected: str,
) -> None:
    def explode(*_: Any, **__: Any) -> Any:
        raise exc

    monkeypatch.delenv("KUBESIM_TRACEBACK", raising=False)
    monkeypatch.setattr(cli.scenarios, "rolling_update_churn", explode)
    got, out, err = run(capsys, "churn", "--no-progress")
    assert (got, out) == (code, "")
    assert assert_one_line_error(err).startswith(expected)


def test_traceback_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setenv("KUBESIM_TRACEBACK", "1")
    monkeypatch.setattr(cli.scenarios, "rolling_update_churn", explode)
    with pytest.raises(RuntimeError, match="boom"):
        main(["churn", "--no-progress"])


# --------------------------------------------------------------------------------------------
# progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_rate_limited_and_erased() -> None:
    ticks = iter(i * 0.01 for i in range(10_000))
    stream = FakeTTY()
    progress = Progress(stream, interval=0.1, timer=lambda: next(ticks))
    for i in range(100):  # 100 calls, 0.01 s apart: about one second of wall time
        progress.update(float(i), i)
    assert 8 <= progress.updates <= 11
    shown = stream.getvalue()
    assert shown.count("\r") == progress.updates
    assert "of virtual time" in shown and "writes" in shown
    progress.close()
    assert stream.getvalue().endswith("\r") and stream.getvalue()[len(shown) + 1 :].strip() == ""


def test_progress_in_a_log_is_one_line_per_update() -> None:
    ticks = iter(float(i) for i in range(100))
    stream = io.StringIO()
    progress = Progress(stream, interval=0.1, timer=lambda: next(ticks))
    progress.update(1.0, 10)
    progress.update(2.0, 2000)
    progress.close()
    assert "\r" not in stream.getvalue()
    assert stream.getvalue().splitlines()[-1].startswith("kubesim: 2.0 s of virtual time, 2,000 writes")


def test_advance_with_progress_changes_nothing() -> None:
    def simulate(progress: Progress | None) -> kubesim.Cluster:
        cluster = kubesim.Cluster(seed=5, nodes=2)
        cluster.apply_file(DEPLOYMENT)
        cluster.apply_file(SERVICE)
        advance(cluster, 1.5, progress)
        advance(cluster, None, progress)
        return cluster

    ticks = iter(float(i) for i in range(1_000_000))
    stream = FakeTTY()
    progress = Progress(stream, interval=0.0, timer=lambda: next(ticks))
    plain, stepped = simulate(None), simulate(progress)
    assert progress.updates >= 2 and "writes" in stream.getvalue()
    assert [(e.seq, e.time, e.verb, e.kind, e.name) for e in plain.changes] == [
        (e.seq, e.time, e.verb, e.kind, e.name) for e in stepped.changes
    ]
    assert plain.now == stepped.now


def test_advance_until_sets_the_clock() -> None:
    cluster = kubesim.Cluster(seed=0, nodes=1)
    advance(cluster, 42.0, Progress(io.StringIO()))
    assert cluster.now == 42.0
    with pytest.raises(kubesim.InvalidOption):
        advance(cluster, 1.0, Progress(io.StringIO()))


def test_progress_flag_on_a_pipe_keeps_stdout_clean(capsys: pytest.CaptureFixture[str]) -> None:
    with_progress = run(capsys, "apply", *FILES, "--progress")
    without = run(capsys, "apply", *FILES, "--no-progress")
    assert with_progress[:2] == without[:2]
    assert "\r" not in with_progress[2]


# --------------------------------------------------------------------------------------------
# the real process


def test_python_m_kubesim_help() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "kubesim", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: kubesim")
    for command in ("apply", "get", "describe", "churn", "scenario", "reproduce"):
        assert f"    {command}" in proc.stdout
    assert proc.stderr == ""


def test_empty_file_among_others_is_fine(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("---\n")
    code, out, err = run(capsys, "apply", "-f", str(empty), "-f", SERVICE)
    assert (code, out, err) == (0, "service/nginx-service created\n", "")


def test_rolling_update_report_holds_only_the_rollout() -> None:
    cluster, report = rolling_update_churn(pods=6, nodes=3)
    rollout = max(e.seq for e in cluster.changes if e.kind == "Deployment" and e.actor == "kubectl")
    for kind in ("Endpoints", "EndpointSlice"):
        after = [e for e in cluster.changes if e.kind == kind and e.seq > rollout and e.committed]
        assert report.kind(kind).writes == len(after) > 0


def test_reproduce_kep752_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "reproduce", "kep752", "--json", "--scale", "0.002")
    assert code == 0 and not err
    rows = json.loads(out)
    keys = {"case", "scenario", "layout", "metric", "kep", "idealised", "realistic"}
    assert rows and all(set(r) == keys for r in rows)
    assert {(r["case"], r["scenario"], r["layout"]) for r in rows} >= {("case1", "rolling_update", "slices_100")}


# --------------------------------------------------------------------------------------------
# reports that explain themselves, mistakes that are reported


def test_churn_prints_a_legend_and_an_interpretation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "churn", "--pods", "6", "--nodes", "3", "--no-progress")
    assert code == 0
    lines = out.splitlines()
    assert any(line.startswith("p99 latency: the 99th percentile") for line in lines)
    assert any(line.startswith("× information floor: bytes delivered / (watch events × 10 B)") for line in lines)
    assert any(line.startswith("units: bytes in decimal units") for line in lines)
    _, report = rolling_update_churn(pods=6, nodes=3)
    assert lines[-1] == report.interpretation()
    assert "Endpoints" in lines[-1] and "slice" in lines[-1]


def test_unschedulable_pods_are_an_error_not_zero_churn(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "churn", "--nodes", "0", "--pods", "20", "--no-progress")
    assert code == 1
    assert "could not be scheduled" in out  # the report's note
    assert "pod(s) could not be scheduled on 0 node(s)" in assert_one_line_error(err.splitlines()[-1] + "\n")


# --------------------------------------------------------------------------------------------
# kubectl's get flags, the sweep command


def test_get_passes_kubectls_new_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "get", "pods", "-L", "app", "--sort-by=.metadata.name", "--show-kind", *FILES, "--no-progress")
    assert code == 0, err
    lib = library_cluster(DEPLOYMENT, SERVICE).kubectl("get pods -L app --sort-by=.metadata.name --show-kind")
    assert out == lib and out.splitlines()[1].startswith("pod/")
    code, out, _ = run(capsys, "get", "deployments", "-o", "jsonpath={.items[*].spec.replicas}", *FILES, "--no-progress")
    assert (code, out) == (0, "2")
    code, out, _ = run(capsys, "get", "svc,ep", *FILES, "--no-progress")
    assert code == 0 and "service/nginx-service" in out and "endpoints/nginx-service" in out


def test_sweep_command_writes_rows_with_metadata(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path) -> None:
    out_file = tmp_path / "rows.json"
    code, out, err = run(capsys, "sweep", "scale_up", "--set", "pods=2,4", "--set", "nodes=2", "--seeds", "0,1",
                         "--executor", "thread", "-o", str(out_file), "--no-progress")
    assert code == 0, err
    saved = json.loads(out_file.read_text())
    assert saved["metadata"]["kubesim"] == kubesim.__version__
    assert saved["metadata"]["seeds"] == [0, 1] and saved["metadata"]["grid"] == {"pods": [2, 4], "nodes": [2]}
    python = kubesim.sweep("scale_up", {"pods": [2, 4], "nodes": [2]}, seeds=[0, 1], executor="serial")
    assert saved["rows"] == json.loads(python.to_json())["rows"]
    assert out.splitlines()[-1] == "scale_up: 4 points"
    csv_file = tmp_path / "rows.csv"
    assert run(capsys, "sweep", "scale_up", "--set", "pods=2", "--set", "nodes=1", "--executor", "serial",
               "-o", str(csv_file), "--no-progress")[0] == 0
    first, header = csv_file.read_text().splitlines()[:2]
    assert first.startswith("# kubesim-sweep: ") and json.loads(first[len("# kubesim-sweep: "):])["kubesim"]
    assert header.split(",")[:2] == ["pods", "nodes"]


def test_sweep_command_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sweep", "scale_up", "--set", "pods", "--no-progress")
    assert code == 2 and "--set" in assert_one_line_error(err)
    code, _, err = run(capsys, "sweep", "nope", "--no-progress")
    assert code == 2
    code, _, err = run(capsys, "sweep", "scale_up", "--set", "pods=2", "-o", "x.txt", "--no-progress")
    assert code == 2 and ".csv" in assert_one_line_error(err)


# --------------------------------------------------------------------------------------------
# kubesim kubectl: the commands that write, in order, on one fresh cluster


def _library_transcript(commands: list[str], *, wait: float | None = None, echo: bool = False) -> str:
    """What 'kubesim kubectl' should print: the public API, used directly."""
    cluster = library_cluster(DEPLOYMENT, SERVICE)
    out = []
    for command in commands:
        if echo:
            out.append(f"$ kubectl {command}\n")
        out.append(cluster.kubectl(command))
        cluster.run() if wait is None else cluster.run(until=cluster.now + wait)
    return "".join(out)


KUBECTL_SESSION = [
    "scale deployment/nginx-deployment --replicas=3",
    "get endpointslices",
    "set image deployment/nginx-deployment nginx=nginx:1.27",
    "rollout status deployment/nginx-deployment",
    "rollout history deployment/nginx-deployment",
    "label deployment nginx-deployment tier=web",
    "annotate service nginx-service team=edge",
    "patch deployment nginx-deployment -p '{\"spec\":{\"replicas\":1}}'",
    "get pods -o wide",
    "describe deployment nginx-deployment",
    "rollout undo deployment/nginx-deployment",
    "get endpoints nginx-service",
    "delete service nginx-service",
    "get endpointslices",
]


def test_kubectl_command_runs_the_session_as_the_library_does(capsys: pytest.CaptureFixture[str]) -> None:
    import shlex

    argv = [w for c in KUBECTL_SESSION for w in ["--", *shlex.split(c)]]
    code, out, err = run(capsys, "kubectl", *FILES, "--no-progress", *argv)
    assert code == 0, err
    # cluster.kubectl() returns the terminal's text; the CLI writes kubectl's stderr to stderr
    assert out + err == _library_transcript(KUBECTL_SESSION)
    # what each write did shows in the next command's output
    assert "deployment.apps/nginx-deployment scaled\n" in out and "deployment.apps/nginx-deployment patched\n" in out
    assert 'deployment "nginx-deployment" successfully rolled out\n' in out
    assert "service \"nginx-service\" deleted\n" in out
    assert err == "No resources found in default namespace.\n"  # the last get, after the delete
    # --echo labels each command; the first '--' may be left out
    code, out, _ = run(capsys, "kubectl", *FILES, "--no-progress", "--echo", "scale", "deployment/nginx-deployment",
                       "--replicas=3", "--", "get", "endpointslices")
    assert code == 0
    assert out == _library_transcript(KUBECTL_SESSION[:2], echo=True)
    assert out.startswith("$ kubectl scale deployment/nginx-deployment --replicas=3\ndeployment.apps/")


def test_kubectl_command_wait_runs_only_that_much_time(capsys: pytest.CaptureFixture[str]) -> None:
    commands = ["set image deployment/nginx-deployment nginx=nginx:1.27", "get pods"]
    code, out, _ = run(capsys, "kubectl", *FILES, "--no-progress", "--wait", "1", "--", *commands[0].split(),
                       "--", *commands[1].split())
    assert code == 0
    assert out == _library_transcript(commands, wait=1)
    assert out != _library_transcript(commands)  # mid-rollout, not settled


def test_kubectl_command_stops_at_the_first_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "kubectl", *FILES, "--no-progress", "--", "get", "svc", "--",
                         "scale", "deployment/nope", "--replicas=3", "--", "get", "pods")
    assert code == 1
    assert out.startswith("NAME") and "nginx-service" in out and "nginx-deployment-" not in out  # no 'get pods'
    assert err == 'Error from server (NotFound): deployments.apps "nope" not found\n'
    # kubectl's own mistakes: its message, one line, status 1; a missing command is a usage error
    code, out, err = run(capsys, "kubectl", *FILES, "--no-progress", "--", "frobnicate")
    assert (code, out) == (1, "") and assert_one_line_error(err) == 'error: unknown command "frobnicate" for "kubectl"'
    code, out, err = run(capsys, "kubectl", *FILES, "--no-progress", "--", "patch", "deploy/nginx-deployment", "-p", "{bad")
    assert (code, out) == (1, "")
    assert assert_one_line_error(err).startswith('error: unable to parse "{bad": yaml: line 1: ')
    for argv in ([], ["--"], ["--", "get", "pods", "--"]):
        code, out, err = run(capsys, "kubectl", *FILES, "--no-progress", *argv)
        assert (code, out) == (2, "") and "a kubectl command is required after --" in assert_one_line_error(err)


def test_kubectl_command_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "kubesim kubectl -f examples/manifests/ -- scale deployment/nginx-deployment" in out
    code, out, _ = run(capsys, "kubectl", "--help")
    assert code == 0 and "--wait SECONDS" in out and "--echo" in out and "rollout status|restart|undo|history" in out
    readme = (ROOT / "README.md").read_text()
    assert "kubesim kubectl -f" in readme


def test_kubectl_command_json_patch(capsys: pytest.CaptureFixture[str]) -> None:
    ops = '[{"op": "test", "path": "/spec/replicas", "value": 2}, {"op": "replace", "path": "/spec/replicas", "value": 4}]'
    code, out, err = run(capsys, "kubectl", *FILES, "--no-progress", "--", "patch", "deployment", "nginx-deployment",
                         "--type", "json", "-p", ops, "--", "get", "deployment", "-o", "jsonpath={.items[0].status.readyReplicas}")
    assert (code, out, err) == (0, "deployment.apps/nginx-deployment patched\n4", "")
    # run twice: the RFC 6902 test now fails, as the API server answers it
    code, out, err = run(capsys, "kubectl", *FILES, "--no-progress", "--", "patch", "deployment", "nginx-deployment",
                         "--type", "json", "-p", ops, "--", "patch", "deployment", "nginx-deployment", "--type", "json",
                         "-p", ops)
    assert code == 1 and out == "deployment.apps/nginx-deployment patched\n"
    assert err == "The request is invalid: testing value /spec/replicas failed\n"  # kubectl's line, verbatim


@pytest.mark.parametrize("resource", ["deployment", "replicaset", "node node-1", "namespace default", "pods"])
def test_describe_new_kinds_match_the_library(capsys: pytest.CaptureFixture[str], resource: str) -> None:
    code, out, err = run(capsys, "describe", *resource.split(), *FILES, "--no-progress")
    assert code == 0, err
    want = library_cluster(DEPLOYMENT, SERVICE).kubectl(f"describe {resource}")
    assert out == (want if want.endswith("\n") else want + "\n")
    assert out.startswith("Name:")


# --------------------------------------------------------------------------------------------
# --no-events


def _subparser(*path: str) -> Any:
    parser: Any = cli._parser()
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize(
    "path", [("churn",), ("reproduce",), ("sweep",), *(("scenario", name) for name in cli.SCENARIOS)]
)
def test_no_events_flag_and_its_help(path: tuple[str, ...]) -> None:
    actions = [a for a in _subparser(*path)._actions if "--no-events" in a.option_strings]
    assert len(actions) == 1, path
    assert actions[0].default is False
    assert actions[0].help.startswith(cli._NO_EVENTS_CLAIM)
    assert cli._NO_EVENTS_HELP == (
        "do not write Events (faster; the Endpoints/EndpointSlice figures are unchanged but for resourceVersion digits)"
    )


def _by_kind(out: str) -> dict[str, dict[str, int]]:
    by_kind: dict[str, dict[str, int]] = json.loads(out)["by_kind"]
    return by_kind


@pytest.mark.parametrize("argv", [("churn",), (), ("scenario", "rollout"), ("scenario", "fail-node")])
def test_no_events_keeps_the_endpoint_columns_but_for_resource_version_digits(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    """The claim of --no-events's help, on the command's own JSON report: no Event column, the
    same Endpoints/EndpointSlice counts, bytes smaller by at most a resourceVersion digit a write
    (tests/test_scenarios.py checks it record by record)."""
    options = ["--pods", "6", "--nodes", "3", "--json", "--no-progress"]
    code, with_events, err = run(capsys, *argv, *options)
    assert code == 0, err
    code, without, err = run(capsys, *argv, *options, "--no-events")
    assert code == 0, err
    on, off = _by_kind(with_events), _by_kind(without)
    assert on["Event"]["writes"] > 0 and "Event" not in off
    for kind in ("Endpoints", "EndpointSlice"):
        for column in ("creates", "updates", "deletes", "writes", "watch_events", "failed_attempts"):
            assert on[kind][column] == off[kind][column], (kind, column)
        for column, per in (("bytes_written", on[kind]["writes"]), ("bytes_delivered", on[kind]["watch_events"])):
            assert 0 <= on[kind][column] - off[kind][column] <= 2 * per, (kind, column)
    _, report = rolling_update_churn(pods=6, nodes=3, events=False)
    if argv in ((), ("churn",)):
        assert off == json.loads(report.to_json())["by_kind"]


def test_sweep_events_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["sweep", "rolling_update", "--set", "pods=4", "--set", "nodes=2", "--executor", "serial", "--no-progress"]
    code, out, err = run(capsys, *base, "--set", "events=false")
    assert code == 0, err
    python = kubesim.sweep("rolling_update", {"pods": [4], "nodes": [2], "events": [False]}, executor="serial")
    assert out == f"{python}\n"
    assert out.splitlines()[1].split()[:3] == ["pods", "nodes", "events"]
    code, flag_out, err = run(capsys, *base, "--no-events")
    assert (code, flag_out) == (0, out), err
    code, _, err = run(capsys, *base, "--set", "events=1")
    assert code == 2 and "events must be True or False, got 1" in assert_one_line_error(err)
    code, _, err = run(capsys, *base, "--set", "events=false", "--no-events")
    assert code == 2 and "not both" in assert_one_line_error(err)
