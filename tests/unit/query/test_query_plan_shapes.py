"""Plan shapes: one GROUP BY per session for session-level queries, session-attribute filters at the
scan, two-phase distinct visitors for event-level groups, no windows unless a metric needs them,
and Athena SQL that only calls Trino functions (exact ones)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from clickport.query.columns import Layout, OutputColumn, integer, parse_revenue
from clickport.query.expressions import SqlDialect
from clickport.query.service import plan_query
from clickport.query.sql import build_query
from clickport.query.time_keys import TimeLabel, bucket_key, offsets
from clickport.query.zones import get_zone
from tests.unit.query.conftest import NOW

MARCH = {"date_range": {"start": "2026-03-01", "end": "2026-03-31"}, "timezone": "Europe/Berlin"}
AGGREGATE = {**MARCH, "metrics": ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration"]}
TOP_PAGES = {**MARCH, "metrics": ["visitors", "pageviews"], "dimensions": ["page"], "limit": 50}
FILTERED_PAGES = {**TOP_PAGES, "filters": [{"dimension": "country", "operator": "is", "value": "DE"},
                                           {"dimension": "source", "operator": "is", "value": "google"}]}
DAILY = {**MARCH, "metrics": ["visitors", "pageviews", "sessions"], "dimensions": ["date"]}


def _ctes(body, site, goals, dialect="duckdb") -> dict[str, exp.Expression]:
    expression = build_query(plan_query(body, site=site, goals=goals, now=NOW), dialect).expression
    return {cte.alias: cte.this for cte in expression.find_all(exp.CTE)}


def test_a_session_level_aggregate_groups_once_per_session_without_windows(site, goals):
    ctes = _ctes({**AGGREGATE, "include_comparison": True}, site, goals)
    assert list(ctes) == ["events_in_range", "sessions", "groups", "grouped"]
    assert not any(c.find(exp.Window) for c in ctes.values())
    grouped_by = [g.sql() for g in ctes["sessions"].args["group"].expressions]
    assert grouped_by == ["ev.period", "ev.session_id"]
    assert "ARG_MIN_NULL(ev.visitor_id, ev.ts)" in ctes["sessions"].sql("duckdb")


def test_session_attribute_filters_apply_at_the_scan(site, goals):
    ctes = _ctes(FILTERED_PAGES, site, goals)
    scan = ctes["events_in_range"].args["where"].sql()
    assert "COALESCE(NULLIF(country, ''), '(none)') IN ('DE')" in scan
    assert "COALESCE(NULLIF(source, ''), 'Direct') IN ('google')" in scan
    assert "country" not in ctes["counted"].args["where"].sql()


def test_entry_and_exit_filters_need_the_session_and_apply_after_it(site, goals):
    body = {**AGGREGATE, "filters": [{"dimension": "entry_page", "operator": "is", "value": "/"}]}
    ctes = _ctes(body, site, goals)
    assert "entry_page" not in ctes["events_in_range"].args["where"].sql()
    assert "ev.entry_page" in ctes["sessions"].args["where"].sql()
    assert ctes["session_events"].find(exp.Window) is not None


@pytest.mark.parametrize("dialect", ["duckdb", "athena"])
@pytest.mark.parametrize("body", [TOP_PAGES, FILTERED_PAGES])
def test_event_level_groups_count_visitors_in_two_phases(body, dialect, site, goals):
    ctes = _ctes(body, site, goals, dialect)
    assert list(ctes)[:4] == ["events_in_range", "counted", "visitor_groups", "groups"]
    assert not any(isinstance(n.this, exp.Distinct) for n in ctes["groups"].find_all(exp.Count))
    assert not any(c.find(exp.Window) for name, c in ctes.items() if name != "ranked_groups")


def test_a_daily_series_groups_per_session_on_integer_keys(site, goals):
    ctes = _ctes(DAILY, site, goals)
    assert list(ctes) == ["events_in_range", "counted", "session_groups", "visitor_groups", "groups", "grouped"]
    assert "strftime" not in ctes["counted"].sql("duckdb").lower()
    assert " // 86400000" in ctes["counted"].sql("duckdb")
    athena = _ctes(DAILY, site, goals, "athena")
    assert list(athena) == ["events_in_range", "counted", "session_groups", "visitor_groups", "groups", "grouped"]


def test_durations_are_exact_integer_differences_without_calendar_functions_on_duckdb(site, goals):
    sessions = _ctes(AGGREGATE, site, goals)["sessions"].sql("duckdb")
    assert "EPOCH_MS(MAX(ev.ts)) - EPOCH_MS(MIN(ev.ts))" in sessions and "DATE_DIFF" not in sessions
    athena = _ctes(AGGREGATE, site, goals, "athena")["sessions"].sql("athena")
    assert "DATE_DIFF('millisecond', MIN(ev.ts), MAX(ev.ts))" in athena


# --- Athena: Trino functions only, and exact ones

TRINO_FUNCTIONS = {
    "array_agg", "array_join", "array_position", "cast", "coalesce", "contains", "count", "count_if", "date_diff",
    "element_at", "greatest", "lower", "max", "max_by", "min", "min_by", "nullif", "regexp_extract", "regexp_like",
    "regexp_replace", "row", "row_number", "strpos", "sum", "if",
}
BODIES = [
    AGGREGATE, TOP_PAGES, FILTERED_PAGES, DAILY,
    {**MARCH, "metrics": ["visitors", "bounce_rate", "avg_duration", "avg_scroll", "clickers", "events", "conversions",
                          "conversion_rate", "total_revenue"], "dimensions": ["entry_page", "goal"],
     "filters": [{"dimension": "exit_page", "operator": "contains", "value": "x"},
                 {"dimension": "prop:plan", "operator": "matches", "value": "^p"}], "include_comparison": True},
    {**MARCH, "metrics": ["sessions", "conversion_rate"], "dimensions": ["month", "event_name"],
     "filters": [{"dimension": "goal", "operator": "is", "value": "Signup"}]},
    {**MARCH, "metrics": ["visitors"], "dimensions": ["week", "hostname"], "order_by": "week"},
]


def _function_names(expression: exp.Expression) -> set[str]:
    """Every function the statement calls, as Trino spells it."""
    names = set()
    for node in expression.find_all(exp.Func):
        text = node.sql(dialect="trino")
        match = re.match(r"([A-Za-z_]+)\(", text)
        if match:
            names.add(match.group(1).lower())
    return names


@pytest.mark.parametrize("body", BODIES)
def test_athena_sql_calls_only_trino_functions(body, site, goals):
    sql = build_query(plan_query(body, site=site, goals=goals, now=NOW), "athena", "db.events").sql("athena")
    parsed = sqlglot.parse_one(sql, read="trino")
    used = _function_names(parsed)
    assert used <= TRINO_FUNCTIONS | {"date_format"}, used - TRINO_FUNCTIONS
    assert not any(name.startswith(("approx", "arg_")) for name in used)
    assert "//" not in sql and "EPOCH_MS" not in sql.upper()


# --- time keys agree with the pinned tz database


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"])
def test_bucket_keys_label_like_the_pinned_tz_database(zone):
    start, end = datetime(2025, 12, 1, tzinfo=timezone.utc), datetime(2027, 1, 15, tzinfo=timezone.utc)
    instants = [start + timedelta(hours=7 * i, milliseconds=i % 997) for i in range(1400)]
    assert instants[-1] < end
    for change, _ in offsets(zone, start, end)[1:]:
        instants += [change - timedelta(milliseconds=1), change]
    dialect = SqlDialect("duckdb")
    units = ("hour", "date", "week", "month")
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("CREATE TABLE t (ts TIMESTAMPTZ)")
    connection.executemany("INSERT INTO t VALUES (?)", [[i] for i in instants])
    keys = ", ".join(bucket_key(u, zone, start, end, dialect).sql("duckdb") for u in units)
    local_zone = get_zone(zone)
    for ts, *row in connection.execute(f"SELECT ts, {keys} FROM t").fetchall():
        local = ts.astimezone(local_zone)
        monday = local.date() - timedelta(days=local.weekday())
        expected = [local.strftime("%Y-%m-%d %H:00"), local.date().isoformat(), monday.isoformat(), local.strftime("%Y-%m")]
        assert [TimeLabel(u)(k) for u, k in zip(units, row)] == expected, ts


def test_zone_offsets_list_the_exact_change_instants():
    changes = offsets("Europe/Berlin", datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc))
    assert changes[1:] == (
        (datetime(2026, 3, 29, 1, tzinfo=timezone.utc), 7_200_000),
        (datetime(2026, 10, 25, 1, tzinfo=timezone.utc), 3_600_000),
    )


# --- the typed column layout


def test_rows_decode_through_the_layout_not_by_position_names():
    layout = Layout((
        OutputColumn("d0", "dimension", 0, TimeLabel("date")),
        OutputColumn("visitors", "total", "visitors", integer),
        OutputColumn("revenue", "total", "revenue", parse_revenue),
        OutputColumn("prev_visitors", "previous", "visitors", integer),
        OutputColumn("row_rank", "rank"),
        OutputColumn("total_rows", "total_rows"),
    ))
    day = TimeLabel("date")
    key = next(k for k in range(93_000, 95_000) if day(k) == "2026-03-29")
    row = layout.decode((key, 7, "EUR:1500000,USD:2", None, 1, 12))
    assert row.values == ("2026-03-29",) and row.totals == {"visitors": 7, "revenue": {"EUR": 1_500_000, "USD": 2}}
    assert row.previous is None and (row.rank, row.total_rows) == (1, 12)
    assert layout.decode((key, 7, None, 3, 2, 12)).previous == {"visitors": 3}
