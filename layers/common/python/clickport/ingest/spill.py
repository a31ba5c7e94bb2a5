"""Bounded memory for bulk work: an external sort (sorted runs in anonymous temporary files, merged k ways)
and a list of rejections that moves to disk past a few thousand entries.

The temporary files are ``tempfile.TemporaryFile``: on Linux they never have a name (``O_TMPFILE``), so a
crash leaves nothing behind and no other process can open them. They hold only what the caller adds.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

RUN_BYTES = 4 << 20  # records per sorted run, by the caller's size estimate
CHUNK_RECORDS = 64  # records per pickled chunk: what one run reader holds during the merge
MAX_FAN_IN = 128  # runs merged at once; more runs are merged in rounds first
MEMORY_REJECTIONS = 10_000  # rejections kept in memory; later ones go to a temporary file


def _temporary(directory: Path | None) -> IO[bytes]:
    return tempfile.TemporaryFile(dir=directory)


def _write_chunks(handle: IO[bytes], records: Any) -> None:
    chunk: list = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= CHUNK_RECORDS:
            pickle.dump(chunk, handle, protocol=pickle.HIGHEST_PROTOCOL)
            chunk = []
    if chunk:
        pickle.dump(chunk, handle, protocol=pickle.HIGHEST_PROTOCOL)
    handle.flush()


def _read_chunks(handle: IO[bytes]) -> Iterator[Any]:
    handle.seek(0)
    while True:
        try:
            chunk = pickle.load(handle)
        except EOFError:
            return
        yield from chunk


class ExternalSort:
    """Collects tuples and gives them back in ascending order, holding at most one run in memory.

    Records must compare as tuples and never be equal (e.g. they start with a unique sequence number or
    end their key with one), so the order is total and the merge stable.
    """

    def __init__(self, directory: Path | None = None, *, run_bytes: int | None = None) -> None:
        self._directory = directory
        self._run_bytes = run_bytes or RUN_BYTES
        self._buffer: list[tuple] = []
        self._buffered_bytes = 0
        self._runs: list[IO[bytes]] = []
        self.count = 0

    def add(self, record: tuple, size: int) -> None:
        """Add a record; ``size`` is an estimate of its bytes (e.g. its source line's length)."""
        self._buffer.append(record)
        self.count += 1
        self._buffered_bytes += size
        if self._buffered_bytes >= self._run_bytes:
            self._spill()

    @property
    def runs(self) -> int:
        return len(self._runs)

    def _spill(self) -> None:
        self._buffer.sort()
        run = _temporary(self._directory)
        try:
            _write_chunks(run, self._buffer)
        except BaseException:
            run.close()
            raise
        self._runs.append(run)
        self._buffer = []
        self._buffered_bytes = 0

    def sorted(self) -> Iterator[tuple]:
        """Every record added, in order (consumes the sort)."""
        if not self._runs:
            self._buffer.sort()
            records, self._buffer = self._buffer, []
            yield from records
            return
        if self._buffer:
            self._spill()
        while len(self._runs) > MAX_FAN_IN:
            group, self._runs = self._runs[:MAX_FAN_IN], self._runs[MAX_FAN_IN:]
            merged = _temporary(self._directory)
            _write_chunks(merged, heapq.merge(*(_read_chunks(run) for run in group)))
            for run in group:
                run.close()
            self._runs.append(merged)
        yield from heapq.merge(*(_read_chunks(run) for run in self._runs))
        self.close()

    def discard(self) -> None:
        """Drop everything added so far (and stop holding memory or files for it)."""
        self._buffer = []
        self._buffered_bytes = 0
        self.close()

    def close(self) -> None:
        for run in self._runs:
            run.close()
        self._runs = []

    def __enter__(self) -> ExternalSort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


class RejectionLog:
    """Rejected inputs in the order they were added: ``{key: n, "reason": "…"}`` each; spills to disk."""

    def __init__(self, key: str = "line", directory: Path | None = None, *,
                 memory_limit: int | None = None) -> None:
        self.key = key
        self._directory = directory
        self._memory_limit = MEMORY_REJECTIONS if memory_limit is None else memory_limit
        self._memory: list[tuple[int, str]] = []
        self._pending: list[tuple[int, str]] = []
        self._file: IO[bytes] | None = None
        self._count = 0

    def add(self, number: int, reason: str) -> None:
        # NOTE: a reason may quote input (a field name); a lone surrogate there could not be printed as UTF-8.
        reason = reason.encode("utf-8", "backslashreplace").decode("utf-8")
        self._count += 1
        if len(self._memory) < self._memory_limit:
            self._memory.append((number, reason))
            return
        self._pending.append((number, reason))
        if len(self._pending) >= CHUNK_RECORDS:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._file is None:
            self._file = _temporary(self._directory)
        self._file.seek(0, 2)
        pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._pending = []

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for number, reason in self.entries():
            yield {self.key: number, "reason": reason}

    def entries(self) -> Iterator[tuple[int, str]]:
        yield from self._memory
        if self._file is not None:
            self._flush()
            self._file.flush()
            yield from _read_chunks(self._file)
        else:
            yield from self._pending

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
