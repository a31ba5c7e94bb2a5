"""Is a User-Agent a bot? Maintained bot lists, automation markers, HTTP clients, and a browser-shape rule.

Generic HTTP clients count as bots: a server that sends events for its visitors forwards the
visitor's User-Agent, and an app sends a descriptive one of its own.

The lists (Matomo Device Detector's bots, HTTP libraries, browsers and apps, and isbot's patterns, generated
into ``bot_patterns`` from pinned versions; crawler-user-agents from its package) are compiled once into
RE2 expressions: every check is a fixed number of linear-time passes over the string, whatever the input.
RE2 has no look-around: those alternatives of a list are left out (``bot_patterns.SKIPPED``). In order:

1. **Named** (always a bot): Device Detector's bot and HTTP-library lists (its generic rule included:
   "…monitor", "…checker", "…validator", "…probe", …), headless/automation markers, HTTP clients, a
   ``+http://`` contact URL, ``Mozilla/5.0`` alone, user-agents' own verdict.
2. **Crawler names** (crawler-user-agents, case-sensitive as that project writes them, and the words
   bot/crawler/spider/scraper): a bot unless, in a known browser (below), the name is the browser's own
   token (``SogouMobileBrowser/5.28``, ``Viber/27.4``: Device Detector's lists match the same token) or lies
   in its device comment (``Linux; Android 7.0; M bot 54``, ``Build/AP3A.240617.008``).
3. **isbot's patterns** (substrings and shapes: ``checker``, ``audit``, a bare product name, …): a bot
   unless the User-Agent is a known browser.
4. **A tool appended** to a known browser: isbot's patterns, a host name or ``(compatible; …)`` after the
   browser's last Safari/Firefox/Gecko/Chrome token (``… Safari/537.36 (scanner.example)``), unless an
   app that Device Detector names owns that tail (WeChat's ``MicroMessenger/… Process/tools``).
5. **Browser shape** (the positive rule): no engine token (AppleWebKit, Gecko, Trident, Presto, a WAP/MIDP
   stack, …) and neither ua-parser nor Device Detector's browser and app lists name a browser: not a
   person (bare product names, e-mail addresses, random tokens, ``${jndi:…}`` probes,
   ``Mozilla/5.0 (compatible; X/1.0)``).

A **known browser** is one that Device Detector's browser or app lists name, or that ua-parser names and
that has an engine or platform token. The verdict is memoized per User-Agent string.
"""

from __future__ import annotations

from functools import lru_cache

import re2
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from clickport.ingest import bot_patterns
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

# A contact URL ("+http://example.com/bot.html") is how crawlers sign; "Mozilla/5.0" alone is no browser.
NAMED_SHAPES: tuple[str, ...] = (
    r"\+https?://",
    r"^Mozilla/5\.0$",
)

GENERIC_BOT_WORDS: tuple[str, ...] = (
    # A word of its own ("… bot …") or a product token ("AhrefsBot/7.0"); not "CUBOT X30".
    r"(?:^|[^a-z])(?:bot|crawler|spider|scraper)(?:$|[^a-z])",
    r"[a-z](?:bot|crawler|spider|scraper)/",
)

# The positive rule's engine and platform tokens: what a browser's User-Agent carries. Legacy phones and
# TVs name their WAP/MIDP/BREW stacks instead of an engine.
BROWSER_TOKENS: tuple[str, ...] = (
    r"AppleWebKit",
    r"Gecko",
    r"KHTML",
    r"Trident/",
    r"Presto/",
    r"Chrome/",
    r"CriOS/",
    r"Safari/",
    r"Firefox/",
    r"MSIE ",
    r"Opera",
    r"NetFront",
    r"Obigo",
    r"UP\.Browser",
    r"Openwave",
    r"Browser",
    r"MIDP",
    r"MAUI",
    r"BREW",
    r"DoCoMo",
)

