"""Local live store: sessions, visitor pointers, rate-limit counters and daily salts in one SQLite file.

Expiry follows the DynamoDB live table: every row has ``expires_at`` (epoch seconds); reads
ignore a row once ``expires_at <= now``; expired rows are also purged now and then on writes
(DynamoDB's TTL does the same, late). Sessions and visitor pointers use the caller's clock
(``now_ms``/``ts_ms``), counters and salts the wall clock.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from clickport.adapters.sqlite_base import SqliteDatabase
from clickport.ports import LiveSession

PURGE_INTERVAL_S = 60.0
# A commit that fills the write-ahead log past SQLite's default 1,000 pages copies it into the file and fsyncs,
# inside that commit: under a burst every few hundred events, and every other writer waits (measured: 20 commits in
# 20,000 over 1 ms, up to 52 ms, 13-20 % of the time). The local server checkpoints from its publisher instead
# (``checkpoint_log``, every 0.5 s, without blocking writers); this is the bound when nobody does (the CLI alone).
AUTOCHECKPOINT_PAGES = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS salts (
    day TEXT PRIMARY KEY,
    salt BLOB NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
    site_id TEXT NOT NULL,
    session_id INTEGER NOT NULL,
    visitor_id INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    entry_page TEXT NOT NULL,
    current_page TEXT NOT NULL,
    page_visit_id TEXT NOT NULL,
    pageviews INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    scroll INTEGER,
    attributes TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, session_id)
);
CREATE INDEX IF NOT EXISTS sessions_by_activity ON sessions (site_id, last_ms);
CREATE TABLE IF NOT EXISTS visitors (
    site_id TEXT NOT NULL,
    visitor_id INTEGER NOT NULL,
    session_id INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, visitor_id)
) WITHOUT ROWID;
PRAGMA user_version = 1
"""

_SESSION_COLUMNS = (
    "site_id, session_id, visitor_id, started_ms, last_ms, entry_page, current_page, "
    "page_visit_id, pageviews, seq, scroll, attributes, expires_at"
)

_HIT_RATE_LIMIT = """
INSERT INTO rate_counters (key, count, expires_at) VALUES (:key, 1, :expires_at)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN rate_counters.expires_at <= :now THEN 1 ELSE rate_counters.count + 1 END,
    expires_at = CASE WHEN rate_counters.expires_at <= :now THEN excluded.expires_at
                      ELSE rate_counters.expires_at END
WHERE rate_counters.expires_at <= :now OR rate_counters.count < :limit
RETURNING count
"""

_PUT_SALT_IF_ABSENT = """
INSERT INTO salts (day, salt, expires_at) VALUES (:day, :salt, :expires_at)
ON CONFLICT (day) DO UPDATE SET salt = excluded.salt, expires_at = excluded.expires_at
WHERE salts.expires_at <= :now
"""

_RECORD_EVENT = f"""
UPDATE sessions SET
    seq = seq + 1,
    last_ms = :ts_ms,
    pageviews = pageviews + :pageview,
    current_page = COALESCE(:page, current_page),
    page_visit_id = COALESCE(:page_visit_id, page_visit_id),
    scroll = CASE WHEN :scroll IS NOT NULL AND (scroll IS NULL OR scroll < :scroll) THEN :scroll ELSE scroll END,
    expires_at = :expires_at
WHERE site_id = :site_id AND session_id = :session_id AND expires_at * 1000 > :ts_ms
RETURNING {_SESSION_COLUMNS}
"""

_CLAIM_VISITOR = """
INSERT INTO visitors (site_id, visitor_id, session_id, last_ms, expires_at)
VALUES (:site_id, :visitor_id, :session_id, :now_ms, :expires_at)
ON CONFLICT (site_id, visitor_id) DO UPDATE SET
    session_id = excluded.session_id, last_ms = excluded.last_ms, expires_at = excluded.expires_at
WHERE visitors.last_ms < :now_ms - :idle_ms OR visitors.expires_at * 1000 <= :now_ms
"""


