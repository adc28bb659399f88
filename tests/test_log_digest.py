"""``benchmarks/log_digest.py``, the oracle for changes to code both engines share: its records are
the change log's, field for field, and the lean engine and the full model give the same digest."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

from kubesim.lean import FIELDS

_PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "log_digest.py"


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("log_digest", _PATH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["log_digest"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_records_are_the_change_log_and_engines_agree() -> None:
    mod = _module()
    lean_c, lean_records = mod.run("lifecycle-12", "lean")
    full_c, full_records = mod.run("lifecycle-12", "full")
    assert lean_records == full_records
    assert len(lean_records) == len(lean_c.changes) > 100
    e = lean_c.changes[-1]
    assert lean_records[-1] == tuple(sorted(e.labels.items()) if f == "labels" else getattr(e, f) for f in FIELDS)
    # the workload exercises what its name says: a probe failure, a node failure, a drain, a restart
    verbs = {(r[FIELDS.index("verb")], r[FIELDS.index("kind")]) for r in lean_records}
    assert ("delete", "Pod") in verbs and ("create", "ReplicaSet") in verbs


def test_first_difference_is_reported(tmp_path: pathlib.Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    import pytest

    mod = _module()
    _, records = mod.run("lifecycle-12", "lean")
    dump = tmp_path / "other.jsonl"
    changed = [list(r) for r in records]
    changed[5][FIELDS.index("json_bytes")] += 1
    dump.write_text("".join(json.dumps(r, default=str) + "\n" for r in changed))
    sys_argv = sys.argv
    sys.argv = ["log_digest.py", "--only", "lifecycle-12", "--first-difference", str(dump)]
    try:
        with pytest.raises(SystemExit):
            mod.main()
    finally:
        sys.argv = sys_argv
    assert "first difference at record 5" in capsys.readouterr().out
