"""Use cases: reps' digests and managers' weekly summaries (issue 5, Notifications).

A rep's digest lists the accounts that are new in their book (assigned in the last 7 days) and those about
to be retrieved (within the rule's ``warn_days``), each with its link; a rep with neither gets nothing.
A manager's summary (to every manager user of the team) gives the team's balance, the last 7 days' returns
by reason and the coaching flags. Messages go through every configured sender; one failed delivery does
not stop the others, and the answer names it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from dynbooks.notify.senders import DeliveryFailed, Message, Sender
from dynbooks.reports import ReportFilters
from dynbooks.services.context import Context
from dynbooks.services.reads import book
from dynbooks.services.reporting import run_report
from dynbooks.store.schema import reps, users

__all__ = ["deliver", "manager_summaries", "rep_digests"]


def _link(ctx: Context, account_id: str) -> str:
    return f"{ctx.config.notifications.app_url.rstrip('/')}/accounts/{account_id}"


def rep_digests(ctx: Context) -> list[Message]:
    with ctx.reading() as conn:
        active = conn.execute(select(reps.c.rep_id, reps.c.name, reps.c.email).where(reps.c.active.is_(True))
                              .order_by(reps.c.rep_id)).all()
    out = []
    for rep in active:
        accounts = book(ctx, rep.rep_id)["accounts"]
        new = [a for a in accounts if a["new"]]
        risk = [a for a in accounts if a["warning"]]
        if not new and not risk:
            continue
        lines = [f"Hello {rep.name}, your book on {ctx.now.day.isoformat()}:"]
        if new:
            lines += ["", f"{len(new)} new account{'s' if len(new) != 1 else ''}:"]
            lines += [f"- {a['name']} ({a['account_id']}), priority {a['priority']:.1f}: {_link(ctx, a['account_id'])}"
                      for a in new]
        if risk:
            lines += ["", f"{len(risk)} about to be retrieved (log a call, e-mail or meeting to keep them):"]
            lines += [f"- {a['name']} ({a['account_id']}), back to the pool in {a['retrieve_in_days']} days: "
                      f"{_link(ctx, a['account_id'])}" for a in risk]
        subject = f"dynbooks: {len(new)} new, {len(risk)} about to be retrieved"
        out.append(Message(to=rep.email or None, name=rep.name, subject=subject, text="\n".join(lines)))
    return out


def manager_summaries(ctx: Context) -> list[Message]:
    with ctx.reading() as conn:
        managers = conn.execute(select(users.c.email, users.c.team).where(
            users.c.role == "manager", users.c.active.is_(True)).order_by(users.c.team, users.c.email)).all()
    since = ctx.now.day - timedelta(days=6)
    out = []
    for m in managers:
        balance = run_report(ctx, "balance", ReportFilters(team=m.team))
        returns = run_report(ctx, "returns", ReportFilters(team=m.team, since=since, until=ctx.now.day))
        by_reason = Counter[str]()
        for r in returns.rows:
            by_reason[r["reason"]] += int(r["count"])
        lines = [f"Team {m.team}, week to {ctx.now.day.isoformat()}", "", "Balance (book size / capacity):"]
        lines += [f"- {r['rep_id']}: {r['size']} / {r['capacity']}" for r in balance.rows] or ["- no reps"]
        lines += ["", f"Returns in the last 7 days: {sum(by_reason.values())}"]
        lines += [f"- {reason}: {n}" for reason, n in sorted(by_reason.items())]
        flags = returns.extra.get("flags", [])
        if flags:
            lines += ["", "Coaching flags (≥ 2× the team median):"]
            lines += [f"- {f['rep_id']}: {f['reason']} at {f['rate']:.2f} (team median {f['team_median']:.2f})"
                      for f in flags]
        lines += ["", f"{ctx.config.notifications.app_url.rstrip('/')}/team"]
        out.append(Message(to=m.email, name=f"manager of {m.team}", subject=f"dynbooks: team {m.team} this week",
                           text="\n".join(lines)))
    return out


def deliver(messages: Sequence[Message], senders: Sequence[Sender]) -> dict[str, Any]:
    """Send every message through every sender: ``{"messages", "sent": {channel: n}, "failed": [...]}``."""
    sent: Counter[str] = Counter()
    failed: list[str] = []
    for message in messages:
        for sender in senders:
            try:
                if sender.send(message):
                    sent[sender.channel] += 1
            except DeliveryFailed as exc:
                failed.append(exc.message)
    return {"messages": len(messages), "sent": dict(sent), "failed": failed}
