"""The accounts as columns: one bulk query into numpy arrays, then enrollment, rule matches and priority.

This is the read side every distribution shares (cycle, replacement, hand-raise, ``pool``, ``explain``):
the rules are evaluated by :mod:`dynbooks.domain.filters` and :mod:`dynbooks.domain.scoring` over
arrays, never per account in Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Connection, and_, or_, select

from dynbooks.domain.clock import Now
from dynbooks.domain.filters import evaluate
from dynbooks.domain.rules import BookRule, Config
from dynbooks.domain.scoring import priorities, tiebreak_keys
from dynbooks.store.schema import accounts, signals

__all__ = ["Market", "load_market"]

STANDARD_TEXT = ("name", "domain", "industry", "country", "region", "timezone", "status", "duplicate_of")
STANDARD_NUMBER = ("employees", "annual_revenue", "fit_score")


@dataclass
class Market:
    """Every account (or a chosen few) as columns, with its priority as of ``now``."""

    ids: npt.NDArray[np.object_]
    columns: dict[str, np.ndarray]
    priority: npt.NDArray[np.float64]
    tiebreak: npt.NDArray[np.float64]
    index: dict[str, int]

    @property
    def n(self) -> int:
        return len(self.ids)

    def active(self) -> npt.NDArray[np.bool_]:
        """Not retired, not held, not flagged as a likely duplicate."""
        status = self.columns["status"]
        dup = self.columns["duplicate_of"]
        return np.asarray((status == "active") & np.array([d is None for d in dup], dtype=bool), dtype=np.bool_)

    def matches(self, spec: dict[str, object]) -> npt.NDArray[np.bool_]:
        return evaluate(spec, self.columns, self.n)

    def enrolled(self, config: Config) -> npt.NDArray[np.bool_]:
        return self.matches(config.enrollment.filter)

    def rule_match(self, rule: BookRule) -> npt.NDArray[np.bool_]:
        return self.matches(rule.filter)


def _fields(config: Config) -> set[str]:
    fields: set[str] = set(config.enrollment.filter)
    for rule in config.book_rule:
        fields |= set(rule.filter)
        for seg in rule.segments:
            fields |= set(seg.filter)
    fields |= {k.removeprefix("-") for k in config.scoring.sort_keys}
    return fields


def load_market(conn: Connection, config: Config, now: Now, only: Iterable[str] | None = None) -> Market:
    """Load accounts (all, or ``only`` these ids) in one query, ordered by id (code points) for a stable layout."""
    wanted = _fields(config)
    custom_needed = bool(wanted - set(STANDARD_TEXT) - set(STANDARD_NUMBER) - {"is_customer", "account_id"})
    cols = [accounts.c.account_id, accounts.c.is_customer, *(accounts.c[c] for c in STANDARD_TEXT + STANDARD_NUMBER)]
    if custom_needed:
        cols.append(accounts.c.custom)
    query = select(*cols)
    only_list = None if only is None else sorted(set(only))
    if only_list is not None:
        query = query.where(accounts.c.account_id.in_(only_list))
    rows = list(conn.execute(query).all())
    # Sort by id in Python, not SQL: PostgreSQL collations order text differently from code points.
    rows.sort(key=lambda r: r[0])
    n = len(rows)
    transposed = list(zip(*rows, strict=True)) if rows else [() for _ in cols]
    columns: dict[str, np.ndarray] = {}
    ids = np.array(transposed[0], dtype=object)
    columns["account_id"] = ids
    columns["is_customer"] = np.array(transposed[1], dtype=bool)
    for i, name in enumerate(STANDARD_TEXT, start=2):
        columns[name] = np.array(transposed[i], dtype=object)
    for i, name in enumerate(STANDARD_NUMBER, start=2 + len(STANDARD_TEXT)):
        columns[name] = np.array([np.nan if v is None else v for v in transposed[i]], dtype=np.float64)
    if custom_needed:
        customs = transposed[-1]
        for field in sorted(wanted - set(columns)):
            columns[field] = np.array([(c or {}).get(field) for c in customs], dtype=object)

    priority = _priority(conn, config, now, ids, columns["fit_score"], only_list)
    tiebreak = tiebreak_keys(config.scoring.sort_keys, columns, n)
    index = {str(a): i for i, a in enumerate(ids)}
    return Market(ids=ids, columns=columns, priority=priority, tiebreak=tiebreak, index=index)


def live_signals_clause(now: Now) -> ColumnElement[bool]:
    """A signal counts when it has happened and has not expired (SPEC §10 Priority)."""
    horizon = now.horizon.replace(tzinfo=None)
    return and_(
        signals.c.occurred_at <= horizon,
        or_(signals.c.expires_at.is_(None), signals.c.expires_at > horizon),
    )


def _priority(
    conn: Connection, config: Config, now: Now, ids: np.ndarray, fit: npt.NDArray[np.float64], only: list[str] | None
) -> npt.NDArray[np.float64]:
    query = select(signals.c.account_id, signals.c.strength, signals.c.occurred_at).where(live_signals_clause(now))
    if only is not None:
        query = query.where(signals.c.account_id.in_(only))
    rows = conn.execute(query).all()
    if not rows or len(ids) == 0:
        return priorities(fit, np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), 1.0)
    sig_ids, strength, occurred = zip(*rows, strict=True)
    position = np.searchsorted(ids.astype(str), np.array(sig_ids, dtype=str))
    position = np.clip(position, 0, len(ids) - 1)
    known = ids[position] == np.array(sig_ids, dtype=object)
    age = np.array([_age_days(now, t) for t in occurred], dtype=np.int64)
    return priorities(
        fit,
        position[known].astype(np.int64),
        np.array(strength, dtype=np.float64)[known],
        age[known],
        config.scoring.timing_half_life_days,
    )


def _age_days(now: Now, occurred: datetime) -> int:
    return max(0, (now.day - occurred.date()).days)
