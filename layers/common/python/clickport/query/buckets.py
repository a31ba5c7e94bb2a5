"""Time buckets of a range (spec §3.2): the local labels from the range start up to the bucket holding now.

A range that runs up to now (``TimeRange.ends_now``) ends with the bucket containing now,
even when now is exactly a bucket's first instant (``today`` by hour at 12:00 ends with
the 12:00 row); any other range ends with the bucket of its last instant, and never
later than the bucket containing now.

Labels are wall-clock labels in the zone, so the repeated hour of a 25-hour day is one
bucket and the missing hour of a 23-hour day none. Labels sort in time order.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from clickport.query.periods import TimeRange

_STEP = timedelta(minutes=15)  # every zone offset in use is a multiple of 15 minutes
_ONE_MS = timedelta(milliseconds=1)


def _label_of_date(day: date, unit: str) -> str:
    if unit == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if unit == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


def bucket_labels(unit: str, time_range: TimeRange, zone: ZoneInfo, now: datetime | None = None) -> list[str]:
    """Labels from the range start up to the bucket holding ``now`` (or the range's last instant if earlier)."""
    if time_range.ends_now:
        last = time_range.end
    else:
        last = time_range.end - _ONE_MS
        if now is not None:
            last = min(last, now)
    if last < time_range.start:
        return []
    labels: list[str] = []
    if unit == "hour":
        instant = time_range.start
        aligned = datetime.fromtimestamp((int(instant.timestamp()) // 900 + 1) * 900, instant.tzinfo)
        candidates = [instant]
        while aligned <= last:
            candidates.append(aligned)
            aligned += _STEP
        return sorted({c.astimezone(zone).strftime("%Y-%m-%d %H:00") for c in candidates})
    first_day = time_range.start.astimezone(zone).date()
    last_day = last.astimezone(zone).date()
    day = first_day
    while day <= last_day:
        label = _label_of_date(day, unit)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    return labels
