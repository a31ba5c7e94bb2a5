"""What the browser test runs against: the local Clickport server and a static server for the test page."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from tests.support.processes import clickport_executable, free_port

REPO = Path(__file__).resolve().parents[2]
PAGE = Path(__file__).resolve().parent / "page" / "index.html"




class LocalClickport:
    """`clickport` commands and `clickport serve` on one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / "clickport-serve.log"
        self._env = {**os.environ, "CLICKPORT_DATA_DIR": str(data_dir), "CLICKPORT_PORT": str(self.port)}
        self._env.pop("CLICKPORT_BACKEND", None)

    def command(self, *args: str) -> Any:
        """Run `clickport ARGS --json` and return its JSON output."""
        done = subprocess.run(
            [clickport_executable(), *args, "--json"],
            env=self._env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"clickport {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}"
        return json.loads(done.stdout)

    @contextmanager
    def serving(self, timeout: float = 30.0) -> Iterator[LocalClickport]:
        with open(self.log, "wb") as log:
            process = subprocess.Popen(
                [clickport_executable(), "serve"], env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_answering(process, timeout)
            yield self
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def _wait_until_answering(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"clickport serve exited ({process.returncode}): {self.server_log()}")
            try:
                urllib.request.urlopen(f"{self.origin}/api/openapi.json", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answers; the status does not matter here
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"clickport serve did not answer on {self.origin}: {self.server_log()}")

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"{self.origin}{path}", timeout=10) as answer:
            return answer.read()

    def query(self, key: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.origin}/api/query",
            data=json.dumps(body).encode(),
            headers={"x-api-key": key, "Content-Type": "application/json", "User-Agent": "clickport-tests"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            raise AssertionError(f"/api/query {body} answered {error.code}: {error.read()[:1000]!r}") from error


@contextmanager
def serve_test_page(tracker_src: str) -> Iterator[str]:
    """Serve the test page on every path (an SPA's fallback) at http://localhost:PORT; yield that origin."""
    html = PAGE.read_text().replace("{{TRACKER_SRC}}", tracker_src).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_PageHandler, html))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _PageHandler(BaseHTTPRequestHandler):
    def __init__(self, html: bytes, *args: Any, **kwargs: Any) -> None:
        self._html = html
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (the http.server naming)
        if self.path == "/favicon.ico":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self._html)))
        self.end_headers()
        self.wfile.write(self._html)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the http.server signature)
        pass  # keep test output quiet
