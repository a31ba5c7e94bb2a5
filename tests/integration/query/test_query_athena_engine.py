"""The Athena adapter against a stubbed client: polling with backoff, result reuse, timeout, throttling, failure."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber

from clickport.adapters.athena_engine import AthenaQueryEngine, QueryFailed
from clickport.errors import GatewayTimeout, ServiceUnavailable
from clickport.ports import Site
from clickport.query.service import run_query
from clickport.settings import Settings

SETTINGS = Settings(backend="aws", region="eu-central-1", athena_workgroup="wg", athena_database="db",
                    athena_table="events", athena_timeout_seconds=25.0)
QUERY_ID = "11111111-2222-3333-4444-555555555555"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def client():
    return boto3.client("athena", region_name="eu-central-1", aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture
def clock():
    return FakeClock()


def engine_for(client, clock, settings=SETTINGS) -> AthenaQueryEngine:
    return AthenaQueryEngine(settings, client=client, sleep=clock.sleep, clock=clock)


def started(stubber, sql="SELECT 1", reuse=False):
    expected = {"QueryString": sql, "WorkGroup": "wg", "QueryExecutionContext": {"Database": "db"}}
    if reuse:
        expected["ResultReuseConfiguration"] = {
            "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 60}
        }
    stubber.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID}, expected)


def state(stubber, name, **status):
    stubber.add_response(
        "get_query_execution",
        {"QueryExecution": {"QueryExecutionId": QUERY_ID, "Status": {"State": name, **status}}},
        {"QueryExecutionId": QUERY_ID},
    )


def results(stubber, rows, token=None, expected_token=None, header=True):
    columns = [{"Name": "d0", "Type": "varchar"}, {"Name": "visitors", "Type": "bigint"},
               {"Name": "rate", "Type": "double"}]
    data = ([{"Data": [{"VarCharValue": c["Name"]} for c in columns]}] if header else []) + [
        {"Data": [({"VarCharValue": v} if v is not None else {}) for v in row]} for row in rows
    ]
    response = {"ResultSet": {"Rows": data, "ResultSetMetadata": {"ColumnInfo": columns}}}
    if token:
        response["NextToken"] = token
    expected = {"QueryExecutionId": QUERY_ID}
    if expected_token:
        expected["NextToken"] = expected_token
    stubber.add_response("get_query_results", response, expected)


def test_polls_with_backoff_until_the_query_succeeds_and_reads_every_page(client, clock):
    with Stubber(client) as stubber:
        started(stubber)
        for name in ("QUEUED", "RUNNING", "RUNNING"):
            state(stubber, name)
        state(stubber, "SUCCEEDED")
        results(stubber, [["/", "3", "0.5"], [None, "0", None]], token="t1")
        results(stubber, [["/x", "12", "1.25"]], expected_token="t1", header=False)
        rows = engine_for(client, clock).execute("SELECT 1")
        stubber.assert_no_pending_responses()
    assert rows == [("/", 3, 0.5), (None, 0, None), ("/x", 12, 1.25)]
    assert clock.sleeps == [0.1, 0.2, 0.4]


def test_result_reuse_only_when_the_caller_says_the_range_is_over(client, clock):
    with Stubber(client) as stubber:
        started(stubber, reuse=True)
        state(stubber, "SUCCEEDED")
        results(stubber, [])
        assert engine_for(client, clock).execute("SELECT 1", cacheable=True) == []
        stubber.assert_no_pending_responses()


def test_a_query_past_the_deadline_is_stopped_and_answered_504(client, clock):
    settings = SETTINGS.model_copy(update={"athena_timeout_seconds": 2.0})
    with Stubber(client) as stubber:
        started(stubber)
        for _ in range(5):  # 0.1 + 0.2 + 0.4 + 0.8 + 0.5 = 2.0 s
            state(stubber, "RUNNING")
        # at the deadline no further status call starts: the query is stopped
        stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": QUERY_ID})
        with pytest.raises(GatewayTimeout) as caught:
            engine_for(client, clock, settings).execute("SELECT 1")
        stubber.assert_no_pending_responses()
    assert caught.value.status == 504
    assert sum(clock.sleeps) == pytest.approx(2.0)
    assert max(clock.sleeps) <= 1.0


def test_the_default_timeout_stays_below_api_gateways_30_seconds():
    assert Settings().athena_timeout_seconds < 30


def test_throttling_is_503(client, clock):
    with Stubber(client) as stubber:
        stubber.add_client_error("start_query_execution", service_error_code="TooManyRequestsException",
                                 http_status_code=400)
        with pytest.raises(ServiceUnavailable) as caught:
            engine_for(client, clock).execute("SELECT 1")
    assert caught.value.status == 503


def test_throttled_polling_is_503(client, clock):
    with Stubber(client) as stubber:
        started(stubber)
        stubber.add_client_error("get_query_execution", service_error_code="ThrottlingException", http_status_code=400)
        with pytest.raises(ServiceUnavailable):
            engine_for(client, clock).execute("SELECT 1")


def test_a_failed_query_raises_without_leaking_the_reason(client, clock):
    reason = "line 3:5: Column 'secret_col' cannot be resolved"
    with Stubber(client) as stubber:
        started(stubber)
        state(stubber, "FAILED", StateChangeReason=reason,
              AthenaError={"ErrorCategory": 2, "ErrorType": 1006, "Retryable": False})
        with pytest.raises(QueryFailed) as caught:
            engine_for(client, clock).execute("SELECT 1")
    assert not isinstance(caught.value, (ServiceUnavailable, GatewayTimeout))
    assert "secret_col" not in str(caught.value) and "line 3" not in str(caught.value)


def test_a_retryable_system_failure_is_503(client, clock):
    with Stubber(client) as stubber:
        started(stubber)
        state(stubber, "FAILED", StateChangeReason="S3 slow down",
              AthenaError={"ErrorCategory": 1, "ErrorType": 401, "Retryable": True})
        with pytest.raises(ServiceUnavailable):
            engine_for(client, clock).execute("SELECT 1")


class RecordingEngine:
    dialect = "athena"
    table = "db.events"

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []

    def execute(self, sql: str, *, cacheable: bool = False, scope=None) -> list[tuple]:
        self.calls.append((sql, cacheable))
        return []


@pytest.mark.parametrize(
    "body, cacheable",
    [
        ({"date_range": {"start": "2026-03-01", "end": "2026-03-30"}}, True),
        ({"date_range": {"start": "2026-03-01", "end": "2026-03-31"}}, False),  # ends after today's start
        ({"period": "yesterday"}, True),
        ({"period": "yesterday", "include_comparison": True}, True),
        ({"period": "7d"}, False),
        ({"period": "last_month", "timezone": "Europe/Berlin"}, True),
    ],
)
def test_only_ranges_ending_before_today_are_cacheable(body, cacheable):
    engine = RecordingEngine()
    site = Site("site-a", "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc))
    run_query(body, site=site, goals=[], engine=engine, now=datetime(2026, 3, 30, 12, tzinfo=timezone.utc))
    assert engine.calls[0][1] is cacheable
    assert '"db"."events"' in engine.calls[0][0]


def test_with_a_watermark_the_statement_reads_compacted_days_and_later_raw_days(client, clock):
    import functools

    from moto import mock_aws

    from clickport.adapters import s3_compaction

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="events-bucket")
        marks = functools.partial(s3_compaction.read_watermark, s3, "events-bucket")
        engine = AthenaQueryEngine(SETTINGS, client=client, sleep=clock.sleep, clock=clock, watermark=marks)
        assert engine.source("s1") == "db.events"  # nothing compacted yet
        s3.put_object(Bucket="events-bucket", Key=s3_compaction.watermark_key("s1"), Body=b'{"through": "2026-03-10"}')
        split = engine.source("s1")
        assert (split.raw, split.compacted, split.through) == ("db.events", "db.events_compacted", "2026-03-10")
        assert engine.source("s2") == "db.events"
    assert AthenaQueryEngine(SETTINGS, client=client).source("s1") == "db.events"
