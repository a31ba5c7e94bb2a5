"""The local server's event journal: each event worker appends to a segment of its own and fsyncs it before the
event is acknowledged; the server seals the segments and publishes them as Parquet.

- ``JournalWriter`` (an ``EventSink``, one per worker process) appends a record per ``write`` to
  ``journal/<segment>.open`` and fsyncs it; only then does the pipeline go on. A failed append is cut off
  again (``ftruncate``), so an event answered 503 is never stored. Each worker owns its file: no lock
  between workers, and a record is never interleaved with another's.
- ``EventJournal`` (the server) publishes every ``flush_interval`` seconds and whenever ``flush()`` is
  called; a query reads what is not published yet with ``unpublished()``. Publishing seals each ``.open``
  segment that holds records (renames it to ``.wal`` while holding the file's ``flock``, which the writer
  also holds while it appends, so no record lands after the seal), then writes one Parquet file per
  partition per sealed segment, ``journal-<segment>.parquet``, and deletes the segment. A writer that
  finds its file sealed starts a new one.
- Crash safety: segments left by a stopped or crashed server or worker are published at the next start;
  a partition whose ``journal-<segment>.parquet`` exists is skipped, so a replay never stores a row twice,
  and compaction leaves a segment's files alone while the segment exists (``layout.journal_pending``).

Records are ``<length:u32><crc32:u32><JSON [site_id, rows]>``; a torn tail (its fsync never returned, so it
was never acknowledged) is ignored.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import struct
import threading
import time
import uuid
import zlib
from pathlib import Path
from contextlib import contextmanager
from datetime import date
from typing import Any, Iterable, Iterator

from clickport import layout
from clickport.adapters.parquet_sink import ParquetEventSink, check_site_id, normalized_row
from clickport.errors import StoreUnavailable
from clickport.schema import DAY_MS, day_start_ms, utc_date

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("<II")
OPEN_SUFFIX = ".open"  # a writer may still append
SEALED_SUFFIX = ".wal"  # complete; waiting to be published
PUBLISH_LOCK = "publish.lock"
COMMITTED_SUFFIX = ".committed"  # the size of an open segment its writer made durable (live writers only)
_COMMITTED = struct.Struct("<Q")
# A reader reads at most this much of the journal instead of publishing it (~100,000 events; the publisher
# runs every 0.5 s, so more means it is behind and publishing is the cheaper way to read them).
UNPUBLISHED_READ_BYTES = 32 * 1024 * 1024


def encode_record(site_id: str, rows: list[dict[str, Any]]) -> bytes:
    """One journal record; raises ValueError for rows that cannot be stored (e.g. text that is not UTF-8)."""
    try:
        payload = json.dumps([site_id, rows], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("an event field is not valid UTF-8 text") from exc
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _committed_size(path: Path) -> int | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return _COMMITTED.unpack(data)[0] if len(data) == _COMMITTED.size else None


def _in_days(table: Any, first_day: date, last_day: date) -> Any:
    import pyarrow.compute as pc

    start, end = day_start_ms(first_day), day_start_ms(last_day) + DAY_MS
    ms = pc.cast(table.column("ts"), "int64")
    return table.filter(pc.and_(pc.greater_equal(ms, start), pc.less(ms, end)))


def warm_reader() -> Any:
    """Read one made-up record the way a query reads the unpublished ones: pyarrow loads its JSON reader and
    compute kernels on first use (~0.3 s), which a reading worker does before it says it is ready. Returns the
    one-row table."""
    day = date(2026, 1, 1)
    record = encode_record("s_warm", [normalized_row({"ts": day_start_ms(day), "seq": 0, "type": "pageview"})])
    return _in_days(records_table([record[_HEADER.size:]]), day, day)


def _total_size(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except FileNotFoundError:
            continue
    return total


def read_payloads(path: Path, valid_bytes: int | None = None) -> list[bytes]:
    """The JSON payloads of a segment's records (of its first ``valid_bytes`` when given), up to the first torn
    or corrupt record."""
    data = Path(path).read_bytes()[:valid_bytes]
    out: list[bytes] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        payload = data[offset + _HEADER.size: offset + _HEADER.size + length]
        if length == 0 or len(payload) < length or zlib.crc32(payload) != crc:
            break
        out.append(payload)
        offset += _HEADER.size + length
    return out


def read_segment(path: Path, valid_bytes: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The (site_id, row) pairs of a segment (of its first ``valid_bytes`` when given), up to the first torn
    or corrupt record."""
    out: list[tuple[str, dict[str, Any]]] = []
    for payload in read_payloads(path, valid_bytes):
        site_id, rows = json.loads(payload)
        out.extend((site_id, row) for row in rows)
    return out


