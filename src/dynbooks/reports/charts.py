"""Charts (PNG, matplotlib's Agg backend) for the reports a picture reads better than a table.

balance: fill per rep (a line at 100%); returns: count per reason per period (stacked); flow: the flows per
period; coverage: the share of NBTAM worked in 30/60/90 days by rule. Other reports have no chart:
asking for one is a :class:`UsageError` that says so.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from dynbooks.domain.errors import UsageError
from dynbooks.reports.model import Report

__all__ = ["CHARTS", "chart"]


def _balance(report: Report, fig: Figure) -> None:
    ax = fig.subplots()
    reps = [r["rep_id"] for r in report.rows]
    fills = [100 * (r["fill"] or 0) for r in report.rows]
    colours = ["#c0392b" if f > 100 else "#2e86c1" for f in fills]
    ax.bar(reps, fills, color=colours)
    ax.axhline(100, color="#555", linestyle="--", linewidth=1)
    ax.set_ylabel("fill (% of capacity)")
    ax.set_title(f"Balance as of {report.as_of.isoformat()}")
    ax.tick_params(axis="x", labelrotation=60)


def _returns(report: Report, fig: Figure) -> None:
    ax = fig.subplots()
    periods = [t["period"] for t in report.extra["trend"][0]["counts"]] if report.extra.get("trend") else []
    by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in report.rows:
        by[row["reason"]][row["period"]] += row["count"]
    bottom = [0] * len(periods)
    for reason in sorted(by):
        values = [by[reason].get(p, 0) for p in periods]
        ax.bar(periods, values, bottom=bottom, label=reason)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("returns")
    ax.set_title(f"Returns by reason, as of {report.as_of.isoformat()}")
    ax.tick_params(axis="x", labelrotation=60)
    if by:
        ax.legend(fontsize="small")


def _flow(report: Report, fig: Figure) -> None:
    ax = fig.subplots()
    periods = [r["period"] for r in report.rows]
    for key in ("distributed", "returned", "retrieved", "released", "converted"):
        ax.plot(periods, [r[key] for r in report.rows], marker="o", label=key)
    ax.set_ylabel("accounts")
    ways = report.extra.get("runway_weeks")
    ax.set_title(f"Flow; ready pool {report.extra.get('ready_pool')}, runway {ways if ways is not None else '-'} weeks")
    ax.tick_params(axis="x", labelrotation=60)
    ax.legend(fontsize="small")


def _coverage(report: Report, fig: Figure) -> None:
    ax = fig.subplots()
    rules = [r["rule"] for r in report.rows]
    width = 0.27
    for i, days in enumerate((30, 60, 90)):
        xs = [j + (i - 1) * width for j in range(len(rules))]
        ax.bar(xs, [100 * (r[f"worked_{days}"] or 0) for r in report.rows], width, label=f"{days} days")
    ax.set_xticks(range(len(rules)), rules)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of new-business TAM worked")
    ax.set_title(f"Coverage as of {report.as_of.isoformat()}")
    ax.legend(fontsize="small")


CHARTS: dict[str, Any] = {"balance": _balance, "returns": _returns, "flow": _flow, "coverage": _coverage}


def chart(report: Report, path: Path) -> None:
    """Draw ``report`` to the PNG file ``path``; a report without a chart raises :class:`UsageError`."""
    draw = CHARTS.get(report.name)
    if draw is None:
        raise UsageError(
            f"report {report.name!r} has no chart; charts exist for {', '.join(sorted(CHARTS))}"
        )
    fig = plt.figure(figsize=(10, 5.5))
    try:
        draw(report, fig)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100)
    finally:
        plt.close(fig)
