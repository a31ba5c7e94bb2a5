"""Comparison change is computed from the shown values: relative percent, or points for rates."""

from __future__ import annotations

from clickport.query.metrics import METRICS
from clickport.query.shape import change_of


def test_relative_change_of_counts_has_one_decimal():
    assert change_of(METRICS["visitors"], {"visitors": 4821}, {"visitors": 4012}) == 20.2
    assert change_of(METRICS["visitors"], {"visitors": 1}, {"visitors": 3}) == -66.7


def test_relative_change_from_zero_is_null():
    assert change_of(METRICS["pageviews"], {"pageviews": 5}, {}) is None
    assert change_of(METRICS["pageviews"], {}, {}) is None


def test_bounce_rate_and_scroll_change_in_points_as_integers():
    now = {"bounces": 42, "bounce_base": 100}
    before = {"bounces": 45, "bounce_base": 100}
    assert change_of(METRICS["bounce_rate"], now, before) == -3
    assert isinstance(change_of(METRICS["bounce_rate"], now, before), int)


def test_change_uses_rounded_values():
    # 1/3 → 0.33 and 2/3 → 0.67 views per visit (shown); change = (0.33 − 0.67) / 0.67 = −50.7 %
    assert change_of(METRICS["views_per_visit"], {"pageviews": 1, "sessions": 3}, {"pageviews": 2, "sessions": 3}) == -50.7


def test_conversion_rate_changes_in_points_with_one_decimal():
    now = {"converting_visitors": 1, "conversion_base": 3}  # 33.3
    before = {"converting_visitors": 1, "conversion_base": 8}  # 12.5
    assert change_of(METRICS["conversion_rate"], now, before) == 20.8


def test_revenue_changes_per_currency():
    now = {"revenue": {"USD": 20_000_000, "EUR": 1_000_000}}
    before = {"revenue": {"USD": 10_000_000, "GBP": 3_000_000}}
    assert change_of(METRICS["total_revenue"], now, before) == {"EUR": None, "GBP": -100.0, "USD": 100.0}
