"""The QueryPlan: a frozen, fully validated description of one Stats query (no user strings left to check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from clickport.ports import Goal
from clickport.query.dimensions import Dimension
from clickport.query.filters import Operator
from clickport.query.metrics import Metric
from clickport.query.periods import TimeRange

OrderDir = Literal["asc", "desc"]
CURRENT, PREVIOUS = 0, 1  # the ``period`` tag of each range inside one SQL statement


@dataclass(frozen=True)
class FilterSpec:
    dimension: Dimension
    operator: Operator
    values: tuple[str, ...]
    # For a ``goal`` filter: the ids of the site's goals whose names pass the filter.
    goal_ids: tuple[int, ...] = ()

    @property
    def is_goal(self) -> bool:
        return self.dimension.kind == "goal"


@dataclass(frozen=True)
class QueryPlan:
    site_id: str
    metrics: tuple[Metric, ...]
    dimensions: tuple[Dimension, ...]
    filters: tuple[FilterSpec, ...]
    goals: tuple[Goal, ...]  # every goal of the site, ordered by id
    timezone: str
    current: TimeRange
    previous: TimeRange | None  # the comparison range, when one was asked for and exists
    include_comparison: bool  # asked for (``"comparison": null`` when asked but the period has none)
    order_by: str | None  # a requested metric or dimension; None: dimension values only
    order_dir: OrderDir
    limit: int | None  # None: every row
    offset: int
    now: datetime

    @property
    def ranges(self) -> tuple[TimeRange, ...]:
        """The ranges the SQL reads, indexed by their period tag."""
        return (self.current,) if self.previous is None else (self.current, self.previous)

    @property
    def time_dimension(self) -> Dimension | None:
        return next((d for d in self.dimensions if d.is_time), None)

    @property
    def is_time_series(self) -> bool:
        return len(self.dimensions) == 1 and self.dimensions[0].is_time

    @property
    def goal_dimension_index(self) -> int | None:
        return next((i for i, d in enumerate(self.dimensions) if d.kind == "goal"), None)

    @property
    def session_filters(self) -> tuple[FilterSpec, ...]:
        return tuple(f for f in self.filters if f.dimension.level == "session")

    @property
    def event_filters(self) -> tuple[FilterSpec, ...]:
        return tuple(f for f in self.filters if f.dimension.level == "event")

    @property
    def has_goal_filter(self) -> bool:
        return any(f.is_goal for f in self.filters)

    @property
    def needs_totals(self) -> frozenset[str]:
        return frozenset(t for m in self.metrics for t in m.totals)

    @property
    def ranked_in_sql(self) -> bool:
        """Breakdowns without a time dimension are ordered, counted and paged by the SQL itself."""
        return bool(self.dimensions) and self.time_dimension is None
