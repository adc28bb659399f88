"""Check mode: the lean engine against its oracle, the full model, record for record.

:func:`compare_logs` walks two change logs and raises :class:`Divergence` at the first record
where any field of :data:`FIELDS` differs, or where one log has a record the other lacks, naming
the record and the field. :func:`check_workload` runs one workload on a
:class:`~kubesim.lean.engine.LeanCluster` and on a :class:`kubesim.Cluster` with the same
options and compares their logs (and, at the end, their stored objects). The same comparison
per write, in one cluster, is ``kubesim.Cluster(check=True)`` (:mod:`kubesim.lean.checked`),
which raises :class:`Divergence` too.

>>> from kubesim import scenarios
>>> def rollout(c):
...     scenarios.deploy(c, "web", replicas=3); c.run()
...     scenarios.set_image(c, "web", "nginx:1.26"); c.run()
>>> lean, full = check_workload(rollout, seed=0, nodes=2)
>>> len(lean.changes) == len(full.changes)
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kubesim.errors import KubesimError

__all__ = ["Divergence", "FIELDS", "record_values", "compare_logs", "check_workload"]

#: The fields of a change-log record that the lean engine must reproduce.
FIELDS = (
    "seq", "time", "verb", "kind", "namespace", "name", "resource_version", "actor",
    "json_bytes", "proto_bytes", "labels", "trigger_time", "outcome", "cause",
)


def record_values(e: Any) -> tuple[Any, ...]:
    """The :data:`FIELDS` of change-log record ``e`` as a tuple, ``labels`` as its sorted
    ``(key, value)`` pairs: a plain value to hash, store or compare whole."""
    return tuple(sorted(e.labels.items()) if f == "labels" else getattr(e, f) for f in FIELDS)


class Divergence(KubesimError):
    """The lean engine's change log differs from the full model's (or, in check mode, one of
    its steps from the full model's step). ``seq`` is the change-log record where they differ
    (in check mode: the record the write makes, or would have made), ``field`` what differs,
    ``lean`` and ``full`` the two values."""

    def __init__(self, seq: int, field: str, lean: Any, full: Any, detail: str = "") -> None:
        self.seq, self.field, self.lean, self.full = seq, field, lean, full
        super().__init__(f"change-log record {seq}: {field} is {_short(lean)} in the lean engine, {_short(full)} in "
                         f"the full model{detail}")


#: The longest value a :class:`Divergence` message shows (its attributes hold the whole values).
_SHOWN = 2000


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}... ({len(text)} characters)"


def _describe(e: Any) -> str:
    return f"{e.verb} {e.kind} {e.namespace}/{e.name} at {e.time:g} by {e.actor}"


def compare_logs(lean: Sequence[Any], full: Sequence[Any], *, start: int = 0) -> int:
    """Compare ``lean[start:]`` with ``full[start:]`` field by field; returns the number of
    records compared equal (``len`` of both). Raises :class:`Divergence`. ``O(records)``."""
    n = min(len(lean), len(full))
    for i in range(start, n):
        a, b = lean[i], full[i]
        for field in FIELDS:
            va, vb = getattr(a, field), getattr(b, field)
            if field == "labels":
                va, vb = dict(va), dict(vb)
            if va != vb:
                raise Divergence(i, field, va, vb, f" (lean: {_describe(a)}; full: {_describe(b)})")
    if len(lean) != len(full):
        longer = lean if len(lean) > len(full) else full
        who = "lean engine" if longer is lean else "full model"
        raise Divergence(n, "length", len(lean), len(full),
                         f" (only the {who} has record {n}: {_describe(longer[n])})")
    return n


def check_workload(workload: Callable[[Any], object], *, check: bool = False, **options: Any) -> tuple[Any, Any]:
    """Run ``workload(cluster)`` on a :class:`~kubesim.lean.engine.LeanCluster` and on a
    :class:`kubesim.Cluster` built with the same ``options``; raise :class:`Divergence` at the
    first differing change-log record (or if the stored objects differ at the end). Returns
    ``(lean, full)``. Exceptions the workload raises propagate (from the lean run first).
    With ``check=True`` the lean run is in check mode as well (``LeanCluster(check=True)``),
    so a divergence is named at the write that makes it; the full run is the plain model."""
    import kubesim
    from kubesim.lean.engine import LeanCluster

    lean = LeanCluster(check=check, **options)
    workload(lean)
    full = kubesim.Cluster(**{**options, "engine": "full"})
    workload(full)
    compare_logs(lean.changes, full.changes)
    if lean.api.snapshot() != full.api.snapshot():
        raise Divergence(len(full.changes), "stored objects", "differ", "differ")
    return lean, full
