"""The code has no undefined names, unused imports or syntax errors (ruff, configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_no_mistakes():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "layers", "functions", "infra", "bench", "tests"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
