"""Semantic validation: a parsed request plus the site and its goals become a QueryPlan, or one precise 400."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Sequence

from clickport.errors import BadRequest
from clickport.limits import MAX_ANSWER_VALUES
from clickport.ports import Goal, Site
from clickport.query.dimensions import Dimension, lookup_dimension, valid_dimensions_text
from clickport.query.filters import MAX_PATTERN_LENGTH, OPERATOR_NAMES, compile_pattern, lookup_operator
from clickport.query.metrics import METRIC_NAMES, Metric, lookup_metric
from clickport.query.models import DATE_PATTERN, DEFAULT_LIMIT, FilterModel, QueryRequest
from clickport.query.patterns import PatternRejected, portable_pattern
from clickport.query.periods import MAX_RANGE_DAYS, PERIODS, ResolvedRange, TimeRange, resolve_dates, resolve_period
from clickport.query.plan import FilterSpec, QueryPlan
from clickport.query.zones import get_zone

_DATE = re.compile(DATE_PATTERN)
# Dates far enough from the calendar's ends that comparison ranges and partition bounds stay representable.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(9998, 12, 31)
DEFAULT_PERIOD = "today"
DEFAULT_TIMEZONE = "UTC"


def _quote(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _no_nul(text: str, field: str) -> str:
    if "\x00" in text:
        raise BadRequest(f"{field} must not contain NUL characters")
    return text


def parse_date(text: str, field: str) -> date:
    """A ``YYYY-MM-DD`` calendar date from MIN_DATE to MAX_DATE, or a 400 naming ``field``."""
    if _DATE.match(text):
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if not MIN_DATE <= parsed <= MAX_DATE:
                raise BadRequest(f"{field} must be a date from {MIN_DATE} to {MAX_DATE}, got {_quote(text)}")
            return parsed
    raise BadRequest(f"{field} must be a date YYYY-MM-DD, got {_quote(text)}")


def check_timezone(name: str, field: str = "timezone"):
    try:
        return get_zone(name)
    except KeyError:
        raise BadRequest(
            f"Unknown {field} {_quote(name)}. Use an IANA zone name in its exact case, such as 'Europe/Berlin' or 'UTC'"
        ) from None


def parse_dates(start_text: str, end_text: str, fields: tuple[str, str]) -> tuple[date, date]:
    """Local dates ``[start, end)``: each a valid date, the end after the start, at most MAX_RANGE_DAYS apart."""
    start = parse_date(start_text, fields[0])
    end = parse_date(end_text, fields[1])
    if end <= start:
        raise BadRequest(f"{fields[1]} must be after {fields[0]} (the end date is exclusive)")
    if (end - start).days > MAX_RANGE_DAYS:
        raise BadRequest(f"The date range may span at most {MAX_RANGE_DAYS} days")
    return start, end


def resolve_date_range(start_text: str, end_text: str, zone, fields: tuple[str, str]) -> ResolvedRange:
    return resolve_dates(*parse_dates(start_text, end_text, fields), zone)


def _metrics(names: Sequence[str] | None) -> tuple[Metric, ...]:
    names = list(names) if names else ["visitors"]
    metrics: list[Metric] = []
    for name in names:
        try:
            metric = lookup_metric(name)
        except KeyError:
            raise BadRequest(f"Unknown metric {_quote(name)}. Valid metrics: {', '.join(METRIC_NAMES)}") from None
        if metric in metrics:
            raise BadRequest(f"Metric {_quote(name)} is listed twice in metrics")
        metrics.append(metric)
    return tuple(metrics)


def _dimension(name: str, field: str) -> Dimension:
    _no_nul(name, field)
    try:
        return lookup_dimension(name)
    except KeyError:
        raise BadRequest(
            f"Unknown dimension {_quote(name)} in {field}. Valid dimensions: {valid_dimensions_text()} "
            "(a property key has 1 to 100 characters)"
        ) from None


def _dimensions(names: Sequence[str] | None) -> tuple[Dimension, ...]:
    dimensions: list[Dimension] = []
    for index, name in enumerate(names or ()):
        dimension = _dimension(name, f"dimensions[{index}]")
        if dimension in dimensions:
            raise BadRequest(f"Dimension {_quote(name)} is listed twice in dimensions")
        dimensions.append(dimension)
    if sum(d.is_time for d in dimensions) > 1:
        raise BadRequest("dimensions may hold at most one time dimension (hour, date, week, month)")
    return tuple(dimensions)


def _goal_ids(spec_op, values: tuple[str, ...], goals: Sequence[Goal], field: str) -> tuple[int, ...]:
    names = [g.name for g in goals]
    if spec_op.test == "equals":
        unknown = [v for v in values if v not in names]
        if unknown:
            listed = f"Goals of this site: {', '.join(names)}" if names else "This site has no goals"
            raise BadRequest(f"Unknown goal {_quote(unknown[0])} in {field}. {listed}")
    # Which goals pass the filter is decided here, from their names; the SQL tests goal membership.
    positive = replace(spec_op, negated=False)
    return tuple(g.id for g in goals if positive.holds(g.name, values))


def _filter(index: int, model: FilterModel, goals: Sequence[Goal]) -> FilterSpec:
    field = f"filters[{index}]"
    dimension = _dimension(model.dimension, f"{field}.dimension")
    if dimension.is_time:
        raise BadRequest(f"Time dimension {_quote(dimension.name)} cannot be filtered ({field})")
    try:
        operator = lookup_operator(model.operator)
    except KeyError:
        raise BadRequest(
            f"Unknown operator {_quote(model.operator)} in {field}. Valid operators: {', '.join(OPERATOR_NAMES)}"
        ) from None
    values = (model.value,) if isinstance(model.value, str) else tuple(model.value)
    for value in values:
        _no_nul(value, f"{field}.value")
    if operator.test == "regex":
        values = tuple(_pattern(value, f"{field}.value") for value in values)
    goal_ids = _goal_ids(operator, values, goals, field) if dimension.kind == "goal" else ()
    return FilterSpec(dimension, operator, values, goal_ids)


def _pattern(value: str, field: str) -> str:
    """A ``matches`` pattern in the portable language, as the engines are given it (or a 400 saying why)."""
    if len(value) > MAX_PATTERN_LENGTH:
        raise BadRequest(f"{field}: a pattern may have at most {MAX_PATTERN_LENGTH} characters")
    try:
        portable = portable_pattern(value)
        compile_pattern(portable)
    except (PatternRejected, ValueError) as exc:
        raise BadRequest(
            f"{field}: {_quote(value)} is not a portable pattern: {exc} "
            "(the pattern language both engines run alike: docs/limits.md)"
        ) from None
    return portable


def _order(request: QueryRequest, metrics, dimensions) -> tuple[str | None, str]:
    time_series = len(dimensions) == 1 and dimensions[0].is_time
    order_dir = request.order_dir or ("asc" if time_series and request.order_by is None else "desc")
    if request.order_by is None:
        if time_series:
            return dimensions[0].name, order_dir
        return metrics[0].name, order_dir
    requested = [m.name for m in metrics] + [d.name for d in dimensions]
    if request.order_by not in requested:
        raise BadRequest(
            f"order_by {_quote(request.order_by)} is not a requested metric or dimension. "
            f"Requested: {', '.join(requested)}"
        )
    return request.order_by, order_dir


def bucket_count(unit: str, time_range: TimeRange, zone) -> int:
    """How many buckets of ``unit`` the range spans (an upper bound: its first and last may be partial)."""
    if unit == "hour":
        return math.ceil((time_range.end - time_range.start) / timedelta(hours=1)) + 1
    first, last = time_range.start.astimezone(zone).date(), time_range.end.astimezone(zone).date()
    if unit == "date":
        return (last - first).days + 1
    if unit == "week":
        return (last - first).days // 7 + 2
    return (last.year - first.year) * 12 + last.month - first.month + 1


def answer_values(plan: QueryPlan, zone) -> tuple[int, int, int, int]:
    """(values, rows, periods, columns) of the largest answer ``plan`` can give: rows × periods × columns.

    Rows: one for an aggregate; the limit; for a sole time dimension, every bucket of the range (at most
    the limit, when one is given). Periods: 2 with a comparison. Columns: dimensions + metrics.
    """
    if not plan.dimensions:
        rows = 1
    elif plan.is_time_series:
        buckets = bucket_count(plan.dimensions[0].name, plan.current, zone)
        rows = buckets if plan.limit is None else min(plan.limit, buckets)
    else:
        rows = plan.limit if plan.limit is not None else DEFAULT_LIMIT
    periods = len(plan.ranges)
    columns = len(plan.dimensions) + len(plan.metrics)
    return rows * periods * columns, rows, periods, columns


def check_answer_size(plan: QueryPlan, zone) -> None:
    """A 400 naming the bound when the answer could hold more than ``MAX_ANSWER_VALUES`` values."""
    values, rows, periods, columns = answer_values(plan, zone)
    if values > MAX_ANSWER_VALUES:
        raise BadRequest(
            f"The answer would hold up to {values:,} values (rows × periods × (dimensions + metrics) = "
            f"{rows:,} × {periods} × {columns}); at most {MAX_ANSWER_VALUES:,} are allowed. Ask for fewer rows "
            "(limit, a shorter range or a coarser time dimension), fewer metrics, or no comparison"
        )


def build_plan(request: QueryRequest, *, site: Site, goals: Sequence[Goal], now: datetime) -> QueryPlan:
    """Check every name and value against the registries and the site; return the frozen plan."""
    metrics = _metrics(request.metrics)
    dimensions = _dimensions(request.dimensions)
    zone_name = request.timezone if request.timezone is not None else DEFAULT_TIMEZONE
    zone = check_timezone(zone_name)
    if request.date_range is not None:
        resolved = resolve_date_range(
            request.date_range.start, request.date_range.end, zone, ("date_range.start", "date_range.end")
        )
    else:
        period = request.period if request.period is not None else DEFAULT_PERIOD
        if period not in PERIODS:
            raise BadRequest(f"Unknown period {_quote(period)}. Valid periods: {', '.join(PERIODS)}")
        resolved = resolve_period(period, now, zone, site.first_event_date)
    goals = tuple(sorted(goals, key=lambda g: g.id))
    filters = tuple(_filter(i, f, goals) for i, f in enumerate(request.filters or ()))
    order_by, order_dir = _order(request, metrics, dimensions)
    time_series = len(dimensions) == 1 and dimensions[0].is_time
    limit = request.limit if request.limit is not None else (None if time_series else DEFAULT_LIMIT)
    include_comparison = bool(request.include_comparison)
    plan = QueryPlan(
        site_id=site.site_id,
        metrics=metrics,
        dimensions=dimensions,
        filters=filters,
        goals=goals,
        timezone=zone_name,
        current=resolved.current,
        previous=resolved.previous if include_comparison else None,
        include_comparison=include_comparison,
        order_by=order_by,
        order_dir=order_dir,
        limit=limit,
        offset=request.offset or 0,
        now=now,
    )
    check_answer_size(plan, zone)
    return plan
