"""Every "Try it out" of /api/docs succeeds against the demo data.

A real ``clickport serve`` on a fresh data directory holding the demo site (``clickport demo``) gets, for
every operation of the committed docs/openapi.json, the requests Swagger UI would send: the parameters'
examples (every value of a path parameter's list), every named body example, with a key of the right kind
(read for queries, tracker for ``/api/event``, none for the tracker's route) and a browser's User-Agent.
Each must answer 2xx with a body that the documented response schema accepts and that holds data where the
demo has some. An operation whose inputs have no example fails, since Swagger UI would fill in placeholders
(``"metrics": ["string"]``) that answer 400.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from clickport.demo import DEMO_DOMAIN, DEMO_GOALS
from clickport.http.examples import EXAMPLE_END, EXAMPLE_START
from clickport.routes import ROUTES_BY_KEY
from tests.browser.local_stack import LocalClickport
from tests.conftest import BROWSER_UA

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
DOCUMENT = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
BASE = "urn:clickport:openapi"
REGISTRY = Registry().with_resource(BASE, DRAFT202012.create_resource(DOCUMENT))
JSON = "application/json"
OPERATIONS = sorted((path, method) for path, operations in DOCUMENT["paths"].items() for method in operations)


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def validator(*parts: str) -> Draft202012Validator:
    """A validator of the document's schema at ``parts`` (its $refs resolved inside the document)."""
    return Draft202012Validator({"$ref": f"{BASE}#/{_pointer(*parts)}"}, registry=REGISTRY,
                                format_checker=FormatChecker())


def success_of(operation: dict) -> tuple[str, dict]:
    return next((status, answer) for status, answer in operation["responses"].items() if status.startswith("2"))


# --- the document: every input has an example, every example answer fits its schema ---------------------


@pytest.mark.parametrize("path, method", OPERATIONS)
def test_every_operation_has_an_example_for_each_input_and_its_answer(path, method):
    operation = DOCUMENT["paths"][path][method]
    for parameter in operation.get("parameters", []):
        if parameter["required"] or parameter["in"] == "path":
            assert "example" in parameter, f"{method.upper()} {path}: parameter {parameter['name']} has no example"
    body = operation.get("requestBody")
    if body is not None:
        assert body["content"][JSON].get("examples"), f"{method.upper()} {path}: the body has no example"
    status, answer = success_of(operation)
    if "content" in answer:
        assert answer["content"][JSON].get("examples"), f"{method.upper()} {path}: the {status} answer has no example"
    else:
        assert status == "204"


@pytest.mark.parametrize("path, method", OPERATIONS)
def test_every_documented_example_fits_its_schema(path, method):
    operation = DOCUMENT["paths"][path][method]
    for parameter in operation.get("parameters", []):
        if "example" in parameter:
            index = operation["parameters"].index(parameter)
            check = validator("paths", path, method, "parameters", str(index), "schema")
            assert not list(check.iter_errors(parameter["example"])), (path, parameter["name"])
    if "requestBody" in operation:
        check = validator("paths", path, method, "requestBody", "content", JSON, "schema")
        for name, example in operation["requestBody"]["content"][JSON]["examples"].items():
            errors = [e.message for e in check.iter_errors(example["value"])]
            assert not errors, (path, name, errors[:3])
    for status, answer in operation["responses"].items():
        content = answer.get("content", {}).get(JSON)
        if not content:
            continue
        check = validator("paths", path, method, "responses", status, "content", JSON, "schema")
        values = [e["value"] for e in content.get("examples", {}).values()] + (
            [content["example"]] if "example" in content else [])
        for value in values:
            errors = [e.message for e in check.iter_errors(value)]
            assert not errors, (path, status, errors[:3])


@pytest.mark.parametrize("answer", [
    {"results": [{"page": "/", "visitors": 1}]},  # no meta
    {"results": {"visitor": 1}, "meta": {"date_range": {"start": "x", "end": "y"}, "timezone": "UTC"}},
    {"results": [{"pages": "/", "visitors": 1}],
     "meta": {"date_range": {"start": "x", "end": "y"}, "timezone": "UTC", "total_rows": 1}},
    {"results": [{"page": "/", "visitors": "1"}],
     "meta": {"date_range": {"start": "x", "end": "y"}, "timezone": "UTC", "total_rows": 1}},
    {"results": {"total_revenue": {"usd": 1.0}}, "meta": {"date_range": {"start": "x", "end": "y"},
                                                          "timezone": "UTC"}},
])
def test_the_answer_schema_refuses_what_the_api_never_answers(answer):
    check = validator("paths", "/api/query", "post", "responses", "200", "content", JSON, "schema")
    assert list(check.iter_errors(answer))


