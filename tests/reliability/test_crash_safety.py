"""Crash safety: a ``dynbooks cycle`` killed with SIGKILL at a random moment (seeded) leaves the database as it
was before the cycle or as an uninterrupted cycle leaves it — never in between — and the next cycle then
finishes the work as if nothing had happened.

``make test`` runs 2 trials per database, ``make reliability`` 20.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from dynbooks.domain.rules import Config
from dynbooks.services.cycle import run_cycle
from dynbooks.store.db import connect
from dynbooks.store.schema import account_roles, cycles, events
from tests.integration.helpers import World

from .invariants import violations
from .support import BIG, start

TOML = """
[enrollment]
filter = {}

[[book_rule]]
name = "team"
role = "sdr"
target_size = 150
retrieve_after_days = 30
rest_days = 10
cooldown_days = 60
filter = {}
"""
BEFORE = date(2026, 3, 2)
CYCLE = "2026-04-02"  # 31 days on: the books are retrieved, rests of earlier returns end, and all is dealt again
TRIALS = 20 if BIG else 2
ACCOUNTS = 4000 if BIG else 1500
CONFIG = Config.model_validate(tomllib.loads(TOML))


def _build(url: str, folder: Path) -> World:
    w = World(url, folder, TOML, day=BEFORE)
    w.load("reps", "rep_id,name,book_rule", [f"R{i},Rep {i},team" for i in range(10)])
    w.load("accounts", "account_id,name,fit_score,employees",
           [f"A{i:05d},Co {i},{(i * 37) % 101},{(i * 7919) % 5000}" for i in range(ACCOUNTS)])
    run_cycle(w.ctx())
    worked = sorted(a for a, r in w.owners().items() if r in ("R0", "R1"))
    w.load("activities", "activity_id,account_id,rep_id,type,occurred_at",
           [f"x-{a},{a},{w.owners()[a]},call,2026-03-30" for a in worked])
    return w


def _snapshot(url: str) -> tuple[Any, ...]:
    """account_roles and events without the ids a run draws afresh (cycle id, event seq)."""
    engine = connect(url)
    try:
        with engine.connect() as conn:
            roles = sorted(tuple(r) for r in conn.execute(
                select(*(c for c in account_roles.c if c.name != "cycle_id"))))
            history = sorted(tuple(str(v) for v in r) for r in conn.execute(
                select(*(c for c in events.c if c.name not in ("seq", "cycle_id")))))
            ran = len(conn.execute(select(cycles.c.cycle_id)).all())
    finally:
        engine.dispose()
    return roles, history, ran


@contextmanager
def _copies(db_url: str, tmp_path: Path) -> Iterator[Any]:
    """A function that gives a fresh copy of the built database: a file copy on SQLite (the base is
    checkpointed first), a rebuild in a schema of its own on PostgreSQL."""
    made: list[str] = []
    base = _build(db_url, tmp_path)
    base.engine.dispose()

    def fresh(n: int) -> str:
        if db_url.startswith("sqlite"):
            source = db_url.removeprefix("sqlite:///")
            target = tmp_path / f"trial-{n}.db"
            with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
                src.backup(dst)
            return f"sqlite:///{target}"
        schema = f"c_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        made.append(schema)
        url = db_url.split("options=")[0] + f"options=-csearch_path%3D{schema}"
        (tmp_path / schema).mkdir()
        _build(url, tmp_path / schema).engine.dispose()
        return url

    admin = connect(db_url)
    try:
        yield fresh
    finally:
        with admin.begin() as conn:
            for schema in made:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_a_cycle_killed_at_any_moment_leaves_the_database_before_or_after_never_between(
    db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "dynbooks.toml"
    config.write_text(TOML)
    rng = random.Random(20260402)
    outcomes: list[str] = []
    with _copies(db_url, tmp_path) as fresh:
        reference = fresh(0)
        before = _snapshot(reference)
        began = time.monotonic()
        whole = start(reference, config, CYCLE, "cycle")
        _, err = whole.communicate(timeout=300)
        took = time.monotonic() - began
        assert whole.returncode == 0, err[-500:]
        after = _snapshot(reference)
        assert after != before and after[2] == before[2] + 1
        for n in range(1, TRIALS + 1):
            url = fresh(n)
            assert _snapshot(url) == before
            victim = start(url, config, CYCLE, "cycle")
            time.sleep(rng.uniform(0.2, 1.1) * took)
            victim.send_signal(signal.SIGKILL)
            victim.communicate(timeout=60)
            state = _snapshot(url)
            assert state in (before, after), f"trial {n}: the killed cycle left the database half-written"
            outcomes.append("after" if state == after else "before")
            engine = connect(url)
            assert violations(engine, CONFIG, date.fromisoformat(CYCLE)) == []
            engine.dispose()
            again = start(url, config, CYCLE, "cycle")
            _, err = again.communicate(timeout=300)
            assert again.returncode == 0, err[-500:]
            if state == before:
                assert _snapshot(url) == after  # the next cycle does exactly what the killed one would have
    print(f"crash trials on {db_url.split(':')[0]}: {outcomes.count('before')} before, "
          f"{outcomes.count('after')} after, 0 between")
