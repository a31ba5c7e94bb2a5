"""Sustained-burst benchmark of the local server (`clickport serve`), black-box: HTTP API and CLI only.

What it does, on a fresh data directory:

1. ``clickport demo --json`` creates the demo site (30 days of traffic) and a key; ``clickport serve``
   starts on a free port.
2. Idle: the 30-day query (``POST /api/query``, period ``30d``) runs once to warm up, then 5 times; the
   median is the idle time before the burst. The same 5 runs right after the burst give the idle time on
   the same data (the demo's events and the burst's), which the target compares against: a 60 s burst adds
   several times the demo's 30 days of events, so the runs before it read far fewer rows.
3. Burst: client processes × clients (default 2 × 16 = 32 concurrent clients) send ``POST /api/event``
   as fast as the server answers, for ``--duration`` seconds, over keep-alive HTTP/1.1 connections,
   each connection bound to its own loopback source address 127.x.y.z (one client IP per address).
   ``--ips`` addresses share the traffic (enough that the 60/min/IP limit lets the target rate through);
   ``--hot-ips`` addresses additionally get ``--hot-share`` of the requests, far over 60/min, so the rate
   limiter is exercised and its exactness can be checked. Meanwhile, every second, the ``*.parquet``
   files of each partition directory are counted, and every ``--query-every`` seconds the 30-day query
   runs.
4. The server is stopped (SIGTERM) and the stored Parquet files are read directly. Each event's URL path
   is ``/b/<address index>/<sequence>``, so a stored row maps back to the client address that sent it,
   and its ``session_id``/``page_visit_id`` must be the ones the answer returned. Checked: every
   acknowledged event is stored exactly once with its answer's ids; no dropped event is stored; per
   address and UTC minute at most 60 stored, and a ``rate_limited`` answer only in a minute whose 60 were
   spent.

Prints a markdown table (``--json``: one JSON object instead). Exit status 1 when a correctness check
fails (lost, duplicated, mismatched or wrongly dropped events; the server died); with ``--strict`` also
when a performance target is missed.

Run: ``.venv/bin/python bench/burst_bench.py [--duration 60]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.support.processes import clickport_executable, free_port  # noqa: E402

TARGETS = {
    "events_per_s": 1500.0,  # acknowledged, sustained over the whole burst
    "p99_ms": 250.0,
    "files_per_partition": 64,  # the most *.parquet files seen in one partition directory at any sample
    "query_ratio": 2.0,  # 30-day query median during the burst / idle on the same data (right after the burst)
}
QUERY_30D = {"metrics": ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration"], "period": "30d"}
RATE_LIMIT = 60  # per (site, client IP, UTC minute), spec §5.2

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
    "Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
]


# --- helpers --------------------------------------------------------------------------------------




def address(index: int) -> str:
    """The index-th client address: 127.b.c.d with b from 200 up (never 127.0.x.x, never .0/.255)."""
    b, rest = divmod(index, 250 * 256)
    c, d = divmod(rest, 250)
    if b > 54:
        raise ValueError("too many client addresses")
    return f"127.{200 + b}.{c}.{d + 2}"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its living descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = defaultdict(list)
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(entry))
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        total += cpu.get(current, 0.0)
        stack.extend(children.get(current, []))
    return total


class Server:
    """`clickport` commands and one `clickport serve` on a data directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.port = free_port()
        self.env = {**os.environ, "CLICKPORT_DATA_DIR": str(self.data_dir), "CLICKPORT_PORT": str(self.port)}
        self.env.pop("CLICKPORT_BACKEND", None)
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, timeout: float = 600) -> Any:
        done = subprocess.run([clickport_executable(), *args, "--json"], env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"clickport {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return json.loads(done.stdout)

    def start(self, timeout: float = 120) -> None:
        with open(self.workdir / "serve.stdout", "wb") as out, open(self.workdir / "serve.stderr", "wb") as err:
            self.process = subprocess.Popen([clickport_executable(), "serve"], env=self.env, stdout=out, stderr=err,
                                            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"clickport serve exited ({self.process.returncode}): {self.log_tail()}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/openapi.json", timeout=5).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"clickport serve did not answer within {timeout:.0f}s: {self.log_tail()}")

    def stop(self, timeout: float = 300) -> tuple[int | None, float]:
        """SIGTERM and wait; returns (exit status, seconds it took). Killed (status None) past the timeout."""
        assert self.process is not None
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
                return None, time.monotonic() - started
        return self.process.returncode, time.monotonic() - started

    def log_tail(self, limit: int = 3000) -> str:
        parts = []
        for name in ("serve.stdout", "serve.stderr"):
            path = self.workdir / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-limit:])
        return "\n".join(parts)

    def partition_file_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        root = self.data_dir / "events"
        try:
            sites = list(root.iterdir())
        except OSError:
            return counts
        for site in sites:
            try:
                days = list(site.iterdir())
            except OSError:
                continue
            for day in days:
                try:
                    counts[f"{site.name}/{day.name}"] = sum(1 for n in os.listdir(day) if n.endswith(".parquet")
                                                            and not n.startswith("."))
                except OSError:
                    continue
        return counts


