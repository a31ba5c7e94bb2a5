"""The API's worked examples: requests that succeed against the demo site, and the shape of their answers.

Requests are made for the demo data (``clickport demo`` / ``clickport serve --demo``: the site
``demo.example.com``, 30 days of traffic up to now, the goals of ``clickport.demo.DEMO_GOALS``), so that
every "Try it out" of ``/api/docs`` answers with numbers; ``tests/contract/test_openapi_examples.py`` sends
each of them to a real server. Answers are made by the code that makes real ones (the query plan and
``query.shape``, ``query.goals.goal_entry``, ``domain.realtime.visitor_view``, the event models) from
illustrative totals at a fixed instant, so their shape is the real shape while their numbers stay the same
from one generation to the next.
"""

from __future__ import annotations

import random
import zlib
from datetime import date, datetime, timedelta, timezone
from itertools import product
from typing import Any

from clickport.demo import DEMO_DOMAIN, DEMO_GOALS
from clickport.limits import MAX_RANGE_DAYS
from clickport.ports import Goal, LiveSession, Site
from clickport.query.buckets import bucket_labels
from clickport.query.convenience import PRESETS, preset_body
from clickport.query.dimensions import PROP_PREFIX
from clickport.query.metrics import MICROS
from clickport.query.plan import CURRENT, PREVIOUS, QueryPlan
from clickport.query.runner import EngineResult, Group, RankedRow
from clickport.query.service import plan_query
from clickport.query.shape import Row, order_rows, shape_response
from clickport.query.zones import get_zone

# The instant the example answers are computed at.
EXAMPLE_NOW = datetime(2026, 3, 31, 12, 0, tzinfo=timezone.utc)
# GET reports take fixed dates. The widest range allowed around the demo's 30 days (which end today) keeps
# the examples answering with data for years; the test says when today leaves it.
EXAMPLE_START = date(2026, 1, 1)
EXAMPLE_END = date(2036, 1, 1)
assert (EXAMPLE_END - EXAMPLE_START).days <= MAX_RANGE_DAYS
# An answer example lists at most this many rows (``meta.total_rows`` counts them all).
SHOWN_ROWS = 5

BROWSER_USER_AGENT = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/131.0.0.0 Safari/537.36")

# POST /api/query: (name, summary, body); the first is what Swagger UI fills in.
QUERY_EXAMPLES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("aggregate", "Visitors, pageviews and bounce rate of the last 30 days",
     {"metrics": ["visitors", "pageviews", "bounce_rate"], "period": "30d"}),
    ("breakdown", "Top pages of visitors from Germany, in Berlin time",
     {"metrics": ["visitors", "pageviews", "avg_scroll"], "dimensions": ["page"], "period": "30d",
      "filters": [{"dimension": "country", "operator": "is", "value": "DE"}], "limit": 10,
      "timezone": "Europe/Berlin"}),
    ("timeseries", "Daily visitors and pageviews of the last 7 days",
     {"metrics": ["visitors", "pageviews"], "dimensions": ["date"], "period": "7d"}),
    ("comparison", "The last 7 days against the 7 days before",
     {"metrics": ["visitors", "sessions", "bounce_rate", "avg_duration"], "period": "7d",
      "include_comparison": True}),
    ("sources", "Top sources of the last 30 days against the 30 days before",
     {"metrics": ["visitors", "bounce_rate"], "dimensions": ["source"], "period": "30d", "include_comparison": True,
      "limit": 5}),
    ("goals", "Conversions and revenue per goal",
     {"metrics": ["visitors", "conversions", "conversion_rate", "total_revenue"], "dimensions": ["goal"],
      "period": "30d"}),
    ("property", "Signups and purchases by the custom property plan",
     {"metrics": ["events"], "dimensions": ["prop:plan"], "period": "30d",
      "filters": [{"dimension": "event_name", "operator": "is", "value": ["Signup", "Purchase"]}]}),
    ("date_range", "Channels of blog readers over fixed dates, ordered by views per visit",
     {"metrics": ["visitors", "views_per_visit", "avg_duration"], "dimensions": ["channel"],
      "date_range": {"start": EXAMPLE_START.isoformat(), "end": EXAMPLE_END.isoformat()},
      "filters": [{"dimension": "page", "operator": "matches", "value": "^/blog/"}],
      "order_by": "views_per_visit", "order_dir": "desc"}),
)

# POST /api/event (a key with the tracker permission; the server forwards its visitor's User-Agent).
EVENT_EXAMPLES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("pageview", "A pageview from Google",
     {"type": "pageview", "url": f"https://{DEMO_DOMAIN}/pricing", "referrer": "https://www.google.com/"}),
    ("purchase", "A custom event with revenue and properties",
     {"type": "custom", "name": "Purchase", "url": f"https://{DEMO_DOMAIN}/pricing", "revenue_amount": 49.99,
      "revenue_currency": "USD", "meta_keys": ["plan", "interval"], "meta_values": ["pro", "annual"]}),
)

