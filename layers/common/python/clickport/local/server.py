"""``clickport serve``: the four functions on 127.0.0.1 as API Gateway would run them, plus docs and the tracker.

- Functions run in worker processes, one request at a time each (``local.workers``), so no request
  can see another's state; events become durable through the journal's group commit
  (``adapters.event_journal``) before a worker may acknowledge them.
- Transport: HTTP/1.1 parsed by httptools (llhttp, Node.js's parser: strict framing, chunked bodies) in
  an asyncio protocol, with our limits on the target, headers and body; an idle or stalled connection
  holds no thread, only a timer. Every answer, transport errors included,
  is the JSON envelope. Bounded everywhere: at most ``max_connections`` open connections and
  ``max_pending`` requests in the dispatch pool (503 with ``Retry-After`` beyond); reads time out
  (408 mid-request; an idle keep-alive connection is just closed).
- Nothing here logs a client address: the access log has the method, the path, the status and the time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httptools

from clickport.adapters.event_journal import EventJournal
from clickport.local.publisher import WATCH_SECONDS, JournalPublisher
from clickport.errors import REASON_PHRASES
from clickport.http.envelope import error_body, error_response
from clickport.local.apigw import build_event, response_parts
from clickport.local.functions import repository_root
from clickport.local.workers import (
    FunctionConfig,
    FunctionCrashed,
    FunctionPool,
    FunctionTimedOut,
    ReadPriority,
    Saturated,
    default_functions,
)
from clickport.settings import Settings

access_log = logging.getLogger("clickport.access")
logger = logging.getLogger("clickport.local")

@dataclass(frozen=True)
class TransportLimits:
    max_connections: int = 4096  # open connections (idle keep-alive ones cost no thread)
    max_pending: int = 512  # requests waiting for or running on a worker; 503 beyond
    read_timeout: float = 10.0  # one read while a request is arriving
    request_timeout: float = 30.0  # a whole request (headers and body)
    keepalive_timeout: float = 15.0  # idle between requests
    max_target_bytes: int = 8 * 1024  # 414 beyond
    max_header_bytes: int = 16 * 1024  # 431 beyond (request line and headers)
    max_body_bytes: int = 10 * 1024 * 1024  # API Gateway's payload limit: larger bodies never reach a function
    worker_wait: float = 10.0  # how long a request waits for a free worker before 503
    retry_after_seconds: int = 1


class _Refuse(Exception):
    """Answer with this error envelope and close the connection."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class _Request:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    keep_alive: bool = True


def static_routes() -> dict[str, Callable[[], tuple[int, str, bytes]]]:
    from clickport.http import openapi
    from clickport.local.dashboard import dashboard_routes

    def tracker() -> tuple[int, str, bytes]:
        script = repository_root() / "tracker" / "dist" / "cp.min.js"
        if not script.exists():
            return 404, "application/json", json.dumps(error_body(404, "tracker not built")).encode()
        return 200, "application/javascript; charset=utf-8", script.read_bytes()

    def demo_page() -> tuple[int, str, bytes]:
        from clickport.demo import DEMO_DOMAIN

        page = Path(__file__).with_name("demo_page.html").read_text(encoding="utf-8")
        return 200, "text/html; charset=utf-8", page.replace("{{DOMAIN}}", DEMO_DOMAIN).encode()

    return {
        "/demo/": demo_page,  # the tracker against the demo site, on this server's own host (docs/tracker.md)
        "/demo": demo_page,
        "/api/openapi.json": lambda: (200, "application/json", openapi.document_json().encode()),
        "/api/docs": lambda: (200, "text/html; charset=utf-8", openapi.docs_html().encode()),
        "/api/docs/swagger-ui-bundle.js": lambda: (
            200, "application/javascript; charset=utf-8", openapi.swagger_asset("swagger-ui-bundle.min.js")),
        "/api/docs/swagger-ui.css": lambda: (200, "text/css; charset=utf-8", openapi.swagger_asset("swagger-ui.min.css")),
        "/cp.js": tracker,
        **dashboard_routes(),  # the dashboard at / and its assets under /dashboard/ (docs/dashboard.md)
    }


