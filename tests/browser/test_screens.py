"""What a rep, a manager and an admin do in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from dynbooks.services.returns import return_account
from tests.api.world import PASSWORD, USERS, Org
from tests.browser.conftest import Server


def sign_in(page: Page, server: Server, who: str, then: str = "/") -> None:
    page.goto(f"{server.url}/login?next={then}")
    page.get_by_label("E-mail").fill(USERS[who][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}{then if then != '/' else '/**'}")


def mine(org: Org, rep: str) -> list[str]:
    return sorted(a for a, r in org.world.owners().items() if r == rep)


def test_a_rep_signs_in_returns_an_account_and_sees_the_replacement_at_once(page: Page, server: Server,
                                                                            org: Org) -> None:
    sign_in(page, server, "rep")
    expect(page).to_have_url(f"{server.url}/book")
    account = mine(org, "S1")[0]
    expect(page.locator("#book")).to_contain_text(account)
    page.locator(f'tr[data-account="{account}"] a').click()
    expect(page.get_by_role("heading", name="Return this account")).to_be_visible()
    page.get_by_label("Reason").select_option("get_back_to_me")
    expect(page.locator("#until")).to_be_visible()
    page.locator("#until").fill("2026-05-04")
    page.get_by_role("button", name="Return and get a replacement").click()
    replacement = page.locator("#replacement")
    expect(replacement).to_be_visible()
    new_id = replacement.locator("small").inner_text()
    assert org.world.owners()[new_id] == "S1"
    assert org.world.row(account).rest_until.isoformat() == "2026-05-04"
    replacement.click()
    expect(page.get_by_role("heading", name=new_id)).to_be_visible()


def test_a_manager_reads_the_returns_chart_and_its_table(page: Page, server: Server, org: Org) -> None:
    for rep in ("S1", "S2"):
        return_account(org.world.ctx(), mine(org, rep)[0], "not_interested", rep_id=rep)
    sign_in(page, server, "manager")
    expect(page).to_have_url(f"{server.url}/team")
    chart = page.locator("#returns-chart svg")
    expect(chart).to_be_visible()  # drawn by ECharts' SVG renderer
    expect(page.locator("#returns-chart-table")).to_contain_text("not_interested")
    expect(page.locator("#returns-chart-table tbody td").first).to_have_text("2")
    expect(page.locator("#balance-chart svg")).to_be_visible()
    page.get_by_role("link", name="S2").first.click()
    expect(page).to_have_url(f"{server.url}/reps/S2")


def test_an_admin_previews_a_cycle_then_commits_it(page: Page, server: Server, org: Org) -> None:
    return_account(org.world.ctx(), mine(org, "S1")[0], "out_of_business", rep_id="S1")
    sign_in(page, server, "admin")
    expect(page).to_have_url(f"{server.url}/admin/cycle")
    before = org.world.owners()
    page.get_by_role("button", name="Preview the cycle").click()
    expect(page.locator("#cycle-preview")).to_contain_text("nothing was written")
    assert org.world.owners() == before
    page.get_by_role("button", name="Commit this cycle").click()
    expect(page.locator("#cycle-committed")).to_contain_text("Committed")


def test_a_rep_cannot_open_another_reps_account(page: Page, server: Server, org: Org) -> None:
    sign_in(page, server, "rep")
    response = page.goto(f"{server.url}/accounts/{mine(org, 'S3')[0]}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
