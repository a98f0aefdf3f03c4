"""Dry-run fidelity (SPEC §4 "every distribution can be previewed"): on a realistic generated organisation,
the committed cycle does exactly what its preview said, account for account, and the preview writes nothing."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dynbooks.domain.clock import Now
from dynbooks.domain.rules import Config
from dynbooks.sample import generate
from dynbooks.services.context import Context
from dynbooks.services.cycle import CycleResult, run_cycle
from dynbooks.services.imports import import_file
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import account_roles, assignments, cycles, events, signals

from .invariants import violations
from .support import BIG

AS_OF = date(2026, 3, 2)


def _plain(result: CycleResult) -> list[tuple[Any, ...]]:
    return [(c["step"], c["account_id"], c["role"], c["rep_id"], c["reason"]) for c in result.changes()]


def _tables(ctx: Context) -> tuple[int, ...]:
    with ctx.reading() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (account_roles, events, assignments, cycles, signals))


def test_the_committed_cycle_equals_its_preview_account_for_account(db_url: str, tmp_path: Path) -> None:
    generate(tmp_path, seed=11, accounts=6000 if BIG else 2500, as_of=AS_OF)
    config = Config.model_validate(tomllib.loads((tmp_path / "dynbooks.toml").read_text()))
    engine = connect(db_url)
    upgrade(engine)
    ctx = Context(engine=engine, config=config, now=Now.of_date(AS_OF))
    for kind in ("reps", "accounts", "opportunities", "activities", "signals"):
        import_file(ctx, kind, tmp_path / f"{kind}.csv")
    for day in (AS_OF, AS_OF + timedelta(days=35), AS_OF + timedelta(days=95)):
        ctx = Context(engine=engine, config=config, now=Now.of_date(day))
        before = _tables(ctx)
        preview = run_cycle(ctx, dry_run=True)
        assert _tables(ctx) == before, "the preview wrote something"
        done = run_cycle(ctx)
        assert preview.summary() | {"cycle_id": None, "dry_run": None} == done.summary() | {
            "cycle_id": None, "dry_run": None}
        assert _plain(preview) == _plain(done)
        assert len(done.distributed) > 0
        assert violations(engine, config, day) == []
    engine.dispose()
