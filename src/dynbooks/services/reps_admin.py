"""Use cases: the reps page — list reps with their books, and add or change one rep (SPEC §4 Headcount).

A change goes through the reps import (a one-row file), so that exactly its rules apply: a new or
reactivated rep is filled at once, a deactivated rep's book goes back to the pool and is redistributed,
and a ``start_date`` sets the ramp. Only the columns given change.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dynbooks.services.context import Context
from dynbooks.services.imports import import_file
from dynbooks.store.schema import account_roles, reps

__all__ = ["EDITABLE_REP_COLUMNS", "list_reps", "save_rep"]

EDITABLE_REP_COLUMNS = ("rep_id", "name", "book_rule", "email", "team", "manager", "start_date", "active",
                        "unavailable_until")


def list_reps(ctx: Context) -> list[dict[str, Any]]:
    """Every rep, by id, with the size of their book."""
    with ctx.reading() as conn:
        owned = select(account_roles.c.rep_id, func.count()).where(account_roles.c.state == "owned")
        sizes: dict[str, int] = dict(conn.execute(owned.group_by(account_roles.c.rep_id)).all())
        rows = conn.execute(select(reps).order_by(reps.c.rep_id)).all()
    return [{"rep_id": r.rep_id, "name": r.name, "book_rule": r.book_rule, "role": r.role, "team": r.team,
             "manager": r.manager, "email": r.email, "start_date": r.start_date and r.start_date.isoformat(),
             "active": r.active, "unavailable_until": r.unavailable_until and r.unavailable_until.isoformat(),
             "size": int(sizes.get(r.rep_id, 0))} for r in rows]


def save_rep(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    """Add or change one rep: ``values`` holds the columns to set (``rep_id``, ``name`` and ``book_rule``
    always); returns the import's answer (``inserted``/``updated``/``unchanged``, ``distributed``)."""
    columns = [c for c in EDITABLE_REP_COLUMNS if c in values]
    with tempfile.TemporaryDirectory(prefix="dynbooks-rep-") as folder:
        path = Path(folder) / "rep.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerow([values[c] for c in columns])
        return import_file(ctx, "reps", path)
