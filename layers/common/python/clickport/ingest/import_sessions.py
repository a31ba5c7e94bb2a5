"""Sessions of ``clickport import`` (spec §5.4, §9), resolved line by line in timestamp order.

Only sessions active within the last 30 minutes stay in memory: an older one can no longer be continued by
its visitor. A session whose id came from the file can still be continued by that id, so when it goes idle
it moves to a private temporary SQLite database (anonymous, deleted when closed) and comes back on use.
Derived sessions have random ids no line can name, so they are simply forgotten.
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from typing import Callable

from clickport.ingest.pipeline import SESSION_IDLE_MS, new_session_id


class ImportSession:
    __slots__ = ("session_id", "visitor_id", "attributes", "last_ms", "page_visit_id", "given", "visitor_keys")

    def __init__(self, session_id: int, visitor_id: int, attributes: tuple, last_ms: int, page_visit_id: str,
                 given: bool) -> None:
        self.session_id = session_id
        self.visitor_id = visitor_id
        self.attributes = attributes  # the values of schema.SESSION_ATTRIBUTES, fixed by the first line
        self.last_ms = last_ms
        self.page_visit_id = page_visit_id
        self.given = given
        self.visitor_keys: tuple[int, ...] = ()  # visitor ids whose latest session this is


class ImportSessions:
    """Finds or starts the session of each line; lines must come in timestamp order."""

    def __init__(self, new_id: Callable[[], int] = new_session_id) -> None:
        self._new_id = new_id
        self._active: OrderedDict[int, ImportSession] = OrderedDict()  # least recently active first
        self._latest: dict[int, int] = {}  # visitor id -> session id
        self._idle: sqlite3.Connection | None = None
        self.started = 0

    def find(self, ts_ms: int, session_id: int | None, visitors: tuple[int, ...]) -> ImportSession | None:
        """The session a line continues: by its given ``session_id``, else the latest of ``visitors``
        (today's id first) if active within 30 minutes."""
        self._forget_idle(ts_ms)
        if session_id is not None:
            session = self._active.get(session_id)
            if session is None:
                session = self._restore(session_id)
            if session is not None:
                self._active.move_to_end(session_id)
            return session
        for visitor in visitors:
            session = self._active.get(self._latest.get(visitor, 0))
            if session is not None and ts_ms - session.last_ms <= SESSION_IDLE_MS:
                self._active.move_to_end(session.session_id)
                return session
        return None

    def start(self, ts_ms: int, session_id: int | None, visitor_id: int | None,
              attributes: tuple) -> ImportSession:
        """A new session: the given id, or a random one; a session without a visitor uses its own id."""
        given = session_id is not None
        sid = session_id if given else self._new_id()
        session = ImportSession(sid, visitor_id or sid, attributes, ts_ms, "", given)
        self._active[sid] = session
        self.started += 1
        return session

    def touch(self, session: ImportSession, ts_ms: int, visitor: int | None) -> None:
        """Record a line's activity; a line without a given session id makes it its visitor's latest."""
        session.last_ms = max(session.last_ms, ts_ms)
        if visitor is not None:
            self._latest[visitor] = session.session_id
            if visitor not in session.visitor_keys:
                session.visitor_keys += (visitor,)

    @property
    def active(self) -> int:
        return len(self._active)

    def _forget_idle(self, ts_ms: int) -> None:
        cutoff = ts_ms - SESSION_IDLE_MS
        parked = []
        while self._active:
            session = next(iter(self._active.values()))
            if session.last_ms >= cutoff:
                break
            del self._active[session.session_id]
            for visitor in session.visitor_keys:
                if self._latest.get(visitor) == session.session_id:
                    del self._latest[visitor]
            if session.given:
                parked.append(session)
        if parked:
            self._park(parked)

    def _database(self) -> sqlite3.Connection:
        if self._idle is None:
            # NOTE: "" is SQLite's private temporary database: an unnamed file, deleted when closed.
            self._idle = sqlite3.connect("")
            self._idle.execute("PRAGMA cache_size = -4096")
            self._idle.execute("PRAGMA journal_mode = OFF")
            self._idle.execute("PRAGMA synchronous = OFF")
            self._idle.execute("CREATE TABLE idle (session_id INTEGER PRIMARY KEY, visitor_id INTEGER, "
                               "last_ms INTEGER, page_visit_id TEXT, attributes TEXT)")
        return self._idle

    def _park(self, sessions: list[ImportSession]) -> None:
        self._database().executemany(
            "INSERT OR REPLACE INTO idle VALUES (?, ?, ?, ?, ?)",
            [(s.session_id, s.visitor_id, s.last_ms, s.page_visit_id, json.dumps(s.attributes)) for s in sessions],
        )

    def _restore(self, session_id: int) -> ImportSession | None:
        if self._idle is None:
            return None
        row = self._idle.execute("SELECT visitor_id, last_ms, page_visit_id, attributes FROM idle "
                                 "WHERE session_id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        session = ImportSession(session_id, row[0], tuple(json.loads(row[3])), row[1], row[2], True)
        self._active[session_id] = session
        return session

    def close(self) -> None:
        if self._idle is not None:
            self._idle.close()
            self._idle = None
