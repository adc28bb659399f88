"""The ``kubesim`` command line (also ``python -m kubesim``).

``kubesim`` with no arguments runs the main job: the churn comparison of a rolling update on an
embedded default workload, Endpoints versus EndpointSlices, printed side by side.

Subcommands, shaped like kubectl's where the two overlap:

* ``kubesim apply -f FILE ...`` -- build a seeded cluster, ``kubectl apply`` the files, run the
  controllers to completion and print what ``kubectl apply`` prints
  (``deployment.apps/nginx-deployment created``);
* ``kubesim get RESOURCE [NAME ...] -f FILE ...`` and ``kubesim describe RESOURCE [NAME ...]
  -f FILE ...`` -- the same, then print ``kubectl get`` / ``kubectl describe`` output;
* ``kubesim kubectl -f FILE ... -- COMMAND ... [-- COMMAND ...]`` -- the same, then run kubectl
  commands in order, the writing ones too (``scale``, ``set image``, ``rollout``, ``patch``,
  ``delete``, ...), letting the controllers settle after each, and print what each prints;
* ``kubesim churn`` -- the rolling-update churn comparison (the default command);
* ``kubesim scenario NAME`` -- a ready-made workload (``rollout``, ``scale``,
  ``fail-readiness``, ``flap``, ``fail-node``, ``drain``) and the churn report of what it did;
* ``kubesim reproduce NAME`` -- a published measurement reproduced (``kep752``, ``blog2020``);
* ``kubesim serve`` -- one live cluster behind the Kubernetes API, for real kubectl
  (:mod:`kubesim.serve`; the one command that keeps a cluster running).

A simulator keeps no cluster between invocations: every command rebuilds its state from the
files and the seed, so the same command line prints the same text every time.

Exit status: 0 on success; 1 when the simulation or kubectl reports an error (bad manifest,
invalid object, missing file, ``Error from server (NotFound)``); 2 for command-line usage errors
(unknown option, bad option value, unknown scenario), as argparse does; 130 when interrupted.
Errors are one line, ``error: ...``, on stderr; set ``KUBESIM_TRACEBACK=1`` to see the Python
traceback of an unexpected failure instead.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from kubesim import scenarios
from kubesim.errors import InvalidOption, KubectlError, KubesimError, ManifestError, NotFound
from kubesim.kinds import KIND_INFO
from kubesim.progress import Progress, ProgressBar, Reporter, advance
from kubesim.scenarios import rolling_update_churn

if TYPE_CHECKING:  # pragma: no cover
    from kubesim.cluster import Cluster
    from kubesim.kubectl.write import Applied
    from kubesim.report import ChurnReport

# rolling_update_churn, advance and Progress are library names (kubesim.scenarios,
# kubesim.progress), re-exported here for callers of the old locations.
__all__ = ["main", "rolling_update_churn", "advance", "Progress", "CLIError"]

PROG = "kubesim"
SCENARIOS = tuple(scenarios.MEASURED)
REPRODUCTIONS = ("kep752", "blog2020")
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C

_NO_PERSISTENCE = (
    "kubesim is a simulator and keeps no cluster between invocations: every command builds a "
    "fresh cluster (--seed, --nodes), applies the files given with -f in order, runs the "
    "controllers until nothing is pending (or until --run-until seconds of virtual time), then "
    "prints. The same command line always prints the same text."
)


# --------------------------------------------------------------------------------------------
# errors


class CLIError(Exception):
    """A failure reported as one line ``error: <message>`` and exit status :attr:`code`."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error raises :class:`CLIError` (status 2, one line) instead of
    printing the usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see '{self.prog} --help')", EXIT_USAGE)


