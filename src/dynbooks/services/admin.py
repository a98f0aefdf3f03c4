"""RevOps use cases: the review queue, holds, retire and reactivate (SPEC §2, §8, §10 Scope of a state).

Retire and hold apply to every role of an account: its per-role rows go (owners lose it, with an event
per role) and ``accounts.status`` keeps it out of every pool. Review is per (account, role).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from dynbooks.domain.errors import InvalidInput, NotFound, Refused
from dynbooks.services.context import Context
from dynbooks.services.history import naive, record_rows
from dynbooks.services.ownership import Move, apply_moves
from dynbooks.store.schema import account_roles, accounts

__all__ = ["fix", "hold", "reactivate", "reintroduce", "release_hold", "retire", "retire_account", "review_list"]

EDITABLE = {
    "name": str, "domain": str, "industry": str, "country": str, "region": str, "timezone": str,
    "employees": int, "annual_revenue": float, "fit_score": float,
}


def _status(conn: Connection, account_id: str) -> str:
    status = conn.execute(select(accounts.c.status).where(accounts.c.account_id == account_id)).scalar()
    if status is None:
        raise NotFound(f"account {account_id!r} does not exist")
    return str(status)


def _everywhere(conn: Connection, ctx: Context, account_id: str, event: str, reason: str | None) -> None:
    """Retire or hold in every role: roles with a row leave it (owners lose the account); the event's
    ``after`` is the account-wide state (``retired`` or ``held``)."""
    rows = {r.role: r for r in conn.execute(
        select(account_roles.c.role, account_roles.c.state, account_roles.c.rep_id, account_roles.c.rule)
        .where(account_roles.c.account_id == account_id))}
    moves = []
    for role in sorted(set(ctx.config.roles) | set(rows)):
        row = rows.get(role)
        before = row.state if row else "pool"
        moves.append(Move(account_id, role, before, event, event, reason, rep_id=row.rep_id if row else None,
                          rule=row.rule if row else None))
    apply_moves(conn, ctx, moves)


def retire_account(conn: Connection, ctx: Context, account_id: str, reason: str) -> None:
    _everywhere(conn, ctx, account_id, "retired", reason)
    conn.execute(update(accounts).where(accounts.c.account_id == account_id).values(status="retired"))


def retire(ctx: Context, account_id: str, reason: str = "review") -> dict[str, Any]:
    with ctx.writing(lock=True) as conn:
        if _status(conn, account_id) == "retired":
            raise Refused(f"account {account_id!r} is already retired")
        retire_account(conn, ctx, account_id, reason)
    return {"account_id": account_id, "state": "retired"}


def _restore(ctx: Context, account_id: str, status: str, event: str) -> dict[str, Any]:
    """A retired or held account back to the pool in every role (one event per role)."""
    with ctx.writing(lock=True) as conn:
        if _status(conn, account_id) != status:
            raise Refused(f"account {account_id!r} is not {status}")
        conn.execute(update(accounts).where(accounts.c.account_id == account_id).values(status="active"))
        record_rows(conn, [{"at": naive(ctx.now.stamp), "type": event, "account_id": account_id, "role": role,
                            "before": status, "after": "pool", "actor": ctx.actor} for role in ctx.config.roles])
    return {"account_id": account_id, "state": "pool"}


def reactivate(ctx: Context, account_id: str) -> dict[str, Any]:
    return _restore(ctx, account_id, "retired", "reactivated")


def hold(ctx: Context, account_id: str) -> dict[str, Any]:
    """Park the account with the holding user: out of every book and pool, never retrieved."""
    with ctx.writing(lock=True) as conn:
        status = _status(conn, account_id)
        if status != "active":
            raise Refused(f"account {account_id!r} is {status}; only an active account can be held")
        _everywhere(conn, ctx, account_id, "held", "holding_user")
        conn.execute(update(accounts).where(accounts.c.account_id == account_id).values(status="held"))
    return {"account_id": account_id, "state": "held"}


def release_hold(ctx: Context, account_id: str) -> dict[str, Any]:
    return _restore(ctx, account_id, "held", "unheld")


def review_list(ctx: Context) -> list[dict[str, Any]]:
    with ctx.reading() as conn:
        rows = conn.execute(
            select(account_roles.c.account_id, account_roles.c.role, account_roles.c.reason, account_roles.c.since,
                   accounts.c.name, accounts.c.domain, accounts.c.duplicate_of)
            .join(accounts, accounts.c.account_id == account_roles.c.account_id)
            .where(account_roles.c.state == "review")
        ).all()
    return sorted(
        ({"account_id": r.account_id, "role": r.role, "reason": r.reason, "since": r.since.isoformat(),
          "name": r.name, "domain": r.domain, "duplicate_of": r.duplicate_of} for r in rows),
        key=lambda d: (d["since"], d["account_id"], d["role"]),
    )


def reintroduce(ctx: Context, account_id: str, role: str | None = None) -> dict[str, Any]:
    """Back from review to the pool (every role in review, or the one named)."""
    with ctx.writing(lock=True) as conn:
        _status(conn, account_id)
        rows = conn.execute(select(account_roles.c.role, account_roles.c.rule).where(
            account_roles.c.account_id == account_id, account_roles.c.state == "review")).all()
        rows = [r for r in rows if role is None or r.role == role]
        if not rows:
            raise Refused(f"account {account_id!r} is not in the review queue")
        apply_moves(conn, ctx, [Move(account_id, r.role, "review", "pool", "reintroduced", "review", rule=r.rule)
                                for r in rows])
        conn.execute(update(accounts).where(accounts.c.account_id == account_id).values(duplicate_of=None))
    return {"account_id": account_id, "state": "pool", "roles": [r.role for r in rows]}


def fix(ctx: Context, account_id: str, assignments: list[str]) -> dict[str, Any]:
    """``review fix ACCOUNT --set FIELD=VALUE …``: edit the account's data (an event records before/after)."""
    values: dict[str, Any] = {}
    for item in assignments:
        field, sep, raw = item.partition("=")
        if not sep:
            raise InvalidInput(f"--set {item!r}: use FIELD=VALUE")
        kind = EDITABLE.get(field)
        if kind is None:
            raise InvalidInput(f"--set {field}: not an editable field (one of {', '.join(sorted(EDITABLE))})")
        try:
            values[field] = None if raw == "" else kind(raw)
        except ValueError:
            raise InvalidInput(f"--set {field}: {raw!r} is not a {kind.__name__}") from None
    with ctx.writing(lock=True) as conn:
        _status(conn, account_id)
        before = conn.execute(select(*(accounts.c[f] for f in values)).where(
            accounts.c.account_id == account_id)).one()._asdict()
        conn.execute(update(accounts).where(accounts.c.account_id == account_id)
                     .values(**values, updated_at=naive(ctx.now.stamp)))
        record_rows(conn, [{"at": naive(ctx.now.stamp), "type": "fixed", "account_id": account_id, "role": None,
                            "actor": ctx.actor, "data": {"before": before, "after": values}}])
    return {"account_id": account_id, "fixed": values}
