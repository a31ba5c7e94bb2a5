"""Local QueryEngine: DuckDB over the Parquet event files under the data directory.

Each query lists the files of the partitions it reads anew (inside the event store's read
lock), so files other processes wrote are seen at once; with no files yet, the same columns
read as empty. Events acknowledged but not published yet are read from the event journal in
the same step (``EventJournal.unpublished``), so a client reads its own writes.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from clickport import layout
from clickport.adapters import page_files, slot_files
from clickport.adapters.event_journal import EventJournal, warm_reader
from clickport.adapters.parquet_sink import read_lock
from clickport.ports import ScanScope
from clickport.query.dimensions import DIMENSIONS
from clickport.query.sql_dimensions import kind_of
from clickport.query.sql_groups import PAGE_DIMENSION, PAGE_NAMES
from clickport.query.sql_slots import (
    FRESH_TABLE,
    ROLLED_TABLE,
    SLOTS_TABLE,
    SPANNING_TABLE,
    FirstRowStatement,
    LoneStatement,
)
from clickport.schema import EVENT_COLUMNS, PAGE_ID, PARTITION_COLUMNS

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "timestamp": "TIMESTAMPTZ",
    "array<string>": "VARCHAR[]",
}
TABLE = "events"
# DuckDB's hash aggregates split their tables into partitions by the number of threads: with 4 threads on
# this 2-core machine the 90-day aggregate's statement took 424 -> 357 ms (CPU 809 -> 671 ms) and the top
# pages 226 -> 206 ms (interleaved, medians of 7; docs/benchmarks.md), so the engine runs at least 4.
MIN_THREADS = 4
TAIL_TABLE = "journal_tail"  # the journal's unpublished rows of the statement's scope (an Arrow table)
FILE_PATTERN = "site_id=*/dt=*/*.parquet"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def empty_events_sql() -> str:
    """A typed, empty stand-in for the events table (no Parquet file exists yet)."""
    columns = [f"CAST(NULL AS {_DUCKDB_TYPES[c.type]}) AS {c.name}" for c in EVENT_COLUMNS]
    columns += [f"CAST(NULL AS VARCHAR) AS {c.name}" for c in PARTITION_COLUMNS]
    return "SELECT " + ", ".join(columns) + " WHERE FALSE"


def empty_slots_sql() -> str:
    """A typed, empty stand-in for the session slots (no partition in scope has any)."""
    types = {"timestamp": "TIMESTAMPTZ", "bigint": "BIGINT", "int": "INTEGER", "string": "VARCHAR"}
    columns = [f"CAST(NULL AS {types[kind]}) AS {name}" for name, kind in slot_files.SLOT_FILE_COLUMNS]
    columns += [f"CAST(NULL AS VARCHAR) AS {c.name}" for c in PARTITION_COLUMNS]
    return "SELECT " + ", ".join(columns) + " WHERE FALSE"


def parquet_events_sql(source: str | list[str], *, uniform: bool = False) -> str:
    """The events of a glob pattern or a list of Parquet files, with the partition columns as VARCHAR.

    ``uniform``: every file has the same columns (session slots, written only by compaction), so
    DuckDB need not read every footer to unite their schemas."""
    hive_types = ", ".join(f"{_quote(c.name)}: 'VARCHAR'" for c in PARTITION_COLUMNS)
    files = _quote(source) if isinstance(source, str) else "[" + ", ".join(_quote(f) for f in source) + "]"
    union = "" if uniform else ", union_by_name = true"
    return f"SELECT * FROM read_parquet({files}, hive_partitioning = true, hive_types = {{{hive_types}}}{union})"


class DuckDbQueryEngine:
    """QueryEngine reading ``events/site_id=<site>/dt=<date>/*.parquet`` under ``data_dir``.

    One in-memory DuckDB database per engine (per process), created at the first query and
    kept: its Parquet metadata cache keeps footers between queries (files are immutable and
    replaced under new names, so a cached footer never goes stale). Each query runs on its own
    cursor over only the partitions its scope names, listed inside the store's read lock.
    """

    dialect = "duckdb"
    table = TABLE
    session_slots = True  # closed days' session slots can be read (``execute(..., slots=True)``)

    def __init__(self, data_dir: Path, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.threads = threads
        self.memory_limit = memory_limit
        self._database = None
        self._guard = threading.Lock()
        self._journal = EventJournal(self.data_dir)

    def warm(self) -> None:
        """Do once what a first query would: open the database and read an Arrow table of the journal's shape
        beside a view (``clickport serve``'s reading workers call this before they say they are ready)."""
        cursor = self._cursor()
        try:
            cursor.register(TAIL_TABLE, warm_reader())
            cursor.execute(f"SELECT count(*) FROM ({_with_tail(empty_events_sql(), TAIL_TABLE)})").fetchall()
        finally:
            cursor.close()

    def _cursor(self):
        import duckdb

        with self._guard:
            if self._database is None:
                database = duckdb.connect(":memory:")
                # Parquet footers parsed once per process (files are immutable: a cached footer never goes stale).
                # NOTE: in DuckDB 2.0 this is the setting; ``enable_object_cache`` leaves it off.
                database.execute("SET parquet_metadata_cache = true")
                database.execute("SET preserve_insertion_order = false")
                database.execute(f"SET threads = {int(self.threads or max(MIN_THREADS, os.cpu_count() or 1))}")
                if self.memory_limit:
                    database.execute(f"SET memory_limit = {_quote(self.memory_limit)}")
                self._database = database
            cursor = self._database.cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        return cursor

    def _source(self, scope: ScanScope | None) -> str | list[str] | None:
        """What DuckDB reads: the files of the scope's partitions, else the glob of every event file
        (an explicit list when the path itself holds glob characters); None when there is none."""
        root = layout.events_root(self.data_dir)
        if scope is not None:
            return _scope_files(root, scope) or None
        files = root.glob(FILE_PATTERN)
        if any(ch in str(root) for ch in "*?[]{}"):
            listed = sorted(str(p) for p in files if p.is_file())
            return listed or None
        return f"{root}/{FILE_PATTERN}" if next(files, None) is not None else None

    def execute(
        self, sql: str | None, *, cacheable: bool = False, scope: ScanScope | None = None, slots: bool = False,
        first_rows: FirstRowStatement | None = None, lone: LoneStatement | None = None,
    ) -> list[tuple]:
        """Run ``sql`` over ``events`` or, with ``slots`` (a plan of query/sql_slots.py, which needs a
        scope), over ``session_slots``, ``rolled_events`` (the events of the partitions those slots
        stand for) and ``fresh_events`` (the events of every other partition in scope). ``first_rows``
        (with ``slots``; ``sql`` then None): a plan with a first-row statement, run when every partition
        of its days is rolled up with first-row columns and holds no unpublished event (it reads
        ``session_slots`` only), else the plan's own slot statement. ``lone`` (with ``slots``; ``sql`` then
        None): a plan with a lone-row statement, run when the site's spanning sessions were computed from
        every slot file it reads (bound as ``spanning_sessions``), else the plan's own slot statement."""
        cursor = self._cursor()
        try:
            with read_lock(self.data_dir):
                # NOTE: the files are listed inside the read lock, as the store's reader contract asks, and
                # inside the journal's turn: each acknowledged event is in a listed file or the journal's tail.
                with self._journal.unpublished(*_scope_bounds(scope)) as tail:
                    if slots:
                        if scope is None:
                            raise ValueError("a plan over session slots needs a scan scope")
                        bound = self._slot_views(scope, tail, first_rows, lone)
                        if bound.first_rows_sql is not None:
                            sql = bound.first_rows_sql
                        elif first_rows is not None:
                            sql = first_rows.fallback_sql()
                        elif lone is not None:
                            sql = lone.sql() if SPANNING_TABLE in bound.views else lone.fallback_sql()
                        if sql is None:
                            raise ValueError("no statement to run")
                        # Only the tables the statement reads (binding a view reads its files' footers).
                        views = {name: query for name, query in bound.views.items()
                                 if re.search(rf"\b{name}\b", sql)}
                    elif re.search(rf"\b{PAGE_NAMES}\b", sql or ""):
                        if scope is None:
                            raise ValueError("a plan over page ids needs a scan scope")
                        views = self._page_views(scope, tail)
                    else:
                        source = self._source(scope)
                        views = {TABLE: _with_tail(
                            parquet_events_sql(source) if source is not None else empty_events_sql(), tail)}
                if tail is not None:
                    cursor.register(TAIL_TABLE, tail)
                for name, query in views.items():
                    cursor.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {query}")
                return cursor.execute(sql).fetchall()
        finally:
            cursor.close()

    def page_ids_in(self, scope: ScanScope) -> bool:
        """Most of the scope's event bytes are in files that carry page ids (a statement reading ``page_names``
        then gets ``page_id`` on every event, ``_page_views``; the other files' rows are joined to the
        dictionary, so the integer plan pays off only when they are few). Either plan is exact: the files may
        change before the statement runs, and it lists them again."""
        sizes = {True: 0, False: 0}
        for path in _scope_files(layout.events_root(self.data_dir), scope):
            try:
                sizes[page_files.has_page_ids(path)] += os.stat(path).st_size
            except FileNotFoundError:
                continue  # compacted away meanwhile
        return sizes[True] > 0 and sizes[True] >= sizes[False]

    def _page_views(self, scope: ScanScope, tail: Any = None) -> dict[str, str]:
        """``events`` with ``page_id`` on every row and ``page_names`` labelling every id, for the scope's site.

        Day files written with the site's page dictionary carry their ids; the other files and the journal's
        tail (today, imports not compacted yet) get theirs by joining the dictionary on the page, and the
        pages it lacks get ids past its last, numbered in this statement only. Files and the dictionary are
        listed inside the read lock (the dictionary holds the ids of every day file listed with it)."""
        keyed: list[str] = []
        plain: list[str] = []
        for path in _scope_files(layout.events_root(self.data_dir), scope):
            (keyed if page_files.has_page_ids(path) else plain).append(path)
        dictionary = page_files.current(self.data_dir, scope.site_id)
        label = kind_of(DIMENSIONS[PAGE_DIMENSION]).value  # the page as shown: one definition for both sides
        page_of = label(DIMENSIONS[PAGE_DIMENSION], None, None).sql("duckdb")
        page_of_plain = label(DIMENSIONS[PAGE_DIMENSION], "p", None).sql("duckdb")
        views = {
            "page_dictionary": (f"SELECT {PAGE_ID}, page FROM read_parquet({_quote(str(dictionary))})" if dictionary
                                else f"SELECT CAST(NULL AS INTEGER) AS {PAGE_ID}, CAST(NULL AS VARCHAR) AS page WHERE FALSE"),
            "plain_events": _with_tail(parquet_events_sql(plain) if plain else empty_events_sql(), tail),
            PAGE_NAMES: (
                f"SELECT {PAGE_ID}, page FROM page_dictionary UNION ALL "
                f"SELECT CAST((SELECT COALESCE(MAX({PAGE_ID}) + 1, 0) FROM page_dictionary) "
                f"+ ROW_NUMBER() OVER (ORDER BY page) - 1 AS INTEGER) AS {PAGE_ID}, page "
                f"FROM (SELECT DISTINCT {page_of} AS page FROM plain_events) AS fresh "
                f"WHERE page NOT IN (SELECT page FROM page_dictionary)"
            ),
        }
        parts = []
        if keyed:
            parts.append(parquet_events_sql(keyed, uniform=True))
        if plain or tail is not None:
            parts.append(f"SELECT p.*, n.{PAGE_ID} FROM plain_events AS p JOIN {PAGE_NAMES} AS n ON n.page = {page_of_plain}")
        if not parts:
            parts.append(f"SELECT *, CAST(NULL AS INTEGER) AS {PAGE_ID} FROM ({empty_events_sql()})")
        views[TABLE] = " UNION ALL BY NAME ".join(f"({part})" for part in parts)
        return views

    def _slot_views(self, scope: ScanScope, tail: Any = None, first_rows: FirstRowStatement | None = None,
                    lone: LoneStatement | None = None) -> "_SlotViews":
        root = layout.events_root(self.data_dir)
        rolled: list[str] = []
        fresh: list[str] = []
        slot_paths: list[str] = []
        # A day with unpublished events is read from its events: its slots do not hold them.
        tail_days = set(tail.column("dt").to_pylist()) if tail is not None else set()
        partitions = _scope_partitions(root, scope)
        names_of = dict(partitions)
        site = root / f"site_id={scope.site_id}"
        # Days of the first-row statement not rolled up with first-row columns (or with unpublished events).
        missing = set()
        if first_rows is not None:
            day = first_rows.first_day
            while day <= first_rows.last_day:
                if f"dt={day.isoformat()}" in names_of or day.isoformat() in tail_days:
                    missing.add(day.isoformat())
                day += timedelta(days=1)
        for partition, names in partitions:
            day = partition.removeprefix("dt=")
            previous = f"dt={slot_files.previous_day(day)}"
            previous_names = names_of[previous] if previous in names_of else _partition_files(site / previous)
            rollup = None if day in tail_days else slot_files.rolled_up(
                self.data_dir, scope.site_id, day, names, previous_names)
            files = [str(site / partition / name) for name in names]
            if rollup is not None:
                slot_paths.append(str(rollup.path))
                rolled += files
                if rollup.first_rows:
                    missing.discard(day)
            else:
                fresh += files
        views = {
            SLOTS_TABLE: parquet_events_sql(slot_paths, uniform=True) if slot_paths else empty_slots_sql(),
            ROLLED_TABLE: parquet_events_sql(rolled) if rolled else empty_events_sql(),
            FRESH_TABLE: _with_tail(parquet_events_sql(fresh) if fresh else empty_events_sql(), tail),
        }
        if lone is not None:
            spanning = slot_files.spanning_of(self.data_dir, scope.site_id)
            read = {f"{Path(p).parent.name}/{Path(p).name}" for p in slot_paths}
            if spanning is not None and read <= spanning.sources:
                # Computed from every slot file read: a session in none of its ids has slot rows in one of them.
                views[SPANNING_TABLE] = f"SELECT session_id FROM read_parquet({_quote(str(spanning.path))})"
        return _SlotViews(views, first_rows.sql() if first_rows is not None and not missing else None)


@dataclass(frozen=True)
class _SlotViews:
    views: dict[str, str]
    first_rows_sql: str | None  # the first-row statement, when every day it reads is rolled up with its columns


def _scope_bounds(scope: ScanScope | None) -> tuple[str | None, date | None, date | None]:
    return (None, None, None) if scope is None else (scope.site_id, scope.first_day, scope.last_day)


def _with_tail(events_sql: str, tail: Any) -> str:
    return events_sql if tail is None else f"{events_sql} UNION ALL BY NAME SELECT * FROM {TAIL_TABLE}"


def _partition_files(partition: Path) -> list[str]:
    try:
        with os.scandir(partition) as entries:
            return sorted(e.name for e in entries if e.name.endswith(".parquet") and e.is_file())
    except FileNotFoundError:
        return []


def _scope_partitions(root: Path, scope: ScanScope) -> list[tuple[str, list[str]]]:
    """``(dt=<day>, [file names])`` of the scope's partitions that hold Parquet files, in path order."""
    site = root / f"site_id={scope.site_id}"
    first, last = f"dt={scope.first_day.isoformat()}", f"dt={scope.last_day.isoformat()}"
    try:
        partitions = sorted(e.name for e in os.scandir(site) if e.is_dir() and first <= e.name <= last)
    except FileNotFoundError:
        return []
    found: list[tuple[str, list[str]]] = []
    for name in partitions:
        files = _partition_files(site / name)
        if files:
            found.append((name, files))
    return found


def _scope_files(root: Path, scope: ScanScope) -> list[str]:
    """The Parquet files of ``site_id=<site>/dt=<day>/`` for the scope's days, in path order."""
    site = root / f"site_id={scope.site_id}"
    return [str(site / partition / name) for partition, names in _scope_partitions(root, scope) for name in names]
