"""The SQL of a QueryPlan (spec §3.8), built as one sqlglot AST and rendered for "athena" or "duckdb".

The statement is one linear chain of CTEs, each one step of §3.8, each read once (Athena
inlines CTEs, so a CTE read twice would scan the data twice):

``events_in_range`` (E, tagged with its period) → ``ranked_events`` (order within each
session by (ts, seq)) → ``session_events`` (every event with its session's values from
window functions: attributes of the first event, entry/exit page, duration, pageviews
in E, countable events; and its page visit's greatest engagement scroll) → ``counted``
(the counted events C of kept sessions, with their group values) → ``per_session`` (one
row per group and session) → ``totals`` (exact integer totals per group). Only revenue
per currency and conversion_rate's goal-free denominator branch off ``session_events``.

Names come only from the registries and values only as literals. The WHERE of the
first step always starts with site, partition dates and exact UTC instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlglot import exp

from clickport.query.dimensions import Dimension
from clickport.query.expressions import SqlDialect, and_all, case_when, col, flag, fn, lit, or_all
from clickport.query.goal_match import goal_predicate
from clickport.query.plan import CURRENT, PREVIOUS, FilterSpec, QueryPlan
from clickport.query.ranking import ranked_select
from clickport.query.sql_totals import TotalsSteps, dimension_column
from clickport.schema import COLUMN_NAMES

COUNTABLE_TYPES = ("pageview", "custom", "click", "form")
DEFAULT_CURRENCY = "USD"
ALWAYS_READ = ("ts", "seq", "type", "session_id", "visitor_id")
GOAL_COLUMNS = ("type", "name", "path", "meta_keys", "meta_values")
EVENT, GOAL = "ev", "g"


@dataclass(frozen=True)
class BuiltQuery:
    expression: exp.Expression
    columns: tuple[str, ...]  # the statement's output columns, in order
    ranked: bool  # ordered, counted and paged in SQL (see ranking.py)

    def sql(self, dialect: str) -> str:
        return render(self.expression, dialect)


def shown(value: exp.Expression, none_label: str) -> exp.Expression:
    """The value as shown: a missing (NULL or empty) value becomes its label."""
    return fn("coalesce", exp.Nullif(this=value, expression=lit("")), lit(none_label))


class QueryBuilder(TotalsSteps):
    """Builds the statement of one plan for one dialect."""

    def __init__(self, plan: QueryPlan, dialect: str, table: str = "events") -> None:
        self.plan = plan
        self.dialect = SqlDialect(dialect)
        self.table = table
        self.totals = plan.needs_totals
        self.goals_by_id = {g.id: g for g in plan.goals}
        self.goal_index = plan.goal_dimension_index

    # --- which columns and steps the plan needs

    @property
    def needs_goals(self) -> bool:
        return bool(self.totals & {"conversions", "converting_visitors", "revenue"}) or any(
            d.kind == "goal" for d in self.plan.dimensions
        ) or self.plan.has_goal_filter

    @property
    def needs_base(self) -> bool:
        """conversion_rate's denominator comes from the query without goal filters and goal dimension."""
        return "conversion_base" in self.totals and (self.plan.has_goal_filter or self.goal_index is not None)

    def _dimension_reads(self, dimension: Dimension) -> set[str]:
        if dimension.kind in ("session_column", "event_column"):
            return {dimension.column}
        if dimension.kind in ("entry_page", "exit_page"):
            return {"path"}
        if dimension.kind == "event_name":
            return {"type", "name"}
        if dimension.kind == "prop":
            return {"meta_keys", "meta_values"}
        return set()

    def _read_columns(self) -> tuple[str, ...]:
        needed = set(ALWAYS_READ)
        for dimension in list(self.plan.dimensions) + [f.dimension for f in self.plan.filters]:
            needed |= self._dimension_reads(dimension)
        if self.needs_goals:
            needed |= set(GOAL_COLUMNS)
        if "scroll_sum" in self.totals:
            needed |= {"scroll", "page_visit_id"}
        if "revenue" in self.totals:
            needed |= {"revenue_micros", "revenue_currency"}
        return tuple(name for name in COLUMN_NAMES if name in needed)

    def _session_dimensions(self) -> list[Dimension]:
        found: list[Dimension] = []
        for dimension in list(self.plan.dimensions) + [f.dimension for f in self.plan.filters]:
            if dimension.level == "session" and dimension not in found:
                found.append(dimension)
        return found

    # --- E: events in range, tagged with their period

    def _in_range(self, index: int) -> exp.Expression:
        time_range = self.plan.ranges[index]
        return and_all(
            [
                exp.GTE(this=col("ts"), expression=self.dialect.timestamp(time_range.start)),
                exp.LT(this=col("ts"), expression=self.dialect.timestamp(time_range.end)),
            ]
        )

    def events_in_range(self) -> exp.Select:
        ranges = self.plan.ranges
        first_day = min(r.start for r in ranges).date() - timedelta(days=1)
        last_day = max(r.end for r in ranges).date() + timedelta(days=1)
        period = lit(CURRENT) if len(ranges) == 1 else case_when(self._in_range(CURRENT), lit(CURRENT), lit(PREVIOUS))
        conditions = [
            exp.EQ(this=col("site_id"), expression=lit(self.plan.site_id)),
            exp.Between(this=col("dt"), low=lit(first_day.isoformat()), high=lit(last_day.isoformat())),
            exp.GTE(this=col("ts"), expression=self.dialect.timestamp(min(r.start for r in ranges))),
            exp.LT(this=col("ts"), expression=self.dialect.timestamp(max(r.end for r in ranges))),
        ]
        if len(ranges) > 1:
            conditions.append(or_all([self._in_range(i) for i in range(len(ranges))]))
        table = _table(self.table)
        return (
            exp.select(exp.alias_(period, "period"), *[col(c) for c in self._read_columns()])
            .from_(table)
            .where(and_all(conditions))
        )

    # --- order within sessions, then each event with its session's values

    def _needs_entry_exit(self) -> bool:
        return any(d.kind in ("entry_page", "exit_page") for d in self._session_dimensions())

    def ranked_events(self) -> exp.Select:
        by_session = [col("period"), col("session_id")]
        ascending = [exp.Ordered(this=col("ts")), exp.Ordered(this=col("seq"))]
        windows = [exp.alias_(_row_number(by_session, ascending), "first_rank")]
        if self._needs_entry_exit():
            by_type = by_session + [col("type")]
            descending = [exp.Ordered(this=col("ts"), desc=True), exp.Ordered(this=col("seq"), desc=True)]
            windows.append(exp.alias_(_row_number(by_type, ascending), "entry_rank"))
            windows.append(exp.alias_(_row_number(by_type, descending), "exit_rank"))
        return exp.select(exp.Star(), *windows).from_("events_in_range")

    def session_events(self) -> exp.Select:
        """Every event of E with its session's values attached (window functions: one pass, no join)."""
        session = [col("period"), col("session_id")]
        first = exp.EQ(this=col("first_rank"), expression=lit(1))
        is_pageview = exp.EQ(this=col("type"), expression=lit("pageview"))

        def over(aggregate: exp.Expression, partition: list[exp.Expression] = session) -> exp.Window:
            return exp.Window(this=aggregate, partition_by=[p.copy() for p in partition])

        columns: list[exp.Expression] = [
            exp.Star(),
            exp.alias_(over(exp.Max(this=case_when(first, col("visitor_id")))), "session_visitor_id"),
            exp.alias_(over(exp.Sum(this=flag(_type_in(None, COUNTABLE_TYPES)))), "session_countable"),
        ]
        for dimension in self._session_dimensions():
            if dimension.kind == "session_column":
                value = exp.Max(this=case_when(first, col(dimension.column)))
            else:
                rank = "entry_rank" if dimension.kind == "entry_page" else "exit_rank"
                at_rank = and_all([is_pageview, exp.EQ(this=col(rank), expression=lit(1))])
                value = exp.Max(this=case_when(at_rank, col("path")))
            columns.append(exp.alias_(over(value), session_column(dimension)))
        if "duration_ms" in self.totals:
            duration = self.dialect.duration_ms(over(exp.Min(this=col("ts"))), over(exp.Max(this=col("ts"))))
            columns.append(exp.alias_(duration, "session_duration_ms"))
        if "bounces" in self.totals:
            columns.append(exp.alias_(over(exp.Sum(this=flag(is_pageview))), "session_pageviews"))
        if "scroll_sum" in self.totals:
            # The greatest scroll reported by engagement updates of the same page visit, in E.
            is_update = exp.EQ(this=col("type"), expression=lit("engagement"))
            updates = over(exp.Max(this=case_when(is_update, col("scroll"))), [col("period"), col("page_visit_id")])
            has_visit = exp.Not(this=exp.Is(this=col("page_visit_id"), expression=exp.Null()))
            columns.append(exp.alias_(case_when(has_visit, updates), "updates_scroll"))
        return exp.select(*columns).from_("ranked_events")

    def goal_list(self) -> exp.Select:
        goals = self.plan.goals or ()
        rows = [exp.Tuple(expressions=[lit(g.id), lit(g.name)]) for g in goals] or [
            exp.Tuple(expressions=[lit(0), lit("")])
        ]
        values = exp.Values(
            expressions=rows,
            alias=exp.TableAlias(this=exp.to_identifier("v"), columns=[exp.to_identifier(c) for c in ("goal_id", "goal_name")]),
        )
        return exp.select(col("goal_id"), col("goal_name")).from_(values)

    # --- shown values of dimensions

    def dimension_value(self, dimension: Dimension) -> exp.Expression:
        if dimension.level == "session":
            return shown(col(session_column(dimension), EVENT), dimension.none_label)
        if dimension.kind == "event_column":
            return shown(col(dimension.column, EVENT), dimension.none_label)
        if dimension.kind == "event_name":
            kind = col("type", EVENT)
            name = exp.Case(
                ifs=[
                    exp.If(this=exp.EQ(this=kind, expression=lit("pageview")), true=lit("pageview")),
                    exp.If(this=exp.EQ(this=kind, expression=lit("custom")), true=col("name", EVENT)),
                ],
                default=fn("coalesce", exp.Nullif(this=col("name", EVENT), expression=lit("")), kind),
            )
            return shown(name, dimension.none_label)
        if dimension.kind == "prop":
            value = self.dialect.prop_value(col("meta_keys", EVENT), col("meta_values", EVENT), dimension.prop_key)
            return shown(value, dimension.none_label)
        if dimension.kind == "goal":
            return col("goal_name", GOAL)
        unit = dimension.name
        return self.dialect.time_label(col("ts", EVENT), self.plan.timezone, unit, dimension.time_format)

    # --- filters and goals

    def _goal_matches(self, goal_ids) -> exp.Expression:
        return or_all([goal_predicate(self.goals_by_id[i], EVENT, self.dialect) for i in goal_ids])

    def filter_predicate(self, spec: FilterSpec, *, goal_pairs: bool) -> exp.Expression:
        if spec.is_goal:
            if goal_pairs:
                ids = [lit(i) for i in spec.goal_ids]
                matched = exp.In(this=col("goal_id", GOAL), expressions=ids) if ids else exp.false()
            else:
                matched = self._goal_matches(spec.goal_ids)
            return exp.Not(this=exp.Paren(this=matched)) if spec.operator.negated else matched
        return spec.operator.predicate(self.dimension_value(spec.dimension), spec.values)

    def counted(self, *, with_goals: bool) -> exp.Select:
        """C: countable events of kept sessions that pass every filter, with their group values.

        ``with_goals`` False builds the events conversion_rate divides by (no goal filter, no goal dimension).
        """
        goal_pairs = with_goals and self.goal_index is not None
        columns: list[exp.Expression] = [
            col("period", EVENT),
            col("session_id", EVENT),
            exp.alias_(col("session_visitor_id", EVENT), "visitor_id"),
        ]
        for index, dimension in enumerate(self.plan.dimensions):
            if dimension.kind == "goal" and not with_goals:
                continue
            columns.append(exp.alias_(self.dimension_value(dimension), dimension_column(index)))
        if with_goals:
            columns.extend(self._event_measures(goal_pairs))
        query = exp.select(*columns).from_(exp.alias_(exp.to_table("session_events"), EVENT, table=True))
        if goal_pairs:
            pairs = [
                and_all([exp.EQ(this=col("goal_id", GOAL), expression=lit(g.id)), goal_predicate(g, EVENT, self.dialect)])
                for g in self.plan.goals
            ]
            query = query.join(exp.alias_(exp.to_table("goal_list"), GOAL, table=True), on=or_all(pairs))
        conditions = [
            exp.GT(this=col("session_countable", EVENT), expression=lit(0)),
            _type_in(EVENT, COUNTABLE_TYPES),
        ]
        for spec in self.plan.filters:
            if spec.is_goal and not with_goals:
                continue
            conditions.append(self.filter_predicate(spec, goal_pairs=goal_pairs))
        return query.where(and_all(conditions))

    def _event_measures(self, goal_pairs: bool) -> list[exp.Expression]:
        kind = col("type", EVENT)
        measures: list[exp.Expression] = []
        if self.totals & {"pageviews", "scroll_sum"}:
            measures.append(exp.alias_(flag(exp.EQ(this=kind, expression=lit("pageview"))), "is_pageview"))
        if "clickers" in self.totals:
            measures.append(exp.alias_(flag(exp.EQ(this=kind, expression=lit("click"))), "is_click"))
        if self.totals & {"conversions", "converting_visitors", "revenue"}:
            converts = lit(1) if goal_pairs else flag(self._goal_matches(sorted(self.goals_by_id)))
            measures.append(exp.alias_(converts, "converts"))
        if "scroll_sum" in self.totals:
            mine, updates = col("scroll", EVENT), col("updates_scroll", EVENT)
            greatest = fn("coalesce", exp.Greatest(this=mine, expressions=[updates]), mine, updates)
            measures.append(exp.alias_(case_when(exp.EQ(this=kind, expression=lit("pageview")), greatest), "visit_scroll"))
        if "revenue" in self.totals:
            measures.append(exp.alias_(col("revenue_micros", EVENT), "revenue_micros"))
            currency = fn("coalesce", col("revenue_currency", EVENT), lit(DEFAULT_CURRENCY))
            measures.append(exp.alias_(currency, "revenue_currency"))
        if "duration_ms" in self.totals:
            measures.append(exp.alias_(col("session_duration_ms", EVENT), "duration_ms"))
        if "bounces" in self.totals:
            measures.append(exp.alias_(col("session_pageviews", EVENT), "pageviews_in_range"))
        return measures

    def build(self) -> BuiltQuery:
        ctes: list[tuple[str, exp.Select]] = [
            ("events_in_range", self.events_in_range()),
            ("ranked_events", self.ranked_events()),
            ("session_events", self.session_events()),
        ]
        if self.goal_index is not None:
            ctes.append(("goal_list", self.goal_list()))
        ctes += [("counted", self.counted(with_goals=True)), ("per_session", self.per_session())]
        ctes.append(("totals", self.totals_select()))
        if "revenue" in self.totals:
            ctes += [("revenue_sums", self.revenue_sums()), ("revenue_text", self.revenue_text())]
        if self.needs_base:
            ctes += [("base_counted", self.counted(with_goals=False)), ("base_totals", self.base_totals())]
        ctes.append(("grouped", self.grouped()))
        dimensions = tuple(dimension_column(i) for i in range(len(self.plan.dimensions)))
        if self.plan.ranked_in_sql:
            extra, final, columns = ranked_select(self.plan, self.dialect, dimensions, self.value_columns)
            ctes += extra
        else:
            columns = ("period", *dimensions, *self.value_columns)
            final = exp.select(*[col(c) for c in columns]).from_("grouped").order_by(*[col(c) for c in columns[: 1 + len(dimensions)]])
        for name, query in ctes:
            final = final.with_(name, as_=query)
        check_exact(final)
        return BuiltQuery(final, columns, self.plan.ranked_in_sql)


