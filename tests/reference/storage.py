"""Writing event fixtures as the local store keeps them: Parquet per ``site_id=/dt=`` partition."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from clickport.layout import partition_dir
from clickport.schema import COLUMN_NAMES, arrow_schema


def event_row(**fields: Any) -> dict[str, Any]:
    """A full row: every schema column, missing ones None."""
    unknown = set(fields) - set(COLUMN_NAMES)
    if unknown:
        raise ValueError(f"unknown columns {sorted(unknown)}")
    return {name: fields.get(name) for name in COLUMN_NAMES}


def write_events(data_dir: Path, site_id: str, rows: Iterable[dict[str, Any]], *, files_per_day: int = 1) -> None:
    """Store rows (``ts`` an aware datetime) in ``events/site_id=<site>/dt=<UTC date>/``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    by_day: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        full = event_row(**row)
        day = full["ts"].astimezone(timezone.utc).date().isoformat()
        by_day.setdefault(day, []).append(full)
    schema = arrow_schema()
    for day, day_rows in by_day.items():
        folder = partition_dir(data_dir, site_id, day)
        folder.mkdir(parents=True, exist_ok=True)
        size = max(1, -(-len(day_rows) // files_per_day))
        for start in range(0, len(day_rows), size):
            table = pa.Table.from_pylist(day_rows[start : start + size], schema=schema)
            pq.write_table(table, folder / f"{uuid.uuid4().hex}.parquet")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)
