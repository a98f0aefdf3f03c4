"""Use case: a rep returns an account with a reason; it is routed and replaced at once (SPEC §3, §10)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, func, select

from dynbooks.domain.errors import InvalidInput, NotFound, Refused, UsageError
from dynbooks.domain.lifecycle import check_return_limit, period_start, route_return
from dynbooks.domain.rules import Route
from dynbooks.services.admin import retire_account
from dynbooks.services.context import Context
from dynbooks.services.distribute import distribute
from dynbooks.services.idempotency import Idempotency, remember, replay
from dynbooks.services.ownership import Move, apply_moves
from dynbooks.services.routing import route_now
from dynbooks.store.schema import account_roles, accounts, events

__all__ = ["return_account"]


def return_account(
    ctx: Context, account_id: str, reason_code: str, *, rep_id: str | None = None, until: date | None = None,
    note: str | None = None, idempotency: Idempotency | None = None,
) -> dict[str, Any]:
    """Return ``account_id`` from ``rep_id``'s book; returns the CLI/API answer
    ``{"account_id", "role", "rep_id", "reason", "route", "state", "rest_until", "replacement", ...}``.
    With ``idempotency``, a repeated key answers the stored first answer (``"replayed": true``) and takes
    no second replacement."""
    reason = ctx.config.reasons.get(reason_code)
    if reason is None:
        known = ", ".join(sorted(ctx.config.reasons))
        raise InvalidInput(f"unknown reason code {reason_code!r}; known codes: {known}")
    with ctx.writing(lock=True) as conn:
        if (stored := replay(conn, idempotency)) is not None:
            return stored
        row = _owned_row(conn, account_id, rep_id)
        role, owner, rule_name = row.role, row.rep_id, row.rule
        rule = ctx.config.rules.get(rule_name)
        if rule is None:
            raise Refused(f"book rule {rule_name!r} of this account is no longer in the configuration")
        limit = rule.return_limits.get(reason.code)
        if limit is not None:
            already = _returns_since(conn, owner, reason.code, period_start(limit.per, ctx.now.day))
            check_return_limit(reason.code, limit, already, ctx.now.day)
        outcome = route_return(reason, rule, ctx.now.day, until)
        data = {k: v for k, v in {"note": note, "until": until and until.isoformat()}.items() if v}
        answer: dict[str, Any] = {
            "account_id": account_id, "role": role, "rep_id": owner, "reason": reason.code,
            "route": str(outcome.route), "state": str(outcome.state),
            "rest_until": outcome.rest_until and outcome.rest_until.isoformat(), "handed_off_to": None,
        }
        if outcome.route is Route.RETIRE:
            apply_moves(conn, ctx, [Move(account_id, role, "owned", "pool", "returned", reason.code, rep_id=owner,
                                         rule=rule_name, data=data)])
            retire_account(conn, ctx, account_id, reason.code)
        else:
            apply_moves(conn, ctx, [Move(account_id, role, "owned", str(outcome.state), "returned", reason.code,
                                         rep_id=owner, rule=rule_name, rest_until=outcome.rest_until, data=data)])
        if outcome.route is Route.HANDOFF:
            answer["handed_off_to"] = _hand_off(conn, ctx, account_id, rule.handoff_to or "")
        made = distribute(conn, ctx, None, how="replacement", only_reps={owner})
        answer["replacement"] = made[0].account_id if made else None
        answer["replacements"] = [a.account_id for a in made]
        remember(conn, idempotency, answer, ctx.now.stamp)
        return answer


def _owned_row(conn: Connection, account_id: str, rep_id: str | None) -> Any:
    if conn.execute(select(accounts.c.account_id).where(accounts.c.account_id == account_id)).first() is None:
        raise NotFound(f"account {account_id!r} does not exist")
    owned = conn.execute(
        select(account_roles.c.role, account_roles.c.rep_id, account_roles.c.rule).where(
            account_roles.c.account_id == account_id, account_roles.c.state == "owned"
        )
    ).all()
    if rep_id is not None:
        mine = [r for r in owned if r.rep_id == rep_id]
        if not mine:
            raise Refused(f"rep {rep_id!r} does not own account {account_id!r}; only the owner can return it")
        return mine[0]
    if not owned:
        raise Refused(f"account {account_id!r} is in nobody's book")
    if len(owned) > 1:
        raise UsageError(f"account {account_id!r} has owners in {len(owned)} roles: say whose it is with --rep")
    return owned[0]


def _returns_since(conn: Connection, rep_id: str, code: str, since: date) -> int:
    start = datetime.combine(since, time(0))
    return int(conn.execute(
        select(func.count()).select_from(events).where(
            events.c.type == "returned", events.c.rep_id == rep_id, events.c.reason == code, events.c.at >= start
        )
    ).scalar_one())


def _hand_off(conn: Connection, ctx: Context, account_id: str, rule_name: str) -> str | None:
    """Hand a converted account to the ``handoff_to`` rule, bypassing its filter (a meeting was set)."""
    rule = ctx.config.rules[rule_name]
    current = conn.execute(
        select(account_roles.c.state, account_roles.c.rep_id).where(
            account_roles.c.account_id == account_id, account_roles.c.role == rule.role)
    ).first()
    if current is not None and current.state == "owned":
        return str(current.rep_id)  # already with someone in that role: the meeting goes to them
    if current is not None:
        apply_moves(conn, ctx, [Move(account_id, rule.role, current.state, "pool", "released", "handoff",
                                     rule=rule.name)])
    routed = route_now(conn, ctx, account_id, rule.role, [rule], event_type="handed_off", reason="converted")
    return routed.rep_id if routed else None
