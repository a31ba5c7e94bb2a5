"""AWS event sink: newline-delimited JSON records to Firehose ``PutRecordBatch`` over one or more delivery
streams, refused records resent (to the next stream).

Each record is one JSON object and a newline: the event columns plus ``site_id`` and
``dt`` (UTC date of ``ts``, ``YYYY-MM-DD``) for Firehose's dynamic partitioning
(``.site_id``, ``.dt``). ``ts`` is sent as ``YYYY-MM-DD HH:MM:SS.mmm`` in UTC, a form
both Firehose JSON deserializers turn into a Glue ``timestamp`` without extra settings
(OpenX: ``yyyy-[M]M-[d]d HH:mm:ss[.S]``; Hive: the ``java.sql.Timestamp::valueOf`` default).
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from clickport.errors import StoreUnavailable
from clickport.schema import COLUMN_NAMES, epoch_ms, utc_date

logger = logging.getLogger(__name__)

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024
BACKOFF_BASE_S = 0.1
BACKOFF_MAX_S = 1.0
# Retries of refused records stop when the next wait would end later than this after the write began.
RETRY_BUDGET_S = 2.5
# A whole call refused because the stream is over its throughput (the records are not taken): sent again.
THROTTLED_CALL_CODES = frozenset({"ServiceUnavailableException", "ThrottlingException", "LimitExceededException"})

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_KNOWN_COLUMNS = frozenset(COLUMN_NAMES)


def firehose_timestamp(ts_ms: int) -> str:
    """``YYYY-MM-DD HH:MM:SS.mmm`` (UTC) of epoch milliseconds."""
    moment = _EPOCH + timedelta(milliseconds=ts_ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def firehose_record(site_id: str, row: dict[str, Any]) -> bytes:
    """One event row as a Firehose record: a JSON object plus newline, with ``site_id`` and ``dt``."""
    unknown = set(row) - _KNOWN_COLUMNS
    if unknown:
        raise ValueError(f"unknown event columns: {sorted(unknown)}")
    ts_ms = epoch_ms(row.get("ts"))
    record: dict[str, Any] = {name: row.get(name) for name in COLUMN_NAMES}
    record["ts"] = firehose_timestamp(ts_ms)
    record["site_id"] = site_id
    record["dt"] = utc_date(ts_ms)
    data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError("event record exceeds the Firehose record size limit")
    return data


def batches(records: Iterable[bytes]) -> Iterator[list[bytes]]:
    """Group records into PutRecordBatch calls of at most 500 records and 4 MiB."""
    batch: list[bytes] = []
    size = 0
    for data in records:
        if batch and (len(batch) == MAX_BATCH_RECORDS or size + len(data) > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(data)
        size += len(data)
    if batch:
        yield batch


def stream_names(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"a,b,c"`` or a sequence → the delivery stream names, in order."""
    names = value.split(",") if isinstance(value, str) else list(value)
    cleaned = tuple(name.strip() for name in names if name.strip())
    if not cleaned:
        raise ValueError("at least one Firehose delivery stream name is needed")
    return cleaned


def home_stream(row: dict[str, Any], data: bytes, streams: int) -> int:
    """The stream a row goes to first: a hash of its session (a session's rows stay together), else of the
    record. Spreads the events of one busy site over every stream."""
    session = row.get("session_id")
    key = str(session).encode() if session is not None else data
    return zlib.crc32(key) % streams


class FirehoseEventSink:
    """EventSink sending rows to one or more Firehose delivery streams (spec §5.2: "if the event sink does
    not accept the event after retries, the answer is 503").

    Several streams multiply Firehose's per-stream Direct PUT quota (AWS, PutRecord API reference: "By
    default, each Firehose stream can take in up to 2,000 transactions per second, 5,000 records per second,
    or 5 MB per second. If you use PutRecord and PutRecordBatch, the limits are an aggregate across these
    two operations for each Firehose stream."): each row goes to the stream its session hashes to, and a
    throttled call or a record Firehose refused is sent again to the next stream, after a backoff.

    What the PutRecordBatch API reference says, and this follows: "If FailedPutCount is greater than 0,
    retry the request, resending only those records that might have failed processing. This minimizes the
    possible duplicate records"; each failed record carries an ``ErrorCode`` (``ServiceUnavailableException``
    or ``InternalFailure``), a stored one a ``RecordId``. A write returns only when every record has a
    ``RecordId``; otherwise it raises ``StoreUnavailable`` and the event is not acknowledged. Retries stop
    after ``max_attempts`` or when the next wait would pass ``retry_budget_s``, so that the event function
    answers 503 well inside its timeout. A call that fails without an answer (a timeout, no connection) is
    not sent again here: the region's endpoint is the same for every stream, and botocore already retried it.
    """

    def __init__(
        self,
        stream_name: str | Sequence[str],
        client: Any = None,
        *,
        max_attempts: int = 6,
        retry_budget_s: float = RETRY_BUDGET_S,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.streams = stream_names(stream_name)
        self.stream_name = self.streams[0]
        self._client = client
        self.max_attempts = max_attempts
        self.retry_budget_s = retry_budget_s
        self._sleep = sleep
        self._clock = clock

    @property
    def client(self) -> Any:
        if self._client is None:
            from clickport.adapters.aws_clients import aws_client

            self._client = aws_client("firehose")
        return self._client

    def write(self, site_id: str, rows: Iterable[dict[str, Any]]) -> None:
        """Send every row; raises ``StoreUnavailable`` if records are still refused after the retries."""
        deadline = self._clock() + self.retry_budget_s
        by_stream: dict[int, list[bytes]] = {}
        for row in rows:
            data = firehose_record(site_id, row)
            by_stream.setdefault(home_stream(row, data, len(self.streams)), []).append(data)
        for home, records in sorted(by_stream.items()):
            for batch in batches(records):
                self._put_batch(home, batch, deadline)

    def _put_batch(self, home: int, batch: list[bytes], deadline: float) -> None:
        pending = batch
        for attempt in range(self.max_attempts):
            stream = self.streams[(home + attempt) % len(self.streams)]
            try:
                response = self.client.put_record_batch(
                    DeliveryStreamName=stream, Records=[{"Data": data} for data in pending]
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in THROTTLED_CALL_CODES:
                    raise StoreUnavailable(f"the event stream refused the call: {code}") from exc
                failed, codes = pending, [code]
            except BotoCoreError as exc:
                raise StoreUnavailable("the event stream is unreachable") from exc
            else:
                results = response.get("RequestResponses", [])
                if len(results) != len(pending):
                    raise StoreUnavailable("the event stream answered for a different number of records")
                failed = [data for data, result in zip(pending, results) if not _stored(result)]
                if not failed:
                    return
                codes = sorted({result.get("ErrorCode") or "no RecordId" for result in results if not _stored(result)})
            wait = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt)
            logger.warning(
                "firehose stream %d of %d refused %d of %d records (attempt %d): %s",
                self.streams.index(stream) + 1, len(self.streams), len(failed), len(pending), attempt + 1,
                ", ".join(codes),
            )
            pending = failed
            if attempt + 1 == self.max_attempts or self._clock() + wait > deadline:
                break
            self._sleep(wait)
        raise StoreUnavailable(f"{len(pending)} event records were still refused after retries")


def _stored(result: dict[str, Any]) -> bool:
    return not result.get("ErrorCode") and bool(result.get("RecordId"))
