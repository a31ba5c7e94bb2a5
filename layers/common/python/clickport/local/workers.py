"""Lambda-style execution environments for ``clickport serve``.

Each function runs in its own worker processes, and a worker handles one request at a time, as a
Lambda execution environment does. Nothing a handler keeps between calls (Powertools keeps the
current event on a class attribute, the request context in a dict per resolver) can be seen by
another request in flight: no two requests ever share a process at the same time.

An event worker's sink is a ``JournalWriter``: it appends each event to the worker's own journal segment;
the invocations the server handed over together are committed with one fsync before any of them is
answered (group commit); the server publishes the segments as Parquet.

Channel messages (pickled with a length prefix, over a socket pair; asyncio streams on the server's side):
- server → worker: a list of API Gateway events (one batch; one event unless the function batches);
- worker → server: ``("ready", None)`` once, then ``("results", [response, ...])`` per batch, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """A function's concurrency (at most ``workers`` processes, ``warm`` of them started with the server) and
    timeout, as a Lambda function's settings. More workers start on demand, as Lambda scales out."""

    workers: int
    timeout_seconds: float
    warm: int = 1
    batch: int = 1  # invocations one worker takes in one hand-over (their journal commit is shared)
    nice: int = 0  # scheduling priority of the workers (higher: yields the CPU to the others)
    # While another worker is busy, a free one waits up to this long for a quarter batch to gather (0: never).
    gather_seconds: float = 0.0
    # Hands out no new batch while a stats read (a query or goals call) runs, within ``ReadPriority``'s bounds.
    yields_to_reads: bool = False


# Functions that read the events: their query engine (DuckDB, pyarrow: about 0.5 s of imports and first uses) is
# made and warmed before the worker says it is ready, as a Lambda function makes its clients at init.
READS_EVENTS = frozenset({"query", "goals"})
EVENT_NICE = 5  # CFS weight 335 against 1,024: a query beside a busy event worker gets about three quarters of a core
EVENT_BATCH = 32  # a burst's events share one journal commit per batch: fewer fsyncs, round trips, workers
# Under load a free event worker waits up to 2 ms for 8 events rather than taking 1 or 2: fewer commits and hand-overs
# per event (interleaved burst runs: +2 to +24 % events/s in 6 of 6 pairs, +2 % in the 60 s one; a lower p99).
EVENT_GATHER_SECONDS = 0.002
# A person waiting on a query comes before a burst's events: events wait at most this long per query (see ReadPriority).
READ_HOLD_SECONDS = 0.25


def default_functions(cores: int | None = None) -> dict[str, FunctionConfig]:
    """Workers per function for this machine: event workers batch, so one per core (and one more to overlap
    a commit's fsync) keeps the cores busy."""
    cores = cores or os.cpu_count() or 2
    return {
        # NOTE: a burst's events can wait a few ms; a person waiting on a query cannot: events yield the CPU.
        "event": FunctionConfig(workers=cores + 1, timeout_seconds=10.0, warm=2, batch=EVENT_BATCH, nice=EVENT_NICE,
                                gather_seconds=EVENT_GATHER_SECONDS, yields_to_reads=True),
        "query": FunctionConfig(workers=max(2, cores) + 2, timeout_seconds=30.0, warm=1),
        "realtime": FunctionConfig(workers=1, timeout_seconds=10.0, warm=1),
        "goals": FunctionConfig(workers=1, timeout_seconds=30.0, warm=0),
    }


_FRAME = struct.Struct("<I")


