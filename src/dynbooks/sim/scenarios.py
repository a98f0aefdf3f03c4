"""Scenarios: the four models on one market, and the what-if on a user's own database.

- :func:`org`: the sample organisation of :mod:`dynbooks.sample` (5 managers × 8 SDRs on three segment
  rules, a realistic market with tenure-skewed CRM ownership), imported by the real import service into
  a temporary database, then static territories, wild west, round robin and dynamic books side by side.
- :func:`two_regions`: a small market where the static carve is unequal (a rich and a poor region with
  the same number of reps), for tests and for a quick look.
- :func:`what_if`: dynamic books on the user's imported data and configuration, as configured and with
  the changes asked for (e.g. ``retrieve_after_days = 30``), side by side.

Deterministic for a seed: the only randomness is ``numpy.random.default_rng(seed)``; no wall clock.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from dynbooks.config import load_config
from dynbooks.domain.clock import Now
from dynbooks.domain.errors import InvalidInput
from dynbooks.domain.rules import Config
from dynbooks.services.context import Context
from dynbooks.services.imports import import_file
from dynbooks.sim.agents import Model, run
from dynbooks.sim.engine import DynamicBooks, scratch_engine
from dynbooks.sim.models import RoundRobin, StaticTerritories, WildWest
from dynbooks.sim.report import summarise
from dynbooks.sim.world import Behaviour, World, load_world

__all__ = ["DAY0", "org", "simulate_world", "two_regions", "what_if", "what_if_config", "write_two_regions"]

DAY0 = date(2026, 3, 2)
"""The first simulated day of the built-in scenarios (a Monday), so runs never depend on today."""

Progress = Callable[[str], None]


def simulate_world(world: World, models: list[Model], *, scenario: str, seed: int,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Run every model on ``world``; the report has ``models`` (name → summary) and the market's figures."""
    out: dict[str, Any] = {}
    for model in models:
        if progress:
            progress(model.name)
        out[model.name] = summarise(world, run(world, model))
    return {
        "scenario": scenario, "seed": seed, "days": world.days, "first_day": world.day0.isoformat(),
        "role": world.role, "reps": len(world.reps), "tam": int(world.tam.sum()),
        "behaviour": world.behaviour.__dict__, "models": out,
    }


def four_models(carve: str = "region") -> list[Model]:
    """Static territories, wild west, round robin and dynamic books. Static territories, round robin and
    dynamic books start from empty books on day one (a switch re-deals everything); the wild west starts
    from today's CRM ownership, which is what it is."""
    return [StaticTerritories(carve), WildWest(), RoundRobin(), DynamicBooks(fresh_start=True)]


@contextmanager
def _imported(folder: Path, day0: date) -> Iterator[tuple[Engine, Config]]:
    """Import the CSVs in ``folder`` (with its dynbooks.toml) into a fresh temporary SQLite database."""
    work = Path(tempfile.mkdtemp(prefix="dynbooks-sim-src-"))
    engine = scratch_engine(work / "source.db")
    try:
        config = load_config(folder / "dynbooks.toml")
        ctx = Context(engine, config, Now.of_date(day0), actor="simulator")
        for kind in ("reps", "accounts", "activities", "signals", "opportunities"):
            if (folder / f"{kind}.csv").exists():
                import_file(ctx, kind, folder / f"{kind}.csv")
        yield engine, config
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


