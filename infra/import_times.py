"""Cold import time of each function's handler module, as a Markdown table: ``python -m infra.import_times``.

Each import runs in a fresh interpreter with the settings the stack gives the functions
(``CLICKPORT_BACKEND=aws``), so nothing of the local runtime is loaded. The numbers are for the
machine that runs this (its CPU and Python), not for Lambda's arm64 / Python 3.13: label them so.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys

from infra.bundling import FUNCTIONS_DIR, PACKAGE_DIR

_PROBE = (
    "import sys, time; start = time.perf_counter(); import handler; "
    "print(time.perf_counter() - start); "
    "print(sum(1 for m in sys.modules if m in ('duckdb', 'pyarrow')))"
)


def import_seconds(function: str, runs: int = 5) -> tuple[float, bool]:
    """Median cold import time of ``functions/<function>/handler.py``; and whether duckdb/pyarrow got loaded."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(FUNCTIONS_DIR / function), str(PACKAGE_DIR.parent)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "CLICKPORT_BACKEND": "aws",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    samples, heavy = [], False
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", _PROBE], env=env, cwd=FUNCTIONS_DIR / function, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"importing functions/{function}/handler.py failed:\n{result.stderr}")
        seconds, loaded = result.stdout.split()
        samples.append(float(seconds))
        heavy = heavy or loaded != "0"
    return statistics.median(samples), heavy


def main() -> None:
    machine = f"{platform.machine()}, CPython {platform.python_version()}"
    print(f"| function | handler import, median of 5 cold starts ({machine}) | duckdb/pyarrow loaded |")
    print("|---|---|---|")
    for function in sorted(p.name for p in FUNCTIONS_DIR.iterdir() if (p / "handler.py").is_file()):
        seconds, heavy = import_seconds(function)
        print(f"| {function} | {seconds * 1000:.0f} ms | {'yes' if heavy else 'no'} |")


if __name__ == "__main__":
    main()
