"""The OpenAPI document, generated from the four functions' routes; committed as docs/openapi.json.

On top of what Powertools derives from the handlers it states what the validators enforce (enums, bounds,
required parameters), the statuses each route answers with real error messages, the answers' schemas from
the metric and dimension registries, what every name means (``descriptions.py``), and a worked example for
every input and answer (``examples.py``: valid against the demo data, so every "Try it out" of /api/docs
answers with numbers). ``reference.py`` writes docs/api-reference.md from this document.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from clickport import __version__
from clickport.errors import REASON_PHRASES, ApiError
from clickport.http import examples
from clickport.http.descriptions import (
    DIMENSION_DESCRIPTIONS,
    FIELD_DESCRIPTIONS,
    METRIC_DESCRIPTIONS,
    OPERATOR_DESCRIPTIONS,
    PERIOD_DESCRIPTIONS,
    PERMISSION_DESCRIPTIONS,
    PROP_DESCRIPTION,
    QUERY_DEFAULTS,
    REPORT_DESCRIPTIONS,
    STATUS_DESCRIPTIONS,
)
from clickport.ingest.models import CURRENCY_PATTERN
from clickport.limits import MAX_BODY_BYTES, MAX_LIMIT, MAX_OFFSET
from clickport.local.functions import FUNCTION_NAMES, load_function
from clickport.query.convenience import PRESETS, REQUIRED_PARAMETERS
from clickport.query.dimensions import DIMENSION_NAMES, DIMENSIONS, PROP_PREFIX
from clickport.query.goals import COUNT_KEYS
from clickport.query.metrics import METRICS
from clickport.query.models import DATE_PATTERN, DEFAULT_LIMIT
from clickport.query.zones import TIME_ZONE_FORMAT, time_zone_component
from clickport.routes import ROUTES_BY_KEY, Route

TITLE = "Clickport-compatible analytics API"
INFO = ("Every example below answers with data on the demo site (`make dev`, or `clickport serve --demo`): "
        "choose Authorize, paste the key the server printed, then Try it out. The written reference, with the "
        "meaning of every metric, dimension, period and operator, is `docs/api-reference.md` in the repository, "
        "generated from the same declarations as this document.")
_SWAGGER_DIR = "aws_lambda_powertools/event_handler/openapi/swagger_ui"


ERROR_SCHEMA = {
    "type": "object",
    "title": "Error",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "the status's reason phrase", "enum": list(REASON_PHRASES.values())},
        "message": {"type": "string", "description": "what was wrong, for a person"},
    },
}


TIME_ZONE_REF = {"$ref": "#/components/schemas/TimeZone"}
_DATE = {"type": "string", "format": "date", "pattern": DATE_PATTERN, "minLength": 10, "maxLength": 10}
# The query parameters of the GET routes as their validators read them (query/convenience.py, query/goals.py).
QUERY_PARAMETERS: dict[str, tuple[dict, str]] = {
    "start_date": (_DATE, "the first local day, YYYY-MM-DD"),
    "end_date": (_DATE, "the day after the last, YYYY-MM-DD (exclusive)"),
    "timezone": (TIME_ZONE_REF, "an IANA zone name; default UTC"),
    "limit": ({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, f"rows to return; default {DEFAULT_LIMIT}"),
    "offset": ({"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}, "rows to skip; default 0"),
}


def _zones_as_one_schema(node) -> None:
    """Every zone-name schema of the models points at the one ``TimeZone`` enum."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and value.get("format") == TIME_ZONE_FORMAT:
                node[key] = {**TIME_ZONE_REF, **({"description": value["description"]} if "description" in value else {})}
            else:
                _zones_as_one_schema(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, dict) and value.get("format") == TIME_ZONE_FORMAT:
                node[index] = dict(TIME_ZONE_REF)
            else:
                _zones_as_one_schema(value)


