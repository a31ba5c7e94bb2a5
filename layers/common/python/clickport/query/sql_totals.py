"""The grouping steps of the Stats SQL (spec §3.8.5–6): per group and session, then exact totals per group.

``per_session`` has one row per (period, group, session); ``totals`` sums them into the
integer totals the metrics need; revenue is summed per currency; ``base_totals`` is the
visitors conversion_rate divides by; ``grouped`` joins it all, one row per group.
"""

from __future__ import annotations

from sqlglot import exp

from clickport.query.expressions import and_all, case_when, col, flag, fn, lit
from clickport.query.metrics import REVENUE_SORT_TOTAL, TOTALS


def dimension_column(index: int) -> str:
    return f"d{index}"


def same_column(left: str, right: str, name: str) -> exp.Expression:
    return exp.EQ(this=col(name, left), expression=col(name, right))


class TotalsSteps:
    """Mixed into the QueryBuilder: uses its ``plan``, ``dialect``, ``totals``, ``goal_index`` and ``needs_base``."""

    def group_columns(self, *, with_goals: bool = True) -> list[str]:
        return [
            dimension_column(i)
            for i, d in enumerate(self.plan.dimensions)
            if with_goals or d.kind != "goal"
        ]

    def per_session(self) -> exp.Select:
        keys = ["period", *self.group_columns(), "session_id"]
        columns: list[exp.Expression] = [col(k) for k in keys]
        columns.append(exp.alias_(exp.Max(this=col("visitor_id")), "visitor_id"))
        columns.append(exp.alias_(exp.Count(this=exp.Star()), "events"))
        if self.totals & {"pageviews", "scroll_sum"}:
            columns.append(exp.alias_(exp.Sum(this=col("is_pageview")), "pageviews"))
        if "clickers" in self.totals:
            columns.append(exp.alias_(exp.Max(this=col("is_click")), "clicked"))
        if self.totals & {"conversions", "converting_visitors", "revenue"}:
            columns.append(exp.alias_(exp.Sum(this=col("converts")), "conversions"))
            columns.append(exp.alias_(exp.Max(this=col("converts")), "converted"))
        if "scroll_sum" in self.totals:
            columns.append(exp.alias_(exp.Sum(this=col("visit_scroll")), "scroll_sum"))
            columns.append(exp.alias_(exp.Count(this=col("visit_scroll")), "scroll_count"))
        for name in ("duration_ms", "pageviews_in_range"):
            if (name == "duration_ms" and "duration_ms" in self.totals) or (
                name == "pageviews_in_range" and "bounces" in self.totals
            ):
                columns.append(exp.alias_(exp.Max(this=col(name)), name))
        return exp.select(*columns).from_("counted").group_by(*[col(k) for k in keys])

    def totals_select(self) -> exp.Select:
        keys = ["period", *self.group_columns()]
        zero = lit(0)

        def total(expression: exp.Expression, name: str) -> exp.Expression:
            return exp.alias_(fn("coalesce", expression, zero), name)

        visits = col("pageviews_in_range")
        wanted = {
            "visitors": lambda: total(exp.Count(this=exp.Distinct(expressions=[col("visitor_id")])), "visitors"),
            "sessions": lambda: total(exp.Count(this=exp.Star()), "sessions"),
            "pageviews": lambda: total(exp.Sum(this=col("pageviews")), "pageviews"),
            "events": lambda: total(exp.Sum(this=col("events")), "events"),
            "bounce_base": lambda: total(exp.Sum(this=flag(exp.GTE(this=visits, expression=lit(1)))), "bounce_base"),
            "bounces": lambda: total(exp.Sum(this=flag(exp.EQ(this=visits, expression=lit(1)))), "bounces"),
            "duration_ms": lambda: total(exp.Sum(this=col("duration_ms")), "duration_ms"),
            "scroll_sum": lambda: total(exp.Sum(this=col("scroll_sum")), "scroll_sum"),
            "scroll_count": lambda: total(exp.Sum(this=col("scroll_count")), "scroll_count"),
            "clickers": lambda: total(exp.Sum(this=col("clicked")), "clickers"),
            "conversions": lambda: total(exp.Sum(this=col("conversions")), "conversions"),
            "converting_visitors": lambda: total(
                exp.Count(
                    this=exp.Distinct(
                        expressions=[case_when(exp.EQ(this=col("converted"), expression=lit(1)), col("visitor_id"))]
                    )
                ),
                "converting_visitors",
            ),
        }
        columns = [col(k) for k in keys] + [build() for name, build in wanted.items() if name in self.output_totals]
        return exp.select(*columns).from_("per_session").group_by(*[col(k) for k in keys])

    @property
    def output_totals(self) -> tuple[str, ...]:
        """Integer totals of the ``totals`` step, in a fixed order."""
        needed = set(self.totals) - {"revenue", "conversion_base"}
        if "conversion_base" in self.totals and not self.needs_base:
            needed.add("visitors")
        return tuple(t for t in TOTALS if t in needed)

    def revenue_sums(self) -> exp.Select:
        keys = ["period", *self.group_columns(), "revenue_currency"]
        has_amount = exp.Not(this=exp.Is(this=col("revenue_micros"), expression=exp.Null()))
        return (
            exp.select(*[col(k) for k in keys], exp.alias_(exp.Sum(this=col("revenue_micros")), "micros"))
            .from_("counted")
            .where(and_all([exp.EQ(this=col("converts"), expression=lit(1)), has_amount]))
            .group_by(*[col(k) for k in keys])
        )

    def revenue_text(self) -> exp.Select:
        keys = ["period", *self.group_columns()]
        pair = exp.DPipe(
            this=exp.DPipe(this=col("revenue_currency"), expression=lit(":")),
            expression=exp.cast(col("micros"), exp.DataType.build("VARCHAR")),
        )
        columns = [*[col(k) for k in keys], exp.alias_(self.dialect.string_agg(pair, ","), "revenue")]
        if self.orders_by_revenue:
            columns.append(exp.alias_(exp.Sum(this=col("micros")), REVENUE_SORT_TOTAL))
        return exp.select(*columns).from_("revenue_sums").group_by(*[col(k) for k in keys])

    @property
    def orders_by_revenue(self) -> bool:
        """total_revenue orders rows ranked in SQL: its micro-units summed over currencies are the sort key."""
        return self.plan.ranked_in_sql and self.plan.order_by == "total_revenue"

    def base_totals(self) -> exp.Select:
        keys = ["period", *self.group_columns(with_goals=False)]
        visitors = exp.Count(this=exp.Distinct(expressions=[col("visitor_id")]))
        return exp.select(*[col(k) for k in keys], exp.alias_(visitors, "visitors")).from_("base_counted").group_by(
            *[col(k) for k in keys]
        )

    def grouped(self) -> exp.Select:
        """Every group of every period with the totals the metrics need (``period`` first)."""
        keys = ["period", *self.group_columns()]
        columns: list[exp.Expression] = [col(k, "t") for k in keys] + [col(t, "t") for t in self.output_totals]
        joins: list[tuple[str, str, list[str]]] = []
        if "conversion_base" in self.totals:
            if self.needs_base:
                joins.append(("base_totals", "b", ["period", *self.group_columns(with_goals=False)]))
                columns.append(exp.alias_(fn("coalesce", col("visitors", "b"), lit(0)), "conversion_base"))
            else:
                columns.append(exp.alias_(col("visitors", "t"), "conversion_base"))
        if "revenue" in self.totals:
            joins.append(("revenue_text", "r", keys))
            columns.append(exp.alias_(col("revenue", "r"), "revenue"))
            if self.orders_by_revenue:
                columns.append(exp.alias_(col(REVENUE_SORT_TOTAL, "r"), REVENUE_SORT_TOTAL))
        query = exp.select(*columns).from_(exp.alias_(exp.to_table("totals"), "t", table=True))
        for table, alias, on in joins:
            query = query.join(
                exp.alias_(exp.to_table(table), alias, table=True),
                on=and_all([same_column("t", alias, k) for k in on]),
                join_type="left",
            )
        return query

    @property
    def value_columns(self) -> tuple[str, ...]:
        extra = tuple(t for t in ("conversion_base", "revenue") if t in self.totals)
        return self.output_totals + extra + ((REVENUE_SORT_TOTAL,) if self.orders_by_revenue else ())

