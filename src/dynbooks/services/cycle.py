"""Use case: one cycle — release ended rests → retrieve unworked accounts → distribute (SPEC §1, §10).

A cycle is one transaction under the cycle lock. A dry run executes exactly the same code and rolls
the transaction back, so the preview *is* what a commit would do at that moment.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select

from dynbooks.services.context import Context
from dynbooks.services.distribute import Assignment, distribute
from dynbooks.services.history import naive
from dynbooks.services.idempotency import Idempotency, remember, replay
from dynbooks.services.ownership import Move
from dynbooks.services.retrieval import release_rests, retrieve
from dynbooks.store.cycle_flag import running_cycle
from dynbooks.store.schema import cycles

__all__ = ["STEPS", "CycleResult", "run_cycle"]

STEPS = ("release", "retrieve", "distribute")


@dataclass
class CycleResult:
    cycle_id: str
    dry_run: bool
    steps: Sequence[str]
    released: list[Move] = field(default_factory=list)
    retrieved: list[Move] = field(default_factory=list)
    distributed: list[Assignment] = field(default_factory=list)
    replayed: dict[str, Any] | None = None
    """The stored first answer when the request repeated an Idempotency-Key (nothing ran)."""

    def summary(self) -> dict[str, Any]:
        return {
            "cycle_id": self.cycle_id,
            "dry_run": self.dry_run,
            "released": len(self.released),
            "retrieved": len(self.retrieved),
            "distributed": len(self.distributed),
        }

    def answer(self) -> dict[str, Any]:
        """The API's answer: the summary with the changes, or the first answer of a repeated request."""
        if self.replayed is not None:
            return self.replayed
        return self.summary() | {"changes": self.changes(), "replayed": False}

    def changes(self) -> list[dict[str, Any]]:
        """Account by account, what the cycle did (or would do)."""
        out: list[dict[str, Any]] = [
            {"step": "released", "account_id": m.account_id, "role": m.role, "rep_id": None, "reason": m.reason}
            for m in self.released
        ]
        out += [{"step": "retrieved", "account_id": m.account_id, "role": m.role, "rep_id": m.rep_id,
                 "reason": m.reason} for m in self.retrieved]
        out += [{"step": "distributed", "account_id": a.account_id, "role": a.role, "rep_id": a.rep_id,
                 "reason": a.explanation} for a in self.distributed]
        return out


class _Rollback(Exception):
    pass


def run_cycle(ctx: Context, *, steps: Sequence[str] = STEPS, dry_run: bool = False,
              idempotency: Idempotency | None = None) -> CycleResult:
    """Run (or preview) a cycle. With ``idempotency``, a repeated key answers the stored answer and runs
    nothing; a committed cycle stores its answer in its own transaction."""
    kind = "cycle" if tuple(steps) == STEPS else steps[0]
    result = CycleResult(
        cycle_id=f"{ctx.now.stamp:%Y%m%d}-{uuid.uuid4().hex[:8]}", dry_run=dry_run, steps=tuple(steps)
    )
    try:
        with running_cycle(ctx.engine), ctx.writing(lock=True) as conn:
            if (stored := replay(conn, idempotency)) is not None:
                result.replayed = stored
                return result
            number = conn.execute(select(func.coalesce(func.max(cycles.c.number), 0) + 1)).scalar_one()
            conn.execute(insert(cycles).values(
                cycle_id=result.cycle_id, kind=kind, as_of=naive(ctx.now.stamp), started_at=naive(ctx.now.stamp),
                number=number))
            if "release" in steps:
                result.released = release_rests(conn, ctx, result.cycle_id)
            if "retrieve" in steps:
                result.retrieved = retrieve(conn, ctx, result.cycle_id)
            if "distribute" in steps:
                result.distributed = distribute(conn, ctx, result.cycle_id)
            conn.execute(cycles.update().where(cycles.c.cycle_id == result.cycle_id).values(
                released=len(result.released), retrieved=len(result.retrieved),
                distributed=len(result.distributed)))
            if dry_run:
                raise _Rollback
            remember(conn, idempotency, result.summary() | {"changes": result.changes()}, ctx.now.stamp)
    except _Rollback:
        pass
    return result
