"""Query benchmark (issue 11): the project through its HTTP API against ClickHouse (chDB, MergeTree)
computing the same exact answers (spec §3.8), on the same seeded events, in one run.

Steps: generate the dataset (bench/query_dataset.py) as Parquet in the event schema; load it into a
fresh data directory with ``clickport import --format parquet``; start ``clickport serve`` on it;
load the same events into a chDB MergeTree table; check that both answer every query identically;
then time the five queries interleaved (project, chDB, project, chDB, …), shifting the range by a
day on every run so that no result is served twice, and print medians, ratios, the server's peak
RSS during the 90-day query and an Athena-scan estimate from the Parquet metadata.

Run: ``.venv/bin/python bench/query_bench.py [--events 1000000] [--runs 3]`` (default 10,000,000
events: heavy; ``make bench`` runs it). Needs the ``bench`` extra (chDB).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from query_dataset import SITES, DatasetSpec, write_dataset  # noqa: E402

from clickport.schema import EVENT_COLUMNS  # noqa: E402
from tests.support.processes import clickport_executable, free_port  # noqa: E402

ZONE = "Europe/Berlin"
COUNTABLE = ("pageview", "custom", "click", "form")
MIB = 1024 * 1024


# --- exact rounding, as spec §3.1 (half away from zero, non-negative totals)


def rounded(numerator: int, denominator: int) -> int:
    return 0 if denominator == 0 else (2 * numerator + denominator) // (2 * denominator)


# --- ranges


def day_start(day: date) -> datetime:
    """The first UTC instant of local ``day`` in Berlin (midnight exists on every Berlin day)."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(ZONE)).astimezone(timezone.utc)


def ch_instant(instant: datetime) -> str:
    return f"toDateTime64('{instant.strftime('%Y-%m-%d %H:%M:%S')}.000', 3, 'UTC')"


@dataclass(frozen=True)
class Window:
    start: date  # local dates in Berlin, end exclusive
    end: date

    def body(self) -> dict[str, Any]:
        return {"date_range": {"start": self.start.isoformat(), "end": self.end.isoformat()}, "timezone": ZONE}

    def ch_where(self, site_id: str) -> str:
        return (f"site_id = '{site_id}' AND ts >= {ch_instant(day_start(self.start))} "
                f"AND ts < {ch_instant(day_start(self.end))}")


# --- the five queries: the project's body, ClickHouse SQL with the same exact answers, and a normal form

AGGREGATE_METRICS = ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration"]
COUNTED = "type IN ('pageview', 'custom', 'click', 'form')"


def ch_aggregate(window: Window, site_id: str) -> str:
    # One row per session with a countable event: its visitor, pageviews in E, duration. The visitor id is
    # stored on every event of the session (spec §3.8.2): max() is the first event's, as the project's
    # session-slot plans read it.
    return f"""
        SELECT uniqExact(visitor) AS visitors, count() AS sessions, sum(pv) AS pageviews,
               countIf(pv >= 1) AS bounce_base, countIf(pv = 1) AS bounces, sum(duration) AS duration_ms
        FROM (
            SELECT session_id, max(visitor_id) AS visitor, countIf({COUNTED}) AS counted,
                   countIf(type = 'pageview') AS pv, dateDiff('millisecond', min(ts), max(ts)) AS duration
            FROM events WHERE {window.ch_where(site_id)}
            GROUP BY session_id HAVING counted > 0
        )"""


def aggregate_from_ch(rows: list[tuple]) -> dict[str, int]:
    visitors, sessions, pageviews, bounce_base, bounces, duration_ms = (int(v) for v in rows[0])
    return {"visitors": visitors, "sessions": sessions, "pageviews": pageviews,
            "bounce_rate": rounded(100 * bounces, bounce_base), "avg_duration": rounded(duration_ms, 1000 * sessions)}


