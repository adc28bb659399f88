"""YAML streams and printed output: :func:`load_yaml` (a safe loader with YAML 1.1 rules
as ``sigs.k8s.io/yaml`` reads them, bounded alias expansion, ``kind: List`` expanded, errors
naming the document), :func:`dump_yaml` and :func:`dump_json` (as ``kubectl get -o yaml|json``
prints).

Imports: ``yaml``, :mod:`kubesim.errors`, :mod:`kubesim.kinds`, :mod:`kubesim.objects` (for the
docstring examples), :mod:`kubesim.manifests.encode`, :mod:`kubesim.manifests.decode` (the top
layer of :mod:`kubesim.manifests`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]

from kubesim import objects as o  # noqa: F401  (the docstring examples use it)
from kubesim.errors import ManifestError
from kubesim.kinds import KIND_INFO
from kubesim.manifests.decode import _decode_object, _jtype

# ----------------------------------------------------------------------------------------------
# YAML

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,unused-ignore]
    """``yaml.safe_load`` semantics, minus timestamp resolution (timestamps stay strings, as
    in ``sigs.k8s.io/yaml``), plus duplicate-key and alias-bomb detection."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_document(self, node: Any) -> Any:
        _check_expansion(node)
        return super().construct_document(node)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f'duplicate field "{key_node.value}"',
                            key_node.start_mark)
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


_MAX_EXPANDED_NODES = 2_000_000


