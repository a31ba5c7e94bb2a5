"""Every invalid Stats request is one 400 with a message that names the field and, for lists, the valid values."""

from __future__ import annotations

import pytest

from clickport.errors import BadRequest
from clickport.query.service import plan_query
from tests.unit.query.conftest import NOW

VALID_METRICS = (
    "visitors, sessions, pageviews, views_per_visit, bounce_rate, avg_duration, avg_scroll, clickers, "
    "events, conversions, conversion_rate, total_revenue"
)

CASES = [
    ([], "The request body must be a JSON object"),
    ("metrics", "The request body must be a JSON object"),
    ({"site_id": "other"}, "the site comes from the API key"),
    ({"metric": ["visitors"]}, "Unknown field 'metric'. Valid fields: metrics, dimensions, period, date_range, "
     "filters, order_by, order_dir, limit, offset, timezone, include_comparison"),
    ({"metrics": ["visitor"]}, f"Unknown metric 'visitor'. Valid metrics: {VALID_METRICS}"),
    ({"metrics": ["visitors", "visitors"]}, "Metric 'visitors' is listed twice in metrics"),
    ({"metrics": []}, "metrics must name at least one metric"),
    ({"metrics": "visitors"}, "metrics must be an array"),
    ({"metrics": [1]}, "metrics[0] must be a string"),
    ({"dimensions": ["pages"]}, "Unknown dimension 'pages' in dimensions[0]. Valid dimensions: source, channel, "
     "referrer_url, utm_source, utm_medium, utm_campaign, utm_content, utm_term, page, entry_page, exit_page, "
     "country, region, city, device, screen, browser, os, browser_version, os_version, hour, date, week, month, "
     "hostname, event_type, event_name, goal, prop:<key> (a property key has 1 to 100 characters)"),
    ({"dimensions": ["prop:"]}, "Unknown dimension 'prop:' in dimensions[0]."),
    ({"dimensions": ["prop:" + "k" * 101]}, "Unknown dimension"),
    ({"dimensions": ["page", "page"]}, "Dimension 'page' is listed twice in dimensions"),
    ({"dimensions": ["date", "hour"]}, "dimensions may hold at most one time dimension (hour, date, week, month)"),
    ({"dimensions": ["page", "country", "city", "device"]}, "dimensions may hold at most 3 items"),
    ({"period": "7days"}, "Unknown period '7days'. Valid periods: realtime, 24h, today, yesterday, 7d, 14d, 30d, "
     "90d, 12m, month, year, last_month, all"),
    ({"date_range": {"start": "2026-02-30", "end": "2026-03-05"}},
     "date_range.start must be a date YYYY-MM-DD, got '2026-02-30'"),
    ({"date_range": {"start": "20260301", "end": "2026-03-05"}},
     "date_range.start must be a date YYYY-MM-DD, got '20260301'"),
    ({"date_range": {"start": "2026-03-05", "end": "2026-03-05"}},
     "date_range.end must be after date_range.start (the end date is exclusive)"),
    ({"date_range": {"start": "2016-01-01", "end": "2026-03-05"}}, "The date range may span at most 3660 days"),
    ({"date_range": {"start": "2026-03-01"}}, "date_range.end is required"),
    ({"date_range": {"start": "2026-03-01", "end": "2026-03-02", "tz": "UTC"}},
     "Unknown field 'tz' in date_range. Valid fields: start, end"),
    ({"timezone": "europe/berlin"}, "Unknown timezone 'europe/berlin'. Use an IANA zone name in its exact case"),
    ({"timezone": "CEST"}, "Unknown timezone 'CEST'."),
    ({"limit": 0}, "limit must be between 1 and 10000"),
    ({"limit": 10001}, "limit must be between 1 and 10000"),
    ({"limit": "10"}, "limit must be an integer"),
    ({"limit": 2.5}, "limit must be an integer"),
    ({"offset": -1}, "offset must be between 0 and 1000000000"),
    ({"order_dir": "up"}, "order_dir must be 'asc' or 'desc'"),
    ({"include_comparison": "yes"}, "include_comparison must be true or false"),
    ({"metrics": ["visitors"], "order_by": "pageviews"},
     "order_by 'pageviews' is not a requested metric or dimension. Requested: visitors"),
    ({"filters": [{"dimension": "country", "operator": "equals", "value": "DE"}]},
     "Unknown operator 'equals' in filters[0]. Valid operators: is, is_not, contains, not_contains, matches, not_matches"),
    ({"filters": [{"dimension": "date", "operator": "is", "value": "2026-03-01"}]},
     "Time dimension 'date' cannot be filtered (filters[0])"),
    ({"filters": [{"dimension": "land", "operator": "is", "value": "DE"}]}, "Unknown dimension 'land' in filters[0].dimension."),
    ({"filters": [{"dimension": "country", "operator": "is", "value": ""}]},
     "filters[0].value must be a non-empty string or a non-empty array of non-empty strings"),
    ({"filters": [{"dimension": "country", "operator": "is", "value": []}]},
     "filters[0].value must be a non-empty string or a non-empty array of non-empty strings"),
    ({"filters": [{"dimension": "country", "operator": "is"}]}, "filters[0].value is required"),
    ({"filters": [{"dimension": "country", "operator": "is", "value": ["DE"] * 101}]},
     "filters[0].value may list at most 100 values"),
    ({"filters": ["country"]}, "filters[0] must be an object"),
    ({"date_range": "2026-03"}, "date_range must be an object"),
    ({"filters": [{"dimension": "country", "operator": "is", "value": "DE", "negate": True}]},
     "Unknown field 'negate' in filters[0]. Valid fields: dimension, operator, value"),
    ({"filters": [{"dimension": "page", "operator": "matches", "value": "^/(?!admin)"}]},
     "filters[0].value: '^/(?!admin)' is not a portable pattern: only '( … )' and '(?: … )' groups are "
     "portable (no named groups, flags, lookaround or backreferences) "
     "(the pattern language both engines run alike: docs/limits.md)"),
    ({"filters": [{"dimension": "page", "operator": "matches", "value": "a" * 501}]},
     "filters[0].value: a pattern may have at most 500 characters"),
    ({"filters": [{"dimension": "page", "operator": "is", "value": "a\x00b"}]}, "filters[0].value must not contain NUL characters"),
    ({"filters": [{"dimension": "goal", "operator": "is", "value": "Purchase"}]},
     "Unknown goal 'Purchase' in filters[0]. Goals of this site: Signup, Thanks"),
    ({"filters": [{"dimension": "goal", "operator": "is_not", "value": ["Signup", "Nope"]}]},
     "Unknown goal 'Nope' in filters[0]. Goals of this site: Signup, Thanks"),
]


