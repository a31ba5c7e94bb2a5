"""The reference Stats query: spec §3 and §3.8 computed directly over a list of event dicts.

Written for clarity, not speed, and independently of ``clickport.query`` (it shares
no code with it): property tests compare the two on generated event sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import re2

from tests.reference.ranges import ranges

COUNTABLE = {"pageview", "custom", "click", "form"}
SESSION_DIMS = {
    "source", "channel", "referrer_url", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
    "country", "region", "city", "device", "screen", "browser", "os", "browser_version", "os_version",
    "entry_page", "exit_page",
}
TIME_DIMS = {"hour", "date", "week", "month"}
POINTS = {"bounce_rate", "avg_scroll", "conversion_rate"}
DECIMALS = {"views_per_visit": 2, "conversion_rate": 1}


# --- small exact helpers


def round_half_away(numerator: int, denominator: int, places: int) -> Decimal:
    if denominator == 0:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 60
        value = Decimal(numerator) / Decimal(denominator)
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def as_json_number(value: Decimal, places: int):
    return int(value) if places == 0 else float(value)


def lower1(text: str) -> str:
    return "".join(c.lower()[0] for c in text)


def missing(value) -> bool:
    return value is None or value == ""


def prop(event: dict, key: str):
    keys = event.get("meta_keys") or []
    values = event.get("meta_values") or []
    for i, k in enumerate(keys):
        if k == key:
            return values[i] if i < len(values) else None
    return None


def host_of(url: str | None) -> str:
    if url is None:
        return ""
    m = re.match(r"[A-Za-z][A-Za-z0-9+.\-]*://", url)
    if not m:
        return ""
    rest = url[m.end():]
    cut = min([i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0] or [len(rest)])
    authority = rest[:cut]
    if "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    host = authority.split(":", 1)[0].lower()
    return host[4:] if host.startswith("www.") else host


def goal_matches(goal, e: dict) -> bool:
    d = goal.definition
    t = e["type"]
    if goal.type == "pageview":
        if t != "pageview" or e.get("path") is None:
            return False
        pattern = "".join(".*" if c == "*" else re.escape(c) for c in d["path"])
        return re.fullmatch(pattern, e["path"], re.DOTALL) is not None
    if goal.type == "custom":
        if t != "custom" or e.get("name") != d["event"]:
            return False
        if d.get("prop"):
            return prop(e, d["prop"][0]) == d["prop"][1]
        return True
    if goal.type == "click":
        if t != "click":
            return False
        if "url" in d:
            return prop(e, "click_url") == d["url"]
        if "domain" in d:
            wanted = d["domain"].lower()
            wanted = wanted[4:] if wanted.startswith("www.") else wanted
            return host_of(prop(e, "click_url")) == wanted
        return prop(e, "click_text") == d["text"]
    if goal.type == "form":
        if t != "form":
            return False
        key = "form_id" if "form_id" in d else "form_name"
        return prop(e, key) == d[key]
    return False


def passes(operator: str, shown: str, values: list[str]) -> bool:
    if operator in ("is", "is_not"):
        hit = shown in values
    elif operator in ("contains", "not_contains"):
        hit = any(lower1(v) in lower1(shown) for v in values)
    else:
        hit = any(re2.search(v, shown) is not None for v in values)
    return not hit if operator in ("is_not", "not_contains", "not_matches") else hit


# --- sessions of one range


@dataclass
class Session:
    sid: int
    events: list[dict]
    first: dict
    entry: str | None
    exit: str | None
    duration_ms: int
    pageviews_in_e: int


def time_label(dim: str, ts: datetime, zone: ZoneInfo) -> str:
    local = ts.astimezone(zone)
    if dim == "hour":
        return local.strftime("%Y-%m-%d %H:00")
    if dim == "date":
        return local.strftime("%Y-%m-%d")
    if dim == "week":
        return (local.date() - timedelta(days=local.weekday())).isoformat()
    return local.strftime("%Y-%m")


@dataclass
class Context:
    zone: ZoneInfo
    goals: list
    E: list[dict] = field(default_factory=list)
    scroll_updates: dict = field(default_factory=dict)


def session_value(dim: str, s: Session) -> str:
    if dim == "entry_page":
        v = s.entry
    elif dim == "exit_page":
        v = s.exit
    else:
        v = s.first.get(dim)
    if missing(v):
        return "Direct" if dim in ("source", "channel") else "(none)"
    return v


def event_value(dim: str, e: dict, ctx: Context) -> str:
    if dim in TIME_DIMS:
        return time_label(dim, e["ts"], ctx.zone)
    if dim == "page":
        v = e.get("path")
    elif dim == "hostname":
        v = e.get("hostname")
    elif dim == "event_type":
        v = e.get("type")
    elif dim == "event_name":
        if e["type"] == "pageview":
            v = "pageview"
        elif e["type"] == "custom":
            v = e.get("name")
        else:
            v = e.get("name") if not missing(e.get("name")) else e["type"]
    elif dim.startswith("prop:"):
        v = prop(e, dim[5:])
    else:
        raise KeyError(dim)
    return "(none)" if missing(v) else v


def build_sessions(events: list[dict], start: datetime, end: datetime) -> tuple[list[dict], dict[int, Session]]:
    E = [e for e in events if start <= e["ts"] < end]
    grouped: dict[int, list[dict]] = {}
    for e in E:
        grouped.setdefault(e["session_id"], []).append(e)
    sessions = {}
    for sid, evs in grouped.items():
        evs = sorted(evs, key=lambda e: (e["ts"], e["seq"]))
        if not any(e["type"] in COUNTABLE for e in evs):
            continue
        pvs = [e for e in evs if e["type"] == "pageview"]
        duration = evs[-1]["ts"] - evs[0]["ts"]
        sessions[sid] = Session(
            sid, evs, evs[0], pvs[0]["path"] if pvs else None, pvs[-1]["path"] if pvs else None,
            duration // timedelta(milliseconds=1), len(pvs),
        )
    return E, sessions


def page_visit_scroll(pv: dict, E: list[dict]):
    values = [pv.get("scroll")]
    if pv.get("page_visit_id") is not None:
        values += [u.get("scroll") for u in E if u["type"] == "engagement" and u.get("page_visit_id") == pv["page_visit_id"]]
    values = [v for v in values if v is not None]
    return max(values) if values else None


# --- groups of one range


@dataclass
class Group:
    sessions: set = field(default_factory=set)
    events: list = field(default_factory=list)  # (event, goals it converts for in this group)


def compute_groups(events, start, end, request, ctx: Context, *, with_goals: bool = True) -> dict[tuple, dict]:
    E, sessions = build_sessions(events, start, end)
    ctx.E = E
    dims = [d for d in request["dimensions"] if with_goals or d != "goal"]
    filters = [f for f in request["filters"] if with_goals or f["dimension"] != "goal"]
    goal_dim = "goal" in dims
    groups: dict[tuple, Group] = {}
    for sid, s in sessions.items():
        if not all(passes(f["operator"], session_value(f["dimension"], s), f["values"])
                   for f in filters if f["dimension"] in SESSION_DIMS):
            continue
        for e in s.events:
            if e["type"] not in COUNTABLE:
                continue
            matched = [g for g in ctx.goals if goal_matches(g, e)]
            for g in (matched if goal_dim else [None]):
                ok = True
                for f in filters:
                    dim, op, values = f["dimension"], f["operator"], f["values"]
                    if dim in SESSION_DIMS:
                        continue
                    if dim == "goal":
                        if goal_dim:
                            ok = ok and passes(op, g.name, values)
                        else:
                            positive = op.replace("not_", "").replace("is_not", "is")
                            hit = any(passes(positive, m.name, values) for m in matched)
                            ok = ok and (hit if positive == op else not hit)
                    else:
                        ok = ok and passes(op, event_value(dim, e, ctx), values)
                if not ok:
                    continue
                key = tuple(
                    session_value(d, s) if d in SESSION_DIMS else g.name if d == "goal" else event_value(d, e, ctx)
                    for d in dims
                )
                group = groups.setdefault(key, Group())
                group.sessions.add(sid)
                group.events.append((e, [g] if goal_dim else matched))
    return {key: totals_of(group, sessions, ctx) for key, group in groups.items()}


def totals_of(group: Group, sessions: dict[int, Session], ctx: Context) -> dict:
    members = [sessions[sid] for sid in group.sessions]
    events = group.events
    converting = [(e, gs) for e, gs in events if gs]
    converting_sessions = {e["session_id"] for e, _ in converting}
    scrolls = [page_visit_scroll(e, ctx.E) for e, _ in events if e["type"] == "pageview"]
    scrolls = [v for v in scrolls if v is not None]
    revenue: dict[str, int] = {}
    for e, _ in converting:
        if e.get("revenue_micros") is not None:
            currency = e.get("revenue_currency") or "USD"
            revenue[currency] = revenue.get(currency, 0) + e["revenue_micros"]
    return {
        "visitors": len({s.first["visitor_id"] for s in members}),
        "sessions": len(members),
        "pageviews": sum(1 for e, _ in events if e["type"] == "pageview"),
        "events": len(events),
        "bounce_base": sum(1 for s in members if s.pageviews_in_e >= 1),
        "bounces": sum(1 for s in members if s.pageviews_in_e == 1),
        "duration_ms": sum(s.duration_ms for s in members),
        "scroll_sum": sum(scrolls),
        "scroll_count": len(scrolls),
        "clickers": len({e["session_id"] for e, _ in events if e["type"] == "click"}),
        "conversions": len(converting),
        "converting_visitors": len({sessions[sid].first["visitor_id"] for sid in converting_sessions}),
        "revenue": revenue,
    }


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
    """The unrounded value ordering compares."""
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
            order_by = next((m for m in metrics if m != "total_revenue"), None)
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


def labels_between(dim: str, start: datetime, end: datetime, zone: ZoneInfo, now: datetime | None) -> list[str]:
    last = end - timedelta(milliseconds=1)
    if now is not None and now < last:
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
    import functools

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
        now_labels = sorted(set(labels_between(unit, *current, zone, now)) | {k[time_index] for k in now_groups})
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
