"""Is a User-Agent a bot? Crawler patterns, automation markers, HTTP client libraries, user-agents' verdict.

Generic HTTP clients count as bots: a server that sends events for its visitors forwards the
visitor's User-Agent, and an app sends a descriptive one of its own. The patterns of the
crawler-user-agents package (case-sensitive, as that project writes them) and ours
(case-insensitive) are compiled once into one RE2 expression: linear-time on any input.
"""

from __future__ import annotations

from functools import lru_cache

import re2
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from clickport.ingest.useragent import parse_user_agent

BOT_CACHE_SIZE = 4096

AUTOMATION_MARKERS: tuple[str, ...] = (
    r"HeadlessChrome",
    r"Headless",
    r"PhantomJS",
    r"SlimerJS",
    r"Selenium",
    r"WebDriver",
    r"Puppeteer",
    r"Playwright",
    r"Cypress",
    r"Lighthouse",
    r"PTST/",
    r"GTmetrix",
    r"Prerender",
    r"HtmlUnit",
    r"jsdom",
    r"Zombie\.js",
    r"CasperJS",
    r"Splash",
)

HTTP_CLIENTS: tuple[str, ...] = (
    r"^curl/",
    r"\bcurl/\d",
    r"^Wget",
    r"python-requests",
    r"Python-urllib",
    r"python-httpx",
    r"\bhttpx\b",
    r"aiohttp",
    r"^Python/",
    r"Go-http-client",
    r"okhttp",
    r"^Java/",
    r"Apache-HttpClient",
    r"libwww-perl",
    r"LWP::Simple",
    r"axios/",
    r"node-fetch",
    r"^node$",
    r"undici",
    r"^got \(",
    r"^Bun/",
    r"^Deno/",
    r"PostmanRuntime",
    r"insomnia",
    r"HTTPie",
    r"Guzzle",
    r"^PHP/",
    r"^Ruby",
    r"Faraday",
    r"rest-client",
    r"^Dart/",
    r"reqwest",
    r"^hyper/",
    r"Scrapy",
    r"Mechanize",
    r"^Typhoeus",
    r"^Jakarta Commons-HttpClient",
    r"^WinHttp",
    r"^Microsoft-CryptoAPI",
    r"^Microsoft Office",
    r"^Embarcadero",
    r"\blibcurl\b",
    r"^HTTPClient",
)

GENERIC_BOT_WORDS: tuple[str, ...] = (
    # A word of its own ("… bot …") or a product token ("AhrefsBot/7.0"); not "CUBOT X30".
    r"(?:^|[^a-z])(?:bot|crawler|spider|scraper)(?:$|[^a-z])",
    r"[a-z](?:bot|crawler|spider|scraper)/",
    r"\+https?://",
    r"^Mozilla/5\.0$",
)


# NOTE: RE2's default 8 MiB is too small for the DFA of ~1,500 alternatives (it would log
# "DFA out of memory" and fall back to a slower engine); 32 MiB is an upper bound, used lazily.
PATTERN_MAX_MEMORY = 32 << 20


def _compile():  # noqa: ANN202 (re2 exposes no public pattern type)
    crawler = "|".join(f"(?:{entry['pattern']})" for entry in CRAWLER_USER_AGENTS_DATA)
    ours = "|".join(f"(?:{p})" for p in (*AUTOMATION_MARKERS, *HTTP_CLIENTS, *GENERIC_BOT_WORDS))
    options = re2.Options()
    options.max_mem = PATTERN_MAX_MEMORY
    return re2.compile(f"{crawler}|(?i:{ours})", options)


_BOT_PATTERN = _compile()


@lru_cache(maxsize=BOT_CACHE_SIZE)
def is_bot(user_agent: str) -> bool:
    """True for a crawler, an automated browser or an HTTP library; an empty User-Agent is a bot."""
    if not user_agent or not user_agent.strip():
        return True
    if _BOT_PATTERN.search(user_agent):
        return True
    return bool(parse_user_agent(user_agent).is_bot)
