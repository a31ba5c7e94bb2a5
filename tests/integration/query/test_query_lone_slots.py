"""Lone slot rows (query/sql_slots.LoneStatement): a slot row whose session has no other slot row in the
site's slots (``slots_in_day = 1`` and not among the spanning sessions computed at compaction) and no
event row in range is taken as its session's row without grouping. Session plans must equal the grouped
slot plan, the event plan and the spec §3.8 reference whatever the data holds: sessions across UTC
midnight, imported sessions that skip days, events added after compaction (a day read from events while
its slots are stale), unpublished events, and a spanning set that no longer covers the slots read."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from clickport.adapters import compaction, slot_files
from clickport.adapters.event_journal import JournalWriter
from clickport.adapters.parquet_sink import ParquetEventSink
from clickport.query.service import plan_query, run_query
from clickport.query.sql_slots import SPANNING_TABLE, lone_eligible
from tests.integration.query.test_query_session_slots import (
    SITE,
    SITE_TEMPLATE,
    RecordingEngine,
    _json,
    _session,
    _store,
    slot_requests,
)
from tests.reference.profiles import query_settings
from tests.reference.query import reference_query
from tests.reference.storage import write_events
from tests.reference.strategies import GOALS, event_sets, first_event_date

import pyarrow as pa


def day_of(instant: datetime) -> datetime:
    return instant.replace(hour=0, minute=0, second=0, microsecond=0)


class LoneEngine(RecordingEngine):
    """Counts the statements that took lone rows."""

    def __init__(self, data_dir: Path, **options) -> None:
        super().__init__(data_dir, **options)
        self.lone_statements = 0

    def _slot_views(self, scope, tail=None, first_rows=None, lone=None):
        bound = super()._slot_views(scope, tail, first_rows, lone)
        self.lone_statements += SPANNING_TABLE in bound.views
        return bound


def _check(events, data_dir: Path, body: dict, now: datetime, *, lone: bool | None = None) -> None:
    site = replace(SITE_TEMPLATE, first_event_date=first_event_date(events))
    engine, events_only = LoneEngine(data_dir), LoneEngine(data_dir, slots=False)
    got = run_query(body, site=site, goals=list(GOALS), engine=engine, now=now).body
    raw = run_query(body, site=site, goals=list(GOALS), engine=events_only, now=now).body
    want = reference_query(events, body, site_id=SITE, first_event_date=site.first_event_date, goals=list(GOALS), now=now)
    assert _json(got) == _json(raw), (body, now)
    assert _json(got) == _json(want), (body, now)
    if lone is not None:
        assert engine.lone_statements == int(lone), body


@st.composite
def session_requests(draw, anchor: datetime):
    """Slot-eligible requests without time dimensions (session plans)."""
    body, now = draw(slot_requests(anchor))
    body["dimensions"] = [d for d in body.get("dimensions", []) if d not in ("hour", "date", "week", "month")]
    if body.get("order_by") not in (None, *body["metrics"], *body["dimensions"]):
        del body["order_by"]
    return body, now


@query_settings(examples=40)
@given(generated=event_sets(), data=st.data(), closed_days=st.integers(-2, 4))
def test_lone_rows_equal_grouped_and_event_plans_and_the_reference(generated, data, closed_days):
    anchor, events = generated
    # Some sessions get an event on a far day (an import keeping ids), some events arrive after compaction,
    # one may stay unpublished.
    site_events = [i for i, e in enumerate(events) if e["site_id"] == SITE]
    far_copies = []
    for k, i in enumerate(site_events[: data.draw(st.integers(1, 3), label="far")]):
        # A session of one event (one slot row) and the same session on a later day.
        # On a closed day (before ``today``), so that it is in the slots.
        at = day_of(anchor + timedelta(days=closed_days)) - timedelta(minutes=data.draw(st.integers(1, 2 * 1440), label=f"at {i}"))
        single = {**events[i], "session_id": 10**12 + k, "type": "pageview", "ts": at}
        far = data.draw(st.integers(1, 2), label=f"far days {i}")
        events += [single, {**single, "ts": single["ts"] + timedelta(days=far), "seq": 99}]
        far_copies.append(len(events) - 1)
    late_copies = data.draw(st.sets(st.sampled_from(far_copies), max_size=len(far_copies)) if far_copies else st.just(set()))
    others = data.draw(st.sets(st.integers(0, len(events) - 1), max_size=3) if events else st.just(set()), label="late others")
    late = sorted(late_copies | others)
    unpublished = set(late[: data.draw(st.integers(0, 1), label="unpublished")])
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, [e for i, e in enumerate(events) if i not in late])
        today = (anchor + timedelta(days=closed_days)).date().isoformat()
        ParquetEventSink(data_dir, today=lambda: today).compact()
        strip = lambda e: {k: v for k, v in e.items() if k != "site_id"}  # noqa: E731
        write_events(data_dir, SITE, [strip(events[i]) for i in late if i not in unpublished and events[i]["site_id"] == SITE])
        tail = [strip(events[i]) for i in sorted(unpublished) if events[i]["site_id"] == SITE]
        if tail:
            JournalWriter(data_dir).write(SITE, tail)
        site = replace(SITE_TEMPLATE, first_event_date=first_event_date(events))
        whole = {"metrics": ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration"],
                 "timezone": data.draw(st.sampled_from(("UTC", "Europe/Berlin", "America/New_York")), label="zone"),
                 "date_range": {"start": (anchor - timedelta(days=6)).date().isoformat(),
                                "end": (anchor + timedelta(days=7)).date().isoformat()}}
        _check(events, data_dir, whole, anchor + timedelta(days=9))
        for _ in range(3):
            body, now = data.draw(session_requests(anchor))
            if data.draw(st.booleans(), label="later now"):
                now = anchor + timedelta(days=6, minutes=7)  # every range before it: all of its events count
            assert lone_eligible(plan_query(body, site=site, goals=list(GOALS), now=now)), body
            _check(events, data_dir, body, now)


def test_a_session_that_skips_days_and_one_across_midnight_are_grouped():
    day = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    events = _session(1, day, [(0, "pageview")])  # lone
    events += _session(2, day, [(0, "pageview")]) + [{**e, "seq": 5} for e in _session(2, day + timedelta(days=3), [(0, "pageview")])]
    events += _session(3, day.replace(hour=23, minute=50), [(0, "pageview"), (20, "pageview")])  # across UTC midnight
    events += _session(4, day, [(0, "pageview"), (40, "click")])  # two slots of one day
    events = [{**e, "site_id": SITE} for e in events]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        ParquetEventSink(data_dir, today=lambda: "2026-03-20").compact()
        spanning = slot_files.spanning_of(data_dir, SITE)
        assert spanning is not None
        import pyarrow.parquet as pq

        assert pq.read_table(spanning.path)["session_id"].to_pylist() == [2, 3]
        now = datetime(2026, 3, 25, tzinfo=timezone.utc)
        for zone in ("UTC", "Europe/Berlin", "America/New_York"):
            body = {"metrics": ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration"], "timezone": zone,
                    "date_range": {"start": "2026-03-09", "end": "2026-03-15"}}
            _check(events, data_dir, body, now, lone=True)
            _check(events, data_dir, {**body, "dimensions": ["source"], "include_comparison": True}, now, lone=True)


def test_a_session_continued_in_events_is_not_lone():
    """A session with one slot row on a closed day and events today (not compacted) or in a file added to
    another closed day after compaction: its slot row is not its only row in range."""
    day = datetime(2026, 3, 18, 23, 50, tzinfo=timezone.utc)
    events = [{**e, "site_id": SITE} for e in _session(1, day, [(0, "pageview"), (20, "pageview")])]  # into 03-19
    events += [{**e, "site_id": SITE} for e in _session(2, day - timedelta(days=2), [(0, "pageview")])]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        ParquetEventSink(data_dir, today=lambda: "2026-03-19").compact()  # 03-19 is today: events
        late = [{**e, "site_id": SITE, "seq": 9} for e in _session(2, day - timedelta(days=1), [(0, "pageview")])]
        _store(data_dir, late)  # a file added to the closed 03-17: read from its events
        body = {"metrics": ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration"], "timezone": "UTC",
                "date_range": {"start": "2026-03-15", "end": "2026-03-20"}}
        _check(events + late, data_dir, body, datetime(2026, 3, 19, 12, tzinfo=timezone.utc), lone=True)


def test_a_stale_or_missing_spanning_set_falls_back_to_grouping():
    day = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    events = [{**e, "site_id": SITE} for e in _session(1, day, [(0, "pageview")]) + _session(2, day, [(0, "pageview")])]
    body = {"metrics": ["visitors", "sessions", "bounce_rate", "avg_duration"], "timezone": "UTC",
            "date_range": {"start": "2026-03-01", "end": "2026-03-20"}}
    now = datetime(2026, 3, 25, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        sink = ParquetEventSink(data_dir, today=lambda: "2026-03-20")
        sink.compact()
        _check(events, data_dir, body, now, lone=True)
        # The same session on another day, compacted, with the set from before it: session 1 is in two
        # days' slots but not among the spanning sessions read, so the set must not be used.
        old = slot_files.spanning_of(data_dir, SITE)
        kept = Path(folder) / "kept.parquet"
        shutil.copy(old.path, kept)
        later = [{**e, "site_id": SITE, "seq": 7} for e in _session(1, day + timedelta(days=2), [(0, "pageview")])]
        _store(data_dir, later)
        sink.compact()
        for path in old.path.parent.iterdir():
            path.unlink()
        shutil.copy(kept, old.path)
        _check(events + later, data_dir, body, now, lone=False)
        shutil.rmtree(old.path.parent)  # no set at all
        _check(events + later, data_dir, body, now, lone=False)
        sink.compact()  # a pass writes it again
        _check(events + later, data_dir, body, now, lone=True)


def test_spanning_sessions_and_slots_in_day():
    days = [pa.array([5, 1, 5, None], pa.int64()), pa.array([2, 1], pa.int64()), pa.array([2, 9, 1], pa.int64())]
    assert compaction.spanning_sessions(days).to_pylist() == [1, 2]
    slots = pa.table({"session_id": pa.array([5, 1, 5, 3], pa.int64())})
    assert compaction.with_slots_in_day(slots)["slots_in_day"].to_pylist() == [2, 1, 2, 1]
