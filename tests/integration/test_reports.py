"""Reports on a small hand-made market, on SQLite and (with DYNBOOKS_TEST_POSTGRES_URL) on PostgreSQL.

The market, as of Wednesday 2026-03-04 (ISO week 2026-W10, which starts Monday 2026-03-02):

- rule ``mm-sdr`` (role sdr, target 4, ramp 50% then 100%) takes US accounts; rule ``ae`` (role ae, target 2,
  hoarding after 30 days) takes US and CA accounts. Enrollment leaves out the ``gov`` industry.
- a1..a4 US, fit 10, 8, 6, 4; a5 US customer fit 2; a6 US gov (not enrolled); a7 CA fit 5; a8 US retired;
  a9 US no fit score with an open opportunity; a10 US held; a11..a16 DE (no rule), a13 retired.
- r1 (east, full ramp) owns a1 (assigned this week) and a2; r2 (east, started 2026-02-15: 50% ramp) owns a3
  and a4; r3 (west, ae) owns a7 and a9; r5 (east) owns nothing; r4 is inactive.
Every expected number below is worked out by hand in the test that checks it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, select, text

from dynbooks.domain.clock import Now
from dynbooks.domain.errors import UsageError
from dynbooks.domain.rules import BookRule, Config, EnrollmentConfig
from dynbooks.reports import REPORTS, Report, ReportFilters, chart
from dynbooks.reports.audit import gini
from dynbooks.services.context import Context
from dynbooks.services.facts import refresh_all
from dynbooks.services.imports_effects import touch_worked
from dynbooks.store.db import connect, normalise_url, read
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import (
    account_roles,
    accounts,
    activities,
    assignments,
    events,
    opportunities,
    reps,
    signals,
)

PG_URL = os.environ.get("DYNBOOKS_TEST_POSTGRES_URL")
AS_OF = Now.of_date(date(2026, 3, 4))
CONFIG = Config(
    enrollment=EnrollmentConfig(filter={"industry": {"ne": "gov"}}),
    book_rule=[
        BookRule(name="mm-sdr", role="sdr", target_size=4, ramp=[0.5, 1.0], filter={"country": "US"}),
        BookRule(name="ae", role="ae", target_size=2, hoarding_days=30, filter={"country": ["US", "CA"]}),
    ],
)
WINDOW = ReportFilters(since=date(2026, 2, 2), until=date(2026, 3, 4))


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = connect(f"sqlite:///{tmp_path}/t.db")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    if not PG_URL:
        pytest.skip("set DYNBOOKS_TEST_POSTGRES_URL to run on PostgreSQL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    eng = connect(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _account(account_id: str, country: str, fit: float | None, **kw: Any) -> dict[str, Any]:
    row = {"account_id": account_id, "name": account_id.upper(), "country": country, "industry": "software",
           "fit_score": fit, "is_customer": False, "status": "active", "duplicate_of": None,
           "updated_at": at("2026-01-01")}
    return row | kw


def _rep(rep_id: str, role: str, rule: str, team: str, manager: str, start: date | None, active: bool = True
         ) -> dict[str, Any]:
    return {"rep_id": rep_id, "name": rep_id.upper(), "role": role, "book_rule": rule, "team": team,
            "manager": manager, "start_date": start, "active": active, "updated_at": at("2026-01-01")}


def _owned(account_id: str, role: str, rep_id: str, rule: str, assigned: str) -> dict[str, Any]:
    return {"account_id": account_id, "role": role, "state": "owned", "rep_id": rep_id, "rule": rule,
            "since": at(assigned), "assigned_at": at(assigned), "worked_at": at(assigned)}


def _activity(n: int, account_id: str, rep_id: str, kind: str, when: str) -> dict[str, Any]:
    return {"activity_id": f"act{n}", "account_id": account_id, "rep_id": rep_id, "type": kind,
            "occurred_at": at(when)}


def _event(kind: str, account_id: str, when: str, rep_id: str | None = None, reason: str | None = None,
           rule: str | None = "mm-sdr", role: str = "sdr") -> dict[str, Any]:
    return {"type": kind, "account_id": account_id, "at": at(when), "rep_id": rep_id, "reason": reason,
            "rule": rule, "role": role}


def _span(account_id: str, rep_id: str, assigned: str, ended: str | None = None, role: str = "sdr",
          rule: str = "mm-sdr") -> dict[str, Any]:
    return {"account_id": account_id, "role": role, "rep_id": rep_id, "rule": rule, "assigned_at": at(assigned),
            "ended_at": at(ended) if ended else None, "how": "cycle"}


def seed(engine: Engine) -> None:
    """Insert the market of the module docstring (each insert's dicts share their keys: executemany needs it)."""
    with engine.begin() as conn:
        conn.execute(insert(accounts), [
            _account("a1", "US", 10), _account("a2", "US", 8), _account("a3", "US", 6), _account("a4", "US", 4),
            _account("a5", "US", 2, is_customer=True), _account("a6", "US", 9, industry="gov"),
            _account("a7", "CA", 5), _account("a8", "US", 7, status="retired"), _account("a9", "US", None),
            _account("a10", "US", 3, status="held"),
            _account("a11", "DE", 1), _account("a12", "DE", 1), _account("a13", "DE", 1, status="retired"),
            _account("a14", "DE", 1), _account("a15", "DE", 1), _account("a16", "DE", 1),
        ])
        conn.execute(insert(reps), [
            _rep("r1", "sdr", "mm-sdr", "east", "m1", date(2025, 1, 1)),
            _rep("r2", "sdr", "mm-sdr", "east", "m1", date(2026, 2, 15)),
            _rep("r3", "ae", "ae", "west", "m2", None),
            _rep("r4", "sdr", "mm-sdr", "east", "m1", date(2025, 1, 1), active=False),
            _rep("r5", "sdr", "mm-sdr", "east", "m1", date(2025, 1, 1)),
        ])
        conn.execute(insert(account_roles), [
            _owned("a1", "sdr", "r1", "mm-sdr", "2026-03-02"), _owned("a2", "sdr", "r1", "mm-sdr", "2026-02-01"),
            _owned("a3", "sdr", "r2", "mm-sdr", "2026-02-20"), _owned("a4", "sdr", "r2", "mm-sdr", "2026-02-25"),
            _owned("a7", "ae", "r3", "ae", "2026-01-10"), _owned("a9", "ae", "r3", "ae", "2026-01-10"),
        ])
        conn.execute(insert(activities), [
            _activity(1, "a1", "r1", "call", "2026-03-03 09:00"),
            _activity(2, "a2", "r3", "email", "2026-01-20 10:00"),
            _activity(3, "a3", "r2", "note", "2026-03-01 10:00"),
            _activity(4, "a7", "r3", "meeting", "2025-12-20 10:00"),
            _activity(5, "a9", "r3", "call", "2026-02-25 10:00"),
            _activity(6, "a6", "r1", "call", "2026-03-04 11:00"),
            _activity(7, "a4", "r2", "call", "2026-03-04 10:00"),
            _activity(8, "a1", "r1", "email", "2026-03-03 15:00"),
            _activity(9, "a1", "r1", "call", "2026-02-10 15:00"),
            _activity(10, "a2", "r1", "call", "2026-03-05 09:00"),  # after the as-of date: not yet happened
        ])
        conn.execute(insert(opportunities), [
            {"opportunity_id": "o1", "account_id": "a9", "rep_id": "r3", "created_at": at("2026-02-26"),
             "is_closed": False, "is_won": False},
            {"opportunity_id": "o2", "account_id": "a1", "rep_id": "r1", "created_at": at("2026-03-03"),
             "is_closed": True, "is_won": True},
            {"opportunity_id": "o3", "account_id": "a14", "rep_id": "r3", "created_at": at("2026-03-01"),
             "is_closed": False, "is_won": False},
        ])
        conn.execute(insert(signals), [
            {"signal_id": "s1", "account_id": "a1", "type": "funding", "strength": 4.0,
             "occurred_at": at("2026-02-02"), "expires_at": None},
            {"signal_id": "s2", "account_id": "a2", "type": "intent", "strength": 10.0,
             "occurred_at": at("2026-02-01"), "expires_at": at("2026-03-01")},
            {"signal_id": "s3", "account_id": "a3", "type": "intent", "strength": 8.0,
             "occurred_at": at("2026-03-10"), "expires_at": None},
        ])
        conn.execute(insert(events), [
            _event("returned", "a16", "2026-01-15", "r2", "not_interested"),  # before the window
            _event("distributed", "a2", "2026-02-01", "r1", "cycle"),
            _event("returned", "a11", "2026-02-03", "r1", "not_interested"),
            _event("returned", "a12", "2026-02-10", "r1", "not_interested"),
            _event("returned", "a13", "2026-02-11", "r1", "not_interested"),
            _event("retrieved", "a17", "2026-02-12", "r2", "not_worked"),
            _event("distributed", "a11", "2026-02-20", "r5", "cycle"),
            _event("distributed", "a3", "2026-02-20", "r2", "cycle"),
            _event("returned", "a14", "2026-02-24", "r2", "not_interested"),
            _event("returned", "a15", "2026-02-24", "r1", "bad_data"),
            _event("distributed", "a4", "2026-02-25", "r2", "cycle"),
            _event("distributed", "a1", "2026-03-02", "r1", "cycle"),
            _event("returned", "a16", "2026-03-02", "r2", "converted"),
            _event("handed_off", "a16", "2026-03-02", "r3", "converted", rule="ae", role="ae"),
            _event("released", "a18", "2026-03-03", None, None),
        ])
        conn.execute(insert(assignments), [
            *(_span(f"x{i}", "r1", "2026-01-01") for i in range(6)),
            *(_span(f"y{i}", "r2", "2026-01-01", "2026-02-10") for i in range(6)),
            *(_span(f"z{i}", "r5", "2026-01-01") for i in range(6)),
            _span("w0", "r5", "2025-01-01", "2026-01-31"),  # ended before the window: not held in it
            *(_span(f"v{i}", "r3", "2026-01-10", role="ae", rule="ae") for i in range(2)),
        ])
        # What the writers keep beside the rows (an import would have): the accounts' facts and the owners'
        # retrieval clocks (account_roles.last_activity_at).
        refresh_all(conn, CONFIG)
        ids = list(conn.execute(select(accounts.c.account_id)).scalars())
        touch_worked(conn, Context(engine=engine, config=CONFIG, now=AS_OF, actor="test"), ids)


def run(engine: Engine, name: str, filters: ReportFilters | None = None) -> Report:
    with read(engine) as conn:
        return REPORTS[name](conn, CONFIG, AS_OF, filters or ReportFilters())


def test_balance_gives_each_active_rep_size_capacity_fill_priority_and_staleness(engine: Engine) -> None:
    seed(engine)
    report = run(engine, "balance")
    rows = {r["rep_id"]: r for r in report.rows}
    assert [r["rep_id"] for r in report.rows] == ["r3", "r1", "r2", "r5"]  # by rule, then rep; r4 is inactive
    # r1: a1 (fit 10 + funding 4 halved after 30 days = 12) and a2 (fit 8; its signal expired) -> 20, mean 10.
    # a1 was assigned on Monday of the as-of week; a2 has no activity by r1 since 2026-02-01: 31 days.
    assert (rows["r1"]["size"], rows["r1"]["capacity"], rows["r1"]["fill"]) == (2, 4, 0.5)
    assert (rows["r1"]["total_priority"], rows["r1"]["mean_priority"]) == (20.0, 10.0)
    assert (rows["r1"]["new_this_week"], rows["r1"]["untouched"], rows["r1"]["oldest_untouched_days"]) == (1, 1, 31)
    assert rows["r1"]["load"] == "under"
    # r2 started 2026-02-15: under a month, so 50% of 4 = 2. a3 (fit 6; its signal is in the future) has only a
    # note (not meaningful) since 2026-02-20: 12 days; a4 (fit 4) was called on the as-of day.
    assert (rows["r2"]["size"], rows["r2"]["capacity"], rows["r2"]["fill"], rows["r2"]["load"]) == (2, 2, 1.0, "full")
    assert (rows["r2"]["total_priority"], rows["r2"]["oldest_untouched_days"]) == (10.0, 12)
    # r3 (ae): a7 (fit 5) last touched by r3 before its assignment on 2026-01-10 -> untouched for 53 days;
    # a9 has no fit score (0) and a call on 2026-02-25.
    assert (rows["r3"]["size"], rows["r3"]["capacity"], rows["r3"]["mean_priority"]) == (2, 2, 2.5)
    assert (rows["r3"]["untouched"], rows["r3"]["oldest_untouched_days"]) == (1, 53)
    assert (rows["r5"]["size"], rows["r5"]["fill"], rows["r5"]["mean_priority"]) == (0, 0.0, None)
    rules = {r["rule"]: r for r in report.extra["rules"]}
    # mm-sdr mean priorities: r1 10, r2 5, r5 none -> spread 5; fills 0.5, 1.0, 0.0.
    assert (rules["mm-sdr"]["reps"], rules["mm-sdr"]["spread"], rules["mm-sdr"]["fill_spread"]) == (3, 5.0, 1.0)
    assert (rules["mm-sdr"]["under"], rules["mm-sdr"]["over"]) == (2, 0)
    assert rules["ae"]["spread"] == 0.0


def test_balance_filters_by_team_and_rep(engine: Engine) -> None:
    seed(engine)
    assert [r["rep_id"] for r in run(engine, "balance", ReportFilters(team="west")).rows] == ["r3"]
    assert [r["rep_id"] for r in run(engine, "balance", ReportFilters(rep="r2")).rows] == ["r2"]
    assert [r["rep_id"] for r in run(engine, "balance", ReportFilters(rule="mm-sdr", manager="m1")).rows] == [
        "r1", "r2", "r5"]


def test_returns_count_by_period_reason_and_rep_within_the_window(engine: Engine) -> None:
    seed(engine)
    report = run(engine, "returns", WINDOW)
    got = [(r["period"], r["reason"], r["rep_id"], r["team"], r["manager"], r["count"]) for r in report.rows]
    assert got == [  # the 2026-01-15 return is before the window
        ("2026-W06", "not_interested", "r1", "east", "m1", 1),
        ("2026-W07", "not_interested", "r1", "east", "m1", 2),
        ("2026-W09", "bad_data", "r1", "east", "m1", 1),
        ("2026-W09", "not_interested", "r2", "east", "m1", 1),
        ("2026-W10", "converted", "r2", "east", "m1", 1),
    ]
    by_month = run(engine, "returns", ReportFilters(since=date(2026, 2, 1), until=date(2026, 3, 4), by="month"))
    assert [(r["period"], r["reason"], r["rep_id"], r["count"]) for r in by_month.rows] == [
        ("2026-02", "bad_data", "r1", 1), ("2026-02", "not_interested", "r1", 3),
        ("2026-02", "not_interested", "r2", 1), ("2026-03", "converted", "r2", 1),
    ]


def test_a_rep_returning_twice_the_team_median_at_least_three_times_is_flagged_for_coaching(engine: Engine) -> None:
    seed(engine)
    report = run(engine, "returns", WINDOW)
    # East held 6 accounts each in the window (r1, r2, r5). not_interested: r1 3/6 = 0.5, r2 1/6, r5 0:
    # median 1/6, and 0.5 >= 2/6 with 3 returns. r2's converted and r1's bad_data are single returns.
    assert [(f["rep_id"], f["reason"], f["rate"], f["team_median"]) for f in report.extra["flags"]] == [
        ("r1", "not_interested", 0.5, 0.1667)
    ]
    trend = {t["reason"]: t for t in report.extra["trend"]}
    assert [c["count"] for c in trend["not_interested"]["counts"]] == [1, 2, 0, 1, 0]
    assert [c["period"] for c in trend["not_interested"]["counts"]] == [f"2026-W{w:02d}" for w in range(6, 11)]
    # slope of 1, 2, 0, 1, 0 over x = 0..4: Σ(x−2)(y−0.8) / Σ(x−2)² = −3/10
    assert trend["not_interested"]["slope"] == -0.3
    assert trend["not_interested"]["direction"] == "down"


def test_returns_say_what_became_of_returned_accounts(engine: Engine) -> None:
    seed(engine)
    outcomes = {o["reason"]: o for o in run(engine, "returns", WINDOW).extra["outcomes"]}
    # not_interested: a11 re-dealt to r5, a12 nothing yet, a13 retired, a14 got an opportunity from r3.
    assert outcomes["not_interested"] == {"reason": "not_interested", "returned": 4, "redealt": 1,
                                          "converted": 1, "retired": 1}
    assert outcomes["converted"]["converted"] == 1  # handed off to the AE
    assert outcomes["bad_data"] == {"reason": "bad_data", "returned": 1, "redealt": 0, "converted": 0, "retired": 0}
    only_r2 = run(engine, "returns", ReportFilters(since=WINDOW.since, until=WINDOW.until, rep="r2"))
    assert {o["reason"]: o["returned"] for o in only_r2.extra["outcomes"]} == {"converted": 1, "not_interested": 1}
    assert only_r2.extra["flags"] == []


def test_coverage_counts_tam_nbtam_and_worked_shares_per_rule(engine: Engine) -> None:
    seed(engine)
    rows = {r["rule"]: r for r in run(engine, "coverage").rows}
    # mm-sdr TAM: US, enrolled (not gov), not retired: a1 a2 a3 a4 a5 a9 a10 = 7; NBTAM drops the customer a5
    # and a9 (open opportunity): a1 a2 a3 a4 a10. Last meaningful activity by anyone: a1 1 day ago, a4 0,
    # a2 43 (2026-01-20), a3 and a10 never (a3 has only a note).
    assert rows["mm-sdr"] == {"rule": "mm-sdr", "tam": 7, "nbtam": 5, "worked_30": 0.4, "worked_60": 0.6,
                              "worked_90": 0.6, "owned_unworked": 2, "never_worked": 2, "owned": 4}
    # ae adds a7 (CA, last meeting 74 days ago): TAM 8, NBTAM 6; owned-unworked a7 (nothing by r3 since 01-10).
    assert rows["ae"] == {"rule": "ae", "tam": 8, "nbtam": 6, "worked_30": 0.3333, "worked_60": 0.5,
                          "worked_90": 0.6667, "owned_unworked": 1, "never_worked": 2, "owned": 2}
    assert (rows["all"]["tam"], rows["all"]["nbtam"], rows["all"]["owned_unworked"]) == (8, 6, 3)


def test_coverage_by_band_splits_the_tam_by_fit_quartile_and_timing(engine: Engine) -> None:
    seed(engine)
    report = run(engine, "coverage", ReportFilters(rule="mm-sdr"))
    assert [r["rule"] for r in report.rows] == ["mm-sdr"]
    bands = {b["band"]: b for b in report.extra["bands"]}
    # mm-sdr TAM fit scores: a1 10, a2 8, a3 6, a4 4, a5 2, a10 3 (a9 none): quartiles 3.25, 5, 7.5.
    assert bands["fit: top 25%"]["tam"] == 2  # a1, a2
    assert bands["fit: 50-75%"]["tam"] == 1  # a3
    assert bands["fit: 25-50%"]["tam"] == 1  # a4
    assert bands["fit: bottom 25%"]["tam"] == 2  # a5, a10
    assert bands["fit: none"]["tam"] == 1  # a9
    assert bands["timing: live signal"]["tam"] == 1  # a1's funding; a2's expired, a3's is in the future
    assert bands["timing: none"]["tam"] == 6


def test_audit_shows_each_owner_holding_working_and_hoarding(engine: Engine) -> None:
    seed(engine)
    report = run(engine, "audit")
    got = [(r["owner_id"], r["accounts"], r["worked_90"], r["hoarded"], r["ae_idle"], r["hoarding"])
           for r in report.rows]
    # r1: a1 worked (03-03), a2 never by r1. r2: a4 worked, a3 only a note. r3: a7 worked 74 days ago (< 90)
    # but it is an AE account with no open opportunity idle >= 30 days; a9 has an open opportunity.
    assert got == [
        ("r1", 2, 1, 1, 0, True),
        ("r2", 2, 1, 1, 0, True),
        ("r3", 2, 2, 1, 1, False),
        ("r5", 0, 0, 0, 0, False),
    ]
    # accounts per owner 2, 2, 2, 0: Gini = 2·(1·0 + 2·2 + 3·2 + 4·2)/(4·6) − 5/4 = 0.25
    assert (report.extra["tam"], report.extra["nbtam"], report.extra["gini"]) == (8, 6, 0.25)
    assert report.extra["top_holders"][0] == {"owner_id": "r1", "accounts": 2, "share": 0.3333}
    assert (report.extra["hoarders"], report.extra["hoarded"]) == (2, 3)
    assert report.extra["first_cycle"] is None


def test_audit_under_a_rule_keeps_that_rules_owners_and_its_tam(engine: Engine) -> None:
    seed(engine)
    report = run(engine, "audit", ReportFilters(rule="ae"))
    assert [(r["owner_id"], r["accounts"]) for r in report.rows] == [("r3", 2)]
    assert (report.extra["tam"], report.extra["nbtam"], report.extra["gini"]) == (8, 6, 0.0)


def test_returns_of_one_team_leave_the_other_teams_out(engine: Engine) -> None:
    seed(engine)
    assert run(engine, "returns", ReportFilters(since=WINDOW.since, until=WINDOW.until, team="west")).rows == []
    east = run(engine, "returns", ReportFilters(since=WINDOW.since, until=WINDOW.until, manager="m1"))
    assert sum(r["count"] for r in east.rows) == 6
    assert [f["rep_id"] for f in east.extra["flags"]] == ["r1"]


def test_gini_is_zero_for_equal_holdings_and_grows_with_concentration() -> None:
    import numpy as np

    assert gini(np.array([3.0, 3.0, 3.0])) == 0.0
    assert gini(np.array([0.0, 0.0, 4.0])) == pytest.approx(2 / 3)
    assert gini(np.array([], dtype=float)) == 0.0


def test_productivity_is_opportunities_per_account_worked_per_period_and_rep(engine: Engine) -> None:
    seed(engine)
    report = run(engine, "productivity", ReportFilters(since=date(2026, 2, 2), until=date(2026, 3, 4), by="month"))
    got = [(r["period"], r["rep_id"], r["team"], r["accounts_worked"], r["opportunities"], r["book_productivity"])
           for r in report.rows]
    # February: r1 called a1 (02-10); r3 called a9 (02-25) and opened o1. March: r1 worked a1 (twice on 03-03)
    # and a6 and opened o2; r2 called a4; r3 opened o3 without a meaningful activity in March.
    # The note on a3 does not count, nor r1's call of 03-05 (after the as-of date).
    assert got == [
        ("2026-02", "r1", "east", 1, 0, 0.0),
        ("2026-02", "r3", "west", 1, 1, 1.0),
        ("2026-03", "r1", "east", 2, 1, 0.5),
        ("2026-03", "r2", "east", 1, 0, 0.0),
        ("2026-03", "r3", "west", 0, 1, None),
    ]
    assert report.extra["total"] == {"accounts_worked": 5, "opportunities": 3, "book_productivity": 0.6}
    teams = {(t["period"], t["team"]): t["book_productivity"] for t in report.extra["teams"]}
    assert teams[("2026-03", "east")] == round(1 / 3, 4)


def test_flow_counts_movements_per_week_and_the_runway_of_the_ready_pool(engine: Engine) -> None:
    seed(engine)
    report = run(engine, "flow", WINDOW)
    got = [(r["period"], r["distributed"], r["returned"], r["retrieved"], r["released"], r["converted"])
           for r in report.rows]
    assert got == [
        ("2026-W06", 0, 1, 0, 0, 0),
        ("2026-W07", 0, 2, 1, 0, 0),
        ("2026-W08", 2, 0, 0, 0, 0),
        ("2026-W09", 1, 2, 0, 0, 0),
        ("2026-W10", 1, 1, 0, 1, 1),  # the converted return and its hand-off are one conversion
    ]
    assert [r["returned_not_interested"] for r in report.rows] == [1, 2, 0, 1, 0]
    assert report.rows[3]["returned_bad_data"] == 1
    # Ready: sdr pool (no sdr row) matching mm-sdr: a5, a9; ae pool matching ae: a1..a5. a6 is not enrolled,
    # a8 retired, a10 held. Distributed in the 28 days to 03-04: a11, a3, a4, a1 -> 1 a week -> 7 weeks.
    assert report.extra["ready_pool"] == 7
    assert report.extra["runway_weeks"] == 7.0
    assert {r["rule"]: r["ready"] for r in report.extra["ready_by_rule"]} == {"mm-sdr": 2, "ae": 5}


def test_flow_runway_is_null_when_nothing_was_distributed_lately(engine: Engine) -> None:
    seed(engine)
    report = run(engine, "flow", ReportFilters(rep="r3"))
    assert report.extra["runway_weeks"] is None
    assert len(report.rows) == 12  # the as-of week and the 11 before it
    assert report.rows[-1]["period"] == "2026-W10"
    assert sum(r["converted"] for r in report.rows) == 1  # r3's hand-off


def test_every_report_prints_the_json_contract_of_spec_9(engine: Engine) -> None:
    seed(engine)
    keys = {
        "balance": ("rep_id rule team size capacity fill mean_priority total_priority new_this_week "
                    "oldest_untouched_days", ["rules"]),
        "returns": ("period reason rep_id team manager count", ["flags"]),
        "coverage": ("rule tam nbtam worked_30 worked_60 worked_90 owned_unworked never_worked", []),
        "audit": ("owner_id accounts worked_90 hoarded", ["tam", "nbtam", "gini"]),
        "productivity": ("period rep_id team accounts_worked opportunities book_productivity", []),
        "flow": ("period distributed returned retrieved released converted", ["ready_pool", "runway_weeks"]),
    }
    for name, (row_keys, extra_keys) in keys.items():
        doc = json.loads(json.dumps(run(engine, name, WINDOW).to_json()))
        assert (doc["report"], doc["as_of"]) == (name, "2026-03-04")
        assert doc["rows"], name
        for row in doc["rows"]:
            assert set(row_keys.split()) <= set(row), name
        assert set(extra_keys) <= set(doc), name


def test_csv_cells_that_look_like_formulas_are_escaped() -> None:
    report = Report("x", date(2026, 3, 4), ["team", "count", "note"],
                    [{"team": "=HYPERLINK(\"http://evil\")", "count": -3, "note": "+1"},
                     {"team": "@SUM(A1)", "count": 2, "note": "-x"}, {"team": "east", "count": 0, "note": None}])
    out = io.StringIO()
    report.write_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["team", "count", "note"], ["'=HYPERLINK(\"http://evil\")", "-3", "'+1"],
                    ["'@SUM(A1)", "2", "'-x"], ["east", "0", ""]]


def test_balance_csv_has_the_columns_as_header(engine: Engine) -> None:
    seed(engine)
    out = io.StringIO()
    report = run(engine, "balance")
    report.write_csv(out)
    lines = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(lines[0]) == report.columns
    assert [(r["rep_id"], r["size"], r["fill"]) for r in lines][:2] == [("r3", "2", "1.0"), ("r1", "2", "0.5")]


@pytest.mark.parametrize("name", ["balance", "returns", "flow", "coverage"])
def test_chart_draws_a_png(engine: Engine, tmp_path: Path, name: str) -> None:
    seed(engine)
    path = tmp_path / f"{name}.png"
    chart(run(engine, name, WINDOW), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_report_without_a_chart_says_so() -> None:
    report = Report("audit", date(2026, 3, 4), ["owner_id"], [])
    with pytest.raises(UsageError, match="no chart"):
        chart(report, Path("never.png"))


def test_reports_run_on_an_empty_database(engine: Engine) -> None:
    for name in REPORTS:
        doc = run(engine, name).to_json()
        assert doc["report"] == name
