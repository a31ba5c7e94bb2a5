"""`make bench` runs the ingestion bench: a small run of it must work, so the cost model cannot break unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_ingestion_bench_runs_and_prices_every_item():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "ingest_bench.py"), "--events", "40"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    cost = report["cost_per_million_events_usd"]
    items = ("api_gateway", "lambda_requests", "lambda_duration", "dynamodb_writes", "dynamodb_reads", "firehose", "s3")
    assert all(cost[item] > 0 for item in items)
    assert abs(cost["total"] - sum(cost[item] for item in items)) < 0.01
    assert report["events"] == 40 and report["dynamodb_write_units_per_event"] >= 2  # the rate limit + the session
