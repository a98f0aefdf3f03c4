"""Answers of read use cases kept while the data and the clock say they are still exact.

An entry is valid for one data version (:class:`dynbooks.store.data_version.DataVersion`: equal versions,
equal committed data) and for an interval of "now": from the instant it was computed for up to the
``valid_until`` its computation gave (the next instant at which the clock alone would change the answer:
midnight, when day counts move; a signal starting or expiring). A hit is therefore the answer a fresh read
would give now; anything else recomputes.

Why a cache at all: a rep's book page costs tens of milliseconds of Python (two queries, the priority
formula, 500 rows rendered) and is read far more often than it changes; the version check is one
``PRAGMA`` or one query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from dynbooks.domain.clock import Now
from dynbooks.store.data_version import DataVersion

__all__ = ["Timed", "VersionedCache"]

T = TypeVar("T")


@dataclass(frozen=True)
class Timed(Generic[T]):
    """A computed answer and the instant (UTC, exclusive) until which time alone leaves it unchanged."""

    value: T
    valid_until: datetime

    @classmethod
    def always(cls, value: T) -> Timed[T]:
        """An answer the clock never changes (only a commit does)."""
        return cls(value, datetime.max.replace(tzinfo=UTC))


@dataclass(frozen=True)
class _Entry(Generic[T]):
    version: str
    computed_for: datetime
    answer: Timed[T]


class VersionedCache(Generic[T]):
    """At most ``size`` answers, least recently used dropped first (thread-safe)."""

    def __init__(self, versions: DataVersion, size: int = 256) -> None:
        self.versions = versions
        self.size = size
        self._entries: OrderedDict[Hashable, _Entry[T]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, now: Now, compute: Callable[[], Timed[T]]) -> T:
        version = self.versions.current()  # before the data is read: see store/data_version.py
        hit = self._hit(key, version, now)
        if hit is not None:
            return hit.answer.value
        # One computation per key at a time: readers that miss together wait for the first one's answer
        # instead of each computing it (after a change, every open book page would otherwise recompute).
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            hit = self._hit(key, version, now)
            if hit is not None:
                return hit.answer.value
            answer = compute()
            with self._lock:
                self.misses += 1
                self._entries[key] = _Entry(version, now.horizon, answer)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return answer.value

    def _hit(self, key: Hashable, version: str, now: Now) -> _Entry[T] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version == version \
                    and entry.computed_for <= now.horizon < entry.answer.valid_until:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry
        return None
