"""Black-box proof that `clickport serve` never mixes concurrent requests up (spec §1, §5, §6, §9).

Only the HTTP API and the `clickport` command are used (subprocesses), so these tests hold for any
local runtime. Each test:

- creates sites and keys with the CLI on a fresh data directory, then starts `clickport serve`;
- drives it from many client threads, each event from its own client address (the socket is bound
  to a distinct 127.x.y.z source address, so the 60/min per-IP rate limit never applies);
- checks every answer against its own request: an event answer is ``{"success": true,
  "session_id": int, "page_visit_id": 16 hex}``; a query or realtime answer made with site S's key
  only ever shows site S's pages, with counts that S's traffic can explain;
- stops the server and reads the stored Parquet files directly: every acknowledged event is stored
  exactly once, in its own site's partition, with the session id and page visit id its answer
  returned, and nothing else is stored;
- checks that no client address appears in the server's output.
"""

from __future__ import annotations

import bisect
import http.client
import itertools
import json
import os
import random
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from tests.support.processes import clickport_executable, free_port

BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
PAGE_VISIT_ID = re.compile(r"[0-9a-f]{16}")
MAX_SESSION_ID = 2**53 - 1
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")

# The big run's shape: ≥ 20,000 requests from 32 threads over 4 sites (env overrides scale it up).
THREADS = int(os.environ.get("CLICKPORT_BLACKBOX_THREADS", "32"))
TOTAL_REQUESTS = int(os.environ.get("CLICKPORT_BLACKBOX_REQUESTS", "20000"))
SITES = 4
SEEDS_PER_SITE = 5
READ_SHARE = 0.05  # of the requests: page breakdowns, aggregates and realtime, a third each
# A site's share of the events: unequal, so one site's counts cannot pass for another's.
SITE_WEIGHTS = [1, 2, 3, 4]
# Spec §9: an accepted event is queryable within one second.
FRESHNESS_S = 1.0
LOAD_DEADLINE_S = 600.0


# --- the server and the CLI as subprocesses -------------------------------------------------------




