"""Local config store: sites, API key hashes and goals in one SQLite file (survives restarts)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from clickport.adapters.config_common import key_order, new_site_id, normalize_domain
from clickport.adapters.sqlite_base import SqliteDatabase
from clickport.errors import Conflict
from clickport.ports import ApiKeyRecord, Goal, Site

SCHEMA = """
CREATE TABLE IF NOT EXISTS sites (
    site_id TEXT PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    allow_hosts TEXT NOT NULL DEFAULT '[]',
    first_event_date TEXT,
    goal_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash TEXT PRIMARY KEY,
    prefix TEXT NOT NULL,
    site_id TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_by_site ON api_keys (site_id);
CREATE TABLE IF NOT EXISTS goals (
    site_id TEXT NOT NULL REFERENCES sites (site_id),
    id INTEGER NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (site_id, id),
    UNIQUE (site_id, name)
);
PRAGMA user_version = 1
"""

_SITE_COLUMNS = "site_id, domain, created_at, allow_hosts, first_event_date"
_KEY_COLUMNS = "key_hash, prefix, site_id, permissions, created_at, revoked_at"


class SqliteConfigStore:
    """``ConfigStore`` on a local SQLite file (``clickport.layout.config_db``)."""

    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, SCHEMA, synchronous="FULL")

    def close(self) -> None:
        self._db.close()

    def generation(self) -> int:
        """A token that changes when another process commits to the store (``clickport sites update`` while the
        server runs): the functions' caches of sites and keys drop their entries on a change."""
        return self._db.data_version()

    # Sites

    def create_site(self, domain: str) -> Site:
        site = Site(site_id=new_site_id(), domain=normalize_domain(domain), created_at=datetime.now(timezone.utc))
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO sites (site_id, domain, created_at) VALUES (?, ?, ?)",
                    (site.site_id, site.domain, site.created_at.isoformat()),
                )
        except sqlite3.IntegrityError as exc:
            if "sites.domain" in str(exc):
                raise Conflict(f"Domain {site.domain!r} already belongs to a site") from exc
            return self.create_site(domain)  # NOTE: a site id collision; draw another id.
        return site

    def get_site(self, site_id: str) -> Site | None:
        return self._one_site("site_id = ?", site_id)

    def get_site_by_domain(self, domain: str) -> Site | None:
        return self._one_site("domain = ?", normalize_domain(domain))

    def list_sites(self) -> list[Site]:
        with self._db.read() as conn:
            rows = conn.execute(f"SELECT {_SITE_COLUMNS} FROM sites ORDER BY created_at, site_id").fetchall()
        return [_site(row) for row in rows]

    def update_site(self, site_id: str, *, allow_hosts: Sequence[str]) -> Site:
        with self._db.write() as conn:
            row = conn.execute(
                f"UPDATE sites SET allow_hosts = ? WHERE site_id = ? RETURNING {_SITE_COLUMNS}",
                (json.dumps(list(allow_hosts)), site_id),
            ).fetchone()
        if row is None:
            raise KeyError(f"unknown site {site_id}")
        return _site(row)

    def note_event_date(self, site_id: str, day: date) -> None:
        with self._db.write() as conn:
            conn.execute(
                "UPDATE sites SET first_event_date = ? "
                "WHERE site_id = ? AND (first_event_date IS NULL OR first_event_date > ?)",
                (day.isoformat(), site_id, day.isoformat()),
            )
            if not conn.execute("SELECT 1 FROM sites WHERE site_id = ?", (site_id,)).fetchone():
                raise KeyError(f"unknown site {site_id}")

    def _one_site(self, condition: str, value: str) -> Site | None:
        with self._db.read() as conn:
            row = conn.execute(f"SELECT {_SITE_COLUMNS} FROM sites WHERE {condition}", (value,)).fetchone()
        return _site(row) if row else None

    # API keys (hashes only)

    def put_key(self, record: ApiKeyRecord) -> None:
        with self._db.write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.key_hash,
                    record.prefix,
                    record.site_id,
                    json.dumps(sorted(record.permissions)),
                    record.created_at.isoformat(),
                    record.revoked_at.isoformat() if record.revoked_at else None,
                ),
            )

    def get_key(self, key_hash: str) -> ApiKeyRecord | None:
        with self._db.read() as conn:
            row = conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,)).fetchone()
        return _key(row) if row else None

    def list_keys(self, site_id: str | None = None) -> list[ApiKeyRecord]:
        with self._db.read() as conn:
            if site_id is None:
                rows = conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys").fetchall()
            else:
                rows = conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE site_id = ?", (site_id,)).fetchall()
        return sorted((_key(row) for row in rows), key=key_order)

    def revoke_key(self, key_hash: str, when: datetime) -> None:
        """Raises ``KeyError`` for an unknown key."""
        with self._db.write() as conn:
            updated = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_hash = ?", (when.isoformat(), key_hash)
            ).rowcount
        if not updated:
            raise KeyError("unknown API key")

    # Goals

    def create_goal(self, site_id: str, name: str, type: str, definition: dict[str, Any]) -> Goal:
        """Raises ``KeyError`` for an unknown site; a refused goal does not use up an id."""
        try:
            with self._db.write() as conn:
                row = conn.execute(
                    "UPDATE sites SET goal_seq = goal_seq + 1 WHERE site_id = ? RETURNING goal_seq", (site_id,)
                ).fetchone()
                if row is None:
                    raise KeyError(f"unknown site {site_id}")
                goal = Goal(site_id=site_id, id=row["goal_seq"], name=name, type=type, definition=dict(definition))
                conn.execute(
                    "INSERT INTO goals (site_id, id, name, type, definition) VALUES (?, ?, ?, ?, ?)",
                    (site_id, goal.id, name, type, json.dumps(goal.definition, sort_keys=True)),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"A goal named {name!r} already exists in this site") from exc
        return goal

    def list_goals(self, site_id: str) -> list[Goal]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT site_id, id, name, type, definition FROM goals WHERE site_id = ? ORDER BY id", (site_id,)
            ).fetchall()
        return [_goal(row) for row in rows]

    def delete_goal(self, site_id: str, goal_id: int) -> bool:
        with self._db.write() as conn:
            deleted = conn.execute("DELETE FROM goals WHERE site_id = ? AND id = ?", (site_id, goal_id)).rowcount
        return deleted > 0


def _site(row: sqlite3.Row) -> Site:
    return Site(
        site_id=row["site_id"],
        domain=row["domain"],
        created_at=datetime.fromisoformat(row["created_at"]),
        allow_hosts=tuple(json.loads(row["allow_hosts"])),
        first_event_date=date.fromisoformat(row["first_event_date"]) if row["first_event_date"] else None,
    )


def _goal(row: sqlite3.Row) -> Goal:
    return Goal(
        site_id=row["site_id"], id=row["id"], name=row["name"], type=row["type"], definition=json.loads(row["definition"])
    )


def _key(row: sqlite3.Row) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_hash=row["key_hash"],
        prefix=row["prefix"],
        site_id=row["site_id"],
        permissions=frozenset(json.loads(row["permissions"])),
        created_at=datetime.fromisoformat(row["created_at"]),
        revoked_at=datetime.fromisoformat(row["revoked_at"]) if row["revoked_at"] else None,
    )
