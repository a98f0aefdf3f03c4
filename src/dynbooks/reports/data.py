"""The narrow reads reports share: reps (a small table), accounts as numpy columns, owned rows.

Accounts are read in one query into numpy arrays, with what a report needs joined in as aggregated
subqueries (the last meaningful activity by anyone, an open opportunity, a row per role), so that no
report matches ids in Python or runs a query per account. Book-rule filters are evaluated over those
columns by :func:`dynbooks.domain.filters.evaluate`, the same function the cycle uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, false, func, select

from dynbooks.domain.clock import Now, day_number
from dynbooks.domain.filters import evaluate
from dynbooks.domain.rules import BookRule, Config
from dynbooks.domain.scoring import priorities
from dynbooks.reports.model import ReportFilters
from dynbooks.reports.periods import day_sql
from dynbooks.store.queries import live_signals
from dynbooks.store.schema import account_roles, accounts, activities, opportunities, reps, signals

__all__ = [
    "NO_DAY",
    "AccountTable",
    "Owned",
    "Rep",
    "horizon",
    "load_accounts",
    "load_reps",
    "owned_rows",
    "rep_in_scope",
]

Mask = npt.NDArray[np.bool_]

_TEXT = ("industry", "country", "region", "timezone", "domain", "name", "status", "duplicate_of")
_NUMBER = ("employees", "annual_revenue", "fit_score")
NO_DAY = np.iinfo(np.int64).min
"""The day number of "never" in day arrays."""


@dataclass(frozen=True)
class Rep:
    rep_id: str
    name: str
    role: str
    rule: str
    team: str | None
    manager: str | None
    start_date: date | None
    active: bool


def load_reps(conn: Connection) -> dict[str, Rep]:
    """Every rep (a small table), by id."""
    rows = conn.execute(
        select(
            reps.c.rep_id, reps.c.name, reps.c.role, reps.c.book_rule, reps.c.team, reps.c.manager,
            reps.c.start_date, reps.c.active,
        )
    ).all()
    return {r[0]: Rep(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows}


def rep_in_scope(rep: Rep | None, filters: ReportFilters) -> bool:
    """Whether ``--rule/--team/--manager/--rep`` keep this rep (an unknown rep is kept only without filters)."""
    if rep is None:
        return not (filters.rule or filters.team or filters.manager or filters.rep)
    return (
        (filters.rule is None or rep.rule == filters.rule)
        and (filters.team is None or rep.team == filters.team)
        and (filters.manager is None or rep.manager == filters.manager)
        and (filters.rep is None or rep.rep_id == filters.rep)
    )


def horizon(now: Now) -> datetime:
    """The last instant that has happened, as the naive UTC the tables store."""
    return now.horizon.replace(tzinfo=None)


@dataclass
class AccountTable:
    """Every account as columns (``n`` long), plus what was joined in.

    ``last_activity`` is the day number of the last meaningful activity by anyone (``NO_DAY`` when none),
    ``open_opp`` whether an opportunity is open, ``live_signal`` whether a live signal exists,
    ``has_row[role]`` whether the account is owned, resting or in review for the role (otherwise it is in
    that role's pool, unless retired or held).
    """

    n: int
    columns: dict[str, np.ndarray]
    last_activity: npt.NDArray[np.int64]
    open_opp: Mask
    live_signal: Mask
    has_row: dict[str, Mask] = field(default_factory=dict)

    def matches(self, spec: dict[str, Any]) -> Mask:
        return evaluate(spec, self.columns, self.n)

    def enrolled(self, config: Config) -> Mask:
        return self.matches(config.enrollment.filter)

    def tam(self, config: Config, rules: Sequence[BookRule]) -> Mask:
        """Enrolled, not retired, and matching one of ``rules`` (SPEC §10 Reports)."""
        base = self.enrolled(config) & (self.columns["status"] != "retired")
        match = np.zeros(self.n, dtype=bool)
        for rule in rules:
            match |= self.matches(rule.filter)
        return np.asarray(base & match, dtype=np.bool_)

    def nbtam(self, tam: Mask) -> Mask:
        """TAM less customers and accounts with an open opportunity."""
        return np.asarray(tam & ~self.columns["is_customer"] & ~self.open_opp, dtype=np.bool_)


def _filter_fields(config: Config) -> set[str]:
    fields = set(config.enrollment.filter)
    for rule in config.book_rule:
        fields |= set(rule.filter)
    return fields


def load_accounts(
    conn: Connection,
    config: Config,
    now: Now,
    *,
    activity: bool = False,
    opportunity: bool = False,
    signal: bool = False,
    roles: Sequence[str] = (),
) -> AccountTable:
    """One query over every account: the columns the filters read, status, duplicate flag, customer flag and fit
    score, plus (when asked) the last meaningful activity, an open opportunity, a live signal and a row per role.

    What is not asked for is left empty-handed (never, no, no, no row) rather than read.
    """
    h = horizon(now)
    wanted = _filter_fields(config)
    custom = sorted(wanted - set(_TEXT) - set(_NUMBER) - {"is_customer", "account_id"})
    text_cols = [c for c in _TEXT if c in wanted or c in ("status", "duplicate_of")]
    cols: dict[str, Any] = {"is_customer": accounts.c.is_customer, "fit_score": accounts.c.fit_score}
    cols |= {c: accounts.c[c] for c in text_cols}
    cols |= {c: accounts.c[c] for c in _NUMBER if c in wanted}
    if "account_id" in wanted:
        cols["account_id"] = accounts.c.account_id
    source: Any = accounts
    if activity:
        meaningful = activities.c.type.in_(list(config.activity.meaningful_types))
        if conn.dialect.name == "sqlite":
            # SQLite aggregates a GROUP BY subquery slowly (index scan + table lookups, then an automatic
            # index); one probe per account into ix_activities_account_id_occurred_at is about 2x faster.
            probe = (
                select(day_sql(func.max(activities.c.occurred_at)))
                .where(activities.c.account_id == accounts.c.account_id, meaningful, activities.c.occurred_at <= h)
                .scalar_subquery()
            )
            cols["_last"] = probe
        else:
            last = (
                select(activities.c.account_id, day_sql(func.max(activities.c.occurred_at)).label("last"))
                .where(meaningful, activities.c.occurred_at <= h)
                .group_by(activities.c.account_id)
                .subquery("last_act")
            )
            source = source.outerjoin(last, last.c.account_id == accounts.c.account_id)
            cols["_last"] = last.c.last
    if opportunity:
        open_opp = (
            select(opportunities.c.account_id)
            .where(opportunities.c.is_closed == false(), opportunities.c.created_at <= h)
            .group_by(opportunities.c.account_id)
            .subquery("open_opp")
        )
        source = source.outerjoin(open_opp, open_opp.c.account_id == accounts.c.account_id)
        cols["_open"] = open_opp.c.account_id.is_not(None)
    if signal:
        live = (
            select(signals.c.account_id)
            .where(live_signals(now))
            .group_by(signals.c.account_id)
            .subquery("live")
        )
        source = source.outerjoin(live, live.c.account_id == accounts.c.account_id)
        cols["_live"] = live.c.account_id.is_not(None)
    for i, role in enumerate(roles):
        alias = account_roles.alias(f"r{i}")
        source = source.outerjoin(alias, and_(alias.c.account_id == accounts.c.account_id, alias.c.role == role))
        cols[f"_row_{role}"] = alias.c.account_id.is_not(None)
    if custom:
        cols["_custom"] = accounts.c.custom
    names = list(cols)
    rows = conn.execute(select(*cols.values()).select_from(source)).all()
    n = len(rows)
    t = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {name: () for name in names}
    columns: dict[str, np.ndarray] = {"is_customer": np.array(t["is_customer"], dtype=bool)}
    for name in text_cols + (["account_id"] if "account_id" in wanted else []):
        columns[name] = np.array(t[name], dtype=object)
    for name in _NUMBER:
        if name in t:
            columns[name] = np.array(t[name], dtype=np.float64)  # None becomes NaN
    for name in custom:
        columns[name] = np.array([(c or {}).get(name) for c in t["_custom"]], dtype=object)
    none = np.zeros(n, dtype=bool)
    return AccountTable(
        n=n,
        columns=columns,
        last_activity=_days(t["_last"]) if activity else np.full(n, NO_DAY, dtype=np.int64),
        open_opp=np.array(t["_open"], dtype=bool) if opportunity else none,
        live_signal=np.array(t["_live"], dtype=bool) if signal else none,
        has_row={role: np.array(t[f"_row_{role}"], dtype=bool) for role in roles},
    )


def _days(values: Sequence[Any]) -> npt.NDArray[np.int64]:
    """Values of :func:`day_sql` (ISO text or dates, None for never) as day numbers (``NO_DAY`` for never)."""
    # NaT is the smallest int64, which is NO_DAY.
    return np.array(values, dtype="datetime64[D]").astype(np.int64)


@dataclass
class Owned:
    """The owned (account, role) rows as columns.

    ``touched``: the owner logged a meaningful activity on it on or after the day of assignment.
    """

    n: int
    account_id: npt.NDArray[np.object_]
    role: npt.NDArray[np.object_]
    rep_id: npt.NDArray[np.object_]
    rule: npt.NDArray[np.object_]
    assigned: npt.NDArray[np.int64]
    owner_last: npt.NDArray[np.int64]
    fit_score: npt.NDArray[np.float64]
    open_opp: Mask
    priority: npt.NDArray[np.float64]

    def rep_mask(self, keep: Callable[[str], bool]) -> Mask:
        """The rows whose rep ``keep`` accepts (called once per distinct rep)."""
        if self.n == 0:
            return np.zeros(0, dtype=bool)
        uniq, inverse = np.unique(self.rep_id.astype(str), return_inverse=True)
        kept = np.array([keep(str(u)) for u in uniq], dtype=bool)
        return np.asarray(kept[inverse.reshape(-1)], dtype=np.bool_)

    @property
    def touched(self) -> Mask:
        return np.asarray((self.owner_last != NO_DAY) & (self.owner_last >= self.assigned), dtype=np.bool_)


def owned_rows(conn: Connection, config: Config, now: Now) -> Owned:
    """Every owned (account, role) row with its owner's last meaningful activity on it and its priority.

    Two queries: the rows (the owner's activities joined in and aggregated), and the live signals of owned
    accounts. Priority follows SPEC §10 (fit score + decayed live signals).
    """
    meaningful = list(config.activity.meaningful_types)
    h = horizon(now)
    ar = account_roles
    open_opp = (
        select(opportunities.c.account_id)
        .where(opportunities.c.is_closed == false(), opportunities.c.created_at <= h)
        .group_by(opportunities.c.account_id)
        .subquery("open_opp")
    )
    act = and_(
        activities.c.account_id == ar.c.account_id,
        activities.c.rep_id == ar.c.rep_id,
        activities.c.type.in_(meaningful),
        activities.c.occurred_at <= h,
    )
    query = (
        select(
            ar.c.account_id, ar.c.role, ar.c.rep_id, ar.c.rule, day_sql(ar.c.assigned_at), accounts.c.fit_score,
            open_opp.c.account_id.is_not(None), day_sql(func.max(activities.c.occurred_at)),
        )
        .select_from(
            ar.join(accounts, accounts.c.account_id == ar.c.account_id)
            .outerjoin(open_opp, open_opp.c.account_id == ar.c.account_id)
            .outerjoin(activities, act)
        )
        .where(ar.c.state == "owned")
        .group_by(
            ar.c.account_id, ar.c.role, ar.c.rep_id, ar.c.rule, ar.c.assigned_at, accounts.c.fit_score,
            open_opp.c.account_id,
        )
        .order_by(ar.c.account_id, ar.c.role)
    )
    rows = conn.execute(query).all()
    t: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in range(8)]
    ids = np.array(t[0], dtype=object)
    fit = np.array(t[5], dtype=np.float64)
    owned = Owned(
        n=len(rows),
        account_id=ids,
        role=np.array(t[1], dtype=object),
        rep_id=np.array(t[2], dtype=object),
        rule=np.array(t[3], dtype=object),
        assigned=_days(t[4]),
        owner_last=_days(t[7]),
        fit_score=fit,
        open_opp=np.array(t[6], dtype=bool),
        priority=np.nan_to_num(fit, nan=0.0),
    )
    owned.priority = _owned_priority(conn, config, now, owned)
    return owned


def _owned_priority(conn: Connection, config: Config, now: Now, owned: Owned) -> npt.NDArray[np.float64]:
    owned_ids = select(account_roles.c.account_id).where(account_roles.c.state == "owned").distinct()
    query = select(signals.c.account_id, signals.c.strength, day_sql(signals.c.occurred_at)).where(
        live_signals(now),
        signals.c.account_id.in_(owned_ids),
    )
    rows = conn.execute(query).all()
    if not rows or owned.n == 0:
        return priorities(owned.fit_score, np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), 1.0)
    sig_ids, strength, occurred = zip(*rows, strict=True)
    # One owned row per (account, role): spread each signal over every row of its account.
    keys = owned.account_id.astype(str)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    sig_keys = np.array(sig_ids, dtype=str)
    lo = np.searchsorted(sorted_keys, sig_keys, side="left")
    hi = np.searchsorted(sorted_keys, sig_keys, side="right")
    age = np.maximum(0, day_number(now.day) - _days(occurred))
    counts = hi - lo
    sig_index = np.repeat(np.arange(len(sig_keys)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    row_index = order[np.repeat(lo, counts) + offsets]
    return priorities(
        owned.fit_score,
        np.asarray(row_index, dtype=np.int64),
        np.array(strength, dtype=np.float64)[sig_index],
        age[sig_index].astype(np.int64),
        config.scoring.timing_half_life_days,
    )
