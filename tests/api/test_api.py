"""The HTTP API of SPEC §9 on SQLite and PostgreSQL: the contract's paths, tokens, 401/403/404, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dynbooks.store.schema import activities, idempotency
from tests.api.world import Org, build_org


def auth(org: Org, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.tokens[who]}"}


def mine(org: Org, rep: str) -> list[str]:
    return sorted(a for a, r in org.world.owners().items() if r == rep)


def test_health_needs_no_login_and_the_openapi_schema_lists_the_contract(client: TestClient) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/health", "/api/books/{rep_id}", "/api/accounts/{account_id}",
                 "/api/accounts/{account_id}/return", "/api/cycles", "/api/webhooks/activities",
                 "/api/webhooks/signals"):
        assert path in paths


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/books/S1"), ("GET", "/api/accounts/C00"), ("POST", "/api/accounts/C00/return"),
    ("POST", "/api/cycles"), ("POST", "/api/webhooks/activities"), ("POST", "/api/webhooks/signals"),
])
def test_no_token_or_a_bad_token_answers_401(client: TestClient, org: Org, method: str, path: str) -> None:
    assert client.request(method, path, json={}).status_code == 401
    bad = org.tokens["admin"][:-4] + "AAAA"
    for header in (f"Bearer {bad}", "Bearer nonsense", "Basic abc"):
        assert client.request(method, path, json={}, headers={"Authorization": header}).status_code == 401


def test_a_rep_reads_their_own_book_with_the_new_accounts_marked(client: TestClient, org: Org) -> None:
    answer = client.get("/api/books/S1", headers=auth(org, "rep"))
    assert answer.status_code == 200
    body = answer.json()
    assert sorted(a["account_id"] for a in body["accounts"]) == mine(org, "S1")
    assert all(a["new"] for a in body["accounts"])


def test_a_rep_gets_404_for_another_reps_book_and_accounts(client: TestClient, org: Org) -> None:
    other = mine(org, "S2")[0]
    for path in ("/api/books/S2", "/api/books/NOBODY", f"/api/accounts/{other}", "/api/accounts/NOPE"):
        answer = client.get(path, headers=auth(org, "rep"))
        assert answer.status_code == 404, path
    # the same words for an existing and a missing id: nothing leaks
    assert "does not exist" in client.get(f"/api/accounts/{other}", headers=auth(org, "rep")).json()["error"]["message"]
    assert client.post(f"/api/accounts/{other}/return", json={"reason": "not_interested"},
                       headers=auth(org, "rep")).status_code == 404


def test_a_manager_sees_their_team_only(client: TestClient, org: Org) -> None:
    h = auth(org, "manager")
    assert client.get("/api/books/S1", headers=h).status_code == 200
    assert client.get("/api/books/S2", headers=h).status_code == 200
    assert client.get("/api/books/S3", headers=h).status_code == 404
    assert client.get(f"/api/accounts/{mine(org, 'S2')[0]}", headers=h).status_code == 200
    assert client.get(f"/api/accounts/{mine(org, 'S3')[0]}", headers=h).status_code == 404
    pool = sorted(set(f"C{i:02d}" for i in range(12)) - set(org.world.owners()))[0]
    assert client.get(f"/api/accounts/{pool}", headers=h).status_code == 404
    assert client.get(f"/api/accounts/{pool}", headers=auth(org, "admin")).status_code == 200


def test_the_account_page_has_firmographics_roles_and_history(client: TestClient, org: Org) -> None:
    account = mine(org, "S1")[0]
    body = client.get(f"/api/accounts/{account}", headers=auth(org, "rep")).json()
    assert body["firmographics"]["industry"] == "Software"
    assert body["roles"][0]["state"] == "owned"
    assert [e["type"] for e in body["history"]] == ["distributed"]


def test_a_rep_returns_an_account_and_the_answer_names_the_replacement(client: TestClient, org: Org) -> None:
    account = mine(org, "S1")[0]
    answer = client.post(f"/api/accounts/{account}/return", json={"reason": "not_interested", "note": "no budget"},
                         headers=auth(org, "rep"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {"account_id", "route", "replacement"} <= set(body)
    assert body["route"] == "rest" and body["state"] == "resting" and body["rep_id"] == "S1"
    assert body["replacement"] is not None and org.world.owners()[body["replacement"]] == "S1"
    assert client.get(f"/api/accounts/{account}", headers=auth(org, "rep")).status_code == 404  # no longer theirs


def test_return_errors_have_their_http_status(client: TestClient, org: Org) -> None:
    account = mine(org, "S1")[0]
    h = auth(org, "rep")
    assert client.post(f"/api/accounts/{account}/return", json={"reason": "get_back_to_me"},
                       headers=h).status_code == 422
    unknown = client.post(f"/api/accounts/{account}/return", json={"reason": "bored"}, headers=h)
    assert unknown.status_code == 422 and "unknown reason" in unknown.json()["error"]["message"]
    assert client.post(f"/api/accounts/{account}/return", json={"reason": "not_interested", "rep_id": "S2"},
                       headers=h).status_code == 404
    later = client.post(f"/api/accounts/{account}/return", json={"reason": "get_back_to_me", "until": "2026-01-01"},
                        headers=h)
    assert later.status_code == 409  # not after today: a rule says no
    ok = client.post(f"/api/accounts/{account}/return", json={"reason": "get_back_to_me", "until": "2026-06-01"},
                     headers=h)
    assert ok.status_code == 200 and ok.json()["rest_until"] == "2026-06-01"


def test_a_manager_returns_for_a_rep_of_their_team(client: TestClient, org: Org) -> None:
    account = mine(org, "S2")[0]
    answer = client.post(f"/api/accounts/{account}/return", json={"reason": "bad_data"}, headers=auth(org, "manager"))
    assert answer.status_code == 200 and answer.json()["state"] == "review" and answer.json()["rep_id"] == "S2"


def test_a_dry_run_cycle_writes_nothing_and_only_admins_run_cycles(client: TestClient, org: Org) -> None:
    client.post(f"/api/accounts/{mine(org, 'S1')[0]}/return", json={"reason": "out_of_business"},
                headers=auth(org, "rep"))
    before = org.world.owners()
    assert client.post("/api/cycles", json={"dry_run": True}, headers=auth(org, "rep")).status_code == 403
    assert client.post("/api/cycles", json={"dry_run": True}, headers=auth(org, "manager")).status_code == 403
    preview = client.post("/api/cycles", json={"dry_run": True}, headers=auth(org, "admin"))
    assert preview.status_code == 200 and preview.json()["dry_run"] is True
    assert org.world.owners() == before
    done = client.post("/api/cycles", json={}, headers=auth(org, "admin")).json()
    assert done["dry_run"] is False
    assert {k: done[k] for k in ("released", "retrieved", "distributed")} == {
        k: preview.json()[k] for k in ("released", "retrieved", "distributed")}


def test_a_token_without_the_scope_is_refused_with_403(org: Org) -> None:
    from dynbooks.services.auth import create_token

    read_only = create_token(org.world.ctx(), "s1@example.com", scopes=["read"])["token"]
    with TestClient(org.app()) as client:
        h = {"Authorization": f"Bearer {read_only}"}
        assert client.get("/api/books/S1", headers=h).status_code == 200
        assert client.post(f"/api/accounts/{mine(org, 'S1')[0]}/return", json={"reason": "not_interested"},
                           headers=h).status_code == 403


def count(org: Org, table: Any) -> int:
    with org.world.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_an_activity_webhook_moves_the_clock_and_a_replayed_key_has_no_second_effect(
        client: TestClient, org: Org) -> None:
    account = mine(org, "S1")[0]
    rows = [{"account_id": account, "rep_id": "S1", "type": "call", "occurred_at": "2026-03-02T10:00:00Z"}]
    h = auth(org, "admin") | {"Idempotency-Key": "delivery-1"}
    first = client.post("/api/webhooks/activities", json=rows, headers=h)
    assert first.status_code == 200, first.text
    assert first.json() | {"replayed": None} == {"inserted": 1, "updated": 0, "unchanged": 0, "rejected": 0,
                                                   "replayed": None}
    assert org.world.row(account).worked_at.isoformat().startswith("2026-03-02T10:00")
    again = client.post("/api/webhooks/activities", json=rows, headers=h)
    assert again.json() == first.json() | {"replayed": True}
    assert count(org, activities) == 1 and count(org, idempotency) == 1
    other = client.post("/api/webhooks/activities", json=rows + rows, headers=h)
    assert other.status_code == 422  # the same key with another body


def test_a_hand_raise_signal_routes_the_account_at_once(client: TestClient, org: Org) -> None:
    pool = sorted(set(f"C{i:02d}" for i in range(12)) - set(org.world.owners()))[-1]
    rows = [{"account_id": pool, "type": "demo_request", "strength": 5, "occurred_at": "2026-03-02",
             "signal_id": "sig-1"}]
    answer = client.post("/api/webhooks/signals", json=rows, headers=auth(org, "admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["routed"] == 1
    assert pool in org.world.owners()
    replay = client.post("/api/webhooks/signals", json=rows, headers=auth(org, "admin"))
    assert replay.json()["unchanged"] == 1 and replay.json()["routed"] == 0  # the event id dedupes too


def test_bad_webhook_rows_are_refused_whole_naming_row_and_column(client: TestClient, org: Org) -> None:
    account = mine(org, "S1")[0]
    rows = [{"account_id": account, "rep_id": "S1", "type": "call", "occurred_at": "2026-03-02"},
            {"account_id": account, "rep_id": "S1", "type": "call", "occurred_at": "yesterday"},
            {"account_id": "NOPE", "rep_id": "S1", "type": "call", "occurred_at": "2026-03-02"}]
    answer = client.post("/api/webhooks/activities", json=rows, headers=auth(org, "admin"))
    assert answer.status_code == 422
    details = answer.json()["error"]["details"]
    assert any(d.startswith("row 1, column occurred_at") for d in details)
    assert any(d.startswith("row 2, column account_id") for d in details)
    assert count(org, activities) == 0
    assert client.post("/api/webhooks/activities", json=rows[:1], headers=auth(org, "rep")).status_code == 403


def _sign(secret: str, body: bytes, at: int) -> dict[str, str]:
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Dynbooks-Timestamp": str(at), "X-Dynbooks-Signature": f"sha256={mac}",
            "Content-Type": "application/json"}


def test_signed_webhooks_need_a_good_signature_within_the_window(db_url: str, tmp_path: Path) -> None:
    org = build_org(db_url, tmp_path, webhook_secret="s" * 40)
    account = mine(org, "S1")[0]
    body = json.dumps([{"account_id": account, "rep_id": "S1", "type": "email",
                        "occurred_at": "2026-03-02"}]).encode()
    h = auth(org, "admin")
    now = int(time.time())
    with TestClient(org.app()) as client:
        post = lambda headers: client.post("/api/webhooks/activities", content=body, headers=h | headers)  # noqa: E731
        assert post({"Content-Type": "application/json"}).status_code == 401
        assert post(_sign("wrong" * 8, body, now)).status_code == 401
        assert post(_sign("s" * 40, body, now - 3600)).status_code == 401
        assert post(_sign("s" * 40, body, now)).status_code == 200


def test_the_other_cli_operations_answer_over_http_with_the_same_visibility(client: TestClient, org: Org) -> None:
    account = mine(org, "S1")[0]
    assert client.get(f"/api/accounts/{account}/history", headers=auth(org, "rep")).json()[0]["type"] == "distributed"
    why = client.get(f"/api/accounts/{account}/explain", headers=auth(org, "rep")).json()
    assert why["roles"][0]["state"] == "owned"
    assert client.get(f"/api/accounts/{account}/history", headers=auth(org, "other_rep")).status_code == 404
    report = client.get("/api/reports/balance", headers=auth(org, "manager")).json()
    assert {r["rep_id"] for r in report["rows"]} == {"S1", "S2"}  # narrowed to the manager's team
    assert client.get("/api/reports/balance", headers=auth(org, "rep")).status_code == 403
    assert client.get("/api/pool", headers=auth(org, "manager")).status_code == 403
    assert client.get("/api/pool?role=sdr", headers=auth(org, "admin")).json()["roles"][0]["ready"] == 3
    admin_h = auth(org, "admin")
    assert client.post(f"/api/accounts/{account}/hold", headers=admin_h).json()["state"] == "held"
    assert client.post(f"/api/accounts/{account}/hold", headers=admin_h).status_code == 409
    assert client.post(f"/api/accounts/{account}/release", headers=admin_h).json()["state"] == "pool"
    client.post(f"/api/accounts/{mine(org, 'S2')[0]}/return", json={"reason": "bad_data"}, headers=admin_h)
    queue = client.get("/api/review", headers=admin_h).json()
    assert len(queue) == 1
    flagged = queue[0]["account_id"]
    fixed = client.post(f"/api/review/{flagged}/fix", json={"set": {"domain": "acme.example"}}, headers=admin_h)
    assert fixed.json()["fixed"] == {"domain": "acme.example"}
    assert client.post(f"/api/review/{flagged}/fix", json={"set": {"status": "x"}}, headers=admin_h).status_code == 422
    assert client.post(f"/api/review/{flagged}/reintroduce", json={}, headers=admin_h).json()["state"] == "pool"
    assert client.post(f"/api/review/{flagged}/retire", headers=auth(org, "manager")).status_code == 403
