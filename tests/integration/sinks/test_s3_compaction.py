"""The AWS compaction job on moto S3: closed days of Firehose files into ``compacted/`` at a watermark;
after every single S3 call of a run (and after a run cut short at any call) a reader that reads each day
from the prefix the watermark names sees every event exactly once."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import datetime, timedelta, timezone

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from clickport.adapters import compaction, s3_compaction
from clickport.adapters.s3_compaction import S3DayCompactor
from clickport.schema import COLUMN_NAMES, arrow_schema

BUCKET = "events-bucket"
SITE = "site1"
NOW = datetime(2026, 3, 20, 6, 0, tzinfo=timezone.utc)  # 2026-03-19 is closed and settled


class Cut(Exception):
    """The job's process dying at a given S3 call."""


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def firehose_file(s3, dt: str, count: int, start_seq: int, name: str) -> list[tuple]:
    """One Firehose-like Parquet object (snappy, rows in arrival order, not time order); its rows."""
    day = datetime.fromisoformat(dt).replace(tzinfo=timezone.utc)
    rows = []
    for i in range(count):
        row = {n: None for n in COLUMN_NAMES}
        row.update(ts=day + timedelta(seconds=(i * 7919 + start_seq) % 86400), seq=start_seq + i, type="pageview",
                   path=f"/p{i % 5}", session_id=1 + (start_seq + i) % 13, visitor_id=7, meta_keys=["k"],
                   meta_values=["v"])
        rows.append(row)
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema()), buffer, compression="snappy")
    s3.put_object(Bucket=BUCKET, Key=f"events/site_id={SITE}/dt={dt}/{name}", Body=buffer.getvalue())
    return [_key(r) for r in pa.Table.from_pylist(rows, schema=arrow_schema()).to_pylist()]


def _key(row: dict) -> tuple:
    return tuple(tuple(v) if isinstance(v, list) else v for v in (row[n] for n in COLUMN_NAMES))


def _read(s3, prefix: str) -> list[tuple]:
    rows = []
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        rows += [_key(r) for r in pq.read_table(io.BytesIO(body), partitioning=None).cast(arrow_schema()).to_pylist()]
    return rows


def _served(s3) -> dict | None:
    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=s3_compaction.watermark_key(SITE))["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def _table(s3, prefix: str) -> pa.Table:
    tables = []
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        tables.append(pq.read_table(io.BytesIO(body), partitioning=None))
    return pa.concat_tables(tables) if tables else None


def _slot_rows(table) -> list[tuple]:
    return sorted(tuple(r.values()) for r in table.to_pylist())


_CHECKED: set = set()  # states (watermark, compacted and slot objects by ETag) already found consistent


def check_slots(s3) -> None:
    """What a query reads as session slots: when the watermark says served days have slots, each served day's
    slots are exactly ``compaction.session_slots`` of the rows it serves from compacted/."""
    served = _served(s3)
    if served is None or not served.get("slots"):
        return
    objects = tuple(sorted((k["Key"], k["ETag"]) for prefix in ("compacted/", "compacted_slots/")
                           for k in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])))
    state = (served["through"], objects)
    if state in _CHECKED:
        return
    days = {p["Prefix"].rstrip("/").rsplit("dt=", 1)[1] for p in s3.list_objects_v2(
        Bucket=BUCKET, Prefix=f"events/site_id={SITE}/", Delimiter="/").get("CommonPrefixes", [])}
    for dt in sorted(d for d in days if d <= served["through"]):
        slots = _table(s3, s3_compaction.slots_prefix(SITE, dt))
        assert slots is not None, f"no slots for served day {dt}"
        want = compaction.session_slots([_table(s3, s3_compaction.compacted_prefix(SITE, dt))])
        assert _slot_rows(slots.cast(compaction.slots_schema())) == _slot_rows(want), dt
    _CHECKED.add(state)


