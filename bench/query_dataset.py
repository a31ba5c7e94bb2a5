"""A seeded, realistic event dataset for the query benchmark, written as Parquet in the event schema.

Sites get 70 %, 20 % and 10 % of the events over ``days`` UTC days. Sessions hold 1–8 events
(pageviews, engagement updates on the current page visit, custom events, a few clicks and
forms); every event carries its session's attributes and visitor id, as ingest stores them.
Visitor ids rotate daily (a person's sessions on one day share an id). Pages follow a
Zipf-like long tail; sources include google, other engines, social networks, an AI
assistant, newsletters and a long tail of referring hosts.

Output: ``<out>/<site>.parquet`` per site, in time order (as a live store receives them),
plus the ``events`` table itself when asked (the benchmark also loads it into chDB).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

SITES = ("big.example", "mid.example", "small.example")
SITE_SHARES = (0.7, 0.2, 0.1)
FIRST_DAY = date(2026, 1, 1)  # 90 days from here include Berlin's 23-hour day (2026-03-29)
SESSION_LENGTHS = np.arange(1, 9)
SESSION_LENGTH_WEIGHTS = np.array([0.30, 0.20, 0.15, 0.12, 0.09, 0.07, 0.04, 0.03])
# Event types after a session's first pageview.
NEXT_TYPES = np.array(["pageview", "engagement", "custom", "click", "form"])
NEXT_TYPE_WEIGHTS = np.array([0.62, 0.24, 0.09, 0.04, 0.01])
CUSTOM_NAMES = np.array(["Signup", "Purchase", "Download", "Newsletter"])
SESSIONS_PER_VISITOR_DAY = 1.3

# (source, channel, referrer_url, utm_source, utm_medium, weight)
SOURCE_ROWS = [
    ("google", "Organic Search", "https://www.google.com/", None, None, 0.27),
    ("google", "Paid Search", "https://www.google.com/", "google", "cpc", 0.03),
    (None, "Direct", None, None, None, 0.30),
    ("bing", "Organic Search", "https://www.bing.com/", None, None, 0.05),
    ("duckduckgo", "Organic Search", "https://duckduckgo.com/", None, None, 0.03),
    ("facebook", "Organic Social", "https://www.facebook.com/", None, None, 0.04),
    ("twitter", "Organic Social", "https://t.co/", None, None, 0.02),
    ("linkedin", "Organic Social", "https://www.linkedin.com/", None, None, 0.02),
    ("reddit", "Organic Social", "https://www.reddit.com/r/webdev/", None, None, 0.02),
    ("chatgpt", "AI Search", "https://chatgpt.com/", None, None, 0.01),
    ("newsletter", "Email", None, "newsletter", "email", 0.03),
]
REFERRER_TAIL = 400  # hosts sharing the remaining weight (Referral)
COUNTRIES = [
    ("DE", 0.25, ["DE-BE", "DE-BY", "DE-HH", "DE-NW"], ["Berlin", "München", "Hamburg", "Köln"]),
    ("US", 0.20, ["US-CA", "US-NY", "US-TX"], ["San Francisco", "New York", "Austin"]),
    ("GB", 0.08, ["GB-ENG", "GB-SCT"], ["London", "Edinburgh"]),
    ("FR", 0.06, ["FR-IDF"], ["Paris"]),
    ("IN", 0.05, ["IN-KA", "IN-MH"], ["Bengaluru", "Mumbai"]),
    ("NL", 0.04, ["NL-NH"], ["Amsterdam"]),
    ("AT", 0.03, ["AT-9"], ["Wien"]),
    ("CH", 0.03, ["CH-ZH"], ["Zürich"]),
    (None, 0.02, [None], [None]),
]
COUNTRY_TAIL = ["ES", "IT", "PL", "SE", "DK", "NO", "FI", "BE", "CZ", "PT", "BR", "CA", "AU", "JP", "KR", "MX",
                "TR", "UA", "RO", "HU", "IE", "GR", "ZA", "SG", "NZ", "AR", "CL", "IL", "AE", "ID"]
TECHNOLOGY = [
    # device, screen, browser, browser_version, os, os_version, weight
    ("Desktop", "Desktop", "Chrome", "131", "Windows", "10", 0.28),
    ("Desktop", "Desktop", "Chrome", "131", "macOS", "15", 0.10),
    ("Desktop", "Desktop", "Safari", "18", "macOS", "15", 0.07),
    ("Desktop", "Desktop", "Firefox", "133", "Windows", "10", 0.05),
    ("Desktop", "Desktop", "Edge", "131", "Windows", "11", 0.06),
    ("Mobile", "Mobile", "Safari", "18", "iOS", "18", 0.20),
    ("Mobile", "Mobile", "Chrome", "131", "Android", "14", 0.16),
    ("Mobile", "Mobile", "Samsung Internet", "27", "Android", "14", 0.04),
    ("Tablet", "Tablet", "Safari", "18", "iOS", "18", 0.04),
]
PAGES_PER_SITE = (5000, 1500, 600)
PAGE_PREFIXES = np.array(["/blog/", "/docs/", "/products/", "/help/", "/news/"])
TOP_PAGES = np.array(["/", "/pricing", "/about", "/contact", "/signup", "/login", "/features", "/blog"])


@dataclass(frozen=True)
class DatasetSpec:
    events: int = 10_000_000
    days: int = 90
    seed: int = 20260101

    @property
    def first_day(self) -> date:
        return FIRST_DAY

    @property
    def end_day(self) -> date:  # exclusive
        return FIRST_DAY + timedelta(days=self.days)


def _pick(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def _page_names(count: int) -> np.ndarray:
    tail = [f"{PAGE_PREFIXES[i % len(PAGE_PREFIXES)]}page-{i}" for i in range(count - len(TOP_PAGES))]
    return np.array(list(TOP_PAGES) + tail, dtype=object)


def _zipf_weights(count: int, exponent: float = 1.1) -> np.ndarray:
    return 1.0 / np.arange(1, count + 1) ** exponent


def site_events(spec: DatasetSpec, site_index: int) -> "pa.Table":  # noqa: F821
    """The events of one site as an Arrow table in the event schema, in (ts, seq) order."""
    import pyarrow as pa

    from clickport.schema import arrow_schema

    rng = np.random.default_rng([spec.seed, site_index])
    target = int(spec.events * SITE_SHARES[site_index])
    mean_length = float((SESSION_LENGTHS * SESSION_LENGTH_WEIGHTS).sum())
    sessions = int(target / mean_length * 1.02) + 16
    lengths = SESSION_LENGTHS[_pick(rng, SESSION_LENGTH_WEIGHTS, sessions)]
    cumulative = np.cumsum(lengths)
    sessions = int(np.searchsorted(cumulative, target)) + 1
    lengths = lengths[:sessions]
    lengths[-1] -= int(lengths.sum() - target)  # exactly ``target`` events
    if lengths[-1] < 1:
        lengths = lengths[:-1]
        sessions -= 1

    # --- per session: start, visitor, attributes
    day_index = rng.integers(0, spec.days, sessions)
    # A daily rhythm: more sessions in the (UTC) afternoon and evening.
    hour_weights = np.array([2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8, 7, 6, 4, 3], dtype=float)
    hour = _pick(rng, hour_weights, sessions)
    second = rng.integers(0, 3600, sessions)
    epoch_day = (spec.first_day - date(1970, 1, 1)).days
    start_ms = ((epoch_day + day_index) * 86_400 + hour * 3600 + second) * 1000 + rng.integers(0, 1000, sessions)
    order = np.argsort(start_ms, kind="stable")
    lengths, day_index, start_ms = lengths[order], day_index[order], start_ms[order]

    per_day = np.bincount(day_index, minlength=spec.days)
    pool = np.maximum(1, (per_day / SESSIONS_PER_VISITOR_DAY).astype(np.int64))
    person = (rng.random(sessions) * pool[day_index]).astype(np.int64)
    visitor_of_day = [rng.integers(1, 2**63 - 1, int(n), dtype=np.int64) for n in pool]
    offsets = np.concatenate([[0], np.cumsum(pool)[:-1]])
    visitor_table = np.concatenate(visitor_of_day)
    visitor = visitor_table[offsets[day_index] + person]
    session_id = rng.integers(1, 2**53 - 1, sessions, dtype=np.int64)

    source_weights = [row[-1] for row in SOURCE_ROWS]
    tail_weight = 1.0 - sum(source_weights)
    source_pick = _pick(rng, source_weights + [tail_weight], sessions)
    tail_host = rng.integers(0, REFERRER_TAIL, sessions)
    country_pick = _pick(rng, [c[1] for c in COUNTRIES] + [1.0 - sum(c[1] for c in COUNTRIES)], sessions)
    country_tail = rng.integers(0, len(COUNTRY_TAIL), sessions)
    place_pick = rng.integers(0, 4, sessions)
    tech_pick = _pick(rng, [t[-1] for t in TECHNOLOGY], sessions)

    source = np.empty(sessions, dtype=object)
    channel = np.empty(sessions, dtype=object)
    referrer = np.empty(sessions, dtype=object)
    utm_source = np.empty(sessions, dtype=object)
    utm_medium = np.empty(sessions, dtype=object)
    for index, (name, chan, ref, u_source, u_medium, _) in enumerate(SOURCE_ROWS):
        chosen = source_pick == index
        source[chosen], channel[chosen], referrer[chosen] = name, chan, ref
        utm_source[chosen], utm_medium[chosen] = u_source, u_medium
    tail = source_pick == len(SOURCE_ROWS)
    hosts = np.array([f"site{h}.example.org" for h in range(REFERRER_TAIL)], dtype=object)
    source[tail] = hosts[tail_host[tail]]
    channel[tail] = "Referral"
    referrer[tail] = np.array([f"https://{h}/" for h in hosts], dtype=object)[tail_host[tail]]
    utm_campaign = np.where(utm_medium == "email", "spring-newsletter", None).astype(object)

    country = np.empty(sessions, dtype=object)
    region = np.empty(sessions, dtype=object)
    city = np.empty(sessions, dtype=object)
    for index, (code, _, regions, cities) in enumerate(COUNTRIES):
        chosen = np.flatnonzero(country_pick == index)
        country[chosen] = code
        slot = place_pick[chosen] % len(regions)
        region[chosen] = np.array(regions, dtype=object)[slot]
        city[chosen] = np.array(cities, dtype=object)[slot]
    rest = country_pick == len(COUNTRIES)
    country[rest] = np.array(COUNTRY_TAIL, dtype=object)[country_tail[rest]]
    tech = np.array([t[:6] for t in TECHNOLOGY], dtype=object)[tech_pick]

    # --- per event
    events = int(lengths.sum())
    session_of = np.repeat(np.arange(sessions), lengths)
    first_of_session = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    seq = np.arange(events) - np.repeat(first_of_session, lengths) + 1
    is_first = seq == 1
    kind_pick = _pick(rng, NEXT_TYPE_WEIGHTS, events)
    kind = NEXT_TYPES[kind_pick].astype(object)
    kind[is_first] = "pageview"
    gaps = rng.exponential(45_000, events).astype(np.int64) + 500
    gaps[is_first] = 0
    cumulative_gap = np.cumsum(gaps)
    session_base = np.repeat(cumulative_gap[first_of_session], lengths)
    ts = np.repeat(start_ms, lengths) + (cumulative_gap - session_base)

    page_count = PAGES_PER_SITE[site_index]
    pages = _page_names(page_count)
    page_pick = _pick(rng, _zipf_weights(page_count), events)
    is_pageview = kind == "pageview"
    # Non-pageview events stay on the page of the latest pageview (its index carried forward).
    pageview_index = np.where(is_pageview, np.arange(events), 0)
    np.maximum.accumulate(pageview_index, out=pageview_index)
    path = pages[page_pick[pageview_index]]
    page_visit = np.array([f"{v:016x}" for v in rng.integers(0, 2**63 - 1, events, dtype=np.int64)], dtype=object)
    page_visit_id = page_visit[pageview_index]

    is_engagement = kind == "engagement"
    scroll = np.where(is_engagement, rng.integers(0, 101, events), -1)
    engaged_ms = np.where(is_engagement, rng.integers(1_000, 120_000, events), -1)
    name = np.full(events, None, dtype=object)
    is_custom = kind == "custom"
    name[is_custom] = CUSTOM_NAMES[rng.integers(0, len(CUSTOM_NAMES), int(is_custom.sum()))]
    is_click = kind == "click"
    meta_keys = np.full(events, None, dtype=object)
    meta_values = np.full(events, None, dtype=object)
    for i in np.flatnonzero(is_click):
        meta_keys[i] = ["click_url"]
        meta_values[i] = [f"https://partner{i % 7}.example.net/"]
    is_purchase = is_custom & (name == "Purchase")
    revenue = np.where(is_purchase, rng.integers(1, 500, events) * 1_000_000 + 990_000, -1)

    s = session_of
    hostname = np.array(["www." + SITES[site_index]], dtype=object)[np.zeros(events, dtype=np.int64)]
    columns = {
        "ts": pa.array(ts, pa.timestamp("ms", tz="UTC")),
        "seq": pa.array(seq, pa.int64()),
        "type": pa.array(kind, pa.string()),
        "name": pa.array(name, pa.string()),
        "hostname": pa.array(hostname, pa.string()),
        "path": pa.array(path, pa.string()),
        "session_id": pa.array(session_id[s], pa.int64()),
        "visitor_id": pa.array(visitor[s], pa.int64()),
        "page_visit_id": pa.array(page_visit_id, pa.string()),
        "referrer_url": pa.array(referrer[s], pa.string()),
        "source": pa.array(source[s], pa.string()),
        "channel": pa.array(channel[s], pa.string()),
        "utm_source": pa.array(utm_source[s], pa.string()),
        "utm_medium": pa.array(utm_medium[s], pa.string()),
        "utm_campaign": pa.array(utm_campaign[s], pa.string()),
        "utm_content": pa.nulls(events, pa.string()),
        "utm_term": pa.nulls(events, pa.string()),
        "country": pa.array(country[s], pa.string()),
        "region": pa.array(region[s], pa.string()),
        "city": pa.array(city[s], pa.string()),
        "device": pa.array(tech[s, 0], pa.string()),
        "screen": pa.array(tech[s, 1], pa.string()),
        "browser": pa.array(tech[s, 2], pa.string()),
        "browser_version": pa.array(tech[s, 3], pa.string()),
        "os": pa.array(tech[s, 4], pa.string()),
        "os_version": pa.array(tech[s, 5], pa.string()),
        "scroll": pa.array(scroll, pa.int32(), mask=scroll < 0),
        "engaged_ms": pa.array(engaged_ms, pa.int64(), mask=engaged_ms < 0),
        "revenue_micros": pa.array(revenue, pa.int64(), mask=revenue < 0),
        "revenue_currency": pa.array(np.where(is_purchase, "EUR", None).astype(object), pa.string()),
        "meta_keys": pa.array(meta_keys, pa.list_(pa.string())),
        "meta_values": pa.array(meta_values, pa.list_(pa.string())),
    }
    table = pa.table(columns).cast(arrow_schema())
    order = np.lexsort((seq, ts))
    return table.take(pa.array(order))


def write_dataset(spec: DatasetSpec, out: Path) -> dict[str, Path]:
    """One Parquet file per site in the event schema; returns {site_id: path}."""
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for index, site in enumerate(SITES):
        path = out / f"{site}.parquet"
        pq.write_table(site_events(spec, index), path, compression="zstd", row_group_size=1_000_000)
        written[site] = path
    return written


def day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)
