"""CORS for the tracker's route only (``/api/track``): any origin, no credentials."""

from __future__ import annotations

from typing import Any, Mapping

TRACK_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}
TRACK_ROUTE_KEYS = frozenset({"POST /api/track", "OPTIONS /api/track"})


def with_cors(event: Mapping[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """Add the tracker's CORS headers to every answer of the tracker's route (errors included)."""
    if event.get("routeKey") in TRACK_ROUTE_KEYS:
        response["headers"] = {**(response.get("headers") or {}), **TRACK_CORS_HEADERS}
    return response
