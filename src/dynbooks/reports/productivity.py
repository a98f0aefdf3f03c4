"""Productivity: opportunities created per account worked — book productivity (SPEC §6, §7).

Rows, per period × rep (ordered by period, then rep id; only pairs with any work or opportunity):
``accounts_worked`` = distinct accounts on which the rep logged a meaningful activity in the period,
``opportunities`` = opportunities the rep created in the period, ``book_productivity`` = opportunities ÷
accounts worked (a fraction; null when nothing was worked). ``extra["teams"]`` and ``extra["rules"]`` sum
the same per period × team and per period × the rep's rule; ``extra["total"]`` over the whole window.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, func, select

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.reports.data import load_reps, rep_in_scope
from dynbooks.reports.model import Report, ReportFilters
from dynbooks.reports.periods import window
from dynbooks.store.schema import activities, opportunities

__all__ = ["COLUMNS", "productivity"]

COLUMNS = ["period", "rep_id", "team", "accounts_worked", "opportunities", "book_productivity", "rule", "manager"]


def _ratio(opps: int, worked: int) -> float | None:
    return round(opps / worked, 4) if worked else None


def productivity(conn: Connection, config: Config, now: Now, filters: ReportFilters) -> Report:
    w = window(filters, now)
    reps = load_reps(conn)
    labels = w.periods()
    # Distinct accounts worked per (rep, period), counted by the database: a period index per activity
    # (a CASE over the periods' first instants), then COUNT(DISTINCT) per group.
    acts = (
        select(activities.c.rep_id, activities.c.account_id, w.index_sql(activities.c.occurred_at).label("p"))
        .where(activities.c.type.in_(list(config.activity.meaningful_types)),
               activities.c.occurred_at >= w.start, activities.c.occurred_at < w.end)
        .subquery("acts")
    )
    worked: dict[tuple[str, str], int] = {
        (labels[int(p)], str(rep_id)): int(n)
        for rep_id, p, n in conn.execute(
            select(acts.c.rep_id, acts.c.p, func.count(acts.c.account_id.distinct())).group_by(acts.c.rep_id, acts.c.p)
        )
    }
    opps_q = (
        select(opportunities.c.rep_id, w.index_sql(opportunities.c.created_at).label("p"))
        .where(opportunities.c.created_at >= w.start, opportunities.c.created_at < w.end)
        .subquery("opps")
    )
    opps: dict[tuple[str, str], int] = {
        (labels[int(p)], str(rep_id)): int(n)
        for rep_id, p, n in conn.execute(
            select(opps_q.c.rep_id, opps_q.c.p, func.count()).group_by(opps_q.c.rep_id, opps_q.c.p)
        )
    }

    rows: list[dict[str, Any]] = []
    for period, rep_id in sorted(set(worked) | set(opps)):
        rep = reps.get(rep_id)
        if not rep_in_scope(rep, filters):
            continue
        a, o = worked.get((period, rep_id), 0), opps.get((period, rep_id), 0)
        rows.append({"period": period, "rep_id": rep_id, "team": rep.team if rep else None, "accounts_worked": a,
                     "opportunities": o, "book_productivity": _ratio(o, a), "rule": rep.rule if rep else None,
                     "manager": rep.manager if rep else None})
    extra = {
        "teams": _sum_by(rows, "team"),
        "rules": _sum_by(rows, "rule"),
        "total": _total(rows),
        "since": w.since,
        "until": w.until,
    }
    return Report("productivity", now.day, list(COLUMNS), rows, extra)


def _total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    a = sum(r["accounts_worked"] for r in rows)
    o = sum(r["opportunities"] for r in rows)
    return {"accounts_worked": a, "opportunities": o, "book_productivity": _ratio(o, a)}


def _sum_by(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    groups: dict[tuple[str, Any], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["period"], row[key])].append(row)
    return [
        {"period": period, key: value, **_total(members)}
        for (period, value), members in sorted(groups.items(), key=lambda g: (g[0][0], str(g[0][1])))
    ]