def test_the_reports_example_dates_hold_the_demo_data():
    """The demo covers the 30 days up to today; the GET examples' fixed dates must still hold them."""
    today = datetime.now(timezone.utc).date()
    assert EXAMPLE_START <= today - timedelta(days=30) and today < EXAMPLE_END, (
        "today left the examples' date window: move EXAMPLE_START/EXAMPLE_END in clickport/http/examples.py")


# --- every example, sent to a real server with the demo data ---------------------------------------------


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory) -> Iterator[tuple[LocalClickport, dict[str, str]]]:
    stack = LocalClickport(tmp_path_factory.mktemp("openapi-examples") / "data")
    demo = stack.command("demo")
    assert demo["domain"] == DEMO_DOMAIN and demo["events"] > 0
    keys = {permission: stack.command("keys", "create", "--site", demo["site_id"], f"--{permission}")["key"]
            for permission in ("read", "tracker")}
    with stack.serving():
        yield stack, keys


def swagger_requests(path: str, method: str) -> Iterator[tuple[str, str, bytes | None]]:
    """(label, URL path with query, body) of each request Swagger UI sends for this operation's examples."""
    operation = DOCUMENT["paths"][path][method]
    path_values: list[dict[str, str]] = [{}]
    query: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            listed = parameter["schema"].get("enum", [parameter["example"]])
            path_values = [{**chosen, parameter["name"]: value} for chosen in path_values for value in listed]
        elif "example" in parameter:
            query[parameter["name"]] = str(parameter["example"])
    bodies: list[tuple[str, bytes | None]] = [("", None)]
    if "requestBody" in operation:
        bodies = [(name, json.dumps(example["value"], indent=2).encode())
                  for name, example in operation["requestBody"]["content"][JSON]["examples"].items()]
    for values in path_values:
        target = path.format(**values)
        if query:
            target += "?" + urllib.parse.urlencode(query)
        for name, body in bodies:
            yield f"{method.upper()} {target} {name}".strip(), target, body


def send(origin: str, method: str, target: str, body: bytes | None, key: str | None) -> tuple[int, bytes]:
    headers = {"accept": JSON, "User-Agent": BROWSER_UA}
    if body is not None:
        headers["Content-Type"] = JSON
    if key is not None:
        headers["x-api-key"] = key
    request = urllib.request.Request(origin + target, data=body, headers=headers, method=method.upper())
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _positive_numbers(values: dict[str, Any]) -> list[str]:
    return [name for name, value in values.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0]


def holds_data(function: str, path: str, answer: Any) -> bool:
    """Whether an answer shows some of the demo's data (or, for events, was accepted)."""
    if function == "event":
        return answer.get("success") is True
    if function == "realtime":
        return answer["count"] >= 1 and len(answer["visitors"]) >= 1
    if function == "goals":
        return (sorted(g["name"] for g in answer["goals"]) == sorted(g["name"] for g in DEMO_GOALS)
                and any(g["visitors"] > 0 for g in answer["goals"]))
    results = answer["results"]
    if isinstance(results, dict):
        return bool(_positive_numbers(results))
    return any(_positive_numbers(row) for row in results)


@pytest.mark.parametrize("path, method", OPERATIONS)
def test_every_example_succeeds_against_the_demo_data(demo_server, path, method):
    stack, keys = demo_server
    operation = DOCUMENT["paths"][path][method]
    route = ROUTES_BY_KEY[f"{method.upper()} {path}"]
    key = None if route.permission is None else keys[route.permission]
    assert (operation.get("security") == []) == (key is None), "the document states which routes need a key"
    status_text, answer_doc = success_of(operation)
    if route.function == "realtime":  # imported history is never live: an event makes a live session
        _, target, body = next(swagger_requests("/api/event", "post"))
        assert send(stack.origin, "post", target, body, keys["tracker"])[0] == 200
    sent = list(swagger_requests(path, method))
    assert sent
    for label, target, body in sent:
        status, raw = send(stack.origin, method, target, body, key)
        assert 200 <= status < 300, f"{label}: {status} {raw[:500]!r}\n{stack.server_log()}"
        assert str(status) == status_text, f"{label}: {status}, documented {status_text}"
        if "content" not in answer_doc:
            assert raw == b"", label
            continue
        answer = json.loads(raw)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(
            "paths", path, method, "responses", status_text, "content", JSON, "schema").iter_errors(answer)]
        assert not errors, f"{label}: the answer does not fit the documented schema: {errors[:3]}"
        assert holds_data(route.function, path, answer), f"{label}: no data in {json.dumps(answer)[:800]}"
