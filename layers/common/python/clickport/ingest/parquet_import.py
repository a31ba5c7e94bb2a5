"""Bulk import (spec §9, ``clickport import --format parquet``): rows already in the event schema, as
``clickport export`` writes them, stored as given into the local Parquet store.

Types are checked per file before anything is stored (a wrong type is an error for the whole file); values
are checked per row with Arrow compute kernels, and a row that fails a check is rejected with its number
(counted from 1 across the files, in path order) and the first reason. No bot check, no enrichment: every
id and attribute is kept. Rows are written per UTC date of ``ts`` in files of up to ``FILE_ROWS`` rows,
sorted by ``ts, seq`` unless already in ``ts`` order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, get_args

from clickport.ingest.models import EventType
from clickport.ingest.spill import RejectionLog
from clickport.limits import (
    MAX_CITY_LENGTH,
    MAX_DOMAIN_LENGTH,
    MAX_ENGAGED_MS,
    MAX_EVENT_NAME_LENGTH,
    MAX_META_KEYS,
    MAX_REVENUE_MICROS,
    MAX_SAFE_INTEGER,
    MAX_SCROLL,
    MAX_URL_LENGTH,
    MAX_UTM_LENGTH,
)
from clickport.ports import ConfigStore, Site
from clickport.schema import COLUMN_NAMES, DAY_MS, EVENT_COLUMNS, arrow_schema

READ_BATCH_ROWS = 128 * 1024
FILE_ROWS = 256 * 1024  # rows held before they are written (one file per UTC date among them)
CLOCK_SKEW_MS = 5 * 60 * 1000  # rows from another machine may be slightly ahead of this clock
INT64_MAX = 2**63 - 1
EVENT_TYPES = get_args(EventType)
NAMED_TYPES = ("custom", "click", "form")  # the types that may carry a name (as ingest.models checks)
REQUIRED = ("ts", "seq", "type", "hostname", "path", "session_id", "visitor_id", "page_visit_id")
PARTITION_NAMES = ("site_id", "dt")  # may be present (a copy of a store's files); ignored
MAX_TEXT = {
    "name": MAX_EVENT_NAME_LENGTH, "hostname": MAX_DOMAIN_LENGTH, "path": MAX_URL_LENGTH,
    "referrer_url": MAX_URL_LENGTH, "source": MAX_URL_LENGTH, "channel": 100,
    **{f"utm_{p}": MAX_UTM_LENGTH for p in ("source", "medium", "campaign", "content", "term")},
    "city": MAX_CITY_LENGTH, "device": 100, "screen": 100, "browser": 100, "browser_version": 100, "os": 100,
    "os_version": 100,
}
PATTERNS = {
    "page_visit_id": (r"^[0-9a-f]{16}$", "16 lower-case hex characters"),
    "country": (r"^[A-Z]{2}$", "an ISO 3166-1 alpha-2 code, e.g. DE"),
    "region": (r"^[A-Z]{2}-[A-Z0-9]{1,3}$", "an ISO 3166-2 code, e.g. DE-BE"),
    "revenue_currency": (r"^[A-Z]{3}$", "an ISO 4217 code, e.g. USD"),
}
INT_RANGES = {
    "seq": (0, INT64_MAX), "session_id": (1, MAX_SAFE_INTEGER), "visitor_id": (1, INT64_MAX),
    "scroll": (0, MAX_SCROLL), "engaged_ms": (0, MAX_ENGAGED_MS), "revenue_micros": (0, MAX_REVENUE_MICROS),
}
MAX_META = MAX_META_KEYS


class BulkImportError(Exception):
    """A problem with a whole file (missing, unreadable, wrong columns or types): nothing is stored."""


@dataclass
class BulkSummary:
    read: int = 0
    stored: int = 0
    rejected: RejectionLog = field(default_factory=lambda: RejectionLog("row"))
    days: set = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {"read": self.read, "stored": self.stored, "rejected": list(self.rejected)}


def parquet_files(path: Path) -> list[Path]:
    """``path`` itself, or every ``*.parquet`` under the folder (recursively, hidden names left out), sorted."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet")
                       if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not files:
            raise BulkImportError(f"{path} holds no .parquet file")
        return files
    if not path.is_file():
        raise BulkImportError(f"{path}: no such file or folder")
    return [path]


