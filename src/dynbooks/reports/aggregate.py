"""The set-based reads behind balance, coverage, audit and flow: GROUP BY in the database, a few rows out.

No report loads the accounts or the owned rows into Python any more (at 5M accounts that alone took longer
than the 2 s a report may take). Book-rule filters are compiled to SQL by :mod:`dynbooks.store.filters_sql`
from the same tables of conditions the cycle evaluates with numpy, and every per-account fact (the last
meaningful activity, an open opportunity, a live signal, a row for a role) is a correlated sub-query that
an index answers, evaluated only for the accounts the filters keep.

Days are compared as ISO text ``YYYY-MM-DD`` (:func:`day_sql`), which both databases order like dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    exists,
    false,
    func,
    literal_column,
    not_,
    null,
    or_,
    select,
    true,
)

from dynbooks.domain.clock import Now, day_number
from dynbooks.domain.rules import BookRule, Config
from dynbooks.reports.data import horizon
from dynbooks.reports.periods import day_sql
from dynbooks.store.filters_sql import compile_filter
from dynbooks.store.queries import live_signals
from dynbooks.store.schema import account_roles, accounts, activities, signals

__all__ = [
    "AE_HOARDING_DAYS",
    "AccountCube",
    "OwnedGroups",
    "account_cube",
    "owned_groups",
    "ready_counts",
    "signal_weight_per_rep",
]

AE_HOARDING_DAYS = 30
"""The AE hoarding window when the rule sets no ``hoarding_days`` (SPEC §5)."""


def _iso(day: date) -> str:
    return day.isoformat()


class Facts:
    """Per-account facts for a query over ``accounts`` (joined to ``account_roles`` for owned rows).

    Each is read from the columns the writers keep (:mod:`dynbooks.services.facts`, and the owner's
    ``account_roles.last_activity_at``, the retrieval clock's), and only where a kept value cannot answer
    exactly — a fact later than the report's horizon (a report as of a past day), or an owner whose only
    activities might predate the assignment yet still count — by an index probe for that row alone.
    """

    def __init__(self, conn: Connection, config: Config, now: Now) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
        self.config, self.now = config, now
        self.h = horizon(now)

    def _meaningful(self) -> list[ColumnElement[bool]]:
        return [activities.c.type.in_(list(self.config.activity.meaningful_types)),
                activities.c.occurred_at <= self.h]

    def open_opportunity(self) -> ColumnElement[bool]:
        """An opportunity of the account is open (created by the horizon, not closed): exactly "the oldest
        open one was created by the horizon"."""
        at = accounts.c.open_opportunity_at
        return and_(at.is_not(None), at <= self.h)

    def live_signal(self, account_id: Any) -> ColumnElement[bool]:
        """The account has a live signal (SPEC §10 Priority): for the few accounts a query keeps."""
        return exists().where(signals.c.account_id == account_id, live_signals(self.now))

    def last_meaningful(self) -> ColumnElement[Any]:
        """The instant (NULL: never) of the last meaningful activity on the account by anyone (compare it
        with :func:`day_end` instants, not days: no date function per row)."""
        kept = accounts.c.last_meaningful_at
        probe = (select(func.max(activities.c.occurred_at))
                 .where(activities.c.account_id == accounts.c.account_id, *self._meaningful()).scalar_subquery())
        return case((kept.is_(None), null()), (kept <= self.h, kept), else_=probe)

    def owner_last(self, windows: Sequence[int]) -> ColumnElement[Any]:
        """The day of the owner's last meaningful activity on an owned row, as far as the longest of
        ``windows`` (days, at least 90) can tell: NULL also when it predates the assignment and the
        assignment, or the account's last meaningful activity by anyone, is more than the longest window
        ago (then no reader — touched, worked in 90 days, idle for a window — can tell it from none).
        ``account_roles.last_activity_at`` is the owner's last meaningful activity at or after the
        assignment; before it (when it may still count), or past the horizon, a probe answers."""
        ar = account_roles
        kept = ar.c.last_activity_at
        probe = (select(day_sql(func.max(activities.c.occurred_at)))
                 .where(activities.c.account_id == ar.c.account_id, activities.c.rep_id == ar.c.rep_id,
                        *self._meaningful()).scalar_subquery())
        at = ar.c.assigned_at
        oldest = datetime.combine(self.now.day - timedelta(days=max([90, *windows])), time(0))
        # Assigned at midnight (every cycle's stamp): no activity of that day precedes it, so an activity
        # before the assignment is on an earlier day, and "touched on or after the assignment day" is not it.
        midnight = (func.strftime("%H%M%f", at) == "000000.000" if self.sqlite
                    else at == func.date_trunc("day", at))
        anyone = accounts.c.last_meaningful_at  # the owner's last is no later than anyone's
        return case(
            (and_(kept.is_not(None), kept <= self.h), day_sql(kept)),
            (and_(kept.is_(None), at.is_not(None), midnight,
                  or_(at < oldest, anyone.is_(None), anyone < oldest)), null()),
            else_=probe,
        )


def day_end(day: date) -> datetime:
    """The last instant of ``day`` (naive UTC): ``t > day_end(d)`` is "t's day is after d" for a stored
    DATETIME, whatever its text form on SQLite (with or without microseconds)."""
    return datetime.combine(day, time(23, 59, 59, 999999))


def _any(conds: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(false(), *conds)


def _flag(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return case((cond, 1), else_=0)


def _unflattened(query: Any, conn: Connection) -> Any:
    """On SQLite, a sub-query that an aggregate reads is flattened into it, and its correlated sub-queries
    then run once per use (for the GROUP BY key and again for the output); a LIMIT (-1: none) keeps it a
    co-routine, each evaluated once per row. PostgreSQL flattens it too (the key's expression, sub-plans
    and all, copied into the GROUP BY and the sort): OFFSET 0 keeps it a sub-query there."""
    return query.limit(-1) if conn.dialect.name == "sqlite" else query.offset(0)


# --- owned rows ---------------------------------------------------------------------------------------


@dataclass
class OwnedGroups:
    """Owned (account, role) rows counted per (rep, rule, role): one entry per group, as columns."""

    rep_id: list[str]
    rule: list[str | None]
    role: list[str]
    size: npt.NDArray[np.int64]
    fit: npt.NDArray[np.float64]
    new_this_week: npt.NDArray[np.int64]
    untouched: npt.NDArray[np.int64]
    oldest_untouched: list[str | None]
    worked_90: npt.NDArray[np.int64]
    ae_idle: npt.NDArray[np.int64]
    hoarded: npt.NDArray[np.int64]


def hoarding_window(config: Config, rule_name: str | None, role: str) -> int:
    """The AE-hoarding window of a row of ``rule_name`` and ``role`` in days (0: none)."""
    rule = config.rules.get(str(rule_name)) if rule_name is not None else None
    days = rule.hoarding_days if rule and rule.hoarding_days else None
    if days is None and rule is not None and rule.role == "ae":
        days = AE_HOARDING_DAYS
    if not days and role == "ae":
        days = AE_HOARDING_DAYS
    return int(days or 0)


def owned_groups(conn: Connection, config: Config, now: Now, *, fit: bool = False) -> OwnedGroups:
    """Every owned row, aggregated per (rep, rule, role) in one query.

    ``untouched``: the owner logged no meaningful activity on or after the day of assignment;
    ``oldest_untouched``: the earliest assignment day among those; ``worked_90``: the owner's last meaningful
    activity (whenever it happened) is within 90 days; ``ae_idle``: rows under an AE-hoarding window with no
    open opportunity and no meaningful activity by the owner for that many days; ``hoarded``: not
    worked_90 or ae_idle. ``fit``: the sum of fit scores (missing counts 0; read only when ``fit`` is asked,
    the one thing that needs the accounts table).
    """
    ar = account_roles
    today = now.day
    week_start = today - timedelta(days=today.weekday())
    facts = Facts(conn, config, now)
    # The window is a function of (rule, role): one branch per rule that has one, then role "ae".
    windowed = [(r.name, hoarding_window(config, r.name, r.role)) for r in config.book_rule]
    rows = (
        select(
            ar.c.rep_id, ar.c.rule, ar.c.role,
            day_sql(ar.c.assigned_at).label("assigned"),
            (func.coalesce(accounts.c.fit_score, 0.0) if fit else literal_column("0.0")).label("fit"),
            facts.open_opportunity().label("open_opp"),
            facts.owner_last([days for _, days in windowed] + [AE_HOARDING_DAYS]).label("last"),
        )
        .select_from(ar.join(accounts, accounts.c.account_id == ar.c.account_id))
        .where(ar.c.state == "owned")
        # In account order (ix_account_roles_report_owned): the accounts' facts are then read in index
        # order, not at random (PostgreSQL at 5M: 1.26 -> 0.74 s; SQLite reads them so unasked).
        .order_by(ar.c.account_id)
        # Materialised: a probe runs once per row, not once per use in the aggregates below.
        .cte("owned")
        .prefix_with("MATERIALIZED")
    )
    last, assigned = rows.c["last"], rows.c.assigned
    touched = and_(last.is_not(None), or_(assigned.is_(None), last >= assigned))
    worked_90 = and_(last.is_not(None), last > _iso(today - timedelta(days=90)))

    def idle_for(days: int) -> ColumnElement[bool]:
        return and_(not_(rows.c.open_opp), or_(last.is_(None), last <= _iso(today - timedelta(days=days))))

    branches = [and_(rows.c.rule == name, idle_for(days)) for name, days in windowed if days]
    ruled = [name for name, days in windowed if days]
    branches.append(and_(rows.c.role == "ae", or_(rows.c.rule.is_(None), rows.c.rule.not_in(ruled)),
                         idle_for(AE_HOARDING_DAYS)))
    ae_idle = _any(branches)
    query = (
        select(
            rows.c.rep_id, rows.c.rule, rows.c.role, func.count(), func.sum(rows.c.fit),
            func.sum(_flag(assigned >= _iso(week_start))),
            func.sum(_flag(not_(touched))),
            func.min(case((not_(touched), assigned), else_=None)),
            func.sum(_flag(worked_90)),
            func.sum(_flag(ae_idle)),
            func.sum(_flag(or_(not_(worked_90), ae_idle))),
        )
        .group_by(rows.c.rep_id, rows.c.rule, rows.c.role)
        .order_by(rows.c.rep_id, rows.c.rule, rows.c.role)
    )
    out = conn.execute(query).all()
    t: list[Sequence[Any]] = list(zip(*out, strict=True)) if out else [() for _ in range(11)]

    def ints(i: int) -> npt.NDArray[np.int64]:
        return np.array([int(v or 0) for v in t[i]], dtype=np.int64)

    return OwnedGroups(
        rep_id=[str(v) for v in t[0]], rule=[None if v is None else str(v) for v in t[1]],
        role=[str(v) for v in t[2]], size=ints(3), fit=np.array([float(v or 0.0) for v in t[4]]),
        new_this_week=ints(5), untouched=ints(6), oldest_untouched=[None if v is None else str(v)[:10] for v in t[7]],
        worked_90=ints(8), ae_idle=ints(9), hoarded=ints(10),
    )


def signal_weight_per_rep(conn: Connection, config: Config, now: Now) -> dict[str, float]:
    """Per rep, Σ over its owned rows of the live signals' decayed strength (the timing part of priority,
    SPEC §10): strengths summed per (rep, signal day) in SQL, decayed here."""
    ar = account_roles
    day = day_sql(signals.c.occurred_at)
    # Grouped by an expression of the rep (``|| ''``), not the column: else SQLite reads the owned rows in
    # rep order through its index (to skip a sort) and probes the signals at random; read in account order
    # (ix_account_roles_report_owned) the probes follow the signals index: 2.6 -> 0.3 s CPU at 5M.
    rep = ar.c.rep_id.concat("")
    rows = conn.execute(
        select(rep, day, func.sum(signals.c.strength))
        .select_from(ar.join(signals, signals.c.account_id == ar.c.account_id))
        .where(ar.c.state == "owned", live_signals(now))
        .group_by(rep, day)
    ).all()
    out: dict[str, float] = {}
    if not rows:
        return out
    rep_ids, days, strength = zip(*rows, strict=True)
    age = np.maximum(0, day_number(now.day) - np.array([str(d)[:10] for d in days], dtype="datetime64[D]")
                     .astype(np.int64))
    decayed = np.array(strength, dtype=np.float64) * np.power(0.5, age / config.scoring.timing_half_life_days)
    for rep_id, value in zip(rep_ids, decayed.tolist(), strict=True):
        out[str(rep_id)] = out.get(str(rep_id), 0.0) + value
    return out


# --- accounts -----------------------------------------------------------------------------------------


def in_tam(config: Config, rules: Sequence[BookRule], dialect: str) -> ColumnElement[bool]:
    """Enrolled, not retired, matching one of ``rules`` (SPEC §10 Reports)."""
    return and_(compile_filter(config.enrollment.filter, dialect), accounts.c.status != "retired",
                _any([compile_filter(r.filter, dialect) for r in rules]))


WORKED_DAYS = (30, 60, 90)


@dataclass
class AccountCube:
    """TAM accounts counted per combination of: which rules they match (one flag per rule), NBTAM or not,
    last-activity bucket (0 never, 1..3 within 30/60/90 days, 4 older), live signal, fit score."""

    rules: list[str]
    match: npt.NDArray[np.bool_]  # (groups, rules)
    nb: npt.NDArray[np.bool_]
    bucket: npt.NDArray[np.int64]
    live: npt.NDArray[np.bool_]
    fit: npt.NDArray[np.float64]  # NaN: no score
    count: npt.NDArray[np.int64]

    def tam(self, names: Sequence[str]) -> npt.NDArray[np.bool_]:
        """The groups in the TAM of these rules."""
        cols = [self.rules.index(n) for n in names]
        return np.asarray(self.match[:, cols].any(axis=1), dtype=np.bool_)

    def counts(self, groups: npt.NDArray[np.bool_]) -> dict[str, Any]:
        """TAM, NBTAM, worked shares and never-worked over the accounts of ``groups``."""
        nb = groups & self.nb
        n_nb = int(self.count[nb].sum())
        out: dict[str, Any] = {"tam": int(self.count[groups].sum()), "nbtam": n_nb}
        for i, days in enumerate(WORKED_DAYS, start=1):
            worked = int(self.count[nb & (self.bucket >= 1) & (self.bucket <= i)].sum())
            out[f"worked_{days}"] = round(worked / n_nb, 4) if n_nb else None
        out["never_worked"] = int(self.count[nb & (self.bucket == 0)].sum())
        return out


def account_cube(
    conn: Connection, config: Config, now: Now, rules: Sequence[BookRule], *, signal: bool, fit: bool
) -> AccountCube:
    """One scan of the accounts in the TAM of ``rules`` (the sub-queries run for those only), grouped."""
    dialect = conn.dialect.name
    today = now.day
    def bucket_of(last: Any) -> ColumnElement[int]:  # its day after today - d: after that day's end
        return case(
            (last.is_(None), 0),
            *((last > day_end(today - timedelta(days=d)), i) for i, d in enumerate(WORKED_DAYS, start=1)),
            else_=len(WORKED_DAYS) + 1,
        )

    facts = Facts(conn, config, now)
    k = len(rules)
    # One integer key per account (rule flags, NBTAM, bucket: bits), beside the fit score: SQLite sorts to
    # group, and one key sorts much faster than k + 3 of them.
    nb = _flag(and_(accounts.c.is_customer == false(), not_(facts.open_opportunity())))
    flags = _bits([*(_flag(compile_filter(r.filter, dialect)) for r in rules), nb])

    def tam_rows(where: ColumnElement[bool]) -> Any:
        # The last activity once per account (a sub-query), then its bucket: the bucket reads it 4 times.
        inner = _unflattened(select(flags.label("flags"), facts.last_meaningful().label("last"),
                                    (accounts.c.fit_score if fit else null()).label("fit"))
                             .where(in_tam(config, rules, dialect), where), conn).subquery("tam")
        return select((inner.c.flags + bucket_of(inner.c["last"]) * (1 << (k + 1))).label("code"), inner.c.fit)

    everyone = _grouped(conn, tam_rows(true()))
    # The live-signal band: the same groups over the accounts with a live signal, read from the signals
    # side (few accounts), and the rest by difference — no probe of the signals per TAM account.
    live = _grouped(conn, tam_rows(accounts.c.account_id.in_(
        select(signals.c.account_id).where(live_signals(now))))) if signal else {}
    groups = [(key, True, n) for key, n in sorted(live.items(), key=_sort_key)]
    groups += [(key, False, n - live.get(key, 0)) for key, n in sorted(everyone.items(), key=_sort_key)
               if n - live.get(key, 0) > 0]
    codes = np.array([int(key[0]) for key, _, _ in groups], dtype=np.int64)
    return AccountCube(
        rules=[r.name for r in rules],
        match=np.asarray((codes[:, None] >> np.arange(k)) & 1, dtype=bool).reshape(len(groups), k),
        nb=np.asarray((codes >> k) & 1, dtype=bool),
        bucket=codes >> (k + 1),
        live=np.array([is_live for _, is_live, _ in groups], dtype=bool),
        fit=np.array([np.nan if key[1] is None else float(key[1]) for key, _, _ in groups], dtype=np.float64),
        count=np.array([n for _, _, n in groups], dtype=np.int64),
    )


def _bits(flags: Sequence[ColumnElement[int]]) -> ColumnElement[int]:
    """Flags (0/1) as one integer, flag ``i`` in bit ``i``."""
    out: ColumnElement[int] = literal_column("0")
    for i, flag in enumerate(flags):
        out = out + flag * (1 << i)
    return out


def _grouped(conn: Connection, query: Any) -> dict[tuple[Any, ...], int]:
    """The rows of ``query`` counted per distinct row (a key → count)."""
    inner = _unflattened(query, conn).subquery("grouped")
    keys = list(inner.c)
    return {tuple(row[:-1]): int(row[-1]) for row in conn.execute(select(*keys, func.count()).group_by(*keys))}


def _sort_key(item: tuple[tuple[Any, ...], int]) -> tuple[Any, ...]:
    """Groups in a fixed order (NULLs first), so that a cube reads the same on both databases."""
    return tuple((v is not None, v if v is not None else 0) for v in item[0])


def ready_counts(conn: Connection, config: Config, now: Now, rules: Sequence[BookRule]) -> tuple[int, list[int]]:
    """Ready-pool (account, role) pairs: per role, enrolled and active accounts, not flagged duplicates, with
    no owned/resting/review row for the role, that match a rule of ``rules`` of that role; the total over
    roles and the count per rule (in the order of ``rules``)."""
    dialect = conn.dialect.name
    roles = list(dict.fromkeys(r.role for r in rules))
    if not rules:
        return 0, []
    # Pool membership is the absence of a row: per role, the usable accounts less those with a row for the
    # role (a join driven by account_roles), each counted per combination of rule flags. No per-account probe.
    k = len(rules)
    code = _bits([_flag(compile_filter(r.filter, dialect)) for r in rules]).label("code")
    usable = and_(
        compile_filter(config.enrollment.filter, dialect), accounts.c.status == "active",
        accounts.c.duplicate_of.is_(None), _any([compile_filter(r.filter, dialect) for r in rules]),
    )

    def grouped(query: Any) -> dict[tuple[bool, ...], int]:
        return {tuple(bool((int(key[0]) >> i) & 1) for i in range(k)): n for key, n in _grouped(conn, query).items()}

    everyone = grouped(select(code).where(usable))
    ar = account_roles
    rowed = {role: grouped(select(code).select_from(ar.join(accounts, accounts.c.account_id == ar.c.account_id))
                           .where(ar.c.role == role, usable)) for role in roles}
    per_rule = [0] * k
    total = 0
    for role in roles:
        mine = [i for i, r in enumerate(rules) if r.role == role]
        for m, n in everyone.items():
            pooled = n - rowed[role].get(m, 0)
            for i in mine:
                per_rule[i] += pooled if m[i] else 0
            total += pooled if any(m[i] for i in mine) else 0
    return total, per_rule

