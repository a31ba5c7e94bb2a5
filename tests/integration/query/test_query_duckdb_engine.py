"""The local engine reads the Parquet store as it is at each query, including files other processes wrote."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clickport.adapters.duckdb_engine import DuckDbQueryEngine
from clickport.adapters.parquet_sink import ParquetEventSink
from clickport.query.service import run_convenience, run_query
from tests.reference.storage import utc

NOW = utc(2026, 3, 31, 12)
BODY = {"metrics": ["visitors", "pageviews"], "date_range": {"start": "2026-03-01", "end": "2026-03-31"}}
ROOT = Path(__file__).resolve().parents[3]


def test_no_files_yet_answers_zeros(tmp_path, site, goals):
    engine = DuckDbQueryEngine(tmp_path / "never-written")
    assert engine.dialect == "duckdb"
    assert run_query(BODY, site=site, goals=goals, engine=engine, now=NOW).body["results"] == {"visitors": 0, "pageviews": 0}
    body = run_query({**BODY, "dimensions": ["page"]}, site=site, goals=goals, engine=engine, now=NOW).body
    assert body["results"] == [] and body["meta"]["total_rows"] == 0


def test_files_written_by_another_process_are_seen_by_the_next_query(data_dir, engine, site, goals):
    assert run_query(BODY, site=site, goals=goals, engine=engine, now=NOW).body["results"]["pageviews"] == 0
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(ROOT / "layers" / "common" / "python")!r}, {str(ROOT)!r}]
        from datetime import datetime, timezone
        from pathlib import Path
        from clickport.adapters.parquet_sink import ParquetEventSink
        row = dict(ts=datetime(2026, 3, 10, 9, tzinfo=timezone.utc), seq=1, type="pageview", path="/",
                   session_id=7, visitor_id=70)
        ParquetEventSink(Path({str(data_dir)!r})).write({site.site_id!r}, [row])
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert run_query(BODY, site=site, goals=goals, engine=engine, now=NOW).body["results"] == {"visitors": 1, "pageviews": 1}


def test_queries_agree_before_and_after_compaction(data_dir, engine, site, goals):
    sink = ParquetEventSink(data_dir)
    for i in range(5):
        sink.write(site.site_id, [dict(ts=utc(2026, 3, 10, 9, i), seq=1, type="pageview", path=f"/{i % 2}",
                                       session_id=i + 1, visitor_id=i + 1)])
    before = run_query({**BODY, "dimensions": ["page"]}, site=site, goals=goals, engine=engine, now=NOW).body
    assert sink.compact() == 1
    after = run_query({**BODY, "dimensions": ["page"]}, site=site, goals=goals, engine=engine, now=NOW).body
    assert before == after and before["meta"]["total_rows"] == 2


def test_convenience_endpoints_run_their_preset_query(store):
    store.add(utc(2026, 3, 10, 9), 1, path="/a", country="DE")
    store.add(utc(2026, 3, 10, 9, 5), 1, path="/b", country="DE")
    store.add(utc(2026, 3, 11, 9), 2, path="/a", country=None)
    run = dict(site=store.site, goals=store.goals, engine=store.engine, now=NOW)
    pages = run_convenience("pages", {"start_date": "2026-03-01", "end_date": "2026-03-31"}, **run).body
    assert pages["results"] == [
        {"page": "/a", "visitors": 2, "pageviews": 2, "avg_scroll": 0, "avg_duration": 150},
        {"page": "/b", "visitors": 1, "pageviews": 1, "avg_scroll": 0, "avg_duration": 300},
    ]
    countries = run_convenience("countries", {"start_date": "2026-03-01", "end_date": "2026-03-31"}, **run).body
    assert countries["results"] == [{"country": "(none)", "visitors": 1, "sessions": 1},
                                    {"country": "DE", "visitors": 1, "sessions": 1}]
    hours = run_convenience("timeseries", {"start_date": "2026-03-10", "end_date": "2026-03-11"}, **run).body
    assert len(hours["results"]) == 24 and hours["results"][9]["hour"] == "2026-03-10 09:00"
    assert hours["results"][9]["pageviews"] == 2 and list(hours["results"][9]) == [
        "hour", "visitors", "pageviews", "sessions", "bounce_rate", "avg_duration"]
    days = run_convenience("timeseries", {"start_date": "2026-03-10", "end_date": "2026-03-13"}, **run).body
    assert [r["date"] for r in days["results"]] == ["2026-03-10", "2026-03-11", "2026-03-12"]


def test_a_data_directory_with_glob_characters_in_its_path_still_works(tmp_path, site, goals):
    data_dir = tmp_path / "odd [dir]*"
    ParquetEventSink(data_dir).write(site.site_id, [dict(ts=utc(2026, 3, 10, 9), seq=1, type="pageview", path="/",
                                                         session_id=1, visitor_id=1)])
    engine = DuckDbQueryEngine(data_dir)
    assert run_query(BODY, site=site, goals=goals, engine=engine, now=NOW).body["results"] == {"visitors": 1, "pageviews": 1}


def test_a_query_reads_only_its_sites_partitions_in_its_dates(data_dir, engine, site, goals):
    from clickport.layout import partition_dir

    ParquetEventSink(data_dir).write(site.site_id, [dict(ts=utc(2026, 3, 10, 9), seq=1, type="pageview", path="/",
                                                         session_id=1, visitor_id=1)])
    # Not Parquet at all: reading either file would fail the query.
    for other_site, day in (("someone-else", "2026-03-10"), (site.site_id, "2026-05-01")):
        folder = partition_dir(data_dir, other_site, day)
        folder.mkdir(parents=True)
        (folder / "broken.parquet").write_bytes(b"not parquet")
    assert run_query(BODY, site=site, goals=goals, engine=engine, now=NOW).body["results"] == {"visitors": 1, "pageviews": 1}
    with pytest.raises(Exception):  # the same broken file, inside the dates read
        run_query({**BODY, "date_range": {"start": "2026-04-01", "end": "2026-05-02"}}, site=site, goals=goals,
                  engine=engine, now=utc(2026, 5, 3))