def ch_pages(window: Window, site_id: str, extra: str = "") -> str:
    # Counted events by page: the session's visitor is stored on every event (spec §3.8.2).
    return f"""
        SELECT coalesce(nullIf(path, ''), '(none)') AS page, uniqExact(visitor_id) AS visitors,
               countIf(type = 'pageview') AS pageviews
        FROM events WHERE {window.ch_where(site_id)} AND {COUNTED} {extra}
        GROUP BY page ORDER BY visitors DESC, page ASC LIMIT 50"""


def ch_daily(window: Window, site_id: str) -> str:
    return f"""
        SELECT toString(toDate(ts, '{ZONE}')) AS day, uniqExact(visitor_id) AS visitors,
               countIf(type = 'pageview') AS pageviews, uniqExact(session_id) AS sessions
        FROM events WHERE {window.ch_where(site_id)} AND {COUNTED}
        GROUP BY day ORDER BY day"""


def pages_from_ch(rows: list[tuple]) -> list[tuple]:
    return [(str(page), int(visitors), int(pageviews)) for page, visitors, pageviews in rows]


def pages_from_api(body: dict) -> list[tuple]:
    return [(r["page"], r["visitors"], r["pageviews"]) for r in body["results"]]


def daily_from_ch(rows: list[tuple]) -> list[tuple]:
    return [(str(day), int(v), int(p), int(s)) for day, v, p, s in rows]


def daily_from_api(body: dict) -> list[tuple]:
    # Zero-filled days have no ClickHouse row.
    return [(r["date"], r["visitors"], r["pageviews"], r["sessions"]) for r in body["results"] if r["visitors"]]


FILTERS = [{"dimension": "country", "operator": "is", "value": "DE"},
           {"dimension": "source", "operator": "is", "value": "google"}]


@dataclass(frozen=True)
class Query:
    key: str
    title: str
    days: int
    body: Callable[[Window], dict]
    ch_sql: Callable[[Window, str], str]
    from_api: Callable[[dict], Any]
    from_ch: Callable[[list[tuple]], Any]


QUERIES = [
    Query("a", "30-day aggregate: visitors, sessions, pageviews, bounce_rate, avg_duration (Berlin)", 30,
          lambda w: {**w.body(), "metrics": AGGREGATE_METRICS}, ch_aggregate,
          lambda b: b["results"], aggregate_from_ch),
    Query("b", "30-day top 50 pages: visitors, pageviews", 30,
          lambda w: {**w.body(), "metrics": ["visitors", "pageviews"], "dimensions": ["page"], "limit": 50},
          ch_pages, pages_from_api, pages_from_ch),
    Query("c", "30-day daily series: visitors, pageviews, sessions", 30,
          lambda w: {**w.body(), "metrics": ["visitors", "pageviews", "sessions"], "dimensions": ["date"]},
          ch_daily, daily_from_api, daily_from_ch),
    Query("d", "top pages filtered `country is DE` and `source is google`", 30,
          lambda w: {**w.body(), "metrics": ["visitors", "pageviews"], "dimensions": ["page"], "limit": 50,
                     "filters": FILTERS},
          lambda w, s: ch_pages(w, s, "AND country = 'DE' AND source = 'google'"), pages_from_api, pages_from_ch),
    Query("e", "90-day aggregate", 90,
          lambda w: {**w.body(), "metrics": AGGREGATE_METRICS}, ch_aggregate,
          lambda b: b["results"], aggregate_from_ch),
]


def window_of(query: Query, spec: DatasetSpec, run: int) -> Window:
    """The run's range: the query's days ending ``run`` days before the data ends (shifted per run)."""
    end = spec.end_day - timedelta(days=run)
    return Window(end - timedelta(days=query.days), end)


# --- the project: CLI and HTTP


def clickport(*args: str, env: dict[str, str]) -> Any:
    out = subprocess.run([clickport_executable(), "--json", *args], env=env, check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout)


