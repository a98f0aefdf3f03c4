"""Proof-of-value commands: ``simulate`` (SPEC §7) and ``market-map``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dynbooks.cli import app
from dynbooks.cli.output import emit, err
from dynbooks.cli.state import Globals, globals_of
from dynbooks.domain.errors import UsageError

SCENARIOS = ("jane-joe", "org", "two-regions", "what-if")


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
    g = globals_of(ctx)
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


@app.command("market-map")
def market_map(
    ctx: typer.Context,
    weights: Path | None = typer.Option(None, "--weights", help=(
        "CSV account_id,weight of reference accounts (negative: accounts you want fewer like); "
        "default: every closed-won opportunity's account, weight 1.")),
    clusters: int = typer.Option(8, "--clusters", min=1, max=50, help="How many clusters to name."),
    seed: int = typer.Option(0, "--seed"),
    top: int = typer.Option(20, "--top", min=0, help="How many of the best unassigned accounts to list."),
    similar: int = typer.Option(10, "--similar", min=0, max=10, help="Similar accounts listed per account."),
    chart: Path | None = typer.Option(None, "--chart", help="Draw the 2-D map into this PNG."),
    out_file: Path | None = typer.Option(None, "--out", help="Write every account's score, tier, cluster and "
                                         "similar accounts to this CSV."),
    write_back: bool = typer.Option(False, "--write-back", help="Store the score as fit_score (distribution "
                                    "ranks by it)."),
) -> None:
    """Lookalike fit scores 0–100 from similarity to your customers, tiers 1–5, named clusters, similar
    accounts and a 2-D map (SPEC §7)."""
    from dynbooks.cli.output import table
    from dynbooks.marketmap.service import map_market, read_weights, write_csv

    g = globals_of(ctx)
    c = g.context()
    given = read_weights(weights) if weights is not None else None
    report, mm = map_market(c, weights=given, clusters=clusters, seed=seed, top=top, similar=similar,
                            write_back=write_back)
    if chart is not None:
        from dynbooks.marketmap.chart import draw_map

        draw_map(mm, chart, seed=seed)
        report["chart"] = str(chart)
    if out_file is not None:
        write_csv(mm, out_file, similar)
        report["out"] = str(out_file)
    if g.json:
        emit(report, True)
        return
    refs = report["references"]
    err.print(f"{report['accounts']:,} accounts scored against {refs['positive']:,} references "
              f"({refs['source']}); features: {', '.join(report['features'])}")
    table("tiers", ["tier", "accounts"], [[t, f"{n:,}"] for t, n in report["tiers"].items()])
    table("clusters", ["#", "name", "accounts", "mean score", "references"],
          [[k["cluster"], k["name"], f"{k['accounts']:,}", k["mean_fit_score"], k["references"]]
           for k in report["clusters"]])
    table("best unassigned accounts", ["account", "score", "tier", "cluster", "similar to"],
          [[a["account_id"], a["fit_score"], a["tier"], a["cluster"], ", ".join(a["similar"][:3])]
           for a in report["top_unassigned"]])
    for key, label in (("chart", "map"), ("out", "scores")):
        if key in report:
            err.print(f"{label}: {report[key]}")
    if write_back:
        err.print(f"wrote fit_score for {report['written']:,} accounts")
