"""The admin's cycle history with undo, the pool explorer and the market map page (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_web import csrf_of, sign_in
from tests.api.world import Org


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


def test_the_market_map_page_shows_the_scores_as_a_chart_with_its_table(app: TestClient, org: Org) -> None:
    from dynbooks.services.market_map_view import market_map_view

    view = market_map_view(org.world.ctx(), sample=5, per_page=4)
    assert view["scored"] == 12 and sum(t["accounts"] for t in view["tiers"]) == 12
    assert sum(t["drawn"] for t in view["tiers"]) == 5  # a bounded sample is drawn
    assert [r["account_id"] for r in view["rows"]] == ["C00", "C01", "C02", "C03"] and view["pages"] == 3
    assert {t["tier"]: t["accounts"] for t in view["tiers"]}[1] == 11  # scores 90 … 80 are tier 1, 79 tier 2
    sign_in(app, "admin")
    page = app.get("/market-map?page=2&per_page=4")
    assert page.status_code == 200 and 'id="market-map-data"' in page.text and '"kind": "scatter"' in page.text
    assert 'data-account="C04"' in page.text and 'data-account="C00"' not in page.text


def test_a_manager_sees_the_map_but_lists_only_the_team_accounts(app: TestClient, org: Org) -> None:
    sign_in(app, "manager")
    page = app.get("/market-map?per_page=100")
    assert page.status_code == 200
    east = sorted(a for a, r in org.world.owners().items() if r in ("S1", "S2"))
    listed = sorted(r.split('"')[0] for r in page.text.split('id="market-map-rows"')[1].split('data-account="')[1:])
    assert listed == east
    assert '"C00"' not in page.text.split('id="market-map-data"')[1].split("</script>")[0]  # no ids in the points


def test_a_rep_has_no_market_map(app: TestClient) -> None:
    sign_in(app, "rep")
    assert app.get("/market-map").status_code == 404
