"""Read use case: one account, whole — firmographics, where it is per role and why, signals, activities,
opportunities and history (the API's ``GET /api/accounts/{id}`` and the web app's account page)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dynbooks.services.context import Context
from dynbooks.services.reads import explain, history
from dynbooks.store.schema import accounts, activities, opportunities, signals

__all__ = ["FIRMOGRAPHICS", "account_detail"]

FIRMOGRAPHICS = ("domain", "industry", "employees", "annual_revenue", "country", "region", "timezone", "fit_score",
                 "is_customer")
RECENT = 50


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def account_detail(ctx: Context, account_id: str) -> dict[str, Any]:
    """``{"account_id", "name", "status", "priority", "firmographics", "custom", "roles", "signals",
    "activities", "opportunities", "history"}``; signals and activities newest first (the last 50)."""
    why = explain(ctx, account_id)  # raises NotFound for an unknown id
    with ctx.reading() as conn:
        row = conn.execute(select(accounts).where(accounts.c.account_id == account_id)).one()
        sig = conn.execute(select(signals).where(signals.c.account_id == account_id)
                           .order_by(signals.c.occurred_at.desc(), signals.c.signal_id).limit(RECENT)).all()
        act = conn.execute(select(activities).where(activities.c.account_id == account_id)
                           .order_by(activities.c.occurred_at.desc(), activities.c.activity_id).limit(RECENT)).all()
        opp = conn.execute(select(opportunities).where(opportunities.c.account_id == account_id)
                           .order_by(opportunities.c.created_at.desc())).all()
    return {
        "account_id": account_id, "name": row.name, "status": row.status, "priority": why["priority"],
        "enrolled": why["enrolled"], "duplicate_of": row.duplicate_of,
        "firmographics": {k: row._mapping[k] for k in FIRMOGRAPHICS},
        "custom": row.custom or {},
        "roles": why["roles"],
        "signals": [{"signal_id": s.signal_id, "type": s.type, "strength": s.strength,
                     "occurred_at": _iso(s.occurred_at), "expires_at": _iso(s.expires_at)} for s in sig],
        "activities": [{"activity_id": a.activity_id, "rep_id": a.rep_id, "type": a.type,
                        "occurred_at": _iso(a.occurred_at)} for a in act],
        "opportunities": [{"opportunity_id": o.opportunity_id, "rep_id": o.rep_id, "created_at": _iso(o.created_at),
                           "stage": o.stage, "amount": o.amount, "is_closed": o.is_closed, "is_won": o.is_won}
                          for o in opp],
        "history": history(ctx, account_id),
    }
