"""The demo's own files (``demo-*.parquet``): never compacted with other events, so ``clickport demo`` can replace
exactly what it wrote; removed all at once for readers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from clickport import layout
from clickport.adapters.parquet_sink import ParquetEventSink, read_lock, remove_event_files

DAY = "2026-03-14"


def _names(data_dir, site_id="site1"):
    return sorted(p.name for p in layout.partition_dir(data_dir, site_id, DAY).glob("*.parquet"))


@pytest.mark.parametrize("today", [DAY, "2026-03-20"], ids=["today's partition", "a closed day"])
def test_compaction_leaves_the_demos_files_alone(tmp_path, noon, make_row, today):
    sink = ParquetEventSink(tmp_path, today=lambda: today)
    demo = ParquetEventSink(tmp_path, file_prefix=layout.DEMO_PREFIX, today=lambda: today)
    for n in range(3):
        sink.write("site1", [make_row(noon + timedelta(seconds=n), path="/real")])
        demo.write("site1", [make_row(noon + timedelta(seconds=n), path="/synthetic")])
    demo_files = [name for name in _names(tmp_path) if name.startswith("demo-")]
    assert len(demo_files) == 3

    assert sink.compact(min_files=2) == 1

    after = _names(tmp_path)
    assert [name for name in after if name.startswith("demo-")] == demo_files
    assert len([name for name in after if not name.startswith("demo-")]) == 1  # the real events, merged
    assert layout.demo_files(tmp_path, "site1") == [layout.partition_dir(tmp_path, "site1", DAY) / n for n in demo_files]


def test_removing_files_waits_for_readers_and_keeps_other_files(tmp_path, noon, make_row):
    sink = ParquetEventSink(tmp_path)
    demo = ParquetEventSink(tmp_path, file_prefix=layout.DEMO_PREFIX)
    sink.write("site1", [make_row(noon, path="/real")])
    demo.write("site1", [make_row(noon, path="/synthetic")])
    demo.write("site2", [make_row(noon, path="/synthetic")])

    removed = []
    with read_lock(tmp_path):
        worker = threading.Thread(target=lambda: removed.append(
            remove_event_files(tmp_path, layout.demo_files(tmp_path, "site1"))))
        worker.start()
        worker.join(0.3)
        assert worker.is_alive() and len(_names(tmp_path)) == 2  # a query in progress sees every file
    worker.join(10)

    assert removed == [1]
    assert len(_names(tmp_path)) == 1 and not _names(tmp_path)[0].startswith("demo-")
    assert len(layout.demo_files(tmp_path, "site2")) == 1  # another site's demo files are not touched
