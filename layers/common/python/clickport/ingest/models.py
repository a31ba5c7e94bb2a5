"""The Events API request models: every limit of spec §5.1 lives here (and feeds the OpenAPI document)."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from typing import Annotated, Literal, Union
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    model_validator,
)

from clickport.limits import (
    MAX_CITY_LENGTH,
    MAX_DOMAIN_LENGTH,
    MAX_ENGAGED_MS,
    MAX_EVENT_NAME_LENGTH,
    MAX_META_KEY_LENGTH,
    MAX_META_KEYS,
    MAX_META_VALUE_LENGTH,
    MAX_REVENUE_AMOUNT,
    MAX_SAFE_INTEGER,
    MAX_SCREEN_WIDTH,
    MAX_SCROLL,
    MAX_URL_LENGTH,
    MAX_USER_AGENT,
    MAX_UTM_LENGTH,
    MAX_ZONE_LENGTH,
    REVENUE_DECIMALS,
)
from clickport.query.zones import TIME_ZONE_SCHEMA, zone_names

EventType = Literal["pageview", "custom", "click", "form", "engagement"]
MetaValue = Union[
    Annotated[StrictStr, Field(json_schema_extra={"maxLength": MAX_META_VALUE_LENGTH})],  # checked in _rules
    StrictBool, StrictInt, StrictFloat,
]
# Checked in the model validator (for its messages) and stated in the OpenAPI document from the same text.
CURRENCY_PATTERN = r"^[A-Z]{3}$"
PAGE_VISIT_ID_PATTERN = r"^[0-9a-f]{16}$"
URL_PATTERN = r"^[hH][tT][tT][pP][sS]?://[^/?#]"
_CURRENCY = re.compile(CURRENCY_PATTERN)
_PAGE_VISIT_ID = re.compile(PAGE_VISIT_ID_PATTERN)
# Fields an engagement update may carry besides its type.
ENGAGEMENT_FIELDS = frozenset({"type", "url", "session_id", "page_visit_id", "scroll", "engaged_ms"})


def meta_text(value: MetaValue) -> str:
    """Property values are stored as text: booleans and numbers in their JSON spelling."""
    return value if isinstance(value, str) else json.dumps(value)


class EventRequest(BaseModel):
    """Body of ``POST /api/event``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    def __repr__(self) -> str:
        # NOTE: Powertools formats the route's arguments into a debug message on every request, logged or
        # not: pydantic's full repr cost ~40 µs per event, and a body's URLs do not belong in a log line anyway.
        return f"{type(self).__name__}(type={self.type!r})"

    type: EventType = "pageview"
    url: StrictStr = Field(max_length=MAX_URL_LENGTH, json_schema_extra={"pattern": URL_PATTERN},
                           description="absolute http(s) URL of the page")
    referrer: StrictStr | None = Field(default=None, max_length=MAX_URL_LENGTH)
    name: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_EVENT_NAME_LENGTH,
                                   description="required for custom events; only on custom, click and form")
    utm_source: StrictStr | None = Field(default=None, max_length=MAX_UTM_LENGTH)
    utm_medium: StrictStr | None = Field(default=None, max_length=MAX_UTM_LENGTH)
    utm_campaign: StrictStr | None = Field(default=None, max_length=MAX_UTM_LENGTH)
    utm_content: StrictStr | None = Field(default=None, max_length=MAX_UTM_LENGTH)
    utm_term: StrictStr | None = Field(default=None, max_length=MAX_UTM_LENGTH)
    screen_width: StrictInt | None = Field(default=None, ge=0, le=MAX_SCREEN_WIDTH)
    timezone: Annotated[StrictStr, Field(max_length=MAX_ZONE_LENGTH, json_schema_extra=TIME_ZONE_SCHEMA)] | None = Field(
        default=None, description="an IANA zone name; validated, then not used")
    revenue_amount: Annotated[
        StrictFloat | StrictInt, Field(ge=0, le=MAX_REVENUE_AMOUNT),
        WithJsonSchema({"type": "number", "minimum": 0, "maximum": MAX_REVENUE_AMOUNT}),  # one number, its bounds
    ] | None = Field(
        default=None,
        description=f"only on custom events; kept to {REVENUE_DECIMALS} decimals (rounded half away from zero)")
    revenue_currency: StrictStr | None = Field(default=None, json_schema_extra={"pattern": CURRENCY_PATTERN},
                                               description="ISO 4217; USD when an amount comes without one")
    meta_keys: list[Annotated[StrictStr, Field(min_length=1, max_length=MAX_META_KEY_LENGTH)]] | None = Field(
        default=None, max_length=MAX_META_KEYS)
    meta_values: list[MetaValue] | None = Field(
        default=None, max_length=MAX_META_KEYS,
        description=f"as many as meta_keys; each at most {MAX_META_VALUE_LENGTH} characters as text")
    session_id: StrictInt | None = Field(default=None, ge=1, le=MAX_SAFE_INTEGER)
    page_visit_id: StrictStr | None = Field(default=None, json_schema_extra={"pattern": PAGE_VISIT_ID_PATTERN})
    scroll: StrictInt | None = Field(default=None, ge=0, le=MAX_SCROLL)
    engaged_ms: StrictInt | None = Field(default=None, ge=0, le=MAX_ENGAGED_MS)

    @model_validator(mode="after")
    def _rules(self):
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an absolute http(s) URL")
        if self.type == "custom" and not self.name:
            raise ValueError("name is required for custom events")
        if self.name is not None and self.type not in ("custom", "click", "form"):
            raise ValueError(f"name is not allowed on {self.type} events")
        if self.timezone is not None and self.timezone not in zone_names():
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
        if any(len(meta_text(v)) > MAX_META_VALUE_LENGTH for v in values):
            raise ValueError(f"each of meta_values must be at most {MAX_META_VALUE_LENGTH} characters")
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
        """The amount in exact millionths (``REVENUE_DECIMALS``), rounded half away from zero; at most
        ``MAX_REVENUE_MICROS``, so any sum of them fits a DECIMAL(38, 0)."""
        if self.revenue_amount is None:
            return None
        from decimal import ROUND_HALF_UP, Decimal

        scaled = Decimal(repr(self.revenue_amount)).scaleb(REVENUE_DECIMALS)
        return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def meta(self) -> tuple[list[str], list[str]]:
        return list(self.meta_keys or []), [meta_text(v) for v in self.meta_values or []]


class TrackRequest(EventRequest):
    """Body of ``POST /api/track`` (the browser tracker): the event fields plus the site's domain."""

    domain: StrictStr = Field(min_length=1, max_length=MAX_DOMAIN_LENGTH, description="the script's data-domain")

    @classmethod
    def _extra_allowed(cls) -> tuple[str, ...]:
        return ("domain",)


class ImportLine(EventRequest):
    """One NDJSON line of ``clickport import``: the event fields plus history."""

    timestamp: datetime
    user_agent: StrictStr = Field(min_length=1, max_length=MAX_USER_AGENT)
    ip: StrictStr | None = Field(default=None, max_length=64)
    visitor_id: StrictInt | None = Field(default=None, ge=1, le=2**63 - 1)
    country: StrictStr | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    region: StrictStr | None = Field(default=None, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
    city: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_CITY_LENGTH)

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
