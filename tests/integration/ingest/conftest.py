"""Fixtures for the Events API: a controllable clock and request helpers."""

from datetime import datetime, timezone

import pytest

from tests.conftest import BROWSER_UA


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)


@pytest.fixture
def clock(runtime):
    instance = Clock(datetime.now(timezone.utc).replace(microsecond=0))
    runtime.clock = instance
    return instance


@pytest.fixture
def send(gateway, keys):
    """POST /api/event with the site's key, a browser UA and a chosen client IP."""

    def _send(body, ip="198.51.100.7", agent=BROWSER_UA, key=None, headers=None):
        merged = {"x-api-key": key or keys["both"], "User-Agent": agent, **(headers or {})}
        return gateway("POST", "/api/event", body=body, headers=merged, ip=ip)

    return _send
