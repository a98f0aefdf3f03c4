"""Read use cases: a rep's book, the ready pool, explain, history and the exports (SPEC §9)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, select

from dynbooks.domain.clock import day_number
from dynbooks.domain.errors import NotFound
from dynbooks.domain.retrieval import idle_days, warn_due
from dynbooks.domain.scoring import priorities
from dynbooks.services.books import rules_of_role
from dynbooks.services.cache import Timed
from dynbooks.services.context import Context
from dynbooks.services.distribute import eligibility, taken_mask
from dynbooks.services.market import load_market
from dynbooks.store.queries import live_signals
from dynbooks.store.schema import account_roles, accounts, assignments, events, reps, signals

__all__ = ["book", "book_timed", "explain", "export_owners", "export_state", "history", "pool"]

NEW_DAYS = 7


def book(ctx: Context, rep_id: str) -> dict[str, Any]:
    """The rep's accounts, best first, with the new ones and the ones about to be retrieved marked."""
    return book_timed(ctx, rep_id).value


def book_timed(ctx: Context, rep_id: str) -> Timed[dict[str, Any]]:
    """:func:`book`, with the instant until which the clock alone leaves it unchanged (for the page cache):
    the next midnight (day counts move) or the next start or expiry of a signal of the book's accounts.

    Indexed queries (the rep's owned rows with each account's name and fit score; the live signals of those
    accounts; the next start and expiry among their signals), the priority by the one formula
    (:func:`dynbooks.domain.scoring.priorities`) and the retrieval clock once per book rule, not per account.
    """
    ar = account_roles.c
    mine = and_(ar.rep_id == rep_id, ar.state == "owned")
    with ctx.reading() as conn:
        rep = conn.execute(select(reps.c.name, reps.c.book_rule, reps.c.active, reps.c.unavailable_until)
                           .where(reps.c.rep_id == rep_id)).first()
        if rep is None:
            raise NotFound(f"rep {rep_id!r} does not exist")
        rows = conn.execute(
            select(ar.account_id, ar.role, ar.rule, ar.segment, ar.assigned_at, ar.worked_at, ar.over_capacity,
                   accounts.c.name, accounts.c.fit_score)
            .join(accounts, accounts.c.account_id == ar.account_id).where(mine)
        ).all()
        live = conn.execute(
            select(signals.c.account_id, signals.c.strength, signals.c.occurred_at)
            .where(live_signals(ctx.now), signals.c.account_id.in_(select(ar.account_id).where(mine)))
        ).all()
        # The next instant a signal of these accounts starts or expires: the clock alone changes the book then.
        horizon = ctx.now.horizon.replace(tzinfo=None)
        changes = conn.execute(
            select(*(func.min(case((column > horizon, column))) for column in (signals.c.occurred_at,
                                                                               signals.c.expires_at)))
            .where(signals.c.account_id.in_(select(ar.account_id).where(mine)))
        ).one()
    midnight = datetime.combine(ctx.now.day + timedelta(days=1), time(0))
    valid_until = min([midnight, *(c for c in changes if c is not None)]).replace(tzinfo=UTC)
    n = len(rows)
    today = day_number(ctx.now.day)
    # Priority per account (an account the rep owns in two roles is listed twice, scored once).
    ids = sorted({r.account_id for r in rows})
    slot = {a: k for k, a in enumerate(ids)}
    fit = np.full(len(ids), np.nan, dtype=np.float64)
    for r in rows:
        if r.fit_score is not None:
            fit[slot[r.account_id]] = r.fit_score
    priority = priorities(
        fit,
        np.array([slot[s.account_id] for s in live], dtype=np.int64),
        np.array([s.strength for s in live], dtype=np.float64),
        np.array([max(0, today - day_number(s.occurred_at.date())) for s in live], dtype=np.int64),
        ctx.config.scoring.timing_half_life_days,
    ).tolist()
    assigned = np.array([day_number(r.assigned_at.date()) for r in rows], dtype=np.int64)
    worked = np.array([day_number(r.worked_at.date()) for r in rows], dtype=np.int64)
    away = np.full(n, -1 if rep.unavailable_until is None else day_number(rep.unavailable_until), dtype=np.int64)
    idle = idle_days(worked, away, today)
    # The retrieval rule differs per book rule: each rule's rows at once.
    left = np.zeros(n, dtype=np.int64)
    known = np.zeros(n, dtype=bool)
    warning = np.zeros(n, dtype=bool)
    rule_names = np.array([r.rule or "" for r in rows], dtype=object)
    for name in set(rule_names.tolist()):
        rule = ctx.config.rules.get(name)
        if rule is None:
            continue
        these = rule_names == name
        known[these] = True
        left[these] = rule.retrieve_after_days - idle[these]
        warning[these] = warn_due(worked[these], away[these], today, rule.retrieve_after_days, rule.warn_days)
    assigned_iso = (np.datetime64("1970-01-01") + assigned).astype(str)
    new = (today - assigned) < NEW_DAYS
    out = [{
        "account_id": r.account_id, "name": r.name, "role": r.role, "rule": r.rule, "segment": r.segment,
        "priority": round(priority[slot[r.account_id]], 6), "assigned": a, "new": is_new, "idle_days": i,
        "retrieve_in_days": d if k else None,
        "warning": w, "over_capacity": bool(r.over_capacity),
    } for r, a, is_new, i, d, k, w in zip(rows, assigned_iso.tolist(), new.tolist(),
                                             idle.tolist(), left.tolist(), known.tolist(), warning.tolist(),
                                             strict=True)]
    out.sort(key=lambda d: (-d["priority"], d["account_id"]))
    return Timed({"rep_id": rep_id, "name": rep.name, "rule": rep.book_rule, "active": rep.active, "size": n,
                  "accounts": out}, valid_until)


