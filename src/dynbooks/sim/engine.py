"""Dynamic books, driven by the real engine on a temporary SQLite database (SPEC §7).

The world's source database is copied (accounts, this role's reps and per-role rows, signals) into a
fresh migrated SQLite file. Then, day by day, nothing here decides who gets what:

- each working morning :func:`dynbooks.services.cycle.run_cycle` releases ended rests, retrieves
  accounts not worked for ``retrieve_after_days`` and distributes through the real allocator;
- a touch is a meaningful activity row, and :func:`dynbooks.services.imports_effects.touch_worked`
  moves the retrieval clocks exactly as an activity import does;
- an account entering its in-market window gets a signal row, so the engine's priority sees it;
- returns are routed by :func:`dynbooks.domain.lifecycle.route_return` and applied by
  :func:`dynbooks.services.ownership.apply_moves`, then the returning reps' books are refilled at once by
  :func:`dynbooks.services.distribute.distribute` (``how="replacement"``) — the steps of
  :func:`dynbooks.services.returns.return_account`, batched per day in one transaction (one call per
  return costs a market load each: a quarter of returns would take minutes). Return limits are not
  checked and a ``converted`` account rests without the AE hand-off (the AE side is not simulated).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, event, func, insert, select

from dynbooks.domain.clock import Now
from dynbooks.domain.errors import Refused
from dynbooks.domain.lifecycle import ReturnOutcome, State, route_return
from dynbooks.domain.rules import Config, Route
from dynbooks.services.context import Context
from dynbooks.services.cycle import run_cycle
from dynbooks.services.distribute import distribute
from dynbooks.services.facts import refresh_activity_facts
from dynbooks.services.imports_effects import touch_worked
from dynbooks.services.ownership import Move, apply_moves
from dynbooks.services.reads import pool
from dynbooks.sim.agents import SIGNAL_STRENGTH, DayReport
from dynbooks.sim.world import World
from dynbooks.store.db import connect, read, write
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import account_roles, accounts, activities, events, reps, signals

__all__ = ["DynamicBooks", "copy_database", "scratch_engine"]


def scratch_engine(path: Path) -> Engine:
    """A migrated SQLite database for one run, without fsyncs: it is thrown away afterwards."""
    engine = connect(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _no_sync(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    upgrade(engine)
    return engine


def copy_database(source: Engine, target: Engine, role: str, rep_ids: list[str], *, owned: bool = True) -> None:
    """Copy the accounts, signals, the reps ``rep_ids`` and the per-role rows of ``role`` they hold
    (without the owned rows when ``owned`` is False: every book starts empty)."""
    with read(source) as src, write(target) as dst:
        for table, where in (
            (accounts, None),
            (signals, None),
            (reps, reps.c.rep_id.in_(rep_ids)),
            (account_roles, account_roles.c.role == role),
        ):
            query = select(table) if where is None else select(table).where(where)
            batch: list[dict[str, object]] = []
            for row in src.execute(query).mappings():
                if table is account_roles and row["rep_id"] is not None and row["rep_id"] not in rep_ids:
                    continue
                if table is account_roles and not owned and row["state"] == "owned":
                    continue
                batch.append(dict(row))
                if len(batch) >= 5000:
                    dst.execute(insert(table), batch)
                    batch = []
            if batch:
                dst.execute(insert(table), batch)


class DynamicBooks:
    """The engine as a model; ``config`` (default: the world's) is what a what-if changes."""

    def __init__(self, config: Config | None = None, name: str = "dynamic books", *, fresh_start: bool = False) -> None:
        """``fresh_start``: today's CRM ownership is not carried over; the first cycle deals every book."""
        self.name = name
        self.config_override = config
        self.fresh_start = fresh_start
        self.extra: dict[str, Any] = {}

    def start(self, world: World) -> None:
        self.world = world
        self.config = self.config_override or world.config
        self.folder = Path(tempfile.mkdtemp(prefix="dynbooks-sim-"))
        self.engine = scratch_engine(self.folder / "sim.db")
        self.rep_ids = [r.rep_id for r in world.reps]
        self.rep_index = {r: i for i, r in enumerate(self.rep_ids)}
        self.index = {str(a): i for i, a in enumerate(world.ids)}
        copy_database(world.source, self.engine, world.role, self.rep_ids, owned=not self.fresh_start)
        self.rules = self.config.rules

    def _ctx(self, d: int) -> Context:
        return Context(self.engine, self.config, Now.of_date(self.world.date(d)), actor="simulator")

    def books(self, d: int, priority: np.ndarray) -> list[list[int]]:
        w = self.world
        if w.workday(d):
            run_cycle(self._ctx(d))
        out: list[list[int]] = [[] for _ in w.reps]
        with read(self.engine) as conn:
            rows = conn.execute(select(account_roles.c.account_id, account_roles.c.rep_id).where(
                account_roles.c.role == w.role, account_roles.c.state == "owned")).all()
        for account_id, rep_id in rows:
            r = self.rep_index.get(rep_id)
            if r is not None:
                out[r].append(self.index[account_id])
        return out

    def finish_day(self, d: int, report: DayReport) -> None:
        if not (report.touches or report.returns or report.converted or report.signals):
            return
        w, ctx = self.world, self._ctx(d)
        day = w.date(d)
        noon = datetime.combine(day, time(12))
        with ctx.writing(lock=True) as conn:
            if report.signals:
                conn.execute(insert(signals), [
                    {"signal_id": f"sim-{w.ids[a]}", "account_id": w.ids[a], "type": "intent_surge",
                     "strength": SIGNAL_STRENGTH, "occurred_at": datetime.combine(day, time(0)), "expires_at": None}
                    for a in report.signals])
            if report.touches:
                rows = [{"activity_id": f"sim-{d}-{r}-{a}", "account_id": w.ids[a], "rep_id": self.rep_ids[r],
                         "type": "call", "occurred_at": noon} for r, a in report.touches]
                for start in range(0, len(rows), 5000):
                    conn.execute(insert(activities), rows[start:start + 5000])
                touch_worked(conn, ctx, {w.ids[a] for _, a in report.touches})
                refresh_activity_facts(conn, ctx, {w.ids[a] for _, a in report.touches})
            leaving = [*report.returns, *((r, a, "converted") for r, a in report.converted)]
            if leaving:
                moves = [self._move(r, a, code, ctx) for r, a, code in leaving]
                apply_moves(conn, ctx, [m for m in moves if m is not None])
                distribute(conn, ctx, None, how="replacement", only_reps={self.rep_ids[r] for r, _, _ in leaving})

    def _move(self, r: int, a: int, code: str, ctx: Context) -> Move | None:
        rep = self.world.reps[r]
        rule = self.rules.get(rep.rule.name, rep.rule)
        reason = self.config.reasons[code]
        try:
            outcome = route_return(reason, rule, ctx.now.day, None)
        except Refused:  # a hand-off with no handoff_to rule: rest the row as a hand-off would
            outcome = ReturnOutcome(Route.HANDOFF, State.RESTING, None)
        rest_until = outcome.rest_until
        if outcome.route is Route.HANDOFF and rest_until is None:
            rest_until = ctx.now.day + timedelta(days=rule.rest_days)
        state = State.RESTING if outcome.state is State.RETIRED else outcome.state
        return Move(str(self.world.ids[a]), self.world.role, "owned", str(state), "returned", code,
                    rep_id=self.rep_ids[r], rule=rule.name, rest_until=rest_until)

    def ready_pool(self, d: int) -> int | None:
        result = pool(self._ctx(d), self.world.role, 1)
        return int(sum(r["ready"] for r in result["roles"]))

    def close(self) -> None:
        """Read what the engine did from its event history, then drop the temporary database."""
        with read(self.engine) as conn:
            counts: dict[str, int] = {str(t): int(c) for t, c in conn.execute(
                select(events.c.type, func.count()).where(events.c.role == self.world.role).group_by(events.c.type))}
        self.extra = {"engine_events": {k: int(counts.get(k, 0)) for k in
                                        ("distributed", "returned", "retrieved", "released")}}
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)
