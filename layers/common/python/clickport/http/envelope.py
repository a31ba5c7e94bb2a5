"""Error envelopes: one shape, ``{"error": <reason phrase>, "message": …}``, for every status."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from clickport.errors import REASON_PHRASES

JSON_HEADERS = {"Content-Type": "application/json"}


def error_body(status: int, message: str) -> dict[str, str]:
    return {"error": REASON_PHRASES[status], "message": message}


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) response."""
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        "isBase64Encoded": False,
    }


STORE_UNAVAILABLE = "A store is unavailable; retry shortly"


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return json_response(status, error_body(status, message), headers)


def _field_path(loc: Iterable[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header"):
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def describe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """One sentence for a person from pydantic / Powertools validation errors (the first error wins)."""
    for error in errors:
        kind = error.get("type", "")
        field = _field_path(error.get("loc", ()))
        message = str(error.get("msg", "is invalid"))
        if kind in ("json_invalid", "model_attributes_type", "dict_type", "model_type") and (
            not field or kind == "json_invalid"
        ):
            return "The request body must be a JSON object"
        if kind == "extra_forbidden":
            if field == "site_id":
                return "Unknown field 'site_id': the site comes from the API key"
            return f"Unknown field '{field}'"
        if kind == "missing":
            return f"Field '{field}' is required"
        for prefix in ("Value error, ", "Assertion failed, "):
            if message.startswith(prefix):
                message = message[len(prefix):]
        return f"Invalid field '{field}': {message}" if field else message
    return "The request is invalid"
