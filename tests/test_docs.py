"""The documentation runs: code blocks in the tutorial, the guides and the README's tour.

* Every ```` ```python ```` block of ``docs/tutorial.md`` runs, in order, in one namespace, from
  the repository root, as a reader pasting them into one session would. A ```` ```text ````
  block that directly follows a Python block (nothing but blank lines between) is the output the
  reader is promised: it must equal what the block prints (doctest-style, exact but for
  trailing whitespace at line ends and blank lines at the end).
* Each guide in ``docs/guides/`` is run the same way, one namespace per guide.
* The README's "A short tour" block runs (the README's other Python snippet is a schematic
  with undefined names and is not run).
* ``docs/api.md`` documents every name in ``kubesim.__all__``.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
from pathlib import Path

import pytest

import kubesim

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDES = sorted((DOCS / "guides").glob("*.md"))

_FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def blocks(text: str) -> list[tuple[str, str, str | None]]:
    """``(language, code, expected output or None)`` for every fenced block, in order; the
    expected output of a ``python`` block is a ``text`` block directly after it."""
    found = [(m.group(1), m.group(2), m.start(), m.end()) for m in _FENCE.finditer(text)]
    out: list[tuple[str, str, str | None]] = []
    for i, (lang, code, _start, end) in enumerate(found):
        expected = None
        if lang == "python" and i + 1 < len(found):
            nlang, ncode, nstart, _ = found[i + 1]
            if nlang == "text" and text[end:nstart].strip() == "":
                expected = ncode
        out.append((lang, code, expected))
    return out


def _normal(s: str) -> str:
    return "\n".join(line.rstrip() for line in s.rstrip("\n").splitlines())


def run_python_blocks(path: Path, monkeypatch: pytest.MonkeyPatch, *, only_first: bool = False) -> int:
    """Run the file's Python blocks in one namespace; check promised outputs. Returns the
    number of blocks run."""
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    ran = 0
    for n, (lang, code, expected) in enumerate(blocks(path.read_text(encoding="utf-8"))):
        if lang != "python":
            continue
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                exec(compile(code, f"{path.name}[block {n}]", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - the failure message is the point
                raise AssertionError(f"{path.relative_to(ROOT)} block {n} raised {exc!r}:\n{code}") from exc
        ran += 1
        if expected is not None and _normal(buf.getvalue()) != _normal(expected):
            diff = "\n".join(
                difflib.unified_diff(
                    _normal(expected).splitlines(),
                    _normal(buf.getvalue()).splitlines(),
                    "shown in the doc",
                    "printed now",
                    lineterm="",
                )
            )
            pytest.fail(f"{path.relative_to(ROOT)} block {n}: output differs:\n{code}\n{diff}", pytrace=False)
        if only_first:
            break
    return ran


def test_blocks_parser() -> None:
    text = "x\n```python\nprint(1)\n```\n\n```text\n1\n```\n```bash\nls\n```\n```python\npass\n```\n"
    assert blocks(text) == [("python", "print(1)\n", "1\n"), ("text", "1\n", None), ("bash", "ls\n", None),
                            ("python", "pass\n", None)]


def test_tutorial_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_python_blocks(DOCS / "tutorial.md", monkeypatch) >= 10


@pytest.mark.parametrize("guide", GUIDES, ids=[g.stem for g in GUIDES])
def test_guide_runs(guide: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_python_blocks(guide, monkeypatch)


def test_guides_exist() -> None:
    names = {g.stem for g in GUIDES}
    assert {"the-change-log", "determinism", "slice-packing", "size-model"} <= names


def test_readme_tour_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A short tour", 1)[1]
    tour_file = DOCS / ".." / "README.md"
    # run only the tour's first block, which is self-contained
    first = next(code for lang, code, _ in blocks(tour) if lang == "python")
    monkeypatch.chdir(ROOT)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(first, str(tour_file.name), "exec"), {"__name__": "__docs__"})
    assert "nginx-service" in buf.getvalue()


def test_api_reference_lists_every_public_name() -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `(?:kubesim\.)?([A-Za-z_][A-Za-z0-9_]*)", text, re.MULTILINE))
    missing = sorted(set(kubesim.__all__) - documented)
    assert not missing, f"docs/api.md lacks {missing}; regenerate it (see the top of docs/api.md)"
    stale = sorted(documented - set(kubesim.__all__) - {"__version__"})
    assert not stale, f"docs/api.md documents names not in kubesim.__all__: {stale}"


def test_api_reference_is_up_to_date() -> None:
    import runpy

    rendered = runpy.run_path(str(ROOT / "tools" / "gen_api_docs.py"))["TEXT"]
    assert (ROOT / "docs" / "api.md").read_text() == rendered, "run: python tools/gen_api_docs.py"
