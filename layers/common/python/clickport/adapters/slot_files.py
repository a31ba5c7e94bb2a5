"""Local files of the session slots (``compaction.session_slots``): the derived rollup of a closed day.

``<data_dir>/session_slots/site_id=<site>/dt=<day>/slots-<key>.parquet``, where ``key`` names the exact
set of day files (``day-*.parquet``) the slots were built from, the previous UTC day's files (any) their
first-row columns looked back through (``compaction.first_rows``) and the slot columns. A partition's
slots are used only while its event files are exactly those day files and the previous day's files are
exactly those (``rolled_up``): a file added later (an import, a late event) or a recompaction of either
day changes the key, and the partition is read from its events again until new slots are written (the
next compaction pass, which handles days in order, writes them). So slots never need to be published
atomically with the day files, and a crash between the two only leaves a partition read from its events
(still exact). Slots whose rows break what the first-row columns rely on (``first_rows`` returned None)
are written with those columns NULL under ``slots-<key>-nofirst.parquet``: still slots, but no plan may
read their first-row columns (``Rollup.first_rows``).

Publishing (``publish``) writes the new file under a new name, then removes the partition's other slot
files under the exclusive side of the store's read lock, so a running query never loses a file it listed.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable

from clickport import layout
from clickport.adapters import compaction

SLOTS_ROOT = "session_slots"
SLOTS_PREFIX = "slots-"


def slots_dir(data_dir: Path, site_id: str, dt: str) -> Path:
    return Path(data_dir) / SLOTS_ROOT / f"site_id={site_id}" / f"dt={dt}"


NO_FIRST_SUFFIX = "-nofirst"
SLOT_FILE_COLUMNS = compaction.SLOT_COLUMNS + compaction.FIRST_ROW_COLUMNS + compaction.SESSION_ROW_COLUMNS


def previous_day(dt: str) -> str:
    return (date.fromisoformat(dt) - timedelta(days=1)).isoformat()


def slots_key(day_files: Iterable[str], previous_files: Iterable[str] = ()) -> str:
    """The key of a set of day file names, of the previous UTC day's file names (order does not matter)
    and of the slot columns: slots written with other columns (an older version) stand for nothing and
    are rebuilt by the next compaction."""
    columns = ",".join(f"{name}:{kind}" for name, kind in SLOT_FILE_COLUMNS)
    names = "\n".join(sorted(day_files)) + "\n\n" + "\n".join(sorted(previous_files)) + "\n\n" + columns
    return hashlib.sha256(names.encode()).hexdigest()[:32]


def slots_name(day_files: Iterable[str], previous_files: Iterable[str] = (), *, first_rows: bool = True) -> str:
    suffix = "" if first_rows else NO_FIRST_SUFFIX
    return f"{SLOTS_PREFIX}{slots_key(day_files, previous_files)}{suffix}.parquet"


@dataclass(frozen=True)
class Rollup:
    path: Path
    first_rows: bool  # its first-row columns may be read


def rolled_up(data_dir: Path, site_id: str, dt: str, event_files: list[str], previous_files: list[str]) -> Rollup | None:
    """The slots of a partition whose event files (names) are ``event_files`` and whose previous UTC day
    holds ``previous_files``, when the partition is all day files and its slots were built from exactly
    them; else None (read its events)."""
    if not event_files or not all(compaction.is_day_file(name) for name in event_files):
        return None
    folder = slots_dir(data_dir, site_id, dt)
    path = folder / slots_name(event_files, previous_files)
    if path.is_file():
        return Rollup(path, True)
    path = folder / slots_name(event_files, previous_files, first_rows=False)
    return Rollup(path, False) if path.is_file() else None


def publish(data_dir: Path, site_id: str, dt: str, day_files: list[str], events: Iterable[Any],
            previous_files: list[str], previous: Iterable[Any], *, swap_lock) -> Path:
    """Write the slots of a closed day whose day files (names) are ``day_files`` and hold ``events``
    (Arrow tables in the event schema), with their first-row columns looked back through ``previous``
    (the tables of the previous UTC day's files, named ``previous_files``); older slot files of the
    partition are removed under ``swap_lock`` (a context manager: the exclusive side of the store's read
    lock)."""
    folder = layout.private_dir(slots_dir(data_dir, site_id, dt))
    slots = compaction.session_slots(events)
    table = compaction.first_rows(slots, dt, previous)
    first_rows = table is not None
    if table is None:
        table = compaction.without_first_rows(slots)
    table = compaction.with_slots_in_day(table)
    name = slots_name(day_files, previous_files, first_rows=first_rows)
    return layout.publish_file(folder, name, lambda handle: compaction.write_slots(table, handle),
                               prefix=SLOTS_PREFIX, swap_lock=swap_lock)


# --- the site's spanning sessions: sessions with slot rows in more than one day's slots

SPANNING_DIR = "spanning"  # <data_dir>/session_slots/site_id=<site>/spanning/spanning-<key>.parquet
SPANNING_PREFIX = "spanning-"
_SOURCES_KEY = b"clickport.slot_files"  # the slot files the set was computed from (``dt=…/slots-….parquet``)


def current_slot_files(data_dir: Path, site_id: str) -> list[str]:
    """Every slot file of the site, as ``dt=<day>/<name>`` (sorted)."""
    site = Path(data_dir) / SLOTS_ROOT / f"site_id={site_id}"
    found: list[str] = []
    try:
        days = sorted(e.name for e in os.scandir(site) if e.is_dir() and e.name.startswith("dt="))
    except FileNotFoundError:
        return []
    for day in days:
        try:
            with os.scandir(site / day) as entries:
                found += sorted(f"{day}/{e.name}" for e in entries
                                if e.name.startswith(SLOTS_PREFIX) and e.name.endswith(".parquet"))
        except FileNotFoundError:
            continue
    return found


def publish_spanning(data_dir: Path, site_id: str, *, swap_lock) -> Path:
    """Write the session ids found in more than one of the site's current slot files, with those files'
    names (``spanning_of``); older sets are removed under ``swap_lock``. The caller holds the compaction
    lock (so the slot files do not change meanwhile)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    site = Path(data_dir) / SLOTS_ROOT / f"site_id={site_id}"
    sources = current_slot_files(data_dir, site_id)
    ids = compaction.spanning_sessions(
        pq.read_table(site / name, columns=["session_id"])["session_id"] for name in sources)
    key = hashlib.sha256("\n".join(sources).encode()).hexdigest()[:32]
    folder = layout.private_dir(site / SPANNING_DIR)
    table = pa.table({"session_id": ids}).replace_schema_metadata({_SOURCES_KEY: "\n".join(sources).encode()})
    return layout.publish_file(folder, f"{SPANNING_PREFIX}{key}.parquet",
                               lambda handle: pq.write_table(table, handle, compression="ZSTD"),
                               prefix=SPANNING_PREFIX, swap_lock=swap_lock)


@dataclass(frozen=True)
class Spanning:
    path: Path
    sources: frozenset[str]  # the slot files (``dt=…/slots-….parquet``) it was computed from


def spanning_of(data_dir: Path, site_id: str) -> Spanning | None:
    """The site's newest spanning-session set (list it inside the store's read lock), or None."""
    folder = Path(data_dir) / SLOTS_ROOT / f"site_id={site_id}" / SPANNING_DIR
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if e.name.startswith(SPANNING_PREFIX) and e.name.endswith(".parquet")]
    except FileNotFoundError:
        return None
    if len(names) != 1:  # none, or a new one written and the old not removed yet: either way, wait
        return None
    path = folder / names[0]
    return Spanning(path, _sources(str(path)))


@functools.lru_cache(maxsize=1024)
def _sources(path: str) -> frozenset[str]:
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    return frozenset(filter(None, metadata.get(_SOURCES_KEY, b"").decode().split("\n")))
