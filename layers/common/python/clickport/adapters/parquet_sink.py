"""Local event sink: atomic Parquet files per ``site_id=/dt=`` partition, compacted under file locks.

Reader contract (exact counts while files are compacted): run every query over
``events/**/*.parquet`` inside ``with read_lock(data_dir):`` and list the files inside
that block. Writers only ever add complete files (temporary names end in ``.tmp`` and
start with ``.``, so no ``*.parquet`` glob sees them). Compaction swaps a partition's
small files for one merged file while holding the exclusive side of the same lock, so
a reader sees either all the originals or the merged file, never both nor neither.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from clickport import layout
from clickport.adapters import compaction, page_files, slot_files
from clickport.periodic import every
from clickport.errors import StoreUnavailable
from clickport.schema import COLUMN_NAMES, arrow_schema, epoch_ms, utc_date

logger = logging.getLogger(__name__)

_SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPRESSIONS = frozenset({"zstd", "snappy", "gzip", "brotli", "lz4", "none"})
_KNOWN_COLUMNS = frozenset(COLUMN_NAMES)
SMALL_FILE_BYTES = 64 * 1024 * 1024  # files at least this big are left out of compaction
# Today's newest files: merged in a tier of their own, often (a burst publishes ~2 files a second).
FRESH_TIER_BYTES = 1024 * 1024
FRESH_MERGE_FILES = 4
STALE_TEMP_SECONDS = 3600  # temporary files older than this are leftovers of a crashed writer

# Lock and journal files live in the data directory, outside ``events/``.
_READ_LOCK = "events.read.lock"  # shared: queries; exclusive: the compaction swap
_GATE_LOCK = "events.gate.lock"  # taken before the read lock so a waiting swap is not starved
_COMPACT_LOCK = "events.compact.lock"  # one compaction at a time per data directory
_JOURNAL = "events.compact-journal.json"  # the swap in progress, for crash recovery


# --- locks ---------------------------------------------------------------------------


@contextlib.contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    # NOTE: flock locks belong to the open file description, so each call here is an
    # independent lock holder even between threads of one process.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def read_lock(data_dir: Path) -> Iterator[None]:
    """Shared lock for one query over the Parquet files: no compaction swap happens inside it.

    Do not nest it or compact inside it (a waiting compaction would deadlock). Also finishes (or undoes) a compaction swap a crashed process left half done.
    """
    data_dir = Path(data_dir)
    if (data_dir / _JOURNAL).exists():
        _recover_if_abandoned(data_dir)
    fd = os.open(layout.private_dir(data_dir) / _READ_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with _flock(data_dir / _GATE_LOCK, fcntl.LOCK_SH):
            fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _swap_lock(data_dir: Path) -> Iterator[None]:
    """Exclusive side of ``read_lock``: waits for running queries, holds new ones at the gate."""
    with _flock(data_dir / _GATE_LOCK, fcntl.LOCK_EX), _flock(data_dir / _READ_LOCK, fcntl.LOCK_EX):
        yield


# --- durable file steps ----------------------------------------------------------------


def _temp_name() -> str:
    return f".{uuid.uuid4().hex}.parquet.tmp"


def _write_json_atomically(path: Path, value: Any) -> None:
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(value, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    layout.fsync_dir(path.parent)


# --- rows -------------------------------------------------------------------------------


def normalized_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row with every schema column (missing ones None) and ``ts`` in epoch milliseconds."""
    unknown = set(row) - _KNOWN_COLUMNS
    if unknown:
        raise ValueError(f"unknown event columns: {sorted(unknown)}")
    out = {name: row.get(name) for name in COLUMN_NAMES}
    out["ts"] = epoch_ms(row.get("ts"))
    return out


def check_site_id(site_id: str) -> str:
    if not isinstance(site_id, str) or not _SITE_ID.match(site_id):
        raise ValueError("site_id is not a safe partition value")
    return site_id


# --- the sink ---------------------------------------------------------------------------


