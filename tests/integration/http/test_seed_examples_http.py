"""The seed's query, realtime and goals examples, sent over HTTP to the local server after an import."""

import json
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from clickport.ingest.importer import import_events
from tests.conftest import BROWSER_UA

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def served(server, runtime, site, keys):
    day = (NOW - timedelta(days=2)).replace(hour=10, minute=0, second=0)
    lines = []
    for i, (path, country) in enumerate([("/", "DE"), ("/pricing", "DE"), ("/", "US"), ("/blog/privacy", "DE")]):
        ts = (day + timedelta(minutes=i)).isoformat().replace("+00:00", "Z")
        lines.append(json.dumps({"timestamp": ts, "user_agent": BROWSER_UA, "ip": f"203.0.113.{i + 1}",
                                 "url": f"https://example.com{path}", "country": country}))
        lines.append(json.dumps({"timestamp": ts, "user_agent": BROWSER_UA, "ip": f"203.0.113.{i + 1}",
                                 "type": "custom", "name": "Purchase", "url": "https://example.com/checkout",
                                 "revenue_amount": 49.99, "revenue_currency": "USD"}))
    import_events(lines, site=site, sink=runtime.sink, config=runtime.config)
    runtime.config.create_goal(site.site_id, "Purchase", "custom", {"event": "Purchase"})
    return server, keys["read"]


def _call(url, key, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, headers={"x-api-key": key,
                                                                     "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/json"
        return json.loads(response.read())


def test_aggregate_example(served):
    body = _call(*served, "/api/query", {"metrics": ["visitors", "pageviews", "bounce_rate"], "period": "30d"})
    assert list(body) == ["results", "meta"]
    assert body["results"] == {"visitors": 4, "pageviews": 4, "bounce_rate": 100}


def test_breakdown_example_with_filter_and_timezone(served):
    start = (NOW - timedelta(days=10)).date().isoformat()
    end = (NOW + timedelta(days=1)).date().isoformat()
    body = _call(*served, "/api/query", {
        "metrics": ["visitors", "pageviews", "avg_scroll"], "dimensions": ["page"],
        "date_range": {"start": start, "end": end},
        "filters": [{"dimension": "country", "operator": "is", "value": "DE"}], "limit": 10,
        "timezone": "Europe/Berlin",
    })
    # page is event-level (spec §3.8.5): the purchases on /checkout make a group of their own.
    assert body["results"] == [
        {"page": "/checkout", "visitors": 3, "pageviews": 0, "avg_scroll": 0},
        {"page": "/", "visitors": 1, "pageviews": 1, "avg_scroll": 0},
        {"page": "/blog/privacy", "visitors": 1, "pageviews": 1, "avg_scroll": 0},
        {"page": "/pricing", "visitors": 1, "pageviews": 1, "avg_scroll": 0},
    ]
    assert [list(row) for row in body["results"]] == [["page", "visitors", "pageviews", "avg_scroll"]] * 4
    assert body["meta"]["timezone"] == "Europe/Berlin" and body["meta"]["total_rows"] == 4


def test_time_series_example(served):
    body = _call(*served, "/api/query", {"metrics": ["visitors", "pageviews"], "dimensions": ["date"],
                                         "period": "7d"})
    rows = body["results"]
    assert len(rows) == 7 and [list(r) for r in rows] == [["date", "visitors", "pageviews"]] * 7
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    assert sum(r["visitors"] for r in rows) == 4
    assert rows[-1]["date"] == NOW.date().isoformat()


def test_realtime_and_goals_examples(served):
    assert _call(*served, "/api/realtime") == {"count": 0, "visitors": []}  # import never touches the live store
    start = (NOW - timedelta(days=10)).date().isoformat()
    end = (NOW + timedelta(days=1)).date().isoformat()
    goals = _call(*served, f"/api/goals?start_date={start}&end_date={end}")
    assert goals == {"goals": [{"id": 1, "name": "Purchase", "type": "custom", "visitors": 4, "events": 4,
                                "revenue_by_currency": {"USD": 199.96}, "total_revenue": 199.96,
                                "currency": "USD"}]}
