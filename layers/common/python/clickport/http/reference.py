"""The written API reference, ``docs/api-reference.md``, generated from the OpenAPI document and the
registries the validators use (``make openapi``; a test keeps the committed file equal to this output).

Usage: ``python -m clickport.http.reference --write docs/api-reference.md``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from clickport.errors import REASON_PHRASES
from clickport.http import examples
from clickport.http.descriptions import (
    DIMENSION_DESCRIPTIONS,
    GOAL_TYPE_DESCRIPTIONS,
    METRIC_DESCRIPTIONS,
    OPERATOR_DESCRIPTIONS,
    PERIOD_DESCRIPTIONS,
    PERMISSION_DESCRIPTIONS,
    PROP_DESCRIPTION,
    REPORT_DESCRIPTIONS,
    STATUS_DESCRIPTIONS,
)
from clickport.http.openapi import build_document, operation_intro
from clickport.ingest.drops import DROP_EXPLANATIONS, DROP_REASONS
from clickport.limits import MAX_RANGE_DAYS
from clickport.query.convenience import PRESETS, TIMESERIES
from clickport.query.dimensions import DIMENSION_NAMES, DIMENSIONS, PROP_PREFIX
from clickport.query.filters import OPERATOR_NAMES
from clickport.query.goals import COUNT_KEYS
from clickport.query.metrics import METRICS
from clickport.query.models import FILTERABLE
from clickport.query.periods import PERIODS
from clickport.routes import ROUTES, ROUTES_BY_KEY

LOCAL_ORIGIN = "http://127.0.0.1:8787"
# The order endpoints are listed in: reading first, then sending.
ENDPOINT_ORDER = ("POST /api/query", "GET /api/{breakdown}", "GET /api/utm/{param}", "GET /api/goals",
                  "GET /api/realtime", "POST /api/event", "POST /api/track", "OPTIONS /api/track")
assert set(ENDPOINT_ORDER) == set(ROUTES_BY_KEY)
# Registries an enum may be: shown as a link to their section instead of a list.
NAMED_ENUMS = {
    tuple(METRICS): "a metric ([Metrics](#metrics))",
    tuple(DIMENSION_NAMES): "a dimension ([Dimensions](#dimensions))",
    tuple(FILTERABLE): "a dimension other than a time dimension ([Dimensions](#dimensions))",
    tuple(METRICS) + tuple(DIMENSION_NAMES): "a requested metric or dimension",
    tuple(PERIODS): "a period ([Periods](#periods))",
    tuple(OPERATOR_NAMES): "an operator ([Filter operators](#filter-operators))",
}
SHORT_ENUM = 20


def anchor(title: str) -> str:
    """GitHub's heading anchor."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return text.replace(" ", "-")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _number(value: float) -> str:
    value = int(value) if float(value).is_integer() else value
    return f"{value:,}" if isinstance(value, int) else str(value)


def _code(value: Any) -> str:
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"


