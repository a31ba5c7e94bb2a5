"""FirehoseEventSink: record format, batching, retry of failed records only, StoreUnavailable."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws

from clickport.adapters.firehose_sink import (
    MAX_BATCH_BYTES,
    FirehoseEventSink,
    firehose_record,
    firehose_timestamp,
)
from clickport.errors import StoreUnavailable
from clickport.schema import COLUMN_NAMES

STREAM = "clickport-events"
REGION = "us-east-1"


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)


def stubbed_client():
    client = boto3.client("firehose", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    return client, Stubber(client)


def answer(results: list[str | None]) -> dict:
    """A PutRecordBatch response: None is a stored record, a string is that record's error code."""
    return {
        "FailedPutCount": sum(r is not None for r in results),
        "RequestResponses": [
            {"RecordId": f"id-{i}"} if code is None else {"ErrorCode": code, "ErrorMessage": "try again"}
            for i, code in enumerate(results)
        ],
    }


def sent(data: list[bytes]) -> dict:
    return {"DeliveryStreamName": STREAM, "Records": [{"Data": d} for d in data]}


class RecordingClient:
    """A Firehose client that stores everything and remembers each call."""

    def __init__(self) -> None:
        self.calls: list[list[bytes]] = []

    def put_record_batch(self, DeliveryStreamName, Records):
        self.calls.append([r["Data"] for r in Records])
        return answer([None] * len(Records))


def test_rows_arrive_in_s3_as_newline_delimited_json_with_partition_keys(aws_env, make_row):
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="events-bucket")
        firehose = boto3.client("firehose", region_name=REGION)
        firehose.create_delivery_stream(
            DeliveryStreamName=STREAM,
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": "arn:aws:s3:::events-bucket",
                "Prefix": "events/",
            },
        )
        before_midnight = datetime(2026, 3, 14, 23, 59, 59, 999000, tzinfo=timezone.utc)
        sink = FirehoseEventSink(STREAM, firehose)
        sink.write(
            "site1",
            [
                make_row(before_midnight, seq=1, meta_keys=["plan", "é"], meta_values=["pro", "ü"]),
                make_row(int(before_midnight.timestamp() * 1000) + 1, seq=2),
            ],
        )

        (obj,) = s3.list_objects_v2(Bucket="events-bucket")["Contents"]
        body = s3.get_object(Bucket="events-bucket", Key=obj["Key"])["Body"].read().decode("utf-8")

    lines = body.split("\n")
    assert lines[-1] == "" and len(lines) == 3  # one object per record, each ending in a newline
    first, second = (json.loads(line) for line in lines[:2])
    assert set(first) == set(COLUMN_NAMES) | {"site_id", "dt"}
    assert (first["site_id"], first["dt"], first["ts"]) == ("site1", "2026-03-14", "2026-03-14 23:59:59.999")
    assert (second["dt"], second["ts"]) == ("2026-03-15", "2026-03-15 00:00:00.000")
    assert (first["meta_keys"], first["meta_values"], first["seq"]) == (["plan", "é"], ["pro", "ü"], 1)
    assert first["name"] is None


@pytest.mark.parametrize(
    "ts_ms, expected",
    [(0, "1970-01-01 00:00:00.000"), (1773489600007, "2026-03-14 12:00:00.007"), (1773532799999, "2026-03-14 23:59:59.999")],
)
def test_timestamps_use_the_form_firehose_deserializers_parse(ts_ms, expected):
    assert firehose_timestamp(ts_ms) == expected
    # java.sql.Timestamp::valueOf (Hive SerDe default) and OpenX's yyyy-[M]M-[d]d HH:mm:ss[.S]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}", expected)


def test_aware_datetimes_in_other_zones_are_sent_as_utc(make_row):
    ts = datetime(2026, 3, 15, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    record = json.loads(firehose_record("site1", make_row(ts)))

    assert (record["ts"], record["dt"]) == ("2026-03-14 23:30:00.000", "2026-03-14")


def test_unknown_columns_and_naive_timestamps_are_rejected(make_row, noon):
    with pytest.raises(ValueError, match="ip"):
        firehose_record("site1", make_row(noon, ip="203.0.113.9"))
    with pytest.raises(ValueError, match="timezone-aware"):
        firehose_record("site1", make_row(datetime(2026, 3, 14, 12)))


def test_batches_hold_at_most_500_records(make_row, noon):
    client = RecordingClient()
    FirehoseEventSink(STREAM, client).write("site1", [make_row(noon) for _ in range(1201)])

    assert [len(call) for call in client.calls] == [500, 500, 201]


def test_batches_hold_at_most_4_mib(make_row, noon):
    client = RecordingClient()
    rows = [make_row(noon, path="/" + "x" * 300_000) for _ in range(30)]
    FirehoseEventSink(STREAM, client).write("site1", rows)

    sizes = [sum(map(len, call)) for call in client.calls]
    assert len(client.calls) > 1 and all(size <= MAX_BATCH_BYTES for size in sizes)
    assert sum(len(call) for call in client.calls) == 30


def test_an_oversized_record_is_refused_before_sending(make_row, noon):
    client = RecordingClient()
    with pytest.raises(ValueError, match="size"):
        FirehoseEventSink(STREAM, client).write("site1", [make_row(noon, path="/" + "x" * 1_100_000)])
    assert client.calls == []


def test_only_the_failed_records_are_retried_after_a_backoff(make_row, noon):
    client, stubber = stubbed_client()
    data = [firehose_record("site1", make_row(noon, seq=n)) for n in range(4)]
    stubber.add_response("put_record_batch", answer([None, "ServiceUnavailableException", None, "InternalFailure"]), sent(data))
    stubber.add_response("put_record_batch", answer([None, "ServiceUnavailableException"]), sent([data[1], data[3]]))
    stubber.add_response("put_record_batch", answer([None]), sent([data[3]]))
    sleeps: list[float] = []

    with stubber:
        FirehoseEventSink(STREAM, client, sleep=sleeps.append).write("site1", [make_row(noon, seq=n) for n in range(4)])
        stubber.assert_no_pending_responses()

    assert sleeps == [0.1, 0.2]


def test_records_still_failing_after_max_attempts_raise_store_unavailable(make_row, noon):
    client, stubber = stubbed_client()
    data = [firehose_record("site1", make_row(noon, seq=n)) for n in range(2)]
    stubber.add_response("put_record_batch", answer([None, "ServiceUnavailableException"]), sent(data))
    for _ in range(2):
        stubber.add_response("put_record_batch", answer(["ServiceUnavailableException"]), sent([data[1]]))
    sleeps: list[float] = []

    with stubber, pytest.raises(StoreUnavailable):
        FirehoseEventSink(STREAM, client, max_attempts=3, sleep=sleeps.append).write(
            "site1", [make_row(noon, seq=n) for n in range(2)]
        )
    stubber.assert_no_pending_responses()
    assert sleeps == [0.1, 0.2]


@pytest.mark.parametrize("code, status", [("ResourceNotFoundException", 400), ("AccessDeniedException", 400)])
def test_a_refused_call_raises_store_unavailable_without_a_retry(make_row, noon, code, status):
    client, stubber = stubbed_client()
    stubber.add_client_error("put_record_batch", service_error_code=code, http_status_code=status)

    with stubber, pytest.raises(StoreUnavailable, match=code):
        FirehoseEventSink(STREAM, client, sleep=lambda s: None).write("site1", [make_row(noon)])
    stubber.assert_no_pending_responses()


def test_an_empty_write_sends_nothing():
    client = RecordingClient()
    FirehoseEventSink(STREAM, client).write("site1", [])
    assert client.calls == []
