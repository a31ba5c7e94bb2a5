"""`clickport import` in bounded memory (spec §9): sorted runs on disk merged by (timestamp, line), the same
results as an in-memory sort; rejections with line numbers; --strict, --dry-run; exit 1 on store failures;
lines that could not be stored (huge revenue, lone surrogates, invalid UTF-8) rejected up front."""

import json
import random
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clickport.cli.main import main
from clickport.errors import StoreUnavailable
from clickport.ingest import spill
from clickport.ingest.importer import ImportFailed, import_events
from clickport.ingest.spill import ExternalSort, RejectionLog
from clickport.ports import Site
from tests.conftest import BROWSER_UA
from tests.support.events import ListSink, NoConfig

IP = "198.51.100.77"
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLICKPORT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CLICKPORT_BACKEND", raising=False)

    def run(*args):
        try:
            status = main(list(args))
        except SystemExit as exit_:
            status = exit_.code
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture
def site_id(cli):
    status, out, err = cli("sites", "create", "--domain", "example.com", "--json")
    assert status == 0, err
    return json.loads(out)["site_id"]


def _ts(moment):
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _line(moment, **fields):
    return {"timestamp": _ts(moment), "user_agent": BROWSER_UA, "url": "https://example.com/", "ip": IP, **fields}


def _write(path, lines):
    with open(path, "wb") as out:
        for line in lines:
            out.write(line if isinstance(line, bytes) else
                      (line if isinstance(line, str) else json.dumps(line)).encode("utf-8", "surrogatepass"))
            out.write(b"\n")
    return path


def _stored(tmp_path, site_id):
    files = sorted((tmp_path / "data" / "events" / f"site_id={site_id}").glob("dt=*/*.parquet"))
    if not files:
        return []
    table = pa.concat_tables([pq.ParquetFile(f).read() for f in files])
    return table.sort_by([("ts", "ascending"), ("seq", "ascending")]).to_pylist()


def _import(cli, site_id, path, *flags):
    status, out, err = cli("import", "--site", site_id, str(path), "--json", *flags)
    return status, (json.loads(out) if out.strip() else None), err


def _visits(rng, count):
    """Visits of several IPs over three UTC days, one visit's lines together (so the file is unsorted)."""
    lines = []
    for visit in range(count):
        ip = f"203.0.113.{rng.randint(1, 40)}"
        agent = BROWSER_UA.replace("131.0", f"1{rng.randint(10, 31)}.0")
        moment = START + timedelta(seconds=rng.randint(0, 3 * 86400))
        for step in range(rng.randint(1, 5)):
            lines.append(_line(moment, ip=ip, user_agent=agent, url=f"https://example.com/p{step}",
                               referrer=rng.choice([None, "https://www.google.com/"])))
            moment += timedelta(seconds=rng.randint(1, 900))
    return lines


def _shape(rows):
    """Rows with session and page-visit ids replaced by their order of appearance (ids are random)."""
    sessions, visits = {}, {}
    return [(r["ts"], r["path"], r["type"], r["source"], sessions.setdefault(r["session_id"], len(sessions)),
             visits.setdefault(r["page_visit_id"], len(visits))) for r in rows]


SITE = Site("s_stream", "example.com", START)


def _salts():
    from clickport.ingest.identity import MemorySalts

    counter = iter(range(1, 10**6))
    return MemorySalts(lambda n: next(counter).to_bytes(n, "big"))


