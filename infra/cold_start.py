"""Cold start of a function from its built bundle, with and without its bytecode: ``python -m infra.cold_start``.

It builds the common layer and the function with the same bundlers as ``cdk deploy`` (infra/bundling.py),
for this machine's platform instead of arm64 so that they run here, and treats them as Lambda does:

- every file's mtime is reset to 1980-01-01, as cdk-assets zips every asset with that one date
  ("reset dates to get the same hash for the same content"),
- nothing can be written next to the code (``/opt`` and ``/var/task`` are read-only on Lambda), so
  what Python compiles is never kept,
- each run is a fresh Python 3.13 process that only sees the layer, the function and the standard library.

A run times ``import handler`` and then the first request (a realistic ``POST /api/event`` through
CloudFront, served by the local SQLite stores and an in-memory sink, so that no network is involved:
boto3 is Lambda's own and not part of either figure), and counts the modules of the bundle Python had to
compile from source. "without .pyc" is the same bundle with every ``__pycache__`` removed, which is what
was deployed before the bundles carried bytecode.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from infra.bundling import (
    FUNCTIONS_DIR,
    LAMBDA_PLATFORMS,
    FunctionBundler,
    LayerBundler,
    bytecode_interpreter,
    runtime_requirements,
)

CDK_ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the date cdk-assets gives every file of an asset zip
ORIGIN_SECRET = "cold-start-probe-origin-secret-0123456789abcdef"

_PROBE = r"""
import json, sys, time
layer, function, data_dir, event_file = sys.argv[1:5]
sys.dont_write_bytecode = True  # /opt and /var/task are read-only on Lambda: nothing compiled is kept
sys.path[0:0] = [function, layer]
import importlib.machinery
compiled = []
_to_code = importlib.machinery.SourceFileLoader.source_to_code
def _counting(self, data, path, *args, **kwargs):
    compiled.append(path)
    return _to_code(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = _counting

start = time.perf_counter()
import handler
imported = time.perf_counter()

from clickport.runtime import Runtime, set_runtime
from clickport.settings import Settings

class ListSink:
    def __init__(self):
        self.rows = []
    def write(self, site_id, rows):
        self.rows.extend(rows)

class Context:
    function_name = "clickport-event"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:clickport-event"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/clickport-event"
    log_stream_name = "probe"
    def get_remaining_time_in_millis(self):
        return 10_000

sink = ListSink()
settings = Settings(data_dir=data_dir, key_cache_seconds=0, origin_secret=sys.argv[5])
set_runtime(Runtime(settings, sink=sink))
event = json.loads(open(event_file).read())
ready = time.perf_counter()
response = handler.lambda_handler(event, Context())
answered = time.perf_counter()
print(json.dumps({
    "import_s": imported - start,
    "first_request_s": answered - ready,
    "status": response["statusCode"],
    "body": json.loads(response["body"]),
    "stored": len(sink.rows),
    "country": sink.rows[0]["country"] if sink.rows else None,
    "compiled": compiled,
}))
"""


def host_platforms() -> tuple[str, ...]:
    """Wheel platforms of this machine (Lambda's own when it is arm64 Linux)."""
    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64"):
        return LAMBDA_PLATFORMS
    return (f"manylinux_2_28_{machine}", f"manylinux2014_{machine}")


@dataclass(frozen=True)
class Bundle:
    layer: Path  # the layer's python/ directory (Lambda: /opt/python)
    function: Path  # the function's directory (Lambda: /var/task)


def build_bundle(workdir: Path, function: str = "event", *, bytecode: bool = True) -> Bundle:
    """The layer and ``functions/<function>`` as the stack builds them, for this machine, as Lambda sees them."""
    layer_root, function_root = workdir / "layer", workdir / "function"
    bundler = LayerBundler(runtime_requirements(), bytecode=bytecode, platforms=host_platforms())
    bundler.try_bundle(str(layer_root))
    FunctionBundler(FUNCTIONS_DIR / function, bytecode=bytecode).try_bundle(str(function_root))
    for root in (layer_root, function_root):
        as_deployed(root)
    return Bundle(layer_root / "python", function_root)


def as_deployed(root: Path) -> None:
    """Every mtime reset to the zip's 1980-01-01 (the CDK's asset zip), and nothing writable."""
    for path in sorted(root.rglob("*"), reverse=True):
        os.utime(path, (CDK_ZIP_EPOCH, CDK_ZIP_EPOCH), follow_symlinks=False)
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~0o222)
    os.utime(root, (CDK_ZIP_EPOCH, CDK_ZIP_EPOCH))


def without_bytecode(bundle: Bundle, workdir: Path) -> Bundle:
    """A copy of the bundle with every ``__pycache__`` removed (what was deployed before)."""
    copies = []
    for source, name in ((bundle.layer.parent, "layer"), (bundle.function, "function")):
        target = workdir / name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
        for path in target.rglob("*"):  # copytree keeps the read-only modes; the copy is then re-stamped
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)
        as_deployed(target)
        copies.append(target)
    return Bundle(copies[0] / "python", copies[1])


