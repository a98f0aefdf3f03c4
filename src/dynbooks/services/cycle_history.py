"""Read use case: the cycles run so far, newest first (the admin's cycle history)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dynbooks.services.context import Context
from dynbooks.store.schema import cycles

__all__ = ["cycle_history"]


def cycle_history(ctx: Context, limit: int = 50) -> list[dict[str, Any]]:
    """``[{"cycle_id", "number", "kind", "as_of", "started_at", "released", "retrieved", "distributed",
    "undone_at", "undone_by", "undoable"}]``, newest first (in the order they ran). Only committed cycles
    are stored: a dry run leaves no row. ``undoable`` marks the latest cycle not undone yet, the only one
    :func:`dynbooks.services.undo.undo_cycle` may take back (whether its accounts changed since is checked
    when asked)."""
    with ctx.reading() as conn:
        rows = conn.execute(select(cycles).order_by(cycles.c.number.desc(), cycles.c.started_at.desc(),
                                                    cycles.c.cycle_id.desc()).limit(limit)).all()
    standing = next((r.cycle_id for r in rows if r.undone_at is None), None)
    return [{"cycle_id": r.cycle_id, "number": r.number, "kind": r.kind, "as_of": r.as_of.date().isoformat(),
             "started_at": r.started_at.isoformat(), "released": r.released, "retrieved": r.retrieved,
             "distributed": r.distributed, "undone_at": r.undone_at and r.undone_at.isoformat(),
             "undone_by": r.undone_by, "undoable": r.cycle_id == standing} for r in rows]
