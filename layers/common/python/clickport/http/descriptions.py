"""What the API's names mean, for people: one description per metric, dimension, period, filter operator,
report endpoint and status. The OpenAPI document (``openapi.py``) and the API reference (``reference.py``,
``docs/api-reference.md``) both read these tables; a test keeps their keys equal to the registries the
validators use (``query/metrics.py``, ``dimensions.py``, ``periods.py``, ``filters.py``, ``convenience.py``,
``errors.py``), so a new name without a description fails it.
"""

from __future__ import annotations

from clickport.limits import MAX_PATTERN_LENGTH, MAX_PROP_KEY

# The semantics the query path implements (docs/query.md has how).
METRIC_DESCRIPTIONS: dict[str, str] = {
    "visitors": "distinct visitor ids; ids rotate daily, so over several days a person counts once per day",
    "sessions": "distinct sessions holding at least one counted event (pageview, custom, click or form)",
    "pageviews": "counted pageview events",
    "views_per_visit": "pageviews / sessions",
    "bounce_rate": "among sessions with at least one pageview, the percentage with exactly one (0 to 100)",
    "avg_duration": "mean session duration in seconds (last event − first event; every session counts, 0 "
                    "included)",
    "avg_scroll": "mean, over page visits, of the page visit's greatest scroll depth (0 to 100); page visits "
                  "that never reported scroll are left out",
    "clickers": "sessions with at least one counted click event",
    "events": "counted events of every type (engagement updates are not events)",
    "conversions": "counted events that match a goal, each once (with a `goal` dimension: once per goal "
                   "matched)",
    "conversion_rate": "converting visitors / visitors of the same query with every `goal` filter removed × "
                       "100",
    "total_revenue": "revenue of converting events per currency, e.g. `{\"USD\": 49.99}` (`{}` when none)",
}

DIMENSION_DESCRIPTIONS: dict[str, str] = {
    "source": "a known referrer's name (`google`, `bing`, `chatgpt`, …), another external referrer's host "
              "without `www.`, else `utm_source`, else `Direct`",
    "channel": "GA4's default channel grouping, decided at ingest (`Direct`, `Organic Search`, `Paid Search`, "
               "`Organic Social`, `Email`, `AI Search`, `Referral`, …)",
    "referrer_url": "the external referrer's scheme, host and path (no query, no fragment)",
    "utm_source": "`utm_source` of the event body, else of the URL's query string",
    "utm_medium": "`utm_medium` of the event body, else of the URL's query string",
    "utm_campaign": "`utm_campaign` of the event body, else of the URL's query string",
    "utm_content": "`utm_content` of the event body, else of the URL's query string",
    "utm_term": "`utm_term` of the event body, else of the URL's query string",
    "page": "the URL's path as sent, without query string or fragment (an empty path is `/`)",
    "entry_page": "the path of the session's first pageview",
    "exit_page": "the path of the session's last pageview",
    "country": "ISO 3166-1 alpha-2 code (`DE`)",
    "region": "ISO 3166-2 code (`DE-BE`)",
    "city": "city name",
    "device": "`Desktop`, `Mobile` or `Tablet`: from `screen_width` when sent (below 576 Mobile, below 992 "
              "Tablet), else from the User-Agent",
    "screen": "`Desktop`, `Mobile` or `Tablet` from `screen_width` alone",
    "browser": "normalised browser name (`Chrome`, `Safari`, `Firefox`, `Edge`, `Samsung Internet`, …)",
    "os": "normalised operating system (`Windows`, `macOS`, `iOS`, `Android`, `Linux`, `ChromeOS`, …)",
    "browser_version": "the browser's major version (`\"131\"`)",
    "os_version": "the operating system's major version (`\"17\"`)",
    "hour": "`YYYY-MM-DD HH:00`, wall-clock hour in `timezone`",
    "date": "`YYYY-MM-DD` in `timezone`",
    "week": "the week's Monday, `YYYY-MM-DD`, in `timezone`",
    "month": "`YYYY-MM` in `timezone`",
    "hostname": "the page's host, lower case, no port",
    "event_type": "`pageview`, `custom`, `click` or `form`",
    "event_name": "`name` of custom events; for click and form events `name` if sent, else the type; "
                  "`pageview` for pageviews",
    "goal": "the name of a goal the event matches (goals match at query time, so they apply to past data)",
}
PROP_DESCRIPTION = (f"the value of custom property `<key>` (from `meta_keys`/`meta_values`; key 1 "
                    f"to {MAX_PROP_KEY} characters)")

