"""Rebuilding the current state from the event history alone (SPEC §2: "current state must always equal
what the events say").

:func:`replay` reads the events in ``seq`` order and folds them into the state they describe: per
(account, role) the state (``pool owned resting review``; retired and held live on the account) and the
owner, and per account its status (``active retired held``). While folding it checks that every event
leaves the state the history says the account was in (its ``before``): an event lost, applied twice or
out of order shows up there. :func:`compare` sets the replay against the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from dynbooks.store.schema import account_roles, accounts, assignments, events

__all__ = ["Replayed", "compare", "replay"]

ROWED = frozenset({"owned", "resting", "review"})
_STATUS_AFTER = {"retired": "retired", "held": "held", "reactivated": "active", "unheld": "active"}


@dataclass
class Replayed:
    """What the events say: ``roles[(account, role)] = (state, owner)`` for rowed states only,
    ``status[account]`` for accounts whose status an event changed, and the inconsistencies found."""

    roles: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    events: int = 0


def replay(conn: Connection) -> Replayed:
    """Fold the whole history, in ``seq`` order, into the state it describes."""
    out = Replayed()
    query = select(events.c.seq, events.c.type, events.c.account_id, events.c.role, events.c.rep_id,
                   events.c.before, events.c.after).order_by(events.c.seq)
    for seq, kind, account_id, role, rep_id, before, after in conn.execute(query):
        out.events += 1
        if kind in _STATUS_AFTER:
            out.status[account_id] = _STATUS_AFTER[kind]
        if role is None or after is None:
            continue
        key = (account_id, role)
        current = out.roles.get(key, ("pool", None))[0]
        if before is not None and _rowed(before) != current:
            out.problems.append(f"event {seq} ({kind} {account_id}/{role}) leaves {before}, "
                                f"but the history has it {current}")
        if after in ROWED:
            out.roles[key] = (after, rep_id if after == "owned" else None)
        else:
            out.roles.pop(key, None)
    return out


def _rowed(state: str) -> str:
    """Retired and held are account-wide: per role they are "no row", like the pool."""
    return state if state in ROWED else "pool"


def compare(conn: Connection) -> list[str]:
    """Every difference between the tables and what the events say (empty when they agree): per-role
    rows, account statuses, and the assignment ledger's open spans against the owned rows."""
    replayed = replay(conn)
    problems = list(replayed.problems)
    stored = {(r.account_id, r.role): (r.state, r.rep_id if r.state == "owned" else None)
              for r in conn.execute(select(account_roles.c.account_id, account_roles.c.role, account_roles.c.state,
                                           account_roles.c.rep_id))}
    for key in sorted(set(stored) | set(replayed.roles)):
        if stored.get(key) != replayed.roles.get(key):
            problems.append(f"{key[0]}/{key[1]}: table has {stored.get(key)}, events say {replayed.roles.get(key)}")
    for account_id, status in conn.execute(select(accounts.c.account_id, accounts.c.status)):
        said = replayed.status.get(account_id, "active")
        if said != status:
            problems.append(f"{account_id}: status {status}, events say {said}")
    open_spans: dict[tuple[str, str], list[str]] = {}
    for a, role, rep in conn.execute(select(assignments.c.account_id, assignments.c.role, assignments.c.rep_id)
                                     .where(assignments.c.ended_at.is_(None))):
        open_spans.setdefault((a, role), []).append(rep)
    owned = {k: [v[1]] for k, v in stored.items() if v[0] == "owned"}
    for key in sorted(set(open_spans) | set(owned)):
        if open_spans.get(key) != owned.get(key):
            problems.append(f"{key[0]}/{key[1]}: open ledger spans {open_spans.get(key)}, owner {owned.get(key)}")
    return problems
