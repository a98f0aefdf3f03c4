"""Use case: activities and signals pushed by a CRM as JSON rows (SPEC §9 HTTP API webhooks).

The rows have the CSV columns of their kind and pass through exactly the rules of a CSV import: the
ingest layer converts and checks every cell (the rows are written as CSV and read by
:func:`dynbooks.ingest.read_csv_text`), the import service checks ids against the database, upserts, and
sets the same effects in motion (meaningful activities move retrieval clocks, hand-raise signals route
their accounts at once). All or nothing: one bad row refuses the delivery, naming ``row I, column C``
(rows counted from 0).

Idempotency: with a key, the answer is stored in the ``idempotency`` table in the same transaction as
the effect; a repeat with the same key and the same body has no second effect and gets the first answer,
a repeat with the same key and another body is refused. Without a key, ids still dedupe: a row with the
``activity_id``/``signal_id`` of a stored one (or, without an id, the same account, type and time)
changes nothing.

Deliveries during a cycle (see docs/benchmarks.md, "Web app and API"): activities and ordinary signals do not
move ownership, so they never wait for the cycle lock. On PostgreSQL they are written at once in their own
short transaction without it (only hand-raises, which route, take the lock). On SQLite a running cycle holds
the database's only write lock for its whole length, so nothing can be written to the database until it
commits: a delivery that cannot take the write lock within ``QUEUE_AFTER`` seconds is appended to a durable
*inbox* — a small SQLite file next to the database (``<db>-inbox``, synchronous=FULL) — and answered
``202 Accepted`` with ``"queued": true`` once it is on disk. Its rows were already checked (format and ids), so
a queued delivery is one that will be applied. A drainer thread applies the queue in arrival order, in small
batches (a transaction each), probing every second while the lock is held; while deliveries wait, new ones are
queued behind them rather than overtaking them.

Exactly once: every queued delivery carries an idempotency key (the client's, or a generated one) stored in
the ``idempotency`` table in the same transaction as its effect, and it leaves the inbox only after that
commit. A crash in between leaves it queued; applying it again finds the key and has no second effect. A
repeat of a queued key answers the queued answer (``"replayed": true``), and a repeat after it was applied
answers the stored answer, as without a queue.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, delete, event, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool, StaticPool

from dynbooks.domain.errors import InvalidInput
from dynbooks.ingest import ParsedFile, RowError, read_csv_text
from dynbooks.services.context import Context
from dynbooks.services.history import naive
from dynbooks.services.idempotency import Idempotency, remember, replay
from dynbooks.services.imports import TABLES, _effects, _reference_errors, _to_record, _upsert
from dynbooks.services.webhook_batch import Delivery, apply_together, together
from dynbooks.store.cycle_flag import cycle_running
from dynbooks.store.schema import webhook_inbox

__all__ = ["WEBHOOK_KINDS", "Inbox", "inbox_of", "ingest_rows"]

WEBHOOK_KINDS = ("activities", "signals")
MAX_ROWS = 10_000
log = logging.getLogger(__name__)
# Seconds a SQLite delivery waits for the write lock before it is queued, when no cycle runs: longer than
# another writer's short transaction (a delivery of another process, a return) takes even on a loaded
# machine. While a cycle runs (store/cycle_flag.py) a delivery is queued at once: it would wait in vain.
QUEUE_AFTER = 2.0
GATHER = 0.001
"""Seconds the writer thread waits, at most, until as many deliveries wait as its last set held (under load,
clients that were just answered send again). A set's fixed cost (a transaction, ten statements: ~1.3 ms at 1M
accounts) is then shared: taking whatever waited, a third of the sets held one delivery (1M accounts, 8
clients: 1.35 -> 1.02 ms of server CPU per delivery, 712 -> 927 req/s, same minutes; 2 ms: no better).
After a set of one, nothing waits: a lone delivery is written at once."""
WRITER_IDLE = 5.0  # seconds without a delivery after which an inbox's writer thread ends (a new one starts)
_POSTGRES_WRITERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dynbooks-webhook-pg")
DRAIN_BATCH = 20  # queued deliveries applied per transaction (the writer lock is free between batches)
RETRY_EVERY = 1.0  # seconds between attempts to apply the queue while the lock is held


def _cell(value: Any, i: int, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise InvalidInput("bad rows; nothing was written", [f"row {i}, column {column}: must be text, a number, "
                                                         "true/false or null"])


def _write(rows: list[dict[str, Any]]) -> tuple[str, dict[int, int]]:
    """``rows`` as CSV text, and the physical start line of each row → its index."""
    columns = list(dict.fromkeys(c for r in rows for c in r))
    line_of: dict[int, int] = {}
    line = 2
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for i, row in enumerate(rows):
        cells = [_cell(row.get(c), i, c) for c in columns]
        line_of[line] = i
        line += 1 + sum(c.count("\n") + c.count("\r") for c in cells)
        writer.writerow(cells)
    return out.getvalue(), line_of


def _row_errors(errors: list[RowError], line_of: dict[int, int]) -> list[str]:
    out = []
    for e in errors:
        where = f"row {line_of[e.line]}" if e.line in line_of else "rows"
        out.append(f"{where}, column {e.column}: {e.message}" if e.column else f"{where}: {e.message}")
    return out


def _fingerprint(kind: str, rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps([kind, rows], sort_keys=True, default=str).encode()).hexdigest()


def _moves_ownership(ctx: Context, kind: str, rows: list[dict[str, Any]]) -> bool:
    """Only hand-raise signals route accounts; everything else a webhook writes leaves ownership alone."""
    return kind == "signals" and any(r.get("type") in ctx.config.routing.hand_raise_types for r in rows)


def ingest_rows(ctx: Context, kind: str, rows: list[dict[str, Any]], *,
                idempotency_key: str | None = None) -> dict[str, Any]:
    """Import ``rows`` of ``kind`` (activities or signals); returns
    ``{"inserted", "updated", "unchanged", "rejected", ...}`` as an import does (signals add ``routed``),
    plus ``"replayed": true`` when the answer is the stored answer to an earlier delivery of the same key,
    or ``{"queued": true, ...}`` (zero counts) when the delivery waits in the SQLite inbox for a cycle."""
    return deliver(ctx, kind, rows, idempotency_key=idempotency_key).result()


def deliver(ctx: Context, kind: str, rows: list[dict[str, Any]], *,
            idempotency_key: str | None = None) -> Future[dict[str, Any]]:
    """:func:`ingest_rows` without waiting: the rows are read and checked here (a bad cell raises at once),
    and the future settles with the answer or the refusal once the delivery is written. On SQLite the
    inbox's writer thread writes it (with the deliveries beside it); on PostgreSQL, which writes side by
    side, a thread of its own. The web app awaits the future: no request thread waits for the writer."""
    if kind not in WEBHOOK_KINDS:
        raise InvalidInput(f"unknown webhook kind {kind!r}; use one of {', '.join(WEBHOOK_KINDS)}")
    if not rows:
        raise InvalidInput("no rows: send a JSON list of at least one row")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"{len(rows)} rows: at most {MAX_ROWS} in one delivery")
    key = None if idempotency_key is None else f"webhooks/{kind}:{idempotency_key}"
    if key is not None and len(key) > 200:
        raise InvalidInput("the Idempotency-Key is too long (at most 150 characters)")
    # Bad cells and unknown ids are refused together, naming every bad row (in _apply_in / enqueue).
    with _parsed(kind, rows) as (parsed, line_of):
        delivery = Delivery(ctx, kind, parsed, line_of, key, _fingerprint(kind, rows), rows)
    if ctx.engine.dialect.name != "sqlite":
        return _POSTGRES_WRITERS.submit(_apply_postgres, delivery, _moves_ownership(ctx, kind, rows))
    return inbox_of(ctx).submit(delivery)


@contextmanager
def _parsed(kind: str, rows: list[dict[str, Any]]) -> Iterator[tuple[ParsedFile, dict[int, int]]]:
    """The rows read by the CSV reader (so they pass exactly the import's cell rules), in memory."""
    text, line_of = _write(rows)
    # Written with commas: nothing to guess (the csv module's Sniffer was 6% of a delivery's server CPU).
    yield read_csv_text(text, kind, name=f"<{kind} webhook>", delimiter=","), line_of


def _refusal(errors: list[RowError], line_of: dict[int, int]) -> InvalidInput:
    """A delivery refused whole, naming every bad row by its index in the delivery."""
    errors = sorted(errors, key=lambda e: e.line)
    bad = len({e.line for e in errors})
    return InvalidInput(f"{bad} bad row{'s' if bad != 1 else ''}; nothing was written", _row_errors(errors, line_of))


def _check(conn: Connection, ctx: Context, parsed: ParsedFile, line_of: dict[int, int]) -> None:
    """Refuse the delivery naming every bad cell and every id the database does not know (all or nothing:
    no row is set aside, so the rows' cells need not be kept)."""
    errors = [*parsed.errors, *_reference_errors(conn, ctx, parsed)]
    if errors:
        raise _refusal(errors, line_of)


def _stored(conn: Connection, key: str, fingerprint: str) -> dict[str, Any] | None:
    """The stored answer to an earlier delivery of ``key`` (refused if that delivery had another body)."""
    return replay(conn, Idempotency(key, fingerprint))


def _apply_in(conn: Connection, ctx: Context, kind: str, parsed: ParsedFile, line_of: dict[int, int],
              key: str | None, fingerprint: str) -> dict[str, Any]:
    """The delivery's effect inside the caller's transaction (all or nothing)."""
    table, id_column = TABLES[kind]
    if key is not None and (stored := _stored(conn, key, fingerprint)) is not None:
        return stored
    _check(conn, ctx, parsed, line_of)
    records = [_to_record(kind, r, ctx) for r in parsed.rows]
    counts, changed = _upsert(conn, table, id_column, records)
    answer: dict[str, Any] = {**counts, "rejected": 0, **_effects(conn, ctx, kind, parsed, changed)}
    if key is not None:
        remember(conn, Idempotency(key, fingerprint), answer, ctx.now.stamp)
    return answer | {"replayed": False}


def _apply_run(conn: Connection, run: list[Delivery]) -> None:
    """Apply ``run`` (from :func:`together`) in the caller's transaction, settling each delivery's outcome
    to ``("answer", dict)`` or ``("error", InvalidInput)``: as one set in a savepoint when it holds several
    (a set that fails is undone, logged, and its deliveries go one by one), then each delivery the set left
    alone (one whose key is stored: a replay) in a savepoint of its own. The writer thread and the inbox's
    drainer both write this way."""
    if len(run) > 1:
        try:
            with conn.begin_nested():
                apply_together(conn, run[0].ctx, run, _refusal)
        except Exception:
            log.warning("a set of webhook deliveries was applied one by one instead", exc_info=True)
            for d in run:
                d.outcome = None
    for d in run:
        if d.outcome is not None and d.outcome[0] != "alone":
            continue
        try:
            with conn.begin_nested():
                d.outcome = ("answer", _apply_in(conn, d.ctx, d.kind, d.parsed, d.line_of, d.key, d.fingerprint))
        except InvalidInput as exc:
            d.outcome = ("error", exc)


def _apply_postgres(d: Delivery, lock: bool) -> dict[str, Any]:
    """PostgreSQL writes concurrently: only a delivery that routes takes the cycle lock. Two deliveries of
    the same key or the same event id at the same moment: the second fails on the unique key and, tried
    again, finds the first one's rows (no second effect)."""
    for attempt in (1, 2, 3):
        try:
            with d.ctx.writing(lock=lock) as conn:
                return _apply_in(conn, d.ctx, d.kind, d.parsed, d.line_of, d.key, d.fingerprint)
        except Exception as exc:
            if attempt == 3 or not (_unique_violation(exc) or _deadlock(exc)):
                raise
    raise AssertionError("unreachable")


def _unique_violation(exc: Exception) -> bool:
    """SQLAlchemy's IntegrityError, or the driver's own unique violation (SQLSTATE 23505) that a COPY
    (:func:`dynbooks.store.bulk.insert_rows`) raises unwrapped."""
    return isinstance(exc, IntegrityError) or getattr(exc, "sqlstate", None) == "23505"


def _deadlock(exc: Exception) -> bool:
    """PostgreSQL chose this transaction to break a deadlock (SQLSTATE 40P01): nothing of it was written,
    so it is tried again. (The account facts lock the delivery's accounts, in id order; another writer of
    the same accounts in another order, an import, can meet it.)"""
    return "40P01" in (getattr(exc, "sqlstate", None), getattr(getattr(exc, "orig", None), "sqlstate", None))


class _Busy(Exception):
    """The SQLite write lock was not free within QUEUE_AFTER seconds (a cycle, an import)."""


@contextmanager
def _brief_write(ctx: Context, wait: float) -> Iterator[Connection]:
    """A SQLite write transaction that waits at most ``wait`` seconds for the lock (else :class:`_Busy`)."""
    with ctx.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        conn.info["write"] = True
        try:
            try:
                trans = conn.begin()  # BEGIN IMMEDIATE: waits for the write lock here
            except OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise _Busy() from exc
                raise
            with trans:
                raw.execute(f"PRAGMA busy_timeout={int(ctx.wait * 1000)}")
                yield conn
        finally:
            conn.info["write"] = False


def inbox_of(ctx: Context) -> Inbox:
    """The inbox of this SQLite database (one per file and process)."""
    path = ctx.engine.url.database or ""
    with _INBOXES_LOCK:
        inbox = _INBOXES.get(path)
        if inbox is None:
            inbox = _INBOXES[path] = Inbox(path)
        return inbox


class Inbox:
    """Deliveries queued while another process holds the SQLite write lock (see the module's docstring)."""

    def __init__(self, database: str) -> None:
        memory = database in ("", ":memory:")
        self.engine = create_engine("sqlite://" if memory else f"sqlite:///{database}-inbox",
                                    poolclass=StaticPool if memory else NullPool,
                                    connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(self.engine, "connect", _inbox_pragmas)
        self._file = None if memory else Path(f"{database}-inbox")
        # One writer of the database per process at a time: threads queue here (woken at once) rather than
        # in SQLite's busy handler (which sleeps in steps).
        self.writer = threading.Lock()
        # The same for the inbox file: during a cycle every delivery of this process writes to it at once.
        self._inbox_write = threading.Lock()
        self.busy = False
        self._more = threading.Condition()  # deliveries waiting for the writer thread (submit())
        self._waiting: list[Delivery] = []
        self._applier: threading.Thread | None = None
        self._state = threading.Lock()
        self._drainer: threading.Thread | None = None
        self._created = False
        self._ddl = threading.Lock()
        if self._file is None:
            self._create()
        # A previous process may have left deliveries queued.
        self._queued = bool(self.pending())

    def _create(self) -> None:
        """The inbox table, once. Connecting creates the file before the table: another thread or server
        process may see the file and no table yet, so the file's existence does not say the table exists."""
        if self._created:
            return
        with self._ddl:
            try:
                webhook_inbox.create(self.engine, checkfirst=True)
            except OperationalError as exc:  # another process created it between the check and the create
                if "already exists" not in str(exc):
                    raise
            self._created = True

    def patience(self, ctx: Context) -> float:
        """How long a delivery waits for the write lock: ``QUEUE_AFTER`` (another writer's short transaction
        ends by then), but not at all while a cycle runs, nor once an attempt failed, until one succeeds
        (every delivery behind it would wait in vain)."""
        return 0.0 if self.busy or cycle_running(ctx.engine) else QUEUE_AFTER

    @contextmanager
    def writing(self, ctx: Context) -> Iterator[Connection]:
        """A short write transaction on the database (the caller holds ``writer``) that waits
        :meth:`patience` for the lock, else raises :class:`_Busy`; the inbox then knows the lock is held
        (``busy``) until a write of this process commits again."""
        try:
            with _brief_write(ctx, self.patience(ctx)) as conn:
                yield conn
        except _Busy:
            self.busy = True
            raise
        self.busy = False

    def pending(self, limit: int | None = None) -> list[Any]:
        """The queued deliveries still to apply, oldest first."""
        if self._file is not None and not self._file.exists():
            return []
        self._create()
        with self.engine.connect() as conn:
            return list(conn.execute(select(webhook_inbox).where(webhook_inbox.c.error.is_(None))
                                     .order_by(webhook_inbox.c.id).limit(limit)))

    def submit(self, delivery: Delivery) -> Future[dict[str, Any]]:
        """Hand ``delivery`` to this inbox's writer thread (started on demand); returns its future, already
        running: a sender that goes away (a client that hangs up cancels its awaiting) cannot cancel a delivery
        the writer may be writing, nor make the writer fail to answer the others of its set."""
        delivery.future.set_running_or_notify_cancel()
        with self._more:
            self._waiting.append(delivery)
            if self._applier is None:
                self._applier = threading.Thread(target=self._apply_waiting, name="dynbooks-webhook-writer",
                                                 daemon=True)
                self._applier.start()
            self._more.notify()
        return delivery.future

    def _apply_waiting(self) -> None:
        """The writer thread: takes the first waiting delivery and those that can go with it (a set, see
        :mod:`dynbooks.services.webhook_batch`), writes them, settles their futures, and goes on while
        deliveries wait. Deliveries that arrive while a set is written form the next set, so sets grow with
        the load by themselves. Ends after ``WRITER_IDLE`` seconds without work."""
        last = 0
        while True:
            with self._more:
                if not self._waiting and not self._more.wait_for(lambda: bool(self._waiting), WRITER_IDLE):
                    self._applier = None
                    return
                if len(self._waiting) < last:  # under load: see GATHER
                    self._more.wait_for(partial(self._at_least, last), GATHER)
                try:
                    batch = together(self._waiting[0], self._waiting[1:])
                except Exception:  # never leave this thread (deliveries would wait for it forever)
                    log.exception("webhook deliveries could not be grouped; the first goes alone")
                    batch = [self._waiting[0]]
                last = len(batch)
                chosen = set(map(id, batch))
                self._waiting = [d for d in self._waiting if id(d) not in chosen]
            try:
                self._write_set(batch)
            except BaseException as exc:  # every sender is answered, whatever happened
                for d in batch:
                    if not d.future.done():
                        d.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise

    def _at_least(self, n: int) -> bool:
        return len(self._waiting) >= n

    def _write_set(self, batch: list[Delivery]) -> None:
        """Write ``batch`` (a run from :func:`together`) in one transaction and settle each future; queue it
        instead while deliveries wait in the inbox (a new one waits behind them, in arrival order) or when
        the write lock stays held (a cycle)."""
        first = batch[0]
        if not self.queueing(first.ctx):
            with self.writer:
                try:
                    with self.writing(first.ctx) as conn:
                        _apply_run(conn, batch)
                except _Busy:
                    pass  # nothing was written: queued below
        for d in batch:
            try:
                value = None if d.outcome is None else d.outcome[1]
                if isinstance(value, InvalidInput):  # refused: a bad row of its own
                    raise value
                d.future.set_result(value if isinstance(value, dict) else self.enqueue(
                    d.ctx, d.kind, d.rows, d.parsed, d.line_of, d.key, d.fingerprint))
            except Exception as exc:
                d.future.set_exception(exc)

    def queueing(self, ctx: Context) -> bool:
        """Whether deliveries wait in the queue (then the drainer runs)."""
        with self._state:
            if self._queued and self._drainer is None:
                self._start_drainer(ctx)
            return self._queued

    def enqueue(self, ctx: Context, kind: str, rows: list[dict[str, Any]], parsed: ParsedFile,
                line_of: dict[int, int], key: str | None, fingerprint: str) -> dict[str, Any]:
        """Check the rows against the database (a read: allowed during a cycle), then queue them durably."""
        with ctx.reading() as conn:
            if key is not None and (stored := _stored(conn, key, fingerprint)) is not None:
                return stored
            _check(conn, ctx, parsed, line_of)
        queued = {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0, "queued": True}
        self._create()
        try:
            with self._inbox_write, self.engine.begin() as conn:
                conn.execute(insert(webhook_inbox).values(
                    key=key or f"webhooks/{kind}/inbox:{uuid.uuid4().hex}", kind=kind, fingerprint=fingerprint,
                    rows=json.dumps(rows, default=str), received_at=naive(ctx.now.stamp)))
        except IntegrityError:  # the same key is queued already
            with self.engine.connect() as conn:
                first = conn.execute(select(webhook_inbox.c.fingerprint)
                                     .where(webhook_inbox.c.key == key)).scalar()
            if first != fingerprint:
                raise InvalidInput("this Idempotency-Key was already used for a different delivery") from None
            return queued | {"replayed": True}
        with self._state:
            self._queued = True
            if self._drainer is None:
                self._start_drainer(ctx)
        return queued | {"replayed": False}

    def drain(self, ctx: Context, limit: int = DRAIN_BATCH) -> int:
        """Apply up to ``limit`` queued deliveries, oldest first, in one write transaction if the lock is free
        (else nothing: 0): runs of them that can go together as sets, the others one by one (as the writer
        thread does), each set and each delivery in a savepoint, so that one no longer valid (kept in the inbox
        with its error) does not undo the others. They leave the inbox only after the commit: a crash in
        between leaves them queued, and applying one again finds its idempotency key (no second effect).
        Returns how many were applied."""
        with self.writer:
            queued = self.pending(limit)
            if not queued:
                return 0
            done: list[int] = []
            try:  # while the lock is known to be held, only a probe: deliveries must not wait behind it
                with self.writing(ctx) as conn:
                    waiting = [(row, self._queued_delivery(ctx, row)) for row in queued]
                    while waiting:
                        run = together(waiting[0][1], [d for _, d in waiting[1:]])
                        _apply_run(conn, run)
                        for row, d in waiting[:len(run)]:  # a set is a run: the first len(run) waiting
                            value = None if d.outcome is None else d.outcome[1]
                            if isinstance(value, dict):
                                done.append(row.id)
                            elif isinstance(value, InvalidInput):
                                with self._inbox_write, self.engine.begin() as inbox:
                                    inbox.execute(webhook_inbox.update().where(webhook_inbox.c.id == row.id)
                                                  .values(error="; ".join([value.message, *value.details])))
                        waiting = waiting[len(run):]
            except _Busy:
                return 0
            self.drained(done)
            return len(done)

    @staticmethod
    def _queued_delivery(ctx: Context, row: Any) -> Delivery:
        rows = json.loads(row.rows)
        with _parsed(row.kind, rows) as (parsed, line_of):
            return Delivery(ctx, row.kind, parsed, line_of, row.key, row.fingerprint, rows)

    def drained(self, ids: list[int]) -> None:
        """The deliveries' effects are committed: take them out of the queue."""
        if ids:
            with self._inbox_write, self.engine.begin() as conn:
                conn.execute(delete(webhook_inbox).where(webhook_inbox.c.id.in_(ids)))

    def _start_drainer(self, ctx: Context) -> None:
        """Called under ``_state``: a thread that applies the queue in small batches (the writer lock is
        free between them) until it is empty, probing every second while the lock is held."""

        def run() -> None:
            try:
                while True:
                    applied = self.drain(ctx)
                    with self._state:
                        if not self.pending(1):
                            self._queued = False
                            self._drainer = None
                            return
                    if not applied:
                        time.sleep(RETRY_EVERY)
            except Exception:  # the queue stays on disk; the next delivery or process applies it
                log.exception("the webhook inbox could not be applied now")
                with self._state:
                    self._drainer = None

        self._drainer = threading.Thread(target=run, name="dynbooks-webhook-inbox", daemon=True)
        self._drainer.start()


def _inbox_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=FULL")  # a 202 promises the delivery is on disk


_INBOXES: dict[str, Inbox] = {}
_INBOXES_LOCK = threading.Lock()
