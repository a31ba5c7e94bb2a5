"""Queries answer the same, and equal the spec §3.8 reference, before and after closed days are compacted
into the day layout (every partition rewritten: all its days are closed for the sink below)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clickport.adapters import compaction
from clickport.adapters.duckdb_engine import DuckDbQueryEngine
from clickport.adapters.parquet_sink import ParquetEventSink
from clickport.ports import Site
from clickport.query.service import run_query
from tests.reference.profiles import query_settings
from tests.reference.query import reference_query
from tests.reference.storage import write_events
from tests.reference.strategies import GOALS, SITE, event_sets, first_event_date, requests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SITE_TEMPLATE = Site(SITE, "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc))


@query_settings(examples=20)
@given(generated=event_sets(), data=st.data(), time_dimension=st.booleans())
def test_queries_are_equal_before_and_after_day_compaction(generated, data, time_dimension):
    anchor, events = generated
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        by_site: dict[str, list[dict]] = {}
        for event in events:
            by_site.setdefault(event["site_id"], []).append({k: v for k, v in event.items() if k != "site_id"})
        for site_id, rows in by_site.items():
            write_events(data_dir, site_id, rows, files_per_day=3)
        engine = DuckDbQueryEngine(data_dir)
        first = first_event_date(events)
        site = replace(SITE_TEMPLATE, first_event_date=first)
        asked = [data.draw(requests(anchor, GOALS, time_dimension=time_dimension)) for _ in range(3)]
        before = [run_query(body, site=site, goals=list(GOALS), engine=engine, now=now).body for body, now in asked]

        sink = ParquetEventSink(data_dir, today=lambda: "2999-01-01")
        partitions = len(list((data_dir / "events").glob("site_id=*/dt=*")))
        assert sink.compact() == partitions
        assert all(compaction.is_day_file(p.name) for p in (data_dir / "events").glob("*/*/*.parquet"))

        for (body, now), earlier in zip(asked, before):
            got = run_query(body, site=site, goals=list(GOALS), engine=engine, now=now).body
            want = reference_query(events, body, site_id=SITE, first_event_date=first, goals=list(GOALS), now=now)
            assert json.dumps(got, ensure_ascii=False) == json.dumps(earlier, ensure_ascii=False), (body, now)
            assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False), (body, now)