def test_spilled_runs_merged_in_rounds_give_the_same_rows_as_one_in_memory_sort(tmp_path, monkeypatch):
    lines = [json.dumps(line) for line in _visits(random.Random(5), 400)]
    in_memory = ListSink()
    import_events(lines, site=SITE, sink=in_memory, config=NoConfig(), salts=_salts())

    runs = []
    original = ExternalSort._spill

    def counting_spill(self):
        runs.append(len(self._buffer))
        original(self)

    monkeypatch.setattr(spill, "RUN_BYTES", 2000)  # a handful of lines per run
    monkeypatch.setattr(spill, "MAX_FAN_IN", 3)  # forces merge rounds
    monkeypatch.setattr(spill, "CHUNK_RECORDS", 4)
    monkeypatch.setattr(ExternalSort, "_spill", counting_spill)
    spilled = ListSink()
    summary = import_events(lines, site=SITE, sink=spilled, config=NoConfig(), salts=_salts(), spill_dir=tmp_path)

    assert len(runs) > 50 and max(runs) < 20  # many small runs, never the whole file in memory
    assert summary.stored == len(lines) == len(spilled.rows)
    assert _shape(spilled.rows) == _shape(in_memory.rows)
    assert [r["visitor_id"] for r in spilled.rows] == [r["visitor_id"] for r in in_memory.rows]
    assert [r["ts"] for r in spilled.rows] == sorted(r["ts"] for r in spilled.rows)


def test_equal_timestamps_keep_file_order_across_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(spill, "RUN_BYTES", 300)
    same = START + timedelta(hours=1)
    lines = [json.dumps(_line(same, url=f"https://example.com/{i}", ip=f"203.0.113.{i + 1}")) for i in range(30)]
    lines.insert(7, json.dumps(_line(START, url="https://example.com/first")))
    sink = ListSink()
    import_events(lines, site=SITE, sink=sink, config=NoConfig(), spill_dir=tmp_path)
    assert [r["path"] for r in sink.rows] == ["/first"] + [f"/{i}" for i in range(30)]
    assert [r["seq"] for r in sink.rows] == sorted(r["seq"] for r in sink.rows)


def test_external_sort_returns_every_record_in_order_with_rounds_of_merging(tmp_path, monkeypatch):
    monkeypatch.setattr(spill, "MAX_FAN_IN", 2)
    monkeypatch.setattr(spill, "CHUNK_RECORDS", 3)
    rng = random.Random(1)
    records = [(rng.randint(0, 50), n, f"payload {n}") for n in range(1000)]
    with ExternalSort(tmp_path, run_bytes=40) as sort:
        for record in records:
            sort.add(record, 1)
        assert sort.runs == 25 and sort.count == 1000
        assert list(sort.sorted()) == sorted(records)


def test_a_session_crossing_midnight_continues_under_yesterdays_visitor_id():
    midnight = datetime(2026, 3, 2, tzinfo=timezone.utc)
    sink = ListSink()
    import_events([json.dumps(_line(midnight - timedelta(minutes=10), url="https://example.com/a")),
                   json.dumps(_line(midnight + timedelta(minutes=10), url="https://example.com/b")),
                   json.dumps(_line(midnight + timedelta(minutes=30), url="https://example.com/c"))],
                  site=SITE, sink=sink, config=NoConfig())
    a, b, c = sink.rows
    assert a["session_id"] == b["session_id"] and a["visitor_id"] == b["visitor_id"]  # one session, first id kept
    assert c["session_id"] == b["session_id"]  # 20 minutes after b: found under today's id
    later = ListSink()
    import_events([json.dumps(_line(midnight - timedelta(minutes=10))),
                   json.dumps(_line(midnight + timedelta(minutes=25)))], site=SITE, sink=later, config=NoConfig())
    assert later.rows[0]["session_id"] != later.rows[1]["session_id"]  # 35 minutes: a new session


def test_a_given_session_idle_for_hours_keeps_its_first_lines_attributes(monkeypatch):
    lines = [json.dumps(_line(START, session_id=42, referrer="https://www.google.com/", country="FR",
                              screen_width=390))]
    # Other visitors in between push session 42 out of memory (idle > 30 minutes).
    lines += [json.dumps(_line(START + timedelta(minutes=40 * i), ip=f"203.0.113.{i}")) for i in range(1, 8)]
    lines.append(json.dumps(_line(START + timedelta(hours=6), session_id=42, referrer="https://www.bing.com/",
                                  country="DE", screen_width=1920, url="https://example.com/later")))
    sink = ListSink()
    import_events(lines, site=SITE, sink=sink, config=NoConfig())
    first, last = sink.rows[0], sink.rows[-1]
    assert last["path"] == "/later" and last["session_id"] == first["session_id"] == 42
    for name in ("source", "country", "device", "visitor_id"):
        assert last[name] == first[name]
    assert (last["source"], last["country"], last["device"]) == ("google", "FR", "Mobile")


