"""Who is calling: the client IP and places (spec §5.3), under the CloudFront trust rule."""

from __future__ import annotations

import hmac
from typing import Mapping

from clickport.settings import Settings

ORIGIN_SECRET_HEADER = "x-clickport-origin-secret"


def request_headers(event: Mapping) -> dict[str, str]:
    """An API Gateway event's headers with lower-case names (HTTP header names are case-insensitive)."""
    return {k.lower(): v for k, v in (event.get("headers") or {}).items()}


def behind_trusted_cloudfront(headers: Mapping[str, str], settings: Settings) -> bool:
    secret = settings.origin_secret
    presented = headers.get(ORIGIN_SECRET_HEADER)
    return bool(secret and presented and hmac.compare_digest(secret.encode(), presented.encode()))


def client_ip_and_places(
    event: Mapping, settings: Settings, *, allow_forwarded_for: bool
) -> tuple[str, dict[str, str | None]]:
    """The visitor's IP (used, never stored) and country/region/city."""
    from clickport.ingest.places import (
        client_ip_from_cloudfront,
        leftmost_valid_forwarded_for,
        places_from_cloudfront,
    )

    headers = request_headers(event)
    source_ip = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp", "")
    ip = source_ip
    places: dict[str, str | None] = {"country": None, "region": None, "city": None}
    trusted = behind_trusted_cloudfront(headers, settings)
    if trusted:
        ip = client_ip_from_cloudfront(headers.get("cloudfront-viewer-address", "")) or source_ip
        cf = places_from_cloudfront(headers)
        places = {"country": cf.country, "region": cf.region, "city": cf.city}
    if allow_forwarded_for and headers.get("x-forwarded-for"):
        forwarded = leftmost_valid_forwarded_for(headers["x-forwarded-for"])
        if forwarded:
            ip = forwarded
            if trusted:
                places = {"country": None, "region": None, "city": None}
    if places["country"] is None and settings.backend == "local":
        from clickport.ingest.places import country_for_ip

        places["country"] = country_for_ip(ip)
    return ip, places
