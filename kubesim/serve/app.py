"""The HTTP server: aiohttp in front of :class:`kubesim.serve.rest.Backend`, and the clock.

One asyncio event loop owns the cluster: request handlers, watch streams and the time driver
all run on it, so the cluster (which is not thread-safe) is touched by one thread only. Each
request is answered synchronously by the backend; only watch streams (and body reads) await.
aiohttp streams chunked responses and keeps thousands of idle watch connections cheaply.

Time: every ``tick`` wall seconds the driver runs the cluster up to
``anchor_virtual + (wall - anchor_wall) × speed``; ``speed=0`` leaves time to the
``kubesim.io`` controls (``advance``, ``run``), which re-anchor the driver. A tick spends at
most ``tick_budget`` wall seconds in the simulation and then yields to requests: a workload too
heavy for its speed runs behind wall time (``Server.lagging``) instead of starving clients.

Robustness: bodies are read in chunks and refused past the cap (413) before they are whole;
every failure of the backend is a ``Status`` answer; a failure inside the simulation's own
clock is logged and the server keeps serving; watch streams end when the client goes away,
the subscription overflows or ``timeoutSeconds`` passes.

:class:`ServerThread` runs a server on a background thread (tests, notebooks).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import ssl
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from kubesim.serve import control as _control
from kubesim.serve.rest import Backend, Request, Response, WatchPlan, error_response
from kubesim.serve.status import ApiError

__all__ = ["Server", "ServerThread", "ServeStatistics"]


class _QuietProtocolErrors(logging.Filter):
    """Drop aiohttp's tracebacks for requests that are not HTTP at all (they are answered with
    a plain 400, as Go's net/http answers them); everything else is logged as usual."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, HttpProcessingError)


logging.getLogger("aiohttp.server").addFilter(_QuietProtocolErrors())

T = TypeVar("T")


@attrs.frozen
class ServeStatistics:
    """A snapshot of :meth:`Server.statistics`."""

    requests: int
    watches: int
    history: int
    compacted_resource_version: int
    speed: float
    lagging: bool
    clock_errors: int


