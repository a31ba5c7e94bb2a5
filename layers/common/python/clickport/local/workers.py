"""Lambda-style execution environments for ``clickport serve``.

Each function runs in its own worker processes, and a worker handles one request at a time, as a
Lambda execution environment does. Nothing a handler keeps between calls (Powertools keeps the
current event on a class attribute, the request context in a dict per resolver) can be seen by
another request in flight: no two requests ever share a process at the same time.

A worker writes events through the server's journal: its sink sends the rows over the worker's
channel and returns only when the server says they are durable (group commit across workers).

Channel messages (pickled, over a socket pair):
- server → worker: an API Gateway event, then ``("ok", None)`` / ``("unavailable", message)`` answers;
- worker → server: ``("ready", None)`` once, ``("write", (site_id, rows))``, ``("result", response)``.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable

from clickport.errors import StoreUnavailable
from clickport.settings import Settings

logger = logging.getLogger("clickport.local")

WORKER_START_SECONDS = 120.0


class Saturated(Exception):
    """Every worker of the function is busy and none freed up in time."""


class FunctionTimedOut(Exception):
    """The function did not answer within its timeout (the worker was replaced)."""


class FunctionCrashed(Exception):
    """The worker process died while handling the request (it was replaced)."""


@dataclass(frozen=True)
class FunctionConfig:
    """A function's concurrency (worker processes) and timeout, as a Lambda function's settings."""

    workers: int
    timeout_seconds: float


def default_functions(cores: int | None = None) -> dict[str, FunctionConfig]:
    """Workers per function for this machine: events get most (they wait on the journal, not the CPU)."""
    cores = cores or os.cpu_count() or 2
    return {
        "event": FunctionConfig(workers=max(4, 2 * cores + 2), timeout_seconds=10.0),
        "query": FunctionConfig(workers=max(2, cores), timeout_seconds=30.0),
        "realtime": FunctionConfig(workers=1, timeout_seconds=10.0),
        "goals": FunctionConfig(workers=1, timeout_seconds=30.0),
    }


class _Worker:
    def __init__(self, function: str, settings: Settings) -> None:
        parent, child = socket.socketpair()
        env = {
            **os.environ,
            "CLICKPORT_WORKER_SETTINGS": settings.model_dump_json(),
            "PYTHONPATH": os.pathsep.join([_package_root(), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clickport.local.workers", "--function", function, "--fd", str(child.fileno())],
            pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),
            start_new_session=True,
        )
        child.close()
        self.conn = Connection(parent.detach())

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()
        self.conn.close()


def _package_root() -> str:
    import clickport

    return str(Path(clickport.__file__).resolve().parents[1])


class FunctionPool:
    """The worker processes of one function; ``invoke`` runs one event on an idle worker."""

    def __init__(self, function: str, config: FunctionConfig, settings: Settings,
                 write: Callable[[str, list[dict[str, Any]]], None]) -> None:
        self.function = function
        self.config = config
        self.settings = settings
        self._write = write
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        for _ in range(self.config.workers):
            self._spawn()

    def _spawn(self) -> None:
        """Start a worker; it joins the idle queue once its handler is imported (a cold start)."""
        with self._lock:
            if self._closed:
                return
            worker = _Worker(self.function, self.settings)
            self._all.add(worker)
        threading.Thread(target=self._await_ready, args=(worker,), daemon=True,
                         name=f"{self.function}-worker-start").start()

    def _await_ready(self, worker: _Worker) -> None:
        try:
            if worker.conn.poll(WORKER_START_SECONDS) and worker.conn.recv()[0] == "ready":
                self._idle.put(worker)
                return
        except (EOFError, OSError):
            pass
        logger.error("a %s worker did not start", self.function)
        self._retire(worker)
        time.sleep(1.0)
        self._spawn()

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()

    def invoke(self, event: dict[str, Any], wait_seconds: float) -> dict[str, Any]:
        try:
            worker = self._idle.get(timeout=wait_seconds)
        except queue.Empty:
            raise Saturated(self.function) from None
        healthy = False
        try:
            result = self._run(worker, event)
            healthy = True
            return result
        finally:
            if healthy:
                self._idle.put(worker)
            else:
                self._retire(worker)
                self._spawn()

    def _run(self, worker: _Worker, event: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + self.config.timeout_seconds
        try:
            worker.conn.send(event)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not worker.conn.poll(remaining):
                    raise FunctionTimedOut(self.function)
                kind, payload = worker.conn.recv()
                if kind == "result":
                    return payload
                if kind == "write":
                    worker.conn.send(self._durable_write(*payload))
        except (EOFError, OSError) as exc:
            raise FunctionCrashed(self.function) from exc

    def _durable_write(self, site_id: str, rows: list[dict[str, Any]]) -> tuple[str, str | None]:
        try:
            self._write(site_id, rows)
        except StoreUnavailable as exc:
            return "unavailable", str(exc)
        except ValueError as exc:
            return "invalid", str(exc)
        return "ok", None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            try:
                worker.conn.close()  # the worker sees the end of its channel and exits
            except OSError:
                pass
        for worker in workers:
            try:
                worker.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.kill()


# --- the worker process ------------------------------------------------------------------


class JournalClientSink:
    """A worker's EventSink: the server's journal makes the rows durable before ``write`` returns."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def write(self, site_id: str, rows) -> None:
        from clickport.adapters.parquet_sink import check_site_id, normalized_row

        check_site_id(site_id)
        self._conn.send(("write", (site_id, [normalized_row(row) for row in rows])))
        kind, message = self._conn.recv()
        if kind == "invalid":
            raise ValueError(message)
        if kind != "ok":
            raise StoreUnavailable(message or "the local event store could not be written")


def _worker_main(function: str, fd: int) -> int:
    from clickport.http.envelope import error_response
    from clickport.local.functions import LocalLambdaContext, handler_for
    from clickport.runtime import Runtime, set_runtime

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the server stops us
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    conn = Connection(fd)
    settings = Settings.model_validate_json(os.environ["CLICKPORT_WORKER_SETTINGS"])
    set_runtime(Runtime(settings, sink=JournalClientSink(conn)))
    handler = handler_for(function)
    conn.send(("ready", None))
    while True:
        try:
            event = conn.recv()
        except (EOFError, OSError):
            return 0
        context = LocalLambdaContext(function_name=f"clickport-{function}")
        try:
            result = handler(event, context)
        except Exception:  # noqa: BLE001 - as API Gateway answers when a function fails
            request_id = event.get("requestContext", {}).get("requestId", "-")
            logger.exception("function %s failed (request id %s)", function, request_id)
            result = error_response(500, f"Internal error (request id {request_id})")
        conn.send(("result", result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clickport-worker")
    parser.add_argument("--function", required=True)
    parser.add_argument("--fd", type=int, required=True)
    args = parser.parse_args(argv)
    return _worker_main(args.function, args.fd)


if __name__ == "__main__":
    sys.exit(main())
