"""The accounts as columns: one bulk query into numpy arrays, then enrollment, rule matches and priority.

This is the read side every distribution shares (cycle, replacement, hand-raise, ``pool``, ``explain``):
the rules are evaluated by :mod:`dynbooks.domain.filters` and :mod:`dynbooks.domain.scoring` over
arrays, never per account in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, exists, false, or_, select

from dynbooks.domain.clock import Now
from dynbooks.domain.filters import evaluate
from dynbooks.domain.rules import BookRule, Config
from dynbooks.domain.scoring import priorities, tiebreak_keys
from dynbooks.store.queries import days_since, live_signals, prefilter
from dynbooks.store.schema import account_roles, accounts, signals

__all__ = ["Market", "load_market", "load_pool"]

POOL_CHUNK = 100_000
"""Rows fetched at a time by :func:`load_pool`: each chunk becomes arrays before the next is read."""

STANDARD_TEXT = ("name", "domain", "industry", "country", "region", "timezone", "status", "duplicate_of")
STANDARD_NUMBER = ("employees", "annual_revenue", "fit_score")


@dataclass
class Market:
    """Every account (or a chosen few) as columns, with its priority as of ``now``."""

    ids: npt.NDArray[np.object_]
    columns: dict[str, np.ndarray]
    priority: npt.NDArray[np.float64]
    tiebreak: npt.NDArray[np.float64]
    taken: dict[str, npt.NDArray[np.bool_]] | None = None
    """Per role, which accounts have a row for it (owned, resting, review); read with the accounts by
    :func:`load_pool`, None when not loaded."""

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


SHARED_TEXTS = 65_536


def _shared_texts(values: Sequence[str | None], shared: dict[str, str]) -> np.ndarray:
    """A text column as an object array holding one str per distinct value. The driver makes a new str per
    row, and a rule's text column (a region, an industry) has few distinct values: at 5M accounts (1.7M in
    the pool) ~80 MB less per column, and the cycle's peak under 1 GB. A column with more distinct values than
    ``SHARED_TEXTS`` (across all of them) is left as it came: a table of them would only add to it."""
    if len(shared) >= SHARED_TEXTS:
        return np.array(values, dtype=object)
    return np.array([v if v is None else shared.setdefault(v, v) for v in values], dtype=object)


def _priority(
    conn: Connection, config: Config, now: Now, ids: np.ndarray, fit: npt.NDArray[np.float64], only: list[str] | None,
    keys: np.ndarray | None = None,
) -> npt.NDArray[np.float64]:
    """Fit plus the live signals of the loaded accounts (``ids`` sorted; ``keys`` the same as text)."""
    # The database gives each signal's age in whole days: no datetime object per signal.
    age_days = days_since(conn.dialect.name, now.day, signals.c.occurred_at)
    query = select(signals.c.account_id, signals.c.strength, age_days).where(live_signals(now))
    if only is not None:
        query = query.where(signals.c.account_id.in_(only))
    result = conn.execute(query)
    fetch = result.cursor.fetchmany if result.cursor is not None else result.fetchmany
    if len(ids) == 0:
        return priorities(fit, np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), 1.0)
    keys = ids.astype(str) if keys is None else keys
    # A slice of signals at a time, each turned into arrays at once: 500k rows fetched whole were ~100 MB of
    # tuples at the cycle's peak (5M accounts).
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while rows := fetch(POOL_CHUNK):
        sig_ids, strength, age = zip(*rows, strict=True)
        del rows
        wanted = np.array(sig_ids, dtype=str)
        position = np.clip(np.searchsorted(keys, wanted), 0, len(ids) - 1)
        known = keys[position] == wanted
        found.append((position[known].astype(np.int64), np.array(strength, dtype=np.float64)[known],
                      np.maximum(np.array(age, dtype=np.int64), 0)[known]))
    if not found:
        return priorities(fit, np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), 1.0)
    at = np.concatenate([f[0] for f in found])
    weight = np.concatenate([f[1] for f in found])
    days = np.concatenate([f[2] for f in found])
    return priorities(fit, at, weight, days, config.scoring.timing_half_life_days)


def _pool_query(config: Config, fields: tuple[str, ...], dialect: str) -> Any:
    """The accounts a distribution may deal, narrowed in SQL: active, not a likely duplicate, free in at
    least one role, and (as far as SQL can tell: :func:`dynbooks.store.queries.prefilter`) enrolled and in
    some book rule. Each role's "has a row" flag comes with the row."""
    ar = account_roles.c
    taken = [exists().where(ar.account_id == accounts.c.account_id, ar.role == role) for role in config.roles]
    in_rule = or_(*[prefilter(r.filter, dialect) for r in config.book_rule]) if config.book_rule else false()
    return select(*(accounts.c[f] for f in fields), *(t.label(f"taken_{i}") for i, t in enumerate(taken))).where(
        and_(
            accounts.c.status == "active",
            accounts.c.duplicate_of.is_(None),
            prefilter(config.enrollment.filter, dialect),
            in_rule,
            or_(*[~t for t in taken]) if taken else false(),
        )
    )