def import_parquet(files: list[Path], *, site: Site, write_table: Callable[[str, str, Any], Any],
                   config: ConfigStore, strict: bool = False, dry_run: bool = False,
                   now: datetime | None = None, spill_dir: Path | None = None) -> BulkSummary:
    """Validate and store the rows of ``files`` through ``write_table(site_id, dt, table)``."""
    import pyarrow.parquet as pq

    schemas = {}
    for path in files:
        try:
            schemas[path] = pq.read_schema(path)
        except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
            raise BulkImportError(f"{path}: not a readable Parquet file ({error})") from None
        check_columns(path, schemas[path])
    now_ms = int((now or datetime.now(timezone.utc)).timestamp() * 1000)
    summary = BulkSummary(rejected=RejectionLog("row", spill_dir))
    store = not dry_run and not strict
    _load(files, schemas, summary, site=site, now_ms=now_ms, out=_Buffer(site.site_id, write_table, summary)
          if store else None)
    if strict and not dry_run and not summary.rejected:
        summary = BulkSummary(rejected=RejectionLog("row", spill_dir))
        _load(files, schemas, summary, site=site, now_ms=now_ms, out=_Buffer(site.site_id, write_table, summary))
    if summary.days:
        config.note_event_date(site.site_id, min(summary.days))
    return summary


# --- columns and types ----------------------------------------------------------------------------


def _kind(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_null(arrow_type):
        return "null"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if (pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)) and _kind(
            arrow_type.value_type) in ("string", "null"):
        return "array<string>"
    return str(arrow_type)


_EXPECTED = {"timestamp": "timestamp", "bigint": "integer", "int": "integer", "string": "string",
             "array<string>": "array<string>"}


def check_columns(path: Path, schema: Any) -> None:
    """Every column known, every required one present, every type one the event schema can hold."""
    known = {c.name: c for c in EVENT_COLUMNS}
    for name in schema.names:
        if name in PARTITION_NAMES:
            continue
        column = known.get(name)
        if column is None:
            raise BulkImportError(f"{path}: unknown column '{name}' (the event schema's columns: "
                                  f"{', '.join(COLUMN_NAMES)})")
        kind = _kind(schema.field(name).type)
        if kind != _EXPECTED[column.type] and not (kind == "null" and name not in REQUIRED):
            raise BulkImportError(f"{path}: column '{name}' is {schema.field(name).type}, "
                                  f"expected {column.type}")
    missing = [name for name in REQUIRED if name not in schema.names]
    if missing:
        raise BulkImportError(f"{path}: required column '{missing[0]}' is missing")


