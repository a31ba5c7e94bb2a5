"""Splitting event URLs into host, path and query, and comparing hosts with a site's domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

_HTTP_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class ParsedUrl:
    """The parts of an event URL that enrichment needs."""

    hostname: str
    """Lowercase, without port, userinfo or trailing dot; "" when the URL has no host."""
    path: str
    """As sent (percent-encoding kept), without query or fragment; an empty path is "/"."""
    query: dict[str, str] = field(default_factory=dict, hash=False)
    """Decoded query parameters, the first value of each name."""


def clean_host(host: str) -> str:
    """Lowercase a host name and drop a trailing dot (``Example.COM.`` → ``example.com``)."""
    return host.strip().lower().rstrip(".")


def strip_www(host: str) -> str:
    """Drop one leading ``www.`` from a host."""
    return host[4:] if host.startswith("www.") else host


def split_url(url: str) -> ParsedUrl:
    """Split a URL; never raises (an unparseable URL gives an empty hostname)."""
    try:
        parts = urlsplit(url.strip())
        hostname = parts.hostname or ""
    except ValueError:
        return ParsedUrl(hostname="", path="/", query={})
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(name, value)
    return ParsedUrl(hostname=clean_host(hostname), path=parts.path or "/", query=query)


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        return parts.scheme in _HTTP_SCHEMES and bool(parts.hostname)
    except ValueError:
        return False


def normalize_domain(domain: str) -> str:
    """A site domain as stored: lowercase, no scheme, no ``www.``, no port, path or trailing slash."""
    value = domain.strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1]
    for separator in ("/", "?", "#"):
        value = value.split(separator, 1)[0]
    value = value.rsplit("@", 1)[-1]
    if not value.startswith("[") and value.count(":") == 1:
        value = value.split(":", 1)[0]
    return strip_www(value.rstrip("."))


def host_matches_site(host: str, domain: str) -> bool:
    """True when the host (``www.`` ignored) is the site's domain or one of its subdomains."""
    site = normalize_domain(domain)
    if not site:
        return False
    candidate = strip_www(clean_host(host))
    return candidate == site or candidate.endswith("." + site)
