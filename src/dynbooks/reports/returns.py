"""Returns: who returns what, why, and how that compares with their team (SPEC §6, issue 4).

Rows: ``period reason rep_id team manager count`` — returned events in the window, by ISO week or month,
reason and returning rep (ordered by period, reason, rep id).

``extra["flags"]`` (coaching): a rep's *rate* for a reason is their returns with that reason in the window
÷ the accounts they held in the window (ownership spans overlapping it). The team median is taken over the
team's reps who held accounts (zeros included). A rep is flagged when rate ≥ 2 × team median and count ≥
``MIN_COUNT``. Flags are ordered by reason, then rate descending, then rep id.

``extra["trend"]``: per reason, the count in every period of the window and the least-squares slope per
period; ``direction`` is ``flat`` when |slope| ≤ 5% of the mean count per period (or < 0.05), else up or down.

``extra["outcomes"]``: per reason, of the accounts returned in the window, how many were later re-dealt
(a later ``distributed`` event), converted (a later ``handed_off`` or ``converted`` return, or an opportunity
created after the return by another rep) or are retired now. The three may overlap.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from statistics import median
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, case, exists, func, or_, select

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.reports.data import load_reps, rep_in_scope
from dynbooks.reports.model import Report, ReportFilters
from dynbooks.reports.periods import Window, day_of, day_sql, period_label, window
from dynbooks.store.schema import accounts, assignments, events, opportunities

__all__ = ["COLUMNS", "MIN_COUNT", "returns"]

COLUMNS = ["period", "reason", "rep_id", "team", "manager", "count", "rule"]
MIN_COUNT = 3
"""A rep is flagged for a reason only with at least this many returns of it in the window."""


def returns(conn: Connection, config: Config, now: Now, filters: ReportFilters) -> Report:
    w = window(filters, now)
    reps = load_reps(conn)
    people = dataclasses.replace(filters, rule=None)  # the rule filters events; the rest filters reps
    in_window = and_(events.c.type == "returned", events.c.at >= w.start, events.c.at < w.end)
    if filters.rule:
        in_window = and_(in_window, events.c.rule == filters.rule)
    day = day_sql(events.c.at)
    daily = conn.execute(
        select(day, events.c.reason, events.c.rep_id, events.c.rule, func.count())
        .where(in_window)
        .group_by(day, events.c.reason, events.c.rep_id, events.c.rule)
    ).all()
    cells: dict[tuple[str, str, str, str], int] = defaultdict(int)
    per_rep_reason: dict[tuple[str, str], int] = defaultdict(int)
    for d, reason, rep_id, rule, count in daily:
        cells[(period_label(day_of(d), w.by), reason or "", rep_id or "", rule or "")] += int(count)
        per_rep_reason[(rep_id or "", reason or "")] += int(count)
    rows: list[dict[str, Any]] = []
    for (period, reason, rep_id, rule), count in sorted(cells.items()):
        rep = reps.get(rep_id)
        if rep_in_scope(rep, people):
            team, manager = (rep.team, rep.manager) if rep else (None, None)
            rows.append({"period": period, "reason": reason, "rep_id": rep_id, "team": team,
                         "manager": manager, "count": count, "rule": rule})

    held = _held(conn, w.start, w.end, filters.rule)
    flags = [f for f in _flags(per_rep_reason, held, reps) if rep_in_scope(reps.get(f["rep_id"]), people)]
    scope_counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        scope_counts[(str(row["period"]), str(row["reason"]))] += int(row["count"])
    trend = _trend(scope_counts, w.periods())
    scoped = filters.team or filters.manager or filters.rep
    rep_ids = [r.rep_id for r in reps.values() if rep_in_scope(r, people)] if scoped else None
    outcomes = _outcomes(conn, w, filters.rule, rep_ids)
    extra = {"flags": flags, "trend": trend, "outcomes": outcomes, "since": w.since, "until": w.until,
             "min_count": MIN_COUNT}
    return Report("returns", now.day, list(COLUMNS), rows, extra)


def _held(conn: Connection, start: Any, end: Any, rule: str | None) -> dict[str, int]:
    """Ownership spans per rep that overlap the window."""
    where = and_(
        assignments.c.assigned_at < end,
        or_(assignments.c.ended_at.is_(None), assignments.c.ended_at >= start),
    )
    if rule:
        where = and_(where, assignments.c.rule == rule)
    rows = conn.execute(select(assignments.c.rep_id, func.count()).where(where).group_by(assignments.c.rep_id))
    return {r[0]: int(r[1]) for r in rows}


def _flags(counts: dict[tuple[str, str], int], held: dict[str, int], reps: dict[str, Any]) -> list[dict[str, Any]]:
    teams: dict[Any, list[str]] = defaultdict(list)
    for rep_id in held:
        rep = reps.get(rep_id)
        teams[rep.team if rep else None].append(rep_id)
    flags = []
    for reason in sorted({reason for _, reason in counts}):
        for team, members in teams.items():
            rates = {m: counts.get((m, reason), 0) / held[m] for m in members if held[m] > 0}
            if not rates:
                continue
            team_median = median(rates.values())
            for rep_id, rate in rates.items():
                count = counts.get((rep_id, reason), 0)
                if count >= MIN_COUNT and rate >= 2 * team_median:
                    rep = reps.get(rep_id)
                    flags.append({"rep_id": rep_id, "reason": reason, "rate": round(rate, 4),
                                  "team_median": round(team_median, 4), "count": count, "held": held[rep_id],
                                  "team": team, "manager": rep.manager if rep else None})
    flags.sort(key=lambda f: (f["reason"], -f["rate"], f["rep_id"]))
    return flags


def _trend(counts: dict[tuple[str, str], int], periods: list[str]) -> list[dict[str, Any]]:
    out = []
    for reason in sorted({reason for _, reason in counts}):
        series = [counts.get((p, reason), 0) for p in periods]
        slope = float(np.polyfit(np.arange(len(series)), series, 1)[0]) if len(series) > 1 else 0.0
        mean = sum(series) / len(series)
        direction = "flat" if abs(slope) <= max(0.05 * mean, 0.05) else ("up" if slope > 0 else "down")
        out.append({"reason": reason, "counts": [{"period": p, "count": c} for p, c in zip(periods, series,
                    strict=True)], "slope": round(slope, 4), "direction": direction})
    return out


def _outcomes(conn: Connection, w: Window, rule: str | None, rep_ids: list[str] | None) -> list[dict[str, Any]]:
    r = events.alias("r")
    later = events.alias("later")
    cond = and_(r.c.type == "returned", r.c.at >= w.start, r.c.at < w.end)
    if rule:
        cond = and_(cond, r.c.rule == rule)
    if rep_ids is not None:
        cond = and_(cond, r.c.rep_id.in_(rep_ids))
    after = and_(later.c.account_id == r.c.account_id, later.c.seq > r.c.seq)
    redealt = exists().where(after, later.c.type == "distributed")
    converted = or_(
        exists().where(after, or_(later.c.type == "handed_off",
                                  and_(later.c.type == "returned", later.c.reason == "converted"))),
        exists().where(opportunities.c.account_id == r.c.account_id, opportunities.c.created_at >= r.c.at,
                       opportunities.c.rep_id != r.c.rep_id),
    )
    query = (
        select(
            r.c.reason,
            func.count(),
            func.sum(case((redealt, 1), else_=0)),
            func.sum(case((converted, 1), else_=0)),
            func.sum(case((accounts.c.status == "retired", 1), else_=0)),
        )
        .select_from(r.join(accounts, accounts.c.account_id == r.c.account_id, isouter=True))
        .where(cond)
        .group_by(r.c.reason)
        .order_by(r.c.reason)
    )
    return [
        {"reason": reason, "returned": int(n), "redealt": int(a or 0), "converted": int(b or 0),
         "retired": int(c or 0)}
        for reason, n, a, b, c in conn.execute(query)
    ]