def _document_inputs(path: str, method: str, operation: dict) -> None:
    """State what the validators enforce where the handlers' signatures leave it open: the parameters'
    types, bounds and required dates, the path parameters' allowed values, and a body that is an object."""
    route = ROUTES_BY_KEY.get(f"{method} {path}")
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] == "path" and route is not None and route.known_values is not None:
            parameter["schema"] = {"type": "string", "enum": sorted(route.known_values)}
        elif parameter["in"] == "query" and name in QUERY_PARAMETERS:
            schema, description = QUERY_PARAMETERS[name]
            parameter["schema"] = dict(schema)
            parameter["description"] = description
            parameter["required"] = name in REQUIRED_PARAMETERS
    body = operation.get("requestBody")
    if body is not None:
        content = body["content"]["application/json"]
        variants = content["schema"].get("anyOf")
        if variants:  # an optional body is absent or an object, never JSON null
            content["schema"] = next(v for v in variants if v.get("type") != "null")
            body["required"] = False
            body["description"] = "a JSON object; an empty body means {}"


def _document_errors(path: str, method: str, operation: dict) -> None:
    """Replace Powertools' default 422 with the statuses this API really answers."""
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    if "204" in responses:
        responses["204"].pop("content", None)  # no body
    route = ROUTES_BY_KEY.get(f"{method} {path}")
    statuses = [400, 404, 405, 500, 503]
    if method == "POST":
        statuses.append(413)
    if route is None or route.permission is not None:
        statuses += [401, 403]
    else:
        operation["security"] = []
    if route is not None and route.function == "query":
        statuses.append(504)
    for status in sorted(statuses):
        phrase = {"type": "object", "properties": {"error": {"const": REASON_PHRASES[status]}}}
        responses[str(status)] = {
            "description": f"{REASON_PHRASES[status]}: {STATUS_DESCRIPTIONS[status]}",
            "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Error"}, phrase]}}},
        }
    operation["responses"] = dict(sorted(responses.items()))  # by status, whatever Powertools listed first


# --- what the answers look like, from the metric and dimension registries ------------------------------

def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _metric_schema(name: str) -> dict:
    metric = METRICS[name]
    if metric.kind == "revenue":
        schema = _ref("Revenue")
    elif metric.decimals == 0:
        schema = {"type": "integer", "minimum": 0}
    else:
        schema = {"type": "number", "minimum": 0}
    return {**schema, "description": METRIC_DESCRIPTIONS[name]} if "$ref" not in schema else schema


def _change_schema(name: str) -> dict:
    metric = METRICS[name]
    if metric.change == "per_currency":
        return {"type": "object", "propertyNames": {"pattern": CURRENCY_PATTERN},
                "additionalProperties": {"type": ["number", "null"]},
                "description": "relative change in percent per currency (null when the previous amount was 0)"}
    if metric.change == "points":
        return {"type": "number", "description": "the difference in points"}
    return {"type": ["number", "null"], "description": "relative change in percent, 1 decimal (null when the "
                                                         "previous value was 0)"}


def _metric_values(title: str, extra: dict | None = None) -> dict:
    return {"type": "object", "title": title, "properties": {**(extra or {}),
                                                            **{m: _metric_schema(m) for m in METRICS}},
            "additionalProperties": False}


_LABEL = {"type": "string"}
_TIME_NAMES = [name for name in DIMENSION_NAMES if DIMENSIONS[name].is_time]


