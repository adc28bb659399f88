"""List and watch filters: field selectors, label selectors, ``limit``/``continue`` tokens.

Field selectors follow ``k8s.io/apimachinery/pkg/fields/selector.go`` (``a=b``, ``a==b``,
``a!=b``, comma-separated, ``\\`` escapes) and the field sets each registry exposes
(``pkg/registry/core/pod/strategy.go`` ``ToSelectableFields`` and friends): every kind has
``metadata.name`` and ``metadata.namespace``; Pods add ``spec.nodeName``, ``spec.restartPolicy``,
``spec.schedulerName``, ``status.phase``, ``status.podIP``; Nodes ``spec.unschedulable``;
Namespaces ``status.phase``; ReplicaSets ``status.replicas``; Events ``involvedObject.*``,
``reason``, ``reportingComponent``, ``source`` and ``type``. An unsupported field is a 400
``field label not supported: <field>``, as the API server answers.

Continue tokens are opaque base64 JSON holding the resourceVersion of the first page and the
last key served; a page is ``O(k log k)`` for ``k`` objects in scope (the store's sorted list).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from kubesim.kubectl.events import EVENT_FIELDS as _EVENT_FIELDS
from kubesim.serve.status import ApiError

__all__ = ["FieldSelector", "parse_field_selector", "encode_continue", "decode_continue"]

FieldSelector = list[tuple[str, str, str]]  # (field, "=" | "!=", value)


def _pod_fields(obj: Any) -> dict[str, str]:
    return {
        "spec.nodeName": obj.spec.node_name,
        "spec.restartPolicy": obj.spec.restart_policy,
        "spec.schedulerName": obj.spec.scheduler_name,
        "spec.serviceAccountName": "",
        "spec.hostNetwork": "false",
        "status.phase": obj.status.phase,
        "status.podIP": obj.status.pod_ip,
        "status.nominatedNodeName": "",
    }


def _event_fields(obj: Any) -> dict[str, str]:
    from kubesim.kubectl.events import event_field_values

    return event_field_values(obj)


_EXTRA: dict[str, Callable[[Any], dict[str, str]]] = {
    "Event": _event_fields,
    "Pod": _pod_fields,
    "Node": lambda o: {"spec.unschedulable": "true" if o.spec.unschedulable else "false"},
    "Namespace": lambda o: {"status.phase": "Terminating" if o.metadata.deletion_timestamp is not None else "Active"},
    "ReplicaSet": lambda o: {"status.replicas": str(o.status.replicas)},
}
_EXTRA_NAMES = {
    "Event": _EVENT_FIELDS,
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "Node": ("spec.unschedulable",),
    "Namespace": ("status.phase",),
    "ReplicaSet": ("status.replicas",),
}


def _split(text: str) -> list[str]:
    terms, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if ch == ",":
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    terms.append("".join(cur))
    return terms


def _unescape(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\":
            if i + 1 >= len(s) or s[i + 1] not in "\\,=!":
                raise ApiError(400, "BadRequest", f"invalid field selector: invalid escape sequence in {s!r}")
            out.append(s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_field_selector(text: str, kind: str) -> FieldSelector:
    """Parse ``text`` for ``kind``.
    Raises a 400 :class:`ApiError` for bad syntax or an unsupported field. ``O(len(text))``."""
    out: FieldSelector = []
    if not text.strip():
        return out
    allowed = {"metadata.name", "metadata.namespace", *_EXTRA_NAMES.get(kind, ())}
    for term in _split(text):
        if not term:
            continue
        for op in ("!=", "==", "="):
            idx = _find_unescaped(term, op)
            if idx >= 0:
                field, value = term[:idx].strip(), _unescape(term[idx + len(op):])
                out.append((field, "!=" if op == "!=" else "=", value))
                break
        else:
            raise ApiError(400, "BadRequest", f"invalid selector: '{text}'; can't understand '{term}'")
    for field, _, _ in out:
        if kind and field not in allowed:
            raise ApiError(400, "BadRequest", f'field label not supported: {field}')
    return out


def _find_unescaped(term: str, op: str) -> int:
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        if term.startswith(op, i):
            return i
        i += 1
    return -1


def field_values(obj: Any, kind: str) -> dict[str, str]:
    """The selectable fields of ``obj``. ``O(1)``."""
    values = {"metadata.name": obj.metadata.name, "metadata.namespace": obj.metadata.namespace}
    extra = _EXTRA.get(kind)
    if extra is not None:
        values.update(extra(obj))
    return values


def field_matches(sel: FieldSelector, obj: Any, kind: str) -> bool:
    """``True`` iff ``obj`` satisfies every term. ``O(terms)``."""
    if not sel:
        return True
    values = field_values(obj, kind)
    for field, op, value in sel:
        have = values.get(field, "")
        if (have == value) != (op == "="):
            return False
    return True


def encode_continue(resource_version: int, last_key: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": resource_version, "start": f"{last_key[0]}/{last_key[1]}"},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    """(resourceVersion, last key served) from a token; 400 for a malformed one."""
    try:
        padded = token + "=" * (-len(token) % 4)
        d = json.loads(base64.urlsafe_b64decode(padded.encode()))
        ns, _, name = str(d["start"]).partition("/")
        return int(d["rv"]), (ns, name)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "BadRequest", "continue key is not valid: invalid continue token") from None