def records_table(payloads: list[bytes]) -> Any:
    """Records' rows as one Arrow table in the event files' schema plus ``site_id`` and ``dt`` (strings), parsed
    by Arrow's JSON reader: no Python object per row (a query reads a burst's unpublished rows this way)."""
    import io

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    from clickport.schema import arrow_schema

    schema = arrow_schema()
    as_read = pa.schema([pa.field(f.name, pa.int64() if f.name == "ts" else f.type) for f in schema])
    lines = []
    for payload in payloads:  # b'["<site>",[<row>,...]]': the site id is safe text (check_site_id), no escapes
        end = payload.index(b'"', 2)
        lines.append(b'{"site_id":"%s","rows":%s}' % (payload[2:end], payload[end + 2:-1]))
    # NOTE: one thread: a few hundred rows parse in milliseconds; Arrow's pool costs more to wake under load.
    records = pj.read_json(io.BytesIO(b"\n".join(lines)), read_options=pj.ReadOptions(use_threads=False),
                           parse_options=pj.ParseOptions(
        explicit_schema=pa.schema([pa.field("site_id", pa.string()), pa.field("rows", pa.list_(pa.struct(as_read)))]),
        unexpected_field_behavior="error"))
    rows = records.column("rows").combine_chunks()
    flat = pc.list_flatten(rows)
    columns = [flat.field(f.name) for f in as_read]
    columns[schema.get_field_index("ts")] = pc.cast(flat.field("ts"), schema.field("ts").type)
    site_ids = pc.take(records.column("site_id"), pc.list_parent_indices(rows))
    days = pc.strftime(columns[schema.get_field_index("ts")], format="%Y-%m-%d")
    return pa.Table.from_arrays(columns + [site_ids, days], schema=schema.append(pa.field("site_id", pa.string()))
                                .append(pa.field("dt", pa.string())))


