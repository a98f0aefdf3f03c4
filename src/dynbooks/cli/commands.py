"""The commands that move ownership or set up: init, import, cycle, distribute, retrieve, return, review,
hold/release, reactivate, generate. Reads and exports live in :mod:`dynbooks.cli.reading`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn

from dynbooks.cli import app
from dynbooks.cli import reading as _reading  # noqa: F401  (registers the read commands)
from dynbooks.cli import sim as _sim  # noqa: F401  (registers simulate and market-map)
from dynbooks.cli import web as _web  # noqa: F401  (registers user, token and serve)
from dynbooks.cli.output import emit, err, table
from dynbooks.cli.state import Globals, globals_of
from dynbooks.config import DEFAULT_TOML, find_config
from dynbooks.domain.errors import UsageError
from dynbooks.ingest import KINDS
from dynbooks.services import admin
from dynbooks.services.cycle import STEPS, CycleResult, run_cycle
from dynbooks.services.imports import import_file
from dynbooks.services.returns import return_account
from dynbooks.services.undo import UndoResult, undo_cycle
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade

review_app = typer.Typer(help="The RevOps review queue.", no_args_is_help=True)
app.add_typer(review_app, name="review")


@app.command()
def init(ctx: typer.Context) -> None:
    """Create or migrate the database, and write a commented default dynbooks.toml if there is none."""
    g = globals_of(ctx)
    engine = connect(g.db, wait=g.wait)
    upgrade(engine)
    path = find_config(g.config)
    wrote = False
    if not path.exists():
        path.write_text(DEFAULT_TOML, encoding="utf-8")
        wrote = True
    g.load()  # refuse a bad existing config now rather than at the first cycle
    emit({"db": g.db, "config": str(path), "config_written": wrote}, g.json,
         f"database ready: {g.db}\nconfig: {path}{' (written)' if wrote else ''}")


@app.command("import")
def import_(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help=f"One of: {', '.join(KINDS)}"),
    file: Path = typer.Argument(..., help="The CSV file (UTF-8, header row)."),
    mapping: Path | None = typer.Option(None, "--mapping", help="CSV with columns from,to that renames columns."),
    preset: str | None = typer.Option(None, "--preset", help="salesforce or hubspot standard export names."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the good rows; write the bad ones out."),
    rejects: Path | None = typer.Option(None, "--rejects", help="Where --skip-invalid writes the bad rows."),
) -> None:
    """Import accounts, reps, activities, signals or opportunities (upsert by id, all or nothing)."""
    g = globals_of(ctx)
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    c = g.context()
    with Progress(TextColumn("importing {task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(file.name, total=None)
        result = import_file(c, kind, file, mapping=mapping, preset=preset, skip_invalid=skip_invalid,
                             rejects=rejects, progress=lambda n: bar.update(task, completed=n))
    human = ", ".join(f"{k} {v}" for k, v in result.items())
    emit(result, g.json, f"{kind}: {human}")


def _print_moves(g: Globals, result: CycleResult | UndoResult, line: str, title: str,
                 last: tuple[str, str]) -> None:
    """A cycle's or an undo's answer: the summary (with every change under ``--json``), else a line and the
    first 50 changes; ``last`` is the (header, field) of the table's last column."""
    summary = result.summary()
    if g.json:
        emit(summary | {"changes": result.changes()}, True)
        return
    emit(summary, False, ("DRY RUN — nothing was written. " if result.dry_run else "") + line)
    changes = result.changes()
    if changes:
        table(title + (" (first 50)" if len(changes) > 50 else ""), ["step", "account", "role", "rep", last[0]],
              [[c["step"], c["account_id"], c["role"], c["rep_id"], c[last[1]]] for c in changes[:50]])


def _print_cycle(g: Globals, result: CycleResult) -> None:
    s = result.summary()
    _print_moves(g, result, f"cycle {result.cycle_id}: released {s['released']}, retrieved {s['retrieved']}, "
                            f"distributed {s['distributed']}", "changes", ("why", "reason"))


def _run(ctx: typer.Context, steps: tuple[str, ...], dry_run: bool) -> None:
    g = globals_of(ctx)
    _print_cycle(g, run_cycle(g.context(), steps=steps, dry_run=dry_run))


# ``cycle`` runs a cycle by itself and is the group of ``cycle undo``: the SPEC's ``cycle [--dry-run]`` is unchanged.
cycle_app = typer.Typer(invoke_without_command=True, add_completion=False)
app.add_typer(cycle_app, name="cycle")


@cycle_app.callback()
def cycle(ctx: typer.Context, dry_run: bool = typer.Option(False, "--dry-run", help="Show, write nothing.")) -> None:
    """One pass: release ended rests, retrieve unworked accounts, distribute. `cycle undo` takes back the last."""
    if ctx.invoked_subcommand is None:
        _run(ctx, STEPS, dry_run)