def describe(schema: dict) -> str:
    """A schema in a few words: type, allowed values, bounds."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name == "TimeZone":
            return "an IANA zone name ([TimeZone](#timezone))"
        return f"[{name}](#{anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [describe(s) for s in schema[key] if s.get("type") != "null"]
            sibling = f", matching `{schema['pattern']}`" if "pattern" in schema else ""
            return " or ".join(parts) + sibling
    if "allOf" in schema:
        return describe(schema["allOf"][0])
    if "const" in schema:
        return _code(schema["const"])
    if "enum" in schema:
        values = tuple(schema["enum"])
        if values in NAMED_ENUMS:
            return NAMED_ENUMS[values]
        if len(values) <= SHORT_ENUM:
            return "one of " + ", ".join(_code(v) for v in values)
        return f"one of {len(values)} values"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        text = f"array of {describe(schema.get('items', {}))}"
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low is not None or high is not None:
            text += f" ({_number(low or 0)} to {_number(high)} items)" if high is not None else \
                f" (at least {_number(low)} items)"
        return text
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        keys = schema.get("propertyNames", {}).get("pattern")
        text = f"object of {describe(schema['additionalProperties'])}"
        return text + (f" by key matching `{keys}`" if keys else "")
    text = kind or ("text" if "pattern" in schema else "any")
    if "format" in schema:
        text += f" ({schema['format']})"
    low = schema.get("minLength", schema.get("minimum"))
    high = schema.get("maxLength", schema.get("maximum"))
    unit = " characters" if "minLength" in schema or "maxLength" in schema else ""
    if low is not None and low == high:
        text += f", exactly {_number(low)}{unit}"
    elif low is not None and high is not None:
        text += f", {_number(low)} to {_number(high)}{unit}"
    elif high is not None:
        text += f", at most {_number(high)}{unit}"
    elif low is not None:
        text += f", at least {_number(low)}{unit}"
    if "pattern" in schema and "format" not in schema:
        text += f", matching `{schema['pattern']}`"
    for key, values in schema.get("patternProperties", {}).items():
        text += f"; keys matching `{key}`: {describe(values)}"
    return text


def _field_rows(schema: dict, *, defaults: bool = True) -> list[str]:
    required = set(schema.get("required", []))
    rows = []
    for name, field in schema.get("properties", {}).items():
        default = _code(field["default"]) if defaults and "default" in field else ""
        rows.append(f"| `{name}` | {'yes' if name in required else 'no'} | {_cell(describe(field))} | "
                    f"{_cell(default)} | {_cell(field.get('description', ''))} |")
    return rows


def fields_table(schema: dict) -> list[str]:
    return ["| field | required | type | default | description |", "|---|---|---|---|---|",
            *_field_rows(schema)]


# --- the endpoints


def _curl(method: str, target: str, body: Any, permission: str | None) -> str:
    parts = [f'curl -s -w \'\\n\'{"" if method == "GET" else " -X " + method} "{LOCAL_ORIGIN}{target}"']
    if permission is not None:
        parts.append('-H "x-api-key: $CLICKPORT_KEY"')
    if ROUTES_BY_KEY.get(f"{method} {target}", None) and ROUTES_BY_KEY[f"{method} {target}"].function == "event" \
            and method == "POST":
        parts.append(f"-H 'User-Agent: {examples.BROWSER_USER_AGENT}'")
    if method == "OPTIONS":
        parts[0] = f'curl -s -i -X OPTIONS "{LOCAL_ORIGIN}{target}"'
        parts.append(f"-H 'Origin: https://{examples.DEMO_DOMAIN}' -H 'Access-Control-Request-Method: POST'")
    if body is not None:
        text = json.dumps(body)
        assert "'" not in text, "a body example must fit in single quotes"
        parts.append(f"-H 'Content-Type: application/json' -d '{text}'")
    return " \\\n  ".join(parts)


def pretty_json(value: Any, indent: str = "", width: int = 110) -> str:
    """JSON with each object or array on one line when it fits, else one member a line."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or len(indent) + len(flat) <= width or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        members = [f"{inner}{json.dumps(k)}: {pretty_json(v, inner, width - len(k) - 4)}" for k, v in value.items()]
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    members = [f"{inner}{pretty_json(v, inner, width)}" for v in value]
    return "[\n" + ",\n".join(members) + f"\n{indent}]"


def _json_block(value: Any) -> list[str]:
    return ["```json", pretty_json(value), "```"]


def _requests(path: str, method: str, operation: dict) -> list[tuple[str, str, Any, str]]:
    """(title, target, body, answer example name) of each worked example of an operation."""
    answers = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get(
        "examples", {})
    if "requestBody" in operation:
        named = operation["requestBody"]["content"]["application/json"]["examples"]
        default_answer = next(iter(answers), None)
        return [(example["summary"], path, example["value"], name if name in answers else default_answer)
                for name, example in named.items()]
    query = "&".join(f"{p['name']}={p['example']}" for p in operation.get("parameters", [])
                     if p["in"] == "query" and "example" in p)
    if not answers:
        return [("", path, None, None)]
    found = []
    for name, answer in answers.items():
        target = path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                target = target.replace("{" + parameter["name"] + "}", name)
        found.append((answer["summary"], target + (f"?{query}" if query else ""), None, name))
    return found


