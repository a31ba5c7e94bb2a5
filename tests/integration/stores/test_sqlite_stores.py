"""SQLite-only behaviour: real concurrency (threads, connections, processes), file hygiene, restarts."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from clickport.adapters.sqlite_config import SqliteConfigStore
from clickport.adapters.sqlite_live import SqliteLiveStore

SITE = "s_site000001"
T0 = 1_750_000_000_000


@pytest.fixture
def live_path(tmp_path):
    return tmp_path / "nested" / "dir" / "live.sqlite3"


def _run_together(count: int, action):
    """Start ``count`` threads that all call ``action(i)`` at the same moment; their results in order."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return action(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_rate_limit_is_exact_with_100_threads_on_one_store(live_path):
    store = SqliteLiveStore(live_path)
    results = _run_together(100, lambda _: store.hit_rate_limit("hot", 60, int(time.time()) + 120))
    assert results.count(True) == 60
    assert store.rate_count("hot") == 60


def test_rate_limit_is_exact_with_100_threads_each_on_its_own_connection(live_path):
    stores = [SqliteLiveStore(live_path) for _ in range(100)]
    results = _run_together(100, lambda i: stores[i].hit_rate_limit("hot", 60, int(time.time()) + 120))
    assert results.count(True) == 60
    assert stores[0].rate_count("hot") == 60
    for store in stores:
        store.close()


