"""Use case: undo the last cycle (SPEC §8 RevOps: "the cycle history with undo of the last cycle").

Every move the cycle made is reversed and each reversal is an ``undone`` event (with ``data.undoes`` = the
seq of the event it reverses): nothing of the history is deleted, and the state rebuilt from the events
(:mod:`dynbooks.services.rebuild`) equals the tables afterwards.

- a **distributed** account goes back to the pool; the ledger span the cycle opened is removed (after
  the undo that span never was; the two events keep the audit trail);
- a **retrieved** account goes back to its owner, as it was: the ledger span the retrieval closed is
  reopened, and the row gets back its assignment, segment, over-capacity mark and retrieval clock;
- a **released** rest rests again until its ``rest_until``; a ``get_back_to_me`` release's timing signal
  is taken back.

Refused (exit 5, HTTP 409) when the cycle is not the latest cycle still standing, is already undone, or
when anything touched one of its accounts since: any later event on it (a return, a hand-raise, an
import that moved ownership, a hold or retirement, a later cycle) or a meaningful activity its new owner
logged. A retrieved account whose owner is no longer active is refused too (it would go back to nobody
who works). Takes the cycle lock; ``dry_run`` runs the same code and rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from dynbooks.domain.errors import NotFound, Refused
from dynbooks.domain.lifecycle import check_transition
from dynbooks.services.context import Context
from dynbooks.services.history import naive, record_rows
from dynbooks.services.imports_effects import chunks, touch_worked
from dynbooks.store.schema import account_roles, activities, assignments, cycles, events, reps, signals

__all__ = ["UndoResult", "undo_cycle"]

CYCLE_MOVES = ("released", "retrieved", "distributed")
GAINS = ("distributed", "handed_off")
MAX_DETAILS = 20


@dataclass
class UndoResult:
    cycle_id: str
    dry_run: bool
    reversed: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        counts = {step: sum(1 for r in self.reversed if r["step"] == step) for step in CYCLE_MOVES}
        return {"cycle_id": self.cycle_id, "dry_run": self.dry_run, "undone": True, **counts}

    def changes(self) -> list[dict[str, Any]]:
        """Account by account: the step undone, where the account is now and the rep it left or rejoined."""
        return list(self.reversed)


class _Rollback(Exception):
    pass


def undo_cycle(ctx: Context, cycle_id: str | None = None, *, dry_run: bool = False) -> UndoResult:
    """Undo ``cycle_id`` (default: the latest cycle not undone yet)."""
    result: UndoResult | None = None
    try:
        with ctx.writing(lock=True) as conn:
            target = _target(conn, cycle_id)
            result = UndoResult(cycle_id=target.cycle_id, dry_run=dry_run)
            moves = list(conn.execute(select(events).where(events.c.cycle_id == target.cycle_id,
                                                      events.c.type.in_(CYCLE_MOVES)).order_by(events.c.seq)))
            if moves:
                _check_untouched(conn, ctx, target, moves)
            stamp = naive(ctx.now.stamp)
            rows: list[dict[str, Any]] = []
            rows += _undo_distributed(conn, target.cycle_id, [m for m in moves if m.type == "distributed"])
            rows += _undo_retrieved(conn, ctx, [m for m in moves if m.type == "retrieved"])
            rows += _undo_released(conn, target, [m for m in moves if m.type == "released"])
            for r in rows:
                check_transition("undone", r["before"], r["after"])
            record_rows(conn, [r | {"at": stamp, "type": "undone", "cycle_id": target.cycle_id, "actor": ctx.actor}
                               for r in rows])
            conn.execute(update(cycles).where(cycles.c.cycle_id == target.cycle_id)
                         .values(undone_at=stamp, undone_by=ctx.actor))
            result.reversed = [{"step": r["reason"], "account_id": r["account_id"], "role": r["role"],
                                "rep_id": r["rep_id"], "state": r["after"]} for r in rows]
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    assert result is not None
    return result


def _target(conn: Connection, cycle_id: str | None) -> Any:
    latest = conn.execute(select(cycles).where(cycles.c.undone_at.is_(None))
                          .order_by(cycles.c.number.desc(), cycles.c.started_at.desc()).limit(1)).first()
    if cycle_id is None:
        if latest is None:
            raise Refused("there is no cycle to undo (none has run, or every cycle is undone already)")
        return latest
    row = conn.execute(select(cycles).where(cycles.c.cycle_id == cycle_id)).first()
    if row is None:
        raise NotFound(f"cycle {cycle_id!r} does not exist")
    if row.undone_at is not None:
        raise Refused(f"cycle {cycle_id} was already undone ({row.undone_at:%Y-%m-%d %H:%M}, by {row.undone_by})")
    if latest is not None and latest.cycle_id != row.cycle_id:
        raise Refused(f"cycle {cycle_id} is not the latest cycle ({latest.cycle_id} ran after it): only the latest "
                      "cycle can be undone")
    return row


def _check_untouched(conn: Connection, ctx: Context, target: Any, moves: list[Any]) -> None:
    """Refuse when anything happened to one of the cycle's accounts after the cycle."""
    first = moves[0].seq
    touched = select(events.c.account_id).where(events.c.cycle_id == target.cycle_id,
                                                events.c.type.in_(CYCLE_MOVES))
    # seq > the cycle's first event (not its last): another transaction's events could interleave.
    later = (events.c.seq > first, events.c.account_id.in_(touched),
             or_(events.c.cycle_id.is_(None), events.c.cycle_id != target.cycle_id))
    count = conn.execute(select(func.count()).select_from(events).where(*later)).scalar_one()
    problems = [f"event {e.seq} ({e.at:%Y-%m-%d}): {e.type} {e.account_id}" + (f"/{e.role}" if e.role else "")
                + (f" ({e.reason})" if e.reason else "")
                for e in conn.execute(select(events).where(*later).order_by(events.c.seq).limit(MAX_DETAILS))]
    gained = select(events.c.account_id, events.c.rep_id).where(
        events.c.cycle_id == target.cycle_id, events.c.type == "distributed").subquery()
    worked = conn.execute(
        select(activities.c.account_id, activities.c.rep_id, activities.c.type, activities.c.occurred_at)
        .join(gained, and_(gained.c.account_id == activities.c.account_id, gained.c.rep_id == activities.c.rep_id))
        .where(activities.c.occurred_at >= target.started_at,
               activities.c.type.in_(ctx.config.activity.meaningful_types))
        .order_by(activities.c.occurred_at, activities.c.account_id).limit(MAX_DETAILS)).all()
    problems += [f"{w.rep_id} worked {w.account_id} ({w.type}, {w.occurred_at:%Y-%m-%d})" for w in worked]
    owners = sorted({m.rep_id for m in moves if m.type == "retrieved"})
    gone = conn.execute(select(reps.c.rep_id).where(reps.c.rep_id.in_(owners), reps.c.active.is_(False))
                        .order_by(reps.c.rep_id)).scalars().all() if owners else []
    problems += [f"{rep} owned accounts the cycle retrieved and is no longer active" for rep in gone]
    if problems:
        what = f"{count} later event{'s' if count != 1 else ''}" if count else "activity or inactive owners"
        raise Refused(f"cannot undo cycle {target.cycle_id}: its accounts changed since ({what}); "
                      "only a cycle nothing has touched since can be undone", problems)