def _conform(batch: Any, schema: Any) -> tuple[Any, list[tuple[Any, str]]]:
    """(table in the event schema, [(row mask, reason)] for values no stored type can hold)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    target = arrow_schema()
    n = batch.num_rows
    arrays, problems = [], []
    for column, target_field in zip(EVENT_COLUMNS, target):
        if column.name not in batch.schema.names:
            arrays.append(pa.nulls(n, target_field.type))
            continue
        array = batch.column(column.name)
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if pa.types.is_null(array.type):
            arrays.append(pa.nulls(n, target_field.type))
        elif column.type == "timestamp":
            values = array.cast(pa.int64())
            unit = array.type.unit
            if unit == "s":
                out = pc.greater(pc.abs(values), INT64_MAX // 1000)
                problems.append((out, "ts is out of range"))
                values = pc.multiply(pc.if_else(out, 0, values), 1000)
            elif unit != "ms":
                values = _floor_div(values, 1000 if unit == "us" else 1_000_000)  # what the store keeps
            arrays.append(values.cast(target_field.type))
        elif column.type in ("bigint", "int"):
            if array.type == pa.uint64():
                too_big = pc.greater(array, pa.scalar(INT64_MAX, pa.uint64()))
                problems.append((too_big, f"{column.name} is out of range"))
                array = pc.if_else(too_big, pa.scalar(0, pa.uint64()), array)
            array = array.cast(pa.int64())
            if column.type == "int":
                low, high = INT_RANGES.get(column.name, (-(2**31), 2**31 - 1))
                out = pc.or_(pc.less(array, low), pc.greater(array, high))
                problems.append((out, f"{column.name} must be between {low} and {high}"))
                array = pc.if_else(out, pa.scalar(None, pa.int64()), array)
            arrays.append(array.cast(target_field.type))
        else:
            array = array.cast(target_field.type)
            problems.extend(_invalid_utf8(column.name, array))
            arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=target), problems


def _floor_div(values: Any, divisor: int) -> Any:
    import pyarrow.compute as pc

    quotient = pc.divide(values, divisor)  # integer division truncates toward zero
    below = pc.and_(pc.less(values, 0), pc.not_equal(pc.multiply(quotient, divisor), values))
    return pc.if_else(below, pc.subtract(quotient, 1), quotient)


def _invalid_utf8(name: str, array: Any) -> list[tuple[Any, str]]:
    """Strings must be UTF-8 (a Parquet writer can put other bytes in a string column)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array.validate(full=True)
        return []
    except pa.ArrowInvalid:
        pass
    flat = pc.list_flatten(array) if pa.types.is_list(array.type) else array
    parents = pc.list_parent_indices(array).to_pylist() if pa.types.is_list(array.type) else None
    bad = [False] * len(array)
    for index, value in enumerate(flat.cast(pa.binary()).to_pylist()):
        if value is None:
            continue
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            bad[parents[index] if parents is not None else index] = True
    return [(pa.array(bad), f"{name} is not valid UTF-8")]


# --- row checks -----------------------------------------------------------------------------------


def _checks(table: Any, now_ms: int) -> Iterator[tuple[Any, str]]:
    """(mask of failing rows, reason) in the order reasons are reported."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def col(name: str) -> Any:
        return table.column(name)

    for name in REQUIRED:
        yield pc.is_null(col(name)), f"{name} is missing"
    ts = col("ts").cast(pa.int64())
    yield pc.or_(pc.less(ts, 0), pc.greater(ts, now_ms + CLOCK_SKEW_MS)), \
        "ts must be between 1970-01-01 and now"
    for name, (low, high) in INT_RANGES.items():
        if name == "scroll":
            continue  # checked when conformed to int32
        values = col(name)
        yield pc.or_(pc.less(values, low), pc.greater(values, high)), f"{name} must be between {low} and {high}"
    kind = col("type")
    yield pc.invert(pc.is_in(kind, value_set=pa.array(EVENT_TYPES))), f"type must be one of {', '.join(EVENT_TYPES)}"
    named = pc.is_in(kind, value_set=pa.array(NAMED_TYPES))
    yield pc.and_(pc.equal(kind, "custom"), pc.is_null(col("name"))), "custom events need a name"
    yield pc.and_(pc.invert(named), pc.is_valid(col("name"))), "name is only allowed on custom, click and form events"
    for name, limit in MAX_TEXT.items():
        low = 0 if name not in ("name", "hostname") else 1
        length = pc.utf8_length(col(name))
        yield pc.or_(pc.less(length, low), pc.greater(length, limit)), \
            f"{name} must be {low}–{limit} characters" if low else f"{name} must be at most {limit} characters"
    yield pc.invert(pc.starts_with(col("path"), "/")), "path must start with /"
    for name, (pattern, description) in PATTERNS.items():
        yield pc.invert(pc.match_substring_regex(col(name), pattern)), f"{name} must be {description}"
    revenue, currency = col("revenue_micros"), col("revenue_currency")
    yield pc.not_equal(pc.is_null(revenue), pc.is_null(currency)), \
        "revenue_micros and revenue_currency go together"
    keys, values = col("meta_keys"), col("meta_values")
    key_count = pc.fill_null(pc.list_value_length(keys), 0)
    yield pc.not_equal(key_count, pc.fill_null(pc.list_value_length(values), 0)), \
        "meta_keys and meta_values must have the same length"
    yield pc.greater(key_count, MAX_META), f"at most {MAX_META} meta_keys"
    for name, low, limit in (("meta_keys", 1, 100), ("meta_values", 0, 2000)):
        yield _any_element(col(name), lambda flat, low=low, limit=limit: pc.fill_null(pc.or_(
            pc.less(pc.utf8_length(flat), low), pc.greater(pc.utf8_length(flat), limit)), True)), \
            f"each of {name} must be {low}–{limit} characters (and not null)"


def _any_element(lists: Any, failing: Callable[[Any], Any]) -> Any:
    """Row mask: some element of the row's list fails."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = lists.combine_chunks() if hasattr(lists, "combine_chunks") else lists
    flat = pc.list_flatten(lists)
    bad = [False] * len(lists)
    if len(flat):
        failed = pc.indices_nonzero(failing(flat))
        if len(failed):
            parents = pc.take(pc.list_parent_indices(lists), failed)
            for parent in parents.to_pylist():
                bad[parent] = True
    return pa.array(bad)


