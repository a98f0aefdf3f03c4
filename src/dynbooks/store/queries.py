"""Query predicates that several read paths share, so that each rule is written once."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_

from dynbooks.domain.clock import Now
from dynbooks.store.schema import signals

__all__ = ["live_signals"]


def live_signals(now: Now) -> ColumnElement[bool]:
    """A signal counts when it has happened and has not expired (SPEC §10 Priority)."""
    horizon = now.horizon.replace(tzinfo=None)
    return and_(
        signals.c.occurred_at <= horizon,
        or_(signals.c.expires_at.is_(None), signals.c.expires_at > horizon),
    )
