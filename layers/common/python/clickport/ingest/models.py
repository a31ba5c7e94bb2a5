"""The Events API request models: every limit of spec §5.1 lives here (and feeds the OpenAPI document)."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from typing import Annotated, Literal, Union
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, model_validator

MAX_SAFE_INTEGER = 2**53 - 1
EventType = Literal["pageview", "custom", "click", "form", "engagement"]
MetaValue = Union[StrictStr, StrictBool, StrictInt, StrictFloat]
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_PAGE_VISIT_ID = re.compile(r"^[0-9a-f]{16}$")
# Fields an engagement update may carry besides its type.
ENGAGEMENT_FIELDS = frozenset({"type", "url", "session_id", "page_visit_id", "scroll", "engaged_ms"})


def _zones() -> frozenset[str]:
    global _ZONES
    try:
        return _ZONES
    except NameError:
        _ZONES = frozenset(available_timezones())
        return _ZONES


def meta_text(value: MetaValue) -> str:
    """Property values are stored as text: booleans and numbers in their JSON spelling."""
    return value if isinstance(value, str) else json.dumps(value)


class EventRequest(BaseModel):
    """Body of ``POST /api/event``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    type: EventType = "pageview"
    url: StrictStr = Field(max_length=2000, description="absolute http(s) URL of the page")
    referrer: StrictStr | None = Field(default=None, max_length=2000)
    name: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    utm_source: StrictStr | None = Field(default=None, max_length=500)
    utm_medium: StrictStr | None = Field(default=None, max_length=500)
    utm_campaign: StrictStr | None = Field(default=None, max_length=500)
    utm_content: StrictStr | None = Field(default=None, max_length=500)
    utm_term: StrictStr | None = Field(default=None, max_length=500)
    screen_width: StrictInt | None = Field(default=None, ge=0, le=20000)
    timezone: StrictStr | None = Field(default=None, max_length=64, description="validated, then not used")
    revenue_amount: StrictFloat | StrictInt | None = Field(default=None, ge=0)
    revenue_currency: StrictStr | None = None
    meta_keys: list[Annotated[StrictStr, Field(min_length=1, max_length=100)]] | None = Field(default=None, max_length=30)
    meta_values: list[MetaValue] | None = Field(default=None, max_length=30)
    session_id: StrictInt | None = Field(default=None, ge=1, le=MAX_SAFE_INTEGER)
    page_visit_id: StrictStr | None = None
    scroll: StrictInt | None = Field(default=None, ge=0, le=100)
    engaged_ms: StrictInt | None = Field(default=None, ge=0, le=7 * 24 * 3600 * 1000)

    @model_validator(mode="after")
    def _rules(self):
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an absolute http(s) URL")
        if self.type == "custom" and not self.name:
            raise ValueError("name is required for custom events")
        if self.name is not None and self.type not in ("custom", "click", "form"):
            raise ValueError(f"name is not allowed on {self.type} events")
        if self.timezone is not None and self.timezone not in _zones():
            raise ValueError(f"timezone '{self.timezone}' is not an IANA time zone name")
        if self.revenue_amount is not None:
            if self.type != "custom":
                raise ValueError("revenue_amount is only allowed on custom events")
            if not math.isfinite(self.revenue_amount):
                raise ValueError("revenue_amount must be a finite number")
            if self.revenue_currency is None:
                self.revenue_currency = "USD"
        if self.revenue_currency is not None:
            if self.revenue_amount is None:
                raise ValueError("revenue_currency needs revenue_amount")
            if not _CURRENCY.match(self.revenue_currency):
                raise ValueError("revenue_currency must be an ISO 4217 code of 3 upper-case letters, e.g. USD")
        keys, values = self.meta_keys or [], self.meta_values or []
        if len(keys) != len(values):
            raise ValueError("meta_keys and meta_values must have the same length")
        if len(set(keys)) != len(keys):
            raise ValueError("meta_keys must be unique")
        if any(len(meta_text(v)) > 2000 for v in values):
            raise ValueError("each of meta_values must be at most 2000 characters")
        if self.page_visit_id is not None and not _PAGE_VISIT_ID.match(self.page_visit_id):
            raise ValueError("page_visit_id must be 16 lower-case hex characters")
        if self.scroll is not None and self.type not in ("pageview", "engagement"):
            raise ValueError("scroll is only allowed on pageview and engagement events")
        if self.engaged_ms is not None and self.type not in ("pageview", "engagement"):
            raise ValueError("engaged_ms is only allowed on pageview and engagement events")
        if self.type == "engagement":
            if self.session_id is None or self.page_visit_id is None:
                raise ValueError("engagement updates need session_id and page_visit_id")
            extra = sorted(set(self.model_fields_set) - ENGAGEMENT_FIELDS - set(self._extra_allowed()))
            if extra:
                raise ValueError(f"engagement updates take only scroll and engaged_ms; '{extra[0]}' is not allowed")
        return self

    @classmethod
    def _extra_allowed(cls) -> tuple[str, ...]:
        return ()

    def revenue_micros(self) -> int | None:
        """The amount in exact millionths, rounded half away from zero."""
        if self.revenue_amount is None:
            return None
        from decimal import ROUND_HALF_UP, Decimal

        return int((Decimal(repr(self.revenue_amount)) * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def meta(self) -> tuple[list[str], list[str]]:
        return list(self.meta_keys or []), [meta_text(v) for v in self.meta_values or []]


class TrackRequest(EventRequest):
    """Body of ``POST /api/track`` (the browser tracker): the event fields plus the site's domain."""

    domain: StrictStr = Field(min_length=1, max_length=253, description="the script's data-domain")

    @classmethod
    def _extra_allowed(cls) -> tuple[str, ...]:
        return ("domain",)


class ImportLine(EventRequest):
    """One NDJSON line of ``clickport import``: the event fields plus history."""

    timestamp: datetime
    user_agent: StrictStr = Field(min_length=1, max_length=1000)
    ip: StrictStr | None = Field(default=None, max_length=64)
    visitor_id: StrictInt | None = Field(default=None, ge=1, le=2**63 - 1)
    country: StrictStr | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    region: StrictStr | None = Field(default=None, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
    city: StrictStr | None = Field(default=None, min_length=1, max_length=200)

    @classmethod
    def _extra_allowed(cls) -> tuple[str, ...]:
        return ("timestamp", "user_agent")

    @model_validator(mode="after")
    def _history(self):
        if self.timestamp.tzinfo is None:
            raise ValueError("timestamp needs Z or a numeric offset")
        if self.timestamp.astimezone(timezone.utc) > datetime.now(timezone.utc):
            raise ValueError("timestamp is in the future")
        if self.type != "engagement" and self.ip is None and self.visitor_id is None and self.session_id is None:
            raise ValueError("a line needs at least one of ip, visitor_id, session_id")
        if self.ip is not None:
            import ipaddress

            try:
                ipaddress.ip_address(self.ip)
            except ValueError:
                raise ValueError("ip is not an IP address") from None
        return self


class EventAccepted(BaseModel):
    success: Literal[True] = True
    session_id: int
    page_visit_id: str


class EventDropped(BaseModel):
    success: Literal[False] = False
    reason: Literal["bot", "rate_limited", "hostname", "unknown_session"]