def session_column(dimension: Dimension) -> str:
    """The column of ``session_events`` holding a session-level dimension's stored value."""
    return f"session_{dimension.name}"


def _table(name: str) -> exp.Table:
    parts = name.split(".")
    if len(parts) == 2:
        return exp.table_(parts[1], db=parts[0], quoted=True)
    return exp.table_(parts[0])


def _row_number(partition: list[exp.Expression], order: list[exp.Ordered]) -> exp.Window:
    return exp.Window(this=exp.RowNumber(), partition_by=partition, order=exp.Order(expressions=order))


def _type_in(alias: str | None, types: tuple[str, ...]) -> exp.Expression:
    return exp.In(this=col("type", alias), expressions=[lit(t) for t in types])


_APPROXIMATE = (exp.ApproxDistinct, exp.ApproxQuantile)


def check_exact(expression: exp.Expression) -> None:
    """Refuse any approximate aggregate: every number the API answers is exact."""
    for node in expression.walk():
        if isinstance(node, _APPROXIMATE) or (
            isinstance(node, exp.Anonymous) and str(node.this).lower().startswith("approx")
        ):
            raise ValueError(f"approximate function in a query: {node.sql()}")


def build_query(plan: QueryPlan, dialect: str, table: str = "events") -> BuiltQuery:
    return QueryBuilder(plan, dialect, table).build()


def render(expression: exp.Expression, dialect: str) -> str:
    SqlDialect(dialect)  # validates the name
    return expression.sql(dialect=dialect, pretty=True)