class ParquetEventSink:
    """EventSink writing ``events/site_id=<site>/dt=<YYYY-MM-DD>/<uuid>.parquet`` under ``data_dir``."""

    def __init__(self, data_dir: Path, *, compression: str = "zstd", compact_after: int = 32,
                 file_prefix: str = "", today: Callable[[], str] = compaction.utc_today) -> None:
        """``file_prefix`` starts the name of every file this sink writes (``layout.DEMO_PREFIX``: the demo's).
        ``today`` gives today's UTC date (``YYYY-MM-DD``): partitions before it are closed days."""
        if compression not in _COMPRESSIONS:
            raise ValueError(f"compression must be one of {sorted(_COMPRESSIONS)}")
        if compact_after < 1:
            raise ValueError("compact_after must be at least 1")
        self.data_dir = Path(data_dir)
        self.compression = compression
        self.compact_after = compact_after
        self.file_prefix = file_prefix
        self.today = today
        self._schema = arrow_schema()
        self._slots_written: set[str] = set()  # sites whose slots the running pass wrote

    # writing

    def write(self, site_id: str, rows: Iterable[dict[str, Any]]) -> None:
        """Write rows as one new file per UTC-date partition; each file appears complete or not at all."""
        check_site_id(site_id)
        by_day: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            normalized = normalized_row(row)
            by_day.setdefault(utc_date(normalized["ts"]), []).append(normalized)
        for day, day_rows in sorted(by_day.items()):
            try:
                self._write_file(layout.partition_dir(self.data_dir, site_id, day), day_rows)
            except OSError as exc:
                raise StoreUnavailable("the local event store could not be written") from exc

    def write_table(self, site_id: str, dt: str, table: Any) -> Path:
        """Publish an Arrow table of one UTC date's rows as one new file of that partition (bulk import)."""
        return self.write_tables(site_id, dt, [table])

    def write_tables(self, site_id: str, dt: str, tables: Iterable[Any]) -> Path:
        """Publish Arrow tables of one UTC date's rows (the event schema's columns; the caller checked the
        dates) as one new file of that partition, each written as it comes (bounded memory for bulk
        import). The file appears complete or not at all; an error from ``tables`` leaves nothing behind."""
        import pyarrow.parquet as pq

        check_site_id(site_id)
        if not _DATE.match(dt):
            raise ValueError("dt must be YYYY-MM-DD")
        columns = list(COLUMN_NAMES)
        try:
            partition = layout.private_dir(layout.partition_dir(self.data_dir, site_id, dt))
            temp = partition / _temp_name()
            try:
                with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
                    with pq.ParquetWriter(handle, self._schema, compression=self.compression.upper()) as writer:
                        for table in tables:
                            writer.write_table(table.select(columns).cast(self._schema))
                    handle.flush()
                    os.fsync(handle.fileno())
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            final = partition / f"{self.file_prefix}{uuid.uuid4().hex}.parquet"
            os.replace(temp, final)
            layout.fsync_dir(partition)
            return final
        except OSError as exc:
            raise StoreUnavailable("the local event store could not be written") from exc

    def _write_file(self, partition: Path, rows: list[dict[str, Any]], name: str | None = None) -> Path:
        import pyarrow as pa

        table = pa.Table.from_pylist(rows, schema=self._schema)
        return self._publish(layout.private_dir(partition), table, name)

    def write_named(self, partition: Path, rows: list[dict[str, Any]], name: str) -> Path:
        """Publish normalized rows as ``partition/name`` (the event journal names files after its segments)."""
        return self._write_file(partition, rows, name)

    def _write_temp(self, partition: Path, table: Any, *, closed: bool = False) -> Path:
        temp = partition / _temp_name()
        try:
            with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
                compaction.write_output(table, handle, closed=closed, compression=self.compression)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp

    def _publish(self, partition: Path, table: Any, name: str | None = None) -> Path:
        temp = self._write_temp(partition, table)
        final = partition / (name or f"{self.file_prefix}{uuid.uuid4().hex}.parquet")
        os.replace(temp, final)
        layout.fsync_dir(partition)
        return final

    # compaction

    def compact(self, site_id: str | None = None, dt: str | None = None, *, min_files: int = 2,
                small_bytes: int = SMALL_FILE_BYTES) -> int:
        """Compact each matching partition: a closed UTC day (before ``today()``) not yet all in the day
        layout has ALL its files rewritten into it (``compaction.compact_day``, whatever ``min_files``);
        another partition has its files under ``small_bytes`` merged when it holds at least ``min_files``.

        Returns how many partitions were compacted. Safe with other processes writing,
        reading (under ``read_lock``) or compacting the same data directory.
        """
        if site_id is not None:
            check_site_id(site_id)
        if dt is not None and not _DATE.match(dt):
            raise ValueError("dt must be YYYY-MM-DD")
        min_files = max(2, min_files)
        compacted = 0
        today = self.today()
        with _flock(self.data_dir / _COMPACT_LOCK, fcntl.LOCK_EX):
            _recover_journal(self.data_dir)
            self._slots_written = set()
            for partition in self._partitions(site_id, dt):
                if self._compact_partition(partition, min_files, today, small_bytes):
                    compacted += 1
            # Each site whose slots changed gets its spanning sessions again (or has none yet).
            for site in sorted(self._slots_written | self._sites_without_spanning(site_id)):
                slot_files.publish_spanning(self.data_dir, site, swap_lock=_swap_lock(self.data_dir))
        return compacted

    def _sites_without_spanning(self, site_id: str | None) -> set[str]:
        root = self.data_dir / slot_files.SLOTS_ROOT
        sites = [f"site_id={site_id}"] if site_id is not None else [p.name for p in root.glob("site_id=*")]
        return {name.removeprefix("site_id=") for name in sites if (root / name).is_dir()
                and slot_files.spanning_of(self.data_dir, name.removeprefix("site_id=")) is None}

    def _partitions(self, site_id: str | None, dt: str | None) -> list[Path]:
        root = layout.events_root(self.data_dir)
        site_glob = f"site_id={site_id}" if site_id is not None else "site_id=*"
        dt_glob = f"dt={dt}" if dt is not None else "dt=*"
        return sorted(p for p in root.glob(f"{site_glob}/{dt_glob}") if p.is_dir())

    def _compact_partition(self, partition: Path, min_files: int, today: str, small_bytes: int = SMALL_FILE_BYTES
                           ) -> bool:
        import pyarrow.parquet as pq

        _remove_stale_temps(partition)
        closed = compaction.is_closed(partition.name.removeprefix("dt="), today)
        originals = sorted(
            p for p in partition.glob("*.parquet")
            if p.is_file() and (closed or p.stat().st_size < small_bytes)
            and not layout.journal_pending(self.data_dir, p.name)
            and not layout.is_demo_file(p.name)
        )
        if closed:
            # A closed day is rewritten whole; done once every file is a day file (an import adding one
            # later makes it due again, and the rewrite takes the earlier day files in).
            # Day files written before page ids existed are rewritten once, with them.
            if not compaction.needs_day_layout(p.name for p in originals) and all(
                    page_files.has_page_ids(p) for p in originals):
                self._ensure_slots(partition, originals)
                return False
        elif len(originals) < min_files:
            return False
        tables = [pq.ParquetFile(f).read() for f in originals]
        if closed:
            site_id = partition.parent.name.removeprefix("site_id=")
            pages = page_files.extend(self.data_dir, site_id, page_files.paths_of(tables),
                                      swap_lock=_swap_lock(self.data_dir))
            outputs = compaction.compact_day(tables, file_rows=compaction.DAY_FILE_ROWS, pages=pages)
        else:
            outputs = [compaction.merge_small(tables)]
        del tables
        temps: list[Path] = []
        try:
            for output in outputs:
                temps.append(self._write_temp(partition, output, closed=closed))
            prefix = compaction.DAY_FILE_PREFIX if closed else ""
            journal = {
                "partition": str(partition.relative_to(self.data_dir)),
                "temps": [t.name for t in temps],
                "merged": [f"{prefix}{uuid.uuid4().hex}.parquet" for _ in temps],
                "originals": [p.name for p in originals],
            }
            _write_json_atomically(self.data_dir / _JOURNAL, journal)
        except BaseException:
            for temp in temps:
                temp.unlink(missing_ok=True)
            raise
        _apply_swap(self.data_dir, journal)
        if closed:
            self._publish_slots(partition, journal["merged"], outputs)
        return True

    def _publish_slots(self, partition: Path, day_files: list[str], tables: list[Any]) -> None:
        """A closed day's session slots (derived data, ``adapters/slot_files``), after its day files, with
        their first-row columns looked back through the previous UTC day's current files."""
        import pyarrow.parquet as pq

        site_id = partition.parent.name.removeprefix("site_id=")
        dt = partition.name.removeprefix("dt=")
        previous = partition.parent / f"dt={slot_files.previous_day(dt)}"
        names = _parquet_names(previous)
        try:
            earlier = [pq.ParquetFile(previous / name).read(columns=list(_LOOKBACK_COLUMNS)) for name in names]
        except FileNotFoundError:
            return  # the previous day changed meanwhile: this day is read from its events until the next pass
        slot_files.publish(self.data_dir, site_id, dt, day_files, tables, names, earlier,
                           swap_lock=_swap_lock(self.data_dir))
        self._slots_written.add(site_id)

    def _ensure_slots(self, partition: Path, day_files: list[Path]) -> None:
        """Slots for a closed day already in the day layout that has none for its current files and the
        previous day's current files (an earlier day recompacted or given a file makes them stale)."""
        import pyarrow.parquet as pq

        names = _parquet_names(partition)
        if not day_files or names != sorted(p.name for p in day_files):
            return  # other files (demo, pending) keep the partition read from its events
        site_id, dt = partition.parent.name.removeprefix("site_id="), partition.name.removeprefix("dt=")
        previous = _parquet_names(partition.parent / f"dt={slot_files.previous_day(dt)}")
        if slot_files.rolled_up(self.data_dir, site_id, dt, names, previous) is None:
            self._publish_slots(partition, names, [pq.ParquetFile(f).read() for f in day_files])

    def start_background_compaction(self, interval_s: float = 30.0, *, fresh_interval_s: float | None = None
                                    ) -> Callable[[], None]:
        """Compact partitions with more than ``compact_after`` small files every ``interval_s``
        seconds in a daemon thread; returns a function that stops it (and waits for it).

        ``fresh_interval_s``: also merge today's newest files every so often, tiered: at least
        ``FRESH_MERGE_FILES`` files under ``FRESH_TIER_BYTES`` become one, so a burst's many small files stay
        few (each costs a query about a millisecond) without rewriting the day's larger files each time."""
        next_full = time.monotonic() + interval_s

        def step() -> None:
            nonlocal next_full
            if time.monotonic() >= next_full:
                next_full = time.monotonic() + interval_s
                self.compact(min_files=self.compact_after + 1)
            elif fresh_interval_s:
                self.compact(dt=self.today(), min_files=FRESH_MERGE_FILES, small_bytes=FRESH_TIER_BYTES)

        # A failed pass is logged; the files stay correct meanwhile and the next turn compacts.
        return every(min(interval_s, fresh_interval_s or interval_s), step, name="parquet-compaction",
                     failed=lambda: logger.exception("background compaction failed"))


