"""What every use case gets: the database, the configuration, the injected now, who acts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.store.db import lock_cycle, read, write

__all__ = ["Context"]


@dataclass(frozen=True)
class Context:
    engine: Engine
    config: Config
    now: Now
    actor: str = "cli"
    wait: float = 30.0

    @contextmanager
    def writing(self, *, lock: bool = False) -> Iterator[Connection]:
        """A unit of work: one transaction; with ``lock`` it holds the cycle lock (SPEC §10 Cycles)."""
        with write(self.engine) as conn:
            if lock:
                lock_cycle(conn, self.actor, self.wait)
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with read(self.engine) as conn:
            yield conn
