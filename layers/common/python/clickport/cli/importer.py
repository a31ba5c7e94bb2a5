"""``clickport import`` (NDJSON, or ``--format parquet``) and ``clickport export``: exit status and output as
spec §9 says (0 when every input was stored, rejected or counted as a bot; 1 on an I/O or store failure, and
with ``--strict`` when anything was rejected)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Iterable

from clickport.cli.output import CliError, emit
from clickport.errors import StoreUnavailable
from clickport.ingest.spill import RejectionLog
from clickport.runtime import Runtime

SHOWN_REJECTIONS = 50


def run_import(args: argparse.Namespace, runtime: Runtime) -> int:
    site = runtime.config.get_site(args.site)
    if site is None:
        raise CliError(f"unknown site '{args.site}' (see 'clickport sites list')")
    if args.format == "parquet":
        return _import_parquet(args, runtime, site)
    from clickport.ingest.importer import ImportFailed, import_events, ndjson_lines

    local = runtime.settings.backend == "local"
    if local:
        _return_freed_memory()
    try:
        handle = open(args.file, "rb")  # noqa: SIM115 (closed below; opening errors are the operator's)
    except OSError as error:
        raise CliError(f"cannot read {args.file}: {error.strerror or error}") from None
    with handle:
        try:
            summary = import_events(ndjson_lines(handle), site=site, sink=runtime.sink, config=runtime.config,
                                    strict=args.strict, dry_run=args.dry_run,
                                    spill_dir=runtime.data_dir if local else None)
        except ImportFailed as failure:
            raise CliError(str(failure)) from None
    head = {"read": summary.read, "stored": summary.stored, "bots": summary.bots}
    lines = [f"read {summary.read}, stored {summary.stored}, bots {summary.bots}, rejected {len(summary.rejected)}"]
    lines += _shown(summary.rejected, "line")
    if args.dry_run:
        lines.append("dry run: nothing stored")
    elif args.strict and summary.rejected:
        lines.append("strict: nothing stored because lines were rejected")
    elif not local:
        lines.append("Sent through Firehose: queryable once it flushes (about a minute or more).")
    _print(args, head, summary.rejected, "\n".join(lines))
    return 1 if args.strict and summary.rejected else 0


def _import_parquet(args: argparse.Namespace, runtime: Runtime, site) -> int:  # noqa: ANN001
    from clickport.ingest.parquet_import import BulkImportError, import_parquet, parquet_files

    try:
        summary = import_parquet(parquet_files(args.file), site=site, write_table=runtime.sink.write_table,
                                 config=runtime.config, strict=args.strict, dry_run=args.dry_run,
                                 spill_dir=runtime.data_dir)
    except BulkImportError as error:
        raise CliError(str(error)) from None
    except StoreUnavailable as error:
        raise CliError(f"the event store failed: {error}") from None
    except OSError as error:
        raise CliError(f"I/O error: {error.strerror or error}") from None
    lines = [f"read {summary.read}, stored {summary.stored}, rejected {len(summary.rejected)}"]
    lines += _shown(summary.rejected, "row")
    if args.dry_run:
        lines.append("dry run: nothing stored")
    elif args.strict and summary.rejected:
        lines.append("strict: nothing stored because rows were rejected")
    _print(args, {"read": summary.read, "stored": summary.stored}, summary.rejected, "\n".join(lines))
    return 1 if args.strict and summary.rejected else 0


def _return_freed_memory() -> None:
    """NOTE: Arrow's default allocator (mimalloc) keeps the pages of freed row groups; over a long import
    that is ~20 MB of RSS. The system allocator gives them back. Process-wide; this process only imports."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def run_export(args: argparse.Namespace, runtime: Runtime) -> int:
    from clickport.adapters.parquet_export import ExportError, export_site

    if runtime.config.get_site(args.site) is None:
        raise CliError(f"unknown site '{args.site}' (see 'clickport sites list')")
    if args.start and args.end and args.start > args.end:
        raise CliError("--from must not be after --to", status=2)
    try:
        summary = export_site(runtime.data_dir, args.site, args.out, start=args.start, end=args.end)
    except ExportError as error:
        raise CliError(str(error)) from None
    except OSError as error:
        raise CliError(f"cannot write {args.out}: {error.strerror or error}") from None
    emit(bool(getattr(args, "json", False)), {"site_id": args.site, "rows": summary.rows, "files": summary.files},
         f"exported {summary.rows} events of {args.site} to {args.out} ({len(summary.files)} files)")
    return 0


def iso_date(text: str) -> date:
    """argparse type for --from / --to."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _shown(rejected: RejectionLog, key: str) -> list[str]:
    shown = []
    for number, reason in rejected.entries():
        if len(shown) == SHOWN_REJECTIONS:
            shown.append(f"  … and {len(rejected) - SHOWN_REJECTIONS} more (use --json for all)")
            break
        shown.append(f"  {key} {number}: {reason}")
    return shown


def _print(args: argparse.Namespace, head: dict, rejected: RejectionLog, text: str) -> None:
    """The summary; with --json one object whose ``rejected`` list is streamed (it may be long)."""
    if not getattr(args, "json", False):
        emit(False, None, text)
        return
    out = sys.stdout
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "rejected": [')
    _write_joined(out, (json.dumps(entry, ensure_ascii=False) for entry in rejected))
    out.write("]}\n")
    out.flush()


def _write_joined(out, items: Iterable[str]) -> None:  # noqa: ANN001
    for index, item in enumerate(items):
        out.write(", " + item if index else item)
