"""Market-map benchmark: ``python -m dynbooks.bench market-map [--json] [--accounts N] [--similar M]``.

Builds a generated market with planted lookalikes (:mod:`dynbooks.marketmap.synthetic`: 3% closed-won
references, 3% planted prospects of the same profile, three firmographic and two custom fields), then times
each step of :func:`dynbooks.marketmap.model.build_map` as one call (features + embedding, scores, clusters,
2-D layout) and the similar-accounts search for ``M`` accounts (default: the best-scored 10,000). Reports
the seconds, the AUC of the planted lookalikes against the rest of the market, and the peak memory.
The database round trip (reading and the bulk UPDATE of ``--write-back``) is not included.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from dynbooks.bench import peak_rss_mb
from dynbooks.bench.allocate import machine
from dynbooks.marketmap.model import build_map, similar_accounts
from dynbooks.marketmap.synthetic import planted_market

__all__ = ["main"]


def run(accounts: int, similar: int, seed: int = 0) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    t0 = time.perf_counter()
    market = planted_market(accounts, seed=seed)
    t1 = time.perf_counter()
    mm = build_map(market.table, market.reference, seed=seed)
    t2 = time.perf_counter()
    rows = np.argsort(-mm.fit_score, kind="stable")[: min(similar, accounts)]
    near = similar_accounts(mm, rows, 10)
    t3 = time.perf_counter()
    others = market.reference == 0
    return {
        "benchmark": "market-map",
        "accounts": accounts,
        "references": int((market.reference > 0).sum()),
        "features": mm.features,
        "generate_s": round(t1 - t0, 2),
        "build_map_s": round(t2 - t1, 2),
        "similar_accounts": len(rows),
        "similar_s": round(t3 - t2, 2),
        "total_s": round(t3 - t1, 2),
        "auc_planted_lookalikes": round(float(roc_auc_score(market.lookalike[others], mm.fit_score[others])), 4),
        "similar_shape": list(near.shape),
        "peak_rss_mb": round(peak_rss_mb()),
        "machine": machine(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynbooks.bench market-map")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--similar", type=int, default=10_000, help="accounts whose 10 nearest are searched")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.accounts, args.similar, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0
