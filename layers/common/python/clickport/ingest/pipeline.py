"""The ingestion pipeline of spec §5.2: named steps, each returning the draft or a drop with a reason."""

from __future__ import annotations

import logging
import os
import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Literal

from clickport.errors import StoreUnavailable
from clickport.ingest.drops import DropCounter
from clickport.ingest.identity import SaltKeeper, rate_limit_key, utc_day, visitor_id
from clickport.ingest.models import MAX_SAFE_INTEGER, EventRequest
from clickport.ingest.rows import event_row, new_session_attributes
from clickport.ingest.urls import ParsedUrl, split_url
from clickport.ports import ConfigStore, EventSink, LiveSession, LiveStore, Site
from clickport.schema import SESSION_ATTRIBUTES

logger = logging.getLogger("clickport.ingest")

RATE_LIMIT_PER_MINUTE = 60
SESSION_IDLE_MS = 30 * 60 * 1000
SESSION_ID_MAX_AGE_MS = 24 * 3600 * 1000
# Live items outlive their use: a session can be continued by id for 24 h after its last activity.
SESSION_TTL_S = 25 * 3600
# Threads that run session lookups while the rate-limit update is in flight (one per request in progress).
LOOKUP_WORKERS = 4

DropReason = Literal["bot", "rate_limited", "hostname", "unknown_session"]


@dataclass
class Arrival:
    """What the HTTP layer knows about one accepted request."""

    site: Site
    body: EventRequest
    received_at: datetime
    client_ip: str
    user_agent: str
    places: dict[str, str | None]  # country/region/city (trusted headers or the offline table)
    origin: Literal["event", "track"]


@dataclass
class Draft:
    arrival: Arrival
    attributes: dict[str, str | None] = field(default_factory=dict)
    url: ParsedUrl | None = None
    hostname: str = ""
    path: str = "/"
    visitor_id: int = 0
    salt_day: Any = None
    session: LiveSession | None = None
    session_id: int = 0
    page_visit_id: str = ""
    seq: int = 0
    row: dict[str, Any] | None = None
    lookup: Future[Lookup] | None = None

    @property
    def now_ms(self) -> int:
        return int(self.arrival.received_at.timestamp() * 1000)


@dataclass(frozen=True)
class Lookup:
    """What the session lookup found: the session to continue (None: none), or the id of a session its visitor's
    concurrent first event claimed and is creating right now."""

    session: LiveSession | None
    pending_session_id: int = 0


@dataclass(frozen=True)
class Drop:
    reason: DropReason


@dataclass(frozen=True)
class Accepted:
    session_id: int
    page_visit_id: str


Step = Callable[[Draft], "Draft | Drop"]


class _SeqClock:
    """Per-event sequence numbers: strictly increasing within the process and with time (breaks ts ties)."""

    def __init__(self) -> None:
        import threading

        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1000)
            return self._last


SEQUENCE = _SeqClock()


def new_session_id() -> int:
    return secrets.randbelow(MAX_SAFE_INTEGER) + 1


def new_page_visit_id() -> str:
    return secrets.token_hex(8)


def _continuable(session: LiveSession | None, now_ms: int) -> bool:
    """A session a given ``session_id`` continues: live, and last active under 24 hours ago (spec §5.4)."""
    return session is not None and now_ms - session.last_ms < SESSION_ID_MAX_AGE_MS


def _join(draft: Draft, session: LiveSession) -> None:
    """Continue ``session``: its id, first visitor id and attributes go on the event."""
    draft.session = session
    draft.session_id = session.session_id
    draft.visitor_id = session.visitor_id
    draft.attributes = {k: session.attributes.get(k) for k in SESSION_ATTRIBUTES}


