"""The local server as a runtime: transport errors as JSON, bounded resources, failures answered honestly,
crashes that lose nothing acknowledged, a private data directory, and no client address in any log."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import BROWSER_UA, TEST_FUNCTIONS
from tests.support.events import stored_rows
from tests.support.processes import clickport_executable, free_port

CLIENT = "127.23.45.67"  # a distinctive client address: it must never appear in a log


@pytest.fixture
def start_server(runtime):
    """Start a local server with chosen limits and pools; stopped at the end of the test."""
    from clickport.local.server import start_in_thread
    from clickport.local.workers import FunctionConfig

    started = []

    def start(limits=None, functions=None):
        pools = {name: FunctionConfig(*config) for name, config in TEST_FUNCTIONS.items()}
        pools.update(functions or {})
        instance, _ = start_in_thread("127.0.0.1", 0, functions=pools, limits=limits)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.shutdown()
        instance.server_close()


def _raw(port: int, data: bytes, *, source: str = CLIENT, wait: float = 10.0) -> tuple[int, dict, dict]:
    """Send raw bytes, read the answer until the server closes; status, headers and JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait, source_address=(source, 0)) as sock:
        sock.sendall(data)
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer:
                head, _, rest = answer.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), None)
                if length is not None and len(rest) >= length:
                    break
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body)