# POST /api/track (no key: the site comes from ``domain``, the page must be on it).
TRACK_EXAMPLES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("pageview", "A pageview as the browser tracker sends it",
     {"domain": DEMO_DOMAIN, "url": f"https://{DEMO_DOMAIN}/", "referrer": "https://duckduckgo.com/",
      "screen_width": 1440}),
    ("signup", "A custom event with a property",
     {"domain": DEMO_DOMAIN, "type": "custom", "name": "Signup", "url": f"https://{DEMO_DOMAIN}/signup",
      "meta_keys": ["plan"], "meta_values": ["pro"]}),
)

# Parameters of the GET routes: one value each, valid against the demo data.
PARAMETER_EXAMPLES: dict[str, str] = {
    "start_date": EXAMPLE_START.isoformat(),
    "end_date": EXAMPLE_END.isoformat(),
}
PATH_EXAMPLES: dict[str, str] = {"breakdown": "pages", "param": "source"}
# The GET reports whose answers are shown: (name in PRESETS, parameters).
REPORT_ANSWERS = {"GET /api/{breakdown}": ("pages", "timeseries"), "GET /api/utm/{param}": ("utm/source",)}

# Illustrative labels for the answers' rows (the demo's kind of values).
DIMENSION_LABELS: dict[str, tuple[str, ...]] = {
    "source": ("google", "Direct", "news.ycombinator.com"),
    "channel": ("Organic Search", "Direct", "Referral"),
    "referrer_url": ("https://www.google.com/", "https://news.ycombinator.com/item", "https://github.com/clickport"),
    "utm_source": ("newsletter", "google", "(none)"),
    "utm_medium": ("email", "cpc", "(none)"),
    "utm_campaign": ("november", "brand", "(none)"),
    "utm_content": ("(none)",),
    "utm_term": ("(none)",),
    "page": ("/", "/pricing", "/blog/privacy"),
    "entry_page": ("/", "/pricing", "/blog/privacy"),
    "exit_page": ("/pricing", "/", "/signup"),
    "country": ("US", "DE", "GB"),
    "region": ("US-CA", "DE-BE", "GB-ENG"),
    "city": ("San Francisco", "Berlin", "London"),
    "device": ("Desktop", "Mobile", "Tablet"),
    "screen": ("Desktop", "Mobile", "Tablet"),
    "browser": ("Chrome", "Safari", "Firefox"),
    "os": ("macOS", "Windows", "iOS"),
    "browser_version": ("131", "18", "133"),
    "os_version": ("10", "18", "14"),
    "hostname": (DEMO_DOMAIN,),
    "event_type": ("pageview", "custom", "click"),
    "event_name": ("Signup", "Purchase"),
    "goal": tuple(goal["name"] for goal in DEMO_GOALS),
    PROP_PREFIX: ("pro", "free"),
}
REVENUE_GOAL = "Purchase"  # the demo goal whose events carry revenue


def example_site() -> Site:
    return Site("s_demo000000", DEMO_DOMAIN, EXAMPLE_NOW - timedelta(days=30),
                allow_hosts=(), first_event_date=(EXAMPLE_NOW - timedelta(days=29)).date())


def example_goals() -> list[Goal]:
    return [Goal(example_site().site_id, index, goal["name"], goal["type"],
                 {k: v for k, v in goal.items() if k not in ("type", "name")})
            for index, goal in enumerate(DEMO_GOALS, start=1)]


