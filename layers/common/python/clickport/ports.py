"""Ports: the small interfaces the domain talks to. Adapters (AWS, local) implement them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence

if TYPE_CHECKING:
    from clickport.ingest.places import Places


@dataclass(frozen=True)
class Site:
    site_id: str
    domain: str
    created_at: datetime
    allow_hosts: tuple[str, ...] = ()
    first_event_date: date | None = None  # UTC date of the site's earliest stored event (period "all")


@dataclass(frozen=True)
class ApiKeyRecord:
    key_hash: str  # hex SHA-256 of the key; the key itself is never stored
    prefix: str  # display prefix: "ck_" + 8 characters
    site_id: str
    permissions: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Goal:
    site_id: str
    id: int
    name: str
    type: str  # pageview | custom | click | form
    # Type-specific definition, e.g. {"path": "/thanks*"}, {"event": "Purchase", "prop": ["plan", "pro"]},
    # {"domain": "partner.example.com"} / {"url": …} / {"text": …}, {"form_id": …} / {"form_name": …}
    definition: dict[str, Any] = field(default_factory=dict)


class ConfigStore(Protocol):
    """Sites, API key hashes and goals (DynamoDB config table / SQLite)."""

    def create_site(self, domain: str) -> Site:
        """Create a site with a new id; raises ``Conflict`` if the domain is taken."""

    def get_site(self, site_id: str) -> Site | None: ...

    def get_site_by_domain(self, domain: str) -> Site | None: ...

    def list_sites(self) -> list[Site]: ...

    def update_site(self, site_id: str, *, allow_hosts: Sequence[str]) -> Site:
        """Raises ``KeyError`` for an unknown site."""

    def note_event_date(self, site_id: str, day: date) -> None:
        """Lower the site's ``first_event_date`` to ``day`` if it is earlier (or unset)."""

    def put_key(self, record: ApiKeyRecord) -> None: ...

    def get_key(self, key_hash: str) -> ApiKeyRecord | None: ...

    def list_keys(self, site_id: str | None = None) -> list[ApiKeyRecord]: ...

    def revoke_key(self, key_hash: str, when: datetime) -> None: ...

    def create_goal(self, site_id: str, name: str, type: str, definition: dict[str, Any]) -> Goal:
        """Next integer id of the site (1, 2, …); raises ``Conflict`` if the name is taken in the site."""

    def list_goals(self, site_id: str) -> list[Goal]:
        """Ordered by id."""

    def delete_goal(self, site_id: str, goal_id: int) -> bool: ...


@dataclass
class LiveSession:
    """A session as the live store keeps it (what /api/realtime shows and what continues sessions)."""

    site_id: str
    session_id: int
    visitor_id: int
    started_ms: int
    last_ms: int
    entry_page: str
    current_page: str
    page_visit_id: str
    pageviews: int
    seq: int  # events stored so far; the next event gets seq + 1
    scroll: int | None
    attributes: dict[str, str | None]  # source, channel, referrer_url, utm_*, places, technology
    expires_at: int  # epoch seconds


class LiveStore(Protocol):
    """Sessions, rate-limit counters and daily salts, all with expiry (DynamoDB live table / SQLite)."""

    # True when a call is a network round trip worth overlapping with another (the pipeline's session lookup
    # runs on a thread while the rate-limit update is in flight); False for a local store.
    concurrent_lookups: bool

    def hit_rate_limit(self, key: str, limit: int, expires_at: int) -> bool:
        """One atomic conditional increment of counter ``key``; True when this hit is allowed (count ≤ limit)."""

    def rate_count(self, key: str) -> int:
        """Current value of a live rate counter (0 when absent or expired)."""

    def get_or_create_salt(self, day: str, candidate: bytes, expires_at: int) -> bytes:
        """The salt of UTC ``day``: stores ``candidate`` if none exists (race-free) and returns the winner."""

    def delete_salts_before(self, day: str) -> int:
        """Delete salts of days before ``day`` explicitly; returns how many went."""

    def create_session(self, session: LiveSession) -> None: ...

    def get_session(self, site_id: str, session_id: int, now_ms: int, *, consistent: bool = True) -> LiveSession | None:
        """None when absent or expired. ``consistent=False`` may answer from a copy up to about a second old
        (DynamoDB's eventually consistent read, half the price): a session created that recently may be
        missing, and its last activity, expiry, page and page visit may lag; what never changes in a session
        (site, id, visitor, start, entry page, attributes) is exact. A caller that would not continue the
        session it got (None, too old, expired) asks again with ``consistent=True``."""

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
        """Atomically apply one event to a session: seq + 1, last activity, pageview count and page,
        page visit, greatest scroll. Returns the updated session (its ``seq`` is the event's).
        ``started_ms``: the session's start as the caller read it (a store may align index keys to it;
        nothing it answers depends on it)."""

    def claim_visitor_session(
        self, site_id: str, visitor_id: int, session_id: int, now_ms: int, idle_ms: int, expires_at: int
    ) -> int:
        """Point visitor → session unless the visitor has a session active within ``idle_ms``;
        returns the winning session id (conditional write: concurrent first events agree)."""

    def visitor_session(
        self, site_id: str, visitor_id: int, now_ms: int, idle_ms: int, *, consistent: bool = True
    ) -> int | None:
        """The visitor's session if it was active within ``idle_ms``. ``consistent=False``: as for
        ``get_session``, the pointer may be up to about a second old (a claim that recent may be missing);
        a caller that finds no active session then claims one, and the conditional claim decides."""

    def active_sessions(self, site_id: str, since_ms: int, now_ms: int, limit: int) -> tuple[int, list[LiveSession]]:
        """(count of sessions with last activity ≥ since_ms, the ``limit`` most recent, newest first,
        ties by session id descending). Expired items never count."""


class EventSink(Protocol):
    """Where accepted events go (Firehose / local Parquet)."""

    def write(self, site_id: str, rows: Iterable[dict[str, Any]]) -> None:
        """Store rows (dicts keyed by ``schema.COLUMN_NAMES``); raises ``StoreUnavailable`` on failure."""


class GeoLocator(Protocol):
    """Places of a client address (CloudFront's viewer headers on AWS / an offline IP → country table locally)."""

    def locate(self, ip: str, reported: Places) -> Places:
        """Country, region and city of ``ip``. ``reported`` is what a trusted edge (CloudFront) said of that
        very address: empty when nothing trusted reported, or when ``ip`` is not the edge's viewer (a server
        forwarding its visitor's request)."""


@dataclass(frozen=True)
class ScanScope:
    """The partitions a statement reads: one site, UTC dates ``first_day`` to ``last_day`` inclusive.

    The statement's own WHERE names the same bounds; an engine may use the scope to list only
    these partitions (Athena prunes them itself)."""

    site_id: str
    first_day: date
    last_day: date


class QueryEngine(Protocol):
    """Runs a rendered SQL statement (Athena / DuckDB)."""

    dialect: str  # "athena" | "duckdb": the SQL dialect the query path renders for this engine
    # The events table as the SQL names it ("events", or "<database>.<table>" on Athena). Optional:
    # the query path reads it with getattr(engine, "table", "events").
    table: str

    def execute(self, sql: str, *, cacheable: bool = False, scope: ScanScope | None = None) -> list[tuple]:
        """Rows of the statement's result. ``cacheable``: the data read can no longer change, so
        the engine may reuse an earlier result of the same statement. ``scope``: the partitions
        it reads (None: any)."""