class LocalServe:
    """`clickport` commands and one `clickport serve` process on a fresh data directory."""

    def __init__(self, root: Path) -> None:
        self.data_dir = root / "data"
        self.port = free_port()
        self.host = "127.0.0.1"
        self.stdout_path = root / "serve.stdout"
        self.stderr_path = root / "serve.stderr"
        self.env = {**os.environ, "CLICKPORT_DATA_DIR": str(self.data_dir), "CLICKPORT_PORT": str(self.port)}
        self.env.pop("CLICKPORT_BACKEND", None)
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> Any:
        done = subprocess.run([clickport_executable(), *args, "--json"], env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"clickport {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}"
        return json.loads(done.stdout)

    def create_site(self, domain: str) -> tuple[str, str]:
        site_id = self.cli("sites", "create", "--domain", domain)["site_id"]
        key = self.cli("keys", "create", "--site", site_id)["key"]
        return site_id, key

    def start(self, timeout: float = 120.0) -> None:
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen([clickport_executable(), "serve"], env=self.env, stdout=out, stderr=err,
                                            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"clickport serve exited ({self.process.returncode}): {self.output()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://{self.host}:{self.port}/api/openapi.json", timeout=5).close()
                return
            except urllib.error.HTTPError:
                return  # it answers; the status does not matter here
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"clickport serve did not answer within {timeout:.0f}s: {self.output()[-3000:]}")

    def stop(self, timeout: float = 120.0) -> int:
        """A graceful stop (SIGTERM, as a service manager sends): whatever it acknowledged must be stored."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
                raise AssertionError(f"clickport serve did not stop within {timeout:.0f}s of SIGTERM") from None
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def output(self) -> str:
        parts = [path.read_text(errors="replace") for path in (self.stdout_path, self.stderr_path) if path.exists()]
        return "\n".join(parts)

    def stored_rows(self) -> list[dict[str, Any]]:
        """Every stored event row, with the site of the partition it was found in."""
        rows: list[dict[str, Any]] = []
        for file in sorted((self.data_dir / "events").glob("site_id=*/dt=*/*.parquet")):
            site_id = file.parent.parent.name.removeprefix("site_id=")
            table = pq.read_table(file, columns=["path", "session_id", "page_visit_id", "type"])
            for row in table.to_pylist():
                row["site_id"] = site_id
                row["file"] = str(file.relative_to(self.data_dir))
                rows.append(row)
        return rows


class ClientAddresses:
    """Distinct loopback source addresses 127.b.c.d (Linux routes all of 127.0.0.0/8 to lo); never 127.0.x.x."""

    def __init__(self, first_octet: int = 1) -> None:
        self._next = itertools.count()
        self._first = first_octet
        self.used: set[str] = set()
        self._lock = threading.Lock()

    def take(self) -> str:
        index = next(self._next)
        b, rest = divmod(index, 250 * 256)
        c, d = divmod(rest, 250)
        address = f"127.{self._first + b}.{c}.{d + 2}"
        with self._lock:
            self.used.add(address)
        return address


def call(conn: http.client.HTTPConnection, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"x-api-key": key, "User-Agent": BROWSER_UA}
    if data is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    answer = conn.getresponse()
    raw = answer.read()
    try:
        return answer.status, json.loads(raw)
    except ValueError:
        return answer.status, raw[:300]


def send_event(host: str, port: int, address: str, key: str, url: str) -> tuple[int, Any]:
    """One event on its own connection from ``address`` (so every event has its own client IP)."""
    conn = http.client.HTTPConnection(host, port, timeout=120, source_address=(address, 0))
    try:
        return call(conn, "POST", "/api/event", key, {"url": url})
    finally:
        conn.close()


def event_answer_problem(status: int, body: Any) -> str | None:
    if status != 200:
        return f"status {status}: {body!r:.200}"
    if not isinstance(body, dict) or set(body) != {"success", "session_id", "page_visit_id"}:
        return f"not an acknowledgement: {body!r:.200}"
    if body["success"] is not True:
        return f"success is not true: {body!r:.200}"
    sid = body["session_id"]
    if not isinstance(sid, int) or isinstance(sid, bool) or not 1 <= sid <= MAX_SESSION_ID:
        return f"bad session_id: {body!r:.200}"
    if not isinstance(body["page_visit_id"], str) or not PAGE_VISIT_ID.fullmatch(body["page_visit_id"]):
        return f"bad page_visit_id: {body!r:.200}"
    return None


# --- bookkeeping ----------------------------------------------------------------------------------


@dataclass
class SentEvent:
    site: int
    path: str
    address: str
    sent: float  # monotonic, before the request
    answered: float = 0.0
    status: int = 0
    body: Any = None
    problem: str | None = "no answer"


@dataclass
class Read:
    site: int
    kind: str  # "pages" | "aggregate" | "realtime"
    sent: float
    answered: float = 0.0
    numbers: dict[str, int] = field(default_factory=dict)
    realtime: list[tuple[int, str, str]] = field(default_factory=list)  # (session_id, entry_page, exit_page)


class Findings:
    """Violations by category; the test fails listing the count and examples of each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_kind: dict[str, list[str]] = defaultdict(list)

    def add(self, kind: str, detail: str) -> None:
        with self._lock:
            self.by_kind[kind].append(detail)

    def summary(self) -> str:
        lines = []
        for kind, details in sorted(self.by_kind.items()):
            lines.append(f"{kind}: {len(details)}")
            lines.extend(f"    {detail}" for detail in details[:5])
        return "\n".join(lines)

    def __bool__(self) -> bool:
        return bool(self.by_kind)


def site_prefix(site: int) -> str:
    return f"/s{site}/"


def check_stored(serve: LocalServe, events: list[SentEvent], site_ids: list[str], findings: Findings) -> None:
    """Every acknowledged event exactly once, in its own site, with its answer's ids; nothing else stored."""
    rows = serve.stored_rows()
    by_path: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_path[row["path"]].append(row)
    site_of = {site_id: index for index, site_id in enumerate(site_ids)}
    acknowledged = {event.path: event for event in events if event.problem is None}
    for path, event in acknowledged.items():
        found = by_path.get(path, [])
        if not found:
            findings.add("acknowledged but not stored", f"{path} (site {event.site})")
            continue
        if len(found) > 1:
            findings.add("stored more than once", f"{path}: {len(found)} rows in "
                                                  f"{sorted({r['file'] for r in found})}")
        for row in found:
            if site_of.get(row["site_id"]) != event.site:
                findings.add("stored in another site", f"{path} (site {event.site}) found in site "
                                                       f"{site_of.get(row['site_id'], row['site_id'])}")
            if row["session_id"] != event.body["session_id"]:
                findings.add("stored session_id differs from the answer",
                             f"{path}: answered {event.body['session_id']}, stored {row['session_id']}")
            if row["page_visit_id"] != event.body["page_visit_id"]:
                findings.add("stored page_visit_id differs from the answer",
                             f"{path}: answered {event.body['page_visit_id']}, stored {row['page_visit_id']}")
            if row["type"] != "pageview":
                findings.add("stored type differs", f"{path}: {row['type']}")
    for path, found in by_path.items():
        if path not in acknowledged:
            findings.add("stored but never acknowledged", f"{path}: {len(found)} rows in site(s) "
                                                          f"{sorted({r['site_id'] for r in found})}")
    # Every event came from its own address, so every acknowledgement is a new visitor's new session and
    # a new page visit: a repeated id in two answers is one request's id given to another.
    for name in ("session_id", "page_visit_id"):
        counts = Counter(event.body[name] for event in acknowledged.values())
        for value, times in counts.items():
            if times > 1:
                paths = [p for p, e in acknowledged.items() if e.body[name] == value][:4]
                findings.add(f"one {name} answered to several requests", f"{value} x{times}: {paths}")


def check_logs(serve: LocalServe, addresses: set[str], findings: Findings) -> None:
    """The client IP never appears in the server's output (spec §5.4)."""
    leaked = sorted(set(IPV4.findall(serve.output())) & addresses)
    for address in leaked[:20]:
        findings.add("client address in the server's output", address)


def failure_message(findings: Findings, context: str, serve: LocalServe) -> str:
    errors = [line for line in serve.output().splitlines() if "Traceback" in line or "ERROR" in line or "rror" in line]
    tail = "\n".join(errors[-10:])
    return f"{context}\n{findings.summary()}\nserver errors (last lines):\n{tail}"


# --- the tests ------------------------------------------------------------------------------------