def response_schemas() -> dict[str, dict]:
    """The answers of the query, report and goals routes (their handlers return plain JSON)."""
    row_comparison = _metric_values(
        "RowComparison", {name: {**_LABEL, "description": "the paired bucket of the previous period"}
                          for name in _TIME_NAMES})
    row = {
        "type": "object", "title": "Row",
        "description": "one group: its dimension values, then its metrics, in request order",
        "properties": {
            **{name: {**_LABEL, "description": DIMENSION_DESCRIPTIONS[name]} for name in DIMENSION_NAMES},
            **{m: _metric_schema(m) for m in METRICS},
            "comparison": _ref("RowComparison"),
            "change": _ref("MetricChanges"),
        },
        "patternProperties": {f"^{PROP_PREFIX}": {**_LABEL, "description": PROP_DESCRIPTION}},
        "additionalProperties": False,
    }
    date_range = {
        "type": "object", "title": "ResolvedRange", "required": ["start", "end"], "additionalProperties": False,
        "description": "ISO 8601 instants with the zone's offset; the end is exclusive",
        "properties": {"start": {"type": "string", "format": "date-time"},
                       "end": {"type": "string", "format": "date-time"}},
    }
    meta = {
        "type": "object", "title": "QueryMeta", "required": ["date_range", "timezone"], "additionalProperties": False,
        "properties": {"date_range": _ref("ResolvedRange"), "timezone": TIME_ZONE_REF,
                       "total_rows": {"type": "integer", "minimum": 0,
                                      "description": "breakdowns: rows before limit and offset"}},
    }
    aggregate = {
        "type": "object", "title": "AggregateResponse", "required": ["results", "meta"],
        "additionalProperties": False, "description": "no dimensions: one object of metrics",
        "properties": {
            "results": _ref("MetricValues"),
            "comparison": {"anyOf": [{"type": "null"}, {
                "type": "object", "required": ["date_range", "results", "change"], "additionalProperties": False,
                "properties": {"date_range": _ref("ResolvedRange"), "results": _ref("MetricValues"),
                               "change": _ref("MetricChanges")}}],
                "description": "with include_comparison: the previous period (null for period all)"},
            "meta": _ref("QueryMeta"),
        },
    }
    breakdown = {
        "type": "object", "title": "BreakdownResponse", "required": ["results", "meta"],
        "additionalProperties": False, "description": "with dimensions: one row per group",
        "properties": {
            "results": {"type": "array", "items": _ref("Row")},
            "comparison": {"anyOf": [{"type": "null"}, {
                "type": "object", "required": ["date_range"], "additionalProperties": False,
                "properties": {"date_range": _ref("ResolvedRange")}}],
                "description": "with include_comparison: the previous period's range (null for period all)"},
            "meta": {"allOf": [_ref("QueryMeta"), {"required": ["total_rows"]}]},
        },
    }
    goal = {
        "type": "object", "title": "GoalConversions", "required": ["id", "name", "type", "visitors"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1}, "name": {"type": "string"},
            "type": {"type": "string", "enum": list(COUNT_KEYS)},
            "visitors": {"type": "integer", "minimum": 0, "description": "distinct converting visitors"},
            **{key: {"type": "integer", "minimum": 0, "description": f"conversions of a {kind} goal"}
               for kind, key in COUNT_KEYS.items()},
            "revenue_by_currency": _ref("Revenue"),
            "total_revenue": {"type": "number", "minimum": 0, "description": "when all revenue is in one currency"},
            "currency": {"type": "string", "pattern": CURRENCY_PATTERN},
        },
    }
    return {
        "Revenue": {"type": "object", "title": "Revenue", "propertyNames": {"pattern": CURRENCY_PATTERN},
                    "additionalProperties": {"type": "number", "minimum": 0},
                    "description": "amounts per ISO 4217 currency, 2 decimals"},
        "MetricValues": _metric_values("MetricValues"),
        "MetricChanges": {"type": "object", "title": "MetricChanges", "additionalProperties": False,
                          "properties": {m: _change_schema(m) for m in METRICS}},
        "RowComparison": row_comparison,
        "Row": row,
        "ResolvedRange": date_range,
        "QueryMeta": meta,
        "AggregateResponse": aggregate,
        "BreakdownResponse": breakdown,
        "QueryResponse": {"title": "QueryResponse", "oneOf": [_ref("AggregateResponse"), _ref("BreakdownResponse")]},
        "GoalConversions": goal,
        "GoalsResponse": {"type": "object", "title": "GoalsResponse", "required": ["goals"],
                          "additionalProperties": False,
                          "properties": {"goals": {"type": "array", "items": _ref("GoalConversions"),
                                                   "description": "every goal of the site, by id"}}},
    }


