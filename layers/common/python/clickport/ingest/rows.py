"""Building the stored event row (schema.EVENT_COLUMNS) and a session's attributes from a request."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from clickport.ingest.models import EventRequest
from clickport.schema import SESSION_ATTRIBUTES


def session_attributes(
    body: EventRequest, *, site_domain: str, user_agent: str, places: Mapping[str, str | None]
) -> tuple[str, str, dict[str, str | None]]:
    """(hostname, path, attributes) of an event; a new session takes these attributes."""
    from clickport.ingest.urls import split_url

    url = split_url(body.url)
    return url.hostname, url.path, new_session_attributes(
        body, url, site_domain=site_domain, user_agent=user_agent, places=places)


def new_session_attributes(
    body: EventRequest, url: Any = None, *, site_domain: str, user_agent: str, places: Mapping[str, str | None]
) -> dict[str, str | None]:
    """The attributes a session starting with this event takes (source, channel, campaign, places, technology).
    ``url``: the event's parsed URL, when the caller has it."""
    from clickport.ingest.sources import attribute_source
    from clickport.ingest.technology import classify_technology
    from clickport.ingest.urls import split_url

    url = url if url is not None else split_url(body.url)
    utm = {name: getattr(body, name) for name in ("utm_source", "utm_medium", "utm_campaign", "utm_content",
                                                  "utm_term")}
    source = attribute_source(url=url, referrer=body.referrer, site_domain=site_domain, utm=utm)
    tech = classify_technology(user_agent, body.screen_width)
    attributes: dict[str, str | None] = {
        "referrer_url": source.referrer_url,
        "source": source.source,
        "channel": source.channel,
        "utm_source": source.utm_source,
        "utm_medium": source.utm_medium,
        "utm_campaign": source.utm_campaign,
        "utm_content": source.utm_content,
        "utm_term": source.utm_term,
        "country": places.get("country"),
        "region": places.get("region"),
        "city": places.get("city"),
        "device": tech.device,
        "screen": tech.screen,
        "browser": tech.browser,
        "browser_version": tech.browser_version,
        "os": tech.os,
        "os_version": tech.os_version,
    }
    return attributes


def event_row(
    body: EventRequest,
    *,
    ts: datetime,
    seq: int,
    hostname: str,
    path: str,
    session_id: int,
    visitor_id: int,
    page_visit_id: str,
    attributes: Mapping[str, str | None],
) -> dict[str, Any]:
    meta_keys, meta_values = body.meta()
    name = body.name if body.type in ("custom", "click", "form") else None
    return {
        "ts": ts.replace(microsecond=ts.microsecond // 1000 * 1000),
        "seq": seq,
        "type": body.type,
        "name": name,
        "hostname": hostname,
        "path": path,
        "session_id": session_id,
        "visitor_id": visitor_id,
        "page_visit_id": page_visit_id,
        **{key: attributes.get(key) for key in SESSION_ATTRIBUTES},
        "scroll": body.scroll,
        "engaged_ms": body.engaged_ms,
        "revenue_micros": body.revenue_micros(),
        "revenue_currency": body.revenue_currency,
        "meta_keys": meta_keys,
        "meta_values": meta_values,
    }
