"""How CLI commands print: plain lines for people, one JSON document with ``--json``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable


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


def write_generated(what: str, render: Callable[[], str], argv: list[str] | None = None) -> None:
    """``python -m <module> --write PATH`` of a generated document (``make openapi``)."""
    parser = argparse.ArgumentParser(description=f"Write the generated {what}")
    parser.add_argument("--write", type=Path, required=True)
    args = parser.parse_args(argv)
    args.write.write_text(render(), encoding="utf-8")
