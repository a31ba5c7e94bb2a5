"""The local server's dispatcher puts stats reads before a burst's events: while a query runs, the event pool hands
out no new batch, for a bounded time, and events keep at least half of the time under a stream of queries."""

from __future__ import annotations

import asyncio
import time

from clickport.local.workers import FunctionConfig, FunctionPool, ReadPriority
from clickport.settings import Settings

HOLD = 0.2


def _pool(function: str, config: FunctionConfig, priority: ReadPriority, tmp_path, log, seconds: float):
    """A pool with fake workers that log when they start and end (function, "start" | "end", monotonic time)."""
    pool = FunctionPool(function, config, Settings(data_dir=tmp_path), priority)
    workers = [object() for _ in range(config.workers)]
    pool._all, pool._idle = set(workers), list(workers)

    async def run(worker, batch):
        log.append((function, "start", time.monotonic()))
        await asyncio.sleep(seconds)
        log.append((function, "end", time.monotonic()))
        return [{"statusCode": 200} for _ in batch]

    pool._run = run
    return pool


def _pools(tmp_path, log: list[tuple[str, str, float]], query_seconds: float):
    """An event pool that yields to reads and a query pool."""
    priority = ReadPriority(hold_seconds=HOLD)
    events = _pool("event", FunctionConfig(workers=2, timeout_seconds=5.0, batch=32, yields_to_reads=True),
                   priority, tmp_path, log, 0.01)
    query = _pool("query", FunctionConfig(workers=1, timeout_seconds=5.0), priority, tmp_path, log, query_seconds)
    return events, query


async def _event_wait_beside_a_query(events: FunctionPool, query: FunctionPool, n: int = 1, meanwhile=None) -> float:
    """Ask a query, then (10 ms later, after ``meanwhile()``) an event; the seconds the event took, once both are
    answered."""
    asked = asyncio.ensure_future(query.invoke({"q": n}, 5.0))
    await asyncio.sleep(0.01)
    if meanwhile is not None:
        meanwhile()
    started = time.monotonic()
    await events.invoke({"n": n}, 5.0)
    took = time.monotonic() - started
    await asked
    return took


def _times(log, function, what):
    return [t for name, kind, t in log if name == function and kind == what]


def test_events_wait_while_a_query_runs_and_go_the_moment_it_is_answered(tmp_path):
    log: list[tuple[str, str, float]] = []

    async def main():
        events, query = _pools(tmp_path, log, query_seconds=0.08)
        asked = asyncio.ensure_future(query.invoke({"q": 1}, 5.0))
        await asyncio.sleep(0.01)
        answers = await asyncio.gather(*(events.invoke({"n": n}, 5.0) for n in range(5)))
        await asked
        return answers

    answers = asyncio.run(main())
    assert answers == [{"statusCode": 200}] * 5
    (query_end,) = _times(log, "query", "end")
    event_starts = _times(log, "event", "start")
    assert event_starts and min(event_starts) >= query_end  # none ran beside the query
    assert min(event_starts) - query_end < 0.05  # and they went at once when it was answered


def test_a_long_query_holds_events_for_the_hold_time_at_most(tmp_path):
    log: list[tuple[str, str, float]] = []

    async def main():
        return await _event_wait_beside_a_query(*_pools(tmp_path, log, query_seconds=1.0))

    waited = asyncio.run(main())
    (query_start,) = _times(log, "query", "start")
    (query_end,) = _times(log, "query", "end")
    (event_start,) = _times(log, "event", "start")
    assert query_start < event_start < query_end  # released while the query still ran
    assert HOLD * 0.8 <= event_start - query_start <= HOLD + 0.1 and waited < HOLD + 0.1


def test_after_a_hold_the_next_one_waits_as_long_as_it_lasted(tmp_path):
    """Under a stream of queries events still get at least half of the time: a query that comes right after a hold
    does not hold events again until as long as the last hold has passed."""
    log: list[tuple[str, str, float]] = []

    async def main():
        events, query = _pools(tmp_path, log, query_seconds=0.1)
        first = asyncio.ensure_future(query.invoke({"q": 1}, 5.0))
        await asyncio.sleep(0.01)
        held = asyncio.ensure_future(events.invoke({"n": 1}, 5.0))
        await first  # the hold ends here, after about 0.1 s
        await held
        return await _event_wait_beside_a_query(events, query, 2)  # at once: no new hold yet

    went = asyncio.run(main())
    query_starts, query_ends = _times(log, "query", "start"), _times(log, "query", "end")
    event_starts = _times(log, "event", "start")
    assert event_starts[0] >= query_ends[0]  # the first query held the first event
    assert query_starts[1] < event_starts[1] < query_ends[1] and went < 0.05  # the second did not


def test_a_pool_that_does_not_yield_ignores_reads(tmp_path):
    log: list[tuple[str, str, float]] = []

    async def main():
        priority = ReadPriority(hold_seconds=HOLD)
        realtime = _pool("realtime", FunctionConfig(workers=1, timeout_seconds=5.0), priority, tmp_path, log, 0.01)
        query = _pool("query", FunctionConfig(workers=1, timeout_seconds=5.0), priority, tmp_path, log, 0.3)
        def holding():
            assert priority.holding  # the query holds the pools that yield to reads

        took = await _event_wait_beside_a_query(realtime, query, meanwhile=holding)
        assert not priority.holding
        return took

    assert asyncio.run(main()) < 0.05
