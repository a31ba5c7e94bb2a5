"""Convenience endpoints are preset Stats queries; their query parameters are checked strictly."""

from __future__ import annotations

import pytest

from clickport.errors import BadRequest, NotFound
from clickport.query.convenience import PRESETS, preset_body

DATES = {"start_date": "2026-03-01", "end_date": "2026-03-31"}


@pytest.mark.parametrize(
    "name, dimension, metrics",
    [
        ("pages", "page", ["visitors", "pageviews", "avg_scroll", "avg_duration"]),
        ("entry-pages", "entry_page", ["visitors", "sessions", "bounce_rate"]),
        ("exit-pages", "exit_page", ["visitors", "sessions", "bounce_rate"]),
        ("sources", "source", ["visitors", "sessions", "bounce_rate", "avg_duration"]),
        ("channels", "channel", ["visitors", "sessions", "bounce_rate", "avg_duration"]),
        ("referrers", "referrer_url", ["visitors", "sessions", "bounce_rate", "avg_duration"]),
        ("campaigns", "utm_campaign", ["visitors", "sessions", "bounce_rate"]),
        ("utm/source", "utm_source", ["visitors", "sessions", "bounce_rate"]),
        ("utm/medium", "utm_medium", ["visitors", "sessions", "bounce_rate"]),
        ("utm/campaign", "utm_campaign", ["visitors", "sessions", "bounce_rate"]),
        ("utm/content", "utm_content", ["visitors", "sessions", "bounce_rate"]),
        ("utm/term", "utm_term", ["visitors", "sessions", "bounce_rate"]),
        ("countries", "country", ["visitors", "sessions"]),
        ("regions", "region", ["visitors", "sessions"]),
        ("cities", "city", ["visitors", "sessions"]),
        ("devices", "device", ["visitors", "sessions", "bounce_rate"]),
        ("browsers", "browser", ["visitors", "sessions", "bounce_rate"]),
        ("os", "os", ["visitors", "sessions", "bounce_rate"]),
        ("screens", "screen", ["visitors", "sessions", "bounce_rate"]),
        ("timeseries", "date", ["visitors", "pageviews", "sessions", "bounce_rate", "avg_duration"]),
    ],
)
def test_each_endpoint_is_one_dimension_with_preset_metrics(name, dimension, metrics):
    body = preset_body(name, dict(DATES))
    assert body == {
        "metrics": metrics,
        "dimensions": [dimension],
        "date_range": {"start": "2026-03-01", "end": "2026-03-31"},
        "timezone": "UTC",
    }


def test_every_preset_is_listed():
    assert len(PRESETS) == 20


def test_timeseries_of_one_local_day_is_by_hour():
    body = preset_body("timeseries", {"start_date": "2026-03-29", "end_date": "2026-03-30", "timezone": "Europe/Berlin"})
    assert body["dimensions"] == ["hour"] and body["timezone"] == "Europe/Berlin"


def test_limit_and_offset_pass_through():
    body = preset_body("pages", {**DATES, "limit": "5", "offset": "10"})
    assert (body["limit"], body["offset"]) == (5, 10)


def test_unknown_endpoint_is_not_found():
    with pytest.raises(NotFound):
        preset_body("visitors", dict(DATES))
    with pytest.raises(NotFound):
        preset_body("utm/referrer", dict(DATES))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"end_date": "2026-03-31"}, "start_date is required (YYYY-MM-DD)"),
        ({"start_date": "2026-03-01"}, "end_date is required (YYYY-MM-DD)"),
        ({"start_date": "2026-3-1", "end_date": "2026-03-31"}, "start_date must be a date YYYY-MM-DD, got '2026-3-1'"),
        ({"start_date": "2026-03-31", "end_date": "2026-03-01"}, "end_date must be after start_date"),
        ({**DATES, "period": "7d"}, "Unknown query parameter 'period'. Valid parameters: start_date, end_date, timezone, limit, offset"),
        ({**DATES, "limit": "0"}, "limit must be an integer between 1 and 10000"),
        ({**DATES, "limit": "ten"}, "limit must be an integer between 1 and 10000"),
        ({**DATES, "offset": "-1"}, "offset must be an integer between 0 and 1000000000"),
        ({**DATES, "timezone": "Mars/Olympus"}, "Unknown timezone 'Mars/Olympus'"),
        ({**DATES, "site_id": "s_other"}, "the site comes from the API key"),
    ],
)
def test_bad_parameters_are_400(params, message):
    with pytest.raises(BadRequest) as caught:
        preset_body("pages", params)
    assert caught.value.message.startswith(message)
