"""Closed UTC days compacted into the day layout: every file of the day rewritten, exact rows, atomic swaps,
crash recovery with several output files, idempotent reruns, files added later taken in."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from clickport import layout
from clickport.adapters import compaction, parquet_sink
from clickport.adapters.parquet_sink import ParquetEventSink, read_lock

ALL = "site_id, dt, ts, seq, type, name, path, session_id, visitor_id, scroll, meta_keys, meta_values"
DAY = "2026-03-14"
LATER = "2026-03-20"  # "today" for the sinks below: DAY is closed


def files_in(data_dir: Path, dt: str = DAY) -> list[Path]:
    return sorted(layout.partition_dir(data_dir, "site1", dt).glob("*.parquet"))


@pytest.fixture
def multiset(read_all):
    def rows(data_dir: Path) -> Counter:
        return Counter(tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in read_all(data_dir, ALL))

    return rows


@pytest.fixture
def sink(tmp_path) -> ParquetEventSink:
    return ParquetEventSink(tmp_path, today=lambda: LATER)


def write(sink: ParquetEventSink, make_row, noon, batches: int, size: int = 3, first_seq: int = 0) -> None:
    for b in range(batches):
        # Later batches hold earlier times: the day layout must put them in order.
        sink.write("site1", [make_row(noon - timedelta(seconds=b * 10 + i), seq=first_seq + b * size + i, path=f"/p{i}")
                             for i in range(size)])


def stored_order(path: Path) -> list[tuple]:
    table = pq.read_table(path, columns=["ts", "seq"])
    return list(zip(table.column("ts").to_pylist(), table.column("seq").to_pylist()))


def test_a_closed_day_has_all_its_files_rewritten_into_the_day_layout(tmp_path, sink, noon, make_row, multiset, monkeypatch):
    write(sink, make_row, noon, batches=4)
    sink.write("site1", [make_row(noon, seq=0, path="/p0")] * 2)  # exact duplicates stay, both
    monkeypatch.setattr(parquet_sink, "SMALL_FILE_BYTES", 1)  # every file is "large": a closed day takes them all
    before = multiset(tmp_path)

    assert sink.compact(min_files=1000) == 1  # min_files is about today's small files, not closed days

    files = files_in(tmp_path)
    assert len(files) == 1 and compaction.is_day_file(files[0].name)
    assert multiset(tmp_path) == before and sum(before.values()) == 14
    order = stored_order(files[0])
    assert order == sorted(order)
    metadata = pq.ParquetFile(files[0]).metadata
    ts_column = next(metadata.row_group(0).column(i) for i in range(metadata.num_columns)
                     if metadata.schema.column(i).path == "ts")
    assert "DELTA_BINARY_PACKED" in ts_column.encodings and ts_column.compression == "ZSTD"


def test_rerunning_is_a_no_op_and_files_added_later_are_taken_in(tmp_path, sink, noon, make_row, multiset):
    write(sink, make_row, noon, batches=3)
    assert sink.compact() == 1
    compacted = files_in(tmp_path)
    assert sink.compact() == 0 and sink.compact(site_id="site1", dt=DAY) == 0
    assert files_in(tmp_path) == compacted  # untouched

    write(sink, make_row, noon, batches=1, first_seq=100)  # e.g. an import of that day, later
    before = multiset(tmp_path)
    assert sink.compact() == 1
    files = files_in(tmp_path)
    assert len(files) == 1 and files != compacted and compaction.is_day_file(files[0].name)
    assert multiset(tmp_path) == before and sum(before.values()) == 12
    assert sink.compact() == 0


def test_todays_partition_keeps_the_small_file_merge(tmp_path, noon, make_row, multiset):
    sink = ParquetEventSink(tmp_path, today=lambda: DAY)
    write(sink, make_row, noon, batches=3)
    assert sink.compact(min_files=4) == 0
    assert sink.compact(min_files=3) == 1
    files = files_in(tmp_path)
    assert len(files) == 1 and not compaction.is_day_file(files[0].name)
    # The next day, the merged file is rewritten into the day layout.
    later = ParquetEventSink(tmp_path, today=lambda: "2026-03-15")
    before = multiset(tmp_path)
    assert later.compact() == 1
    assert [compaction.is_day_file(p.name) for p in files_in(tmp_path)] == [True]
    assert multiset(tmp_path) == before


def test_a_big_day_becomes_several_files_of_sized_rows_in_time_order(tmp_path, sink, noon, make_row, multiset, monkeypatch):
    monkeypatch.setattr(compaction, "DAY_FILE_ROWS", 5)
    write(sink, make_row, noon, batches=4, size=3)  # 12 rows: files of 5, 5, 2
    before = multiset(tmp_path)
    assert sink.compact() == 1
    files = files_in(tmp_path)
    assert all(compaction.is_day_file(p.name) for p in files)
    assert sorted(pq.ParquetFile(p).metadata.num_rows for p in files) == [2, 5, 5]
    assert multiset(tmp_path) == before
    # Together the files are the day in order: each file's rows all come before or after another's.
    ranges = sorted((stored_order(p)[0], stored_order(p)[-1]) for p in files)
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))


def test_pending_journal_files_are_left_out_of_a_closed_day(tmp_path, sink, noon, make_row, multiset):
    write(sink, make_row, noon, batches=2)
    pending = layout.partition_dir(tmp_path, "site1", DAY) / layout.journal_file_name("seg1")
    sink.write_named(pending.parent, [parquet_sink.normalized_row(make_row(noon, seq=99))], pending.name)
    layout.journal_dir(tmp_path).mkdir(parents=True, exist_ok=True)
    group = layout.journal_dir(tmp_path) / "seg1.group"
    group.write_text("")
    before = multiset(tmp_path)

    assert sink.compact() == 1
    assert pending.exists() and len(files_in(tmp_path)) == 2
    assert multiset(tmp_path) == before

    group.unlink()  # published: now it joins the day
    assert sink.compact() == 1
    assert not pending.exists() and len(files_in(tmp_path)) == 1
    assert multiset(tmp_path) == before


def _crash_after_renames(monkeypatch, count: int) -> None:
    real_replace = os.replace
    done = [0]

    def replace(src, dst):
        if Path(dst).name.startswith(compaction.DAY_FILE_PREFIX):
            if done[0] == count:
                raise KeyboardInterrupt("power cut")
            done[0] += 1
        real_replace(src, dst)

    monkeypatch.setattr(parquet_sink.os, "replace", replace)


@pytest.mark.parametrize("renamed", [0, 1, 2])
def test_a_swap_of_several_files_cut_short_is_finished_exactly_by_the_next_reader(tmp_path, sink, noon, make_row, multiset, monkeypatch, renamed):
    monkeypatch.setattr(compaction, "DAY_FILE_ROWS", 4)
    write(sink, make_row, noon, batches=4, size=3)  # 12 rows: three output files
    before = multiset(tmp_path)
    originals = files_in(tmp_path)

    _crash_after_renames(monkeypatch, renamed)
    with pytest.raises(KeyboardInterrupt):
        sink.compact()
    monkeypatch.undo()
    assert (tmp_path / "events.compact-journal.json").exists()
    # Without the lock a reader could see the renamed outputs next to the originals ...
    assert len(files_in(tmp_path)) == len(originals) + renamed

    with read_lock(tmp_path):  # ... with it, the swap is finished first
        files = files_in(tmp_path)
        assert len(files) == 3 and all(compaction.is_day_file(p.name) for p in files)
        assert multiset(tmp_path) == before
    assert not (tmp_path / "events.compact-journal.json").exists()
    assert ParquetEventSink(tmp_path, today=lambda: LATER).compact() == 0  # idempotent after recovery
    assert multiset(tmp_path) == before


def test_a_closed_day_swap_cut_before_the_rename_is_finished_by_the_next_compaction(tmp_path, sink, noon, make_row, multiset, monkeypatch):
    write(sink, make_row, noon, batches=3)
    before = multiset(tmp_path)
    monkeypatch.setattr(parquet_sink, "_apply_swap", lambda data_dir, journal: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        sink.compact()
    monkeypatch.undo()
    assert multiset(tmp_path) == before  # outputs still under temporary names

    assert sink.compact() == 0  # recovery finished the swap; nothing left to do
    files = files_in(tmp_path)
    assert len(files) == 1 and compaction.is_day_file(files[0].name)
    assert multiset(tmp_path) == before


def test_readers_never_see_both_or_neither_while_a_closed_day_is_rewritten(tmp_path, noon, make_row, read_all, monkeypatch):
    monkeypatch.setattr(compaction, "DAY_FILE_ROWS", 7)  # several output files per swap
    sink = ParquetEventSink(tmp_path, today=lambda: LATER)
    size, written = 4, [0]
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        for b in range(50):
            sink.write("site1", [make_row(noon - timedelta(seconds=b), seq=b * size + i) for i in range(size)])
            written[0] += size
            time.sleep(0.002)
        stop.set()

    def compactor() -> None:
        try:
            while not stop.is_set():
                sink.compact()
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
    assert read_all(tmp_path, "count(*), count(DISTINCT seq)") == [(200, 200)]
    assert all(compaction.is_day_file(p.name) for p in files_in(tmp_path))