def post_json(conn: http.client.HTTPConnection, path: str, key: str, body: Any, user_agent: str
              ) -> tuple[int, Any, dict[str, str]]:
    data = json.dumps(body).encode()
    conn.request("POST", path, body=data, headers={"x-api-key": key, "User-Agent": user_agent,
                                                   "Content-Type": "application/json"})
    answer = conn.getresponse()
    raw = answer.read()
    headers = {name.lower(): value for name, value in answer.getheaders()}
    try:
        return answer.status, json.loads(raw), headers
    except ValueError:
        return answer.status, None, headers


def timed_query(port: int, key: str) -> tuple[float, int, float]:
    """One 30-day query on a fresh connection: (seconds, status, milliseconds inside the query handler by its
    Server-Timing header; the rest is the hand-over to a worker and HTTP)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        started = time.perf_counter()
        status, _, headers = post_json(conn, "/api/query", key, QUERY_30D, USER_AGENTS[0])
        seconds = time.perf_counter() - started
        parts = {part.split(";", 1)[0].strip(): float(part.split("dur=", 1)[1])
                 for part in headers.get("server-timing", "").split(",") if "dur=" in part}
        if os.environ.get("BURST_BENCH_TIMINGS"):
            print(f"query {seconds * 1000:.1f} ms: {parts}", file=sys.stderr)
        return seconds, status, sum(parts.values())
    except (OSError, http.client.HTTPException):
        return float("nan"), 0, float("nan")
    finally:
        conn.close()


# --- the client processes -------------------------------------------------------------------------


def client_process(number: int, options: dict[str, Any], out_path: str) -> None:
    """One client process: ``options["per_process"]`` concurrent clients on one event loop (raw HTTP/1.1 over
    keep-alive connections: the load generator shares the server's cores, so it spends as little CPU per
    request as it can); writes its records as JSON to ``out_path``."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - the dev venv has it
        uvloop = None
    cpu_before = time.process_time()
    per_client: list[list[list[Any]]] = [[] for _ in range(options["per_process"])]

    async def main() -> None:
        await asyncio.gather(*(client(number * options["per_process"] + t, options, per_client[t])
                               for t in range(options["per_process"])))

    if uvloop is not None:
        uvloop.run(main())
    else:
        asyncio.run(main())
    result = {"records": [r for records in per_client for r in records], "cpu_s": time.process_time() - cpu_before}
    with open(out_path, "w") as handle:
        json.dump(result, handle)


