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
