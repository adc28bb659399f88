"""The kubectl command line: pflag-style flag parsing and the commands
(``staging/src/k8s.io/kubectl/pkg/cmd/get/get.go``, ``.../cmd/describe/describe.go``).
"""

from __future__ import annotations

import importlib
import json
import shlex
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from kubesim.errors import InvalidSelector, KubectlError, NotFound
from kubesim.kinds import KIND_INFO, KindInfo
from kubesim.kubectl.common import KubectlOutput, Store, resolve_resource
from kubesim.kubectl.describe import _DESCRIBERS, SHOW_EVENTS
from kubesim.kubectl.printers import (
    _render_table,
    parse_custom_columns,
    relaxed_jsonpath,
    render_custom_columns,
)

# --------------------------------------------------------------------------------------------
# command line


_OUTPUT_FORMATS = (
    "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
    "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
)
_SUPPORTED_OUTPUTS = ("", "wide", "name", "yaml", "json", "jsonpath", "custom-columns")

_COMMON_WRITE = {"namespace": ("n", True), "filename": ("f", True), "recursive": ("R", False)}

# flag name -> (shorthand, takes a value)
_FLAGS: dict[str, dict[str, tuple[str, bool]]] = {
    "get": {
        "namespace": ("n", True),
        "all-namespaces": ("A", False),
        "selector": ("l", True),
        "output": ("o", True),
        "show-labels": ("", False),
        "no-headers": ("", False),
        "label-columns": ("L", True),
        "sort-by": ("", True),
        "show-kind": ("", False),
        "field-selector": ("", True),
    },
    "describe": {
        "namespace": ("n", True),
        "all-namespaces": ("A", False),
        "selector": ("l", True),
        "show-events": ("", False),
    },
    "apply": {**_COMMON_WRITE},
    "delete": {**_COMMON_WRITE, "selector": ("l", True), "all": ("", False), "wait": ("", False),
               "grace-period": ("", True), "now": ("", False), "ignore-not-found": ("", False)},
    "scale": {**_COMMON_WRITE, "replicas": ("", True)},
    "set": {**_COMMON_WRITE, "selector": ("l", True), "all": ("", False)},
    "label": {**_COMMON_WRITE, "selector": ("l", True), "all": ("", False), "overwrite": ("", False)},
    "annotate": {**_COMMON_WRITE, "selector": ("l", True), "all": ("", False), "overwrite": ("", False)},
    "patch": {**_COMMON_WRITE, "patch": ("p", True), "type": ("", True)},
    "rollout": {**_COMMON_WRITE, "to-revision": ("", True), "revision": ("", True), "watch": ("w", False),
                "timeout": ("", True)},
}


@attrs.define
class _Options:
    namespace: str = "default"
    all_namespaces: bool = False
    selector: str | None = None
    output: str = ""
    show_labels: bool = False
    no_headers: bool = False
    label_columns: list[str] = attrs.field(factory=list)
    sort_by: str = ""
    show_kind: bool = False
    field_selector: str = ""
    show_events: bool | None = None  # describe: None unless --show-events was given
    # write commands
    filename: list[str] = attrs.field(factory=list)
    recursive: bool = False
    all: bool = False
    wait: bool = True
    grace_period: str = ""
    now: bool = False
    ignore_not_found: bool = False
    replicas: str = ""
    overwrite: bool = False
    patch: str = ""
    type: str = "strategic"
    to_revision: str = ""
    revision: str = ""
    watch: bool = True
    timeout: str = ""


_VALUE_FLAGS = {"namespace", "selector", "output", "sort-by", "field-selector", "grace-period", "replicas", "patch", "type",
                "to-revision", "revision", "timeout"}


def _flag_error(command: str, message: str) -> KubectlError:
    return KubectlError(f"error: {message}\nSee 'kubectl {command} --help' for usage.")


def _set_flag(opts: _Options, command: str, name: str, value: str | None) -> None:
    if name == "selector":
        opts.selector = value
    elif name in _VALUE_FLAGS:
        setattr(opts, name.replace("-", "_"), value or "")
    elif name == "label-columns":
        opts.label_columns += [k for k in (value or "").split(",") if k]
    elif name == "filename":
        opts.filename.append(value or "")
    else:
        text = "true" if value is None else value
        if text.lower() not in ("true", "false", "1", "0", "t", "f"):
            raise _flag_error(
                command, f'invalid argument "{value}" for "--{name}" flag: '
                f'strconv.ParseBool: parsing "{value}": invalid syntax'
            )
        flag = text.lower() in ("true", "1", "t")
        setattr(opts, name.replace("-", "_"), flag)


