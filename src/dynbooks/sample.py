"""A realistic sample organisation: CSV files for every import kind plus a matching ``dynbooks.toml``.

``generate(out_dir)`` writes ``accounts.csv reps.csv activities.csv signals.csv opportunities.csv`` and
``dynbooks.toml``. The same seed gives byte-identical files (numpy ``PCG64``; no clock is read: every
date is relative to ``as_of``). ``accounts=N`` scales the accounts (and what hangs off them) for
benchmarks; the reps stay the same 50.

The organisation:

- 5 SDR teams (``team-1`` … ``team-5``), each with a manager and 8 SDRs: 3 on ``smb-sdr``
  (employees < 200), 3 on ``mm-sdr`` (200–1,999), 2 on ``ent-sdr`` (≥ 2,000); and 10 AEs on ``ae``
  (team ``team-ae``). SDR rules hand ``converted`` accounts off to ``ae``.
- Start dates 4–48 months back, except three SDRs and one AE who started within the last three
  months (ramp shows); ``sdr-16`` is inactive, ``sdr-29`` is unavailable for two more weeks.
- Accounts: log-normal employees, revenue correlated with employees and industry, 12 industries with
  skewed frequencies, countries (US-heavy) with consistent region and time zone, ~8% customers, a
  beta-shaped ``fit_score`` 0–100 that favours some industries and larger companies (2% missing),
  a custom ``inbound`` column (~15% true), websites written in several styles, and ~1% planted
  duplicates (a second record of the same company, same domain).
- Today's CRM ownership: ~20% of prospects carry an ``owner_sdr`` from the right segment, skewed to
  the longest-tenured reps (a few hoard far more than a target book); accounts with an open
  opportunity carry its AE as ``owner_ae``, and a few more are AE-owned with nothing going on.
- Activities (call/email/meeting/note) on ~25% of accounts over the last 90 days, mostly by the
  owner; hoarders work a smaller share of their book. Signals over the last 120 days (funding,
  intent_surge, new_executive, contract_expiry, and a few recent demo_requests). Opportunities on
  ~3% of accounts. Every id a file references exists in the file it refers to.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.random import PCG64, Generator
from numpy.typing import NDArray

__all__ = ["generate"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

SEGMENTS = ("smb-sdr", "mm-sdr", "ent-sdr")
MANAGERS = ("Maya Patel", "Tom Becker", "Lena Novak", "Carlos Ruiz", "Grace Okafor")
AE_MANAGER = "Diane Foster"
TEAM_TZ = ("America/New_York", "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London")
FIRST = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Drew",
    "Parker", "Reese", "Rowan", "Emerson", "Hayden", "Noah", "Emma", "Liam", "Olivia", "Mia", "Lucas",
    "Sofia", "Ethan", "Chloe", "Mateo", "Aria", "Leo", "Nora", "Kai", "Zoe", "Ivan", "Priya", "Omar",
    "Yuki",
)
LAST = (
    "Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Anderson", "Thomas", "Moore",
    "Martin", "Lee", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans",
)

INDUSTRIES = (
    ("Software", 0.20, 1.6, 0.9),  # name, frequency, revenue per employee factor, fit bonus
    ("Financial Services", 0.12, 2.0, 0.7),
    ("Healthcare", 0.11, 1.0, 0.5),
    ("Manufacturing", 0.10, 1.1, 0.2),
    ("Retail", 0.09, 0.8, 0.0),
    ("Professional Services", 0.09, 0.9, 0.4),
    ("Education", 0.06, 0.5, -0.3),
    ("Media", 0.05, 1.0, 0.3),
    ("Logistics", 0.05, 1.2, 0.1),
    ("Energy", 0.04, 2.5, 0.0),
    ("Telecommunications", 0.05, 1.8, 0.6),
    ("Real Estate", 0.04, 1.3, -0.2),
)
# (country, region, time zone, weight, top-level domain)
PLACES = (
    ("US", "CA", "America/Los_Angeles", 0.11, "com"),
    ("US", "WA", "America/Los_Angeles", 0.04, "com"),
    ("US", "NY", "America/New_York", 0.09, "com"),
    ("US", "MA", "America/New_York", 0.04, "com"),
    ("US", "FL", "America/New_York", 0.04, "com"),
    ("US", "GA", "America/New_York", 0.03, "com"),
    ("US", "TX", "America/Chicago", 0.07, "com"),
    ("US", "IL", "America/Chicago", 0.05, "com"),
    ("US", "CO", "America/Denver", 0.03, "com"),
    ("US", "AZ", "America/Phoenix", 0.02, "com"),
    ("US", "NC", "America/New_York", 0.03, "com"),
    ("CA", "ON", "America/Toronto", 0.04, "ca"),
    ("CA", "BC", "America/Vancouver", 0.02, "ca"),
    ("CA", "QC", "America/Toronto", 0.015, "ca"),
    ("CA", "AB", "America/Edmonton", 0.01, "ca"),
    ("GB", "England", "Europe/London", 0.08, "co.uk"),
    ("GB", "Scotland", "Europe/London", 0.015, "co.uk"),
    ("DE", "BY", "Europe/Berlin", 0.03, "de"),
    ("DE", "BE", "Europe/Berlin", 0.025, "de"),
    ("DE", "HH", "Europe/Berlin", 0.015, "de"),
    ("DE", "NW", "Europe/Berlin", 0.02, "de"),
    ("FR", "IDF", "Europe/Paris", 0.04, "fr"),
    ("FR", "ARA", "Europe/Paris", 0.015, "fr"),
    ("AU", "NSW", "Australia/Sydney", 0.025, "com.au"),
    ("AU", "VIC", "Australia/Melbourne", 0.02, "com.au"),
    ("AU", "QLD", "Australia/Brisbane", 0.01, "com.au"),
    ("NL", "NH", "Europe/Amsterdam", 0.025, "nl"),
    ("SE", "AB", "Europe/Stockholm", 0.015, "se"),
    ("ES", "MD", "Europe/Madrid", 0.015, "es"),
)
WORD_A = (
    "North", "Blue", "Bright", "Silver", "Green", "Iron", "Summit", "Clear", "Swift", "Red", "Golden",
    "True", "Prime", "Open", "Quantum", "Cedar", "Maple", "Atlas", "Harbor", "Pioneer", "Vertex", "Orbit",
    "Nimbus", "Crest", "Beacon", "Falcon", "Pine", "River", "Stone", "Sky", "Lumen", "Nova", "Apex",
    "Delta", "Echo", "Granite", "Horizon", "Keystone", "Lake", "Meridian", "Oak", "Pacific", "Polar",
    "Ridge", "Sierra", "Terra", "Union", "Vista", "West", "Zenith",
)
WORD_B = (
    "Analytics", "Systems", "Labs", "Logistics", "Health", "Foods", "Capital", "Energy", "Media", "Works",
    "Solutions", "Networks", "Dynamics", "Robotics", "Partners", "Retail", "Materials", "Software",
    "Learning", "Telecom", "Properties", "Devices", "Foundry", "Bio", "Freight", "Insights", "Data",
    "Cloud", "Security", "Motors", "Pharma", "Design", "Studios", "Finance", "Payments", "Goods", "Supply",
    "Water", "Power",
)
SUFFIX = ("Inc", "LLC", "Ltd", "GmbH", "Group", "Corp", "Co", "", "", "")
WEBSITE_STYLES = ("https://www.{}", "{}", "http://{}/", "https://{}/about", "www.{}")
ACTIVITY_TYPES = ("call", "email", "meeting", "note")
SIGNAL_TYPES = ("funding", "intent_surge", "new_executive", "contract_expiry")
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")


@dataclass
class _Reps:
    ids: list[str]
    rule: list[str]
    start: list[date]
    rows: list[list[str]]

    def of_rule(self, rule: str) -> IntArray:
        return np.array([i for i, r in enumerate(self.rule) if r == rule], dtype=np.int64)


def generate(
    out_dir: Path, *, seed: int = 7, accounts: int = 20_000, as_of: date = date(2026, 3, 2)
) -> dict[str, int]:
    """Write the sample organisation into ``out_dir`` (created if needed); returns the rows per CSV file."""
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = Generator(PCG64(seed))
    reps = _reps(rng, as_of)
    acc = _accounts(rng, accounts, reps, as_of)
    opps = _opportunities(rng, acc, reps, as_of)  # sets owner_ae on accounts with an open opportunity
    acts = _activities(rng, acc, reps, as_of)
    sigs = _signals(rng, acc, as_of)
    counts = {
        "accounts": _write(out_dir / "accounts.csv", ACCOUNTS_HEADER, _account_rows(acc, reps)),
        "reps": _write(out_dir / "reps.csv", REPS_HEADER, reps.rows),
        "activities": _write(out_dir / "activities.csv", ACTIVITIES_HEADER, acts),
        "signals": _write(out_dir / "signals.csv", SIGNALS_HEADER, sigs),
        "opportunities": _write(out_dir / "opportunities.csv", OPPORTUNITIES_HEADER, opps),
    }
    (out_dir / "dynbooks.toml").write_text(CONFIG_TOML.format(seed=seed, as_of=as_of.isoformat()), encoding="utf-8")
    return counts


ACCOUNTS_HEADER = ["account_id", "name", "domain", "industry", "employees", "annual_revenue", "country", "region",
                   "timezone", "fit_score", "is_customer", "inbound", "owner_sdr", "owner_ae"]
REPS_HEADER = ["rep_id", "name", "email", "book_rule", "team", "manager", "start_date", "timezone", "active",
               "unavailable_until"]
ACTIVITIES_HEADER = ["activity_id", "account_id", "rep_id", "type", "occurred_at"]
SIGNALS_HEADER = ["signal_id", "account_id", "type", "strength", "occurred_at", "expires_at"]
OPPORTUNITIES_HEADER = ["opportunity_id", "account_id", "rep_id", "created_at", "stage", "amount", "is_closed",
                        "is_won", "closed_at"]


def _write(path: Path, header: list[str], rows: Iterable[Sequence[Any]]) -> int:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        rows = list(rows)
        writer.writerows(rows)
    return len(rows)


def _reps(rng: Generator, as_of: date) -> _Reps:
    names = [f"{FIRST[i]} {LAST[j]}" for i, j in
             (divmod(int(k), len(LAST)) for k in rng.choice(len(FIRST) * len(LAST), size=50, replace=False))]
    tenure_days = rng.integers(120, 48 * 30, size=50)
    for k, days in {7: 20, 22: 45, 36: 75, 44: 50}.items():  # three SDRs and one AE are ramping
        tenure_days[k] = days
    ids, rules, starts, rows = [], [], [], []
    for k in range(50):
        if k < 40:
            team = k // 8
            rep_id, rule = f"sdr-{k + 1:02d}", SEGMENTS[(0, 0, 0, 1, 1, 1, 2, 2)[k % 8]]
            team_name, manager, tz = f"team-{team + 1}", MANAGERS[team], TEAM_TZ[team]
        else:
            rep_id, rule = f"ae-{k - 39:02d}", "ae"
            team_name, manager, tz = "team-ae", AE_MANAGER, "America/New_York"
        start = as_of - timedelta(days=int(tenure_days[k]))
        active = "false" if rep_id == "sdr-16" else "true"
        away = (as_of + timedelta(days=14)).isoformat() if rep_id == "sdr-29" else ""
        email = names[k].lower().replace(" ", ".") + "@example.com"
        ids.append(rep_id)
        rules.append(rule)
        starts.append(start)
        rows.append([rep_id, names[k], email, rule, team_name, manager, start.isoformat(), tz, active, away])
    return _Reps(ids, rules, starts, rows)


def _occurrence_rank(codes: IntArray) -> IntArray:
    """For each element, how many earlier elements have the same code (0 for the first)."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    rank = np.empty_like(codes)
    rank[order] = np.arange(len(codes)) - first
    return rank


