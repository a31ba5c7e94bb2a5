"""Running the installed ``clickport`` command as a subprocess (tests and benchmarks)."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clickport_executable() -> str:
    """The ``clickport`` command of this interpreter's environment (else the one on PATH)."""
    beside_python = Path(sys.executable).parent / "clickport"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("clickport")
    if not found:
        raise RuntimeError("the clickport command is not installed (pip install -e .)")
    return found
