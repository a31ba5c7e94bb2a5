"""A small Chrome DevTools Protocol client over a standard-library WebSocket, and a headless Chromium launcher."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

CHROMIUM = Path("/usr/bin/chromium")
DESKTOP_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
# NOTE: no --enable-automation and no --remote-debugging-pipe. Recent Chromium also marks a browser
# with an open --remote-debugging-port as automated (navigator.webdriver === true); switching off the
# AutomationControlled Blink feature undoes exactly that marker, so the page sees an ordinary browser,
# and the tracker, which rightly stays silent under automation, runs.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-blink-features=AutomationControlled",
    "--window-size=1280,800",
    f"--user-agent={DESKTOP_USER_AGENT}",
)


class DevToolsError(RuntimeError):
    """A protocol error answer, a closed socket or a timeout."""


class WebSocket:
    """The client side of RFC 6455, just enough for DevTools: text frames, pings, close."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self._sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self._sock.sendall(request.encode())
        self._buffer = b""
        self._message = b""  # fragments of a message not yet complete
        head = self._read_until(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise DevToolsError(f"WebSocket handshake refused: {head.splitlines()[0]!r}")

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            self._buffer += self._recv()
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _recv(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise DevToolsError("DevTools closed the connection")
        return chunk

    def _take_frame(self) -> tuple[int, bytes] | None:
        """The first complete frame in the buffer (final-bit and opcode byte, payload), else None."""
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        size, offset = second & 0x7F, 2
        if size == 126:
            if len(buffer) < 4:
                return None
            (size,), offset = struct.unpack("!H", buffer[2:4]), 4
        elif size == 127:
            if len(buffer) < 10:
                return None
            (size,), offset = struct.unpack("!Q", buffer[2:10]), 10
        mask = b""
        if second & 0x80:
            mask, offset = buffer[offset : offset + 4], offset + 4
        if len(buffer) < offset + size:
            return None
        payload, self._buffer = buffer[offset : offset + size], buffer[offset + size :]
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return first, payload

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", size)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._sock.sendall(header + mask + masked)

    def send_text(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def receive_text(self, timeout: float) -> str:
        """The next text message; a timeout leaves any partial frame buffered for the next call."""
        self._sock.settimeout(timeout)
        while True:
            frame = self._take_frame()
            if frame is None:
                self._buffer += self._recv()
                continue
            first, payload = frame
            opcode = first & 0x0F
            if opcode == 0x8:
                raise DevToolsError("DevTools closed the WebSocket")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
            elif opcode in (0x0, 0x1, 0x2):
                self._message += payload
                if first & 0x80:
                    message, self._message = self._message, b""
                    return message.decode()

    def close(self) -> None:
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self._sock.close()


class DevToolsPage:
    """One page target: commands with their answers, and the protocol events seen so far."""

    def __init__(self, websocket_url: str) -> None:
        self._socket = WebSocket(websocket_url)
        self._next_id = 0
        self.events: deque[dict[str, Any]] = deque()

    def call(self, method: str, timeout: float = 15.0, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        command_id = self._next_id
        self._socket.send_text(json.dumps({"id": command_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline, f"the answer to {method}")
            if message.get("id") == command_id:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error']}")
                return message.get("result", {})

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DevToolsError(f"timed out waiting for {waiting_for}")
        try:
            message = json.loads(self._socket.receive_text(remaining))
        except socket.timeout as exc:
            raise DevToolsError(f"timed out waiting for {waiting_for}") from exc
        if "method" in message:
            self.events.append(message)
        return message

    def pump(self, seconds: float) -> None:
        """Collect protocol events for a while."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._receive(deadline, "events")
        except DevToolsError:
            if time.monotonic() < deadline:
                raise

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        """Collect events until ``condition()`` holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise DevToolsError(f"timed out waiting for {what}")
            self.pump(0.05)

    def evaluate(self, expression: str, timeout: float = 15.0) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.call(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
            userGesture=True,
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"page exception in {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (pressed and released) in the middle of the element."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()"
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1
            )

    def close(self) -> None:
        self._socket.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    try:  # helpers Chromium started in its own process group
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def headless_chromium(timeout: float = 20.0) -> Iterator[DevToolsPage]:
    """Start Chromium with a fresh profile and yield its first page target."""
    if not CHROMIUM.exists():
        raise AssertionError(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="clickport-chromium-") as profile:
        process = subprocess.Popen(
            [str(CHROMIUM), *CHROMIUM_FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port = _devtools_port(Path(profile) / "DevToolsActivePort", process, timeout)
            page = DevToolsPage(_page_websocket_url(port, timeout))
            try:
                yield page
            finally:
                page.close()
        finally:
            _stop(process)


def _devtools_port(active_port_file: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"Chromium exited with status {process.returncode} before DevTools was ready")
        lines = active_port_file.read_text().splitlines() if active_port_file.exists() else []
        if lines and lines[0].isdigit():
            return int(lines[0])
        time.sleep(0.05)
    raise AssertionError("Chromium did not open its DevTools port in time")


def _page_websocket_url(port: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
            targets = json.load(answer)
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.05)
    raise AssertionError("Chromium has no page target")
