"""A token that changes whenever a transaction that could change what a read sees has committed.

Read pages are cached under it (:mod:`dynbooks.services.cache`): equal tokens mean equal committed data,
so a cached answer is exactly what a fresh read would give. A token may change without any change to the
data a page reads (any commit changes it); that only costs a recomputation.

- **SQLite**: ``PRAGMA data_version`` on one connection that never writes. SQLite changes it for that
  connection whenever *another* connection commits — in this process or any other (a cycle run from the
  CLI) — and never otherwise. The connection is dedicated so that no commit is its own (a connection's
  own commits do not change its value).
- **PostgreSQL**: the current snapshot (``pg_current_snapshot()``: xmin, xmax and the transactions in
  progress). Two equal snapshots see exactly the same committed transactions; a commit anywhere in the
  cluster either removes an in-progress transaction from the list or moves xmin/xmax. A transaction that
  runs for long (a cycle) without committing leaves the snapshot as it is, so pages stay cached meanwhile.

The token must be read *before* the data it keys: data read after a commit that the token missed is then
stored under an older token, which the next reader no longer sees (a recomputation, never a stale page).
"""

from __future__ import annotations

import itertools
import sqlite3
import threading

from sqlalchemy import Engine, text

__all__ = ["DataVersion"]


class DataVersion:
    """``current()`` — the token of ``engine``'s database now (thread-safe)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._sqlite: sqlite3.Connection | None = None
        self._path = (engine.url.database or "") if engine.dialect.name == "sqlite" else None
        self.local = self._path is not None
        """True when reading the version is a local call (SQLite), not a round trip to a server."""
        self._fresh = itertools.count()

    def current(self) -> str:
        if self._path is not None:
            return self._sqlite_version()
        with self.engine.connect() as conn:
            return str(conn.execute(text("SELECT pg_current_snapshot()::text")).scalar_one())

    def _sqlite_version(self) -> str:
        with self._lock:
            if self._path in ("", ":memory:"):
                # Each connection to an in-memory database is a database of its own: nothing to watch.
                # A new token each time: nothing read from it is ever reused.
                return f"memory-{next(self._fresh)}"
            if self._sqlite is None:
                self._sqlite = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, check_same_thread=False,
                                               isolation_level=None)
            return str(self._sqlite.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._sqlite is not None:
                self._sqlite.close()
                self._sqlite = None
