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

from dynbooks.domain.clock import Now, day_number
from dynbooks.domain.rules import Config
from dynbooks.reports.coverage import coverage_counts
from dynbooks.reports.data import NO_DAY, load_accounts, load_reps, owned_rows, rep_in_scope
from dynbooks.reports.model import Report, ReportFilters

__all__ = ["AE_HOARDING_DAYS", "COLUMNS", "audit", "gini"]

COLUMNS = ["owner_id", "accounts", "worked_90", "hoarded", "idle_90", "ae_idle", "hoarding", "team", "manager"]
AE_HOARDING_DAYS = 30
"""The AE hoarding window when the rule sets no ``hoarding_days`` (SPEC §5)."""
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
    today = day_number(now.day)
    reps = load_reps(conn)
    people = dataclasses.replace(filters, rule=None)
    owned = owned_rows(conn, config, now)
    keep = owned.rep_mask(lambda rep_id: rep_in_scope(reps.get(rep_id), people))
    if filters.rule:
        keep &= owned.rule == filters.rule
    age = today - owned.owner_last
    worked = (owned.owner_last != NO_DAY) & (age < 90)
    window = np.zeros(owned.n, dtype=np.int64)  # 0 = no AE hoarding rule for the row
    for rule_name in {str(r) for r in owned.rule}:
        rule = config.rules.get(rule_name)
        days = rule.hoarding_days if rule and rule.hoarding_days else None
        if days is None and rule is not None and rule.role == "ae":
            days = AE_HOARDING_DAYS
        if days:
            window[owned.rule == rule_name] = days
    role_ae = (owned.role == "ae") & (window == 0)
    window[role_ae] = AE_HOARDING_DAYS
    ae_idle = (window > 0) & ~owned.open_opp & ((owned.owner_last == NO_DAY) | (age >= window))
    hoarded = ~worked | ae_idle

    owner_ids = owned.rep_id[keep].astype(str)
    uniq, inverse = np.unique(owner_ids, return_inverse=True)
    inverse = inverse.reshape(-1)
    k = len(uniq)

    def per_owner(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        return np.bincount(inverse, weights=mask[keep].astype(float), minlength=k).astype(np.int64)

    counts = np.bincount(inverse, minlength=k)
    stats = {"worked_90": per_owner(worked), "ae_idle": per_owner(ae_idle), "hoarded": per_owner(hoarded)}
    rows: list[dict[str, Any]] = []
    for i, owner in enumerate(uniq):
        rows.append(_row(str(owner), int(counts[i]), {name: int(v[i]) for name, v in stats.items()}, reps))
    listed = {r["owner_id"] for r in rows}
    for rep in reps.values():
        if rep.active and rep.rep_id not in listed and rep_in_scope(rep, filters):
            rows.append(_row(rep.rep_id, 0, {"worked_90": 0, "ae_idle": 0, "hoarded": 0}, reps))
    rows.sort(key=lambda r: (-r["accounts"], r["owner_id"]))

    table = load_accounts(conn, config, now, activity=True, opportunity=True)
    rules = [r for r in config.book_rule if filters.rule is None or r.name == filters.rule]
    cov = coverage_counts(table, table.tam(config, rules), today)
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
