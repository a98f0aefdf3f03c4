"""PNG charts of a simulation (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["draw"]


def draw(report: dict[str, Any], path: Path) -> Path:
    """Four panels: cumulative opportunities by day, opportunities per rep (sorted), coverage and
    productivity, and the ready pool by week. Returns ``path``."""
    models = report["models"]
    colour = {name: f"C{i}" for i, name in enumerate(models)}  # one colour per model in every panel
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    ax = axes[0][0]
    for name, m in models.items():
        ax.plot(range(1, len(m["daily_opportunities"]) + 1), m["daily_opportunities"], label=name,
                color=colour[name])
    ax.set(title="Opportunities created (cumulative)", xlabel="day", ylabel="opportunities")
    ax.legend(fontsize=8)

    ax = axes[0][1]
    for name, m in models.items():
        per_rep = sorted((r["opportunities"] for r in m["per_rep"]), reverse=True)
        ax.plot(range(1, len(per_rep) + 1), per_rep, marker="o", markersize=3, color=colour[name],
                label=f"{name} (Gini {m['gini']:.2f})")
    ax.set(title="Opportunities per rep, best to worst", xlabel="rep rank", ylabel="opportunities")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    names = list(models)
    x = range(len(names))
    width = 0.27
    for k, (key, label) in enumerate((("tam_coverage", "TAM coverage"), ("best_coverage", "best fifth covered"),
                                      ("book_productivity", "book productivity"))):
        ax.bar([i + (k - 1) * width for i in x], [models[n][key] for n in names], width, label=label)
    ax.set_xticks(list(x), names, fontsize=8)
    ax.set(title="Coverage and productivity", ylabel="share")
    ax.legend(fontsize=8)

    ax = axes[1][1]
    drawn = False
    for name, m in models.items():
        if m["ready_pool"]:
            ax.plot([p["day"] for p in m["ready_pool"]], [p["ready"] for p in m["ready_pool"]], marker="o",
                    markersize=3, label=name, color=colour[name])
            drawn = True
    ax.set(title="Ready pool (runway)", xlabel="day", ylabel="accounts ready")
    if drawn:
        ax.legend(fontsize=8)
    fig.suptitle(f"dynbooks simulate — {report['scenario']}: {report['reps']} reps, {report['tam']:,} TAM accounts, "
                 f"{report['days']} days, seed {report['seed']}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
