"""The AWS runtime's boto3 clients carry the adapters' timeouts and retries, and a stalled service gives 503.

botocore's ``Config`` docs: "connect_timeout ... The time in seconds till a timeout exception is thrown
when attempting to make a connection. The default is 60 seconds." and the same for ``read_timeout``;
retries: "total_max_attempts -- ... This includes the initial request, so a value of 1 indicates that no
requests will be retried." Without a config a stalled call waits a minute per attempt, far past the
event function's 10 s.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from clickport.adapters import aws_clients
from clickport.adapters.aws_clients import CLIENT_POLICIES, ClientPolicy
from clickport.domain.keys import generate_key
from clickport.errors import StoreUnavailable
from clickport.runtime import Runtime, set_runtime
from clickport.settings import Settings
from tests.conftest import BROWSER_UA


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


def _policy_of(client) -> tuple:
    config = client.meta.config
    return config.connect_timeout, config.read_timeout, config.retries


@pytest.mark.parametrize(
    ("adapter", "service"),
    [("config", "dynamodb"), ("live", "dynamodb"), ("sink", "firehose"), ("engine", "athena")],
)
def test_the_aws_runtime_builds_each_client_with_its_policy(aws_env, adapter, service):
    runtime = Runtime(Settings(backend="aws", region="eu-central-1"))
    client = getattr(runtime, adapter)._client
    policy = CLIENT_POLICIES[service]
    assert client.meta.service_model.service_name == service
    assert client.meta.region_name == "eu-central-1"
    assert _policy_of(client) == (
        policy.connect_timeout,
        policy.read_timeout,
        {"mode": "standard", "total_max_attempts": policy.total_max_attempts},
    )
    assert policy.connect_timeout < 60 and policy.read_timeout < 60  # below botocore's defaults


def test_adapters_built_without_a_client_use_the_same_policy(aws_env):
    from clickport.adapters.dynamodb_live import DynamoDbLiveStore
    from clickport.adapters.firehose_sink import FirehoseEventSink

    assert _policy_of(DynamoDbLiveStore("t")._client)[:2] == (1.0, 1.0)
    assert _policy_of(FirehoseEventSink("s").client)[2]["total_max_attempts"] == CLIENT_POLICIES["firehose"].total_max_attempts


def test_worst_case_counts_every_attempt_and_the_longest_waits():
    policy = ClientPolicy(connect_timeout=1.0, read_timeout=2.0, total_max_attempts=3)
    # Attempts 1 and 2 stall (3 s + 50/100 ms) rather than wait after a throttle (1 s, 2 s); attempt 3 stalls.
    assert policy.worst_case_seconds() == pytest.approx(3.05 + 3.1 + 3.0)
    # With short timeouts the throttling waits (1 s, 2 s, 4 s) are the longer ones.
    assert ClientPolicy(0.1, 0.1, 4).worst_case_seconds() == pytest.approx(1.0 + 2.0 + 4.0 + 0.2)


class StalledEndpoint:
    """An HTTP endpoint that accepts connections and never answers (a stalled AWS service)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connections: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            self.connections.append(connection)

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        for connection in self.connections:
            connection.close()
        self.listener.close()


@pytest.fixture
def stalled(monkeypatch, aws_env):
    endpoint = StalledEndpoint()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", endpoint.url)
    # Small timeouts so that the test is quick; the mechanism is the one the real policy uses.
    monkeypatch.setitem(aws_clients.CLIENT_POLICIES, "dynamodb", ClientPolicy(0.3, 0.3, 2))
    monkeypatch.setitem(aws_clients.CLIENT_POLICIES, "firehose", ClientPolicy(0.3, 0.3, 2))
    yield endpoint
    endpoint.close()


def test_a_stalled_dynamodb_call_ends_after_the_configured_attempts(stalled):
    runtime = Runtime(Settings(backend="aws", region="us-east-1", live_table="live"))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        runtime.live.rate_count("k")
    elapsed = time.monotonic() - started
    assert len(stalled.connections) == 2  # total_max_attempts reached the client
    assert elapsed < aws_clients.CLIENT_POLICIES["dynamodb"].worst_case_seconds() + 0.5


def test_a_stalled_store_answers_503_from_the_event_function_well_inside_its_timeout(stalled, gateway_aws):
    started = time.monotonic()
    status, _, body = gateway_aws(
        "POST", "/api/event", body={"url": "https://example.com/"},
        headers={"x-api-key": generate_key(), "User-Agent": BROWSER_UA},
    )
    elapsed = time.monotonic() - started
    assert status == 503 and body["error"] == "Service Unavailable", body
    assert elapsed < aws_clients.CLIENT_POLICIES["dynamodb"].worst_case_seconds() + 0.5
    assert stalled.connections


@pytest.fixture
def gateway_aws(stalled):
    from tests.conftest import Gateway

    set_runtime(Runtime(Settings(backend="aws", region="us-east-1", key_cache_seconds=0)))
    yield Gateway()
    set_runtime(None)
