"""Undo of the last cycle, on SQLite and PostgreSQL: the state goes back to what it was before the cycle,
by events (the rebuilt state equals the tables), and what it must refuse."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dynbooks.domain.errors import NotFound, Refused
from dynbooks.services.cycle import run_cycle
from dynbooks.services.cycle_history import cycle_history
from dynbooks.services.rebuild import compare
from dynbooks.services.returns import return_account
from dynbooks.services.undo import undo_cycle
from dynbooks.store.schema import account_roles, assignments, events, signals

from .helpers import World

DAY = date(2026, 3, 2)


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> World:
    w = World(db_url, tmp_path)
    w.load("reps", "rep_id,name,book_rule,team", ["S1,Sam,sdr,t1", "S2,Sue,sdr,t1", "A1,Ada,ae,t9", "A2,Abe,ae,t9"])
    rows = [f"C{i:02d},Company {i},{1000 + i * 100},{90 - i}" for i in range(12)]
    w.load("accounts", "account_id,name,employees,fit_score", rows)
    return w


def state(world: World) -> tuple[list[Any], list[Any]]:
    """The ownership rows (all but ``last_activity_at``, which a rest does not keep) and the open ledger spans."""
    with world.engine.connect() as conn:
        cols = [c for c in account_roles.c if c.name != "last_activity_at"]
        rows = sorted(tuple(r) for r in conn.execute(select(*cols)))
        spans = sorted(tuple(r) for r in conn.execute(
            select(assignments.c.account_id, assignments.c.role, assignments.c.rep_id, assignments.c.rule,
                   assignments.c.segment, assignments.c.assigned_at, assignments.c.cycle_id, assignments.c.how)
            .where(assignments.c.ended_at.is_(None))))
    return rows, spans


def consistent(world: World) -> None:
    with world.engine.connect() as conn:
        assert compare(conn) == []


def test_undoing_the_first_cycle_empties_the_books_and_keeps_the_history(world: World) -> None:
    before = state(world)
    done = run_cycle(world.ctx())
    undone = undo_cycle(world.ctx())
    assert undone.cycle_id == done.cycle_id
    assert undone.summary()["distributed"] == len(done.distributed) == 10
    assert state(world) == before
    consistent(world)
    with world.engine.connect() as conn:
        kinds = [e.type for e in conn.execute(select(events.c.type).where(events.c.cycle_id == done.cycle_id))]
    assert kinds.count("distributed") == 10 and kinds.count("undone") == 10  # nothing deleted from history
    [row] = cycle_history(world.ctx())
    assert row["undone_at"] is not None and row["undoable"] is False
    with pytest.raises(Refused, match="no cycle to undo"):
        undo_cycle(world.ctx())


def test_undoing_a_retrieving_cycle_gives_every_account_back_as_it_was(world: World) -> None:
    run_cycle(world.ctx())
    after_first = state(world)
    later = world.ctx(DAY + timedelta(days=61))  # nobody worked anything: every SDR and AE book is retrieved
    second = run_cycle(later)
    assert second.retrieved and second.distributed
    undone = undo_cycle(later)
    assert undone.summary()["retrieved"] == len(second.retrieved)
    assert state(world) == after_first
    consistent(world)
    # The same cycle again does the same thing: the undo left no trace in what the allocator sees.
    again = run_cycle(later)
    assert [(m.account_id, m.rep_id) for m in again.retrieved] == [(m.account_id, m.rep_id) for m in second.retrieved]
    assert [(a.account_id, a.rep_id) for a in again.distributed] == [
        (a.account_id, a.rep_id) for a in second.distributed]
    consistent(world)


def test_undoing_a_release_rests_the_account_again_and_takes_back_its_timing_signal(world: World) -> None:
    run_cycle(world.ctx())
    until = DAY + timedelta(days=5)
    return_account(world.ctx(), "C00", "get_back_to_me", rep_id="S1", until=until)
    before = state(world)
    cycle = run_cycle(world.ctx(until))
    assert [m.account_id for m in cycle.released] == ["C00"]
    with world.engine.connect() as conn:
        assert conn.execute(select(signals.c.signal_id)).scalars().all() == [f"gbtm:C00:{until.isoformat()}"]
    undo_cycle(world.ctx(until))
    assert state(world) == before
    assert world.row("C00").rest_until == until
    with world.engine.connect() as conn:
        assert conn.execute(select(signals.c.signal_id)).scalars().all() == []
    consistent(world)


def test_a_dry_run_shows_the_undo_and_writes_nothing(world: World) -> None:
    run_cycle(world.ctx())
    before = state(world)
    preview = undo_cycle(world.ctx(), dry_run=True)
    assert preview.dry_run and len(preview.changes()) == 10
    assert state(world) == before
    assert cycle_history(world.ctx())[0]["undone_at"] is None


def test_a_return_since_the_cycle_refuses_the_undo(world: World) -> None:
    run_cycle(world.ctx())
    return_account(world.ctx(), "C00", "not_interested", rep_id="S1")
    before = state(world)
    with pytest.raises(Refused, match="changed since") as caught:
        undo_cycle(world.ctx())
    assert any("returned C00" in d for d in caught.value.details)
    assert state(world) == before


def test_a_meaningful_activity_of_the_new_owner_refuses_the_undo(world: World) -> None:
    run_cycle(world.ctx())
    world.load("activities", "activity_id,account_id,rep_id,type,occurred_at", ["X1,C00,S1,call,2026-03-02"])
    with pytest.raises(Refused) as caught:
        undo_cycle(world.ctx())
    assert caught.value.details == ["S1 worked C00 (call, 2026-03-02)"]


def test_only_the_latest_cycle_standing_can_be_undone(world: World) -> None:
    first = run_cycle(world.ctx())
    second = run_cycle(world.ctx())  # same stamp: the cycles' numbers order them
    with pytest.raises(Refused, match="not the latest"):
        undo_cycle(world.ctx(), first.cycle_id)
    with pytest.raises(NotFound):
        undo_cycle(world.ctx(), "nope")
    assert undo_cycle(world.ctx(), second.cycle_id).cycle_id == second.cycle_id
    with pytest.raises(Refused, match="already undone"):
        undo_cycle(world.ctx(), second.cycle_id)
    # With the second undone, the first is the latest standing; the second moved none of its accounts.
    assert undo_cycle(world.ctx()).cycle_id == first.cycle_id
    assert world.owners() == {}
    consistent(world)
