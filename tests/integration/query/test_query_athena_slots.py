"""The Athena rendering of plans over session slots, on what the AWS compaction job writes: the S3 job (moto)
compacts the closed days of Firehose-like objects with their slots and moves the watermark; the query side
reads the watermark (``read_served``) and splits the statement there (slots and compacted events up to it,
raw events after it). The Athena (Trino) SQL is transpiled by sqlglot to DuckDB and run over the very
objects the job wrote, and its answers must equal the Athena event plan's (the same split, no slots) and
the spec §3.8 reference (DST days in Berlin and New York, Kolkata, sessions across midnight and across the
watermark, ranges that cut slots, comparisons)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from sqlglot import exp

from clickport.adapters import s3_compaction
from clickport.adapters.athena_engine import AthenaQueryEngine
from clickport.adapters.duckdb_engine import parquet_events_sql
from clickport.adapters.s3_compaction import S3DayCompactor
from clickport.ports import Site
from clickport.query.service import plan_query, run_query
from clickport.query.sql import SplitSource, build_query
from clickport.query.runner import scan_scope
from clickport.query.sql_slots import SLOT_MS, _ms, slots_eligible
from clickport.settings import Settings
from tests.integration.query.test_query_session_slots import slot_requests
from tests.reference.profiles import query_settings
from tests.reference.query import reference_query
from tests.reference.storage import write_events
from tests.reference.strategies import GOALS, SITE, event_sets, first_event_date

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BUCKET = "events-bucket"
SETTINGS = Settings(backend="aws", athena_database="db", athena_table="events")
SITE_TEMPLATE = Site(SITE, "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc))
# The Glue tables of the stack (infra/storage.py) and the S3 prefixes they read.
TABLES = {"events": s3_compaction.RAW_PREFIX, "events_compacted": s3_compaction.COMPACTED_PREFIX,
          "events_slots": s3_compaction.SLOTS_PREFIX}
EMPTY = "empty/site_id=none/dt=1970-01-01"  # typed, empty stand-ins for a table with no object yet


def duckdb_of_athena(sql: str) -> str:
    """Athena's SQL as DuckDB runs it with Trino's meaning: ``min_by``/``max_by`` keep a NULL value at the
    least/greatest key (DuckDB's ``arg_min_null``/``arg_max_null``); ``/`` on integers divides as integers
    (the connection sets ``integer_division``)."""
    tree = sqlglot.parse_one(sql, read="athena")
    for node, name in [*((n, "arg_min_null") for n in tree.find_all(exp.ArgMin)),
                       *((n, "arg_max_null") for n in tree.find_all(exp.ArgMax))]:
        node.replace(exp.Anonymous(this=name, expressions=[node.this, node.expression]))
    return tree.sql(dialect="duckdb")


class AthenaOverFiles(AthenaQueryEngine):
    """The Athena engine (its ``source``: the watermark and the split) with ``execute`` running the statement
    on DuckDB over a copy of the bucket's objects, each Glue table over its prefix."""

    def __init__(self, root: Path, watermark) -> None:
        super().__init__(SETTINGS, client=object(), watermark=watermark)
        self.root = root
        self.statements: list[str] = []

    def execute(self, sql, *, cacheable=False, scope=None):
        import duckdb

        self.statements.append(sql)
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET integer_division = true")
            con.execute("CREATE SCHEMA db")
            for table, prefix in TABLES.items():
                files = sorted(str(p) for p in (self.root / prefix).glob("site_id=*/dt=*/*.parquet"))
                if not files:  # a typed, empty table: the slots' or the events' columns
                    files = [str(self.root / EMPTY / f"{table}.parquet")]
                con.execute(f"CREATE VIEW db.{table} AS {parquet_events_sql(files)}")
            return con.execute(duckdb_of_athena(sql)).fetchall()


def _empty_tables(root: Path) -> None:
    import pyarrow.parquet as pq

    from clickport.adapters.compaction import slots_schema
    from clickport.schema import arrow_schema

    folder = root / EMPTY
    folder.mkdir(parents=True)
    for table in ("events", "events_compacted"):
        pq.write_table(arrow_schema().empty_table(), folder / f"{table}.parquet")
    pq.write_table(slots_schema().empty_table(), folder / "events_slots.parquet")


def compact_on_s3(events: list[dict], today: str, root: Path) -> s3_compaction.Served | None:
    """Upload the events as Firehose objects, run the S3 job with ``today`` as the current UTC day, copy the
    bucket to ``root``; the watermark as the query side reads it."""
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder)
        by_site: dict[str, list[dict]] = {}
        for event in events:
            by_site.setdefault(event["site_id"], []).append({k: v for k, v in event.items() if k != "site_id"})
        for site_id, rows in by_site.items():
            write_events(raw, site_id, rows, files_per_day=2)
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=BUCKET)
            for path in sorted((raw / "events").glob("site_id=*/dt=*/*.parquet")):
                s3.put_object(Bucket=BUCKET, Key=str(path.relative_to(raw)), Body=path.read_bytes())
            now = datetime.fromisoformat(today).replace(tzinfo=timezone.utc)
            job = S3DayCompactor(BUCKET, s3, settle_seconds=0, now=lambda: now, sleep=lambda s: None)
            for site_id in job.sites():
                job.run(site_id)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
                for item in page.get("Contents", []):
                    target = root / item["Key"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())
            return s3_compaction.read_served(s3, BUCKET, SITE)


def _json(body) -> str:
    return json.dumps(body, ensure_ascii=False)


