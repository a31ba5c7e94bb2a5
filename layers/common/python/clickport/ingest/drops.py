"""Counting dropped events by reason: EMF metrics on AWS, a small JSON file locally."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

DROP_REASONS = ("bot", "rate_limited", "hostname", "unknown_session")
METRICS_NAMESPACE = "Clickport"
_FILE = "drops.json"
# What the local server logs for each drop: the reason and what it means; never who sent the event.
DROP_EXPLANATIONS = {
    "bot": "the User-Agent is a known bot, crawler or automation tool",
    "rate_limited": "more than 60 events a minute for this site from one visitor address",
    "hostname": "the page's host is not the site's domain or on its allow-list, or no site has the script's "
                "data-domain (see 'clickport sites list' and docs/tracker.md)",
    "unknown_session": "an engagement update for a session the server does not know (idle for over 24 h, or "
                       "never started)",
}
logger = logging.getLogger("clickport.drops")
# The counters whose file writes wait for the end of the current batch (``counts_written_after``), else None.
_deferred: list["DropCounter"] | None = None


@contextmanager
def counts_written_after() -> Iterator[None]:
    """Drops counted inside are written to ``drops.json`` once, when the block ends, instead of once each: the
    local event worker wraps a batch in it, before any of the batch is answered. One thread at a time (a worker
    runs its invocations one after another)."""
    global _deferred
    _deferred = []
    try:
        yield
    finally:
        pending, _deferred = _deferred, None
        for counter in pending:
            counter.flush()


class DropCounter:
    """In-process counts, flushed to ``<data_dir>/drops.json`` (local) so ``clickport drops`` can show them;
    locally each drop is also logged with its reason."""

    def __init__(self, data_dir: Path | None = None, on_drop=None):
        self._data_dir = Path(data_dir) if data_dir else None
        self._on_drop = on_drop
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, reason: str) -> None:
        if self._on_drop is not None:
            self._on_drop(reason)
        if self._data_dir is not None:  # the local server: say so where the operator looks
            logger.warning("event dropped: %s: %s", reason, DROP_EXPLANATIONS.get(reason, "see 'clickport drops'"))
        with self._lock:
            self._counts[reason] += 1
            if self._data_dir is None:
                return
            if _deferred is None:
                self._flush_locked()
                return
        if self not in _deferred:
            _deferred.append(self)

    def flush(self) -> None:
        if self._data_dir is not None:
            with self._lock:
                if self._counts:
                    self._flush_locked()

    def _flush_locked(self) -> None:
        import fcntl

        self._data_dir.mkdir(parents=True, exist_ok=True)
        path = self._data_dir / _FILE
        with open(self._data_dir / ".drops.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            stored = read_drop_counts(self._data_dir)
            for reason, n in self._counts.items():
                stored[reason] = stored.get(reason, 0) + n
            self._counts.clear()
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(stored, sort_keys=True))
            os.replace(tmp, path)


def read_drop_counts(data_dir: Path) -> dict[str, int]:
    path = Path(data_dir) / _FILE
    counts = {reason: 0 for reason in DROP_REASONS}
    if path.exists():
        counts.update(json.loads(path.read_text() or "{}"))
    return counts


def emit_drop_metric(reason: str) -> None:
    """``EventsDropped{reason}`` as a CloudWatch embedded-metric-format line (Powertools)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name="EventsDropped", unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE) as metric:
        metric.add_dimension(name="reason", value=reason)
