"""Import (spec §9): validation, bots, ordering, given ids and places, sessions, date-grouped writes."""

import json
from datetime import datetime, timezone

from clickport.ingest.importer import import_events
from clickport.ports import Site
from tests.conftest import BROWSER_UA


class RecordingSink:
    def __init__(self):
        self.calls = []

    def write(self, site_id, rows):
        self.calls.append((site_id, list(rows)))


class NullConfig:
    def __init__(self):
        self.noted = []

    def note_event_date(self, site_id, day):
        self.noted.append((site_id, day))


SITE = Site("s_import", "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc))


def _run(lines):
    sink, config = RecordingSink(), NullConfig()
    summary = import_events([json.dumps(x) if isinstance(x, dict) else x for x in lines], site=SITE, sink=sink,
                            config=config)
    rows = [row for _, batch in sink.calls for row in batch]
    return summary, sink, config, rows


def _line(ts, **fields):
    return {"timestamp": ts, "user_agent": BROWSER_UA, "url": "https://example.com/", **fields}


def test_writes_are_grouped_by_utc_day_and_the_first_day_is_noted():
    summary, sink, config, rows = _run([
        _line("2026-03-02T00:00:00.000Z", ip="203.0.113.1"),
        _line("2026-03-01T23:59:59.999Z", ip="203.0.113.1"),
        _line("2026-03-01T12:00:00+02:00", ip="203.0.113.2"),
    ])
    assert summary.as_json() == {"read": 3, "stored": 3, "bots": 0, "rejected": []}
    for site_id, batch in sink.calls:
        assert site_id == SITE.site_id and len({r["ts"].date() for r in batch}) == 1
    assert [r["ts"].isoformat() for r in rows] == [
        "2026-03-01T10:00:00+00:00", "2026-03-01T23:59:59.999000+00:00", "2026-03-02T00:00:00+00:00"]
    assert config.noted == [(SITE.site_id, datetime(2026, 3, 1).date())]


def test_rejections_name_the_line_and_reason_and_bots_are_counted():
    summary, _, _, rows = _run([
        _line("2026-03-01T10:00:00Z", ip="203.0.113.1"),
        "{not json",
        json.dumps(_line("2026-03-01T10:00:00", ip="203.0.113.1")),
        json.dumps(_line("2026-03-01T10:00:00Z")),
        json.dumps({**_line("2026-03-01T10:00:00Z", ip="203.0.113.1"), "user_agent": "curl/8.0"}),
        json.dumps(_line("2999-01-01T00:00:00Z", ip="203.0.113.1")),
        json.dumps(_line("2026-03-01T10:00:00Z", ip="203.0.113.1", colour="red")),
        "",
    ])
    assert (summary.read, summary.stored, summary.bots) == (7, 1, 1)
    reasons = {r["line"]: r["reason"] for r in summary.rejected}
    assert set(reasons) == {2, 3, 4, 6, 7}
    assert "JSON" in reasons[2] and "offset" in reasons[3] and "ip, visitor_id, session_id" in reasons[4]
    assert "future" in reasons[6] and "colour" in reasons[7]
    assert len(rows) == 1


def test_given_ids_and_places_are_kept_and_the_first_line_fixes_the_session():
    _, _, _, rows = _run([
        _line("2026-03-01T10:05:00Z", session_id=77, visitor_id=5, page_visit_id="00000000000000aa",
              url="https://example.com/second", referrer="https://www.bing.com/", country="FR"),
        _line("2026-03-01T10:00:00Z", session_id=77, visitor_id=5, url="https://example.com/first",
              referrer="https://www.google.com/", country="DE", region="DE-BE", city="Berlin", screen_width=400),
        {"timestamp": "2026-03-01T10:06:00Z", "user_agent": BROWSER_UA, "type": "engagement",
         "url": "https://example.com/second", "session_id": 77, "page_visit_id": "00000000000000aa", "scroll": 55,
         "engaged_ms": 60000},
    ])
    assert [r["path"] for r in rows] == ["/first", "/second", "/second"]
    assert {r["session_id"] for r in rows} == {77} and {r["visitor_id"] for r in rows} == {5}
    for row in rows:  # every row carries the first line's attributes
        assert (row["source"], row["country"], row["region"], row["city"], row["device"]) == (
            "google", "DE", "DE-BE", "Berlin", "Mobile")
    assert rows[1]["page_visit_id"] == rows[2]["page_visit_id"] == "00000000000000aa"
    assert (rows[2]["type"], rows[2]["scroll"], rows[2]["engaged_ms"]) == ("engagement", 55, 60000)
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)


def test_missing_ids_are_derived_with_the_30_minute_rule_and_daily_salts():
    _, _, _, rows = _run([
        _line("2026-03-01T10:00:00Z", ip="203.0.113.9"),
        _line("2026-03-01T10:30:00Z", ip="203.0.113.9"),
        _line("2026-03-01T11:00:00.001Z", ip="203.0.113.9"),
        _line("2026-03-02T11:00:00Z", ip="203.0.113.9"),
    ])
    sessions = [r["session_id"] for r in rows]
    assert sessions[0] == sessions[1] != sessions[2] != sessions[3]
    assert rows[0]["visitor_id"] == rows[2]["visitor_id"] != rows[3]["visitor_id"]  # a new day, a new salt
    assert all(1 <= s <= 2**53 - 1 for s in sessions)
