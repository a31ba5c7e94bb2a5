"""How each dimension kind of dimensions.py reads and shows its value in SQL: one registry entry per kind.

A value is computed on a row of the event stream (spec §3.8): session attributes are stored
on every event (§3.8.2), entry and exit pages come from window columns of ``session_events``,
time dimensions give integer bucket keys (time_keys.py) that Python labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlglot import exp

from clickport.query.dimensions import Dimension, Kind
from clickport.query.expressions import SqlDialect, col, fn, lit
from clickport.query.time_keys import TimeLabel, bucket_key

GOAL = "g"
ENTRY_EXIT = ("entry_page", "exit_page")  # also the names of their window columns


@dataclass(frozen=True)
class ValueContext:
    """What a dimension's SQL value depends on besides the row: dialect, zone and the span read."""

    dialect: SqlDialect
    timezone: str
    start: datetime  # earliest instant read
    end: datetime  # latest instant read (exclusive)


def shown(value: exp.Expression, none_label: str) -> exp.Expression:
    """The value as shown: a missing (NULL or empty) value becomes its label."""
    return fn("coalesce", exp.Nullif(this=value, expression=lit("")), lit(none_label))


def _event_name(alias: str | None) -> exp.Expression:
    kind = col("type", alias)
    return exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=kind, expression=lit("pageview")), true=lit("pageview")),
            exp.If(this=exp.EQ(this=kind.copy(), expression=lit("custom")), true=col("name", alias)),
        ],
        default=fn("coalesce", exp.Nullif(this=col("name", alias), expression=lit("")), kind.copy()),
    )


Value = Callable[[Dimension, str | None, ValueContext], exp.Expression]


@dataclass(frozen=True)
class DimensionKind:
    reads: Callable[[Dimension], tuple[str, ...]]  # stored columns the value needs
    value: Value  # SQL on a stream row (``alias`` qualifies its columns)
    decode: Callable[[Dimension], Callable[[Any], str]] = lambda d: str  # SQL value → shown value
    stamped: bool = False  # stored on every event of the session: filters apply at the scan


def _column(dimension: Dimension, alias: str | None, context: ValueContext) -> exp.Expression:
    return shown(col(dimension.column, alias), dimension.none_label)


KINDS: dict[Kind, DimensionKind] = {
    "session_column": DimensionKind(lambda d: (d.column,), _column, stamped=True),
    "entry_page": DimensionKind(lambda d: ("path", "seq"), lambda d, a, c: shown(col("entry_page", a), d.none_label)),
    "exit_page": DimensionKind(lambda d: ("path", "seq"), lambda d, a, c: shown(col("exit_page", a), d.none_label)),
    "event_column": DimensionKind(lambda d: (d.column,), _column),
    "event_name": DimensionKind(lambda d: ("type", "name"), lambda d, a, c: shown(_event_name(a), d.none_label)),
    "prop": DimensionKind(
        lambda d: ("meta_keys", "meta_values"),
        lambda d, a, c: shown(c.dialect.prop_value(col("meta_keys", a), col("meta_values", a), d.prop_key), d.none_label),
    ),
    "goal": DimensionKind(lambda d: (), lambda d, a, c: col("goal_name", GOAL)),
    "time": DimensionKind(
        lambda d: ("ts",),
        lambda d, a, c: bucket_key(d.name, c.timezone, c.start, c.end, c.dialect, col("ts", a)),
        decode=lambda d: TimeLabel(d.name),
    ),
}


def kind_of(dimension: Dimension) -> DimensionKind:
    return KINDS[dimension.kind]
