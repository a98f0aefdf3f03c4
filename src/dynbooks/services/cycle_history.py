"""Read use case: the cycles run so far, newest first (the admin's cycle history)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dynbooks.services.context import Context
from dynbooks.store.schema import cycles

__all__ = ["cycle_history"]


def cycle_history(ctx: Context, limit: int = 50) -> list[dict[str, Any]]:
    """``[{"cycle_id", "kind", "as_of", "started_at", "released", "retrieved", "distributed"}]``, newest first
    (ties by cycle id). Only committed cycles are stored: a dry run leaves no row."""
    with ctx.reading() as conn:
        rows = conn.execute(select(cycles).order_by(cycles.c.started_at.desc(), cycles.c.cycle_id.desc())
                            .limit(limit)).all()
    return [{"cycle_id": r.cycle_id, "kind": r.kind, "as_of": r.as_of.date().isoformat(),
             "started_at": r.started_at.isoformat(), "released": r.released, "retrieved": r.retrieved,
             "distributed": r.distributed} for r in rows]