def _accounts(rng: Generator, n: int, reps: _Reps, as_of: date) -> dict[str, Any]:
    width = max(6, len(str(n)))
    ids = [f"acc-{i:0{width}d}" for i in range(1, n + 1)]

    ind_p = np.array([x[1] for x in INDUSTRIES])
    industry = rng.choice(len(INDUSTRIES), size=n, p=ind_p / ind_p.sum())
    employees = np.clip(np.rint(rng.lognormal(np.log(150), 1.7, size=n)), 1, 400_000).astype(np.int64)
    no_employees = rng.random(n) < 0.005
    seg = np.where(employees < 200, 0, np.where(employees < 2000, 1, 2))
    seg[no_employees] = -1

    rev_factor = np.array([x[2] for x in INDUSTRIES])[industry]
    revenue = employees * 150_000 * rev_factor * rng.lognormal(0, 0.5, size=n)
    revenue = np.round(revenue, -3)
    no_revenue = rng.random(n) < 0.03

    place_p = np.array([p[3] for p in PLACES])
    place = rng.choice(len(PLACES), size=n, p=place_p / place_p.sum())

    fit_bonus = np.array([x[3] for x in INDUSTRIES])[industry]
    size_bonus = np.clip(np.log10(employees) - 1.0, 0, 4) * 0.35
    fit = 100 * rng.beta(np.clip(1.6 + fit_bonus + size_bonus, 0.3, None), 3.0)
    no_fit = rng.random(n) < 0.02
    is_customer = rng.random(n) < 0.08
    inbound = rng.random(n) < 0.15

    a, b, s = rng.integers(len(WORD_A), size=n), rng.integers(len(WORD_B), size=n), rng.integers(len(SUFFIX), size=n)
    rank = _occurrence_rank(a * len(WORD_B) + b)
    style = rng.choice(len(WEBSITE_STYLES), size=n, p=[0.45, 0.25, 0.1, 0.1, 0.1])
    names = [f"{WORD_A[i]} {WORD_B[j]} {SUFFIX[k]}".rstrip() for i, j, k in zip(a.tolist(), b.tolist(), s.tolist(),
                                                                              strict=True)]
    domains = [
        f"{WORD_A[i].lower()}{WORD_B[j].lower()}{r or ''}.{PLACES[p][4]}"
        for i, j, r, p in zip(a.tolist(), b.tolist(), rank.tolist(), place.tolist(), strict=True)
    ]
    # ~1% planted duplicates: a second record of another company (same domain, name with a suffix).
    n_dup = n // 100
    if n_dup:
        picked = rng.choice(n, size=2 * n_dup, replace=False)
        for dup, src in zip(picked[:n_dup].tolist(), picked[n_dup:].tolist(), strict=True):
            domains[dup] = domains[src]
            names[dup] = names[src].split(" ")[0] + " " + names[src].split(" ")[1] + " (old)"
            style[dup] = (style[src] + 1) % len(WEBSITE_STYLES)
    websites = [WEBSITE_STYLES[k].format(d) for k, d in zip(style.tolist(), domains, strict=True)]

    owner_sdr = np.full(n, -1, dtype=np.int64)
    sdr_prospect = ~is_customer & (seg >= 0) & (rng.random(n) < 0.22)
    for k, rule in enumerate(SEGMENTS):
        candidates = reps.of_rule(rule)
        tenure = np.array([(as_of - reps.start[c]).days for c in candidates], dtype=np.float64)
        weight = (tenure / 365.0) ** 3  # the longest-tenured reps hoard
        mask = sdr_prospect & (seg == k)
        owner_sdr[mask] = rng.choice(candidates, size=int(mask.sum()), p=weight / weight.sum())
    owner_ae = np.full(n, -1, dtype=np.int64)
    aes = reps.of_rule("ae")
    hoarded = rng.random(n) < 0.004
    owner_ae[hoarded] = rng.choice(aes, size=int(hoarded.sum()))

    return {
        "n": n,
        "ids": ids,
        "seg": seg,
        "employees": employees,
        "is_customer": is_customer,
        "owner_sdr": owner_sdr,
        "owner_ae": owner_ae,
        "industry": industry,
        "place": place,
        "names": names,
        "websites": websites,
        "revenue": revenue,
        "no_revenue": no_revenue,
        "no_employees": no_employees,
        "fit": fit,
        "no_fit": no_fit,
        "inbound": inbound,
    }


