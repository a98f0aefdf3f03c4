"""The columns of each import kind (SPEC §9 "CSV files"): their types and which ones are required."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dynbooks.ingest.values import (
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


@dataclass(frozen=True)
class Column:
    """A known column: ``convert`` is ``None`` for text (kept as written, stripped)."""

    convert: Converter | None = None
    required: bool = False


_TEXT = Column()
_REQUIRED_TEXT = Column(required=True)

SCHEMAS: dict[str, dict[str, Column]] = {
    "accounts": {
        "account_id": _REQUIRED_TEXT,
        "name": _REQUIRED_TEXT,
        "domain": Column(normalise_domain),
        "industry": _TEXT,
        "employees": Column(to_count),
        "annual_revenue": Column(to_nonneg_float),
        "country": _TEXT,
        "region": _TEXT,
        "timezone": _TEXT,
        "fit_score": Column(to_float),
        "is_customer": Column(to_bool),
    },
    "reps": {
        "rep_id": _REQUIRED_TEXT,
        "name": _REQUIRED_TEXT,
        "book_rule": _REQUIRED_TEXT,
        "email": _TEXT,
        "team": _TEXT,
        "manager": _TEXT,
        "timezone": _TEXT,
        "start_date": Column(to_date),
        "unavailable_until": Column(to_date),
        "active": Column(to_bool),
    },
    "activities": {
        "activity_id": _TEXT,
        "account_id": _REQUIRED_TEXT,
        "rep_id": _REQUIRED_TEXT,
        "type": _REQUIRED_TEXT,
        "occurred_at": Column(to_datetime, required=True),
    },
    "signals": {
        "signal_id": _TEXT,
        "account_id": _REQUIRED_TEXT,
        "type": _REQUIRED_TEXT,
        "strength": Column(to_float, required=True),
        "occurred_at": Column(to_datetime, required=True),
        "expires_at": Column(to_datetime),
    },
    "opportunities": {
        "opportunity_id": _REQUIRED_TEXT,
        "account_id": _REQUIRED_TEXT,
        "rep_id": _REQUIRED_TEXT,
        "created_at": Column(to_datetime, required=True),
        "stage": _TEXT,
        "amount": Column(to_float),
        "is_closed": Column(to_bool),
        "is_won": Column(to_bool),
        "closed_at": Column(to_datetime),
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
