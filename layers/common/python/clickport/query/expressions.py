"""SQL pieces whose meaning (not only spelling) differs between Athena and DuckDB, built as sqlglot ASTs.

Only these few constructs depend on the target: timestamp literals, epoch milliseconds,
integer division, the value at the first/last row by a key, property lookup, string
aggregation and the duration in milliseconds. Everything else in the query is the same AST
for both dialects.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from sqlglot import exp

DialectName = Literal["athena", "duckdb"]
DIALECTS: tuple[str, ...] = ("athena", "duckdb")


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def lit(value: str | int) -> exp.Expression:
    if isinstance(value, bool):
        raise TypeError("no boolean literals")
    return exp.Literal.number(value) if isinstance(value, int) else exp.Literal.string(value)


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    """A function call rendered exactly as named, in every dialect."""
    return exp.Anonymous(this=name, expressions=list(args))


def and_all(parts: list[exp.Expression]) -> exp.Expression:
    if not parts:
        return exp.true()
    result = parts[0]
    for part in parts[1:]:
        result = exp.And(this=result, expression=part)
    return result


def or_all(parts: list[exp.Expression]) -> exp.Expression:
    if not parts:
        return exp.false()
    result = parts[0]
    for part in parts[1:]:
        result = exp.Or(this=result, expression=part)
    return exp.Paren(this=result) if len(parts) > 1 else result


def case_when(condition: exp.Expression, then: exp.Expression, default: exp.Expression | None = None) -> exp.Case:
    case = exp.Case(ifs=[exp.If(this=condition, true=then)])
    if default is not None:
        case.set("default", default)
    return case


def row(*parts: exp.Expression) -> exp.Expression:
    """A row value, ordered field by field (a composite sort key in both engines)."""
    return fn("row", *parts)


def count_if(condition: exp.Expression) -> exp.Expression:
    return exp.CountIf(this=condition)


def flag(condition: exp.Expression) -> exp.Case:
    """1 when ``condition`` holds, else 0 (an integer both engines sum exactly)."""
    return case_when(condition, lit(1), lit(0))


class SqlDialect:
    """The dialect-dependent constructs for one target engine."""

    def __init__(self, name: str) -> None:
        if name not in DIALECTS:
            raise ValueError(f"unknown SQL dialect {name!r}")
        self.name = name

    def timestamp(self, instant: datetime) -> exp.Expression:
        """A UTC instant as a literal comparable with the stored ``ts`` column (millisecond precision)."""
        text = instant.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.") + f"{instant.microsecond // 1000:03d}"
        if self.name == "duckdb":
            return exp.cast(lit(text + "+00:00"), exp.DataType.build("TIMESTAMPTZ"))
        return exp.cast(lit(text), exp.DataType.build("TIMESTAMP"))

    def epoch_ms(self, ts: exp.Expression) -> exp.Expression:
        """Milliseconds since 1970-01-01 UTC of the stored ``ts``, as an exact integer."""
        if self.name == "duckdb":
            return fn("epoch_ms", ts)
        epoch = exp.cast(lit("1970-01-01 00:00:00.000"), exp.DataType.build("TIMESTAMP"))
        return fn("date_diff", lit("millisecond"), epoch, ts)

    def int_div(self, dividend: exp.Expression, divisor: int) -> exp.Expression:
        """Integer division of a non-negative BIGINT (truncation and floor agree there)."""
        if not isinstance(dividend, (exp.Column, exp.Paren)):
            dividend = exp.Paren(this=dividend)
        if self.name == "duckdb":
            return exp.Paren(this=exp.IntDiv(this=dividend, expression=lit(divisor)))
        return exp.Paren(this=exp.Div(this=dividend, expression=lit(divisor), typed=True))

    def first_by(self, value: exp.Expression, key: exp.Expression) -> exp.Expression:
        """``value`` at the row with the least ``key`` (a NULL value there is the answer, not skipped)."""
        return fn("arg_min_null" if self.name == "duckdb" else "min_by", value, key)

    def last_by(self, value: exp.Expression, key: exp.Expression) -> exp.Expression:
        """``value`` at the row with the greatest ``key`` (a NULL value there is the answer)."""
        return fn("arg_max_null" if self.name == "duckdb" else "max_by", value, key)

    def prop_value(self, keys: exp.Expression, values: exp.Expression, key: str) -> exp.Expression:
        """The value stored for property ``key`` (first occurrence), NULL when absent."""
        if self.name == "duckdb":
            return fn("list_extract", values, fn("list_position", keys, lit(key)))
        # NOTE: element_at(array, 0) is an error in Athena, so look only when the key is present.
        return case_when(fn("contains", keys, lit(key)), fn("element_at", values, fn("array_position", keys, lit(key))))

    def string_agg(self, value: exp.Expression, separator: str) -> exp.Expression:
        if self.name == "duckdb":
            return fn("string_agg", value, lit(separator))
        return fn("array_join", fn("array_agg", value), lit(separator))

    def duration_ms(self, first: exp.Expression, last: exp.Expression) -> exp.Expression:
        """Milliseconds from ``first`` to ``last`` (instants of ``ts``), exactly."""
        if self.name == "duckdb":
            # NOTE: DuckDB's date_diff on TIMESTAMPTZ runs through ICU's calendar (measured: most of a
            # session step's time); the difference of epoch milliseconds is the same number.
            return exp.Sub(this=self.epoch_ms(last), expression=self.epoch_ms(first))
        return fn("date_diff", lit("millisecond"), first, last)