def test_spill_files_never_hold_the_ip(tmp_path, monkeypatch):
    created = []

    def named_temporary(directory):
        path = tmp_path / f"spill-{len(created)}"
        created.append(path)
        return open(path, "w+b")

    monkeypatch.setattr(spill, "_temporary", named_temporary)
    monkeypatch.setattr(spill, "RUN_BYTES", 500)
    ips = ["203.0.113.199", "2001:db8:85a3::8a2e:370:7334"]
    lines = [json.dumps(_line(START + timedelta(minutes=i), ip=ips[i % 2], url=f"https://example.com/{i}"))
             for i in range(40)]
    sink = ListSink()
    import_events(lines, site=SITE, sink=sink, config=NoConfig(), spill_dir=tmp_path)
    assert len(created) > 3 and sink.rows
    import ipaddress

    for path in created:
        data = path.read_bytes()
        assert data
        for ip in ips:
            assert ip.encode() not in data and ipaddress.ip_address(ip).packed not in data
    assert all(ip not in json.dumps(row, default=str) for row in sink.rows for ip in ips)


def test_rejected_lines_are_reported_by_number_and_the_rest_is_stored(cli, site_id, tmp_path):
    path = _write(tmp_path / "e.ndjson", [
        _line(START), "{broken", _line(START, type="custom"), "", _line(START + timedelta(minutes=1))])
    status, summary, err = _import(cli, site_id, path)
    assert status == 0, err
    assert summary["read"] == 4 and summary["stored"] == 2 and summary["bots"] == 0
    assert [r["line"] for r in summary["rejected"]] == [2, 3]
    assert "JSON" in summary["rejected"][0]["reason"] and "name is required" in summary["rejected"][1]["reason"]
    assert len(_stored(tmp_path, site_id)) == 2


def test_strict_stores_nothing_when_any_line_is_rejected(cli, site_id, tmp_path):
    path = _write(tmp_path / "e.ndjson", [_line(START + timedelta(minutes=i)) for i in range(20)] + ["[]"])
    status, summary, _ = _import(cli, site_id, path, "--strict")
    assert status == 1
    assert summary == {"read": 21, "stored": 0, "bots": 0,
                       "rejected": [{"line": 21, "reason": "not valid JSON: the line is not a JSON object"}]}
    assert _stored(tmp_path, site_id) == []
    good = _write(tmp_path / "good.ndjson", [_line(START + timedelta(minutes=i)) for i in range(20)])
    status, summary, _ = _import(cli, site_id, good, "--strict")
    assert status == 0 and summary["stored"] == 20 and len(_stored(tmp_path, site_id)) == 20


def test_dry_run_validates_and_stores_nothing(cli, site_id, tmp_path):
    path = _write(tmp_path / "e.ndjson", [_line(START), _line(START, user_agent="curl/8.0"), "{"])
    status, summary, _ = _import(cli, site_id, path, "--dry-run")
    assert status == 0
    assert (summary["read"], summary["stored"], summary["bots"]) == (3, 0, 1)
    assert [r["line"] for r in summary["rejected"]] == [3]
    assert _stored(tmp_path, site_id) == []
    status, out, _ = cli("import", "--site", site_id, str(path), "--dry-run")
    assert status == 0 and "dry run: nothing stored" in out


@pytest.mark.parametrize("amount", ["1e13", "1e308", "9223372036855", "10000000000000", "1000000000.000001"])
def test_revenue_too_large_to_store_is_a_rejected_line(cli, site_id, tmp_path, amount):
    good = [json.dumps(_line(START + timedelta(seconds=i))) for i in range(12)]
    big = ('{"timestamp": "%s", "user_agent": "%s", "url": "https://example.com/", "ip": "%s", "type": "custom", '
           '"name": "Purchase", "revenue_amount": %s}') % (_ts(START), BROWSER_UA, IP, amount)
    path = _write(tmp_path / "e.ndjson", good[:6] + [big] + good[6:])
    status, summary, err = _import(cli, site_id, path)
    assert status == 0, err
    assert summary["stored"] == 12 and [r["line"] for r in summary["rejected"]] == [7]
    assert "revenue_amount" in summary["rejected"][0]["reason"]
    assert len(_stored(tmp_path, site_id)) == 12


