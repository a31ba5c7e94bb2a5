"""AWS QueryEngine: Athena in the stack's workgroup, polled with backoff under a timeout below API Gateway's 30 s.

Result reuse is asked for only when the caller says the range is over (it ends before
today) and, with compaction on, every day it reads is served from the compacted table.
A query still running at the deadline is stopped (StopQueryExecution) and answered 504; throttling and unavailability are 503; a failed query raises
``QueryFailed``, which the HTTP layer answers as a 500 carrying only a request id.

The deadline holds for every call, not only between polls: each Athena call (start, status, stop, each page
of results) runs on a worker thread and is waited for only until the deadline, so a call that stalls (its
client's own timeouts and retries can take several seconds) still ends in the 504 before the function's
timeout. The stop gets ``STOP_ALLOWANCE_SECONDS`` past the deadline; the settings cap the deadline at 27 s
and the query functions run for 29 s (``infra/functions.py``, ``infra/config.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from decimal import Decimal
from typing import Any, Callable

from clickport.errors import GatewayTimeout, ServiceUnavailable
from clickport.query.sql import SplitSource
from clickport.settings import Settings

logger = logging.getLogger(__name__)

FIRST_POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 1.0
RESULT_REUSE_MINUTES = 60
# How long the StopQueryExecution of a query past its deadline may take (beyond the deadline).
STOP_ALLOWANCE_SECONDS = 1.5
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerException",
    }
)
SYSTEM_ERROR_CATEGORY = 1  # AthenaError.ErrorCategory: 1 system, 2 user, 3 other

_INTEGER_TYPES = frozenset({"tinyint", "smallint", "integer", "int", "bigint"})
_FLOAT_TYPES = frozenset({"double", "float", "real"})


class QueryFailed(RuntimeError):
    """Athena reported the query FAILED or CANCELLED (an internal error: 500 with a request id)."""


def _convert(value: str | None, column_type: str) -> Any:
    if value is None:
        return None
    kind = column_type.lower()
    if kind in _INTEGER_TYPES:
        return int(value)
    if kind in _FLOAT_TYPES:
        return float(value)
    if kind.startswith("decimal"):
        return Decimal(value)
    if kind == "boolean":
        return value == "true"
    return value


class AthenaQueryEngine:
    """QueryEngine over the Glue events table (``settings.athena_database``.``settings.athena_table``)."""

    dialect = "athena"

    def __init__(
        self,
        settings: Settings,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        *,
        watermark: Callable[[str], Any] | None = None,
        compacted_table: str | None = None,
        slots_table: str | None = None,
    ) -> None:
        """``watermark(site_id)`` (AWS compaction, ``s3_compaction.read_served``: a ``Served``, a date or None)
        turns on reading days up to it from ``compacted_table`` (default ``<events table>_compacted``) and later days from the events table;
        when it says every such day has its session slots (``Served.slots``; a plain date says nothing of
        slots), plans that merge over slots read them from ``slots_table`` (default ``<events table>_slots``).
        Read it afresh for every query (no cache: the compaction job's grace period assumes so)."""
        self.settings = settings
        self.table = f"{settings.athena_database}.{settings.athena_table}"
        self.compacted_table = compacted_table or f"{self.table}_compacted"
        self.slots_table = slots_table or f"{self.table}_slots"
        self._watermark = watermark
        self._served: tuple[str, str | None] | None = None
        self._client = client
        self._sleep = sleep
        self._clock = clock
        self._deadline: float | None = None
        self._calls: ThreadPoolExecutor | None = None
        self._calls_lock = threading.Lock()

    def source(self, site_id: str) -> "str | SplitSource":
        """What a query of ``site_id`` reads: the events table, or both tables split at the site's watermark."""
        if self._watermark is None:
            return self.table
        served = self._watermark(site_id)
        through = served if served is None or isinstance(served, str) else served.through
        self._served = (site_id, through)  # what the statement about to run reads (see _reuse)
        if through is None:
            return self.table
        slots = self.slots_table if getattr(served, "slots", False) else None
        return SplitSource(self.table, self.compacted_table, through, slots=slots)

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)
            self._client = boto3.client("athena", region_name=self.settings.region, config=config)
        return self._client

    def execute(self, sql: str, *, cacheable: bool = False, scope: Any = None) -> list[tuple]:
        """``scope``: the statement's site and days (partition projection prunes by the statement's own
        predicates; the scope only decides result reuse against the watermark ``source`` read)."""
        deadline = self._clock() + self.settings.athena_timeout_seconds
        self._deadline = deadline
        try:
            arguments = self._start_arguments(sql, self._reuse(cacheable, scope))
            query_id = self._call("start_query_execution", **arguments)["QueryExecutionId"]
            self._wait(query_id, deadline)
            return self._rows(query_id)
        finally:
            self._deadline = None

    def _reuse(self, cacheable: bool, scope: Any) -> bool:
        """Result reuse for a range that is over; with compaction on, only if every day the statement reads
        is at or below the site's watermark (a day still read from the events table can get late Firehose
        files, so a reused answer could miss them)."""
        if not cacheable or self._watermark is None:
            return cacheable
        served, self._served = self._served, None  # one statement per source() call
        if scope is None or served is None:
            return False
        site_id, through = served
        return site_id == scope.site_id and through is not None and scope.last_day.isoformat() <= through

    def _start_arguments(self, sql: str, cacheable: bool) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "QueryString": sql,
            "WorkGroup": self.settings.athena_workgroup,
            "QueryExecutionContext": {"Database": self.settings.athena_database},
        }
        if cacheable:
            arguments["ResultReuseConfiguration"] = {
                "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": RESULT_REUSE_MINUTES}
            }
        return arguments

    def _timed_out(self) -> GatewayTimeout:
        return GatewayTimeout(
            f"The query engine did not answer within {self.settings.athena_timeout_seconds:g} seconds"
        )

    def _bounded(self, operation: str, arguments: dict[str, Any], allowance: float = 0.0) -> Any:
        """The call, waited for until the deadline (+ ``allowance``); past it, ``GatewayTimeout``. A stalled
        call is left to its worker thread (it ends by its client's own timeouts)."""
        method = getattr(self.client, operation)
        if self._deadline is None:
            return method(**arguments)
        remaining = self._deadline + allowance - self._clock()
        if remaining <= 0:
            raise self._timed_out()
        with self._calls_lock:
            if self._calls is None:
                self._calls = ThreadPoolExecutor(max_workers=2, thread_name_prefix="athena-call")
            future = self._calls.submit(method, **arguments)
        try:
            return future.result(timeout=remaining)
        except FutureTimeout:
            logger.warning("athena %s did not answer before the deadline", operation)
            raise self._timed_out() from None

    def _call(self, operation: str, **arguments: Any) -> Any:
        """One Athena API call within the deadline; throttling and unavailability become 503."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._bounded(operation, arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in THROTTLING_CODES:
                logger.warning("athena %s throttled or unavailable: %s", operation, code)
                raise ServiceUnavailable("The query engine is busy; try again shortly") from None
            raise
        except BotoCoreError as error:
            logger.warning("athena %s unreachable: %s", operation, type(error).__name__)
            raise ServiceUnavailable("The query engine is unavailable; try again shortly") from None

    def _wait(self, query_id: str, deadline: float) -> None:
        delay = FIRST_POLL_SECONDS
        while True:
            try:
                execution = self._call("get_query_execution", QueryExecutionId=query_id)["QueryExecution"]
            except GatewayTimeout:
                self._stop(query_id)
                raise
            status = execution.get("Status", {})
            state = status.get("State")
            if state == "SUCCEEDED":
                return
            if state in ("FAILED", "CANCELLED"):
                self._failed(query_id, status)
            remaining = deadline - self._clock()
            if remaining <= 0:
                self._stop(query_id)
                raise self._timed_out()
            self._sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_POLL_SECONDS)

    def _failed(self, query_id: str, status: dict[str, Any]) -> None:
        error = status.get("AthenaError") or {}
        logger.error(
            "athena query %s %s: %s (category %s, type %s)",
            query_id,
            status.get("State"),
            status.get("StateChangeReason", ""),
            error.get("ErrorCategory"),
            error.get("ErrorType"),
        )
        if error.get("ErrorCategory") == SYSTEM_ERROR_CATEGORY and error.get("Retryable"):
            raise ServiceUnavailable("The query engine is unavailable; try again shortly")
        raise QueryFailed(f"athena query {query_id} {str(status.get('State', '')).lower()}")

    def _stop(self, query_id: str) -> None:
        try:
            self._bounded("stop_query_execution", {"QueryExecutionId": query_id}, STOP_ALLOWANCE_SECONDS)
        except Exception:  # noqa: BLE001 - the timeout answer matters more than the cleanup
            logger.warning("could not stop athena query %s", query_id, exc_info=True)

    def _rows(self, query_id: str) -> list[tuple]:
        from botocore.exceptions import BotoCoreError, ClientError

        rows: list[tuple] = []
        types: list[str] | None = None
        first = True
        try:
            for page in self._pages(query_id):
                result = page["ResultSet"]
                if types is None:
                    types = [c["Type"] for c in result["ResultSetMetadata"]["ColumnInfo"]]
                for row in result.get("Rows", []):
                    if first:  # the header row
                        first = False
                        continue
                    data = row.get("Data", [])
                    rows.append(tuple(_convert(d.get("VarCharValue"), t) for d, t in zip(data, types)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code", "") in THROTTLING_CODES:
                raise ServiceUnavailable("The query engine is busy; try again shortly") from None
            raise
        except BotoCoreError:
            raise ServiceUnavailable("The query engine is unavailable; try again shortly") from None
        return rows

    def _pages(self, query_id: str):
        """The result pages, each one call within the deadline (as the paginator would ask for them)."""
        arguments: dict[str, Any] = {"QueryExecutionId": query_id}
        while True:
            page = self._bounded("get_query_results", arguments)
            yield page
            token = page.get("NextToken")
            if not token:
                return
            arguments = {"QueryExecutionId": query_id, "NextToken": token}
