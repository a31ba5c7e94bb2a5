"""The CLI's commands: each reads its arguments, calls one domain or store operation and prints."""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timezone

from clickport.cli.output import CliError, emit, table
from clickport.domain.goals import build_goal_definition, check_goal_name
from clickport.domain.keys import issue_key
from clickport.errors import Conflict
from clickport.ports import ApiKeyRecord, Goal, Site
from clickport.runtime import Runtime
from clickport.settings import Settings


def _json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def runtime_for(args: argparse.Namespace) -> Runtime:
    settings = Settings.from_env()
    if args.aws or settings.backend == "aws":
        from clickport.cli.aws import settings_from_stack

        settings = settings_from_stack(args.stack or os.environ.get("CLICKPORT_STACK", "Clickport"), settings)
    return Runtime(settings)


def _site(runtime: Runtime, site_id: str) -> Site:
    site = runtime.config.get_site(site_id)
    if site is None:
        raise CliError(f"unknown site '{site_id}' (see 'clickport sites list')")
    return site


def site_json(site: Site) -> dict:
    return {
        "site_id": site.site_id,
        "domain": site.domain,
        "allow_hosts": list(site.allow_hosts),
        "created_at": site.created_at.isoformat(),
    }


def key_json(record: ApiKeyRecord) -> dict:
    return {
        "prefix": record.prefix,
        "site_id": record.site_id,
        "permissions": sorted(record.permissions),
        "created_at": record.created_at.isoformat(),
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
    }


def goal_json(goal: Goal) -> dict:
    return {"id": goal.id, "name": goal.name, "type": goal.type, "definition": goal.definition}


def sites_create(args: argparse.Namespace) -> int:
    from clickport.ingest.urls import normalize_domain

    domain = normalize_domain(args.domain)
    if not domain or "." not in domain and domain != "localhost" or " " in domain:
        raise CliError(f"'{args.domain}' is not a domain (example: example.com)")
    runtime = runtime_for(args)
    try:
        site = runtime.config.create_site(domain)
    except Conflict:
        raise CliError(f"the domain '{domain}' already belongs to a site") from None
    emit(_json(args), {"site_id": site.site_id}, site.site_id)
    return 0


def sites_update(args: argparse.Namespace) -> int:
    """Add (``--allow-host``), remove (``--remove-allow-host``) or clear (``--clear-allow-hosts``) the hostnames
    ``/api/track`` accepts. With no list the site's domain and its subdomains are accepted; a list replaces that
    rule (spec §8), so the first pattern added brings ``*<domain>`` along: the site's own pages keep counting
    until that pattern is removed too."""
    added = _host_patterns(args.allow_host or [])
    removed = _host_patterns(args.remove_allow_host or [])
    if not (added or removed or args.clear_allow_hosts):
        raise CliError("nothing to update: give --allow-host PATTERN, --remove-allow-host PATTERN or "
                       "--clear-allow-hosts")
    runtime = runtime_for(args)
    site = _site(runtime, args.site)
    hosts = [] if args.clear_allow_hosts else list(site.allow_hosts)
    if added and not hosts:
        hosts.append(f"*{site.domain}")
    unknown = [pattern for pattern in removed if pattern not in hosts]
    if unknown:
        raise CliError(f"'{unknown[0]}' is not in the allow-list of {site.site_id} "
                       f"({', '.join(hosts) or 'empty'})")
    hosts = [host for host in hosts if host not in removed]
    hosts += [pattern for pattern in dict.fromkeys(added) if pattern not in hosts]
    site = runtime.config.update_site(args.site, allow_hosts=hosts)
    emit(_json(args), site_json(site), f"{site.site_id} {site.domain} allow-hosts: {_host_rule(site)}")
    return 0


def _host_patterns(patterns: list[str]) -> list[str]:
    cleaned = [p.strip().lower() for p in patterns]
    for pattern in cleaned:
        bare = pattern[1:] if pattern.startswith("*") else pattern
        if not bare or "*" in bare or "/" in bare or " " in bare:
            raise CliError(f"'{pattern}' is not a host pattern (example.com or *example.com)")
    return cleaned


def _host_rule(site: Site) -> str:
    return ", ".join(site.allow_hosts) or f"(none: {site.domain} and its subdomains)"


def sites_list(args: argparse.Namespace) -> int:
    sites = runtime_for(args).config.list_sites()
    rows = [[s.site_id, s.domain, ", ".join(s.allow_hosts), s.created_at.strftime("%Y-%m-%d")] for s in sites]
    emit(_json(args), [site_json(s) for s in sites], table(rows, ["SITE", "DOMAIN", "ALLOW-HOSTS", "CREATED"]))
    return 0


