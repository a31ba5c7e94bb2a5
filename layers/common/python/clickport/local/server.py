"""``clickport serve``: hosts the four functions on 127.0.0.1 as API Gateway would, plus docs and the tracker."""

from __future__ import annotations

import logging
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from clickport.http.envelope import error_response
from clickport.local.apigw import build_event, response_parts
from clickport.local.functions import LocalLambdaContext, handler_for, repository_root

access_log = logging.getLogger("clickport.access")
# API Gateway's own payload limit; larger bodies never reach a function.
GATEWAY_MAX_BODY = 10 * 1024 * 1024


class LocalGateway(BaseHTTPRequestHandler):
    server_version = "clickport"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    static_routes: dict[str, Callable[[], tuple[int, str, bytes]]] = {}

    def __getattr__(self, name: str):
        # Every method reaches the gateway logic, as at API Gateway (unknown ones answer 404/405 there).
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        started = time.perf_counter()
        path = self.path.split("?", 1)[0]
        if self.command == "GET" and path in self.static_routes:
            status, content_type, data = self.static_routes[path]()
            self._send(status, [("Content-Type", content_type)], data, started)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > GATEWAY_MAX_BODY:
            status, headers, data = response_parts(error_response(413, "The request body is too large"))
            self.close_connection = True
            self._send(status, headers, data, started)
            return
        body = self.rfile.read(length) if length else b""
        function, event = build_event(self.command, self.path, self.headers.items(), body, self.client_address[0])
        context = LocalLambdaContext(function_name=f"clickport-{function}")
        try:
            result = handler_for(function)(event, context)
        except Exception:  # noqa: BLE001 - as API Gateway does when a function fails
            logging.getLogger("clickport.local").exception("function %s failed", function)
            result = error_response(500, f"Internal error (request id {event['requestContext']['requestId']})")
        status, headers, data = response_parts(result)
        self._send(status, headers, data, started)

    def _send(self, status: int, headers: list[tuple[str, str]], data: bytes, started: float) -> None:
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        # NOTE: the access log leaves out the client address, the User-Agent and the query string.
        access_log.info("%s %s %d %.1fms", self.command, self.path.split("?", 1)[0], status,
                        (time.perf_counter() - started) * 1000)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - silence the default (it logs the IP)
        return


def static_routes() -> dict[str, Callable[[], tuple[int, str, bytes]]]:
    from clickport.http import openapi

    def tracker() -> tuple[int, str, bytes]:
        script = repository_root() / "tracker" / "dist" / "cp.min.js"
        if not script.exists():
            return 404, "application/json", b'{"error":"Not Found","message":"tracker not built"}'
        return 200, "application/javascript; charset=utf-8", script.read_bytes()

    return {
        "/api/openapi.json": lambda: (200, "application/json", openapi.document_json().encode()),
        "/api/docs": lambda: (200, "text/html; charset=utf-8", openapi.docs_html().encode()),
        "/api/docs/swagger-ui-bundle.js": lambda: (
            200, "application/javascript; charset=utf-8", openapi.swagger_asset("swagger-ui-bundle.min.js")),
        "/api/docs/swagger-ui.css": lambda: (200, "text/css; charset=utf-8", openapi.swagger_asset("swagger-ui.min.css")),
        "/cp.js": tracker,
    }


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    LocalGateway.static_routes = static_routes()
    server = LocalServer((host, port), LocalGateway)
    server.daemon_threads = True
    return server


def serve_forever(server: ThreadingHTTPServer, on_ready: Callable[[], None] | None = None) -> None:
    if on_ready:
        on_ready()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
    finally:
        server.server_close()


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """For tests: a server on a free port, running in a daemon thread."""
    server = make_server(host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread
