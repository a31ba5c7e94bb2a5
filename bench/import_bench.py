"""`clickport import` at scale: lines per second and the import process's peak RSS (target < 200 MB).

Generates a seeded NDJSON file (visits over several UTC days, many IPs and User-Agents, pageviews, custom
events with revenue and properties, clicks, form submissions, engagement updates, some bots and some
invalid lines; a visit's lines are written together, so the file is not in timestamp order), imports it
with `clickport import --json` in a subprocess against a fresh data directory, and reports throughput,
peak RSS (the child's ru_maxrss from wait4) and whether stored == read - rejected - bots.

With --parquet it then exports the site (`clickport export`) and loads the export into a second site with
`clickport import --format parquet`, reporting rows per second and peak RSS of both.

Run: .venv/bin/python bench/import_bench.py [--lines 1000000] [--seed 7] [--keep DIR] [--parquet]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))

from ingest_bench import user_agents  # noqa: E402

TARGET_RSS_MB = 200
PAGES = ["/", "/pricing", "/features", "/docs", "/docs/api", "/blog/privacy", "/blog/cookieless-analytics",
         "/about", "/contact", "/signup", "/thank-you"]
REFERRERS = [None, None, None, "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/",
             "https://news.ycombinator.com/item", "https://www.reddit.com/r/privacy/", "https://t.co/abc"]
CAMPAIGNS = [None] * 6 + [("newsletter", "email", "spring"), ("google", "cpc", "brand")]
BOTS = ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.5.0",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "python-requests/2.32.3"]
INVALID = ['{"timestamp": "2026-01-01T00:00:00Z"', '[1, 2, 3]', '{"timestamp": "yesterday", "url": "x"}']


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return f"2a02:{rng.randint(0x1000, 0xffff):x}:{rng.randint(0, 0xffff):x}::{rng.randint(1, 0xffff):x}"
    return f"{rng.choice([31, 46, 62, 78, 81, 84, 93, 95, 109, 151, 176, 188, 212, 217])}." \
           f"{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _visit(rng: random.Random, start: datetime, days: int, agents: list[str]) -> list[dict]:
    ts = start + timedelta(seconds=rng.uniform(0, days * 86400))
    ip, agent = _ip(rng), rng.choice(agents)
    if rng.random() < 0.02:
        agent = rng.choice(BOTS)
    base = {"user_agent": agent, "ip": ip, "screen_width": rng.choice([390, 412, 768, 1366, 1440, 1920])}
    first = {"referrer": rng.choice(REFERRERS)}
    campaign = rng.choice(CAMPAIGNS)
    if campaign:
        first.update(utm_source=campaign[0], utm_medium=campaign[1], utm_campaign=campaign[2])
    lines = []
    for index in range(rng.randint(1, 8)):
        url = f"https://example.com{rng.choice(PAGES)}"
        kind = rng.random()
        if kind < 0.75 or index == 0:
            line = {"type": "pageview", "url": url, **(first if index == 0 else {})}
        elif kind < 0.85:
            line = {"type": "custom", "name": "Purchase", "url": url, "revenue_amount": round(rng.uniform(5, 500), 2),
                    "revenue_currency": rng.choice(["USD", "EUR"]), "meta_keys": ["plan", "seats"],
                    "meta_values": [rng.choice(["pro", "team"]), rng.randint(1, 50)]}
        elif kind < 0.93:
            line = {"type": "click", "name": "Outbound", "url": url, "meta_keys": ["url"],
                    "meta_values": ["https://partner.example.org/"]}
        else:
            line = {"type": "form", "name": "contact", "url": url}
        lines.append({"timestamp": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"), **base, **line})
        ts += timedelta(seconds=rng.expovariate(1 / 45))
    return lines


def generate(path: Path, lines: int, seed: int, days: int = 7) -> dict:
    """Write ``lines`` NDJSON lines; returns what was written by kind."""
    rng = random.Random(seed)
    agents = user_agents(rng, 3000)
    start = datetime(2026, 1, 5, tzinfo=timezone.utc)
    counts = {"lines": 0, "invalid": 0}
    with open(path, "w", encoding="utf-8") as out:
        while counts["lines"] < lines:
            if rng.random() < 0.001:
                out.write(rng.choice(INVALID) + "\n")
                counts["lines"] += 1
                counts["invalid"] += 1
                continue
            for line in _visit(rng, start, days, agents)[: lines - counts["lines"]]:
                out.write(json.dumps(line, separators=(",", ":")) + "\n")
                counts["lines"] += 1
    return counts


def _cli() -> list[str]:
    binary = ROOT / ".venv" / "bin" / "clickport"
    return [str(binary)] if binary.exists() else [sys.executable, "-m", "clickport.cli.main"]


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "CLICKPORT_DATA_DIR": str(data_dir), "CLICKPORT_BACKEND": "local",
            "PYTHONPATH": str(ROOT / "layers" / "common" / "python")}


def create_site(data_dir: Path, domain: str) -> str:
    done = subprocess.run(_cli() + ["sites", "create", "--domain", domain, "--json"], env=_env(data_dir),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["site_id"]


def measured(data_dir: Path, args: list[str]) -> tuple[dict, float, float]:
    """(JSON output, seconds, peak RSS in MB) of one `clickport … --json` subprocess."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        child = subprocess.Popen(_cli() + [*args, "--json"], env=_env(data_dir), stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{args[0]} exited {os.waitstatus_to_exitcode(status)}: {err.read().decode()[-2000:]}")
        return json.loads(out.read()), seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    parser.add_argument("--parquet", action="store_true",
                        help="then export the site and import the export with --format parquet (rows/s)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="clickport-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        path = work / "events.ndjson"
        began = time.perf_counter()
        written = generate(path, args.lines, args.seed)
        print(f"generated {written['lines']:,} lines ({path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - began:.0f} s", flush=True)
        data = work / "data"
        site = create_site(data, "example.com")
        summary, seconds, rss_mb = measured(data, ["import", "--site", site, str(path)])
        rejected = len(summary["rejected"])
        consistent = summary["stored"] == summary["read"] - rejected - summary["bots"]
        report = {
            "lines": summary["read"], "stored": summary["stored"], "bots": summary["bots"], "rejected": rejected,
            "seconds": round(seconds, 1), "lines_per_s": round(summary["read"] / seconds),
            "peak_rss_mb": round(rss_mb, 1), "target_rss_mb": TARGET_RSS_MB,
            "rss_target_met": rss_mb < TARGET_RSS_MB, "stored_is_read_minus_rejected_minus_bots": consistent,
            "invalid_lines_written": written["invalid"],
        }
        print(json.dumps(report, indent=2), flush=True)
        if not consistent or rejected != written["invalid"]:
            raise SystemExit("the summary does not add up")
        if args.parquet:
            exported, export_s, export_rss = measured(data, ["export", "--site", site, "--out", str(work / "export")])
            copy = create_site(data, "copy.example.com")
            bulk, bulk_s, bulk_rss = measured(data, ["import", "--site", copy, "--format", "parquet",
                                                     str(work / "export")])
            print(json.dumps({
                "export_rows": exported["rows"], "export_seconds": round(export_s, 1),
                "export_rows_per_s": round(exported["rows"] / export_s), "export_peak_rss_mb": round(export_rss, 1),
                "parquet_import_rows": bulk["read"], "parquet_import_stored": bulk["stored"],
                "parquet_import_seconds": round(bulk_s, 1), "parquet_import_rows_per_s": round(bulk["read"] / bulk_s),
                "parquet_import_peak_rss_mb": round(bulk_rss, 1),
            }, indent=2))
            if bulk["stored"] != summary["stored"] or bulk["rejected"]:
                raise SystemExit("the Parquet round trip lost rows")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
