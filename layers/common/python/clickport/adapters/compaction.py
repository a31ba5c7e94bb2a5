"""The one compaction core of both backends: input tables of one partition in, output tables out.

A partition is one site's events of one UTC date (``site_id=…/dt=…``). Its day is *closed* once the
UTC date is over (``dt`` before today, UTC). Closed days are rewritten, all their files at once, into
the day layout (``day_layout``: ``(ts, seq)`` order, zstd, delta-encoded ``ts``, sized row groups) in
files of at most ``DAY_FILE_ROWS`` rows; today's partition only has its small files merged.

A closed day's files also carry **page ids** (``page_id``, INT32): each event's page as shown (``path``,
``''``/NULL as ``(none)``) numbered by the site's page dictionary (``extend_pages``; ids are never
reused or changed, so a day file written with one version of the dictionary reads right with every
later one). Grouping by page then hashes integers instead of strings (``query/sql.py``, the DuckDB
engine); the label is joined back after grouping.

A closed day also gets derived data: its **session slots** (``session_slots``), one row per session and
UTC 15-minute slot (every zone offset in use is a multiple of 15 minutes, so every local day, hour and
range edge of a whole-day query falls on a slot boundary). A row holds the slot's first event's visitor
id and session attributes, its first and last ``ts`` and its countable events, pageviews and clicks.
Rows of a session merge exactly across slots, days and zones (min, max, sums, the first row's values);
the query plans read them for closed days instead of the events (``query/sql_slots.py``).

These functions do no I/O besides ``write_output``/``write_slots``: the local sink (``parquet_sink``)
and the S3 job (``s3_compaction``) list, read, publish and swap files their own way and share
everything else. Every input row is in the output exactly once (duplicates included: compaction never
deduplicates).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Iterable

from clickport.adapters import day_layout
from clickport.query.dimensions import NONE_LABEL
from clickport.schema import COLUMN_NAMES, DAY_MS, PAGE_ID, SESSION_ATTRIBUTES, arrow_schema, day_start_ms

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


def compact_day(tables: Iterable[Any], *, file_rows: int = DAY_FILE_ROWS, pages: Any = None) -> list[Any]:
    """A closed day: every row of ``tables`` once, in the day layout's order, as tables of at most
    ``file_rows`` rows (one file each). Always at least one table (empty if there were no rows).
    ``pages``: the site's page dictionary holding every page of the rows (``extend_pages``); the
    tables then carry ``page_id`` after the event columns."""
    if file_rows < 1:
        raise ValueError("file_rows must be at least 1")
    ordered = day_layout.day_order(_as_event_table(tables))
    if pages is not None:
        ordered = with_page_ids(ordered, pages)
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


# --- page ids: the site's pages as integers (closed days' files)

def page_dictionary_schema() -> Any:
    import pyarrow as pa

    return pa.schema([pa.field(PAGE_ID, pa.int32(), nullable=False), pa.field("page", pa.string(), nullable=False)])


def page_labels(paths: Any) -> Any:
    """Each stored ``path`` as the ``page`` dimension shows it (spec §3.2): empty or NULL is ``(none)``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    paths = pc.cast(paths, pa.string())
    return pc.coalesce(pc.if_else(pc.equal(paths, ""), pa.scalar(None, pa.string()), paths), pa.scalar(NONE_LABEL))


def extend_pages(dictionary: Any | None, paths: Any) -> Any | None:
    """The page dictionary (``page_id``, ``page``; ids 0, 1, 2, … in order of addition) with the pages of
    ``paths`` it lacks appended (sorted, for a deterministic result), or None when it lacks none."""
    import pyarrow as pa
    import pyarrow.compute as pc

    current = dictionary if dictionary is not None else page_dictionary_schema().empty_table()
    known = current["page"].combine_chunks()
    labels = pc.unique(page_labels(paths))
    missing = pc.filter(labels, pc.invert(pc.is_in(labels, value_set=known)))
    if len(missing) == 0:
        return None
    added = pc.take(missing, pc.array_sort_indices(missing))
    start = current.num_rows
    ids = pa.array(range(start, start + len(added)), pa.int32())
    return pa.concat_tables([current, pa.table([ids, added], schema=page_dictionary_schema())])


