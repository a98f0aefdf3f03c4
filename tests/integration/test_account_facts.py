"""The facts kept on the account (services/facts.py), on SQLite and PostgreSQL: after imports, webhook
deliveries, a cycle and its undo they equal what the activity and opportunity rows say, computed here from
scratch in Python (the latest meaningful activity by anyone; the oldest open opportunity's creation)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from dynbooks.services.cycle import run_cycle
from dynbooks.services.facts import refresh_all
from dynbooks.services.undo import undo_cycle
from dynbooks.services.webhooks import ingest_rows
from dynbooks.store.schema import accounts, activities, opportunities

from .helpers import World

ACT = "activity_id,account_id,rep_id,type,occurred_at"
OPP = "opportunity_id,account_id,rep_id,created_at,stage,amount,is_closed,is_won,closed_at"


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> World:
    w = World(db_url, tmp_path)
    w.load("reps", "rep_id,name,book_rule,team", ["S1,Sam,sdr,t1", "S2,Sue,sdr,t1", "A1,Ada,ae,t9"])
    w.load("accounts", "account_id,name,employees,fit_score", [f"C{i},Company {i},{900 + i * 100},{50 + i}"
                                                                for i in range(6)])
    return w


def kept(world: World) -> dict[str, tuple[Any, Any]]:
    with world.engine.connect() as conn:
        return {a: (last, first) for a, last, first in conn.execute(
            select(accounts.c.account_id, accounts.c.last_meaningful_at, accounts.c.open_opportunity_at))}


def from_scratch(world: World) -> dict[str, tuple[Any, Any]]:
    meaningful = set(world.config.activity.meaningful_types)
    with world.engine.connect() as conn:
        ids = conn.execute(select(accounts.c.account_id)).scalars()
        out: dict[str, tuple[Any, Any]] = {a: (None, None) for a in ids}
        for a, kind, when in conn.execute(select(activities.c.account_id, activities.c.type, activities.c.occurred_at)):
            if kind in meaningful and (out[a][0] is None or when > out[a][0]):
                out[a] = (when, out[a][1])
        for a, closed, created in conn.execute(select(opportunities.c.account_id, opportunities.c.is_closed,
                                                      opportunities.c.created_at)):
            if not closed and (out[a][1] is None or created < out[a][1]):
                out[a] = (out[a][0], created)
    return out


def test_imported_activities_and_opportunities_set_the_facts_and_a_changed_row_moves_them_back(world: World) -> None:
    world.load("activities", ACT, [
        "x1,C0,S1,call,2026-02-01T10:00:00Z", "x2,C0,S2,email,2026-02-20T09:00:00Z",
        "x3,C0,S1,note,2026-02-28T09:00:00Z",  # not meaningful: does not count
        "x4,C1,S1,note,2026-02-27T09:00:00Z", "x5,C2,A1,meeting,2026-01-15T08:30:00Z"])
    world.load("opportunities", OPP, [
        "o1,C2,A1,2026-02-10T00:00:00Z,open,100,false,false,", "o2,C2,A1,2026-01-05T00:00:00Z,open,50,false,false,",
        "o3,C3,A1,2026-01-05T00:00:00Z,won,80,true,true,2026-02-01T00:00:00Z"])
    facts = kept(world)
    assert facts["C0"] == (datetime(2026, 2, 20, 9), None)
    assert facts["C1"] == (None, None)
    assert facts["C2"] == (datetime(2026, 1, 15, 8, 30), datetime(2026, 1, 5))
    assert facts["C3"] == (None, None)  # its only opportunity is closed
    assert facts == from_scratch(world)
    # The latest activity re-imported as a non-meaningful type, the oldest open opportunity closed.
    world.load("activities", ACT, ["x2,C0,S2,note,2026-02-20T09:00:00Z"])
    world.load("opportunities", OPP, ["o2,C2,A1,2026-01-05T00:00:00Z,lost,50,true,false,2026-02-15T00:00:00Z"])
    facts = kept(world)
    assert facts["C0"] == (datetime(2026, 2, 1, 10), None)
    assert facts["C2"] == (datetime(2026, 1, 15, 8, 30), datetime(2026, 2, 10))
    assert facts == from_scratch(world)


def test_a_webhook_delivery_of_activities_moves_the_facts(world: World) -> None:
    world.load("activities", ACT, ["x1,C4,S1,call,2026-02-01T10:00:00Z"])
    ingest_rows(world.ctx(), "activities", [
        {"activity_id": "w1", "account_id": "C4", "rep_id": "S2", "type": "meeting",
         "occurred_at": "2026-03-01T15:00:00Z"},
        {"activity_id": "w2", "account_id": "C5", "rep_id": "S2", "type": "note",
         "occurred_at": "2026-03-01T16:00:00Z"},
    ])
    facts = kept(world)
    assert facts["C4"] == (datetime(2026, 3, 1, 15), None)
    assert facts["C5"] == (None, None)
    assert facts == from_scratch(world)


def test_a_cycle_and_its_undo_leave_the_facts_as_the_rows_say(world: World) -> None:
    world.load("activities", ACT, ["x1,C0,S1,call,2026-02-01T10:00:00Z", "x2,C3,S2,meeting,2026-02-11T10:00:00Z"])
    world.load("opportunities", OPP, ["o1,C5,A1,2026-02-10T00:00:00Z,open,100,false,false,"])
    before = kept(world)
    run_cycle(world.ctx())
    assert kept(world) == before == from_scratch(world)
    undo_cycle(world.ctx())
    assert kept(world) == before == from_scratch(world)


def test_refresh_all_recomputes_facts_written_past_the_services(world: World) -> None:
    world.load("activities", ACT, ["x1,C0,S1,call,2026-02-01T10:00:00Z"])
    world.load("opportunities", OPP, ["o1,C1,A1,2026-02-10T00:00:00Z,open,100,false,false,"])
    with world.engine.begin() as conn:  # a tool that writes the tables directly, and stale facts
        conn.execute(update(accounts).values(last_meaningful_at=datetime(2020, 1, 1), open_opportunity_at=None))
        conn.execute(activities.insert().values(activity_id="raw", account_id="C2", rep_id="S1", type="email",
                                                occurred_at=datetime.combine(date(2026, 2, 3), datetime.min.time())))
    assert kept(world) != from_scratch(world)
    with world.engine.begin() as conn:
        refresh_all(conn, world.config)
    assert kept(world) == from_scratch(world)
    assert kept(world)["C2"] == (datetime(2026, 2, 3), None)
