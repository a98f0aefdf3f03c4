"""The market map: planted lookalikes score highest, tiers and clusters, similar accounts, write-back."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy import select

from dynbooks.config import load_config
from dynbooks.domain.clock import Now
from dynbooks.domain.errors import InvalidInput
from dynbooks.marketmap import build_map, similar_accounts, tier_of
from dynbooks.marketmap.service import map_market
from dynbooks.marketmap.synthetic import planted_market
from dynbooks.services.context import Context
from dynbooks.services.cycle import run_cycle
from dynbooks.services.imports import import_file
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import accounts, assignments

DAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def planted():  # type: ignore[no-untyped-def]
    market = planted_market(3000, seed=11)
    return market, build_map(market.table, market.reference, clusters=6, seed=0)


def test_planted_lookalikes_score_highest(planted) -> None:  # type: ignore[no-untyped-def]
    market, mm = planted
    others = market.reference == 0
    auc = roc_auc_score(market.lookalike[others], mm.fit_score[others])
    print(f"market-map AUC of planted lookalikes: {auc:.4f}")
    assert auc > 0.97
    assert np.mean(mm.tier[market.lookalike] == 1) > 0.9


def test_scores_run_from_0_to_100_and_tiers_are_fifths(planted) -> None:  # type: ignore[no-untyped-def]
    _, mm = planted
    assert mm.fit_score.min() == 0.0 and mm.fit_score.max() == 100.0
    assert set(np.unique(mm.tier)) == {1, 2, 3, 4, 5}
    assert list(tier_of(np.array([100.0, 80.0, 79.9, 40.0, 19.9, 0.0]))) == [1, 1, 2, 3, 5, 5]
    counts = np.bincount(mm.tier)[1:]
    assert counts.min() > 0.18 * len(mm.ids)


def test_clusters_are_named_by_their_dominant_features(planted) -> None:  # type: ignore[no-untyped-def]
    market, mm = planted
    assert len(mm.cluster_names) == 6 and len(set(mm.cluster_names)) == 6
    home = np.bincount(mm.cluster[market.reference > 0]).argmax()
    assert "Salesforce" in mm.cluster_names[home] or "high tech_spend" in mm.cluster_names[home]


def test_similar_accounts_are_others_nearest_first(planted) -> None:  # type: ignore[no-untyped-def]
    market, mm = planted
    rows = np.flatnonzero(market.lookalike)[:5]
    near = similar_accounts(mm, rows, 10)
    assert near.shape == (5, 10)
    for row, found in zip(rows, near, strict=True):
        assert row not in found
        distances = np.linalg.norm(mm.embedding[found] - mm.embedding[row], axis=1)
        assert np.all(np.diff(distances) >= -1e-5)
        like = market.lookalike[found] | (market.reference[found] > 0)
        assert like.mean() >= 0.3  # ten times the market's 3%


def test_negative_references_push_their_lookalikes_down() -> None:
    market = planted_market(2000, seed=3)
    weights = market.reference.copy()
    base = build_map(market.table, weights, seed=0)
    weights[np.flatnonzero(market.lookalike)[:20]] = -1.0
    pushed = build_map(market.table, weights, seed=0)
    rest = np.flatnonzero(market.lookalike)[20:]
    assert pushed.fit_score[rest].mean() < base.fit_score[rest].mean()


def test_the_same_seed_gives_the_same_map() -> None:
    market = planted_market(800, seed=5)
    a = build_map(market.table, market.reference, seed=1)
    b = build_map(market.table, market.reference, seed=1)
    assert np.array_equal(a.fit_score, b.fit_score) and np.array_equal(a.cluster, b.cluster)


def test_no_references_is_refused() -> None:
    market = planted_market(100, seed=1)
    with pytest.raises(InvalidInput):
        build_map(market.table, np.zeros(100))


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def crm(tmp_path: Path) -> tuple[Path, Context]:
    """A small CRM: 60 customers won on a profile, 60 prospects like them (crm_system custom field),
    240 others; no fit scores; two SDRs with books of 30."""
    market = planted_market(400, customers=0.15, lookalikes=0.15, seed=2)
    t = market.table
    rows = [[a, f"Company {i}", t.categorical["industry"][i], int(t.numeric["employees"][i]),
             round(float(t.numeric["annual_revenue"][i])), t.categorical["country"][i], t.categorical["crm_system"][i],
             round(float(t.numeric["tech_spend"][i]), 1), "true" if market.reference[i] > 0 else "false"]
            for i, a in enumerate(t.ids.tolist())]
    _write(tmp_path / "accounts.csv", ["account_id", "name", "industry", "employees", "annual_revenue", "country",
                                       "crm_system", "tech_spend", "is_customer"], rows)
    _write(tmp_path / "reps.csv", ["rep_id", "name", "book_rule"], [["r1", "Ann", "sdr"], ["r2", "Bob", "sdr"]])
    won = [[f"o{i}", a, "r1", "2025-06-01", "Closed Won", 1000, "true", "true", "2025-09-01"]
           for i, a in enumerate(t.ids[market.reference > 0].tolist())]
    _write(tmp_path / "opportunities.csv", ["opportunity_id", "account_id", "rep_id", "created_at", "stage", "amount",
                                            "is_closed", "is_won", "closed_at"], won)
    (tmp_path / "dynbooks.toml").write_text(
        '[enrollment]\nfilter = { is_customer = false }\n[[book_rule]]\nname = "sdr"\nrole = "sdr"\n'
        "target_size = 30\n", encoding="utf-8")
    engine = connect(f"sqlite:///{tmp_path / 'dynbooks.db'}")
    upgrade(engine)
    ctx = Context(engine, load_config(tmp_path / "dynbooks.toml"), Now.of_date(DAY))
    for kind in ("reps", "accounts", "opportunities"):
        import_file(ctx, kind, tmp_path / f"{kind}.csv")
    np.save(tmp_path / "lookalike.npy", market.lookalike)
    return tmp_path, ctx


def test_write_back_stores_the_score_and_distribution_deals_the_lookalikes_first(crm: tuple[Path, Context]) -> None:
    folder, ctx = crm
    lookalike = np.load(folder / "lookalike.npy")
    report, mm = map_market(ctx, write_back=True, top=10)
    assert report["written"] == 400 and report["references"]["positive"] == 60
    assert "crm_system" in report["features"] and "tech_spend" in report["features"]
    with ctx.reading() as conn:
        stored = dict(conn.execute(select(accounts.c.account_id, accounts.c.fit_score)).all())
    assert stored == {str(a): float(s) for a, s in zip(mm.ids, mm.fit_score, strict=True)}
    run_cycle(ctx)
    with ctx.reading() as conn:
        dealt = set(conn.execute(select(assignments.c.account_id)).scalars())
    planted_ids = {str(a) for a in mm.ids[lookalike]}
    assert len(dealt) == 60 and len(dealt & planted_ids) >= 55
    assert all(a["account_id"] in planted_ids for a in report["top_unassigned"][:10])


def test_the_cli_prints_the_map_as_json_and_draws_it(crm: tuple[Path, Context]) -> None:
    folder, _ = crm
    cmd = [sys.executable, "-c", "from dynbooks.cli import main; main()", "--as-of", "2026-03-02", "--json",
           "market-map", "--chart", "map.png", "--top", "3", "--clusters", "4"]
    p = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["accounts"] == 400 and doc["written"] == 0 and len(doc["clusters"]) == 4
    assert (folder / "map.png").stat().st_size > 10_000
