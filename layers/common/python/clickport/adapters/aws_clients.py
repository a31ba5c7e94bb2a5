"""The boto3 clients of the AWS adapters, each with its timeouts and retries (botocore ``Config``).

A plain ``boto3.client`` waits 60 s to connect and 60 s per read (botocore's ``Config`` docs:
"connect_timeout ... The default is 60 seconds", "read_timeout ... The default is 60 seconds"), so
one stalled call outlives the event function's 10 s and API Gateway's 30 s: the client gets a gateway
error instead of the clean 503 (``StoreUnavailable``) the adapters give when a call fails. Every client
here uses the standard retry mode with a total attempt count (botocore: "total_max_attempts -- An
integer representing the maximum number of total attempts that will be made on a single request. This
includes the initial request, so a value of 1 indicates that no requests will be retried.") and
timeouts small enough that a call that keeps failing ends well inside its function's timeout
(``ClientPolicy.worst_case_seconds``; ``tests/integration/stores/test_aws_clients.py`` checks both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# botocore's standard mode waits rand(0, 1) * min(base * 2 ** i, 20 s) before retry i (0-based), with
# base 1 s after a throttling error and 50 ms after other errors, 25 ms for DynamoDB
# (botocore.retries.standard.ExponentialBackoff.delay_amount).
STANDARD_MODE_THROTTLING_BASE_S = 1.0
STANDARD_MODE_OTHER_BASE_S = 0.05
STANDARD_MODE_MAX_BACKOFF_S = 20.0


@dataclass(frozen=True)
class ClientPolicy:
    connect_timeout: float
    read_timeout: float
    total_max_attempts: int

    def config(self) -> Any:
        from botocore.config import Config

        return Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"mode": "standard", "total_max_attempts": self.total_max_attempts},
            tcp_keepalive=True,
        )

    def worst_case_seconds(self) -> float:
        """The longest one call can take before it raises. Each attempt but the last either stalls (both
        timeouts, then a short wait) or is throttled (answered at once, then a wait of up to 2 ** i s),
        whichever is longer; the last one stalls."""
        stall = self.connect_timeout + self.read_timeout

        def wait(i: int, base: float) -> float:
            return min(base * 2**i, STANDARD_MODE_MAX_BACKOFF_S)

        retried = sum(
            max(stall + wait(i, STANDARD_MODE_OTHER_BASE_S), wait(i, STANDARD_MODE_THROTTLING_BASE_S))
            for i in range(self.total_max_attempts - 1)
        )
        return retried + stall


# DynamoDB answers single-item calls in milliseconds; Firehose's PutRecordBatch in tens of
# milliseconds; Athena's control calls (start, status, results pages) within a few seconds. The event
# function (10 s) makes its DynamoDB calls and one Firehose call; the query functions (29 s) poll Athena.
CLIENT_POLICIES: dict[str, ClientPolicy] = {
    "dynamodb": ClientPolicy(connect_timeout=1.0, read_timeout=1.0, total_max_attempts=3),
    "firehose": ClientPolicy(connect_timeout=1.0, read_timeout=2.0, total_max_attempts=2),
    "athena": ClientPolicy(connect_timeout=1.0, read_timeout=3.0, total_max_attempts=2),
    # The query functions' one GET of a site's compaction watermark (a few bytes) before each statement.
    "s3": ClientPolicy(connect_timeout=1.0, read_timeout=2.0, total_max_attempts=2),
}


def aws_client(service: str, region: str | None = None) -> Any:
    """A low-level client of ``service`` with its policy's timeouts and retries."""
    import boto3

    return boto3.client(service, region_name=region, config=CLIENT_POLICIES[service].config())
