"""The reference semantics of spec §3.8: sessions, filters, groups and exact totals over a list of event dicts.

Written for clarity, not speed, and independently of ``clickport.query`` (it shares
no code with it): property tests compare the two on generated event sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

import re2

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