def _account_rows(acc: dict[str, Any], reps: _Reps) -> Iterable[Sequence[str]]:
    """The accounts CSV rows (built after opportunities, which set ``owner_ae``).

    ``domain`` holds websites as CRMs store them (``https://www.…``, ``…/about``); the import normalises them.
    """
    rep_ids = [*reps.ids, ""]  # index -1 -> ""
    tf = ("false", "true")
    columns = [
        acc["ids"],
        acc["names"],
        acc["websites"],
        [INDUSTRIES[i][0] for i in acc["industry"].tolist()],
        ["" if m else str(e) for e, m in zip(acc["employees"].tolist(), acc["no_employees"].tolist(), strict=True)],
        ["" if m else str(int(r)) for r, m in zip(acc["revenue"].tolist(), acc["no_revenue"].tolist(), strict=True)],
        [PLACES[p][0] for p in acc["place"].tolist()],
        [PLACES[p][1] for p in acc["place"].tolist()],
        [PLACES[p][2] for p in acc["place"].tolist()],
        ["" if m else f"{f:.1f}" for f, m in zip(acc["fit"].tolist(), acc["no_fit"].tolist(), strict=True)],
        [tf[c] for c in acc["is_customer"].tolist()],
        [tf[c] for c in acc["inbound"].tolist()],
        [rep_ids[o] for o in acc["owner_sdr"].tolist()],
        [rep_ids[o] for o in acc["owner_ae"].tolist()],
    ]
    return zip(*columns, strict=True)


