"""``clickport export`` (spec §9): a site's stored events, as Parquet files in the event schema.

One file per UTC date, ``events-YYYY-MM-DD.parquet``, rows sorted by ``ts, seq``, the columns of
``schema.EVENT_COLUMNS`` (no ``site_id`` or ``dt``): what ``clickport import --format parquet`` reads back.
Each partition's files are listed and read inside ``read_lock`` (the store's reader contract), one date at
a time; each output file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from clickport import layout
from clickport.adapters.parquet_sink import check_site_id, read_lock
from clickport.schema import COLUMN_NAMES, arrow_schema

_PARTITION = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})$")


class ExportError(Exception):
    """The export cannot start (e.g. the folder already holds Parquet files)."""


@dataclass
class ExportSummary:
    rows: int = 0
    files: list[str] = field(default_factory=list)


def export_site(data_dir: Path, site_id: str, out_dir: Path, *, start: date | None = None,
                end: date | None = None, compression: str = "zstd") -> ExportSummary:
    """Write the site's events with ``start <= UTC date <= end`` (either open) to ``out_dir``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_site_id(site_id)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is not a folder")
    if out_dir.is_dir() and any(out_dir.glob("*.parquet")):
        raise ExportError(f"{out_dir} already holds .parquet files; export into a new or empty folder")
    layout.private_dir(out_dir)
    schema = arrow_schema()
    summary = ExportSummary()
    for day, partition in _partitions(data_dir, site_id, start, end):
        with read_lock(data_dir):
            files = sorted(p for p in partition.glob("*.parquet") if p.is_file())
            tables = [pq.ParquetFile(f).read().select(list(COLUMN_NAMES)).cast(schema) for f in files]
        if not tables:
            continue
        table = pa.concat_tables(tables).sort_by([("ts", "ascending"), ("seq", "ascending")])
        del tables
        if not table.num_rows:
            continue
        name = f"events-{day}.parquet"
        temp = out_dir / f".{name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
                pq.write_table(table, handle, compression=compression.upper())
            os.replace(temp, out_dir / name)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        summary.rows += table.num_rows
        summary.files.append(name)
    return summary


def _partitions(data_dir: Path, site_id: str, start: date | None, end: date | None) -> list[tuple[str, Path]]:
    site_dir = layout.events_root(data_dir) / f"site_id={site_id}"
    if not site_dir.is_dir():
        return []
    found = []
    for partition in site_dir.iterdir():
        match = _PARTITION.match(partition.name)
        if not match or not partition.is_dir():
            continue
        day = date.fromisoformat(match.group(1))
        if (start is None or day >= start) and (end is None or day <= end):
            found.append((match.group(1), partition))
    return sorted(found)