# The success answer's schema of the routes whose handlers return plain JSON.
SUCCESS_SCHEMAS = {"POST /api/query": "QueryResponse", "GET /api/{breakdown}": "BreakdownResponse",
                   "GET /api/utm/{param}": "BreakdownResponse", "GET /api/goals": "GoalsResponse"}
TAGS = {"query": "Stats", "goals": "Goals", "realtime": "Realtime", "event": "Events"}  # in the order shown
TAG_DESCRIPTIONS = {"Stats": "metrics over time, grouped and filtered; the reports", "Goals": "conversions per goal",
                    "Realtime": "visitors active now", "Events": "sending events: from a server or the tracker"}


def _named(items) -> dict:
    return {name: {"summary": summary, "value": value} for name, summary, value in items}


def _table(rows: list[tuple[str, str]]) -> str:
    return "\n".join(f"- `{name}`: {text}" for name, text in rows)


def _report_table(names) -> str:
    return "\n".join(f"- `{name.split('/')[-1]}`: {REPORT_DESCRIPTIONS[name]} — dimension "
                     f"`{PRESETS[name].dimension}`, metrics {', '.join(PRESETS[name].metrics)}" for name in names)


def operation_texts(route: Route) -> tuple[str, str]:
    """(summary, description) of a route's operation: its intro, and for the query the names it takes."""
    summary, intro = operation_intro(route)
    if route.route_key != "POST /api/query":
        return summary, intro
    return summary, "\n\n".join([
        intro,
        "Metrics:\n" + _table([(m, METRIC_DESCRIPTIONS[m]) for m in METRICS]),
        "Dimensions:\n" + _table([(d, DIMENSION_DESCRIPTIONS[d]) for d in DIMENSION_NAMES]
                                 + [(f"{PROP_PREFIX}<key>", PROP_DESCRIPTION)]),
        "Periods (ignored when `date_range` is given):\n" + _table(
            [(p, f"{r}; comparison: {c}") for p, (r, c) in PERIOD_DESCRIPTIONS.items()]),
        "Filter operators (several filters combine with AND):\n" + _table(list(OPERATOR_DESCRIPTIONS.items())),
    ])


def operation_intro(route: Route) -> tuple[str, str]:
    """(summary, what the operation does and which key it needs)."""
    key = route.route_key
    permission = f"Key: {PERMISSION_DESCRIPTIONS[route.permission]}."
    if key == "POST /api/query":
        return "Query metrics, grouped and filtered", (
            f"{permission}\n\nEvery field is optional; an empty body means `{{}}` (visitors today, UTC). No "
            "dimensions: one object of metrics; with dimensions: one row per group.")
    if key == "GET /api/{breakdown}":
        names = [n for n in PRESETS if not n.startswith("utm/")]
        return "A report: one dimension, preset metrics", "\n\n".join([
            permission, "`POST /api/query` with one dimension and preset metrics over "
            "`[start_date, end_date)`, ordered by the first metric, descending:", _report_table(names)])
    if key == "GET /api/utm/{param}":
        names = [n for n in PRESETS if n.startswith("utm/")]
        return "A report of one UTM parameter", "\n\n".join([permission, _report_table(names)])
    if key == "GET /api/goals":
        return "Conversions per goal", (f"{permission}\n\nEvery goal of the site, by id, with its converting "
                                        "visitors and conversions over `[start_date, end_date)`; revenue when "
                                        "there is some.")
    if key == "GET /api/realtime":
        return "Visitors active now", (f"{permission}\n\nSessions active in the last 5 minutes (`count`) and the "
                                       "20 most recently active, newest first. Imported events (the demo's history "
                                       "too) never count here: send an event first.")
    if key == "POST /api/event":
        return "Send an event from a server", (
            f"{permission}\n\nThe `User-Agent` header is required: send your visitor's (generic HTTP clients "
            "count as bots). A drop answers 200 with `success: false` and a reason; nothing is stored.")
    if key == "POST /api/track":
        return "Send an event from the browser tracker", (
            f"Key: {PERMISSION_DESCRIPTIONS[None]}. The page's host must be the site's domain, a subdomain or on "
            "its allow-list (else dropped as `hostname`). CORS allows any origin.")
    if key == "OPTIONS /api/track":
        return "CORS preflight of the tracker", "Key: none. Answers 204 with the CORS headers."
    raise KeyError(key)


