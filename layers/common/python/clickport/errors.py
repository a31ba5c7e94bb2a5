"""Typed errors and the one table of HTTP reason phrases (spec §2)."""

from __future__ import annotations

# NOTE: fixed here on purpose; the runtime's own phrases change between versions.
REASON_PHRASES: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Payload Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
}


class ApiError(Exception):
    """An error with an HTTP status; its message is safe to show a client."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error": REASON_PHRASES[self.status], "message": self.message}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self, message: str = "Invalid API key") -> None:
        super().__init__(message)


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class PayloadTooLarge(ApiError):
    status = 413


class NotImplementedYet(ApiError):
    status = 501


class ServiceUnavailable(ApiError):
    status = 503


class GatewayTimeout(ApiError):
    status = 504


class Conflict(Exception):
    """A uniqueness rule was violated in a store (domain taken, goal name taken, …)."""


class StoreUnavailable(Exception):
    """A store is unavailable or throttling; maps to 503."""