def _parse(command: str, argv: Sequence[str]) -> tuple[_Options, list[str]]:
    # pflag semantics: --name=value, --name value, -n value, -nvalue, -n=value, -An value, "--".
    flags = _FLAGS[command]
    by_short = {short: name for name, (short, _) in flags.items() if short}
    opts = _Options()
    positional: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            positional.extend(argv[i:])
            break
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            if name not in flags:
                raise _flag_error(command, f"unknown flag: --{name}")
            takes_value = flags[name][1]
            if takes_value and not eq:
                if i >= len(argv):
                    raise _flag_error(command, f"flag needs an argument: --{name}")
                value = argv[i]
                i += 1
            _set_flag(opts, command, name, value if (eq or takes_value) else None)
        elif arg.startswith("-") and len(arg) > 1:
            rest = arg[1:]
            while rest:
                ch, rest = rest[0], rest[1:]
                if ch not in by_short:
                    raise _flag_error(command, f"unknown shorthand flag: '{ch}' in {arg}")
                name = by_short[ch]
                if flags[name][1]:
                    if rest.startswith("="):
                        value = rest[1:]
                    elif rest:
                        value = rest
                    elif i < len(argv):
                        value = argv[i]
                        i += 1
                    else:
                        raise _flag_error(command, f"flag needs an argument: '{ch}' in {arg}")
                    _set_flag(opts, command, name, value)
                    rest = ""
                else:
                    if rest.startswith("="):
                        _set_flag(opts, command, name, rest[1:])
                        rest = ""
                    else:
                        _set_flag(opts, command, name, None)
        else:
            positional.append(arg)
    return opts, positional


