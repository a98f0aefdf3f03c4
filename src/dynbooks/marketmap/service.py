"""Use case: map the market stored in a dynbooks database, and optionally write the scores back.

Reads the active accounts (firmographics and custom fields), takes closed-won customers from the
opportunities table as references (weight +1, or the weights given), builds the map
(:func:`dynbooks.marketmap.model.build_map`) and, with ``write_back``, stores every score as
``accounts.fit_score`` in one bulk UPDATE in one transaction under the cycle lock, so the next
distribution ranks by it. The write is logged (logger ``dynbooks.marketmap``) and reported.
"""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select, update

from dynbooks.domain.errors import InvalidInput, NotFound
from dynbooks.marketmap.model import AccountTable, MarketMap, build_map, similar_accounts
from dynbooks.services.context import Context
from dynbooks.store.schema import account_roles, accounts, opportunities

__all__ = ["load_table", "map_market", "read_weights"]

log = logging.getLogger("dynbooks.marketmap")

CATEGORICAL = ("industry", "country", "region")
NUMERIC = ("employees", "annual_revenue")
MAX_CATEGORIES = 50
"""A custom text field with more distinct values than this (names, ids, notes) is not a feature."""


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def load_table(rows: list[Any]) -> AccountTable:
    """Rows of (account_id, industry, country, region, employees, annual_revenue, custom) → columns.
    A custom field is numeric when every value given is a number, categorical when it has at most 50
    distinct values, else left out."""
    n = len(rows)
    ids = np.array([r[0] for r in rows], dtype=object)
    table = AccountTable(ids=ids)
    for j, name in enumerate(CATEGORICAL, start=1):
        table.categorical[name] = np.array([r[j] or None for r in rows], dtype=object)
    for j, name in enumerate(NUMERIC, start=1 + len(CATEGORICAL)):
        table.numeric[name] = np.array([np.nan if r[j] is None else float(r[j]) for r in rows], dtype=np.float64)
    customs = [r[-1] or {} for r in rows]
    keys = sorted({k for c in customs for k in c})
    for key in keys:
        values = [c.get(key) for c in customs]
        given = [v for v in values if v is not None and v != ""]
        if not given:
            continue
        numbers = [_number(v) for v in given]
        if all(x is not None for x in numbers):
            table.numeric[key] = np.array([np.nan if (x := _number(v)) is None else x for v in values],
                                          dtype=np.float64)
        elif len({str(v) for v in given}) <= MAX_CATEGORIES:
            table.categorical[key] = np.array([None if v in (None, "") else str(v) for v in values], dtype=object)
    assert all(len(v) == n for v in table.numeric.values())
    return table


def read_weights(path: Path) -> dict[str, float]:
    """A CSV ``account_id,weight``: positive for accounts you want more of, negative for ones you do not."""
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    out: dict[str, float] = {}
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"account_id", "weight"} <= set(reader.fieldnames):
            raise InvalidInput(f"{path}: needs the columns account_id,weight")
        problems = []
        for line, row in enumerate(reader, start=2):
            weight = _number(row["weight"])
            if weight is None or not math.isfinite(weight):
                problems.append(f"line {line}, column weight: {row['weight']!r} is not a number")
            else:
                out[row["account_id"]] = weight
        if problems:
            raise InvalidInput(f"{path}: {len(problems)} bad rows", problems)
    return out


