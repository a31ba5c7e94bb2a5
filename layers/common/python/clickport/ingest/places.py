"""Client IP and places as ingestion sees them: the request facts, the offline IP → country table, rate keys.

Nothing here reads a request: ``clickport.http.client`` works the facts out from the API Gateway
event (CloudFront headers, X-Forwarded-For) and passes them in. Nothing here stores or logs an
address; the pipeline uses the IP for the lookups and hashes the API contract allows, then drops it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class Places:
    country: str | None = None
    """ISO 3166-1 alpha-2, e.g. DE."""
    region: str | None = None
    """ISO 3166-2, e.g. DE-BE."""
    city: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"country": self.country, "region": self.region, "city": self.city}


@dataclass(frozen=True)
class RequestFacts:
    """What ingestion needs to know of one request's sender, worked out at the edge (``clickport.http.client``)."""

    client_ip: str = field(repr=False)
    """The visitor's address: used for the visitor hash, the rate-limit key and places, never stored or logged."""
    user_agent: str
    places: Places = Places()


def parse_ip(value: str) -> IPAddress | None:
    """An IP address without brackets or zone; IPv4-mapped IPv6 becomes IPv4; invalid → None."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def country_for_ip(ip: str) -> str | None:
    """The country an address is registered to (offline table, the ``iptocc`` package).

    None for private, reserved or invalid addresses, and where the table is not installed
    (it is a local-mode dependency: on AWS the country comes from CloudFront).
    """
    address = parse_ip(ip)
    if address is None or not address.is_global:
        return None
    try:
        from iptocc import country_code
    except ImportError:
        return None
    code = country_code(str(address))
    return code.upper() if code and _COUNTRY.fullmatch(code.upper()) else None


def ip_rate_key(ip: str) -> str:
    """What the rate limit counts by, before the caller hashes it: the IPv4 address, or the IPv6 /64."""
    address = parse_ip(ip)
    if address is None:
        return ip.strip().lower()
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
