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

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.reports.aggregate import AccountCube, account_cube, owned_groups
from dynbooks.reports.data import load_reps, rep_in_scope
from dynbooks.reports.model import Report, ReportFilters

__all__ = ["COLUMNS", "coverage"]

COLUMNS = ["rule", "tam", "nbtam", "worked_30", "worked_60", "worked_90", "owned_unworked", "never_worked", "owned"]
Mask = npt.NDArray[np.bool_]


def coverage(conn: Connection, config: Config, now: Now, filters: ReportFilters) -> Report:
    cube = account_cube(conn, config, now, config.book_rule, signal=True, fit=True)
    groups = owned_groups(conn, config, now)
    reps = load_reps(conn)
    people = dataclasses.replace(filters, rule=None)
    kept = {rep_id: rep_in_scope(reps.get(rep_id), people) for rep_id in set(groups.rep_id)}
    in_scope = np.array([kept[r] for r in groups.rep_id], dtype=bool)
    rule_of = np.array([str(r) for r in groups.rule], dtype=object)

    def owned_counts(mask: Mask) -> dict[str, int]:
        return {"owned_unworked": int(groups.untouched[in_scope & mask].sum()),
                "owned": int(groups.size[in_scope & mask].sum())}

    rules = [r for r in config.book_rule if filters.rule is None or r.name == filters.rule]
    rows: list[dict[str, Any]] = []
    for rule in rules:
        counts = cube.counts(cube.tam([rule.name]))
        rows.append({"rule": rule.name, **counts, **owned_counts(np.asarray(rule_of == rule.name, dtype=np.bool_))})
    if filters.rule is None:
        everything = np.ones(len(groups.rep_id), dtype=bool)
        rows.append({"rule": "all", **cube.counts(cube.tam([r.name for r in config.book_rule])),
                     **owned_counts(everything)})
    bands_tam = cube.tam([r.name for r in rules])
    return Report("coverage", now.day, list(COLUMNS), rows, {"bands": _bands(cube, bands_tam)})


def _bands(cube: AccountCube, tam: Mask) -> list[dict[str, Any]]:
    fit = cube.fit
    scored = tam & ~np.isnan(fit)
    bands: list[tuple[str, Mask]] = []
    if scored.any():
        # The quartiles of the TAM's scores, one value per account (the groups hold each score's count).
        q25, q50, q75 = np.quantile(np.repeat(fit[scored], cube.count[scored]), [0.25, 0.5, 0.75])
        with np.errstate(invalid="ignore"):
            bands += [
                ("fit: top 25%", scored & (fit >= q75)),
                ("fit: 50-75%", scored & (fit >= q50) & (fit < q75)),
                ("fit: 25-50%", scored & (fit >= q25) & (fit < q50)),
                ("fit: bottom 25%", scored & (fit < q25)),
            ]
    bands.append(("fit: none", tam & np.isnan(fit)))
    bands.append(("timing: live signal", tam & cube.live))
    bands.append(("timing: none", tam & ~cube.live))
    return [{"band": name, **cube.counts(np.asarray(mask, dtype=np.bool_))} for name, mask in bands]
