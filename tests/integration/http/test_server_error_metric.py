"""Handled 5xx answers are counted: Lambda sees a normal return, so its Errors metric never would.

AWS Lambda, "Viewing metrics for Lambda functions": Errors is "The number of invocations that result in a
function error"; a handler that catches a bug and returns a 500 response is not one.
"""

from __future__ import annotations

import json

import pytest

from clickport.errors import StoreUnavailable
from tests.conftest import BROWSER_UA


def _server_error_lines(out: str) -> list[dict]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{") and "ServerErrors" in line]
    return [line for line in lines if "_aws" in line]


@pytest.fixture
def in_lambda(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "Clickport-FunctionsEvent")


@pytest.mark.parametrize(("failure", "status"), [(RuntimeError("a bug"), 500), (StoreUnavailable("down"), 503)])
def test_a_handled_5xx_of_the_event_function_emits_server_errors(
    gateway, keys, monkeypatch, capsys, in_lambda, failure, status
):
    from clickport.local.functions import load_function

    handler = load_function("event")

    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr(handler.service(), "track_event", broken)
    code, _, body = gateway("POST", "/api/event", body={"url": "https://example.com/"},
                            headers={"x-api-key": keys["both"], "User-Agent": BROWSER_UA})
    assert code == status, body
    [document] = _server_error_lines(capsys.readouterr().out)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Clickport" and directive["Metrics"][0]["Name"] == "ServerErrors"
    assert (document["service"], document["status"], document["ServerErrors"]) == ("clickport-event", str(status), [1.0])


def test_the_local_server_prints_no_metric(gateway, keys, monkeypatch, capsys):
    from clickport.local.functions import load_function

    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setattr(load_function("event").service(), "track_event", lambda *a, **k: 1 / 0)
    assert gateway("POST", "/api/event", body={"url": "https://example.com/"},
                   headers={"x-api-key": keys["both"], "User-Agent": BROWSER_UA})[0] == 500
    assert _server_error_lines(capsys.readouterr().out) == []


def test_answers_below_500_emit_nothing(gateway, keys, capsys, in_lambda):
    assert gateway("POST", "/api/event", body={"url": "https://example.com/"},
                   headers={"x-api-key": keys["both"], "User-Agent": BROWSER_UA})[0] == 200
    assert gateway("GET", "/api/realtime", headers={"x-api-key": "ck_" + "x" * 43})[0] == 401
    assert _server_error_lines(capsys.readouterr().out) == []
