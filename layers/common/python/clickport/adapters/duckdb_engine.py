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
FILE_PATTERN = "site_id=*/dt=*/*.parquet"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def empty_events_sql() -> str:
    """A typed, empty stand-in for the events table (no Parquet file exists yet)."""
    columns = [f"CAST(NULL AS {_DUCKDB_TYPES[c.type]}) AS {c.name}" for c in EVENT_COLUMNS]
    columns += [f"CAST(NULL AS VARCHAR) AS {c.name}" for c in PARTITION_COLUMNS]
    return "SELECT " + ", ".join(columns) + " WHERE FALSE"


def parquet_events_sql(source: str | list[str]) -> str:
    """The events of a glob pattern or a list of Parquet files, with the partition columns as VARCHAR."""
    hive_types = ", ".join(f"{_quote(c.name)}: 'VARCHAR'" for c in PARTITION_COLUMNS)
    files = _quote(source) if isinstance(source, str) else "[" + ", ".join(_quote(f) for f in source) + "]"
    return (
        f"SELECT * FROM read_parquet({files}, hive_partitioning = true, "
        f"hive_types = {{{hive_types}}}, union_by_name = true)"
    )


class DuckDbQueryEngine:
    """QueryEngine reading ``events/site_id=<site>/dt=<date>/*.parquet`` under ``data_dir``."""

    dialect = "duckdb"
    table = TABLE

    def __init__(self, data_dir: Path, *, threads: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.threads = threads

    def _source(self) -> str | list[str] | None:
        """What DuckDB reads: the glob of every event file (an explicit list when the path itself
        holds glob characters), or None when there is no file yet."""
        root = layout.events_root(self.data_dir)
        files = root.glob(FILE_PATTERN)
        if any(ch in str(root) for ch in "*?[]{}"):
            listed = sorted(str(p) for p in files if p.is_file())
            return listed or None
        return f"{root}/{FILE_PATTERN}" if next(files, None) is not None else None

    def execute(self, sql: str, *, cacheable: bool = False) -> list[tuple]:
        import duckdb

        with read_lock(self.data_dir):
            # NOTE: DuckDB expands the glob inside the read lock, as the store's reader contract asks.
            source = self._source()
            connection = duckdb.connect(":memory:")
            try:
                connection.execute("SET TimeZone = 'UTC'")
                if self.threads:
                    connection.execute(f"SET threads = {int(self.threads)}")
                events = parquet_events_sql(source) if source is not None else empty_events_sql()
                connection.execute(f"CREATE TEMP VIEW {TABLE} AS {events}")
                return connection.execute(sql).fetchall()
            finally:
                connection.close()