def org(seed: int = 7, days: int = 91, *, accounts: int = 20_000, carve: str = "region",
        behaviour: Behaviour | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """5 managers × 8 SDRs on the sample organisation's market, the four models side by side."""
    from dynbooks.sample import generate

    folder = Path(tempfile.mkdtemp(prefix="dynbooks-sim-org-"))
    try:
        generate(folder, seed=seed, accounts=accounts, as_of=DAY0)
        with _imported(folder, DAY0) as (engine, config):
            world = load_world(engine, config, DAY0, days, np.random.default_rng(seed), role="sdr",
                               behaviour=behaviour)
            return simulate_world(world, four_models(carve), scenario="org", seed=seed, progress=progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


TWO_REGIONS_TOML = """\
[enrollment]
filter = { is_customer = false }

[activity]
meaningful_types = ["call"]

[[book_rule]]
name = "sdr"
role = "sdr"
target_size = 100
retrieve_after_days = 14
rest_days = 30
cooldown_days = 30
"""


def write_two_regions(folder: Path, rng: np.random.Generator, *, reps_per_region: int = 3, north: int = 2500,
                      south: int = 400) -> Path:
    """Write the two-regions market (``dynbooks.toml``, ``reps.csv``, ``accounts.csv``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dynbooks.toml").write_text(TWO_REGIONS_TOML, encoding="utf-8")
    with (folder / "reps.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["rep_id", "name", "book_rule", "team", "start_date"])
        for k in range(2 * reps_per_region):
            w.writerow([f"rep-{k + 1:02d}", f"Rep {k + 1}", "sdr", "north" if k < reps_per_region else "south",
                        "2024-01-01"])
    with (folder / "accounts.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "name", "industry", "region", "fit_score", "employees"])
        for region, (a, b), size in (("North", (5.0, 2.0), north), ("South", (2.0, 6.0), south)):
            fits = 100 * rng.beta(a, b, size)
            for i, fit in enumerate(fits.tolist()):
                w.writerow([f"{region[0]}-{i + 1:04d}", f"{region} {i + 1}", "Software", region, f"{fit:.1f}",
                            int(rng.integers(10, 5000))])
    return folder


def two_regions(seed: int = 1, days: int = 63, *, models: list[Model] | None = None,
                progress: Progress | None = None, **sizes: int) -> dict[str, Any]:
    """A small market in the seeds' spirit: the ``North`` is rich (fit mostly high), the ``South`` poor
    (fit mostly low) and smaller; the static carve gives each region the same number of reps, as the seeds'
    Jane and Joe example does. ``sizes``: ``reps_per_region``, ``north``, ``south``."""
    rng = np.random.default_rng(seed)
    folder = Path(tempfile.mkdtemp(prefix="dynbooks-sim-two-"))
    try:
        write_two_regions(folder, rng, **sizes)
        with _imported(folder, DAY0) as (engine, config):
            world = load_world(engine, config, DAY0, days, rng, role="sdr")
            chosen = models or [StaticTerritories("region", seats="equal"), WildWest(), RoundRobin(),
                                DynamicBooks(fresh_start=True)]
            return simulate_world(world, chosen, scenario="two-regions", seed=seed, progress=progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


WHAT_IF_KEYS = ("retrieve_after_days", "rest_days", "target_size", "cooldown_days")


def what_if_config(config: Config, role: str | None, changes: dict[str, int]) -> Config:
    """``config`` with ``changes`` applied to every book rule of ``role`` (all roles when None),
    validated as a file would be."""
    unknown = sorted(set(changes) - set(WHAT_IF_KEYS))
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(unknown)} in a what-if; use {', '.join(WHAT_IF_KEYS)}")
    data = config.model_dump()
    for rule in data["book_rule"]:
        if role is None or rule["role"] == role:
            rule.update(changes)
    try:
        return Config.model_validate(data)
    except ValueError as exc:
        raise InvalidInput(f"the what-if configuration is not valid: {exc}") from None


def what_if(engine: Engine, config: Config, day0: date, *, changes: dict[str, int], seed: int = 7, days: int = 91,
            role: str | None = None, behaviour: Behaviour | None = None,
            progress: Progress | None = None) -> dict[str, Any]:
    """Dynamic books on the user's own data: as configured, then with ``changes``. The user's database is
    only read; each run works on its own temporary copy."""
    world = load_world(engine, config, day0, days, np.random.default_rng(seed), role=role, behaviour=behaviour)
    label = ", ".join(f"{k} = {v}" for k, v in sorted(changes.items())) or "no change"
    models: list[Model] = [DynamicBooks(config, "as configured"),
                           DynamicBooks(what_if_config(config, world.role, changes), f"what if: {label}")]
    report = simulate_world(world, models, scenario="what-if", seed=seed, progress=progress)
    report["changes"] = changes
    return report
