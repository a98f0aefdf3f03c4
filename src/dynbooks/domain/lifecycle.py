"""The account lifecycle per (account, role) and the events that record it (SPEC §2, §3, §10).

```
            distribute                 return(reason) / retrieve
   pool ─────────────────▶ owned ───────────────────────────────▶ resting ──(rest ends)──▶ pool
    ▲  ▲                    │  │                                   review ──(fix)──▶ pool / retired
    │  └──── reintroduce ───┘  └── converted (opportunity) ──▶ hand-off to an AE, round robin
    └──────────── reactivate ◀── retired          held (holding user) ◀──▶ pool (admin)
```

Review, rest, ownership and cooldown are per (account, role); retire and hold apply to every role.
Every transition is an :class:`Event`; the store writes them in the same transaction as the state.
This module decides *what* happens; it never reads a clock or a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from dynbooks.domain.errors import Refused
from dynbooks.domain.rules import BookRule, ReturnLimit, ReturnReason, Route

__all__ = [
    "TRANSITIONS",
    "Event",
    "EventType",
    "ReturnOutcome",
    "State",
    "check_return_limit",
    "check_transition",
    "period_start",
    "route_return",
]


class State(StrEnum):
    POOL = "pool"
    OWNED = "owned"
    RESTING = "resting"
    REVIEW = "review"
    RETIRED = "retired"
    HELD = "held"


class EventType(StrEnum):
    """Past tense, one per transition. ``history`` shows them in ``seq`` order."""

    DISTRIBUTED = "distributed"
    RETURNED = "returned"
    RETRIEVED = "retrieved"
    RELEASED = "released"
    REINTRODUCED = "reintroduced"
    RETIRED = "retired"
    REACTIVATED = "reactivated"
    HELD = "held"
    UNHELD = "unheld"
    HANDED_OFF = "handed_off"
    BUMPED = "bumped"
    """A ``when_full = "swap"`` hand-raise pushed this account out of a full book (back to the pool, no rest)."""
    UNASSIGNED = "unassigned"
    """The owner was deactivated: back to the pool without rest, redistributed in the same step."""
    FLAGGED = "flagged"
    """Sent to the review queue without a return (e.g. a likely duplicate found at import)."""
    FIXED = "fixed"
    UNDONE = "undone"
    """``cycle undo`` reversed one move of the last cycle: the account goes back to where it was before it."""


_ANY_ROW = frozenset({State.POOL, State.OWNED, State.RESTING, State.REVIEW})

TRANSITIONS: dict[EventType, tuple[frozenset[State], frozenset[State]]] = {
    EventType.DISTRIBUTED: (frozenset({State.POOL}), frozenset({State.OWNED})),
    EventType.HANDED_OFF: (frozenset({State.POOL}), frozenset({State.OWNED})),
    # A return goes where its reason routes it; the retire route leaves the row (``retired`` follows).
    EventType.RETURNED: (frozenset({State.OWNED}), frozenset({State.RESTING, State.REVIEW, State.POOL})),
    EventType.RETRIEVED: (frozenset({State.OWNED}), frozenset({State.RESTING})),
    EventType.RELEASED: (frozenset({State.RESTING, State.REVIEW}), frozenset({State.POOL})),
    EventType.REINTRODUCED: (frozenset({State.REVIEW}), frozenset({State.POOL})),
    EventType.FLAGGED: (frozenset({State.POOL}), frozenset({State.REVIEW})),
    EventType.RETIRED: (_ANY_ROW, frozenset({State.RETIRED})),
    EventType.REACTIVATED: (frozenset({State.RETIRED}), frozenset({State.POOL})),
    EventType.HELD: (_ANY_ROW, frozenset({State.HELD})),
    EventType.UNHELD: (frozenset({State.HELD}), frozenset({State.POOL})),
    EventType.BUMPED: (frozenset({State.OWNED}), frozenset({State.POOL})),
    EventType.UNASSIGNED: (frozenset({State.OWNED, State.RESTING, State.REVIEW}), frozenset({State.POOL})),
    # The reverse of a cycle's moves: distributed (owned → pool), retrieved (resting → owned), released
    # (pool → resting).
    EventType.UNDONE: (frozenset({State.OWNED, State.RESTING, State.POOL}),
                       frozenset({State.POOL, State.OWNED, State.RESTING})),
}
"""Every transition of SPEC §2's diagram: event → (states it may leave, states it may reach)."""


def check_transition(event: EventType | str, before: State | str, after: State | str) -> None:
    """Raise ValueError for a move the lifecycle does not have (a programming error, never user input)."""
    allowed = TRANSITIONS.get(EventType(event))
    if allowed is None:
        raise ValueError(f"{event} is not a lifecycle transition")
    if State(before) not in allowed[0] or State(after) not in allowed[1]:
        raise ValueError(f"{event} cannot move an account from {before} to {after}")


@dataclass(frozen=True)
class Event:
    """One transition: who, what, when, why, before and after."""

    type: EventType
    account_id: str
    role: str | None
    at: datetime
    rep_id: str | None = None
    reason: str | None = None
    rule: str | None = None
    cycle_id: str | None = None
    before: State | None = None
    after: State | None = None
    actor: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReturnOutcome:
    """Where a returned account goes for the returning role."""

    route: Route
    state: State
    rest_until: date | None


def route_return(reason: ReturnReason, rule: BookRule, day: date, until: date | None) -> ReturnOutcome:
    """Route a return by its reason (SPEC §3, §10 Returns).

    ``rest`` rests for the reason's ``rest_days``; ``rest_until`` needs ``until`` after today;
    ``review`` queues it for RevOps; ``retire`` takes the account out of circulation (every role);
    ``handoff`` rests the returning role's row for its rule's ``rest_days`` (the account goes to the
    ``handoff_to`` rule, which the caller routes).
    """
    if reason.route is Route.REST_UNTIL:
        if until is None:
            raise Refused(f"reason {reason.code!r} needs --until DATE (the date the prospect gave)")
        if until <= day:
            raise Refused(f"--until {until.isoformat()} is not after {day.isoformat()}")
        return ReturnOutcome(reason.route, State.RESTING, until)
    if reason.route is Route.REST:
        assert reason.rest_days is not None  # guaranteed by ReturnReason's validator
        return ReturnOutcome(reason.route, State.RESTING, day + timedelta(days=reason.rest_days))
    if reason.route is Route.REVIEW:
        return ReturnOutcome(reason.route, State.REVIEW, None)
    if reason.route is Route.RETIRE:
        return ReturnOutcome(reason.route, State.RETIRED, None)
    if rule.handoff_to is None:
        raise Refused(f"reason {reason.code!r} hands off, but book rule {rule.name!r} has no handoff_to")
    return ReturnOutcome(reason.route, State.RESTING, day + timedelta(days=rule.rest_days))


def period_start(per: str, day: date) -> date:
    """The first day of the calendar day, ISO week (Monday) or calendar month that holds ``day``."""
    if per == "day":
        return day
    if per == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def check_return_limit(code: str, limit: ReturnLimit | None, already: int, day: date) -> None:
    """Refuse a return over the rule's limit for the reason in this period (``max`` is inclusive)."""
    if limit is None or already < limit.max:
        return
    since = period_start(limit.per, day).isoformat()
    raise Refused(
        f"return limit reached: at most {limit.max} {code!r} returns per {limit.per} "
        f"({already} since {since}); talk to your manager or use another reason"
    )
