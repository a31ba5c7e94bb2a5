"""Exactness under real concurrency through the local server, and that no client IP is written anywhere."""

import ipaddress
import json
import logging
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor


from tests.conftest import BROWSER_UA
from tests.support.events import stored_rows


def _post(url, body, key, forwarded=None):
    headers = {"x-api-key": key, "User-Agent": BROWSER_UA, "Content-Type": "application/json"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    request = urllib.request.Request(url + "/api/event", data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_100_parallel_requests_from_one_ip_store_exactly_60(server, runtime, keys):
    barrier = threading.Barrier(20)

    def one(i):
        if i < 20:
            barrier.wait()
        return _post(server, {"url": f"https://example.com/{i}"}, keys["both"], forwarded="203.0.113.77")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, range(100)))
    server.flush()
    accepted = [a for a in answers if a["success"]]
    dropped = [a for a in answers if not a["success"]]
    # NOTE: the minute could roll over mid-test; then both minutes' counts must still be exact.
    minutes = {r["ts"].replace(second=0, microsecond=0) for r in stored_rows(runtime.settings.data_dir)}
    assert len(accepted) == min(100, 60 * len(minutes))
    assert all(d["reason"] == "rate_limited" for d in dropped)
    assert len(stored_rows(runtime.settings.data_dir)) == len(accepted)


def test_concurrent_first_events_of_one_visitor_share_one_session(server, runtime, keys):
    barrier = threading.Barrier(8)

    def one(i):
        barrier.wait()
        return _post(server, {"url": f"https://example.com/p{i}"}, keys["both"], forwarded="203.0.113.88")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(one, range(8)))
    assert len({a["session_id"] for a in answers}) == 1
    server.flush()
    rows = stored_rows(runtime.settings.data_dir)
    assert len({r["session_id"] for r in rows}) == 1 and len(rows) == 8
    assert len({r["visitor_id"] for r in rows}) == 1


DISTINCTIVE = ["203.0.113.201", "198.51.100.173", "2001:db8:abcd:12::beef"]


def _needles(address: str) -> list[bytes]:
    ip = ipaddress.ip_address(address)
    needles = [address.encode(), ip.packed, ip.exploded.encode()]
    if ip.version == 4:
        needles.append(int(ip).to_bytes(4, "little"))
        needles.append(str(int(ip)).encode())
    return needles


def test_no_client_ip_is_written_anywhere(gateway, runtime, site, keys, caplog, monkeypatch, capfd):
    from clickport.adapters.parquet_sink import ParquetEventSink

    caplog.set_level(logging.DEBUG)
    # Uncompressed Parquet, so a stored address would be visible byte for byte.
    runtime.__dict__["sink"] = ParquetEventSink(runtime.settings.data_dir, compression="none")
    runtime.config.update_site(site.site_id, allow_hosts=[])
    for address in DISTINCTIVE:
        headers = {"x-api-key": keys["both"], "User-Agent": BROWSER_UA}
        for url in ("https://example.com/", "https://example.com/next"):
            status, _, body = gateway("POST", "/api/event", body={"url": url}, headers=headers, ip=address)
            assert status == 200 and body["success"], body
        gateway("POST", "/api/event", body={"url": "https://example.com/"},
                headers={**headers, "X-Forwarded-For": address}, ip="192.0.2.1")
        status, _, body = gateway("POST", "/api/track", body={"url": "https://example.com/t", "domain": "example.com"},
                                  headers={"User-Agent": BROWSER_UA}, ip=address)
        assert body["success"], body
        gateway("GET", "/api/realtime", headers={"x-api-key": keys["read"]}, ip=address)

    files = [p for p in runtime.settings.data_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any("sqlite" in p.name for p in files)
    captured = capfd.readouterr()
    logs = "\n".join(r.getMessage() for r in caplog.records) + captured.out + captured.err
    for address in DISTINCTIVE:
        for needle in _needles(address):
            for path in files:
                assert needle not in path.read_bytes(), (address, path)
            assert needle.decode("latin-1") not in logs, address
    # Decode every Parquet column too (dictionary pages, statistics and values alike).
    import pyarrow.parquet as pq

    for path in (p for p in files if p.suffix == ".parquet"):
        table = pq.read_table(path)
        for column in table.column_names:
            text = json.dumps(table.column(column).to_pylist(), default=str)
            assert not any(address in text for address in DISTINCTIVE), (path, column)


def test_salts_older_than_two_days_are_deleted(send, runtime, clock):
    clock.now = clock.now.replace(hour=12)
    send({"url": "https://example.com/"})
    first_day = clock.now.date().isoformat()
    clock.advance(days=1)
    send({"url": "https://example.com/"})
    assert _salt_days(runtime) == {first_day, clock.now.date().isoformat()}
    clock.advance(days=1)
    send({"url": "https://example.com/"})
    assert first_day not in _salt_days(runtime)
    assert len(_salt_days(runtime)) == 2


def _salt_days(runtime) -> set[str]:
    import sqlite3

    from clickport.layout import live_db

    with sqlite3.connect(live_db(runtime.settings.data_dir)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        table = next(t for t in tables if "salt" in t)
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        day_column = next(c for c in columns if c in ("day", "salt_day", "dt"))
        return {r[0] for r in conn.execute(f"SELECT {day_column} FROM {table}")}
