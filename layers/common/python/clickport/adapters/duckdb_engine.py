"""Local QueryEngine: DuckDB over the Parquet event files under the data directory.

Each query lists the files anew (inside the event store's read lock), so files other
processes wrote are seen at once; with no files yet, the same columns read as empty.
"""

from __future__ import annotations

from pathlib import Path

from clickport import layout
from clickport.adapters.parquet_sink import read_lock
from clickport.schema import EVENT_COLUMNS, PARTITION_COLUMNS

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "timestamp": "TIMESTAMPTZ",
    "array<string>": "VARCHAR[]",
}
TABLE = "events"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def empty_events_sql() -> str:
    """A typed, empty stand-in for the events table (no Parquet file exists yet)."""
    columns = [f"CAST(NULL AS {_DUCKDB_TYPES[c.type]}) AS {c.name}" for c in EVENT_COLUMNS]
    columns += [f"CAST(NULL AS VARCHAR) AS {c.name}" for c in PARTITION_COLUMNS]
    return "SELECT " + ", ".join(columns) + " WHERE FALSE"


def parquet_events_sql(files: list[str]) -> str:
    hive_types = ", ".join(f"{_quote(c.name)}: 'VARCHAR'" for c in PARTITION_COLUMNS)
    listed = ", ".join(_quote(f) for f in files)
    return (
        f"SELECT * FROM read_parquet([{listed}], hive_partitioning = true, "
        f"hive_types = {{{hive_types}}}, union_by_name = true)"
    )


class DuckDbQueryEngine:
    """QueryEngine reading ``events/site_id=<site>/dt=<date>/*.parquet`` under ``data_dir``."""

    dialect = "duckdb"
    table = TABLE

    def __init__(self, data_dir: Path, *, threads: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.threads = threads

    def _files(self) -> list[str]:
        root = layout.events_root(self.data_dir)
        return sorted(str(p) for p in root.glob("site_id=*/dt=*/*.parquet") if p.is_file())

    def execute(self, sql: str, *, cacheable: bool = False) -> list[tuple]:
        import duckdb

        with read_lock(self.data_dir):
            files = self._files()
            connection = duckdb.connect(":memory:")
            try:
                connection.execute("SET TimeZone = 'UTC'")
                if self.threads:
                    connection.execute(f"SET threads = {int(self.threads)}")
                source = parquet_events_sql(files) if files else empty_events_sql()
                connection.execute(f"CREATE TEMP VIEW {TABLE} AS {source}")
                return connection.execute(sql).fetchall()
            finally:
                connection.close()