def _totals(key: Any, share: float) -> dict[str, Any]:
    """Consistent illustrative totals of one group (the same for the same key)."""
    rng = random.Random(zlib.crc32(repr(key).encode()))
    visitors = max(1, int(rng.randint(600, 900) * share))
    sessions = visitors + visitors * rng.randint(5, 20) // 100
    pageviews = sessions * rng.randint(150, 260) // 100
    conversions = sessions * rng.randint(4, 12) // 100
    totals: dict[str, Any] = {
        "visitors": visitors, "sessions": sessions, "pageviews": pageviews,
        "events": pageviews + conversions, "bounce_base": sessions, "bounces": sessions * rng.randint(30, 60) // 100,
        "duration_ms": sessions * rng.randint(40_000, 180_000), "scroll_count": pageviews,
        "scroll_sum": pageviews * rng.randint(45, 80), "clickers": sessions // 12, "conversions": conversions,
        "converting_visitors": max(0, conversions - 1), "conversion_base": visitors,
        "revenue": {"USD": conversions // 3 * 49 * MICROS} if conversions // 3 else {},
    }
    return totals


def _goal_totals(totals: dict[str, Any], goal: str) -> dict[str, Any]:
    """A goal's group: its visitors all convert; revenue only on the goal whose events carry it."""
    visitors = max(1, totals["visitors"] // 8)
    conversions = visitors + visitors // 10
    revenue = {"USD": conversions * 49 * MICROS} if goal == REVENUE_GOAL else {}
    return {**totals, "visitors": visitors, "sessions": visitors, "conversions": conversions,
            "converting_visitors": visitors, "revenue": revenue}


def _labels(name: str) -> tuple[str, ...]:
    return DIMENSION_LABELS[PROP_PREFIX if name.startswith(PROP_PREFIX) else name]


def _engine_result(plan: QueryPlan) -> EngineResult:
    """What an engine would return for ``plan``, with illustrative totals."""
    result = EngineResult()
    if not plan.dimensions:
        result.groups = [Group(period, (), _totals(("all", period), 1.0)) for period in
                         ((CURRENT, PREVIOUS) if plan.previous else (CURRENT,))]
        return result
    zone = get_zone(plan.timezone)
    label_sets = []
    for dimension in plan.dimensions:
        if dimension.is_time:
            label_sets.append(None)
        else:
            label_sets.append(_labels(dimension.name))
    if plan.time_dimension is not None:
        for period, time_range in ((CURRENT, plan.current), (PREVIOUS, plan.previous)):
            if time_range is None:
                continue
            times = bucket_labels(plan.time_dimension.name, time_range, zone, plan.now)
            sets = [times if labels is None else labels for labels in label_sets]
            for values in product(*sets):
                result.groups.append(Group(period, values, _totals((values, period), 0.1)))
        return result
    goal_index = plan.goal_dimension_index
    rows = []
    for index, values in enumerate(product(*label_sets)):
        current, previous = (_totals((values, period), 1 / (index + 1)) for period in (CURRENT, PREVIOUS))
        if goal_index is not None:
            current = _goal_totals(current, values[goal_index])
        rows.append(Row(values, current, previous if plan.previous else None))
    ordered = order_rows(plan, rows)
    result.total_rows = len(ordered)
    result.ranked = [RankedRow(r.values, r.totals, r.previous, rank) for rank, r in enumerate(ordered, start=1)]
    return result


def shown(body: dict[str, Any]) -> dict[str, Any]:
    """An answer with at most ``SHOWN_ROWS`` rows (``meta.total_rows`` still counts every row)."""
    if isinstance(body.get("results"), list) and len(body["results"]) > SHOWN_ROWS:
        return {**body, "results": body["results"][:SHOWN_ROWS]}
    return body


def query_answer(body: dict[str, Any]) -> dict[str, Any]:
    """The answer's shape to a ``POST /api/query`` body, made by the real plan and shaping code."""
    plan = plan_query(body, site=example_site(), goals=example_goals(), now=EXAMPLE_NOW)
    return shown(shape_response(plan, _engine_result(plan)))


def report_answer(name: str) -> dict[str, Any]:
    """The answer to ``GET /api/<name>`` with the example parameters."""
    return query_answer(preset_body(name, PARAMETER_EXAMPLES))


def goals_answer() -> dict[str, Any]:
    from clickport.query.goals import goal_entry

    entries = []
    for goal in example_goals():
        totals = _totals(("goal", goal.name), 0.1)
        totals["conversions"] = totals["visitors"] + totals["visitors"] // 10
        totals["revenue"] = ({"USD": totals["conversions"] * 49 * MICROS + 49 * MICROS // 100}
                             if goal.name == REVENUE_GOAL else {})
        entries.append(goal_entry(goal, totals))
    return {"goals": entries}


def realtime_answer() -> dict[str, Any]:
    from clickport.domain.realtime import RealtimeResponse, visitor_view

    now_ms = int(EXAMPLE_NOW.timestamp() * 1000)
    session = LiveSession(
        site_id=example_site().site_id, session_id=4_829_174_402_118, visitor_id=1, started_ms=now_ms - 124_000,
        last_ms=now_ms - 9_000, entry_page="/", current_page="/pricing", page_visit_id="5e0c31a9d2b84f17",
        pageviews=3, seq=4, scroll=72, expires_at=0,
        attributes={"source": "google", "country": "DE", "city": "Berlin", "device": "Desktop", "browser": "Chrome",
                    "os": "macOS"},
    )
    return RealtimeResponse(count=7, visitors=[visitor_view(session)]).model_dump()


def event_answers() -> dict[str, dict[str, Any]]:
    from clickport.ingest.models import EventAccepted, EventDropped

    return {
        "accepted": EventAccepted(session_id=4_829_174_402_118, page_visit_id="5e0c31a9d2b84f17").model_dump(),
        "dropped": EventDropped(reason="hostname").model_dump(),
    }


def report_names() -> tuple[str, ...]:
    return tuple(PRESETS)
