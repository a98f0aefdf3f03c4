"""Query predicates that several read paths share, so that each rule is written once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    or_,
    true,
    type_coerce,
)

from dynbooks.domain.clock import Now
from dynbooks.store.schema import accounts, signals

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


def prefilter(spec: Mapping[str, Any]) -> ColumnElement[bool]:
    """A SQL predicate on ``accounts`` that every account matching the filter ``spec`` satisfies.

    It only narrows what is read: :func:`dynbooks.domain.filters.evaluate` still decides, on the columns,
    exactly as for any other account. Conditions whose SQL meaning is the same as the domain's (equality,
    lists and number comparisons on plain columns, where a missing value matches nothing) are compiled;
    anything else (custom fields, negations, ``contains``, text comparisons) is left out, which only reads more.
    """
    parts: list[ColumnElement[bool]] = []
    for field, cond in spec.items():
        column = accounts.c.get(field)
        if column is None or field in ("custom", "account_id"):
            continue
        ops = cond if isinstance(cond, dict) else {("in" if isinstance(cond, list) else "eq"): cond}
        for op, arg in ops.items():
            part = _condition(column, op, arg)
            if part is not None:
                parts.append(part)
    return and_(true(), *parts)


def _kind(column: Any) -> str:
    if isinstance(column.type, Boolean):
        return "bool"
    if isinstance(column.type, Integer | Float | Numeric):
        return "number"
    if isinstance(column.type, String):
        return "text"
    return "other"


def _is_number(arg: Any) -> bool:
    return isinstance(arg, int | float) and not isinstance(arg, bool)


def _condition(column: Any, op: str, arg: Any) -> ColumnElement[bool] | None:
    kind = _kind(column)
    if op == "eq":
        if kind == "bool" and isinstance(arg, bool):
            found: ColumnElement[bool] = column.is_(true()) if arg else column.is_(false())
            return found
        if (kind == "number" and _is_number(arg)) or (kind == "text" and isinstance(arg, str)):
            return column == arg  # type: ignore[no-any-return]
        return None
    if op == "in" and isinstance(arg, list | tuple):
        parts = [_condition(column, "eq", a) for a in arg]
        if not parts or any(p is None for p in parts):
            return None  # an element we cannot compile might match: read everything
        return or_(*[p for p in parts if p is not None])
    if op in ("lt", "lte", "gt", "gte") and kind == "number" and _is_number(arg):
        return {"lt": column < arg, "lte": column <= arg, "gt": column > arg, "gte": column >= arg}[op]  # type: ignore[no-any-return]
    return None
