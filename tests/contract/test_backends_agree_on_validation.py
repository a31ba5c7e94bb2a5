"""Both backends give the same status (and the same message for a 400) to the same request (issue 12).

Generated bodies — requests of the query strategies, those with one field replaced by any JSON value,
arbitrary JSON, and poison (lone surrogates, deep nesting, long numbers, huge revenue, catastrophic
patterns, oversized answers) — go through the functions' handlers on the local runtime (SQLite, Parquet,
DuckDB) and on the AWS runtime (DynamoDB, Firehose and Athena in moto).
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clickport.runtime import Runtime, set_runtime
from clickport.settings import Settings
from tests.conftest import BROWSER_UA, Gateway
from tests.reference.strategies import GOALS, requests
from tests.support.aws import aws_stack

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ANCHOR = datetime(2026, 3, 29, tzinfo=timezone.utc)
EXAMPLES = 150


class Backends:
    """The two runtimes, each with a site, keys and the reference goals; requests go to both."""

    def __init__(self, tmp_path, monkeypatch) -> None:
        from clickport.domain.keys import issue_key

        self.stack = ExitStack()
        self.local = Runtime(Settings(data_dir=tmp_path / "data", key_cache_seconds=0))
        self.aws = self.stack.enter_context(aws_stack(monkeypatch)).runtime
        self.keys = {}
        for name, runtime in (("local", self.local), ("aws", self.aws)):
            sites = runtime.config.list_sites()
            site = sites[0] if sites else runtime.config.create_site("example.com")
            for goal in GOALS:
                runtime.config.create_goal(site.site_id, goal.name, goal.type, goal.definition)
            self.keys[name] = issue_key(runtime.config, site.site_id, ["read", "tracker"])[0]
        self.call = Gateway()

    def both(self, method: str, target: str, body) -> list[tuple[int, object]]:
        answers = []
        for name, runtime in (("local", self.local), ("aws", self.aws)):
            set_runtime(runtime)
            headers = {"User-Agent": BROWSER_UA}
            if target != "/api/track":
                headers["x-api-key"] = self.keys[name]
            status, _, answer = self.call(method, target, body=body, headers=headers)
            answers.append((status, answer.get("message") if status >= 400 and isinstance(answer, dict) else None))
        return answers


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    with pytest.MonkeyPatch.context() as monkeypatch:
        instance = Backends(tmp_path_factory.mktemp("agree"), monkeypatch)
        try:
            yield instance
        finally:
            instance.stack.close()
            set_runtime(None)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
QUERY_FIELDS = ["metrics", "dimensions", "period", "date_range", "filters", "order_by", "order_dir", "limit",
                "offset", "timezone", "include_comparison", "site_id", "colour"]
EVENT_FIELDS = ["type", "url", "referrer", "name", "utm_source", "screen_width", "timezone", "revenue_amount",
                "revenue_currency", "meta_keys", "meta_values", "session_id", "page_visit_id", "scroll", "engaged_ms"]
POISON_QUERIES = [
    '{"metrics": ["\\ud800"]}', "[" * 2000, '{"limit": ' + "7" * 5000 + "}",
    '{"filters": [{"dimension": "page", "operator": "matches", "value": "^(a+)+$"}]}',
    '{"filters": [{"dimension": "page", "operator": "matches", "value": "(?P<n>x)"}]}',
    json.dumps({"metrics": ["visitors", "sessions", "pageviews", "views_per_visit", "bounce_rate", "avg_duration",
                            "avg_scroll", "clickers", "events", "conversions", "conversion_rate", "total_revenue"],
                "dimensions": ["hour"], "period": "12m", "include_comparison": True}),
    "null", "", "NaN", '{"period": Infinity}',
]
POISON_EVENTS = [
    '{"type": "custom", "name": "P", "url": "https://example.com/", "revenue_amount": 1e308}',
    '{"type": "custom", "name": "P", "url": "https://example.com/", "revenue_amount": 10000000000000}',
    '{"url": "https://example.com/\\ud800"}', '{"url": "https://example.com/", "meta_keys": ["a"], '
    '"meta_values": ["\\udfff"]}', '{"url": "https://example.com/", "screen_width": ' + "1" * 4400 + "}",
    "{" * 1000, '{"url": "https://example.com/", "x\\ud800": 1}',
]


@st.composite
def query_bodies(draw):
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(POISON_QUERIES))
    if kind == 3:
        return json.dumps(draw(JSON))
    body, _ = draw(requests(ANCHOR, GOALS))
    if kind == 2:
        body[draw(st.sampled_from(QUERY_FIELDS))] = draw(JSON)
    return json.dumps(body)


@st.composite
def event_bodies(draw):
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(POISON_EVENTS))
    if kind == 3:
        return json.dumps(draw(JSON))
    body = {"url": "https://example.com/" + draw(st.sampled_from(["", "pricing", "a?b=c"]))}
    if draw(st.booleans()):
        body.update(type="custom", name=draw(st.sampled_from(["Purchase", "Signup"])),
                    revenue_amount=draw(st.one_of(st.integers(-5, 10**14), st.floats(0, 1e12))))
    if kind == 2:
        body[draw(st.sampled_from(EVENT_FIELDS))] = draw(JSON)
    return json.dumps(body)


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(body=query_bodies())
def test_a_query_body_gets_the_same_status_on_both_backends(backends, body):
    local, aws = backends.both("POST", "/api/query", body)
    event(f"status {local[0]}")
    assert local == aws, body
    assert local[0] in (200, 400), (body, local)


@SETTINGS
@given(body=event_bodies(), route=st.sampled_from(["/api/event", "/api/track"]))
def test_an_event_body_gets_the_same_status_on_both_backends(backends, body, route):
    if route == "/api/track" and body.startswith('{"'):
        body = '{"domain": "example.com", ' + body[1:]  # the tracker's body names the site's domain
    local, aws = backends.both("POST", route, body)
    event(f"status {local[0]}")
    assert local == aws, body
    assert local[0] in (200, 400), (body, local)


@SETTINGS
@given(start=st.text("0123456789-", max_size=12), end=st.text("0123456789-", max_size=12),
       extra=st.sampled_from(["", "&timezone=Europe/Berlin", "&limit=0", "&limit=10001", "&offset=-1", "&x=1",
                              "&timezone=utc", "&limit=" + "9" * 50]),
       path=st.sampled_from(["/api/goals", "/api/pages", "/api/timeseries", "/api/utm/source"]))
def test_query_parameters_get_the_same_status_on_both_backends(backends, start, end, extra, path):
    if path == "/api/goals" and extra.startswith(("&limit", "&offset")):
        extra = ""
    local, aws = backends.both("GET", f"{path}?start_date={start}&end_date={end}{extra}", None)
    assert local == aws, (path, start, end, extra)
    assert local[0] in (200, 400)
