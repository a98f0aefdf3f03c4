"""A server's SQLite WAL checkpoints, run by a thread of their own instead of inside requests.

In WAL mode a commit appends pages to ``<db>-wal``; a *checkpoint* copies them back into the database file
and syncs it. By default the commit that takes the log past 1,000 pages runs the checkpoint itself, so
every few dozen commits one request waited for it: a hand-raise that usually answers in 7 ms took
70-120 ms at 1M accounts. The server's connections therefore checkpoint only as a safety net, past
``SERVER_AUTOCHECKPOINT`` pages (:func:`dynbooks.store.db.connect` with ``pooled``), and this thread
checkpoints every ``every`` seconds. PASSIVE: it copies what no reader still needs and never waits for a
reader or a writer, so it blocks nobody; the next commit after a complete checkpoint starts the log anew.
SQLite releases the GIL while it copies and syncs, so the requests' Python code runs meanwhile.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

__all__ = ["SERVER_AUTOCHECKPOINT", "WalCheckpointer"]

SERVER_AUTOCHECKPOINT = 16_384  # pages (64 MB of log): a commit checkpoints only if this thread fell behind
log = logging.getLogger(__name__)


class WalCheckpointer:
    """Checkpoints the database file at ``path`` every ``every`` seconds between :meth:`start` and :meth:`stop`."""

    def __init__(self, path: str, every: float = 0.25) -> None:
        self.path = path
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dynbooks-wal-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: ``(busy, pages in the log, pages copied)`` as SQLite reports them."""
        busy, pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(pages), int(copied)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=0, check_same_thread=False, isolation_level=None)
        try:
            while not self._stop.wait(self.every):
                try:
                    self.checkpoint(connection)
                except sqlite3.Error:  # e.g. another process checkpoints now: the next turn will
                    log.debug("WAL checkpoint skipped", exc_info=True)
        finally:
            connection.close()