def _undo_distributed(conn: Connection, cycle_id: str, moves: list[Any]) -> list[dict[str, Any]]:
    """Owned → pool: the row goes, and so does the ledger span the cycle opened."""
    if not moves:
        return []
    ar = account_roles
    conn.execute(delete(ar).where(ar.c.account_id == bindparam("a"), ar.c.role == bindparam("r"),
                                  ar.c.state == "owned", ar.c.rep_id == bindparam("rep")),
                 [{"a": m.account_id, "r": m.role, "rep": m.rep_id} for m in moves])
    conn.execute(delete(assignments).where(assignments.c.cycle_id == cycle_id, assignments.c.ended_at.is_(None)))
    return [{"account_id": m.account_id, "role": m.role, "rep_id": m.rep_id, "reason": "distributed",
             "rule": m.rule, "before": "owned", "after": "pool", "data": {"undoes": m.seq}} for m in moves]


def _undo_retrieved(conn: Connection, ctx: Context, moves: list[Any]) -> list[dict[str, Any]]:
    """Resting → owned by the rep it was retrieved from, with the span the retrieval closed reopened."""
    if not moves:
        return []
    asg = assignments.c
    spans: dict[tuple[Any, ...], Any] = {}
    over: dict[tuple[str, str], bool] = {}
    ids = sorted({m.account_id for m in moves})
    for chunk in chunks(ids):
        for s in conn.execute(select(assignments).where(asg.account_id.in_(chunk), asg.end_reason == "retrieved")
                              .order_by(asg.id)):
            spans[(s.account_id, s.role, s.rep_id, s.ended_at)] = s
        # The over-capacity mark is not on the ledger: it is in the data of the event that dealt the account.
        for e in conn.execute(select(events.c.account_id, events.c.role, events.c.data).where(
                events.c.account_id.in_(chunk), events.c.type.in_(GAINS)).order_by(events.c.seq)):
            over[(e.account_id, e.role)] = bool((e.data or {}).get("over_capacity"))
    restored: list[dict[str, Any]] = []
    reopened: list[dict[str, Any]] = []
    for m in moves:
        span = spans.get((m.account_id, m.role, m.rep_id, m.at))
        if span is None:
            raise Refused(f"cannot undo: the ledger has no span of {m.account_id}/{m.role} with {m.rep_id} "
                          f"that the retrieval (event {m.seq}) closed")
        reopened.append({"span": span.id})
        restored.append({"a": m.account_id, "r": m.role, "rep": m.rep_id, "b_rule": span.rule,
                         "b_segment": span.segment, "b_reason": span.how, "b_at": span.assigned_at,
                         "over": over.get((m.account_id, m.role), False), "cycle": span.cycle_id})
    conn.execute(update(assignments).where(asg.id == bindparam("span")).values(ended_at=None, end_reason=None),
                 reopened)
    ar = account_roles
    conn.execute(update(ar).where(ar.c.account_id == bindparam("a"), ar.c.role == bindparam("r"),
                                  ar.c.state == "resting")
                 .values(state="owned", rep_id=bindparam("rep"), rule=bindparam("b_rule"),
                         segment=bindparam("b_segment"), since=bindparam("b_at"), rest_until=None,
                         reason=bindparam("b_reason"), assigned_at=bindparam("b_at"), worked_at=bindparam("b_at"),
                         over_capacity=bindparam("over"), cycle_id=bindparam("cycle")),
                 restored)
    touch_worked(conn, ctx, ids)  # the retrieval clock, by the one rule that sets it
    return [{"account_id": m.account_id, "role": m.role, "rep_id": m.rep_id, "reason": "retrieved",
             "rule": m.rule, "before": "resting", "after": "owned", "data": {"undoes": m.seq}} for m in moves]


