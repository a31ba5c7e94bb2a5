"""Hand-checked cases of spec §3.8 on the DuckDB engine: filters, sessions, buckets, comparison, goals."""

from __future__ import annotations

from tests.reference.storage import utc

NOW = utc(2026, 4, 2, 12)
MARCH = {"date_range": {"start": "2026-03-01", "end": "2026-04-01"}}


def test_page_is_not_keeps_sessions_with_another_page_and_counts_only_those_events(store):
    store.add(utc(2026, 3, 5, 10), 1, path="/x")
    store.add(utc(2026, 3, 5, 10, 1), 1, path="/y")
    store.add(utc(2026, 3, 5, 11), 2, path="/x")
    body = store.query({**MARCH, "metrics": ["sessions", "pageviews", "bounce_rate"],
                        "filters": [{"dimension": "page", "operator": "is_not", "value": "/x"}]}, NOW)
    # Session 1 has an event not on /x; its bounce counts all its pageviews in range (2: no bounce).
    assert body["results"] == {"sessions": 1, "pageviews": 1, "bounce_rate": 0}


def test_is_not_keeps_unknown_values_shown_as_none(store):
    store.add(utc(2026, 3, 5, 10), 1, country="DE")
    store.add(utc(2026, 3, 5, 10), 2, country=None)
    store.add(utc(2026, 3, 5, 10), 3, country="FR")
    body = store.query({**MARCH, "dimensions": ["country"],
                        "filters": [{"dimension": "country", "operator": "is_not", "value": "DE"}]}, NOW)
    assert body["results"] == [{"country": "(none)", "visitors": 1}, {"country": "FR", "visitors": 1}]
    body = store.query({**MARCH, "filters": [{"dimension": "country", "operator": "is", "value": "(none)"}]}, NOW)
    assert body["results"] == {"visitors": 1}


def test_missing_source_is_direct_and_filters_see_direct(store):
    store.add(utc(2026, 3, 5, 10), 1, source=None)
    store.add(utc(2026, 3, 5, 10), 2, source="google")
    body = store.query({**MARCH, "dimensions": ["source", "channel"]}, NOW)
    assert body["results"] == [
        {"source": "Direct", "channel": "Direct", "visitors": 1},
        {"source": "google", "channel": "Direct", "visitors": 1},
    ]
    body = store.query({**MARCH, "filters": [{"dimension": "source", "operator": "contains", "value": "DIR"}]}, NOW)
    assert body["results"] == {"visitors": 1}


def test_a_session_across_midnight_counts_on_both_days_and_once_overall(store):
    store.add(utc(2026, 3, 5, 23, 50), 1, path="/a")
    store.add(utc(2026, 3, 6, 0, 10), 1, path="/b")
    series = store.query({"date_range": {"start": "2026-03-05", "end": "2026-03-07"}, "dimensions": ["date"],
                          "metrics": ["visitors", "sessions", "avg_duration"]}, NOW)
    assert series["results"] == [
        {"date": "2026-03-05", "visitors": 1, "sessions": 1, "avg_duration": 1200},
        {"date": "2026-03-06", "visitors": 1, "sessions": 1, "avg_duration": 1200},
    ]
    total = store.query({"date_range": {"start": "2026-03-05", "end": "2026-03-07"},
                         "metrics": ["sessions", "avg_duration"]}, NOW)
    assert total["results"] == {"sessions": 1, "avg_duration": 1200}
    # Cut at midnight, each day only sees its part of the session.
    day = store.query({"date_range": {"start": "2026-03-06", "end": "2026-03-07"},
                       "metrics": ["sessions", "avg_duration"], "dimensions": ["entry_page"]}, NOW)
    assert day["results"] == [{"entry_page": "/b", "sessions": 1, "avg_duration": 0}]


def test_engagement_updates_extend_duration_and_scroll_but_are_not_events(store):
    store.add(utc(2026, 3, 5, 10), 1, path="/", page_visit_id="v1", scroll=10)
    store.add(utc(2026, 3, 5, 10, 2), 1, "engagement", path="/", page_visit_id="v1", scroll=90)
    store.add(utc(2026, 3, 5, 11), 2, "engagement", path="/", page_visit_id="v2", scroll=50)  # no countable event
    body = store.query({**MARCH, "metrics": ["sessions", "events", "avg_duration", "avg_scroll"]}, NOW)
    assert body["results"] == {"sessions": 1, "events": 1, "avg_duration": 120, "avg_scroll": 90}


