"""The market simulator: deterministic for a seed, the four models on a small market, the what-if."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dynbooks.config import load_config
from dynbooks.domain.clock import Now
from dynbooks.domain.errors import InvalidInput
from dynbooks.services.context import Context
from dynbooks.services.imports import import_file
from dynbooks.sim.report import gini, render
from dynbooks.sim.scenarios import DAY0, two_regions, what_if, what_if_config, write_two_regions
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade


@pytest.fixture(scope="module")
def quarter() -> dict:
    return two_regions(seed=1, days=63)


def test_the_same_seed_gives_the_same_simulation() -> None:
    first = two_regions(seed=3, days=21, north=300, south=60)
    again = two_regions(seed=3, days=21, north=300, south=60)
    other = two_regions(seed=4, days=21, north=300, south=60)
    assert first == again
    assert first != other


def test_every_model_reports_the_figures_a_sales_leader_reads(quarter: dict) -> None:
    assert list(quarter["models"]) == ["static (geographic)", "wild west", "round robin", "dynamic books"]
    for model in quarter["models"].values():
        assert model["opportunities"] == sum(r["opportunities"] for r in model["per_rep"])
        assert len(model["per_rep"]) == 6
        assert 0 <= model["tam_coverage"] <= 1 and 0 <= model["gini"] <= 1
        assert model["accounts_worked"] <= quarter["tam"]
    assert "Opportunities" in render(quarter)


def test_dynamic_books_beat_unequal_static_territories_on_opportunities_and_coverage(quarter: dict) -> None:
    static, dynamic = quarter["models"]["static (geographic)"], quarter["models"]["dynamic books"]
    assert dynamic["opportunities"] > static["opportunities"]
    assert dynamic["tam_coverage"] > static["tam_coverage"]
    assert dynamic["gini"] < static["gini"]
    assert static["idle_share"] > dynamic["idle_share"]  # the poor region's reps run out of accounts


def test_dynamic_books_drive_the_real_engine(quarter: dict) -> None:
    engine = quarter["models"]["dynamic books"]["engine_events"]
    assert engine["distributed"] > 0 and engine["returned"] > 0
    assert quarter["models"]["dynamic books"]["ready_pool"], "the ready pool is read from the engine every week"


def test_gini_is_zero_for_equals_and_grows_with_inequality() -> None:
    assert gini(np.array([3, 3, 3])) == 0.0
    assert gini(np.array([0, 0, 9])) == pytest.approx(2 / 3)
    assert gini(np.array([0, 0, 0])) == 0.0


def test_a_what_if_on_imported_data_changes_what_the_engine_does(tmp_path: Path) -> None:
    folder = write_two_regions(tmp_path / "csv", np.random.default_rng(5), north=400, south=100)
    engine = connect(f"sqlite:///{tmp_path / 'user.db'}")
    upgrade(engine)
    config = load_config(folder / "dynbooks.toml")
    ctx = Context(engine, config, Now.of_date(DAY0))
    for kind in ("reps", "accounts"):
        import_file(ctx, kind, folder / f"{kind}.csv")
    report = what_if(engine, config, DAY0, changes={"retrieve_after_days": 3}, seed=2, days=28)
    base, changed = report["models"].values()
    assert list(report["models"]) == ["as configured", "what if: retrieve_after_days = 3"]
    assert changed["engine_events"]["retrieved"] > base["engine_events"]["retrieved"]
    assert changed["per_rep"] != base["per_rep"]
    # the user's database is only read
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from events where actor = 'simulator'").scalar() == 0


def test_a_what_if_refuses_keys_it_cannot_change() -> None:
    from dynbooks.domain.rules import Config

    with pytest.raises(InvalidInput):
        what_if_config(Config(), None, {"filter": 1})
