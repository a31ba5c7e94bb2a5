"""Reading back what the local sink stored, and in-memory stand-ins for the sink and the config store (tests only)."""

from __future__ import annotations

from pathlib import Path


def stored_rows(data_dir: Path) -> list[dict]:
    import pyarrow.parquet as pq

    from clickport.layout import events_root

    rows: list[dict] = []
    for path in sorted(events_root(data_dir).rglob("*.parquet")):
        site = path.parent.parent.name.split("=", 1)[1]
        for row in pq.read_table(path).to_pylist():
            rows.append({"site_id": site, **row})
    return sorted(rows, key=lambda r: (r["ts"], r["seq"]))


class ListSink:
    """An event sink that keeps the rows in memory."""

    def __init__(self):
        self.rows = []

    def write(self, site_id, rows):
        self.rows.extend(rows)


class NoConfig:
    """A config store that ignores first-event dates."""

    def note_event_date(self, site_id, day):
        pass
