"""``clickport serve``: the local server, with a demo site and key on first run."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from clickport.domain.keys import issue_key
from clickport.runtime import Runtime, set_runtime
from clickport.settings import Settings

from clickport.cli.demo import DEMO_DOMAIN, seed_demo


def ensure_demo_site(runtime: Runtime) -> tuple[str, str | None]:
    """The first site's id and, on the very first run, a new demo site with 30 days of traffic and a key."""
    sites = runtime.config.list_sites()
    if sites:
        return sites[0].site_id, None
    print("First run: creating the demo site with 30 days of synthetic traffic…", flush=True)
    site, _ = seed_demo(runtime, refresh=False)
    key, _ = issue_key(runtime.config, site.site_id, ["read", "tracker"])
    return site.site_id, key


def banner(url: str, site_id: str, key: str | None) -> str:
    shown = key or "$CLICKPORT_KEY"
    lines = [f"Clickport local server: {url}", f"  site:   {site_id}"]
    if key:
        lines.append(f"  key:    {key}   (shown once; keep it)")
    else:
        lines.append(f"  key:    create one with: .venv/bin/clickport keys create --site {site_id}")
        lines.append("          (or refresh the demo data and get a key: .venv/bin/clickport demo)")
    lines += [
        f"  docs:   {url}/api/docs",
        "Try it:",
        f"  curl -s -X POST {url}/api/event -H 'x-api-key: {shown}' -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) "
        f"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' "
        f"-d '{{\"url\": \"https://{DEMO_DOMAIN}/pricing\", \"referrer\": \"https://www.google.com/\"}}'",
        f"  curl -s -X POST {url}/api/query -H 'x-api-key: {shown}' "
        f"-d '{{\"metrics\": [\"visitors\", \"pageviews\", \"bounce_rate\"], \"period\": \"7d\"}}'",
    ]
    return "\n".join(lines)


def run_server(args: argparse.Namespace) -> int:
    from clickport.local.server import make_server, serve_forever

    settings = Settings.from_env()
    if settings.backend != "local" or args.aws:
        print("clickport: error: serve runs the local backend only (unset CLICKPORT_BACKEND)", file=sys.stderr)
        return 2
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings.model_copy(update=overrides)
    runtime = Runtime(settings)
    set_runtime(runtime)
    runtime.data_dir  # noqa: B018 - private (0700/0600) before anything is written
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    site_id, key = ensure_demo_site(runtime) if args.demo else (None, None)
    server = make_server(settings.host, settings.port, settings)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    url = f"http://{settings.host}:{server.server_address[1]}"
    stop_compaction = _start_compaction(settings)

    def ready() -> None:
        if site_id:
            print(banner(url, site_id, key), flush=True)
        else:
            print(f"Clickport local server: {url}  (docs: {url}/api/docs)", flush=True)

    try:
        serve_forever(server, ready)
    finally:
        if stop_compaction:
            stop_compaction()
    return 0


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt  # the same graceful stop as Ctrl-C: requests in flight finish, the journal is published


def _start_compaction(settings: Settings):
    try:
        from clickport.adapters.parquet_sink import start_background_compaction
    except ImportError:
        return None
    # NOTE: the journal publishes about two files a second per busy partition; this keeps them few.
    return start_background_compaction(settings.data_dir, interval_s=10.0, compact_after=16)
