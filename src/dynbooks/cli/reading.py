"""Read commands: book, pool, explain, history, export, report, calc (``simulate`` is in :mod:`dynbooks.cli.sim`)."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import typer

from dynbooks.cli import app
from dynbooks.cli.output import emit, out, table, write_csv
from dynbooks.cli.state import globals_of
from dynbooks.domain.errors import UsageError
from dynbooks.services import reads

export_app = typer.Typer(help="CSV exports.", no_args_is_help=True)
calc_app = typer.Typer(help="Calculators.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(calc_app, name="calc")


@app.command()
def book(ctx: typer.Context, rep: str) -> None:
    """A rep's book, best first: new accounts and accounts about to be retrieved are marked."""
    g = globals_of(ctx)
    result = reads.book(g.context(), rep)
    if g.json:
        emit(result, True)
        return
    table(f"{result['name']} ({rep}, {result['rule']}): {result['size']} accounts",
          ["account", "name", "priority", "assigned", "idle", "retrieve in", "flags"],
          [[a["account_id"], a["name"], f"{a['priority']:.2f}", a["assigned"], a["idle_days"], a["retrieve_in_days"],
            " ".join(f for f, on in (("NEW", a["new"]), ("WARN", a["warning"]), ("OVER", a["over_capacity"])) if on)]
           for a in result["accounts"]])


@app.command()
def pool(ctx: typer.Context, role: str | None = typer.Option(None, "--role"),
         limit: int = typer.Option(20, "--limit")) -> None:
    """The ready pool per role and its best accounts."""
    g = globals_of(ctx)
    result = reads.pool(g.context(), role, limit)
    if g.json:
        emit(result, True)
        return
    for r in result["roles"]:
        buckets = ", ".join(f"{k} {v}" for k, v in r["by_bucket"].items())
        out.print(f"[bold]{r['role']}[/]: {r['ready']} ready — {buckets}")
        table("best ready accounts", ["account", "name", "priority"],
              [[a["account_id"], a["name"], f"{a['priority']:.2f}"] for a in r["top"]])


@app.command()
def explain(ctx: typer.Context, account: str) -> None:
    """Why an account is where it is, per role."""
    g = globals_of(ctx)
    result = reads.explain(g.context(), account)
    lines = [f"{account} {result['name']} (priority {result['priority']:.2f})"]
    lines += [f"  {r['role']}: {r['explanation']}" for r in result["roles"]]
    emit(result, g.json, "\n".join(lines))


@app.command()
def history(ctx: typer.Context, account: str) -> None:
    """Every event of an account, in order."""
    g = globals_of(ctx)
    events = reads.history(g.context(), account)
    if g.json:
        emit(events, True)
        return
    table(f"history of {account}", ["seq", "at", "type", "role", "rep", "reason", "rule"],
          [[e["seq"], e["at"], e["type"], e["role"], e["rep_id"], e["reason"], e["rule"]] for e in events])


def _write(rows: Any, out_file: Path | None) -> int:
    with (out_file.open("w", newline="", encoding="utf-8") if out_file else nullcontext(sys.stdout)) as stream:
        return write_csv(rows, stream)


@export_app.command("state")
def export_state(ctx: typer.Context, out_file: Path | None = typer.Option(None, "--out")) -> None:
    """CSV account_id,role,state,rep_id,since,rest_until,priority for every managed account and role."""
    g = globals_of(ctx)
    n = _write(reads.export_state(g.context()), out_file)
    if out_file is not None:
        emit({"rows": n, "out": str(out_file)}, g.json, f"wrote {n} rows to {out_file}")


@export_app.command("owners")
def export_owners(
    ctx: typer.Context,
    format_: str = typer.Option("salesforce", "--format", help="salesforce: Data Loader columns."),
    out_file: Path | None = typer.Option(None, "--out"),
    since_days: int | None = typer.Option(None, "--since-days", help="Only owners assigned in the last N days."),
) -> None:
    """Current owners as a CSV Salesforce's Data Loader can load (Id, OwnerId, assignment date)."""
    g = globals_of(ctx)
    if format_ != "salesforce":
        raise UsageError(f"--format {format_!r}: only 'salesforce' is supported")
    n = _write(reads.export_owners(g.context(), since_days), out_file)
    if out_file is not None:
        emit({"rows": n, "out": str(out_file)}, g.json, f"wrote {n} rows to {out_file}")


