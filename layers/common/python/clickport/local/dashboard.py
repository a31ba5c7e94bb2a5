"""The dashboard's built files (``dashboard/dist``) as static routes: ``/`` its page, ``/dashboard/<file>`` the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from clickport.http.envelope import error_body
from clickport.local.functions import repository_root

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}


def dashboard_dir() -> Path:
    return repository_root() / "dashboard" / "dist"


def _file(path: Path) -> Callable[[], tuple[int, str, bytes]]:
    def read() -> tuple[int, str, bytes]:
        if not path.is_file():
            return 404, "application/json", json.dumps(error_body(404, "dashboard not built")).encode()
        return 200, CONTENT_TYPES.get(path.suffix, "application/octet-stream"), path.read_bytes()

    return read


def dashboard_routes() -> dict[str, Callable[[], tuple[int, str, bytes]]]:
    """``/`` and one route per built file; the names carry a content hash, so the table is fixed per build."""
    folder = dashboard_dir()
    routes = {"/": _file(folder / "index.html")}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix in CONTENT_TYPES and path.name != "index.html":
                routes[f"/dashboard/{path.name}"] = _file(path)
    return routes
