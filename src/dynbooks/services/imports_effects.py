"""What an import sets in motion, in the import's own transaction (see :mod:`dynbooks.services.imports`)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Column, Connection, Row, Select, Text, bindparam, case, func, select, type_coerce, update

from dynbooks.domain.filters import fields_of
from dynbooks.ingest import ParsedFile
from dynbooks.services.books import rules_of_role
from dynbooks.services.context import Context
from dynbooks.services.distribute import distribute
from dynbooks.services.history import naive
from dynbooks.services.market import STANDARD_NUMBER, Market, load_market
from dynbooks.services.ownership import Move, apply_moves
from dynbooks.services.routing import route_now, segments_of
from dynbooks.store.bulk import insert_columns, secondary_indexes_deferred, stage_keys
from dynbooks.store.schema import account_roles, accounts, activities, assignments, events, reps

CHUNK = 5000
STAGE_ABOVE = 10 * CHUNK
"""Id lists longer than this are joined against a temporary table rather than sent as ``IN`` lists."""
OWNER_PREFIX = "owner_"
EXPLANATION = {"explanation": "owner recorded from the CRM import"}

__all__ = ["by_ids", "chunks", "fill_reps", "flag_duplicates", "record_owners", "route_hand_raises", "touch_worked"]



def chunks(ids: list[str], size: int = CHUNK) -> Iterable[list[str]]:
    """Id lists in slices small enough for one IN (...) on every database."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def by_ids(conn: Connection, query: Select[Any], column: Column[Any], ids: list[str]) -> Iterator[Row[Any]]:
    """The rows of ``query`` whose ``column`` is one of ``ids``.

    Up to ``STAGE_ABOVE`` ids: ``IN (...)`` a chunk at a time. More: nothing at all when ``column``'s table
    is empty (a first import), else one join against the ids staged in a temporary table (thousands of
    ``IN`` lists would each be parsed and planned). Consume the rows before staging other ids.
    """
    if not ids:
        return
    if len(ids) <= STAGE_ABOVE:
        for chunk in chunks(ids):
            yield from conn.execute(query.where(column.in_(chunk)))
        return
    if conn.execute(select(column).limit(1)).first() is None:
        return
    staged = stage_keys(conn, sorted(set(ids)))
    yield from conn.execute(query.join(staged, staged.c.k == column))


def record_owners(conn: Connection, ctx: Context, parsed: ParsedFile) -> int:
    """``owner_<role>`` columns: today's CRM ownership becomes a ``distributed`` event with reason
    ``imported`` (no capacity check: it is what the CRM says, so the audit can show it).

    Worked column by column: the owner rows, their events and ledger rows go to the store as columns."""
    values = parsed.values
    owner_cols = [c for c in values if c.startswith(OWNER_PREFIX)] if parsed.count else []
    wanted: dict[tuple[str, str], str] = {}
    for col in owner_cols:
        role, named = col.removeprefix(OWNER_PREFIX), values[col]
        wanted.update(((a, role), rep_id)
                      for a, rep_id in itertools.compress(zip(values["account_id"], named, strict=True), named))
    if not wanted:
        return 0
    current: dict[tuple[str, str], Any] = {
        (r.account_id, r.role): r
        for r in by_ids(conn, select(account_roles), account_roles.c.account_id, list({a for a, _ in wanted}))
    }
    rule_of_rep = dict(conn.execute(select(reps.c.rep_id, reps.c.book_rule)).all())
    todo = wanted if not current else {
        k: rep for k, rep in wanted.items() if not (k in current and current[k].rep_id == rep)}
    if not todo:
        return 0
    keys = sorted(todo)
    if current:
        apply_moves(conn, ctx, [
            Move(a, role, current[(a, role)].state, "pool", "unassigned", "imported",
                 rep_id=current[(a, role)].rep_id, rule=current[(a, role)].rule)
            for (a, role) in keys if (a, role) in current
        ])
    n, stamp = len(keys), naive(ctx.now.stamp)
    ids, roles = [a for a, _ in keys], [role for _, role in keys]
    owners = list(map(todo.__getitem__, keys))
    rules = list(map(rule_of_rep.__getitem__, owners))
    owned: dict[str, list[str]] = {}
    for a, rule in zip(ids, rules, strict=True):
        owned.setdefault(rule, []).append(a)
    segment_of = _segments(conn, ctx, owned)
    segments = [segment_of[rule][a] for rule, a in zip(rules, ids, strict=True)]
    at, imported = [stamp] * n, ["imported"] * n
    with secondary_indexes_deferred(conn, account_roles, n):
        insert_columns(conn, account_roles, [
            "account_id", "role", "state", "rep_id", "rule", "segment", "since", "reason", "assigned_at",
            "worked_at", "over_capacity",
        ], [ids, roles, ["owned"] * n, owners, rules, segments, at, imported, at, at, [False] * n])
    with secondary_indexes_deferred(conn, events, n):
        insert_columns(conn, events, [  # the rows record_rows would write, as columns
            "at", "type", "account_id", "role", "rep_id", "reason", "rule", "before", "after", "actor", "data",
        ], [at, ["distributed"] * n, ids, roles, owners, imported, rules, ["pool"] * n, ["owned"] * n,
            [ctx.actor] * n, [EXPLANATION] * n])
    with secondary_indexes_deferred(conn, assignments, n):
        insert_columns(conn, assignments, ["account_id", "role", "rep_id", "rule", "segment", "assigned_at", "how"],
                       [ids, roles, owners, rules, segments, at, imported])
    # The retrieval clock: with no activity stored at all, worked_at is the assignment, as written above.
    if conn.execute(select(activities.c.activity_id).limit(1)).first() is not None:
        touch_worked(conn, ctx, set(ids))
    return n


