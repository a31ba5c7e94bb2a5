"""Typed settings, read once from the environment."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def default_data_dir() -> Path:
    """The local data directory when ``CLICKPORT_DATA_DIR`` is not set: ``$XDG_DATA_HOME/clickport``, else
    ``~/.local/share/clickport`` (the XDG Base Directory default), the same from every working directory."""
    base = os.environ.get("XDG_DATA_HOME", "")
    if base and Path(base).is_absolute():  # NOTE: the XDG spec says to ignore a relative value
        return Path(base) / "clickport"
    home = os.path.expanduser("~")
    if home == "~":  # no HOME and no password entry (a bare container): still one fixed place per user
        import tempfile

        return Path(tempfile.gettempdir()) / f"clickport-{os.getuid()}"
    return Path(home) / ".local" / "share" / "clickport"


class Settings(BaseModel):
    """Everything configurable; logic receives this model, never ``os.environ``."""

    model_config = ConfigDict(frozen=True)

    backend: Literal["local", "aws"] = "local"
    # Local data (sites, keys, events): env CLICKPORT_DATA_DIR, else one per user (``default_data_dir``).
    data_dir: Path = Field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=1, le=65535)
    key_cache_seconds: int = Field(default=30, ge=0, le=60)
    # AWS resources (set by the CDK stack on every function, or read from the stack outputs by the CLI).
    region: str | None = None
    config_table: str = "clickport-config"
    live_table: str = "clickport-live"
    firehose_stream: str = "clickport-events"  # one or more delivery streams, comma-separated (the sink spreads)
    athena_workgroup: str = "clickport"
    athena_database: str = "clickport"
    athena_table: str = "events"
    athena_timeout_seconds: float = 25.0
    # AWS compaction (``adapters/s3_compaction``): with the events bucket set, each query reads the site's
    # watermark there and reads days up to it from the compacted table, later days from ``athena_table``.
    events_bucket: str | None = None
    athena_compacted_table: str = "events_compacted"
    athena_slots_table: str = "events_slots"  # the compacted days' session slots (read when the watermark says)
    origin_secret: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        mapping = {
            "backend": "CLICKPORT_BACKEND",
            "data_dir": "CLICKPORT_DATA_DIR",
            "host": "CLICKPORT_HOST",
            "port": "CLICKPORT_PORT",
            "key_cache_seconds": "CLICKPORT_KEY_CACHE_SECONDS",
            "region": "AWS_REGION",
            "config_table": "CLICKPORT_CONFIG_TABLE",
            "live_table": "CLICKPORT_LIVE_TABLE",
            "firehose_stream": "CLICKPORT_FIREHOSE_STREAM",
            "athena_workgroup": "CLICKPORT_ATHENA_WORKGROUP",
            "athena_database": "CLICKPORT_ATHENA_DATABASE",
            "athena_table": "CLICKPORT_ATHENA_TABLE",
            "athena_timeout_seconds": "CLICKPORT_ATHENA_TIMEOUT_SECONDS",
            "events_bucket": "CLICKPORT_EVENTS_BUCKET",
            "athena_compacted_table": "CLICKPORT_ATHENA_COMPACTED_TABLE",
            "athena_slots_table": "CLICKPORT_ATHENA_SLOTS_TABLE",
            "origin_secret": "CLICKPORT_ORIGIN_SECRET",
        }
        values = {field: env[name] for field, name in mapping.items() if env.get(name)}
        return cls(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings.from_env()