def with_page_ids(table: Any, dictionary: Any) -> Any:
    """``table`` (the event schema) with ``page_id`` appended: its page's id in ``dictionary``, which must
    hold every page of the table (a page missing from it is an error, never a NULL id)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pc.index_in(page_labels(table["path"]), value_set=dictionary["page"].combine_chunks())
    if ids.null_count:
        raise ValueError("the page dictionary lacks a page of the table")
    positions = pc.cast(ids, pa.int32())
    return table.append_column(pa.field(PAGE_ID, pa.int32()), pc.take(dictionary[PAGE_ID].combine_chunks(), positions))


# --- session slots: derived per-session rollups of a closed day

SLOT_MS = 15 * 60 * 1000  # every UTC offset in use is a multiple of 15 minutes
COUNTABLE_TYPES = ("pageview", "custom", "click", "form")
# ``ts`` is the slot's first event's time (so time buckets and range conditions read it like an event's).
SLOT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ts", "timestamp"),
    ("last_ts", "timestamp"),
    ("session_id", "bigint"),
    ("visitor_id", "bigint"),
    ("counted", "int"),
    ("pageviews", "int"),
    ("clicks", "int"),
    *((name, "string") for name in SESSION_ATTRIBUTES),
)
SLOT_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in SLOT_COLUMNS)


def slots_schema() -> Any:
    import pyarrow as pa

    types = {"timestamp": pa.timestamp("ms", tz="UTC"), "bigint": pa.int64(), "int": pa.int32(), "string": pa.string()}
    return pa.schema([pa.field(name, types[kind]) for name, kind in SLOT_COLUMNS])


def session_slots(tables: Iterable[Any]) -> Any:
    """A closed day's session slots from its events (every row of ``tables``, the event schema): one row
    per ``(session_id, UTC 15-minute slot)``, with the slot's first event (by ``(ts, seq)``) visitor id and
    session attributes (kept as stored, NULL included), its first and last ``ts`` and how many countable
    events, pageviews and clicks it holds. Rows in ``ts`` order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    events = _as_event_table(tables)
    schema = slots_schema()
    if events.num_rows == 0:
        return schema.empty_table()
    ms = pc.cast(events["ts"], pa.int64())
    kind = events["type"]
    flags = {
        "counted": pc.is_in(kind, value_set=pa.array(COUNTABLE_TYPES)),
        "pageviews": pc.equal(kind, "pageview"),
        "clicks": pc.equal(kind, "click"),
    }
    work = pa.table({
        "session_id": events["session_id"],
        "slot": pc.divide(ms, SLOT_MS),  # non-negative times: integer division is the floor
        "ts": events["ts"],
        "seq": events["seq"],
        "visitor_id": events["visitor_id"],
        **{name: pc.cast(pc.fill_null(flag, False), pa.int32()) for name, flag in flags.items()},
        **{name: events[name] for name in SESSION_ATTRIBUTES},
    }).sort_by([("session_id", "ascending"), ("ts", "ascending"), ("seq", "ascending")])
    first = pc.ScalarAggregateOptions(skip_nulls=False)
    grouped = work.group_by(["session_id", "slot"], use_threads=False).aggregate(
        [("ts", "min"), ("ts", "max"), ("visitor_id", "first", first)]
        + [(name, "sum") for name in flags]
        + [(name, "first", first) for name in SESSION_ATTRIBUTES]
    )
    out = pa.table({
        "ts": grouped["ts_min"],
        "last_ts": grouped["ts_max"],
        "session_id": grouped["session_id"],
        "visitor_id": grouped["visitor_id_first"],
        **{name: grouped[f"{name}_sum"] for name in flags},
        **{name: grouped[f"{name}_first"] for name in SESSION_ATTRIBUTES},
    })
    return out.cast(schema).sort_by([("ts", "ascending"), ("session_id", "ascending")])


# --- first rows: derived from a day's slots and the previous UTC day's events

# On each counted slot row (``counted > 0``), the ``ts`` of the previous counted slot row of the same
# session / visitor at or after the start of the previous UTC day (NULL when there is none). A time bucket
# no longer than that lookback (a local hour or day) then holds a session's (visitor's) counted rows from
# its first one on: a row is the first in its bucket iff that time is NULL, before the range or in an
# earlier bucket, so sessions and visitors per bucket are counts of rows (``query/sql_slots.py``).
FIRST_ROW_COLUMNS: tuple[tuple[str, str], ...] = (("prev_session_ts", "timestamp"), ("prev_visitor_ts", "timestamp"))


