"""The pool explorer's htmx filters and the market map's SVG scatter in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.api.world import Org
from tests.browser.conftest import Server
from tests.browser.test_screens import sign_in


def test_the_pool_table_follows_the_filters_without_a_page_load(page: Page, server: Server, org: Org) -> None:
    org.world.load("accounts", "account_id,name,employees,fit_score,industry,country",
                   ["D01,Delta Retail,5000,50,Retail,DE"])
    sign_in(page, server, "admin", "/admin/pool")
    expect(page.locator("#pool-total")).to_contain_text("4 accounts in sdr")
    page.get_by_label("Industry").fill("Retail")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#pool-total")).to_contain_text("1 account in sdr")
    expect(page.locator("#pool-rows tbody tr")).to_have_count(1)
    expect(page.locator('#pool-rows tr[data-account="D01"]')).to_be_visible()
    assert "industry=Retail" in page.url  # htmx pushed the filtered address


def test_the_market_map_draws_an_svg_scatter_beside_its_table(page: Page, server: Server) -> None:
    sign_in(page, server, "admin", "/market-map")
    expect(page.locator("#market-map svg")).to_be_visible()
    expect(page.locator("#market-map-table tbody tr").first).to_contain_text("tier 1")
