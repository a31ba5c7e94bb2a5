"""The tracker's own Node tests run in the Python suite, and the shipped script stays within its size budget."""

from __future__ import annotations

import gzip
import shutil
import subprocess

from .local_stack import REPO

TRACKER = REPO / "tracker"
GZIP_BUDGET_BYTES = 1536  # 1.5 KB, as the docs promise


def test_tracker_node_tests_pass() -> None:
    node = shutil.which("node")
    assert node, "Node.js is required for the tracker's tests"
    assert (TRACKER / "node_modules" / "jsdom").is_dir() and (TRACKER / "node_modules" / "terser").is_dir(), (
        "tracker/node_modules is missing: run `make setup` (npm install in tracker/)"
    )
    # Test files by name: Node 20 takes a directory, Node 22+ takes files and globs.
    test_files = sorted(str(p.relative_to(REPO)) for p in (TRACKER / "test").glob("*.test.js"))
    assert test_files, "no tracker tests found"
    done = subprocess.run(
        [node, "--test", *test_files], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"node --test tracker/test/*.test.js failed:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, done.stdout[-2000:]


def test_built_tracker_is_at_most_one_and_a_half_kilobytes_gzipped() -> None:
    script = (TRACKER / "dist" / "cp.min.js").read_bytes()
    assert script.strip(), "tracker/dist/cp.min.js is empty"
    size = len(gzip.compress(script, compresslevel=9, mtime=0))
    assert size <= GZIP_BUDGET_BYTES, f"{size} bytes gzipped, budget {GZIP_BUDGET_BYTES}"
