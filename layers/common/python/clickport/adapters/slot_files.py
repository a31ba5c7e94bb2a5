"""Local files of the session slots (``compaction.session_slots``): the derived rollup of a closed day.

``<data_dir>/session_slots/site_id=<site>/dt=<day>/slots-<key>.parquet``, where ``key`` names the exact
set of day files (``day-*.parquet``) the slots were built from and the slot columns. A partition's slots are used only while
its event files are exactly those day files (``rolled_up``): a file added later (an import, a late
event) or a recompaction changes the set, and the partition is read from its events again until new
slots are written. So slots never need to be published atomically with the day files, and a crash
between the two only leaves a partition read from its events (still exact).

Publishing (``publish``) writes the new file under a new name, then removes the partition's other slot
files under the exclusive side of the store's read lock, so a running query never loses a file it listed.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any, Iterable

from clickport import layout
from clickport.adapters import compaction

SLOTS_ROOT = "session_slots"
SLOTS_PREFIX = "slots-"


def slots_dir(data_dir: Path, site_id: str, dt: str) -> Path:
    return Path(data_dir) / SLOTS_ROOT / f"site_id={site_id}" / f"dt={dt}"


def slots_key(day_files: Iterable[str]) -> str:
    """The key of a set of day file names (order does not matter) and of the slot columns: slots written
    with other columns (an older version) stand for nothing and are rebuilt by the next compaction."""
    columns = ",".join(f"{name}:{kind}" for name, kind in compaction.SLOT_COLUMNS)
    names = "\n".join(sorted(day_files)) + "\n\n" + columns
    return hashlib.sha256(names.encode()).hexdigest()[:32]


def slots_name(day_files: Iterable[str]) -> str:
    return f"{SLOTS_PREFIX}{slots_key(day_files)}.parquet"


def rolled_up(data_dir: Path, site_id: str, dt: str, event_files: list[str]) -> Path | None:
    """The slots file of a partition whose event files (names) are ``event_files``, when the partition is
    all day files and its slots were built from exactly them; else None (read its events)."""
    if not event_files or not all(compaction.is_day_file(name) for name in event_files):
        return None
    path = slots_dir(data_dir, site_id, dt) / slots_name(event_files)
    return path if path.is_file() else None


def publish(data_dir: Path, site_id: str, dt: str, day_files: list[str], events: Iterable[Any], *, swap_lock) -> Path:
    """Write the slots of a closed day whose day files (names) are ``day_files`` and hold ``events``
    (Arrow tables in the event schema); older slot files of the partition are removed under ``swap_lock``
    (a context manager: the exclusive side of the store's read lock)."""
    folder = layout.private_dir(slots_dir(data_dir, site_id, dt))
    final = folder / slots_name(day_files)
    temp = folder / f".{uuid.uuid4().hex}.slots.tmp"
    table = compaction.session_slots(events)
    try:
        with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            compaction.write_slots(table, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    layout.fsync_dir(folder)
    stale = [p for p in folder.iterdir() if p.name != final.name and p.name.startswith(SLOTS_PREFIX)]
    if stale:
        with swap_lock:
            for path in stale:
                path.unlink(missing_ok=True)
            layout.fsync_dir(folder)
    return final
