"""Writing a benchmark world into SQLite or PostgreSQL, and caching it between runs (setup, never timed).

A world is built once per (size, seed, version) — a SQLite file in the cache folder, a PostgreSQL
template database — and every measured run gets a fresh copy (a file copy; ``CREATE DATABASE … TEMPLATE``),
because a committed cycle changes it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from dynbooks.bench.world import Table, tables
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade

__all__ = ["VERSION", "cache_dir", "drop_pg", "pg_copy", "pg_world", "sqlite_copy", "sqlite_world"]

VERSION = 1  # bump when the world's content changes, so stale caches are not reused
BATCH = 50_000


def cache_dir() -> Path:
    folder = Path(os.environ.get("DYNBOOKS_BENCH_CACHE", Path.home() / ".cache" / "dynbooks-bench"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _batches(table: Table) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in table.rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def sqlite_world(n: int, seed: int) -> Path:
    """The cached SQLite file of an ``n``-account world, built if missing."""
    path = cache_dir() / f"world-{n}-{seed}-v{VERSION}.db"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    _log(f"building {path.name}")
    upgrade(connect(f"sqlite:///{tmp}"))
    con = sqlite3.connect(tmp, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    for table in tables(n, seed):
        sql = f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({', '.join('?' * len(table.columns))})"
        for batch in _batches(table):
            con.executemany(sql, batch)
        _log(f"  {table.name} written")
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    tmp.rename(path)
    return path


def sqlite_copy(source: Path, name: str) -> str:
    """A fresh copy of ``source`` for one measured run; returns its URL."""
    target = cache_dir() / f"run-{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def _admin(server: str) -> psycopg.Connection:
    url = make_url(server.replace("postgresql+psycopg://", "postgresql://"))
    return psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres",
                           password=url.password, dbname="postgres", autocommit=True)


def _db_url(server: str, database: str) -> str:
    url = make_url(server.replace("postgresql+psycopg://", "postgresql://"))
    return url.set(database=database).render_as_string(hide_password=False)


def pg_world(server: str, n: int, seed: int) -> str:
    """The name of the cached template database of an ``n``-account world, built if missing."""
    name = f"dynbooks_bench_world_{n}_{seed}_v{VERSION}"
    with _admin(server) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return name
        admin.execute(f'DROP DATABASE IF EXISTS "{name}_tmp"')
        admin.execute(f'CREATE DATABASE "{name}_tmp"')
    _log(f"building PostgreSQL database {name}")
    upgrade(connect(_db_url(server, f"{name}_tmp")))
    with psycopg.connect(_db_url(server, f"{name}_tmp")) as con:
        for table in tables(n, seed):
            with con.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN") as copy:
                for row in table.rows:
                    copy.write_row(row)
            _log(f"  {table.name} written")
        con.commit()
        con.autocommit = True
        con.execute("VACUUM ANALYZE")
    with _admin(server) as admin:
        admin.execute(f'ALTER DATABASE "{name}_tmp" RENAME TO "{name}"')
    return name


def pg_copy(server: str, template: str, name: str) -> str:
    """A fresh database copied from ``template`` for one measured run; returns its URL."""
    database = f"dynbooks_bench_run_{name}"
    drop_pg(server, database)
    with _admin(server) as admin:
        admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    return _db_url(server, database)


def empty_pg(server: str, name: str) -> str:
    database = f"dynbooks_bench_run_{name}"
    drop_pg(server, database)
    with _admin(server) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    return _db_url(server, database)


def drop_pg(server: str, database: str) -> None:
    with _admin(server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
