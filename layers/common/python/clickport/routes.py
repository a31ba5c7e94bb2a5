"""The API's routes, declared once: API Gateway (CDK), the local server and the resolvers use this table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from clickport.limits import MAX_BODY_BYTES  # noqa: F401  (re-exported: the routes' body limit)

FunctionName = Literal["event", "query", "realtime", "goals"]
Permission = Literal["read", "tracker"]



@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway syntax: /api/utm/{param}
    function: FunctionName
    permission: Permission | None  # None: no API key (the browser tracker)
    # For templated routes: the values the path parameter may take (others are unknown routes).
    known_values: frozenset[str] | None = None
    query_params: frozenset[str] = frozenset()  # any other query parameter is a 400

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_static(self) -> bool:
        return "{" not in self.path

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when ``path`` matches this route's template, else None."""
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        if not found:
            return None
        params = found.groupdict()
        if self.known_values is not None and not set(params.values()) <= self.known_values:
            return None
        return params


# The convenience breakdowns of spec §4.
BREAKDOWNS = frozenset({
    "pages", "entry-pages", "exit-pages", "sources", "channels", "referrers", "campaigns", "countries", "regions",
    "cities", "devices", "browsers", "os", "screens", "timeseries",
})
UTM_PARAMS = frozenset({"source", "medium", "campaign", "content", "term"})
BREAKDOWN_PARAMS = frozenset({"start_date", "end_date", "timezone", "limit", "offset"})

ROUTES: tuple[Route, ...] = (
    Route("POST", "/api/event", "event", "tracker"),
    Route("POST", "/api/track", "event", None),
    Route("OPTIONS", "/api/track", "event", None),
    Route("POST", "/api/query", "query", "read"),
    Route("GET", "/api/realtime", "realtime", "read"),
    Route("GET", "/api/goals", "goals", "read", query_params=frozenset({"start_date", "end_date", "timezone"})),
    Route("GET", "/api/utm/{param}", "query", "read", UTM_PARAMS, BREAKDOWN_PARAMS),
    Route("GET", "/api/{breakdown}", "query", "read", BREAKDOWNS, BREAKDOWN_PARAMS),
)

# Unmatched requests go to API Gateway's $default route, answered by this function.
DEFAULT_ROUTE_KEY = "$default"
DEFAULT_FUNCTION: FunctionName = "query"

ROUTES_BY_KEY = {r.route_key: r for r in ROUTES}


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Pick the route API Gateway would: exact paths before templated ones."""
    ordered = sorted(ROUTES, key=lambda r: (not r.is_static, -len(r.path)))
    for route in ordered:
        if route.method == method.upper():
            params = route.match(path)
            if params is not None:
                return route, params
    return None


def allowed_methods(path: str) -> list[str]:
    """Methods some route accepts on ``path`` (for 405 versus 404)."""
    return sorted({r.method for r in ROUTES if r.match(path) is not None})