def visible(s3) -> Counter:
    """What a query sees: days up to the watermark from compacted/, later days from events/."""
    try:
        watermark = json.loads(s3.get_object(Bucket=BUCKET, Key=s3_compaction.watermark_key(SITE))["Body"].read())["through"]
    except s3.exceptions.NoSuchKey:
        watermark = None
    days = {p["Prefix"].rstrip("/").rsplit("dt=", 1)[1] for p in s3.list_objects_v2(
        Bucket=BUCKET, Prefix=f"events/site_id={SITE}/", Delimiter="/").get("CommonPrefixes", [])}
    rows: list[tuple] = []
    for dt in sorted(days):
        served = watermark is not None and dt <= watermark
        rows += _read(s3, s3_compaction.compacted_prefix(SITE, dt) if served else s3_compaction.raw_prefix(SITE, dt))
    return Counter(rows)


def compactor(client, **kwargs) -> S3DayCompactor:
    kwargs.setdefault("now", lambda: NOW)
    kwargs.setdefault("sleep", lambda seconds: None)
    return S3DayCompactor(BUCKET, client, **kwargs)


def checked_client(expected: Counter, cut_at: int | None = None, *, hidden: Counter | None = None,
                   every_call: bool = True) -> tuple:
    """A second S3 client for the job: after each of its calls the reader must see exactly ``expected``
    (or, until the run takes them in, all but the ``hidden`` rows of a file that arrived after its day was
    compacted; once seen, they stay seen); raises ``Cut`` at call number ``cut_at``. ``every_call=False``
    checks only at the cut (a run that repeats one already checked call by call)."""
    client = boto3.client("s3", region_name="us-east-1")
    reader = boto3.client("s3", region_name="us-east-1")
    calls = [0]
    complete = [not hidden]

    def after(**_):
        calls[0] += 1
        if not every_call and calls[0] != cut_at:
            return
        view = visible(reader)
        if not complete[0] and view == expected - hidden:
            pass
        else:
            complete[0] = True
            assert view == expected, f"the reader's view was wrong after call {calls[0]}"
        check_slots(reader)
        if cut_at is not None and calls[0] == cut_at:
            raise Cut()

    client.meta.events.register("after-call.s3", after)
    return client, calls


def _dataset(s3) -> Counter:
    rows = []
    rows += firehose_file(s3, "2026-03-17", 30, 0, "a")
    rows += firehose_file(s3, "2026-03-17", 25, 100, "b")
    rows += firehose_file(s3, "2026-03-18", 40, 200, "a")
    rows += firehose_file(s3, "2026-03-18", 40, 200, "dup")  # the same rows twice stay twice
    rows += firehose_file(s3, "2026-03-19", 10, 300, "a")
    rows += firehose_file(s3, "2026-03-20", 10, 400, "a")  # today: not compacted
    return Counter(rows)


def test_closed_days_are_compacted_exactly_and_the_watermark_passes_them(s3):
    expected = _dataset(s3)
    client, calls = checked_client(expected)
    results = compactor(client, file_rows=32).run(SITE)

    assert [(r.dt, r.status, r.rows) for r in results] == [
        ("2026-03-17", "compacted", 55), ("2026-03-18", "compacted", 80), ("2026-03-19", "compacted", 10)]
    assert compactor(s3).watermark(SITE) == "2026-03-19"
    assert visible(s3) == expected and calls[0] > 10
    outputs = [k["Key"] for k in s3.list_objects_v2(Bucket=BUCKET, Prefix="compacted/")["Contents"]]
    assert [k.rsplit("/", 1)[1] for k in outputs if "dt=2026-03-18" in k] == ["day-00000.parquet", "day-00001.parquet",
                                                                              "day-00002.parquet"]
    for key in outputs:
        body = io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        table = pq.read_table(body, partitioning=None)
        order = list(zip(table.column("ts").to_pylist(), table.column("seq").to_pylist()))
        assert order == sorted(order)
        assert "DELTA_BINARY_PACKED" in pq.ParquetFile(body).metadata.row_group(0).column(0).encodings
    assert compactor(s3).lag_days(SITE) == 0


