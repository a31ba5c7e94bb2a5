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
