"""The small reads reports share: the reps (a small table), who is in a report's scope, the horizon.

Everything per account or per owned row is aggregated by the database (:mod:`dynbooks.reports.aggregate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select

from dynbooks.domain.clock import Now
from dynbooks.reports.model import ReportFilters
from dynbooks.store.schema import reps

__all__ = ["Rep", "horizon", "load_reps", "rep_in_scope"]

@dataclass(frozen=True)
class Rep:
    rep_id: str
    name: str
    role: str
    rule: str
    team: str | None
    manager: str | None
    start_date: date | None
    active: bool


def load_reps(conn: Connection) -> dict[str, Rep]:
    """Every rep (a small table), by id."""
    rows = conn.execute(
        select(
            reps.c.rep_id, reps.c.name, reps.c.role, reps.c.book_rule, reps.c.team, reps.c.manager,
            reps.c.start_date, reps.c.active,
        )
    ).all()
    return {r[0]: Rep(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows}


def rep_in_scope(rep: Rep | None, filters: ReportFilters) -> bool:
    """Whether ``--rule/--team/--manager/--rep`` keep this rep (an unknown rep is kept only without filters)."""
    if rep is None:
        return not (filters.rule or filters.team or filters.manager or filters.rep)
    return (
        (filters.rule is None or rep.rule == filters.rule)
        and (filters.team is None or rep.team == filters.team)
        and (filters.manager is None or rep.manager == filters.manager)
        and (filters.rep is None or rep.rep_id == filters.rep)
    )


def horizon(now: Now) -> datetime:
    """The last instant that has happened, as the naive UTC the tables store."""
    return now.horizon.replace(tzinfo=None)
