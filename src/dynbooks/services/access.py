"""Who may see what (SPEC §8 Roles, §9 HTTP API): one rule for the API and the web app.

- an admin sees everything;
- a manager sees the reps of their team and the accounts those reps own;
- a rep sees their own book and the accounts in it.

What a user may not see answers :class:`NotFound`, worded like a missing id, so ids do not leak.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from dynbooks.domain.errors import NotFound
from dynbooks.services.auth import User
from dynbooks.services.context import Context
from dynbooks.store.schema import account_roles, reps

__all__ = ["check_account", "check_rep", "team_reps", "visible_owner"]


def check_rep(ctx: Context, user: User, rep_id: str) -> None:
    """Raise :class:`NotFound` unless ``user`` may see rep ``rep_id``'s book."""
    if user.role == "admin":
        return
    if user.role == "rep" and user.rep_id == rep_id:
        return
    if user.role == "manager":
        with ctx.reading() as conn:
            team = conn.execute(select(reps.c.team).where(reps.c.rep_id == rep_id)).first()
        if team is not None and team.team is not None and team.team == user.team:
            return
    raise NotFound(f"rep {rep_id!r} does not exist")


def visible_owner(conn: Connection, user: User, account_id: str) -> str | None:
    """The rep through whom ``user`` sees ``account_id`` (``None`` for an admin, who sees it anyway)."""
    if user.role == "admin":
        return None
    query = select(account_roles.c.rep_id).where(account_roles.c.account_id == account_id,
                                                 account_roles.c.state == "owned")
    if user.role == "rep":
        query = query.where(account_roles.c.rep_id == user.rep_id)
    else:
        query = query.join(reps, reps.c.rep_id == account_roles.c.rep_id).where(reps.c.team == user.team)
    owner = conn.execute(query.order_by(account_roles.c.rep_id)).scalar()
    if owner is None:
        raise NotFound(f"account {account_id!r} does not exist")
    return str(owner)


def check_account(ctx: Context, user: User, account_id: str) -> str | None:
    """Raise :class:`NotFound` unless ``user`` may see ``account_id``; returns :func:`visible_owner`."""
    with ctx.reading() as conn:
        return visible_owner(conn, user, account_id)


def team_reps(ctx: Context, team: str) -> list[str]:
    with ctx.reading() as conn:
        return list(conn.execute(select(reps.c.rep_id).where(reps.c.team == team).order_by(reps.c.rep_id)).scalars())
