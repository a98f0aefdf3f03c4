"""services/cache.py: an answer is reused only for its data version and clock interval, and readers that
miss together compute it once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dynbooks.domain.clock import Now
from dynbooks.services.cache import Timed, VersionedCache

DAY = date(2026, 3, 2)


class Versions:
    local = True

    def __init__(self) -> None:
        self.version = "v1"

    def current(self) -> str:
        return self.version


def cache() -> tuple[VersionedCache[Any], Versions]:
    versions = Versions()
    return VersionedCache(versions, size=2), versions  # type: ignore[arg-type]


def at(hour: int) -> Now:
    return Now.of_datetime(datetime(2026, 3, 2, hour, tzinfo=UTC))


def test_an_answer_is_reused_until_the_version_changes() -> None:
    c, versions = cache()
    calls: list[int] = []

    def compute() -> Timed[int]:
        calls.append(1)
        return Timed.always(len(calls))

    assert c.get("k", at(9), compute) == 1
    assert c.get("k", at(9), compute) == 1
    versions.version = "v2"
    assert c.get("k", at(9), compute) == 2
    assert len(calls) == 2


def test_an_answer_is_reused_only_inside_its_clock_interval() -> None:
    c, _ = cache()
    calls: list[int] = []

    def compute() -> Timed[int]:
        calls.append(1)
        return Timed(len(calls), datetime(2026, 3, 2, 12, tzinfo=UTC))

    assert c.get("k", at(9), compute) == 1
    assert c.get("k", at(11), compute) == 1  # later, still before valid_until
    assert c.get("k", at(12), compute) == 2  # valid_until is exclusive
    assert c.get("k", at(10), compute) == 3  # before the instant it was computed for: not known to hold
    assert c.get("k", Now.of_date(DAY + timedelta(days=1)), compute) == 4


def test_the_least_recently_used_answer_is_dropped_first() -> None:
    c, _ = cache()
    for key in ("a", "b", "a", "c"):  # size 2: "b" is the least recently used when "c" comes
        c.get(key, at(9), lambda key=key: Timed.always(key))
    computed: list[str] = []
    for key in ("a", "b"):
        c.get(key, at(9), lambda key=key: (computed.append(key), Timed.always(key))[1])
    assert computed == ["b"]


def test_readers_that_miss_together_compute_once() -> None:
    c, _ = cache()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> Timed[str]:
        calls.append(1)
        started.set()
        release.wait(5)
        return Timed.always("page")

    answers: list[str] = []
    readers = [threading.Thread(target=lambda: answers.append(c.get("book", at(9), slow))) for _ in range(4)]
    readers[0].start()
    assert started.wait(5)
    for reader in readers[1:]:
        reader.start()
    time.sleep(0.1)  # the others are waiting for the first computation, not computing
    release.set()
    for reader in readers:
        reader.join(5)
    assert answers == ["page"] * 4 and len(calls) == 1
