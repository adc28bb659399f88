"""The ``kubesim.io/v1alpha1`` group: the simulator's own controls on the same server.

Not part of discovery (kubectl never lists it); reach it with ``kubectl get --raw`` /
``kubectl create --raw`` or any HTTP client. Every path is under
``/apis/kubesim.io/v1alpha1/``:

========================  ======  ==============================================================
path                      verb    what it does
========================  ======  ==============================================================
``clock``                 GET     virtual time: ``now`` (s), ``nowTime`` (RFC 3339), ``speed``,
                                  ``next`` (the next pending event's time or ``null``)
``advance``               POST    ``{"seconds": S}``: run the cluster ``S`` virtual seconds
                                  (``"maxSteps"`` bounds the callbacks, default 200,000: 422
                                  when exceeded, the clock stays where it got to)
``run``                   POST    run until nothing is pending (``{"until": T}`` to stop at ``T``;
                                  at most ``"maxSteps"`` callbacks and ``"horizon"`` virtual
                                  seconds, default 3600); answers the clock and ``"idle"``
``speed``                 PUT     ``{"speed": X}``: virtual seconds per wall second (0: stopped)
``churn``                 GET     :meth:`kubesim.Cluster.churn` as JSON (``?since=&until=``)
``changes``               GET     the change log as JSON lines, one record per write
                                  (``?since=SEQ`` for the records from ``SEQ`` on)
``statistics``            GET     :meth:`kubesim.Cluster.statistics` as JSON, and the server's
                                  own under ``serve`` (requests, open watches, history, lag)
``kubectl``               GET     kubesim's own kubectl text (``?command=get endpoints``):
                                  ``get`` and ``describe`` only, without ``-f`` (403 otherwise:
                                  the server's own files are never read)
========================  ======  ==============================================================

Errors are ``Status`` objects like the rest of the API.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Callable
from typing import Any

import attrs

from kubesim import errors as _errors
from kubesim import manifests
from kubesim.serve.rest import Request, Response, json_response
from kubesim.serve.status import ApiError

__all__ = ["PREFIX", "Control"]

PREFIX = "/apis/kubesim.io/v1alpha1"

_READ_ONLY = ("get", "describe")
_FILE_FLAGS = {"-f", "--filename", "-k", "--kustomize", "-R", "--recursive"}

#: The default bound on callbacks one ``advance`` or ``run`` request may run.
DEFAULT_MAX_STEPS = 200_000


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        return {k: _plain(v) for k, v in attrs.asdict(value, recurse=False).items()}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@attrs.define(eq=False)
class Control:
    """The handlers of the ``kubesim.io`` group over a cluster and a time driver.

    ``set_speed(x)`` and ``reanchor()`` are the time driver's hooks (see
    :class:`kubesim.serve.app.Server`)."""

    cluster: Any
    get_speed: Callable[[], float]
    set_speed: Callable[[float], None]
    reanchor: Callable[[], None]
    server_statistics: Callable[[], Any] | None = None

    def handle(self, req: Request) -> Response:
        sub = req.path[len(PREFIX):].strip("/")
        method = req.method.upper()
        routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", ""): self._index,
            ("GET", "clock"): lambda r: json_response(200, self.clock()),
            ("POST", "advance"): self._advance,
            ("POST", "run"): self._run,
            ("PUT", "speed"): self._speed,
            ("POST", "speed"): self._speed,
            ("GET", "churn"): self._churn,
            ("GET", "changes"): self._changes,
            ("GET", "statistics"): self._statistics,
            ("GET", "kubectl"): self._kubectl,
        }
        fn = routes.get((method, sub))
        if fn is None:
            if any(s == sub for _, s in routes):
                raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on {PREFIX}/{sub}")
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return fn(req)

    def _index(self, req: Request) -> Response:
        return json_response(200, {"kind": "KubesimControls", "apiVersion": "kubesim.io/v1alpha1",
                                   "paths": [f"{PREFIX}/{p}" for p in ("clock", "advance", "run", "speed", "churn",
                                                                        "changes", "statistics", "kubectl")]})

    def clock(self) -> dict[str, Any]:
        c = self.cluster
        nxt = c.clock.peek()
        return {
            "kind": "Clock",
            "apiVersion": "kubesim.io/v1alpha1",
            "now": c.now,
            "nowTime": manifests.format_time(c.now_unix),
            "speed": self.get_speed(),
            "next": nxt,
            "changes": len(c.changes),
        }

    def _json(self, req: Request) -> dict[str, Any]:
        if not req.body.strip():
            return {}
        try:
            d = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "BadRequest", f"error decoding JSON: {exc}") from None
        if not isinstance(d, dict):
            raise ApiError(400, "BadRequest", "the body must be a JSON object")
        return d

    @staticmethod
    def _number(d: dict[str, Any], req: Request, key: str, default: float | None) -> float | None:
        v = d.get(key, req.query.get(key, default))
        if v is None:
            return None
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ApiError(400, "BadRequest", f"{key}: Invalid value: {v!r}: must be a number") from None
        if isinstance(v, bool) or not math.isfinite(f) or f < 0:
            raise ApiError(400, "BadRequest", f"{key}: Invalid value: {v!r}: must be a finite number >= 0")
        return f

    def _advance(self, req: Request) -> Response:
        d = self._json(req)
        seconds = self._number(d, req, "seconds", None)
        if seconds is None:
            raise ApiError(422, "Invalid", "seconds: Required value")
        if seconds > 10 * 365 * 86400:
            raise ApiError(422, "Invalid", f"seconds: Invalid value: {seconds}: must be at most ten years")
        max_steps = int(self._number(d, req, "maxSteps", DEFAULT_MAX_STEPS) or 0)
        try:
            self.cluster.run(until=self.cluster.now + seconds, max_steps=max_steps)
        except _errors.InvalidOption:
            self.reanchor()
            raise ApiError(422, "Invalid", f"advance stopped after maxSteps={max_steps} callbacks at "
                                           f"t={self.cluster.now:g}: ask for less time, or a larger maxSteps") from None
        self.reanchor()
        return json_response(200, self.clock())

    def _run(self, req: Request) -> Response:
        d = self._json(req)
        until = self._number(d, req, "until", None)
        horizon = self._number(d, req, "horizon", 3600.0) or 0.0
        max_steps = int(self._number(d, req, "maxSteps", DEFAULT_MAX_STEPS) or 0)
        c = self.cluster
        if until is not None and until < c.now:
            raise ApiError(422, "Invalid", f"until: Invalid value: {until}: is before now ({c.now})")
        stop = min(until, c.now + horizon) if until is not None else c.now + horizon
        steps = 0
        while steps < max_steps:
            t = c.clock.peek()
            if t is None or t > stop:
                break
            c.clock.step()
            steps += 1
        if until is not None and c.now < until <= stop:
            c.run(until=until)
        self.reanchor()
        out = self.clock()
        out["steps"] = steps
        out["idle"] = c.clock.peek() is None
        return json_response(200, out)

    def _statistics(self, req: Request) -> Response:
        out = _plain(self.cluster.statistics())
        if self.server_statistics is not None:
            out["serve"] = _plain(self.server_statistics())
        return json_response(200, out)

    def _speed(self, req: Request) -> Response:
        d = self._json(req)
        speed = self._number(d, req, "speed", None)
        if speed is None:
            raise ApiError(422, "Invalid", "speed: Required value")
        self.set_speed(speed)
        return json_response(200, self.clock())

    def _churn(self, req: Request) -> Response:
        kwargs: dict[str, Any] = {}
        for key in ("since", "until"):
            v = self._number({}, req, key, None)
            if v is not None:
                kwargs[key] = v
        return Response(200, self.cluster.churn(**kwargs).to_json().encode())

    def _changes(self, req: Request) -> Response:
        since = int(self._number({}, req, "since", 0) or 0)
        lines = []
        for e in self.cluster.changes[since:]:
            d = {f.name: getattr(e, f.name) for f in attrs.fields(type(e)) if f.name != "object"}
            lines.append(json.dumps(_plain(d), separators=(",", ":")))
        body = ("\n".join(lines) + ("\n" if lines else "")).encode()
        return Response(200, body, "application/x-ndjson",
                        {"Content-Disposition": 'attachment; filename="changes.jsonl"'})

    def _kubectl(self, req: Request) -> Response:
        command = req.query.get("command", "")
        if not command.strip():
            raise ApiError(422, "Invalid", "command: Required value")
        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"command: {exc}") from None
        # read-only views of the served cluster: no writes, no files of the server's machine
        if words[0] not in _READ_ONLY or any(
                w in _FILE_FLAGS or w.startswith(("-f=", "--filename=", "-k=", "--kustomize=")) for w in words):
            raise ApiError(403, "Forbidden",
                           f"command: only {' and '.join(_READ_ONLY)} of the served cluster, without files, are run here")
        try:
            text = self.cluster.kubectl(command)
        except _errors.KubectlError as exc:
            raise ApiError(400, "BadRequest", str(exc)) from None
        return Response(200, text.encode(), "text/plain; charset=utf-8")
