"""Dimensions of spec §3.2, looked up by exact name: what each one reads and at which level it groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from clickport.limits import MAX_PROP_KEY
from clickport.schema import SESSION_ATTRIBUTES

Level = Literal["session", "event", "time"]
# How the SQL builder computes the shown value (one expression per kind, in expressions.py).
Kind = Literal["session_column", "entry_page", "exit_page", "event_column", "event_name", "prop", "goal", "time"]

NONE_LABEL = "(none)"
DIRECT_LABEL = "Direct"
PROP_PREFIX = "prop:"


@dataclass(frozen=True)
class Dimension:
    name: str
    level: Level
    kind: Kind
    column: str | None = None  # the stored column read (session and event columns)
    none_label: str = NONE_LABEL  # what a missing value is shown as
    prop_key: str | None = None
    time_format: str | None = None  # label format for time dimensions (strftime style)

    @property
    def is_time(self) -> bool:
        return self.level == "time"


def _session(name: str, none_label: str = NONE_LABEL) -> Dimension:
    return Dimension(name, "session", "session_column", column=name, none_label=none_label)


_SESSION_COLUMNS = tuple(name for name in SESSION_ATTRIBUTES if name not in ("source", "channel"))

DIMENSIONS: dict[str, Dimension] = {
    "source": _session("source", DIRECT_LABEL),
    "channel": _session("channel", DIRECT_LABEL),
    **{name: _session(name) for name in _SESSION_COLUMNS},
    "entry_page": Dimension("entry_page", "session", "entry_page", column="path"),
    "exit_page": Dimension("exit_page", "session", "exit_page", column="path"),
    "page": Dimension("page", "event", "event_column", column="path"),
    "hostname": Dimension("hostname", "event", "event_column", column="hostname"),
    "event_type": Dimension("event_type", "event", "event_column", column="type"),
    "event_name": Dimension("event_name", "event", "event_name"),
    "goal": Dimension("goal", "event", "goal"),
    "hour": Dimension("hour", "time", "time", time_format="%Y-%m-%d %H:00"),
    "date": Dimension("date", "time", "time", time_format="%Y-%m-%d"),
    "week": Dimension("week", "time", "time", time_format="%Y-%m-%d"),
    "month": Dimension("month", "time", "time", time_format="%Y-%m"),
}

# The order the error message lists them in (spec §3.2 order).
DIMENSION_NAMES: tuple[str, ...] = (
    "source",
    "channel",
    "referrer_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "page",
    "entry_page",
    "exit_page",
    "country",
    "region",
    "city",
    "device",
    "screen",
    "browser",
    "os",
    "browser_version",
    "os_version",
    "hour",
    "date",
    "week",
    "month",
    "hostname",
    "event_type",
    "event_name",
    "goal",
)

assert set(DIMENSION_NAMES) == set(DIMENSIONS)


def valid_dimensions_text() -> str:
    return ", ".join(DIMENSION_NAMES) + f", {PROP_PREFIX}<key>"


def lookup_dimension(name: str) -> Dimension:
    """The dimension called exactly ``name``; ``KeyError`` when there is none (prop keys: 1–100 characters)."""
    if name.startswith(PROP_PREFIX):
        key = name[len(PROP_PREFIX) :]
        if not 1 <= len(key) <= MAX_PROP_KEY:
            raise KeyError(name)
        return Dimension(name, "event", "prop", prop_key=key)
    return DIMENSIONS[name]
