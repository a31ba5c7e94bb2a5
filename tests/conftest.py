"""Shared fixtures: an isolated local runtime per test, and ways to call the functions as API Gateway would."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("POWERTOOLS_DEV", "false")
# NOTE: no test may touch the user's own data directory (the per-user default): it lives in a temporary one.
_DATA_HOME = tempfile.mkdtemp(prefix="clickport-tests-xdg-")
os.environ["XDG_DATA_HOME"] = _DATA_HOME
atexit.register(shutil.rmtree, _DATA_HOME, ignore_errors=True)

from clickport.runtime import Runtime, set_runtime  # noqa: E402
from clickport.settings import Settings  # noqa: E402


@pytest.fixture
def runtime(tmp_path):
    """A local runtime with its own data directory, installed for the handlers."""
    instance = Runtime(Settings(data_dir=tmp_path / "data", key_cache_seconds=0))
    set_runtime(instance)
    yield instance
    set_runtime(None)


@pytest.fixture
def site(runtime):
    return runtime.config.create_site("example.com")


@pytest.fixture
def keys(runtime, site):
    """Three keys of the site: both permissions, read only, tracker only."""
    from clickport.domain.keys import issue_key

    return {
        "both": issue_key(runtime.config, site.site_id, ["read", "tracker"])[0],
        "read": issue_key(runtime.config, site.site_id, ["read"])[0],
        "tracker": issue_key(runtime.config, site.site_id, ["tracker"])[0],
    }


BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


class Gateway:
    """Calls the functions' handlers exactly as the local server does (API Gateway v2 events)."""

    def __call__(self, method: str, target: str, body=None, headers=None, ip: str = "198.51.100.7"):
        from clickport.local.apigw import build_event, response_parts
        from clickport.local.functions import LocalLambdaContext, handler_for

        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        function, event = build_event(method, target, dict(headers or {}), data or b"", ip)
        result = handler_for(function)(event, LocalLambdaContext(function_name=function))
        status, out_headers, raw = response_parts(result)
        payload = json.loads(raw) if raw else None
        return status, dict(out_headers), payload


@pytest.fixture
def gateway(runtime):
    return Gateway()


class ServerURL(str):
    """The base URL of a running local server; ``flush()`` publishes its acknowledged events as Parquet."""

    instance = None

    def flush(self) -> None:
        self.instance.flush()


# Small pools: enough to run requests in parallel, quick to start (workers, timeout, started warm).
TEST_FUNCTIONS = {"event": (4, 10.0, 1), "query": (2, 30.0, 1), "realtime": (1, 10.0, 0), "goals": (1, 30.0, 0)}


@pytest.fixture
def server(runtime):
    """The local server (worker processes and all) on a free port, over this test's data directory."""
    from clickport.local.server import start_in_thread
    from clickport.local.workers import FunctionConfig

    functions = {name: FunctionConfig(*config) for name, config in TEST_FUNCTIONS.items()}
    instance, _ = start_in_thread("127.0.0.1", 0, functions=functions)
    url = ServerURL(f"http://127.0.0.1:{instance.server_address[1]}")
    url.instance = instance
    yield url
    instance.shutdown()
    instance.server_close()
