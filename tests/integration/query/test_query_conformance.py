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


# --- §3.3 / §3.5 every period from the injected clock, with its comparison range


BERLIN_PERIODS = {
    "realtime": (("2026-03-31T11:30:00+02:00", "2026-03-31T12:00:00+02:00"),
                 ("2026-03-31T11:00:00+02:00", "2026-03-31T11:30:00+02:00")),
    "24h": (("2026-03-30T12:00:00+02:00", "2026-03-31T12:00:00+02:00"),
            ("2026-03-29T12:00:00+02:00", "2026-03-30T12:00:00+02:00")),
    "today": (("2026-03-31T00:00:00+02:00", "2026-03-31T12:00:00+02:00"),
              ("2026-03-30T00:00:00+02:00", "2026-03-30T12:00:00+02:00")),
    "yesterday": (("2026-03-30T00:00:00+02:00", "2026-03-31T00:00:00+02:00"),
                  ("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")),
    "7d": (("2026-03-25T00:00:00+01:00", "2026-03-31T12:00:00+02:00"),
           ("2026-03-18T00:00:00+01:00", "2026-03-24T11:00:00+01:00")),
    "14d": (("2026-03-18T00:00:00+01:00", "2026-03-31T12:00:00+02:00"),
            ("2026-03-04T00:00:00+01:00", "2026-03-17T11:00:00+01:00")),
    "30d": (("2026-03-02T00:00:00+01:00", "2026-03-31T12:00:00+02:00"),
            ("2026-01-31T00:00:00+01:00", "2026-03-01T11:00:00+01:00")),
    "90d": (("2026-01-01T00:00:00+01:00", "2026-03-31T12:00:00+02:00"),
            ("2025-10-03T00:00:00+02:00", "2025-12-31T10:00:00+01:00")),
    "12m": (("2025-04-01T00:00:00+02:00", "2026-03-31T12:00:00+02:00"),
            ("2024-04-01T00:00:00+02:00", "2025-03-31T12:00:00+02:00")),
    "month": (("2026-03-01T00:00:00+01:00", "2026-03-31T12:00:00+02:00"),
              ("2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00")),
    "year": (("2026-01-01T00:00:00+01:00", "2026-03-31T12:00:00+02:00"),
             ("2025-01-01T00:00:00+01:00", "2025-03-31T12:00:00+02:00")),
    "last_month": (("2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00"),
                   ("2026-01-01T00:00:00+01:00", "2026-01-29T00:00:00+01:00")),
}


@pytest.mark.parametrize("period", sorted(BERLIN_PERIODS))
def test_every_period_resolves_from_the_injected_clock_with_its_comparison(api, period):
    api.at(datetime(2026, 3, 31, 10, tzinfo=UTC))  # 12:00 in Berlin
    body = api.ok({"period": period, "timezone": "Europe/Berlin", "include_comparison": True,
                   "metrics": ["visitors", "bounce_rate"]})
    (start, end), (previous_start, previous_end) = BERLIN_PERIODS[period]
    assert body == {
        "results": {"visitors": 0, "bounce_rate": 0},
        "comparison": {"date_range": {"start": previous_start, "end": previous_end},
                       "results": {"visitors": 0, "bounce_rate": 0},
                       "change": {"visitors": None, "bounce_rate": 0}},
        "meta": {"date_range": {"start": start, "end": end}, "timezone": "Europe/Berlin"},
    }


def test_all_starts_on_the_first_event_day_and_has_a_null_comparison(api):
    api.load({"timestamp": datetime(2026, 3, 10, 9, tzinfo=UTC)})
    body = api.ok({"period": "all", "include_comparison": True})
    assert body == {"results": {"visitors": 1}, "comparison": None,
                    "meta": {"date_range": {"start": "2026-03-10T00:00:00+00:00", "end": "2026-03-31T12:00:00+00:00"},
                             "timezone": "UTC"}}
    rows = api.ok({"period": "all", "include_comparison": True, "dimensions": ["country"]})
    assert rows["comparison"] is None and "comparison" not in rows["results"][0]


# --- §3.1 / §3.7 shapes, key order and types


