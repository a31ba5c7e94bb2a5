"""DynamoDB-only behaviour: request shapes (one conditional update per hit), throttling, realtime shards."""

from __future__ import annotations

import random
import time
from collections import Counter

import boto3
import pytest
from botocore.stub import ANY, Stubber

from clickport import tables
from clickport.adapters.dynamodb_config import DynamoDbConfigStore
from clickport.adapters.dynamodb_live import DynamoDbLiveStore, realtime_partition
from clickport.errors import StoreUnavailable

SITE = "s_site000001"
T0 = 1_750_000_000_000


@pytest.fixture
def store(dynamodb_client, live_table):
    return DynamoDbLiveStore(live_table, client=dynamodb_client)


@pytest.fixture
def calls(dynamodb_client):
    """Names of the DynamoDB operations the client sends, in order."""
    sent: list[str] = []
    dynamodb_client.meta.events.register("before-call.dynamodb.*", lambda model, **_: sent.append(model.name))
    return sent


@pytest.fixture
def offline_client(aws_env):
    """A client that never reaches a network: Stubber answers (or fails) each call."""
    return boto3.client("dynamodb", region_name="us-east-1")


def test_realtime_shards_spread_random_session_ids_evenly():
    rng = random.Random(7)
    shards = Counter(realtime_partition(SITE, rng.randint(1, 2**53 - 1), 16) for _ in range(10_000))
    mean = 10_000 / 16
    assert set(shards) == {f"{SITE}#{shard}" for shard in range(16)}
    assert all(0.8 * mean <= count <= 1.2 * mean for count in shards.values()), shards


