"""Shared SQLite plumbing for the local stores: WAL, busy timeout, secure_delete, one guarded connection."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

from clickport.errors import StoreUnavailable

BUSY_TIMEOUT_MS = 5000


class SqliteDatabase:
    """One SQLite file shared by the threads of a process (and by other processes through SQLite's locks).

    The connection is opened with ``check_same_thread=False`` and every use holds a lock, so the
    threaded local server and the CLI can share one store object. Writes run in ``BEGIN IMMEDIATE``
    transactions: the write lock is taken up front, so concurrent writers queue on ``busy_timeout``
    instead of failing on a lock upgrade.
    """

    def __init__(self, path: Path, schema: str, *, synchronous: str = "FULL",
                 autocheckpoint_pages: int | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._writer_lock = os.open(self.path.with_name(self.path.name + ".writer.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        self._conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute(f"PRAGMA synchronous = {synchronous}")
            # NOTE: deleted rows are overwritten with zeros, so a deleted salt is really gone.
            self._conn.execute("PRAGMA secure_delete = ON")
            self._conn.execute("PRAGMA foreign_keys = ON")
            if autocheckpoint_pages is not None:
                self._conn.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint_pages)}")
            with self.write() as conn:
                for statement in _statements(schema):
                    conn.execute(statement)
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreUnavailable(f"SQLite store {self.path.name} cannot be opened: {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs."""
        with self._lock, _unavailable_on_lock(self.path):
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back when the block raises.

        Writers of all processes first queue on an exclusive ``flock`` of ``<file>.writer.lock``: the kernel
        wakes the next one the moment the lock is free, where SQLite's own busy handler would poll with
        sleeps of 1 to 100 ms (the local server's workers are several processes on one file)."""
        with self._lock, self._writer_turn(), _unavailable_on_lock(self.path):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # also when COMMIT itself failed (e.g. the disk is full)
                    with suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        fcntl.flock(self._writer_lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._writer_lock, fcntl.LOCK_UN)

    def data_version(self) -> int:
        """Changes whenever another connection (another process: a worker, the CLI) commits to the file."""
        with self._lock, _unavailable_on_lock(self.path):
            return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def checkpoint(self, mode: str = "TRUNCATE") -> None:
        """Copy the write-ahead log into the database file; TRUNCATE also empties the log (it waits for writers),
        PASSIVE copies what it can without waiting for anyone."""
        assert mode in ("TRUNCATE", "PASSIVE")
        with self._lock, _unavailable_on_lock(self.path):
            self._conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            os.close(self._writer_lock)


# A store that cannot take writes right now (503, retry), not a bug (500).
_UNAVAILABLE_CODES = frozenset(
    getattr(sqlite3, name) for name in ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_READONLY",
                                        "SQLITE_IOERR", "SQLITE_CANTOPEN") if hasattr(sqlite3, name)
)


@contextmanager
def _unavailable_on_lock(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _UNAVAILABLE_CODES:
            raise StoreUnavailable(f"SQLite store {path.name} is unavailable ({exc})") from exc
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreUnavailable(f"SQLite store {path.name} is busy") from exc
        raise


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
