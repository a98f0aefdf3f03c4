"""Distribution: build the allocation problem from the store, call the pure allocator, write the plan.

Used by the cycle, by a return's replacement (``only_reps``) and by filling new or reactivated reps.
The writes are three bulk inserts in the caller's transaction: the ownership rows, the ``distributed``
events (with the explanation) and the assignment ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Connection, select

from dynbooks.domain.allocate import AllocationProblem, Bucket, Plan, allocate
from dynbooks.domain.rules import BookRule, Config
from dynbooks.services.books import Rep, book_counts, free_capacity, load_reps, rules_of_role
from dynbooks.services.context import Context
from dynbooks.services.history import naive
from dynbooks.services.market import Market, load_pool
from dynbooks.store.bulk import insert_rows
from dynbooks.store.schema import account_roles, assignments, events

__all__ = ["Assignment", "distribute", "eligibility", "taken_mask"]

LOSING_EVENTS = ("returned", "retrieved", "bumped")
CHUNK = 50_000
"""Assignments written per batch of inserts."""


@dataclass(frozen=True, slots=True)  # 280k of them at 5M accounts: no __dict__ each
class Assignment:
    account_id: str
    role: str
    rep_id: str
    rule: str
    segment: str | None
    priority: float
    rank: int
    pick: int
    picks: int
    explanation: str


def taken_mask(conn: Connection, market: Market, role: str) -> np.ndarray:
    """Accounts with a row for ``role`` (owned, resting or in review): not in that role's pool."""
    if market.taken is not None and role in market.taken:
        return market.taken[role]
    taken = np.zeros(market.n, dtype=bool)
    found = conn.execute(select(account_roles.c.account_id).where(account_roles.c.role == role)).scalars().all()
    at = market.positions(found)
    taken[at[at >= 0]] = True
    return taken


def eligibility(config: Config, market: Market, rules: list[BookRule], candidates: np.ndarray) -> tuple[
    list[Bucket], np.ndarray
]:
    """The buckets (rule × segment, plus each rule's remainder) and which candidates each may take.

    An account that matches two segments of a rule may go to either (it counts once); an account that
    matches no segment goes to the remainder (``target_size`` − the segments' sizes).
    """
    buckets: list[Bucket] = []
    masks: list[np.ndarray] = []
    for rule in rules:
        base = candidates & market.rule_match(rule) & (market.priority >= rule.min_priority)
        in_any = np.zeros(market.n, dtype=bool)
        for segment in rule.segments:
            seg_mask = market.matches(segment.filter)
            in_any |= seg_mask
            buckets.append(Bucket(rule.name, segment.name))
            masks.append(base & seg_mask)
        if not rule.segments or rule.segment_sizes()[None] > 0:
            buckets.append(Bucket(rule.name, None))
            masks.append(base & ~in_any)
    eligible = np.column_stack(masks) if masks else np.zeros((market.n, 0), dtype=bool)
    return buckets, eligible


def _cooldown(conn: Connection, ctx: Context, role: str, reps: list[Rep], rule_of: dict[str, BookRule]) -> set[
    tuple[str, str]
]:
    """(account, rep) pairs a rep returned or lost within its rule's ``cooldown_days``."""
    if not reps:
        return set()
    longest = max(rule_of[r.book_rule].cooldown_days for r in reps)
    since = naive(ctx.now.stamp) - timedelta(days=longest)
    query = select(events.c.account_id, events.c.rep_id, events.c.at).where(
        events.c.role == role, events.c.type.in_(LOSING_EVENTS), events.c.at >= since
    )
    by_rep = {r.rep_id: r for r in reps}
    pairs: set[tuple[str, str]] = set()
    for account_id, rep_id, at in conn.execute(query):
        rep = by_rep.get(rep_id)
        if rep is not None and (ctx.now.day - at.date()).days < rule_of[rep.book_rule].cooldown_days:
            pairs.add((account_id, rep_id))
    return pairs


def distribute(
    conn: Connection,
    ctx: Context,
    cycle_id: str | None,
    *,
    how: str = "cycle",
    only_reps: set[str] | None = None,
    market: Market | None = None,
) -> list[Assignment]:
    """Deal the best ready pool accounts to reps with free capacity, in every role; write and return them."""
    config = ctx.config
    market = market or load_pool(conn, config, ctx.now)
    ready_base = market.active() & market.enrolled(config)
    made: list[Assignment] = []
    for role in config.roles:
        rules = rules_of_role(config, role)
        rule_of = {r.name: r for r in rules}
        reps = [r for r in load_reps(conn, role) if r.book_rule in rule_of]
        if only_reps is not None:
            reps = [r for r in reps if r.rep_id in only_reps]
        if not reps:
            continue
        candidates = ready_base & ~taken_mask(conn, market, role)
        buckets, eligible = eligibility(config, market, rules, candidates)
        counts = book_counts(conn, role, None if only_reps is None else [r.rep_id for r in reps])
        capacity = np.zeros((len(reps), len(buckets)), dtype=np.int64)
        for i, rep in enumerate(reps):
            free = free_capacity(rep, rule_of[rep.book_rule], counts, ctx.now.day)
            for b, bucket in enumerate(buckets):
                if bucket.rule == rep.book_rule:
                    capacity[i, b] = free.get(bucket.segment, 0)
        keep = np.flatnonzero(eligible.any(axis=1))
        if len(keep) == 0 or capacity.sum() == 0:
            continue
        plan, problem = _solve(conn, ctx, role, market, keep, eligible[keep], buckets, reps, capacity, rule_of)
        made.extend(_write(conn, ctx, role, cycle_id, how, problem, plan))
    return made


