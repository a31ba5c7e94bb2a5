"""Geo-location adapters (spec §5.3): what the runtime uses to give a client address its places."""

from __future__ import annotations

from clickport.ingest.places import Places, country_for_ip


class EdgeGeoLocator:
    """AWS: the places CloudFront reported for its viewer. Another address (a forwarded visitor) gets none:
    the Lambda layer carries no IP → country table."""

    def locate(self, ip: str, reported: Places) -> Places:
        return reported


class OfflineGeoLocator:
    """Local: places a trusted edge reported (tests inject CloudFront's headers), else the country of the
    offline IP → country table (``iptocc``); region and city stay unknown."""

    def locate(self, ip: str, reported: Places) -> Places:
        if reported.country:
            return reported
        return Places(country=country_for_ip(ip))
