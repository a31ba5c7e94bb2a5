"""Swagger UI itself, in headless Chromium: for every operation of /api/docs, "Try it out" then "Execute" with
what the page fills in (after Authorize with the demo's key) answers 2xx from the demo data."""

from __future__ import annotations

import json

import pytest

from .devtools import DevToolsPage, headless_chromium
from .local_stack import LocalClickport

pytestmark = pytest.mark.browser


def _wait_for(browser: DevToolsPage, selector: str, what: str, timeout: float = 30.0) -> None:
    browser.wait_until(lambda: browser.evaluate(f"!!document.querySelector({json.dumps(selector)})"), what, timeout)


def _click(browser: DevToolsPage, selector: str) -> None:
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'center'}})")
    browser.pump(0.2)
    browser.click(selector)


def test_every_operation_executes_from_swagger_ui_with_what_it_fills_in(tmp_path):
    stack = LocalClickport(tmp_path / "data")
    demo = stack.command("demo")
    with headless_chromium() as browser, stack.serving():
        document = json.loads(stack.get("/api/openapi.json"))
        browser.call("Page.enable")
        browser.call("Page.navigate", url=f"{stack.origin}/api/docs")
        _wait_for(browser, ".opblock", "the operations")
        browser.evaluate(f"window.ui.preauthorizeApiKey('apiKey', {json.dumps(demo['key'])})")
        answered = {}
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                block = f"#operations-{operation['tags'][0]}-{operation['operationId']}"
                _click(browser, f"{block} .opblock-summary")
                _wait_for(browser, f"{block} .try-out__btn", f"{method} {path}: Try it out")
                _click(browser, f"{block} .try-out__btn")
                _wait_for(browser, f"{block} .execute", f"{method} {path}: Execute")
                _click(browser, f"{block} .execute")
                status_cell = f"{block} .live-responses-table .response .response-col_status"
                _wait_for(browser, status_cell, f"{method} {path}: an answer")
                status = browser.evaluate(f"document.querySelector({json.dumps(status_cell)}).textContent.trim()")
                body = browser.evaluate(f"document.querySelector('{block} .live-responses-table .response "
                                        f".highlight-code')?.textContent ?? ''")
                answered[f"{method.upper()} {path}"] = (status, body[:300])
                _click(browser, f"{block} .opblock-summary")  # closed again: the page stays small
        failed = {key: value for key, value in answered.items() if not value[0].startswith("2")}
        assert not failed, f"{failed}\n--- clickport serve log ---\n{stack.server_log()}"
        assert len(answered) == sum(len(operations) for operations in document["paths"].values())