@cycle_app.command("undo")
def cycle_undo(
    ctx: typer.Context,
    cycle_id: str | None = typer.Argument(None, help="The cycle to undo (default: the latest not undone yet)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show, write nothing."),
) -> None:
    """Undo the latest cycle, every move reversed by an event (exit 5 if its accounts changed since)."""
    g = globals_of(ctx)
    result = undo_cycle(g.context(), cycle_id, dry_run=dry_run)
    s = result.summary()
    _print_moves(g, result, f"cycle {result.cycle_id} undone: {s['distributed']} distributed back to the pool, "
                            f"{s['retrieved']} retrieved back to their owners, {s['released']} released back to rest",
                 "reversed", ("now", "state"))


@app.command()
def distribute(ctx: typer.Context, dry_run: bool = typer.Option(False, "--dry-run")) -> None:
    """Only the distribution step of a cycle."""
    _run(ctx, ("distribute",), dry_run)


@app.command()
def retrieve(ctx: typer.Context, dry_run: bool = typer.Option(False, "--dry-run")) -> None:
    """Only the retrieval step of a cycle."""
    _run(ctx, ("retrieve",), dry_run)


@app.command("return")
def return_(
    ctx: typer.Context,
    account: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="A reason code (see dynbooks.toml [[return_reason]])."),
    rep: str | None = typer.Option(None, "--rep", help="The returning rep (required if several roles own it)."),
    until: str | None = typer.Option(None, "--until", help="get_back_to_me: the date the prospect gave."),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Return an account with a reason; it is routed by the reason and replaced at once."""
    g = globals_of(ctx)
    until_date = None
    if until is not None:
        try:
            until_date = date.fromisoformat(until)
        except ValueError:
            raise UsageError(f"--until {until!r} is not a date (YYYY-MM-DD)") from None
    c = g.context()
    reason_def = c.config.reasons.get(reason)
    if reason_def is not None and str(reason_def.route) == "rest_until" and until_date is None:
        raise UsageError(f"--until DATE is required with reason {reason!r}")
    result = return_account(c, account, reason, rep_id=rep, until=until_date, note=note)
    emit(result, g.json, f"{account} returned ({reason} → {result['route']}, now {result['state']}); "
                         f"replacement: {result['replacement'] or 'none available'}")


@review_app.command("list")
def review_list(ctx: typer.Context) -> None:
    """Accounts waiting for RevOps: fix and reintroduce, or retire."""
    g = globals_of(ctx)
    rows = admin.review_list(g.context())
    if g.json:
        emit(rows, True)
        return
    table(f"review queue ({len(rows)})", ["account", "role", "reason", "since", "name", "domain", "duplicate of"],
          [[r["account_id"], r["role"], r["reason"], r["since"][:10], r["name"], r["domain"], r["duplicate_of"]]
           for r in rows])


@review_app.command("reintroduce")
def review_reintroduce(ctx: typer.Context, account: str, role: str | None = typer.Option(None, "--role")) -> None:
    """Put a reviewed account back in the pool."""
    g = globals_of(ctx)
    result = admin.reintroduce(g.context(), account, role)
    emit(result, g.json, f"{account}: back in the pool")


@review_app.command("retire")
def review_retire(ctx: typer.Context, account: str) -> None:
    """Take an account out of circulation (every role)."""
    g = globals_of(ctx)
    emit(admin.retire(g.context(), account), g.json, f"{account}: retired")


@review_app.command("fix")
def review_fix(ctx: typer.Context, account: str,
               set_: list[str] = typer.Option(..., "--set", help="FIELD=VALUE, repeatable.")) -> None:
    """Correct an account's data (recorded as an event)."""
    g = globals_of(ctx)
    emit(admin.fix(g.context(), account, set_), g.json, f"{account}: fixed {', '.join(set_)}")


@app.command()
def hold(ctx: typer.Context, account: str) -> None:
    """Park an account with the holding user: out of every book, never distributed or retrieved."""
    g = globals_of(ctx)
    emit(admin.hold(g.context(), account), g.json, f"{account}: held")


@app.command()
def release(ctx: typer.Context, account: str) -> None:
    """Take an account back from the holding user into the pool."""
    g = globals_of(ctx)
    emit(admin.release_hold(g.context(), account), g.json, f"{account}: back in the pool")


@app.command()
def reactivate(ctx: typer.Context, account: str) -> None:
    """Bring a retired account back into the pool."""
    g = globals_of(ctx)
    emit(admin.reactivate(g.context(), account), g.json, f"{account}: reactivated")


@app.command()
def generate(
    ctx: typer.Context,
    out: Path = typer.Option(Path("demo"), "--out", help="Folder for the CSVs and dynbooks.toml."),
    seed: int = typer.Option(7, "--seed"),
    accounts: int = typer.Option(20_000, "--accounts"),
) -> None:
    """Write a realistic sample organisation (5 managers × 8 SDRs, 10 AEs, three segments) as CSVs."""
    from dynbooks.sample import generate as make

    g = globals_of(ctx)
    out.mkdir(parents=True, exist_ok=True)
    counts = make(out, seed=seed, accounts=accounts, as_of=g.now().day)
    emit({"out": str(out), **counts}, g.json, f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
