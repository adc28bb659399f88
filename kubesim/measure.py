"""Exact measurement windows, and the notes a churn report needs from the cluster's state.

``with cluster.measure() as m:`` records the change log's length when the block starts and
when it ends; ``m.churn()`` is the churn report of exactly the writes committed in between,
windowed by log position (``ChangeEvent.seq``), never by virtual time. A time window cannot
do that: writes share times, and ``since=cluster.now`` taken right after ``cluster.run()``
also counts the last writes of what ran before (the tutorial's rollout once read 177 / 278
Endpoints / EndpointSlice writes that way, one write too many of each).

>>> import kubesim
>>> from kubesim import scenarios
>>> cluster = kubesim.Cluster(seed=0, nodes=2)
>>> _ = scenarios.deploy(cluster, "web", replicas=2)
>>> _ = cluster.run()
>>> with cluster.measure() as m:
...     _ = scenarios.scale(cluster, "web", 3)
...     _ = cluster.run()
>>> m.churn().kind("Pod").creates
1
>>> len(m.changes) == m.stop - m.start
True
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from kubesim.changelog import ChangeEvent
from kubesim.errors import InvalidOption

if TYPE_CHECKING:  # pragma: no cover
    from kubesim.cluster import Cluster
    from kubesim.report import ChurnReport

__all__ = ["Measurement", "cluster_notes"]


@attrs.define(eq=False)
class Measurement:
    """The writes committed inside one ``with cluster.measure() as m:`` block.

    ``start`` and ``stop`` are log positions (``stop`` is ``None`` while the block runs, and
    everything so far counts); ``start_time`` and ``stop_time`` the virtual times at the
    block's edges. Cost: ``O(1)`` to enter and leave; :meth:`churn` folds the log up to
    ``stop`` (the writes before ``start`` are read only for the objects' previous states).
    """

    cluster: Cluster
    start: int = -1
    stop: int | None = None
    start_time: float = 0.0
    stop_time: float | None = None

    def __enter__(self) -> Measurement:
        if self.start >= 0:
            raise InvalidOption("a Measurement is entered once; call cluster.measure() again")
        self.start = len(self.cluster.changes)
        self.start_time = float(self.cluster.now)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop = len(self.cluster.changes)
        self.stop_time = float(self.cluster.now)

    @property
    def changes(self) -> Sequence[ChangeEvent]:
        """The change events recorded in the block (failed attempts included, as in the log):
        a list, each event built from the log's columns when this is read (``O(writes in the
        block)``; :meth:`churn` reads the columns without building them)."""
        self._entered()
        end = len(self.cluster.changes) if self.stop is None else self.stop
        return self.cluster.changes[self.start : end]

    def churn(self, **kwargs: Any) -> ChurnReport:
        """:meth:`kubesim.Cluster.churn` of exactly the block's writes; keyword arguments as
        there (``groups``, ``size_model``; not ``since``/``until``/``from_seq``/``to_seq``)."""
        self._entered()
        for name in ("since", "until", "from_seq", "to_seq"):
            if name in kwargs:
                raise InvalidOption(f"Measurement.churn() sets the window itself; {name}= is not accepted")
        report: ChurnReport = self.cluster.churn(from_seq=self.start, to_seq=self.stop, **kwargs)
        return report

    def _entered(self) -> None:
        if self.start < 0:
            raise InvalidOption("use the measurement as a context manager: with cluster.measure() as m: ...")

    def __repr__(self) -> str:
        end = "…" if self.stop is None else f"{self.stop:,}"
        return f"<Measurement of writes #{max(self.start, 0):,} to {end}>"


def cluster_notes(cluster: Any) -> tuple[str, ...]:
    """Sentences a churn report of ``cluster`` needs under its table, from the cluster's
    current state: Endpoints objects truncated at 1,000 addresses, Endpoints whose mirroring
    to EndpointSlices is capped, and pods that could not be scheduled. ``O(objects)``."""
    from kubesim.controllers.endpoints.reconciler import ANNOTATION_OVER_CAPACITY

    notes: list[str] = []
    api = cluster.api
    truncated = []
    capped = []
    cap = int(getattr(getattr(cluster, "options", None), "mirroring_max_endpoints_per_subset", 1000))
    for ep in api.list("Endpoints", None):
        name = f"{ep.metadata.namespace}/{ep.metadata.name}"
        if ep.metadata.annotations.get(ANNOTATION_OVER_CAPACITY) == "truncated":
            truncated.append(name)
            continue
        svc = api.try_get("Service", ep.metadata.name, ep.metadata.namespace)
        if (svc is None or not svc.spec.selector) and any(
            len(s.addresses) + len(s.not_ready_addresses) > cap for s in ep.subsets
        ):
            capped.append(name)
    if truncated:
        notes.append(
            f"Endpoints {', '.join(truncated[:3])}{' …' if len(truncated) > 3 else ''} hold only 1,000 addresses "
            "(the Endpoints controller truncates above that and annotates endpoints.kubernetes.io/over-capacity): "
            "the Endpoints column describes those truncated objects, the EndpointSlice column every endpoint."
        )
    if capped:
        notes.append(
            f"Endpoints {', '.join(capped[:3])}{' …' if len(capped) > 3 else ''} have more than {cap:,} addresses "
            f"in a subset; the EndpointSlice mirroring controller mirrors only {cap:,} of them: the EndpointSlice "
            "column describes the mirrored part."
        )
    pending = [p for p in api.list("Pod", None) if not p.spec.node_name and p.metadata.deletion_timestamp is None]
    if pending:
        nodes = len(api.list("Node", None))
        notes.append(
            f"{len(pending):,} pod(s) could not be scheduled ({nodes:,} node(s)): they never ran, so they "
            "never became endpoints and the figures above leave them out."
        )
    return tuple(notes)