# Platforms, for a User-Agent that names its device but no engine ("iPhone14", an app's "(Linux; Android 7.0; …)").
PLATFORM_TOKENS: tuple[str, ...] = (
    r"Windows",
    r"Macintosh",
    r"Mac OS X",
    r"Linux",
    r"Android",
    r"iPhone",
    r"iPad",
    r"iPod",
    r"CrOS",
    r"X11",
    r"PlayStation",
    r"Nintendo",
    r"Xbox",
    r"SmartTV",
    r"SMART-TV",
    r"Tizen",
    r"Web0S",
    r"webOS",
    r"KaiOS",
    r"HarmonyOS",
    r"OpenHarmony",
)

# Device Detector matches a pattern only at the start or after a character that is no letter, digit, '_'
# or '-' (its own rule, so that "Bot" does not match inside a longer word).
DEVICE_DETECTOR_BOUNDARY = r"(?:^|[^A-Z0-9_-]|[^A-Z0-9-]_|sprd-|MZ-)"

# NOTE: RE2's default 8 MiB is too small for the DFA of ~1,500 alternatives (it would log
# "DFA out of memory" and fall back to a slower engine); 64 MiB is an upper bound, used lazily.
PATTERN_MAX_MEMORY = 64 << 20


def _alternatives(patterns) -> str:  # noqa: ANN001
    return "|".join(f"(?:{p})" for p in patterns)


def _compile(expression: str):  # noqa: ANN202 (re2 exposes no public pattern type)
    options = re2.Options()
    options.max_mem = PATTERN_MAX_MEMORY
    return re2.compile(expression, options)


def _device_detector(patterns) -> str:  # noqa: ANN001
    return f"(?i:{DEVICE_DETECTOR_BOUNDARY}(?:{_alternatives(patterns)}))"


_NAMED = _compile(
    "|".join(
        (
            _device_detector(bot_patterns.DEVICE_DETECTOR_BOTS + bot_patterns.DEVICE_DETECTOR_LIBRARIES),
            f"(?i:{_alternatives((*AUTOMATION_MARKERS, *HTTP_CLIENTS, *NAMED_SHAPES))})",
        )
    )
)
# Crawler names: crawler-user-agents' patterns (case-sensitive) and the bot words.
_CRAWLER_NAMES = _compile(
    "|".join(
        (
            _alternatives(entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA),
            f"(?i:{_alternatives(GENERIC_BOT_WORDS)})",
        )
    )
)
# isbot's patterns: mostly substrings and shapes ("tools", "catch", "\b\w+/1\.0;", a bare product name).
_ISBOT = _compile(f"(?i:{_alternatives(bot_patterns.ISBOT_PATTERNS)})")
_BROWSER_TOKEN = _compile(f"(?i:{_alternatives(BROWSER_TOKENS)})")
_PLATFORM_TOKEN = _compile(f"(?i:{_alternatives(PLATFORM_TOKENS)})")
# The first parenthesised comment, where a browser names its platform and device; not a "(compatible; …)"
# comment, where a crawler names itself.
_FIRST_COMMENT = _compile(r"^[^()]*(\((?i:[^c()]|c[^o()]|co[^m()]|com[^p()])[^()]*\))")
# Where a browser's own string ends: its last Safari/Firefox/Gecko/Chrome token (the greedy ".*" finds the
# last one in one pass). What follows is appended.
_BROWSER_END = _compile(r"^.*(?:Safari|Firefox|Gecko|Chrome)/[\w.]+")
# In the appended part: a host name ("scanner.example", "monitoring.example.com") or a "(compatible; …)".
_APPENDED_TOOL = _compile(r"(?i:(?:^|[\s(;])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:$|[\s);/])|\(compatible)")


@lru_cache(maxsize=1)
def _known_client():  # noqa: ANN202
    """Device Detector's browser and app lists (~1,250 patterns), compiled on first use: most browsers' verdicts
    never ask (measured: ~70 ms of compiling kept out of the import, i.e. out of a cold start)."""
    return _compile(_device_detector(bot_patterns.DEVICE_DETECTOR_BROWSERS + bot_patterns.DEVICE_DETECTOR_APPS))


def _named_by_ua_parser(user_agent: str) -> bool:
    return parse_user_agent(user_agent).browser.family != "Other"