def test_each_compacted_day_has_its_session_slots_and_the_watermark_says_so(s3):
    _dataset(s3)
    results = compactor(s3, file_rows=32).run(SITE)
    assert _served(s3) == {"through": "2026-03-19", "slots": True}
    assert s3_compaction.read_served(s3, BUCKET, SITE) == s3_compaction.Served("2026-03-19", slots=True)
    for result in results:
        key = f"compacted_slots/site_id={SITE}/dt={result.dt}/slots-00000.parquet"
        assert result.slots == [key]
        manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=s3_compaction.manifest_key(SITE, result.dt))["Body"].read())
        assert manifest["slots"] == [key]
        # The same rollup the local sink writes, from the day's raw rows (duplicates included).
        raw = _table(s3, s3_compaction.raw_prefix(SITE, result.dt))
        got = _table(s3, s3_compaction.slots_prefix(SITE, result.dt))
        assert got.schema == compaction.slots_schema()
        assert _slot_rows(got) == _slot_rows(compaction.session_slots([raw]))
        assert sum(got.column("counted").to_pylist()) == result.rows  # every row is a pageview here
    check_slots(s3)
    # Today's raw day has no slots.
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=s3_compaction.slots_prefix(SITE, "2026-03-20"))


def _as_before_slots(s3) -> None:
    """The state a job older than session slots left: no slots, manifests and watermark without them."""
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="compacted_slots/").get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="compaction/").get("Contents", []):
        value = json.loads(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())
        value.pop("slots", None)
        s3.put_object(Bucket=BUCKET, Key=item["Key"], Body=json.dumps(value).encode())


def test_served_days_compacted_before_slots_get_them_before_the_watermark_says_so(s3):
    expected = _dataset(s3)
    compactor(s3, file_rows=32).run(SITE, max_days=2)
    _as_before_slots(s3)
    assert s3_compaction.read_served(s3, BUCKET, SITE) == s3_compaction.Served("2026-03-18", slots=False)
    compacted = {k["Key"]: k["ETag"] for k in s3.list_objects_v2(Bucket=BUCKET, Prefix="compacted/")["Contents"]}

    # A run stopped before any served day has its slots: the watermark still says none (queries read events).
    assert compactor(s3).run(SITE, stop=lambda: True) == []
    assert _served(s3) == {"through": "2026-03-18"}

    client, _ = checked_client(expected)
    results = compactor(client, file_rows=32).run(SITE)
    assert [(r.dt, r.status) for r in results] == [
        ("2026-03-17", "slotted"), ("2026-03-18", "slotted"), ("2026-03-19", "compacted")]
    assert _served(s3) == {"through": "2026-03-19", "slots": True}
    check_slots(s3)
    # The served days' compacted files were not rewritten, only their slots added.
    after = {k["Key"]: k["ETag"] for k in s3.list_objects_v2(Bucket=BUCKET, Prefix="compacted/")["Contents"]}
    assert {k: v for k, v in after.items() if "dt=2026-03-19" not in k} == compacted
    assert compactor(s3).run(SITE) == []


def test_a_day_whose_slots_went_missing_is_handed_back_and_rewritten(s3):
    expected = _dataset(s3)
    compactor(s3).run(SITE)
    s3.delete_object(Bucket=BUCKET, Key=f"compacted_slots/site_id={SITE}/dt=2026-03-18/slots-00000.parquet")
    results = compactor(s3).run(SITE)
    assert visible(s3) == expected
    assert [(r.dt, r.status) for r in results] == [("2026-03-18", "recompacted"), ("2026-03-19", "unchanged")]
    assert _served(s3) == {"through": "2026-03-19", "slots": True}
    check_slots(s3)


