"""Who is calling (spec §5.3): the request facts of an event request, worked out from its API Gateway event.

This is the one place that reads the client's headers (CloudFront's viewer headers, X-Forwarded-For,
User-Agent); ingestion receives the result, a ``RequestFacts``, and never sees the request.

On AWS a browser's request reaches the event function as browser → CloudFront → API Gateway. CloudFront
appends the viewer's address to X-Forwarded-For (AWS, "Request and response behavior for custom origins",
Client IP addresses: "If a viewer sends a request to CloudFront and does not include an X-Forwarded-For
request header, CloudFront gets the IP address of the viewer from the TCP connection, adds an
X-Forwarded-For header that includes the IP address, and forwards the request to the origin"; with a
header the viewer sent, it appends the viewer's address to the end of it), and API Gateway appends the
address of the connection it received, CloudFront's own (``sourceIp``: "The source IP address of the
TCP connection making the request to API Gateway"). So ``X-Forwarded-For`` is always present behind
CloudFront and its last entries are the edge's, not the client's: only the entries before them were
supplied by a client, and only those can mean "a server forwarding its visitor".
"""

from __future__ import annotations

import hmac
import re
from typing import Mapping
from urllib.parse import unquote

from clickport.errors import BadRequest
from clickport.ingest.places import IPAddress, Places, RequestFacts, parse_ip
from clickport.ports import GeoLocator
from clickport.settings import Settings

ORIGIN_SECRET_HEADER = "x-clickport-origin-secret"
VIEWER_ADDRESS = "cloudfront-viewer-address"
VIEWER_COUNTRY = "cloudfront-viewer-country"
VIEWER_REGION = "cloudfront-viewer-country-region"
VIEWER_CITY = "cloudfront-viewer-city"

MAX_USER_AGENT = 1000
MAX_CITY_LENGTH = 200
MAX_FORWARDED_ENTRIES = 32

_COUNTRY = re.compile(r"[A-Z]{2}")
_REGION = re.compile(r"[A-Z0-9]{1,3}")


def request_headers(event: Mapping) -> dict[str, str]:
    """An API Gateway event's headers with lower-case names (HTTP header names are case-insensitive)."""
    return {k.lower(): v for k, v in (event.get("headers") or {}).items()}


def behind_trusted_cloudfront(headers: Mapping[str, str], settings: Settings) -> bool:
    secret = settings.origin_secret
    presented = headers.get(ORIGIN_SECRET_HEADER)
    return bool(secret and presented and hmac.compare_digest(secret.encode(), presented.encode()))


def request_facts(
    event: Mapping, settings: Settings, geo: GeoLocator, *, allow_forwarded_for: bool
) -> RequestFacts:
    """The visitor's IP (used, never stored), User-Agent (400 when missing) and places of one event request.

    ``allow_forwarded_for``: on key-authenticated ``/api/event`` a server may forward its visitor's
    request; the leftmost valid entry a client supplied in X-Forwarded-For is then the visitor.
    """
    headers = request_headers(event)
    agent = user_agent(headers)
    source_ip = _normalized(((event.get("requestContext") or {}).get("http") or {}).get("sourceIp", ""))
    viewer_ip, reported = source_ip, Places()
    if behind_trusted_cloudfront(headers, settings):
        viewer_ip = client_ip_from_cloudfront(headers.get(VIEWER_ADDRESS, "")) or source_ip
        reported = places_from_cloudfront(headers)
    ip = viewer_ip
    if allow_forwarded_for:
        forwarded = forwarded_client(headers.get("x-forwarded-for", ""), appended_by_edge=(source_ip, viewer_ip))
        if forwarded is not None and forwarded != viewer_ip:
            # A server forwards another address: the viewer's places are the server's, not its visitor's.
            ip, reported = forwarded, Places()
    return RequestFacts(client_ip=ip, user_agent=agent, places=geo.locate(ip, reported))


def user_agent(headers: Mapping[str, str]) -> str:
    agent = (headers.get("user-agent") or "").strip()
    if not agent:
        raise BadRequest("The User-Agent header is required")
    if len(agent) > MAX_USER_AGENT:
        raise BadRequest(f"The User-Agent header is longer than {MAX_USER_AGENT} characters")
    return agent


def forwarded_client(value: str, *, appended_by_edge: tuple[str, ...] = ()) -> str | None:
    """The leftmost valid X-Forwarded-For entry a client supplied, or None.

    ``appended_by_edge``: the addresses the edge appends, last first (API Gateway's ``sourceIp``, then
    CloudFront's viewer): each is removed from the end of the list when it is there, so what remains is
    what the client sent. A port is dropped.
    """
    entries = value.split(",") if value.strip() else []
    for appended in appended_by_edge:
        if appended and entries and _normalized(entries[-1]) == appended:
            entries.pop()
    for entry in entries[:MAX_FORWARDED_ENTRIES]:
        address = _forwarded_entry_ip(entry)
        if address is not None:
            return str(address)
    return None


def leftmost_valid_forwarded_for(value: str) -> str | None:
    """The first entry of an ``X-Forwarded-For`` header that is an IP address (a port is dropped)."""
    return forwarded_client(value)


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


def _normalized(value: str) -> str:
    address = _forwarded_entry_ip(value)
    return str(address) if address is not None else ""


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
