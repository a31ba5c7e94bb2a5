"""The list of known referrer sources (``data/referrers.json``): host or utm_source → name and category."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from clickport.ingest.urls import clean_host, strip_www

REFERRERS_FILE = Path(__file__).parent / "data" / "referrers.json"
CATEGORIES = frozenset({"search", "social", "email", "video", "shopping", "ai"})

# "google.*": the name under any country suffix: google.de, google.com, google.co.uk, google.com.br.
_COUNTRY_SUFFIX = r"(?:[a-z]{2,3}|com?\.[a-z]{2})"


@dataclass(frozen=True)
class KnownSource:
    name: str
    category: str | None


@dataclass(frozen=True)
class _Index:
    by_domain: dict[str, KnownSource]
    by_alias: dict[str, KnownSource]
    country_domains: tuple[tuple[re.Pattern[str], KnownSource], ...]


@cache
def _index() -> _Index:
    data = json.loads(REFERRERS_FILE.read_text(encoding="utf-8"))
    by_domain: dict[str, KnownSource] = {}
    by_alias: dict[str, KnownSource] = {}
    country_domains: list[tuple[re.Pattern[str], KnownSource]] = []
    for entry in data["sources"]:
        category = entry.get("category")
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"unknown referrer category {category!r} for {entry['name']!r}")
        source = KnownSource(name=entry["name"], category=category)
        for domain in entry["domains"]:
            if domain.endswith(".*"):
                pattern = re.compile(re.escape(domain[:-2]) + r"\." + _COUNTRY_SUFFIX)
                country_domains.append((pattern, source))
            else:
                by_domain[domain] = source
        for alias in (entry["name"], *entry.get("aliases", ())):
            by_alias[alias] = source
    return _Index(by_domain, by_alias, tuple(country_domains))


def known_source_for_host(host: str) -> KnownSource | None:
    """The known source of a referrer host: the most specific listed domain wins."""
    index = _index()
    candidate = strip_www(clean_host(host))
    if not candidate:
        return None
    if candidate in index.by_domain:
        return index.by_domain[candidate]
    for pattern, source in index.country_domains:
        if pattern.fullmatch(candidate):
            return source
    labels = candidate.split(".")
    for start in range(1, len(labels) - 1):
        parent = ".".join(labels[start:])
        if parent in index.by_domain:
            return index.by_domain[parent]
    return None


def known_source_for_utm(utm_source: str) -> KnownSource | None:
    """The known source a ``utm_source`` names: a name or alias (``fb``), or a domain (``chatgpt.com``)."""
    value = utm_source.strip().lower()
    if not value:
        return None
    index = _index()
    if value in index.by_alias:
        return index.by_alias[value]
    if "." in value:
        host = value.split("://", 1)[-1].split("/", 1)[0]
        return known_source_for_host(host)
    return None