def test_a_rerun_changes_nothing(s3):
    _dataset(s3)
    compactor(s3).run(SITE)
    before = {k["Key"]: k["ETag"] for k in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    client = boto3.client("s3", region_name="us-east-1")
    writes = []
    client.meta.events.register("before-call.s3.PutObject", lambda **kw: writes.append(kw))
    client.meta.events.register("before-call.s3.DeleteObjects", lambda **kw: writes.append(kw))
    client.meta.events.register("before-call.s3.DeleteObject", lambda **kw: writes.append(kw))

    assert compactor(client).run(SITE) == []
    assert writes == []
    assert {k["Key"]: k["ETag"] for k in s3.list_objects_v2(Bucket=BUCKET)["Contents"]} == before


def test_a_file_arriving_after_its_day_was_compacted_is_taken_in_without_a_gap(s3):
    expected = _dataset(s3)
    compactor(s3).run(SITE)
    late = Counter(firehose_file(s3, "2026-03-18", 7, 900, "late"))
    expected += late
    # Until the next run the late rows are not visible (the day is served from compacted/) ...
    assert visible(s3) == expected - late
    slept = []

    def sleep(seconds):
        slept.append((seconds, compactor(s3).watermark(SITE)))

    client, _ = checked_client(expected, hidden=late)
    results = compactor(client, sleep=sleep, grace_seconds=45).run(SITE)
    # ... the run hands the day back to events/ (all rows visible), waits, rewrites it, serves it again.
    assert slept == [(45, "2026-03-17")]
    assert [(r.dt, r.status) for r in results] == [("2026-03-18", "recompacted"), ("2026-03-19", "unchanged")]
    assert compactor(s3).watermark(SITE) == "2026-03-19"
    assert visible(s3) == expected
    # Its slots were rebuilt with the late rows.
    check_slots(s3)
    slots = _table(s3, s3_compaction.slots_prefix(SITE, "2026-03-18"))
    assert sum(slots.column("counted").to_pylist()) == 80 + 7


def _before_the_run(s3) -> Counter:
    """03-17 compacted and served; then a late file for it and new closed days: the run has all kinds of work."""
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    expected = _dataset(s3)
    compactor(s3).run(SITE, max_days=1)
    return expected + Counter(firehose_file(s3, "2026-03-17", 5, 950, "late"))


def test_a_run_cut_at_any_s3_call_keeps_every_event_once_and_the_next_run_finishes(s3):
    expected = _before_the_run(s3)
    late = expected - visible(s3)  # the late file's rows: its day is served from compacted/
    assert sum(late.values()) == 5
    client, calls = checked_client(expected, hidden=late)
    compactor(client, file_rows=32).run(SITE)
    total = calls[0]
    assert total > 15

    # NOTE: the job is deterministic, so each cut run repeats the run above (checked after every call) up to
    # its cut: it is checked at the cut, then the next run must finish the work exactly.
    for cut in range(1, total + 1):
        assert _before_the_run(s3) == expected
        client, _ = checked_client(expected, cut_at=cut, hidden=late, every_call=False)
        with pytest.raises(Cut):
            compactor(client, file_rows=32).run(SITE)
        compactor(s3, file_rows=32).run(SITE)
        assert visible(s3) == expected, f"cut at call {cut}"
        check_slots(s3)
        assert compactor(s3).watermark(SITE) == "2026-03-19"
        assert compactor(s3).run(SITE) == []  # done: a further run has nothing to do


def test_only_closed_settled_days_are_compacted(s3):
    firehose_file(s3, "2026-03-19", 5, 0, "a")
    early = compactor(s3, now=lambda: datetime(2026, 3, 20, 0, 30, tzinfo=timezone.utc))  # 03-19 not settled
    assert early.run(SITE) == [] and early.watermark(SITE) is None and early.lag_days(SITE) == 0
    with pytest.raises(ValueError):
        early.compact_day(SITE, "2026-03-19")
    assert [r.dt for r in compactor(s3).run(SITE)] == ["2026-03-19"]
    with pytest.raises(ValueError):
        compactor(s3).compact_day(SITE, "2026-03-19")  # served: only run() may hand it back and rewrite it


def test_the_scheduled_handler_compacts_every_site_and_reports_the_lag(s3, monkeypatch, capsys):
    _dataset(s3)
    monkeypatch.setenv("CLICKPORT_EVENTS_BUCKET", BUCKET)
    monkeypatch.setattr(s3_compaction.S3DayCompactor, "closed_through", lambda self: "2026-03-19")
    assert s3_compaction.handler({"max_days": 2}) == {"lag_days": 1, "compacted_days": 2}
    assert s3_compaction.handler({"max_days": 2}) == {"lag_days": 0, "compacted_days": 1}
    metric = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metric["CompactionLagDays"] == 0 and metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Clickport"
