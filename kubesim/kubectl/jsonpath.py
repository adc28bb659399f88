"""kubectl's JSONPath templates (``-o jsonpath=...``, and the cells of ``-o custom-columns``).

The dialect is client-go's (``k8s.io/client-go/util/jsonpath``), as the kubectl reference
page "JSONPath Support" documents it:

* text outside ``{...}`` is printed as is; ``{"\\n"}`` / ``{'\\t'}`` are quoted text;
* ``@`` (the current object) and ``$`` (the root) start a path, which is otherwise relative to
  the current object; ``.name`` / ``['name']`` children (``\\.`` escapes a dot in a name,
  ``kubernetes\\.io/hostname``), ``..name`` recursive descent, ``*`` / ``[*]`` wildcards,
  ``[i]`` indices (negative from the end), ``[start:end:step]`` slices, ``[a, b]`` unions of
  paths, ``[?(@.x == "y")]`` filters (``== != < > <= >=``, or a bare path for existence);
* ``{range PATH}...{end}`` runs its body once per result;
* each ``{path}`` prints its results separated by single spaces; strings bare, numbers and
  booleans as JSON, maps and lists as compact JSON (kubectl's printer enables JSON output).

A missing key prints nothing (kubectl's ``--allow-missing-template-keys`` is on by default);
an index out of range is an error, as in kubectl. Maps are walked in sorted key order
(client-go walks Go maps, whose order is unspecified). Pure functions over JSON data;
``O(size of the data visited)``.

>>> render("{.items[*].metadata.name}", {"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]})
'a b'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["JSONPathError", "parse", "render", "find", "Template"]


class JSONPathError(ValueError):
    """A template that does not parse (``parse``) or fails on the data (``execute``)."""

    def __init__(self, message: str, *, parsing: bool) -> None:
        super().__init__(message)
        self.parsing = parsing


_MISSING = object()

# --------------------------------------------------------------------------------------------
# the template: text, paths, range/end


@attrs.frozen
class _Text:
    text: str


@attrs.frozen
class _Path:
    steps: tuple[Any, ...]
    root: bool = False


@attrs.frozen
class _Range:
    path: _Path
    body: tuple[Any, ...]


@attrs.frozen
class Template:
    """A parsed template: :func:`parse` makes one, :meth:`execute` runs it."""

    source: str
    nodes: tuple[Any, ...]

    def execute(self, data: Any) -> str:
        out: list[str] = []
        _run(self.nodes, data, data, out)
        return "".join(out)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def _unquote(body: str, quote: str) -> str:
    """A quoted string's text: ``\\n``, ``\\t``, ``\\r`` and escaped quotes and backslashes."""
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse(source: str) -> Template:
    """Parse a template; :class:`JSONPathError` (``parsing=True``) with client-go's wording."""
    nodes: list[Any] = []
    stack: list[tuple[list[Any], _Path]] = []
    i = 0
    n = len(source)
    while i < n:
        j = source.find("{", i)
        if j < 0:
            nodes.append(_Text(source[i:]))
            break
        if j > i:
            nodes.append(_Text(source[i:j]))
        k = _closing(source, j + 1, "}")
        if k < 0:
            rest = source[j:]
            what = "unterminated array" if rest.count("[") > rest.count("]") else "unclosed action"
            raise JSONPathError(f"error parsing jsonpath {source}, {what}", parsing=True)
        action = source[j + 1 : k].strip()
        i = k + 1
        if action == "end":
            if not stack:
                raise JSONPathError("not in range, nothing to end", parsing=False)
            body, path = nodes, None
            nodes, path = stack.pop()
            nodes.append(_Range(path, tuple(body)))
            continue
        if action.startswith("range ") or action.startswith("range\t"):
            stack.append((nodes, _parse_path(action[6:].strip(), source)))
            nodes = []
            continue
        if len(action) >= 2 and action[0] in "\"'" and action[-1] == action[0]:
            nodes.append(_Text(_unquote(action[1:-1], action[0])))
            continue
        nodes.append(_parse_path(action, source))
    if stack:
        raise JSONPathError(f"error parsing jsonpath {source}, unclosed range", parsing=True)
    return Template(source, tuple(nodes))


