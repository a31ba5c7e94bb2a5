"""Where the local runtime keeps its files under the data directory."""

from __future__ import annotations

from pathlib import Path


def events_root(data_dir: Path) -> Path:
    """Parquet events: ``events/site_id=<site>/dt=<YYYY-MM-DD>/<name>.parquet``."""
    return Path(data_dir) / "events"


def partition_dir(data_dir: Path, site_id: str, dt: str) -> Path:
    return events_root(data_dir) / f"site_id={site_id}" / f"dt={dt}"


def config_db(data_dir: Path) -> Path:
    return Path(data_dir) / "config.sqlite3"


def live_db(data_dir: Path) -> Path:
    return Path(data_dir) / "live.sqlite3"
