"""AWS compaction: one site's closed UTC days of Firehose files rewritten into the day layout in S3.

The same core as the local sink (``compaction.compact_day``, ``compaction.write_output``). Nothing is
moved or deleted under ``events/``: Firehose's files stay (a complete copy of every day), and the
compacted days live under a second prefix, served at a per-site watermark:

- ``events/site_id=<s>/dt=<d>/…``          Firehose's files (raw), read for days after the watermark;
- ``compacted/site_id=<s>/dt=<d>/day-NNNNN.parquet``  the day layout, read for days up to the watermark;
- ``compacted_slots/site_id=<s>/dt=<d>/slots-00000.parquet``  the day's session slots
  (``compaction.session_slots``, the same derived data as the local sink's), built from the same rows;
- ``compaction/site_id=<s>/dt=<d>.json``   the manifest of a compacted day (the raw keys and ETags it
  holds, its output keys, its slot keys, its row count);
- ``compaction/site_id=<s>/watermark.json``  ``{"through": "YYYY-MM-DD", "slots": true}``: every day up to
  it is served from ``compacted/``, every later day from ``events/``; with ``"slots": true`` every day up
  to it also has its session slots (a watermark written before slots existed has no such key: the job
  writes the missing slots of served days from their compacted files, then sets it). One PUT changes it
  (S3 writes are atomic).

A query reads the watermark first and reads each day from exactly one prefix, so no event is counted
twice, and none disappears: a compacted day is written completely (outputs, then its manifest) before
the watermark passes it. A day already served that must be rewritten (a Firehose file or an import that
arrived after it was compacted) is first handed back to ``events/`` (the watermark is lowered below
it), and the job waits ``grace_seconds`` (longer than any query runs) before it touches the day's
compacted files. A run cut short anywhere leaves either the old state or a lower watermark (exact,
slower); the next run finishes it. Runs of one site must not overlap (the scheduled function runs with
a reserved concurrency of 1).
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from clickport.adapters import compaction
from clickport.adapters.parquet_sink import check_site_id

logger = logging.getLogger(__name__)

RAW_PREFIX = "events/"
COMPACTED_PREFIX = "compacted/"
SLOTS_PREFIX = "compacted_slots/"
SLOTS_FILE = "slots-00000.parquet"
STATE_PREFIX = "compaction/"
GRACE_SECONDS = 60.0  # > the query timeout (API Gateway's 30 s): no query still reads what was handed back
SETTLE_SECONDS = 3600.0  # a day is compacted once it has been over this long (Firehose buffers ≤ 900 s)
LOOKBACK_DAYS = 7  # served days re-checked on each run for files that arrived after their compaction


def raw_prefix(site_id: str, dt: str) -> str:
    return f"{RAW_PREFIX}site_id={site_id}/dt={dt}/"


def compacted_prefix(site_id: str, dt: str) -> str:
    return f"{COMPACTED_PREFIX}site_id={site_id}/dt={dt}/"


def slots_prefix(site_id: str, dt: str) -> str:
    return f"{SLOTS_PREFIX}site_id={site_id}/dt={dt}/"


def manifest_key(site_id: str, dt: str) -> str:
    return f"{STATE_PREFIX}site_id={site_id}/dt={dt}.json"


def watermark_key(site_id: str) -> str:
    return f"{STATE_PREFIX}site_id={site_id}/watermark.json"


def _day_before(dt: str) -> str:
    return (date.fromisoformat(dt) - timedelta(days=1)).isoformat()


@dataclass
class DayResult:
    site_id: str
    dt: str
    status: str  # "compacted", "unchanged" (its manifest matches the raw files), "recompacted", "slotted"
    rows: int = 0
    inputs: int = 0
    outputs: list[str] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Served:
    """A site's watermark as the query side reads it: days up to ``through`` come from ``compacted/``; with
    ``slots``, those days also have their session slots under ``compacted_slots/``."""

    through: str
    slots: bool = False

    @classmethod
    def of(cls, watermark: dict[str, Any]) -> "Served":
        """From ``watermark.json`` (one written before slots existed has no ``slots`` key)."""
        return cls(watermark["through"], bool(watermark.get("slots", False)))


class S3DayCompactor:
    """Compacts closed UTC days of one bucket's sites (see the module docstring for the protocol)."""

    def __init__(
        self,
        bucket: str,
        client: Any = None,
        *,
        grace_seconds: float = GRACE_SECONDS,
        settle_seconds: float = SETTLE_SECONDS,
        lookback_days: int = LOOKBACK_DAYS,
        file_rows: int | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bucket = bucket
        self._client = client
        self.grace_seconds = grace_seconds
        self.settle_seconds = settle_seconds
        self.lookback_days = lookback_days
        self.file_rows = file_rows
        self.now = now
        self.sleep = sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    # --- S3 steps

    def _list(self, prefix: str) -> dict[str, str]:
        """Object keys under ``prefix`` with their ETags."""
        found: dict[str, str] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found[item["Key"]] = item["ETag"]
        return found

    def _get_json(self, key: str) -> Any:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def _put_json(self, key: str, value: Any) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(value, sort_keys=True).encode(),
                               ContentType="application/json")

    def _delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = keys[start:start + 1000]
            if chunk:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk]})

    # --- state

    def watermark(self, site_id: str) -> str | None:
        """The last day served from ``compacted/`` (None: every day is read from ``events/``)."""
        served = self.served(site_id)
        return served.through if served else None

    def served(self, site_id: str) -> Served | None:
        value = self._get_json(watermark_key(check_site_id(site_id)))
        return Served.of(value) if value else None

    def _set_watermark(self, site_id: str, through: str | None, *, slots: bool = True) -> None:
        """``slots``: every day up to ``through`` has its session slots (the query side may read them)."""
        if through is None:
            self.client.delete_object(Bucket=self.bucket, Key=watermark_key(site_id))
        else:
            self._put_json(watermark_key(site_id), {"through": through, **({"slots": True} if slots else {})})

    def closed_through(self) -> str:
        """The last UTC day that may be compacted now (over for at least ``settle_seconds``)."""
        settled = self.now().astimezone(timezone.utc) - timedelta(seconds=self.settle_seconds)
        return (settled.date() - timedelta(days=1)).isoformat()

    def raw_days(self, site_id: str) -> list[str]:
        days = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{RAW_PREFIX}site_id={site_id}/", Delimiter="/")
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                days.append(common["Prefix"].rstrip("/").rsplit("dt=", 1)[1])
        return sorted(days)

    def sites(self) -> list[str]:
        sites = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=RAW_PREFIX, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                sites.append(common["Prefix"].rstrip("/").rsplit("site_id=", 1)[1])
        return sorted(sites)

    def is_current(self, site_id: str, dt: str, *, slots: bool = True) -> bool:
        """The day's manifest holds exactly its raw files now, and its outputs (and, with ``slots``, its
        session slots) are all there."""
        manifest = self._get_json(manifest_key(site_id, dt))
        if manifest is None or manifest["inputs"] != self._list(raw_prefix(site_id, dt)):
            return False
        if not set(manifest["outputs"]) <= set(self._list(compacted_prefix(site_id, dt))):
            return False
        return not slots or self._has_slots(manifest, set(self._list(slots_prefix(site_id, dt))))

    @staticmethod
    def _has_slots(manifest: dict[str, Any], present: set[str]) -> bool:
        """The manifest names the day's slots (a manifest written before slots existed does not) and they exist."""
        return bool(manifest.get("slots")) and set(manifest["slots"]) <= present

    def _write_slots(self, site_id: str, dt: str, tables: list[Any]) -> list[str]:
        """The day's session slots from its rows (``compaction.session_slots``/``write_slots``, as locally)."""
        buffer = io.BytesIO()
        compaction.write_slots(compaction.session_slots(tables), buffer)
        key = f"{slots_prefix(site_id, dt)}{SLOTS_FILE}"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=buffer.getvalue())
        return [key]

    # --- the job

    def compact_day(self, site_id: str, dt: str, *, handed_back: bool = False) -> DayResult:
        """Write ``compacted/`` and the manifest of one closed day (it must not be served: after the watermark).
        Compacted files already there may have been served until lately (a run cut short after lowering the
        watermark): unless ``handed_back`` (the caller waited), wait ``grace_seconds`` before replacing them."""
        check_site_id(site_id)
        if dt > self.closed_through():
            raise ValueError(f"{dt} is not a closed, settled UTC day")
        watermark = self.watermark(site_id)
        if watermark is not None and dt <= watermark:
            raise ValueError(f"{dt} is served from {COMPACTED_PREFIX}; use run(), which hands it back first")
        import pyarrow.parquet as pq

        inputs = self._list(raw_prefix(site_id, dt))
        # Invalidate the old manifest before its outputs change: a run cut short is then seen as not done.
        existing = sorted(self._list(compacted_prefix(site_id, dt)))
        old_slots = sorted(self._list(slots_prefix(site_id, dt)))
        if (existing or old_slots) and not handed_back:
            self.sleep(self.grace_seconds)
        self.client.delete_object(Bucket=self.bucket, Key=manifest_key(site_id, dt))
        self._delete(existing + old_slots)
        tables = []
        for key in sorted(inputs):
            body = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=inputs[key])["Body"].read()
            tables.append(pq.read_table(io.BytesIO(body), partitioning=None))
        rows = sum(t.num_rows for t in tables)
        kwargs = {"file_rows": self.file_rows} if self.file_rows else {}
        outputs = compaction.compact_day(tables, **kwargs)
        del tables
        keys = []
        for index, table in enumerate(outputs):
            buffer = io.BytesIO()
            compaction.write_output(table, buffer, closed=True)
            key = f"{compacted_prefix(site_id, dt)}{compaction.DAY_FILE_PREFIX}{index:05d}.parquet"
            self.client.put_object(Bucket=self.bucket, Key=key, Body=buffer.getvalue())
            keys.append(key)
        slots = self._write_slots(site_id, dt, outputs)
        self._put_json(manifest_key(site_id, dt), {"inputs": inputs, "outputs": keys, "slots": slots, "rows": rows})
        return DayResult(site_id, dt, "compacted", rows=rows, inputs=len(inputs), outputs=keys, slots=slots)

    def add_slots(self, site_id: str, dt: str) -> DayResult | None:
        """A served day compacted before slots existed: its slots built from its compacted files (the rows it
        serves), then its manifest names them. The query side reads no slots until the watermark says every
        served day has them. None when the day has no manifest (nothing to build from)."""
        import pyarrow.parquet as pq

        manifest = self._get_json(manifest_key(site_id, dt))
        if manifest is None:
            return None
        present = self._list(compacted_prefix(site_id, dt))
        tables = []
        for key in manifest["outputs"]:
            body = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=present[key])["Body"].read()
            tables.append(pq.read_table(io.BytesIO(body), partitioning=None))
        slots = self._write_slots(site_id, dt, tables)
        self._put_json(manifest_key(site_id, dt), {**manifest, "slots": slots})
        return DayResult(site_id, dt, "slotted", rows=manifest["rows"], inputs=len(manifest["inputs"]),
                         outputs=list(manifest["outputs"]), slots=slots)

    def changed_served_days(self, site_id: str, watermark: str, *, with_slots: bool = True) -> list[str]:
        """Every served day (up to ``watermark``) whose raw files or outputs (``with_slots``: or session slots)
        no longer match its manifest, from
        one listing of each prefix of the site and one manifest GET per served day (the daily full check:
        an import of old events lands in days far behind the lookback)."""
        def by_day(prefix: str) -> dict[str, dict[str, str]]:
            grouped: dict[str, dict[str, str]] = {}
            for key, etag in self._list(f"{prefix}site_id={site_id}/").items():
                grouped.setdefault(key[len(prefix):].split("/", 2)[1].removeprefix("dt="), {})[key] = etag
            return grouped

        raw, compacted, slots = by_day(RAW_PREFIX), by_day(COMPACTED_PREFIX), by_day(SLOTS_PREFIX)
        changed = []
        for dt in sorted(d for d in raw if d <= watermark):
            manifest = self._get_json(manifest_key(site_id, dt))
            if (manifest is None or manifest["inputs"] != raw[dt]
                    or not set(manifest["outputs"]) <= set(compacted.get(dt, {}))
                    or (with_slots and not self._has_slots(manifest, set(slots.get(dt, {}))))):
                changed.append(dt)
        return changed

    def _backfill_slots(self, site_id: str, watermark: str, days: list[str], stop: Callable[[], bool],
                        results: list[DayResult]) -> bool:
        """Served days without slots (compacted before slots existed) get them; True once every served day has."""
        for dt in days:
            if dt > watermark:
                break
            manifest = self._get_json(manifest_key(site_id, dt))
            if manifest is not None and self._has_slots(manifest, set(self._list(slots_prefix(site_id, dt)))):
                continue
            if stop():
                return False
            done = self.add_slots(site_id, dt)
            if done is None:  # a served day with no manifest: only a rewrite can fix it (hand it back)
                return False
            results.append(done)
        return True

    def run(self, site_id: str, *, max_days: int | None = None,
            stop: Callable[[], bool] = lambda: False, recheck_all: bool = False) -> list[DayResult]:
        """Bring one site up to date: served days of the last ``lookback_days`` (with ``recheck_all``: every
        served day) whose raw files changed are handed back and rewritten; then closed days after the
        watermark are compacted in order, the watermark passing each as soon as it is complete, until
        ``max_days`` were written or ``stop()`` says so (checked before each day). Safe to rerun; a rerun with
        nothing new writes nothing."""
        check_site_id(site_id)
        closed = self.closed_through()
        days = [d for d in self.raw_days(site_id) if d <= closed]
        served = self.served(site_id)
        watermark = served.through if served else None
        # Every day up to the watermark has its slots (a new site's, or once an older watermark's are built).
        slotted = served is None or served.slots
        results: list[DayResult] = []
        if watermark is not None:
            earliest = (date.fromisoformat(watermark) - timedelta(days=self.lookback_days - 1)).isoformat()
            if recheck_all:
                stale = self.changed_served_days(site_id, watermark, with_slots=slotted)
            else:
                # Served days lacking slots under a watermark from before slots are not stale: they get
                # their slots below, from their compacted files.
                stale = [d for d in days if earliest <= d <= watermark
                         and not self.is_current(site_id, d, slots=slotted)]
            if stale:
                watermark = _day_before(stale[0])
                self._set_watermark(site_id, watermark, slots=slotted)
                logger.warning("site %s: days %s changed after compaction; served from %s again", site_id,
                               stale, RAW_PREFIX)
                self.sleep(self.grace_seconds)  # queries that read the old watermark finish first
                for dt in stale:
                    if stop():  # the rest stay after the watermark, read from events/; the next run goes on
                        break
                    results.append(self.compact_day(site_id, dt, handed_back=True))
                    results[-1].status = "recompacted"
                # Days between the stale ones were not touched: the watermark goes back up below.
            if not slotted and watermark is not None:
                slotted = self._backfill_slots(site_id, watermark, days, stop, results)
                if slotted:
                    self._set_watermark(site_id, watermark, slots=True)
        done = 0
        for dt in days:
            if watermark is not None and dt <= watermark:
                continue
            if (max_days is not None and done >= max_days) or stop():
                break
            if not self.is_current(site_id, dt):
                results.append(self.compact_day(site_id, dt))
                done += 1
            elif not any(r.dt == dt for r in results):
                results.append(DayResult(site_id, dt, "unchanged"))
            self._set_watermark(site_id, dt, slots=slotted)
            watermark = dt
        return results

    def lag_days(self, site_id: str) -> int:
        """Closed days not yet served from ``compacted/`` (the alarm's metric)."""
        closed = self.closed_through()
        watermark = self.watermark(site_id)
        return sum(1 for d in self.raw_days(site_id) if d <= closed and (watermark is None or d > watermark))


