"""The local server's event journal: per-worker segments, sealing, grouped publishing, and replay after a crash."""

from __future__ import annotations

import threading

import pytest

from clickport.adapters.event_journal import EventJournal, JournalWriter, read_segment
from clickport.adapters.parquet_sink import ParquetEventSink
from clickport.layout import journal_dir
from tests.support.events import stored_rows

DAY_1 = 1_764_460_800_000  # 2025-11-30T00:00:00Z
DAY_2 = DAY_1 + 86_400_000


def _row(ts: int, path: str) -> dict:
    return {"ts": ts, "seq": 0, "type": "pageview", "path": path, "session_id": 1, "visitor_id": 1}


class _Crash(BaseException):
    """Stands for the process dying: nothing in the journal catches it."""


def test_segments_of_several_writers_become_one_file_per_partition(tmp_path):
    writers = [JournalWriter(tmp_path) for _ in range(3)]
    for n, writer in enumerate(writers):
        writer.write("s_a", [_row(DAY_1 + n, f"/a{n}")])
        writer.write("s_b", [_row(DAY_2 + n, f"/b{n}")])
    assert EventJournal(tmp_path).flush() == 6
    files = sorted(p.relative_to(tmp_path).parent.as_posix() for p in (tmp_path / "events").rglob("*.parquet"))
    assert files == ["events/site_id=s_a/dt=2025-11-30", "events/site_id=s_b/dt=2025-12-01"]
    assert sorted(r["path"] for r in stored_rows(tmp_path)) == ["/a0", "/a1", "/a2", "/b0", "/b1", "/b2"]
    assert not list(journal_dir(tmp_path).glob("*.wal")) and not list(journal_dir(tmp_path).glob("*.group"))
    # Writers whose segment was sealed go on in a new one.
    writers[0].write("s_a", [_row(DAY_1 + 9, "/later")])
    assert EventJournal(tmp_path).flush() == 1
    assert len([r for r in stored_rows(tmp_path) if r["path"] == "/later"]) == 1


def _publish_two_days_crashing_after_one_file(tmp_path, monkeypatch) -> None:
    """Journal an event on each of two days, then publish them and die after the first day's file is in place."""
    writer = JournalWriter(tmp_path)
    writer.write("s_a", [_row(DAY_1, "/first-day")])
    writer.write("s_a", [_row(DAY_2, "/second-day")])
    real = ParquetEventSink.write_named
    calls = []

    def crash_after_one_file(self, partition, rows, name):
        if calls:
            raise _Crash()
        calls.append(name)
        return real(self, partition, rows, name)

    monkeypatch.setattr(ParquetEventSink, "write_named", crash_after_one_file)
    with pytest.raises(_Crash):
        EventJournal(tmp_path).flush()
    monkeypatch.setattr(ParquetEventSink, "write_named", real)


def test_a_publish_interrupted_by_a_crash_is_redone_exactly_once(tmp_path, monkeypatch):
    _publish_two_days_crashing_after_one_file(tmp_path, monkeypatch)
    assert [r["path"] for r in stored_rows(tmp_path)] == ["/first-day"]
    # Meanwhile (after the restart) a worker acknowledges more; compaction runs on the half-published day.
    JournalWriter(tmp_path).write("s_a", [_row(DAY_1 + 5, "/after-restart")])
    ParquetEventSink(tmp_path).write("s_a", [_row(DAY_1 + 7, "/imported")])  # a second file on that day
    ParquetEventSink(tmp_path).compact(min_files=2)
    EventJournal(tmp_path).flush()
    paths = sorted(r["path"] for r in stored_rows(tmp_path))
    assert paths == ["/after-restart", "/first-day", "/imported", "/second-day"]


def test_a_torn_last_record_is_ignored_and_the_acknowledged_ones_kept(tmp_path):
    writer = JournalWriter(tmp_path)
    writer.write("s_a", [_row(DAY_1, "/one")])
    writer.write("s_a", [_row(DAY_1 + 1, "/two")])
    segment = writer._path
    with open(segment, "ab") as handle:
        handle.write(b"\x40\x00\x00\x00garbage")  # a record whose fsync never returned
    assert [r["path"] for _, r in read_segment(segment)] == ["/one", "/two"]
    EventJournal(tmp_path).flush()
    assert [r["path"] for r in stored_rows(tmp_path)] == ["/one", "/two"]


def test_sealing_waits_while_a_commit_notes_its_size(tmp_path):
    """A commit notes the durable size under its segment's flock; the seal reads that note under the same lock."""
    import fcntl

    writer = JournalWriter(tmp_path)
    writer.write("s_a", [_row(DAY_1, "/warm")])
    fd = writer._fd
    fcntl.flock(fd, fcntl.LOCK_EX)  # as if the writer were noting its commit
    done = threading.Event()
    flusher = threading.Thread(target=lambda: (EventJournal(tmp_path).flush(), done.set()))
    flusher.start()
    assert not done.wait(0.3)  # the seal waits for the lock
    fcntl.flock(fd, fcntl.LOCK_UN)
    assert done.wait(10)
    flusher.join()
    assert [r["path"] for r in stored_rows(tmp_path)] == ["/warm"]


