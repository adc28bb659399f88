"""``benchmarks/log_digest.py``, the oracle for changes to code both engines share: its records are
the change log's, field for field; the lean engine and the full model give the same records; its
lifecycle workload does what its name says; a dump that differs is reported at its record."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys
import types
from collections import Counter

import pytest

from kubesim.lean import FIELDS

_PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "log_digest.py"


def _module() -> types.ModuleType:
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
    for e, record in zip(lean_c.changes, lean_records, strict=True):
        values = dict(zip(FIELDS, record, strict=True))
        assert dict(values.pop("labels")) == dict(e.labels)
        assert values == {f: getattr(e, f) for f in values}
    # the lifecycle: node failure (node-lifecycle-controller), drain (kubectl cordons), restart (a
    # second ReplicaSet), pod deletions
    seen = Counter((e.verb, e.kind, e.actor) for e in lean_c.changes)
    assert seen["update", "Node", "node-lifecycle-controller"] >= 1
    assert seen["update", "Node", "kubectl"] >= 1
    assert seen["create", "ReplicaSet", "deployment-controller"] == 2
    assert seen["delete", "Pod", "kubelet"] >= 1


def test_first_difference_is_reported(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    mod = _module()
    dump = tmp_path / "other.jsonl"
    mod.main(["--only", "lifecycle-12", "--dump", str(dump)])
    mod.main(["--only", "lifecycle-12", "--first-difference", str(dump)])
    assert capsys.readouterr().out.rstrip().endswith("identical")
    lines = dump.read_text().splitlines()
    changed = json.loads(lines[5])
    changed[FIELDS.index("json_bytes")] += 1
    lines[5] = json.dumps(changed)
    dump.write_text("\n".join(lines) + "\n")
    with pytest.raises(SystemExit):
        mod.main(["--only", "lifecycle-12", "--first-difference", str(dump)])
    out = capsys.readouterr().out
    assert "first difference at record 5: {'json_bytes'" in out


def test_dump_needs_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _module().main(["--dump", "x.jsonl"])
    assert "--dump and --first-difference need --only" in capsys.readouterr().err
