"""``clickport serve``: the local server; with ``--demo`` also the demo site, its page and lines to paste."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import signal
import sys
from pathlib import Path

from clickport.cli.datadir import ENV, located
from clickport.cli.demo import seed_demo
from clickport.demo import DEMO_DOMAIN
from clickport.domain.keys import issue_key
from clickport.ports import Site
from clickport.runtime import Runtime, set_runtime
from clickport.settings import Settings

DEMO_PAGE = "/demo/"
_BROWSER_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
               "Safari/537.36")


def ensure_demo_site(runtime: Runtime) -> tuple[Site, str | None]:
    """The demo site, and a key when this run created it (with 30 days of traffic); later runs show no key."""
    site = runtime.config.get_site_by_domain(DEMO_DOMAIN)
    if site is not None:
        return site, None
    print(f"Creating the demo site ({DEMO_DOMAIN}) with 30 days of synthetic traffic…", flush=True)
    run = seed_demo(runtime)
    key, _ = issue_key(runtime.config, run.site.site_id, ["read", "tracker"])
    return run.site, key


def clickport_command(data_dir: Path, from_env: bool) -> str:
    """Shell words that run this very ``clickport`` on this data directory, pasted in any folder."""
    program = os.path.abspath(sys.argv[0])
    if os.path.basename(program) == "clickport" and os.access(program, os.X_OK):
        words = [program]
    else:  # started as ``python -m clickport.cli.main``
        words = [sys.executable, "-m", "clickport.cli.main"]
    command = " ".join(shlex.quote(word) for word in words)
    return f"{ENV}={shlex.quote(str(data_dir))} {command}" if from_env else command


def banner(url: str, site: Site, key: str | None, data_dir: Path, from_env: bool) -> str:
    """What ``serve --demo`` prints: every line under "Try it" works pasted into a POSIX shell, in any folder."""
    if key:
        key_line = f"  key:        {key}   (shown once; keep it)"
        export = f"export CLICKPORT_KEY={shlex.quote(key)}"
    else:
        key_line = "  key:        not shown again (keys are stored hashed): the first line below creates one"
        create = f"{clickport_command(data_dir, from_env)} keys create --site {shlex.quote(site.site_id)}"
        export = f'export CLICKPORT_KEY="$({create} | sed -n 1p)"'
    if key:  # the fragment never reaches a server; the dashboard keeps the key in the tab and clears the address bar
        dashboard_line = f"  dashboard:  {url}/#key={key}   (opens signed in)"
    else:
        dashboard_line = f"  dashboard:  {url}/   (sign in with a read key)"
    header = '-H "x-api-key: $CLICKPORT_KEY"'
    event = {"url": f"https://{DEMO_DOMAIN}/pricing", "referrer": "https://www.google.com/"}
    overview = {"metrics": ["visitors", "pageviews", "bounce_rate"], "period": "7d"}
    page_views = {"metrics": ["pageviews"], "period": "today",
                  "filters": [{"dimension": "page", "operator": "is", "value": DEMO_PAGE}]}
    return "\n".join([
        f"Clickport local server: {url}",
        f"  data:       {data_line(data_dir, from_env)}",
        f"  demo site:  {site.site_id} ({site.domain})",
        key_line,
        dashboard_line,
        f"  docs:       {url}/api/docs",
        f"  demo page:  {url}{DEMO_PAGE}   (a page with the tracker for the demo site; open it in a browser)",
        "Try it: paste these lines into a shell (the last one counts the demo page's views today):",
        f"  {export}",
        f"  curl -s -w '\\n' -X POST {url}/api/event {header} -H {shlex.quote('User-Agent: ' + _BROWSER_UA)} "
        f"-d {shlex.quote(_json(event))}",
        f"  curl -s -w '\\n' -X POST {url}/api/query {header} -d {shlex.quote(_json(overview))}",
        f"  curl -s -w '\\n' -X POST {url}/api/query {header} -d {shlex.quote(_json(page_views))}",
    ])


def data_line(data_dir: Path, from_env: bool) -> str:
    return f"{data_dir}   ({'from ' + ENV if from_env else 'the default; ' + ENV + ' sets another'})"


def _json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False)


def reachable_url(host: str, port: int) -> str:
    """The URL to print for a listening address (a wildcard address is reached on the loopback)."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


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
    site, key = ensure_demo_site(runtime) if args.demo else (None, None)
    server = make_server(settings.host, settings.port, settings, compaction=True)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    url = reachable_url(settings.host, server.server_address[1])
    data_dir, from_env = located(settings)

    def ready() -> None:
        if site is not None:
            print(banner(url, site, key, data_dir, from_env), flush=True)
        else:
            print(f"Clickport local server: {url}  (docs: {url}/api/docs)\n  data: {data_line(data_dir, from_env)}",
                  flush=True)

    serve_forever(server, ready)
    return 0


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt  # the same graceful stop as Ctrl-C: requests in flight finish, the journal is published
