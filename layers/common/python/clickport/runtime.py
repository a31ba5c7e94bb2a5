"""Wires the adapters the settings ask for; built lazily, once per process (or per test)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Callable

from clickport.domain.keys import KeyAuthenticator
from clickport.ports import ConfigStore, EventSink, GeoLocator, LiveStore, QueryEngine
from clickport.settings import Settings, get_settings


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Runtime:
    """The process's adapters. Each is created on first use, so a function only builds what it needs."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utc_now, *, sink: EventSink | None = None):
        self.settings = settings
        self.clock = clock
        if sink is not None:
            self.__dict__["sink"] = sink  # e.g. the local server's workers write through its journal

    @cached_property
    def data_dir(self) -> Path:
        """The local data directory, made private (0700/0600) on first use."""
        from clickport.layout import secure_data_dir

        return secure_data_dir(self.settings.data_dir)

    def _boto_client(self, service: str):
        """A client with the service's timeouts and retries (``clickport.adapters.aws_clients``)."""
        from clickport.adapters.aws_clients import aws_client

        return aws_client(service, self.settings.region)

    @cached_property
    def config(self) -> ConfigStore:
        if self.settings.backend == "aws":
            from clickport.adapters.dynamodb_config import DynamoDbConfigStore

            return DynamoDbConfigStore(self.settings.config_table, client=self._boto_client("dynamodb"))
        from clickport.adapters.sqlite_config import SqliteConfigStore
        from clickport.layout import config_db

        return SqliteConfigStore(config_db(self.data_dir))

    @cached_property
    def live(self) -> LiveStore:
        if self.settings.backend == "aws":
            from clickport.adapters.dynamodb_live import DynamoDbLiveStore

            return DynamoDbLiveStore(self.settings.live_table, client=self._boto_client("dynamodb"))
        from clickport.adapters.sqlite_live import SqliteLiveStore
        from clickport.layout import live_db

        return SqliteLiveStore(live_db(self.data_dir))

    @cached_property
    def sink(self) -> EventSink:
        if self.settings.backend == "aws":
            from clickport.adapters.firehose_sink import FirehoseEventSink

            return FirehoseEventSink(self.settings.firehose_stream, client=self._boto_client("firehose"))
        from clickport.adapters.parquet_sink import ParquetEventSink

        return ParquetEventSink(self.data_dir)

    @cached_property
    def engine(self) -> QueryEngine:
        if self.settings.backend == "aws":
            from clickport.adapters.athena_engine import AthenaQueryEngine

            watermark = None
            if self.settings.events_bucket:  # compaction on: split each query at the site's watermark
                from functools import partial

                from clickport.adapters.s3_compaction import read_served

                watermark = partial(read_served, self._boto_client("s3"), self.settings.events_bucket)
            compacted = f"{self.settings.athena_database}.{self.settings.athena_compacted_table}"
            slots = f"{self.settings.athena_database}.{self.settings.athena_slots_table}"
            return AthenaQueryEngine(self.settings, client=self._boto_client("athena"), watermark=watermark,
                                     compacted_table=compacted, slots_table=slots)
        from clickport.adapters.duckdb_engine import DuckDbQueryEngine

        return DuckDbQueryEngine(self.data_dir)

    @cached_property
    def geo(self) -> GeoLocator:
        """Places of a client address: CloudFront's viewer headers on AWS, the offline table locally."""
        from clickport.adapters.geo import EdgeGeoLocator, OfflineGeoLocator

        return EdgeGeoLocator() if self.settings.backend == "aws" else OfflineGeoLocator()

    @cached_property
    def authenticator(self) -> KeyAuthenticator:
        return KeyAuthenticator(self.config, ttl_seconds=self.settings.key_cache_seconds)


_runtime: Runtime | None = None
_lock = threading.Lock()


def get_runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime(get_settings())
        return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install a runtime (the local server and tests); None resets to the settings' default."""
    global _runtime
    with _lock:
        _runtime = runtime
