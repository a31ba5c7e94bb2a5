"""Per-event CPU time of the ingestion pipeline with stores stubbed, store/sink calls and bytes per event,
and a cost model at list prices per million events. Run: make bench (or .venv/bin/python bench/ingest_bench.py).

Two passes over the same seeded traffic: the first times the pipeline's CPU with an in-memory live store;
the second runs the real DynamoDB live store (``DynamoDbLiveStore``) on moto and measures what the cost model
needs: the calls sent, and the capacity units each write and read costs, worked out from the items before and
after it by DynamoDB's documented rules (``tests/support/dynamodb_meter.py``)."""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))
sys.path.insert(0, str(ROOT))

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
    # Provisioned capacity (the clickport:liveCapacity=provisioned option): per unit-hour.
    "dynamodb_wcu_hour": 0.00065,
    "dynamodb_rcu_hour": 0.00013,
    "firehose_ingest_per_gb": 0.029,
    "firehose_format_conversion_per_gb": 0.018,
    "firehose_dynamic_partitioning_per_gb": 0.020,
    "s3_put_per_thousand": 0.005,
}
# Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB.
FULL_CPU_MEMORY_MB = 1769
# Assumed round-trip latencies inside a region (wall time the function waits, billed as duration).
LATENCY_MS = {"dynamodb": 4.0, "firehose": 15.0}


def event_function_memory_mb() -> int:
    """The event function's memory as the stack deploys it (read from ``infra/functions.py`` without importing
    the CDK)."""
    import re

    source = (ROOT / "infra" / "functions.py").read_text()
    return int(re.search(r'"event": FunctionSpec\(\s*"[^"]*",\s*(\d+)', source).group(1))


class CountingLive:
    """An in-memory live store (the stub of the CPU pass); its counts are not the cost model's input."""

    concurrent_lookups = True  # as the DynamoDB store the event function runs with: the lookup goes on a thread

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

    def get_session(self, site_id, session_id, now_ms, consistent=True):
        self._r()
        return self.sessions.get((site_id, session_id))

    def record_event(self, site_id, session_id, *, ts_ms, page, page_visit_id, pageview, scroll, expires_at,
                     started_ms=None):
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

    def visitor_session(self, site_id, visitor_id, now_ms, idle_ms, consistent=True):
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