def map_market(ctx: Context, *, weights: dict[str, float] | None = None, clusters: int = 8, seed: int = 0,
               top: int = 20, similar: int = 10, write_back: bool = False) -> tuple[dict[str, Any], MarketMap]:
    """The map of every active account; returns the report (JSON-ready) and the map itself."""
    with ctx.reading() as conn:
        rows = sorted(conn.execute(select(
            accounts.c.account_id, *(accounts.c[c] for c in CATEGORICAL), *(accounts.c[c] for c in NUMERIC),
            accounts.c.custom).where(accounts.c.status == "active")).all(), key=lambda r: r[0])
        won = set(conn.execute(select(opportunities.c.account_id).where(opportunities.c.is_won.is_(True))).scalars())
        owned = set(conn.execute(select(account_roles.c.account_id).where(account_roles.c.state == "owned")).scalars())
        customers = set(conn.execute(select(accounts.c.account_id).where(accounts.c.is_customer.is_(True))).scalars())
    table = load_table(rows)
    index = {str(a): i for i, a in enumerate(table.ids)}
    reference = np.zeros(table.n)
    given = weights if weights is not None else {a: 1.0 for a in won}
    unknown = sorted(a for a in given if a not in index)
    for account_id, weight in given.items():
        if account_id in index:
            reference[index[account_id]] = weight
    mm = build_map(table, reference, clusters=clusters, seed=seed)

    open_ = np.array([a not in owned and a not in customers and a not in won for a in table.ids.tolist()], dtype=bool)
    ranked = np.flatnonzero(open_ & (reference == 0))
    ranked = ranked[np.lexsort((table.ids[ranked].astype(str), -mm.fit_score[ranked]))][:top]
    near = similar_accounts(mm, ranked, similar)
    report: dict[str, Any] = {
        "accounts": table.n,
        "references": {"positive": int((reference > 0).sum()), "negative": int((reference < 0).sum()),
                       "source": "weights file" if weights is not None else "closed-won opportunities",
                       "unknown_ids": unknown[:20]},
        "features": mm.features,
        "tiers": {str(t): int((mm.tier == t).sum()) for t in range(1, 6)},
        "clusters": [
            {"cluster": c + 1, "name": name, "accounts": int((mm.cluster == c).sum()),
             "mean_fit_score": round(float(mm.fit_score[mm.cluster == c].mean()), 1) if (mm.cluster == c).any()
             else 0.0, "references": int(((mm.cluster == c) & (reference > 0)).sum())}
            for c, name in enumerate(mm.cluster_names)
        ],
        "top_unassigned": [
            {"account_id": str(table.ids[i]), "fit_score": float(mm.fit_score[i]), "tier": int(mm.tier[i]),
             "cluster": mm.cluster_names[int(mm.cluster[i])], "similar": [str(table.ids[j]) for j in near[k]]}
            for k, i in enumerate(ranked.tolist())
        ],
        "written": 0,
    }
    if write_back:
        report["written"] = write_scores(ctx, mm)
    return report, mm


def write_scores(ctx: Context, mm: MarketMap) -> int:
    """``accounts.fit_score`` = the map's score for every mapped account: one bulk UPDATE, one transaction."""
    params = [{"k": str(a), "v": float(s)} for a, s in zip(mm.ids.tolist(), mm.fit_score.tolist(), strict=True)]
    with ctx.writing(lock=True) as conn:
        conn.execute(update(accounts).where(accounts.c.account_id == bindparam("k")).values(fit_score=bindparam("v")),
                     params)
    log.info("market-map wrote fit_score for %d accounts (as of %s, actor %s)", len(params),
             ctx.now.day.isoformat(), ctx.actor)
    return len(params)


def write_csv(mm: MarketMap, path: Path, similar: int = 10) -> int:
    """Every account: ``account_id,fit_score,tier,cluster,similar`` (similar ids separated by ``;``)."""
    rows = np.arange(len(mm.ids))
    near = similar_accounts(mm, rows, similar) if similar else np.zeros((len(rows), 0), dtype=np.int64)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["account_id", "fit_score", "tier", "cluster", "similar"])
        for i in rows.tolist():
            w.writerow([mm.ids[i], f"{mm.fit_score[i]:.1f}", int(mm.tier[i]), mm.cluster_names[int(mm.cluster[i])],
                        ";".join(str(mm.ids[j]) for j in near[i])])
    return len(rows)
