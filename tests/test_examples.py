"""Every teaching example in ``examples/`` runs and prints exactly its saved output.

Each ``examples/NN_name.py`` is run as a user would run it (``python examples/NN_name.py`` from
the repository root, in a fresh interpreter) and its stdout is compared with
``examples/NN_name.out``. A mismatch fails with a unified diff.

After a deliberate change of behaviour, rewrite the saved outputs with::

    KUBESIM_UPDATE_EXAMPLES=1 python -m pytest -q tests/test_examples.py

and review the diff of ``examples/*.out`` before committing it.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
UPDATE = os.environ.get("KUBESIM_UPDATE_EXAMPLES", "") not in ("", "0")


def _run(script: Path, hash_seed: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["PYTHONHASHSEED"] = hash_seed  # output must not depend on str hashing
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run(
        [sys.executable, str(script.relative_to(ROOT))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"{script.name} exited with {proc.returncode}:\n{proc.stderr}"
    return proc.stdout


def test_there_are_examples() -> None:
    names = [p.stem for p in SCRIPTS]
    assert len(names) >= 7, names
    # every script has its saved output and every saved output its script
    outs = sorted(p.stem for p in EXAMPLES.glob("[0-9][0-9]_*.out"))
    if not UPDATE:
        assert outs == names


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_example_output(script: Path) -> None:
    expected_path = script.with_suffix(".out")
    actual = _run(script, hash_seed="0")
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
        return
    assert expected_path.exists(), f"{expected_path.name} is missing; run with KUBESIM_UPDATE_EXAMPLES=1"
    expected = expected_path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"examples/{expected_path.name} (saved)",
                tofile=f"python examples/{script.name} (now)",
            )
        )
        pytest.fail(
            f"output of examples/{script.name} differs from its saved output "
            f"(KUBESIM_UPDATE_EXAMPLES=1 rewrites it):\n{diff}",
            pytrace=False,
        )


def test_examples_do_not_depend_on_hash_seed() -> None:
    """Determinism: a different ``PYTHONHASHSEED`` gives the same text (the quickest example)."""
    script = EXAMPLES / "01_endpoints_and_slices.py"
    assert _run(script, hash_seed="0") == _run(script, hash_seed="12345")
