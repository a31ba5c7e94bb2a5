"""Input that used to break the service (issue 12) is a 400 naming the field, on both backends, and
nothing is stored: huge revenue, lone surrogate escapes, deep nesting, overlong numbers.

Each test runs through the functions' handlers with API Gateway events: once on the local runtime
(SQLite, Parquet), once on the AWS runtime (DynamoDB, Firehose and Athena in moto).
"""

from __future__ import annotations

import json
import logging

import pytest

from clickport.limits import MAX_JSON_DEPTH, MAX_NUMBER_CHARS, MAX_REVENUE_AMOUNT
from tests.conftest import BROWSER_UA, Gateway
from tests.support.events import stored_rows

URL = "https://example.com/checkout"


class Backend:
    def __init__(self, name, keys, stored):
        self.name = name
        self.keys = keys
        self.stored = stored  # () -> how many events are stored
        self.call = Gateway()

    def event(self, body, path="/api/event"):
        headers = {"User-Agent": BROWSER_UA}
        if path == "/api/event":
            headers["x-api-key"] = self.keys["tracker"]
        return self.call("POST", path, body=body, headers=headers)

    def query(self, body):
        return self.call("POST", "/api/query", body=body, headers={"x-api-key": self.keys["read"]})


@pytest.fixture(params=["local", "aws"])
def backend(request, monkeypatch):
    if request.param == "local":
        runtime = request.getfixturevalue("runtime")
        keys = request.getfixturevalue("keys")
        yield Backend("local", keys, lambda: len(stored_rows(runtime.settings.data_dir)))
    else:
        from tests.support.aws import aws_stack

        with aws_stack(monkeypatch) as stack:
            yield Backend("aws", stack.keys, lambda: len(stack.stored_objects()))


def _custom(amount: str, path: str = "/api/event") -> str:
    domain = ', "domain": "example.com"' if path == "/api/track" else ""
    return '{"type": "custom", "name": "Purchase", "url": "%s", "revenue_amount": %s%s}' % (URL, amount, domain)


@pytest.mark.parametrize("path", ["/api/event", "/api/track"])
@pytest.mark.parametrize("amount", ["1e13", "1e308", "10000000000000", "1000000000.000001", "1.7976931348623157e308"])
def test_revenue_beyond_the_bound_is_400_naming_field_and_bound(backend, path, amount):
    status, _, body = backend.event(_custom(amount, path), path)
    assert status == 400, body
    assert body["error"] == "Bad Request"
    assert "'revenue_amount'" in body["message"] and str(MAX_REVENUE_AMOUNT) in body["message"]
    assert backend.stored() == 0


@pytest.mark.parametrize("path", ["/api/event", "/api/track"])
def test_revenue_at_the_bound_is_accepted(backend, path):
    status, _, body = backend.event(_custom(str(MAX_REVENUE_AMOUNT), path), path)
    assert status == 200 and body["success"] is True, body
    assert backend.stored() == 1


def test_revenue_at_the_bound_is_stored_exactly_in_micro_units(runtime, keys):
    status, _, _ = Backend("local", keys, None).event(_custom("1000000000"))
    assert status == 200
    assert stored_rows(runtime.settings.data_dir)[0]["revenue_micros"] == 10**15


EVENT_STRING_FIELDS = [
    ("url", {"url": "https://example.com/\\ud800"}),
    ("referrer", {"referrer": "https://a.example/\\udfff"}),
    ("name", {"type": "custom", "name": "Sign\\ud800up"}),
    ("utm_source", {"utm_source": "\\ud83d"}),
    ("utm_term", {"utm_term": "x\\uDC00"}),
    ("timezone", {"timezone": "\\ud800"}),
    ("meta_keys[0]", {"meta_keys": ["\\ud800"], "meta_values": ["a"]}),
    ("meta_values[1]", {"meta_keys": ["a", "b"], "meta_values": ["a", "\\ud800"]}),
    ("page_visit_id", {"page_visit_id": "\\ud800"}),
    ("type", {"type": "\\ud800"}),
]