def test_concurrent_mixed_load_never_mixes_sites_sessions_or_events(tmp_path):
    serve = LocalServe(tmp_path)
    sites = [serve.create_site(f"site{index}.example") for index in range(SITES)]
    site_ids = [site_id for site_id, _ in sites]
    keys = [key for _, key in sites]
    addresses = ClientAddresses(first_octet=1)
    findings = Findings()
    events: list[SentEvent] = []
    reads: list[Read] = []
    serve.start()
    try:
        host, port = serve.host, serve.port

        # Site-specific data to query: a few distinct pageviews per site, before the load.
        seeds: dict[int, list[str]] = {}
        for index in range(SITES):
            seeds[index] = []
            for j in range(SEEDS_PER_SITE + index):
                path = f"{site_prefix(index)}seed{j}"
                event = SentEvent(index, path, addresses.take(), time.monotonic())
                event.status, event.body = send_event(host, port, event.address, keys[index],
                                                      f"https://site{index}.example{path}")
                event.answered = time.monotonic()
                event.problem = event_answer_problem(event.status, event.body)
                assert event.problem is None, f"seeding {path}: {event.problem}"
                events.append(event)
                seeds[index].append(path)
        time.sleep(FRESHNESS_S + 0.2)

        # The plan: events spread over the sites by weight, reads interleaved, shuffled with a fixed seed.
        rng = random.Random(20261130)
        n_reads = int(TOTAL_REQUESTS * READ_SHARE)
        plan: list[tuple[str, int]] = []
        for n in range(TOTAL_REQUESTS - n_reads):
            plan.append(("event", rng.choices(range(SITES), weights=SITE_WEIGHTS)[0]))
        for n in range(n_reads):
            plan.append((("pages", "aggregate", "realtime")[n % 3], n % SITES))
        rng.shuffle(plan)
        cursor = itertools.count()
        per_thread_events: list[list[SentEvent]] = [[] for _ in range(THREADS)]
        per_thread_reads: list[list[Read]] = [[] for _ in range(THREADS)]
        started = time.monotonic()

        def client(number: int) -> None:
            try:
                drive(number)
            except Exception as exc:  # noqa: BLE001 - a crashed client is a finding, not a silent gap
                findings.add("client thread crashed", repr(exc))

        def drive(number: int) -> None:
            reader = http.client.HTTPConnection(host, port, timeout=120, source_address=(addresses.take(), 0))
            try:
                while time.monotonic() - started < LOAD_DEADLINE_S:
                    step = next(cursor)
                    if step >= len(plan):
                        return
                    kind, site = plan[step]
                    if kind == "event":
                        path = f"{site_prefix(site)}e{step}"
                        event = SentEvent(site, path, addresses.take(), time.monotonic())
                        per_thread_events[number].append(event)
                        try:
                            event.status, event.body = send_event(host, port, event.address, keys[site],
                                                                  f"https://site{site}.example{path}")
                            event.problem = event_answer_problem(event.status, event.body)
                        except OSError as exc:  # http.client errors included
                            event.problem = f"transport: {exc!r}"
                        event.answered = time.monotonic()
                    else:
                        read = Read(site, kind, time.monotonic())
                        per_thread_reads[number].append(read)
                        try:
                            read_once(reader, read, keys[site], seeds[site], findings)
                        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                            # The server may close an idle keep-alive connection; a read is safe to repeat.
                            reader.close()
                            reader = http.client.HTTPConnection(host, port, timeout=120,
                                                                source_address=(addresses.take(), 0))
                            try:
                                read_once(reader, read, keys[site], seeds[site], findings)
                            except OSError as exc:
                                findings.add(f"{kind} transport error", repr(exc))
                        except OSError as exc:
                            findings.add(f"{kind} transport error", repr(exc))
                            reader.close()
                        read.answered = time.monotonic()
            finally:
                reader.close()

        threads = [threading.Thread(target=client, args=(n,), name=f"client-{n}") for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        for bucket in per_thread_events:
            events.extend(bucket)
        for bucket in per_thread_reads:
            reads.extend(bucket)
        issued = len(events) - sum(len(v) for v in seeds.values()) + len(reads)
        if issued < len(plan):
            findings.add("load did not finish", f"{issued} of {len(plan)} requests in {LOAD_DEADLINE_S:.0f}s")
    finally:
        returncode = serve.stop()
    if returncode not in (0, -signal.SIGTERM):
        findings.add("server exit status", str(returncode))

    for event in events:
        if event.problem is not None:
            findings.add("event not acknowledged", f"{event.path}: {event.problem}")
    check_read_counts(reads, events, findings)
    check_realtime_sessions(reads, events, findings)
    check_stored(serve, events, site_ids, findings)
    check_logs(serve, addresses.used, findings)
    acked = sum(1 for e in events if e.problem is None)
    context = (f"{len(events)} events ({acked} acknowledged) and {len(reads)} reads from {THREADS} threads "
               f"in {elapsed:.1f}s ({(len(events) + len(reads)) / elapsed:.0f} requests/s), "
               f"{len(addresses.used)} client addresses; latency {latencies(events, reads)}")
    print(context)
    assert not findings, failure_message(findings, context, serve)


def latencies(events: list[SentEvent], reads: list[Read]) -> str:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for item in (*events, *reads):
        if item.answered:
            by_kind[getattr(item, "kind", "event")].append(item.answered - item.sent)
    parts = []
    for kind, values in sorted(by_kind.items()):
        values.sort()
        parts.append(f"{kind} p50 {values[len(values) // 2] * 1000:.0f} ms, p99 "
                     f"{values[min(len(values) - 1, int(len(values) * 0.99))] * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms")
    return "; ".join(parts)


def read_once(conn: http.client.HTTPConnection, read: Read, key: str, seeds: list[str], findings: Findings) -> None:
    """One query or realtime request with ``key``, checked against the site of that key."""
    prefix = site_prefix(read.site)
    where = f"site {read.site} {read.kind}"
    if read.kind == "pages":
        status, body = call(conn, "POST", "/api/query", key, {
            "metrics": ["visitors", "pageviews"], "dimensions": ["page"], "period": "24h", "limit": 10000})
    elif read.kind == "aggregate":
        status, body = call(conn, "POST", "/api/query", key, {"metrics": ["sessions", "pageviews"], "period": "24h"})
    else:
        status, body = call(conn, "GET", "/api/realtime", key)
    if status != 200:
        findings.add(f"{read.kind} status", f"{where}: {status} {body!r:.200}")
        return
    try:
        if read.kind == "pages":
            rows = body["results"]
            read.numbers = {"rows": len(rows), "total_rows": body["meta"]["total_rows"]}
            if read.numbers["total_rows"] <= 10000:  # every row shown: their pageviews are the site's
                read.numbers["pageviews"] = sum(row["pageviews"] for row in rows)
            foreign = [row["page"] for row in rows if not row["page"].startswith(prefix)]
            if foreign:
                findings.add("query answered another site's pages", f"{where}: {foreign[:5]}")
            repeated = [row for row in rows if (row["pageviews"], row["visitors"]) != (1, 1)]
            if repeated:
                findings.add("a page counted more than once", f"{where}: {repeated[:3]}")
            missing = sorted(set(seeds) - {row["page"] for row in rows})
            if missing:
                findings.add("query misses the site's own seeded pages", f"{where}: {missing}")
        elif read.kind == "aggregate":
            read.numbers = {"sessions": body["results"]["sessions"], "pageviews": body["results"]["pageviews"]}
            if read.numbers["sessions"] != read.numbers["pageviews"]:
                findings.add("sessions differ from pageviews (one event per visitor)", f"{where}: {read.numbers}")
        else:
            read.numbers = {"count": body["count"]}
            for visitor in body["visitors"]:
                read.realtime.append((visitor["session_id"], visitor["entry_page"], visitor["exit_page"]))
                if not (visitor["entry_page"].startswith(prefix) and visitor["exit_page"].startswith(prefix)):
                    findings.add("realtime answered another site's session",
                                 f"{where}: {visitor['entry_page']} → {visitor['exit_page']}")
    except (KeyError, TypeError) as exc:
        findings.add(f"{read.kind} answer shape", f"{where}: {exc!r} in {body!r:.200}")


def check_read_counts(reads: list[Read], events: list[SentEvent], findings: Findings) -> None:
    """A count answered for site S lies between what S had acknowledged (a second earlier) and what had been
    sent to S by the time of the answer; the sites' traffic differs, so another site's count stands out."""
    sent_at: dict[int, list[float]] = defaultdict(list)
    acked_at: dict[int, list[float]] = defaultdict(list)
    for event in events:
        sent_at[event.site].append(event.sent)
        if event.problem is None:
            acked_at[event.site].append(event.answered)
    for times in (*sent_at.values(), *acked_at.values()):
        times.sort()
    first_send = min(event.sent for event in events)
    for read in reads:
        if not read.numbers:
            continue
        upper = bisect.bisect_left(sent_at[read.site], read.answered)
        lower = bisect.bisect_left(acked_at[read.site], read.sent - FRESHNESS_S)
        if read.kind == "realtime" and read.sent - first_send > 290:
            lower = 0  # sessions older than 300 s have left the realtime window
        for name, value in read.numbers.items():
            if name == "rows":
                continue  # the rows shown: checked against total_rows and the limit below
            if value > upper:
                findings.add("count above what the site was sent",
                             f"site {read.site} {read.kind} {name}={value} > {upper} sent")
            elif value < lower:
                findings.add("count below what the site had acknowledged a second earlier",
                             f"site {read.site} {read.kind} {name}={value} < {lower}")
        if read.kind == "pages" and read.numbers["rows"] != min(read.numbers["total_rows"], 10000):
            findings.add("page rows differ from total_rows", f"site {read.site}: {read.numbers}")


def check_realtime_sessions(reads: list[Read], events: list[SentEvent], findings: Findings) -> None:
    """Each session realtime showed for site S was answered to an event of S, on the page that event sent."""
    answered = {e.body["session_id"]: e for e in events if e.problem is None}
    for read in reads:
        for session_id, entry, exit_ in read.realtime:
            event = answered.get(session_id)
            if event is None:
                findings.add("realtime shows a session no event was answered with",
                             f"site {read.site}: {session_id} ({entry})")
            elif event.site != read.site or entry != event.path or exit_ != event.path:
                findings.add("realtime session differs from the event answered with it",
                             f"site {read.site} shows {session_id} {entry}→{exit_}; answered to site "
                             f"{event.site} {event.path}")


def test_events_with_site_a_key_and_site_b_key_at_once_stay_in_their_sites(tmp_path):
    """Clients send events with site A's key while other clients, at the same moments, use site B's key (events,
    queries, realtime): every event lands in its own site, and B's answers never show A."""
    serve = LocalServe(tmp_path)
    sites = [serve.create_site(domain) for domain in ("a.example", "b.example")]
    addresses = ClientAddresses(first_octet=100)
    findings = Findings()
    senders, rounds, readers = 16, 40, 4  # per round, 8 senders with A's key and 8 with B's are released together
    barrier = threading.Barrier(senders)
    results: list[list[SentEvent]] = [[] for _ in range(senders)]
    reads: list[Read] = []
    done = threading.Event()
    serve.start()
    try:
        def sender(number: int) -> None:
            site = number % 2
            _, key = sites[site]
            for r in range(rounds):
                path = f"{site_prefix(site)}c{number}r{r}"
                event = SentEvent(site, path, addresses.take(), 0.0)
                try:
                    barrier.wait(timeout=120)
                except threading.BrokenBarrierError:
                    findings.add("senders out of step", path)
                    return
                event.sent = time.monotonic()
                try:
                    event.status, event.body = send_event(serve.host, serve.port, event.address, key,
                                                          f"https://{'ab'[site]}.example{path}")
                    event.problem = event_answer_problem(event.status, event.body)
                except OSError as exc:
                    event.problem = f"transport: {exc!r}"
                event.answered = time.monotonic()
                results[number].append(event)

        def reader(number: int) -> None:
            _, key = sites[1]
            conn = http.client.HTTPConnection(serve.host, serve.port, timeout=120,
                                              source_address=(addresses.take(), 0))
            try:
                for turn in itertools.count():
                    if done.is_set():
                        return
                    read = Read(1, ("realtime", "pages")[(turn + number) % 2], time.monotonic())
                    try:
                        read_once(conn, read, key, [], findings)
                    except OSError as exc:
                        findings.add(f"{read.kind} transport error", repr(exc))
                        conn.close()
                    read.answered = time.monotonic()
                    reads.append(read)
            finally:
                conn.close()

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
        watchers = [threading.Thread(target=reader, args=(n,)) for n in range(readers)]
        for thread in (*threads, *watchers):
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        for thread in watchers:
            thread.join()
    finally:
        serve.stop()
    events = [event for bucket in results for event in bucket]
    assert len(events) == senders * rounds, findings.summary()
    assert reads, "site B's key was not used for reads meanwhile"
    for event in events:
        if event.problem is not None:
            findings.add("event not acknowledged", f"{event.path}: {event.problem}")
    check_realtime_sessions(reads, events, findings)
    check_stored(serve, events, [site_id for site_id, _ in sites], findings)
    check_logs(serve, addresses.used, findings)
    context = f"{len(events)} events with A's and B's keys at once, {len(reads)} reads with B's key"
    print(context)
    assert not findings, failure_message(findings, context, serve)
