"""The accounts as columns: one bulk query into numpy arrays, then enrollment, rule matches and priority.

This is the read side every distribution shares (cycle, replacement, hand-raise, ``pool``, ``explain``):
the rules are evaluated by :mod:`dynbooks.domain.filters` and :mod:`dynbooks.domain.scoring` over
arrays, never per account in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from operator import itemgetter

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, select

from dynbooks.domain.clock import Now
from dynbooks.domain.filters import evaluate
from dynbooks.domain.rules import BookRule, Config
from dynbooks.domain.scoring import priorities, tiebreak_keys
from dynbooks.store.queries import live_signals
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

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each account id (built on first use: a million-entry dict costs seconds)."""
        return {str(a): i for i, a in enumerate(self.ids)}

    @cached_property
    def keys(self) -> np.ndarray:
        """The ids as a fixed-width text array (same code-point order), for vectorised look-ups."""
        return self.ids.astype(str)

    def positions(self, account_ids: Sequence[str]) -> npt.NDArray[np.int64]:
        """The position of each of ``account_ids`` in the market, -1 for an id not loaded."""
        wanted = np.array(account_ids, dtype=str)
        if self.n == 0 or len(wanted) == 0:
            return np.full(len(wanted), -1, dtype=np.int64)
        at = np.clip(np.searchsorted(self.keys, wanted), 0, self.n - 1)
        return np.where(self.keys[at] == wanted, at, -1).astype(np.int64)

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


def load_market(
    conn: Connection, config: Config, now: Now, only: Iterable[str] | None = None, *, narrow: bool = False
) -> Market:
    """Load accounts (all, or ``only`` these ids) in one query, ordered by id (code points) for a stable layout.

    ``narrow`` loads only the columns the configuration reads (plus status, duplicate flag and fit score):
    what a distribution needs, a fraction of the bytes of a million accounts' names and domains.
    """
    wanted = _fields(config)
    custom_needed = bool(wanted - set(STANDARD_TEXT) - set(STANDARD_NUMBER) - {"is_customer", "account_id"})
    keep = wanted | {"status", "duplicate_of", "fit_score"}
    text = tuple(c for c in STANDARD_TEXT if not narrow or c in keep)
    number = tuple(c for c in STANDARD_NUMBER if not narrow or c in keep)
    cols = [accounts.c.account_id, accounts.c.is_customer, *(accounts.c[c] for c in text + number)]
    if custom_needed:
        cols.append(accounts.c.custom)
    query = select(*cols)
    only_list = None if only is None else sorted(set(only))
    if only_list is not None:
        query = query.where(accounts.c.account_id.in_(only_list))
    result = conn.execute(query)
    # Plain DB-API tuples when no column needs SQLAlchemy's conversion (JSON does): no Row per account.
    rows = list(result.cursor.fetchall() if not custom_needed and result.cursor is not None else result.all())
    # Sort by id in Python, not SQL: PostgreSQL collations order text differently from code points.
    rows.sort(key=itemgetter(0))
    n = len(rows)
    transposed = list(zip(*rows, strict=True)) if rows else [() for _ in cols]
    del rows
    columns: dict[str, np.ndarray] = {}
    ids = np.array(transposed[0], dtype=object)
    columns["account_id"] = ids
    columns["is_customer"] = np.array(transposed[1], dtype=bool)
    for i, name in enumerate(text, start=2):
        columns[name] = np.array(transposed[i], dtype=object)
    for i, name in enumerate(number, start=2 + len(text)):
        # None becomes NaN in the float conversion itself (no Python loop per account).
        columns[name] = np.array(transposed[i], dtype=np.float64)
    if custom_needed:
        customs = transposed[-1]
        for field in sorted(wanted - set(columns)):
            columns[field] = np.array([(c or {}).get(field) for c in customs], dtype=object)

    priority = _priority(conn, config, now, ids, columns["fit_score"], only_list)
    tiebreak = tiebreak_keys(config.scoring.sort_keys, columns, n)
    return Market(ids=ids, columns=columns, priority=priority, tiebreak=tiebreak)


def _priority(
    conn: Connection, config: Config, now: Now, ids: np.ndarray, fit: npt.NDArray[np.float64], only: list[str] | None
) -> npt.NDArray[np.float64]:
    query = select(signals.c.account_id, signals.c.strength, signals.c.occurred_at).where(live_signals(now))
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
