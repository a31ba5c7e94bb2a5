"""Store fixtures: every contract test runs once per adapter (SQLite file, DynamoDB through moto)."""

from __future__ import annotations

import itertools
import random

import boto3
import pytest
from moto import mock_aws

from clickport import tables
from clickport.adapters.dynamodb_config import DynamoDbConfigStore
from clickport.adapters.dynamodb_live import DynamoDbLiveStore
from clickport.adapters.sqlite_config import SqliteConfigStore
from clickport.adapters.sqlite_live import SqliteLiveStore
from clickport.ports import LiveSession

ADAPTERS = ["sqlite", "dynamodb"]
CONFIG_TABLE_NAME = "test-config"
LIVE_TABLE_NAME = "test-live"


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def dynamodb_client(aws_env):
    """A client of a moto DynamoDB (tables are created by the store fixtures)."""
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def config_table(dynamodb_client) -> str:
    dynamodb_client.create_table(**tables.CONFIG_TABLE.create_table_kwargs(CONFIG_TABLE_NAME))
    return CONFIG_TABLE_NAME


@pytest.fixture
def live_table(dynamodb_client) -> str:
    """The live table exactly as ``clickport.tables`` declares it (keys and the realtime index)."""
    dynamodb_client.create_table(**tables.LIVE_TABLE.create_table_kwargs(LIVE_TABLE_NAME))
    return LIVE_TABLE_NAME


@pytest.fixture(params=ADAPTERS)
def config_store(request, tmp_path):
    if request.param == "sqlite":
        store = SqliteConfigStore(tmp_path / "data" / "config.sqlite3")
        yield store
        store.close()
    else:
        table = request.getfixturevalue("config_table")
        yield DynamoDbConfigStore(table, client=request.getfixturevalue("dynamodb_client"))


@pytest.fixture(params=ADAPTERS)
def live_store(request, tmp_path):
    if request.param == "sqlite":
        store = SqliteLiveStore(tmp_path / "data" / "live.sqlite3")
        yield store
        store.close()
    else:
        table = request.getfixturevalue("live_table")
        yield DynamoDbLiveStore(table, client=request.getfixturevalue("dynamodb_client"))


@pytest.fixture
def new_session():
    """Factory of live sessions with random ids (so DynamoDB spreads them over realtime shards)."""
    rng = random.Random(20240615)
    counter = itertools.count(1)

    def build(site_id: str = "s_site000001", **overrides) -> LiveSession:
        fields = dict(
            site_id=site_id,
            session_id=rng.randint(1, 2**53 - 1),
            visitor_id=rng.randint(1, 2**63 - 1),
            started_ms=1_750_000_000_000,
            last_ms=1_750_000_000_000,
            entry_page="/",
            current_page="/",
            page_visit_id=f"{next(counter):016x}",
            pageviews=1,
            seq=1,
            scroll=None,
            attributes={"source": "Google", "channel": "Organic Search", "utm_source": None},
            expires_at=1_750_000_000 + 86_400,
        )
        fields.update(overrides)
        return LiveSession(**fields)

    return build
