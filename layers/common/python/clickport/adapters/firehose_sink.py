"""AWS event sink: newline-delimited JSON records to Firehose ``PutRecordBatch``, failed records retried.

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
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from clickport.errors import StoreUnavailable
from clickport.schema import COLUMN_NAMES, epoch_ms, utc_date

logger = logging.getLogger(__name__)

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024
BACKOFF_BASE_S = 0.1
BACKOFF_MAX_S = 2.0

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


class FirehoseEventSink:
    """EventSink sending rows to a Firehose delivery stream."""

    def __init__(
        self,
        stream_name: str,
        client: Any = None,
        *,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.stream_name = stream_name
        self._client = client
        self.max_attempts = max_attempts
        self._sleep = sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            from clickport.adapters.aws_clients import aws_client

            self._client = aws_client("firehose")
        return self._client

    def write(self, site_id: str, rows: Iterable[dict[str, Any]]) -> None:
        """Send every row; raises ``StoreUnavailable`` if a batch call fails or records keep failing."""
        records = [firehose_record(site_id, row) for row in rows]
        for batch in batches(records):
            self._put_batch(batch)

    def _put_batch(self, batch: list[bytes]) -> None:
        pending = batch
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.client.put_record_batch(
                    DeliveryStreamName=self.stream_name, Records=[{"Data": data} for data in pending]
                )
            except (BotoCoreError, ClientError) as exc:
                raise StoreUnavailable("the event stream is unavailable") from exc
            results = response.get("RequestResponses", [])
            if len(results) != len(pending):
                raise StoreUnavailable("the event stream answered for a different number of records")
            failed = [data for data, result in zip(pending, results) if result.get("ErrorCode")]
            if not failed:
                return
            codes = sorted({result["ErrorCode"] for result in results if result.get("ErrorCode")})
            logger.warning(
                "firehose rejected %d of %d records (attempt %d): %s",
                len(failed), len(pending), attempt, ", ".join(codes),
            )
            if attempt < self.max_attempts:
                self._sleep(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))
            pending = failed
        raise StoreUnavailable(f"{len(pending)} event records were still rejected after retries")
