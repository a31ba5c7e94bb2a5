"""The SQL of a plan: site and exact time range first, values only as literals, no approximate functions."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from clickport.ports import Goal
from clickport.query.expressions import SqlDialect
from clickport.query.goal_match import goal_predicate, like_pattern
from clickport.query.service import plan_query
from clickport.query.sql import build_query, check_exact
from tests.unit.query.conftest import NOW

HOSTILE = "x' OR 1=1 --\\'; DROP TABLE events; /* é */"


def _first_where(expression: exp.Expression) -> list[str]:
    cte = next(c for c in expression.find_all(exp.CTE) if c.alias == "events_in_range")
    where = cte.this.args["where"].this
    parts = list(where.flatten()) if isinstance(where, exp.And) else [where]
    return [p.sql() for p in parts]


@pytest.mark.parametrize("dialect", ["athena", "duckdb"])
def test_every_query_starts_with_site_partitions_and_exact_instants(site, goals, dialect):
    plan = plan_query({"dimensions": ["page"], "date_range": {"start": "2026-03-29", "end": "2026-03-30"},
                       "timezone": "Europe/Berlin"}, site=site, goals=goals, now=NOW)
    conditions = _first_where(build_query(plan, dialect).expression)
    assert conditions[0] == "site_id = 'site-a'"
    assert conditions[1] == "dt BETWEEN '2026-03-27' AND '2026-03-30'"
    assert conditions[2].startswith("ts >= CAST('2026-03-28 23:00:00.000")
    assert conditions[3].startswith("ts < CAST('2026-03-29 22:00:00.000")


@pytest.mark.parametrize("dialect", ["athena", "duckdb"])
def test_user_values_only_ever_become_string_literals(site, goals, dialect):
    body = {
        "dimensions": [f"prop:{HOSTILE}"],
        "filters": [
            {"dimension": "page", "operator": "is", "value": [HOSTILE, "/"]},
            {"dimension": "country", "operator": "contains", "value": HOSTILE},
            {"dimension": "city", "operator": "matches", "value": "'\\)"},
        ],
        "metrics": ["visitors", "conversions"],
    }
    plan = plan_query(body, site=site, goals=goals, now=NOW)
    sql = build_query(plan, dialect).sql(dialect)
    parsed = sqlglot.parse(sql, read=dialect)
    assert len(parsed) == 1, "one statement only"
    literals = {node.this for node in parsed[0].find_all(exp.Literal) if node.is_string}
    assert HOSTILE in literals and "'\\)" in literals
    assert not list(parsed[0].find_all(exp.Drop))


def test_approximate_distincts_are_refused():
    with pytest.raises(ValueError):
        check_exact(sqlglot.parse_one("SELECT approx_distinct(visitor_id) FROM t", read="athena"))
    with pytest.raises(ValueError):
        check_exact(sqlglot.parse_one("SELECT approx_count_distinct(visitor_id) FROM t", read="duckdb"))
    check_exact(sqlglot.parse_one("SELECT count(DISTINCT visitor_id) FROM t"))


@pytest.mark.parametrize("dialect", ["athena", "duckdb"])
def test_generated_queries_use_exact_distinct_counts(site, goals, dialect):
    body = {"metrics": ["visitors", "conversion_rate"], "dimensions": ["goal"], "period": "7d"}
    expression = build_query(plan_query(body, site=site, goals=goals, now=NOW), dialect).expression
    assert any(isinstance(n.this, exp.Distinct) for n in expression.find_all(exp.Count))
    assert not list(expression.find_all(exp.ApproxDistinct))


def test_goal_of_unknown_type_or_bad_definition_matches_nothing():
    dialect = SqlDialect("duckdb")
    assert goal_predicate(Goal("s", 1, "x", "scroll", {"depth": 50}), "ev", dialect) == exp.false()
    assert goal_predicate(Goal("s", 1, "x", "custom", {"event": "A", "prop": "plan"}), "ev", dialect) == exp.false()
    assert goal_predicate(Goal("s", 1, "x", "pageview", {}), "ev", dialect) == exp.false()


def test_goal_path_patterns_escape_like_wildcards():
    assert like_pattern("/thank-you*") == "/thank-you%"
    assert like_pattern("/a_b%c\\*") == "/a\\_b\\%c\\\\%"


def test_athena_and_duckdb_differ_only_where_meaning_differs(site, goals):
    body = {"dimensions": ["hour"], "metrics": ["avg_duration", "bounce_rate"], "timezone": "America/New_York",
            "date_range": {"start": "2026-03-07", "end": "2026-03-09"}}
    plan = plan_query(body, site=site, goals=goals, now=NOW)
    athena = build_query(plan, "athena", "clickport.events").sql("athena")
    duckdb = build_query(plan, "duckdb").sql("duckdb")
    # Buckets are integer keys from epoch milliseconds plus the zone's offsets (computed in Python).
    assert "DATE_DIFF('millisecond', CAST('1970-01-01 00:00:00.000' AS TIMESTAMP), ev.ts)" in athena
    assert "EPOCH_MS(ev.ts)" in duckdb
    assert " // 3600000" in duckdb and " / 3600000" in athena
    assert "CAST('2026-03-08 07:00:00.000' AS TIMESTAMP)" in athena  # New York's DST change in range
    assert '"clickport"."events"' in athena


def test_ratio_sort_keys_are_true_divisions_in_both_dialects(site, goals):
    body = {"dimensions": ["page"], "metrics": ["bounce_rate"]}
    plan = plan_query(body, site=site, goals=goals, now=NOW)
    key = "CAST(c.bounces AS DOUBLE) / CAST(c.bounce_base AS DOUBLE)"
    assert key in build_query(plan, "athena").sql("athena").replace("\n", " ")
    assert key in build_query(plan, "duckdb").sql("duckdb").replace("\n", " ")
