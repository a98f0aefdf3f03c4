"""``dynbooks simulate`` and ``dynbooks calc book-size`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BASE = [sys.executable, "-c", "from dynbooks.cli import main; main()"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BASE, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_jane_and_joe_are_still_the_seeds_table(tmp_path: Path) -> None:
    p = run("simulate", "--scenario", "jane-joe", "--json", cwd=tmp_path)
    doc = json.loads(p.stdout)
    assert doc["static"] == {"opportunities": 8, "book_productivity": 0.0667, "per_rep": {"Jane": 2, "Joe": 6}}
    assert doc["dynamic"] == {"opportunities": 12, "book_productivity": 0.1, "per_rep": {"Jane": 6, "Joe": 6}}


def test_a_scenario_prints_the_models_side_by_side_and_draws_charts(tmp_path: Path) -> None:
    p = run("simulate", "--scenario", "two-regions", "--days", "14", "--seed", "2", "--chart", "sim.png",
            cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    for label in ("static (geographic)", "wild west", "round robin", "dynamic books", "Gini of attainment"):
        assert label in p.stdout
    assert (tmp_path / "sim.png").stat().st_size > 10_000


def test_what_if_options_need_the_what_if_scenario_and_unknown_scenarios_are_usage_errors(tmp_path: Path) -> None:
    assert run("simulate", "--scenario", "org", "--retrieve-after-days", "30", cwd=tmp_path).returncode == 2
    assert run("simulate", "--scenario", "nowhere", cwd=tmp_path).returncode == 2


def test_book_size_shows_the_sales_cycle_and_the_territory_shrink(tmp_path: Path) -> None:
    p = run("calc", "book-size", "--activities-per-day", "50", "--touches-per-contact", "5",
            "--contacts-per-account", "2", "--cadence-days", "10", "--sales-cycle-days", "30",
            "--return-rate-per-week", "0.1", "--weeks", "4", "--json", cwd=tmp_path)
    doc = json.loads(p.stdout)
    assert doc["book_size"] == 50 and doc["accounts_per_sales_cycle"] == 150
    assert doc["shrink"]["supply_by_week"] == [50, 45, 40.5, 36.45, 32.8]
    assert doc["shrink"]["half_life_weeks"] == 6.58
