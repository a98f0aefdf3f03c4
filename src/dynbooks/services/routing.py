"""Routing one account at once: hand-raises and the hand-off of converted accounts (SPEC §4, §10).

Both pick a rep of the target rule(s) round robin — the rep whose last account routed this way is the
oldest goes first, then by rep id — among reps with room in the segment the account falls in, skipping
reps in cooldown for it. When nobody has room, ``[routing] when_full`` decides: ``swap`` bumps the
chosen rep's lowest-priority account with no meaningful activity since it was assigned (back to the pool
without rest), ``allow`` records an over-capacity. With ``swap`` and nothing to bump, the account is
placed over capacity all the same (a hand-raise is never dropped) and the event says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, insert, select

from dynbooks.domain.routing import round_robin, swap_victim
from dynbooks.domain.rules import BookRule
from dynbooks.services.books import Rep, book_counts, free_capacity, load_reps
from dynbooks.services.context import Context
from dynbooks.services.distribute import LOSING_EVENTS
from dynbooks.services.history import naive, record_rows
from dynbooks.services.market import Market, load_market
from dynbooks.services.ownership import Move, apply_moves
from dynbooks.store.schema import account_roles, assignments, events

__all__ = ["Routed", "route_now", "segment_for", "segments_of"]


@dataclass(frozen=True)
class Routed:
    account_id: str
    role: str
    rep_id: str
    rule: str
    over_capacity: bool
    bumped: str | None


def segment_for(market: Market, i: int, rule: BookRule) -> str | None:
    """The first segment (in config order) whose filter the account matches, else the remainder."""
    for segment in rule.segments:
        if market.matches(segment.filter)[i]:
            return segment.name
    return None


def segments_of(market: Market, rule: BookRule) -> npt.NDArray[np.object_]:
    """``segment_for`` of every account of the market at once (``None`` for the remainder)."""
    out = np.full(market.n, None, dtype=object)
    todo = np.ones(market.n, dtype=bool)
    for segment in rule.segments:
        hit = todo & market.matches(segment.filter)
        out[hit] = segment.name
        todo &= ~hit
    return out


def _rotation(conn: Connection, reps: list[Rep], event_type: str, reason: str) -> list[Rep]:
    # Every rep's last one, from the (type, reason, rep_id, seq) index: few rows, no list of rep ids to bind.
    by_id = {r.rep_id: r for r in reps}
    last = {
        rep_id: seq for rep_id, seq in conn.execute(
            select(events.c.rep_id, func.max(events.c.seq))
            .where(events.c.type == event_type, events.c.reason == reason)
            .group_by(events.c.rep_id)
        ) if rep_id in by_id
    }
    return [by_id[r] for r in round_robin(list(by_id), last)]


ASK_ONE_BY_ONE = 3
"""Reps asked one book at a time before the rest are counted together."""


def _first_with_room(conn: Connection, ctx: Context, order: list[Rep], role: str, rule_of: dict[str, BookRule],
                     market: Market, i: int) -> Rep | None:
    """The first rep in round-robin order with room for account ``i`` in its segment, or None.

    Usually the first asked has room: the first few books are counted one at a time (one index range
    each). When they are full, so are most (after a cycle every book is), and asking the others one by
    one cost a statement per rep (~80 ms at 200 reps): their books are counted in one grouped query."""
    def room(rep: Rep, counts: dict[tuple[str, str | None], int]) -> int:
        rule = rule_of[rep.book_rule]
        return free_capacity(rep, rule, counts, ctx.now.day).get(segment_for(market, i, rule), 0)

    for rep in order[:ASK_ONE_BY_ONE]:
        if room(rep, book_counts(conn, role, [rep.rep_id])) > 0:
            return rep
    rest = order[ASK_ONE_BY_ONE:]
    counts = book_counts(conn, role, [r.rep_id for r in rest]) if rest else {}
    return next((r for r in rest if room(r, counts) > 0), None)


def _cooled(conn: Connection, ctx: Context, account_id: str, role: str, rules: dict[str, BookRule]) -> set[str]:
    longest = max(r.cooldown_days for r in rules.values())
    since = naive(ctx.now.stamp) - timedelta(days=longest)
    rows = conn.execute(
        select(events.c.rep_id, events.c.at, events.c.rule).where(
            events.c.account_id == account_id, events.c.role == role, events.c.type.in_(LOSING_EVENTS),
            events.c.at >= since,
        )
    )
    cooled = set()
    for rep_id, at, rule in rows:
        days = rules[rule].cooldown_days if rule in rules else longest
        if (ctx.now.day - at.date()).days < days:
            cooled.add(rep_id)
    return cooled


def route_now(
    conn: Connection,
    ctx: Context,
    account_id: str,
    role: str,
    rules: list[BookRule],
    *,
    event_type: str,
    reason: str,
    market: Market | None = None,
) -> Routed | None:
    """Give the account (in the pool for ``role``) to one rep of ``rules`` now; None if no rep is available."""
    market = market or load_market(conn, ctx.config, ctx.now, only=[account_id])
    i = market.index[account_id]
    rule_of = {r.name: r for r in rules}
    cooled = _cooled(conn, ctx, account_id, role, rule_of)
    reps = [r for r in load_reps(conn, role) if r.book_rule in rule_of and r.available(ctx.now.day)
            and r.rep_id not in cooled]
    if not reps:
        return None
    order = _rotation(conn, reps, event_type, reason)
    chosen = _first_with_room(conn, ctx, order, role, rule_of, market, i)
    bumped: str | None = None
    over = False
    if chosen is None:
        chosen = order[0]
        if ctx.config.routing.when_full == "swap":
            bumped = _bump(conn, ctx, chosen, role, segment_for(market, i, rule_of[chosen.book_rule]))
        over = bumped is None
    rule = rule_of[chosen.book_rule]
    segment = segment_for(market, i, rule)
    _assign(conn, ctx, account_id, role, chosen.rep_id, rule.name, segment, event_type, reason, over,
            float(market.priority[i]), bumped)
    return Routed(account_id, role, chosen.rep_id, rule.name, over, bumped)


def _bump(conn: Connection, ctx: Context, rep: Rep, role: str, segment: str | None) -> str | None:
    """Push out the rep's lowest-priority account with no meaningful activity since it was assigned, from
    the segment the incoming account takes room in (capacity is per segment: a victim from another one
    would leave this one over capacity)."""
    candidates = list(conn.execute(
        select(account_roles.c.account_id, account_roles.c.rule).where(
            account_roles.c.rep_id == rep.rep_id, account_roles.c.role == role, account_roles.c.state == "owned",
            account_roles.c.last_activity_at.is_(None),
            account_roles.c.segment.is_(None) if segment is None else account_roles.c.segment == segment,
        )
    ))
    if not candidates:
        return None
    market = load_market(conn, ctx.config, ctx.now, only=[a for a, _ in candidates])
    victim = swap_victim([str(a) for a in market.ids], market.priority.tolist())
    if victim is None:
        return None
    rule = dict(candidates)[victim]
    apply_moves(conn, ctx, [Move(victim, role, "owned", "pool", "bumped", "hand_raise_swap", rep_id=rep.rep_id,
                                 rule=rule)])
    return victim


def _assign(
    conn: Connection, ctx: Context, account_id: str, role: str, rep_id: str, rule: str, segment: str | None,
    event_type: str, reason: str, over: bool, priority: float, bumped: str | None,
) -> None:
    stamp = naive(ctx.now.stamp)
    conn.execute(insert(account_roles).values(
        account_id=account_id, role=role, state="owned", rep_id=rep_id, rule=rule, segment=segment, since=stamp,
        reason=reason, assigned_at=stamp, worked_at=stamp, over_capacity=over,
    ))
    conn.execute(insert(assignments).values(
        account_id=account_id, role=role, rep_id=rep_id, rule=rule, segment=segment, assigned_at=stamp,
        priority=priority, how=reason,
    ))
    record_rows(conn, [{
        "at": stamp, "type": event_type, "account_id": account_id, "role": role, "rep_id": rep_id, "reason": reason,
        "rule": rule, "before": "pool", "after": "owned", "actor": ctx.actor,
        "data": {"over_capacity": over, "bumped": bumped, "segment": segment,
                 "explanation": f"routed at once ({reason}) to {rep_id} in {rule}, round robin"
                 + (" over capacity" if over else "") + (f", bumping {bumped}" if bumped else "")},
    }])
