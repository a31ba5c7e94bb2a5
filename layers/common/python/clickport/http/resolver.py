"""The resolver factory used by every function: routing guard, authentication, one error mapping."""

from __future__ import annotations

import base64
import logging
from typing import Any, Mapping
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from clickport.domain.keys import require_permission
from clickport.errors import ApiError, StoreUnavailable
from clickport.http.body import NOT_JSON, JsonRejected, parse_json
from clickport.http.client import request_headers
from clickport.http.envelope import (
    JSON_HEADERS, STORE_UNAVAILABLE, describe_validation_errors, error_body, error_response,
)
from clickport.ports import ApiKeyRecord
from clickport.routes import DEFAULT_ROUTE_KEY, MAX_BODY_BYTES, ROUTES_BY_KEY, FunctionName, allowed_methods
from clickport.runtime import get_runtime

logger = logging.getLogger("clickport.http")


class ClickportResolver(APIGatewayHttpResolver):
    """Answers in spec §2's precedence: 404/405, then 413, then 401, then 403, then validation (400), then 5xx."""

    def __init__(self, function: FunctionName):
        # A route whose answer does not fit its declared model is a bug (500 with a request id, counted as a
        # ServerError), not a client error: without this Powertools reports it as a request validation error.
        super().__init__(enable_validation=True, json_body_deserializer=self._parsed_body,
                         response_validation_error_http_code=500)
        self.function = function
        self._body: tuple[str, Any] | None = None  # (text, value) of the request being handled
        self._register_error_handlers()

    def _parsed_body(self, text: str) -> Any:
        """Powertools' JSON parser: the body the guard already parsed (parsed once, under the limits)."""
        if self._body is not None and text == self._body[0]:
            return self._body[1]
        return parse_json(text)

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        request_id = (event.get("requestContext") or {}).get("requestId", "-")
        self._body = None
        try:
            early = self._guard(event)
        except ApiError as error:
            return error_response(error.status, error.message)
        except StoreUnavailable:
            return error_response(503, STORE_UNAVAILABLE)
        except Exception:  # noqa: BLE001 - never a stack trace to a client
            logger.exception("unhandled error before routing (request id %s)", request_id)
            return error_response(500, f"Internal error (request id {request_id})")
        if early is not None:
            return early
        return super().resolve(_as_json_request(event), context)

    def _guard(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        route_key = event.get("routeKey", DEFAULT_ROUTE_KEY)
        route = ROUTES_BY_KEY.get(route_key)
        http = (event.get("requestContext") or {}).get("http") or {}
        path = http.get("path") or event.get("rawPath") or "/"
        if route is not None and route.match(path) is None:
            route = None  # e.g. GET /api/{breakdown} with an unknown breakdown
        if route is None:
            methods = allowed_methods(path)
            if methods:
                return error_response(
                    405, f"Method {http.get('method', '')} is not allowed here. Allowed: {', '.join(methods)}",
                    {"Allow": ", ".join(methods)},
                )
            return error_response(404, f"No route for {path}")
        if _body_size(event) > MAX_BODY_BYTES:
            return error_response(413, f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB")
        if route.permission is not None:
            record = get_runtime().authenticator.authenticate(request_headers(event).get("x-api-key"))
            require_permission(record, route.permission)
            self.append_context(api_key=record)
        names = [name for name, _ in parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True)]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            return error_response(400, f"Query parameter '{repeated[0]}' is given more than once")
        if _body_text(event) is None:
            return error_response(400, "The request body must be a JSON object (UTF-8)")
        unknown = sorted(set(event.get("queryStringParameters") or {}) - route.query_params)
        if unknown:
            if unknown[0] == "site_id":
                return error_response(400, "Unknown query parameter 'site_id': the site comes from the API key")
            allowed = ", ".join(sorted(route.query_params)) or "none"
            return error_response(400, f"Unknown query parameter '{unknown[0]}'. Allowed: {allowed}")
        if route.method == "POST":
            return self._parse_body(_body_text(event) or "")
        return None

    def _parse_body(self, text: str) -> dict[str, Any] | None:
        """Parse a non-blank body once, before Powertools does: a 400 unless it is a JSON object within the
        limits every request shares (one log line, no traceback)."""
        if not text.strip():
            return None
        try:
            value = parse_json(text)
        except JsonRejected as rejected:
            logger.info("request body rejected: %s", rejected.field or rejected)
            return error_response(400, body_message(rejected))
        if not isinstance(value, dict):
            return error_response(400, NOT_AN_OBJECT)
        self._body = (text, value)
        return None

    def _register_error_handlers(self) -> None:
        @self.exception_handler(ApiError)
        def _api_error(error: ApiError) -> Response:
            return _envelope(error.status, error.message)

        @self.exception_handler(RequestValidationError)
        def _request_invalid(error: RequestValidationError) -> Response:
            return _envelope(400, describe_validation_errors(error.errors()))

        @self.exception_handler(ValidationError)
        def _model_invalid(error: ValidationError) -> Response:
            return _envelope(400, describe_validation_errors(error.errors()))

        @self.exception_handler(StoreUnavailable)
        def _unavailable(error: StoreUnavailable) -> Response:
            return _envelope(503, STORE_UNAVAILABLE)

        @self.exception_handler(Exception)
        def _bug(error: Exception) -> Response:
            request_id = self.current_event.request_context.request_id
            logger.exception("unhandled error (request id %s)", request_id)
            return _envelope(500, f"Internal error (request id {request_id})")

        @self.not_found
        def _not_found(error: Exception) -> Response:
            return _envelope(404, f"No route for {self.current_event.path}")


NOT_AN_OBJECT = "The request body must be a JSON object"


def body_message(rejected: JsonRejected) -> str:
    """The 400 message for a body ``parse_json`` refused."""
    if rejected.field is not None:
        return str(rejected)
    return NOT_AN_OBJECT if str(rejected) == NOT_JSON else f"The request body is {rejected}"


def _envelope(status: int, message: str) -> Response:
    return Response(status_code=status, content_type=JSON_HEADERS["Content-Type"], body=error_body(status, message))


def _body_text(event: Mapping[str, Any]) -> str | None:
    """The body as text ("" when absent); None when it is not UTF-8."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body
    try:
        return base64.b64decode(body).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def _as_json_request(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """Bodies are JSON whatever the Content-Type says (spec §5.1: the tracker's sendBeacon sends text/plain);
    a blank body is no body."""
    headers = event.get("headers") or {}
    body = _body_text(event)
    if not body or not body.strip():
        return {**event, "body": None, "isBase64Encoded": False}  # a blank body is an empty one
    if event.get("isBase64Encoded"):
        event = {**event, "body": body, "isBase64Encoded": False}
    if any(k.lower() == "content-type" and "json" in v for k, v in headers.items()):
        return event
    cleaned = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    return {**event, "headers": {**cleaned, "content-type": "application/json"}}


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(base64.b64decode(body, validate=False))
    return len(body.encode("utf-8"))


def create_resolver(function: FunctionName) -> ClickportResolver:
    return ClickportResolver(function)


def current_key(app: APIGatewayHttpResolver) -> ApiKeyRecord:
    """The authenticated key of the request being handled (the site always comes from it)."""
    return app.context["api_key"]

