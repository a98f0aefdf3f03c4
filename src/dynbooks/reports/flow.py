"""Flow: accounts moving through the books per period, and how long the ready pool lasts (SPEC §6).

Rows, one per period of the window (zeros included), in order: ``distributed``, ``returned``, ``retrieved``,
``released`` (events of those types), ``converted`` (distinct accounts per day with a ``converted`` return
or a ``handed_off`` event, so a return and its hand-off count once) and ``returned_<reason>`` per reason.

``extra["ready_pool"]``: (account, role) pairs in a role's pool — enrolled, active (not retired, held or a
flagged duplicate), with no owned/resting/review row for the role — that match a rule of that role (under
``--rule``, that rule); ``extra["ready_by_rule"]`` per rule. ``extra["runway_weeks"]`` = ready_pool ÷ the
average weekly distributions over the last 4 weeks (the 28 days ending on the as-of date), null when none.
``--team/--manager/--rep`` keep the events of those reps; ``--rule`` the events of that rule.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, true

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.reports.aggregate import ready_counts
from dynbooks.reports.data import horizon, load_reps, rep_in_scope
from dynbooks.reports.model import Report, ReportFilters
from dynbooks.reports.periods import day_of, day_sql, period_label, window
from dynbooks.store.schema import events

__all__ = ["COLUMNS", "RUNWAY_WEEKS", "flow"]

COLUMNS = ["period", "distributed", "returned", "retrieved", "released", "converted"]
TYPES = ("distributed", "returned", "retrieved", "released")
RUNWAY_WEEKS = 4
"""The distribution rate behind the runway is the average over this many weeks."""


def _scope(conn: Connection, filters: ReportFilters) -> ColumnElement[bool]:
    cond: ColumnElement[bool] = true()
    if filters.rule:
        cond = and_(cond, events.c.rule == filters.rule)
    if filters.team or filters.manager or filters.rep:
        people = dataclasses.replace(filters, rule=None)
        ids = [r.rep_id for r in load_reps(conn).values() if rep_in_scope(r, people)]
        cond = and_(cond, events.c.rep_id.in_(ids))
    return cond


def flow(conn: Connection, config: Config, now: Now, filters: ReportFilters) -> Report:
    w = window(filters, now)
    scope = _scope(conn, filters)
    when = and_(events.c.at >= w.start, events.c.at < w.end, scope)
    day = day_sql(events.c.at)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    reasons: set[str] = set()
    for d, kind, reason, n in conn.execute(
        select(day, events.c.type, events.c.reason, func.count())
        .where(when, events.c.type.in_(TYPES))
        .group_by(day, events.c.type, events.c.reason)
    ):
        period = period_label(day_of(d), w.by)
        counts[(period, kind)] += int(n)
        if kind == "returned":
            reasons.add(reason or "")
            counts[(period, f"returned_{reason or ''}")] += int(n)
    converted = or_(events.c.type == "handed_off", and_(events.c.type == "returned", events.c.reason == "converted"))
    for d, n in conn.execute(
        select(day, func.count(events.c.account_id.distinct())).where(when, converted).group_by(day)
    ):
        counts[(period_label(day_of(d), w.by), "converted")] += int(n)

    columns = COLUMNS + [f"returned_{r}" for r in sorted(reasons)]
    rows = [{c: p if c == "period" else counts.get((p, c), 0) for c in columns} for p in w.periods()]

    ready, by_rule = _ready(conn, config, now, filters)
    since = datetime.combine(now.day - timedelta(days=7 * RUNWAY_WEEKS - 1), time(0))
    recent = conn.execute(
        select(func.count()).where(
            events.c.type == "distributed", events.c.at >= since, events.c.at <= horizon(now), scope
        )
    ).scalar_one()
    weekly = int(recent) / RUNWAY_WEEKS
    extra = {
        "ready_pool": ready,
        "runway_weeks": round(ready / weekly, 1) if weekly else None,
        "distributed_per_week": round(weekly, 2),
        "ready_by_rule": by_rule,
        "since": w.since,
        "until": w.until,
    }
    return Report("flow", now.day, columns, rows, extra)


def _ready(conn: Connection, config: Config, now: Now, filters: ReportFilters) -> tuple[int, list[dict[str, Any]]]:
    rules = [r for r in config.book_rule if filters.rule is None or r.name == filters.rule]
    total, per_rule = ready_counts(conn, config, now, rules)
    # Grouped by role, in the order roles first appear (as the rules are listed).
    roles = list(dict.fromkeys(r.role for r in rules))
    by_rule = [{"rule": r.name, "role": role, "ready": n}
               for role in roles for r, n in zip(rules, per_rule, strict=True) if r.role == role]
    return total, by_rule
