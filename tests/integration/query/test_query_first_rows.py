"""First-row counts over session slots (compaction.first_rows, query/sql_slots.first_rows_eligible): sessions
and visitors per hour or date bucket counted as rows that are the first counted row of their session
(visitor) in the bucket, from the previous counted row's time written at compaction (looking back to the
start of the previous UTC day). They must equal the event plans and the spec §3.8 reference: DST days
(Berlin, New York), Kolkata's half-hour offset, sessions across UTC midnight, visitors across days, a
previous row more than a day back, comparisons, filters; and the plan must fall back to distinct counts
where a day read has no valid first-row columns (a changed previous day, imported rows outside their
partition's day, unpublished events)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given
from hypothesis import strategies as st

from clickport.adapters import compaction, slot_files
from clickport.adapters.parquet_sink import ParquetEventSink
from clickport.query.service import plan_query, run_query
from clickport.query.sql_slots import first_rows_eligible
from clickport.schema import arrow_schema
from tests.integration.query.test_query_session_slots import (
    OPERATORS,
    PATTERNS,
    SITE,
    SITE_TEMPLATE,
    STAMPED,
    VALUES,
    RecordingEngine,
    _json,
    _session,
    _store,
)
from tests.reference.profiles import query_settings
from tests.reference.query import reference_query
from tests.reference.storage import event_row
from tests.reference.strategies import GOALS, ZONES, event_sets, first_event_date

FIRST_ROW_METRICS = ("visitors", "sessions", "pageviews", "views_per_visit", "clickers", "events")


@st.composite
def first_row_requests(draw, anchor: datetime):
    """Time series by date or hour over whole local days (every edge on a slot boundary)."""
    start = (anchor + timedelta(days=draw(st.integers(-4, 2)))).date()
    body: dict = {
        "metrics": draw(st.lists(st.sampled_from(FIRST_ROW_METRICS), min_size=1, max_size=4, unique=True)),
        "date_range": {"start": start.isoformat(), "end": (start + timedelta(days=draw(st.integers(1, 4)))).isoformat()},
        "timezone": draw(st.sampled_from(ZONES + ("Asia/Kathmandu", "Australia/Lord_Howe"))),
    }
    dimensions = [draw(st.sampled_from(("date", "hour")))]
    if draw(st.integers(0, 3)) == 0:
        dimensions.append(draw(st.sampled_from(STAMPED)))
    body["dimensions"] = dimensions
    if draw(st.integers(0, 3)) == 0:
        operator = draw(st.sampled_from(OPERATORS))
        pool = PATTERNS if operator.endswith("matches") else VALUES
        body["filters"] = [{"dimension": draw(st.sampled_from(STAMPED)), "operator": operator,
                            "value": draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))}]
    if draw(st.booleans()):
        body["include_comparison"] = True
    return body


def _check(events, data_dir: Path, body: dict, now: datetime, *, first_rows: bool | None) -> None:
    first = first_event_date(events)
    site = replace(SITE_TEMPLATE, first_event_date=first)
    engine, without = RecordingEngine(data_dir), RecordingEngine(data_dir, slots=False)
    got = run_query(body, site=site, goals=list(GOALS), engine=engine, now=now).body
    raw = run_query(body, site=site, goals=list(GOALS), engine=without, now=now).body
    want = reference_query(events, body, site_id=SITE, first_event_date=first, goals=list(GOALS), now=now)
    assert _json(got) == _json(raw), body
    assert _json(got) == _json(want), body
    if first_rows is not None:
        assert engine.first_row_statements == int(first_rows), body


@query_settings(examples=60)
@given(generated=event_sets(), data=st.data())
def test_first_row_counts_equal_event_plans_and_the_reference(generated, data):
    anchor, events = generated
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        today = (anchor + timedelta(days=6)).date().isoformat()  # every day of the events closed
        ParquetEventSink(data_dir, today=lambda: today).compact()
        now = anchor + timedelta(days=8)
        site = replace(SITE_TEMPLATE, first_event_date=first_event_date(events))
        for _ in range(3):
            body = data.draw(first_row_requests(anchor))
            eligible = first_rows_eligible(plan_query(body, site=site, goals=list(GOALS), now=now))
            _check(events, data_dir, body, now, first_rows=eligible)


def _day(events: list[dict], data_dir: Path) -> None:
    _store(data_dir, [{**e, "site_id": SITE} for e in events])


def test_previous_rows_more_than_a_day_back_and_across_utc_midnight():
    """A session whose previous counted event is 50 hours back (two UTC days), sessions across UTC midnight (inside one local
    day east and west of UTC) and a visitor with sessions on three days."""
    base = datetime(2026, 3, 28, 23, 40, tzinfo=timezone.utc)  # the night before Berlin's 23-hour day
    events = _session(1, base, [(0, "pageview"), (30, "click"), (50 * 60, "pageview"), (5, "engagement")])
    events += _session(2, base - timedelta(hours=5), [(0, "custom"), (300, "pageview"), (10, "pageview")])
    events += [{**e, "visitor_id": 77} for e in _session(3, base - timedelta(days=1), [(0, "pageview")])]
    events += [{**e, "visitor_id": 77} for e in _session(4, base + timedelta(minutes=25), [(0, "pageview"), (1, "form")])]
    events += [{**e, "visitor_id": 77} for e in _session(5, base + timedelta(days=1, hours=2), [(0, "engagement"), (0, "pageview")])]
    events = [{**e, "site_id": SITE} for e in events]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        ParquetEventSink(data_dir, today=lambda: "2026-04-05").compact()
        now = datetime(2026, 4, 6, tzinfo=timezone.utc)
        for zone in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"):
            for unit in ("date", "hour"):
                for metrics in (["visitors", "sessions", "pageviews"], ["sessions", "clickers", "events"]):
                    body = {"metrics": metrics, "dimensions": [unit], "timezone": zone,
                            "date_range": {"start": "2026-03-27", "end": "2026-04-01"}}
                    _check(events, data_dir, body, now, first_rows=True)
                    _check(events, data_dir, {**body, "include_comparison": True}, now, first_rows=True)


def test_rows_outside_their_partition_day_keep_distinct_counts():
    """Imported rows in a partition of another UTC day break what the first-row columns rely on: the slots
    are written without them (``-nofirst``) and the plan counts distinct sessions and visitors."""
    day = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    events = [{**e, "site_id": SITE} for e in _session(1, day, [(0, "pageview"), (20, "pageview")])]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        stray = _session(2, day + timedelta(days=1), [(0, "pageview"), (1, "click")])  # 03-11, filed under 03-10
        partition = data_dir / "events" / f"site_id={SITE}" / "dt=2026-03-10"
        pq.write_table(pa.Table.from_pylist(stray, schema=arrow_schema()), partition / "import-stray.parquet")
        ParquetEventSink(data_dir, today=lambda: "2026-03-20").compact()
        names = sorted(p.name for p in partition.glob("*.parquet"))
        rollup = slot_files.rolled_up(data_dir, SITE, "2026-03-10", names, [])
        assert rollup is not None and not rollup.first_rows and rollup.path.name.endswith("-nofirst.parquet")
        body = {"metrics": ["visitors", "sessions", "pageviews"], "dimensions": ["date"],
                "date_range": {"start": "2026-03-09", "end": "2026-03-13"}}
        all_events = events + [{**e, "site_id": SITE} for e in stray]
        _check(all_events, data_dir, body, datetime(2026, 3, 20, tzinfo=timezone.utc), first_rows=False)


def test_a_changed_previous_day_makes_the_next_days_slots_stale_until_the_next_pass():
    first_day = datetime(2026, 3, 9, 23, 50, tzinfo=timezone.utc)
    events = [{**e, "site_id": SITE} for e in _session(1, first_day, [(0, "pageview"), (20, "pageview")])]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        sink = ParquetEventSink(data_dir, today=lambda: "2026-03-20")
        sink.compact()
        body = {"metrics": ["visitors", "sessions"], "dimensions": ["date"], "timezone": "Europe/Berlin",
                "date_range": {"start": "2026-03-09", "end": "2026-03-12"}}
        now = datetime(2026, 3, 20, tzinfo=timezone.utc)
        _check(events, data_dir, body, now, first_rows=True)
        # A late file of 03-09 whose session goes on into 03-10 (the Berlin day of both).
        late = _session(2, first_day + timedelta(minutes=1), [(0, "pageview")])
        previous = data_dir / "events" / f"site_id={SITE}" / "dt=2026-03-09"
        pq.write_table(pa.Table.from_pylist(late, schema=arrow_schema()), previous / "late.parquet")
        later = _session(2, first_day + timedelta(minutes=15), [(0, "pageview")])
        day = data_dir / "events" / f"site_id={SITE}" / "dt=2026-03-10"
        names = sorted(p.name for p in day.glob("*.parquet"))
        assert slot_files.rolled_up(data_dir, SITE, "2026-03-10", names,
                                    sorted(p.name for p in previous.glob("*.parquet"))) is None
        events = events + [{**e, "site_id": SITE} for e in late]
        _check(events, data_dir, body, now, first_rows=False)
        pq.write_table(pa.Table.from_pylist(later, schema=arrow_schema()), day / "late.parquet")
        events = events + [{**e, "site_id": SITE} for e in later]
        _check(events, data_dir, body, now, first_rows=False)
        sink.compact()  # 03-09 then 03-10 rewritten, their slots and first rows against the new files
        _check(events, data_dir, body, now, first_rows=True)


def test_unpublished_events_keep_distinct_counts():
    from clickport.adapters.event_journal import JournalWriter

    day = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    events = [{**e, "site_id": SITE} for e in _session(1, day, [(0, "pageview"), (20, "pageview")])]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        ParquetEventSink(data_dir, today=lambda: "2026-03-20").compact()
        tail = _session(1, day + timedelta(minutes=40), [(0, "pageview")])
        JournalWriter(data_dir).write(SITE, tail)
        body = {"metrics": ["visitors", "sessions", "pageviews"], "dimensions": ["hour"],
                "date_range": {"start": "2026-03-10", "end": "2026-03-11"}}
        _check(events + [{**e, "site_id": SITE} for e in tail], data_dir, body,
               datetime(2026, 3, 20, tzinfo=timezone.utc), first_rows=False)


def test_first_rows_of_a_day_look_back_through_the_previous_day():
    d = datetime(2026, 3, 10, tzinfo=timezone.utc)
    previous = [event_row(ts=d - timedelta(hours=2), seq=1, type="pageview", session_id=1, visitor_id=9),
                event_row(ts=d - timedelta(hours=1), seq=1, type="engagement", session_id=2, visitor_id=9),
                event_row(ts=d - timedelta(hours=30), seq=1, type="pageview", session_id=3, visitor_id=8)]
    today = [event_row(ts=d + timedelta(minutes=5), seq=2, type="pageview", session_id=1, visitor_id=9),
             event_row(ts=d + timedelta(minutes=6), seq=2, type="pageview", session_id=2, visitor_id=9),
             event_row(ts=d + timedelta(minutes=40), seq=3, type="engagement", session_id=1, visitor_id=9),
             event_row(ts=d + timedelta(minutes=50), seq=4, type="click", session_id=1, visitor_id=9)]
    slots = compaction.session_slots([pa.Table.from_pylist(today, schema=arrow_schema())])
    table = compaction.first_rows(slots, "2026-03-10", [pa.Table.from_pylist(previous[:2], schema=arrow_schema())])
    got = [(r["session_id"], r["ts"].minute, r["prev_session_ts"], r["prev_visitor_ts"]) for r in table.to_pylist()]
    two_before = d - timedelta(hours=2)
    assert got == [
        (1, 5, two_before, two_before),  # the pageview of 22:00 the day before (the engagement is not counted)
        (2, 6, None, d + timedelta(minutes=5)),
        (1, 40, None, None),  # an engagement slot: no counted event, no first-row values
        (1, 50, d + timedelta(minutes=5), d + timedelta(minutes=6)),
    ]
    # A previous day's file holding an event of another day: no first-row columns.
    assert compaction.first_rows(slots, "2026-03-10", [pa.Table.from_pylist(previous, schema=arrow_schema())]) is None


def test_an_empty_range_is_not_counted_in_first_rows():
    site = replace(SITE_TEMPLATE, first_event_date=datetime(2026, 3, 1, tzinfo=timezone.utc).date())
    midnight = datetime(2026, 3, 29, tzinfo=timezone.utc)
    body = {"metrics": ["visitors"], "dimensions": ["hour"], "timezone": "UTC", "period": "today"}
    assert not first_rows_eligible(plan_query(body, site=site, goals=[], now=midnight))  # [00:00, 00:00)
    assert first_rows_eligible(plan_query({**body, "period": "yesterday"}, site=site, goals=[], now=midnight))