def test_the_largest_revenue_is_stored_exactly(cli, site_id, tmp_path):
    from clickport.limits import MAX_REVENUE_AMOUNT

    path = _write(tmp_path / "e.ndjson", [_line(START, type="custom", name="Big", revenue_amount=MAX_REVENUE_AMOUNT)])
    status, summary, _ = _import(cli, site_id, path)
    assert status == 0 and summary["stored"] == 1
    assert _stored(tmp_path, site_id)[0]["revenue_micros"] == 1_000_000_000 * 10**6


@pytest.mark.parametrize("field, raw", [
    ("url", '"url": "https://example.com/\\ud800"'),
    ("name", '"type": "custom", "name": "a\\udfff"'),
    ("meta_values", '"meta_keys": ["k"], "meta_values": ["\\uDBFF"]'),
    ("user_agent", '"user_agent": "Mozilla \\ud800"'),
])
def test_a_lone_surrogate_is_a_rejected_line(cli, site_id, tmp_path, field, raw):
    base = {"timestamp": _ts(START), "user_agent": BROWSER_UA, "url": "https://example.com/", "ip": IP}
    if field in ("url", "user_agent"):
        base.pop(field)
    bad = json.dumps(base)[:-1] + ", " + raw + "}"
    path = _write(tmp_path / "e.ndjson", [_line(START), bad, _line(START, url="https://example.com/\U0001F600")])
    status, summary, err = _import(cli, site_id, path)
    assert status == 0, err
    assert summary["stored"] == 2 and [r["line"] for r in summary["rejected"]] == [2]
    assert field in summary["rejected"][0]["reason"] and "surrogate" in summary["rejected"][0]["reason"]
    assert "/\U0001F600" in {row["path"] for row in _stored(tmp_path, site_id)}  # a proper pair is fine


def test_an_unknown_field_named_with_a_lone_surrogate_is_reported_printably(cli, site_id, tmp_path):
    bad = json.dumps(_line(START))[:-1] + ', "x\\ud800": 1}'
    path = _write(tmp_path / "e.ndjson", [bad])
    status, summary, _ = _import(cli, site_id, path)
    assert status == 0 and summary["rejected"][0]["line"] == 1 and "\\ud800" in summary["rejected"][0]["reason"]
    status, out, _ = cli("import", "--site", site_id, str(path))
    assert status == 0 and "line 1:" in out


def test_bytes_that_are_not_utf8_too_long_or_too_deep_are_rejected_lines(cli, site_id, tmp_path, monkeypatch):
    from clickport.ingest import importer

    monkeypatch.setattr(importer, "MAX_LINE_BYTES", 200_000)
    path = _write(tmp_path / "e.ndjson", [
        b'{"timestamp": "\xff\xfe"}', b"x" * 300_000, b"[" * 100_000, json.dumps(_line(START)).encode()])
    status, summary, err = _import(cli, site_id, path)
    assert status == 0, err
    reasons = {r["line"]: r["reason"] for r in summary["rejected"]}
    assert set(reasons) == {1, 2, 3} and summary["stored"] == 1
    assert "UTF-8" in reasons[1] and "longer than 200,000 bytes" in reasons[2] and "nested deeper than 32 levels" in reasons[3]


def test_a_byte_order_mark_at_the_start_is_ignored(cli, site_id, tmp_path):
    path = tmp_path / "bom.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_line(START)).encode() + b"\n")
    status, summary, _ = _import(cli, site_id, path)
    assert status == 0 and summary["stored"] == 1 and summary["rejected"] == []


