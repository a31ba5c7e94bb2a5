"""What each event costs the DynamoDB live table, measured: calls sent and capacity units worked out from the
items before and after each write (``tests/support/dynamodb_meter.py``, DynamoDB's documented rules), through
the real pipeline and through the adapter alone."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from clickport import tables
from clickport.adapters.dynamodb_live import DynamoDbLiveStore
from clickport.errors import StoreUnavailable
from clickport.ingest.drops import DropCounter
from clickport.ingest.models import EventRequest, TrackRequest
from clickport.ingest.pipeline import Accepted, Arrival, Drop, EventPipeline
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
    """The calls since ``start`` in the pipeline's order: the rate limit, the session lookup's reads (run on a
    lookup thread while the rate limit is in flight, so they may finish in either order), then the rest."""
    log = meter.log[start:]
    main = [entry["operation"] for entry in log if not _looked_up(entry)]
    lookup = [entry["operation"] for entry in log if _looked_up(entry)]
    return main[:1] + lookup + main[1:]


def _looked_up(entry):
    return entry["thread"].startswith("session-lookup")


# The adapter alone


def test_a_new_session_writes_its_item_and_one_index_entry(store, meter, new_session):
    store.create_session(new_session(last_ms=BUCKET * 2_900_000 + 5))
    assert meter.log[-1]["operation"] == "PutItem"
    assert (meter.log[-1]["table_units"], meter.log[-1]["index_units"]) == (1, {"realtime": 1})


def test_an_event_in_the_same_period_writes_the_table_only(store, meter, new_session):
    start = BUCKET * 2_900_000
    session = new_session(last_ms=start + 1_000, started_ms=start + 1_000)
    store.create_session(session)
    for ts in (start + 2_000, start + 60_000, start + BUCKET + 999):  # the last one: the period's last ms
        store.record_event(SITE, session.session_id, ts_ms=ts, page="/a", page_visit_id="a" * 16, pageview=True,
                           scroll=None, expires_at=ts // 1000 + 90_000, started_ms=session.started_ms)
        assert (meter.log[-1]["operation"], meter.log[-1]["table_units"], meter.log[-1]["index_units"]) == (
            "UpdateItem", 1, {})


def test_entering_a_new_period_moves_the_index_entry_once(store, meter, new_session):
    start = BUCKET * 2_900_000 + 123_456  # periods count from the session's start, not from the clock's
    session = new_session(last_ms=start + BUCKET - 10, started_ms=start)
    store.create_session(session)
    units = []
    for ts in (start + BUCKET, start + BUCKET + 5, start + 3 * BUCKET + 1):
        store.record_event(SITE, session.session_id, ts_ms=ts, page=None, page_visit_id=None, pageview=False,
                           scroll=None, expires_at=ts // 1000 + 90_000, started_ms=start)
        units.append(meter.log[-1]["index_units"].get("realtime", 0))
    assert units == [2, 0, 2]  # delete + put when the key changes, nothing within a period


def test_a_visit_across_a_clock_bucket_edge_never_moves_its_index_entry(store, meter, new_session):
    """Buckets on the clock (10 minutes, before periods) moved the entry of every visit that crossed one of
    their edges (2 units); periods counted from the session's start move it only once the session is a period
    old."""
    edge = 600_000 * 2_900_000  # an edge of the clock's 10-minute buckets, and of 6-minute ones too
    session = new_session(last_ms=edge - 60_000, started_ms=edge - 60_000)  # a minute before the edge
    store.create_session(session)
    for ts in (edge - 20_000, edge + 20_000, edge - 60_000 + BUCKET - 1):  # the last: the period's last ms
        store.record_event(SITE, session.session_id, ts_ms=ts, page=None, page_visit_id=None, pageview=False,
                           scroll=None, expires_at=ts // 1000 + 90_000, started_ms=session.started_ms)
        assert meter.log[-1]["index_units"] == {}


def test_an_event_without_the_sessions_start_keeps_the_window_exact(store, new_session):
    """``started_ms`` only aligns the period; without it (periods from the epoch) the key moves, and the
    window is as exact."""
    start = BUCKET * 2_900_000 + 7_777
    session = new_session(last_ms=start, started_ms=start)
    store.create_session(session)
    store.record_event(SITE, session.session_id, ts_ms=start + BUCKET + 1, page=None, page_visit_id=None,
                       pageview=False, scroll=None, expires_at=2**40)
    for since, expected in ((start + BUCKET + 1, 1), (start + BUCKET + 2, 0)):
        assert store.active_sessions(SITE, since, since + 1, 20)[0] == expected


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
    # counter 1, session 1 (same bucket: no index write); the pageview reads eventually consistent: half a unit
    assert _since(meter, before) == (3, 2, 0.5)
    start, before = len(meter.log), meter.snapshot()
    _send(pipeline, NOON + timedelta(seconds=50), tracked=True, session_id=first.session_id, type="custom")
    assert _operations(meter, start) == ["UpdateItem", "GetItem", "UpdateItem"]
    assert _since(meter, before) == (3, 2, 1)  # a custom event takes the current page visit: a consistent read


def test_server_side_events_find_their_session_in_one_read(pipeline, meter):
    start = _warm_salt(pipeline, meter)
    before = meter.snapshot()
    first = _send(pipeline, NOON, tracked=False)
    # rate limit, the visitor pointer (absent), the claim, the session state in the pointer, its alias
    assert _operations(meter, start) == ["UpdateItem", "GetItem", "PutItem", "PutItem", "PutItem"]
    # 1 + claim 1 + state 1 + its index entry 1 + alias 1; the pointer read (a pageview's) half a unit
    assert _since(meter, before) == (5, 5, 0.5)
    for step, kind in enumerate(["pageview", "custom", "pageview"], start=1):
        start, before = len(meter.log), meter.snapshot()
        again = _send(pipeline, NOON + timedelta(seconds=30 * step), tracked=False, type=kind, page=f"/p{step}")
        assert again.session_id == first.session_id
        assert _operations(meter, start) == ["UpdateItem", "GetItem", "UpdateItem"]  # one read, not two
        assert _since(meter, before) == (3, 2, 0.5 if kind == "pageview" else 1)
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
    since = BUCKET * 2_900_000 + BUCKET // 2
    # One-event sessions: each period starts at the session's start. Candidates are the sessions whose period
    # started within a period before `since`: the window's sessions and those of the period before it.
    inside = [new_session(last_ms=since + i * 1_000, started_ms=since + i * 1_000) for i in range(30)]
    before = [new_session(last_ms=since - 1 - i * 1_000, started_ms=since - 1 - i * 1_000)
              for i in range(10)]  # a candidate, outside the window
    older = [new_session(last_ms=since - BUCKET - 1_000, started_ms=since - BUCKET - 1_000)
             for _ in range(5)]  # a period started more than a period before `since`: never a candidate
    for session in inside + before + older:
        store.create_session(session)
    start = len(meter.log)
    count, newest = store.active_sessions(SITE, since, since + 300_000, 20)
    assert count == 30 and len(newest) == 20
    log = meter.log[start:]
    batches = [entry["read_units"] for entry in log if entry["operation"] == "BatchGetItem"]
    assert batches == [(30 + 10) * 0.5, 20 * 0.5]  # the candidates' last activity, then the 20 newest in full
    assert sum(1 for entry in log if entry["operation"] == "Query") == tables.REALTIME_SHARDS


# Eventually consistent reads: an older copy never changes what an event continues or shows


class LaggingReplica:
    """The test's DynamoDB client, except that eventually consistent ``GetItem`` answers from a copy of the
    table taken at ``freeze()`` (an item written since is missing or old there), as a lagging replica would.
    Every call still goes through the metered client, so its units are counted."""

    def __init__(self, client, table):
        self._client, self._table, self.copy = client, table, {}

    def freeze(self):
        self.copy = {(i["pk"]["S"], i["sk"]["S"]): i for i in self._client.scan(TableName=self._table)["Items"]}

    def get_item(self, **kwargs):
        response = dict(self._client.get_item(**kwargs))
        if not kwargs.get("ConsistentRead"):
            old = self.copy.get((kwargs["Key"]["pk"]["S"], kwargs["Key"]["sk"]["S"]))
            response.pop("Item", None)
            if old is not None:
                response["Item"] = old
        return response

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.fixture
def replica(dynamodb_client, live_table):
    return LaggingReplica(dynamodb_client, live_table)


@pytest.fixture
def lagging(replica, live_table):
    return EventPipeline(live=DynamoDbLiveStore(live_table, client=replica), sink=ListSink(), config=NoConfig(),
                         drops=DropCounter())


@pytest.mark.parametrize("kind", ["pageview", "engagement"])
def test_a_tracker_session_missing_from_the_replica_is_read_again_consistently(lagging, replica, meter, kind):
    replica.freeze()  # before the session exists
    first = _send(lagging, NOON, tracked=True)
    start = len(meter.log)
    fields = {"domain": "example.com", "url": "https://example.com/", "session_id": first.session_id,
              "type": kind}
    if kind == "engagement":
        fields.update(page_visit_id=first.page_visit_id, engaged_ms=1_000)
    result = lagging.ingest(Arrival(SITE_RECORD, TrackRequest(**fields), NOON + timedelta(seconds=1), "203.0.113.7",
                                    UA, {"country": "DE", "region": None, "city": None}, "track"))
    assert isinstance(result, Accepted) and result.session_id == first.session_id
    assert _operations(meter, start) == ["UpdateItem", "GetItem", "GetItem", "UpdateItem"]
    assert [e["read_units"] for e in meter.log[start:] if e["operation"] == "GetItem"] == [0.5, 1.0]
    assert lagging.sink.rows[-1]["session_id"] == first.session_id


def test_a_custom_event_takes_the_current_page_visit_never_the_replicas(lagging, replica, meter):
    first = _send(lagging, NOON, tracked=True)
    replica.freeze()  # the replica holds the first page visit
    second = _send(lagging, NOON + timedelta(seconds=1), tracked=True, session_id=first.session_id, page="/b")
    assert second.page_visit_id != first.page_visit_id
    custom = _send(lagging, NOON + timedelta(seconds=2), tracked=True, session_id=first.session_id, type="custom")
    assert custom.page_visit_id == second.page_visit_id
    assert lagging.sink.rows[-1]["page_visit_id"] == second.page_visit_id


def test_a_server_side_session_missing_from_the_replica_is_found_by_the_claim(lagging, replica, meter):
    """The visitor's pointer read lags behind its first event: the conditional claim hands back the active
    session, and the event joins it (no second session, nothing shown twice in realtime)."""
    replica.freeze()
    first = _send(lagging, NOON, tracked=False)
    start = len(meter.log)
    again = _send(lagging, NOON + timedelta(seconds=1), tracked=False, page="/next")
    assert again.session_id == first.session_id
    # rate limit, the pointer (missing from the replica), the refused claim (it returns the session), the update
    assert _operations(meter, start) == ["UpdateItem", "GetItem", "PutItem", "UpdateItem"]
    rows = lagging.sink.rows
    assert [row["session_id"] for row in rows] == [first.session_id] * 2
    assert rows[1]["visitor_id"] == rows[0]["visitor_id"]
    now_ms = int((NOON + timedelta(seconds=2)).timestamp() * 1000)
    count, sessions = lagging.live.active_sessions(SITE, now_ms - 300_000, now_ms, 20)
    assert count == 1 and sessions[0].pageviews == 2


def test_an_old_copy_showing_the_visitor_idle_does_not_start_a_second_session(lagging, replica, meter):
    """The replica still has the visitor's session as last active 31 minutes ago, though an event 1 s ago
    renewed it: the claim is refused and the event continues the session."""
    first = _send(lagging, NOON, tracked=False)
    replica.freeze()
    later = NOON + timedelta(minutes=31)
    renewed = _send(lagging, later, tracked=False, type="custom")  # custom: consistent, so it sees the gap
    assert renewed.session_id != first.session_id
    replica.freeze()
    _send(lagging, later + timedelta(seconds=1), tracked=False, type="custom")
    # The replica knows the renewed session; force it to be one event behind with the old session's state.
    key = ("VISITOR#" + SITE + "#" + str(lagging.sink.rows[-1]["visitor_id"]), "VISITOR")
    stale = dict(replica.copy[key])
    stale["last_ms"] = {"N": str(int(NOON.timestamp() * 1000))}
    replica.copy[key] = stale
    again = _send(lagging, later + timedelta(seconds=2), tracked=False)
    assert again.session_id == renewed.session_id


def test_a_consistent_read_never_takes_what_an_eventually_consistent_one_handed_over(store, replica, meter,
                                                                                  new_session, live_table):
    lagging_store = DynamoDbLiveStore(live_table, client=replica)
    t0 = 1_750_000_000_000
    lagging_store.claim_visitor_session(SITE, 7, 111, t0, 1_800_000, t0 // 1000 + 90_000)
    lagging_store.create_session(new_session(session_id=111, visitor_id=7, last_ms=t0, started_ms=t0))
    replica.freeze()
    lagging_store.record_event(SITE, 111, ts_ms=t0 + 5, page="/b", page_visit_id="b" * 16, pageview=True,
                               scroll=None, expires_at=t0 // 1000 + 90_000)
    assert lagging_store.visitor_session(SITE, 7, t0 + 6, 1_800_000, consistent=False) == 111
    start = len(meter.log)
    assert lagging_store.get_session(SITE, 111, t0 + 6).current_page == "/b"  # read again, consistently
    assert [(e["operation"], e["read_units"]) for e in meter.log[start:]] == [("GetItem", 1.0)] * 2  # alias, pointer
    assert lagging_store.visitor_session(SITE, 7, t0 + 6, 1_800_000, consistent=False) == 111
    start = len(meter.log)
    assert lagging_store.get_session(SITE, 111, t0 + 6, consistent=False).current_page == "/"  # the replica's
    assert meter.log[start:] == []  # handed over: no read


class HeldRateLimit:
    """The test's client, except that the rate-limit update waits (up to 5 s) until a session read has started:
    it only returns early when the pipeline reads while the update is in flight."""

    def __init__(self, client):
        self._client, self.read_started, self.overlapped = client, threading.Event(), []

    def get_item(self, **kwargs):
        self.read_started.set()
        return self._client.get_item(**kwargs)

    def update_item(self, **kwargs):
        if kwargs["Key"]["pk"]["S"].startswith("RATE#"):
            self.overlapped.append(self.read_started.wait(timeout=5))
            self.read_started.clear()
        return self._client.update_item(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.mark.parametrize("tracked", [True, False], ids=["tracker", "server-side"])
def test_the_session_read_runs_while_the_rate_limit_update_is_in_flight(dynamodb_client, live_table, meter, tracked):
    """One round trip for both: the Lambda duration model counts them as one."""
    held = HeldRateLimit(dynamodb_client)
    pipeline = EventPipeline(live=DynamoDbLiveStore(live_table, client=held), sink=ListSink(), config=NoConfig(),
                             drops=DropCounter())
    first = _send(pipeline, NOON, tracked=tracked)
    start = len(meter.log)
    again = _send(pipeline, NOON + timedelta(seconds=30), tracked=tracked,
                  session_id=first.session_id if tracked else None)
    assert again.session_id == first.session_id
    assert held.overlapped[-1] is True
    assert [(e["operation"], _looked_up(e)) for e in meter.log[start:] if e["operation"] == "GetItem"] == [
        ("GetItem", True)]


def test_a_rate_limited_event_writes_nothing_though_its_session_was_looked_up(pipeline, meter):
    first = _send(pipeline, NOON, tracked=True)
    for second in range(1, 60):
        _send(pipeline, NOON + timedelta(milliseconds=second), tracked=True, session_id=first.session_id)
    start = len(meter.log)
    body = TrackRequest(domain="example.com", url="https://example.com/", session_id=first.session_id)
    result = pipeline.ingest(Arrival(SITE_RECORD, body, NOON + timedelta(milliseconds=100), "203.0.113.7", UA,
                                     {"country": "DE", "region": None, "city": None}, "track"))
    assert result == Drop("rate_limited")
    assert sorted(e["operation"] for e in meter.log[start:]) == ["GetItem", "UpdateItem"]  # the refused counter
    assert len(pipeline.sink.rows) == 60


def test_a_lookup_that_fails_answers_503_once_the_rate_limit_allowed_the_event(dynamodb_client, live_table):
    """The session lookup runs on its own thread; its failure still reaches the answer (503), and nothing is
    stored."""

    class ThrottledReads:
        def __init__(self, client):
            self._client = client

        def get_item(self, **kwargs):
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetItem")

        def __getattr__(self, name):
            return getattr(self._client, name)

    pipeline = EventPipeline(live=DynamoDbLiveStore(live_table, client=ThrottledReads(dynamodb_client)),
                             sink=ListSink(), config=NoConfig(), drops=DropCounter())
    body = TrackRequest(domain="example.com", url="https://example.com/", session_id=12345)
    with pytest.raises(StoreUnavailable):
        pipeline.ingest(Arrival(SITE_RECORD, body, NOON, "203.0.113.7", UA, {"country": None, "region": None,
                                                                               "city": None}, "track"))
    assert pipeline.sink.rows == []