def _two_sessions(api) -> None:
    day = datetime(2026, 3, 30, 9, tzinfo=UTC)
    api.goal("Signup", "custom", {"event": "Signup"})
    api.load(
        {"timestamp": day, "ip": "203.0.113.1", "url": "https://example.com/", "country": "DE", "scroll": 40},
        {"timestamp": day + timedelta(seconds=30), "ip": "203.0.113.1", "url": "https://example.com/pricing",
         "country": "DE", "scroll": 90},
        {"timestamp": day + timedelta(seconds=45), "ip": "203.0.113.1", "type": "custom", "name": "Signup",
         "url": "https://example.com/pricing", "revenue_amount": 12.345, "revenue_currency": "EUR"},
        {"timestamp": day + timedelta(hours=1), "ip": "203.0.113.2", "url": "https://example.com/", "country": "FR",
         "referrer": "https://www.google.de/search?q=x"},
    )


ALL_METRICS = ["visitors", "sessions", "pageviews", "views_per_visit", "bounce_rate", "avg_duration", "avg_scroll",
               "clickers", "events", "conversions", "conversion_rate", "total_revenue"]


def test_aggregate_of_every_metric_has_exact_types_and_request_order(api):
    _two_sessions(api)
    body = api.ok({"period": "7d", "metrics": list(reversed(ALL_METRICS))})
    assert list(body) == ["results", "meta"] and list(body["results"]) == list(reversed(ALL_METRICS))
    assert body["results"] == {"visitors": 2, "sessions": 2, "pageviews": 3, "views_per_visit": 1.5, "bounce_rate": 50,
                               "avg_duration": 23, "avg_scroll": 65, "clickers": 0, "events": 4, "conversions": 1,
                               "conversion_rate": 50.0, "total_revenue": {"EUR": 12.35}}
    integers = set(ALL_METRICS) - {"views_per_visit", "conversion_rate", "total_revenue"}
    assert all(type(body["results"][m]) is int for m in integers)
    assert type(body["results"]["views_per_visit"]) is float and type(body["results"]["conversion_rate"]) is float


def test_an_empty_set_answers_zeros_never_null(api):
    body = api.ok({"period": "7d", "metrics": ALL_METRICS, "include_comparison": True})
    zeros = {"visitors": 0, "sessions": 0, "pageviews": 0, "views_per_visit": 0, "bounce_rate": 0, "avg_duration": 0,
             "avg_scroll": 0, "clickers": 0, "events": 0, "conversions": 0, "conversion_rate": 0, "total_revenue": {}}
    assert body["results"] == zeros and body["comparison"]["results"] == zeros
    assert body["comparison"]["change"] == {"visitors": None, "sessions": None, "pageviews": None,
                                            "views_per_visit": None, "bounce_rate": 0, "avg_duration": None,
                                            "avg_scroll": 0, "clickers": None, "events": None, "conversions": None,
                                            "conversion_rate": 0, "total_revenue": {}}


def test_breakdown_rows_put_dimensions_first_in_request_order_then_metrics(api):
    _two_sessions(api)
    body = api.ok({"period": "7d", "dimensions": ["country", "page"], "metrics": ["pageviews", "visitors"]})
    assert body["results"] == [
        {"country": "DE", "page": "/", "pageviews": 1, "visitors": 1},
        {"country": "DE", "page": "/pricing", "pageviews": 1, "visitors": 1},
        {"country": "FR", "page": "/", "pageviews": 1, "visitors": 1},
    ]
    assert [list(row) for row in body["results"]] == [["country", "page", "pageviews", "visitors"]] * 3
    assert list(body) == ["results", "meta"] and list(body["meta"]) == ["date_range", "timezone", "total_rows"]


# --- §3.5 comparison shapes


def test_breakdown_comparison_matches_rows_by_value_and_lists_only_current_rows(api):
    api.at(datetime(2026, 3, 31, 12, tzinfo=UTC))
    day, before = datetime(2026, 3, 30, 9, tzinfo=UTC), datetime(2026, 3, 23, 9, tzinfo=UTC)
    api.load(
        {"timestamp": day, "ip": "203.0.113.1", "country": "DE"},
        {"timestamp": day, "ip": "203.0.113.2", "country": "DE"},
        {"timestamp": day, "ip": "203.0.113.3", "country": "FR"},
        {"timestamp": before, "ip": "203.0.113.4", "country": "DE"},
        {"timestamp": before, "ip": "203.0.113.5", "country": "IT"},
    )
    body = api.ok({"period": "7d", "dimensions": ["country"], "metrics": ["visitors", "bounce_rate"],
                   "include_comparison": True})
    assert body == {
        "results": [
            {"country": "DE", "visitors": 2, "bounce_rate": 100, "comparison": {"visitors": 1, "bounce_rate": 100},
             "change": {"visitors": 100.0, "bounce_rate": 0}},
            {"country": "FR", "visitors": 1, "bounce_rate": 100, "comparison": {"visitors": 0, "bounce_rate": 0},
             "change": {"visitors": None, "bounce_rate": 100}},
        ],
        "comparison": {"date_range": {"start": "2026-03-18T00:00:00+00:00", "end": "2026-03-24T12:00:00+00:00"}},
        "meta": {"date_range": {"start": "2026-03-25T00:00:00+00:00", "end": "2026-03-31T12:00:00+00:00"},
                 "timezone": "UTC", "total_rows": 2},
    }


