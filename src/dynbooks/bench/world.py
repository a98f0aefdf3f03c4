"""The benchmark CRM: a generated database in a known state, written in bulk (setup, never timed).

Scaled on ``n`` accounts (the figures are for n = 5,000,000), one role ``sdr`` and ``n / 5,000`` reps in
three book rules by company size (50% SMB, 30% mid-market, 20% enterprise):

- 24% of the accounts are in the ready pool: enrolled (region NA, not a customer), active, no role row;
- 8.4% are owned, 84% of every book's target; 200/420 of them (~200k) are stale: not worked for longer
  than their rule's ``retrieve_after_days``, so the cycle retrieves them;
- the retrievals free room for ~280k accounts, which the cycle distributes (free = target - fresh);
- 2% rest (0.2% of them until today, so the cycle releases them), 5% are NA customers, 0.7% retired or
  flagged duplicates, the rest are in other regions (not enrolled);
- signals on 10% of the accounts, 30% activities, 2% opportunities, one ``distributed`` event and one
  open ledger row per owned account, and recent ``returned`` events (cooldowns).

The same rows go to SQLite (``executemany``) and PostgreSQL (``COPY``); times are text in the format
SQLAlchemy writes on SQLite, which PostgreSQL parses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from numpy.random import PCG64, Generator

__all__ = ["AS_OF", "CONFIG_TOML", "Table", "tables"]

AS_OF = date(2026, 3, 2)
RULES = (("smb-sdr", 600, 21), ("mm-sdr", 450, 30), ("ent-sdr", 325, 45))  # name, target, retrieve_after
REP_SHARE = (0.5, 0.3, 0.2)

CONFIG_TOML = """
[enrollment]
filter = { is_customer = false, region = "NA" }

[scoring]
timing_half_life_days = 30
sort_keys = ["-employees", "-annual_revenue"]

[[book_rule]]
name = "smb-sdr"
role = "sdr"
target_size = 600
retrieve_after_days = 21
rest_days = 45
cooldown_days = 90
filter = { employees = { lt = 200 } }

[[book_rule]]
name = "mm-sdr"
role = "sdr"
target_size = 450
retrieve_after_days = 30
rest_days = 60
cooldown_days = 90
filter = { employees = { gte = 200, lt = 2000 } }

