"""Audit: the seeds' "audit your current process", run on CRM data imported with today's owners.

Rows, one per owner (every owner of an owned row, plus active reps who own nothing), ordered by accounts
descending, then owner id: ``accounts`` (owned rows in every role), ``worked_90`` (of those, the ones the
owner logged a meaningful activity on within 90 days: ``as_of − day < 90``), ``idle_90`` = accounts −
worked_90, ``ae_idle`` (rows of a rule with ``hoarding_days``, or of role ``ae`` with 30 days by default,
with no open opportunity and no meaningful activity by the owner for that many days), ``hoarded`` (rows that
are idle_90 or ae_idle) and ``hoarding`` (the owner holds more than they worked in 90 days).

The owner's activities count whenever they happened, not only since the assignment: imported ownership
is stamped with the import date, and the audit asks how the CRM's owners have really been working.

Extra keys: ``tam``, ``nbtam`` and the ``worked_30/60/90`` shares (as in coverage, over every rule),
``gini`` of accounts per owner (0 = equal, → 1 = one owner holds all), ``owners``, ``top_holders`` (the
five largest, with their share of owned rows), ``hoarders``, ``hoarded`` and ``first_cycle`` (what a first
dynamic-books cycle would change: filled in by the services layer, ``None`` here).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.reports.aggregate import AE_HOARDING_DAYS, account_cube, owned_groups
from dynbooks.reports.data import load_reps, rep_in_scope
from dynbooks.reports.model import Report, ReportFilters

__all__ = ["AE_HOARDING_DAYS", "COLUMNS", "audit", "gini"]

COLUMNS = ["owner_id", "accounts", "worked_90", "hoarded", "idle_90", "ae_idle", "hoarding", "team", "manager"]
TOP = 5


def gini(values: npt.NDArray[np.float64]) -> float:
    """The Gini coefficient of non-negative values (0 when there are none or all are 0)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float((2 * (i * x).sum()) / (n * x.sum()) - (n + 1) / n)


def audit(conn: Connection, config: Config, now: Now, filters: ReportFilters) -> Report:
    reps = load_reps(conn)
    people = dataclasses.replace(filters, rule=None)
    groups = owned_groups(conn, config, now)
    stats: dict[str, dict[str, int]] = {}
    for i, rep_id in enumerate(groups.rep_id):
        if not rep_in_scope(reps.get(rep_id), people) or (filters.rule and groups.rule[i] != filters.rule):
            continue
        mine = stats.setdefault(rep_id, {"accounts": 0, "worked_90": 0, "ae_idle": 0, "hoarded": 0})
        mine["accounts"] += int(groups.size[i])
        mine["worked_90"] += int(groups.worked_90[i])
        mine["ae_idle"] += int(groups.ae_idle[i])
        mine["hoarded"] += int(groups.hoarded[i])
    rows: list[dict[str, Any]] = [_row(owner, s["accounts"], s, reps) for owner, s in sorted(stats.items())]
    for rep in reps.values():
        if rep.active and rep.rep_id not in stats and rep_in_scope(rep, filters):
            rows.append(_row(rep.rep_id, 0, {"worked_90": 0, "ae_idle": 0, "hoarded": 0}, reps))
    rows.sort(key=lambda r: (-r["accounts"], r["owner_id"]))

    rules = [r for r in config.book_rule if filters.rule is None or r.name == filters.rule]
    cube = account_cube(conn, config, now, rules, signal=False, fit=False)
    cov = cube.counts(cube.tam([r.name for r in rules]))
    total = sum(r["accounts"] for r in rows)
    extra: dict[str, Any] = {
        **cov,
        "gini": round(gini(np.array([r["accounts"] for r in rows], dtype=np.float64)), 4),
        "owners": len(rows),
        "top_holders": [
            {"owner_id": r["owner_id"], "accounts": r["accounts"], "share": round(r["accounts"] / total, 4)}
            for r in rows[:TOP] if r["accounts"] > 0
        ],
        "hoarders": sum(r["hoarding"] for r in rows),
        "hoarded": sum(r["hoarded"] for r in rows),
        "first_cycle": None,
    }
    return Report("audit", now.day, list(COLUMNS), rows, extra)


def _row(owner: str, accounts: int, stats: dict[str, int], reps: dict[str, Any]) -> dict[str, Any]:
    rep = reps.get(owner)
    return {
        "owner_id": owner,
        "accounts": accounts,
        "worked_90": stats["worked_90"],
        "hoarded": stats["hoarded"],
        "idle_90": accounts - stats["worked_90"],
        "ae_idle": stats["ae_idle"],
        "hoarding": accounts > stats["worked_90"],
        "team": rep.team if rep else None,
        "manager": rep.manager if rep else None,
    }
