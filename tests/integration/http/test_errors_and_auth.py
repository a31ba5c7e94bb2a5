"""The HTTP layer: error envelopes for every status, spec §2 precedence, keys and permissions."""

import json

import pytest

from clickport.errors import (
    REASON_PHRASES,
    BadRequest,
    GatewayTimeout,
    NotImplementedYet,
    ServiceUnavailable,
    StoreUnavailable,
)
from clickport.http.resolver import create_resolver
from clickport.local.apigw import build_event
from clickport.local.functions import LocalLambdaContext
from tests.conftest import BROWSER_UA

EXPECTED_PHRASES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    413: "Payload Too Large", 500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
    504: "Gateway Timeout",
    # The local server's transport errors (API Gateway answers these itself on AWS).
    408: "Request Timeout", 411: "Length Required", 414: "URI Too Long", 431: "Request Header Fields Too Large",
    505: "HTTP Version Not Supported",
}


def test_reason_phrases_are_the_fixed_table():
    assert REASON_PHRASES == EXPECTED_PHRASES


def _call_app(app, key, raise_error):
    @app.post("/api/query")
    def query():
        raise raise_error

    _, event = build_event("POST", "/api/query", {"x-api-key": key}, b"{}", "203.0.113.1")
    result = app.resolve(event, LocalLambdaContext("query"))
    return result["statusCode"], json.loads(result["body"]), result["headers"]


@pytest.mark.parametrize(
    "error, status, message",
    [
        (BadRequest("Unknown metric 'visitor'"), 400, "Unknown metric 'visitor'"),
        (NotImplementedYet("POST /api/query is not built yet"), 501, "POST /api/query is not built yet"),
        (ServiceUnavailable("Athena is throttling"), 503, "Athena is throttling"),
        (StoreUnavailable("dynamodb throttled"), 503, "A store is unavailable; retry shortly"),
        (GatewayTimeout("The query did not finish in time"), 504, "The query did not finish in time"),
    ],
)
def test_typed_errors_map_to_envelopes(runtime, keys, error, status, message):
    code, body, headers = _call_app(create_resolver("query"), keys["read"], error)
    assert code == status
    assert body == {"error": EXPECTED_PHRASES[status], "message": message}
    assert headers["Content-Type"] == "application/json"


def test_a_bug_answers_500_with_a_request_id_and_no_stack_trace(runtime, keys, caplog):
    code, body, _ = _call_app(create_resolver("query"), keys["read"], ZeroDivisionError("secret detail"))
    assert code == 500
    assert body["error"] == "Internal Server Error"
    assert "request id" in body["message"]
    assert "secret detail" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    request_id = body["message"].split("request id ")[1].rstrip(")")
    assert any(request_id in record.getMessage() for record in caplog.records)  # the log line carries it


def test_unknown_route_is_404_and_wrong_method_is_405(gateway):
    status, _, body = gateway("GET", "/nothing/here")
    assert (status, body["error"]) == (404, "Not Found")
    status, headers, body = gateway("DELETE", "/api/query", headers={"x-api-key": "whatever"})
    assert (status, body["error"]) == (405, "Method Not Allowed")
    assert headers["Allow"] == "POST"
    status, headers, body = gateway("PUT", "/api/track")
    assert status == 405 and headers["Allow"] == "OPTIONS, POST"


def test_oversized_body_is_413_before_authentication(gateway):
    status, _, body = gateway("POST", "/api/query", body=b"{" + b" " * (512 * 1024) + b"}")
    assert status == 413 and body["error"] == "Payload Too Large"


@pytest.mark.parametrize("key", [None, "", "ck_wrong", "ck_" + "x" * 43])
def test_missing_or_wrong_key_is_the_same_401(gateway, keys, key):
    headers = {"User-Agent": BROWSER_UA}
    if key is not None:
        headers["x-api-key"] = key
    status, _, body = gateway("POST", "/api/query", body={"metrics": ["visitor"]}, headers=headers)
    assert status == 401
    assert body == {"error": "Unauthorized", "message": "Invalid API key"}