def _segments(conn: Connection, ctx: Context, owned: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """Rule name → account id → the segment the account falls in (see ``segments_of``), for the accounts
    ``owned`` in each rule. A rule without segments puts every account in none (``None``) without reading
    anything; for the others only the columns their segment filters read are loaded."""
    out: dict[str, dict[str, Any]] = {}
    for name, account_ids in owned.items():
        rule = ctx.config.rules[name]
        if not rule.segments:
            out[name] = dict.fromkeys(account_ids)
            continue
        fields = set().union(*(fields_of(segment.filter) for segment in rule.segments))
        market = _segment_market(conn, sorted(set(account_ids)), fields)
        out[name] = dict(zip(market.ids.tolist(), segments_of(market, rule).tolist(), strict=True))
    return out


def _segment_market(conn: Connection, account_ids: list[str], fields: set[str]) -> Market:
    """The stored accounts ``account_ids`` with the columns ``fields`` only, typed as ``load_market`` types
    them (numbers float64 with NaN for missing, ``is_customer`` bool, the rest objects with ``None``; a field
    that is no column is read from ``custom``), read by ``by_ids`` (one join against the staged ids for a
    large import, not ``IN`` lists of thousands of literals); priorities are not computed (zero)."""
    standard = sorted(f for f in fields if f in accounts.c and f != "custom")
    custom = sorted(fields - set(standard))
    # ``custom`` as the driver gives it (JSON text on SQLite), decoded once per distinct text below.
    extra = [type_coerce(accounts.c.custom, Text)] if custom else []
    query = select(accounts.c.account_id, *(accounts.c[f] for f in standard), *extra)
    rows = sorted(by_ids(conn, query, accounts.c.account_id, account_ids), key=itemgetter(0))
    values = list(zip(*rows, strict=True)) if rows else [() for _ in range(1 + len(standard) + bool(custom))]
    columns: dict[str, np.ndarray] = {}
    for name, column in zip(standard, values[1:], strict=False):
        kind = bool if name == "is_customer" else np.float64 if name in STANDARD_NUMBER else object
        columns[name] = np.array(column, dtype=kind)
    if custom:
        texts = values[-1]
        decoded = {t: json.loads(t) for t in {t for t in texts if isinstance(t, str)}}
        dicts = [decoded.get(t, t) if isinstance(t, str) else t for t in texts]  # PostgreSQL's driver decodes
        for name in custom:
            columns[name] = np.array([(c or {}).get(name) for c in dicts], dtype=object)
    n = len(rows)
    return Market(ids=np.array(values[0], dtype=object), columns=columns, priority=np.zeros(n), tiebreak=np.zeros(n))


def flag_duplicates(conn: Connection, ctx: Context) -> int:
    """Accounts whose normalised domain another active account already has go to the review queue
    (reason ``duplicate``) instead of being dealt twice; the first by id (owned first) stays."""
    # Domains held twice by any account (read from the domain index alone), then their active members: a
    # domain held twice but active once is no group.
    groups = conn.execute(
        select(accounts.c.domain).where(accounts.c.domain.is_not(None)).group_by(accounts.c.domain)
        .having(func.count() > 1)
    ).scalars().all()
    if not groups:
        return 0
    members: dict[str, list[tuple[str, str | None]]] = {}
    for chunk in chunks(sorted(groups)):
        for a, domain, dup in conn.execute(select(accounts.c.account_id, accounts.c.domain, accounts.c.duplicate_of)
                                           .where(accounts.c.domain.in_(chunk), accounts.c.status == "active")):
            members.setdefault(domain, []).append((a, dup))
    members = {domain: items for domain, items in members.items() if len(items) > 1}
    owned = {r.account_id for r in by_ids(
        conn, select(account_roles.c.account_id).where(account_roles.c.state == "owned"), account_roles.c.account_id,
        sorted({a for items in members.values() for a, _ in items}))}
    flagged: list[tuple[str, str]] = []
    for items in members.values():
        ordered = sorted(items, key=lambda x: (x[0] not in owned, x[0]))
        keeper = ordered[0][0]
        flagged += [(a, keeper) for a, dup in ordered[1:] if dup is None and a not in owned]
    if not flagged:
        return 0
    conn.execute(update(accounts).where(accounts.c.account_id == bindparam("a")).values(duplicate_of=bindparam("k")),
                 [{"a": a, "k": k} for a, k in flagged])
    rows = {(r.account_id, r.role) for r in by_ids(conn, select(account_roles.c.account_id, account_roles.c.role),
                                                   account_roles.c.account_id, [a for a, _ in flagged])}
    apply_moves(conn, ctx, [
        Move(a, role, "pool", "review", "flagged", "duplicate", data={"duplicate_of": k})
        for a, k in flagged for role in ctx.config.roles if (a, role) not in rows
    ])
    return len(flagged)


def touch_worked(conn: Connection, ctx: Context, account_ids: Iterable[str]) -> None:
    """Move the retrieval clock of owned rows: ``worked_at`` = the later of the assignment and the owner's
    last meaningful activity at or after it (SPEC §10 Retrieval). An activity is a CRM fact: it counts
    whatever the import's as-of date, and the cycle compares days."""
    ar, act = account_roles, activities
    last = (
        select(func.max(act.c.occurred_at))
        .where(act.c.account_id == ar.c.account_id, act.c.rep_id == ar.c.rep_id,
               act.c.type.in_(ctx.config.activity.meaningful_types), act.c.occurred_at >= ar.c.assigned_at)
        .scalar_subquery()
    )
    ids = sorted(set(account_ids))
    # Many ids (a large import's owners): one statement over the staged ids, not hundreds of IN lists.
    slices = [select(stage_keys(conn, ids).c.k)] if len(ids) > STAGE_ABOVE else chunks(ids)
    for chunk in slices:
        # One statement: a SET expression reads the row as it was, so worked_at is computed from ``last``
        # itself (NULL, no activity since the assignment, leaves it at the assignment).
        conn.execute(update(ar).where(ar.c.state == "owned", ar.c.account_id.in_(chunk)).values(
            last_activity_at=last, worked_at=case((last > ar.c.assigned_at, last), else_=ar.c.assigned_at)))


def route_hand_raises(conn: Connection, ctx: Context, account_ids: list[str]) -> int:
    """A hand-raise routes the account at once in every role whose rule it matches, from the pool or from
    a rest (the rest ends); an owned account stays with its owner (SPEC §10 Hand-raises)."""
    if not account_ids:
        return 0
    market = load_market(conn, ctx.config, ctx.now, only=account_ids)
    ready = market.active() & market.enrolled(ctx.config)
    routed = 0
    for account_id in account_ids:
        i = market.index.get(account_id)
        if i is None or not ready[i]:
            continue
        for role in ctx.config.roles:
            rules = [r for r in rules_of_role(ctx.config, role) if market.rule_match(r)[i]]
            if not rules:
                continue
            row = conn.execute(select(account_roles.c.state, account_roles.c.rule).where(
                account_roles.c.account_id == account_id, account_roles.c.role == role)).first()
            if row is not None and row.state != "resting":
                continue  # owned: goes to the owner; in review: RevOps first
            if row is not None:
                apply_moves(conn, ctx, [Move(account_id, role, "resting", "pool", "released", "hand_raise",
                                             rule=row.rule)])
            if route_now(conn, ctx, account_id, role, rules, event_type="distributed", reason="hand_raise",
                         market=market):
                routed += 1
    return routed


def fill_reps(conn: Connection, ctx: Context, changed: dict[str, tuple[dict[str, Any] | None, dict[str, Any]]]) -> int:
    """Deactivated reps' books go back to the pool (no rest) and, with new and reactivated reps, the
    rules they belong to are dealt at once (SPEC §4 Headcount)."""
    gone = sorted(k for k, (before, after) in changed.items()
                  if after.get("active") is False and (before is None or before.get("active")))
    fresh = {k for k, (before, after) in changed.items()
             if after.get("active", True) and (before is None or not before.get("active"))}
    if gone:
        rows = conn.execute(select(account_roles.c.account_id, account_roles.c.role, account_roles.c.rep_id,
                                   account_roles.c.rule)
                            .where(account_roles.c.state == "owned", account_roles.c.rep_id.in_(gone))).all()
        apply_moves(conn, ctx, [Move(r.account_id, r.role, "owned", "pool", "unassigned", "deactivated",
                                     rep_id=r.rep_id, rule=r.rule) for r in sorted(rows)])
    rules = {after["book_rule"] for k, (_, after) in changed.items() if k in gone}
    if not fresh and not rules:
        return 0
    targets = fresh | set(conn.execute(select(reps.c.rep_id).where(reps.c.book_rule.in_(sorted(rules)))).scalars())
    return len(distribute(conn, ctx, None, how="headcount", only_reps=targets))
