"""Realtime window contract (spec §6), for both live stores: exact at the 300 s boundary and across the
buckets of the DynamoDB realtime index (whose candidates are coarser than the window)."""

from __future__ import annotations

import pytest

from clickport import tables
from clickport.domain.realtime import ACTIVE_WINDOW_MS, realtime_snapshot

SITE = "s_site000001"
BUCKET = tables.REALTIME_BUCKET_MS
EDGE = 1_750_000_000_000 // BUCKET * BUCKET + BUCKET  # a bucket edge
DAY_S = 86_400


def _event(store, session, ts_ms):
    return store.record_event(SITE, session.session_id, ts_ms=ts_ms, page=None, page_visit_id=None,
                              pageview=False, scroll=None, expires_at=ts_ms // 1000 + DAY_S)


def _ids(sessions):
    return [session.session_id for session in sessions]


@pytest.mark.parametrize("offset_ms", [-BUCKET // 2, -1, 0, 1, BUCKET // 3])
def test_snapshot_lists_a_session_at_the_boundary_and_not_one_millisecond_outside(live_store, new_session,
                                                                                    offset_ms):
    now = EDGE + offset_ms + ACTIVE_WINDOW_MS  # the window's start lands around a bucket edge
    since = now - ACTIVE_WINDOW_MS
    for session_id, last_ms in [(1, since - 1), (2, since), (3, since + 1), (4, now)]:
        live_store.create_session(new_session(session_id=session_id, last_ms=last_ms, started_ms=last_ms - 5_000,
                                              expires_at=last_ms // 1000 + DAY_S))
    snapshot = realtime_snapshot(live_store, SITE, now)
    assert snapshot["count"] == 3
    assert [visitor["session_id"] for visitor in snapshot["visitors"]] == [4, 3, 2]
    assert [visitor["duration"] for visitor in snapshot["visitors"]] == [5, 5, 5]


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        (EDGE - 2, [3, 2, 1]),
        (EDGE - 1, [3, 2, 1]),  # 1's last activity is exactly the start of the window
        (EDGE, [3, 2]),  # 1 is one millisecond outside; 2 exactly at the start, in the new bucket
        (EDGE + 1, [3]),  # 3 crossed the edge with its second event
        (EDGE + 2, []),
    ],
)
def test_sessions_on_both_sides_of_a_bucket_edge(live_store, new_session, since, expected):
    live_store.create_session(new_session(session_id=1, last_ms=EDGE - 1, started_ms=EDGE - 60_000))
    live_store.create_session(new_session(session_id=2, last_ms=EDGE, started_ms=EDGE))
    crossing = new_session(session_id=3, last_ms=EDGE - 1, started_ms=EDGE - 30_000)
    live_store.create_session(crossing)
    _event(live_store, crossing, EDGE + 1)
    count, newest = live_store.active_sessions(SITE, since, EDGE + 10_000, 20)
    assert (count, _ids(newest)) == (len(expected), expected)


def test_a_session_earlier_in_the_window_start_bucket_is_not_counted(live_store, new_session):
    since = EDGE + BUCKET // 2
    live_store.create_session(new_session(session_id=1, last_ms=since - 1))  # same bucket as `since`, before it
    live_store.create_session(new_session(session_id=2, last_ms=since))
    live_store.create_session(new_session(session_id=3, last_ms=EDGE))  # start of that bucket
    count, newest = live_store.active_sessions(SITE, since, since + ACTIVE_WINDOW_MS, 20)
    assert (count, _ids(newest)) == (1, [2])


def test_a_session_that_skips_buckets_is_counted_once_at_its_latest_activity(live_store, new_session):
    session = new_session(session_id=5, last_ms=EDGE - 10, started_ms=EDGE - 10)
    live_store.create_session(session)
    _event(live_store, session, EDGE + 3 * BUCKET + 7)
    count, newest = live_store.active_sessions(SITE, EDGE - 20, EDGE + 3 * BUCKET + 8, 20)
    assert (count, _ids(newest), newest[0].last_ms) == (1, [5], EDGE + 3 * BUCKET + 7)
    count, newest = live_store.active_sessions(SITE, EDGE + 3 * BUCKET + 7, EDGE + 3 * BUCKET + 8, 20)
    assert (count, _ids(newest), newest[0].last_ms) == (1, [5], EDGE + 3 * BUCKET + 7)
    assert live_store.active_sessions(SITE, EDGE + 3 * BUCKET + 8, EDGE + 3 * BUCKET + 9, 20) == (0, [])


def test_the_newest_are_ranked_by_exact_last_activity_across_buckets(live_store, new_session):
    # Within one bucket the index knows no order: the ranking comes from the exact last activity.
    times = [EDGE - 3, EDGE + BUCKET - 1, EDGE + 7, EDGE + 7, EDGE + BUCKET + 1, EDGE + 2]
    created = [new_session(session_id=10 + i, last_ms=ts) for i, ts in enumerate(times)]
    for session in created:
        live_store.create_session(session)
    since = EDGE
    count, newest = live_store.active_sessions(SITE, since, EDGE + BUCKET + 2, 4)
    expected = sorted((s for s in created if s.last_ms >= since), key=lambda s: (s.last_ms, s.session_id),
                      reverse=True)
    assert count == 5
    assert newest == expected[:4]