def _check_expansion(root: Any) -> None:
    """Refuse documents whose aliases expand to too many nodes (``yaml.v2``'s
    "document contains excessive aliasing"), or that are recursive. ``O(distinct nodes)``."""
    weight: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            in_progress.discard(nid)
            total = 1
            if isinstance(node, yaml.SequenceNode):
                total += sum(weight[id(c)] for c in node.value)
            elif isinstance(node, yaml.MappingNode):
                total += sum(weight[id(k)] + weight[id(v)] for k, v in node.value)
            if total > _MAX_EXPANDED_NODES:
                raise yaml.YAMLError("yaml: document contains excessive aliasing")
            weight[nid] = total
            continue
        if nid in weight:
            continue
        if nid in in_progress:
            raise yaml.YAMLError("yaml: document contains a recursive alias")
        in_progress.add(nid)
        stack.append((node, True))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((c, False) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append((k, False))
                stack.append((v, False))


def _yaml_error(e: yaml.YAMLError) -> ManifestError:
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        if mark is not None:
            return ManifestError(
                f"error converting YAML to JSON: yaml: line {mark.line + 1}: {problem}")
        return ManifestError(f"error converting YAML to JSON: yaml: {problem}")
    return ManifestError(f"error converting YAML to JSON: {e}")


def _expand(doc: Any, index: int, depth: int = 0) -> Iterable[Any]:
    # kubectl flattens `kind: List` (and `<Kind>List`) documents into their items.
    if isinstance(doc, Mapping):
        kind = doc.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
            if depth > 8:
                raise ManifestError("lists nested too deeply", document=index)
            item_kind = kind[:-4] if kind != "List" else None
            if item_kind is not None and item_kind not in KIND_INFO:
                raise ManifestError(f'no matches for kind "{kind}" in version '
                                    f'"{doc.get("apiVersion")}"', path="kind", document=index)
            items = doc["items"]
            if items is None:
                return
            if not isinstance(items, (list, tuple)):
                raise ManifestError(f'invalid type for items: got "{_jtype(items)}", '
                                    f'expected "array"', path="items", document=index)
            for i, item in enumerate(items):
                if item_kind is not None:
                    try:
                        yield _decode_object(item, index, item_kind, doc.get("apiVersion"))
                    except ManifestError as e:
                        raise ManifestError(_bare(e), path=_join(f"items[{i}]", e.path),
                                            document=index) from None
                else:
                    try:
                        yield from _expand(item, index, depth + 1)
                    except ManifestError as e:
                        raise ManifestError(_bare(e), path=_join(f"items[{i}]", e.path),
                                            document=index) from None
            return
    yield _decode_object(doc, index)


def _bare(e: ManifestError) -> str:
    # The message without the "document N: path: " prefix ManifestError adds.
    text = str(e)
    if e.document is not None:
        text = text[len(f"document {e.document}: "):]
    if e.path:
        text = text[len(f"{e.path}: "):]
    return text


def _join(prefix: str, path: str) -> str:
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def load_yaml(text: str | bytes) -> list[Any]:
    """Every object in a (multi-document) YAML stream, in order. ``O(size)``.

    ``yaml.safe_load_all`` semantics: no Python objects are ever constructed.  Empty documents
    are skipped; ``kind: List`` documents are expanded into their items.  Every document is
    decoded before anything is returned, so an error anywhere means nothing is returned; the
    :class:`~kubesim.errors.ManifestError` names the document (0-based, counting every
    document in the stream) and the field path, or the line of a syntax error.

    >>> [type(x).__name__ for x in load_yaml("kind: Namespace\\napiVersion: v1\\n---\\n")]
    ['Namespace']
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ManifestError(f"yaml: invalid UTF-8 at byte {e.start}") from None
    if not isinstance(text, str):
        raise ManifestError(f"expected YAML text, got {type(text).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as e:
        raise _yaml_error(e) from None
    except RecursionError:
        raise ManifestError("error converting YAML to JSON: yaml: exceeded max depth") from None
    except (ValueError, TypeError, OverflowError) as e:  # e.g. an unparseable float
        raise ManifestError(f"error converting YAML to JSON: {e}") from None
    out: list[Any] = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        out.extend(_expand(doc, i))
    return out


class _Dumper(yaml.SafeDumper):  # type: ignore[misc,unused-ignore]
    """``sigs.k8s.io/yaml`` style: block style, keys sorted, strings that would read back as
    another type double-quoted, multi-line strings as literal blocks."""

    def represent_str(self, data: str) -> Any:
        tag = "tag:yaml.org,2002:str"
        if "\n" in data:
            return self.represent_scalar(tag, data, style="|")
        resolved = self.resolve(yaml.ScalarNode, data, (True, False))  # type: ignore[no-untyped-call]  # the stubs leave Resolver.resolve untyped
        if resolved != tag or data == "":
            return self.represent_scalar(tag, data, style='"')
        return self.represent_scalar(tag, data)

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(str, _Dumper.represent_str)


def _list_wrapper(items: Sequence[Any]) -> dict[str, Any]:
    from kubesim.manifests.encode import to_manifest

    return {"apiVersion": "v1", "items": [to_manifest(x) for x in items], "kind": "List",
            "metadata": {"resourceVersion": ""}}


def dump_yaml(obj_or_list: Any) -> str:
    """YAML as ``kubectl get -o yaml`` prints it: keys sorted alphabetically (the API server's
    JSON goes through ``sigs.k8s.io/yaml``); a list of objects becomes a ``kind: List``.
    ``O(size)``.

    >>> print(dump_yaml(o.Namespace(o.ObjectMeta(name="prod"))), end="")
    apiVersion: v1
    kind: Namespace
    metadata:
      name: prod
    spec: {}
    status: {}
    """
    from kubesim.manifests.encode import to_manifest  # the encoders, built on first output

    if isinstance(obj_or_list, (list, tuple)):
        value = _list_wrapper(obj_or_list)
    else:
        value = to_manifest(obj_or_list)
    return str(yaml.dump(value, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, width=80))


def dump_json(obj: Any) -> str:
    """JSON as ``kubectl get -o json`` prints it: indented by 4, keys sorted (kubectl prints
    unstructured maps), Go's escaping, a final newline; a list of objects becomes a
    ``kind: List``. ``O(size)``."""
    from kubesim.manifests.encode import (  # the encoders, built on first output
        _go_json,
        to_manifest,
    )

    value = _list_wrapper(obj) if isinstance(obj, (list, tuple)) else to_manifest(obj)
    return _go_json(value, indent=4, sort_keys=True) + "\n"