def _answer(method: str, target: str, body: bytes = b"") -> tuple[int, dict]:
    """What the function behind ``target`` answers, before any store is read (routing, size, validation)."""
    from clickport.local.apigw import build_event

    function, event = build_event(method, target, {"user-agent": examples.BROWSER_USER_AGENT}, body, "127.0.0.1")
    result = load_function(function).app.resolve(event, None)
    return result["statusCode"], json.loads(result["body"])


def error_examples(route: Route) -> dict[int, dict]:
    """Real error answers of a route, made by its function and validators where they need no store (the
    others, 500, 503 and 504, are documented by their reason phrase)."""
    from pydantic import ValidationError

    from clickport.domain.keys import require_permission
    from clickport.errors import Unauthorized
    from clickport.http.envelope import describe_validation_errors
    from clickport.ingest.models import EventRequest
    from clickport.ports import ApiKeyRecord
    from clickport.query.convenience import preset_body

    target = route.path
    for name, value in examples.PATH_EXAMPLES.items():
        target = target.replace("{" + name + "}", value)
    unknown = route.path + "/unknown" if route.is_static else route.path.split("{")[0] + "unknown"
    answers = [_answer("GET", unknown), _answer("DELETE", target)]
    if route.method == "POST":
        answers.append(_answer("POST", target, b" " * (MAX_BODY_BYTES + 1)))
    found = {status: body for status, body in answers}
    found[401] = {"error": REASON_PHRASES[401], "message": Unauthorized().message}
    if route.permission is not None:
        record = ApiKeyRecord("", "ck_example", "s_demo", frozenset(), examples.EXAMPLE_NOW)
        try:
            require_permission(record, route.permission)
        except ApiError as error:
            found[error.status] = {"error": REASON_PHRASES[error.status], "message": error.message}
    invalid = {
        "POST /api/query": lambda: examples.query_answer({"metrics": ["visitor"]}),
        "GET /api/{breakdown}": lambda: preset_body("pages", {"start_date": examples.EXAMPLE_START.isoformat()}),
        "GET /api/utm/{param}": lambda: preset_body("utm/source", {"start_date": "2026-13-01", "end_date": "x"}),
        "GET /api/goals": lambda: preset_body("pages", {"start_date": "2026-03-08", "end_date": "2026-03-01"}),
        "POST /api/event": lambda: EventRequest.model_validate({"url": f"{examples.DEMO_DOMAIN}/pricing"}),
    }
    if route.route_key in invalid:
        try:
            invalid[route.route_key]()
        except ApiError as error:
            found[error.status] = {"error": REASON_PHRASES[error.status], "message": error.message}
        except ValidationError as error:
            found[400] = {"error": REASON_PHRASES[400], "message": describe_validation_errors(error.errors())}
    if route.route_key == "POST /api/track":
        status, body = _answer("POST", target, json.dumps({"domain": examples.DEMO_DOMAIN}).encode())
        found[status] = body
    return found


def _document_fields(schemas: dict) -> None:
    """Every field of the request bodies says what it is; the query's fields say their defaults."""
    for name, fields in {**FIELD_DESCRIPTIONS, "TrackRequest": FIELD_DESCRIPTIONS["EventRequest"]}.items():
        for field, schema in schemas[name]["properties"].items():
            if "description" not in schema and field in fields:
                schema["description"] = fields[field]
            if name == "QueryRequest" and field in QUERY_DEFAULTS:
                schema["default"] = QUERY_DEFAULTS[field]