def _raw(fields: dict, path: str) -> str:
    """A body whose values are written as given (escapes included) into the JSON text."""
    merged = {"url": URL, **fields}
    if path == "/api/track":
        merged.setdefault("domain", "example.com")
    parts = []
    for key, value in merged.items():
        if isinstance(value, list):
            parts.append('"%s": [%s]' % (key, ", ".join('"%s"' % v for v in value)))
        else:
            parts.append('"%s": "%s"' % (key, value))
    return "{" + ", ".join(parts) + "}"


@pytest.mark.parametrize("path", ["/api/event", "/api/track"])
@pytest.mark.parametrize("field, fields", EVENT_STRING_FIELDS, ids=[f for f, _ in EVENT_STRING_FIELDS])
def test_a_lone_surrogate_in_an_event_field_is_400_naming_it(backend, path, field, fields):
    status, _, body = backend.event(_raw(fields, path), path)
    assert status == 400, body
    assert body["message"].startswith(f"Invalid field '{field}'") and "surrogate" in body["message"]
    assert backend.stored() == 0


def test_a_lone_surrogate_in_the_tracker_domain_is_400_naming_it(backend):
    status, _, body = backend.event(_raw({"domain": "\\ud800"}, "/api/track"), "/api/track")
    assert status == 400 and body["message"].startswith("Invalid field 'domain'")


def test_a_lone_surrogate_in_a_field_name_is_400_shown_printably(backend):
    status, _, body = backend.event('{"url": "%s", "x\\ud800": 1}' % URL)
    assert status == 400 and "'x\\ud800'" in body["message"]


@pytest.mark.parametrize("raw, field", [
    ('{"metrics": ["\\ud800"]}', "metrics[0]"),
    ('{"period": "7\\udfffd"}', "period"),
    ('{"timezone": "\\ud800"}', "timezone"),
    ('{"date_range": {"start": "\\ud800", "end": "2026-01-02"}}', "date_range.start"),
    ('{"filters": [{"dimension": "page", "operator": "is", "value": ["/a", "\\ud800"]}]}', "filters[0].value[1]"),
    ('{"filters": [{"dimension": "prop:\\ud800", "operator": "is", "value": "x"}]}', "filters[0].dimension"),
])
def test_a_lone_surrogate_in_a_query_field_is_400_naming_it(backend, raw, field):
    status, _, body = backend.query(raw)
    assert status == 400, body
    assert body["message"].startswith(f"Invalid field '{field}'") and "surrogate" in body["message"]


def test_a_surrogate_pair_is_an_ordinary_character(backend):
    status, _, body = backend.event('{"url": "https://example.com/\\ud83d\\ude00"}')
    assert status == 200 and body["success"] is True
    assert backend.stored() == 1


def _deep(levels: int) -> str:
    return '{"url": "%s", "meta_keys": %s}' % (URL, "[" * levels + "]" * levels)


POISON = [
    ("nested 990", lambda: _deep(990), "nested deeper than"),
    ("nested 100000", lambda: "[" * 100_000, "nested deeper than"),
    ("object nesting", lambda: '{"a":' * 5000 + "1" + "}" * 5000, "nested deeper than"),
    ("4301 digits", lambda: '{"url": "%s", "screen_width": %s}' % (URL, "9" * 4301), "'screen_width'"),
    ("long float", lambda: '{"url": "%s", "scroll": 1.%s}' % (URL, "5" * 5000), "'scroll'"),
    ("long exponent", lambda: '{"url": "%s", "scroll": 1e%s}' % (URL, "9" * 200), "'scroll'"),
]


@pytest.mark.parametrize("route", ["/api/event", "/api/track", "/api/query"])
@pytest.mark.parametrize("name, make, fragment", POISON, ids=[p[0] for p in POISON])
def test_deep_nesting_and_overlong_numbers_are_400_with_one_log_line(backend, caplog, route, name, make, fragment):
    caplog.set_level(logging.INFO)
    raw = make()
    if route == "/api/query":
        raw = raw.replace('"url": "%s", ' % URL, "").replace('"meta_keys"', '"metrics"')
        raw = raw.replace('"screen_width"', '"limit"').replace('"scroll"', '"offset"')
        status, _, body = backend.query(raw)
    else:
        status, _, body = backend.event(raw.replace('{"url"', '{"domain": "example.com", "url"', 1)
                                        if route == "/api/track" else raw, route)
    assert status == 400, body
    assert body["error"] == "Bad Request"
    expected = fragment.replace("'screen_width'", "'limit'").replace("'scroll'", "'offset'") \
        if route == "/api/query" else fragment
    assert expected in body["message"]
    if "nested" in fragment:
        assert str(MAX_JSON_DEPTH) in body["message"]
    else:
        assert str(MAX_NUMBER_CHARS) in body["message"]
    lines = [r for r in caplog.records if r.name.startswith("clickport")]
    assert len(lines) == 1 and lines[0].exc_info is None, [r.getMessage() for r in lines]
    assert "Traceback" not in caplog.text
    assert backend.stored() == 0