@app.command()
def report(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="balance, returns, coverage, audit, productivity or flow"),
    rule: str | None = typer.Option(None, "--rule"),
    team: str | None = typer.Option(None, "--team"),
    manager: str | None = typer.Option(None, "--manager"),
    rep: str | None = typer.Option(None, "--rep"),
    since: str | None = typer.Option(None, "--since"),
    until: str | None = typer.Option(None, "--until"),
    by: str = typer.Option("week", "--by", help="week or month"),
    format_: str = typer.Option("table", "--format", help="table or csv"),
    chart: Path | None = typer.Option(None, "--chart", help="Also draw a PNG chart."),
) -> None:
    """The reports managers act on (SPEC §6)."""
    from dynbooks.reports import ReportFilters
    from dynbooks.reports import chart as draw
    from dynbooks.services.reporting import run_report

    g = globals_of(ctx)
    if by not in ("week", "month"):
        raise UsageError("--by takes week or month")

    def day(text: str | None, opt: str) -> date | None:
        try:
            return None if text is None else date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"{opt} {text!r} is not a date (YYYY-MM-DD)") from None

    filters = ReportFilters(rule=rule, team=team, manager=manager, rep=rep, since=day(since, "--since"),
                            until=day(until, "--until"), by=by)  # type: ignore[arg-type]
    result = run_report(g.context(), name, filters)
    if chart is not None:
        draw(result, chart)
    if g.json:
        emit(result.to_json(), True)
    elif format_ == "csv":
        result.write_csv(sys.stdout)
    else:
        table(f"{name} as of {result.as_of.isoformat()}", result.columns,
              [[_cell(r.get(col)) for col in result.columns] for r in result.rows])
        for key, value in result.extra.items():
            if not isinstance(value, list | dict):
                out.print(f"{key}: {value}")


def _cell(value: Any) -> Any:
    return f"{value:.3f}" if isinstance(value, float) else value


@calc_app.command("book-size")
def calc_book_size(
    ctx: typer.Context,
    activities_per_day: float = typer.Option(..., "--activities-per-day"),
    touches_per_contact: float = typer.Option(..., "--touches-per-contact"),
    contacts_per_account: float = typer.Option(..., "--contacts-per-account"),
    cadence_days: float = typer.Option(..., "--cadence-days"),
    sales_cycle_days: float | None = typer.Option(None, "--sales-cycle-days",
                                                  help="Also: accounts a rep works through in one sales cycle."),
    return_rate: float | None = typer.Option(None, "--return-rate-per-week",
                                             help="Territory shrink: share of a book returned each week."),
    retrieval_rate: float = typer.Option(0.0, "--retrieval-rate-per-week",
                                         help="Territory shrink: share of a book retrieved each week."),
    weeks: int = typer.Option(13, "--weeks", help="Territory shrink: weeks to show (a quarter by default)."),
) -> None:
    """Recommended target book size = floor(A × D / (T × C)), with the arithmetic shown; with a return rate,
    how fast an unreplenished (static) book of that size shrinks."""
    from dynbooks.domain.calc import book_size, supply_half_life_weeks, territory_shrink

    g = globals_of(ctx)
    result = book_size(activities_per_day, touches_per_contact, contacts_per_account, cadence_days,
                       sales_cycle_days=sales_cycle_days)
    human = f"{result['arithmetic']}\nbook size: {result['book_size']}"
    if return_rate is not None:
        supply = territory_shrink(max(result["book_size"], 1), return_rate, retrieval_rate, weeks)
        half = supply_half_life_weeks(return_rate, retrieval_rate)
        result["shrink"] = {"return_rate_per_week": return_rate, "retrieval_rate_per_week": retrieval_rate,
                            "supply_by_week": supply, "half_life_weeks": None if half == float("inf")
                            else round(half, 2)}
        human += (f"\na static book of {result['book_size']} losing {return_rate:.0%} (returns) + "
                  f"{retrieval_rate:.0%} (retrievals) a week keeps {supply[-1]:g} workable accounts after {weeks} "
                  f"weeks (half-life {'never' if half == float('inf') else f'{half:.1f} weeks'}); "
                  "a dynamic book is refilled to its size at every return")
    emit(result, g.json, human)
