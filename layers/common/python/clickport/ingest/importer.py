"""Historical import (spec §9): same validation, bot filter and enrichment as live events; no rate limit,
no live store; per-day salts only in memory; a session's first line fixes its attributes.

Two passes, so memory stays bounded whatever the file size:

1. read: each line is parsed and validated, bots are counted, the visitor id and the country are derived
   from the IP (which goes no further: it is in no record, file or row), and a compact record joins an
   external sort keyed by (timestamp, line number);
2. store (only when every line may be stored, or without ``strict``): records come back in timestamp order,
   stable for equal timestamps; sessions are resolved as for live events; rows are written per UTC day.

A line is rejected in pass 1 for anything that would stop it from being stored, so a store failure can only
be an I/O failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from itertools import chain, groupby, islice
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, NamedTuple

from pydantic import ValidationError

from clickport.http.body import JsonRejected, parse_json
from clickport.http.envelope import describe_validation_errors
from clickport.ingest.identity import MemorySalts, visitor_id
from clickport.ingest.import_sessions import ImportSessions
from clickport.ingest.models import ImportLine
from clickport.ingest.pipeline import SESSION_IDLE_MS, new_page_visit_id
from clickport.ingest.spill import ExternalSort, RejectionLog
from clickport.errors import StoreUnavailable
from clickport.limits import MAX_LINE_BYTES
from clickport.ports import ConfigStore, EventSink, Site
from clickport.schema import COLUMN_NAMES, DAY_MS, SESSION_ATTRIBUTES, epoch_ms, utc_date

BATCH_ROWS = 5000  # rows per write for sinks that take rows (Firehose batches them further)
ROW_GROUP_ROWS = 8192  # rows converted to Arrow at a time for sinks that take tables (the local store)
FILE_ROWS = 1_000_000  # rows per Parquet file at most (one file per UTC day below that)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()


class OverlongLine:
    """Stands for a line longer than ``MAX_LINE_BYTES`` (its bytes were skipped, never held)."""


OVERLONG = OverlongLine()


class ImportFailed(Exception):
    """An I/O or store failure (exit status 1); ``summary`` says how far the import got."""

    def __init__(self, message: str, summary: ImportSummary) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass
class ImportSummary:
    read: int = 0
    stored: int = 0
    bots: int = 0
    rejected: RejectionLog = field(default_factory=RejectionLog)
    days: set = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {"read": self.read, "stored": self.stored, "bots": self.bots, "rejected": list(self.rejected)}


class ImportRecord(NamedTuple):
    """A valid, non-bot line as pass 2 needs it: no IP, ids derived, text ready to store."""

    ts_ms: int
    line: int
    visitor_id: int | None  # given, or derived from the IP with the day's salt
    yesterday_visitor_id: int | None  # derived with the previous day's salt within 30 minutes of midnight
    session_id: int | None
    page_visit_id: str | None
    type: str
    name: str | None
    url: str
    referrer: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    screen_width: int | None
    user_agent: str
    country: str | None
    region: str | None
    city: str | None
    scroll: int | None
    engaged_ms: int | None
    revenue_micros: int | None
    revenue_currency: str | None
    meta_keys: tuple[str, ...] | None
    meta_values: tuple[str, ...] | None


def ndjson_lines(handle: IO[bytes]) -> Iterator[bytes | OverlongLine]:
    """The lines of a binary file, each at most ``MAX_LINE_BYTES`` in memory (longer ones: ``OVERLONG``)."""
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = handle.readline(1 << 16)
            yield OVERLONG
        else:
            yield line


def import_events(lines: Iterable[str | bytes | OverlongLine], *, site: Site, sink: EventSink,
                  config: ConfigStore, salts: MemorySalts | None = None, strict: bool = False,
                  dry_run: bool = False, spill_dir: Path | None = None) -> ImportSummary:
    """Import NDJSON lines for ``site``. With ``strict``, nothing is stored if any line is rejected; with
    ``dry_run``, nothing is stored at all. Temporary files go to ``spill_dir`` (default: the system's)."""
    summary = ImportSummary(rejected=RejectionLog("line", spill_dir))
    with ExternalSort(spill_dir) as records:
        try:
            _read(lines, summary, site=site, salts=salts or MemorySalts(), records=None if dry_run else records,
                  strict=strict)
        except OSError as error:
            raise ImportFailed(f"I/O error after {summary.read} lines, nothing stored: {error.strerror or error}",
                               summary) from error
        if dry_run or (strict and summary.rejected):
            return summary
        total = records.count
        try:
            _store(records.sorted(), summary, site=site, sink=sink)
        except (OSError, StoreUnavailable) as error:
            raise ImportFailed(f"the event store failed after {summary.stored} of {total} events were stored: "
                               f"{getattr(error, 'strerror', None) or error}", summary) from error
    if summary.days:
        config.note_event_date(site.site_id, min(summary.days))
    return summary


# --- pass 1: read ---------------------------------------------------------------------------------


def _read(lines: Iterable[str | bytes | OverlongLine], summary: ImportSummary, *, site: Site,
          salts: MemorySalts, records: ExternalSort | None, strict: bool) -> None:
    from clickport.ingest.bots import is_bot
    from clickport.ingest.places import country_for_ip

    country_of = lru_cache(maxsize=1 << 13)(country_for_ip)
    salt_of_day: dict[int, bytes] = {}

    @lru_cache(maxsize=1 << 13)  # a visit's lines share their visitor; the IPs stay in this process's memory
    def visitor_of(day: int, ip: str, user_agent: str) -> int:
        if day not in salt_of_day:
            salt_of_day[day] = salts.salt_for(date.fromordinal(_EPOCH_ORDINAL + day))
        return visitor_id(salt_of_day[day], site.site_id, ip, user_agent)

    for number, raw in enumerate(lines, start=1):
        if raw is OVERLONG:
            summary.read += 1
            summary.rejected.add(number, f"the line is longer than {MAX_LINE_BYTES:,} bytes")
            continue
        size = len(raw)
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            summary.read += 1
            summary.rejected.add(number, "the line is not valid UTF-8")
            continue
        if number == 1:
            text = text.removeprefix("\ufeff")
        if not text.strip():
            continue
        summary.read += 1
        try:
            line = parse_line(text)
        except ValueError as error:
            summary.rejected.add(number, str(error))
            if strict and records is not None:
                records.discard()
                records = None
            continue
        if is_bot(line.user_agent):
            summary.bots += 1
            continue
        if records is not None:
            records.add(_record(line, number, visitor_of, country_of), size)



def parse_line(text: str) -> ImportLine:
    """One validated line, or ValueError with the reason (as the operator reads it)."""
    try:
        data = parse_json(text)
    except JsonRejected as rejected:
        if rejected.field is not None:
            raise ValueError(str(rejected)) from None
        raise ValueError(f"not valid JSON: {rejected.detail or rejected}") from None
    if not isinstance(data, dict):
        raise ValueError("not valid JSON: the line is not a JSON object")
    try:
        return ImportLine.model_validate(data)
    except ValidationError as error:
        raise ValueError(describe_validation_errors(error.errors())) from None


def _record(line: ImportLine, number: int, visitor_of: Callable[[int, str, str], int],
            country_of: Callable[[str], str | None]) -> ImportRecord:
    ts_ms = epoch_ms(line.timestamp)
    visitor, yesterday_visitor = line.visitor_id, None
    country = line.country
    if line.ip:
        if visitor is None:
            day = ts_ms // DAY_MS
            visitor = visitor_of(day, line.ip, line.user_agent)
            if (ts_ms - SESSION_IDLE_MS) // DAY_MS < day:
                yesterday_visitor = visitor_of(day - 1, line.ip, line.user_agent)
        if country is None:
            country = country_of(line.ip)
    meta_keys, meta_values = line.meta()
    return ImportRecord(
        ts_ms, number, visitor, yesterday_visitor, line.session_id, line.page_visit_id, line.type,
        line.name if line.type in ("custom", "click", "form") else None, line.url, line.referrer,
        line.utm_source, line.utm_medium, line.utm_campaign, line.utm_content, line.utm_term, line.screen_width,
        line.user_agent, country, line.region, line.city, line.scroll, line.engaged_ms, line.revenue_micros(),
        line.revenue_currency, tuple(meta_keys) or None, tuple(meta_values) or None,
    )


# --- pass 2: store --------------------------------------------------------------------------------


def _store(records: Iterator[ImportRecord], summary: ImportSummary, *, site: Site, sink: EventSink) -> None:
    """Write the rows per UTC day: streamed into Parquet files where the sink takes Arrow tables (the local
    store: one file per day, or per ``FILE_ROWS``), else in batches of row dicts through ``sink.write``."""
    write_tables = getattr(sink, "write_tables", None)
    for day, day_rows in groupby(_rows(records, site), key=lambda row: row[0] // DAY_MS):
        dt = utc_date(day * DAY_MS)
        if write_tables is None:
            while batch := list(islice(day_rows, BATCH_ROWS)):
                sink.write(site.site_id, [_row_dict(row) for row in batch])
                summary.stored += len(batch)
        else:
            for first in day_rows:
                written = [0]
                write_tables(site.site_id, dt, _tables(chain([first], islice(day_rows, FILE_ROWS - 1)), written))
                summary.stored += written[0]
        summary.days.add(date.fromisoformat(dt))


def _rows(records: Iterator[ImportRecord], site: Site) -> Iterator[tuple]:
    """Stored rows (tuples in ``COLUMN_NAMES`` order), sessions resolved as for live events."""
    from clickport.ingest.rows import session_attributes
    from clickport.ingest.urls import split_url

    url_parts = lru_cache(maxsize=1 << 12)(split_url)
    sessions = ImportSessions()
    try:
        for seq, record in enumerate(records, start=1):
            ts_ms = record.ts_ms
            visitors = (record.visitor_id, record.yesterday_visitor_id) if record.yesterday_visitor_id else (
                (record.visitor_id,) if record.visitor_id is not None else ())
            session = sessions.find(ts_ms, record.session_id, () if record.session_id is not None else visitors)
            if session is None:
                places = {"country": record.country, "region": record.region, "city": record.city}
                hostname, path, attributes = session_attributes(
                    record, site_domain=site.domain, user_agent=record.user_agent, places=places)  # type: ignore[arg-type]
                session = sessions.start(ts_ms, record.session_id, record.visitor_id,
                                         tuple(attributes[k] for k in SESSION_ATTRIBUTES))
            else:
                parts = url_parts(record.url)
                hostname, path = parts.hostname, parts.path
            sessions.touch(session, ts_ms, record.visitor_id if record.session_id is None else None)
            if record.page_visit_id:
                page_visit = record.page_visit_id
            elif record.type == "pageview" or not session.page_visit_id:
                page_visit = new_page_visit_id()
            else:
                page_visit = session.page_visit_id
            if record.type == "pageview" or not session.page_visit_id:
                session.page_visit_id = page_visit
            yield (
                ts_ms, seq, record.type, record.name, hostname, path, session.session_id, session.visitor_id,
                page_visit, *session.attributes, record.scroll, record.engaged_ms, record.revenue_micros,
                record.revenue_currency, list(record.meta_keys or ()), list(record.meta_values or ()),
            )
    finally:
        sessions.close()


def _row_dict(row: tuple) -> dict[str, Any]:
    out = dict(zip(COLUMN_NAMES, row))
    out["ts"] = _EPOCH + timedelta(milliseconds=row[0])
    return out


def _tables(rows: Iterator[tuple], written: list[int]) -> Iterator[Any]:
    """Arrow tables of ``ROW_GROUP_ROWS`` rows each; counts the rows into ``written[0]``."""
    import pyarrow as pa

    from clickport.schema import arrow_schema

    schema = arrow_schema()
    while batch := list(islice(rows, ROW_GROUP_ROWS)):
        # NOTE: one column at a time, so only one column's Python list exists beside the rows.
        columns = [pa.array(list(map(itemgetter(i), batch)), type=column.type) for i, column in enumerate(schema)]
        written[0] += len(batch)
        del batch
        yield pa.Table.from_arrays(columns, schema=schema)