def _post_event(port: int, key: str, url: str, *, source: str = CLIENT) -> tuple[int, dict]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        connection.request("POST", "/api/event", json.dumps({"url": url}),
                           {"x-api-key": key, "User-Agent": BROWSER_UA, "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _port(server) -> int:
    return server.server_address[1]


# --- transport ------------------------------------------------------------------------------------------


MALFORMED = [
    ("garbage request line", b"GARBAGE\r\n\r\n", 400),
    ("HTTP/2.0 request line", b"GET /api/realtime HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("long target", b"GET /api/realtime?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("huge headers", b"GET /api/realtime HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n", 431),
    ("bad Content-Length", b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400),
    ("two Content-Lengths", b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400),
    ("body over the gateway limit", b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n", 413),
    ("broken chunked framing", b"POST /api/event HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
]


def test_every_transport_error_is_a_json_envelope_and_no_log_line_has_the_address(
        start_server, keys, caplog, capfd):
    import logging

    caplog.set_level(logging.DEBUG)
    server = start_server()
    port = _port(server)
    for name, data, expected in MALFORMED:
        status, headers, body = _raw(port, data)
        assert status == expected, name
        assert headers["content-type"] == "application/json", name
        assert set(body) == {"error", "message"} and body["message"], name
    # A client that goes away early: no answer to give, nothing to log.
    with socket.create_connection(("127.0.0.1", port), source_address=(CLIENT, 0)) as sock:
        sock.sendall(b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    status, body = _post_event(port, keys["both"], "https://example.com/after-errors")
    assert status == 200 and body["success"], body
    time.sleep(0.3)
    captured = capfd.readouterr()
    logs = "\n".join(r.getMessage() for r in caplog.records) + captured.out + captured.err
    assert "POST /api/event 200" in logs  # the access log is there…
    assert CLIENT not in logs  # …without the address


def test_a_stalled_request_is_answered_408_and_holds_no_thread(start_server):
    from clickport.local.server import TransportLimits

    server = start_server(limits=TransportLimits(read_timeout=0.5, request_timeout=1.0))
    port = _port(server)
    threads_before = threading.active_count()
    stalled = []
    for _ in range(200):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"POST /api/event HTTP/1.1\r\nHost: x\r\n")  # headers never end
        stalled.append(sock)
    time.sleep(0.3)
    assert threading.active_count() - threads_before < 5  # connections are not threads
    answers = []
    for sock in stalled:
        with sock:
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
            answers.append(data)
    assert all(a.startswith(b"HTTP/1.1 408 ") and a.endswith(b'"message":"The request did not arrive in time"}')
               for a in answers)


def test_chunked_bodies_are_read(start_server, keys):
    server = start_server()
    body = json.dumps({"url": "https://example.com/chunked"}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]) if part) + b"0\r\n\r\n"
    request = (b"POST /api/event HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
               b"x-api-key: " + keys["both"].encode() + b"\r\nUser-Agent: " + BROWSER_UA.encode() + b"\r\n\r\n" + chunks)
    status, _, answer = _raw(_port(server), request)
    assert status == 200 and answer["success"], answer
    server.flush()
    assert [r["path"] for r in stored_rows(server.settings.data_dir)] == ["/chunked"]


def test_too_many_connections_are_answered_503_with_retry_after(start_server):
    from clickport.local.server import TransportLimits

    server = start_server(limits=TransportLimits(max_connections=2))
    port = _port(server)
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    try:
        time.sleep(0.2)
        status, headers, body = _raw(port, b"GET /api/realtime HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (status, body["error"], headers["retry-after"]) == (503, "Service Unavailable", "1")
    finally:
        for sock in held:
            sock.close()


def test_a_function_without_a_free_worker_answers_503_with_retry_after(start_server, keys):
    from clickport.local.server import TransportLimits
    from clickport.local.workers import FunctionConfig

    server = start_server(limits=TransportLimits(worker_wait=0.2), functions={"realtime": FunctionConfig(0, 5.0)})
    request = urllib.request.Request(f"http://127.0.0.1:{_port(server)}/api/realtime", headers={"x-api-key": keys["read"]})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 503 and raised.value.headers["Retry-After"] == "1"
    assert json.loads(raised.value.read())["error"] == "Service Unavailable"


def test_a_crashed_worker_answers_500_json_and_is_replaced(start_server, keys):
    server = start_server()
    port = _port(server)
    assert _post_event(port, keys["both"], "https://example.com/warm")[0] == 200
    for worker in list(server.pools["event"]._all):
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
    answers = [_post_event(port, keys["both"], f"https://example.com/after-crash-{i}") for i in range(8)]
    failed = [a for a in answers if a[0] != 200]
    assert all(status == 500 and body["error"] == "Internal Server Error" and "request id" in body["message"]
               for status, body in failed)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, body = _post_event(port, keys["both"], "https://example.com/recovered")
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200 and body["success"]


# --- failures -----------------------------------------------------------------------------------------


def test_the_journal_refuses_a_write_the_disk_cannot_take_and_keeps_what_was_acknowledged(tmp_path, monkeypatch):
    """A worker's journal segment on a device that is always full: 503 material, and nothing half-written."""
    from clickport.adapters.event_journal import EventJournal, JournalWriter, read_segment
    from clickport.errors import StoreUnavailable

    writer = JournalWriter(tmp_path)
    row = {"ts": 1_764_500_000_000, "type": "pageview", "path": "/kept"}
    writer.write("s_site", [row])
    segment = writer._path
    good_size = segment.stat().st_size
    real_write = os.write

    def disk_full(fd, data):
        if fd == writer._fd:
            real_write(fd, bytes(data[:7]))  # a torn write, as when the disk fills mid-record
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(StoreUnavailable):
        writer.write("s_site", [{**row, "path": "/refused"}])
    monkeypatch.setattr(os, "write", real_write)
    assert segment.stat().st_size == good_size  # the torn record was cut off again
    writer.write("s_site", [{**row, "path": "/after"}])
    assert [r["path"] for _, r in read_segment(segment)] == ["/kept", "/after"]
    EventJournal(tmp_path).flush()
    assert [r["path"] for r in stored_rows(tmp_path)] == ["/kept", "/after"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI runs as root)")
def test_a_full_filesystem_answers_503_and_a_retry_stores_once(tmp_path, keys, runtime):
    """The whole data directory on a tiny tmpfs that is then filled to the last byte."""
    from clickport.local.server import LocalServer
    from clickport.local.workers import FunctionConfig

    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    try:
        settings = runtime.settings.model_copy(update={"data_dir": mount / "data"})
        from clickport.domain.keys import issue_key
        from clickport.runtime import Runtime

        local = Runtime(settings)
        site = local.config.create_site("example.com")
        key, _ = issue_key(local.config, site.site_id, ["read", "tracker"])
        functions = {name: FunctionConfig(*config) for name, config in TEST_FUNCTIONS.items()}
        server = LocalServer(settings, "127.0.0.1", 0, functions=functions).start()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = _port(server)
        try:
            assert _post_event(port, key, "https://example.com/before")[0] == 200
            server.flush()
            filler = mount / "filler"
            with open(filler, "wb") as handle:
                try:
                    while True:
                        handle.write(b"\0" * 65536)
                        handle.flush()
                except OSError:
                    pass
            # A write may still find a page that another one just gave back (the live store reuses its log's
            # space): every answer must tell the truth, and the disk refuses within a few events.
            accepted, refused = [], None
            for n in range(50):
                status, body = _post_event(port, key, f"https://example.com/full-{n}")
                if status == 503:
                    assert body["error"] == "Service Unavailable", body
                    refused = f"/full-{n}"
                    break
                assert status == 200 and body["success"], body
                accepted.append(f"/full-{n}")
            assert refused is not None and len(accepted) < 10, accepted
            filler.unlink()
            status, body = _post_event(port, key, "https://example.com" + refused)  # the client's retry
            assert status == 200 and body["success"], body

        finally:
            server.shutdown()
            server.server_close()
        paths = sorted(r["path"] for r in stored_rows(settings.data_dir))
        assert paths == sorted(["/before", *accepted, refused])  # each acknowledged event once, the refused one once
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)  # the test's own stores may still hold files


# --- the data directory ---------------------------------------------------------------------------------


def test_the_data_directory_is_private_whatever_the_umask(tmp_path):
    from clickport.domain.keys import issue_key
    from clickport.local.server import LocalServer
    from clickport.local.workers import FunctionConfig
    from clickport.runtime import Runtime, set_runtime
    from clickport.settings import Settings

    data = tmp_path / "data"
    (data / "events").mkdir(parents=True, mode=0o755)
    (data / "old-readable.json").write_text("{}")
    os.chmod(data, 0o755)
    os.chmod(data / "old-readable.json", 0o644)
    previous = os.umask(0)
    try:
        runtime = Runtime(Settings(data_dir=data, key_cache_seconds=0))
        set_runtime(runtime)
        site = runtime.config.create_site("example.com")
        key, _ = issue_key(runtime.config, site.site_id, ["read", "tracker"])
        functions = {name: FunctionConfig(*config) for name, config in TEST_FUNCTIONS.items()}
        server = LocalServer(runtime.settings, "127.0.0.1", 0, functions=functions).start()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            assert _post_event(_port(server), key, "https://example.com/")[0] == 200
        finally:
            server.shutdown()
            server.server_close()
    finally:
        os.umask(previous)
        set_runtime(None)
    entries = [data, *data.rglob("*")]
    assert any(p.suffix == ".parquet" for p in entries) and any("sqlite" in p.name for p in entries)
    for path in entries:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


# --- crash safety ---------------------------------------------------------------------------------------


def _serve(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "CLICKPORT_DATA_DIR": str(data_dir), "CLICKPORT_PORT": str(port),
           "CLICKPORT_KEY_CACHE_SECONDS": "0"}
    process = subprocess.Popen([clickport_executable(), "serve"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2).read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("clickport serve did not start")




def test_kill_9_during_a_burst_loses_no_acknowledged_event(tmp_path):
    from clickport.domain.keys import issue_key
    from clickport.runtime import Runtime
    from clickport.settings import Settings

    data = tmp_path / "data"
    runtime = Runtime(Settings(data_dir=data))
    site = runtime.config.create_site("example.com")
    key, _ = issue_key(runtime.config, site.site_id, ["read", "tracker"])
    port = free_port()
    server = _serve(data, port)
    acknowledged: set[str] = set()
    sent: set[str] = set()
    stop = threading.Event()

    def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            url = f"https://example.com/c{n}/e{i}"
            sent.add(url)
            try:
                status, body = _post_event(port, key, url, source=f"127.77.{n}.{i % 250 + 1}")
            except OSError:
                return  # the server died under us
            if status == 200 and body.get("success"):
                acknowledged.add(url)
            i += 1

    with ThreadPoolExecutor(max_workers=16) as pool:
        for n in range(16):
            pool.submit(client, n)
        deadline = time.monotonic() + 120
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)  # mid-burst: the clients are still sending
        server.wait()
        time.sleep(0.5)
        stop.set()
    assert len(acknowledged) >= 300
    restarted = _serve(data, port)  # publishes what the journal holds
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(timeout=60) == 0
    urls = [f"https://example.com{r['path']}" for r in stored_rows(data)]
    assert len(urls) == len(set(urls)), "an event was stored twice"
    assert acknowledged <= set(urls), f"{len(acknowledged - set(urls))} acknowledged events were lost"
    assert set(urls) <= sent


def test_a_dead_journal_publisher_is_replaced_and_nothing_is_lost_or_doubled(start_server, keys):
    server = start_server()
    port = _port(server)
    first = server.publisher._process.pid
    assert _post_event(port, keys["both"], "https://example.com/before")[0] == 200
    os.kill(first, signal.SIGKILL)
    assert _post_event(port, keys["both"], "https://example.com/meanwhile")[0] == 200  # journaled all the same
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (server.publisher.alive() and server.publisher._process.pid != first):
        time.sleep(0.1)
    assert server.publisher.alive() and server.publisher._process.pid != first
    assert _post_event(port, keys["both"], "https://example.com/after")[0] == 200
    deadline = time.monotonic() + 20  # published by the new publisher's own rounds, no query asked
    while time.monotonic() < deadline and len(stored_rows(server.settings.data_dir)) < 3:
        time.sleep(0.2)
    assert sorted(r["path"] for r in stored_rows(server.settings.data_dir)) == ["/after", "/before", "/meanwhile"]
