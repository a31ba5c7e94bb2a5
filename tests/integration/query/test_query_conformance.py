"""The Stats, convenience and Goals APIs over the HTTP handlers, checked clause by clause against spec §3, §4 and §7.

Events are imported as an operator would (``import_events``) into a local runtime whose
clock is injected; every request goes through the Lambda handlers exactly as the local
server calls them.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from clickport.domain.keys import issue_key
from clickport.ingest.importer import import_events
from tests.conftest import BROWSER_UA

UTC = timezone.utc
NOON = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
WHOLE_SECOND_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Api:
    """One site with a read key, a settable clock, imported events and calls through the handlers."""

    def __init__(self, runtime, gateway) -> None:
        self.runtime = runtime
        self.gateway = gateway
        self.site_id = runtime.config.create_site("example.com").site_id
        self.key = issue_key(runtime.config, self.site_id, ["read"])[0]
        self.at(NOON)

    def at(self, now: datetime) -> None:
        self.runtime.clock = lambda: now

    def load(self, *events: dict) -> None:
        lines = []
        for event in events:
            line = {"user_agent": BROWSER_UA, "url": "https://example.com/", "ip": "203.0.113.9", **event}
            line["timestamp"] = stamp(line["timestamp"])
            lines.append(json.dumps(line))
        site = self.runtime.config.get_site(self.site_id)
        summary = import_events(lines, site=site, sink=self.runtime.sink, config=self.runtime.config)
        assert not summary.rejected, summary.rejected

    def goal(self, name: str, kind: str, definition: dict) -> None:
        self.runtime.config.create_goal(self.site_id, name, kind, definition)

    def query(self, body) -> tuple[int, dict]:
        status, _, answer = self.gateway("POST", "/api/query", body, {"x-api-key": self.key})
        return status, answer

    def ok(self, body) -> dict:
        status, answer = self.query(body)
        assert status == 200, answer
        return answer

    def get(self, target: str) -> tuple[int, dict]:
        status, _, answer = self.gateway("GET", target, None, {"x-api-key": self.key})
        return status, answer


@pytest.fixture
def api(runtime, gateway) -> Api:
    return Api(runtime, gateway)


# --- §3.2 time buckets: zero-filled from the range start up to the bucket containing now


def test_today_by_hour_at_a_whole_hour_ends_with_the_bucket_containing_now(api):
    api.load({"timestamp": NOON - timedelta(minutes=5)})
    rows = api.ok({"period": "today", "dimensions": ["hour"]})["results"]
    assert [r["hour"] for r in rows] == [f"2026-03-31 {h:02d}:00" for h in range(13)]
    assert rows[-2:] == [{"hour": "2026-03-31 11:00", "visitors": 1}, {"hour": "2026-03-31 12:00", "visitors": 0}]


def test_seven_days_at_midnight_include_today_as_the_seventh_day(api):
    api.at(datetime(2026, 4, 1, tzinfo=UTC))
    body = api.ok({"period": "7d", "dimensions": ["date"]})
    assert [r["date"] for r in body["results"]] == [f"2026-{m:02d}-{d:02d}" for m, d in
                                                    [(3, 26), (3, 27), (3, 28), (3, 29), (3, 30), (3, 31), (4, 1)]]
    assert body["meta"]["total_rows"] == 7


def test_realtime_by_hour_at_a_whole_hour_lists_the_hour_before_and_the_current_one(api):
    body = api.ok({"period": "realtime", "dimensions": ["hour"]})
    assert [r["hour"] for r in body["results"]] == ["2026-03-31 11:00", "2026-03-31 12:00"]


def test_a_date_range_ending_exactly_now_has_no_bucket_after_its_end(api):
    api.at(datetime(2026, 4, 1, tzinfo=UTC))
    rows = api.ok({"date_range": {"start": "2026-03-30", "end": "2026-04-01"}, "dimensions": ["date"]})["results"]
    assert [r["date"] for r in rows] == ["2026-03-30", "2026-03-31"]


def test_a_date_range_past_now_stops_at_the_bucket_containing_now(api):
    rows = api.ok({"date_range": {"start": "2026-03-30", "end": "2026-04-03"}, "dimensions": ["date"]})["results"]
    assert [r["date"] for r in rows] == ["2026-03-30", "2026-03-31"]


# --- §3.3 / §3.7 "now" and the resolved date_range


def test_realtime_is_the_last_thirty_minutes_start_included_now_excluded(api):
    api.load(
        {"timestamp": NOON - timedelta(minutes=31), "ip": "203.0.113.1"},
        {"timestamp": NOON - timedelta(minutes=30), "ip": "203.0.113.2"},
        {"timestamp": NOON - timedelta(milliseconds=1), "ip": "203.0.113.3"},
        {"timestamp": NOON, "ip": "203.0.113.4"},
    )
    body = api.ok({"period": "realtime", "metrics": ["visitors", "pageviews"]})
    assert body == {
        "results": {"visitors": 2, "pageviews": 2},
        "meta": {"date_range": {"start": "2026-03-31T11:30:00+00:00", "end": "2026-03-31T12:00:00+00:00"},
                 "timezone": "UTC"},
    }


def test_a_clock_with_a_fraction_of_a_second_gives_whole_second_instants_and_keeps_the_latest_events(api):
    api.load({"timestamp": NOON + timedelta(milliseconds=100)})
    api.at(NOON + timedelta(microseconds=256_700))
    body = api.ok({"period": "realtime", "include_comparison": True})
    instants = [*body["meta"]["date_range"].values(), *body["comparison"]["date_range"].values()]
    assert all(WHOLE_SECOND_INSTANT.match(text) for text in instants), instants
    assert body["meta"]["date_range"]["end"] == "2026-03-31T12:00:01+00:00"
    assert body["results"] == {"visitors": 1}


@pytest.mark.parametrize(
    "dates",
    [
        {"start": "0001-01-01", "end": "0001-01-02"},
        {"start": "0001-01-02", "end": "0001-01-03"},
        {"start": "9999-12-30", "end": "9999-12-31"},
    ],
)
def test_dates_outside_the_supported_years_are_400_not_500(api, dates):
    for comparison in (False, True):
        status, answer = api.query({"date_range": dates, "include_comparison": comparison})
        assert status == 400, answer
        assert "date_range.start" in answer["message"] or "date_range.end" in answer["message"]
    for endpoint in ("pages", "timeseries", "goals"):
        status, answer = api.get(f"/api/{endpoint}?start_date={dates['start']}&end_date={dates['end']}")
        assert status == 400, answer
        assert "start_date must be a date from 1900-01-01 to 9998-12-31" in answer["message"] or (
            "end_date must be a date from 1900-01-01 to 9998-12-31" in answer["message"])


def test_goals_report_takes_at_most_3660_days_like_every_date_range(api):
    status, answer = api.get("/api/goals?start_date=2016-01-01&end_date=2026-01-09")
    assert (status, answer["message"]) == (400, "The date range may span at most 3660 days")
    assert api.get("/api/goals?start_date=2016-01-01&end_date=2026-01-08")[0] == 200


# --- §2 validation messages over HTTP: the field, and the allowed values where there is a list


@pytest.mark.parametrize(
    "body, message",
    [
        ({"bogus": 1}, "Unknown field 'bogus'. Valid fields: metrics, dimensions, period, date_range, filters, "
                       "order_by, order_dir, limit, offset, timezone, include_comparison"),
        ({"site_id": "s_1"}, "Unknown field 'site_id': the site comes from the API key"),
        ({"date_range": {"start": "2026-03-01", "end": "2026-03-02", "tz": "UTC"}},
         "Unknown field 'tz' in date_range. Valid fields: start, end"),
        ({"filters": [{"dimension": "page", "operator": "is", "value": "/", "negate": True}]},
         "Unknown field 'negate' in filters[0]. Valid fields: dimension, operator, value"),
        ({"filters": [{"dimension": "page", "operator": "is", "value": ""}]},
         "filters[0].value must be a non-empty string or a non-empty array of non-empty strings"),
        ({"filters": [{"dimension": "page", "operator": "is", "value": []}]},
         "filters[0].value must be a non-empty string or a non-empty array of non-empty strings"),
        ({"limit": 0}, "limit must be between 1 and 10000"),
        ({"limit": "5"}, "limit must be an integer"),
        ({"offset": -1}, "offset must be between 0 and 1000000000"),
        ({"metrics": []}, "metrics must name at least one metric"),
        ({"date_range": "2026-03-01"}, "date_range must be an object"),
        ({"filters": ["country is DE"]}, "filters[0] must be an object"),
        ({"filters": [{"dimension": "page", "operator": "is", "value": ["/"] * 101}]},
         "filters[0].value may list at most 100 values"),
        ({"dimensions": ["page", "country", "city", "device"]}, "dimensions may hold at most 3 items"),
        ({"order_dir": "up"}, "order_dir must be 'asc' or 'desc'"),
        ({"include_comparison": "yes"}, "include_comparison must be true or false"),
        ({"metrics": ["visitor"]}, "Unknown metric 'visitor'. Valid metrics: visitors, sessions, pageviews, "
                                   "views_per_visit, bounce_rate, avg_duration, avg_scroll, clickers, events, "
                                   "conversions, conversion_rate, total_revenue"),
    ],
)
def test_validation_messages_over_http_name_the_field_and_the_valid_values(api, body, message):
    status, answer = api.query(body)
    assert (status, answer) == (400, {"error": "Bad Request", "message": message})


@pytest.mark.parametrize("raw", [b"[]", b"5", b'"visitors"', b"{not json"])
def test_a_body_that_is_not_a_json_object_is_400(api, raw):
    status, answer = api.query(raw)
    assert (status, answer["message"]) == (400, "The request body must be a JSON object")


# --- §3 order_by: any requested metric, total_revenue included


def _purchases(api) -> None:
    api.goal("Purchase", "custom", {"event": "Purchase"})
    day = NOON - timedelta(days=1)
    for i, (path, amount) in enumerate([("/a", 5), ("/a", 5), ("/b", 40), ("/c", 12.5)]):
        api.load({"timestamp": day + timedelta(minutes=i), "ip": f"203.0.113.{i + 1}", "type": "custom",
                  "name": "Purchase", "url": f"https://example.com{path}", "revenue_amount": amount})


def test_total_revenue_can_order_a_breakdown(api):
    _purchases(api)
    base = {"period": "7d", "dimensions": ["page"], "metrics": ["conversions", "total_revenue"]}
    rows = api.ok({**base, "order_by": "total_revenue"})["results"]
    assert [(r["page"], r["total_revenue"]) for r in rows] == [("/b", {"USD": 40.0}), ("/c", {"USD": 12.5}),
                                                               ("/a", {"USD": 10.0})]
    rows = api.ok({**base, "order_by": "total_revenue", "order_dir": "asc", "limit": 1, "offset": 1})["results"]
    assert [r["page"] for r in rows] == ["/c"]


def test_total_revenue_as_the_first_metric_is_the_default_order(api):
    _purchases(api)
    rows = api.ok({"period": "7d", "dimensions": ["page"], "metrics": ["total_revenue", "conversions"]})["results"]
    assert [r["page"] for r in rows] == ["/b", "/c", "/a"]
    rows = api.ok({"period": "7d", "dimensions": ["page", "date"], "metrics": ["total_revenue"]})["results"]
    assert [r["page"] for r in rows] == ["/b", "/c", "/a"]
