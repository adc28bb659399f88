"""The kubectl command line: pflag-style flag parsing and the commands
(``staging/src/k8s.io/kubectl/pkg/cmd/get/get.go``, ``.../cmd/describe/describe.go``).
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from kubesim.errors import InvalidSelector, KubectlError, NotFound
from kubesim.kinds import KindInfo
from kubesim.kubectl.common import KubectlOutput, Store, resolve_resource
from kubesim.kubectl.describe import _DESCRIBERS
from kubesim.kubectl.printers import _render_table

# --------------------------------------------------------------------------------------------
# command line


_OUTPUT_FORMATS = (
    "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
    "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
)
_SUPPORTED_OUTPUTS = ("", "wide", "name", "yaml", "json")

# flag name -> (shorthand, takes a value)
_FLAGS: dict[str, dict[str, tuple[str, bool]]] = {
    "get": {
        "namespace": ("n", True),
        "all-namespaces": ("A", False),
        "selector": ("l", True),
        "output": ("o", True),
        "show-labels": ("", False),
        "no-headers": ("", False),
    },
    "describe": {
        "namespace": ("n", True),
        "all-namespaces": ("A", False),
        "selector": ("l", True),
    },
}


@attrs.define
class _Options:
    namespace: str = "default"
    all_namespaces: bool = False
    selector: str | None = None
    output: str = ""
    show_labels: bool = False
    no_headers: bool = False


def _flag_error(command: str, message: str) -> KubectlError:
    return KubectlError(f"error: {message}\nSee 'kubectl {command} --help' for usage.")


def _set_flag(opts: _Options, command: str, name: str, value: str | None) -> None:
    if name == "namespace":
        opts.namespace = value or ""
    elif name == "selector":
        opts.selector = value
    elif name == "output":
        opts.output = value or ""
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


def _split_args(positional: list[str]) -> list[tuple[KindInfo, list[str]]]:
    """``TYPE [NAME...]``, ``TYPE1,TYPE2`` is refused, ``TYPE/NAME [TYPE/NAME...]`` accepted."""
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
            groups.append((resolve_resource(type_), [name]))
        return groups
    head, *names = positional
    if "," in head:
        raise KubectlError("error: kubesim supports one resource type per command")
    return [(resolve_resource(head), names)]


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
    return _list(store, res, namespace, opts.selector), []


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


def _get(argv: Sequence[str], store: Store, now: int) -> KubectlOutput:
    opts, positional = _parse("get", argv)
    if opts.output not in _SUPPORTED_OUTPUTS:
        base = opts.output.split("=", 1)[0]
        if base in _OUTPUT_FORMATS.split(","):
            raise KubectlError(f'error: kubesim does not implement the output format "{opts.output}"')
        raise KubectlError(
            f'error: unable to match a printer suitable for the output format "{opts.output}", '
            f"allowed formats are: {_OUTPUT_FORMATS}"
        )
    if opts.show_labels and opts.output not in ("", "wide"):
        raise KubectlError(f"error: --show-labels option cannot be used with {opts.output} printer")
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
    stdout: list[str] = []
    errors: list[str] = []
    named = any(names for _, names in groups)
    for res, names in groups:
        objs, errs = _fetch(store, res, names, opts)
        errors += errs
        if opts.output == "name":
            stdout += [f"{res.name_prefix}/{o.metadata.name}\n" for o in objs]
        elif opts.output in ("yaml", "json"):
            single = len(groups) == 1 and len(names) == 1
            if objs or not single:
                stdout.append(_structured(objs, single, opts.output))
        else:
            if stdout and objs:
                stdout.append("\n")
            stdout.append(
                _render_table(
                    objs,
                    res.kind,
                    now=now,
                    wide=opts.output == "wide",
                    with_namespace=opts.all_namespaces and res.namespaced,
                    show_labels=opts.show_labels,
                    no_headers=opts.no_headers,
                )
            )
    out = "".join(stdout)
    if errors:
        return KubectlOutput(out, "".join(e + "\n" for e in errors), 1)
    stderr = ""
    if not out and not named and opts.output in ("", "wide"):
        stderr = _no_resources(groups[0][0], opts)
    return KubectlOutput(out, stderr, 0)


def _describe(argv: Sequence[str], store: Store, now: int) -> KubectlOutput:
    opts, positional = _parse("describe", argv)
    if not positional:
        raise KubectlError(
            'error: You must specify the type of resource to describe. Use "kubectl api-resources" '
            "for a complete list of supported resources."
        )
    groups = _split_args(positional)
    texts: list[str] = []
    errors: list[str] = []
    for res, names in groups:
        describer = _DESCRIBERS.get(res.kind)
        if describer is None:
            raise KubectlError(f"error: kubesim does not implement describe for {res.plural}")
        if names and not opts.all_namespaces and not opts.selector:
            for name in names:
                try:
                    texts.append(describer(store.get(res.kind, name, opts.namespace), store, now))
                except NotFound as err:
                    # DescribeMatchingResources: "describe TYPE PREFIX" describes every name
                    # with that prefix when there is no exact match.
                    prefixed = [
                        o for o in _list(store, res, opts.namespace, None)
                        if len(positional) == 2 and o.metadata.name.startswith(name)
                    ]
                    if not prefixed:
                        errors.append(_not_found(err))
                    texts += [describer(o, store, now) + "\n" for o in prefixed]
        else:
            objs, errs = _fetch(store, res, names, opts)
            errors += errs
            texts += [describer(o, store, now) for o in objs]
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


def run(args: str | Sequence[str], *, store: Store, now: int) -> KubectlOutput:
    """Run one kubectl command against ``store`` at Unix time ``now`` (whole seconds).

    Returns both streams and the exit status, like a process would: partial output and the
    ``Error from server (NotFound)`` lines of ``get a b`` when only ``a`` exists, or
    ``No resources found ...`` on stderr.  Command-line mistakes (unknown flag, resource type or
    output format) raise :class:`~kubesim.errors.KubectlError` with kubectl's message.

    Cost: one ``store.list`` (or one ``store.get`` per name), then ``O(n log n)`` for ``n``
    objects printed; describe of a Service adds one list of its EndpointSlices.
    """
    argv = _argv(args)
    if not argv:
        raise KubectlError("error: kubesim implements only `kubectl get` and `kubectl describe`")
    command, rest = argv[0], argv[1:]
    fn = _COMMANDS.get(command)
    if fn is None:
        if command.startswith("-"):
            raise KubectlError("error: kubesim implements only `kubectl get` and `kubectl describe`")
        raise KubectlError(f'error: unknown command "{command}" for "kubectl"')
    return fn(rest, store, now)


def kubectl(args: str | Sequence[str], *, store: Store, now: int) -> str:
    """The text ``kubectl <args>`` shows on a terminal, for ``get`` and ``describe``.

    ``args`` is a command line (``"get endpoints nginx-service"``, shell-quoted) or a list of
    arguments; a leading ``kubectl`` is accepted.  The text ends with a newline, as kubectl's
    does.  ``No resources found in default namespace.`` (stderr in real kubectl) is returned as
    the text.  A command that kubectl would fail (exit status 1) raises
    :class:`~kubesim.errors.KubectlError` whose message is kubectl's stderr, without the final
    newline.  Cost: see :func:`run`.

    >>> kubectl("get ep", store=_EmptyStore(), now=0)
    'No resources found in default namespace.\\n'
    """
    result = run(args, store=store, now=now)
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
