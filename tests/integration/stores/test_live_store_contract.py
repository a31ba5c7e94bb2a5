"""LiveStore contract: every test runs against SQLite and DynamoDB (moto)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

SITE = "s_site000001"
OTHER_SITE = "s_site000002"
T0 = 1_750_000_000_000  # caller's clock for sessions (epoch ms)
DAY_S = 86_400
IDLE_MS = 30 * 60 * 1000


def future() -> int:
    return int(time.time()) + 120


def past() -> int:
    return int(time.time()) - 1


# Rate-limit counters


def test_rate_limit_allows_hits_up_to_the_limit_then_refuses(live_store):
    results = [live_store.hit_rate_limit("site|ip|minute", 3, future()) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert live_store.rate_count("site|ip|minute") == 3


def test_rate_count_of_an_unknown_counter_is_zero(live_store):
    assert live_store.rate_count("never-hit") == 0


def test_rate_counters_are_independent_per_key(live_store):
    assert live_store.hit_rate_limit("a", 1, future())
    assert not live_store.hit_rate_limit("a", 1, future())
    assert live_store.hit_rate_limit("b", 1, future())
    assert (live_store.rate_count("a"), live_store.rate_count("b")) == (1, 1)


def test_expired_rate_counter_reads_as_zero_and_restarts_at_one(live_store):
    assert live_store.hit_rate_limit("k", 1, past())
    assert live_store.rate_count("k") == 0
    assert live_store.hit_rate_limit("k", 1, past())  # expired: restarts instead of refusing
    assert live_store.hit_rate_limit("k", 1, future())  # expired again: restarts with the new expiry
    assert not live_store.hit_rate_limit("k", 1, future())
    assert live_store.rate_count("k") == 1


def test_rate_limit_below_one_refuses_every_hit(live_store):
    assert not live_store.hit_rate_limit("zero", 0, future())
    assert live_store.rate_count("zero") == 0


# Daily salts


def test_first_salt_of_a_day_wins(live_store):
    assert live_store.get_or_create_salt("2025-06-15", b"a" * 32, future()) == b"a" * 32
    assert live_store.get_or_create_salt("2025-06-15", b"b" * 32, future()) == b"a" * 32


def test_salts_are_per_day(live_store):
    live_store.get_or_create_salt("2025-06-15", b"a" * 32, future())
    assert live_store.get_or_create_salt("2025-06-16", b"b" * 32, future()) == b"b" * 32


def test_expired_salt_is_replaced_by_the_candidate(live_store):
    live_store.get_or_create_salt("2025-06-15", b"a" * 32, past())
    assert live_store.get_or_create_salt("2025-06-15", b"b" * 32, future()) == b"b" * 32


def test_delete_salts_before_removes_only_earlier_days(live_store):
    for day, salt in [("2025-06-13", b"1" * 32), ("2025-06-14", b"2" * 32), ("2025-06-15", b"3" * 32)]:
        live_store.get_or_create_salt(day, salt, future())
    assert live_store.delete_salts_before("2025-06-15") == 2
    assert live_store.delete_salts_before("2025-06-15") == 0
    assert live_store.get_or_create_salt("2025-06-14", b"x" * 32, future()) == b"x" * 32
    assert live_store.get_or_create_salt("2025-06-15", b"x" * 32, future()) == b"3" * 32


# Sessions


def test_session_round_trips(live_store, new_session):
    session = new_session(
        attributes={"source": "Direct / None", "referrer_url": None, "country": "DE", "empty": ""},
        scroll=35,
        entry_page="/landing",
        current_page="/landing",
    )
    live_store.create_session(session)
    assert live_store.get_session(SITE, session.session_id, T0) == session


def test_session_without_scroll_or_attributes_round_trips(live_store, new_session):
    session = new_session(scroll=None, attributes={})
    live_store.create_session(session)
    assert live_store.get_session(SITE, session.session_id, T0) == session


def test_session_of_another_site_is_not_returned(live_store, new_session):
    session = new_session()
    live_store.create_session(session)
    assert live_store.get_session(OTHER_SITE, session.session_id, T0) is None


def test_unknown_session_is_none(live_store):
    assert live_store.get_session(SITE, 12345, T0) is None


def test_reads_that_may_lag_answer_like_consistent_ones_when_nothing_is_in_flight(live_store, new_session):
    """``consistent=False`` (DynamoDB's eventually consistent read) on data written before: the same answers."""
    session = new_session(session_id=111, visitor_id=7)
    live_store.claim_visitor_session(SITE, 7, 111, T0, IDLE_MS, T0 // 1000 + DAY_S)
    live_store.create_session(session)
    updated = live_store.record_event(SITE, 111, ts_ms=T0 + 5, page="/next", page_visit_id="c" * 16, pageview=True,
                                      scroll=None, expires_at=T0 // 1000 + DAY_S)
    assert live_store.get_session(SITE, 111, T0 + 6, consistent=False) == updated
    assert live_store.visitor_session(SITE, 7, T0 + 6, IDLE_MS, consistent=False) == 111
    assert live_store.get_session(SITE, 111, T0 + 6, consistent=False) == updated  # after the pointer's read too
    assert live_store.get_session(SITE, 222, T0 + 6, consistent=False) is None
    assert live_store.visitor_session(SITE, 8, T0 + 6, IDLE_MS, consistent=False) is None


@pytest.mark.parametrize(
    ("now_ms_offset", "live"),
    [(-1, True), (0, False), (1, False)],
    ids=["just-before-expiry", "at-expiry", "after-expiry"],
)
def test_session_expires_at_expires_at(live_store, new_session, now_ms_offset, live):
    session = new_session(expires_at=T0 // 1000 + 60)
    live_store.create_session(session)
    found = live_store.get_session(SITE, session.session_id, session.expires_at * 1000 + now_ms_offset)
    assert (found is not None) is live


def _event(live_store, session, ts_ms, *, page=None, page_visit_id=None, pageview=False, scroll=None):
    return live_store.record_event(
        session.site_id,
        session.session_id,
        ts_ms=ts_ms,
        page=page,
        page_visit_id=page_visit_id,
        pageview=pageview,
        scroll=scroll,
        expires_at=ts_ms // 1000 + DAY_S,
    )


def test_record_event_applies_each_event_in_order(live_store, new_session):
    session = new_session(entry_page="/a", current_page="/a", page_visit_id="pv1", pageviews=1, seq=1)
    live_store.create_session(session)
    # (event, expected session fields after it)
    steps = [
        (dict(page="/b", page_visit_id="pv2", pageview=True),
         dict(seq=2, pageviews=2, current_page="/b", page_visit_id="pv2")),
        (dict(), dict(seq=3, pageviews=2, current_page="/b", page_visit_id="pv2")),
        (dict(page="/b", page_visit_id="pv2", pageview=False),
         dict(seq=4, pageviews=2, current_page="/b", page_visit_id="pv2")),
        (dict(page="/c", page_visit_id="pv3", pageview=True),
         dict(seq=5, pageviews=3, current_page="/c", page_visit_id="pv3")),
    ]
    for step, (event, expected) in enumerate(steps, start=1):
        ts_ms = T0 + step * 1000
        updated = _event(live_store, session, ts_ms, **event)
        want = replace(session, last_ms=ts_ms, expires_at=ts_ms // 1000 + DAY_S, **expected)
        assert updated == want, f"after step {step}"
        assert live_store.get_session(SITE, session.session_id, ts_ms) == want
    assert updated.entry_page == "/a" and updated.started_ms == session.started_ms


def test_record_event_keeps_the_greatest_scroll(live_store, new_session):
    session = new_session(scroll=None)
    live_store.create_session(session)
    seen = []
    for step, scroll in enumerate([None, 40, 20, None, 70, 65], start=1):
        seen.append(_event(live_store, session, T0 + step, scroll=scroll).scroll)
    assert seen == [None, 40, 40, 40, 70, 70]
    assert live_store.get_session(SITE, session.session_id, T0).scroll == 70


def test_record_event_refreshes_expiry(live_store, new_session):
    session = new_session(expires_at=T0 // 1000 + 60)
    live_store.create_session(session)
    _event(live_store, session, T0 + 30_000)  # expires_at becomes (T0 + 30 s) + 1 day
    assert live_store.get_session(SITE, session.session_id, T0 + 120_000) is not None


@pytest.mark.parametrize("case", ["unknown", "other-site", "expired"])
def test_record_event_refuses_a_session_that_is_not_live(live_store, new_session, case):
    session = new_session(expires_at=T0 // 1000 + 60)
    live_store.create_session(session)
    site, session_id, ts_ms = {
        "unknown": (SITE, session.session_id + 1, T0),
        "other-site": (OTHER_SITE, session.session_id, T0),
        "expired": (SITE, session.session_id, session.expires_at * 1000),
    }[case]
    with pytest.raises(KeyError):
        live_store.record_event(site, session_id, ts_ms=ts_ms, page="/x", page_visit_id="p", pageview=True,
                                scroll=10, expires_at=ts_ms // 1000 + DAY_S)
    assert live_store.get_session(SITE, session.session_id, ts_ms) in (None, session)  # untouched or gone


# Visitor → session pointers


def test_first_claim_wins_and_later_claims_join_it(live_store):
    expires = T0 // 1000 + DAY_S
    assert live_store.claim_visitor_session(SITE, 7, 111, T0, IDLE_MS, expires) == 111
    assert live_store.claim_visitor_session(SITE, 7, 222, T0 + 5, IDLE_MS, expires) == 111
    assert live_store.visitor_session(SITE, 7, T0 + 10, IDLE_MS) == 111


@pytest.mark.parametrize(
    ("idle_for_ms", "winner"), [(IDLE_MS, 111), (IDLE_MS + 1, 222)], ids=["at-idle-limit", "past-idle-limit"]
)
def test_claim_replaces_a_pointer_idle_for_longer_than_idle_ms(live_store, idle_for_ms, winner):
    expires = T0 // 1000 + DAY_S
    live_store.claim_visitor_session(SITE, 7, 111, T0, IDLE_MS, expires)
    assert live_store.claim_visitor_session(SITE, 7, 222, T0 + idle_for_ms, IDLE_MS, expires) == winner
    assert live_store.visitor_session(SITE, 7, T0 + idle_for_ms, IDLE_MS) == winner


def test_claim_replaces_an_expired_pointer(live_store):
    live_store.claim_visitor_session(SITE, 7, 111, T0, IDLE_MS, T0 // 1000 + 1)
    assert live_store.claim_visitor_session(SITE, 7, 222, T0 + 1000, IDLE_MS, T0 // 1000 + DAY_S) == 222


def test_visitor_pointers_are_per_site(live_store):
    expires = T0 // 1000 + DAY_S
    live_store.claim_visitor_session(SITE, 7, 111, T0, IDLE_MS, expires)
    assert live_store.claim_visitor_session(OTHER_SITE, 7, 222, T0, IDLE_MS, expires) == 222
    assert live_store.visitor_session(SITE, 7, T0, IDLE_MS) == 111
    assert live_store.visitor_session(OTHER_SITE, 7, T0, IDLE_MS) == 222


@pytest.mark.parametrize(
    ("now_ms", "expected"),
    [(T0, 111), (T0 + IDLE_MS, 111), (T0 + IDLE_MS + 1, None)],
    ids=["same-moment", "at-idle-limit", "idle-too-long"],
)
def test_visitor_session_only_while_active_within_idle_ms(live_store, now_ms, expected):
    live_store.claim_visitor_session(SITE, 7, 111, T0, IDLE_MS, T0 // 1000 + DAY_S)
    assert live_store.visitor_session(SITE, 7, now_ms, IDLE_MS) == expected


@pytest.mark.parametrize(("seconds_after", "expected"), [(9, 111), (10, None)], ids=["before-expiry", "at-expiry"])
def test_visitor_session_ignores_an_expired_pointer(live_store, seconds_after, expected):
    live_store.claim_visitor_session(SITE, 7, 111, T0, IDLE_MS, T0 // 1000 + 10)
    assert live_store.visitor_session(SITE, 7, T0 + seconds_after * 1000, IDLE_MS) == expected


def test_visitor_session_of_unknown_visitor_is_none(live_store):
    assert live_store.visitor_session(SITE, 99, T0, IDLE_MS) is None


# Realtime


def _ids(sessions):
    return [session.session_id for session in sessions]


def test_active_sessions_counts_and_orders_newest_first_ties_by_session_id(live_store, new_session):
    sessions = [
        new_session(session_id=10, last_ms=T0 - 1000),
        new_session(session_id=20, last_ms=T0 - 3000),
        new_session(session_id=31, last_ms=T0 - 2000),
        new_session(session_id=47, last_ms=T0 - 2000),
        new_session(session_id=5, last_ms=T0 - 2000),
    ]
    for session in sessions:
        live_store.create_session(session)
    count, newest = live_store.active_sessions(SITE, T0 - 300_000, T0, 20)
    assert count == 5
    assert _ids(newest) == [10, 47, 31, 5, 20]
    assert newest[0] == sessions[0]
    count, top = live_store.active_sessions(SITE, T0 - 300_000, T0, 3)
    assert (count, _ids(top)) == (5, [10, 47, 31])
    assert live_store.active_sessions(SITE, T0 - 300_000, T0, 0) == (5, [])


def test_active_sessions_window_includes_its_start(live_store, new_session):
    since = T0 - 300_000
    for session_id, last_ms in [(1, since - 1), (2, since), (3, since + 1)]:
        live_store.create_session(new_session(session_id=session_id, last_ms=last_ms))
    count, newest = live_store.active_sessions(SITE, since, T0, 20)
    assert (count, _ids(newest)) == (2, [3, 2])


def test_active_sessions_ignore_expired_sessions(live_store, new_session):
    live_store.create_session(new_session(session_id=1, last_ms=T0 - 1000, expires_at=T0 // 1000))
    live_store.create_session(new_session(session_id=2, last_ms=T0 - 2000, expires_at=T0 // 1000 + 1))
    count, newest = live_store.active_sessions(SITE, T0 - 300_000, T0, 20)
    assert (count, _ids(newest)) == (1, [2])


def test_active_sessions_are_per_site(live_store, new_session):
    live_store.create_session(new_session(site_id=SITE, session_id=1, last_ms=T0))
    live_store.create_session(new_session(site_id=OTHER_SITE, session_id=2, last_ms=T0))
    live_store.create_session(new_session(site_id=OTHER_SITE, session_id=3, last_ms=T0))
    assert _ids(live_store.active_sessions(SITE, T0 - 1, T0, 20)[1]) == [1]
    count, newest = live_store.active_sessions(OTHER_SITE, T0 - 1, T0, 20)
    assert (count, _ids(newest)) == (2, [3, 2])
    assert live_store.active_sessions("s_nobody00000", T0 - 1, T0, 20) == (0, [])


def test_an_event_brings_a_session_into_the_window_and_to_the_top(live_store, new_session):
    quiet = new_session(session_id=1, last_ms=T0 - 600_000)
    busy = new_session(session_id=2, last_ms=T0 - 10_000)
    live_store.create_session(quiet)
    live_store.create_session(busy)
    assert _ids(live_store.active_sessions(SITE, T0 - 300_000, T0, 20)[1]) == [2]
    updated = _event(live_store, quiet, T0 - 5_000, page="/new", page_visit_id="pv9", pageview=True)
    count, newest = live_store.active_sessions(SITE, T0 - 300_000, T0, 20)
    assert (count, _ids(newest)) == (2, [1, 2])
    assert newest[0] == updated


def test_active_sessions_over_many_sessions(live_store, new_session):
    created = [new_session(last_ms=T0 - i * 997 % 200_000) for i in range(60)]
    for session in created:
        live_store.create_session(session)
    count, newest = live_store.active_sessions(SITE, T0 - 100_000, T0, 20)
    expected = sorted(
        (s for s in created if s.last_ms >= T0 - 100_000), key=lambda s: (s.last_ms, s.session_id), reverse=True
    )
    assert count == len(expected)
    assert newest == expected[:20]
