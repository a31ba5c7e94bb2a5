"""Historical import (spec §9): same validation, bot filter and enrichment as live events; no rate limit,
no live store; per-day salts only in memory; a session's first line fixes its attributes."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, Iterable

from pydantic import ValidationError

from clickport.http.envelope import describe_validation_errors
from clickport.ingest.identity import MemorySalts, utc_day, visitor_id
from clickport.ingest.models import ImportLine
from clickport.ingest.pipeline import SESSION_IDLE_MS, new_page_visit_id, new_session_id
from clickport.ingest.rows import event_row, session_attributes
from clickport.ports import ConfigStore, EventSink, Site
from clickport.schema import SESSION_ATTRIBUTES

BATCH_ROWS = 5000


@dataclass
class ImportSummary:
    read: int = 0
    stored: int = 0
    bots: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    days: set = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {"read": self.read, "stored": self.stored, "bots": self.bots, "rejected": self.rejected}


@dataclass
class _Session:
    session_id: int
    visitor_id: int
    attributes: dict[str, str | None]
    last_ms: int
    page_visit_id: str


def parse_lines(lines: Iterable[str], summary: ImportSummary) -> list[tuple[int, ImportLine]]:
    parsed: list[tuple[int, ImportLine]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        summary.read += 1
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("the line is not a JSON object")
            parsed.append((number, ImportLine.model_validate(data)))
        except ValidationError as error:
            summary.rejected.append({"line": number, "reason": describe_validation_errors(error.errors())})
        except ValueError as error:
            summary.rejected.append({"line": number, "reason": f"not valid JSON: {error}"})
    return parsed


def import_events(lines: Iterable[str], *, site: Site, sink: EventSink, config: ConfigStore,
                  salts: MemorySalts | None = None) -> ImportSummary:
    from clickport.ingest.bots import is_bot
    from clickport.ingest.places import country_for_ip

    summary = ImportSummary()
    salts = salts or MemorySalts()
    parsed = parse_lines(lines, summary)
    parsed.sort(key=lambda item: item[1].timestamp.astimezone(timezone.utc))  # stable
    sessions: dict[int, _Session] = {}
    latest_by_visitor: dict[int, int] = {}
    batch: list[dict[str, Any]] = []

    for seq, (_, line) in enumerate(parsed, start=1):
        if is_bot(line.user_agent):
            summary.bots += 1
            continue
        ts = line.timestamp.astimezone(timezone.utc)
        ts = ts.replace(microsecond=ts.microsecond // 1000 * 1000)
        ts_ms = int(ts.timestamp() * 1000)
        places = {"country": line.country, "region": line.region, "city": line.city}
        if places["country"] is None and line.ip:
            places["country"] = country_for_ip(line.ip)
        hostname, path, attributes = session_attributes(line, site_domain=site.domain, user_agent=line.user_agent,
                                                        places=places)
        visitor = line.visitor_id
        if visitor is None and line.ip:
            visitor = visitor_id(salts.salt_for(utc_day(ts)), site.site_id, line.ip, line.user_agent)
        session = sessions.get(line.session_id) if line.session_id is not None else None
        if session is None and line.session_id is None and visitor is not None:
            latest = sessions.get(latest_by_visitor.get(visitor, 0))
            if latest is not None and ts_ms - latest.last_ms <= SESSION_IDLE_MS:
                session = latest
        if session is None:
            session_id = line.session_id or new_session_id()
            session = _Session(session_id, visitor or session_id, attributes, ts_ms, "")
            sessions[session_id] = session
        if visitor is not None and line.session_id is None:
            latest_by_visitor[visitor] = session.session_id
        if line.page_visit_id:
            page_visit = line.page_visit_id
        elif line.type == "pageview" or not session.page_visit_id:
            page_visit = new_page_visit_id()
        else:
            page_visit = session.page_visit_id
        if line.type == "pageview" or not session.page_visit_id:
            session.page_visit_id = page_visit
        session.last_ms = max(session.last_ms, ts_ms)
        batch.append(event_row(
            line, ts=ts, seq=seq, hostname=hostname, path=path, session_id=session.session_id,
            visitor_id=session.visitor_id, page_visit_id=page_visit,
            attributes={k: session.attributes.get(k) for k in SESSION_ATTRIBUTES},
        ))
        summary.days.add(ts.date())
        if len(batch) >= BATCH_ROWS:
            _flush(sink, site, batch, summary)
    _flush(sink, site, batch, summary)
    if summary.days:
        config.note_event_date(site.site_id, min(summary.days))
    return summary


def _flush(sink: EventSink, site: Site, batch: list[dict[str, Any]], summary: ImportSummary) -> None:
    if not batch:
        return
    by_day: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in batch:
        by_day[row["ts"].date()].append(row)
    for rows in by_day.values():
        sink.write(site.site_id, rows)
        summary.stored += len(rows)
    batch.clear()
