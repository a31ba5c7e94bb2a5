"""Golden Athena SQL: representative plans render exactly as committed in tests/golden/athena/, and parse back.

Regenerate after an intended change with ``CLICKPORT_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from clickport.ports import Goal, Site
from clickport.query.service import plan_query
from clickport.query.sql import build_query, check_exact

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "athena"
NOW = datetime(2026, 3, 30, 10, 30, 15, 123000, tzinfo=timezone.utc)
SITE = Site("site-a", "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc), first_event_date=date(2026, 1, 5))
GOALS = [
    Goal("site-a", 1, "Thanks", "pageview", {"path": "/thank-you*"}),
    Goal("site-a", 2, "Purchase", "custom", {"event": "Purchase"}),
    Goal("site-a", 3, "Pro plan", "custom", {"event": "Signup", "prop": ["plan", "pro"]}),
    Goal("site-a", 4, "Partner", "click", {"domain": "partner.example.com"}),
    Goal("site-a", 5, "Contact", "form", {"form_id": "contact"}),
]
ALL_METRICS = ["visitors", "sessions", "pageviews", "views_per_visit", "bounce_rate", "avg_duration", "avg_scroll",
               "clickers", "events", "conversions", "conversion_rate", "total_revenue"]

CASES = {
    "aggregate_today": {},
    "aggregate_all_metrics_comparison": {"metrics": ALL_METRICS, "period": "30d", "include_comparison": True,
                                         "timezone": "Europe/Berlin"},
    "breakdown_pages_germany": {
        "metrics": ["visitors", "pageviews", "avg_scroll"], "dimensions": ["page"],
        "date_range": {"start": "2026-03-01", "end": "2026-03-31"},
        "filters": [{"dimension": "country", "operator": "is", "value": "DE"}], "limit": 10, "timezone": "Europe/Berlin",
    },
    "timeseries_date_7d": {"metrics": ["visitors", "pageviews"], "dimensions": ["date"], "period": "7d"},
    "timeseries_hour_comparison": {"metrics": ["visitors", "bounce_rate", "avg_duration"], "dimensions": ["hour"],
                                   "period": "today", "timezone": "America/New_York", "include_comparison": True},
    "breakdown_sources_comparison": {"metrics": ["visitors", "sessions", "bounce_rate", "avg_duration"],
                                     "dimensions": ["source", "entry_page"], "period": "month",
                                     "include_comparison": True, "order_by": "bounce_rate", "order_dir": "asc",
                                     "offset": 20, "limit": 10},
    "goal_dimension": {"metrics": ["visitors", "conversions", "conversion_rate", "total_revenue"],
                       "dimensions": ["goal", "country"], "period": "7d"},
    "goal_filter": {"metrics": ["visitors", "conversion_rate"], "dimensions": ["channel"], "period": "yesterday",
                    "filters": [{"dimension": "goal", "operator": "is", "value": ["Purchase", "Pro plan"]}]},
    "event_filters_and_props": {
        "metrics": ["events", "clickers"], "dimensions": ["event_name", "prop:plan", "week"], "period": "90d",
        "filters": [
            {"dimension": "page", "operator": "not_contains", "value": ["/admin", "/Intern"]},
            {"dimension": "hostname", "operator": "matches", "value": "^(www\\.)?example\\.com$"},
            {"dimension": "exit_page", "operator": "is_not", "value": "/checkout"},
            {"dimension": "goal", "operator": "not_matches", "value": "^Pro"},
        ],
    },
    "breakdown_by_revenue": {"metrics": ["total_revenue", "conversions"], "dimensions": ["page"], "period": "7d",
                             "include_comparison": True},
    "weeks_and_months": {"metrics": ["visitors"], "dimensions": ["month"], "period": "12m", "timezone": "Asia/Kolkata"},
}


def render(name: str) -> str:
    plan = plan_query(CASES[name], site=SITE, goals=GOALS, now=NOW)
    return build_query(plan, "athena", "clickport.events").sql("athena") + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_athena_sql_matches_the_golden_file(name):
    sql = render(name)
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("CLICKPORT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == sql


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_sql_parses_back_as_one_athena_select(name):
    statements = sqlglot.parse((GOLDEN / f"{name}.sql").read_text(encoding="utf-8"), read="athena")
    assert len(statements) == 1 and isinstance(statements[0], exp.Select)
    check_exact(statements[0])
    tables = {t.name for t in statements[0].find_all(exp.Table) if t.args.get("db")}
    assert tables == {"events"}


def test_every_golden_file_has_a_case():
    assert {p.stem for p in GOLDEN.glob("*.sql")} == set(CASES)
