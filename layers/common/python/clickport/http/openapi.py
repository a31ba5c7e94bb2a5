"""The OpenAPI document, generated from the four functions' routes; committed as docs/openapi.json."""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from pathlib import Path

from clickport import __version__
from clickport.errors import REASON_PHRASES
from clickport.routes import ROUTES_BY_KEY
from clickport.local.functions import FUNCTION_NAMES, load_function

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


def _document_errors(path: str, method: str, operation: dict) -> None:
    """Replace Powertools' default 422 with the statuses this API really answers."""
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
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
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
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
