"""The grouping steps of the Stats SQL (spec §3.8.5–6), mixed into sql.QueryBuilder.

Session-level plans: ``sessions`` (one row per session) → ``groups``. Event-level plans:
``counted`` → ``session_groups`` (when a total is defined per session) → ``visitor_groups``
(two-phase distinct visitors, where that wins) → ``groups``. Then revenue per currency,
conversion_rate's base (the same plan without goal filters and goal dimension) and ``grouped``.
The mixin reads the builder's plan, dialect, names, totals and event-stream helpers.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from clickport.query.columns import OutputColumn, total_decoder
from clickport.query.expressions import and_all, case_when, col, fn, lit, or_all
from clickport.query.goal_match import goal_predicate
from clickport.query.metrics import METRICS, REVENUE_SORT_TOTAL, REVENUE_TOTAL
from clickport.query.plan import CURRENT
from clickport.query.sql_dimensions import GOAL, kind_of
from clickport.query.sql_totals import (
    EVENT,
    SESSION_COLUMNS,
    Predicates,
    direct_total,
    group_total,
    session_reads,
    visitor_partial,
    zero_if_null,
)
from clickport.schema import PAGE_ID

DEFAULT_CURRENCY = "USD"
# Page ids (``QueryBuilder(page_ids=True)``): every row of the table then has ``schema.PAGE_ID``; the dimension
# keyed by it and the table labelling every id (page_id, page) that the engine binds.
PAGE_DIMENSION = "page"
PAGE_NAMES = "page_names"


def _label_alias(key: str) -> str:
    return f"label_{key}"

BASE_PREFIX = "base_"


class GroupingSteps:
    """The ``GROUP BY`` steps of a plan, after the event stream (``events_in_range``/``session_events``)."""

    # --- session-level grouping: one row per session, then per group

    def sessions(self) -> exp.Select:
        """One row per (period, session): its first event's attributes and its session values."""
        ts = col("ts", EVENT)
        predicates = Predicates(
            counted=self.counted_predicate(goal_pairs=False),
            filtered=bool(self._event_filters()),
            converts=self.converts(goal_pairs=False),
            visit_scroll=self.visit_scroll(),
            dialect=self.dialect,
        )
        columns: list[exp.Expression] = [col(k, EVENT) for k in self.period_keys] + [
            col("session_id", EVENT),
            exp.alias_(self.dialect.first_by(col("visitor_id", EVENT), ts), "visitor_id"),
        ]
        for name, dimension in zip(self.names, self.plan.dimensions):
            columns.append(exp.alias_(self.dialect.first_by(self.dimension_value(dimension), ts.copy()), name))
        for name in session_reads(self.totals):
            columns.append(exp.alias_(SESSION_COLUMNS[name].over_session(predicates), name))
        query = self._stream_from().select(*columns, copy=False)
        late = self._late_filters()
        if late:
            query = query.where(and_all(late), copy=False)
        return query.group_by(*[col(k, EVENT) for k in self.period_keys], col("session_id", EVENT), copy=False)

    def groups_of_sessions(self, source: str, totals: tuple[str, ...] | None = None) -> exp.Select:
        """Totals (``totals``, else the plan's) per group in one step over session rows (kept: with a counted event)."""
        columns = self._group_keys() + [zero_if_null(direct_total(t), t) for t in (self.totals if totals is None else totals)]
        query = exp.select(*columns).from_(self.cte(source), copy=False).where(exp.GT(this=col("counted"), expression=lit(0)), copy=False)
        return self._grouped_by(query)

    def groups_of_counted(self) -> exp.Select:
        """Totals per group in one step over counted events (no total needs a session)."""
        predicates = self._counted_predicates()
        columns = self._group_keys() + [zero_if_null(direct_total(t, predicates), t) for t in self.totals]
        return self._grouped_by(self._from_counted().select(*columns, copy=False))

    # --- event-level grouping: counted events, per session, per visitor, per group

    @property
    def goal_pairs(self) -> bool:
        return self.goal_index is not None

    def counted(self) -> exp.Select:
        """C: the counted events of kept sessions, with their group values (one row per goal they
        match, with a goal dimension)."""
        columns: list[exp.Expression] = [col(k, EVENT) for k in self.period_keys]
        columns += [col("session_id", EVENT), col("visitor_id", EVENT)]
        columns += [exp.alias_(self._group_value(name, d), name) for name, d in zip(self.names, self.plan.dimensions)]
        columns.append(col("type", EVENT))
        if self.requested & {"conversions", "converting_visitors", REVENUE_TOTAL}:
            converts = lit(1) if self.goal_pairs else case_when(self.converts(goal_pairs=False), lit(1), lit(0))
            columns.append(exp.alias_(converts, "converts"))
        if self.needs_scroll:
            columns.append(exp.alias_(self.visit_scroll(), "visit_scroll"))
        if self.needs_session_windows:
            columns += [col("session_pageviews", EVENT), col("session_duration_ms", EVENT)]
        if REVENUE_TOTAL in self.requested:
            currency = fn("coalesce", col("revenue_currency", EVENT), lit(DEFAULT_CURRENCY))
            columns += [col("revenue_micros", EVENT), exp.alias_(currency, "revenue_currency")]
        query = self._stream_from().select(*columns, copy=False)
        if self.goal_pairs:
            pairs = [
                and_all([exp.EQ(this=col("goal_id", GOAL), expression=lit(g.id)), goal_predicate(g, EVENT, self.dialect)])
                for g in self.plan.goals
            ]
            query = query.join(exp.alias_(exp.to_table(self.cte("goal_list")), GOAL, table=True), on=or_all(pairs), copy=False)
        return query.where(and_all([self.counted_predicate(goal_pairs=self.goal_pairs), *self._late_filters()]), copy=False)

    def _group_value(self, name: str, dimension) -> exp.Expression:
        """What the group steps key ``name`` by: the page's integer id (labelled in ``grouped``), else the value."""
        return col(PAGE_ID, EVENT) if name in self.page_keys else self.dimension_value(dimension)

    def _counted_predicates(self) -> Predicates:
        return Predicates(
            counted=exp.true(),
            filtered=False,
            converts=exp.EQ(this=col("converts", EVENT), expression=lit(1)),
            visit_scroll=col("visit_scroll", EVENT),
            dialect=self.dialect,
        )

    def _from_counted(self) -> exp.Select:
        return exp.select().from_(exp.alias_(exp.to_table(self.cte("counted")), EVENT, table=True), copy=False)

    def session_groups(self) -> exp.Select:
        keys = [*self.period_keys, *self.names, "session_id"]
        predicates = self._counted_predicates()
        columns = [col(k, EVENT) for k in keys] + [exp.alias_(exp.Max(this=col("visitor_id", EVENT)), "visitor_id")]
        columns += [exp.alias_(SESSION_COLUMNS[n].over_counted(predicates), n) for n in session_reads(self.totals)]
        return self._from_counted().select(*columns, copy=False).group_by(*[col(k, EVENT) for k in keys], copy=False)

    def visitor_groups(self, *, from_sessions: bool) -> exp.Select:
        keys = [*self.period_keys, *self.names, "visitor_id"]
        predicates = None if from_sessions else self._counted_predicates()
        partials = [(t, visitor_partial(t, predicates)) for t in self.totals]
        columns = [col(k, EVENT) for k in keys] + [exp.alias_(p, t) for t, p in partials if p is not None]
        source = exp.alias_(exp.to_table(self.cte("session_groups")), EVENT, table=True) if from_sessions else None
        query = exp.select(*columns).from_(source, copy=False) if source is not None else self._from_counted().select(*columns, copy=False)
        return query.group_by(*[col(k, EVENT) for k in keys], copy=False)

    def groups_of_visitors(self) -> exp.Select:
        columns = self._group_keys() + [zero_if_null(group_total(t), t) for t in self.totals]
        return self._grouped_by(exp.select(*columns).from_(self.cte("visitor_groups"), copy=False))

    def _group_keys(self) -> list[exp.Expression]:
        """``period`` and the dimension columns of a group step (``period`` a literal without comparison)."""
        period = col("period") if self.period_keys else exp.alias_(lit(CURRENT), "period")
        return [period, *[col(n) for n in self.names]]

    def _grouped_by(self, query: exp.Select) -> exp.Select:
        keys = [*self.period_keys, *self.names]
        return query.group_by(*[col(k) for k in keys], copy=False) if keys else query

    # --- revenue per currency, conversion_rate's base, and the groups joined

    def revenue_sums(self) -> exp.Select:
        keys = [*self.period_keys, *self.names, "revenue_currency"]
        has_amount = exp.Not(this=exp.Is(this=col("revenue_micros"), expression=exp.Null()))
        return (
            # NOTE: summed as DECIMAL(38, 0): Athena's SUM(bigint) overflows past 2^63 micro-units.
            exp.select(*[col(k) for k in keys], exp.alias_(exp.Sum(this=exp.cast(
                col("revenue_micros"), exp.DataType.build("DECIMAL(38, 0)"))), "micros"))
            .from_(self.cte("counted"), copy=False)
            .where(and_all([exp.EQ(this=col("converts"), expression=lit(1)), has_amount]), copy=False)
            .group_by(*[col(k) for k in keys], copy=False)
        )

    def revenue_text(self) -> exp.Select:
        pair = exp.DPipe(
            this=exp.DPipe(this=col("revenue_currency"), expression=lit(":")),
            expression=exp.cast(col("micros"), exp.DataType.build("VARCHAR")),
        )
        columns = [*self._group_keys(), exp.alias_(self.dialect.string_agg(pair, ","), "revenue")]
        if self.orders_by_revenue:
            columns.append(exp.alias_(exp.Sum(this=col("micros")), REVENUE_SORT_TOTAL))
        return self._grouped_by(exp.select(*columns).from_(self.cte("revenue_sums"), copy=False))

    @property
    def orders_by_revenue(self) -> bool:
        """total_revenue orders rows ranked in SQL: its micro-units summed over currencies are the sort key."""
        return self.plan.ranked_in_sql and self.plan.order_by == "total_revenue"

    def base_builder(self) -> "GroupingSteps":
        """The same plan without goal filters and goal dimension, counting visitors only."""
        kept = [(name, d) for name, d in zip(self.names, self.plan.dimensions) if d.kind != "goal"]
        plan = replace(
            self.plan,
            metrics=(METRICS["visitors"],),
            dimensions=tuple(d for _, d in kept),
            filters=tuple(f for f in self.plan.filters if not f.is_goal),
        )
        return type(self)(plan, self.dialect.name, self.table, prefix=BASE_PREFIX, names=[n for n, _ in kept],
                          page_ids=self.page_ids)

    @property
    def value_columns(self) -> tuple[str, ...]:
        extra = tuple(t for t in ("conversion_base", REVENUE_TOTAL) if t in self.requested)
        return self.totals + extra + ((REVENUE_SORT_TOTAL,) if self.orders_by_revenue else ())

    def grouped(self, base: "GroupingSteps | None") -> exp.Select:
        """Every group of every period with the totals the metrics need (``period`` first)."""
        keys = ["period", *self.names]
        columns: list[exp.Expression] = [self._label(k) for k in keys] + [col(t, "t") for t in self.totals]
        joins: list[tuple[str, str, list[str]]] = []
        if "conversion_base" in self.requested:
            if base is not None:
                joins.append((base.cte("groups"), "b", ["period", *base.names]))
                columns.append(exp.alias_(fn("coalesce", col("visitors", "b"), lit(0)), "conversion_base"))
            else:
                columns.append(exp.alias_(col("visitors", "t"), "conversion_base"))
        if REVENUE_TOTAL in self.requested:
            joins.append((self.cte("revenue_text"), "r", keys))
            columns.append(exp.alias_(col("revenue", "r"), REVENUE_TOTAL))
            if self.orders_by_revenue:
                columns.append(exp.alias_(col(REVENUE_SORT_TOTAL, "r"), REVENUE_SORT_TOTAL))
        query = exp.select(*columns).from_(exp.alias_(exp.to_table(self.cte("groups")), "t", table=True), copy=False)
        for table, alias, on in joins:
            condition = and_all([exp.EQ(this=col(k, "t"), expression=col(k, alias)) for k in on])
            query = query.join(exp.alias_(exp.to_table(table), alias, table=True), on=condition, join_type="left", copy=False)
        for key in sorted(self.page_keys):
            # Every page id of the table has its label (the engine's contract): an inner join.
            on = exp.EQ(this=col(PAGE_ID, _label_alias(key)), expression=col(key, "t"))
            query = query.join(exp.alias_(exp.to_table(PAGE_NAMES), _label_alias(key), table=True), on=on, copy=False)
        return query

    def _label(self, key: str) -> exp.Expression:
        """A group key of ``groups`` as shown: a page id becomes its page."""
        return exp.alias_(col("page", _label_alias(key)), key) if key in self.page_keys else col(key, "t")

    def dimension_outputs(self) -> list[OutputColumn]:
        return [
            OutputColumn(name, "dimension", index, kind_of(d).decode(d))
            for index, (name, d) in enumerate(zip(self.names, self.plan.dimensions))
        ]

    def value_outputs(self) -> list[OutputColumn]:
        return [OutputColumn(name, "total", name, total_decoder(name)) for name in self.value_columns]