def _one_line(message: str) -> str:
    """An error message as one line: kubectl's own ``error: ...`` line when it has one."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    if not lines:
        return "error: unknown error"
    for line in lines:
        if line.startswith("error: "):
            return line
    text = " ".join(lines)
    return text if text.startswith("error: ") else f"error: {text}"


# --------------------------------------------------------------------------------------------
# option types (argparse turns their ValueError/ArgumentTypeError into a usage error)


def _int_at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer value: {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def _float_at_least(low: float, *, strict: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"must be a number {'>' if strict else '>='} {low:g}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def _int_or_percent(text: str) -> int | str:
    """``maxSurge``/``maxUnavailable``: an integer or a percentage (``25%``)."""
    body = text[:-1] if text.endswith("%") else text
    if not body.isdigit():
        raise argparse.ArgumentTypeError(f"must be an integer or a percentage like 25%, got {text!r}")
    return text if text.endswith("%") else int(text)


def _fraction(text: str) -> float:
    """``0 < X <= 1`` (``reproduce --scale``)."""
    value = _float_at_least(0.0, strict=True)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}")
    return value


def _seed_list(text: str) -> list[int]:
    """``S1,S2,...``: integers (``sweep --seeds``)."""
    try:
        return [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers S1,S2,..., got {text!r}") from None


_non_negative_int = _int_at_least(0)
_positive_int = _int_at_least(1)
_nodes_int = _int_at_least(0, 100_000)
_endpoints_per_slice = _int_at_least(1, 1000)
_non_negative_float = _float_at_least(0.0)
_positive_float = _float_at_least(0.0, strict=True)


# --------------------------------------------------------------------------------------------
# progress


def _progress_for(args: argparse.Namespace) -> Reporter | None:
    """The CLI's progress display: tqdm's bar on a terminal, the plain line when ``--progress``
    is asked for elsewhere (a log file), nothing with ``--no-progress``."""
    enabled = getattr(args, "progress", None)
    try:
        tty = bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        tty = False
    if enabled is None:
        enabled = tty
    if not enabled:
        return None
    return ProgressBar(file=sys.stderr, leave=False) if tty else Progress(sys.stderr)


def _close(progress: Reporter | None) -> None:
    if progress is not None:
        progress.close()


# --------------------------------------------------------------------------------------------
# the main job and the scenarios (the workloads live in kubesim.scenarios; here, their titles)


def _workload_description(args: argparse.Namespace) -> str:
    return (
        f"a {args.pods}-pod Deployment behind one Service on {args.nodes} nodes "
        f"(seed {args.seed}, max {args.max_endpoints_per_slice} endpoints per slice, "
        f"batch period {args.batch_period:g} s)"
    )


def _common(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "pods": args.pods,
        "nodes": args.nodes,
        "max_endpoints_per_slice": args.max_endpoints_per_slice,
        "batch_period": args.batch_period,
        "seed": args.seed,
        "events": not args.no_events,
    }


def _print_report(args: argparse.Namespace, title: str, cluster: Cluster, report: ChurnReport, t0: float) -> None:
    if args.json:
        print(report.to_json())
        return
    print(title)
    print(report)
    print(report.interpretation())
    sys.stdout.flush()
    print(f"[simulated {cluster.now:.1f} s of cluster time in {time.perf_counter() - t0:.1f} s]", file=sys.stderr)


def _check_scheduled(cluster: Cluster) -> None:
    """Pods that never found a node are a mistake in the command (``--nodes 0``, say), not a
    workload that costs nothing: exit 1 after the report, with the count."""
    pending = [p for p in cluster.list("Pod", None) if not p.spec.node_name and p.metadata.deletion_timestamp is None]
    if pending:
        nodes = len(cluster.list("Node", None))
        raise CLIError(
            f"{len(pending):,} pod(s) could not be scheduled on {nodes:,} node(s), so the report counts none of "
            "their endpoints (give more --nodes)"
        )


def _cmd_churn(args: argparse.Namespace, progress: Reporter | None) -> int:
    t0 = time.perf_counter()
    cluster, report = scenarios.rolling_update_churn(**_common(args), progress=progress)
    _close(progress)
    _print_report(args, f"Rolling update of {_workload_description(args)}", cluster, report, t0)
    _check_scheduled(cluster)
    return 0


def _scenario_options(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The scenario's own keyword arguments and the title of its report."""
    name = args.scenario
    if name == "flap" and args.count is None:
        args.count = min(5, args.pods) or 1
    if name in ("fail-readiness", "flap") and args.count > args.pods:
        raise CLIError(f"--count {args.count} is more than the {args.pods} pods running (see '{args.prog} --help')", EXIT_USAGE)
    if name in ("fail-node", "drain") and args.node not in {f"node-{i}" for i in range(1, args.nodes + 1)}:
        have = "no nodes" if args.nodes == 0 else "node-1" if args.nodes == 1 else f"node-1 ... node-{args.nodes}"
        raise CLIError(f"--node {args.node}: the cluster has {have} (see '{args.prog} --help')", EXIT_USAGE)
    w = _workload_description(args)
    if name == "rollout":
        return (
            {"image": args.image, "max_surge": args.max_surge, "max_unavailable": args.max_unavailable},
            f"Rolling update to {args.image} (maxSurge {args.max_surge}, maxUnavailable {args.max_unavailable}) of {w}",
        )
    if name == "scale":
        replicas = 2 * args.pods if args.replicas is None else args.replicas
        return {"replicas": replicas}, f"Scale to {replicas} replicas of {w}"
    if name == "fail-readiness":
        return (
            {"count": args.count, "duration": args.duration},
            f"Readiness failing for {args.duration:g} s on {args.count} pod(s) of {w}",
        )
    if name == "flap":
        return (
            {"count": args.count, "mean_up": args.mean_up, "mean_down": args.mean_down, "duration": args.duration},
            f"Readiness flapping (mean up {args.mean_up:g} s, mean down {args.mean_down:g} s) for "
            f"{args.duration:g} s on {args.count} pod(s) of {w}",
        )
    if name == "fail-node":
        what = f"Node {args.node} failing"
        if args.recover_after is not None:
            what += f" and recovering after {args.recover_after:g} s"
        return {"node": args.node, "recover_after": args.recover_after}, f"{what} under {w}"
    assert name == "drain", name
    return {"node": args.node}, f"Drain of node {args.node} under {w}"


def _cmd_scenario(args: argparse.Namespace, progress: Reporter | None) -> int:
    t0 = time.perf_counter()
    options, title = _scenario_options(args)
    cluster, report = scenarios.MEASURED[args.scenario](**_common(args), **options, progress=progress)
    _close(progress)
    _print_report(args, title, cluster, report, t0)
    _check_scheduled(cluster)
    return 0


# --------------------------------------------------------------------------------------------
# apply / get / describe


@attrs.frozen
class _Source:
    name: str  #: the path as given, or ``STDIN``
    data: bytes


_MANIFEST_EXTENSIONS = (".json", ".yaml", ".yml")


