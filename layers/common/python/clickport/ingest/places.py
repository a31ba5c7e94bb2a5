"""Client IP and places: CloudFront viewer headers, X-Forwarded-For, an offline IP → country table.

Nothing here stores or logs an address; callers use the IP for the lookups and hashes the API
contract allows, then drop it. Whether CloudFront headers are trusted is the caller's decision.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

VIEWER_COUNTRY = "cloudfront-viewer-country"
VIEWER_REGION = "cloudfront-viewer-country-region"
VIEWER_CITY = "cloudfront-viewer-city"

MAX_CITY_LENGTH = 200
MAX_FORWARDED_ENTRIES = 32
_COUNTRY = re.compile(r"[A-Z]{2}")
_REGION = re.compile(r"[A-Z0-9]{1,3}")


@dataclass(frozen=True)
class Places:
    country: str | None = None
    """ISO 3166-1 alpha-2, e.g. DE."""
    region: str | None = None
    """ISO 3166-2, e.g. DE-BE."""
    city: str | None = None


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


def places_from_cloudfront(headers: Mapping[str, str]) -> Places:
    """Country, region (``DE-BE``) and city (URL-decoded) from CloudFront's viewer headers."""
    wanted = {VIEWER_COUNTRY, VIEWER_REGION, VIEWER_CITY}
    found = {name.lower(): value for name, value in headers.items() if name.lower() in wanted}
    country = (found.get(VIEWER_COUNTRY) or "").strip().upper()
    if not _COUNTRY.fullmatch(country):
        return Places()
    region = (found.get(VIEWER_REGION) or "").strip().upper()
    if region.startswith(country + "-"):
        region = region[len(country) + 1 :]
    city = unquote(found.get(VIEWER_CITY) or "").strip()[:MAX_CITY_LENGTH]
    return Places(
        country=country,
        region=f"{country}-{region}" if _REGION.fullmatch(region) else None,
        city=city or None,
    )


def client_ip_from_cloudfront(viewer_address: str) -> str | None:
    """The IP of ``CloudFront-Viewer-Address`` (``1.2.3.4:12345``, ``[2001:db8::1]:443`` or ``2001:db8::1:443``)."""
    value = viewer_address.strip()
    if value.startswith("["):
        host, _, _port = value[1:].partition("]")
        address = parse_ip(host)
    else:
        host, separator, port = value.rpartition(":")
        address = parse_ip(host) if separator and port.isdigit() else None
        if address is None:
            address = parse_ip(value)
    return str(address) if address is not None else None


def _forwarded_entry_ip(entry: str) -> IPAddress | None:
    entry = entry.strip().strip('"')
    address = parse_ip(entry)
    if address is not None:
        return address
    if entry.startswith("["):
        return parse_ip(entry[1:].partition("]")[0])
    host, separator, port = entry.rpartition(":")
    if separator and port.isdigit() and "." in host:
        return parse_ip(host)
    return None


def leftmost_valid_forwarded_for(value: str) -> str | None:
    """The first entry of an ``X-Forwarded-For`` header that is an IP address (a port is dropped)."""
    for entry in value.split(",")[:MAX_FORWARDED_ENTRIES]:
        address = _forwarded_entry_ip(entry)
        if address is not None:
            return str(address)
    return None


def ip_rate_key(ip: str) -> str:
    """What the rate limit counts by, before the caller hashes it: the IPv4 address, or the IPv6 /64."""
    address = parse_ip(ip)
    if address is None:
        return ip.strip().lower()
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
