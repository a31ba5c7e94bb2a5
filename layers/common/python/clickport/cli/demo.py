"""``clickport demo``: the demo site with 30 days of synthetic traffic up to now; prints a key.

The demo touches nothing it did not create. It writes only into its own site (``DEMO_DOMAIN``), and locally
its events are files of their own (``demo-*.parquet``, never compacted with others), so a second run replaces
exactly the demo's events: whatever anyone sent to the demo site stays. On a deployed stack it runs only when
asked (``--allow-aws``), fills a new demo site once and never deletes anything there.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime, timezone

from clickport.cli.output import CliError, emit
from clickport.demo import DEMO_ALLOW_HOSTS, DEMO_DOMAIN
from clickport.domain.keys import issue_key
from clickport.ports import Site
from clickport.runtime import Runtime


@dataclass(frozen=True)
class DemoRun:
    site: Site
    created: bool  # the demo site is new
    stored: int  # synthetic events written now
    replaced: int  # the demo's own files removed first (local only)


def seed_demo(runtime: Runtime, now: datetime | None = None) -> DemoRun:
    """Ensure the demo site and its goals, and (locally, or on AWS for a new site) 30 days of traffic up to now."""
    from clickport.demo import DEMO_GOALS, demo_lines
    from clickport.errors import Conflict
    from clickport.ingest.importer import import_events

    local = runtime.settings.backend == "local"
    site = runtime.config.get_site_by_domain(DEMO_DOMAIN)
    created = site is None
    if site is None:
        site = runtime.config.create_site(DEMO_DOMAIN)
        if local:  # the local demo page (/demo/) runs on the server's own host
            site = runtime.config.update_site(site.site_id, allow_hosts=list(DEMO_ALLOW_HOSTS))
    existing = {g.name for g in runtime.config.list_goals(site.site_id)}
    for goal in DEMO_GOALS:
        definition = {k: v for k, v in goal.items() if k not in ("type", "name")}
        if goal["name"] not in existing:
            try:
                runtime.config.create_goal(site.site_id, goal["name"], goal["type"], definition)
            except Conflict:
                pass
    if not local and not created:
        return DemoRun(site, created, 0, 0)  # NOTE: Firehose's files cannot be told apart: add nothing twice
    replaced = 0
    sink = runtime.sink
    if local:
        from clickport import layout
        from clickport.adapters.parquet_sink import ParquetEventSink, remove_event_files

        data_dir = runtime.data_dir
        replaced = remove_event_files(data_dir, layout.demo_files(data_dir, site.site_id))
        sink = ParquetEventSink(data_dir, file_prefix=layout.DEMO_PREFIX)
    lines = demo_lines(DEMO_DOMAIN, now or datetime.now(timezone.utc))
    summary = import_events(lines, site=site, sink=sink, config=runtime.config)
    return DemoRun(runtime.config.get_site(site.site_id) or site, created, summary.stored, replaced)


def refuse_on_aws(args: argparse.Namespace, on_aws: bool) -> None:
    if on_aws and not getattr(args, "allow_aws", False):
        raise CliError(f"demo would write 30 days of synthetic events (about 20,000) into the deployed stack, "
                       f"in a new site '{DEMO_DOMAIN}'; add --allow-aws to do that", status=2)


def run_demo(args: argparse.Namespace, runtime: Runtime) -> int:
    run = seed_demo(runtime)
    key, _ = issue_key(runtime.config, run.site.site_id, ["read", "tracker"])
    if runtime.settings.backend == "local" or run.created:
        summary = f"{run.stored} synthetic events over 30 days"
        if run.replaced:
            summary += " (replacing the demo's previous ones; other events of the site are kept)"
    else:
        summary = "it exists already, so nothing was written (on AWS the demo writes a new site once)"
    emit(bool(getattr(args, "json", False)),
         {"site_id": run.site.site_id, "domain": run.site.domain, "key": key, "events": run.stored},
         f"demo site {run.site.site_id} ({run.site.domain}): {summary}\nkey: {key}  (shown once)")
    return 0