class Server:
    """``kubesim serve``: one cluster behind the Kubernetes API on ``host:port``.

    ``await start()`` binds (``port=0``: a free port, see :attr:`port`), ``await stop()``
    closes every connection. ``speed`` is virtual seconds per wall second; ``token`` turns on
    bearer-token authentication (``Authorization: Bearer <token>``); ``tls_cert_file`` and
    ``tls_key_file`` serve HTTPS (kubectl and client-go send credentials only over TLS).
    """

    def __init__(self, cluster: Any, *, host: str = "127.0.0.1", port: int = 6443, speed: float = 1.0,
                 token: str | None = None, tick: float = 0.05, history_size: int = 10000,
                 max_watch_queue: int = 10000, bookmark_interval: float = 5.0, tick_budget: float = 0.2,
                 tls_cert_file: str | None = None, tls_key_file: str | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        if not 0 <= speed < float("inf"):
            raise ValueError(f"speed must be a finite number >= 0, got {speed!r}")
        self.cluster = cluster
        self.host = host
        self.port = port
        self.speed = float(speed)
        self.token = token
        self.ssl: ssl.SSLContext | None = None
        if (tls_cert_file is None) != (tls_key_file is None):
            raise ValueError("TLS needs both a certificate and its private key")
        if tls_cert_file is not None and tls_key_file is not None:
            self.ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
            self.ssl.load_cert_chain(tls_cert_file, tls_key_file)
        self.tick = tick
        #: wall seconds one tick may spend running the simulation before it yields to requests
        self.tick_budget = tick_budget
        self.bookmark_interval = bookmark_interval
        #: ``True`` while the simulation runs behind ``wall time × speed``
        self.lagging = False
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.backend = Backend(cluster, history_size=history_size, max_watch_queue=max_watch_queue,
                               server_address=f"{host}:{port}")
        self.control = _control.Control(cluster, lambda: self.speed, self.set_speed, self.reanchor,
                                        lambda: self.statistics())
        self.backend.extensions[_control.PREFIX] = self.control.handle
        self._anchor_wall = time.monotonic()
        self._anchor_virtual = cluster.now
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.requests = 0
        self.clock_errors = 0

    def statistics(self) -> ServeStatistics:
        """Requests answered, watch streams open, the watch history's length and compaction
        point, the clock's speed and whether it runs behind, errors the simulation raised."""
        hub = self.backend.hub
        return ServeStatistics(self.requests, hub.subscriptions(), len(hub.history), hub.compacted_rv,
                               self.speed, self.lagging, self.clock_errors)

    def _check(self) -> None:
        """Assert the server's and its cluster's invariants (expensive)."""
        self.backend.hub._check()
        self.cluster._check()

    # ------------------------------------------------------------------ time

    def reanchor(self) -> None:
        """Virtual time from now on advances from the cluster's current time."""
        self._anchor_wall = time.monotonic()
        self._anchor_virtual = self.cluster.now

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on (``0``: stop the clock)."""
        if not 0 <= speed < float("inf"):
            raise ValueError(f"speed must be a finite number >= 0, got {speed!r}")
        self.advance_clock()
        self.speed = float(speed)
        self.reanchor()

    def advance_clock(self) -> None:
        """Run the cluster up to the virtual time that wall time and speed give."""
        if self.speed <= 0:
            return
        target = self._anchor_virtual + (time.monotonic() - self._anchor_wall) * self.speed
        if target <= self.cluster.now:
            return
        clock = self.cluster.clock
        deadline = time.monotonic() + self.tick_budget
        steps = 0
        try:
            while True:
                t = clock.peek()
                if t is None or t > target:
                    break
                clock.step()
                steps += 1
                if steps % 64 == 0 and time.monotonic() > deadline:
                    self.lagging = True  # behind wall time: catch up on the next tick
                    return
            self.lagging = False
            self.cluster.run(until=target)
        except Exception as exc:  # a bug in the simulation: report it, keep serving
            self.clock_errors += 1
            if self.clock_errors <= 5:
                self.log(f"kubesim serve: the simulation raised {type(exc).__name__}: {exc}")
            self.reanchor()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            self.advance_clock()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=self.backend.max_body + 1)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a watch whose client went away is cancelled at once
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0,
                                     handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True, ssl_context=self.ssl)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self.backend.server_address = f"{self.host}:{self.port}"
        self.reanchor()
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        for plan_sub in list(self.backend.hub._subs.values()):
            for sub in list(plan_sub):
                sub.queue.put_nowait(("CLOSE", None))
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}"

    # ------------------------------------------------------------------ requests

    def _authorised(self, request: web.Request) -> bool:
        if self.token is None:
            return True
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token.encode())

    async def _read_body(self, request: web.Request) -> bytes:
        cap = self.backend.max_body
        length = request.content_length
        if length is not None and length > cap:
            raise ApiError(413, "RequestEntityTooLarge", "the server has received too large of a request body")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = await request.content.read(65536)
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                raise ApiError(413, "RequestEntityTooLarge", "the server has received too large of a request body")
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _to_http(resp: Response) -> web.Response:
        headers = dict(resp.headers)
        headers["Content-Type"] = resp.content_type
        headers.setdefault("Cache-Control", "no-cache, private")
        return web.Response(status=resp.code, body=resp.body, headers=headers)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        try:
            if not self._authorised(request):
                return self._to_http(error_response(ApiError(401, "Unauthorized", "Unauthorized")))
            body = await self._read_body(request)
            query = {k: request.query.getone(k) for k in request.query}
            req = Request(request.method, request.path, query, dict(request.headers), body)
        except ApiError as exc:
            return self._to_http(error_response(exc))
        except Exception as exc:  # an unreadable request (bad encoding, reset connection)
            return self._to_http(error_response(ApiError(400, "BadRequest", f"unreadable request: {type(exc).__name__}")))
        self.advance_clock()
        answer = self.backend.handle(req)
        if isinstance(answer, Response):
            return self._to_http(answer)
        return await self._stream(request, answer)

    async def _stream(self, request: web.Request, plan: WatchPlan) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": plan.content_type,
                                                       "Cache-Control": "no-cache, private"})
        resp.enable_chunked_encoding()
        backend = self.backend
        deadline = None if plan.timeout is None else time.monotonic() + plan.timeout
        try:
            await resp.prepare(request)
            if plan.error is not None:
                await resp.write(backend.frame(plan, "ERROR", plan.error))
                return resp
            for type_, obj in plan.initial:
                await resp.write(backend.frame(plan, type_, obj))
            if plan.initial_end_bookmark:
                await resp.write(backend.frame(plan, "BOOKMARK", backend.bookmark(plan, initial_end=True)))
            queue = plan.subscription.queue
            next_bookmark = time.monotonic() + self.bookmark_interval
            while True:
                now = time.monotonic()
                if request.transport is None or request.transport.is_closing():
                    break
                wait = 5.0
                if deadline is not None:
                    wait = min(wait, deadline - now)
                if plan.bookmarks:
                    wait = min(wait, next_bookmark - now)
                if wait <= 0:
                    if deadline is not None and now >= deadline:
                        break
                    await resp.write(backend.frame(plan, "BOOKMARK", backend.bookmark(plan)))
                    next_bookmark = time.monotonic() + self.bookmark_interval
                    continue
                try:
                    type_, entry = await asyncio.wait_for(queue.get(), timeout=wait)
                except asyncio.TimeoutError:
                    continue
                if type_ == "CLOSE":
                    break
                if plan.as_table or plan.as_partial:
                    await resp.write(backend.frame(plan, type_, entry.new))
                elif plan.as_proto:
                    await resp.write(entry.frame(type_))
                else:
                    await resp.write(entry.line(type_))
        except ConnectionError:
            pass
        finally:
            backend.stop_watch(plan)
        with contextlib.suppress(Exception):
            await resp.write_eof()
        return resp

    # ------------------------------------------------------------------ running

    def run_forever(self, on_ready: Callable[[Server], None] | None = None) -> None:
        """Serve until interrupted (Ctrl-C)."""

        async def main() -> None:
            await self.start()
            if on_ready is not None:
                on_ready(self)
            try:
                await asyncio.Event().wait()
            finally:
                await self.stop()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())


class ServerThread:
    """A :class:`Server` on a background thread, as a context manager::

        with ServerThread(kubesim.Cluster(seed=0), speed=0) as srv:
            ... srv.url ...
            srv.call(lambda: srv.server.cluster.now)   # run on the server's thread

    The server binds ``127.0.0.1`` on a free port unless told otherwise, and is always
    stopped when the block ends."""

    def __init__(self, cluster: Any, **kwargs: Any) -> None:
        kwargs.setdefault("port", 0)
        kwargs.setdefault("log", lambda msg: None)
        self.server = Server(cluster, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="kubesim-serve", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.server.stop())
        self._loop.close()

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        """Run ``fn()`` on the server's thread and return its result."""

        async def wrapper() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(timeout)

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
