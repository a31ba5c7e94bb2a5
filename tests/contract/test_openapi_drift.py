"""The committed OpenAPI document equals the one generated from the routes (regenerate: make openapi)."""

import json
from pathlib import Path

from clickport.http.openapi import build_document
from clickport.routes import ROUTES

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_routes():
    assert COMMITTED.exists(), "docs/openapi.json is missing: run `make openapi`"
    assert json.loads(COMMITTED.read_text()) == build_document(), "docs/openapi.json drifted: run `make openapi`"


def test_every_route_is_documented_without_422():
    document = build_document()
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        assert "422" not in operation["responses"]
        assert "400" in operation["responses"]
        if route.permission is None:
            assert operation["security"] == []
        else:
            assert "401" in operation["responses"] and "403" in operation["responses"]