def test_time_series_comparison_names_the_paired_bucket_and_not_past_the_shorter_day(api):
    api.at(datetime(2026, 4, 2, tzinfo=UTC))
    body = api.ok({"date_range": {"start": "2026-03-30", "end": "2026-03-31"}, "dimensions": ["hour"],
                   "timezone": "Europe/Berlin", "include_comparison": True})
    rows = body["results"]
    assert len(rows) == 24  # against the 23-hour day before
    assert rows[1]["comparison"] == {"hour": "2026-03-29 01:00", "visitors": 0}
    assert rows[2]["comparison"] == {"hour": "2026-03-29 03:00", "visitors": 0}
    assert rows[-1] == {"hour": "2026-03-30 23:00", "visitors": 0, "comparison": {"visitors": 0},
                        "change": {"visitors": None}}
    assert body["comparison"] == {"date_range": {"start": "2026-03-29T00:00:00+01:00",
                                                 "end": "2026-03-30T00:00:00+02:00"}}


# --- §3.2 time labels


@pytest.mark.parametrize(
    "day, hours, repeated",
    [("2026-03-29", [0, 1, *range(3, 24)], None), ("2026-10-25", list(range(24)), "2026-10-25 02:00")],
)
def test_hour_labels_on_dst_days_are_wall_clock_hours(api, day, hours, repeated):
    api.at(datetime(2026, 11, 1, tzinfo=UTC))
    if repeated:  # 02:30 CEST and 02:30 CET
        api.load({"timestamp": datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "ip": "203.0.113.1"},
                 {"timestamp": datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "ip": "203.0.113.2"})
    end = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    rows = api.ok({"date_range": {"start": day, "end": end}, "dimensions": ["hour"],
                   "timezone": "Europe/Berlin"})["results"]
    assert [r["hour"] for r in rows] == [f"{day} {h:02d}:00" for h in hours]
    if repeated:
        assert {"hour": repeated, "visitors": 2} in rows


def test_week_is_its_monday_even_before_the_range_and_month_is_year_month(api):
    api.load({"timestamp": datetime(2026, 3, 26, 9, tzinfo=UTC)})
    weeks = api.ok({"date_range": {"start": "2026-03-26", "end": "2026-04-07"}, "dimensions": ["week"]})
    assert weeks["results"] == [{"week": "2026-03-23", "visitors": 1}, {"week": "2026-03-30", "visitors": 0}]
    months = api.ok({"date_range": {"start": "2026-02-26", "end": "2026-04-07"}, "dimensions": ["month"]})
    assert [r["month"] for r in months["results"]] == ["2026-02", "2026-03"]


# --- §3.4 filters


def _countries(api) -> None:
    day = datetime(2026, 3, 30, 9, tzinfo=UTC)
    for i, (country, path) in enumerate([("DE", "/Docs/Intro"), ("FR", "/pricing"), (None, "/docs"), ("IT", "/")]):
        event = {"timestamp": day + timedelta(minutes=i), "ip": f"198.18.0.{i + 1}", "url": f"https://example.com{path}"}
        if country:
            event["country"] = country
        api.load(event)


@pytest.mark.parametrize(
    "operator, value, visitors",
    [
        ("is", ["DE", "FR"], 2),
        ("is_not", ["DE", "FR"], 2),  # "(none)" and IT
        ("is", "(none)", 1),
        ("contains", ["d", "zz"], 1),
        ("not_contains", ["d", "r"], 2),  # "(none)" and IT
        ("contains", "NON", 1),
        ("matches", ["^D", "T$"], 2),
        ("not_matches", ["^D", "T$"], 2),
    ],
)
def test_country_filters_compare_the_shown_value(api, operator, value, visitors):
    _countries(api)
    body = api.ok({"period": "7d", "filters": [{"dimension": "country", "operator": operator, "value": value}]})
    assert body["results"] == {"visitors": visitors}