def test_a_seal_in_the_middle_of_a_batch_publishes_it_once_after_its_commit(tmp_path):
    """Group commit: the seal never waits for a batch; it takes what was committed, and the commit that finds its
    segment sealed writes the batch again into a new one. Every record is published exactly once."""
    writer = JournalWriter(tmp_path)
    writer.write("s_a", [_row(DAY_1, "/committed-before")])
    writer.begin()
    writer.write("s_a", [_row(DAY_1 + 1, "/one")])
    writer.write("s_b", [_row(DAY_2, "/two")])
    journal = EventJournal(tmp_path)
    assert journal.flush() == 1  # mid-batch: only the committed record
    writer.write("s_a", [_row(DAY_1 + 2, "/three")])  # appended to the sealed file, after the seal
    assert writer.commit()
    assert journal.flush() == 3
    writer.write("s_a", [_row(DAY_1 + 3, "/after")])
    assert journal.flush() == 1
    assert sorted(r["path"] for r in stored_rows(tmp_path)) == ["/after", "/committed-before", "/one", "/three",
                                                                 "/two"]


def test_a_failed_commit_cuts_off_the_whole_batch_and_the_writer_goes_on(tmp_path, monkeypatch):
    import os

    writer = JournalWriter(tmp_path)
    writer.write("s_a", [_row(DAY_1, "/before")])  # committed on its own
    writer.begin()
    writer.write("s_a", [_row(DAY_1 + 1, "/in-batch-1")])
    writer.write("s_a", [_row(DAY_1 + 2, "/in-batch-2")])
    real_fdatasync = os.fdatasync
    failing = {writer._fd}

    def fdatasync(fd):  # the commit's
        if fd in failing:
            failing.clear()
            raise OSError(5, "Input/output error")
        return real_fdatasync(fd)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    assert writer.commit() is False
    monkeypatch.setattr(os, "fdatasync", real_fdatasync)
    writer.write("s_a", [_row(DAY_1 + 3, "/after")])
    EventJournal(tmp_path).flush()
    assert [r["path"] for r in stored_rows(tmp_path)] == ["/before", "/after"]


def test_records_of_a_writer_that_died_mid_batch_are_never_published(tmp_path):
    """The server seals at the size the writer last made durable (``.committed``): a worker killed in the middle
    of a batch answered nobody for the records after it, so none of them may be stored."""
    import os

    writer = JournalWriter(tmp_path)
    writer.begin()
    writer.write("s_a", [_row(DAY_1, "/acknowledged")])
    assert writer.commit()
    writer.begin()
    writer.write("s_a", [_row(DAY_1 + 1, "/never-answered")])
    os.close(writer._fd)  # the process dies: its lock goes with it, the appended bytes stay
    journal = EventJournal(tmp_path)
    journal.flush()
    assert [r["path"] for r in stored_rows(tmp_path)] == ["/acknowledged"]
    assert not list(journal_dir(tmp_path).glob("*.committed")) and not list(journal_dir(tmp_path).glob("*.valid"))


def test_after_a_restart_segments_are_published_whole(tmp_path):
    """``.committed`` notes are never fsynced, so a restart (perhaps after a machine crash) does not trust them:
    every durable record of an earlier run is published."""
    writer = JournalWriter(tmp_path)
    writer.write("s_a", [_row(DAY_1, "/one")])
    writer.write("s_a", [_row(DAY_1 + 1, "/two")])
    committed = next(journal_dir(tmp_path).glob("*.committed"))
    committed.write_bytes((0).to_bytes(8, "little"))  # as a note older than the data could be after a crash
    journal = EventJournal(tmp_path, flush_interval=3600).start()
    journal.close()
    assert [r["path"] for r in stored_rows(tmp_path)] == ["/one", "/two"]


def test_a_publisher_taking_over_mid_run_keeps_the_writers_notes(tmp_path):
    """A replacement publisher (``resume``) must not publish a batch in progress: its writer is alive and will
    write the batch again when it commits."""
    writer = JournalWriter(tmp_path)
    writer.write("s_a", [_row(DAY_1, "/committed")])
    writer.begin()
    writer.write("s_a", [_row(DAY_1 + 1, "/in-progress")])
    journal = EventJournal(tmp_path, flush_interval=3600).start(resume=True)
    assert journal.recovered == 1
    assert writer.commit()
    journal.close()
    assert sorted(r["path"] for r in stored_rows(tmp_path)) == ["/committed", "/in-progress"]


# --- reading what is not published yet (a query reads its client's own writes) ------------------------------


def _paths(table) -> list[str]:
    return [] if table is None else sorted(table.column("path").to_pylist())


