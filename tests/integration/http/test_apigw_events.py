"""The local server's HTTP → API Gateway v2 translation, and the server end to end."""

import json
import urllib.error
import urllib.request

import pytest

from clickport.local.apigw import build_event, response_parts


def test_event_has_the_http_api_v2_shape():
    function, event = build_event(
        "POST", "/api/query?b=2&a=1&a=3", [("Content-Type", "application/json"), ("X-Api-Key", "ck_x"),
                                         ("Accept", "a"), ("Accept", "b"), ("Cookie", "c=1; d=2")],
        b'{"metrics": []}', "192.0.2.1",
    )
    assert function == "query"
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /api/query"
    assert event["rawPath"] == "/api/query" and event["rawQueryString"] == "b=2&a=1&a=3"
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2"}
    assert event["headers"]["x-api-key"] == "ck_x" and event["headers"]["accept"] == "a,b"
    assert event["cookies"] == ["c=1", "d=2"] and "cookie" not in event["headers"]
    context = event["requestContext"]
    assert context["http"] == {"method": "POST", "path": "/api/query", "protocol": "HTTP/1.1",
                               "sourceIp": "192.0.2.1", "userAgent": ""}
    assert context["routeKey"] == "POST /api/query" and context["stage"] == "$default"
    assert len(context["requestId"]) >= 16 and isinstance(context["timeEpoch"], int)
    assert event["body"] == '{"metrics": []}' and event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    "method, path, function, route_key, params",
    [
        ("POST", "/api/event", "event", "POST /api/event", None),
        ("OPTIONS", "/api/track", "event", "OPTIONS /api/track", None),
        ("GET", "/api/realtime", "realtime", "GET /api/realtime", None),
        ("GET", "/api/goals", "goals", "GET /api/goals", None),
        ("GET", "/api/pages", "query", "GET /api/{breakdown}", {"breakdown": "pages"}),
        ("GET", "/api/utm/source", "query", "GET /api/utm/{param}", {"param": "source"}),
        ("GET", "/api/nope", "query", "$default", None),
        ("DELETE", "/api/event", "query", "$default", None),
    ],
)
def test_routes_go_where_api_gateway_sends_them(method, path, function, route_key, params):
    chosen, event = build_event(method, path, {}, b"", "192.0.2.1")
    assert (chosen, event["routeKey"], event.get("pathParameters")) == (function, route_key, params)


def test_binary_bodies_are_base64_encoded_and_responses_decode():
    _, event = build_event("POST", "/api/event", {}, b"\xff\xfe", "192.0.2.1")
    assert event["isBase64Encoded"] is True
    status, headers, body = response_parts({"statusCode": 201, "headers": {"A": "1"}, "body": "aGk=",
                                            "isBase64Encoded": True, "cookies": ["x=1"]})
    assert (status, body) == (201, b"hi") and ("Set-Cookie", "x=1") in headers


def _request(url, method="GET", body=None, headers=None):
    request = urllib.request.Request(url, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_server_answers_json_errors_and_serves_docs_offline(server, keys):
    status, _, body = _request(server + "/api/query", "POST", b"{}", {"x-api-key": "ck_wrong"})
    assert status == 401 and json.loads(body) == {"error": "Unauthorized", "message": "Invalid API key"}
    status, headers, body = _request(server + "/api/openapi.json")
    assert status == 200 and "/api/query" in json.loads(body)["paths"]
    status, _, html = _request(server + "/api/docs")
    assert status == 200 and b"/api/docs/swagger-ui-bundle.js" in html
    assert b"http://" not in html and b"https://" not in html  # no CDN assets
    status, headers, js = _request(server + "/api/docs/swagger-ui-bundle.js")
    assert status == 200 and len(js) > 100_000


def test_server_never_logs_the_client_address(server, keys, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="clickport.access")
    _request(server + "/api/realtime?x=1", headers={"x-api-key": keys["read"], "User-Agent": "UA-MARKER"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/api/realtime" in logged
    assert "127.0.0.1" not in logged and "UA-MARKER" not in logged and keys["read"] not in logged
