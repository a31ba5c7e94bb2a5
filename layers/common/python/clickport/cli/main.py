"""``clickport``: sites, keys, goals, import and the local server (spec §9)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from clickport.cli.output import CliError, fail

JSON_HELP = "print machine-readable JSON"


class OneLineParser(argparse.ArgumentParser):
    """Wrong arguments: one line on stderr and exit status 2, never a usage dump or a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        fail(f"{message} (see '{self.prog} --help')", status=2)


def _leaf(subparsers, name: str, help_text: str, handler: Callable) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=JSON_HELP)
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> OneLineParser:
    from clickport.cli import commands
    from clickport.cli.datadir import help_epilog
    from clickport.cli.importer import iso_date
    from clickport.demo import DEMO_DOMAIN

    parser = OneLineParser(prog="clickport", description="Operate a Clickport-compatible analytics service.",
                           epilog=help_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aws", action="store_true", help="operate the deployed stack (env CLICKPORT_BACKEND=aws)")
    parser.add_argument("--stack", default=None, help="CloudFormation stack name (default: Clickport)")
    parser.add_argument("--json", action="store_true", default=False, help=JSON_HELP)
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", parser_class=OneLineParser)
    groups.required = True

    sites = groups.add_parser("sites", help="manage sites").add_subparsers(dest="action", metavar="ACTION")
    sites.required = True
    p = _leaf(sites, "create", "create a site", commands.sites_create)
    p.add_argument("--domain", required=True, help="the site's domain, e.g. example.com")
    p = _leaf(sites, "update", "change a site's settings", commands.sites_update)
    p.add_argument("site", metavar="SITE")
    p.add_argument("--allow-host", action="append", default=None, metavar="PATTERN",
                   help="add a hostname /api/track accepts: example.com (exact) or *example.com (apex and "
                        "subdomains); repeat for several. Without a list the site's domain and its subdomains "
                        "are accepted; the first pattern added also adds *DOMAIN, so they still are")
    p.add_argument("--remove-allow-host", action="append", default=None, metavar="PATTERN",
                   help="remove a pattern from the list (repeat for several)")
    p.add_argument("--clear-allow-hosts", action="store_true",
                   help="remove the whole list (back to the domain and its subdomains)")
    _leaf(sites, "list", "list sites", commands.sites_list)

    keys = groups.add_parser("keys", help="manage API keys").add_subparsers(dest="action", metavar="ACTION")
    keys.required = True
    p = _leaf(keys, "create", "create an API key (shown once)", commands.keys_create)
    p.add_argument("--site", required=True)
    p.add_argument("--read", action="store_true", help="grant the read permission (query endpoints)")
    p.add_argument("--tracker", action="store_true", help="grant the tracker permission (event endpoint)")
    p = _leaf(keys, "list", "list a site's keys (display prefixes only)", commands.keys_list)
    p.add_argument("--site", required=True)
    p = _leaf(keys, "revoke", "revoke a key by its display prefix", commands.keys_revoke)
    p.add_argument("prefix", metavar="KEY_PREFIX")

    goals = groups.add_parser("goals", help="manage goals").add_subparsers(dest="action", metavar="ACTION")
    goals.required = True
    p = _leaf(goals, "create", "create a goal", commands.goals_create)
    p.add_argument("--site", required=True)
    p.add_argument("--type", required=True, choices=["pageview", "custom", "click", "form"])
    p.add_argument("--name", help="defaults to the path, event name, domain or form id")
    p.add_argument("--path", help="pageview: path pattern, * matches anything")
    p.add_argument("--event", help="custom: event name")
    p.add_argument("--prop", help="custom: narrow to one property, key=value")
    p.add_argument("--url", help="click: the whole clicked URL")
    p.add_argument("--domain", help="click: the clicked URL's host (without www.)")
    p.add_argument("--text", help="click: the clicked link's text")
    p.add_argument("--form-id", help="form: the form's id")
    p.add_argument("--form-name", help="form: the form's name")
    p = _leaf(goals, "list", "list a site's goals", commands.goals_list)
    p.add_argument("--site", required=True)
    p = _leaf(goals, "delete", "delete a goal", commands.goals_delete)
    p.add_argument("--site", required=True)
    p.add_argument("goal_id", metavar="GOAL_ID", type=int)

    p = _leaf(groups, "import", "import historical events (NDJSON) or stored events (Parquet)",
              commands.import_events)
    p.add_argument("--site", required=True)
    p.add_argument("file", metavar="PATH", help="an NDJSON file; with --format parquet a file or a folder")
    p.add_argument("--format", choices=["ndjson", "parquet"], default="ndjson",
                   help="ndjson: historical events, one per line (default); parquet: rows in the event schema, "
                        "as 'clickport export' writes them (local only)")
    p.add_argument("--strict", action="store_true",
                   help="store nothing and exit 1 when any line or row was rejected")
    p.add_argument("--dry-run", action="store_true", help="validate only; store nothing")

    p = _leaf(groups, "export", "write a site's stored events as Parquet (event schema; local only)",
              commands.export_events)
    p.add_argument("--site", required=True)
    p.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    p.add_argument("--from", dest="start", type=iso_date, metavar="DATE", help="first UTC date, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=iso_date, metavar="DATE", help="last UTC date, YYYY-MM-DD")

    p = _leaf(groups, "demo", f"create or refresh the demo site ({DEMO_DOMAIN}) with 30 days of synthetic "
              "traffic; replaces only the demo's own events", commands.demo)
    p.add_argument("--allow-aws", action="store_true",
                   help="with --aws: do write the synthetic events into the deployed stack (a new demo site, "
                        "filled once; nothing is ever deleted there)")

    p = _leaf(groups, "drops", "show dropped events by reason (local)", commands.drops)

    p = _leaf(groups, "serve", "run the local server", commands.serve)
    p.epilog, p.formatter_class = help_epilog(), argparse.RawDescriptionHelpFormatter
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--demo", action="store_true",
                   help=f"create the demo site ({DEMO_DOMAIN}, 30 days of synthetic traffic) and a key when it "
                        "does not exist yet; print curl lines to paste and the demo page's address")
    return parser


SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what a Unix tool killed by a closed pipe exits with


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (``clickport … | head``): stop quietly, as Unix tools do. Output still
        # buffered goes nowhere, so the interpreter's last flush cannot fail again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_STATUS


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.handler(args)
    except BrokenPipeError:
        raise
    except CliError as error:
        fail(str(error), error.status)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - one line for the operator, not a traceback
        if os.environ.get("CLICKPORT_DEBUG"):
            raise
        fail(f"{error.__class__.__name__}: {error}")
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
