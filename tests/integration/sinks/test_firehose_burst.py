"""Several delivery streams, throttled calls retried, refused records resent: no acknowledged event lost.

AWS, PutRecordBatch API reference: "If PutRecordBatch throws ServiceUnavailableException, the API is
automatically reinvoked (retried) 3 times. If the exception persists, it is possible that the throughput
limits have been exceeded for the Firehose stream."; "A successfully processed record includes a RecordId
value, which is unique for the record. An unsuccessfully processed record includes ErrorCode and
ErrorMessage values. ErrorCode reflects the type of error, and is one of the following values:
ServiceUnavailableException or InternalFailure."; "If FailedPutCount is greater than 0, retry the
request, resending only those records that might have failed processing." And the PutRecord reference:
"By default, each Firehose stream can take in up to 2,000 transactions per second, 5,000 records per
second, or 5 MB per second."
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from clickport.adapters.firehose_sink import FirehoseEventSink, firehose_record, home_stream, stream_names
from clickport.errors import StoreUnavailable

REGION = "us-east-1"
STREAMS = ("events-0", "events-1", "events-2", "events-3")


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)


def _answer(results: list[str | None]) -> dict:
    return {
        "FailedPutCount": sum(r is not None for r in results),
        "RequestResponses": [
            {"RecordId": f"id-{i}"} if code is None else {"ErrorCode": code, "ErrorMessage": "Slow down."}
            for i, code in enumerate(results)
        ],
    }


def _sent(stream: str, data: list[bytes]) -> dict:
    return {"DeliveryStreamName": stream, "Records": [{"Data": d} for d in data]}


def test_stream_names_come_as_a_comma_separated_setting():
    assert stream_names("a, b,c") == ("a", "b", "c")
    assert stream_names(["a"]) == ("a",)
    with pytest.raises(ValueError):
        stream_names(" , ")


def test_rows_are_spread_over_the_streams_by_session(make_row, noon):
    homes = Counter(home_stream(make_row(noon, session_id=s), b"", len(STREAMS)) for s in range(4000))
    assert set(homes) == {0, 1, 2, 3} and min(homes.values()) > 900  # about a quarter each
    row = make_row(noon, session_id=42)
    assert home_stream(row, b"x", 4) == home_stream(dict(row, path="/other"), b"y", 4)  # one session, one stream


def test_a_throttled_call_is_sent_again_to_the_next_stream(make_row, noon):
    client = boto3.client("firehose", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    stubber = Stubber(client)
    row = make_row(noon, session_id=7)
    data = [firehose_record("site1", row)]
    home = home_stream(row, data[0], len(STREAMS))
    stubber.add_client_error("put_record_batch", "ServiceUnavailableException", "Slow down.", 503,
                             expected_params=_sent(STREAMS[home], data))
    stubber.add_response("put_record_batch", _answer([None]), _sent(STREAMS[(home + 1) % 4], data))
    sleeps: list[float] = []
    with stubber:
        FirehoseEventSink(",".join(STREAMS), client, sleep=sleeps.append).write("site1", [row])
        stubber.assert_no_pending_responses()
    assert sleeps == [0.1]


def test_refused_records_alone_go_again_to_the_next_stream_until_stored(make_row, noon):
    client = boto3.client("firehose", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    stubber = Stubber(client)
    rows = [make_row(noon, session_id=11, seq=n) for n in range(3)]
    data = [firehose_record("site1", r) for r in rows]
    home = home_stream(rows[0], data[0], 2)
    streams = ("a", "b")
    stubber.add_response("put_record_batch", _answer([None, "ServiceUnavailableException", "InternalFailure"]),
                         _sent(streams[home], data))
    stubber.add_response("put_record_batch", _answer([None, "InternalFailure"]), _sent(streams[1 - home], data[1:]))
    stubber.add_response("put_record_batch", _answer([None]), _sent(streams[home], data[2:]))
    with stubber:
        FirehoseEventSink(streams, client, sleep=lambda s: None).write("site1", rows)
        stubber.assert_no_pending_responses()


def test_an_answer_without_record_ids_is_not_taken_as_stored(make_row, noon):
    client = boto3.client("firehose", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    stubber = Stubber(client)
    row = make_row(noon)
    stubber.add_response("put_record_batch", {"FailedPutCount": 0, "RequestResponses": [{}]})
    with stubber, pytest.raises(StoreUnavailable):
        FirehoseEventSink("a", client, max_attempts=1).write("site1", [row])


def test_retries_stop_at_the_budget_so_the_function_answers_503_in_time(make_row, noon):
    now = [0.0]

    class Throttled:
        calls = 0

        def put_record_batch(self, DeliveryStreamName, Records):
            self.calls += 1
            raise ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "Slow down."}},
                              "PutRecordBatch")

    client = Throttled()
    sink = FirehoseEventSink(STREAMS, client, max_attempts=50, retry_budget_s=2.5,
                             sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    with pytest.raises(StoreUnavailable):
        sink.write("site1", [make_row(noon)])
    # Waits 0.1 + 0.2 + 0.4 + 0.8 + 1.0 (the cap) = 2.5 s between six calls; a seventh would end at 3.5 s.
    assert now[0] == pytest.approx(2.5) and client.calls == 6


class SimulatedFirehose:
    """Delivery streams that each take at most ``calls_per_second`` PutRecordBatch calls per second and
    refuse the rest whole (ServiceUnavailableException), as an over-quota stream does; sometimes a record
    of an accepted call fails alone (InternalFailure). Time is the sink's own (simulated) clock."""

    def __init__(self, clock: list[float], calls_per_second: int, record_failure_every: int = 97) -> None:
        self.clock = clock
        self.limit = calls_per_second
        self.calls: Counter = Counter()
        self.stored: dict[str, list[bytes]] = defaultdict(list)
        self.record_failure_every = record_failure_every
        self.seen = 0

    def put_record_batch(self, DeliveryStreamName, Records):
        window = (DeliveryStreamName, int(self.clock[0]))
        self.calls[window] += 1
        if self.calls[window] > self.limit:
            raise ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "Slow down."}},
                              "PutRecordBatch")
        results = []
        for record in Records:
            self.seen += 1
            if self.seen % self.record_failure_every == 0:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "internal"})
            else:
                self.stored[DeliveryStreamName].append(record["Data"])
                results.append({"RecordId": f"r{self.seen}"})
        return {"FailedPutCount": sum("ErrorCode" in r for r in results), "RequestResponses": results}


