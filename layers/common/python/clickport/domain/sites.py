"""Finding a request's site, with a short in-process cache (keys give the id, the tracker gives the domain)."""

from __future__ import annotations

import threading
import time
from typing import Callable

from clickport.ports import ConfigStore, Site


class SiteDirectory:
    def __init__(self, config: ConfigStore, ttl_seconds: float = 30, clock: Callable[[], float] = time.monotonic):
        self._config = config
        self._ttl = ttl_seconds
        self._clock = clock
        self._by_id: dict[str, tuple[float, Site | None]] = {}
        self._by_domain: dict[str, tuple[float, Site | None]] = {}
        self._lock = threading.Lock()

    def by_id(self, site_id: str) -> Site | None:
        return self._cached(self._by_id, site_id, self._config.get_site)

    def by_domain(self, domain: str) -> Site | None:
        return self._cached(self._by_domain, domain, self._config.get_site_by_domain)

    def forget(self, site: Site) -> None:
        with self._lock:
            self._by_id.pop(site.site_id, None)
            self._by_domain.pop(site.domain, None)

    def _cached(self, cache: dict, key: str, load: Callable[[str], Site | None]) -> Site | None:
        now = self._clock()
        with self._lock:
            hit = cache.get(key)
            if hit and now - hit[0] < self._ttl:
                return hit[1]
        site = load(key)
        with self._lock:
            if len(cache) > 10_000:
                cache.clear()
            cache[key] = (now, site)
        return site
