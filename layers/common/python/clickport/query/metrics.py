"""Metrics of spec §3.1, looked up by exact name: the exact integer totals each needs and its shown value.

SQL returns integer totals only; a metric's shown value is formed here, rounded once,
half away from zero (``rounding.scaled_ratio``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, Mapping

from clickport.query.rounding import scaled_ratio, shown_number

# Integer totals the SQL can return per group (``revenue`` is micro-units per currency).
TOTALS: tuple[str, ...] = (
    "visitors",
    "sessions",
    "pageviews",
    "events",
    "bounce_base",
    "bounces",
    "duration_ms",
    "scroll_sum",
    "scroll_count",
    "clickers",
    "conversions",
    "converting_visitors",
    "conversion_base",
)
REVENUE_TOTAL = "revenue"
# The sort key of total_revenue in SQL: its micro-units summed over currencies.
REVENUE_SORT_TOTAL = "revenue_micros"
MICROS = 1_000_000
REVENUE_DECIMALS = 2

Change = Literal["relative", "points", "per_currency"]


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Literal["count", "ratio", "revenue"]
    decimals: int = 0
    change: Change = "relative"
    # count: the total shown as is; ratio: (numerator_factor × numerator) / (denominator_factor × denominator)
    numerator: str | None = None
    numerator_factor: int = 1
    denominator: str | None = None
    denominator_factor: int = 1

    @property
    def totals(self) -> tuple[str, ...]:
        if self.kind == "revenue":
            return (REVENUE_TOTAL,)
        return tuple(t for t in (self.numerator, self.denominator) if t is not None)

    def exact(self, totals: Mapping[str, Any]) -> Fraction:
        """The exact, unrounded value (what ordering compares); 0 for an empty ratio.

        total_revenue orders by its micro-units summed over currencies (the amount itself
        when there is one currency).
        """
        if self.kind == "revenue":
            return Fraction(sum((totals.get(REVENUE_TOTAL) or {}).values()), MICROS)
        if self.kind == "count":
            return Fraction(int(totals.get(self.numerator) or 0))
        if self.kind == "ratio":
            p = self.numerator_factor * int(totals.get(self.numerator) or 0)
            q = self.denominator_factor * int(totals.get(self.denominator) or 0)
            return Fraction(p, q) if q else Fraction(0)
        raise AssertionError(self.kind)

    def scaled(self, totals: Mapping[str, Any]) -> int:
        """The shown value × 10^decimals as an exact integer."""
        if self.kind == "count":
            return int(totals.get(self.numerator) or 0)
        if self.kind == "ratio":
            p = self.numerator_factor * int(totals.get(self.numerator) or 0)
            q = self.denominator_factor * int(totals.get(self.denominator) or 0)
            return scaled_ratio(p, q, self.decimals)
        raise TypeError(f"{self.name} has no single value")

    def shown(self, totals: Mapping[str, Any]) -> Any:
        """The JSON value of this metric for one group."""
        if self.kind == "revenue":
            return shown_revenue(totals.get(REVENUE_TOTAL) or {})
        return shown_number(self.scaled(totals), self.decimals)


def shown_revenue(micros_by_currency: Mapping[str, int]) -> dict[str, float]:
    """``{"USD": 49.99}``: exact micro-unit sums, rounded once to 2 decimals; currencies in code order."""
    return {
        currency: shown_number(scaled_ratio(micros, MICROS, REVENUE_DECIMALS), REVENUE_DECIMALS)
        for currency, micros in sorted(micros_by_currency.items())
    }


def _count(name: str, total: str | None = None) -> Metric:
    return Metric(name, "count", numerator=total or name)


METRICS: dict[str, Metric] = {
    "visitors": _count("visitors"),
    "sessions": _count("sessions"),
    "pageviews": _count("pageviews"),
    "views_per_visit": Metric("views_per_visit", "ratio", 2, numerator="pageviews", denominator="sessions"),
    "bounce_rate": Metric(
        "bounce_rate", "ratio", 0, "points", numerator="bounces", numerator_factor=100, denominator="bounce_base"
    ),
    "avg_duration": Metric(
        "avg_duration", "ratio", 0, numerator="duration_ms", denominator="sessions", denominator_factor=1000
    ),
    "avg_scroll": Metric("avg_scroll", "ratio", 0, "points", numerator="scroll_sum", denominator="scroll_count"),
    "clickers": _count("clickers"),
    "events": _count("events"),
    "conversions": _count("conversions"),
    "conversion_rate": Metric(
        "conversion_rate",
        "ratio",
        1,
        "points",
        numerator="converting_visitors",
        numerator_factor=100,
        denominator="conversion_base",
    ),
    "total_revenue": Metric("total_revenue", "revenue", REVENUE_DECIMALS, "per_currency"),
}

METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
GOAL_METRICS = frozenset({"conversions", "conversion_rate", "total_revenue"})


def lookup_metric(name: str) -> Metric:
    """The metric called exactly ``name``; ``KeyError`` otherwise."""
    return METRICS[name]
