"""Every relative link, repository path and ``kubesim.`` name that the docs cite exists.

The docs are read as a newcomer reads them: a path in backticks or a Markdown link that names a
file of this repository must lead to that file, and a dotted ``kubesim.…`` name must import. A
path whose first folder is not one of the repository's (an upstream path such as
``pkg/controller/endpoint/endpoints_controller.go``) is not this repository's to check, unless
it names a kind of file this repository holds (``.md``, ``.py``, ``.yaml``, …): a doc cites
those only from here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(
    [
        ROOT / "README.md",
        *ROOT.glob("docs/**/*.md"),
        # the repository's own folders: not tool caches such as .pytest_cache/README.md
        *(p for p in ROOT.glob("*/README.md") if not p.parent.name.startswith(".")),
    ],
    key=str,
)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_TICKED = re.compile(r"`([^`\s]+)`")
_PATHLIKE = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]*)+")
# not followed by "/": ``kubesim.io/v1alpha1`` is kubesim serve's API group, not a Python name
_DOTTED = re.compile(r"kubesim(\.[A-Za-z_][A-Za-z0-9_]*)+(?![\w/])")
#: Suffixes of this repository's own files: a path ending so is checked wherever it points.
_OWN_SUFFIXES = (".md", ".py", ".txt", ".yaml", ".yml", ".toml", ".out", ".json", ".ipynb")
#: Placeholders and patterns, not paths: ``tests/test_lean*.py``, ``<checkout>/...``.
_PATTERN_CHARS = set("*<>{}$")


def _bases(doc: Path) -> list[Path]:
    """Where a relative path in ``doc`` may be rooted: the doc's folder, the repository, and
    the package (docs say ``controllers/…`` for ``kubesim/controllers/…``)."""
    return [doc.parent, ROOT, ROOT / "kubesim"]


def _paths(doc: Path) -> list[str]:
    text = doc.read_text(encoding="utf-8")
    found = [m.group(1).split("#", 1)[0] for m in _LINK.finditer(text)]
    found = [p for p in found if p and "://" not in p and not p.startswith("mailto:")]
    found += [m.group(1) for m in _TICKED.finditer(text) if _PATHLIKE.fullmatch(m.group(1))]
    return [p for p in found if not (_PATTERN_CHARS & set(p))]


def _missing_path(doc: Path, path: str) -> bool:
    """True when ``path`` names this repository's file or folder and it does not exist."""
    first = path.strip("/").split("/", 1)[0]
    for base in _bases(doc):
        if first in {".", ".."} or (base / first).exists():
            return not (base / path).exists()
    if path.endswith(_OWN_SUFFIXES):
        return not any((base / path).exists() for base in _bases(doc))
    return False  # not a path into this repository


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_a_doc_names_exists(doc: Path) -> None:
    missing = sorted({p for p in _paths(doc) if _missing_path(doc, p)})
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_kubesim_name_a_doc_cites_resolves(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    names = {m.group(0) for m in _DOTTED.finditer(text)}
    missing = sorted(n for n in names if not _resolves(n))
    assert not missing, f"{doc.relative_to(ROOT)} cites names that do not resolve: {missing}"


def test_the_checker_sees_a_dangling_path(tmp_path: Path) -> None:
    doc = ROOT / "docs" / "x.md"
    assert _missing_path(doc, "kubesim/no_such_module.py")
    assert _missing_path(doc, "../tests/no_such_test.py")
    assert _missing_path(doc, "reference/endpointslice-controller.md")  # outside the repository
    assert not _missing_path(doc, "kubesim/cluster.py")
    assert not _missing_path(doc, "pkg/controller/endpoint/endpoints_controller.go")
    assert not _resolves("kubesim.Cluster.no_such_method")
    assert _resolves("kubesim.Cluster.run")
