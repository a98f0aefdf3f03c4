"""What a sales leader reads off a simulation: per model and side by side (JSON, a table).

Definitions (every figure is over the simulated period):

- ``opportunities``: opportunities created, per rep and in total.
- ``book_productivity``: opportunities / accounts worked (an account touched at least once), as SPEC §6.
- ``attainment``: a rep's opportunities over its quota, the quota being the team's opportunities shared in
  proportion to each rep's touch capacity (ramp counted), so 1.0 is "par"; ``gini`` is the Gini
  coefficient of attainment across reps (0 = everyone alike).
- ``tam_coverage``: share of the TAM (enrolled accounts matching a rep's rule) touched at least once;
  ``best_coverage``: the same for the best fifth of the TAM by latent quality.
- ``idle_share``: share of the reps' touch capacity left unused for want of an account to work.
- ``runway``: the ready pool at the end and the weeks it lasts at the last four weeks' draw rate
  (``dry_day``: the first weekly count at zero).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dynbooks.sim.agents import RunResult
from dynbooks.sim.world import World

__all__ = ["gini", "render", "summarise"]


def gini(values: np.ndarray) -> float:
    """The Gini coefficient of non-negative values (0 when all are equal or all are 0)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(x), float(x.sum())
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * x).sum()) / (n * total) - (n + 1) / n)


def _runway(result: RunResult) -> dict[str, Any]:
    series = result.ready_pool
    if not series:
        return {"ready_start": None, "ready_end": None, "weeks_left": None, "dry_day": None}
    dry = next((d for d, v in series if v == 0), None)
    end_day, end = series[-1]
    past = [(d, v) for d, v in series if d <= end_day - 28] or [series[0]]
    d0, v0 = past[-1]
    drawn_per_week = (v0 - end) / max(end_day - d0, 1) * 7
    weeks = 0.0 if end == 0 else None if drawn_per_week <= 0 else round(end / drawn_per_week, 1)
    return {"ready_start": series[0][1], "ready_end": end, "weeks_left": weeks, "dry_day": dry}


def summarise(world: World, result: RunResult) -> dict[str, Any]:
    opps = result.opportunities
    capacity = result.capacity.astype(np.float64)
    quota = opps.sum() * capacity / capacity.sum() if capacity.sum() else np.zeros(len(opps))
    attainment = np.divide(opps, quota, out=np.zeros(len(opps)), where=quota > 0)
    tam = world.tam
    best = tam & (world.quality >= np.quantile(world.quality[tam], 0.8)) if tam.any() else tam
    worked = int(result.touched.sum())
    total = int(opps.sum())
    idle = 1.0 - result.touches.sum() / capacity.sum() if capacity.sum() else 0.0
    per_rep = [
        {"rep_id": rep.rep_id, "name": rep.name, "team": rep.team, "manager": rep.manager,
         "opportunities": int(opps[r]), "accounts_worked": int(result.worked[r]), "touches": int(result.touches[r]),
         "capacity": int(result.capacity[r]), "mean_book": round(float(result.book_size[r]), 1),
         "attainment": round(float(attainment[r]), 3)}
        for r, rep in enumerate(world.reps)
    ]
    return {
        "opportunities": total,
        "book_productivity": round(total / worked, 4) if worked else 0.0,
        "accounts_worked": worked,
        "gini": round(gini(attainment), 4),
        "tam": int(tam.sum()),
        "tam_coverage": round(float((result.touched & tam).sum() / tam.sum()), 4) if tam.any() else 0.0,
        "best_coverage": round(float((result.touched & best).sum() / best.sum()), 4) if best.any() else 0.0,
        "idle_share": round(float(idle), 4),
        "runway": _runway(result),
        "per_rep": per_rep,
        "daily_opportunities": result.daily_opportunities,
        "ready_pool": [{"day": d, "ready": v} for d, v in result.ready_pool],
        **result.extra,
    }


ROWS = (
    ("opportunities", "Opportunities", "{:,}"),
    ("book_productivity", "Book productivity (opps / account worked)", "{:.1%}"),
    ("accounts_worked", "Accounts worked", "{:,}"),
    ("tam_coverage", "TAM coverage", "{:.1%}"),
    ("best_coverage", "Best fifth of TAM covered", "{:.1%}"),
    ("gini", "Gini of attainment (0 = even)", "{:.3f}"),
    ("idle_share", "Rep capacity idle", "{:.1%}"),
)


def render(report: dict[str, Any]) -> str:
    """The models side by side as aligned text, one metric per line, then the per-rep spread."""
    models = report["models"]
    names = list(models)
    rows = [["", *names]]
    for key, label, fmt in ROWS:
        rows.append([label, *(fmt.format(models[n][key]) for n in names)])
    rows.append(["Opps per rep: min / median / max", *(
        "{} / {:g} / {}".format(*_spread([r["opportunities"] for r in models[n]["per_rep"]])) for n in names)])
    rows.append(["Ready pool at end (weeks left)", *(_pool(models[n]["runway"]) for n in names)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    head = f"{report['scenario']}: {report['reps']} reps, {report['tam']:,} TAM accounts, {report['days']} days, " \
           f"seed {report['seed']}"
    return head + "\n\n" + "\n".join(lines) + "\n"


def _spread(values: list[int]) -> tuple[int, float, int]:
    return (min(values), float(np.median(values)), max(values)) if values else (0, 0.0, 0)


def _pool(runway: dict[str, Any]) -> str:
    if runway["ready_end"] is None:
        return "—"
    weeks = "∞" if runway["weeks_left"] is None else f"{runway['weeks_left']:g} wk"
    return f"{runway['ready_end']:,} ({weeks})"
