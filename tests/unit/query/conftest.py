"""Shared values of the query unit tests."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

import tests.reference.profiles  # noqa: F401  (registers the Hypothesis profiles)
from clickport.ports import Goal, Site

NOW = datetime(2026, 3, 30, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def site() -> Site:
    return Site("site-a", "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc), first_event_date=date(2026, 1, 5))


@pytest.fixture
def goals() -> list[Goal]:
    return [
        Goal("site-a", 1, "Signup", "custom", {"event": "Signup"}),
        Goal("site-a", 2, "Thanks", "pageview", {"path": "/thank-you*"}),
    ]
