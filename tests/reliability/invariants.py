"""The invariants of SPEC §2, checked against a database from the outside (shared by the reliability tests).

- one owner per (account, role), and the ledger's open spans agree with the owners;
- no book over capacity, except rows recorded as over capacity (hand-raises) or imported from the CRM;
- the state equals what the event history says, and no event leaves a state the history does not have;
- cooldown: nobody is dealt an account they returned or lost within their rule's ``cooldown_days``;
- rest: no rest is released before its ``rest_until``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select

from dynbooks.domain.capacity import segment_capacity
from dynbooks.domain.rules import Config
from dynbooks.services.rebuild import compare
from dynbooks.store.schema import account_roles, events, reps

LOSING = ("returned", "retrieved", "bumped")
GAINING = ("distributed", "handed_off")


def violations(engine: Engine, config: Config, day: date, capacity_of: set[str] | None = None) -> list[str]:
    """Every broken invariant, as sentences (empty when all hold). ``capacity_of`` limits the capacity check
    to the reps named (those just dealt something): a rep whose capacity shrank since (a later start date
    imported, a smaller target) keeps the book it was dealt."""
    with engine.connect() as conn:
        found = compare(conn)
        found += _capacity(conn, config, day, capacity_of)
        history = conn.execute(select(events.c.seq, events.c.type, events.c.account_id, events.c.role,
                                      events.c.rep_id, events.c.reason, events.c.rule, events.c.at, events.c.data)
                               .order_by(events.c.seq)).all()
        rule_of_rep = dict(conn.execute(select(reps.c.rep_id, reps.c.book_rule)).all())
    found += cooldown_violations(history, config, rule_of_rep)
    found += rest_violations(history)
    return found


def _capacity(conn: Any, config: Config, day: date, only: set[str] | None) -> list[str]:
    counted: dict[tuple[str, str | None], int] = defaultdict(int)
    for rep_id, segment, over, reason in conn.execute(
        select(account_roles.c.rep_id, account_roles.c.segment, account_roles.c.over_capacity, account_roles.c.reason)
        .where(account_roles.c.state == "owned")
    ):
        if not over and reason != "imported":
            counted[(rep_id, segment)] += 1
    problems = []
    for rep_id, book_rule, start in conn.execute(select(reps.c.rep_id, reps.c.book_rule, reps.c.start_date)):
        rule = config.rules.get(book_rule)
        if rule is None or (only is not None and rep_id not in only):
            continue
        for segment, cap in segment_capacity(rule, start, day).items():
            if counted.get((rep_id, segment), 0) > cap:
                problems.append(f"{rep_id} holds {counted[(rep_id, segment)]} in segment {segment}, capacity {cap}")
    return problems


def cooldown_violations(history: list[Any], config: Config, rule_of_rep: dict[str, str]) -> list[str]:
    """A rep dealt an account (not imported from the CRM) it lost within its rule's cooldown."""
    lost: dict[tuple[str, str, str], datetime] = {}
    problems = []
    for e in history:
        if e.role is None or e.rep_id is None:
            continue
        key = (e.account_id, e.role, e.rep_id)
        if e.type in LOSING:
            lost[key] = e.at
        elif e.type in GAINING and e.reason != "imported" and key in lost:
            rule = config.rules.get(rule_of_rep.get(e.rep_id, ""))
            days = rule.cooldown_days if rule else 0
            if (e.at.date() - lost[key].date()).days < days:
                problems.append(f"event {e.seq}: {e.rep_id} dealt {e.account_id}/{e.role} "
                                f"{(e.at.date() - lost[key].date()).days} days after losing it (cooldown {days})")
    return problems


def rest_violations(history: list[Any]) -> list[str]:
    """A rest released by a cycle before its ``rest_until``."""
    problems = []
    for e in history:
        if e.type == "released" and e.data and e.data.get("rest_until"):
            until = date.fromisoformat(e.data["rest_until"])
            if e.at.date() < until:
                problems.append(f"event {e.seq}: {e.account_id}/{e.role} released on {e.at.date()}, "
                                f"rest until {until}")
    return problems