class LocalServer:
    """The local gateway: an asyncio loop reads requests; a bounded thread pool hands them to the workers."""

    def __init__(self, settings: Settings, host: str, port: int, *,
                 functions: dict[str, FunctionConfig] | None = None,
                 limits: TransportLimits | None = None, flush_interval: float = 0.5, compaction: bool = False) -> None:
        self.settings = settings
        self.limits = limits or TransportLimits()
        self.socket = socket.create_server((host, port), backlog=1024)
        self.server_address = self.socket.getsockname()
        self.publisher = JournalPublisher(settings, flush_interval=flush_interval, compaction=compaction)
        configs = functions or default_functions()
        self.read_priority = ReadPriority()
        self.pools = {name: FunctionPool(name, config, settings, self.read_priority)
                      for name, config in configs.items()}
        # Blocking work off the loop: static files, starting a new journal publisher.
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="blocking")
        self.static_routes = static_routes()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._connections: set[_HttpConnection] = set()
        self._pending = 0
        self._started = False

    # lifecycle

    def start(self) -> "LocalServer":
        """Start the journal's publisher (it publishes what a previous run left first), then the workers (they
        warm up meanwhile)."""
        if not self._started:
            recovered = self.publisher.start()
            if recovered:
                logger.warning("published %d events the previous server had acknowledged", recovered)
            for pool in self.pools.values():
                pool.start()
            self._started = True
        return self

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        self.start()
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._main())
        finally:
            self._stopped.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(signum, self._stop.set)
        try:
            for pool in self.pools.values():
                await pool.attach()
            if self._stopping.is_set():
                return
            server = await self._loop.create_server(lambda: _HttpConnection(self), sock=self.socket, backlog=1024)
            watch = self._loop.create_task(self._watch_publisher())
            await self._stop.wait()
            watch.cancel()
            server.close()
            deadline = time.monotonic() + self._grace
            while self._pending and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            for connection in list(self._connections):
                connection.close()
        finally:
            self._stopping.set()
            for pool in self.pools.values():
                pool.close()

    _grace = 10.0

    async def _watch_publisher(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if not self.publisher.alive() and not self._stopping.is_set():
                logger.error("the journal publisher stopped; starting another (events stay in the journal)")
                try:
                    await self._loop.run_in_executor(self._executor, self.publisher.restart)
                except OSError as exc:
                    logger.error("the journal publisher could not start: %s", exc)

    def shutdown(self, grace_seconds: float = 10.0) -> None:
        """Stop accepting, let requests in flight finish (up to ``grace_seconds``), close the connections."""
        self._grace = grace_seconds
        self._stopping.set()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._stopped.wait(grace_seconds + 5.0)

    def server_close(self) -> None:
        """Close the listening socket, stop the workers, publish the journal."""
        self._stopping.set()
        self.socket.close()
        self._executor.shutdown(wait=True)
        for pool in self.pools.values():
            pool.close()  # no-op when the loop already closed them
        if self._started:
            self.publisher.close()  # after the workers: it publishes everything they acknowledged
            self._started = False

    def flush(self) -> None:
        """Publish every acknowledged event as Parquet now (in this process; one publisher at a time)."""
        EventJournal(self.settings.data_dir).flush()

    # connections (each one a ``_HttpConnection``)

    async def _respond(self, request: _Request, peer: str) -> tuple[int, list[tuple[str, str]], bytes]:
        if self._pending >= self.limits.max_pending:
            return response_parts(error_response(
                503, "The server is busy; retry shortly", {"Retry-After": str(self.limits.retry_after_seconds)}))
        self._pending += 1
        try:
            return await self._answer(request, peer)
        finally:
            self._pending -= 1

    async def _answer(self, request: _Request, peer: str) -> tuple[int, list[tuple[str, str]], bytes]:
        path = request.target.split("?", 1)[0]
        if request.method in ("GET", "HEAD") and path in self.static_routes:
            status, content_type, data = await self._loop.run_in_executor(self._executor, self.static_routes[path])
            return status, [("Content-Type", content_type)], data
        function, event = build_event(request.method, request.target, request.headers, request.body, peer)
        return response_parts(await self._invoke(function, event))

    async def _invoke(self, function: str, event: dict) -> dict:
        request_id = event["requestContext"]["requestId"]
        try:
            return await self.pools[function].invoke(event, self.limits.worker_wait)
        except Saturated:
            return error_response(503, "The server is busy; retry shortly",
                                  {"Retry-After": str(self.limits.retry_after_seconds)})
        except FunctionTimedOut:
            logger.error("function %s timed out (request id %s)", function, request_id)
            return error_response(504, f"The {function} function did not answer in time (request id {request_id})")
        except FunctionCrashed:
            logger.error("function %s crashed (request id %s)", function, request_id)
            return error_response(500, f"Internal error (request id {request_id})")


class _HttpConnection(asyncio.Protocol):
    """One client connection: HTTP/1.1 parsed by httptools (llhttp) as the bytes arrive, requests answered
    one at a time in order (pipelined ones wait, reading paused), timers instead of blocked reads."""

    def __init__(self, server: "LocalServer") -> None:
        self.server = server
        self.limits = server.limits
        self.loop = server._loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.queue: deque[_Request] = deque()  # complete requests not answered yet
        self.busy = False  # a request is being answered
        self.closing = False
        self.close_when_done = False  # the client half-closed: answer what arrived, then close
        # the request being read
        self.reading = False
        self.started = 0.0
        self.head_bytes = 0  # bytes of the request line and headers so far
        self.first_line = bytearray()  # up to the first line's end, to tell 414 from 431
        self.url = bytearray()
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()
        self.headers_done = False
        self.timer: asyncio.TimerHandle | None = None

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        # NOTE: the peer address only ever reaches a function as the event's sourceIp; it is never logged.
        self.peer = (transport.get_extra_info("peername") or ("",))[0]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers go out as soon as written
        if len(self.server._connections) >= self.limits.max_connections:
            self.refuse(503, "The server is busy; retry shortly", {"Retry-After": str(self.limits.retry_after_seconds)})
            return
        self.server._connections.add(self)
        self.arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server._connections.discard(self)
        self.cancel_timer()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        if not self.reading:
            self.reading, self.started = True, time.monotonic()
        if not self.headers_done:
            self.head_bytes += len(data)
            if len(self.first_line) <= self.limits.max_target_bytes and b"\n" not in self.first_line:
                self.first_line += data[: self.limits.max_target_bytes + 2]
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            refusal = exc.__context__
            if isinstance(refusal, _Refuse):
                self.refuse(refusal.status, refusal.message, refusal.headers)
            else:
                raise
            return
        except httptools.HttpParserUpgrade:
            pass  # no protocol upgrades here: what was read is answered, then the connection closes
        except httptools.HttpParserError as exc:
            if "HTTP version" in str(exc):
                self.refuse(505, "Only HTTP/1.0 and HTTP/1.1 are supported")
            else:
                self.refuse(400, "The request is not valid HTTP/1.1")
            return
        if self.closing:
            return
        if not self.headers_done and self.head_bytes > self.limits.max_header_bytes:
            self.refuse(*self.head_too_large())
            return
        if self.reading:
            self.arm_read()
        elif not self.busy:
            self.arm_idle()

    def eof_received(self) -> bool:
        if self.reading and (self.head_bytes or self.body):
            self.refuse(400, "The request body ended early")
        elif not self.busy and not self.queue:
            self.close()
        else:
            self.close_when_done = True
        return True

    def pause_writing(self) -> None:
        self.arm(self.limits.read_timeout, self.abort)  # a client that stops reading is let go

    def resume_writing(self) -> None:
        self.cancel_timer()

    # httptools callbacks

    def on_message_begin(self) -> None:
        if not self.reading:
            self.reading, self.started = True, time.monotonic()

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.limits.max_target_bytes:
            raise _Refuse(414, f"The request target is longer than {self.limits.max_target_bytes} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        if self.parser.get_http_version() not in ("1.0", "1.1"):
            raise _Refuse(505, "Only HTTP/1.0 and HTTP/1.1 are supported")
        if sum(len(name) + len(value) + 4 for name, value in self.headers) > self.limits.max_header_bytes:
            raise _Refuse(431, f"The request headers are larger than {self.limits.max_header_bytes // 1024} KiB")
        for name, value in self.headers:
            if name.lower() == "content-length" and int(value) > self.limits.max_body_bytes:
                raise _Refuse(413, "The request body is too large")

    def on_body(self, data: bytes) -> None:
        self.body += data
        if len(self.body) > self.limits.max_body_bytes:
            raise _Refuse(413, "The request body is too large")

    def on_message_complete(self) -> None:
        request = _Request(self.parser.get_method().decode("ascii"), self.url.decode("latin-1"), self.headers,
                           bytes(self.body), self.parser.should_keep_alive())
        self.reading, self.head_bytes, self.headers_done = False, 0, False
        self.first_line, self.url, self.headers, self.body = bytearray(), bytearray(), [], bytearray()
        self.cancel_timer()
        self.queue.append(request)
        if self.busy:
            self.transport.pause_reading()  # pipelined: one waiting request is enough
        else:
            self.next()

    # answering

    def next(self) -> None:
        if self.closing or self.busy:
            return
        if not self.queue:
            if self.close_when_done:
                self.close()
                return
            self.transport.resume_reading()
            if not self.reading:
                self.arm_idle()
            return
        self.busy = True
        self.cancel_timer()
        self.loop.create_task(self.answer(self.queue.popleft()))

    async def answer(self, request: _Request) -> None:
        started = time.perf_counter()
        try:
            status, headers, data = await self.server._respond(request, self.peer)
        except Exception:  # noqa: BLE001 - never a stack trace to a client, never the connection left hanging
            logger.exception("the local gateway failed to answer")
            status, headers, data = response_parts(error_response(500, "Internal error"))
        keep = request.keep_alive and not self.server._stopping.is_set() and not self.close_when_done
        access_log.info("%s %s %d %.1fms", request.method, request.target.split("?", 1)[0], status,
                        (time.perf_counter() - started) * 1000)
        if not self.closing:
            self.transport.write(response_bytes(status, headers, b"" if request.method == "HEAD" else data,
                                                len(data), keep))
            if not keep:
                self.close()
        self.busy = False
        self.next()

    # timers and closing

    def arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self.cancel_timer()
        self.timer = self.loop.call_later(seconds, callback)

    def arm_idle(self) -> None:
        self.arm(self.limits.keepalive_timeout, self.close)  # an idle keep-alive connection is just closed

    def arm_read(self) -> None:
        left = self.limits.request_timeout - (time.monotonic() - self.started)
        self.arm(max(0.0, min(self.limits.read_timeout, left)), self.timed_out)

    def timed_out(self) -> None:
        self.refuse(408, "The request did not arrive in time")

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def head_too_large(self) -> tuple[int, str]:
        line_end = self.first_line.find(b"\n")
        if line_end < 0 or line_end > self.limits.max_target_bytes:
            return 414, f"The request line is longer than {self.limits.max_target_bytes} bytes"
        return 431, f"The request headers are larger than {self.limits.max_header_bytes // 1024} KiB"

    def refuse(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        """Answer with the error envelope and close (after any answer in progress: that one is dropped)."""
        if self.closing:
            return
        status, out, data = response_parts(error_response(status, message, headers))
        self.transport.write(response_bytes(status, out, data, len(data), keep_alive=False))
        self.close()

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.cancel_timer()
            self.server._connections.discard(self)
            if self.transport.can_write_eof():
                with suppress(OSError):
                    self.transport.write_eof()
            self.transport.close()

    def abort(self) -> None:
        self.closing = True
        self.transport.abort()


def response_bytes(status: int, headers: list[tuple[str, str]], data: bytes, length: int, keep_alive: bool) -> bytes:
    """One HTTP/1.1 answer as one segment (no waiting on the client's delayed ACK)."""
    lines = [f"HTTP/1.1 {status} {REASON_PHRASES.get(status, '')}"]
    lines += [f"{name}: {value}" for name, value in headers
              if name.lower() not in ("content-length", "transfer-encoding", "connection")]
    lines.append(f"Content-Length: {length}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def _loop_factory():
    """uvloop where it is installed (the local extra pins it; its sockets and timers are C)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def make_server(host: str, port: int, settings: Settings | None = None, **options) -> LocalServer:
    from clickport.runtime import get_runtime

    return LocalServer(settings or get_runtime().settings, host, port, **options)


def serve_forever(server: LocalServer, on_ready: Callable[[], None] | None = None) -> None:
    server.start()
    if on_ready:
        on_ready()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nstopping…", file=sys.stderr)
        server.shutdown()
    finally:
        server.server_close()


def start_in_thread(host: str = "127.0.0.1", port: int = 0, **options) -> tuple[LocalServer, threading.Thread]:
    """For tests: a server on a free port, running in a daemon thread."""
    server = make_server(host, port, **options).start()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread
