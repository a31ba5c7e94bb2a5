"""The seed's three Stats examples answer in the documented shapes."""

from __future__ import annotations

from tests.reference.storage import utc

NOW = utc(2026, 3, 31, 10)


def _visits(store):
    # Two German visitors on / and /pricing, one US visitor; days spread over March.
    store.add(utc(2026, 3, 10, 9), 1, path="/", country="DE", scroll=50, page_visit_id="p1")
    store.add(utc(2026, 3, 10, 9, 1), 1, path="/pricing", country="DE", scroll=70, page_visit_id="p2")
    store.add(utc(2026, 3, 26, 12), 2, path="/", country="DE", scroll=80, page_visit_id="p3")
    store.add(utc(2026, 3, 27, 23, 30), 3, path="/", country="US", page_visit_id="p4")


def test_aggregate_example_answers_one_object_of_integers(store):
    _visits(store)
    body = store.query({"metrics": ["visitors", "pageviews", "bounce_rate"], "period": "30d"}, NOW)
    assert body == {
        "results": {"visitors": 3, "pageviews": 4, "bounce_rate": 67},
        "meta": {"date_range": {"start": "2026-03-02T00:00:00+00:00", "end": "2026-03-31T10:00:00+00:00"},
                 "timezone": "UTC"},
    }
    assert list(body["results"]) == ["visitors", "pageviews", "bounce_rate"]


def test_breakdown_example_lists_pages_of_german_visitors(store):
    _visits(store)
    body = store.query(
        {
            "metrics": ["visitors", "pageviews", "avg_scroll"],
            "dimensions": ["page"],
            "date_range": {"start": "2026-03-01", "end": "2026-03-31"},
            "filters": [{"dimension": "country", "operator": "is", "value": "DE"}],
            "limit": 10,
            "timezone": "Europe/Berlin",
        },
        NOW,
    )
    assert body["results"] == [
        {"page": "/", "visitors": 2, "pageviews": 2, "avg_scroll": 65},
        {"page": "/pricing", "visitors": 1, "pageviews": 1, "avg_scroll": 70},
    ]
    assert [list(r) for r in body["results"]] == [["page", "visitors", "pageviews", "avg_scroll"]] * 2
    assert body["meta"] == {
        "date_range": {"start": "2026-03-01T00:00:00+01:00", "end": "2026-03-31T00:00:00+02:00"},
        "timezone": "Europe/Berlin",
        "total_rows": 2,
    }


def test_time_series_example_has_a_row_per_day_in_time_order(store):
    _visits(store)
    body = store.query({"metrics": ["visitors", "pageviews"], "dimensions": ["date"], "period": "7d"}, NOW)
    assert [r["date"] for r in body["results"]] == [f"2026-03-{d}" for d in range(25, 32)]
    assert body["results"][1] == {"date": "2026-03-26", "visitors": 1, "pageviews": 1}
    assert body["results"][2] == {"date": "2026-03-27", "visitors": 1, "pageviews": 1}
    assert body["results"][0] == {"date": "2026-03-25", "visitors": 0, "pageviews": 0}
    assert body["meta"]["total_rows"] == 7


def test_engine_timing_is_reported_for_server_timing_not_in_the_body(store):
    from clickport.query.service import run_query

    result = run_query({"metrics": ["visitors"]}, site=store.site, goals=[], engine=store.engine, now=NOW)
    assert set(result.timings) == {"validate", "sql", "engine", "shape"}
    assert all(isinstance(v, float) and v >= 0 for v in result.timings.values())
    assert "timing" not in str(result.body)
