"""The local server's dispatcher: under load a free event worker waits a moment for a larger batch; with every worker
free, nothing waits."""

from __future__ import annotations

import asyncio
import time

from clickport.local.workers import FunctionConfig, FunctionPool
from clickport.settings import Settings

GATHER = 0.05


def _pool(tmp_path, runs: list[tuple[float, int]]) -> tuple[FunctionPool, list[object]]:
    pool = FunctionPool("event", FunctionConfig(workers=2, timeout_seconds=5.0, batch=32, gather_seconds=GATHER),
                        Settings(data_dir=tmp_path))
    workers = [object(), object()]
    pool._all = set(workers)

    async def run(worker, events):
        runs.append((time.monotonic(), len(events)))
        await asyncio.sleep(0.01)
        return [{"statusCode": 200} for _ in events]

    pool._run = run
    return pool, workers


def test_with_every_worker_free_an_event_is_handed_over_at_once(tmp_path):
    runs: list[tuple[float, int]] = []

    async def main():
        pool, workers = _pool(tmp_path, runs)
        pool._idle = list(workers)
        started = time.monotonic()
        assert await pool.invoke({"n": 1}, 5.0) == {"statusCode": 200}
        return started

    started = asyncio.run(main())
    assert len(runs) == 1 and runs[0][1] == 1 and runs[0][0] - started < GATHER / 2


def test_under_load_a_free_worker_waits_for_a_quarter_batch_or_the_gather_time(tmp_path):
    runs: list[tuple[float, int]] = []

    async def main():
        pool, workers = _pool(tmp_path, runs)
        pool._idle = [workers[1]]  # the other one is busy
        started = time.monotonic()
        one = await pool.invoke({"n": 1}, 5.0)  # alone: handed over when the gather time is up
        waited = runs[-1][0] - started
        eight = await asyncio.gather(*(pool.invoke({"n": n}, 5.0) for n in range(8)))  # a quarter batch: at once
        return one, waited, eight

    one, waited, eight = asyncio.run(main())
    assert one == {"statusCode": 200} and waited >= GATHER * 0.9
    assert len(eight) == 8 and [size for _, size in runs] == [1, 8]
