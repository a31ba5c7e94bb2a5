"""The shipped dashboard (dashboard/dist): a fresh build of dashboard/src, within its size budget, self-contained;
and the dashboard's own Node tests."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess

from .local_stack import REPO

DASHBOARD = REPO / "dashboard"
DIST = DASHBOARD / "dist"
GZIP_BUDGET_BYTES = 150 * 1024  # docs/dashboard.md


def test_dist_is_a_fresh_build_of_the_sources() -> None:
    node = shutil.which("node")
    assert node, "Node.js is required to build the dashboard"
    assert (DASHBOARD / "node_modules" / "esbuild").is_dir(), (
        "dashboard/node_modules is missing: run `make setup` (npm install in dashboard/)")
    done = subprocess.run([node, "scripts/build.js", "--check"], cwd=DASHBOARD, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def test_dashboard_node_tests_pass() -> None:
    node = shutil.which("node")
    assert node, "Node.js is required for the dashboard's tests"
    # Test files by name: Node 20 takes a directory, Node 22+ takes files and globs.
    test_files = sorted(str(p.relative_to(DASHBOARD)) for p in (DASHBOARD / "test").glob("*.test.js"))
    assert test_files, "no dashboard tests found"
    done = subprocess.run([node, "--test", *test_files], cwd=DASHBOARD, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"node --test dashboard/test failed:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, done.stdout[-2000:]


def test_the_served_files_are_at_most_150_kilobytes_gzipped() -> None:
    files = [p for p in DIST.iterdir() if p.is_file()]
    assert {p.suffix for p in files} == {".html", ".js", ".css", ".json"}
    total = sum(len(gzip.compress(p.read_bytes(), compresslevel=9, mtime=0)) for p in files)
    assert total <= GZIP_BUDGET_BYTES, f"{total} bytes gzipped, budget {GZIP_BUDGET_BYTES}"


def test_the_page_loads_its_own_files_only() -> None:
    page = (DIST / "index.html").read_text()
    referenced = set(re.findall(r'(?:src|href)="([^"]+)"', page)) - {"data:,"}
    assert referenced == {f"/dashboard/{p.name}" for p in DIST.iterdir() if p.suffix in (".js", ".css")}
    assert "default-src 'self'" in page  # the content security policy allows nothing from elsewhere
    styles = next(DIST.glob("app-*.css")).read_text()
    assert "@import" not in styles and "@font-face" not in styles and "url(http" not in styles
    script = next(DIST.glob("app-*.js")).read_text()
    world = next(DIST.glob("world-*.json")).name
    assert f"/dashboard/{world}" in script
    assert not re.search(r"https?://(?!www\.w3\.org/)", script), "the script names an outside address"
