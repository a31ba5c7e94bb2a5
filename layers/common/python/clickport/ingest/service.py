"""The Events API use cases: ``/api/event`` (keyed) and ``/api/track`` (the tracker), over the pipeline.

The caller passes the request facts (client IP, User-Agent, places) it worked out at the edge
(``clickport.http.client.request_facts``); nothing here reads an API Gateway event or a header.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cached_property

from clickport.errors import BadRequest
from clickport.ingest.drops import DropCounter, emit_drop_metric
from clickport.ingest.models import EventRequest, TrackRequest
from clickport.ingest.pipeline import Accepted, Arrival, Drop, EventPipeline
from clickport.ingest.places import RequestFacts
from clickport.ports import ApiKeyRecord, Site
from clickport.runtime import Runtime


def _received_at(runtime: Runtime) -> datetime:
    now = runtime.clock().astimezone(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class IngestService:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    @cached_property
    def pipeline(self) -> EventPipeline:
        settings = self.runtime.settings
        if settings.backend == "local":
            drops = DropCounter(settings.data_dir)
        else:
            drops = DropCounter(on_drop=emit_drop_metric)
        return EventPipeline(live=self.runtime.live, sink=self.runtime.sink, config=self.runtime.config, drops=drops)

    @cached_property
    def sites(self):
        from clickport.domain.sites import SiteDirectory

        return SiteDirectory(self.runtime.config, ttl_seconds=self.runtime.settings.key_cache_seconds)

    def track_event(self, body: EventRequest, facts: RequestFacts, key: ApiKeyRecord) -> dict:
        site = self.sites.by_id(key.site_id)
        if site is None:  # the key outlived its site
            raise BadRequest("The API key's site no longer exists")
        return self._answer(self._arrival(site, body, facts, "event"))

    def track_browser(self, body: TrackRequest, facts: RequestFacts) -> dict:
        from clickport.ingest.urls import normalize_domain, split_url

        site = self.sites.by_domain(normalize_domain(body.domain))
        if site is None or not host_allowed(split_url(body.url).hostname, site):
            self.pipeline.drops.count("hostname")
            return {"success": False, "reason": "hostname"}
        return self._answer(self._arrival(site, body, facts, "track"))

    def _arrival(self, site: Site, body: EventRequest, facts: RequestFacts, origin) -> Arrival:
        received_at = _received_at(self.runtime)
        return Arrival(site, body, received_at, facts.client_ip, facts.user_agent, facts.places.as_dict(), origin)

    def _answer(self, arrival: Arrival) -> dict:
        result = self.pipeline.ingest(arrival)
        if isinstance(result, Drop):
            return {"success": False, "reason": result.reason}
        assert isinstance(result, Accepted)
        if arrival.site.first_event_date is None:
            self.sites.forget(arrival.site)
        return {"success": True, "session_id": result.session_id, "page_visit_id": result.page_visit_id}


def host_allowed(host: str, site: Site) -> bool:
    """The event's host must be the site's domain or a subdomain, or match the site's allow-list (spec §8)."""
    from clickport.ingest.urls import host_matches_site

    bare = host[4:] if host.startswith("www.") else host
    if not site.allow_hosts:
        return host_matches_site(host, site.domain)
    for pattern in site.allow_hosts:
        if pattern.startswith("*"):
            apex = pattern[1:].lstrip(".")
            if bare == apex or bare.endswith("." + apex):
                return True
        elif bare == pattern or host == pattern:
            return True
    return False