[[book_rule]]
name = "ent-sdr"
role = "sdr"
target_size = 325
retrieve_after_days = 45
rest_days = 90
cooldown_days = 180
filter = { employees = { gte = 2000 } }
"""


@dataclass
class Table:
    name: str
    columns: tuple[str, ...]
    rows: Iterator[tuple[Any, ...]]


def _stamp(days_ago: np.ndarray, seconds: np.ndarray) -> list[str]:
    t = (np.datetime64(AS_OF.isoformat(), "s") - days_ago.astype("timedelta64[D]")
         + seconds.astype("timedelta64[s]"))
    return [s.replace("T", " ") + ".000000" for s in np.datetime_as_string(t, unit="s").tolist()]


def _day(days: np.ndarray) -> list[str]:
    return [str(d) for d in (np.datetime64(AS_OF.isoformat(), "D") + days.astype("timedelta64[D]")).tolist()]


def tables(n: int, seed: int = 5) -> list[Table]:
    """Every table's rows for an ``n``-account world (deterministic for ``seed``), in insertion order."""
    rng = Generator(PCG64(seed))
    width = max(7, len(str(n)))
    ids = [f"acc-{i:0{width}d}" for i in range(n)]
    n_reps = max(3, n // 5000)
    rep_rule = np.repeat(np.arange(3), np.diff(np.round(np.r_[0, np.cumsum(REP_SHARE)] * n_reps).astype(int)))
    rep_ids = [f"rep-{i:04d}" for i in range(n_reps)]

    # Categories: 0 other region, 1 pool, 2 fresh owned, 3 stale owned, 4 resting, 5 customer, 6 retired, 7 dup.
    shares = {1: 0.24, 2: 0.044, 3: 0.04, 4: 0.02, 5: 0.05, 6: 0.004, 7: 0.003}
    cat = np.zeros(n, dtype=np.int8)
    order = rng.permutation(n)
    start = 0
    for c, share in shares.items():
        k = round(n * share)
        cat[order[start:start + k]] = c
        start += k

    employees = np.clip(np.rint(rng.lognormal(np.log(150), 1.7, n)), 1, 400_000)
    owned = np.flatnonzero((cat == 2) | (cat == 3))
    owned = owned[rng.permutation(len(owned))]
    # Owned accounts are split between the rules in proportion to the books' targets, each in its band.
    targets = np.array([RULES[r][1] * int((rep_rule == r).sum()) for r in range(3)], dtype=np.float64)
    cut = np.round(np.r_[0, np.cumsum(targets / targets.sum())] * len(owned)).astype(int)
    owner = np.full(n, -1, dtype=np.int64)
    rule_of = np.full(n, -1, dtype=np.int64)
    bands = ((1, 199), (200, 1999), (2000, 60_000))
    for r in range(3):
        part = owned[cut[r]:cut[r + 1]]
        employees[part] = rng.integers(bands[r][0], bands[r][1] + 1, len(part))
        reps_r = np.flatnonzero(rep_rule == r)
        owner[part] = reps_r[np.arange(len(part)) % len(reps_r)]
        rule_of[part] = r
    employees[rng.random(n) < 0.005] = np.nan
    region = np.where(cat == 0, rng.choice(np.array(["EMEA", "APAC", "LATAM"], dtype=object), n), "NA")
    is_customer = (cat == 5) | ((cat == 0) & (rng.random(n) < 0.1))
    fit = np.round(100 * rng.beta(2.0, 3.0, n), 1)
    revenue = np.round(np.nan_to_num(employees, nan=50) * 150_000 * rng.lognormal(0, 0.5, n), -3)
    status = np.where(cat == 6, "retired", "active")
    industries = np.array(["Software", "Manufacturing", "Retail", "Finance", "Health", "Logistics"], dtype=object)
    industry = rng.choice(industries, n)
    dup_of: list[str | None] = [None] * n
    for i in np.flatnonzero(cat == 7).tolist():
        dup_of[i] = ids[(i + 1) % n]
    now = f"{AS_OF.isoformat()} 00:00:00.000000"
    emp_l = [None if e != e else int(e) for e in employees.tolist()]
    accounts_rows = zip(
        ids, [f"Company {i}" for i in range(n)], [f"company{i}.example" for i in range(n)], industry.tolist(),
        emp_l, revenue.tolist(), region.tolist(), region.tolist(), [None] * n, fit.tolist(),
        is_customer.tolist(), [None] * n, status.tolist(), dup_of, [now] * n, strict=True)

    reps_rows = iter([
        (rep_ids[i], f"Rep {i}", f"rep{i}@example.com", "sdr", RULES[int(rep_rule[i])][0], f"team-{i // 10}",
         f"manager-{i // 50}", "2023-01-02", "UTC", True, None, now) for i in range(n_reps)
    ])

    # Owned rows: worked within (fresh) or beyond (stale) the rule's retrieval window.
    after = np.array([a for _, _, a in RULES])[rule_of[owned]]
    stale = cat[owned] == 3
    ago = np.where(stale, after + rng.integers(1, 120, len(owned)), rng.integers(0, np.maximum(after - 2, 1)))
    worked = _stamp(ago, rng.integers(8 * 3600, 18 * 3600, len(owned)))
    assigned = _stamp(ago + rng.integers(0, 200, len(owned)), np.zeros(len(owned), dtype=np.int64))
    resting = np.flatnonzero(cat == 4)
    until = _day(np.where(rng.random(len(resting)) < 0.1, 0, rng.integers(1, 90, len(resting))))
    owned_l, owner_l, rule_l = owned.tolist(), owner[owned].tolist(), rule_of[owned].tolist()
    roles_rows = [
        (ids[a], "sdr", "owned", rep_ids[o], RULES[r][0], None, s, None, "cycle", s, w, w, False, None)
        for a, o, r, s, w in zip(owned_l, owner_l, rule_l, assigned, worked, strict=True)
    ] + [
        (ids[a], "sdr", "resting", None, RULES[0][0], None, now, u, "not_worked", None, None, None, False, None)
        for a, u in zip(resting.tolist(), until, strict=True)
    ]
    roles_rows.sort(key=lambda row: row[0])

    ledger = (
        (ids[a], "sdr", rep_ids[o], RULES[r][0], None, s, None, None, None, float(fit[a]), 1, 1, 1, "cycle")
        for a, o, r, s in zip(owned_l, owner_l, rule_l, assigned, strict=True)
    )
    data = json.dumps({"segment": None, "explanation": "benchmark world"})
    events_rows: list[tuple[Any, ...]] = [
        (s, "distributed", ids[a], "sdr", rep_ids[o], "cycle", RULES[r][0], None, "pool", "owned", "bench", data)
        for a, o, r, s in zip(owned_l, owner_l, rule_l, assigned, strict=True)
    ]
    k = n // 100
    returned = rng.choice(np.flatnonzero(cat == 1), k, replace=False)
    who = rng.integers(0, n_reps, k)
    when = _stamp(rng.integers(1, 90, k), rng.integers(8 * 3600, 18 * 3600, k))
    events_rows += [
        (t, "returned", ids[a], "sdr", rep_ids[w], "not_interested", RULES[int(rep_rule[w])][0], None, "owned",
         "pool", "bench", None)
        for a, w, t in zip(returned.tolist(), who.tolist(), when, strict=True)
    ]
    events_rows.sort(key=lambda row: row[0])

    m = n // 10
    sig_acc = rng.integers(0, n, m)
    sig_ago = rng.integers(0, 120, m)
    sigs = zip([f"sig-{j:0{width}d}" for j in range(m)], [ids[a] for a in sig_acc.tolist()],
               rng.choice(np.array(["funding", "intent_surge"], dtype=object), m).tolist(),
               np.round(rng.uniform(5, 30, m), 1).tolist(), _stamp(sig_ago, rng.integers(0, 86400, m)),
               [None] * m, strict=True)

    m = 3 * n // 10
    act_acc = np.where(rng.random(m) < 0.5, owned[rng.integers(0, len(owned), m)], rng.integers(0, n, m))
    acts = zip([f"act-{j:0{width + 1}d}" for j in range(m)], [ids[a] for a in act_acc.tolist()],
               [rep_ids[r] for r in rng.integers(0, n_reps, m).tolist()],
               rng.choice(np.array(["call", "email", "meeting", "note"], dtype=object), m).tolist(),
               _stamp(rng.integers(0, 180, m), rng.integers(7 * 3600, 19 * 3600, m)), strict=True)

    m = n // 50
    opp_acc = rng.integers(0, n, m)
    closed = rng.random(m) < 0.6
    opps = zip([f"opp-{j:0{width}d}" for j in range(m)], [ids[a] for a in opp_acc.tolist()],
               [rep_ids[r] for r in rng.integers(0, n_reps, m).tolist()],
               _stamp(rng.integers(0, 365, m), np.zeros(m, dtype=np.int64)),
               np.where(closed, "Closed Lost", "Proposal").tolist(), np.round(rng.uniform(5e3, 1e5, m), -2).tolist(),
               closed.tolist(), [False] * m, [now if c else None for c in closed.tolist()], strict=True)

    ac = ("account_id", "name", "domain", "industry", "employees", "annual_revenue", "country", "region", "timezone",
          "fit_score", "is_customer", "custom", "status", "duplicate_of", "updated_at")
    return [
        Table("accounts", ac, iter(accounts_rows)),
        Table("reps", ("rep_id", "name", "email", "role", "book_rule", "team", "manager", "start_date", "timezone",
                       "active", "unavailable_until", "updated_at"), reps_rows),
        Table("account_roles", ("account_id", "role", "state", "rep_id", "rule", "segment", "since", "rest_until",
                                "reason", "assigned_at", "worked_at", "last_activity_at", "over_capacity",
                                "cycle_id"), iter(roles_rows)),
        Table("assignments", ("account_id", "role", "rep_id", "rule", "segment", "assigned_at", "ended_at",
                              "end_reason", "cycle_id", "priority", "rank", "pick", "picks", "how"), ledger),
        Table("events", ("at", "type", "account_id", "role", "rep_id", "reason", "rule", "cycle_id", "before",
                         "after", "actor", "data"), iter(events_rows)),
        Table("signals", ("signal_id", "account_id", "type", "strength", "occurred_at", "expires_at"), iter(sigs)),
        Table("activities", ("activity_id", "account_id", "rep_id", "type", "occurred_at"), iter(acts)),
        Table("opportunities", ("opportunity_id", "account_id", "rep_id", "created_at", "stage", "amount",
                                "is_closed", "is_won", "closed_at"), iter(opps)),
    ]


def expected(n: int) -> dict[str, int]:
    """The headline figures the world is built to have (before the cycle)."""
    return {"accounts": n, "pool": round(n * 0.24), "stale_owned": round(n * 0.04), "reps": max(3, n // 5000)}
