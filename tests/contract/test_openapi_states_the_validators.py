"""The OpenAPI document states what the validators enforce (issue 12), and the validators enforce what it
states: every enum is a registry and each of its values is accepted while others are not; required
parameters are refused when missing and optional ones are not; every numeric bound holds at its value and
fails one step beyond, with a 400 naming the field. docs/limits.md is generated from the same limits.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from clickport.http.openapi import build_document
from clickport.ingest.models import EventType
from clickport.limits import limits_markdown
from clickport.query.dimensions import DIMENSION_NAMES, DIMENSIONS
from clickport.query.filters import OPERATOR_NAMES
from clickport.query.metrics import METRIC_NAMES
from clickport.query.periods import PERIODS
from clickport.query.validation import check_timezone
from clickport.query.zones import zone_names
from clickport.routes import BREAKDOWNS, UTM_PARAMS
from tests.conftest import BROWSER_UA

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOCUMENT = build_document()
SCHEMAS = DOCUMENT["components"]["schemas"]
URL = "https://example.com/"


def _value_schema(schema: dict) -> dict:
    """The non-null branch of an optional field."""
    for branch in schema.get("anyOf", []):
        if branch.get("type") != "null":
            return branch
    return schema


def prop(model: str, name: str) -> dict:
    return _value_schema(SCHEMAS[model]["properties"][name])


def test_docs_limits_page_is_generated_from_the_limits():
    assert (DOCS / "limits.md").read_text(encoding="utf-8") == limits_markdown(), "run `make openapi`"


def test_enums_are_the_registries():
    assert prop("QueryRequest", "metrics")["items"]["enum"] == list(METRIC_NAMES)
    dimensions = prop("QueryRequest", "dimensions")["items"]["anyOf"]
    assert dimensions[0]["enum"] == list(DIMENSION_NAMES) and dimensions[1]["pattern"].startswith("^prop:")
    filterable = SCHEMAS["FilterModel"]["properties"]["dimension"]["anyOf"][0]["enum"]
    assert filterable == [d for d in DIMENSION_NAMES if not DIMENSIONS[d].is_time]
    assert SCHEMAS["FilterModel"]["properties"]["operator"]["enum"] == list(OPERATOR_NAMES)
    assert prop("QueryRequest", "period")["enum"] == list(PERIODS)
    assert SCHEMAS["TimeZone"]["enum"] == sorted(zone_names())
    assert prop("QueryRequest", "timezone") == {"$ref": "#/components/schemas/TimeZone"}
    assert prop("EventRequest", "timezone") == {"$ref": "#/components/schemas/TimeZone"}
    assert set(SCHEMAS["EventRequest"]["properties"]["type"]["enum"]) == set(get_args(EventType))
    paths = DOCUMENT["paths"]
    assert paths["/api/{breakdown}"]["get"]["parameters"][0]["schema"]["enum"] == sorted(BREAKDOWNS)
    assert paths["/api/utm/{param}"]["get"]["parameters"][0]["schema"]["enum"] == sorted(UTM_PARAMS)


def test_every_zone_of_the_enum_is_accepted_and_only_those():
    for name in SCHEMAS["TimeZone"]["enum"]:
        check_timezone(name)
    for name in ("utc", "Europe/berlin", "localtime", "Mars/Base"):
        with pytest.raises(Exception):
            check_timezone(name)


@pytest.fixture
def query(gateway, keys):
    def run(body):
        return gateway("POST", "/api/query", body=body, headers={"x-api-key": keys["read"]})

    return run


@pytest.fixture
def event(gateway, keys):
    def run(body):
        return gateway("POST", "/api/event", body={"url": URL, **body},
                       headers={"x-api-key": keys["tracker"], "User-Agent": BROWSER_UA})

    return run


def test_each_value_of_the_query_enums_is_accepted(query):
    for metric in prop("QueryRequest", "metrics")["items"]["enum"]:
        assert query({"metrics": [metric]})[0] == 200, metric
    for dimension in prop("QueryRequest", "dimensions")["items"]["anyOf"][0]["enum"] + ["prop:plan"]:
        assert query({"dimensions": [dimension]})[0] == 200, dimension
    for dimension in SCHEMAS["FilterModel"]["properties"]["dimension"]["anyOf"][0]["enum"]:
        status, _, body = query({"filters": [{"dimension": dimension, "operator": "contains", "value": "x"}]})
        assert status == 200, (dimension, body)
    for operator in SCHEMAS["FilterModel"]["properties"]["operator"]["enum"]:
        status, _, body = query({"filters": [{"dimension": "page", "operator": operator, "value": "x"}]})
        assert status == 200, (operator, body)
    for period in prop("QueryRequest", "period")["enum"]:
        assert query({"period": period})[0] == 200, period


@pytest.mark.parametrize("body", [
    {"metrics": ["visitor"]}, {"dimensions": ["prop:"]}, {"dimensions": ["Page"]}, {"period": "1y"},
    {"filters": [{"dimension": "hour", "operator": "is", "value": "x"}]},
    {"filters": [{"dimension": "page", "operator": "equals", "value": "x"}]},
    {"timezone": "Europe/berlin"}, {"date_range": {"start": "2026-1-1", "end": "2026-01-02"}},
])
def test_values_outside_the_enums_and_patterns_are_400(query, body):
    status, _, answer = query(body)
    assert status == 400, answer


def test_the_query_body_is_an_object_or_absent(query):
    body = DOCUMENT["paths"]["/api/query"]["post"]["requestBody"]
    assert body["required"] is False
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/QueryRequest"}
    assert query(None)[0] == 200
    assert query("null")[0] == 400
    assert SCHEMAS["DateRangeModel"]["required"] == ["start", "end"]
    assert query({"date_range": {"start": "2026-03-01"}})[0] == 400


GET_ROUTES = {"/api/goals": "/api/goals", "/api/{breakdown}": "/api/pages", "/api/utm/{param}": "/api/utm/source"}


@pytest.mark.parametrize("path", sorted(GET_ROUTES))
def test_required_parameters_are_exactly_the_ones_the_validators_require(gateway, keys, path):
    parameters = [p for p in DOCUMENT["paths"][path]["get"]["parameters"] if p["in"] == "query"]
    values = {"start_date": "2026-03-01", "end_date": "2026-03-08", "timezone": "Europe/Berlin", "limit": "5",
              "offset": "1"}
    assert {p["name"] for p in parameters if p["required"]} == {"start_date", "end_date"}
    for parameter in parameters:
        name = parameter["name"]
        rest = "&".join(f"{n}={values[n]}" for n in (p["name"] for p in parameters) if n != name)
        status, _, body = gateway("GET", f"{GET_ROUTES[path]}?{rest}", headers={"x-api-key": keys["read"]})
        if parameter["required"]:
            assert (status, body["message"]) == (400, f"{name} is required (YYYY-MM-DD)"), name
        else:
            assert status == 200, (name, body)


def test_parameter_bounds_hold_at_the_bound_and_fail_beyond(gateway, keys):
    parameters = {p["name"]: p["schema"] for p in DOCUMENT["paths"]["/api/{breakdown}"]["get"]["parameters"]}
    base = "/api/pages?start_date=2026-03-01&end_date=2026-03-08"
    for name in ("limit", "offset"):
        schema = parameters[name]
        for value, ok in ((schema["minimum"], True), (schema["maximum"], True), (schema["minimum"] - 1, False),
                          (schema["maximum"] + 1, False)):
            status, _, body = gateway("GET", f"{base}&{name}={value}", headers={"x-api-key": keys["read"]})
            assert status == (200 if ok else 400), (name, value, body)
            if not ok:
                assert name in body["message"]


def _bound(schema: dict, key: str):
    value = schema[key]
    return int(value) if float(value).is_integer() else value


# (model, field, keyword, body with the field at a value) for each bound of the document.
EVENT_BOUNDS = [
    ("url", "maxLength", lambda n: {"url": URL + "a" * (n - len(URL))}),
    ("referrer", "maxLength", lambda n: {"referrer": URL + "r" * (n - len(URL))}),
    ("name", "maxLength", lambda n: {"type": "custom", "name": "n" * n}),
    ("name", "minLength", lambda n: {"type": "custom", "name": "n" * n}),
    ("utm_source", "maxLength", lambda n: {"utm_source": "u" * n}),
    ("utm_term", "maxLength", lambda n: {"utm_term": "u" * n}),
    ("screen_width", "maximum", lambda n: {"screen_width": n}),
    ("screen_width", "minimum", lambda n: {"screen_width": n}),
    ("revenue_amount", "maximum", lambda n: {"type": "custom", "name": "P", "revenue_amount": n}),
    ("revenue_amount", "minimum", lambda n: {"type": "custom", "name": "P", "revenue_amount": n}),
    ("meta_keys", "maxItems", lambda n: {"meta_keys": [f"k{i}" for i in range(n)], "meta_values": ["v"] * n}),
    ("scroll", "maximum", lambda n: {"scroll": n}),
    ("scroll", "minimum", lambda n: {"scroll": n}),
    ("engaged_ms", "maximum", lambda n: {"engaged_ms": n}),
]
STEP = {"maximum": 1, "maxLength": 1, "maxItems": 1, "minimum": -1, "minLength": -1, "minItems": -1}


@pytest.mark.parametrize("field, keyword, make", EVENT_BOUNDS, ids=[f"{f}-{k}" for f, k, _ in EVENT_BOUNDS])
def test_event_bounds_hold_at_the_bound_and_fail_beyond(event, field, keyword, make):
    bound = _bound(prop("EventRequest", field), keyword)
    status, _, body = event(make(bound))
    assert status == 200, (field, bound, body)
    beyond = bound + STEP[keyword] if keyword not in ("maximum", "minimum") or isinstance(bound, int) else None
    if field == "revenue_amount" and keyword == "maximum":
        beyond = bound + 0.001
    status, _, body = event(make(beyond))
    assert status == 400 and field in body["message"], (field, beyond, body)


def test_event_item_bounds_hold_at_the_bound_and_fail_beyond(event):
    key_length = _bound(prop("EventRequest", "meta_keys")["items"], "maxLength")
    value_length = _bound(prop("EventRequest", "meta_values")["items"]["anyOf"][0], "maxLength")
    assert event({"meta_keys": ["k" * key_length], "meta_values": ["v" * value_length]})[0] == 200
    for body in ({"meta_keys": ["k" * (key_length + 1)], "meta_values": ["v"]},
                 {"meta_keys": ["k"], "meta_values": ["v" * (value_length + 1)]}):
        status, _, answer = event(body)
        assert status == 400 and "meta_" in answer["message"], answer


QUERY_BOUNDS = [
    ("metrics", "maxItems", lambda n: {"metrics": list(METRIC_NAMES)[:n]}),
    ("dimensions", "maxItems", lambda n: {"dimensions": ["page", "country", "browser", "os"][:n]}),
    ("filters", "maxItems", lambda n: {"filters": [{"dimension": "page", "operator": "is", "value": f"/{i}"}
                                                   for i in range(n)]}),
    ("limit", "maximum", lambda n: {"dimensions": ["page"], "limit": n}),
    ("limit", "minimum", lambda n: {"dimensions": ["page"], "limit": n}),
    ("offset", "maximum", lambda n: {"dimensions": ["page"], "offset": n}),
    ("offset", "minimum", lambda n: {"dimensions": ["page"], "offset": n}),
]


@pytest.mark.parametrize("field, keyword, make", QUERY_BOUNDS, ids=[f"{f}-{k}" for f, k, _ in QUERY_BOUNDS])
def test_query_bounds_hold_at_the_bound_and_fail_beyond(query, field, keyword, make):
    bound = _bound(prop("QueryRequest", field), keyword)
    status, _, body = query(make(bound))
    assert status == 200, (field, bound, body)
    if field == "metrics":  # every metric is listed: one more is a repeat, refused as such
        status, _, body = query({"metrics": list(METRIC_NAMES) + ["visitors"]})
    else:
        status, _, body = query(make(bound + STEP[keyword]))
    assert status == 400 and field in body["message"], (field, body)


def test_filter_value_bounds_hold_at_the_bound_and_fail_beyond(query):
    value = SCHEMAS["FilterModel"]["properties"]["value"]["anyOf"]
    length, count = _bound(value[0], "maxLength"), _bound(value[1], "maxItems")

    def run(values):
        return query({"filters": [{"dimension": "page", "operator": "is", "value": values}]})

    assert run("v" * length)[0] == 200 and run([f"/{i}" for i in range(count)])[0] == 200
    assert run("v" * (length + 1))[0] == 400 and run([f"/{i}" for i in range(count + 1)])[0] == 400


def test_the_user_agent_header_limit_is_the_declared_one():
    """``clickport.http.client`` (the edge) keeps its own constant for now; it must be the declared limit."""
    from clickport.http import client
    from clickport.limits import MAX_USER_AGENT

    assert client.MAX_USER_AGENT == MAX_USER_AGENT
