"""The lean engine's change log: columns of codes and numbers, a
:class:`~kubesim.changelog.ChangeEvent` built only when a record is read.

:class:`LeanLog` offers the read interface of :class:`~kubesim.changelog.ChangeLog`
(``len``, indexing and slicing, iteration, :meth:`committed`, :meth:`where`, ``next_seq``), so
:func:`kubesim.report.churn` and every other fold over a change log take it as it is.

Costs: :meth:`append` is ``O(1)`` (one list append per column, no object); reading a record
builds one ``ChangeEvent``, ``O(1)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from kubesim.changelog import ChangeEvent
from kubesim.objects import EMPTY, FrozenDict

__all__ = ["LeanLog", "FIELDS"]

#: The fields every record carries, in ``ChangeEvent`` order (what check mode compares).
FIELDS = (
    "seq", "time", "verb", "kind", "namespace", "name", "resource_version", "actor",
    "json_bytes", "proto_bytes", "labels", "trigger_time", "outcome", "cause",
)


class LeanLog(Sequence[ChangeEvent]):
    """An append-only, columnar change log (committed writes only: the lean engine injects no
    faults). See the module docstring."""

    __slots__ = ("_time", "_verb", "_kind", "_ns", "_name", "_rv", "_actor", "_json", "_proto",
                 "_labels", "_trigger", "_cause")

    def __init__(self) -> None:
        self._time: list[float] = []
        self._verb: list[str] = []
        self._kind: list[str] = []
        self._ns: list[str] = []
        self._name: list[str] = []
        self._rv: list[int] = []
        self._actor: list[str] = []
        self._json: list[int] = []
        self._proto: list[int] = []
        self._labels: list[FrozenDict] = []
        self._trigger: list[float | None] = []
        self._cause: list[str] = []

    def append(
        self, time: float, verb: str, kind: str, namespace: str, name: str, rv: int, actor: str,
        json_bytes: int, proto_bytes: int, labels: FrozenDict, trigger_time: float | None, cause: str,
    ) -> None:
        """Record one committed write. ``O(1)``."""
        self._time.append(time)
        self._verb.append(verb)
        self._kind.append(kind)
        self._ns.append(namespace)
        self._name.append(name)
        self._rv.append(rv)
        self._actor.append(actor)
        self._json.append(json_bytes)
        self._proto.append(proto_bytes)
        self._labels.append(labels)
        self._trigger.append(trigger_time)
        self._cause.append(cause)

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next record will carry."""
        return len(self._time)

    def __len__(self) -> int:
        return len(self._time)

    def _event(self, i: int) -> ChangeEvent:
        return ChangeEvent(
            seq=i, time=self._time[i], verb=self._verb[i], kind=self._kind[i], namespace=self._ns[i],
            name=self._name[i], resource_version=self._rv[i], actor=self._actor[i],
            json_bytes=self._json[i], proto_bytes=self._proto[i], labels=self._labels[i] or EMPTY,
            trigger_time=self._trigger[i], outcome="ok", cause=self._cause[i],
        )

    @overload
    def __getitem__(self, index: int) -> ChangeEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[ChangeEvent]: ...

    def __getitem__(self, index: int | slice) -> ChangeEvent | Sequence[ChangeEvent]:
        n = len(self._time)
        if isinstance(index, slice):
            return [self._event(i) for i in range(*index.indices(n))]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("LeanLog index out of range")
        return self._event(index)

    def __iter__(self) -> Iterator[ChangeEvent]:
        return (self._event(i) for i in range(len(self._time)))

    def committed(self) -> Iterator[ChangeEvent]:
        """Every record (the lean engine records committed writes only)."""
        return iter(self)

    def where(
        self,
        *,
        kind: str | None = None,
        verb: str | None = None,
        actor: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
    ) -> list[ChangeEvent]:
        """The records matching every given field. ``O(len(log))``."""
        out = []
        for i in range(len(self._time)):
            if kind is not None and self._kind[i] != kind:
                continue
            if verb is not None and self._verb[i] != verb:
                continue
            if actor is not None and self._actor[i] != actor:
                continue
            if namespace is not None and self._ns[i] != namespace:
                continue
            if name is not None and self._name[i] != name:
                continue
            out.append(self._event(i))
        return out

    def column(self, field: str) -> list[Any]:
        """One column as a list (``"time"``, ``"kind"``, ``"json_bytes"`` …; ``"seq"`` gives
        ``range``). ``O(len)``."""
        if field == "seq":
            return list(range(len(self._time)))
        if field == "outcome":
            return ["ok"] * len(self._time)
        attr = {"namespace": "_ns", "resource_version": "_rv", "json_bytes": "_json", "proto_bytes": "_proto",
                "trigger_time": "_trigger"}.get(field, "_" + field)
        if field not in FIELDS:
            raise KeyError(field)
        return list(getattr(self, attr))

    def __repr__(self) -> str:
        return f"<LeanLog of {len(self._time)} events>"
