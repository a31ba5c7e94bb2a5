"""A closed day's Parquet layout: the same rows, in (ts, seq) order, zstd, ts delta-encoded, dictionaries elsewhere."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from clickport.adapters.day_layout import write_day
from clickport.schema import COLUMN_NAMES, arrow_schema


def _rows(count: int) -> list[dict]:
    start = datetime(2026, 3, 10, tzinfo=timezone.utc)
    rows = []
    for i in range(count):
        row = {name: None for name in COLUMN_NAMES}
        # Out of order on purpose, with ts ties broken by seq.
        row.update(ts=start + timedelta(seconds=(i * 7919) % count), seq=1 + i % 3, type="pageview",
                   path=f"/p{i % 11}", session_id=1 + i % 97, visitor_id=1 + i % 89)
        rows.append(row)
    return rows


def test_a_day_is_written_in_time_order_with_delta_encoded_times(tmp_path):
    table = pa.Table.from_pylist(_rows(5000), schema=arrow_schema())
    path = tmp_path / "day.parquet"
    write_day(table, path)
    written = pq.read_table(path)
    assert written.num_rows == table.num_rows
    assert written.to_pylist() == sorted(table.to_pylist(), key=lambda r: (r["ts"], r["seq"]))
    metadata = pq.ParquetFile(path).metadata
    columns = {metadata.schema.column(i).path: metadata.row_group(0).column(i) for i in range(metadata.num_columns)}
    assert "DELTA_BINARY_PACKED" in columns["ts"].encodings
    assert "RLE_DICTIONARY" in columns["path"].encodings
    assert columns["ts"].compression == "ZSTD" and columns["ts"].statistics.has_min_max