def pool(ctx: Context, role: str | None = None, limit: int = 50) -> dict[str, Any]:
    """The ready pool per role: counts and the best ``limit`` accounts in pool order."""
    with ctx.reading() as conn:
        market = load_market(conn, ctx.config, ctx.now)
        base = market.active() & market.enrolled(ctx.config)
        out = []
        for r in ctx.config.roles:
            if role is not None and r != role:
                continue
            rules = rules_of_role(ctx.config, r)
            buckets, eligible = eligibility(ctx.config, market, rules, base & ~taken_mask(conn, market, r))
            ready = np.flatnonzero(eligible.any(axis=1))
            order = ready[np.lexsort((market.ids[ready].astype(str), -np.round(market.priority[ready] * 1e6)))]
            out.append({
                "role": r, "ready": len(ready),
                "by_bucket": {b.label: int(eligible[:, k].sum())
                              for k, b in enumerate(buckets)},
                "top": [{"account_id": str(market.ids[i]), "name": market.columns["name"][i],
                         "priority": round(float(market.priority[i]), 6)} for i in order[:limit]],
            })
    return {"roles": out}


def history(ctx: Context, account_id: str) -> list[dict[str, Any]]:
    with ctx.reading() as conn:
        _exists(conn, account_id)
        rows = conn.execute(select(events).where(events.c.account_id == account_id).order_by(events.c.seq)).all()
    return [
        {"seq": r.seq, "at": r.at.isoformat(), "type": r.type, "role": r.role, "rep_id": r.rep_id, "reason": r.reason,
         "rule": r.rule, "cycle_id": r.cycle_id, "before": r.before, "after": r.after, "actor": r.actor,
         "data": r.data}
        for r in rows
    ]


def _exists(conn: Any, account_id: str) -> Any:
    row = conn.execute(select(accounts).where(accounts.c.account_id == account_id)).first()
    if row is None:
        raise NotFound(f"account {account_id!r} does not exist")
    return row


