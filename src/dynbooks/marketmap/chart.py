"""The 2-D market map as a PNG (matplotlib, Agg): accounts by tier, references marked, clusters named."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from dynbooks.marketmap.model import MarketMap

__all__ = ["draw_map"]

MAX_POINTS = 50_000


def draw_map(mm: MarketMap, path: Path, *, seed: int = 0) -> Path:
    """Scatter of the accounts on the map's two axes (a fixed sample of at most 50,000), coloured by tier
    (1 dark = best), the references as black crosses and each cluster's name at its centre."""
    n = len(mm.ids)
    rows = np.arange(n)
    if n > MAX_POINTS:
        rows = np.sort(np.random.default_rng(seed).choice(n, MAX_POINTS, replace=False))
    fig, ax = plt.subplots(figsize=(11, 8))
    colours = plt.get_cmap("viridis")
    for tier in range(5, 0, -1):
        at = rows[mm.tier[rows] == tier]
        ax.scatter(mm.xy[at, 0], mm.xy[at, 1], s=4, alpha=0.5, color=colours((tier - 1) / 4.5),
                   label=f"tier {tier} ({int((mm.tier == tier).sum()):,})")
    ref = np.flatnonzero(mm.reference > 0)
    ax.scatter(mm.xy[ref, 0], mm.xy[ref, 1], s=14, marker="x", color="black", label=f"references ({len(ref):,})")
    neg = np.flatnonzero(mm.reference < 0)
    if len(neg):
        ax.scatter(mm.xy[neg, 0], mm.xy[neg, 1], s=14, marker="x", color="red", label=f"avoid ({len(neg):,})")
    for c, name in enumerate(mm.cluster_names):
        inside = mm.cluster == c
        if inside.any():
            x, y = np.median(mm.xy[inside], axis=0)
            ax.annotate(name, (x, y), fontsize=8, ha="center",
                        bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8})
    ax.set(title=f"Market map: {n:,} accounts by lookalike fit to {len(ref):,} references",
           xlabel="map axis 1", ylabel="map axis 2")
    ax.legend(fontsize=8, markerscale=3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
