"""``clickport import --site SITE FILE.ndjson``: prints a summary; exit 0 / 1 as spec §9 says."""

from __future__ import annotations

import argparse

from clickport.cli.output import CliError, emit
from clickport.errors import StoreUnavailable
from clickport.runtime import Runtime


def run_import(args: argparse.Namespace, runtime: Runtime) -> int:
    from clickport.ingest.importer import import_events

    site = runtime.config.get_site(args.site)
    if site is None:
        raise CliError(f"unknown site '{args.site}' (see 'clickport sites list')")
    try:
        with open(args.file, encoding="utf-8") as handle:
            summary = import_events(handle, site=site, sink=runtime.sink, config=runtime.config)
    except OSError as error:
        raise CliError(f"cannot read {args.file}: {error.strerror or error}") from None
    except StoreUnavailable as error:
        raise CliError(f"the event store failed: {error}") from None
    lines = [f"read {summary.read}, stored {summary.stored}, bots {summary.bots}, rejected {len(summary.rejected)}"]
    lines += [f"  line {r['line']}: {r['reason']}" for r in summary.rejected[:50]]
    if len(summary.rejected) > 50:
        lines.append(f"  … and {len(summary.rejected) - 50} more (use --json for all)")
    if runtime.settings.backend == "aws":
        lines.append("Sent through Firehose: queryable once it flushes (about a minute or more).")
    emit(bool(getattr(args, "json", False)), summary.as_json(), "\n".join(lines))
    return 1 if args.strict and summary.rejected else 0
