"""What each event costs the DynamoDB live table, measured: calls sent and capacity units worked out from the
items before and after each write (``tests/support/dynamodb_meter.py``, DynamoDB's documented rules), through
the real pipeline and through the adapter alone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest

from clickport import tables
from clickport.adapters.dynamodb_live import DynamoDbLiveStore
from clickport.ingest.drops import DropCounter
from clickport.ingest.models import EventRequest, TrackRequest
from clickport.ingest.pipeline import Accepted, Arrival, EventPipeline
from clickport.ports import Site
from tests.support.dynamodb_meter import Meter, item_size
from tests.support.events import ListSink, NoConfig

SITE = "s_site000001"
BUCKET = tables.REALTIME_BUCKET_MS
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"


@pytest.fixture
def meter(dynamodb_client, live_table):
    peek = boto3.client("dynamodb", region_name="us-east-1")
    return Meter(tables.LIVE_TABLE, peek).attach(dynamodb_client)


@pytest.fixture
def store(dynamodb_client, live_table):
    return DynamoDbLiveStore(live_table, client=dynamodb_client)


def _since(meter, before):
    calls, writes, reads = meter.snapshot()
    return calls - before[0], writes - before[1], reads - before[2]


def _operations(meter, start):
    return [entry["operation"] for entry in meter.log[start:]]


# The adapter alone


def test_a_new_session_writes_its_item_and_one_index_entry(store, meter, new_session):
    store.create_session(new_session(last_ms=BUCKET * 2_900_000 + 5))
    assert meter.log[-1]["operation"] == "PutItem"
    assert (meter.log[-1]["table_units"], meter.log[-1]["index_units"]) == (1, {"realtime": 1})


def test_an_event_in_the_same_bucket_writes_the_table_only(store, meter, new_session):
    start = BUCKET * 2_900_000
    session = new_session(last_ms=start + 1_000, started_ms=start + 1_000)
    store.create_session(session)
    for ts in (start + 2_000, start + 60_000, start + BUCKET - 1):
        store.record_event(SITE, session.session_id, ts_ms=ts, page="/a", page_visit_id="a" * 16, pageview=True,
                           scroll=None, expires_at=ts // 1000 + 90_000)
        assert (meter.log[-1]["operation"], meter.log[-1]["table_units"], meter.log[-1]["index_units"]) == (
            "UpdateItem", 1, {})


def test_entering_a_new_bucket_moves_the_index_entry_once(store, meter, new_session):
    start = BUCKET * 2_900_000
    session = new_session(last_ms=start + BUCKET - 10, started_ms=start)
    store.create_session(session)
    units = []
    for ts in (start + BUCKET, start + BUCKET + 5, start + 3 * BUCKET + 1):
        store.record_event(SITE, session.session_id, ts_ms=ts, page=None, page_visit_id=None, pageview=False,
                           scroll=None, expires_at=ts // 1000 + 90_000)
        units.append(meter.log[-1]["index_units"].get("realtime", 0))
    assert units == [2, 0, 2]  # delete + put when the key changes, nothing within a bucket


def test_the_rate_limit_is_one_conditional_update_of_one_unit(store, meter):
    for _ in range(3):
        store.hit_rate_limit("a" * 64, 2, 2**40)
    assert [(e["operation"], e["table_units"], e["index_units"]) for e in meter.log] == [
        ("UpdateItem", 1, {})] * 3  # the third is refused by its condition and still costs its unit


# Through the pipeline


@pytest.fixture
def pipeline(store):
    return EventPipeline(live=store, sink=ListSink(), config=NoConfig(), drops=DropCounter())


SITE_RECORD = Site(SITE, "example.com", datetime(2025, 1, 1, tzinfo=timezone.utc),
                   first_event_date=datetime(2025, 1, 1).date())
# Rate counters expire by the wall clock: the events happen at the next noon (after the wall clock, far from
# the change of day, where the pipeline also looks for yesterday's visitor).
NOON = datetime.now(timezone.utc).replace(hour=12, minute=0, second=1, microsecond=0) + timedelta(days=1)


def _send(pipeline, at, *, tracked, ip="203.0.113.7", session_id=None, type="pageview", page="/"):
    fields = {"url": f"https://example.com{page}", "type": type}
    if type == "custom":
        fields["name"] = "Signup"
    if tracked:
        fields["domain"] = "example.com"
        if session_id is not None:
            fields["session_id"] = session_id
    body = TrackRequest(**fields) if tracked else EventRequest(**fields)
    result = pipeline.ingest(Arrival(SITE_RECORD, body, at, ip, UA, {"country": "DE", "region": None,
                                                                      "city": None}, "track" if tracked else "event"))
    assert isinstance(result, Accepted), result
    return result


def _warm_salt(pipeline, meter):
    pipeline.salts.salt_for(NOON.date())  # the day's salt: created once a day, cached by the function
    return len(meter.log)


def test_tracker_events_new_and_continued(pipeline, meter):
    start = _warm_salt(pipeline, meter)
    before = meter.snapshot()
    first = _send(pipeline, NOON, tracked=True)
    assert _operations(meter, start) == ["UpdateItem", "PutItem"]  # rate limit, the new session
    assert _since(meter, before) == (2, 3, 0)  # counter 1, session 1, its index entry 1
    start, before = len(meter.log), meter.snapshot()
    _send(pipeline, NOON + timedelta(seconds=40), tracked=True, session_id=first.session_id, page="/pricing")
    assert _operations(meter, start) == ["UpdateItem", "GetItem", "UpdateItem"]
    assert _since(meter, before) == (3, 2, 1)  # counter 1, session 1 (same bucket: no index write); 1 read


def test_server_side_events_find_their_session_in_one_read(pipeline, meter):
    start = _warm_salt(pipeline, meter)
    before = meter.snapshot()
    first = _send(pipeline, NOON, tracked=False)
    # rate limit, the visitor pointer (absent), the claim, the session state in the pointer, its alias
    assert _operations(meter, start) == ["UpdateItem", "GetItem", "PutItem", "PutItem", "PutItem"]
    assert _since(meter, before)[:2] == (5, 5)  # 1 + claim 1 + state 1 + its index entry 1 + alias 1
    for step, kind in enumerate(["pageview", "custom", "pageview"], start=1):
        start, before = len(meter.log), meter.snapshot()
        again = _send(pipeline, NOON + timedelta(seconds=30 * step), tracked=False, type=kind, page=f"/p{step}")
        assert again.session_id == first.session_id
        assert _operations(meter, start) == ["UpdateItem", "GetItem", "UpdateItem"]  # one read, not two
        assert _since(meter, before) == (3, 2, 1)
    rows = pipeline.sink.rows
    assert rows[2]["page_visit_id"] == rows[1]["page_visit_id"]  # the custom event joins the page visit


def test_a_server_side_session_continued_by_id_is_found_through_its_alias(pipeline, meter, store):
    first = _send(pipeline, NOON, tracked=False)
    fresh = DynamoDbLiveStore(store._table, client=store._client)  # another function instance: no hints
    pipeline.live = fresh
    start = len(meter.log)
    body = EventRequest(url="https://example.com/x", session_id=first.session_id)
    result = pipeline.ingest(Arrival(SITE_RECORD, body, NOON + timedelta(seconds=5), "198.51.100.1", UA,
                                     {"country": None, "region": None, "city": None}, "event"))
    assert result.session_id == first.session_id
    # rate limit, the alias, the pointer it names, the update (found at once: the read taught the instance)
    assert _operations(meter, start) == ["UpdateItem", "GetItem", "GetItem", "UpdateItem"]
    assert fresh.get_session(SITE, first.session_id, (NOON + timedelta(seconds=6)).timestamp() * 1000).pageviews == 2


def test_a_visitor_back_after_the_idle_gap_keeps_the_old_session_reachable_by_id(pipeline, store):
    first = _send(pipeline, NOON, tracked=False)
    later = _send(pipeline, NOON + timedelta(minutes=31), tracked=False)
    assert later.session_id != first.session_id
    now_ms = int((NOON + timedelta(minutes=32)).timestamp() * 1000)
    old, new = store.get_session(SITE, first.session_id, now_ms), store.get_session(SITE, later.session_id, now_ms)
    assert (old.session_id, old.last_ms) == (first.session_id, int(NOON.timestamp() * 1000))
    assert new.session_id == later.session_id
    assert store.active_sessions(SITE, now_ms - 300_000, now_ms, 20)[0] == 1


def test_session_items_of_realistic_events_stay_within_one_write_unit(pipeline, store, dynamodb_client, live_table):
    long_referrer = "https://www.google.com/search?q=" + "analytics+privacy+" * 20
    body = TrackRequest(domain="example.com", url="https://example.com/pricing?utm_source=newsletter&utm_medium="
                        "email&utm_campaign=autumn-launch-2025&utm_content=hero&utm_term=analytics",
                        referrer=long_referrer)
    pipeline.ingest(Arrival(SITE_RECORD, body, NOON, "203.0.113.9", UA, {"country": "DE", "region": "DE-BE",
                                                                         "city": "Berlin"}, "track"))
    sessions = [i for i in dynamodb_client.scan(TableName=live_table)["Items"] if "started_ms" in i]
    assert len(sessions) == 1 and item_size(sessions[0]) <= 1024, item_size(sessions[0])


def test_concurrent_first_events_keep_one_copy_of_the_winning_session(dynamodb_client, live_table, new_session):
    """Two function instances claim one visitor; should the loser's instance create the winner's session
    (the winner's state not written yet), it writes it where the winner does: the visitor pointer."""
    first, second = (DynamoDbLiveStore(live_table, client=dynamodb_client) for _ in range(2))
    t0 = 1_750_000_000_000
    assert first.claim_visitor_session(SITE, 7, 111, t0, 1_800_000, t0 // 1000 + 90_000) == 111
    assert second.claim_visitor_session(SITE, 7, 222, t0 + 5, 1_800_000, t0 // 1000 + 90_000) == 111
    session = new_session(session_id=111, visitor_id=7, last_ms=t0 + 5, started_ms=t0 + 5)
    second.create_session(session)
    first.create_session(session)
    items = dynamodb_client.scan(TableName=live_table)["Items"]
    holders = [item["pk"]["S"] for item in items if "started_ms" in item]
    assert holders == [f"VISITOR#{SITE}#7"]
    fresh = DynamoDbLiveStore(live_table, client=dynamodb_client)
    assert fresh.get_session(SITE, 111, t0 + 10) == session


def test_an_instance_with_a_stale_hint_still_updates_the_session_where_it_moved(dynamodb_client, live_table,
                                                                                 new_session):
    """Instance A met session 111 in the visitor pointer; instance B reclaimed the pointer for the visitor's
    next session after the idle gap (111 moved to its own key). A's next event for 111 lands on 111."""
    a, b = (DynamoDbLiveStore(live_table, client=dynamodb_client) for _ in range(2))
    t0, idle = 1_750_000_000_000, 1_800_000
    a.claim_visitor_session(SITE, 7, 111, t0, idle, t0 // 1000 + 90_000)
    a.create_session(new_session(session_id=111, visitor_id=7, last_ms=t0, started_ms=t0))
    later = t0 + idle + 1
    assert b.claim_visitor_session(SITE, 7, 222, later, idle, later // 1000 + 90_000) == 222
    b.create_session(new_session(session_id=222, visitor_id=7, last_ms=later, started_ms=later))
    updated = a.record_event(SITE, 111, ts_ms=later + 5, page="/back", page_visit_id="b" * 16, pageview=True,
                             scroll=None, expires_at=later // 1000 + 90_000)
    assert (updated.session_id, updated.last_ms, updated.current_page) == (111, later + 5, "/back")
    assert b.get_session(SITE, 222, later + 6).last_ms == later  # the pointer's session untouched
    assert b.get_session(SITE, 111, later + 6).current_page == "/back"


def test_a_realtime_call_reads_each_candidate_once_at_half_a_unit(store, meter, new_session):
    """The price of the coarse index: candidates of the window's first bucket before the window are read too."""
    since = BUCKET * 2_900_000 + BUCKET // 2  # mid-bucket: the bucket's first half is before the window
    inside = [new_session(last_ms=since + i * 1_000) for i in range(30)]
    before = [new_session(last_ms=since - 1 - i * 1_000) for i in range(10)]  # same bucket, outside
    older = [new_session(last_ms=since - BUCKET) for _ in range(5)]  # an earlier bucket: never a candidate
    for session in inside + before + older:
        store.create_session(session)
    start = len(meter.log)
    count, newest = store.active_sessions(SITE, since, since + 300_000, 20)
    assert count == 30 and len(newest) == 20
    log = meter.log[start:]
    batches = [entry["read_units"] for entry in log if entry["operation"] == "BatchGetItem"]
    assert batches == [(30 + 10) * 0.5, 20 * 0.5]  # the candidates' last activity, then the 20 newest in full
    assert sum(1 for entry in log if entry["operation"] == "Query") == tables.REALTIME_SHARDS
