"""AWS compaction on the query side, at the handler: the AWS runtime reads the site's watermark from the events
bucket and the statement sent to Athena reads every UTC day of its range from exactly one table (compacted days
up to the watermark, later days from the events table); Athena result reuse is asked for only when the range is
over and every day it reads is compacted."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import boto3
import pytest
import sqlglot
from botocore.stub import ANY, Stubber
from sqlglot import exp

from clickport.adapters import s3_compaction
from clickport.adapters.athena_engine import RESULT_REUSE_MINUTES, AthenaQueryEngine
from clickport.ports import Site
from clickport.query.service import run_query
from clickport.runtime import Runtime, set_runtime
from clickport.settings import Settings
from tests.conftest import Gateway
from tests.support.aws import BUCKET, REGION, SETTINGS, aws_stack

DATABASE = SETTINGS.athena_database
RAW = SETTINGS.athena_table
COMPACTED = SETTINGS.athena_compacted_table
SLOTS = SETTINGS.athena_slots_table


def _days(low: str, high: str) -> list[str]:
    first, last = date.fromisoformat(low), date.fromisoformat(high)
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def days_read(sql: str) -> dict[str, list[str]]:
    """Each UTC day the statement reads, with the tables it reads it from (a SELECT over one table, bounded by
    ``dt BETWEEN 'low' AND 'high'``)."""
    read: dict[str, list[str]] = {}
    for select in sqlglot.parse_one(sql, read="athena").find_all(exp.Select):
        source = select.args.get("from") or select.args.get("from_")
        table = source.this if source is not None else None
        if not isinstance(table, exp.Table) or table.name not in (RAW, COMPACTED, SLOTS):
            continue
        assert table.db == DATABASE, table.sql()
        (between,) = [b for b in select.args["where"].find_all(exp.Between) if b.this.name == "dt"]
        for day in _days(between.args["low"].name, between.args["high"].name):
            read.setdefault(day, []).append(table.name)
    return read


@pytest.fixture
def compaction_stack(monkeypatch):
    """The AWS backend in moto with compaction on (the query function's settings as the stack sets them)."""
    with aws_stack(monkeypatch) as stack:
        settings = SETTINGS.model_copy(update={"events_bucket": BUCKET})
        set_runtime(Runtime(settings))
        s3 = boto3.client("s3", region_name=REGION)

        def set_watermark(through: str | None, *, slots: bool = False) -> None:
            key = s3_compaction.watermark_key(stack.site.site_id)
            if through is None:
                s3.delete_object(Bucket=BUCKET, Key=key)
            else:
                value = {"through": through, **({"slots": True} if slots else {})}
                s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(value).encode())

        stack.set_watermark = set_watermark
        yield stack


RANGE = ("2026-03-01", "2026-03-20")


@pytest.mark.parametrize("through", [None, "2026-02-10", "2026-02-28", "2026-03-01", "2026-03-10", "2026-03-20",
                                     "2026-03-21", "2026-04-30"])
@pytest.mark.parametrize("body", [
    {"metrics": ["visitors", "pageviews"]},
    {"metrics": ["visitors", "bounce_rate"], "dimensions": ["page"], "include_comparison": True},
    {"metrics": ["visitors"], "dimensions": ["date"], "timezone": "Pacific/Kiritimati"},
])
def test_the_statement_reads_each_day_of_its_range_from_exactly_one_table(compaction_stack, through, body):
    compaction_stack.set_watermark(through)
    status, _, answer = Gateway()("POST", "/api/query", body={**body, "date_range": dict(zip(("start", "end"), RANGE))},
                                  headers={"x-api-key": compaction_stack.keys["read"]})
    assert status == 200, answer
    sql = compaction_stack.athena_sql()[-1]
    read = days_read(sql)
    days = sorted(read)
    assert days == _days(days[0], days[-1])  # never neither: one unbroken span of days
    assert days[0] <= RANGE[0] and days[-1] >= RANGE[1]  # covering the range asked for (and its zone's edges)
    for day, tables in read.items():
        assert len(tables) == 1, (day, tables)  # never both
        expected = COMPACTED if through is not None and day <= through else RAW
        assert tables == [expected], (day, through)
    assert (COMPACTED in sql) == (through is not None and days[0] <= through)


