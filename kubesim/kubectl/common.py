"""What every part of the kubectl view shares: the read-only :class:`Store` it reads, the
:class:`KubectlOutput` of one invocation, resource-name resolution and the text helpers
(``HumanDuration`` ages, label lists, the tabwriter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs

from kubesim.errors import KubectlError, ManifestError
from kubesim.kinds import KIND_INFO, KindInfo, resolve_kind
from kubesim.objects import (
    LabelSelector,
)


class Store(Protocol):
    """What :func:`kubectl` reads.  The API server (or the Cluster facade) implements it.

    ``kind`` is the Kubernetes kind name (``"Endpoints"``, ``"EndpointSlice"``, ...).
    ``namespace=None`` lists every namespace; ``selector`` is a label selector string
    (``"app=web,tier!=db"``) the store applies.  ``get`` raises :class:`~kubesim.errors.NotFound`.
    """

    def list(
        self, kind: str, namespace: str | None = None, selector: str | None = None
    ) -> Sequence[object]: ...  # pragma: no cover - protocol

    def get(self, kind: str, name: str, namespace: str = "default") -> object: ...  # pragma: no cover


@attrs.frozen
class KubectlOutput:
    """What one kubectl invocation wrote: ``stdout``, ``stderr`` and its ``exit_code``."""

    stdout: str
    stderr: str = ""
    exit_code: int = 0

    @property
    def terminal(self) -> str:
        """stdout then stderr, as they appear interleaved on a terminal for these commands."""
        return self.stdout + self.stderr



# --------------------------------------------------------------------------------------------
# resource names


def resolve_resource(name: str) -> KindInfo:
    """The resource kubectl means by ``name``: any spelling :func:`kubesim.kinds.resolve_kind`
    accepts (kind, plural, singular or short name, any case, optionally ``.group``-qualified).
    Raises :class:`KubectlError` with kubectl's message. ``O(1)``.

    >>> resolve_resource("ep").kind
    'Endpoints'
    """
    try:
        return KIND_INFO[resolve_kind(name)]
    except ManifestError:
        raise KubectlError(f'error: the server doesn\'t have a resource type "{name}"') from None


# --------------------------------------------------------------------------------------------
# formatting helpers


def human_duration(seconds: int) -> str:
    """``duration.HumanDuration`` for a whole number of seconds: ``59s``, ``119s``, ``2m``,
    ``3m10s``, ``70m``, ``3h1m``, ``47h``, ``2d1h``, ``8d``, ``2y1d``, ``8y``. ``O(1)``.

    Up to one second in the future reads ``0s``; further is ``<invalid>`` (clock skew).

    >>> [human_duration(s) for s in (0, 59, 120, 150, 600, 10800)]
    ['0s', '59s', '2m', '2m30s', '10m', '3h']
    """
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def _age(timestamp: int | None, now: int) -> str:
    # translateTimestampSince: the zero time is "<unknown>".
    if timestamp is None:
        return "<unknown>"
    return human_duration(now - timestamp)


def format_labels(labels: Mapping[str, str] | None) -> str:
    """``labels.FormatLabels``: ``k=v`` pairs sorted by key, comma-joined; ``<none>`` if empty.
    ``O(n log n)``."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _label_selector_string(selector: LabelSelector | None) -> str:
    # metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key, values sorted.
    if selector is None:
        return ""
    reqs: list[tuple[str, str]] = []
    for k, v in selector.match_labels.items():
        reqs.append((k, f"{k}={v}"))
    for e in selector.match_expressions:
        values = ",".join(sorted(e.values))
        if e.operator == "In":
            text = f"{e.key} in ({values})"
        elif e.operator == "NotIn":
            text = f"{e.key} notin ({values})"
        elif e.operator == "Exists":
            text = e.key
        elif e.operator == "DoesNotExist":
            text = f"!{e.key}"
        else:
            text = f"{e.key} {e.operator} ({values})"
        reqs.append((e.key, text))
    reqs.sort(key=lambda r: r[0])
    return ",".join(text for _, text in reqs)


def _format_label_selector(selector: LabelSelector | None) -> str:
    # metav1.FormatLabelSelector: like the above, but "<none>" when empty.
    text = _label_selector_string(selector)
    return text or "<none>"


def _join_host_port(host: str, port: object) -> str:
    # net.JoinHostPort: brackets around hosts containing a colon (IPv6).
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def tabwrite(text: str, *, padding: int, minwidth: int = 0) -> str:
    """Go's ``text/tabwriter`` (flags 0, pad character ``' '``) applied to ``text``.

    Cells are tab-terminated; the text after a line's last tab is not aligned.  A column is
    aligned over each maximal run of consecutive lines that have a cell in it; its width is the
    widest cell plus ``padding``.  ``O(lines x columns)``.

    >>> tabwrite("a\\tb\\nccc\\td\\n", padding=2)
    'a    b\\nccc  d\\n'
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []

    def write_lines(line0: int, line1: int, widths: list[int]) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            parts: list[str] = []
            for j, cell in enumerate(cells):
                parts.append(cell)
                if j < len(widths):
                    parts.append(" " * (widths[j] - len(cell)))
            out.append("".join(parts))
            if i + 1 < len(lines):
                out.append("\n")

    def fmt(line0: int, line1: int, widths: list[int]) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this, widths)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            fmt(line0, this, widths + [width])
            line0 = this
        write_lines(line0, line1, widths)

    fmt(0, len(lines), [])
    return "".join(out)

