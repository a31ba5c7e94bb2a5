"""The bot check: crawlers, automation, HTTP libraries are bots; real browsers and in-app views are not."""

import pytest
from ingest_user_agents import REAL_BROWSERS

from clickport.ingest import bots
from clickport.ingest.bots import is_bot

CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "Some Custom Crawler 1.0",
    "my-spider/0.3",
)

AUTOMATION = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Selenium",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Puppeteer",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Playwright/1.49",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 GTmetrix",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 PTST/241201.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Cypress/13.16.0 Chrome/118.0.5993.159 Electron/27.3.10 Safari/537.36",
)

HTTP_CLIENTS = (
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "Python-urllib/3.11",
    "Python/3.12 aiohttp/3.11.10",
    "python-httpx/0.28.1",
    "Go-http-client/2.0",
    "okhttp/4.12.0",
    "Java/17.0.9",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)",
    "libwww-perl/6.77",
    "axios/1.7.9",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "node",
    "undici",
    "PostmanRuntime/7.43.0",
    "insomnia/10.2.0",
    "HTTPie/3.2.4",
    "GuzzleHttp/7",
    "Dart/3.5 (dart:io)",
    "Ruby",
    "Scrapy/2.12.0 (+https://scrapy.org)",
)


@pytest.mark.parametrize("user_agent", REAL_BROWSERS)
def test_real_browsers_are_not_bots(user_agent):
    assert is_bot(user_agent) is False


@pytest.mark.parametrize("user_agent", CRAWLERS + AUTOMATION + HTTP_CLIENTS)
def test_crawlers_automation_and_http_clients_are_bots(user_agent):
    assert is_bot(user_agent) is True


@pytest.mark.parametrize("user_agent", ["", "   "])
def test_empty_user_agent_is_a_bot(user_agent):
    assert is_bot(user_agent) is True


def test_http_client_markers_ignore_case():
    assert is_bot("CURL/8.0") is True
    assert is_bot("Python-Requests/2.0") is True


def test_crawler_patterns_are_case_sensitive_as_their_project_writes_them():
    # "Googlebot/" is a crawler pattern; the generic word rule catches any "...bot/" too, so use
    # a crawler-only marker the generic rules do not know: "ia_archiver".
    assert is_bot("ia_archiver (+http://www.alexa.com/site/help/webmasters; crawler@alexa.com)") is True
    assert bots._CRAWLER_NAMES.search("IA_ARCHIVER") is None


def test_user_agents_verdict_counts_even_without_a_pattern(monkeypatch):
    class _Verdict:
        is_bot = True

    is_bot.cache_clear()
    monkeypatch.setattr(bots, "parse_user_agent", lambda ua: _Verdict())
    try:
        assert is_bot(REAL_BROWSERS[0]) is True
    finally:
        is_bot.cache_clear()


def test_is_bot_is_memoized_with_a_bound():
    is_bot.cache_clear()
    is_bot(REAL_BROWSERS[0])
    is_bot(REAL_BROWSERS[0])
    info = is_bot.cache_info()
    assert info.hits == 1
    assert info.maxsize is not None and 0 < info.maxsize <= 100_000
