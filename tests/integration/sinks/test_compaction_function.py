"""The scheduled compaction function (functions/compaction/handler.py) on moto S3: every site's closed days are
compacted and served at the watermark, a rerun writes nothing, one failing site does not stop the others (the
invocation then fails, for the errors alarm), no day is started near the timeout, and each run publishes the
metric the lag alarm watches (infra/compaction.py)."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from clickport.adapters import s3_compaction
from clickport.ingest.drops import METRICS_NAMESPACE
from clickport.local.functions import LocalLambdaContext, load_function
from clickport.schema import COLUMN_NAMES, arrow_schema

BUCKET = "clickport-events"
TODAY = datetime.now(timezone.utc).date()
# Closed and settled whatever the hour: three days ending two days ago; today is never compacted.
CLOSED = [(TODAY - timedelta(days=n)).isoformat() for n in (4, 3, 2)]


@dataclass
class Context(LocalLambdaContext):
    remaining_ms: int = 600_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def s3(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLICKPORT_EVENTS_BUCKET", BUCKET)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _put_day(s3, site: str, dt: str, files: int, rows_per_file: int) -> Counter:
    day = datetime.combine(date.fromisoformat(dt), datetime.min.time(), tzinfo=timezone.utc)
    stored: Counter = Counter()
    for f in range(files):
        rows = []
        for i in range(rows_per_file):
            row = {n: None for n in COLUMN_NAMES}
            row.update(ts=day + timedelta(seconds=(i * 7919 + f * 13) % 86400), seq=f * 1000 + i, type="pageview",
                       path=f"/{site}/{i % 3}", session_id=i % 7 + 1, visitor_id=i % 5 + 1, meta_keys=[], meta_values=[])
            rows.append(row)
        table = pa.Table.from_pylist(rows, schema=arrow_schema())
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="snappy")
        s3.put_object(Bucket=BUCKET, Key=f"{s3_compaction.raw_prefix(site, dt)}part-{f}.parquet", Body=buffer.getvalue())
        stored.update((r["seq"], r["path"]) for r in table.to_pylist())
    return stored


def _served(s3, site: str, dt: str) -> Counter:
    """The rows a query reads for the day: from compacted/ if the watermark passed it, else from events/."""
    through = s3_compaction.read_watermark(s3, BUCKET, site)
    prefix = (s3_compaction.compacted_prefix if through and dt <= through else s3_compaction.raw_prefix)(site, dt)
    rows: Counter = Counter()
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []):
        table = pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()), partitioning=None)
        rows.update((r["seq"], r["path"]) for r in table.to_pylist())
    return rows


def _objects(s3) -> dict[str, str]:
    return {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _invoke(capsys, event=None, context=None):
    handler = load_function("compaction").lambda_handler
    capsys.readouterr()
    try:
        result = handler(event if event is not None else {"max_days": 3}, context or Context(function_name="compaction"))
    finally:
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    return result, lines


def test_every_site_is_compacted_and_served_and_a_rerun_writes_nothing(s3, capsys):
    stored = {(site, dt): _put_day(s3, site, dt, files=3, rows_per_file=20 + len(site)) for site in ("s_a", "s_bb")
              for dt in CLOSED}
    _put_day(s3, "s_a", TODAY.isoformat(), files=2, rows_per_file=5)  # today: stays in events/
    result, (metric,) = _invoke(capsys)
    assert result == {"lag_days": 0, "compacted_days": 6}
    for (site, dt), rows in stored.items():
        assert s3_compaction.read_watermark(s3, BUCKET, site) == CLOSED[-1]
        assert _served(s3, site, dt) == rows  # every event once
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=s3_compaction.compacted_prefix(site, dt))["Contents"]]
        assert len(keys) == 1 and keys[0].endswith(".parquet")
    assert not s3.list_objects_v2(Bucket=BUCKET, Prefix=s3_compaction.compacted_prefix("s_a", TODAY.isoformat())).get("Contents")
    directive = metric["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == METRICS_NAMESPACE and directive["Dimensions"] == [[s3_compaction.METRIC_DIMENSION]]
    assert {m["Name"] for m in directive["Metrics"]} == {
        s3_compaction.LAG_METRIC, s3_compaction.COMPACTED_METRIC, s3_compaction.FAILED_SITES_METRIC}
    assert (metric[s3_compaction.METRIC_DIMENSION], metric[s3_compaction.LAG_METRIC]) == (BUCKET, 0)

    before = _objects(s3)
    result, (metric,) = _invoke(capsys)
    assert result == {"lag_days": 0, "compacted_days": 0} and _objects(s3) == before  # idempotent


def test_a_backlog_drains_over_runs_and_the_lag_is_published(s3, capsys):
    days = [(TODAY - timedelta(days=n)).isoformat() for n in range(9, 1, -1)]  # 8 closed days
    for dt in days:
        _put_day(s3, "s_a", dt, files=2, rows_per_file=4)
    _, (first,) = _invoke(capsys, {"max_days": 3})
    assert first[s3_compaction.LAG_METRIC] == 5 and s3_compaction.read_watermark(s3, BUCKET, "s_a") == days[2]
    _, (second,) = _invoke(capsys, {"max_days": 3})
    _, (third,) = _invoke(capsys, {"max_days": 3})
    assert (second[s3_compaction.LAG_METRIC], third[s3_compaction.LAG_METRIC]) == (2, 0)
    assert s3_compaction.read_watermark(s3, BUCKET, "s_a") == days[-1]


def test_a_failing_site_does_not_stop_the_others_and_fails_the_invocation(s3, capsys):
    good = {dt: _put_day(s3, "s_good", dt, files=2, rows_per_file=6) for dt in CLOSED}
    s3.put_object(Bucket=BUCKET, Key=f"{s3_compaction.raw_prefix('s_bad', CLOSED[0])}part-0.parquet", Body=b"not parquet")
    with pytest.raises(s3_compaction.CompactionFailed, match="s_bad"):
        _invoke(capsys)
    assert s3_compaction.read_watermark(s3, BUCKET, "s_good") == CLOSED[-1]
    assert all(_served(s3, "s_good", dt) == rows for dt, rows in good.items())
    assert s3_compaction.read_watermark(s3, BUCKET, "s_bad") is None  # its day is still read from events/


def test_the_failed_run_still_publishes_its_metrics(s3, capsys):
    s3.put_object(Bucket=BUCKET, Key=f"{s3_compaction.raw_prefix('s_bad', CLOSED[0])}part-0.parquet", Body=b"not parquet")
    handler = load_function("compaction").lambda_handler
    capsys.readouterr()
    with pytest.raises(s3_compaction.CompactionFailed):
        handler({"max_days": 3}, Context(function_name="compaction"))
    (metric,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert metric[s3_compaction.FAILED_SITES_METRIC] == 1 and metric[s3_compaction.LAG_METRIC] == 1


def test_no_day_is_started_close_to_the_timeout(s3, capsys):
    for dt in CLOSED:
        _put_day(s3, "s_a", dt, files=1, rows_per_file=3)
    late = Context(function_name="compaction", remaining_ms=int(s3_compaction.STOP_BEFORE_TIMEOUT_SECONDS * 1000) - 1)
    result, (metric,) = _invoke(capsys, context=late)
    assert result == {"lag_days": 3, "compacted_days": 0} and metric[s3_compaction.LAG_METRIC] == 3
    assert s3_compaction.read_watermark(s3, BUCKET, "s_a") is None
    assert not s3.list_objects_v2(Bucket=BUCKET, Prefix=s3_compaction.COMPACTED_PREFIX).get("Contents")


def test_events_imported_into_an_old_day_are_served_after_the_daily_full_check(s3, capsys, monkeypatch):
    sleeps: list[float] = []
    real_init = s3_compaction.S3DayCompactor.__init__

    def recording_sleeps(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.sleep = sleeps.append

    monkeypatch.setattr(s3_compaction.S3DayCompactor, "__init__", recording_sleeps)
    old = (TODAY - timedelta(days=30)).isoformat()  # far behind the hourly lookback of 7 days
    days = [old, *CLOSED]
    stored = {dt: _put_day(s3, "s_a", dt, files=2, rows_per_file=5) for dt in days}
    _invoke(capsys)
    _invoke(capsys)
    assert s3_compaction.read_watermark(s3, BUCKET, "s_a") == CLOSED[-1]
    assert _served(s3, "s_a", old) == stored[old]

    # An import of old events: a new object under the old day, after the day was compacted.
    body = io.BytesIO()
    row = {n: None for n in COLUMN_NAMES}
    row.update(ts=datetime.fromisoformat(old).replace(tzinfo=timezone.utc, hour=12), seq=999_999, type="pageview",
               path="/imported", session_id=1, visitor_id=1, meta_keys=[], meta_values=[])
    pq.write_table(pa.Table.from_pylist([row], schema=arrow_schema()), body)
    s3.put_object(Bucket=BUCKET, Key=f"{s3_compaction.raw_prefix('s_a', old)}import-0.parquet", Body=body.getvalue())
    before = _objects(s3)
    _invoke(capsys)  # hourly: the last 7 served days only
    assert _objects(s3) == before and (999_999, "/imported") not in _served(s3, "s_a", old)

    assert sleeps == []
    result, (metric,) = _invoke(capsys, {"max_days": 3, "recheck_all": True})  # the daily rule's input
    assert sleeps == [s3_compaction.GRACE_SECONDS]  # handed back, then waited for running queries
    assert result["compacted_days"] == 1 and metric[s3_compaction.LAG_METRIC] == 0
    assert s3_compaction.read_watermark(s3, BUCKET, "s_a") == CLOSED[-1]
    assert _served(s3, "s_a", old) == stored[old] + Counter({(999_999, "/imported"): 1})
    for dt in CLOSED:
        assert _served(s3, "s_a", dt) == stored[dt]
