"""The typed column layout of a statement's result: what each output column is and how to decode it.

The SQL builder declares every column it returns (the period tag, dimension values, totals of
the current and the previous period, rank, row count); the runner decodes rows through this
layout, never by position or by name prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from clickport.query.metrics import REVENUE_TOTAL

Role = Literal["period", "dimension", "total", "previous", "rank", "total_rows"]


def parse_revenue(text: str | None) -> dict[str, int]:
    """``"EUR:99500000,USD:49990000"`` → micro-units per currency."""
    out: dict[str, int] = {}
    for part in (text or "").split(","):
        if part:
            currency, _, micros = part.rpartition(":")
            out[currency] = out.get(currency, 0) + int(micros)
    return out


def integer(value: Any) -> int:
    return int(value or 0)


def total_decoder(name: str) -> Callable[[Any], Any]:
    return parse_revenue if name == REVENUE_TOTAL else integer


@dataclass(frozen=True)
class OutputColumn:
    name: str  # the SQL column name
    role: Role
    key: Any = None  # the total's name, or the dimension's index
    decode: Callable[[Any], Any] = field(default=lambda value: value, compare=False)


@dataclass(frozen=True)
class DecodedRow:
    period: int
    values: tuple[str, ...]
    totals: dict[str, Any]
    previous: dict[str, Any] | None  # None: no previous-period row (or no comparison in this layout)
    rank: int = 0
    total_rows: int = 0


@dataclass(frozen=True)
class Layout:
    columns: tuple[OutputColumn, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def of_role(self, role: Role) -> tuple[OutputColumn, ...]:
        return tuple(c for c in self.columns if c.role == role)

    def decode(self, row: tuple[Any, ...]) -> DecodedRow:
        values: list[str] = [""] * len(self.of_role("dimension"))
        totals: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        has_previous = False
        period = rank = total_rows = 0
        for column, raw in zip(self.columns, row):
            if column.role == "period":
                period = int(raw)
            elif column.role == "dimension":
                values[column.key] = column.decode(raw)
            elif column.role == "total":
                totals[column.key] = column.decode(raw)
            elif column.role == "previous":
                has_previous = has_previous or raw is not None
                previous[column.key] = column.decode(raw)
            elif column.role == "rank":
                rank = int(raw)
            else:
                total_rows = int(raw)
        return DecodedRow(period, tuple(values), totals, previous if has_previous else None, rank, total_rows)