@query_settings(examples=25)
@given(generated=event_sets(), data=st.data(), closed_days=st.integers(-3, 4))
def test_athena_slot_plans_equal_athena_event_plans_and_the_reference(generated, data, closed_days):
    anchor, events = generated
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _empty_tables(root)
        today = (anchor + timedelta(days=closed_days)).date().isoformat()
        served = compact_on_s3(events, today, root)
        if served is not None:
            assert served.slots and served.through < today
        first = first_event_date(events)
        site = replace(SITE_TEMPLATE, first_event_date=first)
        with_slots = AthenaOverFiles(root, lambda site_id: served)
        without = AthenaOverFiles(root, lambda site_id: served.through if served else None)  # a date: no slots
        for _ in range(3):
            body, now = data.draw(slot_requests(anchor))
            assert slots_eligible(plan_query(body, site=site, goals=list(GOALS), now=now)), body
            got = run_query(body, site=site, goals=list(GOALS), engine=with_slots, now=now).body
            raw = run_query(body, site=site, goals=list(GOALS), engine=without, now=now).body
            want = reference_query(events, body, site_id=SITE, first_event_date=first, goals=list(GOALS), now=now)
            assert _json(got) == _json(want), (body, now, today, served)
            assert _json(got) == _json(raw), (body, now, today, served)
            # The slot plan read the slots table exactly when some day it reads is served and a whole slot
            # fits in a range; the event plan never.
            plan = plan_query(body, site=site, goals=list(GOALS), now=now)
            expected = served is not None and scan_scope(plan).first_day.isoformat() <= served.through and any(
                -(-_ms(r.start) // SLOT_MS) < _ms(r.end) // SLOT_MS for r in plan.ranges)
            assert ('"events_slots"' in with_slots.statements[-1]) == expected, (body, now, served)
            assert "events_slots" not in without.statements[-1]


# --- the rendering: each side reads its own table for its own days; Trino SQL

def _plan(body: dict, now: datetime):
    return plan_query(body, site=SITE_TEMPLATE, goals=[], now=now)


SPLIT = SplitSource("db.events", "db.events_compacted", "2026-03-10", slots="db.events_slots")
NOW = datetime(2026, 3, 20, 10, 7, 30, tzinfo=timezone.utc)


def _sides(sql: str) -> dict[str, tuple[str, str]]:
    """Each side of ``slot_rows``: its table and its partition days."""
    tree = sqlglot.parse_one(sql, read="athena")
    rows = next(c.this for c in tree.find_all(exp.CTE) if c.alias == "slot_rows")
    sides = {}
    for select in rows.find_all(exp.Select):
        table = select.args["from_"].this
        between = next(select.args["where"].find_all(exp.Between))
        sides[table.name] = (between.args["low"].this, between.args["high"].this)
        assert table.db == "db"
    return sides


@pytest.mark.parametrize("body, expected", [
    # 30 days across the watermark, ending now (an edge cut mid-slot): slots and compacted events up to
    # 03-10 (the events only for the instants of cut slots), raw events after it.
    ({"metrics": ["visitors", "sessions", "bounce_rate", "avg_duration"], "period": "30d", "timezone": "Europe/Berlin"},
     {"events_slots": ("2026-02-17", "2026-03-10"), "events_compacted": ("2026-02-17", "2026-03-10"),
      "events": ("2026-03-11", "2026-03-21")}),
    # Whole days up to the watermark: no raw side, no cut slots.
    ({"metrics": ["visitors", "pageviews"], "date_range": {"start": "2026-03-01", "end": "2026-03-07"}, "dimensions": ["date"],
      "timezone": "Asia/Kolkata"},
     {"events_slots": ("2026-02-27", "2026-03-07")}),
    # After the watermark only: raw events.
    ({"metrics": ["visitors"], "period": "today", "timezone": "America/New_York"},
     {"events": ("2026-03-19", "2026-03-21")}),
])
def test_each_side_reads_its_table_for_the_days_on_its_side_of_the_watermark(body, expected):
    sql = build_query(_plan(body, NOW), "athena", SPLIT, slots=True).sql("athena")
    assert _sides(sql) == expected


def test_the_athena_slot_sql_is_trino_and_exact():
    bodies = [
        {"metrics": ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration"], "period": "30d",
         "timezone": "Europe/Berlin", "include_comparison": True, "filters": [
             {"dimension": "country", "operator": "is", "value": ["DE"]}]},
        {"metrics": ["visitors", "sessions", "pageviews", "clickers"], "period": "30d", "dimensions": ["date"],
         "timezone": "Europe/Berlin"},
        {"metrics": ["visitors", "sessions", "views_per_visit"], "period": "7d", "dimensions": ["source", "hour"],
         "timezone": "America/New_York", "include_comparison": True},
    ]
    for body in bodies:
        sql = build_query(_plan(body, NOW), "athena", SPLIT, slots=True).sql("athena")
        tree = sqlglot.parse_one(sql, read="trino")
        assert tree.find(exp.Select) is not None
        names = {n.name.lower() for n in tree.find_all(exp.Anonymous)}
        assert not names & {"arg_min_null", "arg_max_null", "epoch_ms"}, names  # DuckDB spellings
        assert "approx" not in sql.lower()


def test_the_engine_reads_slots_only_when_the_watermark_says_every_served_day_has_them():
    marks = {"a": s3_compaction.Served("2026-03-10", slots=True), "b": s3_compaction.Served("2026-03-10"),
             "c": "2026-03-10", "d": None}
    engine = AthenaQueryEngine(SETTINGS, client=object(), watermark=marks.get)
    assert engine.source("a") == SplitSource("db.events", "db.events_compacted", "2026-03-10", slots="db.events_slots")
    assert engine.source("b") == SplitSource("db.events", "db.events_compacted", "2026-03-10")
    assert engine.source("c") == SplitSource("db.events", "db.events_compacted", "2026-03-10")
    assert engine.source("d") == "db.events"