def explain(ctx: Context, account_id: str) -> dict[str, Any]:
    """Why the account is where it is, per role, in one sentence each."""
    with ctx.reading() as conn:
        account = _exists(conn, account_id)
        market = load_market(conn, ctx.config, ctx.now, only=[account_id])
        i = market.index[account_id]
        rows = {r.role: r for r in conn.execute(select(account_roles).where(account_roles.c.account_id == account_id))}
        last = {}
        for e in conn.execute(select(events).where(events.c.account_id == account_id).order_by(events.c.seq)):
            last[e.role] = e
    priority = float(market.priority[i])
    enrolled = bool(market.enrolled(ctx.config)[0])
    roles = []
    for role in ctx.config.roles:
        row, event = rows.get(role), last.get(role)
        if account.status != "active":
            why = f"{account.status}: out of every book and pool"
            state = account.status
        elif row is not None and row.state == "owned":
            state = "owned"
            detail = (event.data or {}).get("explanation") if event is not None and event.type in (
                "distributed", "handed_off") else None
            why = f"owned by {row.rep_id} in {row.rule} since {row.since.date().isoformat()}" + (
                f" — {detail}" if detail else "")
        elif row is not None and row.state == "resting":
            state = "resting"
            why = f"resting until {row.rest_until.isoformat()} after {row.reason}"
        elif row is not None:
            state = "review"
            why = f"in the review queue ({row.reason})"
        else:
            state = "pool"
            why = _why_not_dealt(ctx, market, role, enrolled, account.duplicate_of)
        roles.append({"role": role, "state": state, "explanation": why})
    return {"account_id": account_id, "name": account.name, "priority": round(priority, 6), "enrolled": enrolled,
            "roles": roles}


def _why_not_dealt(ctx: Context, market: Any, role: str, enrolled: bool, duplicate_of: str | None) -> str:
    if duplicate_of:
        return f"a likely duplicate of {duplicate_of}"
    if not enrolled:
        return "not enrolled: the [enrollment] filter excludes it"
    rules = [r for r in rules_of_role(ctx.config, role) if market.rule_match(r)[0]]
    if not rules:
        return "in the pool, but no book rule of this role matches it"
    ready = [r for r in rules if market.priority[0] >= r.min_priority]
    if not ready:
        return f"in the pool, below min_priority of {', '.join(r.name for r in rules)}"
    return f"ready in the pool for {', '.join(r.name for r in ready)}: not dealt yet (no rep had room for it)"


def export_state(ctx: Context) -> Iterator[list[Any]]:
    """Rows ``account_id,role,state,rep_id,since,rest_until,priority`` for every managed account and role."""
    yield ["account_id", "role", "state", "rep_id", "since", "rest_until", "priority"]
    with ctx.reading() as conn:
        market = load_market(conn, ctx.config, ctx.now)
        enrolled = market.enrolled(ctx.config)
        rows = {(r.account_id, r.role): r for r in conn.execute(select(
            account_roles.c.account_id, account_roles.c.role, account_roles.c.state, account_roles.c.rep_id,
            account_roles.c.since, account_roles.c.rest_until))}
    status = market.columns["status"]
    for i in np.flatnonzero(enrolled):
        a = str(market.ids[i])
        priority = f"{market.priority[i]:.6f}"
        for role in ctx.config.roles:
            row = rows.get((a, role))
            if status[i] != "active":
                yield [a, role, status[i], "", "", "", priority]
            elif row is None:
                yield [a, role, "pool", "", "", "", priority]
            else:
                yield [a, role, row.state, row.rep_id or "", row.since.isoformat(),
                       row.rest_until.isoformat() if row.rest_until else "", priority]


def export_owners(ctx: Context, since_days: int | None = None) -> Iterator[list[Any]]:
    """A Data Loader CSV of current owners (``Id,OwnerId,AssignmentDate``) for the first role, or per role."""
    yield ["Id", "OwnerId", "AssignmentDate", "Role"]
    with ctx.reading() as conn:
        query = select(assignments.c.account_id, assignments.c.rep_id, assignments.c.assigned_at,
                       assignments.c.role).where(assignments.c.ended_at.is_(None))
        if since_days is not None:
            query = query.where(assignments.c.assigned_at >= (ctx.now.stamp - timedelta(days=since_days))
                                .replace(tzinfo=None))
        rows = sorted(conn.execute(query).all())
    for a, rep_id, at, role in rows:
        yield [a, rep_id, at.date().isoformat(), role]