def send_frame(sock: socket.socket, message: Any) -> None:
    """One pickled message with a length prefix (blocking socket: the worker's side)."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_FRAME.pack(len(data)) + data)


def recv_frame(sock: socket.socket) -> Any:
    header = _recv_exactly(sock, _FRAME.size)
    return pickle.loads(_recv_exactly(sock, _FRAME.unpack(header)[0]))


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise EOFError("the channel closed")
        chunks += chunk
    return bytes(chunks)


class _Worker:
    """One worker process and the server's end of its channel (asyncio streams once attached)."""

    def __init__(self, function: str, settings: Settings, nice: int = 0) -> None:
        parent, child = socket.socketpair()
        env = package_env(settings)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clickport.local.workers", "--function", function, "--fd", str(child.fileno()),
             "--nice", str(nice)],
            pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),
            start_new_session=True,
        )
        child.close()
        self.socket = parent
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def attach(self) -> None:
        self.reader, self.writer = await asyncio.open_unix_connection(sock=self.socket)

    def send(self, message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.writer.write(_FRAME.pack(len(data)) + data)

    async def receive(self) -> Any:
        header = await self.reader.readexactly(_FRAME.size)
        return pickle.loads(await self.reader.readexactly(_FRAME.unpack(header)[0]))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.writer is not None:
            self.writer.close()
        else:
            self.socket.close()


def package_env(settings: Settings) -> dict[str, str]:
    """The environment of a process of the local server: this package importable, the server's settings."""
    return {
        **os.environ,
        "CLICKPORT_WORKER_SETTINGS": settings.model_dump_json(),
        "PYTHONPATH": os.pathsep.join([_package_root(), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }


def _package_root() -> str:
    import clickport

    return str(Path(clickport.__file__).resolve().parents[1])


class _Call:
    """One invocation waiting for (or running on) a worker."""

    __slots__ = ("event", "future", "timer")

    def __init__(self, event: dict[str, Any], future: asyncio.Future) -> None:
        self.event = event
        self.future = future
        self.timer: asyncio.TimerHandle | None = None


class ReadPriority:
    """Stats reads before a burst's events, on a machine whose cores both serve.

    While a read (a query or goals call) is waiting or running, the pools that yield to reads (events) hand out
    no new batch; the batches already running finish. A hold ends when the last read is answered, or after
    ``hold_seconds`` at the latest; the next hold starts no sooner than the last one lasted, so events get at
    least half of the time even under a stream of queries, and no event waits more than ``hold_seconds`` for it.
    On AWS each function has its own CPU, and none of this applies."""

    def __init__(self, hold_seconds: float = READ_HOLD_SECONDS) -> None:
        self.hold_seconds = hold_seconds
        self._reads = 0
        self._held_since: float | None = None
        self._next_hold_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._on_release: list[Any] = []

    def on_release(self, callback: Any) -> None:
        self._on_release.append(callback)

    @property
    def holding(self) -> bool:
        return self._held_since is not None

    def read_started(self) -> None:
        self._reads += 1
        loop = asyncio.get_running_loop()
        if self._held_since is None and loop.time() >= self._next_hold_at:
            self._held_since = loop.time()
            self._timer = loop.call_later(self.hold_seconds, self._release)

    def read_finished(self) -> None:
        self._reads -= 1
        if self._reads == 0 and self._held_since is not None:
            self._release()

    def _release(self) -> None:
        if self._held_since is None:
            return
        now = asyncio.get_running_loop().time()
        self._next_hold_at = now + (now - self._held_since)
        self._held_since = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for callback in self._on_release:
            callback()


class FunctionPool:
    """The worker processes of one function; ``invoke`` runs one event on a worker (asyncio).

    Invocations queue in arrival order. A worker that is free takes the oldest waiting invocation, and
    with ``batch`` > 1 up to ``batch`` of them in one hand-over: it still runs them one at a time, each on
    its own, but commits their events to the journal together (group commit), so a burst costs one fsync
    and one round trip per batch instead of one per event. At low load a batch is one invocation."""

    def __init__(self, function: str, config: FunctionConfig, settings: Settings,
                 priority: ReadPriority | None = None) -> None:
        self.function = function
        self.config = config
        self.settings = settings
        self.priority = priority
        self._reads = priority is not None and function in READS_EVENTS
        self._yields = priority is not None and config.yields_to_reads
        if self._yields:
            priority.on_release(self._dispatch)
        self._idle: list[_Worker] = []
        self._waiting: deque[_Call] = deque()
        self._all: set[_Worker] = set()
        self._starting: set[_Worker] = set()  # spawned, not ready yet
        self._closed = False
        self._gathering: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start the warm processes (they import their handler meanwhile); ``attach`` adopts them in the loop."""
        for _ in range(min(self.config.warm, self.config.workers)):
            self._all.add(_Worker(self.function, self.settings, self.config.nice))

    async def attach(self) -> None:
        for worker in list(self._all):
            self._starting.add(worker)
            asyncio.get_running_loop().create_task(self._await_ready(worker))

    async def _await_ready(self, worker: _Worker) -> None:
        try:
            await worker.attach()
            kind, _ = await asyncio.wait_for(worker.receive(), WORKER_START_SECONDS)
            if kind == "ready":
                self._starting.discard(worker)
                self._idle.append(worker)
                self._dispatch()
                return
        except (EOFError, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            self._starting.discard(worker)
        if self._closed:
            return
        logger.error("a %s worker did not start", self.function)
        self._retire(worker)
        await asyncio.sleep(1.0)
        self._spawn()

    def _spawn(self) -> None:
        if self._closed:
            return
        worker = _Worker(self.function, self.settings, self.config.nice)
        self._all.add(worker)
        self._starting.add(worker)
        asyncio.get_running_loop().create_task(self._await_ready(worker))

    def _retire(self, worker: _Worker) -> None:
        self._all.discard(worker)
        worker.kill()

    async def invoke(self, event: dict[str, Any], wait_seconds: float) -> dict[str, Any]:
        """The function's answer; ``Saturated`` when no worker took it within ``wait_seconds``."""
        loop = asyncio.get_running_loop()
        call = _Call(event, loop.create_future())
        self._waiting.append(call)
        call.timer = loop.call_later(wait_seconds, self._expire, call)
        if self._reads:
            self.priority.read_started()
        self._dispatch()
        try:
            return await call.future
        finally:
            call.timer.cancel()
            if self._reads:
                self.priority.read_finished()

    def _expire(self, call: _Call) -> None:
        if call.future.done():
            return
        try:
            self._waiting.remove(call)
        except ValueError:
            return  # running already
        call.future.set_exception(Saturated(self.function))

    def _dispatch(self, *, gathered: bool = False) -> None:
        """Hand the waiting invocations to the free workers; scale out (one cold start at a time) if none is.

        Under load (another worker busy) a free worker does not take a small batch at once: it waits up to
        ``gather_seconds`` for a quarter batch to gather. With every worker free, nothing waits. A pool that yields
        to reads hands out nothing while ``ReadPriority`` holds (it dispatches again on the release)."""
        if self._yields and self.priority.holding:
            return
        if (not gathered and self.config.gather_seconds and self._waiting and self._idle
                and len(self._waiting) < max(2, self.config.batch // 4)
                and len(self._idle) + len(self._starting) < len(self._all)):
            if self._gathering is None:
                self._gathering = asyncio.get_running_loop().call_later(self.config.gather_seconds, self._gathered)
            return
        while self._waiting and self._idle:
            batch: list[_Call] = []
            while self._waiting and len(batch) < self.config.batch:
                call = self._waiting.popleft()
                if not call.future.done():  # not expired or given up by its client
                    call.timer.cancel()
                    batch.append(call)
            if batch:
                asyncio.get_running_loop().create_task(self._run_batch(self._idle.pop(), batch))
        if self._waiting and len(self._all) < self.config.workers and not self._starting:
            self._spawn()  # meanwhile any worker that frees up serves the queue

    def _gathered(self) -> None:
        self._gathering = None
        self._dispatch(gathered=True)

    async def _run_batch(self, worker: _Worker, batch: list[_Call]) -> None:
        failure: Exception | None = None
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                results = await self._run(worker, [call.event for call in batch])
        except TimeoutError:
            failure = FunctionTimedOut(self.function)
        except Exception as exc:  # noqa: BLE001 - EOF, a broken channel, a message it should not send
            failure = FunctionCrashed(self.function)
            failure.__cause__ = exc
        if failure is None:
            self._idle.append(worker)
            for call, result in zip(batch, results):
                if not call.future.done():
                    call.future.set_result(result)
        else:
            self._retire(worker)  # dead before anyone is answered: nothing it wrote after its last commit counts
            self._spawn()
            for call in batch:
                if not call.future.done():
                    call.future.set_exception(failure)
        self._dispatch()

    async def _run(self, worker: _Worker, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        worker.send(events)
        kind, payload = await worker.receive()
        if kind != "results" or len(payload) != len(events):
            raise OSError(f"unexpected message {kind!r} from a {self.function} worker")
        return payload

    def close(self, grace_seconds: float = 5.0) -> None:
        """Stop the workers: each sees its channel end and exits; any still running after the grace is killed."""
        self._closed = True
        if self._gathering is not None:
            self._gathering.cancel()
        workers = list(self._all)
        self._all.clear()
        for worker in workers:
            try:
                worker.socket.shutdown(socket.SHUT_RDWR)  # now, not on the loop's next turn
            except OSError:
                pass
        deadline = time.monotonic() + grace_seconds
        for worker in workers:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            worker.kill()



# --- the worker process ------------------------------------------------------------------


def _worker_main(function: str, fd: int) -> int:
    from clickport.local.functions import handler_for
    from clickport.runtime import Runtime, get_runtime, set_runtime

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the server stops us
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    from clickport.adapters.event_journal import JournalWriter

    channel = socket.socket(fileno=fd)
    settings = Settings.model_validate_json(os.environ["CLICKPORT_WORKER_SETTINGS"])
    journal = JournalWriter(settings.data_dir)
    set_runtime(Runtime(settings, sink=journal))
    handler = handler_for(function)
    if function in READS_EVENTS:
        get_runtime().engine.warm()
    send_frame(channel, ("ready", None))
    while True:
        try:
            events = recv_frame(channel)
        except (EOFError, OSError):
            return 0
        send_frame(channel, ("results", run_batch(function, handler, journal, events)))


def run_batch(function: str, handler: Any, journal: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Invoke the handler once per event, one after another, and commit the journal once for all of them.

    Each invocation is on its own, as in Lambda (nothing of one request is visible to the next). What is
    shared is the commit: no answer leaves before the events it acknowledges are durable, and when the
    commit fails every invocation that wrote answers 503 instead (its event was cut off again)."""
    from clickport.http.envelope import STORE_UNAVAILABLE, error_response
    from clickport.local.functions import LocalLambdaContext

    from clickport.ingest.drops import counts_written_after

    results: list[dict[str, Any]] = []
    wrote: list[int] = []
    journal.begin()
    with counts_written_after():  # the batch's drops: one write of drops.json, before any answer
        for event in events:
            context = LocalLambdaContext(function_name=f"clickport-{function}")
            before = journal.appended
            try:
                result = handler(event, context)
            except Exception:  # noqa: BLE001 - as API Gateway answers when a function fails
                request_id = event.get("requestContext", {}).get("requestId", "-")
                logger.exception("function %s failed (request id %s)", function, request_id)
                result = error_response(500, f"Internal error (request id {request_id})")
            if journal.appended != before:
                wrote.append(len(results))
            results.append(result)
    if not journal.commit():
        for index in wrote:
            unavailable = error_response(503, STORE_UNAVAILABLE)
            # the function's own headers stay (e.g. CORS on /api/track), so a browser can read the answer
            unavailable["headers"] = {**(results[index].get("headers") or {}), **unavailable["headers"]}
            results[index] = unavailable
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clickport-worker")
    parser.add_argument("--function", required=True)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--nice", type=int, default=0)
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    return _worker_main(args.function, args.fd)


if __name__ == "__main__":
    sys.exit(main())