def _undo_released(conn: Connection, target: Any, moves: list[Any]) -> list[dict[str, Any]]:
    """Pool → resting again until the same ``rest_until``, since the day the rest began."""
    if not moves:
        return []
    began: dict[tuple[str, str], datetime] = {}
    for chunk in chunks(sorted({m.account_id for m in moves})):
        for e in conn.execute(select(events.c.account_id, events.c.role, events.c.at).where(
                events.c.account_id.in_(chunk), events.c.after == "resting",
                events.c.seq < moves[0].seq).order_by(events.c.seq)):
            began[(e.account_id, e.role)] = e.at
    rows = [{"account_id": m.account_id, "role": m.role, "state": "resting", "rule": m.rule, "reason": m.reason,
             "rest_until": date.fromisoformat((m.data or {})["rest_until"]),
             "since": began.get((m.account_id, m.role), m.at)} for m in moves]
    conn.execute(insert(account_roles), rows)
    boosted = [f"gbtm:{m.account_id}:{target.as_of.date().isoformat()}" for m in moves if m.reason == "get_back_to_me"]
    for chunk in chunks(boosted):
        conn.execute(delete(signals).where(signals.c.signal_id.in_(chunk)))
    return [{"account_id": m.account_id, "role": m.role, "rep_id": None, "reason": "released", "rule": m.rule,
             "before": "pool", "after": "resting", "data": {"undoes": m.seq}} for m in moves]