def _token_spans(pattern, text: str) -> list[tuple[int, int]]:  # noqa: ANN001
    """Each match widened to the whitespace-separated token(s) it falls in."""
    spans = []
    for match in pattern.finditer(text):
        start, end = match.span()
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        spans.append((start, end))
    return spans


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


class _Facts:
    """What the later rules ask about one User-Agent, each looked up at most once and only when asked:
    Device Detector's browser and app lists are the largest expression, and most browsers never need it."""

    __slots__ = ("user_agent", "named", "engine", "_client", "_known")

    def __init__(self, user_agent: str, named: bool) -> None:
        self.user_agent = user_agent
        self.named = named  # ua-parser names a browser family
        self.engine = _BROWSER_TOKEN.search(user_agent) is not None
        self._client: bool | None = None
        self._known: bool | None = None

    @property
    def client(self) -> bool:
        """Device Detector's browser or app lists match."""
        if self._client is None:
            self._client = _known_client().search(self.user_agent) is not None
        return self._client

    @property
    def known(self) -> bool:
        """A known browser: Device Detector names it, or ua-parser does and it has an engine or platform."""
        if self._known is None:
            self._known = self.client or (
                self.named and (self.engine or _PLATFORM_TOKEN.search(self.user_agent) is not None)
            )
        return self._known


def _crawler_named(user_agent: str, facts: _Facts) -> bool:
    """A crawler name that is neither a known browser's own token nor inside its device comment.

    "SogouMobileBrowser/5.28", "Viber/27.4" are the browser's own tokens (Device Detector's lists match the
    same token); "Linux; Android 7.0; M bot 54" and "Build/AP3A.240617.008" are the device comment. A name
    appended to a browser string ("… Safari/537.36 LinkTiger") counts.
    """
    if not _CRAWLER_NAMES.search(user_agent):
        return False
    if not facts.known:
        return True
    excused = _token_spans(_known_client(), user_agent)
    comment = _FIRST_COMMENT.search(user_agent)
    if comment and facts.named:
        excused.append(comment.span(1))
    return any(not _overlaps(match, excused) for match in _token_spans(_CRAWLER_NAMES, user_agent))


def appended_tool(user_agent: str) -> bool:
    """Something appended to a browser's string: a tool (isbot's patterns), a host name or a "(compatible; …)"
    comment after the last Safari/Firefox/Gecko/Chrome token. An app that Device Detector's browser and app
    lists name there ("MicroMessenger/8.0", "Instagram 340.0", "YaBrowser/24.1 (lite)") owns what follows
    it, so its tokens ("Process/tools", "ru.yandex.searchplugin/21.8") are no evidence."""
    end = _BROWSER_END.search(user_agent)
    if end is None:
        return False
    # Searching from the tail's start: "^" cannot match there, "\b" sees the character before it.
    tail = end.end()
    if _known_client().search(user_agent, tail):
        return False
    return bool(_ISBOT.search(user_agent, tail) or _APPENDED_TOOL.search(user_agent, tail))


def has_browser_shape(user_agent: str) -> bool:
    """The positive rule: an engine token, or a browser that ua-parser or Device Detector's lists recognise."""
    return bool(
        _BROWSER_TOKEN.search(user_agent) or _named_by_ua_parser(user_agent) or _known_client().search(user_agent)
    )


@lru_cache(maxsize=BOT_CACHE_SIZE)
def is_bot(user_agent: str) -> bool:
    """True for a crawler, scanner, monitor, automated browser, HTTP library or anything that is no browser;
    an empty User-Agent is a bot."""
    if not user_agent or not user_agent.strip():
        return True
    parsed = parse_user_agent(user_agent)
    if parsed.is_bot or _NAMED.search(user_agent):
        return True
    facts = _Facts(user_agent, named=parsed.browser.family != "Other")
    if _crawler_named(user_agent, facts):
        return True
    isbot = _ISBOT.search(user_agent) is not None
    if isbot and not facts.known:
        return True
    if (isbot or _APPENDED_TOOL.search(user_agent)) and facts.known and appended_tool(user_agent):
        return True
    return not (facts.engine or facts.named or facts.client)  # has_browser_shape, from what is known already