def _body_tables(document: dict, schema: dict) -> list[str]:
    """The fields of a body's object, and of the objects its fields hold."""
    schemas = document["components"]["schemas"]
    pending, seen, lines = [schema["$ref"].rsplit("/", 1)[-1]], set(), []
    while pending:
        name = pending.pop(0)
        if name in seen or name == "TimeZone":
            continue
        seen.add(name)
        lines += [f"`{name}`:", "", *fields_table(schemas[name]), ""]
        pending += re.findall(r'"#/components/schemas/(\w+)"', json.dumps(schemas[name]))
    return lines


def endpoint_section(document: dict, route_key: str) -> list[str]:
    method, path = route_key.split(" ", 1)
    operation = document["paths"][path][method.lower()]
    route = ROUTES_BY_KEY[route_key]
    summary, intro = operation_intro(route)
    lines = [f"### `{method} {path}`", "", f"**{summary}.** {intro}", ""]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["| parameter | in | required | type | description | example |", "|---|---|---|---|---|---|"]
        for parameter in parameters:
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {'yes' if parameter['required'] else 'no'} | "
                f"{_cell(describe(parameter['schema']))} | {_cell(parameter.get('description', ''))} | "
                f"{_code(parameter['example']) if 'example' in parameter else ''} |")
        lines.append("")
    body = operation.get("requestBody")
    if body is not None:
        schema = body["content"]["application/json"]["schema"]
        requirement = "required" if body.get("required") else "optional; an empty body means `{}`"
        lines += [f"Body ({requirement}): {describe(schema)}, a JSON object; unknown fields are a 400.", ""]
        lines += _body_tables(document, schema)
    statuses = sorted(operation["responses"], key=int)
    ok = [s for s in statuses if s.startswith("2")]
    for status in ok:
        answer = operation["responses"][status]
        content = answer.get("content", {}).get("application/json")
        shape = describe(content["schema"]) if content and content.get("schema") else "no body"
        lines.append(f"Answer `{status}`: {shape}.")
    lines += ["", "Errors (an [`Error`](#error); when each happens: [Errors](#errors)):", "",
              "| status | `error` | for example |", "|---|---|---|"]
    for status in statuses:
        if status.startswith("2"):
            continue
        example = operation["responses"][status]["content"]["application/json"].get("example")
        message = _cell(f"`{example['message']}`") if example else ""
        lines.append(f"| {status} | `{REASON_PHRASES[int(status)]}` | {message} |")
    lines.append("")
    answers = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get(
        "examples", {})
    for title, target, request_body, answer_name in _requests(path, method, operation):
        lines += [f"#### Example: {title}" if title else "#### Example", "", "```sh",
                  _curl(method, target, request_body, route.permission), "```", ""]
        if answer_name is not None:
            lines += ["Answer:", "", *_json_block(answers[answer_name]["value"]), ""]
        else:
            lines += [f"Answer: `{ok[0]}`, no body.", ""]
    return lines


# --- the vocabulary


def _metric_value(name: str) -> str:
    metric = METRICS[name]
    if metric.kind == "revenue":
        return "object: amount per currency, 2 decimals"
    if metric.decimals:
        return f"number, {metric.decimals} decimal{'s' if metric.decimals > 1 else ''}"
    return "integer"


CHANGE_TEXT = {"relative": "relative change in %, 1 decimal (`null` from 0)", "points": "difference in points",
               "per_currency": "relative change in % per currency"}
LEVEL_TEXT = {"session": "session", "event": "event", "time": "time bucket"}