class SqliteLiveStore:
    """``LiveStore`` on a local SQLite file (``clickport.layout.live_db``)."""

    concurrent_lookups = False  # calls take tens of microseconds: a lookup thread would cost more CPU than it saves

    def __init__(self, path: Path) -> None:
        # NOTE: live data is disposable; NORMAL sync in WAL mode survives a process crash.
        self._db = SqliteDatabase(path, SCHEMA, synchronous="NORMAL", autocheckpoint_pages=AUTOCHECKPOINT_PAGES)
        self._next_purge: dict[str, float] = {}

    def close(self) -> None:
        self._db.close()

    def checkpoint_log(self) -> None:
        """Copy the write-ahead log into the file as far as readers allow, without waiting for anyone."""
        self._db.checkpoint("PASSIVE")

    # Rate-limit counters

    def hit_rate_limit(self, key: str, limit: int, expires_at: int) -> bool:
        if limit < 1:
            return False
        with self._db.write() as conn:
            self._maybe_purge(conn, now_ms=None)
            row = conn.execute(
                _HIT_RATE_LIMIT, {"key": key, "limit": limit, "expires_at": expires_at, "now": time.time()}
            ).fetchone()
        return row is not None

    def rate_count(self, key: str) -> int:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT count FROM rate_counters WHERE key = ? AND expires_at > ?", (key, time.time())
            ).fetchone()
        return row["count"] if row else 0

    # Daily salts

    def get_or_create_salt(self, day: str, candidate: bytes, expires_at: int) -> bytes:
        with self._db.write() as conn:
            params = {"day": day, "salt": candidate, "expires_at": expires_at, "now": time.time()}
            conn.execute(_PUT_SALT_IF_ABSENT, params)
            row = conn.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone()
        return bytes(row["salt"])

    def delete_salts_before(self, day: str) -> int:
        with self._db.write() as conn:
            deleted = conn.execute("DELETE FROM salts WHERE day < ?", (day,)).rowcount
        if deleted:
            # NOTE: the log still holds page images with the old salts until it is checkpointed.
            self._db.checkpoint()
        return deleted

    # Sessions

    def create_session(self, session: LiveSession) -> None:
        with self._db.write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO sessions ({_SESSION_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                (
                    session.site_id,
                    session.session_id,
                    session.visitor_id,
                    session.started_ms,
                    session.last_ms,
                    session.entry_page,
                    session.current_page,
                    session.page_visit_id,
                    session.pageviews,
                    session.seq,
                    session.scroll,
                    json.dumps(session.attributes, sort_keys=True),
                    session.expires_at,
                ),
            )

    def get_session(self, site_id: str, session_id: int, now_ms: int, *, consistent: bool = True
                    ) -> LiveSession | None:
        # NOTE: SQLite reads are always current: ``consistent`` changes nothing here.
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions "
                "WHERE site_id = ? AND session_id = ? AND expires_at * 1000 > ?",
                (site_id, session_id, now_ms),
            ).fetchone()
        return _session(row) if row else None

    def record_event(
        self,
        site_id: str,
        session_id: int,
        *,
        ts_ms: int,
        page: str | None,
        page_visit_id: str | None,
        pageview: bool,
        scroll: int | None,
        expires_at: int,
        started_ms: int | None = None,
    ) -> LiveSession:
        """Raises ``KeyError`` when the session is absent or expired at ``ts_ms``. ``started_ms`` only
        aligns DynamoDB's realtime index; SQLite needs no index key."""
        params = {
            "site_id": site_id,
            "session_id": session_id,
            "ts_ms": ts_ms,
            "page": page,
            "page_visit_id": page_visit_id,
            "pageview": 1 if pageview else 0,
            "scroll": scroll,
            "expires_at": expires_at,
        }
        with self._db.write() as conn:
            self._maybe_purge(conn, now_ms=ts_ms)
            row = conn.execute(_RECORD_EVENT, params).fetchone()
        if row is None:
            raise KeyError(f"no live session {session_id} in site {site_id}")
        return _session(row)

    # Visitor → session pointers

    def claim_visitor_session(
        self, site_id: str, visitor_id: int, session_id: int, now_ms: int, idle_ms: int, expires_at: int
    ) -> int:
        params = {
            "site_id": site_id,
            "visitor_id": visitor_id,
            "session_id": session_id,
            "now_ms": now_ms,
            "idle_ms": idle_ms,
            "expires_at": expires_at,
        }
        with self._db.write() as conn:
            self._maybe_purge(conn, now_ms=now_ms)
            conn.execute(_CLAIM_VISITOR, params)
            row = conn.execute(
                "SELECT session_id FROM visitors WHERE site_id = ? AND visitor_id = ?", (site_id, visitor_id)
            ).fetchone()
        return row["session_id"]

    def visitor_session(self, site_id: str, visitor_id: int, now_ms: int, idle_ms: int, *,
                        consistent: bool = True) -> int | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT session_id FROM visitors WHERE site_id = ? AND visitor_id = ? "
                "AND last_ms >= ? AND expires_at * 1000 > ?",
                (site_id, visitor_id, now_ms - idle_ms, now_ms),
            ).fetchone()
        return row["session_id"] if row else None

    # Realtime

    def active_sessions(self, site_id: str, since_ms: int, now_ms: int, limit: int) -> tuple[int, list[LiveSession]]:
        where = "WHERE site_id = ? AND last_ms >= ? AND expires_at * 1000 > ?"
        params = (site_id, since_ms, now_ms)
        with self._db.read() as conn:
            count = conn.execute(f"SELECT COUNT(*) FROM sessions {where}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions {where} ORDER BY last_ms DESC, session_id DESC LIMIT ?",
                (*params, max(limit, 0)),
            ).fetchall()
        return count, [_session(row) for row in rows]

    # Housekeeping

    def purge_expired(self, now_ms: int | None = None) -> int:
        """Delete every expired row now; sessions and visitor pointers against ``now_ms`` (default: wall clock)."""
        session_now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        with self._db.write() as conn:
            return _purge(conn, None) + _purge(conn, session_now_ms)

    def _maybe_purge(self, conn: sqlite3.Connection, now_ms: int | None) -> None:
        """At most once a minute per clock: counters and salts by the wall clock, sessions by the caller's."""
        clock = "wall" if now_ms is None else "caller"
        tick = time.monotonic()
        if tick >= self._next_purge.get(clock, 0.0):
            self._next_purge[clock] = tick + PURGE_INTERVAL_S
            _purge(conn, now_ms)


def _purge(conn: sqlite3.Connection, session_now_ms: int | None) -> int:
    deleted = 0
    if session_now_ms is None:
        wall_s = time.time()
        for table in ("rate_counters", "salts"):
            deleted += conn.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (wall_s,)).rowcount
    else:
        for table in ("sessions", "visitors"):
            deleted += conn.execute(f"DELETE FROM {table} WHERE expires_at * 1000 <= ?", (session_now_ms,)).rowcount
    return deleted


def _session(row: sqlite3.Row) -> LiveSession:
    return LiveSession(
        site_id=row["site_id"],
        session_id=row["session_id"],
        visitor_id=row["visitor_id"],
        started_ms=row["started_ms"],
        last_ms=row["last_ms"],
        entry_page=row["entry_page"],
        current_page=row["current_page"],
        page_visit_id=row["page_visit_id"],
        pageviews=row["pageviews"],
        seq=row["seq"],
        scroll=row["scroll"],
        attributes=json.loads(row["attributes"]),
        expires_at=row["expires_at"],
    )