def test_contains_is_case_insensitive_and_matches_is_case_sensitive_and_unanchored(api):
    _countries(api)
    contains = api.ok({"period": "7d", "filters": [{"dimension": "page", "operator": "contains", "value": "DOCS"}]})
    matches = api.ok({"period": "7d", "filters": [{"dimension": "page", "operator": "matches", "value": "docs"}]})
    assert (contains["results"], matches["results"]) == ({"visitors": 2}, {"visitors": 1})


def test_a_goal_filter_naming_no_goal_lists_the_site_goals(api):
    api.goal("Signup", "custom", {"event": "Signup"})
    api.goal("Thanks", "pageview", {"path": "/thanks"})
    status, answer = api.query({"filters": [{"dimension": "goal", "operator": "is", "value": "Purchase"}]})
    assert (status, answer["message"]) == (400, "Unknown goal 'Purchase' in filters[0]. Goals of this site: Signup, Thanks")


# --- §4 convenience endpoints


PRESETS = {
    "pages": ("page", ["visitors", "pageviews", "avg_scroll", "avg_duration"]),
    "entry-pages": ("entry_page", ["visitors", "sessions", "bounce_rate"]),
    "exit-pages": ("exit_page", ["visitors", "sessions", "bounce_rate"]),
    "sources": ("source", ["visitors", "sessions", "bounce_rate", "avg_duration"]),
    "channels": ("channel", ["visitors", "sessions", "bounce_rate", "avg_duration"]),
    "referrers": ("referrer_url", ["visitors", "sessions", "bounce_rate", "avg_duration"]),
    "campaigns": ("utm_campaign", ["visitors", "sessions", "bounce_rate"]),
    **{f"utm/{p}": (f"utm_{p}", ["visitors", "sessions", "bounce_rate"])
       for p in ("source", "medium", "campaign", "content", "term")},
    "countries": ("country", ["visitors", "sessions"]),
    "regions": ("region", ["visitors", "sessions"]),
    "cities": ("city", ["visitors", "sessions"]),
    "devices": ("device", ["visitors", "sessions", "bounce_rate"]),
    "browsers": ("browser", ["visitors", "sessions", "bounce_rate"]),
    "os": ("os", ["visitors", "sessions", "bounce_rate"]),
    "screens": ("screen", ["visitors", "sessions", "bounce_rate"]),
    "timeseries": ("date", ["visitors", "pageviews", "sessions", "bounce_rate", "avg_duration"]),
}


def test_each_convenience_endpoint_is_its_preset_query(api):
    day = datetime(2026, 3, 30, 9, tzinfo=UTC)
    api.load({"timestamp": day, "ip": "203.0.113.1", "url": "https://example.com/a?utm_source=news&utm_campaign=spring"},
             {"timestamp": day, "ip": "203.0.113.2", "url": "https://example.com/b"},
             {"timestamp": day + timedelta(minutes=1), "ip": "203.0.113.2", "url": "https://example.com/c"})
    for name, (dimension, metrics) in PRESETS.items():
        status, body = api.get(f"/api/{name}?start_date=2026-03-29&end_date=2026-04-01&timezone=Europe/Berlin")
        assert status == 200, (name, body)
        assert list(body) == ["results", "meta"] and body["meta"]["timezone"] == "Europe/Berlin"
        assert all(list(row) == [dimension, *metrics] for row in body["results"]), name
        expected = api.ok({"metrics": metrics, "dimensions": [dimension], "timezone": "Europe/Berlin",
                           "date_range": {"start": "2026-03-29", "end": "2026-04-01"}})
        assert body == expected, name
    pages = api.get("/api/pages?start_date=2026-03-29&end_date=2026-04-01")[1]["results"]
    assert [(r["page"], r["visitors"]) for r in pages] == [("/a", 1), ("/b", 1), ("/c", 1)]
    sources = api.get("/api/sources?start_date=2026-03-29&end_date=2026-04-01")[1]["results"]
    assert [(r["source"], r["visitors"], r["bounce_rate"]) for r in sources] == [("Direct", 1, 0), ("news", 1, 100)]


def test_timeseries_is_hourly_for_one_local_day_and_daily_otherwise(api):
    status, hourly = api.get("/api/timeseries?start_date=2026-03-29&end_date=2026-03-30&timezone=Europe/Berlin")
    assert status == 200 and len(hourly["results"]) == 23 and hourly["results"][0]["hour"] == "2026-03-29 00:00"
    daily = api.get("/api/timeseries?start_date=2026-03-01&end_date=2026-03-31")[1]
    assert [r["date"] for r in daily["results"]] == [f"2026-03-{d:02d}" for d in range(1, 31)]  # all 30, no limit
    paged = api.get("/api/timeseries?start_date=2026-03-01&end_date=2026-03-31&limit=2&offset=3")[1]
    assert [r["date"] for r in paged["results"]] == ["2026-03-04", "2026-03-05"] and paged["meta"]["total_rows"] == 30


