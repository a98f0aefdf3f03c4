"""Migrations step by step on both databases: every revision goes up and down one at a time, and a
populated database keeps its data when the newest revisions are taken down and put back."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from dynbooks.services.cycle import run_cycle
from dynbooks.store.migrate import alembic_config, downgrade, upgrade
from dynbooks.store.schema import account_roles, accounts, events
from tests.integration.helpers import World


def _revisions(url: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(url))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_every_revision_goes_up_and_down_one_step_at_a_time(db_url: str, tmp_path: Path) -> None:
    w = World(db_url, tmp_path)
    revisions = _revisions(db_url)
    assert len(revisions) >= 1
    downgrade(w.engine, "base")
    assert set(inspect(w.engine).get_table_names()) <= {"alembic_version"}
    seen: list[set[str]] = []
    for revision in revisions:
        upgrade(w.engine, revision)
        seen.append(set(inspect(w.engine).get_table_names()))
    for i in range(len(revisions) - 1, 0, -1):
        downgrade(w.engine, revisions[i - 1])
        assert set(inspect(w.engine).get_table_names()) == seen[i - 1]
    upgrade(w.engine)
    assert set(inspect(w.engine).get_table_names()) == seen[-1]


def test_a_populated_database_keeps_its_data_through_a_step_down_and_up(db_url: str, tmp_path: Path) -> None:
    w = World(db_url, tmp_path)
    w.load("reps", "rep_id,name,book_rule", ["R1,Rep 1,sdr", "R2,Rep 2,sdr"])
    w.load("accounts", "account_id,name,employees", [f"A{i},Co {i},{i * 300}" for i in range(10)])
    run_cycle(w.ctx())

    def counts() -> tuple[int, ...]:
        with w.engine.connect() as conn:
            return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                         for t in (accounts, account_roles, events))

    before = counts()
    revisions = _revisions(db_url)
    if len(revisions) > 1:
        downgrade(w.engine, revisions[0])
    upgrade(w.engine)
    assert counts() == before
    w.assert_state_equals_events()
