"""Proof-of-value commands: ``simulate`` (SPEC §7) and ``market-map``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dynbooks.cli import app
from dynbooks.cli.output import emit, err
from dynbooks.cli.state import Globals
from dynbooks.domain.errors import UsageError

SCENARIOS = ("jane-joe", "org", "two-regions", "what-if")


def _g(ctx: typer.Context) -> Globals:
    assert isinstance(ctx.obj, Globals)
    return ctx.obj


def _say(g: Globals) -> Any:
    def progress(model: str) -> None:
        if not g.json:
            err.print(f"simulating {model} …")
    return progress


@app.command()
def simulate(
    ctx: typer.Context,
    scenario: str = typer.Option("jane-joe", "--scenario", help=(
        "jane-joe: the seeds' worked example; org: 5 managers × 8 SDRs on a realistic market, the four "
        "models side by side; two-regions: a small market with an unequal static carve; what-if: your own "
        "--db and --config simulated forward, as configured and with the changes given.")),
    days: int = typer.Option(91, "--days", help="Days to simulate (a quarter by default)."),
    seed: int = typer.Option(7, "--seed", help="The random seed: the same seed gives the same result."),
    chart: Path | None = typer.Option(None, "--chart", help="Also draw the charts into this PNG."),
    accounts: int = typer.Option(20_000, "--accounts", help="org: accounts in the generated market."),
    carve: str = typer.Option("region", "--carve", help="org: static territories by region or industry."),
    role: str | None = typer.Option(None, "--role", help="what-if: the role to simulate (default: the first)."),
    retrieve_after_days: int | None = typer.Option(None, "--retrieve-after-days", help="what-if: the new value."),
    rest_days: int | None = typer.Option(None, "--rest-days", help="what-if: the new value."),
    target_size: int | None = typer.Option(None, "--target-size", help="what-if: the new value."),
    cooldown_days: int | None = typer.Option(None, "--cooldown-days", help="what-if: the new value."),
    touches_per_day: float | None = typer.Option(None, "--touches-per-day", help="Activities a rep makes a day."),
) -> None:
    """Static territories, wild west, round robin and dynamic books on the same market (SPEC §7)."""
    g = _g(ctx)
    if scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}; available: {', '.join(SCENARIOS)}")
    if scenario == "jane-joe":
        from dynbooks.sim import jane_joe, render_table

        result = jane_joe()
        emit(result, g.json, render_table(result))
        return
    if carve not in ("region", "industry"):
        raise UsageError("--carve takes region or industry")
    from dynbooks.sim.report import render
    from dynbooks.sim.scenarios import org, two_regions, what_if
    from dynbooks.sim.world import Behaviour

    behaviour = Behaviour() if touches_per_day is None else Behaviour(touches_per_day=touches_per_day)
    changes = {k: v for k, v in {"retrieve_after_days": retrieve_after_days, "rest_days": rest_days,
                                 "target_size": target_size, "cooldown_days": cooldown_days}.items() if v is not None}
    if changes and scenario != "what-if":
        raise UsageError("--retrieve-after-days, --rest-days, --target-size and --cooldown-days go with "
                         "--scenario what-if")
    if scenario == "org":
        report = org(seed, days, accounts=accounts, carve=carve, behaviour=behaviour, progress=_say(g))
    elif scenario == "two-regions":
        report = two_regions(seed, days, progress=_say(g))
    else:
        c = g.context()
        report = what_if(c.engine, c.config, c.now.day, changes=changes, seed=seed, days=days, role=role,
                         behaviour=behaviour, progress=_say(g))
    if chart is not None:
        from dynbooks.sim.charts import draw

        draw(report, chart)
        report["chart"] = str(chart)
    emit(report, g.json, render(report) + (f"\nchart: {chart}" if chart is not None else ""))