@pytest.mark.parametrize("raw", ['{"url": "%s", "scroll": NaN}' % URL, '{"url": "%s", "scroll": -Infinity}' % URL])
def test_nan_and_infinity_are_not_json(backend, raw):
    status, _, body = backend.event(raw)
    assert status == 400 and "is not a JSON number" in body["message"]


def test_the_deepest_body_a_route_needs_is_far_inside_the_depth_limit(backend):
    body = {"filters": [{"dimension": "page", "operator": "is", "value": ["/a", "/b"]}]}
    status, _, answer = backend.query(json.dumps(body))
    assert status == 200, answer


def _import_line(**fields) -> str:
    from datetime import datetime, timedelta, timezone

    ts = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    return json.dumps({"timestamp": ts, "user_agent": BROWSER_UA, "url": URL, "ip": "198.51.100.7", **fields})


@pytest.mark.parametrize("strict", [False, True])
def test_import_on_aws_rejects_the_huge_revenue_line_and_stores_the_rest_unless_strict(monkeypatch, strict):
    """``clickport import --aws`` writes through Firehose: the line is rejected with its reason before
    anything is sent; the others are delivered (``--strict``: none)."""
    from clickport.ingest.importer import import_events
    from tests.support.aws import aws_stack

    with aws_stack(monkeypatch) as stack:
        good = [_import_line(url=f"{URL}/{i}") for i in range(6)]
        huge = _import_line(type="custom", name="Purchase").replace("}", ', "revenue_amount": 1e13}')
        summary = import_events(good[:3] + [huge] + good[3:], site=stack.site, sink=stack.runtime.sink,
                                config=stack.runtime.config, strict=strict)
        assert [(n, "'revenue_amount'" in reason) for n, reason in summary.rejected.entries()] == [(4, True)]
        assert summary.stored == (0 if strict else 6)
        assert (len(stack.stored_objects()) > 0) is (not strict)


def test_the_local_server_answers_the_same_400s(server, keys):
    """Through the real local server (HTTP parser, event workers and their journal), not only the handlers."""
    import urllib.error
    import urllib.request

    def post(path, raw, key=None):
        headers = {"User-Agent": BROWSER_UA, "Content-Type": "application/json"}
        if key:
            headers["x-api-key"] = key
        request = urllib.request.Request(server + path, data=raw.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=20) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    cases = [
        ("/api/event", _custom("1e308"), keys["tracker"], "'revenue_amount'"),
        ("/api/track", _custom("1e13", "/api/track"), None, "'revenue_amount'"),
        ("/api/event", '{"url": "%s", "meta_keys": ["a"], "meta_values": ["\\ud800"]}' % URL, keys["tracker"],
         "'meta_values[0]'"),
        ("/api/event", _deep(990), keys["tracker"], "nested deeper than"),
        ("/api/query", '{"limit": %s}' % ("9" * 4301), keys["read"], "'limit'"),
        ("/api/query", json.dumps({"metrics": ["visitors"], "filters": [
            {"dimension": "page", "operator": "matches", "value": "^(a+)+$"}]}), keys["read"], "portable pattern"),
    ]
    for path, raw, key, fragment in cases:
        status, body = post(path, raw, key)
        assert status == 400 and fragment in body["message"], (path, raw[:60], body)
    status, body = post("/api/event", '{"url": "%s"}' % URL, keys["tracker"])  # one valid event
    assert status == 200 and body["success"] is True
    server.flush()
    from clickport.runtime import get_runtime

    assert [row["path"] for row in stored_rows(get_runtime().settings.data_dir)] == ["/checkout"]