_LOOKBACK_COLUMNS = ("ts", "type", "session_id", "visitor_id")


def _parquet_names(partition: Path) -> list[str]:
    """The Parquet files of a partition (names, sorted), as the DuckDB engine lists them."""
    try:
        with os.scandir(partition) as entries:
            return sorted(e.name for e in entries if e.name.endswith(".parquet") and e.is_file())
    except FileNotFoundError:
        return []


def remove_event_files(data_dir: Path, files: Iterable[Path]) -> int:
    """Delete whole event files at once for readers: under the exclusive side of ``read_lock``, so a query
    sees all of them or none. Returns how many were deleted."""
    data_dir = Path(data_dir)
    removed = 0
    with _swap_lock(data_dir):
        partitions = set()
        for path in files:
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            partitions.add(path.parent)
            removed += 1
        for partition in partitions:
            layout.fsync_dir(partition)
    return removed


def start_background_compaction(
    data_dir: Path, interval_s: float = 30.0, *, compact_after: int = 32, compression: str = "zstd",
    fresh_interval_s: float | None = None,
) -> Callable[[], None]:
    """Background compaction of ``data_dir`` (what the local server runs); returns the stop function."""
    sink = ParquetEventSink(data_dir, compression=compression, compact_after=compact_after)
    return sink.start_background_compaction(interval_s, fresh_interval_s=fresh_interval_s)


