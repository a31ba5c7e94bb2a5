"""Page ids (adapters/compaction.extend_pages, the DuckDB engine's ``_page_views``): closed days' files carry
each event's page as an integer from the site's page dictionary, and plans with a ``page`` dimension
group by it and label it afterwards. The answers must equal the string plan and the spec §3.8 reference
whatever mix of files a range reads: compacted days, files added to a compacted day later, fresh days,
unpublished events, pages the dictionary lacks, and ``''``, NULL and a literal ``(none)`` (one group)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import given
from hypothesis import strategies as st

from clickport.adapters import compaction, page_files
from clickport.adapters.duckdb_engine import DuckDbQueryEngine
from clickport.adapters.event_journal import JournalWriter
from clickport.adapters.parquet_sink import ParquetEventSink
from clickport.ports import ScanScope
from clickport.query.service import run_query
from tests.integration.query.test_query_session_slots import SITE, SITE_TEMPLATE, _json, _store
from tests.reference.profiles import query_settings
from tests.reference.query import reference_query
from tests.reference.storage import event_row, write_events
from tests.reference.strategies import GOALS, event_sets, first_event_date, requests

LATE_PATHS = (None, "(none)", "", "/late-only", "/pricing", "/")


class PageEngine(DuckDbQueryEngine):
    """The local engine with the page-id plan forced on (``page_ids``) or off, counting the statements
    that read page ids."""

    def __init__(self, data_dir: Path, *, page_ids: bool) -> None:
        super().__init__(data_dir)
        self.use_page_ids = page_ids
        self.page_statements = 0

    def page_ids_in(self, scope) -> bool:
        return self.use_page_ids

    def execute(self, sql, **options):
        self.page_statements += bool(sql and "page_names" in sql)
        return super().execute(sql, **options)


@st.composite
def page_requests(draw, anchor: datetime):
    """Any request of the reference strategies with ``page`` among its dimensions."""
    body, now = draw(requests(anchor, GOALS))
    dimensions = [d for d in body.get("dimensions", []) if d != "page"][:2]
    dimensions.insert(draw(st.integers(0, len(dimensions))), "page")
    body["dimensions"] = dimensions
    if body.get("order_by") not in (None, *body["metrics"], *dimensions):
        del body["order_by"]
    return body, now


def _check(events: list[dict], data_dir: Path, body: dict, now: datetime) -> None:
    site = replace(SITE_TEMPLATE, first_event_date=first_event_date(events))
    keyed, plain = PageEngine(data_dir, page_ids=True), PageEngine(data_dir, page_ids=False)
    got = run_query(body, site=site, goals=list(GOALS), engine=keyed, now=now).body
    raw = run_query(body, site=site, goals=list(GOALS), engine=plain, now=now).body
    want = reference_query(events, body, site_id=SITE, first_event_date=site.first_event_date, goals=list(GOALS), now=now)
    assert keyed.page_statements == 1 and plain.page_statements == 0, body
    assert _json(got) == _json(raw), (body, now)
    assert _json(got) == _json(want), (body, now)


@query_settings(examples=40)
@given(generated=event_sets(), data=st.data(), closed_days=st.integers(-3, 4))
def test_page_id_plans_equal_string_plans_and_the_reference(generated, data, closed_days):
    anchor, events = generated
    # Some events arrive after compaction (files added to closed days, fresh days), some with pages the
    # dictionary lacks, some unpublished.
    late = [i for i in range(len(events)) if data.draw(st.integers(0, 4), label=f"late {i}") == 0]
    for i in late:
        events[i] = {**events[i], "path": data.draw(st.sampled_from(LATE_PATHS), label=f"path {i}")}
    unpublished = set(late[: data.draw(st.integers(0, 2), label="unpublished")])
    early = [e for i, e in enumerate(events) if i not in late]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, early)
        today = (anchor + timedelta(days=closed_days)).date().isoformat()
        ParquetEventSink(data_dir, today=lambda: today).compact()
        added = [events[i] for i in late if i not in unpublished and events[i]["site_id"] == SITE]
        write_events(data_dir, SITE, [{k: v for k, v in e.items() if k != "site_id"} for e in added])
        tail = [events[i] for i in sorted(unpublished) if events[i]["site_id"] == SITE]
        if tail:
            JournalWriter(data_dir).write(SITE, [{k: v for k, v in e.items() if k != "site_id"} for e in tail])
        for _ in range(3):
            body, now = data.draw(page_requests(anchor))
            _check(events, data_dir, body, now)


def _pageview(minute: int, path, session_id: int, day: datetime) -> dict:
    return {"site_id": SITE, **event_row(ts=day + timedelta(minutes=minute), seq=1, type="pageview",
                                         session_id=session_id, visitor_id=session_id * 7, path=path)}


def test_empty_null_and_literal_none_pages_are_one_group_in_every_file_kind():
    day = datetime(2026, 3, 10, 9, tzinfo=timezone.utc)
    closed = [_pageview(i, path, i + 1, day) for i, path in enumerate(["", None, "(none)", "/a", "/a", "/b"])]
    fresh = [_pageview(i, path, i + 20, day + timedelta(days=2)) for i, path in enumerate([None, "", "/c", "/a"])]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, closed)
        ParquetEventSink(data_dir, today=lambda: "2026-03-11").compact()
        _store(data_dir, fresh)
        keyed = {f.parent.name: page_files.has_page_ids(f) for f in (data_dir / "events").rglob("*.parquet")}
        assert keyed == {"dt=2026-03-10": True, "dt=2026-03-12": False}
        body = {"metrics": ["visitors", "pageviews"], "dimensions": ["page"], "timezone": "UTC",
                "date_range": {"start": "2026-03-10", "end": "2026-03-13"}}
        now = datetime(2026, 3, 20, tzinfo=timezone.utc)
        _check(closed + fresh, data_dir, body, now)
        got = run_query(body, site=replace(SITE_TEMPLATE, first_event_date=day.date()), goals=[],
                        engine=PageEngine(data_dir, page_ids=True), now=now).body
        assert [(r["page"], r["visitors"]) for r in got["results"]] == [("(none)", 5), ("/a", 3), ("/b", 1), ("/c", 1)]


def test_the_dictionary_only_grows_and_ids_never_change():
    day = datetime(2026, 3, 10, 9, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, [_pageview(i, p, i + 1, day) for i, p in enumerate(["/b", "/a", ""])])
        sink = ParquetEventSink(data_dir, today=lambda: "2026-03-20")
        sink.compact()
        first = page_files.load(page_files.current(data_dir, SITE)).to_pylist()
        assert first == [{"page_id": 0, "page": "(none)"}, {"page_id": 1, "page": "/a"}, {"page_id": 2, "page": "/b"}]
        # A later day with known and new pages, and a file added to the first day: new ids are appended.
        _store(data_dir, [_pageview(i, p, i + 10, day + timedelta(days=1)) for i, p in enumerate(["/a", "/0", "/z"])])
        _store(data_dir, [_pageview(30, "/new", 30, day)])
        sink.compact()
        versions = sorted(p.name for p in page_files.pages_dir(data_dir, SITE).iterdir())
        assert versions == ["pages-0000000006.parquet"]  # older versions removed
        second = page_files.load(page_files.current(data_dir, SITE)).to_pylist()
        assert second[:3] == first
        # Partitions are compacted in day order: the first day's new page, then the second day's, sorted.
        assert second[3:] == [{"page_id": 3, "page": "/new"}, {"page_id": 4, "page": "/0"}, {"page_id": 5, "page": "/z"}]
        for path in (data_dir / "events").rglob("*.parquet"):
            table = pq.read_table(path)
            ids = dict(zip(compaction.page_labels(table["path"]).to_pylist(), table["page_id"].to_pylist()))
            assert all(second[i]["page"] == page for page, i in ids.items())


def test_day_files_without_page_ids_are_rewritten_once():
    """Day files written before page ids (an older version) are compacted again, once; the engine picks the
    page-id plan only when most of a range's bytes carry ids."""
    day = datetime(2026, 3, 10, 9, tzinfo=timezone.utc)
    events = [_pageview(i, f"/p{i % 3}", i + 1, day) for i in range(9)]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        _store(data_dir, events)
        sink = ParquetEventSink(data_dir, today=lambda: "2026-03-20")
        partition = next((data_dir / "events").rglob("dt=2026-03-10"))
        old = [pq.read_table(path) for path in partition.glob("*.parquet")]
        for path in partition.glob("*.parquet"):
            path.unlink()
        compaction.write_output(compaction.compact_day(old)[0], partition / "day-old.parquet", closed=True)
        scope = ScanScope(SITE, day.date() - timedelta(days=1), day.date() + timedelta(days=1))
        assert not DuckDbQueryEngine(data_dir).page_ids_in(scope)
        assert sink.compact() == 1
        names = [p.name for p in partition.glob("*.parquet")]
        assert len(names) == 1 and names != ["day-old.parquet"] and page_files.has_page_ids(partition / names[0])
        assert DuckDbQueryEngine(data_dir).page_ids_in(scope)
        assert sink.compact() == 0
