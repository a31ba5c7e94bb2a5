"""Plans over session slots (query/sql_slots.py) answer exactly as the events do and as the spec §3.8
reference: closed days compacted with their session slots, later days still raw, ranges and comparisons
with edges on and off slot boundaries, DST days (Berlin, New York), Kolkata's half-hour offset,
sessions across midnight and across the compaction boundary (tests/reference/strategies.py)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clickport.adapters import compaction, slot_files
from clickport.adapters.duckdb_engine import DuckDbQueryEngine
from clickport.adapters.parquet_sink import ParquetEventSink
from clickport.ports import Site
from clickport.query.service import plan_query, run_query
from clickport.query.sql_slots import slots_eligible
from clickport.schema import arrow_schema
from tests.reference.profiles import query_settings
from tests.reference.query import reference_query
from tests.reference.storage import event_row, write_events
from tests.reference.strategies import GOALS, OPERATORS, PATTERNS, SITE, VALUES, event_sets, first_event_date, requests


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SITE_TEMPLATE = Site(SITE, "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc))
STAMPED = ("source", "channel", "country", "device", "browser", "utm_campaign", "referrer_url", "city", "utm_term")
SESSION_METRICS = ("visitors", "sessions", "pageviews", "views_per_visit", "bounce_rate", "avg_duration", "clickers", "events")
TIME_METRICS = ("visitors", "sessions", "pageviews", "views_per_visit", "clickers", "events")
TIME_DIMENSIONS = ("hour", "date", "week", "month")


class RecordingEngine(DuckDbQueryEngine):
    """The local engine, remembering whether each statement read session slots."""

    def __init__(self, data_dir: Path, *, slots: bool = True, first_rows: bool = True) -> None:
        super().__init__(data_dir)
        self.session_slots = slots
        self.first_rows = first_rows
        self.slot_statements = 0
        self.first_row_statements = 0

    def execute(self, sql, *, cacheable=False, scope=None, slots=False, first_rows=None, lone=None):
        self.slot_statements += bool(slots)
        if first_rows is not None and not self.first_rows:
            sql, first_rows = first_rows.fallback_sql(), None
        return super().execute(sql, cacheable=cacheable, scope=scope, slots=slots, first_rows=first_rows, lone=lone)

    def _slot_views(self, scope, tail=None, first_rows=None, lone=None):
        bound = super()._slot_views(scope, tail, first_rows, lone)
        self.first_row_statements += bound.first_rows_sql is not None
        return bound


@st.composite
def slot_requests(draw, anchor: datetime):
    """Requests whose plans merge over session slots: any period, range, zone and comparison."""
    body, now = draw(requests(anchor, GOALS, time_dimension=False))
    timed = draw(st.booleans())
    body["metrics"] = draw(st.lists(st.sampled_from(TIME_METRICS if timed else SESSION_METRICS), min_size=1, max_size=5, unique=True))
    dimensions = draw(st.lists(st.sampled_from(STAMPED), max_size=2, unique=True))
    if timed:
        dimensions.insert(draw(st.integers(0, len(dimensions))), draw(st.sampled_from(TIME_DIMENSIONS)))
    body.pop("dimensions", None)
    if dimensions or draw(st.booleans()):
        body["dimensions"] = dimensions
    body["filters"] = []
    for _ in range(draw(st.integers(0, 2))):
        operator = draw(st.sampled_from(OPERATORS))
        pool = PATTERNS if operator.endswith("matches") else VALUES
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        body["filters"].append({"dimension": draw(st.sampled_from(STAMPED)), "operator": operator, "value": values})
    body.pop("order_by", None)
    if draw(st.booleans()):
        body["order_by"] = draw(st.sampled_from(body["metrics"] + dimensions))
    return body, now


def _store(data_dir: Path, events: list[dict]) -> None:
    by_site: dict[str, list[dict]] = {}
    for event in events:
        by_site.setdefault(event["site_id"], []).append({k: v for k, v in event.items() if k != "site_id"})
    for site_id, rows in by_site.items():
        write_events(data_dir, site_id, rows, files_per_day=2)


def _json(body) -> str:
    return json.dumps(body, ensure_ascii=False)


@query_settings(examples=40)
@given(generated=event_sets(), data=st.data(), closed_days=st.integers(-3, 4))
def test_slot_plans_equal_event_plans_and_the_reference(generated, data, closed_days):
    anchor, events = generated
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        # Days before ``today`` are closed: compacted into day files with their session slots.
        today = (anchor + timedelta(days=closed_days)).date().isoformat()
        ParquetEventSink(data_dir, today=lambda: today).compact()
        first = first_event_date(events)
        site = replace(SITE_TEMPLATE, first_event_date=first)
        with_slots, without = RecordingEngine(data_dir), RecordingEngine(data_dir, slots=False)
        for _ in range(3):
            body, now = data.draw(slot_requests(anchor))
            assert slots_eligible(plan_query(body, site=site, goals=list(GOALS), now=now)), body
            before = with_slots.slot_statements
            got = run_query(body, site=site, goals=list(GOALS), engine=with_slots, now=now).body
            assert with_slots.slot_statements == before + 1
            raw = run_query(body, site=site, goals=list(GOALS), engine=without, now=now).body
            want = reference_query(events, body, site_id=SITE, first_event_date=first, goals=list(GOALS), now=now)
            assert _json(got) == _json(raw), (body, now, today)
            assert _json(got) == _json(want), (body, now, today)
        assert without.slot_statements == 0


def _session(session_id: int, start: datetime, steps: list[tuple[int, str]], **attributes) -> list[dict]:
    rows, ts = [], start
    for seq, (minutes, kind) in enumerate(steps, start=1):
        ts = ts + timedelta(minutes=minutes)
        rows.append(event_row(ts=ts, seq=seq, type=kind, session_id=session_id, visitor_id=session_id * 10,
                              page_visit_id=f"{session_id:016x}", path="/", **attributes))
    return rows


def test_session_slots_hold_each_slot_of_each_session():
    day = datetime(2026, 3, 29, 0, 0, tzinfo=timezone.utc)
    rows = _session(1, day, [(5, "pageview"), (3, "engagement"), (9, "click"), (0, "pageview")], country="DE")
    rows += _session(2, day, [(14, "engagement"), (0, "custom")], country=None)
    table = pa.Table.from_pylist(rows, schema=arrow_schema())
    slots = compaction.session_slots([table.slice(0, 3), table.slice(3)]).to_pylist()
    got = [(s["session_id"], s["ts"].minute, s["last_ts"].minute, s["counted"], s["pageviews"], s["clicks"], s["country"])
           for s in slots]
    # Session 1: 00:05 and 00:08 in the first slot; 00:17 twice in the second. Session 2: both at 00:14.
    assert got == [(1, 5, 8, 1, 1, 0, "DE"), (2, 14, 14, 1, 0, 0, None), (1, 17, 17, 2, 1, 1, "DE")]
    assert {s["visitor_id"] for s in slots if s["session_id"] == 2} == {20}


def test_a_file_added_to_a_rolled_up_day_is_read_from_events_until_compacted_again():
    day = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    events = [{**e, "site_id": SITE} for e in _session(1, day, [(0, "pageview"), (20, "pageview")])]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        sink = ParquetEventSink(data_dir, today=lambda: "2026-03-20")
        sink.compact()
        partition = data_dir / "events" / f"site_id={SITE}" / "dt=2026-03-10"
        names = sorted(p.name for p in partition.glob("*.parquet"))
        assert slot_files.rolled_up(data_dir, SITE, "2026-03-10", names, []) is not None
        body = {"metrics": ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration"],
                "date_range": {"start": "2026-03-10", "end": "2026-03-11"}}
        site = replace(SITE_TEMPLATE, first_event_date=day.date())
        now = datetime(2026, 3, 20, tzinfo=timezone.utc)
        engine = RecordingEngine(data_dir)
        assert run_query(body, site=site, goals=[], engine=engine, now=now).body["results"] == {
            "visitors": 1, "sessions": 1, "pageviews": 2, "bounce_rate": 0, "avg_duration": 1200}
        # A late file (an import) in the closed day: the slots no longer stand for the partition's files.
        late = _session(2, day, [(1, "pageview")])
        pq.write_table(pa.Table.from_pylist(late, schema=arrow_schema()), partition / "late.parquet")
        names = sorted(p.name for p in partition.glob("*.parquet"))
        assert slot_files.rolled_up(data_dir, SITE, "2026-03-10", names, []) is None
        want = {"visitors": 2, "sessions": 2, "pageviews": 3, "bounce_rate": 50, "avg_duration": 600}
        assert run_query(body, site=site, goals=[], engine=engine, now=now).body["results"] == want
        assert sink.compact() == 1
        names = sorted(p.name for p in partition.glob("*.parquet"))
        assert slot_files.rolled_up(data_dir, SITE, "2026-03-10", names, []) is not None
        assert len(list(slot_files.slots_dir(data_dir, SITE, "2026-03-10").glob("slots-*.parquet"))) == 1
        assert run_query(body, site=site, goals=[], engine=engine, now=now).body["results"] == want


def test_unpublished_events_of_a_rolled_up_day_are_read_with_its_events_not_its_slots():
    """The journal's tail (events acknowledged, not yet published) is read beside the files; a day it touches is
    read from its events, since its slots do not hold them."""
    from clickport.adapters.event_journal import EventJournal, JournalWriter

    day = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    events = [{**e, "site_id": SITE} for e in _session(1, day, [(0, "pageview"), (20, "pageview")])]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        ParquetEventSink(data_dir, today=lambda: "2026-03-20").compact()
        body = {"metrics": ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration"],
                "date_range": {"start": "2026-03-10", "end": "2026-03-11"}}
        site = replace(SITE_TEMPLATE, first_event_date=day.date())
        now = datetime(2026, 3, 20, tzinfo=timezone.utc)
        engine = RecordingEngine(data_dir)
        JournalWriter(data_dir).write(SITE, _session(2, day, [(1, "pageview")]))
        want = {"visitors": 2, "sessions": 2, "pageviews": 3, "bounce_rate": 50, "avg_duration": 600}
        assert run_query(body, site=site, goals=[], engine=engine, now=now).body["results"] == want
        assert not list((data_dir / "events").rglob("journal-*.parquet"))  # read, not published
        assert EventJournal(data_dir).flush() == 1
        assert run_query(body, site=site, goals=[], engine=engine, now=now).body["results"] == want


EDGE_SHIFTS = (timedelta(0), -timedelta(minutes=30), -timedelta(hours=1), -timedelta(days=1), -timedelta(days=2),
               -timedelta(days=7))


@st.composite
def events_at_edges(draw):
    """(now, events): sessions crowded around instants where ranges ending at ``now`` and their
    comparisons cut a slot (``now`` is rarely on a 15-minute boundary)."""
    now = datetime(2026, 3, 29, tzinfo=timezone.utc) + timedelta(
        minutes=draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)), seconds=draw(st.integers(0, 899)),
        milliseconds=draw(st.integers(0, 999)))
    events: list[dict] = []
    for session_id in range(1, draw(st.integers(1, 8)) + 1):
        ts = now + draw(st.sampled_from(EDGE_SHIFTS)) + timedelta(seconds=draw(st.integers(-1200, 1200)))
        visitor = draw(st.integers(1, 3))
        country = draw(st.sampled_from(("DE", "US", None)))
        for seq in range(1, draw(st.integers(1, 4)) + 1):
            kind = draw(st.sampled_from(("pageview", "pageview", "click", "custom", "engagement")))
            events.append({"site_id": SITE, "ts": ts, "seq": seq, "type": kind, "session_id": session_id,
                           "visitor_id": visitor, "page_visit_id": f"{session_id:016x}", "path": "/",
                           "country": country})
            ts = ts + timedelta(seconds=draw(st.integers(0, 600)), milliseconds=draw(st.integers(0, 999)))
    return now, events


@query_settings(examples=40)
@given(generated=events_at_edges(), data=st.data(), closed_days=st.integers(0, 2))
def test_ranges_cutting_slots_of_rolled_up_days_are_exact(generated, data, closed_days):
    now, events = generated
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        today = (now + timedelta(days=closed_days)).date().isoformat()
        ParquetEventSink(data_dir, today=lambda: today).compact()
        first = first_event_date(events)
        site = replace(SITE_TEMPLATE, first_event_date=first)
        with_slots, without = RecordingEngine(data_dir), RecordingEngine(data_dir, slots=False)
        for _ in range(3):
            body, _ = data.draw(slot_requests(now))
            body.pop("date_range", None)
            body["period"] = data.draw(st.sampled_from(("realtime", "24h", "today", "yesterday", "7d")))
            got = run_query(body, site=site, goals=[], engine=with_slots, now=now).body
            raw = run_query(body, site=site, goals=[], engine=without, now=now).body
            want = reference_query(events, body, site_id=SITE, first_event_date=first, goals=[], now=now)
            assert _json(got) == _json(raw), (body, now, today)
            assert _json(got) == _json(want), (body, now, today)


def test_the_plans_and_the_rollup_agree_on_the_slot():
    from clickport.query import sql_slots

    # Every UTC offset in use is a multiple of 15 minutes: the plans' slot must be the rollup's.
    assert sql_slots.SLOT_MS == compaction.SLOT_MS == 15 * 60 * 1000
    assert set(sql_slots.COUNTS) <= set(compaction.SLOT_COLUMN_NAMES)


def test_time_buckets_off_slot_boundaries_read_events():
    site = replace(SITE_TEMPLATE, first_event_date=datetime(1971, 1, 1, tzinfo=timezone.utc).date())
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    body = {"metrics": ["visitors"], "dimensions": ["date"], "date_range": {"start": "1971-06-01", "end": "1971-06-03"}}
    # Monrovia kept −0:44:30 until 1972: its local midnights cut 15-minute slots.
    assert not slots_eligible(plan_query({**body, "timezone": "Africa/Monrovia"}, site=site, goals=[], now=now))
    assert slots_eligible(plan_query({**body, "timezone": "Asia/Kathmandu"}, site=site, goals=[], now=now))
    aggregate = {"metrics": ["visitors"], "date_range": body["date_range"], "timezone": "Africa/Monrovia"}
    assert slots_eligible(plan_query(aggregate, site=site, goals=[], now=now))  # its edges are read from events
