"""Shared helpers for the event sink tests: complete event rows and reading a Parquet tree."""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import count
from pathlib import Path
from typing import Any, Callable

import pytest

from clickport.schema import COLUMN_NAMES

_seq = count(1)


def event_row(ts: Any, **overrides: Any) -> dict[str, Any]:
    """A complete event row; ``seq`` is unique per process unless given."""
    row: dict[str, Any] = {name: None for name in COLUMN_NAMES}
    row.update(
        ts=ts,
        seq=next(_seq),
        type="pageview",
        hostname="example.com",
        path="/pricing",
        session_id=123456789,
        visitor_id=987654321,
        page_visit_id="0123456789abcdef",
        country="DE",
        device="Desktop",
        scroll=40,
        engaged_ms=1500,
        meta_keys=["plan"],
        meta_values=["pro"],
    )
    row.update(overrides)
    return row


@pytest.fixture
def make_row() -> Callable[..., dict[str, Any]]:
    return event_row


@pytest.fixture
def noon() -> datetime:
    return datetime(2026, 3, 14, 12, 0, 0, tzinfo=timezone.utc)


def duckdb_rows(data_dir: Path, columns: str = "*", order_by: str | None = None) -> list[tuple]:
    """All events under ``data_dir`` via DuckDB's hive-partitioned glob (how the local engine reads)."""
    import duckdb

    glob = str(Path(data_dir) / "events" / "**" / "*.parquet")
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning=true,"
            " hive_types={'site_id': VARCHAR, 'dt': VARCHAR})"
            + (f" ORDER BY {order_by}" if order_by else "")
        ).fetchall()


@pytest.fixture
def read_all() -> Callable[..., list[tuple]]:
    return duckdb_rows