def test_unpublished_rows_are_what_writers_committed_of_the_site_and_days_asked(tmp_path):
    from datetime import date

    writer, other = JournalWriter(tmp_path), JournalWriter(tmp_path)
    writer.write("s_a", [_row(DAY_1, "/a-day-1")])
    writer.write("s_a", [_row(DAY_2, "/a-day-2")])
    writer.write("s_b", [_row(DAY_1, "/b-day-1")])
    other.begin()
    other.write("s_a", [_row(DAY_1 + 5, "/in-a-batch-not-committed")])
    journal = EventJournal(tmp_path)
    with journal.unpublished("s_a", date(2025, 11, 30), date(2025, 11, 30)) as pairs:
        assert _paths(pairs) == ["/a-day-1"]
    with journal.unpublished() as pairs:
        assert _paths(pairs) == ["/a-day-1", "/a-day-2", "/b-day-1"]
        # Every column as the Parquet files have it, and the partition columns.
        got = sorted(zip(pairs.column("site_id").to_pylist(), pairs.column("dt").to_pylist(),
                         pairs.column("ts").cast("int64").to_pylist(), pairs.column("type").to_pylist()))
        assert got == [("s_a", "2025-11-30", DAY_1, "pageview"), ("s_a", "2025-12-01", DAY_2, "pageview"),
                       ("s_b", "2025-11-30", DAY_1, "pageview")]
    assert other.commit()
    with journal.unpublished("s_a") as pairs:
        assert _paths(pairs) == ["/a-day-1", "/a-day-2", "/in-a-batch-not-committed"]
    # A seal in the middle of a batch: the sealed segment is read up to its note, the batch once committed.
    other.begin()
    other.write("s_a", [_row(DAY_1 + 6, "/second-batch")])
    with journal.unpublished("s_a") as pairs:
        assert "/second-batch" not in _paths(pairs)
    assert journal.flush() == 4
    with journal.unpublished("s_a") as pairs:
        assert pairs is None  # published: only in the files now
    assert other.commit()
    with journal.unpublished("s_a") as pairs:
        assert _paths(pairs) == ["/second-batch"]
    assert journal.flush() == 1
    assert len(stored_rows(tmp_path)) == 5


def test_no_publish_runs_while_a_reader_holds_the_unpublished_rows(tmp_path):
    writer = JournalWriter(tmp_path)
    writer.write("s_a", [_row(DAY_1, "/a")])
    journal = EventJournal(tmp_path)
    published: list[int] = []
    with journal.unpublished("s_a") as pairs:
        flusher = threading.Thread(target=lambda: published.append(EventJournal(tmp_path).flush()))
        flusher.start()
        flusher.join(0.5)
        assert flusher.is_alive() and not stored_rows(tmp_path)  # waits for the reader's turn to end
        assert _paths(pairs) == ["/a"]
    flusher.join(10)
    assert published == [1] and [r["path"] for r in stored_rows(tmp_path)] == ["/a"]


def test_an_interrupted_publish_is_finished_before_the_rows_are_read(tmp_path, monkeypatch):
    _publish_two_days_crashing_after_one_file(tmp_path, monkeypatch)
    # One day is in a file and still in the half-published segment: read as pending, it would count twice.
    with EventJournal(tmp_path).unpublished("s_a") as pairs:
        assert pairs is None
    assert sorted(r["path"] for r in stored_rows(tmp_path)) == ["/first-day", "/second-day"]


def test_the_unpublished_table_equals_what_the_publish_stores(tmp_path):
    """Arrow's JSON reader and the publish (pyarrow from Python rows) agree on every column: nulls, lists, text."""
    from clickport.adapters.event_journal import read_payloads, records_table
    from clickport.schema import arrow_schema

    writer = JournalWriter(tmp_path)
    rich = {**_row(DAY_1 + 7, '/ünïcødé "quoted" \\ path'), "meta_keys": ["plan", "n"], "meta_values": ["pro", "2"],
            "scroll": 55, "engaged_ms": 1200, "revenue_micros": 9_990_000, "revenue_currency": "EUR",
            "country": None, "name": "Signup"}
    writer.write("s_a", [rich, _row(DAY_2, "/two")])  # one record, two rows
    writer.write("s_b", [_row(DAY_1, "/b")])
    [segment] = sorted(journal_dir(tmp_path).glob("*.open"))
    table = records_table(read_payloads(segment))
    assert table.schema.remove_metadata() == arrow_schema().append(table.schema.field("site_id")).append(
        table.schema.field("dt"))
    assert EventJournal(tmp_path).flush() == 3
    stored = {r["path"]: r for r in stored_rows(tmp_path)}
    read = {r["path"]: r for r in table.to_pylist()}
    assert len(read) == 3 and set(read) == set(stored)
    for path, row in read.items():
        assert row == {**stored[path], "dt": row["dt"]}, path
        assert row["dt"] == row["ts"].date().isoformat()
