"""The one event record schema: every stored event is a flat row of these columns.

Generates the Parquet (pyarrow) schema, the Glue table columns in CDK and the
column list the query engines read. Partition columns (``site_id``, ``dt``) live in
the storage path (``site_id=…/dt=YYYY-MM-DD/``), not inside the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

LogicalType = Literal["string", "bigint", "int", "timestamp", "array<string>"]


@dataclass(frozen=True)
class Column:
    name: str
    type: LogicalType
    doc: str


# Every event row carries its session's attributes (fixed by the session's first event).
EVENT_COLUMNS: tuple[Column, ...] = (
    Column("ts", "timestamp", "receive time, UTC, millisecond precision"),
    Column("seq", "bigint", "per-session event sequence number, breaks ts ties"),
    Column("type", "string", "pageview | custom | click | form | engagement"),
    Column("name", "string", "event name: custom name; click/form name if sent"),
    Column("hostname", "string", "lowercase host of the event URL, no port"),
    Column("path", "string", "URL path as sent, no query or fragment; empty is /"),
    Column("session_id", "bigint", "random in [1, 2^53-1]"),
    Column("visitor_id", "bigint", "daily-salted HMAC of site, IP and User-Agent, 63 bits"),
    Column("page_visit_id", "string", "16 hex characters"),
    Column("referrer_url", "string", "external referrer: scheme, host, path"),
    Column("source", "string", "known referrer name, referrer host, or utm_source"),
    Column("channel", "string", "GA4-style default channel"),
    Column("utm_source", "string", ""),
    Column("utm_medium", "string", ""),
    Column("utm_campaign", "string", ""),
    Column("utm_content", "string", ""),
    Column("utm_term", "string", ""),
    Column("country", "string", "ISO 3166-1 alpha-2"),
    Column("region", "string", "ISO 3166-2, e.g. DE-BE"),
    Column("city", "string", ""),
    Column("device", "string", "Desktop | Mobile | Tablet"),
    Column("screen", "string", "Desktop | Mobile | Tablet from screen_width alone"),
    Column("browser", "string", ""),
    Column("browser_version", "string", "major version"),
    Column("os", "string", ""),
    Column("os_version", "string", "major version"),
    Column("scroll", "int", "greatest scroll depth 0-100 reported by this event"),
    Column("engaged_ms", "bigint", "visible time reported by this event"),
    Column("revenue_micros", "bigint", "revenue amount in millionths (exact)"),
    Column("revenue_currency", "string", "ISO 4217"),
    Column("meta_keys", "array<string>", "custom property names"),
    Column("meta_values", "array<string>", "custom property values, as text"),
)

PARTITION_COLUMNS: tuple[Column, ...] = (
    Column("site_id", "string", "the site; Athena projection type injected"),
    Column("dt", "string", "UTC date YYYY-MM-DD of ts; Athena projection type date"),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in EVENT_COLUMNS)

# Derived, not an event column: closed days' local files carry each event's page as an integer from the
# site's page dictionary (adapters/compaction.extend_pages); plans grouping by page read it (query/sql.py).
PAGE_ID = "page_id"

# The columns every event of a session shares, fixed by the session's first event (spec §3.8.2).
SESSION_ATTRIBUTES: tuple[str, ...] = (
    "referrer_url", "source", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
    "country", "region", "city", "device", "screen", "browser", "browser_version", "os", "os_version",
)

_GLUE_TYPES = {
    "string": "string",
    "bigint": "bigint",
    "int": "int",
    "timestamp": "timestamp",
    "array<string>": "array<string>",
}


def glue_columns() -> list[dict[str, str]]:
    """Glue/Athena column definitions (name, type, comment)."""
    return [{"name": c.name, "type": _GLUE_TYPES[c.type], "comment": c.doc} for c in EVENT_COLUMNS]


def arrow_schema() -> Any:
    """The pyarrow schema of a Parquet event file (local runtime only: imports pyarrow)."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "bigint": pa.int64(),
        "int": pa.int32(),
        "timestamp": pa.timestamp("ms", tz="UTC"),
        "array<string>": pa.list_(pa.string()),
    }
    return pa.schema([pa.field(c.name, types[c.type]) for c in EVENT_COLUMNS])


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)
DAY_MS = 86_400_000


def epoch_ms(ts: Any) -> int:
    """Epoch milliseconds of an event ``ts``: an int of milliseconds or a timezone-aware datetime."""
    if isinstance(ts, datetime):
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise ValueError("ts must be timezone-aware")
        return (ts - _EPOCH) // _ONE_MS
    if isinstance(ts, int) and not isinstance(ts, bool):
        return ts
    raise ValueError(f"ts must be epoch milliseconds or an aware datetime, not {type(ts).__name__}")


def day_start_ms(day: date) -> int:
    """Epoch milliseconds of a UTC day's first instant (the first ``ts`` of its ``dt`` partition)."""
    return (day - _EPOCH.date()).days * DAY_MS


def utc_date(ts_ms: int) -> str:
    """UTC date ``YYYY-MM-DD`` of epoch milliseconds (the ``dt`` partition)."""
    return (_EPOCH + timedelta(milliseconds=ts_ms)).date().isoformat()
