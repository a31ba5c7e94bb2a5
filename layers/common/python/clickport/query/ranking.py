"""Ordering, counting and paging of breakdowns inside the SQL (spec §3.7), exactly as shape.py would.

Rows are ordered by the order_by metric's *shown* value, an exact integer formed with
the same formula as ``rounding.scaled_ratio``; ties go by the dimension values in
request order, ascending by code point (binary string order in both engines). The
first row always comes back too, so ``total_rows`` is known even past the last page.
"""

from __future__ import annotations

from sqlglot import exp

from clickport.query.expressions import SqlDialect, and_all, case_when, col, lit
from clickport.query.metrics import METRICS, Metric
from clickport.query.plan import CURRENT, PREVIOUS, QueryPlan

CURRENT_ALIAS, PREVIOUS_ALIAS = "c", "p"


def sort_key(metric: Metric, alias: str, dialect: SqlDialect) -> exp.Expression:
    """The metric's shown value × 10^decimals, as an exact integer expression."""
    if metric.kind == "count":
        return col(metric.numerator, alias)
    numerator = exp.Mul(this=lit(metric.numerator_factor), expression=col(metric.numerator, alias))
    denominator = exp.Mul(this=lit(metric.denominator_factor), expression=col(metric.denominator, alias))
    top = exp.Add(this=exp.Mul(this=lit(2 * 10**metric.decimals), expression=numerator), expression=denominator)
    bottom = exp.Mul(this=lit(2), expression=denominator.copy())
    return case_when(
        exp.EQ(this=denominator.copy(), expression=lit(0)),
        lit(0),
        dialect.int_div(exp.Paren(this=top), exp.Paren(this=bottom)),
    )


def _ordering(plan: QueryPlan, dialect: SqlDialect, dimensions: tuple[str, ...]) -> list[exp.Ordered]:
    descending = plan.order_dir == "desc"
    names = [d.name for d in plan.dimensions]
    order: list[exp.Ordered] = []
    first_dimension = None
    if plan.order_by in METRICS:
        order.append(exp.Ordered(this=sort_key(METRICS[plan.order_by], CURRENT_ALIAS, dialect), desc=descending))
    elif plan.order_by in names:
        first_dimension = names.index(plan.order_by)
        order.append(exp.Ordered(this=col(dimensions[first_dimension], CURRENT_ALIAS), desc=descending))
    order += [exp.Ordered(this=col(d, CURRENT_ALIAS)) for i, d in enumerate(dimensions) if i != first_dimension]
    return order


def ranked_select(
    plan: QueryPlan, dialect: SqlDialect, dimensions: tuple[str, ...], values: tuple[str, ...]
) -> tuple[list[tuple[str, exp.Select]], exp.Select, tuple[str, ...]]:
    """(extra CTEs, final SELECT, output columns) for a breakdown ordered and paged in SQL."""
    columns: list[exp.Expression] = [col(d, CURRENT_ALIAS) for d in dimensions]
    columns += [col(v, CURRENT_ALIAS) for v in values]
    previous = tuple(f"prev_{v}" for v in values) if plan.previous is not None else ()
    columns += [exp.alias_(col(v, PREVIOUS_ALIAS), f"prev_{v}") for v in values if previous]
    row_rank = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=_ordering(plan, dialect, dimensions)))
    total = exp.Window(this=exp.Count(this=exp.Star()))
    columns += [exp.alias_(row_rank, "row_rank"), exp.alias_(total, "total_rows")]
    ranked = exp.select(*columns).from_(exp.alias_(exp.to_table("grouped"), CURRENT_ALIAS, table=True))
    if previous:
        same_group = [exp.EQ(this=col("period", PREVIOUS_ALIAS), expression=lit(PREVIOUS))]
        same_group += [exp.EQ(this=col(d, CURRENT_ALIAS), expression=col(d, PREVIOUS_ALIAS)) for d in dimensions]
        ranked = ranked.join(
            exp.alias_(exp.to_table("grouped"), PREVIOUS_ALIAS, table=True), on=and_all(same_group), join_type="left"
        )
    ranked = ranked.where(exp.EQ(this=col("period", CURRENT_ALIAS), expression=lit(CURRENT)))
    output = (*dimensions, *values, *previous, "row_rank", "total_rows")
    rank = col("row_rank")
    page = and_all(
        [
            exp.GT(this=rank, expression=lit(plan.offset)),
            exp.LTE(this=rank, expression=lit(plan.offset + (plan.limit or 0))),
        ]
    )
    final = (
        exp.select(*[col(c) for c in output])
        .from_("ranked_groups")
        .where(exp.Or(this=exp.EQ(this=rank, expression=lit(1)), expression=exp.Paren(this=page)))
        .order_by(rank)
    )
    return [("ranked_groups", ranked)], final, output
