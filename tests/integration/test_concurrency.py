"""Real processes racing on one database: cycles against cycles, and a cycle against returns.

Never a double assignment, never a book over capacity, no lost event (SPEC §2 invariants, §10 Cycles).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from dynbooks.store.schema import account_roles, events

from .helpers import World

TOML = """
[enrollment]
filter = {}

[[book_rule]]
name = "team"
role = "sdr"
target_size = 40
filter = {}
"""
AS_OF = "2026-03-02"


def _dynbooks() -> list[str]:
    exe = shutil.which("dynbooks", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "dynbooks"]


def _start(url: str, config: Path, *args: str) -> subprocess.Popen[str]:
    cmd = [*_dynbooks(), *args, "--db", url, "--config", str(config), "--as-of", AS_OF, "--json", "--wait", "60"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def _world(db_url: str, tmp_path: Path) -> tuple[World, Path]:
    w = World(db_url, tmp_path, TOML)
    config = tmp_path / "dynbooks.toml"
    config.write_text(TOML)
    w.load("reps", "rep_id,name,book_rule", [f"R{i},Rep {i},team" for i in range(6)])
    w.load("accounts", "account_id,name,fit_score", [f"A{i:04d},Co {i},{(i * 37) % 101}" for i in range(400)])
    return w, config


def _check_invariants(w: World) -> None:
    with w.engine.connect() as conn:
        per_rep = dict(conn.execute(select(account_roles.c.rep_id, func.count()).where(
            account_roles.c.state == "owned").group_by(account_roles.c.rep_id)).all())
        distributed = conn.execute(select(func.count()).select_from(events).where(
            events.c.type == "distributed")).scalar_one()
        left = conn.execute(select(func.count()).select_from(events).where(
            events.c.type == "returned")).scalar_one()
    assert max(per_rep.values()) <= 40, per_rep
    assert sum(per_rep.values()) == distributed - left  # every ownership has its event, no more, no less
    w.assert_state_equals_events()


def test_two_cycles_started_at_once_never_double_assign(db_url: str, tmp_path: Path) -> None:
    w, config = _world(db_url, tmp_path)
    procs = [_start(db_url, config, "cycle") for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-500:] for o in outputs]
    dealt = sorted(json.loads(o[0])["distributed"] for o in outputs)
    assert dealt == [0, 0, 240]  # one cycle fills the 6 books; the others wait for it, then find them full
    _check_invariants(w)


def test_a_cycle_racing_returns_keeps_every_invariant(db_url: str, tmp_path: Path) -> None:
    w, config = _world(db_url, tmp_path)
    first = _start(db_url, config, "cycle")
    assert first.communicate(timeout=120) and first.returncode == 0
    book = sorted(a for a, r in w.owners().items() if r == "R0")[:4]
    racers = [_start(db_url, config, "cycle")] + [
        _start(db_url, config, "return", a, "--rep", "R0", "--reason", "no_relevant_contact") for a in book
    ]
    results = [p.communicate(timeout=120) for p in racers]
    assert all(p.returncode == 0 for p in racers), [r[1][-300:] for r in results]
    assert sum(1 for r in w.owners().values() if r == "R0") == 40  # every return was replaced at once
    _check_invariants(w)


def test_a_second_cycle_gives_up_after_wait_with_exit_5(db_url: str, tmp_path: Path) -> None:
    w, config = _world(db_url, tmp_path)
    ctx = w.ctx()
    with ctx.writing(lock=True):
        cmd = [*_dynbooks(), "cycle", "--db", db_url, "--config", str(config), "--as-of", AS_OF, "--wait", "1"]
        blocked = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert blocked.returncode == 5, blocked.stderr
    assert "wait" in blocked.stderr
