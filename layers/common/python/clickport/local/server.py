"""``clickport serve``: the four functions on 127.0.0.1 as API Gateway would run them, plus docs and the tracker.

- Functions run in worker processes, one request at a time each (``local.workers``), so no request
  can see another's state; events become durable through the journal's group commit
  (``adapters.event_journal``) before a worker may acknowledge them.
- Transport: HTTP/1.1 parsed by h11 (strict framing, chunked bodies, header limits) on an asyncio
  loop, so an idle or stalled connection holds no thread. Every answer, transport errors included,
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import h11

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


def envelope_bytes(status: int, message: str, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 error answer that closes the connection (for errors outside h11's state machine)."""
    body = json.dumps(error_body(status, message), separators=(",", ":")).encode()
    lines = [f"HTTP/1.1 {status} {REASON_PHRASES[status]}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


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
        self.pools = {name: FunctionPool(name, config, settings) for name, config in configs.items()}
        # Blocking work off the loop: static files, starting a new journal publisher.
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="blocking")
        self.static_routes = static_routes()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._connections: set[asyncio.StreamWriter] = set()
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
            server = await asyncio.start_server(self._connection, sock=self.socket, backlog=1024)
            watch = self._loop.create_task(self._watch_publisher())
            await self._stop.wait()
            watch.cancel()
            server.close()
            deadline = time.monotonic() + self._grace
            while self._pending and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            for writer in list(self._connections):
                writer.close()
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

    # connections

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # NOTE: the peer address only ever reaches a function as the event's sourceIp; it is never logged.
        peer = (writer.get_extra_info("peername") or ("",))[0]
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers go out as soon as written
        if len(self._connections) >= self.limits.max_connections:
            await self._close_with(writer, envelope_bytes(
                503, "The server is busy; retry shortly", {"Retry-After": str(self.limits.retry_after_seconds)}))
            return
        self._connections.add(writer)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)
        try:
            while not self._stopping.is_set():
                request = await self._read_request(reader, conn)
                if request is None:
                    break
                if not await self._respond(writer, conn, request, peer):
                    break
                conn.start_next_cycle()
        except _Refuse as refusal:
            await self._close_with(writer, envelope_bytes(refusal.status, refusal.message, refusal.headers))
        except h11.RemoteProtocolError as exc:
            await self._close_with(writer, envelope_bytes(*self._protocol_error(conn, exc)))
        except (OSError, asyncio.TimeoutError, h11.LocalProtocolError):
            pass  # the client went away or stopped reading; nothing to answer, nothing to log
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _close_with(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        try:
            writer.write(data)
            await asyncio.wait_for(writer.drain(), self.limits.read_timeout)
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    def _protocol_error(self, conn: h11.Connection, exc: h11.RemoteProtocolError) -> tuple[int, str]:
        if exc.error_status_hint == 431:
            buffered, _ = conn.trailing_data
            first_line_ends = buffered.find(b"\r\n")
            if first_line_ends < 0 or first_line_ends > self.limits.max_target_bytes:
                return 414, f"The request line is longer than {self.limits.max_target_bytes} bytes"
            return 431, f"The request headers are larger than {self.limits.max_header_bytes // 1024} KiB"
        return 400, "The request is not valid HTTP/1.1"

    async def _read_request(self, reader: asyncio.StreamReader, conn: h11.Connection) -> _Request | None:
        request: _Request | None = None
        body = bytearray()
        started = time.monotonic()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                idle = request is None and not conn.trailing_data[0]
                if idle:
                    started = time.monotonic()
                    timeout = self.limits.keepalive_timeout
                else:
                    timeout = min(self.limits.read_timeout, self.limits.request_timeout - (time.monotonic() - started))
                    if timeout <= 0:
                        raise _Refuse(408, "The request did not arrive in time")
                try:
                    async with asyncio.timeout(timeout):
                        data = await reader.read(65536)
                except TimeoutError:
                    if idle:
                        return None
                    raise _Refuse(408, "The request did not arrive in time") from None
                conn.receive_data(data)
            elif isinstance(event, h11.Request):
                request = self._start_request(event)
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.limits.max_body_bytes:
                    raise _Refuse(413, "The request body is too large")
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                request.body = bytes(body)
                return request
            elif isinstance(event, h11.ConnectionClosed):
                if request is not None:
                    raise _Refuse(400, "The request body ended early")
                return None
            else:
                return None

    def _start_request(self, event: h11.Request) -> _Request:
        if event.http_version not in (b"1.0", b"1.1"):
            raise _Refuse(505, "Only HTTP/1.0 and HTTP/1.1 are supported")
        if len(event.target) > self.limits.max_target_bytes:
            raise _Refuse(414, f"The request target is longer than {self.limits.max_target_bytes} bytes")
        if sum(len(name) + len(value) + 4 for name, value in event.headers) > self.limits.max_header_bytes:
            raise _Refuse(431, f"The request headers are larger than {self.limits.max_header_bytes // 1024} KiB")
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers]
        for name, value in headers:
            if name.lower() == "content-length" and int(value) > self.limits.max_body_bytes:
                raise _Refuse(413, "The request body is too large")
        return _Request(event.method.decode("ascii"), event.target.decode("latin-1"), headers, b"")

    async def _respond(self, writer: asyncio.StreamWriter, conn: h11.Connection, request: _Request, peer: str) -> bool:
        started = time.perf_counter()
        if self._pending >= self.limits.max_pending:
            status, headers, data = response_parts(error_response(
                503, "The server is busy; retry shortly", {"Retry-After": str(self.limits.retry_after_seconds)}))
        else:
            self._pending += 1
            try:
                status, headers, data = await self._answer(request, peer)
            finally:
                self._pending -= 1
        out = [(name.encode("latin-1"), str(value).encode("latin-1")) for name, value in headers
               if name.lower() not in ("content-length", "transfer-encoding", "connection")]
        out.append((b"Content-Length", str(len(data)).encode()))
        if self._stopping.is_set():
            out.append((b"Connection", b"close"))
        access_log.info("%s %s %d %.1fms", request.method, request.target.split("?", 1)[0], status,
                        (time.perf_counter() - started) * 1000)
        parts = [conn.send(h11.Response(status_code=status, headers=out, reason=REASON_PHRASES.get(status, "").encode()))]
        if request.method != "HEAD" and data:
            parts.append(conn.send(h11.Data(data=data)))
        parts.append(conn.send(h11.EndOfMessage()))
        writer.write(b"".join(parts))  # one segment: no waiting on the client's delayed ACK
        async with asyncio.timeout(self.limits.read_timeout):
            await writer.drain()
        return conn.our_state is h11.DONE and conn.their_state is h11.DONE

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
