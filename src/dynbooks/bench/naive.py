"""The baseline: the same cycle done the naive way, as CRMs' assignment scripts often do it.

ORM objects for every account and owned row, a Python loop per account, a commit per row:

1. release: each resting row whose rest has ended is deleted (commit);
2. retrieve: each owned row not worked for its rule's ``retrieve_after_days`` becomes resting, its
   ledger span is closed and an event written (commit);
3. distribute: the pool accounts in priority order (fit score + live signals, no decay), each to the
   least-loaded eligible rep with room (rule filter evaluated per account in Python), an owned row, an
   event and a ledger row (commit).

``expire_on_commit`` is off (with it on, every commit expires the 100k loaded objects and the run had
not finished after 5 minutes). It skips what the real cycle does and costs time (time decay, segments,
cooldowns, fairness across reps), so it is a generous baseline.
Only for ``python -m dynbooks.bench cycle``; never on a real path.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, registry

from dynbooks.domain.rules import BookRule, Config
from dynbooks.store.schema import account_roles, accounts, assignments, events, reps, signals

__all__ = ["naive_cycle"]


class _Row:
    """A mapped row: the columns are set by SQLAlchemy's imperative mapping."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


class Account(_Row):
    account_id: Any
    fit_score: Any
    status: Any
    duplicate_of: Any


class Rep(_Row):
    rep_id: Any
    book_rule: Any
    active: Any


class Role(_Row):
    account_id: Any
    role: Any
    state: Any
    rep_id: Any
    rule: Any
    worked_at: Any
    rest_until: Any


class Event(_Row):
    pass


class Ledger(_Row):
    account_id: Any
    ended_at: Any
    end_reason: Any


class Signal(_Row):
    account_id: Any
    strength: Any


_mapper = registry()
_mapper.map_imperatively(Account, accounts)
_mapper.map_imperatively(Rep, reps)
_mapper.map_imperatively(Role, account_roles)
_mapper.map_imperatively(Event, events)
_mapper.map_imperatively(Ledger, assignments)
_mapper.map_imperatively(Signal, signals)


def _matches(spec: dict[str, Any], account: Account) -> bool:
    for field, cond in spec.items():
        value = getattr(account, field)
        if isinstance(cond, dict):
            for op, bound in cond.items():
                if value is None or not {"lt": value < bound, "gte": value >= bound}[op]:
                    return False
        elif value != cond:
            return False
    return True


def naive_cycle(engine: Engine, config: Config, now: datetime) -> dict[str, int]:
    """Run the naive cycle; returns how many rows each step moved."""
    rules: dict[str, BookRule] = {r.name: r for r in config.book_rule}
    counts = {"released": 0, "retrieved": 0, "distributed": 0}
    with Session(engine, expire_on_commit=False) as session:  # the default would reload every object
        for role in session.query(Role).filter(Role.state == "resting").all():
            if role.rest_until <= now.date():
                session.delete(role)
                session.add(Event(at=now, type="released", account_id=role.account_id, role=role.role,
                                  before="resting", after="pool", actor="naive"))
                session.commit()
                counts["released"] += 1
        for role in session.query(Role).filter(Role.state == "owned").all():
            rule = rules[role.rule]
            if role.worked_at < now - timedelta(days=rule.retrieve_after_days):
                ledger = session.query(Ledger).filter(
                    Ledger.account_id == role.account_id, Ledger.ended_at.is_(None)).first()
                if ledger is not None:
                    ledger.ended_at, ledger.end_reason = now, "retrieved"
                session.add(Event(at=now, type="retrieved", account_id=role.account_id, role=role.role,
                                  rep_id=role.rep_id, before="owned", after="resting", actor="naive"))
                role.state, role.rep_id, role.rest_until = "resting", None, (
                    now + timedelta(days=rule.rest_days)).date()
                session.commit()
                counts["retrieved"] += 1

        taken = {r.account_id for r in session.query(Role).all()}
        load: dict[str, int] = {}
        for r in session.query(Role).filter(Role.state == "owned").all():
            load[r.rep_id] = load.get(r.rep_id, 0) + 1
        team = [r for r in session.query(Rep).all() if r.active]
        boost: dict[str, float] = {}
        for s in session.query(Signal).all():
            boost[s.account_id] = boost.get(s.account_id, 0.0) + s.strength
        pool = [a for a in session.query(Account).all()
                if a.account_id not in taken and a.status == "active" and a.duplicate_of is None
                and _matches(config.enrollment.filter, a)]
        pool.sort(key=lambda a: -((a.fit_score or 0.0) + boost.get(a.account_id, 0.0)))
        for account in pool:
            best: Rep | None = None
            for rep in team:
                rule = rules[rep.book_rule]
                if load.get(rep.rep_id, 0) < rule.target_size and _matches(rule.filter, account) and (
                        best is None or load.get(rep.rep_id, 0) < load.get(best.rep_id, 0)):
                    best = rep
            if best is None:
                continue
            session.add(Role(account_id=account.account_id, role="sdr", state="owned", rep_id=best.rep_id,
                             rule=best.book_rule, since=now, assigned_at=now, worked_at=now, reason="cycle"))
            session.add(Event(at=now, type="distributed", account_id=account.account_id, role="sdr",
                              rep_id=best.rep_id, before="pool", after="owned", actor="naive"))
            session.add(Ledger(account_id=account.account_id, role="sdr", rep_id=best.rep_id, rule=best.book_rule,
                               assigned_at=now, how="cycle"))
            session.commit()
            load[best.rep_id] = load.get(best.rep_id, 0) + 1
            counts["distributed"] += 1
    return counts
