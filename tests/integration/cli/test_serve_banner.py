"""`clickport serve --demo` (what `make dev` runs): the lines its banner prints work when pasted into a shell, in
another folder, on the first run and after a restart; the demo page's pageview counts; drops are logged.

The pasted lines run in `sh` exactly as printed, against the running server, and their answers are checked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from clickport.demo import DEMO_DOMAIN
from tests.conftest import BROWSER_UA
from tests.support.processes import clickport_executable, free_port

PASTED_LINES = 4  # after "Try it": the key, an event, the overview query, the demo page's count


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CLICKPORT_") and k != "XDG_DATA_HOME"}
    env["HOME"] = str(home)
    return env


@contextmanager
def serving(env: dict[str, str], cwd: Path, log: Path) -> Iterator[list[str]]:
    """Run ``clickport serve --demo``; yield the banner's lines once it is complete."""
    with open(log, "wb") as out:
        process = subprocess.Popen([clickport_executable(), "serve", "--demo"], cwd=cwd, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        yield _banner(process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _banner(process: subprocess.Popen, log: Path, timeout: float = 120.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text(errors="replace").splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("Try it")]
        if starts and len(lines) > starts[0] + PASTED_LINES:
            return lines
        assert process.poll() is None, f"clickport serve exited ({process.returncode}):\n{log.read_text()}"
        time.sleep(0.1)
    raise AssertionError(f"no complete banner within {timeout} s:\n{log.read_text()}")


def _pasted(banner: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(banner) if line.startswith("Try it")) + 1
    return [line.removeprefix("  ") for line in banner[start:start + PASTED_LINES]]


def _paste(lines: list[str], cwd: Path, env: dict[str, str]) -> list[dict]:
    """Run the lines in a POSIX shell as a user pasting them would; the answers, one JSON document each."""
    done = subprocess.run(["sh", "-c", "\n".join(lines)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and not done.stderr, (done.returncode, done.stderr)
    return [json.loads(line) for line in done.stdout.splitlines()]


def _field(banner: list[str], name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in banner if line.startswith(f"  {name}:"))


def _track(url: str, body: dict) -> dict:
    request = urllib.request.Request(f"{url}/api/track", data=json.dumps(body).encode(), method="POST",
                                     headers={"User-Agent": BROWSER_UA, "Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def test_banner_lines_work_when_pasted_on_the_first_run_and_after_a_restart(tmp_path):
    home, project, elsewhere = tmp_path / "home", tmp_path / "project", tmp_path / "elsewhere"
    for folder in (home, project, elsewhere):
        folder.mkdir()
    env = {**_base_env(home), "CLICKPORT_PORT": str(free_port())}
    default_dir = home / ".local" / "share" / "clickport"

    with serving(env, project, tmp_path / "first.log") as banner:
        url = banner[next(i for i, line in enumerate(banner) if line.startswith("Clickport local server"))].split(
            ": ", 1)[1]
        assert _field(banner, "data") == f"{default_dir}   (the default; CLICKPORT_DATA_DIR sets another)"
        assert _field(banner, "demo site").endswith(f"({DEMO_DOMAIN})")
        assert _field(banner, "key").startswith("ck_")
        key = _field(banner, "key").split()[0]
        assert _field(banner, "dashboard") == f"{url}/#key={key}   (opens signed in)"
        with urllib.request.urlopen(f"{url}/", timeout=30) as answer:  # the dashboard's page
            assert answer.headers["Content-Type"].startswith("text/html") and b"/dashboard/app-" in answer.read()
        assert _field(banner, "demo page").startswith(f"{url}/demo/ ")

        event, overview, page = _paste(_pasted(banner), elsewhere, _base_env(home))
        assert event["success"] is True and isinstance(event["session_id"], int)
        assert overview["results"]["visitors"] > 0 and overview["results"]["pageviews"] > 0
        assert page["results"] == {"pageviews": 0}

        # The demo page's pageview, as the tracker sends it from the page the server serves.
        assert _track(url, {"type": "pageview", "url": f"{url}/demo/", "domain": DEMO_DOMAIN,
                            "screen_width": 1280})["success"] is True
        assert _paste(_pasted(banner), elsewhere, _base_env(home))[2]["results"] == {"pageviews": 1}

        # A drop is logged with its reason, and without the client's address.
        assert _track(url, {"type": "pageview", "url": "https://elsewhere.example.net/", "domain": DEMO_DOMAIN}) == {
            "success": False, "reason": "hostname"}
        deadline = time.monotonic() + 10
        while "event dropped: hostname" not in (tmp_path / "first.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        drops = [line for line in (tmp_path / "first.log").read_text().splitlines() if "event dropped" in line]
        assert len(drops) == 1 and drops[0].endswith(
            "clickport.drops event dropped: hostname: the page's host is not the site's domain or on its "
            "allow-list, or no site has the script's data-domain (see 'clickport sites list' and docs/tracker.md)")
        assert "127.0.0.1" not in drops[0]

    # Restarted, with the data directory given relative to the server's folder: the key is not shown again,
    # and the lines still work from another folder, for a user whose own default directory is elsewhere.
    restart_env = {**env, "CLICKPORT_DATA_DIR": os.path.relpath(default_dir, tmp_path)}
    with serving(restart_env, tmp_path, tmp_path / "second.log") as banner:
        assert _field(banner, "data") == f"{default_dir}   (from CLICKPORT_DATA_DIR)"
        assert _field(banner, "key").startswith("not shown again")
        assert _field(banner, "dashboard").endswith("/   (sign in with a read key)")
        event, overview, page = _paste(_pasted(banner), elsewhere, _base_env(tmp_path / "another-home"))
        assert event["success"] is True
        assert overview["results"]["visitors"] > 0
        assert page["results"] == {"pageviews": 1}
    assert not (project / ".clickport").exists() and not (elsewhere / ".clickport").exists()
