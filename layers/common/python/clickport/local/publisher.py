"""The event journal's publisher, in a process of its own.

Publishing the journal (records → Parquet files, fsyncs) and compacting the published files is Python work.
In the gateway's process it held the GIL the event loop needs to answer requests: measured under a burst,
the loop spent about a third of its samples waiting for it. Here it has an interpreter of its own:

- at start it publishes what an earlier run left (before any worker starts), then every ``flush_interval``
  seconds, and compacts the partitions in the background when asked to;
- queries do not wait for it: they read the journal's unpublished tail beside the Parquet files
  (``EventJournal.unpublished``), holding the same ``flock`` that keeps one publisher at a time;
- when the gateway closes the channel, it publishes everything and exits;
- if it dies, the gateway starts another within ``WATCH_SECONDS`` (which keeps this run's ``.committed``
  notes: the workers are still writing).

Channel (a socket pair, the workers' framing): publisher → gateway ``("ready", recovered rows)`` once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time

from clickport.settings import Settings

logger = logging.getLogger("clickport.local")

WATCH_SECONDS = 2.0
START_SECONDS = 300.0  # publishing a crashed run's journal may take a while
STOP_SECONDS = 120.0


class JournalPublisher:
    """The gateway's handle on the publisher process."""

    def __init__(self, settings: Settings, *, flush_interval: float = 0.5, compaction: bool = False) -> None:
        self.settings = settings
        self.flush_interval = flush_interval
        self.compaction = compaction
        self._process: subprocess.Popen | None = None
        self._socket: socket.socket | None = None

    def start(self, *, resume: bool = False) -> int:
        """Start it and wait until it has published what an earlier run left; returns those rows. ``resume``:
        it takes over from one that died while this run's workers go on writing."""
        from clickport.local.workers import package_env, recv_frame

        parent, child = socket.socketpair()
        args = [sys.executable, "-m", "clickport.local.publisher", "--fd", str(child.fileno()),
                "--flush-interval", str(self.flush_interval)] + (["--compaction"] if self.compaction else []) + (
                ["--resume"] if resume else [])
        self._process = subprocess.Popen(args, pass_fds=[child.fileno()], env=package_env(self.settings),
                                         stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(), start_new_session=True)
        child.close()
        self._socket = parent
        parent.settimeout(START_SECONDS)
        try:
            kind, recovered = recv_frame(parent)
        except (EOFError, OSError) as exc:
            self.close()
            raise OSError(f"the journal publisher did not start: {exc}") from exc
        if kind != "ready":
            self.close()
            raise OSError(f"the journal publisher sent {kind!r}")
        return recovered

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def restart(self) -> int:
        """Replace a publisher that died (the workers keep journaling meanwhile; queries read the journal)."""
        self.close()
        return self.start(resume=True)

    def close(self) -> None:
        """Let it publish everything and exit (killed after ``STOP_SECONDS``)."""
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._socket.close()
            self._socket = None
        if self._process is not None:
            try:
                self._process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                logger.error("the journal publisher did not stop; killed (the journal keeps its events)")
                self._process.kill()
                self._process.wait()
            self._process = None


def _warm_parquet_writer() -> None:
    """Write an empty events table to memory once: pyarrow imports what writing Parquet needs (pandas'
    metadata support among it, ~0.3 s) on first use, and inside the first publish that held the publisher's
    turn, so a query reading the journal at the start of a burst waited for it."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from clickport.schema import arrow_schema

    pq.write_table(pa.Table.from_pylist([], schema=arrow_schema()), io.BytesIO())


def _publisher_main(fd: int, flush_interval: float, compaction: bool, resume: bool = False) -> int:
    from clickport.adapters.event_journal import EventJournal
    from clickport.local.workers import send_frame

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the gateway stops us
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    settings = Settings.model_validate_json(os.environ["CLICKPORT_WORKER_SETTINGS"])
    channel = socket.socket(fileno=fd)
    journal = EventJournal(settings.data_dir, flush_interval=flush_interval)
    started = time.monotonic()
    _warm_parquet_writer()
    journal.start(resume=resume)
    stop_compaction = None
    if compaction:
        from clickport.adapters.parquet_sink import start_background_compaction

        # NOTE: the journal publishes about two files a second per busy partition; this keeps them few (a query
        # pays about a millisecond per file it reads).
        stop_compaction = start_background_compaction(settings.data_dir, interval_s=10.0, compact_after=16,
                                                      fresh_interval_s=2.0)
    stop_checkpoints = _checkpoint_live_store(settings, flush_interval)
    send_frame(channel, ("ready", journal.recovered))
    logger.debug("journal publisher ready after %.1f s", time.monotonic() - started)
    try:
        while channel.recv(4096):  # the gateway sends nothing; its end closing is the stop
            pass
    except OSError:
        pass
    finally:
        stop_checkpoints()
        if stop_compaction is not None:
            stop_compaction()
        journal.close()
    return 0


def _checkpoint_live_store(settings: Settings, interval: float):
    """Checkpoint the live store's write-ahead log every ``interval`` seconds (PASSIVE: writers never wait), so the
    event workers' commits never do it themselves; returns the stop function."""
    from clickport.adapters.sqlite_live import SqliteLiveStore
    from clickport.layout import live_db
    from clickport.periodic import every

    store = SqliteLiveStore(live_db(settings.data_dir))
    # A busy or full disk: the next turn tries again.
    stop_checkpoints = every(interval, store.checkpoint_log, name="live-checkpoint", join_timeout_s=5,
                             failed=lambda: logger.warning("the live store's log could not be checkpointed this time"))

    def stop() -> None:
        stop_checkpoints()
        store.close()

    return stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clickport-publisher")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--flush-interval", type=float, default=0.5)
    parser.add_argument("--compaction", action="store_true")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    return _publisher_main(args.fd, args.flush_interval, args.compaction, args.resume)


if __name__ == "__main__":
    sys.exit(main())