def test_the_repeated_hour_of_the_25_hour_day_is_one_row(store):
    store.add(utc(2026, 10, 25, 0, 30), 1)  # 02:30 CEST
    store.add(utc(2026, 10, 25, 1, 30), 2)  # 02:30 CET
    body = store.query({"date_range": {"start": "2026-10-25", "end": "2026-10-26"}, "dimensions": ["hour"],
                        "timezone": "Europe/Berlin"}, utc(2026, 11, 1))
    assert len(body["results"]) == 24
    assert {"hour": "2026-10-25 02:00", "visitors": 2} in body["results"]


def test_aggregate_comparison_has_previous_results_and_change(store):
    for i in range(4):
        store.add(utc(2026, 3, 20, 10, i), 10 + i, path="/")
    store.add(utc(2026, 3, 12, 10), 1, path="/")
    store.add(utc(2026, 3, 12, 10, 1), 1, path="/b")
    store.add(utc(2026, 3, 13, 10), 2, path="/")
    body = store.query({"date_range": {"start": "2026-03-15", "end": "2026-03-22"}, "timezone": "Europe/Berlin",
                        "metrics": ["visitors", "bounce_rate"], "include_comparison": True}, NOW)
    assert body["results"] == {"visitors": 4, "bounce_rate": 100}
    assert body["comparison"] == {
        "date_range": {"start": "2026-03-08T00:00:00+01:00", "end": "2026-03-15T00:00:00+01:00"},
        "results": {"visitors": 2, "bounce_rate": 50},
        "change": {"visitors": 100.0, "bounce_rate": 50},
    }
    assert list(body) == ["results", "comparison", "meta"]


def test_breakdown_comparison_matches_rows_by_value(store):
    store.add(utc(2026, 3, 20, 10), 1, path="/new")
    store.add(utc(2026, 3, 20, 10), 2, path="/both")
    store.add(utc(2026, 3, 10, 10), 3, path="/both")
    store.add(utc(2026, 3, 10, 10), 4, path="/both")
    store.add(utc(2026, 3, 10, 10), 5, path="/old")
    body = store.query({"date_range": {"start": "2026-03-15", "end": "2026-03-22"}, "dimensions": ["page"],
                        "include_comparison": True}, NOW)
    assert body["results"] == [
        {"page": "/both", "visitors": 1, "comparison": {"visitors": 2}, "change": {"visitors": -50.0}},
        {"page": "/new", "visitors": 1, "comparison": {"visitors": 0}, "change": {"visitors": None}},
    ]
    assert body["comparison"] == {"date_range": {"start": "2026-03-08T00:00:00+00:00",
                                                 "end": "2026-03-15T00:00:00+00:00"}}
    assert body["meta"]["total_rows"] == 2


def test_hour_series_against_a_shorter_day_names_buckets_by_position(store):
    store.add(utc(2026, 3, 28, 23, 30), 1)  # 2026-03-29 00:30 CET (the 23-hour day)
    store.add(utc(2026, 3, 29, 22, 30), 2)  # 2026-03-30 00:30 CEST
    body = store.query({"date_range": {"start": "2026-03-30", "end": "2026-03-31"}, "dimensions": ["hour"],
                        "timezone": "Europe/Berlin", "include_comparison": True}, NOW)
    rows = body["results"]
    assert len(rows) == 24
    assert rows[0]["comparison"] == {"hour": "2026-03-29 00:00", "visitors": 1}
    assert rows[0]["change"] == {"visitors": 0.0}
    assert rows[3]["comparison"]["hour"] == "2026-03-29 04:00"  # the missing 02:00 shifts the pairing
    assert rows[23]["comparison"] == {"visitors": 0}  # beyond the 23 buckets: zeros, no bucket named


