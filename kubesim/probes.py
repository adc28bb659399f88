"""Readiness-probe arithmetic: when does a container's readiness flip?

The user describes what the application does with an :class:`AppBehaviour` (ready after a
start-up time, unready during intervals, flapping, which ports listen, how slowly it answers);
a :class:`ReadinessTracker` combines it with the container's ``readinessProbe`` and answers
:meth:`~ReadinessTracker.ready_at` and :meth:`~ReadinessTracker.next_transition` -- so the kubelet
schedules one event per readiness flip, never one per probe.  All times are virtual seconds
since the container started.

Upstream semantics (``pkg/kubelet/prober/worker.go``, ``prober_manager.go``, ``prober.go``):

* **No readiness probe** -> ready as soon as the container runs (``ready = !exists``).
* **The initial result is Failure**: a probed container is not ready until the probe says so.
* **Probe times.**  A worker probes on a ticker of ``periodSeconds``.  Probes made while
  ``int(elapsed) < initialDelaySeconds`` are skipped (they do not count).  Whenever the kubelet
  computes the pod's status while the container has no Success result (``UpdatePodStatus``),
  it triggers an immediate probe, which also resets the ticker; the container starting is such
  a moment, so the ticks are ``offset + k * periodSeconds`` (``k = 0, 1, ...``) after the
  container starts.  Hence the first counted probe is the first tick at or after
  ``initialDelaySeconds`` -- with ``initialDelaySeconds: 5, periodSeconds: 10`` that is
  ``t = 10``, not ``5`` (kubernetes/kubernetes#62036, kubernetes/website#48519).  This is the
  default, ``alignment="kubelet"``.  Later status syncs of a not-ready pod (periodic resyncs,
  other containers' events) trigger more manual probes upstream; kubesim does not model those.
  ``alignment="documented"`` gives the model the documentation describes instead: first probe
  at ``initialDelaySeconds``, then every ``periodSeconds``.
* **Jitter.**  Upstream sleeps a random fraction of ``periodSeconds`` before a worker's first
  probe *only* when the kubelet itself started less than one period ago (all workers are
  created at once after a kubelet restart).  kubesim takes that as an explicit
  ``first_probe_offset``; :func:`initial_jitter` computes it from a passed ``random.Random``.
* **Thresholds.**  Consecutive equal outcomes are counted; the result becomes Success after
  ``successThreshold`` consecutive successes and Failure after ``failureThreshold`` consecutive
  failures; in between it keeps its previous value.
* **Ports.**  HTTP and TCP probes resolve their port like ``ResolveContainerPort``: a number is
  used as is; a name is looked up in the container's ports, then tried as a decimal number.  A
  name that resolves to nothing makes every probe an error, whose result upstream throws away:
  the container never becomes ready.  A resolved port succeeds only if the application listens
  on it (:attr:`AppBehaviour.listening_ports`, by default the container's declared ports).
  Exec probes need no port.
* **Timeouts.**  A probe fails when the application answers in ``timeoutSeconds`` or more
  (:attr:`AppBehaviour.response_seconds`); results are taken at the probe's start time
  (kubesim does not model a probe's duration).
* **What a failed probe says.**  :func:`probe_failure_message` gives the kubelet's ``Unhealthy``
  event text (``pkg/kubelet/prober/prober.go``: ``"<Type> probe failed: <output>"``, or
  ``"<Type> probe errored and resulted in unknown state: <error>"`` for a port that does not
  resolve) with the output the probers produce (``pkg/probe/http``, ``pkg/probe/tcp``,
  Go's ``net/http`` and ``net`` errors): a port nobody listens on, or an application that has
  not started yet (before :attr:`AppBehaviour.ready_after`), refuses the connection
  (``Get "http://10.244.1.2:8080/": dial tcp 10.244.1.2:8080: connect: connection refused``);
  a slow answer times out (``context deadline exceeded (Client.Timeout exceeded while
  awaiting headers)``, TCP ``i/o timeout``); a started application that answers unhealthily
  (an ``unready`` interval, a flapping down-stretch) returns HTTP 503 (kubesim's choice of
  status code) and an exec probe exits non-zero with no output.

Costs: a tracker simulates probes in bulk over stretches where the application's answer does
not change, so :meth:`~ReadinessTracker.next_transition` costs ``O(segments crossed)``, not
``O(probes)``; queries with non-decreasing times reuse earlier work.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator, Sequence

import attrs

from kubesim.clock import MAX_TIME
from kubesim.errors import InvalidOption
from kubesim.objects import Container, IntOrString, Probe

__all__ = [
    "Flapping",
    "AppBehaviour",
    "ReadinessTracker",
    "resolve_container_port",
    "probe_port",
    "initial_jitter",
    "probe_times",
    "probe_failure_output",
    "probe_failure_message",
]


def _intervals(value: Sequence[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    out = tuple((float(a), float(b)) for a, b in value)
    for a, b in out:
        if not a <= b:
            raise InvalidOption(f"unready interval ({a!r}, {b!r}) ends before it starts")
    return tuple(sorted(out))


def _ports(value: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if value is None else tuple(sorted(set(int(p) for p in value)))


#: The shortest mean stretch a :class:`Flapping` takes (seconds).
MIN_FLAP_MEAN = 0.1


@attrs.frozen
class Flapping:
    """Alternating healthy/unhealthy stretches from ``start`` to ``until`` (``None``: forever).

    Durations are exponential with means ``mean_up`` and ``mean_down`` seconds, drawn from
    ``random.Random(seed)`` (healthy first), so a seed always gives the same stretches.
    """

    mean_up: float
    mean_down: float
    seed: int = 0
    start: float = 0.0
    until: float | None = None

    def __attrs_post_init__(self) -> None:
        # Issue 14: a vanishing mean makes the stretches endless in number (the loop that
        # draws them never reaches a probe); a stretch shorter than MIN_FLAP_MEAN is invisible
        # to a probe anyway (periodSeconds >= 1). Bounded above by the clock's range.
        means = (self.mean_up, self.mean_down)
        if not all(
            isinstance(m, (int, float)) and not isinstance(m, bool) and MIN_FLAP_MEAN <= m <= MAX_TIME for m in means
        ):
            raise InvalidOption(
                f"flapping means must be numbers of seconds between {MIN_FLAP_MEAN} and {MAX_TIME:.0f}, "
                f"got mean_up={self.mean_up!r}, mean_down={self.mean_down!r}"
            )


@attrs.frozen
class AppBehaviour:
    """What the application in a container does, as a readiness probe sees it.

    * ``ready_after``: seconds after container start before it answers successfully;
    * ``unready``: ``[(start, end), ...]`` half-open intervals during which it fails probes;
    * ``flapping``: optional random alternation (:class:`Flapping`);
    * ``listening_ports``: ports it listens on (``None``: the container's declared ports); an
      HTTP/TCP probe aimed at any other port never succeeds;
    * ``response_seconds``: how long it takes to answer; probes time out (fail) when this is
      ``>= timeoutSeconds``.

    >>> AppBehaviour(ready_after=3, unready=[(20, 30)]).healthy_at(25)
    False
    """

    ready_after: float = 0.0
    unready: tuple[tuple[float, float], ...] = attrs.field(default=(), converter=_intervals)
    flapping: Flapping | None = None
    listening_ports: tuple[int, ...] | None = attrs.field(default=None, converter=_ports)
    response_seconds: float = 0.0
    #: what liveness and startup probes see (their endpoint, e.g. ``/healthz``, often differs
    #: from the readiness endpoint); ``None``: the same as the readiness probe
    liveness: AppBehaviour | None = None
    #: the process exits by itself this many seconds after it started (``None``: never), with
    #: ``exit_code``; the kubelet restarts it as ``restartPolicy`` says
    exit_after: float | None = None
    exit_code: int = 1
    #: the exit code when it stops on SIGTERM within the grace period (0: a graceful shutdown,
    #: ``Completed``; 143 = 128 + SIGTERM for a process without a handler, ``Error``)
    sigterm_exit_code: int = 0
    #: how long an ``exec`` or ``httpGet`` ``preStop`` hook takes (a ``sleep`` hook takes its
    #: ``seconds``)
    pre_stop_seconds: float = 0.0

    def __attrs_post_init__(self) -> None:
        if self.exit_after is not None and not self.exit_after >= 0:
            raise InvalidOption(f"exit_after must be non-negative, got {self.exit_after!r}")
        if not self.pre_stop_seconds >= 0:
            raise InvalidOption(f"pre_stop_seconds must be non-negative, got {self.pre_stop_seconds!r}")
        for name in ("exit_code", "sigterm_exit_code"):
            code = getattr(self, name)
            if not isinstance(code, int) or isinstance(code, bool) or not 0 <= code <= 255:
                raise InvalidOption(f"{name} must be an integer in 0..255, got {code!r}")

    @property
    def for_liveness(self) -> AppBehaviour:
        """The behaviour liveness and startup probes see."""
        return self if self.liveness is None else self.liveness

    def healthy_at(self, t: float) -> bool:
        """Whether the application answers successfully at ``t`` (ignoring ports, flapping
        and timeouts).  ``O(log intervals)``."""
        if t < self.ready_after:
            return False
        return not any(a <= t < b for a, b in self.unready)


def resolve_container_port(port: IntOrString, container: Container) -> int | None:
    """``ResolveContainerPort``: a probe's port as a number, or ``None`` when it cannot be
    resolved (unknown name, or outside 1..65535).  ``O(ports)``."""
    if isinstance(port, int) and not isinstance(port, bool):
        number = port
    else:
        found = [p.container_port for p in container.ports if p.name == port]
        if found:
            number = found[0]
        else:
            try:
                number = int(str(port), 10)
            except ValueError:
                return None
    return number if 0 < number < 65536 else None


def probe_port(probe: Probe, container: Container) -> tuple[bool, int | None]:
    """``(needs_port, port)`` for a probe: exec probes need none; HTTP/TCP probes give their
    resolved port (``None`` if unresolvable).  A probe without a handler gives
    ``(True, None)``: it can never succeed.  ``O(ports)``."""
    if probe.exec is not None:
        return False, None
    if probe.http_get is not None:
        return True, resolve_container_port(probe.http_get.port, container)
    if probe.tcp_socket is not None:
        return True, resolve_container_port(probe.tcp_socket.port, container)
    return True, None


def _host_port(host: str, port: int) -> str:
    # net.JoinHostPort
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def probe_failure_output(probe: Probe, container: Container, behaviour: AppBehaviour, pod_ip: str,
                         t: float) -> tuple[bool, str]:
    """Why a probe made at container time ``t`` fails: ``(errored, text)``. ``errored`` is
    ``True`` when the prober returned an error (an unresolvable port, no handler; ``text`` is
    the error), else ``text`` is the failed probe's output. See the module docstring.
    ``O(ports + intervals)``.

    >>> from kubesim.objects import Container, ContainerPort, HTTPGetAction
    >>> c = Container("web", ports=[ContainerPort(80)])
    >>> probe_failure_output(Probe(http_get=HTTPGetAction(port=8080, path="/")), c, AppBehaviour(), "10.244.1.2", 0)
    (False, 'Get "http://10.244.1.2:8080/": dial tcp 10.244.1.2:8080: connect: connection refused')
    """
    if probe.exec is not None:
        if behaviour.response_seconds >= probe.timeout_seconds:
            cmd = " ".join(probe.exec.command)
            return False, f'command "{cmd}" timed out'
        return False, ""
    h, tcp = probe.http_get, probe.tcp_socket
    if h is None and tcp is None:
        return True, f"missing probe handler for {container.name}"
    raw = h.port if h is not None else tcp.port  # type: ignore[union-attr]
    port = resolve_container_port(raw, container)
    if port is None:
        # ResolveContainerPort: a name not among the ports, then strconv.Atoi
        if isinstance(raw, str) and not raw.lstrip("+-").isdigit():
            return True, f'strconv.Atoi: parsing "{raw}": invalid syntax'
        return True, f"invalid port number: {raw}"
    host = (h.host if h is not None else tcp.host) or pod_ip  # type: ignore[union-attr]
    addr = _host_port(host, port)
    listening = behaviour.listening_ports
    if listening is None:
        listening = tuple(p.container_port for p in container.ports)
    refused = port not in listening or t < behaviour.ready_after
    if h is not None:
        path = h.path or "/"
        url = f"{(h.scheme or 'HTTP').lower()}://{addr}{path if path.startswith('/') else '/' + path}"
        if refused:
            return False, f'Get "{url}": dial tcp {addr}: connect: connection refused'
        if behaviour.response_seconds >= probe.timeout_seconds:
            return False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        return False, "HTTP probe failed with statuscode: 503"
    if not refused and behaviour.response_seconds >= probe.timeout_seconds:
        return False, f"dial tcp {addr}: i/o timeout"
    return False, f"dial tcp {addr}: connect: connection refused"


def probe_failure_message(probe_type: str, probe: Probe, container: Container, behaviour: AppBehaviour,
                          pod_ip: str, t: float) -> str:
    """The ``Unhealthy`` event's message for a failed probe of ``probe_type`` (``Readiness``,
    ``Liveness`` or ``Startup``) at container time ``t`` (``prober.go`` ``probe``). ``O(ports)``."""
    errored, text = probe_failure_output(probe, container, behaviour, pod_ip, t)
    if errored:
        return f"{probe_type} probe errored and resulted in unknown state: {text}"
    return f"{probe_type} probe failed: {text}"


def initial_jitter(probe: Probe, rng: random.Random, *, seconds_since_kubelet_start: float) -> float:
    """The random delay upstream adds before a worker's first probe: ``rng.random() *
    periodSeconds`` if the kubelet started less than one period ago, else ``0``.  ``O(1)``."""
    period = float(probe.period_seconds)
    if period > seconds_since_kubelet_start:
        return rng.random() * period
    return 0.0


def probe_times(probe: Probe, *, first_probe_offset: float = 0.0, alignment: str = "kubelet") -> Iterator[float]:
    """The times (since container start) of the probes that count, forever. ``O(1)`` each.

    >>> from itertools import islice
    >>> list(islice(probe_times(Probe(initial_delay_seconds=5, period_seconds=10)), 3))
    [10.0, 20.0, 30.0]
    >>> list(islice(probe_times(Probe(initial_delay_seconds=5, period_seconds=10), alignment="documented"), 3))
    [5.0, 15.0, 25.0]
    """
    first, period = _first_and_period(probe, first_probe_offset, alignment)
    k = 0
    while True:
        yield first + k * period
        k += 1


def _first_and_period(probe: Probe, offset: float, alignment: str) -> tuple[float, float]:
    period = float(probe.period_seconds)
    if period <= 0:
        raise InvalidOption(f"periodSeconds must be positive, got {probe.period_seconds!r}")
    if probe.success_threshold < 1 or probe.failure_threshold < 1:
        raise InvalidOption(
            "successThreshold and failureThreshold must be at least 1, got "
            f"{probe.success_threshold!r} and {probe.failure_threshold!r}"
        )
    if offset < 0:
        raise InvalidOption(f"first_probe_offset must be non-negative, got {offset!r}")
    delay = float(probe.initial_delay_seconds)
    if alignment == "kubelet":
        # Ticks at offset + k*period; a tick counts once int(elapsed) >= initialDelaySeconds,
        # i.e. elapsed >= initialDelaySeconds (an integer).
        k = 0 if offset >= delay else math.ceil((delay - offset) / period)
        return offset + k * period, period
    if alignment == "documented":
        return max(delay, offset), period
    raise InvalidOption(f'alignment must be "kubelet" or "documented", got {alignment!r}')


_OK, _FAIL = True, False


@attrs.define(eq=False)
class ReadinessTracker:
    """The result of one container's probe over time (readiness by default).

    Construct with the container (its ``readiness_probe`` is used unless ``probe`` is given)
    and an :class:`AppBehaviour`.  ``initial`` is the worker's initial result
    (``prober/worker.go``): ``False`` (Failure) for readiness, ``True`` (Success) for liveness,
    ``None`` (Unknown) for startup; ``not_before`` skips the ticks before that container time
    (readiness and liveness are not probed before the startup probe succeeds).  Methods:

    * :meth:`ready_at` -- the result at a time (after the probes at that instant);
    * :meth:`next_transition` -- the next flip strictly after a time, ``None`` if none;
    * :meth:`transitions` -- every ``(time, result)`` flip up to a time;
    * :meth:`next_failure` -- the next failed probe (each one is an ``Unhealthy`` Event).

    >>> from kubesim.objects import Container, ContainerPort, HTTPGetAction
    >>> c = Container("app", ports=[ContainerPort(8080, name="http")],
    ...     readiness_probe=Probe(http_get=HTTPGetAction(port="http"), period_seconds=10))
    >>> t = ReadinessTracker(c, AppBehaviour(ready_after=15))
    >>> t.next_transition(0), t.next_transition(20)
    (20.0, None)
    """

    container: Container
    behaviour: AppBehaviour = attrs.field(factory=AppBehaviour)
    probe: Probe | None = None
    first_probe_offset: float = 0.0
    alignment: str = "kubelet"
    #: Stop searching for flips this many behaviour segments ahead (guards unbounded flapping).
    max_segments: int = 100_000
    initial: bool | None = False
    not_before: float = 0.0

    _first: float = attrs.field(init=False, default=0.0, repr=False)
    _period: float = attrs.field(init=False, default=1.0, repr=False)
    _never_ok: bool = attrs.field(init=False, default=False, repr=False)
    _flaps: list[float] = attrs.field(init=False, factory=list, repr=False)
    _flap_rng: random.Random | None = attrs.field(init=False, default=None, repr=False)
    # Simulation cursor: probes with index < _k have been folded into the state below.
    _k: int = attrs.field(init=False, default=0, repr=False)
    _ready: bool | None = attrs.field(init=False, default=False, repr=False)
    _last: bool | None = attrs.field(init=False, default=None, repr=False)
    _run: int = attrs.field(init=False, default=0, repr=False)
    _flips: list[float] = attrs.field(init=False, factory=list, repr=False)
    _values: list[bool] = attrs.field(init=False, factory=list, repr=False)
    _done: bool = attrs.field(init=False, default=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.probe is None:
            self.probe = self.container.readiness_probe
        self._ready = self.initial
        if self.probe is None:
            # No probe: ready from the start, forever.
            self._ready = True
            self._flips = [0.0]
            self._values = [True]
            self._done = True
            return
        self._first, self._period = _first_and_period(self.probe, self.first_probe_offset, self.alignment)
        if self._first < self.not_before:
            self._first += math.ceil((self.not_before - self._first) / self._period) * self._period
        needs_port, port = probe_port(self.probe, self.container)
        if needs_port:
            if port is None:
                self._never_ok = True
            else:
                listening = self.behaviour.listening_ports
                if listening is None:
                    listening = tuple(p.container_port for p in self.container.ports)
                self._never_ok = port not in listening
        if self.behaviour.response_seconds >= self.probe.timeout_seconds:
            self._never_ok = True
        if self._never_ok and self.initial is False:
            self._done = True  # initial Failure, never changes
        fl = self.behaviour.flapping
        if fl is not None:
            self._flap_rng = random.Random(fl.seed)

    # -- behaviour as piecewise-constant outcome ------------------------------------------

    def _flap_boundaries_until(self, t: float) -> None:
        fl = self.behaviour.flapping
        assert fl is not None and self._flap_rng is not None
        flaps = self._flaps
        if not flaps:
            flaps.append(fl.start)
        while flaps[-1] <= t and (fl.until is None or flaps[-1] < fl.until):
            mean = fl.mean_up if len(flaps) % 2 == 1 else fl.mean_down
            nxt = flaps[-1] + self._flap_rng.expovariate(1.0 / mean)
            if fl.until is not None and nxt >= fl.until:
                nxt = fl.until
            flaps.append(nxt)

    def _flap_down(self, t: float) -> bool:
        fl = self.behaviour.flapping
        if fl is None or t < fl.start or (fl.until is not None and t >= fl.until):
            return False
        self._flap_boundaries_until(t)
        i = bisect.bisect_right(self._flaps, t)  # flaps[i-1] <= t < flaps[i]
        return i % 2 == 0  # segment index i-1: even = up, odd = down

    def outcome_at(self, t: float) -> bool:
        """Whether a probe made at ``t`` succeeds.  Amortised ``O(log segments)``."""
        if self._never_ok:
            return False
        return self.behaviour.healthy_at(t) and not self._flap_down(t)

    def _segment_end(self, t: float) -> float:
        """The next instant after ``t`` at which the outcome may change (``inf`` if never)."""
        b = self.behaviour
        cands = [math.inf]
        if t < b.ready_after:
            cands.append(b.ready_after)
        for a, _e in b.unready:
            if a > t:
                cands.append(a)
                break
        for a, e in b.unready:
            if a <= t < e:
                cands.append(e)
        fl = b.flapping
        if fl is not None:
            if t < fl.start:
                cands.append(fl.start)
            elif fl.until is None or t < fl.until:
                self._flap_boundaries_until(t)
                i = bisect.bisect_right(self._flaps, t)
                if i < len(self._flaps):
                    cands.append(self._flaps[i])
        return min(cands)

    # -- the probe simulation ---------------------------------------------------------------

    def _probe_time(self, k: int) -> float:
        return self._first + k * self._period

    def _advance_segment(self) -> None:
        """Fold all probes in the current constant-outcome stretch into the state."""
        assert self.probe is not None
        t = self._probe_time(self._k)
        x = self.outcome_at(t)
        end = self._segment_end(t)
        if end == math.inf:
            n = math.inf
        else:
            # probes with time < end, from index _k on
            n = max(1, math.ceil((end - self._first) / self._period) - self._k)
        threshold = self.probe.success_threshold if x else self.probe.failure_threshold
        have = self._run if self._last is x else 0
        needed = max(threshold - have, 1)
        if self._ready is not x and needed <= n:
            self._flips.append(self._probe_time(self._k + needed - 1))
            self._values.append(x)
            self._ready = x
        if n == math.inf:
            self._done = True
            return
        ni = int(n)
        self._run = self._run + ni if self._last is x else ni
        self._last = x
        self._k += ni

    def _extend_past(self, t: float) -> None:
        """Fold every probe made at or before ``t`` into the state."""
        while not self._done and self._probe_time(self._k) <= t:
            self._advance_segment()

    def next_transition(self, after_time: float, *, horizon: float = math.inf) -> float | None:
        """The first readiness flip strictly after ``after_time`` and not after ``horizon``,
        or ``None``.  With a bounded behaviour (no endless flapping) ``None`` means readiness
        never changes again.  Amortised ``O(segments crossed)``."""
        segments = 0
        while not self._done and not (self._flips and self._flips[-1] > after_time):
            if self._probe_time(self._k) > horizon or segments >= self.max_segments:
                break
            self._advance_segment()
            segments += 1
        i = bisect.bisect_right(self._flips, after_time)
        if i < len(self._flips) and self._flips[i] <= horizon:
            return self._flips[i]
        return None

    def next_failure(self, x: float, *, after: float | None = None) -> float | None:
        """The container time of the first probe at or after ``x`` (and strictly after
        ``after``, if given) whose outcome is a failure, or ``None`` if there is none (or none
        within :attr:`max_segments` stretches). Every failed probe counts, whatever the result:
        upstream's prober records an ``Unhealthy`` event for each (``prober.go`` ``probe``),
        before the worker's threshold check. Skips a stretch of successes in one step, so a
        healthy container costs ``O(1)``; amortised ``O(log segments)`` per failure.

        >>> from kubesim.objects import Container, ContainerPort, HTTPGetAction
        >>> c = Container("app", ports=[ContainerPort(8080)],
        ...     readiness_probe=Probe(http_get=HTTPGetAction(port=8080), period_seconds=10))
        >>> t = ReadinessTracker(c, AppBehaviour(ready_after=25))
        >>> t.next_failure(0), t.next_failure(0, after=0.0), t.next_failure(21), t.next_failure(25)
        (0.0, 10.0, None, None)
        """
        if self.probe is None:
            return None
        first, period = self._first, self._period
        k = max(0, math.ceil((x - first) / period))
        while first + k * period < x:
            k += 1
        while k > 0 and first + (k - 1) * period >= x:
            k -= 1
        if after is not None:
            while first + k * period <= after:
                k += 1
        for _ in range(self.max_segments):
            p = first + k * period
            if p > MAX_TIME:
                return None
            if not self.outcome_at(p):
                return p
            end = self._segment_end(p)
            if end == math.inf:
                return None
            k = max(k + 1, math.ceil((end - first) / period))
            while k > 0 and first + (k - 1) * period >= end:
                k -= 1
        return None

    @property
    def first_probe(self) -> float | None:
        """The container time of the first probe that counts (``None``: no probe)."""
        return None if self.probe is None else self._first

    def ready_at(self, t: float) -> bool:
        """Readiness at ``t``, after any probe at exactly ``t``.  Amortised ``O(segments)``."""
        self._extend_past(t)
        i = bisect.bisect_right(self._flips, t)
        return self._values[i - 1] if i else bool(self.initial)

    def result_at(self, t: float) -> bool | None:
        """The result at ``t`` (after any probe at exactly ``t``): the last flip's value, or
        the initial result (``None``: Unknown).  Amortised ``O(segments)``."""
        self._extend_past(t)
        i = bisect.bisect_right(self._flips, t)
        return self._values[i - 1] if i else self.initial

    def transitions(self, until: float) -> list[tuple[float, bool]]:
        """Every flip ``(time, ready)`` with ``time <= until``.  ``O(segments + flips)``."""
        self._extend_past(until)
        out = []
        for f, v in zip(self._flips, self._values, strict=True):
            if f > until:
                break
            out.append((f, v))
        return out
