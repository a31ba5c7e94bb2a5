"""Imported events are queryable when `clickport import` returns, also while the server runs (spec §9)."""

import json
import os
import subprocess
import sys
import urllib.request

from tests.conftest import BROWSER_UA


def _query(url, key, body):
    request = urllib.request.Request(url + "/api/query", data=json.dumps(body).encode(),
                                     headers={"x-api-key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_import_from_another_process_is_visible_to_the_running_server(server, runtime, site, keys, tmp_path):
    body = {"metrics": ["visitors", "sessions", "pageviews"], "date_range": {"start": "2026-03-01",
                                                                             "end": "2026-03-03"}}
    assert _query(server, keys["read"], body)["results"] == {"visitors": 0, "sessions": 0, "pageviews": 0}
    lines = [
        {"timestamp": "2026-03-01T10:00:00Z", "user_agent": BROWSER_UA, "ip": "203.0.113.1",
         "url": "https://example.com/"},
        {"timestamp": "2026-03-01T10:10:00+01:00", "user_agent": BROWSER_UA, "ip": "203.0.113.1",
         "url": "https://example.com/a"},  # 09:10 UTC: before the first line once sorted
        {"timestamp": "2026-03-02T23:59:59.999Z", "user_agent": BROWSER_UA, "ip": "203.0.113.2",
         "url": "https://example.com/b"},
    ]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    env = {**os.environ, "CLICKPORT_DATA_DIR": str(runtime.settings.data_dir)}
    done = subprocess.run([sys.executable, "-m", "clickport.cli.main", "import", "--site", site.site_id,
                           str(path), "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"read": 3, "stored": 3, "bots": 0, "rejected": []}
    # 09:10 and 10:00 are 50 minutes apart: two sessions of one visitor.
    assert _query(server, keys["read"], body)["results"] == {"visitors": 2, "sessions": 3, "pageviews": 3}
