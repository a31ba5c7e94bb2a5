"""The size of an answer is bounded (issue 12): rows × periods × (dimensions + metrics) at most
``MAX_ANSWER_VALUES``, checked before the query runs, the same on both backends; and the JSON as Lambda
carries it at most ``MAX_ANSWER_BYTES`` (Lambda's response limit is 6 MB).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from clickport.errors import BadRequest
from clickport.http.stats import answer_text
from clickport.limits import MAX_ANSWER_BYTES, MAX_ANSWER_VALUES
from clickport.query.metrics import METRIC_NAMES
from tests.conftest import Gateway
from tests.reference.storage import write_events
from tests.support.aws import aws_stack

ALL_METRICS = list(METRIC_NAMES)
YEAR_BY_HOUR = {"metrics": ALL_METRICS, "dimensions": ["hour"], "period": "12m", "include_comparison": True}
NINE = ALL_METRICS[:9]


@pytest.fixture(params=["local", "aws"])
def backend(request, monkeypatch):
    """(call the query route, the statements Athena was sent or None)."""
    call = Gateway()
    if request.param == "local":
        keys = request.getfixturevalue("keys")
        yield (lambda body: call("POST", "/api/query", body=body, headers={"x-api-key": keys["read"]})), None
    else:
        with aws_stack(monkeypatch) as stack:
            yield ((lambda body: call("POST", "/api/query", body=body, headers={"x-api-key": stack.keys["read"]})),
                   stack.athena_sql)


def test_a_year_by_hour_with_every_metric_and_comparison_is_400_naming_the_bound(backend):
    query, athena_sql = backend
    status, _, body = query(YEAR_BY_HOUR)
    assert status == 400, body
    assert body["error"] == "Bad Request"
    assert f"at most {MAX_ANSWER_VALUES:,}" in body["message"] and "rows × periods" in body["message"]
    if athena_sql is not None:
        assert athena_sql() == []  # refused before the engine


# (body, accepted): the same status on both backends.
BOUNDARY = [
    ({"metrics": NINE, "dimensions": ["page"], "limit": 6250, "period": "7d", "include_comparison": True}, True),
    ({"metrics": NINE, "dimensions": ["page"], "limit": 6251, "period": "7d", "include_comparison": True}, False),
    ({"metrics": ALL_METRICS, "dimensions": ["page", "country"], "limit": 8928, "period": "7d"}, True),
    ({"metrics": ALL_METRICS, "dimensions": ["page", "country"], "limit": 8929, "period": "7d"}, False),
    ({"metrics": ALL_METRICS, "dimensions": ["hour"], "period": "12m"}, True),
    ({"metrics": ALL_METRICS[:6], "dimensions": ["hour"], "period": "12m", "include_comparison": True}, True),
    ({"metrics": ALL_METRICS, "dimensions": ["hour"], "period": "12m", "include_comparison": True, "limit": 4000},
     True),
    ({"metrics": ["visitors"], "dimensions": ["hour"], "date_range": {"start": "2016-01-01", "end": "2026-01-01"}},
     False),
    ({"metrics": ["visitors"], "dimensions": ["date"], "date_range": {"start": "2016-01-01", "end": "2026-01-01"},
      "include_comparison": True}, True),
    ({"metrics": ALL_METRICS, "include_comparison": True, "period": "all"}, True),
]


@pytest.mark.parametrize("body, accepted", BOUNDARY)
def test_the_bound_gives_the_same_status_on_both_backends(backend, body, accepted):
    query, _ = backend
    status, _, answer = query(body)
    assert status == (200 if accepted else 400), answer
    if not accepted:
        assert f"{MAX_ANSWER_VALUES:,}" in answer["message"]


def test_the_largest_allowed_time_series_stays_well_under_lambdas_limit(runtime, keys, site):
    """A year by hour, 6 metrics and comparison (123k values), every hour holding visits and revenue."""
    now = datetime.now(timezone.utc).replace(minute=30, second=0, microsecond=0)
    rows = []
    for hour in range(2 * 366 * 24):
        ts = now - timedelta(hours=hour)
        for k in range(2):
            rows.append({"ts": ts, "seq": 1, "type": "pageview", "session_id": hour * 2 + k + 1,
                         "visitor_id": 10**17 + hour * 2 + k, "path": "/pricing", "hostname": "example.com",
                         "page_visit_id": "0123456789abcdef", "scroll": 55})
    write_events(runtime.data_dir, site.site_id, rows)
    body = {"metrics": ALL_METRICS[:6], "dimensions": ["hour"], "period": "12m", "include_comparison": True}
    status, _, answer = Gateway()("POST", "/api/query", body=body, headers={"x-api-key": keys["read"]})
    assert status == 200, answer
    assert len(answer["results"]) > 8000
    carried = len(json.dumps(json.dumps(answer, separators=(",", ":"))))
    assert carried < MAX_ANSWER_BYTES < 6 * 1024 * 1024 * 0.75


def test_an_answer_of_long_values_over_the_byte_limit_is_400(runtime, keys, site):
    now = datetime.now(timezone.utc) - timedelta(minutes=5)
    rows = [{"ts": now, "seq": 1, "type": "pageview", "session_id": i + 1, "visitor_id": i + 1,
             "path": f"/{i:05d}" + "x" * 1990, "hostname": "example.com", "page_visit_id": "0123456789abcdef"}
            for i in range(2500)]
    write_events(runtime.data_dir, site.site_id, rows)
    call = Gateway()
    body = {"metrics": ["visitors"], "dimensions": ["page"], "period": "today", "limit": 2500}
    status, _, answer = call("POST", "/api/query", body=body, headers={"x-api-key": keys["read"]})
    assert status == 400, answer
    assert f"{MAX_ANSWER_BYTES:,} bytes" in answer["message"]
    status, _, answer = call("POST", "/api/query", body={**body, "limit": 1000}, headers={"x-api-key": keys["read"]})
    assert status == 200 and len(answer["results"]) == 1000


def test_answer_text_measures_the_escaped_json():
    quotes = {"results": [{"page": '"' * 1000}] * 1500}  # 1.5 MB of quotes: 3 MB once escaped, 6 MB twice
    with pytest.raises(BadRequest, match="over the limit"):
        answer_text(quotes)
    assert json.loads(answer_text({"results": [{"page": "/ü"}]})) == {"results": [{"page": "/ü"}]}
