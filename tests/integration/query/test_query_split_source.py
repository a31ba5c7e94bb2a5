"""Reading closed days from a compacted table and later days from the raw one (AWS compaction's watermark):
the answers equal reading one table, and the reference, whatever the watermark; a day is never read twice."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clickport.adapters.duckdb_engine import DuckDbQueryEngine, parquet_events_sql
from clickport.adapters.parquet_sink import ParquetEventSink
from clickport.ports import Site
from clickport.query.service import run_query
from clickport.query.sql import SplitSource
from clickport.schema import COLUMN_NAMES, PARTITION_COLUMNS
from tests.reference.profiles import query_settings
from tests.reference.query import reference_query
from tests.reference.storage import write_events
from tests.reference.strategies import GOALS, SITE, event_sets, first_event_date, requests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

GLUE_COLUMNS = ", ".join([*COLUMN_NAMES, *(c.name for c in PARTITION_COLUMNS)])
SITE_TEMPLATE = Site(SITE, "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc))


class SplitEngine:
    """DuckDB over two directories: ``raw`` (every day) and ``compacted`` (only days up to ``through``)."""

    dialect = "duckdb"

    def __init__(self, raw: Path, compacted: Path, through: str) -> None:
        self.raw, self.compacted, self.through = raw, compacted, through
        self.sql: list[str] = []

    def source(self, site_id: str) -> SplitSource:
        return SplitSource("events_raw", "events_compacted", self.through)

    def execute(self, sql, *, cacheable=False, scope=None):
        import duckdb

        self.sql.append(sql)
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            for name, root in (("events_raw", self.raw), ("events_compacted", self.compacted)):
                files = sorted(str(p) for p in (root / "events").glob("site_id=*/dt=*/*.parquet"))
                # The columns of the Glue table (the local sink's day files also carry page ids).
                con.execute(f"CREATE VIEW {name} AS SELECT {GLUE_COLUMNS} FROM ({parquet_events_sql(files)})")
            return con.execute(sql).fetchall()


@query_settings(examples=20)
@given(generated=event_sets(), data=st.data(), time_dimension=st.booleans())
def test_a_split_at_any_day_answers_as_one_table_does(generated, data, time_dimension):
    anchor, events = generated
    days = sorted({e["ts"].astimezone(timezone.utc).date().isoformat() for e in events})
    if not days:
        return
    through = data.draw(st.sampled_from(days))
    with tempfile.TemporaryDirectory() as folder:
        raw, compacted = Path(folder) / "raw", Path(folder) / "compacted"
        by_site: dict[str, list[dict]] = {}
        for event in events:
            by_site.setdefault(event["site_id"], []).append({k: v for k, v in event.items() if k != "site_id"})
        for site_id, rows in by_site.items():
            write_events(raw, site_id, rows, files_per_day=2)
        shutil.copytree(raw, compacted)
        for partition in (compacted / "events").glob("site_id=*/dt=*"):
            if partition.name.removeprefix("dt=") > through:
                shutil.rmtree(partition)
        ParquetEventSink(compacted, today=lambda: "2999-01-01").compact()

        first = first_event_date(events)
        site = replace(SITE_TEMPLATE, first_event_date=first)
        split, single = SplitEngine(raw, compacted, through), DuckDbQueryEngine(raw)
        for _ in range(2):
            body, now = data.draw(requests(anchor, GOALS, time_dimension=time_dimension))
            got = run_query(body, site=site, goals=list(GOALS), engine=split, now=now).body
            one = run_query(body, site=site, goals=list(GOALS), engine=single, now=now).body
            want = reference_query(events, body, site_id=SITE, first_event_date=first, goals=list(GOALS), now=now)
            assert json.dumps(got, ensure_ascii=False) == json.dumps(one, ensure_ascii=False), (body, now, through)
            assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False), (body, now, through)


def test_each_side_names_its_site_and_days_and_a_range_on_one_side_reads_one_table():
    from clickport.query.sql import _source

    both = _source(SplitSource("db.raw", "db.compacted", "2026-03-10"), "s1", "2026-03-08", "2026-03-12").sql("athena")
    assert '"compacted"' in both and '"raw"' in both and "UNION ALL" in both
    assert "BETWEEN '2026-03-08' AND '2026-03-10'" in both and "BETWEEN '2026-03-11' AND '2026-03-12'" in both
    assert both.count("site_id = 's1'") == 2
    old = _source(SplitSource("db.raw", "db.compacted", "2026-03-10"), "s1", "2026-03-01", "2026-03-10").sql("athena")
    assert "raw" not in old and "UNION" not in old
    new = _source(SplitSource("db.raw", "db.compacted", "2026-03-10"), "s1", "2026-03-11", "2026-03-20").sql("athena")
    assert "compacted" not in new and "UNION" not in new
