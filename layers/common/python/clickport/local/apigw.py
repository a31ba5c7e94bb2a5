"""Turns a plain HTTP request into an API Gateway HTTP API (payload 2.0) event, as API Gateway would."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlsplit

from clickport.routes import DEFAULT_FUNCTION, DEFAULT_ROUTE_KEY, FunctionName, find_route


def build_event(
    method: str,
    target: str,
    headers: Mapping[str, str] | list[tuple[str, str]],
    body: bytes,
    source_ip: str,
) -> tuple[FunctionName, dict[str, Any]]:
    """The function API Gateway would invoke and the event it would pass."""
    parts = urlsplit(target)
    path = parts.path or "/"
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        # NOTE: API Gateway joins repeated headers with commas.
        merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value

    found = find_route(method, path)
    if found:
        route, path_parameters = found
        function, route_key = route.function, route.route_key
    else:
        function, route_key, path_parameters = DEFAULT_FUNCTION, DEFAULT_ROUTE_KEY, {}

    now = datetime.now(timezone.utc)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return function, event


def response_parts(result: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body bytes of a payload 2.0 Lambda response."""
    status = int(result.get("statusCode", 200))
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    for cookie in result.get("cookies") or []:
        headers.append(("Set-Cookie", cookie))
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return status, headers, data
