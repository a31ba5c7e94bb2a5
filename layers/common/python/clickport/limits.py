"""Every bound on what a client may send or ask for, declared once.

The request models (and through them the OpenAPI document), the body guard, query validation
and import use these constants; ``docs/limits.md`` is generated from ``LIMITS``
(``make openapi``; a test keeps it from drifting).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """One bound: where it applies, its value as people read it, and what happens beyond it."""

    applies_to: str
    value: str
    note: str = ""


LIMITS: list[tuple[str, Limit]] = []  # (section, limit), in the order the docs list them


def _limit(section: str, applies_to: str, value, shown: str, note: str = ""):
    """Declare a numeric limit and return its value."""
    LIMITS.append((section, Limit(applies_to, shown, note)))
    return value


def _rule(section: str, applies_to: str, shown: str, note: str = "") -> None:
    """Declare a limit that is a rule rather than a number."""
    LIMITS.append((section, Limit(applies_to, shown, note)))


# --- every request ---------------------------------------------------------------------------------
HTTP = "Every request"
MAX_BODY_BYTES = _limit(HTTP, "request body", 512 * 1024, "512 KiB", "413 beyond")
MAX_JSON_DEPTH = _limit(HTTP, "nesting of the JSON body (objects and arrays)", 32, "32 levels")
MAX_NUMBER_CHARS = _limit(HTTP, "a number in the JSON body", 100, "100 characters")
_rule(HTTP, "text in the JSON body", "valid Unicode",
      "a lone UTF-16 surrogate escape such as `\\ud800` is a 400 naming the field")
_rule(HTTP, "`NaN`, `Infinity`", "not JSON")

# --- POST /api/event and /api/track ----------------------------------------------------------------
EVENTS = "Events: `POST /api/event`, `POST /api/track`, `clickport import`"
MAX_URL_LENGTH = _limit(EVENTS, "`url`, `referrer`", 2000, "2,000 characters")
MAX_EVENT_NAME_LENGTH = _limit(EVENTS, "`name`", 200, "1 to 200 characters")
MAX_UTM_LENGTH = _limit(EVENTS, "`utm_source`, `utm_medium`, `utm_campaign`, `utm_content`, `utm_term`", 500,
                        "500 characters")
MAX_SCREEN_WIDTH = _limit(EVENTS, "`screen_width`", 20_000, "0 to 20,000")
MAX_ZONE_LENGTH = _limit(EVENTS, "`timezone`", 64, "an IANA zone name of the pinned tz database (≤ 64 characters)")
MAX_REVENUE_AMOUNT = _limit(EVENTS, "`revenue_amount`", 1_000_000_000, "0 to 1,000,000,000",
                            "only on `custom` events; finite")
REVENUE_DECIMALS = _limit(EVENTS, "`revenue_amount` precision", 6, "6 decimals",
                          "kept in micro-units; finer digits are rounded half away from zero")
MAX_REVENUE_MICROS = MAX_REVENUE_AMOUNT * 10**REVENUE_DECIMALS
MAX_META_KEYS = _limit(EVENTS, "`meta_keys`, `meta_values`", 30, "30 entries", "unique keys, the same length")
MAX_META_KEY_LENGTH = _limit(EVENTS, "each of `meta_keys`", 100, "1 to 100 characters")
MAX_META_VALUE_LENGTH = _limit(EVENTS, "each of `meta_values`", 2000, "2,000 characters",
                               "strings, numbers or booleans, counted as stored text")
MAX_SAFE_INTEGER = _limit(EVENTS, "`session_id`", 2**53 - 1, "1 to 2^53 − 1")
MAX_SCROLL = _limit(EVENTS, "`scroll`", 100, "0 to 100")
MAX_ENGAGED_MS = _limit(EVENTS, "`engaged_ms`", 7 * 24 * 3600 * 1000, "0 to 604,800,000 (7 days)")
MAX_DOMAIN_LENGTH = _limit(EVENTS, "`domain` (`/api/track`)", 253, "1 to 253 characters")
MAX_USER_AGENT = _limit(EVENTS, "`User-Agent` header, `user_agent` (import)", 1000, "1,000 characters")

# --- POST /api/query and the GET breakdowns ---------------------------------------------------------
QUERY = "Queries: `POST /api/query`, `GET /api/<breakdown>`, `GET /api/goals`"
MAX_METRICS = _limit(QUERY, "`metrics`", 12, "1 to 12", "no duplicates")
MAX_DIMENSIONS = _limit(QUERY, "`dimensions`", 3, "3", "at most one time dimension, no duplicates")
MAX_NAME_LENGTH = _limit(QUERY, "a metric, dimension or `order_by` name", 120, "120 characters")
MAX_PROP_KEY = _limit(QUERY, "the key of a `prop:<key>` dimension", 100, "1 to 100 characters")
MAX_FILTERS = _limit(QUERY, "`filters`", 20, "20")
MAX_FILTER_VALUES = _limit(QUERY, "values of one filter", 100, "1 to 100")
MAX_VALUE_LENGTH = _limit(QUERY, "a filter value", 2000, "1 to 2,000 characters")
MAX_PATTERN_LENGTH = _limit(QUERY, "a `matches` / `not_matches` pattern", 500, "500 characters",
                            "in the portable pattern language (below)")
MAX_LIMIT = _limit(QUERY, "`limit`", 10_000, "1 to 10,000")
MAX_OFFSET = _limit(QUERY, "`offset`", 1_000_000_000, "0 to 1,000,000,000")
MAX_RANGE_DAYS = _limit(QUERY, "`date_range`, `start_date`…`end_date`", 3660, "3,660 days",
                        "dates from 1900-01-01 to 9998-12-31, the end after the start")
MAX_ANSWER_VALUES = _limit(
    QUERY, "size of an answer: rows × periods × (dimensions + metrics)", 125_000, "125,000 values",
    "rows: 1 for an aggregate, else `limit` (default 100); for a sole time dimension every bucket the range "
    "spans (at most `limit` when given); periods: 2 with a comparison, else 1. Checked before the query runs "
    "(about 31 bytes a value with a comparison: under 4 MB)",
)
MAX_ANSWER_BYTES = _limit(QUERY, "an answer's JSON, as Lambda carries it (escaped)", 4_500_000, "4,500,000 bytes",
                          "Lambda's limit is 6 MB; checked after the query ran, for answers whose values are long "
                          "texts (pages, properties) or many currencies")

# --- clickport import --------------------------------------------------------------------------------
IMPORT = "Import: `clickport import`"
MAX_LINE_BYTES = _limit(IMPORT, "an NDJSON line", 1 << 20, "1 MiB", "a rejected line")
MAX_CITY_LENGTH = _limit(IMPORT, "`city`", 200, "1 to 200 characters")
_rule(IMPORT, "`timestamp`", "ISO 8601 with `Z` or an offset", "not in the future")
_rule(IMPORT, "`country`, `region`", "ISO 3166-1 alpha-2, ISO 3166-2", "`DE`, `DE-BE`")
_rule(IMPORT, "`--format parquet` rows", "the event schema's types and the bounds above",
      "`revenue_micros` 0 to 10^15, `seq` and `visitor_id` 63-bit, text as for events")


def limits_markdown() -> str:
    """docs/limits.md: every limit, by section."""
    lines = [
        "# Limits",
        "",
        "Every bound on what a client may send or ask for. Each is declared once, in",
        "`layers/common/python/clickport/limits.py`; the request models (so the OpenAPI document), the",
        "validators and import use it, and this page is generated from it (`make openapi`).",
        "Beyond a limit the answer is `400 {\"error\": \"Bad Request\", \"message\": …}` naming the field and",
        "the bound (413 for the body size); nothing is stored.",
    ]
    section = None
    for name, limit in LIMITS:
        if name != section:
            section = name
            lines += ["", f"## {section}", "", "| what | limit | notes |", "|---|---|---|"]
        lines.append(f"| {limit.applies_to} | {limit.value} | {limit.note} |")
    from clickport.query import patterns

    lines += ["", "## The portable pattern language of `matches`", "", patterns.__doc__.strip()]
    return "\n".join(lines) + "\n"


def main() -> None:
    from clickport.cli.output import write_generated

    write_generated("list of limits", limits_markdown)


if __name__ == "__main__":
    main()
