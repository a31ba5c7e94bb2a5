"""The dashboard's full page load over the demo data, measured in headless Chromium.

A fresh data directory gets the demo site (30 days of synthetic traffic); ``clickport serve`` runs on it; Chromium
opens ``/?period=30d`` signed in, RUNS times after one cold load. The figure is the page's own
``data-first-drawn-ms``: from navigation start until the KPI row, the chart and every panel (the map included)
are drawn from the API's answers. Prints the cold load, each warm load, their median and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.devtools import headless_chromium  # noqa: E402
from tests.browser.local_stack import LocalClickport  # noqa: E402


def load_once(browser, url: str) -> int:
    browser.call("Page.navigate", url="about:blank")
    browser.pump(0.3)
    browser.call("Page.navigate", url=url)
    browser.wait_until(lambda: browser.evaluate("!!document.getElementById('app')?.dataset.firstDrawnMs"),
                       "the first full view", timeout=60)
    drawn = int(browser.evaluate("document.getElementById('app').dataset.firstDrawnMs"))
    browser.evaluate("sessionStorage.clear()")  # the next load asks for everything again (the site's domain too)
    return drawn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clickport-dashboard-bench-") as folder:
        stack = LocalClickport(Path(folder) / "data")
        key = stack.command("demo")["key"]
        with stack.serving(), headless_chromium() as browser:
            browser.call("Page.enable")
            browser.call("Emulation.setDeviceMetricsOverride", width=1440, height=900, deviceScaleFactor=1,
                         mobile=False)
            url = f"{stack.origin}/?period=30d#key={key}"
            cold = load_once(browser, url)
            warm = [load_once(browser, url) for _ in range(args.runs)]
    print(f"cold load (server workers starting): {cold} ms")
    print(f"warm loads: {', '.join(map(str, warm))} ms")
    print(f"median {statistics.median(warm):.0f} ms, min {min(warm)} ms, max {max(warm)} ms "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    status = main()
    print(f"({time.monotonic() - started:.0f} s)")
    raise SystemExit(status)
