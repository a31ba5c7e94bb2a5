"""``matches`` takes the portable pattern language on both backends (issue 12): catastrophic or
engine-specific patterns are a 400 with the reason before any engine runs; accepted ones reach DuckDB
and Athena written the same way (``\\A``, ``\\z``, ``[^\\n]``)."""

from __future__ import annotations

import pytest

from tests.conftest import BROWSER_UA, Gateway
from tests.support.aws import aws_stack


@pytest.fixture(params=["local", "aws"])
def backend(request, monkeypatch):
    call = Gateway()
    if request.param == "local":
        keys = request.getfixturevalue("keys")
        yield (lambda body: call("POST", "/api/query", body=body, headers={"x-api-key": keys["read"]})), None
    else:
        with aws_stack(monkeypatch) as stack:
            yield ((lambda body: call("POST", "/api/query", body=body, headers={"x-api-key": stack.keys["read"]})),
                   stack.athena_sql)


def _filter(pattern, operator="matches"):
    return {"metrics": ["visitors"], "period": "7d",
            "filters": [{"dimension": "page", "operator": operator, "value": pattern}]}


@pytest.mark.parametrize("pattern, reason", [
    ("^(a+)+$", "only a single character, '.' or a class may repeat"),
    ("(?P<n>x)", "no named groups"),
    ("(x+x+)+y", "only a single character, '.' or a class may repeat"),
    (".*a.*a.*a.*b", "can also match a character that may follow it"),
    ("\\d{4}", "'\\d' is not portable"),
])
@pytest.mark.parametrize("operator", ["matches", "not_matches"])
def test_a_pattern_outside_the_portable_language_is_400_with_the_reason(backend, pattern, reason, operator):
    query, athena_sql = backend
    status, _, body = query(_filter(pattern, operator))
    assert status == 400, body
    assert body["message"].startswith("filters[0].value: ") and "not a portable pattern" in body["message"]
    assert reason in body["message"]
    if athena_sql is not None:
        assert athena_sql() == []


def test_every_value_of_a_pattern_list_is_checked(backend):
    query, _ = backend
    status, _, body = query(_filter(["^/ok", "^(a|a)*$"]))
    assert status == 400 and "'^(a|a)*$'" in body["message"]


def test_an_accepted_pattern_reaches_athena_in_the_portable_spelling(monkeypatch):
    with aws_stack(monkeypatch) as stack:
        status, _, body = Gateway()("POST", "/api/query", body=_filter(["^/blog/[^/]+$", "^/docs/.*"]),
                                    headers={"x-api-key": stack.keys["read"]})
        assert status == 200, body
        (sql,) = stack.athena_sql()
        assert "'\\A/blog/[^/]+\\z'" in sql and "'\\A/docs/[^\\n]*'" in sql


def test_end_anchor_means_the_end_of_the_value_on_duckdb_too(gateway, keys):
    """Athena's ``$`` would also match before a final line break; ``\\z`` means the same on both."""
    headers = {"x-api-key": keys["both"], "User-Agent": BROWSER_UA}
    status, _, _ = gateway("POST", "/api/event", body={"type": "custom", "name": "Signup\n", "url": "https://example.com/"},
                           headers=headers)
    assert status == 200
    counts = {}
    for pattern in ("^Signup$", "^Signup", "Signup\n$"):
        body = {"metrics": ["events"], "period": "today",
                "filters": [{"dimension": "event_name", "operator": "matches", "value": pattern}]}
        status, _, answer = gateway("POST", "/api/query", body=body, headers=headers)
        assert status == 200, answer
        counts[pattern] = answer["results"]["events"]
    assert counts == {"^Signup$": 0, "^Signup": 1, "Signup\n$": 1}
