"""An admin commits a cycle in the browser, then undoes it from the cycle history."""

from __future__ import annotations

from playwright.sync_api import Dialog, Page, expect

from dynbooks.services.undo import undo_cycle
from tests.api.world import Org
from tests.browser.conftest import Server
from tests.browser.test_screens import sign_in


def test_an_admin_commits_a_cycle_then_undoes_it_and_the_history_shows_it_undone(page: Page, server: Server,
                                                                                  org: Org) -> None:
    undo_cycle(org.world.ctx())  # the org's own first cycle: the books are empty, so the next one deals
    assert org.world.owners() == {}
    sign_in(page, server, "admin")
    expect(page).to_have_url(f"{server.url}/admin/cycle")
    page.get_by_role("button", name="Preview the cycle").click()
    page.get_by_role("button", name="Commit this cycle").click()
    expect(page.locator("#cycle-committed")).to_contain_text("Committed")
    dealt = org.world.owners()
    assert len(dealt) == 9
    page.get_by_role("link", name="History").click()
    expect(page.locator("#cycles tbody tr").first).to_contain_text("9")
    questions: list[str] = []

    def accept(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Undo this cycle").click()
    expect(page.locator("#done")).to_contain_text("undone: 9 distributed back to the pool")
    assert questions and "go back to the pool" in questions[0]
    assert org.world.owners() == {}
    newest = page.locator("#cycles tbody tr").first
    expect(newest).to_contain_text("undone")
    expect(newest).to_contain_text("admin@example.com")
    expect(page.get_by_role("button", name="Undo this cycle")).to_have_count(0)  # nothing left standing
