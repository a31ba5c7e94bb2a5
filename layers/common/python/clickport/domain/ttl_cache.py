"""A small thread-safe cache whose entries expire (keys and sites are cached briefly in each function)."""

from __future__ import annotations

import threading
import time
from typing import Callable, Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """``get(key, load)`` returns a value loaded at most ``ttl_seconds`` ago; misses (None) are cached too.

    ``generation`` (optional) is a cheap token of the source's state: when it changes, every entry is dropped,
    so a store that can tell it changed (the local SQLite stores) is seen at once, not after the TTL."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic, max_items: int = 10_000,
                 generation: Callable[[], Hashable] | None = None):
        self._ttl = ttl_seconds
        self._clock = clock
        self._max_items = max_items
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self._generation = generation
        self._seen: Hashable = None

    def get(self, key: K, load: Callable[[K], V]) -> V:
        now = self._clock()
        if self._generation is not None:
            current = self._generation()
            if current != self._seen:
                with self._lock:
                    self._entries.clear()
                    self._seen = current
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self._ttl:
                return hit[1]
        value = load(key)
        with self._lock:
            if len(self._entries) >= self._max_items:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