def first_rows(slots: Any, day: str, previous: Iterable[Any]) -> Any | None:
    """``slots`` (``session_slots`` of UTC ``day``) with ``FIRST_ROW_COLUMNS`` appended, looking back through
    ``previous`` (the previous UTC day's event tables: at least ``ts``, ``type``, ``session_id``,
    ``visitor_id``). None when the rows break what the columns rely on: every slot row in ``day`` and every
    previous event in the day before it (partitions hold their own UTC day's events; import checks it),
    so the reader falls back to distinct counts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    start = day_start_ms(date.fromisoformat(day))
    ms = pc.cast(slots["ts"], pa.int64()).to_numpy(zero_copy_only=False)
    if len(ms) and (ms.min() < start or ms.max() >= start + DAY_MS):
        return None
    before = [t.select(["ts", "type", "session_id", "visitor_id"]) for t in previous]
    earlier = pa.concat_tables(before) if before else None
    if earlier is not None and earlier.num_rows:
        earlier_ms = pc.cast(earlier["ts"], pa.int64()).to_numpy(zero_copy_only=False)
        if earlier_ms.min() < start - DAY_MS or earlier_ms.max() >= start:
            return None
        kept = pc.is_in(earlier["type"], value_set=pa.array(COUNTABLE_TYPES)).to_numpy(zero_copy_only=False)
        kept = np.asarray(kept, dtype=bool)
        earlier_ms = earlier_ms[kept]
        earlier_ids = {name: earlier[name].to_numpy(zero_copy_only=False)[kept] for name in ("session_id", "visitor_id")}
    else:
        earlier_ms = np.empty(0, dtype=np.int64)
        earlier_ids = {name: np.empty(0, dtype=np.int64) for name in ("session_id", "visitor_id")}
    counted = slots["counted"].to_numpy(zero_copy_only=False) > 0
    rows = np.flatnonzero(counted)
    out = {}
    for name, key in (("prev_session_ts", "session_id"), ("prev_visitor_ts", "visitor_id")):
        ids = np.concatenate([earlier_ids[key], slots[key].to_numpy(zero_copy_only=False)[rows]])
        times = np.concatenate([earlier_ms, ms[rows]])
        mine = np.concatenate([np.zeros(len(earlier_ms), dtype=bool), np.ones(len(rows), dtype=bool)])
        position = np.concatenate([np.full(len(earlier_ms), -1), rows])
        order = np.lexsort((times, ids))  # by id, then time (ties: any order; equal times are one bucket)
        ids, times, mine, position = ids[order], times[order], mine[order], position[order]
        has_previous = np.zeros(len(ids), dtype=bool)
        has_previous[1:] = ids[1:] == ids[:-1]
        previous_ms = np.zeros(len(ids), dtype=np.int64)
        previous_ms[1:] = times[:-1]
        # Only look back to the start of the previous UTC day (every row here is in ``day``).
        has_previous &= previous_ms >= start - DAY_MS
        values = np.zeros(len(ms), dtype=np.int64)
        valid = np.zeros(len(ms), dtype=bool)
        values[position[mine]] = previous_ms[mine]
        valid[position[mine]] = has_previous[mine]
        out[name] = pa.array(values, type=pa.int64(), mask=~valid).cast(pa.timestamp("ms", tz="UTC"))
    table = slots
    for name, _ in FIRST_ROW_COLUMNS:
        table = table.append_column(name, out[name])
    return table


# --- lone slots: sessions that are one slot row in all of a site's slots

# On each slot row, how many slot rows its session has in the day (local slot files). A row with 1 whose
# session is in no other day's slots (``spanning_sessions``) is its session's only slot row anywhere, so a
# plan over those slots takes it as the session's row without grouping (``query/sql_slots.py``).
SESSION_ROW_COLUMNS: tuple[tuple[str, str], ...] = (("slots_in_day", "int"),)


def with_slots_in_day(slots: Any) -> Any:
    """``slots`` with ``slots_in_day`` appended: the number of rows of the row's session in ``slots``."""
    import numpy as np
    import pyarrow as pa

    ids = slots["session_id"].to_numpy(zero_copy_only=False)
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    return slots.append_column(pa.field("slots_in_day", pa.int32()), pa.array(counts[inverse].astype(np.int32)))


def spanning_sessions(days: Iterable[Any]) -> Any:
    """The session ids found in more than one of ``days`` (arrays of session ids, one per day's slots),
    sorted, NULL left out."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [np.unique(pc.drop_null(day).to_numpy(zero_copy_only=False)) for day in days]
    every = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    ids, counts = np.unique(every, return_counts=True)
    return pa.array(ids[counts > 1], pa.int64())


def without_first_rows(slots: Any) -> Any:
    """``slots`` with ``FIRST_ROW_COLUMNS`` all NULL (rows that break what they rely on: never read)."""
    import pyarrow as pa

    for name, _ in FIRST_ROW_COLUMNS:
        slots = slots.append_column(name, pa.nulls(slots.num_rows, pa.timestamp("ms", tz="UTC")))
    return slots


def write_slots(table: Any, where: Any) -> None:
    """Write one closed day's session slots (``session_slots``) to a path or file object."""
    day_layout.write_slots(table, where)
