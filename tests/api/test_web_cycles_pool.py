"""The admin's cycle history with undo, the pool explorer and the market map page (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.test_web import csrf_of, sign_in
from tests.api.world import Org, build_org


@pytest.fixture
def org(db_url: str, tmp_path: Path) -> Org:
    return build_org(db_url, tmp_path)


@pytest.fixture
def app(org: Org) -> Iterator[TestClient]:
    with TestClient(org.app(), base_url="http://localhost", follow_redirects=False) as c:
        yield c


def test_the_admin_undoes_the_last_cycle_from_the_history(app: TestClient, org: Org) -> None:
    sign_in(app, "admin")
    page = app.get("/admin/cycles")
    assert page.status_code == 200 and "Undo this cycle" in page.text and "data-confirm" in page.text
    [cycle_id] = [line.split("/admin/cycles/")[1].split("/undo")[0] for line in page.text.splitlines()
                  if 'action="/admin/cycles/' in line]
    assert app.post(f"/admin/cycles/{cycle_id}/undo", data={"csrf_token": "wrong"}).status_code == 403
    assert org.world.owners() != {}
    done = app.post(f"/admin/cycles/{cycle_id}/undo", data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 303
    assert org.world.owners() == {}
    after = app.get(done.headers["location"])
    assert f"Cycle {cycle_id} undone: 9 distributed back to the pool" in after.text
    assert "undone " in after.text and "Undo this cycle" not in after.text


def test_a_refused_undo_shows_why(app: TestClient, org: Org) -> None:
    sign_in(app, "admin")
    page = app.get("/admin/cycles")
    cycle_id = page.text.split('action="/admin/cycles/')[1].split("/undo")[0]
    org.world.load("activities", "activity_id,account_id,rep_id,type,occurred_at", ["X1,C00,S1,call,2026-03-02"])
    refused = app.post(f"/admin/cycles/{cycle_id}/undo", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 409
    assert "S1 worked C00" in refused.text


def test_only_admins_see_the_history(app: TestClient) -> None:
    sign_in(app, "manager")
    assert app.get("/admin/cycles").status_code == 404


def test_the_pool_explorer_filters_pages_and_sorts_by_priority(app: TestClient, org: Org) -> None:
    org.world.load("accounts", "account_id,name,employees,fit_score,industry,country",
                   ["D01,Delta Retail,5000,50,Retail,DE", "D02,Delta Two,20,40,Retail,FR"])
    sign_in(app, "admin")
    page = app.get("/admin/pool?role=sdr")
    assert page.status_code == 200 and "5 ready" in page.text and 'hx-get="/admin/pool"' in page.text
    rows = page.text.split('id="pool-rows"')[1]
    assert [r.split('"')[0] for r in rows.split('data-account="')[1:]] == ["C09", "C10", "C11", "D01", "D02"]
    table = app.get("/admin/pool?role=sdr&industry=Retail&employees_min=1000", headers={"HX-Request": "true",
                                                                                      "HX-Target": "pool-table"})
    assert "<h1>" not in table.text  # the fragment only
    assert 'data-account="D01"' in table.text and 'data-account="D02"' not in table.text
    assert "1 account in sdr" in table.text
    owned = app.get("/admin/pool?role=sdr&status=owned&q=company 1", headers={"HX-Request": "true",
                                                                             "HX-Target": "pool-table"})
    assert "1 account in sdr" in owned.text and 'data-account="C01"' in owned.text  # C10, C11 are not owned
    paged = app.get("/admin/pool?role=sdr&per_page=2&page=2")
    assert 'data-account="C11"' in paged.text and 'data-account="C09"' not in paged.text
    assert 'rel="prev"' in paged.text and 'rel="next"' in paged.text and "per_page=2" in paged.text
    assert app.get("/admin/pool?role=sdr&fit_min=abc").status_code == 422