@pytest.mark.parametrize("through", ["2026-02-28", "2026-03-10", "2026-04-30"])
def test_with_slots_a_plan_that_merges_over_them_reads_them_for_the_compacted_days(compaction_stack, through):
    """The watermark says every compacted day has its session slots: the overview reads each day up to it from
    the slots table (whole days in UTC: no cut slot, so no compacted events), later days from the events
    table; a breakdown by page still reads compacted events."""
    compaction_stack.set_watermark(through, slots=True)
    headers = {"x-api-key": compaction_stack.keys["read"]}
    dates = dict(zip(("start", "end"), RANGE))
    body = {"metrics": ["visitors", "sessions", "bounce_rate", "avg_duration"], "date_range": dates}
    status, _, answer = Gateway()("POST", "/api/query", body=body, headers=headers)
    assert status == 200, answer
    read = days_read(compaction_stack.athena_sql()[-1])
    assert sorted(read) == _days(min(read), max(read)) and min(read) <= RANGE[0] and max(read) >= RANGE[1]
    assert read == {day: [SLOTS if day <= through else RAW] for day in read}
    status, _, answer = Gateway()("POST", "/api/query", body={**body, "dimensions": ["page"]}, headers=headers)
    assert status == 200, answer
    read = days_read(compaction_stack.athena_sql()[-1])
    assert read == {day: [COMPACTED if day <= through else RAW] for day in read}


def test_a_site_without_a_watermark_reads_the_events_table_only(compaction_stack):
    status, _, _ = Gateway()("GET", "/api/pages?start_date=2026-03-01&end_date=2026-03-05",
                             headers={"x-api-key": compaction_stack.keys["read"]})
    assert status == 200
    sql = compaction_stack.athena_sql()[-1]
    assert set(sum(days_read(sql).values(), [])) == {RAW} and COMPACTED not in sql


def test_the_goals_route_splits_at_the_watermark_too(compaction_stack):
    stack = compaction_stack
    stack.runtime.config.create_goal(stack.site.site_id, "Signup", "pageview", {"path": "/signup"})
    set_runtime(Runtime(SETTINGS.model_copy(update={"events_bucket": BUCKET})))
    stack.set_watermark("2026-03-04")
    status, _, answer = Gateway()("GET", "/api/goals?start_date=2026-03-01&end_date=2026-03-08",
                                  headers={"x-api-key": stack.keys["read"]})
    assert status == 200, answer
    read = days_read(stack.athena_sql()[-1])
    assert {d: t for d, t in read.items() if d <= "2026-03-04"} == {
        d: [COMPACTED] for d in read if d <= "2026-03-04"}
    assert {d: t for d, t in read.items() if d > "2026-03-04"} == {d: [RAW] for d in read if d > "2026-03-04"}


def test_without_the_events_bucket_setting_no_watermark_is_read(monkeypatch):
    with aws_stack(monkeypatch) as stack:  # SETTINGS has no events bucket: compaction off
        s3 = boto3.client("s3", region_name=REGION)
        s3.put_object(Bucket=BUCKET, Key=s3_compaction.watermark_key(stack.site.site_id), Body=b'{"through": "2026-03-31"}')
        status, _, _ = Gateway()("POST", "/api/query", body={"date_range": {"start": "2026-03-01", "end": "2026-03-05"}},
                                 headers={"x-api-key": stack.keys["read"]})
        assert status == 200
        assert COMPACTED not in stack.athena_sql()[-1]


