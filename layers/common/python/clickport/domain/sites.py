"""Finding a request's site, with a short in-process cache (keys give the id, the tracker gives the domain)."""

from __future__ import annotations

import time
from typing import Callable

from clickport.domain.ttl_cache import TtlCache
from clickport.ports import ConfigStore, Site


class SiteDirectory:
    def __init__(self, config: ConfigStore, ttl_seconds: float = 30, clock: Callable[[], float] = time.monotonic):
        self._config = config
        changes = getattr(config, "generation", None)  # a store that can tell it changed is seen at once
        self._by_id: TtlCache[str, Site | None] = TtlCache(ttl_seconds, clock, generation=changes)
        self._by_domain: TtlCache[str, Site | None] = TtlCache(ttl_seconds, clock, generation=changes)

    def by_id(self, site_id: str) -> Site | None:
        return self._by_id.get(site_id, self._config.get_site)

    def by_domain(self, domain: str) -> Site | None:
        return self._by_domain.get(domain, self._config.get_site_by_domain)

    def forget(self, site: Site) -> None:
        self._by_id.forget(site.site_id)
        self._by_domain.forget(site.domain)
