"""ParquetEventSink writes: layout, types, atomic visibility, options and failures."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from clickport import layout
from clickport.adapters.parquet_sink import ParquetEventSink
from clickport.errors import StoreUnavailable
from clickport.schema import arrow_schema


def parquet_files(data_dir: Path) -> list[Path]:
    return sorted(layout.events_root(data_dir).glob("**/*.parquet"))


def test_written_rows_are_immediately_readable_by_duckdb(tmp_path, make_row, noon, read_all):
    sink = ParquetEventSink(tmp_path)
    sink.write("site1", [make_row(noon, seq=1, path="/a"), make_row(noon + timedelta(seconds=1), seq=2, path="/b")])

    rows = read_all(tmp_path, "site_id, dt, ts, seq, path, meta_keys, meta_values", "seq")

    assert rows == [
        ("site1", "2026-03-14", noon, 1, "/a", ["plan"], ["pro"]),
        ("site1", "2026-03-14", noon + timedelta(seconds=1), 2, "/b", ["plan"], ["pro"]),
    ]


def test_files_carry_the_event_schema(tmp_path, make_row, noon):
    ParquetEventSink(tmp_path).write("site1", [make_row(noon)])

    (path,) = parquet_files(tmp_path)
    assert pq.read_schema(path).remove_metadata().equals(arrow_schema())


def test_events_just_before_and_after_utc_midnight_land_in_their_own_dates(tmp_path, make_row, read_all):
    midnight = datetime(2026, 3, 15, tzinfo=timezone.utc)
    sink = ParquetEventSink(tmp_path)
    sink.write("site1", [make_row(midnight - timedelta(milliseconds=1), seq=1), make_row(midnight, seq=2)])

    assert sorted(read_all(tmp_path, "seq, dt")) == [(1, "2026-03-14"), (2, "2026-03-15")]
    assert [p.parent.name for p in parquet_files(tmp_path)] == ["dt=2026-03-14", "dt=2026-03-15"]


def test_partition_date_is_utc_even_for_datetimes_in_other_zones(tmp_path, make_row, read_all):
    berlin_morning = datetime(2026, 3, 15, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # 23:30 UTC the day before
    ParquetEventSink(tmp_path).write("site1", [make_row(berlin_morning)])

    assert read_all(tmp_path, "dt, ts") == [("2026-03-14", datetime(2026, 3, 14, 23, 30, tzinfo=timezone.utc))]


def test_epoch_milliseconds_and_aware_datetimes_store_the_same_instant(tmp_path, make_row, noon, read_all):
    ms = int(noon.timestamp() * 1000) + 123
    ParquetEventSink(tmp_path).write("site1", [make_row(ms, seq=1), make_row(noon + timedelta(milliseconds=123), seq=2)])

    assert [r[0] for r in read_all(tmp_path, "ts", "seq")] == [noon + timedelta(milliseconds=123)] * 2


def test_naive_datetime_is_rejected(tmp_path, make_row):
    with pytest.raises(ValueError, match="timezone-aware"):
        ParquetEventSink(tmp_path).write("site1", [make_row(datetime(2026, 3, 14, 12))])


def test_unknown_columns_are_rejected_so_nothing_else_reaches_storage(tmp_path, make_row, noon):
    with pytest.raises(ValueError, match="ip"):
        ParquetEventSink(tmp_path).write("site1", [make_row(noon, ip="203.0.113.9")])
    assert parquet_files(tmp_path) == []


def test_missing_columns_are_stored_as_null(tmp_path, noon, read_all):
    ParquetEventSink(tmp_path).write("site1", [{"ts": noon, "seq": 1, "type": "pageview"}])

    assert read_all(tmp_path, "seq, path, meta_keys") == [(1, None, None)]


@pytest.mark.parametrize("site_id", ["../escape", "a/b", ".hidden", "", "x=y"])
def test_unsafe_site_ids_are_rejected(tmp_path, make_row, noon, site_id):
    with pytest.raises(ValueError):
        ParquetEventSink(tmp_path).write(site_id, [make_row(noon)])


def test_each_call_writes_one_file_per_partition(tmp_path, make_row, noon):
    sink = ParquetEventSink(tmp_path)
    sink.write("site1", [make_row(noon), make_row(noon), make_row(noon + timedelta(days=1))])
    sink.write("site1", [make_row(noon)])
    sink.write("site2", [make_row(noon)])

    names = [str(p.relative_to(layout.events_root(tmp_path)).parent) for p in parquet_files(tmp_path)]
    assert sorted(names) == [
        "site_id=site1/dt=2026-03-14",
        "site_id=site1/dt=2026-03-14",
        "site_id=site1/dt=2026-03-15",
        "site_id=site2/dt=2026-03-14",
    ]


def test_an_empty_write_creates_nothing(tmp_path):
    ParquetEventSink(tmp_path).write("site1", [])
    assert parquet_files(tmp_path) == []


def test_uncompressed_mode_writes_plain_column_chunks(tmp_path, make_row, noon, read_all):
    ParquetEventSink(tmp_path, compression="none").write("site1", [make_row(noon, path="/plain-text-marker")])

    (path,) = parquet_files(tmp_path)
    metadata = pq.ParquetFile(path).metadata
    codecs = {metadata.row_group(0).column(i).compression for i in range(metadata.num_columns)}
    assert codecs == {"UNCOMPRESSED"}
    assert b"/plain-text-marker" in path.read_bytes()
    assert read_all(tmp_path, "path") == [("/plain-text-marker",)]


def test_default_mode_compresses_with_zstd(tmp_path, make_row, noon):
    ParquetEventSink(tmp_path).write("site1", [make_row(noon)])

    (path,) = parquet_files(tmp_path)
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_unknown_compression_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="compression"):
        ParquetEventSink(tmp_path, compression="rar")


def test_a_half_written_temporary_file_is_invisible_to_the_glob(tmp_path, make_row, noon, read_all):
    sink = ParquetEventSink(tmp_path)
    sink.write("site1", [make_row(noon)])
    partition = layout.partition_dir(tmp_path, "site1", "2026-03-14")
    (partition / ".0123456789abcdef.parquet.tmp").write_bytes(b"PAR1 not finished")

    assert read_all(tmp_path, "count(*)") == [(1,)]


def test_readers_never_see_incomplete_files_while_a_writer_runs(tmp_path, make_row, noon, read_all):
    sink = ParquetEventSink(tmp_path)
    batch_size, batches = 50, 40
    done = threading.Event()
    written = [0]

    def writer() -> None:
        try:
            for _ in range(batches):
                sink.write("site1", [make_row(noon) for _ in range(batch_size)])
                written[0] += batch_size
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    sink.write("site1", [make_row(noon) for _ in range(batch_size)])  # the glob is never empty
    thread.start()
    seen: list[int] = []
    while not done.is_set():
        before = written[0] + batch_size
        (count,) = read_all(tmp_path, "count(*)")[0]
        assert count % batch_size == 0  # whole files only
        assert count >= before  # nothing already written is missing
        assert not [p for p in partition_listing(tmp_path) if p.endswith(".parquet") and p.startswith(".")]
        seen.append(count)
    thread.join()

    assert seen == sorted(seen)
    assert read_all(tmp_path, "count(*)") == [(batch_size * (batches + 1),)]


def partition_listing(data_dir: Path) -> list[str]:
    return [p.name for p in layout.events_root(data_dir).glob("*/*/*")]


def test_write_failures_raise_store_unavailable(tmp_path, make_row, noon):
    blocked = tmp_path / "data"
    blocked.write_text("a file where the data directory should be")

    with pytest.raises(StoreUnavailable):
        ParquetEventSink(blocked).write("site1", [make_row(noon)])


def test_rows_are_queryable_within_a_second_of_write_returning(tmp_path, make_row, noon, read_all):
    sink = ParquetEventSink(tmp_path)
    sink.write("site1", [make_row(noon)])
    returned = time.monotonic()

    assert read_all(tmp_path, "count(*)") == [(1,)]
    assert time.monotonic() - returned < 1.0