def test_an_unreadable_watermark_reads_the_events_table_and_says_so(caplog):
    """Without s3:ListBucket on the key, S3 answers a missing object 403: every day from events/ (exact)."""
    client = boto3.client("s3", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_object", "AccessDenied", http_status_code=403)
        assert s3_compaction.read_watermark(client, BUCKET, "s1") is None
        stubber.add_client_error("get_object", "InternalError", http_status_code=500)
        with pytest.raises(client.exceptions.ClientError):
            s3_compaction.read_watermark(client, BUCKET, "s1")
    assert "watermark not readable" in caplog.text


# Result reuse: only for ranges that are over and wholly compacted.

ENGINE_SETTINGS = Settings(backend="aws", region="eu-central-1", athena_workgroup="wg", athena_database="db",
                           athena_table="events", athena_timeout_seconds=25.0)
NOW = datetime(2026, 3, 30, 12, tzinfo=timezone.utc)
SITE = Site("site-a", "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc))
QUERY_ID = "11111111-2222-3333-4444-555555555555"
REUSE = {"ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": RESULT_REUSE_MINUTES}}


def _expect_one_query(stubber: Stubber, reuse: bool) -> None:
    expected = {"QueryString": ANY, "WorkGroup": "wg", "QueryExecutionContext": {"Database": "db"}}
    if reuse:
        expected["ResultReuseConfiguration"] = REUSE
    stubber.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID}, expected)
    stubber.add_response("get_query_execution",
                         {"QueryExecution": {"QueryExecutionId": QUERY_ID, "Status": {"State": "SUCCEEDED"}}},
                         {"QueryExecutionId": QUERY_ID})
    stubber.add_response("get_query_results", {"ResultSet": {
        "Rows": [{"Data": [{"VarCharValue": "visitors"}]}],
        "ResultSetMetadata": {"ColumnInfo": [{"Name": "visitors", "Type": "bigint"}]}}},
        {"QueryExecutionId": QUERY_ID})


@pytest.mark.parametrize("through, body, reuse", [
    # Over, and every day read (the range and its zone's edge days) at or below the watermark.
    ("2026-03-29", {"date_range": {"start": "2026-03-01", "end": "2026-03-20"}}, True),
    ("2026-03-29", {"period": "last_month", "timezone": "Europe/Berlin"}, True),
    ("2026-03-29", {"date_range": {"start": "2026-03-10", "end": "2026-03-27"}, "include_comparison": True}, True),
    # The statement also reads the UTC day after the range (a zone's evening is the next UTC day), so a range
    # is reused once that day is compacted too: yesterday's answer never is.
    ("2026-03-29", {"period": "yesterday"}, False),
    ("2026-03-28", {"date_range": {"start": "2026-03-01", "end": "2026-03-27"}}, True),
    ("2026-03-27", {"date_range": {"start": "2026-03-01", "end": "2026-03-27"}}, False),
    # Over, but some day is still read from the events table.
    ("2026-03-10", {"date_range": {"start": "2026-03-01", "end": "2026-03-20"}}, False),
    ("2026-03-28", {"period": "yesterday"}, False),
    (None, {"date_range": {"start": "2026-03-01", "end": "2026-03-20"}}, False),
    # Not over: today is in the range.
    ("2026-03-29", {"period": "7d"}, False),
    ("2026-03-29", {"date_range": {"start": "2026-03-01", "end": "2026-03-30"}}, False),
])
def test_result_reuse_only_for_ranges_that_are_over_and_compacted(through, body, reuse):
    client = boto3.client("athena", region_name="eu-central-1", aws_access_key_id="t", aws_secret_access_key="t")
    engine = AthenaQueryEngine(ENGINE_SETTINGS, client=client, sleep=lambda s: None, watermark=lambda site: through)
    with Stubber(client) as stubber:
        _expect_one_query(stubber, reuse)
        run_query({**body, "metrics": ["visitors"]}, site=SITE, goals=[], engine=engine, now=NOW)
        stubber.assert_no_pending_responses()


def test_without_compaction_reuse_follows_the_range_alone():
    client = boto3.client("athena", region_name="eu-central-1", aws_access_key_id="t", aws_secret_access_key="t")
    engine = AthenaQueryEngine(ENGINE_SETTINGS, client=client, sleep=lambda s: None)
    with Stubber(client) as stubber:
        _expect_one_query(stubber, True)
        run_query({"period": "yesterday", "metrics": ["visitors"]}, site=SITE, goals=[], engine=engine, now=NOW)
        _expect_one_query(stubber, False)
        run_query({"period": "7d", "metrics": ["visitors"]}, site=SITE, goals=[], engine=engine, now=NOW)
        stubber.assert_no_pending_responses()
