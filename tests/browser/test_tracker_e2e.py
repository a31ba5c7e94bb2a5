"""End to end: headless Chromium runs cp.js on a test page against `clickport serve`, then /api/query sees it all."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest

from .devtools import DevToolsPage, headless_chromium
from .local_stack import REPO, LocalClickport, serve_test_page
from .track_log import TrackLog

pytestmark = pytest.mark.browser

# The wire format of docs/tracker.md: what each request type may carry.
TRACK_FIELDS = {
    "pageview": {"type", "url", "domain", "referrer", "screen_width", "session_id"},
    "engagement": {"type", "url", "domain", "session_id", "page_visit_id", "scroll", "engaged_ms"},
    "click": {"type", "url", "domain", "session_id", "meta_keys", "meta_values"},
    "form": {"type", "url", "domain", "session_id", "meta_keys", "meta_values"},
    "custom": {"type", "url", "domain", "session_id", "name", "meta_keys", "meta_values", "revenue_amount", "revenue_currency"},
}
FIRST_PAGE_SCROLL = 60
SECOND_PAGE_SCROLL = 80
REVENUE = 49.99

SCROLL_TO_DEPTH = """
new Promise((resolve) => {
  const depth = () => Math.round((scrollY + innerHeight) / document.documentElement.scrollHeight * 100);
  const y = Math.max(0, Math.round(%d / 100 * document.documentElement.scrollHeight - innerHeight));
  if (Math.round(scrollY) === y) return resolve(depth());
  const done = () => requestAnimationFrame(() => resolve(depth()));
  addEventListener('scroll', done, {once: true});
  scrollTo(0, y);
})
"""


@dataclass
class Visit:
    stack: LocalClickport
    read_key: str
    page_origin: str
    log: TrackLog
    storage: dict[str, Any]

    def query(self, **body: Any) -> Any:
        return self.stack.query(self.read_key, {"period": "24h", **body})

    def breakdown(self, dimension: str, metric: str, **body: Any) -> dict[str, Any]:
        rows = self.query(dimensions=[dimension], metrics=[metric], **body)["results"]
        return {row[dimension]: row[metric] for row in rows}


@pytest.fixture(scope="module")
def visit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Visit]:
    with headless_chromium() as browser:
        # First of all: a browser marked as automated would (rightly) get no tracking at all.
        assert browser.evaluate("navigator.webdriver") is False, "Chromium presents itself as automated"

        stack = LocalClickport(tmp_path_factory.mktemp("tracker-e2e") / "data")
        site_id = stack.command("sites", "create", "--domain", "localhost")["site_id"]
        read_key = stack.command("keys", "create", "--site", str(site_id))["key"]
        stack.command("goals", "create", "--site", str(site_id), "--type", "custom", "--event", "Purchase")

        with stack.serving(), serve_test_page(f"{stack.origin}/cp.js") as page_origin:
            log = TrackLog(browser, f"{stack.origin}/api/track")
            try:
                storage = _browse(browser, page_origin, log)
            except AssertionError as failure:
                raise AssertionError(f"{failure}\n--- clickport serve log ---\n{stack.server_log()}") from failure
            yield Visit(stack, read_key, page_origin, log, storage)


def _browse(browser: DevToolsPage, page_origin: str, log: TrackLog) -> dict[str, Any]:
    """One visitor's tab: load, scroll, SPA navigation, scroll, outbound click, form, purchase, leave."""
    browser.call("Network.enable")
    browser.call("Page.enable")
    browser.call("Page.navigate", url=f"{page_origin}/")
    browser.wait_until(lambda: any(e["method"] == "Page.loadEventFired" for e in browser.events), "the page load")
    assert browser.evaluate("navigator.webdriver") is False
    log.wait_for("the first pageview's answer", pageview=1)

    assert browser.evaluate(SCROLL_TO_DEPTH % FIRST_PAGE_SCROLL) == FIRST_PAGE_SCROLL
    browser.evaluate("history.pushState({}, '', '/pricing')")
    log.wait_for("the SPA pageview", pageview=2, engagement=1)

    browser.evaluate(SCROLL_TO_DEPTH % 0)
    assert browser.evaluate(SCROLL_TO_DEPTH % SECOND_PAGE_SCROLL) == SECOND_PAGE_SCROLL
    browser.click("#outbound")
    log.wait_for("the outbound click", click=1)
    browser.click("#subscribe")
    log.wait_for("the form submission", form=1)
    browser.evaluate(f"clickport.track('Purchase', {{plan: 'pro'}}, {{amount: {REVENUE}}})")
    log.wait_for("the custom event", custom=1)
    assert browser.evaluate("location.pathname") == "/pricing", "the page navigated away"

    storage = browser.evaluate(
        "({session: Object.keys(sessionStorage), local: localStorage.length, cookie: document.cookie})"
    )
    storage["browser_cookies"] = browser.call("Storage.getCookies").get("cookies", [])

    browser.call("Page.navigate", url="about:blank")  # pagehide: the last page visit's engagement update
    browser.pump(0.5)
    return storage