def test_sessions_are_written_under_their_realtime_shard(store, dynamodb_client, live_table, new_session):
    session = new_session(session_id=35, last_ms=T0)
    store.create_session(session)
    store.record_event(SITE, 35, ts_ms=T0 + 5, page=None, page_visit_id=None, pageview=False, scroll=None,
                       expires_at=T0 // 1000 + 60)
    item = dynamodb_client.scan(TableName=live_table)["Items"][0]
    assert item["rt_pk"] == {"S": f"{SITE}#3"}  # 35 % 16
    period = tables.REALTIME_BUCKET_MS
    assert item["rt_sk"] == {"N": str((T0 + 5) // period * period)}  # the period of the last activity (no start given)
    assert item["expires_at"] == {"N": str(T0 // 1000 + 60)}


def test_every_live_item_carries_expires_at(store, dynamodb_client, live_table, new_session):
    store.hit_rate_limit("k", 60, int(time.time()) + 120)
    store.get_or_create_salt("2025-06-15", b"s" * 32, 2**40)
    store.create_session(new_session())
    store.claim_visitor_session(SITE, 7, 1, T0, 1_800_000, T0 // 1000 + 60)
    items = dynamodb_client.scan(TableName=live_table)["Items"]
    assert len(items) == 4
    assert all("N" in item[tables.LIVE_TABLE.ttl_attribute] for item in items)


@pytest.mark.parametrize("hits", [1, 3])
def test_each_rate_limit_hit_is_exactly_one_update_item(store, calls, hits):
    for _ in range(hits):
        store.hit_rate_limit("k", 2, int(time.time()) + 120)
    assert calls == ["UpdateItem"] * hits


def test_a_throttled_rate_limit_hit_counts_as_over_the_limit(offline_client):
    store = DynamoDbLiveStore("live", client=offline_client)
    with Stubber(offline_client) as stub:
        for code in ("ProvisionedThroughputExceededException", "ThrottlingException"):
            stub.add_client_error("update_item", service_error_code=code, http_status_code=400)
        assert store.hit_rate_limit("k", 60, int(time.time()) + 120) is False
        assert store.hit_rate_limit("k", 60, int(time.time()) + 120) is False
        stub.assert_no_pending_responses()


def test_rate_limit_hit_sends_one_conditional_increment(offline_client):
    store = DynamoDbLiveStore("live", client=offline_client)
    with Stubber(offline_client) as stub:
        stub.add_response(
            "update_item",
            {},
            {
                "TableName": "live",
                "Key": {"pk": {"S": "RATE#k"}, "sk": {"S": "RATE"}},
                "UpdateExpression": "SET #e = if_not_exists(#e, :exp) ADD #c :one",
                "ConditionExpression": "attribute_not_exists(#c) OR (#c < :limit AND #e > :now)",
                "ExpressionAttributeNames": {"#c": "count", "#e": "expires_at"},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"}, ":exp": {"N": "2000000000"}, ":limit": {"N": "60"}, ":now": ANY
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        )
        assert store.hit_rate_limit("k", 60, 2_000_000_000) is True
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("get_item", lambda store: store.get_session(SITE, 1, T0)),
        ("put_item", lambda store: store.create_session(_throttled_session())),
        ("query", lambda store: store.active_sessions(SITE, T0 - 1, T0, 20)),
    ],
    ids=["get_session", "create_session", "active_sessions"],
)
def test_throttled_live_store_calls_raise_store_unavailable(offline_client, operation, call):
    store = DynamoDbLiveStore("live", client=offline_client)
    with Stubber(offline_client) as stub:
        stub.add_client_error(operation, service_error_code="ProvisionedThroughputExceededException")
        with pytest.raises(StoreUnavailable):
            call(store)


def test_throttled_config_store_calls_raise_store_unavailable(offline_client):
    store = DynamoDbConfigStore("config", client=offline_client)
    with Stubber(offline_client) as stub:
        stub.add_client_error("transact_write_items", service_error_code="ThrottlingException")
        stub.add_client_error("get_item", service_error_code="InternalServerError", http_status_code=500)
        with pytest.raises(StoreUnavailable):
            store.create_site("example.com")
        with pytest.raises(StoreUnavailable):
            store.get_key("a" * 64)


@pytest.mark.parametrize(
    ("scrolls", "expected_calls"),
    [([None], 1), ([50], 2), ([50, 30], 3), ([50, 50], 3), ([50, 80], 4)],
    ids=["no-scroll", "first-scroll", "lower-scroll", "same-scroll", "higher-scroll"],
)
def test_record_event_is_one_update_plus_one_only_for_a_new_greatest_scroll(
    store, calls, new_session, scrolls, expected_calls
):
    session = new_session()
    store.create_session(session)
    calls.clear()
    for step, scroll in enumerate(scrolls, start=1):
        store.record_event(SITE, session.session_id, ts_ms=T0 + step, page=None, page_visit_id=None,
                           pageview=False, scroll=scroll, expires_at=T0 // 1000 + 60)
    assert calls == ["UpdateItem"] * expected_calls


def test_active_sessions_queries_each_shard_once_then_reads_candidates_and_the_newest(store, calls, new_session):
    for session_id in range(1, 41):
        store.create_session(new_session(session_id=session_id, last_ms=T0 - session_id))
    calls.clear()
    count, newest = store.active_sessions(SITE, T0 - 300_000, T0, 5)
    assert (count, [s.session_id for s in newest]) == (40, [1, 2, 3, 4, 5])
    # one batch read of the candidates' exact last activity, one of the 5 newest in full
    assert Counter(calls) == {"Query": tables.REALTIME_SHARDS, "BatchGetItem": 2}


def test_active_sessions_reads_candidates_in_chunks_of_one_hundred(store, calls, new_session):
    created = [new_session(last_ms=T0 - i) for i in range(250)]
    for session in created:
        store.create_session(session)
    calls.clear()
    count, newest = store.active_sessions(SITE, T0 - 300_000, T0, 20)
    expected = sorted(created, key=lambda s: (s.last_ms, s.session_id), reverse=True)[:20]
    assert (count, newest) == (250, expected)
    assert Counter(calls) == {"Query": tables.REALTIME_SHARDS, "BatchGetItem": 3 + 1}


def test_active_sessions_follows_query_pages(store, new_session):
    store.query_page_size = 1
    created = [new_session(last_ms=T0 - i * 10) for i in range(50)]
    for session in created:
        store.create_session(session)
    count, newest = store.active_sessions(SITE, T0 - 300, T0, 20)
    expected = sorted((s for s in created if s.last_ms >= T0 - 300), key=lambda s: s.last_ms, reverse=True)
    assert count == 31
    assert newest == expected[:20]


def test_other_shard_counts_give_the_same_answer(dynamodb_client, live_table, new_session):
    created = [new_session(last_ms=T0 - i * 1000) for i in range(30)]
    answers = []
    for shards in (1, 4, 16):
        dynamodb_client.delete_table(TableName=live_table)
        dynamodb_client.create_table(**tables.LIVE_TABLE.create_table_kwargs(live_table))
        store = DynamoDbLiveStore(live_table, client=dynamodb_client, shards=shards)
        for session in created:
            store.create_session(session)
        answers.append(store.active_sessions(SITE, T0 - 20_000, T0, 10))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 21


def _throttled_session():
    from clickport.ports import LiveSession

    return LiveSession(site_id=SITE, session_id=1, visitor_id=1, started_ms=T0, last_ms=T0, entry_page="/",
                       current_page="/", page_visit_id="0" * 16, pageviews=1, seq=1, scroll=None, attributes={},
                       expires_at=T0 // 1000 + 60)


def test_the_realtime_index_key_moves_only_when_the_bucket_changes_and_counting_stays_exact(
        store, new_session, dynamodb_client, live_table):
    def index_key(session_id):
        items = dynamodb_client.scan(TableName=live_table)["Items"]
        return next(int(i["rt_sk"]["N"]) // bucket for i in items if i.get("session_id") == {"N": str(session_id)})

    bucket = tables.REALTIME_BUCKET_MS
    edge = T0 // bucket * bucket + bucket  # a whole bucket
    inside = new_session(session_id=16, last_ms=edge + 10_000)  # same bucket as `since`, but after it
    before = new_session(session_id=32, last_ms=edge + 5_000)  # same bucket as `since`, before it
    store.create_session(inside)
    store.create_session(before)
    since = edge + 7_000
    count, sessions = store.active_sessions(SITE, since, since + 300_000, 20)
    assert count == 1 and [s.session_id for s in sessions] == [16]
    # Events within one bucket leave the index key where it was; the next bucket moves it.
    store.record_event(SITE, 16, ts_ms=edge + bucket - 1, page=None, page_visit_id=None, pageview=False,
                       scroll=None, expires_at=2**40)
    assert index_key(16) == edge // bucket
    assert store.active_sessions(SITE, edge + bucket - 1, edge + bucket, 20)[0] == 1
    assert store.active_sessions(SITE, edge + bucket, edge + bucket, 20)[0] == 0
    store.record_event(SITE, 16, ts_ms=edge + bucket + 1_000, page=None, page_visit_id=None, pageview=False,
                       scroll=None, expires_at=2**40)
    assert index_key(16) == edge // bucket + 1
    assert store.active_sessions(SITE, edge + bucket + 500, edge + bucket + 10_000, 20)[0] == 1
    assert store.active_sessions(SITE, edge + bucket + 1_001, edge + bucket + 10_000, 20)[0] == 0


def test_realtime_stays_exact_over_periods_of_any_alignment(store, new_session, dynamodb_client, live_table):
    """Random visits; each event aligns its period to the session's start, or (no start given) to the epoch:
    every window answers exactly what the sessions' last activity says, boundaries included."""
    rng = random.Random(13)
    bucket = tables.REALTIME_BUCKET_MS
    base = T0 // bucket * bucket + 77_777
    last: dict[int, int] = {}
    for session_id in range(1, 61):
        started = base + rng.randrange(0, 3 * bucket)
        store.create_session(new_session(session_id=session_id, started_ms=started, last_ms=started,
                                         expires_at=2**40))
        ts = started
        for _ in range(rng.randrange(0, 6)):
            ts += rng.choice([1, 999, 40_000, bucket // 2, bucket - 1, bucket, bucket + 1])
            store.record_event(SITE, session_id, ts_ms=ts, page=None, page_visit_id=None, pageview=False,
                               scroll=None, expires_at=2**40, started_ms=started if rng.random() < 0.7 else None)
        last[session_id] = ts
    keys = {int(i["rt_sk"]["N"]) for i in dynamodb_client.scan(TableName=live_table)["Items"]}
    assert any(key % bucket for key in keys) and any(key % bucket == 0 for key in keys)  # both alignments
    edges = rng.sample(sorted(last.values()), 25)
    windows = sorted({t + d for t in edges for d in (-1, 0, 1)} | {base + rng.randrange(0, 5 * bucket)
                                                                   for _ in range(15)})
    for since in windows:
        expected = sorted(((ms, sid) for sid, ms in last.items() if ms >= since), reverse=True)
        count, sessions = store.active_sessions(SITE, since, since + 1, 100)
        assert (count, [s.session_id for s in sessions]) == (len(expected), [sid for _, sid in expected]), since


def test_a_key_written_before_periods_is_found_again_at_the_sessions_next_event(store, new_session,
                                                                               dynamodb_client, live_table):
    """The one step of an upgrade from the 10-minute buckets (``rt_sk`` = ``last_ms // 600_000``): such a key
    is below every lower bound, so its session is missing from realtime until its next event (at most the
    300 s window after the upgrade); that event writes a period start."""
    session = new_session(session_id=5, started_ms=T0, last_ms=T0, expires_at=2**40)
    store.create_session(session)
    dynamodb_client.update_item(TableName=live_table, Key={"pk": {"S": f"SESSION#{SITE}#5"}, "sk": {"S": "SESSION"}},
                                UpdateExpression="SET rt_sk = :b",
                                ExpressionAttributeValues={":b": {"N": str(T0 // 600_000)}})
    assert store.active_sessions(SITE, T0, T0 + 1, 20)[0] == 0
    store.record_event(SITE, 5, ts_ms=T0 + 1_000, page=None, page_visit_id=None, pageview=False, scroll=None,
                       expires_at=2**40, started_ms=T0)
    assert store.active_sessions(SITE, T0, T0 + 1_001, 20)[0] == 1
