"""Realtime: sessions active in the last five minutes, from the live store (spec §6)."""

from __future__ import annotations

from pydantic import BaseModel

from clickport.ports import LiveSession, LiveStore

ACTIVE_WINDOW_MS = 300_000
MAX_VISITORS = 20
NONE_SHOWN = "(none)"  # pages of a session that has no pageview yet


class RealtimeVisitor(BaseModel):
    session_id: int
    entry_page: str
    exit_page: str
    pageviews: int
    duration: int
    source: str
    country: str
    city: str
    device: str
    browser: str
    os: str
    scroll: int


class RealtimeResponse(BaseModel):
    count: int
    visitors: list[RealtimeVisitor]


def shown(attribute: str, value: str | None) -> str:
    """Missing values as /api/query shows them (``Direct`` for source, ``(none)`` elsewhere)."""
    from clickport.query.dimensions import DIMENSIONS

    if value not in (None, ""):
        return value  # type: ignore[return-value]
    return DIMENSIONS[attribute].none_label


def visitor_view(session: LiveSession) -> dict:
    attrs = session.attributes
    return {
        "session_id": session.session_id,
        "entry_page": session.entry_page or NONE_SHOWN,
        "exit_page": session.current_page or NONE_SHOWN,
        "pageviews": session.pageviews,
        "duration": max(0, session.last_ms - session.started_ms) // 1000,
        "source": shown("source", attrs.get("source")),
        "country": shown("country", attrs.get("country")),
        "city": shown("city", attrs.get("city")),
        "device": shown("device", attrs.get("device")),
        "browser": shown("browser", attrs.get("browser")),
        "os": shown("os", attrs.get("os")),
        "scroll": session.scroll or 0,
    }


def realtime_snapshot(live: LiveStore, site_id: str, now_ms: int) -> dict:
    """``count`` = sessions whose last activity is within 300 s (boundary included); the 20 newest."""
    count, recent = live.active_sessions(site_id, now_ms - ACTIVE_WINDOW_MS, now_ms, MAX_VISITORS)
    return {"count": count, "visitors": [visitor_view(s) for s in recent]}
