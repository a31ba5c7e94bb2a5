"""Ordering, counting and paging of breakdowns inside the SQL (spec §3.7), exactly as shape.py would.

Rows are ordered by the order_by metric's exact value (a count, or the unrounded ratio of
two integer totals); ties go by the dimension values in request order, ascending by code
point (binary string order in both engines). The
first row always comes back too, so ``total_rows`` is known even past the last page.
"""

from __future__ import annotations

from sqlglot import exp

from clickport.query.columns import OutputColumn
from clickport.query.expressions import SqlDialect, and_all, case_when, col, fn, lit
from clickport.query.metrics import METRICS, REVENUE_SORT_TOTAL, Metric
from clickport.query.plan import CURRENT, PREVIOUS, QueryPlan

CURRENT_ALIAS = "c"


def sort_key(metric: Metric, alias: str, dialect: SqlDialect) -> exp.Expression:
    """The metric's exact value: an integer, a ratio of two integer totals as a double, or revenue's micro-units.

    NOTE: a double orders the ratios of integers exactly as long as the denominators stay
    below 2^26 (distinct ratios then differ by more than one double step); equal ratios give
    equal doubles.
    """
    if metric.kind == "count":
        return col(metric.numerator, alias)
    if metric.kind == "revenue":
        return fn("coalesce", col(REVENUE_SORT_TOTAL, alias), lit(0))
    double = exp.DataType.build("DOUBLE")
    numerator, denominator = col(metric.numerator, alias), col(metric.denominator, alias)
    ratio = exp.Div(this=exp.cast(numerator, double), expression=exp.cast(denominator, double), typed=True)
    return case_when(exp.EQ(this=denominator.copy(), expression=lit(0)), lit(0), ratio)


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


def _pivot(dimensions: tuple[str, ...], values: tuple[str, ...]) -> exp.Select:
    """Current and previous totals side by side, one row per group of the current period.

    A pivot, not a self-join: Athena inlines CTEs, so joining ``grouped`` to itself would
    run the whole statement twice.
    """

    def of(period: int, value: str) -> exp.Expression:
        return exp.Max(this=case_when(exp.EQ(this=col("period"), expression=lit(period)), col(value)))

    in_current = exp.Max(this=case_when(exp.EQ(this=col("period"), expression=lit(CURRENT)), lit(1), lit(0)))
    columns = [col(d) for d in dimensions]
    columns += [exp.alias_(of(CURRENT, v), v) for v in values]
    columns += [exp.alias_(of(PREVIOUS, v), f"prev_{v}") for v in values]
    query = exp.select(*columns).from_("grouped", copy=False)
    if dimensions:
        query = query.group_by(*[col(d) for d in dimensions], copy=False)
    return query.having(exp.EQ(this=in_current, expression=lit(1)))


def ranked_select(
    plan: QueryPlan, dialect: SqlDialect, dimension_columns: list[OutputColumn], value_columns: list[OutputColumn]
) -> tuple[list[tuple[str, exp.Select]], exp.Select, tuple[OutputColumn, ...]]:
    """(extra CTEs, final SELECT, its typed output columns) for a breakdown ordered and paged in SQL."""
    dimensions = tuple(c.name for c in dimension_columns)
    values = tuple(c.name for c in value_columns)
    ctes: list[tuple[str, exp.Select]] = []
    previous: list[OutputColumn] = []
    if plan.previous is not None:
        previous = [OutputColumn(f"prev_{c.name}", "previous", c.key, c.decode) for c in value_columns]
        ctes.append(("paired_groups", _pivot(dimensions, values)))
        source = exp.select(exp.Star()).from_(exp.alias_(exp.to_table("paired_groups"), CURRENT_ALIAS, table=True), copy=False)
    else:
        source = (
            exp.select(exp.Star())
            .from_(exp.alias_(exp.to_table("grouped"), CURRENT_ALIAS, table=True), copy=False)
            .where(exp.EQ(this=col("period", CURRENT_ALIAS), expression=lit(CURRENT)), copy=False)
        )
    row_rank = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=_ordering(plan, dialect, dimensions)))
    total = exp.Window(this=exp.Count(this=exp.Star()))
    ctes.append(("ranked_groups", source.select(exp.alias_(row_rank, "row_rank"), exp.alias_(total, "total_rows"), copy=False)))
    output = (
        *dimension_columns, *value_columns, *previous, OutputColumn("row_rank", "rank"), OutputColumn("total_rows", "total_rows")
    )
    rank = col("row_rank")
    page = and_all(
        [
            exp.GT(this=rank, expression=lit(plan.offset)),
            exp.LTE(this=rank, expression=lit(plan.offset + (plan.limit or 0))),
        ]
    )
    final = (
        exp.select(*[col(c.name) for c in output])
        .from_("ranked_groups", copy=False)
        .where(exp.Or(this=exp.EQ(this=rank, expression=lit(1)), expression=exp.Paren(this=page)), copy=False)
        .order_by(rank, copy=False)
    )
    return ctes, final, output
