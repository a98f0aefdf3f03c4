"""Reps and their books: who may be dealt what, and how much room each has (SPEC §4, §10 Reps)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, func, select

from dynbooks.domain.capacity import segment_capacity
from dynbooks.domain.rules import BookRule, Config
from dynbooks.store.schema import account_roles, reps

__all__ = ["Rep", "book_counts", "free_capacity", "load_reps"]


@dataclass(frozen=True)
class Rep:
    rep_id: str
    name: str
    role: str
    book_rule: str
    team: str | None
    manager: str | None
    start_date: date | None
    active: bool
    unavailable_until: date | None

    def available(self, day: date) -> bool:
        """Active and not away: an away rep gets nothing new until ``unavailable_until``."""
        return self.active and (self.unavailable_until is None or day >= self.unavailable_until)


def load_reps(conn: Connection, role: str | None = None) -> list[Rep]:
    """Reps ordered by id (in Python: code points, whatever the database collation)."""
    query = select(
        reps.c.rep_id, reps.c.name, reps.c.role, reps.c.book_rule, reps.c.team, reps.c.manager,
        reps.c.start_date, reps.c.active, reps.c.unavailable_until,
    )
    if role is not None:
        query = query.where(reps.c.role == role)
    return sorted((Rep(*row) for row in conn.execute(query)), key=lambda r: r.rep_id)


def book_counts(
    conn: Connection, role: str, rep_ids: list[str] | None = None
) -> dict[tuple[str, str | None], int]:
    """Owned accounts per (rep, segment) for a role (only ``rep_ids``' books when given); held
    accounts never have an owned row."""
    query = (
        select(account_roles.c.rep_id, account_roles.c.segment, func.count())
        .where(account_roles.c.role == role, account_roles.c.state == "owned")
        .group_by(account_roles.c.rep_id, account_roles.c.segment)
    )
    if rep_ids is not None:
        query = query.where(account_roles.c.rep_id.in_(rep_ids))
    return {(rep_id, segment): n for rep_id, segment, n in conn.execute(query)}


def free_capacity(
    rep: Rep, rule: BookRule, counts: dict[tuple[str, str | None], int], day: date
) -> dict[str | None, int]:
    """Capacity − current book, per segment, never below 0. An unavailable rep has no free capacity."""
    if not rep.available(day):
        return {segment: 0 for segment in rule.segment_sizes()}
    total = segment_capacity(rule, rep.start_date, day)
    return {segment: max(0, cap - counts.get((rep.rep_id, segment), 0)) for segment, cap in total.items()}


def rules_of_role(config: Config, role: str) -> list[BookRule]:
    return [r for r in config.book_rule if r.role == role]
