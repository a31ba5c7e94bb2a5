"""The first try: headless Chromium opens the local server's demo page; its pageview and custom event are counted
for the demo site and show in /api/query, and the page says so."""

from __future__ import annotations

import time

import pytest

from clickport.demo import DEMO_DOMAIN

from .devtools import DevToolsPage, headless_chromium
from .local_stack import LocalClickport

pytestmark = pytest.mark.browser


def _status(browser: DevToolsPage, box: str, expected: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = browser.evaluate(f"document.querySelector('#{box} strong')?.textContent ?? ''")
        if text == expected or time.monotonic() > deadline:
            return text
        browser.pump(0.1)


def test_the_demo_page_counts_its_pageview_and_custom_event_for_the_demo_site(tmp_path):
    stack = LocalClickport(tmp_path / "data")
    demo = stack.command("demo")
    assert demo["domain"] == DEMO_DOMAIN
    with headless_chromium() as browser, stack.serving():
        browser.call("Page.enable")
        browser.call("Page.navigate", url=f"{stack.origin}/demo/")
        try:
            assert _status(browser, "pageview", "Pageview: recorded") == "Pageview: recorded"
            browser.click("#signup")
            assert _status(browser, "custom", "Custom event: recorded") == "Custom event: recorded"
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n--- clickport serve log ---\n{stack.server_log()}") from failure

        on_page = {"dimension": "page", "operator": "is", "value": "/demo/"}
        answer = stack.query(demo["key"], {"metrics": ["events"], "dimensions": ["event_name", "hostname"],
                                           "period": "today", "filters": [on_page]})
        assert sorted((r["event_name"], r["hostname"], r["events"]) for r in answer["results"]) == [
            ("Signup", "127.0.0.1", 1), ("pageview", "127.0.0.1", 1)]
        goal = stack.query(demo["key"], {"metrics": ["conversions"], "period": "today", "filters": [
            on_page, {"dimension": "goal", "operator": "is", "value": "Signup"}]})
        assert goal["results"] == {"conversions": 1}