def _stamps(as_of: date, days_ago: IntArray, seconds: IntArray) -> list[str]:
    """ISO UTC date-times ``days_ago`` whole days before ``as_of``, ``seconds`` into that day."""
    t = np.datetime64(as_of.isoformat(), "s") - days_ago.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
    return [f"{s}Z" for s in np.datetime_as_string(t, unit="s").tolist()]


def _opportunities(rng: Generator, acc: dict[str, Any], reps: _Reps, as_of: date) -> list[list[str]]:
    n = acc["n"]
    k = max(1, round(n * 0.03))
    chosen = np.sort(rng.choice(n, size=k, replace=False))
    stage = rng.choice(len(STAGES), size=k, p=[0.12, 0.12, 0.1, 0.06, 0.2, 0.4])
    aes = reps.of_rule("ae")
    ae = rng.choice(aes, size=k)
    created_ago = rng.integers(0, 365, size=k)
    created = _stamps(as_of, created_ago, rng.integers(8 * 3600, 18 * 3600, size=k))
    closed_ago = np.maximum(created_ago - rng.integers(10, 120, size=k), 0)
    closed_dates = (np.datetime64(as_of.isoformat(), "D") - closed_ago.astype("timedelta64[D]")).astype(str).tolist()
    scale = np.clip(acc["employees"][chosen] / 150.0, 0.2, 50)
    amount = np.round(rng.lognormal(np.log(25_000), 0.6, size=k) * scale**0.35, -2)
    is_closed = stage >= 4
    owner_ae = acc["owner_ae"]
    owner_ae[chosen[~is_closed]] = ae[~is_closed]  # an open opportunity's AE owns the account today
    width = max(6, len(str(k)))
    tf = ("false", "true")
    rows = []
    for j, (a, st, rep, c, closed, amt, cd) in enumerate(zip(
        chosen.tolist(), stage.tolist(), ae.tolist(), created, is_closed.tolist(), amount.tolist(), closed_dates,
        strict=True,
    )):
        rows.append([f"opp-{j + 1:0{width}d}", acc["ids"][a], reps.ids[rep], c, STAGES[st], f"{amt:.0f}",
                     tf[closed], tf[st == 4], cd if closed else ""])
    return rows


