"""Idempotency-Key on returns and cycles, and undo of the last cycle over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dynbooks.store.schema import cycles, events
from tests.api.world import Org


def auth(org: Org, who: str, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.tokens[who]}"} | ({"Idempotency-Key": key} if key else {})


def count(org: Org, query: object) -> int:
    with org.world.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


def test_a_replayed_return_answers_the_first_answer_and_takes_no_second_replacement(
        client: TestClient, org: Org) -> None:
    account = sorted(a for a, r in org.world.owners().items() if r == "S1")[0]
    first = client.post(f"/api/accounts/{account}/return", json={"reason": "not_interested"},
                        headers=auth(org, "rep", "ret-1"))
    assert first.status_code == 200, first.text
    assert first.json()["replayed"] is False and first.json()["replacement"] is not None
    book = sorted(a for a, r in org.world.owners().items() if r == "S1")
    again = client.post(f"/api/accounts/{account}/return", json={"reason": "not_interested"},
                        headers=auth(org, "rep", "ret-1"))
    assert again.status_code == 200, again.text
    assert again.json() == first.json() | {"replayed": True}
    assert sorted(a for a, r in org.world.owners().items() if r == "S1") == book
    replacements = select(func.count()).select_from(events).where(events.c.reason == "replacement")
    returns = select(func.count()).select_from(events).where(events.c.type == "returned")
    assert count(org, replacements) == 1 and count(org, returns) == 1
    other = client.post(f"/api/accounts/{account}/return", json={"reason": "bad_data"},
                        headers=auth(org, "rep", "ret-1"))
    assert other.status_code == 422 and "different request" in other.json()["error"]["message"]
    # Without the key the repeat is a new request: the account is no longer in S1's book.
    assert client.post(f"/api/accounts/{account}/return", json={"reason": "not_interested"},
                       headers=auth(org, "rep")).status_code == 404


def test_a_key_belongs_to_its_user(client: TestClient, org: Org) -> None:
    mine = sorted(a for a, r in org.world.owners().items() if r == "S1")[0]
    assert client.post(f"/api/accounts/{mine}/return", json={"reason": "not_interested"},
                       headers=auth(org, "rep", "k")).status_code == 200
    theirs = sorted(a for a, r in org.world.owners().items() if r == "S3")[0]
    answer = client.post(f"/api/accounts/{theirs}/return", json={"reason": "not_interested"},
                         headers=auth(org, "other_rep", "k"))
    assert answer.status_code == 200 and answer.json()["replayed"] is False


def test_a_replayed_cycle_runs_once(client: TestClient, org: Org) -> None:
    ran = select(func.count()).select_from(cycles)
    before = count(org, ran)
    first = client.post("/api/cycles", json={"dry_run": False}, headers=auth(org, "admin", "cyc-1"))
    assert first.status_code == 200 and first.json()["replayed"] is False
    again = client.post("/api/cycles", json={"dry_run": False}, headers=auth(org, "admin", "cyc-1"))
    assert again.json() == first.json() | {"replayed": True}
    assert count(org, ran) == before + 1
    assert client.post("/api/cycles", json={"dry_run": True},
                       headers=auth(org, "admin", "cyc-1")).status_code == 422


def test_an_admin_undoes_the_last_cycle_over_http(client: TestClient, org: Org) -> None:
    owned = org.world.owners()
    assert len(owned) == 9
    assert client.post("/api/cycles/last/undo", headers=auth(org, "rep")).status_code == 403
    preview = client.post("/api/cycles/last/undo", json={"dry_run": True}, headers=auth(org, "admin"))
    assert preview.status_code == 200 and preview.json()["distributed"] == 9
    assert org.world.owners() == owned
    done = client.post("/api/cycles/last/undo", headers=auth(org, "admin"))
    assert done.status_code == 200, done.text
    assert done.json()["dry_run"] is False and len(done.json()["changes"]) == 9
    assert org.world.owners() == {}
    again = client.post(f"/api/cycles/{done.json()['cycle_id']}/undo", headers=auth(org, "admin"))
    assert again.status_code == 409 and "already undone" in again.json()["error"]["message"]
    assert client.post("/api/cycles/nope/undo", headers=auth(org, "admin")).status_code == 404


def test_a_return_since_the_cycle_makes_the_undo_409_with_the_reasons(client: TestClient, org: Org) -> None:
    account = sorted(a for a, r in org.world.owners().items() if r == "S1")[0]
    client.post(f"/api/accounts/{account}/return", json={"reason": "not_interested"}, headers=auth(org, "rep"))
    refused = client.post("/api/cycles/last/undo", headers=auth(org, "admin"))
    assert refused.status_code == 409
    assert any(f"returned {account}" in d for d in refused.json()["error"]["details"])


def test_the_pool_api_filters_with_the_book_rule_condition_model(client: TestClient, org: Org) -> None:
    org.world.load("accounts", "account_id,name,employees,fit_score,industry,country",
                   ["D01,Delta Retail,5000,50,Retail,DE", "D02,Delta Two,20,40,Retail,FR"])
    h = auth(org, "admin")
    every = client.get("/api/pool", headers=h).json()
    assert every["roles"][0]["ready"] == 5 and every["total"] == 5
    assert [r["account_id"] for r in every["rows"]] == ["C09", "C10", "C11", "D01", "D02"]  # best priority first
    some = client.get("/api/pool?industry=Retail,Mining&country=DE&employees_min=100", headers=h).json()
    assert some["filter"] == {"industry": ["Retail", "Mining"], "country": ["DE"], "employees": {"gte": 100.0}}
    assert [r["account_id"] for r in some["rows"]] == ["D01"]
    paged = client.get("/api/pool?per_page=2&page=3", headers=h).json()
    assert paged["pages"] == 3 and [r["account_id"] for r in paged["rows"]] == ["D02"]
    owned = client.get("/api/pool?status=owned&q=COMPANY 1&fit_max=89", headers=h).json()
    assert [(r["account_id"], r["rep_id"] is not None) for r in owned["rows"]] == [("C01", True)]
    assert client.get("/api/pool?rule=nope", headers=h).status_code == 422
    assert client.get("/api/pool?status=lost", headers=h).status_code == 422