def traffic(events: int, seed: int):
    """The seeded traffic of both passes: (schedule, per-event choices, site)."""
    rng = random.Random(seed)
    site = Site("s_bench", "example.com", datetime.now(timezone.utc), first_event_date=datetime.now().date())
    agents = user_agents(rng, max(events // 3, 1))
    referrers = [None, None, "https://www.google.com/", "https://t.co/x", "https://news.ycombinator.com/",
                 "https://chatgpt.com/", "https://blog.example.org/post"]
    pages = ["/", "/pricing", "/blog/a", "/blog/b", "/docs", "/signup"]
    # The wall clock decides rate-counter expiry: the traffic starts now, as in production.
    start = datetime.now(timezone.utc)
    schedule = visit_schedule(rng, events, agents, start)
    choices = []
    for _ in schedule:
        path = rng.choice(pages)
        choices.append({"url": f"https://example.com{path}?utm_source=x" if rng.random() < 0.1
                        else f"https://example.com{path}", "referrer": rng.choice(referrers),
                        "screen_width": rng.choice([390, 412, 1280, 1440, 1920])})
    return schedule, choices, site, len(agents)


def replay(live, sink, schedule, choices, site, on_event=None) -> list[float]:
    """Send the traffic through a pipeline over ``live``; CPU ms per event (thread time)."""
    pipeline = EventPipeline(live=live, sink=sink, config=NullConfig(), drops=DropCounter())
    sessions_by_visit: dict = {}
    durations = []
    for (ts, visit, ip, agent, tracked), fields in zip(schedule, choices):
        fields = dict(fields)
        if tracked:
            fields["domain"] = "example.com"
            if visit in sessions_by_visit:
                fields["session_id"] = sessions_by_visit[visit]
        body = TrackRequest(**fields) if tracked else EventRequest(**fields)
        arrival = Arrival(site, body, ts, ip, agent, {"country": "DE", "region": None, "city": None},
                          "track" if tracked else "event")
        mark = on_event() if on_event else None
        t0 = time.process_time_ns()  # every thread's CPU: the session lookup runs on a thread of its own
        result = pipeline.ingest(arrival)
        durations.append((time.process_time_ns() - t0) / 1e6)
        if on_event:
            on_event(arrival.origin, mark)
        if tracked and getattr(result, "session_id", None):
            sessions_by_visit[visit] = result.session_id
    return durations


def measured_live(schedule, choices, site):
    """The second pass: the real live store on moto, metered. Returns (meter, sink, per-path figures).

    A call of the session lookup that runs while the rate-limit update is in flight (``EventPipeline``) is
    counted as overlapped: the function waits for one round trip, not two."""
    import os

    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    import boto3
    from moto import mock_aws

    from clickport import tables
    from clickport.adapters.dynamodb_live import DynamoDbLiveStore
    from tests.support.dynamodb_meter import Meter

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**tables.LIVE_TABLE.create_table_kwargs("bench-live"))
        meter = Meter(tables.LIVE_TABLE, boto3.client("dynamodb", region_name="us-east-1")).attach(client)
        live, sink = DynamoDbLiveStore("bench-live", client=client), CountingSink()
        # events, calls, write units, read units, calls overlapped with the rate limit
        per_path: dict = {"track": [0, 0, 0.0, 0.0, 0], "event": [0, 0, 0.0, 0.0, 0]}

        def on_event(origin=None, mark=None):
            now = (*meter.snapshot(), sink.calls, len(meter.log))
            if origin is None:
                return now
            totals = per_path[origin]
            totals[0] += 1
            totals[1] += now[0] - mark[0] + now[3] - mark[3]
            totals[2] += now[1] - mark[1]
            totals[3] += now[2] - mark[2]
            looked_up = sum(1 for entry in meter.log[mark[4]:] if entry["thread"].startswith("session-lookup"))
            totals[4] += min(looked_up, 1)
            return None

        replay(live, sink, schedule, choices, site, on_event)
    return meter, sink, per_path


def run(events: int, seed: int, memory_mb: int | None = None) -> dict:
    schedule, choices, site, agents = traffic(events, seed)
    durations = sorted(replay(CountingLive(), CountingSink(), schedule, choices, site))
    meter, sink, per_path = measured_live(schedule, choices, site)
    n = len(durations)
    calls = sum(meter.calls.values())
    overlapped = sum(v[4] for v in per_path.values())
    report = {
        "events": n,
        "distinct_user_agents": agents,
        "cpu_ms_median": round(statistics.median(durations), 4),
        "cpu_ms_p99": round(durations[int(n * 0.99) - 1], 4),
        "store_and_sink_calls_per_event": round((calls + sink.calls) / n, 3),
        "dynamodb_round_trips_waited_per_event": round((calls - overlapped) / n, 3),
        "dynamodb_calls_per_event": {op: round(count / n, 3) for op, count in sorted(meter.calls.items())},
        "by_path": {k: {"share": round(v[0] / n, 3), "calls": round(v[1] / v[0], 3),
                        "round_trips_waited": round((v[1] - v[4]) / v[0], 3),
                        "write_units": round(v[2] / v[0], 3), "read_units": round(v[3] / v[0], 3)}
                    for k, v in per_path.items() if v[0]},
        "dynamodb_write_units_per_event": round(meter.write_units / n, 3),
        "— table": round(meter.table_write_units / n, 3),
        "— realtime index": round(sum(meter.index_write_units.values()) / n, 3),
        "dynamodb_read_units_per_event": round(meter.read_units / n, 3),
        "sink_bytes_per_event": round(sink.bytes / n, 1),
    }
    memory_mb = memory_mb or event_function_memory_mb()
    report["cost_per_million_events_usd"] = cost_model(report, (calls - overlapped) / n, sink, n, memory_mb,
                                                       meter.write_units / n, meter.read_units / n)
    report["provisioned_live_table"] = provisioned_model(report["cost_per_million_events_usd"],
                                                         meter.write_units / n, meter.read_units / n)
    return report


def provisioned_model(on_demand: dict, write_units: float, read_units: float,
                      utilizations=(0.5, 0.7, 0.9)) -> dict:
    """Steady traffic on provisioned capacity: autoscaling keeps consumed/provisioned near the target, so
    each event pays its units divided by the utilization, at unit-hour prices. (Per million events; the
    minimum units are paid whatever the traffic: see docs/deploy.md for the break-even.)"""
    hours_per_unit_second = 1 / 3600 * 1_000_000  # a unit per second for a million events' worth of seconds
    rest = on_demand["total"] - on_demand["dynamodb_writes"] - on_demand["dynamodb_reads"]
    out = {}
    for u in utilizations:
        dynamodb = (write_units * PRICE["dynamodb_wcu_hour"] + read_units * PRICE["dynamodb_rcu_hour"]) / u \
            * hours_per_unit_second
        out[f"target_{round(u * 100)}pct"] = {"dynamodb": round(dynamodb, 4), "total": round(rest + dynamodb, 4)}
    return out


def cost_model(report: dict, dynamodb_round_trips: float, sink: CountingSink, n: int, memory_mb: int,
               write_units: float, read_units: float) -> dict:
    """Per million events. ``dynamodb_round_trips``: the DynamoDB calls the function waits for, one after the
    other (calls that overlap count once). ``read_units`` are already weighted (a strongly consistent read of
    up to 4 KB is one unit, an eventually consistent one half)."""
    cpu_ms = report["cpu_ms_median"] * FULL_CPU_MEMORY_MB / memory_mb  # a fraction of a vCPU below 1,769 MB
    wait_ms = dynamodb_round_trips * LATENCY_MS["dynamodb"] + (sink.calls / n) * LATENCY_MS["firehose"]
    billed_ms = max(1, math.ceil(cpu_ms + wait_ms))
    million = 1_000_000
    costs = {
        "api_gateway": PRICE["apigw_http_per_million"],
        "lambda_requests": PRICE["lambda_request_per_million"],
        "lambda_duration": million * memory_mb / 1024 * billed_ms / 1000 * PRICE["lambda_arm_gb_second"],
        "dynamodb_writes": write_units * PRICE["dynamodb_write_unit_per_million"],
        "dynamodb_reads": read_units * PRICE["dynamodb_read_unit_per_million"],
        "firehose": (sink.billed_bytes / n) * million / 1e9 * PRICE["firehose_ingest_per_gb"]
        + (sink.bytes / n) * million / 1e9 * (PRICE["firehose_format_conversion_per_gb"]
                                              + PRICE["firehose_dynamic_partitioning_per_gb"]),
        "s3": 0.02,  # delivery PUTs (one object per partition per buffer) and storage of ~100 B/event Parquet
    }
    costs = {k: round(v, 4) for k, v in costs.items()}
    costs["total"] = round(sum(costs.values()), 4)
    costs["assumed_billed_duration_ms"] = billed_ms
    costs["event_function_memory_mb"] = memory_mb
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2_000)  # the moto pass takes minutes
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory-mb", type=int, default=None,
                        help="the event function's memory in the model (default: as infra/functions.py deploys it)")
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.seed, args.memory_mb), indent=2))


if __name__ == "__main__":
    main()
