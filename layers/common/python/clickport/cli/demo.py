"""``clickport demo``: create or refresh the demo site with 30 days of synthetic traffic; prints a key."""

from __future__ import annotations

import argparse
import shutil
from datetime import datetime, timezone

from clickport.cli.output import emit
from clickport.domain.keys import issue_key
from clickport.ports import Site
from clickport.runtime import Runtime

DEMO_DOMAIN = "example.com"


def seed_demo(runtime: Runtime, *, refresh: bool) -> tuple[Site, int]:
    """Ensure the demo site and its goals exist and hold 30 days of traffic up to now; returns (site, stored)."""
    from clickport.demo import DEMO_GOALS, demo_lines
    from clickport.errors import Conflict
    from clickport.ingest.importer import import_events
    from clickport.layout import events_root

    site = runtime.config.get_site_by_domain(DEMO_DOMAIN) or runtime.config.create_site(DEMO_DOMAIN)
    existing = {g.name for g in runtime.config.list_goals(site.site_id)}
    for goal in DEMO_GOALS:
        definition = {k: v for k, v in goal.items() if k not in ("type", "name")}
        if goal["name"] not in existing:
            try:
                runtime.config.create_goal(site.site_id, goal["name"], goal["type"], definition)
            except Conflict:
                pass
    if refresh and runtime.settings.backend == "local":
        shutil.rmtree(events_root(runtime.settings.data_dir) / f"site_id={site.site_id}", ignore_errors=True)
    summary = import_events(demo_lines(DEMO_DOMAIN, datetime.now(timezone.utc)), site=site, sink=runtime.sink,
                            config=runtime.config)
    return runtime.config.get_site(site.site_id) or site, summary.stored


def run_demo(args: argparse.Namespace, runtime: Runtime) -> int:
    site, stored = seed_demo(runtime, refresh=True)
    key, _ = issue_key(runtime.config, site.site_id, ["read", "tracker"])
    emit(bool(getattr(args, "json", False)), {"site_id": site.site_id, "domain": site.domain, "key": key,
                                              "events": stored},
         f"demo site {site.site_id} ({site.domain}): {stored} events over 30 days\nkey: {key}  (shown once)")
    return 0
