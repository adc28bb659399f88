"""Server-side printing: ``meta.k8s.io/v1`` ``Table`` responses from kubesim's kubectl views.

kubectl asks the API server for a Table (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``)
and prints its cells; the API server fills them with ``pkg/printers/internalversion/printers.go``.
kubesim's own ``cluster.kubectl("get ...")`` uses the same column definitions and cell functions
(:func:`kubesim.kubectl.printers.table_columns` and :func:`~kubesim.kubectl.printers.table_row`), so real kubectl against ``kubesim serve`` prints what
kubesim prints. Columns shown only by ``-o wide`` have ``priority`` 1; each row carries the
object's metadata (``includeObject=Metadata``, the default) so that kubectl can add the
NAMESPACE and LABELS columns itself. ``O(rows × columns)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubesim import manifests

__all__ = ["table"]

_DESCRIPTIONS = {
    "Name": "Name must be unique within a namespace.",
    "Age": "CreationTimestamp is a timestamp representing the server time when this object was created.",
}


def _column(name: str, priority: int) -> dict[str, Any]:
    return {
        "name": name,
        "type": "string",
        "format": "name" if name == "Name" else "",
        "description": _DESCRIPTIONS.get(name, name),
        "priority": priority,
    }


def _row_object(obj: Any, include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    m = manifests.to_manifest(obj)
    if include == "Object":
        return m
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": m.get("metadata", {})}


def table(kind: str, objs: Sequence[Any], *, now: int, resource_version: str, include: str = "Metadata",
          headers: bool = True, continue_token: str = "") -> dict[str, Any]:
    """The Table of ``objs`` of ``kind`` at Unix time ``now``."""
    from kubesim.kubectl import printers

    printable = True
    try:
        defs = [_column(name, 1 if wide else 0) for name, wide in printers.table_columns(kind)]
    except KeyError:  # a kind without a printer: the default columns (DefaultTableConvertor)
        printable = False
        defs = [_column("Name", 0), _column("Age", 0)]
    rows = []
    for o in objs:
        cells: list[Any]
        if printable:
            cells = printers.table_row(o, now)
        else:
            from kubesim.kubectl.common import human_duration

            created = o.metadata.creation_timestamp
            cells = [o.metadata.name, human_duration(now - created) if created is not None else "<unknown>"]
        row: dict[str, Any] = {"cells": cells}
        obj = _row_object(o, include)
        if obj is not None:
            row["object"] = obj
        rows.append(row)
    meta: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    out: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    out["columnDefinitions"] = defs if headers else None
    out["rows"] = rows
    return out