def test_revoked_key_is_401(gateway, runtime, keys):
    from datetime import datetime, timezone

    from clickport.domain.keys import hash_key

    runtime.config.revoke_key(hash_key(keys["read"]), datetime.now(timezone.utc))
    status, _, body = gateway("POST", "/api/query", body={}, headers={"x-api-key": keys["read"]})
    assert (status, body["message"]) == (401, "Invalid API key")


def test_key_without_read_is_403_on_query_before_validation(gateway, keys):
    status, _, body = gateway("POST", "/api/query", body={"metrics": ["visitor"]}, headers={"x-api-key": keys["tracker"]})
    assert status == 403 and body["error"] == "Forbidden" and "read" in body["message"]


def test_key_without_tracker_is_403_on_event(gateway, keys):
    status, _, body = gateway("POST", "/api/event", body={"url": "https://example.com/"},
                              headers={"x-api-key": keys["read"], "User-Agent": BROWSER_UA})
    assert status == 403 and "tracker" in body["message"]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("[1, 2]", "JSON object"),
        ("not json", "JSON object"),
        ({"url": "https://example.com/", "site_id": "other"}, "the site comes from the API key"),
        ({"url": "https://example.com/", "colour": "red"}, "Unknown field 'colour'"),
        ({}, "'url' is required"),
        ({"url": "ftp://example.com/"}, "absolute http(s) URL"),
    ],
)
def test_validation_failures_are_400_never_422(gateway, keys, body, fragment):
    status, _, answer = gateway("POST", "/api/event", body=body,
                                headers={"x-api-key": keys["tracker"], "User-Agent": BROWSER_UA})
    assert status == 400, answer
    assert answer["error"] == "Bad Request"
    assert fragment in answer["message"]


def test_site_id_in_a_query_string_is_400(gateway, keys):
    status, _, body = gateway("GET", "/api/realtime?site_id=other", headers={"x-api-key": keys["read"]})
    assert status == 400 and "site comes from the API key" in body["message"]


@pytest.mark.parametrize("raw", ["null", "[]", '"x"', "3"])
def test_a_query_body_that_is_not_an_object_is_400(gateway, keys, raw):
    status, _, body = gateway("POST", "/api/query", body=raw, headers={"x-api-key": keys["read"]})
    assert (status, body["message"]) == (400, "The request body must be a JSON object")


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_an_empty_query_body_means_an_empty_object(gateway, keys, raw):
    status, _, body = gateway("POST", "/api/query", body=raw, headers={"x-api-key": keys["read"]})
    assert status == 200 and body["results"] == {"visitors": 0}


def test_breakdown_limit_errors_come_from_the_query_layer(gateway, keys):
    status, _, body = gateway("GET", "/api/pages?start_date=2026-03-01&end_date=2026-03-02&limit=abc",
                              headers={"x-api-key": keys["read"]})
    assert status == 400 and "limit" in body["message"] and "10000" in body["message"]


def test_a_repeated_query_parameter_is_400(gateway, keys):
    status, _, body = gateway("GET", "/api/pages?start_date=2026-03-01&start_date=2026-03-02&end_date=2026-03-05",
                              headers={"x-api-key": keys["read"]})
    assert (status, body["message"]) == (400, "Query parameter 'start_date' is given more than once")


@pytest.mark.parametrize("path, key", [("/api/event", "tracker"), ("/api/query", "read"), ("/api/track", None)])
def test_a_body_that_is_not_utf8_is_400(gateway, keys, path, key):
    headers = {"User-Agent": BROWSER_UA, "Content-Type": "application/json"}
    if key:
        headers["x-api-key"] = keys[key]
    status, _, body = gateway("POST", path, body=b"\xf6\xff{", headers=headers)
    assert (status, body["error"]) == (400, "Bad Request")


def test_any_method_gets_a_json_answer_from_the_local_server(server):
    import http.client

    host, port = server.removeprefix("http://").split(":")
    for method in ("TRACE", "CONNECT", "PATCH", "QUERY", "GET"):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request(method, "/api/query")
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())["error"]) == (405, "Method Not Allowed")
        connection.close()