async def client(global_client: int, options: dict[str, Any], records: list[list[Any]]) -> None:
    """Send events until the end time, one at a time. Record per request:
    [address index, path, sent (epoch s), answered (epoch s), latency s, outcome, session_id, page_visit_id]
    where outcome is "ok", a drop reason, "http <status>" or "transport <error>"."""
    total_clients = options["clients"]
    mine = list(range(global_client, options["ips"], total_clients))
    hot = list(range(options["ips"], options["ips"] + options["hot_ips"]))
    port, key = options["port"], options["key"]
    connections: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
    sequence = 0
    turn = 0
    hot_every = round(1 / options["hot_share"]) if options["hot_share"] > 0 and hot else 0
    head = (f"POST /api/event HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nx-api-key: {key}\r\n"
            "Content-Type: application/json\r\n").encode()
    while time.time() < options["start_at"]:
        await asyncio.sleep(0.005)
    end_at = options["start_at"] + options["duration"]
    while time.time() < end_at:
        turn += 1
        if hot_every and turn % hot_every == 0:
            index = hot[(turn // hot_every + global_client) % len(hot)]
        elif mine:
            index = mine[turn % len(mine)]
        else:
            index = hot[turn % len(hot)]
        sequence += 1
        path = f"/b/{index}/{global_client}-{sequence}"
        body = json.dumps({"url": f"https://example.com{path}"}).encode()
        user_agent = USER_AGENTS[index % len(USER_AGENTS)]
        request = b"%sUser-Agent: %s\r\nContent-Length: %d\r\n%s\r\n%s" % (
            head, user_agent.encode(), len(body), b"" if options["keepalive"] else b"Connection: close\r\n", body)
        sent = time.time()
        started = time.perf_counter()
        session_id = page_visit_id = None
        try:
            stream = connections.get(index)
            if stream is None:
                stream = await asyncio.wait_for(asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(address(index), 0)), 60)
                if options["keepalive"]:
                    connections[index] = stream
            reader, writer = stream
            writer.write(request)
            status, answer = await asyncio.wait_for(read_answer(reader), 60)
            if status == 200 and isinstance(answer, dict) and answer.get("success") is True:
                outcome, session_id, page_visit_id = "ok", answer.get("session_id"), answer.get("page_visit_id")
            elif status == 200 and isinstance(answer, dict) and answer.get("success") is False:
                outcome = str(answer.get("reason"))
            else:
                outcome = f"http {status}"
            if not options["keepalive"]:
                writer.close()
        except (OSError, EOFError, ValueError, asyncio.TimeoutError, asyncio.IncompleteReadError) as exc:
            outcome = f"transport {type(exc).__name__}"
            dropped = connections.pop(index, None)
            if dropped is not None:
                dropped[1].close()
        latency = time.perf_counter() - started
        records.append([index, path, sent, time.time(), latency, outcome, session_id, page_visit_id])
    for _, writer in connections.values():
        writer.close()


async def read_answer(reader: Any) -> tuple[int, Any]:
    """(status, parsed JSON body or None) of one HTTP/1.1 answer with a Content-Length (the server's kind)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    raw = await reader.readexactly(length) if length else b""
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


# --- the run --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="clickport-burst-"))
    server = Server(workdir)
    report: dict[str, Any] = {"workdir": str(workdir), "settings": {
        "duration_s": args.duration, "processes": args.processes, "clients_per_process": args.clients,
        "client_ips": args.ips, "hot_ips": args.hot_ips, "hot_share": args.hot_share,
        "keepalive": not args.no_keepalive, "cores": os.cpu_count()}}
    try:
        seeded = time.monotonic()
        demo = server.cli("demo")
        report["demo_events"] = demo["events"]
        report["demo_seconds"] = round(time.monotonic() - seeded, 1)
        key = demo["key"]
        drops_before = server.cli("drops")
        server.start()
        report["idle_query"] = idle_query(server.port, key)
        burst(server, key, args, report)
        status, took = server.stop()
        report["server_exit"] = {"status": status, "stop_seconds": round(took, 1)}
        report["server_drops"] = {reason: count - drops_before.get(reason, 0)
                                  for reason, count in server.cli("drops").items()}
        verify(server, report)
    finally:
        if server.process is not None and server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=30)
        report["server_log_tail"] = [line for line in server.log_tail(20000).splitlines()
                                     if "Traceback" in line or "ERROR" in line or "Error" in line][-10:]
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    evaluate(report)
    return report


def idle_query(port: int, key: str) -> dict[str, Any]:
    timed_query(port, key)  # warm-up (a cold worker, caches)
    runs = [timed_query(port, key) for _ in range(5)]
    seconds = [s for s, status, _ in runs if status == 200]
    handler = [h for _, status, h in runs if status == 200]
    return {"runs_ms": [round(s * 1000, 1) for s, _, _ in runs], "statuses": [status for _, status, _ in runs],
            "median_ms": round(statistics.median(seconds) * 1000, 1) if seconds else None,
            "handler_median_ms": round(statistics.median(handler), 1) if handler else None}


def burst(server: Server, key: str, args: argparse.Namespace, report: dict[str, Any]) -> None:
    clients = args.processes * args.clients
    start_at = time.time() + 3.0  # the client processes start meanwhile
    options = {"port": server.port, "key": key, "ips": args.ips, "hot_ips": args.hot_ips, "hot_share": args.hot_share,
               "clients": clients, "per_process": args.clients, "duration": args.duration, "start_at": start_at,
               "keepalive": not args.no_keepalive}
    context = multiprocessing.get_context("spawn")
    outputs = [server.workdir / f"client-{n}.json" for n in range(args.processes)]
    processes = [context.Process(target=client_process, args=(n, options, str(outputs[n])), daemon=True)
                 for n in range(args.processes)]
    for process in processes:
        process.start()

    stop = threading.Event()
    samples: list[tuple[float, dict[str, int]]] = []
    queries: list[tuple[float, float, int, float]] = []

    def sample_files() -> None:
        while not stop.is_set():
            samples.append((time.time() - start_at, server.partition_file_counts()))
            stop.wait(1.0)

    def query_during() -> None:
        while time.time() < start_at + 1.0 and not stop.is_set():
            time.sleep(0.05)
        while not stop.is_set():
            seconds, status, handler_ms = timed_query(server.port, key)
            queries.append((time.time() - start_at, seconds, status, handler_ms))
            stop.wait(args.query_every)

    watchers = [threading.Thread(target=sample_files, daemon=True), threading.Thread(target=query_during, daemon=True)]
    while time.time() < start_at:
        time.sleep(0.01)
    server_cpu_before = process_tree_cpu(server.process.pid)
    wall_before = time.time()
    for watcher in watchers:
        watcher.start()
    for process in processes:
        process.join(args.duration + 180)
    wall = time.time() - wall_before
    server_cpu = process_tree_cpu(server.process.pid) - server_cpu_before
    stop.set()
    for watcher in watchers:
        watcher.join(150)
    records: list[list[Any]] = []
    client_cpu = 0.0
    for process, path in zip(processes, outputs):
        if process.exitcode != 0 or not path.exists():
            raise RuntimeError(f"a client process failed (exit {process.exitcode})")
        result = json.loads(path.read_text())
        records.extend(result["records"])
        client_cpu += result["cpu_s"]
    report["records"] = records
    report["server_alive_after_burst"] = server.process.poll() is None
    report["cpu"] = {"wall_s": round(wall, 1), "server_s": round(server_cpu, 1), "clients_s": round(client_cpu, 1),
                     "available_s": round(wall * (os.cpu_count() or 1), 1)}
    # The same query idle on the same data: the burst adds several times the demo's 30 days of events, so the
    # idle run before it reads far fewer rows than the runs during it (kept in the report as well).
    report["idle_after_query"] = idle_query(server.port, key)
    summarize_burst(report, records, samples, queries, args)


def summarize_burst(report: dict[str, Any], records: list[list[Any]], samples: list[tuple[float, dict[str, int]]],
                    queries: list[tuple[float, float, int, float]], args: argparse.Namespace) -> None:
    start_at = min((r[2] for r in records), default=time.time())
    outcomes = Counter(r[5] for r in records)
    ok = [r for r in records if r[5] == "ok"]
    latencies_ms = [r[4] * 1000 for r in records]
    per_second = Counter(int(r[3] - start_at) for r in ok)
    seconds = [per_second.get(s, 0) for s in range(1, max(1, int(args.duration) - 1))]  # whole seconds inside
    busiest = Counter()
    for _, counts in samples:
        for partition, n in counts.items():
            busiest[partition] = max(busiest[partition], n)
    files_max = max(busiest.values(), default=0)
    last_quarter = [max(c.values(), default=0) for t, c in samples if t >= 0.75 * args.duration]
    during = [s for _, s, status, _ in queries if status == 200]
    during_handler = [h for _, _, status, h in queries if status == 200]
    idle = report["idle_after_query"]["median_ms"]
    idle_before = report["idle_query"]["median_ms"]
    report["burst"] = {
        "requests": len(records),
        "acknowledged": len(ok),
        "acknowledged_per_s": round(len(ok) / args.duration, 1),
        "answered_per_s": round(sum(1 for r in records if not r[5].startswith("transport")) / args.duration, 1),
        "lowest_second": min(seconds, default=0),
        "outcomes": dict(outcomes.most_common()),
        "rate_limited": outcomes.get("rate_limited", 0),
        "latency_ms": {"p50": round(percentile(latencies_ms, 50), 1), "p90": round(percentile(latencies_ms, 90), 1),
                       "p99": round(percentile(latencies_ms, 99), 1),
                       "max": round(max(latencies_ms, default=float("nan")), 1)},
        "files_per_partition_max": files_max,
        "files_per_partition_max_last_quarter": max(last_quarter, default=0),
        "busiest_partition": busiest.most_common(1)[0][0] if busiest else None,
        "queries_during": {"count": len(queries), "ok": len(during),
                           "statuses": dict(Counter(status for _, _, status, _ in queries)),
                           "handler_median_ms": round(statistics.median(during_handler), 1) if during else None,
                           "median_ms": round(statistics.median(during) * 1000, 1) if during else None,
                           "max_ms": round(max(during) * 1000, 1) if during else None},
        "query_ratio": round(statistics.median(during) * 1000 / idle, 2) if during and idle else None,
        "query_ratio_vs_idle_before": round(statistics.median(during) * 1000 / idle_before, 2)
        if during and idle_before else None,
    }


def verify(server: Server, report: dict[str, Any]) -> None:
    """Read the stored burst events (paths /b/…) and hold them against what every client was answered."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    stored: dict[str, list[tuple[int, str, int, str]]] = defaultdict(list)  # path → [(ts ms, site, session, pvid)]
    for file in sorted((server.data_dir / "events").glob("site_id=*/dt=*/*.parquet")):
        table = pq.read_table(file, columns=["path", "ts", "session_id", "page_visit_id"])
        table = table.filter(pc.starts_with(table["path"], "/b/"))
        site = file.parent.parent.name
        ts_ms = pc.cast(table["ts"], "int64").to_pylist() if table.num_rows else []
        for path, ts, session_id, pvid in zip(table["path"].to_pylist(), ts_ms, table["session_id"].to_pylist(),
                                              table["page_visit_id"].to_pylist()):
            stored[path].append((ts, site, session_id, pvid))
    records = report.pop("records")
    answers = {r[1]: r for r in records}
    problems: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)

    def problem(kind: str, detail: str) -> None:
        problems[kind] += 1
        if len(examples[kind]) < 3:
            examples[kind].append(detail)

    sites = {site for rows in stored.values() for _, site, _, _ in rows}
    if len(sites) > 1:
        problem("burst events in several sites", str(sorted(sites)))
    per_minute: dict[tuple[int, int], int] = Counter()  # (address index, UTC minute) → stored
    for path, rows in stored.items():
        record = answers.get(path)
        if record is None:
            problem("stored but never sent", path)
            continue
        outcome = record[5]
        if outcome != "ok":
            kind = "stored after a transport error (outcome unknown to the client)" if outcome.startswith(
                "transport") else f"stored although answered {outcome}"
            problem(kind, path)
        if len(rows) > 1:
            problem("stored more than once", f"{path} x{len(rows)}")
        for ts, _, session_id, pvid in rows:
            per_minute[(record[0], ts // 60_000)] += 1
            if outcome == "ok" and (session_id, pvid) != (record[6], record[7]):
                problem("stored ids differ from the answer", f"{path}: answered {record[6]}/{record[7]}, "
                                                             f"stored {session_id}/{pvid}")
    for record in records:
        if record[5] == "ok" and record[1] not in stored:
            problem("acknowledged but not stored", record[1])
    for (index, minute), count in per_minute.items():
        if count > RATE_LIMIT:
            problem("more than 60 stored in one minute from one address", f"{address(index)} minute {minute}: {count}")
    # A rate_limited answer whose request was sent and answered inside one UTC minute belongs to that minute:
    # that minute's 60 must have been spent (stored, or refused by a failing sink after counting).
    spent_elsewhere: Counter[tuple[int, int]] = Counter()
    for record in records:
        if record[5].startswith(("http 5", "transport")):  # may have been counted without being stored
            for minute in {int(record[2] // 60), int(record[3] // 60)}:
                spent_elsewhere[(record[0], minute)] += 1
    checked = set()
    for record in records:
        if record[5] != "rate_limited":
            continue
        minute = int(record[2] // 60)
        if minute != int(record[3] // 60) or (record[0], minute) in checked:
            continue
        checked.add((record[0], minute))
        if per_minute.get((record[0], minute), 0) + spent_elsewhere.get((record[0], minute), 0) < RATE_LIMIT:
            problem("rate_limited before 60 were spent", f"{address(record[0])} minute {minute}: "
                                                        f"{per_minute.get((record[0], minute), 0)} stored")
    acknowledged = sum(1 for r in records if r[5] == "ok")
    acked_per_address = Counter(r[0] for r in records if r[5] == "ok")
    stored_per_address = Counter(answers[path][0] for path, rows in stored.items() if path in answers
                                 for _ in rows)
    mismatched = [i for i in set(acked_per_address) | set(stored_per_address)
                  if acked_per_address[i] != stored_per_address[i]]
    for index in mismatched[:3]:
        examples["an address's acknowledged and stored counts differ"].append(
            f"{address(index)}: {acked_per_address[index]} acknowledged, {stored_per_address[index]} stored")
    if mismatched:
        problems["an address's acknowledged and stored counts differ"] = len(mismatched)
    report["verification"] = {
        "acknowledged": acknowledged,
        "addresses": len(acked_per_address),
        "addresses_acknowledged_ne_stored": len(mismatched),
        "stored_burst_rows": sum(len(rows) for rows in stored.values()),
        "address_minutes": len(per_minute),
        "max_stored_per_address_minute": max(per_minute.values(), default=0),
        "rate_limited_minutes_checked": len(checked),
        "problems": dict(problems),
        "examples": dict(examples),
    }


def evaluate(report: dict[str, Any]) -> None:
    burst = report.get("burst")
    checks: list[dict[str, Any]] = []
    if burst:
        checks += [
            {"name": f"acknowledged events/s over {report['settings']['duration_s']:.0f} s",
             "measured": burst["acknowledged_per_s"], "target": f">= {TARGETS['events_per_s']:.0f}",
             "pass": burst["acknowledged_per_s"] >= TARGETS["events_per_s"]},
            {"name": "event latency p99 (ms)", "measured": burst["latency_ms"]["p99"],
             "target": f"<= {TARGETS['p99_ms']:.0f}", "pass": burst["latency_ms"]["p99"] <= TARGETS["p99_ms"]},
            {"name": "most *.parquet files in one partition", "measured": burst["files_per_partition_max"],
             "target": f"<= {TARGETS['files_per_partition']}",
             "pass": burst["files_per_partition_max"] <= TARGETS["files_per_partition"]},
            {"name": "30-day query median, burst / idle on the same data", "measured": burst["query_ratio"],
             "target": f"<= {TARGETS['query_ratio']:.0f}x",
             "pass": burst["query_ratio"] is not None and burst["query_ratio"] <= TARGETS["query_ratio"]
             and burst["queries_during"]["ok"] == burst["queries_during"]["count"]},
        ]
    report["targets"] = checks
    verification = report.get("verification", {})
    problems = {k: v for k, v in verification.get("problems", {}).items() if not k.startswith("stored after a transport")}
    report["correct"] = bool(verification) and not problems and report.get("server_alive_after_burst", False)
    report["targets_met"] = bool(checks) and all(c["pass"] for c in checks)


def markdown(report: dict[str, Any]) -> str:
    s, b, v, cpu = report["settings"], report.get("burst", {}), report.get("verification", {}), report.get("cpu", {})
    lat = b.get("latency_ms", {})
    lines = [
        f"## Burst benchmark: {s['processes']} client processes x {s['clients_per_process']} clients, "
        f"{s['client_ips']} client IPs (+{s['hot_ips']} hot IPs at {s['hot_share']:.0%} of requests), "
        f"{s['duration_s']:.0f} s, {'keep-alive' if s['keepalive'] else 'one connection per request'}, "
        f"{s['cores']} cores",
        "",
        "| measure | result | target | met |",
        "|---|---|---|---|",
    ]
    for check in report.get("targets", []):
        lines.append(f"| {check['name']} | {check['measured']} | {check['target']} | "
                     f"{'yes' if check['pass'] else 'NO'} |")
    idle = report.get("idle_query", {})
    after = report.get("idle_after_query", {})
    q = b.get("queries_during", {})
    lines += [
        f"| requests sent / answered per s | {b.get('requests')} / {b.get('answered_per_s')} | | |",
        f"| lowest acknowledged events in one second | {b.get('lowest_second')} | | |",
        f"| latency p50 / p90 / p99 / max (ms) | {lat.get('p50')} / {lat.get('p90')} / {lat.get('p99')} / "
        f"{lat.get('max')} | | |",
        f"| outcomes | {', '.join(f'{k}: {n}' for k, n in b.get('outcomes', {}).items())} | | |",
        f"| rate_limited (client count / server drop counter) | {b.get('rate_limited')} / "
        f"{report.get('server_drops', {}).get('rate_limited')} | | |",
        f"| most files in one partition, last quarter of the burst | {b.get('files_per_partition_max_last_quarter')} "
        f"({b.get('busiest_partition')}) | | |",
        f"| 30-day query idle median (ms), before the burst (demo data) | {idle.get('median_ms')} "
        f"(runs {idle.get('runs_ms')}) | | |",
        f"| 30-day query idle median (ms), right after the burst (its events too) | "
        f"{after.get('median_ms')} (runs {after.get('runs_ms')}) | | |",
        f"| 30-day query median during the burst / idle before it | {b.get('query_ratio_vs_idle_before')} | | |",
        f"| 30-day query during burst: median / max (ms), runs, statuses | {q.get('median_ms')} / {q.get('max_ms')}, "
        f"{q.get('count')}, {q.get('statuses')} | | |",
        f"| 30-day query inside its handler (Server-Timing), median idle / during burst (ms) | "
        f"{idle.get('handler_median_ms')} / {q.get('handler_median_ms')} (after: {after.get('handler_median_ms')}) | | |",
        f"| CPU during burst: server / clients / available (s) | {cpu.get('server_s')} / {cpu.get('clients_s')} / "
        f"{cpu.get('available_s')} | | |",
        f"| acknowledged = stored once, ids as answered | {v.get('acknowledged')} acknowledged, "
        f"{v.get('stored_burst_rows')} stored; {v.get('addresses_acknowledged_ne_stored')} of {v.get('addresses')} "
        f"IPs with acknowledged != stored | 0 problems | "
        f"{'yes' if not v.get('problems') else 'NO'} |",
        f"| rate limit exact: max stored per IP-minute; rate-limited minutes checked | "
        f"{v.get('max_stored_per_address_minute')}; {v.get('rate_limited_minutes_checked')} | <= 60 | "
        f"{'yes' if v.get('max_stored_per_address_minute', 0) <= RATE_LIMIT and not any('rate' in k or '60' in k for k in v.get('problems', {})) else 'NO'} |",
        f"| server stop (SIGTERM): exit status, seconds | {report.get('server_exit', {}).get('status')}, "
        f"{report.get('server_exit', {}).get('stop_seconds')} | | |",
    ]
    for kind, count in v.get("problems", {}).items():
        lines.append(f"| PROBLEM: {kind} | {count} | 0 | NO |")
        for example in v.get("examples", {}).get(kind, []):
            lines.append(f"|   e.g. | {example} | | |")
    if report.get("server_log_tail"):
        lines += ["", "Server errors (last lines):", "", *("    " + line for line in report["server_log_tail"])]
    lines += ["", f"correct: {'yes' if report.get('correct') else 'NO'}; "
                  f"targets met: {'yes' if report.get('targets_met') else 'NO'}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="burst seconds (default 60)")
    parser.add_argument("--processes", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--clients", type=int, default=16,
                        help="concurrent clients per process, on one event loop (default 16)")
    parser.add_argument("--ips", type=int, default=2400,
                        help="client IPs sharing the traffic; each may send 60/min, so 2400 let 2400 events/s through")
    parser.add_argument("--hot-ips", type=int, default=1,
                        help="IPs sent far over 60/min from every client at once (rate limiter check)")
    parser.add_argument("--hot-share", type=float, default=0.05,
                        help="share of requests sent from the hot IPs (5%% of even 100 events/s is 300/min)")
    parser.add_argument("--query-every", type=float, default=3.0, help="seconds between 30-day queries in the burst")
    parser.add_argument("--no-keepalive", action="store_true", help="a new connection per request")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and server logs")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--strict", action="store_true", help="exit 1 also when a performance target is missed")
    args = parser.parse_args(argv)
    if args.ips < 200:
        parser.error("--ips must be at least 200")
    if args.ips < args.processes * args.clients:
        parser.error("--ips must be at least the number of clients")
    report = run(args)
    print(json.dumps(report, indent=2) if args.json else markdown(report), flush=True)
    if not report["correct"]:
        return 1
    return 1 if args.strict and not report["targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
