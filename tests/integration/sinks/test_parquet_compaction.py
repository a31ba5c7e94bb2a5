"""Compaction of small Parquet files: exact rows, the reader lock, crash recovery, several processes."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from clickport import layout
from clickport.adapters import parquet_sink
from clickport.adapters.parquet_sink import ParquetEventSink, read_lock

ALL = "site_id, dt, ts, seq, type, name, path, session_id, visitor_id, scroll, meta_keys, meta_values"


def files_in(data_dir: Path, site_id: str = "site1", dt: str = "2026-03-14") -> list[Path]:
    return sorted(layout.partition_dir(data_dir, site_id, dt).glob("*.parquet"))


@pytest.fixture
def multiset(read_all):
    """Every stored row (all columns), counted."""

    def rows(data_dir: Path) -> Counter:
        return Counter(tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in read_all(data_dir, ALL))

    return rows


@pytest.fixture
def write_batches(make_row):
    """Write ``batches`` calls of ``size`` rows each (one file per call)."""

    def write(sink: ParquetEventSink, noon, batches: int, size: int = 3, site_id: str = "site1") -> None:
        for b in range(batches):
            sink.write(site_id, [make_row(noon + timedelta(seconds=b), seq=b, path=f"/p{i}") for i in range(size)])

    return write


def test_compaction_merges_a_partition_into_one_file_with_the_exact_rows(tmp_path, noon, multiset, write_batches, make_row):
    sink = ParquetEventSink(tmp_path)
    write_batches(sink, noon, batches=6)
    sink.write("site1", [make_row(noon, seq=0, path="/p0")])  # an exact duplicate row must stay twice
    before = multiset(tmp_path)

    assert sink.compact() == 1

    assert len(files_in(tmp_path)) == 1
    assert multiset(tmp_path) == before
    assert sum(before.values()) == 19


TODAY = "2026-03-14"  # the day ``noon`` is in, while still open: its small files are merged


def test_compaction_respects_min_files_and_scope(tmp_path, noon, write_batches):
    sink = ParquetEventSink(tmp_path, today=lambda: TODAY)
    write_batches(sink, noon, batches=4)
    write_batches(sink, noon + timedelta(days=1), batches=2)
    write_batches(sink, noon, batches=4, site_id="site2")

    assert sink.compact(min_files=3) == 2  # the day with two files is left alone
    assert len(files_in(tmp_path, "site1", "2026-03-15")) == 2

    assert sink.compact(site_id="site1", dt="2026-03-15") == 1
    assert [len(files_in(tmp_path, s, d)) for s, d in [("site1", "2026-03-14"), ("site1", "2026-03-15"), ("site2", "2026-03-14")]] == [1, 1, 1]
    assert sink.compact() == 0


def test_compaction_waits_for_running_queries(tmp_path, noon, write_batches):
    sink = ParquetEventSink(tmp_path)
    write_batches(sink, noon, batches=3)
    originals = files_in(tmp_path)
    finished = threading.Event()

    with read_lock(tmp_path):
        thread = threading.Thread(target=lambda: (sink.compact(), finished.set()))
        thread.start()
        time.sleep(0.5)
        assert not finished.is_set()
        assert files_in(tmp_path) == originals  # the query still sees exactly the originals
    thread.join(timeout=10)

    assert finished.is_set() and len(files_in(tmp_path)) == 1


def test_readers_under_read_lock_never_see_duplicates_or_missing_rows(tmp_path, noon, make_row, read_all):
    sink = ParquetEventSink(tmp_path)
    size = 4
    written = [0]
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        for b in range(60):
            sink.write("site1", [make_row(noon, seq=b * size + i) for i in range(size)])
            written[0] += size
            time.sleep(0.002)
        stop.set()

    def compactor() -> None:
        try:
            while not stop.is_set():
                sink.compact(min_files=2)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer), threading.Thread(target=compactor)]
    for thread in threads:
        thread.start()
    checks = 0
    while not stop.is_set() or checks < 5:
        at_least = written[0]
        with read_lock(tmp_path):
            rows = read_all(tmp_path, "count(*), count(DISTINCT seq)") if files_in(tmp_path) else [(0, 0)]
        at_most = written[0]
        total, distinct = rows[0]
        assert total == distinct, "a row was seen twice"
        assert at_least <= total <= at_most, "a row was missing"
        checks += 1
    for thread in threads:
        thread.join()

    assert not errors
    sink.compact()
    assert read_all(tmp_path, "count(*), count(DISTINCT seq)") == [(240, 240)]


WRITER_PROCESS = """
import sys
from pathlib import Path
from clickport.adapters.parquet_sink import ParquetEventSink

