"""Time buckets as integer keys (spec §3.2): SQL assigns each event its local bucket's key, Python labels it.

The zone's UTC offsets over the ranges read come from the pinned tz database (in Python),
so SQL only adds the offset in force at each event's instant (a ``CASE`` on the exact
transition instants) and divides: ``hour`` and ``date`` keys are wall-clock hours and days,
``week`` keys count Monday-based weeks; ``month`` keys (``year × 12 + month − 1``) come from
a ``CASE`` on the instants the local months begin. The repeated hour of a 25-hour day gets one key, the missing
hour of a 23-hour day none. Integer keys group faster than labels formatted per event, and
the labels agree with the zero-filled buckets (both from the pinned database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Callable

from sqlglot import exp

from clickport.query.expressions import SqlDialect, col, lit
from clickport.query.periods import add_months, day_start
from clickport.query.zones import get_zone
from clickport.schema import DAY_MS

HOUR_MS = 3_600_000
# Keys stay non-negative from 1770 on (dates go back to 1900): BIAS_DAYS before 1970-01-01 is a Monday.
BIAS_DAYS = 73_055
BIAS_MS = BIAS_DAYS * DAY_MS
_BASE = datetime(1970, 1, 1) - timedelta(days=BIAS_DAYS)
_STEP = timedelta(hours=12)  # no zone changes its offset twice within 12 hours
_UTC = timezone.utc


def _offset_ms(instant: datetime, zone) -> int:
    return int(instant.astimezone(zone).utcoffset() // timedelta(milliseconds=1))


@lru_cache(maxsize=8192)
def _changes_in_year(zone_name: str, year: int) -> tuple[tuple[datetime, int], ...]:
    """Every offset change of the zone within UTC ``year``: ``((instant, new offset_ms), …)``."""
    zone = get_zone(zone_name)
    here = datetime(year, 1, 1, tzinfo=_UTC)
    end = datetime(year + 1, 1, 1, tzinfo=_UTC)
    current = _offset_ms(here, zone)
    changes: list[tuple[datetime, int]] = []
    while here < end:
        step = min(here + _STEP, end)
        if _offset_ms(step, zone) != current:
            low, high = int(here.timestamp()), int(step.timestamp())  # offsets change on whole seconds
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_ms(datetime.fromtimestamp(middle, _UTC), zone) == current:
                    low = middle
                else:
                    high = middle
            changed = datetime.fromtimestamp(high, _UTC)
            current = _offset_ms(changed, zone)
            changes.append((changed, current))
        here = step
    return tuple(changes)


def offsets(zone_name: str, start: datetime, end: datetime) -> tuple[tuple[datetime, int], ...]:
    """``((from, offset_ms), …)``: the offset at ``start`` and at every change before ``end`` (UTC instants)."""
    changes = [(start, _offset_ms(start, get_zone(zone_name)))]
    for year in range(start.astimezone(_UTC).year, end.astimezone(_UTC).year + 1):
        changes += [(at, offset) for at, offset in _changes_in_year(zone_name, year) if start < at < end]
    return tuple(changes)


def _local_ms(ts: exp.Expression, zone: str, start: datetime, end: datetime, dialect: SqlDialect) -> exp.Expression:
    """Wall-clock milliseconds of ``ts`` plus BIAS_MS (non-negative)."""
    changes = offsets(zone, start, end)
    offset: exp.Expression = lit(changes[-1][1] + BIAS_MS)
    if len(changes) > 1:
        offset = exp.Case(
            ifs=[
                exp.If(this=exp.LT(this=ts.copy(), expression=dialect.timestamp(changes[i + 1][0])), true=lit(changes[i][1] + BIAS_MS))
                for i in range(len(changes) - 1)
            ],
            default=offset,
        )
    return exp.Add(this=dialect.epoch_ms(ts), expression=exp.Paren(this=offset))


def _month_key(ts: exp.Expression, zone_name: str, start: datetime, end: datetime, dialect: SqlDialect) -> exp.Expression:
    """``year × 12 + month − 1`` of the local month holding ``ts``: a ``CASE`` on the exact instants
    the local months in ``[start, end)`` begin (at most one branch per month read)."""
    zone = get_zone(zone_name)
    first = start.astimezone(zone).date().replace(day=1)
    key = first.year * 12 + first.month - 1
    branches: list[exp.If] = []
    month = add_months(first, 1)
    while (boundary := day_start(month, zone)) < end:
        branches.append(exp.If(this=exp.LT(this=ts.copy(), expression=dialect.timestamp(boundary)), true=lit(key)))
        key += 1
        month = add_months(month, 1)
    return exp.Case(ifs=branches, default=lit(key)) if branches else lit(key)


def bucket_key(unit: str, zone: str, start: datetime, end: datetime, dialect: SqlDialect, ts: exp.Expression | None = None) -> exp.Expression:
    """The integer key of the local ``unit`` bucket holding ``ts``, for events in ``[start, end)``."""
    ts = ts if ts is not None else col("ts")
    if unit == "month":
        return _month_key(ts, zone, start, end, dialect)
    local = _local_ms(ts, zone, start, end, dialect)
    if unit == "hour":
        return dialect.int_div(local, HOUR_MS)
    day = dialect.int_div(local, DAY_MS)
    if unit == "date":
        return day
    if unit == "week":
        return dialect.int_div(day, 7)
    raise KeyError(unit)


def _hour_label(key: int) -> str:
    return (_BASE + timedelta(hours=key)).strftime("%Y-%m-%d %H:00")


def _date_label(key: int) -> str:
    return (_BASE + timedelta(days=key)).date().isoformat()


def _week_label(key: int) -> str:
    return (_BASE + timedelta(days=7 * key)).date().isoformat()


def _month_label(key: int) -> str:
    return f"{key // 12:04d}-{key % 12 + 1:02d}"


LABELS: dict[str, Callable[[int], str]] = {
    "hour": _hour_label,
    "date": _date_label,
    "week": _week_label,
    "month": _month_label,
}


@dataclass(frozen=True)
class TimeLabel:
    """Decodes one time dimension's integer keys into its labels."""

    unit: str

    def __call__(self, key) -> str:
        return LABELS[self.unit](int(key))

