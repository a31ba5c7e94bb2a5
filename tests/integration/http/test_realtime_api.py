"""GET /api/realtime (spec §6): the active window's edges, the 20-row cap and order, expiry, shown values."""

from datetime import datetime, timezone

import pytest

from clickport.ports import LiveSession

NOW = datetime(2026, 3, 29, 12, 0, 0, tzinfo=timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)


def _session(site_id, session_id, last_ms, **overrides):
    values = dict(
        site_id=site_id, session_id=session_id, visitor_id=session_id * 7, started_ms=last_ms - 124_500,
        last_ms=last_ms, entry_page="/", current_page="/pricing", page_visit_id="0123456789abcdef", pageviews=3,
        seq=5, scroll=72, attributes={"source": "google", "country": "DE", "city": "Berlin", "device": "Desktop",
                                      "browser": "Chrome", "os": "macOS"},
        expires_at=NOW_MS // 1000 + 3600,
    )
    values.update(overrides)
    return LiveSession(**values)


@pytest.fixture
def realtime(gateway, runtime, keys):
    runtime.clock = lambda: NOW

    def call():
        status, _, body = gateway("GET", "/api/realtime", headers={"x-api-key": keys["read"]})
        assert status == 200
        return body

    return call


def test_seed_shape_with_every_field(realtime, runtime, site):
    runtime.live.create_session(_session(site.site_id, 91823, NOW_MS - 10_000))
    assert realtime() == {"count": 1, "visitors": [{
        "session_id": 91823, "entry_page": "/", "exit_page": "/pricing", "pageviews": 3, "duration": 124,
        "source": "google", "country": "DE", "city": "Berlin", "device": "Desktop", "browser": "Chrome",
        "os": "macOS", "scroll": 72,
    }]}


@pytest.mark.parametrize("age_ms, counted", [(299_000, True), (300_000, True), (301_000, False)])
def test_active_window_is_300_seconds_boundary_included(realtime, runtime, site, age_ms, counted):
    runtime.live.create_session(_session(site.site_id, 1, NOW_MS - age_ms))
    assert realtime()["count"] == (1 if counted else 0)


def test_count_is_all_active_sessions_but_only_20_are_listed_newest_first(realtime, runtime, site):
    for i in range(1, 31):
        runtime.live.create_session(_session(site.site_id, i, NOW_MS - (i // 2) * 1000))
    body = realtime()
    assert body["count"] == 30
    listed = [(v["session_id"]) for v in body["visitors"]]
    assert len(listed) == 20
    expected = sorted(range(1, 31), key=lambda i: (-(NOW_MS - (i // 2) * 1000), -i))[:20]
    assert listed == expected  # ties broken by session id, descending


def test_expired_items_never_count(realtime, runtime, site):
    runtime.live.create_session(_session(site.site_id, 5, NOW_MS - 1000, expires_at=NOW_MS // 1000 - 1))
    runtime.live.create_session(_session(site.site_id, 6, NOW_MS - 1000))
    body = realtime()
    assert body["count"] == 1 and [v["session_id"] for v in body["visitors"]] == [6]


def test_missing_values_are_shown_like_queries_show_them(realtime, runtime, site):
    runtime.live.create_session(_session(site.site_id, 8, NOW_MS, attributes={}, scroll=None))
    [visitor] = realtime()["visitors"]
    assert (visitor["source"], visitor["country"], visitor["city"], visitor["scroll"]) == ("Direct", "(none)",
                                                                                          "(none)", 0)


def test_other_sites_sessions_are_not_shown(realtime, runtime, site):
    other = runtime.config.create_site("other.example")
    runtime.live.create_session(_session(other.site_id, 9, NOW_MS))
    assert realtime() == {"count": 0, "visitors": []}


def test_import_never_touches_the_live_store(realtime, runtime, site):
    from clickport.ingest.importer import import_events

    line = ('{"timestamp": "2026-03-29T11:59:00Z", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 '
            '(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "ip": "203.0.113.5", "url": "https://example.com/"}')
    summary = import_events([line], site=site, sink=runtime.sink, config=runtime.config)
    assert summary.stored == 1
    assert realtime()["count"] == 0