PERIOD_DESCRIPTIONS: dict[str, tuple[str, str]] = {  # name: (range, the comparison's range)
    "realtime": ("the last 30 minutes", "the 30 minutes before"),
    "24h": ("the last 24 hours", "the 24 hours before"),
    "today": ("today 00:00 → now", "yesterday, up to the same time of day"),
    "yesterday": ("the whole of yesterday", "the day before"),
    "7d": ("the last 7 days including today: (today − 6) 00:00 → now", "the 7 days before, up to the same "
           "elapsed time"),
    "14d": ("the last 14 days including today", "the 14 days before, up to the same elapsed time"),
    "30d": ("the last 30 days including today", "the 30 days before, up to the same elapsed time"),
    "90d": ("the last 90 days including today", "the 90 days before, up to the same elapsed time"),
    "12m": ("the 1st of the month 11 months ago → now", "the 12 months before, up to the same elapsed time"),
    "month": ("this month to date", "the previous month, up to the same elapsed time"),
    "year": ("this year to date", "the previous year, up to the same elapsed time"),
    "last_month": ("the whole previous month", "the month before it, up to the same elapsed time"),
    "all": ("the site's first event's day → now", "none: `\"comparison\": null`"),
}

OPERATOR_DESCRIPTIONS: dict[str, str] = {
    "is": "the shown value equals the value (an array: any of them)",
    "is_not": "the shown value equals none of the values",
    "contains": "the shown value contains the value, case-insensitive (an array: any of them)",
    "not_contains": "the shown value contains none of the values, case-insensitive",
    "matches": f"an unanchored, case-sensitive RE2 search in the portable pattern language, at most "
               f"{MAX_PATTERN_LENGTH} characters (an array: any of them)",
    "not_matches": "no pattern of the values matches",
}

# GET /api/<name> and /api/utm/<param>, by their preset's name (query/convenience.py PRESETS).
REPORT_DESCRIPTIONS: dict[str, str] = {
    "pages": "top pages",
    "entry-pages": "pages where sessions start",
    "exit-pages": "pages where sessions end",
    "sources": "traffic sources",
    "channels": "marketing channels",
    "referrers": "referring URLs",
    "campaigns": "UTM campaigns",
    "utm/source": "`utm_source` values",
    "utm/medium": "`utm_medium` values",
    "utm/campaign": "`utm_campaign` values",
    "utm/content": "`utm_content` values",
    "utm/term": "`utm_term` values",
    "countries": "countries",
    "regions": "regions",
    "cities": "cities",
    "devices": "device classes",
    "browsers": "browsers",
    "os": "operating systems",
    "screens": "screen classes",
    "timeseries": "visitors over time: by `date`, or by `hour` when the range is one local day; every bucket "
                  "from the range start up to now, in time order",
}

# Every status of errors.REASON_PHRASES: when the API answers it.
STATUS_DESCRIPTIONS: dict[int, str] = {
    400: "the body is not a JSON object or fails validation, an unknown field or query parameter, a missing "
         "User-Agent on events; the message names the field and, for names, lists the valid ones",
    401: "no key, an unknown key or a revoked key (always the same answer)",
    403: "the key lacks the permission the endpoint needs (`read` or `tracker`)",
    404: "an unknown route (also a report name that is not listed)",
    405: "a known path with another method (the `Allow` header lists the methods)",
    408: "local server: the request did not arrive in time",
    411: "local server: a body without a length",
    413: "the body is larger than the limit (see docs/limits.md)",
    414: "local server: the request target is too long",
    431: "local server: the request headers are too large",
    500: "a bug; the message carries a request id (the log line's correlation id), never a stack trace",
    501: "a route that exists but is not built yet",
    503: "a store, the event sink or the query engine is unavailable or throttling; try again",
    504: "the query engine did not answer in time",
    505: "local server: only HTTP/1.0 and HTTP/1.1 are spoken",
}

