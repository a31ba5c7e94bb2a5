"""The one compaction core of both backends: input tables of one partition in, output tables out.

A partition is one site's events of one UTC date (``site_id=…/dt=…``). Its day is *closed* once the
UTC date is over (``dt`` before today, UTC). Closed days are rewritten, all their files at once, into
the day layout (``day_layout``: ``(ts, seq)`` order, zstd, delta-encoded ``ts``, sized row groups) in
files of at most ``DAY_FILE_ROWS`` rows; today's partition only has its small files merged.

These functions do no I/O besides ``write_output``: the local sink (``parquet_sink``) and the S3 job
(``s3_compaction``) list, read, publish and swap files their own way and share everything else.
Every input row is in the output exactly once (duplicates included: compaction never deduplicates).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from clickport.adapters import day_layout
from clickport.schema import COLUMN_NAMES, arrow_schema

# Files of a closed day hold at most this many rows (a few row groups each): 1M events a day is one file.
DAY_FILE_ROWS = 4 * day_layout.ROW_GROUP_ROWS
# Files written in the day layout are named ``day-<uuid hex>.parquet``: a closed partition holding only
# such files is compacted already (a file added later, by an import, makes it compacted again).
DAY_FILE_PREFIX = "day-"


def utc_today(now: datetime | None = None) -> str:
    """Today's UTC date, ``YYYY-MM-DD``."""
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).date().isoformat()


def is_closed(dt: str, today: str) -> bool:
    """A UTC day is closed once it is over: ``dt`` before ``today`` (both ``YYYY-MM-DD``)."""
    return dt < today


def is_day_file(name: str) -> bool:
    return name.startswith(DAY_FILE_PREFIX)


def needs_day_layout(names: Iterable[str]) -> bool:
    """A closed partition with these file names needs compacting: some file is not in the day layout."""
    return any(not is_day_file(name) for name in names)


def _as_event_table(tables: Iterable[Any]) -> Any:
    import pyarrow as pa

    schema = arrow_schema()
    columns = list(COLUMN_NAMES)
    parts = [table.select(columns).cast(schema) for table in tables]
    return pa.concat_tables(parts) if parts else schema.empty_table()


def merge_small(tables: Iterable[Any]) -> Any:
    """Today's partition: the rows of ``tables`` as one table in ``(ts, seq)`` order (the event schema)."""
    return day_layout.day_order(_as_event_table(tables))


def compact_day(tables: Iterable[Any], *, file_rows: int = DAY_FILE_ROWS) -> list[Any]:
    """A closed day: every row of ``tables`` once, in the day layout's order, as tables of at most
    ``file_rows`` rows (one file each). Always at least one table (empty if there were no rows)."""
    if file_rows < 1:
        raise ValueError("file_rows must be at least 1")
    ordered = day_layout.day_order(_as_event_table(tables))
    if ordered.num_rows == 0:
        return [ordered]
    return [ordered.slice(start, file_rows) for start in range(0, ordered.num_rows, file_rows)]


def write_output(table: Any, where: Any, *, closed: bool, compression: str = "zstd") -> None:
    """Write one output table to a path or file object: the day layout for a closed day, else plain."""
    import pyarrow.parquet as pq

    if closed:
        day_layout.write_day(table, where)
    else:
        pq.write_table(table, where, compression=compression.upper())