def _rejections(table: Any, problems: list[tuple[Any, str]], now_ms: int) -> tuple[Any, list[tuple[int, str]]]:
    """(mask of good rows, [(row index, first reason)] sorted by row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    rejected = pa.array([False] * n) if n else pa.array([], pa.bool_())
    reasons: dict[int, str] = {}
    for mask, reason in [*problems, *_checks(table, now_ms)]:
        mask = pc.fill_null(mask, False)
        fresh = pc.and_(mask, pc.invert(rejected))
        if pc.any(fresh).as_py():
            for index in pc.indices_nonzero(fresh).to_pylist():
                reasons[index] = reason
            rejected = pc.or_(rejected, mask)
    return pc.invert(rejected), sorted(reasons.items())


# --- reading and writing --------------------------------------------------------------------------


def _load(files: list[Path], schemas: dict, summary: BulkSummary, *, site: Site, now_ms: int,
          out: _Buffer | None) -> None:
    import pyarrow.parquet as pq

    offset = 0
    for path in files:
        wanted = [name for name in schemas[path].names if name not in PARTITION_NAMES]
        try:
            batches = pq.ParquetFile(path).iter_batches(batch_size=READ_BATCH_ROWS, columns=wanted)
            for batch in batches:
                table, problems = _conform(batch, schemas[path])
                good, reasons = _rejections(table, problems, now_ms)
                for index, reason in reasons:
                    summary.rejected.add(offset + index + 1, reason)
                summary.read += table.num_rows
                offset += table.num_rows
                if out is not None:
                    out.add(table.filter(good) if reasons else table)
        except (OSError, ValueError) as error:
            raise BulkImportError(f"{path}: cannot read ({error})") from None
    if out is not None:
        out.flush()


class _Buffer:
    """Valid rows grouped by UTC date of ``ts``; written when ``FILE_ROWS`` are held, and at the end."""

    def __init__(self, site_id: str, write_table: Callable[[str, str, Any], Any], summary: BulkSummary) -> None:
        self._site_id = site_id
        self._write_table = write_table
        self._summary = summary
        self._days: dict[int, list[Any]] = {}
        self._rows = 0

    def add(self, table: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if not table.num_rows:
            return
        days = pc.divide(table.column("ts").cast(pa.int64()), DAY_MS)  # valid rows are not before 1970
        low, high = pc.min(days).as_py(), pc.max(days).as_py()
        if low == high:
            self._days.setdefault(low, []).append(table)
        else:
            for day in pc.unique(days).to_pylist():
                self._days.setdefault(day, []).append(table.filter(pc.equal(days, day)))
        self._rows += table.num_rows
        if self._rows >= FILE_ROWS:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        days, self._days, self._rows = self._days, {}, 0
        for day, tables in sorted(days.items()):
            table = pa.concat_tables(tables)
            del tables
            ts = table.column("ts")
            if len(ts) > 1 and not pc.all(pc.greater_equal(ts.slice(1), ts.slice(0, len(ts) - 1))).as_py():
                table = table.sort_by([("ts", "ascending"), ("seq", "ascending")])  # else already in order
            dt = (date(1970, 1, 1) + timedelta(days=day))
            self._write_table(self._site_id, dt.isoformat(), table)
            self._summary.stored += table.num_rows
            self._summary.days.add(dt)