def keys_create(args: argparse.Namespace) -> int:
    permissions = [p for p, wanted in (("read", args.read), ("tracker", args.tracker)) if wanted]
    runtime = runtime_for(args)
    _site(runtime, args.site)
    key, record = issue_key(runtime.config, args.site, permissions)
    data = {"key": key, **key_json(record)}
    emit(_json(args), data, f"{key}\n(shown once; permissions: {', '.join(sorted(record.permissions))})")
    return 0


def keys_list(args: argparse.Namespace) -> int:
    runtime = runtime_for(args)
    _site(runtime, args.site)
    records = sorted(runtime.config.list_keys(args.site), key=lambda r: r.created_at)
    rows = [[r.prefix + "…", ",".join(sorted(r.permissions)), r.created_at.strftime("%Y-%m-%d %H:%M"),
             "revoked" if r.revoked_at else "active"] for r in records]
    emit(_json(args), [key_json(r) for r in records], table(rows, ["PREFIX", "PERMISSIONS", "CREATED", "STATE"]))
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    prefix = args.prefix.rstrip("…").strip()
    if not prefix.startswith("ck_"):
        raise CliError("give the key's display prefix, as 'clickport keys list' shows it (ck_…)")
    runtime = runtime_for(args)
    matches = [r for r in runtime.config.list_keys() if r.prefix.startswith(prefix)]
    active = [r for r in matches if r.revoked_at is None] or matches
    if not active:
        raise CliError(f"no key starts with '{prefix}'")
    if len(active) > 1:
        listed = ", ".join(f"{r.prefix} (site {r.site_id})" for r in active)
        raise CliError(f"'{prefix}' is ambiguous; it matches: {listed}")
    record = active[0]
    runtime.config.revoke_key(record.key_hash, datetime.now(timezone.utc))
    emit(_json(args), {"revoked": record.prefix, "site_id": record.site_id},
         f"revoked {record.prefix}… (stops working within a minute)")
    return 0


def goals_create(args: argparse.Namespace) -> int:
    try:
        definition, default_name = build_goal_definition(
            args.type, path=args.path, event=args.event, prop=args.prop, url=args.url, domain=args.domain,
            text=args.text, form_id=args.form_id, form_name=args.form_name,
        )
        name = check_goal_name(args.name if args.name is not None else default_name)
    except ValueError as error:
        raise CliError(str(error)) from None
    runtime = runtime_for(args)
    _site(runtime, args.site)
    try:
        goal = runtime.config.create_goal(args.site, name, args.type, definition)
    except Conflict:
        raise CliError(f"the site already has a goal named '{name}'") from None
    emit(_json(args), {"id": goal.id, "name": goal.name, "type": goal.type}, f"{goal.id} {goal.name}")
    return 0


def goals_list(args: argparse.Namespace) -> int:
    runtime = runtime_for(args)
    _site(runtime, args.site)
    goals = runtime.config.list_goals(args.site)
    rows = [[str(g.id), g.name, g.type, ", ".join(f"{k}={v}" for k, v in g.definition.items())] for g in goals]
    emit(_json(args), [goal_json(g) for g in goals], table(rows, ["ID", "NAME", "TYPE", "MATCHES"]))
    return 0


def goals_delete(args: argparse.Namespace) -> int:
    runtime = runtime_for(args)
    _site(runtime, args.site)
    if not runtime.config.delete_goal(args.site, args.goal_id):
        raise CliError(f"site {args.site} has no goal {args.goal_id}")
    emit(_json(args), {"deleted": args.goal_id}, f"deleted goal {args.goal_id}")
    return 0


def _local_only(args: argparse.Namespace, what: str) -> None:
    if args.aws or Settings.from_env().backend == "aws":
        raise CliError(f"{what} is not supported with --aws yet: it works on the local data directory", status=2)


def import_events(args: argparse.Namespace) -> int:
    from clickport.cli.importer import run_import

    if args.format == "parquet":
        _local_only(args, "import --format parquet")
    return run_import(args, runtime_for(args))


def export_events(args: argparse.Namespace) -> int:
    from clickport.cli.importer import run_export

    _local_only(args, "export")
    return run_export(args, runtime_for(args))


def demo(args: argparse.Namespace) -> int:
    from clickport.cli.demo import refuse_on_aws, run_demo

    refuse_on_aws(args, args.aws or Settings.from_env().backend == "aws")
    return run_demo(args, runtime_for(args))


def drops(args: argparse.Namespace) -> int:
    from clickport.ingest.drops import read_drop_counts

    runtime = runtime_for(args)
    counts = read_drop_counts(runtime.settings.data_dir)
    emit(_json(args), counts, table([[k, str(v)] for k, v in sorted(counts.items())], ["REASON", "DROPPED"]))
    return 0


def serve(args: argparse.Namespace) -> int:
    from clickport.cli.serve import run_server

    return run_server(args)