def _activities(rng: Generator, acc: dict[str, Any], reps: _Reps, as_of: date) -> list[list[str]]:
    n = acc["n"]
    owner, seg = acc["owner_sdr"], acc["seg"]
    book = np.bincount(owner[owner >= 0], minlength=len(reps.ids)).astype(np.float64)
    p_work = np.full(n, 0.17)
    owned = owner >= 0
    p_work[owned] = np.clip(110.0 / np.maximum(book[owner[owned]], 1.0), 0.15, 0.85)  # hoarders work less
    worked = np.flatnonzero(rng.random(n) < p_work)
    per = 1 + rng.poisson(2.0, size=len(worked))
    account = np.repeat(worked, per)
    m = len(account)
    rep = np.repeat(owner[worked], per)
    other = (rep < 0) | (rng.random(m) < 0.1)  # unowned, or a colleague touched it
    all_sdrs = np.array([i for i, r in enumerate(reps.rule) if r != "ae"], dtype=np.int64)
    for k in (-1, 0, 1, 2):
        mask = other & (seg[account] == k)
        pool = all_sdrs if k < 0 else reps.of_rule(SEGMENTS[k])
        rep[mask] = rng.choice(pool, size=int(mask.sum()))
    kind = rng.choice(len(ACTIVITY_TYPES), size=m, p=[0.35, 0.4, 0.1, 0.15])

    # AEs work the accounts they own: most with an open opportunity, few of the hoarded ones.
    ae_owned = np.flatnonzero(acc["owner_ae"] >= 0)
    ae_worked = ae_owned[rng.random(len(ae_owned)) < 0.6]
    ae_per = 1 + rng.poisson(3.0, size=len(ae_worked))
    account = np.r_[account, np.repeat(ae_worked, ae_per)]
    rep = np.r_[rep, np.repeat(acc["owner_ae"][ae_worked], ae_per)]
    kind = np.r_[kind, rng.choice(len(ACTIVITY_TYPES), size=int(ae_per.sum()), p=[0.3, 0.3, 0.3, 0.1])]

    total = len(account)
    when = _stamps(as_of, rng.integers(0, 90, size=total), rng.integers(7 * 3600, 19 * 3600, size=total))
    order = np.argsort(np.array(when), kind="stable")  # a CRM export lists activities by time
    width = max(7, len(str(total)))
    ids, rep_ids = acc["ids"], reps.ids
    account_l, rep_l, kind_l = account.tolist(), rep.tolist(), kind.tolist()
    return [
        [f"act-{j + 1:0{width}d}", ids[account_l[i]], rep_ids[rep_l[i]], ACTIVITY_TYPES[kind_l[i]], when[i]]
        for j, i in enumerate(order.tolist())
    ]


