"""Shared DynamoDB plumbing for the AWS stores: the low-level client, attribute codecs, error mapping."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, Callable, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from clickport.errors import StoreUnavailable

Item = dict[str, dict[str, Any]]
F = TypeVar("F", bound=Callable[..., Any])

# Error codes that mean "try again later": the caller answers 503 (or drops, for rate counters).
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)
UNAVAILABLE_CODES = THROTTLING_CODES | {"InternalServerError", "ServiceUnavailable", "TransactionInProgressException"}


def default_client():
    """A low-level client with short timeouts and a few standard retries (``aws_clients.CLIENT_POLICIES``)."""
    from clickport.adapters.aws_clients import aws_client

    return aws_client("dynamodb")


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def is_conditional_failure(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def is_throttling(exc: ClientError) -> bool:
    return error_code(exc) in THROTTLING_CODES


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per-operation reasons of a cancelled transaction (``"None"`` for operations that were fine)."""
    return [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]


def translate_errors(method: F) -> F:
    """Turn throttling, service errors and network failures into ``StoreUnavailable``."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ClientError as exc:
            if error_code(exc) in UNAVAILABLE_CODES:
                raise StoreUnavailable(f"DynamoDB is unavailable: {error_code(exc)}") from exc
            raise
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB is unreachable: {type(exc).__name__}") from exc

    return wrapper  # type: ignore[return-value]


# Attribute values (the low-level client's wire format)


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int | float | Decimal) -> dict[str, str]:
    return {"N": str(value)}


def b(value: bytes) -> dict[str, bytes]:
    return {"B": value}


def seconds_of_ms(ms: int) -> dict[str, str]:
    """Epoch milliseconds as exact decimal seconds (``expires_at`` is compared in seconds)."""
    return {"N": str(Decimal(ms) / 1000)}


def get_s(item: Item, name: str, default: str | None = None) -> str | None:
    value = item.get(name)
    return value["S"] if value is not None else default


def get_int(item: Item, name: str, default: int | None = None) -> int | None:
    value = item.get(name)
    if value is None:
        return default
    text = value["N"]
    return int(text) if text.lstrip("-").isdigit() else int(Decimal(text))
