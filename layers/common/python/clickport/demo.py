"""Synthetic but realistic traffic for a demo site: 30 days up to now, through the import path."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Iterator

# The demo's own site. Its domain is reserved for documentation (RFC 2606), so no real site has it, and it is
# not example.com, which the README's own first commands create.
DEMO_DOMAIN = "demo.example.com"
# Hosts the local demo page (``/demo/``) is opened on; only the demo site's allow-list has them.
LOCAL_PAGE_HOSTS = ("127.0.0.1", "localhost", "::1")
DEMO_ALLOW_HOSTS = (f"*{DEMO_DOMAIN}", *LOCAL_PAGE_HOSTS)

PAGES = [("/", 30), ("/pricing", 14), ("/features", 10), ("/blog/privacy", 8), ("/blog/cookieless-analytics", 6),
         ("/docs", 9), ("/docs/api", 5), ("/about", 4), ("/contact", 4), ("/signup", 6)]
REFERRERS = [(None, 34), ("https://www.google.com/", 24), ("https://www.google.de/", 6), ("https://www.bing.com/", 4),
             ("https://duckduckgo.com/", 4), ("https://news.ycombinator.com/item", 4), ("https://t.co/abc", 3),
             ("https://www.reddit.com/r/privacy/", 3), ("https://github.com/clickport", 3),
             ("https://chatgpt.com/", 3), ("https://www.perplexity.ai/", 2), ("https://www.linkedin.com/feed/", 2),
             ("https://blog.example.org/post", 3)]
CAMPAIGNS = [None] * 8 + [("newsletter", "email", "november"), ("google", "cpc", "brand"),
                          ("twitter", "social", "launch")]
PLACES = [(("US", "US-CA", "San Francisco"), 20), (("US", "US-NY", "New York"), 12), (("DE", "DE-BE", "Berlin"), 14),
          (("DE", "DE-BY", "Munich"), 6), (("GB", "GB-ENG", "London"), 10), (("FR", "FR-IDF", "Paris"), 7),
          (("NL", "NL-NH", "Amsterdam"), 5), (("IN", "IN-KA", "Bengaluru"), 6), (("BR", "BR-SP", "São Paulo"), 4),
          (("JP", "JP-13", "Tokyo"), 4), (("CA", "CA-ON", "Toronto"), 4)]
AGENTS = [
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36", 1440, 22),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36", 1920, 20),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.0.0", 1536, 7),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", 1366, 6),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
     "Safari/605.1.15", 1512, 9),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
     "Mobile/15E148 Safari/604.1", 390, 18),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
     "Safari/537.36", 412, 12),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 "
     "Chrome/122.0.0.0 Mobile Safari/537.36", 384, 4),
    ("Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
     "Mobile/15E148 Safari/604.1", 820, 3),
]
DEMO_GOALS = [
    {"type": "custom", "event": "Signup", "name": "Signup"},
    {"type": "custom", "event": "Purchase", "name": "Purchase"},
    {"type": "pageview", "path": "/pricing", "name": "Visited pricing"},
    {"type": "form", "form_id": "contact", "name": "Contact form"},
    {"type": "click", "domain": "github.com", "name": "GitHub clicks"},
]


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def demo_lines(domain: str, now: datetime, days: int = 30, seed: int = 7) -> Iterator[str]:
    """NDJSON lines of ``clickport import`` for ``days`` days up to ``now``."""
    rng = random.Random(seed)
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    visitor_counter = 0
    today_visitors: list[int] = []
    profiles: dict[int, tuple] = {}
    day_visitors_day = -1
    for day in range(days):
        day_start = start + timedelta(days=day)
        weekday = day_start.weekday()
        sessions = int(rng.gauss(140 if weekday < 5 else 85, 15) * (1 + day / days * 0.3))
        for _ in range(max(sessions, 10)):
            hour = min(23, max(0, int(rng.gauss(14, 4))))
            ts = day_start + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
            if ts >= now:
                continue
            # Visitor ids rotate daily; some people come back the same day for another session.
            today_visitors = today_visitors if day_visitors_day == day else []
            day_visitors_day = day
            if today_visitors and rng.random() < 0.15:
                visitor = rng.choice(today_visitors)
            else:
                visitor_counter += 1
                visitor = visitor_counter
                today_visitors.append(visitor)
            if visitor not in profiles:
                agent, width, _ = AGENTS[rng.choices(range(len(AGENTS)), [a[2] for a in AGENTS])[0]]
                profiles[visitor] = (agent, width, _pick(rng, PLACES))
            agent, width, (country, region, city) = profiles[visitor]
            referrer = _pick(rng, REFERRERS)
            campaign = rng.choice(CAMPAIGNS)
            session_id = rng.randrange(1, 2**53 - 1)
            base = {"user_agent": agent, "visitor_id": visitor, "session_id": session_id,
                    "country": country, "region": region, "city": city}
            pages = max(1, min(8, int(rng.expovariate(0.55)) + 1))
            for index in range(pages):
                if ts >= now:
                    break
                path = "/" if index == 0 and rng.random() < 0.5 else _pick(rng, PAGES)
                query = ""
                line = {**base, "timestamp": ts.isoformat().replace("+00:00", "Z"), "type": "pageview",
                        "screen_width": width}
                if index == 0:
                    if referrer:
                        line["referrer"] = referrer
                    if campaign:
                        query = f"?utm_source={campaign[0]}&utm_medium={campaign[1]}&utm_campaign={campaign[2]}"
                line["url"] = f"https://{domain}{path}{query}"
                visit = f"{rng.getrandbits(64):016x}"
                line["page_visit_id"] = visit
                yield json.dumps(line)
                scroll = min(100, max(5, int(rng.gauss(62, 22))))
                dwell = timedelta(seconds=int(rng.expovariate(1 / 45)) + 2)
                yield json.dumps({"timestamp": (ts + dwell).isoformat().replace("+00:00", "Z"),
                                  "user_agent": agent, "type": "engagement", "url": f"https://{domain}{path}",
                                  "session_id": session_id, "page_visit_id": visit, "scroll": scroll,
                                  "engaged_ms": int(dwell.total_seconds() * 1000)})
                event_ts = ts + dwell / 2
                extra = _extra_event(rng, path, domain)
                if extra and event_ts < now:
                    yield json.dumps({**base, **extra, "timestamp": event_ts.isoformat().replace("+00:00", "Z"),
                                      "url": f"https://{domain}{path}", "page_visit_id": visit})
                ts = ts + dwell + timedelta(seconds=rng.randrange(1, 20))


def _extra_event(rng: random.Random, path: str, domain: str) -> dict | None:
    roll = rng.random()
    if path == "/signup" and roll < 0.45:
        return {"type": "custom", "name": "Signup", "meta_keys": ["plan"], "meta_values": [rng.choice(["free", "pro"])]}
    if path == "/pricing" and roll < 0.12:
        currency, amount = rng.choice([("USD", 49.0), ("USD", 99.0), ("EUR", 45.0)])
        return {"type": "custom", "name": "Purchase", "revenue_amount": amount, "revenue_currency": currency,
                "meta_keys": ["plan", "interval"], "meta_values": ["pro", rng.choice(["monthly", "annual"])]}
    if path == "/contact" and roll < 0.3:
        return {"type": "form", "meta_keys": ["form_id"], "meta_values": ["contact"]}
    if path.startswith("/docs") and roll < 0.2:
        return {"type": "click", "meta_keys": ["click_url", "click_text"],
                "meta_values": ["https://github.com/clickport/clickport", "GitHub"]}
    return None