def _burst(streams: tuple[str, ...], events_per_second: int, seconds: int, make_row, noon):
    """Every event's write starts at its arrival time on the simulated clock; waits move that clock on."""
    clock = [0.0]
    firehose = SimulatedFirehose(clock, calls_per_second=2000)
    sink = FirehoseEventSink(streams, firehose, sleep=lambda s: clock.__setitem__(0, clock[0] + s),
                             clock=lambda: clock[0])
    acknowledged, refused = [], 0
    for n in range(events_per_second * seconds):
        clock[0] = n / events_per_second
        row = make_row(noon, session_id=1_000_000 + n // 3, seq=n)  # three events per session
        try:
            sink.write("site1", [row])
        except StoreUnavailable:
            refused += 1
        else:
            acknowledged.append(n)
    stored = Counter(json.loads(data)["seq"] for datas in firehose.stored.values() for data in datas)
    return acknowledged, refused, stored, firehose


def test_a_burst_of_5000_events_per_second_for_60_s_is_absorbed_by_four_streams(make_row, noon):
    """us-east-1's 2,000 calls/s per stream: four streams take 5,000 single-event calls/s with room for retries."""
    acknowledged, refused, stored, firehose = _burst(STREAMS, 5000, 60, make_row, noon)
    assert refused == 0 and len(acknowledged) == 300_000
    assert all(stored[n] == 1 for n in acknowledged)  # every acknowledged event stored, none twice
    assert set(stored) == set(acknowledged)
    busiest = max(firehose.calls.values())
    assert busiest <= 2000 + 200  # within the quota (the excess are the refused calls that were retried)
    assert len({stream for stream, _ in firehose.calls}) == 4


def test_two_streams_are_over_quota_yet_retries_on_the_other_stream_save_most_events(make_row, noon):
    acknowledged, refused, stored, firehose = _burst(STREAMS[:2], 5000, 5, make_row, noon)
    assert 0 < refused < 5000 * 5 * 0.25
    assert all(stored[n] == 1 for n in acknowledged) and set(stored) == set(acknowledged)


def test_one_stream_cannot_take_the_burst_but_loses_no_acknowledged_event(make_row, noon):
    acknowledged, refused, stored, _ = _burst(STREAMS[:1], 5000, 2, make_row, noon)
    assert refused > 0  # 5,000 calls/s against 2,000: the rest answer 503 (not acknowledged)
    assert all(stored[n] == 1 for n in acknowledged)
    assert set(stored) == set(acknowledged)


def test_rows_reach_s3_through_every_stream_with_moto(aws_env, make_row, noon):
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="events-bucket")
        firehose = boto3.client("firehose", region_name=REGION)
        for stream in STREAMS:
            firehose.create_delivery_stream(
                DeliveryStreamName=stream,
                ExtendedS3DestinationConfiguration={
                    "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                    "BucketARN": "arn:aws:s3:::events-bucket",
                    "Prefix": f"events/{stream}/",
                },
            )
        sink = FirehoseEventSink(",".join(STREAMS), firehose)
        rows = [make_row(noon, session_id=s, seq=s) for s in range(200)]
        for row in rows:
            sink.write("site1", [row])
        seen = Counter()
        for obj in s3.list_objects_v2(Bucket="events-bucket")["Contents"]:
            body = s3.get_object(Bucket="events-bucket", Key=obj["Key"])["Body"].read().decode()
            for line in filter(None, body.split("\n")):
                seen[json.loads(line)["seq"]] += 1
                assert obj["Key"].startswith(f"events/{STREAMS[home_stream(rows[json.loads(line)['seq']], b'', 4)]}/")
    assert seen == Counter(range(200))