sink = ParquetEventSink(Path(sys.argv[1]))
first, batches = int(sys.argv[2]), int(sys.argv[3])
noon_ms = 1773489600000  # 2026-03-14T12:00:00Z
for b in range(batches):
    sink.write("site1", [{"ts": noon_ms, "seq": first + b, "type": "pageview"}])
"""


def test_other_processes_can_write_while_this_one_compacts(tmp_path, read_all):
    sink = ParquetEventSink(tmp_path)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER_PROCESS, str(tmp_path), str(n * 1000), "40"]) for n in range(2)
    ]
    while any(process.poll() is None for process in writers):
        sink.compact(min_files=2)
    assert [process.wait() for process in writers] == [0, 0]
    sink.compact()

    assert len(files_in(tmp_path)) == 1
    assert read_all(tmp_path, "count(*), count(DISTINCT seq), min(dt), max(dt)") == [(80, 80, "2026-03-14", "2026-03-14")]


def test_two_sinks_compacting_the_same_directory_do_not_double_rows(tmp_path, noon, write_batches, read_all):
    write_batches(ParquetEventSink(tmp_path), noon, batches=20, size=1)
    sinks = [ParquetEventSink(tmp_path), ParquetEventSink(tmp_path)]
    threads = [threading.Thread(target=s.compact) for s in sinks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(files_in(tmp_path)) == 1
    assert read_all(tmp_path, "count(*)") == [(20,)]


def test_a_swap_interrupted_before_the_rename_is_finished_by_the_next_reader(tmp_path, noon, monkeypatch, multiset, write_batches):
    sink = ParquetEventSink(tmp_path)
    write_batches(sink, noon, batches=3)
    before = multiset(tmp_path)

    def crash(data_dir, journal):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(parquet_sink, "_apply_swap", crash)
    with pytest.raises(KeyboardInterrupt):
        sink.compact()
    monkeypatch.undo()
    assert (tmp_path / "events.compact-journal.json").exists()
    assert multiset(tmp_path) == before  # the merged file is still under its temporary name

    with read_lock(tmp_path):
        assert len(files_in(tmp_path)) == 1
        assert multiset(tmp_path) == before
    assert not (tmp_path / "events.compact-journal.json").exists()
    assert not list(layout.partition_dir(tmp_path, "site1", "2026-03-14").glob(".*"))


def test_a_swap_interrupted_after_the_rename_has_its_originals_removed_by_the_next_reader(tmp_path, noon, monkeypatch, multiset, write_batches):
    sink = ParquetEventSink(tmp_path)
    write_batches(sink, noon, batches=3)
    before = multiset(tmp_path)
    real_unlink = Path.unlink
    originals = set(files_in(tmp_path))

    def unlink_then_crash(self, missing_ok=False):
        if self in originals:
            real_unlink(self, missing_ok=missing_ok)
            raise KeyboardInterrupt("power cut")
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink_then_crash)
    with pytest.raises(KeyboardInterrupt):
        sink.compact()
    monkeypatch.undo()
    assert len(files_in(tmp_path)) == 3  # merged file plus two originals left behind

    with read_lock(tmp_path):
        assert multiset(tmp_path) == before
    assert len(files_in(tmp_path)) == 1


def test_a_reader_leaves_the_journal_of_a_live_compaction_alone(tmp_path, noon, write_batches):
    sink = ParquetEventSink(tmp_path)
    write_batches(sink, noon, batches=2)
    journal = tmp_path / "events.compact-journal.json"
    originals = [p.name for p in files_in(tmp_path)]
    temp = layout.partition_dir(tmp_path, "site1", "2026-03-14") / ".inflight.parquet.tmp"
    temp.write_bytes(b"merged data still being swapped in")
    journal.write_text(json.dumps({"partition": "events/site_id=site1/dt=2026-03-14", "temp": temp.name,
                                   "merged": "merged.parquet", "originals": originals}))
    fd = os.open(tmp_path / "events.compact.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a compaction in progress
        with read_lock(tmp_path):
            assert temp.exists() and journal.exists()
            assert [p.name for p in files_in(tmp_path)] == originals
    finally:
        os.close(fd)


def test_stale_temporary_files_are_cleaned_and_fresh_ones_kept(tmp_path, noon, write_batches):
    sink = ParquetEventSink(tmp_path)
    write_batches(sink, noon, batches=1)
    partition = layout.partition_dir(tmp_path, "site1", "2026-03-14")
    stale, fresh = partition / ".stale.parquet.tmp", partition / ".fresh.parquet.tmp"
    for temp in (stale, fresh):
        temp.write_bytes(b"partial")
    old = time.time() - parquet_sink.STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))

    sink.compact()

    assert not stale.exists() and fresh.exists()


def test_background_compaction_merges_partitions_over_the_threshold_and_stops(tmp_path, noon, write_batches, read_all):
    sink = ParquetEventSink(tmp_path, compact_after=3, today=lambda: TODAY)
    write_batches(sink, noon, batches=5)
    write_batches(sink, noon + timedelta(days=1), batches=3)
    stop = sink.start_background_compaction(interval_s=0.05)
    try:
        deadline = time.monotonic() + 10
        while len(files_in(tmp_path)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()

    assert len(files_in(tmp_path)) == 1
    assert len(files_in(tmp_path, dt="2026-03-15")) == 3  # not more than compact_after
    assert not [t for t in threading.enumerate() if t.name == "parquet-compaction"]
    assert read_all(tmp_path, "count(*)") == [(24,)]


def test_the_servers_compaction_entry_point_compacts_the_data_directory(tmp_path, noon, write_batches, read_all):
    write_batches(ParquetEventSink(tmp_path), noon, batches=4)
    stop = parquet_sink.start_background_compaction(tmp_path, interval_s=0.05, compact_after=2)
    try:
        deadline = time.monotonic() + 10
        while len(files_in(tmp_path)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()

    assert len(files_in(tmp_path)) == 1
    assert read_all(tmp_path, "count(*)") == [(12,)]


def test_todays_newest_files_are_merged_often_in_their_own_tier(tmp_path, noon, write_batches, make_row, multiset,
                                                                monkeypatch):
    """A burst publishes ~2 files a second: today's files under the fresh tier are merged every few seconds, once
    there are FRESH_MERGE_FILES of them, and a larger file of the day is not rewritten each time."""
    monkeypatch.setattr(parquet_sink, "FRESH_TIER_BYTES", 20_000)
    sink = ParquetEventSink(tmp_path, compact_after=50, today=lambda: TODAY)
    sink.write("site1", [make_row(noon, seq=n, path=f"/big/{n}-" + "x" * 40) for n in range(3000)])
    big = files_in(tmp_path)
    assert big[0].stat().st_size > 20_000
    write_batches(sink, noon, batches=parquet_sink.FRESH_MERGE_FILES - 1)
    write_batches(sink, noon + timedelta(days=1), batches=5, site_id="site1")  # not today: left to the full pass
    before = multiset(tmp_path)
    stop = sink.start_background_compaction(interval_s=3600, fresh_interval_s=0.05)
    try:
        time.sleep(0.5)
        assert len(files_in(tmp_path)) == 1 + parquet_sink.FRESH_MERGE_FILES - 1  # under the threshold: left
        write_batches(sink, noon, batches=1)
        deadline = time.monotonic() + 10
        while len(files_in(tmp_path)) > 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()
    files = files_in(tmp_path)
    assert len(files) == 2 and big[0] in files  # the small ones merged into one; the big one kept as it was
    assert len(files_in(tmp_path, dt="2026-03-15")) == 5
    assert sum(multiset(tmp_path).values()) == sum(before.values()) + 3
