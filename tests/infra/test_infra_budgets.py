"""Time and throughput budgets of the functions against the AWS limits they run into."""

from __future__ import annotations

import pytest

from clickport.adapters.aws_clients import CLIENT_POLICIES
from infra.functions import FUNCTION_SPECS

# What each function calls (its capabilities in infra/functions.py → the client it uses).
SERVICES_OF_NEED = {
    "config": "dynamodb",
    "site-first-event": "dynamodb",
    "live-read": "dynamodb",
    "live-write": "dynamodb",
    "firehose": "firehose",
    "athena": "athena",
}
MARGIN_S = 1.0  # what a handler needs around one failed call to answer 503


@pytest.mark.parametrize("function", sorted(FUNCTION_SPECS))
def test_a_stalled_call_ends_inside_the_timeout_of_every_function_that_makes_it(function):
    spec = FUNCTION_SPECS[function]
    services = {SERVICES_OF_NEED[need] for need in spec.needs if need in SERVICES_OF_NEED}
    assert services
    for service in services:
        assert CLIENT_POLICIES[service].worst_case_seconds() + MARGIN_S < spec.timeout_seconds, (function, service)


def test_the_sinks_retries_and_one_stalled_call_end_inside_the_event_functions_timeout():
    from clickport.adapters.firehose_sink import RETRY_BUDGET_S

    worst = RETRY_BUDGET_S + CLIENT_POLICIES["firehose"].worst_case_seconds()
    assert worst + MARGIN_S < FUNCTION_SPECS["event"].timeout_seconds


# The burst budget of the event path (docs/deploy.md, "Bursts"): 5,000 events/s for 60 s in us-east-1.
BURST_EVENTS_PER_SECOND = 5000
RETRY_HEADROOM = 1.25  # calls that are refused and sent again use the quota too
# Firehose, PutRecord API reference: "By default, each Firehose stream can take in up to 2,000 transactions
# per second, 5,000 records per second, or 5 MB per second." (US East (N. Virginia), US West (Oregon) and
# Europe (Ireland); the quota page gives 1,000 calls/s and 1 MiB/s elsewhere.)
FIREHOSE_CALLS_PER_STREAM = {"us-east-1": 2000, "other": 1000}
FIREHOSE_RECORDS_PER_STREAM = 5000
FIREHOSE_BYTES_PER_STREAM = {"us-east-1": 5 * 1024 * 1024, "other": 1024 * 1024}
RECORD_BYTES = 694  # measured mean Firehose record (docs/benchmarks.md)
# DynamoDB: "New on-demand tables will be able to sustain up to 4,000 writes per second and 12,000 reads per
# second." Measured: 2.36 write units per event, table and realtime index together (docs/benchmarks.md).
NEW_TABLE_WRITES_PER_SECOND = 4000
WRITE_UNITS_PER_EVENT = 2.36
RECOMMENDED_LIVE_WARM_WRITES = 20000  # what docs/deploy.md tells a burst-ready deployment to set
# API Gateway HTTP API account quota per region: 10,000 requests/s, burst 5,000.
API_ACCOUNT_RATE, API_ACCOUNT_BURST = 10000, 5000


def test_the_default_stack_takes_the_burst_at_the_api_and_at_firehose_in_us_east_1():
    from infra.config import DeployConfig

    config = DeployConfig()
    assert BURST_EVENTS_PER_SECOND <= config.event_throttle_rate_limit <= API_ACCOUNT_RATE
    assert config.event_throttle_burst_limit <= API_ACCOUNT_BURST
    # Every event is one PutRecordBatch call (a request's events are acknowledged only once stored).
    calls = BURST_EVENTS_PER_SECOND * RETRY_HEADROOM
    assert config.delivery_streams * FIREHOSE_CALLS_PER_STREAM["us-east-1"] >= calls
    assert config.delivery_streams * FIREHOSE_RECORDS_PER_STREAM >= calls
    assert config.delivery_streams * FIREHOSE_BYTES_PER_STREAM["us-east-1"] >= calls * RECORD_BYTES
    # Elsewhere the default is short by design: docs/deploy.md names the setting to raise.
    assert config.delivery_streams * FIREHOSE_CALLS_PER_STREAM["other"] < calls


def test_the_live_table_needs_the_documented_pre_warming_for_the_burst():
    writes = BURST_EVENTS_PER_SECOND * WRITE_UNITS_PER_EVENT
    assert writes > NEW_TABLE_WRITES_PER_SECOND  # a new on-demand table alone would throttle
    assert writes * 1.1 <= RECOMMENDED_LIVE_WARM_WRITES
