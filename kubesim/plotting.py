"""Plots that show themselves: matplotlib figures that render inline in IPython and Jupyter.

A bare :class:`matplotlib.figure.Figure` shows only ``<Figure size 640x480 with 1 Axes>`` in
a fresh Jupyter kernel: IPython learns to draw figures as PNG only when the inline backend is
loaded (``%matplotlib inline``, or importing :mod:`matplotlib.pyplot` under it), and not at
all when ``MPLBACKEND=Agg``. :class:`InlineFigure` is a ``Figure`` with ``_repr_png_``, which
IPython's display formatter calls by itself, so ``report.plot()`` as a cell's last line shows
the picture whatever the backend, and nothing is drawn twice (the figure is not registered
with :mod:`matplotlib.pyplot`). Everything else a Figure does (``savefig``, ``axes``) is
unchanged.

Axes are in human units: :func:`bytes_axis` labels ticks ``0``, ``500 KB``, ``1.5 MB`` (decimal
units, as :func:`kubesim.report.format_bytes` and KEP-752 write them) instead of raw bytes
with a ``1e7`` offset.

This module imports matplotlib; :mod:`kubesim.report` and :mod:`kubesim.sweep` import it only
when a plot is asked for.

>>> tick_bytes(0), tick_bytes(999), tick_bytes(1500), tick_bytes(2_000_000), tick_bytes(12_500_000_000)
('0', '999 B', '1.5 KB', '2 MB', '12.5 GB')
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = ["InlineFigure", "new_figure", "tick_bytes", "bytes_axis", "log_bytes_axis"]

_UNITS = ("KB", "MB", "GB", "TB", "PB", "EB")


class InlineFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` that IPython displays as a PNG image."""

    def _repr_png_(self) -> bytes:
        """The figure as PNG bytes (rendered by Agg, whatever the backend). ``O(pixels)``."""
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


def new_figure(**kwargs: Any) -> InlineFigure:
    """A new :class:`InlineFigure`; ``kwargs`` go to ``Figure`` (``figsize``, ``layout``)."""
    return InlineFigure(**kwargs)


def tick_bytes(value: float, _pos: object = None) -> str:
    """A byte count for a tick label: decimal units, at most three significant figures,
    no trailing zeros. ``O(1)``."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    if v < 1000:
        return f"{sign}{v:.3g} B"
    i = 0
    v /= 1000
    while v >= 999.5 and i < len(_UNITS) - 1:
        v /= 1000
        i += 1
    return f"{sign}{v:.3g} {_UNITS[i]}"


def bytes_axis(axis: Axis) -> None:
    """Label ``axis`` (``ax.yaxis``, ``ax.xaxis``) in bytes with human units (no offset)."""
    axis.set_major_formatter(FuncFormatter(tick_bytes))


def log_bytes_axis(axis: Axis) -> None:
    """:func:`bytes_axis` for a logarithmic axis: ticks at 1, 2 and 5 of each decade, labelled
    in human units, unlabelled minor ticks."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(tick_bytes))
    axis.set_minor_formatter(NullFormatter())
