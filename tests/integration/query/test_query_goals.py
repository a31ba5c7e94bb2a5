"""Goals match at query time (spec §7, §3.8.7): conversions, conversion_rate, revenue and the goals report."""

from __future__ import annotations

import pytest

from clickport.errors import BadRequest
from clickport.ports import Goal
from clickport.query.service import goals_report
from tests.reference.storage import utc

NOW = utc(2026, 4, 2, 12)
MARCH = {"date_range": {"start": "2026-03-01", "end": "2026-04-01"}}
GOALS = [
    Goal("site-a", 1, "Contact Form", "form", {"form_id": "contact"}),
    Goal("site-a", 2, "Purchase", "custom", {"event": "Purchase"}),
    Goal("site-a", 3, "Thanks", "pageview", {"path": "/thank-you*"}),
    Goal("site-a", 4, "Partner", "click", {"domain": "partner.com"}),
    Goal("site-a", 5, "Pro", "custom", {"event": "Signup", "prop": ["plan", "pro"]}),
    Goal("site-a", 6, "Never", "form", {"form_name": "none"}),
]


@pytest.fixture
def shop(store):
    store.goals = GOALS
    store.add(utc(2026, 3, 5, 10), 1, path="/")
    store.add(utc(2026, 3, 5, 10, 1), 1, "form", meta_keys=["form_id"], meta_values=["contact"])
    store.add(utc(2026, 3, 5, 10, 2), 1, "custom", name="Purchase", revenue_micros=49_990_000, revenue_currency="USD")
    store.add(utc(2026, 3, 6, 10), 2, path="/thank-you/order")
    store.add(utc(2026, 3, 6, 10, 1), 2, "custom", name="Purchase", revenue_micros=99_500_000, revenue_currency="EUR")
    store.add(utc(2026, 3, 6, 10, 2), 2, "click", meta_keys=["click_url"], meta_values=["https://WWW.Partner.com/deal"])
    store.add(utc(2026, 3, 7, 10), 3, path="/thank-you")
    store.add(utc(2026, 3, 7, 10), 4, path="/")
    store.add(utc(2026, 3, 7, 10, 1), 4, "custom", name="Signup", meta_keys=["plan"], meta_values=["free"])
    store.add(utc(2026, 3, 7, 10, 2), 5, "custom", name="Signup", meta_keys=["plan"], meta_values=["pro"])
    return store


def test_conversions_count_each_converting_event_once(shop):
    body = shop.query({**MARCH, "metrics": ["visitors", "conversions", "conversion_rate", "total_revenue"]}, NOW)
    assert body["results"] == {
        "visitors": 5, "conversions": 7, "conversion_rate": 80.0, "total_revenue": {"EUR": 99.5, "USD": 49.99},
    }


def test_goal_dimension_lists_only_goals_with_conversions(shop):
    body = shop.query({**MARCH, "dimensions": ["goal"], "metrics": ["visitors", "conversions", "conversion_rate"]}, NOW)
    assert body["results"] == [
        {"goal": "Purchase", "visitors": 2, "conversions": 2, "conversion_rate": 40.0},
        {"goal": "Thanks", "visitors": 2, "conversions": 2, "conversion_rate": 40.0},
        {"goal": "Contact Form", "visitors": 1, "conversions": 1, "conversion_rate": 20.0},
        {"goal": "Partner", "visitors": 1, "conversions": 1, "conversion_rate": 20.0},
        {"goal": "Pro", "visitors": 1, "conversions": 1, "conversion_rate": 20.0},
    ]


def test_goal_filter_keeps_converting_sessions_and_rate_divides_by_unfiltered_visitors(shop):
    body = shop.query({**MARCH, "metrics": ["visitors", "pageviews", "conversion_rate"],
                       "filters": [{"dimension": "goal", "operator": "is", "value": "Purchase"}]}, NOW)
    assert body["results"] == {"visitors": 2, "pageviews": 0, "conversion_rate": 40.0}


def test_goal_filter_naming_no_goal_lists_the_sites_goals(shop):
    with pytest.raises(BadRequest) as caught:
        shop.query({**MARCH, "filters": [{"dimension": "goal", "operator": "is", "value": "Signup"}]}, NOW)
    assert caught.value.message == (
        "Unknown goal 'Signup' in filters[0]. Goals of this site: Contact Form, Purchase, Thanks, Partner, Pro, Never"
    )


def test_goals_report_lists_every_goal_with_its_type_count(shop):
    report = goals_report({"start_date": "2026-03-01", "end_date": "2026-04-01"}, site=shop.site, goals=GOALS,
                          engine=shop.engine, now=NOW)
    assert report == {
        "goals": [
            {"id": 1, "name": "Contact Form", "type": "form", "visitors": 1, "submissions": 1},
            {"id": 2, "name": "Purchase", "type": "custom", "visitors": 2, "events": 2,
             "revenue_by_currency": {"EUR": 99.5, "USD": 49.99}},
            {"id": 3, "name": "Thanks", "type": "pageview", "visitors": 2, "pageviews": 2},
            {"id": 4, "name": "Partner", "type": "click", "visitors": 1, "clicks": 1},
            {"id": 5, "name": "Pro", "type": "custom", "visitors": 1, "events": 1},
            {"id": 6, "name": "Never", "type": "form", "visitors": 0, "submissions": 0},
        ]
    }


def test_goals_report_with_one_currency_gives_total_and_currency(shop):
    report = goals_report({"start_date": "2026-03-05", "end_date": "2026-03-06", "timezone": "Europe/Berlin"},
                          site=shop.site, goals=GOALS, engine=shop.engine, now=NOW)
    purchase = report["goals"][1]
    assert purchase == {"id": 2, "name": "Purchase", "type": "custom", "visitors": 1, "events": 1,
                        "revenue_by_currency": {"USD": 49.99}, "total_revenue": 49.99, "currency": "USD"}


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "start_date is required (YYYY-MM-DD)"),
        ({"start_date": "2026-03-01"}, "end_date is required (YYYY-MM-DD)"),
        ({"start_date": "2026-03-01", "end_date": "March"}, "end_date must be a date YYYY-MM-DD, got 'March'"),
        ({"start_date": "2026-03-01", "end_date": "2026-03-01"}, "end_date must be after start_date"),
        ({"start_date": "2026-03-01", "end_date": "2026-03-02", "goal": "1"}, "Unknown query parameter 'goal'"),
        ({"start_date": "2026-03-01", "end_date": "2026-03-02", "timezone": "utc"}, "Unknown timezone 'utc'"),
    ],
)
def test_goals_report_rejects_bad_parameters(store, params, message):
    with pytest.raises(BadRequest) as caught:
        goals_report(params, site=store.site, goals=GOALS, engine=store.engine, now=NOW)
    assert caught.value.message.startswith(message)


def test_goals_report_of_a_site_without_goals_is_empty(store):
    assert goals_report({"start_date": "2026-03-01", "end_date": "2026-03-02"}, site=store.site, goals=[],
                        engine=store.engine, now=NOW) == {"goals": []}