def seeded_data_dir(workdir: Path) -> tuple[Path, str]:
    """A local data directory with one site and a tracker key (made by this process, not the probe)."""
    from clickport.domain.keys import issue_key
    from clickport.runtime import Runtime
    from clickport.settings import Settings

    runtime = Runtime(Settings(data_dir=workdir / "seed"))
    site = runtime.config.create_site("example.com")
    key = issue_key(runtime.config, site.site_id, ["tracker"])[0]
    return runtime.data_dir, key


def cloudfront_event(key: str) -> dict:
    """``POST /api/event`` as it reaches the event function behind the stack's CloudFront."""
    from clickport.local.apigw import build_event

    headers = {
        "x-api-key": key,
        "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "content-type": "application/json",
        "x-forwarded-for": "203.0.113.7, 130.176.12.34",
        "cloudfront-viewer-address": "203.0.113.7:51234",
        "cloudfront-viewer-country": "DE",
        "cloudfront-viewer-country-region": "BE",
        "cloudfront-viewer-city": "Berlin",
        "x-clickport-origin-secret": ORIGIN_SECRET,
    }
    body = json.dumps({"url": "https://example.com/pricing?utm_source=news", "referrer": "https://www.google.com/"})
    _, event = build_event("POST", "/api/event", headers, body.encode(), "130.176.12.34")
    return event


@dataclass(frozen=True)
class Run:
    import_s: float
    first_request_s: float
    compiled: tuple[str, ...]
    status: int
    country: str | None

    @property
    def total_s(self) -> float:
        return self.import_s + self.first_request_s


def probe(bundle: Bundle, seed: Path, event_file: Path, workdir: Path, interpreter: str | None = None) -> Run:
    """One cold start: a fresh Python 3.13 process, a fresh copy of the seeded data."""
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
    shutil.copytree(seed, data_dir, dirs_exist_ok=True)
    command = [
        interpreter or bytecode_interpreter(), "-I", "-c", _PROBE,
        str(bundle.layer), str(bundle.function), str(data_dir), str(event_file), ORIGIN_SECRET,
    ]  # fmt: skip
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "clickport-event",
           "POWERTOOLS_METRICS_NAMESPACE": "Clickport", "TZ": "UTC"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    shutil.rmtree(data_dir, ignore_errors=True)
    if result.returncode != 0:
        raise RuntimeError(f"the cold-start probe failed:\n{result.stderr[-4000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    roots = (str(bundle.layer), str(bundle.function))
    compiled = tuple(path for path in report["compiled"] if path.startswith(roots))
    return Run(report["import_s"], report["first_request_s"], compiled, report["status"], report["country"])


@dataclass(frozen=True)
class Measurement:
    with_pyc: list[Run]
    without_pyc: list[Run]


def measure(workdir: Path, runs: int = 5, function: str = "event") -> Measurement:
    """``runs`` cold starts of each variant, interleaved so that machine load hits both alike."""
    bundle = build_bundle(workdir / "built", function)
    stripped = without_bytecode(bundle, workdir / "stripped")
    seed, key = seeded_data_dir(workdir)
    event_file = workdir / "event.json"
    event_file.write_text(json.dumps(cloudfront_event(key)))
    interpreter = bytecode_interpreter()
    with_pyc, without_pyc = [], []
    for _ in range(runs):
        with_pyc.append(probe(bundle, seed, event_file, workdir, interpreter))
        without_pyc.append(probe(stripped, seed, event_file, workdir, interpreter))
    return Measurement(with_pyc, without_pyc)


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms ({min(values) * 1000:.0f}–{max(values) * 1000:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        result = measure(Path(tmp), args.runs)
        subprocess.run(["chmod", "-R", "u+w", tmp], check=False)  # the bundles were made read-only
    machine = f"{platform.machine()}, {platform.system()}, CPython {bytecode_interpreter_version()}"
    print(f"event function cold start from its built bundle, median of {args.runs} (min–max), {machine}")
    print("| bundle | handler import | first request | import + first request | modules compiled |")
    print("|---|---|---|---|---|")
    for label, runs in (("with .pyc", result.with_pyc), ("without .pyc", result.without_pyc)):
        print(
            f"| {label} | {_ms([r.import_s for r in runs])} | {_ms([r.first_request_s for r in runs])} "
            f"| {_ms([r.total_s for r in runs])} | {statistics.median([len(r.compiled) for r in runs]):.0f} |"
        )


def bytecode_interpreter_version() -> str:
    result = subprocess.run([bytecode_interpreter(), "-c", "import platform; print(platform.python_version())"],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


if __name__ == "__main__":
    main()
