"""Response shaping (spec §3.5, §3.7): shown values, comparison and change, zero-filled buckets, ordering.

Keys come in request order (dimensions, then metrics). Ties in ordering go by the
dimension values in request order, ascending by code point, whatever ``order_dir`` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from clickport.query.buckets import bucket_labels
from clickport.query.metrics import METRICS, Metric
from clickport.query.periods import TimeRange, iso_instant
from clickport.query.plan import CURRENT, PREVIOUS, QueryPlan
from clickport.query.rounding import fraction_to_json, round_fraction
from clickport.query.runner import EngineResult
from clickport.query.zones import get_zone

CHANGE_DECIMALS = 1


@dataclass(frozen=True)
class Row:
    values: tuple[str, ...]
    totals: Mapping[str, Any]
    previous: Mapping[str, Any] | None  # None: compares with zeros
    bucket: str | None = None  # time dimensions: the paired previous bucket's label


def range_json(time_range: TimeRange, zone_name: str) -> dict[str, str]:
    zone = get_zone(zone_name)
    return {"start": iso_instant(time_range.start, zone), "end": iso_instant(time_range.end, zone)}


# --- values and change


def shown_values(metrics: tuple[Metric, ...], totals: Mapping[str, Any]) -> dict[str, Any]:
    return {m.name: m.shown(totals) for m in metrics}


def _relative(current: Fraction, previous: Fraction) -> float | None:
    if previous == 0:
        return None
    return float(round_fraction((current - previous) / previous * 100, CHANGE_DECIMALS))


def change_of(metric: Metric, current: Mapping[str, Any], previous: Mapping[str, Any]) -> Any:
    """The change from the shown values: relative % (1 decimal, null from 0) or a difference in points."""
    if metric.kind == "revenue":
        now_values, before = metric.shown(current), metric.shown(previous)
        return {
            currency: _relative(Fraction(str(now_values.get(currency, 0))), Fraction(str(before.get(currency, 0))))
            for currency in sorted(set(now_values) | set(before))
        }
    scale = 10**metric.decimals
    now_value = Fraction(metric.scaled(current), scale)
    before_value = Fraction(metric.scaled(previous), scale)
    if metric.change == "points":
        return fraction_to_json(now_value - before_value, metric.decimals)
    return _relative(now_value, before_value)


def changes(metrics: tuple[Metric, ...], current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    return {m.name: change_of(m, current, previous) for m in metrics}


# --- ordering


def order_rows(plan: QueryPlan, rows: list[Row]) -> list[Row]:
    """By order_by's exact value in order_dir; ties by dimension values ascending (code points)."""
    ordered = sorted(rows, key=lambda r: r.values)
    names = [d.name for d in plan.dimensions]
    descending = plan.order_dir == "desc"
    if plan.order_by in METRICS:
        metric = METRICS[plan.order_by]
        ordered.sort(key=lambda r: metric.exact(r.totals), reverse=descending)
    elif plan.order_by in names:
        index = names.index(plan.order_by)
        ordered.sort(key=lambda r: r.values[index], reverse=descending)
    return ordered


# --- rows of plans with a time dimension (ordered here, not in SQL)


def _time_rows(plan: QueryPlan, result: EngineResult) -> list[Row]:
    zone = get_zone(plan.timezone)
    index = next(i for i, d in enumerate(plan.dimensions) if d.is_time)
    unit = plan.dimensions[index].name
    current = {g.values: g.totals for g in result.groups if g.period == CURRENT}
    previous = {g.values: g.totals for g in result.groups if g.period == PREVIOUS}
    current_labels = sorted(
        set(bucket_labels(unit, plan.current, zone, plan.now)) | {values[index] for values in current}
    )
    if plan.is_time_series:
        keyed = [((label,), current.get((label,), {})) for label in current_labels]
    else:
        keyed = list(current.items())
    previous_labels: list[str] = []
    if plan.previous is not None:
        previous_labels = sorted(set(bucket_labels(unit, plan.previous, zone)) | {v[index] for v in previous})
    position = {label: i for i, label in enumerate(current_labels)}
    rows = []
    for values, totals in keyed:
        bucket = None
        before = None
        slot = position[values[index]]
        if plan.previous is not None and slot < len(previous_labels):
            bucket = previous_labels[slot]
            before = previous.get(values[:index] + (bucket,) + values[index + 1 :])
        rows.append(Row(values, totals, before, bucket))
    return rows


# --- the response


def _comparison_block(plan: QueryPlan) -> dict[str, Any] | None:
    if plan.previous is None:
        return None
    return {"date_range": range_json(plan.previous, plan.timezone)}


def _row_json(plan: QueryPlan, row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {d.name: v for d, v in zip(plan.dimensions, row.values)}
    out.update(shown_values(plan.metrics, row.totals))
    if plan.previous is not None:
        before = row.previous or {}
        comparison: dict[str, Any] = {}
        time_dimension = plan.time_dimension
        if time_dimension is not None and row.bucket is not None:
            comparison[time_dimension.name] = row.bucket
        comparison.update(shown_values(plan.metrics, before))
        out["comparison"] = comparison
        out["change"] = changes(plan.metrics, row.totals, before)
    return out


def _aggregate(plan: QueryPlan, result: EngineResult, meta: dict[str, Any]) -> dict[str, Any]:
    by_period = {g.period: g.totals for g in result.groups}
    current = by_period.get(CURRENT, {})
    body: dict[str, Any] = {"results": shown_values(plan.metrics, current)}
    if plan.include_comparison:
        block = _comparison_block(plan)
        if block is not None:
            previous = by_period.get(PREVIOUS, {})
            block["results"] = shown_values(plan.metrics, previous)
            block["change"] = changes(plan.metrics, current, previous)
        body["comparison"] = block
    body["meta"] = meta
    return body


def shape_response(plan: QueryPlan, result: EngineResult) -> dict[str, Any]:
    """The JSON body of one query, keys in spec order."""
    meta: dict[str, Any] = {"date_range": range_json(plan.current, plan.timezone), "timezone": plan.timezone}
    if not plan.dimensions:
        return _aggregate(plan, result, meta)
    if plan.ranked_in_sql:
        page = [
            Row(r.values, r.totals, r.previous)
            for r in result.ranked
            if plan.offset < r.rank <= plan.offset + (plan.limit or 0)
        ]
        total_rows = result.total_rows
    else:
        rows = order_rows(plan, _time_rows(plan, result))
        total_rows = len(rows)
        end = None if plan.limit is None else plan.offset + plan.limit
        page = rows[plan.offset : end]
    body: dict[str, Any] = {"results": [_row_json(plan, row) for row in page]}
    if plan.include_comparison:
        body["comparison"] = _comparison_block(plan)
    meta["total_rows"] = total_rows
    body["meta"] = meta
    return body
