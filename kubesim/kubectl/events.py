"""How kubectl shows Events (:mod:`kubesim.events`): the ``kubectl get events`` row of the API
server's printer (``pkg/printers/internalversion/printers.go`` ``printEvent``) and the ``Events:``
section of ``kubectl describe`` (``staging/src/k8s.io/kubectl/pkg/describe/describe.go``
``DescribeEvents``, with the search ``searchEvents`` makes).

``get events``: LAST SEEN (``lastTimestamp``, else the first time; ``series.lastObservedTime``
for a series), TYPE, REASON, OBJECT (``kind/name`` in lower case), MESSAGE (trimmed); ``-o
wide`` adds SUBOBJECT (``fieldPath``), SOURCE (``component, host``, falling back on
``reportingComponent``/``reportingInstance``), FIRST SEEN, COUNT and NAME. The API server lists
Events in name order (the store's key order) and the printer no longer sorts them, so neither
does kubesim.

``describe``: the events about the object (its name, namespace and uid, and its kind except for
a Pod, whose reference is searched without one; a Node is searched by its uid and again by its
name, which the kubelet writes as the uid of its node events), sorted by ``lastTimestamp`` (else
``eventTime``), each row Type, Reason, Age (``10s``, or ``5s (x3 over 2m)`` for a repeated
event), From (``source.component``, else ``reportingComponent``) and Message, prefixed with the
``fieldPath`` (``spec.containers{app}: ...``) when the event has one. kubectl sorts with Go's
``sort.Sort``, which is not stable: :func:`kubesim.kubectl.gosort.go_sort` runs the same
algorithm, so events with equal times come out in kubectl's order.

Costs: a row is ``O(size of the event)``; a describe section ``O(e log e)`` for the ``e`` Events
of the namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubesim.inert import content
from kubesim.kubectl.common import Store, _age
from kubesim.kubectl.gosort import go_sort
from kubesim.manifests.times import parse_time, parse_time_nano

__all__ = ["EVENT_COLUMNS", "EVENT_FIELDS", "event_row", "describe_events", "events_about", "event_field_values"]

#: ``eventColumnDefinitions``: (title, wide only).
EVENT_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("Last Seen", False), ("Type", False), ("Reason", False), ("Object", False), ("Subobject", True),
    ("Source", True), ("Message", False), ("First Seen", True), ("Count", True), ("Name", True),
)


_REF = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")

#: The Event fields a field selector may name besides ``metadata.name``/``metadata.namespace``
#: (``pkg/registry/core/event/strategy.go`` ``ToSelectableFields``).
EVENT_FIELDS = (*(f"involvedObject.{k}" for k in _REF), "reason", "reportingComponent", "source", "type")


def event_field_values(obj: Any) -> dict[str, str]:
    """The selectable fields of the Event ``obj`` (``source`` is ``source.component``, else
    ``reportingComponent``). ``O(size)``."""
    b = content(obj)
    ref = b.get("involvedObject") or {}
    src = b.get("source") or {}
    return {
        "metadata.name": obj.metadata.name,
        "metadata.namespace": obj.metadata.namespace,
        **{f"involvedObject.{k}": str(ref.get(k) or "") for k in _REF},
        "reason": str(b.get("reason") or ""),
        "reportingComponent": str(b.get("reportingComponent") or ""),
        "source": str(src.get("component") or b.get("reportingComponent") or ""),
        "type": str(b.get("type") or ""),
    }


def _ts(text: Any) -> int | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        return None


def event_row(obj: Any, now: int, wide: bool) -> list[str]:
    """``printEvent``'s cells for the Event ``obj`` at Unix time ``now`` (the wide ones too when
    ``wide``). ``O(size)``."""
    b = content(obj)
    first_ts = _ts(b.get("firstTimestamp"))
    first = _age(first_ts if first_ts is not None else _ts(b.get("eventTime")), now)
    last_ts = _ts(b.get("lastTimestamp"))
    last = _age(last_ts, now) if last_ts is not None else first
    count = b.get("count") or 0
    series = b.get("series")
    if isinstance(series, dict):
        last = _age(_ts(series.get("lastObservedTime")), now)
        count = series.get("count") or 0
    elif not count:
        count = 1  # singleton events of the new API have no count
    ref = b.get("involvedObject") or {}
    kind = str(ref.get("kind") or "").lower()
    target = f"{kind}/{ref.get('name')}" if ref.get("name") else kind
    message = str(b.get("message") or "").strip()
    if not wide:
        return [last, str(b.get("type") or ""), str(b.get("reason") or ""), target, message]
    src = b.get("source") or {}
    component = src.get("component") or b.get("reportingComponent") or ""
    instance = src.get("host") or b.get("reportingInstance") or ""
    source = f"{component}, {instance}" if instance else str(component)
    return [last, str(b.get("type") or ""), str(b.get("reason") or ""), target, str(ref.get("fieldPath") or ""),
            source, message, first, str(count), obj.metadata.name]


def events_about(store: Store, obj: Any) -> list[Any]:
    """The Events ``kubectl describe`` finds for ``obj`` (``searchEvents``): in its namespace
    (every namespace for a cluster-scoped object), about its name, namespace and uid, and its
    kind unless it is a Pod; a Node is searched with its name as uid. Store order. ``O(e)``."""
    meta = obj.metadata
    kind = obj.kind
    ns = meta.namespace or None
    # a Node is searched twice, by its uid (the controllers' events) then by its name (the
    # kubelet's), and the two lists are joined
    uids = (meta.uid, meta.name) if kind == "Node" else (meta.uid,)
    want_kind = "" if kind == "Pod" else kind
    matching: list[tuple[str, Any]] = []
    for e in store.list("Event", ns):
        ref = content(e).get("involvedObject") or {}  # type: ignore[arg-type]
        if (ref.get("name") == meta.name and (ref.get("namespace") or "") == meta.namespace
                and (not want_kind or ref.get("kind") == want_kind)):
            matching.append((str(ref.get("uid") or ""), e))
    return [e for uid in uids for u, e in matching if not uid or u == uid]


def _sort_time(e: Any) -> float:
    # kubectl/pkg/util/event SortableEvents: lastTimestamp when set, else eventTime (which
    # keeps its microseconds); the zero time sorts first
    b = content(e)
    t = _ts(b.get("lastTimestamp"))
    if t is not None:
        return float(t)
    text = b.get("eventTime")
    if isinstance(text, str) and text:
        try:
            return parse_time_nano(text)
        except ValueError:
            pass
    return -float(2**62)


def describe_events(events: Sequence[Any], now: int) -> str:
    """The ``Events:`` section (tab-separated, before the tabwriter) of ``events`` at Unix time
    ``now``: ``Events:\\t<none>`` when there are none. ``O(e log e)``."""
    if not events:
        return "Events:\t<none>\n"
    lines = ["Events:\n  Type\tReason\tAge\tFrom\tMessage\n", "  ----\t------\t----\t----\t-------\n"]
    keyed = [(_sort_time(e), e) for e in events]
    go_sort(keyed, lambda x, y: x[0] < y[0])  # sort.Sort: not stable, as kubectl
    for _, e in keyed:
        b = content(e)
        event_time = _ts(b.get("eventTime"))
        first = _age(event_time, now) if event_time is not None else _age(_ts(b.get("firstTimestamp")), now)
        series = b.get("series")
        count = b.get("count") or 0
        if isinstance(series, dict):
            age = f"{_age(_ts(series.get('lastObservedTime')), now)} (x{series.get('count')} over {first})"
        elif count > 1:
            age = f"{_age(_ts(b.get('lastTimestamp')), now)} (x{count} over {first})"
        else:
            age = first
        source = (b.get("source") or {}).get("component") or b.get("reportingComponent") or ""
        message = str(b.get("message") or "").strip()
        field_path = (b.get("involvedObject") or {}).get("fieldPath")
        if field_path:
            message = f"{field_path}: {message}"
        lines.append(f"  {b.get('type') or ''}\t{b.get('reason') or ''}\t{age}\t{source}\t{message}\n")
    return "".join(lines)
