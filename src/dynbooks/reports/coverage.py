"""Coverage: how much of the market is being worked (SPEC §6, §10 Reports).

One row per book rule (config order), then a row ``rule = "all"`` for accounts matching any rule (left
out under ``--rule``). ``tam``: enrolled, not retired, matching the rule. ``nbtam``: TAM less customers
and accounts with an open opportunity. ``worked_30/60/90``: the share of NBTAM (a fraction, null when
NBTAM is 0) with a meaningful activity by anyone within N days of the as-of date, i.e. ``as_of − day < N``
(the complement of "not worked for N days", SPEC §10 Time). ``never_worked``: NBTAM accounts with no
meaningful activity ever. ``owned_unworked``: accounts owned under the rule on which the owner has logged
no meaningful activity since assignment (``--team/--manager/--rep`` narrow this count to those reps).

``extra["bands"]``: the same counts over the whole TAM by fit band (quartiles of the TAM's fit scores;
ties go to the higher band; ``fit: none`` without a score) and by timing band (a live signal or not).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from dynbooks.domain.clock import Now, day_number
from dynbooks.domain.rules import Config
from dynbooks.reports.data import NO_DAY, AccountTable, load_accounts, load_reps, owned_rows, rep_in_scope
from dynbooks.reports.model import Report, ReportFilters

__all__ = ["COLUMNS", "coverage", "coverage_counts"]

COLUMNS = ["rule", "tam", "nbtam", "worked_30", "worked_60", "worked_90", "owned_unworked", "never_worked", "owned"]
Mask = npt.NDArray[np.bool_]


def coverage_counts(table: AccountTable, tam: Mask, today: int) -> dict[str, Any]:
    """TAM, NBTAM, worked shares and never-worked for the accounts in ``tam``."""
    nb = table.nbtam(tam)
    n_nb = int(nb.sum())
    ages = today - table.last_activity
    out: dict[str, Any] = {"tam": int(tam.sum()), "nbtam": n_nb}
    for days in (30, 60, 90):
        worked = nb & (table.last_activity != NO_DAY) & (ages < days)
        out[f"worked_{days}"] = round(int(worked.sum()) / n_nb, 4) if n_nb else None
    out["never_worked"] = int((nb & (table.last_activity == NO_DAY)).sum())
    return out


def coverage(conn: Connection, config: Config, now: Now, filters: ReportFilters) -> Report:
    table = load_accounts(conn, config, now, activity=True, opportunity=True, signal=True)
    today = day_number(now.day)
    owned = owned_rows(conn, config, now)
    reps = load_reps(conn)
    people = dataclasses.replace(filters, rule=None)
    in_scope = owned.rep_mask(lambda rep_id: rep_in_scope(reps.get(rep_id), people))
    unworked = ~owned.touched & in_scope

    rules = [r for r in config.book_rule if filters.rule is None or r.name == filters.rule]
    rows: list[dict[str, Any]] = []
    for rule in rules:
        counts = coverage_counts(table, table.tam(config, [rule]), today)
        mine = owned.rule == rule.name
        rows.append({"rule": rule.name, **counts, "owned_unworked": int((unworked & mine).sum()),
                     "owned": int((in_scope & mine).sum())})
    all_tam = table.tam(config, config.book_rule)
    if filters.rule is None:
        rows.append({"rule": "all", **coverage_counts(table, all_tam, today),
                     "owned_unworked": int(unworked.sum()), "owned": int(in_scope.sum())})
    bands_tam = table.tam(config, rules)
    return Report("coverage", now.day, list(COLUMNS), rows, {"bands": _bands(table, bands_tam, today)})


def _bands(table: AccountTable, tam: Mask, today: int) -> list[dict[str, Any]]:
    fit = table.columns["fit_score"]
    scored = tam & ~np.isnan(fit)
    bands: list[tuple[str, Mask]] = []
    if scored.any():
        q25, q50, q75 = np.quantile(fit[scored], [0.25, 0.5, 0.75])
        with np.errstate(invalid="ignore"):
            bands += [
                ("fit: top 25%", scored & (fit >= q75)),
                ("fit: 50-75%", scored & (fit >= q50) & (fit < q75)),
                ("fit: 25-50%", scored & (fit >= q25) & (fit < q50)),
                ("fit: bottom 25%", scored & (fit < q25)),
            ]
    bands.append(("fit: none", tam & np.isnan(fit)))
    bands.append(("timing: live signal", tam & table.live_signal))
    bands.append(("timing: none", tam & ~table.live_signal))
    return [{"band": name, **coverage_counts(table, np.asarray(mask, dtype=np.bool_), today)} for name, mask in bands]
