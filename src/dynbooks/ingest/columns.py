"""The columns of each import kind (SPEC §9 "CSV files"): their types and which ones are required."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dynbooks.ingest.values import (
    bools,
    counts,
    dates,
    datetimes,
    domains,
    floats,
    nonneg_floats,
    normalise_domain,
    to_bool,
    to_count,
    to_date,
    to_datetime,
    to_float,
    to_nonneg_float,
)

__all__ = ["ID_COLUMN", "OWNER_PREFIX", "SALESFORCE_ID_COLUMNS", "SCHEMAS", "Column"]

Converter = Callable[[str], Any]
BatchConverter = Callable[[list[str]], list[Any]]


@dataclass(frozen=True)
class Column:
    """A known column: ``convert`` is ``None`` for text (kept as written, stripped).

    ``batch`` converts a whole column of non-empty cells at once (fast, raises on any bad cell);
    ``convert`` converts one cell and says what is wrong with it.
    """

    convert: Converter | None = None
    required: bool = False
    batch: BatchConverter | None = None


_TEXT = Column()
_REQUIRED_TEXT = Column(required=True)

SCHEMAS: dict[str, dict[str, Column]] = {
    "accounts": {
        "account_id": _REQUIRED_TEXT,
        "name": _REQUIRED_TEXT,
        "domain": Column(normalise_domain, batch=domains),
        "industry": _TEXT,
        "employees": Column(to_count, batch=counts),
        "annual_revenue": Column(to_nonneg_float, batch=nonneg_floats),
        "country": _TEXT,
        "region": _TEXT,
        "timezone": _TEXT,
        "fit_score": Column(to_float, batch=floats),
        "is_customer": Column(to_bool, batch=bools),
    },
    "reps": {
        "rep_id": _REQUIRED_TEXT,
        "name": _REQUIRED_TEXT,
        "book_rule": _REQUIRED_TEXT,
        "email": _TEXT,
        "team": _TEXT,
        "manager": _TEXT,
        "timezone": _TEXT,
        "start_date": Column(to_date, batch=dates),
        "unavailable_until": Column(to_date, batch=dates),
        "active": Column(to_bool, batch=bools),
    },
    "activities": {
        "activity_id": _TEXT,
        "account_id": _REQUIRED_TEXT,
        "rep_id": _REQUIRED_TEXT,
        "type": _REQUIRED_TEXT,
        "occurred_at": Column(to_datetime, required=True, batch=datetimes),
    },
    "signals": {
        "signal_id": _TEXT,
        "account_id": _REQUIRED_TEXT,
        "type": _REQUIRED_TEXT,
        "strength": Column(to_float, required=True, batch=floats),
        "occurred_at": Column(to_datetime, required=True, batch=datetimes),
        "expires_at": Column(to_datetime, batch=datetimes),
    },
    "opportunities": {
        "opportunity_id": _REQUIRED_TEXT,
        "account_id": _REQUIRED_TEXT,
        "rep_id": _REQUIRED_TEXT,
        "created_at": Column(to_datetime, required=True, batch=datetimes),
        "stage": _TEXT,
        "amount": Column(to_float, batch=floats),
        "is_closed": Column(to_bool, batch=bools),
        "is_won": Column(to_bool, batch=bools),
        "closed_at": Column(to_datetime, batch=datetimes),
    },
}

ID_COLUMN = {
    "accounts": "account_id",
    "reps": "rep_id",
    "activities": "activity_id",
    "signals": "signal_id",
    "opportunities": "opportunity_id",
}
"""The upsert key of each kind; a repeat within one file makes the later row bad."""

OWNER_PREFIX = "owner_"
"""Accounts: ``owner_<role>`` columns carry today's owner (a rep id) for that role."""

SALESFORCE_ID_COLUMNS = frozenset({"account_id", "rep_id", "opportunity_id", "activity_id"})
"""Columns normalised to 18-character ids under the ``salesforce`` preset (and every ``owner_*``)."""