class EventPipeline:
    """validate (before) → bot → rate limit → enrich → visitor id → session → sink → live store → answer."""

    def __init__(self, *, live: LiveStore, sink: EventSink, config: ConfigStore, drops: DropCounter | None = None,
                 salts: SaltKeeper | None = None):
        self.live = live
        self.sink = sink
        self.config = config
        self.drops = drops or DropCounter()
        self.salts = salts or SaltKeeper(live)
        self._lookup_pool: ThreadPoolExecutor | None = None
        self._lookup_pid = 0
        self.steps: list[tuple[str, Step]] = [
            ("bot", self.check_bot),
            ("rate_limit", self.apply_rate_limit),
            ("enrich", self.enrich),
            ("visitor", self.assign_visitor),
            ("session", self.resolve_session),
            ("store", self.store),
            ("live", self.update_live),
        ]

    def ingest(self, arrival: Arrival) -> Accepted | Drop:
        draft: Draft | Drop = Draft(arrival)
        for _, step in self.steps:
            draft = step(draft)  # type: ignore[arg-type]
            if isinstance(draft, Drop):
                self.drops.count(draft.reason)
                return draft
        assert isinstance(draft, Draft)
        return Accepted(session_id=draft.session_id, page_visit_id=draft.page_visit_id)

    # -- steps -------------------------------------------------------------------------------------------
    def check_bot(self, draft: Draft) -> Draft | Drop:
        from clickport.ingest.bots import is_bot

        return Drop("bot") if is_bot(draft.arrival.user_agent) else draft

    def apply_rate_limit(self, draft: Draft) -> Draft | Drop:
        from clickport.ingest.places import ip_rate_key

        arrival = draft.arrival
        salt = self.salts.salt_for(utc_day(arrival.received_at))
        minute = draft.now_ms // 60_000
        key = rate_limit_key(salt, arrival.site.site_id, ip_rate_key(arrival.client_ip), minute)
        # The session lookup only reads: where a store call is a network round trip, it runs while the counter
        # update is in flight (one round trip instead of two). A dropped event's lookup is waited for, and its
        # answer not used. A local store's calls take microseconds: a thread would cost more than it saves.
        if self.live.concurrent_lookups:
            self._identify(draft)  # the lookup needs the visitor id now, not at ``assign_visitor``
            draft.lookup = self._lookups().submit(self._look_up, draft)
        allowed = self.live.hit_rate_limit(key, RATE_LIMIT_PER_MINUTE, expires_at=(minute + 2) * 60)
        if allowed:
            return draft
        if draft.lookup is not None:
            draft.lookup.exception()  # NOTE: the answer waits for the read, so nothing runs on after it; unused
        return Drop("rate_limited")

    def enrich(self, draft: Draft) -> Draft | Drop:
        """The event's page. The session attributes (source, channel, campaign, places, technology) are worked out
        only for an event that starts a session (``_start_session``): a continued session keeps its own."""
        draft.url = split_url(draft.arrival.body.url)
        draft.hostname, draft.path = draft.url.hostname, draft.url.path
        return draft

    def _start_session(self, draft: Draft) -> None:
        arrival = draft.arrival
        draft.attributes = new_session_attributes(
            arrival.body, draft.url, site_domain=arrival.site.domain, user_agent=arrival.user_agent, places=arrival.places
        )

    def assign_visitor(self, draft: Draft) -> Draft | Drop:
        if draft.salt_day is None:
            self._identify(draft)
        return draft

    def _identify(self, draft: Draft) -> None:
        arrival = draft.arrival
        day = utc_day(arrival.received_at)
        draft.salt_day = day
        draft.visitor_id = visitor_id(self.salts.salt_for(day), arrival.site.site_id, arrival.client_ip,
                                      arrival.user_agent)

    def resolve_session(self, draft: Draft) -> Draft | Drop:
        arrival, body = draft.arrival, draft.arrival.body
        lookup = draft.lookup.result() if draft.lookup is not None else self._look_up(draft)
        session = lookup.session
        if body.session_id is not None and session is None and body.type == "engagement":
            return Drop("unknown_session")
        if lookup.pending_session_id:
            draft.session_id = lookup.pending_session_id
        if session is not None:
            _join(draft, session)
        elif not draft.session_id:
            draft.session_id = new_session_id()
            if arrival.origin == "event":
                draft.session_id = self._claim(draft)
        if draft.session is None:
            self._start_session(draft)
        if body.type == "engagement":
            draft.page_visit_id = body.page_visit_id or ""
        elif body.type == "pageview" or draft.session is None:
            draft.page_visit_id = new_page_visit_id()
        else:
            draft.page_visit_id = draft.session.page_visit_id
        draft.seq = SEQUENCE.next()
        return draft

    def _lookups(self) -> ThreadPoolExecutor:
        # NOTE: per process: a pool created before a fork has no threads in the child.
        if self._lookup_pool is None or self._lookup_pid != os.getpid():
            self._lookup_pool = ThreadPoolExecutor(max_workers=LOOKUP_WORKERS, thread_name_prefix="session-lookup")
            self._lookup_pid = os.getpid()
        return self._lookup_pool

    def _look_up(self, draft: Draft) -> Lookup:
        """The session the event continues, found by reads only (no session is claimed, created or updated:
        it may run before the rate limit has decided): by the given ``session_id``, else (``/api/event``) by
        the visitor."""
        arrival, body = draft.arrival, draft.arrival.body
        site_id, now_ms = arrival.site.site_id, draft.now_ms
        if body.session_id is not None:
            # A pageview (a new page visit) or an engagement update (the page visit it names) takes from the
            # session only what never changes, so an eventually consistent read will do; an answer that would
            # not continue the session is checked again with a consistent read before a new session starts.
            lenient = body.type in ("pageview", "engagement")
            found = self.live.get_session(site_id, body.session_id, now_ms, consistent=not lenient)
            if lenient and not _continuable(found, now_ms):
                found = self.live.get_session(site_id, body.session_id, now_ms)
            return Lookup(found if _continuable(found, now_ms) else None)
        if arrival.origin == "event":
            return self._visitor_session(draft)
        return Lookup(None)

    def _visitor_session(self, draft: Draft) -> Lookup:
        """The visitor's session active in the last 30 minutes, under today's or yesterday's visitor id."""
        arrival = draft.arrival
        site_id, now_ms = arrival.site.site_id, draft.now_ms
        yesterday = draft.salt_day - timedelta(days=1)
        candidates = [draft.visitor_id]
        if utc_day(arrival.received_at - timedelta(milliseconds=SESSION_IDLE_MS)) <= yesterday:
            candidates.append(visitor_id(self.salts.salt_for(yesterday), site_id, arrival.client_ip,
                                         arrival.user_agent))
        # A pageview takes from the session only what never changes (it starts a new page visit): eventually
        # consistent reads will do. Finding no active session through an older copy is safe: the claim that
        # follows is a conditional write, and it hands back the visitor's active session should there be one.
        consistent = arrival.body.type != "pageview"
        for candidate in candidates:
            # NOTE: the pointer keeps its claim time; the session item's last activity decides the 30 minutes,
            # so continuing a session never rewrites the pointer.
            session_id = self.live.visitor_session(site_id, candidate, now_ms, SESSION_TTL_S * 1000,
                                                   consistent=consistent)
            if session_id is None:
                continue
            session = self.live.get_session(site_id, session_id, now_ms, consistent=consistent)
            if session is not None and now_ms - session.last_ms <= SESSION_IDLE_MS:
                return Lookup(session)
            if session is None and candidate == draft.visitor_id:
                # Claimed by an event whose session is being created right now: join it.
                return Lookup(self._await_session(site_id, session_id, now_ms), pending_session_id=session_id)
        return Lookup(None)

    def _claim(self, draft: Draft) -> int:
        """Concurrent first events of one visitor agree on one session (conditional write; the loser joins)."""
        arrival = draft.arrival
        winner = self.live.claim_visitor_session(
            arrival.site.site_id, draft.visitor_id, draft.session_id, draft.now_ms, SESSION_IDLE_MS,
            expires_at=draft.now_ms // 1000 + SESSION_TTL_S,
        )
        if winner != draft.session_id:
            joined = self._await_session(arrival.site.site_id, winner, draft.now_ms)
            if joined is not None:
                _join(draft, joined)
        return winner

    def _await_session(self, site_id: str, session_id: int, now_ms: int) -> LiveSession | None:
        for delay in (0.0, 0.01, 0.02, 0.05, 0.1, 0.2):
            time.sleep(delay)
            session = self.live.get_session(site_id, session_id, now_ms)
            if session is not None:
                return session
        return None

    def store(self, draft: Draft) -> Draft | Drop:
        arrival = draft.arrival
        draft.row = event_row(
            arrival.body, ts=arrival.received_at, seq=draft.seq, hostname=draft.hostname, path=draft.path,
            session_id=draft.session_id, visitor_id=draft.visitor_id, page_visit_id=draft.page_visit_id,
            attributes=draft.attributes,
        )
        self.sink.write(arrival.site.site_id, [draft.row])  # raises StoreUnavailable → 503
        return draft

    def update_live(self, draft: Draft) -> Draft | Drop:
        """The event is stored by now: a live store that cannot take the update does not make the answer a failure
        (a client would send the stored event again). Realtime may miss this activity, and a new session's id may
        not continue; both are logged."""
        try:
            return self._update_live(draft)
        except StoreUnavailable:
            logger.warning("the live store could not take a stored event's session update: the event counts, "
                           "realtime may miss it")
            return draft

    def _update_live(self, draft: Draft) -> Draft | Drop:
        arrival, body = draft.arrival, draft.arrival.body
        site_id, now_ms = arrival.site.site_id, draft.now_ms
        expires_at = now_ms // 1000 + SESSION_TTL_S
        is_pageview = body.type == "pageview"
        if draft.session is None:
            self.live.create_session(LiveSession(
                site_id=site_id, session_id=draft.session_id, visitor_id=draft.visitor_id, started_ms=now_ms,
                last_ms=now_ms, entry_page=draft.path if is_pageview else "", current_page=draft.path,
                page_visit_id=draft.page_visit_id, pageviews=1 if is_pageview else 0, seq=1, scroll=body.scroll,
                attributes=dict(draft.attributes), expires_at=expires_at,
            ))
        else:
            self.live.record_event(
                site_id, draft.session_id, ts_ms=now_ms, page=draft.path if is_pageview else None,
                page_visit_id=draft.page_visit_id if is_pageview else None, pageview=is_pageview,
                scroll=body.scroll, expires_at=expires_at, started_ms=draft.session.started_ms,
            )
        day = utc_day(arrival.received_at)
        if arrival.site.first_event_date is None or day < arrival.site.first_event_date:
            self.config.note_event_date(site_id, day)
        return draft