def vocabulary() -> list[str]:
    lines = ["## Metrics", "",
             "Exact: distinct counts are exact, ratios are formed from exact integer totals and rounded once, half "
             "away from zero. On an empty set counts and ratios are 0, never null.", "",
             "| metric | value | change (with `include_comparison`) | meaning |", "|---|---|---|---|"]
    for name in METRICS:
        lines.append(f"| `{name}` | {_metric_value(name)} | {CHANGE_TEXT[METRICS[name].change]} | "
                     f"{_cell(METRIC_DESCRIPTIONS[name])} |")
    lines += ["", "## Dimensions", "",
              "A missing value is shown as the label below, and filters compare with the shown value. Session "
              "dimensions keep or drop whole sessions; event dimensions keep the sessions with a matching event "
              "and count only matching events. Time dimensions are local to `timezone`; a sole time dimension "
              "lists every bucket from the range start up to now, in time order.", "",
              "| dimension | level | missing shown as | filterable | meaning |", "|---|---|---|---|---|"]
    for name in DIMENSION_NAMES:
        dimension = DIMENSIONS[name]
        missing = "—" if dimension.is_time else f"`{dimension.none_label}`"
        lines.append(f"| `{name}` | {LEVEL_TEXT[dimension.level]} | {missing} | "
                     f"{'no' if dimension.is_time else 'yes'} | {_cell(DIMENSION_DESCRIPTIONS[name])} |")
    lines.append(f"| `{PROP_PREFIX}<key>` | event | `(none)` | yes | {_cell(PROP_DESCRIPTION)} |")
    lines += ["", "## Periods", "",
              "Relative to now in `timezone`; a range ends at now (exclusive) unless it is a whole past day or "
              "month. `date_range` replaces the period; its comparison is the same number of days just before.",
              "", "| period | range | comparison range |", "|---|---|---|"]
    for name in PERIODS:
        current, previous = PERIOD_DESCRIPTIONS[name]
        lines.append(f"| `{name}` | {_cell(current)} | {_cell(previous)} |")
    lines += ["", "## Filter operators", "",
              "`{\"dimension\": D, \"operator\": OP, \"value\": V}`: V is a non-empty string or a non-empty array "
              "(\"any of\" for the positive operators, \"none of\" for the negated ones). Several filters combine "
              "with AND. A `goal` filter naming no goal of the site is a 400 listing the site's goals; other "
              "unknown values match nothing. Patterns: [the portable pattern language](limits.md#the-portable-pattern-language-of-matches).", "",
              "| operator | keeps events or sessions where |", "|---|---|"]
    for name in OPERATOR_NAMES:
        lines.append(f"| `{name}` | {_cell(OPERATOR_DESCRIPTIONS[name])} |")
    lines += ["", "## Reports", "",
              "`GET /api/<name>?start_date=YYYY-MM-DD&end_date=YYYY-MM-DD[&timezone=…][&limit=…][&offset=…]`: "
              "`POST /api/query` with one dimension and preset metrics over `[start_date, end_date)`, ordered by "
              "the first metric, descending (`timeseries`: in time order). Both dates are required; any other "
              "parameter is a 400.", "", "| path | dimension | metrics | what |", "|---|---|---|---|"]
    for name, preset in PRESETS.items():
        dimension = f"`{preset.dimension}`" + (" (`hour` for one day)" if name == TIMESERIES else "")
        lines.append(f"| `GET /api/{name}` | {dimension} | {', '.join(preset.metrics)} | "
                     f"{_cell(REPORT_DESCRIPTIONS[name])} |")
    lines += ["", "## Goal types", "",
              "Goals are managed with `clickport goals create` and match at query time, so they apply to past "
              "data. `GET /api/goals` names each goal's conversions by its type:", "",
              "| type | matches | count in `GET /api/goals` |", "|---|---|---|"]
    for kind, key in COUNT_KEYS.items():
        lines.append(f"| `{kind}` | {_cell(GOAL_TYPE_DESCRIPTIONS[kind])} | `{key}` |")
    lines += ["", "## Drop reasons", "",
              "An event the server does not count answers `200 {\"success\": false, \"reason\": R}`; nothing is "
              "stored and the drop is counted (`clickport drops` locally).", "", "| reason | when |", "|---|---|"]
    for reason in DROP_REASONS:
        lines.append(f"| `{reason}` | {_cell(DROP_EXPLANATIONS[reason])} |")
    return lines


def _sentence(text: str) -> str:
    """A description as a sentence (docstrings' double backticks as Markdown's single ones)."""
    text = text.strip().replace("``", "`")
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def types_section(document: dict) -> list[str]:
    lines = ["## Types", "", "The request and answer objects of the endpoints above (`docs/openapi.json` has them as "
             "JSON Schema).", ""]
    for name, schema in document["components"]["schemas"].items():
        if name == "ResponseValidationError":
            continue
        lines += [f"### {name}", ""]
        if schema.get("description"):
            lines += [_sentence(schema["description"]), ""]
        if name == "TimeZone":
            lines += [f"One of the {len(schema['enum'])} zone names of the pinned tz database, exact case (e.g. "
                      "`UTC`, `Europe/Berlin`, `America/New_York`); `GET /api/openapi.json` lists them.", ""]
        elif schema.get("properties"):
            lines += fields_table(schema)
            for key, values in schema.get("patternProperties", {}).items():
                lines.append(f"| keys matching `{key}` | no | {_cell(describe(values))} |  | "
                             f"{_cell(values.get('description', ''))} |")
            lines.append("")
            if schema.get("additionalProperties") is False:
                lines += ["No other fields.", ""]
        else:
            lines += [f"{describe(schema)[0].upper()}{describe(schema)[1:]}.", ""]
    return lines


