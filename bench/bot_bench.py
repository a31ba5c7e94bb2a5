"""The bot filter on the held-back corpus (rates by source) and its cost per User-Agent, cold and cached.

    .venv/bin/python bench/bot_bench.py                         # the filter in the tree
    .venv/bin/python bench/bot_bench.py --baseline OLD_BOTS.py  # and an older bots.py, for comparison

The held-back part of tests/support/ua_corpus.py (30 % of every source, by hash) is read only here; the
tests read the tuning part. Counts and rates are printed, never the strings. Cost: CPU time of
``is_bot`` per distinct User-Agent with every cache empty (the User-Agent parse included, as a new
visitor's first event pays it) and again from the cache, over real-browser strings of the corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))
sys.path.insert(0, str(ROOT))

from tests.support import ua_corpus  # noqa: E402

COST_SAMPLE = 3_000  # distinct User-Agents timed; under the filter's cache size, so the second pass hits


def load_filter(path: Path | None) -> ModuleType:
    if path is None:
        from clickport.ingest import bots

        return bots
    spec = importlib.util.spec_from_file_location(f"bots_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rates(module: ModuleType, corpus: ua_corpus.Corpus) -> dict:
    def by_source(labelled: dict[str, str], want: bool) -> dict:
        groups: dict[str, list[int]] = {}
        for ua, source in labelled.items():
            hit = groups.setdefault(source, [0, 0])
            hit[0] += module.is_bot(ua) is want
            hit[1] += 1
        return {source: {"n": n, "rate": k / n} for source, (k, n) in sorted(groups.items())}

    caught = by_source(corpus.bots, True)
    dropped = by_source(corpus.browsers, True)
    bots_n = sum(v["n"] for v in caught.values())
    browsers_n = sum(v["n"] for v in dropped.values())
    return {
        "bots": bots_n,
        "bots_caught": sum(v["rate"] * v["n"] for v in caught.values()) / bots_n,
        "browsers": browsers_n,
        "browsers_dropped": sum(v["rate"] * v["n"] for v in dropped.values()) / browsers_n,
        "caught_by_source": caught,
        "dropped_by_source": dropped,
    }


def cost(module: ModuleType, sample: list[str]) -> dict:
    from clickport.ingest.useragent import parse_user_agent

    def per_ua(uas: list[str]) -> list[float]:
        times = []
        for ua in uas:
            started = time.thread_time_ns()
            module.is_bot(ua)
            times.append((time.thread_time_ns() - started) / 1e3)
        return times

    module.is_bot.cache_clear()
    parse_user_agent.cache_clear()
    module.is_bot(sample[0])  # loads the parser and its regexes once (cold start, not per User-Agent)
    module.is_bot.cache_clear()
    parse_user_agent.cache_clear()
    cold = per_ua(sample[1:])
    cached = per_ua(sample[1:])

    def summary(values: list[float]) -> dict:
        ordered = sorted(values)
        return {
            "median_us": statistics.median(ordered),
            "p99_us": ordered[int(len(ordered) * 0.99)],
            "mean_us": statistics.fmean(ordered),
        }

    return {"cold": summary(cold), "cached": summary(cached)}


def import_seconds(path: Path | None) -> float:
    """Wall time to import the filter in a fresh interpreter (compiling its expressions)."""
    import subprocess

    target = f"import importlib.util as u; s = u.spec_from_file_location('b', {str(path)!r}); m = u.module_from_spec(s); s.loader.exec_module(m)" if path else "import clickport.ingest.bots"
    code = f"import sys, time; sys.path.insert(0, {str(ROOT / 'layers' / 'common' / 'python')!r}); t = time.perf_counter(); {target}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) for _ in range(3)]
    return statistics.median(runs)


def report(name: str, result: dict) -> None:
    r, c = result["rates"], result["cost"]
    print(f"\n{name}")
    print(f"  held-back bots caught:      {r['bots_caught']:.2%} of {r['bots']:,}")
    for source, v in r["caught_by_source"].items():
        print(f"    {source}: {v['rate']:.2%} of {v['n']:,}")
    print(f"  held-back browsers dropped: {r['browsers_dropped']:.3%} of {r['browsers']:,}")
    for source, v in r["dropped_by_source"].items():
        print(f"    {source}: {v['rate']:.3%} of {v['n']:,}")
    print(
        f"  cost per User-Agent, cold: median {c['cold']['median_us']:.0f} µs, p99 {c['cold']['p99_us']:.0f} µs, "
        f"mean {c['cold']['mean_us']:.0f} µs; cached: median {c['cached']['median_us']:.2f} µs"
    )
    print(f"  import (compiling the expressions): {result['import_s'] * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="an older bots.py to measure the same way")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    held_back = ua_corpus.load().part(ua_corpus.HELD_BACK)
    # A fixed, well-mixed sample: ordered by a hash of the string, not alphabetically.
    sample = sorted(held_back.browsers, key=lambda ua: hashlib.sha256(ua.encode()).digest())[: COST_SAMPLE + 1]
    results = {}
    for name, path in (("baseline", args.baseline), ("filter", None)):
        if name == "baseline" and path is None:
            continue
        module = load_filter(path)
        results[name] = {"rates": rates(module, held_back), "cost": cost(module, sample), "import_s": import_seconds(path)}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, result in results.items():
            report(f"{name}{f' ({args.baseline})' if name == 'baseline' else ''}", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
