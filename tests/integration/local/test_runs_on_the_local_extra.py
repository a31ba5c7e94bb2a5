"""`make dev` installs only the `local` extra: the local server, the demo and every function must run without the
test and deploy packages (CDK, moto, pytest, the bot lists' build tools…)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

_SCRIPT = r"""
import importlib.abc, json, sys
BLOCKED = set(json.loads(sys.argv[1]))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed by `make dev`")
        return None

sys.meta_path.insert(0, Refuse())
import contextlib, io
from clickport.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    assert main(["demo", "--json"]) == 0
key = json.loads(out.getvalue())["key"]
from clickport.local.apigw import build_event
from clickport.local.functions import LocalLambdaContext, handler_for
calls = {
    "event": ("POST", "/api/event", {"url": "https://demo.example.com/x"}),
    "query": ("POST", "/api/query", {"metrics": ["visitors"], "period": "30d"}),
    "realtime": ("GET", "/api/realtime", None),
    "goals": ("GET", "/api/goals", None),
}
ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
for function, (method, path, body) in calls.items():
    target = path + ("?start_date=2026-01-01&end_date=2026-01-31" if function == "goals" else "")
    _, event = build_event(method, target, {"x-api-key": key, "user-agent": ua, "content-type": "application/json"},
                           json.dumps(body).encode() if body else b"", "203.0.113.9")
    answer = handler_for(function)(event, LocalLambdaContext(function_name=function))
    assert answer["statusCode"] == 200, (function, answer)
import os
from pathlib import Path
from clickport.adapters.parquet_sink import ParquetEventSink
ParquetEventSink(Path(os.environ["CLICKPORT_DATA_DIR"]), today=lambda: "2099-01-01").compact()  # every day closed
import clickport.local.server, clickport.local.workers, clickport.local.dashboard  # noqa: E401
print("ok")
"""

# Import names of the packages the other extras bring (and their big dependencies).
_NOT_LOCAL = ["aws_cdk", "constructs", "cdk_nag", "cfnlint", "moto", "pytest", "hypothesis", "ruff",
              "schemathesis", "jsonschema", "device_detector", "yaml_rs", "chdb"]


def test_the_local_extras_are_what_the_server_needs(tmp_path):
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in ("infra", "dev", "bench"):
        for requirement in extras[extra]:
            assert requirement.split("[")[0].split("=")[0].replace("-", "_").lower() in {
                name.lower() for name in _NOT_LOCAL + ["aws_cdk_lib", "cfn_lint", "moto"]}, (
                f"{requirement} (extra {extra}) is not in this test's list of packages `make dev` leaves out")
    env = {**os.environ, "CLICKPORT_DATA_DIR": str(tmp_path / "data")}
    env.pop("CLICKPORT_BACKEND", None)
    done = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps(_NOT_LOCAL)], env=env, capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
