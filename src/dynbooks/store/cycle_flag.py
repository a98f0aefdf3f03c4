"""Whether a cycle is running on a SQLite database, known to every process on the machine at once.

A cycle holds SQLite's only write lock for its whole length; a webhook delivery that meets a held lock
cannot tell a cycle (seconds to minutes: queue the delivery at once) from another short writer (wait for
it). A running cycle therefore holds a shared ``flock`` on ``<db>-cycle``, a file beside the database;
whoever cannot take it exclusively knows a cycle runs. The kernel releases it when the cycle ends or its
process dies, so no stale flag survives a crash. Shared, because two cycles wait for each other on the
database lock, never here. PostgreSQL needs none of this (its writers do not exclude each other).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

__all__ = ["cycle_running", "running_cycle"]


def _flag(engine: Engine) -> str | None:
    path = engine.url.database or ""
    return None if engine.dialect.name != "sqlite" or path in ("", ":memory:") else f"{path}-cycle"


@contextmanager
def running_cycle(engine: Engine) -> Iterator[None]:
    """Hold the flag while the body (a cycle's transaction) runs."""
    flag = _flag(engine)
    if flag is None:
        yield
        return
    fd = os.open(flag, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def cycle_running(engine: Engine) -> bool:
    """True while a cycle holds the flag (in any process)."""
    flag = _flag(engine)
    if flag is None or not os.path.exists(flag):
        return False
    fd = os.open(flag, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False
    finally:
        os.close(fd)
