"""Exact rounding, half away from zero, of ratios formed from integer totals (rounded once)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def scaled_ratio(numerator: int, denominator: int, decimals: int) -> int:
    """round(numerator / denominator × 10^decimals), half away from zero, for non-negative totals; 0 when /0.

    The SQL sort keys use this same integer formula: (2·10^d·p + q) div (2·q).
    """
    if denominator == 0:
        return 0
    if numerator < 0 or denominator < 0:
        raise ValueError("totals are never negative")
    return (2 * 10**decimals * numerator + denominator) // (2 * denominator)


def round_fraction(value: Fraction, decimals: int) -> Fraction:
    """``value`` rounded to ``decimals`` places, half away from zero (any sign)."""
    scale = 10**decimals
    magnitude = (2 * abs(value) * scale + 1) // 2  # floor(|x|·scale + 1/2)
    return Fraction(-magnitude if value < 0 else magnitude, scale)


def shown_number(scaled: int, decimals: int) -> int | float:
    """A JSON value from a scaled integer: an int for 0 decimals, else the exact decimal as a float."""
    if decimals == 0:
        return scaled
    return float(Decimal(scaled).scaleb(-decimals))


def fraction_to_json(value: Fraction, decimals: int) -> int | float:
    """A rounded fraction (denominator dividing 10^decimals) as a JSON number."""
    scaled = value * 10**decimals
    assert scaled.denominator == 1
    return shown_number(int(scaled), decimals)