def test_ties_are_ordered_by_dimension_values_ascending_whatever_the_direction(store):
    for sid, path in enumerate(["/b", "/a", "/ä", "/B", "/c"], start=1):
        store.add(utc(2026, 3, 5, 10), sid, path=path)
    store.add(utc(2026, 3, 5, 10), 9, path="/c")
    for direction in ("asc", "desc"):
        body = store.query({**MARCH, "dimensions": ["page"], "order_dir": direction}, NOW)
        pages = [r["page"] for r in body["results"]]
        ties = ["/B", "/a", "/b", "/ä"]
        assert pages == (["/c"] + ties if direction == "desc" else ties + ["/c"])


def test_paging_past_the_end_still_counts_rows(store):
    for sid in range(1, 4):
        store.add(utc(2026, 3, 5, 10), sid, path=f"/{sid}")
    body = store.query({**MARCH, "dimensions": ["page"], "limit": 2, "offset": 5}, NOW)
    assert body["results"] == [] and body["meta"]["total_rows"] == 3
    body = store.query({**MARCH, "dimensions": ["page"], "limit": 2, "offset": 1, "order_dir": "asc"}, NOW)
    assert [r["page"] for r in body["results"]] == ["/2", "/3"]


def test_contains_ignores_case_and_matches_is_unanchored_and_case_sensitive(store):
    store.add(utc(2026, 3, 5, 10), 1, path="/Blog/Post")
    store.add(utc(2026, 3, 5, 10), 2, path="/about")
    assert store.query({**MARCH, "filters": [{"dimension": "page", "operator": "contains", "value": "BLOG"}]},
                       NOW)["results"] == {"visitors": 1}
    assert store.query({**MARCH, "filters": [{"dimension": "page", "operator": "matches", "value": "log/P"}]},
                       NOW)["results"] == {"visitors": 1}
    assert store.query({**MARCH, "filters": [{"dimension": "page", "operator": "matches", "value": "blog"}]},
                       NOW)["results"] == {"visitors": 0}
    assert store.query({**MARCH, "filters": [{"dimension": "page", "operator": "not_matches", "value": ["^/a", "^/B"]}]},
                       NOW)["results"] == {"visitors": 0}


def test_other_sites_events_never_count(store):
    store.add(utc(2026, 3, 5, 10), 1)
    store.add(utc(2026, 3, 5, 10), 2, site_id="someone-else")
    assert store.query({**MARCH, "metrics": ["visitors", "pageviews"]}, NOW)["results"] == {"visitors": 1, "pageviews": 1}


def test_props_and_event_names_group_countable_events(store):
    store.add(utc(2026, 3, 5, 10), 1, path="/")
    store.add(utc(2026, 3, 5, 10, 1), 1, "custom", name="Signup", meta_keys=["plan"], meta_values=["pro"])
    store.add(utc(2026, 3, 5, 10, 2), 1, "click", meta_keys=["click_url"], meta_values=["https://x.org"])
    body = store.query({**MARCH, "dimensions": ["event_name", "prop:plan"], "metrics": ["events", "visitors"]}, NOW)
    assert body["results"] == [
        {"event_name": "Signup", "prop:plan": "pro", "events": 1, "visitors": 1},
        {"event_name": "click", "prop:plan": "(none)", "events": 1, "visitors": 1},
        {"event_name": "pageview", "prop:plan": "(none)", "events": 1, "visitors": 1},
    ]


def test_rows_are_ordered_by_the_exact_value_not_the_rounded_one(store):
    # /a lasts 10.2 s on average, /b 10.4 s: both are shown as 10, /b comes first in descending order.
    store.add(utc(2026, 3, 5, 10), 1, path="/a")
    store.add(utc(2026, 3, 5, 10, 0, 10, 200000), 1, path="/a")
    store.add(utc(2026, 3, 5, 10), 2, path="/b")
    store.add(utc(2026, 3, 5, 10, 0, 10, 400000), 2, path="/b")
    for dimensions in (["page"], ["page", "date"]):  # ordered in SQL, and in Python
        body = store.query({**MARCH, "dimensions": dimensions, "metrics": ["avg_duration"], "order_by": "avg_duration"}, NOW)
        assert [(r["page"], r["avg_duration"]) for r in body["results"]] == [("/b", 10), ("/a", 10)]
