"""Per-account facts kept on the account, so that reports read one row per account instead of probing
the activities and opportunities of each (the reports at 5M accounts, docs/benchmarks.md).

The one place that maintains them; every writer of activities or opportunities calls it in its own
transaction, set-based, for the accounts it touched:

- ``accounts.last_meaningful_at``: the latest ``occurred_at`` of the account's meaningful activities
  (the configured ``activity.meaningful_types``), by anyone, whenever; NULL: none.
- ``accounts.open_opportunity_at``: the earliest ``created_at`` of the account's open (not closed)
  opportunities; NULL: none open. An opportunity open at an instant H is one with ``created_at <= H``,
  so "open at H" is exactly ``open_opportunity_at <= H``.

Both are recomputed from the rows (never nudged by a delta), so an updated activity or a closed
opportunity is reflected as well as a new one. On PostgreSQL, where writers of activities run side by
side, the accounts' rows are locked first (in id order) and recomputed in the next statement, whose
snapshot then includes what a concurrent writer committed before the lock was granted.

Migration 0007 backfills them with the default meaningful types (``call email meeting``); a deployment
that configures others runs :func:`refresh_all` once (and after changing them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, false, func, select, update

from dynbooks.domain.rules import Config
from dynbooks.services.context import Context
from dynbooks.store.bulk import stage_keys
from dynbooks.store.schema import accounts, activities, opportunities

__all__ = ["last_meaningful", "open_since", "refresh_activity_facts", "refresh_all", "refresh_opportunity_facts"]

CHUNK = 5000
STAGE_ABOVE = 50_000


def last_meaningful(config: Config, account_id: Any) -> Any:
    """The from-scratch value of ``accounts.last_meaningful_at`` (a scalar sub-query on ``account_id``)."""
    act = activities
    return (select(func.max(act.c.occurred_at))
            .where(act.c.account_id == account_id, act.c.type.in_(list(config.activity.meaningful_types)))
            .scalar_subquery())


def open_since(account_id: Any) -> Any:
    """The from-scratch value of ``accounts.open_opportunity_at`` (a scalar sub-query on ``account_id``)."""
    opp = opportunities
    return (select(func.min(opp.c.created_at))
            .where(opp.c.account_id == account_id, opp.c.is_closed == false()).scalar_subquery())


def _slices(conn: Connection, account_ids: Iterable[str]) -> list[Any]:
    ids = sorted(set(account_ids))
    if len(ids) > STAGE_ABOVE:  # a large import: one statement over the staged ids, not hundreds of IN lists
        return [select(stage_keys(conn, ids).c.k)]
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _refresh(conn: Connection, account_ids: Iterable[str], values: dict[str, Any]) -> None:
    for chunk in _slices(conn, account_ids):
        where = accounts.c.account_id.in_(chunk)
        if conn.dialect.name == "postgresql":
            conn.execute(select(accounts.c.account_id).where(where).order_by(accounts.c.account_id)
                         .with_for_update())
        conn.execute(update(accounts).where(where).values(**values))


def refresh_activity_facts(conn: Connection, ctx: Context, account_ids: Iterable[str]) -> None:
    """Recompute ``last_meaningful_at`` of ``account_ids`` (after activities of theirs were written)."""
    _refresh(conn, account_ids, {"last_meaningful_at": last_meaningful(ctx.config, accounts.c.account_id)})


def refresh_opportunity_facts(conn: Connection, ctx: Context, account_ids: Iterable[str]) -> None:
    """Recompute ``open_opportunity_at`` of ``account_ids`` (after opportunities of theirs were written)."""
    _refresh(conn, account_ids, {"open_opportunity_at": open_since(accounts.c.account_id)})


def refresh_all(conn: Connection, config: Config) -> None:
    """Recompute both facts of every account (set-based: one aggregate per table, then one update each).

    For a database whose facts were filled with other meaningful types than ``config``'s, or written by a
    tool that bypasses the services."""
    act, opp = activities, opportunities
    last = (select(act.c.account_id.label("a"), func.max(act.c.occurred_at).label("v"))
            .where(act.c.type.in_(list(config.activity.meaningful_types))).group_by(act.c.account_id)
            .subquery("last"))
    first = (select(opp.c.account_id.label("a"), func.min(opp.c.created_at).label("v"))
             .where(opp.c.is_closed == false()).group_by(opp.c.account_id).subquery("first"))
    conn.execute(update(accounts).values(last_meaningful_at=None, open_opportunity_at=None)
                 .where((accounts.c.last_meaningful_at.is_not(None)) | (accounts.c.open_opportunity_at.is_not(None))))
    for column, sub in (("last_meaningful_at", last), ("open_opportunity_at", first)):
        # UPDATE ... FROM the aggregate (PostgreSQL, SQLite >= 3.33): each aggregate runs once.
        conn.execute(update(accounts).where(accounts.c.account_id == sub.c.a).values({column: sub.c.v}))
