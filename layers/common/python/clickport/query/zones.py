"""IANA time zones from the pinned tz database (the ``tzdata`` package), looked up by exact name."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo


# How a zone name is stated in a request model's schema; the OpenAPI document points it at the one
# ``TimeZone`` schema listing every name (``time_zone_component``).
TIME_ZONE_FORMAT = "iana-time-zone"
TIME_ZONE_SCHEMA = {"format": TIME_ZONE_FORMAT}


def time_zone_component() -> dict:
    return {"type": "string", "title": "TimeZone", "description": "an IANA zone name of the pinned tz database, "
            "exact case", "enum": sorted(zone_names())}


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every zone name of the pinned database, exact case."""
    return frozenset(resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())


@lru_cache(maxsize=512)
def get_zone(name: str) -> ZoneInfo:
    """The zone ``name`` read from the pinned database; ``KeyError`` when it is not an exact zone name."""
    if name not in zone_names():
        raise KeyError(name)
    # NOTE: read from the tzdata package, not the operating system, so every machine agrees.
    resource = resources.files("tzdata").joinpath("zoneinfo", *name.split("/"))
    with resource.open("rb") as handle:
        return ZoneInfo.from_file(handle, key=name)
