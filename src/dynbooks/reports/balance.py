"""Balance: is every rep's book full, and are books under one rule of equal quality? (SPEC §6)

Per active rep: ``size`` (owned accounts in every role), ``capacity`` (target size × ramp factor, SPEC §10
Reps), ``fill`` = size / capacity as a fraction (null when the capacity is 0), ``mean_priority`` and
``total_priority`` (priority as of the as-of date), ``new_this_week`` (assigned since the Monday of the
as-of ISO week), ``untouched`` (owned accounts on which the owner has logged no meaningful activity since
assignment), ``oldest_untouched_days`` (days since the oldest of those was assigned; null when none) and
``load`` = ``over``, ``under`` or ``full``.

Per rule (``extra["rules"]``): ``spread`` = highest − lowest ``mean_priority`` among its reps (0 is a
perfectly even deal), ``fill_spread`` likewise for fill, and how many reps are over and under capacity.
Rows are ordered by rule, then rep id.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Connection

from dynbooks.domain.capacity import segment_capacity
from dynbooks.domain.clock import Now, day_number
from dynbooks.domain.rules import Config
from dynbooks.reports.aggregate import owned_groups, signal_weight_per_rep
from dynbooks.reports.data import load_reps, rep_in_scope
from dynbooks.reports.model import Report, ReportFilters

__all__ = ["COLUMNS", "balance"]

COLUMNS = [
    "rep_id", "rule", "team", "size", "capacity", "fill", "mean_priority", "total_priority",
    "new_this_week", "oldest_untouched_days", "untouched", "load", "manager",
]


def balance(conn: Connection, config: Config, now: Now, filters: ReportFilters) -> Report:
    reps = [r for r in load_reps(conn).values() if r.active and rep_in_scope(r, filters)]
    groups = owned_groups(conn, config, now, fit=True)
    signal = signal_weight_per_rep(conn, config, now)
    today = day_number(now.day)
    position = {r.rep_id: i for i, r in enumerate(sorted(reps, key=lambda r: r.rep_id))}
    k = len(position)
    which = np.array([position.get(rep_id, -1) for rep_id in groups.rep_id], dtype=np.int64)
    mine = which >= 0
    which = which[mine]
    size = np.bincount(which, weights=groups.size[mine], minlength=k).astype(np.int64)
    total = np.bincount(which, weights=groups.fit[mine], minlength=k)
    for rep_id, i in position.items():
        total[i] += signal.get(rep_id, 0.0)
    new = np.bincount(which, weights=groups.new_this_week[mine], minlength=k)
    n_untouched = np.bincount(which, weights=groups.untouched[mine], minlength=k)
    oldest = np.full(k, -1, dtype=np.int64)
    for i, first in zip(which.tolist(), [d for d, m in zip(groups.oldest_untouched, mine, strict=True) if m],
                        strict=True):
        if first is not None:
            oldest[i] = max(int(oldest[i]), today - day_number(date.fromisoformat(first)))

    rows: list[dict[str, Any]] = []
    for rep in sorted(reps, key=lambda r: (r.rule, r.rep_id)):
        i = position[rep.rep_id]
        rule = config.rules.get(rep.rule)
        capacity = sum(segment_capacity(rule, rep.start_date, now.day).values()) if rule else None
        n = int(size[i])
        load = None if capacity is None else ("over" if n > capacity else "under" if n < capacity else "full")
        rows.append({
            "rep_id": rep.rep_id,
            "rule": rep.rule,
            "team": rep.team,
            "size": n,
            "capacity": capacity,
            "fill": round(n / capacity, 4) if capacity else None,
            "mean_priority": round(float(total[i]) / n, 4) if n else None,
            "total_priority": round(float(total[i]), 4),
            "new_this_week": int(new[i]),
            "oldest_untouched_days": int(oldest[i]) if oldest[i] >= 0 else None,
            "untouched": int(n_untouched[i]),
            "load": load,
            "manager": rep.manager,
        })
    return Report("balance", now.day, list(COLUMNS), rows, {"rules": _spread(rows)})


def _spread(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in sorted({r["rule"] for r in rows}):
        mine = [r for r in rows if r["rule"] == rule]
        quality = [r["mean_priority"] for r in mine if r["mean_priority"] is not None]
        fills = [r["fill"] for r in mine if r["fill"] is not None]
        out.append({
            "rule": rule,
            "reps": len(mine),
            "spread": round(max(quality) - min(quality), 4) if quality else None,
            "fill_spread": round(max(fills) - min(fills), 4) if fills else None,
            "size_min": min(r["size"] for r in mine),
            "size_max": max(r["size"] for r in mine),
            "over": sum(r["load"] == "over" for r in mine),
            "under": sum(r["load"] == "under" for r in mine),
        })
    return out
