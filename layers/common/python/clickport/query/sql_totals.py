"""The exact integer totals of spec §3.8.6, one registry entry each: how every grouping step computes them.

A plan groups in up to three steps (see sql.py): per session (one row per period, group and
session), per visitor (two-phase distinct counts: one row per period, group and visitor id)
and per group. Each total is of one of two kinds:

- ``sum``: ``over_sessions`` is its aggregate over session rows (the group step sums the
  per-visitor partials, or aggregates the session rows directly); ``over_events`` is the same
  aggregate straight over counted events, when the total needs no session (so a plan whose
  totals all have one skips the session step);
- ``distinct``: the number of distinct visitor ids among the session rows meeting
  ``over_sessions`` (or visitors with ``over_events`` > 0), exact in both forms:
  ``COUNT(DISTINCT …)`` in one step, or one row per visitor then a count.

Session columns are aggregates over a session's events. In a plan grouped by session-level
dimensions only, a session row is built from all its events in E (``over_session``); with
event-level dimensions it is built from its counted events of the group, and its session-wide
values (pageviews in E, duration) come from window columns (``over_counted``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from sqlglot import exp

from clickport.query.expressions import SqlDialect, case_when, col, count_if, fn, lit

EVENT = "ev"
PAGEVIEW, CLICK = "pageview", "click"


@dataclass(frozen=True)
class Predicates:
    """The conditions a session column is built from, on a row of the event stream."""

    counted: exp.Expression  # a counted event (countable, passing every event-level filter)
    filtered: bool  # event-level filters narrow ``counted`` beyond "countable"
    converts: exp.Expression  # a counted event that matches a goal (TRUE on goal pairs)
    visit_scroll: exp.Expression  # the page visit's scroll of a pageview (NULL for other events)
    dialect: SqlDialect


def _type_is(name: str) -> exp.Expression:
    return exp.EQ(this=col("type", EVENT), expression=lit(name))


def _counted_and(p: Predicates, condition: exp.Expression) -> exp.Expression:
    """A counted event meeting ``condition`` (every condition used here implies a countable type)."""
    if not p.filtered:
        return condition.copy()
    return exp.And(this=p.counted.copy(), expression=condition.copy())


@dataclass(frozen=True)
class SessionColumn:
    name: str
    over_session: Callable[[Predicates], exp.Expression]  # over all the session's events in E
    over_counted: Callable[[Predicates], exp.Expression]  # over its counted events of one group


SESSION_COLUMNS: dict[str, SessionColumn] = {
    c.name: c
    for c in (
        SessionColumn("counted", lambda p: count_if(p.counted), lambda p: exp.Count(this=exp.Star())),
        SessionColumn(
            "pageviews", lambda p: count_if(_counted_and(p, _type_is(PAGEVIEW))), lambda p: count_if(_type_is(PAGEVIEW))
        ),
        SessionColumn("clicks", lambda p: count_if(_counted_and(p, _type_is(CLICK))), lambda p: count_if(_type_is(CLICK))),
        SessionColumn("conversions", lambda p: count_if(_counted_and(p, p.converts)), lambda p: count_if(p.converts)),
        SessionColumn(
            "scroll_sum",
            lambda p: exp.Sum(this=case_when(_counted_and(p, p.visit_scroll.is_(exp.Null()).not_()), p.visit_scroll.copy())),
            lambda p: exp.Sum(this=p.visit_scroll.copy()),
        ),
        SessionColumn(
            "scroll_count",
            lambda p: exp.Count(this=case_when(_counted_and(p, p.visit_scroll.is_(exp.Null()).not_()), p.visit_scroll.copy())),
            lambda p: exp.Count(this=p.visit_scroll.copy()),
        ),
        SessionColumn(
            "pageviews_in_range",
            lambda p: count_if(_type_is(PAGEVIEW)),
            lambda p: exp.Max(this=col("session_pageviews", EVENT)),
        ),
        SessionColumn(
            "duration_ms",
            lambda p: p.dialect.duration_ms(exp.Min(this=col("ts", EVENT)), exp.Max(this=col("ts", EVENT))),
            lambda p: exp.Max(this=col("session_duration_ms", EVENT)),
        ),
    )
}
# Session columns whose value over counted events needs the session-wide window columns.
WINDOWED_SESSION_COLUMNS = frozenset({"pageviews_in_range", "duration_ms"})


@dataclass(frozen=True)
class Total:
    name: str
    reads: tuple[str, ...]  # session columns
    kind: Literal["sum", "distinct"]
    # "sum": the aggregate over session rows; "distinct": which session rows' visitors count.
    over_sessions: Callable[[], exp.Expression]
    # "sum": the aggregate over counted events; "distinct": which counted events' visitors count.
    # None when the total is defined per session.
    over_events: Callable[[Predicates], exp.Expression] | None = None


def _sum(name: str) -> Callable[[], exp.Expression]:
    return lambda: exp.Sum(this=col(name))


def _sessions_where(condition: Callable[[], exp.Expression]) -> Callable[[], exp.Expression]:
    return lambda: count_if(condition())


def _at_least(name: str, least: int) -> Callable[[], exp.Expression]:
    return lambda: exp.GTE(this=col(name), expression=lit(least))


TOTAL_RULES: dict[str, Total] = {
    t.name: t
    for t in (
        Total("visitors", (), "distinct", lambda: exp.true(), lambda p: exp.true()),
        Total("sessions", (), "sum", lambda: exp.Count(this=exp.Star())),
        Total("pageviews", ("pageviews",), "sum", _sum("pageviews"), lambda p: count_if(_type_is(PAGEVIEW))),
        Total("events", ("counted",), "sum", _sum("counted"), lambda p: exp.Count(this=exp.Star())),
        Total("bounce_base", ("pageviews_in_range",), "sum", _sessions_where(_at_least("pageviews_in_range", 1))),
        Total(
            "bounces",
            ("pageviews_in_range",),
            "sum",
            _sessions_where(lambda: exp.EQ(this=col("pageviews_in_range"), expression=lit(1))),
        ),
        Total("duration_ms", ("duration_ms",), "sum", _sum("duration_ms")),
        Total("scroll_sum", ("scroll_sum",), "sum", _sum("scroll_sum"), lambda p: exp.Sum(this=p.visit_scroll.copy())),
        Total(
            "scroll_count", ("scroll_count",), "sum", _sum("scroll_count"), lambda p: exp.Count(this=p.visit_scroll.copy())
        ),
        Total("clickers", ("clicks",), "sum", _sessions_where(_at_least("clicks", 1))),
        Total("conversions", ("conversions",), "sum", _sum("conversions"), lambda p: count_if(p.converts)),
        Total("converting_visitors", ("conversions",), "distinct", _at_least("conversions", 1), lambda p: p.converts.copy()),
    )
}


def session_reads(totals: tuple[str, ...]) -> tuple[str, ...]:
    """The session columns the totals read, always with ``counted`` (it decides which rows are kept)."""
    names = {"counted"}
    for name in totals:
        names |= set(TOTAL_RULES[name].reads)
    return tuple(n for n in SESSION_COLUMNS if n in names)


def needs_session_step(totals: tuple[str, ...]) -> bool:
    """True when some total is defined per session (sessions, clickers, bounces, durations)."""
    return any(TOTAL_RULES[name].over_events is None for name in totals)


def _distinct_visitors(condition: exp.Expression) -> exp.Expression:
    visitor = col("visitor_id") if condition == exp.true() else case_when(condition, col("visitor_id"))
    return exp.Count(this=exp.Distinct(expressions=[visitor]))


def direct_total(name: str, predicates: Predicates | None = None) -> exp.Expression:
    """The total in one step over session rows or (``predicates`` given) over counted events
    (``COUNT(DISTINCT …)`` for distinct visitors)."""
    rule = TOTAL_RULES[name]
    if predicates is not None:
        if rule.kind == "distinct":
            return _distinct_visitors(rule.over_events(predicates))
        return rule.over_events(predicates)
    if rule.kind == "distinct":
        return _distinct_visitors(rule.over_sessions())
    return rule.over_sessions()


def visitor_partial(name: str, predicates: Predicates | None) -> exp.Expression | None:
    """Two-phase step one: the total's aggregate per visitor, over session rows or (``predicates``
    given) over counted events; None for ``visitors`` (each visitor row is one)."""
    rule = TOTAL_RULES[name]
    if name == "visitors":
        return None
    if rule.kind == "distinct":
        return count_if(rule.over_events(predicates) if predicates is not None else rule.over_sessions())
    if predicates is not None:
        return rule.over_events(predicates)
    return rule.over_sessions()


def group_total(name: str) -> exp.Expression:
    """Two-phase step two: the total over per-visitor rows."""
    rule = TOTAL_RULES[name]
    if name == "visitors":
        return exp.Count(this=exp.Star())
    if rule.kind == "distinct":
        return count_if(exp.GT(this=col(name), expression=lit(0)))
    return exp.Sum(this=col(name))


def zero_if_null(expression: exp.Expression, name: str) -> exp.Expression:
    return exp.alias_(fn("coalesce", expression, lit(0)), name)
