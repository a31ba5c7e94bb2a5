"""API keys: generation, hashing, authentication with a short cache, permission checks."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import datetime, timezone
from typing import Callable, Iterable

from clickport.domain.ttl_cache import TtlCache
from clickport.errors import Forbidden, Unauthorized
from clickport.ports import ApiKeyRecord, ConfigStore

KEY_PREFIX = "ck_"
KEY_RANDOM_BYTES = 32
DISPLAY_PREFIX_LENGTH = len(KEY_PREFIX) + 8
PERMISSIONS = ("read", "tracker")
_KEY_SHAPE = re.compile(r"^ck_[A-Za-z0-9_-]{43,128}$")


def generate_key() -> str:
    """``ck_`` + 32 random bytes, URL-safe base64 (43 characters)."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def hash_key(key: str) -> str:
    """The only form of a key that is ever stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]


def issue_key(
    store: ConfigStore, site_id: str, permissions: Iterable[str], now: datetime | None = None
) -> tuple[str, ApiKeyRecord]:
    """Create and store a key; returns the plaintext key (shown once) and its record."""
    granted = frozenset(permissions) or frozenset(PERMISSIONS)
    unknown = granted - set(PERMISSIONS)
    if unknown:
        raise ValueError(f"Unknown permission {sorted(unknown)[0]!r}. Valid permissions: {', '.join(PERMISSIONS)}")
    key = generate_key()
    record = ApiKeyRecord(
        key_hash=hash_key(key),
        prefix=display_prefix(key),
        site_id=site_id,
        permissions=granted,
        created_at=now or datetime.now(timezone.utc),
    )
    store.put_key(record)
    return key, record


class KeyAuthenticator:
    """Resolves a presented key to its record; caches lookups briefly so revocation holds within the TTL (at once
    where the store can tell it changed)."""

    def __init__(self, store: ConfigStore, ttl_seconds: float = 30, clock: Callable[[], float] = time.monotonic):
        self._store = store
        # A store that can tell it changed (the local one) is seen at once: a revoked key stops at once.
        self._cache: TtlCache[str, ApiKeyRecord | None] = TtlCache(
            ttl_seconds, clock, generation=getattr(store, "generation", None))

    def authenticate(self, presented: str | None) -> ApiKeyRecord:
        """The key's record, or ``Unauthorized`` — the same answer for missing, unknown and revoked keys."""
        if not presented or not _KEY_SHAPE.match(presented):
            raise Unauthorized()
        digest = hash_key(presented)
        record = self._lookup(digest)
        # NOTE: the store finds the record by hash; the comparison itself is constant-time.
        if record is None or not hmac.compare_digest(record.key_hash, digest) or record.revoked_at is not None:
            raise Unauthorized()
        return record

    def _lookup(self, digest: str) -> ApiKeyRecord | None:
        return self._cache.get(digest, self._store.get_key)


def require_permission(record: ApiKeyRecord, permission: str) -> None:
    if permission not in record.permissions:
        raise Forbidden(f"This API key lacks the '{permission}' permission")
