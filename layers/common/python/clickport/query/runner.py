"""Runs a QueryPlan on a QueryEngine: build and render the SQL, execute it, read the rows back as totals."""

from __future__ import annotations

import time
from datetime import timedelta
from dataclasses import dataclass, field
from typing import Any

from clickport.ports import QueryEngine, ScanScope
from clickport.query.periods import day_start, local_date
from clickport.query.plan import QueryPlan
from clickport.query.sql import SplitSource, build_query, uses_page_ids
from clickport.query.sql_slots import first_row_statement, lone_statement, slots_eligible
from clickport.query.zones import get_zone

DEFAULT_TABLE = "events"


@dataclass(frozen=True)
class Group:
    """One group of one period: its dimension values and exact totals."""

    period: int
    values: tuple[str, ...]
    totals: dict[str, Any]


@dataclass(frozen=True)
class RankedRow:
    values: tuple[str, ...]
    totals: dict[str, Any]
    previous: dict[str, Any] | None  # None: no row in the previous period (or no comparison)
    rank: int


@dataclass
class EngineResult:
    groups: list[Group] = field(default_factory=list)  # plans not ranked in SQL
    ranked: list[RankedRow] = field(default_factory=list)  # plans ranked in SQL: the page only
    total_rows: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def is_cacheable(plan: QueryPlan) -> bool:
    """Engine-side result reuse only for ranges that end before today (local): their data no longer changes."""
    zone = get_zone(plan.timezone)
    today_start = day_start(local_date(plan.now, zone), zone)
    return max(r.end for r in plan.ranges) <= today_start


def scan_scope(plan: QueryPlan) -> ScanScope:
    """The partitions the plan's SQL reads (its WHERE names the same site and dates)."""
    start = min(r.start for r in plan.ranges).date() - timedelta(days=1)
    end = max(r.end for r in plan.ranges).date() + timedelta(days=1)
    return ScanScope(plan.site_id, start, end)


def execute_plan(plan: QueryPlan, engine: QueryEngine) -> EngineResult:
    started = time.perf_counter()
    # An engine with ``source(site_id)`` reads compacted and fresh days from two tables (sql.SplitSource).
    source = getattr(engine, "source", None)
    table = source(plan.site_id) if source is not None else getattr(engine, "table", DEFAULT_TABLE)
    # Closed days' session rollups are read where the plan's values merge over them: an engine with
    # ``session_slots`` binds the slot tables itself (DuckDB); a split source names its slots table (Athena).
    local_slots = bool(getattr(engine, "session_slots", False)) and isinstance(table, str)
    split_slots = isinstance(table, SplitSource) and table.slots is not None
    slots = (local_slots or split_slots) and slots_eligible(plan)
    # Counting first rows instead of distinct sessions (visitors), where every day read has them: the local
    # engine picks one of two statements under its read lock and only that one is built.
    first_rows = first_row_statement(plan, engine.dialect) if slots and local_slots else None
    # Lone slot rows taken as sessions without grouping, where the site's spanning sessions allow (local).
    lone = lone_statement(plan, engine.dialect) if slots and local_slots and first_rows is None else None
    statement = first_rows or lone
    if statement is None:
        # An engine with ``page_ids`` gives every event a page id and binds their labels (DuckDB): worth it
        # when most of the range is in files that carry the ids (the rest is joined to the dictionary).
        page_ids_in = getattr(engine, "page_ids_in", None)
        page_ids = (page_ids_in is not None and isinstance(table, str) and not slots
                    and uses_page_ids(plan) and page_ids_in(scan_scope(plan)))
        built = build_query(plan, engine.dialect, table, slots=slots, page_ids=page_ids)
        sql = built.sql(engine.dialect, last=True)
    planned = time.perf_counter()
    if statement is not None:
        chosen = {"first_rows": first_rows} if first_rows is not None else {"lone": lone}
        rows = engine.execute(None, cacheable=is_cacheable(plan), scope=scan_scope(plan), slots=True, **chosen)
        assert statement.built is not None
        built = statement.built
    else:
        options = {"slots": True} if slots and local_slots else {}
        rows = engine.execute(sql, cacheable=is_cacheable(plan), scope=scan_scope(plan), **options)
    executed = time.perf_counter()
    result = EngineResult(timings={"sql": (planned - started) * 1000, "engine": (executed - planned) * 1000})
    for raw in rows:
        row = built.layout.decode(raw)
        if built.ranked:
            result.total_rows = row.total_rows
            result.ranked.append(RankedRow(row.values, row.totals, row.previous, row.rank))
        else:
            result.groups.append(Group(row.period, row.values, row.totals))
    return result
