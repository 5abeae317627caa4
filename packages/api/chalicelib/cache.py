"""A value read from the store and kept for a while (popular movies, the catalog, the
similarity index).

The first read waits for one load (concurrent callers share it). Once a value exists, no
request waits for a reload: a stale value is served while one background thread loads the
next one, so the cost of reading every rating never lands on a request, and a store that
fails during a reload leaves the last good value in place (tried again on the next request).
A lifetime of 0 means no caching: every read loads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Refreshing(Generic[T]):
    def __init__(self, name: str, load: Callable[[], T], ttl: float) -> None:
        self.name = name
        self.load = load
        self.ttl = ttl
        self._lock = threading.Lock()  # guards the fields below
        self._first = threading.Lock()  # one first load at a time
        self._entry: tuple[float, T] | None = None
        self._generation = 0  # bumped by invalidate: a reload started before it is dropped
        self._reloading = False

    def get(self) -> T:
        if self.ttl <= 0:
            return self.load()
        with self._lock:
            entry = self._entry
            if entry is not None:
                if time.monotonic() - entry[0] >= self.ttl and not self._reloading:
                    self._reloading = True
                    threading.Thread(
                        target=self._reload, args=(self._generation,), daemon=True,
                        name=f"reload-{self.name}",
                    ).start()  # fmt: skip
                return entry[1]
        with self._first:
            with self._lock:
                entry, generation = self._entry, self._generation
            if entry is not None:
                return entry[1]
            value = self.load()  # a store error reaches the caller: there is nothing to serve
            self._store(generation, value)
            return value

    def warm(self) -> None:
        """Start the first load in the background; a read meanwhile waits for it."""

        def first() -> None:
            try:
                self.get()
            except Exception as exc:  # the first read will try again and report it
                log.warning("loading %s ahead of the first request failed: %s", self.name, exc)

        threading.Thread(target=first, daemon=True, name=f"warm-{self.name}").start()

    def invalidate(self) -> None:
        """Forget the value: the next read loads a new one and waits for it."""
        with self._lock:
            self._entry = None
            self._generation += 1

    def _store(self, generation: int, value: T) -> None:
        with self._lock:
            if generation == self._generation:
                self._entry = (time.monotonic(), value)

    def _reload(self, generation: int) -> None:
        try:
            self._store(generation, self.load())
        except Exception as exc:  # the stale value stays; the next read tries again
            log.warning("reloading %s failed, serving the previous one: %s", self.name, exc)
        finally:
            with self._lock:
                self._reloading = False
