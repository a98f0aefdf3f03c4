"""Ending ownership: the one place that moves owned rows out (returns, retrievals, holds, bumps, retires).

Every move writes its event and closes the assignment-ledger span in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from dynbooks.domain.lifecycle import check_transition
from dynbooks.services.context import Context
from dynbooks.services.history import naive
from dynbooks.store.bulk import delete_rows, insert_rows, update_rows
from dynbooks.store.schema import account_roles, assignments, events

__all__ = ["Move", "apply_moves"]

ROWED = frozenset({"owned", "resting", "review"})
"""States kept in ``account_roles``; the others (pool, retired, held) have no per-role row."""
ROWLESS = frozenset({"pool", "retired", "held"})
CHUNK = 50_000
"""Moves written per statement batch by :func:`apply_moves`."""


@dataclass(frozen=True)
class Move:
    """One (account, role) leaving its current state.

    ``to`` is the state it reaches: ``pool``, ``retired`` or ``held`` delete the per-role row (retired and
    held live on the account), ``resting`` (with ``rest_until``) and ``review`` keep it; ``event`` is the
    event type; ``rep_id`` the owner it leaves (None when it was not owned). Every move is checked
    against the lifecycle's transitions (:data:`dynbooks.domain.lifecycle.TRANSITIONS`).
    """

    account_id: str
    role: str
    before: str
    to: str
    event: str
    reason: str | None
    rep_id: str | None = None
    rule: str | None = None
    rest_until: date | None = None
    data: dict[str, Any] = field(default_factory=dict)


def apply_moves(conn: Connection, ctx: Context, moves: Sequence[Move], cycle_id: str | None = None) -> int:
    """Apply moves in bulk: state rows, events, ledger. Returns how many moved.

    Each kind of write is one statement over all the moves (tuples straight to the driver, or a COPYed
    temporary table joined on PostgreSQL), never a statement or a parameter dict per move.
    """
    if not moves:
        return 0
    for kinds in {(m.event, m.before, m.to) for m in moves}:
        check_transition(*kinds)
    # In slices, so that the rows built for the driver stay small beside the moves themselves.
    for start in range(0, len(moves), CHUNK):
        _apply(conn, ctx, moves[start:start + CHUNK], cycle_id)
    return len(moves)


def _apply(conn: Connection, ctx: Context, moves: Sequence[Move], cycle_id: str | None) -> None:
    stamp = naive(ctx.now.stamp)
    key = ("account_id", "role")
    delete_rows(conn, account_roles, key,
                [(m.account_id, m.role) for m in moves if m.to in ROWLESS and m.before in ROWED])
    insert_rows(conn, account_roles, ("account_id", "role", "state", "rest_until", "reason", "rule", "since"), [
        (m.account_id, m.role, m.to, m.rest_until, m.reason, m.rule, stamp)
        for m in moves
        if m.before not in ROWED and m.to in ROWED
    ])
    update_rows(conn, account_roles, key, (
        "state", "rest_until", "reason", "rule", "since", "rep_id", "segment", "assigned_at", "worked_at",
        "over_capacity", "cycle_id"), [
        (m.to, m.rest_until, m.reason, m.rule, stamp, None, None, None, None, False, None, m.account_id, m.role)
        for m in moves
        if m.before in ROWED and m.to in ROWED
    ])
    update_rows(conn, assignments, key, ("ended_at", "end_reason"), [
        (stamp, m.event, m.account_id, m.role) for m in moves if m.before == "owned"
    ], where="assignments.ended_at IS NULL")
    insert_rows(conn, events, (
        "at", "type", "account_id", "role", "rep_id", "reason", "rule", "cycle_id", "before", "after", "actor",
        "data"), [
        (stamp, m.event, m.account_id, m.role, m.rep_id, m.reason, m.rule, cycle_id, m.before, m.to, ctx.actor,
         m.data or None)
        for m in moves
    ])
