"""Where a session came from: referrer_url, source, channel and the utm_* campaign fields.

Stored values (see the API contract, dimensions "Sources" and "Campaigns"):

- ``utm_*``: from the event body, else from the URL's query string; trimmed, case kept; empty → None.
- ``referrer_url``: only for an external referrer: ``scheme://host/path`` with the host lowercase
  (``www.`` kept, port and credentials dropped) and the path as sent (an empty path is ``/``),
  no query, no fragment.
- ``source``: the known name of an external referrer (``google``), else its host without
  ``www.``; with no external referrer, ``utm_source`` as sent; else **None** — stored as a
  missing value, which the query layer shows as ``Direct``.
- ``channel``: always one of ``channels.CHANNELS``.

A referrer counts only when it is an absolute URL with a host and a scheme of ``http``,
``https`` or ``android-app`` (Android apps send ``android-app://<package>/``). It is internal
(not stored, not a source) when its host without ``www.`` is the event's host without ``www.``,
the site's domain or a subdomain of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from clickport.ingest.channels import classify_channel, click_ids_in
from clickport.ingest.referrers import KnownSource, known_source_for_host, known_source_for_utm
from clickport.ingest.urls import ParsedUrl, clean_host, host_matches_site, strip_www

UTM_FIELDS: tuple[str, ...] = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
REFERRER_SCHEMES = frozenset({"http", "https", "android-app"})


@dataclass(frozen=True)
class SourceAttribution:
    referrer_url: str | None
    source: str | None
    channel: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None


@dataclass(frozen=True)
class Referrer:
    """An absolute referrer URL reduced to what is stored."""

    host: str
    url: str


def _trimmed(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def campaign_fields(*, url: ParsedUrl, utm: Mapping[str, str | None]) -> dict[str, str | None]:
    """Each utm_* field from the body when non-empty, else from the URL's query string."""
    return {name: _trimmed(utm.get(name)) or _trimmed(url.query.get(name)) for name in UTM_FIELDS}


def parse_referrer(referrer: str | None) -> Referrer | None:
    """The referrer's lowercase host and stored URL, or None when it is absent or not an absolute URL."""
    if not referrer or not referrer.strip():
        return None
    try:
        parts = urlsplit(referrer.strip())
        host = clean_host(parts.hostname or "")
    except ValueError:
        return None
    if parts.scheme not in REFERRER_SCHEMES or not host:
        return None
    shown_host = f"[{host}]" if ":" in host else host
    return Referrer(host=host, url=f"{parts.scheme}://{shown_host}{parts.path or '/'}")


def is_internal_referrer(referrer_host: str, *, event_host: str, site_domain: str) -> bool:
    """True when the referrer is the event's own host or the site (domain or a subdomain)."""
    host = strip_www(clean_host(referrer_host))
    return host == strip_www(clean_host(event_host)) or host_matches_site(host, site_domain)


def attribute_source(
    *,
    url: ParsedUrl,
    referrer: str | None,
    site_domain: str,
    utm: Mapping[str, str | None],
) -> SourceAttribution:
    """Referrer URL, source, channel and campaign fields of an event (its session's if it is the first)."""
    campaign = campaign_fields(url=url, utm=utm)
    parsed = parse_referrer(referrer)
    if parsed is not None and is_internal_referrer(parsed.host, event_host=url.hostname, site_domain=site_domain):
        parsed = None

    referrer_source: KnownSource | None = None
    if parsed is not None:
        referrer_source = known_source_for_host(parsed.host)
        source: str | None = referrer_source.name if referrer_source else strip_www(parsed.host)
    else:
        source = campaign["utm_source"]

    # The channel reads the campaign's source when tagged (as GA4 does); when that names no
    # known source, the referrer's category still counts (utm_source=twitter_bio from t.co is social).
    utm_source = campaign["utm_source"]
    utm_known = known_source_for_utm(utm_source) if utm_source else None
    channel_category = _category(utm_known) or _category(referrer_source)

    channel = classify_channel(
        source_name=utm_source or source,
        source_category=channel_category,
        has_external_referrer=parsed is not None,
        utm_source=utm_source,
        utm_medium=campaign["utm_medium"],
        utm_campaign=campaign["utm_campaign"],
        click_ids=click_ids_in(url.query),
    )
    return SourceAttribution(
        referrer_url=parsed.url if parsed else None,
        source=source,
        channel=channel,
        **campaign,
    )


def _category(known: KnownSource | None) -> str | None:
    return known.category if known else None
