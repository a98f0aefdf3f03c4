"""Engines, transactions and the cycle lock, the same on SQLite and PostgreSQL.

SQLite: pysqlite's own transaction handling is switched off so that a writing transaction starts with
``BEGIN IMMEDIATE`` (it takes the write lock at once, so two writers queue instead of failing on
upgrade); readers use a plain ``BEGIN``. WAL lets readers go on while a cycle writes. SQLAlchemy emits
no ``FOR UPDATE`` on SQLite: there the write lock *is* the lock.

PostgreSQL: every transaction that moves ownership locks the row ``locks.name = 'cycle'`` with
``FOR UPDATE`` under a ``lock_timeout``, so cycles, returns and hand-raises run one at a time per
database, guaranteed by the database and not by a process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from dynbooks.domain.errors import CycleRunning, NotFound, UsageError
from dynbooks.store.checkpoints import SERVER_AUTOCHECKPOINT
from dynbooks.store.schema import locks

__all__ = ["DEFAULT_URL", "connect", "lock_cycle", "normalise_url", "read", "write"]

DEFAULT_URL = "sqlite:///dynbooks.db"


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 (the driver dynbooks installs)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def connect(url: str, *, wait: float = 30.0, must_exist: bool = False, pooled: bool = False) -> Engine:
    """An engine for ``url``. ``wait`` is how long a writer queues for the lock before giving up.
    ``pooled`` keeps connections open between transactions (a long-running server wants it)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if must_exist and path not in ("", ":memory:") and not os.path.exists(path):
            raise NotFound(f"database {path} does not exist; run `dynbooks init` first")
        if pooled:
            # A server keeps a few connections open (each with its page cache warm) instead of opening one,
            # with its PRAGMAs, per request; more are opened, and closed on return, when all are busy.
            engine = create_engine(url, connect_args={"timeout": wait, "check_same_thread": False},
                                   pool_size=8, max_overflow=-1)
        else:
            engine = create_engine(url, connect_args={"timeout": wait}, poolclass=NullPool)
        _sqlite_transactions(engine, wait, pooled)
    elif parsed.get_backend_name() == "postgresql":
        engine = (create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True) if pooled
                  else create_engine(url, poolclass=NullPool))
    else:
        raise UsageError(f"--db {url!r}: only sqlite:/// and postgresql:// URLs are supported")
    engine.info_wait = wait  # type: ignore[attr-defined]
    return engine


def _sqlite_transactions(engine: Engine, wait: float, server: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 64 MB of page cache (default 2 MB): a cycle updates indexes all over a large file, and re-reading
        # their pages from the OS was most of its time at 1M accounts. Memory is only taken as pages are used.
        # 128 MB made the 5M cycle 3% faster (32.0 vs 32.9 s) for 64 MB more peak RSS (1,028 vs 964 MB).
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        if server:  # a server's checkpoints run in a thread of their own (store/checkpoints.py)
            cursor.execute(f"PRAGMA wal_autocheckpoint={SERVER_AUTOCHECKPOINT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One writing transaction: everything in it commits together or not at all."""
    with engine.connect() as conn:
        conn.info["write"] = True
        try:
            with conn.begin():
                yield conn
        except OperationalError as exc:
            if "database is locked" in str(exc):
                raise CycleRunning(
                    "another dynbooks command is writing to this database (a cycle?); "
                    "try again, or give --wait more seconds"
                ) from exc
            raise
        finally:
            conn.info["write"] = False


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def lock_cycle(conn: Connection, holder: str, wait: float) -> None:
    """Take the database-wide lock that cycles, returns and hand-raises share (SPEC §10 Cycles).

    Waits up to ``wait`` seconds, then raises :class:`CycleRunning` (exit 5).
    """
    if conn.dialect.name == "sqlite":
        return  # BEGIN IMMEDIATE already holds the only write lock SQLite has
    conn.execute(text(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'"))
    try:
        with conn.begin_nested():
            conn.execute(select(locks.c.name).where(locks.c.name == "cycle").with_for_update())
    except OperationalError as exc:
        if "lock timeout" in str(exc) or "canceling statement" in str(exc):
            raise CycleRunning(
                f"another cycle holds the lock; waited {wait:g} s (give --wait more seconds)"
            ) from exc
        raise
    conn.execute(text("SET LOCAL lock_timeout = 0"))
    conn.execute(locks.update().where(locks.c.name == "cycle").values(holder=holder))
