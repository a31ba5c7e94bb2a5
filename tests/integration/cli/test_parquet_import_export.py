"""Bulk import and export (spec §9): `import --format parquet` stores rows in the event schema as given
(types per file, values per row), `export` writes them back; a round trip gives identical rows."""

import json
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clickport.cli.main import main
from clickport.schema import COLUMN_NAMES, arrow_schema
from tests.conftest import BROWSER_UA

START = datetime(2026, 3, 1, 22, 0, tzinfo=timezone.utc)


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


def _site(cli, domain):
    status, out, err = cli("sites", "create", "--domain", domain, "--json")
    assert status == 0, err
    return json.loads(out)["site_id"]


def _json(cli, *args):
    status, out, err = cli(*args, "--json")
    assert status == 0, err
    return json.loads(out)


def _stored(tmp_path, site_id):
    files = sorted((tmp_path / "data" / "events" / f"site_id={site_id}").glob("dt=*/*.parquet"))
    if not files:
        return []
    table = pa.concat_tables([pq.ParquetFile(f).read() for f in files])
    return table.sort_by([("ts", "ascending"), ("seq", "ascending")]).to_pylist()


def _row(i, **changes):
    row = {
        "ts": START + timedelta(hours=3 * i), "seq": 1000 + i, "type": "pageview", "name": None,
        "hostname": "example.com", "path": f"/p{i}", "session_id": 5000 + i // 3, "visitor_id": 2**62 + i,
        "page_visit_id": f"{i:016x}", "referrer_url": None, "source": "google", "channel": "Organic Search",
        "utm_source": None, "utm_medium": None, "utm_campaign": None, "utm_content": None, "utm_term": None,
        "country": "DE", "region": "DE-BE", "city": "Berlin", "device": "Desktop", "screen": "Desktop",
        "browser": "Chrome", "browser_version": "131", "os": "Mac", "os_version": "10", "scroll": None,
        "engaged_ms": None, "revenue_micros": None, "revenue_currency": None, "meta_keys": [], "meta_values": [],
    }
    row.update(changes)
    return row


def _table(rows, schema=None):
    return pa.Table.from_pylist(rows, schema=schema or arrow_schema())


