"""Where the local runtime keeps its files under the data directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# NOTE: the data directory holds salts and event data: only its owner may read it, whatever the umask.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
JOURNAL_PREFIX = "journal-"
# The demo's own files (``clickport demo``): compaction never merges them, so the demo can replace exactly
# the events it wrote and no other.
DEMO_PREFIX = "demo-"


def events_root(data_dir: Path) -> Path:
    """Parquet events: ``events/site_id=<site>/dt=<YYYY-MM-DD>/<name>.parquet``."""
    return Path(data_dir) / "events"


def partition_dir(data_dir: Path, site_id: str, dt: str) -> Path:
    return events_root(data_dir) / f"site_id={site_id}" / f"dt={dt}"


def config_db(data_dir: Path) -> Path:
    return Path(data_dir) / "config.sqlite3"


def live_db(data_dir: Path) -> Path:
    return Path(data_dir) / "live.sqlite3"


def journal_dir(data_dir: Path) -> Path:
    """The local server's event journal (group commit): ``journal/<segment>.wal``."""
    return Path(data_dir) / "journal"


def journal_file_name(segment: str) -> str:
    """The Parquet file a journal segment is published as, in each partition it touches."""
    return f"{JOURNAL_PREFIX}{segment}.parquet"


def journal_pending(data_dir: Path, file_name: str) -> bool:
    """True while the journal group a Parquet file came from is being published (compaction must wait)."""
    if not file_name.startswith(JOURNAL_PREFIX):
        return False
    group = file_name[len(JOURNAL_PREFIX):].removesuffix(".parquet")
    return (journal_dir(data_dir) / f"{group}.group").exists()


def is_demo_file(file_name: str) -> bool:
    return file_name.startswith(DEMO_PREFIX)


def demo_files(data_dir: Path, site_id: str) -> list[Path]:
    """The Parquet files ``clickport demo`` wrote for ``site_id`` (its events and only its)."""
    return sorted((events_root(data_dir) / f"site_id={site_id}").glob(f"dt=*/{DEMO_PREFIX}*.parquet"))


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by the owner only; returns it."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR_MODE:
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def secure_data_dir(data_dir: Path) -> Path:
    """Make the data directory private: new files 0600 and directories 0700 in this process (umask), and
    existing ones tightened (a directory made by an older version or under a lax umask)."""
    os.umask(0o077)
    root = private_dir(data_dir)
    for current, dirs, files in os.walk(root):
        for name in dirs:
            _tighten(Path(current) / name, PRIVATE_DIR_MODE)
        for name in files:
            _tighten(Path(current) / name, PRIVATE_FILE_MODE)
    return root


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, mode)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_file(folder: Path, name: str, write, *, prefix: str, swap_lock) -> Path:
    """Write ``folder/name`` whole or not at all (``write(handle)`` into a private temporary file, fsynced,
    then renamed), then remove the folder's other files starting with ``prefix`` under ``swap_lock`` (the
    exclusive side of the store's read lock: no running query loses a file it listed)."""
    import uuid

    final = folder / name
    temp = folder / f".{uuid.uuid4().hex}.{prefix.rstrip('-')}.tmp"
    try:
        with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(folder)
    stale = [p for p in folder.iterdir() if p.name != name and p.name.startswith(prefix)]
    if stale:
        with swap_lock:
            for path in stale:
                path.unlink(missing_ok=True)
            fsync_dir(folder)
    return final