def _document_examples(path: str, method: str, operation: dict) -> None:
    """Summaries, tags, and an example for every input and answer: the worked examples of ``examples.py``."""
    route = ROUTES_BY_KEY[f"{method} {path}"]
    operation["summary"], operation["description"] = operation_texts(route)
    operation["tags"] = [TAGS[route.function]]
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] == "path":
            parameter["example"] = examples.PATH_EXAMPLES[name]
        elif name in examples.PARAMETER_EXAMPLES:
            parameter["example"] = examples.PARAMETER_EXAMPLES[name]
    body = operation.get("requestBody")
    request_examples = {"POST /api/query": examples.QUERY_EXAMPLES, "POST /api/event": examples.EVENT_EXAMPLES,
                        "POST /api/track": examples.TRACK_EXAMPLES}.get(route.route_key)
    if body is not None:
        body["content"]["application/json"]["examples"] = _named(request_examples)
    ok = operation["responses"].get("200")
    if ok is not None:
        content = ok["content"]["application/json"]
        if route.route_key in SUCCESS_SCHEMAS:
            content["schema"] = _ref(SUCCESS_SCHEMAS[route.route_key])
        if route.route_key == "POST /api/query":
            answers = [(n, s, examples.query_answer(b)) for n, s, b in examples.QUERY_EXAMPLES]
        elif route.route_key in examples.REPORT_ANSWERS:
            answers = [(n.split("/")[-1], f"GET /api/{n}", examples.report_answer(n))
                       for n in examples.REPORT_ANSWERS[route.route_key]]
        elif route.route_key == "GET /api/goals":
            answers = [("goals", "Every goal of the demo site", examples.goals_answer())]
        elif route.route_key == "GET /api/realtime":
            answers = [("realtime", "One active visitor shown", examples.realtime_answer())]
        else:
            answers = [(n, n, a) for n, a in examples.event_answers().items()]
        content["examples"] = _named(answers)
    for status, example in error_examples(route).items():
        if str(status) in operation["responses"]:
            operation["responses"][str(status)]["content"]["application/json"]["example"] = example


def build_document() -> dict:
    """Merge every function's generated schema into one document."""
    document: dict = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": __version__, "description": INFO},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
        "security": [{"apiKey": []}],
        "tags": [{"name": tag, "description": TAG_DESCRIPTIONS[tag]} for tag in TAGS.values()],
    }
    for name in FUNCTION_NAMES:
        app = load_function(name).app
        schema = json.loads(app.get_openapi_json_schema(title=TITLE, version=__version__))
        for path, operations in schema.get("paths", {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    document["components"]["schemas"].pop("HTTPValidationError", None)
    document["components"]["schemas"].pop("ValidationError", None)
    document["components"]["schemas"]["Error"] = ERROR_SCHEMA
    document["components"]["schemas"]["TimeZone"] = time_zone_component()
    document["components"]["schemas"].update(response_schemas())
    _document_fields(document["components"]["schemas"])
    _zones_as_one_schema(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            _document_inputs(path, method.upper(), operation)
            _document_errors(path, method.upper(), operation)
            _document_examples(path, method.upper(), operation)
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


@lru_cache(maxsize=1)
def document_json() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=False) + "\n"


DOCS_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Clickport-compatible analytics API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui", validatorUrl: null,
                                 deepLinking: true, persistAuthorization: false});
  </script>
</body>
</html>
"""


def swagger_asset(name: str) -> bytes:
    """Swagger UI's files as shipped inside the installed Powertools package (no CDN: works offline)."""
    import aws_lambda_powertools

    base = Path(aws_lambda_powertools.__file__).resolve().parent.parent / _SWAGGER_DIR
    return (base / name).read_bytes()


def docs_html() -> str:
    return DOCS_HTML


def main() -> None:
    from clickport.cli.output import write_generated

    write_generated("OpenAPI document", document_json)


if __name__ == "__main__":
    main()