class JournalWriter:
    """EventSink of a local server worker: ``write`` returns once the rows are durable in its own segment.

    Group commit: between ``begin()`` and ``commit()`` (one batch of invocations the server handed over
    together) writes are appended without an fsync, and ``commit()`` makes them all durable with one. The
    worker answers none of them before the commit; when the commit fails, every write of the batch is cut
    off again and those invocations answer 503.

    The server may seal the segment at any moment, even in the middle of a batch: it never waits for one.
    What it publishes of a segment is what the writer last committed, noted in ``<segment>.committed``
    (written under the segment's ``flock`` after the fsync; not fsynced itself, it only has to outlive this
    process). A commit that finds its segment sealed writes the batch again into a new segment, so its
    records are published once, from there; and a worker that dies in the middle of a batch leaves only
    records nobody was answered for past the note."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = layout.journal_dir(Path(data_dir))
        self._fd: int | None = None
        self._path: Path | None = None
        self._committed_fd: int | None = None
        self._size = 0  # durable: what the last commit made durable
        self._written = 0  # appended: the end of the last complete record
        self._pending: list[bytes] = []  # this batch's records (written again if the segment is sealed)
        self._batch = False
        self._failed = False  # an append in this batch could not be cut off: the batch cannot commit
        self.appended = 0  # records appended by this writer (a caller tells which invocations wrote)

    def write(self, site_id: str, rows: Iterable[dict[str, Any]]) -> None:
        check_site_id(site_id)
        normalized = [normalized_row(row) for row in rows]
        if not normalized:
            return
        record = encode_record(site_id, normalized)  # ValueError: nothing written
        single = not self._batch
        if single:
            self.begin()
        try:
            self._append(record)
            if single and not self.commit():
                raise OSError("the journal could not be made durable")
        except OSError as exc:
            if single:
                self._batch = False
            logger.error("the event journal could not be written: %s", exc.strerror or exc)
            raise StoreUnavailable("the local event store could not be written") from exc

    def begin(self) -> None:
        """Start a batch: writes until ``commit`` are acknowledged together."""
        self._batch, self._failed, self._pending = True, False, []

    def commit(self) -> bool:
        """Make the batch's writes durable with one fdatasync; False when that failed (they were cut off again)."""
        try:
            if self._failed:
                return False
            while self._pending:
                try:
                    # NOTE: fdatasync flushes the data and the file size, what reading the records back needs; it
                    # skips the times (p90 1.3 against 7 ms for fsync here, measured on the data's disk).
                    os.fdatasync(self._fd)
                except OSError as exc:
                    logger.error("the event journal could not be made durable: %s", exc.strerror or exc)
                    self._cut_back(self._size)
                    return False
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # the seal reads the note under this lock
                try:
                    sealed = not self._path.exists()
                    if not sealed:
                        self._size = self._written
                        os.pwrite(self._committed_fd, _COMMITTED.pack(self._size), 0)
                finally:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                if not sealed:
                    return True
                # Sealed in the middle of the batch at the last commit's size: write the batch again, anew.
                self._close()
                try:
                    for record in self._pending:
                        self._write_record(record)
                except OSError:
                    self._cut_back(self._size)
                    return False
            return True
        finally:
            self._batch, self._pending = False, []

    def _append(self, record: bytes) -> None:
        if self._failed:
            raise OSError("an earlier write of this batch failed")
        try:
            self._write_record(record)
        except OSError:
            self._cut_back(self._written)
            raise
        self._pending.append(record)
        self.appended += 1

    def _write_record(self, record: bytes) -> None:
        fd = self._current()
        view = memoryview(record)
        while view:
            view = view[os.write(fd, view):]
        self._written += len(record)

    def _cut_back(self, size: int) -> None:
        """Remove what was appended after ``size``, so a record answered 503 is never published."""
        try:
            if self._fd is not None:
                os.ftruncate(self._fd, size)
                os.fsync(self._fd)
            self._written = size
        except OSError:
            # NOTE: the failed bytes may stay; seal this segment at the last durable length by starting a new
            # one and leaving a note the publisher honours. The rest of the batch fails with it.
            (self.directory / f"{self._path.stem}.valid").write_text(str(self._size))
            self._failed = True
            self._close()

    def _current(self) -> int:
        if self._fd is None:
            layout.private_dir(self.directory)
            name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self._path = self.directory / f"{name}{OPEN_SUFFIX}"
            self._committed_fd = os.open(self.directory / f"{name}{COMMITTED_SUFFIX}",
                                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.pwrite(self._committed_fd, _COMMITTED.pack(0), 0)
            self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            self._size = self._written = 0
            layout.fsync_dir(self.directory)
        return self._fd

    def _close(self) -> None:
        for fd in (self._fd, self._committed_fd):
            if fd is not None:
                os.close(fd)
        self._fd, self._committed_fd, self._path, self._size, self._written = None, None, None, 0, 0


class EventJournal:
    """The server's side: seals the workers' segments and publishes them as Parquet."""

    def __init__(self, data_dir: Path, *, sink: ParquetEventSink | None = None, flush_interval: float = 0.5) -> None:
        self.data_dir = Path(data_dir)
        self.directory = layout.journal_dir(self.data_dir)
        self.sink = sink or ParquetEventSink(self.data_dir)
        self.flush_interval = flush_interval
        self._flush_lock = threading.Lock()  # one publisher at a time in this process (and across: a flock)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.recovered = 0  # rows an earlier run left, published by ``start``

    def start(self, *, resume: bool = False) -> "EventJournal":
        """Publish what an earlier run left, then publish every ``flush_interval`` seconds.

        An earlier run's ``.committed`` notes are not trusted (they are never fsynced, so after a machine crash
        one may be older than what its writer made durable): its segments are published whole, up to a torn
        tail, as they always were. ``resume``: a publisher taking over while this run's writers are still
        writing keeps their notes (without them a batch in progress would be published, then written again)."""
        layout.private_dir(self.directory)
        if not resume:
            for path in self.directory.glob(f"*{COMMITTED_SUFFIX}"):
                path.unlink(missing_ok=True)
        self.recovered = recovered = self.flush()
        for path in self.directory.glob(f"*{OPEN_SUFFIX}"):  # empty segments of stopped workers
            if path.stat().st_size == 0:
                path.unlink(missing_ok=True)
        if recovered:
            logger.warning("published %d events the previous server had acknowledged", recovered)
        self._thread = threading.Thread(target=self._flush_loop, name="journal-flush", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the periodic flush and publish everything (call after the workers stopped)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()

    def _flush_loop(self) -> None:
        while not self._stopped.wait(self.flush_interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the rows stay durable in the journal; retried next time
                logger.exception("publishing the event journal failed; retrying")

    def flush(self) -> int:
        """Publish every acknowledged event as Parquet; returns how many rows were published."""
        with self._flush_lock, self._publisher_turn():  # (the lock's file creates the folder)
            return self._flush_locked()

    def _flush_locked(self) -> int:
        if sum(self._seal(path) for path in sorted(self.directory.glob(f"*{OPEN_SUFFIX}"))):
            layout.fsync_dir(self.directory)  # once for all the renames
        published = 0
        for group in sorted(self.directory.glob("*.group")):  # a publish a crash interrupted: redo it as it was
            segments = [self.directory / n for n in group.read_text().split() if (self.directory / n).exists()]
            published += self._publish(group.stem, segments)
        sealed = sorted(self.directory.glob(f"*{SEALED_SUFFIX}"))
        if sealed:
            published += self._publish(sealed[0].stem, sealed)
        return published

    @contextmanager
    def unpublished(self, site_id: str | None = None, first_day: date | None = None,
                    last_day: date | None = None) -> Iterator[Any]:
        """The acknowledged rows not published yet (of one site and UTC days, when given) as an Arrow table
        (``records_table``; None when there are none), for a reader that lists the Parquet files inside this block.

        No publish runs while the block does (it holds the publisher's turn), so every acknowledged row is
        in exactly one of the two: a file the reader lists, or this table. A query thus reads its client's
        own writes without publishing them first. Read from each segment: what its writer committed (the
        same bound the seal uses), or its ``.valid`` note. An interrupted publish is finished first, and a
        journal over ``UNPUBLISHED_READ_BYTES`` (the publisher is behind) is published instead of read."""
        if not self.directory.is_dir():  # nothing was ever journaled here (a reader creates nothing)
            yield None
            return
        with self._flush_lock, self._publisher_turn():
            sealed = sorted(self.directory.glob(f"*{SEALED_SUFFIX}"))
            live = sorted(self.directory.glob(f"*{OPEN_SUFFIX}"))
            if next(self.directory.glob("*.group"), None) is not None or _total_size(sealed + live) > \
                    UNPUBLISHED_READ_BYTES:
                try:
                    self._flush_locked()
                except OSError as exc:  # e.g. the disk is full: the events stay in the journal, acknowledged
                    logger.error("publishing events before a query failed: %s", exc.strerror or exc)
                    raise StoreUnavailable("the local event store cannot be read right now") from exc
                sealed, live = [], sorted(self.directory.glob(f"*{OPEN_SUFFIX}"))
            payloads: list[bytes] = []
            for path in sealed:
                payloads += read_payloads(path, self._valid_note(path))
            for path in live:
                payloads += read_payloads(path, self._committed_bytes(path))
            if site_id is not None:
                prefix = json.dumps([site_id]).encode()[:-1] + b","
                payloads = [p for p in payloads if p.startswith(prefix)]
            table = records_table(payloads) if payloads else None
            if table is not None and first_day is not None and last_day is not None:
                table = _in_days(table, first_day, last_day)
            yield table if table is not None and table.num_rows else None

    def _valid_note(self, path: Path) -> int | None:
        valid = self.directory / f"{path.stem}.valid"
        try:
            return int(valid.read_text() or 0)
        except FileNotFoundError:
            return None

    def _committed_bytes(self, path: Path) -> int:
        """What the writer of an open segment acknowledged (read under the segment's lock, as the seal does)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return 0
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            committed = _committed_size(path.with_suffix(COMMITTED_SUFFIX)) or 0
        finally:
            os.close(fd)
        valid = self._valid_note(path)
        return committed if valid is None else min(committed, valid)

    @contextmanager
    def _publisher_turn(self) -> Iterator[None]:
        """One publisher at a time across processes (``journal/publish.lock``); a query holds it while it lists
        the Parquet files and reads the unpublished tail."""
        layout.private_dir(self.directory)
        fd = os.open(self.directory / PUBLISH_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _seal(self, path: Path) -> bool:
        """Rename a segment that holds records to ``.wal``; True when it did (the caller fsyncs the folder)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits for a commit noting its size, never for a whole batch
            size = os.fstat(fd).st_size
            if size == 0:
                return False  # nothing to publish yet; the writer keeps it
            committed = path.with_suffix(COMMITTED_SUFFIX)
            durable = _committed_size(committed)
            if durable is not None:
                # Only what its writer committed: a batch in progress is written again into a new segment
                # when it commits (the writer sees this one sealed), and a writer that died answered nobody for
                # the rest. Noted even when nothing follows yet: the writer may still append before it looks.
                self._note_valid(path, durable)
            os.replace(path, path.with_suffix(SEALED_SUFFIX))
            committed.unlink(missing_ok=True)
            return True
        finally:
            os.close(fd)

    def _note_valid(self, path: Path, size: int) -> None:
        """Publish only the first ``size`` bytes of a segment (a durable note; the smallest note wins)."""
        valid = self.directory / f"{path.stem}.valid"
        if valid.exists() and int(valid.read_text() or 0) <= size:
            return
        fd = os.open(valid, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, str(size).encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def _publish(self, name: str, segments: list[Path]) -> int:
        """One Parquet file per partition for a group of sealed segments, ``journal-<name>.parquet``.

        The group is written down first (``<name>.group``), so a replay after a crash publishes exactly the
        same rows under the same name and skips the partitions whose file exists. The segments are deleted
        once every file is in place, the group file last: compaction waits until then."""
        group = self.directory / f"{name}.group"
        if not group.exists():
            fd = os.open(group, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, "\n".join(p.name for p in segments).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            layout.fsync_dir(self.directory)
        by_partition: dict[tuple[str, str], list[dict[str, Any]]] = {}
        count = 0
        for path in segments:
            # A failed append that could not be cut off: keep only what was acknowledged before it.
            for site_id, row in read_segment(path, self._valid_note(path)):
                by_partition.setdefault((site_id, utc_date(row["ts"])), []).append(row)
                count += 1
        file_name = layout.journal_file_name(name)
        for (site_id, day), rows in sorted(by_partition.items()):
            partition = layout.partition_dir(self.data_dir, site_id, day)
            if (partition / file_name).exists():
                continue  # published before a crash
            try:
                self.sink.write_named(partition, rows, file_name)
            except OSError:
                raise  # e.g. the disk is full: the segments stay and are published later
            except Exception:  # noqa: BLE001 - rows that can never be stored must not block the others
                logger.exception("journal segments from %s: partition %s/%s cannot be stored; set aside",
                                 name, site_id, day)
                for path in segments:
                    os.replace(path, path.with_suffix(".failed"))
                return 0
        for path in segments:
            path.unlink(missing_ok=True)
            (self.directory / f"{path.stem}.valid").unlink(missing_ok=True)
        group.unlink(missing_ok=True)
        layout.fsync_dir(self.directory)
        return count