class Api:
    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.last_timing: dict[str, float] = {}

    def query(self, body: dict) -> tuple[int, dict, float]:
        payload = json.dumps(body)
        headers = {"X-API-Key": self.key, "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            self.connection.request("POST", "/api/query", payload, headers)
            response = self.connection.getresponse()
            data = response.read()
        except (ConnectionError, http.client.HTTPException):
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            self.connection.request("POST", "/api/query", payload, headers)
            response = self.connection.getresponse()
            data = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        self.last_timing = server_timing(response.getheader("Server-Timing") or "")
        return response.status, json.loads(data or b"{}"), elapsed


def server_timing(header: str) -> dict[str, float]:
    """``validate;dur=1.2, engine;dur=80.1`` → ``{"validate": 1.2, "engine": 80.1}``."""
    out: dict[str, float] = {}
    for part in header.split(","):
        name, _, rest = part.strip().partition(";")
        if rest.startswith("dur="):
            try:
                out[name] = float(rest[4:])
            except ValueError:
                continue
    return out


def wait_ready(api: Api, body: dict, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    answer: Any = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"clickport serve exited with {process.returncode}")
        try:
            status, answer, _ = api.query(body)
            if status == 200:
                return
        except OSError as error:
            answer = error
        time.sleep(0.3)
    raise RuntimeError(f"clickport serve did not answer in time: {answer}")


# --- memory of the server's process tree


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo += [int(c) for c in handle.read().split()]
        except OSError:
            continue
    return pids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class RssSampler:
    """Peak RSS of the largest process and of the whole tree, sampled every 10 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_process = self.peak_tree = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = [_rss(p) for p in _tree(self.pid)]
            self.peak_process = max(self.peak_process, max(sizes, default=0))
            self.peak_tree = max(self.peak_tree, sum(sizes))
            time.sleep(0.01)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- ClickHouse (chDB)

_CH_TYPES = {"string": "Nullable(String)", "bigint": "Int64", "int": "Nullable(Int32)",
             "timestamp": "DateTime64(3, 'UTC')", "array<string>": "Array(String)"}
_CH_OVERRIDES = {"type": "LowCardinality(String)", "revenue_micros": "Nullable(Int64)",
                 "engaged_ms": "Nullable(Int64)"}


def load_chdb(folder: Path, sources: dict[str, Path], site_ids: dict[str, str]):
    from chdb import session

    chdb = session.Session(str(folder))
    columns = ", ".join(f"{c.name} {_CH_OVERRIDES.get(c.name, _CH_TYPES[c.type])}" for c in EVENT_COLUMNS)
    chdb.query("DROP TABLE IF EXISTS events")
    chdb.query(f"CREATE TABLE events (site_id LowCardinality(String), {columns}) "
               "ENGINE = MergeTree ORDER BY (site_id, toDate(ts), session_id, ts, seq)")
    names = ", ".join(c.name for c in EVENT_COLUMNS)
    for domain, path in sources.items():
        chdb.query(f"INSERT INTO events SELECT '{site_ids[domain]}', {names} FROM file('{path}', Parquet)")
    chdb.query("OPTIMIZE TABLE events FINAL")
    return chdb


def ch_rows(chdb, sql: str) -> tuple[list[tuple], float]:
    started = time.perf_counter()
    result = chdb.query(sql, "JSONCompact")
    elapsed = (time.perf_counter() - started) * 1000
    return [tuple(r) for r in json.loads(result.bytes())["data"]], elapsed


# --- Athena-scan estimate from the Parquet metadata


def scan_estimate(data_dir: Path, site_id: str, body: dict, window: Window, *,
                  rewrite: Callable[[Any, Any], None] | None = None) -> int:
    """Compressed bytes of the columns the plan's scan reads, in the row groups of the partitions its
    WHERE names whose ``ts`` statistics overlap the range (what Athena would read).

    ``rewrite``: as if each file were rewritten by this writer (table, sink), to size a layout."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sqlglot import exp

    from clickport.ports import Site
    from clickport.query.service import plan_query
    from clickport.query.sql import build_query
    from clickport.schema import COLUMN_NAMES

    site = Site(site_id, "bench", datetime(2026, 1, 1, tzinfo=timezone.utc))
    plan = plan_query(body, site=site, goals=[], now=datetime.now(timezone.utc))
    expression = build_query(plan, "athena").expression
    scan = next(c.this for c in expression.find_all(exp.CTE) if c.alias == "events_in_range")
    columns = {c.name for c in scan.find_all(exp.Column)} & set(COLUMN_NAMES)
    start, end = day_start(window.start), day_start(window.end)
    first, last = f"dt={(start.date() - timedelta(days=1))}", f"dt={(end.date() + timedelta(days=1))}"
    total = 0
    site_dir = data_dir / "events" / f"site_id={site_id}"
    for partition in sorted(site_dir.iterdir()):
        if not first <= partition.name <= last:
            continue
        for file in partition.glob("*.parquet"):
            source: Any = file
            if rewrite is not None:
                buffer = pa.BufferOutputStream()
                rewrite(pq.read_table(file, partitioning=None), buffer)
                source = pa.BufferReader(buffer.getvalue())
            metadata = pq.ParquetFile(source).metadata
            names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
            ts_index = names.index("ts")
            for g in range(metadata.num_row_groups):
                group = metadata.row_group(g)
                stats = group.column(ts_index).statistics
                if stats is not None and stats.has_min_max and (stats.max < start or stats.min >= end):
                    continue
                total += sum(group.column(i).total_compressed_size for i, n in enumerate(names)
                             if n.split(".")[0] in columns)
    return total


def _group_bytes(path: Path, columns: set[str], start: datetime, end: datetime) -> int:
    """Compressed bytes of ``columns`` in the row groups of one Parquet file whose ``ts`` overlaps [start, end)."""
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata
    names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    total = 0
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        stats = group.column(names.index("ts")).statistics
        if stats is not None and stats.has_min_max and (stats.max < start or stats.min >= end):
            continue
        total += sum(group.column(i).total_compressed_size for i, n in enumerate(names) if n.split(".")[0] in columns)
    return total


def slot_scan_estimate(data_dir: Path, site_id: str, body: dict, window: Window, through: date) -> int:
    """What Athena reads for a plan over session slots on AWS: the statement rendered for Athena with the
    compaction watermark at ``through`` (query/sql_slots.py over a ``SplitSource``), and for each side of
    its ``slot_rows`` the compressed column chunks that side reads in the files of its table and days
    (row groups by ``ts``): ``events_slots`` from the slot files (the S3 job writes them with the same
    ``compaction.write_slots``), ``events_compacted`` and ``events`` from the event files (the local
    compaction writes closed days in the same day layout as the S3 job)."""
    from sqlglot import exp

    from clickport.ports import Site
    from clickport.query.service import plan_query
    from clickport.query.sql import SplitSource, build_query

    site = Site(site_id, "bench", datetime(2026, 1, 1, tzinfo=timezone.utc))
    plan = plan_query(body, site=site, goals=[], now=datetime.now(timezone.utc))
    split = SplitSource("db.events", "db.events_compacted", through.isoformat(), slots="db.events_slots")
    expression = build_query(plan, "athena", split, slots=True).expression
    rows = next(c.this for c in expression.find_all(exp.CTE) if c.alias == "slot_rows")
    start, end = day_start(window.start), day_start(window.end)
    total = 0
    for side in rows.find_all(exp.Select):
        table = side.args["from_"].this.name
        between = next(side.args["where"].find_all(exp.Between))
        first, last = f"dt={between.args['low'].this}", f"dt={between.args['high'].this}"
        columns = {c.name for c in side.find_all(exp.Column)}
        root, pattern = ((data_dir / "session_slots", "slots-*.parquet") if table == "events_slots"
                         else (data_dir / "events", "*.parquet"))
        for partition in sorted((root / f"site_id={site_id}").iterdir()):
            if first <= partition.name <= last:
                total += sum(_group_bytes(file, columns, start, end) for file in partition.glob(pattern))
    return total


def _sorted_writer(columns: list[str]) -> Callable[[Any, Any], None]:
    def write(table: Any, sink: Any) -> None:
        import pyarrow.parquet as pq

        pq.write_table(table.sort_by([(c, "ascending") for c in columns]), sink, compression="zstd")

    return write


def _day_layout_writer(table: Any, sink: Any) -> None:
    from clickport.adapters.day_layout import write_day

    write_day(table, sink)


LAYOUTS: dict[str, Callable[[Any, Any], None]] = {
    "sorted by (session_id, ts, seq), zstd": _sorted_writer(["session_id", "ts", "seq"]),
    "in adapters/day_layout.py's layout (time order, zstd, delta ts)": _day_layout_writer,
}


def relayout(data_dir: Path) -> int:
    """Rewrite every event file of the data directory in adapters/day_layout.py's layout (the
    compaction a closed day would get); returns how many files were rewritten."""
    import pyarrow.parquet as pq

    from clickport.adapters.day_layout import write_day

    count = 0
    for file in sorted((data_dir / "events").glob("site_id=*/dt=*/*.parquet")):
        temp = file.with_name(f".{file.name}.tmp")
        write_day(pq.read_table(file, partitioning=None), temp)
        os.replace(temp, file)
        count += 1
    return count


# --- the run


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=DatasetSpec.seed)
    parser.add_argument("--work", type=Path, help="working folder (default: a new temporary one, removed after)")
    parser.add_argument("--day-layout", action="store_true",
                        help="rewrite the imported files in adapters/day_layout.py's layout before serving")
    parser.add_argument("--compact", action=argparse.BooleanOptionalAction, default=True,
                        help="run the local compaction (ParquetEventSink.compact: closed days into the day layout,"
                        " with their session slots) before serving (default; with --no-compact the server's"
                        " background compaction does it while the queries run)")
    parser.add_argument("--reuse-source", action="store_true",
                        help="with --work: reuse the dataset an earlier run generated there (same events and seed)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    spec = DatasetSpec(events=args.events, seed=args.seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="clickport-query-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    print(f"query bench: {spec.events:,} events, {len(SITES)} sites, {spec.days} days, seed {spec.seed}; work {work}",
          flush=True)
    started = time.perf_counter()
    reuse = work / "source" / f"{spec.events}-{spec.seed}.done"
    if args.reuse_source and reuse.exists():
        sources = {site: work / "source" / f"{site}.parquet" for site in SITES}
        print("reusing the generated dataset", flush=True)
    else:
        reuse.unlink(missing_ok=True)
        sources = write_dataset(spec, work / "source")
        reuse.touch()
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)

    env = {**os.environ, "CLICKPORT_DATA_DIR": str(data_dir)}
    site_ids = {domain: clickport("sites", "create", "--domain", domain, env=env)["site_id"] for domain in SITES}
    loaded = 0
    started = time.perf_counter()
    for domain, path in sources.items():
        report = clickport("import", "--site", site_ids[domain], "--format", "parquet", str(path), env=env)
        if report["rejected"] or report["stored"] != report["read"]:
            raise RuntimeError(f"import of {domain} rejected rows: {report}")
        loaded += report["stored"]
    import_seconds = time.perf_counter() - started
    print(f"clickport import --format parquet: {loaded:,} rows in {import_seconds:.1f} s "
          f"({loaded / import_seconds:,.0f} rows/s)", flush=True)
    if args.day_layout:
        started = time.perf_counter()
        files = relayout(data_dir)
        print(f"rewrote {files} files in the day layout in {time.perf_counter() - started:.0f} s", flush=True)
    if args.compact:
        from clickport.adapters.parquet_sink import ParquetEventSink

        started = time.perf_counter()
        before = len(list((data_dir / "events").glob("site_id=*/dt=*/*.parquet")))
        partitions = ParquetEventSink(data_dir).compact()
        after = len(list((data_dir / "events").glob("site_id=*/dt=*/*.parquet")))
        slots = len(list((data_dir / "session_slots").glob("site_id=*/dt=*/slots-*.parquet")))
        print(f"compacted {partitions} partitions ({before} files -> {after}; {slots} session-slot files) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    big = site_ids[SITES[0]]
    key = clickport("keys", "create", "--site", big, "--read", env=env)["key"]

    started = time.perf_counter()
    chdb = load_chdb(work / "chdb", sources, site_ids)
    print(f"chDB MergeTree loaded in {time.perf_counter() - started:.0f} s", flush=True)

    port = free_port()
    server = subprocess.Popen([clickport_executable(), "serve", "--port", str(port)],
                              env={**env, "CLICKPORT_PORT": str(port)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        api = Api(port, key)
        wait_ready(api, QUERIES[0].body(window_of(QUERIES[0], spec, args.runs + 5)), server)
        warm_up(api, chdb, spec, big, args.runs)
        return run_queries(api, chdb, server, spec, big, data_dir, args.runs)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def warm_up(api: Api, chdb, spec: DatasetSpec, site_id: str, runs: int) -> None:
    """Each query once on a range the timed runs do not use (both engines open their files, the
    server's query workers start): timings are of warm engines answering ranges afresh."""
    for query in QUERIES:
        window = window_of(query, spec, runs + 1)
        for _ in range(2):
            api.query(query.body(window))
        ch_rows(chdb, query.ch_sql(window, site_id))


def run_queries(api: Api, chdb, server: subprocess.Popen, spec: DatasetSpec, site_id: str, data_dir: Path,
                runs: int) -> int:
    timings: dict[str, tuple[list[float], list[float]]] = {q.key: ([], []) for q in QUERIES}
    server_ms: dict[str, list[dict[str, float]]] = {q.key: [] for q in QUERIES}  # the server's Server-Timing
    peak_process = peak_tree = 0
    mismatches = 0
    for run in range(runs):
        for query in QUERIES:
            window = window_of(query, spec, run)
            body = query.body(window)
            if query.key == "e":
                with RssSampler(server.pid) as sampler:
                    status, answer, project_ms = api.query(body)
                peak_process = max(peak_process, sampler.peak_process)
                peak_tree = max(peak_tree, sampler.peak_tree)
            else:
                status, answer, project_ms = api.query(body)
            if status != 200:
                raise RuntimeError(f"query {query.key} answered {status}: {answer}")
            rows, ch_ms = ch_rows(chdb, query.ch_sql(window, site_id))
            timings[query.key][0].append(project_ms)
            server_ms[query.key].append(api.last_timing)
            timings[query.key][1].append(ch_ms)
            ours, theirs = query.from_api(answer), query.from_ch(rows)
            if ours != theirs:
                mismatches += 1
                print(f"MISMATCH query {query.key} {window}: project {str(ours)[:300]} / chDB {str(theirs)[:300]}")
            print(f"run {run + 1} query {query.key} {window.start}..{window.end}: project {project_ms:,.0f} ms, "
                  f"chDB {ch_ms:,.0f} ms, {'equal' if ours == theirs else 'DIFFERENT'}", flush=True)

    print(f"\n### Query benchmark: {spec.events:,} events, {len(SITES)} sites, {spec.days} days "
          f"(biggest site {int(spec.events * 0.7):,}); medians of {runs}; {os.cpu_count()} cores, "
          f"{os.uname().machine}; {date.today()}\n")
    print("| query | project (HTTP API) | ClickHouse (chDB MergeTree), same answers | ratio | answers |")
    print("|---|---|---|---|---|")
    met = True
    for query in QUERIES:
        ours, theirs = (median(t) for t in timings[query.key])
        met = met and ours <= theirs
        print(f"| ({query.key}) {query.title} | {ours:,.0f} ms | {theirs:,.0f} ms | {ours / theirs:.2f} | "
              f"{'equal' if not mismatches else 'see above'} |")
    print("\nWhere the project's time goes (medians; Server-Timing: `validate` parses and plans, `sql` builds and renders"
          " the statement, `engine` lists files and runs it in DuckDB, `shape` makes the JSON; the rest is HTTP, the"
          " worker hand-off and serialization):\n")
    print("| query | HTTP total | validate | sql | engine | shape | rest |")
    print("|---|---|---|---|---|---|---|")
    for query in QUERIES:
        total = median(timings[query.key][0])
        parts = {name: median([t.get(name, 0.0) for t in server_ms[query.key]])
                 for name in ("validate", "sql", "engine", "shape")}
        rest = median([ms - sum(t.get(n, 0.0) for n in parts) for ms, t in zip(timings[query.key][0], server_ms[query.key])])
        print(f"| ({query.key}) | {total:,.0f} ms | " + " | ".join(f"{v:,.1f} ms" for v in parts.values())
              + f" | {rest:,.0f} ms |")
    print(f"\nPeak RSS during the 90-day query: largest server process {peak_process / MIB:,.0f} MiB, "
          f"whole server tree {peak_tree / MIB:,.0f} MiB (target < 2,048 MiB)")
    print("\n| query | Athena-scan estimate | events in range | MiB per 1,000,000 events |")
    print("|---|---|---|---|")
    for query in QUERIES:
        window = window_of(query, spec, 0)
        scanned = scan_estimate(data_dir, site_id, query.body(window), window)
        rows, _ = ch_rows(chdb, f"SELECT count() FROM events WHERE {window.ch_where(site_id)}")
        events = int(rows[0][0])
        per_million = scanned / MIB / (events / 1_000_000) if events else 0.0
        print(f"| ({query.key}) | {scanned / MIB:,.1f} MiB | {events:,} | {per_million:.2f} |")
    if (data_dir / "session_slots" / f"site_id={site_id}").is_dir():
        # Every day of the bench is closed and compacted: the watermark at the last day with slots.
        through = max(date.fromisoformat(p.name.removeprefix("dt="))
                      for p in (data_dir / "session_slots" / f"site_id={site_id}").iterdir() if p.name.startswith("dt="))
        print(f"\nOn AWS with compaction's session slots (watermark {through}): the Athena statement of each plan"
              " over slots, each side's columns in its own table's files and days")
        print("\n| query | Athena-scan estimate with slots | MiB per 1,000,000 events |")
        print("|---|---|---|")
        from clickport.ports import Site
        from clickport.query.service import plan_query
        from clickport.query.sql_slots import slots_eligible

        site = Site(site_id, "bench", datetime(2026, 1, 1, tzinfo=timezone.utc))
        for query in QUERIES:
            window = window_of(query, spec, 0)
            plan = plan_query(query.body(window), site=site, goals=[], now=datetime.now(timezone.utc))
            if not slots_eligible(plan):
                print(f"| ({query.key}) | (reads events, as above) | |")
                continue
            scanned = slot_scan_estimate(data_dir, site_id, query.body(window), window, through)
            rows, _ = ch_rows(chdb, f"SELECT count() FROM events WHERE {window.ch_where(site_id)}")
            print(f"| ({query.key}) | {scanned / MIB:,.1f} MiB | {scanned / MIB / (int(rows[0][0]) / 1_000_000):.2f} |")
    window = window_of(QUERIES[0], spec, 0)
    rows, _ = ch_rows(chdb, f"SELECT count() FROM events WHERE {window.ch_where(site_id)}")
    for label, writer in LAYOUTS.items():
        scanned = scan_estimate(data_dir, site_id, QUERIES[0].body(window), window, rewrite=writer)
        print(f"\n(a) with each day's file {label}: {scanned / MIB:,.1f} MiB, "
              f"{scanned / MIB / (int(rows[0][0]) / 1_000_000):.2f} MiB per 1,000,000 events")
    print(f"\nTarget (every query at or below the chDB median, exact): {'met' if met and not mismatches else 'NOT met'}"
          f"; answers {'all equal' if not mismatches else f'{mismatches} different'}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
