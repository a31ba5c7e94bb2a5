"""Every Athena call ends by the query deadline: a call that stalls (status, results page, start) is not
waited for past it; the answer is the spec's 504 ("the query engine did not answer in time") well before
the query function's timeout, and a query left running is stopped."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from clickport.adapters import athena_engine
from clickport.adapters.athena_engine import STOP_ALLOWANCE_SECONDS, AthenaQueryEngine
from clickport.errors import GatewayTimeout
from clickport.settings import Settings

QUERY_ID = "11111111-2222-3333-4444-555555555555"
DEADLINE_S = 0.4
ROOT = Path(__file__).resolve().parents[3]


def _settings(timeout=DEADLINE_S):
    return Settings(backend="aws", region="eu-central-1", athena_workgroup="wg", athena_database="db",
                    athena_table="events", athena_timeout_seconds=timeout)


@pytest.fixture
def client():
    return boto3.client("athena", region_name="eu-central-1", aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture
def stall(client):
    """Make the named operation hang (as a stalled connection would) until the test ends."""
    release = threading.Event()
    stalled: list[str] = []

    def install(operation: str):
        method = getattr(client, operation)

        def hang(**kwargs):
            stalled.append(operation)
            release.wait(10)
            return method(**kwargs)

        setattr(client, operation, hang)
        return stalled

    yield install
    release.set()


def _status(stubber, state):
    stubber.add_response("get_query_execution",
                         {"QueryExecution": {"QueryExecutionId": QUERY_ID, "Status": {"State": state}}},
                         {"QueryExecutionId": QUERY_ID})


def _run(client, stubber_setup, stalled_operation, stall):
    stalled = stall(stalled_operation)
    engine = AthenaQueryEngine(_settings(), client=client)
    with Stubber(client) as stubber:
        stubber.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID})
        stubber_setup(stubber)
        began = time.monotonic()
        with pytest.raises(GatewayTimeout) as caught:
            engine.execute("SELECT 1")
        elapsed = time.monotonic() - began
        stubber.assert_no_pending_responses()  # every answer queued was asked for (the stop included)
    return caught.value, elapsed, stalled


def test_a_stalled_status_call_answers_504_at_the_deadline_and_stops_the_query(client, stall):
    def setup(stubber):
        stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": QUERY_ID})

    error, elapsed, stalled = _run(client, setup, "get_query_execution", stall)
    assert error.status == 504
    assert stalled == ["get_query_execution"]
    assert DEADLINE_S <= elapsed < DEADLINE_S + STOP_ALLOWANCE_SECONDS


def test_a_stalled_results_page_answers_504_at_the_deadline(client, stall):
    def setup(stubber):
        _status(stubber, "SUCCEEDED")

    error, elapsed, stalled = _run(client, setup, "get_query_results", stall)
    assert error.status == 504 and stalled == ["get_query_results"]
    assert DEADLINE_S <= elapsed < DEADLINE_S + 0.3


def test_a_stalled_start_answers_504_at_the_deadline(client, stall):
    stalled = stall("start_query_execution")
    engine = AthenaQueryEngine(_settings(), client=client)
    with Stubber(client):
        began = time.monotonic()
        with pytest.raises(GatewayTimeout):
            engine.execute("SELECT 1")
    assert stalled == ["start_query_execution"]
    assert DEADLINE_S <= time.monotonic() - began < DEADLINE_S + 0.3


def test_the_latest_answer_comes_before_the_query_functions_timeout():
    """The settings cap the deadline (infra/config.py) and the stop's allowance comes on top; the query
    functions' timeout (infra/functions.py) must leave room for both and the answer itself."""
    config = (ROOT / "infra" / "config.py").read_text()
    cap = int(re.search(r'"athena_timeout_seconds": _int_between\(1, (\d+)\)', config).group(1))
    functions = (ROOT / "infra" / "functions.py").read_text()
    for name in ("query", "goals"):
        timeout = int(re.search(rf'"{name}": FunctionSpec\(\s*"[^"]*",\s*\d+,\s*(\d+)', functions).group(1))
        assert cap + STOP_ALLOWANCE_SECONDS + 0.5 <= timeout, (name, cap, timeout)
    assert athena_engine.MAX_POLL_SECONDS <= 1.0
