"""Ending ownership: the one place that moves owned rows out (returns, retrievals, holds, bumps, retires).

Every move writes its event and closes the assignment-ledger span in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, update

from dynbooks.domain.lifecycle import check_transition
from dynbooks.services.context import Context
from dynbooks.services.history import naive, record_rows
from dynbooks.store.schema import account_roles, assignments

__all__ = ["Move", "apply_moves"]

ROWED = frozenset({"owned", "resting", "review"})
"""States kept in ``account_roles``; the others (pool, retired, held) have no per-role row."""
ROWLESS = frozenset({"pool", "retired", "held"})


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
    """Apply moves in bulk: state rows, events, ledger. Returns how many moved."""
    if not moves:
        return 0
    for m in moves:
        check_transition(m.event, m.before, m.to)
    stamp = naive(ctx.now.stamp)
    to_pool = [{"a": m.account_id, "r": m.role} for m in moves if m.to in ROWLESS and m.before in ROWED]
    if to_pool:
        conn.execute(
            delete(account_roles).where(
                and_(account_roles.c.account_id == bindparam("a"), account_roles.c.role == bindparam("r"))
            ),
            to_pool,
        )
    created = [
        {"account_id": m.account_id, "role": m.role, "state": m.to, "rest_until": m.rest_until,
         "reason": m.reason, "rule": m.rule, "since": stamp}
        for m in moves
        if m.before not in ROWED and m.to in ROWED
    ]
    if created:
        conn.execute(insert(account_roles), created)
    kept = [
        {"a": m.account_id, "r": m.role, "state": m.to, "rest_until": m.rest_until, "reason": m.reason,
         "rule": m.rule, "since": stamp}
        for m in moves
        if m.before in ROWED and m.to in ROWED
    ]
    if kept:
        conn.execute(
            update(account_roles)
            .where(and_(account_roles.c.account_id == bindparam("a"), account_roles.c.role == bindparam("r")))
            .values(state=bindparam("state"), rest_until=bindparam("rest_until"), reason=bindparam("reason"),
                    rule=bindparam("rule"), since=bindparam("since"), rep_id=None, segment=None,
                    assigned_at=None, worked_at=None, over_capacity=False, cycle_id=None),
            kept,
        )
    owned = [{"a": m.account_id, "r": m.role, "end": m.event} for m in moves if m.before == "owned"]
    if owned:
        conn.execute(
            update(assignments)
            .where(and_(assignments.c.account_id == bindparam("a"), assignments.c.role == bindparam("r"),
                        assignments.c.ended_at.is_(None)))
            .values(ended_at=stamp, end_reason=bindparam("end")),
            owned,
        )
    record_rows(conn, [
        {"at": stamp, "type": m.event, "account_id": m.account_id, "role": m.role, "rep_id": m.rep_id,
         "reason": m.reason, "rule": m.rule, "cycle_id": cycle_id, "before": m.before,
         "after": m.to, "actor": ctx.actor, "data": m.data or None}
        for m in moves
    ])
    return len(moves)
