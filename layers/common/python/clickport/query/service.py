"""Entry points of the query path, called by the HTTP handlers: the Stats query, the convenience
breakdowns and the goals report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from clickport.ports import Goal, QueryEngine, Site
from clickport.query.convenience import preset_body
from clickport.query.goals import goals_report as report_goals
from clickport.query.models import QueryRequest, parse_request
from clickport.query.plan import QueryPlan
from clickport.query.runner import execute_plan
from clickport.query.shape import shape_response
from clickport.query.validation import build_plan


@dataclass(frozen=True)
class QueryResult:
    body: dict[str, Any]  # the JSON response, keys in spec order
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds, for a Server-Timing header


def normalize_now(now: datetime) -> datetime:
    """An aware UTC instant rounded up to the whole second.

    Rounding up keeps every event already received inside ranges that end at now (events
    carry milliseconds), and every instant of ``meta.date_range`` is a whole second.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        now = now.replace(tzinfo=timezone.utc)
    now = now.astimezone(timezone.utc)
    whole = now.replace(microsecond=0)
    return whole if whole == now else whole + timedelta(seconds=1)


def plan_query(body: Any, *, site: Site, goals: Sequence[Goal], now: datetime) -> QueryPlan:
    """Validate a raw request body (400 on any problem) and return its plan."""
    return plan_request(parse_request(body), site=site, goals=goals, now=now)


def plan_request(request: QueryRequest, *, site: Site, goals: Sequence[Goal], now: datetime) -> QueryPlan:
    """The plan of an already parsed request (names, dates and goals checked here: 400 on any problem)."""
    return build_plan(request, site=site, goals=goals, now=normalize_now(now))


def run_plan(plan: QueryPlan, engine: QueryEngine, timings: dict[str, float]) -> dict[str, Any]:
    result = execute_plan(plan, engine)
    timings.update(result.timings)
    started = time.perf_counter()
    body = shape_response(plan, result)
    timings["shape"] = (time.perf_counter() - started) * 1000
    return body


def run_request(
    request: QueryRequest, *, site: Site, goals: list[Goal], engine: QueryEngine, now: datetime
) -> QueryResult:
    """``POST /api/query`` with the body the route validated: ``BadRequest`` for invalid names or
    values, engine errors as they come."""
    started = time.perf_counter()
    plan = plan_request(request, site=site, goals=goals, now=now)
    timings = {"validate": (time.perf_counter() - started) * 1000}
    return QueryResult(run_plan(plan, engine, timings), timings)


def run_query(body: Any, *, site: Site, goals: list[Goal], engine: QueryEngine, now: datetime) -> QueryResult:
    """A raw JSON body (convenience presets, the CLI, tests): parsed once, then as ``run_request``."""
    return run_request(parse_request(body), site=site, goals=goals, engine=engine, now=now)


def run_convenience(
    name: str, params: dict[str, str], *, site: Site, goals: list[Goal], engine: QueryEngine, now: datetime
) -> QueryResult:
    """``GET /api/<name>`` and ``/api/utm/<param>``: ``NotFound`` for an unknown name, else as ``run_query``."""
    return run_query(preset_body(name, params), site=site, goals=goals, engine=engine, now=now)


def goals_report(
    params: dict[str, str], *, site: Site, goals: list[Goal], engine: QueryEngine, now: datetime
) -> dict[str, Any]:
    """``GET /api/goals``: ``{"goals": [...]}`` for every goal of the site, ordered by id."""
    return report_goals(params, site=site, goals=goals, engine=engine, now=normalize_now(now))
