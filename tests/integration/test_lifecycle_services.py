"""The lifecycle through the services, on SQLite and PostgreSQL: every route of SPEC §3 and §5."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from dynbooks.domain.errors import InvalidInput, NotFound, Refused
from dynbooks.services import admin, reads
from dynbooks.services.cycle import run_cycle
from dynbooks.services.returns import return_account

from .helpers import World

DAY = date(2026, 3, 2)


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> World:
    w = World(db_url, tmp_path)
    w.load("reps", "rep_id,name,book_rule,team", ["S1,Sam,sdr,t1", "S2,Sue,sdr,t1", "A1,Ada,ae,t9", "A2,Abe,ae,t9"])
    rows = [f"C{i:02d},Company {i},{1000 + i * 100},{90 - i}" for i in range(12)]
    w.load("accounts", "account_id,name,employees,fit_score", rows)
    return w


def test_a_cycle_deals_a_snake_and_never_overfills(world: World) -> None:
    result = run_cycle(world.ctx())
    owners = world.owners()
    assert len(result.distributed) == 6 + 4  # 2 SDRs × 3 and 2 AEs × 2
    assert [owners[f"C{i:02d}"] for i in range(6)] == ["S1", "S2", "S2", "S1", "S1", "S2"]
    assert sorted(world.owners("ae").values()) == ["A1", "A1", "A2", "A2"]
    world.assert_state_equals_events()


def test_the_dry_run_is_exactly_what_the_commit_then_does(world: World) -> None:
    preview = run_cycle(world.ctx(), dry_run=True)
    assert world.owners() == {}
    committed = run_cycle(world.ctx())
    assert [(a.account_id, a.role, a.rep_id) for a in preview.distributed] == [
        (a.account_id, a.role, a.rep_id) for a in committed.distributed
    ]


def test_a_return_rests_the_account_and_replaces_it_at_once(world: World) -> None:
    run_cycle(world.ctx())
    answer = return_account(world.ctx(), "C00", "not_interested", rep_id="S1")
    assert answer["route"] == "rest" and answer["state"] == "resting"
    assert answer["rest_until"] == (DAY + timedelta(days=90)).isoformat()
    assert answer["replacement"] == "C06"  # the best ready account left
    assert world.owners()["C06"] == "S1"
    world.assert_state_equals_events()


def test_a_returned_account_is_not_dealt_back_to_the_same_rep_within_cooldown(world: World) -> None:
    run_cycle(world.ctx())
    return_account(world.ctx(), "C00", "no_relevant_contact", rep_id="S1")
    later = DAY + timedelta(days=91)
    release_day = DAY + timedelta(days=89)
    run_cycle(world.ctx(release_day))
    assert world.row("C00").state == "resting"
    result = run_cycle(world.ctx(later))
    assert any(m.account_id == "C00" for m in result.released)


def test_returning_someone_elses_account_is_refused(world: World) -> None:
    run_cycle(world.ctx())
    with pytest.raises(Refused):
        return_account(world.ctx(), "C00", "not_interested", rep_id="S2")
    with pytest.raises(InvalidInput):
        return_account(world.ctx(), "C00", "no_such_reason", rep_id="S1")


def test_return_limits_refuse_the_third_not_interested_in_a_week(world: World) -> None:
    run_cycle(world.ctx())
    book = [a for a, r in world.owners().items() if r == "S1"]
    return_account(world.ctx(), book[0], "not_interested", rep_id="S1")
    return_account(world.ctx(), book[1], "not_interested", rep_id="S1")
    with pytest.raises(Refused, match="return limit"):
        return_account(world.ctx(), book[2], "not_interested", rep_id="S1")


def test_get_back_to_me_needs_a_date_and_comes_back_with_a_timing_boost(world: World) -> None:
    run_cycle(world.ctx())
    with pytest.raises(Refused):
        return_account(world.ctx(), "C00", "get_back_to_me", rep_id="S1")
    until = DAY + timedelta(days=20)
    return_account(world.ctx(), "C00", "get_back_to_me", rep_id="S1", until=until)
    assert world.row("C00").rest_until == until
    result = run_cycle(world.ctx(until))
    assert [m.account_id for m in result.released] == ["C00"]
    explained = reads.explain(world.ctx(until), "C00")
    assert explained["priority"] == pytest.approx(90 + 10)


def test_review_routes_go_to_the_queue_and_can_be_reintroduced(world: World) -> None:
    run_cycle(world.ctx())
    return_account(world.ctx(), "C01", "bad_data", rep_id="S2")
    queue = admin.review_list(world.ctx())
    assert [(q["account_id"], q["reason"]) for q in queue] == [("C01", "bad_data")]
    admin.fix(world.ctx(), "C01", ["name=Company One Inc"])
    admin.reintroduce(world.ctx(), "C01")
    assert world.row("C01") is None
    world.assert_state_equals_events()


def test_out_of_business_retires_every_role(world: World) -> None:
    run_cycle(world.ctx())
    return_account(world.ctx(), "C00", "out_of_business", rep_id="S1")
    assert "C00" not in world.owners("ae")
    states = {(r[0], r[1]): r[2] for r in list(reads.export_state(world.ctx()))[1:]}
    assert states[("C00", "sdr")] == "retired" and states[("C00", "ae")] == "retired"
    admin.reactivate(world.ctx(), "C00")
    assert run_cycle(world.ctx()).distributed  # back in the pool, dealt again


def test_converted_accounts_are_handed_off_to_the_ae_rule_round_robin(world: World) -> None:
    run_cycle(world.ctx())
    sdr_book = sorted(a for a, r in world.owners().items() if r == "S1" and a not in world.owners("ae"))
    assert sdr_book, "an SDR account not yet with an AE"
    answer = return_account(world.ctx(), sdr_book[0], "converted", rep_id="S1")
    assert answer["handed_off_to"] in ("A1", "A2")
    assert world.row(sdr_book[0]).state == "resting"
    assert world.owners("ae")[sdr_book[0]] == answer["handed_off_to"]
    # The AEs were full: when_full = "swap" bumped an unworked account to keep the book at capacity.
    assert sum(1 for r in world.owners("ae").values() if r == answer["handed_off_to"]) == 2
    world.assert_state_equals_events()


def test_unworked_accounts_are_retrieved_and_activity_keeps_them(world: World) -> None:
    run_cycle(world.ctx())
    world.load("activities", "account_id,rep_id,type,occurred_at", ["C00,S1,call,2026-03-20"])
    result = run_cycle(world.ctx(DAY + timedelta(days=30)))
    retrieved = {m.account_id for m in result.retrieved if m.role == "sdr"}
    assert "C00" not in retrieved
    assert {"C01", "C02", "C03", "C04", "C05"} <= retrieved
    assert world.row("C01").state == "resting"
    world.assert_state_equals_events()


def test_an_away_rep_keeps_the_book_and_the_clock_stops(world: World) -> None:
    run_cycle(world.ctx())
    world.load("reps", "rep_id,name,book_rule,unavailable_until", ["S2,Sue,sdr,2026-03-25"])
    result = run_cycle(world.ctx(DAY + timedelta(days=30)))
    assert not [m for m in result.retrieved if m.rep_id == "S2"]
    assert all(m.rep_id == "S1" for m in result.retrieved if m.role == "sdr")


def test_hoarding_ae_accounts_without_open_opportunity_are_retrieved(world: World) -> None:
    run_cycle(world.ctx())
    ae = world.owners("ae")
    kept = sorted(ae)[0]
    world.load("opportunities", "opportunity_id,account_id,rep_id,created_at", [f"O1,{kept},{ae[kept]},2026-03-03"])
    result = run_cycle(world.ctx(DAY + timedelta(days=30)))
    hoarded = {m.account_id for m in result.retrieved if m.reason == "hoarding"}
    assert hoarded == set(ae) - {kept}


def test_a_hand_raise_routes_the_account_at_once_and_swaps_when_full(world: World) -> None:
    run_cycle(world.ctx())
    answer = world.load("signals", "account_id,type,strength,occurred_at", ["C11,demo_request,50,2026-03-02"])
    assert answer["routed"] == 2  # C11 matches the SDR rule and the AE rule (employees >= 1000)
    owner = world.owners()["C11"]
    bumped = [e for e in reads.history(world.ctx(), "C11") if e["type"] == "distributed"]
    assert bumped[0]["reason"] == "hand_raise"
    assert sum(1 for r in world.owners().values() if r == owner) == 3  # swap kept the book at capacity


def test_deactivating_a_rep_redistributes_the_book_without_rest(world: World) -> None:
    world.load("reps", "rep_id,name,book_rule", ["S3,Sid,sdr"])
    run_cycle(world.ctx())
    before = {a for a, r in world.owners().items() if r == "S3"}
    answer = world.load("reps", "rep_id,name,book_rule,active", ["S3,Sid,sdr,false"])
    assert "S3" not in world.owners().values()
    assert answer["distributed"] == 0  # the others are full: the book waits in the pool, not resting
    assert all(world.row(a) is None for a in before)


def test_held_accounts_leave_every_book_and_come_back(world: World) -> None:
    run_cycle(world.ctx())
    admin.hold(world.ctx(), "C00")
    assert "C00" not in world.owners()
    assert run_cycle(world.ctx()).distributed  # S1 gets a replacement at the next cycle
    admin.release_hold(world.ctx(), "C00")
    world.assert_state_equals_events()


def test_a_bad_row_imports_nothing_and_names_line_and_column(world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        world.load("accounts", "account_id,name,employees", ["Y1,Co,12", "Y2,Co,twelve"])
    assert any("line 3, column employees" in d for d in caught.value.details)
    with pytest.raises(NotFound):
        reads.explain(world.ctx(), "Y1")


def test_skip_invalid_lands_good_rows_and_writes_rejects(world: World, tmp_path: Path) -> None:
    rejects = tmp_path / "bad.csv"
    answer = world.load("accounts", "account_id,name,employees", ["Y1,Co,12", "Y2,Co,twelve"],
                        skip_invalid=True, rejects=rejects)
    assert answer["inserted"] == 1 and answer["rejected"] == 1
    assert "twelve" in rejects.read_text()


def test_reimporting_the_same_file_changes_nothing(world: World) -> None:
    rows = [f"C{i:02d},Company {i},{1000 + i * 100},{90 - i}" for i in range(12)]
    answer = world.load("accounts", "account_id,name,employees,fit_score", rows)
    assert answer == answer | {"inserted": 0, "updated": 0, "unchanged": 12}


def test_likely_duplicates_go_to_review_instead_of_being_dealt(world: World) -> None:
    world.load("accounts", "account_id,name,domain", ["D1,Acme,https://www.acme.com/", "D2,ACME Inc,acme.com"])
    run_cycle(world.ctx())
    assert world.row("D2").state == "review"
    assert "D2" not in world.owners()


SEGMENTED = """
[[book_rule]]
name = "sdr"
role = "sdr"
target_size = 3
retrieve_after_days = 30
rest_days = 60
cooldown_days = 90
segments = [{ name = "hot", size = 1, filter = { industry = "tech" } }]
filter = {}
"""


def test_a_swap_bumps_an_account_of_the_segment_the_hand_raise_takes_room_in(db_url: str, tmp_path: Path) -> None:
    # Found by the lifecycle state machine: the victim came from another segment, which left the
    # incoming account's segment over capacity.
    world = World(db_url, tmp_path, SEGMENTED)
    world.load("reps", "rep_id,name,book_rule", ["S1,Sam,sdr"])
    # The tech account has the lowest fit: the victim in the whole book, but not in the other segment.
    world.load("accounts", "account_id,name,fit_score,industry",
               ["T1,Tech,10,tech", "R1,Retail 1,90,retail", "R2,Retail 2,80,retail", "R3,Retail 3,70,retail"])
    run_cycle(world.ctx())
    assert sorted(world.owners()) == ["R1", "R2", "T1"]  # full: 1 in hot, 2 in the rest
    answer = world.load("signals", "account_id,type,strength,occurred_at", ["R3,demo_request,50,2026-03-02"])
    assert answer["routed"] == 1
    assert sorted(world.owners()) == ["R1", "R3", "T1"]  # R2, the rest's lowest, made room; T1 stays
