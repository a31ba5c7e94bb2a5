"""Daily salts, visitor ids and hashed rate-limit keys (spec §5.4): the IP is hashed, never kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from clickport.ports import LiveStore

SALT_BYTES = 32
VISITOR_ID_MASK = (1 << 63) - 1


def utc_day(moment: datetime) -> date:
    return moment.astimezone(timezone.utc).date()


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone.utc)


def visitor_id(salt: bytes, site_id: str, ip: str, user_agent: str) -> int:
    """HMAC-SHA256(salt, site ‖ IP ‖ User-Agent) truncated to a positive 63-bit integer."""
    message = "\x00".join((site_id, ip, user_agent)).encode("utf-8")
    digest = hmac.new(salt, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") & VISITOR_ID_MASK or 1


def rate_limit_key(salt: bytes, site_id: str, ip_network: str, minute: int) -> str:
    """Counter key for (site, hashed client IP or /64, UTC minute)."""
    hashed = hmac.new(salt, b"rate\x00" + ip_network.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    return f"{site_id}#{hashed}#{minute}"


class SaltKeeper:
    """Today's and yesterday's salts from the live store, cached in memory; deletes older ones explicitly."""

    def __init__(self, live: LiveStore, random_bytes: Callable[[int], bytes] = secrets.token_bytes):
        self._live = live
        self._random = random_bytes
        self._cache: dict[date, bytes] = {}
        self._lock = threading.Lock()

    def salt_for(self, day: date) -> bytes:
        with self._lock:
            cached = self._cache.get(day)
        if cached is not None:
            return cached
        # Salts are deleted explicitly two days after their day; TTL is only a backstop.
        expires_at = int((_day_end(day) + timedelta(days=2)).timestamp())
        salt = self._live.get_or_create_salt(day.isoformat(), self._random(SALT_BYTES), expires_at)
        self._live.delete_salts_before((day - timedelta(days=1)).isoformat())
        with self._lock:
            self._cache = {d: s for d, s in self._cache.items() if d >= day - timedelta(days=1)}
            self._cache[day] = salt
        return salt


class MemorySalts:
    """Per-day salts that live only in memory (``clickport import``)."""

    def __init__(self, random_bytes: Callable[[int], bytes] = secrets.token_bytes):
        self._random = random_bytes
        self._salts: dict[date, bytes] = {}

    def salt_for(self, day: date) -> bytes:
        if day not in self._salts:
            self._salts[day] = self._random(SALT_BYTES)
        return self._salts[day]
