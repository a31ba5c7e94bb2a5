"""Convenience breakdowns (spec §4): each is a preset ``POST /api/query`` body built from query parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from clickport.errors import BadRequest, NotFound
from clickport.query.models import MAX_LIMIT, MAX_OFFSET, SITE_FROM_KEY
from clickport.query.validation import check_timezone, parse_dates

PARAMETERS = ("start_date", "end_date", "timezone", "limit", "offset")
REQUIRED_PARAMETERS = ("start_date", "end_date")  # here and on GET /api/goals
UTM_PARAMETERS = ("source", "medium", "campaign", "content", "term")
TIMESERIES = "timeseries"


@dataclass(frozen=True)
class Preset:
    dimension: str
    metrics: tuple[str, ...]


_PAGE = ("visitors", "pageviews", "avg_scroll", "avg_duration")
_ENTRY_EXIT = ("visitors", "sessions", "bounce_rate")
_SOURCES = ("visitors", "sessions", "bounce_rate", "avg_duration")
_PLACES = ("visitors", "sessions")
_TECHNOLOGY = ("visitors", "sessions", "bounce_rate")

PRESETS: dict[str, Preset] = {
    "pages": Preset("page", _PAGE),
    "entry-pages": Preset("entry_page", _ENTRY_EXIT),
    "exit-pages": Preset("exit_page", _ENTRY_EXIT),
    "sources": Preset("source", _SOURCES),
    "channels": Preset("channel", _SOURCES),
    "referrers": Preset("referrer_url", _SOURCES),
    "campaigns": Preset("utm_campaign", _ENTRY_EXIT),
    **{f"utm/{p}": Preset(f"utm_{p}", _ENTRY_EXIT) for p in UTM_PARAMETERS},
    "countries": Preset("country", _PLACES),
    "regions": Preset("region", _PLACES),
    "cities": Preset("city", _PLACES),
    "devices": Preset("device", _TECHNOLOGY),
    "browsers": Preset("browser", _TECHNOLOGY),
    "os": Preset("os", _TECHNOLOGY),
    "screens": Preset("screen", _TECHNOLOGY),
    # The dimension is ``date``, or ``hour`` when the range is one local day.
    TIMESERIES: Preset("date", ("visitors", "pageviews", "sessions", "bounce_rate", "avg_duration")),
}


def check_parameters(params: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    if "site_id" in params:
        raise BadRequest(SITE_FROM_KEY)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadRequest(f"Unknown query parameter '{unknown[0]}'. Valid parameters: {', '.join(allowed)}")


def required_dates(params: Mapping[str, str]):
    """The (start, end) local dates of ``start_date``/``end_date``: both required, as ``date_range`` checks them."""
    for name in REQUIRED_PARAMETERS:
        if not params.get(name):
            raise BadRequest(f"{name} is required (YYYY-MM-DD)")
    return parse_dates(params["start_date"], params["end_date"], ("start_date", "end_date"))


def _integer(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise BadRequest(f"{name} must be an integer between {low} and {high}")
    return int(text)


def preset_body(name: str, params: Mapping[str, str]) -> dict[str, Any]:
    """The ``POST /api/query`` body of ``GET /api/<name>``; ``NotFound`` for an unknown name."""
    preset = PRESETS.get(name)
    if preset is None:
        raise NotFound(f"Unknown endpoint /api/{name}")
    check_parameters(params, PARAMETERS)
    start, end = required_dates(params)
    zone_name = params.get("timezone") or "UTC"
    check_timezone(zone_name)
    dimension = preset.dimension
    if name == TIMESERIES and (end - start).days == 1:
        dimension = "hour"
    body: dict[str, Any] = {
        "metrics": list(preset.metrics),
        "dimensions": [dimension],
        "date_range": {"start": start.isoformat(), "end": end.isoformat()},
        "timezone": zone_name,
    }
    limit = _integer(params, "limit", 1, MAX_LIMIT)
    offset = _integer(params, "offset", 0, MAX_OFFSET)
    if limit is not None:
        body["limit"] = limit
    if offset is not None:
        body["offset"] = offset
    return body
