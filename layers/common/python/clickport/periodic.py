"""One periodic task in a daemon thread: the local server's background compaction and live-store checkpoints."""

from __future__ import annotations

import threading
from typing import Callable


def every(interval_s: float, step: Callable[[], None], *, name: str, failed: Callable[[], None],
          join_timeout_s: float | None = None) -> Callable[[], None]:
    """Run ``step`` every ``interval_s`` seconds in a daemon thread named ``name``; a step that raises is
    reported by calling ``failed`` (inside the ``except``: it may log the exception) and the next turn
    tries again. Returns the stop function: no new step starts after it, and it waits for a running one
    (at most ``join_timeout_s`` seconds, when given)."""
    stopped = threading.Event()

    def loop() -> None:
        while not stopped.wait(interval_s):
            try:
                step()
            except Exception:  # noqa: BLE001 - reported; the next turn tries again
                failed()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()

    def stop() -> None:
        stopped.set()
        thread.join(join_timeout_s)

    return stop
