"""Deployment settings, read once from CDK context (``-c clickport:<key>=<value>``) with checked defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

from aws_cdk import aws_logs as logs
from constructs import Node

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTEXT_PREFIX = "clickport:"

# CloudWatch Logs accepts only these retention periods.
RETENTION_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
}

BUNDLING_MODES = ("pip", "stub")
LIVE_CAPACITY_MODES = ("on-demand", "provisioned")


def _int_between(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}, got {number}")
        return number

    return parse


def _stage_name(value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", text):
        raise ValueError(f"must be 1-16 lowercase letters or digits, starting with a letter, got {text!r}")
    return text


def _stack_name(value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", text):
        raise ValueError(f"must be a CloudFormation stack name (letters, digits, hyphens), got {text!r}")
    return text


def _retention(value: Any) -> int:
    days = int(value)
    if days not in RETENTION_DAYS:
        raise ValueError(f"must be one of {sorted(RETENTION_DAYS)}, got {days}")
    return days


def _bundling(value: Any) -> str:
    if value not in BUNDLING_MODES:
        raise ValueError(f"must be one of {', '.join(BUNDLING_MODES)}, got {value!r}")
    return str(value)


def _live_capacity(value: Any) -> str:
    if value not in LIVE_CAPACITY_MODES:
        raise ValueError(f"must be one of {', '.join(LIVE_CAPACITY_MODES)}, got {value!r}")
    return str(value)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"must be true or false, got {value!r}")
    return text == "true"


def _email(value: Any) -> str:
    text = str(value).strip()
    if text and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise ValueError(f"must be an e-mail address or empty, got {text!r}")
    return text


@dataclass(frozen=True)
class DeployConfig:
    """Every knob of one deployment; each field is the context key ``clickport:<fieldName in camelCase>``."""

    stack_name: str = "Clickport"
    stage: str = "prod"
    log_retention_days: int = 30
    # Stats for today wait up to this long; 300 s: a fifth of the S3 objects of 60 s (docs/deploy.md).
    firehose_buffer_seconds: int = 300
    throttle_rate_limit: int = 200
    throttle_burst_limit: int = 400
    event_throttle_rate_limit: int = 5000
    event_throttle_burst_limit: int = 5000
    delivery_streams: int = 4
    live_warm_writes_per_second: int = 0
    # The live table's capacity (docs/deploy.md, "Live table capacity"): on-demand, or provisioned with
    # autoscaling between the minimum and maximum units at a target utilization (per cent).
    live_capacity: str = "on-demand"
    live_read_units: int = 5
    live_write_units: int = 25
    live_max_read_units: int = 2_000
    live_max_write_units: int = 12_000
    live_target_utilization: int = 70
    athena_bytes_scanned_cutoff: int = 10 * 1024**3
    athena_timeout_seconds: int = 25
    error_output_expiration_days: int = 30
    athena_results_expiration_days: int = 7
    origin_secret_generation: int = 1
    alarm_email: str = ""
    tracker_script: str = "tracker/dist/cp.min.js"
    bundling: str = "pip"
    bytecode: bool = True

    @property
    def retention(self) -> logs.RetentionDays:
        return RETENTION_DAYS[self.log_retention_days]

    @property
    def tracker_script_path(self) -> Path:
        path = Path(self.tracker_script)
        return path if path.is_absolute() else REPO_ROOT / path

    @classmethod
    def from_context(cls, node: Node) -> "DeployConfig":
        """Read each field from context; a bad value stops synthesis with the key and the rule it broke."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            key = context_key(field.name)
            raw = node.try_get_context(key)
            if raw is None or raw == "":
                continue
            try:
                values[field.name] = _PARSERS[field.name](raw)
            except (TypeError, ValueError) as error:
                raise ValueError(f"context {key}: {error}") from None
        config = cls(**values)
        if config.live_read_units > config.live_max_read_units or config.live_write_units > config.live_max_write_units:
            raise ValueError("context clickport:liveReadUnits/liveWriteUnits: the minimum is above the maximum")
        return config


def context_key(field_name: str) -> str:
    head, *rest = field_name.split("_")
    return CONTEXT_PREFIX + head + "".join(part.capitalize() for part in rest)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "stack_name": _stack_name,
    "stage": _stage_name,
    "log_retention_days": _retention,
    # Firehose offers no zero buffering with dynamic partitioning; 60-900 s is its range.
    "firehose_buffer_seconds": _int_between(60, 900),
    "throttle_rate_limit": _int_between(1, 10_000),
    "throttle_burst_limit": _int_between(1, 5_000),
    # The event routes (POST /api/event, /api/track) get their own: bursts of events must not be cut at the
    # query routes' throttle. API Gateway's account quota (10,000 requests/s, burst 5,000 per region) caps both.
    "event_throttle_rate_limit": _int_between(1, 10_000),
    "event_throttle_burst_limit": _int_between(1, 5_000),
    # Firehose Direct PUT quota is per stream: each takes 2,000 calls/s (1,000 outside the largest regions).
    "delivery_streams": _int_between(1, 16),
    # 0: DynamoDB's own warm throughput (a new on-demand table: 4,000 writes/s); else pre-warm to this.
    "live_warm_writes_per_second": _int_between(0, 1_000_000),
    "live_capacity": _live_capacity,
    # Provisioned units of the live table (its realtime index gets its share: infra/tables.py); autoscaling
    # never goes below the minimum nor above the maximum. A table or index partition serves at most 3,000
    # reads and 1,000 writes per second; 40,000 is DynamoDB's default per-table quota.
    "live_read_units": _int_between(1, 40_000),
    "live_write_units": _int_between(1, 40_000),
    "live_max_read_units": _int_between(1, 40_000),
    "live_max_write_units": _int_between(1, 40_000),
    # Application Auto Scaling target tracking for DynamoDB accepts 20-90 per cent.
    "live_target_utilization": _int_between(20, 90),
    # Athena: the per-query cutoff must be at least 10 MB.
    "athena_bytes_scanned_cutoff": _int_between(10_000_000, 2**62),
    # The HTTP API gives an integration at most 30 s; the query functions answer 504 before that.
    "athena_timeout_seconds": _int_between(1, 27),
    "error_output_expiration_days": _int_between(1, 3650),
    "athena_results_expiration_days": _int_between(1, 3650),
    "origin_secret_generation": _int_between(1, 1_000_000),
    "alarm_email": _email,
    "tracker_script": str,
    "bundling": _bundling,
    "bytecode": _boolean,
}
