"""The default timing model: how long the cluster's moving parts take, in virtual seconds.

Every latency is drawn from the cluster's seeded random, so one seed gives one trace. The
defaults are order-of-magnitude figures for a healthy cluster (see ``docs/timing.md``):

* ``scheduler_latency``: pod created -> bound to a node. kube-scheduler's own SLO-style
  measurements put scheduling of a pod on an idle cluster in the tens of milliseconds.
* ``kubelet_admit``: pod bound -> the kubelet's first status write (phase Pending, hostIP,
  conditions), before the sandbox has an IP.
* ``container_start``: pod bound -> containers running with an IP (sandbox, CNI, image
  present): about one to three seconds for a small image that is already pulled.
* ``app_shutdown``: SIGTERM -> the containers have exited, for an application that honours
  SIGTERM promptly (nginx: well under a second); capped by the grace period.
* ``kubelet_delete_delay``: containers exited -> the kubelet's final DELETE.
* ``controller_sync``: a controller's sync duration (``0`` = instantaneous).
* ``node_monitor_grace_period`` (50 s) and ``default_toleration_seconds`` (300 s): the node
  lifecycle controller's defaults for marking pods of an unreachable node NotReady and evicting
  them.
"""

from __future__ import annotations

import random

import attrs

from kubesim.errors import InvalidOption

__all__ = ["Uniform", "Timing"]


@attrs.frozen
class Uniform:
    """A latency drawn uniformly from ``[low, high]`` seconds (``low == high``: constant)."""

    low: float
    high: float

    def __attrs_post_init__(self) -> None:
        if not (0 <= self.low <= self.high):
            raise InvalidOption(f"latency range must satisfy 0 <= low <= high, got [{self.low}, {self.high}]")

    def draw(self, rng: random.Random) -> float:
        """One sample. Consumes one random number even when constant, so changing a range
        does not shift every later draw."""
        u = rng.random()
        return self.low + (self.high - self.low) * u


def _latency(value: object) -> Uniform:
    if isinstance(value, Uniform):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Uniform(float(value), float(value))
    if isinstance(value, tuple) and len(value) == 2:
        return Uniform(float(value[0]), float(value[1]))
    raise InvalidOption(f"a latency must be seconds, (low, high) or Uniform, got {value!r}")


@attrs.frozen
class Timing:
    """Latencies of the simulated components (seconds or ``(low, high)`` ranges)."""

    scheduler_latency: Uniform = attrs.field(default=Uniform(0.01, 0.05), converter=_latency)
    kubelet_admit: Uniform = attrs.field(default=Uniform(0.05, 0.2), converter=_latency)
    container_start: Uniform = attrs.field(default=Uniform(1.0, 3.0), converter=_latency)
    app_shutdown: Uniform = attrs.field(default=Uniform(0.2, 1.0), converter=_latency)
    kubelet_delete_delay: Uniform = attrs.field(default=Uniform(0.5, 1.0), converter=_latency)
    controller_sync: Uniform = attrs.field(default=Uniform(0.0, 0.0), converter=_latency)
    node_monitor_grace_period: float = 50.0
    default_toleration_seconds: float = 300.0

    @classmethod
    def instant(cls) -> Timing:
        """Every latency zero: events happen in causal order at the same instant."""
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
