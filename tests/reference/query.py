"""The reference response (spec §3.5, §3.7): shown values, change, buckets, ordering and paging.

Built on ``model.py``'s groups; like it, shares no code with ``clickport.query``.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from tests.reference.model import DECIMALS, POINTS, TIME_DIMS, Context, as_json_number, compute_groups, round_half_away, time_label
from tests.reference.ranges import ranges


ZERO = {
    "visitors": 0, "sessions": 0, "pageviews": 0, "events": 0, "bounce_base": 0, "bounces": 0, "duration_ms": 0,
    "scroll_sum": 0, "scroll_count": 0, "clickers": 0, "conversions": 0, "converting_visitors": 0,
    "conversion_base": 0, "revenue": {},
}


def shown_exact(metric: str, t: dict):
    """(exact Decimal or dict, JSON value)"""
    ratios = {
        "views_per_visit": (t["pageviews"], t["sessions"]),
        "bounce_rate": (100 * t["bounces"], t["bounce_base"]),
        "avg_duration": (t["duration_ms"], 1000 * t["sessions"]),
        "avg_scroll": (t["scroll_sum"], t["scroll_count"]),
        "conversion_rate": (100 * t["converting_visitors"], t["conversion_base"]),
    }
    if metric == "total_revenue":
        shown = {c: round_half_away(m, 1_000_000, 2) for c, m in sorted(t["revenue"].items())}
        return shown, {c: float(v) for c, v in shown.items()}
    if metric in ratios:
        places = DECIMALS.get(metric, 0)
        value = round_half_away(*ratios[metric], places)
        return value, as_json_number(value, places)
    return Decimal(t[metric]), t[metric]


def exact_value(metric: str, t: dict) -> Fraction:
    """The unrounded value ordering compares (total_revenue: its amounts summed over currencies)."""
    if metric == "total_revenue":
        return Fraction(sum(t["revenue"].values()), 1_000_000)
    ratios = {
        "views_per_visit": (t["pageviews"], t["sessions"]),
        "bounce_rate": (t["bounces"], t["bounce_base"]),
        "avg_duration": (t["duration_ms"], t["sessions"]),
        "avg_scroll": (t["scroll_sum"], t["scroll_count"]),
        "conversion_rate": (t["converting_visitors"], t["conversion_base"]),
    }
    if metric in ratios:
        p, q = ratios[metric]
        return Fraction(p, q) if q else Fraction(0)
    return Fraction(t[metric])


def change(metric: str, now: dict, before: dict):
    a, _ = shown_exact(metric, now)
    b, _ = shown_exact(metric, before)
    if metric == "total_revenue":
        return {c: relative(a.get(c, Decimal(0)), b.get(c, Decimal(0))) for c in sorted(set(a) | set(b))}
    if metric in POINTS:
        diff = a - b
        return int(diff) if DECIMALS.get(metric, 0) == 0 else float(diff)
    return relative(a, b)


def relative(a: Decimal, b: Decimal):
    if b == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        value = (a - b) / b * 100
        return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# --- the whole response


def normalized_request(body: dict) -> dict:
    dims = list(body.get("dimensions") or [])
    filters = [
        {"dimension": f["dimension"], "operator": f["operator"],
         "values": [f["value"]] if isinstance(f["value"], str) else list(f["value"])}
        for f in body.get("filters") or []
    ]
    series = len(dims) == 1 and dims[0] in TIME_DIMS
    metrics = list(body.get("metrics") or ["visitors"])
    order_by = body.get("order_by")
    order_dir = body.get("order_dir")
    if order_by is None:
        if series:
            order_by = dims[0]
            order_dir = order_dir or "asc"
        else:
            order_by = metrics[0]
    return {
        "metrics": metrics,
        "dimensions": dims,
        "filters": filters,
        "order_by": order_by,
        "order_dir": order_dir or "desc",
        "limit": body.get("limit", None if series else 100),
        "offset": body.get("offset") or 0,
        "timezone": body.get("timezone") or "UTC",
        "comparison": bool(body.get("include_comparison")),
        "series": series,
    }


def period_totals(events, time_range, request, ctx) -> dict[tuple, dict]:
    start, end = time_range
    groups = compute_groups(events, start, end, request, ctx)
    needs_base = "conversion_rate" in request["metrics"]
    goal_filtered = "goal" in request["dimensions"] or any(f["dimension"] == "goal" for f in request["filters"])
    base = compute_groups(events, start, end, request, ctx, with_goals=False) if needs_base and goal_filtered else None
    plain_dims = [i for i, d in enumerate(request["dimensions"]) if d != "goal"]
    for key, totals in groups.items():
        if base is None:
            totals["conversion_base"] = totals["visitors"]
        else:
            base_key = tuple(key[i] for i in plain_dims)
            totals["conversion_base"] = base.get(base_key, {}).get("visitors", 0)
    return groups


def iso(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if local.microsecond:
        text += f".{local.microsecond // 1000:03d}"
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def labels_between(dim: str, start: datetime, end: datetime, zone: ZoneInfo, now: datetime | None,
                   ends_now: bool = False) -> list[str]:
    """Labels from start to the bucket of the last instant; a range running up to now ends with now's bucket."""
    last = end - timedelta(milliseconds=1)
    if now is not None and now < last:
        last = now
    if ends_now:
        last = now
    found = set()
    t = start
    step = timedelta(minutes=5) if dim == "hour" else timedelta(hours=1)
    while t <= last:
        found.add(time_label(dim, t, zone))
        t += step
    if last >= start:
        found.add(time_label(dim, last, zone))
    return sorted(found)


