"""Locally, a change made with `clickport` while the server runs applies to the next request, not after the
functions' 30-second caches expire: allow-list edits, revoked keys."""

from __future__ import annotations

import http.client
import json
from datetime import datetime, timezone

import pytest

from clickport.adapters.sqlite_config import SqliteConfigStore
from clickport.domain.keys import hash_key, issue_key
from clickport.layout import config_db
from clickport.runtime import Runtime, set_runtime
from clickport.settings import Settings
from tests.conftest import BROWSER_UA, TEST_FUNCTIONS


@pytest.fixture
def cached_server(tmp_path):
    """A server whose functions cache keys and sites for 30 s, as `clickport serve` does."""
    from clickport.local.server import start_in_thread
    from clickport.local.workers import FunctionConfig

    runtime = Runtime(Settings(data_dir=tmp_path / "data", key_cache_seconds=30))
    set_runtime(runtime)
    pools = {name: FunctionConfig(*config) for name, config in TEST_FUNCTIONS.items()}
    server, _ = start_in_thread("127.0.0.1", 0, functions=pools)
    yield runtime, server.server_address[1]
    server.shutdown()
    server.server_close()
    set_runtime(None)


def _post(port: int, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, json.dumps(body),
                           {"User-Agent": BROWSER_UA, "Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_an_allow_list_edit_and_a_revocation_apply_to_the_next_request(cached_server):
    runtime, port = cached_server
    site = runtime.config.create_site("example.com")
    key = issue_key(runtime.config, site.site_id, ["tracker"])[0]
    browser = {"domain": "example.com", "url": "https://shop.test/cart"}
    assert _post(port, "/api/track", browser) == (200, {"success": False, "reason": "hostname"})
    assert _post(port, "/api/event", {"url": "https://example.com/"}, {"x-api-key": key})[0] == 200  # cached now

    operator = SqliteConfigStore(config_db(runtime.settings.data_dir))  # another connection, as the CLI's
    try:
        operator.update_site(site.site_id, allow_hosts=["*example.com", "shop.test"])
        status, answer = _post(port, "/api/track", browser)
        assert status == 200 and answer["success"] is True
        operator.revoke_key(hash_key(key), datetime.now(timezone.utc))
        assert _post(port, "/api/event", {"url": "https://example.com/"}, {"x-api-key": key})[0] == 401
    finally:
        operator.close()
