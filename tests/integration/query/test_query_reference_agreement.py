"""The DuckDB query path agrees exactly with the pure-Python reference of spec §3.8 on generated event sets."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clickport.adapters.duckdb_engine import DuckDbQueryEngine
from clickport.ports import Site
from clickport.query.service import run_query
from tests.reference.query import reference_query
from tests.reference.profiles import query_settings
from tests.reference.storage import write_events
from tests.reference.strategies import GOALS, SITE, event_sets, first_event_date, requests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


SITE_TEMPLATE = Site(SITE, "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc))


def _compare(events, anchor, data, *, time_dimension=None, runs=3):
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        by_site: dict[str, list[dict]] = {}
        for event in events:
            row = {k: v for k, v in event.items() if k != "site_id"}
            by_site.setdefault(event["site_id"], []).append(row)
        for site_id, rows in by_site.items():
            write_events(data_dir, site_id, rows, files_per_day=2)
        engine = DuckDbQueryEngine(data_dir)
        first = first_event_date(events)
        site = replace(SITE_TEMPLATE, first_event_date=first)
        for _ in range(runs):
            body, now = data.draw(requests(anchor, GOALS, time_dimension=time_dimension))
            got = run_query(body, site=site, goals=list(GOALS), engine=engine, now=now).body
            want = reference_query(events, body, site_id=SITE, first_event_date=first, goals=list(GOALS), now=now)
            assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False), (body, now)


@query_settings(examples=30)
@given(generated=event_sets(), data=st.data())
def test_breakdowns_and_aggregates_agree_with_reference(generated, data):
    anchor, events = generated
    _compare(events, anchor, data, time_dimension=False)


@query_settings(examples=25)
@given(generated=event_sets(), data=st.data())
def test_time_dimensions_agree_with_reference(generated, data):
    anchor, events = generated
    _compare(events, anchor, data, time_dimension=True)


@pytest.mark.slow
@query_settings(examples=8)
@given(generated=event_sets(), data=st.data())
def test_any_request_agrees_with_reference(generated, data):
    """The long profile's workhorse (make test-long): any request shape, many event sets."""
    anchor, events = generated
    _compare(events, anchor, data, time_dimension=None, runs=5)
