"""The OpenAPI document, generated from the four functions' routes; committed as docs/openapi.json."""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from pathlib import Path

from clickport import __version__
from clickport.errors import REASON_PHRASES
from clickport.limits import MAX_LIMIT, MAX_OFFSET
from clickport.local.functions import FUNCTION_NAMES, load_function
from clickport.query.convenience import REQUIRED_PARAMETERS
from clickport.query.models import DATE_PATTERN
from clickport.query.zones import TIME_ZONE_FORMAT, time_zone_component
from clickport.routes import ROUTES_BY_KEY

TITLE = "Clickport-compatible analytics API"
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
    "limit": ({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "rows to return; default 100"),
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
        responses[str(status)] = {
            "description": REASON_PHRASES[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }


def build_document() -> dict:
    """Merge every function's generated schema into one document."""
    document: dict = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": __version__},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
        "security": [{"apiKey": []}],
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
    _zones_as_one_schema(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            _document_inputs(path, method.upper(), operation)
            _document_errors(path, method.upper(), operation)
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
    parser = argparse.ArgumentParser(description="Write the generated OpenAPI document")
    parser.add_argument("--write", type=Path, required=True)
    args = parser.parse_args()
    args.write.write_text(document_json(), encoding="utf-8")


if __name__ == "__main__":
    main()