def _closing(s: str, i: int, close: str) -> int:
    """The index of the first ``close`` at or after ``i`` that stands outside quotes (a
    backslash escapes inside them) and outside the brackets opened after ``i``; ``-1`` if
    there is none. ``}`` ends an action, ``]`` a bracket step. ``O(len(s))``."""
    quote = ""
    depth = 0
    while i < len(s):
        c = s[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == close and depth <= 0:
            return i
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        i += 1
    return -1


# --------------------------------------------------------------------------------------------
# paths

# steps: ("field", name) | ("recursive",) | ("wild",) | ("index", i) | ("slice", a, b, c)
#        | ("union", (path, ...)) | ("filter", path, op, literal-or-path)

_FILTER = re.compile(r"^\?\((.*)\)$", re.DOTALL)
_CMP = re.compile(r"^(.*?)\s*(==|!=|<=|>=|<|>)\s*(.*)$", re.DOTALL)


def _parse_path(text: str, source: str) -> _Path:
    s = text
    root = False
    if s.startswith("$"):
        root, s = True, s[1:]
    elif s.startswith("@"):
        s = s[1:]
    steps: list[Any] = []
    i = 0
    while i < len(s):
        c = s[i]
        if s.startswith("..", i):
            steps.append(("recursive",))
            i += 2
            name, i = _name(s, i)
            if name:
                steps.append(("wild",) if name == "*" else ("field", name))
            continue
        if c == ".":
            i += 1
            name, i = _name(s, i)
            if name == "*":
                steps.append(("wild",))
            elif name:
                steps.append(("field", name))
            continue
        if c == "[":
            k = _closing(s, i + 1, "]")
            if k < 0:
                raise JSONPathError(f"error parsing jsonpath {source}, unterminated array", parsing=True)
            steps.append(_bracket(s[i + 1 : k].strip(), source))
            i = k + 1
            continue
        name, j = _name(s, i)
        if not name:
            raise JSONPathError(f"error parsing jsonpath {source}, unrecognized character in action: {c!r}", parsing=True)
        steps.append(("field", name))
        i = j
    return _Path(tuple(steps), root)


def _name(s: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if c in ".[ ":
            break
        out.append(c)
        i += 1
    return "".join(out), i


def _split_top(s: str, sep: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for c in s:
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    parts.append("".join(cur))
    return parts


def _bracket(body: str, source: str) -> Any:
    m = _FILTER.match(body)
    if m:
        expr = m.group(1).strip()
        cmp = _CMP.match(expr)
        if cmp is None:
            return ("filter", _parse_path(expr, source), None, None)
        left, op, right = cmp.group(1).strip(), cmp.group(2), cmp.group(3).strip()
        return ("filter", _parse_path(left, source), op, _literal(right, source))
    if body == "*":
        return ("wild",)
    parts = [p.strip() for p in _split_top(body, ",")]
    if len(parts) > 1:
        return ("union", tuple(_member(p, source) for p in parts))
    only = parts[0]
    if only and only[0] in "\"'":
        return ("field", _unquote(only[1:-1], only[0]))
    if ":" in only:
        bits = only.split(":")
        if len(bits) > 3:
            raise JSONPathError(f"error parsing jsonpath {source}, invalid array index {only}", parsing=True)
        try:
            nums = [int(b) if b.strip() else None for b in bits] + [None] * (3 - len(bits))
        except ValueError:
            raise JSONPathError(f"error parsing jsonpath {source}, invalid array index {only}", parsing=True) from None
        return ("slice", nums[0], nums[1], nums[2])
    try:
        return ("index", int(only))
    except ValueError:
        raise JSONPathError(f"error parsing jsonpath {source}, invalid array index {only}", parsing=True) from None


def _member(p: str, source: str) -> _Path:
    if p and p[0] in "\"'":
        # a quoted member is a path of its own: ['metadata.name', 'status.capacity']
        return _parse_path(_unquote(p[1:-1], p[0]), source)
    try:
        return _Path((("index", int(p)),))
    except ValueError:
        return _parse_path(p, source)


def _literal(text: str, source: str) -> Any:
    if text and text[0] in "\"'" and text[-1] == text[0]:
        return ("lit", _unquote(text[1:-1], text[0]))
    try:
        return ("lit", int(text))
    except ValueError:
        pass
    try:
        return ("lit", float(text))
    except ValueError:
        pass
    if text in ("true", "false"):
        return ("lit", text == "true")
    return ("path", _parse_path(text, source))


# --------------------------------------------------------------------------------------------
# evaluation


def _children(v: Any) -> list[Any]:
    if isinstance(v, dict):
        return [v[k] for k in sorted(v)]
    if isinstance(v, list):
        return list(v)
    return []


def _descend(v: Any, out: list[Any]) -> None:
    out.append(v)
    for c in _children(v):
        if isinstance(c, (dict, list)):
            _descend(c, out)


def _eval(path: _Path, cur: Any, root: Any) -> list[Any]:
    values = [root if path.root else cur]
    for step in path.steps:
        kind = step[0]
        nxt: list[Any] = []
        if kind == "field":
            for v in values:
                if isinstance(v, dict) and step[1] in v:
                    nxt.append(v[step[1]])
        elif kind == "wild":
            for v in values:
                nxt += _children(v)
        elif kind == "recursive":
            for v in values:
                _descend(v, nxt)
        elif kind == "index":
            for v in values:
                if isinstance(v, list):
                    i = step[1]
                    if not -len(v) <= i < len(v):
                        raise JSONPathError(f"array index out of bounds: index {i}, length {len(v)}", parsing=False)
                    nxt.append(v[i])
        elif kind == "slice":
            for v in values:
                if isinstance(v, list):
                    nxt += _slice(v, step[1], step[2], step[3])
        elif kind == "union":
            for member in step[1]:
                for v in values:
                    nxt += _eval(member, v, root)
        elif kind == "filter":
            _, left, op, right = step
            for v in values:
                for item in _children(v) if isinstance(v, list) else [v]:
                    if _test(item, left, op, right, root):
                        nxt.append(item)
        values = nxt
    return values


def _slice(v: list[Any], a: int | None, b: int | None, c: int | None) -> list[Any]:
    n = len(v)
    start = 0 if a is None else (a + n if a < 0 else a)
    end = n if b is None else (b + n if b < 0 else b)
    if start < 0 or start > n or end < 0:
        raise JSONPathError(f"array index out of bounds: index {a}, length {n}", parsing=False)
    end = min(end, n)
    if start > end:
        raise JSONPathError(f"starting index {start} is greater than ending index {end}", parsing=False)
    return v[start:end:(c or 1)]


def _test(item: Any, left: _Path, op: str | None, right: Any, root: Any) -> bool:
    got = _eval(left, item, root)
    if op is None:
        return bool(got)
    if not got:
        return False
    if right[0] == "lit":
        want = right[1]
    else:
        found = _eval(right[1], item, root)
        if not found:
            return False
        want = found[0]
    lhs = got[0]
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "==": lambda x, y: bool(x == y),
        "!=": lambda x, y: bool(x != y),
        "<": lambda x, y: bool(x < y),
        ">": lambda x, y: bool(x > y),
        "<=": lambda x, y: bool(x <= y),
        ">=": lambda x, y: bool(x >= y),
    }
    try:
        return compare[op](lhs, want)
    except TypeError:
        return False


def format_value(v: Any) -> str:
    """One result as kubectl's JSONPath printer prints it."""
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _run(nodes: tuple[Any, ...], cur: Any, root: Any, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, _Text):
            out.append(node.text)
        elif isinstance(node, _Path):
            out.append(" ".join(format_value(v) for v in _eval(node, cur, root)))
        else:
            for item in _eval(node.path, cur, root):
                _run(node.body, item, root, out)


def find(expression: str, data: Any) -> list[Any]:
    """The results of one ``{path}`` expression (braces optional) on ``data``."""
    text = expression.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return _eval(_parse_path(text, expression), data, data)


def render(template: str, data: Any) -> str:
    """``parse(template).execute(data)``."""
    return parse(template).execute(data)
