"""Check mode: the lean change log against the full model's, record for record.

:func:`compare_logs` walks both logs from ``start`` and raises :class:`Divergence` at the first
record where any field of :data:`~kubesim.lean.log.FIELDS` differs, or where one log has a
record the other lacks, naming the record and the field. ``O(records compared)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubesim.errors import KubesimError
from kubesim.lean.log import FIELDS

__all__ = ["Divergence", "compare_logs"]


class Divergence(KubesimError):
    """The lean engine's change log differs from the full model's."""

    def __init__(self, seq: int, field: str, lean: Any, full: Any, detail: str = "") -> None:
        self.seq, self.field, self.lean, self.full = seq, field, lean, full
        super().__init__(f"change-log record {seq}: {field} is {lean!r} in the lean engine, {full!r} in the full "
                         f"model{detail}")


def _describe(e: Any) -> str:
    return f"{e.verb} {e.kind} {e.namespace}/{e.name} at {e.time:g} by {e.actor}"


def compare_logs(lean: Sequence[Any], full: Sequence[Any], *, start: int = 0) -> int:
    """Compare ``lean[start:]`` with ``full[start:]``; returns the number of records now known
    equal (``len`` of both). Raises :class:`Divergence`."""
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
