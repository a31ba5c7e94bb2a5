"""Revenue sums cannot overflow on either engine (issue 12): amounts are bounded per event
(``MAX_REVENUE_AMOUNT``, micro-units) and summed as DECIMAL(38, 0), so even sums past 2^63
micro-units are exact. DuckDB runs the sums here; for Athena the statement the AWS handlers send
(moto) is checked.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from clickport.limits import MAX_REVENUE_MICROS
from clickport.query.goals import goals_report
from tests.conftest import Gateway
from tests.reference.storage import write_events
from tests.support.aws import aws_stack

NOW = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
PURCHASES = 10_000  # at the largest amount: 10^19 micro-units, past a BIGINT's 9.22 * 10^18
INT64_MAX = 2**63 - 1


def _purchases(store) -> None:
    start = NOW - timedelta(days=1)
    rows = []
    for i in range(PURCHASES):
        ts = start + timedelta(seconds=i)
        rows.append({"ts": ts, "seq": 1, "type": "custom", "name": "Purchase", "session_id": i + 1,
                     "visitor_id": i + 1, "path": "/buy", "hostname": "example.com", "page_visit_id": "0" * 16,
                     "revenue_micros": MAX_REVENUE_MICROS, "revenue_currency": "USD"})
    write_events(store.data_dir, store.site.site_id, rows)


def test_duckdb_sums_revenue_past_a_bigint_exactly(store):
    _purchases(store)
    assert PURCHASES * MAX_REVENUE_MICROS > INT64_MAX
    expected = PURCHASES * MAX_REVENUE_MICROS / 10**6
    total = store.query({"metrics": ["total_revenue"], "period": "7d"}, NOW)
    assert total["results"] == {"total_revenue": {"USD": expected}}
    ranked = store.query({"metrics": ["total_revenue", "conversions"], "dimensions": ["page"], "period": "7d",
                          "order_by": "total_revenue"}, NOW)
    assert ranked["results"] == [{"page": "/buy", "total_revenue": {"USD": expected}, "conversions": PURCHASES}]
    report = goals_report({"start_date": "2026-03-01", "end_date": "2026-03-11"}, site=store.site,
                          goals=store.goals, engine=store.engine, now=NOW)
    purchase = next(g for g in report["goals"] if g["name"] == "Purchase")
    assert (purchase["events"], purchase["total_revenue"]) == (PURCHASES, expected)


def test_athena_sums_revenue_as_decimal_38_on_every_revenue_route(monkeypatch):
    with aws_stack(monkeypatch) as stack:
        stack.runtime.config.create_goal(stack.site.site_id, "Purchase", "custom", {"event": "Purchase"})
        headers = {"x-api-key": stack.keys["read"]}
        call = Gateway()
        for method, target, body in [
            ("POST", "/api/query", {"metrics": ["total_revenue"], "period": "30d"}),
            ("POST", "/api/query", {"metrics": ["total_revenue", "visitors"], "dimensions": ["page"],
                                    "order_by": "total_revenue", "period": "7d", "include_comparison": True}),
            ("GET", "/api/goals?start_date=2026-03-01&end_date=2026-03-31", None),
        ]:
            status, _, answer = call(method, target, body=body, headers=headers)
            assert status == 200, answer
        statements = stack.athena_sql()
        assert len(statements) == 3
        for sql in statements:
            assert "SUM(CAST(revenue_micros AS DECIMAL(38, 0)))" in sql
            assert "SUM(revenue_micros)" not in sql.replace(" ", "")