def test_rate_limit_is_exact_across_two_processes(live_path):
    SqliteLiveStore(live_path).close()  # create the schema once
    start_at = time.time() + 1.5  # both processes hit the counter at the same moment
    child = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from clickport.adapters.sqlite_live import SqliteLiveStore
        store = SqliteLiveStore(Path({str(live_path)!r}))
        time.sleep(max(0.0, {start_at} - time.time()))
        print(sum(store.hit_rate_limit("hot", 60, int(time.time()) + 120) for _ in range(50)))
        """
    )
    processes = [subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    allowed = [int(process.communicate(timeout=60)[0]) for process in processes]
    assert sum(allowed) == 60
    assert SqliteLiveStore(live_path).rate_count("hot") == 60


def test_concurrent_first_salts_agree_on_one_winner(live_path):
    store = SqliteLiveStore(live_path)
    winners = _run_together(20, lambda i: store.get_or_create_salt("2025-06-15", bytes([i]) * 32, 2**40))
    assert len(set(winners)) == 1
    assert winners[0] in {bytes([i]) * 32 for i in range(20)}


def test_concurrent_claims_of_one_visitor_end_in_one_session(live_path):
    stores = [SqliteLiveStore(live_path) for _ in range(10)]
    winners = _run_together(
        10, lambda i: stores[i].claim_visitor_session(SITE, 7, 1000 + i, T0, 1_800_000, T0 // 1000 + 86_400)
    )
    assert len(set(winners)) == 1
    assert stores[0].visitor_session(SITE, 7, T0, 1_800_000) == winners[0]


def test_concurrent_events_get_distinct_sequence_numbers(live_path, new_session):
    stores = [SqliteLiveStore(live_path) for _ in range(20)]
    session = new_session(seq=1)
    stores[0].create_session(session)
    updated = _run_together(
        20,
        lambda i: stores[i].record_event(
            SITE, session.session_id, ts_ms=T0 + i, page=None, page_visit_id=None, pageview=True,
            scroll=i, expires_at=T0 // 1000 + 86_400,
        ),
    )
    assert sorted(s.seq for s in updated) == list(range(2, 22))
    final = stores[0].get_session(SITE, session.session_id, T0)
    assert (final.seq, final.pageviews, final.scroll) == (21, 21, 19)


def test_store_files_use_wal_secure_delete_and_a_busy_timeout(live_path):
    store = SqliteLiveStore(live_path)
    assert live_path.exists()
    conn = store._db._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_opening_a_store_twice_keeps_its_data(live_path):
    first = SqliteLiveStore(live_path)
    first.get_or_create_salt("2025-06-15", b"s" * 32, 2**40)
    first.close()
    again = SqliteLiveStore(live_path)
    assert again.get_or_create_salt("2025-06-15", b"t" * 32, 2**40) == b"s" * 32


def test_deleted_salts_leave_no_trace_in_the_files(live_path):
    store = SqliteLiveStore(live_path)
    secret = b"\x8f\x13SALT-THAT-MUST-VANISH\x42\x99" + bytes(range(8))
    store.get_or_create_salt("2025-06-13", secret, 2**40)
    store.get_or_create_salt("2025-06-15", b"k" * 32, 2**40)
    assert secret in _file_bytes(live_path)  # the check below can fail
    assert store.delete_salts_before("2025-06-14") == 1
    assert secret not in _file_bytes(live_path)


def _file_bytes(db_path) -> bytes:
    return b"".join(path.read_bytes() for path in db_path.parent.glob(db_path.name + "*"))


def test_expired_rows_are_purged_from_the_file(live_path, new_session):
    store = SqliteLiveStore(live_path)
    store.hit_rate_limit("old", 60, int(time.time()) - 10)
    store.get_or_create_salt("2000-01-01", b"o" * 32, int(time.time()) - 10)
    store.create_session(new_session(session_id=1, expires_at=T0 // 1000 - 1))
    store.create_session(new_session(session_id=2, expires_at=T0 // 1000 + 60))
    store.claim_visitor_session(SITE, 7, 1, T0 - 10_000, 1_800_000, T0 // 1000 - 1)
    assert store.purge_expired(now_ms=T0) == 4
    assert _row_counts(live_path) == {"rate_counters": 0, "salts": 0, "sessions": 1, "visitors": 0}


def test_writes_purge_expired_rows_now_and_then(live_path, new_session):
    writer = SqliteLiveStore(live_path)
    writer.create_session(new_session(session_id=1, expires_at=T0 // 1000 - 1))
    writer.hit_rate_limit("old", 60, int(time.time()) - 10)
    assert _row_counts(live_path)["rate_counters"] == 1
    store = SqliteLiveStore(live_path)
    store.hit_rate_limit("new", 60, int(time.time()) + 60)  # the first counter write of a store purges
    store.claim_visitor_session(SITE, 7, 2, T0, 1_800_000, T0 // 1000 + 60)  # the first session-clock write purges
    assert _row_counts(live_path) == {"rate_counters": 1, "salts": 0, "sessions": 0, "visitors": 1}


def _row_counts(db_path) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    try:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("rate_counters", "salts", "sessions", "visitors")
        }
    finally:
        conn.close()


def test_config_survives_a_restart(tmp_path):
    path = tmp_path / "config.sqlite3"
    store = SqliteConfigStore(path)
    site = store.create_site("example.com")
    store.note_event_date(site.site_id, date(2025, 1, 2))
    goal = store.create_goal(site.site_id, "Thanks", "pageview", {"path": "/thanks"})
    store.close()
    reopened = SqliteConfigStore(path)
    assert reopened.list_sites() == [store_site := reopened.get_site(site.site_id)]
    assert store_site.first_event_date == date(2025, 1, 2)
    assert reopened.list_goals(site.site_id) == [goal]
    assert reopened.create_goal(site.site_id, "Next", "pageview", {"path": "/next"}).id == 2


def test_concurrent_goal_creation_gives_distinct_ids(tmp_path):
    path = tmp_path / "config.sqlite3"
    site = SqliteConfigStore(path).create_site("example.com")
    stores = [SqliteConfigStore(path) for _ in range(10)]
    goals = _run_together(10, lambda i: stores[i].create_goal(site.site_id, f"g{i}", "pageview", {"path": f"/{i}"}))
    assert sorted(goal.id for goal in goals) == list(range(1, 11))


def _wal_pages(path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


def test_commits_leave_the_log_to_the_publisher_and_checkpoint_log_copies_it(live_path):
    """A commit that fills SQLite's default 1,000-page log would copy it into the file, fsyncs included, while every
    other writer waits. The live store's commits leave that to ``checkpoint_log`` (the local server's publisher calls
    it every 0.5 s), up to a 10,000-page bound."""
    store = SqliteLiveStore(live_path)
    expires = int(time.time()) + 120
    for i in range(2000):  # rows big enough for about 1,500 pages of log
        store.hit_rate_limit(f"{i:04d}" + "k" * 900, 60, expires)
    assert _wal_pages(live_path) > 1200  # no commit checkpointed at 1,000 pages
    before = live_path.stat().st_size
    store.checkpoint_log()
    assert live_path.stat().st_size > before + 1000 * 1024  # the rows are in the database file now
    assert all(store.rate_count(f"{i:04d}" + "k" * 900) == 1 for i in range(0, 2000, 97))
    store.close()


def test_the_publisher_checkpoints_the_live_store_in_the_background(tmp_path):
    from clickport.layout import live_db
    from clickport.local.publisher import _checkpoint_live_store
    from clickport.settings import Settings

    store = SqliteLiveStore(live_db(tmp_path))
    expires = int(time.time()) + 120
    for i in range(500):
        store.hit_rate_limit(f"{i:04d}" + "k" * 900, 60, expires)
    before = live_db(tmp_path).stat().st_size
    stop = _checkpoint_live_store(Settings(data_dir=tmp_path), 0.05)
    try:
        deadline = time.monotonic() + 5
        while live_db(tmp_path).stat().st_size <= before + 300 * 1024 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert live_db(tmp_path).stat().st_size > before + 300 * 1024
        store.hit_rate_limit("after", 60, expires)  # writers go on beside it
    finally:
        stop()
    assert store.rate_count("after") == 1
    store.close()