def _write(path, rows, schema=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(_table(rows, schema) if isinstance(rows, list) else rows, path)
    return path


def _bulk(cli, site_id, path, *flags):
    status, out, err = cli("import", "--site", site_id, "--format", "parquet", str(path), "--json", *flags)
    return status, (json.loads(out) if out.strip() else None), err


def test_ndjson_then_export_import_export_round_trip_gives_identical_rows(cli, tmp_path):
    first, second = _site(cli, "example.com"), _site(cli, "copy.example.com")
    lines = []
    for i in range(60):
        moment = START + timedelta(minutes=9 * i)
        line = {"timestamp": moment.isoformat().replace("+00:00", "Z"), "user_agent": BROWSER_UA,
                "ip": f"203.0.113.{i % 7 + 1}", "url": f"https://example.com/p{i % 5}?utm_source=news",
                "referrer": "https://www.google.com/", "screen_width": 1440}
        if i % 4 == 1:
            line.update(type="custom", name="Purchase", revenue_amount=12.5, revenue_currency="EUR",
                        meta_keys=["plan"], meta_values=["pro"])
        if i % 4 == 2:
            line.update(scroll=70, engaged_ms=12000)
        lines.append(json.dumps(line))
    ndjson = tmp_path / "events.ndjson"
    ndjson.write_text("\n".join(lines) + "\n")
    assert _json(cli, "import", "--site", first, str(ndjson))["stored"] == 60

    exported = _json(cli, "export", "--site", first, "--out", str(tmp_path / "one"))
    assert exported == {"site_id": first, "rows": 60, "files": ["events-2026-03-01.parquet",
                                                                "events-2026-03-02.parquet"]}
    assert _json(cli, "import", "--site", second, "--format", "parquet", str(tmp_path / "one")) == {
        "read": 60, "stored": 60, "rejected": []}
    again = _json(cli, "export", "--site", second, "--out", str(tmp_path / "two"))
    assert again["rows"] == 60 and again["files"] == exported["files"]
    for name in exported["files"]:
        one, two = pq.read_table(tmp_path / "one" / name), pq.read_table(tmp_path / "two" / name)
        assert one.schema == arrow_schema() and one.num_rows > 0
        assert one.equals(two)
    assert _stored(tmp_path, first) == _stored(tmp_path, second)
    assert {r["revenue_micros"] for r in _stored(tmp_path, second)} == {None, 12_500_000}


def test_rows_are_stored_as_given_per_utc_day_and_the_first_date_is_noted(cli, tmp_path):
    site = _site(cli, "example.com")
    rows = [_row(i) for i in range(12)]
    rows[4].update(type="custom", name="Signup", revenue_micros=990_000, revenue_currency="USD",
                   meta_keys=["plan", "seats"], meta_values=["pro", "3"])
    path = _write(tmp_path / "in.parquet", list(reversed(rows)))
    assert _bulk(cli, site, path)[1] == {"read": 12, "stored": 12, "rejected": []}
    assert _stored(tmp_path, site) == rows  # ids, attributes, seq: all kept
    days = sorted(p.name for p in (tmp_path / "data" / "events" / f"site_id={site}").glob("dt=*"))
    assert days == ["dt=2026-03-01", "dt=2026-03-02", "dt=2026-03-03"]
    from clickport.runtime import Runtime
    from clickport.settings import Settings

    config = Runtime(Settings(data_dir=tmp_path / "data")).config
    assert str(config.get_site(site).first_event_date) == "2026-03-01"


def test_invalid_rows_are_rejected_by_number_with_a_reason_and_the_rest_stored(cli, tmp_path):
    site = _site(cli, "example.com")
    future = datetime.now(timezone.utc) + timedelta(days=2)
    bad = {
        2: ({"scroll": 101}, "scroll must be between 0 and 100"),
        3: ({"page_visit_id": "XYZ"}, "page_visit_id must be 16 lower-case hex characters"),
        4: ({"type": "bogus"}, "type must be one of"),
        5: ({"ts": future}, "ts must be between 1970-01-01 and now"),
        6: ({"session_id": 0}, "session_id must be between 1 and"),
        7: ({"revenue_micros": 5}, "revenue_micros and revenue_currency go together"),
        8: ({"meta_keys": ["a"]}, "meta_keys and meta_values must have the same length"),
        9: ({"type": "custom", "name": None}, "custom events need a name"),
        10: ({"name": "x"}, "name is only allowed on custom, click and form events"),
        11: ({"path": "no-slash"}, "path must start with /"),
        12: ({"country": "de"}, "country must be an ISO 3166-1 alpha-2 code"),
        13: ({"visitor_id": None}, "visitor_id is missing"),
        14: ({"utm_source": "u" * 501}, "utm_source must be at most 500 characters"),
        15: ({"meta_keys": [""], "meta_values": ["v"]}, "each of meta_keys must be 1–100 characters"),
        16: ({"engaged_ms": -1}, "engaged_ms must be between 0 and"),
        17: ({"meta_keys": [f"k{i}" for i in range(31)], "meta_values": ["v"] * 31}, "at most 30 meta_keys"),
    }
    rows = [_row(i, **bad[i + 1][0]) if i + 1 in bad else _row(i) for i in range(20)]
    status, summary, err = _bulk(cli, site, _write(tmp_path / "in.parquet", rows))
    assert status == 0, err
    assert summary["read"] == 20 and summary["stored"] == 20 - len(bad)
    assert [r["row"] for r in summary["rejected"]] == sorted(bad)
    for rejection in summary["rejected"]:
        assert rejection["reason"].startswith(bad[rejection["row"]][1]), rejection
    assert [r["path"] for r in _stored(tmp_path, site)] == [f"/p{i}" for i in range(20) if i + 1 not in bad]


def test_row_numbers_count_across_the_files_of_a_folder_in_path_order(cli, tmp_path):
    site = _site(cli, "example.com")
    folder = tmp_path / "backup"
    _write(folder / "b" / "2.parquet", [_row(5), _row(6, scroll=500)])
    _write(folder / "a.parquet", [_row(1), _row(2), _row(3, seq=-1)])
    _write(folder / ".hidden" / "x.parquet", [_row(9, type="nope")])
    (folder / "notes.txt").write_text("not parquet")
    status, summary, _ = _bulk(cli, site, folder)
    assert status == 0
    assert summary["read"] == 5 and summary["stored"] == 3
    assert [(r["row"], r["reason"].split(" ")[0]) for r in summary["rejected"]] == [(3, "seq"), (5, "scroll")]


def test_partition_columns_are_ignored_and_optional_columns_may_be_missing(cli, tmp_path):
    site = _site(cli, "example.com")
    table = _table([_row(0), _row(1)]).select(["ts", "seq", "type", "hostname", "path", "session_id",
                                               "visitor_id", "page_visit_id", "country"])
    table = table.append_column("site_id", pa.array(["s_other"] * 2)).append_column("dt", pa.array(["x", "y"]))
    status, summary, err = _bulk(cli, site, _write(tmp_path / "slim.parquet", table))
    assert status == 0 and summary["stored"] == 2, err
    stored = _stored(tmp_path, site)
    assert [r["country"] for r in stored] == ["DE", "DE"] and {r["source"] for r in stored} == {None}


def test_other_arrow_types_that_hold_the_same_values_are_accepted(cli, tmp_path):
    site = _site(cli, "example.com")
    rows = [_row(0, scroll=40), _row(1, path="/p1")]
    table = _table(rows)
    micros = pa.array([int(r["ts"].timestamp() * 1_000_000) + 999 for r in rows], pa.timestamp("us"))  # naive
    table = table.set_column(0, "ts", micros)
    table = table.set_column(table.schema.get_field_index("scroll"), "scroll", pa.array([40, None], pa.int8()))
    table = table.set_column(table.schema.get_field_index("seq"), "seq", pa.array([1, 2], pa.uint64()))
    table = table.set_column(table.schema.get_field_index("path"), "path",
                             pa.array(["/p0", "/p1"], pa.large_string()).dictionary_encode())
    table = table.set_column(table.schema.get_field_index("meta_keys"), "meta_keys",
                             pa.array([[], []], pa.large_list(pa.string())))
    status, summary, err = _bulk(cli, site, _write(tmp_path / "types.parquet", table))
    assert status == 0 and summary["stored"] == 2, err
    stored = _stored(tmp_path, site)
    assert [r["ts"] for r in stored] == [r["ts"] for r in rows]  # naive = UTC; floored to milliseconds
    assert [r["scroll"] for r in stored] == [40, None] and [r["seq"] for r in stored] == [1, 2]
    assert [r["path"] for r in stored] == ["/p0", "/p1"]


@pytest.mark.parametrize("change, message", [
    (lambda t: t.drop_columns(["session_id"]), "required column 'session_id' is missing"),
    (lambda t: t.append_column("ip", pa.array(["203.0.113.9"])), "unknown column 'ip'"),
    (lambda t: t.set_column(t.schema.get_field_index("seq"), "seq", pa.array(["1"])),
     "column 'seq' is string, expected bigint"),
    (lambda t: t.set_column(0, "ts", pa.array([1], pa.int64())), "column 'ts' is int64, expected timestamp"),
])
def test_a_file_with_wrong_columns_is_refused_whole_and_nothing_is_stored(cli, tmp_path, change, message):
    site = _site(cli, "example.com")
    folder = tmp_path / "in"
    _write(folder / "a-good.parquet", [_row(0)])
    _write(folder / "b-bad.parquet", change(_table([_row(1)])))
    status, out, err = cli("import", "--site", site, "--format", "parquet", str(folder), "--json")
    assert status == 1 and out == ""
    assert err.startswith("clickport: error: ") and message in err and "b-bad.parquet" in err
    assert len(err.strip().splitlines()) == 1
    assert _stored(tmp_path, site) == []


def test_not_parquet_or_missing_paths_are_one_line_errors(cli, tmp_path):
    site = _site(cli, "example.com")
    (tmp_path / "fake.parquet").write_text("hello")
    (tmp_path / "empty").mkdir()
    for path, message in ((tmp_path / "fake.parquet", "not a readable Parquet file"),
                          (tmp_path / "nothing", "no such file or folder"),
                          (tmp_path / "empty", "holds no .parquet file")):
        status, out, err = cli("import", "--site", site, "--format", "parquet", str(path))
        assert status == 1 and message in err and len(err.strip().splitlines()) == 1


def test_strict_stores_nothing_on_a_rejection_and_dry_run_stores_nothing(cli, tmp_path):
    site = _site(cli, "example.com")
    mixed = _write(tmp_path / "mixed.parquet", [_row(0), _row(1, scroll=-5)])
    status, summary, _ = _bulk(cli, site, mixed, "--strict")
    assert status == 1 and summary["stored"] == 0 and [r["row"] for r in summary["rejected"]] == [2]
    status, summary, _ = _bulk(cli, site, mixed, "--dry-run")
    assert status == 0 and summary == {"read": 2, "stored": 0, "rejected": summary["rejected"]}
    assert _stored(tmp_path, site) == []
    good = _write(tmp_path / "good.parquet", [_row(0), _row(1)])
    status, summary, _ = _bulk(cli, site, good, "--strict")
    assert status == 0 and summary["stored"] == 2 and len(_stored(tmp_path, site)) == 2


def test_strings_that_are_not_utf8_are_rejected_rows(cli, tmp_path):
    site = _site(cli, "example.com")
    table = _table([_row(0), _row(1), _row(2)])
    cities = pa.array([b"Berlin", b"M\xfcnchen", b"Paris"], pa.binary())
    invalid = pa.Array.from_buffers(pa.string(), 3, cities.buffers())  # the bytes as a "string" column
    table = table.set_column(table.schema.get_field_index("city"), "city", invalid)
    path = tmp_path / "latin1.parquet"
    pq.write_table(table, path)
    status, summary, err = _bulk(cli, site, path)
    assert status == 0, err
    assert summary["rejected"] == [{"row": 2, "reason": "city is not valid UTF-8"}] and summary["stored"] == 2


def test_export_filters_by_utc_date_and_refuses_a_folder_with_parquet_files(cli, tmp_path):
    site = _site(cli, "example.com")
    _bulk(cli, site, _write(tmp_path / "in.parquet", [_row(i) for i in range(12)]))
    only = _json(cli, "export", "--site", site, "--out", str(tmp_path / "x"), "--from", "2026-03-02",
                 "--to", "2026-03-02")
    assert only["files"] == ["events-2026-03-02.parquet"]
    table = pq.read_table(tmp_path / "x" / "events-2026-03-02.parquet")
    assert table.column_names == list(COLUMN_NAMES)
    assert only["rows"] == table.num_rows == sum(1 for i in range(12) if _row(i)["ts"].day == 2)
    assert _json(cli, "export", "--site", site, "--out", str(tmp_path / "y"), "--from", "2026-03-03")["files"] == [
        "events-2026-03-03.parquet"]
    assert _json(cli, "export", "--site", site, "--out", str(tmp_path / "z"), "--to", "2026-02-28") == {
        "site_id": site, "rows": 0, "files": []}
    status, out, err = cli("export", "--site", site, "--out", str(tmp_path / "x"))
    assert status == 1 and "already holds .parquet files" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, status, fragment", [
    (("export", "--site", "SITE", "--out", "OUT", "--from", "2026-13-01"), 2, "is not a date"),
    (("export", "--site", "SITE", "--out", "OUT", "--from", "2026-03-02", "--to", "2026-03-01"), 2,
     "--from must not be after --to"),
    (("export", "--site", "SITE"), 2, "--out"),
    (("export", "--site", "s_missing", "--out", "OUT"), 1, "unknown site"),
    (("import", "--site", "SITE", "--format", "csv", "x"), 2, "invalid choice"),
    (("import", "--site", "s_missing", "--format", "parquet", "x"), 1, "unknown site"),
    (("--aws", "import", "--site", "SITE", "--format", "parquet", "x"), 2, "not supported with --aws yet"),
    (("--aws", "export", "--site", "SITE", "--out", "OUT"), 2, "not supported with --aws yet"),
])
def test_wrong_arguments_are_one_line_with_a_nonzero_exit(cli, tmp_path, args, status, fragment):
    site = _site(cli, "example.com")
    args = [a.replace("SITE", site).replace("OUT", str(tmp_path / "out")) for a in args]
    code, out, err = cli(*args)
    assert code == status and fragment in err
    assert err.startswith("clickport: error:") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_backend_aws_in_the_environment_is_refused_too(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CLICKPORT_BACKEND", "aws")
    code, _, err = cli("export", "--site", "s_x", "--out", str(tmp_path / "out"))
    assert code == 2 and "not supported with --aws yet" in err


def test_sink_write_tables_publishes_one_file_or_nothing(tmp_path):
    from clickport.adapters.parquet_sink import ParquetEventSink

    sink = ParquetEventSink(tmp_path)
    partition = tmp_path / "events" / "site_id=s_x" / "dt=2026-03-01"
    path = sink.write_tables("s_x", "2026-03-01", (_table([_row(0), _row(1)]), _table([_row(2)])))
    assert path.parent == partition and pq.ParquetFile(path).metadata.num_row_groups == 2
    assert [r["path"] for r in pq.read_table(path).to_pylist()] == ["/p0", "/p1", "/p2"]

    def failing():
        yield _table([_row(3)])
        raise OSError(28, "No space left on device")

    from clickport.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable):
        sink.write_tables("s_x", "2026-03-01", failing())
    assert sorted(p.name for p in partition.iterdir()) == [path.name]  # no temporary file left
    with pytest.raises(ValueError):
        sink.write_tables("../x", "2026-03-01", [])