# Goal types and the count key each has in GET /api/goals (query/goals.py COUNT_KEYS).
GOAL_TYPE_DESCRIPTIONS: dict[str, str] = {
    "pageview": "a path pattern on the whole path, case-sensitive; `*` matches any run of characters",
    "click": "a click's `click_url`, its host without `www.`, or `click_text`",
    "form": "a form submission's `form_id` or `form_name`",
    "custom": "a custom event's name, optionally narrowed by one property value",
}

PERMISSION_DESCRIPTIONS: dict[str | None, str] = {
    "read": "an API key with the `read` permission (`x-api-key` header)",
    "tracker": "an API key with the `tracker` permission (`x-api-key` header)",
    None: "no key: the site is found by the body's `domain`, as the browser tracker sends it",
}


def _query_defaults() -> dict[str, object]:
    from clickport.query.models import DEFAULT_LIMIT
    from clickport.query.validation import DEFAULT_PERIOD, DEFAULT_TIMEZONE

    return {"metrics": ["visitors"], "period": DEFAULT_PERIOD, "filters": [], "limit": DEFAULT_LIMIT, "offset": 0,
            "timezone": DEFAULT_TIMEZONE, "include_comparison": False, "order_dir": "desc"}


# The value a field of POST /api/query takes when it is absent (a test checks them against the query plan).
QUERY_DEFAULTS: dict[str, object] = _query_defaults()

# Fields of the request bodies, by schema; a model's own description (ingest/models.py) comes first.
FIELD_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "QueryRequest": {
        "metrics": "what to count (see Metrics); no duplicates",
        "dimensions": "what to group by (see Dimensions); at most one time dimension, no duplicates; none or `[]` "
                      "gives one aggregate object",
        "period": "a named range relative to now (see Periods); ignored when `date_range` is given",
        "date_range": "local dates in `timezone`, the end exclusive and after the start",
        "filters": "conditions that all must hold (AND)",
        "order_by": "a requested metric or dimension; default: the first metric (a sole time dimension: time "
                    "order)",
        "order_dir": "`asc` or `desc`; default `desc` (`asc` for a sole time dimension without `order_by`); "
                     "ties go by the dimension values, ascending",
        "limit": "rows to return (a sole time dimension without `limit`: every bucket)",
        "offset": "rows to skip",
        "timezone": "the IANA zone of periods, dates and time buckets",
        "include_comparison": "also run the query over the previous period and give the change",
    },
    "FilterModel": {
        "dimension": "any dimension but the time dimensions (see Dimensions), or `prop:<key>`; compared with the "
                     "shown value (`(none)`, `Direct` included)",
        "operator": "see Filter operators",
        "value": "a non-empty string or a non-empty array of them",
    },
    "DateRangeModel": {"start": "the first local day, YYYY-MM-DD", "end": "the day after the last, YYYY-MM-DD"},
    "EventRequest": {
        "type": "the event type; `engagement` updates a page visit (needs `session_id` and `page_visit_id`, "
                "takes only `scroll` and `engaged_ms` besides)",
        "referrer": "the referring URL",
        "utm_source": "campaign source; else read from the URL's query string",
        "utm_medium": "campaign medium; else read from the URL's query string",
        "utm_campaign": "campaign name; else read from the URL's query string",
        "utm_content": "campaign content; else read from the URL's query string",
        "utm_term": "campaign term; else read from the URL's query string",
        "screen_width": "viewport width in pixels (device class)",
        "meta_keys": "custom property names, unique",
        "session_id": "continue a session this site issued (else the visitor's latest session, or a new one)",
        "page_visit_id": "the page visit an engagement update belongs to (16 hex characters)",
        "scroll": "greatest scroll depth in percent; on pageview and engagement only",
        "engaged_ms": "visible time in milliseconds; on pageview and engagement only",
    },
}
