"""Injected faults: failing API writes and delayed watch delivery, drawn from the seed.

A :class:`FaultPlan` given to ``Cluster(faults=...)`` makes a fraction of API writes fail the
way a real API server or etcd can fail them, and delays watch delivery:

* ``conflict_rate``: the write is refused with :class:`~kubesim.errors.Conflict` (another
  writer got there first); nothing is written;
* ``error_rate``: :class:`~kubesim.errors.ServerError` (HTTP 500); nothing is written;
* ``timeout_rate``: the write **is committed**, but the caller gets
  :class:`~kubesim.errors.ServerTimeout` (``committed=True``), as when etcd commits and the
  response is lost;
* ``watch_delay``: every watch event reaches watchers a random ``[0, watch_delay]`` seconds
  late; events of one object keep their order (the watch cache guarantees it), events of
  different objects may overtake each other.

By default only controllers' writes are faulted (``affect_clients=False``), so a user's
``apply`` is never flaky. Refused attempts are recorded in the change log with ``outcome``
``"conflict"`` or ``"error"`` (they changed nothing, so reports leave them out of committed
figures and count them as failed attempts). Draws come from a random stream of their own,
seeded from the cluster's seed, so one seed gives one faulty trace.
"""

from __future__ import annotations

import random

import attrs

from kubesim.errors import InvalidOption

__all__ = ["FaultPlan", "FaultInjector", "CLIENT_ACTORS", "MAX_WATCH_DELAY"]

#: Actors that are users, not controllers.
CLIENT_ACTORS = frozenset({"client", "kubectl"})

#: The longest watch delay a plan takes (a day): later than that a watch is not late but broken.
MAX_WATCH_DELAY = 86400.0


def _rate(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise InvalidOption(f"{attribute.name} must be a number between 0 and 1, got {value!r}")


@attrs.frozen
class FaultPlan:
    """What to break, and how often (rates are per write attempt)."""

    conflict_rate: float = attrs.field(default=0.0, validator=_rate)
    error_rate: float = attrs.field(default=0.0, validator=_rate)
    timeout_rate: float = attrs.field(default=0.0, validator=_rate)
    watch_delay: float = 0.0
    affect_clients: bool = False

    def __attrs_post_init__(self) -> None:
        total = self.conflict_rate + self.error_rate + self.timeout_rate
        if total > 1.0:
            raise InvalidOption(f"conflict_rate + error_rate + timeout_rate must be at most 1, got {total!r}")
        d = self.watch_delay
        if not isinstance(d, (int, float)) or isinstance(d, bool) or not 0.0 <= d <= MAX_WATCH_DELAY:
            raise InvalidOption(
                f"watch_delay must be a number of seconds between 0 and {MAX_WATCH_DELAY:.0f} (a day), got {d!r}"
            )
        if not isinstance(self.affect_clients, bool):
            raise InvalidOption(f"affect_clients must be True or False, got {self.affect_clients!r}")


@attrs.define(eq=False)
class FaultInjector:
    """Draws the faults of a :class:`FaultPlan` (one engine per API server)."""

    plan: FaultPlan
    rng: random.Random
    injected: dict[str, int] = attrs.field(factory=lambda: {"conflict": 0, "error": 0, "timeout": 0, "delayed": 0})

    def draw(self, actor: str) -> str | None:
        """The fault for one write attempt by ``actor``: ``"conflict"``, ``"error"``,
        ``"timeout"`` or ``None``. ``O(1)``."""
        p = self.plan
        if actor in CLIENT_ACTORS and not p.affect_clients:
            return None
        if p.conflict_rate + p.error_rate + p.timeout_rate == 0.0:
            return None
        u = self.rng.random()
        for name, rate in (("conflict", p.conflict_rate), ("error", p.error_rate), ("timeout", p.timeout_rate)):
            if u < rate:
                self.injected[name] += 1
                return name
            u -= rate
        return None

    def delay(self) -> float:
        """A watch delivery delay in ``[0, watch_delay]``. ``O(1)``."""
        if self.plan.watch_delay <= 0:
            return 0.0
        self.injected["delayed"] += 1
        return self.rng.random() * self.plan.watch_delay
