"""Reference date ranges (spec §3.3, §3.5), written independently of the product code: brute force on purpose."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


def first_instant(day: date, zone: ZoneInfo) -> datetime:
    """The first instant whose local date is ``day``, by scanning minute by minute near midnight."""
    probe = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=30)
    # coarse steps, then fine ones
    while (probe + timedelta(hours=1)).astimezone(zone).date() < day:
        probe += timedelta(hours=1)
    while probe.astimezone(zone).date() < day:
        probe += timedelta(minutes=1)
    return probe


def month_start(day: date, back: int) -> date:
    month = day.month - 1 - back
    return date(day.year + month // 12, month % 12 + 1, 1)


def ranges(body: dict, zone: ZoneInfo, now: datetime, first_event_date: date | None):
    """(current, previous or None) as pairs of UTC instants."""
    today = now.astimezone(zone).date()

    def day(d: date) -> datetime:
        return first_instant(d, zone)

    if body.get("date_range"):
        start = date.fromisoformat(body["date_range"]["start"])
        end = date.fromisoformat(body["date_range"]["end"])
        n = (end - start).days
        return (day(start), day(end)), (day(start - timedelta(days=n)), day(start))
    period = body.get("period") or "today"
    if period in ("realtime", "24h"):
        length = timedelta(minutes=30) if period == "realtime" else timedelta(hours=24)
        return (now - length, now), (now - 2 * length, now - length)
    if period == "yesterday":
        start, end, previous_start = day(today - timedelta(days=1)), day(today), day(today - timedelta(days=2))
        return (start, end), (previous_start, min(previous_start + (end - start), start))
    if period == "last_month":
        start, end, previous_start = day(month_start(today, 1)), day(month_start(today, 0)), day(month_start(today, 2))
        return (start, end), (previous_start, min(previous_start + (end - start), start))
    if period == "all":
        if first_event_date is None:
            start = day(today)
        else:
            start = day(datetime(first_event_date.year, first_event_date.month, first_event_date.day, tzinfo=UTC).astimezone(zone).date())
        return (min(start, now), now), None
    if period == "today" or period.endswith("d"):
        n = 1 if period == "today" else int(period[:-1])
        start, previous_start = day(today - timedelta(days=n - 1)), day(today - timedelta(days=2 * n - 1))
    elif period == "month":
        start, previous_start = day(month_start(today, 0)), day(month_start(today, 1))
    elif period == "12m":
        start, previous_start = day(month_start(today, 11)), day(month_start(today, 23))
    elif period == "year":
        start, previous_start = day(date(today.year, 1, 1)), day(date(today.year - 1, 1, 1))
    else:
        raise ValueError(period)
    previous_end = min(previous_start + (now - start), start)
    return (start, now), (previous_start, max(previous_end, previous_start))