def _signals(rng: Generator, acc: dict[str, Any], as_of: date) -> list[list[str]]:
    n = acc["n"]
    touched = np.flatnonzero(rng.random(n) < 0.15)
    per = 1 + (rng.random(len(touched)) < 0.3)
    account = np.repeat(touched, per)
    m = len(account)
    kind = rng.choice(len(SIGNAL_TYPES), size=m, p=[0.17, 0.45, 0.2, 0.18])
    low = np.array([20.0, 5.0, 10.0, 15.0])[kind]
    high = np.array([40.0, 25.0, 20.0, 30.0])[kind]
    strength = np.round(low + (high - low) * rng.random(m), 1)
    days_ago = rng.integers(0, 120, size=m)
    lasts = np.array([0, 45, 0, 120])[kind]  # intent fades; a contract window closes

    # A few hand-raises, recent, on prospects dynbooks manages.
    prospects = np.flatnonzero(~acc["is_customer"] & (acc["seg"] >= 0))
    n_demo = min(len(prospects), max(3, n // 2000))
    demo = rng.choice(prospects, size=n_demo, replace=False)
    account = np.r_[account, demo]
    kind = np.r_[kind, np.full(n_demo, len(SIGNAL_TYPES))]
    strength = np.r_[strength, np.full(n_demo, 50.0)]
    days_ago = np.r_[days_ago, rng.integers(0, 7, size=n_demo)]
    lasts = np.r_[lasts, np.zeros(n_demo, dtype=np.int64)]

    total = len(account)
    seconds = rng.integers(0, 24 * 3600, size=total)
    occurred = _stamps(as_of, days_ago, seconds)
    expires = _stamps(as_of, days_ago - lasts, seconds)
    types = (*SIGNAL_TYPES, "demo_request")
    width = max(6, len(str(total)))
    ids = acc["ids"]
    return [
        [f"sig-{j + 1:0{width}d}", ids[a], types[k], f"{s:.1f}", o, e if last else ""]
        for j, (a, k, s, o, e, last) in enumerate(zip(
            account.tolist(), kind.tolist(), strength.tolist(), occurred, expires, lasts.tolist(), strict=True))
    ]


CONFIG_TOML = """\
# dynbooks.toml for the sample organisation (dynbooks.sample, seed {seed}, as of {as_of}).
# Five SDR teams of 8 (3 SMB, 3 mid-market, 2 enterprise SDRs each) and 10 AEs.
# Every key is explained once; see SPEC §9 for the full format and §10 for the defaults.

[enrollment]
# The accounts dynbooks manages at all: prospects only; customers belong to account management.
filter = {{ is_customer = false }}

[scoring]
# priority = fit_score + the strength of live signals, each halving every N days after it occurred.
timing_half_life_days = 30
# Ties (and accounts without a fit_score) are ordered by these fields; "-" means descending.
sort_keys = ["-employees", "-annual_revenue"]

[activity]
# What counts as working an account. A "note" does not: it keeps no account from retrieval.
meaningful_types = ["call", "email", "meeting"]

[routing]
# A demo request routes the account at once instead of waiting for the next cycle.
hand_raise_types = ["demo_request"]
# When the chosen rep's book is full: "swap" bumps their lowest-priority untouched account.
when_full = "swap"

[[book_rule]]
name = "smb-sdr"                # small companies: many accounts, fast turnover
role = "sdr"                    # an account has at most one owner per role
target_size = 150               # accounts per rep at full ramp
retrieve_after_days = 21        # not worked for 21 days -> back to the pool
rest_days = 45                  # and resting this long before it can be dealt again
cooldown_days = 90              # never dealt back to a rep who returned or lost it within 90 days
min_priority = 10.0             # below this an account is not worth a rep's time (hand-raises excepted)
ramp = [0.5, 0.75, 1.0]         # capacity by month since start_date: 50%, 75%, then 100%
handoff_to = "ae"               # a "converted" return goes to an AE, round robin
warn_days = 5                   # flag accounts this close to retrieval in the rep's book
return_limits = {{ not_interested = {{ per = "week", max = 15 }} }}  # more than 15 a week is refused
filter = {{ employees = {{ lt = 200 }} }}

[[book_rule]]
name = "mm-sdr"                 # mid-market: part of each book is reserved for inbound accounts
role = "sdr"
target_size = 100
retrieve_after_days = 30
rest_days = 60
cooldown_days = 90
ramp = [0.5, 0.75, 1.0]
handoff_to = "ae"
warn_days = 7
return_limits = {{ not_interested = {{ per = "week", max = 10 }} }}
segments = [                    # parts of the book with their own capacity (sizes add up to <= target_size)
  {{ name = "outbound", size = 70, filter = {{ inbound = false }} }},
  {{ name = "inbound", size = 30, filter = {{ inbound = true }} }},
]
filter = {{ employees = {{ gte = 200, lt = 2000 }} }}

[[book_rule]]
name = "ent-sdr"                # enterprise: long cycles, so accounts stay longer and rest longer
role = "sdr"
target_size = 60
retrieve_after_days = 45
rest_days = 90
cooldown_days = 180
ramp = [0.5, 0.75, 1.0]
handoff_to = "ae"
warn_days = 10
filter = {{ employees = {{ gte = 2000 }} }}

[[book_rule]]
name = "ae"                     # account executives: fed by SDR hand-offs and imported ownership
role = "ae"
target_size = 40
retrieve_after_days = 60
rest_days = 30
hoarding_days = 30              # AE-owned, no open opportunity and no activity for 30 days -> retrieved
filter = {{}}                     # every enrolled account (hand-offs bypass filters anyway)

[[return_reason]]               # the defaults of SPEC §3 exist without being listed; this overrides one
code = "not_interested"
route = "rest"
rest_days = 120                 # prospects who said no are left alone for four months
label = "Said no, no date"
"""
