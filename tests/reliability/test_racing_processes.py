"""Real processes racing on one database (SPEC §2 invariants, §10 Cycles): 8 cycles at once on PostgreSQL
and 4 on SQLite, together with returns, hand-raises (signal imports with a ``demo_request``), account
imports and a rep deactivation. Afterwards: no double assignment, no book over capacity (over-capacity
rows are recorded ones), the state equals the history, and every effect a process reported is in the
history exactly once — no event lost, none applied twice.

``make test`` runs a small org; ``make reliability`` (DYNBOOKS_RELIABILITY=1) a bigger one with more racers.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dynbooks.services.cycle import run_cycle
from dynbooks.store.schema import events
from tests.integration.helpers import World, write_csv

from .invariants import violations
from .support import BIG, start

TOML = """
[enrollment]
filter = { is_customer = false }

[routing]
hand_raise_types = ["demo_request"]
when_full = "allow"

[[book_rule]]
name = "team"
role = "sdr"
target_size = 30
retrieve_after_days = 30
rest_days = 20
cooldown_days = 60
handoff_to = "ae"
filter = {}

[[book_rule]]
name = "ae"
role = "ae"
target_size = 15
retrieve_after_days = 60
rest_days = 30
filter = { employees = { gte = 1000 } }
"""
START = date(2026, 3, 2)
RACE = date(2026, 4, 2)  # 31 days on: every unworked account is due for retrieval
REASONS = ["no_relevant_contact", "not_interested", "bad_data", "duplicate", "no_icp_fit", "converted",
           "out_of_business", "get_back_to_me"]


def _org(db_url: str, tmp_path: Path, accounts: int, sdrs: int) -> World:
    w = World(db_url, tmp_path, TOML, day=START)
    w.load("reps", "rep_id,name,book_rule", [f"R{i},Rep {i},team" for i in range(sdrs)]
           + [f"AE{i},AE {i},ae" for i in range(3)])
    w.load("accounts", "account_id,name,fit_score,employees,is_customer",
           [f"A{i:05d},Co {i},{(i * 37) % 101},{(i * 7919) % 5000},{'true' if i % 50 == 0 else 'false'}"
            for i in range(accounts)])
    return w


def _racers(w: World, db_url: str, tmp_path: Path, cycles: int, returns: int, accounts: int) -> list[Any]:
    """Files and commands for the race; R0's accounts are worked (never retrieved), so its returns hold."""
    config = tmp_path / "dynbooks.toml"
    config.write_text(TOML)
    day = RACE.isoformat()
    r0 = sorted(a for a, r in w.owners().items() if r == "R0")
    w.load("activities", "activity_id,account_id,rep_id,type,occurred_at",
           [f"act-{a},{a},R0,call,{RACE.replace(day=1).isoformat()}" for a in r0])
    pool = sorted({f"A{i:05d}" for i in range(accounts)} - set(w.owners()) - set(w.owners("ae")))
    hand_raised = pool[: 6 if BIG else 3]
    signals = write_csv(tmp_path / "race-signals.csv", ["signal_id", "account_id", "type", "strength", "occurred_at"],
                        [[f"demo-{a}", a, "demo_request", 50, day] for a in hand_raised])
    more = write_csv(tmp_path / "race-accounts.csv", ["account_id", "name", "fit_score"],
                     [[f"N{i:04d}", f"New {i}", 99] for i in range(40)])
    gone = write_csv(tmp_path / "race-reps.csv", ["rep_id", "name", "book_rule", "active"],
                     [["R1", "Rep 1", "team", "false"]])
    procs = [("cycle", start(db_url, config, day, "cycle")) for _ in range(cycles)]
    for n, account in enumerate(r0[:returns]):
        reason = REASONS[n % len(REASONS)]
        extra = ["--until", "2026-06-01"] if reason == "get_back_to_me" else []
        procs.append(("return", start(db_url, config, day, "return", account, "--rep", "R0", "--reason", reason,
                                      *extra)))
    procs.append(("signals", start(db_url, config, day, "import", "signals", str(signals))))
    procs.append(("accounts", start(db_url, config, day, "import", "accounts", str(more))))
    procs.append(("reps", start(db_url, config, day, "import", "reps", str(gone))))
    if BIG:
        procs.insert(cycles // 2, ("signals", start(db_url, config, day, "import", "signals", str(signals))))
    results = []
    for kind, p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, (kind, p.args, err[-800:])
        assert "Traceback" not in err
        results.append((kind, json.loads(out)))
    return results


def test_racing_cycles_returns_hand_raises_and_imports_keep_every_invariant(db_url: str, tmp_path: Path) -> None:
    postgres = db_url.startswith("postgresql")
    cycles = 8 if postgres else 4
    accounts, sdrs, returns = (3000, 12, 16) if BIG else (600, 6, 4)
    w = _org(db_url, tmp_path, accounts, sdrs)
    run_cycle(w.ctx())
    with w.engine.connect() as conn:
        first = conn.execute(select(func.max(events.c.seq))).scalar_one()
    results = _racers(w, db_url, tmp_path, cycles, returns, accounts)

    assert violations(w.engine, w.config, RACE) == []
    with w.engine.connect() as conn:
        rows = conn.execute(select(events.c.type, events.c.reason, events.c.cycle_id)
                            .where(events.c.seq > first)).all()
    by_type = Counter(r.type for r in rows)
    by_cycle = Counter(r.cycle_id for r in rows if r.type == "distributed" and r.cycle_id)
    cycle_results = [r for k, r in results if k == "cycle"]
    assert len(cycle_results) == cycles
    # Every cycle's report is in the history, exactly: no event lost, none twice.
    assert {r["cycle_id"]: r["distributed"] for r in cycle_results if r["distributed"]} == dict(by_cycle)
    assert by_type["retrieved"] == sum(r["retrieved"] for r in cycle_results) > 0
    assert sum(1 for r in cycle_results if r["retrieved"]) == 1  # one cycle retrieves; the others find nothing due
    returned = [r for k, r in results if k == "return"]
    assert by_type["returned"] == len(returned) == returns
    dealt = Counter(r.reason for r in rows if r.type == "distributed")
    assert dealt["replacement"] == sum(len(r["replacements"]) for r in returned)
    assert dealt["hand_raise"] == sum(r["routed"] for k, r in results if k == "signals")
    assert dealt["headcount"] == sum(r["distributed"] for k, r in results if k == "reps")
    assert by_type["handed_off"] == sum(1 for r in returned if r["handed_off_to"])
    assert by_type["unassigned"] >= 1  # R1's book went back to the pool
