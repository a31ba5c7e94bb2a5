"""Runs a QueryPlan on a QueryEngine: build and render the SQL, execute it, read the rows back as totals."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from clickport.ports import QueryEngine
from clickport.query.metrics import REVENUE_TOTAL
from clickport.query.periods import day_start, local_date
from clickport.query.plan import QueryPlan
from clickport.query.sql import build_query
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


def parse_revenue(text: str | None) -> dict[str, int]:
    """``"EUR:99500000,USD:49990000"`` → micro-units per currency."""
    out: dict[str, int] = {}
    for part in (text or "").split(","):
        if part:
            currency, _, micros = part.rpartition(":")
            out[currency] = out.get(currency, 0) + int(micros)
    return out


def _totals(names: tuple[str, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    totals: dict[str, Any] = {}
    for name, value in zip(names, values):
        totals[name] = parse_revenue(value) if name == REVENUE_TOTAL else int(value or 0)
    return totals


def is_cacheable(plan: QueryPlan) -> bool:
    """Engine-side result reuse only for ranges that end before today (local): their data no longer changes."""
    zone = get_zone(plan.timezone)
    today_start = day_start(local_date(plan.now, zone), zone)
    return max(r.end for r in plan.ranges) <= today_start


def execute_plan(plan: QueryPlan, engine: QueryEngine) -> EngineResult:
    started = time.perf_counter()
    table = getattr(engine, "table", DEFAULT_TABLE)
    built = build_query(plan, engine.dialect, table)
    sql = built.sql(engine.dialect)
    planned = time.perf_counter()
    rows = engine.execute(sql, cacheable=is_cacheable(plan))
    executed = time.perf_counter()
    result = EngineResult(timings={"sql": (planned - started) * 1000, "engine": (executed - planned) * 1000})
    dimensions = len(plan.dimensions)
    if built.ranked:
        values = built.columns[dimensions : -2]
        current_names = tuple(c for c in values if not c.startswith("prev_"))
        previous_names = tuple(c[len("prev_") :] for c in values if c.startswith("prev_"))
        for row in rows:
            result.total_rows = int(row[-1])
            own = row[dimensions : dimensions + len(current_names)]
            prev = row[dimensions + len(current_names) : -2]
            has_previous = bool(previous_names) and any(v is not None for v in prev)
            result.ranked.append(
                RankedRow(
                    values=tuple(row[:dimensions]),
                    totals=_totals(current_names, own),
                    previous=_totals(previous_names, prev) if has_previous else None,
                    rank=int(row[-2]),
                )
            )
    else:
        names = built.columns[1 + dimensions :]
        for row in rows:
            result.groups.append(Group(int(row[0]), tuple(row[1 : 1 + dimensions]), _totals(names, row[1 + dimensions :])))
    return result
