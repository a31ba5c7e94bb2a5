"""The local server's dashboard routes: ``/`` is the built page, ``/dashboard/<file>`` each built file, and
nothing else under ``/dashboard/`` (an unknown name is the API's JSON 404)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from clickport.local.dashboard import dashboard_dir

TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".json": "application/json"}


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_the_local_server_serves_the_built_dashboard_at_the_root(server):
    status, content_type, page = _get(server + "/")
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    assert page == (dashboard_dir() / "index.html").read_bytes()
    named = re.findall(r'(?:src|href)="/dashboard/([^"]+)"', page.decode())
    assert sorted(named) == sorted(p.name for p in dashboard_dir().iterdir() if p.suffix in (".js", ".css"))
    for path in dashboard_dir().iterdir():
        if path.name == "index.html":
            continue
        status, content_type, body = _get(f"{server}/dashboard/{path.name}")
        assert (status, content_type, body) == (200, TYPES[path.suffix], path.read_bytes()), path.name


def test_an_unknown_dashboard_file_is_the_apis_json_404(server):
    status, content_type, body = _get(server + "/dashboard/app-0000000000.js")
    assert (status, content_type) == (404, "application/json")
    assert json.loads(body)["error"] == "Not Found"