def _solve(
    conn: Connection,
    ctx: Context,
    role: str,
    market: Market,
    keep: np.ndarray,
    eligible: np.ndarray,
    buckets: list[Bucket],
    reps: list[Rep],
    capacity: np.ndarray,
    rule_of: dict[str, BookRule],
) -> tuple[Plan, AllocationProblem]:
    ids = market.ids[keep]
    keys = market.keys[keep]  # sorted: the market is in id order and ``keep`` increasing
    rep_index = {r.rep_id: i for i, r in enumerate(reps)}
    found = [(a, rep_index[r]) for a, r in _cooldown(conn, ctx, role, reps, rule_of) if r in rep_index]
    pairs: list[tuple[int, int]] = []
    if found and len(keys):
        wanted = np.array([a for a, _ in found], dtype=str)
        at = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
        hit = keys[at] == wanted
        pairs = [(int(at[k]), r) for k, (_, r) in enumerate(found) if hit[k]]
    problem = AllocationProblem(
        account_ids=ids,
        priority=market.priority[keep],
        tiebreak=market.tiebreak[:, keep],
        eligible=eligible,
        buckets=tuple(buckets),
        rep_ids=np.array([r.rep_id for r in reps], dtype=object),
        capacity=capacity,
        cooldown_accounts=np.array([p[0] for p in pairs], dtype=np.int64),
        cooldown_reps=np.array([p[1] for p in pairs], dtype=np.int64),
    )
    return allocate(problem), problem


def _write(
    conn: Connection, ctx: Context, role: str, cycle_id: str | None, how: str, problem: AllocationProblem, plan: Plan
) -> list[Assignment]:
    """The plan's rows as three bulk inserts, built column by column (no dict per row)."""
    if len(plan.account) == 0:
        return []
    stamp = naive(ctx.now.stamp)
    account_ids = [str(a) for a in problem.account_ids[plan.account].tolist()]
    rep_ids = [str(r) for r in problem.rep_ids[plan.rep].tolist()]
    rules = [b.rule for b in problem.buckets]
    segments = [b.segment for b in problem.buckets]
    made = [
        Assignment(a, role, r, rules[b], segments[b], priority, rank, pick, picks, why)
        for a, r, b, priority, rank, pick, picks, why in zip(
            account_ids, rep_ids, plan.bucket.tolist(), plan.priority.tolist(), plan.rank.tolist(),
            plan.pick.tolist(), plan.picks.tolist(), plan.explanations(problem), strict=True)
    ]
    # In slices, so that the rows built for the driver stay small beside the assignments themselves.
    for start in range(0, len(made), CHUNK):
        _insert(conn, ctx, role, cycle_id, how, stamp, made[start:start + CHUNK])
    return made


def _insert(
    conn: Connection, ctx: Context, role: str, cycle_id: str | None, how: str, stamp: datetime, made: list[Assignment]
) -> None:
    insert_rows(conn, account_roles, (
        "account_id", "role", "state", "rep_id", "rule", "segment", "since", "rest_until", "reason", "assigned_at",
        "worked_at", "last_activity_at", "over_capacity", "cycle_id"), [
        (a.account_id, role, "owned", a.rep_id, a.rule, a.segment, stamp, None, how, stamp, stamp, None, False,
         cycle_id) for a in made])
    insert_rows(conn, events, (
        "at", "type", "account_id", "role", "rep_id", "reason", "rule", "cycle_id", "before", "after", "actor",
        "data"), [
        (stamp, "distributed", a.account_id, role, a.rep_id, how, a.rule, cycle_id, "pool", "owned", ctx.actor,
         {"segment": a.segment, "priority": round(a.priority, 6), "rank": a.rank, "pick": a.pick, "picks": a.picks,
          "explanation": a.explanation}) for a in made])
    insert_rows(conn, assignments, (
        "account_id", "role", "rep_id", "rule", "segment", "assigned_at", "cycle_id", "priority", "rank", "pick",
        "picks", "how"), [
        (a.account_id, role, a.rep_id, a.rule, a.segment, stamp, cycle_id, a.priority, a.rank, a.pick, a.picks, how)
        for a in made])