def read_watermark(client: Any, bucket: str, site_id: str) -> str | None:
    """The last day a site serves from ``compacted/`` (one GET; None before the first compacted day)."""
    served = read_served(client, bucket, site_id)
    return served.through if served else None


def read_served(client: Any, bucket: str, site_id: str) -> Served | None:
    """The query side's read of a site's watermark (one GET; None before the first compacted day): the last
    day served from ``compacted/`` and whether every such day has its session slots. Pass
    ``functools.partial(read_served, s3_client, bucket)`` to ``AthenaQueryEngine(watermark=…)``."""
    from botocore.exceptions import ClientError

    try:
        body = client.get_object(Bucket=bucket, Key=watermark_key(check_site_id(site_id)))["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    except ClientError as error:
        # Without s3:ListBucket on the key, S3 answers a missing object 403, not 404. Reading every day from
        # ``events/`` stays exact (Firehose's objects are never removed), only slower.
        if error.response.get("Error", {}).get("Code") not in ("AccessDenied", "403"):
            raise
        logger.warning("site %s: watermark not readable (%s); reading %s only", site_id, "AccessDenied",
                       RAW_PREFIX)
        return None
    return Served.of(json.loads(body))


# The scheduled function stops starting new days when less than this is left of its timeout: one day of a
# large site (read, sort, write) takes well under it at the function's memory (docs/deploy.md).
STOP_BEFORE_TIMEOUT_SECONDS = 240.0
LAG_METRIC = "CompactionLagDays"
COMPACTED_METRIC = "CompactedDays"
FAILED_SITES_METRIC = "CompactionFailedSites"
METRIC_DIMENSION = "EventsBucket"  # one stack's bucket: stages in one account do not mix


class CompactionFailed(RuntimeError):
    """Some site's run raised (the others ran): the function fails, so its Errors metric counts it."""


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Scheduled Lambda entry: every site of ``CLICKPORT_EVENTS_BUCKET``, at most ``max_days`` days each
    (``recheck_all``: every served day is checked against its manifest, not only the last ``lookback_days``),
    no new day started within ``STOP_BEFORE_TIMEOUT_SECONDS`` of the function's timeout. One site's failure
    does not stop the others; it is logged and the invocation then fails. Prints one Embedded Metric Format
    line (namespace ``Clickport``, dimension ``EventsBucket``): the largest lag in days after the run, the
    days written, the sites that failed."""
    import os

    from clickport.ingest.drops import METRICS_NAMESPACE

    bucket = os.environ["CLICKPORT_EVENTS_BUCKET"]
    compactor = S3DayCompactor(bucket)
    max_days = int(event.get("max_days", 3))
    recheck_all = bool(event.get("recheck_all", False))
    remaining = getattr(context, "get_remaining_time_in_millis", None)

    def out_of_time() -> bool:
        return remaining is not None and remaining() / 1000 < STOP_BEFORE_TIMEOUT_SECONDS

    lag = 0
    compacted = 0
    failed: list[str] = []
    for site_id in compactor.sites():
        try:
            if not out_of_time():
                results = compactor.run(site_id, max_days=max_days, stop=out_of_time, recheck_all=recheck_all)
                compacted += sum(1 for r in results if r.status != "unchanged")
        except Exception:  # noqa: BLE001 - the next sites still run; the invocation fails below
            logger.exception("site %s: compaction failed", site_id)
            failed.append(site_id)
        try:
            lag = max(lag, compactor.lag_days(site_id))  # a failed site's days count as behind too
        except Exception:  # noqa: BLE001
            logger.exception("site %s: lag not known", site_id)
            if site_id not in failed:
                failed.append(site_id)
    print(json.dumps({
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": METRICS_NAMESPACE, "Dimensions": [[METRIC_DIMENSION]],
            "Metrics": [{"Name": LAG_METRIC, "Unit": "Count"}, {"Name": COMPACTED_METRIC, "Unit": "Count"},
                        {"Name": FAILED_SITES_METRIC, "Unit": "Count"}]}]},
        METRIC_DIMENSION: bucket, LAG_METRIC: lag, COMPACTED_METRIC: compacted, FAILED_SITES_METRIC: len(failed),
    }))
    if failed:
        raise CompactionFailed(f"compaction failed for {len(failed)} site(s): {', '.join(failed[:10])}")
    return {"lag_days": lag, "compacted_days": compacted}
