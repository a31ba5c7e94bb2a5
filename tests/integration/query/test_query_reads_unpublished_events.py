"""The local engine reads events acknowledged but not published yet from the event journal, beside the Parquet
files, so a client reads its own writes without a publish on the query's path: each event counted once, while
writers commit batches and a publisher publishes concurrently."""

from __future__ import annotations

import threading
import time
from datetime import date

from clickport.adapters.duckdb_engine import DuckDbQueryEngine
from clickport.adapters.event_journal import EventJournal, JournalWriter
from clickport.ports import ScanScope

DAY = 1_764_460_800_000  # 2025-11-30T00:00:00Z
SCOPE = {"s_a": ScanScope("s_a", date(2025, 11, 30), date(2025, 11, 30)),
         "s_b": ScanScope("s_b", date(2025, 11, 30), date(2025, 11, 30))}


def _row(n: int, path: str) -> dict:
    return {"ts": DAY + n, "seq": 0, "type": "pageview", "path": path, "session_id": n + 1, "visitor_id": 1}


def _count(engine: DuckDbQueryEngine, site: str) -> int:
    return engine.execute(f"SELECT count(*), count(DISTINCT path) FROM events WHERE site_id = '{site}'",
                          scope=SCOPE[site])[0]


def test_acknowledged_events_are_counted_once_whether_published_or_not(tmp_path):
    engine = DuckDbQueryEngine(tmp_path)
    writer = JournalWriter(tmp_path)
    writer.write("s_a", [_row(0, "/a0")])
    writer.write("s_b", [_row(1, "/b0")])
    assert _count(engine, "s_a") == (1, 1) and _count(engine, "s_b") == (1, 1)
    assert not list(tmp_path.glob("events/**/*.parquet"))  # the query published nothing
    writer.begin()
    writer.write("s_a", [_row(2, "/a1")])
    assert _count(engine, "s_a") == (1, 1)  # appended, not committed: not acknowledged, not counted
    assert writer.commit()
    assert _count(engine, "s_a") == (2, 2)
    assert EventJournal(tmp_path).flush() == 3
    assert _count(engine, "s_a") == (2, 2) and _count(engine, "s_b") == (1, 1)


def test_queries_beside_concurrent_batches_and_publishes_count_each_event_once(tmp_path, monkeypatch):
    from clickport.adapters import duckdb_engine

    def slow_source(self, scope):  # between reading the journal and listing the files: a publish must not run
        time.sleep(0.02)
        return real_source(self, scope)

    real_source = duckdb_engine.DuckDbQueryEngine._source
    monkeypatch.setattr(duckdb_engine.DuckDbQueryEngine, "_source", slow_source)
    engine = DuckDbQueryEngine(tmp_path)
    journal = EventJournal(tmp_path)
    committed = [0]  # events of s_a acknowledged so far (the writer's own count)
    done = threading.Event()
    failures: list[str] = []

    def write() -> None:
        writers = [JournalWriter(tmp_path) for _ in range(2)]
        n = 0
        for batch in range(150):
            writer = writers[batch % 2]
            writer.begin()
            for _ in range(batch % 5 + 1):
                writer.write("s_a", [_row(n, f"/p{n}")])
                writer.write("s_b", [_row(n, f"/q{n}")])
                n += 1
            assert writer.commit()
            committed[0] = n
        done.set()

    def publish() -> None:
        while not done.is_set():
            journal.flush()

    def query() -> None:
        while not done.is_set():
            before = committed[0]
            rows, paths = _count(engine, "s_a")
            after = committed[0]
            if rows != paths or not before <= rows <= after:
                failures.append(f"{rows} rows, {paths} paths; acknowledged {before}..{after}")

    def recorded(step):
        def run() -> None:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - a thread's failure fails the test
                failures.append(repr(exc))
                done.set()
        return run

    threads = [threading.Thread(target=recorded(f)) for f in (write, publish, query)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures[:5]
    assert _count(engine, "s_a") == (committed[0], committed[0]) == _count(engine, "s_b")
    journal.flush()
    assert _count(engine, "s_a") == (committed[0], committed[0])
