"""Book-rule filters compiled to SQL: the same tables of conditions as :mod:`dynbooks.domain.filters`, as a
boolean SQLAlchemy expression over ``accounts``, so a report counts matching accounts in the database.

The rule is the domain's; this module only says how each operator reads a column in SQL, with the same
answer as :func:`dynbooks.domain.filters.evaluate` over the columns the loaders build (text as ``str`` or
None, numbers as float64 with NaN, ``is_customer`` as bool, custom fields as the JSON values). Every
compiled condition is two-valued (never SQL NULL), so ``ne``/``not_in``/``exists = false`` are plain
negations and a missing value matches exactly what it matches in numpy: the negative conditions only.
tests/unit/test_filters_sql.py checks both evaluators on the same accounts, missing values included.

Text order is code point order in both (SQLite's BINARY collation on UTF-8; PostgreSQL's ``"C"``).
Known divergence: ``contains`` folds case with the database's ``lower()``, which on SQLite folds ASCII
letters only; and a custom field holding a JSON array is not searched by ``contains`` (imports store
scalars only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Float, String, and_, case, cast, false, func, literal, not_, or_, true

from dynbooks.store.schema import accounts

__all__ = ["BOOL_FIELDS", "NUMBER_FIELDS", "TEXT_FIELDS", "compile_filter"]

TEXT_FIELDS = ("account_id", "name", "domain", "industry", "country", "region", "timezone", "status", "duplicate_of")
NUMBER_FIELDS = ("employees", "annual_revenue", "fit_score")
BOOL_FIELDS = ("is_customer",)
"""The account columns a filter reads directly; any other field is a key of the ``custom`` JSON."""

Cond = ColumnElement[bool]


class _Field:
    """How one field reads in SQL: as text, as a number, as a boolean (each NULL where numpy has no such value)."""

    def __init__(self, name: str, dialect: str, table: Any) -> None:
        self.name, self.dialect = name, dialect
        self.column: ColumnElement[Any]
        self.kind: str
        if name in TEXT_FIELDS:
            self.kind, self.column = "text", table.c[name]
        elif name in NUMBER_FIELDS:
            self.kind, self.column = "number", table.c[name]
        elif name in BOOL_FIELDS:
            self.kind, self.column = "bool", table.c[name]
        else:
            self.kind, self.column = "custom", table.c.custom

    def _json_type(self) -> ColumnElement[Any]:
        path = f'$."{self.name}"'
        if self.dialect == "sqlite":
            return func.json_type(self.column, path)
        return func.json_typeof(self.column.op("->")(literal(self.name, String)))

    def _json_text(self) -> ColumnElement[Any]:
        if self.dialect == "sqlite":
            return func.json_extract(self.column, f'$."{self.name}"', type_=String)
        return self.column.op("->>", return_type=String)(literal(self.name, String))

    def text(self) -> ColumnElement[Any] | None:
        """The value where it is text, else NULL (None: never text)."""
        if self.kind == "text":
            return self.column
        if self.kind == "custom":
            kind = "text" if self.dialect == "sqlite" else "string"
            return case((self._json_type() == kind, self._json_text()), else_=None)
        return None

    def number(self) -> ColumnElement[Any] | None:
        """The value where it is a number (booleans read as 0/1 from ``is_customer`` only, as numpy casts)."""
        if self.kind == "number":
            return self.column
        if self.kind == "bool":
            return case((self.column, 1.0), else_=0.0)
        if self.kind == "custom":
            if self.dialect == "sqlite":
                return case((self._json_type().in_(["integer", "real"]), self._json_text()), else_=None)
            return case((self._json_type() == "number", cast(self._json_text(), Float)), else_=None)
        return None

    def boolean(self) -> ColumnElement[Any] | None:
        """The value where it is a boolean (None: never a boolean)."""
        if self.kind == "bool":
            return self.column
        if self.kind == "custom":
            if self.dialect == "sqlite":
                return case((self._json_type() == "true", true()), (self._json_type() == "false", false()), else_=None)
            return case((self._json_type() == "boolean", self._json_text() == "true"), else_=None)
        return None

    def present(self) -> Cond:
        if self.kind in ("text", "number"):
            return self.column.is_not(None)
        if self.kind == "bool":
            return true()
        return func.coalesce(self._json_type(), "null") != "null"


def _both(value: ColumnElement[Any] | None, test: Any) -> Cond:
    """``value`` is there and ``test(value)`` holds: FALSE, never NULL, where the value is missing."""
    if value is None:
        return false()
    return and_(value.is_not(None), test(value))


def _equals(f: _Field, arg: Any) -> Cond:
    if isinstance(arg, bool):
        return _both(f.boolean(), lambda v: v == arg)
    if isinstance(arg, int | float):
        return _both(f.number(), lambda v: v == float(arg))
    if isinstance(arg, str):
        return _both(f.text(), lambda v: v == arg)
    return false()  # a date or table never equals a stored value (numpy: ``values == arg`` is False)


def _compare(f: _Field, op: str, arg: Any) -> Cond:
    ops = {"lt": "__lt__", "lte": "__le__", "gt": "__gt__", "gte": "__ge__"}
    if isinstance(arg, int | float) and not isinstance(arg, bool):
        return _both(f.number(), lambda v: getattr(v, ops[op])(float(arg)))
    value = f.text()
    if value is not None and f.dialect == "postgresql":
        value = value.collate("C")
    return _both(value, lambda v: getattr(v, ops[op])(str(arg)))


def _contains(f: _Field, arg: Any) -> Cond:
    return _both(f.text(), lambda v: func.lower(v).contains(str(arg).lower(), autoescape=True))


def _apply(f: _Field, op: str, arg: Any) -> Cond:
    if op == "eq":
        return _equals(f, arg)
    if op == "ne":
        return not_(_equals(f, arg))
    if op == "in":
        return or_(false(), *(_equals(f, a) for a in arg))
    if op == "not_in":
        return not_(or_(false(), *(_equals(f, a) for a in arg)))
    if op in ("lt", "lte", "gt", "gte"):
        return _compare(f, op, arg)
    if op == "contains":
        return _contains(f, arg)
    if op == "exists":
        return f.present() if arg else not_(f.present())
    raise ValueError(f"unknown operator {op!r}")


def compile_filter(spec: Mapping[str, Any], dialect: str, table: Any = accounts) -> Cond:
    """``spec`` as a boolean expression over ``table`` (``accounts`` or an alias of it); empty: TRUE."""
    conds: list[Cond] = []
    for name, cond in spec.items():
        f = _Field(name, dialect, table)
        if isinstance(cond, dict):
            conds += [_apply(f, op, arg) for op, arg in cond.items()]
        elif isinstance(cond, list):
            conds.append(_apply(f, "in", cond))
        else:
            conds.append(_apply(f, "eq", cond))
    return and_(true(), *conds)

