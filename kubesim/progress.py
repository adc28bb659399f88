"""Progress while a simulation runs: a bar (tqdm) or a plain line, and the stepping loop that
feeds it.

Wall time only paces the display; it never reaches the simulation, so a run with progress
writes exactly the change log of the same run without it (a test compares them record for
record).

* :class:`ProgressBar` -- a tqdm bar, in a terminal or a notebook: virtual time reached, writes
  committed, writes per wall second, and, when the end is known (``until``), a percentage and
  an ETA. ``Cluster.run(progress=True)`` shows one.
* :class:`Progress` -- one plain line (``kubesim: 12.0 s of virtual time, 345 writes``),
  redrawn in place on a terminal, one line a second in a log file.
* :func:`advance` -- ``cluster.run(until)``, reporting to either as it goes.

Both reporters follow the small :class:`Reporter` protocol (``update(now, writes)``,
``close()``); any object with those two methods can be passed instead.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Protocol

from kubesim.errors import InvalidOption

if TYPE_CHECKING:  # pragma: no cover
    from kubesim.cluster import Cluster

__all__ = ["Reporter", "Progress", "ProgressBar", "advance", "reporter"]

#: Callbacks run between two offers of the virtual time to the reporter.
_STEPS_PER_CHECK = 64


class Reporter(Protocol):
    """What :func:`advance` reports to."""

    def update(self, now: float, writes: int, *, force: bool = False) -> None: ...

    def close(self) -> None: ...


class Progress:
    """A progress line on ``stream`` (stderr): virtual time reached and writes committed so far.

    On a terminal the line is redrawn in place at most once every ``interval`` seconds of wall
    time and erased by :meth:`close`; elsewhere (a log file) one line is written at most once
    every ``max(interval, 1)`` seconds. ``timer`` is injectable for tests.
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        interval: float = 0.1,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        try:
            self.tty = bool(stream.isatty())
        except (AttributeError, ValueError):
            self.tty = False
        self.interval = interval if self.tty else max(interval, 1.0)
        self.timer = timer
        self._start = timer()
        self._last = self._start
        self._width = 0
        self.updates = 0

    def update(self, now: float, writes: int, *, force: bool = False) -> None:
        """Show ``now`` virtual seconds and ``writes``, unless the last update was less than
        the interval ago (and not ``force``). ``O(1)``."""
        t = self.timer()
        if not force and t - self._last < self.interval:
            return
        self._last = t
        self.updates += 1
        text = f"kubesim: {now:,.1f} s of virtual time, {writes:,} writes ({t - self._start:.1f} s wall)"
        if self.tty:
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Erase the progress line from a terminal (nothing to do elsewhere)."""
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _in_notebook() -> bool:
    """True inside a Jupyter kernel with ipywidgets installed (tqdm's widget bar needs both)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
        if ip is None or "IPKernelApp" not in ip.config:
            return False
        return importlib.util.find_spec("ipywidgets") is not None
    except Exception:  # noqa: BLE001 - any failure: fall back to the text bar
        return False


class ProgressBar:
    """A tqdm bar of virtual time: ``45%|████▌     | 13.5/30.0 s [00:02<00:02, writes=1,234,
    617 writes/s]``. Without a known end (``until=None``) it shows the virtual time reached,
    the writes and their rate, and no percentage.

    In a Jupyter kernel with ipywidgets installed it is tqdm's notebook widget; elsewhere
    (a terminal, a kernel without ipywidgets) the text bar on ``file`` (stderr by default),
    which a notebook shows as the cell's stderr. ``disable=True`` prints nothing.
    Cost: ``O(1)`` per update; tqdm redraws at most ten times a second.
    """

    def __init__(
        self,
        *,
        start: float = 0.0,
        until: float | None = None,
        desc: str = "kubesim",
        file: IO[str] | None = None,
        disable: bool = False,
        leave: bool = True,
    ) -> None:
        bar_class: Any
        if _in_notebook() and file is None:
            from tqdm.notebook import tqdm as bar_class
        else:
            from tqdm import tqdm as bar_class
        self.start = float(start)
        self.until = None if until is None else float(until)
        total = None if self.until is None else max(self.until - self.start, 0.0)
        if total is not None:
            fmt = "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s virtual [{elapsed}<{remaining}{postfix}]"
        else:
            fmt = "{desc}: {n:.1f} s virtual [{elapsed}{postfix}]"
        self._bar: Any = bar_class(
            total=total,
            desc=desc,
            file=file if file is not None else sys.stderr,
            disable=disable,
            leave=leave,
            bar_format=fmt,
            dynamic_ncols=True,
        )
        self._wall0 = time.monotonic()
        self.writes0: int | None = None
        self.updates = 0

    def update(self, now: float, writes: int, *, force: bool = False) -> None:
        """Move the bar to ``now`` virtual seconds with ``writes`` committed. ``O(1)``."""
        if self.writes0 is None:
            self.writes0 = writes
        self.updates += 1
        done = writes - self.writes0
        wall = time.monotonic() - self._wall0
        rate = f", {done / wall:,.0f} writes/s" if wall > 0 else ""
        self._bar.n = max(now - self.start, 0.0)
        self._bar.set_postfix_str(f"writes={done:,}{rate}", refresh=False)
        if force:
            self._bar.refresh()
        else:
            self._bar.update(0)  # redraws when tqdm's mininterval has passed

    def close(self) -> None:
        """Draw the final state and release the bar."""
        self._bar.refresh()
        self._bar.close()

    @property
    def text(self) -> str:
        """The bar as tqdm would print it now (for tests and reprs)."""
        return str(self._bar)


def reporter(progress: bool | Reporter | None, *, start: float = 0.0, until: float | None = None) -> Reporter | None:
    """The reporter a ``progress=`` option asks for: ``True`` a :class:`ProgressBar`,
    ``False``/``None`` none, an object with ``update``/``close`` itself."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return ProgressBar(start=start, until=until)
    if not (callable(getattr(progress, "update", None)) and callable(getattr(progress, "close", None))):
        raise InvalidOption(f"progress must be a bool or an object with update() and close(), got {progress!r}")
    return progress


def advance(
    cluster: Cluster, until: float | None = None, progress: Reporter | None = None, *, max_steps: int | None = None
) -> None:
    """``cluster.run(until)``, reporting to ``progress`` as it goes.

    Without ``progress`` this is :meth:`kubesim.Cluster.run`. With it, the clock is stepped one
    callback at a time (no threads) and the reporter is offered the virtual time and the write
    count every 64 callbacks; the run ends through the clock's own ``run(until)`` so the clock
    reads ``until`` afterwards, exactly as without progress. The result does not depend on
    ``progress``. ``max_steps`` bounds the callbacks run (:class:`~kubesim.errors.InvalidOption`
    when exceeded). Cost: that of the run, plus ``O(1)`` per callback.
    """
    if progress is None:
        cluster.run(until, max_steps=max_steps)
        return
    if until is not None and until < cluster.now:
        cluster.run(until)  # raises InvalidOption with the cluster's wording
    clock = cluster.clock
    first = clock.steps
    while True:
        for _ in range(_STEPS_PER_CHECK):
            t = clock.peek()
            if t is None or (until is not None and t > until):
                break
            if max_steps is not None and clock.steps - first >= max_steps:
                raise InvalidOption(f"run() exceeded max_steps={max_steps}")
            clock.step()
        else:
            progress.update(cluster.now, len(cluster.changes))
            continue
        break
    cluster.run(until)  # nothing left before ``until``: this only sets the clock to it
    progress.update(cluster.now, len(cluster.changes), force=True)