def _read_path(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CLIError(f"error reading {path}: {exc.strerror or exc}") from None


def _sources(filenames: Sequence[str], recursive: bool) -> list[_Source]:
    """The contents of every ``-f`` argument, in order. A directory contributes its
    ``.json``/``.yaml``/``.yml`` files in lexical order (its subdirectories too with ``-R``), as
    kubectl's file visitor does; ``-`` is standard input."""
    out: list[_Source] = []
    for name in filenames:
        if name == "-":
            stdin: Any = sys.stdin
            if stdin is None:
                raise CLIError("-f -: there is no standard input")
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")
            out.append(_Source("STDIN", data))
        elif os.path.isdir(name):
            found: list[str] = []
            for root, dirs, files in os.walk(name):
                dirs.sort()
                if not recursive:
                    dirs.clear()
                found += [os.path.join(root, f) for f in sorted(files) if f.endswith(_MANIFEST_EXTENSIONS)]
            if not found:
                raise CLIError(f"error reading {name}: recognized file extensions are [.json .yaml .yml]")
            out += [_Source(path, _read_path(path)) for path in found]
        elif not os.path.exists(name):
            raise CLIError(f'the path "{name}" does not exist')
        else:
            out.append(_Source(name, _read_path(name)))
    return out


def _parse_sources(sources: Sequence[_Source], namespace: str | None) -> list[tuple[str, Any]]:
    """Every object of every source, decoded and validated before anything is applied, with
    ``namespace`` (``-n``) filled in where a namespaced object names none."""
    from kubesim import manifests

    objs: list[tuple[str, Any]] = []
    for src in sources:
        try:
            decoded = manifests.load_yaml(src.data)
        except ManifestError as exc:
            raise CLIError(f"error parsing {src.name}: {exc}") from None
        for obj in decoded:
            info = KIND_INFO[obj.kind]
            if namespace and info.namespaced:
                own = obj.metadata.namespace
                if own and own != namespace:
                    raise CLIError(
                        f'the namespace from the provided object "{own}" does not match the namespace '
                        f'"{namespace}". You must pass \'--namespace={own}\' to perform this operation.'
                    )
                if not own:
                    obj = attrs.evolve(obj, metadata=attrs.evolve(obj.metadata, namespace=namespace))
            objs.append((src.name, obj))
    return objs


def _build_and_apply(args: argparse.Namespace, progress: Reporter | None, *, require_objects: bool) -> tuple[Cluster, list[Applied]]:
    import warnings

    import kubesim
    from kubesim import model_warnings
    from kubesim.kubectl.write import apply_objects

    filenames = args.filename or []
    with model_warnings.collecting() as seen:
        objs = _parse_sources(_sources(filenames, args.recursive), getattr(args, "namespace", None))
    if not objs and (require_objects or filenames):
        raise CLIError("no objects passed to apply")
    cluster = kubesim.Cluster(
        seed=args.seed,
        nodes=args.nodes,
        max_endpoints_per_slice=args.max_endpoints_per_slice,
        dual_stack=args.dual_stack,
    )
    # What kubesim does not model, as kubectl prints the API server's warnings.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", kubesim.ModelWarning)
        try:  # kubectl apply's own loop; the first failure stops the command
            applied = apply_objects(cluster, objs)
        except KubectlError as exc:
            raise CLIError(str(exc)) from None
        model_warnings.emit([o for _, o in objs], seen, objects=False)
    for w in caught:
        if issubclass(w.category, kubesim.ModelWarning):
            sys.stderr.write(f"Warning: {w.message}\n")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    advance(cluster, args.run_until, progress)
    _close(progress)
    return cluster, applied


def _cmd_apply(args: argparse.Namespace, progress: Reporter | None) -> int:
    _, applied = _build_and_apply(args, progress, require_objects=True)
    for a in applied:
        print(a.line)
    return 0


def _emit(stdout: str, stderr: str) -> None:
    if stdout:
        sys.stdout.write(stdout)
        sys.stdout.flush()
    if stderr:
        sys.stderr.write(stderr)


def _kubectl_flags(args: argparse.Namespace, *, get: bool) -> list[str]:
    flags: list[str] = []
    if args.namespace:
        flags.append(f"--namespace={args.namespace}")
    if args.all_namespaces:
        flags.append("--all-namespaces")
    if args.selector is not None:
        flags.append(f"--selector={args.selector}")
    if get:
        if args.output:
            flags.append(f"--output={args.output}")
        if args.show_labels:
            flags.append("--show-labels")
        if args.no_headers:
            flags.append("--no-headers")
        flags += [f"--label-columns={k}" for k in args.label_columns]
        if args.sort_by:
            flags.append(f"--sort-by={args.sort_by}")
        if args.show_kind:
            flags.append("--show-kind")
    return flags


def _kubectl_run(cluster: Cluster, argv: list[str]) -> tuple[str, str, int]:
    from kubesim import kubectl

    out = kubectl.run(argv, store=cluster.api, now=cluster.now_unix)
    return out.stdout, out.stderr, out.exit_code


def _get_applied(cluster: Cluster, applied: Sequence[Applied], args: argparse.Namespace) -> int:
    """``kubectl get -f FILE``: the objects the files define, one table per run of one kind."""
    from kubesim import manifests

    if args.selector is not None or args.all_namespaces:
        raise CLIError("a resource type is required with --selector or --all-namespaces (see 'kubesim get --help')", EXIT_USAGE)
    seen: set[tuple[str, str, str]] = set()
    unique: list[Applied] = []
    for a in applied:
        key = (a.kind, a.namespace, a.name)
        if key not in seen:
            seen.add(key)
            unique.append(a)
    if args.output in ("yaml", "json"):
        objs = []
        errors = []
        for a in unique:
            obj = cluster.api.try_get(a.kind, a.name, a.namespace)
            if obj is None:
                errors.append(f"Error from server (NotFound): {NotFound(a.kind, a.name, a.namespace)}\n")
            else:
                objs.append(obj)
        dump = manifests.dump_yaml if args.output == "yaml" else manifests.dump_json
        text = "" if not objs else dump(objs[0] if len(unique) == 1 else objs)
        _emit(text, "".join(errors))
        return EXIT_ERROR if errors else 0
    runs: list[tuple[str, str, list[str]]] = []
    for a in unique:
        if runs and runs[-1][0] == a.kind and runs[-1][1] == a.namespace:
            runs[-1][2].append(a.name)
        else:
            runs.append((a.kind, a.namespace, [a.name]))
    stdout: list[str] = []
    stderr: list[str] = []
    code = 0
    for kind, ns, names in runs:
        flags = [f"--output={args.output}"] if args.output else []
        flags += ["--show-labels"] if args.show_labels else []
        flags += ["--no-headers"] if args.no_headers else []
        if ns:
            flags.append(f"--namespace={ns}")
        out, err, rc = _kubectl_run(cluster, ["get", KIND_INFO[kind].plural, *names, *flags])
        if out and stdout and args.output in (None, "wide"):
            stdout.append("\n")
        stdout.append(out)
        stderr.append(err)
        code = code or rc
    _emit("".join(stdout), "".join(stderr))
    return code


def _cmd_get(args: argparse.Namespace, progress: Reporter | None) -> int:
    if args.resource is None and not args.filename:
        raise CLIError(
            "Required resource not specified: give RESOURCE, or -f FILE to get the objects it defines "
            "(see 'kubesim get --help')",
            EXIT_USAGE,
        )
    cluster, applied = _build_and_apply(args, progress, require_objects=False)
    if args.resource is None:
        return _get_applied(cluster, applied, args)
    out, err, code = _kubectl_run(cluster, ["get", args.resource, *args.names, *_kubectl_flags(args, get=True)])
    _emit(out, err)
    return code


def _cmd_describe(args: argparse.Namespace, progress: Reporter | None) -> int:
    cluster, _ = _build_and_apply(args, progress, require_objects=False)
    out, err, code = _kubectl_run(cluster, ["describe", args.resource, *args.names, *_kubectl_flags(args, get=False)])
    if out and not out.endswith("\n"):
        out += "\n"
    _emit(out, err)
    return code


def _kubectl_commands(words: Sequence[str]) -> list[list[str]]:
    """``[--] CMD ARGS [-- CMD ARGS]...`` as one argument list per command (a leading
    ``kubectl`` on a command is dropped, as :func:`kubesim.kubectl.run` does)."""
    words = list(words)
    if words[:1] == ["--"]:
        words = words[1:]
    commands: list[list[str]] = [[]]
    for w in words:
        if w == "--":
            commands.append([])
        else:
            commands[-1].append(w)
    out = [c[1:] if c[:1] == ["kubectl"] else c for c in commands]
    if not any(out) or any(not c for c in out):
        raise CLIError(
            "a kubectl command is required after --, e.g. 'kubesim kubectl -f app.yaml -- scale deployment/web "
            "--replicas=3' (see 'kubesim kubectl --help')",
            EXIT_USAGE,
        )
    return out


def _cmd_kubectl(args: argparse.Namespace, progress: Reporter | None) -> int:
    import shlex

    from kubesim import kubectl

    commands = _kubectl_commands(args.command)
    cluster, _ = _build_and_apply(args, progress, require_objects=False)
    for argv in commands:
        if args.echo:
            print("$ kubectl " + shlex.join(argv))
            sys.stdout.flush()
        try:
            out = kubectl.run(argv, store=cluster.api, now=cluster.now_unix, cluster=cluster)
        except KubectlError as exc:  # kubectl's own failure: its stderr as it prints it, status 1
            _emit("", str(exc).rstrip("\n") + "\n")
            return EXIT_ERROR
        _emit(out.stdout, out.stderr)  # stderr as kubectl writes it: "No resources found ...", errors
        if out.exit_code != 0:
            return out.exit_code
        # the controllers act on what the command wrote before the next command looks
        if args.wait is None:
            cluster.run()
        else:
            cluster.run(until=cluster.now + args.wait)
    return 0


# --------------------------------------------------------------------------------------------
# sweep


def _sweep_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def _sweep_grid(sets: Sequence[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in sets:
        name, sep, values = item.partition("=")
        if not sep or not name or not values:
            raise CLIError(f"--set {item!r}: expected NAME=V1,V2,... (see 'kubesim sweep --help')", EXIT_USAGE)
        grid[name.replace("-", "_")] = [_sweep_value(v) for v in values.split(",")]
    return grid


def _cmd_sweep(args: argparse.Namespace, progress: Reporter | None) -> int:
    import concurrent.futures

    sweep_module = importlib.import_module("kubesim.sweep")  # the module, not kubesim.sweep the function

    _close(progress)
    grid = _sweep_grid(args.set or [])
    if args.no_events:
        if "events" in grid:
            raise CLIError("give --no-events or --set events=..., not both (see 'kubesim sweep --help')", EXIT_USAGE)
        grid["events"] = [False]
    seeds = args.seeds
    if args.output and not args.output.lower().endswith((".csv", ".json", ".parquet")):
        raise CLIError(f"-o {args.output}: the file must end in .csv, .json or .parquet", EXIT_USAGE)
    if args.output:  # before the sweep runs, not after: a missing directory is found at once
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder):
            raise CLIError(f"-o {args.output}: the directory {folder!r} does not exist")
    show = getattr(args, "progress", None)
    if show is None:
        try:
            show = sys.stderr.isatty()
        except (AttributeError, ValueError):
            show = False
    kwargs: dict[str, Any] = {"seeds": seeds, "progress": bool(show)}

    def run(*a: Any, **kw: Any) -> Any:
        # the sweep refuses a parameter or value (unknown name, pods=-1) before simulating the
        # point: the --set options were wrong, a usage error
        try:
            return sweep_module.sweep(*a, **kw)
        except InvalidOption as exc:
            raise CLIError(f"{exc} (see 'kubesim sweep --help')", EXIT_USAGE) from None

    if args.executor == "serial":
        result = run(args.scenario, grid, executor="serial", **kwargs)
    elif args.executor == "thread":
        with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
            result = run(args.scenario, grid, executor=pool, **kwargs)
    elif args.executor == "dask":
        try:
            import distributed
        except ImportError:
            raise CLIError("--executor dask needs dask.distributed: pip install kubesim[distributed]") from None
        local = distributed.LocalCluster(  # type: ignore[no-untyped-call, unused-ignore]
            n_workers=args.workers or 2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        with local as cluster, distributed.Client(cluster) as client:  # type: ignore[no-untyped-call, unused-ignore]
            result = run(args.scenario, grid, executor=client.get_executor(), **kwargs)
    else:
        with concurrent.futures.ProcessPoolExecutor(args.workers) as processes:
            result = run(args.scenario, grid, executor=processes, **kwargs)
    print(result)
    if args.output:
        try:
            result.save(args.output)
        except OSError as exc:
            raise CLIError(f"-o {args.output}: {exc.strerror or exc}") from None
        print(f"wrote {len(result.rows)} rows and the run's metadata to {args.output}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------
# reproduce


def _cmd_reproduce(args: argparse.Namespace, progress: Reporter | None) -> int:
    import concurrent.futures

    from kubesim import reproduce

    kwargs: dict[str, Any] = {"json": args.json, "events": not args.no_events}
    if args.scale is not None:
        kwargs["scale"] = args.scale
    if args.executor == "serial":
        result = reproduce.main(args.name, executor="serial", **kwargs)
    elif args.workers is not None:
        with concurrent.futures.ProcessPoolExecutor(args.workers) as processes:
            result = reproduce.main(args.name, executor=processes, **kwargs)
    else:
        result = reproduce.main(args.name, **kwargs)
    if isinstance(result, str):
        sys.stdout.write(result if result.endswith("\n") else result + "\n")
        return 0
    return 0 if result is None else int(result)


# --------------------------------------------------------------------------------------------
# the parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def _para(*paragraphs: str) -> str:
    """Paragraphs filled to 88 columns (descriptions are printed raw, so examples keep their
    line breaks)."""
    return "\n\n".join(textwrap.fill(p, 88) for p in paragraphs)


_TOP_HELP = _para(
    "kubesim simulates the Kubernetes Endpoints and EndpointSlice machinery, deterministically "
    "and faster than real time, and counts every write and byte. With no command it runs "
    "'kubesim churn': a rolling update, Endpoints versus EndpointSlices, side by side.",
    "apply, get and describe work like kubectl's, but a simulator keeps no cluster between "
    "invocations: each command builds a fresh cluster from the files given with -f and the seed.",
    "kubectl's writing commands (scale, set image, rollout, patch, label, delete, ...) run in "
    "'kubesim kubectl', in order, separated by '--': it applies the files, lets the controllers "
    "settle, then runs each command and lets them settle again (see the example below).",
)
_TOP_EPILOG = """exit status: 0 success; 1 an error reported by the simulation or by kubectl (kubectl's
own errors keep its status 1); 2 a usage error: an unknown option, or a value kubesim refuses
before it simulates anything; 130 interrupted. Errors are one line on stderr;
KUBESIM_TRACEBACK=1 shows the traceback of an unexpected failure.

example: the EndpointSlices after a scale-up, then after a rolling update
  kubesim kubectl -f examples/manifests/ -- scale deployment/nginx-deployment --replicas=3 \\
      -- get endpointslices -- set image deployment/nginx-deployment nginx=nginx:1.27 \\
      -- get endpointslices

Run 'kubesim COMMAND --help' for a command's options."""


def _add_progress(p: argparse._ActionsContainer) -> None:
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show virtual time and writes so far on stderr while running (default: on when stderr is a terminal)",
    )


#: ``--no-events``'s help, less its closing parenthesis (``sweep`` adds to it):
#: ``tests/test_cli.py`` checks the claim in it on a rollout.
_NO_EVENTS_CLAIM = (
    "do not write Events (faster; the Endpoints/EndpointSlice figures are unchanged but for resourceVersion digits"
)
_NO_EVENTS_HELP = _NO_EVENTS_CLAIM + ")"


def _add_no_events(p: argparse._ActionsContainer) -> None:
    p.add_argument("--no-events", action="store_true", help=_NO_EVENTS_HELP)


def _add_workload_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("workload and cluster")
    g.add_argument("--pods", type=_non_negative_int, default=200, help="pods in the Deployment (default 200)")
    g.add_argument("--nodes", type=_nodes_int, default=100, help="nodes, each running a kube-proxy (default 100)")
    g.add_argument(
        "--max-endpoints-per-slice", type=_endpoints_per_slice, default=100, metavar="N",
        help="kube-controller-manager --max-endpoints-per-slice, 1-1000 (default 100)",
    )
    g.add_argument(
        "--batch-period", type=_non_negative_float, default=0.0, metavar="SECONDS",
        help="--endpoint-updates-batch-period and --endpointslice-updates-batch-period (default 0)",
    )
    g.add_argument("--seed", type=int, default=0, help="the seed of every random choice (default 0)")
    _add_no_events(g)
    g.add_argument("--json", action="store_true", help="print the churn report as JSON")
    _add_progress(g)


def _add_cluster_options(p: argparse.ArgumentParser, *, require_file: bool) -> None:
    p.add_argument(
        "-f", "--filename", action="append", required=require_file, metavar="FILE",
        help="manifest file, directory of manifests, or - for standard input; repeatable"
        + ("" if require_file else " (default: none, a cluster with only its nodes)"),
    )
    p.add_argument("-R", "--recursive", action="store_true", help="process directories given with -f recursively")
    g = p.add_argument_group("the simulated cluster")
    g.add_argument("--seed", type=int, default=0, help="the seed of every random choice (default 0)")
    g.add_argument("--nodes", type=_nodes_int, default=3, help="Ready nodes node-1 ... node-N (default 3)")
    g.add_argument(
        "--max-endpoints-per-slice", type=_endpoints_per_slice, default=100, metavar="N",
        help="kube-controller-manager --max-endpoints-per-slice, 1-1000 (default 100)",
    )
    g.add_argument("--dual-stack", action="store_true", help="give nodes and Services IPv6 ranges too")
    g.add_argument(
        "--run-until", type=_non_negative_float, default=None, metavar="SECONDS",
        help="stop at this virtual time instead of running until nothing is pending",
    )
    _add_progress(g)


def _add_query_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--namespace", default=None, metavar="NS",
                   help="namespace to look in, and the default namespace of the files' objects")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="list across all namespaces")
    p.add_argument("-l", "--selector", default=None, metavar="SEL", help="label selector, e.g. app=web,tier!=db")


def _parser() -> _Parser:
    p = _Parser(
        prog=PROG,
        formatter_class=_Formatter,
        description=_TOP_HELP,
        epilog=_TOP_EPILOG,
    )
    from kubesim import __version__

    p.add_argument("--version", action="version", version=f"kubesim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    # apply
    a = sub.add_parser(
        "apply",
        help="apply manifests to a fresh simulated cluster and print what kubectl apply prints",
        description=_para(
            "Build a seeded cluster, kubectl-apply the files in order, run the controllers, and print "
            "kubectl's lines (deployment.apps/nginx-deployment created).",
            _NO_PERSISTENCE,
        ),
        epilog="example:\n  kubesim apply -f examples/manifests/nginx-deployment.yaml -f examples/manifests/nginx-service.yaml",
        formatter_class=_Formatter,
    )
    _add_cluster_options(a, require_file=True)
    a.add_argument("-n", "--namespace", default=None, metavar="NS", help="namespace for objects that name none")
    a.set_defaults(func=_cmd_apply)

    # get
    g = sub.add_parser(
        "get",
        help="apply manifests, run, and print kubectl get",
        description=_para(
            "Apply the files to a fresh seeded cluster, run the controllers, then print "
            "'kubectl get RESOURCE [NAME ...]'. Without RESOURCE, print the objects the files define, "
            "as 'kubectl get -f' does.",
            _NO_PERSISTENCE,
        ),
        epilog="examples:\n"
        "  kubesim get endpoints -f examples/manifests/nginx-deployment.yaml -f examples/manifests/nginx-service.yaml\n"
        "  kubesim get endpointslices -o wide -l kubernetes.io/service-name=nginx-service -f DIR\n"
        "  kubesim get pods --nodes 5 --run-until 2 -f -   # manifests on standard input",
        formatter_class=_Formatter,
    )
    g.add_argument("resource", nargs="?", metavar="RESOURCE", help="pods, services, endpoints (ep), endpointslices, ...; or TYPE/NAME")
    g.add_argument("names", nargs="*", metavar="NAME", help="objects to show (default: all)")
    g.add_argument("-o", "--output", default=None, metavar="FORMAT",
                   help="wide, yaml, json, name, jsonpath=TEMPLATE or custom-columns=SPEC (kubectl's formats)")
    g.add_argument("-L", "--label-columns", action="append", default=[], metavar="KEY",
                   help="a column with the value of label KEY; repeatable, or comma-separated")
    g.add_argument("--sort-by", default=None, metavar="JSONPATH", help="sort by a field, e.g. .metadata.name")
    g.add_argument("--show-kind", action="store_true", help="prefix names with their kind (kind/name)")
    _add_query_options(g)
    g.add_argument("--show-labels", action="store_true", help="add a LABELS column")
    g.add_argument("--no-headers", action="store_true", help="omit the header line")
    _add_cluster_options(g, require_file=False)
    g.set_defaults(func=_cmd_get)

    # describe
    d = sub.add_parser(
        "describe",
        help="apply manifests, run, and print kubectl describe",
        description=_para(
            "Apply the files to a fresh seeded cluster, run the controllers, then print "
            "'kubectl describe RESOURCE [NAME ...]'.",
            _NO_PERSISTENCE,
        ),
        epilog="example:\n  kubesim describe service nginx-service -f examples/manifests/",
        formatter_class=_Formatter,
    )
    d.add_argument("resource", metavar="RESOURCE", help="services, endpoints, endpointslices, pods; or TYPE/NAME")
    d.add_argument("names", nargs="*", metavar="NAME", help="objects to describe (a name prefix matches too)")
    _add_query_options(d)
    _add_cluster_options(d, require_file=False)
    d.set_defaults(func=_cmd_describe)

    # kubectl: the commands that write
    k = sub.add_parser(
        "kubectl",
        help="apply manifests, run, then run kubectl commands in order (scale, set image, rollout, ...)",
        description=_para(
            "Apply the files to a fresh seeded cluster and run the controllers; then run each kubectl "
            "COMMAND in order and print what kubectl prints for it, letting the controllers settle after "
            "each (or run --wait seconds of virtual time), so the next command sees the result. Commands are "
            "separated by '--'. Every command cluster.kubectl() runs works: get, describe, apply -f, delete, "
            "scale, set image, label, annotate, patch (strategic merge, merge and JSON patch), rollout "
            "status|restart|undo|history. The first command that fails stops the run with its status.",
            _NO_PERSISTENCE,
        ),
        epilog="examples:\n"
        "  kubesim kubectl -f examples/manifests/ -- scale deployment/nginx-deployment --replicas=3 \\\n"
        "      -- get endpointslices\n"
        "  kubesim kubectl -f examples/manifests/ --echo -- set image deployment/nginx-deployment nginx=nginx:1.27 \\\n"
        "      -- rollout status deployment/nginx-deployment -- rollout history deployment/nginx-deployment\n"
        "  kubesim kubectl -f examples/manifests/ --wait 1 -- delete pod -l app=nginx -- get endpoints",
        formatter_class=_Formatter,
    )
    k.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                   help="kubectl commands, each after '--' (the first '--' may be left out)")
    k.add_argument("--echo", action="store_true", help="print '$ kubectl COMMAND' before each command's output")
    k.add_argument("--wait", type=_non_negative_float, default=None, metavar="SECONDS",
                   help="after each command, run this much virtual time (default: until nothing is pending)")
    _add_cluster_options(k, require_file=False)
    k.set_defaults(func=_cmd_kubectl)

    # churn
    c = sub.add_parser(
        "churn",
        help="churn of a rolling update: Endpoints vs EndpointSlices (the default command)",
        description=_para("Deploy --pods pods behind a Service on --nodes nodes, let them settle, roll out a new "
        "image and print the churn of the rollout, Endpoints and EndpointSlices side by side."),
        formatter_class=_Formatter,
    )
    _add_workload_options(c)
    c.set_defaults(func=_cmd_churn)

    # scenario
    s = sub.add_parser(
        "scenario",
        help="run a ready-made workload and print the churn report of what it did",
        description=_para("Deploy --pods pods behind a Service on --nodes nodes, let them settle, do one thing "
        "and print the churn of what followed, Endpoints and EndpointSlices side by side."),
        formatter_class=_Formatter,
    )
    ss = s.add_subparsers(dest="scenario", metavar="NAME", parser_class=_Parser, required=True)

    def scenario(name: str, help: str, description: str) -> argparse.ArgumentParser:
        sp = ss.add_parser(name, help=help, description=_para(description), formatter_class=_Formatter)
        sp.set_defaults(prog=sp.prog)
        return sp

    sc = scenario("rollout", "kubectl set image: a rolling update",
                  "A rolling update of the Deployment to a new image ('kubesim churn', with more options).")
    sc.add_argument("--image", default="nginx:1.26", help="the new image (default nginx:1.26)")
    sc.add_argument("--max-surge", type=_int_or_percent, default="25%", help="maxSurge (default 25%%)")
    sc.add_argument("--max-unavailable", type=_int_or_percent, default="25%", help="maxUnavailable (default 25%%)")
    _add_workload_options(sc)
    sc = scenario("scale", "kubectl scale --replicas", "Scale the Deployment to --replicas.")
    sc.add_argument("--replicas", type=_non_negative_int, default=None, help="the new size (default: twice --pods)")
    _add_workload_options(sc)
    sc = scenario("fail-readiness", "readiness probes fail for a while on some pods",
                  "Pods with an HTTP readiness probe (period 5 s); the application of --count of them answers it "
                  "with failures for --duration seconds, then recovers.")
    sc.add_argument("--count", type=_positive_int, default=1, help="pods that fail (default 1)")
    sc.add_argument("--duration", type=_positive_float, default=60.0, metavar="SECONDS", help="how long (default 60)")
    _add_workload_options(sc)
    sc = scenario("flap", "readiness flaps on some pods",
                  "Pods with an HTTP readiness probe (every 5 s, failure threshold 3); the application of --count "
                  "of them alternates healthy and failing stretches of exponential length for --duration seconds. "
                  "A failing stretch shorter than three probe periods (15 s) goes unnoticed, as in a real cluster.")
    # defaults that show churn: failing stretches averaging 30 s mostly outlast the 15 s the
    # probe needs to notice (10 s, the library's default, often shows no write at all)
    sc.add_argument("--count", type=_positive_int, default=None,
                    help="pods that flap (default 5, or every pod when there are fewer)")
    sc.add_argument("--mean-up", type=_positive_float, default=30.0, metavar="SECONDS",
                    help="mean healthy stretch (default 30)")
    sc.add_argument("--mean-down", type=_positive_float, default=30.0, metavar="SECONDS",
                    help="mean failing stretch (default 30)")
    sc.add_argument("--duration", type=_positive_float, default=300.0, metavar="SECONDS",
                    help="how long it flaps (default 300)")
    _add_workload_options(sc)
    sc = scenario("fail-node", "a node's kubelet stops: NotReady after 50 s, evictions 300 s later",
                  "Stop a node's kubelet. After the 50 s node-monitor grace period the node and its pods go "
                  "NotReady; 300 s later (the default toleration) its pods are evicted and replaced.")
    sc.add_argument("--node", default="node-1", help="the node (default node-1)")
    sc.add_argument("--recover-after", type=_positive_float, default=None, metavar="SECONDS",
                    help="bring the kubelet back after this many seconds (default: never)")
    _add_workload_options(sc)
    sc = scenario("drain", "kubectl drain: cordon a node and evict its pods",
                  "Cordon a node and evict every pod on it; the Deployment replaces them elsewhere.")
    sc.add_argument("--node", default="node-1", help="the node (default node-1)")
    _add_workload_options(sc)
    s.set_defaults(func=_cmd_scenario)

    # sweep
    from kubesim.sweep import SCENARIOS as SWEEP_SCENARIOS

    w = sub.add_parser(
        "sweep",
        help="run a scenario over a grid of parameters and print (and save) one row per point",
        description=_para(
            "Run one of the sweep scenarios (" + ", ".join(SWEEP_SCENARIOS) + ") at every point of the grid "
            "that the --set options span, in parallel, and print one row per point. With -o, write the rows "
            "and the run's metadata (kubesim version, grid, seeds) to a .csv, .json or .parquet file."
        ),
        epilog="example:\n  kubesim sweep rolling_update --set pods=50,100 --set max_endpoints_per_slice=10,100 "
        "--seeds 0,1 -o sweep.csv",
        formatter_class=_Formatter,
    )
    w.add_argument("scenario", metavar="SCENARIO", choices=tuple(SWEEP_SCENARIOS), help="one of: " + ", ".join(SWEEP_SCENARIOS))
    w.add_argument("--set", action="append", metavar="NAME=V1,V2", help="a parameter and its values; repeatable")
    w.add_argument("--seeds", type=_seed_list, default=None, metavar="S1,S2", help="run every point once per seed")
    w.add_argument("-o", "--output", default=None, metavar="FILE", help="write the rows to FILE.csv, .json or .parquet")
    w.add_argument("--executor", choices=("process", "thread", "dask", "serial"), default="process",
                   help="where the points run (default: a process pool)")
    w.add_argument("--workers", type=_positive_int, default=None, metavar="N", help="worker count (default: the CPUs)")
    w.add_argument("--no-events", action="store_true",
                   help=_NO_EVENTS_CLAIM + "; the same as --set events=false, a column of the rows)")
    _add_progress(w)
    w.set_defaults(func=_cmd_sweep)

    # reproduce
    r = sub.add_parser(
        "reproduce",
        help="reproduce a published measurement (kep752, blog2020)",
        description=_para("Reproduce a published measurement of Endpoints versus EndpointSlices: kep752 (the "
        "KEP-752 scalability numbers) or blog2020 (the 2020 EndpointSlices blog post)."),
        formatter_class=_Formatter,
    )
    r.add_argument("name", metavar="NAME", choices=REPRODUCTIONS, help="one of: " + ", ".join(REPRODUCTIONS))
    r.add_argument("--json", action="store_true", help="print the results as JSON")
    r.add_argument("--scale", type=_fraction, default=None, metavar="X",
                   help="0 < X <= 1: the size of the simulated (realistic) run; below 1 its figures are "
                   "extrapolated to full size, and labelled so. Defaults: kep752 0.01 (case 1 at 200 "
                   "pods, seconds; --scale 1 measures 20,000 pods on 5,000 nodes, about 4 CPU minutes), "
                   "blog2020 1 (5,000 pods on 3,000 nodes measured, under a minute); KEP case 2 always "
                   "runs at full size")
    r.add_argument("--executor", choices=("process", "serial"), default="process",
                   help="where the independent simulated clusters run (default: a process pool; "
                   "the output is the same)")
    r.add_argument("--workers", type=_positive_int, default=None, metavar="N", help="worker count (default: the CPUs)")
    _add_no_events(r)
    r.set_defaults(func=_cmd_reproduce)

    # serve: kubesim/serve/cli.py owns its options and runs it
    from kubesim.serve import cli as serve_cli

    sv = sub.add_parser(
        "serve",
        help="serve one live simulated cluster behind the Kubernetes API, for real kubectl and clients",
        description=_para("Serve one simulated cluster behind the Kubernetes REST API on 127.0.0.1 (plain "
        "HTTP), write a kubeconfig for it, and run virtual time at --speed times wall time until "
        "interrupted. Needs the serve extra: pip install 'kubesim[serve]'. See docs/serve.md."),
        epilog="example:\n  kubesim serve --nodes 2 --kubeconfig ./kubeconfig.yaml &\n"
        "  KUBECONFIG=./kubeconfig.yaml kubectl get nodes",
        formatter_class=_Formatter,
    )
    serve_cli.add_arguments(sv)
    sv.set_defaults(func=lambda args, progress: serve_cli.run(args), progress=False)
    return p


def _parse(argv: list[str]) -> argparse.Namespace | int:
    parser = _parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["churn", *argv]  # the default command, with its options
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else EXIT_USAGE
    if not hasattr(args, "func"):
        raise CLIError("a command is required (see 'kubesim --help')", EXIT_USAGE)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kubesim`` console script: run one command and return its exit
    status (see the module docstring). Never raises for bad input: errors are printed as one
    line on stderr."""
    argv = list(sys.argv[1:] if argv is None else argv)
    progress: Reporter | None = None
    try:
        parsed = _parse(argv)
        if isinstance(parsed, int):
            return parsed
        progress = _progress_for(parsed)
        return int(parsed.func(parsed, progress))
    except CLIError as exc:
        _close(progress)
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KubesimError as exc:
        _close(progress)
        print(_one_line(str(exc)), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        _close(progress)
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, and keep Python from complaining when it
        # flushes stdout at exit.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, never a traceback
        _close(progress)
        if os.environ.get("KUBESIM_TRACEBACK"):
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"error: internal error: {type(exc).__name__}{': ' + detail if detail else ''} "
            "(set KUBESIM_TRACEBACK=1 for the traceback; please report it)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
