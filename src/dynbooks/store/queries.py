"""Query predicates that several read paths share, so that each rule is written once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    cast,
    func,
    literal,
    or_,
    type_coerce,
)

from dynbooks.domain.clock import Now
from dynbooks.store.filters_sql import compile_filter
from dynbooks.store.schema import signals

__all__ = ["days_since", "live_signals", "prefilter"]


def live_signals(now: Now) -> ColumnElement[bool]:
    """A signal counts when it has happened and has not expired (SPEC §10 Priority)."""
    horizon = now.horizon.replace(tzinfo=None)
    return and_(
        signals.c.occurred_at <= horizon,
        or_(signals.c.expires_at.is_(None), signals.c.expires_at > horizon),
    )


def days_since(dialect: str, day: date, column: ColumnElement[Any]) -> ColumnElement[int]:
    """Whole calendar days from the date of ``column`` (a date or datetime) to ``day``; NULL stays NULL.

    Computed by the database so that a million dates are not turned into Python objects to subtract them.
    """
    if dialect == "sqlite":
        # julianday of two calendar dates differs by a whole number: the cast is exact.
        return cast(func.julianday(day.isoformat()) - func.julianday(func.date(column)), Integer)
    return type_coerce(literal(day, Date) - cast(column, Date), Integer)  # date - date is an integer


def prefilter(spec: Mapping[str, Any], dialect: str) -> ColumnElement[bool]:
    """A SQL predicate on ``accounts`` that every account matching the filter ``spec`` satisfies.

    It only narrows what is read: :func:`dynbooks.domain.filters.evaluate` still decides, on the columns,
    exactly as for any other account. The conditions are compiled by :mod:`dynbooks.store.filters_sql`
    (the one SQL reading of a filter), except ``contains``: SQLite's ``lower()`` folds ASCII letters only,
    so a compiled ``contains`` could leave out an account the domain would take; left out, it only reads more.
    """
    exact: dict[str, Any] = {}
    for field, cond in spec.items():
        if isinstance(cond, dict):
            kept = {op: arg for op, arg in cond.items() if op != "contains"}
            if kept:
                exact[field] = kept
        else:
            exact[field] = cond
    return compile_filter(exact, dialect)
