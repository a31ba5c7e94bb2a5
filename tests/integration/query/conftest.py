"""Fixtures of the query integration tests: a site, its goals, and a DuckDB engine over a temporary store."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import tests.reference.profiles  # noqa: F401  (registers the Hypothesis profiles)
from clickport.adapters.duckdb_engine import DuckDbQueryEngine
from clickport.ports import Site
from tests.reference.strategies import GOALS, SITE


@pytest.fixture
def site() -> Site:
    return Site(SITE, "example.com", datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.fixture
def goals():
    return list(GOALS)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def engine(data_dir) -> DuckDbQueryEngine:
    return DuckDbQueryEngine(data_dir)


class Store:
    """Events written as the local store keeps them, and queries run over them with DuckDB."""

    def __init__(self, data_dir, site, goals) -> None:
        self.data_dir = data_dir
        self.site = site
        self.goals = goals
        self.engine = DuckDbQueryEngine(data_dir)
        self._seq: dict[int, int] = {}

    def add(self, ts, session_id, kind="pageview", *, visitor_id=None, site_id=None, **columns):
        from tests.reference.storage import write_events

        self._seq[session_id] = self._seq.get(session_id, 0) + 1
        row = {"ts": ts, "seq": self._seq[session_id], "type": kind, "session_id": session_id,
               "visitor_id": visitor_id if visitor_id is not None else session_id, **columns}
        if kind == "pageview" and "path" not in row:
            row["path"] = "/"
        write_events(self.data_dir, site_id or self.site.site_id, [row])
        return row

    def query(self, body, now):
        from clickport.query.service import run_query

        return run_query(body, site=self.site, goals=self.goals, engine=self.engine, now=now).body


@pytest.fixture
def store(data_dir, site, goals) -> Store:
    return Store(data_dir, site, goals)
