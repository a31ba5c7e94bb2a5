"""`clickport` run from different folders sees one data directory and leaves no `.clickport/` behind."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.support.processes import clickport_executable


def _clickport(cwd: Path, env: dict[str, str], *args: str):
    done = subprocess.run([clickport_executable(), *args, "--json"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sites_created_in_one_folder_are_listed_from_another(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CLICKPORT_DATA_DIR", "XDG_DATA_HOME", "CLICKPORT_BACKEND")}
    env["HOME"] = str(tmp_path / "home")
    first, second = tmp_path / "project", tmp_path / "elsewhere" / "deeper"
    first.mkdir()
    second.mkdir(parents=True)

    created = _clickport(first, env, "sites", "create", "--domain", "example.com")
    listed = _clickport(second, env, "sites", "list")

    assert [site["site_id"] for site in listed] == [created["site_id"]]
    assert not (first / ".clickport").exists() and not (second / ".clickport").exists()
    assert (tmp_path / "home" / ".local" / "share" / "clickport" / "config.sqlite3").is_file()
