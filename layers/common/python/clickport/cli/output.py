"""How CLI commands print: plain lines for people, one JSON document with ``--json``."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(as_json: bool, data: Any, text: str) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=None, default=str))
    else:
        print(text)


def table(rows: list[list[str]], headers: list[str]) -> str:
    if not rows:
        return "(none)"
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


class CliError(Exception):
    """A one-line error for the operator; exit status 1 unless given."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def fail(message: str, status: int = 1) -> None:
    print(f"clickport: error: {message}", file=sys.stderr)
    raise SystemExit(status)