def metric_values(metrics, totals) -> dict:
    return {m: shown_exact(m, totals)[1] for m in metrics}


def order_key(request):
    dims = request["dimensions"]
    by = request["order_by"]
    desc = request["order_dir"] == "desc"

    def compare(a, b):
        if by is not None and by in dims:
            i = dims.index(by)
            if a[0][i] != b[0][i]:
                result = -1 if a[0][i] < b[0][i] else 1
                return -result if desc else result
        elif by is not None:
            x, y = exact_value(by, a[1]), exact_value(by, b[1])
            if x != y:
                result = -1 if x < y else 1
                return -result if desc else result
        return -1 if a[0] < b[0] else (1 if a[0] > b[0] else 0)

    return functools.cmp_to_key(compare)


def reference_query(events, body, *, site_id, first_event_date, goals, now) -> dict:
    request = normalized_request(body)
    zone = ZoneInfo(request["timezone"])
    # "now" is the query time rounded up to the whole second.
    if now.microsecond:
        now = now.replace(microsecond=0) + timedelta(seconds=1)
    ends_now = not body.get("date_range") and (body.get("period") or "today") not in ("yesterday", "last_month")
    events = [e for e in events if e["site_id"] == site_id]
    current, previous = ranges(body, zone, now, first_event_date)
    if not request["comparison"]:
        previous = None
    ctx = Context(zone, sorted(goals, key=lambda g: g.id))
    metrics = request["metrics"]
    meta = {"date_range": {"start": iso(current[0], zone), "end": iso(current[1], zone)}, "timezone": request["timezone"]}
    now_groups = period_totals(events, current, request, ctx)
    before_groups = period_totals(events, previous, request, ctx) if previous else {}
    if not request["dimensions"]:
        now_totals = now_groups.get((), ZERO)
        body_out: dict[str, Any] = {"results": metric_values(metrics, now_totals)}
        if request["comparison"]:
            if previous is None:
                body_out["comparison"] = None
            else:
                before = before_groups.get((), ZERO)
                body_out["comparison"] = {
                    "date_range": {"start": iso(previous[0], zone), "end": iso(previous[1], zone)},
                    "results": metric_values(metrics, before),
                    "change": {m: change(m, now_totals, before) for m in metrics},
                }
        body_out["meta"] = meta
        return body_out
    dims = request["dimensions"]
    time_index = next((i for i, d in enumerate(dims) if d in TIME_DIMS), None)
    rows = []  # (key, totals, previous totals, bucket)
    if time_index is None:
        for key, totals in now_groups.items():
            rows.append((key, totals, before_groups.get(key, ZERO), None))
    else:
        unit = dims[time_index]
        now_labels = sorted(
            set(labels_between(unit, *current, zone, now, ends_now)) | {k[time_index] for k in now_groups}
        )
        before_labels = []
        if previous:
            before_labels = sorted(set(labels_between(unit, *previous, zone, None)) | {k[time_index] for k in before_groups})
        keys = [(label,) for label in now_labels] if request["series"] else list(now_groups)
        for key in keys:
            position = now_labels.index(key[time_index])
            bucket = before_labels[position] if position < len(before_labels) else None
            before = ZERO
            if bucket is not None:
                before = before_groups.get(key[:time_index] + (bucket,) + key[time_index + 1:], ZERO)
            rows.append((key, now_groups.get(key, ZERO), before, bucket))
    rows.sort(key=order_key(request))
    total_rows = len(rows)
    offset, limit = request["offset"], request["limit"]
    page = rows[offset: None if limit is None else offset + limit]
    results = []
    for key, totals, before, bucket in page:
        row = dict(zip(dims, key))
        row.update(metric_values(metrics, totals))
        if previous is not None:
            comparison = {}
            if bucket is not None:
                comparison[dims[time_index]] = bucket
            comparison.update(metric_values(metrics, before))
            row["comparison"] = comparison
            row["change"] = {m: change(m, totals, before) for m in metrics}
        results.append(row)
    out: dict[str, Any] = {"results": results}
    if request["comparison"]:
        out["comparison"] = None if previous is None else {
            "date_range": {"start": iso(previous[0], zone), "end": iso(previous[1], zone)}
        }
    meta["total_rows"] = total_rows
    out["meta"] = meta
    return out
