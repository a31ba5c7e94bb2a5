"""Periods resolve to exact UTC instants in the request's zone, with the comparison ranges of spec §3.5."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from clickport.query.periods import day_start, iso_instant, resolve_dates, resolve_period
from clickport.query.zones import get_zone

UTC = timezone.utc
BERLIN = get_zone("Europe/Berlin")
NEW_YORK = get_zone("America/New_York")


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    "day, zone, expected",
    [
        (date(2026, 3, 29), BERLIN, at(2026, 3, 28, 23)),  # the 23-hour day starts at +01:00
        (date(2026, 3, 30), BERLIN, at(2026, 3, 29, 22)),  # the next one at +02:00
        (date(2026, 10, 25), BERLIN, at(2026, 10, 24, 22)),
        (date(2026, 10, 26), BERLIN, at(2026, 10, 25, 23)),
        (date(2026, 3, 8), NEW_YORK, at(2026, 3, 8, 5)),
        (date(2026, 11, 2), NEW_YORK, at(2026, 11, 2, 5)),
        # Local midnight does not exist on these days: the day starts at the transition (01:00 local).
        (date(2026, 9, 6), get_zone("America/Santiago"), at(2026, 9, 6, 4)),
        (date(2026, 1, 1), get_zone("Asia/Kolkata"), at(2025, 12, 31, 18, 30)),
    ],
)
def test_day_start_is_the_first_instant_of_the_local_date(day, zone, expected):
    assert day_start(day, zone) == expected
    assert expected.astimezone(zone).date() == day
    assert (expected - timedelta(seconds=1)).astimezone(zone).date() < day


def test_date_range_of_dst_days_compares_with_the_same_number_of_days_before():
    resolved = resolve_dates(date(2026, 3, 29), date(2026, 3, 31), BERLIN)
    assert (resolved.current.start, resolved.current.end) == (at(2026, 3, 28, 23), at(2026, 3, 30, 22))
    assert (resolved.previous.start, resolved.previous.end) == (at(2026, 3, 26, 23), at(2026, 3, 28, 23))


NOW = at(2026, 3, 30, 10, 30)  # 12:30 in Berlin


@pytest.mark.parametrize(
    "period, current, previous",
    [
        ("realtime", (at(2026, 3, 30, 10), NOW), (at(2026, 3, 30, 9, 30), at(2026, 3, 30, 10))),
        ("24h", (at(2026, 3, 29, 10, 30), NOW), (at(2026, 3, 28, 10, 30), at(2026, 3, 29, 10, 30))),
        # today: 12.5 hours elapsed; yesterday (23 hours long) up to the same elapsed time.
        ("today", (at(2026, 3, 29, 22), NOW), (at(2026, 3, 28, 23), at(2026, 3, 29, 11, 30))),
        # yesterday was 23 hours long: the day before, truncated to 23 hours.
        ("yesterday", (at(2026, 3, 28, 23), at(2026, 3, 29, 22)), (at(2026, 3, 27, 23), at(2026, 3, 28, 22))),
        ("7d", (at(2026, 3, 23, 23), NOW), (at(2026, 3, 16, 23), at(2026, 3, 23, 10, 30))),  # same elapsed duration
        ("month", (at(2026, 2, 28, 23), NOW), (at(2026, 1, 31, 23), at(2026, 2, 28, 23))),
        # February (28 days) against January truncated to 28 days.
        ("last_month", (at(2026, 1, 31, 23), at(2026, 2, 28, 23)), (at(2025, 12, 31, 23), at(2026, 1, 28, 23))),
        ("year", (at(2025, 12, 31, 23), NOW), (at(2024, 12, 31, 23), at(2025, 3, 30, 10, 30))),
        ("12m", (at(2025, 3, 31, 22), NOW), (at(2024, 3, 31, 22), at(2025, 3, 30, 10, 30))),
        ("all", (at(2026, 1, 4, 23), NOW), None),
    ],
)
def test_period_ranges_in_berlin(period, current, previous):
    resolved = resolve_period(period, NOW, BERLIN, date(2026, 1, 5))
    assert (resolved.current.start, resolved.current.end) == current
    if previous is None:
        assert resolved.previous is None
    else:
        assert (resolved.previous.start, resolved.previous.end) == previous


def test_all_starts_on_the_local_day_holding_the_first_events_utc_midnight():
    # 2026-01-05 00:00 UTC is still 2026-01-04 in New York: the range starts there.
    resolved = resolve_period("all", NOW, NEW_YORK, date(2026, 1, 5))
    assert resolved.current.start == at(2026, 1, 4, 5)


def test_all_without_events_is_today():
    resolved = resolve_period("all", NOW, UTC, None)
    assert resolved.current.start == at(2026, 3, 30)


def test_iso_instants_carry_the_zone_offset():
    assert iso_instant(at(2026, 3, 23, 23), BERLIN) == "2026-03-24T00:00:00+01:00"
    assert iso_instant(at(2026, 4, 4, 22), BERLIN) == "2026-04-05T00:00:00+02:00"
    assert iso_instant(at(2026, 4, 4, 22), UTC) == "2026-04-04T22:00:00+00:00"
    assert iso_instant(at(2026, 4, 4, 22, 0, 0, 123000), UTC) == "2026-04-04T22:00:00.123+00:00"
