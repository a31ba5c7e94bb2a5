"""Local group commit: concurrent events share one append and fsync of a journal; a flusher turns it into Parquet.

An event is acknowledged once its record is durable in the current journal segment
(``<data_dir>/journal/<segment>.wal``). Writers that arrive while an fsync runs wait and go
together in the next one, so a burst costs one fsync per batch, not per event.

Every ``flush_interval`` seconds, and whenever ``flush()`` is called (the local server calls it
before a query, so a client reads its own writes), the current segment is closed and its rows are
published as one Parquet file per partition, named after the segment
(``journal-<segment>.parquet``); then the segment is deleted. A process that crashes in between
leaves the segment behind: ``recover()`` publishes it again at the next start, skipping each
partition whose file already exists, so a replay never stores a row twice. Compaction leaves a
segment's files alone while the segment exists (``layout.journal_pending``).

Records are ``<length:u32><crc32:u32><JSON [site_id, rows]>``; a torn tail (never acknowledged,
since the fsync did not return) is ignored on recovery.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from clickport import layout
from clickport.adapters.parquet_sink import ParquetEventSink, check_site_id, normalized_row
from clickport.errors import StoreUnavailable
from clickport.schema import utc_date

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("<II")
SEGMENT_SUFFIX = ".wal"


def encode_record(site_id: str, rows: list[dict[str, Any]]) -> bytes:
    """One journal record; raises ValueError for rows that cannot be stored (e.g. text that is not UTF-8)."""
    try:
        payload = json.dumps([site_id, rows], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("an event field is not valid UTF-8 text") from exc
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def read_segment(path: Path, valid_bytes: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The (site_id, row) pairs of a segment (of its first ``valid_bytes`` bytes, when given), up to the
    first torn or corrupt record."""
    data = Path(path).read_bytes()
    if valid_bytes is not None:
        data = data[:valid_bytes]
    out: list[tuple[str, dict[str, Any]]] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        payload = data[offset + _HEADER.size: offset + _HEADER.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        site_id, rows = json.loads(payload)
        out.extend((site_id, row) for row in rows)
        offset += _HEADER.size + length
    return out


@dataclass
class _Pending:
    record: bytes
    pairs: list[tuple[str, dict[str, Any]]]
    on_done: Callable[[Exception | None], None]


@dataclass
class _Segment:
    name: str
    fd: int
    size: int = 0
    pairs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class EventJournal:
    """EventSink for the local server: ``write`` returns once the rows are durable (group commit)."""

    def __init__(self, data_dir: Path, *, sink: ParquetEventSink | None = None, flush_interval: float = 0.5) -> None:
        self.data_dir = Path(data_dir)
        self.directory = layout.journal_dir(self.data_dir)
        self.sink = sink or ParquetEventSink(self.data_dir)
        self.flush_interval = flush_interval
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._io_lock = threading.Lock()  # appends and segment rotation
        self._flush_lock = threading.Lock()  # one publisher at a time
        self._segment: _Segment | None = None
        self._unpublished: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = []
        self._stopping = False
        self._stopped = threading.Event()  # wakes the flusher at close
        self._threads: list[threading.Thread] = []

    # lifecycle

    def start(self) -> "EventJournal":
        layout.private_dir(self.directory)
        self.recover()
        for target, name in ((self._commit_loop, "journal-commit"), (self._flush_loop, "journal-flush")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Commit what is queued, publish everything, stop the threads."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._stopped.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        self.flush()

    # writing

    def write(self, site_id: str, rows: Iterable[dict[str, Any]]) -> None:
        """Durable when it returns; StoreUnavailable when the journal could not be written (nothing stored)."""
        check_site_id(site_id)
        normalized = [normalized_row(row) for row in rows]
        if not normalized:
            return
        done = threading.Event()
        outcome: list[Exception | None] = []

        def settle(error: Exception | None) -> None:
            outcome.append(error)
            done.set()

        self.submit(encode_record(site_id, normalized), [(site_id, row) for row in normalized], settle)
        done.wait()
        if outcome[0] is not None:
            raise outcome[0]

    def submit(self, record: bytes, pairs: list[tuple[str, dict[str, Any]]],
               on_done: Callable[[Exception | None], None]) -> None:
        """Queue an encoded record (``encode_record``); ``on_done(error)`` runs on the commit thread once it
        is durable (error None) or refused (nothing stored)."""
        with self._cond:
            if self._stopping:
                on_done(StoreUnavailable("the local event store is shutting down"))
                return
            self._queue.append(_Pending(record, pairs, on_done))
            self._cond.notify()

    def _commit_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                batch, self._queue = self._queue, []
            if not batch:
                return
            error = self._append(batch)
            for pending in batch:
                pending.on_done(error)

    def _append(self, batch: list[_Pending]) -> Exception | None:
        data = b"".join(p.record for p in batch)
        with self._io_lock:
            try:
                segment = self._segment or self._open_segment()
            except OSError as exc:
                logger.error("the event journal cannot be opened: %s", exc.strerror or exc)
                return StoreUnavailable("the local event store could not be written")
            try:
                view = memoryview(data)
                while view:
                    written = os.write(segment.fd, view)
                    view = view[written:]
                os.fsync(segment.fd)
            except OSError as exc:
                logger.error("the event journal could not be written: %s", exc.strerror or exc)
                self._undo(segment)
                return StoreUnavailable("the local event store could not be written")
            segment.size += len(data)
            for pending in batch:
                segment.pairs.extend(pending.pairs)
        return None

    def _undo(self, segment: _Segment) -> None:
        """Cut a failed append off the segment, so a replay never stores an event that was refused."""
        try:
            os.ftruncate(segment.fd, segment.size)
            os.fsync(segment.fd)
        except OSError:
            # NOTE: the refused records may still be on disk; start a new segment and remember the valid
            # length in its name's sidecar so recovery stops there.
            try:
                (self.directory / f"{segment.name}.valid").write_text(str(segment.size))
            except OSError:
                logger.error("could not record the valid length of journal segment %s", segment.name)
            os.close(segment.fd)
            self._unpublished.append((segment.name, segment.pairs))
            self._segment = None

    def _open_segment(self) -> _Segment:
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        fd = os.open(self.directory / f"{name}{SEGMENT_SUFFIX}", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND,
                     0o600)
        layout.fsync_dir(self.directory)
        self._segment = _Segment(name, fd)
        return self._segment

    # publishing

    def _flush_loop(self) -> None:
        while not self._stopped.wait(self.flush_interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the rows stay durable in the journal; retried next time
                logger.exception("publishing the event journal failed; retrying")

    def flush(self) -> None:
        """Publish every acknowledged event as Parquet (no-op when nothing is new)."""
        with self._flush_lock:
            with self._io_lock:
                segment, self._segment = self._segment, None
                if segment is not None:
                    os.close(segment.fd)
                    self._unpublished.append((segment.name, segment.pairs))
                waiting, self._unpublished = self._unpublished, []
            for index, (name, pairs) in enumerate(waiting):
                try:
                    self._publish(name, pairs)
                except OSError as exc:
                    logger.warning("journal segment %s stays unpublished for now: %s", name, exc.strerror or exc)
                    with self._io_lock:
                        self._unpublished[:0] = waiting[index:]
                    return

    def _publish(self, name: str, pairs: list[tuple[str, dict[str, Any]]]) -> None:
        by_partition: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for site_id, row in pairs:
            by_partition.setdefault((site_id, utc_date(row["ts"])), []).append(row)
        file_name = layout.journal_file_name(name)
        for (site_id, day), rows in sorted(by_partition.items()):
            partition = layout.partition_dir(self.data_dir, site_id, day)
            if (partition / file_name).exists():
                continue  # published before a crash
            try:
                self.sink.write_named(partition, rows, file_name)
            except OSError:
                raise
            except Exception:  # noqa: BLE001 - rows that can never be stored must not block the others
                logger.exception("journal segment %s: partition %s/%s cannot be stored; set aside", name, site_id, day)
                self._set_aside(name)
                return
        segment_path = self.directory / f"{name}{SEGMENT_SUFFIX}"
        segment_path.unlink(missing_ok=True)
        (self.directory / f"{name}.valid").unlink(missing_ok=True)
        layout.fsync_dir(self.directory)

    def _set_aside(self, name: str) -> None:
        path = self.directory / f"{name}{SEGMENT_SUFFIX}"
        if path.exists():
            os.replace(path, path.with_suffix(".failed"))
            layout.fsync_dir(self.directory)

    # recovery

    def recover(self) -> int:
        """Publish the segments a stopped or crashed process left; returns how many rows they held."""
        if not self.directory.exists():
            return 0
        recovered = 0
        for path in sorted(self.directory.glob(f"*{SEGMENT_SUFFIX}")):
            name = path.name[: -len(SEGMENT_SUFFIX)]
            valid = self.directory / f"{name}.valid"
            pairs = read_segment(path, int(valid.read_text() or 0) if valid.exists() else None)
            self._publish(name, pairs)
            recovered += len(pairs)
        if recovered:
            logger.warning("published %d events the previous server had acknowledged", recovered)
        return recovered

