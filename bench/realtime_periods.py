"""The realtime index's sort key, compared on visit-shaped traffic: buckets on the clock (``last_ms // B``,
before) against periods counted from each session's start (``dynamodb_live.realtime_period``), for a few
lengths. Run: .venv/bin/python bench/realtime_periods.py (seconds; results in docs/benchmarks.md).

Per scheme: index write units per event (1 when a session starts, 2 each time its key changes; keys only,
so an unchanged key costs nothing) and candidates per active session of a realtime call (sessions the index
query returns for the last 300 s, divided by those really active in it; each candidate costs half a read
unit). Two traffic shapes: the ingestion bench's visits (1-8 events about 40 s apart) and long-tailed
visits (1 + a geometric number of events, mean 10, about 40 s apart)."""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))

WINDOW_MS = 300_000


def bench_visits(events: int, seed: int) -> list[list[int]]:
    from ingest_bench import traffic

    schedule, _, _, _ = traffic(events, seed)
    visits: dict[int, list[int]] = {}
    for ts, visit, *_ in schedule:
        visits.setdefault(visit, []).append(int(ts.timestamp() * 1000))
    return list(visits.values())


def long_visits(count: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    visits = []
    for _ in range(count):
        ts = rng.randrange(0, 3_600_000)
        times = [ts]
        while rng.random() < 0.9:
            ts += int(rng.expovariate(1 / 40_000))
            times.append(ts)
        visits.append(times)
    return visits


def clock(length_ms: int):
    return (lambda last, start: last // length_ms * length_ms), (lambda since: since // length_ms * length_ms)


def periods(length_ms: int):
    return (lambda last, start: last - (last - start) % length_ms), (lambda since: since - length_ms + 1)


def measure(visits: list[list[int]], scheme, calls: int, seed: int) -> dict:
    key, lower = scheme
    units = events = 0
    for times in visits:
        start, current = times[0], key(times[0], times[0])
        units, events = units + 1, events + 1
        for ts in times[1:]:
            events += 1
            moved = key(ts, start)
            if moved != current:
                units, current = units + 2, moved
    rng = random.Random(seed)
    first, last = min(v[0] for v in visits), max(v[-1] for v in visits)
    candidates = active = 0
    for _ in range(calls):
        now = rng.randrange(first + 4 * WINDOW_MS, last)
        since = now - WINDOW_MS
        for times in visits:
            seen = [ts for ts in times if ts <= now]
            if not seen:
                continue
            active += seen[-1] >= since
            candidates += key(seen[-1], times[0]) >= lower(since)
    return {"index_units_per_event": round(units / events, 3), "candidates_per_active": round(candidates / active, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    shapes = {"bench visits": bench_visits(20_000, args.seed), "long-tailed visits": long_visits(4_000, args.seed)}
    schemes = {"clock, 10 min (before)": clock(600_000), "periods, 5 min": periods(300_000),
               "periods, 6 min (now)": periods(360_000), "periods, 8 min": periods(480_000),
               "periods, 10 min": periods(600_000)}
    print(json.dumps({shape: {name: measure(visits, scheme, args.calls, args.seed)
                              for name, scheme in schemes.items()} for shape, visits in shapes.items()}, indent=2))


if __name__ == "__main__":
    main()
