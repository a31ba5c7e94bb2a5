"""Local files of the page dictionary (``compaction.extend_pages``): each site's pages as integer ids.

``<data_dir>/page_ids/site_id=<site>/pages-<count>.parquet`` (``count`` zero-padded: the newest version
sorts last). Only compaction writes it, under the compaction lock: before a closed day's files are
written with ``page_id`` (``compaction.compact_day``), the dictionary gains the day's new pages as a
new version, which holds every earlier one (ids are only ever appended). So every day file a query
lists, inside the store's read lock, has its ids in the newest version listed in the same lock. Older
versions are removed under the exclusive side of that lock, as event files are.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Iterable

from clickport import layout
from clickport.adapters import compaction
from clickport.schema import PAGE_ID

PAGES_ROOT = "page_ids"
PAGES_PREFIX = "pages-"


def pages_dir(data_dir: Path, site_id: str) -> Path:
    return Path(data_dir) / PAGES_ROOT / f"site_id={site_id}"


def _versions(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if e.name.startswith(PAGES_PREFIX) and e.name.endswith(".parquet"))
    except FileNotFoundError:
        return []


def current(data_dir: Path, site_id: str) -> Path | None:
    """The site's newest dictionary file, or None before its first compacted day."""
    versions = _versions(pages_dir(data_dir, site_id))
    return versions[-1] if versions else None


def load(path: Path | None) -> Any | None:
    import pyarrow.parquet as pq

    return None if path is None else pq.read_table(path, schema=compaction.page_dictionary_schema())


def extend(data_dir: Path, site_id: str, paths: Any, *, swap_lock) -> Any:
    """The site's dictionary holding every page of ``paths`` (stored ``path`` values): the newest version,
    or a new one written with the pages it lacked (older versions then removed under ``swap_lock``, the
    exclusive side of the store's read lock). The caller holds the compaction lock."""
    import pyarrow.parquet as pq

    folder = pages_dir(data_dir, site_id)
    dictionary = load(current(data_dir, site_id))
    extended = compaction.extend_pages(dictionary, paths)
    if extended is None:
        return dictionary if dictionary is not None else compaction.page_dictionary_schema().empty_table()
    layout.publish_file(layout.private_dir(folder), f"{PAGES_PREFIX}{extended.num_rows:010d}.parquet",
                        lambda handle: pq.write_table(extended, handle, compression="ZSTD"),
                        prefix=PAGES_PREFIX, swap_lock=swap_lock)
    return extended


def has_page_ids(path: str | Path) -> bool:
    """The event file carries ``page_id`` (a day file written with the dictionary). Day files are immutable
    and never reuse a name, so the answer is cached per path."""
    path = str(path)
    return compaction.is_day_file(os.path.basename(path)) and _footer_has_page_ids(path)


@functools.lru_cache(maxsize=200_000)
def _footer_has_page_ids(path: str) -> bool:
    import pyarrow.parquet as pq

    return PAGE_ID in pq.read_schema(path).names


def paths_of(tables: Iterable[Any]) -> Any:
    """The ``path`` values of event tables, as one chunked array."""
    import pyarrow as pa

    return pa.chunked_array([t["path"].cast(pa.string()) for t in tables], type=pa.string())
