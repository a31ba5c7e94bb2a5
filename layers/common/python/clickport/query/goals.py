"""The goals report, ``GET /api/goals`` (spec §7): converting visitors, conversions and revenue per goal.

It is the Stats query grouped by ``goal`` over ``[start_date, end_date)``, listed for
every goal of the site in id order, with zeros for goals without conversions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence

from clickport.ports import Goal, QueryEngine, Site
from clickport.query.convenience import check_parameters, required_dates
from clickport.query.dimensions import lookup_dimension
from clickport.query.metrics import METRICS, REVENUE_TOTAL, shown_revenue
from clickport.query.periods import resolve_dates
from clickport.query.plan import QueryPlan
from clickport.query.runner import execute_plan
from clickport.query.validation import check_timezone

PARAMETERS = ("start_date", "end_date", "timezone")
COUNT_KEYS = {"pageview": "pageviews", "click": "clicks", "form": "submissions", "custom": "events"}


def report_plan(site: Site, goals: Sequence[Goal], start, end, zone_name: str, now: datetime) -> QueryPlan:
    resolved = resolve_dates(start, end, check_timezone(zone_name))
    ordered = tuple(sorted(goals, key=lambda g: g.id))
    return QueryPlan(
        site_id=site.site_id,
        metrics=(METRICS["visitors"], METRICS["conversions"], METRICS["total_revenue"]),
        dimensions=(lookup_dimension("goal"),),
        filters=(),
        goals=ordered,
        timezone=zone_name,
        current=resolved.current,
        previous=None,
        include_comparison=False,
        order_by="visitors",
        order_dir="desc",
        limit=max(1, len(ordered)),
        offset=0,
        now=now,
    )


def goal_entry(goal: Goal, totals: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": goal.id,
        "name": goal.name,
        "type": goal.type,
        "visitors": int(totals.get("visitors", 0)),
        COUNT_KEYS.get(goal.type, "events"): int(totals.get("conversions", 0)),
    }
    revenue = shown_revenue(totals.get(REVENUE_TOTAL) or {})
    if revenue:
        entry["revenue_by_currency"] = revenue
        if len(revenue) == 1:
            currency, amount = next(iter(revenue.items()))
            entry["total_revenue"] = amount
            entry["currency"] = currency
    return entry


def goals_report(
    params: Mapping[str, str], *, site: Site, goals: Sequence[Goal], engine: QueryEngine, now: datetime
) -> dict[str, Any]:
    """``{"goals": [...]}``: every goal of the site by id; 400 for missing/bad dates or unknown parameters."""
    check_parameters(params, PARAMETERS)
    start, end = required_dates(params)
    zone_name = params.get("timezone") or "UTC"
    plan = report_plan(site, goals, start, end, zone_name, now)
    totals_by_name: dict[str, Mapping[str, Any]] = {}
    if plan.goals:
        result = execute_plan(plan, engine)
        totals_by_name = {row.values[0]: row.totals for row in result.ranked}
    return {"goals": [goal_entry(g, totals_by_name.get(g.name, {})) for g in plan.goals]}