@pytest.mark.parametrize(
    "query, message",
    [
        ("end_date=2026-03-31", "start_date is required (YYYY-MM-DD)"),
        ("start_date=2026-03-01", "end_date is required (YYYY-MM-DD)"),
        ("start_date=2026-03-01&end_date=2026-03-01", "end_date must be after start_date (the end date is exclusive)"),
        ("start_date=2026-03-01&end_date=2026-03-31&limit=0", "limit must be an integer between 1 and 10000"),
        ("start_date=2026-03-01&end_date=2026-03-31&offset=-1", "offset must be an integer between 0 and 1000000000"),
        ("start_date=2026-03-01&end_date=2026-03-31&timezone=berlin", "Unknown timezone 'berlin'"),
        ("start_date=2026-03-01&end_date=2026-03-31&period=7d", "Unknown query parameter 'period'"),
    ],
)
def test_convenience_parameters_are_checked(api, query, message):
    for endpoint in ("pages", "utm/medium", "timeseries"):
        status, answer = api.get(f"/api/{endpoint}?{query}")
        assert status == 400 and answer["message"].startswith(message), (endpoint, answer)


# --- §7 goals


def test_goals_report_lists_every_goal_by_id_with_its_count_and_revenue(api):
    day = datetime(2026, 3, 30, 9, tzinfo=UTC)
    api.goal("Thanks", "pageview", {"path": "/thank-you*"})
    api.goal("Purchase", "custom", {"event": "Purchase"})
    api.goal("Partner", "click", {"domain": "partner.example.com"})
    api.goal("Contact", "form", {"form_id": "contact"})
    api.goal("Pro", "custom", {"event": "Purchase", "prop": ["plan", "pro"]})
    api.goal("Nobody", "form", {"form_name": "Never"})
    api.load(
        {"timestamp": day, "ip": "203.0.113.1", "url": "https://example.com/thank-you/now?x=1"},
        {"timestamp": day, "ip": "203.0.113.2", "url": "https://example.com/Thank-you"},
        {"timestamp": day, "ip": "203.0.113.3", "type": "custom", "name": "Purchase", "revenue_amount": 49.99,
         "meta_keys": ["plan"], "meta_values": ["pro"]},
        {"timestamp": day, "ip": "203.0.113.4", "type": "custom", "name": "Purchase", "revenue_amount": 99.5,
         "revenue_currency": "EUR"},
        {"timestamp": day, "ip": "203.0.113.4", "type": "click",
         "meta_keys": ["click_url"], "meta_values": ["https://WWW.partner.example.com/offer"]},
        {"timestamp": day, "ip": "203.0.113.5", "type": "form", "meta_keys": ["form_id"], "meta_values": ["contact"]},
        {"timestamp": day, "ip": "203.0.113.5", "type": "form", "meta_keys": ["form_id"], "meta_values": ["contact"]},
    )
    status, body = api.get("/api/goals?start_date=2026-03-30&end_date=2026-03-31")
    assert status == 200
    assert body == {"goals": [
        {"id": 1, "name": "Thanks", "type": "pageview", "visitors": 1, "pageviews": 1},
        {"id": 2, "name": "Purchase", "type": "custom", "visitors": 2, "events": 2,
         "revenue_by_currency": {"EUR": 99.5, "USD": 49.99}},
        {"id": 3, "name": "Partner", "type": "click", "visitors": 1, "clicks": 1},
        {"id": 4, "name": "Contact", "type": "form", "visitors": 1, "submissions": 2},
        {"id": 5, "name": "Pro", "type": "custom", "visitors": 1, "events": 1,
         "revenue_by_currency": {"USD": 49.99}, "total_revenue": 49.99, "currency": "USD"},
        {"id": 6, "name": "Nobody", "type": "form", "visitors": 0, "submissions": 0},
    ]}
    assert api.get("/api/goals?start_date=2026-03-31&end_date=2026-04-01")[1]["goals"][1] == {
        "id": 2, "name": "Purchase", "type": "custom", "visitors": 0, "events": 0}


@pytest.mark.parametrize("query", ["start_date=2026-03-01", "end_date=2026-03-31", ""])
def test_goals_report_needs_both_dates(api, query):
    status, answer = api.get(f"/api/goals?{query}")
    assert status == 400 and "is required" in answer["message"]