def reference_markdown(document: dict | None = None) -> str:
    document = document or build_document()
    lines = [
        "# API reference",
        "",
        "<!-- Generated by `make openapi` (clickport/http/reference.py) from the declarations the validators use;",
        "     tests/contract/test_api_reference.py keeps this file equal to its output. Do not edit by hand. -->",
        "",
        "Every endpoint, field, name, default, limit and error of the Clickport-compatible API. The same facts,",
        "machine-readable: [openapi.json](openapi.json) (served at `/api/openapi.json`; interactive at `/api/docs`).",
        "Every bound in one list: [limits.md](limits.md). Where the Clickport reference was silent and we chose:",
        "[api-decisions.md](api-decisions.md). How queries are computed: [query.md](query.md).",
        "",
        f"Base URL: `{LOCAL_ORIGIN}` locally (`make dev` or `clickport serve`; `CLICKPORT_PORT` sets the port),",
        "the stack's CloudFront URL on AWS. Every path starts with `/api`; answers are JSON (UTF-8), and the keys of",
        "an answer object come in request order: dimensions first, then metrics.",
        "",
        "The examples run as they are against the demo site (`demo.example.com`, 30 days of synthetic traffic, the",
        "goals Signup, Purchase, Visited pricing, Contact form and GitHub clicks) after",
        "`export CLICKPORT_KEY=ck_…` with the key `make dev` prints (both permissions). The answers shown have",
        "the real shape; their numbers are illustrative and at most "
        f"{examples.SHOWN_ROWS} rows are shown.",
        f"The reports' examples ask for `{examples.EXAMPLE_START}` to `{examples.EXAMPLE_END}`,",
        f"nearly the widest range allowed ({MAX_RANGE_DAYS:,} days), so that they hold the demo's 30 days for years.",
        "",
        "## Authentication",
        "",
        "Send the key in the `x-api-key` header. A key belongs to one site, and the site of every request comes",
        "from the key: a `site_id` field or parameter is a 400. Keys are `ck_` and 43 URL-safe characters, shown",
        "once by `clickport keys create`; a revoked key stops working within a minute.",
        "",
        "| key | endpoints |",
        "|---|---|",
    ]
    for permission in ("read", "tracker", None):
        routes = ", ".join(f"`{r.method} {r.path}`" for r in ROUTES if r.permission == permission)
        lines.append(f"| {_cell(PERMISSION_DESCRIPTIONS[permission])} | {routes} |")
    lines += [
        "",
        "## Errors",
        "",
        "Every error is `{\"error\": \"<reason phrase>\", \"message\": \"<what was wrong, for a person>\"}`. The",
        "checks go in this order: 404/405, 413, 401, 403, 400, then 5xx, so a caller without a valid key learns",
        "nothing about validation. Validation errors are 400, never 422; rejected input is never stored.",
        "",
        "| status | `error` | when |",
        "|---|---|---|",
    ]
    for status, phrase in REASON_PHRASES.items():
        lines.append(f"| {status} | `{phrase}` | {_cell(STATUS_DESCRIPTIONS[status])} |")
    lines += ["", "## Endpoints", "", "| method | path | key | what |", "|---|---|---|---|"]
    for key in ENDPOINT_ORDER:
        route = ROUTES_BY_KEY[key]
        summary, _ = operation_intro(route)
        title = f"`{key}`"
        lines.append(f"| {route.method} | [`{route.path}`](#{anchor(title)}) | {route.permission or 'none'} | "
                     f"{summary} |")
    lines.append("")
    for key in ENDPOINT_ORDER:
        lines += endpoint_section(document, key)
    lines += vocabulary()
    lines += ["", *types_section(document)]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    from clickport.cli.output import write_generated

    write_generated("API reference", reference_markdown)


if __name__ == "__main__":
    main()