@pytest.mark.parametrize("body, message", CASES, ids=[str(i) for i in range(len(CASES))])
def test_query_rejects_invalid_request_with_a_precise_message(site, goals, body, message):
    with pytest.raises(BadRequest) as caught:
        plan_query(body, site=site, goals=goals, now=NOW)
    assert caught.value.status == 400
    assert caught.value.message.startswith(message)


def test_query_goal_filter_on_a_site_without_goals_says_so(site):
    with pytest.raises(BadRequest) as caught:
        plan_query({"filters": [{"dimension": "goal", "operator": "is", "value": "X"}]}, site=site, goals=[], now=NOW)
    assert caught.value.message == "Unknown goal 'X' in filters[0]. This site has no goals"


def test_query_period_is_ignored_when_date_range_is_given(site, goals):
    plan = plan_query(
        {"period": "nonsense", "date_range": {"start": "2026-03-01", "end": "2026-03-02"}}, site=site, goals=goals, now=NOW
    )
    assert plan.current.start.isoformat() == "2026-03-01T00:00:00+00:00"


def test_query_empty_body_means_defaults(site, goals):
    plan = plan_query({}, site=site, goals=goals, now=NOW)
    assert [m.name for m in plan.metrics] == ["visitors"]
    assert plan.dimensions == () and plan.filters == ()
    assert plan.timezone == "UTC" and plan.limit == 100 and plan.offset == 0
    assert plan.current.start.isoformat() == "2026-03-30T00:00:00+00:00" and plan.current.end == NOW
    assert plan.previous is None


def test_query_sole_time_dimension_defaults_to_every_bucket_in_time_order(site, goals):
    plan = plan_query({"dimensions": ["date"], "period": "7d"}, site=site, goals=goals, now=NOW)
    assert (plan.limit, plan.order_by, plan.order_dir) == (None, "date", "asc")
    plan = plan_query({"dimensions": ["date"], "order_dir": "desc"}, site=site, goals=goals, now=NOW)
    assert (plan.order_by, plan.order_dir) == ("date", "desc")


def test_query_goal_filter_contains_selects_goals_by_name(site, goals):
    plan = plan_query(
        {"filters": [{"dimension": "goal", "operator": "not_contains", "value": "SIGN"}]}, site=site, goals=goals, now=NOW
    )
    assert plan.filters[0].goal_ids == (1,)
    assert plan.filters[0].operator.negated