def _eventually(read: Callable[[], Any], ready: Callable[[Any], bool], timeout: float = 15.0) -> Any:
    """The first reading that is ready; the last one when time runs out (the asserts then show it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if ready(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_local_server_serves_the_built_tracker(visit: Visit) -> None:
    assert visit.stack.get("/cp.js") == (REPO / "tracker" / "dist" / "cp.min.js").read_bytes()


def test_every_request_is_a_documented_simple_cors_request_and_accepted(visit: Visit) -> None:
    requests = visit.log.refresh()
    assert [r for r in requests if r.method != "POST"] == [], "no CORS preflight, no other method"
    for request in requests:
        assert request.body is not None, request
        assert request.body["domain"] == "localhost"
        assert set(request.body) <= TRACK_FIELDS[request.body["type"]], request.body
        content_type = {k.lower(): v for k, v in request.headers.items()}.get("content-type", "")
        assert content_type.startswith("text/plain"), request.headers
        if request.type != "engagement":
            assert request.status == 200 and request.answer["success"] is True, (request.body, request.answer)
    session_ids = {r.body.get("session_id") for r in requests} - {None}
    assert len(session_ids) == 1, "one tab, one session"


def test_only_cp_sid_is_stored_and_no_cookies_exist(visit: Visit) -> None:
    assert visit.storage["session"] == ["cp_sid"]
    assert visit.storage["local"] == 0
    assert visit.storage["cookie"] == ""
    assert visit.storage["browser_cookies"] == []


def test_query_counts_the_visit(visit: Visit) -> None:
    metrics = ["pageviews", "visitors", "sessions", "events", "clickers", "avg_scroll", "conversions", "total_revenue"]
    results = _eventually(
        lambda: visit.query(metrics=metrics)["results"],
        lambda r: r["events"] >= 5 and r["avg_scroll"] >= 65,
    )
    assert {k: v for k, v in results.items() if k != "avg_scroll"} == {
        "pageviews": 2,
        "visitors": 1,
        "sessions": 1,
        "events": 5,
        "clickers": 1,
        "conversions": 1,
        "total_revenue": {"USD": REVENUE},
    }
    assert abs(results["avg_scroll"] - 70) <= 5, results


def test_each_page_visit_keeps_its_own_greatest_scroll(visit: Visit) -> None:
    # The second visit's depth arrives only with the update sent on pagehide.
    rows = _eventually(lambda: visit.breakdown("page", "avg_scroll"), lambda r: r.get("/pricing", 0) > 0)
    assert set(rows) == {"/", "/pricing"}
    assert abs(rows["/"] - FIRST_PAGE_SCROLL) <= 2, rows
    assert abs(rows["/pricing"] - SECOND_PAGE_SCROLL) <= 2, rows


def test_event_names_and_properties_arrive(visit: Visit) -> None:
    assert visit.breakdown("event_name", "events") == {"pageview": 2, "click": 1, "form": 1, "Purchase": 1}
    assert visit.breakdown("prop:click_url", "events").get("http://example.invalid/partner") == 1
    assert visit.breakdown("prop:click_text", "events").get("Visit our partner") == 1
    assert visit.breakdown("prop:form_id", "events").get("signup") == 1
    assert visit.breakdown("prop:form_name", "events").get("newsletter") == 1
    assert visit.breakdown("prop:plan", "events").get("pro") == 1


def test_revenue_is_attributed_to_the_purchase(visit: Visit) -> None:
    rows = visit.query(dimensions=["event_name"], metrics=["conversions", "total_revenue"])["results"]
    by_name = {row["event_name"]: row for row in rows}
    assert by_name["Purchase"]["conversions"] == 1
    assert by_name["Purchase"]["total_revenue"] == {"USD": REVENUE}


def test_the_browser_is_seen_as_an_ordinary_desktop_chrome(visit: Visit) -> None:
    assert visit.breakdown("browser", "visitors") == {"Chrome": 1}
    assert visit.breakdown("device", "visitors") == {"Desktop": 1}
    assert visit.breakdown("os", "visitors") == {"Linux": 1}
