"""Generate docs/api.md from kubesim.__all__: ``python tools/gen_api_docs.py`` from the repo root.

tests/test_docs.py checks that docs/api.md equals what this script renders."""
import inspect

import kubesim

groups = []
src = inspect.getsource(kubesim)
block = src.split("__all__ = [", 1)[1].split("]", 1)[0]
current = None
for line in block.splitlines():
    line = line.strip()
    if line.startswith("#"):
        current = [line[1:].strip(), []]
        groups.append(current)
    elif line.startswith('"'):
        current[1].append(line.strip('",'))
def _ann(a):
    return a if isinstance(a, str) else inspect.formatannotation(a)


def fmt_sig(obj, kind, name):
    sig = inspect.signature(obj)
    parts = []
    star = False
    for p in sig.parameters.values():
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.kind is p.VAR_POSITIONAL:
            star = True
        t = ("*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else "") + p.name
        if p.annotation is not p.empty:
            t += f": {_ann(p.annotation)}"
            if p.default is not p.empty:
                t += f" = {p.default!r}"
        elif p.default is not p.empty:
            t += f"={p.default!r}"
        parts.append(t)
    ret = ""
    if kind != "class" and sig.return_annotation is not sig.empty:
        ret = f" -> {_ann(sig.return_annotation)}"
    head = f"{'class ' if kind == 'class' else ''}kubesim.{name}"
    one = f"{head}({', '.join(parts)}){ret}"
    if len(one) <= 100:
        return one
    return head + "(\n" + "".join(f"    {x},\n" for x in parts) + ")" + ret


out = ["# API reference", "",
       "Every name exported by `kubesim` (`kubesim.__all__`), grouped as `kubesim/__init__.py` groups",
       "them, with its signature and the first line of its docstring. Everything else (module names,",
       "`kubesim.scenarios`, `kubesim.report`, `kubesim.kubectl`) is reachable but not part of the",
       "stable surface; see their module docstrings.", "",
       "This page was generated from the installed package by a short script that walks",
       "`kubesim.__all__` and prints `inspect.signature` and the first docstring line of each name;",
       "`tests/test_docs.py` checks that every exported name has an entry here.", ""]
for title, names in groups:
    out += [f"## {title.capitalize()}", ""]
    for name in names:
        obj = getattr(kubesim, name)
        out.append(f"### `{name}`")
        out.append("")
        try:
            sig = str(inspect.signature(obj))
        except (TypeError, ValueError):
            sig = None
        kind = "class" if inspect.isclass(obj) else "function"
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            bases = ", ".join(b.__name__ for b in obj.__bases__)
            out.append("```python")
            out.append(f"class {name}({bases})")
            out.append("```")
        elif sig is not None:
            out.append("```python")
            text = fmt_sig(obj, kind, name)
            if len(text) > 100 and False:
                params = list(inspect.signature(obj).parameters.values())
                inner = [f"    {p}," for p in params]
                ret = inspect.signature(obj).return_annotation
                tail = ")" if ret is inspect.Signature.empty or kind == "class" else f") -> {inspect.formatannotation(ret)}"
                # keep the '*' marker
                text = f"{'class ' if kind == 'class' else ''}kubesim.{name}(\n" + "\n".join(inner) + "\n" + tail
            out.append(text)
            out.append("```")
        doc = inspect.getdoc(obj) or ""
        first = doc.strip().split("\n\n")[0].replace("\n", " ").strip()
        out.append("")
        out.append(first or "(no docstring)")
        out.append("")
        if name in ("Cluster", "ChangeLog"):
            out.append(f"Public methods and properties of `{name}`:")
            out.append("")
            for m, member in sorted(vars(obj).items()):
                if m.startswith("_"):
                    continue
                if isinstance(member, property):
                    d = (inspect.getdoc(member) or "").split("\n\n")[0].replace("\n", " ")
                    out.append(f"* `{name.lower() if name == 'Cluster' else 'log'}.{m}` (property): {d}")
                elif inspect.isfunction(member):
                    sig = inspect.signature(member)
                    params = [p for p in sig.parameters.values() if p.name != "self"]
                    ptxt = []
                    star = False
                    for p in params:
                        if p.kind is p.KEYWORD_ONLY and not star:
                            ptxt.append("*")
                            star = True
                        t = ("**" if p.kind is p.VAR_KEYWORD else "*" if p.kind is p.VAR_POSITIONAL else "") + p.name
                        if p.default is not p.empty:
                            t += f"={p.default!r}"
                        ptxt.append(t)
                    d = (inspect.getdoc(member) or "").split("\n\n")[0].replace("\n", " ")
                    out.append(f"* `{name.lower() if name == 'Cluster' else 'log'}.{m}({', '.join(ptxt)})`: {d}")
            out.append("")
TEXT = "\n".join(out).rstrip() + "\n"

if __name__ == "__main__":
    with open("docs/api.md", "w") as f:
        f.write(TEXT)
