"""`make bench`: every benchmark in BENCHES, one after the other; ``--only NAME`` runs one.

Each entry is (name, script under bench/, arguments). A benchmark that fails (non-zero exit) is reported
at the end and makes this exit 1; none is skipped. Add yours to the list.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

BENCHES: list[tuple[str, str, list[str]]] = [
    ("ingest", "ingest_bench.py", []),
    ("burst", "burst_bench.py", ["--duration", "60"]),
    ("query", "query_bench.py", []),
    ("bots", "bot_bench.py", []),
    ("dashboard", "dashboard_load.py", []),
]


def main(argv: list[str] | None = None) -> int:
    names = [name for name, _, _ in BENCHES]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=names, help="run this benchmark only")
    args = parser.parse_args(argv)
    selected = [bench for bench in BENCHES if args.only in (None, bench[0])]
    results: list[tuple[str, int, float]] = []
    for name, script, script_args in selected:
        print(f"\n=== {name}: {script} {' '.join(script_args)}".rstrip(), flush=True)
        started = time.monotonic()
        status = subprocess.call([sys.executable, str(BENCH_DIR / script), *script_args])
        results.append((name, status, time.monotonic() - started))
    print("\n=== summary", flush=True)
    for name, status, seconds in results:
        print(f"{name}: {'ok' if status == 0 else f'FAILED (exit {status})'} in {seconds:.0f} s")
    return 0 if all(status == 0 for _, status, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