def test_a_store_failure_exits_1_naming_how_much_was_stored(cli, site_id, tmp_path, monkeypatch):
    from clickport.adapters.parquet_sink import ParquetEventSink

    calls = []
    original = ParquetEventSink.write_tables

    def failing(self, site, dt, tables):
        calls.append(dt)
        if len(calls) > 1:
            raise StoreUnavailable("the local event store could not be written")
        return original(self, site, dt, tables)

    monkeypatch.setattr(ParquetEventSink, "write_tables", failing)
    path = _write(tmp_path / "e.ndjson", [_line(START), _line(START + timedelta(days=1))])
    status, out, err = cli("import", "--site", site_id, str(path), "--json")
    assert status == 1 and out == ""
    assert err.startswith("clickport: error: the event store failed after 1 of 2 events were stored")
    assert len(err.strip().splitlines()) == 1


def test_an_unreadable_input_exits_1_with_one_line(cli, site_id, tmp_path):
    for target in (tmp_path / "missing.ndjson", tmp_path):
        status, out, err = cli("import", "--site", site_id, str(target))
        assert status == 1 and out == ""
        assert err.startswith(f"clickport: error: cannot read {target}") and len(err.strip().splitlines()) == 1


def test_a_read_error_midway_stores_nothing():
    def lines():
        yield json.dumps(_line(START))
        raise OSError(5, "Input/output error")

    sink = ListSink()
    with pytest.raises(ImportFailed, match="I/O error after 1 lines, nothing stored"):
        import_events(lines(), site=SITE, sink=sink, config=NoConfig())
    assert sink.rows == []


def test_many_rejections_move_to_disk_and_all_are_printed_in_order(cli, site_id, tmp_path, monkeypatch):
    monkeypatch.setattr(spill, "MEMORY_REJECTIONS", 5)
    monkeypatch.setattr(spill, "CHUNK_RECORDS", 4)
    path = _write(tmp_path / "e.ndjson", ["{"] * 30 + [_line(START)])
    status, summary, _ = _import(cli, site_id, path)
    assert status == 0 and summary["stored"] == 1
    assert [r["line"] for r in summary["rejected"]] == list(range(1, 31))
    status, out, _ = cli("import", "--site", site_id, str(path))
    assert "line 1: not valid JSON" in out and "… and" not in out  # 30 ≤ 50 shown
    many = _write(tmp_path / "many.ndjson", ["{"] * 60)
    status, out, _ = cli("import", "--site", site_id, str(many))
    assert "  … and 10 more (use --json for all)" in out


def test_rejection_log_keeps_order_across_memory_and_disk(tmp_path):
    log = RejectionLog("row", tmp_path, memory_limit=3)
    for n in range(1, 1001):
        log.add(n, f"reason {n}")
    assert len(log) == 1000 and bool(log)
    assert list(log)[:2] == [{"row": 1, "reason": "reason 1"}, {"row": 2, "reason": "reason 2"}]
    assert [entry["row"] for entry in log] == list(range(1, 1001))
    log.close()


def test_summary_output_without_json_names_the_counts(cli, site_id, tmp_path):
    path = _write(tmp_path / "e.ndjson", [_line(START), "{"])
    status, out, _ = cli("import", "--site", site_id, str(path))
    assert status == 0 and out.splitlines()[0] == "read 2, stored 1, bots 0, rejected 1"
    assert out.splitlines()[1].startswith("  line 2: not valid JSON")


def test_imported_files_are_one_per_day(cli, site_id, tmp_path):
    lines = [_line(START + timedelta(hours=7 * i), ip=f"203.0.113.{i + 1}") for i in range(12)]
    path = _write(tmp_path / "e.ndjson", list(reversed(lines)))
    status, summary, _ = _import(cli, site_id, path)
    assert status == 0 and summary["stored"] == 12
    partitions = sorted((tmp_path / "data" / "events" / f"site_id={site_id}").glob("dt=*"))
    assert [p.name for p in partitions] == ["dt=2026-03-01", "dt=2026-03-02", "dt=2026-03-03", "dt=2026-03-04"]
    assert all(len(list(p.glob("*.parquet"))) == 1 for p in partitions)
