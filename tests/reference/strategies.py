"""Hypothesis strategies: event sets around DST change days and midnight, goals, and Stats requests."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import strategies as st

from clickport.ports import Goal

SITE = "site-a"
OTHER_SITE = "site-b"
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")
# Days worth landing on: Berlin's 23- and 25-hour days, New York's, and an ordinary month end.
ANCHORS = (
    datetime(2026, 3, 29, tzinfo=timezone.utc),
    datetime(2026, 10, 25, tzinfo=timezone.utc),
    datetime(2026, 3, 8, 12, tzinfo=timezone.utc),
    datetime(2026, 11, 1, 12, tzinfo=timezone.utc),
    datetime(2026, 1, 31, 22, tzinfo=timezone.utc),
)

TEXT = ("", "Ünï", "İstanbul", "O'Reilly", "a\\b", "ΣΑΣ", "x%_y", "(none)", "Direct")
SOURCES = (None, "google", "bing", "news.example", "Direct") + TEXT
CHANNELS = (None, "Organic Search", "Referral", "Email", "Direct")
COUNTRIES = (None, "DE", "US", "de", "")
DEVICES = (None, "Desktop", "Mobile", "Tablet")
BROWSERS = (None, "Chrome", "Safari", "Firefox", "Samsung Internet")
CAMPAIGNS = (None, "spring", "Spring", "cross-network") + TEXT
PATHS = ("/", "/pricing", "/Pricing", "/thank-you", "/thank-you/x", "/blog/a_b", "/blog/a%b", "/ü", "")
HOSTS = ("example.com", "blog.example.com", None)
CUSTOM_NAMES = ("Purchase", "Signup", "purchase", None)
CLICK_URLS = (
    "https://www.partner.com/x",
    "https://Partner.com",
    "http://user@partner.com:8080/a",
    "https://partner.com.evil.net/",
    "mailto:someone@partner.com",
)
PROP_KEYS = ("plan", "click_url", "click_text", "form_id", "form_name", "Plan")
PROP_VALUES = ("pro", "Pro", "free", "contact", "Newsletter", "") + CLICK_URLS[:2]

GOALS = (
    Goal(SITE, 1, "Thanks", "pageview", {"path": "/thank-you*"}),
    Goal(SITE, 2, "Pricing", "pageview", {"path": "/pricing"}),
    Goal(SITE, 3, "Purchase", "custom", {"event": "Purchase"}),
    Goal(SITE, 4, "Pro signup", "custom", {"event": "Signup", "prop": ["plan", "pro"]}),
    Goal(SITE, 5, "partner.com", "click", {"domain": "partner.com"}),
    Goal(SITE, 6, "Partner home", "click", {"url": "https://Partner.com"}),
    Goal(SITE, 7, "Contact", "form", {"form_id": "contact"}),
    Goal(SITE, 8, "News", "form", {"form_name": "Newsletter"}),
    Goal(SITE, 9, "Blog %", "pageview", {"path": "/blog/a%b"}),
    Goal(SITE, 10, "Blog_", "pageview", {"path": "/blog/a_*"}),
)

EVENT_TYPES = ("pageview", "pageview", "pageview", "custom", "click", "form", "engagement", "engagement")


@st.composite
def sessions(draw, anchor: datetime, session_id: int, site: str = SITE) -> list[dict]:
    visitor = draw(st.integers(1, 4))
    attributes = {
        "source": draw(st.sampled_from(SOURCES)),
        "channel": draw(st.sampled_from(CHANNELS)),
        "country": draw(st.sampled_from(COUNTRIES)),
        "device": draw(st.sampled_from(DEVICES)),
        "browser": draw(st.sampled_from(BROWSERS)),
        "utm_campaign": draw(st.sampled_from(CAMPAIGNS)),
        "referrer_url": draw(st.sampled_from((None, "https://www.google.com/", "https://news.example/a"))),
    }
    start = anchor + timedelta(minutes=draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)), milliseconds=draw(st.integers(0, 999)))
    count = draw(st.integers(1, 7))
    events: list[dict] = []
    ts = start
    page_visit = None
    for seq in range(1, count + 1):
        kind = draw(st.sampled_from(EVENT_TYPES))
        if kind == "pageview" or page_visit is None:
            page_visit = f"{session_id:08x}{seq:08x}"
        keys = draw(st.lists(st.sampled_from(PROP_KEYS), max_size=3, unique=True)) if kind != "engagement" else []
        event = {
            "site_id": site,
            "ts": ts,
            "seq": seq,
            "type": kind,
            "session_id": session_id,
            "visitor_id": visitor,
            "page_visit_id": page_visit,
            "path": draw(st.sampled_from(PATHS)),
            "hostname": draw(st.sampled_from(HOSTS)),
            "name": draw(st.sampled_from(CUSTOM_NAMES)) if kind in ("custom", "click", "form") else None,
            "scroll": draw(st.one_of(st.none(), st.integers(0, 100))) if kind in ("pageview", "engagement") else None,
            "meta_keys": keys or None,
            "meta_values": [draw(st.sampled_from(PROP_VALUES)) for _ in keys] or None,
            **attributes,
        }
        if kind == "custom" and draw(st.booleans()):
            event["revenue_micros"] = draw(st.integers(0, 99_999_999))
            event["revenue_currency"] = draw(st.sampled_from(("USD", "EUR", None)))
        events.append(event)
        ts = ts + timedelta(minutes=draw(st.sampled_from((0, 0, 1, 7, 29, 45, 61, 180))), milliseconds=draw(st.integers(0, 2)))
    return events


@st.composite
def event_sets(draw) -> tuple[datetime, list[dict]]:
    anchor = draw(st.sampled_from(ANCHORS))
    events: list[dict] = []
    for session_id in range(1, draw(st.integers(0, 9)) + 1):
        events += draw(sessions(anchor, session_id))
    if draw(st.booleans()):
        events += draw(sessions(anchor, 99, OTHER_SITE))
    return anchor, events


METRICS = (
    "visitors", "sessions", "pageviews", "views_per_visit", "bounce_rate", "avg_duration", "avg_scroll",
    "clickers", "events", "conversions", "conversion_rate", "total_revenue",
)
SESSION_DIMENSIONS = (
    "source", "channel", "country", "device", "browser", "utm_campaign", "referrer_url", "entry_page", "exit_page",
    "city", "utm_term", "os_version",
)
EVENT_DIMENSIONS = ("page", "hostname", "event_type", "event_name", "goal", "prop:plan", "prop:click_url", "prop:missing")
TIME_DIMENSIONS = ("hour", "date", "week", "month")
PERIODS = ("today", "yesterday", "realtime", "24h", "7d", "14d", "30d", "month", "last_month", "year", "12m", "all")
OPERATORS = ("is", "is_not", "contains", "not_contains", "matches", "not_matches")
PATTERNS = ("^/p", "a|b", "[0-9]", "\\(none\\)", "Ü", "^$", "e$", "[Pp]ricing", "^/(en|de)/", "^/b[^/]*$")
VALUES = tuple(v for v in PATHS + SOURCES + CHANNELS + COUNTRIES + ("pageview", "custom", "click", "pro", "Pro") + TEXT if v)


@st.composite
def filters(draw, goals) -> dict:
    dimension = draw(st.sampled_from(SESSION_DIMENSIONS + EVENT_DIMENSIONS))
    operator = draw(st.sampled_from(OPERATORS))
    if dimension == "goal" and operator in ("is", "is_not"):
        pool = tuple(g.name for g in goals)
    elif operator in ("matches", "not_matches"):
        pool = PATTERNS
    elif dimension == "goal":
        pool = ("pro", "PARTNER", "%", "thanks")
    else:
        pool = VALUES
    values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    value = values[0] if len(values) == 1 and draw(st.booleans()) else values
    return {"dimension": dimension, "operator": operator, "value": value}


@st.composite
def requests(draw, anchor: datetime, goals, *, time_dimension: bool | None = None) -> tuple[dict, datetime]:
    """(request body, now)."""
    body: dict = {}
    body["metrics"] = draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=6, unique=True))
    plain = draw(st.lists(st.sampled_from(SESSION_DIMENSIONS + EVENT_DIMENSIONS), max_size=2, unique=True))
    use_time = draw(st.booleans()) if time_dimension is None else time_dimension
    dimensions = list(plain)
    if use_time:
        dimensions.insert(draw(st.integers(0, len(dimensions))), draw(st.sampled_from(TIME_DIMENSIONS)))
    if dimensions or draw(st.booleans()):
        body["dimensions"] = dimensions
    body["filters"] = draw(st.lists(filters(goals), max_size=2))
    body["timezone"] = draw(st.sampled_from(ZONES))
    # Whole minutes (some on bucket boundaries) as often as times with a fraction of a second.
    fraction = draw(st.one_of(st.just(0), st.integers(0, 999_999)))
    now = anchor + timedelta(minutes=draw(st.integers(-36 * 60, 60 * 60)), microseconds=fraction)
    if draw(st.booleans()):
        start = (anchor + timedelta(days=draw(st.integers(-3, 1)))).date()
        body["date_range"] = {"start": start.isoformat(), "end": (start + timedelta(days=draw(st.integers(1, 3)))).isoformat()}
    else:
        body["period"] = draw(st.sampled_from(PERIODS))
    if draw(st.booleans()):
        body["include_comparison"] = True
    requested = body["metrics"] + dimensions
    if requested and draw(st.booleans()):
        body["order_by"] = draw(st.sampled_from(requested))
    if draw(st.booleans()):
        body["order_dir"] = draw(st.sampled_from(("asc", "desc")))
    if draw(st.booleans()):
        body["limit"] = draw(st.integers(1, 6))
    if draw(st.booleans()):
        body["offset"] = draw(st.integers(0, 4))
    return body, now


def first_event_date(events: list[dict]) -> date | None:
    days = [e["ts"].astimezone(timezone.utc).date() for e in events if e["site_id"] == SITE]
    return min(days) if days else None
