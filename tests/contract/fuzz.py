"""``make fuzz``: schemathesis, driven by the API's own OpenAPI document, against ``clickport serve`` on a
fresh data directory holding the demo site (30 days of traffic, a key with both permissions).

Every route and method gets generated requests, valid and invalid (``--mode all``); the run fails on any
5xx (``not_a_server_error``). Usage: ``python -m tests.contract.fuzz [--max-examples N] [--seed S]``;
other arguments go to ``schemathesis run`` as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.support.processes import clickport_executable, free_port

USER_AGENT = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")


def _wait_for(url: str, server: subprocess.Popen, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"clickport serve exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"clickport serve did not answer {url} within {seconds:g} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=12)
    args, rest = parser.parse_known_args(argv)
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    if schemathesis is None:
        print("fuzz: schemathesis is not installed (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="clickport-fuzz-") as folder:
        port = free_port()
        env = {**os.environ, "CLICKPORT_DATA_DIR": str(Path(folder) / "data"), "CLICKPORT_PORT": str(port),
               "CLICKPORT_BACKEND": "local"}
        clickport = clickport_executable()
        demo = subprocess.run([clickport, "demo", "--json"], env=env, check=True, capture_output=True, text=True)
        key = json.loads(demo.stdout)["key"]
        log = open(Path(folder) / "serve.log", "w+")
        server = subprocess.Popen([clickport, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{base}/api/openapi.json", server)
            command = [
                schemathesis, "run", f"{base}/api/openapi.json",
                "--header", f"x-api-key: {key}", "--header", f"User-Agent: {USER_AGENT}",
                "--checks", "not_a_server_error", "--mode", "all", "--max-examples", str(args.max_examples),
                "--seed", str(args.seed), "--generation-database", "none", "--workers", "1", "--no-color",
                *rest,
            ]
            print("fuzz:", " ".join(c if not c.startswith("x-api-key") else "x-api-key: ck_…" for c in command),
                  flush=True)
            status = subprocess.run(command, env=env, cwd=folder).returncode  # its replay files stay in there
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            log.seek(0)
            errors = [line for line in log if " 500 " in line or "Traceback" in line]
            log.close()
        if errors:
            print(f"fuzz: the server logged {len(errors)} server errors, e.g. {errors[0].strip()}", file=sys.stderr)
            status = status or 1
        return status


if __name__ == "__main__":
    sys.exit(main())
