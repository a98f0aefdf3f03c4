"""Read use case: the market map page — the scores ``dynbooks market-map --write-back`` stored, as a chart and
a table.

``--write-back`` stores each account's map score as ``accounts.fit_score`` (see
:func:`dynbooks.marketmap.service.write_scores`); the map's own 2-D axes are not stored, so the page plots
score against company size (employees, log axis), coloured by the map's tiers
(:func:`dynbooks.marketmap.model.tier_of`). The chart draws a fixed random sample of at most ``sample``
accounts (the same sample for the same data); the table beside it counts every account per tier, and the
account list is paged, best score first. A manager's list holds only the accounts their team owns (the
visibility rule of :mod:`dynbooks.services.access`); the chart's points carry no ids for them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import select

from dynbooks.domain.errors import InvalidInput
from dynbooks.services.context import Context
from dynbooks.store.schema import account_roles, accounts

__all__ = ["MAX_SAMPLE", "market_map_view"]

MAX_SAMPLE = 5_000
TIERS = (1, 2, 3, 4, 5)


def market_map_view(ctx: Context, *, page: int = 1, per_page: int = 50, sample: int = 2_000,
                    team_reps: list[str] | None = None, seed: int = 0) -> dict[str, Any]:
    """``{"scored", "tiers": [{"tier", "accounts", "drawn"}], "chart": {"kind": "scatter", "series": [...]},
    "rows", "total", "page", "per_page", "pages"}``; ``team_reps`` narrows the list (and hides ids)."""
    from dynbooks.marketmap.model import tier_of  # scikit-learn loads only for this page

    if page < 1 or not 1 <= per_page <= 500 or not 1 <= sample <= MAX_SAMPLE:
        raise InvalidInput(f"page must be 1 or more, per_page 1 to 500, sample 1 to {MAX_SAMPLE}")
    a = accounts.c
    with ctx.reading() as conn:
        rows = conn.execute(select(a.account_id, a.name, a.industry, a.country, a.employees, a.fit_score)
                            .where(a.status == "active", a.fit_score.is_not(None))
                            .order_by(a.fit_score.desc(), a.account_id)).all()
        visible: set[str] | None = None
        if team_reps is not None:
            visible = set(conn.execute(select(account_roles.c.account_id).where(
                account_roles.c.state == "owned", account_roles.c.rep_id.in_(team_reps))).scalars())
    n = len(rows)
    score = np.array([r.fit_score for r in rows], dtype=np.float64)
    employees = np.array([np.nan if r.employees is None else r.employees for r in rows], dtype=np.float64)
    tier = tier_of(score) if n else np.zeros(0, dtype=np.int64)
    drawn = np.arange(n)
    if n > sample:
        drawn = np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    # Log axes cannot show 0 or unknown sizes: those accounts are counted in the table, not drawn.
    drawn = drawn[np.isfinite(employees[drawn]) & (employees[drawn] > 0)]
    series = []
    for t in TIERS:
        at = drawn[tier[drawn] == t]
        series.append({"name": f"tier {t}", "data": [
            [float(employees[i]), float(score[i])] + ([] if visible is not None else [rows[i].account_id])
            for i in at.tolist()]})
    listed = [r for r in rows if visible is None or r.account_id in visible]
    start = (page - 1) * per_page
    return {
        "scored": n,
        "tiers": [{"tier": t, "accounts": int((tier == t).sum()), "drawn": len(series[k]["data"])}
                  for k, t in enumerate(TIERS)],
        "chart": {"kind": "scatter", "title": "Map score by company size (a sample)",
                  "x": "employees (log)", "y": "score", "series": series},
        "total": len(listed), "page": page, "per_page": per_page,
        "pages": max(1, math.ceil(len(listed) / per_page)),
        "rows": [{"account_id": r.account_id, "name": r.name, "industry": r.industry, "country": r.country,
                  "employees": r.employees, "score": r.fit_score, "tier": int(tier_of(np.array([r.fit_score]))[0])}
                 for r in listed[start:start + per_page]],
    }
