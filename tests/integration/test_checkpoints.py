"""A server's WAL checkpoints (store/checkpoints.py): its connections leave the log to the checkpoint thread,
which copies it back into the database file while the server runs, without blocking a reader or a writer."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dynbooks.store.checkpoints import SERVER_AUTOCHECKPOINT, WalCheckpointer
from dynbooks.store.db import connect

pytestmark = pytest.mark.backend("sqlite")


def _write_rows(engine: Engine, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (i INTEGER PRIMARY KEY, v TEXT)"))
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": f"{i:04d}" * 500})
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == SERVER_AUTOCHECKPOINT


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    """A database and a server's engine, open for the whole test (the last connection to close a database
    checkpoints it: that must not be what the test sees)."""
    path = tmp_path / "server.db"
    engine = connect(f"sqlite:///{path}", pooled=True)
    yield path, engine
    engine.dispose()


def test_a_server_connection_leaves_the_log_to_the_checkpoint_thread(server: tuple[Path, Engine]) -> None:
    path, engine = server
    _write_rows(engine, 200)  # ~100 pages of rows, 200 commits: a default connection would have checkpointed
    # The rows are only in the log: the database file itself has not grown (no commit checkpointed).
    assert path.stat().st_size < 20 * 4096 < 80 * 4096 < Path(f"{path}-wal").stat().st_size

    checkpoints = WalCheckpointer(str(path), every=0.05)
    checkpoints.start()
    try:
        deadline = time.monotonic() + 10
        while path.stat().st_size < 80 * 4096 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        checkpoints.stop()
    assert path.stat().st_size >= 80 * 4096  # the log's pages are in the database file now
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 200


def test_the_checkpoint_thread_blocks_neither_readers_nor_writers(server: tuple[Path, Engine]) -> None:
    path, engine = server
    _write_rows(engine, 50)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # holds a snapshot: its pages cannot be dropped
    checkpoints = WalCheckpointer(str(path), every=0.01)
    checkpoints.start()
    try:
        started = time.monotonic()
        _write_rows(engine, 50)  # the writer goes on while the reader holds its snapshot
        assert time.monotonic() - started < 5
        assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 50  # the reader's snapshot still
    finally:
        checkpoints.stop()
        reader.execute("COMMIT")
        reader.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 100
