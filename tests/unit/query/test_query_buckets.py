"""Time buckets are local wall-clock labels from the range start up to the bucket holding now."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from clickport.query.buckets import bucket_labels
from clickport.query.periods import TimeRange, day_start
from clickport.query.zones import get_zone

BERLIN = get_zone("Europe/Berlin")


def day_range(day: date, zone) -> TimeRange:
    return TimeRange(day_start(day, zone), day_start(day + timedelta(days=1), zone))


def test_the_23_hour_day_has_no_row_for_the_missing_hour():
    labels = bucket_labels("hour", day_range(date(2026, 3, 29), BERLIN), BERLIN)
    assert len(labels) == 23 and "2026-03-29 02:00" not in labels
    assert labels[:3] == ["2026-03-29 00:00", "2026-03-29 01:00", "2026-03-29 03:00"]


def test_the_25_hour_day_shows_the_repeated_hour_once():
    labels = bucket_labels("hour", day_range(date(2026, 10, 25), BERLIN), BERLIN)
    assert len(labels) == 24 and labels.count("2026-10-25 02:00") == 1
    assert labels[-1] == "2026-10-25 23:00"


def test_half_hour_zones_label_local_hours():
    kolkata = get_zone("Asia/Kolkata")
    labels = bucket_labels("hour", day_range(date(2026, 3, 1), kolkata), kolkata)
    assert labels[0] == "2026-03-01 00:00" and labels[-1] == "2026-03-01 23:00" and len(labels) == 24


def test_buckets_stop_at_the_bucket_holding_now():
    now = datetime(2026, 3, 30, 10, 30, tzinfo=timezone.utc)
    labels = bucket_labels("hour", day_range(date(2026, 3, 30), BERLIN), BERLIN, now)
    assert labels[-1] == "2026-03-30 12:00" and len(labels) == 13


def test_a_range_entirely_after_now_has_no_buckets():
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert bucket_labels("date", day_range(date(2026, 3, 30), BERLIN), BERLIN, now) == []


def test_week_is_labelled_by_its_monday_even_before_the_range():
    time_range = TimeRange(day_start(date(2026, 4, 1), BERLIN), day_start(date(2026, 4, 15), BERLIN))
    assert bucket_labels("week", time_range, BERLIN) == ["2026-03-30", "2026-04-06", "2026-04-13"]


def test_month_and_date_labels():
    time_range = TimeRange(day_start(date(2026, 1, 30), BERLIN), day_start(date(2026, 2, 2), BERLIN))
    assert bucket_labels("month", time_range, BERLIN) == ["2026-01", "2026-02"]
    assert bucket_labels("date", time_range, BERLIN) == ["2026-01-30", "2026-01-31", "2026-02-01"]
