"""Per-event CPU time of the ingestion pipeline with stores stubbed, store/sink calls and bytes per event,
and a cost model at list prices per million events. Run: make bench (or .venv/bin/python bench/ingest_bench.py)."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "common" / "python"))

from clickport.adapters.firehose_sink import firehose_record  # noqa: E402
from clickport.ingest.drops import DropCounter  # noqa: E402
from clickport.ingest.models import EventRequest, TrackRequest  # noqa: E402
from clickport.ingest.pipeline import Arrival, EventPipeline  # noqa: E402
from clickport.ports import Site  # noqa: E402

# List prices, us-east-1, on-demand (see docs/benchmarks.md for sources and assumptions).
PRICE = {
    "apigw_http_per_million": 1.00,
    "lambda_request_per_million": 0.20,
    "lambda_arm_gb_second": 0.0000133334,
    "dynamodb_write_unit_per_million": 0.625,
    "dynamodb_read_unit_per_million": 0.125,
    "firehose_ingest_per_gb": 0.029,
    "firehose_format_conversion_per_gb": 0.018,
    "firehose_dynamic_partitioning_per_gb": 0.020,
    "s3_put_per_thousand": 0.005,
}
LAMBDA_MEMORY_GB = 0.25
# Assumed round-trip latencies inside a region (wall time the function waits, billed as duration).
LATENCY_MS = {"dynamodb": 4.0, "firehose": 15.0}


class CountingLive:
    """An in-memory live store that counts calls (the stub for the benchmark)."""

    def __init__(self):
        self.calls = 0
        self.reads = 0
        self.writes = 0
        self.sessions: dict = {}
        self.visitors: dict = {}
        self.counters: dict = {}
        self.salts: dict = {}

    def _w(self, n=1):
        self.calls += 1
        self.writes += n

    def _r(self):
        self.calls += 1
        self.reads += 1

    def hit_rate_limit(self, key, limit, expires_at):
        self._w()
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key] <= limit

    def rate_count(self, key):
        return self.counters.get(key, 0)

    def get_or_create_salt(self, day, candidate, expires_at):
        return self.salts.setdefault(day, candidate)

    def delete_salts_before(self, day):
        return 0

    def create_session(self, session):
        self._w(2)  # the item and its realtime index entry
        self.sessions[(session.site_id, session.session_id)] = session

    def get_session(self, site_id, session_id, now_ms):
        self._r()
        return self.sessions.get((site_id, session_id))

    def record_event(self, site_id, session_id, *, ts_ms, page, page_visit_id, pageview, scroll, expires_at):
        s = self.sessions[(site_id, session_id)]
        # The item, plus its index entry: updated in place within a minute, moved (a delete and a put) when
        # the minute of the last activity changes.
        self._w(2 if ts_ms // 60_000 == s.last_ms // 60_000 else 3)
        s.last_ms, s.seq = ts_ms, s.seq + 1
        if pageview:
            s.pageviews += 1
            s.current_page, s.page_visit_id = page, page_visit_id
        return s

    def claim_visitor_session(self, site_id, visitor_id, session_id, now_ms, idle_ms, expires_at):
        self._w()
        return self.visitors.setdefault((site_id, visitor_id), session_id)

    def visitor_session(self, site_id, visitor_id, now_ms, idle_ms):
        self._r()
        return self.visitors.get((site_id, visitor_id))

    def active_sessions(self, site_id, since_ms, now_ms, limit):
        return 0, []


class CountingSink:
    def __init__(self):
        self.calls = 0
        self.bytes = 0
        self.billed_bytes = 0

    def write(self, site_id, rows):
        self.calls += 1
        for row in rows:
            size = len(firehose_record(site_id, row))
            self.bytes += size
            self.billed_bytes += -(-size // 5120) * 5120  # Firehose rounds each record up to 5 KB


class NullConfig:
    def note_event_date(self, site_id, day):
        pass


def user_agents(rng: random.Random, n: int) -> list[str]:
    """Many distinct, realistic UAs (real traffic has thousands of versions and devices)."""
    models = ["Pixel 7", "Pixel 8", "SM-S918B", "SM-A546B", "moto g54", "Redmi Note 12", "CPH2451", "2201116SG"]
    out = []
    for _ in range(n):
        kind = rng.random()
        major = rng.randint(118, 132)
        build = f"{major}.0.{rng.randint(5000, 6900)}.{rng.randint(10, 250)}"
        if kind < 0.35:
            out.append(f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                       f"Chrome/{build} Safari/537.36")
        elif kind < 0.55:
            ios = f"{rng.randint(16, 18)}_{rng.randint(0, 6)}"
            out.append(f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
                       f"Gecko) Version/{ios.split('_')[0]}.{ios.split('_')[1]} Mobile/15E148 Safari/604.1")
        elif kind < 0.75:
            out.append(f"Mozilla/5.0 (Linux; Android {rng.randint(11, 15)}; {rng.choice(models)}) AppleWebKit/537.36 "
                       f"(KHTML, like Gecko) Chrome/{build} Mobile Safari/537.36")
        elif kind < 0.85:
            out.append(f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                       f"Version/{rng.randint(15, 18)}.{rng.randint(0, 6)} Safari/605.1.15")
        elif kind < 0.95:
            out.append(f"Mozilla/5.0 (X11; Linux x86_64; rv:{major}.0) Gecko/20100101 Firefox/{major}.0")
        else:
            out.append(f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                       f"Chrome/{build} Safari/537.36 Edg/{major}.0.{rng.randint(1000, 3000)}.{rng.randint(10, 99)}")
    return out


def visit_schedule(rng: random.Random, events: int, agents: list[str], start: datetime) -> list[tuple]:
    """Events as visits produce them: visits start over an hour; each has 1-8 events ~40 s apart on average;
    80 % come from the browser tracker (one session per tab), 20 % from servers (sessions by visitor)."""
    schedule: list[tuple] = []
    visit = 0
    while len(schedule) < events:
        visit += 1
        ip, agent = f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}", rng.choice(agents)
        tracked = rng.random() < 0.8
        ts = start + timedelta(seconds=rng.uniform(0, 3600))
        for _ in range(min(rng.randint(1, 8), events - len(schedule))):
            schedule.append((ts, visit, ip, agent, tracked))
            ts += timedelta(seconds=rng.expovariate(1 / 40))
    schedule.sort(key=lambda item: item[0])
    return schedule


def run(events: int, seed: int) -> dict:
    rng = random.Random(seed)
    live, sink = CountingLive(), CountingSink()
    pipeline = EventPipeline(live=live, sink=sink, config=NullConfig(), drops=DropCounter())
    site = Site("s_bench", "example.com", datetime.now(timezone.utc), first_event_date=datetime.now().date())
    agents = user_agents(rng, max(events // 3, 1))
    referrers = [None, None, "https://www.google.com/", "https://t.co/x", "https://news.ycombinator.com/",
                 "https://chatgpt.com/", "https://blog.example.org/post"]
    pages = ["/", "/pricing", "/blog/a", "/blog/b", "/docs", "/signup"]
    start = datetime.now(timezone.utc)
    schedule = visit_schedule(rng, events, agents, start)
    sessions_by_visit: dict = {}
    durations = []
    per_origin: dict = {"track": [0, 0], "event": [0, 0]}
    for ts, visit, ip, agent, tracked in schedule:
        path = rng.choice(pages)
        fields = {"url": f"https://example.com{path}?utm_source=x" if rng.random() < 0.1
                  else f"https://example.com{path}", "referrer": rng.choice(referrers),
                  "screen_width": rng.choice([390, 412, 1280, 1440, 1920])}
        if tracked:
            fields["domain"] = "example.com"
            if visit in sessions_by_visit:
                fields["session_id"] = sessions_by_visit[visit]
        body = TrackRequest(**fields) if tracked else EventRequest(**fields)
        arrival = Arrival(site, body, ts, ip, agent, {"country": "DE", "region": None, "city": None},
                          "track" if tracked else "event")
        before = live.calls + sink.calls
        t0 = time.thread_time_ns()
        result = pipeline.ingest(arrival)
        durations.append((time.thread_time_ns() - t0) / 1e6)
        per_origin[arrival.origin][0] += 1
        per_origin[arrival.origin][1] += live.calls + sink.calls - before
        if tracked and getattr(result, "session_id", None):
            sessions_by_visit[visit] = result.session_id
    durations.sort()
    n = len(durations)
    calls_per_event = (live.calls + sink.calls) / n
    report = {
        "events": n,
        "distinct_user_agents": len(agents),
        "cpu_ms_median": round(statistics.median(durations), 4),
        "cpu_ms_p99": round(durations[int(n * 0.99) - 1], 4),
        "store_and_sink_calls_per_event": round(calls_per_event, 3),
        "calls_per_event_by_path": {k: round(v[1] / v[0], 3) for k, v in per_origin.items() if v[0]},
        "dynamodb_writes_per_event": round(live.writes / n, 3),
        "dynamodb_reads_per_event": round(live.reads / n, 3),
        "sink_bytes_per_event": round(sink.bytes / n, 1),
    }
    report["cost_per_million_events_usd"] = cost_model(report, live, sink, n)
    return report


def cost_model(report: dict, live: CountingLive, sink: CountingSink, n: int) -> dict:
    wait_ms = (live.calls / n) * LATENCY_MS["dynamodb"] + (sink.calls / n) * LATENCY_MS["firehose"]
    duration_ms = report["cpu_ms_median"] + wait_ms
    billed_ms = max(1, round(duration_ms + 0.5))
    million = 1_000_000
    costs = {
        "api_gateway": PRICE["apigw_http_per_million"],
        "lambda_requests": PRICE["lambda_request_per_million"],
        "lambda_duration": million * LAMBDA_MEMORY_GB * billed_ms / 1000 * PRICE["lambda_arm_gb_second"],
        "dynamodb": (live.writes / n) * PRICE["dynamodb_write_unit_per_million"]
        + (live.reads / n) * PRICE["dynamodb_read_unit_per_million"] / 2,  # eventually consistent reads: half a unit
        "firehose": (sink.billed_bytes / n) * million / 1e9 * PRICE["firehose_ingest_per_gb"]
        + (sink.bytes / n) * million / 1e9 * (PRICE["firehose_format_conversion_per_gb"]
                                              + PRICE["firehose_dynamic_partitioning_per_gb"]),
        "s3": 0.02,  # delivery PUTs (one object per partition per buffer) and storage of ~100 B/event Parquet
    }
    costs = {k: round(v, 4) for k, v in costs.items()}
    costs["assumed_billed_duration_ms"] = billed_ms
    costs["total"] = round(sum(v for k, v in costs.items() if k != "assumed_billed_duration_ms"), 4)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.seed), indent=2))


if __name__ == "__main__":
    main()
