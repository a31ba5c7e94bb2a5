"""Date ranges (spec §3.3) and comparison ranges (§3.5), computed in Python from an injectable now.

Every boundary is a UTC instant. Local day D starts at the first instant whose local
date is D (found exactly, even when local midnight does not exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from clickport.limits import MAX_RANGE_DAYS  # noqa: F401  (re-exported)

UTC = timezone.utc


@dataclass(frozen=True)
class TimeRange:
    """``start <= ts < end``, both aware UTC datetimes."""

    start: datetime
    end: datetime
    # The range runs up to "now" (a period relative to now): its buckets go up to the one containing now.
    ends_now: bool = False


@dataclass(frozen=True)
class ResolvedRange:
    current: TimeRange
    previous: TimeRange | None  # None: the period has no comparison ("all")


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) whose local date in ``zone`` is ``day``."""
    candidates = []
    for fold in (0, 1):
        naive = datetime(day.year, day.month, day.day, fold=fold)
        candidates.append(naive.replace(tzinfo=zone).astimezone(UTC))
    low, high = min(candidates), max(candidates)
    if local_date(low, zone) >= day:
        return low
    # NOTE: local midnight falls in a gap; the day starts at the transition, found by bisection.
    low_s, high_s = int(low.timestamp()), int(high.timestamp())
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if local_date(datetime.fromtimestamp(middle, UTC), zone) >= day:
            high_s = middle
        else:
            low_s = middle
    return datetime.fromtimestamp(high_s, UTC)


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def _elapsed_previous(prev_start: datetime, current: TimeRange) -> TimeRange:
    """The previous period up to the same elapsed time (a duration), never past the current start."""
    end = min(prev_start + (current.end - current.start), current.start)
    return TimeRange(prev_start, max(end, prev_start))


def _days(n: int) -> Callable[[datetime, ZoneInfo, date | None], ResolvedRange]:
    def resolve(now: datetime, zone: ZoneInfo, first: date | None) -> ResolvedRange:
        today = local_date(now, zone)
        current = TimeRange(day_start(today - timedelta(days=n - 1), zone), now, ends_now=True)
        return ResolvedRange(current, _elapsed_previous(day_start(today - timedelta(days=2 * n - 1), zone), current))

    return resolve


def _last(duration: timedelta) -> Callable[[datetime, ZoneInfo, date | None], ResolvedRange]:
    def resolve(now: datetime, zone: ZoneInfo, first: date | None) -> ResolvedRange:
        start = now - duration
        return ResolvedRange(TimeRange(start, now, ends_now=True), TimeRange(start - duration, start))

    return resolve


def _yesterday(now: datetime, zone: ZoneInfo, first: date | None) -> ResolvedRange:
    today = local_date(now, zone)
    current = TimeRange(day_start(today - timedelta(days=1), zone), day_start(today, zone))
    return ResolvedRange(current, _elapsed_previous(day_start(today - timedelta(days=2), zone), current))


def _months_to_date(span: int) -> Callable[[datetime, ZoneInfo, date | None], ResolvedRange]:
    """The current ``span`` months (this one included) to date, against the ``span`` before."""

    def resolve(now: datetime, zone: ZoneInfo, first: date | None) -> ResolvedRange:
        this_month = local_date(now, zone).replace(day=1)
        current = TimeRange(day_start(add_months(this_month, 1 - span), zone), now, ends_now=True)
        return ResolvedRange(current, _elapsed_previous(day_start(add_months(this_month, 1 - 2 * span), zone), current))

    return resolve


def _year(now: datetime, zone: ZoneInfo, first: date | None) -> ResolvedRange:
    today = local_date(now, zone)
    current = TimeRange(day_start(date(today.year, 1, 1), zone), now, ends_now=True)
    return ResolvedRange(current, _elapsed_previous(day_start(date(today.year - 1, 1, 1), zone), current))


def _last_month(now: datetime, zone: ZoneInfo, first: date | None) -> ResolvedRange:
    this_month = local_date(now, zone).replace(day=1)
    current = TimeRange(day_start(add_months(this_month, -1), zone), day_start(this_month, zone))
    return ResolvedRange(current, _elapsed_previous(day_start(add_months(this_month, -2), zone), current))


def _all(now: datetime, zone: ZoneInfo, first: date | None) -> ResolvedRange:
    if first is None:
        start_day = local_date(now, zone)
    else:
        # NOTE: first_event_date is a UTC date; start on the local day holding its first instant.
        start_day = local_date(datetime(first.year, first.month, first.day, tzinfo=UTC), zone)
    start = min(day_start(start_day, zone), now)
    return ResolvedRange(TimeRange(start, now, ends_now=True), None)


PERIODS: dict[str, Callable[[datetime, ZoneInfo, date | None], ResolvedRange]] = {
    "realtime": _last(timedelta(minutes=30)),
    "24h": _last(timedelta(hours=24)),
    "today": _days(1),
    "yesterday": _yesterday,
    "7d": _days(7),
    "14d": _days(14),
    "30d": _days(30),
    "90d": _days(90),
    "12m": _months_to_date(12),
    "month": _months_to_date(1),
    "year": _year,
    "last_month": _last_month,
    "all": _all,
}


def resolve_period(name: str, now: datetime, zone: ZoneInfo, first_event_date: date | None) -> ResolvedRange:
    """The range of a named period; ``KeyError`` for an unknown name."""
    return PERIODS[name](now, zone, first_event_date)


def resolve_dates(start: date, end: date, zone: ZoneInfo) -> ResolvedRange:
    """Local dates ``[start, end)``; the comparison is the same number of local days just before."""
    days = (end - start).days
    current = TimeRange(day_start(start, zone), day_start(end, zone))
    return ResolvedRange(current, TimeRange(day_start(start - timedelta(days=days), zone), current.start))


def iso_instant(instant: datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with the zone's numeric offset (``+00:00`` for UTC); milliseconds only when present."""
    local = instant.astimezone(zone)
    spec = "milliseconds" if local.microsecond else "seconds"
    return local.isoformat(timespec=spec)