#: What ``kubectl get all`` lists (the ``all`` category) among the kinds kubesim models.
_ALL = ("Pod", "Service", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet")


def _split_args(positional: list[str]) -> list[tuple[KindInfo, list[str]]]:
    """``TYPE[,TYPE...] [NAME...]`` (``all`` is the ``all`` category) or ``TYPE/NAME
    [TYPE/NAME...]``, as kubectl's resource builder reads them."""
    if any("/" in a for a in positional):
        if not all("/" in a for a in positional):
            raise KubectlError(
                "error: there is no need to specify a resource type as a separate argument when "
                "passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' "
                "instead of 'kubectl get resource resource/<resource_name>'"
            )
        groups: list[tuple[KindInfo, list[str]]] = []
        for a in positional:
            type_, _, name = a.partition("/")
            if not name:
                raise KubectlError("error: arguments in resource/name form must have a single resource and name")
            res = resolve_resource(type_)
            if groups and groups[-1][0].kind == res.kind:
                groups[-1][1].append(name)
            else:
                groups.append((res, [name]))
        return groups
    head, *names = positional
    kinds: list[KindInfo] = []
    for part in head.split(","):
        if not part:
            continue
        found = [KIND_INFO[k] for k in _ALL] if part.lower() == "all" else [resolve_resource(part)]
        kinds += [k for k in found if k.kind not in {x.kind for x in kinds}]
    if not kinds:
        raise KubectlError("error: Required resource not specified.")
    return [(k, list(names)) for k in kinds]


def _sort_key(obj: Any) -> tuple[str, str]:
    return (obj.metadata.namespace, obj.metadata.name)


def _list(store: Store, res: KindInfo, namespace: str | None, selector: str | None) -> list[Any]:
    try:
        objs = list(store.list(res.kind, namespace if res.namespaced else None, selector=selector))
    except InvalidSelector as err:
        raise KubectlError(f"Error from server (BadRequest): {err}") from err
    return sorted(objs, key=_sort_key)


def _not_found(err: NotFound) -> str:
    return f"Error from server (NotFound): {err}"


def _fetch(
    store: Store, res: KindInfo, names: list[str], opts: _Options
) -> tuple[list[Any], list[str]]:
    """Objects named (in argument order) or listed, and NotFound error lines."""
    if names:
        if opts.selector:
            raise KubectlError("error: name cannot be provided when a selector is specified")
        if opts.all_namespaces:
            raise KubectlError("error: a resource cannot be retrieved by name across all namespaces")
        found: list[Any] = []
        errors: list[str] = []
        for name in names:
            try:
                found.append(store.get(res.kind, name, opts.namespace if res.namespaced else ""))
            except NotFound as err:
                errors.append(_not_found(err))
        return found, errors
    namespace = None if opts.all_namespaces else opts.namespace
    objs = _list(store, res, namespace, opts.selector)
    if opts.field_selector.strip():
        objs = _field_filter(objs, res, opts.field_selector, opts.selector)
    return objs, []


def _field_filter(objs: list[Any], res: KindInfo, text: str, selector: str | None) -> list[Any]:
    """``--field-selector``: the API server's field selectors (:mod:`kubesim.serve.query`, which
    ``kubesim serve`` answers real clients with): ``a=b``, ``a==b``, ``a!=b`` terms, comma-separated,
    with ``\\`` escapes, over the fields each registry selects on (``metadata.name`` and
    ``metadata.namespace`` for every kind; a Pod's ``spec.nodeName``, ``status.phase`` ...; an
    Event's). An error reads as kubectl prints the server's 400. ``O(n × terms)``."""
    from kubesim.serve import query
    from kubesim.serve.status import ApiError

    try:
        terms = query.parse_field_selector(text, res.kind)
    except ApiError as e:
        message = str(e)
        if message.startswith("field label not supported"):
            gv = f"{res.group}/{res.version}"
            message = (f'Unable to find "{gv}, Resource={res.plural}" that match label selector '
                       f'"{selector or ""}", field selector "{text}": {message}')
        raise KubectlError(f"Error from server (BadRequest): {message}") from None
    return [o for o in objs if query.field_matches(terms, o, res.kind)]


def _structured(objs: list[Any], single: bool, fmt: str) -> str:
    # kubesim.manifests is imported lazily so this view stays importable on its own.  Given a
    # list, dump_yaml/dump_json wrap it in kubectl's ``kind: List`` (printGeneric in get.go):
    # a list query prints a List even for zero or one item; one named object prints bare.
    manifests: Any = importlib.import_module("kubesim.manifests")
    dump = manifests.dump_yaml if fmt == "yaml" else manifests.dump_json
    return str(dump(objs[0] if single else list(objs)))


def _no_resources(res: KindInfo, opts: _Options) -> str:
    if opts.all_namespaces or not res.namespaced:
        return "No resources found\n"
    return f"No resources found in {opts.namespace} namespace.\n"


def _as_json(obj: Any) -> Any:
    """What ``-o json`` prints for ``obj``, as data (the input of jsonpath and custom-columns)."""
    manifests: Any = importlib.import_module("kubesim.manifests")
    return json.loads(manifests.dump_json(obj))


def _json_list(objs: Sequence[Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": [_as_json(o) for o in objs], "kind": "List",
            "metadata": {"resourceVersion": ""}}


def _sort(objs: list[Any], expr: str) -> list[Any]:
    """``--sort-by``: by the expression's first value on each object (``kubectl``'s sorter
    compares numbers as numbers, everything else as text), with Go's ``sort.Sort`` as
    ``TableSorter`` does (:func:`kubesim.kubectl.gosort.go_sort`: not stable, so ties come out
    in kubectl's order); an object without the field is less than any other (``Less`` is true
    whenever its left side has no value, as in ``sorter.go``)."""
    from kubesim.kubectl import jsonpath
    from kubesim.kubectl.gosort import go_sort

    path = relaxed_jsonpath(expr)

    def key(obj: Any) -> tuple[int, float, str] | None:
        try:
            found = jsonpath.find(path, _as_json(obj))
        except jsonpath.JSONPathError as err:
            raise KubectlError(f"error: {err}") from None
        if not found:
            return None
        v = found[0]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (1, float(v), "")
        return (2, 0.0, v if isinstance(v, str) else json.dumps(v, sort_keys=True))

    def less(x: tuple[tuple[int, float, str] | None, Any], y: tuple[tuple[int, float, str] | None, Any]) -> bool:
        if x[0] is None:
            return True
        if y[0] is None:
            return False
        return x[0] < y[0]

    keyed = [(key(o), o) for o in objs]
    go_sort(keyed, less)
    return [o for _, o in keyed]


def _check_output(opts: _Options) -> tuple[str, str]:
    """The output format and its argument (``jsonpath={.a}`` -> ``("jsonpath", "{.a}")``)."""
    fmt, _, arg = opts.output.partition("=")
    if fmt not in _SUPPORTED_OUTPUTS or (arg and fmt not in ("jsonpath", "custom-columns")):
        if fmt in _OUTPUT_FORMATS.split(","):
            raise KubectlError(f'error: kubesim does not implement the output format "{opts.output}"')
        raise KubectlError(
            f'error: unable to match a printer suitable for the output format "{opts.output}", '
            f"allowed formats are: {_OUTPUT_FORMATS}"
        )
    if fmt == "jsonpath" and not arg:
        raise KubectlError("error: template format specified but no template given")
    if opts.show_labels and fmt not in ("", "wide"):
        raise KubectlError(f"error: --show-labels option cannot be used with {opts.output} printer")
    return fmt, arg


def _get(argv: Sequence[str], store: Store, now: int) -> KubectlOutput:
    opts, positional = _parse("get", argv)
    fmt, arg = _check_output(opts)
    columns = parse_custom_columns(arg) if fmt == "custom-columns" else []
    template = None
    if fmt == "jsonpath":
        from kubesim.kubectl import jsonpath

        try:
            template = jsonpath.parse(arg)
        except jsonpath.JSONPathError as err:
            raise KubectlError(f"error: {err}") from None
    if not positional:
        raise KubectlError(
            'You must specify the type of resource to get. Use "kubectl api-resources" for a '
            "complete list of supported resources.\n\n"
            "error: Required resource not specified.\n"
            'Use "kubectl explain <resource>" for a detailed description of that resource '
            "(e.g. kubectl explain pods).\n"
            "See 'kubectl get -h' for help and examples"
        )
    groups = _split_args(positional)
    show_kind = opts.show_kind or len(groups) > 1
    stdout: list[str] = []
    errors: list[str] = []
    every: list[Any] = []
    named = any(names for _, names in groups)
    for res, names in groups:
        objs, errs = _fetch(store, res, names, opts)
        if opts.sort_by:
            objs = _sort(objs, opts.sort_by)
        errors += errs
        every += objs
        if fmt == "name":
            stdout += [f"{res.name_prefix}/{o.metadata.name}\n" for o in objs]
        elif fmt in ("", "wide"):
            table = _render_table(
                objs,
                res.kind,
                now=now,
                wide=fmt == "wide",
                with_namespace=opts.all_namespaces and res.namespaced,
                show_labels=opts.show_labels,
                no_headers=opts.no_headers,
                label_columns=opts.label_columns,
                show_kind=show_kind,
            )
            if stdout and table and not opts.no_headers:
                stdout.append("\n")  # a blank line between kinds (get.go)
            stdout.append(table)
    single = len(groups) == 1 and len(groups[0][1]) == 1
    if fmt in ("yaml", "json") and (every or not single):
        stdout.append(_structured(every, single, fmt))
    elif fmt == "custom-columns" and (every or not named):
        stdout.append(render_custom_columns([_as_json(o) for o in every], columns, no_headers=opts.no_headers))
    elif template is not None and (every or not single):
        from kubesim.kubectl import jsonpath

        data = _as_json(every[0]) if single else _json_list(every)
        try:
            stdout.append(template.execute(data))
        except jsonpath.JSONPathError as err:
            raise KubectlError(
                f'error: error executing jsonpath "{arg}": Error executing template: {err}. Printing more '
                f"information for debugging the template:\n\ttemplate was:\n\t\t{arg}"
            ) from None
    out = "".join(stdout)
    if errors:
        return KubectlOutput(out, "".join(e + "\n" for e in errors), 1)
    stderr = ""
    if not every and not named and fmt in ("", "wide", "custom-columns"):
        stderr = _no_resources(groups[0][0], opts)
        if fmt == "custom-columns":
            out = ""
    return KubectlOutput(out, stderr, 0)


def _describe(argv: Sequence[str], store: Store, now: int) -> KubectlOutput:
    opts, positional = _parse("describe", argv)
    if not positional:
        raise KubectlError(
            'error: You must specify the type of resource to describe. Use "kubectl api-resources" '
            "for a complete list of supported resources."
        )
    groups = _split_args(positional)
    # (describer, object, text after it), rendered once it is known whether Events show
    pending: list[tuple[Callable[[Any, Store, int], str], Any, str]] = []
    errors: list[str] = []
    prefix_matched = False
    for res, names in groups:
        describer = _DESCRIBERS.get(res.kind)
        if describer is None:
            raise KubectlError(f"error: kubesim does not implement describe for {res.plural}")
        if names and not opts.all_namespaces and not opts.selector:
            for name in names:
                try:
                    pending.append((describer, store.get(res.kind, name, opts.namespace), ""))
                except NotFound as err:
                    # DescribeMatchingResources: "describe TYPE PREFIX" describes every name
                    # with that prefix when there is no exact match.
                    prefixed = [
                        o for o in _list(store, res, opts.namespace, None)
                        if len(positional) == 2 and o.metadata.name.startswith(name)
                    ]
                    if not prefixed:
                        errors.append(_not_found(err))
                    prefix_matched = True
                    pending += [(describer, o, "\n") for o in prefixed]
        else:
            objs, errs = _fetch(store, res, names, opts)
            errors += errs
            pending += [(describer, o, "") for o in objs]
    # describe.go Run: Events show for a single object only (not for several, a failed lookup
    # or a prefix match) unless --show-events says otherwise
    show = opts.show_events if opts.show_events is not None else (
        len(pending) <= 1 and not errors and not prefix_matched)
    token = SHOW_EVENTS.set(show)
    try:
        texts = [describer(o, store, now) + after for describer, o, after in pending]
    finally:
        SHOW_EVENTS.reset(token)
    out = "\n\n".join(texts)
    if errors:
        return KubectlOutput(out, "".join(e + "\n" for e in errors), 1)
    stderr = ""
    if not texts:
        stderr = _no_resources(groups[0][0], opts)
    return KubectlOutput(out, stderr, 0)


_COMMANDS: dict[str, Callable[[Sequence[str], Store, int], KubectlOutput]] = {
    "get": _get,
    "describe": _describe,
}


def _argv(args: str | Sequence[str]) -> list[str]:
    argv = shlex.split(args) if isinstance(args, str) else list(args)
    if argv and argv[0] == "kubectl":
        argv = argv[1:]
    return argv


def run(args: str | Sequence[str], *, store: Store, now: int, cluster: Any = None) -> KubectlOutput:
    """Run one kubectl command against ``store`` at Unix time ``now`` (whole seconds).

    ``get`` and ``describe`` read ``store``; the commands that write (``apply -f``,
    ``delete``, ``scale``, ``set image``, ``label``, ``annotate``, ``patch``, ``rollout``,
    see :mod:`kubesim.kubectl.write`) need ``cluster``.

    Returns both streams and the exit status, like a process would: partial output and the
    ``Error from server (NotFound)`` lines of ``get a b`` when only ``a`` exists, or
    ``No resources found ...`` on stderr.  Command-line mistakes (unknown flag, resource type or
    output format) raise :class:`~kubesim.errors.KubectlError` with kubectl's message.

    Cost: one ``store.list`` (or one ``store.get`` per name), then ``O(n log n)`` for ``n``
    objects printed; describe of a Service adds one list of its EndpointSlices.
    """
    from kubesim.kubectl.write import WRITE_COMMANDS, run_write

    argv = _argv(args)
    if not argv:
        raise KubectlError(_IMPLEMENTED)
    command, rest = argv[0], argv[1:]
    if command in WRITE_COMMANDS:
        return run_write(command, rest, cluster)
    fn = _COMMANDS.get(command)
    if fn is None:
        if command.startswith("-"):
            raise KubectlError(_IMPLEMENTED)
        raise KubectlError(f'error: unknown command "{command}" for "kubectl"')
    return fn(rest, store, now)


_IMPLEMENTED = (
    "error: kubesim implements kubectl get, describe, apply -f, delete, scale, set image, label, "
    "annotate, patch and rollout status|restart|undo|history"
)


def kubectl(args: str | Sequence[str], *, store: Store, now: int, cluster: Any = None) -> str:
    """The text ``kubectl <args>`` shows on a terminal.

    ``args`` is a command line (``"get endpoints nginx-service"``, shell-quoted) or a list of
    arguments; a leading ``kubectl`` is accepted.  The text ends with a newline, as kubectl's
    does.  ``No resources found in default namespace.`` (stderr in real kubectl) is returned as
    the text.  A command that kubectl would fail (exit status 1) raises
    :class:`~kubesim.errors.KubectlError` whose message is kubectl's stderr, without the final
    newline.  Commands that write need ``cluster``.  Cost: see :func:`run`.

    >>> kubectl("get ep", store=_EmptyStore(), now=0)
    'No resources found in default namespace.\\n'
    """
    result = run(args, store=store, now=now, cluster=cluster)
    if result.exit_code != 0:
        raise KubectlError(result.stderr.rstrip("\n"))
    return result.terminal


class _EmptyStore:
    """A store with nothing in it (for the doctest)."""

    def list(
        self, kind: str, namespace: str | None = None, selector: str | None = None
    ) -> Sequence[object]:
        return []

    def get(self, kind: str, name: str, namespace: str = "default") -> object:
        raise NotFound(kind, name, namespace)