# --- swap and recovery ------------------------------------------------------------------


def _journal_outputs(journal: dict[str, Any]) -> list[tuple[str, str]]:
    """(temporary name, final name) of each output file; a journal of one output may use the older keys."""
    if "temps" in journal:
        return list(zip(journal["temps"], journal["merged"]))
    return [(journal["temp"], journal["merged"])]


def _apply_swap(data_dir: Path, journal: dict[str, Any]) -> None:
    """Under the exclusive lock: put the merged files in place of the originals, then drop the journal."""
    partition = data_dir / journal["partition"]
    outputs = [(partition / temp, partition / merged) for temp, merged in _journal_outputs(journal)]
    with _swap_lock(data_dir):
        for temp, merged in outputs:
            if temp.exists():
                os.replace(temp, merged)
        if all(merged.exists() for _, merged in outputs):
            for name in journal["originals"]:
                (partition / name).unlink(missing_ok=True)
        layout.fsync_dir(partition)
        (data_dir / _JOURNAL).unlink(missing_ok=True)
        layout.fsync_dir(data_dir)


def _recover_journal(data_dir: Path) -> None:
    """Finish a swap whose merged file is complete, or undo one that never renamed it.

    The caller holds the compaction lock, so no live compaction owns the journal.
    """
    path = data_dir / _JOURNAL
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    partition = data_dir / journal["partition"]
    if any((partition / t).exists() or (partition / m).exists() for t, m in _journal_outputs(journal)):
        # The merged data was fully written and fsynced before the journal existed.
        _apply_swap(data_dir, journal)
    else:
        with _swap_lock(data_dir):
            path.unlink(missing_ok=True)
    logger.warning("recovered an interrupted compaction of %s", journal["partition"])


def _recover_if_abandoned(data_dir: Path) -> None:
    """Recover a journal left by a crashed compaction; a live compaction (lock held) finishes its own."""
    fd = os.open(data_dir / _COMPACT_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return
            raise
        _recover_journal(data_dir)
    finally:
        os.close(fd)


def _remove_stale_temps(partition: Path) -> None:
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in partition.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
