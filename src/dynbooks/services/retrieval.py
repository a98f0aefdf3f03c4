"""The first two steps of a cycle: release ended rests, retrieve unworked and hoarded accounts.

Both are set-based: one query per book rule finds the candidates (the partial index on owned rows'
``worked_at`` serves it), the domain decides with arrays, and the moves are written in bulk.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import numpy as np
from sqlalchemy import Connection, and_, exists, insert, select

from dynbooks.domain.clock import day_number
from dynbooks.domain.retrieval import idle_days, retrieval_due
from dynbooks.domain.rules import BookRule
from dynbooks.domain.scoring import GET_BACK_TO_ME_STRENGTH
from dynbooks.services.context import Context
from dynbooks.services.ownership import Move, apply_moves
from dynbooks.store.queries import days_since
from dynbooks.store.schema import account_roles, opportunities, reps, signals

__all__ = ["release_rests", "retrieve"]


def release_rests(conn: Connection, ctx: Context, cycle_id: str | None) -> list[Move]:
    """Resting rows whose ``rest_until`` has come go back to the pool; a ``get_back_to_me`` rest ends with
    a timing signal of strength 10 dated that day (SPEC §10 Priority)."""
    query = select(account_roles.c.account_id, account_roles.c.role, account_roles.c.reason, account_roles.c.rule,
                   account_roles.c.rest_until).where(
        account_roles.c.state == "resting", account_roles.c.rest_until <= ctx.now.day
    )
    moves = [
        Move(a, role, "resting", "pool", "released", reason, rule=rule,
             data={"rest_until": until.isoformat(), "rest_reason": reason})
        for a, role, reason, rule, until in conn.execute(query)
    ]
    moves.sort(key=lambda m: (m.account_id, m.role))
    apply_moves(conn, ctx, moves, cycle_id)
    boosted = sorted({m.account_id for m in moves if m.reason == "get_back_to_me"})
    if boosted:
        start = datetime.combine(ctx.now.day, time(0))
        existing = set(conn.execute(select(signals.c.signal_id).where(
            signals.c.signal_id.in_([f"gbtm:{a}:{ctx.now.day.isoformat()}" for a in boosted]))).scalars())
        rows = [
            {"signal_id": f"gbtm:{a}:{ctx.now.day.isoformat()}", "account_id": a, "type": "get_back_to_me",
             "strength": GET_BACK_TO_ME_STRENGTH, "occurred_at": start, "expires_at": None}
            for a in boosted
            if f"gbtm:{a}:{ctx.now.day.isoformat()}" not in existing
        ]
        if rows:
            conn.execute(insert(signals), rows)
    return moves


def retrieve(conn: Connection, ctx: Context, cycle_id: str | None) -> list[Move]:
    """Retrieve owned accounts not worked for the rule's ``retrieve_after_days`` and, for rules with
    ``hoarding_days``, accounts with no open opportunity not worked for that long. Each rests for the
    rule's ``rest_days``; the event carries the evidence (last worked date, idle days)."""
    moves: list[Move] = []
    for rule in ctx.config.book_rule:
        found = _due(conn, ctx, rule, rule.retrieve_after_days, hoarding=False)
        if rule.hoarding_days is not None:
            seen = {m.account_id for m in found}
            found += [m for m in _due(conn, ctx, rule, rule.hoarding_days, hoarding=True) if m.account_id not in seen]
        moves += found
    moves.sort(key=lambda m: (m.account_id, m.role))
    apply_moves(conn, ctx, moves, cycle_id)
    return moves


def _due(conn: Connection, ctx: Context, rule: BookRule, after_days: int, *, hoarding: bool) -> list[Move]:
    day = ctx.now.day
    # Coarse SQL bound (ignores time away, which only delays retrieval); the domain decides exactly.
    bound = datetime.combine(day - timedelta(days=after_days - 1), time(0))
    ar = account_roles
    dialect = conn.dialect.name
    # Dates come as whole days before ``day`` (computed by the database): no datetime object per row.
    query = (
        select(ar.c.account_id, ar.c.role, ar.c.rep_id, days_since(dialect, day, ar.c.worked_at),
               days_since(dialect, day, reps.c.unavailable_until))
        .join(reps, reps.c.rep_id == ar.c.rep_id)
        .where(ar.c.state == "owned", ar.c.rule == rule.name, ar.c.worked_at < bound)
    )
    if hoarding:
        opp = opportunities.c
        open_opp = exists().where(and_(opp.account_id == ar.c.account_id, opp.is_closed.is_(False)))
        query = query.where(~open_opp)
    result = conn.execute(query)
    rows = result.cursor.fetchall() if result.cursor is not None else result.all()
    if not rows:
        return []
    account_ids, roles, rep_ids, worked_ago, away_ago = zip(*rows, strict=True)
    del rows
    today = day_number(day)
    worked = today - np.array(worked_ago, dtype=np.int64)
    away_before = np.array([np.nan if a is None else a for a in away_ago], dtype=np.float64)
    away = np.where(np.isnan(away_before), -1, today - np.nan_to_num(away_before)).astype(np.int64)
    due = retrieval_due(worked, away, today, after_days)
    idle = idle_days(worked, away, today)
    rest_until = day + timedelta(days=rule.rest_days)
    until = rest_until.isoformat()
    reason = "hoarding" if hoarding else "not_worked"
    at = np.flatnonzero(due)
    last_worked = worked[at].astype("datetime64[D]").astype(str).tolist()  # day numbers count from 1970-01-01
    return [
        Move(account_ids[i], roles[i], "owned", "resting", "retrieved", reason, rep_id=rep_ids[i], rule=rule.name,
             rest_until=rest_until,
             data={"last_worked": lw, "idle_days": d, "after_days": after_days, "rest_until": until})
        for i, lw, d in zip(at.tolist(), last_worked, idle[at].tolist(), strict=True)
    ]