def load_pool(conn: Connection, config: Config, now: Now) -> Market:
    """The market a distribution reads: only the accounts it may deal (see :func:`_pool_query`) and only the
    columns the configuration reads, fetched in chunks straight from the DB-API cursor into arrays.

    The rules are still decided on the columns by the domain (enrollment, rule and segment filters,
    ``min_priority``): SQL only leaves out accounts none of them could take, so the plan is the one the
    whole market gives.
    """
    wanted = _fields(config) | {"fit_score"}
    custom_needed = bool(wanted - set(STANDARD_TEXT) - set(STANDARD_NUMBER) - {"is_customer", "account_id"})
    text = tuple(c for c in STANDARD_TEXT if c in wanted and c not in ("status", "duplicate_of"))
    number = tuple(c for c in STANDARD_NUMBER if c in wanted)
    custom = sorted(wanted - set(STANDARD_TEXT) - set(STANDARD_NUMBER) - {"is_customer", "account_id"})
    fields = ("account_id", "is_customer", *text, *number, *(("custom",) if custom_needed else ()))
    roles = config.roles
    result = conn.execute(_pool_query(config, fields, conn.dialect.name))
    # JSON needs SQLAlchemy's conversion; everything else comes as plain DB-API tuples.
    fetch = result.fetchmany if custom_needed or result.cursor is None else result.cursor.fetchmany
    parts: list[list[np.ndarray]] = []
    shared: dict[str, str] = {}
    while chunk := fetch(POOL_CHUNK):
        cols = list(zip(*chunk, strict=True))
        del chunk
        arrays = [np.array(cols[0], dtype=str), np.array(cols[1], dtype=bool)]
        arrays += [_shared_texts(c, shared) for c in cols[2:2 + len(text)]]
        arrays += [np.array(c, dtype=np.float64) for c in cols[2 + len(text):2 + len(text) + len(number)]]
        if custom_needed:
            customs = cols[len(fields) - 1]
            arrays += [np.array([(c or {}).get(f) for c in customs], dtype=object) for f in custom]
        arrays += [np.array(c, dtype=bool) for c in cols[len(fields):]]
        parts.append(arrays)
        del cols
    names = ["account_id", "is_customer", *text, *number, *custom]
    width = len(names) + len(roles)
    merged = [np.concatenate([p[k] for p in parts]) if parts else np.zeros(0) for k in range(width)]
    del parts
    keys = merged[0].astype(str)
    order = np.argsort(keys, kind="stable")  # code-point order, the layout load_market gives
    for k in range(width):  # one column at a time: a single copy alive at once
        merged[k] = merged[k][order]
    del order
    keys = merged[0]
    n = len(keys)
    columns: dict[str, np.ndarray] = {}
    for name, values in zip(names, merged[:len(names)], strict=True):
        columns[name] = values
    ids = keys.astype(object)
    columns["account_id"] = ids
    columns["is_customer"] = columns["is_customer"].astype(bool)
    for name in number:
        columns[name] = columns[name].astype(np.float64)
    # Filtered in SQL: every loaded account is active and not a likely duplicate.
    columns["status"] = np.full(n, "active", dtype=object)
    columns["duplicate_of"] = np.full(n, None, dtype=object)
    taken = {role: merged[len(names) + k].astype(bool) for k, role in enumerate(roles)}
    priority = _priority(conn, config, now, ids, columns["fit_score"], None, keys)
    tiebreak = tiebreak_keys(config.scoring.sort_keys, columns, n)
    market = Market(ids=ids, columns=columns, priority=priority, tiebreak=tiebreak, taken=taken)
    market.__dict__["keys"] = keys  # the cached fixed-width ids, already made
    return market
