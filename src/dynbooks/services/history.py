"""Writing events: the append-only history, in the same transaction as the state it explains."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from dynbooks.domain.lifecycle import Event
from dynbooks.store.bulk import insert_dicts
from dynbooks.store.schema import events

__all__ = ["naive", "record", "record_rows"]


def naive(moment: datetime) -> datetime:
    """The store keeps naive UTC datetimes."""
    return moment.replace(tzinfo=None)


def record(conn: Connection, batch: Iterable[Event]) -> int:
    rows = [
        {
            "at": naive(e.at),
            "type": str(e.type),
            "account_id": e.account_id,
            "role": e.role,
            "rep_id": e.rep_id,
            "reason": e.reason,
            "rule": e.rule,
            "cycle_id": e.cycle_id,
            "before": None if e.before is None else str(e.before),
            "after": None if e.after is None else str(e.after),
            "actor": e.actor,
            "data": e.data or None,
        }
        for e in batch
    ]
    return record_rows(conn, rows)


def record_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Bulk insert (COPY / executemany of tuples) of ready event rows."""
    return insert_dicts(conn, events, rows)
