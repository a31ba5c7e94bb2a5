"""A bug in any route answers spec §2's JSON 500 (a request id, never a stack trace) and counts exactly one
``ServerErrors`` (``clickport.http.observability``): Lambda's own Errors metric never sees a handled 500.

AWS Lambda, "Viewing metrics for Lambda functions": Errors is "The number of invocations that result in a
function error"; a handler that turns a bug into a 500 response returns normally and is not one.
"""

from __future__ import annotations

import json

import pytest

from clickport.local.functions import load_function
from tests.conftest import BROWSER_UA

# (function, what in its handler module breaks, method, target, body, key)
ROUTES = [
    ("event", "service", "POST", "/api/event", {"url": "https://example.com/"}, "both"),
    ("event", "service", "POST", "/api/track", {"domain": "example.com", "url": "https://example.com/"}, None),
    ("query", "query_response", "POST", "/api/query", {"metrics": ["visitors"]}, "read"),
    ("query", "convenience_response", "GET", "/api/pages?start_date=2025-01-01&end_date=2025-01-02", None, "read"),
    ("query", "convenience_response", "GET", "/api/utm/source?start_date=2025-01-01&end_date=2025-01-02", None,
     "read"),
    ("realtime", "realtime_snapshot", "GET", "/api/realtime", None, "read"),
    ("goals", "goals_body", "GET", "/api/goals?start_date=2025-01-01&end_date=2025-01-02", None, "read"),
    # A bug in the response check itself (the route's answer does not fit its declared model)
    ("realtime", "RealtimeResponse", "GET", "/api/realtime", None, "read"),
]


def _metric_lines(out: str) -> list[dict]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line and "ServerErrors" in line]


@pytest.mark.parametrize(("function", "broken", "method", "target", "body", "key"), ROUTES,
                         ids=[f"{r[2]} {r[3].split('?')[0]} ({r[1]})" for r in ROUTES])
def test_a_bug_in_any_route_answers_the_json_500_and_counts_one_server_error(
    gateway, keys, monkeypatch, capsys, function, broken, method, target, body, key
):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", f"Clickport-Functions{function.capitalize()}")
    handler = load_function(function)
    secret = "sk_live_do_not_leak"

    def bug(*args, **kwargs):
        raise RuntimeError(f"a bug with a secret in its message: {secret}")

    if broken == "service":
        service = handler.service()
        monkeypatch.setattr(service, "track_event", bug)
        monkeypatch.setattr(service, "track_browser", bug)
    elif broken == "RealtimeResponse":
        monkeypatch.setattr(handler, "RealtimeResponse", lambda **fields: {"count": "many"})
    else:
        monkeypatch.setattr(handler, broken, bug)
    headers = {"User-Agent": BROWSER_UA}
    if key:
        headers["x-api-key"] = keys[key]
    capsys.readouterr()
    status, out_headers, payload = gateway(method, target, body=body, headers=headers)
    assert status == 500, payload
    assert {k.lower(): v for k, v in out_headers.items()}["content-type"].startswith("application/json")
    assert payload["error"] == "Internal Server Error"
    assert payload["message"].startswith("Internal error (request id ")
    assert set(payload) == {"error", "message"}
    out = capsys.readouterr().out
    [document] = _metric_lines(out)  # exactly one
    assert document["ServerErrors"] == [1.0]
    assert (document["service"], document["status"]) == (f"clickport-{function}", "500")
    assert secret not in json.dumps(payload)
