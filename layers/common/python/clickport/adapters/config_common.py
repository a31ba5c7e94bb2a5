"""What both config stores agree on: the shape of site ids and how domains compare."""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timezone

from clickport.ports import ApiKeyRecord, Site

SITE_ID_PREFIX = "s_"
SITE_ID_ALPHABET = string.ascii_lowercase + string.digits
SITE_ID_RANDOM_CHARS = 10  # 36**10 ≈ 3.7e15 ids: collisions are retried, and practically never happen


def new_site_id() -> str:
    """``s_`` + 10 random lowercase letters and digits, e.g. ``s_k3v9x0q2ma`` (URL-, path- and SQL-literal-safe)."""
    return SITE_ID_PREFIX + "".join(secrets.choice(SITE_ID_ALPHABET) for _ in range(SITE_ID_RANDOM_CHARS))


def normalize_domain(domain: str) -> str:
    """Domains compare case-insensitively and without surrounding blanks."""
    return domain.strip().lower()


def _instant(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def site_order(site: Site) -> tuple[float, str]:
    """Sites are listed oldest first."""
    return _instant(site.created_at), site.site_id


def key_order(record: ApiKeyRecord) -> tuple[float, str]:
    """Keys are listed oldest first."""
    return _instant(record.created_at), record.key_hash
