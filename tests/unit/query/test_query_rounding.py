"""Ratios are formed from exact integer totals and rounded once, half away from zero."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from clickport.query.metrics import METRICS, shown_revenue
from clickport.query.rounding import round_fraction, scaled_ratio
from tests.reference.profiles import query_settings


@query_settings(examples=300)
@given(st.integers(0, 10**12), st.integers(1, 10**9), st.integers(0, 3))
def test_scaled_ratio_matches_decimal_half_up(numerator, denominator, places):
    with localcontext() as ctx:
        ctx.prec = 80
        expected = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    assert scaled_ratio(numerator, denominator, places) == int(expected.scaleb(places))


def test_halves_round_away_from_zero():
    assert scaled_ratio(1, 2, 0) == 1
    assert scaled_ratio(5, 2, 0) == 3
    assert scaled_ratio(1, 8, 2) == 13  # 0.125 → 0.13
    assert round_fraction(Fraction(-5, 2), 0) == -3
    assert round_fraction(Fraction(-1, 8), 2) == Fraction(-13, 100)


def test_empty_ratios_are_zero_not_null():
    assert METRICS["bounce_rate"].shown({}) == 0
    assert METRICS["views_per_visit"].shown({"pageviews": 0, "sessions": 0}) == 0.0
    assert METRICS["conversion_rate"].shown({}) == 0.0


def test_integer_metrics_are_json_integers_and_decimals_are_numbers():
    totals = {"pageviews": 7, "sessions": 3, "bounces": 1, "bounce_base": 3, "duration_ms": 4500, "visitors": 3,
              "converting_visitors": 1, "conversion_base": 3, "scroll_sum": 101, "scroll_count": 2}
    assert METRICS["views_per_visit"].shown(totals) == 2.33
    assert METRICS["bounce_rate"].shown(totals) == 33 and isinstance(METRICS["bounce_rate"].shown(totals), int)
    assert METRICS["avg_duration"].shown(totals) == 2  # 1.5 s rounds to 2
    assert METRICS["avg_scroll"].shown(totals) == 51  # 50.5 → 51
    assert METRICS["conversion_rate"].shown(totals) == 33.3


def test_revenue_is_summed_in_micro_units_and_rounded_once():
    assert shown_revenue({"USD": 49_990_000, "EUR": 99_500_000}) == {"EUR": 99.5, "USD": 49.99}
    assert list(shown_revenue({"USD": 1, "EUR": 2})) == ["EUR", "USD"]
    assert shown_revenue({"USD": 5_000}) == {"USD": 0.01}
